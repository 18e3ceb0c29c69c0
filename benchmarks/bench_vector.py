"""Benchmark batched env stepping: rlvr's TaskVectorEnv next to Gymnasium's SyncVectorEnv and
AsyncVectorEnv over the same single-turn envs, in one run on this machine.

Each round resets N sub-envs (N fresh tasks) and steps them with the reference answers, so
every step is a full verification. Measured per env and vectoriser: rounds/s and episodes/s
(reset + step), after ``--warmup`` untimed rounds (12) that start pools and workers and
warm them (gym's vectorisers build a verifier per sub-env: 16 math-verify workers each paying
its cold start, against 2 shared ones; that cost shows in the set-up column). Vectorisers:
  gym-sync          gym.make_vec(..., vectorization_mode="sync")       one process, in order
  gym-async         vectorization_mode="async", shared_memory=False    one process per sub-env
                    (both with autoreset_mode=DISABLED, as TaskVectorEnv: reset() starts a round)
  rlvr-serial       TaskVectorEnv(backend="serial")
  rlvr-thread       TaskVectorEnv(backend="thread", workers=2)
  rlvr-process      TaskVectorEnv(backend="process", workers=2)
Envs: Maze-v0 d=0.5 (pure-Python verifier), Math-v0 d=0.5 (math-verify in a worker process),
Code-v0 d=0.2 (each verification a bubblewrap sandbox run).

    python benchmarks/bench_vector.py [--num-envs 16] [--rounds 8] [--warmup 12]

Prints a table and writes benchmarks/results/vector.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gymnasium as gym
from gymnasium.vector import AutoresetMode

import rlvr
from rlvr.envs.vector import TaskVectorEnv

ENVS = {"rlvr/Maze-v0": 0.5, "rlvr/Math-v0": 0.5, "rlvr/Code-v0": 0.2}
RESULTS = Path(__file__).resolve().parent / "results" / "vector.json"


def vectorisers(env_id: str, difficulty: float, n: int) -> dict:
    disabled = {"autoreset_mode": AutoresetMode.DISABLED}  # like TaskVectorEnv: reset() starts each round
    return {
        "gym-sync": lambda: gym.make_vec(
            env_id, num_envs=n, vectorization_mode="sync", vector_kwargs=disabled, difficulty=difficulty
        ),
        "gym-async": lambda: gym.make_vec(
            env_id,
            num_envs=n,
            vectorization_mode="async",
            vector_kwargs={**disabled, "shared_memory": False},
            difficulty=difficulty,
        ),
        "rlvr-serial": lambda: TaskVectorEnv(env_id, n, difficulty=difficulty, backend="serial"),
        "rlvr-thread": lambda: TaskVectorEnv(env_id, n, difficulty=difficulty, backend="thread", workers=2),
        "rlvr-process": lambda: TaskVectorEnv(env_id, n, difficulty=difficulty, backend="process", workers=2),
    }


def one_round(envs, seed: int, n: int) -> float:
    """Reset N tasks and step them with reference answers; returns the mean reward."""
    _, infos = envs.reset(seed=seed)
    answers = [rlvr.solve(task) for task in infos["task"]]
    _, rewards, *_ = envs.step(answers)
    return float(rewards.mean())


def measure(make, n: int, rounds: int, warmup: int, first_seed: int) -> dict:
    """Set-up plus ``warmup`` rounds, then ``rounds`` timed rounds, all on seeds no other run uses
    (verifiers that remember answers they have parsed get no help from an earlier run)."""
    started = time.perf_counter()
    envs = make()
    for r in range(warmup):  # pools, sandboxes, math workers (gym's vectorisers start one per sub-env)
        one_round(envs, first_seed + r * n, n)
    setup = time.perf_counter() - started
    started = time.perf_counter()
    rewards = [one_round(envs, first_seed + (warmup + r) * n, n) for r in range(rounds)]
    elapsed = time.perf_counter() - started
    envs.close()
    return {
        "setup_s": round(setup, 2),
        "rounds_per_s": round(rounds / elapsed, 2),
        "episodes_per_s": round(rounds * n / elapsed, 1),
        "mean_reward": round(sum(rewards) / len(rewards), 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--num-envs", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=12, help="untimed rounds first (reported as setup)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    results = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "num_envs": args.num_envs,
        "rounds": args.rounds,
        "warmup_rounds": args.warmup,
        "rows": [],
    }
    print(f"{'env':<16} {'vectoriser':<14} {'episodes/s':>10} {'vs gym-sync':>11} {'setup s':>8} {'reward':>7}")
    for env_id, difficulty in ENVS.items():
        baseline = None
        for index, (name, make) in enumerate(vectorisers(env_id, difficulty, args.num_envs).items()):
            first_seed = 1_000_000 * (index + 1)
            row = {
                "env": env_id,
                "difficulty": difficulty,
                "vectoriser": name,
                **measure(make, args.num_envs, args.rounds, args.warmup, first_seed),
            }
            baseline = baseline or row["episodes_per_s"]
            row["ratio_vs_gym_sync"] = round(row["episodes_per_s"] / baseline, 2)
            results["rows"].append(row)
            print(
                f"{env_id:<16} {name:<14} {row['episodes_per_s']:>10} {row['ratio_vs_gym_sync']:>10}x "
                f"{row['setup_s']:>8} {row['mean_reward']:>7}"
            )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
