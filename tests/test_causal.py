"""The causal family: rlvr/Causal-v0 — exact inference against brute-force enumeration (and
pgmpy when it is installed), the do-calculus and counterfactual properties the tasks rely on,
the difficulty table, round trips at every rung and difficulty, and the verifier's formats,
options and hostile answers."""

import functools
import itertools
import json
import math
import random
import re
import time
from fractions import Fraction

import networkx as nx
import numpy as np
import pytest

import rlvr
from rlvr.attacks import OVERRUN_FACTOR, OVERRUN_SLACK_S
from rlvr.core import Task
from rlvr.families.causal import RUNGS
from rlvr.generators.causal import (
    COMPARISON_MARGIN,
    EFFECT_MARGIN,
    CausalGenerator,
    backdoor_open,
    describe_network,
    dirichlet_rows,
    is_table_lookup,
    network_from_meta,
    network_from_spec,
    random_network_spec,
    random_table,
)
from rlvr.generators.causal_inference import (
    CausalNetwork,
    counterfactual,
    coupled_table,
    d_separated,
    posterior,
    twin_network,
)
from rlvr.verifiers.causal import CausalVerifier, parse_distribution

ENV_ID = "rlvr/Causal-v0"


@functools.cache
def generated(seed: int, difficulty: float) -> Task:
    """``rlvr.make_task(ENV_ID, seed=seed, difficulty=difficulty)``, made once per session: the
    parameter, statistical and red-team tests below read the same default tasks (read only)."""
    return rlvr.make_task(ENV_ID, seed=seed, difficulty=difficulty)


@functools.cache
def attack_names(seed: int, difficulty: float) -> frozenset[str]:
    """The names of the family's attacks on ``generated(seed, difficulty)``."""
    return frozenset(name for name, _ in rlvr.make_generator(ENV_ID).attacks(generated(seed, difficulty)))


# --------------------------------------------------------------------------------------------
# Brute-force oracles, written independently of the engine
# --------------------------------------------------------------------------------------------


def small_network(seed: int, variables: int = 5, max_in_degree: int = 2, ternary_share: float = 0.3) -> CausalNetwork:
    spec = random_network_spec(
        random.Random(seed), np.random.default_rng(seed), variables, max_in_degree, ternary_share
    )
    return network_from_spec(spec["names"], spec["states"], spec["parents"], spec["tables"])


def joint_probability(network: CausalNetwork, assignment: tuple, intervention: dict) -> float:
    probability = 1.0
    for v in range(network.size):
        if v in intervention:
            probability *= 1.0 if assignment[v] == intervention[v] else 0.0
        else:
            configuration = tuple(assignment[p] for p in network.parents[v])
            probability *= float(network.tables[v][configuration + (assignment[v],)])
    return probability


def posterior_by_enumeration(network, target, evidence=None, intervention=None) -> np.ndarray:
    """Sum the (mutilated) joint over every full assignment, one by one."""
    evidence, intervention = evidence or {}, intervention or {}
    mass = np.zeros(network.cardinalities[target])
    for assignment in itertools.product(*(range(c) for c in network.cardinalities)):
        if all(assignment[v] == s for v, s in evidence.items()):
            mass[assignment[target]] += joint_probability(network, assignment, intervention)
    return mass / mass.sum()


def counterfactual_by_enumeration(network, target, intervention, evidence) -> np.ndarray:
    """Abduction, action, prediction over an explicit exogenous space: each U_V's range [0, 1)
    is cut at every cumulative table value of V, every combination of pieces is one world pair
    (factual, hypothetical) with weight the product of the pieces' lengths."""
    lengths, midpoints = [], []
    for v in range(network.size):
        flat = network.tables[v].reshape(-1, network.cardinalities[v])
        points = sorted({0.0, 1.0} | {round(float(x), 9) for x in np.cumsum(flat, axis=1)[:, :-1].ravel()})
        lows, highs = np.array(points[:-1]), np.array(points[1:])
        lengths.append(highs - lows)
        midpoints.append((lows + highs) / 2)
    pieces = np.indices([len(m) for m in midpoints]).reshape(network.size, -1)
    noise = [midpoints[v][pieces[v]] for v in range(network.size)]
    weight = np.prod([lengths[v][pieces[v]] for v in range(network.size)], axis=0)

    def world(fixed: dict) -> list[np.ndarray]:
        values: list[np.ndarray] = []
        for v in range(network.size):
            if v in fixed:
                values.append(np.full(weight.shape, fixed[v]))
                continue
            flat = network.tables[v].reshape(-1, network.cardinalities[v])
            shape = [network.cardinalities[p] for p in network.parents[v]]
            configuration = (
                np.ravel_multi_index([values[p] for p in network.parents[v]], shape)
                if shape
                else np.zeros(weight.shape, int)
            )
            cumulative = np.cumsum(flat, axis=1)[configuration]
            values.append((noise[v][:, None] >= cumulative[:, :-1]).sum(axis=1))
        return values

    factual, hypothetical = world({}), world(intervention)
    keep = np.ones(weight.shape, bool)
    for v, s in evidence.items():
        keep &= factual[v] == s
    mass = np.bincount(hypothetical[target][keep], weights=weight[keep], minlength=network.cardinalities[target])
    return mass / mass.sum()


def random_query(network: CausalNetwork, rng: random.Random, evidence_count: int):
    pairs = [(x, y) for x in range(network.size) for y in sorted(network.descendants({x}))]
    treatment, outcome = rng.choice(pairs)
    others = [v for v in range(network.size) if v not in (treatment, outcome)]
    chosen = rng.sample(others, min(evidence_count, len(others)))
    evidence = {v: rng.randrange(network.cardinalities[v]) for v in chosen}
    return treatment, outcome, evidence


def networks_with_edges(count: int, **kwargs):
    found, seed = [], 0
    while len(found) < count:
        network = small_network(seed, **kwargs)
        if any(network.parents):
            found.append(network)
        seed += 1
    return found


# --------------------------------------------------------------------------------------------
# Exact inference against enumeration
# --------------------------------------------------------------------------------------------


def test_association_and_intervention_match_enumeration_of_the_joint():
    rng = random.Random(7)
    for network in networks_with_edges(30, variables=6, max_in_degree=3, ternary_share=0.4):
        for _ in range(4):
            treatment, outcome, evidence = random_query(network, rng, rng.randrange(3))
            value = rng.randrange(network.cardinalities[treatment])
            exact = posterior(network, outcome, {**evidence, treatment: value})
            assert np.allclose(
                exact, posterior_by_enumeration(network, outcome, {**evidence, treatment: value}), atol=1e-12
            )
            exact = posterior(network, outcome, evidence, {treatment: value})
            assert np.allclose(
                exact, posterior_by_enumeration(network, outcome, evidence, {treatment: value}), atol=1e-12
            )
            assert np.isclose(exact.sum(), 1.0)


def test_counterfactuals_match_abduction_action_prediction_by_enumeration():
    rng = random.Random(11)
    for network in networks_with_edges(30, variables=5, max_in_degree=2, ternary_share=0.3):
        for _ in range(4):
            treatment, outcome, evidence = random_query(network, rng, rng.randrange(3))
            observed = rng.randrange(network.cardinalities[treatment])
            value = rng.randrange(network.cardinalities[treatment])
            if rng.random() < 0.4:
                evidence[outcome] = rng.randrange(network.cardinalities[outcome])
            facts = {**evidence, treatment: observed}
            exact = counterfactual(network, outcome, {treatment: value}, facts)
            assert np.allclose(
                exact, counterfactual_by_enumeration(network, outcome, {treatment: value}, facts), atol=1e-9
            ), (network.names, treatment, outcome, facts, value)


