"""SetCover: cover a universe with as few of the given subsets as possible.

Task        A universe of ``elements`` items 0…m−1 and a family of subsets, in random order:
            ``planted_sets`` blocks partitioning the universe (so ``planted_sets`` subsets
            suffice), ``decoy_sets`` random subsets of ``decoy_size`` × the block size (decoys
            larger than a block lure the greedy algorithm) and ``random_sets`` random subsets of
            half the block size. The prompt lists every subset as S<i> = {…}.
Answer      ``<answer>[i1, i2, …]</answer>``: the chosen subset indices, each once, any order.
            ``task.answer`` = {"instance": {"elements", "subsets"}, "reference": {"solution":
            sorted indices, "objective": count, "status"}}.
Verifier    rlvr.verifiers.set_cover.SetCoverVerifier: distinct valid subsets covering every
            element, else 0; then reward 1 (correct) when using no more subsets than the
            reference, else 0; with ``partial=True`` a feasible answer earns min(1, reference
            count / count).
Solver      OR-Tools CP-SAT: a Boolean per subset, every element covered at least once,
            minimise the count, with the full LP relaxation (``linearization_level=2``).
            Exact within ``CP_SAT_DETERMINISTIC_LIMIT`` deterministic seconds; otherwise the
            best of CP-SAT's cover, the planted blocks and the greedy cover ("best-known" /
            "heuristic").
Greedy      Repeatedly the subset covering most uncovered elements (ties to the lower index):
            ``meta["greedy_objective"]``.
Effort      CP-SAT deterministic seconds (``meta["effort"]``), plus branches and conflicts.

Difficulty  d      elements   planted_sets   decoy_sets   decoy_size   random_sets
            0.0    8          2              5            0.8          3
            0.25   14         3              6            0.925        4
            0.5    20         3              6            1.05         4
            0.75   30         3              13           1.1          6
            1.0    40         3              20           1.15         8
            Parameters may be set explicitly: ``elements`` 2–300, ``planted_sets`` 1–elements,
            ``decoy_sets`` and ``random_sets`` 0–300, ``decoy_size`` 0.1–10. Generation with the
            exact solve takes ≈ 5 ms at d = 1. Mean greedy gap (1 − its ratio) is 0 up to
            d = 0.2 (decoys smaller than the blocks), ≈ 0.23 at d = 0.5 and 0.40 at d = 1;
            CP-SAT effort rises about 30-fold (benchmarks/bench_optimisation.py). d = 0 has 10
            subsets, not 6: among 6 a fixed pair was a minimum cover on 8.5 % of the tasks,
            among 10 on about 3 % (benchmarks/bench_constant_policy.py).
"""

from __future__ import annotations

import random

import numpy as np

from rlvr.core import DifficultyTable, Task
from rlvr.generators.optimisation import (
    HEURISTIC, OptimisationGenerator, checked_float, checked_int, cp_sat_meta, new_cp_model, reference_record,
    run_cp_sat,
)
from rlvr.verifiers.set_cover import evaluate_cover


def most_new_elements_greedy(elements: int, subsets: list[list[int]]) -> list[int]:
    members = [set(s) for s in subsets]
    covered: set[int] = set()
    chosen = []
    while len(covered) < elements:
        best = max(range(len(subsets)), key=lambda j: (len(members[j] - covered), -j))
        if not members[best] - covered:
            raise ValueError("the subsets do not cover the universe")
        chosen.append(best)
        covered |= members[best]
    return sorted(chosen)


def solve_exact(elements: int, subsets: list[list[int]]):
    model = new_cp_model()
    take = [model.new_bool_var(f"take_{j}") for j in range(len(subsets))]
    covering: list[list[int]] = [[] for _ in range(elements)]
    for j, subset in enumerate(subsets):
        for element in subset:
            covering[element].append(j)
    for element in range(elements):
        model.add_bool_or([take[j] for j in covering[element]])
    model.minimize(sum(take))
    run = run_cp_sat(model, linearization_level=2)
    if not run.found:
        return run, None
    return run, [j for j in range(len(subsets)) if run.solver.boolean_value(take[j])]


