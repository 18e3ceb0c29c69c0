"""The NP-hard optimisation family: ten envs with generators, reference solvers and verifiers.

Checks the issue-5 list per problem: reference solutions correct at three difficulties × many
seeds; exact solvers equal to brute force on small instances; random solutions and local
perturbations of the reference infeasible or not better; hostile answers 0; tolerant parsing;
instances of the declared sizes; and the knob raising both the greedy gap and solver effort.
"""

from __future__ import annotations

import collections
import functools
import itertools
import math
import re
import time

import numpy as np
import pytest

import rlvr
import rlvr.generators.optimisation as optimisation
import rlvr.generators.scheduling as scheduling
from rlvr.attacks import OVERRUN_FACTOR, OVERRUN_SLACK_S
from rlvr.verifiers.optimisation import (
    AnswerFormatError,
    gap_closed,
    greedy_objective,
    parse_integer_groups,
    parse_integer_list,
    quality_ratio,
)

PROBLEMS = {  # env id: family module name
    "rlvr/TSP-v0": "tsp",
    "rlvr/GraphColoring-v0": "graph_coloring",
    "rlvr/MaxIndependentSet-v0": "max_independent_set",
    "rlvr/VertexCover-v0": "vertex_cover",
    "rlvr/Knapsack-v0": "knapsack",
    "rlvr/SubsetSum-v0": "subset_sum",
    "rlvr/SetCover-v0": "set_cover",
    "rlvr/BinPacking-v0": "bin_packing",
    "rlvr/Scheduling-v0": "scheduling",
    "rlvr/SAT-v0": "sat",
}
ENV_IDS = list(PROBLEMS)
LEVELS = (0.0, 0.5, 1.0)
SEEDS = range(24)
GROUPED = {"rlvr/BinPacking-v0", "rlvr/Scheduling-v0"}  # answers that are lists of lists


@functools.cache
def task_of(env_id: str, seed: int, difficulty: float, **overrides):
    return rlvr.make_task(env_id, seed=seed, difficulty=difficulty, **overrides)


def generator_of(env_id):
    return rlvr.make_generator(env_id)


def verify(task, response):
    return rlvr.verify(task, response)


def answer(text: str) -> str:
    return f"<answer>{text}</answer>"


def render(env_id, solution) -> str:
    return answer(generator_of(env_id).render(solution))


def sense_of(env_id) -> str:
    return generator_of(env_id).sense


def instance(task) -> dict:
    return task.answer["instance"]


def reference(task):
    return task.answer["reference"]


# --------------------------------------------------------------------------------------------
# Difficulty tables: instances follow the declared parameters (tests/test_families.py checks that
# each family module's docstring shows the table its declaration renders)
# --------------------------------------------------------------------------------------------


def measured_parameters(env_id, task) -> dict:
    """The parameters an instance shows, to compare with task.params."""
    data, params = instance(task), task.params
    if env_id == "rlvr/TSP-v0":
        assert max(max(c) for c in data["coordinates"]) <= params["grid"]
        assert len({tuple(c) for c in data["coordinates"]}) == len(data["coordinates"])
        return {"cities": len(data["distances"])}
    if env_id in ("rlvr/GraphColoring-v0", "rlvr/MaxIndependentSet-v0"):
        assert all(0 <= u < v < data["vertices"] for u, v in data["edges"])
        return {"vertices": data["vertices"]}
    if env_id == "rlvr/VertexCover-v0":
        assert len(data["edges"]) == int(np.floor(params["vertices"] * params["average_degree"] / 2 + 0.5))
        return {"vertices": data["vertices"]}
    if env_id == "rlvr/Knapsack-v0":
        assert max(data["weights"]) <= params["max_weight"]
        assert data["capacity"] == max(
            min(data["weights"]), int(np.floor(params["capacity_fraction"] * sum(data["weights"]) + 0.5))
        )
        return {"items": len(data["weights"])}
    if env_id == "rlvr/SubsetSum-v0":
        assert max(data["numbers"]) <= params["max_number"] and data["target"] < sum(data["numbers"])
        return {"numbers": len(data["numbers"])}
    if env_id == "rlvr/SetCover-v0":
        assert len(data["subsets"]) == params["planted_sets"] + params["decoy_sets"] + params["random_sets"]
        return {"elements": data["elements"]}
    if env_id == "rlvr/BinPacking-v0":
        bins, capacity = params["bins"], params["capacity"]
        assert 2 * bins <= len(data["sizes"]) <= 4 * bins
        assert bins * capacity * (1 - params["waste"]) - bins <= sum(data["sizes"]) <= bins * capacity
        return {"capacity": data["capacity"], "bins": task.meta["lower_bound"]}
    if env_id == "rlvr/Scheduling-v0":
        jobs = data["jobs"]
        assert all(sorted(m for m, _ in job) == list(range(params["machines"])) for job in jobs)
        assert all(1 <= d <= params["max_duration"] for job in jobs for _, d in job)
        return {"jobs": len(jobs)}
    if env_id == "rlvr/SAT-v0":
        clauses = data["clauses"]
        assert len(clauses) == int(np.floor(params["clause_ratio"] * params["variables"] + 0.5))
        assert all(len({abs(l) for l in clause}) == 3 for clause in clauses)
        return {"variables": data["variables"]}
    raise AssertionError(env_id)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_instances_have_the_documented_size(env_id):
    for difficulty in LEVELS:
        for seed in range(6):
            task = task_of(env_id, seed, difficulty)
            for key, value in measured_parameters(env_id, task).items():
                assert value == task.params[key], (task.id, key)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_explicit_parameters_win_and_bad_ones_raise(env_id):
    table = generator_of(env_id).table
    key = table.keys[0]
    small = table.resolve(0.0)[key]
    task = rlvr.make_task(env_id, seed=1, difficulty=1.0, **{key: small})
    assert task.params[key] == small
    assert verify(task, rlvr.solve(task)).correct
    for bad in (-1, 10**7, "many", 2.5):
        with pytest.raises(ValueError, match=key):
            rlvr.make_task(env_id, seed=1, difficulty=0.5, **{key: bad})


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_every_declared_parameter_refuses_values_outside_its_range(env_id):
    """The typed table checks each parameter before build: its bounds pass, one past them fails
    with a one-line error naming it, and another spelling of a value names the same task."""
    table = generator_of(env_id).table
    for key, param in table.params.items():
        for bad in (param.low - 1, param.high * 2 + 1, "many", None, True):
            with pytest.raises(ValueError, match=key):
                rlvr.make_task(env_id, seed=0, difficulty=0.0, **{key: bad})
    key = table.keys[0]
    value = table.resolve(0.0)[key]
    respelled = float(value) if isinstance(value, int) else int(value) if float(value).is_integer() else str(value)
    assert (
        rlvr.make_task(env_id, seed=0, difficulty=0.0, **{key: respelled}).to_json()
        == rlvr.make_task(env_id, seed=0, difficulty=0.0, **{key: value}).to_json()
    )


@pytest.mark.parametrize(
    "env_id, overrides, named",
    [
        ("rlvr/TSP-v0", {"cities": 10, "grid": 2}, "cities"),
        ("rlvr/VertexCover-v0", {"vertices": 5, "average_degree": 4.5}, "average_degree"),
        ("rlvr/SetCover-v0", {"elements": 4, "planted_sets": 5}, "planted_sets"),
    ],
)
def test_parameters_that_bound_each_other_are_checked_together(env_id, overrides, named):
    with pytest.raises(ValueError, match=named):
        rlvr.make_task(env_id, seed=0, difficulty=0.5, **overrides)
    at_the_bound = dict(overrides, **{named: {"cities": 9, "average_degree": 4.0, "planted_sets": 4}[named]})
    task = rlvr.make_task(env_id, seed=0, difficulty=0.5, **at_the_bound)
    assert verify(task, rlvr.solve(task)).correct


# --------------------------------------------------------------------------------------------
# Reference solutions
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_reference_is_correct_and_optimal_at_three_difficulties(env_id):
    for difficulty in LEVELS:
        for seed in SEEDS:
            task = task_of(env_id, seed, difficulty)
            verdict = verify(task, rlvr.solve(task))
            assert verdict.correct and verdict.reward == 1.0 and verdict.format_ok, (task.id, verdict)
            assert verdict.details["objective"] == reference(task)["objective"] == task.meta["objective"]
            assert reference(task)["status"] == task.meta["status"] == "optimal", task.id  # default sizes solve exactly
            assert task.meta["effort_unit"] and task.meta["effort"] >= 0
            assert not any("wall" in key or key.endswith("_seconds") for key in task.meta)


def brute_force_optimum(env_id, task):
    """The optimum by exhaustive search (small instances only); None = infeasible instance."""
    data = instance(task)
    if env_id == "rlvr/TSP-v0":
        d, n = data["distances"], len(data["distances"])
        return min(sum(d[a][b] for a, b in zip((0, *p), (*p, 0))) for p in itertools.permutations(range(1, n)))
    if env_id == "rlvr/GraphColoring-v0":
        n, edges = data["vertices"], data["edges"]
        for k in range(1, n + 1):
            if any(all(c[u] != c[v] for u, v in edges) for c in itertools.product(range(k), repeat=n)):
                return k
    if env_id in ("rlvr/MaxIndependentSet-v0", "rlvr/VertexCover-v0"):
        n, edges = data["vertices"], data["edges"]
        sizes = []
        for mask in range(1 << n):
            members = {v for v in range(n) if mask >> v & 1}
            if env_id == "rlvr/MaxIndependentSet-v0" and not any(u in members and v in members for u, v in edges):
                sizes.append(len(members))
            if env_id == "rlvr/VertexCover-v0" and all(u in members or v in members for u, v in edges):
                sizes.append(len(members))
        return max(sizes) if env_id == "rlvr/MaxIndependentSet-v0" else min(sizes)
    if env_id == "rlvr/Knapsack-v0":
        w, v, c = data["weights"], data["values"], data["capacity"]
        return max(
            sum(v[i] for i in s)
            for r in range(len(w) + 1)
            for s in itertools.combinations(range(len(w)), r)
            if sum(w[i] for i in s) <= c
        )
    if env_id == "rlvr/SubsetSum-v0":
        nums, t = data["numbers"], data["target"]
        hits = any(
            sum(nums[i] for i in s) == t
            for r in range(len(nums) + 1)
            for s in itertools.combinations(range(len(nums)), r)
        )
        return t if hits else None
    if env_id == "rlvr/SetCover-v0":
        m, subsets = data["elements"], [set(s) for s in data["subsets"]]
        for r in range(1, len(subsets) + 1):
            if any(
                len(set().union(*(subsets[j] for j in s))) == m for s in itertools.combinations(range(len(subsets)), r)
            ):
                return r
    if env_id == "rlvr/BinPacking-v0":
        sizes, c = data["sizes"], data["capacity"]
        for k in range(1, len(sizes) + 1):
            if packs_into(sorted(sizes, reverse=True), [0] * k, c):
                return k
    if env_id == "rlvr/Scheduling-v0":
        return brute_force_makespan(data["jobs"])
    if env_id == "rlvr/SAT-v0":
        n, clauses = data["variables"], data["clauses"]
        satisfiable = any(
            all(any((l > 0) == bits[abs(l) - 1] for l in cl) for cl in clauses)
            for bits in itertools.product((False, True), repeat=n)
        )
        return len(clauses) if satisfiable else None
    raise AssertionError(env_id)


