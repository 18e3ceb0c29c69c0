"""Maximum independent set verifier: a set of pairwise non-adjacent vertices, scored by size.

Input       A ``Task`` from rlvr.generators.max_independent_set: ``task.answer["instance"]`` =
            {"vertices": n, "edges": [[u, v], …]} and ``task.answer["reference"]`` (set, size,
            status).
Parsing     A list of vertex indices in any order: ``[0, 4, 7]`` (brackets optional; ',', ';'
            or whitespace between; ``[]`` is the empty set). At most n entries; floats, words
            or other characters are format errors.
Feasibility Every index in 0…n−1, none repeated, and no edge with both ends in the set.
Reward      1 and correct when the answer is feasible and at least as large as the reference; else
            0 (binary by default). ``partial=True``: a feasible answer earns the share of the
            greedy-to-reference gap that its ratio min(1, size / reference size) closes
            (rlvr.verifiers.optimisation). Details: objective (size), reference, reference_status,
            gap, ratio; on a violation, the offending edge.
"""

from __future__ import annotations

from rlvr.core import Task
from rlvr.verifiers.optimisation import Evaluation, OptimisationVerifier, index_problems, parse_integer_list


def evaluate_independent_set(vertices: int, edges: list[list[int]], chosen: list[int]) -> Evaluation:
    """Feasibility (valid distinct vertices, no edge inside the set) and the set's size."""
    problem = index_problems(chosen, vertices, "vertex")
    if problem:
        return Evaluation.infeasible(problem)
    members = set(chosen)
    for u, v in edges:
        if u in members and v in members:
            return Evaluation.infeasible(
                f"vertices {u} and {v} are both in the set but joined by an edge", conflict=[u, v]
            )
    return Evaluation.of(len(members))


class MaxIndependentSetVerifier(OptimisationVerifier):
    sense = "max"
    objective_name = "set size"
    unordered = True

    def parse(self, task: Task, block: str) -> list[int]:
        return parse_integer_list(block, max_entries=int(task.answer["instance"]["vertices"]))

    def evaluate(self, task: Task, solution: list[int]) -> Evaluation:
        instance = task.answer["instance"]
        return evaluate_independent_set(int(instance["vertices"]), instance["edges"], solution)
