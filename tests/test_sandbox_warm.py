"""The warm path (rlvr.verifiers.sandbox.warm): isolation between consecutive runs on one zygote,
whole-run caps, anomaly replacement and clean shutdown.

Every isolation test runs two programs one after the other on the same worker slot (a pool of
one zygote): the first tries to leave something behind, the second looks for it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import marshal
import os
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from rlvr.verifiers.sandbox import Limits, Sandbox, SandboxUnavailable

try:
    _BOX = Sandbox("bwrap")
    from rlvr.verifiers.sandbox.warm import WarmPool

    WarmPool(_BOX, zygotes=1).close()  # raises where the warm path cannot work (starts nothing)
    _SKIP = ""
except (SandboxUnavailable, OSError) as exc:  # no bwrap, not root, or no writable memory cgroup
    _SKIP = str(exc)

pytestmark = pytest.mark.skipif(bool(_SKIP), reason=f"warm path unavailable: {_SKIP}")

PROBE_MODULE = "COUNTER = 0\nLOG = []\n"


def _pyc(source: str) -> bytes:
    return importlib.util.MAGIC_NUMBER + bytes(12) + marshal.dumps(compile(source, "probe.py", "exec"))


@pytest.fixture(scope="module")
def pool():
    with WarmPool(_BOX, modules={"probe": _pyc(PROBE_MODULE)}, zygotes=1) as warm:
        yield warm


def run(pool, code: str, **kwargs):
    return pool.run(["main.py"], files={"main.py": code}, **kwargs)


def last_json(result) -> dict:
    assert result.exit_code == 0, result.stderr.decode(errors="replace")
    return json.loads(result.stdout.decode().strip().splitlines()[-1])


def test_runs_a_program_with_its_files_stdin_and_status(pool):
    result = run(pool, "import sys\nprint(sys.stdin.read().upper())\nsys.exit(3)", stdin=b"abc")
    assert result.stdout == b"ABC\n"
    assert result.exit_code == 3 and not result.timed_out
    assert result.enforcement["path"] == "warm" and result.enforcement["inodes"] == "capped"
    assert result.memory_peak_bytes and result.memory_peak_bytes > 0


def test_child_is_unprivileged_and_filtered(pool):
    code = (
        "import os, json, ctypes\n"
        "status = dict(l.split(':\\t', 1) for l in open('/proc/self/status').read().splitlines() if ':\\t' in l)\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "unshare = libc.unshare(0x20000)\n"
        "try:\n    os.kill(1, 9); killed = True\nexcept PermissionError:\n    killed = False\n"
        "try:\n    open('/proc/1/environ').read(); environ = True\n"
        "except (PermissionError, FileNotFoundError):\n    environ = False\n"
        "print(json.dumps({'uid': os.getuid(), 'gid': os.getgid(), 'groups': os.getgroups(),"
        " 'caps': [status[k].strip() for k in ('CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb')],"
        " 'nnp': status['NoNewPrivs'].strip(), 'seccomp': status['Seccomp'].strip(), 'unshare': unshare,"
        " 'killed_zygote': killed, 'zygote_environ': environ, 'own_fds': sorted(os.listdir('/proc/self/fd'))[:3]}))\n"
    )
    seen = last_json(run(pool, code))
    assert seen["uid"] != 0 and seen["gid"] == seen["uid"] and seen["groups"] == []
    assert seen["caps"] == ["0000000000000000"] * 5
    assert seen["nnp"] == "1" and seen["seccomp"] == "2"
    assert seen["unshare"] == -1  # namespaces are refused by the seccomp filter
    assert not seen["killed_zygote"] and not seen["zygote_environ"]
    assert seen["own_fds"] == ["0", "1", "2"]  # its own /proc entries are its own, as in a cold run


def test_only_unix_ip_and_netlink_sockets(pool):
    code = (
        "import socket, errno\n"
        "for family, kind in ((1, 1), (2, 2), (10, 1), (16, 3), (40, 1), (17, 3)):\n"
        "    try:\n"
        "        socket.socket(family, kind).close(); print('ok')\n"
        "    except OSError as error:\n"
        "        print(errno.errorcode[error.errno])\n"
    )
    result = run(pool, code)
    assert result.stdout.decode().split() == ["ok"] * 4 + ["EAFNOSUPPORT"] * 2  # no vsock, no packet sockets


def test_files_do_not_survive_into_the_next_run(pool):
    leave = (
        "import os\n"
        "for d in ('/work', '/tmp', '/dev/shm'):\n"
        "    open(os.path.join(d, 'left-behind'), 'w').write('x')\n"
        "os.mkdir('/tmp/dir')\n"
    )
    assert run(pool, leave).exit_code == 0
    look = "import os, json\nprint(json.dumps({d: sorted(os.listdir(d)) for d in ('/work', '/tmp', '/dev/shm')}))\n"
    for _ in range(2):
        assert last_json(run(pool, look)) == {"/work": ["main.py"], "/tmp": [], "/dev/shm": []}


MOUNTS_PROBE = """
import json, os
def used(d):
    st = os.statvfs(d)
    return st.f_files - st.f_ffree
fresh = {d: (sorted(os.listdir(d)), used(d)) for d in ('/work', '/tmp', '/dev/shm')}
print(json.dumps({"ns": os.readlink('/proc/self/ns/mnt'), "fresh": fresh}))
for d in ('/work', '/tmp', '/dev/shm'):
    os.makedirs(os.path.join(d, 'a', 'b'), exist_ok=True)
    open(os.path.join(d, 'a', 'b', 'left'), 'w').write('x' * 5000)
    os.symlink('/usr', os.path.join(d, 'link'))
    os.mkfifo(os.path.join(d, 'fifo'))
"""


def test_a_reused_mount_namespace_shows_nothing_of_earlier_runs(pool):
    """Runs on one slot share mount namespaces one after another (never two live runs): each
    sees fresh, empty tmpfs (its own files only: one inode in /tmp and /dev/shm, the root),
    whatever the runs before it left in them; no namespace serves more than its share of runs."""
    from rlvr.verifiers.sandbox.zygote import MAX_RUNS_PER_MOUNT_NS

    seen = [last_json(run(pool, MOUNTS_PROBE)) for _ in range(MAX_RUNS_PER_MOUNT_NS + 8)]
    for probe in seen:
        assert probe["fresh"] == {"/work": [["main.py"], 2], "/tmp": [[], 1], "/dev/shm": [[], 1]}
    uses = [sum(probe["ns"] == name for probe in seen) for name in {probe["ns"] for probe in seen}]
    assert max(uses) > 1  # reused
    assert max(uses) <= MAX_RUNS_PER_MOUNT_NS


DEPTH_PROBE = """
import os
with open('/proc/self/mountinfo') as handle:
    depth = sum(line.split()[4] == '/work' for line in handle)
print(os.readlink('/proc/self/ns/mnt'), depth, sorted(os.listdir('/tmp')), sorted(os.listdir('/work')))
"""

FLOOD = (
    DEPTH_PROBE
    + """
os.setxattr('/work', 'user.note', b'x' * 2000)
open('/work/target', 'w').write('t')
for i in range(300):
    os.link('/work/target', f'/work/link{i}')
    open(f'/tmp/f{i}', 'w').write('x')
path = '/dev/shm'
for i in range(2000):
    path += '/d'
    os.mkdir(path)
