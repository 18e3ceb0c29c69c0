"""Tests for rlvr.verifiers.sandbox: every attack is contained and the host is untouched.

The attack tests run under the bwrap backend (skipped where bwrap does not work);
docker tests skip unless an engine answers.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from rlvr.verifiers import sandbox as sb
from rlvr.verifiers.sandbox import Limits, RunResult, Sandbox, SandboxUnavailable, available_backends

SLACK_S = 5.0  # generous: CI machines are slow and shared


# --------------------------------------------------------------------------- helpers


def _bwrap_reason() -> str:
    return sb._probe_bwrap()[1]


needs_bwrap = pytest.mark.skipif(sb._probe_bwrap()[0] is None, reason=f"bwrap unusable: {_bwrap_reason()}")


@pytest.fixture(scope="module")
def tmp_root(tmp_path_factory):
    return str(tmp_path_factory.mktemp("sandbox-root"))


@pytest.fixture(scope="module")
def box(tmp_root):
    if sb._probe_bwrap()[0] is None:
        pytest.skip(f"bwrap unusable: {_bwrap_reason()}")
    with Sandbox("bwrap", tmp_root=tmp_root) as s:
        yield s


def py(box: Sandbox, code: str, *, site: bool = False) -> list[str]:
    return [box.python, "-I", "-c", code] if site else [box.python, "-I", "-S", "-c", code]


def _proc_table() -> list[dict]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as fh:
                text = fh.read()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        out.append(
            {
                "pid": int(entry),
                "ppid": int(fields["PPid"].strip()),
                "uid": int(fields["Uid"].split()[0]),
                "state": fields["State"].strip()[:1],
                "name": fields["Name"].strip(),
            }
        )
    return out


def _sandbox_uids(box: Sandbox) -> set[int]:
    """uids this process holds (flocked, so no other process runs sandboxes under them)."""
    if box._backend.needs_uid_slot():
        return set(box._uid_pool._held)
    return set()


@pytest.fixture(autouse=True)
def _children_before_test():
    """Children this process already had (other suites' worker pools) are not leftovers."""
    me = os.getpid()
    PREEXISTING_CHILDREN.clear()
    PREEXISTING_CHILDREN.update(p["pid"] for p in _proc_table() if p["ppid"] == me)
    yield


PREEXISTING_CHILDREN: set[int] = set()


def _leftovers(box: Sandbox) -> list[dict]:
    uids = _sandbox_uids(box)
    me = os.getpid()
    return [p for p in _proc_table() if p["uid"] in uids or (p["ppid"] == me and p["pid"] not in PREEXISTING_CHILDREN)]


def _assert_no_leftovers(box: Sandbox, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while True:
        left = _leftovers(box)
        if not left or time.monotonic() > end:
            break
        time.sleep(0.05)
    assert left == [], f"processes left behind: {left}"


def _run_dirs(tmp_root: str) -> list[str]:
    return [n for n in os.listdir(tmp_root) if n.startswith("run-")]


# --------------------------------------------------------------------------- basics


def test_limits_validation():
    with pytest.raises(ValueError):
        Limits(wall_s=0)
    with pytest.raises(ValueError):
        Limits(memory_mb=-1)
    with pytest.raises(ValueError):
        Limits(open_files=8)
    with pytest.raises(ValueError):
        Limits(cpu_s=float("nan"))
    assert Limits().output_bytes == 1 << 20


def test_available_backends_lists_unsafe_last():
    names = available_backends()
    assert names[-1] == "unsafe-none"
    if sb._probe_bwrap()[0] is not None:
        assert names[0] == "bwrap"


@needs_bwrap
def test_python_with_site_packages_and_isolated_mode(box):
    res = box.run(py(box, "import sys, numpy; print(sys.flags.isolated, numpy.__name__, sys.prefix)", site=True))
    assert res.ok, res.stderr
    assert res.stdout.split()[:2] == [b"1", b"numpy"]
    assert res.cpu_s > 0
    assert res.wall_s > 0


@needs_bwrap
def test_project_tree_and_rlvr_invisible(box):
    code = (
        "import os, importlib.util\n"
        "print(os.path.exists('/work/main'), os.path.exists('/root/.ssh'), sorted(os.listdir('/root')))\n"
        "print(importlib.util.find_spec('rlvr'))\n"
    )
    res = box.run(py(box, code, site=True))
    assert res.ok, res.stderr
    lines = res.stdout.decode().splitlines()
    assert lines[0].startswith("False False")
    assert "'.ssh'" not in lines[0]
    assert lines[1] == "None"


@needs_bwrap
def test_runs_unprivileged_without_capabilities(box):
    code = (
        "import os\n"
        "st = dict(l.split(':', 1) for l in open('/proc/self/status').read().splitlines())\n"
        "print(os.getuid(), os.getgid(), os.geteuid(), sorted(os.getgroups()))\n"
        "print(st['CapEff'].strip(), st['CapBnd'].strip(), st['NoNewPrivs'].strip(), st['Seccomp'].strip())\n"
    )
    res = box.run(py(box, code))
    assert res.ok, res.stderr
    ids, caps = res.stdout.decode().splitlines()
    uid, gid, euid, groups = ids.split(" ", 3)
    uid, gid, euid = int(uid), int(gid), int(euid)
    assert uid == euid == gid != 0
    if box._backend.privileged:
        # running as root: a dedicated per-run host uid from the slot range
        assert sb.DEFAULT_UID_BASE <= uid < sb.DEFAULT_UID_BASE + sb.MAX_SLOTS
        assert groups in ("[]", f"[{gid}]")
    else:
        assert uid == sb.NOBODY
    cap_eff, cap_bnd, nnp, seccomp = caps.split()
    assert int(cap_eff, 16) == 0
    assert int(cap_bnd, 16) == 0 or not box._backend.privileged
    assert nnp == "1"
    if sb._SECCOMP is not None:
        assert seccomp == "2"


@needs_bwrap
def test_environment_is_cleared(box, monkeypatch):
    monkeypatch.setenv("RLVR_TEST_SECRET", "hunter2")
    res = box.run(py(box, "import os, json; print(json.dumps(dict(os.environ)))"), env={"EXTRA": "1"})
    assert res.ok, res.stderr
    env = __import__("json").loads(res.stdout)
    assert "RLVR_TEST_SECRET" not in env
    assert b"hunter2" not in res.stdout
    assert set(env) - {"PWD"} == {"PATH", "HOME", "LANG", "PYTHONDONTWRITEBYTECODE", "EXTRA"}  # bwrap sets PWD
    assert env["HOME"] == "/work" and env["LANG"] == "C.UTF-8" and env["PYTHONDONTWRITEBYTECODE"] == "1"


@needs_bwrap
def test_stdin_delivered(box):
    data = b"line1\nline2\n" * 50_000  # larger than a pipe buffer
    res = box.run(["sh", "-c", "wc -c; echo done"], stdin=data)
    assert res.ok, res.stderr
    assert res.stdout.split() == [str(len(data)).encode(), b"done"]
    # a program that never reads stdin does not block anything
    res = box.run(["true"], stdin=b"x" * 1_000_000)
    assert res.ok


@needs_bwrap
def test_files_delivered_and_collected(box):
    files = {
        "a.txt": "text",
        "sub/dir/b.bin": bytes(range(256)),
        "c/./d.txt": b"dotted",
        "run.sh": "#!/bin/sh\necho script-ran\n",
    }
    code = (
        "import os\n"
        "print(open('a.txt').read(), len(open('sub/dir/b.bin','rb').read()), open('c/d.txt').read())\n"
        "os.makedirs('out/deep', exist_ok=True)\n"
        "open('out/deep/r.txt','w').write('result')\n"
        "open('big.bin','wb').write(b'z' * 3000)\n"
    )
    res = box.run(py(box, code), files=files, collect=("out/deep/r.txt", "missing.txt", "a.txt"))
    assert res.ok, res.stderr
    assert res.stdout.split() == [b"text", b"256", b"dotted"]
    assert res.files == {"out/deep/r.txt": b"result", "a.txt": b"text"}
    res = box.run(["./run.sh"], files=files)
    assert res.ok and res.stdout == b"script-ran\n", res
    # collected files are capped at file_mb
    res = box.run(py(box, "open('big.bin','wb').write(b'z' * (3 << 20))"), collect=("big.bin",),
                  limits=Limits(file_mb=4))
    assert len(res.files["big.bin"]) == 3 << 20 and not res.output_truncated


@needs_bwrap
def test_collect_never_follows_symlinks_or_blocks_on_fifos(box, tmp_path):
    secret = tmp_path / "host-secret.txt"
    secret.write_text("TOP-SECRET")
    code = (
        "import os\n"
        f"os.symlink({str(secret)!r}, 'leak')\n"
        "os.symlink('/etc/passwd', 'leak2')\n"
        "os.symlink('/', 'rootdir')\n"
        "os.mkfifo('fifo')\n"
    )
    res = box.run(py(box, code), collect=("leak", "leak2", "rootdir/etc/passwd", "fifo"))
    assert res.ok, res.stderr
    assert res.files == {}


def test_path_traversal_rejected(tmp_path):
    box = Sandbox("unsafe-none", allow_unsafe_unsandboxed=True, tmp_root=str(tmp_path))
    for bad in ("../x", "/etc/x", "a/../../x", "", "a/..", "..", "x\x00y"):
        with pytest.raises(ValueError):
            box.run(["true"], files={bad: "x"})
    with pytest.raises(ValueError):
        box.run(["true"], collect=("../etc/passwd",))
    with pytest.raises(ValueError):
        box.run(["true"], collect=("/etc/passwd",))
    with pytest.raises(ValueError):
        box.run([])
    with pytest.raises(ValueError):
        box.run("true")  # type: ignore[arg-type]
    assert _run_dirs(str(tmp_path)) == []


@needs_bwrap
def test_files_never_written_through_symlinks(box, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    target = tmp_path / "outside"
    target.mkdir()
    os.symlink(str(target), repo / "link")
    with pytest.raises(OSError):
        box.run(["true"], files={"link/pwned.txt": "x"}, cwd_files_dir=str(repo))
    assert list(target.iterdir()) == []
    assert _run_dirs(box.tmp_root) == []


@needs_bwrap
def test_cwd_files_dir_copied_and_host_copy_untouched(box, tmp_path):
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "__init__.py").write_text("VALUE = 41\n")
    (repo / "test_it.py").write_text("from pkg import VALUE\nprint(VALUE + 1)\n")
    os.symlink("pkg/__init__.py", repo / "alias.py")
    res = box.run(
        ["sh", "-c", f"{box.python} -S test_it.py && cat alias.py && echo changed > pkg/__init__.py && cat extra.txt"],
        cwd_files_dir=str(repo),
        files={"extra.txt": "extra"},
    )
    assert res.ok, res.stderr
    assert res.stdout.decode().split() == ["42", "VALUE", "=", "41", "extra"]
    assert (repo / "pkg" / "__init__.py").read_text() == "VALUE = 41\n"
    assert not (repo / "extra.txt").exists()


# --------------------------------------------------------------------------- attacks


@needs_bwrap
def test_fork_bomb_contained(box):
    code = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    t0 = time.monotonic()
    res = box.run(py(box, code), limits=Limits(wall_s=3, processes=32))
    assert time.monotonic() - t0 < 3 + SLACK_S
    assert res.timed_out and res.signal == signal.SIGKILL and res.exit_code is None
    _assert_no_leftovers(box)
    assert box.run(["true"]).ok  # the host (and the slot) still work


@needs_bwrap
def test_process_limit_enforced(box):
    code = (
        "import os, time\n"
        "n = 0\n"
        "try:\n"
        "    while n < 500:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(5); os._exit(0)\n"
        "        n += 1\n"
        "except OSError as e:\n"
        "    print(n, e.errno, flush=True)\n"
        "os.killpg(0, 9)\n"
    )
    res = box.run(py(box, code), limits=Limits(processes=20, wall_s=10))
    n, err = res.stdout.split()
    assert int(n) < 20 and int(err) == 11  # EAGAIN
    _assert_no_leftovers(box)


@needs_bwrap
def test_process_limit_is_per_run(box):
    """A fork bomb in one run does not starve a concurrent run (per-run uid / user namespace)."""
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    spawner = (
        "import subprocess, time\n"
        "time.sleep(0.5)\n"  # let the bomb saturate its budget first
        "ps = [subprocess.Popen(['sleep', '0.2']) for _ in range(20)]\n"
        "print(sum(p.wait() == 0 for p in ps))\n"
    )
    lim = Limits(processes=48, wall_s=4)
    with ThreadPoolExecutor(2) as pool:
        fut_bomb = pool.submit(box.run, py(box, bomb), limits=lim)
        time.sleep(0.3)
        fut_ok = pool.submit(box.run, py(box, spawner), limits=Limits(processes=48, wall_s=20))
        ok, bombed = fut_ok.result(), fut_bomb.result()
    assert bombed.timed_out
    assert ok.ok and ok.stdout.strip() == b"20", ok
    _assert_no_leftovers(box)


@needs_bwrap
def test_memory_bomb_contained(box):
    res = box.run(py(box, "x = bytearray(8 << 30)"))
    assert res.memory_exceeded and res.exit_code == 1, res
    res = box.run(py(box, "l = []\nwhile True:\n    l.append(bytearray(64 << 20))"), limits=Limits(memory_mb=256))
    assert res.memory_exceeded and not res.ok, res


@needs_bwrap
def test_cpu_limit(box):
    t0 = time.monotonic()
    res = box.run(py(box, "while True: pass"), limits=Limits(cpu_s=1, wall_s=20))
    assert time.monotonic() - t0 < 3 + SLACK_S
    assert not res.timed_out
    assert res.signal in (signal.SIGXCPU, signal.SIGKILL) and res.exit_code is None, res
    assert 0.8 <= res.cpu_s < 3


@needs_bwrap
def test_wall_deadline_kills_sleeper(box):
    t0 = time.monotonic()
    res = box.run(["sleep", "60"], limits=Limits(wall_s=1))
    assert time.monotonic() - t0 < 1 + SLACK_S
    assert res.timed_out and res.signal == signal.SIGKILL and res.exit_code is None
    assert 1.0 <= res.wall_s < 1 + SLACK_S
    _assert_no_leftovers(box)


@needs_bwrap
def test_no_network(box):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    code = (
        "import socket\n"
        f"for addr in [('1.1.1.1', 53), ('127.0.0.1', {port}), ('8.8.8.8', 443)]:\n"
        "    s = socket.socket(); s.settimeout(2)\n"
        "    try:\n"
        "        s.connect(addr); print('CONNECTED', addr)\n"
        "    except OSError as e:\n"
        "        print('blocked', e.errno)\n"
        "try:\n"
        "    socket.getaddrinfo('example.com', 80); print('RESOLVED')\n"
        "except OSError:\n"
        "    print('blocked dns')\n"
        "import subprocess\n"
        "print(subprocess.run(['cat', '/proc/net/dev'], capture_output=True, text=True).stdout)\n"
    )
    try:
        res = box.run(py(box, code))
        assert res.ok, res.stderr
        assert b"CONNECTED" not in res.stdout and b"RESOLVED" not in res.stdout
        assert res.stdout.count(b"blocked") == 4
        assert b"eth" not in res.stdout and b"ens" not in res.stdout  # only loopback exists
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()


@needs_bwrap
def test_cannot_read_outside_workdir(box, tmp_path):
    host_secret = tmp_path / "secret.txt"
    host_secret.write_text("TOP-SECRET")
    # a concurrent run with its own secret file
    other = {}

    def other_run():
        other["res"] = box.run(["sleep", "3"], files={"other-secret.txt": "OTHER-SECRET"})

    t = threading.Thread(target=other_run)
    t.start()
    try:
        deadline = time.monotonic() + 5

        def other_files():
            return [os.path.join(box.tmp_root, d, "work", "other-secret.txt") for d in _run_dirs(box.tmp_root)]

        while not any(os.path.exists(p) for p in other_files()) and time.monotonic() < deadline:
            time.sleep(0.02)
        other_dirs = other_files()
        assert other_dirs and os.path.exists(other_dirs[0])
        targets = ["/etc/shadow", "/root/.bashrc", "/work/main/pyproject.toml", str(host_secret),
                   "/home", "/proc/1/environ", *other_dirs, box.tmp_root, "/sys/kernel", os.path.expanduser("~/.bash_history")]
        code = (
            "import os, sys\n"
            "for p in sys.argv[1:]:\n"
            "    try:\n"
            "        data = open(p, 'rb').read() if not os.path.isdir(p) else os.listdir(p)\n"
            "        print('READ', p, data[:40])\n"
            "    except OSError as e:\n"
            "        print('denied', p, e.errno)\n"
        )
        res = box.run([box.python, "-I", "-S", "-c", code, *targets])
        assert res.ok, res.stderr
        out = res.stdout.decode()
        assert "SECRET" not in out
        # the only readable target is /proc/1/environ of the sandbox's own pid 1 (cleared env)
        for line in out.splitlines():
            if line.startswith("READ"):
                assert line.split()[1] == "/proc/1/environ", line
                assert "PATH=" in line or "HOME" in line or line.endswith("b''")
    finally:
        t.join()
    assert other["res"].ok


@needs_bwrap
def test_cannot_write_outside_workdir(box):
    marker = f"rlvr-sandbox-marker-{uuid.uuid4().hex}"
    code = (
        "import sys\n"
        "for p in sys.argv[1:]:\n"
        "    try:\n"
        "        open(p, 'w').write('x'); print('WROTE', p)\n"
        "    except OSError as e:\n"
        "        print('denied', p, e.errno)\n"
    )
    targets = ["/usr/pwned", "/etc/passwd", "/pwned", f"/root/{marker}", f"/tmp/{marker}", f"/dev/shm/{marker}",
               f"{sys.base_prefix}/pwned", "/venv/pwned", "work-ok.txt"]
    res = box.run([box.python, "-I", "-S", "-c", code, *targets], collect=("work-ok.txt",))
    assert res.ok, res.stderr
    wrote = {line.split()[1] for line in res.stdout.decode().splitlines() if line.startswith("WROTE")}
    # only the work dir and the sandbox's private tmpfs mounts are writable
    assert wrote == {f"/tmp/{marker}", f"/dev/shm/{marker}", "work-ok.txt"}, res.stdout
    assert res.files == {"work-ok.txt": b"x"}
    assert not os.path.exists(f"/tmp/{marker}")
    assert not os.path.exists(f"/dev/shm/{marker}")
    assert not os.path.exists("/usr/pwned") and not os.path.exists("/pwned")
    assert not os.path.exists(os.path.join(sys.base_prefix, "pwned"))


@needs_bwrap
def test_huge_stdout_truncated_and_flood_killed(box):
    lim = Limits(output_bytes=64 << 10, wall_s=20)
    # 3x the cap: kept 64 KiB, flagged, not killed
    res = box.run(py(box, "import sys; sys.stdout.write('y' * (3 * 65536)); sys.stderr.write('e' * 100)"), limits=lim)
    assert res.ok and res.output_truncated
    assert res.stdout == b"y" * 65536 and res.stderr == b"e" * 100
    # endless output: killed once it passes 8x the cap
    t0 = time.monotonic()
    res = box.run(py(box, "import sys\nwhile True: sys.stdout.write('x' * 65536)"), limits=lim)
    assert time.monotonic() - t0 < SLACK_S
    assert res.output_truncated and not res.timed_out
    assert res.signal == signal.SIGKILL and len(res.stdout) == 64 << 10


@needs_bwrap
def test_huge_file_hits_fsize(box):
    code = (
        "try:\n"
        "    open('big', 'wb').write(b'z' * (100 << 20))\n"
        "except OSError as e:\n"
        "    print('refused', e.errno)\n"
        "import os; print(os.path.getsize('big'))\n"
    )
    res = box.run(py(box, code), limits=Limits(file_mb=8))
    assert res.ok, res.stderr
    assert res.stdout.split() == [b"refused", b"27", str(8 << 20).encode()]
    # a program that does not ignore SIGXFSZ is killed by it
    res = box.run(["sh", "-c", "exec head -c 50000000 /dev/zero > big2"], limits=Limits(file_mb=8))
    assert res.signal == signal.SIGXFSZ and res.exit_code is None


@needs_bwrap
def test_fd_exhaustion(box):
    code = (
        "fs = []\n"
        "try:\n"
        "    while True: fs.append(open('/dev/null'))\n"
        "except OSError as e:\n"
        "    print(len(fs), e.errno)\n"
    )
    res = box.run(py(box, code), limits=Limits(open_files=32))
    assert res.ok, res.stderr
    n, err = res.stdout.split()
    assert int(n) <= 32 and int(err) == 24  # EMFILE


@needs_bwrap
def test_killing_parent_and_kill_all(box):
    witness = subprocess.Popen(["sleep", "30"])
    try:
        res = box.run(py(box, "import os\ntry:\n    os.kill(os.getppid(), 9); print('sent')\nexcept OSError as e:\n    print('refused', e.errno)\nprint('alive')"))
        assert res.ok and b"alive" in res.stdout, res
        res = box.run(["sh", "-c", "kill -9 -1; echo survived-kill-all"])
        assert res.exit_code in (0, None)
        res = box.run(py(box, "import os, signal; os.kill(-1, signal.SIGKILL)"))
        assert res.signal == signal.SIGKILL or res.exit_code is not None
        assert witness.poll() is None, "a host process was killed from inside the sandbox"
        os.kill(os.getpid(), 0)
        _assert_no_leftovers_except(box, witness.pid)
    finally:
        witness.kill()
        witness.wait()


def _assert_no_leftovers_except(box, pid):
    end = time.monotonic() + 5
    while True:
        left = [p for p in _leftovers(box) if p["pid"] != pid]
        if not left or time.monotonic() > end:
            break
        time.sleep(0.05)
    assert left == []


@needs_bwrap
def test_daemon_does_not_outlive_run(box):
    code = (
        "import os, sys, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        sys.stdout.write('daemon started\\n'); sys.stdout.flush()\n"
        "        while True:\n"
        "            time.sleep(0.05)\n"
        "            with open('heartbeat', 'a') as f: f.write('.')\n"
        "    os._exit(0)\n"
        "time.sleep(0.5)\n"
        "print('main exits')\n"
    )
    t0 = time.monotonic()
    res = box.run(py(box, code), limits=Limits(wall_s=20))
    assert time.monotonic() - t0 < 0.5 + SLACK_S  # did not wait for the daemon
    assert res.ok and b"daemon started" in res.stdout and b"main exits" in res.stdout
    _assert_no_leftovers(box, timeout=0.5)
    assert not any(p["name"] in ("bwrap", "timeout") and p["ppid"] == os.getpid() for p in _proc_table())


@needs_bwrap
def test_segfault_reported_as_signal(box):
    res = box.run(py(box, "import ctypes; ctypes.string_at(0)"))
    assert res.signal == signal.SIGSEGV and res.exit_code is None and not res.timed_out
    res = box.run(py(box, "import ctypes; ctypes.memset(0x1000, 0, 4096)"))
    assert res.signal == signal.SIGSEGV


@needs_bwrap
def test_namespace_creation_blocked(box):
    if sb._SECCOMP is None:
        pytest.skip("no seccomp filter for this architecture")
    code = (
        "import ctypes, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "for flag in (0x10000000, 0x00020000, 0x40000000):\n"
        "    print(libc.unshare(flag), ctypes.get_errno())\n"
    )
    res = box.run(py(box, code))
    assert res.ok, res.stderr
    assert res.stdout.split() == [b"-1", b"1"] * 3  # EPERM
    res = box.run(["unshare", "--user", "--map-root-user", "true"])
    assert res.exit_code != 0
    # ordinary process creation still works
    res = box.run(py(box, "import subprocess, threading; t = threading.Thread(target=print, args=('t',)); t.start(); t.join(); print(subprocess.run(['echo', 'child'], capture_output=True).stdout)"))
    assert res.ok and b"child" in res.stdout


@needs_bwrap
def test_exit_codes(box):
    assert box.run(["sh", "-c", "exit 3"]).exit_code == 3
    res = box.run(py(box, "import os; os.abort()"))
    assert res.signal == signal.SIGABRT and res.exit_code is None
    res = box.run(["sh", "-c", "kill -TERM $$"])
    assert res.signal == signal.SIGTERM


# --------------------------------------------------------------------------- backend selection


def test_unsafe_backend_refused_without_flag(tmp_path):
    with pytest.raises(ValueError, match="allow_unsafe_unsandboxed"):
        Sandbox("unsafe-none", tmp_root=str(tmp_path))
    with pytest.raises(ValueError):
        Sandbox("nope", tmp_root=str(tmp_path))


def test_unavailable_raises_with_install_advice(monkeypatch, tmp_path):
    monkeypatch.setattr(sb.shutil, "which", lambda *a, **k: None)
    monkeypatch.setattr(sb, "_probe_docker", lambda: (None, "no Docker engine answers: (test)"))
    with pytest.raises(SandboxUnavailable) as info:
        Sandbox(tmp_root=str(tmp_path))
    assert "apt-get install bubblewrap" in str(info.value) and "Docker" in str(info.value)
    with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap"):
        Sandbox("bwrap", tmp_root=str(tmp_path))
    with pytest.raises(SandboxUnavailable, match="no Docker engine answers"):
        Sandbox("docker", tmp_root=str(tmp_path))
    assert available_backends() == ["unsafe-none"]
    fallback = Sandbox(allow_unsafe_unsandboxed=True, tmp_root=str(tmp_path))
    assert fallback.backend == "unsafe-none"


def test_unsafe_backend_runs_with_limits(tmp_path):
    box = Sandbox("unsafe-none", allow_unsafe_unsandboxed=True, tmp_root=str(tmp_path))
    assert box.python == sys.executable and box.workdir is None
    res = box.run([box.python, "-I", "-S", "-c", "import os, sys; print(sys.stdin.read(), open('f').read(), os.environ['HOME'] == os.getcwd())"],
                  files={"f": "file"}, stdin=b"in", collect=("f",))
    assert res.ok and res.stdout.split() == [b"in", b"file", b"True"] and res.files == {"f": b"file"}
    t0 = time.monotonic()
    res = box.run(["sh", "-c", "sleep 30 & sleep 30"], limits=Limits(wall_s=1))
    assert res.timed_out and time.monotonic() - t0 < 1 + SLACK_S
    res = box.run([box.python, "-I", "-S", "-c", "x = bytearray(4 << 30)"], limits=Limits(memory_mb=512))
    assert res.memory_exceeded
    res = box.run([box.python, "-I", "-S", "-c", "import ctypes; ctypes.string_at(0)"])
    assert res.signal == signal.SIGSEGV
    assert _run_dirs(str(tmp_path)) == []
    assert not [p for p in _proc_table() if p["ppid"] == os.getpid() and p["pid"] not in PREEXISTING_CHILDREN]


# --------------------------------------------------------------------------- docker


def _docker_or_skip():
    client, reason = sb._probe_docker()
    if client is None:
        pytest.skip(reason if reason.startswith("no Docker engine answers") else f"no Docker engine answers: {reason}")
    return client


def test_docker_backend_real_engine(tmp_path):
    _docker_or_skip()
    with Sandbox("docker", tmp_root=str(tmp_path)) as box:
        res = box.run(
            [box.python, "-c", "import os, socket, sys; print(os.getuid(), sys.stdin.read(), open('f').read());"
             "s = socket.socket(); s.settimeout(2)\ntry:\n    s.connect(('1.1.1.1', 53)); print('NET')\nexcept OSError:\n    print('nonet')"],
            files={"f": "file"}, stdin=b"in",
        )
        assert res.ok, res.stderr
        assert res.stdout.split() == [b"65534", b"in", b"file", b"nonet"]
        res = box.run(["sleep", "30"], limits=Limits(wall_s=2))
        assert res.timed_out


class _FakeContainer:
    def __init__(self, client, kwargs, wait_results, chunks):
        self.client, self.kwargs, self._wait, self._chunks = client, kwargs, list(wait_results), chunks
        self.killed = self.removed = self.started = False
        self.attrs = {"State": {"OOMKilled": False}}

    def attach(self, **kw):
        assert kw["stream"] and kw["demux"] and not kw["logs"]
        return iter(self._chunks)

    def start(self):
        self.started = True

    def wait(self, timeout=None):
        result = self._wait.pop(0)
        if isinstance(result, Exception):
            raise result
        return result

    def kill(self):
        self.killed = True

    def reload(self):
        pass

    def remove(self, force=False):
        assert force
        self.removed = True


class _FakeDockerClient:
    def __init__(self, wait_results, chunks=()):
        self.created = []
        self.wait_results, self.chunks = wait_results, list(chunks)
        outer = self

        class Images:
            def get(self, name):
                return name

        class Containers:
            def create(self, image, **kwargs):
                c = _FakeContainer(outer, kwargs, outer.wait_results, outer.chunks)
                c.image = image
                outer.created.append(c)
                return c

        self.images, self.containers = Images(), Containers()

    def close(self):
        pass


def test_docker_backend_contract_with_fake_engine(tmp_path):
    """Checks the container configuration the docker backend asks for (no engine needed)."""
    client = _FakeDockerClient([{"StatusCode": 139}], chunks=[(b"out", None), (None, b"err")])
    box = Sandbox("docker", tmp_root=str(tmp_path), docker_client=client, limits=Limits(memory_mb=256, processes=16))
    res = box.run(["python3", "-c", "pass"], files={"a.py": "x"}, stdin=b"data", env={"K": "V"})
    (c,) = client.created
    kw = c.kwargs
    assert c.image == "python:3.11-slim"
    assert kw["network_mode"] == "none" and kw["read_only"]
    assert kw["user"] == "65534:65534" and kw["working_dir"] == "/work"
    assert kw["mem_limit"] == "256m" and kw["memswap_limit"] == "256m" and kw["pids_limit"] == 16
    assert kw["cap_drop"] == ["ALL"] and "no-new-privileges" in kw["security_opt"]
    assert "/tmp" in kw["tmpfs"] and kw["environment"]["K"] == "V" and kw["environment"]["HOME"] == "/work"
    assert {u["name"] for u in kw["ulimits"]} == {"cpu", "fsize", "nofile", "core"}
    binds = {v["bind"]: v["mode"] for v in kw["volumes"].values()}
    assert binds == {"/work": "rw", "/.rlvr-stdin": "ro"}
    assert kw["command"][:2] == ["/bin/sh", "-c"] and kw["command"][-3:] == ["python3", "-c", "pass"]
    assert c.started and c.removed
    assert res.stdout == b"out" and res.stderr == b"err"
    assert res.signal == signal.SIGSEGV and res.exit_code is None
    assert _run_dirs(str(tmp_path)) == []

    class ReadTimeout(Exception):
        pass

    client = _FakeDockerClient([ReadTimeout("timed out"), {"StatusCode": 137}])
    box = Sandbox("docker", tmp_root=str(tmp_path), docker_client=client)
    res = box.run(["sleep", "100"], limits=Limits(wall_s=0.1))
    (c,) = client.created
    assert res.timed_out and c.killed and c.removed and res.signal == signal.SIGKILL
    assert "volumes" in c.kwargs and c.kwargs["command"] == ["sleep", "100"]


# --------------------------------------------------------------------------- leaks


@needs_bwrap
def test_no_leaks_after_1000_runs(tmp_path):
    root = str(tmp_path / "leak-root")
    box = Sandbox("bwrap", tmp_root=root)
    fds_before = len(os.listdir("/proc/self/fd"))
    results = []

    def one(i: int) -> RunResult:
        return box.run(["true"], files={"f.txt": str(i)} if i % 10 == 0 else None)

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(one, range(1000)))
    assert all(r.ok for r in results), [r for r in results if not r.ok][:3]
    assert os.listdir(root) == []
    _assert_no_leftovers(box)
    assert len(os.listdir("/proc/self/fd")) <= fds_before + 2
