"""How MaxIndependentSet tasks are made: G(n, p) graphs, the exact bitset branch and bound
(``optimisation.maximum_independent_set``, CP-SAT when its node budget runs out), the
minimum-degree and first-fit greedy sets, wrong and hostile sets.

The family's contract (task, answer, verifier, solver, difficulty, version history) is the
docstring of ``rlvr.families.max_independent_set``.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

import rlvr.generators.optimisation as optimisation
from rlvr.core import Task
from rlvr.families.max_independent_set import FAMILY
from rlvr.generators.optimisation import (
    HEURISTIC,
    OPTIMAL,
    OptimisationGenerator,
    adjacency,
    cp_sat_meta,
    format_edges,
    maximum_independent_set,
    new_cp_model,
    random_graph_by_probability,
    reference_record,
    run_cp_sat,
    solver_meta,
)
from rlvr.generators.problem_forms import graph_form
from rlvr.verifiers.max_independent_set import evaluate_independent_set


def first_fit_independent_set(vertices: int, edges: list[list[int]]) -> list[int]:
    neighbours = adjacency(vertices, edges)
    chosen: list[int] = []
    blocked: set[int] = set()  # neighbours of the chosen vertices
    for vertex in range(vertices):
        if vertex not in blocked:
            chosen.append(vertex)
            blocked |= neighbours[vertex]
    return chosen


def minimum_degree_independent_set(vertices: int, edges: list[list[int]]) -> list[int]:
    """Repeatedly take a vertex of least remaining degree and delete it and its neighbours."""
    neighbours = adjacency(vertices, edges)
    degree = [len(n) for n in neighbours]  # among the vertices still alive
    alive = set(range(vertices))
    chosen = []
    while alive:
        vertex = min(alive, key=lambda v: (degree[v], v))
        chosen.append(vertex)
        removed = (neighbours[vertex] & alive) | {vertex}
        alive -= removed
        for gone in removed:
            for other in neighbours[gone] & alive:
                degree[other] -= 1
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
    declaration = FAMILY
    sense = "max"
    objective_name = "set size"

    def hint_facts(self, task: Task) -> tuple[str, list[str]]:
        return "Vertices of the reference independent set", [str(v) for v in task.answer["reference"]["solution"]]

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        vertices, probability = params["vertices"], params["edge_probability"]
        edges = random_graph_by_probability(nprng, vertices, probability)
        heuristic = minimum_degree_independent_set(vertices, edges)
        greedy = first_fit_independent_set(vertices, edges)
        chosen, nodes = maximum_independent_set(vertices, edges, heuristic, optimisation.INDEPENDENT_SET_NODE_LIMIT)
        if chosen is not None:
            status = OPTIMAL
            meta = solver_meta(
                "branch and bound (bitsets, clique-cover bound)",
                status,
                len(chosen),
                len(greedy),
                effort=nodes,
                effort_unit="search nodes",
                edges=len(edges),
            )
        else:  # the node budget ran out (large explicit graphs): CP-SAT decides
            run, chosen = solve_exact(vertices, edges)
            status = run.status
            if chosen is None or len(heuristic) > len(chosen):
                chosen, status = heuristic, HEURISTIC
            meta = cp_sat_meta(run, status, len(chosen), len(greedy), edges=len(edges), search_nodes=nodes)
        prompt = (
            f"Maximum independent set. The graph has {vertices} vertices, numbered 0 to {vertices - 1}, and "
            f"{len(edges)} edges:\n{format_edges(edges)}\n\n"
            "Find an independent set that is as large as possible: a set of vertices no two of which are joined "
            "by an edge.\n"
            f"Answer with the list of the chosen vertices, each once, in any order. Put only the list inside "
            f"<answer>…</answer>, in the form <answer>[0, 4, 7, …]</answer> (this shows the form only)"
        )
        return {
            "prompt": prompt,
            "answer": {
                "instance": {"vertices": vertices, "edges": edges},
                "reference": reference_record(chosen, len(chosen), status),
            },
            "meta": meta,
        }

    def split_group(self, task: Task) -> Any:
        """The graph up to renumbering its vertices (``problem_forms.graph_form``), shared by
        MaxIndependentSet and VertexCover (a smallest cover is the complement of a largest
        independent set, so either answer gives the other): one graph is on one side."""
        instance = task.answer["instance"]
        return ["independent-set", graph_form(int(instance["vertices"]), instance["edges"])]

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
        return [
            ("all-vertices", list(range(vertices))),
            ("empty-set", []),
            ("single-vertex", [0]),
            ("reference-plus-edge-end", sorted(set(chosen) | {u, v})),
            ("reference-minus-one", chosen[:-1]),
        ]
