"""A family's one declaration: its envs, its task parameters, its option groups, where its code is.

Every family has a module in ``rlvr/families/`` whose docstring is the family's contract (task,
answer format, verifier, solver, the difficulty table rendered from the declaration, version
history) and which ends with one declaration::

    FAMILY = Family(
        name="maze",                                      # seeds every task's RNG
        generator="rlvr.generators.maze:MazeGenerator",   # imported on first use
        verifier="rlvr.verifiers.maze:MazeVerifier",
        table=DifficultyTable({"rows": Int(2, 250), ...}, {0.0: {...}, 1.0: {...}}),
        envs=(EnvDecl("rlvr/Maze-v0", "Find a path ..."),
              EnvDecl("rlvr/MazeImage-v0", "...", visual=True, generator_kwargs={"render": "image"})),
        verifier_options={"shortest": "...", "partial": "..."},
    )

The registry (``rlvr.envs.registry``) finds these modules, registers each ``EnvDecl`` with
Gymnasium, and injects the env id into the generator it builds; nothing else lists families, so
a new family touches only its own modules (family, generator, verifier) and its tests. Family
modules import nothing heavy, so ``import rlvr`` stays fast.

Options come in three named groups, each owned by one party: task parameters (``table``; they
win over the knob and enter the task id), generator options (constructor arguments of the
generator, e.g. ``dataset=``) and verifier options (of the verifier, e.g. ``partial=``).
``Family.group_options`` sorts a flat ``**options`` dict into the groups and refuses a name that
two groups declare; the grouped spellings ``params=``, ``generator_options=`` and
``verifier_options=`` are always unambiguous.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rlvr.params import DifficultyTable

SINGLE_TURN_ENTRY_POINT = "rlvr.envs.single_turn:SingleTurnEnv"
GROUP_NAMES = ("params", "generator_options", "verifier_options")


@dataclass(frozen=True)
class EnvDecl:
    """One env of a family.

    ``generator_kwargs`` are fixed constructor arguments that make this env's variant of the
    family's generator (MazeImage-v0: ``{"render": "image"}``); ``env_kwargs`` go to the entry
    point (CodeFeedback-v0: ``{"max_attempts": 3}``)."""

    id: str
    description: str
    visual: bool = False
    entry_point: str = SINGLE_TURN_ENTRY_POINT
    generator_kwargs: Mapping[str, Any] = field(default_factory=dict)
    env_kwargs: Mapping[str, Any] = field(default_factory=dict)
    max_episode_steps: int | None = None


@dataclass(frozen=True)
class GroupedOptions:
    """Options sorted into their owners: generator constructor, verifier constructor, task parameters."""

    generator: dict
    verifier: dict
    params: dict

    def for_tasks(self) -> dict:
        """The groups that make tasks, spelled grouped (``params=``, ``generator_options=``), so
        they pass through ``rlvr.make_task``/``rlvr.generate`` without meeting those functions'
        own argument names (``generate``'s ``backend`` is not Code-v0's sandbox ``backend``)."""
        return {"params": dict(self.params), "generator_options": dict(self.generator)}


@dataclass(frozen=True)
class Family:
    """A task family: what makes and judges its tasks, its envs, its parameters and options.

    ``generator_options`` and ``verifier_options`` map each constructor option's name to a
    one-line description (the constructors validate the values)."""

    name: str
    generator: str  # "module:Class"
    verifier: str  # "module:Class"
    table: DifficultyTable
    envs: tuple[EnvDecl, ...]
    generator_options: Mapping[str, str] = field(default_factory=dict)
    verifier_options: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.envs:
            raise ValueError(f"family {self.name!r} declares no env")
        groups = {
            "task parameter": set(self.table.keys),
            "generator option": set(self.generator_options),
            "verifier option": set(self.verifier_options),
        }
        reserved = {"difficulty", "seed", "split", "hint", *GROUP_NAMES}
        for group, names in groups.items():
            if names & reserved:
                raise ValueError(f"family {self.name!r}: {group} {sorted(names & reserved)} shadows a reserved name")

    def owners(self, name: str) -> list[str]:
        """The groups that declare ``name``: "params", "generator_options", "verifier_options"."""
        found = []
        if name in self.table.params:
            found.append("params")
        if name in self.generator_options:
            found.append("generator_options")
        if name in self.verifier_options:
            found.append("verifier_options")
        return found

    def group_options(self, env_id: str, options: Mapping[str, Any]) -> GroupedOptions:
        """Sort ``options`` into the three groups. Keys ``params``, ``generator_options`` and
        ``verifier_options`` hold dicts of their group; any other key must be declared by exactly
        one group. A ValueError names an unknown or ambiguous option and the fix."""
        grouped: dict[str, dict] = {group: {} for group in GROUP_NAMES}
        for group in GROUP_NAMES:
            given = options.get(group)
            if given is None:
                continue
            if not isinstance(given, Mapping):
                raise ValueError(f"{group} must be a dict of option names to values, got {type(given).__name__}")
            for name, value in given.items():
                if group not in self.owners(name):
                    raise ValueError(f"{env_id} has no {_GROUP_WORD[group]} {name!r}; {self.known_options()}")
                grouped[group][name] = value
        for name, value in options.items():
            if name in GROUP_NAMES:
                continue
            owners = self.owners(name)
            if not owners:
                raise ValueError(
                    f"unknown parameter {name!r}; known: {', '.join(self.table.keys) or '(none)'} "
                    f"(and for {env_id}: generator options: {', '.join(self.generator_options) or '(none)'}; "
                    f"verifier options: {', '.join(self.verifier_options) or '(none)'})"
                )
            if len(owners) > 1:
                raise ValueError(
                    f"option {name!r} of {env_id} is ambiguous ({' and '.join(_GROUP_WORD[o] for o in owners)}); "
                    f"pass it inside {' or '.join(f'{o}={{...}}' for o in owners)}"
                )
            grouped[owners[0]][name] = value
        return GroupedOptions(grouped["generator_options"], grouped["verifier_options"], grouped["params"])

    def known_options(self) -> str:
        """One line listing the option names of each group."""
        parts = [
            f"task parameters: {', '.join(self.table.keys) or '(none)'}",
            f"generator options: {', '.join(self.generator_options) or '(none)'}",
            f"verifier options: {', '.join(self.verifier_options) or '(none)'}",
        ]
        return "; ".join(parts)

    def env(self, env_id: str) -> EnvDecl:
        """The declaration of ``env_id`` (a KeyError when this family has no such env)."""
        for decl in self.envs:
            if decl.id == env_id:
                return decl
        raise KeyError(f"family {self.name!r} has no env {env_id!r}")

    def env_of(self, generator: Any) -> EnvDecl:
        """The env a directly constructed generator makes: the most specific declaration whose
        ``generator_kwargs`` the generator's attributes match (``MazeGenerator(render="image")``
        → MazeImage-v0)."""
        for decl in sorted(self.envs, key=lambda d: -len(d.generator_kwargs)):
            if all(getattr(generator, key, None) == value for key, value in decl.generator_kwargs.items()):
                return decl
        return self.envs[0]


_GROUP_WORD = {
    "params": "task parameter",
    "generator_options": "generator option",
    "verifier_options": "verifier option",
}
