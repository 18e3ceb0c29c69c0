"""Graph colouring verifier: a proper colouring of every vertex, scored by colours used.

Input       A ``Task`` from rlvr.generators.graph_coloring: ``task.answer["instance"]`` =
            {"vertices": n, "edges": [[u, v], …]} and ``task.answer["reference"]`` (colouring,
            colour count, status).
Parsing     A list of n integers, the i-th the colour of vertex i: ``[1, 2, 1, 3]`` (brackets
            optional; ',', ';' or whitespace between). At most n entries; floats, words or
            other characters are format errors.
Feasibility Exactly n colours, each an integer 1…n, and the two ends of every edge coloured
            differently.
Reward      1 and correct when the answer is feasible and uses no more colours than the
            reference; else 0 (binary by default). ``partial=True``: a feasible answer earns the
            share of the greedy-to-reference gap that its ratio min(1, reference colours / colours
            used) closes (rlvr.verifiers.optimisation). Details: objective (colours), reference,
            reference_status, gap, ratio; on a conflict, the offending edge.
"""

from __future__ import annotations

from rlvr.core import Task
from rlvr.verifiers.optimisation import Evaluation, OptimisationVerifier, parse_integer_list


def evaluate_colouring(vertices: int, edges: list[list[int]], colours: list[int]) -> Evaluation:
    """Feasibility (n colours in 1…n, no edge with one colour at both ends) and colour count."""
    if len(colours) != vertices:
        return Evaluation.infeasible(f"{len(colours)} colours given for {vertices} vertices")
    for vertex, colour in enumerate(colours):
        if not 1 <= colour <= vertices:
            return Evaluation.infeasible(f"vertex {vertex} has colour {colour}, outside 1–{vertices}")
    for u, v in edges:
        if colours[u] == colours[v]:
            return Evaluation.infeasible(f"edge {u}-{v} joins two vertices of colour {colours[u]}", conflict=[u, v])
    return Evaluation.of(len(set(colours)))


class GraphColoringVerifier(OptimisationVerifier):
    sense = "min"
    objective_name = "colours used"

    def parse(self, task: Task, block: str) -> list[int]:
        return parse_integer_list(block, max_entries=int(task.answer["instance"]["vertices"]))

    def evaluate(self, task: Task, solution: list[int]) -> Evaluation:
        instance = task.answer["instance"]
        return evaluate_colouring(int(instance["vertices"]), instance["edges"], solution)

    def normal_form(self, task: Task, solution: list[int]) -> tuple:
        """The colours renamed 0, 1, 2… in the order vertices first use them: the same
        partition of the vertices under any names."""
        names: dict[int, int] = {}
        return tuple(names.setdefault(colour, len(names)) for colour in solution)
