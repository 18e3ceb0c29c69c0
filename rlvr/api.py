"""The public functions: make, solve and verify tasks one at a time or in bulk.

``make_task(env_id, seed, difficulty, **options)``  the task of (env, seed, difficulty)
``solve(task)``                                     the reference response, scored correct
``verify(task, response)``                          a Verdict; never raises
``verify_batch(tasks, responses, workers, backend)`` Verdicts in order; backend ``serial``,
                                                    ``thread``, ``process`` or ``ray``
``generate(env_id, n, seed, difficulty, workers)``   tasks for seeds seed … seed+n-1; ``backend``
                                                    ``process`` (local processes) or ``ray``
``list_envs()``                                     (id, description, difficulty parameters)

Generators and verifiers are cached per (env, constructor options) so a verifier with a warm
worker (math) is reused across calls in one process.

``backend="ray"`` runs the same work on a Ray cluster (``address``: None starts a local Ray,
``"auto"`` or ``"ray://host:10001"`` joins one; an already initialised Ray is used as it is), in
``workers`` concurrent remote calls; see ``rlvr.integrations.ray_backend``.
"""

from __future__ import annotations

import concurrent.futures as futures
import functools
import json
import multiprocessing
import os
from typing import Any, Iterable, Iterator, Sequence

from rlvr.core import Task, Verdict
from rlvr.envs.registry import ENV_SPECS, build_generator, build_verifier, get_spec, split_options


def _freeze(options: dict) -> str:
    return json.dumps(options, sort_keys=True, default=str)


@functools.lru_cache(maxsize=64)
def _cached_generator(env_id: str, frozen_options: str):
    return build_generator(get_spec(env_id), **json.loads(frozen_options))


@functools.lru_cache(maxsize=64)
def _cached_verifier(env_id: str, frozen_options: str):
    return build_verifier(get_spec(env_id), **json.loads(frozen_options))


def make_generator(env_id: str, **generator_options: Any):
    return _cached_generator(env_id, _freeze(generator_options))


def make_verifier(env_id: str, **verifier_options: Any):
    return _cached_verifier(env_id, _freeze(verifier_options))


def make_task(env_id: str, seed: int = 0, difficulty: float = 0.5, **options: Any) -> Task:
    """The task that ``gym.make(env_id, difficulty=…, **options).reset(seed=seed)`` would serve."""
    generator_kwargs, _, params = split_options(get_spec(env_id), options)
    return make_generator(env_id, **generator_kwargs).generate(seed, difficulty, **params)


def generation_options(env_id: str, options: dict) -> dict:
    """``options`` without the env's verifier options: what ``generate`` needs of a set of
    ``gym.make`` options (a verifier option may share a name with ``generate``'s own
    arguments, e.g. Code-v0's sandbox ``backend``)."""
    generator_kwargs, _, params = split_options(get_spec(env_id), options)
    return {**generator_kwargs, **params}


def solve(task: Task) -> str:
    return make_generator(task.env_id, **_generator_options_of(task)).solve(task)


def verify(task: Task, response: Any, **verifier_options: Any) -> Verdict:
    return make_verifier(task.env_id, **verifier_options).verify(task, response)


def _generator_options_of(task: Task) -> dict:
    """Dataset tasks remember their file so ``solve`` needs no extra argument."""
    return {"dataset": task.meta["dataset"]} if "dataset" in task.meta and "dataset" in get_spec(task.env_id).generator_options else {}


def make_executor(workers: int | None, backend: str) -> futures.Executor:
    """``workers`` threads (``backend="thread"``) or forkserver processes (otherwise)."""
    count = workers or os.cpu_count() or 1
    if backend == "thread":
        return futures.ThreadPoolExecutor(count)
    return futures.ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("forkserver"))


def _verify_pair(pair: tuple[Task, Any]) -> Verdict:
    return verify(*pair)


def verify_batch(tasks: Sequence[Task], responses: Sequence[Any], workers: int | None = None, backend: str = "process",
                 *, address: str | None = None) -> list[Verdict]:
    """Verify many (task, response) pairs; verdicts come back in input order. ``address`` is
    the Ray cluster of ``backend="ray"``."""
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
    with make_executor(workers, backend) as pool:
        return list(pool.map(_verify_pair, pairs, chunksize=max(1, len(pairs) // (4 * (workers or os.cpu_count() or 1)))))


def _generate_one(job: tuple[str, int, float, dict]) -> Task:
    env_id, seed, difficulty, options = job
    return make_task(env_id, seed, difficulty, **options)


def iter_generate(env_id: str, n: int, seed: int = 0, difficulty: float = 0.5, workers: int | None = 1, *,
                  backend: str = "process", address: str | None = None, **options: Any) -> Iterable[Task]:
    """Tasks for seeds ``seed … seed+n-1`` in order, made in ``workers`` local processes
    (``backend="process"``) or concurrent remote calls on the Ray cluster at ``address``
    (``backend="ray"``; ``workers=None``: every CPU of the cluster)."""
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
    with make_executor(workers, "process") as pool:
        yield from pool.map(_generate_one, jobs, chunksize=max(1, min(256, n // (8 * (workers or os.cpu_count() or 1)))))


def generate(env_id: str, n: int, seed: int = 0, difficulty: float = 0.5, workers: int | None = 1, *,
             backend: str = "process", address: str | None = None, **options: Any) -> list[Task]:
    return list(iter_generate(env_id, n, seed, difficulty, workers, backend=backend, address=address, **options))


def list_envs() -> list[dict]:
    """Every registered env: id, one-line description, and its difficulty parameter ranges."""
    rows = []
    for spec in ENV_SPECS:
        try:
            table = build_generator(spec).table.describe()
        except Exception as error:  # an env whose optional dependency is missing still lists
            table = f"(unavailable: {type(error).__name__}: {error})"
        rows.append({"id": spec.id, "description": spec.description, "difficulty": table, "visual": spec.visual})
    return rows
