"""SetCover-v0's planted instances against no-search rules (red team s11 H10).

The blocks of the old generator partitioned the universe, so "start from a subset, then add the
largest subset disjoint from what is covered" found the optimum on every task at d ≥ 0.5. Shaped
instances (d > 0.4) overlap the blocks, add traps and redraw while a no-search rule is optimal;
these tests hold the rules to a small share with their own implementations (not the
generator's), check the generator's redraw test (small covers listed first, the rules followed
from their subsets only; every start by matrix products as the fallback) against those plain
rules on 200 raw draws per level, check the compiled draw and redraw test
(``set_cover_draws.shaped_draw``) against the Python ones draw by draw, check the reference
against CP-SAT, and check that tasks are reproducible in a fresh process.
"""

from __future__ import annotations

import collections
import json
import random
import subprocess
import sys

import numpy as np
import pytest
from ortools.sat.python import cp_model

import rlvr
from rlvr.families.set_cover import FAMILY
from rlvr.generators import set_cover, set_cover_draws

ENV = "rlvr/SetCover-v0"
SHAPED_LEVELS = (0.5, 0.75, 1.0)
SEEDS = range(97000, 97060)
SHARE_CAP = 0.05  # at most 3 of 60 tasks
PARAMETERS = ("elements", "planted_sets", "decoy_sets", "decoy_size", "random_sets")  # draw_shaped's order


def instance(task):
    data = task.answer["instance"]
    return int(data["elements"]), [set(subset) for subset in data["subsets"]]


def greedy_cover(elements, subsets, chosen=()):
    """Most new elements first (ties to the lower index), after the subsets in ``chosen``."""
    chosen = list(chosen)
    covered = set().union(*(subsets[j] for j in chosen))
    while len(covered) < elements:
        best = max(range(len(subsets)), key=lambda j: (len(subsets[j] - covered), -j))
        chosen.append(best)
        covered |= subsets[best]
    return chosen


def disjoint_cover(elements, subsets, first):
    """The red team's rule: ``first``, then the largest subset disjoint from what is covered
    while one exists, then greedy."""
    chosen, covered = [first], set(subsets[first])
    while True:
        free = [j for j in range(len(subsets)) if j not in chosen and subsets[j] and not subsets[j] & covered]
        if not free:
            return greedy_cover(elements, subsets, chosen)
        best = max(free, key=lambda j: (len(subsets[j]), -j))
        chosen.append(best)
        covered |= subsets[best]


def rarest_cover(elements, subsets):
    """The uncovered element in the fewest subsets, then its subset with most new elements."""
    frequency = [sum(e in subset for subset in subsets) for e in range(elements)]
    chosen, covered = [], set()
    while len(covered) < elements:
        element = min((e for e in range(elements) if e not in covered), key=lambda e: (frequency[e], e))
        best = max(
            (j for j in range(len(subsets)) if element in subsets[j]), key=lambda j: (len(subsets[j] - covered), -j)
        )
        chosen.append(best)
        covered |= subsets[best]
    return chosen


def rule_sizes(elements, subsets):
    """The cover size of each no-search rule (the start-anywhere rules at their best start)."""
    starts = range(len(subsets))
    return {
        "greedy": len(greedy_cover(elements, subsets)),
        "disjoint-every-start": min(len(disjoint_cover(elements, subsets, f)) for f in starts),
        "greedy-every-start": min(len(greedy_cover(elements, subsets, [f])) for f in starts),
        "rarest-element": len(rarest_cover(elements, subsets)),
    }


def cp_sat_minimum(elements, subsets):
    model = cp_model.CpModel()
    take = [model.new_bool_var(f"t{j}") for j in range(len(subsets))]
    for element in range(elements):
        model.add_bool_or([take[j] for j, subset in enumerate(subsets) if element in subset])
    model.minimize(sum(take))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(model) == cp_model.OPTIMAL
    return int(solver.objective_value)


