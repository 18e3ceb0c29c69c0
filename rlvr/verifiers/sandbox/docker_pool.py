"""Warm docker runs: containers created and started ahead of time, one candidate each.

``DockerPool(sandbox, size=2)`` (a :class:`~.runner.Sandbox` with the docker backend) keeps up to
``size`` started containers per set of container-wide limits, each running a small stub
(``STUB``, standard library only) as its pid 1.  Before anything of a run exists, the stub makes
itself non-dumpable and opens three connections to a Unix socket the host listens on (a host dir
bind-mounted read-only at ``/.rlvr-host``; the host accepts exactly three and then removes the
socket, so nothing started later can connect): the run's stdin/stdout, its stderr, and the
control channel.  A run takes a container: the host sends the header (argv, environment,
per-run rlimits, the input files) over the control channel; the stub writes the files into
``/work``, forks the program with the two stdio connections as fds 0, 1 and 2 and the run's
rlimits, closes its own copies, and when the program ends sends its wait status and CPU time.
The host then reads the container's memory cgroup (OOM kills, peak usage) and closes the
control channel; the stub exits, which ends the pid namespace and everything left in it.  The
host talks to the program through the same :class:`~.sessions.Session` as cold runs
(``session``), or runs it to completion (``run``).  The container is then removed in the
background, and a filler thread starts a replacement: a run pays neither container creation,
start-up nor teardown.  A container never serves two runs.

Why sockets: the program's stdio are sockets, which no process can reopen through
``/proc/<pid>/fd`` (pipes could be), and the stub, the only other holder of the control
channel, is non-dumpable, so the program cannot take it with ``pidfd_getfd`` or ptrace (no
capabilities, same uid).  Whatever the program writes, it cannot fake the end of the run or its
status.

Isolation and caps are the cold docker path's (``docker`` module docstring): the container is
created with them before it is ever handed out, and the watchdog holds each run to its wall
deadline.  Differences, all held by the kernel as well: ``/work`` is sized for
``input_mb`` of input plus ``Limits.disk_mb`` (cold: the actual input plus ``disk_mb``), so a
run whose input is smaller may write up to the difference more; no collected files; a request
whose input exceeds ``input_mb`` (or ``input_files`` entries) raises
:class:`SandboxUnavailable` and the caller runs it cold.  The image needs ``python3`` for the
stub (the base image has it).

What decides the container a run gets (its "shelf"): memory, processes, ``tmp_mb``,
``disk_mb``, ``disk_files``, ``file_mb`` and ``open_files``; the wall and CPU limits are per run.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import json
import logging
import math
import os
import queue
import shutil
import socket
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .backend import _Spawned
from .docker import _DOCKER_ENFORCEMENT, BACKSTOP_S, _DockerBackend
from .limits import Limits, SandboxUnavailable
from .procs import fd_ready
from .result import RunResult
from .sessions import Session
from .workdir import _input_size

log = logging.getLogger(__name__)

_HOST_DIR = "/.rlvr-host"
#: The warm container's pid 1 (python3 -I -S -c STUB); see the module docstring.
STUB = r"""
import ctypes, json, os, resource, socket, sys
ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: the program cannot reach our descriptors
def connect():
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect("/.rlvr-host/s")
    return conn
stdio, err, ctl = connect(), connect(), connect()
reader = ctl.makefile("rb")
def exact(n):
    data = reader.read(n)
    if data is None or len(data) != n:
        os._exit(125)
    return data
