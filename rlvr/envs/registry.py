"""The table of environments and their registration with Gymnasium.

Each ``EnvSpec`` names a generator class and a verifier class by import path, so ``import rlvr``
stays fast and a family's heavy dependencies load only when its env is made. ``register_all``
(called by ``import rlvr``) registers every spec as ``gym.make``-able under the ``rlvr``
namespace.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym


@dataclass(frozen=True)
class EnvSpec:
    id: str
    description: str
    generator: str  # "module:Class"
    verifier: str  # "module:Class"
    visual: bool = False
    entry_point: str = "rlvr.envs.single_turn:SingleTurnEnv"
    generator_options: tuple[str, ...] = ()  # constructor arguments of the generator (dataset=…)
    verifier_options: tuple[str, ...] = ()  # constructor arguments of the verifier (shortest=…)
    max_episode_steps: int | None = None
    extra: dict = field(default_factory=dict)


ENV_SPECS: tuple[EnvSpec, ...] = (
    EnvSpec(
        "rlvr/Math-v0",
        "Competition-style maths with exact answers (synthetic via sympy, or a MATH/AIME/GSM8K file)",
        "rlvr.generators.math:MathGenerator",
        "rlvr.verifiers.math:MathVerifier",
        generator_options=("dataset",),
        verifier_options=("deadline_s", "memory_mb"),
    ),
    EnvSpec(
        "rlvr/Maze-v0",
        "Find a path from S to G through a text grid maze; answer a U/D/L/R move string",
        "rlvr.generators.maze:MazeGenerator",
        "rlvr.verifiers.maze:MazeVerifier",
        verifier_options=("shortest", "partial"),
    ),
    EnvSpec(
        "rlvr/MazeImage-v0",
        "The maze drawn as an image; answer a U/D/L/R move string",
        "rlvr.generators.maze:MazeImageGenerator",
        "rlvr.verifiers.maze:MazeVerifier",
        visual=True,
        verifier_options=("shortest", "partial"),
    ),
)


def load_object(path: str) -> Any:
    module_name, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def get_spec(env_id: str) -> EnvSpec:
    for spec in ENV_SPECS:
        if spec.id == env_id:
            return spec
    known = ", ".join(spec.id for spec in ENV_SPECS)
    raise KeyError(f"unknown env {env_id!r}; known: {known}")


def split_options(spec: EnvSpec, options: dict) -> tuple[dict, dict, dict]:
    """Split keyword arguments into (generator constructor, verifier constructor, task params)."""
    generator_kwargs = {k: v for k, v in options.items() if k in spec.generator_options}
    verifier_kwargs = {k: v for k, v in options.items() if k in spec.verifier_options}
    params = {k: v for k, v in options.items() if k not in generator_kwargs and k not in verifier_kwargs}
    return generator_kwargs, verifier_kwargs, params


def build_generator(spec: EnvSpec, **kwargs: Any):
    return load_object(spec.generator)(**kwargs)


def build_verifier(spec: EnvSpec, **kwargs: Any):
    return load_object(spec.verifier)(**kwargs)


def register_all() -> None:
    """Register every spec with Gymnasium (idempotent)."""
    for spec in ENV_SPECS:
        if spec.id in gym.registry:
            continue
        gym.register(
            id=spec.id,
            entry_point=spec.entry_point,
            kwargs={"env_id": spec.id},
            max_episode_steps=spec.max_episode_steps,
            disable_env_checker=False,
        )
