"""The public functions: make, solve and verify tasks one at a time or in bulk.

``make_task(env_id, seed, difficulty, **options)``  the task of (env, seed, difficulty)
``solve(task)``                                     the reference response, scored correct
``verify(task, response)``                          a Verdict; never raises
``verify_batch(tasks, responses, workers, backend)`` Verdicts in order; backend ``serial``,
                                                    ``thread``, ``process`` or ``ray``
``generate(env_id, n, seed, difficulty, workers)``   n distinct tasks of the ``split`` stream from
                                                    position ``seed`` on; ``backend`` ``process``
                                                    (local processes) or ``ray``
``generate_mix(envs, n, seed)``                     n tasks of a mixture of envs and difficulties,
                                                    interleaved in an order fixed by ``seed``
``list_envs()``                                     (id, description, difficulty parameters)

Env ids may omit the ``rlvr/`` prefix (``"Maze-v0"``). Bad arguments raise at once, naming the
argument: an unknown env id (KeyError, with the closest ids), ``difficulty`` outside [0, 1] or
not a number, ``n`` negative or not a whole number, ``workers`` < 1, an unknown task parameter
(ValueError).

Generators and verifiers are cached per (env, constructor options) so a verifier with a warm
worker (math) is reused across calls in one process.

Splits      ``split`` names a task stream: ``"train"`` (the default of ``generate``,
            ``generate_mix`` and the training adapters), ``"test"`` (the default of ``rlvr eval``)
            or any other name; ``None`` (``make_task``'s default, and what a gym env's
            ``reset(seed=s)`` serves) is the raw seed stream. Streams are disjoint twice over:
            (1) the split enters the seed: position ``s`` of split ``x`` is generated from
            ``stream_seed(s, x, attempt)``, which is ``s`` itself only for train's first attempt;
            (2) problems are partitioned: a task belongs to the held-out side when a hash of its
            ``split_key`` falls below ``HELD_OUT_FRACTION``; train keeps the rest, every other
            split only the held-out side, and a position draws attempts 0, 1, … until one lands
            on its side (at most ``MAX_SPLIT_ATTEMPTS``). The split key is the task's group
            (``TaskGenerator.split_group``: the problem behind its presentation, or the source
            it was drawn from — Game24's multiset of numbers, StepOrder's document, a Verilog
            task's golden design) or, where the family names none, its content (``content_key``:
            prompt text and image pixels). So no test prompt is ever a train prompt, nor a test
            problem a train problem shown otherwise, whatever the seeds; two non-train splits
            (test, validation) are disjoint as streams but may share content. A task that shows
            other problems whole (ArcGrid's demonstrations: ``TaskGenerator.split_exposures``)
            is kept on the train side only when each of those is on it too, so no train prompt
            holds a held-out problem with its answer.
            Dataset-backed envs follow the same rule, their rows partitioned by file name and
            row (about 1 in 8 rows is held out); ``split=None`` serves every row. A split task's id
            ends in ``/<split>`` and its position's seed (``maze/v0/d0.40/s17/test``);
            ``task.seed`` is the seed that made it (``make_task(env, task.seed, d, **params)``
            rebuilds the same bytes).
Uniqueness  ``generate`` and ``generate_mix`` return no two tasks of one problem unless
            ``allow_duplicates=True``: a task whose ``problem_key`` an earlier task of its
            (env, difficulty) had is skipped and the stream moves on. The key is the family's
            ``TaskGenerator.problem_key`` (the same puzzle with its numbers in another order, one
            design with other example rows, one question told of a club or of a choir, a dataset
            row) or, where that is None, the task's content (prompt and pixels). When an
            (env, difficulty) runs out — ``max(MIN_PATIENCE, found)`` positions in a row bring
            nothing new — a ``FewerDistinctTasks`` error (a ValueError) names how many distinct
            tasks were found and in how many draws. ``estimate_distinct`` samples an estimate.

Workers     with ``workers`` > 1 each worker process makes a chunk of consecutive positions (their
            tasks and content keys, and with ``encode`` the caller's rows: ``rlvr generate``
            has its JSON lines / Parquet rows made there) and writes it, pickled with images'
            pixels out of band, into a shared-memory segment the caller lends it (``ChunkSegments``:
            reused chunk after chunk, or for tasks with images one per chunk whose pages the
            loaded images keep), or without one sends it back as one pickled
            payload; the caller's process only loads chunks (its objects moved straight to the
            collector's oldest generation), keeps order and checks uniqueness by the keys, so
            the tasks and their order are those of one process. Pool processes fork from a
            server that has ``rlvr.api``, the envs' generator modules and their default
            generators loaded (``start_worker_server``), and each keeps the memory it frees
            for the next task (``_keep_freed_memory``).

``backend="ray"`` runs the same work on a Ray cluster (``address``: None starts a local Ray,
``"auto"`` or ``"ray://host:10001"`` joins one; an already initialised Ray is used as it is), in
``workers`` concurrent remote calls; see ``rlvr.integrations.ray_backend``.
"""

from __future__ import annotations

import collections
import concurrent.futures as futures
import contextlib
import copyreg
import ctypes
import errno
import functools
import gc
import hashlib
import io
import itertools
import json
import marshal
import math
import mmap
import multiprocessing
import multiprocessing.forkserver
import numbers
import operator
import os
import pickle
import random
import re
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from rlvr.core import (
    PLAIN_SETTINGS,
    SEED_RANGE,
    Task,
    TaskGenerator,
    Verdict,
    _new_object,
    canonical_difficulty,
    check_hint,
    check_seed,
    setting_key,
)
from rlvr.envs.registry import ENV_SPECS, build_generator, build_verifier, canonical_env_id, get_spec, split_options
from rlvr.params import DifficultyTable, describe_value


def _freeze(options: dict) -> str:
    return json.dumps(options, sort_keys=True, default=json_value)


def json_value(value: Any) -> Any:
    """``json.dumps``'s ``default`` for option values: a numpy scalar as the Python value it
    holds (``np.False_`` → false, not the text "False", which an option's check then refuses),
    anything else JSON cannot hold (a path) as its text."""
    return value.item() if isinstance(value, np.generic) else str(value)


@functools.lru_cache(maxsize=64)
def _cached_generator(env_id: str, frozen_options: str):
    return build_generator(get_spec(env_id), **json.loads(frozen_options))


@functools.lru_cache(maxsize=64)
def _cached_verifier(env_id: str, frozen_options: str):
    return build_verifier(get_spec(env_id), **json.loads(frozen_options))


def make_generator(env_id: str, **generator_options: Any):
    """The env's generator with these constructor options (e.g. ``dataset=``), cached per process."""
    return _cached_generator(canonical_env_id(env_id), _freeze(generator_options))


def make_verifier(env_id: str, **verifier_options: Any):
    """The env's verifier with these constructor options (e.g. ``partial=True``), cached per process."""
    return _cached_verifier(canonical_env_id(env_id), _freeze(verifier_options))


HELD_OUT_FRACTION = 0.125  # of content space: test (and any non-train split) side
MAX_SPLIT_ATTEMPTS = 256  # 0.875**256 < 1e-14: a train position never runs out by chance
MIN_PATIENCE = 100
SPLIT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class FewerDistinctTasks(ValueError):
    """An (env, difficulty) has fewer distinct tasks than were asked for."""

    def __init__(self, env_id: str, difficulty: float, split: str | None, found: int, draws: int, wanted: int):
        where = f"the {split} split of " if split else ""
        super().__init__(
            f"{where}{env_id} at difficulty {difficulty:g} has only about {found} distinct tasks "
            f"({found} found in {draws} draws), fewer than the {wanted} asked for; ask for fewer, change "
            f"the difficulty or parameters, or allow duplicates"
        )
        self.env_id, self.difficulty, self.split, self.found, self.draws, self.wanted = (
            env_id,
            difficulty,
            split,
            found,
            draws,
            wanted,
        )


class SeedRangeEnded(FewerDistinctTasks):
    """A stream's positions reached the end of ``SEED_RANGE`` before the distinct tasks asked
    for (positions whose problem was seen are skipped, so a set may read past ``seed + n - 1``)."""

    def __init__(self, env_id: str, difficulty: float, split: str | None, found: int, draws: int, wanted: int):
        super().__init__(env_id, difficulty, split, found, draws, wanted)
        ValueError.__init__(
            self,
            f"{env_id} at difficulty {difficulty:g} reached the last seed ({SEED_RANGE[1]}) after {found} of the "
            f"{wanted} distinct tasks asked for; start from a lower seed, or allow duplicates",
        )


def check_split(split: Any) -> str | None:
    """``split``: None (the raw seed stream) or a name of letters, digits, ``_ . -``."""
    if split is None or (isinstance(split, str) and SPLIT_NAME.fullmatch(split)):
        return split
    raise ValueError(f"split must be a name such as train or test (letters, digits, _ . -), got {split!r}")


def content_key(task: Task) -> bytes:
    """A digest of what the policy sees: the prompt text and every image's mode, size and
    pixels. Equal keys are duplicate tasks."""
    digest = hashlib.sha256(task.prompt.encode("utf-8", "surrogatepass"))
    for image in task.images:
        digest.update(f"|{image.mode}|{image.size}|".encode())
        digest.update(image.tobytes())
    return digest.digest()


def split_key(task: Task, generator: Any = None) -> bytes:
    """The digest that decides ``task``'s split side: of ``generator.split_group(task)`` (a
    ``TaskGenerator``'s; ``generator`` defaults to the task's env's) as canonical JSON, or
    ``content_key(task)`` where that is None or the generator is no ``TaskGenerator``."""
    return _keyed_by(task, generator, "split_group", b"rlvr-group|")


def problem_key(task: Task, generator: Any = None) -> bytes:
    """The digest by which generated sets are unique: of ``generator.problem_key(task)`` as
    ``split_key`` (``content_key(task)`` where that is None). Equal keys are one problem."""
    return _keyed_by(task, generator, "problem_key", b"rlvr-problem|")


def split_and_problem_keys(task: Task, generator: Any) -> tuple[bytes, bytes | None]:
    """``(split_key(task, generator), problem_key(task, generator))`` where the family's problem
    key is its group (``TaskGenerator.problem_key``'s default): the group worked out, written as
    JSON and (where it is None) the content hashed once for both. Else the problem key is None:
    the family's own is worked out only for the task kept."""
    if not isinstance(generator, TaskGenerator) or type(generator).problem_key is not TaskGenerator.problem_key:
        return split_key(task, generator), None
    value = generator.split_group(task)
    if value is None:
        key = content_key(task)
        return key, key
    text = canonical_bytes(value)
    return hashlib.sha256(b"rlvr-group|" + text).digest(), hashlib.sha256(b"rlvr-problem|" + text).digest()


# the JSON a split group or problem key is hashed as (json.dumps with these options builds this
# encoder on every call), without the circular-reference check as ``Task.to_json``'s: the same
# text for any value without cycles (Knapsack's group 4.4 → 3.1 µs); a group holding itself
# raises RecursionError
_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, check_circular=False)