"""
)


def test_what_a_run_leaves_is_removed_and_its_namespace_reused_whatever_it_left():
    """Hundreds of files, hard links, an extended attribute on /work and a directory chain 2,000
    deep are all removed by the host: the namespace is reused (a later run in it sits one mount
    deeper), so a run cannot choose to be discarded (a bit a later run could read), and every
    later run starts fresh."""
    with WarmPool(_BOX, zygotes=1) as warm:  # its namespaces far from their last run
        flood = run(warm, FLOOD, limits=Limits(disk_files=3000, wall_s=20))
        assert flood.exit_code == 0, flood.stderr
        name, depth = flood.stdout.split()[:2]
        later = [run(warm, DEPTH_PROBE).stdout.decode().split(" ", 2) for _ in range(4)]
    assert all(rest.strip() == "[] ['main.py']" for _, _, rest in later)
    assert any(ns == name.decode() and int(deeper) > int(depth) for ns, deeper, _ in later)


def _shmem_kib() -> int:
    with open("/proc/meminfo") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith("Shmem:"))


def test_a_discarded_mount_namespace_is_freed_at_once(monkeypatch):
    """Where the host cannot empty a run's tmpfs, the zygote discards its mount namespace and the
    kernel frees it and its pages as soon as the run is over -- no spare and no run namespace's
    init holds it (a discarded namespace kept alive by them showed its pages to every later run
    in /proc/meminfo, a channel of several bits)."""
    from rlvr.verifiers.sandbox import tmpfs

    monkeypatch.setattr(tmpfs._RunMounts, "empty", lambda self: False)
    with WarmPool(_BOX, zygotes=1) as warm:
        run(warm, "pass")
        before = _shmem_kib()
        write = "for i in range(10): open(f'/work/big{i}', 'wb').write(b'x' * (8 << 20))\n"
        assert run(warm, write, limits=Limits(disk_mb=96)).exit_code == 0
        deadline = time.monotonic() + 5
        while _shmem_kib() > before + (40 << 10) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _shmem_kib() < before + (40 << 10)
        assert run(warm, DEPTH_PROBE).stdout.decode().split(" ", 2)[2].strip() == "[] ['main.py']"


def test_tmpfs_left_by_a_run_is_no_longer_charged_to_its_reused_cgroup(pool):
    """A run's tmpfs pages are charged to its memory cgroup; they stay mounted (hidden) in the
    reused mount namespace, so the host removes them before the cgroup serves another run:
    45 MB written by one run do not push the next runs (70 MB each) over their 100 MB cap."""
    write = "for i in range(5): open(f'/work/big{i}', 'wb').write(b'x' * (9 << 20))\nprint('ok')\n"
    use = "block = bytearray(70 << 20)\nfor i in range(0, len(block), 4096): block[i] = 1\nprint('ok')\n"
    limits = Limits(memory_mb=100, disk_mb=64, wall_s=20)
    for _ in range(3):
        assert run(pool, write, limits=limits).stdout == b"ok\n"
        for _ in range(2):
            after = run(pool, use, limits=limits)
            assert after.stdout == b"ok\n" and not after.oom_killed and not after.memory_exceeded


def test_emptying_a_run_tmpfs_removes_everything_and_follows_no_link(tmp_path):
    """``_RunMounts.empty`` on real tmpfs: nested and deep directories, hard links, a FIFO,
    symbolic links and the roots' extended attributes go, the links' targets stay; where a
    removal fails (a mount inside) it says so."""
    import ctypes

    from rlvr.verifiers.sandbox.tmpfs import _RunMounts

    libc = ctypes.CDLL(None, use_errno=True)
    roots = [tmp_path / name for name in ("work", "tmp", "shm")]
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("kept")
    for root in roots:
        root.mkdir()
        assert libc.mount(b"tmpfs", str(root).encode(), b"tmpfs", 0, b"size=4m") == 0
    try:
        for root in roots:
            (root / "a" / "b").mkdir(parents=True)
            for i in range(40):
                (root / "a" / "b" / f"f{i}").write_text("x")
                os.link(root / "a" / "b" / f"f{i}", root / f"hard{i}")
            (root / "link").symlink_to(outside)
            (root / "a" / "into").symlink_to(outside / "keep")
            os.mkfifo(root / "fifo")
            os.setxattr(root, "user.note", b"x" * 100)
        directory = os.open(roots[0], os.O_RDONLY | os.O_DIRECTORY)
        for _ in range(1500):  # deeper than Python's recursion limit
            os.mkdir("d", dir_fd=directory)
            inner = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=directory)
            os.close(directory)
            directory = inner
        os.close(directory)
        fds = [os.open(root, os.O_RDONLY | os.O_DIRECTORY) for root in roots]
        mounts = _RunMounts(fds[0], fds[1:])
        assert mounts.empty() is True
        assert [os.listdir(root) for root in roots] == [[], [], []]
        assert [os.listxattr(root) for root in roots] == [[], [], []]
        assert (outside / "keep").read_text() == "kept" and sorted(os.listdir(outside)) == ["keep"]
        (roots[1] / "busy").mkdir()
        assert libc.mount(b"tmpfs", str(roots[1] / "busy").encode(), b"tmpfs", 0, b"size=1m") == 0
        try:
            assert mounts.empty() is False
        finally:
            libc.umount2(str(roots[1] / "busy").encode(), 2)
        mounts.close()
    finally:
        for root in roots:
            libc.umount2(str(root).encode(), 2)


def test_environment_is_fresh(pool):
    leave = "import os\nos.environ['LEFT'] = '1'\nos.putenv('PUT', '1')\n"
    assert run(pool, leave, env={"SECRET": "s3cret"}).exit_code == 0
    look = (
        "import os, json, subprocess\n"
        "lines = subprocess.run(['/usr/bin/env'], capture_output=True, check=True).stdout.decode().splitlines()\n"
        "print(json.dumps([dict(os.environ), dict(line.split('=', 1) for line in lines)]))"
    )
    seen, executed = last_json(run(pool, look))
    assert seen == {
        "PATH": seen["PATH"],
        "HOME": "/work",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PWD": "/work",
    }
    assert executed == seen  # what a program it starts gets: nothing of the zygote's (LD_BIND_NOW)


def test_imported_module_state_is_fresh(pool):
    leave = (
        "import probe, json, sys\n"
        "probe.COUNTER += 1\nprobe.LOG.append('run A')\n"
        "json.dumps = lambda *a, **k: 'forged'\n"
        "sys.modules['planted'] = probe\nsys.path.insert(0, '/tmp')\nimport decimal\n"
        "print(probe.COUNTER)\n"
    )
    assert run(pool, leave).stdout.strip() == b"1"
    look = (
        "import probe, json, sys\n"
        "print(json.dumps({'counter': probe.COUNTER, 'log': probe.LOG, 'planted': 'planted' in sys.modules,"
        " 'tmp_on_path': '/tmp' in sys.path, 'decimal': 'decimal' in sys.modules,"
        " 'dumps': json.dumps('x') == '\"x\"'}))\n"
    )
    assert last_json(run(pool, look)) == {
        "counter": 0,
        "log": [],
        "planted": False,
        "tmp_on_path": False,
        "decimal": False,
        "dumps": True,
    }


def test_signal_handlers_and_alarms_are_fresh(pool):
    leave = (
        "import signal\n"
        "signal.signal(signal.SIGTERM, lambda *a: None)\nsignal.signal(signal.SIGUSR1, signal.SIG_IGN)\n"
        "signal.alarm(1000)\nsignal.setitimer(signal.ITIMER_REAL, 500)\n"
    )
    assert run(pool, leave).exit_code == 0
    look = (
        "import signal, json\n"
        "print(json.dumps({'term': signal.getsignal(signal.SIGTERM) == signal.SIG_DFL,"
        " 'usr1': signal.getsignal(signal.SIGUSR1) == signal.SIG_DFL,"
        " 'chld': signal.getsignal(signal.SIGCHLD) == signal.SIG_DFL,"
        " 'alarm': signal.alarm(0), 'wakeup': signal.set_wakeup_fd(-1)}))\n"
    )
    assert last_json(run(pool, look)) == {"term": True, "usr1": True, "chld": True, "alarm": 0, "wakeup": -1}


def test_threads_do_not_survive(pool):
    leave = (
        "import threading, time\n"
        "threading.Thread(target=time.sleep, args=(100,), daemon=True).start()\n"
        "threading.Thread(target=time.sleep, args=(100,), daemon=True).start()\n"
    )
    assert run(pool, leave).exit_code == 0
    look = (
        "import os, json, threading\nprint(json.dumps([len(os.listdir('/proc/self/task')), threading.active_count()]))"
    )
    assert last_json(run(pool, look)) == [1, 1]


def _uid_processes(uid: int) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.stat(f"/proc/{name}").st_uid == uid:
                    found.append(int(name))
            except OSError:
                pass
    return found


def test_child_processes_and_daemons_are_killed(pool):
    leave = (
        "import os, subprocess, json\n"
        "subprocess.Popen(['sleep', '1000'])\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        os.execvp('sleep', ['sleep', '1001'])\n"
        "    os._exit(0)\n"
        "print(json.dumps(os.getuid()))\n"
    )
    result = run(pool, leave)
    uid = last_json(result)
    assert _uid_processes(uid) == []
    look = (
        "import os, json\n"
        "others = [p for p in os.listdir('/proc') if p.isdigit() and int(p) not in (1, os.getpid())"
        " and os.stat('/proc/' + p).st_uid != 0]\n"
        "print(json.dumps(others))\n"
    )
    assert last_json(run(pool, look)) == []


def test_open_descriptors_do_not_survive(pool):
    leave = (
        "import os\nfds = [os.open('/work/main.py', os.O_RDONLY) for _ in range(5)]\nr, w = os.pipe()\n"
        "os.set_inheritable(r, True)\n"
    )
    assert run(pool, leave).exit_code == 0
    look = "import os, json\nprint(json.dumps(sorted(int(f) for f in os.listdir('/proc/self/fd'))))"
    assert last_json(run(pool, look)) == [0, 1, 2, 3]  # 3: the listing itself


def test_rlimit_changes_do_not_survive(pool):
    leave = (
        "import resource\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (20, 20))\n"
        "resource.setrlimit(resource.RLIMIT_CPU, (1, 1))\n"
    )
    assert run(pool, leave).exit_code == 0
    look = (
        "import resource, json\n"
        "print(json.dumps([resource.getrlimit(r) for r in (resource.RLIMIT_NOFILE, resource.RLIMIT_CPU,"
        " resource.RLIMIT_NPROC, resource.RLIMIT_AS)]))\n"
    )
    limits = Limits(open_files=40, cpu_s=3, processes=20, memory_mb=512)
    seen = last_json(run(pool, look, limits=limits))
    assert seen == [[40, 40], [3, 4], [20, 20], [512 << 20, 512 << 20]]


def test_concurrent_runs_get_distinct_uids(pool):
    code = "import os, sys\nprint(os.getuid(), flush=True)\nsys.stdin.read()\n"
    with (
        pool.session(["main.py"], files={"main.py": code}) as first,
        pool.session(["main.py"], files={"main.py": code}) as second,
    ):
        uids = {int(first.readline(100, timeout=20)), int(second.readline(100, timeout=20))}
        first.close_stdin()
        second.close_stdin()
    assert len(uids) == 2 and 0 not in uids


def test_wall_deadline_kills_the_run(pool):
    began = time.monotonic()
    result = run(pool, "while True: pass", limits=Limits(wall_s=1.0))
    assert result.timed_out and result.signal == signal.SIGKILL
    assert time.monotonic() - began < 6.0


def test_memory_cap_covers_the_whole_process_tree(pool):
    code = (
        "import os\n"
        "pids = []\n"
        "for _ in range(4):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        block = bytearray(90 << 20)\n"
        "        for i in range(0, len(block), 4096): block[i] = 1\n"
        "        import time; time.sleep(3)\n"
        "        os._exit(0)\n"
        "    pids.append(pid)\n"
        "for pid in pids: os.waitpid(pid, 0)\n"
    )
    result = run(pool, code, limits=Limits(memory_mb=200, wall_s=20))
    assert result.oom_killed and result.memory_exceeded
    assert result.memory_peak_bytes <= (200 << 20) + (4 << 20)


def _cgroup_of(pid: int, controller: str) -> str:
    """The cgroup path of host process ``pid`` in ``controller``'s hierarchy (v1), or its v2 one."""
    with open(f"/proc/{pid}/cgroup") as handle:
        lines = [line.rstrip("\n").split(":", 2) for line in handle]
    return next((path for _, names, path in lines if controller in names.split(",")), lines[-1][2])


