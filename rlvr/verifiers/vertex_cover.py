"""Minimum vertex cover verifier: a set of vertices touching every edge, scored by size.

Input       A ``Task`` from rlvr.generators.vertex_cover: ``task.answer["instance"]`` =
            {"vertices": n, "edges": [[u, v], …]} and ``task.answer["reference"]`` (cover, size,
            status).
Parsing     A list of vertex indices in any order: ``[1, 2, 5]`` (brackets optional; ',', ';'
            or whitespace between). At most n entries; floats, words or other characters are
            format errors.
Feasibility Every index in 0…n−1, none repeated, and every edge with at least one end in the
            set.
Reward      1 and correct when the answer is feasible and no larger than the reference; else 0
            (binary by default). ``partial=True``: a feasible answer earns the share of the
            greedy-to-reference gap that its ratio min(1, reference size / size) closes
            (rlvr.verifiers.optimisation). Details: objective (size), reference, reference_status,
            gap, ratio; on a violation, the first uncovered edge and how many edges are uncovered.
"""

from __future__ import annotations

from rlvr.core import Task
from rlvr.verifiers.optimisation import Evaluation, OptimisationVerifier, index_problems, parse_integer_list


def evaluate_vertex_cover(vertices: int, edges: list[list[int]], chosen: list[int]) -> Evaluation:
    """Feasibility (valid distinct vertices covering every edge) and the cover's size."""
    problem = index_problems(chosen, vertices, "vertex")
    if problem:
        return Evaluation.infeasible(problem)
    members = set(chosen)
    uncovered = [[u, v] for u, v in edges if u not in members and v not in members]
    if uncovered:
        u, v = uncovered[0]
        return Evaluation.infeasible(
            f"edge {u}-{v} has neither end in the set ({len(uncovered)} edges uncovered)",
            uncovered_edges=len(uncovered),
            uncovered=[u, v],
        )
    return Evaluation.of(len(members))


class VertexCoverVerifier(OptimisationVerifier):
    sense = "min"
    objective_name = "cover size"
    unordered = True

    def parse(self, task: Task, block: str) -> list[int]:
        return parse_integer_list(block, max_entries=int(task.answer["instance"]["vertices"]))

    def evaluate(self, task: Task, solution: list[int]) -> Evaluation:
        instance = task.answer["instance"]
        return evaluate_vertex_cover(int(instance["vertices"]), instance["edges"], solution)
