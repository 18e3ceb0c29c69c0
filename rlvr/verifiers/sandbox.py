"""Run untrusted, model-written programs under isolation and resource limits.

This is the only module in rlvr that executes untrusted code (the code, Verilog
and SWE families all call it).

Trust rule
----------
The program is an adversary.  Nothing a verdict depends on may be reachable
from inside, and every limit holds for the *whole run* -- the process tree and
everything it writes -- and is enforced by the kernel, not by arithmetic over
single processes.  The host only reads what the run left behind through bounded
channels (capped stdout/stderr, capped collected files, kernel counters).

Contract
--------
``Sandbox(backend, limits).run(argv, files=, stdin=, collect=, env=, cwd_files_dir=)``

* creates a fresh private work dir, copies ``cwd_files_dir`` (a host tree) and
  then ``files`` (relative paths only; absolute paths and ``..`` raise
  ``ValueError``; content starting with ``#!`` is made executable) into it, and
  runs ``argv`` there -- the cwd is ``/work`` inside bwrap/docker;
* the environment is cleared: ``PATH``, ``HOME=/work``, ``LANG=C.UTF-8``,
  ``PYTHONDONTWRITEBYTECODE=1`` (bwrap also sets ``PWD``) plus the caller's ``env``;
* enforces :class:`Limits` per run: wall deadline (the whole process tree is
  killed), the whole-run caps below, ``RLIMIT_CPU/AS/NPROC/FSIZE/NOFILE`` and
  ``CORE=0`` per process, stdout and stderr each kept up to ``output_bytes``
  (the rest is drained and discarded, so the program never blocks; a stream
  beyond ``OUTPUT_KILL_FACTOR`` x the cap gets the program SIGKILLed);
* returns a :class:`RunResult`; ``collect`` names files read back from the work
  dir (regular files only, symlinks never followed, capped at ``file_mb``; not
  supported by the docker backend, whose work dir does not outlive the container);
* before returning, removes the work dir and the run's cgroup and -- for bwrap
  and docker -- leaves no process of the run alive (daemons that ``setsid()``
  and double-fork included).  ``run`` raises only for caller errors or a broken
  sandbox, never because of what the program did.  ``Sandbox`` is safe to use
  from threads.

``Sandbox.session(argv, files=, limits=, env=, cwd_files_dir=)`` (a context
manager; bwrap and unsafe-none) starts the same kind of run -- same isolation
and the same whole-run caps -- and yields a :class:`Session` to talk to it while
it runs: the program's stdin and stdout are one Unix stream socket (``send`` /
``recv`` / ``readline`` / ``read_exactly`` / ``close_stdin``), stderr is captured
as above, the wall deadline is enforced whenever the caller waits on it, and
leaving the block kills what is left, reaps it, removes the work dir and the
cgroup and sets ``session.result``.

Warm runs: ``rlvr.verifiers.sandbox_warm.WarmPool(sandbox, ...)`` offers ``run`` and
``session`` with the same results and Session API, without a sandbox and interpreter
start per run: long-lived zygotes (started by this module's bwrap backend in its
``supervisor`` mode) fork a child per run that gets its own namespaces, tmpfs, memory
cgroup, uid, rlimits and seccomp filter before anything of the run executes (see that
module).  It needs the bwrap backend as root and a writable memory cgroup; callers fall
back to cold runs elsewhere.

Whole-run caps
--------------
* Memory: each run gets its own memory cgroup, created below the cgroup this
  process sits in (or below ``RLVR_SANDBOX_CGROUP`` / ``memory_cgroup=``, a
  directory of a cgroup we may write): cgroup v2 ``memory.max`` with
  ``memory.swap.max=0``, or cgroup v1 ``memory.limit_in_bytes`` and
  ``memory.memsw.limit_in_bytes`` (``memory.swappiness=0`` where swap is not
  accounted), all set to ``Limits.memory_mb``.  The runtime (bwrap) is moved into
  it while it still blocks reading its options, so every process of the run is
  inside before the program's first instruction; the candidate cannot leave it
  (no ``/sys``, no capabilities, unprivileged uid).  It counts every page of the
  tree -- anonymous memory, page cache, kernel memory and the tmpfs pages the run
  writes (its disk is RAM, see below), so ``memory_mb`` bounds all of it.  An OOM
  kill is read from the cgroup's own counter (v1 ``memory.oom_control``, v2
  ``memory.events`` ``oom_kill``) and reported as ``memory_exceeded`` and
  ``oom_killed``; the peak usage is ``RunResult.memory_peak_bytes``.  The cgroup
  is created per run and removed after it (0.1 ms together; a fresh one has clean
  counters and no charges left by earlier runs, so reusing one per uid slot would
  gain nothing), so a sequence of runs leaves none behind; ones left by a crashed
  process are removed when the next process starts sandboxing.  What a run does
  pay is moving the runtime into it (cgroup v1: an RCU grace period, about 3 ms
  on a 2-core VM, more under load); for bwrap that is offset by no longer
  creating a work dir on the host disk.
  Fallback where no cgroup is writable (``memory_cgroup="auto"``; ``"required"``
  refuses instead): only the per-process ``RLIMIT_AS = memory_mb`` and the
  per-run ``RLIMIT_NPROC = processes`` hold, so the kernel-enforced bound of a
  whole run is ``memory_mb x processes`` (plus its tmpfs caps) -- weaker, and said
  so in ``RunResult.enforcement`` (``memory="rlimit"``, ``memory_bound_mb``).
  Lower ``processes`` to tighten it.
* Disk (bwrap): nothing of the run touches the host disk.  ``/work`` is a tmpfs
  of the input's size plus ``Limits.disk_mb``; ``/tmp`` and ``/dev/shm`` are
  tmpfs of ``Limits.tmp_mb`` each; the rest of the root is read-only.  The host
  fills ``/work`` while bwrap waits (``--block-fd``) after setting the mounts up,
  and reads collected files from it after the run through a descriptor it kept.
  Running as root, each tmpfs also gets an inode cap (``Limits.disk_files`` more
  than the input; ``fspick``/``fsconfig`` reconfigure), so a flood of empty files
  fails too.  A write past a cap fails with ``ENOSPC``; a run that filled any of
  them (bytes or inodes) is reported as ``disk_exceeded``.  Not root: the inode
  count is bounded only by the memory cgroup (or, without one, by tmpfs's
  default of half the RAM in pages).
* Processes: ``RLIMIT_NPROC`` per run (a uid of its own, see
  :class:`_BwrapBackend`); CPU: ``RLIMIT_CPU`` per process, the wall deadline
  for the whole tree.
* docker: container ``mem_limit`` = ``memswap_limit`` = ``memory_mb``,
  ``pids_limit`` = ``processes``, ``/work`` a tmpfs (input + ``disk_mb``, inode
  cap) filled from a read-only staging bind, ``/tmp`` a tmpfs and ``/dev/shm``
  of ``tmp_mb``; ``OOMKilled`` is reported as ``memory_exceeded``; a full tmpfs
  is not detectable after the container is gone.
* unsafe-none: the memory cgroup when one is writable (and every process left in
  it is killed when the program exits), else rlimits; the work dir is a plain
  host directory (no disk cap beyond ``RLIMIT_FSIZE`` per file).

Defaults (:class:`Limits`) are sized for a 2-core, 24 GiB machine running
several verifications at once: 1 GiB memory per run (tree, tmpfs included),
256 MiB written to ``/work``, 64 MiB each for ``/tmp`` and ``/dev/shm``, 10 000
new files per tmpfs, 64 processes, 10 s CPU per process and 10 s wall: eight
concurrent runs stay under 8 GiB.

A program killed by signal N is reported as ``exit_code=None, signal=N``.
bwrap and docker fold that into exit status 128+N, so for them statuses
129..192 are decoded as signals.  ``memory_exceeded`` is true when the run's
cgroup recorded an OOM kill (or docker's ``OOMKilled``) -- ``oom_killed`` says
this alone -- and also when the stderr tail shows a process failing its own
``RLIMIT_AS`` (``MemoryError``, ``std::bad_alloc``, ``Cannot allocate memory``...;
the program controls that text, so it can only claim a failure, never hide one).

Backends: ``"bwrap"`` (see :class:`_BwrapBackend`: namespaces incl. network,
read-only minimal root, tmpfs work dir, unprivileged uid, seccomp, rlimits,
memory cgroup), ``"docker"`` (SDK, local engine, network none, read-only rootfs,
cgroup limits, user 65534), and ``"unsafe-none"`` (rlimits + process-group kill,
NO isolation, only with ``allow_unsafe_unsandboxed=True``).  ``"auto"`` = bwrap
if it works, else docker if an engine answers, else unsafe-none if allowed, else
:class:`SandboxUnavailable` saying what to install.  ``Sandbox.enforcement``
says how the caps are enforced here (e.g. ``{"memory": "cgroup-v1", "disk":
"tmpfs", "inodes": "capped"}``) for verdict details; ``RunResult.enforcement``
says it for one run.

``Sandbox.python`` is an interpreter usable inside: under bwrap the host venv's
python at ``/venv/bin/python`` with its site-packages read-only (the project
tree is not mounted, so ``rlvr`` itself is not importable).  Start it with
``-I``, and ``-S`` when site-packages are not needed.  Use ``python -m pytest``
rather than venv console scripts (their shebangs are host paths).

Not contained: CPU time summed over many processes (``RLIMIT_CPU`` is per
process; the wall deadline bounds the total), I/O bandwidth, and kernel
vulnerabilities.
"""

from __future__ import annotations

import abc

import contextlib
import ctypes
import errno
import fcntl
import itertools
import json
import logging
import math
import mmap
import os
import platform
import re
import resource
import select
import selectors
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Callable

__all__ = [
    "Limits",
    "RunResult",
    "Sandbox",
    "SandboxUnavailable",
    "Session",
    "available_backends",
    "OUTPUT_KILL_FACTOR",
    "SANDBOX_WORKDIR",
]

log = logging.getLogger(__name__)

#: Working directory of the program inside the bwrap and docker sandboxes.
SANDBOX_WORKDIR = "/work"
#: A stream producing more than this many times ``Limits.output_bytes`` gets the program killed.
OUTPUT_KILL_FACTOR = 8
#: uid/gid of the sandboxed program inside a user namespace (non-root bwrap) and in docker.
NOBODY = 65534
#: First host uid of the per-slot uid range used when running bwrap as root.
DEFAULT_UID_BASE = 2_000_000_000
#: Seconds between the polite kill (the sandbox's pid 1) and killing the runtime process too.
KILL_GRACE_S = 2.0
#: Maximum number of concurrently running sandboxes per uid range.
MAX_SLOTS = 1024

_INSTALL_ADVICE = (
    "install bubblewrap (`apt-get install bubblewrap`; it needs unprivileged user namespaces "
    "when not run as root) or start a Docker engine (and `pip install 'rlvr[docker]'`); "
    "for trusted code only, pass allow_unsafe_unsandboxed=True"
)
_VENV_MOUNT = "/venv"
_TAIL_BYTES = 8192
# What the warm path's zygote keeps (it runs no untrusted code): new mount/IPC/network namespaces
# and tmpfs mounts per child (SYS_ADMIN), the child's uid/gid (SETUID, SETGID), emptying the
# child's bounding set (SETPCAP), giving the child's files to its uid (CHOWN), bringing up the
# loopback device of the child's network namespace (NET_ADMIN).
_SUPERVISOR_CAPS = ("CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP", "CAP_CHOWN", "CAP_NET_ADMIN")
_PAGE = mmap.PAGESIZE
_MEMORY_PATTERNS = (
    b"MemoryError",
    b"std::bad_alloc",
    b"Cannot allocate memory",
    b"cannot allocate memory",
    b"out of memory",
    b"Out of memory",
    b"OUT OF MEMORY",
    b"memory exhausted",
    b"ENOMEM",
)


class SandboxUnavailable(RuntimeError):
    """No usable sandbox backend (the message says what to install or start)."""


@dataclass(frozen=True)
class Limits:
    """Resource limits for one run (see "Whole-run caps" in the module docstring)."""

    wall_s: float = 10.0  # whole process tree killed at this deadline
    cpu_s: float = 10.0  # RLIMIT_CPU per process (soft; hard = soft + 1 s)
    memory_mb: int = 1024  # the whole run's memory cgroup (tmpfs pages included); also RLIMIT_AS per process
    processes: int = 64  # RLIMIT_NPROC for the run's unprivileged uid (docker: pids_limit)
    file_mb: int = 16  # RLIMIT_FSIZE; also the cap of each collected file
    open_files: int = 64  # RLIMIT_NOFILE
    output_bytes: int = 1 << 20  # stdout/stderr each kept up to this; > 8x this kills the program
    tmp_mb: int = 64  # size of the /tmp and /dev/shm tmpfs inside bwrap/docker
    disk_mb: int = 256  # what the run may write to /work beyond its input (tmpfs size = input + this)
    disk_files: int = 10_000  # files/dirs the run may create in /work (beyond its input), /tmp, /dev/shm

    def __post_init__(self) -> None:
        for name in ("wall_s", "cpu_s"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"Limits.{name} must be a positive finite number, got {value!r}")
        for name in ("memory_mb", "processes", "file_mb", "open_files", "output_bytes", "tmp_mb", "disk_mb", "disk_files"):
            value = getattr(self, name)
            if not (isinstance(value, int) and not isinstance(value, bool) and value > 0):
                raise ValueError(f"Limits.{name} must be a positive int, got {value!r}")
        if self.open_files < 16:
            # RLIMIT_NOFILE is inherited from bwrap, which needs ~11 descriptors while it sets up.
            raise ValueError("Limits.open_files must be at least 16")