def test_each_run_and_its_children_are_in_capped_cgroups_of_their_own():
    """Two runs in flight at once, each with a child process: every process of a run is in that
    run's memory cgroup and (where runs get one) its CPU cgroup -- a cgroup no other run is in --
    and the CPU cgroup is capped at ``RUN_CPUS`` CPUs.  On cgroup v1 the spare moved itself into
    both before its run began."""
    from rlvr.verifiers.sandbox.cgroups import RUN_CPUS

    cpu_kind = _BOX.enforcement.get("cpu", "none")
    code = (
        "import json, os, subprocess, sys\n"
        "subprocess.Popen(['sleep', '60'])\n"
        "print(json.dumps(os.getuid()), flush=True)\n"
        "sys.stdin.read()\n"
    )
    with WarmPool(_BOX, zygotes=2) as warm, contextlib.ExitStack() as stack:
        sessions = [stack.enter_context(warm.session(["main.py"], files={"main.py": code})) for _ in range(2)]
        uids = [json.loads(session.readline(100, timeout=20)) for session in sessions]
        seen = []
        for uid in uids:
            pids = _uid_processes(uid)
            assert len(pids) == 2  # the run and its child
            memory = {_cgroup_of(pid, "memory") for pid in pids}
            cpu = {_cgroup_of(pid, "cpu") for pid in pids}
            assert len(memory) == 1 and os.path.basename(next(iter(memory))).startswith("rlvr-")
            if cpu_kind == "cgroup-v1":
                assert len(cpu) == 1 and os.path.basename(next(iter(cpu))) == os.path.basename(next(iter(memory)))
                directory = _v1_cpu_dir(next(iter(cpu)))
                with open(os.path.join(directory, "cpu.cfs_quota_us")) as handle:
                    quota = int(handle.read())
                with open(os.path.join(directory, "cpu.cfs_period_us")) as handle:
                    assert quota == RUN_CPUS * int(handle.read())
            seen.append((memory, cpu))
        assert not seen[0][0] & seen[1][0]
        if cpu_kind != "none":
            assert not seen[0][1] & seen[1][1]
        for session in sessions:
            session.close_stdin()


def _v1_cpu_dir(path: str) -> str:
    """The directory of the v1 ``cpu`` hierarchy's cgroup ``path`` (as /proc/PID/cgroup names it)."""
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            fields = line.split()
            tail = fields[fields.index("-") + 1 :]
            if tail[0] == "cgroup" and "cpu" in tail[2].split(",") and path.startswith(fields[3]):
                return os.path.join(fields[4], os.path.relpath(path, fields[3]))
    raise AssertionError(f"no mounted v1 cpu hierarchy holds {path}")


def test_a_reused_memory_cgroup_remembers_nothing_of_its_last_run(pool):
    """Runs reuse emptied memory cgroups: an OOM kill and a high peak of one run are not the next's."""
    hog = (  # three processes of 45 MB each: over the cgroup's 100 MB, each within its own rlimits
        "import os, time\n"
        "for _ in range(3):\n"
        "    if os.fork() == 0:\n"
        "        block = bytearray(45 << 20)\n"
        "        for i in range(0, len(block), 4096): block[i] = 1\n"
        "        time.sleep(1)\n"
        "        os._exit(0)\n"
        "for _ in range(3): os.wait()\n"
    )
    small = "block = bytearray(4 << 20)\nprint('ok')\n"
    run(pool, "pass")
    before = len(_our_cgroups())
    for _ in range(3):
        killed = run(pool, hog, limits=Limits(memory_mb=100, wall_s=20))
        assert killed.oom_killed and killed.memory_peak_bytes >= 90 << 20
        for _ in range(2):  # the spare forked after the hog's end gets the hog's cgroup
            fine = run(pool, small, limits=Limits(memory_mb=100))
            assert fine.stdout == b"ok\n" and not fine.oom_killed and not fine.memory_exceeded
            assert fine.memory_peak_bytes < 30 << 20
    assert len(_our_cgroups()) <= before + 1  # the same few cgroups served all nine runs


def test_disk_caps_fail_writes_with_enospc(pool):
    code = (
        "import errno\n"
        "try:\n"
        "    with open('/work/big', 'wb') as f:\n"
        "        for _ in range(64): f.write(b'x' * (1 << 20))\n"
        "except OSError as e:\n"
        "    print(e.errno == errno.ENOSPC)\n"
    )
    result = run(pool, code, limits=Limits(disk_mb=8, file_mb=64))
    assert result.stdout.strip() == b"True" and result.disk_exceeded
    flood = "import os\nfor i in range(100000):\n    open(f'/tmp/f{i}', 'w').close()\n"
    result = run(pool, flood, limits=Limits(disk_files=500))
    assert result.exit_code != 0 and result.disk_exceeded and b"No space left" in result.stderr


# forks children that sleep until the run's process cap refuses one; prints its uid and the count
COUNT_FORKS = (
    "import os, time\n"
    "n = 0\n"
    "try:\n"
    "    while True:\n"
    "        if os.fork() == 0:\n"
    "            time.sleep(5); os._exit(0)\n"
    "        n += 1\n"
    "except OSError:\n"
    "    print(os.getuid(), n)\n"
)


def test_process_cap_is_per_run(pool):
    result = run(pool, COUNT_FORKS, limits=Limits(processes=12, wall_s=10))
    assert result.exit_code == 0 and 5 <= int(result.stdout.split()[-1]) < 12