def packs_into(sizes, loads, capacity) -> bool:
    if not sizes:
        return True
    tried = set()
    for b, load in enumerate(loads):
        if load + sizes[0] <= capacity and load not in tried:
            tried.add(load)
            loads[b] += sizes[0]
            if packs_into(sizes[1:], loads, capacity):
                loads[b] -= sizes[0]
                return True
            loads[b] -= sizes[0]
    return False


def brute_force_makespan(jobs) -> int:
    """Least makespan over every order of the jobs on every machine (semi-active schedules)."""
    machines = sorted({m for job in jobs for m, _ in job})
    best = None
    for orders in itertools.product(*(itertools.permutations(range(len(jobs))) for _ in machines)):
        position = {(m, j): k for m, order in zip(machines, orders) for k, j in enumerate(order)}
        end, done, progress = {}, [0] * len(jobs), True
        machine_free = dict.fromkeys(machines, (0, 0))  # (next slot in the order, free time)
        while progress:
            progress = False
            for j, job in enumerate(jobs):
                if done[j] < len(job):
                    m, duration = job[done[j]]
                    slot, free = machine_free[m]
                    if position[m, j] == slot:
                        start = max(free, end.get((j, done[j] - 1), 0))
                        end[j, done[j]] = start + duration
                        machine_free[m] = (slot + 1, start + duration)
                        done[j] += 1
                        progress = True
        if all(done[j] == len(job) for j, job in enumerate(jobs)):
            makespan = max(end.values())
            best = makespan if best is None else min(best, makespan)
    return best


SMALL = {
    "rlvr/TSP-v0": {"cities": 7},
    "rlvr/GraphColoring-v0": {"vertices": 7, "edge_probability": 0.5},
    "rlvr/MaxIndependentSet-v0": {"vertices": 12, "edge_probability": 0.3},
    "rlvr/VertexCover-v0": {"vertices": 12, "average_degree": 3.0},
    "rlvr/Knapsack-v0": {"items": 11},
    "rlvr/SubsetSum-v0": {"numbers": 11, "max_number": 200},
    "rlvr/SetCover-v0": {"elements": 12, "decoy_sets": 5, "random_sets": 4},
    "rlvr/BinPacking-v0": {"bins": 3},
    "rlvr/Scheduling-v0": {"jobs": 3, "machines": 3},
    "rlvr/SAT-v0": {"variables": 10, "clause_ratio": 4.26},
}


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_exact_solver_agrees_with_brute_force(env_id):
    for seed in range(8):
        task = task_of(env_id, seed, 0.5, **SMALL[env_id])
        assert brute_force_optimum(env_id, task) == reference(task)["objective"], task.id
        assert reference(task)["status"] == "optimal"


def test_knapsack_cp_sat_path_agrees_with_dynamic_programming():
    from rlvr.generators.knapsack import dynamic_programme, solve_with_cp_sat

    for seed in range(5):
        data = instance(task_of("rlvr/Knapsack-v0", seed, 1.0))
        run, chosen = solve_with_cp_sat(data["weights"], data["values"], data["capacity"])
        best = dynamic_programme(data["weights"], data["values"], data["capacity"])
        assert run.status == "optimal"
        assert sum(data["values"][i] for i in chosen) == sum(data["values"][i] for i in best)


def test_knapsack_references_are_the_least_optimal_selection():
    """Among tied optimal selections (small weights and values make many), both knapsack solvers
    (the compiled branch and bound on keyed profits, the DP with its read-back) give the one of
    least Σ 2^index: the tie rule the task bytes depend on, whatever computes it."""
    from rlvr.generators.knapsack import dynamic_programme
    from rlvr.generators.material_numbers import knapsack_branch_and_bound as branch_and_bound

    rng = np.random.default_rng(11)
    for _ in range(400):
        count = int(rng.integers(1, 11))
        weights = rng.integers(1, int(rng.choice([2, 4, 12, 300])), size=count).tolist()
        values = rng.integers(1, int(rng.choice([2, 4, 12, 300])), size=count).tolist()
        capacity = int(rng.integers(1, sum(weights) + 2))
        subsets = [[i for i in range(count) if mask >> i & 1] for mask in range(1 << count)]  # by Σ 2^index
        fitting = [chosen for chosen in subsets if sum(weights[i] for i in chosen) <= capacity]
        best = max(sum(values[i] for i in chosen) for chosen in fitting)
        least = next(chosen for chosen in fitting if sum(values[i] for i in chosen) == best)
        for solver in (dynamic_programme, branch_and_bound):
            assert solver(weights, values, capacity) == least, (solver.__name__, weights, values, capacity)


def test_knapsack_branch_and_bound_matches_the_dp_on_every_level():
    """The branch and bound (the default levels' solver) against the DP on default tasks, on
    strongly correlated items (Pisinger's hard class) and where Σ values · 2^items nears the
    ``KEY_LIMIT`` the generator checks."""
    from rlvr.generators.knapsack import KEY_LIMIT, dynamic_programme
    from rlvr.generators.material_numbers import knapsack_branch_and_bound as branch_and_bound

    for difficulty in (0.0, 0.25, 0.5, 0.75, 1.0):
        for seed in range(40):
            task = task_of("rlvr/Knapsack-v0", seed, difficulty)
            data = instance(task)
            args = data["weights"], data["values"], data["capacity"]
            assert branch_and_bound(*args) == dynamic_programme(*args) == reference(task)["solution"]
            assert task.meta["solver"] == "branch and bound (compiled)"
    rng = np.random.default_rng(5)
    for count in (12, 18, 24):
        weights = rng.integers(1, 5000, size=count).tolist()
        values = [w + 500 for w in weights]
        capacity = sum(weights) // 3
        assert branch_and_bound(weights, values, capacity) == dynamic_programme(weights, values, capacity)
    weights = rng.integers(1, 50, size=24).tolist()
    values = rng.integers(2_400_000, 2_700_000, size=24).tolist()
    assert sum(values) << 24 < KEY_LIMIT <= sum(values) << 25  # as near the limit as it goes
    assert branch_and_bound(weights, values, 300) == dynamic_programme(weights, values, 300)


def test_compiled_knapsack_instance_matches_the_python_draws_and_greedy():
    """``material_numbers.knapsack_instance`` gives the weights and values ``MaterialDraws.integers`` and
    the values formula give, the capacity, ``density_greedy``'s items and the DP's selection
    with their values: on random materials and parameters (powers of two and other spans,
    spans of 1 and 2, correlations 0 and 1, up to 60 items, past the exact limit); a rejected
    word (a stream made to hold chosen words) is redrawn from the next word, as the Python rule
    redraws it."""
    import math

    from rlvr.generators.knapsack import BRANCH_AND_BOUND_ITEMS, KEY_LIMIT, density_greedy, dynamic_programme
    from rlvr.generators.material_numbers import TAKEN, _below, _high
    from rlvr.generators.material_numbers import knapsack_instance as instance
    from rlvr.generators.optimisation import MaterialDraws

    rng = np.random.default_rng(17)
    for trial in range(600):
        count = int(rng.integers(2, 61)) if trial % 4 == 0 else int(rng.integers(2, 25))
        max_weight = int(rng.choice([1, 2, 3, 16, 1024, 1000, 65536, 999_983, 1_000_000]))
        correlation = float(rng.choice([0.0, 1.0, rng.random()]))
        fraction = float(rng.uniform(0.01, 0.9))
        material = int(rng.integers(0, 2**63))
        draws = MaterialDraws(material, 2 * count)
        drawn = draws.integers(1, max_weight, 2 * count)
        weights, base = drawn[:count], drawn[count:]
        keep, shift = 1 - correlation, max_weight / 10
        values = [max(1, math.floor(keep * u + correlation * (w + shift) + 0.5)) for u, w in zip(base, weights)]
        capacity = max(min(weights), math.floor(fraction * sum(weights) + 0.5))
        pairs, made_capacity, greedy, greedy_value, exact, exact_value = instance(
            material, count, max_weight, correlation, fraction, BRANCH_AND_BOUND_ITEMS, KEY_LIMIT
        )
        expected_greedy = density_greedy(weights, values, capacity)
        assert (pairs[0::2], pairs[1::2], made_capacity) == (weights, values, capacity), trial
        assert (greedy, greedy_value) == (expected_greedy, sum(values[i] for i in expected_greedy)), trial
        solved = count <= BRANCH_AND_BOUND_ITEMS and sum(values) << count < KEY_LIMIT
        expected = dynamic_programme(weights, values, capacity) if solved else None
        assert exact == expected, trial
        assert exact_value == (sum(values[i] for i in expected) if solved else 0), trial
    for _ in range(2000):
        a, b = int(rng.integers(0, 2**63)) * 2 + int(rng.integers(0, 2)), int(rng.integers(1, 2**40))
        assert int(_high(np.uint64(a), np.uint64(b))) == a * b >> 64
    # span 3: 2⁶⁴ mod 3 = 1, so the word 0 (product 0) is rejected and the next word drawn
    words = [0, 5 << 60, 7 << 59, 1 << 62, 3 << 61]
    stream = np.zeros(TAKEN + 1, np.uint64)  # a stream whose block holds these words first
    stream[: len(words)] = words
    assert [_below(stream, 3) for _ in range(4)] == [w * 3 >> 64 for w in words[1:]]
    assert stream[TAKEN] == len(words)  # the rejected word was taken too


def test_knapsack_solver_paths_by_size():
    """Past ``BRANCH_AND_BOUND_ITEMS`` items the DP solves (exact; the brute-force test above
    checks the objective)."""
    from rlvr.generators.knapsack import BRANCH_AND_BOUND_ITEMS

    for overrides, solver in (
        ({"items": BRANCH_AND_BOUND_ITEMS}, "branch and bound (compiled)"),
        ({"items": BRANCH_AND_BOUND_ITEMS + 1}, "dynamic programming (numpy)"),
    ):
        task = task_of("rlvr/Knapsack-v0", 3, 0.5, **overrides)
        assert (task.meta["solver"], reference(task)["status"]) == (solver, "optimal"), overrides
        assert verify(task, rlvr.solve(task)).correct


def test_subset_sum_reference_is_the_planted_subset():
    """The reference is the planted subset (each index with probability ½, at least one and not
    all), whose sum is the target: exact by construction at every size, so no solver runs."""
    for difficulty in (0.0, 0.5, 1.0):
        for seed in range(60):
            task = task_of("rlvr/SubsetSum-v0", seed, difficulty)
            data, chosen = instance(task), reference(task)["solution"]
            assert chosen == task.meta["planted"] == sorted(set(chosen))
            assert 0 < len(chosen) < len(data["numbers"]) and sum(data["numbers"][i] for i in chosen) == data["target"]
            assert verify(task, rlvr.solve(task)).correct
    big = task_of("rlvr/SubsetSum-v0", 2, 0.5, numbers=200, max_number=1_000_000_000)
    assert verify(big, rlvr.solve(big)).correct and big.meta["solver"] == "planted subset"


def test_no_greedy_hits_a_subset_sum_target():
    """Red team S11-H2 / S11b-K3: taking the numbers largest first (or smallest first, in the
    listed order, in reverse; toward the target or toward the total minus it) while they fit hit
    the target on 17–29 % of d = 0.25 tasks. From 8 numbers none does now; d = 0 (5) is left."""
    for difficulty in (0.25, 0.5, 1.0):
        for seed in range(150):
            data = instance(task_of("rlvr/SubsetSum-v0", seed, difficulty))
            numbers, target = data["numbers"], data["target"]
            for goal in (target, sum(numbers) - target):
                for order in (sorted(numbers, reverse=True), sorted(numbers), numbers, numbers[::-1]):
                    total = 0
                    for number in order:
                        total += number if total + number <= goal else 0
                    assert total != goal, (seed, difficulty, order, goal)


