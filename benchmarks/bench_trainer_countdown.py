"""Does the CPU demo's tiny model learn Countdown at its easiest setting? Countdown-v0 at d = 0
next to the demo's own task, same trainer and settings, in one run on this machine's CPU.

Runs        Each run is ``rlvr.trainers.config.demo_config`` (the settings of ``rlvr train
            --demo``: the 0.6M tiny model, 80 steps of format-only SFT on one-digit copying, DAPO
            with dynamic sampling, 16 prompts × 8 responses, lr 5e-4, one torch thread) with only
            the env, the token budget and the step count changed (countdown-sft: the warm-up too):
              sums       tiny/Sums-v0 d=0, max_new_tokens 8, ``--steps`` (100; the demo as it ships)
              countdown  rlvr/Countdown-v0 d=0 (three numbers 1–9, target ≤ 20, + and −, each number
                         at most once), max_new_tokens ``--countdown-tokens`` (16: a reference
                         answer such as ``<answer>4 - (7 - 4) = 1</answer>`` is up to 15 tokens),
                         ``--countdown-steps`` RL steps (30; a Countdown step costs several sums
                         steps: 180-token prompts, and dynamic sampling refills all-zero groups)
              countdown-sft  the same, but the 80 warm-up SFT steps imitate Countdown-v0 d=0's
                         reference answers instead of copying digits (supervised on solutions:
                         the RL phase then has to improve on what imitation reached)
            The tiny tokenizer is trained on the spot on the prompts of the envs trained (the
            trainer adds them), so a Countdown prompt is about 180 tokens, a sums prompt 17.
Measured    mean training reward over the first and the last 20% of the steps, the greedy pass
            rate on ``--eval-tasks`` fixed tasks before RL (after the SFT warm-up) and after the
            last step, wall seconds, the share of zero-variance groups, the mean response length,
            and five greedy answers of the final model (what it learned to write).

Run in the project's venv:
    .venv/bin/python benchmarks/bench_trainer_countdown.py
Writes benchmarks/results/trainer_countdown.json (``--output`` elsewhere).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from rlvr.trainers.config import demo_config
from rlvr.trainers.grpo import load_model_and_tokenizer, train
from rlvr.trainers.rollout import RewardSource

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "trainer_countdown.json"


def window_mean(values: list[float], share: float, last: bool) -> float:
    count = max(1, round(len(values) * share))
    return float(np.mean(values[-count:] if last else values[:count]))


def greedy_samples(config, checkpoint: Path, env_id: str, count: int = 5) -> list[dict]:
    """The final model's greedy answers to a few fresh tasks, and their verdicts."""
    model, tokenizer = load_model_and_tokenizer(config, str(checkpoint))
    model.eval()
    source = RewardSource.from_env(env_id)
    verifier = source.verifier_factory()
    samples = []
    for seed in range(900_000, 900_000 + count):
        task = source.make_task(seed, 0.0)
        ids = tokenizer.apply_chat_template(
            [{"role": "user", "content": task.prompt}],
            add_generation_prompt=True,
            return_tensors="pt",
            return_dict=True,
        )
        with torch.no_grad():
            out = model.generate(
                **ids, max_new_tokens=config.max_new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id
            )
        text = tokenizer.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)
        verdict = verifier.verify(task, text)
        samples.append(
            {
                "prompt_head": task.prompt.split("\n")[0],
                "response": text,
                "reward": verdict.reward,
                "reason": verdict.reason,
            }
        )
    return samples


def run(
    name: str,
    env_id: str,
    max_new_tokens: int,
    steps: int,
    eval_tasks: int,
    workdir: Path,
    warmup_sft_envs: list[dict] | None = None,
) -> dict:
    overrides = {"warmup_sft_envs": warmup_sft_envs} if warmup_sft_envs else {}
    config = demo_config(
        output_dir=str(workdir / name),
        envs=[{"id": env_id, "weight": 1.0, "difficulty": 0.0}],
        steps=steps,
        max_new_tokens=max_new_tokens,
        eval_tasks=eval_tasks,
        save_every=10**9,
        progress=False,
        plot=False,
        resume=False,
        **overrides,
    )
    started = time.perf_counter()
    result = train(config)
    seconds = time.perf_counter() - started
    rewards = [row["reward"] for row in result.metrics]
    evaluations = [next(v for k, v in e.items() if k.startswith("eval_pass_rate/")) for e in result.evaluations]
    checkpoint = max((workdir / name).glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    summary = {
        "name": name,
        "env_id": env_id,
        "difficulty": 0.0,
        "max_new_tokens": max_new_tokens,
        "steps": len(rewards),
        "warmup_sft_envs": [e.id for e in config.warmup_sft_envs or []],
        "wall_seconds": round(seconds, 1),
        "reward_first_20pct": round(window_mean(rewards, 0.2, last=False), 3),
        "reward_last_20pct": round(window_mean(rewards, 0.2, last=True), 3),
        "greedy_pass_rate_before": round(evaluations[0], 3) if evaluations else None,
        "greedy_pass_rate_after": round(evaluations[-1], 3) if evaluations else None,
        "zero_variance_fraction_mean": round(float(np.mean([r["zero_variance_fraction"] for r in result.metrics])), 3),
        "response_length_first_last": [
            round(result.metrics[0]["response_length"], 1),
            round(result.metrics[-1]["response_length"], 1),
        ],
        "refill_rounds_total": int(sum(r.get("refill_rounds", 0) for r in result.metrics)),
        "final_greedy_samples": greedy_samples(config, checkpoint, env_id),
        "reward_per_step": [round(r, 3) for r in rewards],
    }
    print(
        json.dumps({k: v for k, v in summary.items() if k not in ("reward_per_step", "final_greedy_samples")}),
        flush=True,
    )
    for sample in summary["final_greedy_samples"]:
        print(f"   {sample['prompt_head']!r} → {sample['response']!r} ({sample['reward']})", flush=True)
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=100, help="RL steps per run (the demo's default)")
    parser.add_argument("--countdown-steps", type=int, default=30, help="RL steps of the countdown runs (slower steps)")
    parser.add_argument("--countdown-tokens", type=int, default=16)
    parser.add_argument("--eval-tasks", type=int, default=100)
    parser.add_argument(
        "--runs", default="countdown,countdown-sft,sums", help="comma-separated: countdown, countdown-sft, sums"
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    countdown_sft = [{"id": "rlvr/Countdown-v0", "difficulty": 0.0}]
    plans = {
        "countdown": ("rlvr/Countdown-v0", args.countdown_tokens, args.countdown_steps, None),
        "countdown-sft": ("rlvr/Countdown-v0", args.countdown_tokens, args.countdown_steps, countdown_sft),
        "sums": ("tiny/Sums-v0", 8, args.steps, None),
    }
    load_before = os.getloadavg()
    runs = []
    with tempfile.TemporaryDirectory() as scratch:
        for name in [n.strip() for n in args.runs.split(",") if n.strip()]:
            env_id, tokens, steps, sft_envs = plans[name]
            runs.append(run(name, env_id, tokens, steps, args.eval_tasks, Path(scratch), sft_envs))
    result = {
        "benchmark": (
            "tiny 0.6M model, the CPU demo's trainer settings: Countdown-v0 d=0 vs the demo's tiny/Sums-v0 d=0"
        ),
        "eval_tasks": args.eval_tasks,
        "machine": {
            "platform": platform.platform(),
            "python": sys.version.split()[0],
            "cpus": os.cpu_count(),
            "torch_threads": 1,
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "versions": {name: importlib.metadata.version(name) for name in ("torch", "transformers")},
        "runs": runs,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