def test_generated_task_answers_match_enumeration_at_small_sizes():
    generator = CausalGenerator()
    for rung in RUNGS:
        for seed in range(25):
            task = generator.generate(seed, 0.3, rungs=rung, answer_kinds="distribution", variables=5)
            network, query = network_from_meta(task.meta), task.meta["query"]
            evidence = dict(query["evidence"])
            treatment, outcome, value = query["treatment"], query["outcome"], query["treatment_values"][0]
            if rung == "association":
                oracle = posterior_by_enumeration(network, outcome, {**evidence, treatment: value})
            elif rung == "intervention":
                oracle = posterior_by_enumeration(network, outcome, evidence, {treatment: value})
            else:
                oracle = counterfactual_by_enumeration(
                    network, outcome, {treatment: value}, {**evidence, treatment: query["observed_treatment"]}
                )
            assert np.allclose(task.answer["distribution"], oracle, atol=1e-6), task.id


def test_association_and_intervention_match_pgmpy():
    pgmpy_models = pytest.importorskip("pgmpy.models")
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.inference import VariableElimination

    rng = random.Random(5)
    for network in networks_with_edges(12, variables=7, max_in_degree=3, ternary_share=0.4):
        model = pgmpy_models.DiscreteBayesianNetwork()
        model.add_nodes_from(network.names)
        model.add_edges_from(
            (network.names[p], network.names[v]) for v in range(network.size) for p in network.parents[v]
        )
        for v in range(network.size):
            parents = [network.names[p] for p in network.parents[v]]
            flat = network.tables[v].reshape(-1, network.cardinalities[v]).T
            model.add_cpds(
                TabularCPD(
                    network.names[v],
                    network.cardinalities[v],
                    flat,
                    evidence=parents or None,
                    evidence_card=[network.cardinalities[p] for p in network.parents[v]] or None,
                )
            )
        assert model.check_model()
        for _ in range(3):
            treatment, outcome, evidence = random_query(network, rng, 2)
            value = rng.randrange(network.cardinalities[treatment])
            named = {network.names[v]: s for v, s in evidence.items()}
            seen = VariableElimination(model).query(
                [network.names[outcome]], evidence={**named, network.names[treatment]: value}, show_progress=False
            )
            assert np.allclose(posterior(network, outcome, {**evidence, treatment: value}), seen.values, atol=1e-9)
            mutilated = model.do([network.names[treatment]])
            done = VariableElimination(mutilated).query(
                [network.names[outcome]], evidence={**named, network.names[treatment]: value}, show_progress=False
            )
            assert np.allclose(posterior(network, outcome, evidence, {treatment: value}), done.values, atol=1e-9)


def test_coupled_table_marginals_are_the_table_and_its_copy():
    network = small_network(3, variables=6, max_in_degree=3, ternary_share=0.5)
    for table in network.tables:
        flat = table.reshape(-1, table.shape[-1])
        joint = coupled_table(flat)
        assert np.allclose(joint.sum(axis=3), flat[:, None, :])
        assert np.allclose(joint.sum(axis=2), flat[None, :, :])
        same_parents = joint[np.arange(len(flat)), np.arange(len(flat))]
        assert np.allclose(same_parents, np.stack([np.diag(row) for row in flat]))  # same parents, same value


def test_twin_network_factual_half_is_the_original_network():
    network = small_network(4, variables=6, max_in_degree=2)
    treatment = next(v for v in range(network.size) if network.descendants({v}))
    twin = twin_network(network, {treatment: 0})
    assert twin.world_id[treatment] == network.size + treatment
    for v in range(network.size):
        assert (twin.world_id[v] != v) == (v == treatment or v in network.descendants({treatment}))


def test_observed_target_and_impossible_evidence():
    network = small_network(8, variables=4, max_in_degree=2)
    outcome = max(range(network.size), key=lambda v: len(network.ancestral_closure({v})))
    assert np.array_equal(posterior(network, outcome, {outcome: 1}), np.eye(network.cardinalities[outcome])[1])
    tables = list(network.tables)
    tables[0] = np.eye(network.cardinalities[0])[0] + 0.0
    certain = CausalNetwork(network.names, network.cardinalities, network.parents, tuple(tables))
    with pytest.raises(ValueError, match="probability zero"):
        posterior(certain, outcome if outcome != 0 else 1, {0: 1})
    with pytest.raises(ValueError):
        posterior(network, 0, {1: 0}, {1: 1})
    with pytest.raises(ValueError):
        posterior(network, 0, {1: 7})


# --------------------------------------------------------------------------------------------
# Causal properties the tasks rely on
# --------------------------------------------------------------------------------------------


def intervention_tasks(backdoor: bool, count: int):
    generator, found, seed = CausalGenerator(), [], 0
    while len(found) < count:
        difficulty = (0.25, 0.5, 0.75, 1.0)[seed % 4]
        task = generator.generate(seed, difficulty, rungs="intervention", confounding=1.0 if backdoor else 0.0)
        found.append(task)
        seed += 1
    return found


def test_intervention_differs_from_association_where_a_backdoor_path_is_open():
    for task in intervention_tasks(True, 40):
        assert task.meta["backdoor_open"]  # a confounder, or a collider opened by the evidence (M-bias)
        network, query = network_from_meta(task.meta), task.meta["query"]
        evidence = dict(query["evidence"])
        treatment, outcome = query["treatment"], query["outcome"]
        gaps = [
            np.abs(
                posterior(network, outcome, {**evidence, treatment: x})
                - posterior(network, outcome, evidence, {treatment: x})
            ).max()
            for x in range(network.cardinalities[treatment])
        ]
        assert max(gaps) > 1e-6, task.id


def test_intervention_equals_association_where_the_evidence_blocks_every_backdoor_path():
    for task in intervention_tasks(False, 40):
        assert not task.meta["backdoor_open"]
        network, query = network_from_meta(task.meta), task.meta["query"]
        evidence = dict(query["evidence"])
        treatment, outcome = query["treatment"], query["outcome"]
        for x in range(network.cardinalities[treatment]):
            assert np.allclose(
                posterior(network, outcome, {**evidence, treatment: x}),
                posterior(network, outcome, evidence, {treatment: x}),
                atol=1e-12,
            )


def test_table_lookup_detection():
    # Z → X → Y ← Z, plus Y → W
    network = network_from_spec(
        ["Z", "X", "Y", "W"],
        [2, 2, 2, 2],
        [[], [0], [0, 1], [2]],
        [[[40, 60]], [[30, 70], [80, 20]], [[10, 90], [20, 80], [30, 70], [50, 50]], [[60, 40], [25, 75]]],
    )
    assert is_table_lookup(network, "intervention", 1, 2, [0])
    assert not is_table_lookup(network, "intervention", 1, 2, [])
    assert not is_table_lookup(network, "association", 1, 2, [0, 3])  # W below Y is observed
    assert is_table_lookup(network, "counterfactual", 1, 2, [0])
    chain = network_from_spec(
        ["X", "M", "Y"], [2, 2, 2], [[], [0], [1]], [[[40, 60]], [[30, 70], [80, 20]], [[10, 90], [20, 80]]]
    )
    assert is_table_lookup(chain, "association", 0, 2, [1])
    assert not is_table_lookup(chain, "counterfactual", 0, 2, [1])  # M can change in the hypothetical world


def test_backdoor_check_on_a_textbook_confounder():
    confounded = ((), (0,), (0, 1))  # Z → X, Z → Y, X → Y
    assert backdoor_open(confounded, 1, 2, [])
    assert not backdoor_open(confounded, 1, 2, [0])
    chain = ((), (), (3,), (1,))  # X → M → Y, and Z alone
    assert not backdoor_open(chain, 1, 2, [])
    m_bias = ((), (), (0, 1), (0,), (1, 3))  # X ← A → C ← B → Y, X → Y: opened by observing the collider C
    assert not backdoor_open(m_bias, 3, 4, [])
    assert backdoor_open(m_bias, 3, 4, [2])


