"""How SAT tasks are made: uniform random 3-CNF formulas drawn from the seed material until one
falsifies both constant assignments and MiniSat proves it satisfiable (a planted formula as the
last resort), Johnson's greedy, wrong and hostile assignments.

The family's contract (task, answer, verifier, solver, difficulty, version history) is the
docstring of ``rlvr.families.sat``.
"""

from __future__ import annotations

import functools
import itertools
import math
import random

import numpy as np
import pysolvers  # python-sat's compiled solver backends

from rlvr.core import Task
from rlvr.families.sat import CLAUSE_SIZE, FAMILY
from rlvr.generators.material_numbers import johnson_greedy, uniform_integers
from rlvr.generators.optimisation import (
    OPTIMAL,
    MaterialDraws,
    OptimisationGenerator,
    reference_record,
    solver_meta,
)
from rlvr.verifiers.sat import evaluate_assignment

MAX_DRAWS = 60
CONFLICT_BUDGET = 200_000
SAT_SOLVER = "minisat22"
TABLE_ROWS = 1 << 19  # clause tables up to this many rows (74 variables) are kept; beyond, decoded one by one
SIGN_PATTERNS = np.array([[1 - 2 * (signs >> j & 1) for j in range(CLAUSE_SIZE)] for signs in range(8)])


def clause_count_of(variables: int) -> int:
    """How many clauses there are: 8 sign patterns × C(variables, 3) sets of variables."""
    return 8 * math.comb(variables, CLAUSE_SIZE)


def clause_of_index(index: int) -> list[int]:
    """Clause ``index`` (in [0, ``clause_count_of(n)``)), sorted by variable: its variables are
    the set of colex rank index // 8 (a < b < c, counted from 0: rank C(c, 3) + C(b, 2) + a)
    plus 1, and bit j of index % 8 negates the j-th of them."""
    rank, signs = index >> 3, index & 7
    top = round((6 * rank) ** (1 / 3)) + 1  # near the c with C(c, 3) ≤ rank < C(c + 1, 3); corrected below
    while math.comb(top, 3) > rank:
        top -= 1
    while math.comb(top + 1, 3) <= rank:
        top += 1
    rank -= math.comb(top, 3)
    middle = (1 + math.isqrt(1 + 8 * rank)) // 2
    while math.comb(middle, 2) > rank:
        middle -= 1
    while math.comb(middle + 1, 2) <= rank:
        middle += 1
    variables = (rank - math.comb(middle, 2) + 1, middle + 1, top + 1)
    return [-v if signs >> j & 1 else v for j, v in enumerate(variables)]


@functools.lru_cache(maxsize=8)
def clause_table(variables: int) -> np.ndarray:
    """Row i is ``clause_of_index(i)`` (a (``clause_count_of``, 3) array): the sets of variables
    in colex order (itertools' lexicographic sets sorted by their largest, then middle
    variable), each with its 8 sign patterns."""
    sets = np.array(list(itertools.combinations(range(1, variables + 1), CLAUSE_SIZE)), dtype=np.int32)
    sets = sets[np.lexsort((sets[:, 0], sets[:, 1], sets[:, 2]))]
    return (sets[:, None, :] * SIGN_PATTERNS[None, :, :].astype(np.int32)).reshape(-1, CLAUSE_SIZE)


def random_clause_array(draws: MaterialDraws, variables: int, count: int) -> np.ndarray:
    """``count`` clauses drawn uniformly and independently (three distinct variables, each
    negated with probability ½, sorted by variable) as a (count, 3) array: one uniform index
    each in [0, ``clause_count_of(variables)``) from ``draws`` (``clauses_of_indices``)."""
    return clauses_of_indices(variables, np.array(draws.integers(0, clause_count_of(variables) - 1, count)))


def clauses_of_indices(variables: int, indices: np.ndarray) -> np.ndarray:
    """The clauses of ``indices`` (``clause_of_index``) as a (count, 3) array: looked up in
    ``clause_table``, or decoded one by one where the table would be too large."""
    if clause_count_of(variables) <= TABLE_ROWS:
        return clause_table(variables)[indices]
    return np.array([clause_of_index(index) for index in indices.tolist()], dtype=np.int64).reshape(-1, CLAUSE_SIZE)


def falsifies_constant_assignments(clauses: np.ndarray | list[list[int]]) -> bool:
    """Whether neither all-true nor all-false satisfies the formula: some clause has only negative
    literals (its largest is negative: all-true falsifies it) and some clause only positive ones
    (its smallest is positive: all-false does)."""
    block = np.asarray(clauses)
    return bool((block.max(axis=1) < 0).any() and (block.min(axis=1) > 0).any())


