"""Process and descriptor helpers shared by the backends, cgroups and sessions.

Liveness (``_pid_alive``, ``_pidfd_exited``, ``_parent_pid``); pidfds, through which a recycled
pid is never signalled (``_pidfd_or_none``); killing a runtime's process group
(``_kill_group``); closing and writing descriptors (``_close_all``, ``_write_all``); one
bounded read of a /proc or cgroup file (``_read_text``); clean-up
whose errors are only logged (``_quiet``).
"""

from __future__ import annotations

import logging
import math
import os
import re
import select
import signal
import subprocess
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


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


def fd_ready(fd: Any, timeout_s: float, writable: bool = False) -> bool:
    """Whether ``fd`` (a descriptor or an object with ``fileno()``) is readable — or
    ``writable`` — within ``timeout_s`` seconds (0: look without waiting), end-of-file, hang-up
    and errors counting as ready. ``select.select`` refuses descriptors from 1024 on, which a
    host process holding many files (a trainer's loaders, many envs) reaches: so ``poll``, to
    the millisecond (rounded up)."""
    poller = select.poll()
    poller.register(fd, select.POLLOUT if writable else select.POLLIN)
    return bool(poller.poll(max(0, math.ceil(timeout_s * 1000))))


def _pidfd_exited(pidfd: int) -> bool:
    return fd_ready(pidfd, 0)


def _parent_pid(pid: int) -> int | None:
    try:
        text = _read_text(f"/proc/{pid}/status")
    except OSError:
        return None
    match = re.search(r"^PPid:\s*(\d+)", text, re.M)
    return int(match.group(1)) if match else None


def _pidfd_or_none(pid: int | None) -> int | None:
    if pid is None or not hasattr(os, "pidfd_open"):
        return None
    try:
        return os.pidfd_open(pid)
    except OSError:
        return None


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


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _quiet(fn: Callable[[], Any]) -> None:
    try:
        fn()
    except Exception as exc:
        log.debug("sandbox: ignored error: %s", exc)