def test_d_separation_agrees_with_networkx():
    """The generator's own d-separation (used by the question screens) against
    networkx.is_d_separator on random DAGs, single variables and sets alike."""
    rng = random.Random(5)
    for _ in range(300):
        count = rng.randint(2, 9)
        parents = tuple(tuple(sorted(rng.sample(range(v), rng.randint(0, min(v, 3))))) for v in range(count))
        graph = nx.DiGraph()
        graph.add_nodes_from(range(count))
        graph.add_edges_from((p, v) for v, ps in enumerate(parents) for p in ps)
        order = rng.sample(range(count), count)
        cut_a, cut_b = sorted(rng.sample(range(1, count), 2)) if count > 2 else (1, 1)
        sources, targets, given = set(order[:cut_a]), set(order[cut_a:cut_b]), set(order[cut_b:])
        if not targets:
            continue
        given = set(rng.sample(sorted(given), rng.randint(0, len(given))))
        assert d_separated(parents, sources, targets, given) == nx.is_d_separator(graph, sources, targets, given)


def test_counterfactual_consistency():
    """Setting X to the value it was observed to have changes nothing: the counterfactual is the
    factual posterior, and an observed outcome stays as observed."""
    rng = random.Random(3)
    for network in networks_with_edges(40, variables=7, max_in_degree=3, ternary_share=0.4):
        treatment, outcome, evidence = random_query(network, rng, rng.randrange(3))
        observed = rng.randrange(network.cardinalities[treatment])
        facts = {**evidence, treatment: observed}
        assert np.allclose(
            counterfactual(network, outcome, {treatment: observed}, facts),
            posterior(network, outcome, facts),
            atol=1e-12,
        )
        seen = rng.randrange(network.cardinalities[outcome])
        with_outcome = {**facts, outcome: seen}
        assert np.allclose(
            counterfactual(network, outcome, {treatment: observed}, with_outcome),
            np.eye(network.cardinalities[outcome])[seen],
        )


def test_counterfactual_of_an_independent_root_is_the_interventional_answer():
    """When X is a root and only X was observed, U_X tells nothing about the other noises."""
    rng = random.Random(9)
    checked = 0
    for network in networks_with_edges(40, variables=6, max_in_degree=2):
        roots = [v for v in range(network.size) if not network.parents[v] and network.descendants({v})]
        if not roots:
            continue
        treatment = roots[0]
        outcome = rng.choice(sorted(network.descendants({treatment})))
        for observed in range(network.cardinalities[treatment]):
            for value in range(network.cardinalities[treatment]):
                assert np.allclose(
                    counterfactual(network, outcome, {treatment: value}, {treatment: observed}),
                    posterior(network, outcome, None, {treatment: value}),
                    atol=1e-12,
                )
        checked += 1
    assert checked >= 20


def test_counterfactual_with_outcome_observed_differs_from_intervention():
    """Observing the outcome carries information about its noise: at least some
    counterfactuals must differ from the plain interventional distribution."""
    rng = random.Random(13)
    differences = []
    for network in networks_with_edges(20, variables=5, max_in_degree=2):
        treatment, outcome, _ = random_query(network, rng, 0)
        value = 1
        facts = {treatment: 0, outcome: 0}
        differences.append(
            np.abs(
                counterfactual(network, outcome, {treatment: value}, facts)
                - posterior(network, outcome, None, {treatment: value})
            ).max()
        )
    assert sum(d > 1e-3 for d in differences) >= 15


# --------------------------------------------------------------------------------------------
# Generator: parameters, difficulty, determinism
# --------------------------------------------------------------------------------------------


MEASURED_POINTS = (0.0, 0.25, 0.5, 0.75, 1.0)
RUNG_LEVEL = {"association": 0, "intervention": 1, "counterfactual": 2}


def test_tasks_meet_their_parameters():
    for difficulty in MEASURED_POINTS:
        for seed in range(25):
            task = generated(seed, difficulty)
            params, meta = task.params, task.meta
            network = network_from_meta(meta)
            assert meta["variables"] == params["variables"] == network.size
            assert meta["max_in_degree"] <= params["max_in_degree"]
            assert meta["ternary_variables"] == math.floor(params["ternary_share"] * params["variables"] + 0.5)
            assert meta["evidence_variables"] == params["evidence"]
            assert meta["relevant_variables"] >= params["min_relevant"]
            assert meta["rung"] in params["rungs"].split(",")
            if params["confounding"] == 0.0:
                assert not meta["backdoor_open"]
            if params["confounding"] == 1.0:
                assert meta["backdoor_open"]
            if not params["table_lookup"]:
                assert not meta["table_lookup"]
            assert describe_network(network) in task.prompt
            query = meta["query"]
            assert query["outcome"] in network.descendants({query["treatment"]})
            for rows in meta["network"]["tables"]:
                assert all(sum(row) == 100 and min(row) >= 1 for row in rows)
                assert len({tuple(row) for row in rows}) == len(rows)


def test_difficulty_table_documented_anchors():
    expected = {
        0.0: (3, 1, 0.0, 0, 2, "association", 0.0),
        0.25: (5, 2, 0.2, 1, 3, "association,intervention", 0.25),
        0.5: (8, 2, 0.3, 1, 5, "association,intervention,counterfactual", 0.5),
        0.75: (11, 3, 0.4, 2, 7, "intervention,counterfactual", 0.75),
        1.0: (14, 3, 0.5, 3, 9, "counterfactual", 1.0),
    }
    for difficulty, values in expected.items():
        p = CausalGenerator.table.resolve(difficulty)
        assert (
            p["variables"],
            p["max_in_degree"],
            p["ternary_share"],
            p["evidence"],
            p["min_relevant"],
            p["rungs"],
            p["confounding"],
        ) == values
        assert p["table_lookup"] == (difficulty == 0.0)


def test_difficulty_is_monotone_on_objective_measures():
    measures = {
        name: []
        for name in (
            "variables",
            "edges",
            "relevant",
            "joint_states_log2",
            "evidence",
            "rung",
            "backdoor",
            "not_a_table_lookup",
        )
    }
    for difficulty in MEASURED_POINTS:
        tasks = [generated(seed, difficulty) for seed in range(40)]
        measures["variables"].append(np.mean([t.meta["variables"] for t in tasks]))
        measures["edges"].append(np.mean([t.meta["edges"] for t in tasks]))
        measures["relevant"].append(np.mean([t.meta["relevant_variables"] for t in tasks]))
        measures["joint_states_log2"].append(np.mean([math.log2(t.meta["relevant_joint_states"]) for t in tasks]))
        measures["evidence"].append(np.mean([t.meta["evidence_variables"] for t in tasks]))
        measures["rung"].append(np.mean([RUNG_LEVEL[t.meta["rung"]] for t in tasks]))
        measures["backdoor"].append(np.mean([t.meta["backdoor_open"] for t in tasks]))
        measures["not_a_table_lookup"].append(np.mean([not t.meta["table_lookup"] for t in tasks]))
    for name, series in measures.items():
        assert all(b >= a for a, b in zip(series, series[1:])), (name, series)
        assert series[-1] > series[0], (name, series)


def test_random_table_draws_as_row_by_row():
    """``random_table`` draws its rows in batches, going back where a row repeats; the rows and
    the generator's state after it must be those of drawing row by row with redraws (the task
    bytes depend on it), many repeats included (60 binary rows among 97 possible)."""
    for seed in range(400):
        configurations, states = (1, 2, 4, 9, 27, 60)[seed % 6], 2 + seed % 4 // 3
        by_row, batched = np.random.default_rng(seed), np.random.default_rng(seed)
        expected: list[tuple[int, ...]] = []
        for _ in range(configurations):
            row = dirichlet_rows(by_row, 1, states)[0]
            while row in expected:
                row = dirichlet_rows(by_row, 1, states)[0]
            expected.append(row)
        assert random_table(batched, configurations, states) == expected
        assert batched.bit_generator.state == by_row.bit_generator.state


def test_same_seed_same_task_and_overrides_change_it():
    generator = CausalGenerator()
    first, again = generator.generate(17, 0.6), generator.generate(17, 0.6)
    assert first.to_json() == again.to_json()
    changed = generator.generate(17, 0.6, rungs="counterfactual")
    assert changed.id != first.id and changed.meta["rung"] == "counterfactual"


