"""Concurrent runs cannot signal each other, and cannot starve each other of CPU.

Each channel test holds run A in a session while run B looks, so that the two overlap for
certain, and compares what B sees beside A with what it sees alone: any difference is a signal
one candidate could send another verified at the same time (inotify watches on the shared
read-only tree, ptys of a shared devpts and the host-wide pty count, file locks on shared inodes).
The CPU test checks that a run with 63 spinning processes does not make a concurrent one-process
run overrun its wall limit.  Each runs on the cold path and on the warm path (WarmPool).
"""

from __future__ import annotations

import contextlib
import errno
import json

import pytest

from rlvr.verifiers.sandbox import Limits, Sandbox, SandboxUnavailable

try:
    _BOX = Sandbox("bwrap")
    _SKIP = ""
except SandboxUnavailable as exc:
    _BOX, _SKIP = None, str(exc)

pytestmark = pytest.mark.skipif(bool(_SKIP), reason=f"bwrap sandbox unavailable: {_SKIP}")

LIMITS = Limits(wall_s=8.0)
READY = b"ready\n"


class _Cold:
    def __init__(self, box: Sandbox) -> None:
        self.box = box

    def argv(self) -> list[str]:
        return [self.box.python, "-I", "-S", "main.py"]

    def session(self, code: str, limits: Limits = LIMITS):
        return self.box.session(self.argv(), files={"main.py": code}, limits=limits)

    def run(self, code: str, limits: Limits = LIMITS):
        return self.box.run(self.argv(), files={"main.py": code}, limits=limits)


class _Warm:
    def __init__(self, pool) -> None:
        self.pool = pool

    def session(self, code: str, limits: Limits = LIMITS):
        return self.pool.session(["main.py"], files={"main.py": code}, limits=limits)

    def run(self, code: str, limits: Limits = LIMITS):
        return self.pool.run(["main.py"], files={"main.py": code}, limits=limits)


@pytest.fixture(scope="module", params=["cold", "warm"])
def runs(request):
    if request.param == "cold":
        yield _Cold(_BOX)
        return
    try:
        from rlvr.verifiers.sandbox.warm import WarmPool

        pool = WarmPool(_BOX, zygotes=2)
    except (SandboxUnavailable, OSError) as exc:
        pytest.skip(f"warm path unavailable: {exc}")
    with pool:
        yield _Warm(pool)


@contextlib.contextmanager
def holding(runs, code: str):
    """Run A in a session, past the point where it prints ``ready``; it is killed on exit."""
    with runs.session(code) as session:
        assert session.readline(64, timeout=6.0) == READY, session.close().stderr.decode(errors="replace")
        yield session


def observe(result) -> dict:
    assert result.exit_code == 0, result.stderr.decode(errors="replace")
    return json.loads(result.stdout.decode().strip().splitlines()[-1])


def alone_and_beside(runs, sender: str, receiver: str) -> tuple[dict, dict]:
    alone = observe(runs.run(receiver))
    with holding(runs, sender):
        beside = observe(runs.run(receiver))
    return alone, beside


PTY_SENDER = """
import os, sys
held = []
try:
    for _ in range(5):
        held.append(os.openpty())
except OSError:
    pass
sys.stdout.write("ready\\n"); sys.stdout.flush()
sys.stdin.read()
print(len(held))
"""

PTY_RECEIVER = """
import json, os
seen = {}
try:
    seen["pts"] = sorted(os.listdir("/dev/pts"))
except OSError as exc:
    seen["pts"] = exc.errno
try:
    master, slave = os.openpty()
    seen["openpty"] = "opened"
except OSError as exc:
    seen["openpty"] = exc.errno
print(json.dumps(seen))
"""


def test_no_run_gets_a_pty_and_ptys_carry_no_signal(runs):
    """No pty at all: the host-wide count (/proc/sys/kernel/pty/nr) then moves only with the
    host's own terminals, never with a run's."""
    alone = observe(runs.run(PTY_RECEIVER))
    with holding(runs, PTY_SENDER) as sender:
        beside = observe(runs.run(PTY_RECEIVER))
        sender.close_stdin()
        opened = sender.wait().stdout.decode().split()[-1]
    assert alone == beside
    assert opened == "0" and alone["openpty"] != "opened" and alone["pts"] in ([], 2)


