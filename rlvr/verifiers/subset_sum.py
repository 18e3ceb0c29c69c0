"""Subset sum verifier: a set of numbers (by index) that sums exactly to the target.

Input       A ``Task`` from rlvr.generators.subset_sum: ``task.answer["instance"]`` =
            {"numbers": [...], "target": T} and ``task.answer["reference"]`` (indices, T,
            status).
Parsing     A list of indices into the numbers, any order: ``[0, 2, 5]`` (brackets optional;
            ',', ';' or whitespace between). At most n entries; floats, words or other
            characters are format errors.
Feasibility Every index in 0…n−1, none repeated, and the chosen numbers sum to exactly T.
Reward      A decision problem: every feasible answer is optimal, so reward 1 and correct when
            feasible, else 0. Details: objective (the sum), reference (T); on a miss, the sum
            and how far it is from T.
"""

from __future__ import annotations

from rlvr.core import Task
from rlvr.verifiers.optimisation import Evaluation, OptimisationVerifier, index_problems, parse_integer_list


def evaluate_subset(numbers: list[int], target: int, chosen: list[int]) -> Evaluation:
    """Feasibility (valid distinct indices whose numbers sum to the target) and the sum."""
    problem = index_problems(chosen, len(numbers), "index")
    if problem:
        return Evaluation.infeasible(problem)
    total = sum(int(numbers[i]) for i in chosen)
    if total != target:
        return Evaluation.infeasible(
            f"the chosen numbers sum to {total}, not the target {target}", sum=total, miss=total - target
        )
    return Evaluation.of(total)


class SubsetSumVerifier(OptimisationVerifier):
    sense = "feasible"
    objective_name = "sum"
    unordered = True

    def parse(self, task: Task, block: str) -> list[int]:
        return parse_integer_list(block, max_entries=len(task.answer["instance"]["numbers"]))

    def evaluate(self, task: Task, solution: list[int]) -> Evaluation:
        instance = task.answer["instance"]
        return evaluate_subset(instance["numbers"], int(instance["target"]), solution)
