"""SAT verifier: a truth assignment satisfying every clause of a CNF formula.

Input       A ``Task`` from rlvr.generators.sat: ``task.answer["instance"]`` = {"variables": n,
            "clauses": [[literal, …], …]} (literal k: x_k true, −k: x_k false) and
            ``task.answer["reference"]`` (a satisfying assignment).
Parsing     One literal per variable, any order: ``[1, -2, 3]`` means x1 true, x2 false, x3 true
            (brackets optional; ',', ';' or whitespace between). At most n entries; floats,
            words, 0/1 strings or other characters are format errors.
Feasibility Every variable 1…n exactly once (no literal out of range, no variable twice, none
            missing) and every clause with at least one true literal.
Reward      A decision problem: reward 1 and correct when every clause is satisfied, else 0.
            Details: objective (clauses satisfied), reference (all clauses); on a violation,
            how many clauses are unsatisfied and the first of them.
"""

from __future__ import annotations

from rlvr.core import Task
from rlvr.verifiers.optimisation import Evaluation, OptimisationVerifier, parse_integer_list


def evaluate_assignment(variables: int, clauses: list[list[int]], literals: list[int]) -> Evaluation:
    """Feasibility (each variable once, every clause satisfied) and the clauses satisfied."""
    value: dict[int, bool] = {}
    for literal in literals:
        variable = abs(literal)
        if not 1 <= variable <= variables:
            return Evaluation.infeasible(f"literal {literal} names no variable (variables are 1–{variables})")
        if variable in value:
            return Evaluation.infeasible(f"variable {variable} is assigned more than once")
        value[variable] = literal > 0
    if len(value) != variables:
        missing = sorted(set(range(1, variables + 1)) - set(value))
        return Evaluation.infeasible(f"{len(missing)} variables unassigned, e.g. {missing[:10]}", missing=missing[:50])
    unsatisfied = [clause for clause in clauses if not any(value[abs(l)] == (l > 0) for l in clause)]
    if unsatisfied:
        return Evaluation.infeasible(
            f"{len(unsatisfied)} of {len(clauses)} clauses unsatisfied, e.g. {unsatisfied[0]}",
            unsatisfied_clauses=len(unsatisfied),
            first_unsatisfied=unsatisfied[0],
        )
    return Evaluation.of(len(clauses))


class SATVerifier(OptimisationVerifier):
    sense = "feasible"
    objective_name = "clauses satisfied"
    unordered = True

    def parse(self, task: Task, block: str) -> list[int]:
        return parse_integer_list(block, max_entries=int(task.answer["instance"]["variables"]))

    def evaluate(self, task: Task, solution: list[int]) -> Evaluation:
        instance = task.answer["instance"]
        return evaluate_assignment(int(instance["variables"]), instance["clauses"], solution)
