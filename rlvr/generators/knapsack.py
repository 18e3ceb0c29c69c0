"""How Knapsack tasks are made: weights and (correlated) values drawn from the seed material,
the capacity, the exact reference (the compiled branch and bound of
``rlvr.generators.material_numbers`` up to ``BRANCH_AND_BOUND_ITEMS`` items, which also draws
the instance and runs the density greedy; the DP over capacities beyond, CP-SAT beyond
``DP_CELL_LIMIT``), the density greedy (here in Python for ``greedy_solution``, which the
compiled one matches), wrong and hostile selections.

The family's contract (task, answer, verifier, solver, difficulty, version history) is the
docstring of ``rlvr.families.knapsack``.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from rlvr.core import Task
from rlvr.families.knapsack import FAMILY
from rlvr.generators.material_numbers import knapsack_instance
from rlvr.generators.optimisation import (
    OptimisationGenerator,
    cp_sat_meta,
    new_cp_model,
    numbered_lines,
    reference_record,
    run_cp_sat,
    solver_meta,
)
from rlvr.verifiers.knapsack import evaluate_selection

BRANCH_AND_BOUND_ITEMS = 24  # up to this many items the compiled branch and bound (2^24 leaves at worst)
KEY_LIMIT = 1 << 50  # its keyed profits sum below this: its double-precision bounds stay within ⅓ a rounding
DP_CELL_LIMIT = 20_000_000


def dynamic_programme(weights: list[int], values: list[int], capacity: int) -> list[int]:
    """The items of an optimal selection (exact), by DP over capacities 0…capacity: ``best``
    holds the best value of the items so far within each capacity, and ``keep[k, c]`` whether
    item k strictly improved it at capacity c. Read back from the last item down, so of the
    optimal selections this is the one without its highest item wherever another optimal one
    goes without it (the least Σ 2^item)."""
    count = len(weights)
    best = np.zeros(capacity + 1, dtype=np.int64)
    keep = np.zeros((count, capacity + 1), dtype=bool)
    for item in range(count):
        weight = weights[item]
        if weight > capacity:
            continue
        candidate = best[: capacity + 1 - weight] + values[item]
        np.greater(candidate, best[weight:], out=keep[item, weight:])
        np.maximum(best[weight:], candidate, out=best[weight:])
    chosen, room = [], capacity
    for item in range(count - 1, -1, -1):
        if keep[item, room]:
            chosen.append(item)
            room -= weights[item]
    return sorted(chosen)


def solve_with_cp_sat(weights: list[int], values: list[int], capacity: int):
    model = new_cp_model()
    take = [model.new_bool_var(f"take_{i}") for i in range(len(weights))]
    model.add(sum(w * t for w, t in zip(weights, take)) <= capacity)
    model.maximize(sum(v * t for v, t in zip(values, take)))
    run = run_cp_sat(model)
    chosen = [i for i, t in enumerate(take) if run.found and run.solver.boolean_value(t)]
    return run, chosen


def density_greedy(weights: list[int], values: list[int], capacity: int) -> list[int]:
    density = [-value / weight for value, weight in zip(values, weights)]
    order = sorted(range(len(weights)), key=density.__getitem__)  # stable: ties to the lower index
    chosen, room = [], capacity
    for item in order:
        if weights[item] <= room:
            chosen.append(item)
            room -= weights[item]
    return sorted(chosen)


class KnapsackGenerator(OptimisationGenerator):
    declaration = FAMILY
    sense = "max"
    objective_name = "total value"

    def hint_facts(self, task: Task) -> tuple[str, list[str]]:
        return "Items of the reference selection", [str(i) for i in task.answer["reference"]["solution"]]

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        count, max_weight = params["items"], params["max_weight"]
        pairs, capacity, greedy, greedy_value, chosen, value = knapsack_instance(
            rng.material,
            count,
            max_weight,
            params["correlation"],
            params["capacity_fraction"],
            BRANCH_AND_BOUND_ITEMS,
            KEY_LIMIT,
        )
        weights, values = pairs[0::2], pairs[1::2]
        cells = count * (capacity + 1)
        solver = "branch and bound (compiled)"
        if chosen is None and cells <= DP_CELL_LIMIT:
            chosen, solver = dynamic_programme(weights, values, capacity), "dynamic programming (numpy)"
            value = sum(values[i] for i in chosen)
        if chosen is not None:
            status = "optimal"
            meta = solver_meta(  # the branch and bound counts no nodes: effort is the instance's DP size
                solver, status, None, greedy_value, effort=cells, effort_unit="DP cells"
            )
        else:
            run, chosen = solve_with_cp_sat(weights, values, capacity)
            status = run.status
            if not run.found or sum(values[i] for i in chosen) < greedy_value:
                chosen, status = greedy, "heuristic"
            meta = cp_sat_meta(run, status, None, greedy_value)
            value = sum(values[i] for i in chosen)
        meta["objective"] = value
        listing = numbered_lines("{}: weight %d, value %d", "\n", count) % tuple(pairs)
        prompt = (
            f"0/1 knapsack. There are {count} items (index: weight, value):\n{listing}\n\n"
            f"The knapsack's capacity is {capacity}. Choose items, each at most once, whose total weight is at most "
            f"{capacity} and whose total value is as large as possible.\n"
            "Answer with the list of the chosen item indices, in any order. Put only the list inside "
            f"<answer>…</answer>, in the form <answer>[0, 3, 4, …]</answer> (this shows the form only)"
        )
        return {
            "prompt": prompt,
            "answer": {
                "instance": {"weights": weights, "values": values, "capacity": capacity},
                "reference": reference_record(chosen, value, status),
            },
            "meta": meta,
        }

    def split_group(self, task: Task) -> Any:
        """The capacity and the (weight, value) items as a multiset: the same items listed in
        another order are on one side."""
        instance = task.answer["instance"]
        return [
            "knapsack",
            instance["capacity"],
            sorted([w, v] for w, v in zip(instance["weights"], instance["values"])),
        ]

    def greedy_solution(self, task: Task) -> list[int]:
        instance = task.answer["instance"]
        return density_greedy(instance["weights"], instance["values"], int(instance["capacity"]))

    def objective_of(self, task: Task, solution: list[int]) -> float | None:
        instance = task.answer["instance"]
        return evaluate_selection(
            instance["weights"], instance["values"], int(instance["capacity"]), solution
        ).objective

    def wrong_candidates(self, task: Task):
        """The reference without its least valuable item (worth less), then every item
        (over the capacity, which is below the total weight)."""
        values = task.answer["instance"]["values"]
        chosen = list(task.answer["reference"]["solution"])
        if chosen:
            cheapest = min(chosen, key=lambda i: (values[i], i))
            yield [i for i in chosen if i != cheapest]
        yield list(range(len(values)))

    def hostile_solutions(self, task: Task) -> list[tuple[str, list[int]]]:
        """Every item (most value, over the capacity), none, the LP relaxation rounded up (the
        density order up to and including the item that no longer fits), the most valuable
        items that each fit on their own, the reference plus one more item."""
        instance = task.answer["instance"]
        weights, values, capacity = instance["weights"], instance["values"], int(instance["capacity"])
        chosen = list(task.answer["reference"]["solution"])
        order = sorted(range(len(weights)), key=lambda i: (-values[i] / weights[i], i))
        relaxed, load = [], 0
        for item in order:
            relaxed.append(item)
            load += weights[item]
            if load > capacity:
                break
        fitting = [i for i in sorted(range(len(values)), key=lambda i: -values[i]) if weights[i] <= capacity]
        extra = [i for i in range(len(values)) if i not in set(chosen)]
        return [
            ("all-items", list(range(len(values)))),
            ("empty-selection", []),
            ("relaxation-rounded-up", sorted(relaxed)),
            ("most-valuable-items", sorted(fitting[: max(1, len(chosen) + 1)])),
            ("reference-plus-item", sorted(chosen + extra[:1])),
        ]
