"""What every backend implements, and what one started run is.

:class:`~.runner.Sandbox` hands a backend a ``_Prepared`` run (environment, the input's files
and sizes, a filled host work dir when the backend uses one) and, for bwrap as root, a uid slot.
``_Backend.spawn`` starts the program on the given stdio descriptors and returns a ``_Spawned``:
the runtime process, how to kill it, its cgroup and tmpfs mounts, and how to account for the
run, read files back and release it.  ``_Backend.execute`` runs one to completion (stdin from a
memfd, output through ``_supervise``).  ``_memory_enforcement`` says how a run's memory is
capped, for ``RunResult.enforcement``.
"""

from __future__ import annotations

import abc
import os
import signal
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .cgroups import _CgroupParent, _RunCgroup
from .limits import SANDBOX_WORKDIR, Limits, SandboxUnavailable
from .procs import _close_all, _pidfd_or_none
from .result import _Outcome
from .supervise import _supervise
from .tmpfs import _RunMounts
from .workdir import _read_collected


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
    can_collect = True  # files can be read back from the work dir after a run (docker: only as root)
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
        self,
        argv: list[str],
        prep: _Prepared,
        stdin_fd: int | None,
        stdout_fd: int,
        stderr_fd: int,
        limits: Limits,
        slot_uid: int | None,
    ) -> _Spawned:
        """Start ``argv`` with the given descriptors as its stdin (None: /dev/null), stdout and stderr."""
        raise SandboxUnavailable(f"the {self.name} backend cannot start interactive sessions")

    def decode_status(self, outcome: _Outcome) -> _Outcome:
        """Backend-specific reading of the exit status (bwrap folds signals into 128+N)."""
        return outcome

    def execute(
        self,
        argv: list[str],
        prep: _Prepared,
        stdin: bytes,
        limits: Limits,
        slot_uid: int | None,
        wanted: Sequence[tuple[str, tuple[str, ...]]] = (),
    ) -> _Outcome:
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
            outcome = _supervise(
                spawned.proc, out_r, err_r, limits, spawned.kill, spawned.on_exit, spawned.t0, spawned.force_kill
            )
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

    def exit_fd(self) -> int | None:
        """A new descriptor that becomes readable when the run has ended (a pidfd of that
        process; None where there are no pidfds: callers poll ``exited``)."""
        return _pidfd_or_none(self.pid)

    def exited(self) -> bool:
        """Whether that process has exited (without reaping it)."""
        return os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None

    def reap(self) -> tuple[int, float]:
        """Wait for that process: (raw wait status, CPU seconds of it and what it waited for).
        Where it was reaped already (``subprocess`` reaps a ``Popen`` it finalised, as when a
        session is left to the garbage collector: seen in CI), its recorded exit code stands,
        or a kill (a run whose end nobody saw fails closed); its CPU time is then unknown (0)."""
        try:
            _, status, rusage = os.wait4(self.proc.pid, 0)
        except ChildProcessError:
            code = self.proc.returncode
            return (signal.SIGKILL if code is None else -code if code < 0 else code << 8), 0.0
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

    def collect(
        self, wanted: Sequence[tuple[str, tuple[str, ...]]], cap: int, work_dir: str | None
    ) -> tuple[dict[str, bytes], bool]:
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
