"""Core contracts shared by every family: Task, Verdict, generators, verifiers, difficulty,
seeding, answer extraction and serialisation.

Task        A frozen record of one problem: prompt, JSON-serialisable reference answer, the
            difficulty and seed that made it, the concrete parameters, optional images.
Verdict     A frozen record of one judgement: reward in [0, 1], correct, format_ok, a one-line
            reason, family-specific details.
Generator   ``generate(seed, difficulty, **overrides) -> Task`` is pure: it draws only from an
            RNG seeded by (family, seed, difficulty); ``solve(task) -> str`` returns a response
            that the family's verifier scores correct.
Verifier    ``verify(task, response) -> Verdict`` never raises and never overruns its deadline.
Difficulty  One float in [0, 1] mapped through the family's typed ``rlvr.params.DifficultyTable``;
            an explicit parameter always wins over the knob.
Answers     The last ``<answer>…</answer>`` block after removing ``<think>…</think>``; math also
            takes the last ``\\boxed{}``. Several different answers count as a hedge: not correct.
"""

from __future__ import annotations

import _random
import abc
import base64
import dataclasses
import functools
import hashlib
import io
import itertools
import json
import random
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from PIL import Image

from rlvr.params import canonical_difficulty

# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """One generated (or dataset) problem; same inputs give the same id and the same bytes."""

    id: str
    env_id: str
    family: str
    prompt: str
    answer: Any
    difficulty: float
    seed: int
    params: dict = field(default_factory=dict)
    images: tuple = ()
    meta: dict = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash(self.id)

    def to_dict(self, image_encoding: str = "base64") -> dict:
        """A JSON-ready dict; images become PNG bytes (``"bytes"``) or base64 text (default)."""
        pngs = [image_to_png(im) for im in self.images]
        if image_encoding == "base64":
            pngs = [base64.b64encode(png).decode("ascii") for png in pngs]
        return {
            "id": self.id,
            "env_id": self.env_id,
            "family": self.family,
            "prompt": self.prompt,
            "answer": self.answer,
            "difficulty": self.difficulty,
            "seed": self.seed,
            "params": self.params,
            "images": pngs,
            "meta": self.meta,
        }

    @classmethod
    def from_dict(cls, row: dict) -> Task:
        """The Task of a ``to_dict`` row (images as base64 text or PNG bytes); a ValueError for
        a seed outside ``SEED_RANGE``."""
        images = []
        for item in row.get("images") or ():
            png = base64.b64decode(item) if isinstance(item, str) else bytes(item)
            images.append(png_to_image(png))
        return cls(
            id=row["id"],
            env_id=row["env_id"],
            family=row["family"],
            prompt=row["prompt"],
            answer=row["answer"],
            difficulty=float(row["difficulty"]),
            seed=check_seed(int(row["seed"])),
            params=dict(row.get("params") or {}),
            images=tuple(images),
            meta=dict(row.get("meta") or {}),
        )

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, no whitespace variance): the task's byte identity. (A
        task holding a value inside itself raises RecursionError: task data are trees.)"""
        return canonical_json(self.to_dict())


# Task.to_json's encoder, built once (json.dumps with these options builds one per call) and
# without the circular-reference check, whose set of the containers being written costs a fifth
# to a quarter of a task's encoding (SAT 43 → 35 µs, Knapsack 12.3 → 11.2): the same text for
# any value without cycles, and no task has one
_TASK_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), check_circular=False)
# the JSON text of a Parquet or HF dataset row's answer, params and meta columns: json.dumps'
# spacing, sorted keys, UTF-8 kept; built once, as Task.to_json's
_COLUMN_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False, check_circular=False)


def canonical_json(value: Any) -> str:
    """``value`` as ``Task.to_json`` writes a task: sorted keys, no spaces, UTF-8 kept."""
    return _TASK_JSON.encode(value)


def column_json(value: Any) -> str:
    """``value`` as a JSON column of a Parquet or HF dataset row: ``json.dumps(value,
    sort_keys=True, ensure_ascii=False)``'s text."""
    return _COLUMN_JSON.encode(value)


# the seeds a task may carry: Parquet, HF datasets and verl files keep them in 64-bit integer columns
SEED_RANGE = (-(1 << 63), (1 << 63) - 1)


def check_seed(seed: int, count: int = 1) -> int:
    """``seed`` when it and the ``count - 1`` positions after it lie in ``SEED_RANGE``; else a
    ValueError naming the range (red team s21 B6: a seed past it wrote JSON lines that no other
    format could hold)."""
    low, high = SEED_RANGE
    if not (low <= seed and seed + max(count, 1) - 1 <= high):
        last = "" if count <= 1 else f" (and the {count - 1} positions after it)"
        raise ValueError(
            f"seed {seed}{last} is outside the 64-bit range [-2^63, 2^63 - 1] that task files hold, "
            "give a seed within it"
        )
    return seed


REASON_MAX_CHARS = 300
DETAIL_MAX_CHARS = 4_000
DETAIL_MAX_ITEMS = 2_000
DETAIL_MAX_DEPTH = 8


def clean_text(text: str, max_chars: int | None = None) -> str:
    """``text`` as valid Unicode that encodes to UTF-8 (lone surrogates, which candidate output
    and JSON escapes can carry, become U+FFFD), cut to ``max_chars`` with an ellipsis."""
    if max_chars is not None and len(text) > max_chars:
        text = text[: max_chars - 1] + "…"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        if max_chars is not None and len(text) > max_chars:  # one surrogate became up to three U+FFFD
            text = text[: max_chars - 1] + "…"
    return text


