"""Whole-run memory caps and CPU shares: one memory cgroup and one CPU cgroup per run (package
docstring, "Whole-run caps").

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

CPU: where the CPU controller is available next to the memory one, a process the host moves
into a run cgroup (``join``: a cold run's bwrap, a warm run's spare child, a zygote) also gets a
CPU cgroup capped at ``RUN_CPUS`` CPUs (v1: a cgroup of the same name in the ``cpu`` hierarchy,
made at that first ``join``, with ``cpu.cfs_quota_us``; v2: ``cpu.max`` of the run cgroup
itself), so the scheduler shares the CPUs between runs, not between their processes (one run's
63 spinning processes got about 29 times the CPU of a concurrent one-process run, whose
wall-clock test limits then failed a correct answer).  A thread can move itself into one
hierarchy per descriptor, so on cgroup v1 ``self_join_fds`` gives a warm spare one for each
hierarchy and it moves itself into both; on v2 the host moves it (``join``).  (A
zygote's own CPU cgroup would not do: one thread's concurrent runs -- a session and a run --
come from the same zygote.)  Without a CPU controller, or where it cannot be written, runs go
on as before, sharing the CPUs per process: fail-open for this fairness property only, said by
``cpu_kind`` ("none") in ``RunResult.enforcement`` and ``Sandbox.enforcement``.
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
RUN_CPUS = 1  # CPU bandwidth of one run (its CPU cgroup's quota), in CPUs
_CPU_PERIOD_US = 100_000


def _parse_proc_cgroup(text: str, controller: str = "memory") -> tuple[str | None, str | None]:
    """(cgroup v2 path, cgroup v1 ``controller`` path) of a process, from /proc/PID/cgroup."""
    v2 = v1 = None
    for line in text.splitlines():
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and controllers == "":
            v2 = path
        elif controller in controllers.split(","):
            v1 = path
    return v2, v1


def _unescape_mountinfo(field_text: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field_text)


def _cgroup_mounts(mountinfo: str, controller: str = "memory") -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(v2 mounts, v1 ``controller`` mounts) as (root within the hierarchy, mount point), from /proc/PID/mountinfo."""
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
        elif fstype == "cgroup" and controller in super_options.split(","):
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
    """A cgroup directory we may create memory cgroups in (one per run, see :class:`_RunCgroup`),
    and where the runs' CPU cgroups go (``cpu_path``: a directory of the v1 ``cpu`` hierarchy;
    ``cpu_v2``: the v2 run cgroups get ``cpu.max``; neither: no CPU cgroups, ``cpu_reason`` says why)."""

    def __init__(self, path: str, version: int) -> None:
        self.path = path
        self.version = version
        self.cpu_path: str | None = None
        self.cpu_v2 = False
        self.cpu_reason = "not probed"

    @property
    def kind(self) -> str:
        return f"cgroup-v{self.version}"

    @property
    def cpu_kind(self) -> str:
        """How runs' CPU is shared: "cgroup-v1" / "cgroup-v2" (a CPU cgroup per run) or "none"."""
        return "cgroup-v2" if self.cpu_v2 else "cgroup-v1" if self.cpu_path else "none"

    def create(self, limits: Limits) -> _RunCgroup:
        return _RunCgroup(self, limits.memory_mb << 20)

    def sweep(self) -> None:
        """Remove empty run cgroups left behind by processes that died."""
        _sweep(self.path)
        if self.cpu_path:
            _sweep(self.cpu_path)


def _sweep(path: str) -> None:
    try:
        names = os.listdir(path)
    except OSError:
        return
    for name in names:
        match = _CGROUP_NAME.fullmatch(name)
        if match and int(match.group(1)) != os.getpid() and not _pid_alive(int(match.group(1))):
            try:
                os.rmdir(os.path.join(path, name))
            except OSError:
                pass


def _cpu_quota(version: int) -> tuple[str, str]:
    """The CPU cap of one run: (control file, value) -- ``RUN_CPUS`` CPUs per period."""
    quota = str(RUN_CPUS * _CPU_PERIOD_US)
    if version == 2:
        return "cpu.max", f"{quota} {_CPU_PERIOD_US}"
    return "cpu.cfs_quota_us", quota