@pytest.mark.parametrize("difficulty", SHAPED_LEVELS)
def test_no_search_rules_are_rarely_optimal(difficulty):
    """Greedy, the disjoint rule and greedy from every start, and the rarest-element greedy
    each use no more subsets than the reference on at most 5 % of 60 tasks (the old generator:
    the disjoint rule and greedy from every start on all of them)."""
    optimal = dict.fromkeys(("greedy", "disjoint-every-start", "greedy-every-start", "rarest-element"), 0)
    for seed in SEEDS:
        task = rlvr.make_task(ENV, seed=seed, difficulty=difficulty)
        reference = task.answer["reference"]["objective"]
        for rule, size in rule_sizes(*instance(task)).items():
            optimal[rule] += size <= reference
    assert all(count <= SHARE_CAP * len(SEEDS) for count in optimal.values()), optimal


@pytest.mark.parametrize("difficulty", SHAPED_LEVELS)
def test_planted_blocks_are_no_partition_and_the_largest_subsets_are_decoys(difficulty):
    """The planted blocks overlap (no exact partition), each block has a trap disjoint from it,
    and the largest subsets are not the blocks."""
    for seed in range(97000, 97010):
        task = rlvr.make_task(ENV, seed=seed, difficulty=difficulty)
        elements, subsets = instance(task)
        planted = [subsets[j] for j in task.meta["planted"]]
        assert set().union(*planted) == set(range(elements))
        assert sum(map(len, planted)) > elements  # overlapping blocks
        assert all(any(not block & subset for subset in subsets) for block in planted)
        assert max(map(len, subsets)) > max(map(len, planted))
        assert 1 <= task.meta["draws"] <= set_cover.MAX_DRAWS


EXPLICIT_SHAPED = (
    {"elements": 12, "planted_sets": 4, "decoy_sets": 5, "decoy_size": 3.0, "random_sets": 3},
    {"elements": 24, "planted_sets": 4, "decoy_sets": 10, "decoy_size": 1.3, "random_sets": 4},
    {"elements": 30, "planted_sets": 5, "decoy_sets": 12, "decoy_size": 1.2, "random_sets": 6},
)


def raw_draws(params, count, seed):
    """``count`` raw shaped draws (before any redraw) from one generator, as the redraw loop
    makes them."""
    nprng = np.random.default_rng(seed)
    args = (params["elements"], params["planted_sets"], params["decoy_sets"], params["decoy_size"])
    return [set_cover.draw_shaped(nprng, *args, params["random_sets"]) for _ in range(count)]


def plain_decision(elements, rows, target):
    """The redraw's decision written plainly: some rule (greedy or the disjoint rule from any
    start, or the rarest-element greedy) uses at most ``target`` subsets."""
    return min(rule_sizes(elements, [set(row) for row in rows]).values()) <= target


def fast_decision(elements, rows, target):
    masks, holders = set_cover.rarity_bitsets(elements, rows)
    return set_cover.rule_reaches(elements, rows, masks, holders, target)


@pytest.mark.parametrize("difficulty", SHAPED_LEVELS)
def test_the_redraw_check_agrees_with_the_rules(difficulty):
    """``rule_reaches`` (the covers of the planted size listed first, the rules followed only
    from their subsets) says yes exactly when a plain implementation of a rule reaches the
    planted count, on 200 raw shaped draws per level (before any redraw), both ways; the
    planted blocks are a cover of that size."""
    params = FAMILY.table.resolve(difficulty)
    elements, seen = params["elements"], []
    for rows, planted in raw_draws(params, 200, seed=int(difficulty * 100)):
        assert set().union(*(rows[j] for j in planted)) == set(range(elements))
        expected = plain_decision(elements, rows, len(planted))
        assert fast_decision(elements, rows, len(planted)) == expected
        seen.append(expected)
    assert set(seen) == {True, False}


