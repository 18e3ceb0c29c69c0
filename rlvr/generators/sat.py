"""How SAT tasks are made: uniform random 3-CNF formulas drawn until MiniSat proves one satisfiable
(a planted formula as the last resort), Johnson's greedy, wrong and hostile assignments.

The family's contract (task, answer, verifier, solver, difficulty, version history) is the
docstring of ``rlvr.families.sat``.
"""

from __future__ import annotations

import random

import numpy as np
from pysat.solvers import Solver

from rlvr.core import Task
from rlvr.families.sat import CLAUSE_SIZE, FAMILY
from rlvr.generators.optimisation import OPTIMAL, OptimisationGenerator, reference_record, solver_meta
from rlvr.verifiers.sat import evaluate_assignment

MAX_DRAWS = 60
CONFLICT_BUDGET = 200_000
SAT_SOLVER = "minisat22"


def random_clause(nprng: np.random.Generator, variables: int) -> list[int]:
    chosen = nprng.choice(variables, size=CLAUSE_SIZE, replace=False) + 1
    signs = nprng.integers(0, 2, size=CLAUSE_SIZE) * 2 - 1
    return sorted((int(v * s) for v, s in zip(chosen, signs)), key=abs)


def planted_formula(nprng: np.random.Generator, variables: int, clause_count: int) -> tuple[list[list[int]], list[int]]:
    """Clauses drawn uniformly among those a random planted assignment satisfies."""
    assignment = [v if nprng.random() < 0.5 else -v for v in range(1, variables + 1)]
    truth = set(assignment)
    clauses = []
    while len(clauses) < clause_count:
        clause = random_clause(nprng, variables)
        if any(literal in truth for literal in clause):
            clauses.append(clause)
    return clauses, assignment


def solve_formula(variables: int, clauses: list[list[int]]) -> tuple[bool | None, list[int] | None, dict]:
    """(satisfiable, model, stats) by MiniSat under the conflict budget; None when undecided."""
    with Solver(name=SAT_SOLVER, bootstrap_with=clauses) as solver:
        solver.conf_budget(CONFLICT_BUDGET)
        verdict = solver.solve_limited()
        model = solver.get_model() if verdict else None
        stats = solver.accum_stats()
    if model is not None:
        model = [literal for literal in model if abs(literal) <= variables]
        present = {abs(literal) for literal in model}
        model += [v for v in range(1, variables + 1) if v not in present]  # variables in no clause: any value
        model.sort(key=abs)
    return verdict, model, {"conflicts": int(stats.get("conflicts", 0)), "decisions": int(stats.get("decisions", 0))}


def johnson_greedy(variables: int, clauses: list[list[int]]) -> list[int]:
    satisfied = [False] * len(clauses)
    containing: dict[int, list[int]] = {}
    for index, clause in enumerate(clauses):
        for literal in clause:
            containing.setdefault(literal, []).append(index)
    assignment = []
    for variable in range(1, variables + 1):
        positive = sum(1 for i in containing.get(variable, ()) if not satisfied[i])
        negative = sum(1 for i in containing.get(-variable, ()) if not satisfied[i])
        literal = variable if positive >= negative else -variable
        assignment.append(literal)
        for i in containing.get(literal, ()):
            satisfied[i] = True
    return assignment


def satisfied_count(clauses: list[list[int]], assignment: list[int]) -> int:
    truth = set(assignment)
    return sum(1 for clause in clauses if any(literal in truth for literal in clause))


class SATGenerator(OptimisationGenerator):
    declaration = FAMILY
    sense = "feasible"

    def hint_opening(self, task: Task) -> str:
        model = task.answer["reference"]["solution"]
        return (
            f"The reference model sets {sum(1 for literal in model if literal > 0)} of the {len(model)} variables true."
        )

    def hint_facts(self, task: Task) -> tuple[str, list[str]]:
        model = sorted(task.answer["reference"]["solution"], key=abs)
        return "Values of the reference model", [f"x{abs(l)}={'true' if l > 0 else 'false'}" for l in model]

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        variables, ratio = params["variables"], params["clause_ratio"]
        clause_count = max(1, int(np.floor(ratio * variables + 0.5)))
        model, draws, stats, source = None, 0, {"conflicts": 0, "decisions": 0}, "uniform random, solver-checked"
        while model is None and draws < MAX_DRAWS:
            draws += 1
            clauses = [random_clause(nprng, variables) for _ in range(clause_count)]
            _, model, stats = solve_formula(variables, clauses)
        if model is None:
            clauses, _ = planted_formula(nprng, variables, clause_count)
            _, model, stats = solve_formula(variables, clauses)
            source = "planted"
        greedy = johnson_greedy(variables, clauses)
        listing = " ".join("(" + " ".join(str(l) for l in clause) + ")" for clause in clauses)
        prompt = (
            f"Boolean satisfiability (3-SAT). Find values for the {variables} variables x1 to x{variables} that "
            "make every clause below true. Each clause, in parentheses, is an OR of three literals: k stands for "
            f"x_k being true and -k for x_k being false. The formula is the AND of all {clause_count} clauses.\n"
            f"{listing}\n\nAnswer with one literal per variable, for x1 to x{variables} each exactly once: k if "
            "x_k is true, -k if it is false. Put only the list inside <answer>…</answer>, in the form <answer>[1, "
            f"-2, 3, …]</answer> (this shows the form only; write out all {variables} literals)"
        )
        return {
            "prompt": prompt,
            "answer": {
                "instance": {"variables": variables, "clauses": clauses},
                "reference": reference_record(model, clause_count, OPTIMAL),
            },
            "meta": solver_meta(
                f"python-sat {SAT_SOLVER}",
                OPTIMAL,
                clause_count,
                satisfied_count(clauses, greedy),
                effort=stats["conflicts"],
                effort_unit="SAT conflicts",
                decisions=stats["decisions"],
                formulas_drawn=draws,
                formula=source,
            ),
        }

    def greedy_solution(self, task: Task) -> list[int]:
        instance = task.answer["instance"]
        return johnson_greedy(int(instance["variables"]), instance["clauses"])

    def objective_of(self, task: Task, solution: list[int]) -> float | None:
        instance = task.answer["instance"]
        return evaluate_assignment(int(instance["variables"]), instance["clauses"], solution).objective

    def wrong_candidates(self, task: Task):
        """The reference with every literal of the first clause made false (that clause fails)."""
        first = set(task.answer["instance"]["clauses"][0])
        yield [-literal if literal in first else literal for literal in task.answer["reference"]["solution"]]

    def hostile_solutions(self, task: Task) -> list[tuple[str, list[int]]]:
        """Every variable true, every variable false, both literals of every variable (too
        many), the literal 0, half the variables only, a literal beyond n."""
        variables = int(task.answer["instance"]["variables"])
        assignment = list(task.answer["reference"]["solution"])
        both = [literal for k in range(1, variables + 1) for literal in (k, -k)]
        return [
            ("all-true", list(range(1, variables + 1))),
            ("all-false", [-k for k in range(1, variables + 1)]),
            ("both-polarities", both[:variables]),
            ("literal-zero", [0] + assignment[1:]),
            ("half-assignment", assignment[: variables // 2]),
            ("literal-beyond-n", assignment[:-1] + [variables + 1]),
        ]
