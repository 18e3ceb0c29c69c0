"""How VertexCover tasks are made: G(n, m) graphs, the exact cover as the complement of a largest
independent set (the bitset branch and bound ``optimisation.maximum_independent_set``, CP-SAT
when its node budget runs out), the maximum-degree greedy and its pruned cover, wrong and hostile
covers.

The family's contract (task, answer, verifier, solver, difficulty, version history) is the
docstring of ``rlvr.families.vertex_cover``.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

import rlvr.generators.optimisation as optimisation
from rlvr.core import Task
from rlvr.families.vertex_cover import FAMILY
from rlvr.generators.optimisation import (
    HEURISTIC,
    OPTIMAL,
    OptimisationGenerator,
    adjacency,
    cp_sat_meta,
    format_edges,
    maximum_independent_set,
    new_cp_model,
    random_graph_by_edge_count,
    reference_record,
    run_cp_sat,
    solver_meta,
)
from rlvr.generators.problem_forms import graph_form
from rlvr.verifiers.vertex_cover import evaluate_vertex_cover


def maximum_degree_cover(vertices: int, edges: list[list[int]]) -> list[int]:
    """Repeatedly the vertex touching most uncovered edges (ties to the lower index)."""
    remaining = adjacency(vertices, edges)
    degree = [len(n) for n in remaining]
    cover = []
    while vertices:
        vertex = max(range(vertices), key=degree.__getitem__)  # the first of the highest degree
        if not degree[vertex]:
            break
        cover.append(vertex)
        for other in remaining[vertex]:
            remaining[other].discard(vertex)
            degree[other] -= 1
        remaining[vertex], degree[vertex] = set(), 0
    return sorted(cover)


def pruned_cover(vertices: int, edges: list[list[int]], cover: list[int]) -> list[int]:
    """Drop cover vertices whose every neighbour is in the cover (highest index first)."""
    neighbours = adjacency(vertices, edges)
    members = set(cover)
    for vertex in sorted(cover, reverse=True):
        if neighbours[vertex] <= members - {vertex}:
            members.discard(vertex)
    return sorted(members)


def solve_exact(vertices: int, edges: list[list[int]]):
    model = new_cp_model()
    take = [model.new_bool_var(f"take_{v}") for v in range(vertices)]
    for u, v in edges:
        model.add_bool_or([take[u], take[v]])
    model.minimize(sum(take))
    run = run_cp_sat(model, linearization_level=2)
    if not run.found:
        return run, None
    return run, [v for v in range(vertices) if run.solver.boolean_value(take[v])]


class VertexCoverGenerator(OptimisationGenerator):
    declaration = FAMILY
    sense = "min"
    objective_name = "cover size"

    def hint_facts(self, task: Task) -> tuple[str, list[str]]:
        return "Vertices of the reference cover", [str(v) for v in task.answer["reference"]["solution"]]

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        vertices, degree = params["vertices"], params["average_degree"]
        if degree > vertices - 1:
            raise ValueError(f"average_degree must be at most vertices − 1 = {vertices - 1}, got {degree}")
        edges = random_graph_by_edge_count(nprng, vertices, int(np.floor(vertices * degree / 2 + 0.5)))
        greedy = maximum_degree_cover(vertices, edges)
        heuristic = pruned_cover(vertices, edges, greedy)
        outside = sorted(set(range(vertices)) - set(heuristic))  # independent: the cover touches every edge
        independent, nodes = maximum_independent_set(vertices, edges, outside, optimisation.INDEPENDENT_SET_NODE_LIMIT)
        if independent is not None:  # a smallest cover is the complement of a largest independent set
            cover, status = sorted(set(range(vertices)) - set(independent)), OPTIMAL
            meta = solver_meta(
                "branch and bound on the complement (bitsets, clique-cover bound)",
                status,
                len(cover),
                len(greedy),
                effort=nodes,
                effort_unit="search nodes",
                edges=len(edges),
            )
        else:  # the node budget ran out (large explicit graphs): CP-SAT decides
            run, cover = solve_exact(vertices, edges)
            status = run.status
            if cover is None or len(heuristic) < len(cover):
                cover, status = heuristic, HEURISTIC
            meta = cp_sat_meta(run, status, len(cover), len(greedy), edges=len(edges), search_nodes=nodes)
        prompt = (
            f"Minimum vertex cover. The graph has {vertices} vertices, numbered 0 to {vertices - 1}, and "
            f"{len(edges)} edges:\n{format_edges(edges)}\n\n"
            "Find a vertex cover that is as small as possible: a set of vertices such that every edge has at "
            "least one "
            f"end in the set.\nAnswer with the list of the chosen vertices, each once, in any order. Put only the list "
            f"inside <answer>…</answer>, in the form <answer>[1, 2, 5, …]</answer> (this shows the form only)"
        )
        return {
            "prompt": prompt,
            "answer": {
                "instance": {"vertices": vertices, "edges": edges},
                "reference": reference_record(cover, len(cover), status),
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
        return maximum_degree_cover(int(instance["vertices"]), instance["edges"])

    def objective_of(self, task: Task, solution: list[int]) -> float | None:
        instance = task.answer["instance"]
        return evaluate_vertex_cover(int(instance["vertices"]), instance["edges"], solution).objective

    def wrong_candidates(self, task: Task):
        """The reference plus one vertex outside it (larger), then the reference without its
        first vertex (an optimal cover is minimal, so an edge is left uncovered)."""
        vertices = int(task.answer["instance"]["vertices"])
        cover = list(task.answer["reference"]["solution"])
        outside = [v for v in range(vertices) if v not in set(cover)]
        if outside:
            yield cover + [outside[0]]
        yield cover[1:]

    def hostile_solutions(self, task: Task) -> list[tuple[str, list[int]]]:
        """No vertex (smallest, infeasible), every vertex (feasible, largest), the reference
        without one vertex, one end of each edge taken as its lower end only."""
        instance = task.answer["instance"]
        vertices = int(instance["vertices"])
        cover = list(task.answer["reference"]["solution"])
        return [
            ("empty-cover", []),
            ("all-vertices", list(range(vertices))),
            ("reference-minus-one", cover[1:]),
            ("single-vertex", [0]),
            ("every-other-vertex", list(range(0, vertices, 2))),
        ]
