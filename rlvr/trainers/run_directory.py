"""What a training run keeps in its ``output_dir``, and how a later run picks it up or clears it.

    config.yaml              the run's config
    metrics.jsonl            one JSON line per SFT warm-up step, RL step and evaluation
    metrics.png              the curves (rlvr.trainers.plots)
    checkpoint-<step>/       model and tokenizer (``save_pretrained``) and trainer_state.pt:
                             optimiser, RNG states, curriculum and task-selection state;
                             the newest ``keep_checkpoints`` are kept
    reference/               the frozen starting policy for the KL term (when one is used)
    vllm-weights/            the starting weights vLLM loads (``rollout_backend: vllm``)
    tensorboard/             event files (``report_to: tensorboard``)

A checkpoint is written to ``.partial-<step>`` and renamed, so a ``checkpoint-*`` directory
holding a state file is always complete. Resuming from step N drops the metric lines written
after checkpoint N (``truncate_metrics``); starting afresh removes all of the above but the
config (``clear_earlier_run``). Messages for the person running the trainer go to stderr
(``announce``), so stdout stays the summary.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import torch

METRICS_FILE = "metrics.jsonl"
PLOT_FILE = "metrics.png"
STATE_FILE = "trainer_state.pt"


def announce(message: str) -> None:
    """A line for the person running the trainer (stderr, so stdout stays the summary)."""
    print(f"rlvr train: {message}", file=sys.stderr, flush=True)


def read_metrics(path: str | Path) -> list[dict]:
    """The rows of a metrics.jsonl, in order ([] when there is no file)."""
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def latest_checkpoint(output_dir: Path) -> Path | None:
    """The complete checkpoint of the highest step in ``output_dir``, or None."""
    candidates = sorted(p for p in output_dir.glob("checkpoint-*") if (p / STATE_FILE).exists())
    return candidates[-1] if candidates else None


def write_checkpoint(output_dir: Path, step: int, model, tokenizer, optimizer, state: dict, keep: int) -> Path:
    """``output_dir/checkpoint-<step>``: model and tokenizer (``save_pretrained``) plus the state
    file, ``state`` with the optimiser's added. Keeps the newest ``keep`` checkpoints."""
    target = output_dir / f"checkpoint-{step:06d}"
    partial = output_dir / f".partial-{step:06d}"
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    torch.save({**state, "optimizer": optimizer.state_dict()}, partial / STATE_FILE)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)  # a checkpoint directory with a state file is always complete
    for old in sorted(output_dir.glob("checkpoint-*"))[: -max(1, keep)]:
        shutil.rmtree(old, ignore_errors=True)
    return target


def truncate_metrics(path: Path, after_step: int) -> None:
    """Drop metric lines written after the checkpoint of ``after_step`` (we resume from it)."""

    def before_checkpoint(row: dict) -> bool:
        if row.get("phase") == "rl":
            return row["step"] <= after_step
        if row.get("phase") == "eval":
            return row["after_step"] < after_step or row["after_step"] == 0
        return True  # the SFT warm-up precedes every checkpoint

    kept = [row for row in read_metrics(path) if before_checkpoint(row)]
    path.write_text("".join(json.dumps(row) + "\n" for row in kept), encoding="utf-8")


def clear_earlier_run(output_dir: Path) -> None:
    """Remove what an earlier run left in ``output_dir`` (checkpoints, reference model, metrics,
    TensorBoard events), so a fresh run neither resumes from nor plots them; say so."""
    leftovers = [
        *output_dir.glob("checkpoint-*"),
        *output_dir.glob(".partial-*"),
        *(
            output_dir / name
            for name in ("reference", "vllm-weights", "tensorboard", METRICS_FILE, PLOT_FILE, STATE_FILE)
        ),
    ]
    leftovers = [path for path in leftovers if path.exists()]
    checkpoints = sum(path.name.startswith("checkpoint-") for path in leftovers)
    if checkpoints:
        announce(f"starting afresh in {output_dir}: removing {checkpoints} checkpoint(s) of an earlier run")
    for path in leftovers:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
