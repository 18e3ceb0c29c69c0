"""The warm path: per worker slot a long-lived sandboxed supervisor forks a fresh, isolated child per run.

A cold run (``Sandbox.run`` / ``Sandbox.session``) pays a bwrap sandbox and an interpreter
start each time.  :class:`WarmPool` keeps zygotes instead: each is a Python interpreter started
once inside a bwrap sandbox (namespaces incl. pid and network, read-only minimal root, its own
memory cgroup; see ``_BwrapBackend``) with the caller's modules already imported
(``rlvr.verifiers.sandbox.zygote`` is its program).  Each idle zygote keeps one *spare*
child, forked ahead of time: the spare has entered its own namespaces and its own memory cgroup
while it waits, so a run starts with one message to the spare.  The thread that starts a run
asks the zygote for the next spare as it takes the current one, and reads the zygote's answer
when the slot's next run starts (by then long sent): no other host thread wakes up per run.
(The host's threads share one interpreter lock; a refill thread per zygote, woken for each
run to fork the next spare while the run's thread worked, handed that lock back and forth at
system calls: with two CPUs, 8-11 futex calls and 16 context switches per run with one worker,
20 and 24 with two, against 3 and 12, 10 and 18 now, and 0.05-0.1 ms more of the host's CPU
per run.)  Background threads, one per zygote, fork spares only for zygotes that have none
asked for (after a start or a failed fork), and are woken only for those (they once woke at
every run's check-in, only to find nothing to do).  The same fork request carries the
zygote's backstop for the run that has just started, and each message goes in one send with
its descriptors: the zygote wakes once per run for the host.

Placement.  While two or more threads start runs on a pool (each within ``PLACEMENT_HOLD_S`` of
another's last start), each zygote keeps to one CPU of those this process had when the pool was made, its
*home* (the one fewest of the pool's zygotes have), and so does the thread that starts a run
on it until the run is released (its next run prefers a zygote with the same home): a slot's
host thread, zygote and forks stay on one CPU instead of crossing CPUs, and the scheduler no
longer piles two slots' pipelines on one CPU while the other idles.  Each child takes the
pool's CPUs back right after its fork: runs (and a spare's set-up) are not held to a CPU, as a
cold run is not (holding them too measured slower).  With one run at a time nothing is held
(host, zygote and run overlap on several CPUs: a single run's latency is that of a pool
without placement), and nothing changes in a pool made on one CPU.  Runs one thread keeps in
flight together are one slot's pipeline, not two: an assert-style check's long-lived checker
session beside each candidate's, a session still being closed in the background (counting runs
in flight instead held one worker's HumanEval verifications to one CPU throughout, with three
affinity calls per run: 5-10 % more CPU per problem).  A zygote's CPUs change only when an
overlap starts or ends; a thread's are set and given back per run only while runs overlap (no
system call per run otherwise).  (2 CPUs, samples with the rest of the
machine near idle: two workers keep 1.95 of 2 cores busy instead of 1.71 and run 1.15x as
many runs per second, 1.81x one worker on one CPU instead of 1.68x; one worker's median
latency unchanged.)

Before any code of the run executes, the child gets:

* its own pid namespace, as its pid 2, with a /proc of that namespace: no other run, zygote
  or spare is visible or nameable (/proc, ``kill(pid, 0)``); its own processes work as in a
  cold run (the namespace's init, pid 1, is a sleeping clone of the zygote -- root, so out of
  the run's reach, unlike the cold path's ``timeout``, which runs as the run's uid: a cold run
  can read its /proc entries and signal it, ending its own program -- see ``zygote``; the run's
  ``getppid()`` is 0, where a cold run's is 1);
* a network namespace (loopback only) that no other live run or spare is in: namespaces are
  reused -- one comes back to a later run only once every process of its run is gone and it
  holds no socket (see ``zygote``, "Network namespaces", for what a later run can still
  observe there: traffic counters);
* a mount namespace no other live run or spare is in (reused, as network namespaces are: see
  ``zygote``, "Mount namespaces") and its own IPC namespace, with its own /proc, a fresh, empty
  tmpfs ``/work`` (the run's files + ``Limits.disk_mb``, ``disk_files`` inodes beyond them),
  fresh ``/tmp`` and ``/dev/shm`` (``tmp_mb``, ``disk_files`` inodes each), mounted over what
  earlier runs had; a write past a cap gets ``ENOSPC`` and the run is reported ``disk_exceeded``
  (the host holds the tmpfs roots open, as in cold runs);
* its own memory cgroup (``Limits.memory_mb`` for everything the run's processes use, tmpfs
  pages included), and its CPU cgroup where runs get one (``cgroups``), joined before the spare
  has received anything of a run: on cgroup v1 the spare moves itself, first thing after the
  fork, through the ``tasks`` files (memory, and CPU) the host sent with the fork request (a
  thread moving itself takes no host-wide lock; the host moving a process takes the kernel's
  thread-group lock for writing, which every fork and exit on the host waits behind and which
  now and then waits for an RCU grace period); on v2 the host moves it.  OOM kills and peak
  usage are read from it as for cold runs.  On cgroup v1, cgroups are
  reused: one whose run has ended and that is empty (every process in it killed) has its peak
  and failure counters reset and its OOM kill count taken as zero, and serves a later run
  (creating and removing a cgroup per run costs CPU and takes cgroup-filesystem locks the whole
  host shares); on cgroup v2 each run gets a new one (its peak cannot be reset portably);
* a host uid from the same pool as cold runs -- no other live run, warm or cold, in this or
  any other process has it -- so ``RLIMIT_NPROC`` (``Limits.processes``) is a per-run budget;
* the cold path's per-process rlimits, an empty capability set (bounding set included), no
  supplementary groups, ``no_new_privs`` and the cold path's seccomp filter;
* every descriptor closed but its stdio (one Unix socket, as in sessions) and stderr (a pipe),
  the environment cleared to the cold path's defaults + ``env``, and the zygote's signal
  handler (SIGCHLD) reset.

It then calls the pool's entry point (``"module:function"`` of a module the zygote imported;
that module is the child's ``__main__``, as if it had been run with ``python``; like a cold
run the child is dumpable, so its own ``/proc/self`` entries are its own).
Because every run is a fresh fork of a zygote that never runs a run's code, nothing one run
does -- files, environment, imported-module state, signal handlers, threads, child processes,
open descriptors, rlimits -- reaches the next: each child starts from the same pristine state.
When the child exits, or at the wall deadline, or on an output flood, every process left in
its cgroup is killed (daemons included; the zygote also ends the run's pid namespace, which
kills everything in it), the host empties the run's tmpfs (where that fails, the zygote discards
the mount namespace and the cgroup is removed, not reused) and releases them, and once the cgroup is
empty the uid is freed and the cgroup goes back to the pool (a cgroup not yet empty is
removed on a background thread, which frees the uid after it).  The run's exit status and CPU
time come from the zygote, which reaps it and reports once its namespace has ended (a run the
host killed does not wait for that report: its ``cpu_s`` is 0).

Trust: the zygote is root inside its sandbox (capabilities ``_SUPERVISOR_CAPS`` only, no
seccomp) and runs only trusted code; runs are other uids, cannot ptrace or signal it, and no
descriptor of it survives into them.  It sees only sizes, limits and environments: a run's
files travel host -> child directly, so nothing of one run (or anything a verdict depends on)
lies in the zygote's memory that later children inherit.  Each run has a pid namespace of its
own (concurrent runs of one zygote once shared the zygote's and could list each other and the
zygote in /proc).  All children of a zygote share its string-hash secret (``PYTHONHASHSEED``
is fixed at interpreter start) -- the way in which warm runs are less separated than cold ones.

Anomalies -- a zygote that does not answer in time, answers wrongly, names a process that is
not its child, or whose child fails before the run starts -- replace the zygote (it is
killed with everything it started); the failing call raises :class:`SandboxUnavailable`, and
callers fall back to the cold path.  ``WarmPool.close`` (also at interpreter exit) kills
every zygote -- as its sandbox's pid 1, its death takes every process of the sandbox with it
-- and leaves no process, cgroup, mount or temp dir behind.  Zygotes are started on threads
of this module that live as long as the process: bwrap's ``--die-with-parent`` follows the
*thread* that started it, so a zygote started on a caller's short-lived thread died with it.

Requirements: the bwrap backend running as root (distinct uids and mounts per child) and a
writable memory cgroup; elsewhere :class:`WarmPool` raises :class:`SandboxUnavailable` and
callers use cold runs.
"""

