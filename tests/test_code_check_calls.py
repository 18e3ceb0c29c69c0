"""Calls of an assert-style check known from its source, and the verifier sending them ahead.

``calls_known_ahead`` must never name a call the check would not make in that place: every
HumanEval and sample MBPP check is run here, in-process with the reference solution, and the
calls it really makes must begin with the ones known ahead.  Through the sandbox, verdicts with
calls sent ahead must equal verdicts without, also where the check departs from them."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from rlvr.core import Task
from rlvr.generators.code import CodeGenerator, code_attacks, fence
from rlvr.verifiers import sandbox as sb
from rlvr.verifiers.code import CodeVerifier, extract_code
from rlvr.verifiers.code_check_calls import call_key, calls_known_ahead
from rlvr.verifiers.code_harness import CodecError, encode_kwargs, encode_value

HUMANEVAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "humaneval" / "HumanEval.jsonl.gz"
MBPP = Path(__file__).parent / "data" / "code" / "mbpp_sample.jsonl"

needs_bwrap = pytest.mark.skipif(sb._probe_bwrap()[0] is None, reason="bwrap unusable")


def ahead(check: str, entry: str = "f", setup: str = "") -> list[tuple[list, dict]]:
    """The calls known ahead, decoded back to (args, kwargs) for reading."""
    return [(json.loads(key)[0], json.loads(key)[1]) for key, _, _ in calls_known_ahead(check, setup, entry)]


def test_straight_line_asserts_are_known_in_order():
    check = (
        "import math\n"
        "def check(candidate):\n"
        "    assert candidate([1, 2], 3) == 4\n"
        "    x = candidate('a', k=-1.5)\n"
        "    assert math.isclose(candidate(2), 0.5), 'message'\n"
        "    assert abs(candidate((1, 2)) - 2) < 1e-6\n"
        "    assert candidate(1) == candidate(2)\n"
        "    assert candidate(0).lower() == ' '.join(['a'])\n"
        "    assert f(None) is None\n"
    )
    assert ahead(check) == [
        ([[1, 2], 3], []),
        (["a"], [["k", -1.5]]),
        ([2], []),
        ([{"$tuple": [1, 2]}], []),
        ([1], []),
        ([2], []),
        ([0], []),
        ([None], []),  # the entry point's name is the candidate too
    ]


@pytest.mark.parametrize(
    "statement",
    [
        "for x in [1]:\n        assert candidate(x)",  # a loop
        "assert candidate(1) or candidate(2)",  # the second call may never run
        "assert candidate(1) if flag else True",
        "assert 0 < candidate(1) < 2",  # a chain stops at its first false comparison
        "assert all(candidate(x) for x in [1, 2])",
        "assert candidate(y)",  # not a literal
        "assert candidate(*[1])",
        "assert list(map(candidate, [1]))",  # the candidate handed on
        "assert Pair(1, 2) == candidate(1)",  # the checker asks the host for the candidate's Pair
        "assert helper(1) == candidate(1)",  # the setup code's function
        "assert thing.method(1) == candidate(1)",  # an unbound name: the host's stand-in
        "assert candidate(1) == 2, candidate(3)",  # a message runs only on failure
        "(lambda: candidate(1))()",
        "result[0] = candidate(1)",
        "def inner():\n        return candidate(1)",
        "candidate = 5",
    ],
)
def test_a_statement_that_is_not_certain_ends_the_prefix(statement):
    check = f"def check(candidate):\n    assert candidate(0) == 0\n    {statement}\n    assert candidate(9) == 9\n"
    rebinds = statement == "candidate = 5"  # then nothing at all is known
    assert ahead(check, setup="def helper(x):\n    return x\n") == ([] if rebinds else [([0], [])])


@pytest.mark.parametrize(
    "check, setup",
    [
        # a name of the candidate's code handed to a builtin, which calls it through the host
        ("def check(candidate):\n    assert candidate(0) == 0\n    assert max(candidate(1), key=Weight) == 3\n", ""),
        # a setup object whose method calls the entry point by its name
        ("def check(candidate):\n    assert candidate(0) == 0\n    assert H.go(1) == candidate(2)\n", "H = f\n"),
        # a name bound only as another function's parameter: unbound where the check runs
        (
            "def helper(math):\n    return math\ndef check(candidate):\n    assert candidate(0) == 0\n"
            "    assert math.floor(candidate(2)) == 3\n",
            "",
        ),
    ],
)
def test_names_the_checker_resolves_through_the_host_end_the_prefix(check, setup):
    # (red team s20: each was taken as certain, and the checker's next call was another)
    assert ahead(check, setup=setup) in ([([0], [])], [])


@pytest.mark.parametrize(
    "check",
    [
        # f is the entry point: the helper calls the candidate
        "def helper():\n    return f(1)\ndef check(candidate):\n    assert helper() == candidate(2)\n",
        "def check(candidate):\n    assert candidate(1)\nf = 3\n",
        "def check():\n    assert True\n",
        "def check(candidate):\n    global f\n    assert candidate(1)\n",
        "check = 1\n",
        "def check(candidate:\n",
    ],
)
def test_nothing_is_known_where_the_code_could_reach_the_candidate_otherwise(check):
    assert ahead(check) == []


def test_names_the_code_rebinds_are_not_taken_for_builtins():
    check = "def abs(x):\n    return x\ndef check(candidate):\n    assert abs(candidate(1)) == 1\n"
    assert ahead(check) == [([1], [])]  # a function the check code defines is called in the checker
    rebound = "abs = print\ndef check(candidate):\n    assert abs(candidate(1)) == 1\n"
    assert ahead(rebound) == []
    shadowing = "def check(candidate):\n    assert candidate(1) == 1\n    len = 3\n    assert len(candidate(2))\n"
    assert ahead(shadowing) == [([1], [])]


def test_keys_tell_bools_ints_and_floats_apart():
    assert call_key([1], []) != call_key([True], []) != call_key([1.0], [])
    assert call_key(encode_value([1, "a"]), encode_kwargs({"k": None})) == call_key([1, "a"], [["k", None]])


def rows(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def calls_made(task: Task, solution: str) -> list[str]:
    """Run the task's check in this process against the reference solution, as the checker does
    (setup code, check code, the entry point's name bound to the candidate), recording the key of
    every call it makes of the candidate."""
    answer = task.answer
    entry = answer["entry_point"]
    program: dict = {"__name__": "solution"}
    exec(compile(answer.get("setup_code") or "", "setup.py", "exec"), program)
    exec(compile(solution, "solution.py", "exec"), program)
    function = program[entry]
    made: list[str] = []

    def candidate(*args, **kwargs):
        try:
            made.append(call_key(encode_value(list(args)), encode_kwargs(kwargs)))
        except CodecError:  # an object of a class the check defines: never a call known ahead
            made.append("object")
        return function(*args, **kwargs)

    namespace: dict = {"__name__": "__check__"}
    exec(compile(answer.get("setup_code") or "", "setup.py", "exec"), namespace)
    exec(compile(answer["check_code"], "check.py", "exec"), namespace)
    namespace[entry] = candidate
    namespace["check"](candidate)
    return made


@pytest.mark.parametrize("source", ["humaneval", "mbpp"])
def test_known_calls_are_the_calls_each_check_makes_first(source):
    if source == "humaneval" and not HUMANEVAL.is_file():
        pytest.skip(f"HumanEval absent: {HUMANEVAL}")
    path = HUMANEVAL if source == "humaneval" else MBPP
    generator = CodeGenerator(dataset=path)
    known_total = checked = 0
    for row in range(len(rows(path))):
        task = generator.generate(row)
        answer = task.answer
        known = [
            key
            for key, _, _ in calls_known_ahead(
                answer["check_code"], answer.get("setup_code") or "", answer["entry_point"]
            )
        ]
        made = calls_made(task, extract_code(generator.solve(task)))
        assert made[: len(known)] == known, (row, made[: len(known) + 1], known)
        known_total += len(known)
        checked += 1
    assert checked >= 4
    if source == "humaneval":
        assert known_total > 1000  # 1,066 of ~1,170: the relay saved is most of HumanEval's calls


def assert_task(check_code: str, entry_point: str = "f", time_limit_s: float = 3.0) -> Task:
    base = CodeGenerator(dataset=MBPP).generate(0)
    answer = {**base.answer, "check_code": check_code, "entry_point": entry_point, "setup_code": ""}
    answer["time_limit_s"] = time_limit_s
    return Task.from_dict({**base.to_dict(), "answer": answer})


@pytest.fixture(scope="module")
def verifiers():
    """(with calls sent ahead, without, whether a call went ahead per call answered)."""
    if sb._probe_bwrap()[0] is None:
        pytest.skip("bwrap unusable")
    sent: list[int] = []
    with_ahead, without = CodeVerifier(), CodeVerifier()
    send_next = with_ahead._send_next

    def counted(*args):
        in_flight = send_next(*args)
        sent.append(in_flight is not None)
        return in_flight

    with_ahead._send_next = counted
    without._send_next = lambda *args: None
    yield with_ahead, without, sent
    with_ahead.close()
    without.close()


def both(verifiers, task: Task, program: str, known: bool = True) -> tuple:
    """The verdict with calls sent ahead, after checking that the verdict without is the same."""
    with_ahead, without, sent = verifiers
    sent.clear()
    first, second = with_ahead.verify(task, fence(program)), without.verify(task, fence(program))
    assert (sum(sent) > 0) == known, f"calls sent ahead: {sent}"
    assert first.details["outcomes"] == second.details["outcomes"], (first.reason, second.reason)
    assert first.reward == second.reward
    return first


@needs_bwrap
def test_a_stateful_candidate_sees_the_calls_in_the_check_order(verifiers):
    task = assert_task(
        "def check(candidate):\n" + "".join(f"    assert candidate({n}) == ({n}, {n + 1})\n" for n in range(6))
    )
    counter = "CALLS = []\ndef f(n):\n    CALLS.append(n)\n    return n, len(CALLS)\n"
    verdict = both(verifiers, task, counter)
    assert verdict.correct and verdict.details["outcomes"] == "111111"


# Returns n + 1 only while no later call waits for it: neither unread on its channel's socket nor
# read into the harness's buffer.
LOOKS_AHEAD = """
import gc, os, socket, stat

def waiting():
    for fd in range(3, 32):
        try:
            if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                continue
            peer = socket.socket(fileno=os.dup(fd))
        except OSError:
            continue
        try:
            if peer.recv(1 << 16, socket.MSG_PEEK | socket.MSG_DONTWAIT):
                return True
        except OSError:
            pass
        finally:
            peer.close()
    return any(type(o).__name__ == "Channel" and o.buffer for o in gc.get_objects())

def f(n):
    return -1 if waiting() else n + 1
"""


@needs_bwrap
def test_the_candidate_never_sees_a_call_before_it_has_answered_the_one_before(verifiers):
    task = assert_task("def check(candidate):\n" + "".join(f"    assert candidate({n}) == {n + 1}\n" for n in range(8)))
    verdict = both(verifiers, task, LOOKS_AHEAD)
    assert verdict.correct and verdict.details["outcomes"] == "11111111"


# Check code that calls the candidate where its source does not show it (through ``globals()``
# in a comparison): the checker's second call is candidate(7), not the candidate(2) sent ahead.
HIDDEN_CALL = """
class Probe:
    def __eq__(self, other):
        return globals()["f"](7) == other + 6

def check(candidate):
    assert Probe() == candidate(1)
    assert candidate(2) == 3
    assert candidate(3) == 4
"""


def test_hidden_calls_are_not_foreseen():
    assert ahead(HIDDEN_CALL) == [([1], []), ([2], []), ([3], [])]  # why the verifier must cope


@needs_bwrap
def test_a_check_that_departs_from_the_calls_sent_ahead_gets_the_replies_it_asked_for(verifiers):
    task = assert_task(HIDDEN_CALL)
    verdict = both(verifiers, task, "def f(n):\n    return n + 1\n")
    assert verdict.correct and verdict.details["outcomes"] == "111"
    wrong = both(verifiers, task, "def f(n):\n    return n + 1 + (n == 7)\n")
    assert wrong.details["outcomes"] == "0"


@needs_bwrap
def test_nothing_goes_ahead_when_every_check_runs():
    # with partial credit a failed check runs on, and may skip a call of its own: no call is
    # certain to come next, so none is sent before the checker asks for it
    task = assert_task("def check(candidate):\n    assert candidate(1) == candidate(2)\n    assert candidate(3) == 4\n")
    program = (
        "CALLS = []\ndef f(n):\n    CALLS.append(n)\n    if n == 1:\n        raise ValueError\n"
        "    return len(CALLS) + 2\n"
    )
    verifier = CodeVerifier(partial=True)
    sent = []
    send_next = verifier._send_next
    verifier._send_next = lambda *args: sent.append(send_next(*args)) or sent[-1]
    try:
        verdict = verifier.verify(task, fence(program))
    finally:
        verifier.close()
    assert sent and not any(sent)
    assert verdict.details["outcomes"] == "01"  # candidate(3) is the program's second call


@needs_bwrap
@pytest.mark.parametrize(
    "program",
    [
        "def f(n):\n    return n + 1 if n != 2 else 0\n",  # one wrong answer
        "import os\ndef f(n):\n    if n == 2:\n        os._exit(0)\n    return n + 1\n",  # dies mid-way: restarted
        "def f(n):\n    if n == 2:\n        raise ValueError(n)\n    return n + 1\n",
        'import sys\ndef f(n):\n    sys.stdout.write(\'{"result": 9, "ok": true, "value": 1}\\n\')\n    return n + 1\n',
    ],
)
def test_failures_read_the_same_with_and_without_calls_ahead(verifiers, program):
    task = assert_task("def check(candidate):\n" + "".join(f"    assert candidate({n}) == {n + 1}\n" for n in range(5)))
    both(verifiers, task, program)


@needs_bwrap
def test_a_slow_call_sent_ahead_still_times_out_within_the_deadline(verifiers):
    task = assert_task(
        "def check(candidate):\n    assert candidate(1) == 2\n    assert candidate(2) == 3\n", time_limit_s=0.5
    )
    verdict = both(verifiers, task, "import time\ndef f(n):\n    time.sleep(5 if n == 2 else 0)\n    return n + 1\n")
    assert verdict.details["outcomes"] == "10"
    assert verdict.details["timings"]["total_s"] < 3.0


@needs_bwrap
def test_humaneval_verdicts_agree_with_and_without_calls_ahead(verifiers):
    if not HUMANEVAL.is_file():
        pytest.skip(f"HumanEval absent: {HUMANEVAL}")
    generator = CodeGenerator(dataset=HUMANEVAL)
    sent_ahead = 0
    for row in range(0, 164, 9):
        task = generator.generate(row)
        answer = task.answer
        known = bool(calls_known_ahead(answer["check_code"], answer["setup_code"], answer["entry_point"]))
        sent_ahead += known
        right = extract_code(generator.solve(task))
        assert both(verifiers, task, right, known).correct
        entry = task.answer["entry_point"]
        # right on every other call only
        wrong = right + (
            f"\n_right, _calls = {entry}, []\ndef {entry}(*args, **kwargs):\n    _calls.append(1)\n"
            "    return _right(*args, **kwargs) if len(_calls) % 2 else None\n"
        )
        both(verifiers, task, wrong, known)
    assert sent_ahead >= 15


@needs_bwrap
def test_answering_with_a_waiting_calls_argument_scores_nothing(verifiers):
    # red team s20's look-ahead strategy, one of the family's attacks on assert-style tasks
    if not HUMANEVAL.is_file():
        pytest.skip(f"HumanEval absent: {HUMANEVAL}")
    generator = CodeGenerator(dataset=HUMANEVAL)
    partial = CodeVerifier(partial=True)
    try:
        for row in (0, 39, 53, 150):
            task = generator.generate(row)
            attack = dict(code_attacks(task, generator.solve(task)))["next-call-argument"]
            assert verifiers[0].verify(task, attack).reward == 0
            assert partial.verify(task, attack).reward == 0
    finally:
        partial.close()
