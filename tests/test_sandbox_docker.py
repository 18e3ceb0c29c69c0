"""The docker sandbox against the real engine: isolation and limits at parity with bwrap, sessions,
the warm pool, images built locally, and every verifier that runs untrusted code with
``sandbox="docker"`` (the verifier-integrity attacks included).

scripts/setup.sh installs and starts the engine and builds the base image; the module fixture
builds the image too when it is missing.  Everything here skips, with one line saying why, only
when no engine answers.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import warnings
from pathlib import Path

import pytest

import rlvr
from rlvr.attacks import audit
from rlvr.generators.code import CodeGenerator
from rlvr.verifiers.code import CodeVerifier
from rlvr.verifiers.sandbox import Limits, Sandbox, SandboxUnavailable
from rlvr.verifiers.sandbox import docker as docker_backend
from rlvr.verifiers.sandbox import image as sandbox_image
from rlvr.verifiers.sandbox import runner as sandbox_runner
from rlvr.verifiers.sandbox.docker_pool import DockerPool

ASSERT_STYLE = Path(__file__).parent / "data" / "code" / "mbpp_sample.jsonl"
OWNER = f"{docker_backend.OWNER_LABEL}={os.getpid()}"
ROOT = os.geteuid() == 0
PYPROJECT = (
    '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
    '[project]\nname = "{name}"\nversion = "0.1"\n'
)


def _engine_reason() -> str:
    client, reason = sandbox_runner._probe_docker()
    if client is None:
        return reason.splitlines()[0][:200]
    client.close()
    return ""


ENGINE_REASON = _engine_reason()
pytestmark = pytest.mark.skipif(bool(ENGINE_REASON), reason=f"docker engine unavailable: {ENGINE_REASON}")


@pytest.fixture(scope="module")
def box():
    sandbox_image.ensure_base_image(log=lambda line: None)
    with Sandbox("docker") as sandbox:
        yield sandbox


def our_containers() -> list[str]:
    """Containers of this test process (any state)."""
    listed = subprocess.run(
        ["docker", "ps", "-a", "-q", "--filter", f"label={OWNER}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return listed.stdout.split()


PROBE = r"""
import json, os, socket
def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return line.split()[1]
out = {"uid": os.getuid(), "gid": os.getgid(), "cwd": os.getcwd(), "input": open("in/f.txt").read(),
       "cap_eff": status("CapEff"), "cap_bnd": status("CapBnd"), "no_new_privs": status("NoNewPrivs"),
       "interfaces": sorted(os.listdir("/sys/class/net"))}
for target in ("/etc/rlvr-probe", "/usr/rlvr-probe", "/rlvr-probe"):
    try:
        open(target, "w").write("x")
        out[target] = "written"
    except OSError as error:
        out[target] = error.errno
s = socket.socket()
s.settimeout(2)
try:
    s.connect(("1.1.1.1", 53))
    out["net"] = "reached"
except OSError as error:
    out["net"] = error.errno
