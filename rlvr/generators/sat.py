"""How SAT tasks are made: uniform random 3-CNF formulas drawn until one falsifies both constant
assignments and MiniSat proves it satisfiable (a planted formula as the last resort), Johnson's
greedy, wrong and hostile assignments.

The family's contract (task, answer, verifier, solver, difficulty, version history) is the
docstring of ``rlvr.families.sat``.
"""

from __future__ import annotations

import random

import numpy as np
from pysat.solvers import Solver

from rlvr.core import Task
from rlvr.families.sat import CLAUSE_SIZE, FAMILY
from rlvr.generators.optimisation import (
    OPTIMAL,
    UINT32,
    NumpyWords,
    OptimisationGenerator,
    reference_record,
    solver_meta,
)
from rlvr.verifiers.sat import evaluate_assignment

MAX_DRAWS = 60
CONFLICT_BUDGET = 200_000
SAT_SOLVER = "minisat22"


def random_clauses(nprng: np.random.Generator, variables: int, count: int) -> list[list[int]]:
    """``count`` random 3-clauses: three distinct variables, each negated with probability ½,
    sorted by variable. The draws are exactly those of ``count`` rounds of numpy's
    ``choice(variables, size=3, replace=False) + 1`` then ``integers(0, 2, size=3)`` on
    ``nprng`` (a PCG64 generator), and ``nprng`` is left in the state those calls leave, but
    computed in one pass over 32-bit words of ``random_raw`` (the per-call overhead of those
    numpy calls was most of a task's time). How numpy draws: an integer in [0, r] is Lemire's
    multiply-shift of one 32-bit word, drawn again only when the product's low half falls
    below r + 1 (a chance of r / 2³², about one formula in 10⁵ at d = 1; such a batch is
    redone word by word in ``random_clauses_sequential``); ``choice`` without replacement is
    Floyd's algorithm (a draw in [0, j] for j = n−3, n−2, n−1; a repeat takes j) followed by a
    Fisher–Yates shuffle of the three; ``integers(0, 2)`` is a word's top bit. The words are the
    low then the high half of each 64-bit output, after a half left buffered by an earlier
    32-bit draw. tests/test_optimisation.py checks the equality against numpy."""
    bit_generator = nprng.bit_generator
    saved = bit_generator.state
    buffered = [saved["uinteger"]] if saved["has_uint32"] else []
    per_clause = 8 if variables > 3 else 7  # a draw in [0, 0] takes no word
    needed = count * per_clause
    outputs = bit_generator.random_raw(max(0, -(-(needed - len(buffered)) // 2)))
    halves = np.empty(2 * len(outputs), dtype=np.uint64)
    halves[0::2] = outputs & UINT32
    halves[1::2] = outputs >> np.uint64(32)
    block = np.concatenate([np.array(buffered, dtype=np.uint64), halves])[:needed].reshape(count, per_clause)
    columns = iter(block.T)
    spans = ([variables - 2] if variables > 3 else []) + [variables - 1, variables, 3, 2]
    draws, rejected = [], False
    for span in spans:
        product = next(columns) * np.uint64(span)
        rejected |= bool(((product & np.uint64(UINT32)) < span).any())
        draws.append((product >> np.uint64(32)).astype(np.int64))
    if rejected:  # a draw numpy may have redone: replay word by word from the saved state
        bit_generator.state = saved
        return random_clauses_sequential(nprng, variables, count)
    if variables == 3:
        draws.insert(0, np.zeros(count, dtype=np.int64))
    first, second, third, swap_last, swap_middle = draws
    second = np.where(second == first, variables - 2, second)
    third = np.where((third == first) | (third == second), variables - 1, third)
    chosen = np.stack([first, second, third], axis=1)
    rows = np.arange(count)
    for index, other in ((2, swap_last), (1, swap_middle)):
        here, there = chosen[:, index].copy(), chosen[rows, other].copy()
        chosen[:, index], chosen[rows, other] = there, here
    signs = np.stack([(next(columns) >> np.uint64(31)).astype(np.int64) * 2 - 1 for _ in range(CLAUSE_SIZE)], axis=1)
    literals = np.take_along_axis((chosen + 1) * signs, np.argsort(chosen, axis=1), axis=1)
    from_outputs = needed - len(buffered) if needed >= len(buffered) else 0
    state = bit_generator.state
    if from_outputs % 2:  # the high half of the last output stays buffered
        state["has_uint32"], state["uinteger"] = 1, int(outputs[-1] >> np.uint64(32))
    elif needed:
        state["has_uint32"], state["uinteger"] = 0, 0
    bit_generator.state = state
    return literals.tolist()


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
    literals (all-true falsifies it) and some clause only positive ones (all-false does)."""
    return any(all(literal < 0 for literal in clause) for clause in clauses) and any(
        all(literal > 0 for literal in clause) for clause in clauses
    )


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
    """x1, x2, … in turn: true when at least as many still-unsatisfied clauses hold x_k as
    hold ¬x_k, else false (``open_count`` keeps each literal's unsatisfied clauses, indexed by
    literal + n)."""
    width = 2 * variables + 1
    open_count = [0] * width
    containing: list[list[int]] = [[] for _ in range(width)]
    shifted = [[literal + variables for literal in clause] for clause in clauses]
    for index, clause in enumerate(shifted):
        for slot in clause:
            containing[slot].append(index)
            open_count[slot] += 1
    satisfied = [False] * len(clauses)
    assignment = []
    for variable in range(1, variables + 1):
        true_slot, false_slot = variables + variable, variables - variable
        slot = true_slot if open_count[true_slot] >= open_count[false_slot] else false_slot
        assignment.append(slot - variables)
        for index in containing[slot]:
            if not satisfied[index]:
                satisfied[index] = True
                for member in shifted[index]:
                    open_count[member] -= 1
    return assignment


def satisfied_count(clauses: list[list[int]], assignment: list[int]) -> int:
    truth = set(assignment)
    return sum(not truth.isdisjoint(clause) for clause in clauses)


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
            clauses = random_clauses(nprng, variables, clause_count)
            if falsifies_constant_assignments(clauses):
                _, model, stats = solve_formula(variables, clauses)
        if model is None:
            clauses, _ = planted_formula(nprng, variables, clause_count)
            _, model, stats = solve_formula(variables, clauses)
            source = "planted"
        greedy = johnson_greedy(variables, clauses)
        listing = " ".join([f"({a} {b} {c})" for a, b, c in clauses])  # every clause has CLAUSE_SIZE = 3 literals
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
