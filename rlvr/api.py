"""The public functions: make, solve and verify tasks one at a time or in bulk.

``make_task(env_id, seed, difficulty, **options)``  the task of (env, seed, difficulty)
``solve(task)``                                     the reference response, scored correct
``verify(task, response)``                          a Verdict; never raises
``verify_batch(tasks, responses, workers, backend)`` Verdicts in order; backend ``serial``,
                                                    ``thread`` or ``process``
``generate(env_id, n, seed, difficulty, workers)``   tasks for seeds seed … seed+n-1
``list_envs()``                                     (id, description, difficulty parameters)

Generators and verifiers are cached per (env, constructor options) so a verifier with a warm
worker (math) is reused across calls in one process.
"""

from __future__ import annotations

import concurrent.futures as futures
import functools
import json
import multiprocessing
import os
from typing import Any, Iterable, Sequence

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


def solve(task: Task) -> str:
    return make_generator(task.env_id, **_generator_options_of(task)).solve(task)


def verify(task: Task, response: Any, **verifier_options: Any) -> Verdict:
    return make_verifier(task.env_id, **verifier_options).verify(task, response)


def _generator_options_of(task: Task) -> dict:
    """Dataset tasks remember their file so ``solve`` needs no extra argument."""
    return {"dataset": task.meta["dataset"]} if "dataset" in task.meta and "dataset" in get_spec(task.env_id).generator_options else {}


def _pool(workers: int | None, backend: str) -> futures.Executor:
    count = workers or os.cpu_count() or 1
    if backend == "thread":
        return futures.ThreadPoolExecutor(count)
    return futures.ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("forkserver"))


def _verify_pair(pair: tuple[Task, Any]) -> Verdict:
    return verify(*pair)


def verify_batch(tasks: Sequence[Task], responses: Sequence[Any], workers: int | None = None, backend: str = "process") -> list[Verdict]:
    """Verify many (task, response) pairs; verdicts come back in input order."""
    if len(tasks) != len(responses):
        raise ValueError(f"{len(tasks)} tasks but {len(responses)} responses")
    if backend not in ("serial", "thread", "process"):
        raise ValueError(f"backend must be serial, thread or process, got {backend!r}")
    pairs = list(zip(tasks, responses))
    if backend == "serial" or workers == 1 or len(pairs) < 2:
        return [_verify_pair(pair) for pair in pairs]
    with _pool(workers, backend) as pool:
        return list(pool.map(_verify_pair, pairs, chunksize=max(1, len(pairs) // (4 * (workers or os.cpu_count() or 1)))))


def _generate_one(job: tuple[str, int, float, dict]) -> Task:
    env_id, seed, difficulty, options = job
    return make_task(env_id, seed, difficulty, **options)


def iter_generate(env_id: str, n: int, seed: int = 0, difficulty: float = 0.5, workers: int | None = 1, **options: Any) -> Iterable[Task]:
    """Tasks for seeds ``seed … seed+n-1`` in order, made in ``workers`` processes."""
    jobs = [(env_id, seed + i, difficulty, options) for i in range(n)]
    if workers == 1 or n < 2:
        yield from map(_generate_one, jobs)
        return
    with _pool(workers, "process") as pool:
        yield from pool.map(_generate_one, jobs, chunksize=max(1, min(256, n // (8 * (workers or os.cpu_count() or 1)))))


def generate(env_id: str, n: int, seed: int = 0, difficulty: float = 0.5, workers: int | None = 1, **options: Any) -> list[Task]:
    return list(iter_generate(env_id, n, seed, difficulty, workers, **options))


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
