"""The programs that run inside the sandbox for the code verifier, and the value codec both sides use.

This file is copied, compiled, into each sandbox work dir as ``harness.pyc`` and started as
``python -I -S harness.pyc`` (the host adds the venv's site directories to ``sys.path``
through the configuration); rlvr itself is not importable there, so it uses the standard
library only.  The host imports it too, for the codec (it reads candidates' results with
``rlvr.verifiers.code.ResultReader``, which never builds sets or dicts).  Every process talks to the host over
its stdin/stdout, which ``Sandbox.session`` makes one Unix socket; the harness moves that
socket to a private descriptor and points fds 0, 1 and 2 at ``/dev/null`` before any other
code runs, so what candidate or check code prints never reaches the protocol.

Protocol  One JSON object per line (``Channel``); the first line from the host is the
          configuration, ``{"mode": ...}``; the harness answers ``{"ready": true, ...}`` or
          ``{"ready": false, "error": {...}}``.  Stdio results carry the program's stdout as
          raw bytes right after their line (``stdout_size`` bytes).
Modes     function  the candidate server: says ``{"started": true}`` (the host times the
                    loading from there), runs ``setup_code`` and the candidate's
                    ``solution.py`` once as module ``solution``, then answers ``{"call": n,
                    "args", "kwargs"}`` with ``{"result": n, "ok": true, "value"}`` or
                    ``{"result": n, "ok": false, "error"}``, calling the entry point
                    (``Class.method``: on a fresh ``Class()`` per call), or with ``"target":
                    name`` another name of the solution that the check code uses (a class:
                    the object it makes stays here, the checker gets ``{"$ref": i}``).  Calls
                    run in this process, one after the other; the host times each and kills
                    the whole sandbox when one overruns.  Expected values never come here.
          stdio     the runner: compiles ``solution.py`` once, then per ``{"run": n,
                    "input_size": k}`` (+ k bytes) forks a child of its pristine interpreter
                    that runs ``setup_code`` and the program as ``__main__`` with that stdin,
                    captures stdout (capped) and the tail of stderr, enforces the per-test
                    time limit and, after each test, kills every process the test left
                    behind.  The runner makes itself non-dumpable, so the programs cannot
                    read or write its memory.
          checkers  the trusted checker (its own sandbox, never the candidate's), which
                    outlives one verification: it reads one problem after another
                    (``{"nonce", "setup_code", "check_code", "entry_point",
                    "stop_at_first_failure"}``), each served in a fresh namespace, and then
                    says ``{"idle": true, "left_behind": ""}``.  What a candidate sends it is
                    only ever decoded into plain values (and instances of the check's own
                    classes, which go with its namespace); a check that leaves a thread, a
                    child process, an alarm, changed builtins or recursion limit, or more than
                    ``CHECKER_RSS_MB`` of memory behind ends the process instead (``"idle":
                    false``), so no later problem meets it.  For each problem it runs
                    ``setup_code`` and ``check_code``, says ready and calls
                    ``check(candidate)`` at once, where ``candidate(*args, **kwargs)`` sends
                    ``{"call": n, ...}`` to the host and returns the decoded reply: once the
                    candidate's function server has loaded, the host relays the call to it and
                    answers ``{"reply": n, "frame": base64}`` with the server's reply line
                    unread (decoded and checked here, under the time limit), or ``{"reply":
                    n, "ok": false, "error"}`` when the server timed out, died or could not
                    restart; ``{"reply": n, "abort": true}`` (the candidate never loaded)
                    ends the check unreported.  The candidate's exceptions are re-raised as the
                    built-in Exception type they name, but never StopIteration or
                    StopAsyncIteration (raised inside ``map`` or ``filter`` they would end
                    the check's iteration early); names and messages are cut.  Names the
                    check code reads but neither it nor the setup code defines become remote
                    constructors (``"target"``).  Each top-level statement of ``check`` that
                    holds an ``assert`` is one check, reported as it finishes (stopping at
                    the first failure, a passed check's report goes out with the checker's
                    next message: a call, a failure, the end); every frame
                    carries the nonce the host sent.  A problem with ``"do_nothing": name``
                    (one of ``DO_NOTHING_ANSWERS``) runs the check against a do-nothing program
                    instead, here in the checker: every call of ``candidate`` (and of any name the
                    solution would define) returns a fresh copy of that constant, or of its
                    first argument, and never reaches the host; every check runs and reports
                    ``{"check", "passed"}`` only.  ``"do_nothing": "compared values"`` returns a
                    ``ComparisonProbe`` instead, which records every value a check compares
                    the answer with (``==``, ``!=``, ``in``); ``done`` then carries
                    ``"compared"``: per distinct value (Python's equality), the checks that
                    compared with it, one character per check.  The host pays partial credit
                    only for the checks no do-nothing answer passes, beyond what one other
                    constant could pass of them.
Values    ``encode_value`` / ``decode_value``: JSON with one-key tag objects for what JSON
          lacks — ``{"$tuple": [...]}``, ``{"$set"}``, ``{"$frozenset"}``, ``{"$dict": [[k,
          v], ...]}`` (any keys), ``{"$bytes": base64}``, ``{"$complex": [re, im]}``,
          ``{"$float": "inf" | "-inf" | "nan"}`` and ``{"$int": hex}`` beyond 2**53.  Only
          the exact built-in types None, bool, int, float, complex, str, bytes, list, tuple,
          set, frozenset and dict are encoded, plus what Python itself counts equal to one of
          them: ``collections.defaultdict``/``OrderedDict``/``Counter`` travel as dicts and
          numpy scalars as the Python number they hold.  Anything else — subclasses included
          — is an error: a returned object never carries its own ``__eq__`` anywhere, the
          receiver always rebuilds plain values.  Between a function server and the checker
          only (``Objects``), instances of the task's own classes (defined by its setup or
          check code, e.g. MBPP's ``Point`` namedtuple) travel as ``{"$object": [name,
          state]}`` and are rebuilt with the receiver's class of that name, and objects left
          in the candidate's process as ``{"$ref": i}``.
"""

