"""What a sandboxed run may use, and the names every part of the sandbox shares.

:class:`Limits` is one run's budget (wall and CPU time, whole-run memory, processes, file
size, descriptors, captured output, tmpfs sizes and inodes), validated when it is made;
``_rlimits`` / ``_prlimit_argv`` turn it into the per-process rlimits the backends apply
(directly, or through util-linux ``prlimit``).  ``SANDBOX_WORKDIR`` and ``NOBODY`` are where and
as whom the program runs inside bwrap and docker; ``OUTPUT_KILL_FACTOR`` is how far past its
cap a stream may go before the program is killed.  :class:`SandboxUnavailable` is raised when
no backend -- or a feature the caller required -- works here.
"""

from __future__ import annotations

import math
import resource
from dataclasses import dataclass

#: Working directory of the program inside the bwrap and docker sandboxes.
SANDBOX_WORKDIR = "/work"
#: A stream producing more than this many times ``Limits.output_bytes`` gets the program killed.
OUTPUT_KILL_FACTOR = 8
#: uid/gid of the sandboxed program inside a user namespace (non-root bwrap) and in docker.
NOBODY = 65534


class SandboxUnavailable(RuntimeError):
    """No usable sandbox backend (the message says what to install or start)."""


@dataclass(frozen=True)
class Limits:
    """Resource limits for one run (see "Whole-run caps" in the package docstring)."""

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
        for name in (
            "memory_mb",
            "processes",
            "file_mb",
            "open_files",
            "output_bytes",
            "tmp_mb",
            "disk_mb",
            "disk_files",
        ):
            value = getattr(self, name)
            if not (isinstance(value, int) and not isinstance(value, bool) and value > 0):
                raise ValueError(f"Limits.{name} must be a positive int, got {value!r}")
        if self.open_files < 16:
            # RLIMIT_NOFILE is inherited from bwrap, which needs ~11 descriptors while it sets up.
            raise ValueError("Limits.open_files must be at least 16")


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
