"""How SAT tasks are made: uniform random 3-CNF formulas drawn until one falsifies both constant
assignments and MiniSat proves it satisfiable (a planted formula as the last resort), Johnson's
greedy, wrong and hostile assignments.

The family's contract (task, answer, verifier, solver, difficulty, version history) is the
docstring of ``rlvr.families.sat``.
"""

from __future__ import annotations

import functools
import math
import random

import numpy as np
import pysolvers  # python-sat's compiled solver backends

from rlvr.core import Task
from rlvr.families.sat import CLAUSE_SIZE, FAMILY
from rlvr.generators.optimisation import (
    OPTIMAL,
    NumpyWords,
    OptimisationGenerator,
    reference_record,
    solver_meta,
)
from rlvr.verifiers.sat import evaluate_assignment

MAX_DRAWS = 60
CONFLICT_BUDGET = 200_000
SAT_SOLVER = "minisat22"
HIGH_HALF = np.uint64(32)
# a clause's shuffle draws and sign bits (words 3–7 once drawn) → its row of SIGN_FLAGS
SIGN_FLAG_ROW = np.array([16, 8, 1, 2, 4], dtype=np.uint64)


def sign_flags() -> np.ndarray:
    """Row 16a + 8b + s, for numpy's shuffle draws a (in [0, 2]: position 2 swaps with a) and b
    (in [0, 1]: then position 1 swaps with b) and the sign bits s (bit p: the top bit of the
    sign word of position p, set for a positive literal): for each of Floyd's three picks in
    the order drawn, 2 plus 1 when its literal is negated, so that 2·pick + flag is
    2·variable + negated."""
    flags = np.zeros((48, CLAUSE_SIZE), dtype=np.uint64)
    for last in range(3):
        for middle in range(2):
            order = [0, 1, 2]  # the pick at each position after the shuffle
            order[2], order[last] = order[last], order[2]
            order[1], order[middle] = order[middle], order[1]
            for signs in range(8):
                for position, pick in enumerate(order):
                    flags[16 * last + 8 * middle + signs, pick] = 3 - (signs >> position & 1)
    return flags


SIGN_FLAGS = sign_flags()


def random_clauses(nprng: np.random.Generator, variables: int, count: int) -> list[list[int]]:
    """``count`` random 3-clauses: three distinct variables, each negated with probability ½,
    sorted by variable. The draws are exactly those of ``count`` rounds of numpy's
    ``choice(variables, size=3, replace=False) + 1`` then ``integers(0, 2, size=3)`` on
    ``nprng`` (a PCG64 generator), and ``nprng`` is left in the state those calls leave, but
    computed in one pass over 32-bit words of ``random_raw`` (the per-call overhead of those
    numpy calls was most of a task's time). How numpy draws: an integer in [0, r] is Lemire's
    multiply-shift of one 32-bit word, drawn again only when the product's low half falls
    below r + 1 (a chance below n / 2³² per word, about one formula in 10⁵ at d = 1: a call
    where a low half falls below n is redone word by word in ``random_clauses_sequential``);
    ``choice`` without replacement is Floyd's algorithm (a draw in [0, j] for j = n−3, n−2,
    n−1; a repeat takes j) followed by a Fisher–Yates shuffle of the three (a draw in [0, 2],
    then one in [0, 1]: one of six orders, tabulated in ``sign_flags``); ``integers(0, 2)``
    is a word's top bit (the high half of the word times 2). The words are the low then the
    high half of each 64-bit output (the outputs' little-endian bytes read as 32-bit words),
    after a half left buffered by an earlier 32-bit draw. tests/test_optimisation.py checks
    the equality against numpy."""
    return random_clause_array(nprng, variables, count).tolist()


