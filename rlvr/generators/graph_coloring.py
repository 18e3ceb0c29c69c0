"""GraphColoring: colour the vertices of a random graph with as few colours as possible.

Task        A G(n, p) random graph: ``vertices`` numbered 0…n−1, each pair joined with
            probability ``edge_probability`` (an edgeless draw gets one edge). The prompt lists
            the edges as ``u-v`` pairs.
Answer      ``<answer>[c0, c1, …, c(n−1)]</answer>``: the colour of each vertex in vertex order,
            colours being integers 1…n. ``task.answer`` = {"instance": {"vertices", "edges"},
            "reference": {"solution": colours (renumbered by first appearance), "objective":
            colour count, "status"}}.
Verifier    rlvr.verifiers.graph_coloring.GraphColoringVerifier: n colours in 1…n and no edge with
            equal colours at both ends, else 0; then reward 1 (correct) when using no more colours
            than the reference, else 0; with ``partial=True`` a feasible answer earns min(1,
            reference colours / colours used).
Solver      OR-Tools CP-SAT, assignment formulation: a Boolean per (vertex, colour) for colours
            below the DSatur bound, a "colour used" Boolean per colour with used[c] ≥ used[c+1],
            a greedy clique fixed to colours 1…q (symmetry breaking and lower bound); minimise
            the colours used. Exact within ``CP_SAT_DETERMINISTIC_LIMIT`` deterministic seconds;
            otherwise the better of CP-SAT's best and DSatur ("best-known" / "heuristic";
            "optimal" whenever the count equals the clique's size).
Greedy      First fit in vertex order (each vertex takes the smallest colour unused by its
            lower-numbered neighbours): ``meta["greedy_objective"]``.
Effort      CP-SAT deterministic seconds (``meta["effort"]``), plus branches and conflicts.

Difficulty  d      vertices   edge_probability
            0.0    8          0.4
            0.25   13         0.425
            0.5    18         0.45
            0.75   24         0.475
            1.0    30         0.5
            ``vertices`` 2–120 and ``edge_probability`` 0.01–1 may be set explicitly.
            Generation with the exact solve takes ≈ 15–25 ms on average at d = 1. Mean first-fit
            gap (1 − its ratio) ≈ 0.07 at d = 0, 0.18 at d = 0.5, 0.22 at d = 1; CP-SAT effort
            rises about 300-fold (benchmarks/bench_optimisation.py). d = 0 has 8 vertices, not 6:
            on 6 a fixed colouring was optimal on 7.5 % of the tasks, on 8 on about 2 %
            (benchmarks/bench_constant_policy.py).
"""

from __future__ import annotations

import random

import networkx as nx
import numpy as np

from rlvr.core import DifficultyTable, Task
from rlvr.generators.optimisation import (
    HEURISTIC, OPTIMAL, OptimisationGenerator, adjacency, checked_float, checked_int, cp_sat_meta, format_edges,
    new_cp_model, random_graph_by_probability, reference_record, run_cp_sat,
)
from rlvr.verifiers.graph_coloring import evaluate_colouring

MAX_VERTICES = 120


def first_fit_colouring(vertices: int, edges: list[list[int]]) -> list[int]:
    neighbours = adjacency(vertices, edges)
    colours = [0] * vertices
    for vertex in range(vertices):
        taken = {colours[u] for u in neighbours[vertex] if u < vertex}
        colours[vertex] = next(c for c in range(1, vertices + 1) if c not in taken)
    return colours


def dsatur_colouring(vertices: int, edges: list[list[int]]) -> list[int]:
    graph = nx.Graph()
    graph.add_nodes_from(range(vertices))
    graph.add_edges_from(map(tuple, edges))
    colouring = nx.coloring.greedy_color(graph, strategy="DSATUR")
    return canonical_colours([colouring[v] + 1 for v in range(vertices)])


def canonical_colours(colours: list[int]) -> list[int]:
    """Renumber colours 1, 2, … in order of first appearance (same classes, same count)."""
    names: dict[int, int] = {}
    return [names.setdefault(c, len(names) + 1) for c in colours]


