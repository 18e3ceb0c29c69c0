"""How SetCover tasks are made: planted blocks, decoys and random subsets in random order, the
counting lower bound (met by the planted blocks or the greedy cover on default tasks, so no search
runs), the exact CP-SAT cover otherwise, the most-new-elements greedy, wrong and hostile covers.

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
    OPTIMAL,
    NumpyWords,
    OptimisationGenerator,
    cp_sat_meta,
    new_cp_model,
    reference_record,
    run_cp_sat,
    solver_meta,
)
from rlvr.verifiers.set_cover import evaluate_cover


def most_new_elements_greedy(elements: int, subsets: list[list[int]]) -> list[int]:
    """Repeatedly the subset covering most uncovered elements, ties to the lower index (subsets
    and the uncovered elements as bitsets)."""
    members = [sum(1 << e for e in set(subset)) for subset in subsets]
    uncovered = (1 << elements) - 1
    chosen = []
    while uncovered:
        best, gain = 0, -1
        for j, bits in enumerate(members):
            new = (bits & uncovered).bit_count()
            if new > gain:
                best, gain = j, new
        if not gain:
            raise ValueError("the subsets do not cover the universe")
        chosen.append(best)
        uncovered &= ~members[best]
    return sorted(chosen)


def counting_lower_bound(elements: int, subsets: list[list[int]]) -> int:
    """The fewest subsets whose sizes add up to at least ``elements``, largest first: no cover
    has fewer (its sizes add up to at least the universe's)."""
    covered = 0
    for count, size in enumerate(sorted((len(s) for s in subsets), reverse=True), start=1):
        covered += size
        if covered >= elements:
            return count
    raise ValueError("the subsets do not cover the universe")


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
        subsets = [sorted(part.tolist()) for part in np.array_split(nprng.permutation(elements), planted_count)]
        sizes = [
            (count, min(elements, max(1, int(np.floor(size + 0.5)))))
            for count, size in ((decoys, decoy_size * block), (randoms, 0.5 * block))
        ]
        # numpy's choice(elements, size, replace=False) per subset, replayed exactly (2·size − 1 words each)
        words = NumpyWords(nprng, expected_words=sum(count * (2 * size - 1) for count, size in sizes))
        subsets += words.sorted_samples(elements, [size for count, size in sizes for _ in range(count)])
        words.close()
        order = nprng.permutation(len(subsets)).tolist()
        subsets = [subsets[i] for i in order]
        planted = sorted(order.index(j) for j in range(planted_count))
        greedy = most_new_elements_greedy(elements, subsets)
        fallback = min(planted, greedy, key=len)  # the planted blocks on a tie
        bound = counting_lower_bound(elements, subsets)
        if len(fallback) == bound:  # provably optimal: no search
            chosen, status = fallback, OPTIMAL
            meta = solver_meta(
                "lower bound met (planted blocks or greedy cover)",
                status,
                len(chosen),
                len(greedy),
                effort=0.0,
                effort_unit="CP-SAT deterministic seconds",
                search_branches=0,
                search_conflicts=0,
                lower_bound=bound,
                planted=planted,
            )
        else:
            run, chosen = solve_exact(elements, subsets)
            status = run.status
            if chosen is None or len(fallback) < len(chosen):
                chosen, status = fallback, HEURISTIC
            meta = cp_sat_meta(run, status, len(chosen), len(greedy), lower_bound=bound, planted=planted)
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
            "meta": meta,
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