header = json.loads(exact(int.from_bytes(exact(8), "big")))
for path, mode, size in header["files"]:
    full = os.path.join("/work", path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    fd = os.open(full, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    data = memoryview(exact(size))
    while data:
        data = data[os.write(fd, data):]
    os.close(fd)
pid = os.fork()
if pid == 0:
    os.dup2(stdio.fileno(), 0)
    os.dup2(stdio.fileno(), 1)
    os.dup2(err.fileno(), 2)
    for name, soft, hard in header["rlimits"]:
        resource.setrlimit(getattr(resource, name), (soft, hard))
    os.chdir("/work")
    try:
        os.execvpe(header["argv"][0], header["argv"], header["env"])
    except OSError as error:
        os.write(2, f"cannot run {header['argv'][0]}: {error}\n".encode())
        os._exit(127)
stdio.close()
err.close()
null = os.open("/dev/null", os.O_RDWR)
for fd in (0, 1, 2):
    os.dup2(null, fd)
while True:
    try:
        got, status, usage = os.wait4(-1, 0)
    except ChildProcessError:
        os._exit(125)
    if got == pid:
        break
ctl.sendall(json.dumps({"status": status, "cpu_s": usage.ru_utime + usage.ru_stime}).encode() + b"\n")
reader.read(1)  # the host closes the channel once it has read the container's cgroup
os._exit(0)
"""
#: How long starting one warm container may take before the filler gives up on it.
START_TIMEOUT_S = 60.0
#: Threads that start containers for one shelf.
FILLERS = 2
#: How long a run waits for a warm container before it is refused (the caller then runs cold).
TAKE_TIMEOUT_S = 30.0
_CONTAINER_CPU_S = 86400.0  # the container's own RLIMIT_CPU ceiling; each run lowers it to its own
_MEMORY_CGROUP_V1 = "/sys/fs/cgroup/memory/docker"
_CGROUP_V2 = "/sys/fs/cgroup/docker"


class _Warm:
    """A started container whose stub is connected and waiting: its id and our three ends."""

    def __init__(self, container_id: str, stdio: socket.socket, err: socket.socket, ctl: socket.socket) -> None:
        self.container_id = container_id
        self.stdio = stdio
        self.err = err
        self.ctl = ctl

    def close(self) -> None:
        for conn in (self.stdio, self.err, self.ctl):
            conn.close()


class _WarmSpawned(_Spawned):
    """A run in a warm container: it has ended when the control channel is readable (the stub's
    report, or end-of-file when the container died)."""

    def __init__(
        self, backend: _DockerBackend, warm: _Warm, t0: float, limits: Limits, doomed: queue.SimpleQueue
    ) -> None:
        container_id = warm.container_id
        super().__init__(
            proc=None,
            t0=t0,
            kill=lambda: backend.kill_container(container_id),  # type: ignore[arg-type]
            force_kill=lambda: backend.remove_container(container_id),
            on_exit=self._ended,
            release=self._release,
            enforcement=dict(_DOCKER_ENFORCEMENT, memory_bound_mb=limits.memory_mb, path="docker-warm"),
        )
        self.backend = backend
        self.warm = warm
        self.doomed = doomed
        self.report: dict | None = None
        self.oom_kills: int | None = None
        self.peak: int | None = None
        backend.watchdog.arm(container_id, t0 + limits.wall_s + BACKSTOP_S)

    @property
    def pid(self) -> int:
        raise AttributeError("a warm docker run has no host process")

    def exit_fd(self) -> int | None:
        return os.dup(self.warm.ctl.fileno())

    def exited(self) -> bool:
        return _readable(self.warm.ctl)

    def _ended(self) -> None:
        """The run has ended: take the stub's report, read the cgroup while it exists, let the stub go."""
        if self.report is not None:
            return
        self.report = {}
        self.warm.ctl.settimeout(2.0)
        try:
            line = self.warm.ctl.makefile("rb").readline(4096)
            report = json.loads(line) if line else {}
            if isinstance(report, dict):
                self.report = report
        except (OSError, ValueError):
            pass
        self.oom_kills, self.peak = _cgroup_counters(self.warm.container_id)
        with contextlib.suppress(OSError):  # the stub exits: the pid namespace and what the program left behind end
            self.warm.ctl.shutdown(socket.SHUT_RDWR)

    def reap(self) -> tuple[int, float]:
        self._ended()
        status = self.report.get("status") if self.report else None
        cpu_s = self.report.get("cpu_s") if self.report else None
        if not isinstance(status, int) or isinstance(status, bool):
            status = 9  # no report: the container was killed (raw wait status of SIGKILL)
        return status, float(cpu_s) if isinstance(cpu_s, (int, float)) and not isinstance(cpu_s, bool) else 0.0

    def account(self, outcome):
        if self.oom_kills is None:  # the cgroup was gone: ask the engine
            try:
                state = self.backend.client.api.inspect_container(self.warm.container_id).get("State", {})
                outcome.oom_killed = outcome.oom_killed or bool(state.get("OOMKilled", False))
            except Exception as exc:
                log.debug("docker inspect %s: %s", self.warm.container_id[:12], exc)
        else:
            outcome.oom_killed = outcome.oom_killed or self.oom_kills > 0
            outcome.memory_peak_bytes = self.peak
        outcome.enforcement = dict(self.enforcement)
        return outcome

    def abandon(self) -> None:
        self.release()

    def _release(self) -> None:
        self.backend.watchdog.disarm(self.warm.container_id)
        self.warm.close()
        self.doomed.put(self.warm.container_id)


def _readable(conn: socket.socket) -> bool:
    """Something (or end-of-file) is waiting on ``conn``."""
    return fd_ready(conn, 0)


def _cgroup_counters(container_id: str) -> tuple[int | None, int | None]:
    """(OOM kills, peak bytes) of a running container's memory cgroup, or (None, None)."""
    v1 = os.path.join(_MEMORY_CGROUP_V1, container_id)
    v2 = os.path.join(_CGROUP_V2, container_id)
    try:
        if os.path.isdir(v1):
            with open(os.path.join(v1, "memory.oom_control")) as fh:
                fields = dict(line.split() for line in fh if line.strip())
            with open(os.path.join(v1, "memory.max_usage_in_bytes")) as fh:
                return int(fields.get("oom_kill", 0)), int(fh.read())
        if os.path.isdir(v2):
            with open(os.path.join(v2, "memory.events")) as fh:
                fields = dict(line.split() for line in fh if line.strip())
            peak = None
            if os.path.exists(os.path.join(v2, "memory.peak")):
                with open(os.path.join(v2, "memory.peak")) as fh:
                    peak = int(fh.read())
            return int(fields.get("oom_kill", 0)), peak
    except (OSError, ValueError):
        pass
    return None, None


class _Shelf:
    """Warm containers of one set of container-wide limits, refilled by ``FILLERS`` threads
    (the engine creates and starts containers faster two at a time than one)."""

    def __init__(self, pool: DockerPool, limits: Limits) -> None:
        self.pool = pool
        self.limits = limits
        self.ready: collections.deque[_Warm] = collections.deque()
        self.cond = threading.Condition()
        self.failure = ""  # why the last start failed ("" after a success)
        self.starting = 0  # containers being started now
        self.threads = [
            threading.Thread(target=self._fill, name="rlvr-sandbox-docker-pool", daemon=True)
            for _ in range(min(FILLERS, pool.size))
        ]
        for thread in self.threads:
            thread.start()

    def take(self, timeout: float) -> _Warm:
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                while self.ready:
                    warm = self.ready.popleft()
                    self.cond.notify_all()
                    if not _readable(warm.ctl):  # the stub is still waiting (nothing to read, no EOF)
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
                while not self.pool._closed and len(self.ready) + self.starting >= self.pool.size:
                    self.cond.wait()
                if self.pool._closed:
                    return
                self.starting += 1
            try:
                warm = self.pool._start(self.limits)
            except Exception as exc:  # engine trouble or an image without python3
                with self.cond:
                    self.starting -= 1
                    self.failure = str(exc)[:300] or type(exc).__name__
                    self.cond.notify_all()
                log.warning("rlvr sandbox: a warm docker container did not start: %s", exc)
                time.sleep(1.0)
                continue
            with self.cond:
                self.starting -= 1
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
        this = weakref.ref(self)  # a pool nobody closed (a cached verifier) removes its containers at exit
        atexit.register(lambda: (pool := this()) is not None and pool.close())

    @property
    def enforcement(self) -> dict[str, Any]:
        return dict(_DOCKER_ENFORCEMENT, path="docker-warm", work_input_allowance_mb=self.input_mb)

    def warm_up(self, limits: Limits | None = None, count: int = 1, timeout: float = START_TIMEOUT_S) -> None:
        """Wait until ``count`` (at most ``size``) containers of the shelf of ``limits`` are ready,
        starting it if needed; SandboxUnavailable if they do not start within ``timeout``."""
        shelf = self._shelf(limits or self.sandbox.limits)
        end = time.monotonic() + timeout
        with shelf.cond:
            while len(shelf.ready) < min(count, self.size):
                if shelf.failure:
                    raise SandboxUnavailable(f"warm docker containers do not start: {shelf.failure}")
                left = end - time.monotonic()
                if left <= 0:
                    raise SandboxUnavailable("warm docker containers did not become ready in time")
                shelf.cond.wait(left)

    # -- runs
    @contextlib.contextmanager
    def session(
        self,
        argv: Sequence[str],
        *,
        files: Mapping[str, bytes | str] | None = None,
        limits: Limits | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Iterator[Session]:
        """A :class:`Session` with a program in a warm container (``Sandbox.session``'s contract)."""
        argv, limits, payload, user_env = self.sandbox._check_request(argv, limits, files, env, None)
        input_bytes, input_entries = _input_size(payload, None)
        if input_bytes > self.input_mb << 20 or input_entries > self.input_files:
            raise SandboxUnavailable(
                f"the input ({input_bytes} bytes, {input_entries} entries) is larger than a warm "
                f"container takes ({self.input_mb} MiB, {self.input_files} entries)"
            )
        run_env = self.backend.default_env(None)
        run_env.update(user_env)
        cpu = max(1, math.ceil(limits.cpu_s))
        header = json.dumps(
            {
                "argv": argv,
                "env": run_env,
                "files": [
                    ["/".join(parts), 0o755 if data.startswith(b"#!") else 0o644, len(data)] for parts, data in payload
                ],
                "rlimits": [["RLIMIT_CPU", cpu, cpu + 1], ["RLIMIT_CORE", 0, 0]],
            }
        ).encode()
        warm = self._shelf(limits).take(TAKE_TIMEOUT_S)
        spawned = _WarmSpawned(self.backend, warm, time.monotonic(), limits, self._doomed)
        session = None
        try:
            warm.ctl.settimeout(max(0.1, limits.wall_s))
            try:
                warm.ctl.sendall(len(header).to_bytes(8, "big") + header + b"".join(data for _, data in payload))
            except OSError as exc:
                raise SandboxUnavailable(f"the warm container did not take the run: {exc}") from exc
            session = Session(self.backend, spawned, warm.stdio, warm.err.fileno(), limits)
            yield session
        finally:
            try:
                if session is not None:
                    session.close()
            finally:
                spawned.abandon()

    def run(
        self,
        argv: Sequence[str],
        *,
        files: Mapping[str, bytes | str] | None = None,
        stdin: bytes = b"",
        limits: Limits | None = None,
        env: Mapping[str, str] | None = None,
    ) -> RunResult:
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
            for thread in shelf.threads:
                thread.join(timeout=START_TIMEOUT_S)
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
        key = (
            limits.memory_mb,
            limits.processes,
            limits.tmp_mb,
            limits.disk_mb,
            limits.disk_files,
            limits.file_mb,
            limits.open_files,
        )
        with self._lock:
            if self._closed:
                raise SandboxUnavailable("the docker pool is closed")
            shelf = self._shelves.get(key)
            if shelf is None:
                shelf = self._shelves[key] = _Shelf(self, limits)
            return shelf

    def _start(self, limits: Limits) -> _Warm:
        """Create and start a container and accept its stub's three connections."""
        backend = self.backend
        host_dir = tempfile.mkdtemp(prefix="docker-warm-", dir=backend.tmp_root)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        container_id = None
        conns: list[socket.socket] = []
        try:
            os.chmod(host_dir, 0o711)
            path = os.path.join(host_dir, "s")
            listener.bind(path)
            os.chmod(path, 0o666)
            listener.listen(3)
            listener.settimeout(START_TIMEOUT_S)
            container_id = backend.create_container(
                ["python3", "-I", "-S", "-c", STUB],
                limits,
                work_bytes=(self.input_mb << 20) + (limits.disk_mb << 20),
                work_inodes=self.input_files + limits.disk_files,
                env=backend.default_env(None),
                binds={host_dir: {"bind": _HOST_DIR, "mode": "ro"}},
                ulimits=Limits(cpu_s=_CONTAINER_CPU_S, file_mb=limits.file_mb, open_files=limits.open_files),
            )
            backend.client.api.start(container_id)
            for _ in range(3):
                try:
                    conns.append(listener.accept()[0])
                except TimeoutError:
                    raise SandboxUnavailable(
                        f"the warm container's stub did not start: {self._logs(container_id)}"
                    ) from None
            for conn in conns:
                conn.settimeout(None)
            return _Warm(container_id, *conns)
        except BaseException:
            for conn in conns:
                conn.close()
            if container_id is not None:
                backend.remove_container(container_id)
            raise
        finally:
            listener.close()
            shutil.rmtree(host_dir, ignore_errors=True)

    def _logs(self, container_id: str) -> str:
        try:
            return self.backend.client.api.logs(container_id, tail=5).decode("utf-8", "replace")[-300:]
        except Exception as exc:
            return f"(no logs: {exc})"

    def _discard(self, warm: _Warm) -> None:
        warm.close()
        self.backend.remove_container(warm.container_id)

    def _remove_loop(self) -> None:
        while True:
            container_id = self._doomed.get()
            if container_id is None:
                return
            self.backend.remove_container(container_id)


class WarmRuns:
    """``run`` for callers that run to completion: through a :class:`DockerPool` when the sandbox
    is docker and the request fits a warm container, else the sandbox's own (cold) run --
    requests with ``collect`` or ``cwd_files_dir`` always run cold."""

    def __init__(self, sandbox: Any, size: int = 2) -> None:
        self.sandbox = sandbox
        self.pool = DockerPool(sandbox, size=size) if sandbox.backend == "docker" else None

    def run(
        self,
        argv: Sequence[str],
        *,
        files: Mapping[str, bytes | str] | None = None,
        stdin: bytes = b"",
        limits: Limits | None = None,
        env: Mapping[str, str] | None = None,
        **cold_only: Any,
    ) -> RunResult:
        if self.pool is not None and not any(cold_only.values()):
            try:
                return self.pool.run(argv, files=files, stdin=stdin, limits=limits, env=env)
            except SandboxUnavailable:
                pass  # no warm container could take it: a cold one does
        return self.sandbox.run(argv, files=files, stdin=stdin, limits=limits, env=env, **cold_only)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