from __future__ import annotations

import binascii
import builtins
import collections
import functools
import gc
import io
import json
import math
import os
import selectors
import signal
import sys
import time
import types

# (ast and traceback are imported where needed: the function server and the runner start faster)

MAX_FRAME_BYTES = 64 << 20  # the longest protocol line either side accepts
READ_CHUNK_BYTES = 64 << 10  # one read of the channel takes at most this much
MAX_ERROR_CHARS = 2000  # error messages and tracebacks are cut to this many characters
MAX_NAME_CHARS = 100  # exception type names from the candidate are cut to this many characters
STDERR_TAIL_BYTES = 4096  # stdio: the end of a program's stderr that is reported
FLOOD_FACTOR = 8  # stdio: a stream beyond this many times its cap gets the program killed
HEX_INT_BOUND = 2**53  # integers at or beyond this magnitude travel as hex text
CHECKER_RSS_MB = 256  # a checker that keeps more memory than this after a check ends
CHECKS_KEPT = 16  # a checker keeps the instrumented, compiled check code of this many recent problems

_DICTS = (collections.OrderedDict, collections.defaultdict, collections.Counter)
_SPECIAL_FLOATS = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


# --------------------------------------------------------------------------------------------
# Value codec
# --------------------------------------------------------------------------------------------


class CodecError(ValueError):
    """A value that cannot travel (an unsupported type) or a malformed encoding."""


class RemoteRef:
    """The checker's stand-in for an object that lives in the candidate's process (made there
    by a class of the candidate's code that the check code calls); it can only be passed back."""

    __slots__ = ("index", "name")

    def __init__(self, index: int, name: str):
        self.index = index
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name} object #{self.index} of the candidate>"


class Objects:
    """What one side may send and rebuild beyond plain data.

    ``lookup(name)`` returns this side's class of that name (or None): instances of it travel
    as ``{"$object": [name, state]}`` (a tuple subclass: its items; otherwise its ``__dict__``)
    and the receiver rebuilds them with *its own* class of that name — so behaviour (``__eq__``
    included) always comes from the receiver.  ``handles`` (the function server only) holds
    objects that stay in this process and travel as ``{"$ref": index}``.
    """

    def __init__(self, lookup=None, handles: list | None = None):
        self.lookup = lookup
        self.handles = handles


_PLAIN = Objects()


def encode_value(value, objects: Objects = _PLAIN):
    """A JSON-ready form of a value (see the module docstring); CodecError for anything else."""
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        return value if -HEX_INT_BOUND < value < HEX_INT_BOUND else {"$int": hex(value)}
    if kind is float:
        return value if math.isfinite(value) else {"$float": repr(value)}
    if kind is list:
        return [encode_value(item, objects) for item in value]
    if kind is tuple:
        return {"$tuple": [encode_value(item, objects) for item in value]}
    if kind is set:
        return {"$set": [encode_value(item, objects) for item in value]}
    if kind is frozenset:
        return {"$frozenset": [encode_value(item, objects) for item in value]}
    if kind is dict:
        return {"$dict": [[encode_value(k, objects), encode_value(v, objects)] for k, v in value.items()]}
    if kind is bytes:
        return {"$bytes": binascii.b2a_base64(value, newline=False).decode("ascii")}
    if kind is complex:
        return {"$complex": [encode_value(value.real), encode_value(value.imag)]}
    if kind in _DICTS:  # compare equal to plain dicts in Python; travel as plain dicts
        return {"$dict": [[encode_value(k, objects), encode_value(v, objects)] for k, v in value.items()]}
    if getattr(kind, "__module__", None) == "numpy" and getattr(value, "ndim", None) == 0:
        plain = value.item()  # a numpy scalar: the Python number it equals
        if type(plain) in (bool, int, float, complex, str, bytes):
            return encode_value(plain)
    if kind is RemoteRef:
        return {"$ref": value.index}
    if objects.lookup is not None and objects.lookup(kind.__name__) is kind:
        if issubclass(kind, tuple):
            return {"$object": [kind.__name__, [encode_value(item, objects) for item in value]]}
        state = getattr(value, "__dict__", None)
        if type(state) is dict:
            return {"$object": [kind.__name__, encode_value(dict(state), objects)]}
    raise CodecError(f"a value of type {kind.__name__} cannot be returned or passed (plain data only)")


