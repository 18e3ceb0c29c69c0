"""Warm docker runs: containers created and started ahead of time, one candidate each.

``DockerPool(sandbox, size=2)`` (a :class:`~.runner.Sandbox` with the docker backend) keeps up to
``size`` started containers per set of container-wide limits, each running a small stub
(``STUB``, standard library only) that waits on its stdin.  A run takes one: the host sends a
header (argv, environment, per-run rlimits, the input files) over the container's attached
stdin, the stub writes the files into ``/work``, lowers its rlimits to the run's, and ``exec``s
the program, which then owns the container and its stdio -- the same :class:`~.sessions.Session`
as a cold docker session (``session``), or run to completion (``run``).  Afterwards the
container is removed in the background and a filler thread starts a replacement, so a run
pays neither container creation nor start-up.  A container never serves two runs.

Isolation and caps are the cold docker path's (``docker`` module docstring): the container is
created with them before it is ever handed out, and the watchdog holds each run to its wall
deadline.  Differences, all held by the kernel as well: ``/work`` is sized for
``input_mb`` of input plus ``Limits.disk_mb`` (cold: the actual input plus ``disk_mb``), so a
run whose input is smaller may write up to the difference more; a request whose input exceeds
``input_mb`` (or ``input_files`` entries) raises :class:`SandboxUnavailable` and the caller
runs it cold.  The image needs ``python3`` for the stub (the base image has it).

What decides the container a run gets (its "shelf"): memory, processes, ``tmp_mb``,
``disk_mb``, ``disk_files``, ``file_mb`` and ``open_files``; the wall and CPU limits are per run.
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import math
import os
import queue
import select
import socket
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .docker import _DOCKER_ENFORCEMENT, _DockerBackend
from .limits import Limits, SandboxUnavailable
from .procs import _close_all, _quiet
from .result import RunResult
from .sessions import Session
from .workdir import _input_size

log = logging.getLogger(__name__)

#: What a warm container runs until it is handed a program (python3 -I -S -c STUB).
STUB = r"""
import json, os, resource, sys
os.write(1, b"R")
def exact(n):
    got = bytearray()
    while len(got) < n:
        chunk = os.read(0, n - len(got))
        if not chunk:
            os._exit(125)
        got += chunk
    return bytes(got)