class SetCoverGenerator(OptimisationGenerator):
    family = "set_cover"
    env_id = "rlvr/SetCover-v0"
    sense = "min"
    table = DifficultyTable({
        0.0: {"elements": 8, "planted_sets": 2, "decoy_sets": 5, "decoy_size": 0.8, "random_sets": 3},
        0.5: {"elements": 20, "planted_sets": 3, "decoy_sets": 6, "decoy_size": 1.05, "random_sets": 4},
        1.0: {"elements": 40, "planted_sets": 3, "decoy_sets": 20, "decoy_size": 1.15, "random_sets": 8},
    })

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        elements = checked_int(params, "elements", 2, 300)
        planted_count = checked_int(params, "planted_sets", 1, elements)
        decoys = checked_int(params, "decoy_sets", 0, 300)
        decoy_size = checked_float(params, "decoy_size", 0.1, 10.0)
        randoms = checked_int(params, "random_sets", 0, 300)
        block = elements / planted_count
        subsets = [sorted(int(e) for e in part) for part in np.array_split(nprng.permutation(elements), planted_count)]
        for count, size in ((decoys, decoy_size * block), (randoms, 0.5 * block)):
            size = min(elements, max(1, int(np.floor(size + 0.5))))
            for _ in range(count):
                subsets.append(sorted(int(e) for e in nprng.choice(elements, size=size, replace=False)))
        order = [int(i) for i in nprng.permutation(len(subsets))]
        subsets = [subsets[i] for i in order]
        planted = sorted(order.index(j) for j in range(planted_count))
        run, chosen = solve_exact(elements, subsets)
        status = run.status
        greedy = most_new_elements_greedy(elements, subsets)
        fallback = min(planted, greedy, key=len)
        if chosen is None or len(fallback) < len(chosen):
            chosen, status = fallback, HEURISTIC
        listing = "\n".join(f"S{j} = {{{', '.join(map(str, subset))}}}" for j, subset in enumerate(subsets))
        prompt = (
            f"Set cover. The universe is the {elements} elements 0 to {elements - 1}. There are {len(subsets)} subsets:\n"
            f"{listing}\n\n"
            f"Choose as few subsets as possible whose union is the whole universe (every element in at least one chosen "
            f"subset).\nAnswer with the list of the chosen subset indices (the number after S), in any order. Put only the "
            f"list inside <answer>…</answer>, in the form <answer>[0, 3, 5, …]</answer> (this shows the form only)"
        )
        return {
            "prompt": prompt,
            "answer": {"instance": {"elements": elements, "subsets": subsets},
                       "reference": reference_record(chosen, len(chosen), status)},
            "meta": cp_sat_meta(run, status, len(chosen), len(greedy), planted=planted),
        }

    def greedy_solution(self, task: Task) -> list[int]:
        instance = task.answer["instance"]
        return most_new_elements_greedy(int(instance["elements"]), instance["subsets"])

    def objective_of(self, task: Task, solution: list[int]) -> float | None:
        instance = task.answer["instance"]
        return evaluate_cover(int(instance["elements"]), instance["subsets"], solution).objective

    def wrong_candidates(self, task: Task):
        """The reference plus one unused subset (one more), then the reference without its first
        subset (an optimal cover is minimal, so an element is left uncovered)."""
        chosen = list(task.answer["reference"]["solution"])
        unused = [j for j in range(len(task.answer["instance"]["subsets"])) if j not in set(chosen)]
        if unused:
            yield chosen + [unused[0]]
        yield chosen[1:]

    def hostile_solutions(self, task: Task) -> list[tuple[str, list[int]]]:
        """No subset, every subset (feasible, most), the largest subset alone, the reference
        without one subset."""
        subsets = task.answer["instance"]["subsets"]
        chosen = list(task.answer["reference"]["solution"])
        largest = max(range(len(subsets)), key=lambda j: (len(subsets[j]), -j))
        return [("empty-cover", []), ("all-subsets", list(range(len(subsets)))), ("largest-subset", [largest]),
                ("reference-minus-one", chosen[1:])]
