"""What a run produced.

``_Capture`` keeps the first ``cap`` bytes of a stream (and its last few KiB, to spot memory
failures) while counting all of it; ``_Outcome`` is a backend's raw account of one run
(captures, wait status, why it was killed, kernel counters, collected files);
``_decode_runtime_status`` undoes bwrap's and docker's folding of "killed by signal N" into
exit status 128+N; ``_result`` turns an outcome into the caller's :class:`RunResult`
(``memory_exceeded``: the cgroup's OOM count, or an allocation failure in the stderr tail).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_TAIL_BYTES = 8192
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


@dataclass(frozen=True)
class RunResult:
    stdout: bytes  # capped at Limits.output_bytes
    stderr: bytes  # capped at Limits.output_bytes
    exit_code: int | None  # None when killed by a signal
    signal: int | None  # signal number that ended the program, else None
    timed_out: bool  # wall deadline hit (the program was killed)
    memory_exceeded: bool  # oom_killed, or a process reported failing its RLIMIT_AS (package docstring)
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


class _Capture:
    __slots__ = ("cap", "data", "tail", "total")

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


def _decode_runtime_status(code: int | None, sig: int | None) -> tuple[int | None, int | None]:
    """bwrap/docker report 'killed by signal N' as exit status 128+N."""
    if code is not None and 128 < code <= 128 + 64:
        return None, code - 128
    return code, sig


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
