"""How SetCover tasks are made: planted blocks, decoys and random subsets in random order, the exact
CP-SAT cover, the most-new-elements greedy, wrong and hostile covers.

The family's contract (task, answer, verifier, solver, difficulty, version history) is the
docstring of ``rlvr.families.set_cover``.
"""

from __future__ import annotations

import random

import numpy as np

from rlvr.core import Task
from rlvr.families.set_cover import FAMILY
from rlvr.generators.optimisation import (
    HEURISTIC,
    OptimisationGenerator,
    cp_sat_meta,
    new_cp_model,
    reference_record,
    run_cp_sat,
)
from rlvr.verifiers.set_cover import evaluate_cover


def most_new_elements_greedy(elements: int, subsets: list[list[int]]) -> list[int]:
    members = [set(s) for s in subsets]
    covered: set[int] = set()
    chosen = []
    while len(covered) < elements:
        best = max(range(len(subsets)), key=lambda j: (len(members[j] - covered), -j))
        if not members[best] - covered:
            raise ValueError("the subsets do not cover the universe")
        chosen.append(best)
        covered |= members[best]
    return sorted(chosen)


def solve_exact(elements: int, subsets: list[list[int]]):
    model = new_cp_model()
    take = [model.new_bool_var(f"take_{j}") for j in range(len(subsets))]
    covering: list[list[int]] = [[] for _ in range(elements)]
    for j, subset in enumerate(subsets):
        for element in subset:
            covering[element].append(j)
    for element in range(elements):
        model.add_bool_or([take[j] for j in covering[element]])
    model.minimize(sum(take))
    run = run_cp_sat(model, linearization_level=2)
    if not run.found:
        return run, None
    return run, [j for j in range(len(subsets)) if run.solver.boolean_value(take[j])]


class SetCoverGenerator(OptimisationGenerator):
    declaration = FAMILY
    sense = "min"
    objective_name = "number of subsets"

    def hint_facts(self, task: Task) -> tuple[str, list[str]]:
        return "Subsets of the reference cover", [f"S{i}" for i in task.answer["reference"]["solution"]]

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        elements, planted_count = params["elements"], params["planted_sets"]
        decoys, decoy_size, randoms = params["decoy_sets"], params["decoy_size"], params["random_sets"]
        if planted_count > elements:
            raise ValueError(f"planted_sets must be at most elements = {elements}, got {planted_count}")
        block = elements / planted_count
        subsets = [sorted(int(e) for e in part) for part in np.array_split(nprng.permutation(elements), planted_count)]
        for count, size in ((decoys, decoy_size * block), (randoms, 0.5 * block)):
            size = min(elements, max(1, int(np.floor(size + 0.5))))
            for _ in range(count):
                subsets.append(sorted(int(e) for e in nprng.choice(elements, size=size, replace=False)))
        order = [int(i) for i in nprng.permutation(len(subsets))]
        subsets = [subsets[i] for i in order]
        planted = sorted(order.index(j) for j in range(planted_count))
        run, chosen = solve_exact(elements, subsets)
        status = run.status
        greedy = most_new_elements_greedy(elements, subsets)
        fallback = min(planted, greedy, key=len)
        if chosen is None or len(fallback) < len(chosen):
            chosen, status = fallback, HEURISTIC
        listing = "\n".join(f"S{j} = {{{', '.join(map(str, subset))}}}" for j, subset in enumerate(subsets))
        prompt = (
            f"Set cover. The universe is the {elements} elements 0 to {elements - 1}. There are {len(subsets)} "
            f"subsets:\n{listing}\n\n"
            "Choose as few subsets as possible whose union is the whole universe (every element in at least one "
            "chosen "
            "subset).\nAnswer with the list of the chosen subset indices (the number after S), in any order. Put "
            "only the "
            f"list inside <answer>…</answer>, in the form <answer>[0, 3, 5, …]</answer> (this shows the form only)"
        )
        return {
            "prompt": prompt,
            "answer": {
                "instance": {"elements": elements, "subsets": subsets},
                "reference": reference_record(chosen, len(chosen), status),
            },
            "meta": cp_sat_meta(run, status, len(chosen), len(greedy), planted=planted),
        }

    def greedy_solution(self, task: Task) -> list[int]:
        instance = task.answer["instance"]
        return most_new_elements_greedy(int(instance["elements"]), instance["subsets"])

    def objective_of(self, task: Task, solution: list[int]) -> float | None:
        instance = task.answer["instance"]
        return evaluate_cover(int(instance["elements"]), instance["subsets"], solution).objective

    def wrong_candidates(self, task: Task):
        """The reference plus one unused subset (one more), then the reference without its first
        subset (an optimal cover is minimal, so an element is left uncovered)."""
        chosen = list(task.answer["reference"]["solution"])
        unused = [j for j in range(len(task.answer["instance"]["subsets"])) if j not in set(chosen)]
        if unused:
            yield chosen + [unused[0]]
        yield chosen[1:]

    def hostile_solutions(self, task: Task) -> list[tuple[str, list[int]]]:
        """No subset, every subset (feasible, most), the largest subset alone, the reference
        without one subset."""
        subsets = task.answer["instance"]["subsets"]
        chosen = list(task.answer["reference"]["solution"])
        largest = max(range(len(subsets)), key=lambda j: (len(subsets[j]), -j))
        return [
            ("empty-cover", []),
            ("all-subsets", list(range(len(subsets)))),
            ("largest-subset", [largest]),
            ("reference-minus-one", chosen[1:]),
        ]
