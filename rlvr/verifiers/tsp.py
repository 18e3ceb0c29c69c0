"""TSP verifier: a tour through every city once, scored by its length against the reference.

Input       A ``Task`` from rlvr.generators.tsp: ``task.answer["instance"]["distances"]`` (the
            n×n integer matrix) and ``task.answer["reference"]`` (tour, length, status).
Parsing     A list of city indices, e.g. ``[0, 4, 2, 1, 3]``; separators may be ',', ';',
            whitespace, ``->`` or ``→``; a copy of the first city at the end (the return leg
            written out) is allowed. At most n + 1 entries; anything else is a format error.
Feasibility Exactly n entries, each city 0…n−1 exactly once (no index out of range, no repeat,
            none missing).
Reward      1 and correct when the answer is feasible and the tour is no longer than the
            reference; else 0 (binary by default). ``partial=True``: a feasible answer earns the
            share of the greedy-to-reference gap that its ratio min(1, reference length / tour
            length) closes (rlvr.verifiers.optimisation). Details: objective (length), reference,
            reference_status, gap, ratio.
"""

from __future__ import annotations

from rlvr.core import Task
from rlvr.verifiers.optimisation import (
    AnswerFormatError,
    Evaluation,
    OptimisationVerifier,
    index_problems,
    parse_integer_list,
)

TOUR_SEPARATORS = ("->", "→")


def tour_length(distances: list[list[int]], tour: list[int]) -> int:
    return sum(int(distances[tour[k]][tour[(k + 1) % len(tour)]]) for k in range(len(tour)))


def evaluate_tour(distances: list[list[int]], tour: list[int]) -> Evaluation:
    """Feasibility (every city exactly once) and, when feasible, the closed tour's length."""
    count = len(distances)
    if len(tour) == count + 1 and tour[0] == tour[-1]:
        tour = tour[:-1]
    problem = index_problems(tour, count, "city")
    if problem:
        return Evaluation.infeasible(problem)
    if len(tour) != count:
        missing = sorted(set(range(count)) - set(tour))
        return Evaluation.infeasible(
            f"the tour visits {len(tour)} of {count} cities; missing {missing[:10]}", missing=missing[:50]
        )
    return Evaluation.of(tour_length(distances, tour))


class TSPVerifier(OptimisationVerifier):
    sense = "min"
    objective_name = "tour length"

    def parse(self, task: Task, block: str) -> list[int]:
        count = len(task.answer["instance"]["distances"])
        tour = parse_integer_list(block, max_entries=count + 1, extra_separators=TOUR_SEPARATORS)
        if not tour:
            raise AnswerFormatError("the tour is empty")
        return tour

    def evaluate(self, task: Task, solution: list[int]) -> Evaluation:
        return evaluate_tour(task.answer["instance"]["distances"], solution)

    def normal_form(self, task: Task, solution: list[int]) -> tuple:
        """The tour without a repeated closing city, from its least city, in the direction whose
        second city is the smaller: one key for every start and direction."""
        tour = solution[:-1] if len(solution) > 1 and solution[0] == solution[-1] else list(solution)
        start = tour.index(min(tour))
        tour = tour[start:] + tour[:start]
        return tuple(min(tour, tour[:1] + tour[:0:-1]))