@pytest.mark.parametrize("overrides", EXPLICIT_SHAPED)
def test_the_redraw_check_agrees_with_the_rules_on_explicit_parameters(overrides):
    """The same on 60 raw draws with more blocks (a planted count of 4 or 5)."""
    params = {**FAMILY.table.resolve(0.5), **overrides}
    for rows, planted in raw_draws(params, 60, seed=5):
        assert fast_decision(params["elements"], rows, len(planted)) == plain_decision(
            params["elements"], rows, len(planted)
        )


def test_every_start_fallback_agrees_with_the_rules(monkeypatch):
    """With no branches allowed for listing the covers, ``rule_reaches`` tests every start
    (``every_start_reaches``, matrix products) and still decides as the plain rules do."""
    monkeypatch.setattr(set_cover, "COVER_SEARCH_NODES", 0)
    for difficulty in SHAPED_LEVELS:
        params = FAMILY.table.resolve(difficulty)
        for rows, planted in raw_draws(params, 40, seed=7):
            assert fast_decision(params["elements"], rows, len(planted)) == plain_decision(
                params["elements"], rows, len(planted)
            )


def compiled_cases():
    """(parameters, seed) for the compiled path: the shaped levels and random shaped parameters
    within its 64 elements and 64 subsets."""
    cases = [(FAMILY.table.resolve(difficulty), 11) for difficulty in SHAPED_LEVELS]
    draw = random.Random(2026)
    while len(cases) < 40:
        elements = draw.randint(3, 64)
        params = {
            "elements": elements,
            "planted_sets": draw.randint(3, min(elements, 9)),
            "decoy_sets": draw.randint(0, 30),
            "decoy_size": round(draw.uniform(1.01, 3.0), 3),
            "random_sets": draw.randint(0, 20),
        }
        if params["planted_sets"] + params["decoy_sets"] + params["random_sets"] <= 64:
            cases.append((params, len(cases)))
    return cases


@pytest.mark.parametrize("nodes", [set_cover.COVER_SEARCH_NODES, 4, 0])
def test_the_compiled_draw_matches_the_python_draw_and_check(monkeypatch, nodes):
    """``set_cover_draws.shaped_draw`` gives ``draw_shaped``'s subsets and planted positions,
    ``bitset_greedy``'s cover and ``rule_reaches``' decision (``EVERY_START`` exactly where
    ``rule_reaches`` calls ``every_start_reaches``) and leaves the generator in the same state,
    on 20 successive draws of 40 parameter sets (the shaped levels and random ones), with the
    listing's branch budget as shipped, tiny and none; every outcome occurs."""
    monkeypatch.setattr(set_cover, "COVER_SEARCH_NODES", nodes)
    fallbacks = []
    every_start = set_cover.every_start_reaches
    monkeypatch.setattr(set_cover, "every_start_reaches", lambda *args: fallbacks.append(1) or every_start(*args))
    outcomes = collections.Counter()
    for params, seed in compiled_cases():
        elements, planted_count = params["elements"], params["planted_sets"]
        layout = set_cover.shaped_layout(*(params[key] for key in PARAMETERS))
        python_rng, compiled_rng = np.random.default_rng(seed), np.random.default_rng(seed)
        for _ in range(20):
            rows, planted = set_cover.draw_shaped(python_rng, *(params[key] for key in PARAMETERS))
            masks, holders = set_cover.rarity_bitsets(elements, rows)
            fallbacks.clear()
            reaches = set_cover.rule_reaches(elements, rows, masks, holders, planted_count)
            outcome, subsets, compiled_planted, greedy = set_cover_draws.shaped_draw(
                compiled_rng,
                elements,
                planted_count,
                layout.overlap,
                layout.traps,
                layout.shadows,
                layout.uniform_lengths,
                set_cover.RESERVE,
                nodes,
            )
            assert subsets == [sorted(row) for row in rows] and compiled_planted == planted, params
            assert greedy == set_cover.bitset_greedy(elements, masks), params
            assert compiled_rng.bit_generator.state == python_rng.bit_generator.state
            if outcome == set_cover_draws.EVERY_START:
                assert fallbacks, params
                assert reaches == set_cover.every_start_reaches(set_cover._matrix(elements, subsets), planted_count)
            else:
                assert not fallbacks and outcome == (set_cover_draws.REACHES if reaches else set_cover_draws.KEEP)
            outcomes[outcome] += 1
    listed = {set_cover_draws.KEEP} if nodes else set()  # no branches: no listing finishes
    assert set(outcomes) == {set_cover_draws.REACHES, set_cover_draws.EVERY_START} | listed, outcomes