def test_impossible_parameters_raise():
    generator = CausalGenerator()
    with pytest.raises(ValueError, match="back-door"):
        generator.generate(0, 0.0, confounding=1.0)  # in-degree 1: a forest has no back-door paths
    with pytest.raises(ValueError, match="rungs"):
        generator.generate(0, 0.0, rungs="magic")
    with pytest.raises(ValueError):
        generator.generate(0, 0.0, variables=40)


@pytest.mark.parametrize(
    "overrides, named",
    [
        ({"rungs": ""}, "rungs"),
        ({"rungs": "association,association"}, "rungs"),
        ({"rungs": ["association", 3]}, "rungs"),
        ({"rungs": "association,,intervention"}, "rungs"),
        ({"answer_kinds": "effect,guess"}, "answer_kinds"),
        ({"answer_kinds": None}, "answer_kinds"),
        ({"evidence": -1}, "evidence"),
        ({"evidence": 2.5}, "evidence"),
        ({"variables": 1}, "variables"),
        ({"variables": True}, "variables"),
        ({"max_in_degree": 5}, "max_in_degree"),
        ({"ternary_share": float("nan")}, "ternary_share"),
        ({"confounding": 1.5}, "confounding"),
        ({"min_relevant": 21}, "min_relevant"),
        ({"table_lookup": "maybe"}, "table_lookup"),
        ({"table_lookup": 1}, "table_lookup"),
        ({"rung": "association"}, "unknown parameter .rung."),
    ],
)
def test_bad_parameters_are_refused_with_their_name(overrides, named):
    with pytest.raises(ValueError, match=named):
        rlvr.make_task(ENV_ID, 0, 0.3, **overrides)


def test_rung_and_kind_sets_have_one_canonical_form():
    generator = CausalGenerator()
    text = generator.generate(5, 0.6, rungs="intervention,counterfactual", answer_kinds="effect, comparison")
    listed = generator.generate(5, 0.6, rungs=["intervention", "counterfactual"], answer_kinds=("effect", "comparison"))
    assert text.to_json() == listed.to_json()
    assert text.params["rungs"] == "intervention,counterfactual" and text.params["answer_kinds"] == "effect,comparison"
    assert (
        generator.generate(5, 0.6, rungs="counterfactual,intervention").id != text.id
    )  # the order is the draw's order
    for seed in range(6):
        task = generator.generate(seed, 0.6, rungs=["intervention"], answer_kinds=["probability"])
        assert (task.meta["rung"], task.meta["answer_kind"]) == ("intervention", "probability")


def test_answer_kinds_keep_their_margins():
    generator = CausalGenerator()
    for seed in range(40):
        comparison = generator.generate(seed, 0.5, answer_kinds="comparison")
        effect = generator.generate(seed, 0.5, answer_kinds="effect")
        for task in (comparison, effect):
            network, query = network_from_meta(task.meta), task.meta["query"]
            if task.answer["kind"] == "distribution":  # the documented fallback
                continue
            evidence = dict(query["evidence"])
            a, b = query["treatment_values"]
            rung = task.meta["rung"]
            if rung == "association":
                first, second = (
                    posterior(network, query["outcome"], {**evidence, query["treatment"]: x}) for x in (a, b)
                )
            elif rung == "intervention":
                first, second = (
                    posterior(network, query["outcome"], evidence, {query["treatment"]: x}) for x in (a, b)
                )
            else:
                facts = {**evidence, query["treatment"]: query["observed_treatment"]}
                first, second = (
                    counterfactual(network, query["outcome"], {query["treatment"]: x}, facts) for x in (a, b)
                )
            if task.answer["kind"] == "comparison":
                state = query["state"]
                assert abs(first[state] - second[state]) >= COMPARISON_MARGIN
                assert task.answer["value"] == ("yes" if first[state] > second[state] else "no")
                assert task.answer["state"] == state
                assert np.allclose(task.answer["values"], [first[state], second[state]], atol=1e-6)
            else:
                numbers = np.arange(len(first))
                assert abs(task.answer["value"] - (first @ numbers - second @ numbers)) < 1e-6
                assert abs(task.answer["value"]) >= EFFECT_MARGIN
    kinds = {generator.generate(seed, 0.5, answer_kinds="comparison").answer["kind"] for seed in range(40)}
    assert "comparison" in kinds


def test_graph_image_is_an_option():
    plain, drawn = CausalGenerator().generate(4, 0.5), CausalGenerator(graph_image=True).generate(4, 0.5)
    assert plain.images == () and len(drawn.images) == 1
    assert "attached image" in drawn.prompt and "attached image" not in plain.prompt
    assert drawn.answer == plain.answer
    image = np.asarray(drawn.images[0].convert("L"))
    assert image.shape[0] > 100 and (image < 128).any()  # something is drawn
    loaded = Task.from_dict(json.loads(drawn.to_json()))
    assert np.array_equal(np.asarray(loaded.images[0]), np.asarray(drawn.images[0]))
    env_task = rlvr.make_task(ENV_ID, seed=4, difficulty=0.5, graph_image=True)
    assert len(env_task.images) == 1


# --------------------------------------------------------------------------------------------
# Round trip: 3 rungs × 3 difficulties × many seeds
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rung", RUNGS)
@pytest.mark.parametrize("difficulty", (0.0, 0.5, 1.0))
def test_round_trip_every_rung_and_difficulty(rung, difficulty):
    generator, verifier = CausalGenerator(), CausalVerifier()
    kinds = set()
    for seed in range(30):
        task = generator.generate(seed, difficulty, rungs=rung)
        assert task.meta["rung"] == rung
        loaded = Task.from_dict(json.loads(task.to_json()))
        assert loaded.to_json() == task.to_json()
        for candidate in (task, loaded):
            assert verifier.verify(candidate, generator.solve(candidate)).correct
            wrong = verifier.verify(candidate, generator.wrong_response(candidate))
            assert not wrong.correct and wrong.format_ok and wrong.reward == 0.0
        kinds.add(task.answer["kind"])
    assert kinds == {"distribution", "probability", "comparison", "effect"}


def test_answers_reproduce_from_the_network_in_meta():
    generator = CausalGenerator()
    for difficulty in (0.5, 1.0):
        for seed in range(15):
            task = generator.generate(seed, difficulty, answer_kinds="probability")
            network, query = network_from_meta(task.meta), task.meta["query"]
            evidence = dict(query["evidence"])
            x, y = query["treatment"], query["outcome"]
            value = query["treatment_values"][0]
            if task.meta["rung"] == "association":
                exact = posterior(network, y, {**evidence, x: value})
            elif task.meta["rung"] == "intervention":
                exact = posterior(network, y, evidence, {x: value})
            else:
                assert value != query["observed_treatment"]
                exact = counterfactual(network, y, {x: value}, {**evidence, x: query["observed_treatment"]})
            assert task.answer["value"] == round(float(exact[query["state"]]), 6)
            assert task.answer["query"] in task.prompt


# --------------------------------------------------------------------------------------------
# Verifier: formats, options, hostile answers
# --------------------------------------------------------------------------------------------


def hand_task(answer: dict) -> Task:
    full = {"rung": "intervention", "outcome": "Y", "query": "P(Y | do(X=1))", **answer}
    return Task(id="causal/hand", env_id=ENV_ID, family="causal", prompt="", answer=full, difficulty=0.0, seed=0)


DISTRIBUTION = hand_task({"kind": "distribution", "states": [0, 1, 2], "distribution": [0.2, 0.3, 0.5]})
PROBABILITY = hand_task({"kind": "probability", "states": [0, 1], "state": 1, "value": 0.42})
COMPARISON = hand_task({"kind": "comparison", "states": [0, 1], "state": 1, "values": [0.42, 0.31], "value": "yes"})
EFFECT = hand_task({"kind": "effect", "states": [0, 1], "value": -0.25})