def decode_value(data, objects: Objects = _PLAIN):
    """The Python value of an ``encode_value`` form; CodecError if malformed or not allowed here."""
    kind = type(data)
    if data is None or kind is bool or kind is str or kind is int:
        return data
    if kind is float:
        if not math.isfinite(data):
            raise CodecError("non-finite floats must be tagged")
        return data
    if kind is list:
        return [decode_value(item, objects) for item in data]
    if kind is not dict or len(data) != 1:
        raise CodecError("malformed value")
    ((tag, payload),) = data.items()
    try:
        if tag == "$int" and type(payload) is str:
            return int(payload, 16)
        if tag == "$float" and payload in _SPECIAL_FLOATS:
            return _SPECIAL_FLOATS[payload]
        if tag == "$bytes" and type(payload) is str:
            return binascii.a2b_base64(payload.encode("ascii"), strict_mode=True)
        if tag == "$ref" and type(payload) is int and objects.handles is not None:
            if not 0 <= payload < len(objects.handles):
                raise CodecError("unknown object reference")
            return objects.handles[payload]
        if type(payload) is not list:
            raise CodecError(f"malformed {tag}")
        if tag == "$tuple":
            return tuple(decode_value(item, objects) for item in payload)
        if tag == "$set":
            return {decode_value(item, objects) for item in payload}
        if tag == "$frozenset":
            return frozenset(decode_value(item, objects) for item in payload)
        if tag == "$dict":
            pairs = [decode_value(pair, objects) for pair in payload]
            if not all(type(pair) is list and len(pair) == 2 for pair in pairs):
                raise CodecError("malformed $dict")
            return dict(pairs)
        if tag == "$complex" and len(payload) == 2:
            return complex(_decode_float_or_int(payload[0]), _decode_float_or_int(payload[1]))
        if tag == "$object" and len(payload) == 2 and type(payload[0]) is str and objects.lookup is not None:
            return _rebuild(objects.lookup(payload[0]), decode_value(payload[1], objects), payload[0])
    except CodecError:
        raise
    except Exception as error:  # unhashable keys, bad base64, constructors that refuse the state
        raise CodecError(f"malformed {tag}: {type(error).__name__}") from None
    raise CodecError(f"malformed value (tag {str(tag)[:20]!r})")


def _rebuild(cls, state, name: str = "?"):
    """An instance of this side's class ``cls`` from the sender's plain state."""
    if not isinstance(cls, type):
        raise CodecError(
            f"a value of type {name[:80]} cannot be returned or passed (plain data or the task's own classes only)"
        )
    if issubclass(cls, tuple):
        if type(state) is not list:
            raise CodecError("malformed $object")
        return cls._make(state) if hasattr(cls, "_make") else cls(state)
    if type(state) is not dict or not all(type(key) is str for key in state):
        raise CodecError("malformed $object")
    instance = cls.__new__(cls)
    instance.__dict__.update(state)
    return instance


def _decode_float_or_int(item):
    value = decode_value(item)
    if type(value) not in (float, int):
        raise CodecError("malformed complex number")
    return value


def _reject_constant(name):
    raise CodecError(f"bare {name} is not allowed in a frame")


def dumps_frame(message: dict) -> bytes:
    """One protocol line: ASCII JSON and a newline."""
    return (json.dumps(message, ensure_ascii=True, allow_nan=False, separators=(",", ":")) + "\n").encode("ascii")


def loads_frame(line: bytes) -> dict:
    """A protocol line back to a dict; CodecError for anything else."""
    try:
        message = json.loads(line, parse_constant=_reject_constant)
    except CodecError:
        raise
    except (ValueError, RecursionError, MemoryError) as error:
        raise CodecError(f"malformed frame: {type(error).__name__}") from None
    if type(message) is not dict:
        raise CodecError("a frame must be a JSON object")
    return message


def encode_kwargs(kwargs: dict, objects: Objects = _PLAIN) -> list:
    return [[name, encode_value(value, objects)] for name, value in kwargs.items()]


def decode_kwargs(data, objects: Objects = _PLAIN) -> dict:
    if type(data) is not list or not all(type(p) is list and len(p) == 2 and type(p[0]) is str for p in data):
        raise CodecError("malformed keyword arguments")
    return {name: decode_value(value, objects) for name, value in data}


def describe_error(error: BaseException, filename: str | None = "solution.py") -> dict:
    """Type, message and the traceback lines of ``filename`` (all lines when None), cut short."""
    import traceback

    try:
        message = str(error)
    except BaseException:  # a hostile __str__
        message = "<unprintable>"
    try:
        frames = traceback.extract_tb(error.__traceback__)
        if filename is not None:
            frames = [frame for frame in frames if frame.filename == filename]
        lines = traceback.format_list(frames[-6:])
        text = "".join(lines) + f"{type(error).__name__}: {message}"
    except BaseException:
        text = f"{type(error).__name__}: {message}"
    return {"type": type(error).__name__, "message": message[:MAX_ERROR_CHARS], "traceback": text[-MAX_ERROR_CHARS:]}


# --------------------------------------------------------------------------------------------
# The channel to the host
# --------------------------------------------------------------------------------------------


class Channel:
    """Line-framed JSON over a blocking descriptor (the session socket)."""

    def __init__(self, fd: int, out_fd: int | None = None):
        self.fd = fd  # read from
        self.out_fd = fd if out_fd is None else out_fd  # written to
        self.buffer = bytearray()
        # reads land here: a fresh 1 MiB bytes object per read would be mapped and unmapped
        # each time (three system calls more per message, twice per call of a check), and a
        # 1 MiB buffer costs a freshly forked run ~0.5 ms of page faults to zero; 64 KiB (under
        # malloc's mmap threshold) costs ~0.05 ms and takes a frame in a few reads
        self._chunk = bytearray(READ_CHUNK_BYTES)

    def _fill(self) -> bool:
        size = os.readv(self.fd, [self._chunk])
        if not size:
            return False
        self.buffer += memoryview(self._chunk)[:size]
        return True

    def read_line(self) -> bytes | None:
        searched = 0
        while True:
            index = self.buffer.find(b"\n", searched)
            if index >= 0:
                line = bytes(self.buffer[: index + 1])
                del self.buffer[: index + 1]
                return line
            if len(self.buffer) > MAX_FRAME_BYTES:
                raise CodecError("frame too long")
            searched = len(self.buffer)
            if not self._fill():
                return None

    def read_exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            if not self._fill():
                raise EOFError("the host closed the channel")
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def receive(self) -> dict | None:
        line = self.read_line()
        return None if line is None else loads_frame(line)

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.out_fd, view) :]

    def send(self, message: dict, payload: bytes = b"") -> None:
        self.write(dumps_frame(message) + payload)


