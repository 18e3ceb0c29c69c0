"""Running a program to its end under the wall deadline, with capped output.

``_supervise`` drains stdout and stderr (each kept up to ``Limits.output_bytes``; the rest is
read and dropped, so the program never blocks), kills the run at the wall deadline or when a
stream passes ``OUTPUT_KILL_FACTOR`` times its cap, escalates to ``force_kill`` when the run is
still there ``KILL_GRACE_S`` later, and reaps the runtime with its rusage.  Interactive runs do
the same in :class:`~.sessions.Session`.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time
from collections.abc import Callable

from .limits import OUTPUT_KILL_FACTOR, Limits
from .result import _Capture, _Outcome

#: Seconds between the polite kill (the sandbox's pid 1) and killing the runtime process too.
KILL_GRACE_S = 2.0


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