def test_subset_sum_planted_subset_keeps_its_distribution():
    """Each index is planted with probability ½; an empty draw takes one index, a full one drops
    one (both uniform), as the numpy draws did before 2026-12-06."""
    from rlvr.generators.material_numbers import subset_sum_instance

    def planted(material: int, count: int) -> list[int]:  # one attempt: no screen below 8 numbers
        return subset_sum_instance(material, count, 20, 8, 1)[1]

    counts = collections.Counter()
    for material in range(20_000):
        counts.update(planted(material, 5))
    assert all(abs(counts[i] / 20_000 - 0.5) < 0.02 for i in range(5)), counts
    sizes = collections.Counter(len(planted(material, 2)) for material in range(4000))
    assert sizes.keys() == {1} and sizes[1] == 4000  # of 2 numbers: always one (never none, never both)


def test_compiled_subset_sum_instance_follows_the_python_draws_and_greedies():
    """``material_numbers.subset_sum_instance`` replayed in Python from ``MaterialDraws``: the
    numbers (``integers``), the planted subset (``bits``, then ``below`` for an empty or full
    draw), new numbers every 8th attempt, and an attempt kept once none of the eight greedies
    (``greedy_subsets``) hits its target, from 8 numbers; the largest-first greedy's sum. Over
    random materials and sizes, spans of 1 and powers of two, past 64 numbers (two words of
    bits)."""
    from rlvr.generators.material_numbers import subset_sum_instance
    from rlvr.generators.optimisation import MaterialDraws
    from rlvr.generators.subset_sum import GREEDY_REDRAWS, GREEDY_SCREEN_MIN_NUMBERS, greedy_subsets, largest_first

    def replay(material: int, count: int, max_number: int):
        draws = MaterialDraws(material, count)
        for attempt in range(GREEDY_REDRAWS):
            if attempt % 8 == 0:
                numbers = draws.integers(1, max_number, count)
            mask = draws.bits(count)
            if mask == 0:
                mask = 1 << draws.below(count)
            elif mask == (1 << count) - 1:
                mask ^= 1 << draws.below(count)
            planted = [i for i in range(count) if mask >> i & 1]
            target = sum(numbers[i] for i in planted)
            hit = any(sum(numbers[i] for i in subset) == target for _, subset in greedy_subsets(numbers, target))
            if count < GREEDY_SCREEN_MIN_NUMBERS or not hit:
                break
        return numbers, planted, target, sum(numbers[i] for i in largest_first(numbers, target))

    rng = np.random.default_rng(31)
    for trial in range(400):
        count = int(rng.integers(2, 130)) if trial % 5 == 0 else int(rng.integers(2, 25))
        max_number = int(rng.choice([1, 2, 7, 20, 1000, 1024, 50_000, 10**9]))
        material = int(rng.integers(0, 2**63))
        made = subset_sum_instance(material, count, max_number, GREEDY_SCREEN_MIN_NUMBERS, GREEDY_REDRAWS)
        assert made == replay(material, count, max_number), (trial, count, max_number)


def test_material_draws_are_exactly_uniform_and_deterministic():
    """``MaterialDraws``: the same material gives the same words in any call pattern (reading
    further extends the stream), ``integers`` is the one-by-one ``below`` (its rejection
    path included: a span just over 2⁶³ rejects about half the words), and the draws are
    uniform (a chi-square bound over 20 cells)."""
    from rlvr.generators.optimisation import MaterialDraws

    one = MaterialDraws(123, expected_words=1)
    many = MaterialDraws(123, expected_words=500)
    assert [one.take(1)[0] for _ in range(300)] == list(many.take(300))
    for span in (1, 2, 7, 20, 1000, 2**32 + 1, 2**63 + 1, 2**64):
        fast, slow = MaterialDraws(77, 4), MaterialDraws(77, 4)
        drawn = fast.integers(5, 5 + span - 1, 40)
        assert drawn == [5 + slow.below(span) for _ in range(40)] and fast.position == slow.position
        assert all(5 <= x < 5 + span for x in drawn)
    draws = MaterialDraws(2026)
    cells = collections.Counter(draws.integers(1, 20, 40_000))
    chi_square = sum((cells[k] - 2000) ** 2 / 2000 for k in range(1, 21))
    assert sorted(cells) == list(range(1, 21)) and chi_square < 50  # 19 degrees of freedom: p < 0.001 at 43.8
    assert MaterialDraws(9).bits(130) < 2**130 and MaterialDraws(9).bits(130) == MaterialDraws(9, 100).bits(130)


def test_compiled_stream_is_hashlib_shake_256():
    """The compiled stream (``material_numbers._stream``, Keccak-f[1600] by hand) hands out the
    little-endian words of ``hashlib.shake_256`` of the material's 8 little-endian bytes: for
    materials of both halves of the 64-bit range (as the int64 ``signed`` makes them), their
    edges, and reads across several 17-word blocks."""
    import hashlib

    from rlvr.generators.material_numbers import TAKEN, _next_word, _stream, signed

    rng = np.random.default_rng(5)
    materials = [0, 1, 2**63 - 1, 2**63, 2**64 - 1, *(int(m) for m in rng.integers(0, 2**64, 300, dtype=np.uint64))]
    for material in materials:
        count = int(rng.integers(1, 80))
        stream = _stream(signed(material))
        words = [int(_next_word(stream)) for _ in range(count)]
        expected = hashlib.shake_256(material.to_bytes(8, "little")).digest(8 * count)
        assert words == [int.from_bytes(expected[8 * i : 8 * i + 8], "little") for i in range(count)], material
        assert stream[TAKEN] == count


def test_compiled_uniform_integers_are_material_draws():
    """``material_numbers.uniform_integers`` from any position is ``MaterialDraws.integers`` after
    that many words were taken, with the same next position: spans that never reject, rarely
    reject and reject a quarter of the words (3 · 2⁶¹: 2⁶⁴ mod span = 2⁶²), across the stream's
    17-word blocks."""
    from rlvr.generators.material_numbers import uniform_integers
    from rlvr.generators.optimisation import MaterialDraws

    rejected = 0
    for material in range(60):
        for span in (1, 2, 7, 1000, 2**40 + 3, 3 * 2**61):
            for position, count in ((0, 1), (0, 40), (3, 17), (129, 300)):
                draws = MaterialDraws(material, 4)
                draws.take(position)
                expected = draws.integers(0, span - 1, count)
                got, end = uniform_integers(material, position, count, span)
                assert got.tolist() == expected and end == draws.position, (material, span, position, count)
                rejected += end - position - count
    assert rejected > 1000  # the rejection and read-further paths ran


def test_deferred_random_is_the_seeded_random_on_first_use():
    """A generator with ``eager_random = False`` gets a ``DeferredRandom``: its ``material`` is
    the task's seed material and, once used, its draws are ``random.Random(material)``'s."""
    import random

    from rlvr.core import DeferredRandom

    deferred = DeferredRandom(2**63 + 5)
    assert deferred._generator is None and deferred.material == 2**63 + 5
    plain = random.Random(2**63 + 5)
    assert [deferred.random(), deferred.randrange(10)] == [plain.random(), plain.randrange(10)]
    assert rlvr.make_generator("rlvr/Knapsack-v0").eager_random is False
    assert rlvr.make_generator("rlvr/Maze-v0").eager_random is True


@pytest.mark.parametrize(
    "env_id, overrides",
    [
        ("rlvr/Knapsack-v0", {"items": 40, "max_weight": 1_000_000}),  # beyond the DP cell limit: CP-SAT
        ("rlvr/SAT-v0", {"variables": 20, "clause_ratio": 8.0}),  # over the threshold: planted fallback
    ],
)
def test_paths_beyond_the_exact_sizes_still_give_correct_references(env_id, overrides):
    task = rlvr.make_task(env_id, seed=2, difficulty=0.5, **overrides)
    assert verify(task, rlvr.solve(task)).correct
    assert task.meta["solver"] != "dynamic programming (numpy)"
    if env_id == "rlvr/SAT-v0":
        assert task.meta["formula"] == "planted"


CP_SAT_ENVS = [
    "rlvr/TSP-v0",
    "rlvr/MaxIndependentSet-v0",
    "rlvr/VertexCover-v0",
    "rlvr/SetCover-v0",
    "rlvr/BinPacking-v0",
    "rlvr/Scheduling-v0",
]


def cp_sat_chromatic_number(vertices: int, edges: list[list[int]]) -> int:
    """An independent oracle: CP-SAT's proved minimum colour count (assignment model)."""
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    assign = [[model.new_bool_var(f"x{v}_{c}") for c in range(vertices)] for v in range(vertices)]
    used = [model.new_bool_var(f"u{c}") for c in range(vertices)]
    for v in range(vertices):
        model.add_exactly_one(assign[v])
        for c in range(vertices):
            model.add_implication(assign[v][c], used[c])
    for u, v in edges:
        for c in range(vertices):
            model.add_at_most_one([assign[u][c], assign[v][c]])
    for c in range(vertices - 1):
        model.add_implication(used[c + 1], used[c])
    model.minimize(sum(used))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 60.0
    assert solver.solve(model) == cp_model.OPTIMAL
    return int(round(solver.objective_value))


@pytest.mark.parametrize("difficulty", [0.5, 1.0])
def test_graph_colouring_sat_path_agrees_with_cp_sat(difficulty):
    """The DSatur + clique + SAT reference is proved optimal and matches CP-SAT's optimum,
    including instances where the clique bound is not tight (the SAT path decides them)."""
    from rlvr.generators import graph_coloring

    decided_by_sat = 0
    for seed in range(10):
        task = task_of("rlvr/GraphColoring-v0", seed, difficulty)
        data = instance(task)
        assert reference(task)["status"] == "optimal"
        assert cp_sat_chromatic_number(data["vertices"], data["edges"]) == reference(task)["objective"], task.id
        decided_by_sat += task.meta["objective"] > task.meta["clique_size"]
        graph = graph_coloring.as_graph(data["vertices"], data["edges"])
        clique = graph_coloring.maximum_clique(data["vertices"], data["edges"])
        assert all(graph.has_edge(a, b) for a, b in itertools.combinations(clique, 2))
        assert len(clique) == task.meta["clique_size"] <= reference(task)["objective"]
    assert decided_by_sat > 0 or difficulty < 1.0


def test_maximum_clique_agrees_with_networkx():
    import networkx as nx

    from rlvr.generators import graph_coloring
    from rlvr.generators.optimisation import random_graph_by_probability

    rng = np.random.default_rng(11)
    for vertices, probability in ((6, 0.5), (15, 0.3), (25, 0.6), (40, 0.5), (60, 0.4)):
        for _ in range(8):
            edges = random_graph_by_probability(rng, vertices, probability)
            graph = graph_coloring.as_graph(vertices, edges)
            clique = graph_coloring.maximum_clique(vertices, edges)
            assert all(graph.has_edge(a, b) for a, b in itertools.combinations(clique, 2))
            assert len(clique) == nx.max_weight_clique(graph, weight=None)[1]


