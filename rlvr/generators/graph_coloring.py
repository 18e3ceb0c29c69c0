"""How GraphColoring tasks are made: G(n, p) graphs, first fit, the maximum clique, the
incremental MiniSat k-colouring search, DSatur, wrong and hostile colourings.

The family's contract (task, answer, verifier, solver, difficulty, version history) is the
docstring of ``rlvr.families.graph_coloring``.
"""

from __future__ import annotations

import random
from typing import Any

import networkx as nx
import numpy as np
from pysat.solvers import Solver

from rlvr.core import Task
from rlvr.families.graph_coloring import FAMILY
from rlvr.generators.optimisation import (
    HEURISTIC,
    OPTIMAL,
    OptimisationGenerator,
    adjacency,
    format_edges,
    random_graph_by_probability,
    reference_record,
    solver_meta,
)
from rlvr.generators.problem_forms import graph_form
from rlvr.verifiers.graph_coloring import evaluate_colouring

SAT_SOLVER = "minisat22"
CONFLICT_BUDGET = (
    20_000  # over all k-colouring decisions of a task; a conflict budget (not a clock) keeps solves reproducible
)
EXACT_CLIQUE_MAX_VERTICES = 60  # above this, a greedy clique (the exact search can take seconds on large dense graphs)


def first_fit_colouring(vertices: int, edges: list[list[int]]) -> list[int]:
    neighbours = adjacency(vertices, edges)
    colours = [0] * vertices
    for vertex in range(vertices):
        taken = {colours[u] for u in neighbours[vertex] if u < vertex}
        colours[vertex] = next(c for c in range(1, vertices + 1) if c not in taken)
    return colours


def as_graph(vertices: int, edges: list[list[int]]) -> nx.Graph:
    graph = nx.Graph()
    graph.add_nodes_from(range(vertices))
    graph.add_edges_from(map(tuple, edges))
    return graph


def dsatur_colouring(graph: nx.Graph) -> list[int]:
    colouring = nx.coloring.greedy_color(graph, strategy="DSATUR")
    return canonical_colours([colouring[v] + 1 for v in range(graph.number_of_nodes())])


def canonical_colours(colours: list[int]) -> list[int]:
    """Renumber colours 1, 2, … in order of first appearance (same classes, same count)."""
    names: dict[int, int] = {}
    return [names.setdefault(c, len(names) + 1) for c in colours]


def neighbour_bits(vertices: int, edges: list[list[int]]) -> list[int]:
    """Each vertex's neighbours as the bits of one integer."""
    bits = [0] * vertices
    for u, v in edges:
        bits[u] |= 1 << v
        bits[v] |= 1 << u
    return bits


def maximum_clique(vertices: int, edges: list[list[int]]) -> list[int]:
    """A largest clique on up to EXACT_CLIQUE_MAX_VERTICES vertices (branch and bound over
    bitsets, pruned by a greedy colouring of the candidates: a clique takes at most one vertex
    per colour class), else a greedy one; highest degree first. Every colouring needs at least
    its size in colours."""
    bits = neighbour_bits(vertices, edges)
    degree = [bin(b).count("1") for b in bits]
    if vertices > EXACT_CLIQUE_MAX_VERTICES:
        clique: list[int] = []
        for vertex in sorted(range(vertices), key=lambda v: (-degree[v], v)):
            if all(bits[vertex] >> member & 1 for member in clique):
                clique.append(vertex)
        return clique
    best: list[int] = []

    def expand(clique: list[int], candidates: int) -> None:
        nonlocal best
        if not candidates:
            if len(clique) > len(best):
                best = clique
            return
        order, bounds = [], []
        uncoloured, colour = candidates, 0
        while uncoloured:
            colour += 1
            available = uncoloured
            while available:
                lowest = available & -available
                vertex = lowest.bit_length() - 1
                available &= ~bits[vertex] & ~lowest
                uncoloured &= ~lowest
                order.append(vertex)
                bounds.append(colour)
        for index in range(len(order) - 1, -1, -1):
            if len(clique) + bounds[index] <= len(best):
                return
            vertex = order[index]
            expand(clique + [vertex], candidates & bits[vertex])
            candidates &= ~(1 << vertex)

    expand([], (1 << vertices) - 1)
    return sorted(best, key=lambda v: (-degree[v], v))