WATCHED = "/usr/lib/os-release"

INOTIFY_SENDER = f"""
import os, sys
for _ in range(5):
    os.close(os.open({WATCHED!r}, os.O_RDONLY))
"""

# B watches the file, tells the host it watches, waits for "go" on stdin, then counts events.
INOTIFY_RECEIVER = f"""
import ctypes, json, os, select, sys
libc = ctypes.CDLL(None, use_errno=True)
seen = {{}}
fd = libc.inotify_init1(0)
if fd < 0:
    seen["init"] = ctypes.get_errno()
else:
    wd = libc.inotify_add_watch(fd, {WATCHED!r}.encode(), 0x20 | 0x1)  # IN_OPEN | IN_ACCESS
    seen["watch"] = ctypes.get_errno() if wd < 0 else "ok"
dnotify = {{}}
try:
    import fcntl
    dfd = os.open(os.path.dirname({WATCHED!r}), os.O_RDONLY)
    fcntl.fcntl(dfd, fcntl.F_NOTIFY, fcntl.DN_ACCESS | fcntl.DN_MULTISHOT)
    seen["dnotify"] = "ok"
except OSError as exc:
    seen["dnotify"] = exc.errno
sys.stdout.write("ready\\n"); sys.stdout.flush()
sys.stdin.readline()
events = 0
if fd >= 0 and seen.get("watch") == "ok":
    while select.select([fd], [], [], 0.2)[0]:
        events += len(os.read(fd, 4096)) // 16
seen["events"] = events
print(json.dumps(seen))
"""


def _watch(runs, with_sender: bool) -> dict:
    with runs.session(INOTIFY_RECEIVER) as receiver:
        assert receiver.readline(64, timeout=6.0) == READY
        if with_sender:
            sender = runs.run(INOTIFY_SENDER)
            assert sender.exit_code == 0, sender.stderr.decode(errors="replace")
        receiver.send(b"go\n")
        receiver.close_stdin()
        result = receiver.wait()
    return observe(result)


def test_file_watches_on_the_shared_tree_are_refused_and_carry_no_signal(runs):
    alone, beside = _watch(runs, False), _watch(runs, True)
    assert alone == beside
    assert beside["events"] == 0 and beside["init"] == errno.EPERM and beside["dnotify"] == errno.EPERM


LOCK_SENDER = """
import fcntl, os, struct, sys
held = []
for path, flags in (("/usr/lib/os-release", os.O_RDONLY), ("/dev/null", os.O_RDWR)):
    fd = os.open(path, flags)
    held.append(fd)
    for attempt in (
        lambda: fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB),
        lambda: fcntl.lockf(fd, (fcntl.LOCK_EX if flags == os.O_RDWR else fcntl.LOCK_SH) | fcntl.LOCK_NB, 1, 7),
    ):
        try:
            attempt()
        except OSError:
            pass
sys.stdout.write("ready\\n"); sys.stdout.flush()
sys.stdin.read()
"""

LOCK_RECEIVER = """
import fcntl, json, os, struct
seen = {}
for path, flags in (("/usr/lib/os-release", os.O_RDONLY), ("/dev/null", os.O_RDWR)):
    fd = os.open(path, flags)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        seen[path + " flock"] = "free"
    except OSError as exc:
        seen[path + " flock"] = exc.errno
    query = struct.pack("hhqqi", fcntl.F_WRLCK, 0, 7, 1, 0)
    try:
        seen[path + " getlk"] = struct.unpack("hhqqi", fcntl.fcntl(fd, fcntl.F_GETLK, query))[0]
    except OSError as exc:
        seen[path + " getlk"] = "errno %d" % exc.errno
    if flags == os.O_RDWR:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 7)
            seen[path + " lockf"] = "free"
        except OSError as exc:
            seen[path + " lockf"] = exc.errno
    os.close(fd)
print(json.dumps(seen))
"""