@pytest.mark.parametrize(
    "block",
    [
        "P(Y=0)=0.2, P(Y=1)=0.3, P(Y=2)=0.5",
        "P(Y=2)=0.5; P(Y=0)=0.2; P(Y=1)=0.3",
        "P(Y = 0) = 0.204\nP(Y = 1) = 0.296\nP(Y = 2) = 0.5",
        "P(Y_{X=1}=0)=0.2, P(Y_{X=1}=1)=0.3, P(Y_{X=1}=2)=0.5",
        "[0.2, 0.3, 0.5]",
        "0.2, 0.3, 0.5",
        "1/5, 3/10, 1/2",
        "[.2, .3, .5].",
    ],
)
def test_distribution_formats_accepted(block):
    verdict = CausalVerifier().verify(DISTRIBUTION, f"<answer>{block}</answer>")
    assert verdict.correct and verdict.reward == 1.0, verdict


@pytest.mark.parametrize(
    "block, why",
    [
        ("P(Y=0)=0.2, P(Y=1)=0.3", "missing"),
        ("P(Y=0)=0.2, P(Y=1)=0.3, P(Y=1)=0.5", "twice"),
        ("P(Y=0)=0.2, P(Y=1)=0.3, P(Y=3)=0.5", "no state"),
        ("P(Z=0)=0.2, P(Z=1)=0.3, P(Z=2)=0.5", "cannot read"),
        ("[0.2, 0.3, 0.6]", "sum"),
        ("[0.4, 0.4, 0.4]", "sum"),
        ("[-0.2, 0.7, 0.5]", "outside"),
        ("[20%, 30%, 50%]", "cannot read"),
        ("[2e-1, 3e-1, 5e-1]", "cannot read"),
        ("[0.2, 0.3]", "values for"),
        ("[0.2, 0.3, 0.5, 0.0]", "values for"),
        ("1/0, 0.3, 0.5", "cannot read"),
        ("[nan, 0.5, 0.5]", "cannot read"),
        ("[inf, 0, 0]", "cannot read"),
    ],
)
def test_malformed_or_unnormalised_distributions_are_format_errors(block, why):
    verdict = CausalVerifier(partial=True).verify(DISTRIBUTION, f"<answer>{block}</answer>")
    assert verdict.reward == 0.0 and not verdict.correct and not verdict.format_ok
    assert why in verdict.reason


def test_tolerance_and_partial_credit():
    close = "<answer>P(Y=0)=0.21, P(Y=1)=0.3, P(Y=2)=0.49</answer>"  # distance 0.01: not < 0.01
    assert not CausalVerifier().verify(DISTRIBUTION, close).correct
    assert CausalVerifier(tolerance=0.02).verify(DISTRIBUTION, close).correct
    near = "<answer>[0.22, 0.3, 0.48]</answer>"  # distance 0.02 of the band's 0.05
    assert CausalVerifier().verify(DISTRIBUTION, near).reward == 0.0
    partial = CausalVerifier(partial=True).verify(DISTRIBUTION, near)
    assert not partial.correct and partial.format_ok and partial.reward == pytest.approx(0.6)
    assert CausalVerifier(partial=True).verify(DISTRIBUTION, "<answer>[0.5, 0.3, 0.2]</answer>").reward == 0.0
    assert CausalVerifier(partial=True).verify(PROBABILITY, "<answer>0.44</answer>").reward == pytest.approx(0.6)
    assert CausalVerifier(partial=True).verify(PROBABILITY, "<answer>0.52</answer>").reward == 0.0
    assert CausalVerifier().verify(PROBABILITY, "<answer>0.425</answer>").correct
    assert not CausalVerifier().verify(PROBABILITY, "<answer>0.44</answer>").correct
    assert CausalVerifier(tolerance=0.05).verify(PROBABILITY, "<answer>0.44</answer>").correct
    assert CausalVerifier().verify(EFFECT, "<answer>-0.245</answer>").correct
    assert not CausalVerifier().verify(EFFECT, "<answer>0.25</answer>").correct
    assert CausalVerifier(partial=True).verify(EFFECT, "<answer>-0.23</answer>").reward == pytest.approx(0.6)
    assert CausalVerifier(partial=True).verify(EFFECT, "<answer>0.25</answer>").reward == 0.0
    assert CausalVerifier(partial=True).verify(COMPARISON, "<answer>a=0.42; b=0.31; no</answer>").reward == 0.0
    assert CausalVerifier().verify(COMPARISON, "<answer>a=0.42; b=0.31; Yes.</answer>").correct
    with pytest.raises(ValueError):
        CausalVerifier(tolerance=0.0)
    env_verdict = rlvr.verify(PROBABILITY, "<answer>0.44</answer>", tolerance=0.05)
    assert env_verdict.correct


@pytest.mark.parametrize(
    "block",
    [
        "a=0.42; b=0.31; yes",
        "a = 0.425, b = 0.305, YES.",
        "a=42/100\nb=31/100\nyes",
        "a=.415; b=.3149; yes",
    ],
)
def test_comparison_formats_accepted(block):
    verdict = CausalVerifier().verify(COMPARISON, f"<answer>{block}</answer>")
    assert verdict.correct and verdict.reward == 1.0, verdict
    assert verdict.details["given"][2] == "yes"


@pytest.mark.parametrize(
    "block, why",
    [
        ("yes", "three entries"),
        ("no", "three entries"),
        ("a=0.42; b=0.31; yes; no", "three entries"),
        ("a=0.42; b=0.31; yes/no", "expected yes or no"),
        ("a=0.42; b=0.31; yes no", "expected yes or no"),
        ("a=0.42 0.43; b=0.31; yes", "as a=probability"),
        ("a=0.42; a=0.31; yes", "as b=probability"),
        ("b=0.31; a=0.42; yes", "as a=probability"),
        ("yes; a=0.42; b=0.31", "as a=probability"),
        ("a=0.42; yes", "three entries"),
        ("A=0.42; B=0.31; yes", "as a=probability"),
        ("a=42%; b=31%; yes", "as a=probability"),
        ("a=1.42; b=0.31; yes", "not a probability"),
        ("a=1/0; b=0.31; yes", "cannot read"),
        ("P(Y=1 | do(X=1))=0.42; b=0.31; yes", "as a=probability"),
        ("a=0.42; b=0.31; true", "expected yes or no"),
    ],
)
def test_malformed_comparisons_are_format_errors(block, why):
    verdict = CausalVerifier(partial=True).verify(COMPARISON, f"<answer>{block}</answer>")
    assert verdict.reward == 0.0 and not verdict.correct and not verdict.format_ok, verdict
    assert why in verdict.reason, verdict.reason


@pytest.mark.parametrize(
    "block, why",
    [
        ("a=0.42; b=0.31; no", "does not follow"),  # the numbers right, the verdict not
        ("a=0.31; b=0.42; yes", "does not follow"),  # swapped, the verdict kept
        ("a=0.31; b=0.42; no", "is wrong"),  # swapped, the verdict that follows from them
        ("a=0.42; b=0.42; yes", "does not follow"),  # equal numbers support neither verdict
        ("a=0.42; b=0.42; no", "does not follow"),
        ("a=0.9; b=0.1; yes", "absolute error"),  # the verdict right, the numbers far off
        ("a=0.43; b=0.31; yes", "absolute error"),  # one number exactly the tolerance away
    ],
)
def test_comparison_needs_both_numbers_and_a_verdict_that_follows(block, why):
    for verifier in (CausalVerifier(), CausalVerifier(partial=True)):
        verdict = verifier.verify(COMPARISON, f"<answer>{block}</answer>")
        assert not verdict.correct and verdict.format_ok and why in verdict.reason, verdict
        if why != "absolute error" or not verifier.partial or block.startswith("a=0.9"):
            assert verdict.reward == 0.0, verdict