from __future__ import annotations

import array
import atexit
import contextlib
import dataclasses
import importlib.util
import json
import logging
import marshal
import os
import queue
import resource
import signal
import socket
import struct
import threading
import time
import weakref
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from . import zygote as zygote_program
from .backend import _Prepared, _Spawned
from .limits import SANDBOX_WORKDIR, Limits, SandboxUnavailable, _rlimits
from .procs import _close_all, _pidfd_exited, _pidfd_or_none, fd_ready
from .result import RunResult
from .runner import Sandbox
from .seccomp import _SECCOMP
from .sessions import Session
from .tmpfs import _RunMounts
from .workdir import _input_size, _rel_parts

__all__ = ["ZYGOTE_ENTRY_SCRIPT", "WarmPool", "tree_cpu_s", "zygote_pids"]

log = logging.getLogger(__name__)

#: Entry point that runs ``argv[0]`` (a file in /work) as ``__main__``, like ``python FILE``.
ZYGOTE_ENTRY_SCRIPT = "__main__:run_script"
#: Seconds a zygote may take to start (interpreter + imports) and to answer a fork request.
START_TIMEOUT_S = 20.0
HANDSHAKE_TIMEOUT_S = 10.0
#: The zygote's backstop kills a child this long after its wall deadline (the host's comes first).
BACKSTOP_SLACK_S = 5.0
#: Zygotes that failed to start in a row before a pool stops trying (callers then run cold).
MAX_START_FAILURES = 3
MAX_DEFAULT_ZYGOTES = 8
#: How long after a second thread last started a run on a pool its zygotes (and the threads that
#: start runs on them) stay at their home CPUs (see the module docstring)
PLACEMENT_HOLD_S = 1.0
_ZYGOTE_LIMITS = Limits(wall_s=86400.0, cpu_s=86400.0, memory_mb=512, processes=4096, disk_mb=32, tmp_mb=8)
_REPORT_BYTES = 4096
#: What the size and inode caps of a run's ``/work`` are rounded up to: the caps stay in a reused
#: mount namespace's ``/proc/self/mountinfo`` for later runs to see, so they show input sizes only
#: to the MiB and input file counts only to 64 (see ``zygote``, "Mount namespaces")
WORK_SIZE_STEP, WORK_INODES_STEP = 1 << 20, 64
_SEND_CHUNK = 1 << 20


def _compiled(source_file: str, name: str) -> bytes:
    source = Path(source_file).read_text(encoding="utf-8")
    code = compile(source, name, "exec", dont_inherit=True)
    return importlib.util.MAGIC_NUMBER + bytes(12) + marshal.dumps(code)


_ZYGOTE_PYC = _compiled(zygote_program.__file__, "zygote.py")


class _WarmRuntime:
    """Session's view of the warm path's runtime: the zygote reports real wait statuses."""

    @staticmethod
    def decode_status(outcome):
        return outcome


def _rounded_up(value: int, step: int) -> int:
    return -(-value // step) * step


def _frame(message: dict) -> bytes:
    """A host -> zygote/child message: 4-byte big-endian length, then the message ``marshal``-ed
    (one C call to decode in the child, where JSON's decoder ran Python code that copied pages).
    Only the host writes these; whatever comes back from the sandbox is parsed as JSON."""
    data = marshal.dumps(message)
    return struct.pack("!I", len(data)) + data


def _send_with_fds(sock: socket.socket, data: bytes, fds: Sequence[int], deadline: float) -> None:
    """Send ``data``; its first byte carries ``fds`` (SCM_RIGHTS).  As much as the socket takes
    goes in the same call as the descriptors (a message split in two woke the reader twice)."""
    ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]
    data = memoryview(data)
    while True:
        try:
            sent = sock.sendmsg([data[:_SEND_CHUNK]], ancillary, socket.MSG_DONTWAIT | socket.MSG_NOSIGNAL)
            break
        except BlockingIOError:
            _wait_writable(sock, deadline)
    _sendall(sock, data[sent:], deadline)


