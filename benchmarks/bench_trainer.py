"""Trainer benchmark: rlvr's GRPO-family trainer next to TRL's GRPOTrainer, same model, task and
hyper-parameters, in one run on this machine's CPU.

Setup       One starting point for everyone: the tiny 0.6M-parameter Qwen2-style model and BPE
            tokenizer of rlvr.trainers.tiny (seed 0), after the demo's format-only SFT warm-up
            (80 steps of one-digit copying), saved with ``save_pretrained``. Task: tiny/Sums-v0 at
            difficulty 0 (two operands 0–4), scored by ``SumsVerifier`` on both sides (in TRL as
            its reward function). Shared hyper-parameters: 16 prompts × 8 responses per step,
            AdamW lr 5e-4 constant (no warm-up, no decay, weight decay 0), max_grad_norm 1,
            max 8 new tokens, temperature 1, full vocabulary (top_k 0, top_p 1), β = 0 (no KL),
            one optimiser step per batch (μ = 1), group-std-scaled advantages, one torch thread.
Runs        rlvr grpo        ``loss: grpo``        vs  TRL loss_type="grpo"  (ε 0.2)
            rlvr dapo-plain  ``loss: dapo`` without dynamic sampling and overlong shaping
                                                   vs  TRL loss_type="dapo", epsilon_high=0.28
            rlvr dapo        the demo's full DAPO (dynamic sampling refills zero-variance
                             groups; TRL has no counterpart, listed for reference)
Measured    steps/s (steps / summed step time, each side's own clock around its steps),
            setup seconds (model load, pools, first compile), mean training reward per step,
            wall time (summed step time) and step at which the 5-step moving average of the
            training reward first reaches ``--threshold``, and the greedy pass rate on 200 fixed
            tasks after training (same evaluation code for every model).
            The machine is shared and noisy: the two sides of each pair run back to back, in the
            order given by ``--order``; compare ratios within one results file.

Run in the project's venv (scripts/setup.sh installs the trl extra):
    .venv/bin/python benchmarks/bench_trainer.py
Writes benchmarks/results/trainer.json (``--output`` elsewhere).
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

from rlvr.core import Task
from rlvr.trainers.config import CurriculumConfig, TrainConfig, demo_config
from rlvr.trainers.grpo import build_envs, evaluate, load_model_and_tokenizer, sft_warmup, train
from rlvr.trainers.tiny import SumsVerifier

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "trainer.json"
SHARED = {"tasks_per_step": 16, "group_size": 8, "learning_rate": 5e-4, "max_new_tokens": 8, "temperature": 1.0}


def prepare_start(directory: Path) -> Path:
    """The common starting checkpoint: tiny model + the demo's format-only SFT warm-up."""
    demo = demo_config(output_dir=str(directory / "unused"))
    model, tokenizer = load_model_and_tokenizer(demo)
    sft_envs = build_envs(demo.warmup_sft_envs, CurriculumConfig())
    sft_warmup(model, tokenizer, sft_envs, demo, np.random.default_rng(0), lambda row: None)
    start = directory / "start"
    model.save_pretrained(start)
    tokenizer.save_pretrained(start)
    return start


def moving_average_hit(rewards: list[float], times: list[float], threshold: float, window: int = 5) -> dict:
    for i in range(window - 1, len(rewards)):
        if np.mean(rewards[i - window + 1 : i + 1]) >= threshold:
            return {"step": i + 1, "seconds": round(float(np.sum(times[: i + 1])), 2)}
    return {"step": None, "seconds": None}


def greedy_pass_rate(model, tokenizer, n_tasks: int = 200) -> float:
    config = TrainConfig.from_dict({"envs": [{"id": "tiny/Sums-v0"}], "max_new_tokens": SHARED["max_new_tokens"]})
    envs = build_envs(config.envs, config.curriculum)
    return evaluate(model, tokenizer, envs, config, n_tasks, seed=12345)["eval_pass_rate/tiny/Sums-v0"]


def summarise(
    name: str, rewards: list[float], times: list[float], setup: float, pass_rate: float, threshold: float
) -> dict:
    return {
        "name": name,
        "steps": len(rewards),
        "steps_per_second": round(len(rewards) / float(np.sum(times)), 3),
        "setup_seconds": round(setup, 2),
        "step_seconds_total": round(float(np.sum(times)), 2),
        "reward_first_10": round(float(np.mean(rewards[:10])), 3),
        "reward_last_10": round(float(np.mean(rewards[-10:])), 3),
        "threshold_hit": moving_average_hit(rewards, times, threshold),
        "greedy_pass_rate_after": round(pass_rate, 3),
        "reward_per_step": [round(r, 3) for r in rewards],
    }


def run_rlvr(start: Path, workdir: Path, name: str, loss: str, steps: int, threshold: float, **extra) -> dict:
    settings = {
        "envs": [{"id": "tiny/Sums-v0", "difficulty": 0.0}],
        "model": str(start),
        "loss": loss,
        "steps": steps,
        **SHARED,
        "output_dir": str(workdir / name),
        "resume": False,
        "progress": False,
        "plot": False,
        "torch_threads": 1,
        "seed": 0,
        "save_every": 10**9,
        "keep_checkpoints": 1,
        "scoring_backend": "process",
        "scoring_workers": 2,
        **extra,
    }
    started = time.perf_counter()
    result = train(TrainConfig.from_dict(settings))
    total = time.perf_counter() - started
    times = [row["time/step"] for row in result.metrics]
    rewards = [row["reward"] for row in result.metrics]
    model, tokenizer = load_model_and_tokenizer(
        TrainConfig.from_dict(settings), str(sorted((workdir / name).glob("checkpoint-*"))[-1])
    )
    return summarise(
        f"rlvr {name}", rewards, times, total - float(np.sum(times)), greedy_pass_rate(model, tokenizer), threshold
    )