def random_clause_array(nprng: np.random.Generator, variables: int, count: int) -> np.ndarray:
    """``random_clauses`` as a (count, 3) integer array."""
    bit_generator = nprng.bit_generator
    saved = bit_generator.state
    buffered = saved["has_uint32"]
    spans, literal_of_key = clause_tables(variables)
    per_clause = len(spans)
    bounded = per_clause - CLAUSE_SIZE  # Lemire draws per clause; the sign words follow
    needed = count * per_clause
    from_outputs = max(0, needed - buffered)
    outputs = bit_generator.random_raw(-(-from_outputs // 2))
    words = outputs.astype("<u8", copy=False).view("<u4")
    if buffered:
        words = np.concatenate((np.array([saved["uinteger"]], dtype=np.uint32), words))
    products = words[:needed].reshape(count, per_clause) * spans
    if (products[:, :bounded].astype(np.uint32) < variables).any():  # low half < span ≤ variables
        bit_generator.state = saved  # a draw numpy may have redone: replay word by word
        return np.array(random_clauses_sequential(nprng, variables, count), dtype=np.int64).reshape(count, CLAUSE_SIZE)
    values = products >> HIGH_HALF
    if variables == 3:  # the first pick, in [0, 0], took no word
        values = np.concatenate((np.zeros((count, 1), dtype=np.uint64), values), axis=1)
    first, second, third = values[:, 0], values[:, 1], values[:, 2]
    second[second == first] = variables - 2
    third[(third == first) | (third == second)] = variables - 1
    keys = values[:, :CLAUSE_SIZE] * 2 + SIGN_FLAGS[values[:, CLAUSE_SIZE:] @ SIGN_FLAG_ROW]  # 2·variable + negated
    keys.sort(axis=1)
    if needed and (buffered or from_outputs % 2):  # else numpy's 32-bit buffer stays as it was
        state = bit_generator.state
        if from_outputs % 2:  # the high half of the last output stays buffered
            state["has_uint32"], state["uinteger"] = 1, int(outputs[-1] >> HIGH_HALF)
        else:
            state["has_uint32"], state["uinteger"] = 0, 0
        bit_generator.state = state
    return literal_of_key[keys]


@functools.lru_cache(maxsize=64)
def clause_tables(variables: int) -> tuple[np.ndarray, np.ndarray]:
    """For ``random_clause_array``: the span of each word of a clause (Floyd's picks, the two
    shuffle draws, then 2 for each sign word, whose top bit is the high half of twice the word)
    and the literal of each sort key 2·variable + negated (variables counted from 1)."""
    spans = [variables - 2, variables - 1, variables, 3, 2][-(5 if variables > 3 else 4) :] + [2] * CLAUSE_SIZE
    keys = np.arange(2 * variables + 4)
    return np.array(spans, dtype=np.uint64), (keys >> 1) * (1 - 2 * (keys & 1))


def random_clauses_sequential(nprng: np.random.Generator, variables: int, count: int) -> list[list[int]]:
    """``random_clauses`` word by word (``NumpyWords``), redrawing where numpy's Lemire draw
    rejects."""
    words = NumpyWords(nprng, expected_words=8 * count)
    clauses = []
    for _ in range(count):
        first = words.bounded(variables - 3)
        second = words.bounded(variables - 2)
        if second == first:
            second = variables - 2
        third = words.bounded(variables - 1)
        if third in (first, second):
            third = variables - 1
        chosen = [first, second, third]
        for index in (2, 1):
            other = words.bounded(index)
            chosen[index], chosen[other] = chosen[other], chosen[index]
        signs = [(words.next() >> 31) * 2 - 1 for _ in range(CLAUSE_SIZE)]
        clauses.append(sorted(((v + 1) * sign for v, sign in zip(chosen, signs)), key=abs))
    words.close()
    return clauses


def falsifies_constant_assignments(clauses: list[list[int]]) -> bool:
    """Whether neither all-true nor all-false satisfies the formula: some clause has only negative
    literals (its largest is negative: all-true falsifies it) and some clause only positive ones
    (its smallest is positive: all-false does)."""
    return any(max(clause) < 0 for clause in clauses) and any(min(clause) > 0 for clause in clauses)


def planted_formula(nprng: np.random.Generator, variables: int, clause_count: int) -> tuple[list[list[int]], list[int]]:
    """Clauses drawn uniformly among those a random planted assignment satisfies. The assignment
    has both signs (redrawn while it has one), and with two or more clauses the first is drawn
    among the all-positive clauses it satisfies and the second among the all-negative ones, so
    neither constant assignment satisfies the formula."""
    assignment = []
    while len({literal > 0 for literal in assignment}) < 2:
        assignment = [v if nprng.random() < 0.5 else -v for v in range(1, variables + 1)]
    truth = set(assignment)
    clauses = []
    signs = [1, -1] if clause_count >= 2 else []  # the sign every literal of the next clause gets
    while len(clauses) < clause_count:
        (clause,) = random_clauses(nprng, variables, 1)
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


def johnson_greedy(variables: int, clauses: list[list[int]]) -> tuple[list[int], int]:
    """(assignment, clauses it satisfies): x1, x2, … in turn, true when at least as many
    still-unsatisfied clauses hold x_k as hold ¬x_k, else false. Each clause lists distinct
    variables in increasing order (as ``random_clauses`` and ``planted_formula`` make them), so
    a clause is still unsatisfied at x_k exactly when every literal before its one on x_k was
    set false: ``waiting[literal]`` (negative literals at negative indices) holds those clauses
    with the position of their next literal, and a clause moves on to that literal's variable
    only when x_k's value falsifies it."""
    waiting: list[list[tuple[list[int], int]]] = [[] for _ in range(2 * variables + 1)]
    for clause in clauses:
        waiting[clause[0]].append((clause, 1))
    assignment, satisfied = [], 0
    for variable in range(1, variables + 1):
        true_side, false_side = waiting[variable], waiting[-variable]
        if len(true_side) >= len(false_side):
            assignment.append(variable)
            satisfied += len(true_side)
            falsified = false_side
        else:
            assignment.append(-variable)
            satisfied += len(false_side)
            falsified = true_side
        for clause, at in falsified:
            if at < len(clause):
                waiting[clause[at]].append((clause, at + 1))
    return assignment, satisfied


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
        while model is None and draws < MAX_DRAWS:
            draws += 1
            block = random_clause_array(nprng, variables, clause_count)
            clauses = block.tolist()
            if falsifies_constant_assignments(clauses):
                _, model, stats = solve_formula(variables, clauses)
        if model is None:
            clauses, _ = planted_formula(nprng, variables, clause_count)
            block = np.array(clauses, dtype=np.int64)
            _, model, stats = solve_formula(variables, clauses)
            source = "planted"
        _, greedy_satisfied = johnson_greedy(variables, clauses)
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
        return johnson_greedy(int(instance["variables"]), instance["clauses"])[0]

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