def _recv_line(sock: socket.socket, deadline: float, limit: int, *, sent: bool = False) -> tuple[bytes, list]:
    """One line from ``sock`` (blocking with a deadline) and the ancillary data that came with it.
    ``sent``: the answer was most likely sent long ago, so it is read without waiting for it
    first (one system call less when it is there; still waited for when it is not)."""
    data = bytearray()
    ancillary: list = []
    while not data.endswith(b"\n"):
        if not sent:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not fd_ready(sock, remaining):
                raise TimeoutError("no answer in time")
        sent = False
        try:
            chunk, extra, _, _ = sock.recvmsg(
                limit + 1 - len(data), socket.CMSG_SPACE(struct.calcsize("3i")), socket.MSG_DONTWAIT
            )
        except BlockingIOError:
            continue
        if not chunk:
            raise EOFError("the other end closed the channel")
        ancillary.extend(extra)
        data += chunk
        if len(data) > limit:
            raise ValueError("line too long")
    return bytes(data), ancillary


def _wait_writable(sock: socket.socket, deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0 or not fd_ready(sock, remaining, writable=True):
        raise TimeoutError("the other end did not read in time")


def _sendall(sock: socket.socket, data: bytes, deadline: float) -> None:
    """Send all of ``data`` by ``deadline``, waiting only when the socket is full (no wait
    before a send that goes through: one system call less per message)."""
    view = memoryview(data)
    while view:
        try:
            view = view[sock.send(view[:_SEND_CHUNK], socket.MSG_DONTWAIT | socket.MSG_NOSIGNAL) :]
        except BlockingIOError:
            _wait_writable(sock, deadline)


def _parent_of(pid: int) -> int | None:
    try:
        fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
        try:
            stat = os.read(fd, 4096)
        finally:
            os.close(fd)
        return int(stat.rsplit(b")", 1)[1].split()[1])  # the field after the state
    except (OSError, ValueError, IndexError):
        return None


def _fds_of(ancillary: list) -> list[int]:
    fds: list[int] = []
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.extend(struct.unpack(f"{len(payload) // 4}i", payload[: len(payload) - len(payload) % 4]))
    return fds


@dataclasses.dataclass
class _Spare:
    """A forked child waiting for its run: in its own namespaces and its own memory cgroup already."""

    serial: int
    child: int  # host pid
    pidfd: int
    sync: socket.socket
    cgroup: Any  # _RunCgroup

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        self.cgroup.remove()
        os.close(self.pidfd)
        self.sync.close()


@dataclasses.dataclass
class _PendingFork:
    """A fork request sent to a zygote whose answer has not been read yet: the new child's sync
    socket and run cgroup (``joined``: the child moves itself into it, cgroup v1)."""

    serial: int
    sync: socket.socket
    cgroup: Any  # _RunCgroup
    joined: bool

    def cancel(self) -> None:
        self.cgroup.remove()
        self.sync.close()


class _Zygote:
    """One started zygote: its sandbox (a ``_Spawned`` of the bwrap backend), its control
    socket, and at most one spare child (forked, or asked for: ``pending``)."""

    def __init__(self, pool: WarmPool, home: int | None = None) -> None:
        box = pool.sandbox
        backend = box._backend
        payload = [(("zygote.pyc",), _ZYGOTE_PYC)]
        payload += [((f"{name}.pyc",), data) for name, data in pool.modules.items()]
        input_bytes, input_entries = _input_size(payload, None)
        prep = _Prepared(
            run_dir=None,
            work_dir=None,
            # the dynamic linker binds every symbol once, in the zygote: a child calling a libc
            # function the zygote never called no longer looks it up (and dirties a page) itself
            env=dict(backend.default_env(None), LD_BIND_NOW="1"),
            payload=payload,
            cwd_files_dir=None,
            input_bytes=input_bytes,
            input_entries=input_entries,
        )
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        err_r, err_w = os.pipe()
        self.backend = backend
        self.new_cgroup = pool._new_cgroup
        self.sock = ours
        self.send_lock = threading.Lock()  # the thread that holds the zygote, and ``discard_mounts``
        self.err_r = err_r
        self.spawned: _Spawned | None = None
        self.pidfd: int | None = None
        self.spare: _Spare | None = None
        self.pending: _PendingFork | None = None  # the next spare, asked for and not yet answered
        self.broken = False
        self.serial = 0
        self.home = home  # the CPU it keeps to while its pool's runs overlap (None: one CPU only)
        self.cpus = pool._cpus  # the CPUs it and its children may use otherwise
        self.pinned = False  # kept to ``home`` now: its children then take ``cpus`` back
        try:
            argv = [backend.python, "-I", "-S", "zygote.pyc"]
            self.spawned = backend.spawn(
                argv, prep, theirs.fileno(), theirs.fileno(), err_w, _ZYGOTE_LIMITS, None, supervisor=True
            )
            theirs.close()
            os.close(err_w)
            err_w = -1
            if self.spawned.pid1 is None:
                raise SandboxUnavailable(f"the zygote's sandbox did not start: {self._stderr()}")
            self.pid1 = self.spawned.pid1
            self.pidfd = _pidfd_or_none(self.pid1)
            ours.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
            config = {
                "modules": {name: f"{SANDBOX_WORKDIR}/{name}.pyc" for name in pool.modules},
                "imports": list(pool.imports),
                "sys_path": list(pool.sys_path),
                "entry": pool.entry,
                "seccomp": (_SECCOMP or b"").hex(),
            }
            deadline = time.monotonic() + START_TIMEOUT_S
            _sendall(ours, _frame(config), deadline)
            line, _ = _recv_line(ours, deadline, _REPORT_BYTES)
            if json.loads(line).get("ready") is not True:
                raise SandboxUnavailable(f"the zygote did not start: {line[:500]!r}")
        except BaseException as error:
            theirs.close()
            if err_w >= 0:
                os.close(err_w)
            detail = self._stderr()
            self.close()
            if isinstance(error, SandboxUnavailable):
                raise
            raise SandboxUnavailable(f"the zygote did not start: {error!r} {detail}") from error

    def _stderr(self) -> str:
        try:
            os.set_blocking(self.err_r, False)
            return os.read(self.err_r, 2000).decode(errors="replace")
        except OSError:
            return ""

    @property
    def alive(self) -> bool:
        return not self.broken and self.spawned is not None and self.pidfd is not None and not _pidfd_exited(self.pidfd)

    @property
    def has_spare(self) -> bool:
        return self.spare is not None or self.pending is not None

    def request_spare(self, backstop: tuple[int, float] | None = None) -> None:
        """Ask the zygote to fork the next spare child into a memory cgroup of its own (the child
        joins it itself on cgroup v1, before it does anything else; on v2 the host moves it once
        the answer is read).  The answer is read later, by ``take_spare`` or ``fork_spare``: a
        run's thread asks for the next spare as it starts its run and does not wait for the fork
        (no other thread has to wake up for it either).  ``backstop``: (serial, seconds) -- the
        same message tells the zygote to kill child ``serial`` (the spare that has just got its
        run) if it is still running that many seconds from now (one message, one wake-up of the
        zygote per run)."""
        message: dict[str, Any] = {"fork": self.serial + 1}
        if self.pinned:  # the child takes them back: only the zygote keeps to its home
            message["cpus"] = self.cpus
        if backstop is not None:
            message["backstop"], message["s"] = backstop
        self.serial += 1
        deadline = time.monotonic() + HANDSHAKE_TIMEOUT_S
        sync_ours, sync_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        cgroup = None
        join_fds: list[int] = []
        try:
            cgroup = self.new_cgroup()
            join_fds = cgroup.self_join_fds()
            try:
                with self.send_lock:
                    _send_with_fds(self.sock, _frame(message), [sync_theirs.fileno(), *join_fds], deadline)
            finally:
                sync_theirs.close()
                for fd in join_fds:
                    os.close(fd)
        except BaseException:
            if cgroup is not None:
                cgroup.remove()
            sync_ours.close()
            raise
        self.pending = _PendingFork(self.serial, sync_ours, cgroup, bool(join_fds))

    def discard_mounts(self, serial: int) -> None:
        """Tell the zygote to discard the mount namespace of its run ``serial``, whose tmpfs the
        host could not empty (from any thread; no answer; a zygote gone meanwhile took its
        namespaces with it)."""
        with contextlib.suppress(OSError, TimeoutError), self.send_lock:
            _sendall(self.sock, _frame({"discard": serial}), time.monotonic() + HANDSHAKE_TIMEOUT_S)

    def _receive_spare(self, sent: bool) -> _Spare:
        """The zygote's answer to the pending fork request: the spare child it forked (``sent``:
        the request went out long enough ago that the answer is most likely there)."""
        pending, self.pending = self.pending, None
        pidfd = -1
        try:
            line, ancillary = _recv_line(self.sock, time.monotonic() + HANDSHAKE_TIMEOUT_S, _REPORT_BYTES, sent=sent)
            if json.loads(line).get("forked") != pending.serial:
                raise SandboxUnavailable(f"the zygote answered a fork request wrongly: {line[:200]!r}")
            pids = [
                struct.unpack("3i", payload[:12])[0]
                for level, kind, payload in ancillary
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS
            ]
            if not pids or _parent_of(pids[0]) != self.pid1:
                raise SandboxUnavailable("the zygote named a process that is not its child")
            pidfd = _pidfd_or_none(pids[0])
            if pidfd is None:
                raise SandboxUnavailable("cannot open a pidfd for the zygote's child")
            if not pending.joined:
                pending.cgroup.join(pids[0])  # the child waits for its run request: nothing of a run has executed
            return _Spare(pending.serial, pids[0], pidfd, pending.sync, pending.cgroup)
        except BaseException:
            if pidfd is not None and pidfd >= 0:
                with contextlib.suppress(OSError):
                    signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                os.close(pidfd)
            pending.cancel()
            raise

    def fork_spare(self) -> _Spare:
        """A new spare child (the one already asked for, if any), waiting for its answer."""
        sent = self.pending is not None
        if not sent:
            self.request_spare()
        return self._receive_spare(sent)

    def take_spare(self) -> _Spare:
        """The spare child (forked now if there is none or it died)."""
        spare, self.spare = self.spare, None
        if spare is None and self.pending is not None:
            spare = self._receive_spare(True)  # asked for as the slot's previous run started
        if spare is not None and _pidfd_exited(spare.pidfd):
            spare.discard()
            spare = None
        return spare or self.fork_spare()

    def place(self, pin: bool) -> None:
        """Keep the zygote to its home CPU (``pin``) or let it use all of ``cpus`` again; a
        system call only where that changes."""
        if pin != self.pinned and self.home is not None:
            try:
                os.sched_setaffinity(self.pid1, (self.home,) if pin else self.cpus)
            except OSError:
                return
            self.pinned = pin

    def forget(self) -> None:
        """Close this process's copies of the zygote's descriptors (after fork: the parent's)."""
        if self.spare is not None:
            _close_all([self.spare.pidfd])
            self.spare.sync.close()
            self.spare = None
        if self.pending is not None:
            self.pending.sync.close()
            self.pending.cgroup.forget()
            self.pending = None
        self.spawned = None
        _close_all([fd for fd in (self.pidfd, self.err_r) if fd is not None and fd >= 0])
        self.pidfd, self.err_r = None, -1
        self.sock.close()

    def close(self) -> None:
        """Kill the zygote (and with it every process of its sandbox) and release what it holds."""
        if self.spare is not None:
            spare, self.spare = self.spare, None
            spare.discard()
        if self.pending is not None:  # its child (if forked) dies with the zygote below
            pending, self.pending = self.pending, None
            pending.cancel()
        if self.spawned is not None:
            spawned, self.spawned = self.spawned, None
            spawned.kill()
            if self.pidfd is not None:
                fd_ready(self.pidfd, 10.0)
            spawned.abandon()
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None
        self.sock.close()
        _close_all([self.err_r] if self.err_r >= 0 else [])
        self.err_r = -1


@dataclasses.dataclass
class _WarmSpawned(_Spawned):
    """A warm run: the zygote's child (``child``: its host pid), its cgroup, mounts and uid."""

    child: int = 0
    pidfd: int = -1
    sync: socket.socket | None = None
    release_uid: Any = None
    recycle_cgroup: Any = None  # takes the emptied cgroup back for a later run
    discard_mounts: Any = None  # asks the zygote to discard the run's mount namespace
    leave: Any = None  # gives the thread that started the run its CPUs back
    report: tuple[int, float] | None = None
    killed: bool = False  # the host killed the run (its status is then SIGKILL whatever the report says)
    emptied: bool = False  # its cgroup was seen empty after the child exited (no process can enter it again)

    @property
    def pid(self) -> int:
        return self.child

    def exited(self) -> bool:
        return _pidfd_exited(self.pidfd)

    def reap(self) -> tuple[int, float]:
        """The status the zygote reported after reaping the child (SIGKILL if it could not).  A
        run the host killed does not wait for the report: its CPU time is then given as 0."""
        if self.report is None:
            self.report = (int(signal.SIGKILL), 0.0)
            wait = 0.0 if self.killed else HANDSHAKE_TIMEOUT_S
            try:
                line, _ = _recv_line(self.sync, time.monotonic() + wait, _REPORT_BYTES)
                message = json.loads(line)
                if type(message.get("status")) is int and type(message.get("cpu_s")) is float:
                    self.report = (message["status"], message["cpu_s"])
            except (OSError, TimeoutError, EOFError, ValueError) as error:
                if not self.killed:
                    log.warning("sandbox warm path: no exit report for child %s: %s", self.child, error)
        return self.report

    def kill_run(self) -> None:
        """SIGKILL the child and every process in its cgroup now (the Session then waits for the
        child's exit, and ``end_run`` kills whatever is left until the cgroup is empty)."""
        self.killed = True
        with contextlib.suppress(OSError):
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        self.cgroup.kill_members()

    def end_run(self) -> None:
        """The child has exited: kill every process it left behind (daemons included)."""
        self.emptied = self.cgroup.kill_all(timeout=1.0)

    def abandon(self) -> None:
        """Kill what is left of the run and release it.  Once the cgroup is empty the uid is
        freed and the cgroup goes back to the pool for a later run; if a process of the run was
        still dying, the reclaimer thread removes the cgroup and frees the uid after it."""
        emptied = False
        try:
            if not self.emptied and not self.exited():  # seen emptied only after the child's exit
                self.kill_run()
                fd_ready(self.pidfd, 10.0)
            emptied = self.emptied or self.cgroup.kill_all()
        finally:
            self.leave()
            os.close(self.pidfd)
            self.pidfd = -1
            if self.mounts is not None:
                # the zygote reuses the run's mount namespace: what its tmpfs hold goes now (no
                # process of the run is left to write more), or the namespace goes with it, and
                # the cgroup those pages are charged to serves no later run
                if not (emptied and self.mounts.empty()):
                    emptied = False
                    self.discard_mounts()
                self.mounts.close()
            self.sync.close()
            cgroup, release_uid = self.cgroup, self.release_uid
            if emptied:
                release_uid()
                self.recycle_cgroup(cgroup)  # emptied for good: only the host moves processes in
            else:

                def reclaim() -> None:
                    try:
                        cgroup.remove()
                    finally:
                        release_uid()

                _RECLAIMER.submit(reclaim)


#: Per thread, ``cpu``: the home of the zygote of the last run it started (None: that run was
#: not held to one); it prefers a zygote with that home for its next run.
_THREAD_HOME = threading.local()


def _hold_thread(cpu: int) -> tuple[int, set[int]] | None:
    """Keep the calling thread on ``cpu``: (its id, its CPUs before) for ``_release_thread``, or
    None where nothing changed (a thread not allowed on ``cpu``, or held to one CPU already)."""
    try:
        cpus = os.sched_getaffinity(0)
        if cpu not in cpus or len(cpus) == 1:
            return None
        os.sched_setaffinity(0, (cpu,))
    except OSError:
        return None
    return threading.get_native_id(), cpus


def _release_thread(held: tuple[int, set[int]] | None) -> None:
    """Give the thread ``_hold_thread`` held its CPUs back (from any thread)."""
    if held is not None:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(*held)


class _Reclaimer:
    """One background thread that finishes the clean-up of warm runs, in order."""

    def __init__(self) -> None:
        self._queue: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="rlvr-warm-reclaim", daemon=True)
                self._thread.start()

    def submit(self, task) -> None:
        self.start()
        self._queue.put(task)

    def _work(self) -> None:
        while True:
            task = self._queue.get()
            try:
                task()
            except Exception as error:
                log.warning("sandbox warm path: clean-up failed: %s", error)
            finally:
                self._queue.task_done()

    def drain(self) -> None:
        """Wait until every submitted clean-up has finished."""
        self._queue.join()