def test_orphans_left_as_zombies_do_not_shrink_the_next_runs_process_budget(pool):
    """A run's orphans are re-parented to its namespace's init, which does not reap them (as
    under the cold path's ``timeout``): they stay zombies of the run's uid until the namespace
    ends.  The run is reported only once it has ended, so the next run -- on the same uid --
    starts with its whole process budget."""
    zombies = (
        "import os, time\n"
        "for _ in range(8):\n"
        "    if os.fork() == 0:\n"
        "        if os.fork() == 0:\n            os._exit(0)\n"
        "        os._exit(0)\n"
        "    os.wait()\n"
        "time.sleep(0.2)\n"
        "pids = [p for p in os.listdir('/proc') if p.isdigit()]\n"
        "print(os.getuid(), sum(open(f'/proc/{p}/stat').read().split()[2] == 'Z' for p in pids))\n"
    )
    limits = Limits(processes=12, wall_s=10)
    fresh_uid, fresh = map(int, run(pool, COUNT_FORKS, limits=limits).stdout.split())
    uid, left = map(int, run(pool, zombies, limits=limits).stdout.split())
    assert left == 8  # zombies of the run's uid while it lives
    next_uid, after = map(int, run(pool, COUNT_FORKS, limits=limits).stdout.split())
    assert next_uid == uid == fresh_uid  # the same slot each time (one worker, the uid freed at the end)
    assert after == fresh


def test_network_is_loopback_only(pool):
    code = (
        "import socket, json\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); port = s.getsockname()[1]\n"
        "c = socket.create_connection(('127.0.0.1', port), timeout=2)\n"
        "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=2); outside = True\nexcept OSError:\n"
        "    outside = False\nprint(json.dumps({'loopback': True, 'outside': outside}))\n"
    )
    assert last_json(run(pool, code)) == {"loopback": True, "outside": False}


NET_OF_RUN = "import os\nprint(os.readlink('/proc/self/ns/net'))\n"


LOOK_AT_NETWORK = (
    "import os, socket, json\n"
    "seen = {'net': os.readlink('/proc/self/ns/net')}\n"
    "for name in ('tcp', 'tcp6', 'udp', 'udp6', 'raw', 'raw6', 'unix', 'packet'):\n"
    "    seen[name] = open(f'/proc/net/{name}').read().splitlines()[1:]\n"
    "seen['sockstat'] = open('/proc/net/sockstat').read().splitlines()[:2]\n"
    "seen['lo'] = [line.split()[1:3] for line in open('/proc/net/dev') if line.strip().startswith('lo:')]\n"
    "seen['no_routes'] = open('/proc/net/snmp').read().split('\\n')[1].split()[6:8]\n"
    "s = socket.socket(socket.AF_UNIX)\n"
    "try:\n    s.connect('\\0rlvr-left'); seen['abstract'] = 'connected'\n"
    "except OSError as e:\n    seen['abstract'] = type(e).__name__\n"
    "for port in (45679, 45681):\n"
    "    s = socket.socket(); s.bind(('127.0.0.1', port)); s.close()  # no EADDRINUSE: nothing holds it\n"
    "seen['settings'] = [open(f'/proc/sys/net/ipv4/{n}').read().strip()"
    " for n in ('tcp_max_tw_buckets', 'tcp_no_metrics_save', 'tcp_fastopen')]\n"
    "print(json.dumps(seen))\n"
)


def _saw_nothing(seen: dict) -> None:
    assert seen["sockstat"][0] == "sockets: used 0" and " tw 0 " in seen["sockstat"][1], seen
    for name in ("tcp", "tcp6", "udp", "udp6", "raw", "raw6", "unix", "packet"):
        assert seen[name] == [], (name, seen)
    assert seen["abstract"] == "ConnectionRefusedError"
    assert seen["lo"] == [["0", "0"]]  # no byte, no packet ever crossed its loopback
    assert seen["settings"] == ["0", "1", "0"]  # no TIME_WAIT, no TCP metrics or Fast Open cache


def test_a_reused_network_namespace_holds_nothing_of_the_previous_run(pool):
    """Sockets a run leaves without sending anything (listening, bound, abstract and autobound
    Unix, a descriptor in flight) die with it: its namespace is reused and shows none of them."""
    leave = (
        "import os, socket\n"
        "listener = socket.socket(); listener.bind(('127.0.0.1', 45679)); listener.listen()\n"
        "v6 = socket.socket(socket.AF_INET6); v6.bind(('::1', 45680)); v6.listen()\n"
        "udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.bind(('127.0.0.1', 45681))\n"
        "abstract = socket.socket(socket.AF_UNIX); abstract.bind('\\0rlvr-left'); abstract.listen()\n"
        "autobound = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); autobound.bind('')\n"
        "a, b = socket.socketpair(); a.sendmsg([b'x'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, bytes(4))])\n"
        "print(os.readlink('/proc/self/ns/net'))\n"
    )
    left_in = set()
    for _ in range(3):  # the slot's namespaces alternate between the run and the waiting spare
        result = run(pool, leave)
        assert result.exit_code == 0, result.stderr
        left_in.add(result.stdout.decode().strip())
    reused = 0
    for _ in range(4):
        seen = last_json(run(pool, LOOK_AT_NETWORK))
        reused += seen["net"] in left_in
        _saw_nothing(seen)
    assert reused  # the namespaces were in fact reused


def test_a_run_that_used_the_network_leaves_its_namespace_to_no_one(pool):
    """Counters are a message a run could leave (a red-team run carried a held-out test's input
    in loopback byte counts, and in ``OutNoRoutes`` from datagrams to an unreachable address):
    a namespace whose counters moved is never given to a later run."""
    leave = (
        "import os, socket\n"
        "listener = socket.socket(); listener.bind(('127.0.0.1', 45679)); listener.listen()\n"
        "client = socket.create_connection(('127.0.0.1', 45679)); server, _ = listener.accept()\n"
        "client.sendall(b'x' * 1000); server.close(); client.close()  # closed first: TIME_WAIT by default\n"
        "print(os.readlink('/proc/self/ns/net'))\n"
    )
    unreachable = (
        "import os, socket\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "for _ in range(777):\n"
        "    try:\n        s.sendto(b'x', ('10.1.2.3', 9))\n    except OSError:\n        pass\n"
        "print(os.readlink('/proc/self/ns/net'))\n"
    )
    left_in = set()
    for program in (leave, unreachable, leave, unreachable):
        result = run(pool, program)
        assert result.exit_code == 0, result.stderr
        left_in.add(result.stdout.decode().strip())
    for _ in range(4):
        seen = last_json(run(pool, LOOK_AT_NETWORK))
        assert seen["net"] not in left_in
        _saw_nothing(seen)
        assert seen["no_routes"] == ["0", "0"], seen  # Ip OutNoRoutes, ReasmTimeout


def test_a_lingering_ipv6_flow_label_keeps_its_namespace_from_later_runs(pool):
    leave = (
        "import os, socket, struct\n"
        "s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\n"
        "request = socket.inet_pton(socket.AF_INET6, '::1') + struct.pack('!I', 0x12345)\n"
        "request += struct.pack('BBHHHI', 0, 255, 1, 60, 60, 0)  # get, shared with anyone, create; 60 s\n"
        "s.setsockopt(socket.IPPROTO_IPV6, 32, request)  # IPV6_FLOWLABEL_MGR\n"
        "s.close()\n"
        "print(os.readlink('/proc/self/ns/net'), len(open('/proc/net/ip6_flowlabel').readlines()))\n"
    )
    look = f"{NET_OF_RUN}print(len(open('/proc/net/ip6_flowlabel').readlines()))\n"
    result = run(pool, leave)
    assert result.exit_code == 0, result.stderr
    left_in, lines = result.stdout.split()
    assert lines == b"2"  # the label outlives the socket
    for _ in range(4):
        net, lines = run(pool, look).stdout.split()
        assert net != left_in and lines == b"1"


def test_concurrent_runs_never_share_a_network_namespace(pool):
    holder = f"{NET_OF_RUN}import sys\nsys.stdout.flush()\nsys.stdin.read()\n"
    with pool.session(["main.py"], files={"main.py": holder}) as first:
        held = first.readline(100, timeout=20).strip().decode()
        others = {run(pool, NET_OF_RUN).stdout.strip().decode() for _ in range(4)}
        first.close_stdin()
    assert held not in others