def clean_details(value: Any, depth: int = 0) -> Any:
    """A verdict's details made safe to log and serialise: strings cleaned and cut at
    ``DETAIL_MAX_CHARS``, containers cut at ``DETAIL_MAX_ITEMS`` entries and ``DETAIL_MAX_DEPTH``
    levels (their types kept); numbers, booleans and None pass through; anything else becomes
    its cut ``repr``. O(size of what is kept)."""
    if isinstance(value, str):
        return clean_text(value, DETAIL_MAX_CHARS)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if depth >= DETAIL_MAX_DEPTH:
        return f"{type(value).__name__} (nested too deep)"
    if isinstance(value, dict):
        items = itertools.islice(value.items(), DETAIL_MAX_ITEMS)
        return {clean_details(k, depth + 1): clean_details(v, depth + 1) for k, v in items}
    if isinstance(value, (list, tuple)):
        kept = [clean_details(v, depth + 1) for v in value[:DETAIL_MAX_ITEMS]]
        return tuple(kept) if isinstance(value, tuple) else kept
    return clean_text(repr(value), DETAIL_MAX_CHARS)


@dataclass(frozen=True)
class Verdict:
    """The outcome of verifying one response.

    Whatever a verifier puts in it, a Verdict is safe to log, tokenise and serialise: ``reason``
    is one line of at most ``REASON_MAX_CHARS`` characters and ``details`` is bounded
    (``clean_details``), both valid UTF-8 even when they quote hostile candidate output.
    """

    reward: float
    correct: bool
    format_ok: bool
    reason: str
    details: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", clean_text(str(self.reason), REASON_MAX_CHARS))
        object.__setattr__(self, "details", clean_details(dict(self.details)))

    @classmethod
    def fail(cls, reason: str, *, format_ok: bool = False, **details: Any) -> Verdict:
        """Reward 0, not correct, with ``reason`` and ``details``."""
        return cls(0.0, False, format_ok, reason, details)

    @classmethod
    def success(cls, reason: str = "correct", **details: Any) -> Verdict:
        """Reward 1, correct, well formatted."""
        return cls(1.0, True, True, reason, details)

    @property
    def not_judged(self) -> bool:
        """True when the verifier never looked at the response (``details["not_judged"]``: the
        Math verifier got no worker before its deadline): its 0 says nothing about the answer,
        so trainers leave the sample out rather than learn from it. A verdict that ``timed_out``
        is judged: a slow answer can cause that itself and keeps its 0."""
        return self.details.get("not_judged") is True and not self.details.get("timed_out") and self.reward == 0

    def to_dict(self) -> dict:
        """reward, correct, format_ok, reason and details as a plain dict."""
        return dataclasses.asdict(self)


# --------------------------------------------------------------------------------------------
# Seeding and ids
# --------------------------------------------------------------------------------------------


HINT_HEADER = "Hint (the first part of a solution; the rest is up to you):"


def hint_pieces_shown(level: float, pieces: int) -> int:
    """How many of ``pieces`` hint pieces a hint of ``level`` shows: round(level × pieces), at
    least one when ``level`` > 0, none at 0."""
    return 0 if level == 0 else max(1, int(np.floor(level * pieces + 0.5)))


