"""How BinPacking tasks are made: a planted packing cut into items and shuffled (a two-bin plant
redrawn while a packing fixed by item position would fit it often; drawn and redrawn in one
compiled call, ``rlvr.generators.bin_packing_draws``, with the same draws as ``planted_bin`` and
``hard_to_guess_redraw`` here), the lower-bound check, the symmetry-broken CP-SAT search, next
fit and first fit, wrong and hostile packings.

The family's contract (task, answer, verifier, solver, difficulty, version history) is the
docstring of ``rlvr.families.bin_packing``.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

import rlvr.generators.optimisation as optimisation
from rlvr.core import Task
from rlvr.families.bin_packing import FAMILY
from rlvr.generators.bin_packing_draws import ITEMS_PER_BIN, two_bin_plant
from rlvr.generators.optimisation import (
    HEURISTIC,
    OPTIMAL,
    OptimisationGenerator,
    cp_sat_meta,
    format_groups,
    new_cp_model,
    reference_record,
    run_cp_sat,
    solver_meta,
)
from rlvr.verifiers.bin_packing import evaluate_packing

SEARCH_LIMIT = 0.1  # CP-SAT deterministic seconds: the planted packing is the fallback
PLANT_TRIES = 64  # draws of a two-bin plant at most; then the one a fixed packing fits least stands
POSITION_GUESS_LIMIT = 0.1  # the most shuffles of a two-bin plant one packing fixed by position may fit


def planted_bin(
    nprng: np.random.Generator, capacity: int, waste: float, parts: int | None = None
) -> tuple[list[int], int]:
    """One planted bin: (its item sizes, the item count drawn). The bin is filled to the capacity
    less a random waste of at most ``waste`` × capacity and cut at random points into ``parts``
    items (drawn from ``ITEMS_PER_BIN`` when None; never more items than the fill)."""
    fill = capacity - int(nprng.integers(0, int(np.floor(waste * capacity)) + 1))
    if parts is None:
        parts = int(nprng.integers(ITEMS_PER_BIN[0], ITEMS_PER_BIN[1] + 1))
    cuts: list[int] = []
    if min(parts, fill) > 1:
        cuts = sorted(int(c) for c in nprng.choice(np.arange(1, fill), size=min(parts, fill) - 1, replace=False))
    return [b - a for a, b in zip([0, *cuts], [*cuts, fill])], parts


def next_fit(sizes: list[int], capacity: int) -> list[list[int]]:
    """Items in order into the current bin; a new bin whenever the next item does not fit."""
    bins: list[list[int]] = []
    load = capacity + 1
    for item, size in enumerate(sizes):
        if load + size > capacity:
            bins.append([])
            load = 0
        bins[-1].append(item)
        load += size
    return bins


def first_fit(sizes: list[int], capacity: int, order: list[int] | None = None) -> list[list[int]]:
    bins: list[list[int]] = []
    loads: list[int] = []
    for item in order if order is not None else range(len(sizes)):
        for number, load in enumerate(loads):
            if load + sizes[item] <= capacity:
                bins[number].append(item)
                loads[number] += sizes[item]
                break
        else:
            bins.append([item])
            loads.append(sizes[item])
    return bins


def canonical_bins(bins: list[list[int]]) -> list[list[int]]:
    """Items sorted within each bin, bins ordered by their first item; empty bins dropped."""
    return sorted((sorted(b) for b in bins if b), key=lambda b: b[0])


def lower_bound(sizes: list[int], capacity: int) -> int:
    return -(-sum(sizes) // capacity)


def solve_exact(sizes: list[int], capacity: int, max_bins: int):
    """CP-SAT with at most ``max_bins`` bins: (run, bins or None)."""
    order = sorted(range(len(sizes)), key=lambda i: (-sizes[i], i))
    model = new_cp_model()
    place = {}
    for position, item in enumerate(order):
        for b in range(min(position + 1, max_bins)):
            place[item, b] = model.new_bool_var(f"place_{item}_{b}")
    used = [model.new_bool_var(f"used_{b}") for b in range(max_bins)]
    for item in order:
        model.add_exactly_one([place[item, b] for b in range(max_bins) if (item, b) in place])
    for b in range(max_bins):
        model.add(sum(sizes[item] * place[item, b] for item in order if (item, b) in place) <= capacity * used[b])
    for b in range(max_bins - 1):
        model.add_implication(used[b + 1], used[b])
    model.add(sum(used) >= lower_bound(sizes, capacity))
    model.minimize(sum(used))
    limit = min(optimisation.CP_SAT_DETERMINISTIC_LIMIT, SEARCH_LIMIT)
    run = run_cp_sat(model, deterministic_limit=limit, linearization_level=2)
    if not run.found:
        return run, None
    bins = [
        [item for item in range(len(sizes)) if (item, b) in place and run.solver.boolean_value(place[item, b])]
        for b in range(max_bins)
    ]
    return run, canonical_bins(bins)


class BinPackingGenerator(OptimisationGenerator):
    declaration = FAMILY
    sense = "min"
    grouped = True
    objective_name = "number of bins"

    def hint_facts(self, task: Task) -> tuple[str, list[str]]:
        """Items with their bins, taking each bin's next item in turn (every bin gets seeded
        before any is complete)."""
        bins = task.answer["reference"]["solution"]
        order = [
            (b, items[depth])
            for depth in range(max(len(items) for items in bins))
            for b, items in enumerate(bins)
            if depth < len(items)
        ]
        return "Items of the reference packing (bins numbered from 1)", [f"item {i} → bin {b + 1}" for b, i in order]

    def render(self, solution: list[list[int]]) -> str:
        return format_groups(solution)

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        bin_count, capacity, waste = params["bins"], params["capacity"], params["waste"]
        if bin_count == 2:  # redrawn while a packing fixed by position fits it often (compiled)
            planted_sizes = two_bin_plant(nprng, capacity, waste, PLANT_TRIES, POSITION_GUESS_LIMIT)
        else:
            planted_sizes = [planted_bin(nprng, capacity, waste)[0] for _ in range(bin_count)]
        flat = [(number, size) for number, sizes in enumerate(planted_sizes) for size in sizes]
        shuffle = [int(i) for i in nprng.permutation(len(flat))]
        sizes = [flat[i][1] for i in shuffle]
        planted = canonical_bins(
            [[position for position, i in enumerate(shuffle) if flat[i][0] == number] for number in range(bin_count)]
        )
        bound = lower_bound(sizes, capacity)
        greedy = next_fit(sizes, capacity)
        decreasing = first_fit(sizes, capacity, sorted(range(len(sizes)), key=lambda i: (-sizes[i], i)))
        extra = {"lower_bound": bound, "planted_bins": planted, "first_fit_objective": len(first_fit(sizes, capacity))}
        best_heuristic = min((planted, canonical_bins(decreasing)), key=len)  # the planted packing on a tie
        if len(best_heuristic) == bound:  # meets ⌈Σ sizes / capacity⌉: provably optimal, no search
            bins, status = best_heuristic, OPTIMAL
            meta = solver_meta(
                "lower bound met (planted packing or first fit decreasing)",
                status,
                len(bins),
                len(greedy),
                effort=0.0,
                effort_unit="CP-SAT deterministic seconds",
                search_branches=0,
                search_conflicts=0,
                **extra,
            )
        else:
            run, bins = solve_exact(sizes, capacity, min(len(planted), len(decreasing)))
            status = run.status
            if bins is None or len(planted) < len(bins):
                bins, status = planted, HEURISTIC
            if len(bins) == bound:
                status = OPTIMAL
            meta = cp_sat_meta(run, status, len(bins), len(greedy), **extra)
        listing = ", ".join(f"{i}: {s}" for i, s in enumerate(sizes))
        prompt = (
            f"Bin packing. There are {len(sizes)} items (index: size):\n{listing}\n\n"
            f"Every bin has capacity {capacity}. Put every item into exactly one bin so that the sizes in each "
            f"bin add up to at most {capacity}, using as few bins as possible.\n"
            f"Answer with the list of bins, each bin the list of its item indices. Put only the list inside "
            f"<answer>…</answer>, in the form <answer>[[0, 3], [1, 2, 4], …]</answer> (this shows the form only)"
        )
        return {
            "prompt": prompt,
            "answer": {
                "instance": {"sizes": sizes, "capacity": capacity},
                "reference": reference_record(bins, len(bins), status),
            },
            "meta": meta,
        }

    def split_group(self, task: Task) -> Any:
        """The capacity and the sizes as a multiset: the same items listed in another order
        are on one side."""
        instance = task.answer["instance"]
        return ["bin-packing", instance["capacity"], sorted(instance["sizes"])]

    def greedy_solution(self, task: Task) -> list[list[int]]:
        instance = task.answer["instance"]
        return next_fit(instance["sizes"], int(instance["capacity"]))

    def objective_of(self, task: Task, solution: list[list[int]]) -> float | None:
        instance = task.answer["instance"]
        return evaluate_packing(instance["sizes"], int(instance["capacity"]), solution).objective

    def wrong_candidates(self, task: Task):
        """An item moved out of a shared bin into a bin of its own (one bin more), the first two
        bins merged, then the reference without its last item (missing)."""
        bins = [list(b) for b in task.answer["reference"]["solution"]]
        for number, contents in enumerate(bins):
            if len(contents) > 1:
                moved = [list(b) for b in bins]
                item = moved[number].pop()
                yield moved + [[item]]
                break
        if len(bins) > 1:
            yield [bins[0] + bins[1]] + bins[2:]
        yield bins[:-1] + [bins[-1][:-1]]

    def hostile_solutions(self, task: Task) -> list[tuple[str, list[list[int]]]]:
        """Every item in one bin (one bin, overfull), a bin per item (feasible, most bins), the
        items dealt round-robin into the lower bound's number of bins, an item split across two
        bins (a fractional packing), no bins, empty bins only, and two packings fixed by position
        whatever the sizes (red team S8-8): the first half of the items and the second, and the
        even and the odd positions."""
        sizes, capacity = task.answer["instance"]["sizes"], int(task.answer["instance"]["capacity"])
        bins = [list(b) for b in task.answer["reference"]["solution"]]
        count = len(sizes)
        floor_bins = max(1, -(-sum(sizes) // capacity))
        dealt = [list(range(start, count, floor_bins)) for start in range(floor_bins)]
        split = [list(b) for b in bins]
        if len(split) > 1 and split[0]:
            split[-1].append(split[0][0])
        return [
            ("one-bin", [list(range(count))]),
            ("bin-per-item", [[i] for i in range(count)]),
            ("round-robin-lower-bound", dealt),
            ("item-in-two-bins", split),
            ("no-bins", []),
            ("empty-bins", [[] for _ in bins]),
            ("halves-by-position", [list(range(count // 2)), list(range(count // 2, count))]),
            ("even-odd-positions", [list(range(0, count, 2)), list(range(1, count, 2))]),
        ]
