"""The code verifier: extraction, comparison, the value codec, sandbox sessions, conformance on
synthetic and benchmark tasks, hostile programs, and leaks.

Everything that runs candidate code needs a working bwrap (skipped otherwise).  Hostile
programs are verified against tasks whose time limit is overridden to 1 s to keep the file
fast; each must score 0, leave the host untouched and leave no process behind.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import json
import math
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy
import psutil
import pytest

import rlvr
from rlvr.core import Task
from rlvr.generators.code import CodeGenerator, fence, unpack_tests
from rlvr.verifiers import code as code_verifier_module
from rlvr.verifiers import sandbox as sb
from rlvr.verifiers.code import (
    MAX_CODE_BYTES,
    CodeVerifier,
    ResultReader,
    assert_partial_reward,
    do_nothing_passes,
    extract_code,
    find_code,
    parse_literal,
    returned_value_matches,
    short_repr,
    stdout_matches,
    values_match,
)
from rlvr.verifiers.code_harness import (
    CodecError,
    Objects,
    RemoteRef,
    _Segments,
    decode_value,
    dumps_frame,
    encode_value,
    instrument_check,
    loads_frame,
)
from rlvr.verifiers.sandbox import Limits, Sandbox, SandboxUnavailable
from rlvr.verifiers.sandbox import runner as sandbox_runner
from rlvr.verifiers.sandbox import warm as sandbox_warm

DATA = Path(__file__).parent / "data" / "code"
HUMANEVAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "humaneval" / "HumanEval.jsonl.gz"
ASSERT_STYLE = DATA / "mbpp_sample.jsonl"  # hand-written assert-style problems: a check(candidate) per task
LCB_SOLUTIONS = json.loads((DATA / "livecodebench_sample_solutions.json").read_text())
SAMPLES = [
    "mbpp_sample.jsonl",
    "mbpp_sanitized_sample.json",
    "apps_sample.jsonl",
    "taco_sample.jsonl",
    "code_contests_sample.jsonl",
    "livecodebench_sample.jsonl",
]
GENERATOR = CodeGenerator()
SLACK_S = 5.0  # scheduling slack on a shared 2-core machine

needs_bwrap = pytest.mark.skipif(sb._probe_bwrap()[0] is None, reason=f"bwrap unusable: {sb._probe_bwrap()[1]}")
needs_humaneval = pytest.mark.skipif(not HUMANEVAL.is_file(), reason=f"HumanEval absent: {HUMANEVAL}")


@pytest.fixture(scope="module")
def verifier():
    if sb._probe_bwrap()[0] is None:
        pytest.skip("bwrap unusable")
    v = CodeVerifier()
    yield v
    v.close()


@pytest.fixture(scope="module")
def partial_verifier():
    if sb._probe_bwrap()[0] is None:
        pytest.skip("bwrap unusable")
    return CodeVerifier(partial=True)


def sandbox_processes(v: CodeVerifier) -> list[psutil.Process]:
    """Processes of the verifier's sandbox uids, and bwrap processes this test process started."""
    uids = set(v.sandbox._uid_pool._held)
    me = os.getpid()
    zygotes = sandbox_warm.zygote_pids()  # the warm path's long-lived processes, by design
    found = []
    for proc in psutil.process_iter(["uids", "name", "ppid"]):
        try:
            if proc.pid in zygotes:
                continue
            if proc.info["uids"].real in uids or (proc.info["name"] == "bwrap" and proc.info["ppid"] == me):
                found.append(proc)
        except (psutil.NoSuchProcess, TypeError):
            continue
    return found


def settle_every_verifier() -> None:
    """Every code verifier of this process closes the idle checkers it keeps for later
    verifications and finishes closing its sessions (verifiers share one uid pool: another
    one's idle checker would look like a leftover); nothing else may be left after this."""
    for closer in list(code_verifier_module._CLOSERS):
        closer.drain()
    for checkers in list(code_verifier_module._CHECKER_POOLS):
        checkers.clear()


def assert_no_leftovers(v: CodeVerifier, timeout: float = 3.0) -> None:
    v.settle()
    settle_every_verifier()
    end = time.monotonic() + timeout
    while sandbox_processes(v) and time.monotonic() < end:
        time.sleep(0.05)
    left = sandbox_processes(v)
    assert left == [], f"processes left behind: {left}"


def in_pool(function, items, workers: int = 2) -> list:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(function, items))


# --------------------------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------------------------


def test_extracts_exactly_one_fenced_python_block_outside_the_reasoning():
    assert extract_code("<think>```python\nthink()\n```</think>Intro\n```py\nonly()\n```") == "only()\n"
    assert extract_code("```\nbare()\n```") == "bare()\n"
    assert extract_code("```Python3 title\nx = 1\n```") == "x = 1\n"
    assert extract_code("<answer>\n```python\ninside()\n```</answer>") == "inside()\n"
    assert extract_code("```python\nsolve()\n```\n```") == "solve()\n"  # a stray unclosed fence is no block
    refused = {
        "```cpp\nint main() {}\n```": "tagged 'cpp'",
        "<answer>print(1)</answer>": "<answer> block without a fence",
        "<think>```python\nhidden()\n```": "no fenced",  # unclosed reasoning: nothing visible
        "no code at all": "no fenced",
        "```python\n\n```": "empty",
        "```python\nunterminated()\n": "no fenced",
        "```python\nfirst()\n```\n```python\nsecond()\n```": "more than one",
        "```python\nsolve()\n```\nExample:\n```text\n1 2\n```": "more than one",
    }
    for response, why in refused.items():
        code, problem = find_code(response)
        assert code is None and why in problem, (response, problem)


@pytest.mark.parametrize(
    "response",
    [
        "<answer>def process_numbers(values):\n    return values</answer>",
        "```python\ndef process_numbers(values):\n    return values\n```\n"
        "```python\ndef process_numbers(values):\n    return []\n```",
    ],
)
def test_format_violations_score_zero_with_format_not_ok(verifier, response):
    task = GENERATOR.generate(1, 0.2, style="function")
    reference = GENERATOR.solve(task)
    for text in (response, f"<answer>{extract_code(reference)}</answer>", reference + reference):
        verdict = verifier.verify(task, text)
        assert verdict.reward == 0.0 and not verdict.format_ok and not verdict.correct, (text, verdict)
    assert verifier.verify(task, reference).correct


@pytest.mark.parametrize(
    "response",
    [
        "",
        "   ",
        "9" * 10_000_000,
        bytes(range(256)).decode("latin-1") * 64,
        "<answer>" + "(" * 1000 + "1" + ")" * 1000 + "</answer>",
        "\x00\x00",
    ],
)
def test_hostile_responses_score_zero_within_the_deadline(verifier, response):
    task = GENERATOR.generate(1, 0.2, style="function")
    start = time.monotonic()
    verdict = verifier.verify(task, response)
    assert verdict.reward == 0.0 and not verdict.correct and verdict.reason
    assert time.monotonic() - start < verifier.deadline_for(task) + SLACK_S