header = json.loads(exact(int.from_bytes(exact(8), "big")))
for path, mode, size in header["files"]:
    full = os.path.join("/work", path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    fd = os.open(full, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    data = memoryview(exact(size))
    while data:
        data = data[os.write(fd, data):]
    os.close(fd)
for name, soft, hard in header["rlimits"]:
    resource.setrlimit(getattr(resource, name), (soft, hard))
os.chdir("/work")
try:
    os.execvpe(header["argv"][0], header["argv"], header["env"])
except OSError as error:
    sys.stderr.write(f"cannot run {header['argv'][0]}: {error}\n")
    os._exit(127)
"""
#: How long starting one warm container may take before the filler gives up on it.
START_TIMEOUT_S = 60.0
#: How long a run waits for a warm container before it is refused (the caller then runs cold).
TAKE_TIMEOUT_S = 30.0
_CONTAINER_CPU_S = 86400.0  # the container's own RLIMIT_CPU ceiling; each run lowers it to its own


class _Warm:
    """A started container whose stub is waiting: its id, the ``docker start -a -i`` process,
    our end of its stdio socket and the read end of its stderr."""

    def __init__(self, container_id: str, proc: Any, sock: socket.socket, err_r: int) -> None:
        self.container_id = container_id
        self.proc = proc
        self.sock = sock
        self.err_r = err_r


class _Shelf:
    """Warm containers of one set of container-wide limits, refilled by one thread."""

    def __init__(self, pool: DockerPool, limits: Limits) -> None:
        self.pool = pool
        self.limits = limits
        self.ready: collections.deque[_Warm] = collections.deque()
        self.cond = threading.Condition()
        self.failure = ""  # why the last start failed ("" after a success)
        self.thread = threading.Thread(target=self._fill, name="rlvr-sandbox-docker-pool", daemon=True)
        self.thread.start()

    def take(self, timeout: float) -> _Warm:
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                while self.ready:
                    warm = self.ready.popleft()
                    self.cond.notify_all()
                    if warm.proc.poll() is None:
                        return warm
                    self.pool._discard(warm)
                if self.pool._closed:
                    raise SandboxUnavailable("the docker pool is closed")
                if self.failure:
                    raise SandboxUnavailable(f"warm docker containers do not start: {self.failure}")
                left = end - time.monotonic()
                if left <= 0:
                    raise SandboxUnavailable("no warm docker container became ready in time")
                self.cond.wait(left)

    def _fill(self) -> None:
        while True:
            with self.cond:
                while not self.pool._closed and len(self.ready) >= self.pool.size:
                    self.cond.wait()
                if self.pool._closed:
                    return
            try:
                warm = self.pool._start(self.limits)
            except Exception as exc:  # engine trouble or an image without python3
                with self.cond:
                    self.failure = str(exc)[:300] or type(exc).__name__
                    self.cond.notify_all()
                log.warning("rlvr sandbox: a warm docker container did not start: %s", exc)
                time.sleep(1.0)
                continue
            with self.cond:
                self.failure = ""
                if self.pool._closed:
                    self.pool._discard(warm)
                    return
                self.ready.append(warm)
                self.cond.notify_all()


class DockerPool:
    """Warm docker containers, one run each (see the module docstring)."""

    def __init__(self, sandbox: Any, size: int = 2, input_mb: int = 8, input_files: int = 1000) -> None:
        backend = sandbox._backend
        if not isinstance(backend, _DockerBackend):
            raise SandboxUnavailable(f"the docker pool needs the docker backend, not {backend.name}")
        if size < 1:
            raise ValueError("size must be at least 1")
        self.sandbox = sandbox
        self.backend: _DockerBackend = backend
        self.size = int(size)
        self.input_mb = int(input_mb)
        self.input_files = int(input_files)
        self._shelves: dict[tuple, _Shelf] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._doomed: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._remover = threading.Thread(target=self._remove_loop, name="rlvr-sandbox-docker-remover", daemon=True)
        self._remover.start()

    @property
    def enforcement(self) -> dict[str, Any]:
        return dict(_DOCKER_ENFORCEMENT, path="docker-warm", work_input_allowance_mb=self.input_mb)

    def warm_up(self, limits: Limits | None = None, timeout: float = START_TIMEOUT_S) -> None:
        """Start the shelf of ``limits`` and wait until one container is ready (SandboxUnavailable if none)."""
        shelf = self._shelf(limits or self.sandbox.limits)
        warm = shelf.take(timeout)
        with shelf.cond:
            shelf.ready.appendleft(warm)

    # -- runs
    @contextlib.contextmanager
    def session(self, argv: Sequence[str], *, files: Mapping[str, bytes | str] | None = None,
                limits: Limits | None = None, env: Mapping[str, str] | None = None) -> Iterator[Session]:
        """A :class:`Session` with a program in a warm container (``Sandbox.session``'s contract)."""
        argv, limits, payload, user_env = self.sandbox._check_request(argv, limits, files, env, None)
        input_bytes, input_entries = _input_size(payload, None)
        if input_bytes > self.input_mb << 20 or input_entries > self.input_files:
            raise SandboxUnavailable(f"the input ({input_bytes} bytes, {input_entries} entries) is larger than a warm "
                                     f"container takes ({self.input_mb} MiB, {self.input_files} entries)")
        run_env = self.backend.default_env(None)
        run_env.update(user_env)
        cpu = max(1, math.ceil(limits.cpu_s))
        header = json.dumps({
            "argv": argv, "env": run_env,
            "files": [["/".join(parts), 0o755 if data.startswith(b"#!") else 0o644, len(data)] for parts, data in payload],
            "rlimits": [["RLIMIT_CPU", cpu, cpu + 1], ["RLIMIT_CORE", 0, 0]],
        }).encode()
        warm = self._shelf(limits).take(TAKE_TIMEOUT_S)
        spawned = self.backend.spawned(warm.container_id, warm.proc, time.monotonic(), limits, release_async=self._doomed.put)
        session = None
        try:
            session = Session(self.backend, spawned, warm.sock, warm.err_r, limits)
            session.send(len(header).to_bytes(8, "big") + header + b"".join(data for _, data in payload),
                         timeout=session.remaining_s)
            yield session
        finally:
            try:
                if session is not None:
                    session.close()
            finally:
                warm.sock.close()
                _close_all([warm.err_r])
                spawned.abandon()

    def run(self, argv: Sequence[str], *, files: Mapping[str, bytes | str] | None = None, stdin: bytes = b"",
            limits: Limits | None = None, env: Mapping[str, str] | None = None) -> RunResult:
        """Run to completion in a warm container (``Sandbox.run``'s contract, without ``collect``)."""
        with self.session(argv, files=files, limits=limits, env=env) as session:
            try:
                if stdin:
                    session.send(stdin if isinstance(stdin, bytes) else stdin.encode(), timeout=session.remaining_s)
            except (BrokenPipeError, TimeoutError):
                pass  # the program stopped reading; its result says why
            session.close_stdin()
            return session.wait()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            shelves = list(self._shelves.values())
        for shelf in shelves:
            with shelf.cond:
                shelf.cond.notify_all()
        for shelf in shelves:
            shelf.thread.join(timeout=START_TIMEOUT_S)
            with shelf.cond:
                while shelf.ready:
                    self._discard(shelf.ready.popleft())
        self._doomed.put(None)
        self._remover.join(timeout=120)

    def __enter__(self) -> DockerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals
    def _shelf(self, limits: Limits) -> _Shelf:
        key = (limits.memory_mb, limits.processes, limits.tmp_mb, limits.disk_mb, limits.disk_files,
               limits.file_mb, limits.open_files)
        with self._lock:
            if self._closed:
                raise SandboxUnavailable("the docker pool is closed")
            shelf = self._shelves.get(key)
            if shelf is None:
                shelf = self._shelves[key] = _Shelf(self, limits)
            return shelf

    def _start(self, limits: Limits) -> _Warm:
        backend = self.backend
        container_id = backend.create_container(
            ["python3", "-I", "-S", "-c", STUB], limits,
            work_bytes=(self.input_mb << 20) + (limits.disk_mb << 20), work_inodes=self.input_files + limits.disk_files,
            env=backend.default_env(None), ulimits=Limits(cpu_s=_CONTAINER_CPU_S, file_mb=limits.file_mb,
                                                          open_files=limits.open_files))
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        err_r, err_w = os.pipe()
        proc = None
        try:
            proc = backend.start_attached(container_id, theirs.fileno(), theirs.fileno(), err_w)
            theirs.close()
            os.close(err_w)
            err_w = -1
            ready, _, _ = select.select([ours], [], [], START_TIMEOUT_S)
            signal_byte = ours.recv(1) if ready else b""
            if signal_byte != b"R":
                error = b""
                if select.select([err_r], [], [], 0.5)[0]:
                    error = os.read(err_r, 2000)
                raise SandboxUnavailable(f"the warm container's stub did not start: {error.decode(errors='replace')[-300:]}")
            return _Warm(container_id, proc, ours, err_r)
        except BaseException:
            theirs.close()
            ours.close()
            _close_all([fd for fd in (err_r, err_w) if fd >= 0])
            backend.remove_container(container_id)
            if proc is not None:
                _quiet(proc.kill)
                _quiet(proc.wait)
            raise

    def _discard(self, warm: _Warm) -> None:
        warm.sock.close()
        _close_all([warm.err_r])
        self.backend.remove_container(warm.container_id)
        _quiet(lambda: warm.proc.wait(timeout=10))

    def _remove_loop(self) -> None:
        while True:
            container_id = self._doomed.get()
            if container_id is None:
                return
            self.backend.remove_container(container_id)
