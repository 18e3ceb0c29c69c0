"""A training configuration small enough for tests: the tiny Sums env, two steps, no plot, no
progress bar, one torch thread; shared by the trainer tests."""

from __future__ import annotations

from rlvr.trainers import TrainConfig


def small_config(tmp_path, **overrides) -> TrainConfig:
    """``TrainConfig`` for a two-step run in ``tmp_path / "run"``; ``overrides`` win."""
    settings = {
        "envs": [{"id": "tiny/Sums-v0"}],
        "steps": 2,
        "tasks_per_step": 4,
        "group_size": 4,
        "max_new_tokens": 6,
        "output_dir": str(tmp_path / "run"),
        "progress": False,
        "plot": False,
        "scoring_backend": "thread",
        "torch_threads": 1,
        "save_every": 100,
        "seed": 3,
    }
    settings.update(overrides)
    return TrainConfig.from_dict(settings)
