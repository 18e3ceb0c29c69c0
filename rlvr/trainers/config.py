"""The trainer's configuration: dataclasses, YAML loading, and the CPU demo's settings.

A YAML file mirrors ``TrainConfig`` field by field; unknown keys are errors. ``envs`` is a list
of ``{id, weight, difficulty, options, curriculum}`` entries, or a mapping from env id to a
weight (``{"rlvr/Math-v0": 0.5, "rlvr/Maze-v0": 0.5}``) or to such an entry. ``curriculum``
and ``task_selection`` are nested mappings. See ``examples/tiny_sums.yaml``.

Model       ``model``: "tiny" (built offline by rlvr.trainers.tiny, ``tiny_size``), a local
            directory or a hub name (loaded with ``from_pretrained``).
Batch       ``tasks_per_step`` tasks, ``group_size`` responses each; ``inner_updates`` (μ)
            passes over the batch, each in ``minibatches`` optimiser steps.
Objective   ``loss``: grpo | dr_grpo | dapo | gspo | luspo (rlvr.trainers.losses.OBJECTIVES);
            ``epsilon_low`` / ``epsilon_high`` override the objective's clip range;
            ``dynamic_sampling`` and ``overlong_penalty`` (None: the objective's default);
            ``kl_coef`` (k3 to the frozen start), ``entropy_coef``, ``high_entropy_fraction``
            (top-ρ tokens), ``w_reinforce`` (λ: W-REINFORCE advantages instead of group ones).
Rewards     ``reward``: verifier (default: the env's verifier) | majority (label-free: 1 when a
            response's canonical answer is its group's most common one, else 0; the verifier's
            verdicts are still logged as pass_rate, and drive the curriculum and task selection).
Advantages  ``advantage``: group (default: GRPO's group-mean baseline, ÷ std when the objective
            scales) | pass_at_k (the pass@k objective over k-subsets of the group, ``pass_k`` = k,
            1 ≤ k ≤ group_size); see rlvr.trainers.losses.
Hints       ``hints``: {schedule: none | ghpo | seele, levels, target} — how much of each task's
            guidance (``hint``) the rollouts show; see rlvr.trainers.hints. Evaluation never
            shows hints.
Sampling    ``max_new_tokens`` per model turn; ``temperature`` annealed to ``temperature_end``
            over ``temperature_anneal_tokens`` positions (None: constant); ``top_p``;
            ``rollout_backend`` hf | vllm; ``max_turns`` for multi-turn envs.
Scoring     ``scoring_backend`` process | thread | serial, ``scoring_workers``, ``scoring_grace_s``.
Running     ``steps``, ``output_dir``, ``save_every``, ``resume`` (continue from the latest
            checkpoint in ``output_dir``, announced on stderr; False starts afresh and removes
            the earlier run's checkpoints, reference and metrics), ``seed``, ``device``,
            ``torch_threads``, ``warmup_sft_steps`` (SFT on the generators' reference solutions
            first, with its own progress bar).
Reporting   ``report_to``: [] (metrics.jsonl and metrics.png only), ``tensorboard`` and/or
            ``wandb`` (offline unless ``WANDB_MODE`` is set); see rlvr.trainers.reporting.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rlvr.trainers.hints import HintConfig

LOSSES = (
    "grpo",
    "dr_grpo",
    "dapo",
    "gspo",
    "luspo",
)  # the keys of rlvr.trainers.losses.OBJECTIVES (no torch import here)
REWARDS = ("verifier", "majority")
ADVANTAGES = ("group", "pass_at_k")


@dataclass
class EnvConfig:
    id: str
    weight: float = 1.0
    difficulty: float = 0.0
    options: dict = field(default_factory=dict)  # task parameters and env constructor options
    curriculum: bool | None = None  # None: follow TrainConfig.curriculum.enabled


@dataclass
class CurriculumConfig:
    enabled: bool = False
    low: float = 0.3
    high: float = 0.7
    step: float = 0.05
    smoothing: float = 0.5
    min_difficulty: float = 0.0
    max_difficulty: float = 1.0


@dataclass
class TaskSelectionConfig:
    method: str = "uniform"  # uniform | beta
    pool_size: int = 64
    evidence_discount: float = 0.5


@dataclass
class TrainConfig:
    envs: list[EnvConfig] = field(default_factory=list)
    model: str = "tiny"
    tiny_size: str = "0.6M"
    loss: str = "grpo"
    steps: int = 100
    tasks_per_step: int = 16
    group_size: int = 8
    inner_updates: int = 1
    minibatches: int = 1
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    epsilon_low: float | None = None
    epsilon_high: float | None = None
    kl_coef: float = 0.0
    track_reference_kl: bool = False
    entropy_coef: float = 0.0
    high_entropy_fraction: float | None = None
    w_reinforce: float | None = None
    reward: str = "verifier"
    advantage: str = "group"
    pass_k: int | None = None
    dynamic_sampling: bool | None = None
    max_refill_rounds: int = 3
    overlong_penalty: bool | None = None
    overlong_cache_tokens: int = 4
    max_new_tokens: int = 16
    temperature: float = 1.0
    temperature_end: float | None = None
    temperature_anneal_tokens: int = 0
    top_p: float = 1.0
    rollout_backend: str = "hf"
    generation_batch_size: int = 256
    vllm_gpu_memory_utilization: float = 0.3
    max_turns: int = 1
    max_context_tokens: int = 2048
    system_prompt: str | None = None
    scoring_backend: str = "process"
    scoring_workers: int = 2
    scoring_grace_s: float = 2.0
    curriculum: CurriculumConfig = field(default_factory=CurriculumConfig)
    task_selection: TaskSelectionConfig = field(default_factory=TaskSelectionConfig)
    hints: HintConfig = field(default_factory=HintConfig)
    warmup_sft_steps: int = 0
    warmup_sft_batch_size: int = 32
    warmup_sft_learning_rate: float | None = None
    warmup_sft_envs: list[EnvConfig] | None = None
    eval_tasks: int = 0
    output_dir: str = "runs/rlvr"
    save_every: int = 50
    keep_checkpoints: int = 2
    resume: bool = True
    seed: int = 0
    device: str = "auto"
    dtype: str = "float32"
    torch_threads: int | None = None
    progress: bool = True
    plot: bool = True
    report_to: list[str] = field(default_factory=list)  # tensorboard, wandb

    def __post_init__(self):
        from rlvr.trainers.reporting import normalise_report_to

        self.report_to = normalise_report_to(self.report_to)
        self.envs = parse_envs(self.envs)
        if self.warmup_sft_envs is not None:
            self.warmup_sft_envs = parse_envs(self.warmup_sft_envs)
        if isinstance(self.curriculum, dict):
            self.curriculum = build(CurriculumConfig, self.curriculum, "curriculum")
        if isinstance(self.task_selection, dict):
            self.task_selection = build(TaskSelectionConfig, self.task_selection, "task_selection")
        if isinstance(self.hints, dict):
            self.hints = build(HintConfig, self.hints, "hints")
        self.validate()

    def validate(self) -> None:
        if not self.envs:
            raise ValueError("a training config needs at least one env")
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; choose one of {', '.join(LOSSES)}")
        if self.group_size < 2:
            raise ValueError("group_size must be at least 2 (advantages compare responses within a group)")
        if self.reward not in REWARDS:
            raise ValueError(f"unknown reward {self.reward!r}; choose one of {', '.join(REWARDS)}")
        if self.advantage not in ADVANTAGES:
            raise ValueError(f"unknown advantage {self.advantage!r}; choose one of {', '.join(ADVANTAGES)}")
        if self.advantage == "pass_at_k":
            if isinstance(self.pass_k, bool) or not isinstance(self.pass_k, int):
                raise ValueError(f"advantage: pass_at_k needs an integer pass_k (the k of pass@k), got {self.pass_k!r}")
            if not 1 <= self.pass_k <= self.group_size:
                raise ValueError(f"pass_k must be between 1 and group_size ({self.group_size}), got {self.pass_k}")
            if self.w_reinforce is not None:
                raise ValueError("w_reinforce and advantage: pass_at_k are two different advantages; set one")
        elif self.pass_k is not None:
            raise ValueError(f"pass_k applies to advantage: pass_at_k only (advantage is {self.advantage!r})")
        if self.tasks_per_step < 1 or self.steps < 0 or self.inner_updates < 1 or self.minibatches < 1:
            raise ValueError("tasks_per_step, inner_updates and minibatches must be ≥ 1 and steps ≥ 0")
        if (self.tasks_per_step * self.group_size) % self.minibatches:
            raise ValueError("tasks_per_step × group_size must divide evenly into minibatches")
        if self.rollout_backend not in ("hf", "vllm"):
            raise ValueError(f"rollout_backend must be hf or vllm, got {self.rollout_backend!r}")
        if self.task_selection.method not in ("uniform", "beta"):
            raise ValueError(f"task_selection.method must be uniform or beta, got {self.task_selection.method!r}")
        if any(env.weight < 0 for env in self.envs) or sum(env.weight for env in self.envs) <= 0:
            raise ValueError("env weights must be ≥ 0 with a positive sum")
        self.hints.validate()

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        return build(cls, data, "config")


def build(kind: type, data: dict, where: str):
    """``kind(**data)`` with unknown keys reported by name."""
    if not isinstance(data, dict):
        raise ValueError(f"{where} must be a mapping, got {type(data).__name__}")
    known = {f.name for f in dataclasses.fields(kind)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown {where} keys: {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return kind(**data)


def env_entries(envs: Any) -> list:
    """The ``envs`` format as a list of entries (ids, ``{id, …}`` dicts or EnvConfigs): an env
    id, a list of entries, or a mapping id → weight / entry (shared with ``rlvr generate --mix``)."""
    if isinstance(envs, str):
        return [envs]
    if isinstance(envs, dict):
        return [
            {"id": env_id, **(value if isinstance(value, dict) else {"weight": float(value)})}
            for env_id, value in envs.items()
        ]
    if envs is not None and not isinstance(envs, (list, tuple)):
        raise ValueError(f"envs must be an env id, a list or a mapping, got {type(envs).__name__}")
    return list(envs or [])


def parse_envs(envs: Any) -> list[EnvConfig]:
    """A list of EnvConfig from ``env_entries(envs)``."""
    parsed = []
    for entry in env_entries(envs):
        if isinstance(entry, EnvConfig):
            parsed.append(entry)
        elif isinstance(entry, str):
            parsed.append(EnvConfig(entry))
        else:
            parsed.append(build(EnvConfig, entry, "env"))
    return parsed


def load_config(path: str | Path, **overrides: Any) -> TrainConfig:
    """A TrainConfig from a YAML file; keyword overrides win over the file. A file that is not
    a YAML mapping raises ValueError naming it."""
    import yaml

    with open(path, encoding="utf-8") as handle:
        try:
            data = yaml.safe_load(handle) or {}
        except yaml.YAMLError as error:
            raise ValueError(f"{path} is not valid YAML ({str(error).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a mapping of config keys, got {type(data).__name__}")
    data.update({k: v for k, v in overrides.items() if v is not None})
    return TrainConfig.from_dict(data)


def save_config(config: TrainConfig, path: str | Path) -> None:
    """The config as YAML (what ``load_config`` reads back)."""
    import yaml

    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(config.to_dict(), handle, sort_keys=False, allow_unicode=True)


def demo_config(output_dir: str = "runs/tiny-demo", **overrides: Any) -> TrainConfig:
    """The CPU demo (the settings of ``examples/tiny_sums.yaml``): a 0.6M-parameter model learns
    single-digit sums (operands 0–4) with DAPO.

    The SFT warm-up teaches only the answer format, on the copy task with one digit (any of
    0–9): afterwards sums are answered at chance (about 1 in 9). RL then has to learn addition.
    """
    settings: dict[str, Any] = {
        "envs": [{"id": "tiny/Sums-v0", "weight": 1.0, "difficulty": 0.0}],
        "model": "tiny",
        "tiny_size": "0.6M",
        "loss": "dapo",
        "steps": 100,
        "tasks_per_step": 16,
        "group_size": 8,
        "learning_rate": 5e-4,
        "max_new_tokens": 8,
        "overlong_cache_tokens": 2,
        "warmup_sft_steps": 80,
        "warmup_sft_envs": [{"id": "tiny/Copy-v0", "options": {"max_length": 1, "alphabet": 10}}],
        "track_reference_kl": True,
        "eval_tasks": 100,
        "output_dir": output_dir,
        "save_every": 25,
        "scoring_workers": 2,
        "torch_threads": 1,
        "seed": 0,
    }
    settings.update(overrides)
    return TrainConfig.from_dict(settings)
