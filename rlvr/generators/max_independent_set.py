"""MaxIndependentSet: the largest set of pairwise non-adjacent vertices of a random graph.

Task        A G(n, p) random graph: ``vertices`` numbered 0…n−1, each pair joined with
            probability ``edge_probability`` (an edgeless draw gets one edge); the prompt lists
            the edges as ``u-v`` pairs.
Answer      ``<answer>[v1, v2, …]</answer>``: the vertices of the set, each once, any order.
            ``task.answer`` = {"instance": {"vertices", "edges"}, "reference": {"solution":
            sorted vertices, "objective": size, "status"}}.
Verifier    rlvr.verifiers.max_independent_set.MaxIndependentSetVerifier: distinct valid vertices
            with no edge inside the set, else 0; then reward 1 (correct) when at least as large as
            the reference, else 0; with ``partial=True`` a feasible answer earns min(1, size /
            reference size).
Solver      OR-Tools CP-SAT: a Boolean per vertex, at most one end of every edge, maximise the
            count, with the full LP relaxation (``linearization_level=2``). Exact within
            ``CP_SAT_DETERMINISTIC_LIMIT`` deterministic seconds; otherwise the better of
            CP-SAT's best and the minimum-degree greedy ("best-known" / "heuristic").
Greedy      First fit in vertex order (take a vertex when none of its neighbours is taken):
            ``meta["greedy_objective"]``.
Effort      CP-SAT deterministic seconds (``meta["effort"]``), plus branches and conflicts.

Difficulty  d      vertices   edge_probability
            0.0    8          0.4
            0.25   17         0.325
            0.5    25         0.25
            0.75   38         0.2
            1.0    50         0.15
            ``vertices`` 2–150 and ``edge_probability`` 0.01–1 may be set explicitly.
            Generation with the exact solve takes ≈ 15–25 ms on average at d = 1. Mean first-fit
            gap (1 − its ratio) ≈ 0.11 at d = 0, 0.20 at d = 0.5, 0.19 at d = 1 (flat beyond
            d ≈ 0.3); CP-SAT effort rises about 600-fold (benchmarks/bench_optimisation.py).
            d = 0 has 8 vertices, not 6: on 6 a fixed set ([0, 2, 5]) was a maximum one on
            12.5 % of the tasks, on 8 on about 4 % (benchmarks/bench_constant_policy.py).
"""

from __future__ import annotations

import random

import numpy as np

from rlvr.core import DifficultyTable, Task
from rlvr.generators.optimisation import (
    HEURISTIC, OptimisationGenerator, adjacency, checked_float, checked_int, cp_sat_meta, format_edges, new_cp_model,
    random_graph_by_probability, reference_record, run_cp_sat,
)
from rlvr.verifiers.max_independent_set import evaluate_independent_set

MAX_VERTICES = 150


def first_fit_independent_set(vertices: int, edges: list[list[int]]) -> list[int]:
    neighbours = adjacency(vertices, edges)
    chosen: list[int] = []
    for vertex in range(vertices):
        if not neighbours[vertex] & set(chosen):
            chosen.append(vertex)
    return chosen


def minimum_degree_independent_set(vertices: int, edges: list[list[int]]) -> list[int]:
    """Repeatedly take a vertex of least remaining degree and delete it and its neighbours."""
    neighbours = adjacency(vertices, edges)
    alive = set(range(vertices))
    chosen = []
    while alive:
        vertex = min(alive, key=lambda v: (len(neighbours[v] & alive), v))
        chosen.append(vertex)
        alive -= neighbours[vertex] | {vertex}
    return sorted(chosen)


def solve_exact(vertices: int, edges: list[list[int]]):
    model = new_cp_model()
    take = [model.new_bool_var(f"take_{v}") for v in range(vertices)]
    for u, v in edges:
        model.add_at_most_one([take[u], take[v]])
    model.maximize(sum(take))
    run = run_cp_sat(model, linearization_level=2)
    if not run.found:
        return run, None
    return run, [v for v in range(vertices) if run.solver.boolean_value(take[v])]


class MaxIndependentSetGenerator(OptimisationGenerator):
    family = "max_independent_set"
    env_id = "rlvr/MaxIndependentSet-v0"
    sense = "max"
    table = DifficultyTable({
        0.0: {"vertices": 8, "edge_probability": 0.4},
        0.5: {"vertices": 25, "edge_probability": 0.25},
        1.0: {"vertices": 50, "edge_probability": 0.15},
    })

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        vertices = checked_int(params, "vertices", 2, MAX_VERTICES)
        probability = checked_float(params, "edge_probability", 0.01, 1.0)
        edges = random_graph_by_probability(nprng, vertices, probability)
        run, chosen = solve_exact(vertices, edges)
        status = run.status
        heuristic = minimum_degree_independent_set(vertices, edges)
        if chosen is None or len(heuristic) > len(chosen):
            chosen, status = heuristic, HEURISTIC
        greedy = first_fit_independent_set(vertices, edges)
        prompt = (
            f"Maximum independent set. The graph has {vertices} vertices, numbered 0 to {vertices - 1}, and {len(edges)} edges:\n"
            f"{format_edges(edges)}\n\n"
            f"Find an independent set that is as large as possible: a set of vertices no two of which are joined by an edge.\n"
            f"Answer with the list of the chosen vertices, each once, in any order. Put only the list inside "
            f"<answer>…</answer>, in the form <answer>[0, 4, 7, …]</answer> (this shows the form only)"
        )
        return {
            "prompt": prompt,
            "answer": {"instance": {"vertices": vertices, "edges": edges},
                       "reference": reference_record(chosen, len(chosen), status)},
            "meta": cp_sat_meta(run, status, len(chosen), len(greedy), edges=len(edges)),
        }

    def greedy_solution(self, task: Task) -> list[int]:
        instance = task.answer["instance"]
        return first_fit_independent_set(int(instance["vertices"]), instance["edges"])

    def objective_of(self, task: Task, solution: list[int]) -> float | None:
        instance = task.answer["instance"]
        return evaluate_independent_set(int(instance["vertices"]), instance["edges"], solution).objective

    def wrong_candidates(self, task: Task):
        """The reference without its last vertex (smaller), then the reference plus a neighbour
        of its first vertex (an edge inside the set)."""
        instance = task.answer["instance"]
        chosen = list(task.answer["reference"]["solution"])
        yield chosen[:-1]
        neighbours = adjacency(int(instance["vertices"]), instance["edges"])
        for vertex in chosen:
            if neighbours[vertex]:
                yield chosen + [min(neighbours[vertex])]
                break

    def hostile_solutions(self, task: Task) -> list[tuple[str, list[int]]]:
        """Every vertex (largest, infeasible), none, the reference plus a neighbour, one vertex,
        the vertices no edge touches plus the ends of one edge."""
        instance = task.answer["instance"]
        vertices = int(instance["vertices"])
        chosen = list(task.answer["reference"]["solution"])
        u, v = instance["edges"][0]
        return [("all-vertices", list(range(vertices))), ("empty-set", []), ("single-vertex", [0]),
                ("reference-plus-edge-end", sorted(set(chosen) | {u, v})),
                ("reference-minus-one", chosen[:-1])]