def test_bin_packing_skips_the_search_only_when_a_packing_meets_the_lower_bound():
    """Default tasks meet ⌈Σ sizes / capacity⌉ with the planted packing (no CP-SAT run); the
    CP-SAT path that remains for the other instances agrees with exhaustive search, also where
    the optimum is above the bound."""
    from rlvr.generators.bin_packing import lower_bound, solve_exact

    for seed in range(20):
        task = task_of("rlvr/BinPacking-v0", seed, 1.0)
        assert task.meta["effort"] == 0 and task.meta["status"] == "optimal"
        assert reference(task)["objective"] == task.meta["lower_bound"]
    rng = np.random.default_rng(4)
    above_bound = 0
    for _ in range(12):
        sizes = [int(x) for x in rng.integers(3, 8, size=int(rng.integers(5, 8)))]
        fewest = next(
            k
            for k in range(1, len(sizes) + 1)
            if any(
                all(sum(s for s, b in zip(sizes, labels) if b == j) <= 10 for j in range(k))
                for labels in itertools.product(range(k), repeat=len(sizes))
            )
        )
        run, bins = solve_exact(sizes, 10, len(sizes))
        assert run.status == "optimal" and len(bins) == fewest, sizes
        above_bound += fewest > lower_bound(sizes, 10)
    assert above_bound > 0


def fitting_splits(sizes, capacity) -> set:
    """Every split of the items into two bins within the capacity (exhaustive), each as the
    frozenset of item 0's bin."""
    rest = range(1, len(sizes))
    return {
        frozenset((0, *others))
        for k in range(len(sizes))
        for others in itertools.combinations(rest, k)
        if sum(sizes[i] for i in (0, *others)) <= capacity
        and sum(sizes) - sum(sizes[i] for i in (0, *others)) <= capacity
    }


def position_guess_odds(sizes, capacity) -> float:
    """The best chance that one two-bin packing fixed by position fits these items shuffled:
    the most, over k, of the fitting splits with a k-item bin over C(items, k)."""
    count, found = len(sizes), collections.Counter()
    for first in fitting_splits(sizes, capacity):
        found[len(first)] += 1
        found[count - len(first)] += 1
    return max(found[k] / math.comb(count, k) for k in found)


def test_two_bin_plants_are_hard_to_guess_by_position():
    """d = 0 plants two bins, redrawn (red team S8-8) while a packing fixed by position would fit
    more than 1 in 10 of the instance's shuffles, or the planted split's own 1 in C(items, k) where
    that is more (2 + 2 items: 1 in 3). The item counts keep their 2–4 per planted bin; the
    reference is the planted packing."""
    counts, odds = collections.Counter(), []
    for seed in range(300):
        task = task_of("rlvr/BinPacking-v0", seed, 0.0)
        sizes, capacity = instance(task)["sizes"], instance(task)["capacity"]
        planted = task.meta["planted_bins"]
        assert reference(task)["solution"] == planted
        planted_only = max(
            sum(len(b) == len(other) for other in planted) / math.comb(len(sizes), len(b)) for b in planted
        )
        odds.append((position_guess_odds(sizes, capacity), planted_only))
        counts[len(sizes)] += 1
    assert sum(found <= max(own, 0.1) + 1e-9 for found, own in odds) >= 0.9 * len(odds)
    assert sum(found for found, _ in odds) / len(odds) <= 0.14
    assert set(counts) == {4, 5, 6, 7, 8} and counts[6] > counts[4] and counts[6] > counts[8]


def test_compiled_two_bin_plant_replays_the_python_draws(monkeypatch):
    """``bin_packing_draws.two_bin_plant`` gives the sizes that ``planted_bin`` twice and the
    redraw replayed in Python give, and leaves the generator in the same state: random
    capacities, wastes, draw budgets and odds targets (the stop rule: one draw only, a target
    met at once, one never met), with and without half an output buffered beforehand, with a
    tiny read-ahead (the refill path), and where numpy draws a word again (a first word of 0
    for the waste's draw; seeds whose cut draws at capacity 10^6 reject a word)."""
    from rlvr.generators import bin_packing, bin_packing_draws

    def python_plant(nprng, capacity, waste, tries, limit):  # the redraw as it ran in Python
        drawn = [bin_packing.planted_bin(nprng, capacity, waste) for _ in range(2)]
        planted, parts = [sizes for sizes, _ in drawn], [items for _, items in drawn]
        count = sum(parts)
        own = max(sum(len(s) == len(b) for b in planted) / math.comb(count, len(s)) for s in planted)
        lowest = position_guess_odds([size for sizes in planted for size in sizes], capacity)
        for _ in range(tries - 1):
            if lowest <= max(own, limit):
                break
            again = [bin_packing.planted_bin(nprng, capacity, waste, items)[0] for items in parts]
            odds = position_guess_odds([size for sizes in again for size in sizes], capacity)
            if odds < lowest:
                planted, lowest = again, odds
        return planted

    rng = np.random.default_rng(11)
    cases = [(seed, 1_000_000, 0.0, 64, 0.1, "fresh", 400) for seed in (1598, 2027)]  # a cut's word redrawn
    cases += [(seed, 23, 0.5, 64, 0.1, "zero word", 400) for seed in range(5)]  # the waste's first word redrawn
    for trial in range(400):
        capacity = int(rng.choice([rng.integers(4, 12), rng.integers(4, 60), rng.integers(4, 400), 5000]))
        waste = float(rng.choice([0.0, 0.9, rng.uniform(0, 0.9), rng.uniform(0, 0.3)]))
        tries = int(rng.choice([1, 2, 64, rng.integers(1, 65)]))
        limit = float(rng.choice([0.0, 1.0, 0.1, rng.uniform(0, 0.6)]))
        start = str(rng.choice(["fresh", "buffered", "zero word"]))
        cases.append((trial, capacity, waste, tries, limit, start, int(rng.choice([400, 2, 1]))))
    kept_first, redrawn, refilled = 0, 0, 0
    for seed, capacity, waste, tries, limit, start, read_ahead in cases:
        monkeypatch.setattr(bin_packing_draws, "READ_AHEAD", read_ahead)
        expected, actual, first = (np.random.default_rng(seed) for _ in range(3))
        for generator in (expected, actual, first):
            if start != "fresh":  # half of a 64-bit output buffered
                generator.integers(0, 5)
            if start == "zero word":  # numpy redraws it unless the span is a power of two
                state = generator.bit_generator.state
                state["uinteger"] = 0
                generator.bit_generator.state = state
        plant = python_plant(expected, capacity, waste, tries, limit)
        assert bin_packing_draws.two_bin_plant(actual, capacity, waste, tries, limit) == plant, seed
        assert actual.bit_generator.state == expected.bit_generator.state, seed
        assert actual.integers(0, 7, size=3).tolist() == expected.integers(0, 7, size=3).tolist()
        if plant == [bin_packing.planted_bin(first, capacity, waste)[0] for _ in range(2)]:
            kept_first += 1
        else:
            assert tries > 1
            redrawn += 1
        refilled += read_ahead < 3
    assert kept_first > 50 and redrawn > 50 and refilled > 50


def test_a_two_bin_plant_that_never_ends_stops_with_an_error(monkeypatch):
    """Words read ahead are doubled while the compiled plant runs out of them (rejections), up to
    ``MAX_READ`` outputs or so: a draw that never ends (a bug) raises instead of eating memory."""
    from rlvr.generators import bin_packing_draws

    reads = []

    def never_done(raw, *args):
        reads.append(raw.shape[0])
        return np.array([bin_packing_draws.OUT_OF_WORDS, 0, 0], dtype=np.int64)

    monkeypatch.setattr(bin_packing_draws, "_two_bin_plant", never_done)
    with pytest.raises(RuntimeError, match="never ends"):
        bin_packing_draws.two_bin_plant(np.random.default_rng(0), 20, 0.2, 64, 0.1)
    assert reads[0] == bin_packing_draws.READ_AHEAD and reads[-2] < bin_packing_draws.MAX_READ <= reads[-1]


def test_a_packing_fixed_by_item_count_scores_near_chance():
    """Red team S8-8 (0.40 at d = 0 before the redraw): for each item count the best of the
    reference packings of 150 fit seeds, answered whatever the sizes, on 300 fresh seeds; and,
    above every such rule, the best position split per item count picked in hindsight on the
    fresh seeds themselves. A guess of the planted split alone is right about 0.08 of the time."""
    fit = [task_of("rlvr/BinPacking-v0", 20000 + seed, 0.0) for seed in range(150)]
    fresh = [task_of("rlvr/BinPacking-v0", 30000 + seed, 0.0) for seed in range(300)]
    verifier = rlvr.make_verifier("rlvr/BinPacking-v0")
    by_count = collections.defaultdict(list)
    for task in fit:
        by_count[len(instance(task)["sizes"])].append(task)
    fixed = {
        count: max(
            sorted({render("rlvr/BinPacking-v0", reference(t)["solution"]) for t in tasks}),
            key=lambda response: sum(verifier.verify(t, response).correct for t in tasks),
        )
        for count, tasks in by_count.items()
    }
    scored = [verifier.verify(t, fixed.get(len(instance(t)["sizes"]), answer("[]"))).reward for t in fresh]
    assert sum(scored) / len(fresh) <= 0.15
    hits = collections.defaultdict(collections.Counter)
    for task in fresh:
        for split in fitting_splits(instance(task)["sizes"], instance(task)["capacity"]):
            hits[len(instance(task)["sizes"])][split] += 1
    best_in_hindsight = sum(max(found.values()) for found in hits.values()) / len(fresh)
    assert best_in_hindsight <= 0.25  # 0.46 before the redraw (0.18 after)
    assert all(verify(t, rlvr.solve(t)).correct for t in fresh)


def cp_sat_independence_number(vertices: int, edges: list[list[int]]) -> int:
    """An independent oracle: CP-SAT's proved largest independent set size."""
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    take = [model.new_bool_var(f"x{v}") for v in range(vertices)]
    for u, v in edges:
        model.add_bool_or([take[u].Not(), take[v].Not()])
    model.maximize(sum(take))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 60.0
    assert solver.solve(model) == cp_model.OPTIMAL
    return int(round(solver.objective_value))


def test_independent_set_branch_and_bound_is_exact():
    """The bitset branch and bound behind MaxIndependentSet and VertexCover returns an
    independent set of CP-SAT's proved optimum size on random graphs of many sizes and
    densities (sparse ones, where its degree-0/1 rule fires, and dense ones), keeps an optimal
    starting set, and gives up (None) when its node budget runs out."""
    from rlvr.generators.max_independent_set import minimum_degree_independent_set

    rng = np.random.default_rng(7)
    searched = 0
    for vertices, probability in ((2, 0.5), (9, 0.5), (20, 0.1), (30, 0.3), (45, 0.12), (60, 0.08), (40, 0.6)):
        for _ in range(12):
            edges = optimisation.random_graph_by_probability(rng, vertices, probability)
            start = minimum_degree_independent_set(vertices, edges)
            found, nodes = optimisation.maximum_independent_set(vertices, edges, start, 10**6)
            members = set(found)
            assert len(members) == len(found) and all(0 <= v < vertices for v in found)
            assert not any(u in members and v in members for u, v in edges)
            assert len(found) == cp_sat_independence_number(vertices, edges), (vertices, edges)
            if len(found) == len(start):
                assert found == sorted(start)  # the search only replaces a set it beats
            searched += nodes > 1
    assert searched > 20
    edges = optimisation.random_graph_by_probability(np.random.default_rng(1), 50, 0.15)
    assert optimisation.maximum_independent_set(50, edges, [], 3) == (None, 4)


