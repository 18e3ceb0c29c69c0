"""Scoring in bulk: (task, response) pairs verified in parallel, each within its verifier's deadline.

Every caller that verifies more than one response at a time goes through here: ``rlvr.verify_batch``,
``TaskVectorEnv.step``, the trainer's rollouts, the TRL reward function, ``rlvr eval`` and the Ray
backend.

Jobs       ``(task, response)``, ``(task, response, verifier)`` or ``(task, response, verifier,
           deadline_s)`` (a ``Job``). ``verifier`` is None or a mapping of verifier options (then
           the task's env verifier, ``rlvr.make_verifier(task.env_id, **options)``, cached in each
           worker), or a picklable zero-argument factory that returns an object with
           ``verify(task, response)`` and ``deadline_s`` (a verifier class, a
           ``functools.partial``, ``rlvr.trainers.rollout.ReturnObject``). ``deadline_s`` (when not
           None) overrides the verifier's own.
Order      Verdicts come back in input order, whatever order the workers finish in.
Bound      A job's budget is its deadline (the verifier's ``deadline_s``, 5 s when it has none)
           plus ``grace_s`` (default 2 s), counted from when the job starts in a worker, not from
           when it was queued. A job past its budget gets reward 0, a one-line reason ("verifier
           overran its deadline (… s + … s grace); killed; scored 0") and
           ``details["timed_out"] = True``; ``Scorer.timeouts`` counts them.
Backends   ``serial``   in the calling thread, one job after another, with NO bound: a verifier
                        that hangs hangs the call (for debugging, and verifiers that bound
                        themselves).
           ``thread``   ``workers`` daemon threads. A job past its budget is scored 0 and
                        ABANDONED: Python cannot kill a thread, so it runs on in the background
                        until it returns (its result is dropped, whatever it holds stays held)
                        while a fresh thread takes its place. Right for verifiers that do their
                        heavy work in their own killable processes (code, maths); use
                        ``process`` where a verifier may spin in Python.
           ``process``  a pebble process pool of ``workers`` forkserver processes (Ctrl-C is
                        left to the parent). A job past its budget is KILLED with its worker
                        process (pebble starts a new one). A worker that dies scores its job 0.
                        Where the pool has a worker for every CPU this process may use (e.g.
                        ``workers=None``: the machine is given to verifying), each worker keeps
                        to a CPU of its own: it takes the first free *CPU lease* (an exclusive
                        ``flock`` on a file per CPU in a temporary directory of the scorer's;
                        the kernel drops it when the worker dies, so a restarted worker takes
                        its predecessor's CPU, waiting up to ``LEASE_WAIT_S`` for the kernel to
                        let go of it), and what it starts -- a code verifier's warm
                        sandbox, its zygotes and their runs -- stays there with it. Two code
                        workers on 2 CPUs then run 1.88x the sandboxed runs of one worker on 1
                        CPU, against ~1.65x floating (README, issue 16). ``place_workers``
                        True / False places always / never.
           ``ray``      remote calls on the Ray cluster at ``address``
                        (``rlvr.integrations.ray_backend.connect``; an initialised Ray is used as
                        it is), at most ``workers`` at once (None: every CPU of the cluster), each
                        judging a chunk of ``chunk_size`` jobs (default
                        ``ray_backend.chunk_size_for``) and streaming its verdicts back one by
                        one after first reporting that it started, so each job's clock starts
                        when the job before it finished. A job past its budget is CANCELLED
                        (``ray.cancel(force=True)`` kills its worker process) and scored 0; the
                        rest of its chunk is sent again. ``runtime_env`` as in ``ray_backend``.
Never      No job raises: a verifier that raises or returns something other than a Verdict, a
           factory that fails, a worker that dies or an unpicklable job each give reward 0 and a
           one-line reason.

``Scorer(workers, backend, grace_s, *, address, runtime_env, chunk_size, place_workers)`` keeps its workers
between calls (``close()``, or use it as a context manager); the pool starts on first use.
    ``score(jobs)``        the verdicts, in input order
    ``submit(job)``        a ``concurrent.futures.Future`` that resolves to the job's Verdict
                           (never to an exception); ``asyncio.wrap_future`` awaits it. Not on ray.
    ``map(function, items)``  ``function(item)`` for each item on the same workers, in order,
                           untimed (``TaskVectorEnv`` makes its tasks this way). Not on ray.
    ``run_calls(calls, deadlines)``  zero-argument callables (multi-turn env steps: stateful and
                           not picklable) in the scorer's threads, whatever its backend, under the
                           thread rule; one that overruns gives the overrun Verdict, one that
                           raises a zero Verdict.
``score(jobs, backend, workers, grace_s, …)`` is the one-shot form (a Scorer for one call).
"""