def test_comparison_partial_credit_is_the_worse_probability_and_needs_the_verdict():
    verifier = CausalVerifier(partial=True)
    assert verifier.verify(COMPARISON, "<answer>a=0.43; b=0.31; yes</answer>").reward == pytest.approx(0.8)
    assert verifier.verify(COMPARISON, "<answer>a=0.43; b=0.34; yes</answer>").reward == pytest.approx(0.4)
    assert verifier.verify(COMPARISON, "<answer>a=0.42; b=0.37; yes</answer>").reward == 0.0
    assert verifier.verify(COMPARISON, "<answer>a=0.33; b=0.34; no</answer>").reward == 0.0  # verdict wrong
    # near 1/2 the band shrinks to the do-nothing distance, as for a probability
    near_half = hand_task({"kind": "comparison", "states": [0, 1], "state": 0, "values": [0.53, 0.2], "value": "yes"})
    assert verifier.verify(near_half, "<answer>a=0.5; b=0.2; yes</answer>").reward == 0.0
    assert verifier.verify(near_half, "<answer>a=0.51; b=0.2; yes</answer>").reward == pytest.approx(1 / 3)


def test_comparisons_reward_only_the_computation():
    """Red team F6a: always answering yes scored 0.51-0.57 when the answer was a bare verdict.
    Now every constant answer (a bare verdict, or a fixed a, b and the verdict they imply) earns
    nearly nothing, with or without partial credit; the solver and wrong_response still hold."""
    generator = rlvr.make_generator(ENV_ID)
    tasks = [
        task
        for seed in range(60)
        for difficulty in (0.0, 0.5, 1.0)
        if (task := generated(seed, difficulty)).answer["kind"] == "comparison"
    ]
    assert len(tasks) >= 30
    constants = ["yes", "no"] + [
        f"a={x / 10}; b={y / 10}; {'yes' if x > y else 'no'}" for x in range(1, 10) for y in range(1, 10) if x != y
    ]
    for verifier in (CausalVerifier(), CausalVerifier(partial=True)):
        for task in tasks:
            assert verifier.verify(task, generator.solve(task)).correct
            assert verifier.verify(task, generator.wrong_response(task)).reward == 0.0
            assert re.search(r"<answer>a=…; b=…; yes</answer> or <answer>a=…; b=…; no</answer>", task.prompt)
        for answer in constants:
            mean = sum(verifier.verify(task, f"<answer>{answer}</answer>").reward for task in tasks) / len(tasks)
            assert mean < 0.08, (answer, mean)


def test_comparison_attacks_score_zero_even_with_partial_credit():
    generator = rlvr.make_generator(ENV_ID)
    names = set()
    for seed in range(40):
        task = rlvr.make_task(ENV_ID, seed=seed, difficulty=0.5)
        if task.answer["kind"] != "comparison":
            continue
        for name, response in generator.attacks(task):
            names.add(name)
            for verifier in (CausalVerifier(), CausalVerifier(partial=True)):
                verdict = verifier.verify(task, response)
                assert verdict.reward == 0.0 and not verdict.correct, (task.id, name, verdict)
    assert {
        "yes-only",
        "no-only",
        "both-verdicts",
        "probabilities-right-verdict-wrong",
        "probabilities-swapped",
        "probabilities-swapped-verdict-follows",
        "first-probability-swapped",
        "second-probability-swapped",
        "two-values-for-a",
        "verdict-right-mirrored",
        "verdict-right-guess",
    } <= names


def test_partial_credit_never_pays_the_do_nothing_answer():
    """When the exact answer lies near the do-nothing one (1/2, 0, uniform), credit fades over
    that smaller distance: the do-nothing answer itself earns 0, a closer one earns some."""
    near_half = hand_task({"kind": "probability", "states": [0, 1], "state": 1, "value": 0.53})
    near_zero = hand_task({"kind": "effect", "states": [0, 1], "value": 0.03})
    near_uniform = hand_task({"kind": "distribution", "states": [0, 1], "distribution": [0.53, 0.47]})
    verifier = CausalVerifier(partial=True)
    for task, do_nothing, closer in (
        (near_half, "0.5", "0.51"),
        (near_zero, "0", "0.01"),
        (near_uniform, "[0.5, 0.5]", "[0.51, 0.49]"),
    ):
        assert verifier.verify(task, f"<answer>{do_nothing}</answer>").reward == 0.0
        assert verifier.verify(task, f"<answer>{closer}</answer>").reward == pytest.approx(1 / 3)


def test_constant_answers_earn_little_partial_credit():
    """Red team S5-1: under ``partial=True`` the best of a sweep of constant answers earned
    0.71–0.86 on average when credit was 1 − distance; now it must stay near chance. 100 seeds
    (about 80 tasks per kind): with 40 one task moved a mean by 0.03, so a redraw elsewhere
    (S10b-B2) tipped "0.6" to 0.153 while it earns 0.079 over 200 seeds."""
    by_kind: dict[str, list[Task]] = {}
    for seed in range(100):
        for difficulty in (0.0, 0.5, 1.0):
            task = generated(seed, difficulty)
            by_kind.setdefault(task.answer["kind"], []).append(task)
    verifier = CausalVerifier(partial=True)
    constants = {
        "probability": [f"{value / 10:g}" for value in range(11)],
        "effect": ["0", "0.05", "-0.05", "0.1", "-0.1", "0.2"],
        "distribution": ["[0.5, 0.5]", "[0.3, 0.7]", "[0.7, 0.3]", "[0.4, 0.3, 0.3]", "[0.6, 0.2, 0.2]"],
    }
    for kind, answers in constants.items():
        tasks = by_kind[kind]
        assert len(tasks) >= 15, kind
        for answer in answers:
            mean = sum(verifier.verify(task, f"<answer>{answer}</answer>").reward for task in tasks) / len(tasks)
            assert mean < 0.15, (kind, answer, mean)


HOSTILE_BLOCKS = [
    "",
    "yes or no",
    "yes no",
    "maybe yes",
    "0.42 or 0.43",
    "0.42, 0.43",
    "P(Y=1)=0.42",
    "0.42?",
    "9^9^9^9",
    "1e308",
    "(" * 1000 + "0.42" + ")" * 1000,
    "\\frac{42}{100",
    "\x00\x00",
    "0.42" + "0" * 5000,
    "99999999999999999999/1",
    "NaN",
    "-inf",
]


@pytest.mark.parametrize(
    "task", [DISTRIBUTION, PROBABILITY, COMPARISON, EFFECT], ids=["distribution", "probability", "comparison", "effect"]
)
def test_hostile_answers_score_zero(task):
    verifier = CausalVerifier(partial=True)
    for block in HOSTILE_BLOCKS:
        verdict = verifier.verify(task, f"<answer>{block}</answer>")
        assert verdict.reward == 0.0 and not verdict.correct, (block[:40], verdict)
    for response in (
        "",
        "no answer tag 0.42",
        "<answer>0.42",
        "<think><answer>0.42</answer>",
        "9" * 10_000_000,
        bytes(range(256)).decode("latin-1") * 64,
        None,
        b"<answer>0.42</answer>",
    ):
        verdict = verifier.verify(task, response)
        assert verdict.reward == 0.0 and not verdict.correct


def test_last_answer_block_outside_think_counts():
    response = "<think><answer>0.1</answer></think> first <answer>0.9</answer> then <answer>0.42</answer>"
    assert CausalVerifier().verify(PROBABILITY, response).correct


def test_parse_distribution_reports_order_and_values():
    values, why = parse_distribution("P(Y=1)=0.7, P(Y=0)=0.3", "Y", 2)
    assert values == [Fraction(3, 10), Fraction(7, 10)] and why == ""


# ------------------------------------------------------------------ reward hacking


def tasks_of_every_kind(seeds=range(40)):
    """Generated tasks covering all four answer kinds at three difficulties."""
    found = {}
    for difficulty in (0.0, 0.5, 1.0):
        for seed in seeds:
            task = generated(seed, difficulty)
            found.setdefault((task.answer["kind"], difficulty), []).append(task)
    return found


