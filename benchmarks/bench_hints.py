"""Hints benchmark: does a hint schedule (``hints: {schedule: ghpo | seele}``) make the tiny model
learn, on this machine's CPU, a task it does not learn without hints, judged WITHOUT hints?

Setup     The starting point of benchmarks/bench_trainer.py: the tiny 0.6M-parameter model after
          the demo's format-only SFT warm-up (80 steps of one-digit copying). 16 tasks × 8
          responses per step, AdamW lr 5e-4, ``loss: grpo``, at most 8 new tokens, temperature 1,
          one torch thread, thread scoring. Every run starts from the same checkpoint.
Probe     First, the start's sampled pass rate (``--probe-tasks`` tasks × 8 responses at
          temperature 1) on each candidate task at hint 0 and hint 1: tiny/Sums-v0 and
          tiny/Copy-v0 at difficulty 1 and rlvr/Maze-v0 at difficulty 0 (16 new tokens for the
          maze's moves). The share of groups with at least one success is the share GRPO can
          learn from at all.
Runs      On ``--env`` at ``--difficulty`` (default tiny/Sums-v0 at 1: three operands 0–9; its
          only hint piece is the sum of the first two operands), for each seed: schedule none,
          ghpo (levels 0.25 0.5 0.75 1) and seele (target 0.5), the same ``--steps`` each.
Measured  Without hints, on fixed tasks: the greedy pass rate on ``--eval-tasks`` tasks, the
          most common greedy answer and its share, and the sampled pass rate (``--eval-tasks`` / 2
          tasks × 4 responses at temperature 1), at the start and every ``--eval-every`` steps
          (from the run's checkpoints). Beside them, the pass rate of always giving the eval
          tasks' most common answer (at d = 1 a total of 13 or 14 is right about 7% of the
          time): a policy can reach it by learning one answer, no addition. Per step: the training pass rate (of the
          groups kept: for ghpo and seele those are mostly hinted, so this is not comparable across schedules),
          hints/mean_level, hints/hinted_share, seconds. Wall seconds per run (ghpo rolls a
          zero group out again at each level, so its steps cost more generation).
          The machine is shared with other agents' jobs (load average recorded): seconds are
          noisy, pass rates are not affected by load.

Run in the project's venv:
    .venv/bin/python benchmarks/bench_hints.py        (the defaults wrote the results file)
Writes benchmarks/results/hints.json (``--output`` elsewhere).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from bench_trainer import prepare_start

from rlvr.core import answer_block_key
from rlvr.trainers.config import TrainConfig
from rlvr.trainers.curriculum import SEED_SPACE
from rlvr.trainers.grpo import answer_keys, build_envs, load_model_and_tokenizer, train
from rlvr.trainers.rollout import HFSampler, Scorer, TemperatureSchedule, run_episodes

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "hints.json"
SHARED = {
    "tasks_per_step": 16,
    "group_size": 8,
    "learning_rate": 5e-4,
    "max_new_tokens": 8,
    "temperature": 1.0,
    "loss": "grpo",
}
PROBES = (("tiny/Sums-v0", 1.0, 8), ("tiny/Copy-v0", 1.0, 8), ("rlvr/Maze-v0", 0.0, 16))
SCHEDULES = {"none": {"schedule": "none"}, "ghpo": {"schedule": "ghpo"}, "seele": {"schedule": "seele", "target": 0.5}}
EVAL_SEED = 20_261_205


def source_for(env_id: str, difficulty: float):
    config = TrainConfig.from_dict({"envs": [{"id": env_id, "difficulty": difficulty}]})
    return build_envs(config.envs, config.curriculum)[0].source


def sampled_pass(
    model,
    tokenizer,
    env_id: str,
    difficulty: float,
    tasks: int,
    samples: int,
    max_new_tokens: int,
    hint: float,
    seed: int,
) -> dict:
    """Pass rate and share of groups with a success, ``samples`` responses at temperature 1 to
    ``tasks`` fixed tasks shown at hint level ``hint``."""
    source = source_for(env_id, difficulty)
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    groups = [
        (source, source.generator.with_hint(source.make_task(int(s), difficulty), hint))
        for s in rng.integers(SEED_SPACE, size=tasks)
    ]
    sampler = HFSampler(model, tokenizer, max_new_tokens, TemperatureSchedule(1.0), batch_size=256)
    episodes = run_episodes(groups, samples, sampler, tokenizer, Scorer(1, "serial"))
    correct = np.array([bool(e.verdict and e.verdict.correct) for e in episodes]).reshape(tasks, samples)
    return {
        "pass_rate": round(float(correct.mean()), 4),
        "groups_with_a_success": round(float((correct.sum(axis=1) > 0).mean()), 3),
    }


def eval_tasks(env_id: str, difficulty: float, tasks: int) -> list:
    source = source_for(env_id, difficulty)
    return [
        (source, source.make_task(int(s), difficulty))
        for s in np.random.default_rng(EVAL_SEED).integers(SEED_SPACE, size=tasks)
    ]


def best_constant_answer(env_id: str, difficulty: float, tasks: int) -> dict:
    """The pass rate of always giving the eval tasks' most common reference answer (what a
    policy that learned only the likeliest answer, not the task, scores)."""
    answers = Counter(
        answer_block_key(source.reference_response(task)) for source, task in eval_tasks(env_id, difficulty, tasks)
    )
    answer, count = answers.most_common(1)[0]
    return {"answer": answer, "pass_rate": round(count / tasks, 4)}


def unhinted_eval(model, tokenizer, env_id: str, difficulty: float, tasks: int) -> dict:
    """Without hints: greedy pass rate on ``tasks`` fixed tasks (as the trainer's ``evaluate``),
    the most common greedy answer and its share (a policy stuck on one answer shows here), and
    the sampled pass rate."""
    sampler = HFSampler(
        model, tokenizer, SHARED["max_new_tokens"], TemperatureSchedule(1.0), batch_size=256, greedy=True
    )
    episodes = run_episodes(eval_tasks(env_id, difficulty, tasks), 1, sampler, tokenizer, Scorer(1, "serial"))
    answer, count = Counter(answer_keys(episodes)).most_common(1)[0]
    sampled = sampled_pass(
        model, tokenizer, env_id, difficulty, tasks // 2, 4, SHARED["max_new_tokens"], 0.0, EVAL_SEED + 1
    )
    return {
        "greedy": round(float(np.mean([bool(e.verdict and e.verdict.correct) for e in episodes])), 4),
        "top_greedy_answer": answer,
        "top_greedy_answer_share": round(count / tasks, 3),
        "sampled": sampled["pass_rate"],
    }


def run(start: Path, workdir: Path, schedule: str, seed: int, args) -> dict:
    settings = {
        "envs": [{"id": args.env, "difficulty": args.difficulty}],
        "model": str(start),
        "steps": args.steps,
        **SHARED,
        "hints": SCHEDULES[schedule],
        "output_dir": str(workdir / f"{schedule}-{seed}"),
        "resume": False,
        "progress": False,
        "plot": False,
        "torch_threads": 1,
        "seed": seed,
        "save_every": args.eval_every,
        "keep_checkpoints": 10**6,
        "scoring_backend": "thread",
        "scoring_workers": 2,
    }
    config = TrainConfig.from_dict(settings)
    started = time.perf_counter()
    metrics = train(config).metrics
    seconds = time.perf_counter() - started
    curve = {}
    for checkpoint in sorted(Path(config.output_dir).glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1])):
        model, tokenizer = load_model_and_tokenizer(config, str(checkpoint))
        curve[int(checkpoint.name.split("-")[1])] = unhinted_eval(
            model, tokenizer, args.env, args.difficulty, args.eval_tasks
        )
    per_step = {
        key: [round(row.get(key, 0.0), 3) for row in metrics]
        for key in ("pass_rate", "hints/mean_level", "hints/hinted_share", "time/step")
    }
    summary = {
        "schedule": schedule,
        "seed": seed,
        "steps": args.steps,
        "wall_seconds": round(seconds, 1),
        "unhinted_eval_by_step": curve,
        "per_step": per_step,
    }
    print(json.dumps({k: v for k, v in summary.items() if k != "per_step"}), flush=True)
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--env", default="tiny/Sums-v0")
    parser.add_argument("--difficulty", type=float, default=1.0)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--eval-every", type=int, default=10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--schedules", nargs="+", default=list(SCHEDULES), choices=list(SCHEDULES))
    parser.add_argument("--eval-tasks", type=int, default=200)
    parser.add_argument("--probe-tasks", type=int, default=50)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    load_before = os.getloadavg()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        start = prepare_start(workdir)
        model, tokenizer = load_model_and_tokenizer(TrainConfig.from_dict({"envs": [args.env]}), str(start))
        probe = {
            f"{env_id} d={difficulty:g}": {
                f"hint {hint:g}": sampled_pass(
                    model, tokenizer, env_id, difficulty, args.probe_tasks, 8, max_new_tokens, hint, EVAL_SEED
                )
                for hint in (0.0, 1.0)
            }
            for env_id, difficulty, max_new_tokens in PROBES
        }
        print(json.dumps({"probe": probe}), flush=True)
        before = unhinted_eval(model, tokenizer, args.env, args.difficulty, args.eval_tasks)
        print(json.dumps({"before": before}), flush=True)
        runs = [run(start, workdir, schedule, seed, args) for seed in args.seeds for schedule in args.schedules]
    final = {
        schedule: [
            r["unhinted_eval_by_step"][max(r["unhinted_eval_by_step"])] for r in runs if r["schedule"] == schedule
        ]
        for schedule in args.schedules
    }
    result = {
        "benchmark": (
            f"hint schedules none / ghpo / seele on {args.env} d={args.difficulty:g}, tiny 0.6M model, "
            "CPU; evaluated without hints"
        ),
        "shared_hyper_parameters": SHARED,
        "steps": args.steps,
        "seeds": args.seeds,
        "eval_tasks": args.eval_tasks,
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "torch_threads": 1,
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "note": "shared with other agents' jobs during the run: seconds are noisy",
        },
        "probe_start_sampled_pass": probe,
        "before_unhinted": before,
        "best_constant_answer": best_constant_answer(args.env, args.difficulty, args.eval_tasks),
        "after_unhinted_mean_over_seeds": {
            schedule: {
                "greedy": round(float(np.mean([f["greedy"] for f in values])), 4),
                "top_greedy_answer_share": round(float(np.mean([f["top_greedy_answer_share"] for f in values])), 3),
                "sampled": round(float(np.mean([f["sampled"] for f in values])), 4),
                "wall_seconds": round(
                    float(np.mean([r["wall_seconds"] for r in runs if r["schedule"] == schedule])), 1
                ),
            }
            for schedule, values in final.items()
        },
        "total_seconds": round(time.perf_counter() - started, 1),
        "runs": runs,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result["after_unhinted_mean_over_seeds"]), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
