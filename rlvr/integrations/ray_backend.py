"""Generation and verification on a Ray cluster (``backend="ray"`` in ``rlvr.api``).

``iter_generate(env_id, n, seed, difficulty, workers, address=…, **options)``
    Tasks for seeds ``seed … seed+n-1`` in seed order, byte-identical (``Task.to_json``) to
    local generation: each remote call runs ``rlvr.api.make_task`` over a range of seeds.
``verify_batch(tasks, responses, workers, address=…)``
    Verdicts in input order, by ``rlvr.scoring``'s ``ray`` backend: each remote call judges a
    chunk of (task, response) pairs and streams the verdicts back one by one, so a verification
    still running its verifier's deadline plus a grace after it started is cancelled
    (``ray.cancel(force=True)``) and scored 0 while the rest of its chunk is sent again. A
    hostile response scores 0 and never fails the batch. Verdicts come back whole, details
    included, so a Math verdict that got no worker keeps ``not_judged`` (``Verdict.not_judged``)
    for the trainer that reads it to leave out; this backend computes no training rewards.
``connect(address)``
    The ``ray`` module, initialised: an already initialised Ray (the caller's) is used as it
    is and never shut down; otherwise ``ray.init(address=address)``. ``None`` starts a local
    Ray (it stays up for later calls in this process; ``ray.shutdown()`` ends it), ``"auto"``
    joins the cluster this machine belongs to, ``"ray://host:10001"`` connects as a Ray client.

``workers`` is how many remote calls run at once (each asks for one CPU); ``None`` means every
CPU of the cluster. Work goes out in chunks of ``chunk_size`` tasks or pairs (default: about
four chunks per worker, at most 256), never one remote call per task: a remote call costs 2–5 ms
here, the time of ten mazes (one call per maze ran at ~300 mazes/s, chunks of 50 at ~4,000/s).
Generated chunks wait for the ones before them, at most ``4 × workers`` submitted and not yet
read, so a long generation streams in bounded memory.

Stateless remote functions, not actors. Ray keeps its worker processes between calls, so
``rlvr.api``'s generator and verifier caches and the maths verifier's worker process stay warm
across batches anyway. On 2 cores with 2 workers (``benchmarks/bench_scale.py``), actors made per
call paid their start-up on every call (350 vs 3,000 Maze tasks/s, 130 vs 330 Math verdicts/s);
actors kept warm between calls were not clearly faster (3,600 and 425/s, inside the run-to-run
spread that put the functions at up to 4,400 and 480/s), and keeping them would mean state held
between calls and CPUs reserved on a shared cluster while idle.

The cluster's workers need rlvr importable, and the tools its verifiers call (bubblewrap for
code and SWE, Icarus Verilog). Install rlvr on every node, or ship it with the ``runtime_env=``
of this module's functions, e.g. ``{"pip": ["/shared/rlvr-0.1.0-py3-none-any.whl"]}`` (any
requirement pip can install on the nodes) or ``{"working_dir": "/path/to/checkout"}`` (rlvr's
code only: its dependencies must already be there); the same dict can instead go to your own
``ray.init(address=…, runtime_env=…)`` before calling ``rlvr.generate(…, backend="ray")``.

Needs the ``ray`` extra (``pip install 'rlvr[ray]'``).
"""

from __future__ import annotations

import collections
import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from rlvr import api, scoring
from rlvr.core import Task, Verdict
from rlvr.envs.registry import get_spec

MAX_CHUNK = 256
CHUNKS_PER_WORKER = 4
BACKLOG_PER_WORKER = 4


def import_ray():
    """The ``ray`` module, or an ImportError that says how to install it."""
    try:
        import ray
    except ImportError as error:
        raise ImportError("the Ray backend needs Ray: pip install 'rlvr[ray]'") from error
    return ray


def connect(address: str | None = None):
    """The ``ray`` module, initialised (see the module docstring for ``address``)."""
    ray = import_ray()
    if not ray.is_initialized():
        ray.init(address=address)
    return ray