@pytest.mark.parametrize("env_id", ["rlvr/MaxIndependentSet-v0", "rlvr/VertexCover-v0"])
def test_independent_set_references_agree_with_cp_sat(env_id):
    """Default tasks (d = 0.5 and 1) are decided by the branch and bound, proved optimal, and
    match CP-SAT's optimum on the same graph; the CP-SAT path still runs beyond the node budget."""
    for difficulty in (0.5, 1.0):
        for seed in range(12):
            task = task_of(env_id, seed, difficulty)
            data = instance(task)
            assert task.meta["effort_unit"] == "search nodes" and reference(task)["status"] == "optimal"
            alpha = cp_sat_independence_number(data["vertices"], data["edges"])
            expected = alpha if env_id == "rlvr/MaxIndependentSet-v0" else data["vertices"] - alpha
            assert reference(task)["objective"] == expected, task.id
    large = rlvr.make_task(env_id, seed=1, difficulty=0.5, vertices=150)
    assert verify(large, rlvr.solve(large)).correct


def test_set_cover_searches_only_when_no_cover_meets_the_counting_bound():
    """Default tasks meet the counting bound (the fewest largest subsets whose sizes reach the
    universe) with the planted blocks or the greedy cover: no CP-SAT run. Instances with large
    decoys miss it; there CP-SAT decides, and both paths agree with exhaustive search."""
    from rlvr.generators.set_cover import counting_lower_bound

    for seed in range(20):
        task = task_of("rlvr/SetCover-v0", seed, 1.0)
        assert task.meta["effort"] == 0 and task.meta["status"] == "optimal"
        assert reference(task)["objective"] == task.meta["lower_bound"]
    paths = set()
    for seed in range(14):
        decoy_size = (1.0, 1.6)[seed % 2]  # decoys of a block's size, or larger ones that lower the bound
        overrides = {"elements": 12, "planted_sets": 4, "decoy_sets": 5, "decoy_size": decoy_size, "random_sets": 3}
        task = task_of("rlvr/SetCover-v0", seed, 0.5, **overrides)
        data = instance(task)
        assert task.meta["lower_bound"] == counting_lower_bound(data["elements"], data["subsets"])
        assert brute_force_optimum("rlvr/SetCover-v0", task) == reference(task)["objective"], task.id
        assert reference(task)["status"] == "optimal"
        paths.add(task.meta["solver"])
    assert paths == {"OR-Tools CP-SAT", "lower bound met (planted blocks or greedy cover)"}