@dataclass(frozen=True)
class RunResult:
    stdout: bytes  # capped at Limits.output_bytes
    stderr: bytes  # capped at Limits.output_bytes
    exit_code: int | None  # None when killed by a signal
    signal: int | None  # signal number that ended the program, else None
    timed_out: bool  # wall deadline hit (the program was killed)
    memory_exceeded: bool  # oom_killed, or a process reported failing its RLIMIT_AS (module docstring)
    output_truncated: bool  # stdout/stderr (or a collected file) was cut at its cap
    wall_s: float
    cpu_s: float  # user + system CPU of the whole tree (0.0 for docker)
    files: dict[str, bytes] = field(default_factory=dict)  # collected files, capped
    disk_exceeded: bool = False  # a size- or inode-capped filesystem of the run was full (writes got ENOSPC)
    oom_killed: bool = False  # the kernel OOM-killed a process of the run at its whole-run memory cap
    memory_peak_bytes: int | None = None  # peak memory of the whole run (its cgroup); None without one
    enforcement: dict[str, Any] = field(default_factory=dict)  # how the caps were enforced for this run

    @property
    def ok(self) -> bool:
        """Exited normally with status 0 and was not killed."""
        return self.exit_code == 0 and not self.timed_out


# --------------------------------------------------------------------------- paths and files


def _rel_parts(path: str, what: str = "path") -> tuple[str, ...]:
    """Validate a caller-supplied relative path; return its components."""
    if not isinstance(path, str) or not path or "\x00" in path:
        raise ValueError(f"{what} must be a non-empty string without NUL bytes: {path!r}")
    pure = PurePosixPath(path)
    if pure.is_absolute():
        raise ValueError(f"{what} must be relative to the work dir, got absolute {path!r}")
    parts = tuple(p for p in pure.parts if p not in ("", "."))
    if not parts or ".." in parts:
        raise ValueError(f"{what} must stay inside the work dir (no '..'): {path!r}")
    return parts


def _open_dir(root_fd: int, parts: Sequence[str], *, create: bool, owner: tuple[int, int] | None) -> int:
    """Open (optionally creating) the directory ``root/parts`` without following symlinks."""
    fd = os.dup(root_fd)
    try:
        for part in parts:
            if create:
                try:
                    os.mkdir(part, 0o755, dir_fd=fd)
                    if owner is not None:
                        os.chown(part, *owner, dir_fd=fd, follow_symlinks=False)
                except FileExistsError:
                    pass
            nfd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            os.close(fd)
            fd = nfd
        return fd
    except BaseException:
        os.close(fd)
        raise


def _write_file(root_fd: int, parts: tuple[str, ...], data: bytes, owner: tuple[int, int] | None) -> None:
    dfd = _open_dir(root_fd, parts[:-1], create=True, owner=owner)
    try:
        mode = 0o755 if data.startswith(b"#!") else 0o644
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        fd = os.open(parts[-1], flags, mode, dir_fd=dfd)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ValueError(f"files: {'/'.join(parts)!r} exists and is not a regular file")
            os.set_blocking(fd, True)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fchmod(fd, mode)
            if owner is not None:
                os.fchown(fd, *owner)
        finally:
            os.close(fd)
    finally:
        os.close(dfd)


