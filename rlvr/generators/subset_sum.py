"""How SubsetSum tasks are made: random numbers, a planted subset and its sum as the target, the
exact bitset DP (CP-SAT beyond ``DP_CELL_LIMIT``), the largest-first greedy, wrong and hostile
selections.

The family's contract (task, answer, verifier, solver, difficulty, version history) is the
docstring of ``rlvr.families.subset_sum``.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from rlvr.core import Task
from rlvr.families.subset_sum import FAMILY
from rlvr.generators.optimisation import (
    OPTIMAL,
    OptimisationGenerator,
    cp_sat_meta,
    new_cp_model,
    reference_record,
    run_cp_sat,
    solver_meta,
)
from rlvr.verifiers.subset_sum import evaluate_subset

DP_CELL_LIMIT = 200_000_000


def bitset_subset(numbers: list[int], target: int) -> list[int] | None:
    """The indices of a subset summing to ``target`` (exact DP), or None when none does. Read
    back from the last number down, taking one only where the sum cannot be made without it:
    of the subsets summing to ``target``, the one of least Σ 2^index."""
    mask = (1 << (target + 1)) - 1
    reachable = [1]
    for number in numbers:
        reachable.append((reachable[-1] | (reachable[-1] << number)) & mask)
    if not (reachable[-1] >> target) & 1:
        return None
    chosen, remaining = [], target
    for index in range(len(numbers) - 1, -1, -1):
        if (reachable[index] >> remaining) & 1:
            continue
        chosen.append(index)
        remaining -= numbers[index]
    return sorted(chosen)


def solve_with_cp_sat(numbers: list[int], target: int):
    model = new_cp_model()
    take = [model.new_bool_var(f"take_{i}") for i in range(len(numbers))]
    model.add(sum(n * t for n, t in zip(numbers, take)) == target)
    run = run_cp_sat(model)
    chosen = [i for i, t in enumerate(take) if run.solver.boolean_value(t)] if run.found else None
    return run, chosen


def largest_first(numbers: list[int], target: int) -> list[int]:
    chosen, total = [], 0
    for index in sorted(range(len(numbers)), key=numbers.__getitem__, reverse=True):  # stable: ties to the lower index
        if total + numbers[index] <= target:
            chosen.append(index)
            total += numbers[index]
    return sorted(chosen)


class SubsetSumGenerator(OptimisationGenerator):
    declaration = FAMILY
    sense = "feasible"

    def hint_opening(self, task: Task) -> str:
        chosen, numbers = task.answer["reference"]["solution"], task.answer["instance"]["numbers"]
        return f"The reference subset has {len(chosen)} of the {len(numbers)} numbers."

    def hint_facts(self, task: Task) -> tuple[str, list[str]]:
        return "Indices of the reference subset", [str(i) for i in task.answer["reference"]["solution"]]

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        count, max_number = params["numbers"], params["max_number"]
        numbers = nprng.integers(1, max_number + 1, size=count).tolist()
        planted = np.flatnonzero(nprng.random(count) < 0.5).tolist()  # the draws of count random() calls
        if not planted:
            planted = [int(nprng.integers(count))]
        if len(planted) == count:
            planted.pop(int(nprng.integers(count)))
        target = sum(numbers[i] for i in planted)
        greedy_sum = sum(numbers[i] for i in largest_first(numbers, target))
        cells = count * (target + 1)
        if cells <= DP_CELL_LIMIT:
            chosen = bitset_subset(numbers, target)
            meta = solver_meta(
                "dynamic programming (bitset)", OPTIMAL, target, greedy_sum, effort=cells, effort_unit="DP cells"
            )
        else:
            run, chosen = solve_with_cp_sat(numbers, target)
            meta = cp_sat_meta(run, OPTIMAL, target, greedy_sum)
        if chosen is None:  # only when the CP-SAT limit ran out: the planted subset stands
            chosen = planted
            meta["solver"] = "planted subset"
        meta["planted"] = planted
        listing = ", ".join(f"{i}: {n}" for i, n in enumerate(numbers))
        prompt = (
            f"Subset sum. Here are {count} numbers (index: value):\n{listing}\n\n"
            f"Choose some of them, each at most once, whose values add up to exactly {target}.\n"
            f"Answer with the list of the chosen indices (not the values), in any order. Put only the list inside "
            f"<answer>…</answer>, in the form <answer>[0, 2, 5, …]</answer> (this shows the form only)"
        )
        return {
            "prompt": prompt,
            "answer": {
                "instance": {"numbers": numbers, "target": target},
                "reference": reference_record(chosen, target, OPTIMAL),
            },
            "meta": meta,
        }

    def split_group(self, task: Task) -> Any:
        """The target and the numbers as a multiset: the same numbers listed in another order
        are on one side."""
        instance = task.answer["instance"]
        return ["subset-sum", instance["target"], sorted(instance["numbers"])]

    def greedy_solution(self, task: Task) -> list[int]:
        instance = task.answer["instance"]
        return largest_first(instance["numbers"], int(instance["target"]))

    def objective_of(self, task: Task, solution: list[int]) -> float | None:
        instance = task.answer["instance"]
        return evaluate_subset(instance["numbers"], int(instance["target"]), solution).objective

    def wrong_candidates(self, task: Task):
        """The reference without its first index: its sum falls short of the target."""
        chosen = list(task.answer["reference"]["solution"])
        yield chosen[1:]

    def hostile_solutions(self, task: Task) -> list[tuple[str, list[int]]]:
        """Every number, none, the largest-first greedy (short of the target when it fails),
        the reference plus one more index, one number."""
        numbers = task.answer["instance"]["numbers"]
        chosen = list(task.answer["reference"]["solution"])
        extra = [i for i in range(len(numbers)) if i not in set(chosen)]
        return [
            ("all-numbers", list(range(len(numbers)))),
            ("empty-selection", []),
            ("largest-first", self.greedy_solution(task)),
            ("reference-plus-one", sorted(chosen + extra[:1])),
            ("single-number", [0]),
        ]