def canonical_bytes(value: Any) -> bytes:
    """A split group or problem key as the bytes its digests hash: canonical JSON (sorted keys,
    no spaces, UTF-8, lone surrogates kept)."""
    return _CANONICAL_JSON.encode(value).encode("utf-8", "surrogatepass")


def _keyed_by(task: Task, generator: Any, method: str, prefix: bytes) -> bytes:
    if generator is None:
        generator = make_generator(task.env_id, **_generator_options_of(task))
    value = getattr(generator, method)(task) if isinstance(generator, TaskGenerator) else None
    if value is None:
        return content_key(task)
    return hashlib.sha256(prefix + canonical_bytes(value)).digest()


def shows_held_out(task: Task, generator: Any) -> bool:
    """Whether ``task`` shows whole a problem of the held-out side: one of
    ``generator.split_exposures(task)`` (groups as ``split_group`` gives them) whose key is
    held out. Train streams pass over such tasks."""
    if not isinstance(generator, TaskGenerator):
        return False
    return any(
        key_is_held_out(hashlib.sha256(b"rlvr-group|" + canonical_bytes(group)).digest())
        for group in generator.split_exposures(task)
    )


def is_held_out(task: Task) -> bool:
    """Whether ``task`` lies on the held-out side (test and other non-train splits)."""
    return key_is_held_out(split_key(task))


def key_is_held_out(key: bytes) -> bool:
    """``is_held_out`` of a task whose ``split_key`` is ``key``."""
    return int.from_bytes(hashlib.sha256(b"rlvr-split|" + key).digest()[:8], "big") < HELD_OUT_FRACTION * 2**64


def stream_seed(seed: int, split: str, attempt: int) -> int:
    """The generator seed of position ``seed``, ``attempt`` of ``split``: ``seed`` itself for
    train's first attempt (so most train tasks are the raw stream's), else a 63-bit hash."""
    if split == "train" and attempt == 0:
        return int(seed)
    return (
        int.from_bytes(hashlib.sha256(f"rlvr-stream|{split}|{int(seed)}|{attempt}".encode()).digest()[:8], "big") >> 1
    )


def make_task(
    env_id: str, seed: int = 0, difficulty: float = 0.5, *, split: str | None = None, hint: float = 0.0, **options: Any
) -> Task:
    """The task at position ``seed`` of ``split``'s stream (module docstring); with ``split=None``
    the task that ``gym.make(env_id, difficulty=…, **options).reset(seed=seed)`` would serve.

    ``options`` are generator constructor options (``dataset=``) and task parameters (which win
    over the difficulty knob), flat or grouped (``params=``, ``generator_options=``); verifier
    options are ignored here. ``hint`` in [0, 1] appends that share of the family's guidance to
    the prompt (``TaskGenerator.with_hint``; 0, the default, changes nothing); the split is
    decided on the task without its hint."""
    if type(seed) is not int or not SEED_RANGE[0] <= seed <= SEED_RANGE[1]:
        check_seed(int(seed))
    if not isinstance(difficulty, float):  # True and 1 are one key below: refuse what is no number first
        canonical_difficulty(difficulty)
    try:  # options in another order: another key, same tasks
        setting = (env_id, difficulty, split, hint)
        if options:
            types = tuple(map(type, options.values()))
            if PLAIN_SETTINGS.issuperset(types):  # their types beside them: 1, 1.0 and True differ
                setting = (*setting, types, *options.items())
            else:
                setting = (*setting, *[(name, setting_key(value)) for name, value in options.items()])
        maker = _TASK_MAKERS.get(setting)
    except TypeError:  # an unhashable difficulty, split, hint or option: checked below, and made anew
        return setting_task_maker(env_id, difficulty, split, hint, options)(seed)
    if maker is None:
        maker = setting_task_maker(env_id, difficulty, split, hint, options)
        while len(_TASK_MAKERS) >= MAX_TASK_MAKERS:
            _TASK_MAKERS.pop(next(iter(_TASK_MAKERS)), None)
        _TASK_MAKERS[setting] = maker
    return maker(seed)


MAX_TASK_MAKERS = 256
# make_task's checked makers per (env id, difficulty, split, hint, options: plain values with
# their types beside them, else keyed by name, type and value as TaskGenerator.task_maker keys
# them): a repeated setting skips the option checks and the spec lookup
_TASK_MAKERS: dict[tuple, Callable[[int], Task]] = {}


def setting_task_maker(
    env_id: str, difficulty: float, split: str | None, hint: float, options: dict
) -> Callable[[int], Task]:
    """``make_task``'s work for one setting: position → its task (the generator's own maker for
    the unsplit stream without a hint, the one layer fewer a cheap task notices)."""
    check_split(split)
    hint = check_hint(hint)
    generator, params = generator_and_params(env_id, options)
    if split is None and not hint:
        return seeded_generate(generator, difficulty, params)
    make = split_task_maker(generator, difficulty, split, hint, params, False)
    return lambda seed: make(seed)[0]


def keyed_task_maker(
    env_id: str, difficulty: float, split: str | None, hint: float, options: dict, keys: bool
) -> Callable[[int], tuple[Task, bytes | None]]:
    """``make_task``'s work for one (env, difficulty, split, hint, options), the options sorted
    and the generator looked up once: position → (its task, the task's ``problem_key`` when
    ``keys``, else None). Bulk generation makes every task through one of these."""
    check_split(split)
    hint = check_hint(hint)
    generator, params = generator_and_params(env_id, options)
    return split_task_maker(generator, difficulty, split, hint, params, keys)


def generator_and_params(env_id: str, options: dict) -> tuple[Any, dict]:
    """The generator ``options`` configure for ``env_id`` and the task parameters among them."""
    generator_kwargs, _, params = split_options(get_spec(env_id), options)
    return make_generator(env_id, **generator_kwargs), params


def split_task_maker(
    generator: Any, difficulty: float, split: str | None, hint: float, params: dict, keys: bool
) -> Callable[[int], tuple[Task, bytes | None]]:
    """Position → (task, its ``problem_key`` when ``keys``) of ``split``'s stream (module
    docstring) for any generator with ``generate(seed, difficulty, **params)`` — a registered
    env's or a trainer's custom one (sides by ``split_key``); ``hint`` > 0 applies
    ``generator.with_hint`` after the split is decided (and the key: a hint changes no problem)."""
    check_split(split)
    hint = check_hint(hint)
    generate = seeded_generate(generator, difficulty, params)

    def make(seed: int) -> tuple[Task, bytes | None]:
        key = None
        if split is None:
            task = generate(seed)
        else:
            for attempt in range(MAX_SPLIT_ATTEMPTS):
                made_with = stream_seed(seed, split, attempt)
                task = generate(made_with)
                if keys:
                    side, key = split_and_problem_keys(task, generator)
                else:
                    side = split_key(task, generator)
                if key_is_held_out(side) != (split == "train") and not (
                    split == "train" and shows_held_out(task, generator)
                ):
                    break
            else:
                raise ValueError(
                    f"no task of the {split} split of {getattr(generator, 'env_id', type(generator).__name__)} at "
                    f"difficulty {difficulty:g} in {MAX_SPLIT_ATTEMPTS} attempts: its tasks (or dataset rows) "
                    "barely reach that side of the split; use split=None for the unsplit stream"
                )
        if keys and key is None:
            key = problem_key(task, generator)
        if split is not None:
            if made_with == seed:
                task_id = f"{task.id}/{split}"
            else:
                made_segment = f"s{made_with}"
                segments = [f"s{int(seed)}" if part == made_segment else part for part in task.id.split("/")]
                task_id = "/".join([*segments, split])
            task = _with_id(task, task_id)
        if hint:
            task = generator.with_hint(task, hint)
        return task, key

    return make


def _with_id(task: Task, task_id: str) -> Task:
    """``dataclasses.replace(task, id=task_id)`` without the frozen dataclass's ``__init__``
    (one ``object.__setattr__`` per field: a fifth of a cheap task's cost)."""
    renamed = _new_object(Task)
    renamed.__dict__.update(task.__dict__, id=task_id)
    return renamed


def seeded_generate(generator: Any, difficulty: float, params: dict) -> Callable[[int], Task]:
    """seed → ``generator.generate(seed, difficulty, **params)``: a ``TaskGenerator`` that keeps
    the base ``generate`` gives its per-setting maker (``TaskGenerator.task_maker``: the setting
    checked and resolved once, so a bad one raises here); any other generator is called as is."""
    if isinstance(generator, TaskGenerator) and getattr(generator.generate, "__func__", None) is TaskGenerator.generate:
        return generator.task_maker(difficulty, params)
    return functools.partial(_generate_with, generator, difficulty, params)


def _generate_with(generator: Any, difficulty: float, params: dict, seed: int) -> Task:
    return generator.generate(seed, difficulty, **params)


def group_options(env_id: str, options: dict):
    """``options`` (flat names or the ``params``/``generator_options``/``verifier_options``
    groups) sorted into the env family's groups (``rlvr.family.GroupedOptions``); ValueError on
    an unknown or ambiguous name."""
    spec = get_spec(env_id)
    return spec.family.group_options(spec.id, options)


def solve(task: Task) -> str:
    """The reference response to ``task``: a complete answer its env's verifier scores correct."""
    return make_generator(task.env_id, **_generator_options_of(task)).solve(task)


def verify(task: Task, response: Any, **verifier_options: Any) -> Verdict:
    """The Verdict of ``response`` (the model's whole text) on ``task``. Never raises: a
    non-string, oversized or hostile response gets reward 0 and a one-line reason.
    ``verifier_options`` are the env's verifier options (e.g. ``partial=True``)."""
    return make_verifier(task.env_id, **verifier_options).verify(task, response)


def _generator_options_of(task: Task) -> dict:
    """Dataset tasks remember their file so ``solve`` needs no extra argument."""
    return (
        {"dataset": task.meta["dataset"]}
        if "dataset" in task.meta and "dataset" in get_spec(task.env_id).generator_options
        else {}
    )