def test_sat_clause_table_is_the_decoded_indices():
    """``clause_table(n)`` row i is ``clause_of_index(i)``: every clause over n variables once
    (three distinct variables, sorted, each sign pattern), so a uniform index is a uniform
    clause; where no table is kept (n = 200, 2000) the decoding still gives valid clauses, and
    the draws use it."""
    from rlvr.generators.optimisation import MaterialDraws
    from rlvr.generators.sat import clause_count_of, clause_of_index, clause_table, random_clause_array

    for variables in (3, 4, 5, 8, 13, 25):
        table = clause_table(variables).tolist()
        assert len(table) == clause_count_of(variables) == len({tuple(row) for row in table})
        assert [clause_of_index(index) for index in range(len(table))] == table
        assert all(0 < abs(a) < abs(b) < abs(c) <= variables for a, b, c in table)
    for variables in (60, 200, 2000):
        total = clause_count_of(variables)
        for index in [*range(40), total // 3, total // 2, total - 1]:
            a, b, c = clause_of_index(index)
            assert 0 < abs(a) < abs(b) < abs(c) <= variables
        drawn = random_clause_array(MaterialDraws(variables), variables, 50).tolist()
        assert all(0 < abs(a) < abs(b) < abs(c) <= variables for a, b, c in drawn)
    assert clause_of_index(clause_count_of(2000) - 1) == [-1998, -1999, -2000]


def test_sat_clauses_are_uniform():
    """Over 5 variables (80 clauses) 40,000 drawn clauses fall evenly (chi-square, 79 degrees of
    freedom: p < 0.001 beyond 118), and each variable is negated half the time."""
    from rlvr.generators.optimisation import MaterialDraws
    from rlvr.generators.sat import random_clause_array

    drawn = random_clause_array(MaterialDraws(2026), 5, 40_000).tolist()
    cells = collections.Counter(map(tuple, drawn))
    assert len(cells) == 80
    assert sum((count - 500) ** 2 / 500 for count in cells.values()) < 118
    negated = sum(literal < 0 for clause in drawn for literal in clause) / (3 * len(drawn))
    assert abs(negated - 0.5) < 0.01


def test_sat_greedy_and_solver_calls_match_their_plain_definitions():
    """``johnson_greedy`` (compiled: clauses waiting on their next literal) gives the assignment
    and the satisfied count of Johnson's rule counted afresh at every variable, for the clause
    table's int32 rows and int64 ones; ``solve_formula``
    (python-sat's MiniSat backend called directly) gives the verdict, model and counters of
    python-sat's ``Solver`` on the same formula."""
    from pysat.solvers import Solver

    from rlvr.generators.material_numbers import johnson_greedy
    from rlvr.generators.optimisation import MaterialDraws
    from rlvr.generators.sat import CONFLICT_BUDGET, SAT_SOLVER, random_clause_array, solve_formula

    rng = np.random.default_rng(5)
    for trial in range(300):
        variables = int(rng.integers(3, 40))
        clauses = random_clause_array(MaterialDraws(trial), variables, int(rng.integers(1, 6 * variables))).tolist()
        assignment, unsatisfied = [], [set(clause) for clause in clauses]
        for k in range(1, variables + 1):
            holding = sum(k in clause for clause in unsatisfied), sum(-k in clause for clause in unsatisfied)
            literal = k if holding[0] >= holding[1] else -k
            assignment.append(literal)
            unsatisfied = [clause for clause in unsatisfied if literal not in clause]
        for dtype in (np.int32, np.int64):
            block = np.array(clauses, dtype)
            assert johnson_greedy(variables, block) == (assignment, len(clauses) - len(unsatisfied)), trial
        with Solver(name=SAT_SOLVER, bootstrap_with=clauses) as solver:
            solver.conf_budget(CONFLICT_BUDGET)
            verdict = solver.solve_limited()
            model, stats = solver.get_model(), solver.accum_stats()
        got_verdict, got_model, got_stats = solve_formula(variables, clauses)
        assert got_verdict == verdict, trial
        assert got_stats == {"conflicts": stats["conflicts"], "decisions": stats["decisions"]}, trial
        if verdict:
            assert got_model[: len(model)] == model and len(got_model) == variables
            assert all(set(clause) & set(got_model) for clause in clauses)


def test_tsp_held_karp_agrees_with_cp_sat():
    """The Held-Karp reference (every default size) returns a tour of its stated length equal
    to CP-SAT's proved optimum, from 3 cities to HELD_KARP_MAX_CITIES; beyond, CP-SAT decides."""
    from rlvr.generators.tsp import HELD_KARP_MAX_CITIES, distance_matrix, held_karp, solve_exact
    from rlvr.verifiers.tsp import tour_length

    rng = np.random.default_rng(3)
    for cities in (3, 4, 5, 8, 11, 13, HELD_KARP_MAX_CITIES):
        for _ in range(4 if cities < 13 else 2):
            cells = rng.choice(101 * 101, size=cities, replace=False)
            distances = distance_matrix([(int(c) // 101, int(c) % 101) for c in cells])
            length, tour = held_karp(distances)
            assert tour[0] == 0 and sorted(tour) == list(range(cities))
            assert tour_length(distances, tour) == length
            run, _ = solve_exact(distances)
            assert run.status == "optimal" and run.objective == length, (cities, distances)
    for difficulty in LEVELS:
        assert task_of("rlvr/TSP-v0", 0, difficulty).meta["solver"].startswith("Held-Karp")
    beyond = rlvr.make_task("rlvr/TSP-v0", seed=0, difficulty=1.0, cities=HELD_KARP_MAX_CITIES + 1)
    assert beyond.meta["solver"] == "OR-Tools CP-SAT" and verify(beyond, rlvr.solve(beyond)).correct


def test_tsp_distance_table_rounds_exactly():
    """The vectorised table equals integer arithmetic (⌊√s⌋ by math.isqrt, then round half
    up, which never ties) on random points up to the largest grid and on points whose squared
    distances sit at and beside perfect squares, where a float square root could be off."""
    import math

    from rlvr.generators.tsp import distance_matrix

    def exact(a, b):
        squared = (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2
        root = math.isqrt(squared)
        return root + (squared - root * root > root)

    rng = np.random.default_rng(8)
    point_sets = [
        [tuple(int(v) for v in p) for p in rng.integers(0, grid + 1, size=(30, 2))] for grid in (2, 100, 10_000)
    ]
    point_sets.append([(0, 0), (10_000, 10_000), (0, 10_000), (9_999, 0), (3, 4), (6_000, 8_000), (5_999, 8_000)])
    point_sets.append([(0, 0)] + [(k, 0) for k in (1, 9_999, 10_000)] + [(7_071, 7_071), (7_071, 7_072)])
    for points in point_sets:
        assert distance_matrix(points) == [[exact(a, b) for b in points] for a in points]


def test_tsp_bounded_held_karp_gives_held_karps_tour():
    """From 13 cities (d ≥ 0.75): the bounded Held-Karp, given any tour's length, returns exactly
    the full Held-Karp's length and tour; the 1-tree bound proves a local-search tour only
    when it is a shortest one (and does so on most instances); ``shortest_tour`` returns a
    tour of the full Held-Karp's length, CP-SAT's proved optimum, over many instances,
    including small grids where many tours tie; the default d = 0.75 and d = 1 tasks carry it."""
    from rlvr.generators.tsp import (
        HELD_KARP_MAX_CITIES,
        distance_matrix,
        held_karp,
        held_karp_bounded,
        local_search,
        nearest_neighbour_tour,
        one_tree_proves,
        shortest_tour,
        solve_exact,
    )
    from rlvr.verifiers.tsp import tour_length

    rng = np.random.default_rng(17)
    checked_with_cp_sat = proved = 0
    for cities, grid in (
        (12, 75),
        (13, 75),
        (14, 100),
        (HELD_KARP_MAX_CITIES, 100),
        (15, 10),
        (15, 4),
        (13, 3),
        (15, 10_000),
    ):
        for draw in range(40):
            cells = rng.choice((grid + 1) ** 2, size=cities, replace=False)
            distances = distance_matrix([(int(c) // (grid + 1), int(c) % (grid + 1)) for c in cells])
            full = held_karp(distances)
            searched = local_search(distances, nearest_neighbour_tour(distances))
            assert searched[0] == 0 and sorted(searched) == list(range(cities))
            known = tour_length(distances, searched)
            assert held_karp_bounded(distances, known) == full, (cities, grid, distances)
            assert held_karp_bounded(distances, known + 50) == full
            if one_tree_proves(distances, known, [0.0] * cities):
                assert known == full[0], (cities, grid, distances)
                proved += 1
            if known > full[0]:
                assert not one_tree_proves(distances, known, [0.0] * cities)
            length, tour = shortest_tour(distances, nearest_neighbour_tour(distances))
            assert length == full[0] == tour_length(distances, tour) and tour[0] == 0
            assert sorted(tour) == list(range(cities))
            if draw < 2:
                run, _ = solve_exact(distances)
                assert run.status == "optimal" and run.objective == length
                checked_with_cp_sat += 1
    assert checked_with_cp_sat == 16 and proved > 160
    for seed in range(12):  # the default d = 0.75 and d = 1 tasks take the bounded path
        for difficulty in (0.75, 1.0):
            task = task_of("rlvr/TSP-v0", seed, difficulty)
            tour = reference(task)["solution"]
            distances = instance(task)["distances"]
            assert held_karp(distances)[0] == reference(task)["objective"] == tour_length(distances, tour)
            assert task.meta["solver"].startswith("Held-Karp 1-tree bound")


def test_scheduling_lower_bound_and_non_delay_schedule():
    """``preemptive_bound`` equals a brute-force preemptive one-machine optimum (unit time
    slices, longest tail first is optimal) and is at least least head + load + least tail;
    ``JobShop.lower_bound`` never exceeds the brute-force least makespan and meets it on some
    instances; ``JobShop.non_delay`` is feasible and never lets a machine idle while an
    operation waits for it."""
    from rlvr.generators.job_shop_solver import JobShop, preemptive_bound
    from rlvr.verifiers.scheduling import evaluate_schedule

    rng = np.random.default_rng(29)
    for _ in range(300):
        operations = [tuple(int(x) for x in rng.integers(0, 8, size=3)) for _ in range(int(rng.integers(1, 6)))]
        operations = [(head, duration + 1, tail) for head, duration, tail in operations]
        left, time, best = {i: op[1] for i, op in enumerate(operations)}, 0, 0
        while left:  # one time unit at a time: the released operation of longest tail runs
            ready = [i for i in left if operations[i][0] <= time]
            if ready:
                i = max(ready, key=lambda i: operations[i][2])
                left[i] -= 1
                if not left[i]:
                    del left[i]
                    best = max(best, time + 1 + operations[i][2])
            time += 1
        assert preemptive_bound(operations) == best, operations
        simple = min(op[0] for op in operations) + sum(op[1] for op in operations) + min(op[2] for op in operations)
        assert best >= simple
    met = 0
    for _ in range(120):
        job_count, machines = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        jobs = [[[int(m), int(rng.integers(1, 8))] for m in rng.permutation(machines)] for _ in range(job_count)]
        optimum = brute_force_makespan(jobs)
        shop = JobShop(jobs)
        assert shop.lower_bound() <= optimum, jobs
        met += shop.lower_bound() == optimum
        starts = shop.non_delay()
        assert evaluate_schedule(jobs, starts).objective is not None, jobs
        for j, job in enumerate(jobs):
            for k, (machine, _) in enumerate(job):
                ready = starts[j][k - 1] + job[k - 1][1] if k else 0
                if starts[j][k] > ready:  # it waited: its machine was busy from ready until its start
                    busy = [
                        (starts[i][step], starts[i][step] + d)
                        for i, other in enumerate(jobs)
                        for step, (m, d) in enumerate(other)
                        if m == machine
                    ]
                    assert all(any(a <= t < b for a, b in busy) for t in range(ready, starts[j][k])), jobs
    assert met > 60


def test_scheduling_branch_and_bound_is_exact():
    """The branch and bound's schedule is feasible, of the brute-force least makespan, and
    None exactly when the given upper bound is already optimal; it does not depend on the
    floor it starts from (the first optimal active schedule in its order); past its node limit
    it raises with a floor no higher than the optimum, and the generator's CP-SAT path, given
    that floor, decides the same optimum."""
    from rlvr.generators.job_shop_solver import JobShop, NodeLimitReached
    from rlvr.generators.scheduling import makespan_of
    from rlvr.verifiers.scheduling import evaluate_schedule

    rng = np.random.default_rng(23)
    improved = 0
    for _ in range(120):
        job_count, machines = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        jobs = [[[int(m), int(rng.integers(1, 8))] for m in rng.permutation(machines)] for _ in range(job_count)]
        optimum = brute_force_makespan(jobs)
        shop = JobShop(jobs)
        dispatch = makespan_of(jobs, shop.earliest_start())
        found, nodes = shop.branch_and_bound(shop.lower_bound(), dispatch, 10**6)
        if found is None:
            assert dispatch == optimum, jobs
        else:
            assert evaluate_schedule(jobs, found).objective == optimum < dispatch, jobs
            assert shop.branch_and_bound(0, dispatch, 10**6)[0] == found, jobs
            improved += 1
        assert shop.branch_and_bound(0, optimum, 10**6)[0] is None  # nothing beats the optimum
    assert improved > 5
    for seed in range(40):
        task = task_of("rlvr/Scheduling-v0", seed, 1.0)
        jobs, optimum = instance(task)["jobs"], reference(task)["objective"]
        shop = JobShop(jobs)
        try:
            shop.branch_and_bound(0, 10**6, 20)
        except NodeLimitReached as reached:
            assert reached.floor <= optimum
        else:
            raise AssertionError(f"seed {seed}: 20 nodes sufficed from floor 0")
    assert JobShop([[], []]).branch_and_bound(0, 5, 10) == ([[], []], 0)  # the empty schedule is shorter
    assert JobShop([[], []]).branch_and_bound(0, 0, 10) == (None, 0)
    for bad in ([[[0, 0], [1, 2]]], [[[-1, 3]]]):  # a zero duration hung the preemptive bound (review, s23)
        with pytest.raises(ValueError, match="durations must be at least 1"):
            JobShop(bad)


@pytest.mark.parametrize("difficulty", [0.25, 1.0])
def test_scheduling_falls_back_to_cp_sat_past_the_node_limit(monkeypatch, difficulty):
    searched = [s for s in range(30) if task_of("rlvr/Scheduling-v0", s, difficulty).meta["effort"] > 1]
    monkeypatch.setattr(scheduling, "BRANCH_AND_BOUND_NODE_LIMIT", 1)
    for seed in searched[:6]:
        task = type(generator_of("rlvr/Scheduling-v0"))().generate(seed, difficulty)
        assert task.meta["solver"] == "OR-Tools CP-SAT" and task.meta["status"] == "optimal"
        assert reference(task)["objective"] == reference(task_of("rlvr/Scheduling-v0", seed, difficulty))["objective"]


def test_numpy_words_replay_numpys_choice_and_integers():
    """``NumpyWords.sorted_sample`` (and ``sorted_samples``, a batch) gives numpy's
    ``choice(n, size, replace=False)`` (sorted) and ``bounded`` its ``integers(0, top + 1)``,
    mixed in any order, from every kind of starting state, also near 2³² where numpy redraws;
    ``close`` leaves the generator exactly where the numpy calls leave it."""
    rng = np.random.default_rng(2)
    for trial in range(300):
        expected, actual = np.random.default_rng(trial), np.random.default_rng(trial)
        if trial % 2:  # half of a 64-bit output buffered beforehand
            expected.integers(0, 5)
            actual.integers(0, 5)
        words = optimisation.NumpyWords(actual)
        for _ in range(int(rng.integers(0, 12))):
            population = int(rng.integers(1, 400)) if trial % 3 else int(rng.integers(1, 10_001))
            if trial % 5 == 0:  # near 2³²: numpy redraws about one word in three (the exact path)
                population = int(rng.integers(2**31, 2**32 - 1))
            if rng.random() < 0.7:
                sizes = [
                    population if rng.random() < 0.1 else int(rng.integers(1, min(population, 40) + 1))
                    for _ in range(int(rng.integers(1, 4)))
                ]
                sizes = [min(size, 5) if population > 10_000 else size for size in sizes]  # numpy's Floyd branch
                numpy_samples = [sorted(expected.choice(population, size=k, replace=False).tolist()) for k in sizes]
                if len(sizes) == 1:
                    assert words.sorted_sample(population, sizes[0]) == numpy_samples[0]
                else:
                    assert words.sorted_samples(population, sizes) == numpy_samples
            else:
                assert words.bounded(population - 1) == int(expected.integers(0, population))
        words.close()
        assert actual.bit_generator.state == expected.bit_generator.state, trial  # the spent half's value too
        assert actual.integers(0, 10, size=3).tolist() == expected.integers(0, 10, size=3).tolist()
        assert actual.random() == expected.random()


def test_graph_colouring_spent_conflict_budget_keeps_a_valid_reference(monkeypatch):
    from rlvr.generators import graph_coloring

    monkeypatch.setattr(graph_coloring, "CONFLICT_BUDGET", 1)
    statuses = set()
    for seed in range(6):
        task = graph_coloring.GraphColoringGenerator().generate(seed, 1.0)
        statuses.add(task.meta["status"])
        if task.meta["status"] == "optimal":
            assert task.meta["objective"] == task.meta["clique_size"] or task.meta["sat_calls"] > 0
        else:
            assert task.meta["objective"] > task.meta["clique_size"]
        assert verify(task, rlvr.solve(task)).correct
    assert statuses & {"heuristic", "best-known"}


@pytest.mark.parametrize("env_id", CP_SAT_ENVS)
def test_a_spent_solver_limit_falls_back_to_the_heuristic(env_id, monkeypatch):
    monkeypatch.setattr(optimisation, "CP_SAT_DETERMINISTIC_LIMIT", 1e-9)
    monkeypatch.setattr(optimisation, "INDEPENDENT_SET_NODE_LIMIT", 0)  # the branch and bound gives up at once
    monkeypatch.setattr(scheduling, "BRANCH_AND_BOUND_NODE_LIMIT", 0)  # so does Scheduling's
    beyond_dynamic_programming = {"cities": 20} if env_id == "rlvr/TSP-v0" else {}  # Held-Karp takes up to 15
    task = type(generator_of(env_id))().generate(3, 1.0, **beyond_dynamic_programming)
    # the planted packing (cover) meets the lower bound, so it is still provably optimal
    bound_met = env_id in ("rlvr/BinPacking-v0", "rlvr/SetCover-v0") or task.meta["solver"].startswith(
        "lower bound met"
    )
    assert task.meta["status"] == ("optimal" if bound_met else "heuristic")
    assert verify(task, rlvr.solve(task)).correct
    greedy = verify(task, generator_of(env_id).greedy_response(task))
    assert greedy.format_ok and greedy.reward <= 1.0


# --------------------------------------------------------------------------------------------
# Random, perturbed and greedy solutions
# --------------------------------------------------------------------------------------------


def random_solution(env_id, task, rng: np.random.Generator):
    data = instance(task)
    if env_id == "rlvr/TSP-v0":
        return [int(c) for c in rng.permutation(len(data["distances"]))]
    if env_id == "rlvr/GraphColoring-v0":
        return [int(c) for c in rng.integers(1, data["vertices"] + 1, size=data["vertices"])]
    size = {
        "rlvr/MaxIndependentSet-v0": lambda: data["vertices"],
        "rlvr/VertexCover-v0": lambda: data["vertices"],
        "rlvr/Knapsack-v0": lambda: len(data["weights"]),
        "rlvr/SubsetSum-v0": lambda: len(data["numbers"]),
        "rlvr/SetCover-v0": lambda: len(data["subsets"]),
    }
    if env_id in size:
        return [i for i in range(size[env_id]()) if rng.random() < 0.5]
    if env_id == "rlvr/BinPacking-v0":
        labels = rng.integers(0, reference(task)["objective"], size=len(data["sizes"]))
        return [[i for i in range(len(labels)) if labels[i] == b] for b in range(reference(task)["objective"])]
    if env_id == "rlvr/Scheduling-v0":
        return [[int(s) for s in rng.integers(0, reference(task)["objective"], size=len(job))] for job in data["jobs"]]
    if env_id == "rlvr/SAT-v0":
        return [v if rng.random() < 0.5 else -v for v in range(1, data["variables"] + 1)]
    raise AssertionError(env_id)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_random_solutions_are_infeasible_or_worse(env_id):
    rng = np.random.default_rng(5)
    for difficulty in (0.5, 1.0):
        for seed in range(12):
            task = task_of(env_id, seed, difficulty)
            verdict = verify(task, render(env_id, random_solution(env_id, task, rng)))
            assert verdict.format_ok and not verdict.correct and verdict.reward < 1.0, (task.id, verdict)


def perturbations(env_id, task):
    """(solution, expectation) pairs around the reference: "infeasible" must score 0,
    "not better" must be feasible and no better than the (optimal) reference, "any" must be
    judged consistently."""
    data, best = instance(task), reference(task)["solution"]
    if env_id == "rlvr/TSP-v0":
        for i, j in itertools.combinations(range(len(best)), 2):
            swapped = list(best)
            swapped[i], swapped[j] = swapped[j], swapped[i]
            yield swapped, "not better"
        yield best[:-1] + [best[0]], "infeasible"
    elif env_id == "rlvr/GraphColoring-v0":
        for v in range(data["vertices"]):
            for colour in range(1, max(best) + 2):
                yield best[:v] + [colour] + best[v + 1 :], "any"
    elif env_id in ("rlvr/MaxIndependentSet-v0", "rlvr/Knapsack-v0", "rlvr/SubsetSum-v0"):
        count = data.get("vertices") or len(data.get("weights") or data["numbers"])
        for i in range(count):
            if i in best:
                yield [x for x in best if x != i], "infeasible" if env_id == "rlvr/SubsetSum-v0" else "not better"
            else:
                yield best + [i], "infeasible"  # an optimum cannot be extended
    elif env_id in ("rlvr/VertexCover-v0", "rlvr/SetCover-v0"):
        count = data.get("vertices") or len(data["subsets"])
        for i in range(count):
            yield ([x for x in best if x != i], "infeasible") if i in best else (best + [i], "not better")
    elif env_id == "rlvr/BinPacking-v0":
        for contents in best:
            for item in contents:
                for target in range(len(best) + 1):
                    moved = [[x for x in bin_ if x != item] for bin_ in best] + [[]]
                    moved[target].append(item)
                    yield moved, "any"
    elif env_id == "rlvr/Scheduling-v0":
        for j, row in enumerate(best):
            for k in range(len(row)):
                for shift in (-1, 1):
                    moved = [list(r) for r in best]
                    moved[j][k] += shift
                    yield moved, "any"
    elif env_id == "rlvr/SAT-v0":
        for k in range(len(best)):
            yield best[:k] + [-best[k]] + best[k + 1 :], "any"
        yield best[:-1] + [best[0]], "infeasible"


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_perturbed_references_are_infeasible_or_no_better(env_id):
    minimise = sense_of(env_id) == "min"
    for difficulty in LEVELS:
        for seed in range(4):
            task = task_of(env_id, seed, difficulty)
            best = reference(task)["objective"]
            for solution, expectation in perturbations(env_id, task):
                verdict = verify(task, render(env_id, solution))
                assert verdict.format_ok, (task.id, verdict)
                if expectation == "infeasible":
                    assert verdict.reward == 0.0 and not verdict.correct, (task.id, solution, verdict)
                if "violation" in verdict.details:
                    assert verdict.reward == 0.0 and not verdict.correct
                    continue
                assert expectation != "infeasible"
                objective = verdict.details["objective"]
                better = objective < best if minimise else objective > best
                assert not better, (task.id, solution, verdict)  # the reference is optimal
                assert verdict.correct == (objective == best)
                assert verdict.reward == (1.0 if objective == best else 0.0)  # binary by default
                if sense_of(env_id) != "feasible":
                    ratio = min(best, objective) / max(best, objective)
                    assert verdict.details["ratio"] == pytest.approx(ratio, abs=1e-6)
                    graded = rlvr.make_verifier(env_id, partial=True).verify(task, render(env_id, solution))
                    closed = gap_closed(ratio, sense_of(env_id), greedy_objective(task), best)
                    assert graded.reward == (1.0 if objective == best else pytest.approx(closed, abs=1e-6))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_greedy_never_beats_the_optimal_reference_and_verdicts_report_the_gap(env_id):
    generator = generator_of(env_id)
    for difficulty in LEVELS:
        for seed in range(8):
            task = task_of(env_id, seed, difficulty)
            verdict = verify(task, generator.greedy_response(task))
            assert verdict.format_ok
            if sense_of(env_id) == "feasible":
                assert verdict.correct == (verdict.reward == 1.0)
                continue
            assert verdict.details["objective"] == task.meta["greedy_objective"]
            ref, objective = verdict.details["reference"], verdict.details["objective"]
            assert (objective >= ref) if sense_of(env_id) == "min" else (objective <= ref)
            expected_gap = (objective - ref) / ref if sense_of(env_id) == "min" else (ref - objective) / ref
            assert verdict.details["gap"] == pytest.approx(expected_gap, abs=1e-6)
            assert verdict.correct == (objective == ref)
            assert str(objective) in verdict.reason and str(ref) in verdict.reason


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_wrong_response_is_worse_or_infeasible(env_id):
    generator = generator_of(env_id)
    for difficulty in LEVELS:
        for seed in range(8):
            task = task_of(env_id, seed, difficulty)
            verdict = verify(task, generator.wrong_response(task))
            assert verdict.format_ok and not verdict.correct and verdict.reward < 1.0, (task.id, verdict)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_generators_judge_only_through_the_verifiers_pure_functions(env_id):
    """A generator that judged through a Verifier (or rlvr.verify) would score its own wrong
    answers and attacks with the code under test; it may use only the verifier module's pure
    functions (``evaluate_*``, and TSP's ``tour_length``), and every one of them it uses agrees
    with the verifier on the reference."""
    import ast
    import inspect

    module = inspect.getmodule(type(generator_of(env_id)))
    tree = ast.parse(inspect.getsource(module))
    imported = {
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if (node.module or "").startswith("rlvr.verifiers")
    }
    assert imported and all(name.startswith("evaluate_") or name == "tour_length" for _, name in imported), imported
    assert "verify(" not in inspect.getsource(module)
    generator = generator_of(env_id)
    for seed in range(4):
        task = task_of(env_id, seed, 0.5)
        assert generator.solves(task, reference(task)["solution"])
        assert verify(task, rlvr.solve(task)).details["objective"] == generator.objective_of(
            task, reference(task)["solution"]
        )


# --------------------------------------------------------------------------------------------
# Parsing: tolerant of separators, strict about content; hostile answers score 0
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_separators_whitespace_and_brackets_are_tolerated(env_id):
    task = task_of(env_id, 7, 0.5)
    best = reference(task)["solution"]
    if env_id in GROUPED:
        variants = [
            " ".join("[" + " ".join(map(str, g)) + "]" for g in best),
            "\n".join(", ".join(map(str, g)) for g in best),
            "(" + ", ".join("(" + "; ".join(map(str, g)) + ")" for g in best) + ")",
            "\n [ " + ",\n".join(" { " + " , ".join(map(str, g)) + " } " for g in best) + " ] \n",
        ]
    else:
        variants = [
            " ".join(map(str, best)),
            ",".join(map(str, best)),
            "(" + "; ".join(map(str, best)) + ")",
            "{ " + " ,\n ".join(map(str, best)) + " }",
            "\n\t" + "  ".join(map(str, best)) + "\n",
        ]
        if env_id == "rlvr/TSP-v0":
            variants += [" -> ".join(map(str, best + [best[0]])), "→".join(map(str, best))]
    for text in variants:
        verdict = verify(task, f"Working it out… <answer>{text}</answer>")
        assert verdict.correct, (env_id, text, verdict)


def hostile_blocks(env_id, task) -> dict[str, str]:
    best = reference(task)["solution"]
    flat = [x for g in best for x in g] if env_id in GROUPED else list(best)
    size = len(flat)
    big = "[" + ", ".join(["0"] * 1_000_000) + "]"
    blocks = {
        "empty": "",
        "words": "the best tour I can find",
        "claimed objective inside": ", ".join(map(str, flat)) + ", total = 3",
        "floats": ", ".join(f"{x}.0" for x in flat),
        "exponent": "1e3, 2",
        "huge integer": "9" * 40,
        "million entries": big,
        "double minus": "--1, 2",
        "unbalanced": "[" * 3 + "1, 2",
        "deep nesting": "[" * 50 + "1" + "]" * 50,
        "unicode digits": "١, ٢",
        "out of range": ", ".join(map(str, flat[:-1] + [10**9])),
        "negative": ", ".join(map(str, [-(size + 1) if env_id == "rlvr/SAT-v0" else -1] + flat[1:])),
        "duplicates": ", ".join(map(str, flat[:-1] + [flat[0]] if size >= 2 else flat * 2)),
        "missing": ", ".join(map(str, flat[:-1])),
        "too many": ", ".join(map(str, flat + flat)),
    }
    if env_id in GROUPED:
        groups = [list(g) for g in best]
        blocks["missing"] = "[" + ", ".join("[" + ", ".join(map(str, g)) + "]" for g in groups[:-1]) + "]"
        blocks["duplicates"] = "[" + ", ".join("[" + ", ".join(map(str, g + g[:1])) + "]" for g in groups) + "]"
        blocks["negative"] = "[" + ", ".join("[" + ", ".join(map(str, [-1] + g[1:])) + "]" for g in groups) + "]"
        blocks["out of range"] = (
            "[" + ", ".join("[" + ", ".join(map(str, g[:-1] + [10**9])) + "]" for g in groups) + "]"
        )
        blocks["numbers outside lists"] = "[[0], 1, [2]]"
        blocks["mismatched brackets"] = "[[0, 1), [2]]"
    assert size > 0
    return blocks


# Where any subset of a solution is feasible, a reference with one member missing is a worse
# solution (0 by default, its ratio under partial=True), not an invalid one.
PARTIAL_WHEN_MISSING = {"rlvr/MaxIndependentSet-v0", "rlvr/Knapsack-v0"}


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_hostile_answers_score_zero_without_error(env_id):
    task = task_of(env_id, 4, 0.5)
    for name, block in hostile_blocks(env_id, task).items():
        verdict = verify(task, answer(block))
        assert not verdict.correct and verdict.reason, (env_id, name, verdict)
        assert not verdict.reason.startswith("verifier error"), (env_id, name, verdict)
        assert verdict.reward == 0.0, (env_id, name, verdict)
        graded = rlvr.make_verifier(env_id, partial=True).verify(task, answer(block))
        if name == "missing" and env_id in PARTIAL_WHEN_MISSING:
            assert graded.format_ok and "objective" in graded.details, (env_id, name, graded)
            objective, reference = graded.details["objective"], graded.details["reference"]
            closed = gap_closed(quality_ratio("max", objective, reference), "max", greedy_objective(task), reference)
            assert graded.reward == pytest.approx(closed, abs=1e-6) and graded.reward < 1.0, (env_id, graded)
        else:
            assert graded.reward == 0.0, (env_id, name, graded)
    assert verify(task, rlvr.solve(task)).correct


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_a_claimed_objective_outside_the_answer_is_ignored(env_id):
    task = task_of(env_id, 9, 1.0)
    wrong = generator_of(env_id).wrong_response(task)
    claimed = f"My solution has objective {reference(task)['objective']} which is optimal.\n{wrong}"
    assert verify(task, claimed) == verify(task, wrong)
    assert not verify(task, claimed).correct


def test_flat_parser_rules():
    assert parse_integer_list(" [0, 3; 1\n2] ", max_entries=4) == [0, 3, 1, 2]
    assert parse_integer_list("", max_entries=4) == [] and parse_integer_list("[]", max_entries=4) == []
    assert parse_integer_list("-1 2", max_entries=4) == [-1, 2]
    for bad in ("[1, 2)", "1.5", "1 2 3 4 5", "+1", "1-2", "[1, [2]]", "x", "0x1F", "1" * 13):
        with pytest.raises(AnswerFormatError):
            parse_integer_list(bad, max_entries=4)
    with pytest.raises(AnswerFormatError, match="longer"):
        parse_integer_list("1, " * 10_000, max_entries=4)


def test_group_parser_rules():
    assert parse_integer_groups("[[0, 1], [2]]", max_groups=3, max_entries=3) == [[0, 1], [2]]
    assert parse_integer_groups("[0 1] (2)", max_groups=3, max_entries=3) == [[0, 1], [2]]
    assert parse_integer_groups("0, 1\n\n2\n", max_groups=3, max_entries=3) == [[0, 1], [2]]
    assert parse_integer_groups("[[], [0, 1, 2]]", max_groups=3, max_entries=3) == [[], [0, 1, 2]]
    for bad in (
        "[[[0]]]",
        "[[0], 1]",
        "[[0, 1], [2]",
        "[[0, 1)]",
        "[[0], [1], [2], [3]]",
        "[[0, 1, 2, 3]]",
        "bin 1: 0 1",
    ):
        with pytest.raises(AnswerFormatError):
            parse_integer_groups(bad, max_groups=3, max_entries=3)


# --------------------------------------------------------------------------------------------
# Difficulty is monotone: the greedy gap and the exact solver's effort grow with the knob
# --------------------------------------------------------------------------------------------

GAP_TOLERANCE = 0.02


def greedy_gap_and_effort(env_id, difficulty) -> tuple[float, float]:
    generator = generator_of(env_id)
    gaps, efforts = [], []
    for seed in SEEDS:
        task = task_of(env_id, seed, difficulty)
        verdict = verify(task, generator.greedy_response(task))
        gaps.append(1.0 - verdict.details.get("ratio", verdict.reward))  # ratio: what partial=True would pay
        efforts.append(task.meta["effort"])
    return float(np.mean(gaps)), float(np.mean(efforts))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_greedy_gap_and_solver_effort_grow_with_the_knob(env_id):
    measured = [greedy_gap_and_effort(env_id, d) for d in LEVELS]
    gaps, efforts = [m[0] for m in measured], [m[1] for m in measured]
    if env_id == "rlvr/SubsetSum-v0":  # from 8 numbers targets a greedy hits are redrawn (red team S11-H2)
        assert gaps[0] < 1.0 and gaps[1:] == [1.0, 1.0] and efforts[0] < efforts[1] < efforts[2], (gaps, efforts)
        return
    if env_id == "rlvr/BinPacking-v0":
        # d = 0 keeps plants where one split fits (red team S8-8), rarely a prefix of the item
        # order, so next fit opens a third bin on most of them: its gap (≈ 0.26) tops the others
        assert gaps[0] > 0.2, gaps
        gaps = gaps[1:]
    assert all(a <= b + GAP_TOLERANCE for a, b in zip(gaps, gaps[1:])), (env_id, gaps)
    assert gaps[-1] > gaps[0] + GAP_TOLERANCE, (env_id, gaps)
    if env_id in ("rlvr/BinPacking-v0", "rlvr/SetCover-v0"):  # default tasks meet the lower bound: no search
        assert efforts == [0, 0, 0], efforts
        return
    assert efforts[0] < efforts[1] < efforts[2], (env_id, efforts)


# --------------------------------------------------------------------------------------------
# Reward hacking: binary default, prompt examples that are not answers, family attacks
# --------------------------------------------------------------------------------------------

GRADED = [env_id for env_id in ENV_IDS if sense_of(env_id) != "feasible"]


@pytest.mark.parametrize("env_id", GRADED)
def test_default_reward_is_binary_and_partial_pays_only_the_gap_beyond_greedy(env_id):
    """A feasible but worse answer (greedy, wrong_response, another seed's reference) earns 0 by
    default; partial=True pays the share of the greedy-to-reference gap it closes: 0 for the
    greedy answer itself, never 1 for a worse answer."""
    generator = generator_of(env_id)
    default, partial = rlvr.make_verifier(env_id), rlvr.make_verifier(env_id, partial=True)
    worse_seen = 0
    for difficulty in LEVELS:
        for seed in range(8):
            task = task_of(env_id, seed, difficulty)
            for response in (generator.greedy_response(task), generator.wrong_response(task)):
                verdict, graded = default.verify(task, response), partial.verify(task, response)
                assert verdict.reward in (0.0, 1.0) and verdict.correct == (verdict.reward == 1.0), (task.id, verdict)
                if verdict.format_ok and "objective" in verdict.details and not verdict.correct:
                    worse_seen += 1
                    sense, reference = verdict.details["sense"], verdict.details["reference"]
                    ratio = quality_ratio(sense, verdict.details["objective"], reference)
                    closed = gap_closed(ratio, sense, greedy_objective(task), reference)
                    assert 0.0 <= graded.reward < 1.0 and graded.reward == pytest.approx(closed, abs=1e-6)
                    if response == generator.greedy_response(task):
                        assert graded.reward == 0.0, (task.id, graded)
                elif verdict.correct:
                    assert graded.reward == 1.0
                else:
                    assert graded.reward == 0.0
    assert worse_seen > 0


def test_gap_closed_is_the_share_beyond_the_greedy_answer():
    assert gap_closed(0.9, "min", 120, 100) == pytest.approx((0.9 - 100 / 120) / (1 - 100 / 120))
    assert gap_closed(0.8, "min", 120, 100) == 0.0  # worse than greedy
    assert gap_closed(0.95, "max", 90, 100) == pytest.approx(0.5)
    assert gap_closed(0.95, "max", 100, 100) == 0.0  # greedy already optimal: binary
    assert gap_closed(0.7, "min", None, 100) == pytest.approx(0.7)  # no baseline: the ratio


def test_another_seeds_tour_scores_zero_by_default():
    """The audit's finding: a random valid tour (another seed's reference) earned 0.79."""
    task, other = task_of("rlvr/TSP-v0", 0, 0.0), task_of("rlvr/TSP-v0", 7919, 0.0)
    response = rlvr.solve(other)
    verdict = verify(task, response)
    assert verdict.format_ok and not verdict.correct and verdict.reward == 0.0
    objective, reference = verdict.details["objective"], verdict.details["reference"]
    closed = gap_closed(quality_ratio("min", objective, reference), "min", greedy_objective(task), reference)
    assert rlvr.make_verifier("rlvr/TSP-v0", partial=True).verify(task, response).reward == pytest.approx(closed)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_the_prompt_echoed_back_is_never_an_answer(env_id):
    """The format example ends in '…', which no parser reads: echoing the prompt (or its
    example) is a format error, never a free guess (it earned 1.0 on a Knapsack task before)."""
    for difficulty in LEVELS:
        for seed in range(12):
            task = task_of(env_id, seed, difficulty)
            example = re.findall(r"<answer>(.*?)</answer>", task.prompt)[-1]
            assert "…" in example and "[" in example, example
            for response in (task.prompt, f"<answer>{task.prompt}</answer>", f"<answer>{example}</answer>"):
                verdict = verify(task, response)
                assert verdict.reward == 0.0 and not verdict.format_ok, (task.id, verdict)
    assert verify(task_of("rlvr/Knapsack-v0", 2, 0.0), task_of("rlvr/Knapsack-v0", 2, 0.0).prompt).reward == 0.0


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_family_attacks_score_zero_within_the_deadline(env_id):
    generator, verifier = generator_of(env_id), rlvr.make_verifier(env_id)
    names = set()
    for difficulty in LEVELS:
        for seed in range(4):
            task = task_of(env_id, seed, difficulty)
            for name, response in generator.attacks(task):
                names.add(name)
                started = time.monotonic()
                verdict = verifier.verify(task, response)
                assert time.monotonic() - started < verifier.deadline_s * OVERRUN_FACTOR + OVERRUN_SLACK_S, (
                    task.id,
                    name,
                )
                assert verdict.reward == 0.0 and not verdict.correct and verdict.reason, (task.id, name, verdict)
                assert not verdict.reason.startswith("verifier error"), (task.id, name, verdict)
            assert verifier.verify(task, rlvr.solve(task)).correct
    expected = {
        "claimed-optimal-objective",
        "negative-index",
        "out-of-range-index",
        "oversize-list",
        "nested-lists",
        "decimal-entries",
        "objective-as-answer",
        "words",
    }
    assert expected <= names, expected - names
    assert len(names - expected) >= 4  # the family's own hostile solutions


@pytest.mark.parametrize(
    "env_id, attack",
    [
        ("rlvr/TSP-v0", "tour-missing-a-city"),
        ("rlvr/GraphColoring-v0", "one-colour"),
        ("rlvr/MaxIndependentSet-v0", "all-vertices"),
        ("rlvr/VertexCover-v0", "empty-cover"),
        ("rlvr/Knapsack-v0", "relaxation-rounded-up"),
        ("rlvr/Knapsack-v0", "all-items"),
        ("rlvr/SetCover-v0", "largest-subset"),
        ("rlvr/BinPacking-v0", "one-bin"),
        ("rlvr/BinPacking-v0", "item-in-two-bins"),
        ("rlvr/Scheduling-v0", "job-chains-ignoring-machines"),
        ("rlvr/Scheduling-v0", "all-at-zero"),
        ("rlvr/SAT-v0", "both-polarities"),
        ("rlvr/SubsetSum-v0", "all-numbers"),
    ],
)
def test_infeasible_answers_of_a_better_objective_earn_nothing_even_under_partial(env_id, attack):
    """Infeasible solutions whose objective beats the reference (a relaxation's optimum, every
    item, one bin, one colour) are refused, with and without partial credit."""
    generator, partial = generator_of(env_id), rlvr.make_verifier(env_id, partial=True)
    seen = 0
    for difficulty in LEVELS:
        for seed in range(6):
            task = task_of(env_id, seed, difficulty)
            response = dict(generator.attacks(task)).get(attack)
            if response is None:  # left out: it solves this instance
                continue
            seen += 1
            for verdict in (verify(task, response), partial.verify(task, response)):
                assert verdict.reward == 0.0 and not verdict.correct, (task.id, attack, verdict)
    assert seen >= 12


def test_cp_sat_effort_is_the_same_in_any_process():
    """CP-SAT's deterministic time can differ in its last bit between processes (what was
    imported before rlvr moves it: 0.0004079715 and 0.00040797150000000004 on the SetCover task
    below), and its round increments often sum to a tie at the 10th decimal, so plain rounding
    to 9 decimals wrote 0.000407971 in one process and 0.000407972 in another. Ties round up now;
    the task's bytes are the same after any import order."""
    import subprocess
    import sys

    from rlvr.generators.optimisation import deterministic_seconds

    assert deterministic_seconds(0.0004079715) == deterministic_seconds(0.00040797150000000004) == 0.000407972
    assert deterministic_seconds(0.25) == 0.25 and deterministic_seconds(0.0) == 0.0
    script = (
        "{}\nimport rlvr\nprint(rlvr.make_task('rlvr/SetCover-v0', seed=271, difficulty=0.5, elements=38, "
        "planted_sets=4, decoy_sets=20, decoy_size=2.452, random_sets=30).to_json())"
    )
    outputs = {
        subprocess.run([sys.executable, "-c", script.format(first)], capture_output=True, text=True, check=True).stdout
        for first in ("", "import numpy", "import json", "import numba")
    }
    assert len(outputs) == 1 and '"solver":"OR-Tools CP-SAT"' in outputs.pop()
