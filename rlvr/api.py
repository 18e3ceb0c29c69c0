"""The public functions: make, solve and verify tasks one at a time or in bulk.

``make_task(env_id, seed, difficulty, **options)``  the task of (env, seed, difficulty)
``solve(task)``                                     the reference response, scored correct
``verify(task, response)``                          a Verdict; never raises
``verify_batch(tasks, responses, workers, backend)`` Verdicts in order; backend ``serial``,
                                                    ``thread``, ``process`` or ``ray``
``generate(env_id, n, seed, difficulty, workers)``   tasks for seeds seed … seed+n-1; ``backend``
                                                    ``process`` (local processes) or ``ray``
``list_envs()``                                     (id, description, difficulty parameters)

Env ids may omit the ``rlvr/`` prefix (``"Maze-v0"``). Bad arguments raise at once, naming the
argument: an unknown env id (KeyError, with the closest ids), ``difficulty`` outside [0, 1] or
not a number, ``n`` negative or not a whole number, ``workers`` < 1, an unknown task parameter
(ValueError).

Generators and verifiers are cached per (env, constructor options) so a verifier with a warm
worker (math) is reused across calls in one process.

``backend="ray"`` runs the same work on a Ray cluster (``address``: None starts a local Ray,
``"auto"`` or ``"ray://host:10001"`` joins one; an already initialised Ray is used as it is), in
``workers`` concurrent remote calls; see ``rlvr.integrations.ray_backend``.
"""

from __future__ import annotations

import concurrent.futures as futures
import contextlib
import functools
import json
import multiprocessing
import numbers
import os
import signal
from typing import Any, Iterable, Iterator, Sequence

from rlvr.core import DifficultyTable, Task, Verdict, _short, canonical_difficulty
from rlvr.envs.registry import ENV_SPECS, build_generator, build_verifier, canonical_env_id, get_spec, split_options


def _freeze(options: dict) -> str:
    return json.dumps(options, sort_keys=True, default=str)


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


def make_task(env_id: str, seed: int = 0, difficulty: float = 0.5, **options: Any) -> Task:
    """The task that ``gym.make(env_id, difficulty=…, **options).reset(seed=seed)`` would serve.

    ``options`` are generator constructor options (``dataset=``) and task parameters (which win
    over the difficulty knob); verifier options are ignored here."""
    generator_kwargs, _, params = split_options(get_spec(env_id), options)
    return make_generator(env_id, **generator_kwargs).generate(seed, difficulty, **params)


def generation_options(env_id: str, options: dict) -> dict:
    """``options`` without the env's verifier options: what ``generate`` needs of a set of
    ``gym.make`` options (a verifier option may share a name with ``generate``'s own
    arguments, e.g. Code-v0's sandbox ``backend``)."""
    generator_kwargs, _, params = split_options(get_spec(env_id), options)
    return {**generator_kwargs, **params}


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
    return {"dataset": task.meta["dataset"]} if "dataset" in task.meta and "dataset" in get_spec(task.env_id).generator_options else {}


def _ignore_interrupts() -> None:
    """Worker processes leave Ctrl-C to their parent, which shuts the pool down."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def make_executor(workers: int | None, backend: str) -> futures.Executor:
    """``workers`` threads (``backend="thread"``) or forkserver processes (otherwise)."""
    count = workers or os.cpu_count() or 1
    if backend == "thread":
        return futures.ThreadPoolExecutor(count)
    return futures.ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("forkserver"), initializer=_ignore_interrupts)


@contextlib.contextmanager
def running_executor(workers: int | None, backend: str) -> Iterator[futures.Executor]:
    """``make_executor`` for one block: waits for the workers when the block completes; on an
    exception (Ctrl-C, or a generator closed early) cancels the queued work and ends worker
    processes at once instead of letting them finish their chunks."""
    pool = make_executor(workers, backend)
    try:
        yield pool
    except BaseException:
        stop_executor(pool)
        raise
    pool.shutdown(wait=True)


def stop_executor(pool: futures.Executor) -> None:
    """Cancel what has not started; terminate worker processes (threads cannot be stopped)."""
    terminate = getattr(pool, "terminate_workers", None)  # Python ≥ 3.14
    if terminate is not None:
        terminate()
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())  # shutdown forgets them
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()


def check_count(name: str, value: Any, minimum: int = 0) -> int:
    """``value`` if it is a whole number ≥ ``minimum``; else a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be a whole number ≥ {minimum}, got {value!r}")
    return int(value)


def check_workers(workers: Any) -> int | None:
    """``workers``: None (every CPU) or a whole number ≥ 1."""
    return None if workers is None else check_count("workers", workers, 1)


def _verify_pair(pair: tuple[Task, Any]) -> Verdict:
    return verify(*pair)