def test_the_kept_draw_passes_the_check_unless_the_draws_ran_out():
    """On 200 tasks per shaped level: a task kept before the last draw defeats every plain rule
    (each uses more subsets than the reference), and the task's greedy objective is the plain
    greedy's."""
    for difficulty in SHAPED_LEVELS:
        for seed in range(200):
            task = rlvr.make_task(ENV, seed=seed, difficulty=difficulty)
            elements, subsets = instance(task)
            sizes = rule_sizes(elements, subsets)
            assert task.meta["greedy_objective"] == sizes["greedy"]
            if task.meta["draws"] < set_cover.MAX_DRAWS:
                assert min(sizes.values()) > task.answer["reference"]["objective"], (seed, difficulty)


def test_the_reference_is_a_minimum_cover():
    """On 20 tasks per shaped level, the reference meets the counting bound with no search and
    equals CP-SAT's minimum."""
    for difficulty in SHAPED_LEVELS:
        for seed in range(97000, 97020):
            task = rlvr.make_task(ENV, seed=seed, difficulty=difficulty)
            reference = task.answer["reference"]
            assert reference["status"] == "optimal" and task.meta["effort"] == 0
            assert reference["objective"] == task.meta["lower_bound"] == cp_sat_minimum(*instance(task))
            assert rlvr.verify(task, rlvr.solve(task)).correct


@pytest.mark.parametrize(
    "overrides",
    [
        {"elements": 3, "planted_sets": 3, "decoy_sets": 4, "decoy_size": 2.0, "random_sets": 2},
        {"elements": 12, "planted_sets": 4, "decoy_sets": 5, "decoy_size": 3.0, "random_sets": 3},
        {"elements": 9, "planted_sets": 3, "decoy_sets": 0, "decoy_size": 1.2, "random_sets": 0},
    ],
)
def test_explicit_shaped_parameters_stay_exact(overrides):
    """Tiny universes, decoys too large for the bound (CP-SAT decides) and no decoys still give
    a feasible, exact reference."""
    for seed in range(3):
        task = rlvr.make_task(ENV, seed=seed, difficulty=0.5, **overrides)
        elements, subsets = instance(task)
        assert len(subsets) == overrides["planted_sets"] + overrides["decoy_sets"] + overrides["random_sets"]
        assert task.answer["reference"]["objective"] == cp_sat_minimum(elements, subsets)
        assert rlvr.verify(task, rlvr.solve(task)).correct


def test_low_levels_keep_the_partition():
    """d ≤ 0.4 is not shaped: the planted blocks partition the universe, as before."""
    for difficulty in (0.0, 0.25):
        task = rlvr.make_task(ENV, seed=3, difficulty=difficulty)
        elements, subsets = instance(task)
        planted = [subsets[j] for j in task.meta["planted"]]
        assert sum(map(len, planted)) == elements == len(set().union(*planted))
        assert "draws" not in task.meta


def test_tasks_are_the_same_in_a_fresh_process():
    cases = [(seed, difficulty) for seed in (0, 97001) for difficulty in SHAPED_LEVELS]
    here = [rlvr.make_task(ENV, seed=s, difficulty=d).to_json() for s, d in cases]
    script = (
        "import json, sys, rlvr\n"
        f"print(json.dumps([rlvr.make_task({ENV!r}, seed=s, difficulty=d).to_json() for s, d in {cases!r}]))"
    )
    fresh = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert json.loads(fresh) == here
