"""Where the trainer's metrics go: ``metrics.jsonl`` always, TensorBoard and W&B on request.

``Reporter(output_dir, report_to)`` receives every metrics row the loop logs and fans it out.
Rows are tagged by ``phase``:

rl      one per training step: every numeric field as ``<name>`` at x = ``step``
sft     one per SFT warm-up step: ``sft/loss`` at x = ``sft_step``
eval    one per greedy evaluation: ``eval/pass_rate/<env>`` at x = ``after_step``

``report_to`` lists any of:

tensorboard  event files in ``output_dir/tensorboard`` (``tensorboard --logdir DIR``); needs the
             ``tensorboard`` package (in the ``train`` extra).
wandb        a Weights & Biases run (project ``rlvr``, named after the output directory, files
             under ``output_dir``). Offline unless ``WANDB_MODE`` says otherwise, so a run never
             needs a network or an account: ``wandb sync`` uploads it later. Needs
             ``pip install wandb``. There the training rows are ``train/<name>`` against ``step``,
             the others against ``sft_step`` and ``after_step``.

The JSON lines are strict JSON (NaN becomes null); non-numeric fields go only there.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
from pathlib import Path
from typing import Any

REPORTERS = ("tensorboard", "wandb")
PACKAGES = {"tensorboard": "tensorboard", "wandb": "wandb"}
X_AXIS = {"rl": "step", "sft": "sft_step", "eval": "after_step"}


def normalise_report_to(report_to: Any) -> list[str]:
    """``"tensorboard"``, ``["tensorboard", "wandb"]``, ``"none"`` or None → a checked list; a
    ValueError names an unknown reporter or a missing package."""
    if report_to is None or report_to == "none":
        return []
    names = [report_to] if isinstance(report_to, str) else list(report_to)
    names = [name for name in names if name != "none"]
    for name in names:
        if name not in REPORTERS:
            raise ValueError(f"unknown report_to {name!r}; choose from {', '.join(REPORTERS)} or none")
        if importlib.util.find_spec(PACKAGES[name]) is None:
            hint = "pip install tensorboard (or the train extra)" if name == "tensorboard" else "pip install wandb"
            raise ValueError(f"report_to {name} needs the {PACKAGES[name]} package: {hint}")
    return list(dict.fromkeys(names))


def scalars(row: dict) -> dict[str, float]:
    """The row's plottable values under their reported names (see the module docstring)."""
    phase = row.get("phase", "rl")
    values = {}
    for key, value in row.items():
        if key in ("phase", X_AXIS.get(phase)) or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if value is None or math.isnan(value):
            continue
        if phase == "sft":
            key = "sft/loss" if key == "sft_loss" else f"sft/{key}"
        elif phase == "eval":
            key = key.replace("eval_pass_rate/", "eval/pass_rate/", 1)
        values[key] = float(value)
    return values


class Reporter:
    """Appends rows to ``metrics.jsonl`` and mirrors them to TensorBoard and W&B."""

    def __init__(self, output_dir: Path, metrics_path: Path, report_to: list[str], config: dict | None = None):
        self.metrics_path = metrics_path
        self.tensorboard = None
        self.wandb_run = None
        if "tensorboard" in report_to:
            from torch.utils.tensorboard import SummaryWriter

            self.tensorboard = SummaryWriter(log_dir=str(output_dir / "tensorboard"))
        if "wandb" in report_to:
            import wandb

            self.wandb_run = wandb.init(
                project=os.environ.get("WANDB_PROJECT", "rlvr"),
                name=output_dir.name,
                dir=str(output_dir),
                config=config or {},
                mode=os.environ.get("WANDB_MODE", "offline"),
            )
            self.wandb_run.define_metric("train/*", step_metric="step")
            self.wandb_run.define_metric("sft/*", step_metric="sft_step")
            self.wandb_run.define_metric("eval/*", step_metric="after_step")

    def log(self, row: dict) -> None:
        clean = {
            k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()
        }  # strict JSON: null, not NaN
        with open(self.metrics_path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(clean) + "\n")
        phase = row.get("phase", "rl")
        axis = X_AXIS.get(phase)
        if axis is None or axis not in row:
            return
        values = scalars(row)
        if self.tensorboard is not None:
            for key, value in values.items():
                self.tensorboard.add_scalar(key, value, int(row[axis]))
            self.tensorboard.flush()
        if self.wandb_run is not None:
            named = {f"train/{k}": v for k, v in values.items()} if phase == "rl" else values
            self.wandb_run.log({**named, axis: int(row[axis])})

    def close(self) -> None:
        if self.tensorboard is not None:
            self.tensorboard.close()
            self.tensorboard = None
        if self.wandb_run is not None:
            self.wandb_run.finish()
            self.wandb_run = None
