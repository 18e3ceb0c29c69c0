"""Constant answers never solve a generated task (red-team finding F9 and
benchmarks/bench_constant_policy.py).

A policy that ignores the task and always gives the same answer is the cheapest reward hack.
Where such an answer could solve small instances, the generator rules it out: SAT redraws any
formula that all-true or all-false satisfies (and its planted fallback excludes both), TSP
redraws any instance whose index-order tour is as short as the reference. Each family names
those answers in its ``attacks()``; ``OptimisationGenerator.attacks`` silently drops a hostile
solution that solves the instance, so these tests check both that the generator never lets one
solve (``solves`` is false, the verifier pays 0, also with partial credit) and that the attack is
therefore always present.
"""

from __future__ import annotations

import pytest

import rlvr
from rlvr import make_generator

DIFFICULTIES = (0.0, 0.25, 0.5, 0.75, 1.0)
# more seeds where the instances are small enough for a constant to have a chance
SEEDS = {0.0: 300, 0.25: 150, 0.5: 40, 0.75: 20, 1.0: 20}
CONSTANT_ATTACKS = {
    "rlvr/SAT-v0": ("all-true", "all-false"),
    "rlvr/TSP-v0": ("identity-tour", "reversed-identity-tour", "rotated-identity-tour"),
}


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
@pytest.mark.parametrize("env_id", sorted(CONSTANT_ATTACKS))
def test_constant_answers_never_solve_a_task(env_id, difficulty):
    generator = make_generator(env_id)
    verifier, partial = rlvr.make_verifier(env_id), rlvr.make_verifier(env_id, partial=True)
    for seed in range(SEEDS[difficulty]):
        task = rlvr.make_task(env_id, seed=seed, difficulty=difficulty)
        hostile = dict(generator.hostile_solutions(task))
        attacks = dict(generator.attacks(task))
        for name in CONSTANT_ATTACKS[env_id]:
            assert not generator.solves(task, hostile[name]), (task.id, name)
            assert name in attacks, (task.id, name)  # kept: it does not solve this instance
            for judge in (verifier, partial):
                verdict = judge.verify(task, attacks[name])
                assert not verdict.correct, (task.id, name, verdict)
                if env_id == "rlvr/SAT-v0" or judge is verifier:  # a longer tour earns partial credit
                    assert verdict.reward == 0.0, (task.id, name, verdict)


@pytest.mark.parametrize(
    "variables, clause_ratio",
    [(20, 8.0), (3, 10.0), (3, 0.7), (40, 0.3), (20, 0.1)],  # planted fallbacks and few-clause formulas
)
def test_sat_formulas_of_two_or_more_clauses_exclude_both_constants(variables, clause_ratio):
    """Explicit parameters too: over the threshold (the planted fallback) and with so few clauses
    that most uniform draws are rejected. The reference still solves every task."""
    generator = make_generator("rlvr/SAT-v0")
    verifier = rlvr.make_verifier("rlvr/SAT-v0")
    formulas = set()
    for seed in range(25):
        task = rlvr.make_task("rlvr/SAT-v0", seed=seed, difficulty=0.5, variables=variables, clause_ratio=clause_ratio)
        assert len(task.answer["instance"]["clauses"]) >= 2
        assert verifier.verify(task, rlvr.solve(task)).correct, task.id
        for name in ("all-true", "all-false"):
            assert not generator.solves(task, dict(generator.hostile_solutions(task))[name]), (task.id, name)
        formulas.add(task.meta["formula"])
    if (variables, clause_ratio) == (20, 8.0):
        assert formulas == {"planted"}


def test_sat_planted_formula_keeps_its_assignment_and_excludes_both_constants():
    from rlvr.generators.optimisation import MaterialDraws
    from rlvr.generators.sat import falsifies_constant_assignments, planted_formula

    for seed in range(200):
        variables = 3 + seed % 20
        clauses, assignment = planted_formula(MaterialDraws(seed), variables, 2 + seed % 7)
        truth = set(assignment)
        assert all(not truth.isdisjoint(clause) for clause in clauses)
        assert falsifies_constant_assignments(clauses)
        assert all(len({abs(literal) for literal in clause}) == 3 for clause in clauses)


@pytest.mark.parametrize("cities, grid", [(4, 2), (4, 3), (5, 2), (9, 2), (20, 40)])
def test_tsp_index_order_tour_is_longer_than_the_reference_for_explicit_sizes(cities, grid):
    """Small grids tie many tours; the index-order tour is still never as short as the reference
    (beyond 15 cities the reference is CP-SAT's), and the reference stays optimal."""
    from rlvr.verifiers.tsp import tour_length

    verifier = rlvr.make_verifier("rlvr/TSP-v0")
    for seed in range(12 if cities > 15 else 40):
        task = rlvr.make_task("rlvr/TSP-v0", seed=seed, difficulty=0.5, cities=cities, grid=grid)
        distances = task.answer["instance"]["distances"]
        assert tour_length(distances, list(range(cities))) > task.answer["reference"]["objective"], task.id
        assert verifier.verify(task, rlvr.solve(task)).correct, task.id