def flag_option(name: str, value: Any) -> bool:
    """A verifier's on/off option: True or False (numpy's booleans too); a ValueError naming
    ``name`` otherwise. ``bool(value)`` read the text "False", NaN or ``[False]`` as on, so an
    option from a file or a config could switch on partial credit unasked (red team s14 R2-2)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValueError(f"{name} must be true or false, got {value!r}")


def check_hint(level: Any) -> float:
    """A hint level: a number in [0, 1] (0 none, 1 nearly the whole reference), rounded to 4
    decimals; a ValueError naming ``hint`` otherwise."""
    try:
        return canonical_difficulty(level)
    except ValueError:
        raise ValueError(
            f"hint must be a number in [0, 1] (0 = none, 1 = nearly the whole reference), got {level!r}"
        ) from None


def revealed_count(total: int, share: float = 0.8, withheld: int = 1) -> int:
    """How many of a reference's ``total`` entries a full hint shows: ⌊share × total⌋, and
    never more than ``total − withheld`` (so the hint is never the whole answer)."""
    return max(0, min(total - withheld, int(share * total)))


def reveal_in_pieces(facts: list[str], label: str, total: int | None = None, pieces: int = 6) -> list[str]:
    """``facts`` (one entry of a reference each, in reveal order) as at most ``pieces`` hint
    pieces of consecutive entries: ``"{label} (1–3 of {total}): a, b, c"``; ``total`` (default
    ``len(facts)``) is how many entries the whole reference has."""
    total = len(facts) if total is None else total
    size = max(1, -(-len(facts) // pieces))
    out = []
    for start in range(0, len(facts), size):
        end = min(start + size, len(facts))
        span = f"{start + 1}–{end}" if end > start + 1 else f"{end}"
        out.append(f"{label} ({span} of {total}): " + ", ".join(facts[start:end]))
    return out


def seed_material(family: str, seed: int, difficulty: float, extra: str = "") -> int:
    """A 64-bit integer from (family, seed, difficulty): independent streams per task, so seed
    s+1 is never seed s shifted; stable across processes and PYTHONHASHSEED values."""
    return material_of(int(seed), *seed_text_around(family, difficulty, extra))


def seed_text_around(family: str, difficulty: float, extra: str = "") -> tuple[str, str]:
    """The text ``seed_material`` hashes, before and after the seed (``rlvr|family|`` and
    ``|0.5000|extra``): the same for every seed of a setting, so a generator works it out once."""
    return f"rlvr|{family}|", f"|{canonical_difficulty(difficulty):.4f}|{extra}"


def material_of(seed: int, head: str, tail: str) -> int:
    """``seed_material`` of an int seed from its ``seed_text_around`` pieces."""
    return int.from_bytes(hashlib.sha256(f"{head}{seed}{tail}".encode()).digest()[:8], "big")


def seeded_random(material: int) -> random.Random:
    """``random.Random(material)`` for an int ``material`` (the same state, so the same draws),
    seeded once in C: the constructor also runs the Python-level ``__init__`` and ``seed``
    dispatch, which hand an int straight to ``_random.Random.seed`` (about a fifth of the
    seeding's cost, paid on every task)."""
    rng = _new_random(random.Random)
    _seed_random(rng, material)
    rng.gauss_next = None
    return rng


_new_random = random.Random.__new__  # an unseeded generator; seeded_random seeds it
_seed_random = _random.Random.seed
_new_object = object.__new__  # a Task assembled field by field in TaskGenerator.task_maker


def task_rngs(family: str, seed: int, difficulty: float, extra: str = "") -> tuple[random.Random, np.random.Generator]:
    """The task's own ``random.Random`` and ``numpy.random.Generator`` (never the global RNG)."""
    material = seed_material(family, seed, difficulty, extra)
    return random.Random(material), np.random.default_rng(material)


class DeferredNumpyRng:
    """The task's ``numpy.random.Generator`` (``default_rng`` of the same seed material as
    ``task_rngs``), made on first use: seeding one costs about as much as a small task, and most
    families draw only from ``random.Random``. Every attribute is the real generator's, so the
    draws are those of ``task_rngs``'s generator."""

    __slots__ = ("_generator", "_material")

    def __init__(self, material: int):
        self._material = material
        self._generator: np.random.Generator | None = None

    @property
    def generator(self) -> np.random.Generator:
        if self._generator is None:
            self._generator = np.random.default_rng(self._material)
        return self._generator

    def __getattr__(self, name: str) -> Any:
        return getattr(self.generator, name)


class DeferredRandom:
    """The task's ``random.Random`` (``seeded_random`` of the seed material), made on first use,
    for a family whose generator sets ``eager_random = False``: seeding one costs about as much
    as a small task's own work. ``material`` is the 64-bit seed material itself, for a family
    that derives its draws from it directly (``rlvr.generators.optimisation.MaterialDraws``).
    Every other attribute is the real generator's, so its draws are those of ``task_rngs``'s."""

    __slots__ = ("_generator", "material")

    def __init__(self, material: int):
        self.material = material
        self._generator: random.Random | None = None

    @property
    def generator(self) -> random.Random:
        if self._generator is None:
            self._generator = seeded_random(self.material)
        return self._generator

    def __getattr__(self, name: str) -> Any:
        return getattr(self.generator, name)


def format_difficulty(difficulty: float) -> str:
    """``0.4`` → ``"0.40"``; four decimals only when two would lose precision."""
    d = canonical_difficulty(difficulty)
    return f"{d:.2f}" if round(d, 2) == d else f"{d:.4f}"


def overrides_digest(overrides: dict) -> str:
    """A short stable hash of explicit parameter overrides (part of the task id and RNG seed)."""
    return hashlib.sha256(json.dumps(overrides, sort_keys=True, default=str).encode()).hexdigest()[:10]


@functools.lru_cache(maxsize=256)
def env_slug(env_id: str) -> str:
    """``rlvr/MazeImage-v0`` → ``mazeimage/v0``: the id prefix of the env's tasks."""
    name, _, version = env_id.split("/")[-1].rpartition("-")
    return f"{name.lower()}/{version}"


def make_task_id(
    prefix: str, seed: int, difficulty: float, overrides: dict | None = None, digest: str | None = None
) -> str:
    """``maze/v0/d0.40/s17``; explicit parameter overrides add a short digest of them (``digest``:
    their ``overrides_digest``, when the caller has it already)."""
    head, tail = task_id_around(prefix, difficulty, overrides, digest)
    return f"{head}{int(seed)}{tail}"


def task_id_around(
    prefix: str, difficulty: float, overrides: dict | None = None, digest: str | None = None
) -> tuple[str, str]:
    """``make_task_id``'s text before and after the seed (``maze/v0/d0.40/s`` and ``/p<digest>``
    or ``""``): the same for every seed of a setting, so a generator works it out once."""
    tail = f"/p{digest or overrides_digest(overrides)}" if overrides else ""
    return f"{prefix}/d{format_difficulty(difficulty)}/s", tail


# --------------------------------------------------------------------------------------------
# Protocols and base classes
# --------------------------------------------------------------------------------------------


@runtime_checkable
class Generator(Protocol):
    family: str

    def generate(self, seed: int, difficulty: float = 0.5, **overrides: Any) -> Task: ...

    def solve(self, task: Task) -> str: ...

    def wrong_response(self, task: Task) -> str: ...


@runtime_checkable
class Verifier(Protocol):
    deadline_s: float

    def verify(self, task: Task, response: str) -> Verdict: ...


class _Declared:
    """A generator attribute read from its family's declaration, on the class and on instances."""

    def __init__(self, attribute: str):
        self.attribute = attribute

    def __get__(self, instance: Any, owner: type) -> Any:
        return getattr(owner.declaration, self.attribute)


class _EnvId:
    """A generator's env id: the one the registry injected, else the env its constructor options
    select (``Family.env_of``); on the class, the family's first env."""

    def __get__(self, instance: Any, owner: type) -> str:
        if instance is None:
            return owner.declaration.envs[0].id
        return instance.__dict__.get("env_id") or owner.declaration.env_of(instance).id

    def __set__(self, instance: Any, value: str) -> None:
        instance.__dict__["env_id"] = value


def setting_key(value: Any) -> tuple:
    """``value`` as a hashable key: its type with itself, or with its items' keys for a list,
    tuple, set or dict (so 1, 1.0 and True differ at any depth); TypeError for what stays
    unhashable."""
    if type(value) in PLAIN_SETTINGS:
        return (type(value), value)
    if isinstance(value, (list, tuple)):
        return (type(value), tuple(setting_key(item) for item in value))
    if isinstance(value, (set, frozenset)):
        return (type(value), frozenset(setting_key(item) for item in value))
    if isinstance(value, dict):
        return (dict, tuple(sorted((repr(k), setting_key(k), setting_key(v)) for k, v in value.items())))
    return (type(value), value)


PLAIN_SETTINGS = frozenset({str, int, float, bool, type(None)})  # their own keys, with their type


class TaskGenerator(abc.ABC):
    """Base for seeded generators: resolves difficulty, builds the task's own RNGs and id.

    A family's generator sets ``declaration`` to its ``rlvr.families`` declaration (which gives
    ``family``, the RNG's name, and ``table``, the typed parameters) and implements
    ``build(rng, nprng, params) -> dict`` returning ``prompt``, ``answer`` and optionally
    ``meta`` and ``images``; ``solve(task)``; and ``wrong_response(task)``. ``env_id`` is
    injected by the registry for the env being made; a generator constructed directly serves
    the env its constructor options select (``Family.env_of``). Envs that share a family
    (Maze and MazeImage) share seeds' content but not task ids.
    """

    declaration: Any = None
    family = _Declared("name")  # on the class and its instances: the declaration's
    table = _Declared("table")
    env_id = _EnvId()
    dataset: Path | None = None  # dataset mode (``use_dataset``): the file or folder served
    dataset_rows: tuple = ()
    eager_random = True  # False: ``build`` gets a ``DeferredRandom`` (seeded on first use) as ``rng``

    def use_dataset(self, path: str | Path, rows: Iterable[Any]) -> None:
        """Serve ``rows`` — what the family read from the dataset at ``path`` — instead of
        synthetic tasks: seed s is row s mod len(rows), made by ``dataset_task(row)``; its id is
        ``<env slug>/dataset/<file stem>/<row index>`` and its meta records the file and row.
        Dataset tasks take no parameters; the difficulty is recorded, not used."""
        self.dataset = Path(path).resolve()
        self.dataset_rows = tuple(rows)
        self.__dict__.pop("_task_makers", None)  # made for the synthetic tasks
        if not self.dataset_rows:
            raise ValueError(f"dataset {path} has no usable rows")

    def dataset_task(self, row: Any) -> dict:
        """A dataset row as ``prompt``, ``answer`` and optional ``meta`` and ``images`` (the
        families with a dataset mode implement it)."""
        raise NotImplementedError(f"{type(self).__name__} has no dataset mode")

    def generate(self, seed: int, difficulty: float = 0.5, **overrides: Any) -> Task:
        return self.task_maker(difficulty, overrides)(seed)

    def hints(self, task: Task) -> list[str]:
        """Guidance for ``task`` in the order it is revealed, each a short text: the first pieces a
        nudge, the last nearly the whole reference (never the complete answer in a form that
        could be pasted). ``with_hint`` shows a share of them; every family implements this."""
        return []

    def with_hint(self, task: Task, level: float) -> Task:
        """``task`` with the first ``round(level × pieces)`` hint pieces (at least one when
        ``level`` > 0) appended to its prompt under ``HINT_HEADER``, ``/h<level>`` added to its id
        and ``meta["hint"]`` = {"level", "shown", "of"}; the task itself for level 0, so a hint
        of 0 is byte-identical to no hint. The answer never changes."""
        level = check_hint(level)
        if level == 0:
            return task
        pieces = self.hints(task)
        if not pieces:
            raise ValueError(f"{task.env_id} has no hints for task {task.id}")
        shown = hint_pieces_shown(level, len(pieces))
        return dataclasses.replace(
            task,
            id=f"{task.id}/h{format_difficulty(level)}",
            prompt=f"{task.prompt}\n\n{HINT_HEADER}\n" + "\n".join(pieces[:shown]),
            meta={**task.meta, "hint": {"level": level, "shown": shown, "of": len(pieces)}},
        )

    def resolve(self, difficulty: float, overrides: dict) -> dict:
        """The task parameters at ``difficulty`` with the (checked) ``overrides``: the table's,
        unless a generator variant pins some (Countdown's 24-game preset). A function of its
        arguments and the constructor options only (``generate`` caches it per difficulty and overrides)."""
        return self.table.resolve(difficulty, overrides)

    SETTINGS_CACHED = 1024

    def task_maker(self, difficulty: float, overrides: dict) -> Callable[[int], Task]:
        """seed → the task of this class's ``generate(seed, difficulty, **overrides)`` (before
        any subclass's change to its id), with what depends only on the setting (the canonical
        difficulty, the checked and resolved parameters, the text around the seed that the RNG
        material and the id are made of) worked out once: kept per (env id, difficulty,
        overrides) when every override value is hashable once lists, tuples, sets and dicts are
        read as their items (keyed by name, type and value), else made anew. Errors in the
        setting (a difficulty out of range, an unknown parameter) raise here, every time."""
        env_id = self.env_id
        if not isinstance(difficulty, float):  # True and 1 are one key below: refuse what is no number first
            canonical_difficulty(difficulty)
        cache = self.__dict__.setdefault("_task_makers", {})
        try:  # overrides in another order make another key, for the same maker
            key = (
                (env_id, difficulty, *[(name, setting_key(value)) for name, value in overrides.items()])
                if overrides
                else (env_id, difficulty)
            )
            maker = cache.get(key)
        except TypeError:  # an override that stays unhashable
            key = maker = None
        if maker is None:
            maker = self._new_task_maker(canonical_difficulty(difficulty), overrides, env_id)
            if key is not None:
                if len(cache) >= self.SETTINGS_CACHED:
                    cache.clear()
                cache[key] = maker
        return maker

    def _new_task_maker(self, difficulty: float, overrides: dict, env_id: str) -> Callable[[int], Task]:
        if self.dataset is not None:
            return functools.partial(self._dataset_task, difficulty=difficulty, overrides=overrides)
        checked = self.table.check(overrides) if overrides else {}
        digest = overrides_digest(checked) if checked else ""
        resolved = self.resolve(difficulty, checked)
        seed_head, seed_tail = seed_text_around(self.family, difficulty, digest)
        hashed_head = hashlib.sha256(seed_head.encode())
        id_head, id_tail = task_id_around(env_slug(env_id), difficulty, checked, digest)
        family = self.family
        new_random = seeded_random if self.eager_random else DeferredRandom

        def task_of(seed: int) -> Task:
            seed = int(seed)
            hashed = hashed_head.copy()  # material_of(seed, seed_head, seed_tail), the head hashed once
            hashed.update(f"{seed}{seed_tail}".encode())
            material = int.from_bytes(hashed.digest()[:8], "big")
            params = dict(resolved)
            parts = self.build(new_random(material), DeferredNumpyRng(material), params)
            task = _new_object(Task)  # Task(**fields) without the frozen dataclass's setattr per field
            task.__dict__.update(
                id=f"{id_head}{seed}{id_tail}",
                env_id=env_id,
                family=family,
                prompt=parts["prompt"],
                answer=parts["answer"],
                difficulty=difficulty,
                seed=seed,
                params=params,
                images=tuple(parts.get("images", ())),
                meta=dict(parts.get("meta", {})),
            )
            return task

        return task_of

    def _dataset_task(self, seed: int, difficulty: float, overrides: dict) -> Task:
        if overrides:
            raise ValueError(f"dataset tasks take no parameters, got {sorted(overrides)}")
        index = int(seed) % len(self.dataset_rows)
        parts = self.dataset_task(self.dataset_rows[index])
        stem = self.dataset.name.split(".")[0]
        return Task(
            id=f"{env_slug(self.env_id)}/dataset/{stem}/{index}",
            env_id=self.env_id,
            family=self.family,
            prompt=parts["prompt"],
            answer=parts["answer"],
            difficulty=difficulty,
            seed=int(seed),
            params={},
            images=tuple(parts.get("images", ())),
            meta={"dataset": str(self.dataset), "row": index, **parts.get("meta", {})},
        )

    @abc.abstractmethod
    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        """The family's synthesis step: prompt, answer, optional meta and images."""

    @abc.abstractmethod
    def solve(self, task: Task) -> str:
        """A complete response that the family's verifier scores correct."""

    @abc.abstractmethod
    def wrong_response(self, task: Task) -> str:
        """A plausible, well-formed response that the verifier scores not correct."""

    def attacks(self, task: Task) -> list[tuple[str, Any]]:
        """Hostile responses a reward-hacking policy would try on ``task``, as (name, response)
        pairs; none of them solves the task, so each must score 0 (rlvr.attacks runs them with
        the shared generic attacks in ``rlvr audit``). Families override this with their own."""
        return []

    def split_group(self, task: Task) -> Any:
        """What decides ``task``'s side of the train/held-out split (``rlvr.api`` module
        docstring, Splits): a JSON-able value shared by every task that would teach another's
        answer — the same problem in another presentation (numbers listed in another order,
        steps shuffled otherwise, other example rows, a picture of the same network) or a
        problem drawn from the same source (another window of one document). Tasks of one
        group always land on one side. None (the default): the task's content (prompt and
        pixels) is its group. By default a dataset task's group is its row (the file's name and
        the row number: every difficulty's and variant's rendering of a row on one side), any
        other task's None. Families whose generators re-present one problem override this."""
        if "dataset" in task.meta and "row" in task.meta:
            return {"dataset": Path(str(task.meta["dataset"])).name, "row": task.meta["row"]}
        return None

    def split_exposures(self, task: Task) -> list:
        """Other problems ``task`` shows whole, with their answers, as the groups
        ``split_group`` would give tasks that pose them (ArcGrid's demonstration pairs): the
        train stream keeps ``task`` only when every one of them is on the train side, so no
        train prompt holds a held-out problem and its answer (``rlvr.api`` module docstring,
        Splits). The default: none."""
        return []

    def problem_key(self, task: Task) -> Any:
        """The problem ``task`` poses, for uniqueness (``rlvr.api`` module docstring,
        Uniqueness): a JSON-able value equal for two tasks that pose one problem in other words
        or pictures (numbers listed in another order, the same design with other example rows,
        a dataset row rendered at another difficulty), so a generated set keeps one of them.
        None: the task's content (prompt and pixels) is its problem. The default is
        ``split_group(task)``, which names one problem in every family whose group is not a
        source several problems are drawn from; a family whose group is such a source (a
        document, an answer shared by many questions) overrides this with something finer."""
        return self.split_group(task)


class SafeVerifier(abc.ABC):
    """Base for verifiers: non-string input and any exception become a zero Verdict.

    Subclasses implement ``check(task, response) -> Verdict`` and set ``deadline_s``; work that
    could run long (parsing arbitrary maths, running code) must itself be bounded by it.

    ``canonical_answer(task, response) -> str | None`` is the key label-free training compares
    (the trainer's ``reward: majority``: responses of a group with equal keys agree). It never
    raises, is linear in the response, and must not look at the gold answer. The default is the
    last ``<answer>`` block with its whitespace collapsed (None without one, or for an empty or
    over-long response); a family whose answers have many spellings of one value overrides it
    (math: the exact value, so ``1/2`` and ``0.5`` agree).
    """

    deadline_s: float = 5.0
    max_response_chars: int = 20_000_000

    def verify(self, task: Task, response: Any) -> Verdict:
        if not isinstance(response, str):
            return Verdict.fail(f"response is not text (got {type(response).__name__})")
        if len(response) > self.max_response_chars:
            return Verdict.fail(f"response too long ({len(response)} characters)")
        try:
            return self.check(task, response)
        except Exception as error:  # the contract: a Verdict always comes back
            return Verdict.fail(f"verifier error: {type(error).__name__}: {str(error)[:200]}", error=repr(error)[:500])

    @abc.abstractmethod
    def check(self, task: Task, response: str) -> Verdict:
        """Judge a text response; may raise on malformed input (``verify`` turns it into 0)."""

    def canonical_answer(self, task: Task, response: Any) -> str | None:
        """The response's answer as a comparable key: the ``<answer>`` block, whitespace collapsed."""
        return answer_block_key(response, self.max_response_chars)


# --------------------------------------------------------------------------------------------
# Answer extraction
# --------------------------------------------------------------------------------------------

# Logical connectives join alternatives (or conditions), never form one value: "19 \vee 18".
_CONNECTIVE = r"\\(?:lor|vee|bigvee|land|wedge|bigwedge|oplus|veebar|implies|iff|Rightarrow|Leftrightarrow)(?![A-Za-z])"
_HEDGE = re.compile(rf"(?:\bor\b|{_CONNECTIVE}|\beither\b|\bmaybe\b|\bperhaps\b|\bpossibly\b|\?\s*$)", re.IGNORECASE)


def strip_think(text: str) -> str:
    """Text after the reasoning: after the last ``</think>``; nothing if a ``<think>`` never closes.
    Linear in the text, whatever the tag count. The tags are matched case-insensitively on the
    text itself (never on ``text.lower()``, whose offsets differ when lower-casing changes a
    character's length, as for 'İ')."""
    close = _LAST_THINK_CLOSE.search(text)
    if close is not None:
        return text[close.end() :]
    if _THINK_OPEN.search(text):
        return ""
    return text


_LAST_THINK_CLOSE = re.compile(
    r"\A(?s:.*)</think>", re.IGNORECASE
)  # anchored and greedy: the last closing tag, in linear time
_THINK_OPEN = re.compile(r"<think>", re.IGNORECASE)


def extract_answer(text: str) -> str | None:
    """The content of the last ``<answer>…</answer>`` block outside the reasoning, stripped. The
    tags are found case-insensitively on the text itself, never on ``text.lower()`` (whose
    offsets shift when lower-casing lengthens a character, as 'İ' does), in linear time."""
    visible = strip_think(text)
    close = _LAST_ANSWER_CLOSE.search(visible)
    if close is None:
        return None
    end = close.end() - len("</answer>")
    opening = _LAST_ANSWER_OPEN.search(visible, 0, end)
    if opening is None:
        return None
    return visible[opening.end() : end].strip()


_LAST_ANSWER_CLOSE = re.compile(r"\A(?s:.*)</answer>", re.IGNORECASE)  # anchored and greedy: the last closing tag
_LAST_ANSWER_OPEN = re.compile(r"\A(?s:.*)<answer>", re.IGNORECASE)


def answer_block_key(response: Any, max_chars: int = 20_000_000) -> str | None:
    """The default ``canonical_answer`` of a response: its last ``<answer>`` block (``extract_answer``)
    with whitespace collapsed; None without one, for an empty block, for non-text or for text
    longer than ``max_chars``."""
    if not isinstance(response, str) or len(response) > max_chars:
        return None
    return " ".join((extract_answer(response) or "").split()) or None


def block_key(
    response: Any,
    extract: Callable[[str], str | None],
    max_chars: int = 20_000_000,
    normal: Callable[[str], str] | None = None,
) -> str | None:
    """A ``canonical_answer`` over the block a verifier reads instead of an ``<answer>`` block
    (``extract(response)``: a program, a design, a diff): the SHA-256 hex digest of
    ``normal(block)`` where given (a form that ignores comments and layout, such as a syntax
    tree's dump, several times the block's size; it may raise, then the text serves), else of
    the block's lines with trailing whitespace dropped and blank lines at either end removed; None where
    ``extract`` finds nothing or raises, for non-text and for text longer than ``max_chars``.
    Keyed by ``<answer>``, such a verifier's right answers had no vote while a wrong one with
    ``<answer>ok</answer>`` appended had (red team s13 F1)."""
    if not isinstance(response, str) or len(response) > max_chars:
        return None
    try:
        block = extract(response)
    except Exception:
        return None
    if not isinstance(block, str):
        return None
    text = None
    if normal is not None:
        try:
            text = normal(block)
        except Exception:
            pass
    if text is None:
        text = "\n".join(line.rstrip() for line in block.splitlines()).strip("\n")
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest() if text else None


def answer_value_key(response: Any, read: Callable[[str], Any], max_chars: int = 20_000_000) -> str | None:
    """A ``canonical_answer`` for a verifier that parses its ``<answer>`` block: the ``repr`` of
    ``read(block)``, the value it judges, so that spellings of one answer (spacing, the order of
    a mapping's entries) agree and split no vote (red team s13b G1); None where there is no
    block, ``read`` gives None or raises, for non-text and for text longer than ``max_chars``."""
    if not isinstance(response, str) or len(response) > max_chars:
        return None
    block = extract_answer(response)
    if block is None:
        return None
    try:
        value = read(block)
    except Exception:
        return None
    return None if value is None else repr(value)


def extract_boxed(text: str) -> list[str]:
    """Contents of every ``\\boxed{…}`` / ``\\fbox{…}`` with balanced braces, in order.

    One pass over the braces (escaped ``\\{`` and ``\\}`` skipped) matches every opening brace
    to its closing one, so many unclosed boxes cost linear, not quadratic, time.
    """
    openers = [m.end() - 1 for m in re.finditer(r"\\(?:boxed|fbox)\s*\{", text)]
    if not openers:
        return []
    closing: dict[int, int] = {}
    stack: list[int] = []
    for token in re.finditer(r"\\[{}]|[{}]", text[openers[0] :]):
        if len(token.group()) == 2:
            continue
        position = token.start() + openers[0]
        if token.group() == "{":
            stack.append(position)
        elif stack:
            closing[stack.pop()] = position
    return [text[start + 1 : closing[start]].strip() for start in openers if start in closing]


@dataclass(frozen=True)
class Extraction:
    value: str | None
    reason: str
    boxes: tuple[str, ...] = ()  # every box of the answer region, in order (when boxed)


MATH_MAX_BOXES = 16
MATH_MAX_BOX_CHARS = 4_000


def bounded_boxes(text: str, max_boxes: int, max_chars: int) -> list[str | None] | None:
    """Contents of every box in ``text``, or None when there are more than ``max_boxes``; a box
    whose closing brace is not within ``max_chars`` characters (too long or never closed) comes
    back as None. Work: a few C-level scans of ``text`` plus at most max_boxes × max_chars."""
    if text.count("\\boxed") + text.count("\\fbox") > max_boxes:
        return None
    contents: list[str | None] = []
    for opener in re.finditer(r"\\(?:boxed|fbox)\s*\{", text):
        start = opener.end()
        window = text[start : start + max_chars + 1]
        depth, end = 1, None
        for token in re.finditer(r"\\[{}]|[{}]", window):
            if len(token.group()) == 2:
                continue
            depth += 1 if token.group() == "{" else -1
            if depth == 0:
                end = token.start()
                break
        contents.append(None if end is None else window[:end].strip())
    return contents


def extract_math_answer(text: str) -> Extraction:
    """Last boxed answer (in the ``<answer>`` block if there is one, else anywhere after the
    reasoning), else the ``<answer>`` block itself. Two different boxes are a hedge, and so are
    more than ``MATH_MAX_BOXES`` boxes or a box not closed within ``MATH_MAX_BOX_CHARS``; the
    caller decides whether several boxes together form one answer (``Extraction.boxes``)."""
    visible = strip_think(text)
    block = extract_answer(visible)
    region = block if block is not None else visible
    boxes = bounded_boxes(region, MATH_MAX_BOXES, MATH_MAX_BOX_CHARS)
    if boxes is None:
        return Extraction(None, f"more than {MATH_MAX_BOXES} boxed answers")
    if any(b is None for b in boxes):
        return Extraction(None, f"a boxed answer not closed within {MATH_MAX_BOX_CHARS} characters")
    distinct = {re.sub(r"\s+", "", b) for b in boxes}
    if len(distinct) > 1:
        return Extraction(None, f"{len(distinct)} different boxed answers (a hedge)", tuple(boxes))
    if boxes:
        return Extraction(boxes[-1], "boxed", tuple(boxes))
    if block is not None:
        return Extraction(block, "answer block")
    return Extraction(None, "no <answer> block and no \\boxed{} answer")


_INEQUALITY = re.compile(r"<|>|\\(?:le|leq|ge|geq|lt|gt|leqslant|geqslant)(?![A-Za-z])")
_OR = re.compile(rf"\bor\b|{_CONNECTIVE}", re.IGNORECASE)


def looks_hedged(answer: str) -> bool:
    """True for answers that offer alternatives or doubt: "2 or 3", "maybe 4", "either…", or join
    values with a logical connective (``19 \\vee 18``, ``\\lor``, ``\\wedge``, ``\\land``,
    ``\\implies``…). An "or" (or a connective) joining inequalities is one answer, a union or an
    interval (``x \\le 2 \\text{ or } x \\ge 5``, ``x > 1 \\wedge x < 3``)."""
    if not _HEDGE.search(answer):
        return False
    pieces = _OR.split(answer)
    if len(pieces) > 1 and all(_INEQUALITY.search(piece) for piece in pieces):
        return bool(_HEDGE.search(_OR.sub(" ", answer)))
    return True


# --------------------------------------------------------------------------------------------
# Images and serialisation
# --------------------------------------------------------------------------------------------


def image_to_png(image: Image.Image) -> bytes:
    """The image as PNG bytes (deterministic settings, so equal images give equal bytes)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def png_to_image(png: bytes) -> Image.Image:
    """A fully loaded PIL image from PNG bytes."""
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


PARQUET_BATCH_ROWS = 256  # rows per Parquet row group: writers hold one batch, not the file
PROVENANCE_KEY = "rlvr"  # Parquet key-value metadata key of the provenance JSON


def task_schema(metadata: dict | None = None):
    """The Arrow schema of ``save_tasks``'s Parquet, with ``metadata`` as provenance."""
    import pyarrow as pa

    schema = pa.schema(
        [
            ("id", pa.string()),
            ("env_id", pa.string()),
            ("family", pa.string()),
            ("prompt", pa.string()),
            ("answer", pa.string()),
            ("difficulty", pa.float64()),
            ("seed", pa.int64()),
            ("params", pa.string()),
            ("images", pa.list_(pa.binary())),
            ("meta", pa.string()),
        ]
    )
    return (
        schema
        if metadata is None
        else schema.with_metadata({PROVENANCE_KEY: json.dumps(metadata, sort_keys=True, default=str)})
    )


def write_parquet_rows(rows: Iterable[dict], path: str | Path, schema) -> int:
    """Stream ``rows`` into a Parquet file ``PARQUET_BATCH_ROWS`` at a time (ParquetWriter), so
    memory does not grow with the row count; an empty input still writes the schema."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    count = 0
    with pq.ParquetWriter(str(path), schema) as writer:
        batch: list[dict] = []
        for row in rows:
            batch.append(row)
            if len(batch) == PARQUET_BATCH_ROWS:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                count += len(batch)
                batch = []
        if batch or not count:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            count += len(batch)
    return count


def parquet_provenance(path: str | Path) -> dict | None:
    """The provenance a writer stored in a Parquet file's key-value metadata, if any."""
    import pyarrow.parquet as pq

    stored = (pq.read_schema(str(path)).metadata or {}).get(PROVENANCE_KEY.encode())
    return None if stored is None else json.loads(stored)


def save_tasks(
    tasks: Iterable[Task], path: str | Path, file_format: str | None = None, metadata: dict | None = None
) -> int:
    """Write tasks as JSON lines (images base64 PNG), one line at a time, or Parquet (images PNG
    bytes) in row groups of ``PARQUET_BATCH_ROWS``; the format is ``file_format`` ("jsonl" or
    "parquet") or, when None, the path's suffix (``.parquet`` or not). ``metadata`` (provenance)
    goes into Parquet's key-value metadata under ``"rlvr"``; JSON lines have no place for it
    (``rlvr generate`` writes it to a ``<file>.provenance.json`` sidecar)."""
    path = Path(path)
    if file_format not in (None, "jsonl", "parquet"):
        raise ValueError(f"file_format must be jsonl or parquet, got {file_format!r}")
    if file_format == "parquet" or (file_format is None and path.suffix == ".parquet"):
        return write_parquet_rows((parquet_row(t) for t in tasks), path, task_schema(metadata))
    count = 0
    with open(path, "w", encoding="utf-8") as handle:
        for task in tasks:
            handle.write(task.to_json() + "\n")
            count += 1
    return count


def parquet_row(task: Task) -> dict:
    """A task as one row of the Parquet task table (``task_schema``): images as PNG bytes,
    ``answer``, ``params`` and ``meta`` as JSON text."""
    row = task.to_dict(image_encoding="bytes")
    for key in ("answer", "params", "meta"):
        row[key] = column_json(row[key])
    return row


def iter_tasks(path: str | Path) -> Iterator[Task]:
    """Read tasks written by ``save_tasks`` back, identical to what was written."""
    path = Path(path)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(str(path)).iter_batches(batch_size=PARQUET_BATCH_ROWS):
            for row in batch.to_pylist():
                for key in ("answer", "params", "meta"):
                    row[key] = json.loads(row[key])
                yield Task.from_dict(row)
        return
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    row = json.loads(line)
                    task = Task.from_dict(row)
                except (ValueError, TypeError, KeyError, AttributeError) as error:
                    what = (
                        f"missing field {error}" if isinstance(error, KeyError) else f"{type(error).__name__}: {error}"
                    )
                    raise ValueError(f"{path}:{number}: not a task row ({what})") from error
                yield task


def load_tasks(path: str | Path) -> list[Task]:
    """Every task of a file written by ``save_tasks`` (JSON lines or Parquet), in order; a
    malformed JSON line raises ValueError naming the file and line."""
    return list(iter_tasks(path))
