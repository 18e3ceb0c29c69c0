r"""Causal benchmarks: rlvr/Causal-v0 task throughput, and exact-inference time as the graph grows,
side by side with pgmpy's variable elimination and with summing the full joint table.

1. Generation  Tasks per second: rlvr.make_task("rlvr/Causal-v0", seed=i, difficulty=d) for
               d = 0, 0.25, 0.5, 0.75, 1 over ``--n`` seeds (median of ``--repeats`` runs after a
               warm-up), then per rung at d = 1 (``rungs=…``); and verdicts per second for the
               reference responses of the d = 1 tasks. Single process, single thread.
2. Inference   Random networks from the generator's own sampler (in-degree ≤ 3, half the variables
               ternary) with 4 … ``--max-variables`` variables, ``--networks`` networks per size.
               On each: the association query P(Y | X=x, three evidence variables), the
               interventional P(Y | do(X=x), same evidence) and the counterfactual
               P(Y_{X=x} | X=x', same evidence), Y the deepest descendant of X. Timed per query
               (median over networks × ``--rounds`` rounds), interleaving the contenders
               query by query so background load falls on all alike:
                 ours        rlvr.generators.causal_inference.posterior / counterfactual
                 pgmpy       VariableElimination(model).query(...) on a prebuilt
                             DiscreteBayesianNetwork; for do(): model.do([X]) then the query
                             (pgmpy has no counterfactual query: n/a) — only when pgmpy imports
                 joint       the whole joint table by broadcasting every CPT, then summed (only up
                             to ``--joint-max-states`` joint states)
               Each pgmpy answer is checked against ours (max abs difference reported). Ours is
               timed on an unmemoised copy of the network with the elimination-plan cache
               cleared: the cost of a query's first asking.

Run it in a venv that has pgmpy for the side-by-side (the project's venv does not):
    python3 -m venv /tmp/pgvenv && /tmp/pgvenv/bin/pip install pgmpy gymnasium pillow pyarrow tqdm
    PYTHONPATH=. /tmp/pgvenv/bin/python benchmarks/bench_causal.py
Without pgmpy the pgmpy column is null. Writes benchmarks/results/causal.json. The machine is
shared: compare the columns of one run (ratios), not absolute numbers across runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import random
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import rlvr
from rlvr.generators.causal import network_from_spec, random_network_spec
from rlvr.generators.causal_inference import CausalNetwork, counterfactual, elimination_plan, posterior
from rlvr.verifiers.causal import CausalVerifier

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "causal.json"
ENV_ID = "rlvr/Causal-v0"

try:  # optional peer
    warnings.filterwarnings("ignore")
    import pgmpy
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.inference import VariableElimination
    from pgmpy.models import DiscreteBayesianNetwork

    PGMPY_VERSION = pgmpy.__version__
except ImportError:
    PGMPY_VERSION = None


# --------------------------------------------------------------------------------------------
# 1. Generation
# --------------------------------------------------------------------------------------------


def tasks_per_second(n: int, repeats: int, difficulty: float, **params) -> float:
    for seed in range(5):
        rlvr.make_task(ENV_ID, seed=10_000 + seed, difficulty=difficulty, **params)
    rates = []
    for repeat in range(repeats):
        start = time.perf_counter()
        for seed in range(n):
            rlvr.make_task(ENV_ID, seed=repeat * n + seed, difficulty=difficulty, **params)
        rates.append(n / (time.perf_counter() - start))
    return round(statistics.median(rates), 1)


def generation_part(n: int, repeats: int) -> dict:
    by_difficulty = {f"{d:.2f}": tasks_per_second(n, repeats, d) for d in (0.0, 0.25, 0.5, 0.75, 1.0)}
    by_rung = {
        rung: tasks_per_second(n, repeats, 1.0, rungs=rung)
        for rung in ("association", "intervention", "counterfactual")
    }
    tasks = [rlvr.make_task(ENV_ID, seed=s, difficulty=1.0) for s in range(n)]
    responses = [rlvr.solve(t) for t in tasks]
    verifier = CausalVerifier()
    start = time.perf_counter()
    correct = sum(verifier.verify(t, r).correct for t, r in zip(tasks, responses))
    verify_rate = n / (time.perf_counter() - start)
    return {
        "tasks_per_second_by_difficulty": by_difficulty,
        "tasks_per_second_at_d1_by_rung": by_rung,
        "verdicts_per_second": round(verify_rate, 1),
        "reference_correct": f"{correct}/{n}",
    }


# --------------------------------------------------------------------------------------------
# 2. Inference as the graph grows
# --------------------------------------------------------------------------------------------


def make_network(seed: int, variables: int) -> CausalNetwork:
    spec = random_network_spec(random.Random(seed), np.random.default_rng(seed), variables, 3, 0.5)
    return network_from_spec(spec["names"], spec["states"], spec["parents"], spec["tables"])


def benchmark_query(network: CausalNetwork, rng: random.Random):
    """(treatment, outcome, evidence): the treatment with the most descendants, its deepest one."""
    treatment = max(range(network.size), key=lambda v: (len(network.descendants({v})), -v))
    outcome = max(network.descendants({treatment}))
    others = [v for v in range(network.size) if v not in (treatment, outcome)]
    evidence = {v: rng.randrange(network.cardinalities[v]) for v in rng.sample(others, min(3, len(others)))}
    return treatment, outcome, evidence


def pgmpy_model(network: CausalNetwork):
    model = DiscreteBayesianNetwork()
    model.add_nodes_from(network.names)
    model.add_edges_from((network.names[p], network.names[v]) for v in range(network.size) for p in network.parents[v])
    for v in range(network.size):
        parents = [network.names[p] for p in network.parents[v]]
        model.add_cpds(
            TabularCPD(
                network.names[v],
                network.cardinalities[v],
                network.tables[v].reshape(-1, network.cardinalities[v]).T,
                evidence=parents or None,
                evidence_card=[network.cardinalities[p] for p in network.parents[v]] or None,
            )
        )
    return model


def joint_posterior(network: CausalNetwork, target: int, evidence: dict) -> np.ndarray:
    """Baseline: the whole joint as one array (product of broadcast CPTs), then sums."""
    joint = np.ones(network.cardinalities)
    for v in range(network.size):
        shape = [1] * network.size
        for p in network.parents[v]:
            shape[p] = network.cardinalities[p]
        shape[v] = network.cardinalities[v]
        joint = joint * network.tables[v].reshape(shape)
    index = tuple(evidence.get(v, slice(None)) for v in range(network.size))
    reduced = joint[index]
    kept = [v for v in range(network.size) if v not in evidence]
    marginal = reduced.sum(axis=tuple(i for i, v in enumerate(kept) if v != target))
    return marginal / marginal.sum()


def unmemoised(network: CausalNetwork) -> CausalNetwork:
    """A copy of ``network`` with nothing memoised and no elimination plan cached, so a timed
    query is computed from scratch, as on its first asking (the generator asks many twice)."""
    elimination_plan.cache_clear()
    return dataclasses.replace(network)


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def inference_part(max_variables: int, networks: int, rounds: int, joint_max_states: int) -> list[dict]:
    rows = []
    for variables in range(4, max_variables + 1, 2):
        samples = {
            name: []
            for name in (
                "ours_association",
                "ours_intervention",
                "ours_counterfactual",
                "pgmpy_association",
                "pgmpy_intervention",
                "joint_association",
            )
        }
        worst_difference = 0.0
        joint_states = []
        for index in range(networks):
            network = make_network(1000 * variables + index, variables)
            rng = random.Random(index)
            treatment, outcome, evidence = benchmark_query(network, rng)
            joint_states.append(int(np.prod(network.cardinalities, dtype=np.int64)))
            observed = {**evidence, treatment: 0}
            model = pgmpy_model(network) if PGMPY_VERSION else None
            names = {network.names[v]: s for v, s in observed.items()}
            for _ in range(rounds):
                cold = unmemoised(network)
                seconds, ours = timed(lambda: posterior(cold, outcome, observed))
                samples["ours_association"].append(seconds)
                cold = unmemoised(network)
                seconds, ours_do = timed(lambda: posterior(cold, outcome, evidence, {treatment: 1}))
                samples["ours_intervention"].append(seconds)
                cold = unmemoised(network)
                seconds, _ = timed(lambda: counterfactual(cold, outcome, {treatment: 1}, observed))
                samples["ours_counterfactual"].append(seconds)
                if model is not None:
                    seconds, theirs = timed(
                        lambda: VariableElimination(model).query(
                            [network.names[outcome]], evidence=names, show_progress=False
                        )
                    )
                    samples["pgmpy_association"].append(seconds)
                    do_names = {**{network.names[v]: s for v, s in evidence.items()}, network.names[treatment]: 1}
                    seconds, theirs_do = timed(
                        lambda: VariableElimination(model.do([network.names[treatment]])).query(
                            [network.names[outcome]], evidence=do_names, show_progress=False
                        )
                    )
                    samples["pgmpy_intervention"].append(seconds)
                    worst_difference = max(
                        worst_difference,
                        float(np.abs(theirs.values - ours).max()),
                        float(np.abs(theirs_do.values - ours_do).max()),
                    )
                if np.prod(network.cardinalities, dtype=np.int64) <= joint_max_states:
                    seconds, baseline = timed(lambda: joint_posterior(network, outcome, observed))
                    samples["joint_association"].append(seconds)
                    worst_difference = max(worst_difference, float(np.abs(baseline - ours).max()))
        row = {"variables": variables, "median_joint_states": int(statistics.median(joint_states))}
        for name, values in samples.items():
            row[f"{name}_ms"] = round(1000 * statistics.median(values), 3) if values else None
        if row["pgmpy_association_ms"]:
            row["pgmpy_over_ours_association"] = round(row["pgmpy_association_ms"] / row["ours_association_ms"], 1)
            row["pgmpy_over_ours_intervention"] = round(row["pgmpy_intervention_ms"] / row["ours_intervention_ms"], 1)
        row["max_abs_difference"] = worst_difference
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-variables", type=int, default=20)
    parser.add_argument("--networks", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--joint-max-states", type=int, default=2_000_000)
    args = parser.parse_args()
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    result = {
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "numpy": np.__version__,
            "pgmpy": PGMPY_VERSION,
            "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        },
        "measured_at": started,
        "settings": vars(args),
        "generation": generation_part(args.n, args.repeats),
        "inference": inference_part(args.max_variables, args.networks, args.rounds, args.joint_max_states),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