def _write_file(path: str, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


class _RunCgroup:
    """The memory cgroup of one run: created with its cap, joined by the runtime, removed after."""

    def __init__(self, parent: _CgroupParent, limit_bytes: int) -> None:
        self.version = parent.version
        self.kind = parent.kind
        self.path = os.path.join(parent.path, f"rlvr-{os.getpid()}-{next(_CGROUP_SERIAL)}")
        os.mkdir(self.path, 0o755)
        self._cpu_parent = parent.cpu_path  # v1: where ``join`` makes the run's CPU cgroup
        self.cpu_path: str | None = None  # v1: the run's CPU cgroup, once made
        self.cpu_kind = "none"  # "cgroup-v1" / "cgroup-v2" once the run has a capped CPU cgroup
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
        if parent.cpu_v2:
            try:
                self._write_once(*_cpu_quota(2))
                self.cpu_kind = "cgroup-v2"
            except OSError as exc:  # fail-open: the run shares the CPUs per process, as without a controller
                log.warning("sandbox: cannot cap the CPU of cgroup %s: %s", self.path, exc)

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
        """Move process ``pid`` (and so everything it starts afterwards) into the cgroup, and on
        cgroup v1 also into the run's CPU cgroup (made at the first ``join``) where there is one."""
        self._write("cgroup.procs", str(pid))
        if self._cpu_parent is not None:
            try:
                _write_file(os.path.join(self._make_cpu(), "cgroup.procs"), str(pid))
                self.cpu_kind = "cgroup-v1"
            except OSError as exc:
                log.warning("sandbox: cannot put process %s in a CPU cgroup: %s", pid, exc)
                self.cpu_kind = "none"

    def _make_cpu(self) -> str:
        """cgroup v1: the run's CPU cgroup, a sibling of the same name in the ``cpu`` hierarchy
        capped at ``RUN_CPUS``, made on first use.  Fail-open where it cannot be made or
        joined: the run shares the CPUs per process (``cpu_kind`` stays "none")."""
        if self.cpu_path is None:
            path = os.path.join(self._cpu_parent, os.path.basename(self.path))
            os.mkdir(path, 0o755)
            try:
                _write_file(os.path.join(path, _cpu_quota(1)[0]), _cpu_quota(1)[1])
            except OSError:
                os.rmdir(path)
                raise
            self.cpu_path = path
        return self.cpu_path

    def self_join_fds(self) -> list[int]:
        """cgroup v1: new descriptors of the ``tasks`` files of the run's memory cgroup and (where
        runs get one) its CPU cgroup, for a single-threaded process to move itself into both by
        writing ``0`` (its own thread) to each.  Moving a whole process (``join``, or any pid but
        0) takes the kernel's thread-group lock for writing, which every fork and exit on the host
        waits behind and which now and then waits for an RCU grace period; a thread moving itself
        takes no such lock.  Empty on cgroup v2 (``cgroup.procs`` only: use ``join``).  Where the
        CPU cgroup cannot be made, only the memory one's (the run shares the CPUs per process)."""
        if self.version != 1:
            return []
        fds = [self._open("tasks", os.O_WRONLY)]
        if self._cpu_parent is not None:
            try:
                fds.append(os.open(os.path.join(self._make_cpu(), "tasks"), os.O_WRONLY | os.O_CLOEXEC))
                self.cpu_kind = "cgroup-v1"
            except OSError as exc:
                log.warning("sandbox: cannot open a CPU cgroup for %s: %s", self.path, exc)
                self.cpu_kind = "none"
        return fds

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
                break
            except FileNotFoundError:
                break
            except OSError as exc:
                if exc.errno != errno.EBUSY:
                    log.warning("sandbox: could not remove cgroup %s: %s", self.path, exc)
                    return
            self.kill_all(timeout=1.0)
            time.sleep(0.005)
        else:
            log.warning("sandbox: cgroup %s still busy; left behind", self.path)
            return
        self._remove_cpu()

    def _remove_cpu(self) -> None:
        """rmdir the run's CPU cgroup (v1) -- its processes are those of the memory cgroup, gone
        by now (one still exiting may hold it a moment)."""
        for _ in range(200):
            if self.cpu_path is None:
                return
            try:
                os.rmdir(self.cpu_path)
            except FileNotFoundError:
                pass
            except OSError as exc:
                if exc.errno == errno.EBUSY:
                    time.sleep(0.005)
                    continue
                log.warning("sandbox: could not remove cgroup %s: %s", self.cpu_path, exc)
            self.cpu_path = None
            return
        log.warning("sandbox: cgroup %s still busy; left behind", self.cpu_path)


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
        parent.cpu_path, parent.cpu_v2, parent.cpu_reason = _find_cpu(parent)
        if parent.cpu_reason:
            log.info("rlvr sandbox: no CPU cgroup per run (%s); runs share the CPUs per process", parent.cpu_reason)
        parent.sweep()
        return parent, ""
    if not candidates:
        reasons.append(
            "no memory cgroup (v2 with memory delegated, or v1 memory controller) is mounted for this process"
        )
    return None, "; ".join(reasons)


def _find_cpu(parent: _CgroupParent) -> tuple[str | None, bool, str]:
    """Where the runs' CPU cgroups go for memory cgroups under ``parent``: (v1 ``cpu`` hierarchy
    directory, v2 ``cpu.max`` usable, "" -- or why there are none).  A probe cgroup is created,
    capped and removed."""
    if parent.version == 2:
        try:
            delegated = "cpu" in _read_text(os.path.join(parent.path, "cgroup.subtree_control")).split()
        except OSError:
            delegated = False
        if not delegated:
            return None, False, f"{parent.path}: the cpu controller is not enabled for child cgroups"
        probe = os.path.join(parent.path, f"rlvr-{os.getpid()}-{next(_CGROUP_SERIAL)}")
        version = 2
    else:
        try:
            v1_path = _parse_proc_cgroup(_read_text("/proc/self/cgroup"), "cpu")[1]
            with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as fh:
                v1_mounts = _cgroup_mounts(fh.read(), "cpu")[1]
        except OSError as exc:
            return None, False, f"cannot read this process's cgroups: {exc}"
        found = _cgroup_dir(v1_mounts, v1_path) if v1_path is not None else None
        if found is None:
            return None, False, "no cgroup v1 cpu controller is mounted for this process"
        try:
            shared = os.stat(found).st_dev == os.stat(parent.path).st_dev  # one hierarchy: no sibling to make
        except OSError as exc:
            return None, False, f"cannot read {found}: {exc}"
        if shared:
            return None, False, f"{found}: the cpu controller is mounted with the memory one (not supported)"
        probe = os.path.join(found, f"rlvr-{os.getpid()}-{next(_CGROUP_SERIAL)}")
        version = 1
    try:
        os.mkdir(probe, 0o755)
        try:
            name, value = _cpu_quota(version)
            _write_file(os.path.join(probe, name), value)
        finally:
            os.rmdir(probe)
    except OSError as exc:
        return None, False, f"cannot create a CPU-capped cgroup ({exc})"
    return (None, True, "") if version == 2 else (os.path.dirname(probe), False, "")
