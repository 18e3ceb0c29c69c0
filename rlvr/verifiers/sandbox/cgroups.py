"""Whole-run memory caps: one memory cgroup per run (package docstring, "Whole-run caps").

``_cgroup_parent(spec)`` finds, once per process, where run cgroups can go -- below this
process's own cgroup (v2 with the memory controller delegated, or the v1 memory hierarchy;
from ``/proc/self/cgroup`` and ``/proc/self/mountinfo``) or below a directory the caller named --
by creating, capping and removing a probe cgroup, and sweeps cgroups that dead processes left
behind; without one it says why.  ``_RunCgroup`` is one run's cgroup: created with its cap (and
no swap), joined by the runtime before the program's first instruction, read for OOM kills and
peak usage, emptied with SIGKILL (never of a recycled pid) and removed -- or, on the warm path
and cgroup v1, once it is empty, reset (``reset``: peak and failure counters back to the current
usage, the OOM kill count taken as the new zero) and used for a later run.  While a run uses it,
its control files are opened once (relative to the cgroup's directory) and kept open.
"""

from __future__ import annotations

import errno
import itertools
import logging
import os
import re
import signal
import threading
import time

from .limits import Limits
from .procs import _close_all, _pid_alive, _pidfd_exited, _pidfd_or_none, _quiet, _read_text