_RECLAIMER = _Reclaimer()


def _starter() -> ThreadPoolExecutor:
    """The threads that start zygotes.  bwrap runs with ``--die-with-parent``
    (``PR_SET_PDEATHSIG``), which the kernel fires when the *thread* that started it ends, not
    the process: a zygote started by a caller's short-lived thread (an executor's worker, a
    request handler) was killed when that thread ended, and the pool's next fork request to it
    then failed ("connection reset").  These threads live as long as the process."""
    return ThreadPoolExecutor(MAX_DEFAULT_ZYGOTES, thread_name_prefix="rlvr-warm-start")


_STARTER = _starter()


def _close_started(future) -> None:
    if not future.cancelled() and future.exception() is None:
        future.result().close()


def _conditions() -> tuple[threading.Condition, threading.Condition]:
    """A pool's two conditions, on one lock: a zygote was checked in (for runs waiting for one),
    and a spare is wanted (for the refill threads: woken only when a zygote comes back without
    its next spare asked for, not by every run)."""
    lock = threading.RLock()
    return threading.Condition(lock), threading.Condition(lock)


class WarmPool:
    """Warm sandboxed runs for one :class:`Sandbox` (see the module docstring).

    ``modules`` maps module names to compiled modules (``.pyc`` bytes for the sandbox's
    interpreter) that each zygote imports once, and ``imports`` names modules of the sandbox's
    interpreter (standard library, site-packages on ``sys_path``) it imports too; ``entry``
    (``"module:function"``) is what each child calls (its fds 0/1 are the session socket, fd 2 its stderr).
    ``zygotes`` is the most zygotes (worker slots) kept (default: two per CPU, at most ``MAX_DEFAULT_ZYGOTES``: a
    verification may hold two runs at once); they are started on demand up to it.  Each idle zygote keeps
    one spare child forked and moved into its memory cgroup ahead of time (asked for by the thread
    that starts a run, for the slot's next run; background threads fork any spare still missing), so
    a run starts without waiting for a fork or a cgroup move.  While runs overlap, each zygote (and
    the thread starting a run on it) keeps to a home CPU: see "Placement" in the module docstring.
    Thread-safe.
    """

    def __init__(
        self,
        sandbox: Sandbox,
        *,
        modules: Mapping[str, bytes] | None = None,
        entry: str = ZYGOTE_ENTRY_SCRIPT,
        sys_path: Sequence[str] = (),
        imports: Sequence[str] = (),
        zygotes: int | None = None,
    ) -> None:
        backend = sandbox._backend
        if backend.name != "bwrap" or not getattr(backend, "privileged", False):
            raise SandboxUnavailable(
                f"the warm path needs the bwrap backend running as root (have {backend.name}"
                f"{'' if os.geteuid() == 0 else ', not root'})"
            )
        if backend.cgroups is None:
            raise SandboxUnavailable(
                f"the warm path needs a writable memory cgroup ({sandbox.cgroup_unavailable_reason})"
            )
        if zygotes is None:
            zygotes = min(MAX_DEFAULT_ZYGOTES, 2 * (os.cpu_count() or 1))
        if zygotes < 1:
            raise ValueError("zygotes must be at least 1")
        self.sandbox = sandbox
        self.modules = dict(modules or {})
        self.entry = entry
        self.sys_path = tuple(sys_path)
        self.imports = tuple(imports)
        self.size = zygotes
        self._idle: list[_Zygote] = []
        self._live: weakref.WeakSet[_Zygote] = weakref.WeakSet()  # every started zygote not yet closed
        self._started = 0
        self._start_failures = 0
        self._closed = False
        self._cond, self._spares_wanted = _conditions()
        self._refillers: list[threading.Thread] = []  # up to one per zygote: spares are forked in parallel
        self._cgroups: list = []  # emptied, reset run cgroups (_RunCgroup) ready for another run
        self._cgroups_lock = threading.Lock()
        self._cpus = sorted(os.sched_getaffinity(0))  # zygotes get homes among these; their children all
        self._starting_homes: list[int | None] = []  # homes of zygotes being started
        self._last_starts: dict[int, float] = {}  # per thread (ident), when it last started a run here
        self._crowded_until = 0.0  # zygotes keep to their homes until then (see ``_enter``)
        self.unavailable_reason = ""
        _POOLS.add(self)

    @property
    def enforcement(self) -> dict[str, Any]:
        cgroups = self.sandbox._backend.cgroups
        return {"memory": cgroups.kind, "cpu": cgroups.cpu_kind, "disk": "tmpfs", "inodes": "capped", "path": "warm"}

    @property
    def zygote_count(self) -> int:
        with self._cond:
            return self._started

    def zygote_pids(self) -> set[int]:
        """Host pids of the pool's own long-lived processes (each idle zygote's bwrap runtime and
        the zygote) -- what a check for processes left behind by runs should not count."""
        with self._cond:
            zygotes = list(self._live)
        return {
            pid for zygote in zygotes if zygote.spawned is not None for pid in (zygote.spawned.proc.pid, zygote.pid1)
        }

    # -- memory cgroups: a run's cgroup, once empty and reset, serves a later run (no mkdir and
    # rmdir per run: both take locks every cgroup operation on the host waits for)
    def _new_cgroup(self):
        with self._cgroups_lock:
            cgroup = self._cgroups.pop() if self._cgroups else None
        return cgroup or self.sandbox._backend.cgroups.create(Limits(memory_mb=self.sandbox.limits.memory_mb))

    def _recycle_cgroup(self, cgroup) -> None:
        """Keep an emptied run cgroup (seen empty after its run: no process can enter it again)
        for a later run once it is reset (``_RunCgroup.reset``); one that cannot be reset, or
        that comes back after ``close``, is removed."""
        if cgroup.reset():
            with self._cgroups_lock:
                if not self._closed:
                    self._cgroups.append(cgroup)
                    return
        _RECLAIMER.submit(cgroup.remove)

    # -- zygotes
    def _checkout(self) -> _Zygote:
        """An idle zygote (one with a spare first), or a new one if fewer than ``size`` are
        started; waits for one to be checked in otherwise.  Whether the zygote still lives is
        seen outside the pool's lock (a system call, during which the other threads' check-ins
        and check-outs need not wait)."""
        while True:
            with self._cond:
                while True:
                    if self._closed:
                        raise SandboxUnavailable("the warm pool is closed")
                    if self.unavailable_reason:
                        raise SandboxUnavailable(self.unavailable_reason)
                    if self._idle:
                        last = getattr(_THREAD_HOME, "cpu", None)
                        zygote = max(reversed(self._idle), key=lambda zygote: (zygote.has_spare, zygote.home == last))
                        self._idle.remove(zygote)
                        break
                    if self._started < self.size:
                        self._started += 1
                        zygote = None
                        home = self._home_for_new_zygote()
                        break
                    self._cond.wait()
            if zygote is None:
                break
            if zygote.alive:
                return zygote
            with self._cond:
                self._started -= 1
                self._cond.notify_all()
            zygote.close()
        try:
            future = _STARTER.submit(_Zygote, self, home)
        except RuntimeError as error:  # the interpreter is shutting down: no new threads
            with self._cond:
                self._starting_homes.remove(home)
                self._started -= 1
                self._cond.notify_all()
            raise SandboxUnavailable(f"cannot start a zygote: {error}") from error
        try:
            zygote = future.result()
        except BaseException as error:
            if not future.done():  # this thread was interrupted: close the zygote once it is up
                future.add_done_callback(_close_started)
            with self._cond:
                self._starting_homes.remove(home)
                self._started -= 1
                self._start_failures += 1
                if self._start_failures >= MAX_START_FAILURES:
                    self.unavailable_reason = (
                        f"warm path disabled after {MAX_START_FAILURES} failed zygote starts: {error}"
                    )
                self._cond.notify_all()
            raise
        with self._cond:
            self._starting_homes.remove(home)
            self._start_failures = 0
            self._live.add(zygote)
        return zygote

    def _home_for_new_zygote(self) -> int | None:
        """(Under the pool's lock) the home CPU for a zygote about to start: the one of this
        process's CPUs the fewest live or starting zygotes have; None with a single CPU."""
        home = None
        if len(self._cpus) > 1:
            taken = [zygote.home for zygote in self._live] + self._starting_homes
            home = min(self._cpus, key=lambda cpu: (taken.count(cpu), cpu))
        self._starting_homes.append(home)
        return home

    def _enter(self) -> bool:
        """Note that the calling thread starts a run; whether the pool's zygotes should keep to
        their homes now: while another thread started one within ``PLACEMENT_HOLD_S``, and
        ``PLACEMENT_HOLD_S`` after (see "Placement" in the module docstring)."""
        with self._cond:
            now = time.monotonic()
            starts = self._last_starts
            starts[threading.get_ident()] = now
            if len(starts) >= 2:
                for thread, started in list(starts.items()):
                    if started < now - PLACEMENT_HOLD_S:
                        del starts[thread]
                if len(starts) >= 2:
                    self._crowded_until = now + PLACEMENT_HOLD_S
            return now < self._crowded_until

    def _checkin(self, zygote: _Zygote, healthy: bool) -> None:
        """Put ``zygote`` back among the idle ones (``healthy``; one whose process has died since
        is closed when it is next checked out), or close it."""
        with self._cond:
            if healthy and not self._closed and not zygote.broken:
                self._idle.append(zygote)
                if len(self._refillers) < self._started:  # one per zygote: no spare waits for another's
                    refiller = threading.Thread(target=self._refill, name="rlvr-warm-refill", daemon=True)
                    self._refillers.append(refiller)
                    refiller.start()
                self._cond.notify_all()
                if not zygote.has_spare:  # only then: a zygote checked in with its next spare asked for wakes no one
                    self._spares_wanted.notify_all()
                return
            self._started -= 1
            self._cond.notify_all()
        zygote.close()

    def _refill(self) -> None:
        """Background: give every idle zygote that has none a spare child (or one asked for)."""
        while True:
            with self._cond:
                while not self._closed and all(zygote.has_spare for zygote in self._idle):
                    self._spares_wanted.wait()
                if self._closed:
                    return
                zygote = next(zygote for zygote in self._idle if not zygote.has_spare)
                self._idle.remove(zygote)
            healthy = zygote.alive
            if healthy:
                try:
                    zygote.spare = zygote.fork_spare()
                except (OSError, TimeoutError, EOFError, ValueError, SandboxUnavailable) as error:
                    log.warning("sandbox warm path: replacing a zygote that could not fork: %s", error)
                    healthy = False
            self._checkin(zygote, healthy)

    def prestart(self) -> None:
        """Start every zygote (and its spare child) and the pool's threads now; otherwise they
        start on first use."""
        _RECLAIMER.start()
        zygotes = []
        try:
            for _ in range(self.size):
                zygote = self._checkout()
                zygotes.append(zygote)
                if zygote.spare is None:
                    zygote.spare = zygote.fork_spare()
        finally:
            for zygote in zygotes:
                self._checkin(zygote, True)

    def close(self) -> None:
        """Kill every zygote with everything it started; later calls raise SandboxUnavailable."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._started -= len(idle)
            self._cond.notify_all()
            self._spares_wanted.notify_all()
            refillers = list(self._refillers)
        for refiller in refillers:
            if refiller is not threading.current_thread():
                refiller.join(timeout=HANDSHAKE_TIMEOUT_S + 5.0)  # it checks its zygote back in, which closes it
        for zygote in idle:
            zygote.close()
        _RECLAIMER.drain()
        with self._cgroups_lock:
            cgroups, self._cgroups = self._cgroups, []
        for cgroup in cgroups:
            cgroup.remove()

    def __enter__(self) -> WarmPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- runs
    def _start(self, files, limits, env, argv) -> tuple[Session, _WarmSpawned]:
        box = self.sandbox
        argv, limits, payload, user_env = box._check_request(argv or ["main.py"], limits, files, env, None)
        input_bytes, input_entries = _input_size(payload, None)
        run_env = box._backend.default_env(None)
        run_env.update(user_env)
        zygote = self._checkout()  # held until the run's request is sent: then it forks the next spare
        spare = None
        try:
            spare = zygote.take_spare()
        except BaseException as error:
            if spare is not None:
                spare.discard()
            log.warning("sandbox warm path: replacing a zygote after an anomaly")
            self._checkin(zygote, False)
            if isinstance(error, (OSError, TimeoutError, EOFError, ValueError)):
                raise SandboxUnavailable(f"the warm path could not fork a run: {error!r}") from error
            raise
        try:
            uid = box._uid_pool.acquire()
        except BaseException:
            spare.discard()
            self._checkin(zygote, True)
            raise
        zygote.place(self._enter())
        _THREAD_HOME.cpu = zygote.home if zygote.pinned else None
        thread_held = _hold_thread(zygote.home) if zygote.pinned else None  # until the run is released
        spawned = _WarmSpawned(
            proc=None,
            t0=time.monotonic(),
            kill=lambda: None,
            force_kill=lambda: None,
            on_exit=lambda: None,
            cgroup=spare.cgroup,
            child=spare.child,
            pidfd=spare.pidfd,
            sync=spare.sync,
            release_uid=lambda: box._uid_pool.release(uid),
            recycle_cgroup=self._recycle_cgroup,
            discard_mounts=lambda serial=spare.serial: zygote.discard_mounts(serial),
            leave=lambda: _release_thread(thread_held),
            enforcement={
                "memory": spare.cgroup.kind,
                "memory_bound_mb": limits.memory_mb,
                "cpu": spare.cgroup.cpu_kind,
                "disk": "tmpfs",
                "inodes": "capped",
                "path": "warm",
            },
        )
        spawned.kill = spawned.force_kill = spawned.kill_run
        spawned.on_exit = spawned.end_run
        held = True
        stdio_ours = stdio_theirs = None
        err_r = err_w = -1
        try:
            stdio_ours, stdio_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            err_r, err_w = os.pipe()
            spare.cgroup.set_limit(limits.memory_mb << 20)
            request = {
                "uid": uid,
                "env": run_env,
                "argv": argv,
                "rlimits": [[res, soft, hard] for res, (soft, hard) in _rlimits(limits)],
                "work": [
                    _rounded_up(input_bytes + (limits.disk_mb << 20), WORK_SIZE_STEP),
                    _rounded_up(input_entries + limits.disk_files + 1, WORK_INODES_STEP),
                ],
                "tmp": [limits.tmp_mb << 20, limits.disk_files + 1],
                "files": [["/".join(parts), len(data)] for parts, data in payload],
            }
            deadline = time.monotonic() + HANDSHAKE_TIMEOUT_S
            try:
                _send_with_fds(
                    spare.sync,
                    _frame(request) + b"".join(data for _, data in payload),
                    [stdio_theirs.fileno(), err_w],
                    deadline,
                )
            finally:
                stdio_theirs.close()
                os.close(err_w)
                err_w = -1
            held = False
            # while this run's child sets up; the same message sets the zygote's backstop for it
            self._ask_for_spare(zygote, (spare.serial, limits.wall_s + BACKSTOP_SLACK_S + HANDSHAKE_TIMEOUT_S))
            if not fd_ready(spare.sync, max(0.0, deadline - time.monotonic())):
                raise SandboxUnavailable("the warm child did not set up in time")
            data, ancillary, _, _ = spare.sync.recvmsg(1, socket.CMSG_SPACE(3 * 4))
            roots = _fds_of(ancillary)
            if data != b"M" or len(roots) != 3:
                _close_all(roots)
                zygote.broken = True
                raise SandboxUnavailable(f"the warm child did not set up: {self._child_stderr(err_r)}")
            spawned.mounts = _RunMounts(roots[0], roots[1:])
            spawned.mounts.inodes_capped = True
            session = Session(_WarmRuntime(), spawned, stdio_ours, err_r, limits)
        except BaseException as error:
            if held:
                self._checkin(zygote, True)
            for sock in (stdio_ours, stdio_theirs):
                if sock is not None:
                    sock.close()
            _close_all([fd for fd in (err_r, err_w) if fd >= 0])
            spawned.abandon()
            if isinstance(error, (OSError, TimeoutError, EOFError, ValueError)):
                raise SandboxUnavailable(f"the warm path failed to start a run: {error!r}") from error
            raise
        return session, spawned

    def _ask_for_spare(self, zygote: _Zygote, backstop: tuple[int, float]) -> None:
        """Check ``zygote`` back in once it has been asked for the next spare, with ``backstop``
        for the run that has just started (a zygote that cannot be asked is replaced: its runs
        die with it)."""
        healthy = False
        try:
            zygote.request_spare(backstop)
            healthy = True
        except (OSError, TimeoutError, EOFError, ValueError, SandboxUnavailable) as error:
            log.warning("sandbox warm path: replacing a zygote that could not fork: %s", error)
        finally:
            self._checkin(zygote, healthy)

    @staticmethod
    def _child_stderr(err_r: int) -> str:
        try:
            os.set_blocking(err_r, False)
            return os.read(err_r, 1000).decode(errors="replace").strip()
        except OSError:
            return "(no error output)"

    @contextlib.contextmanager
    def session(
        self,
        argv: Sequence[str] | None = None,
        *,
        files: Mapping[str, bytes | str] | None = None,
        limits: Limits | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Iterator[Session]:
        """A warm run to talk to, like :meth:`Sandbox.session` (same Session API and RunResult);
        ``argv`` becomes the child's ``sys.argv``.  SandboxUnavailable when no zygote can fork it."""
        session, spawned = self._start(files, limits, env, argv)
        try:
            yield session
        finally:
            try:
                session.close()
            finally:
                session._sock.close()
                _close_all([session._err_fd])
                spawned.abandon()

    def run(
        self,
        argv: Sequence[str] | None = None,
        *,
        files: Mapping[str, bytes | str] | None = None,
        stdin: bytes = b"",
        limits: Limits | None = None,
        env: Mapping[str, str] | None = None,
        collect: Sequence[str] = (),
    ) -> RunResult:
        """Run to completion, like :meth:`Sandbox.run` (stdin and stdout share the run's socket)."""
        wanted = [(name, _rel_parts(name, "collect entry")) for name in collect]
        session, spawned = self._start(files, limits, env, argv)
        try:
            try:
                if stdin:
                    session.send(stdin if isinstance(stdin, bytes) else stdin.encode(), timeout=session.remaining_s)
            except (BrokenPipeError, TimeoutError):
                pass
            session.close_stdin()
            result = session.wait()
            if wanted:
                files_back, cut = spawned.collect(wanted, session._limits.file_mb << 20, None)
                result = dataclasses.replace(result, files=files_back, output_truncated=result.output_truncated or cut)
            return result
        finally:
            session.close()
            session._sock.close()
            _close_all([session._err_fd])
            spawned.abandon()