from __future__ import annotations

import collections
import concurrent.futures as futures
import contextlib
import fcntl
import functools
import math
import multiprocessing
import os
import pickle
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from rlvr.core import Task, Verdict

BACKENDS = ("serial", "thread", "process", "ray")
DEFAULT_DEADLINE_S = 5.0
DEFAULT_GRACE_S = 2.0


class Job(NamedTuple):
    """One response to judge; ``verifier`` and ``deadline_s`` as in the module docstring."""

    task: Task
    response: Any
    verifier: Mapping[str, Any] | Callable[[], Any] | None = None
    deadline_s: float | None = None


def build_verifier(task: Task, verifier: Mapping[str, Any] | Callable[[], Any] | None) -> Any:
    """The verifier object of a job: the task's env verifier with these options, or the factory's."""
    if verifier is None or isinstance(verifier, Mapping):
        from rlvr import api

        return api.make_verifier(task.env_id, **dict(verifier or {}))
    return verifier()


def unsendable(job: Job) -> str | None:
    """Why ``job`` cannot be pickled to a worker process, or None. The process pool pickles a
    job in its scheduler thread, where an error never reaches the job's future (its caller
    would wait for ever: red team S8-6), so a response other than plain text and a verifier
    factory or options are pickled here first; a task and a ``str`` response always can be."""
    for part, value in (("response", job.response), ("verifier", job.verifier)):
        if value is None or type(value) is str:
            continue
        try:
            pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:  # any exception its __reduce__ raises
            return f"the {part} cannot be sent to a worker process ({type(error).__name__})"
    return None


def run_job(job: Job) -> Verdict:
    """Judge one job where it runs (a worker, or the caller for ``serial``); never raises."""
    try:
        verdict = build_verifier(job.task, job.verifier).verify(job.task, job.response)
    except Exception as error:
        return failed("verifier raised", error)
    if not isinstance(verdict, Verdict):
        return Verdict.fail(f"verifier returned {type(verdict).__name__}, not a Verdict; scored 0")
    return verdict


def failed(what: str, error: BaseException) -> Verdict:
    return Verdict.fail(f"{what}: {type(error).__name__}: {str(error)[:200]}; scored 0")


def overran(deadline_s: float, grace_s: float, fate: str) -> Verdict:
    """The verdict of a job that ran past its budget; ``fate`` says what became of it."""
    return Verdict.fail(
        f"verifier overran its deadline ({deadline_s:g} s + {grace_s:g} s grace); {fate}; scored 0", timed_out=True
    )