def _ignore_interrupts() -> None:
    """Worker processes leave Ctrl-C to their parent, which shuts the pool down."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _start_pool_process() -> None:
    """A generation pool process as it starts: Ctrl-C left to the parent, freed memory kept."""
    _ignore_interrupts()
    _keep_freed_memory()


def _forkserver(preload: Iterable[str | tuple[str, float]]) -> multiprocessing.context.BaseContext:
    """The forkserver context, its server started if it is not running, asked to preload
    ``rlvr.api`` and the generator modules of ``preload``'s envs (env ids, or (env id,
    difficulty) pairs), to build their default generators and to make one task at each pair's
    difficulty (``_build_worker_server_generators``); all of which takes effect only if the
    server is not running yet."""
    context = multiprocessing.get_context("forkserver")
    pairs = [(item, None) if isinstance(item, str) else item for item in preload]
    env_ids = sorted({canonical_env_id(env_id) for env_id, _ in pairs})
    settings = sorted({f"{canonical_env_id(env_id)}@{float(d)!r}" for env_id, d in pairs if d is not None})
    generators = sorted({get_spec(env_id).generator.partition(":")[0] for env_id in env_ids})
    context.set_forkserver_preload(["rlvr.api", *generators])
    previous = os.environ.get(WORKER_SERVER_GENERATORS)
    os.environ[WORKER_SERVER_GENERATORS] = ",".join([*env_ids, *settings])  # read by the server's import of rlvr.api
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        if previous is None:
            os.environ.pop(WORKER_SERVER_GENERATORS, None)
        else:
            os.environ[WORKER_SERVER_GENERATORS] = previous
    return context


WORKER_SERVER_GENERATORS = "RLVR_WORKER_SERVER_GENERATORS"


def _build_worker_server_generators() -> None:
    """In the worker server (the forkserver), which imports this module with
    ``WORKER_SERVER_GENERATORS`` naming the env ids of the call that started it (and ``id@d``
    for each difficulty it asked for): build those envs' default generators, then make one
    train task of each env at each such difficulty, so every pool process forked from it starts
    with them built and with what a setting's first task works out (KnightsKnaves' fitted
    chances, ~0.17 s; Infill's spans, ~0.09 s) instead of each working them out inside the
    caller's call (StepOrder's and Infill's text corpus: ~0.1 s more), then drop the variable,
    which its pool processes would inherit. A generator or task that fails is left to the pool
    processes (they raise the error in their chunk); the work stops at one that started a
    thread, as a process forked with threads running may deadlock."""
    entries = list(filter(None, os.environ.pop(WORKER_SERVER_GENERATORS, "").split(",")))
    steps = [functools.partial(make_generator, entry) for entry in entries if "@" not in entry]
    for entry in entries:
        if "@" in entry:
            env_id, _, difficulty = entry.rpartition("@")
            steps.append(functools.partial(make_task, env_id, 0, float(difficulty), split="train"))
    for step in steps:
        threads = threading.active_count()
        with contextlib.suppress(Exception):
            step()
        if threading.active_count() != threads:
            return


# glibc's mallopt parameters (malloc.h) and the values pool processes use
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
WORKER_MMAP_THRESHOLD = 32 << 20  # glibc's largest: blocks up to this size come from the heap
WORKER_TRIM_THRESHOLD = 64 << 20  # free memory a pool process keeps at the top of its heap


def _keep_freed_memory() -> None:
    """In a generation pool process, where glibc is the C library: keep the memory it frees
    for the next task instead of handing it back to the kernel. A pool process makes and drops
    a chunk's tasks over and over; by glibc's default a block of ~1 MB (an image's pixels) is
    given back when freed and faulted in again, fresh pages zeroed one at a time, for the next
    task (SudokuImage: ~630 page faults and a tenth of a worker's time per task; ~15 with these
    settings). Set as each pool process starts (``_start_pool_process``), not in the worker
    server, which another user of multiprocessing's forkserver (a verification pool) may have
    started first; the caller's own process is left as it is."""
    with contextlib.suppress(ValueError, OSError, AttributeError):
        if not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"):
            return
        libc = ctypes.CDLL(None)
        libc.mallopt(M_MMAP_THRESHOLD, WORKER_MMAP_THRESHOLD)
        libc.mallopt(M_TRIM_THRESHOLD, WORKER_TRIM_THRESHOLD)


def start_worker_server(preload: Iterable[str | tuple[str, float]]) -> None:
    """Start the forkserver that process pools fork their workers from, if it is not running,
    without waiting for it: it imports ``rlvr.api`` and the generator modules of ``preload``'s
    envs (env ids, or (env id, difficulty) pairs), builds their default generators and makes a
    task at each pair's difficulty (``_build_worker_server_generators``) while the caller goes
    on (``rlvr generate`` checks its parts meanwhile), so a pool made later starts its workers
    sooner."""
    _forkserver(preload)


def make_executor(
    workers: int | None, backend: str, preload: Iterable[str | tuple[str, float]] = ()
) -> futures.Executor:
    """``workers`` threads (``backend="thread"``) or forkserver processes (otherwise).
    ``preload``: env ids or (env id, difficulty) pairs whose generator modules the forkserver
    imports when this call starts it (with ``rlvr.api``; ``start_worker_server``), so later
    pools' workers start with them loaded."""
    count = workers or os.cpu_count() or 1
    if backend == "thread":
        return futures.ThreadPoolExecutor(count)
    return futures.ProcessPoolExecutor(count, mp_context=_forkserver(preload), initializer=_start_pool_process)


@contextlib.contextmanager
def running_executor(
    workers: int | None, backend: str, preload: Iterable[str | tuple[str, float]] = ()
) -> Iterator[futures.Executor]:
    """``make_executor`` for one block: waits for the workers when the block completes; on an
    exception (Ctrl-C, or a generator closed early) cancels the queued work and ends worker
    processes at once instead of letting them finish their chunks."""
    pool = make_executor(workers, backend, preload)
    try:
        yield pool
    except BaseException:
        stop_executor(pool)
        raise
    pool.shutdown(wait=True)


STOPPED_MANAGER_WAIT_S = 5.0  # for a stopped process pool's manager thread to see its workers gone


def stop_executor(pool: futures.Executor) -> None:
    """Cancel what has not started; terminate worker processes (threads cannot be stopped)."""
    terminate = getattr(pool, "terminate_workers", None)  # Python ≥ 3.14
    if terminate is not None:
        terminate()
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())  # shutdown forgets them
    writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)  # and this
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=1.0)
    # A worker killed while sending a result leaves the pool's manager thread reading the rest of
    # that message forever (this process holds the pipe's other write end, so no EOF comes), and
    # the interpreter's exit joins that thread: closing this process's write end lets it see EOF.
    if writer is not None:
        with contextlib.suppress(OSError):
            writer.close()
    # The manager thread closes its wake-up pipe as it ends; the interpreter's exit writes to
    # that pipe unless it is closed already, and the two raced (a stray "Bad file descriptor"
    # traceback after Ctrl-C): waiting for the thread here lets the exit find it closed.
    manager = getattr(pool, "_executor_manager_thread", None)
    if manager is not None and manager is not threading.current_thread():
        manager.join(timeout=STOPPED_MANAGER_WAIT_S)


def check_count(name: str, value: Any, minimum: int = 0) -> int:
    """``value`` if it is a whole number ≥ ``minimum``; else a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be a whole number ≥ {minimum}, got {value!r}")
    return int(value)


def check_workers(workers: Any) -> int | None:
    """``workers``: None (every CPU) or a whole number ≥ 1."""
    return None if workers is None else check_count("workers", workers, 1)


def verify_batch(
    tasks: Sequence[Task],
    responses: Sequence[Any],
    workers: int | None = None,
    backend: str = "process",
    *,
    address: str | None = None,
) -> list[Verdict]:
    """Verify many (task, response) pairs; verdicts come back in input order. ``workers``
    threads or processes (None: every CPU); ``address`` is the Ray cluster of ``backend="ray"``.
    Runs on ``rlvr.scoring``: a verification still running its verifier's ``deadline_s`` plus a
    grace after it started scores 0 with ``details["timed_out"]`` (killed on ``process`` and
    ``ray``, abandoned on ``thread``; ``serial`` runs in the caller, unbounded). On ``process``
    with a worker for every CPU the caller may use, each worker keeps to a CPU of its own
    (``rlvr.scoring``, "Backends")."""
    from rlvr import scoring

    check_workers(workers)
    if len(tasks) != len(responses):
        raise ValueError(f"{len(tasks)} tasks but {len(responses)} responses")
    scoring.check_backend(backend)
    return scoring.score(zip(tasks, responses), backend, workers, address=address)


def encoded_task_maker(
    env_id: str, difficulty: float, split: str | None, options: dict, keys: bool, encode: Callable[[Task], Any] | None
) -> Callable[[int], tuple[Any, bytes | None]]:
    """``keyed_task_maker`` (``options`` may hold ``hint``) with each task passed through
    ``encode`` when one is given: position → (task or ``encode(task)``, key)."""
    options = dict(options)  # the caller's dict may be shared (a thread pool passed as ``pool``)
    make = keyed_task_maker(env_id, difficulty, split, options.pop("hint", 0.0), options, keys)
    if encode is None:
        return make

    def make_encoded(seed: int) -> tuple[Any, bytes | None]:
        task, key = make(seed)
        return encode(task), key

    return make_encoded


@dataclass(frozen=True)
class RowBlock:
    """Consecutive rows of a stream as one bytes: each row's UTF-8 text followed by a newline,
    row ``i`` ending (its newline included) at offset ``ends[i]`` of ``data``; ``keys`` are the
    rows' tasks' keys (``keyed_task_maker``) while uniqueness is still to be decided, else None."""

    data: bytes
    ends: list[int]
    keys: list[bytes] | None = None

    def __len__(self) -> int:
        return len(self.ends)

    def rows(self, start: int, stop: int) -> RowBlock:
        """Rows ``start`` … ``stop - 1``, without keys (sharing this block's bytes when that is all of it)."""
        if start == 0 and stop == len(self.ends):
            return self if self.keys is None else RowBlock(self.data, self.ends)
        if stop <= start:
            return RowBlock(b"", [])
        base = self.ends[start - 1] if start else 0
        return RowBlock(self.data[base : self.ends[stop - 1]], [end - base for end in self.ends[start:stop]])

    def picked(self, indices: list[int]) -> RowBlock:
        """The rows at ``indices`` (ascending), without keys."""
        ends = self.ends
        parts = [self.data[(ends[index - 1] if index else 0) : ends[index]] for index in indices]
        return RowBlock(b"".join(parts), list(itertools.accumulate(map(len, parts))))


@dataclass(frozen=True)
class JoinedLines:
    """An ``encode`` for ``iter_generate`` and ``iter_generate_mix`` that asks for rows in blocks:
    a local stream then yields ``RowBlock``s of ``line(task)`` (one line of text without its
    newline, such as ``Task.to_json``) instead of one row per task, each block joined in the
    worker that made its chunk, so the caller takes a chunk at once (its keys checked together,
    its bytes written with one call) rather than a row at a time. The rows, the tasks chosen and
    ``FewerDistinctTasks`` are those of ``encode=line``. Called on a task it is ``line(task)``
    (a Ray stream, made in the caller, yields such rows one by one)."""

    line: Callable[[Task], str]

    def __call__(self, task: Task) -> str:
        return self.line(task)


class RowCursor:
    """A stream of ``RowBlock``s read a number of rows at a time, blocks cut where a count ends."""

    def __init__(self, blocks: Iterable[RowBlock]) -> None:
        self._blocks = iter(blocks)
        self._block: RowBlock | None = None
        self._at = 0

    def take(self, count: int | None = None) -> Iterator[RowBlock]:
        """The next ``count`` rows (all that are left when None; fewer where the stream ends
        first) as blocks, none of them empty."""
        while count is None or count > 0:
            if self._block is None or self._at >= len(self._block):
                self._block, self._at = next(self._blocks, None), 0
                if self._block is None:
                    return
                continue
            stop = len(self._block) if count is None else min(len(self._block), self._at + count)
            piece = self._block.rows(self._at, stop)
            if count is not None:
                count -= stop - self._at
            self._at = stop
            yield piece


def _joined_rows(pairs: list[tuple[str, bytes | None]], keys: bool) -> RowBlock:
    """The ``RowBlock`` of (line, key) pairs."""
    lines = [(line + "\n").encode("utf-8") for line, _ in pairs]
    return RowBlock(
        b"".join(lines), list(itertools.accumulate(map(len, lines))), [key for _, key in pairs] if keys else None
    )


def _generate_chunk(
    job: tuple[str, list[int], float, str | None, dict, bool, Callable[[Task], Any] | None, str | None],
) -> tuple[bytes | tuple[str, list[int]], int, float]:
    """A worker's chunk: the (task, key) pairs of ``encoded_task_maker`` for its seeds (one
    ``RowBlock`` of them where ``encode`` is ``JoinedLines``, else ``marshalled``), how many
    there are, and the seconds making and packing them took (the parent sizes later chunks by
    it). They are written into the shared-memory segment the job names when they fit
    (``write_chunk``: then only the segment's name and part sizes cross the pipe), else pickled
    as one bytes payload (``unpack_chunk`` reads it), so the pool's result thread copies one
    bytes object and nothing more. The cyclic garbage collector is paused meanwhile (and restored
    as it was): the chunk's tasks live only until they are packed, and collector passes over
    them as they pile up cost a quarter of a cheap task's time (Math: pool CPU 38 → 31 µs per
    task); whatever cyclic garbage the chunk left is collected by the next pass after it."""
    started = time.perf_counter()
    env_id, seeds, difficulty, split, options, keys, encode, segment = job
    make = encoded_task_maker(env_id, difficulty, split, options, keys, encode)
    with _collector_paused():  # the chunk's objects die with it: collector passes over them would be wasted
        pairs = [make(seed) for seed in seeds]
        items = _joined_rows(pairs, keys) if isinstance(encode, JoinedLines) else marshalled(pairs)
        packed = None
        if segment is not None:
            with contextlib.suppress(OSError):  # the segment is gone (the stream was closed): pickle
                packed = write_chunk(items, segment)
        if packed is None:
            packed = pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL)
        del pairs, items
    return packed, len(seeds), time.perf_counter() - started