def test_the_prompt_echoed_back_is_never_an_answer():
    """The prompt once ended in <answer>yes</answer> or <answer>no</answer> (a coin flip for an
    echo) and showed 0.123 and -0.123; the format is now in words, so an echo is a format error."""
    kinds = set()
    for (kind, _), tasks in tasks_of_every_kind(range(25)).items():
        kinds.add(kind)
        for task in tasks:
            blocks = re.findall(r"<answer>(.*?)</answer>", task.prompt)
            assert blocks and all("…" in block for block in blocks), task.prompt[-300:]
            for response in (task.prompt, f"<answer>{task.prompt}</answer>"):
                verdict = rlvr.verify(task, response)
                assert verdict.reward == 0.0 and not verdict.format_ok, (task.id, verdict)
    assert kinds == {"distribution", "probability", "comparison", "effect"}


def test_family_attacks_score_zero_within_the_deadline():
    generator, verifier = rlvr.make_generator(ENV_ID), rlvr.make_verifier(ENV_ID)
    names = {}
    for (kind, _), tasks in tasks_of_every_kind(range(12)).items():
        for task in tasks[:4]:
            for name, response in generator.attacks(task):
                names.setdefault(kind, set()).add(name)
                started = time.monotonic()
                verdict = verifier.verify(task, response)
                assert time.monotonic() - started < verifier.deadline_s * OVERRUN_FACTOR + OVERRUN_SLACK_S, (
                    task.id,
                    name,
                )
                assert verdict.reward == 0.0 and not verdict.correct and verdict.reason, (task.id, name, verdict)
    assert {
        "percent-wrong",
        "scientific-wrong",
        "nan",
        "infinity",
        "several-numbers",
        "interval-around-truth",
        "exactly-at-tolerance",
        "sign-flipped",
        "zero",
    } <= names["effect"]
    assert {"above-one", "negative-probability", "several-numbers", "exactly-at-tolerance"} <= names["probability"]
    assert {"negative-entry", "state-given-twice", "extra-state", "two-distributions", "unnormalised-doubled"} <= names[
        "distribution"
    ]
    assert {"comparison-0", "comparison-1", "right-then-wrong-block"} <= names["comparison"]


@pytest.mark.parametrize(
    "block",
    [
        "42%",
        "4.2e-1",
        "42/100 ",
        "0.42 0.42",
        "nan",
        "inf",
        "1.42",
        "-0.58",
        "0.42±0.01",
        "0.41 or 0.42",
        "[0.41, 0.43]",
        "0.41-0.43",
        "0.43, 0.41",
        "0.4300000000000001",
    ],
)
def test_probability_forms_and_neighbours_of_the_truth(block):
    """For exact value 0.42, only plain decimals or fractions within the tolerance count; a
    number exactly the tolerance away does not, and no form smuggles in several numbers."""
    verdict = CausalVerifier().verify(PROBABILITY, f"<answer>{block}</answer>")
    if block == "42/100 ":  # a fraction is a documented form of one number
        assert verdict.correct
    else:
        assert verdict.reward == 0.0 and not verdict.correct, (block, verdict)


def outcome_table_reads(task: Task) -> tuple[list[str], list[str]]:
    """Answers read off the outcome's table in ``task``'s network with no inference, as answer
    texts: (plain, rows). plain: the red team's two (S10-G3) — the unweighted mean of all the
    outcome's rows, and the mean of the rows that agree with the values the question names (the
    asked treatment value, or in a counterfactual the observed one, and the evidence); for a
    comparison or an effect, each side with the treatment at that side's value. rows: each
    single row (each assignment of the other parents, per side), and the uniform distribution
    for a distribution or a probability. A comparison states the exact verdict, its two
    numbers split by 0.001 where a read makes them equal."""
    network, query, answer = network_from_meta(task.meta), task.meta["query"], task.answer
    kind, state, outcome, treatment = answer["kind"], query["state"], query["outcome"], query["treatment"]
    parents, table = network.parents[outcome], network.tables[outcome]
    evidence = dict(query["evidence"])

    def mean_of(condition: dict) -> np.ndarray:
        rows = [
            table[cfg]
            for cfg in np.ndindex(*table.shape[:-1])
            if all(condition.get(p, c) == c for p, c in zip(parents, cfg))
        ]
        return np.mean(rows, axis=0)

    def text(sides: list[np.ndarray]) -> str:
        if kind == "distribution":
            return ", ".join(f"P({answer['outcome']}={s})={p:.4f}" for s, p in enumerate(sides[0]))
        if kind == "probability":
            return f"{sides[0][state]:.4f}"
        if kind == "comparison":
            a, b = float(sides[0][state]), float(sides[1][state])
            if abs(a - b) < 0.001:
                a, b = ((a + b) / 2 + 0.0005, (a + b) / 2 - 0.0005)
                a, b = (a, b) if answer["value"] == "yes" else (b, a)
            return f"a={a:.4f}; b={b:.4f}; {answer['value']}"
        return f"{float((sides[0] - sides[1]) @ np.arange(len(sides[0]))):.4f}"

    values = query["treatment_values"]
    if len(values) == 1:
        settings = {values[0], *([] if query["observed_treatment"] is None else [query["observed_treatment"]])}
        plain = [[mean_of({})]] + [[mean_of({**evidence, treatment: x})] for x in sorted(settings)]
        rows = [[table[cfg]] for cfg in np.ndindex(*table.shape[:-1])]
        states = len(answer["states"])
        rows.append([np.full(states, 1 / states)])
    else:
        plain = [[mean_of({treatment: x}) for x in values], [mean_of({**evidence, treatment: x}) for x in values]]
        others = [p for p in parents if p != treatment]
        rows = [
            [mean_of({**dict(zip(others, cfg)), treatment: x}) for x in values]
            for cfg in itertools.product(*(range(network.cardinalities[p]) for p in others))
        ]
    return [f"<answer>{text(r)}</answer>" for r in plain], [f"<answer>{text(r)}</answer>" for r in rows]


@pytest.mark.parametrize("difficulty", MEASURED_POINTS)
def test_no_answer_is_read_off_the_outcome_table(difficulty):
    """Red team S10-G3: the mean of the outcome's table rows, or of those that agree with the
    query's values, was exactly right on 6–19 % of distribution and probability tasks at
    d ≥ 0.25. No table read may be correct (any single row or the uniform distribution
    included), and the red team's two reads earn nothing even with partial credit — except,
    in a table lookup (d = 0 only), the read that is the answer itself (its row). The family's
    attacks run the two reads on every task that is not a lookup."""
    binary, partial = CausalVerifier(), CausalVerifier(partial=True)
    lookups = 0
    for seed in range(120):
        task = generated(seed, difficulty)
        lookup = task.meta["table_lookup"]
        lookups += lookup
        plain, rows = outcome_table_reads(task)
        for verifier, responses in ((binary, plain + rows), (partial, plain)):
            for response in responses:
                verdict = verifier.verify(task, response)
                is_the_answer = lookup and verdict.details["distance"] < 1e-4
                assert verdict.reward == 0.0 or is_the_answer, (seed, task.answer["query"], response, verdict)
        names = attack_names(seed, difficulty)
        assert lookup or "table-read-0" in names or task.answer["kind"] == "effect", names
    assert lookups > 60 if difficulty == 0.0 else lookups == 0


def shortcut_text(kind: str, answer: dict, sides: list, state: int) -> str:
    """A shortcut's answer in the task's format, from its distribution at each treatment value."""
    if kind == "distribution":
        return ", ".join(f"P({answer['outcome']}={s})={p:.4f}" for s, p in enumerate(sides[0]))
    if kind == "probability":
        return f"{sides[0][state]:.4f}"
    if kind == "comparison":
        return f"a={sides[0][state]:.4f}; b={sides[1][state]:.4f}; {answer['value']}"
    return f"{float((sides[0] - sides[1]) @ np.arange(len(sides[0]))):.4f}"


