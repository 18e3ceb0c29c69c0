"""Interactive runs: :class:`Session`, a live sandboxed program the caller talks to.

Made by ``Sandbox.session`` and by the warm path's ``WarmPool``; the class docstring is the
contract (stdin and stdout one Unix stream socket, stderr captured with a cap, the wall deadline
enforced whenever the caller waits, the :class:`RunResult` once it is closed).
"""

from __future__ import annotations

import math
import os
import selectors
import signal
import socket
import time

from .backend import _Backend, _Spawned
from .limits import OUTPUT_KILL_FACTOR, Limits
from .result import RunResult, _Capture, _Outcome, _result
from .supervise import KILL_GRACE_S

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
        self._sel = selectors.PollSelector()  # three descriptors for one session: no epoll instance to make
        self._sel.register(sock, selectors.EVENT_READ)
        self._watching = selectors.EVENT_READ  # what ``_service`` waits for on the socket
        self._sel.register(err_fd, selectors.EVENT_READ)
        self._pidfd = spawned.exit_fd()  # readable once the run has ended (a pidfd of the runtime, usually)
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
        """Write all of ``data`` to the program's stdin; BrokenPipeError if it has gone.  What
        the socket takes at once goes without a wait (before the deadline and ``timeout``: a
        protocol message mostly fits); the rest waits until the program reads."""
        now = time.monotonic()
        end = _until(timeout)
        first = now < end and now < self._deadline
        view = memoryview(data)
        while view:
            if not self.alive:
                raise BrokenPipeError("the sandboxed program is no longer running")
            if not first and not self._service(end, selectors.EVENT_WRITE):
                raise TimeoutError("the sandboxed program did not read its input in time")
            first = False
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
        watch = event or selectors.EVENT_READ
        if not self._eof and watch != self._watching:
            self._sel.modify(self._sock, watch)
            self._watching = watch
        while True:
            now = time.monotonic()
            if self._killed_at is None and now >= self._deadline:
                self._timed_out = True
                self._do_kill(now)
            if (
                self._exited_at is None
                and self._killed_at is not None
                and not self._forced
                and now >= self._killed_at + KILL_GRACE_S
            ):
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
        outcome = self._spawned.account(
            self._backend.decode_status(
                _Outcome(
                    stdout=_Capture(0),
                    stderr=self._stderr,
                    status=status,
                    exit_code=exit_code,
                    signal=sig,
                    timed_out=self._timed_out,
                    output_killed=self._output_killed,
                    wall_s=(self._exited_at or time.monotonic()) - self._spawned.t0,
                    cpu_s=cpu_s,
                )
            )
        )
        self._sel.close()
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None
        self._result = _result(outcome, stdout=bytes(self._buffer), truncated=self._unread_truncated)
        return self._result


def _until(timeout: float | None) -> float:
    """The monotonic time ``timeout`` seconds from now (infinity for None)."""
    if timeout is None:
        return math.inf
    return time.monotonic() + max(0.0, timeout)