_TASK_FIELDS = tuple(field.name for field in fields(Task))
_task_fields = operator.attrgetter(*_TASK_FIELDS)


class MarshalledChunk:
    """A chunk's (task or row, key) pairs as one ``marshal`` stream: a task as the tuple of its
    fields. Unpickled (``_unmarshalled``), it is the list of pairs again, equal to what pickling
    the list gives back (types, values, order; a value two fields share is shared again). For
    plain values ``marshal`` writes and reads faster than ``pickle``, whose memo and per-object
    dispatch are most of a cheap task's transport: per task (2,000 tasks at d = 0.5 in one
    process), SAT 30 → 12 µs to write and 24 → 18 µs to read, Knapsack 4.0 → 2.3 and 3.9 → 2.8,
    Math 3.1 → 1.5 and 2.8 → 2.0; the caller of a two-worker pool spends 15–25 % less CPU per
    task loading them (SAT 36–38 → 27–28 µs)."""

    __slots__ = ("data", "tasks")

    def __init__(self, data: bytes, tasks: bool) -> None:
        self.data = data
        self.tasks = tasks

    def __reduce__(self) -> Any:
        return _unmarshalled, (self.data, self.tasks)


def marshalled(pairs: list[tuple[Any, bytes | None]]) -> MarshalledChunk | list[tuple[Any, bytes | None]]:
    """``pairs`` as a ``MarshalledChunk`` where ``marshal`` holds every value (tasks without
    images, whose fields are plain data, or rows); else ``pairs`` themselves (images, or a value
    ``marshal`` refuses, such as an instance of a class: pickled as before)."""
    tasks = bool(pairs) and all(type(item) is Task for item, _ in pairs)
    try:
        if tasks:
            if any(task.images for task, _ in pairs):
                return pairs
            return MarshalledChunk(marshal.dumps([(_task_fields(task), key) for task, key in pairs]), True)
        return MarshalledChunk(marshal.dumps(pairs), False)
    except ValueError:  # "unmarshallable object"
        return pairs


def _unmarshalled(data: Any, tasks: bool) -> list[tuple[Any, bytes | None]]:
    """The pairs of ``MarshalledChunk`` ``data`` (any buffer)."""
    pairs = marshal.loads(data)
    if not tasks:
        return pairs
    made = []
    for values, key in pairs:
        task = _new_object(Task)
        task.__dict__.update(zip(_TASK_FIELDS, values))
        made.append((task, key))
    return made


def _loaded_with_collector_paused(load: Callable[[], list]) -> list:
    """``load()`` with the cyclic garbage collector paused (and restored as it was), its objects
    then moved straight to the oldest generation. A chunk is thousands of new containers (a
    task's dicts and lists) that live on (the caller keeps the tasks): with the collector
    running, loading them triggers young-generation passes over and over, which cost several
    times the loading itself for tasks of many small lists (GraphColoring's edges), and even
    loaded with it paused, each container would be traversed again by the young and middle
    generations' next passes before it reaches the oldest: half of the caller's work per task
    for the cheapest envs (Math: 2-4 of 5-7 µs). ``gc.freeze()`` then ``gc.unfreeze()`` moves
    every tracked object into the oldest generation without traversing any (two list splices);
    it is skipped where the process has frozen objects of its own (``gc.get_freeze_count()``),
    which ``unfreeze`` would release. The only effect elsewhere: a garbage cycle that was young
    at that moment is collected by the next full collection instead of a young one."""
    with _collector_paused() as collecting:
        items = load()
        if collecting and not gc.get_freeze_count():
            gc.freeze()
            gc.unfreeze()
        return items