def test_oversized_code_is_refused(verifier):
    task = GENERATOR.generate(1, 0.2, style="function")
    verdict = verifier.verify(task, fence("x = 1\n" * (MAX_CODE_BYTES // 6 + 10)))
    assert verdict.reward == 0.0 and "too long" in verdict.reason and not verdict.format_ok


# --------------------------------------------------------------------------------------------
# Comparison and codec
# --------------------------------------------------------------------------------------------


def test_values_match_rules():
    assert values_match([1, (2, 3)], ((1, [2, 3])))  # list and tuple are interchangeable
    assert values_match(2.0, 2) and values_match(2, 2.0)  # numbers by value
    assert values_match(1, True) and values_match(False, 0) and not values_match(True, 2)  # as Python's ==
    assert not values_match(None, False) and not values_match("1", True)
    assert values_match(0.1 + 0.2, 0.3, 1e-9) and not values_match(0.1 + 0.2, 0.3)
    assert values_match(math.nan, math.nan) and not values_match(math.inf, 1e308, 1e-6)
    assert values_match({1, 2}, frozenset({2, 1})) and not values_match({1, 2}, [1, 2])
    assert values_match({"a": [1.0]}, {"a": [1]}) and not values_match({"a": 1}, {"a": 1, "b": 2})
    assert not values_match([1, 2], [1, 2, 3]) and not values_match("1", 1) and not values_match(None, 0)
    assert values_match(parse_literal("[inf, -inf, nan]"), [math.inf, -math.inf, math.nan])
    # an int and a float compare exactly, as Python's == does (red team s15 A3: both were made floats)
    for big in (2**53 + 1, 3**40, 10**17 + 3, -(2**60) - 1):
        assert not values_match(big, float(big)) and not values_match(float(big), big) and big != float(big)
        assert values_match(big, big) and values_match([big], [big])
    assert values_match(2**53, float(2**53)) and values_match(10**17, 1e17) and not values_match(10**400, math.inf)
    assert values_match(2**53 + 1, float(2**53), 1e-9)  # a tolerance still applies to both
    assert parse_literal("([1, 2],)") == ([1, 2],) and parse_literal("{'a': (1,)}") == {"a": (1,)}


def test_stdout_matches_like_a_judge():
    assert stdout_matches("1 2\n3\n", "1  2   \n3")
    assert stdout_matches("YES\n", "YES\n\n\n")
    assert not stdout_matches("1\n2\n", "1\n")  # a missing line is wrong
    assert not stdout_matches("1\n", "1\n2\n")  # an extra line is wrong
    assert not stdout_matches("1 2\n", "1\n2\n")  # tokens on other lines are wrong
    assert not stdout_matches("yes\n", "YES\n")
    assert stdout_matches("0.3333333\n", "0.33333334\n", 1e-6) and not stdout_matches("0.3333333\n", "0.33333334\n")
    assert not stdout_matches("abc\n", "abd\n", 1e-6)


def test_codec_round_trips_plain_values_and_refuses_objects():
    values = [
        None,
        True,
        0,
        -7,
        2**80,
        -(2**70),
        1.5,
        -0.0,
        math.inf,
        -math.inf,
        "é\n\ud800",
        b"\x00\xff",
        3 + 4j,
        [1, [2]],
        (1, (2,)),
        {1, 2},
        frozenset({3}),
        {(1, 2): {"x": [None]}},
        (),
        set(),
        {},
    ]
    for value in values:
        back = decode_value(json.loads(json.dumps(encode_value(value))))
        assert type(back) is type(value) and (back == value or repr(back) == repr(value)), value
    assert math.isnan(decode_value(encode_value(math.nan)))

    class Rigged:
        def __eq__(self, other):
            return True

    class Integer(int):
        def __eq__(self, other):
            return True

    for value in (
        Rigged(),
        Integer(3),
        [Rigged()],
        {"k": Integer(1)},
        object(),
        print,
        iter([1]),
        range(3),
        collections.deque([1]),
        numpy.array([1, 2]),
    ):
        with pytest.raises(CodecError):
            encode_value(value)
    # what Python itself counts equal to plain values travels as those
    for value, plain in (
        (collections.defaultdict(int, a=1), {"a": 1}),
        (collections.Counter("aab"), {"a": 2, "b": 1}),
        (collections.OrderedDict(b=1), {"b": 1}),
        (numpy.int64(3), 3),
        (numpy.float32(0.5), 0.5),
        (numpy.bool_(True), True),
    ):
        back = decode_value(json.loads(json.dumps(encode_value(value))))
        assert type(back) is type(plain) and back == plain
    for data in (
        {"$tuple": 1},
        {"$set": [[1]]},
        {"$dict": [[1]]},
        {"$ref": 0},
        {"$object": ["X", []]},
        {"a": 1},
        {"$float": "1.0"},
        {"$bytes": "!!"},
        {"$int": 5},
        {"$tuple": [], "$set": []},
        float("nan"),
    ):
        with pytest.raises(CodecError):
            decode_value(data)
    with pytest.raises(CodecError):
        loads_frame(b'{"value": NaN}\n')
    with pytest.raises(CodecError):
        loads_frame(b"[1, 2]\n")
    assert loads_frame(dumps_frame({"a": [1, "\n"]})) == {"a": [1, "\n"]}


def test_objects_are_rebuilt_with_the_receivers_own_class():
    from collections import namedtuple

    Point = namedtuple("Point", "x y")

    class Box:
        def __init__(self, size):
            self.size = size

    class TheirPoint(tuple):  # the sender's class of the same name, with a rigged __eq__
        def __eq__(self, other):
            return True

    TheirPoint.__name__ = "Point"
    mine = Objects({"Point": Point, "Box": Box}.get)
    theirs = Objects({"Point": TheirPoint}.get)
    wire = json.loads(json.dumps(encode_value([TheirPoint((1, 2))], theirs)))
    rebuilt = decode_value(wire, mine)[0]
    assert type(rebuilt) is Point and rebuilt == Point(1, 2) and rebuilt != Point(9, 9)
    box = decode_value(encode_value(Box(3), mine), mine)
    assert type(box) is Box and box.size == 3
    with pytest.raises(CodecError):
        decode_value(wire)  # a side without classes takes plain data only
    assert encode_value(RemoteRef(4, "Pair")) == {"$ref": 4}
    assert decode_value({"$ref": 0}, Objects(handles=["kept"])) == "kept"


def test_check_instrumentation_counts_statements_that_assert():
    code = (
        "def check(candidate):\n    x = 3\n    assert True\n    assert candidate(x) == 9, 'msg'\n"
        "    for i in range(3):\n        assert candidate(i) == i * i\n    def helper():\n        assert False\n"
    )
    _, checks, _ = instrument_check(code)
    assert [c["line"] for c in checks] == [4, 5]
    assert checks[0]["expected"] == "9" and checks[0]["statement"].startswith("assert candidate(x) == 9")


def test_source_segments_are_what_ast_gives():
    """The checker cuts each check's source with ``_Segments`` (lines split once); it must agree
    with ``ast.get_source_segment`` on every node, whatever the line endings and characters."""
    import ast

    sources = [
        "def check(candidate):\n\tassert candidate('é\\f') == 'ü'  # x\r\n    \r\n",
        "x = 1\rdef check(candidate):\r    assert candidate(1) == (\r 2)\r",
        "def check(c):\n    assert c('\u2028') == '😀'\x0c\n    assert (c(\n        1,\n    )\n    == [1,\n 2])",
        "\n\n\ndef check(c):  # no newline at the end\n    assert c(3) == 9",
    ]
    assert_style = CodeGenerator(dataset=ASSERT_STYLE)
    sources += [assert_style.generate(row).answer["check_code"] for row in range(4)]
    if HUMANEVAL.is_file():
        humaneval = CodeGenerator(dataset=HUMANEVAL)
        sources += [humaneval.generate(row).answer["check_code"] for row in range(0, 164, 7)]
    compared = 0
    for source in sources:
        segment = _Segments(source)
        for node in ast.walk(ast.parse(source)):
            if hasattr(node, "end_lineno"):
                assert segment(node) == ast.get_source_segment(source, node), (source, ast.dump(node))
                compared += 1
    assert compared > (1000 if HUMANEVAL.is_file() else 150)  # HumanEval's checks: most of the nodes


def test_checkers_serve_each_problem_in_a_fresh_namespace():
    """The ``checkers`` protocol, unsandboxed: the configuration and the first problem arrive in
    one write, each problem is served with its own nonce in a fresh namespace (what one check kept
    -- here a value the candidate returned -- is gone for the next), a check whose candidate
    never loaded is aborted cleanly, and a check that leaves something behind in the process
    (here changed builtins) ends it."""
    ours, theirs = socket.socketpair()
    harness = subprocess.Popen(
        [sys.executable, "-I", "-S", code_verifier_module.code_harness.__file__], stdin=theirs, stdout=theirs
    )
    theirs.close()
    ours.settimeout(20)
    reader = ours.makefile("rb")

    def receive() -> dict:
        return loads_frame(reader.readline())

    first = {
        "nonce": "n1",
        "setup_code": "",
        "check_code": "SEEN = []\ndef check(candidate):\n    SEEN.append(candidate(2))\n    assert SEEN == [4]\n",
        "entry_point": "square",
        "stop_at_first_failure": True,
    }
    second = {**first, "nonce": "n2", "check_code": "def check(candidate):\n    assert 'SEEN' not in globals()\n"}
    idle = {"idle": True, "left_behind": ""}
    try:
        ours.sendall(dumps_frame({"mode": "checkers"}) + dumps_frame(first))
        assert receive() == {"ready": True, "checks": 1, "nonce": "n1"}
        call = receive()  # the check runs as soon as it is ready
        assert call["call"] == 1 and call["nonce"] == "n1" and decode_value(call["args"]) == [2]
        reply = dumps_frame({"result": 1, "ok": True, "value": 4})
        ours.sendall(dumps_frame({"reply": 1, "frame": base64.b64encode(reply).decode()}))
        assert receive() == {"check": 0, "passed": True, "nonce": "n1"}
        assert receive() == {"done": True, "aborted": None, "nonce": "n1"}
        assert receive() == idle
        for problem in (second, {**first, "nonce": "n3"}):  # n3 again: SEEN starts empty
            ours.sendall(dumps_frame(problem))
            assert receive() == {"ready": True, "checks": 1, "nonce": problem["nonce"]}
            if problem is not second:
                assert receive()["call"] == 1
                ours.sendall(dumps_frame({"reply": 1, "frame": base64.b64encode(reply).decode()}))
            assert receive() == {"check": 0, "passed": True, "nonce": problem["nonce"]}
            assert receive() == {"done": True, "aborted": None, "nonce": problem["nonce"]}
            assert receive() == idle
        ours.sendall(dumps_frame({**first, "nonce": "n4"}))  # a candidate that never loaded: the host aborts
        assert receive() == {"ready": True, "checks": 1, "nonce": "n4"}
        assert receive()["call"] == 1
        ours.sendall(dumps_frame({"reply": 1, "abort": True}))
        assert receive() == {"done": True, "aborted": None, "nonce": "n4"}
        assert receive() == idle
        meddling = (
            "import builtins\ndef check(candidate):\n    builtins.sorted = reversed\n    assert True is not False\n"
        )
        ours.sendall(dumps_frame({**first, "nonce": "n5", "check_code": meddling}))
        assert receive()["ready"] is True
        assert receive()["passed"] is True
        assert receive()["done"] is True
        assert receive() == {"idle": False, "left_behind": "the builtins changed"}
        assert reader.readline() == b""  # and the checker has ended
    finally:
        reader.close()
        ours.close()
        assert harness.wait(timeout=20) == 0


# --------------------------------------------------------------------------------------------
# Sandbox sessions
# --------------------------------------------------------------------------------------------


@needs_bwrap
def test_session_round_trips_and_finishes(tmp_path):
    box = Sandbox("bwrap", tmp_root=str(tmp_path))
    code = (
        "import os, sys\nprint(open('given.txt').read(), flush=True)\n"
        "for line in sys.stdin:\n    sys.stdout.write(line.upper()); sys.stdout.flush()\n"
        "sys.stderr.write('done')\nsys.exit(3)\n"
    )
    with box.session([box.python, "-I", "-S", "-c", code], files={"given.txt": "hi"}, limits=Limits(wall_s=10)) as s:
        assert s.readline(100, timeout=5) == b"hi\n"
        for i in range(50):
            s.send(b"line %d\n" % i)
            assert s.readline(100, timeout=5) == b"LINE %d\n" % i
        s.close_stdin()
        result = s.wait(timeout=5)
    assert result.exit_code == 3 and result.stderr == b"done" and not result.timed_out
    assert s.result is result and os.listdir(tmp_path) == []


@needs_bwrap
def test_session_deadline_kill_and_cleanup(tmp_path):
    box = Sandbox("bwrap", tmp_root=str(tmp_path))
    started = time.monotonic()
    with box.session(["sleep", "60"], limits=Limits(wall_s=1)) as s:
        with pytest.raises(TimeoutError):
            s.recv(timeout=0.2)
        assert s.alive
        assert s.recv(timeout=30) == b""  # the deadline kills it: end of stream
        assert s.timed_out and not s.alive
    assert time.monotonic() - started < 1 + SLACK_S
    assert s.result.timed_out and s.result.signal == 9
    with box.session(["sh", "-c", "echo ready; sleep 60"], limits=Limits(wall_s=30)) as s:
        assert s.readline(100, timeout=5) == b"ready\n"
        s.kill()
        assert s.recv(timeout=10) == b""
    assert not s.result.timed_out and s.result.signal == 9
    with pytest.raises(ValueError):
        with box.session(["sh", "-c", "head -c 5000 /dev/zero"]) as s:
            s.readline(100, timeout=5)
    assert [d for d in os.listdir(tmp_path) if d.startswith("run-")] == []


@needs_bwrap
def test_session_channel_cannot_be_reopened_or_stolen(tmp_path):
    """The channel is a socket: /proc/<pid>/fd cannot reopen it, and the seccomp filter refuses
    pidfd_getfd and process_vm_readv (no process can take another's descriptors or memory)."""
    import platform

    if sb._SECCOMP is None or platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip("the syscall numbers of this probe are x86_64's")
    box = Sandbox("bwrap", tmp_root=str(tmp_path))
    code = (
        "import ctypes, os, sys\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "out = []\n"
        "for path in ('/proc/1/fd/0', '/proc/1/fd/1', '/proc/self/fd/0'):\n"
        "    try:\n        os.open(path, os.O_RDWR); out.append('OPENED')\n"
        "    except OSError as e:\n        out.append(str(e.errno))\n"
        "pidfd = libc.syscall(434, 1, 0)\n"  # pidfd_open(1)
        "out.append(str(libc.syscall(438, pidfd, 1, 0)))\n"  # pidfd_getfd
        "out.append(str(ctypes.get_errno()))\n"
        "buf = ctypes.create_string_buffer(8)\n"
        "class Iov(ctypes.Structure):\n    _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]\n"
        "local, remote = Iov(ctypes.addressof(buf), 8), Iov(0x400000, 8)\n"
        "out.append(str(libc.syscall(310, 1, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)))\n"
        "out.append(str(ctypes.get_errno()))\n"
        "os.write(1, (' '.join(out) + '\\n').encode())\n"
    )
    with box.session([box.python, "-I", "-S", "-c", code], limits=Limits(wall_s=10)) as s:
        words = s.readline(1000, timeout=10).split()
    assert b"OPENED" not in words and words[:3] == [b"6", b"6", b"6"]  # ENXIO: sockets cannot be reopened
    assert words[3:] == [b"-1", b"1", b"-1", b"1"]  # EPERM from seccomp


# --------------------------------------------------------------------------------------------
# Construction
# --------------------------------------------------------------------------------------------


def test_no_sandbox_raises_with_install_advice(monkeypatch):
    monkeypatch.setattr(sandbox_runner, "_probe_bwrap", lambda: (None, "bwrap not found on PATH"))
    monkeypatch.setattr(sandbox_runner, "_probe_docker", lambda: (None, "no Docker engine answers"))
    with pytest.raises(SandboxUnavailable, match="bubblewrap"):
        CodeVerifier()
    with pytest.raises(ValueError):
        CodeVerifier(max_total_s=0)


def test_unsandboxed_backend_only_on_request():
    with pytest.raises(ValueError, match="allow_unsafe_unsandboxed"):
        CodeVerifier(sandbox="unsafe-none")
    unsafe = CodeVerifier(sandbox="unsafe-none", allow_unsafe_unsandboxed=True)
    for style in ("function", "stdio"):
        task = GENERATOR.generate(2, 0.3, style=style)
        assert unsafe.verify(task, GENERATOR.solve(task)).correct
        assert not unsafe.verify(task, GENERATOR.wrong_response(task)).correct
    assert_style = CodeGenerator(dataset=ASSERT_STYLE)
    task = assert_style.generate(0)
    assert unsafe.verify(task, assert_style.solve(task)).correct
    assert unsafe.verify(task, assert_style.solve(task)).details["backend"] == "unsafe-none"


# --------------------------------------------------------------------------------------------
# Conformance
# --------------------------------------------------------------------------------------------


@needs_humaneval
def test_humaneval_canonical_solutions_pass_and_wrong_bodies_fail(verifier):
    generator = CodeGenerator(dataset=HUMANEVAL)
    tasks = [generator.generate(row) for row in range(164)]
    # made here, in one thread: ast.parse in two threads at once can fail on CPython 3.11
    # ("AST constructor recursion depth mismatch"), and the responses are not under test
    jobs = [(task, generator.solve(task), generator.wrong_response(task)) for task in tasks]

    def judge(job):
        task, solution, wrong = job
        return task.meta["task_id"], verifier.verify(task, solution), verifier.verify(task, wrong)

    results = in_pool(judge, jobs)
    failures = [(tid, good.reason, good.details.get("first_failure")) for tid, good, _ in results if not good.correct]
    assert failures == []
    assert [tid for tid, _, bad in results if bad.correct or bad.reward != 0.0] == []
    assert all(
        good.details["style"] == "assert" and good.details["passed"] == good.details["total"] >= 1
        for _, good, _ in results
    )


def test_synthetic_reference_passes_and_wrong_fails(verifier):
    """Under the real verifier, ``solve`` scores 1 and ``wrong_response`` (judged wrong by the
    generator through the verifier's pure comparison functions) scores 0: 12 seeds × 5
    difficulties × both styles."""
    tasks = [
        GENERATOR.generate(seed, difficulty, style=style)
        for difficulty in (0.0, 0.25, 0.5, 0.75, 1.0)
        for style in ("function", "stdio")
        for seed in range(12)
    ]

    def judge(task):
        return task, verifier.verify(task, GENERATOR.solve(task)), verifier.verify(task, GENERATOR.wrong_response(task))

    for task, good, bad in in_pool(judge, tasks):
        assert good.correct and good.reward == 1.0 and good.details["passed"] == len(unpack_tests(task.answer)), (
            task.id,
            good,
        )
        assert not bad.correct and bad.reward == 0.0 and bad.details["first_failure"], (task.id, bad)


# (expected repr, returned value, what Python's == says): numbers by value, list and tuple alike,
# sets and dicts as Python collapses them; strings, None and containers of another kind differ.
RETURNED_VALUES = [
    ("2", "2.0", True),
    ("2.0", "2", True),
    ("2", "True", False),
    ("1", "True", True),
    ("[1, 2]", "(1, 2)", True),
    ("(1, 2)", "[1, 2]", True),
    ("[1, 2]", "[1.0, 2.0]", True),
    ("[(1, 2)]", "[[1, 2.0]]", True),
    ("2", "'2'", False),
    ("[1, 2]", "[1, 2, 3]", False),
    ("[1, 2]", "{1, 2}", False),
    ("{1, 2}", "frozenset({2, 1.0})", True),
    ("None", "0", False),
    ("{1: [2]}", "{1.0: (2,)}", True),
    ("0.30000000000000004", "0.3", False),
    ("'a'", "b'a'", False),
]


@pytest.mark.parametrize("style", ["function", "stdio"])
def test_the_generators_comparison_is_the_verifiers_verdict(verifier, style):
    """``returned_value_matches`` / ``stdout_matches`` — the only comparisons the generator uses —
    say "equal" exactly when a sandboxed run of the same program scores 1: 2 vs 2.0 and list vs
    tuple are equal in both, in the function style; printed "2.0" is not "2" in either."""
    base = GENERATOR.generate(0, 0.0, style=style, input="ints")
    if style == "function":
        cases = [
            (expected, f"def process_numbers(values):\n    return {returned}\n", python_says)
            for expected, returned, python_says in RETURNED_VALUES
        ]
    else:
        cases = [
            ("2\n", "print('2.0')", False),
            ("2\n", "print(2)", True),
            ("1 2\n", "print('1  2 ')", True),
            ("(1, 2)\n", "print([1, 2])", False),
            ("3\n", "print('3\\n\\n')", True),
            ("1\n2\n", "print('1 2')", False),
        ]
    for expected, program, python_says in cases:
        test = (
            {"args": "([1],)", "expected": expected} if style == "function" else {"input": "1\n1\n", "output": expected}
        )
        answer = {**base.answer, "tests": [test], "packed_tests": None, "float_tolerance": None, "time_limit_s": 2.0}
        task = Task.from_dict({**base.to_dict(), "answer": answer})
        if style == "function":
            namespace: dict = {}
            exec(program, namespace)
            ours = returned_value_matches(expected, namespace["process_numbers"]([1]))
        else:
            ours = stdout_matches(
                expected,
                subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=30).stdout,
            )
        verdict = verifier.verify(task, fence(program))
        assert verdict.correct == ours == python_says, (expected, program, verdict.reason)


def test_verification_survives_a_json_round_trip(verifier):
    for style in ("function", "stdio"):
        task = GENERATOR.generate(7, 0.6, style=style)
        back = Task.from_dict(json.loads(task.to_json()))
        assert verifier.verify(back, GENERATOR.solve(task)).correct


NAIVE_BODIES = {
    "dedupe": (
        "    out = []\n    for x in values:\n        if x not in out:\n            out.append(x)\n    return out\n"
    ),
    "window_sums": (
        "    width = len(values) // 2 + 1\n"
        "    return [sum(values[i:i + width]) for i in range(len(values) - width + 1)]\n"
    ),
    "running_max": "    return [max(values[:i + 1]) for i in range(len(values))]\n",
}


def naive_program(task: Task) -> str:
    """The reference with its first (trap) step replaced by the obvious quadratic version."""
    name = task.meta["quadratic_trap"]
    reference = task.answer["reference"]
    pattern = re.compile(rf"(def {name}\(values\):\n    # [^\n]*\n)(.*?)(?=\n\n\ndef )", re.DOTALL)
    naive, count = pattern.subn(lambda m: m.group(1) + NAIVE_BODIES[name].rstrip("\n"), reference)
    assert count == 1
    return naive


@pytest.mark.parametrize("style", ["function", "stdio"])
def test_quadratic_solution_times_out_where_the_reference_passes(verifier, style):
    task = next(
        t
        for t in (GENERATOR.generate(seed, 1.0, style=style, input="ints") for seed in range(200))
        if t.meta["quadratic_trap"] in NAIVE_BODIES
    )
    assert task.meta["stress_length"] == 100_000
    good = verifier.verify(task, GENERATOR.solve(task))
    assert good.correct, good
    naive = naive_program(task)
    small = Task.from_dict(
        {**task.to_dict(), "answer": {**task.answer, "tests": unpack_tests(task.answer)[:-1], "packed_tests": None}}
    )
    assert verifier.verify(small, fence(naive)).correct  # right answers on the small tests …
    slow = verifier.verify(task, fence(naive))
    assert not slow.correct and "time limit exceeded" in slow.reason  # … too slow on the stress test


@pytest.mark.parametrize("name", SAMPLES)
def test_benchmark_samples_reference_passes_and_wrong_fails(verifier, name):
    generator = CodeGenerator(dataset=DATA / name)
    for row in range(len(generator.dataset_rows)):
        task = generator.generate(row)
        reference = task.answer["reference"] or LCB_SOLUTIONS[task.meta["task_id"]]
        good = verifier.verify(task, fence(reference))
        assert good.correct, (task.id, good)
        bad = verifier.verify(task, generator.wrong_response(task))
        assert not bad.correct and bad.reward == 0.0, (task.id, bad)


def assert_task(check_code: str, entry_point: str, setup_code: str = "", time_limit_s: float = 3.0) -> Task:
    base = CodeGenerator(dataset=ASSERT_STYLE).generate(0)
    answer = {
        **base.answer,
        "check_code": check_code,
        "entry_point": entry_point,
        "setup_code": setup_code,
        "time_limit_s": time_limit_s,
    }
    return Task.from_dict({**base.to_dict(), "answer": answer})


def test_dict_subclasses_and_numpy_scalars_count_as_their_plain_values(verifier):
    task = assert_task(
        "def check(candidate):\n    assert candidate('abca') == {'a': 2, 'b': 1, 'c': 1}\n"
        "    assert candidate('') == {}\n",
        "histogram",
    )
    solution = (
        "from collections import defaultdict\ndef histogram(text):\n    counts = defaultdict(int)\n"
        "    for char in text:\n        counts[char] += 1\n    return counts\n"
    )
    assert verifier.verify(task, fence(solution)).correct
    function = next(
        t
        for t in (GENERATOR.generate(seed, 0.2, style="function", input="ints") for seed in range(100))
        if t.meta["output_kind"] == "number"
    )
    entry = function.answer["entry_point"]
    program = (
        f"import numpy\n{function.answer['reference']}\n_plain = {entry}\n"
        f"def {entry}(values):\n    return numpy.int64(_plain(values))\n"
    )
    assert verifier.verify(function, fence(program)).correct
    as_array = verifier.verify(
        function, fence(program.replace("numpy.int64(_plain(values))", "numpy.array([_plain(values)])"))
    )
    assert not as_array.correct and "ndarray" in as_array.details["first_failure"]["error"]


def test_classes_of_the_solution_used_by_the_checks(verifier):
    """MBPP-style checks that build objects of a class the solution defines (``Pair``): the
    objects stay in the candidate's process and the checker passes references."""
    task = assert_task(
        "def check(candidate):\n    f = candidate\n"
        "    assert f([Pair(5, 24), Pair(15, 25), Pair(27, 40), Pair(50, 60)], 4) == 3\n"
        "    assert f([Pair(1, 2), Pair(3, 4)], 2) == 2\n",
        "max_chain_length",
    )
    solution = (
        "class Pair:\n    def __init__(self, a, b):\n        self.a, self.b = a, b\n\n"
        "def max_chain_length(pairs, n):\n    count, end = 0, float('-inf')\n"
        "    for p in sorted(pairs, key=lambda p: p.b):\n        if p.a > end:\n"
        "            count, end = count + 1, p.b\n    return count\n"
    )
    assert verifier.verify(task, fence(solution)).correct
    wrong = verifier.verify(task, fence(solution.replace("count + 1", "count + 2")))
    assert not wrong.correct and wrong.details["first_failure"]["got"] == "6"


def unpacked_answer(task):
    return {**task.answer, "tests": unpack_tests(task.answer)}


@pytest.mark.parametrize("style", ["function", "stdio"])
def test_partial_credit_pays_a_program_that_does_nothing_nothing(partial_verifier, style):
    """Red team S5-12: printing nothing or returning a constant passed the edge cases whose
    answer is empty or zero and earned up to 0.22 under partial=True."""
    programs = (
        ["import sys\n", "print(0)\n"]
        if style == "stdio"
        else [f"def {{entry}}(*args):\n    return {value!r}\n" for value in (None, 0, [], "")]
    )
    rewards = []
    for seed in range(8):
        task = GENERATOR.generate(seed, 0.5, style=style)
        for program in programs:
            source = program.format(entry=task.answer.get("entry_point"))
            rewards.append(partial_verifier.verify(task, fence(source)).reward)
    assert max(rewards) == 0.0, rewards


def test_do_nothing_passes_counts_the_best_constant():
    function = {
        "style": "function",
        "tests": [{"args": "(1,)", "expected": e} for e in ("[]", "[]", "0", "None", "[5]")],
    }
    assert do_nothing_passes(function) == 2
    stdio = {"style": "stdio", "tests": [{"input": "", "output": o} for o in ("\n", "", "0\n", "7\n")]}
    assert do_nothing_passes(stdio) == 2
    assert do_nothing_passes({"style": "assert", "tests": []}) == 0


def test_partial_credit_pays_the_value_most_tests_expect_nothing(partial_verifier):
    """Red team S7-2b: a program returning (printing) the value most of a task's tests expect,
    which the prompt's examples show, earned 0.85-0.93 on some synthetic tasks under partial=True."""
    function = {"style": "function", "tests": [{"args": "(1,)", "expected": e} for e in ["1"] * 14 + ["31"]]}
    assert do_nothing_passes(function) == 14
    stdio = {"style": "stdio", "tests": [{"input": "", "output": o} for o in ["5\n"] * 7 + ["3\n"]]}
    assert do_nothing_passes(stdio) == 7
    rewards = []
    for difficulty, seed in ((0.25, 10), (0.25, 14), (0.25, 15), (0.75, 10), (0.75, 11), (0.75, 14)):
        task = rlvr.make_task("Code-v0", seed=seed, difficulty=difficulty)
        if task.answer["style"] == "function":
            shown = re.findall(r"^\s+\w+\(.*\) returns (.+)$", task.prompt, re.M)
            value = collections.Counter(shown).most_common(1)[0][0]
            source = f"def {task.answer['entry_point']}(*args, **kwargs):\n    return {value}\n"
        else:
            shown = re.findall(r"Output:\n```text\n(.*?)\n```", task.prompt, re.S)
            value = collections.Counter(shown).most_common(1)[0][0]
            source = f"import sys\nsys.stdin.read()\nprint({value!r})\n"
        verdict = partial_verifier.verify(task, fence(source))
        assert verdict.details["passed"] > verdict.details["total"] // 2  # the constant does pass most tests
        rewards.append(verdict.reward)
    assert max(rewards) == 0.0, rewards


def test_partial_credit_counts_tests_and_checks(verifier, partial_verifier):
    task = GENERATOR.generate(3, 0.5, style="function", input="ints")
    entry = task.answer["entry_point"]
    keep = {
        hashlib.sha256(t["args"].encode()).hexdigest(): parse_literal(t["expected"])
        for i, t in enumerate(unpack_tests(task.answer))
        if i > 0 and len(t["expected"]) < 2000
    }
    program = (
        f"import hashlib\nANSWERS = {keep!r}\ndef {entry}(values):\n"
        "    return ANSWERS.get(hashlib.sha256(repr((values,)).encode()).hexdigest(), 'no')\n"
    )
    verdict = partial_verifier.verify(task, fence(program))
    total = len(unpack_tests(task.answer))
    assert verdict.details["total"] == total and verdict.details["tests_run"] == total
    floor = do_nothing_passes(unpacked_answer(task))
    assert verdict.details["do_nothing_passes"] == floor < verdict.details["passed"]
    expected = (verdict.details["passed"] - floor) / (total - floor)
    assert verdict.reward == pytest.approx(expected) and 0 < verdict.reward < 1
    assert not verdict.correct
    assert verifier.verify(task, fence(program)).reward == 0.0
    checks = assert_task(SQUARE_CHECKS, "square")
    verdict = partial_verifier.verify(checks, fence("def square(x):\n    return x * x if x < 4 else -x\n"))
    # 0 and 1 are do-nothing answers (uncounted); of 4, 9, 16, 25 one constant passes one (p0 = 1)
    assert (verdict.details["passed"], verdict.details["total"]) == (4, 6)
    assert verdict.details["do_nothing"]["passable"] == "000011"
    assert verdict.reward == pytest.approx((2 - 1) / (4 - 1))
    verdict = partial_verifier.verify(checks, fence("def square(x):\n    return x * x if 1 < x < 4 else -1\n"))
    assert verdict.details["passed"] == 2 and verdict.reward == pytest.approx((2 - 1) / (4 - 1 + 2))


SQUARE_CHECKS = (
    "def check(candidate):\n    assert candidate(2) == 4\n    assert candidate(3) == 9\n"
    "    assert candidate(4) == 16\n    assert candidate(5) == 25\n    assert candidate(1) == 1\n"
    "    assert candidate(0) == 0\n"
)


def test_assert_checks_are_counted_up_to_the_first_failure(verifier, partial_verifier):
    """Stopping at the first failure, the checker sends passed checks' reports with its next
    message: the host still sees each, in order, and the failed one where it is (per failing
    check, a check doing its own work between calls, a failure raised outside an assert)."""
    checks = SQUARE_CHECKS.replace("    assert candidate(4)", "    sum(range(200000))\n    assert candidate(4)")
    task = assert_task(checks, "square")
    for wrong in (2, 3, 4, 5, 1, 0):
        solution = fence(f"def square(x):\n    return -1 if x == {wrong} else x * x\n")
        verdict = verifier.verify(task, solution)
        index = [2, 3, 4, 5, 1, 0].index(wrong)
        assert verdict.details["passed"] == index and verdict.details["first_failure_index"] == index, verdict
        assert verdict.details["outcomes"] == "1" * index + "0" and f"failed check {index + 1} of 6" in verdict.reason
        assert verdict.details["first_failure"]["got"] == "-1"
        full = partial_verifier.verify(task, solution)
        assert full.details["outcomes"] == "".join("0" if n == index else "1" for n in range(6)), full
    raising = verifier.verify(
        task, fence("def square(x):\n    if x == 5:\n        raise KeyError(x)\n    return x * x\n")
    )
    assert raising.details["outcomes"] == "1110" and raising.details["first_failure"]["input"] == "candidate(5)"
    assert verifier.verify(task, fence("def square(x):\n    return x * x\n")).details["outcomes"] == "1" * 6


def test_a_kept_check_runs_in_a_fresh_namespace_each_time(verifier, partial_verifier):
    """A checker keeps recent problems' compiled check code, never their module state: a check
    that counts its own runs in a global sees one run every time, with partial credit's
    do-nothing runs of the same code in between too."""
    counting = assert_task(
        "runs = []\ndef check(candidate):\n    runs.append(1)\n    assert len(runs) == 1\n"
        "    assert candidate(2) == 4\n    assert candidate(3) == 9\n",
        "square",
    )
    other = assert_task(SQUARE_CHECKS, "square")
    half = fence("def square(x):\n    return 4 if x == 2 else 0\n")
    for _ in range(3):
        for task in (counting, other, counting):
            assert verifier.verify(task, fence("def square(x):\n    return x * x\n")).correct
        verdict = partial_verifier.verify(counting, half)
        assert verdict.details["outcomes"] == "110" and not verdict.correct, verdict


def test_assert_partial_reward_counts_checks_no_do_nothing_answer_passes():
    known = {"passable": "0000110", "compared": ["1100000", "0010000", "0001000"]}
    # counted: checks 0-3 and 6; p0 = 2 (one value is compared by checks 0 and 1)
    assert assert_partial_reward("1100110", 7, known) == 0.0  # what one constant passes
    assert assert_partial_reward("1110110", 7, known) == pytest.approx(1 / 3)
    assert assert_partial_reward("1110100", 7, known) == pytest.approx(1 / 4)  # a failed uncounted check costs
    assert assert_partial_reward("1111101", 7, known) == pytest.approx(3 / 4)  # < 1 though every counted passed
    assert assert_partial_reward("111", 7, known) == pytest.approx(0.2)  # checks not run failed
    assert assert_partial_reward("1111111", 7, known, first=4) == pytest.approx(1.0)  # correct: never asked
    assert assert_partial_reward("0000001", 7, known, first=4) == pytest.approx(1 / 3)  # held-out side only
    for broken in (None, {}, {"passable": "0000", "compared": []}, {**known, "compared": ["1"]}, "0000110"):
        assert assert_partial_reward("1111101", 7, broken) == 0.0
    assert assert_partial_reward("1111111", 7, {"passable": "1111111", "compared": []}) == 0.0  # none counts


def test_assert_do_nothing_outcomes_are_kept_per_task_and_never_reach_the_host(partial_verifier, monkeypatch):
    task = assert_task(SQUARE_CHECKS.replace("candidate(5) == 25", "candidate(6) == 36"), "square")
    half = fence("def square(x):\n    return x * x if x < 4 else 7\n")
    first = partial_verifier.verify(task, half)
    assert 0 < first.reward < 1 and first.details["do_nothing"]["passable"] == "000011"
    calls = []
    monkeypatch.setattr(partial_verifier, "_run_do_nothing", lambda *args: calls.append(args))
    again = partial_verifier.verify(task, half)  # the outcomes were kept: no do-nothing run
    assert calls == [] and again.reward == first.reward and again.details["do_nothing"] == first.details["do_nothing"]
    assert partial_verifier.verify(task, fence("def square(x):\n    return x * x\n")).reward == 1.0


def test_assert_partial_credit_without_do_nothing_outcomes_is_zero_within_the_deadline(partial_verifier):
    """A check that never ends against a do-nothing answer (``None != 0`` loops) leaves the
    outcomes unknown: no partial credit, nothing kept, the deadline kept."""
    task = assert_task(
        "def check(candidate):\n    assert candidate(2) == 4\n    while candidate(0) != 0:\n        pass\n"
        "    assert candidate(3) == 9\n",
        "square",
        time_limit_s=1.0,
    )
    started = time.monotonic()
    verdict = partial_verifier.verify(task, fence("def square(x):\n    return x * x if x != 3 else 0\n"))
    assert time.monotonic() - started < partial_verifier.deadline_for(task) + SLACK_S
    assert verdict.details["passed"] == 1 and verdict.reward == 0.0 and verdict.details["do_nothing"] is None
    assert "no partial credit" in verdict.reason
    assert_no_leftovers(partial_verifier)


# the red team's S7-2 constants, and others a policy reading the docstring would try
HUMANEVAL_CONSTANTS = ("None", "0", "1", "True", "False", "[]", "''", "-1", "2", "'No'", "args[0]")
HALF_RIGHT = """{reference}

import hashlib as _hash
_reference = {entry}


def {entry}(*args, **kwargs):
    if int(_hash.sha256(repr(args).encode()).hexdigest(), 16) % 2:
        return _reference(*args, **kwargs)
    return "wrong"
"""


@needs_humaneval
def test_humaneval_partial_credit_pays_no_constant_and_pays_half_right_programs(partial_verifier):
    """Red team S7-2: under partial=True a constant program earned 0.23 on average over the 164
    HumanEval rows (the best constant per row), up to 0.78, since every check it passed was
    paid. Canonical solutions still score 1 and a program right on about half the inputs earns
    credit between 0 and 1."""
    generator = CodeGenerator(dataset=HUMANEVAL)
    best, half = [], []
    with ThreadPoolExecutor(2) as pool:  # two sandbox runs at once: the verifier is thread-safe
        for row in range(164):
            task = generator.generate(row)
            entry, reference = task.answer["entry_point"], task.answer["reference"]
            constants = [
                fence(f"def {entry}(*args, **kwargs):\n    return {constant}\n") for constant in HUMANEVAL_CONSTANTS
            ]
            programs = [generator.solve(task), fence(HALF_RIGHT.format(reference=reference, entry=entry)), *constants]
            solved, halfway, *rewards = [
                v.reward for v in pool.map(lambda p: partial_verifier.verify(task, p), programs)
            ]
            assert solved == 1.0, task.meta["task_id"]
            best.append(max(rewards))
            half.append(halfway)
    assert sum(best) / len(best) <= 0.02 and max(best) < 0.5, (sum(best) / len(best), max(best))
    assert sum(0 < reward < 1 for reward in half) >= 50 and 0.1 < sum(half) / len(half) < 0.9


def test_details_name_the_first_failure(verifier):
    task = GENERATOR.generate(4, 0.3, style="function", input="ints")
    entry = task.answer["entry_point"]
    verdict = verifier.verify(task, fence(f"def {entry}(values):\n    raise ValueError('boom')\n"))
    failure = verdict.details["first_failure"]
    assert "runtime error (ValueError)" in verdict.reason and "boom" in failure["error"]
    assert failure["input"].startswith(f"{entry}(") and failure["expected"]
    assert set(verdict.details["timings"]) >= {"startup_s", "tests_s", "total_s", "slowest_test_s"}
    broken = verifier.verify(task, fence("def broken(:\n"))
    assert broken.reward == 0 and "does not compile" in broken.reason and broken.format_ok
    stdio = GENERATOR.generate(4, 0.3, style="stdio", input="ints")
    verdict = verifier.verify(stdio, fence("print(1 / 0)\n"))
    assert "runtime error (exit status 1)" in verdict.reason
    assert "ZeroDivisionError" in verdict.details["first_failure"]["error"]


# --------------------------------------------------------------------------------------------
# Hostile programs
# --------------------------------------------------------------------------------------------

FAST = {"time_limit_s": 1.0}


def fast_task(style: str) -> Task:
    return GENERATOR.generate(5, 0.3, style=style, input="ints", **FAST)


def attack_verdict(v: CodeVerifier, task: Task, program: str):
    started = time.monotonic()
    verdict = v.verify(task, fence(program))
    elapsed = time.monotonic() - started
    assert verdict.reward == 0.0 and not verdict.correct, verdict
    assert elapsed < v.deadline_for(task) + SLACK_S
    assert_no_leftovers(v)
    return verdict


ENTRY = "process_numbers"
FUNCTION_ATTACKS = {
    "fork bomb at load": "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
    "fork bomb in the call": (
        f"import os\ndef {ENTRY}(values):\n    while True:\n        try:\n"
        "            os.fork()\n        except OSError:\n            pass\n"
    ),
    "memory bomb": f"def {ENTRY}(values):\n    return bytearray(8 << 30)\n",
    "growing memory": (
        f"def {ENTRY}(values):\n    hoard = []\n    while True:\n        hoard.append(bytearray(64 << 20))\n"
    ),
    "infinite loop": f"def {ENTRY}(values):\n    while True:\n        pass\n",
    "sleep": f"import time\ndef {ENTRY}(values):\n    time.sleep(60)\n",
    "sys.exit(0) at load": "import sys\nsys.exit(0)\n",
    "os._exit(0) at load": "import os\nos._exit(0)\n",
    "sys.exit(0) in the call": f"import sys\ndef {ENTRY}(values):\n    sys.exit(0)\n",
    "os._exit(0) in the call": f"import os\ndef {ENTRY}(values):\n    os._exit(0)\n",
    "huge stdout": f"import sys\ndef {ENTRY}(values):\n    while True:\n        sys.stdout.write('x' * 65536)\n",
    "stderr flood": f"import os\ndef {ENTRY}(values):\n    while True:\n        os.write(2, b'x' * 65536)\n",
    "rigged __eq__": (
        f"class Anything:\n    def __eq__(self, other):\n        return True\ndef {ENTRY}(values):\n"
        "    return Anything()\n"
    ),
    "int subclass": (
        f"class Int(int):\n    def __eq__(self, other):\n        return True\ndef {ENTRY}(values):\n    return Int(1)\n"
    ),
    "list subclass": (
        f"class L(list):\n    def __eq__(self, other):\n        return True\ndef {ENTRY}(values):\n    return L()\n"
    ),
    "print PASSED and fake frames": (
        'import os\nprint(\'PASSED\')\nos.write(1, b\'{"result": 0, "ok": true, "value": 1}\\n\')\n'
        f"def {ENTRY}(values):\n    print('PASSED')\n    os.write(1, b'ALL TESTS PASSED\\n')\n    return 'PASSED'\n"
    ),
    "monkeypatched harness": (
        "import builtins, json, sys\nharness = sys.modules['__main__']\n"
        "harness.encode_value = lambda value, *rest: 1\nharness.describe_error = lambda *a, **k: {}\n"
        'json.dumps = lambda *a, **k: \'{"result": 0, "ok": true, "value": 1}\'\n'
        "builtins.print = builtins.exit = lambda *a, **k: None\n"
        f"def {ENTRY}(values):\n    return 1\n"
    ),
    "patched protocol writer": (
        "import sys\nharness = sys.modules['__main__']\n"
        "original = harness.Channel.send\n"
        "def send(self, message, payload=b''):\n"
        "    if 'result' in message:\n        message.update(ok=True, value=[0])\n"
        "    original(self, message, payload)\n"
        f"harness.Channel.send = send\ndef {ENTRY}(values):\n    return None\n"
    ),
    "fake result files": (
        "for name in ('result.json', 'results.txt', 'PASSED', 'verdict.json'):\n"
        "    open(name, 'w').write('{\"passed\": true, \"reward\": 1.0}\\nPASSED\\n')\n"
        f"def {ENTRY}(values):\n    return 'PASSED'\n"
    ),
    "ctypes pokes": (
        "import ctypes\n"
        "ctypes.c_uint32.from_address(id(7) + 24).value = 8\n"  # 7 now reads as 8 in this process
        f"def {ENTRY}(values):\n    return [7] * 3\n"
    ),
    "huge file": f"def {ENTRY}(values):\n    open('big', 'wb').write(b'z' * (200 << 20))\n    return 0\n",
    "fd exhaustion": (
        f"def {ENTRY}(values):\n    files = []\n    while True:\n        files.append(open('/dev/null'))\n"
    ),
    "kill the parent": (
        f"import os\ndef {ENTRY}(values):\n    os.kill(os.getppid(), 9)\n    os.kill(1, 9)\n    return 'killed'\n"
    ),
    "kill everything": f"import os\ndef {ENTRY}(values):\n    os.kill(-1, 9)\n    return 'killed'\n",
    "background process": (
        "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
        "        while True:\n            time.sleep(0.05)\n    os._exit(0)\n"
        f"def {ENTRY}(values):\n    return None\n"
    ),
    "oversized result": f"def {ENTRY}(values):\n    return 'x' * (40 << 20)\n",
    "deeply nested result": (
        f"def {ENTRY}(values):\n    nested = []\n    for _ in range(100000):\n"
        "        nested = [nested]\n    return nested\n"
    ),
    "self-referencing result": f"def {ENTRY}(values):\n    loop = []\n    loop.append(loop)\n    return loop\n",
}


@needs_bwrap
@pytest.mark.parametrize("name", sorted(FUNCTION_ATTACKS))
def test_function_style_attacks_score_zero(verifier, name):
    attack_verdict(verifier, fast_task("function"), FUNCTION_ATTACKS[name])


STDIO_ATTACKS = {
    "fork bomb": "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
    "infinite loop": "while True:\n    pass\n",
    "sleep": "import time\ntime.sleep(60)\n",
    "huge stdout": "import sys\nwhile True:\n    sys.stdout.write('y' * 65536)\n",
    "print PASSED": "print('PASSED')\nprint('All tests passed')\n",
    "exit before reading": "import sys\nsys.exit(0)\n",
    "kill the runner": "import os\nos.kill(os.getppid(), 9)\n",
    "kill everything": "import os\nos.kill(-1, 9)\nprint(0)\n",
    "background process": (
        "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
        "        while True:\n            time.sleep(0.05)\n    os._exit(0)\nprint(0)\n"
    ),
    "write the runner's memory": (
        "import os\nparent = os.getppid()\nfd = os.open(f'/proc/{parent}/mem', os.O_RDWR)\nprint('opened', fd)\n"
    ),
}


@needs_bwrap
@pytest.mark.parametrize("name", sorted(STDIO_ATTACKS))
def test_stdio_style_attacks_score_zero(verifier, name):
    verdict = attack_verdict(verifier, fast_task("stdio"), STDIO_ATTACKS[name])
    if name == "write the runner's memory":
        error = verdict.details["first_failure"]["error"]  # the runner is not dumpable: refused, or
        assert "PermissionError" in error or "FileNotFoundError" in error  # not even listed (warm: hidepid)


@needs_bwrap
def test_network_files_and_host_are_out_of_reach(verifier, tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    marker = f"rlvr-code-{uuid.uuid4().hex}"
    witness = subprocess.Popen(["sleep", "60"])
    program = (
        "import os, socket\n"
        f"def {ENTRY}(values):\n"
        "    out = {}\n"
        f"    for address in (('1.1.1.1', 53), ('127.0.0.1', {port})):\n"
        "        s = socket.socket(); s.settimeout(1)\n"
        "        try:\n            s.connect(address); out[address[0]] = 'CONNECTED'\n"
        "        except OSError as e:\n            out[address[0]] = e.errno\n"
        f"    for path in ('/etc/shadow', '/root/.bashrc', '{Path.cwd() / 'pyproject.toml'}', '{secret}', '/home'):\n"
        "        try:\n            out[path] = os.listdir(path) if os.path.isdir(path) else open(path).read()[:50]\n"
        "        except OSError as e:\n            out[path] = e.errno\n"
        f"    for path in ('/tmp/{marker}', '{tmp_path / marker}', '{Path.cwd() / marker}', '/usr/{marker}'):\n"
        "        try:\n            open(path, 'w').write('x'); out[path] = 'WROTE'\n"
        "        except OSError as e:\n            out[path] = e.errno\n"
        f"    for pid in (1, {witness.pid}, {os.getpid()}):\n"
        "        try:\n            os.kill(pid, 9); out[pid] = 'SENT'\n"
        "        except OSError as e:\n            out[pid] = e.errno\n"
        "    return out\n"
    )
    try:
        verdict = attack_verdict(verifier, fast_task("function"), program)
        got = verdict.details["first_failure"]["got"]
        assert "CONNECTED" not in got and "SECRET" not in got and "[project]" not in got
        with pytest.raises(BlockingIOError):
            listener.accept()
        assert witness.poll() is None
        assert not any(p.exists() for p in (Path("/tmp") / marker, tmp_path / marker, Path.cwd() / marker))
    finally:
        listener.close()
        witness.kill()
        witness.wait()


@needs_bwrap
def test_expected_values_never_reach_the_candidate(verifier):
    """Function style: the expected value is a unique string; a program that searches every
    file, process and its own memory for it finds nothing (else it would return it and pass)."""
    token = f"RLVR-EXPECTED-{uuid.uuid4().hex}"
    task = GENERATOR.generate(5, 0.3, style="function", input="ints")
    answer = {**task.answer, "tests": [{"args": "([1, 2],)", "expected": repr(token)}]}
    task = Task.from_dict({**task.to_dict(), "answer": answer})
    program = (
        SEARCH_PROGRAM.format(pattern="RLVR-EXPECTED-[0-9a-f]{32}") + f"def {ENTRY}(values):\n    return search()\n"
    )
    verdict = verifier.verify(task, fence(program))
    assert not verdict.correct and verdict.details["first_failure"]["got"] == "'not found'"
    # the search works: where the token is reachable (in the setup code it runs), it is found and passes
    planted = Task.from_dict({**task.to_dict(), "answer": {**answer, "setup_code": f"# {token}\n"}})
    assert verifier.verify(planted, fence(program)).correct


@needs_bwrap
def test_expected_output_never_reaches_the_stdio_program(verifier):
    """Stdio style: the runner never holds expected outputs; a program that searches the
    environment, argv, descriptors, files, every process's memory (the runner's included) and
    its own objects finds nothing."""
    token = f"RLVR-EXPECTED-{uuid.uuid4().hex}"
    task = fast_task("stdio")
    answer = {**task.answer, "tests": [{"input": "2\n1 2\n", "output": f"{token}\n"}]}
    task = Task.from_dict({**task.to_dict(), "answer": answer})
    program = SEARCH_PROGRAM.format(pattern="RLVR-EXPECTED-[0-9a-f]{32}") + "print(search())\n"
    verdict = verifier.verify(task, fence(program))
    assert not verdict.correct and verdict.details["first_failure"]["got"] == "not found\n"
    planted = Task.from_dict({**task.to_dict(), "answer": {**answer, "setup_code": f"# {token}\n"}})
    assert verifier.verify(planted, fence(program)).correct  # the search finds what is reachable


@needs_bwrap
def test_check_code_never_reaches_the_candidate(verifier):
    """Assert style: the check code (and its expected value) live only in the checker's sandbox."""
    token = f"RLVR-CHECK-{uuid.uuid4().hex}"
    task = assert_task(f"def check(candidate):\n    # {token}\n    assert candidate(1) == 'not found'\n", "probe")
    program = SEARCH_PROGRAM.format(pattern="RLVR-CHECK-[0-9a-f]{32}") + "def probe(x):\n    return search()\n"
    verdict = verifier.verify(task, fence(program))
    assert verdict.correct, verdict.details  # returning 'not found' passes: nothing leaked


SEARCH_PROGRAM = r"""
import gc, os, re, sys
PATTERN = re.compile("{pattern}".encode())
def memory(pid):
    try:
        maps = open(f"/proc/{{pid}}/maps").read().splitlines()
        mem = open(f"/proc/{{pid}}/mem", "rb", 0)
    except OSError:
        return
    for line in maps:
        start, end = (int(x, 16) for x in line.split()[0].split("-"))
        if "r" in line.split()[1] and end - start < (256 << 20):
            try:
                mem.seek(start)
                yield mem.read(end - start)
            except (OSError, ValueError, OverflowError):
                continue
def everything():
    yield "\0".join(f"{{k}}={{v}}" for k, v in os.environ.items()).encode()
    yield "\0".join(sys.argv).encode()
    for fd in range(256):  # inherited descriptors: pipes, sockets, files
        try:
            yield os.pread(fd, 1 << 20, 0)
        except OSError:
            pass
    for root in ("/work", "/tmp", "/dev/shm", "/run", "/var/tmp"):
        for folder, _, names in os.walk(root):
            for name in names:
                try:
                    yield open(os.path.join(folder, name), "rb").read()
                except OSError:
                    continue
    for pid in [str(os.getppid())] + [p for p in os.listdir("/proc") if p.isdigit()]:
        for leaf in ("cmdline", "environ"):
            try:
                yield open(f"/proc/{{pid}}/{{leaf}}", "rb").read()
            except OSError:
                continue
        try:
            descriptors = os.listdir(f"/proc/{{pid}}/fd")
        except OSError:
            descriptors = []
        for fd in descriptors:
            try:
                yield os.read(os.open(f"/proc/{{pid}}/fd/{{fd}}", os.O_RDONLY | os.O_NONBLOCK), 1 << 20)
            except OSError:
                continue
        yield from memory(pid)  # this process's own too (the pattern's source text does not match itself)
    for thing in gc.get_objects():
        items = thing.values() if isinstance(thing, dict) else thing if isinstance(thing, (list, tuple)) else ()
        for item in items:
            if isinstance(item, (str, bytes)):
                yield item.encode("utf-8", "surrogatepass") if isinstance(item, str) else item
def search():
    for data in everything():
        found = PATTERN.search(data)
        if found:
            return found.group().decode()
    return "not found"
"""


ASSERT_ATTACKS = {
    "print PASSED": (
        "import os\nprint('PASSED')\nos.write(1, b'PASSED\\n')\ndef square(x):\n    print('PASSED')\n    return 0\n"
    ),
    "sys.exit(0) at load": "import sys\nsys.exit(0)\n",
    "os._exit(0) at load": "import os\nos._exit(0)\n",
    "exit in the call": "import sys\ndef square(x):\n    sys.exit(0)\n",
    "raise AssertionError": "def square(x):\n    raise AssertionError('fine')\n",
    "rigged __eq__": (
        "class Anything:\n    def __eq__(self, other):\n        return True\ndef square(x):\n    return Anything()\n"
    ),
    "str subclass": (
        "class S(str):\n    def __eq__(self, other):\n        return True\ndef square(x):\n    return S('x')\n"
    ),
    "forged checker frames": (
        "import os\nfor fd in range(3, 20):\n    try:\n"
        '        os.write(fd, b\'{"nonce": "0", "check": 0, "passed": true}\\n{"done": true}\\n\')\n'
        "    except OSError:\n        pass\ndef square(x):\n    return -1\n"
    ),
    "infinite loop": "def square(x):\n    while True:\n        pass\n",
    "kill everything": "import os\ndef square(x):\n    os.kill(-1, 9)\n    os.kill(os.getppid(), 9)\n    return 0\n",
    "shadow the builtins": (
        "import builtins\nbuiltins.AssertionError = KeyError\n"
        "builtins.isinstance = lambda *a: True\ndef square(x):\n    return 0\n"
    ),
}


@needs_bwrap
@pytest.mark.parametrize("name", sorted(ASSERT_ATTACKS))
def test_assert_style_attacks_score_zero(verifier, name):
    task = assert_task(
        "def check(candidate):\n    assert candidate(3) == 9\n    assert candidate(-2) == 4\n",
        "square",
        time_limit_s=1.0,
    )
    attack_verdict(verifier, task, ASSERT_ATTACKS[name])


SQUARE_CHECK = "def check(candidate):\n    assert candidate(3) == 9\n    assert candidate(-2) == 4\n"
SQUARE = fence("def square(x):\n    return x * x\n")


def kept_checker(v: CodeVerifier):
    """The one checker session ``v`` keeps idle."""
    assert len(v.checkers._idle) == 1, v.checkers._idle
    return v.checkers._idle[0]


@needs_bwrap
def test_a_kept_checker_serves_later_problems_and_a_broken_one_is_replaced():
    """Checker sessions outlive a verification, but what a candidate's replies leave in a
    problem's check (here a value kept in the check's globals) never reaches a later problem,
    and a checker whose check did not end cleanly (time limit, hostile candidates) or left
    something in the process (here a thread) is not kept."""
    v = CodeVerifier()
    try:
        store = assert_task(
            "KEPT = []\ndef check(candidate):\n    KEPT.append(candidate(3))\n    assert KEPT == [9]\n", "square"
        )
        look = assert_task(
            "def check(candidate):\n    assert 'KEPT' not in globals()\n    assert candidate(-2) == 4\n", "square"
        )
        assert v.verify(store, SQUARE).correct
        checker = kept_checker(v)
        assert v.verify(look, SQUARE).correct  # the same checker session, a fresh namespace
        assert kept_checker(v) is checker
        assert v.verify(store, SQUARE).correct
        unloadable = v.verify(look, fence("def square(x):\n    return x *\n"))
        assert unloadable.reward == 0.0 and "does not compile" in unloadable.reason
        assert kept_checker(v) is checker  # the check was ended early, cleanly
        square = assert_task(SQUARE_CHECK, "square", time_limit_s=1.0)
        for name in ("infinite loop", "kill everything", "forged checker frames", "shadow the builtins"):
            assert v.verify(square, fence(ASSERT_ATTACKS[name])).reward == 0.0, name
            assert v.verify(square, SQUARE).correct, name
            assert v.verify(square, fence("def square(x):\n    return x * 3\n")).reward == 0.0, name
        assert v.verify(square, fence(ASSERT_ATTACKS["infinite loop"])).reward == 0.0
        assert checker not in v.checkers._idle  # the check overran: that checker was closed
        assert v.verify(look, SQUARE).correct
        threaded = assert_task(
            "import threading, time\ndef check(candidate):\n"
            "    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
            "    assert candidate(3) == 9\n",
            "square",
        )
        checker = kept_checker(v)
        assert v.verify(threaded, SQUARE).correct
        assert v.verify(look, SQUARE).correct
        assert kept_checker(v) is not checker and not checker.alive  # it ended rather than keep the thread
    finally:
        v.close()
    assert_no_leftovers(v)


@needs_bwrap
def test_a_checker_near_the_end_of_its_life_is_replaced(monkeypatch):
    monkeypatch.setattr(code_verifier_module, "CHECKER_LIFETIME_S", 4.0)  # shorter than one verification's deadline
    v = CodeVerifier()
    try:
        square = assert_task(SQUARE_CHECK, "square")
        assert v.verify(square, SQUARE).correct
        first = kept_checker(v)
        assert v.verify(square, SQUARE).correct
        assert kept_checker(v) is not first and not first.alive
    finally:
        v.close()


@needs_bwrap
def test_a_forked_process_leaves_the_parents_checkers_alone():
    v = CodeVerifier()
    try:
        square = assert_task(SQUARE_CHECK, "square")
        assert v.verify(square, SQUARE).correct
        checker = kept_checker(v)
        pid = os.fork()
        if pid == 0:  # the child neither uses nor closes the parent's sessions
            os._exit(0 if v.checkers._idle == [] and v.closer._thread is None else 1)
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
        assert v.verify(square, SQUARE).correct
        assert kept_checker(v) is checker
    finally:
        v.close()


# --------------------------------------------------------------------------------------------
# Reading results back: bounded and linear whatever the candidate sends
# --------------------------------------------------------------------------------------------

MERSENNE_61 = (1 << 61) - 1  # every multiple of it hashes to 0: a set of them is quadratic to build


def colliding_set(count: int) -> dict:
    return {"$set": [{"$int": hex(MERSENNE_61 * k)} for k in range(1, count + 1)]}


def test_reader_is_linear_on_keys_chosen_to_collide():
    forms = [
        colliding_set(200_000),
        {"$dict": [[{"$int": hex(MERSENNE_61 * k)}, k] for k in range(1, 100_001)]},
        {"$set": [{"$frozenset": [{"$int": hex(MERSENNE_61 * k)}, k]} for k in range(1, 50_001)]},
        {"$set": [{"$tuple": [{"$int": hex(MERSENNE_61 * k)}] * 4} for k in range(1, 50_001)]},
    ]
    for form in forms:
        started = time.monotonic()
        value = ResultReader().read(form)
        assert not values_match({1, 2}, value) and not values_match({1: 2}, value)
        assert len(short_repr(value)) <= 501
        assert time.monotonic() - started < 5.0, list(form)[0]  # building the set itself takes minutes


def random_value(rng, depth: int = 0):
    """Plain values without lists (Python compares list and tuple unequal; values_match does not)."""
    leaves = [
        lambda: rng.choice([0, 1, 2, -1, 2**70, MERSENNE_61]),
        lambda: rng.choice([0.0, 1.0, 2.0, -0.0, 0.5]),
        lambda: rng.choice([True, False, None]),
        lambda: rng.choice(["", "a", "b"]),
        lambda: rng.choice([b"", b"a"]),
        lambda: rng.choice([1 + 0j, 2j, complex(1, 1)]),
    ]
    hashables = [
        lambda: tuple(random_value(rng, depth + 1) for _ in range(rng.randint(0, 2))),
        lambda: frozenset(random_hashable(rng, depth + 1) for _ in range(rng.randint(0, 3))),
    ]
    containers = hashables + [
        lambda: {random_hashable(rng, depth + 1) for _ in range(rng.randint(0, 3))},
        lambda: {random_hashable(rng, depth + 1): random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))},
    ]
    pool = leaves + (containers if depth < 3 else [])
    return rng.choice(pool)()


def random_hashable(rng, depth: int):
    value = random_value(rng, depth)
    try:
        hash(value)
    except TypeError:
        return rng.choice([0, "a", (1, 2), frozenset({1})])
    return value


def test_reader_and_comparison_agree_with_python_equality():
    import random

    rng = random.Random(7)
    read = ResultReader().read
    agreed = equal = 0
    for _ in range(3000):
        a = random_value(rng)
        b = random_value(rng) if rng.random() < 0.5 else a
        got = read(json.loads(json.dumps(encode_value(b))))
        assert values_match(a, got) == (a == b), (a, b)
        agreed += 1
        equal += a == b
    assert agreed == 3000 and 1000 < equal < 2500
    # what Python collapses in a set or a dict collapses here too
    assert values_match({1, (1, 2)}, read({"$set": [1, 1.0, True, {"$tuple": [1, 2]}, {"$tuple": [1.0, 2]}]}))
    assert not values_match({1, (1, 2), 3}, read({"$set": [1, {"$tuple": [1, 2]}, {"$tuple": [1, 2]}]}))
    assert values_match({"a": 2, 1: "y"}, read({"$dict": [["a", 1], ["a", 2], [1, "x"], [1.0, "y"]]}))
    assert not values_match({"a": 1, 1: "y"}, read({"$dict": [["a", 1], ["a", 2], [1, "y"]]}))
    assert values_match({frozenset({1, 2}): 3}, read({"$dict": [[{"$frozenset": [2, 1]}, 3]]}))
    assert values_match({"k": [0.1 + 0.2]}, read({"$dict": [["k", [0.3]]]}), 1e-9)


def test_reader_refuses_what_is_malformed_too_deep_too_big_or_too_late():
    read = ResultReader().read
    for bad in (
        {"$set": [[1]]},
        {"$set": [{"$set": [1]}]},
        {"$dict": [[[1], 2]]},
        {"$dict": [[{"$dict": []}, 2]]},
        {"$dict": [[1]]},
        {"$tuple": 1},
        {"$int": 5},
        {"$float": "1.0"},
        {"$bytes": "!!"},
        {"$ref": 0},
        {"$object": ["X", []]},
        {"a": 1},
        float("nan"),
        {"$complex": [{"$int": "0x" + "f" * 400}, 0]},
        {"$int": "0x" + "f" * 20_000},
    ):
        with pytest.raises(CodecError):
            read(bad)
    nested = 0
    for _ in range(150):
        nested = [nested]
    with pytest.raises(CodecError, match="nested"):
        read(nested)
    assert values_match(2**60000, read({"$int": hex(2**60000)}))
    with pytest.raises(CodecError, match="deadline"):
        ResultReader(deadline=time.monotonic() - 1).read(list(range(100_000)))


def test_shown_values_are_bounded_whatever_their_size():
    deep = []
    for _ in range(100_000):
        deep = [deep]
    for value in (
        deep,
        10**100_000,
        "x" * 10_000_000,
        list(range(1_000_000)),
        {i: i for i in range(100_000)},
        ResultReader().read(colliding_set(100_000)),
    ):
        started = time.monotonic()
        shown = short_repr(value)
        assert len(shown) <= 501 and time.monotonic() - started < 0.5
    assert short_repr([1, (2,), {3}, frozenset(), {"a": b"b"}]) == "[1, (2,), {3}, frozenset(), {'a': b'b'}]"


def test_stdout_comparison_is_linear_in_the_programs_output():
    for got in ("1\n" * (4 << 20), "1 " * (4 << 20), "1" * (8 << 20), "\n" * (8 << 20) + "2", " \r\n" * (2 << 20)):
        started = time.monotonic()
        assert not stdout_matches("1\n", got, 1e-6)
        assert time.monotonic() - started < 1.0
    assert stdout_matches("1\n2\n", "1\n2" + " \n" * 1000)
    assert not stdout_matches("10\n", "1_0\n", 1e-6)  # float() would read 1_0 as 10


@needs_bwrap
def test_forged_colliding_replies_finish_within_the_deadline_with_reward_zero(verifier):
    """The red team's exploit: the candidate replaces the harness's reply writer and sends a set
    of 200,000 integers that all hash alike.  A host that builds the set (the old verifier) spends
    minutes on it; now it is refused unread or read in linear time."""
    attacks = dict(GENERATOR.attacks(fast_task("function")))
    small = fast_task("function")  # small expected values: the 6 MB reply is refused by size
    big = Task.from_dict(
        {
            **small.to_dict(),
            "answer": {  # a large expected value: the reply is read
                **small.answer,
                "tests": [{"args": "([1, 2],)", "expected": repr(list(range(200_000)))}],
            },
        }
    )
    assert_style = CodeGenerator(dataset=ASSERT_STYLE).generate(0)  # relayed to the checker's sandbox
    for task in (small, big, assert_style):
        for name in (
            "hash-collision-set",
            "hash-collision-set-small",
            "hash-collision-dict",
            "hash-collision-frozensets",
        ):
            response = dict(GENERATOR.attacks(task))[name] if task is assert_style else attacks[name]
            started = time.monotonic()
            verdict = verifier.verify(task, response)
            elapsed = time.monotonic() - started
            assert verdict.reward == 0.0 and not verdict.correct and len(verdict.reason) <= 301, (name, verdict)
            assert elapsed < verifier.deadline_for(task), (task.id, name, elapsed)
    verdict = verifier.verify(big, attacks["hash-collision-set"])
    assert verdict.reason == "failed test 1 of 1: wrong answer" and verdict.details["first_failure"]["got"].startswith(
        "{"
    )


@needs_bwrap
def test_stopiteration_from_the_candidate_cannot_end_a_check_early(verifier):
    """Re-raised in the checker, a StopIteration inside ``map`` would end the iteration and
    ``all`` would pass without a single comparison."""
    task = assert_task(
        "def check(candidate):\n    assert all(map(lambda x: candidate(x) == x * x, [1, 2, 3]))\n", "square"
    )
    for program in ("def square(x):\n    raise StopIteration\n", "def square(x):\n    raise StopAsyncIteration\n"):
        verdict = verifier.verify(task, fence(program))
        assert verdict.reward == 0.0 and not verdict.correct, verdict
    assert verifier.verify(task, fence("def square(x):\n    return x * x\n")).correct


@needs_bwrap
@pytest.mark.parametrize("kind", ["function", "stdio", "humaneval"])
def test_every_family_attack_scores_zero_within_the_deadline(verifier, kind):
    if kind == "humaneval":
        if not HUMANEVAL.is_file():
            pytest.skip(f"HumanEval absent: {HUMANEVAL}")
        generator = CodeGenerator(dataset=HUMANEVAL)
        task = generator.generate(2)
    else:
        generator, task = GENERATOR, fast_task(kind)
    attacks = generator.attacks(task)
    assert len(attacks) >= 20 and len({name for name, _ in attacks}) == len(attacks)

    def judge(attack):
        started = time.monotonic()
        verdict = verifier.verify(task, attack[1])
        return attack[0], verdict, time.monotonic() - started

    for name, verdict, elapsed in in_pool(judge, attacks):
        assert verdict.reward == 0.0 and not verdict.correct, (name, verdict)
        assert elapsed < verifier.deadline_for(task) + SLACK_S, (name, elapsed)
    assert_no_leftovers(verifier)


# --------------------------------------------------------------------------------------------
# Leaks
# --------------------------------------------------------------------------------------------


def own_threads() -> int:
    """Live threads other than the code generator's test-unpacking pool (at most 2, started on
    demand) and the verifier's session closer (one, started on demand)."""
    return sum(not t.name.startswith(("rlvr-code-tests", "rlvr-code-closer")) for t in threading.enumerate())


@needs_bwrap
def test_no_process_descriptor_or_file_left_after_200_verifications(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    v = CodeVerifier()
    assert v.sandbox.tmp_root.startswith(str(tmp_path))
    tasks = [GENERATOR.generate(seed, 0.2, style=style) for seed in range(4) for style in ("function", "stdio")]
    assert_style = CodeGenerator(dataset=ASSERT_STYLE)
    tasks += [assert_style.generate(row) for row in range(4)]
    jobs = [(tasks[i % len(tasks)], i % 3 == 0) for i in range(200)]
    if v.warm_pool is not None:  # its zygotes, spare children and threads stay, by design
        v.warm_pool.prestart()

    def run(job):
        task, wrong = job
        generator = assert_style if task.answer["source"] == "mbpp" else GENERATOR
        response = generator.wrong_response(task) if wrong else generator.solve(task)
        return wrong, v.verify(task, response)

    def pooled_cgroup_fds() -> int:
        """Descriptors kept by design in proportion to the most runs ever live at once: the
        run cgroups the warm pool keeps, emptied for later runs or holding an idle zygote's
        spare child (their control files stay open once read, so how many each has depends on
        its history), and the process's uid locks (each held until exit and reused).  Every
        idle zygote is given its spare first, so the spares' own descriptors count the same."""
        from rlvr.verifiers.sandbox.uids import _UID_POOLS

        uid_locks = sum(len(pool._held) for pool in _UID_POOLS.values())
        if v.warm_pool is None:
            return uid_locks
        v.warm_pool.prestart()
        with v.warm_pool._cond:
            spares = [zygote.spare.cgroup for zygote in v.warm_pool._idle if zygote.spare is not None]
        kept = [*v.warm_pool._cgroups, *spares]
        return sum(len(cgroup._fds) + (cgroup._dir_fd >= 0) for cgroup in kept) + uid_locks

    in_pool(run, jobs[:40])  # a first round: pools that grow with concurrency reach their size
    v.settle()
    pooled_before = pooled_cgroup_fds()
    fds_before = len(os.listdir("/proc/self/fd")) - pooled_before
    threads_before = own_threads()
    results = in_pool(run, jobs)
    assert all(verdict.correct != wrong for wrong, verdict in results)
    assert_no_leftovers(v)
    assert os.listdir(v.sandbox.tmp_root) == []
    pooled_after = pooled_cgroup_fds()
    assert len(os.listdir("/proc/self/fd")) - pooled_after <= fds_before + 2
    assert own_threads() <= threads_before  # the test-unpacking pool is bounded apart
    assert sum(t.name.startswith("rlvr-code-tests") for t in threading.enumerate()) <= 2
    closers = sum(t.name.startswith("rlvr-code-closer") for t in threading.enumerate())
    assert closers <= len(code_verifier_module._CLOSERS)  # at most one per verifier
