"""GRPO-family trainer: rlvr envs as interchangeable reward sources for a causal language model.

    from rlvr.trainers import TrainConfig, train
    result = train(TrainConfig(envs={"tiny/Sums-v0": 1.0}, steps=60, output_dir="runs/sums"))

Modules     grpo.py        the training loop, top to bottom (``train``)
            losses.py      GRPO, Dr. GRPO, DAPO, GSPO, LUSPO and their options
            rollout.py     reward sources, HF / vLLM sampling, scoring with deadlines, multi-turn
            curriculum.py  adaptive difficulty per env, Beta-posterior task selection
            config.py      ``TrainConfig`` and YAML loading
            reporting.py   metrics.jsonl, TensorBoard and W&B (``report_to``)
            run_directory.py
                           the files of ``output_dir``: checkpoints, resuming, starting afresh
            plots.py       metrics.png from metrics.jsonl
            tiny.py        an offline tiny model and tokenizer, and two easy tasks for CPU runs

Importing this package loads neither torch nor transformers; ``train`` and the other loop
objects load them on first use. Needs the ``train`` extra: ``pip install 'rlvr[train]'``.
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from rlvr.trainers.config import EnvConfig, TrainConfig, demo_config, load_config

_LAZY = {"train": "rlvr.trainers.grpo", "TrainResult": "rlvr.trainers.grpo", "RewardSource": "rlvr.trainers.rollout"}

__all__ = [
    "EnvConfig",
    "RewardSource",
    "TrainConfig",
    "TrainResult",
    "add_train_arguments",
    "demo_config",
    "load_config",
    "run_train_command",
    "train",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rlvr.trainers' has no attribute {name!r}")


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``rlvr train``."""
    parser.add_argument("config", nargs="?", help="a YAML training config (see examples/tiny_sums.yaml)")
    parser.add_argument("--demo", action="store_true", help="run the CPU demo: a tiny model learns single-digit sums")
    parser.add_argument(
        "--warmup-sft", type=int, metavar="N", help="N supervised steps on reference solutions before RL"
    )
    parser.add_argument("--steps", type=int, help="override the number of RL steps")
    parser.add_argument("--output-dir", help="override the output directory")
    parser.add_argument("--seed", type=int, help="override the seed")
    parser.add_argument(
        "--no-resume",
        action="store_true",
        help="start afresh: remove the checkpoints and metrics of an earlier run in the output directory",
    )
    parser.add_argument(
        "--report-to",
        nargs="+",
        choices=("tensorboard", "wandb", "none"),
        metavar="{tensorboard,wandb,none}",
        help="also send metrics to TensorBoard (output_dir/tensorboard) and/or W&B (offline unless WANDB_MODE is set)",
    )


def run_train_command(args: argparse.Namespace) -> int:
    from rlvr.trainers.grpo import train_command

    return train_command(args)