def _ignore_interrupts() -> None:
    """Worker processes leave Ctrl-C to their parent, which stops the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


#: The CPU lease a placed worker process holds for its lifetime (its open, locked file).
_CPU_LEASE: list[int] = []


#: How long a placed worker that finds every lease taken waits for one: a worker pebble starts in
#: place of a killed one may come up before the kernel has let go of its predecessor's lease.
LEASE_WAIT_S = 0.5


def _start_worker(lease_dir: str | None, wait_s: float = 0.0) -> None:
    """A process-pool worker as it starts: Ctrl-C left to the parent; with ``lease_dir`` (the
    pool is placed), it keeps to the first CPU whose lease it can take, trying again for up to
    ``wait_s`` while none is free -- none after that, it stays unplaced."""
    _ignore_interrupts()
    if lease_dir is None:
        return
    cpus = sorted(os.sched_getaffinity(0))
    give_up = time.monotonic() + wait_s
    while True:
        for cpu in cpus:
            fd = os.open(os.path.join(lease_dir, f"cpu{cpu}"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                os.sched_setaffinity(0, {cpu})
            except OSError:
                os.close(fd)
                continue
            _CPU_LEASE.append(fd)
            return
        if time.monotonic() >= give_up:
            return
        time.sleep(0.02)


def check_backend(backend: Any) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"backend must be serial, thread, process or ray, got {backend!r}")
    return backend


# --------------------------------------------------------------------------------------------
# Threads with deadlines
# --------------------------------------------------------------------------------------------


@dataclass
class _Running:
    expires: float
    on_timeout: Callable[[], Any] | None


class DeadlineThreads:
    """At most ``workers`` daemon threads running submitted calls in order of submission. A call
    still running ``budget_s`` after it started resolves its future with ``on_timeout()``; its
    thread is abandoned (it ends when the call returns, its result dropped) and no longer counts
    against ``workers``, so a fresh thread takes its place."""

    def __init__(self, workers: int, name: str = "rlvr-score"):
        self.workers, self.name = workers, name
        self._lock = threading.Lock()
        self._work_ready = threading.Condition(self._lock)
        self._watch_wake = threading.Condition(self._lock)
        self._queue: collections.deque = collections.deque()
        self._running: dict[futures.Future, _Running] = {}
        self._threads = 0  # live threads that still count against workers
        self._idle = 0  # of those, waiting for work and not yet woken
        self._watchdog: threading.Thread | None = None
        self._watch_until = math.inf  # when the watchdog wakes next unless woken sooner
        self._closed = False

    def submit(
        self, call: Callable[[], Any], budget_s: float | None = None, on_timeout: Callable[[], Any] | None = None
    ) -> futures.Future:
        """A future of ``call()``; with ``budget_s``, of ``on_timeout()`` once the call has run that long."""
        future: futures.Future = futures.Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the scorer is closed")
            self._queue.append((future, call, budget_s, on_timeout))
            if self._idle:
                self._idle -= 1
                self._work_ready.notify()
            elif self._threads < self.workers:
                self._start_thread()
            if budget_s is not None and self._watchdog is None:
                self._watchdog = threading.Thread(target=self._watch, name=f"{self.name}-watchdog", daemon=True)
                self._watchdog.start()
        return future

    def _start_thread(self) -> None:  # with the lock held
        self._threads += 1
        threading.Thread(target=self._work, name=self.name, daemon=True).start()

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closed:
                    self._idle += 1
                    self._work_ready.wait()
                if not self._queue:
                    self._threads -= 1
                    return
                future, call, budget_s, on_timeout = self._queue.popleft()
                if not future.set_running_or_notify_cancel():
                    continue
                expires = math.inf if budget_s is None else time.monotonic() + budget_s
                self._running[future] = _Running(expires, on_timeout)
                if expires < self._watch_until:
                    self._watch_wake.notify()
            try:
                result, error = call(), None
            except BaseException as raised:  # handed to the future, whatever it is
                result, error = None, raised
            with self._lock:
                abandoned = self._running.pop(future, None) is None
            if abandoned:  # the watchdog answered for it and a fresh thread took this one's place
                return
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)

    def _watch(self) -> None:
        while True:
            with self._lock:
                while not self._closed:
                    now = time.monotonic()
                    expired = [(f, r) for f, r in self._running.items() if r.expires <= now]
                    if expired:
                        break
                    self._watch_until = min((r.expires for r in self._running.values()), default=math.inf)
                    self._watch_wake.wait(None if self._watch_until == math.inf else self._watch_until - now)
                if self._closed:
                    return
                for future, _ in expired:
                    del self._running[future]
                    self._threads -= 1
                    if self._queue and not self._idle and self._threads < self.workers:
                        self._start_thread()
            for future, running in expired:
                try:
                    future.set_result(running.on_timeout())
                except BaseException as error:
                    future.set_exception(error)

    def close(self) -> None:
        """Cancel what has not started; idle threads end; running calls finish on their own."""
        with self._lock:
            self._closed = True
            while self._queue:
                self._queue.popleft()[0].cancel()
            self._work_ready.notify_all()
            self._watch_wake.notify_all()


# --------------------------------------------------------------------------------------------
# The scorer
# --------------------------------------------------------------------------------------------


def _usable_cpus() -> int:
    """How many CPUs this process may use (0 where the platform cannot say)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return 0