def test_network_namespaces_holding_anything_are_not_reused():
    """The zygote's pool of network namespaces (run here, as root, in this process): a clean one
    comes back; one whose counters moved is discarded at once; one that still holds a socket is
    skipped while it settles and discarded after that."""
    import socket as socket_module

    from rlvr.verifiers.sandbox import zygote

    def inside(net, action):
        assert zygote._setns(net.fd, zygote.CLONE_NEWNET) == 0
        try:
            return action()
        finally:
            assert zygote._setns(networks.own, zygote.CLONE_NEWNET) == 0

    networks = zygote._NetNamespaces()
    try:
        first = networks.take()  # made and set up by the zygote: loopback up, NET_SETTINGS
        assert networks.free == [] and first.settings_in_force and first.state() == (True, True)
        networks.give_back(first)
        again = networks.take()
        assert again is first  # nothing changed in it: reused
        inside(
            first, lambda: socket_module.socket(socket_module.AF_INET, socket_module.SOCK_DGRAM).bind(("127.0.0.1", 0))
        )
        networks.give_back(first)
        assert networks.take() is first  # a socket made and closed, nothing sent: still reused

        def send():
            with socket_module.socket(socket_module.AF_INET, socket_module.SOCK_DGRAM) as udp:
                udp.sendto(b"x", ("127.0.0.1", 9))

        inside(first, send)
        networks.give_back(first)
        used = networks.take()
        assert used is not first and first not in networks.free  # its counters moved: discarded at once
        first = used
        left = inside(first, lambda: socket_module.socket(socket_module.AF_UNIX))  # outlives its "run"
        networks.give_back(first)
        other = networks.take()
        assert other is not first and networks.free == [first]  # still settling: kept aside
        first.freed_at -= zygote.NET_SETTLE_S + 1
        networks.give_back(other)
        third = networks.take()
        assert third is not first and first not in networks.free  # held something too long: discarded
        left.close()
    finally:
        for net in networks.free:
            net.close()
        os.close(networks.own)


def test_sockstat_parsing():
    from rlvr.verifiers.sandbox.zygote import _net_is_clean

    clean = (
        b"sockets: used 0\nTCP: inuse 0 orphan 0 tw 0 alloc 0 mem 0\nUDP: inuse 0 mem 0\n"
        b"UDPLITE: inuse 0\nRAW: inuse 0\nFRAG: inuse 0 memory 0\n"
    )
    assert _net_is_clean(clean)
    assert not _net_is_clean(clean.replace(b"used 0", b"used 10"))
    assert not _net_is_clean(clean.replace(b"tw 0", b"tw 3"))
    assert not _net_is_clean(clean.replace(b"tw 0 ", b"tw 01 "))
    assert not _net_is_clean(clean.replace(b"FRAG: inuse 0", b"FRAG: inuse 2"))
    assert not _net_is_clean(b"")
    assert not _net_is_clean(b"sockets: used 0\n")


def test_collect_reads_files_back(pool):
    result = run(pool, "open('out.txt', 'w').write('result')", collect=["out.txt", "missing.txt"])
    assert result.files == {"out.txt": b"result"}


def settled_zygote(pool):
    """The pool's one zygote once its spare child is forked or asked for (the refill thread is
    then idle)."""
    end = time.monotonic() + 20
    while time.monotonic() < end:
        with pool._cond:
            if len(pool._idle) == 1 and pool._idle[0].has_spare:
                return pool._idle[0]
        time.sleep(0.01)
    raise AssertionError("the pool's zygote never got its spare child")


def test_a_dead_zygote_is_replaced():
    with WarmPool(_BOX, zygotes=1) as warm:
        assert run(warm, "print(1)").stdout == b"1\n"
        zygote = settled_zygote(warm)
        os.kill(zygote.pid1, signal.SIGKILL)
        time.sleep(0.2)
        assert run(warm, "print(2)").stdout == b"2\n"
        assert warm.zygote_count == 1 and settled_zygote(warm) is not zygote


def test_a_zygote_that_stops_answering_is_replaced(monkeypatch):
    from rlvr.verifiers.sandbox import warm as sandbox_warm

    monkeypatch.setattr(sandbox_warm, "HANDSHAKE_TIMEOUT_S", 1.0)
    with WarmPool(_BOX, zygotes=1) as warm:
        assert run(warm, "print(1)").exit_code == 0
        zygote = settled_zygote(warm)
        os.kill(zygote.pid1, signal.SIGSTOP)
        outcomes = []
        for attempt in range(3):  # the run on the stopped zygote's spare gets no exit report, or fails to start
            try:
                result = run(warm, f"print({attempt})")
                outcomes.append((result.stdout, result.exit_code))
            except SandboxUnavailable:
                outcomes.append(None)
        assert outcomes[-1] == (b"2\n", 0)
        assert outcomes[0] is None or outcomes[0][1] != 0  # never a false success
        assert zygote.spawned is None  # the stopped zygote was killed
        assert (
            not os.path.exists(f"/proc/{zygote.pid1}/cmdline")
            or open(f"/proc/{zygote.pid1}/stat").read().split()[2] == "Z"
        )
        assert warm.zygote_count == 1


def _our_cgroups() -> list[str]:
    parent = _BOX._backend.cgroups.path
    return [name for name in os.listdir(parent) if name.startswith(f"rlvr-{os.getpid()}-")]