def sat_colouring(
    vertices: int, edges: list[list[int]], clique: list[int], colours: int
) -> tuple[list[int] | None, str, dict]:
    """The fewest colours, below ``colours``, by MiniSat (python-sat): (colouring or None, status,
    counters). One incremental formula over ``colours − 1`` colours: Booleans x(v, c), each vertex
    some colour, no edge with one colour at both ends, the clique's vertices fixed to colours
    1…q (any colouring can be renamed so; a neighbour of the clique vertex of colour c never
    takes c). Then k = q, q + 1, … is tried under assumptions that forbid colours above k: the
    first k that is satisfiable is the optimum ("optimal", colouring); all unsatisfiable means
    ``colours`` is optimal ("optimal", None). The decisions share CONFLICT_BUDGET conflicts
    (deterministic); when they run out: (None, "", counters)."""
    palette = colours - 1
    fixed = {vertex: colour for colour, vertex in enumerate(clique)}
    banned = [set() for _ in range(vertices)]
    for u, v in edges:
        if u in fixed:
            banned[v].add(fixed[u])
        if v in fixed:
            banned[u].add(fixed[v])
    allowed = [[fixed[v]] if v in fixed else [c for c in range(palette) if c not in banned[v]] for v in range(vertices)]

    def var(vertex: int, colour: int) -> int:
        return vertex * palette + colour + 1

    counters = {"sat_calls": 0, "conflicts": 0}
    with Solver(name=SAT_SOLVER) as solver:
        for vertex in range(vertices):
            solver.add_clause([var(vertex, c) for c in allowed[vertex]])
        for u, v in edges:
            shared = set(allowed[u]).intersection(allowed[v])
            for c in sorted(shared):
                solver.add_clause([-var(u, c), -var(v, c)])
        for k in range(len(clique), palette + 1):
            forbidden = [-var(v, c) for v in range(vertices) for c in allowed[v] if c >= k]
            solver.conf_budget(max(1, CONFLICT_BUDGET - counters["conflicts"]))
            verdict = solver.solve_limited(assumptions=forbidden)
            counters["sat_calls"] += 1
            counters["conflicts"] = int(solver.accum_stats().get("conflicts", 0))
            if verdict is None:
                return None, "", counters
            if verdict:
                true = {literal for literal in solver.get_model() if literal > 0}
                found = [next(c + 1 for c in allowed[v] if var(v, c) in true) for v in range(vertices)]
                return canonical_colours(found), OPTIMAL, counters
    return None, OPTIMAL, counters


def optimal_colouring(vertices: int, edges: list[list[int]], first_fit: list[int]) -> tuple[list[int], str, dict]:
    """(colours, status, counters): ``first_fit`` (its colouring) for an upper bound, a maximum clique for a lower
    bound (done when they meet), else ``sat_colouring`` below first fit's count. When the
    conflict budget runs out, the better of first fit and DSatur stands ("heuristic", or
    "optimal" if it meets the clique)."""
    colours = canonical_colours(first_fit)
    clique = maximum_clique(vertices, edges)
    counters = {"clique_size": len(clique), "sat_calls": 0, "conflicts": 0}
    if max(colours) == len(clique):
        return colours, OPTIMAL, counters
    better, status, solved = sat_colouring(vertices, edges, clique, max(colours))
    counters.update(solved)
    if status == OPTIMAL:
        return better or colours, OPTIMAL, counters
    colours = min(colours, dsatur_colouring(as_graph(vertices, edges)), key=max)
    return colours, OPTIMAL if max(colours) == len(clique) else HEURISTIC, counters