def take_channel() -> Channel:
    """Move the host channel off fds 0/1 (one socket under bwrap; docker's stdin and stdout
    pipes) and point fds 0, 1 and 2 at /dev/null."""
    fd, out_fd = os.dup(0), os.dup(1)  # non-inheritable: programs this process execs never get them
    null = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):
        os.dup2(null, target)
    os.close(null)
    sys.stdin = sys.__stdin__ = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "rb", closefd=False)), encoding="utf-8")
    sys.stdout = sys.__stdout__ = io.TextIOWrapper(
        io.BufferedWriter(io.FileIO(1, "wb", closefd=False)), encoding="utf-8"
    )
    sys.stderr = sys.__stderr__ = io.TextIOWrapper(
        io.BufferedWriter(io.FileIO(2, "wb", closefd=False)),
        encoding="utf-8",
        errors="backslashreplace",
        line_buffering=True,
    )
    return Channel(fd, out_fd)


@functools.lru_cache(maxsize=1)
def _libc():
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def _prctl(option: int, value: int) -> bool:
    try:
        return _libc().prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36


# --------------------------------------------------------------------------------------------
# Mode "function": the candidate server
# --------------------------------------------------------------------------------------------


def load_solution(config: dict):
    """Run setup code and solution.py as module ``solution``; return the entry point resolver."""
    with open(config.get("source_file", "solution.py"), encoding="utf-8", errors="surrogateescape") as handle:
        source = handle.read()
    code = compile(source, "solution.py", "exec")
    module = types.ModuleType("solution")
    module.__file__ = "solution.py"
    sys.modules["solution"] = module
    sys.argv = ["solution.py"]
    if config.get("setup_code"):
        exec(compile(config["setup_code"], "setup.py", "exec"), module.__dict__)
    exec(code, module.__dict__)
    entry_point = config["entry_point"]
    class_name, _, function_name = entry_point.rpartition(".")
    namespace = module.__dict__
    if class_name:
        cls = namespace.get(class_name)
        if not isinstance(cls, type) or not hasattr(cls, function_name):
            raise LookupError(f"solution.py does not define class {class_name} with a method {function_name}")
        return namespace, lambda: getattr(cls(), function_name)
    function = namespace.get(function_name)
    if not callable(function):
        raise LookupError(f"solution.py does not define a function named {function_name}")
    return namespace, lambda: function


def serve_function(config: dict, channel: Channel) -> None:
    channel.send({"started": True})  # the host times the loading from here
    started = time.perf_counter()
    try:
        namespace, resolve = load_solution(config)
    except BaseException as error:
        channel.send(
            {"ready": False, "error": describe_error(error, None if isinstance(error, SyntaxError) else "solution.py")}
        )
        return

    def lookup(name):
        found = namespace.get(name)
        return found if isinstance(found, type) else None

    # Objects of the task's classes travel only to the trusted checker (assert style), which
    # rebuilds them with its own classes; the host (function style) takes plain data only.
    objects = Objects(lookup, handles=[]) if config.get("share_classes") else Objects(handles=[])
    channel.send({"ready": True, "load_s": time.perf_counter() - started})
    while True:
        request = channel.receive()
        if request is None:
            return
        number = request.get("call")
        target = request.get("target")
        try:
            args = decode_value(request["args"], objects)
            kwargs = decode_kwargs(request.get("kwargs", []), objects)
            if target is None:
                function = resolve()
            else:  # a name of the candidate's code that the check code uses (a class, mostly)
                function = namespace.get(target) if isinstance(target, str) else None
                if not callable(function):
                    raise NameError(f"name {target!r} is not defined by the solution")
            began = time.perf_counter()
            value = function(*args, **kwargs)
            elapsed = time.perf_counter() - began
            if target is None:
                encoded = encode_value(value, objects)
            else:
                try:
                    encoded = encode_value(value)
                except CodecError:  # the object stays here; the checker gets a reference to it
                    objects.handles.append(value)
                    encoded = {"$ref": len(objects.handles) - 1}
            reply = {"result": number, "ok": True, "value": encoded, "wall_s": elapsed}
        except BaseException as error:
            reply = {"result": number, "ok": False, "error": describe_error(error)}
        channel.send(reply)


# --------------------------------------------------------------------------------------------
# Mode "stdio": the runner
# --------------------------------------------------------------------------------------------


def _exit_status(error: SystemExit) -> int:
    code = error.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        sys.stderr.write(f"{code}\n")
    except BaseException:
        pass
    return 1


def _run_as_main(code, setup, stdin_fd: int, stdout_fd: int, stderr_fd: int, dumpable: bool) -> None:
    """In the forked child: become the program (never returns)."""
    status = 70
    try:
        os.setpgid(0, 0)
        os.dup2(stdin_fd, 0)
        os.dup2(stdout_fd, 1)
        os.dup2(stderr_fd, 2)
        os.closerange(3, max(256, os.sysconf("SC_OPEN_MAX")))
        if dumpable:
            _prctl(PR_SET_DUMPABLE, 1)  # the runner is not; the program is an ordinary process
        sys.stdin = sys.__stdin__ = io.TextIOWrapper(
            io.BufferedReader(io.FileIO(0, "rb", closefd=False)), encoding="utf-8", newline="\n"
        )
        sys.stdout = sys.__stdout__ = io.TextIOWrapper(
            io.BufferedWriter(io.FileIO(1, "wb", closefd=False)), encoding="utf-8", newline="\n"
        )
        sys.stderr = sys.__stderr__ = io.TextIOWrapper(
            io.BufferedWriter(io.FileIO(2, "wb", closefd=False)),
            encoding="utf-8",
            errors="backslashreplace",
            newline="\n",
            line_buffering=True,
        )
        sys.argv = ["solution.py"]
        module = types.ModuleType("__main__")
        module.__file__ = "solution.py"
        module.__builtins__ = builtins
        sys.modules["__main__"] = module
        import atexit

        atexit._clear()
        status = 0
        try:
            if setup is not None:
                exec(setup, module.__dict__)
            exec(code, module.__dict__)
        except SystemExit as error:
            status = _exit_status(error)
        except BaseException as error:
            import traceback

            frames = error.__traceback__  # shown from the program's own frames on, as python would
            while frames is not None and frames.tb_frame.f_code.co_filename not in ("solution.py", "setup.py"):
                frames = frames.tb_next
            traceback.print_exception(type(error), error, frames)
            status = 1
        # What interpreter shutdown would do: wait for threads, run atexit, flush and finalise files.
        if "threading" in sys.modules:
            try:
                sys.modules["threading"]._shutdown()
            except BaseException:
                pass
        try:
            atexit._run_exitfuncs()
        except BaseException:
            pass
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                status = status or 120
        try:
            module.__dict__.clear()  # files the program left open are flushed as they are freed
        except BaseException:
            pass
    finally:
        os._exit(status)