def test_file_locks_carry_no_signal_between_runs(runs):
    alone, beside = alone_and_beside(runs, LOCK_SENDER, LOCK_RECEIVER)
    assert alone == beside
    # the filter cannot tell shared files from private ones: every lock call says "no locks"
    assert set(alone.values()) <= {errno.ENOLCK, f"errno {errno.ENOLCK}"}, alone


# The page cache of the shared read-only tree is one set of bits every run can see: a sender
# evicts a file's pages (fadvise DONTNEED, madvise PAGEOUT or COLD) and reads back those of its 1
# bits; a receiver probes each page without reading it (mincore on a mapping, preadv2 with
# RWF_NOWAIT). Red team s12b S1 passed a 47-byte message exactly to a candidate verified after the
# sender. Each such call is refused; what remains is telling a cached read from an uncached one
# by its time, which needs no call a filter could refuse (the sandbox's docstring says so).
PAGE_CACHE_CALLS = """
import ctypes, json, os
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
libc.readahead.argtypes = [ctypes.c_int, ctypes.c_longlong, ctypes.c_size_t]
def outcome(result):
    return ctypes.get_errno() if result == -1 else result
fd = os.open("/usr/lib/os-release", os.O_RDONLY)
size = os.fstat(fd).st_size
seen = {"fadvise": libc.posix_fadvise(fd, 0, 0, 4)}  # DONTNEED; it returns the error number
seen["readahead"] = outcome(libc.readahead(fd, 0, 4096))
try:
    os.preadv(fd, [bytearray(16)], 0, 8)  # RWF_NOWAIT
    seen["preadv2"] = 0
except OSError as exc:
    seen["preadv2"] = exc.errno
address = libc.mmap(None, size, 1, 1, fd, 0)  # PROT_READ, MAP_SHARED
vector = (ctypes.c_ubyte * 4)()
seen["mincore"] = outcome(libc.mincore(address, size, vector))
seen["pageout"] = outcome(libc.madvise(address, size, 21))
seen["cold"] = outcome(libc.madvise(address, size, 20))
seen["dontneed"] = outcome(libc.madvise(address, size, 4))  # the allocator's own advice stays allowed
print(json.dumps(seen))
"""


def test_page_cache_probes_and_evictions_are_refused(runs):
    seen = observe(runs.run(PAGE_CACHE_CALLS))
    assert seen.pop("preadv2") in (errno.ENOSYS, errno.EOPNOTSUPP)  # glibc answers ENOSYS with flags so
    assert seen == {
        "fadvise": errno.ENOSYS,
        "readahead": errno.ENOSYS,
        "mincore": errno.ENOSYS,
        "pageout": errno.EPERM,
        "cold": errno.EPERM,
        "dontneed": 0,
    }


# 63 processes spinning for the whole run (64 are allowed; each in a session of its own, which
# defeats the scheduler's per-session autogroups), next to a one-process run that needs 0.15 s of
# CPU under a 3 s wall limit: sharing the CPUs per process gave it about 1/32 of a CPU (4-5 s of
# wall); a CPU cgroup per run gives it at least the CPU the spinners' run does not use.
BURNER = """
import os, sys
for _ in range(63):
    try:
        if os.fork() == 0:
            os.setsid()
            while True:
                pass
    except OSError:
        break
sys.stdout.write("ready\\n"); sys.stdout.flush()
sys.stdin.read()
"""

VICTIM = """
import json, time
while time.process_time() < 0.15:
    pass
print(json.dumps({"done": True}))
"""


def test_a_run_with_many_spinning_processes_does_not_time_out_a_concurrent_run(runs):
    if _BOX.enforcement.get("memory") == "rlimit" or _BOX.enforcement.get("cpu") == "none":
        pytest.skip("no CPU cgroup per run here: runs share the CPUs per process (fail-open)")
    with holding(runs, BURNER):
        result = runs.run(VICTIM, Limits(wall_s=3.0))
    assert not result.timed_out, "the concurrent run overran its wall limit beside the spinners"
    assert observe(result) == {"done": True}
