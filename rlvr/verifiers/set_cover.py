"""Set cover verifier: subsets whose union is the whole universe, scored by how many.

Input       A ``Task`` from rlvr.generators.set_cover: ``task.answer["instance"]`` =
            {"elements": m, "subsets": [[e, …], …]} and ``task.answer["reference"]`` (subset
            indices, count, status).
Parsing     A list of subset indices in any order: ``[0, 3, 5]`` (brackets optional; ',', ';'
            or whitespace between). At most (number of subsets) entries; floats, words or other
            characters are format errors.
Feasibility Every index in range, none repeated, and every element 0…m−1 in at least one chosen
            subset.
Reward      1 and correct when the answer is feasible and uses no more subsets than the
            reference; else 0 (binary by default). ``partial=True``: a feasible answer earns the
            share of the greedy-to-reference gap that its ratio min(1, reference count / count)
            closes (rlvr.verifiers.optimisation). Details: objective (count), reference,
            reference_status, gap, ratio; on a violation, the uncovered elements.
"""

from __future__ import annotations

from rlvr.core import Task
from rlvr.verifiers.optimisation import Evaluation, OptimisationVerifier, index_problems, parse_integer_list


def evaluate_cover(elements: int, subsets: list[list[int]], chosen: list[int]) -> Evaluation:
    """Feasibility (valid distinct subsets covering every element) and the count."""
    problem = index_problems(chosen, len(subsets), "subset")
    if problem:
        return Evaluation.infeasible(problem)
    covered = set()
    for index in chosen:
        covered.update(subsets[index])
    missing = sorted(set(range(elements)) - covered)
    if missing:
        return Evaluation.infeasible(f"{len(missing)} elements uncovered, e.g. {missing[:10]}", uncovered=missing[:50])
    return Evaluation.of(len(chosen))


class SetCoverVerifier(OptimisationVerifier):
    sense = "min"
    objective_name = "subsets used"
    unordered = True

    def parse(self, task: Task, block: str) -> list[int]:
        return parse_integer_list(block, max_entries=len(task.answer["instance"]["subsets"]))

    def evaluate(self, task: Task, solution: list[int]) -> Evaluation:
        instance = task.answer["instance"]
        return evaluate_cover(int(instance["elements"]), instance["subsets"], solution)