def _kill_leftovers(pid: int, isolated: bool) -> None:
    """Kill the test's process group and, inside the sandbox's own pid namespace, every
    process but this one (the kernel spares the caller and pid 1)."""
    for target in (-pid, pid):
        try:
            os.kill(target, signal.SIGKILL)
        except OSError:
            pass
    if isolated and os.getuid() != 0:
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass


def _reap_all() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.001)


def run_test(code, setup, stdin_data: bytes, time_limit: float, stdout_cap: int, isolated: bool) -> tuple[dict, bytes]:
    stdin_fd = os.memfd_create("stdin", 0)
    _write_all(stdin_fd, stdin_data)
    os.lseek(stdin_fd, 0, os.SEEK_SET)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    for stream in (sys.stdout, sys.stderr):  # nothing buffered here may reach the child's pipes
        stream.flush()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        _run_as_main(code, setup, stdin_fd, out_w, err_w, isolated)
    for fd in (stdin_fd, out_w, err_w):
        os.close(fd)
    out, err_tail = bytearray(), b""
    totals = {out_r: 0, err_r: 0}
    timed_out = output_limit = killed = False
    status = None
    selector = selectors.DefaultSelector()
    pidfd = os.pidfd_open(pid)
    for fd in (out_r, err_r):
        os.set_blocking(fd, False)
        selector.register(fd, selectors.EVENT_READ)
    selector.register(pidfd, selectors.EVENT_READ)
    deadline = started + time_limit
    drain_until = None
    open_streams = 2
    try:
        while True:
            now = time.monotonic()
            if status is None and not killed and now >= deadline:
                timed_out = killed = True
                _kill_leftovers(pid, isolated)
            if status is not None and (open_streams == 0 or now >= drain_until):
                break
            wait = (drain_until if status is not None else deadline if not killed else now + 0.05) - now
            for key, _ in selector.select(max(0.0, wait)):
                fd = key.fd
                if fd == pidfd:
                    _, status = os.waitpid(pid, 0)
                    selector.unregister(pidfd)
                    elapsed = time.monotonic() - started
                    _kill_leftovers(pid, isolated)  # whatever still holds the pipes
                    drain_until = time.monotonic() + 0.5
                    continue
                try:
                    chunk = os.read(fd, 1 << 16)
                except BlockingIOError:
                    continue
                if not chunk:
                    selector.unregister(fd)
                    open_streams -= 1
                    continue
                totals[fd] += len(chunk)
                if fd == out_r:
                    room = stdout_cap - len(out)
                    if room > 0:
                        out += chunk[:room]
                    if totals[fd] > stdout_cap and not killed:
                        output_limit = killed = True
                        _kill_leftovers(pid, isolated)
                else:
                    err_tail = (err_tail + chunk)[-STDERR_TAIL_BYTES:]
                    if totals[fd] > STDERR_TAIL_BYTES * 256 and not killed:
                        killed = True
                        output_limit = True
                        _kill_leftovers(pid, isolated)
    finally:
        selector.close()
        for fd in (out_r, err_r, pidfd):
            os.close(fd)
    _kill_leftovers(pid, isolated)
    _reap_all()
    exit_code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
    killed_by = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    result = {
        "exit_code": exit_code,
        "signal": killed_by,
        "timed_out": timed_out,
        "output_limit": output_limit,
        "wall_s": round(elapsed, 6),
        "stderr": err_tail.decode("utf-8", "replace"),
        "stdout_size": len(out),
    }
    return result, bytes(out)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def serve_stdio(config: dict, channel: Channel) -> None:
    try:
        with open(config.get("source_file", "solution.py"), encoding="utf-8", errors="surrogateescape") as handle:
            code = compile(handle.read(), "solution.py", "exec")
        setup = compile(config["setup_code"], "setup.py", "exec") if config.get("setup_code") else None
    except BaseException as error:
        channel.send({"ready": False, "error": describe_error(error, None)})
        return
    isolated = bool(config.get("isolated"))
    if isolated:
        _prctl(PR_SET_DUMPABLE, 0)  # the programs (same uid) cannot touch this process's memory
    _prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans come back here to be reaped
    channel.send({"ready": True})
    time_limit = float(config["time_limit_s"])
    stdout_cap = int(config["stdout_cap"])
    while True:
        request = channel.receive()
        if request is None:
            return
        stdin_data = channel.read_exactly(int(request["input_size"]))
        result, out = run_test(code, setup, stdin_data, time_limit, stdout_cap, isolated)
        result["result"] = request["run"]
        channel.send(result, out)