class GraphColoringGenerator(OptimisationGenerator):
    declaration = FAMILY
    sense = "min"
    objective_name = "number of colours"

    def hint_facts(self, task: Task) -> tuple[str, list[str]]:
        colours = task.answer["reference"]["solution"]
        return "Colours of the reference colouring (vertex → colour)", [f"{v} → {c}" for v, c in enumerate(colours)]

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        vertices, probability = params["vertices"], params["edge_probability"]
        edges = random_graph_by_probability(nprng, vertices, probability)
        greedy = first_fit_colouring(vertices, edges)
        colours, status, counters = optimal_colouring(vertices, edges, greedy)
        prompt = (
            f"Graph colouring. The graph has {vertices} vertices, numbered 0 to {vertices - 1}, and {len(edges)} "
            f"edges:\n{format_edges(edges)}\n\n"
            f"Give every vertex a colour so that the two ends of each edge have different colours, using as few "
            f"different colours as possible. Colours are integers from 1 to {vertices}.\n"
            f"Answer with the list of the {vertices} colours in vertex order (the first number is the colour of "
            "vertex 0). "
            f"Put only the list inside <answer>…</answer>, in the form <answer>[1, 2, 1, 3, …]</answer> "
            f"(this shows the form only; write out all {vertices} colours)"
        )
        return {
            "prompt": prompt,
            "answer": {
                "instance": {"vertices": vertices, "edges": edges},
                "reference": reference_record(colours, max(colours), status),
            },
            "meta": solver_meta(
                f"maximum clique + {SAT_SOLVER} k-colouring (python-sat)",
                status,
                max(colours),
                max(greedy),
                effort=counters["conflicts"],
                effort_unit="SAT conflicts",
                edges=len(edges),
                **counters,
            ),
        }

    def split_group(self, task: Task) -> Any:
        """The graph up to renumbering its vertices (``problem_forms.graph_form``): the same
        graph with its vertices numbered otherwise is on one side."""
        instance = task.answer["instance"]
        return ["graph-colouring", graph_form(int(instance["vertices"]), instance["edges"])]

    def greedy_solution(self, task: Task) -> list[int]:
        instance = task.answer["instance"]
        return first_fit_colouring(int(instance["vertices"]), instance["edges"])

    def objective_of(self, task: Task, solution: list[int]) -> float | None:
        instance = task.answer["instance"]
        return evaluate_colouring(int(instance["vertices"]), instance["edges"], solution).objective

    def wrong_candidates(self, task: Task):
        """First fit (when it needs more colours); the reference with one vertex of a shared
        colour moved to a fresh colour (one colour more); then an edge's ends sharing a colour."""
        instance = task.answer["instance"]
        colours = list(task.answer["reference"]["solution"])
        yield self.greedy_solution(task)
        for vertex, colour in enumerate(colours):
            if colours.count(colour) > 1:
                yield colours[:vertex] + [max(colours) + 1] + colours[vertex + 1 :]
                break
        u, v = instance["edges"][0]
        clash = list(colours)
        clash[v] = clash[u]
        yield clash

    def hostile_solutions(self, task: Task) -> list[tuple[str, list[int]]]:
        """One colour for all (the fewest colours, infeasible), colour 0 for all, a colour
        per vertex (feasible, many colours), too few entries, colours beyond n."""
        vertices = int(task.answer["instance"]["vertices"])
        colours = list(task.answer["reference"]["solution"])
        return [
            ("one-colour", [1] * vertices),
            ("colour-zero", [0] * vertices),
            ("colour-per-vertex", list(range(1, vertices + 1))),
            ("too-few-colours-listed", colours[:-1]),
            ("colour-beyond-n", [vertices + 1] + colours[1:]),
            ("fewer-colours-by-merging", [min(c, 2) for c in colours]),
            ("empty-colouring", []),
        ]