log = logging.getLogger(__name__)

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
            rel = path[len(root.rstrip("/")) :]
        else:
            continue
        candidate = os.path.join(point, rel.lstrip("/"))
        if os.path.isdir(candidate):
            return os.path.normpath(candidate)
    return None


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
        self._dir_fd = -1
        self._fds: dict[tuple[str, int], int] = {}  # (control file, open flags) -> descriptor kept open
        self._oom_base = 0  # OOM kills counted before the current run (a reused cgroup)
        try:
            self._memsw = self.version == 1 and os.path.exists(self._file("memory.memsw.limit_in_bytes"))
            if self.version == 2:
                if os.path.exists(self._file("memory.swap.max")):
                    self._write_once("memory.swap.max", "0")
            elif not self._memsw:  # swap not accounted: keep the run's anonymous memory out of swap
                self._write_once("memory.swappiness", "0")
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
            names = (
                ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"] if self._memsw else ["memory.limit_in_bytes"]
            )
            for name in names if limit_bytes < self.limit_bytes or not self.limit_bytes else names[::-1]:
                self._write(name, str(limit_bytes))
        self.limit_bytes = limit_bytes

    def _file(self, name: str) -> str:
        return os.path.join(self.path, name)

    def _open(self, name: str, flags: int) -> int:
        if self._dir_fd < 0:
            self._dir_fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        return os.open(name, flags | os.O_CLOEXEC, dir_fd=self._dir_fd)

    def _fd(self, name: str, flags: int) -> int:
        fd = self._fds.get((name, flags))
        if fd is None:
            fd = self._fds[(name, flags)] = self._open(name, flags)
        return fd

    def _write(self, name: str, value: str, flags: int = os.O_WRONLY) -> None:
        os.pwrite(self._fd(name, flags), value.encode(), 0)

    def _write_once(self, name: str, value: str) -> None:
        fd = self._open(name, os.O_WRONLY)
        try:
            os.write(fd, value.encode())
        finally:
            os.close(fd)

    def _read(self, name: str, flags: int = os.O_RDONLY) -> str:
        return os.pread(self._fd(name, flags), 1 << 16, 0).decode(errors="replace")

    def join(self, pid: int) -> None:
        """Move process ``pid`` (and so everything it starts afterwards) into the cgroup."""
        self._write("cgroup.procs", str(pid))

    def self_join_fd(self) -> int | None:
        """cgroup v1: a new descriptor of the cgroup's ``tasks`` file, for a single-threaded
        process to move itself in by writing ``0`` (its own thread).  Moving a whole process
        (``join``, or any pid but 0) takes the kernel's thread-group lock for writing, which every
        fork and exit on the host waits behind and which now and then waits for an RCU grace
        period; a thread moving itself takes no such lock.  None on cgroup v2 (use ``join``)."""
        return self._open("tasks", os.O_WRONLY) if self.version == 1 else None

    def oom_kills(self) -> int:
        """OOM kills inside the cgroup so far (v1 ``memory.oom_control``, v2 ``memory.events``)."""
        return max(0, self._oom_count() - self._oom_base)

    def _oom_count(self) -> int:
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        try:
            text = self._read(name)
        except OSError:
            return 0
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        # kernels before 4.13 (v1) have no oom_kill count: hitting the cap is the best signal left
        try:
            return int(self._read("memory.failcnt", os.O_RDWR))
        except (OSError, ValueError):
            return 0

    def peak(self) -> int | None:
        try:
            if self.version == 2:
                return int(self._read("memory.peak"))
            return int(self._read("memory.max_usage_in_bytes", os.O_RDWR))
        except (OSError, ValueError):
            return None

    def reset(self) -> bool:
        """Make an emptied cgroup ready for another run (cgroup v1): the caller has seen it empty
        after its run (``kill_all``: it stays so, only the host moves processes in), so its
        process list is not read again.  Peak usage and the failure counter start again from the
        current usage (what the ended run's page cache still holds: reclaimable) and the OOM
        kills so far become the new zero; the descriptors of its control files stay open for the
        next run (no open and close of each per run; a reused cgroup is removed, or forgotten in
        a forked process, like any other).  False where that cannot be done -- cgroup v2, whose
        peak cannot be reset before Linux 6.12 and then only as seen through one open
        descriptor: the cgroup must then be removed, not reused."""
        try:
            if self.version != 1:
                return False
            for name in ("memory.max_usage_in_bytes", "memory.failcnt"):
                self._write(name, "0", os.O_RDWR)
            self._oom_base = self._oom_count()
        except (OSError, ValueError):
            return False
        return True

    def pids(self) -> list[int]:
        """The processes in the cgroup now ([] if the list cannot be read)."""
        try:
            return self._members()
        except (OSError, ValueError):
            return []

    def _members(self) -> list[int]:
        """The processes in the cgroup now; OSError if the list cannot be read.  cgroup.procs is
        opened afresh for each read: on cgroup v1 an open descriptor keeps serving the list it
        built first (for a second)."""
        fd = self._open("cgroup.procs", os.O_RDONLY)
        try:
            chunks = []
            while chunk := os.read(fd, 1 << 16):
                chunks.append(chunk)
        finally:
            os.close(fd)
        return [int(p) for p in b"".join(chunks).split()]

    def kill_all(self, timeout: float = 5.0) -> bool:
        """SIGKILL every process in the cgroup until it is empty (or ``timeout`` passes); whether
        it was seen empty (once empty, it stays so: only the host moves processes into it)."""
        if self.version == 2:  # Linux 5.14 and later have cgroup.kill
            _quiet(lambda: self._write_once("cgroup.kill", "1"))
        end = time.monotonic() + timeout
        while True:
            pids = self.pids()
            if not pids or time.monotonic() > end:
                return not pids
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

    def forget(self) -> None:
        """Close this process's descriptors of the cgroup's files (the cgroup stays)."""
        fds, self._fds = [*self._fds.values(), self._dir_fd], {}
        self._dir_fd = -1
        _close_all([fd for fd in fds if fd >= 0])

    def remove(self) -> None:
        """rmdir the cgroup, killing what is left in it first (only after errors)."""
        for _ in range(200):
            self.forget()
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
                reasons.append(
                    f"{path}: the memory controller is not enabled for child cgroups (cgroup.subtree_control)"
                )
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
        reasons.append(
            "no memory cgroup (v2 with memory delegated, or v1 memory controller) is mounted for this process"
        )
    return None, "; ".join(reasons)