open("written.txt", "w").write("ok")
print(json.dumps(out))
"""


def _assert_isolated(out: dict) -> None:
    assert out["uid"] == 65534 and out["gid"] == 65534 and out["cwd"] == "/work" and out["input"] == "data"
    assert int(out["cap_eff"], 16) == 0 and int(out["cap_bnd"], 16) == 0 and out["no_new_privs"] == "1"
    assert out["interfaces"] == ["lo"] and out["net"] != "reached"
    assert all(out[path] != "written" for path in ("/etc/rlvr-probe", "/usr/rlvr-probe", "/rlvr-probe"))


def test_cold_run_isolation(box):
    res = box.run(["python3", "-I", "-c", PROBE], files={"in/f.txt": "data"}, stdin=b"ignored")
    assert res.ok, res.stderr
    _assert_isolated(json.loads(res.stdout))
    assert res.enforcement["memory"] == "docker" and box.enforcement == {"memory": "docker", "disk": "docker-tmpfs"}
    assert our_containers() == []


def test_exit_status_signal_and_stdin(box):
    res = box.run(
        ["python3", "-c", "import sys; data = sys.stdin.read(); print(len(data)); sys.exit(3)"], stdin=b"x" * 100_000
    )
    assert res.exit_code == 3 and res.stdout == b"100000\n"
    res = box.run(["python3", "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"])
    assert res.exit_code is None and res.signal == signal.SIGSEGV


def test_memory_limit_kills_the_whole_container(box):
    hog = (
        "import os, time\nfor _ in range(3):\n    if os.fork() == 0:\n        b = bytearray(150 << 20)\n"
        "        time.sleep(5)\n        os._exit(0)\nprint([os.wait()[1] for _ in range(3)], flush=True)\n"
    )
    res = box.run(["python3", "-c", hog], limits=Limits(memory_mb=256, wall_s=20))
    assert res.memory_exceeded and res.oom_killed
    assert our_containers() == []


def test_pids_limit_holds(box):
    bomb = (
        "import os, time\nkids = 0\ntry:\n    for _ in range(200):\n        if os.fork() == 0:\n"
        "            time.sleep(3); os._exit(0)\n        kids += 1\n"
        "except OSError as e:\n    print('refused', kids, e.errno)\n"
    )
    res = box.run(["python3", "-c", bomb], limits=Limits(processes=16, wall_s=20))
    words = res.stdout.split()
    assert words[0] == b"refused" and int(words[1]) < 16


def test_deadline_kills_daemons_and_removes_the_container(box):
    daemon = (
        "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(600)\n"
        "    os._exit(0)\ntime.sleep(600)\n"
    )
    start = time.monotonic()
    res = box.run(["python3", "-c", daemon], limits=Limits(wall_s=1.5))
    assert res.timed_out and res.signal == signal.SIGKILL
    assert time.monotonic() - start < 10
    assert our_containers() == []


@pytest.mark.skipif(not ROOT, reason="collected files and disk_exceeded need the host-held /work (root)")
def test_collect_and_disk_cap(box):
    res = box.run(
        ["sh", "-c", "mkdir -p d && echo one > d/a && ln -s /etc/passwd link"], collect=["d/a", "link", "missing"]
    )
    assert res.ok and res.files == {"d/a": b"one\n"}  # a symlink the program planted is never followed
    res = box.run(["sh", "-c", "head -c 40000000 /dev/zero > big; echo $?"], limits=Limits(disk_mb=4))
    assert res.disk_exceeded and res.stdout.strip() != b"0"
    flood = (
        "n = 0\ntry:\n    while n < 3000:\n        open(f'f{n}', 'w').close()\n        n += 1\n"
        "except OSError:\n    pass\nprint(n)"
    )
    res = box.run(["python3", "-c", flood], limits=Limits(disk_files=500))
    assert int(res.stdout) < 600 and res.disk_exceeded


def test_session_relay_and_cleanup(box):
    echo = "import sys\nfor line in sys.stdin:\n    print(line.strip().upper(), flush=True)\nprint('eof', flush=True)"
    with box.session(["python3", "-u", "-c", echo], limits=Limits(wall_s=20)) as session:
        for word in (b"abc", b"hello world"):
            session.send(word + b"\n")
            assert session.readline(1000, timeout=10) == word.upper() + b"\n"
        session.close_stdin()
        assert session.readline(1000, timeout=10) == b"eof\n"
        result = session.wait(10)
    assert result.exit_code == 0 and session.result is result
    with box.session(["sleep", "600"], limits=Limits(wall_s=1)) as session:
        with pytest.raises(TimeoutError):
            session.recv(timeout=0.2)
        assert session.wait().timed_out
    assert our_containers() == []


def test_watchdog_kills_a_session_nobody_waits_on(box):
    with box.session(["sleep", "600"], limits=Limits(wall_s=0.5)) as session:
        container = session._spawned.container_id
        time.sleep(docker_backend.BACKSTOP_S + 2.5)
        state = subprocess.run(
            ["docker", "inspect", "-f", "{{.State.Running}}", container], capture_output=True, text=True, check=False
        )
        assert state.stdout.strip() == "false"
    assert our_containers() == []


def test_warm_pool_same_isolation_one_run_per_container(box):
    with DockerPool(box, size=2) as pool:
        pool.warm_up()
        res = pool.run(["python3", "-I", "-c", PROBE], files={"in/f.txt": "data"})
        assert res.ok, res.stderr
        _assert_isolated(json.loads(res.stdout))
        marks = [pool.run(["sh", "-c", "ls /tmp; touch /tmp/used; cat"], stdin=b"in").stdout for _ in range(3)]
        assert marks == [b"in"] * 3  # a fresh container each time: /tmp/used never seen
        res = pool.run(["sleep", "600"], limits=Limits(wall_s=1))
        assert res.timed_out
        res = pool.run(["python3", "-c", "b = bytearray(400 << 20)"], limits=Limits(memory_mb=128))
        assert res.memory_exceeded
        with pytest.raises(SandboxUnavailable):
            pool.run(["true"], files={"big": b"x" * ((pool.input_mb << 20) + 1)})
    deadline = time.monotonic() + 30
    while our_containers() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert our_containers() == []


# --------------------------------------------------------------------------- verifiers


@pytest.fixture(scope="module")
def code_verifier(box):
    verifier = CodeVerifier(sandbox="docker")
    yield verifier
    verifier.close()


@pytest.mark.parametrize("style", ["function", "stdio", "assert"])
def test_code_verifier_every_style(code_verifier, style):
    generator = CodeGenerator(dataset=ASSERT_STYLE) if style == "assert" else CodeGenerator()
    for seed in range(2):
        task = generator.generate(seed) if style == "assert" else generator.generate(seed, 0.3, style=style)
        good = code_verifier.verify(task, generator.solve(task))
        assert good.correct, good.reason
        assert good.details["backend"] == "docker" and good.details["sandbox"]["path"] == "warm"
        assert not code_verifier.verify(task, generator.wrong_response(task)).correct


def test_code_backend_alias_is_deprecated(box):
    with pytest.warns(DeprecationWarning):
        verifier = CodeVerifier(backend="docker", warm=False)
    try:
        assert verifier.sandbox.backend == "docker" and verifier.warm_pool is None
    finally:
        verifier.close()
    with pytest.raises(ValueError, match="disagree"), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        CodeVerifier(backend="bwrap", sandbox="docker")


@pytest.mark.parametrize("env_id", ["rlvr/Code-v0", "rlvr/Verilog-v0", "rlvr/SWE-v0"])
def test_verify_and_gym_make_take_sandbox_docker(box, env_id):
    generator = rlvr.make_generator(env_id)
    task = rlvr.make_task(env_id, seed=3, difficulty=0.3)
    assert rlvr.verify(task, rlvr.solve(task), sandbox="docker").correct
    assert rlvr.verify(task, generator.wrong_response(task), sandbox="docker").reward == 0.0
    verifier = rlvr.make_verifier(env_id, sandbox="docker")
    sandbox = verifier.sandbox() if callable(verifier.sandbox) else verifier.sandbox
    assert sandbox.backend == "docker"


def test_swe_agent_tools_run_in_docker(box):
    import gymnasium as gym

    env = gym.make("rlvr/SWEAgent-v0", sandbox="docker")
    env.reset(seed=1)
    call = {"tool": "bash", "command": "id -u; echo note > notes.txt; cat notes.txt"}
    observation, _, _, _, _ = env.step(json.dumps(call))
    assert "65534" in observation and "note" in observation
    env.close()


@pytest.mark.parametrize("env_id", ["rlvr/Code-v0", "rlvr/Verilog-v0", "rlvr/SWE-v0"])
def test_attacks_score_nothing_in_docker(box, env_id):
    report = audit(env_id, n=1, difficulties=(0.5,), verifier_options={"sandbox": "docker"})
    assert report.passed, report.table()
    assert report.tasks >= 1 and len(report.rows) > 10


# --------------------------------------------------------------------------- images


def test_image_tag_follows_the_recipe():
    tag = sandbox_image.base_image_tag()
    assert tag.startswith("rlvr-sandbox:") and len(tag.split(":")[1]) == 12
    changed = {**sandbox_image.BASE_RECIPE, "packages": [*sandbox_image.BASE_RECIPE["packages"], "git"]}
    assert sandbox_image.base_image_tag(changed) != tag
    assert sandbox_image.base_image_tag(dict(sandbox_image.BASE_RECIPE)) == tag


def test_apt_mirror_from_either_sources_format(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n\n"
        "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n"
    )
    assert sandbox_image.apt_mirror(str(tmp_path)) == "http://mirror.example/debian"
    (tmp_path / "sources.list").write_text("deb [arch=amd64] http://other.example/debian/ bookworm main\n")
    assert sandbox_image.apt_mirror(str(tmp_path)) == "http://other.example/debian"


def test_base_image_has_the_toolchain(box):
    res = box.run(
        [
            "sh",
            "-c",
            "python3 -c 'import sys, pytest; print(sys.implementation.cache_tag)'; "
            "for tool in iverilog vvp; do command -v $tool; done | wc -l",
        ]
    )
    assert res.stdout.split() == [b"cpython-311", b"2"], res.stderr


def test_repo_image_installs_offline(box, tmp_path):
    repo = tmp_path / "tinyrepo"
    (repo / "tinypkg").mkdir(parents=True)
    (repo / "tinypkg" / "__init__.py").write_text("def answer():\n    return 42\n")
    (repo / "pyproject.toml").write_text(PYPROJECT.format(name="tinypkg"))
    tag = sandbox_image.build_repo_image(repo, base=box._backend.image, log=lambda line: None)
    assert tag.startswith("rlvr-sandbox-repo-tinyrepo:") and sandbox_image.image_exists(tag)
    assert sandbox_image.build_repo_image(repo, base=box._backend.image, log=lambda line: None) == tag  # reused
    with Sandbox("docker", image=tag) as repo_box:
        res = repo_box.run(["python3", "-I", "-c", "import tinypkg; print(tinypkg.answer())"])
    assert res.stdout == b"42\n", res.stderr
    (repo / "pyproject.toml").write_text(
        (repo / "pyproject.toml")
        .read_text()
        .replace('version = "0.1"', 'version = "0.1"\ndependencies = ["surely-not-vendored-package"]')
    )
    with pytest.raises(sandbox_image.ImageBuildError, match="surely-not-vendored-package|docker build failed"):
        sandbox_image.build_repo_image(repo, base=box._backend.image, log=lambda line: None)
    subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, timeout=120)


def test_missing_image_is_refused_not_pulled(box):
    with pytest.raises(SandboxUnavailable, match="never pulled"):
        Sandbox("docker", image="rlvr-sandbox:does-not-exist")


# --------------------------------------------------------------------------- SWE in docker

BUGGY = (
    "def clamp(value, low, high):\n    if value < low:\n        return low\n    return value\n\n\n"
    "def mean(values):\n    return sum(values) / len(values)\n"
)
FIXED = BUGGY.replace(
    "        return low\n    return value",
    "        return low\n    if value > high:\n        return high\n    return value",
)
TESTS = (
    "from calcpkg import clamp, mean\n\n\ndef test_clamp_inside():\n    assert clamp(5, 0, 10) == 5\n\n\n"
    "def test_clamp_low():\n    assert clamp(-3, 0, 10) == 0\n\n\n"
    "def test_mean():\n    assert mean([1, 2, 6]) == 3\n"
)
HIGH_TEST = "\n\ndef test_clamp_high():\n    assert clamp(30, 0, 10) == 10\n"


def _git(repo: Path, *argv: str) -> str:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(repo),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@localhost",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@localhost",
    }
    done = subprocess.run(["git", *argv], cwd=repo, env=env, check=True, capture_output=True, text=True, timeout=60)
    return done.stdout


@pytest.fixture(scope="module")
def bugfix_repo(tmp_path_factory):
    """A local repository whose history has a real bug-fix commit (clamp ignored its upper
    bound; the fix adds the check and the test that caught it), and its SWE-bench row."""
    repos = tmp_path_factory.mktemp("repos")
    repo = repos / "local__calcpkg"
    (repo / "calcpkg").mkdir(parents=True)
    (repo / "tests").mkdir()
    (repo / "pyproject.toml").write_text(PYPROJECT.format(name="calcpkg"))
    (repo / "calcpkg" / "__init__.py").write_text(BUGGY)
    (repo / "tests" / "test_calc.py").write_text(TESTS)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "calcpkg: clamp and mean")
    base = _git(repo, "rev-parse", "HEAD").strip()
    (repo / "calcpkg" / "__init__.py").write_text(FIXED)
    (repo / "tests" / "test_calc.py").write_text(TESTS + HIGH_TEST)
    _git(repo, "commit", "-q", "-am", "clamp: respect the upper bound")
    fix = _git(repo, "rev-parse", "HEAD").strip()
    row = {
        "instance_id": "local__calcpkg-1",
        "repo": "local/calcpkg",
        "base_commit": base,
        "patch": _git(repo, "diff", base, fix, "--", "calcpkg"),
        "test_patch": _git(repo, "diff", base, fix, "--", "tests"),
        "FAIL_TO_PASS": json.dumps(["tests/test_calc.py::test_clamp_high"]),
        "PASS_TO_PASS": json.dumps(
            [
                "tests/test_calc.py::test_clamp_inside",
                "tests/test_calc.py::test_clamp_low",
                "tests/test_calc.py::test_mean",
            ]
        ),
        "problem_statement": "clamp(30, 0, 10) returns 30: the upper bound is ignored.",
    }
    jsonl = repos / "instances.jsonl"
    jsonl.write_text(json.dumps(row) + "\n")
    return repos, repo, row, jsonl


def test_swebench_instance_image_from_the_base_commit(box, bugfix_repo):
    from rlvr.generators.swe import SWEGenerator
    from rlvr.verifiers.swe import SWEVerifier, docker_image_name

    repos, repo, row, jsonl = bugfix_repo
    tag = sandbox_image.build_instance_image(row, repo, base=box._backend.image, log=lambda line: None)
    assert tag == docker_image_name(row["instance_id"])
    again = sandbox_image.build_instance_image(row, repo, base=box._backend.image, log=lambda line: None)
    assert again == tag  # reused
    with Sandbox("docker", image=tag) as instance:
        res = instance.run(
            [
                "sh",
                "-c",
                "cd /testbed && git -c safe.directory=/testbed rev-parse HEAD && "
                "grep -c 'value > high' calcpkg/__init__.py; "
                "/opt/miniconda3/envs/testbed/bin/python -c 'import calcpkg'",
            ]
        )
    assert res.stdout.split()[:2] == [row["base_commit"].encode(), b"0"], res.stderr  # the buggy base, not the fix
    generator = SWEGenerator(dataset=str(jsonl))
    task = generator.generate(0)
    verifier = SWEVerifier(docker="always", deadline_s=120)
    try:
        gold = verifier.verify(task, generator.solve(task))
        assert gold.correct, gold.reason
        assert "docker" in json.dumps(gold.details)
        reverted = verifier.verify(task, generator.wrong_response(task))
        assert reverted.reward == 0.0
        test_diff = _git(repo, "diff", row["base_commit"], "HEAD", "--", "tests")
        untouched = verifier.verify(task, "```diff\n" + test_diff + "```")
        assert untouched.reward == 0.0  # touching the tests is refused, and the bug is still there
    finally:
        verifier.close()
    subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, timeout=120, check=False)


def test_swe_repo_tasks_run_in_docker(box, bugfix_repo):
    _, repo, _, _ = bugfix_repo
    generator = rlvr.make_generator("rlvr/SWE-v0", repo=str(repo))
    task = generator.generate(0, 0.3)
    assert task.answer["source"] == "repo"
    good = rlvr.verify(task, generator.solve(task), sandbox="docker")
    assert good.correct, good.reason
    assert rlvr.verify(task, generator.wrong_response(task), sandbox="docker").reward == 0.0
