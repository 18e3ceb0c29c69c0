"""How SubsetSum tasks are made: random numbers drawn from the seed material, a planted subset
whose sum is the target and which is the reference, the largest-first greedy, wrong and hostile
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
from rlvr.generators.material_numbers import subset_sum_instance
from rlvr.generators.optimisation import OPTIMAL, OptimisationGenerator, numbered_lines, reference_record
from rlvr.verifiers.subset_sum import evaluate_subset

GREEDY_REDRAWS = 256  # instances drawn at most while a greedy reaches the target (then the last is kept)
# below this many numbers (d = 0's 5) the 2^n subsets can be tried by hand and a greedy hits most
# targets (92 % of d = 0's): a screen there would cost ~15 redraws a task and buy nothing
GREEDY_SCREEN_MIN_NUMBERS = 8


def largest_first(numbers: list[int], target: int, reverse: bool = True) -> list[int]:
    """Indices taken greedily, largest number first (smallest first with ``reverse=False``),
    while they still fit under the target."""
    chosen, total = [], 0
    for index in sorted(range(len(numbers)), key=numbers.__getitem__, reverse=reverse):  # stable: ties to lower index
        if total + numbers[index] <= target:
            chosen.append(index)
            total += numbers[index]
    return sorted(chosen)


def greedy_subsets(numbers: list[int], target: int) -> list[tuple[str, list[int]]]:
    """The index lists the eight greedies of the generator's screen
    (``material_numbers._greedy_reaches``) answer with (a complement greedy answers the numbers
    it left out), named for attacks and tests."""
    indices = range(len(numbers))
    orders = {
        "largest-first": sorted(indices, key=numbers.__getitem__, reverse=True),
        "smallest-first": sorted(indices, key=numbers.__getitem__),
        "listed-order": list(indices),
        "reverse-order": list(indices)[::-1],
    }
    found = []
    for name, order in orders.items():
        for complement, goal in ((False, target), (True, sum(numbers) - target)):
            chosen, total = set(), 0
            for index in order:
                if total + numbers[index] <= goal:
                    chosen.add(index)
                    total += numbers[index]
            subset = [i for i in indices if (i in chosen) != complement]
            found.append((f"{'complement-' if complement else ''}{name}", subset))
    return found


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
        numbers, planted, target, greedy_sum = subset_sum_instance(
            rng.material, count, max_number, GREEDY_SCREEN_MIN_NUMBERS, GREEDY_REDRAWS
        )
        meta = {  # solver_meta's record (a tenth of a small task's time spent in its keyword call)
            "solver": "planted subset",  # it hits the target: a decision problem needs no search
            "status": OPTIMAL,
            "objective": target,
            "effort": count * (target + 1),
            "effort_unit": "DP cells",  # of an exact DP over sums 0…target: the instance's size (none runs)
            "greedy_objective": greedy_sum,
            "planted": planted[:],  # not the reference's list itself
        }
        listing = numbered_lines("{}: %s", ", ", count) % tuple(numbers)  # %s: ints, a little faster than %d
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
                "reference": reference_record(planted, target, OPTIMAL),
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
        """Every number, none, the eight greedies of ``greedy_subsets`` (short of the target
        or over it when they fail; where one solves a d = 0 task it is left out as an answer),
        the reference plus one more index, one number."""
        numbers = task.answer["instance"]["numbers"]
        chosen = list(task.answer["reference"]["solution"])
        extra = [i for i in range(len(numbers)) if i not in set(chosen)]
        return [
            ("all-numbers", list(range(len(numbers)))),
            ("empty-selection", []),
            *greedy_subsets(numbers, int(task.answer["instance"]["target"])),
            ("reference-plus-one", sorted(chosen + extra[:1])),
            ("single-number", [0]),
        ]