# --------------------------------------------------------------------------------------------
# Mode "checkers": the trusted checker
# --------------------------------------------------------------------------------------------


class CandidateError(RuntimeError):
    """The candidate failed a call in a way no built-in exception describes (crash, timeout)."""


# What a program that ignores its input returns from every call: the constants by their repr, and
# its first argument handed back.  Checks that one of them passes earn no partial credit.
_DO_NOTHING_CONSTANTS = {repr(value): value for value in (None, 0, 1, True, False, [], "")}
FIRST_ARGUMENT = "first argument"
DO_NOTHING_ANSWERS = (*_DO_NOTHING_CONSTANTS, FIRST_ARGUMENT)
# The run that finds which values each check compares the answer with (any other constant a
# program could return): the answer is a ``ComparisonProbe``.
COMPARED_VALUES = "compared values"
MAX_COMPARED_VALUES = 256  # distinct values recorded in one such run


class ComparisonProbe:
    """The answer of the ``COMPARED_VALUES`` run: each ``==`` / ``!=`` (either side, so also
    ``in`` a list) hands the other value to ``record`` and is false / true."""

    __slots__ = ("record",)
    __hash__ = None

    def __init__(self, record):
        self.record = record

    def __eq__(self, other):
        self.record(other)
        return False

    def __ne__(self, other):
        self.record(other)
        return True


def do_nothing_candidate(name: str, objects: Objects, record=None):
    """``candidate(*args, **kwargs)`` for the do-nothing answer ``name``: each call returns a
    fresh value, rebuilt through the codec as a real candidate's reply is, or for
    ``COMPARED_VALUES`` a fresh probe reporting to ``record`` (LookupError for another name)."""
    if name == COMPARED_VALUES:
        return lambda *args, **kwargs: ComparisonProbe(record)
    if name == FIRST_ARGUMENT:

        def first_argument(*args, **kwargs):
            values = [*args, *kwargs.values()]
            return decode_value(encode_value(values[0], objects), objects) if values else None

        return first_argument
    if name not in _DO_NOTHING_CONSTANTS:
        raise LookupError(f"no do-nothing answer {name[:40]!r}")
    encoded = encode_value(_DO_NOTHING_CONSTANTS[name])
    return lambda *args, **kwargs: decode_value(encoded)


class _StopChecks(BaseException):
    """Raised after the first failed check when the host wants no more."""


def _contains_assert(node) -> bool:
    """An assert that tests something (not ``assert True``), outside nested functions/classes."""
    import ast

    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Assert) and not isinstance(current.test, ast.Constant):
            return True
        for child in ast.iter_child_nodes(current):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                stack.append(child)
    return False


class _Segments:
    """``ast.get_source_segment`` for many nodes of one source, its lines split once (where the
    parser splits them: at \\r\\n, \\n and \\r; ``ast`` splits the whole source again per node)."""

    def __init__(self, source: str):
        import re

        self.lines = re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+", source)

    def __call__(self, node) -> str | None:
        end_lineno, end_col_offset = getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None)
        if end_lineno is None or end_col_offset is None:
            return None
        first, last = node.lineno - 1, end_lineno - 1
        if first == last:
            return self.lines[first].encode()[node.col_offset : end_col_offset].decode()
        head = self.lines[first].encode()[node.col_offset :].decode()
        tail = self.lines[last].encode()[:end_col_offset].decode()
        return "".join([head, *self.lines[first + 1 : last], tail])


def _expected_source(statement, segment: _Segments) -> str | None:
    """For ``assert candidate(...) == X`` (either side): the source of X."""
    import ast

    if not isinstance(statement, ast.Assert):
        return None
    test = statement.test
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Eq, ast.Is)):
        left, right = test.left, test.comparators[0]
        has_call = lambda node: any(isinstance(n, ast.Call) for n in ast.walk(node))  # noqa: E731
        if has_call(left) and not has_call(right):
            return segment(right)
        if has_call(right) and not has_call(left):
            return segment(left)
        return segment(right)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return "a false value"
    if isinstance(test, ast.Call):
        return "a true value"
    return None


def _reports_outcome(number: int, statement) -> object:
    """``try: __rlvr_begin__(number)`` / ``except Exception as __rlvr_error__:
    __rlvr_end__(number, __rlvr_error__)`` / ``else: __rlvr_end__(number, None)`` around
    ``statement`` (an ``ast.Try``), every node where the statement was.  Built node by node: parsing
    that text for each check cost more than the rest of the instrumentation together."""
    import ast

    at = {
        "lineno": statement.lineno,
        "col_offset": statement.col_offset,
        "end_lineno": statement.end_lineno,
        "end_col_offset": statement.end_col_offset,
    }

    def call(name: str, *args) -> ast.Expr:
        return ast.Expr(ast.Call(ast.Name(name, ast.Load(), **at), list(args), [], **at), **at)

    def end(error) -> ast.Expr:
        return call("__rlvr_end__", ast.Constant(number, **at), error)

    caught = ast.ExceptHandler(
        ast.Name("Exception", ast.Load(), **at),
        "__rlvr_error__",
        [end(ast.Name("__rlvr_error__", ast.Load(), **at))],
        **at,
    )
    return ast.Try(
        [call("__rlvr_begin__", ast.Constant(number, **at)), statement],
        [caught],
        [end(ast.Constant(None, **at))],
        [],
        **at,
    )


