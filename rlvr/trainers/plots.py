"""metrics.png: a training run in one figure, drawn from its metrics.jsonl.

``plot_metrics(metrics_path, png_path)`` draws a 3 × 4 grid: nine panels of training curves
against the RL step (reward and pass rate overall and per env, difficulty per env,
zero-variance groups, entropy, KL to the start, response length, clip fraction, seconds per
step by phase), the SFT warm-up loss, and the greedy pass rate per env before and after
training. Rows are told apart by ``phase`` (see rlvr.trainers.reporting); a file with none of
them gives no figure (None). Needs matplotlib (in the ``train`` extra).
"""

from __future__ import annotations

import math
from pathlib import Path

from rlvr.trainers.run_directory import read_metrics


def plot_metrics(metrics_path: str | Path, png_path: str | Path) -> Path | None:
    """The run in one PNG: the training steps' curves, the SFT warm-up loss and the greedy pass
    rate per env before and after training (None when there is nothing to plot)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    everything = read_metrics(metrics_path)
    rows = [r for r in everything if r.get("phase", "rl") == "rl"]
    sft = [r for r in everything if r.get("phase") == "sft"]
    evaluations = [r for r in everything if r.get("phase") == "eval"]
    if not (rows or sft or evaluations):
        return None
    last = rows[-1] if rows else {}
    panels = [
        ("reward", [k for k in last if k == "reward" or k.startswith("reward/")]),
        ("pass rate", [k for k in last if k == "pass_rate" or k.startswith("pass_rate/")]),
        ("difficulty", [k for k in last if k.startswith("difficulty/")]),
        ("zero-variance groups", ["zero_variance_fraction"]),
        ("entropy", ["entropy"]),
        ("KL to start", ["kl"]),
        ("response length (tokens)", ["response_length"]),
        ("clip fraction", ["clip_fraction"]),
        ("seconds per step", ["time/generation", "time/scoring", "time/update"]),
    ]
    figure, axes = plt.subplots(3, 4, figsize=(18, 10), constrained_layout=True)
    steps = [r["step"] for r in rows]
    for axis, (title, keys) in zip(axes[:, :3].flat, panels):
        for key in keys:
            axis.plot(steps, [math.nan if r.get(key) is None else r[key] for r in rows], label=key)
        axis.set_title(title)
        axis.set_xlabel("step")
        axis.grid(alpha=0.3)
        if len(keys) > 1:
            axis.legend(fontsize=7)
    warmup, before_after, unused = axes[:, 3]
    warmup.plot([r["sft_step"] for r in sft], [r["sft_loss"] for r in sft], color="tab:purple")
    warmup.set_title("SFT warm-up loss" if sft else "SFT warm-up loss (no warm-up)")
    warmup.set_xlabel("SFT step")
    warmup.grid(alpha=0.3)
    plot_evaluations(before_after, evaluations)
    unused.axis("off")
    figure.savefig(png_path, dpi=90)
    plt.close(figure)
    return Path(png_path)


def plot_evaluations(axis, evaluations: list[dict]) -> None:
    """Greedy pass rate per env, one bar per evaluation (before training, after step N)."""
    envs = sorted({k.split("/", 1)[1] for row in evaluations for k in row if k.startswith("eval_pass_rate/")})
    axis.set_title("greedy pass rate (evaluation)" if evaluations else "greedy pass rate (no evaluation: eval_tasks 0)")
    axis.set_ylim(0, 1.05)
    axis.grid(alpha=0.3, axis="y")
    width = 0.8 / max(1, len(evaluations))
    for index, row in enumerate(evaluations):
        label = "before training" if row["after_step"] == 0 else f"after step {row['after_step']}"
        values = [row.get(f"eval_pass_rate/{env}", math.nan) for env in envs]
        bars = axis.bar([e + index * width for e in range(len(envs))], values, width, label=label)
        axis.bar_label(bars, fmt="%.2f", fontsize=7)
    axis.set_xticks([e + width * (len(evaluations) - 1) / 2 for e in range(len(envs))], envs, fontsize=7)
    if evaluations:
        axis.legend(fontsize=7)