def cluster_cpus(ray) -> int:
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def chunk_size_for(count: int, workers: int) -> int:
    """About ``CHUNKS_PER_WORKER`` chunks per worker, between 1 and ``MAX_CHUNK`` items."""
    return max(1, min(MAX_CHUNK, math.ceil(count / (CHUNKS_PER_WORKER * workers))))


def generate_seeds(env_id: str, seeds: range, difficulty: float, options: dict) -> list[Task]:
    """Runs on a Ray worker: the tasks of ``seeds``."""
    return [api.make_task(env_id, seed, difficulty, **options) for seed in seeds]


def verify_pairs(pairs: list[tuple[Task, Any]]) -> list[Verdict]:
    """A verdict per (task, response), one after another where it is called (a Ray worker)."""
    return scoring.score(pairs, "serial")


def remote(ray, function: Callable, runtime_env: dict | None):
    """``function`` as a Ray remote function that asks for one CPU (and ``runtime_env``)."""
    options: dict[str, Any] = {"num_cpus": 1}
    if runtime_env:
        options["runtime_env"] = runtime_env
    return ray.remote(**options)(function)


def in_order(ray, submit: Callable[[Any], Any], jobs: Sequence[Any], workers: int) -> Iterator[list]:
    """``ray.get(submit(job))`` for each job, yielded in job order, with at most ``workers``
    calls running and at most ``BACKLOG_PER_WORKER × workers`` submitted but not yet yielded.
    Calls still running when the consumer stops are cancelled with their worker processes
    (``force=True``): a plain ``ray.cancel`` raises KeyboardInterrupt wherever the call is, and
    one that lands inside an import (a fresh worker's first task imports the env's modules)
    leaves a half-imported package in a worker that Ray goes on using (seen: later Maze calls
    failing with ``module 'networkx.utils' has no attribute 'configs'``)."""
    waiting: collections.deque = collections.deque()  # submitted, not yet yielded, in job order
    running: set = set()
    upcoming = iter(jobs)
    try:
        while True:
            while len(running) < workers and len(waiting) < BACKLOG_PER_WORKER * workers:
                job = next(upcoming, None)
                if job is None:
                    break
                ref = submit(job)
                waiting.append(ref)
                running.add(ref)
            if not waiting:
                return
            ready, _ = ray.wait(list(running), num_returns=1)
            running.difference_update(ready)
            while waiting and waiting[0] not in running:
                yield ray.get(waiting.popleft())
    finally:
        for ref in running:
            ray.cancel(ref, force=True)


def iter_generate(
    env_id: str,
    n: int,
    seed: int = 0,
    difficulty: float = 0.5,
    workers: int | None = None,
    *,
    address: str | None = None,
    runtime_env: dict | None = None,
    chunk_size: int | None = None,
    **options: Any,
) -> Iterator[Task]:
    """Tasks for seeds ``seed … seed+n-1``, in order, made on the Ray cluster at ``address``.
    Connects (and rejects an unknown env) at the call; the tasks are made as they are read."""
    get_spec(env_id)
    ray = connect(address)
    workers = workers or cluster_cpus(ray)
    size = chunk_size or chunk_size_for(n, workers)
    ranges = [range(start, min(start + size, seed + n)) for start in range(seed, seed + n, size)]
    make = remote(ray, generate_seeds, runtime_env)
    chunks = in_order(ray, lambda seeds: make.remote(env_id, seeds, difficulty, options), ranges, workers)
    return itertools.chain.from_iterable(chunks)


def verify_batch(
    tasks: Sequence[Task],
    responses: Sequence[Any],
    workers: int | None = None,
    *,
    address: str | None = None,
    runtime_env: dict | None = None,
    chunk_size: int | None = None,
) -> list[Verdict]:
    """Verdicts for ``zip(tasks, responses)`` in input order, judged on the Ray cluster, each
    within its verifier's deadline plus a grace (``rlvr.scoring``)."""
    if len(tasks) != len(responses):
        raise ValueError(f"{len(tasks)} tasks but {len(responses)} responses")
    return scoring.score(
        zip(tasks, responses), "ray", workers, address=address, runtime_env=runtime_env, chunk_size=chunk_size
    )