def instrument_check(check_code: str) -> tuple[object, list[dict], set[str]]:
    """Wrap each top-level statement of ``check`` that asserts something so that it reports
    its own outcome; returns the new module (an ``ast.Module``), the checks (line, statement,
    expected) and the names the check code reads (what neither setup nor check code defines
    may come from the candidate's code), from one parse."""
    import ast

    tree = ast.parse(check_code, "check.py")
    names = {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id != "candidate"
    }
    segment = _Segments(check_code)
    checks: list[dict] = []
    function = next((node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "check"), None)
    if function is None:
        raise LookupError("the check code defines no check(candidate) function")
    body = []
    for statement in function.body:
        if not _contains_assert(statement):
            body.append(statement)
            continue
        number = len(checks)
        checks.append(
            {
                "line": statement.lineno,
                "statement": (segment(statement) or ast.unparse(statement))[:MAX_ERROR_CHARS],
                "expected": _expected_source(statement, segment),
            }
        )
        body.append(_reports_outcome(number, statement))
    function.body = body
    return tree, checks, names


def _short_repr(value, limit: int = 500) -> str:
    try:
        text = repr(value)
    except BaseException:
        text = "<unprintable>"
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def _cut(text, limit: int) -> str:
    """A text field of the candidate's reply, cut; '' for anything that is not text."""
    return text[:limit] if type(text) is str else ""


def _candidate_reply(frame, number: int) -> dict:
    """The candidate's reply line (base64, as the host relayed it) as a checked reply dict."""
    try:
        reply = loads_frame(binascii.a2b_base64(frame.encode("ascii"), strict_mode=True))
    except (CodecError, ValueError, AttributeError, binascii.Error):
        raise CandidateError("the candidate's program sent a malformed reply") from None
    if reply.get("result") != number or not isinstance(reply.get("ok"), bool):
        raise CandidateError("the candidate's program sent a reply that does not answer the call")
    return reply


# Exceptions that steer control flow when raised where the check code iterates (a StopIteration
# from a call inside ``map``/``filter`` would end the iteration early and skip the checks).
_NOT_RERAISED = (StopIteration, StopAsyncIteration)


def _raise_candidate_error(error: dict):
    name = _cut(error.get("type"), MAX_NAME_CHARS) if isinstance(error, dict) else ""
    message = _cut(error.get("message"), MAX_ERROR_CHARS) if isinstance(error, dict) else "candidate failed"
    kind = getattr(builtins, name, None) if name else None
    error = None
    if isinstance(kind, type) and issubclass(kind, Exception) and not issubclass(kind, _NOT_RERAISED):
        try:
            error = kind(message)
        except Exception:  # constructors that need other arguments
            error = None
    raise error if error is not None else CandidateError(f"{name}: {message}" if name else message)


_COMPILED_CHECKS: collections.OrderedDict = collections.OrderedDict()


def _compiled_check(check_code: str) -> tuple[object, tuple, frozenset]:
    """``instrument_check``'s result for ``check_code``, the module compiled; the last
    ``CHECKS_KEPT`` problems' are kept (a problem's samples, and its do-nothing runs, come in
    a row).  What is kept cannot change: a code object, and per check a dict that is only ever
    copied, in a tuple."""
    kept = _COMPILED_CHECKS.get(check_code)
    if kept is None:
        tree, checks, names = instrument_check(check_code)
        kept = (compile(tree, "check.py", "exec"), tuple(checks), frozenset(names))
        _COMPILED_CHECKS[check_code] = kept
        if len(_COMPILED_CHECKS) > CHECKS_KEPT:
            _COMPILED_CHECKS.popitem(last=False)
    else:
        _COMPILED_CHECKS.move_to_end(check_code)
    return kept