class Scorer:
    """Verifies jobs in parallel on one backend, each within its deadline plus ``grace_s``; the
    module docstring is the contract. Reusable across calls; ``close()`` ends its workers."""

    def __init__(
        self,
        workers: int | None = None,
        backend: str = "process",
        grace_s: float = DEFAULT_GRACE_S,
        *,
        address: str | None = None,
        runtime_env: dict | None = None,
        chunk_size: int | None = None,
        place_workers: bool | None = None,
    ):
        self.backend = check_backend(backend)
        if place_workers not in (None, True, False):
            raise ValueError(f"place_workers must be None, True or False, got {place_workers!r}")
        if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
            raise ValueError(f"workers must be a whole number ≥ 1, got {workers!r}")
        if not (isinstance(grace_s, (int, float)) and 0 <= grace_s < math.inf):
            raise ValueError(f"grace_s must be a number of seconds ≥ 0, got {grace_s!r}")
        self.workers, self.grace_s = workers, float(grace_s)
        self.address, self.runtime_env, self.chunk_size = address, runtime_env, chunk_size
        self.timeouts = 0  # jobs and calls scored 0 because they overran, over the scorer's life
        self._count_lock = threading.Lock()
        self._deadlines: dict[Any, float] = {}
        self._process_pool = None
        self._place_workers = place_workers
        self._lease_dir: str | None = None
        self._threads: DeadlineThreads | None = None
        self._call_threads: DeadlineThreads | None = None

    @property
    def local_workers(self) -> int:
        return self.workers or os.cpu_count() or 1

    def __enter__(self) -> Scorer:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # -- deadlines ---------------------------------------------------------------------------

    def deadline_of(self, job: Job) -> float:
        """The job's deadline: its own, else its verifier's ``deadline_s`` (looked up once per
        env and options, or per factory), else ``DEFAULT_DEADLINE_S``."""
        if job.deadline_s is not None:
            return _positive(job.deadline_s)
        verifier = job.verifier
        key: Any = verifier
        if verifier is None or isinstance(verifier, Mapping):
            key = (job.task.env_id, *sorted(dict(verifier or {}).items()))
        try:
            hash(key)
        except TypeError:  # unhashable options or factory: looked up every time
            key = None
        if key is not None and key in self._deadlines:
            return self._deadlines[key]
        try:
            deadline = _positive(getattr(build_verifier(job.task, verifier), "deadline_s", DEFAULT_DEADLINE_S))
        except Exception:  # the worker will fail the same way and say so in the verdict
            deadline = DEFAULT_DEADLINE_S
        if key is not None:
            self._deadlines[key] = deadline
        return deadline

    def _count_timeout(self) -> None:
        with self._count_lock:
            self.timeouts += 1

    def _overran(self, deadline_s: float, fate: str) -> Verdict:
        self._count_timeout()
        return overran(deadline_s, self.grace_s, fate)

    # -- scoring ------------------------------------------------------------------------------

    def score(self, jobs: Iterable[Job | tuple]) -> list[Verdict]:
        """Verdicts of ``jobs`` in input order (module docstring)."""
        jobs = [Job(*job) for job in jobs]
        if not jobs:
            return []
        if self.backend == "serial":
            return [run_job(job) for job in jobs]
        if self.backend == "ray":
            return self._score_on_ray(jobs)
        pending = [self._start(job) for job in jobs]
        try:
            futures.wait([future for future, _ in pending])
        except BaseException:  # Ctrl-C: what has not started is dropped
            for future, _ in pending:
                future.cancel()
            raise
        return [translate(future) for future, translate in pending]

    def submit(self, job: Job | tuple) -> futures.Future:
        """A future of ``job``'s Verdict; it never resolves to an exception."""
        job = Job(*job)
        verdict: futures.Future = futures.Future()
        if self.backend == "serial":
            verdict.set_result(run_job(job))
            return verdict
        if self.backend == "ray":
            raise ValueError("submit runs on the serial, thread or process backend; use score for ray")
        inner, translate = self._start(job)
        inner.add_done_callback(lambda done: verdict.set_result(translate(done)))
        return verdict

    def _start(self, job: Job) -> tuple[futures.Future, Callable[[futures.Future], Verdict]]:
        """``job`` started on the thread or process pool: its future and what turns that future,
        once done, into the job's Verdict."""
        deadline = self.deadline_of(job)
        if self.backend == "thread":
            inner = self._thread_pool().submit(
                functools.partial(run_job, job),
                deadline + self.grace_s,
                functools.partial(self._overran, deadline, "abandoned (a thread cannot be killed)"),
            )
            return inner, self._translate_thread
        problem = unsendable(job)
        if problem is not None:
            refused: futures.Future = futures.Future()
            refused.set_result(Verdict.fail(f"{problem}; scored 0"))
            return refused, futures.Future.result
        inner = self._pebble_pool().schedule(run_job, args=(job,), timeout=deadline + self.grace_s)
        return inner, functools.partial(self._translate_process, deadline)

    def _translate_thread(self, done: futures.Future) -> Any:
        """A finished thread future's result; a zero Verdict where it raised or was cancelled."""
        if done.cancelled():
            return Verdict.fail("scoring was cancelled (the scorer closed); scored 0")
        error = done.exception()
        return failed("scoring failed", error) if error is not None else done.result()

    def _translate_process(self, deadline: float, done: futures.Future) -> Verdict:
        from pebble import ProcessExpired

        if done.cancelled():
            return Verdict.fail("scoring was cancelled (the scorer closed); scored 0")
        error = done.exception()
        if error is None:
            return done.result()
        if isinstance(error, futures.TimeoutError):
            return self._overran(deadline, "killed")
        if isinstance(error, ProcessExpired):
            return Verdict.fail(f"verifier worker died (exit code {error.exitcode}); scored 0")
        return failed("scoring failed", error)  # an unpicklable job or verdict, a pool that stopped

    def map(self, function: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        """``function(item)`` for each item on the scorer's workers, in order, untimed; an
        exception is raised here. ``function`` must be picklable for ``process``."""
        items = list(items)
        if self.backend == "serial" or not items:
            return [function(item) for item in items]
        if self.backend == "ray":
            raise ValueError("map runs on the serial, thread or process backend")
        if self.backend == "thread":
            pending = [self._thread_pool().submit(functools.partial(function, item)) for item in items]
        else:
            pending = [self._pebble_pool().schedule(function, args=(item,)) for item in items]
        return [future.result() for future in pending]

    def run_calls(self, calls: Sequence[Callable[[], Any]], deadlines: Sequence[float]) -> list[Any]:
        """Each call's result in order, run in the scorer's threads under the thread rule: a call
        still running ``deadline + grace_s`` after it started gives the overrun Verdict and is
        abandoned, one that raises gives a zero Verdict."""
        if self.backend == "thread":
            pool = self._thread_pool()
        else:
            if self._call_threads is None:
                self._call_threads = DeadlineThreads(self.local_workers, "rlvr-step")
            pool = self._call_threads
        pending = [
            pool.submit(
                call,
                float(deadline) + self.grace_s,
                functools.partial(self._overran, float(deadline), "abandoned (a thread cannot be killed)"),
            )
            for call, deadline in zip(calls, deadlines)
        ]
        futures.wait(pending)
        return [self._translate_thread(future) for future in pending]

    # -- pools --------------------------------------------------------------------------------

    def _thread_pool(self) -> DeadlineThreads:
        if self._threads is None:
            self._threads = DeadlineThreads(self.local_workers)
        return self._threads

    def _pebble_pool(self):
        from pebble import ProcessPool

        if self._process_pool is None:
            if self._places_workers():
                self._lease_dir = tempfile.mkdtemp(prefix="rlvr-cpu-leases-")
            self._process_pool = ProcessPool(
                max_workers=self.local_workers,
                initializer=_start_worker,
                initargs=(self._lease_dir, LEASE_WAIT_S if self.local_workers <= _usable_cpus() else 0.0),
                context=multiprocessing.get_context("forkserver"),
            )
        return self._process_pool

    def _places_workers(self) -> bool:
        """Whether each worker process keeps to a CPU of its own (the module docstring)."""
        if self._place_workers is not None:
            return self._place_workers
        cpus = _usable_cpus()
        return cpus > 1 and self.local_workers == cpus

    def close(self) -> None:
        """End the workers: queued jobs are cancelled, worker processes stopped."""
        if self._process_pool is not None:
            self._process_pool.stop()
            self._process_pool.join(timeout=5)
            self._process_pool = None
        if self._lease_dir is not None:
            with contextlib.suppress(OSError):
                shutil.rmtree(self._lease_dir)
            self._lease_dir = None
        for pool in (self._threads, self._call_threads):
            if pool is not None:
                pool.close()
        self._threads = self._call_threads = None

    # -- ray ----------------------------------------------------------------------------------

    def _score_on_ray(self, jobs: list[Job]) -> list[Verdict]:
        from rlvr.integrations import ray_backend

        ray = ray_backend.connect(self.address)
        workers = self.workers or ray_backend.cluster_cpus(ray)
        size = self.chunk_size or ray_backend.chunk_size_for(len(jobs), workers)
        budgets = [self.deadline_of(job) for job in jobs]
        stream = ray_backend.remote(ray, stream_verdicts, self.runtime_env).options(num_returns="streaming")
        waiting = collections.deque((start, min(start + size, len(jobs))) for start in range(0, len(jobs), size))
        verdicts: list[Verdict | None] = [None] * len(jobs)
        live: dict[Any, _Chunk] = {}  # streaming call → its chunk
        try:
            while waiting or live:
                while waiting and len(live) < workers:
                    start, stop = waiting.popleft()
                    try:
                        live[stream.remote(jobs[start:stop])] = _Chunk(start, stop)
                    except Exception as error:  # a job that cannot be sent: its chunk's first
                        verdicts[start] = failed("scoring failed", error)
                        if start + 1 < stop:
                            waiting.appendleft((start + 1, stop))
                if not live:
                    continue
                timeouts = [
                    c.started + budgets[c.next] + self.grace_s
                    for c in live.values()
                    if c.started is not None and c.next < c.stop
                ]
                now = time.monotonic()
                ready, _ = ray.wait(
                    list(live), num_returns=1, timeout=max(0.0, min(timeouts) - now) if timeouts else None
                )
                for call in ready:
                    chunk = live[call]
                    try:
                        verdict = ray.get(next(call))
                    except StopIteration:
                        del live[call]
                        continue
                    except Exception as error:  # the worker died or could not read the chunk
                        del live[call]
                        verdicts[chunk.next] = failed("verifier worker failed", error)
                        if chunk.next + 1 < chunk.stop:
                            waiting.appendleft((chunk.next + 1, chunk.stop))
                        continue
                    if chunk.started is not None:
                        verdicts[chunk.next] = verdict
                        chunk.next += 1
                    chunk.started = time.monotonic()
                now = time.monotonic()
                for call, chunk in list(live.items()):
                    if (
                        chunk.started is not None
                        and chunk.next < chunk.stop
                        and now - chunk.started > budgets[chunk.next] + self.grace_s
                    ):
                        ray.cancel(call, force=True)
                        del live[call]
                        verdicts[chunk.next] = self._overran(budgets[chunk.next], "cancelled")
                        if chunk.next + 1 < chunk.stop:
                            waiting.appendleft((chunk.next + 1, chunk.stop))
        finally:
            for call in live:
                ray.cancel(call, force=True)
        return verdicts  # type: ignore[return-value]


@dataclass
class _Chunk:
    """What is left of a chunk of jobs on Ray: ``next … stop-1``, ``next`` being judged since
    ``started`` (None until the remote call reports that it began)."""

    next: int
    stop: int
    started: float | None = None


def stream_verdicts(jobs: list[Job]):
    """Runs on a Ray worker: None as soon as it starts, then each job's Verdict as it is judged."""
    yield None
    for job in jobs:
        yield run_job(Job(*job))


def _positive(value: Any) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return DEFAULT_DEADLINE_S
    return seconds if 0 < seconds < math.inf else DEFAULT_DEADLINE_S


def score(
    jobs: Iterable[Job | tuple],
    backend: str = "process",
    workers: int | None = None,
    grace_s: float = DEFAULT_GRACE_S,
    *,
    address: str | None = None,
    runtime_env: dict | None = None,
    chunk_size: int | None = None,
) -> list[Verdict]:
    """The verdicts of ``jobs`` in input order, on a Scorer made for this call (module docstring);
    local workers are capped at the number of jobs."""
    jobs = [Job(*job) for job in jobs]
    with Scorer(workers, backend, grace_s, address=address, runtime_env=runtime_env, chunk_size=chunk_size) as scorer:
        if backend != "ray":
            scorer.workers = max(1, min(scorer.local_workers, len(jobs)))
        return scorer.score(jobs)
