"""The registry: every family's declaration, flattened into one spec per env, registered with Gymnasium.

Families declare themselves (``rlvr.family.Family``) in the modules of ``rlvr/families/``; this
module imports those small modules (never the generators or verifiers, so ``import rlvr`` stays
fast), flattens each ``EnvDecl`` into an ``EnvSpec``, and ``register_all`` (called by ``import
rlvr``) registers every spec as ``gym.make``-able under the ``rlvr`` namespace. The library's
functions (``get_spec`` and everything built on it: ``rlvr.make_task``, ``rlvr.generate``, the
CLI, ``TaskVectorEnv``) also accept an id without the prefix (``"Maze-v0"``); ``gym.make`` needs
the full id. ``build_generator`` injects the env id into the generator it makes, so one
generator class serves every env of its family. ``family_doc(spec)`` is the family's contract
(its family module's docstring), which every env instance carries as ``__doc__``.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from rlvr.family import SINGLE_TURN_ENTRY_POINT, EnvDecl, Family

VECTOR_ENTRY_POINT = "rlvr.envs.vector:TaskVectorEnv"  # gym.make_vec of a single-turn env


@dataclass(frozen=True)
class EnvSpec:
    """One registered env: its id, a one-line description, and what makes and judges its tasks."""

    id: str
    description: str
    generator: str  # "module:Class"
    verifier: str  # "module:Class"
    visual: bool = False
    entry_point: str = SINGLE_TURN_ENTRY_POINT
    generator_options: tuple[str, ...] = ()  # constructor arguments of the generator (dataset=…)
    verifier_options: tuple[str, ...] = ()  # constructor arguments of the verifier (shortest=…)
    max_episode_steps: int | None = None
    extra: dict = field(default_factory=dict)
    family: Family | None = None  # the declaration (always set for registered envs)
    generator_kwargs: dict = field(default_factory=dict)  # fixed constructor arguments of this env's variant
    family_module: str = ""  # the module that declares the family (its docstring is the contract)

    @classmethod
    def of(cls, module: str, family: Family, decl: EnvDecl) -> EnvSpec:
        return cls(
            decl.id,
            decl.description,
            family.generator,
            family.verifier,
            decl.visual,
            decl.entry_point,
            tuple(family.generator_options),
            tuple(family.verifier_options),
            decl.max_episode_steps,
            dict(decl.env_kwargs),
            family,
            dict(decl.generator_kwargs),
            module,
        )


def family_declarations() -> tuple[tuple[str, Family], ...]:
    """(module name, ``FAMILY``) of every module in ``rlvr/families/`` (but ``_private`` ones, which
    hold what several families share), in module-name order."""
    import rlvr.families as package

    found = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):  # shared helpers of several family modules, not a family
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        declaration = getattr(module, "FAMILY", None)
        if not isinstance(declaration, Family):
            raise TypeError(f"{module.__name__} must end with FAMILY = Family(...)")
        found.append((module.__name__, declaration))
    return tuple(found)


def collect_specs() -> tuple[EnvSpec, ...]:
    """Every env of every declared family; an id declared twice is an error."""
    declared = tuple(
        EnvSpec.of(module, family, decl) for module, family in family_declarations() for decl in family.envs
    )
    ids = [spec.id for spec in declared]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"env ids declared twice: {duplicates}")
    return declared


ENV_SPECS: tuple[EnvSpec, ...] = collect_specs()


def load_object(path: str) -> Any:
    """The attribute named by ``"module:attribute"``, imported on first use."""
    module_name, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


NAMESPACE = "rlvr/"


def get_spec(env_id: str) -> EnvSpec:
    """The spec of ``env_id``, given with or without the ``rlvr/`` prefix (``"Maze-v0"``);
    a KeyError that suggests the closest ids otherwise."""
    if not isinstance(env_id, str):
        raise KeyError(f"an env id is a string such as 'rlvr/Maze-v0', got {type(env_id).__name__}")
    for spec in ENV_SPECS:
        if spec.id == env_id or spec.id == NAMESPACE + env_id:
            return spec
    known = [spec.id for spec in ENV_SPECS]

    def name(text: str) -> str:  # "rlvr/GraphColoring-v0" → "graphcoloring": compare names, not "-v0"
        return text.removeprefix(NAMESPACE).rpartition("-v")[0].lower() or text.lower()

    bare = {name(spec.id): spec.id for spec in ENV_SPECS}
    close = difflib.get_close_matches(name(env_id), list(bare), n=3, cutoff=0.75)
    if close:
        raise KeyError(f"unknown env {env_id!r}; did you mean {' or '.join(repr(bare[c]) for c in close)}?")
    raise KeyError(f"unknown env {env_id!r}; known: {', '.join(known)}")


def canonical_env_id(env_id: str) -> str:
    """``"Maze-v0"`` → ``"rlvr/Maze-v0"``; a KeyError for an unknown id (see ``get_spec``)."""
    return get_spec(env_id).id


def check_replayable(task_env_id: str, spec: EnvSpec, any_family: bool = False, option: str = "task") -> None:
    """Refuse, with a ValueError naming the env to replay it in, a task of ``task_env_id`` that
    ``spec``'s env cannot serve: one of another family unless ``any_family`` (a vector env
    scores each task with its own env's verifier; a single env's verifier cannot read another
    family's answer: red team s22 B-F2, a right answer scored 0 as "verifier error"), or one
    whose observation is of the other kind (a text task in an image env showed a blank image;
    an image task in a text env asked about a picture the policy never saw). Siblings of one
    family and one kind (Code and CodeFeedback, Countdown and Game24, SWE and SWEAgent) share
    tasks."""
    source = get_spec(task_env_id)
    if source.family.name != spec.family.name and not any_family:
        problem = "another family than"
    elif source.visual != spec.visual:
        problem = "an image task, unlike" if source.visual else "a text task, unlike"
    else:
        return
    raise ValueError(
        f"options[{option!r}] holds a task of {task_env_id}, {problem} this env's {spec.id}; "
        f"replay it in gym.make({source.id!r})"
    )


def family_doc(spec: EnvSpec) -> str:
    """The family's contract: the docstring of its family module."""
    return importlib.import_module(spec.family_module).__doc__ or spec.description


def split_options(spec: EnvSpec, options: dict) -> tuple[dict, dict, dict]:
    """Sort keyword arguments into (generator constructor, verifier constructor, task params);
    see ``Family.group_options`` (unknown and ambiguous names raise ValueError)."""
    grouped = spec.family.group_options(spec.id, options)
    return grouped.generator, grouped.verifier, grouped.params


def build_generator(spec: EnvSpec, **kwargs: Any):
    """A new generator of ``spec`` with constructor options ``kwargs`` (and the env's fixed
    variant arguments), bound to the env's id."""
    generator = load_object(spec.generator)(**spec.generator_kwargs, **kwargs)
    generator.env_id = spec.id
    return generator


def build_verifier(spec: EnvSpec, **kwargs: Any):
    """A new verifier of ``spec`` with constructor options ``kwargs``, which must be options the
    env declares (``spec.verifier_options``): any other name raises ValueError naming the env's
    options, not the constructor's TypeError."""
    unknown = sorted(set(kwargs) - set(spec.verifier_options))
    if unknown:
        known = ", ".join(spec.verifier_options) or "none"
        raise ValueError(f"{spec.id}'s verifier has no option {', '.join(map(repr, unknown))} (its options: {known})")
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
            vector_entry_point=VECTOR_ENTRY_POINT if spec.entry_point == SINGLE_TURN_ENTRY_POINT else None,
        )