def serve_checker(config: dict, channel: Channel) -> None:
    """One problem's check, in a fresh namespace (see ``serve_checkers``)."""
    nonce = config["nonce"]
    do_nothing = config.get("do_nothing")  # None: the candidate's calls go to the host
    stop_at_first_failure = do_nothing is None and bool(config.get("stop_at_first_failure", True))

    held: list[bytes] = []  # passed checks' reports, sent with the next message (below)

    def send(message: dict, hold: bool = False) -> None:
        message["nonce"] = nonce
        if hold:
            held.append(dumps_frame(message))
            return
        channel.write(b"".join([*held, dumps_frame(message)]))
        held.clear()

    namespace = {"__name__": "__check__", "__builtins__": builtins}
    try:
        compiled, checks, read_names = _compiled_check(config["check_code"])
        if config.get("setup_code"):
            exec(compile(config["setup_code"], "setup.py", "exec"), namespace)
        exec(compiled, namespace)
    except BaseException as error:
        send({"ready": False, "error": describe_error(error, None)})
        return
    whole = not checks
    if whole:
        checks = [{"line": 0, "statement": "check(candidate)", "expected": None}]
    state = {"calls": 0, "last": None, "check": 0 if whole else None}  # check: the one running
    compared: dict = {}  # COMPARED_VALUES: value (Python's equality, or repr when unhashable) → checks

    def record(value) -> None:
        if state["check"] is None or type(value) is ComparisonProbe:
            return
        try:
            hash(value)
        except TypeError:
            value = ("unhashable", _short_repr(value, MAX_ERROR_CHARS))
        if value in compared or len(compared) < MAX_COMPARED_VALUES:
            compared.setdefault(value, set()).add(state["check"])

    def trusted_class(name):
        found = namespace.get(name)
        return found if isinstance(found, type) and getattr(found, "__module__", None) == "__check__" else None

    objects = Objects(trusted_class)
    stand_in = None  # the do-nothing program's every function
    if do_nothing is not None:
        try:
            stand_in = do_nothing_candidate(str(do_nothing), objects, record)
        except LookupError as error:
            send({"ready": False, "error": describe_error(error, None)})
            return

    def remote_call(target, args, kwargs):
        state["calls"] += 1
        number = state["calls"]
        shown = ", ".join(
            [_short_repr(a, 200) for a in args] + [f"{k}={_short_repr(v, 200)}" for k, v in kwargs.items()]
        )
        message = {"call": number, "args": encode_value(list(args), objects), "kwargs": encode_kwargs(kwargs, objects)}
        if target is not None:
            message["target"] = target
        else:
            state["last"] = {"input": f"candidate({shown})"}
        send(message)
        reply = channel.receive()
        if reply is None or reply.get("reply") != number:
            raise CandidateError("the host broke off the call")
        if reply.get("abort") is True:  # the candidate's program never loaded: the check just ends
            raise _StopChecks
        if "frame" in reply:  # the candidate's own reply line, relayed unread by the host
            reply = _candidate_reply(reply["frame"], number)
        if reply.get("ok"):
            encoded = reply["value"]
            if target is not None and type(encoded) is dict and type(encoded.get("$ref")) is int and len(encoded) == 1:
                return RemoteRef(encoded["$ref"], target)
            value = decode_value(encoded, objects)
            if target is None:
                state["last"]["got"] = _short_repr(value)
            return value
        error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
        if target is None:
            state["last"]["error"] = _cut(error.get("message"), MAX_ERROR_CHARS)
            state["last"]["error_type"] = _cut(error.get("type"), MAX_NAME_CHARS)
        _raise_candidate_error(error)

    def remote_candidate(*args, **kwargs):
        return remote_call(None, args, kwargs)

    def remote_constructor(name):
        if stand_in is not None:  # a do-nothing program defines every name as itself
            return stand_in

        def construct(*args, **kwargs):
            return remote_call(name, args, kwargs)

        construct.__name__ = construct.__qualname__ = name
        return construct

    candidate = remote_candidate if stand_in is None else stand_in

    for name in read_names:  # e.g. a class the solution defines (MBPP's Pair)
        if name not in namespace and not hasattr(builtins, name):
            namespace[name] = remote_constructor(name)

    def begin(number: int) -> None:
        state["last"] = None
        state["check"] = number

    def end(number: int, error: BaseException | None) -> None:
        state["check"] = None
        message = {"check": number, "passed": error is None}
        if error is not None and do_nothing is None:
            failure = dict(checks[number])
            failure["error"] = describe_error(error, "check.py")
            if state["last"]:
                failure.update(state["last"])
            message["failure"] = failure
        # Stopping at the first failure, a passed check's report waits for the next message (a
        # call, a failure, the end): the host wakes once for them all.  With partial credit
        # each goes at once: one the check's own work outlasts still counts.
        send(message, hold=stop_at_first_failure and error is None)
        if error is not None and stop_at_first_failure:
            raise _StopChecks

    namespace["__rlvr_begin__"] = begin
    namespace["__rlvr_end__"] = end
    entry_point = config.get("entry_point") or ""
    if entry_point.isidentifier():
        namespace[entry_point] = candidate  # checks that call the function by its name
    send({"ready": True, "checks": len(checks)})  # and the check starts: its calls wait at the host
    aborted = None
    try:
        if whole:
            try:
                namespace["check"](candidate)
            except Exception as error:
                end(0, error)
            else:
                end(0, None)
        else:
            namespace["check"](candidate)
    except _StopChecks:
        pass
    except BaseException as error:
        aborted = describe_error(error, "check.py")
        if state["last"]:
            aborted.update(state["last"])
    done = {"done": True, "aborted": aborted}
    if do_nothing == COMPARED_VALUES:  # per value compared with: one character per check, "1" where
        masks = {"".join("1" if n in found else "0" for n in range(len(checks))) for found in compared.values()}
        done["compared"] = sorted(masks)
    send(done)


def _left_behind(builtins_before: dict, recursion_limit: int) -> str:
    """What a finished check left in this process that a later problem's check could meet
    ("" when nothing): threads, child processes, a pending alarm, changed builtins or recursion
    limit, or more than ``CHECKER_RSS_MB`` of memory kept."""
    if "threading" in sys.modules and sys.modules["threading"].active_count() > 1:
        return "a thread"
    try:
        os.waitpid(-1, os.WNOHANG)
        return "a child process"
    except ChildProcessError:
        pass
    if signal.alarm(0):
        return "an alarm"
    if sys.getrecursionlimit() != recursion_limit:
        return "the recursion limit changed"
    current = vars(builtins)
    if len(current) != len(builtins_before) or any(current.get(k) is not v for k, v in builtins_before.items()):
        return "the builtins changed"
    with open("/proc/self/statm", encoding="ascii") as handle:
        resident = int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    if resident > CHECKER_RSS_MB << 20:
        return f"{resident >> 20} MB kept"
    return ""


def serve_checkers(config: dict, channel: Channel) -> None:
    """Mode "checkers": one problem's check after another, each in a fresh namespace; after each,
    ``{"idle": true, "left_behind": ""}`` -- or, when the check left something behind
    (``_left_behind``), ``{"idle": false, "left_behind": what}`` and the process ends."""
    builtins_before = dict(vars(builtins))
    recursion_limit = sys.getrecursionlimit()
    gc.freeze()  # what is here now stays out of the collections that follow each check
    while True:
        problem = channel.receive()
        if problem is None:
            return
        serve_checker(problem, channel)
        gc.collect()
        left = _left_behind(builtins_before, recursion_limit)
        channel.send({"idle": not left, "left_behind": left})
        if left:
            return


# --------------------------------------------------------------------------------------------


MODES = {"function": serve_function, "stdio": serve_stdio, "checkers": serve_checkers}


def main() -> None:
    channel = take_channel()
    config = channel.receive()
    if config is None:
        return
    # Started with -S (no .pth processing, a faster start); the host names the site directories.
    sys.path.extend(path for path in config.get("sys_path", ()) if path not in sys.path)
    MODES[config["mode"]](config, channel)


if __name__ == "__main__":
    main()