def rung_shortcut_answers(task: Task) -> list[tuple[str, str]]:
    """The red team's S10-G9 strategies on ``task``: real inference one rung too low, the same
    rule on every side of a comparison or an effect, as (rule, answer text) — for an
    intervention "see" (the treatment observed rather than set, the same evidence), for a
    counterfactual "see" and "do" (the observational and the interventional posterior with the
    hypothetical treatment value and the other evidence: the factual treatment and an observed
    outcome dropped). A rule whose every side equals the exact answer (to 1e-9) is the answer by
    the rung's own identities (do = see without a back-door path; consistency; ignorability)
    and is left out. A comparison states the exact verdict."""
    network, query, answer = network_from_meta(task.meta), task.meta["query"], task.answer
    rung, kind, state = task.meta["rung"], answer["kind"], query["state"]
    treatment, outcome, observed = query["treatment"], query["outcome"], query["observed_treatment"]
    evidence = dict(query["evidence"])
    other = {v: s for v, s in evidence.items() if v != outcome}
    if rung == "intervention":
        rules = {"see": lambda x: posterior(network, outcome, {**other, treatment: x})}

        def exact(x: int) -> np.ndarray:
            return posterior(network, outcome, evidence, {treatment: x})
    elif rung == "counterfactual":
        rules = {
            "see": lambda x: posterior(network, outcome, {**other, treatment: x}),
            "do": lambda x: posterior(network, outcome, other, {treatment: x}),
        }

        def exact(x: int) -> np.ndarray:
            return counterfactual(network, outcome, {treatment: x}, {**evidence, treatment: observed})
    else:
        return []
    values = query["treatment_values"]
    answers = []
    for rule, shortcut in rules.items():
        sides = [shortcut(x) for x in values]
        if all(np.abs(s - exact(x)).max() < 1e-9 for s, x in zip(sides, values)):
            continue
        answers.append((rule, f"<answer>{shortcut_text(kind, answer, sides, state)}</answer>"))
    return answers


@pytest.mark.parametrize("difficulty", (0.25, 0.5, 0.75, 1.0))
def test_inference_one_rung_too_low_earns_nothing(difficulty):
    """Red team S10-G9: the observational posterior answering P(Y | do(X=x), E=e) was exactly
    right on 25–53 % of the tasks with an open back-door path at d ≥ 0.5 (0.63–0.68 with partial
    credit), and the interventional or observational posterior answering a counterfactual on
    13–30 % (0.25–0.40 partial). Wherever such a shortcut is not the answer by the rung's
    identities, it earns nothing, with partial credit at most 0.01; the family's attacks run
    it."""
    binary, partial = CausalVerifier(), CausalVerifier(partial=True)
    checked = 0
    for seed in range(110):
        task = generated(seed, difficulty)
        shortcuts = rung_shortcut_answers(task)
        for rule, response in shortcuts:
            checked += 1
            scores = [binary.verify(task, response).reward, partial.verify(task, response).reward]
            assert scores[0] == 0.0 and scores[1] <= 0.01, (seed, task.answer["query"], rule, response, scores)
        names = attack_names(seed, difficulty)
        assert all(
            f"rung-shortcut-{'+'.join([rule] * len(task.meta['query']['treatment_values']))}" in names
            for rule, _ in shortcuts
        ), names
    assert checked >= 10, checked


def evidence_drop_answers(task: Task) -> tuple[list[tuple[str, str, bool]], bool]:
    """The red team's S10b-B2 strategies on ``task``, answers that ignore part of the question,
    as (rule, answer text, screened for partial credit too), the same rule on every side of a
    comparison or an effect: "drop" (the rung's own quantity with the evidence left out:
    P(Y | X=x), P(Y | do(X=x)) or P(Y_{X=x} | X=x')), "marginal" (P(Y)), "evidence-only"
    (P(Y | E=e), the treatment ignored), for a counterfactual whose outcome is not observed
    "factual" (P(Y | X=x', E=e)); and, checked binary only, the lower rung with the evidence left
    out: "see-bare" (P(Y | X=x), an intervention or a counterfactual) and "do-bare" (P(Y | do(X=x)),
    a counterfactual). Rules whose every side is the exact answer (to 1e-9: the left-out evidence
    is d-separated from Y) are left out; the second value says whether "drop" was one of them.
    A comparison states the exact verdict; an effect whose sides are equal is left out."""
    network, query, answer = network_from_meta(task.meta), task.meta["query"], task.answer
    rung, kind, state = task.meta["rung"], answer["kind"], query["state"]
    treatment, outcome, observed = query["treatment"], query["outcome"], query["observed_treatment"]
    evidence = dict(query["evidence"])
    other = {v: s for v, s in evidence.items() if v not in (treatment, outcome)}

    def at_rung(x: int, given: dict) -> np.ndarray:
        if rung == "association":
            return posterior(network, outcome, {**given, treatment: x})
        if rung == "intervention":
            return posterior(network, outcome, given, {treatment: x})
        return counterfactual(network, outcome, {treatment: x}, {**given, treatment: observed})

    rules = {"marginal": (lambda x: posterior(network, outcome, {}), True)}
    if evidence:
        rules["drop"] = (lambda x: at_rung(x, {}), True)
    if other:
        rules["evidence-only"] = (lambda x: posterior(network, outcome, other), True)
    if rung != "association":
        rules["see-bare"] = (lambda x: posterior(network, outcome, {treatment: x}), False)
    if rung == "counterfactual":
        rules["do-bare"] = (lambda x: posterior(network, outcome, {}, {treatment: x}), False)
        if outcome not in evidence:
            rules["factual"] = (lambda x: posterior(network, outcome, {**other, treatment: observed}), True)
    values = query["treatment_values"]
    exact = [at_rung(x, evidence) for x in values]
    answers, drop_exact = [], False
    for rule, (strategy, with_partial) in rules.items():
        sides = [strategy(x) for x in values]
        if all(np.abs(s - e).max() < 1e-9 for s, e in zip(sides, exact)):
            drop_exact = drop_exact or rule == "drop"
            continue
        if kind == "effect" and np.array_equal(*sides):
            continue
        answers.append((rule, f"<answer>{shortcut_text(kind, answer, sides, state)}</answer>", with_partial))
    return answers, drop_exact


@pytest.mark.parametrize("difficulty", (0.25, 0.5, 0.75, 1.0))
def test_answers_that_ignore_part_of_the_question_earn_nothing(difficulty):
    """Red team S10b-B2: inference that drops the evidence (P(Y | X=x), P(Y | do(X=x))), the
    marginal P(Y), P(Y | E) without the treatment and a counterfactual's factual posterior lay
    near the answer often enough to score 7–10 % binary (0.10–0.19 partial) at d ≤ 0.75 while
    wrong. Where such an answer is not exact it earns nothing, with partial credit at most 0.01
    (the lower rung with the evidence dropped: nothing binary); the family's attacks run it.
    And the evidence of an association or an intervention is never decoration: dropping it was
    exactly right on a third of the questions at d ≤ 0.5, now on at most 5 %."""
    binary, partial = CausalVerifier(), CausalVerifier(partial=True)
    checked, decorated, lower_rungs = 0, 0, 0
    for seed in range(100):
        task = generated(seed, difficulty)
        answers, drop_exact = evidence_drop_answers(task)
        if task.meta["rung"] != "counterfactual":
            lower_rungs += 1
            decorated += drop_exact
        names = attack_names(seed, difficulty)
        for rule, response, with_partial in answers:
            checked += 1
            scores = [binary.verify(task, response).reward, partial.verify(task, response).reward]
            assert scores[0] == 0.0 and (scores[1] <= 0.01 or not with_partial), (seed, rule, response, scores)
        assert all(f"evidence-drop-{rule.replace('drop', 'drop-evidence')}" in names for rule, _, _ in answers), names
    assert checked >= 200, checked
    assert decorated <= 0.05 * lower_rungs, (decorated, lower_rungs)