def planted_formula(draws: MaterialDraws, variables: int, clause_count: int) -> tuple[list[list[int]], list[int]]:
    """Clauses drawn uniformly among those a random planted assignment satisfies. The assignment
    has both signs (redrawn while it has one), and with two or more clauses the first is drawn
    among the all-positive clauses it satisfies and the second among the all-negative ones, so
    neither constant assignment satisfies the formula."""
    assignment = []
    while len({literal > 0 for literal in assignment}) < 2:
        bits = draws.bits(variables)
        assignment = [v if bits >> (v - 1) & 1 else -v for v in range(1, variables + 1)]
    truth = set(assignment)
    clauses = []
    signs = [1, -1] if clause_count >= 2 else []  # the sign every literal of the next clause gets
    while len(clauses) < clause_count:
        clause = random_clause_array(draws, variables, 1)[0].tolist()
        if signs:
            clause = [signs[0] * abs(literal) for literal in clause]
        if any(literal in truth for literal in clause):
            clauses.append(clause)
            signs = signs[1:]
    return clauses, assignment


def solve_formula(variables: int, clauses: list[list[int]]) -> tuple[bool | None, list[int] | None, dict]:
    """(satisfiable, model, stats) by MiniSat under the conflict budget; None when undecided.
    Calls python-sat's compiled MiniSat backend (``pysolvers``) the way its ``Minisat22`` class
    does, without that class's Python method per clause (a fifth of a solve at d = 1): the same
    solver, so the same verdict, model and counters."""
    solver = pysolvers.minisat22_new()
    try:
        add = pysolvers.minisat22_add_cl
        for clause in clauses:
            add(solver, clause)
        pysolvers.minisat22_cbudget(solver, CONFLICT_BUDGET)
        verdict = pysolvers.minisat22_solve_lim(solver, [], 0, 0)  # no assumptions, no SIGINT hook, no interrupt
        model = pysolvers.minisat22_model(solver) if verdict else None
        stats = pysolvers.minisat22_acc_stats(solver)
    finally:
        pysolvers.minisat22_del(solver)
    if model is not None:  # x1 … x_m in order, m the largest variable of a clause; any value beyond
        model += range(len(model) + 1, variables + 1)
    return verdict, model, {"conflicts": int(stats.get("conflicts", 0)), "decisions": int(stats.get("decisions", 0))}


def clause_listing(variables: int, clauses: np.ndarray) -> str:
    """The prompt's clauses (a (count, 3) array), ``(1 -2 3) (-1 4 5) …``: each literal's text
    looked up in one numpy pass, then one %-format (a third cheaper than formatting the
    integers at d = 1)."""
    texts = literal_texts(variables)[clauses.reshape(-1)]
    return ("(%s %s %s) " * len(clauses) % tuple(texts.tolist()))[:-1]  # every clause has CLAUSE_SIZE = 3 literals


@functools.lru_cache(maxsize=64)
def literal_texts(variables: int) -> np.ndarray:
    """``str(literal)`` at index ``literal`` (negative literals at negative indices)."""
    return np.array([str(k) for k in range(variables + 1)] + [str(k) for k in range(-variables, 0)], dtype=object)


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
        clause_count = max(1, math.floor(ratio * variables + 0.5))
        model, draws, stats, source = None, 0, {"conflicts": 0, "decisions": 0}, "uniform random, solver-checked"
        position = 0  # words of the seed material's stream (MaterialDraws) taken so far
        while model is None and draws < MAX_DRAWS:
            draws += 1
            indices, position = uniform_integers(rng.material, position, clause_count, clause_count_of(variables))
            block = clauses_of_indices(variables, indices)
            if falsifies_constant_assignments(block):
                clauses = block.tolist()
                _, model, stats = solve_formula(variables, clauses)
        if model is None:
            stream = MaterialDraws(rng.material, position + clause_count + 2)
            stream.take(position)
            clauses, _ = planted_formula(stream, variables, clause_count)
            block = np.array(clauses, dtype=np.int64)
            _, model, stats = solve_formula(variables, clauses)
            source = "planted"
        _, greedy_satisfied = johnson_greedy(variables, block)
        listing = clause_listing(variables, block)
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
                greedy_satisfied,
                effort=stats["conflicts"],
                effort_unit="SAT conflicts",
                decisions=stats["decisions"],
                formulas_drawn=draws,
                formula=source,
            ),
        }

    def greedy_solution(self, task: Task) -> list[int]:
        instance = task.answer["instance"]
        clauses = np.array(instance["clauses"], dtype=np.int64).reshape(-1, CLAUSE_SIZE)
        return johnson_greedy(int(instance["variables"]), clauses)[0]

    def objective_of(self, task: Task, solution: list[int]) -> float | None:
        instance = task.answer["instance"]
        return evaluate_assignment(int(instance["variables"]), instance["clauses"], solution).objective

    def wrong_candidates(self, task: Task):
        """The reference with every literal of the first clause made false (that clause fails)."""
        first = set(task.answer["instance"]["clauses"][0])
        yield [-literal if literal in first else literal for literal in task.answer["reference"]["solution"]]

    def hostile_solutions(self, task: Task) -> list[tuple[str, list[int]]]:
        """Every variable true, every variable false (``build`` rules both out), both literals
        of every variable (too many), the literal 0, half the variables only, a literal beyond
        n."""
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
