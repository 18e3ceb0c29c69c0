"""Objectives benchmark: what pass@k training and the label-free majority reward do to the metric
each targets, on this machine's CPU with the tiny model.

Setup     The starting point of benchmarks/bench_trainer.py: the tiny 0.6M-parameter model after
          the demo's format-only SFT warm-up (80 steps of one-digit copying), so sums are answered
          near chance. Task tiny/Sums-v0 at ``--difficulty`` (default 0: two operands 0–4).
          16 tasks × 8 responses per step, AdamW lr 5e-4, ``loss: grpo``, at most 8 new tokens,
          temperature 1, one torch thread; every run starts from the same checkpoint with the
          same seed, so the first step's tasks are the same.
Runs      grpo        ``advantage: group`` (GRPO's group-mean baseline, ÷ std)
          pass_at_k   ``advantage: pass_at_k``, ``pass_k`` = ``--k`` (default 4)
          majority    ``reward: majority``: no verifier reward, only agreement with the group's
                      most common answer; the verifier's verdicts are only logged
          majority_from_warm   the same, started from a warm checkpoint instead: the start after
                      ``--warm-steps`` (default 20) GRPO steps with the verifier's reward (seed 0),
                      where the majority answer is right more often than at chance. Label-free
                      training can only amplify what the majority already gets right, so this
                      is the run that says whether it does.
Measured  On ``--eval-tasks`` fixed tasks (default 200; at d = 0 there are only 25 distinct sums,
          so this measures the policy on the training distribution, not generalisation),
          ``--samples`` n = 8 responses each at temperature 1: pass@1 and pass@k, the unbiased
          estimate 1 − C(n − c, k)/C(n, k) per task (c correct of n) averaged over tasks, and the
          majority-vote accuracy (share of tasks whose most common answer among the n is correct;
          a tie counts as wrong); before training and after each run. Per training step: the
          verifier's pass rate, and for the majority run majority/label_correct, majority/agreement
          and majority/labelled. Wall seconds per run.
          The machine is shared and noisy and the model tiny (three seeds): differences of a few points
          are within the noise of 200 × 8 samples (standard error of pass@k about 0.03).

Run in the project's venv:
    .venv/bin/python benchmarks/bench_objectives.py        (the defaults wrote the results file: 60 steps, seeds 0 1 2)
Writes benchmarks/results/objectives.json (``--output`` elsewhere).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from bench_trainer import SHARED, prepare_start

from rlvr.trainers.config import TrainConfig
from rlvr.trainers.curriculum import SEED_SPACE
from rlvr.trainers.grpo import answer_keys, build_envs, load_model_and_tokenizer, train
from rlvr.trainers.losses import majority_label
from rlvr.trainers.rollout import HFSampler, Scorer, TemperatureSchedule, run_episodes

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "objectives.json"
ENV = "tiny/Sums-v0"
EVAL_SEED = 20_260_522


def sampled_metrics(model, tokenizer, difficulty: float, tasks: int, samples: int, k: int) -> dict:
    """pass@1, pass@k and majority-vote accuracy from ``samples`` responses at temperature 1 to
    ``tasks`` fixed tasks."""
    config = TrainConfig.from_dict(
        {"envs": [{"id": ENV, "difficulty": difficulty}], "max_new_tokens": SHARED["max_new_tokens"]}
    )
    source = build_envs(config.envs, config.curriculum)[0].source
    rng = np.random.default_rng(EVAL_SEED)
    torch.manual_seed(EVAL_SEED)
    groups = [(source, source.make_task(int(seed), difficulty)) for seed in rng.integers(SEED_SPACE, size=tasks)]
    sampler = HFSampler(model, tokenizer, SHARED["max_new_tokens"], TemperatureSchedule(1.0), batch_size=256)
    episodes = run_episodes(groups, samples, sampler, tokenizer, Scorer(1, "serial"))
    correct = np.array([bool(e.verdict and e.verdict.correct) for e in episodes]).reshape(tasks, samples)
    keys = answer_keys(episodes)
    majority_correct = []
    for index in range(tasks):
        group = keys[index * samples : (index + 1) * samples]
        label = majority_label(group)
        majority_correct.append(label is not None and any(ok for ok, key in zip(correct[index], group) if key == label))
    counts = correct.sum(axis=1)
    pass_k = [1.0 - math.comb(samples - int(c), k) / math.comb(samples, k) for c in counts]
    return {
        "pass@1": round(float(correct.mean()), 4),
        f"pass@{k}": round(float(np.mean(pass_k)), 4),
        "majority_vote_accuracy": round(float(np.mean(majority_correct)), 4),
        "tasks": tasks,
        "samples_per_task": samples,
        "distinct_answers_per_task": round(
            float(np.mean([len(Counter(keys[i * samples : (i + 1) * samples])) for i in range(tasks)])), 3
        ),
    }


def run(start: Path, workdir: Path, name: str, steps: int, seed: int, difficulty: float, args, **objective) -> dict:
    config, seconds, metrics = train_from(start, workdir, name, steps, seed, difficulty, **objective)
    model, tokenizer = load_model_and_tokenizer(config, str(last_checkpoint(config)))
    per_step = {"pass_rate": [round(row["pass_rate"], 3) for row in metrics]}
    for key in ("majority/label_correct", "majority/agreement", "majority/labelled"):
        if key in metrics[0]:
            per_step[key] = [round(row[key], 3) for row in metrics]
    summary = {
        "name": name,
        "seed": seed,
        "objective": objective,
        "steps": steps,
        "wall_seconds": round(seconds, 1),
        "after": sampled_metrics(model, tokenizer, difficulty, args.eval_tasks, args.samples, args.k),
        **{f"{key}_first_10": round(float(np.mean(values[:10])), 3) for key, values in per_step.items()},
        **{f"{key}_last_10": round(float(np.mean(values[-10:])), 3) for key, values in per_step.items()},
        "per_step": per_step,
    }
    print(json.dumps({k: v for k, v in summary.items() if k != "per_step"}), flush=True)
    return summary


def last_checkpoint(config: TrainConfig) -> Path:
    return sorted(Path(config.output_dir).glob("checkpoint-*"))[-1]


def train_from(start: Path, workdir: Path, name: str, steps: int, seed: int, difficulty: float, **objective):
    """(config, wall seconds, metrics rows) of one training run from the checkpoint ``start``."""
    settings = {
        "envs": [{"id": ENV, "difficulty": difficulty}],
        "model": str(start),
        "loss": "grpo",
        "steps": steps,
        **SHARED,
        "output_dir": str(workdir / f"{name}-{seed}"),
        "resume": False,
        "progress": False,
        "plot": False,
        "torch_threads": 1,
        "seed": seed,
        "save_every": 10**9,
        "keep_checkpoints": 1,
        "scoring_backend": "thread",
        "scoring_workers": 2,
        **objective,
    }
    config = TrainConfig.from_dict(settings)
    started = time.perf_counter()
    result = train(config)
    return config, time.perf_counter() - started, result.metrics


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--k", type=int, default=4, help="k of pass@k, in training and evaluation")
    parser.add_argument("--difficulty", type=float, default=0.0)
    parser.add_argument("--eval-tasks", type=int, default=200)
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--warm-steps", type=int, default=20, help="GRPO steps before the majority_from_warm run")
    parser.add_argument(
        "--runs",
        nargs="+",
        default=["grpo", "pass_at_k", "majority", "majority_from_warm"],
        choices=("grpo", "pass_at_k", "majority", "majority_from_warm"),
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    load_before = os.getloadavg()
    objectives = {
        "grpo": {},
        "pass_at_k": {"advantage": "pass_at_k", "pass_k": args.k},
        "majority": {"reward": "majority"},
        "majority_from_warm": {"reward": "majority"},
    }
    runs, warm = [], None
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        start = prepare_start(workdir)
        model, tokenizer = load_model_and_tokenizer(TrainConfig.from_dict({"envs": [ENV]}), str(start))
        before = sampled_metrics(model, tokenizer, args.difficulty, args.eval_tasks, args.samples, args.k)
        print(json.dumps({"before": before}), flush=True)
        if "majority_from_warm" in args.runs:
            config, _, _ = train_from(start, workdir, "warm", args.warm_steps, 0, args.difficulty)
            warm_start = last_checkpoint(config)
            model, tokenizer = load_model_and_tokenizer(config, str(warm_start))
            warm = {
                "grpo_steps": args.warm_steps,
                "metrics": sampled_metrics(model, tokenizer, args.difficulty, args.eval_tasks, args.samples, args.k),
            }
            print(json.dumps({"warm_start": warm}), flush=True)
        for seed in args.seeds:
            for name in args.runs:
                origin = warm_start if name == "majority_from_warm" else start
                runs.append(run(origin, workdir, name, args.steps, seed, args.difficulty, args, **objectives[name]))
    result = {
        "benchmark": (
            f"objectives: pass@k advantage vs GRPO, and the label-free majority reward; {ENV} "
            f"d={args.difficulty}, tiny 0.6M model, CPU"
        ),
        "shared_hyper_parameters": {**SHARED, "loss": "grpo"},
        "steps": args.steps,
        "k": args.k,
        "machine": {
            "platform": platform.platform(),
            "python": sys.version.split()[0],
            "cpus": os.cpu_count(),
            "torch_threads": 1,
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "before": before,
        "warm_start": warm,
        "runs": runs,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
