"""0/1 knapsack verifier: a set of items within the capacity, scored by total value.

Input       A ``Task`` from rlvr.generators.knapsack: ``task.answer["instance"]`` =
            {"weights": [...], "values": [...], "capacity": C} and ``task.answer["reference"]``
            (items, value, status).
Parsing     A list of item indices in any order: ``[0, 3, 4]`` (brackets optional; ',', ';' or
            whitespace between; ``[]`` is the empty selection). At most n entries; floats,
            words or other characters are format errors.
Feasibility Every index in 0…n−1, none repeated, total weight ≤ C.
Reward      1 and correct when the answer is feasible and worth at least the reference; else 0
            (binary by default). ``partial=True``: a feasible answer earns the share of the
            greedy-to-reference gap that its ratio min(1, value / reference value) closes
            (rlvr.verifiers.optimisation). Details: objective (value), reference, reference_status,
            gap, weight and capacity, ratio.
"""

from __future__ import annotations

from rlvr.core import Task
from rlvr.verifiers.optimisation import Evaluation, OptimisationVerifier, index_problems, parse_integer_list


def evaluate_selection(weights: list[int], values: list[int], capacity: int, chosen: list[int]) -> Evaluation:
    """Feasibility (valid distinct items, total weight within capacity) and total value."""
    problem = index_problems(chosen, len(weights), "item")
    if problem:
        return Evaluation.infeasible(problem)
    weight = sum(int(weights[i]) for i in chosen)
    if weight > capacity:
        return Evaluation.infeasible(
            f"total weight {weight} exceeds the capacity {capacity}", weight=weight, capacity=capacity
        )
    return Evaluation.of(sum(int(values[i]) for i in chosen), weight=weight, capacity=capacity)


class KnapsackVerifier(OptimisationVerifier):
    sense = "max"
    objective_name = "total value"
    unordered = True

    def parse(self, task: Task, block: str) -> list[int]:
        return parse_integer_list(block, max_entries=len(task.answer["instance"]["weights"]))

    def evaluate(self, task: Task, solution: list[int]) -> Evaluation:
        instance = task.answer["instance"]
        return evaluate_selection(instance["weights"], instance["values"], int(instance["capacity"]), solution)
