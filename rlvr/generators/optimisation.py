"""Shared machinery of the NP-hard optimisation generators: deterministic CP-SAT runs, the exact
independent-set branch and bound (MaxIndependentSet, VertexCover), numpy's small draws replayed
without their call overhead (``NumpyWords``: SAT, SetCover), the reference record, solver
metadata, answer rendering, random graphs and the attacks every problem shares. Each problem's
contract is its family module (``rlvr.families.tsp``, …), whose typed table checks explicit
parameters before ``build`` runs.

Determinism  Every reference solve must give the same answer in any process, so the branch
             and bound (``maximum_independent_set``) counts nodes, not time, and CP-SAT runs
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
             deterministic seconds, DP cells or states, branch-and-bound search nodes or SAT
             conflicts; ``effort_unit`` names it), solver counters, and ``greedy_objective``:
             the objective of the family's simple greedy baseline on the same instance
             (``greedy_gap`` = 1 − its quality ratio, the ``ratio`` of its verdict).
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
import functools
import hashlib
import re
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from rlvr.core import Task, TaskGenerator, reveal_in_pieces, revealed_count

CP_SAT_SEED = 20240613
CP_SAT_DETERMINISTIC_LIMIT = 0.5  # CP-SAT deterministic seconds (about 1 s of wall time on one core)
OPTIMAL, BEST_KNOWN, HEURISTIC = "optimal", "best-known", "heuristic"
HINT_SHARE = 0.8  # a full hint shows at most this share of the reference solution's entries
INDEPENDENT_SET_NODE_LIMIT = 20_000  # branch-and-bound nodes before CP-SAT takes over (< 1 s at 150 vertices)


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
    model: cp_model.CpModel,
    deterministic_limit: float | None = None,
    linearization_level: int | None = None,
    presolve: bool = True,
    settings: Mapping[str, Any] | None = None,
) -> CpSatRun:
    """Solve single-threaded with a fixed seed and a deterministic work limit (reproducible);
    the limit defaults to ``CP_SAT_DETERMINISTIC_LIMIT``, read at call time.
    ``linearization_level`` 2 adds CP-SAT's full LP relaxation (with circuit and knapsack
    cuts): much stronger bounds for TSP and bin packing; 0 drops the LP (job shop: its
    scheduling propagators do the work). ``presolve=False`` skips CP-SAT's presolve (small
    models the caller already gave tight domains). ``settings`` sets further CP-SAT parameters by
    name (a family's tuned search: job shop's ``JOB_SHOP_CP_SAT_PARAMETERS``), after these."""
    solver = cp_model.CpSolver()
    parameters = solver.parameters
    parameters.num_workers = 1
    parameters.random_seed = CP_SAT_SEED
    limit = CP_SAT_DETERMINISTIC_LIMIT if deterministic_limit is None else deterministic_limit
    parameters.max_deterministic_time = float(limit)
    if linearization_level is not None:
        parameters.linearization_level = int(linearization_level)
    if not presolve:
        parameters.cp_model_presolve = False
    parameters.log_search_progress = False
    for name, value in (settings or {}).items():
        setattr(parameters, name, value)
    code = solver.solve(model)
    status = {cp_model.OPTIMAL: OPTIMAL, cp_model.FEASIBLE: BEST_KNOWN}.get(code, "")
    counters = {
        "deterministic_time": deterministic_seconds(solver.deterministic_time),
        "branches": int(solver.num_branches),
        "conflicts": int(solver.num_conflicts),
    }
    return CpSatRun(solver, status, counters)


DETERMINISTIC_TIME_GUARD = 1e-12  # far above the last-bit wobble, far below the 1e-9 kept


def deterministic_seconds(value: float) -> float:
    """CP-SAT's deterministic time as task bytes keep it: 9 decimals, a tie rounded up. Its
    sums of round increments often land on a tie at the 10th decimal, and which side of it the
    double falls (one unit in the last place) depends on the process (what was imported first:
    0.0004079715 and 0.00040797150000000004 for one SetCover task), so plain rounding gave
    0.000407971 in one process and 0.000407972 in another; nudged by a guard far above that
    wobble and far below the kept precision, both give 0.000407972."""
    return round(float(value) + DETERMINISTIC_TIME_GUARD, 9)


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


@functools.lru_cache(maxsize=1024)
def numbered_lines(line: str, separator: str, count: int) -> str:
    """A %-template of ``count`` numbered lines: ``separator``.join of ``line.format(i)`` for i
    in 0…count − 1 (``line`` such as ``"{}: weight %d, value %d"``). Filled once per task,
    ``template % tuple(numbers)`` makes the same text as formatting each line, about three
    times faster (the numbers' index prefixes are written once per count)."""
    return separator.join([line.format(i) for i in range(count)])


def format_integers(values: Iterable[int]) -> str:
    return "[" + ", ".join(str(int(v)) for v in values) + "]"


def format_groups(groups: Iterable[Iterable[int]]) -> str:
    return "[" + ", ".join(format_integers(group) for group in groups) + "]"


def in_answer(text: str) -> str:
    return f"<answer>{text}</answer>"


# --------------------------------------------------------------------------------------------
# numpy's draws without numpy's per-call overhead (SAT clauses, SetCover subsets)
# --------------------------------------------------------------------------------------------

UINT32 = 0xFFFFFFFF


class NumpyWords:
    """The 32-bit words a PCG64 ``np.random.Generator`` would hand its bounded-integer draws,
    read ahead in bulk with ``random_raw``, and those draws done in plain Python, so that a
    run of small numpy calls (``choice``, ``integers``) can be replayed exactly at a fraction
    of their call overhead. The words are the low then the high half of each 64-bit output,
    after a half an earlier 32-bit draw left buffered. ``close()`` puts the generator where the
    replayed numpy calls would have left it (the outputs used, a half left buffered or not);
    use no other draw of the generator between construction and ``close()``. Callers' tests
    compare the replay with the numpy calls themselves (tests/test_optimisation.py)."""

    def __init__(self, nprng: np.random.Generator, expected_words: int = 64) -> None:
        self.bit_generator = nprng.bit_generator
        self.saved = self.bit_generator.state
        self.buffered = 1 if self.saved["has_uint32"] else 0
        self.halves: list[int] = [self.saved["uinteger"]] if self.buffered else []
        self.position = 0
        self.read_ahead = max(16, expected_words // 2 + 8)  # 64-bit outputs per random_raw call

    def read_ahead_for(self, words: int) -> None:
        """Make sure ``words`` more words are read ahead."""
        while len(self.halves) - self.position < words:
            drawn = self.bit_generator.random_raw(max(self.read_ahead, words // 2 + 1))
            split = np.empty(2 * len(drawn), dtype=np.uint64)
            split[0::2] = drawn & np.uint64(UINT32)
            split[1::2] = drawn >> np.uint64(32)
            self.halves.extend(split.tolist())

    def next(self) -> int:
        if self.position == len(self.halves):
            self.read_ahead_for(1)
        self.position += 1
        return self.halves[self.position - 1]

    def bounded(self, top: int) -> int:
        """Uniform in [0, top] (top < 2³²), as numpy draws it: Lemire's multiply-shift of one
        word, drawn again while the product's low half falls below (2³² − 1 − top) mod
        (top + 1); no word at all for top = 0."""
        if top == 0:
            return 0
        span = top + 1
        product = self.next() * span
        if product & UINT32 < span:
            threshold = (UINT32 - top) % span
            while product & UINT32 < threshold:
                product = self.next() * span
        return product >> 32

    def sorted_sample(self, population: int, size: int) -> list[int]:
        """``sorted(choice(population, size, replace=False))`` where numpy samples by Floyd's
        algorithm (population ≤ 10 000, or size ≤ population / 50; population ≤ 2³²): its
        sampling (a draw in [0, j] for j = population − size … population − 1; a value
        already taken takes j instead), then the draws of its Fisher–Yates shuffle, whose
        order sorting discards."""
        tops = [*range(population - size, population), *range(size - 1, 0, -1)]
        self.read_ahead_for(len(tops))
        halves, position = self.halves, self.position
        chosen: set[int] = set()
        for index, top in enumerate(tops):  # ``bounded`` inlined: this loop is most of a SetCover task
            if top == 0:
                value = 0
            else:
                product = halves[position] * (top + 1)
                if product & UINT32 <= top:  # numpy may draw again: take the exact path
                    self.position = position
                    value = self.bounded(top)
                    self.read_ahead_for(len(tops) - index)
                    position = self.position
                else:
                    value = product >> 32
                    position += 1
            if index < size:
                chosen.add(top if value in chosen else value)
        self.position = position
        return sorted(chosen)

    def sorted_samples(self, population: int, sizes: Sequence[int]) -> list[list[int]]:
        """``[sorted_sample(population, size) for size in sizes]``, with the words' bounded
        values computed in one numpy pass (Floyd's set logic stays per sample); a batch in
        which numpy might draw a word again (probability ≈ population / 2³² per word) is
        redone sample by sample on the exact path."""
        tops: list[int] = []
        for size in sizes:
            tops.extend(top for top in range(population - size, population) if top)  # a draw in [0, 0] takes no word
            tops.extend(range(size - 1, 0, -1))
        self.read_ahead_for(len(tops))
        words = np.array(self.halves[self.position : self.position + len(tops)], dtype=np.uint64)
        spans = np.array(tops, dtype=np.uint64) + np.uint64(1)
        products = words * spans
        if bool(((products & np.uint64(UINT32)) < spans).any()):
            return [self.sorted_sample(population, size) for size in sizes]
        values = (products >> np.uint64(32)).tolist()
        samples, cursor = [], 0
        for size in sizes:
            chosen: set[int] = set()
            for top in range(population - size, population):
                if top:
                    value = values[cursor]
                    cursor += 1
                else:
                    value = 0
                chosen.add(top if value in chosen else value)
            cursor += size - 1  # the shuffle's words: their order is sorted away
            samples.append(sorted(chosen))
        self.position += len(tops)
        return samples

    def close(self) -> None:
        from_outputs = max(0, self.position - self.buffered)  # halves taken from the read-ahead outputs
        self.bit_generator.state = self.saved
        self.bit_generator.random_raw(-(-from_outputs // 2))
        state = self.bit_generator.state
        if from_outputs % 2:  # the high half of the last output used stays buffered
            state["has_uint32"], state["uinteger"] = 1, self.halves[self.position]
        elif self.position:  # the last half used was a buffered one: numpy keeps its value, spent
            state["has_uint32"], state["uinteger"] = 0, self.halves[self.position - 1]
        self.bit_generator.state = state


# --------------------------------------------------------------------------------------------
# Draws from the seed material itself (Knapsack, SubsetSum, SAT)
# --------------------------------------------------------------------------------------------

WORD = 1 << 64
LOW_HALF = WORD - 1


class MaterialDraws:
    """Exactly uniform integers from a task's 64-bit seed material (``DeferredRandom.material``,
    for a generator with ``eager_random = False``), for families whose whole task is a few
    dozen draws: starting one costs about a microsecond, where seeding ``random.Random`` costs
    about five and numpy's generator about fifteen, and a draw is one multiplication. The
    stream is the little-endian 64-bit words of SHAKE-256 (hashlib) of the material's 8
    little-endian bytes, read ahead in one call (a longer digest extends a shorter one, so
    reading further keeps the words already read). An integer in [0, span) is Lemire's
    multiply-shift of the next word, drawn again while the product's low 64 bits fall below
    2⁶⁴ mod span (a chance below span / 2⁶⁴ per word)."""

    __slots__ = ("position", "seed", "words")

    def __init__(self, material: int, expected_words: int = 8) -> None:
        self.seed = material.to_bytes(8, "little")
        self.words = self.read(max(1, expected_words))
        self.position = 0

    def read(self, count: int) -> tuple[int, ...]:
        return struct.unpack(f"<{count}Q", hashlib.shake_256(self.seed).digest(8 * count))

    def take(self, count: int) -> tuple[int, ...]:
        """The next ``count`` words."""
        end = self.position + count
        if end > len(self.words):
            self.words = self.read(max(end, 2 * len(self.words)))
        taken = self.words[self.position : end]
        self.position = end
        return taken

    def integers(self, low: int, high: int, count: int) -> list[int]:
        """``count`` integers uniform in [low, high] (high − low < 2⁶⁴), drawn in order, each
        from the next word (and the next again while rejected)."""
        span = high - low + 1
        start = self.position
        products = list(map(span.__mul__, self.take(count)))
        if products and span & (span - 1) and min(map(LOW_HALF.__and__, products)) < span:  # maybe rejected:
            self.position = start  # redo them one by one (a power-of-two span never rejects)
            return [low + self.below(span) for _ in range(count)]
        return [low + (product >> 64) for product in products]

    def below(self, span: int) -> int:
        """One integer uniform in [0, span)."""
        threshold = (WORD - span) % span  # 2⁶⁴ mod span
        while True:
            (word,) = self.take(1)
            product = word * span
            if product & LOW_HALF >= threshold:
                return product >> 64

    def bits(self, count: int) -> int:
        """An integer of ``count`` uniform random bits (the next ⌈count / 64⌉ words)."""
        value = 0
        for shift, word in enumerate(self.take(-(-count // 64))):
            value |= word << (64 * shift)
        return value & ((1 << count) - 1)


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


class NodeLimitReached(Exception):
    """A branch and bound spent its node budget before proving its best solution optimal."""


def maximum_independent_set(
    vertices: int, edges: Sequence[Sequence[int]], initial: Sequence[int], node_limit: int
) -> tuple[list[int] | None, int]:
    """A largest independent set, exactly, by branch and bound over bitsets: (sorted vertices or
    None when ``node_limit`` search nodes did not finish the proof, nodes searched).

    Vertices are renumbered by ascending degree (ties to the lower index), then each node
    (1) takes every candidate of degree 0 or 1 among the candidates (some largest set holds
    it), (2) partitions the candidates greedily into cliques (an independent set takes at most
    one vertex of each; clique i bounds the vertices coloured up to i) and (3) branches on the
    candidates from the last clique down, pruning any whose bound cannot beat the best set so
    far, which starts as ``initial`` (an independent set, e.g. a greedy one): a search that
    proves ``initial`` optimal returns it. Deterministic: the same graph gives the same set
    and node count in any process."""
    degree = [0] * vertices
    for u, v in edges:
        degree[u] += 1
        degree[v] += 1
    order = sorted(range(vertices), key=lambda v: (degree[v], v))
    position = [0] * vertices
    for rank, vertex in enumerate(order):
        position[vertex] = rank
    neighbours = [0] * vertices
    for u, v in edges:
        neighbours[position[u]] |= 1 << position[v]
        neighbours[position[v]] |= 1 << position[u]
    best_size, best = len(initial), sum(1 << position[v] for v in initial)
    nodes = 0

    def expand(size: int, chosen: int, candidates: int) -> None:
        nonlocal best_size, best, nodes
        nodes += 1
        if nodes > node_limit:
            raise NodeLimitReached
        reduced = True
        while reduced and candidates:
            reduced, rest = False, candidates
            while rest:
                lowest = rest & -rest
                rest ^= lowest
                if not candidates & lowest:
                    continue
                adjacent = neighbours[lowest.bit_length() - 1] & candidates
                if not adjacent & (adjacent - 1):  # degree 0 or 1 among the candidates
                    chosen |= lowest
                    size += 1
                    candidates &= ~(lowest | adjacent)
                    rest &= ~adjacent
                    reduced = True
        if not candidates:
            if size > best_size:
                best_size, best = size, chosen
            return
        branch_order, bounds = [], []
        uncovered, cliques = candidates, 0
        while uncovered:
            cliques += 1
            available = uncovered
            while available:
                lowest = available & -available
                vertex = lowest.bit_length() - 1
                available &= neighbours[vertex] & ~lowest
                uncovered &= ~lowest
                branch_order.append(vertex)
                bounds.append(cliques)
        for index in range(len(branch_order) - 1, -1, -1):
            if size + bounds[index] <= best_size:
                return
            vertex = branch_order[index]
            bit = 1 << vertex
            expand(size + 1, chosen | bit, candidates & ~neighbours[vertex] & ~bit)
            candidates &= ~bit

    try:
        expand(0, 0, (1 << vertices) - 1)
    except NodeLimitReached:
        return None, nodes
    return sorted(order[rank] for rank in range(vertices) if best >> rank & 1), nodes


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
    # no optimisation generator draws from ``random.Random``: its ``rng`` is seeded only if used
    # (Knapsack, SubsetSum and SAT read its seed material; the others draw from numpy), which
    # saves seeding one per task (~5 µs)
    eager_random = False
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