def verify_batch(tasks: Sequence[Task], responses: Sequence[Any], workers: int | None = None, backend: str = "process",
                 *, address: str | None = None) -> list[Verdict]:
    """Verify many (task, response) pairs; verdicts come back in input order. ``workers``
    threads or processes (None: every CPU); ``address`` is the Ray cluster of ``backend="ray"``."""
    check_workers(workers)
    if len(tasks) != len(responses):
        raise ValueError(f"{len(tasks)} tasks but {len(responses)} responses")
    if backend not in ("serial", "thread", "process", "ray"):
        raise ValueError(f"backend must be serial, thread, process or ray, got {backend!r}")
    if backend == "ray":
        from rlvr.integrations import ray_backend

        return ray_backend.verify_batch(tasks, responses, workers, address=address)
    pairs = list(zip(tasks, responses))
    if backend == "serial" or workers == 1 or len(pairs) < 2:
        return [_verify_pair(pair) for pair in pairs]
    with running_executor(workers, backend) as pool:
        return list(pool.map(_verify_pair, pairs, chunksize=max(1, len(pairs) // (4 * (workers or os.cpu_count() or 1)))))


def _generate_one(job: tuple[str, int, float, dict]) -> Task:
    env_id, seed, difficulty, options = job
    return make_task(env_id, seed, difficulty, **options)


def iter_generate(env_id: str, n: int, seed: int = 0, difficulty: float = 0.5, workers: int | None = 1, *,
                  backend: str = "process", address: str | None = None, **options: Any) -> Iterable[Task]:
    """Tasks for seeds ``seed … seed+n-1`` in order, made in ``workers`` local processes
    (``backend="process"``) or concurrent remote calls on the Ray cluster at ``address``
    (``backend="ray"``; ``workers=None``: every CPU of the cluster). ``options`` as
    ``make_task``. The arguments are checked here; the tasks are made as the iterator is read."""
    env_id = canonical_env_id(env_id)
    check_count("n", n)
    canonical_difficulty(difficulty)
    check_workers(workers)
    if backend not in ("process", "ray"):
        raise ValueError(f"backend must be process or ray, got {backend!r}")
    if backend == "ray":
        from rlvr.integrations import ray_backend

        return ray_backend.iter_generate(env_id, n, seed, difficulty, workers, address=address, **options)
    return _iter_generate_locally(env_id, n, seed, difficulty, workers, options)


def _iter_generate_locally(env_id: str, n: int, seed: int, difficulty: float, workers: int | None, options: dict) -> Iterator[Task]:
    jobs = [(env_id, seed + i, difficulty, options) for i in range(n)]
    if workers == 1 or n < 2:
        yield from map(_generate_one, jobs)
        return
    with running_executor(workers, "process") as pool:
        yield from pool.map(_generate_one, jobs, chunksize=max(1, min(256, n // (8 * (workers or os.cpu_count() or 1)))))


def generate(env_id: str, n: int, seed: int = 0, difficulty: float = 0.5, workers: int | None = 1, *,
             backend: str = "process", address: str | None = None, **options: Any) -> list[Task]:
    """The tasks of seeds ``seed … seed+n-1`` at ``difficulty``, as a list (see ``iter_generate``
    for the arguments); ``n=0`` gives ``[]``, a negative ``n`` raises ValueError."""
    return list(iter_generate(env_id, n, seed, difficulty, workers, backend=backend, address=address, **options))


PROFILE_POINTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def difficulty_profile(table: DifficultyTable, points: Sequence[float] = PROFILE_POINTS) -> dict[str, list]:
    """Each parameter's value at each of ``points`` (default d = 0, .25, .5, .75, 1)."""
    resolved = [table.resolve(d) for d in points]
    return {key: [row[key] for row in resolved] for key in table.keys}


def describe_difficulty(table: DifficultyTable) -> str:
    """One line: each parameter the knob moves with its values at d = 0, .25, .5, .75 and 1
    (``rows 5→11→20→31→41``), so a table that rises and falls again shows it; fixed
    parameters only when nothing moves."""
    profile = difficulty_profile(table)
    moving = {k: v for k, v in profile.items() if any(table.anchors[p][k] != table.anchors[0.0][k] for p in table.points)}
    if not moving:
        return table.describe()
    return ", ".join(f"{k} " + "→".join(_short(value) for value in values) for k, values in moving.items())


def list_envs() -> list[dict]:
    """Every registered env: id, one-line description, ``visual``, and ``difficulty``: each
    parameter the knob moves with its values at d = 0, 0.25, 0.5, 0.75 and 1."""
    rows = []
    for spec in ENV_SPECS:
        try:
            table = describe_difficulty(build_generator(spec).table)
        except Exception as error:  # an env whose optional dependency is missing still lists
            table = f"(unavailable: {type(error).__name__}: {error})"
        rows.append({"id": spec.id, "description": spec.description, "difficulty": table, "visual": spec.visual})
    return rows
