"""Whole-run memory caps: one memory cgroup per run (package docstring, "Whole-run caps").

``_cgroup_parent(spec)`` finds, once per process, where run cgroups can go -- below this
process's own cgroup (v2 with the memory controller delegated, or the v1 memory hierarchy;
from ``/proc/self/cgroup`` and ``/proc/self/mountinfo``) or below a directory the caller named --
by creating, capping and removing a probe cgroup, and sweeps cgroups that dead processes left
behind; without one it says why.  ``_RunCgroup`` is one run's cgroup: created with its cap (and
no swap), joined by the runtime before the program's first instruction, read for OOM kills and
peak usage, emptied with SIGKILL (never of a recycled pid) and removed.
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
from .procs import _pid_alive, _pidfd_exited, _pidfd_or_none, _quiet, _read_text, _write_text

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
            names = (
                ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"] if self._memsw else ["memory.limit_in_bytes"]
            )
            for name in names if limit_bytes < self.limit_bytes or not self.limit_bytes else names[::-1]:
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