def _read_collected(root_fd: int, parts: tuple[str, ...], cap: int) -> tuple[bytes, bool] | None:
    """Read a regular file below root without following symlinks; None if absent/not regular."""
    try:
        dfd = _open_dir(root_fd, parts[:-1], create=False, owner=None)
    except OSError:
        return None
    try:
        try:
            fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dfd)
        except OSError:
            return None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            chunks, size = [], 0
            while size <= cap:
                chunk = os.read(fd, min(1 << 20, cap + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            data = b"".join(chunks)
            return (data[:cap], True) if len(data) > cap else (data, False)
        finally:
            os.close(fd)
    finally:
        os.close(dfd)


def _chown_tree(root_fd: int, uid: int, gid: int) -> None:
    """Give the directory ``root_fd`` and everything below it (symlinks themselves) to uid/gid."""
    os.fchown(root_fd, uid, gid)
    for _, dirnames, filenames, dir_fd in os.fwalk(".", dir_fd=root_fd):
        for name in dirnames + filenames:
            os.chown(name, uid, gid, dir_fd=dir_fd, follow_symlinks=False)


def _populate(root: str, payload: Sequence[tuple[tuple[str, ...], bytes]], cwd_files_dir: str | None,
              owner: tuple[int, int] | None) -> None:
    """Fill the (existing) work dir ``root``: a copy of ``cwd_files_dir``, then ``payload``."""
    if cwd_files_dir is not None:
        shutil.copytree(cwd_files_dir, root, symlinks=True, dirs_exist_ok=True)
    root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fchmod(root_fd, 0o755)
        for parts, data in payload:
            _write_file(root_fd, parts, data, None)
        if owner is not None:
            _chown_tree(root_fd, *owner)
    finally:
        os.close(root_fd)


def _input_size(payload: Sequence[tuple[tuple[str, ...], bytes]], cwd_files_dir: str | None) -> tuple[int, int]:
    """(bytes, entries) the work dir's input takes on a tmpfs -- an upper bound (page-rounded, one
    spare page per entry) used to size the tmpfs before it is filled."""
    pages = entries = 0
    if cwd_files_dir is not None:
        for dirpath, dirnames, filenames in os.walk(cwd_files_dir):
            entries += len(dirnames) + len(filenames)
            pages += len(dirnames)
            for name in filenames:
                size = os.lstat(os.path.join(dirpath, name)).st_size
                pages += -(-size // _PAGE) + 1
    for parts, data in payload:
        pages += -(-len(data) // _PAGE) + 1
        entries += len(parts)
    return pages * _PAGE, entries


def _chmod_tree_world_writable(path: str) -> None:
    """For docker without root: let container uid 65534 use the (private, 0700-parented) tree."""
    for dirpath, dirnames, filenames in os.walk(path):
        os.chmod(dirpath, 0o777)
        for name in filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            if stat.S_ISREG(st.st_mode):
                os.chmod(full, 0o777 if st.st_mode & 0o111 else 0o666)


def _rmtree(path: str) -> None:
    """Remove a run dir, even if the program left directories without permissions."""
    if not os.path.lexists(path):
        return
    shutil.rmtree(path, ignore_errors=True)
    if not os.path.lexists(path):
        return
    for dirpath, dirnames, _ in os.walk(path):  # os.walk does not follow symlinks
        for name in dirnames:
            full = os.path.join(dirpath, name)
            try:
                if not os.path.islink(full):
                    os.chmod(full, 0o700)
            except OSError:
                pass
    try:
        os.chmod(path, 0o700)
    except OSError:
        pass
    shutil.rmtree(path, ignore_errors=True)
    if os.path.lexists(path):
        log.warning("sandbox: could not remove %s", path)


def _private_dir(path: str) -> str:
    """Create (or check) a directory owned by us with mode 0700; refuse symlinks/foreign owners."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
        raise SandboxUnavailable(f"sandbox temp root {path!r} is not a directory owned by uid {os.geteuid()}")
    if st.st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


def _default_tmp_root() -> str:
    return os.path.join(tempfile.gettempdir(), f"rlvr-sandbox-{os.geteuid()}")


# --------------------------------------------------------------------------- uid slots


class _UidPool:
    """Hands out host uids ``base + slot``, exclusive across threads and processes.

    Cross-process exclusivity uses ``flock`` on one lock file per uid; a process
    keeps the locks it acquired (and reuses those slots) until it exits.
    """

    def __init__(self, base: int, lock_dir: str) -> None:
        self.base = base
        self.lock_dir = lock_dir
        self._lock = threading.Lock()
        self._free: list[int] = []
        self._held: dict[int, int] = {}  # uid -> lock fd

    def acquire(self) -> int:
        with self._lock:
            if self._free:
                return self._free.pop()
            _private_dir(self.lock_dir)
            for slot in range(MAX_SLOTS):
                uid = self.base + slot
                if uid in self._held:
                    continue
                fd = os.open(os.path.join(self.lock_dir, f"{uid}.lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)
                    continue
                self._held[uid] = fd
                return uid
        raise SandboxUnavailable(f"all {MAX_SLOTS} sandbox uids starting at {self.base} are in use")

    def release(self, uid: int) -> None:
        with self._lock:
            self._free.append(uid)


def _lock_dir() -> str:
    """Where per-uid lock files live; must be the same for every process on the host."""
    if os.environ.get("RLVR_SANDBOX_LOCK_DIR"):
        return os.environ["RLVR_SANDBOX_LOCK_DIR"]
    if os.geteuid() == 0 and os.path.isdir("/run/lock"):
        return "/run/lock/rlvr-sandbox-uids"
    return os.path.join(tempfile.gettempdir(), f"rlvr-sandbox-uids-{os.geteuid()}")


_UID_POOLS: dict[int, _UidPool] = {}
_UID_POOLS_LOCK = threading.Lock()


def _uid_pool(base: int) -> _UidPool:
    with _UID_POOLS_LOCK:
        pool = _UID_POOLS.get(base)
        if pool is None:
            pool = _UID_POOLS[base] = _UidPool(base, _lock_dir())
        return pool


# --------------------------------------------------------------------------- memory cgroups

_CGROUP_ENV = "RLVR_SANDBOX_CGROUP"
_CGROUP_MODES = ("auto", "required", "off")
_CGROUP_NAME = re.compile(r"rlvr-(\d+)-\d+")
_CGROUP_SERIAL = itertools.count()


def _parse_proc_cgroup(text: str) -> tuple[str | None, str | None]:
    """(cgroup v2 path, cgroup v1 memory-controller path) of a process, from /proc/PID/cgroup."""
    v2 = v1 = None
    for line in text.splitlines():
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and controllers == "":
            v2 = path
        elif "memory" in controllers.split(","):
            v1 = path
    return v2, v1


def _unescape_mountinfo(field_text: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field_text)


def _cgroup_mounts(mountinfo: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(v2 mounts, v1 memory mounts) as (root within the hierarchy, mount point), from /proc/PID/mountinfo."""
    v2: list[tuple[str, str]] = []
    v1: list[tuple[str, str]] = []
    for line in mountinfo.splitlines():
        fields = line.split()
        if "-" not in fields:
            continue
        sep = fields.index("-")
        if sep < 5 or len(fields) < sep + 4:
            continue
        root, point = _unescape_mountinfo(fields[3]), _unescape_mountinfo(fields[4])
        fstype, super_options = fields[sep + 1], fields[sep + 3]
        if fstype == "cgroup2":
            v2.append((root, point))
        elif fstype == "cgroup" and "memory" in super_options.split(","):
            v1.append((root, point))
    return v2, v1


def _cgroup_dir(mounts: list[tuple[str, str]], path: str) -> str | None:
    """The directory of cgroup ``path`` under one of ``mounts`` (a mount may show only a subtree)."""
    for root, point in mounts:
        if root == "/":
            rel = path
        elif path == root or path.startswith(root.rstrip("/") + "/"):
            rel = path[len(root.rstrip("/")):]
        else:
            continue
        candidate = os.path.join(point, rel.lstrip("/"))
        if os.path.isdir(candidate):
            return os.path.normpath(candidate)
    return None


def _write_text(path: str, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def _read_text(path: str) -> str:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return os.read(fd, 1 << 16).decode(errors="replace")
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _CgroupParent:
    """A cgroup directory we may create memory cgroups in (one per run, see :class:`_RunCgroup`)."""

    def __init__(self, path: str, version: int) -> None:
        self.path = path
        self.version = version

    @property
    def kind(self) -> str:
        return f"cgroup-v{self.version}"

    def create(self, limits: Limits) -> _RunCgroup:
        return _RunCgroup(self, limits.memory_mb << 20)

    def sweep(self) -> None:
        """Remove empty run cgroups left behind by processes that died."""
        try:
            names = os.listdir(self.path)
        except OSError:
            return
        for name in names:
            match = _CGROUP_NAME.fullmatch(name)
            if match and int(match.group(1)) != os.getpid() and not _pid_alive(int(match.group(1))):
                try:
                    os.rmdir(os.path.join(self.path, name))
                except OSError:
                    pass


class _RunCgroup:
    """The memory cgroup of one run: created with its cap, joined by the runtime, removed after."""

    def __init__(self, parent: _CgroupParent, limit_bytes: int) -> None:
        self.version = parent.version
        self.kind = parent.kind
        self.path = os.path.join(parent.path, f"rlvr-{os.getpid()}-{next(_CGROUP_SERIAL)}")
        os.mkdir(self.path, 0o755)
        self.limit_bytes = 0
        try:
            self._memsw = self.version == 1 and os.path.exists(self._file("memory.memsw.limit_in_bytes"))
            if self.version == 2:
                if os.path.exists(self._file("memory.swap.max")):
                    self._write("memory.swap.max", "0")
            elif not self._memsw:  # swap not accounted: keep the run's anonymous memory out of swap
                self._write("memory.swappiness", "0")
            self.set_limit(limit_bytes)
        except BaseException:
            self.remove()
            raise

    def set_limit(self, limit_bytes: int) -> None:
        """Set the cap (memory + swap: no swap) -- before the run's first instruction."""
        if limit_bytes == self.limit_bytes:
            return
        if self.version == 2:
            self._write("memory.max", str(limit_bytes))
        else:  # v1 wants memory.limit_in_bytes <= memory.memsw.limit_in_bytes at every step
            names = ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"] if self._memsw else ["memory.limit_in_bytes"]
            for name in (names if limit_bytes < self.limit_bytes or not self.limit_bytes else names[::-1]):
                self._write(name, str(limit_bytes))
        self.limit_bytes = limit_bytes

    def _file(self, name: str) -> str:
        return os.path.join(self.path, name)

    def _write(self, name: str, value: str) -> None:
        _write_text(self._file(name), value)

    def join(self, pid: int) -> None:
        """Move process ``pid`` (and so everything it starts afterwards) into the cgroup."""
        self._write("cgroup.procs", str(pid))

    def oom_kills(self) -> int:
        """OOM kills inside the cgroup so far (v1 ``memory.oom_control``, v2 ``memory.events``)."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        try:
            text = _read_text(self._file(name))
        except OSError:
            return 0
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        # kernels before 4.13 (v1) have no oom_kill count: hitting the cap is the best signal left
        try:
            return int(_read_text(self._file("memory.failcnt")))
        except (OSError, ValueError):
            return 0

    def peak(self) -> int | None:
        name = "memory.peak" if self.version == 2 else "memory.max_usage_in_bytes"
        try:
            return int(_read_text(self._file(name)))
        except (OSError, ValueError):
            return None

    def pids(self) -> list[int]:
        try:
            return [int(p) for p in _read_text(self._file("cgroup.procs")).split()]
        except (OSError, ValueError):
            return []

    def kill_all(self, timeout: float = 5.0) -> None:
        """SIGKILL every process in the cgroup until it is empty (or ``timeout`` passes)."""
        if self.version == 2 and os.path.exists(self._file("cgroup.kill")):
            _quiet(lambda: self._write("cgroup.kill", "1"))
        end = time.monotonic() + timeout
        while True:
            pids = self.pids()
            if not pids or time.monotonic() > end:
                return
            for pid in pids:
                self._kill_member(pid)
            time.sleep(0.002)

    def kill_members(self) -> None:
        """SIGKILL every process in the cgroup once (without waiting for them to go)."""
        for pid in self.pids():
            self._kill_member(pid)

    def _kill_member(self, pid: int) -> None:
        """SIGKILL ``pid`` if it is (still) this cgroup's: a recycled pid is never signalled."""
        pidfd = _pidfd_or_none(pid)
        if pidfd is None:
            return
        try:
            try:
                text = _read_text(f"/proc/{pid}/cgroup")
            except OSError:
                return
            member = any(line.endswith("/" + os.path.basename(self.path)) for line in text.splitlines())
            # the pidfd still refers to a live process, so /proc/{pid} above was that same process
            if member and not _pidfd_exited(pidfd):
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        except OSError:
            pass
        finally:
            os.close(pidfd)

    def remove(self) -> None:
        """rmdir the cgroup, killing what is left in it first (only after errors)."""
        for _ in range(200):
            try:
                os.rmdir(self.path)
                return
            except FileNotFoundError:
                return
            except OSError as exc:
                if exc.errno != errno.EBUSY:
                    log.warning("sandbox: could not remove cgroup %s: %s", self.path, exc)
                    return
            self.kill_all(timeout=1.0)
            time.sleep(0.005)
        log.warning("sandbox: cgroup %s still busy; left behind", self.path)


_CGROUP_PARENTS: dict[str, tuple[_CgroupParent | None, str]] = {}
_CGROUP_LOCK = threading.Lock()


def _cgroup_parent(spec: str) -> tuple[_CgroupParent | None, str]:
    """Where run cgroups go for ``spec`` ("auto", "required", "off" or a cgroup directory), or (None, why not).

    Found once per process: a probe cgroup is created, capped and removed."""
    if spec == "off":
        return None, "memory_cgroup='off'"
    with _CGROUP_LOCK:
        if spec not in _CGROUP_PARENTS:
            _CGROUP_PARENTS[spec] = _find_cgroup_parent(spec)
        return _CGROUP_PARENTS[spec]


def _find_cgroup_parent(spec: str) -> tuple[_CgroupParent | None, str]:
    candidates: list[tuple[str, int]] = []
    if spec not in ("auto", "required"):
        if not os.path.isabs(spec) or not os.path.isdir(spec):
            return None, f"memory_cgroup {spec!r} is not an existing absolute directory"
        version = 2 if os.path.exists(os.path.join(spec, "cgroup.controllers")) else 1
        candidates.append((spec, version))
    else:
        try:
            v2_path, v1_path = _parse_proc_cgroup(_read_text("/proc/self/cgroup"))
            with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as fh:
                v2_mounts, v1_mounts = _cgroup_mounts(fh.read())
        except OSError as exc:
            return None, f"cannot read this process's cgroups: {exc}"
        if v2_path is not None:
            found = _cgroup_dir(v2_mounts, v2_path)
            if found:
                candidates.append((found, 2))
        if v1_path is not None:
            found = _cgroup_dir(v1_mounts, v1_path)
            if found:
                candidates.append((found, 1))
    reasons = []
    for path, version in candidates:
        if version == 2:
            try:
                delegated = "memory" in _read_text(os.path.join(path, "cgroup.subtree_control")).split()
            except OSError:
                delegated = False
            if not delegated:
                reasons.append(f"{path}: the memory controller is not enabled for child cgroups (cgroup.subtree_control)")
                continue
        parent = _CgroupParent(path, version)
        try:
            _RunCgroup(parent, 64 << 20).remove()
        except OSError as exc:
            reasons.append(f"{path}: cannot create a capped child cgroup ({exc})")
            continue
        parent.sweep()
        return parent, ""
    if not candidates:
        reasons.append("no memory cgroup (v2 with memory delegated, or v1 memory controller) is mounted for this process")
    return None, "; ".join(reasons)


# --------------------------------------------------------------------------- run filesystems (bwrap tmpfs)

_FSPICK_NR, _FSCONFIG_NR = 433, 431  # same number on x86_64, aarch64 and the generic syscall table
_FSPICK_CLOEXEC, _FSPICK_EMPTY_PATH = 0x1, 0x8
_FSCONFIG_SET_STRING, _FSCONFIG_CMD_RECONFIGURE = 1, 7
_TMPFS_RECONFIGURE = {"usable": platform.machine().lower() in ("x86_64", "amd64", "aarch64", "arm64")}


def _reconfigure_tmpfs(fd: int, options: Mapping[str, str]) -> bool:
    """Change options (``size``, ``nr_inodes``) of the tmpfs whose root ``fd`` is; False if not allowed here."""
    if not _TMPFS_RECONFIGURE["usable"]:
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    context = libc.syscall(ctypes.c_long(_FSPICK_NR), ctypes.c_int(fd), ctypes.c_char_p(b""),
                           ctypes.c_uint(_FSPICK_CLOEXEC | _FSPICK_EMPTY_PATH))
    if context < 0:
        err = ctypes.get_errno()
        if err in (errno.EPERM, errno.ENOSYS, errno.EACCES):
            _TMPFS_RECONFIGURE["usable"] = False  # not root here (or an old kernel): stop trying
        return False
    try:
        for key, value in options.items():
            if libc.syscall(ctypes.c_long(_FSCONFIG_NR), ctypes.c_int(context), ctypes.c_uint(_FSCONFIG_SET_STRING),
                            ctypes.c_char_p(key.encode()), ctypes.c_char_p(value.encode()), ctypes.c_int(0)) < 0:
                return False
        return libc.syscall(ctypes.c_long(_FSCONFIG_NR), ctypes.c_int(context), ctypes.c_uint(_FSCONFIG_CMD_RECONFIGURE),
                            None, None, ctypes.c_int(0)) == 0
    finally:
        os.close(context)


def _filesystem_full(fd: int) -> bool:
    """Every block or every inode of the filesystem of ``fd`` is in use (the next write gets ENOSPC)."""
    try:
        st = os.fstatvfs(fd)
    except OSError:
        return False
    return st.f_bavail == 0 or (st.f_files > 0 and st.f_favail == 0)


def _pidfd_exited(pidfd: int) -> bool:
    readable, _, _ = select.select([pidfd], [], [], 0)
    return bool(readable)


def _parent_pid(pid: int) -> int | None:
    try:
        text = _read_text(f"/proc/{pid}/status")
    except OSError:
        return None
    match = re.search(r"^PPid:\s*(\d+)", text, re.M)
    return int(match.group(1)) if match else None


class _RunMounts:
    """The tmpfs filesystems of one bwrap run (``/work``, ``/tmp``, ``/dev/shm``), held from the host.

    bwrap mounts them and then waits on ``--block-fd``; the host opens their roots through
    ``/proc/<pid 1>/root`` (no untrusted code runs yet, so the paths are what bwrap made),
    fills ``/work``, caps the inodes, and lets the program start.  The descriptors keep the
    filesystems readable after the sandbox's mount namespace is gone (to collect files and
    see whether a cap was hit); closing them frees the memory.
    """

    READY_TIMEOUT_S = 10.0

    def __init__(self, work_fd: int, other_fds: list[int]) -> None:
        self.work_fd = work_fd
        self.other_fds = other_fds
        self.inodes_capped = False

    @classmethod
    def attach(cls, child_pid: int, bwrap_pid: int, pidfd: int) -> _RunMounts | None:
        """Wait until the sandbox's pid ``child_pid`` has its new root, then open its tmpfs roots.

        None if it exited first (bwrap failed; its stderr says why)."""
        root = f"/proc/{child_pid}/root"
        host_root = os.stat("/")
        end = time.monotonic() + cls.READY_TIMEOUT_S
        while True:
            try:
                new_root, work = os.stat(root), os.stat(root + SANDBOX_WORKDIR)
                # before bwrap's pivots /proc/PID/root is the host's root or bwrap's staging tmpfs
                # (which has no work dir); afterwards it is the new root, /work a mount of its own
                if (new_root.st_dev, new_root.st_ino) != (host_root.st_dev, host_root.st_ino) and work.st_dev != new_root.st_dev:
                    break
            except OSError:
                pass
            if time.monotonic() > end:
                raise SandboxUnavailable(f"bwrap did not finish setting up within {cls.READY_TIMEOUT_S:.0f} s")
            if select.select([pidfd], [], [], 0.0003)[0]:
                return None
        opened: list[int] = []
        try:
            opened.append(os.open(root + SANDBOX_WORKDIR, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
            for extra in ("/tmp", "/dev/shm"):
                opened.append(os.open(root + extra, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC))
            # the pid was bwrap's child when we looked, and is still alive: these are its mounts
            if _parent_pid(child_pid) != bwrap_pid or _pidfd_exited(pidfd):
                _close_all(opened)
                return None
        except OSError:
            _close_all(opened)
            if _pidfd_exited(pidfd):
                return None
            raise
        return cls(opened[0], opened[1:])

    def populate(self, prep: _Prepared, owner: tuple[int, int] | None, limits: Limits, cap_inodes: bool) -> None:
        _populate(f"/proc/self/fd/{self.work_fd}", prep.payload, prep.cwd_files_dir, owner)
        if not cap_inodes:
            return
        st = os.fstatvfs(self.work_fd)
        used_bytes = (st.f_blocks - st.f_bfree) * st.f_frsize
        work = {"size": str(used_bytes + (limits.disk_mb << 20)),
                "nr_inodes": str(st.f_files - st.f_ffree + limits.disk_files)}
        capped = _reconfigure_tmpfs(self.work_fd, work)
        for fd in self.other_fds:
            st = os.fstatvfs(fd)
            capped = capped and _reconfigure_tmpfs(fd, {"nr_inodes": str(st.f_files - st.f_ffree + limits.disk_files)})
        self.inodes_capped = capped

    def full(self) -> bool:
        return any(_filesystem_full(fd) for fd in (self.work_fd, *self.other_fds))

    def close(self) -> None:
        fds = [self.work_fd, *self.other_fds]
        self.work_fd, self.other_fds = -1, []
        _close_all([fd for fd in fds if fd >= 0])


# --------------------------------------------------------------------------- seccomp


def _seccomp_program() -> bytes | None:
    """Classic-BPF seccomp filter (see module docstring); None on unsupported architectures."""
    machine = platform.machine().lower()
    if machine in ("x86_64", "amd64"):
        arch, x32_bit = 0xC000003E, True
        nr = dict(clone=56, unshare=272, setns=308, clone3=435)
        eperm = [
            101, 165, 166, 155, 250, 248, 249, 298, 321, 323, 425, 426, 427, 304, 303, 246, 320,
            175, 313, 176, 103, 163, 167, 168, 169, 172, 173, 179, 212, 153, 428, 429, 430, 431,
            432, 433, 442, 308, 161, 310, 311, 438, 29,
        ]  # ptrace mount umount2 pivot_root keyctl add_key request_key perf_event_open bpf
        #    userfaultfd io_uring_* open_by_handle_at name_to_handle_at kexec_* *module syslog
        #    acct swapon swapoff reboot iopl ioperm quotactl lookup_dcookie vhangup
        #    open_tree move_mount fsopen fsconfig fsmount fspick mount_setattr setns chroot
        #    process_vm_readv process_vm_writev pidfd_getfd shmget (SysV segments outlive
        #    their processes and are in no address space: memory no per-process limit sees)
    elif machine in ("aarch64", "arm64"):
        arch, x32_bit = 0xC00000B7, False
        nr = dict(clone=220, unshare=97, setns=268, clone3=435)
        eperm = [
            117, 40, 39, 41, 219, 217, 218, 241, 280, 282, 425, 426, 427, 265, 264, 104, 294,
            105, 273, 106, 116, 89, 224, 225, 142, 60, 58, 428, 429, 430, 431, 432, 433, 442,
            268, 51, 270, 271, 438, 194,
        ]
    else:
        return None
    ns_flags = 0x00000080 | 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000
    ret_allow, ret_kill = 0x7FFF0000, 0x80000000
    ret_eperm, ret_enosys = 0x00050000 | errno.EPERM, 0x00050000 | errno.ENOSYS
    # (code, jt-label, jf-label, k); labels are resolved to relative jumps below.
    ld_abs, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    prog: list[tuple[int, Any, Any, int]] = [
        (ld_abs, 0, 0, 4),  # seccomp_data.arch
        (jeq, 1, 0, arch),
        (ret, 0, 0, ret_kill),
        (ld_abs, 0, 0, 0),  # seccomp_data.nr
    ]
    if x32_bit:
        prog.append((jge, "enosys", 0, 0x40000000))
    for number in sorted(set(eperm)):
        prog.append((jeq, "eperm", 0, number))
    prog.append((jeq, "enosys", 0, nr["clone3"]))
    prog.append((jeq, "nscheck", 0, nr["clone"]))
    prog.append((jeq, "nscheck", 0, nr["unshare"]))
    prog.append((ret, 0, 0, ret_allow))
    labels = {"nscheck": len(prog)}
    prog.append((ld_abs, 0, 0, 16))  # low 32 bits of args[0] (little endian)
    prog.append((jset, "eperm", 0, ns_flags))
    prog.append((ret, 0, 0, ret_allow))
    labels["eperm"] = len(prog)
    prog.append((ret, 0, 0, ret_eperm))
    labels["enosys"] = len(prog)
    prog.append((ret, 0, 0, ret_enosys))
    out = bytearray()
    for i, (code, jt, jf, k) in enumerate(prog):
        jt = labels[jt] - i - 1 if isinstance(jt, str) else jt
        jf = labels[jf] - i - 1 if isinstance(jf, str) else jf
        if not (0 <= jt < 256 and 0 <= jf < 256):
            raise AssertionError("seccomp jump out of range")
        out += struct.pack("=HBBI", code, jt, jf, k)
    return bytes(out)


_SECCOMP = _seccomp_program()


# --------------------------------------------------------------------------- process supervision


class _Capture:
    __slots__ = ("cap", "data", "total", "tail")

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.data = bytearray()
        self.total = 0
        self.tail = b""

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.cap - len(self.data)
        if room > 0:
            self.data += chunk[:room]
        self.tail = (self.tail + chunk)[-_TAIL_BYTES:]

    @property
    def truncated(self) -> bool:
        return self.total > self.cap


@dataclass
class _Outcome:
    stdout: _Capture
    stderr: _Capture
    status: int | None  # raw wait status (None if unknown)
    exit_code: int | None  # decoded exit code when not killed by us
    signal: int | None
    timed_out: bool
    output_killed: bool
    wall_s: float
    cpu_s: float
    oom_killed: bool = False  # the kernel OOM-killed a process of the run (cgroup count, docker OOMKilled)
    memory_peak_bytes: int | None = None
    disk_exceeded: bool = False
    enforcement: dict[str, Any] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    files_truncated: bool = False


def _supervise(
    proc: subprocess.Popen,
    out_fd: int,
    err_fd: int,
    limits: Limits,
    kill: Callable[[], None],
    on_exit: Callable[[], None],
    t0: float,
    force_kill: Callable[[], None] | None = None,
) -> _Outcome:
    """Drain stdout/stderr with caps, enforce the wall deadline, reap the child (with rusage).

    ``kill`` is called at the deadline or on output flood; if the child has not exited
    ``KILL_GRACE_S`` later, ``force_kill`` (default: ``kill``) is called.  ``on_exit`` runs
    as soon as the child has exited (before the remaining output is drained).
    """
    force_kill = force_kill or kill
    killed_at = 0.0
    caps = {out_fd: _Capture(limits.output_bytes), err_fd: _Capture(limits.output_bytes)}
    flood_limit = limits.output_bytes * OUTPUT_KILL_FACTOR
    deadline = t0 + limits.wall_s
    sel = selectors.DefaultSelector()
    pidfd = None
    timed_out = output_killed = killed = exited = False
    drain_until = None
    try:
        for fd in (out_fd, err_fd):
            os.set_blocking(fd, False)
            sel.register(fd, selectors.EVENT_READ)
        try:
            pidfd = os.pidfd_open(proc.pid)
            sel.register(pidfd, selectors.EVENT_READ)
        except (AttributeError, OSError):
            pidfd = None
        open_streams = 2
        while True:
            now = time.monotonic()
            if not exited and os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                exited = True
                wall = now - t0
                on_exit()
                drain_until = now + 1.0
                if pidfd is not None:
                    sel.unregister(pidfd)
            if not exited and not killed and now >= deadline:
                timed_out = killed = True
                killed_at = now
                kill()
            if not exited and killed and killed_at and now >= killed_at + KILL_GRACE_S:
                killed_at = 0.0
                force_kill()
            if exited and (open_streams == 0 or now >= drain_until):
                break
            if exited:
                timeout = drain_until - now
            elif killed:
                timeout = 0.05 if pidfd is None else (max(0.0, killed_at + KILL_GRACE_S - now) if killed_at else 1.0)
            else:
                timeout = deadline - now
                if pidfd is None:
                    timeout = min(timeout, 0.02)
            for key, _ in sel.select(max(timeout, 0.0)):
                fd = key.fd
                if fd == pidfd:
                    continue  # handled by waitid at the top of the loop
                try:
                    chunk = os.read(fd, 1 << 16)
                except BlockingIOError:
                    continue
                except OSError:
                    chunk = b""
                if not chunk:
                    sel.unregister(fd)
                    open_streams -= 1
                    continue
                cap = caps[fd]
                cap.feed(chunk)
                if cap.total > flood_limit and not killed:
                    output_killed = killed = True
                    killed_at = time.monotonic()
                    kill()
    finally:
        sel.close()
        if pidfd is not None:
            os.close(pidfd)
    _, status, rusage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    code = proc.returncode
    if killed:  # whatever the runtime reports, we killed it
        exit_code, sig = None, int(signal.SIGKILL)
    else:
        exit_code, sig = (code, None) if code >= 0 else (None, -code)
    return _Outcome(
        stdout=caps[out_fd],
        stderr=caps[err_fd],
        status=status,
        exit_code=exit_code,
        signal=sig,
        timed_out=timed_out,
        output_killed=output_killed,
        wall_s=wall,
        cpu_s=rusage.ru_utime + rusage.ru_stime,
    )


def _decode_runtime_status(code: int | None, sig: int | None) -> tuple[int | None, int | None]:
    """bwrap/docker report 'killed by signal N' as exit status 128+N."""
    if code is not None and 128 < code <= 128 + 64:
        return None, code - 128
    return code, sig


def _memfd_with(data: bytes) -> int:
    fd = os.memfd_create("rlvr-stdin", os.MFD_CLOEXEC) if hasattr(os, "memfd_create") else None
    if fd is None:  # pragma: no cover - non-Linux
        tmp = tempfile.TemporaryFile()
        tmp.write(data)
        tmp.flush()
        fd = os.dup(tmp.fileno())
        tmp.close()
    else:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _pipe_with(data: bytes) -> int:
    """A pipe read end pre-filled with ``data`` (must fit in the pipe buffer)."""
    r, w = os.pipe()
    try:
        if len(data) > 60000:
            raise ValueError("inline bwrap data too large for a pipe")
        os.write(w, data)
    finally:
        os.close(w)
    return r


def _rlimits(limits: Limits) -> list[tuple[int, tuple[int, int]]]:
    cpu = max(1, math.ceil(limits.cpu_s))
    return [
        (resource.RLIMIT_CPU, (cpu, cpu + 1)),
        (resource.RLIMIT_AS, (limits.memory_mb << 20, limits.memory_mb << 20)),
        (resource.RLIMIT_NPROC, (limits.processes, limits.processes)),
        (resource.RLIMIT_FSIZE, (limits.file_mb << 20, limits.file_mb << 20)),
        (resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files)),
        (resource.RLIMIT_CORE, (0, 0)),
    ]


def _prlimit_argv(prlimit: str, limits: Limits) -> list[str]:
    names = {
        resource.RLIMIT_CPU: "--cpu",
        resource.RLIMIT_AS: "--as",
        resource.RLIMIT_NPROC: "--nproc",
        resource.RLIMIT_FSIZE: "--fsize",
        resource.RLIMIT_NOFILE: "--nofile",
        resource.RLIMIT_CORE: "--core",
    }
    out = [prlimit]
    for res, (soft, hard) in _rlimits(limits):
        out.append(f"{names[res]}={soft}:{hard}")
    out.append("--")
    return out


# --------------------------------------------------------------------------- backends


@dataclass
class _Prepared:
    run_dir: str | None  # private host dir of the run (None when the backend needs none)
    work_dir: str | None  # filled host work dir; None for bwrap, whose /work is a tmpfs filled in spawn
    env: dict[str, str]
    payload: list[tuple[tuple[str, ...], bytes]]  # ``files``: relative path parts and content
    cwd_files_dir: str | None
    input_bytes: int  # what the input takes on a tmpfs (upper bound)
    input_entries: int  # files and directories of the input (upper bound)


def _memory_enforcement(cgroup: _RunCgroup | None, limits: Limits) -> dict[str, Any]:
    """How a run's memory is capped: its cgroup, or per-process rlimits (whole-run bound AS x NPROC)."""
    if cgroup is not None:
        return {"memory": cgroup.kind, "memory_bound_mb": limits.memory_mb}
    return {"memory": "rlimit", "memory_bound_mb": limits.memory_mb * limits.processes}


class _Backend(abc.ABC):
    name = "?"
    workdir: str | None = SANDBOX_WORKDIR
    host_work_dir = True  # the work dir is a host directory filled before spawn (bwrap: a tmpfs, filled in spawn)
    cgroups: _CgroupParent | None = None  # where run memory cgroups go; None: rlimits only

    def new_cgroup(self, limits: Limits) -> _RunCgroup | None:
        return self.cgroups.create(limits) if self.cgroups is not None else None

    @property
    @abc.abstractmethod
    def python(self) -> str:
        """Path of the interpreter inside the sandbox."""

    def owner_for(self, slot_uid: int | None) -> tuple[int, int] | None:
        """uid/gid the work tree must belong to, or None to leave it as is."""
        return None

    def prepare_tree(self, work_dir: str) -> None:
        """Backend-specific fix-ups of the populated work tree."""

    def default_env(self, work_dir: str | None) -> dict[str, str]:
        return {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": self.workdir or work_dir or "/",
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
        }

    def spawn(
        self, argv: list[str], prep: _Prepared, stdin_fd: int | None, stdout_fd: int, stderr_fd: int,
        limits: Limits, slot_uid: int | None,
    ) -> _Spawned:
        """Start ``argv`` with the given descriptors as its stdin (None: /dev/null), stdout and stderr."""
        raise SandboxUnavailable(f"the {self.name} backend cannot start interactive sessions")

    def decode_status(self, outcome: _Outcome) -> _Outcome:
        """Backend-specific reading of the exit status (bwrap folds signals into 128+N)."""
        return outcome

    def execute(self, argv: list[str], prep: _Prepared, stdin: bytes, limits: Limits, slot_uid: int | None,
                wanted: Sequence[tuple[str, tuple[str, ...]]] = ()) -> _Outcome:
        """Run to completion with stdout and stderr captured, then read back the ``wanted`` files
        (bwrap, unsafe-none; docker overrides)."""
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        ours = [out_r, err_r]
        theirs = [out_w, err_w]
        spawned = None
        try:
            stdin_fd = None
            if stdin:
                stdin_fd = _memfd_with(stdin)
                theirs.append(stdin_fd)
            spawned = self.spawn(argv, prep, stdin_fd, out_w, err_w, limits, slot_uid)
            _close_all(theirs)
            outcome = _supervise(spawned.proc, out_r, err_r, limits, spawned.kill, spawned.on_exit, spawned.t0,
                                 spawned.force_kill)
            outcome = spawned.account(self.decode_status(outcome))
            if wanted:
                outcome.files, outcome.files_truncated = spawned.collect(wanted, limits.file_mb << 20, prep.work_dir)
            return outcome
        finally:
            _close_all(theirs)
            _close_all(ours)
            if spawned is not None:
                spawned.abandon()

    def needs_uid_slot(self) -> bool:
        return False

    def close(self) -> None:
        pass


@dataclass
class _Spawned:
    """A started runtime (bwrap, or the program itself for unsafe-none) and how to stop it."""

    proc: subprocess.Popen
    t0: float  # monotonic time just before the runtime was started
    kill: Callable[[], None]  # at the deadline or on output flood: ends the whole run
    force_kill: Callable[[], None]  # when ``kill`` has not ended it KILL_GRACE_S later
    on_exit: Callable[[], None]  # once the runtime has exited: nothing of the run may survive
    release: Callable[[], None] = lambda: None  # frees what the spawn holds; call after reaping
    cgroup: _RunCgroup | None = None  # the run's memory cgroup
    mounts: _RunMounts | None = None  # the run's tmpfs filesystems (bwrap)
    enforcement: dict[str, Any] = field(default_factory=dict)  # how the caps are enforced for this run
    pid1: int | None = None  # host pid of the sandbox's pid 1 (bwrap)

    @property
    def pid(self) -> int:
        """The process whose exit ends the run (the runtime; warm path: the forked child)."""
        return self.proc.pid

    def exited(self) -> bool:
        """Whether that process has exited (without reaping it)."""
        return os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None

    def reap(self) -> tuple[int, float]:
        """Wait for that process: (raw wait status, CPU seconds of it and what it waited for)."""
        _, status, rusage = os.wait4(self.proc.pid, 0)
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        return status, rusage.ru_utime + rusage.ru_stime

    def account(self, outcome: _Outcome) -> _Outcome:
        """Add what the kernel counted for the run; call once every process of it is gone."""
        if self.cgroup is not None:
            outcome.oom_killed = outcome.oom_killed or self.cgroup.oom_kills() > 0
            outcome.memory_peak_bytes = self.cgroup.peak()
        if self.mounts is not None:
            outcome.disk_exceeded = self.mounts.full()
            self.enforcement["inodes"] = "capped" if self.mounts.inodes_capped else "uncapped"
        outcome.enforcement = dict(self.enforcement)
        return outcome

    def collect(self, wanted: Sequence[tuple[str, tuple[str, ...]]], cap: int, work_dir: str | None) -> tuple[dict[str, bytes], bool]:
        """Read the ``wanted`` files back from the work dir (call after the run): (files, any cut at ``cap``)."""
        if self.mounts is not None and self.mounts.work_fd >= 0:
            root_fd = os.dup(self.mounts.work_fd)
        elif work_dir is not None:
            root_fd = os.open(work_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        else:
            return {}, False
        collected: dict[str, bytes] = {}
        truncated = False
        try:
            for name, parts in wanted:
                got = _read_collected(root_fd, parts, cap)
                if got is not None:
                    collected[name], cut = got
                    truncated |= cut
        finally:
            os.close(root_fd)
        return collected, truncated

    def abandon(self) -> None:
        """Kill and reap the runtime if nobody did (only on errors), then release what the run holds."""
        try:
            if self.proc.returncode is None:
                self.force_kill()
                try:
                    os.waitpid(self.proc.pid, 0)
                except ChildProcessError:
                    pass
                self.proc.returncode = -signal.SIGKILL
        finally:
            try:
                self.release()
            finally:
                if self.mounts is not None:
                    self.mounts.close()
                if self.cgroup is not None:
                    self.cgroup.remove()


def _close_all(fds: list[int]) -> None:
    """Close and forget every descriptor in ``fds`` (errors ignored)."""
    while fds:
        fd = fds.pop()
        try:
            os.close(fd)
        except OSError:
            pass


def _kill_group(proc: subprocess.Popen) -> Callable[[], None]:
    def kill() -> None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            os.kill(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    return kill


class _BwrapBackend(_Backend):
    """bubblewrap: per-run namespaces, a minimal read-only root and an unprivileged uid.

    * Namespaces: mount, pid, net, ipc, uts, cgroup (no network, only a private
      loopback).  When not root, also a user namespace (``--unshare-user --uid
      65534 --disable-userns``).  As root there is no user namespace: bwrap as
      root would map the sandbox uid to host uid 0, for which ``RLIMIT_NPROC``
      is not enforced.
    * Filesystem: an empty tmpfs root (remounted read-only) with read-only binds
      of ``/usr`` (+ ``/bin``, ``/lib*`` links), ``/etc/{ld.so.cache, alternatives,
      localtime, nsswitch.conf, protocols, services}``, fabricated
      ``/etc/{passwd,group,hosts}``, ``sys.base_prefix`` (that directory only --
      its parents, e.g. ``/root``, stay invisible), the venv's site-packages and
      ``pyvenv.cfg`` at ``/venv``, and ``ro_binds``.  Writable: only tmpfs --
      ``/work`` (input size + ``Limits.disk_mb``), ``/tmp`` and ``/dev/shm``
      (``Limits.tmp_mb`` each), inode-capped when root (module docstring, "Disk").
      bwrap waits on ``--block-fd`` after mounting them while the host fills
      ``/work`` through ``/proc/<pid 1>/root``.  Fresh ``/proc`` (sandbox pid
      namespace) and minimal ``/dev``; no ``/sys``, no home, no host ``/tmp``.
    * Memory: bwrap joins the run's memory cgroup while it blocks reading its
      options, before it clones anything (module docstring, "Memory").
    * Identity: as root, ``setpriv`` drops to host uid/gid ``uid_base + slot``
      (default 2_000_000_000 + slot; no supplementary groups, empty capability
      sets incl. bounding set, ``no_new_privs``).  A slot belongs to one run at a
      time, across threads (in-process pool) and processes (``flock`` on a lock
      file per uid), so ``RLIMIT_NPROC`` -- counted by the kernel per real uid --
      is a per-run budget and a fork bomb cannot starve concurrent runs.  As
      non-root the program is uid 65534 in a fresh user namespace, where the
      kernel accounts ``RLIMIT_NPROC`` per (namespace, uid), i.e. per run too.
      Helpers inside the sandbox use one process of the budget (``timeout``).
    * seccomp (x86_64, aarch64): namespace creation (``unshare``/``clone`` with
      ``CLONE_NEW*``, ``setns``; ``clone3`` gets ``ENOSYS`` so libc falls back to
      ``clone``), ``ptrace`` and its relatives (``process_vm_readv/writev``,
      ``pidfd_getfd``: no process can read, write or steal the descriptors of
      another), the mount API, keyrings, ``bpf``, ``perf_event_open``,
      ``userfaultfd``, ``io_uring``, module/kexec, SysV ``shmget`` and similar
      calls fail with ``EPERM``; foreign syscall ABIs kill the process.
    * ``spawn(..., supervisor=True)`` (root only) starts the warm path's zygote instead:
      same namespaces, root and tmpfs, but it stays root with ``_SUPERVISOR_CAPS``, without
      seccomp, rlimits or ``timeout``, as the sandbox's pid 1 (its death kills the sandbox);
      each child it forks installs all of these for itself (``sandbox_zygote``).
    * rlimits: as root, ``prlimit(2)`` is applied to bwrap while it blocks
      reading its options from a pipe (``--args FD``), so everything it starts
      inherits them; as non-root, util-linux ``prlimit`` applies them inside.
      ``RLIMIT_CPU``: soft ``cpu_s`` (SIGXCPU), hard ``cpu_s + 1`` (SIGKILL).
    * Process tree and kill strategy: ``--as-pid-1`` with coreutils ``timeout``
      as the sandbox's pid 1.  It forks the program and waits for it, so bwrap's
      monitor reaps it and the program's rusage (``cpu_s``) reaches us; its
      duration (``wall_s + 5``) is a backstop should this process die.  When
      pid 1 exits, the kernel kills everything left in the pid namespace
      (daemons included).  At the deadline or on output flood pid 1 is
      SIGKILLed through a pidfd (its host pid comes from ``--info-fd``; the uid
      change cleared its parent-death signal); bwrap's process group is
      SIGKILLed too if it has not exited ``KILL_GRACE_S`` later.  After bwrap
      exits, pid 1 is killed and waited for, so nothing of the run survives
      ``run``.  Orphaned processes are not reaped until the program exits
      (``timeout`` only waits for its own child), so their zombies count
      against ``processes`` meanwhile.
    """

    name = "bwrap"
    host_work_dir = False

    def __init__(self, bwrap: str, ro_binds: Sequence[str], uid_base: int) -> None:
        self.bwrap = bwrap
        self.privileged = os.geteuid() == 0
        self.uid_base = uid_base
        tool_path = "/usr/bin:/bin:/usr/sbin:/sbin"
        self.setpriv = shutil.which("setpriv", path=tool_path)
        self.prlimit = shutil.which("prlimit", path=tool_path)
        # coreutils `timeout` runs as the sandbox's pid 1 (bwrap --as-pid-1): it forks the program
        # and waits for it, so bwrap's monitor waitpid()s it and the program's rusage reaches us
        # (bwrap's own init reports the exit through an eventfd and is never reaped by bwrap).
        # Its duration is a backstop deadline should the supervisor itself die.
        self.timeout = shutil.which("timeout", path=tool_path)
        if self.privileged and not self.setpriv:
            raise SandboxUnavailable("bwrap backend as root needs util-linux `setpriv` in /usr/bin")
        if not self.privileged and not self.prlimit:
            raise SandboxUnavailable("bwrap backend needs util-linux `prlimit` in /usr/bin")
        if not hasattr(os, "pidfd_open"):
            raise SandboxUnavailable("bwrap backend needs os.pidfd_open (Linux 5.3+, Python 3.9+)")
        self._python, self._path_env, self._static = self._build_static(ro_binds)
        self.supports_disable_userns = _bwrap_supports(bwrap, "--disable-userns")

    # -- static part of the command line (computed once)
    def _build_static(self, ro_binds: Sequence[str]) -> tuple[str, str, list[str]]:
        binds: dict[str, str] = {}  # dest -> src (read-only)
        symlinks: dict[str, str] = {}  # dest -> target
        binds["/usr"] = "/usr"
        for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
            if os.path.islink(top):
                symlinks[top] = os.readlink(top)
            elif os.path.isdir(top):
                binds[top] = top
        for etc in ("ld.so.cache", "alternatives", "localtime", "nsswitch.conf", "protocols", "services"):
            src = os.path.join("/etc", etc)
            if etc == "localtime" and os.path.islink(src) and os.path.realpath(src).startswith("/usr/"):
                symlinks[src] = os.path.realpath(src)
            elif os.path.exists(src):
                binds[src] = os.path.realpath(src)

        def visible(path: str) -> bool:
            return any(path == d or path.startswith(d.rstrip("/") + "/") for d in binds)

        base = os.path.realpath(sys.base_prefix)
        if not visible(base):
            binds[base] = base
        exe = os.path.realpath(sys.executable)
        in_venv = sys.prefix != sys.base_prefix
        if in_venv:
            venv = os.path.realpath(sys.prefix)
            cfg = os.path.join(venv, "pyvenv.cfg")
            binds[f"{_VENV_MOUNT}/pyvenv.cfg"] = cfg
            for key in ("purelib", "platlib"):
                sp = os.path.realpath(sysconfig.get_paths()[key])
                if sp.startswith(venv + "/") and os.path.isdir(sp):
                    binds[_VENV_MOUNT + sp[len(venv) :]] = sp
            if exe.startswith(venv + "/"):  # venv created with --copies
                binds[f"{_VENV_MOUNT}/bin/.python-real"] = exe
                exe_inside = f"{_VENV_MOUNT}/bin/.python-real"
            else:
                if not visible(exe):
                    binds[exe] = exe
                exe_inside = exe
            ver = f"{sys.version_info.major}.{sys.version_info.minor}"
            for name in ("python", f"python{sys.version_info.major}", f"python{ver}"):
                symlinks[f"{_VENV_MOUNT}/bin/{name}"] = exe_inside
            python = f"{_VENV_MOUNT}/bin/python"
            path_env = f"{_VENV_MOUNT}/bin:/usr/local/bin:/usr/bin:/bin"
        else:
            if not visible(exe):
                binds[exe] = exe
            python = exe
            path_env = f"{os.path.dirname(exe)}:/usr/local/bin:/usr/bin:/bin"
        reserved = (SANDBOX_WORKDIR, "/proc", "/dev", "/tmp", "/etc", _VENV_MOUNT)
        for extra in ro_binds:
            if not isinstance(extra, str) or not os.path.isabs(extra):
                raise ValueError(f"ro_binds entries must be absolute paths, got {extra!r}")
            norm = os.path.normpath(extra)
            if norm == "/" or any(norm == r or norm.startswith(r + "/") for r in reserved):
                raise ValueError(f"ro_binds entry {extra!r} conflicts with a sandbox mount point")
            if not os.path.exists(norm):
                raise ValueError(f"ro_binds entry {extra!r} does not exist")
            if not visible(norm):
                binds[norm] = os.path.realpath(norm)

        args: list[str] = []
        dirs: set[str] = set()
        for dest in list(binds) + list(symlinks):
            parent = os.path.dirname(dest)
            while parent not in ("/", "") and not visible(parent):
                dirs.add(parent)
                parent = os.path.dirname(parent)
        dirs.add("/etc")
        for d in sorted(dirs, key=lambda p: (p.count("/"), p)):
            if d not in binds:
                args += ["--perms", "0755", "--dir", d]
        for dest in sorted(binds, key=lambda p: (p.count("/"), p)):
            args += ["--ro-bind", binds[dest], dest]
        for dest, target in sorted(symlinks.items()):
            args += ["--symlink", target, dest]
        args += ["--proc", "/proc", "--dev", "/dev"]
        return python, path_env, args

    @property
    def python(self) -> str:
        return self._python

    def default_env(self, work_dir: str | None) -> dict[str, str]:
        env = super().default_env(work_dir)
        env["PATH"] = self._path_env
        return env

    def needs_uid_slot(self) -> bool:
        return self.privileged

    def owner_for(self, slot_uid: int | None) -> tuple[int, int] | None:
        return (slot_uid, slot_uid) if slot_uid is not None else None

    def _command(self, prep: _Prepared, limits: Limits, fds: Mapping[str, int], supervisor: bool = False) -> list[str]:
        """bwrap options (passed through --args); the program follows '--' on the command line.

        ``supervisor``: the warm path's zygote (``sandbox_warm``) -- it stays root with the
        capabilities it needs to give each child its own namespaces, tmpfs and uid, and without
        the seccomp filter, which each child installs for itself before running anything else."""
        tmp_bytes = str(limits.tmp_mb << 20)
        args: list[str] = []
        if self.privileged:
            args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
        else:
            args += ["--unshare-all", "--unshare-user", "--uid", str(NOBODY), "--gid", str(NOBODY)]
            if self.supports_disable_userns:
                args.append("--disable-userns")
        args += ["--die-with-parent", "--new-session", "--hostname", "sandbox"]
        if self.timeout or supervisor:
            args.append("--as-pid-1")
        args += self._static
        args += ["--perms", "0644", "--ro-bind-data", str(fds["passwd"]), "/etc/passwd"]
        args += ["--perms", "0644", "--ro-bind-data", str(fds["group"]), "/etc/group"]
        args += ["--perms", "0644", "--ro-bind-data", str(fds["hosts"]), "/etc/hosts"]
        args += ["--perms", "1777", "--size", tmp_bytes, "--tmpfs", "/tmp"]
        args += ["--perms", "1777", "--size", tmp_bytes, "--tmpfs", "/dev/shm"]
        work_bytes = str(prep.input_bytes + (limits.disk_mb << 20))
        args += ["--perms", "0755", "--size", work_bytes, "--tmpfs", SANDBOX_WORKDIR, "--chdir", SANDBOX_WORKDIR]
        args += ["--remount-ro", "/"]
        args += ["--block-fd", str(fds["block"])]
        if "seccomp" in fds:
            args += ["--seccomp", str(fds["seccomp"])]
        args += ["--info-fd", str(fds["info_w"])]
        if supervisor:
            args += ["--cap-drop", "ALL"]
            for cap in _SUPERVISOR_CAPS:
                args += ["--cap-add", cap]
        elif self.privileged:
            args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP"]
        args.append("--clearenv")
        for key, value in prep.env.items():
            args += ["--setenv", key, value]
        return args

    def decode_status(self, outcome: _Outcome) -> _Outcome:
        if not (outcome.timed_out or outcome.output_killed):
            outcome.exit_code, outcome.signal = _decode_runtime_status(outcome.exit_code, outcome.signal)
        return outcome

    def spawn(
        self, argv: list[str], prep: _Prepared, stdin_fd: int | None, stdout_fd: int, stderr_fd: int,
        limits: Limits, slot_uid: int | None, supervisor: bool = False,
    ) -> _Spawned:
        """``supervisor``: start the warm path's zygote (root only; see ``_command``): argv runs as
        the sandbox's pid 1, as root with ``_SUPERVISOR_CAPS``, without seccomp or rlimits."""
        if supervisor and not self.privileged:
            raise SandboxUnavailable("the warm path's zygote needs root (it gives each child its own uid and mounts)")
        uid = slot_uid if self.privileged else NOBODY
        passwd = (
            "root:x:0:0:root:/root:/usr/sbin/nologin\n"
            f"nobody:x:{NOBODY}:{NOBODY}:nobody:/nonexistent:/usr/sbin/nologin\n"
        )
        group = f"root:x:0:\nnogroup:x:{NOBODY}:\n"
        if self.privileged and not supervisor:
            passwd += f"sandbox:x:{uid}:{uid}:sandbox:{SANDBOX_WORKDIR}:/bin/sh\n"
            group += f"sandbox:x:{uid}:\n"
        hosts = "127.0.0.1\tlocalhost sandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n"

        child_fds: dict[str, int] = {}  # inherited by bwrap; closed in the parent after spawn
        parent_fds: dict[str, int] = {}  # our ends
        proc: subprocess.Popen | None = None
        # pid 1's pidfd; emptied on release so that a recycled descriptor number is never signalled
        pid1_holder: list[int] = []
        cgroup: _RunCgroup | None = None
        mounts: _RunMounts | None = None

        def close(table: dict[str, int], key: str) -> None:
            fd = table.pop(key, None)
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass

        def kill_pid1() -> None:
            if pid1_holder:
                try:
                    signal.pidfd_send_signal(pid1_holder[0], signal.SIGKILL)
                except OSError:
                    pass

        def release() -> None:
            if pid1_holder:
                os.close(pid1_holder.pop())

        try:
            cgroup = self.new_cgroup(limits)
            child_fds["passwd"] = _pipe_with(passwd.encode())
            child_fds["group"] = _pipe_with(group.encode())
            child_fds["hosts"] = _pipe_with(hosts.encode())
            if _SECCOMP is not None and not supervisor:
                child_fds["seccomp"] = _pipe_with(_SECCOMP)
            parent_fds["info"], child_fds["info_w"] = os.pipe()
            child_fds["args"], parent_fds["args"] = os.pipe()
            child_fds["block"], parent_fds["block"] = os.pipe()
            payload = b"".join(a.encode() + b"\0" for a in self._command(prep, limits, child_fds, supervisor))
            if supervisor:
                tail = []
            elif self.privileged:
                tail = [self.setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                        "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
            else:
                tail = _prlimit_argv(self.prlimit, limits)
            if self.timeout and not supervisor:
                tail += [self.timeout, "-s", "KILL", str(math.ceil(limits.wall_s) + 5)]
            command = [self.bwrap, "--args", str(child_fds["args"]), "--", *tail, *argv]
            names = ("passwd", "group", "hosts", "seccomp", "info_w", "args", "block")
            pass_fds = tuple(child_fds[k] for k in names if k in child_fds)
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL if stdin_fd is None else stdin_fd,
                stdout=stdout_fd,
                stderr=stderr_fd,
                pass_fds=pass_fds,
                cwd="/",
                start_new_session=True,
            )
            for key in list(child_fds):
                close(child_fds, key)
            kill_bwrap = _kill_group(proc)
            try:
                # bwrap blocks reading its arguments until EOF: set the limits and move it into the
                # run's cgroup first, so that everything it starts inherits them.
                if self.privileged and not supervisor:
                    for res, lim in _rlimits(limits):
                        resource.prlimit(proc.pid, res, lim)
                if cgroup is not None:
                    cgroup.join(proc.pid)
                _write_all(parent_fds["args"], payload)
            except (ProcessLookupError, BrokenPipeError):
                pass  # bwrap died early; its stderr says why
            finally:
                close(parent_fds, "args")
            child_pid = _read_child_pid(parent_fds["info"])
            close(parent_fds, "info")
            pid1 = _pidfd_or_none(child_pid)
            if pid1 is not None:
                pid1_holder.append(pid1)
                mounts = _RunMounts.attach(child_pid, proc.pid, pid1)
            elif child_pid is not None and _pid_alive(child_pid):
                raise SandboxUnavailable(f"pidfd_open({child_pid}) failed: cannot supervise bwrap's pid 1")
            if mounts is not None:
                mounts.populate(prep, None if supervisor else self.owner_for(slot_uid), limits, cap_inodes=self.privileged)
            # mounts is None only when the sandbox's pid 1 is already gone (bwrap failed; its stderr says why)
            close(parent_fds, "block")  # the program starts now
            t0 = time.monotonic()

            def kill() -> None:
                # pid 1's death makes the kernel kill every process in the pid namespace, and
                # bwrap then reaps it and exits.  (setpriv's uid change clears pid 1's
                # parent-death signal, so it is killed directly, not through bwrap.)
                if pid1_holder:
                    kill_pid1()
                else:
                    kill_bwrap()

            def force_kill() -> None:
                kill_pid1()
                kill_bwrap()

            def on_exit() -> None:
                # bwrap has exited; make sure its pid 1 -- and with it the pid namespace -- is gone.
                if not pid1_holder:
                    return
                kill_pid1()
                sel = selectors.DefaultSelector()
                try:
                    sel.register(pid1_holder[0], selectors.EVENT_READ)
                    if not sel.select(10.0):
                        log.warning("sandbox: bwrap pid 1 (host pid %s) still alive after 10 s", child_pid)
                finally:
                    sel.close()

            enforcement = {**_memory_enforcement(cgroup, limits), "disk": "tmpfs", "inodes": "uncapped"}
            return _Spawned(proc, t0, kill, force_kill, on_exit, release, cgroup=cgroup, mounts=mounts,
                            enforcement=enforcement, pid1=child_pid)
        except BaseException:
            if proc is not None and proc.returncode is None:  # only on internal errors
                kill_pid1()
                _kill_group(proc)()
                try:
                    os.waitpid(proc.pid, 0)
                except ChildProcessError:
                    pass
                proc.returncode = -signal.SIGKILL
            release()
            if mounts is not None:
                mounts.close()
            if cgroup is not None:
                cgroup.remove()
            raise
        finally:
            for table in (child_fds, parent_fds):
                for key in list(table):
                    close(table, key)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_child_pid(fd: int, timeout: float = 10.0) -> int | None:
    """Read bwrap's --info-fd JSON (written right after it clones the sandbox's pid 1)."""
    buf = b""
    end = time.monotonic() + timeout
    sel = selectors.DefaultSelector()
    try:
        sel.register(fd, selectors.EVENT_READ)
        while time.monotonic() < end:
            if not sel.select(max(0.0, end - time.monotonic())):
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            buf += chunk
            if buf.rstrip().endswith(b"}"):
                try:
                    return int(json.loads(buf)["child-pid"])
                except (ValueError, KeyError, TypeError):
                    continue
    finally:
        sel.close()
    match = re.search(rb'"child-pid"\s*:\s*(\d+)', buf)
    return int(match.group(1)) if match else None


def _pidfd_or_none(pid: int | None) -> int | None:
    if pid is None or not hasattr(os, "pidfd_open"):
        return None
    try:
        return os.pidfd_open(pid)
    except OSError:
        return None


class _UnsafeBackend(_Backend):
    """No isolation: a subprocess with rlimits, the run's memory cgroup (where one is writable;
    every process left in it is killed when the program exits) and a process-group kill."""

    name = "unsafe-none"
    workdir = None

    def __init__(self) -> None:
        self.prlimit = shutil.which("prlimit")

    @property
    def python(self) -> str:
        return sys.executable

    def default_env(self, work_dir: str | None) -> dict[str, str]:
        env = super().default_env(work_dir)
        env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env["PATH"]])
        return env

    def spawn(
        self, argv: list[str], prep: _Prepared, stdin_fd: int | None, stdout_fd: int, stderr_fd: int,
        limits: Limits, slot_uid: int | None,
    ) -> _Spawned:
        cgroup = self.new_cgroup(limits)
        try:
            rlimits = [] if self.prlimit else _rlimits(limits)  # util-linux missing: set them before exec
            command = (_prlimit_argv(self.prlimit, limits) if self.prlimit else []) + list(argv)
            if cgroup is not None:
                # the shell joins the run's cgroup, then execs the program (only if joining worked);
                # cheaper than a preexec_fn, which forces a full fork of this interpreter
                procs_file = os.path.join(cgroup.path, "cgroup.procs")
                command = ["/bin/sh", "-c", 'echo "$$" > "$0" && exec "$@"', procs_file, *command]

            def preexec() -> None:
                for res, lim in rlimits:
                    resource.setrlimit(res, lim)

            t0 = time.monotonic()
            proc = subprocess.Popen(
                command, stdin=subprocess.DEVNULL if stdin_fd is None else stdin_fd, stdout=stdout_fd, stderr=stderr_fd,
                cwd=prep.work_dir, env=prep.env, start_new_session=True, preexec_fn=preexec if rlimits else None,
            )
        except BaseException:
            if cgroup is not None:
                cgroup.remove()
            raise
        kill_group = _kill_group(proc)

        def kill() -> None:
            kill_group()
            if cgroup is not None:  # daemons that left the process group are still in the cgroup
                cgroup.kill_all(timeout=1.0)

        # When the program exits, kill what it left behind.
        enforcement = {**_memory_enforcement(cgroup, limits), "disk": "none", "inodes": "uncapped"}
        return _Spawned(proc, t0, kill, kill, kill, cgroup=cgroup, enforcement=enforcement)


_DOCKER_INPUT = "/.rlvr-input"
_DOCKER_ENFORCEMENT = {"memory": "docker", "disk": "docker-tmpfs", "inodes": "capped"}


class _DockerBackend(_Backend):
    """Docker engine via the docker SDK (local engine): whole-container memory (no swap), pids,
    and tmpfs ``/work``, ``/tmp``, ``/dev/shm`` caps; the input is staged in a host dir,
    bind-mounted read-only and copied into ``/work`` before the program starts."""

    name = "docker"

    def __init__(self, client: Any, image: str, ro_binds: Sequence[str]) -> None:
        self.client = client
        self.image = image
        for extra in ro_binds:
            if not os.path.isabs(extra) or not os.path.exists(extra):
                raise ValueError(f"ro_binds entry {extra!r} must be an existing absolute path")
        self.ro_binds = tuple(os.path.realpath(p) for p in ro_binds)
        try:
            client.images.get(image)
        except Exception as exc:  # docker.errors.ImageNotFound
            if not _is_not_found(exc):
                raise SandboxUnavailable(f"docker: cannot inspect image {image!r}: {exc}") from exc
            try:
                client.images.pull(image)
            except Exception as pull_exc:
                raise SandboxUnavailable(f"docker: image {image!r} not present and cannot be pulled: {pull_exc}") from pull_exc

    @property
    def python(self) -> str:
        return "python3"

    def owner_for(self, slot_uid: int | None) -> tuple[int, int] | None:
        return (NOBODY, NOBODY) if os.geteuid() == 0 else None

    def prepare_tree(self, work_dir: str) -> None:
        if os.geteuid() != 0:
            _chmod_tree_world_writable(work_dir)

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:
            pass

    def execute(self, argv: list[str], prep: _Prepared, stdin: bytes, limits: Limits, slot_uid: int | None,
                wanted: Sequence[tuple[str, tuple[str, ...]]] = ()) -> _Outcome:
        if wanted:
            raise ValueError("the docker backend cannot collect files (its /work is a tmpfs gone with the container)")
        # /work is a size- and inode-capped tmpfs; the staged input is copied in before the program starts
        volumes: dict[str, dict[str, str]] = {prep.work_dir: {"bind": _DOCKER_INPUT, "mode": "ro"}}
        for path in self.ro_binds:
            volumes[path] = {"bind": path, "mode": "ro"}
        script = f'cp -a {_DOCKER_INPUT}/. {SANDBOX_WORKDIR}/ || exit 125\nexec "$@"'
        if stdin:
            stdin_path = os.path.join(prep.run_dir, "stdin")
            with open(stdin_path, "wb") as fh:
                fh.write(stdin)
            os.chmod(stdin_path, 0o644)
            volumes[stdin_path] = {"bind": "/.rlvr-stdin", "mode": "ro"}
            script += " < /.rlvr-stdin"
        command = ["/bin/sh", "-c", script, "sh", *argv]
        cpu = max(1, math.ceil(limits.cpu_s))
        fsize = limits.file_mb << 20
        work_bytes = prep.input_bytes + (limits.disk_mb << 20)
        work_inodes = prep.input_entries + limits.disk_files
        create_kwargs = dict(
            command=command,
            user=f"{NOBODY}:{NOBODY}",
            working_dir=SANDBOX_WORKDIR,
            environment=dict(prep.env),
            hostname="sandbox",
            network_mode="none",  # (network_disabled=True breaks container start on some engines)
            read_only=True,
            tmpfs={
                "/tmp": f"rw,nosuid,nodev,size={limits.tmp_mb}m,nr_inodes={limits.disk_files},mode=1777",
                SANDBOX_WORKDIR: f"rw,nosuid,nodev,size={work_bytes},nr_inodes={work_inodes},mode=1777",
            },
            shm_size=f"{limits.tmp_mb}m",
            volumes=volumes,
            mem_limit=f"{limits.memory_mb}m",
            memswap_limit=f"{limits.memory_mb}m",
            pids_limit=limits.processes,
            nano_cpus=1_000_000_000,
            ulimits=[
                {"name": "cpu", "soft": cpu, "hard": cpu + 1},
                {"name": "fsize", "soft": fsize, "hard": fsize},
                {"name": "nofile", "soft": limits.open_files, "hard": limits.open_files},
                {"name": "core", "soft": 0, "hard": 0},
            ],
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            init=True,
            labels={"rlvr.sandbox": "1"},
            detach=True,
            stdin_open=False,
            tty=False,
        )
        out, err = _Capture(limits.output_bytes), _Capture(limits.output_bytes)
        flood_limit = limits.output_bytes * OUTPUT_KILL_FACTOR
        flags = {"output_killed": False}
        container = self.client.containers.create(self.image, **create_kwargs)
        try:
            stream = container.attach(stdout=True, stderr=True, stream=True, logs=False, demux=True)

            def pump() -> None:
                try:
                    for chunk_out, chunk_err in stream:
                        if chunk_out:
                            out.feed(chunk_out)
                        if chunk_err:
                            err.feed(chunk_err)
                        if (out.total > flood_limit or err.total > flood_limit) and not flags["output_killed"]:
                            flags["output_killed"] = True
                            _quiet(container.kill)
                except Exception as exc:  # stream closed under us
                    log.debug("docker attach stream ended: %s", exc)

            reader = threading.Thread(target=pump, name="rlvr-sandbox-docker-attach", daemon=True)
            reader.start()
            t0 = time.monotonic()
            container.start()
            timed_out = False
            try:
                result = container.wait(timeout=limits.wall_s)
            except Exception:  # requests ReadTimeout / ConnectionError at the deadline
                timed_out = True
                _quiet(container.kill)
                result = container.wait(timeout=30)
            wall = time.monotonic() - t0
            reader.join(timeout=5.0)
            code = int(result.get("StatusCode", -1)) if isinstance(result, Mapping) else -1
            oom = False
            try:
                container.reload()
                oom = bool(container.attrs.get("State", {}).get("OOMKilled", False))
            except Exception:
                pass
            if timed_out or flags["output_killed"]:
                exit_code, sig = None, signal.SIGKILL
            else:
                exit_code, sig = _decode_runtime_status(code, None)
            return _Outcome(
                stdout=out, stderr=err, status=None, exit_code=exit_code, signal=sig,
                timed_out=timed_out, output_killed=flags["output_killed"], wall_s=wall, cpu_s=0.0,
                oom_killed=oom, enforcement=dict(_DOCKER_ENFORCEMENT, memory_bound_mb=limits.memory_mb),
            )
        finally:
            _quiet(lambda: container.remove(force=True))


def _quiet(fn: Callable[[], Any]) -> None:
    try:
        fn()
    except Exception as exc:
        log.debug("sandbox: ignored error: %s", exc)


def _is_not_found(exc: BaseException) -> bool:
    return any(cls.__name__ in ("NotFound", "ImageNotFound") for cls in type(exc).__mro__)


# --------------------------------------------------------------------------- availability


def _bwrap_supports(bwrap: str, option: str) -> bool:
    return option in _bwrap_help(bwrap)


_HELP_CACHE: dict[str, str] = {}
_PROBE_CACHE: dict[tuple[str, int], tuple[bool, str]] = {}
_PROBE_LOCK = threading.Lock()


def _bwrap_help(bwrap: str) -> str:
    if bwrap not in _HELP_CACHE:
        try:
            res = subprocess.run([bwrap, "--help"], capture_output=True, timeout=10)
            _HELP_CACHE[bwrap] = (res.stdout + res.stderr).decode(errors="replace")
        except (OSError, subprocess.SubprocessError):
            _HELP_CACHE[bwrap] = ""
    return _HELP_CACHE[bwrap]


def _probe_bwrap() -> tuple[str | None, str]:
    """(path of a working bwrap, '') or (None, reason).  A real sandboxed run is tried once per process."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return None, "bwrap not found on PATH"
    key = (os.path.realpath(bwrap), os.geteuid())
    with _PROBE_LOCK:
        if key not in _PROBE_CACHE:
            try:
                box = Sandbox("bwrap", _probe=False)
                res = box.run(["true"], limits=Limits(wall_s=20.0))
                if res.exit_code == 0:
                    _PROBE_CACHE[key] = (True, "")
                else:
                    msg = res.stderr.decode(errors="replace").strip() or f"exit status {res.exit_code}, signal {res.signal}"
                    _PROBE_CACHE[key] = (False, f"bwrap does not work here: {msg}")
            except (OSError, SandboxUnavailable, subprocess.SubprocessError) as exc:
                _PROBE_CACHE[key] = (False, f"bwrap does not work here: {exc}")
        ok, reason = _PROBE_CACHE[key]
    return (bwrap if ok else None), reason


def _probe_docker() -> tuple[Any | None, str]:
    """(docker client whose engine answered ping, '') or (None, reason)."""
    try:
        import docker  # type: ignore[import-not-found]
    except ImportError as exc:
        return None, f"the docker SDK is not installed ({exc}); pip install 'rlvr[docker]'"
    try:
        client = docker.from_env(timeout=10)
        client.ping()
    except Exception as exc:
        return None, f"no Docker engine answers: {exc}"
    return client, ""


def available_backends() -> list[str]:
    """Backends usable here, best first.  "unsafe-none" (no isolation) is always last."""
    out = []
    if _probe_bwrap()[0]:
        out.append("bwrap")
    client, _ = _probe_docker()
    if client is not None:
        out.append("docker")
        _quiet(client.close)
    out.append("unsafe-none")
    return out


# --------------------------------------------------------------------------- sessions

#: After the runtime exits, how long a session keeps reading output already on its way.
_EXIT_DRAIN_S = 1.0


class Session:
    """A live sandboxed program the caller talks to; made by :meth:`Sandbox.session`.

    The program's stdin and stdout are the two directions of one Unix stream socket (no other
    process in the sandbox can reopen a socket through ``/proc/<pid>/fd``, as it could a pipe).
    ``send`` writes to its stdin, ``recv`` / ``readline`` / ``read_exactly`` read its stdout,
    ``close_stdin`` gives it end-of-file.  Its stderr is kept up to ``Limits.output_bytes``
    (a flood beyond ``OUTPUT_KILL_FACTOR`` times that kills it).  The wall deadline
    (``Limits.wall_s`` from the start) is enforced whenever the caller waits on the session and
    when it closes; the sandbox's own backstop (``wall_s + 5`` s) holds regardless.  Reads
    return ``b""`` once the program has exited and its output is drained (or it was killed);
    a wait that outlasts the caller's ``timeout`` raises ``TimeoutError`` and leaves the
    program running.  One thread talks to a session.
    """

    def __init__(self, backend: _Backend, spawned: _Spawned, sock: socket.socket, err_fd: int, limits: Limits) -> None:
        self._backend = backend
        self._spawned = spawned
        self._sock = sock
        self._err_fd = err_fd
        self._limits = limits
        self._deadline = spawned.t0 + limits.wall_s
        self._stderr = _Capture(limits.output_bytes)
        self._flood_limit = limits.output_bytes * OUTPUT_KILL_FACTOR
        self._buffer = bytearray()
        self._unread_truncated = False
        self._eof = False
        self._exited_at: float | None = None
        self._killed_at: float | None = None
        self._forced = False
        self._timed_out = False
        self._output_killed = False
        self._result: RunResult | None = None
        sock.setblocking(False)
        os.set_blocking(err_fd, False)
        self._sel = selectors.DefaultSelector()
        self._sel.register(sock, selectors.EVENT_READ)
        self._sel.register(err_fd, selectors.EVENT_READ)
        self._pidfd = _pidfd_or_none(spawned.pid)
        if self._pidfd is not None:
            self._sel.register(self._pidfd, selectors.EVENT_READ)

    # -- state
    @property
    def alive(self) -> bool:
        """The program has neither exited nor been killed."""
        return self._exited_at is None and self._killed_at is None

    @property
    def timed_out(self) -> bool:
        """The wall deadline was reached (the program was killed)."""
        return self._timed_out

    @property
    def remaining_s(self) -> float:
        """Seconds left until the wall deadline."""
        return max(0.0, self._deadline - time.monotonic())

    @property
    def result(self) -> RunResult | None:
        """The program's RunResult once the session is closed (stdout: what was never read)."""
        return self._result

    # -- talking
    def send(self, data: bytes, timeout: float | None = None) -> None:
        """Write all of ``data`` to the program's stdin; BrokenPipeError if it has gone."""
        end = _until(timeout)
        view = memoryview(data)
        while view:
            if not self.alive:
                raise BrokenPipeError("the sandboxed program is no longer running")
            if not self._service(end, selectors.EVENT_WRITE):
                raise TimeoutError("the sandboxed program did not read its input in time")
            try:
                sent = self._sock.send(view[: 1 << 20], socket.MSG_NOSIGNAL)
            except BlockingIOError:
                continue
            except OSError as exc:  # EPIPE / ECONNRESET: every reader is gone
                raise BrokenPipeError(f"the sandboxed program closed its input ({exc})") from None
            view = view[sent:]

    def close_stdin(self) -> None:
        """Signal end-of-file on the program's stdin (its stdout stays readable)."""
        try:
            self._sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def recv(self, max_bytes: int = 1 << 16, timeout: float | None = None) -> bytes:
        """Some of the program's stdout (at most ``max_bytes``); ``b""`` at the end."""
        if self._buffer:
            chunk = bytes(self._buffer[:max_bytes])
            del self._buffer[:max_bytes]
            return chunk
        return self._read_chunk(_until(timeout), max_bytes)

    def readline(self, limit: int, timeout: float | None = None) -> bytes:
        """The next line of stdout including its newline (without one at the end of the
        stream; ``b""`` once nothing is left).  ValueError if no newline comes within
        ``limit`` bytes."""
        end = _until(timeout)
        searched = 0
        while True:
            index = self._buffer.find(b"\n", searched)
            if index >= 0:
                if index + 1 > limit:
                    raise ValueError(f"line longer than {limit} bytes")
                line = bytes(self._buffer[: index + 1])
                del self._buffer[: index + 1]
                return line
            if len(self._buffer) > limit:
                raise ValueError(f"line longer than {limit} bytes")
            searched = len(self._buffer)
            chunk = self._read_chunk(end, 1 << 16)
            if not chunk:
                line = bytes(self._buffer)
                self._buffer.clear()
                return line
            self._buffer += chunk

    def read_exactly(self, size: int, timeout: float | None = None) -> bytes:
        """The next ``size`` bytes of stdout (fewer only at the end of the stream)."""
        end = _until(timeout)
        while len(self._buffer) < size:
            chunk = self._read_chunk(end, max(1 << 16, min(size - len(self._buffer), 1 << 22)))
            if not chunk:
                break
            self._buffer += chunk
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def kill(self) -> None:
        """Kill the program (and everything it started) now."""
        if self.alive:
            self._do_kill(time.monotonic())

    def wait(self, timeout: float | None = None) -> RunResult:
        """Let the program finish (killed after ``timeout`` or at the deadline), reap it and
        return its RunResult; unread stdout is kept up to ``Limits.output_bytes``."""
        if self._result is not None:
            return self._result
        end = _until(timeout)
        while not self._over():
            if self._killed_at is None and time.monotonic() >= end:
                self._do_kill(time.monotonic())
            patience = end if self._killed_at is None else math.inf
            if self._eof:
                self._service(patience, None)
                continue
            chunk = self._read_chunk(patience, 1 << 16, quiet=True)
            if chunk:
                room = self._limits.output_bytes - len(self._buffer)
                if len(chunk) > room:
                    self._unread_truncated = True
                self._buffer += chunk[: max(room, 0)]
        return self._finish()

    def close(self) -> RunResult:
        """Kill the program if it still runs, reap it, and return its RunResult."""
        if self._result is None:
            self.kill()
            self.wait()
        return self._result  # type: ignore[return-value]

    # -- internals
    def _over(self) -> bool:
        """The runtime has exited and its output is drained (or the drain time has passed)."""
        if self._exited_at is None:
            return False
        return self._eof or time.monotonic() >= self._exited_at + _EXIT_DRAIN_S

    def _read_chunk(self, end: float, max_bytes: int, quiet: bool = False) -> bytes:
        while True:
            if self._eof:
                return b""
            if not self._service(end, selectors.EVENT_READ):
                if quiet:
                    return b""
                raise TimeoutError("no output from the sandboxed program in time")
            try:
                data = self._sock.recv(max_bytes)
            except BlockingIOError:
                if self._over():
                    self._mark_eof()
                    return b""
                continue
            except OSError:
                data = b""
            if not data:
                self._mark_eof()
            return data

    def _mark_eof(self) -> None:
        if not self._eof:
            self._eof = True
            self._sel.unregister(self._sock)

    def _service(self, end: float, event: int | None) -> bool:
        """Wait until the socket is ready for ``event`` (None: only wait) or the run is over
        (True), or until ``end`` (False); meanwhile drain stderr, notice the exit and enforce
        the deadline."""
        if not self._eof:
            self._sel.modify(self._sock, event or selectors.EVENT_READ)
        while True:
            now = time.monotonic()
            if self._killed_at is None and now >= self._deadline:
                self._timed_out = True
                self._do_kill(now)
            if self._exited_at is None and self._killed_at is not None and not self._forced and now >= self._killed_at + KILL_GRACE_S:
                self._forced = True
                self._spawned.force_kill()
            if self._exited_at is None and self._pidfd is None:
                if self._spawned.exited():
                    self._note_exit(now)
            if self._over():
                return True
            if now >= end:
                return False
            wake = end
            if self._killed_at is None:
                wake = min(wake, self._deadline)
            elif self._exited_at is None and not self._forced:
                wake = min(wake, self._killed_at + KILL_GRACE_S)
            if self._exited_at is not None:
                wake = min(wake, self._exited_at + _EXIT_DRAIN_S)
            elif self._pidfd is None:
                wake = min(wake, now + 0.02)
            ready = False
            for key, _ in self._sel.select(max(0.0, wake - now)):
                if key.fileobj is self._sock:
                    ready = event is not None
                elif key.fd == self._err_fd:
                    self._drain_stderr()
                elif key.fd == self._pidfd:
                    self._note_exit(time.monotonic())
            if ready:
                return True

    def _drain_stderr(self) -> None:
        try:
            chunk = os.read(self._err_fd, 1 << 16)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._sel.unregister(self._err_fd)
            return
        self._stderr.feed(chunk)
        if self._stderr.total > self._flood_limit and self._killed_at is None:
            self._output_killed = True
            self._do_kill(time.monotonic())

    def _do_kill(self, now: float) -> None:
        self._killed_at = now
        self._spawned.kill()

    def _note_exit(self, now: float) -> None:
        if self._exited_at is not None:
            return
        self._exited_at = now
        if self._pidfd is not None:
            self._sel.unregister(self._pidfd)
        self._spawned.on_exit()

    def _finish(self) -> RunResult:
        status, cpu_s = self._spawned.reap()
        while True:  # what stderr still holds
            try:
                chunk = os.read(self._err_fd, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            self._stderr.feed(chunk)
        if self._killed_at is not None:
            exit_code, sig = None, int(signal.SIGKILL)
        else:
            code = os.waitstatus_to_exitcode(status)
            exit_code, sig = (code, None) if code >= 0 else (None, -code)
        outcome = self._spawned.account(self._backend.decode_status(_Outcome(
            stdout=_Capture(0), stderr=self._stderr, status=status, exit_code=exit_code, signal=sig,
            timed_out=self._timed_out, output_killed=self._output_killed,
            wall_s=(self._exited_at or time.monotonic()) - self._spawned.t0,
            cpu_s=cpu_s,
        )))
        self._sel.close()
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None
        self._result = _result(outcome, stdout=bytes(self._buffer), truncated=self._unread_truncated)
        return self._result


def _result(outcome: _Outcome, stdout: bytes, truncated: bool) -> RunResult:
    memory = outcome.oom_killed or any(p in outcome.stderr.tail for p in _MEMORY_PATTERNS)
    return RunResult(
        stdout=stdout,
        stderr=bytes(outcome.stderr.data),
        exit_code=outcome.exit_code,
        signal=outcome.signal,
        timed_out=outcome.timed_out,
        memory_exceeded=memory,
        output_truncated=truncated or outcome.stderr.truncated or outcome.files_truncated,
        wall_s=outcome.wall_s,
        cpu_s=outcome.cpu_s,
        files=outcome.files,
        disk_exceeded=outcome.disk_exceeded,
        oom_killed=outcome.oom_killed,
        memory_peak_bytes=outcome.memory_peak_bytes,
        enforcement=outcome.enforcement,
    )


def _until(timeout: float | None) -> float:
    """The monotonic time ``timeout`` seconds from now (infinity for None)."""
    if timeout is None:
        return math.inf
    return time.monotonic() + max(0.0, timeout)


# --------------------------------------------------------------------------- public API

_BACKENDS = ("auto", "bwrap", "docker", "unsafe-none")


class Sandbox:
    """Runs untrusted programs; see the module docstring for the contract.

    ``Sandbox`` is thread-safe: ``run`` may be called concurrently from several threads.
    """

    def __init__(
        self,
        backend: str = "auto",
        limits: Limits = Limits(),
        *,
        allow_unsafe_unsandboxed: bool = False,
        ro_binds: tuple[str, ...] = (),
        image: str | None = None,
        tmp_root: str | None = None,
        uid_base: int | None = None,
        docker_client: Any | None = None,
        memory_cgroup: str | None = None,
        _probe: bool = True,
    ) -> None:
        """``memory_cgroup``: where the runs' memory cgroups go -- "auto" (below this process's
        cgroup if writable, else the rlimit fallback), "required" (SandboxUnavailable without
        one), "off" (rlimits only), or the directory of a cgroup to create them in; default:
        ``$RLVR_SANDBOX_CGROUP`` or "auto".  See the module docstring, "Whole-run caps"."""
        if backend not in _BACKENDS:
            raise ValueError(f"unknown sandbox backend {backend!r}; choose one of {_BACKENDS}")
        if not isinstance(limits, Limits):
            raise TypeError("limits must be a Limits instance")
        if backend == "unsafe-none" and not allow_unsafe_unsandboxed:
            raise ValueError(
                "the 'unsafe-none' backend runs untrusted code WITHOUT isolation; "
                "pass allow_unsafe_unsandboxed=True to use it anyway"
            )
        self.limits = limits
        self.tmp_root = _private_dir(os.path.abspath(tmp_root or _default_tmp_root()))
        if uid_base is None:
            uid_base = int(os.environ.get("RLVR_SANDBOX_UID_BASE", DEFAULT_UID_BASE))
        if not (1000 <= uid_base <= 2**31 - 1 - MAX_SLOTS):
            raise ValueError(f"uid_base out of range: {uid_base}")
        self._uid_pool = _uid_pool(uid_base)
        ro_binds = tuple(ro_binds)
        cgroup_spec = memory_cgroup or os.environ.get(_CGROUP_ENV) or "auto"
        if cgroup_spec not in _CGROUP_MODES and not os.path.isabs(cgroup_spec):
            raise ValueError(f"memory_cgroup must be one of {_CGROUP_MODES} or an absolute cgroup directory, got {cgroup_spec!r}")
        self._backend = self._select(backend, allow_unsafe_unsandboxed, ro_binds, image, uid_base, docker_client, _probe)
        self.cgroup_unavailable_reason = ""  # why runs fall back to rlimits ("" when they get a cgroup)
        if self._backend.name != "docker":
            parent, reason = _cgroup_parent(cgroup_spec)
            if parent is None and cgroup_spec not in ("auto", "off"):
                self._backend.close()
                raise SandboxUnavailable(f"no writable memory cgroup for whole-run memory caps: {reason}")
            if parent is None and cgroup_spec == "auto":
                log.info("rlvr sandbox: no memory cgroup (%s); whole-run memory falls back to rlimits", reason)
            self._backend.cgroups = parent
            self.cgroup_unavailable_reason = reason

    def _select(self, backend, allow_unsafe, ro_binds, image, uid_base, docker_client, probe) -> _Backend:
        reasons = []
        if backend in ("auto", "bwrap"):
            if probe:
                bwrap, reason = _probe_bwrap()
            else:
                bwrap, reason = shutil.which("bwrap"), "bwrap not found on PATH"
            if bwrap:
                return _BwrapBackend(bwrap, ro_binds, uid_base)
            if backend == "bwrap":
                raise SandboxUnavailable(f"bwrap backend unavailable: {reason}. To fix: {_INSTALL_ADVICE}")
            reasons.append(f"bwrap: {reason}")
        if backend in ("auto", "docker"):
            if docker_client is not None:
                client, reason = docker_client, ""
            else:
                client, reason = _probe_docker()
            if client is not None:
                return _DockerBackend(client, image or "python:3.11-slim", ro_binds)
            if backend == "docker":
                raise SandboxUnavailable(f"docker backend unavailable: {reason}. To fix: {_INSTALL_ADVICE}")
            reasons.append(f"docker: {reason}")
        if backend == "unsafe-none" or allow_unsafe:
            log.warning(
                "rlvr sandbox: using the 'unsafe-none' backend -- untrusted code runs WITHOUT isolation (%s)",
                "; ".join(reasons) or "requested",
            )
            return _UnsafeBackend()
        raise SandboxUnavailable(f"no sandbox backend is usable ({'; '.join(reasons)}). To fix: {_INSTALL_ADVICE}")

    # -- properties
    @property
    def backend(self) -> str:
        """Name of the backend in use: "bwrap", "docker" or "unsafe-none"."""
        return self._backend.name

    @property
    def python(self) -> str:
        """Path (inside the sandbox) of a Python interpreter with the host venv's site-packages."""
        return self._backend.python

    @property
    def enforcement(self) -> dict[str, str]:
        """How the whole-run caps are enforced for runs of this sandbox (for verdict details):
        ``memory`` "cgroup-v1" / "cgroup-v2" / "rlimit" (the weaker fallback) / "docker",
        ``disk`` "tmpfs" / "docker-tmpfs" / "none" (unsafe-none: a host dir)."""
        backend = self._backend
        if backend.name == "docker":
            return {"memory": "docker", "disk": "docker-tmpfs"}
        return {"memory": backend.cgroups.kind if backend.cgroups is not None else "rlimit",
                "disk": "tmpfs" if backend.name == "bwrap" else "none"}

    @property
    def workdir(self) -> str | None:
        """The program's working directory inside the sandbox (None for unsafe-none: a host temp dir)."""
        return self._backend.workdir

    def close(self) -> None:
        self._backend.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- running
    def run(
        self,
        argv: Sequence[str],
        *,
        files: Mapping[str, bytes | str] | None = None,
        stdin: bytes = b"",
        limits: Limits | None = None,
        collect: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        cwd_files_dir: str | None = None,
    ) -> RunResult:
        """Run ``argv`` in a fresh work dir; see the module docstring."""
        argv, limits, payload, user_env = self._check_request(argv, limits, files, env, cwd_files_dir)
        if isinstance(stdin, str):
            stdin = stdin.encode()
        wanted = [(name, _rel_parts(name, "collect entry")) for name in collect]
        if wanted and self._backend.name == "docker":
            raise ValueError("collect is not supported by the docker backend (its /work is a tmpfs gone with the container)")
        with self._workspace(payload, user_env, cwd_files_dir) as (prep, slot_uid):
            outcome = self._backend.execute(argv, prep, stdin, limits, slot_uid, wanted)
        return _result(outcome, stdout=bytes(outcome.stdout.data), truncated=outcome.stdout.truncated)

    @contextlib.contextmanager
    def session(
        self,
        argv: Sequence[str],
        *,
        files: Mapping[str, bytes | str] | None = None,
        limits: Limits | None = None,
        env: Mapping[str, str] | None = None,
        cwd_files_dir: str | None = None,
    ) -> Iterator[Session]:
        """Start ``argv`` in a fresh work dir and talk to it while it runs; see :class:`Session`.

        Same isolation, limits, work dir and clean-up as :meth:`run` (bwrap and unsafe-none
        backends; docker raises :class:`SandboxUnavailable`).  The program's stdin and stdout are
        one Unix stream socket whose other end is the session.  Leaving the ``with`` block kills
        the program if it still runs, reaps it, and removes the work dir; ``session.result`` then
        holds its :class:`RunResult`.
        """
        argv, limits, payload, user_env = self._check_request(argv, limits, files, env, cwd_files_dir)
        with self._workspace(payload, user_env, cwd_files_dir) as (prep, slot_uid):
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            err_r, err_w = os.pipe()
            spawned = None
            session = None
            try:
                spawned = self._backend.spawn(argv, prep, theirs.fileno(), theirs.fileno(), err_w, limits, slot_uid)
                theirs.close()
                os.close(err_w)
                err_w = -1
                session = Session(self._backend, spawned, ours, err_r, limits)
                yield session
            finally:
                try:
                    if session is not None:
                        session.close()
                finally:
                    theirs.close()
                    ours.close()
                    _close_all([fd for fd in (err_r, err_w) if fd >= 0])
                    if spawned is not None:
                        spawned.abandon()

    def _check_request(self, argv, limits, files, env, cwd_files_dir):
        """Validate what run/session were given; returns (argv, limits, file payload, env)."""
        if isinstance(argv, (str, bytes)) or not argv or not all(isinstance(a, str) and "\x00" not in a for a in argv):
            raise ValueError("argv must be a non-empty list of strings without NUL bytes")
        argv = list(argv)
        limits = self.limits if limits is None else limits
        if not isinstance(limits, Limits):
            raise TypeError("limits must be a Limits instance")
        payload: list[tuple[tuple[str, ...], bytes]] = []
        for path, content in (files or {}).items():
            data = content.encode() if isinstance(content, str) else bytes(content)
            payload.append((_rel_parts(path, "files key"), data))
        user_env = dict(env or {})
        for key, value in user_env.items():
            if not isinstance(key, str) or not key or "=" in key or "\x00" in key or not isinstance(value, str) or "\x00" in value:
                raise ValueError(f"bad environment variable {key!r}")
        if cwd_files_dir is not None and not os.path.isdir(cwd_files_dir):
            raise ValueError(f"cwd_files_dir {cwd_files_dir!r} is not a directory")
        return argv, limits, payload, user_env

    @contextlib.contextmanager
    def _workspace(self, payload, user_env, cwd_files_dir) -> Iterator[tuple[_Prepared, int | None]]:
        """The run's input (filled into a private host work dir unless the backend builds its own)
        and a uid slot when the backend needs one; removed after."""
        backend = self._backend
        slot_uid = self._uid_pool.acquire() if backend.needs_uid_slot() else None
        run_dir = None
        try:
            input_bytes, input_entries = _input_size(payload, cwd_files_dir)
            work_dir = None
            if backend.host_work_dir:
                run_dir = tempfile.mkdtemp(prefix="run-", dir=self.tmp_root)
                work_dir = os.path.join(run_dir, "work")
                os.mkdir(work_dir, 0o755)
                _populate(work_dir, payload, cwd_files_dir, backend.owner_for(slot_uid))
                backend.prepare_tree(work_dir)
            run_env = backend.default_env(work_dir)
            run_env.update(user_env)
            yield _Prepared(run_dir=run_dir, work_dir=work_dir, env=run_env, payload=payload,
                            cwd_files_dir=cwd_files_dir, input_bytes=input_bytes, input_entries=input_entries), slot_uid
        finally:
            if run_dir is not None:
                _rmtree(run_dir)
            if slot_uid is not None:
                self._uid_pool.release(slot_uid)