def sums_reward(completions, task, **_) -> list[float]:
    """TRL reward function: the same verifier rlvr uses, on the completion's text."""
    verifier = SumsVerifier()
    return [
        verifier.verify(Task.from_dict(json.loads(t)), c[0]["content"] if isinstance(c, list) else c).reward
        for c, t in zip(completions, task)
    ]


def run_trl(
    start: Path,
    workdir: Path,
    name: str,
    loss_type: str,
    steps: int,
    threshold: float,
    epsilon_high: float | None = None,
) -> dict:
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from rlvr.trainers.tiny import SumsGenerator

    rng = np.random.default_rng(0)
    generator = SumsGenerator()
    tasks = [
        generator.generate(int(seed), 0.0) for seed in rng.integers(2**31 - 1, size=steps * SHARED["tasks_per_step"])
    ]
    dataset = Dataset.from_list(
        [{"prompt": [{"role": "user", "content": t.prompt}], "task": t.to_json()} for t in tasks]
    )

    class StepClock(TrainerCallback):
        def __init__(self):
            self.rewards, self.times, self.begun = [], [], None

        def on_step_begin(self, args, state, control, **kwargs):
            self.begun = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            self.times.append(time.perf_counter() - self.begun)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "reward" in logs:
                self.rewards.append(float(logs["reward"]))

    started = time.perf_counter()
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(start)
    tokenizer = AutoTokenizer.from_pretrained(start)
    args = GRPOConfig(
        output_dir=str(workdir / name),
        max_steps=steps,
        per_device_train_batch_size=SHARED["tasks_per_step"] * SHARED["group_size"],
        num_generations=SHARED["group_size"],
        learning_rate=SHARED["learning_rate"],
        lr_scheduler_type="constant",
        warmup_steps=0,
        weight_decay=0.0,
        max_grad_norm=1.0,
        max_completion_length=SHARED["max_new_tokens"],
        temperature=SHARED["temperature"],
        top_k=0,
        top_p=1.0,
        beta=0.0,
        epsilon=0.2,
        epsilon_high=epsilon_high,
        loss_type=loss_type,
        scale_rewards="group",
        num_iterations=1,
        use_cpu=True,
        logging_steps=1,
        report_to="none",
        save_strategy="no",
        seed=0,
        bf16=False,
        disable_tqdm=True,
        dataloader_num_workers=0,
        shuffle_dataset=False,
    )
    clock = StepClock()
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=sums_reward,
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        callbacks=[clock],
    )
    trainer.train()
    total = time.perf_counter() - started
    rewards, times = clock.rewards[:steps], clock.times[:steps]
    return summarise(
        f"trl {name}",
        rewards,
        times,
        total - float(np.sum(times)),
        greedy_pass_rate(trainer.model, tokenizer),
        threshold,
    )


def versions() -> dict:
    names = ("torch", "transformers", "trl", "accelerate", "datasets")
    found = {}
    for name in names:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--threshold", type=float, default=0.5, help="5-step moving average of training reward")
    parser.add_argument("--order", default="rlvr-first", choices=("rlvr-first", "trl-first"))
    parser.add_argument("--skip-trl", action="store_true", help="only rlvr (when TRL is not installed)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    load_before = os.getloadavg()
    runs, trl_error = [], None
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        start = prepare_start(workdir)
        pairs = [
            (
                lambda: run_rlvr(start, workdir, "grpo", "grpo", args.steps, args.threshold),
                lambda: run_trl(start, workdir, "grpo", "grpo", args.steps, args.threshold),
            ),
            (
                lambda: run_rlvr(
                    start,
                    workdir,
                    "dapo-plain",
                    "dapo",
                    args.steps,
                    args.threshold,
                    dynamic_sampling=False,
                    overlong_penalty=False,
                ),
                lambda: run_trl(start, workdir, "dapo", "dapo", args.steps, args.threshold, epsilon_high=0.28),
            ),
        ]
        for ours, theirs in pairs:
            sides = [ours, theirs] if args.order == "rlvr-first" else [theirs, ours]
            for side in sides:
                if side is theirs and (args.skip_trl or trl_error):
                    continue
                try:
                    runs.append(side())
                except ImportError as error:
                    trl_error = f"TRL unavailable: {error}"
                print(
                    json.dumps({k: v for k, v in runs[-1].items() if k != "reward_per_step"}) if runs else trl_error,
                    flush=True,
                )
        runs.append(run_rlvr(start, workdir, "dapo", "dapo", args.steps, args.threshold))
        print(json.dumps({k: v for k, v in runs[-1].items() if k != "reward_per_step"}), flush=True)
    result = {
        "benchmark": "trainer: rlvr GRPO-family trainer vs TRL GRPOTrainer, tiny/Sums-v0 d=0, tiny 0.6M model, CPU",
        "shared_hyper_parameters": SHARED,
        "steps": args.steps,
        "threshold": args.threshold,
        "order": args.order,
        "machine": {
            "platform": platform.platform(),
            "python": sys.version.split()[0],
            "cpus": os.cpu_count(),
            "torch_threads": 1,
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "versions": versions(),
        "trl_error": trl_error,
        "runs": runs,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
