"""Shared machinery of the NP-hard optimisation generators: deterministic CP-SAT runs, the
reference record, solver metadata, answer rendering, random graphs and the attacks every
problem shares. Each problem's contract is its family module (``rlvr.families.tsp``, …), whose
typed table checks explicit parameters before ``build`` runs.

Determinism  Every reference solve must give the same answer in any process, so CP-SAT runs
             with one worker, a fixed random seed and a *deterministic* time limit
             (``max_deterministic_time``, CP-SAT's own work counter, not the clock); python-sat
             solvers are deterministic by construction and get a conflict budget, not a
             timeout. Wall-clock solver time is therefore never stored in a Task: ``task.meta``
             records the status, the objective and work counters that repeat exactly.
Reference    ``task.answer["reference"] = {"solution", "objective", "status"}`` with status
             ``"optimal"`` (proved by the solver, or matching a lower bound), ``"best-known"``
             (the solver stopped at its deterministic limit with a solution) or ``"heuristic"``
             (the solver found nothing in its limit; the strong heuristic's solution stands).
Meta         ``solver`` (name), ``status``, ``objective``, ``effort`` (one number: CP-SAT
             deterministic seconds, DP cells or SAT conflicts; ``effort_unit`` names it),
             solver counters, and ``greedy_objective``: the objective of the family's simple
             greedy baseline on the same instance (``greedy_gap`` = 1 − its quality ratio,
             the ``ratio`` of its verdict).
Prompts      Each prompt shows the answer's form with a list that ends in "…" (e.g.
             ``<answer>[0, 4, 7, …]</answer>``), which no parser reads: a policy that echoes the
             prompt or its example gets a format error, never a free guess.
Attacks      ``OptimisationGenerator.attacks(task)`` (run by ``rlvr audit``): objectives claimed
             in words or as the answer, repeated, negative and out-of-range indices, oversize and
             nested lists, decimals and expressions, plus each family's ``hostile_solutions``
             (every item, none, an infeasible solution of a better objective, a relaxation's
             solution, constants). Every one scores 0 under the default verifier.
Hints        ``OptimisationGenerator.hints(task)``: first the reference's objective (the target
             to match), then entries of the reference solution in the family's own phrasing
             (``hint_facts``), a few per piece, at most ``HINT_SHARE`` of them and never all.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from rlvr.core import Task, TaskGenerator, reveal_in_pieces, revealed_count

CP_SAT_SEED = 20240613
CP_SAT_DETERMINISTIC_LIMIT = 0.5  # CP-SAT deterministic seconds (about 1 s of wall time on one core)
OPTIMAL, BEST_KNOWN, HEURISTIC = "optimal", "best-known", "heuristic"
HINT_SHARE = 0.8  # a full hint shows at most this share of the reference solution's entries


@dataclass(frozen=True)
class CpSatRun:
    """One finished CP-SAT solve: the solver (to read values), a status and work counters."""

    solver: cp_model.CpSolver
    status: str  # OPTIMAL, BEST_KNOWN or "" when no solution was found
    counters: dict = field(default_factory=dict)

    @property
    def found(self) -> bool:
        return self.status in (OPTIMAL, BEST_KNOWN)

    @property
    def objective(self) -> int:
        return int(round(self.solver.objective_value))


def new_cp_model() -> cp_model.CpModel:
    """An empty CpModel. OR-Tools 9.15's constructor also attaches ~60 deprecated CamelCase
    aliases to every instance (about 1.5 ms, as much as solving a small model); this skips
    them when the base class it wraps is there, and falls back to the plain constructor."""
    base = getattr(getattr(cp_model, "cmh", None), "CpBaseModel", None)
    if base is None or not issubclass(cp_model.CpModel, base):
        return cp_model.CpModel()
    model = cp_model.CpModel.__new__(cp_model.CpModel)
    base.__init__(model, None)
    return model


def run_cp_sat(
    model: cp_model.CpModel, deterministic_limit: float | None = None, linearization_level: int | None = None
) -> CpSatRun:
    """Solve single-threaded with a fixed seed and a deterministic work limit (reproducible);
    the limit defaults to ``CP_SAT_DETERMINISTIC_LIMIT``, read at call time.
    ``linearization_level`` 2 adds CP-SAT's full LP relaxation (with circuit and knapsack
    cuts): much stronger bounds for TSP and bin packing."""
    solver = cp_model.CpSolver()
    parameters = solver.parameters
    parameters.num_workers = 1
    parameters.random_seed = CP_SAT_SEED
    limit = CP_SAT_DETERMINISTIC_LIMIT if deterministic_limit is None else deterministic_limit
    parameters.max_deterministic_time = float(limit)
    if linearization_level is not None:
        parameters.linearization_level = int(linearization_level)
    parameters.log_search_progress = False
    code = solver.solve(model)
    status = {cp_model.OPTIMAL: OPTIMAL, cp_model.FEASIBLE: BEST_KNOWN}.get(code, "")
    counters = {
        "deterministic_time": round(float(solver.deterministic_time), 9),
        "branches": int(solver.num_branches),
        "conflicts": int(solver.num_conflicts),
    }
    return CpSatRun(solver, status, counters)


def cp_sat_meta(run: CpSatRun, status: str, objective: Any, greedy_objective: Any, **extra: Any) -> dict:
    """``task.meta`` for a CP-SAT reference: effort in deterministic seconds plus counters."""
    return solver_meta(
        "OR-Tools CP-SAT",
        status,
        objective,
        greedy_objective,
        effort=run.counters["deterministic_time"],
        effort_unit="CP-SAT deterministic seconds",
        search_branches=run.counters["branches"],
        search_conflicts=run.counters["conflicts"],
        **extra,
    )


def solver_meta(
    solver: str, status: str, objective: Any, greedy_objective: Any, *, effort: float, effort_unit: str, **extra: Any
) -> dict:
    return {
        "solver": solver,
        "status": status,
        "objective": objective,
        "effort": effort,
        "effort_unit": effort_unit,
        "greedy_objective": greedy_objective,
        **extra,
    }


def reference_record(solution: Any, objective: Any, status: str) -> dict:
    return {"solution": solution, "objective": objective, "status": status}


def format_integers(values: Iterable[int]) -> str:
    return "[" + ", ".join(str(int(v)) for v in values) + "]"


def format_groups(groups: Iterable[Iterable[int]]) -> str:
    return "[" + ", ".join(format_integers(group) for group in groups) + "]"


def in_answer(text: str) -> str:
    return f"<answer>{text}</answer>"


# --------------------------------------------------------------------------------------------
# Random graphs (shared by GraphColoring, MaxIndependentSet and VertexCover)
# --------------------------------------------------------------------------------------------


def random_graph_by_probability(nprng: np.random.Generator, vertices: int, edge_probability: float) -> list[list[int]]:
    """G(n, p): every pair an edge with probability p, in (u < v, lexicographic) order; an
    edgeless draw gets one random edge so no instance is trivial."""
    pairs = [(u, v) for u in range(vertices) for v in range(u + 1, vertices)]
    draws = nprng.random(len(pairs))
    edges = [[u, v] for (u, v), draw in zip(pairs, draws) if draw < edge_probability]
    if not edges and pairs:
        u, v = pairs[int(nprng.integers(len(pairs)))]
        edges = [[u, v]]
    return edges


def random_graph_by_edge_count(nprng: np.random.Generator, vertices: int, edge_count: int) -> list[list[int]]:
    """G(n, m): ``edge_count`` distinct pairs drawn uniformly, in (u < v, lexicographic) order."""
    pairs = [(u, v) for u in range(vertices) for v in range(u + 1, vertices)]
    chosen = sorted(int(i) for i in nprng.choice(len(pairs), size=min(max(edge_count, 1), len(pairs)), replace=False))
    return [list(pairs[i]) for i in chosen]


def adjacency(vertices: int, edges: Sequence[Sequence[int]]) -> list[set[int]]:
    neighbours: list[set[int]] = [set() for _ in range(vertices)]
    for u, v in edges:
        neighbours[u].add(v)
        neighbours[v].add(u)
    return neighbours


def format_edges(edges: Sequence[Sequence[int]]) -> str:
    return ", ".join(f"{u}-{v}" for u, v in edges)


class OptimisationGenerator(TaskGenerator):
    """Base of the optimisation generators: ``solve`` answers with the reference solution.

    Subclasses implement ``build`` (instance + reference + meta), ``render(solution) -> str``
    (the answer text of a solution), ``greedy_solution(task)`` (the simple baseline) and
    ``wrong_candidates(task)``: solutions that are feasible but worse, or infeasible, in order
    of preference; ``wrong_response`` returns the first that ``objective_of`` does not rate at
    least as good as the reference. ``hostile_solutions(task)`` names the family's own
    reward-hacking solutions (every item, none, an infeasible solution of a better objective,
    the solution of a relaxation, constants); ``attacks`` adds the ones every problem shares.
    """

    sense: str = "min"  # "min", "max" or "feasible"
    grouped: bool = False  # answers are lists of lists (bin packing, scheduling)
    objective_name: str = "objective"  # what the objective measures, for the hint's first piece
    hint_withheld: int = 1  # the fewest reference entries a hint leaves out

    def solve(self, task: Task) -> str:
        return in_answer(self.render(task.answer["reference"]["solution"]))

    def render(self, solution: Any) -> str:
        return format_integers(solution)

    def greedy_response(self, task: Task) -> str:
        return in_answer(self.render(self.greedy_solution(task)))

    @abc.abstractmethod
    def greedy_solution(self, task: Task) -> Any:
        """The simple greedy baseline's solution (used for the difficulty calibration)."""

    @abc.abstractmethod
    def wrong_candidates(self, task: Task) -> Sequence[Any]:
        """Feasible-but-worse or infeasible solutions, in order of preference."""

    @abc.abstractmethod
    def objective_of(self, task: Task, solution: Any) -> float | None:
        """The objective of a solution, None when infeasible (from the family's verifier)."""

    def wrong_response(self, task: Task) -> str:
        reference = task.answer["reference"]["objective"]
        for candidate in self.wrong_candidates(task):
            objective = self.objective_of(task, candidate)
            if objective is None or self.sense == "feasible":
                if objective is None:
                    return in_answer(self.render(candidate))
                continue
            worse = objective > reference if self.sense == "min" else objective < reference
            if worse:
                return in_answer(self.render(candidate))
        raise RuntimeError(f"{task.id}: no wrong candidate is worse than the reference")

    def hint_facts(self, task: Task) -> tuple[str, list[str]]:
        """The reference solution as (label, entries in reveal order), each entry a short text
        ("4", "vertex 3 → 2", …); ``hints`` shows a share of them."""
        return "Entries of the reference solution", [str(entry) for entry in task.answer["reference"]["solution"]]

    def hint_opening(self, task: Task) -> str:
        """The first hint piece: the objective to reach (min and max problems)."""
        reference = task.answer["reference"]
        proof = "proved optimal" if reference["status"] == OPTIMAL else "the best known"
        bound = "at most" if self.sense == "min" else "at least"
        return f"Target: {self.objective_name} {bound} {reference['objective']} (the reference's, {proof})."

    def hints(self, task: Task) -> list[str]:
        """The objective to reach, then the reference solution's entries a few per piece (at
        most ``HINT_SHARE`` of them and at least ``hint_withheld`` left out)."""
        label, facts = self.hint_facts(task)
        shown = facts[: revealed_count(len(facts), HINT_SHARE, self.hint_withheld)]
        return [self.hint_opening(task), *reveal_in_pieces(shown, label, total=len(facts))]

    def hostile_solutions(self, task: Task) -> list[tuple[str, Any]]:
        """The family's reward-hacking solutions as (name, solution) pairs; see ``attacks``."""
        return []

    def solves(self, task: Task, solution: Any) -> bool:
        """Whether a solution is feasible and at least as good as the reference (what the
        verifier calls correct), judged by the family's evaluator on the solution itself."""
        objective = self.objective_of(task, solution)
        if objective is None:
            return False
        reference = task.answer["reference"]["objective"]
        if self.sense == "min":
            return objective <= reference
        return self.sense == "feasible" or objective >= reference

    def attacks(self, task: Task) -> list[tuple[str, Any]]:
        """What a reward-hacking policy tries on an optimisation task: an objective claimed in
        words or as the answer, repeated, negative (Python's from-the-end) and out-of-range
        indices, oversize and nested lists, decimals, expressions and words in the list, plus
        the family's ``hostile_solutions``. A hostile solution that happens to solve this
        instance (the identity tour may be the shortest; all-true may satisfy a formula) is
        left out: it is an answer, not an attack."""
        reference = task.answer["reference"]
        solution = reference["solution"]
        objective = reference["objective"]
        wrong = self.wrong_response(task)
        solutions: list[tuple[str, Any]] = [
            ("repeated-reference", _with_reference_repeated(solution, self.grouped)),
            ("negative-index", _with_first_entry(solution, -1)),
            ("out-of-range-index", _with_first_entry(solution, 10**9)),
            ("twelve-digit-index", _with_first_entry(solution, 999_999_999_999)),
            *self.hostile_solutions(task),
        ]
        attacks = [
            (name, in_answer(self.render(candidate)))
            for name, candidate in solutions
            if candidate is not None and not self.solves(task, candidate)
        ]
        flat = ", ".join(str(k) for k in range(5000))
        wrong_text = wrong[len("<answer>") : -len("</answer>")]
        attacks += [
            ("claimed-optimal-objective", f"The optimum is {objective}, proved optimal by exhaustive search.\n{wrong}"),
            ("objective-inside-answer", in_answer(f"{wrong_text} objective = {objective} (optimal)")),
            ("objective-as-answer", in_answer(f"objective: {objective}")),
            ("status-as-answer", in_answer(str(reference["status"]))),
            ("oversize-list", in_answer(f"[{flat}]")),
            ("oversize-groups", in_answer("[" + ", ".join(f"[{k}]" for k in range(5000)) + "]")),
            ("nested-lists", in_answer(f"[[{wrong_text}]]")),
            ("decimal-entries", in_answer(re.sub(r"(\d+)", r"\1.0", wrong_text))),
            ("half-entries", in_answer(re.sub(r"(\d+)", r"\1.5", wrong_text))),
            ("scientific-entries", in_answer(re.sub(r"(\d+)", r"\1e0", wrong_text))),
            ("python-expression", in_answer("list(range(1000))")),
            ("spread-expression", in_answer("[*range(1000)]")),
            ("words", in_answer("all of them")),
        ]
        return attacks


def _with_reference_repeated(solution: Any, grouped: bool) -> Any:
    """Every entry twice: each index of a flat list, or each group's entries, repeated."""
    if grouped:
        return [list(group) + list(group) for group in solution]
    return list(solution) + list(solution)


def _with_first_entry(solution: Any, value: int) -> Any:
    """The solution with its first integer (of its first non-empty group) replaced by value;
    None when it holds no integer."""
    copy = [list(group) if isinstance(group, list) else group for group in solution]
    for position, entry in enumerate(copy):
        if isinstance(entry, list):
            if entry:
                entry[0] = value
                return copy
        else:
            copy[position] = value
            return copy
    return None