def greedy_clique(vertices: int, edges: list[list[int]]) -> list[int]:
    """A maximal clique grown from the highest-degree vertex, highest degree first."""
    neighbours = adjacency(vertices, edges)
    order = sorted(range(vertices), key=lambda v: (-len(neighbours[v]), v))
    clique: list[int] = []
    for vertex in order:
        if all(vertex in neighbours[member] for member in clique):
            clique.append(vertex)
    return clique


def solve_exact(vertices: int, edges: list[list[int]], upper_bound: int):
    """CP-SAT with at most ``upper_bound`` colours: (run, colours or None)."""
    model = new_cp_model()
    palette = range(upper_bound)
    assign = [[model.new_bool_var(f"x_{v}_{c}") for c in palette] for v in range(vertices)]
    used = [model.new_bool_var(f"used_{c}") for c in palette]
    for v in range(vertices):
        model.add_exactly_one(assign[v])
        for c in palette:
            model.add_implication(assign[v][c], used[c])
    for u, v in edges:
        for c in palette:
            model.add_at_most_one([assign[u][c], assign[v][c]])
    for c in range(upper_bound - 1):
        model.add_implication(used[c + 1], used[c])
    clique = greedy_clique(vertices, edges)
    for colour, vertex in enumerate(clique[:upper_bound]):
        model.add(assign[vertex][colour] == 1)
    model.add(sum(used) >= min(len(clique), upper_bound))
    model.minimize(sum(used))
    run = run_cp_sat(model)
    if not run.found:
        return run, None
    colours = [next(c + 1 for c in palette if run.solver.boolean_value(assign[v][c])) for v in range(vertices)]
    return run, canonical_colours(colours)


class GraphColoringGenerator(OptimisationGenerator):
    family = "graph_coloring"
    env_id = "rlvr/GraphColoring-v0"
    sense = "min"
    table = DifficultyTable({
        0.0: {"vertices": 8, "edge_probability": 0.4},
        0.5: {"vertices": 18, "edge_probability": 0.45},
        1.0: {"vertices": 30, "edge_probability": 0.5},
    })

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        vertices = checked_int(params, "vertices", 2, MAX_VERTICES)
        probability = checked_float(params, "edge_probability", 0.01, 1.0)
        edges = random_graph_by_probability(nprng, vertices, probability)
        heuristic = dsatur_colouring(vertices, edges)
        run, colours = solve_exact(vertices, edges, max(heuristic))
        status = run.status
        if colours is None or max(colours) > max(heuristic):
            colours, status = heuristic, HEURISTIC
        if max(colours) == len(greedy_clique(vertices, edges)):
            status = OPTIMAL  # a clique needs as many colours
        greedy = first_fit_colouring(vertices, edges)
        prompt = (
            f"Graph colouring. The graph has {vertices} vertices, numbered 0 to {vertices - 1}, and {len(edges)} edges:\n"
            f"{format_edges(edges)}\n\n"
            f"Give every vertex a colour so that the two ends of each edge have different colours, using as few "
            f"different colours as possible. Colours are integers from 1 to {vertices}.\n"
            f"Answer with the list of the {vertices} colours in vertex order (the first number is the colour of vertex 0). "
            f"Put only the list inside <answer>…</answer>, in the form <answer>[1, 2, 1, 3, …]</answer> "
            f"(this shows the form only; write out all {vertices} colours)"
        )
        return {
            "prompt": prompt,
            "answer": {"instance": {"vertices": vertices, "edges": edges},
                       "reference": reference_record(colours, max(colours), status)},
            "meta": cp_sat_meta(run, status, max(colours), max(greedy), edges=len(edges)),
        }

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
                yield colours[:vertex] + [max(colours) + 1] + colours[vertex + 1:]
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
        return [("one-colour", [1] * vertices), ("colour-zero", [0] * vertices),
                ("colour-per-vertex", list(range(1, vertices + 1))), ("too-few-colours-listed", colours[:-1]),
                ("colour-beyond-n", [vertices + 1] + colours[1:]), ("fewer-colours-by-merging", [min(c, 2) for c in colours]),
                ("empty-colouring", [])]