_POOLS: weakref.WeakSet[WarmPool] = weakref.WeakSet()


def zygote_pids() -> set[int]:
    """Host pids of every zygote (and its bwrap runtime) of every pool in this process."""
    return {pid for pool in list(_POOLS) for pid in pool.zygote_pids()}


_TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu_s() -> float:
    """CPU seconds used so far by this process tree: this process (all its threads), the
    children it reaped (cold runs), and every zygote of this process's pools with the children
    it reaped (a zygote reaps each run and the init of the run's pid namespace, which reaps
    whatever else of the run is left as the namespace ends).  What the kernel's own workers do
    for runs (e.g. freeing a run's mounts) is not counted; the CPU of a zygote that
    has been replaced is lost to the count."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = own.ru_utime + own.ru_stime + reaped.ru_utime + reaped.ru_stime
    return total + sum(process_cpu_s(pid) for pid in zygote_pids())


def process_cpu_s(pid: int) -> float:
    """CPU seconds of process ``pid`` and the children it reaped (utime, stime, cutime, cstime
    of /proc/PID/stat); 0 for a process that is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(value) for value in fields[11:15]) / _TICKS


@atexit.register
def _close_pools() -> None:
    for pool in list(_POOLS):
        pool.close()


def _forget_inherited_pools() -> None:
    """In a forked child: the zygotes (and their control sockets) belong to the parent.  Drop
    this process's copies of their descriptors without touching them; new ones start on use."""
    global _RECLAIMER, _STARTER
    _RECLAIMER = _Reclaimer()
    _STARTER = _starter()
    for pool in list(_POOLS):
        for zygote in pool._idle:
            zygote.forget()
        pool._idle = []
        pool._live = weakref.WeakSet()
        pool._started = 0
        pool._starting_homes = []
        pool._last_starts = {}
        pool._refillers = []
        pool._cond, pool._spares_wanted = _conditions()
        for cgroup in pool._cgroups:
            cgroup.forget()
        pool._cgroups = []
        pool._cgroups_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_inherited_pools)