def test_close_leaves_nothing_behind(tmp_path):
    from rlvr.verifiers.sandbox import warm as sandbox_warm

    sandbox_warm._RECLAIMER.drain()  # earlier tests' runs finish their clean-up before the snapshot
    before_cgroups = set(_our_cgroups())
    box = Sandbox("bwrap", tmp_root=str(tmp_path))  # a temp root of its own: other processes' runs use the shared one
    before_tmp = set(os.listdir(box.tmp_root))
    warm = WarmPool(box, zygotes=2)
    code = "import subprocess, sys\nsubprocess.Popen(['sleep', '1000'])\nprint('up', flush=True)\nsys.stdin.read()\n"
    results = []

    def hold():
        with warm.session(["main.py"], files={"main.py": code}) as session:
            results.append(session.readline(100, timeout=20))
            session.close_stdin()

    threads = [threading.Thread(target=hold) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == [b"up\n", b"up\n"]
    zygote_pids = warm.zygote_pids()
    assert len(zygote_pids) == 4  # two zygotes and their bwrap runtimes
    warm.close()
    for pid in zygote_pids:
        assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"
    assert set(_our_cgroups()) == before_cgroups
    assert set(os.listdir(box.tmp_root)) == before_tmp
    with open("/proc/self/mountinfo") as handle:
        assert "rlvr" not in handle.read()
    with pytest.raises(SandboxUnavailable):
        run(warm, "pass")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_zygotes_outlive_the_thread_that_started_them():
    """bwrap's parent-death signal follows the thread that started it: zygotes are started by
    the pool's own long-lived threads, so a caller's thread ending does not kill them."""
    with WarmPool(_BOX, zygotes=2) as warm:
        callers = [threading.Thread(target=run, args=(warm, "pass")) for _ in range(2)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join(30)
        time.sleep(0.5)  # the callers' threads are gone; the refill thread has forked the spares
        pids = warm.zygote_pids()
        assert len(pids) == 4 and all(_alive(pid) for pid in pids)
        assert run(warm, "print(2)").stdout == b"2\n"
        assert warm.zygote_pids() == pids  # served by the same zygotes: none was replaced


def _namespace_pids(host_pid: int) -> list[int]:
    """A process's pid in each pid namespace it is in, outermost first (``NSpid``)."""
    with open(f"/proc/{host_pid}/status", encoding="ascii") as handle:
        return next([int(pid) for pid in line.split()[1:]] for line in handle if line.startswith("NSpid:"))


def test_concurrent_runs_cannot_reach_each_other(pool):
    """A run holding a secret (as the trusted checker does) next to a hostile run on the same
    zygote.  Each run has its own pid namespace (pid 2 under an init of its own) and a /proc of
    it: the hostile run can neither see nor name the other run, its init, the zygote or the
    zygote's waiting spare -- not in /proc, not by /proc/PID, not by kill(PID, 0).  The TCP
    port is below Linux's ephemeral range (32768-60999): a connect given the very port it dials
    as its own connects to itself, which once made this test see a listener that was not there."""
    holder = (
        "import os, socket, sys\n"
        "secret = 'expected-value-' + 'x' * 8\n"
        "listener = socket.socket(socket.AF_UNIX); listener.bind('\\0rlvr-secret'); listener.listen()\n"
        "tcp = socket.socket(); tcp.bind(('127.0.0.1', 23456)); tcp.listen()\n"
        "open('/tmp/secret', 'w').write(secret)\n"
        "print(os.getpid(), os.getuid(), flush=True)\n"
        "sys.stdin.read()\n"
    )
    probe = (
        "import os, socket, json, sys\n"
        "seen = {'me': os.getpid(), 'proc': sorted(int(p) for p in os.listdir('/proc') if p.isdigit())}\n"
        "for pid in map(int, sys.argv[1:]):\n"
        "    for name in ('stat', 'status', 'cmdline', 'mem', 'environ', 'cwd', 'fd'):\n"
        "        path = f'/proc/{pid}/{name}'\n"
        "        try:\n"
        "            listed = name in ('cwd', 'fd')\n"
        "            seen[f'{pid}/{name}'] = os.listdir(path) if listed else open(path, 'rb').read(64).hex()\n"
        "        except OSError as e:\n"
        "            seen[f'{pid}/{name}'] = type(e).__name__\n"
        "    try:\n        os.kill(pid, 0); seen[f'{pid}/kill'] = 'exists'\n    except OSError as e:\n"
        "        seen[f'{pid}/kill'] = type(e).__name__\n"
        "for key, family, address in (('unix', socket.AF_UNIX, '\\0rlvr-secret'), ('tcp', socket.AF_INET, "
        "('127.0.0.1', 23456))):\n    s = socket.socket(family)\n"
        "    try:\n"
        "        s.connect(address); seen[key] = 'connected'\n"
        "    except OSError as e:\n"
        "        seen[key] = type(e).__name__\n"
        "seen['tmp'] = os.listdir('/tmp')\n"
        "print(json.dumps(seen))\n"
    )
    with pool.session(["main.py"], files={"main.py": holder}) as session:
        own_pid, uid = map(int, session.readline(100, timeout=20).split())
        assert own_pid == 2  # pid 2 of its own namespace, as in a cold run
        (holder_host_pid,) = _uid_processes(uid)
        zygote = next(iter(pool._live))
        with pool._cond:  # the spare asked for as the holder started: read the zygote's answer
            if zygote.pending is not None and zygote in pool._idle:
                zygote.spare = zygote._receive_spare(False)
        spare = zygote.spare.child if zygote.spare is not None else None
        # the pids the zygote's namespace gives the holder, the waiting spare and their
        # namespaces' inits: a hostile run that could see that namespace would find them there
        hosts = [holder_host_pid, _namespace_init(holder_host_pid)]
        hosts += [spare, _namespace_init(spare)] if spare is not None else []
        assert _namespace_pids(hosts[0])[2:] == [2] and _namespace_pids(hosts[1])[2:] == [1]
        targets = [_namespace_pids(pid)[1] for pid in hosts]
        targets = [pid for pid in targets if pid > 2]  # 1 and 2 name the probe's own init and itself
        assert targets
        seen = last_json(pool.run(["main.py", *map(str, targets)], files={"main.py": probe}))
        assert session.alive
        session.close_stdin()
    assert seen["me"] == 2 and seen["proc"] == [2], seen  # its namespace's root-owned init is hidden too
    for pid in targets:
        for name in ("stat", "status", "cmdline", "mem", "environ", "cwd", "fd"):
            assert seen[f"{pid}/{name}"] == "FileNotFoundError", seen
        assert seen[f"{pid}/kill"] == "ProcessLookupError", seen
    assert seen["unix"] == "ConnectionRefusedError" and seen["tcp"] == "ConnectionRefusedError"  # own network namespace
    assert seen["tmp"] == []


def _namespace_init(host_pid: int) -> int:
    """The host pid of the init of the pid namespace ``host_pid`` is in."""
    namespace = os.readlink(f"/proc/{host_pid}/ns/pid")
    for name in os.listdir("/proc"):
        try:
            if (
                name.isdigit()
                and os.readlink(f"/proc/{name}/ns/pid") == namespace
                and _namespace_pids(int(name))[-1] == 1
            ):
                return int(name)
        except OSError:
            pass
    raise AssertionError(f"no init for {host_pid}")


def test_a_run_sees_and_manages_its_own_process_tree(pool):
    """A run's own processes work as in a cold run: pid 2, /proc/self, subprocesses and
    multiprocessing, signals to its own children and to itself (it is not its namespace's init),
    and its exit ends everything it started, orphans included.  (Its parent, the zygote, is
    outside its namespace: ``getppid()`` is 0 where a cold run sees 1.)"""
    code = (
        "import json, multiprocessing, os, signal, subprocess, sys, time\n"
        "def double(x):\n    return 2 * x\n"
        "if __name__ == '__main__':\n"
        "    seen = {'pid': os.getpid(), 'ppid': os.getppid(), 'self': os.readlink('/proc/self')}\n"
        "    child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'])\n"
        "    seen['child_visible'] = str(child.pid) in os.listdir('/proc')\n"
        "    seen['child_stat'] = open(f'/proc/{child.pid}/stat').read().split()[3] == str(os.getpid())\n"
        "    os.kill(child.pid, 0)\n"
        "    child.send_signal(signal.SIGTERM); seen['child_status'] = child.wait()\n"
        "    out = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid(), os.getppid())'],"
        " capture_output=True, text=True).stdout.split()\n"
        "    seen['sub_parent'] = int(out[1])\n"
        "    with multiprocessing.Pool(2) as workers:\n        seen['pool'] = workers.map(double, [1, 2, 3])\n"
        "    if os.fork() == 0:\n"
        "        if os.fork() == 0:\n            time.sleep(0.2); os._exit(0)\n"
        "        os._exit(0)\n"
        "    os.wait()\n"
        "    print(json.dumps(seen), flush=True)\n"
        "    subprocess.Popen(['sleep', '1000'], start_new_session=True)\n"
        "    print(json.dumps(os.getuid()))\n"
    )
    result = run(pool, code)
    uid = last_json(result)
    assert _uid_processes(uid) == []
    seen = json.loads(result.stdout.decode().splitlines()[-2])
    assert seen["pid"] == 2 and seen["ppid"] == 0 and seen["self"] == "2"
    assert seen["child_visible"] and seen["child_stat"] and seen["child_status"] == -signal.SIGTERM
    assert seen["sub_parent"] == 2 and seen["pool"] == [2, 4, 6]
    result = run(pool, "import os, signal\nos.kill(os.getpid(), signal.SIGTERM)")  # not init: signals act
    assert result.signal == signal.SIGTERM and result.exit_code is None


def test_a_forked_process_starts_its_own_zygotes():
    with WarmPool(_BOX, zygotes=1) as warm:
        assert run(warm, "print('parent')").stdout == b"parent\n"
        parent_zygote = settled_zygote(warm).pid1
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            try:
                result = run(warm, "print('child')")
                os.write(write_end, json.dumps([result.stdout.decode(), settled_zygote(warm).pid1]).encode())
                warm.close()
            finally:
                os._exit(0)
        os.close(write_end)
        child_output, child_zygote = json.loads(os.read(read_end, 1000))
        os.close(read_end)
        os.waitpid(pid, 0)
        assert child_output == "child\n" and child_zygote != parent_zygote
        assert run(warm, "print('parent again')").stdout == b"parent again\n"
        assert settled_zygote(warm).pid1 == parent_zygote


def test_the_warm_path_refuses_backends_it_cannot_isolate():
    unsafe = Sandbox("unsafe-none", allow_unsafe_unsandboxed=True)
    with pytest.raises(SandboxUnavailable, match="bwrap backend running as root"):
        WarmPool(unsafe)
    no_cgroup = Sandbox("bwrap", memory_cgroup="off")
    with pytest.raises(SandboxUnavailable, match="memory cgroup"):
        WarmPool(no_cgroup)


def test_signals_output_caps_and_floods_are_reported_as_in_cold_runs(pool):
    killed = run(pool, "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)")
    assert killed.exit_code is None and killed.signal == signal.SIGSEGV
    capped = run(
        pool, "import sys\nsys.stdout.write('x' * 5000)\nsys.stderr.write('y' * 5000)", limits=Limits(output_bytes=1000)
    )
    assert capped.stdout == b"x" * 1000 and capped.stderr == b"y" * 1000 and capped.output_truncated
    flood = run(
        pool, "import sys\nwhile True: sys.stderr.write('z' * 65536)", limits=Limits(output_bytes=1000, wall_s=20)
    )
    assert flood.signal == signal.SIGKILL and not flood.timed_out and flood.wall_s < 10


def test_collect_never_follows_symlinks(pool):
    result = run(pool, "import os\nos.symlink('/etc/passwd', 'out.txt')", collect=["out.txt"])
    assert result.files == {}


def test_a_script_ends_like_python_file_does(pool):
    code = (
        "import atexit, threading, time\n"
        "atexit.register(print, 'atexit ran')\n"
        "threading.Thread(target=lambda: (time.sleep(0.2), print('thread finished', flush=True))).start()\n"
    )
    assert run(pool, code).stdout == b"thread finished\natexit ran\n"


def _fds_outside_cgroups() -> list[str]:
    """This process's descriptors, but those of cgroup control files (a pool keeps the files of
    the cgroups it reuses open)."""
    parent = _BOX._backend.cgroups.path
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if not target.startswith(parent + "/"):
            found.append(target)
    return found


MOUNT_NAMESPACE_PROBE = """
import os, sys
print(os.readlink('/proc/self/ns/mnt'), flush=True)
if len(sys.argv) > 1:
    sys.stdin.read()
"""


def test_concurrent_runs_never_share_a_mount_namespace():
    from concurrent.futures import ThreadPoolExecutor

    with WarmPool(_BOX, zygotes=2) as warm:
        barrier = threading.Barrier(2)

        def hold(_):
            with warm.session(["main.py", "hold"], files={"main.py": MOUNT_NAMESPACE_PROBE}) as session:
                name = session.readline(100, timeout=20).strip().decode()
                barrier.wait(timeout=20)  # both runs are alive at once
                session.close_stdin()
            return name

        with ThreadPoolExecutor(2) as executor:
            names = list(executor.map(hold, range(2)))
        zygote_namespaces = {os.readlink(f"/proc/{pid}/ns/mnt") for pid in warm.zygote_pids()}
    assert all(name.startswith("mnt:[") for name in names)
    assert len(set(names)) == 2 and not set(names) & zygote_namespaces


def test_each_run_asks_for_the_next_spare_itself(monkeypatch):
    """The thread that starts a run asks the zygote for the next spare (no background thread
    wakes up per run), and every run still gets a child forked for it alone."""
    from rlvr.verifiers.sandbox import warm as sandbox_warm

    forks_by_thread: dict[str, int] = {}
    request = sandbox_warm._Zygote.request_spare

    def counted(zygote, *args):
        name = threading.current_thread().name
        forks_by_thread[name] = forks_by_thread.get(name, 0) + 1
        return request(zygote, *args)

    monkeypatch.setattr(sandbox_warm._Zygote, "request_spare", counted)
    code = "import os\nprint(os.getpid(), sorted(os.listdir('/work')))\nopen('/work/left', 'w')"
    with WarmPool(_BOX, zygotes=1) as warm:
        warm.prestart()  # forks the first spare on this thread
        results = [run(warm, code) for _ in range(12)]
        (zygote,) = list(warm._live)
        assert zygote.has_spare  # the next run's spare is already asked for
    assert all(result.stdout == b"2 ['main.py']\n" for result in results)  # a fresh child each time
    assert forks_by_thread.get(threading.current_thread().name) == 1 + 12
    assert sum(count for name, count in forks_by_thread.items() if name.startswith("rlvr-warm-refill")) <= 1


def test_an_answer_read_without_waiting_for_it_first_is_still_waited_for():
    """The zygote's answer to a fork request asked for one run earlier is read at once (no
    wait before the read); one not there yet is still waited for, up to the deadline."""
    from rlvr.verifiers.sandbox.warm import _recv_line

    ours, theirs = socket.socketpair()
    with ours, theirs:
        timer = threading.Timer(0.05, theirs.sendall, [b'{"forked": 7}\n'])
        timer.start()
        line, _ = _recv_line(ours, time.monotonic() + 5.0, 100, sent=True)
        timer.join()
        assert json.loads(line) == {"forked": 7}
        theirs.sendall(b'{"forked": 8}\n')
        assert json.loads(_recv_line(ours, time.monotonic() + 5.0, 100, sent=True)[0]) == {"forked": 8}
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            _recv_line(ours, started + 0.1, 100, sent=True)
        assert time.monotonic() - started >= 0.09


def test_runs_do_not_wake_the_refill_threads():
    """A run checks its zygote back in with the next spare already asked for: the pool's
    background refill threads (there for zygotes without one) sleep through it."""

    def switches() -> int:
        refillers = [thread for thread in threading.enumerate() if thread.name.startswith("rlvr-warm-refill")]
        assert refillers
        total = 0
        for thread in refillers:
            status = _read(f"/proc/self/task/{thread.native_id}/status")
            total += int(status.split("voluntary_ctxt_switches:")[1].split()[0])
        return total

    with WarmPool(_BOX, zygotes=2) as warm:
        warm.prestart()
        assert run(warm, "pass").exit_code == 0
        before = switches()
        for _ in range(20):
            assert run(warm, "pass").exit_code == 0
        assert switches() - before <= 2


def test_the_zygote_backstop_kills_a_run_the_host_lets_run(monkeypatch):
    """The backstop travels in the run's own thread's request for the next spare: with it set
    to half a second (and the host's deadline far off) the zygote kills the run, for every run
    of the slot, and a later run is unaffected."""
    from rlvr.verifiers.sandbox import warm as sandbox_warm

    wall_s = 30.0
    backstop_s = 0.5
    monkeypatch.setattr(sandbox_warm, "BACKSTOP_SLACK_S", backstop_s - wall_s - sandbox_warm.HANDSHAKE_TIMEOUT_S)
    with WarmPool(_BOX, zygotes=1) as warm:
        warm.prestart()
        for _ in range(3):
            started = time.monotonic()
            result = run(warm, "import time\ntime.sleep(20)", limits=Limits(wall_s=wall_s))
            took = time.monotonic() - started
            assert result.signal == signal.SIGKILL and not result.timed_out, result
            assert backstop_s <= took < 5.0
        monkeypatch.setattr(sandbox_warm, "BACKSTOP_SLACK_S", 5.0)
        assert run(warm, "import time\ntime.sleep(1)\nprint('done')").stdout == b"done\n"


def test_a_run_namespace_init_blocks_every_signal(pool):
    """The init of a run's pid namespace (pid 1 there, a clone of the zygote sleeping in
    ``pause()``) starts with every signal blocked: nothing but SIGKILL ends it."""
    holder = "import sys\nprint('up', flush=True)\nsys.stdin.read()\n"
    with pool.session(["main.py"], files={"main.py": holder}) as held:
        assert held.readline(100, timeout=20) == b"up\n"
        (zygote,) = [pid for pid in pool.zygote_pids() if _read(f"/proc/{pid}/comm").startswith("python")]
        inits = []
        for child in _read(f"/proc/{zygote}/task/{zygote}/children").split():
            status = dict(line.split(":\t", 1) for line in _read(f"/proc/{child}/status").splitlines() if ":\t" in line)
            if status["NSpid"].split()[-1] == "1":
                inits.append(int(status["SigBlk"], 16))
        held.close_stdin()
    assert inits
    unblockable = {signal.SIGKILL, signal.SIGSTOP, 32, 33}  # the kernel's, and glibc's own two
    for blocked in inits:
        assert all(blocked >> (number - 1) & 1 for number in range(1, 65) if number not in unblockable)


def _read(path: str) -> str:
    with open(path, encoding="ascii") as handle:
        return handle.read()


def test_many_concurrent_runs_leak_nothing():
    from concurrent.futures import ThreadPoolExecutor

    from rlvr.verifiers.sandbox import warm as sandbox_warm

    cgroups_before = set(_our_cgroups())  # other pools' (the module's) zygotes and spares
    with WarmPool(_BOX, zygotes=2) as warm:
        warm.prestart()
        fds_before = len(_fds_outside_cgroups())
        codes = [
            "print(1)",
            "import os\nos._exit(3)",
            "while True: pass",
            "import subprocess\nsubprocess.Popen(['sleep', '9'])",
        ]

        def one(i):
            return run(warm, codes[i % len(codes)], limits=Limits(wall_s=0.5))

        with ThreadPoolExecutor(2) as executor:
            results = list(executor.map(one, range(60)))
        assert [r.exit_code for r in results[:4]] == [0, 3, None, 0] and results[2].timed_out
        sandbox_warm._RECLAIMER.drain()
        time.sleep(0.3)  # the refill thread gives each zygote its spare back
        assert len(_fds_outside_cgroups()) <= fds_before + 2
        kept = {os.path.basename(cgroup.path) for cgroup in warm._cgroups}  # emptied, reset, for later runs
        assert len(kept) <= 6  # bounded by the runs in flight at once, not by the runs made
        for zygote in warm._idle:  # each zygote's own cgroup and its spare child's
            kept.add(os.path.basename(zygote.spawned.cgroup.path))
            for spare in (zygote.spare, zygote.pending):  # forked, or asked for
                if spare is not None:
                    kept.add(os.path.basename(spare.cgroup.path))
        assert set(_our_cgroups()) - cgroups_before <= kept
        assert len(_BOX._uid_pool._held) <= 8  # uids are reused, not accumulated


def test_the_code_verifier_runs_warm_by_default_and_cold_on_request():
    import rlvr
    from rlvr.generators.code import CodeGenerator
    from rlvr.verifiers.code import CodeVerifier

    generator = CodeGenerator()
    warm, cold = CodeVerifier(), CodeVerifier(warm=False)
    try:
        for style in ("function", "stdio"):
            task = generator.generate(1, 0.3, style=style)
            for verifier, path in ((warm, "warm"), (cold, "cold")):
                verdict = verifier.verify(task, generator.solve(task))
                assert verdict.correct and verdict.details["sandbox"]["path"] == path, verdict
                assert verdict.details["sandbox"]["enforcement"]["memory"].startswith("cgroup")
                assert not verifier.verify(task, generator.wrong_response(task)).correct
        task = generator.generate(2, 0.3, style="function")
        assert rlvr.verify(task, generator.solve(task), warm=False).details["sandbox"]["path"] == "cold"
    finally:
        warm.close()
        cold.close()


def test_the_code_verifier_falls_back_to_cold_sessions_where_warm_cannot_start():
    from rlvr.generators.code import CodeGenerator
    from rlvr.verifiers.code import CodeVerifier

    generator = CodeGenerator()
    verifier = CodeVerifier(sandbox="unsafe-none", allow_unsafe_unsandboxed=True)
    try:
        task = generator.generate(3, 0.3, style="function")
        verdict = verifier.verify(task, generator.solve(task))
        assert verdict.correct and verdict.details["sandbox"]["path"] == "cold"
        assert "bwrap" in verdict.details["sandbox"]["warm_unavailable"]
    finally:
        verifier.close()


def test_a_host_holding_over_a_thousand_descriptors_still_runs_and_verifies():
    """``select.select`` refuses descriptors from 1024 on: a trainer holding many files (or many
    code envs) once got "verifier error: filedescriptor out of range in select()" for right
    answers. Every host-side wait is a poll now."""
    import resource

    import rlvr
    from rlvr.verifiers.code import CodeVerifier

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1400:
        pytest.skip(f"the hard limit on open files is {hard}, under the 1,400 this test holds")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1400) if soft != resource.RLIM_INFINITY else soft, hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        assert min(held[-10:]) >= 1024
        with WarmPool(_BOX, zygotes=1) as warm:
            result = warm.run(["main.py"], files={"main.py": "print(6 * 7)"})
            assert result.exit_code == 0 and result.stdout == b"42\n", result.stderr
        verifier = CodeVerifier()
        try:
            for seed in range(2):
                task = rlvr.make_task("Code-v0", seed, 0.3)
                verdict = verifier.verify(task, rlvr.solve(task))
                assert verdict.correct, verdict.reason
        finally:
            verifier.close()
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


_TWO_CPUS = len(os.sched_getaffinity(0)) >= 2


def _hold(warm):
    """A run that stays in flight until its stdin is closed; it prints its CPUs first."""
    code = "import os, sys\nprint(sorted(os.sched_getaffinity(0)), flush=True)\nsys.stdin.read()\n"
    return warm.session(["main.py"], files={"main.py": code})


def _overlap(warm) -> tuple[list[list[int]], list[set[int]], list[set[int]]]:
    """Two runs in flight at once, started by two threads: the CPUs each run saw, and each
    thread's CPUs while its run was in flight and once it was released."""
    both = threading.Barrier(2, timeout=30)

    def one(_) -> tuple[list[int], set[int], set[int]]:
        with _hold(warm) as session:
            seen = json.loads(session.readline(200, timeout=20))
            both.wait()  # both runs in flight
            during = os.sched_getaffinity(0)
            both.wait()
            session.close_stdin()
        return seen, during, os.sched_getaffinity(0)

    with ThreadPoolExecutor(2) as threads:
        seen, during, after = zip(*threads.map(one, range(2)))
    return list(seen), list(during), list(after)


def _one_thread_overlap(warm) -> tuple[list[list[int]], set[int]]:
    """Two runs in flight at once, both started by this thread: the CPUs each saw, and this
    thread's CPUs meanwhile."""
    with _hold(warm) as first, _hold(warm) as second:
        seen = [json.loads(first.readline(200, timeout=20)), json.loads(second.readline(200, timeout=20))]
        thread_cpus = os.sched_getaffinity(0)
        first.close_stdin()
        second.close_stdin()
    return seen, thread_cpus


@pytest.mark.skipif(not _TWO_CPUS, reason="needs two CPUs")
def test_zygotes_keep_to_their_homes_only_while_runs_overlap(monkeypatch):
    """Runs one at a time: no zygote or thread is held to a CPU.  Runs of two threads in flight
    at once: each zygote keeps to a home CPU of its own, and so does the thread that starts a run
    on it while that run is in flight; their children still get every CPU.  A run that starts
    alone once the overlap is ``PLACEMENT_HOLD_S`` old lets its zygote and its thread use every
    CPU again."""
    from rlvr.verifiers.sandbox import warm as sandbox_warm

    monkeypatch.setattr(sandbox_warm, "PLACEMENT_HOLD_S", 1.0)
    cpus = os.sched_getaffinity(0)
    with WarmPool(_BOX, zygotes=2) as warm:
        warm.prestart()
        zygotes = list(warm._live)
        for _ in range(3):
            assert run(warm, "print(1)").stdout == b"1\n"
        assert not any(zygote.pinned for zygote in zygotes)
        assert all(os.sched_getaffinity(zygote.pid1) == cpus for zygote in zygotes)
        assert os.sched_getaffinity(0) == cpus
        seen, during, after = _overlap(warm)
        assert all(set(children) == cpus for children in seen)  # children are not held to a CPU
        pinned = [zygote for zygote in zygotes if zygote.pinned]  # the second run's zygote at least
        assert pinned and all(os.sched_getaffinity(zygote.pid1) == {zygote.home} for zygote in pinned)
        assert len({zygote.home for zygote in zygotes}) == 2
        assert any(cpus_then in [{zygote.home} for zygote in pinned] for cpus_then in during)  # held meanwhile
        assert after == [cpus, cpus]  # and no longer
        time.sleep(1.1)
        serials = {zygote: zygote.serial for zygote in zygotes}
        assert run(warm, "print(2)").stdout == b"2\n"
        (used,) = [zygote for zygote in zygotes if zygote.serial != serials[zygote]]
        assert not used.pinned and os.sched_getaffinity(used.pid1) == cpus
        assert os.sched_getaffinity(0) == cpus


@pytest.mark.skipif(not _TWO_CPUS, reason="needs two CPUs")
def test_one_threads_overlapping_runs_place_nothing(monkeypatch):
    """Runs one thread keeps in flight at once (an assert-style check's checker session beside
    its candidate's, a session closed in the background) are one worker's: no zygote or thread
    is held to a CPU, nothing's CPUs change."""
    calls = []
    real = os.sched_setaffinity
    monkeypatch.setattr(os, "sched_setaffinity", lambda *args: calls.append(args) or real(*args))
    cpus = os.sched_getaffinity(0)
    with WarmPool(_BOX, zygotes=2) as warm:
        for _ in range(3):
            seen, thread_cpus = _one_thread_overlap(warm)
            assert all(set(children) == cpus for children in seen) and thread_cpus == cpus
        assert not any(zygote.pinned for zygote in warm._live)
    assert calls == [] and os.sched_getaffinity(0) == cpus


def test_a_pool_made_on_one_cpu_places_nothing(monkeypatch):
    """A pool made on a thread held to one CPU gives its zygotes no home: runs in flight at
    once change no process's or thread's CPUs."""
    cpu = min(os.sched_getaffinity(0))
    made = {}

    def make():
        os.sched_setaffinity(0, {cpu})
        made["pool"] = WarmPool(_BOX, zygotes=2)

    thread = threading.Thread(target=make)
    thread.start()
    thread.join()
    calls = []
    real = os.sched_setaffinity
    monkeypatch.setattr(os, "sched_setaffinity", lambda *args: calls.append(args) or real(*args))
    cpus = os.sched_getaffinity(0)
    with made["pool"] as warm:
        _overlap(warm)
        _overlap(warm)
        assert all(zygote.home is None and not zygote.pinned for zygote in warm._live)
    assert calls == [] and os.sched_getaffinity(0) == cpus