@contextlib.contextmanager
def _collector_paused() -> Iterator[bool]:
    """The cyclic garbage collector paused for the block (and enabled again after it only if it
    was enabled); yields whether it was."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield collecting
    finally:
        if collecting:
            gc.enable()


def unpack_chunk(payload: bytes) -> Any:
    """``pickle.loads(payload)`` with the cyclic garbage collector paused (and restored as it was)."""
    return _loaded_with_collector_paused(functools.partial(pickle.loads, payload))


# Chunks through shared memory. A chunk's pickle and its images' pixels are written by the
# worker (``os.pwrite``: no mapping, so a full ``/dev/shm`` is an OSError, never a SIGBUS) into
# a segment the caller owns and lent to that chunk, and the caller reads them from its own
# mapping of it: nothing large crosses the pool's pipe, whose copies (pickled again by the
# executor, written, read in pieces, joined, unpickled) cost as much as the loading itself for
# image tasks (~1 MB of pixels each). Chunks of tasks without images share a few segments, reused
# chunk after chunk (pages already in place on both sides). A chunk of tasks with images gets a
# segment of its own, unlinked as soon as the caller has mapped it privately (copy on write):
# its images are made on those pages instead of copied out of them, which spares the caller a
# fresh page fault per 4 KiB of pixels (a mapped file page comes in with its neighbours), and
# the pages go back when the last of its images is collected. Segments are registered with
# multiprocessing's resource tracker by the caller alone, so a killed caller leaves none behind.
SHARED_MEMORY_DIR = Path("/dev/shm")  # where Linux keeps POSIX shared memory; elsewhere chunks are pickled
SEGMENT_MIN_BYTES = 1 << 20
SEGMENT_MAX_BYTES = 64 << 20  # a chunk larger than this is pickled through the pipe
SEGMENT_NAME = re.compile(r"[A-Za-z0-9_.-]{1,200}")
# modes whose pixels travel as Pillow stores them (bytes per pixel): a loaded image can then
# be made on the segment's pages; an RGB pixel is stored in four bytes, its fourth unused
STORED_IMAGE_MODES = {"RGB": 4, "RGBA": 4, "RGBX": 4, "L": 1}
# a worker's buffer for one image's stored pixels, reused image after image while the size holds
# (a PickleBuffer of the bytearray itself: one of a memoryview slice, left in the pickler's memo,
# is not safe for the cyclic garbage collector to clear)
_pixel_scratch = bytearray()


def _stored_image(mode: str, size: tuple[int, int], pixels: Any) -> Any:
    """A Pillow core image of ``mode`` and ``size`` (a ``STORED_IMAGE_MODES`` mode) whose pixels
    are the storage-layout bytes of buffer ``pixels``, shared, not copied (what
    ``Image.frombuffer`` does for the modes it shares, RGB's four-byte layout included); it
    writes into ``pixels`` when the buffer is writable and keeps it alive while it lives."""
    return Image.core.map_buffer(pixels, size, "raw", 0, (mode, 0, 1))


def _rebuild_image(
    info: dict, mode: str, size: tuple[int, int], palette: Any, pixels: Any, stored: bool = False
) -> Image.Image:
    """The image that unpickling a plain ``PIL.Image.Image`` gives (``Image.__setstate__``),
    its pixels from ``pixels``, any buffer (a view of a shared-memory segment): packed as
    ``tobytes()`` gives them, or, ``stored``, as Pillow stores them (a ``STORED_IMAGE_MODES``
    mode). Stored pixels in a writable buffer are the image's own (a private copy-on-write
    mapping of its chunk's segment): the image is made on them, and writing to it writes there;
    a read-only buffer is borrowed (a reused segment's), and the pixels are copied out of it."""
    if stored:
        if not memoryview(pixels).readonly:
            image = Image.new(mode, (0, 0))._new(_stored_image(mode, size, pixels))
        else:
            image = Image.new(mode, size, None)  # storage not written yet: the copy is its first touch
            image.frombytes(pixels, "raw", "RGBX" if mode == "RGB" else mode)
        image.info = info
        return image
    image = Image.Image.__new__(Image.Image)
    image.__setstate__([info, mode, size, palette, pixels])
    return image


def _rebuild_rows(data: Any, ends: list[int], keys: list[bytes] | None) -> RowBlock:
    """The ``RowBlock`` of its bytes in buffer ``data`` (a view of a shared-memory segment),
    copied out of it."""
    return RowBlock(bytes(data), ends, keys)


class _ChunkPickler(pickle.Pickler):
    """Protocol 5 with each ``RowBlock``'s bytes (written once, not copied into the stream
    first; ``_rebuild_rows``), each ``MarshalledChunk``'s stream and each plain PIL image's
    pixels out of band, handed to ``place``
    as they come (``overflowed`` once ``place`` refused one), an image rebuilt by
    ``_rebuild_image`` as ``Image.__setstate__`` would (mode, size, info, palette and pixels
    alike). A ``STORED_IMAGE_MODES`` image's pixels go as Pillow stores them, copied straight
    from its storage into a reused scratch buffer as ``place`` asks for them (an RGB image's
    unused fourth byte of each pixel is kept as the worker had it, as in a task made in the
    caller, where unpickling sets it to 255); every other object, buffers included, is pickled
    as ``pickle.dumps`` would."""

    def __init__(self, file: Any, place: Callable[[memoryview], bool]) -> None:
        super().__init__(file, protocol=5, buffer_callback=self._out_of_band)
        # looked up by exact type in C: no Python call for the other objects (each Task)
        self.dispatch_table = {
            **copyreg.dispatch_table,
            Image.Image: self._reduce_image,
            RowBlock: self._reduce_rows,
            MarshalledChunk: self._reduce_marshalled,
        }
        self._place = place
        # alive until placed, so no other buffer has its id; with the image whose pixels it gets
        self._ours: dict[int, tuple[pickle.PickleBuffer, Image.Image | None]] = {}
        self.overflowed = False

    def release(self) -> None:
        """Drop the objects this pickler holds (its memo, buffers not placed): it is its own
        cycle (its methods in its tables), so it would otherwise wait for the cyclic collector."""
        self.clear_memo()
        self._ours.clear()

    def _reduce_rows(self, block: RowBlock) -> Any:
        buffer = pickle.PickleBuffer(block.data)
        self._ours[id(buffer)] = (buffer, None)
        return _rebuild_rows, (buffer, block.ends, block.keys)

    def _reduce_marshalled(self, chunk: MarshalledChunk) -> Any:
        buffer = pickle.PickleBuffer(chunk.data)
        self._ours[id(buffer)] = (buffer, None)
        return _unmarshalled, (buffer, chunk.tasks)

    def _reduce_image(self, image: Image.Image) -> Any:
        width, height = image.size
        if image.mode in STORED_IMAGE_MODES and width and height:
            global _pixel_scratch
            image.load()
            nbytes = STORED_IMAGE_MODES[image.mode] * width * height
            if len(_pixel_scratch) != nbytes:
                _pixel_scratch = bytearray(nbytes)  # buffers of the other size keep theirs while they live
            buffer = pickle.PickleBuffer(_pixel_scratch)  # filled when placed
            self._ours[id(buffer)] = (buffer, image)
            return _rebuild_image, (image.info, image.mode, image.size, None, buffer, True)
        state = image.__getstate__()  # [info, mode, size, palette, pixels] (Pillow ≥ 6)
        if len(state) != 5 or not isinstance(state[4], bytes):
            return image.__reduce_ex__(5)
        buffer = pickle.PickleBuffer(state[4])
        self._ours[id(buffer)] = (buffer, None)
        return _rebuild_image, (*state[:4], buffer)

    def _out_of_band(self, buffer: pickle.PickleBuffer) -> bool:
        buffer_of, image = self._ours.get(id(buffer), (None, None))
        if buffer_of is not buffer:
            return True  # someone else's buffer (a NumPy array's): in band, as pickle.dumps does
        del self._ours[id(buffer)]
        with buffer.raw() as pixels:
            if image is not None:  # the scratch buffer: this image's stored pixels, now
                _stored_image(image.mode, image.size, pixels).paste(image.im, (0, 0, *image.size))
            self.overflowed = self.overflowed or not self._place(pixels)
        return False


def write_chunk(items: Any, segment: str) -> tuple[str, list[int]] | None:
    """``items`` written into shared-memory segment ``segment`` (a name under
    ``SHARED_MEMORY_DIR``) from its start, within its size: each image's pixels as
    ``_ChunkPickler`` reaches it (so one image's bytes are in hand at a time), then the pickle
    stream. (The name, the byte size of each part in that order) for ``ChunkSegments.load``;
    None when they do not fit (the caller then pickles them through the pipe); OSError when the
    segment is gone or ``/dev/shm`` is full."""
    if not SEGMENT_NAME.fullmatch(segment):
        raise ValueError(f"not a shared-memory segment name: {segment!r}")
    sizes: list[int] = []
    descriptor = os.open(SHARED_MEMORY_DIR / segment, os.O_WRONLY)
    try:
        room = os.fstat(descriptor).st_size
        offset = 0

        def place(part: memoryview) -> bool:
            nonlocal offset
            if offset + part.nbytes > room:
                return False
            done = 0
            while done < part.nbytes:
                wrote = os.pwrite(descriptor, part[done:], offset + done)
                if wrote <= 0:
                    raise OSError(errno.ENOSPC, "shared-memory segment not written", segment)
                done += wrote
            offset += part.nbytes
            sizes.append(part.nbytes)
            return True

        stream = io.BytesIO()
        pickler = _ChunkPickler(stream, place)
        try:
            pickler.dump(items)
        finally:
            pickler.release()
        with stream.getbuffer() as pickled:
            if pickler.overflowed or not place(pickled):
                return None
    finally:
        os.close(descriptor)
    return segment, sizes


class ChunkSegments:
    """The caller's side of shared-memory chunks for one stream: at most ``limit`` segments,
    each lent to one chunk in flight and reused once its chunk is loaded. A chunk is lent the
    smallest free segment that holds its tasks at the largest size per task seen so far
    (``bytes_per_task`` before any is seen), with a quarter to spare, or a new one of a power
    of two MiB; a chunk over ``SEGMENT_MAX_BYTES``, or a new segment over a quarter of the free
    shared memory, gets none (the chunk is pickled through the pipe). Space is reserved on
    creation (``posix_fallocate``), so a full ``/dev/shm`` (64 MB in a default Docker
    container) turns the segments off instead of failing chunk after chunk.

    ``own_pages`` (tasks with images): a chunk is lent a new segment of its own, its space taken
    as the worker writes; ``load`` maps it privately, unlinks it and makes the images on its
    pages, which live on with them: a chunk's pixels (up to ``CHUNK_BYTES``) are freed together,
    when the last of its tasks' images is. The pages stay charged to ``/dev/shm`` meanwhile, so
    a chunk gets its own segment only while that leaves at least half of ``/dev/shm`` free
    (others use it too: a default Docker container has 64 MB), else a reused one as above."""

    def __init__(self, limit: int, bytes_per_task: float, own_pages: bool = False) -> None:
        self.limit = limit
        self.bytes_per_task = bytes_per_task
        self.own_pages = own_pages
        self._seen = False
        self.enabled = SHARED_MEMORY_DIR.is_dir()
        self._free: list[Any] = []
        self._lent: dict[str, Any] = {}
        self._own: set[str] = set()  # the lent segments that are their chunk's own

    def learn(self, tasks: int, size: int) -> None:
        """A chunk of ``tasks`` tasks took ``size`` bytes."""
        per_task = size / max(tasks, 1)
        self.bytes_per_task = max(self.bytes_per_task, per_task) if self._seen else per_task
        self._seen = True

    def lend(self, tasks: int) -> str | None:
        """The name of a segment for a chunk of ``tasks`` tasks, now lent; None for none."""
        if not self.enabled:
            return None
        wanted = SEGMENT_MIN_BYTES << max(
            0, math.ceil(math.log2((tasks * self.bytes_per_task * 5 / 4 + 65536) / SEGMENT_MIN_BYTES))
        )
        if wanted > SEGMENT_MAX_BYTES:
            return None
        segment = self._create(wanted, own=True) if self.own_pages else None
        if segment is not None:
            self._own.add(segment.name)
            self._lent[segment.name] = segment
            return segment.name
        fitting = [segment for segment in self._free if segment.size >= wanted]
        if fitting:
            segment = min(fitting, key=lambda segment: segment.size)
            self._free.remove(segment)
        else:
            if len(self._free) + len(self._lent) >= self.limit:
                if not self._free:
                    return None
                _drop_segment(self._free.pop(0))  # free segments too small for today's chunks
            segment = self._create(wanted)
            if segment is None:
                return None
        self._lent[segment.name] = segment
        return segment.name

    def _create(self, size: int, own: bool = False) -> Any:
        """A new segment of ``size`` bytes: a chunk's ``own`` (space not reserved), or one to
        reuse; None where ``/dev/shm`` has too little room for it."""
        from multiprocessing import shared_memory

        segment = None
        try:
            room = os.statvfs(SHARED_MEMORY_DIR)
            free = room.f_bavail * room.f_frsize
            if (free - size < room.f_blocks * room.f_frsize // 2) if own else (size > free // 4):
                return None
            segment = shared_memory.SharedMemory(create=True, size=size)
            if own:
                segment.close()  # this process maps only what the worker wrote (``load``)
                return segment
            descriptor = os.open(SHARED_MEMORY_DIR / segment.name, os.O_RDWR)
            try:
                os.posix_fallocate(descriptor, 0, size)
            finally:
                os.close(descriptor)
            return segment
        except (OSError, AttributeError):  # no room, no such file, no posix_fallocate: pickle instead
            self.enabled = False
            if segment is not None:
                _drop_segment(segment)
            return None

    def give_back(self, name: str | None) -> None:
        """Segment ``name``'s chunk is loaded (or was pickled instead): it is free again."""
        segment = self._lent.pop(name, None) if name is not None else None
        if segment is not None:
            if name in self._own:
                self._own.discard(name)
                _drop_segment(segment)
            else:
                self._free.append(segment)

    def load(self, name: str, sizes: list[int]) -> Any:
        """The items ``write_chunk`` wrote into lent segment ``name``: read from this process's
        mapping of it (the images' pixels copied straight into their images), or, the chunk's
        own, from a private copy-on-write mapping of what was written, the segment unlinked
        first (its images made on the mapping's pages)."""
        own = name in self._own
        if not own:
            buffer = self._lent[name].buf.toreadonly()  # borrowed: images copy their pixels out
        else:
            self._own.discard(name)
            segment = self._lent.pop(name)
            try:
                descriptor = os.open(SHARED_MEMORY_DIR / name, os.O_RDONLY)
                try:
                    if os.fstat(descriptor).st_size < sum(sizes):
                        raise ValueError(f"shared-memory segment {name} is shorter than its chunk")
                    buffer = memoryview(mmap.mmap(descriptor, sum(sizes), access=mmap.ACCESS_COPY))
                finally:
                    os.close(descriptor)
            finally:
                _drop_segment(segment)
        parts, offset = [], 0
        for size in sizes:
            parts.append(buffer[offset : offset + size])
            offset += size
        try:
            return _loaded_with_collector_paused(lambda: pickle.loads(parts[-1], buffers=parts[:-1]))
        finally:
            if not own:  # own pages stay exported to the images made on them
                for part in parts:
                    part.release()
                buffer.release()

    def close(self) -> None:
        """Unlink every segment (a worker still writing into one keeps its file open until it
        is done, then the file is gone)."""
        for segment in [*self._free, *self._lent.values()]:
            _drop_segment(segment)
        self._free.clear()
        self._lent.clear()
        self._own.clear()


def _drop_segment(segment: Any) -> None:
    with contextlib.suppress(BufferError, OSError):
        segment.close()
    with contextlib.suppress(OSError):
        segment.unlink()


CHUNK_SECONDS = 0.05  # of one worker's time per chunk, once the task's cost is known
MAX_CHUNK = 1024
CHUNK_BYTES = 5 << 20  # at most, once the task's size is known: image tasks carry ~1 MB each
FIRST_VISUAL_CHUNK = 4
# until a chunk shows the size; by whether the tasks carry images' raw pixels (~1 MB a task: the
# first segments are then the size every later chunk needs) or not (rows of PNGs, text tasks)
GUESSED_BYTES_PER_TASK = {False: 16 << 10, True: 1 << 20}


def _ordered_chunks(
    pool: futures.Executor | None,
    env_id: str,
    positions: Iterator[int],
    difficulty: float,
    split: str | None,
    options: dict,
    chunking: tuple[int, int, int],
    keys: bool,
    encode: Callable[[Task], Any] | None = None,
) -> Iterator[tuple[Any, bytes | None]]:
    """(task, key) pairs of ``positions`` in order (``encoded_task_maker``: ``encode(task)`` in
    place of the task when ``encode`` is given): serially, or on ``pool`` in chunks
    (``_pool_chunks``)."""
    if pool is None:
        make = encoded_task_maker(env_id, difficulty, split, options, keys, encode)
        for pairs in _serial_blocks(make, positions, keep=encode is None):
            yield from pairs
        return
    chunks = _pool_chunks(pool, env_id, positions, difficulty, split, options, chunking, keys, encode)
    with contextlib.closing(chunks):
        for pairs in chunks:
            yield from pairs


SERIAL_BLOCK_SECONDS = 0.01  # of work per block made in the caller (without a pool)


def _serial_blocks(
    make: Callable[[int], tuple[Any, bytes | None]], positions: Iterator[int], keep: bool
) -> Iterator[list[tuple[Any, bytes | None]]]:
    """``make(seed)`` for ``positions`` in the caller, in blocks of about ``SERIAL_BLOCK_SECONDS``
    of work (so a distinct stream makes at most that much beyond the tasks it keeps), each made
    with the cyclic garbage collector paused as a pool's chunk is: collector passes over a
    block's new containers as they pile up are wasted (they hold no cycles), a quarter of a
    cheap task's time in the caller (Knapsack in memory: 42–45 → 32 µs a task with it off).
    With ``keep`` (the caller keeps the tasks) each block then goes straight to the oldest
    generation, as a pool's chunks do when loaded (``_loaded_with_collector_paused``)."""
    size = 1
    while True:
        started = time.perf_counter()
        block = functools.partial(_made, make, list(itertools.islice(positions, size)))
        if keep:
            pairs = _loaded_with_collector_paused(block)
        else:
            with _collector_paused():
                pairs = block()
        if not pairs:
            return
        seconds = time.perf_counter() - started
        yield pairs
        size = max(1, min(MAX_CHUNK, 2 * size, round(SERIAL_BLOCK_SECONDS * len(pairs) / max(seconds, 1e-6))))


def _made(make: Callable[[int], tuple[Any, bytes | None]], seeds: list[int]) -> list[tuple[Any, bytes | None]]:
    return [make(seed) for seed in seeds]


def _row_blocks(
    pool: futures.Executor | None,
    env_id: str,
    positions: Iterator[int],
    difficulty: float,
    split: str | None,
    options: dict,
    chunking: tuple[int, int, int],
    keys: bool,
    encode: JoinedLines,
) -> Iterator[RowBlock]:
    """``_ordered_chunks``'s rows as ``RowBlock``s: a chunk each on ``pool``; serially, a block
    each of ``_serial_blocks``."""
    if pool is not None:
        yield from _pool_chunks(pool, env_id, positions, difficulty, split, options, chunking, keys, encode)
        return
    make = encoded_task_maker(env_id, difficulty, split, options, keys, encode)
    for pairs in _serial_blocks(make, positions, keep=False):
        yield _joined_rows(pairs, keys)


def _pool_chunks(
    pool: futures.Executor,
    env_id: str,
    positions: Iterator[int],
    difficulty: float,
    split: str | None,
    options: dict,
    chunking: tuple[int, int, int],
    keys: bool,
    encode: Callable[[Task], Any] | None,
) -> Iterator[Any]:
    """What ``_generate_chunk`` made of consecutive chunks of ``positions`` on ``pool``, a chunk
    at a time in order: ``chunking`` = (first chunk size, largest, chunks in flight); more are
    submitted as results are read, so memory stays flat in the count. Chunks grow from the
    first size towards ``CHUNK_SECONDS`` of work each (and at most ``CHUNK_BYTES``) as finished
    chunks show what a task costs, so cheap tasks are not drowned in inter-process overhead. A
    process pool's chunks come back through shared memory (``ChunkSegments``) where there is
    some."""
    pending: collections.deque = collections.deque()
    size, largest, window = chunking
    segments = None
    if isinstance(pool, futures.ProcessPoolExecutor):
        pixels = encode is None and get_spec(env_id).visual  # tasks with raw images, not rows with PNGs
        segments = ChunkSegments(window + 1, GUESSED_BYTES_PER_TASK[pixels], own_pages=pixels)

    def submit() -> bool:
        seeds = list(itertools.islice(positions, size))
        if seeds:
            segment = segments.lend(len(seeds)) if segments is not None else None
            job = (env_id, seeds, difficulty, split, options, keys, encode, segment)
            pending.append((pool.submit(_generate_chunk, job), segment))
        return bool(seeds)

    try:
        while len(pending) < window and submit():
            pass
        while pending:
            future, segment = pending.popleft()
            packed, made, seconds = future.result()
            packed_bytes = len(packed) if isinstance(packed, bytes) else sum(packed[1])
            if made:
                by_time = CHUNK_SECONDS * made / max(seconds, 1e-6)
                size = max(1, min(largest, round(by_time), CHUNK_BYTES * made // max(packed_bytes, 1)))
            if segments is not None:
                segments.learn(made, packed_bytes)
            submit()
            if isinstance(packed, bytes):
                items = unpack_chunk(packed)
            else:
                items = segments.load(*packed)
            if segments is not None:
                segments.give_back(segment)
            yield items
    finally:
        for future, _ in pending:
            future.cancel()
        if segments is not None:
            segments.close()


def _ray_positions(
    env_id: str,
    positions: Iterator[int],
    difficulty: float,
    split: str | None,
    options: dict,
    workers: int | None,
    address: str | None,
    block: int,
) -> Iterator[Task]:
    """The same tasks made on a Ray cluster, a block of consecutive positions at a time."""
    from rlvr.integrations import ray_backend

    while True:
        seeds = list(itertools.islice(positions, block))
        if not seeds:
            return
        extra = {"split": split} if split is not None else {}
        yield from ray_backend.iter_generate(
            env_id, len(seeds), seeds[0], difficulty, workers, address=address, **extra, **options
        )


def distinct_tasks(tasks: Iterable[Task], n: int, env_id: str, difficulty: float, split: str | None) -> Iterator[Task]:
    """The first ``n`` tasks of ``tasks`` with distinct ``problem_key``; FewerDistinctTasks when
    ``max(MIN_PATIENCE, found)`` tasks in a row bring nothing new (or the stream ends)."""
    return _distinct_keyed(((task, problem_key(task)) for task in tasks), n, env_id, difficulty, split)


def stream_positions(seed: int, n: int, allow_duplicates: bool) -> Iterator[int]:
    """The stream positions a set of ``n`` tasks from ``seed`` reads: exactly ``seed … seed+n-1``
    with duplicates allowed; else from ``seed`` on as far as needed (positions whose problem was
    seen are skipped), never past the end of ``SEED_RANGE`` (``_distinct_keyed`` then says so)."""
    return iter(range(seed, seed + n if allow_duplicates else SEED_RANGE[1] + 1))


def _distinct_keyed(
    pairs: Iterable[tuple[Task, bytes]],
    n: int,
    env_id: str,
    difficulty: float,
    split: str | None,
    seen: set[bytes] | None = None,
) -> Iterator[Task]:
    """``distinct_tasks`` of (task, problem_key) pairs whose keys are already known. ``seen``:
    the keys of tasks taken already, shared by a mixture's parts so that the whole set is unique
    (this stream's keys are added to it)."""
    seen = set() if seen is None else seen
    found = misses = draws = 0
    if n == 0:
        return
    for task, key in pairs:
        draws += 1
        if key in seen:
            misses += 1
            if misses >= max(MIN_PATIENCE, found):
                break
            continue
        misses = 0
        seen.add(key)
        found += 1
        yield task
        if found >= n:
            return
    else:  # the positions ran out
        raise SeedRangeEnded(env_id, difficulty, split, found, draws, n)
    raise FewerDistinctTasks(env_id, difficulty, split, found, draws, n)


def iter_generate(
    env_id: str,
    n: int,
    seed: int = 0,
    difficulty: float = 0.5,
    workers: int | None = 1,
    *,
    split: str | None = "train",
    allow_duplicates: bool = False,
    backend: str = "process",
    address: str | None = None,
    pool: futures.Executor | None = None,
    encode: Callable[[Task], Any] | None = None,
    **options: Any,
) -> Iterator[Any]:
    """``n`` tasks of ``split``'s stream from position ``seed`` on, in order: positions ``seed,
    seed+1, …``, skipping any task whose content an earlier one had unless ``allow_duplicates``
    (then exactly positions ``seed … seed+n-1``). Made in ``workers`` local processes
    (``backend="process"``; or on ``pool``, an executor the caller owns) or concurrent remote
    calls on the Ray cluster at ``address`` (``backend="ray"``; ``workers=None``: every CPU of
    the cluster). ``options`` as ``make_task``. The arguments are checked here; the tasks are
    made as the iterator is read, a bounded number ahead.

    ``encode``: a picklable function of a task (a writer's row: a JSON line, a Parquet row);
    the iterator then yields ``encode(task)`` for each task, computed where the task is made
    (in the local worker processes; with Ray, in the caller), so the caller's process only
    receives finished rows. The same tasks are chosen either way (uniqueness goes by the tasks'
    problem keys). ``encode=JoinedLines(line)``: a local stream yields ``RowBlock``s (a worker's
    chunk of lines joined into one bytes) instead of one row per task."""
    env_id = canonical_env_id(env_id)
    check_count("n", n)
    check_seed(int(seed), n)
    difficulty = canonical_difficulty(difficulty)
    check_workers(workers)
    check_split(split)
    if backend not in ("process", "ray"):
        raise ValueError(f"backend must be process or ray, got {backend!r}")
    positions = stream_positions(seed, n, allow_duplicates)
    if n == 0:
        return iter(())
    if backend == "ray":
        block = max(1, min(n + n // 8 + 16, 4096))
        made = _ray_positions(env_id, positions, difficulty, split, options, workers, address, block)
        tasks = made if allow_duplicates else distinct_tasks(made, n, env_id, difficulty, split)
        return tasks if encode is None else map(encode, tasks)
    return _iter_generate_locally(
        env_id, n, positions, difficulty, workers, split, allow_duplicates, options, pool, encode
    )


def _chunking(n: int, workers: int, visual: bool = False) -> tuple[int, int, int]:
    """(tasks in the first chunk, in the largest, chunks in flight) for ``n`` tasks on
    ``workers`` processes: small enough that a mixture's parts sharing one pool hold few tasks in
    memory, and that every worker gets a share of a small ``n``. A ``visual`` env's tasks take
    milliseconds and carry ~1 MB of pixels each: its first chunks hold at most
    ``FIRST_VISUAL_CHUNK``."""
    first = max(1, min(FIRST_VISUAL_CHUNK if visual else 32, n // (8 * workers)))
    return first, max(first, min(MAX_CHUNK, n // (2 * workers))), 2 * workers + 1


def _iter_generate_locally(
    env_id: str,
    n: int,
    positions: Iterator[int],
    difficulty: float,
    workers: int | None,
    split: str | None,
    allow_duplicates: bool,
    options: dict,
    pool: futures.Executor | None,
    encode: Callable[[Task], Any] | None,
    seen: set[bytes] | None = None,
) -> Iterator[Any]:
    count = workers or os.cpu_count() or 1
    with contextlib.ExitStack() as stack:
        if pool is None and count > 1 and n > 1:
            pool = stack.enter_context(running_executor(count, "process", preload=[(env_id, difficulty)]))
        if isinstance(encode, JoinedLines):
            making = (env_id, n, positions, difficulty, workers, split, allow_duplicates, options, pool, encode)
            yield from _row_cursor(stack, *making, seen).take(n)
            return
        made = _ordered_chunks(
            pool,
            env_id,
            positions,
            difficulty,
            split,
            options,
            _chunking(n, count, get_spec(env_id).visual),
            not allow_duplicates,
            encode,
        )
        stack.callback(made.close)  # before the pool waits: its chunks nobody will read are cancelled
        yield from (
            (task for task, _ in made)
            if allow_duplicates
            else _distinct_keyed(made, n, env_id, difficulty, split, seen)
        )


def _row_cursor(
    stack: contextlib.ExitStack,
    env_id: str,
    n: int,
    positions: Iterator[int],
    difficulty: float,
    workers: int | None,
    split: str | None,
    allow_duplicates: bool,
    options: dict,
    pool: futures.Executor | None,
    encode: JoinedLines,
    seen: set[bytes] | None,
) -> RowCursor | DistinctRowCursor:
    """``_iter_generate_locally``'s stream in ``RowBlock``s, read a number of rows at a time; its
    making stops when ``stack`` closes (before the pool waits: chunks nobody will read are
    cancelled)."""
    chunking = _chunking(n, workers or os.cpu_count() or 1, get_spec(env_id).visual)
    blocks = _row_blocks(pool, env_id, positions, difficulty, split, options, chunking, not allow_duplicates, encode)
    stack.callback(blocks.close)
    return RowCursor(blocks) if allow_duplicates else DistinctRowCursor(blocks, n, env_id, difficulty, split, seen)


class DistinctRowCursor:
    """``_distinct_keyed`` over keyed ``RowBlock``s, read as ``RowCursor`` is, up to ``n`` rows in
    all: the same rows kept (a row's key joins ``seen``, shared by a mixture's parts, as the row is
    taken, as a task's does when ``_distinct_keyed`` yields it) and the same
    ``FewerDistinctTasks``. Rows none of whose keys was seen or repeats among them are taken
    together with a few set operations; only a block with a repeat is looked at row by row."""

    def __init__(
        self,
        blocks: Iterable[RowBlock],
        n: int,
        env_id: str,
        difficulty: float,
        split: str | None,
        seen: set[bytes] | None = None,
    ) -> None:
        self._blocks = iter(blocks)
        self._block: RowBlock | None = None
        self._at = 0
        self._stream = (env_id, difficulty, split)
        self._n = n
        self._seen = set() if seen is None else seen
        self._found = self._misses = self._draws = 0

    def _fewer(self) -> FewerDistinctTasks:
        return FewerDistinctTasks(*self._stream, self._found, self._draws, self._n)

    def take(self, count: int) -> Iterator[RowBlock]:
        """The next ``count`` distinct rows (fewer where ``n`` are taken), as blocks, none empty;
        FewerDistinctTasks as ``_distinct_keyed`` raises it, after the rows found before it."""
        count = min(count, self._n - self._found)
        seen = self._seen
        while count > 0:
            block, start = self._block, self._at
            if block is None or start >= len(block):
                self._block, self._at = next(self._blocks, None), 0
                if self._block is None:  # the positions ran out
                    raise SeedRangeEnded(*self._stream, self._found, self._draws, self._n)
                continue
            keys = block.keys
            window = keys[start : start + count]
            if seen.isdisjoint(window) and len(set(window)) == len(window):  # all new: taken at once
                seen.update(window)
                self._at = start + len(window)
                self._found += len(window)
                self._draws += len(window)
                self._misses = 0
                count -= len(window)
                yield block.rows(start, self._at)
                continue
            # The row-by-row choice, a gap of repeats at a time: a row is new when its key was not
            # seen and is the first of its kind in the window; each repeat adds a miss, a new row
            # clears them, and misses reaching max(MIN_PATIENCE, found) end the stream there.
            first = dict(zip(reversed(window), range(len(window) - 1, -1, -1)))  # each key's first row
            fresh = [index for index, key in enumerate(window) if first[key] == index and key not in seen]
            found, misses, examined, previous, exhausted = self._found, self._misses, len(window), -1, False
            for number, index in enumerate([*fresh, len(window)]):  # the window's end closes the last gap
                limit = max(MIN_PATIENCE, found + number)
                if misses + index - previous - 1 >= limit:
                    examined, exhausted, fresh = previous + limit - misses + 1, True, fresh[:number]
                    break
                misses = 0 if index < len(window) else misses + index - previous - 1
                previous = index
            seen.update(window[index] for index in fresh)
            self._found = found + len(fresh)
            self._misses = misses
            self._draws += examined
            self._at = start + examined
            count -= len(fresh)
            if fresh:
                yield block.picked([start + index for index in fresh])
            if exhausted:
                raise self._fewer()


def generate(
    env_id: str,
    n: int,
    seed: int = 0,
    difficulty: float = 0.5,
    workers: int | None = 1,
    *,
    split: str | None = "train",
    allow_duplicates: bool = False,
    backend: str = "process",
    address: str | None = None,
    **options: Any,
) -> list[Task]:
    """``iter_generate``'s tasks as a list; ``n=0`` gives ``[]``, a negative ``n`` raises ValueError."""
    return list(
        iter_generate(
            env_id,
            n,
            seed,
            difficulty,
            workers,
            split=split,
            allow_duplicates=allow_duplicates,
            backend=backend,
            address=address,
            **options,
        )
    )


# --------------------------------------------------------------------------------------------
# Mixtures
# --------------------------------------------------------------------------------------------


def largest_remainder_shares(weights: dict[Any, float], n: int) -> dict[Any, int]:
    """How many of ``n`` each key gets: proportional to its weight, the rounding left over going
    to the largest remainders (ties: the earlier key). Weights must be ≥ 0 with a positive sum."""
    if not weights or any(not w >= 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise ValueError(f"a mixture needs weights ≥ 0 with a positive sum, got {weights!r}")
    total = sum(weights.values())
    exact = {key: n * weight / total for key, weight in weights.items()}
    counts = {key: int(share) for key, share in exact.items()}
    order = list(weights)
    by_remainder = sorted(order, key=lambda key: (-(exact[key] - counts[key]), order.index(key)))
    for key in by_remainder[: n - sum(counts.values())]:
        counts[key] += 1
    return counts


@dataclass(frozen=True)
class MixPart:
    """One (env, difficulty, options) of a mixture and how many tasks it contributes."""

    env_id: str
    difficulty: float
    options: dict
    count: int

    def to_dict(self) -> dict:
        return {"env_id": self.env_id, "difficulty": self.difficulty, "options": self.options, "count": self.count}


def mix_parts(envs: Any, n: int, difficulty: float | Sequence[float] | None = None) -> list[MixPart]:
    """The parts of a mixture of ``n`` tasks. ``envs`` is the trainer config's ``envs`` format
    (``rlvr.trainers.config.parse_envs``): an env id, a list of ids (equal weights) or of
    ``{id, weight, difficulty, options}`` entries, or a mapping env id → weight or such an
    entry; an entry's ``difficulty`` is a number or a list the env's share is spread over
    evenly. ``difficulty`` is used for entries that name none (default 0.5). Shares by
    ``largest_remainder_shares``; parts with no tasks are dropped."""
    from rlvr.trainers.config import env_entries, parse_envs

    check_count("n", n)
    fallback = 0.5 if difficulty is None else difficulty
    raw = [{"id": e} if isinstance(e, str) else e for e in env_entries(envs)]
    entries = parse_envs([{"difficulty": fallback, **e} if isinstance(e, dict) else e for e in raw])
    if not entries:
        raise ValueError("a mixture needs at least one env")
    weights = {index: float(e.weight) for index, e in enumerate(entries)}
    if not all(math.isfinite(w) and w >= 0 for w in weights.values()) or sum(weights.values()) <= 0:
        named = ", ".join(f"{e.id}: {e.weight!r}" for e in entries)
        raise ValueError(f"a mixture needs finite weights ≥ 0, not all 0, got {named}; give some env a positive weight")
    shares = largest_remainder_shares(weights, n)
    parts = []
    for index, entry in enumerate(entries):
        env_id = canonical_env_id(entry.id)
        named = entry.difficulty
        levels = [canonical_difficulty(d) for d in (named if isinstance(named, (list, tuple)) else [named])]
        if not levels:
            raise ValueError(f"{env_id}: difficulty is an empty list")
        for level, count in largest_remainder_shares(dict.fromkeys(range(len(levels)), 1.0), shares[index]).items():
            if count:
                parts.append(MixPart(env_id, levels[level], dict(entry.options or {}), count))
    return parts


#: The verifier options that say how an answer is judged: the only ones an exported row carries
#: (``iter_generate_mix(with_options=True)``) and a reader of rows takes from one. The others --
#: the sandbox and its escape hatch, time and memory limits, container images, directories --
#: belong to the host that scores and come from its caller only: a row is data, and a shared file
#: must not switch off the sandbox that runs candidates (red team s14 second pass, R2-1: a row
#: with ``sandbox="unsafe-none"`` ran a response on the host).
ROW_VERIFIER_OPTIONS = frozenset({"partial", "shortest", "ordered", "units", "tolerance", "scoring"})


def iter_generate_mix(
    envs: Any,
    n: int,
    seed: int = 0,
    difficulty: float | Sequence[float] | None = None,
    workers: int | None = 1,
    *,
    split: str | None = "train",
    allow_duplicates: bool = False,
    encode: Callable[[Task], Any] | None = None,
    with_options: bool = False,
    **options: Any,
) -> Iterator[Any]:
    """The tasks of ``mix_parts(envs, n, difficulty)``, each part the ``iter_generate`` stream of
    its (env, difficulty, options) from position ``seed``, interleaved in an order fixed by
    ``seed`` (a seeded shuffle of the part labels). Unless ``allow_duplicates``, no problem
    (``problem_key``) appears twice in the whole mixture: a part skips a task whose problem an
    earlier task of any part posed (one env at two difficulties, or Game24 and Countdown, can
    pose the same one), so a part is its env's stream less those. ``options`` apply to every part (an entry's
    own options win). Local processes only; one pool serves every part. ``encode`` as
    ``iter_generate``'s (made in the workers). The arguments are checked here; the tasks are
    made as the iterator is read.

    Verifier options (``ordered=True``, ``partial=True``…, in ``options`` or an entry's) are
    checked as ``gym.make`` checks them (a bad value raises ValueError naming the env, the option
    and the rule) but are no part of a task (red team s14 B2: they were accepted and dropped, so
    an exported set was rewarded by the default verifier). With ``with_options`` each item is a
    pair (task, the verifier options of its env: a dict, empty for an env given none), which the
    exporters of ``rlvr.integrations`` write into each row and their reward functions apply;
    then one env's entries must share their verifier options (a row names its env, not its
    entry), they must be scoring options (``ROW_VERIFIER_OPTIONS``; the host's, such as
    ``sandbox``, raise), and ``encode`` must be None. Without it, verifier options raise ValueError rather
    than be dropped."""
    check_workers(workers)
    check_split(split)
    check_seed(int(seed), n)
    parts = mix_parts(envs, n, difficulty)
    carried: dict[str, dict] = {}
    for part in parts:
        verifier = group_options(part.env_id, {**options, **part.options}).verifier
        try:
            make_verifier(part.env_id, **verifier)
        except (TypeError, ValueError) as error:
            given = ", ".join(f"{name}={value!r}" for name, value in verifier.items())
            raise ValueError(f"{part.env_id}: verifier option {given} refused: {error}") from None
        if carried.setdefault(part.env_id, verifier) != verifier:
            raise ValueError(
                f"{part.env_id} has entries with different verifier options ({carried[part.env_id]} and "
                f"{verifier}): an exported row names its env, not its entry; give them one set of options"
            )
    if not with_options:
        for env_id, verifier in carried.items():
            if verifier:
                raise ValueError(
                    f"{env_id}: verifier option {', '.join(map(repr, verifier))} is no part of a task and would be "
                    "dropped: give it to the verifier (gym.make, rlvr.verify(task, response, **options)), or "
                    "export with rlvr.integrations (verl.export_mix, trl.dataset, hf.dataset carry it per row)"
                )
        return _interleave(parts, n, seed, workers, split, allow_duplicates, options, encode)
    for env_id, verifier in carried.items():
        host = sorted(set(verifier) - ROW_VERIFIER_OPTIONS)
        if host:
            raise ValueError(
                f"{env_id}: verifier option {', '.join(map(repr, host))} belongs to the host that scores, not to "
                "a row: give it where the rows are scored (compute_score's reward_kwargs, trl.reward_function)"
            )
    if encode is not None:
        raise ValueError("iter_generate_mix: with_options pairs tasks with their options; leave encode None")
    tasks = _interleave(parts, n, seed, workers, split, allow_duplicates, options, None)
    return ((task, carried[task.env_id]) for task in tasks)


def _interleave(
    parts: list[MixPart],
    n: int,
    seed: int,
    workers: int | None,
    split: str | None,
    allow_duplicates: bool,
    options: dict,
    encode: Callable[[Task], Any] | None,
) -> Iterator[Any]:
    order = [index for index, part in enumerate(parts) for _ in range(part.count)]
    if len(parts) > 1:  # one part's order is the same either way
        random.Random(f"rlvr-mix|{int(seed)}").shuffle(order)
    count = workers or os.cpu_count() or 1
    with contextlib.ExitStack() as stack:
        preload = [(part.env_id, part.difficulty) for part in parts]
        pool = stack.enter_context(running_executor(count, "process", preload)) if count > 1 and n > 1 else None
        seen: set[bytes] = set()  # one set for every part: no problem twice in the whole mixture

        def stream_arguments(part: MixPart) -> tuple:
            """``_iter_generate_locally``'s (and ``_row_cursor``'s) arguments for ``part``."""
            positions = stream_positions(seed, part.count, allow_duplicates)
            part_options = group_options(part.env_id, {**options, **part.options}).for_tasks()
            return (
                part.env_id,
                part.count,
                positions,
                part.difficulty,
                workers,
                split,
                allow_duplicates,
                part_options,
                pool,
                encode,
                seen,
            )

        if isinstance(encode, JoinedLines):  # a run of one part's rows in the order: slices of its blocks
            cursors = [_row_cursor(stack, *stream_arguments(part)) for part in parts]
            for index, run in itertools.groupby(order):
                yield from cursors[index].take(sum(1 for _ in run))
            return
        streams = [_iter_generate_locally(*stream_arguments(part)) for part in parts]
        for stream in streams:  # closed before the pool waits, as in _iter_generate_locally
            stack.callback(stream.close)
        for index in order:
            yield next(streams[index])


def generate_mix(
    envs: Any,
    n: int,
    seed: int = 0,
    difficulty: float | Sequence[float] | None = None,
    workers: int | None = 1,
    *,
    split: str | None = "train",
    allow_duplicates: bool = False,
    with_options: bool = False,
    **options: Any,
) -> list[Any]:
    """``iter_generate_mix``'s tasks (or, ``with_options``, its (task, verifier options) pairs) as a list."""
    return list(
        iter_generate_mix(
            envs,
            n,
            seed,
            difficulty,
            workers,
            split=split,
            allow_duplicates=allow_duplicates,
            with_options=with_options,
            **options,
        )
    )


DISTINCT_SAMPLE = 128


def distinct_estimate(draws: int, distinct: int) -> tuple[str, float]:
    """(relation, count): the number of distinct tasks a stream holds, from ``distinct`` different
    tasks in ``draws`` uniform draws. With repeats, the K that solves ``distinct = K(1 - (1 -
    1/K)^draws)`` ("~"); with none, the 95% lower bound ``draws²/6`` (no collision among
    ``draws`` has probability about ``exp(-draws²/2K)``) (">")."""
    if draws <= 1 or distinct >= draws:
        return ">", draws * (draws - 1) / 6 if draws > 1 else float(draws)
    low, high = float(distinct), float(distinct) * 1e9
    for _ in range(200):
        middle = (low + high) / 2
        expected = middle * (1 - (1 - 1 / middle) ** draws) if middle > 1 else 1.0
        low, high = (middle, high) if expected < distinct else (low, middle)
    return "~", (low + high) / 2


def source_digest(root: Path | None = None) -> str:
    """A short hash of the code that makes tasks: every ``.py`` file of the ``rlvr`` package
    (``root``, default the installed one) by relative path and contents. Any file may shape a
    family's tasks (the shared generator modules, ``problem_forms``, ``corpus``, the key logic
    here), so a change anywhere makes cached estimates stale. Hashed once per process for the
    installed package (~3 MB, a few milliseconds)."""
    if root is None:
        global _SOURCE_DIGEST
        if _SOURCE_DIGEST is None:
            _SOURCE_DIGEST = source_digest(Path(__file__).resolve().parent)
        return _SOURCE_DIGEST
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(f"{path.relative_to(root).as_posix()}\0{path.stat().st_size}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


_SOURCE_DIGEST: str | None = None


def estimate_distinct(
    env_id: str, difficulty: float, sample: int = DISTINCT_SAMPLE, seed: int = 0, **options: Any
) -> dict:
    """An estimate of how many distinct tasks (problems: ``problem_key``) (env, difficulty) has,
    from ``sample`` tasks of the raw seed stream (``distinct_estimate``): ``{"sample",
    "distinct", "relation", "estimate"}``; in dataset mode the exact row count (relation ``=``).
    Cached per (env, difficulty, sample, options, package source: ``source_digest``) in
    ``$XDG_CACHE_HOME/rlvr/distinct.json`` (default ``~/.cache``), so ``rlvr list`` and ``rlvr
    info`` pay for it once."""
    env_id = canonical_env_id(env_id)
    difficulty = canonical_difficulty(difficulty)
    spec = get_spec(env_id)
    generator_kwargs, _, params = split_options(spec, options)
    rows = make_generator(env_id, **generator_kwargs).dataset_rows
    if rows and not params:  # dataset mode: seed s is row s mod len(rows), so the count is exact
        return {"sample": len(rows), "distinct": len(rows), "relation": "=", "estimate": len(rows)}
    key = f"problems|{env_id}|{difficulty}|{sample}|{seed}|{_freeze(options)}|{source_digest()}"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rlvr" / "distinct.json"
    try:
        stored = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stored = {}
    if key not in stored:
        generator = make_generator(env_id, **generator_kwargs)
        keys = {
            problem_key(t, generator)
            for t in iter_generate(env_id, sample, seed, difficulty, split=None, allow_duplicates=True, **options)
        }
        relation, estimate = distinct_estimate(sample, len(keys))
        stored[key] = {"sample": sample, "distinct": len(keys), "relation": relation, "estimate": round(estimate)}
        with contextlib.suppress(OSError):
            cache.parent.mkdir(parents=True, exist_ok=True)
            temporary = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
            temporary.write_text(json.dumps(stored, sort_keys=True), encoding="utf-8")
            os.replace(temporary, cache)
    return stored[key]


def describe_distinct(row: dict) -> str:
    """``~1,200`` or ``>680``: an ``estimate_distinct`` result in a few characters."""
    return f"{row['relation']}{row['estimate']:,}"


PROFILE_POINTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def difficulty_profile(
    table: DifficultyTable, points: Sequence[float] = PROFILE_POINTS, generator: TaskGenerator | None = None
) -> dict[str, list]:
    """Each parameter's value at each of ``points`` (default d = 0, .25, .5, .75, 1): the table's,
    or as ``generator`` resolves them (a variant such as Game24-v0 pins some)."""
    resolved = [table.resolve(d) if generator is None else generator.resolve(d, {}) for d in points]
    return {key: [row[key] for row in resolved] for key in table.keys}


def describe_difficulty(table: DifficultyTable, generator: TaskGenerator | None = None) -> str:
    """One line: each parameter the knob moves with its values at d = 0, .25, .5, .75 and 1
    (``rows 5→11→20→31→41``), so a table that rises and falls again shows it; fixed
    parameters only when nothing moves. ``generator``: as in ``difficulty_profile``."""
    profile = difficulty_profile(table, generator=generator)
    moving = {k: v for k, v in profile.items() if len(set(map(repr, v))) > 1}
    if not moving:
        return table.describe()
    return ", ".join(f"{k} " + "→".join(describe_value(value) for value in values) for k, values in moving.items())


def list_envs() -> list[dict]:
    """Every registered env: id, one-line description, ``visual``, and ``difficulty``: each
    parameter the knob moves with its values at d = 0, 0.25, 0.5, 0.75 and 1."""
    return [
        {
            "id": spec.id,
            "description": spec.description,
            "difficulty": describe_difficulty(
                spec.family.table, make_generator(spec.id) if spec.generator_kwargs else None
            ),
            "visual": spec.visual,
        }
        for spec in ENV_SPECS
    ]


if WORKER_SERVER_GENERATORS in os.environ:  # this process is the worker server
    _build_worker_server_generators()
