"""Code verifier: run the response's Python program on the task's hidden tests, in the sandbox.

Task        ``rlvr.generators.code``: ``task.answer`` holds the style ("function" | "stdio" |
            "assert"), the entry point, the tests (function: argument and expected-value
            reprs; stdio: input and expected output text), the trusted ``check_code`` and
            ``setup_code`` (assert style), ``float_tolerance`` and ``time_limit_s``.
Extraction  Exactly one fenced code block (three backticks at the start of a line) outside
            ``<think>``, tagged ``python``/``py``/``python3``/``py3`` or untagged, as the prompt
            asks.  No fenced block (code in an ``<answer>`` block without a fence included),
            more than one fenced block of any language, another tag or an empty block → format
            error (``format_ok=False``), reward 0; more than 100 kB of code → reward 0.
Isolation   Everything the response wrote runs in ``rlvr.verifiers.sandbox`` sessions (bwrap:
            no network, read-only system, private work dir, own uid, rlimits, seccomp; or a
            docker container with the same) driven
            by ``rlvr.verifiers.code_harness``.  Pass or fail is decided here, in the host
            process: expected values never enter a process that runs candidate code, and the
            host never takes the candidate's word for anything but its own outputs.
            A candidate's sessions are killed before the verdict is returned; waiting for
            the kill to land and giving the sandbox back finish on a background thread
            (``CodeVerifier.settle`` waits for them and closes the idle checkers).
            Constructing the verifier raises ``SandboxUnavailable`` (with what to install)
            when no session-capable sandbox works; ``allow_unsafe_unsandboxed=True`` runs
            without isolation instead (trusted code only).
Styles      function  One sandboxed server process loads the code once (after the task's
                      setup code, e.g. a typing/collections prelude) and is sent one call per
                      test; the host times each call and kills the sandbox when one overruns
                      the per-test limit.  Results come back through the value codec of
                      ``code_harness`` (plain built-in data; defaultdict/OrderedDict/Counter as
                      dicts and numpy scalars as numbers, which Python counts equal to those;
                      any other object, one with its own ``__eq__`` included, is an error).
                      The host reads a result with ``ResultReader``, bounded before it starts:
                      the reply line may be 16 × the expected value's repr (at least 1 MiB, at
                      most 16 MiB) or is refused unread; at most 100 levels of nesting and
                      integers of 65,536 bits; the clock is checked as it reads.  Sets and dicts
                      are never built on the host (keys chosen to share one hash would make
                      that quadratic): their items are sorted by ``canonical_key`` and compared
                      by merging, in O(n log n) whatever their hashes.
                      Comparison follows Python's ``==`` (what the assert style's checks
                      do): numbers by value (2 equals 2.0, True equals 1), within
                      ``float_tolerance`` (relative and absolute) when the task sets one,
                      NaN equal to NaN; list and tuple are interchangeable (the datasets
                      store expected values as JSON, which has no tuples); sets, dicts,
                      strings, bytes and None compare exactly (set items and dict keys as
                      Python's ``==`` does, so {1} equals {1.0}).
            stdio     One sandboxed runner compiles the program once and forks a fresh child
                      of its pristine interpreter per test, with the test's stdin, its own
                      per-test time limit, stdout capped at 8 MiB; after each test everything
                      the test started is killed.  Comparison like a competitive judge: lines
                      split into whitespace-separated tokens, trailing blank lines ignored,
                      every line compared (a different line count is wrong), tokens equal or,
                      when the task sets ``float_tolerance``, numerically close (tokens that are
                      plain decimal numbers only).  The output is split no further than the
                      expected output's lines and tokens, so comparing is linear.  A non-zero
                      exit status is a runtime error.
            assert    The check code holds the expected values, so it never runs next to the
                      candidate: a trusted checker (its own sandbox session, no candidate
                      code) runs ``setup_code`` + ``check_code`` and calls
                      ``check(candidate)`` with a proxy; each call is relayed through the host
                      to a function server (the candidate's session, the same as above), whose
                      reply line goes back to the checker unread (base64): only the checker's
                      sandbox decodes what the candidate sent, under the time limit.  The
                      leading calls that the check's source fixes (literal arguments in
                      straight-line statements: ``code_check_calls``; 1,066 of HumanEval's
                      ~1,170) are sent to the server one ahead while the check stops at its
                      first failure (``partial=False``): call 1 as the check starts, call k + 1
                      once the reply to call k has gone to the checker, so the server computes
                      it while the checker works and sees each call only after it has
                      answered the one before, as when calls are relayed one by one.  Each is
                      matched with the checker's call of that number and arguments when it
                      comes; should a call differ (check code calling the candidate where its
                      source does not show it), the reply to the call sent is dropped and the
                      rest are relayed one by one.  The
                      candidate's exceptions are re-raised in the checker as the built-in type
                      they name, except StopIteration/StopAsyncIteration (they would end an
                      iteration in the check code early) and non-Exception types.  Each
                      top-level statement of ``check`` that asserts something is one check;
                      the checker reports each check, with a per-run nonce, and the host counts
                      only those reports.  The check starts while the candidate's program
                      loads (its calls wait at the host); the time limit covers all of it
                      from the moment the program has loaded.
                      Checker sessions outlive a verification (at most ``CHECKERS_KEPT``
                      idle per verifier, each for ``CHECKER_LIFETIME_S``): a checker runs each
                      problem in a fresh namespace, and a candidate's replies reach it only as
                      decoded plain values; it is kept only after a check that ended as the
                      protocol says and left nothing behind (threads, processes, an alarm,
                      changed builtins, memory: ``code_harness.serve_checkers``) -- a
                      timeout, a malformed or stray frame closes it.  Check code is trusted:
                      what it writes into imported modules stays for that checker's later
                      problems.
Reward      1 when every test (check) passes, else 0; ``partial=True``: the share of tests
            passed above what a program that does nothing passes, (passed − p0) / (total − p0)
            clipped at 0, p0 = ``do_nothing_passes`` (the most tests one of ``None``, 0, ``[]``,
            ``""``, ``()`` or the first argument returned, or no output, ``0``, or the input
            echoed (whole or past its first line) printed, passes), so printing nothing no
            longer earns the edge cases whose answer is empty (0.22 at d = 0.5 before), nor
            ``return x`` the tests the task leaves unchanged (0.14 at d = 0 before).
            Assert checks (``assert_partial_reward``): a check counts only if every do-nothing
            answer fails it (``DO_NOTHING_ANSWERS`` of ``code_harness``: None, 0, 1, True,
            False, ``[]``, ``""`` returned, or the first argument handed back), and the counted
            checks passed are paid beyond p0, the most of them one value the check code compares
            answers with could pass; a failed check that does not count still costs: (passed
            counted − p0) / (counted − p0 + failed uncounted), clipped at 0 (a constant earned
            0.23 on average over HumanEval before, up to 0.78).  Those outcomes come from running
            the check in a trusted checker against each do-nothing answer and against a probe
            that records the compared values, once per task (kept per verifier, by a digest of
            the setup and check code, at most ``DO_NOTHING_CACHE_SIZE``), only for a verdict
            that is neither correct nor all failed; unknown (a run failed or overran) → 0.
            ``details["do_nothing"]``: {passable, compared} (one character per check).
            All tests are then run; otherwise the run stops at the first failure.
            ``Verdict.details``: style, passed, total, tests_run, outcomes (one character per
            test run, in order: "1" passed, "0" failed), first_failure (input,
            expected, got — or error; each cut to 500 characters, rendered in time bounded by
            that), first_failure_index (its 0-based test number; None when none failed),
            timings (startup_s, tests_s, total_s, slowest_test_s), backend.
            The reason is at most 300 characters.
Deadline    Per task: 5 s of sandbox start-up + one time limit for loading the code +
            min(tests × time limit, ``max_total_s``) + 1 s (assert style with partial=True: + 5 s
            and one time limit for the do-nothing runs), + 5 s (``UNPACK_S``) when the task's
            tests are packed out of the row (``packed_tests``: rebuilt on the host by
            ``rlvr.generators.code.full_answer``, cached per task, the digest checked; a rebuild
            that overruns or mismatches scores 0); ``deadline_s`` is its bound over
            all tasks (time limits are clamped to ``max_total_s``).  The candidate's
            processes get all but the last second of it (reading the last reply and closing
            the sandboxes take the rest); a run that reaches that point is stopped and the
            tests it did not reach fail.
Options     ``partial`` (False), ``sandbox`` ("auto" | "bwrap" | "docker" | "unsafe-none";
            ``backend`` is its deprecated old name), ``image`` (docker: the image, default the
            locally built base image), ``allow_unsafe_unsandboxed`` (False), ``memory_mb``
            (1024, per process),
            ``max_total_s`` (30: the cap on the summed per-test time of one verification),
            ``warm`` (True: sessions are warm children of zygotes that have the harness
            imported, ``rlvr.verifiers.sandbox.warm`` -- same isolation and whole-run caps
            per session, no sandbox or interpreter start; False, or where the warm path
            cannot start (bwrap as root with a memory cgroup is needed), each session is a
            cold sandbox; docker: sessions run in pre-started containers, one each,
            ``rlvr.verifiers.sandbox.docker_pool``.  ``Verdict.details["sandbox"]``: ``path`` "warm" | "cold" (both
            joined by "+" when one fell back) and the ``enforcement`` of the caps).
"""

from __future__ import annotations

import ast
import atexit
import binascii
import collections
import contextlib
import dataclasses
import hashlib
import importlib.util
import itertools
import json
import logging
import marshal
import math
import os
import re
import secrets
import sys
import threading
import time
import warnings
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlvr import ast_parse
from rlvr.core import SafeVerifier, Task, Verdict, block_key, extract_answer, flag_option, strip_think
from rlvr.verifiers import code_harness
from rlvr.verifiers.code_check_calls import call_key, calls_known_ahead
from rlvr.verifiers.code_harness import (
    COMPARED_VALUES,
    DO_NOTHING_ANSWERS,
    CodecError,
    dumps_frame,
    encode_value,
    loads_frame,
)
from rlvr.verifiers.sandbox import Limits, Sandbox, SandboxUnavailable
from rlvr.verifiers.sandbox.docker_pool import DockerPool
from rlvr.verifiers.sandbox.warm import WarmPool

log = logging.getLogger(__name__)

MAX_CODE_BYTES = 100_000
MAX_KEY_BRACES = 5_000  # program_key parses at most this many f-string fields (~0.04 s)
STARTUP_S = 5.0  # sandbox and interpreter start-up allowance per session
UNPACK_S = 5.0  # rebuilding a compact task's tests on the host (rlvr.generators.code.full_answer)
MARGIN_S = 1.0
RUNNER_SLACK_S = 1.0  # stdio: the runner enforces the per-test limit; the host waits this much longer
DEFAULT_TIME_LIMIT_S = 2.0
MIN_TIME_LIMIT_S = 0.05
STDOUT_CAP_BYTES = 8 << 20
FRAME_BYTES = 16 << 20  # the longest protocol line accepted from a sandboxed process
CONTROL_FRAME_BYTES = 1 << 20  # the longest start-up line ("ready", load errors)
RESULT_FRAME_FLOOR = 1 << 20  # function style: a result line may be FACTOR × the expected repr, at least this
RESULT_FRAME_FACTOR = 16  # JSON escapes an astral character in 12 bytes, a complex number in ~20
MAX_RESULT_DEPTH = 100  # nesting of a result read back on the host
MAX_RESULT_INT_BITS = 1 << 16  # the largest integer read back on the host (about 19,700 digits)
SHOWN_CHARS = 500  # inputs, outputs and errors in details are cut to this length
REASON_CHARS = 300  # the verdict's reason is cut to this length
SHOWN_READ_S = 0.2  # the most time spent reading a call's arguments for details
SHOWN_DEPTH = 50
SHOWN_INT_BITS = 4096
SESSION_BACKENDS = ("bwrap", "docker", "unsafe-none")
CHECKER_LIFETIME_S = 600.0  # a pooled checker session serves problems for at most this long
CHECKERS_KEPT = 8  # idle checker sessions kept per verifier
IDLE_REPORT_S = 1.0  # how long a pooled checker may take to report on its last check
CLOSE_BACKLOG = 2  # killed sessions at most waiting to be closed in the background, per verifier
ABORT_S = 1.0  # how long a check whose candidate never loaded may take to end (else its checker is closed)
DO_NOTHING_CACHE_SIZE = 4096  # assert-style problems whose do-nothing outcomes a verifier keeps
# imported lazily by the harness (ast, traceback) or by the setup code of many tasks (typing):
# each zygote imports them once
WARM_IMPORTS = ("ast", "traceback", "typing")
PYTHON_TAGS = ("", "python", "py", "python3", "py3")

# An opening fence line, the code, and a closing fence at the start of a line (whatever follows
# it on that line, e.g. "```</answer>").
_FENCE = re.compile(r"^[ \t]*```[ \t]*([^\n`]*)\n(.*?)^[ \t]*```(?!`)", re.MULTILINE | re.DOTALL)


# --------------------------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------------------------


def find_code(response: str) -> tuple[str | None, str]:
    """(code, "") for a response holding exactly one fenced code block, tagged Python or
    untagged, outside the reasoning; else (None, why it is refused)."""
    visible = strip_think(response)
    blocks = list(itertools.islice(_FENCE.finditer(visible), 2))
    if not blocks:
        if extract_answer(visible) is not None:
            return None, "no fenced ```python code block (code in an <answer> block without a fence is not run)"
        return None, "no fenced ```python code block found"
    if len(blocks) > 1:
        return None, "more than one fenced code block; the answer must be exactly one ```python block"
    info = blocks[0].group(1).strip()
    tag = info.split(" ")[0].lower() if info else ""
    if tag not in PYTHON_TAGS:
        return None, f"the code block is tagged {clip(tag, 40)!r}, not python"
    code = blocks[0].group(2)
    if not code.strip():
        return None, "the ```python code block is empty"
    return code, ""


def program_key(code: str) -> str:
    """A Python program's syntax tree as text (``ast.dump``): the same for any comments, blank
    lines or spacing; raises on a program over ``MAX_CODE_BYTES``, one with more than
    ``MAX_KEY_BRACES`` braces (an f-string's parse grows with the square of its fields:
    ``ast_parse.parse_cost``) or one that does not parse."""
    if len(code) > MAX_CODE_BYTES:
        raise ValueError("program too long to key")
    if ast_parse.parse_cost(code)[1] > MAX_KEY_BRACES:
        raise ValueError("program has too many braces to key")
    return ast.dump(ast_parse.parse(code))


def extract_code(response: str) -> str | None:
    """The code of the response's one fenced Python block (see ``find_code``), else None."""
    return find_code(response)[0]


# --------------------------------------------------------------------------------------------
# Reading results back (host side only)
# --------------------------------------------------------------------------------------------
#
# What a candidate's process sends is hostile.  Every read is bounded before it starts (the
# frame's bytes, nesting depth, integer size) and linear in the frame: sets and dicts are never
# built on the host, because a reply of keys chosen to share one hash would make building them
# quadratic.  They are read into ``SetValue`` / ``DictValue`` — their items in canonical order
# (``canonical_key``: equal keys exactly when Python's ``==`` says so) — and compared by merging
# sorted keys, which costs O(n log n) whatever the keys' hashes are.


class ResultUnreadable(CodecError):
    """A reply that is malformed, over a bound, or took the verification past its deadline."""


class SetValue:
    """A set or frozenset read back from a candidate: its items once each (in canonical order)
    and their canonical keys; never hashed on the host."""

    __slots__ = ("frozen", "items", "keys")

    def __init__(self, items: list, keys: tuple, frozen: bool):
        self.items, self.keys, self.frozen = items, keys, frozen


class DictValue:
    """A dict read back from a candidate: (key, value) pairs, one per key (the last value of a
    repeated key, as Python keeps it), in canonical key order, with the keys' canonical keys."""

    __slots__ = ("keys", "pairs")

    def __init__(self, pairs: list, keys: tuple):
        self.pairs, self.keys = pairs, keys


def canonical_key(value: Any) -> tuple:
    """A sort key for a hashable plain value: two values get equal keys exactly when Python
    counts them equal (``1 == 1.0 == True``; NaN equals NaN here), and keys of any two values
    compare.  CodecError for what Python could not put in a set (lists, sets, dicts)."""
    kind = type(value)
    if value is None:
        return (0,)
    if kind is bool or kind is int:
        return (1, value, 0)
    if kind is float:
        return (1, value, 0) if value == value else (2,)
    if kind is complex:
        real, imag = value.real, value.imag
        return (1, real, imag) if real == real and imag == imag else (2,)
    if kind is str:
        return (3, value)
    if kind is bytes:
        return (4, value)
    if kind is tuple:
        return (5, tuple(canonical_key(item) for item in value))
    if kind is SetValue and value.frozen:
        return (6, value.keys)
    if kind is frozenset:
        return (6, tuple(key for key, _ in _unique_sorted([(canonical_key(item), item) for item in value])))
    raise CodecError(f"unhashable {kind.__name__} inside a set or as a dict key")


def _first(entry: tuple) -> Any:
    return entry[0]


def _unique_sorted(entries: list[tuple], keep_last: bool = False) -> list[tuple]:
    """``(key, ...)`` entries sorted by key with one entry per key (the first, or the last)."""
    entries.sort(key=_first)  # stable: equal keys stay in the order they came
    unique: list[tuple] = []
    for entry in entries:
        if unique and unique[-1][0] == entry[0]:
            if keep_last:
                unique[-1] = entry
            continue
        unique.append(entry)
    return unique


def _set_keys(value: Any) -> tuple | None:
    """The canonical keys of a set-like value's items, sorted and unique; None if not a set."""
    kind = type(value)
    if kind is SetValue:
        return value.keys
    if kind is set or kind is frozenset:
        try:
            return tuple(key for key, _ in _unique_sorted([(canonical_key(item), item) for item in value]))
        except CodecError:
            return None
    return None


def _dict_entries(value: Any) -> list[tuple] | None:
    """(canonical key, value) of a dict-like value, in key order; None if not a dict."""
    kind = type(value)
    if kind is DictValue:
        return [(key, pair[1]) for key, pair in zip(value.keys, value.pairs)]
    if kind is dict:
        try:
            return _unique_sorted([(canonical_key(key), item) for key, item in value.items()], keep_last=True)
        except CodecError:
            return None
    return None


class ResultReader:
    """Reads one ``encode_value`` form sent by a candidate into plain values (sets and dicts as
    ``SetValue`` / ``DictValue``), refusing more than ``max_depth`` levels of nesting, integers
    beyond ``max_int_bits`` and, checked every few thousand values, work past ``deadline``
    (a ``time.monotonic()`` instant).  Linear in the size of the form (plus the sorting of set
    items and dict keys); the form itself is bounded by the frame it came in."""

    CLOCK_EVERY = 4096

    def __init__(
        self, deadline: float = math.inf, max_depth: int = MAX_RESULT_DEPTH, max_int_bits: int = MAX_RESULT_INT_BITS
    ):
        self.deadline = deadline
        self.max_depth = max_depth
        self.max_hex_digits = max_int_bits // 4
        self.countdown = self.CLOCK_EVERY

    def read(self, data: Any) -> Any:
        try:
            return self._read(data, 0)
        except CodecError:
            raise
        except RecursionError:
            raise ResultUnreadable("the result is nested too deeply") from None
        except (ValueError, TypeError, OverflowError, MemoryError, binascii.Error) as error:
            raise ResultUnreadable(f"malformed result ({type(error).__name__})") from None

    def _tick(self, values: int = 1) -> None:
        self.countdown -= values
        if self.countdown <= 0:
            self.countdown = self.CLOCK_EVERY
            if time.monotonic() > self.deadline:
                raise ResultUnreadable("reading the result took the verification past its deadline")

    def _read(self, data: Any, depth: int) -> Any:
        self._tick()
        kind = type(data)
        if data is None or kind is bool or kind is str or kind is int:
            return data
        if kind is float:
            if not math.isfinite(data):
                raise ResultUnreadable("non-finite floats must be tagged")
            return data
        if depth >= self.max_depth:
            raise ResultUnreadable(f"the result is nested more than {self.max_depth} levels deep")
        if kind is list:
            if _PLAIN_ITEMS.issuperset(map(type, data)) and math.inf not in data and -math.inf not in data:
                self._tick(len(data))  # strings, numbers, booleans and None as JSON gave them
                return data
            return [self._read(item, depth + 1) for item in data]
        if kind is not dict or len(data) != 1:
            raise ResultUnreadable("malformed result")
        ((tag, payload),) = data.items()
        if tag == "$int" and type(payload) is str:
            if len(payload) > self.max_hex_digits + 3:
                raise ResultUnreadable(f"an integer in the result has more than {self.max_hex_digits * 4} bits")
            return int(payload, 16)
        if tag == "$float" and payload in _SPECIAL_FLOATS:
            return _SPECIAL_FLOATS[payload]
        if tag == "$bytes" and type(payload) is str:
            return binascii.a2b_base64(payload.encode("ascii"), strict_mode=True)
        if type(payload) is not list:
            raise ResultUnreadable(f"malformed {str(tag)[:20]}")
        if tag == "$tuple":
            return tuple(self._read(item, depth + 1) for item in payload)
        if tag in ("$set", "$frozenset"):
            entries = [(canonical_key(item), item) for item in (self._read(x, depth + 1) for x in payload)]
            unique = _unique_sorted(entries)
            return SetValue([item for _, item in unique], tuple(key for key, _ in unique), tag == "$frozenset")
        if tag == "$dict":
            entries = []
            for pair in payload:
                if type(pair) is not list or len(pair) != 2:
                    raise ResultUnreadable("malformed $dict")
                key = self._read(pair[0], depth + 1)
                entries.append((canonical_key(key), (key, self._read(pair[1], depth + 1))))
            unique = _unique_sorted(entries, keep_last=True)
            return DictValue([pair for _, pair in unique], tuple(key for key, _ in unique))
        if tag == "$complex" and len(payload) == 2 and all(type(p) in (int, float) for p in payload):
            return complex(payload[0], payload[1])
        raise ResultUnreadable(f"malformed result (tag {str(tag)[:20]!r})")


_SPECIAL_FLOATS = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}
_PLAIN_ITEMS = frozenset({str, int, float, bool, type(None)})  # JSON's floats are finite but for 1e999


# --------------------------------------------------------------------------------------------
# Comparison (host side only; the generator checks its wrong responses with these too)
# --------------------------------------------------------------------------------------------


class _Unparsable:
    """An expected value ``ast.literal_eval`` cannot read: matched only by the same repr text."""

    def __init__(self, text: str):
        self.text = text


class _SpecialFloats(ast.NodeTransformer):
    """``inf`` and ``nan`` (as ``repr`` writes them) become float constants."""

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in ("inf", "nan"):
            return ast.copy_location(ast.Constant(float(node.id)), node)
        return node


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def _parse_as_json(text: str) -> tuple[bool, Any]:
    """Fast path for the reprs that are JSON too (lists, numbers, strings; tuples as lists):
    (True, value) or (False, None).  No repr means something else when read as JSON."""
    try:
        if text.startswith("(") and text.endswith(")"):
            inner = text[1:-1].rstrip()
            inner = inner[:-1] if inner.endswith(",") else inner
            return True, tuple(json.loads(f"[{inner}]", parse_constant=_reject_constant))
        if text[:1] in '["-0123456789':
            return True, json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        pass
    return False, None


DO_NOTHING_VALUES = (None, 0, [], "", ())  # what a function that ignores its input returns
DO_NOTHING_OUTPUTS = ("", "0\n")  # what a program that ignores its input prints
CONSTANT_TEXT_CHARS = 16  # an expected value or output longer than this is no do-nothing answer
CONSTANT_CANDIDATES = 8  # the most shared expected values (outputs) tried as constants


def _first_argument(args_text: str) -> tuple[bool, Any]:
    """(True, the first argument of a test's ``args`` repr) or (False, None) when it has none."""
    args = parse_literal(args_text)
    return (True, args[0]) if isinstance(args, (tuple, list)) and args else (False, None)


def _echoes(stdin_text: str) -> tuple[str, str]:
    """What a program echoing its input prints: the input, and the input without its first
    line (the count line a list input starts with)."""
    return stdin_text, stdin_text.partition("\n")[2]


def do_nothing_passes(answer: dict) -> int:
    """The most tests of a function or stdio task that one answer ignoring its input passes, by
    the verifier's own comparisons: a constant of DO_NOTHING_VALUES returned or one of
    DO_NOTHING_OUTPUTS printed, or any of the ``CONSTANT_CANDIDATES`` expected values (outputs)
    the tests share most, returned (printed) for every input — the examples in a prompt show
    them (red team S7-2b: 14 of 15 tests expecting 1 paid ``return 1`` 0.93) — or the identity:
    the first argument handed back, the input printed back whole or without its first line
    (red team s9 F4: ``return x`` earned 0.14 on average at d = 0). 0 for assert-style checks
    (their do-nothing outcomes come from running the check: ``assert_partial_reward``). Linear
    in the tests: constants are matched against short expected texts only, the identity reads
    each test's input once."""
    tests, tolerance = answer.get("tests") or [], answer.get("float_tolerance")
    if answer.get("style") == "function":
        texts = [t["expected"] for t in tests if len(t["expected"]) <= CONSTANT_TEXT_CHARS]
        expected = [parse_literal(text) for text in texts]
        shared = [parse_literal(text) for text, _ in collections.Counter(texts).most_common(CONSTANT_CANDIDATES)]
        candidates = [*DO_NOTHING_VALUES, *shared]
        counts = [sum(values_match(e, value, tolerance) for e in expected) for value in candidates]
        handed_back = ((_first_argument(t["args"]), t["expected"]) for t in tests)
        counts.append(
            sum(has and values_match(parse_literal(text), first, tolerance) for (has, first), text in handed_back)
        )
    elif answer.get("style") == "stdio":
        outputs = [t["output"] for t in tests if len(t["output"].strip()) <= CONSTANT_TEXT_CHARS]
        shared = [text for text, _ in collections.Counter(outputs).most_common(CONSTANT_CANDIDATES)]
        counts = [
            sum(stdout_matches(o, printed, tolerance) for o in outputs) for printed in (*DO_NOTHING_OUTPUTS, *shared)
        ]
        echoes = [_echoes(t["input"]) for t in tests]
        counts += [
            sum(stdout_matches(t["output"], echo[which], tolerance) for t, echo in zip(tests, echoes))
            for which in (0, 1)
        ]
    else:
        counts = [0]
    return max(counts, default=0)


def assert_partial_reward(outcomes: str, total: int, do_nothing: Any, first: int = 0) -> float:
    """Partial credit for assert-style checks ``first`` .. ``total`` - 1 (CodeFeedback-v0: the
    held-out ones): a check counts only if every do-nothing answer fails it
    (``do_nothing["passable"]``: one character per check, "1" when one passes it), and the
    counted checks passed are paid beyond p0, the most of them that one other constant could
    pass (``do_nothing["compared"]``: per value the check code compares answers with, the checks
    that do).  A check that does not count earns nothing when passed but still costs when
    failed, so a verdict that is not correct stays below 1: (passed counted − p0) / (counted −
    p0 + failed uncounted), clipped at 0.  ``outcomes`` as in the verdict's details (checks not
    run failed).  0 when ``do_nothing`` is unknown or does not match ``total``."""
    if not isinstance(do_nothing, dict) or total <= 0:
        return 0.0
    passable, compared = do_nothing.get("passable"), do_nothing.get("compared")
    if not isinstance(passable, str) or len(passable) != total or not isinstance(compared, list):
        return 0.0
    if not all(isinstance(mask, str) and len(mask) == total for mask in compared):
        return 0.0
    results = outcomes[:total].ljust(total, "0")
    scope = range(max(0, first), total)
    counted = [i for i in scope if passable[i] == "0"]
    floor = max((sum(mask[i] == "1" for i in counted) for mask in compared), default=0)
    passed = sum(results[i] == "1" for i in counted)
    uncounted_failed = sum(results[i] != "1" and passable[i] == "1" for i in scope)
    return (passed - floor) / (len(counted) - floor + uncounted_failed) if passed > floor else 0.0


def parse_literal(text: str) -> Any:
    """A trusted repr back to its value (``inf``/``nan`` allowed); ``_Unparsable`` if it is not one."""
    fast, value = _parse_as_json(text)
    if fast:
        return value
    try:
        return ast_parse.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        pass
    try:
        tree = _SpecialFloats().visit(ast_parse.parse(text, mode="eval"))
        return ast.literal_eval(tree)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _Unparsable(text)


def numbers_match(expected: int | float, got: int | float, tolerance: float | None) -> bool:
    """Python's ``==`` (an int and a float compared exactly: a float a rounding away from an int
    past 2**53 does not match it, as the assert style's checks and Python say; red team s15 A3),
    NaN matching NaN; with ``tolerance``, ``math.isclose`` with it as both relative and absolute
    tolerance (infinities only themselves)."""
    expected_nan = type(expected) is float and math.isnan(expected)
    got_nan = type(got) is float and math.isnan(got)
    if expected_nan or got_nan:
        return expected_nan and got_nan
    if tolerance is None:
        return expected == got
    try:
        a, b = float(expected), float(got)
    except OverflowError:
        return False
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance)


def values_match(expected: Any, got: Any, tolerance: float | None = None) -> bool:
    """Whether a result equals the expected value (rules in the module docstring).  ``got`` is
    a value read by ``ResultReader`` or a plain Python value (the generator's own programs)."""
    if isinstance(expected, _Unparsable):
        return short_repr(got, len(expected.text) + 1) == expected.text
    if type(expected) in (bool, int, float) and type(got) in (bool, int, float):
        return numbers_match(expected, got, tolerance)
    if type(expected) is complex or type(got) is complex:
        if type(expected) not in (bool, int, float, complex) or type(got) not in (bool, int, float, complex):
            return False
        a, b = complex(expected), complex(got)
        return numbers_match(a.real, b.real, tolerance) and numbers_match(a.imag, b.imag, tolerance)
    if type(expected) in (list, tuple):
        if type(got) not in (list, tuple) or len(expected) != len(got):
            return False
        return all(values_match(e, g, tolerance) for e, g in zip(expected, got))
    if type(expected) in (set, frozenset):
        have = _set_keys(got)
        return have is not None and have == _set_keys(expected)
    if type(expected) is dict:
        have = _dict_entries(got)
        if have is None or len(have) != len(expected):
            return False
        want = _dict_entries(expected)
        return want is not None and all(
            wk == hk and values_match(wv, hv, tolerance) for (wk, wv), (hk, hv) in zip(want, have)
        )
    if expected is None:
        return got is None
    return type(expected) is type(got) and expected == got


def result_frame_bytes(expected_text: str) -> int:
    """The longest reply line accepted for a call whose expected value has the repr
    ``expected_text``: an equal result's encoding is a few times its repr at most, so a longer
    line is refused unread."""
    return min(FRAME_BYTES, max(RESULT_FRAME_FLOOR, RESULT_FRAME_FACTOR * len(expected_text)))


def returned_value_matches(expected_text: str, returned: Any, tolerance: float | None = None) -> bool:
    """The function style's judgement of one call that returned ``returned``, for a value made in
    this process (the generator's own trusted programs): the expected value read from its repr by
    ``parse_literal``; ``returned`` encoded by the harness codec into the reply line the sandboxed
    server would send, refused past ``result_frame_bytes``, read back by ``ResultReader`` and
    compared by ``values_match``.  These are ``CodeVerifier``'s own steps, so what the codec keeps
    (a tuple for a list, 2.0 for 2), changes (numpy scalars, dict subclasses) or refuses (other
    objects, oversize replies: False) is judged here exactly as it is there."""
    try:
        line = dumps_frame(
            {"result": 0, "ok": True, "value": encode_value(returned), "wall_s": 0.0}
        )  # the server's reply
        if len(line) > result_frame_bytes(expected_text):
            return False
        got = ResultReader().read(loads_frame(line)["value"])
        return values_match(parse_literal(expected_text), got, tolerance)
    except (CodecError, RecursionError, MemoryError, ValueError, TypeError):
        return False


_NUMBER_TOKEN = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf|infinity|nan)", re.IGNORECASE)


def _judged_lines(text: str, most: int | None = None) -> list[str]:
    """The lines of an output with trailing blank lines (and trailing whitespace) dropped;
    with ``most``, at most ``most + 1`` lines are split off."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").rstrip()
    if not text:
        return []
    return text.split("\n") if most is None else text.split("\n", most)


def _tokens_close(expected: str, got: str, tolerance: float) -> bool:
    if not (_NUMBER_TOKEN.fullmatch(expected) and _NUMBER_TOKEN.fullmatch(got)):
        return False
    return numbers_match(float(expected), float(got), tolerance)


def stdout_matches(expected: str, got: str, tolerance: float | None = None) -> bool:
    """Judge-style output comparison (rules in the module docstring).  The program's output is
    split no further than the expected output's shape, so the work is linear in both."""
    want = _judged_lines(expected)
    have = _judged_lines(got, len(want))
    if len(want) != len(have):
        return False
    for want_line, have_line in zip(want, have):  # same number of lines
        want_tokens = want_line.split()
        have_tokens = have_line.split(None, len(want_tokens))
        if len(want_tokens) != len(have_tokens):
            return False
        for a, b in zip(want_tokens, have_tokens):  # same number of tokens
            if a != b and (tolerance is None or not _tokens_close(a, b, tolerance)):
                return False
    return True


# --------------------------------------------------------------------------------------------
# Showing values and errors (bounded)
# --------------------------------------------------------------------------------------------


def clip(text: str, limit: int = SHOWN_CHARS) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def _repr_pieces(value: Any, depth: int, limit: int):
    """``repr(value)`` in pieces, lazily (the caller stops once it has enough)."""
    kind = type(value)
    if depth > SHOWN_DEPTH:
        yield "…"
    elif kind is list or kind is tuple:
        yield "[" if kind is list else "("
        for index, item in enumerate(value):
            if index:
                yield ", "
            yield from _repr_pieces(item, depth + 1, limit)
        yield "]" if kind is list else ",)" if len(value) == 1 else ")"
    elif kind in (SetValue, set, frozenset):
        items = value.items if kind is SetValue else value
        frozen = value.frozen if kind is SetValue else kind is frozenset
        if not items:
            yield "frozenset()" if frozen else "set()"
            return
        yield "frozenset({" if frozen else "{"
        for index, item in enumerate(items):
            if index:
                yield ", "
            yield from _repr_pieces(item, depth + 1, limit)
        yield "})" if frozen else "}"
    elif kind is DictValue or kind is dict:
        yield "{"
        for index, (key, item) in enumerate(value.pairs if kind is DictValue else value.items()):
            if index:
                yield ", "
            yield from _repr_pieces(key, depth + 1, limit)
            yield ": "
            yield from _repr_pieces(item, depth + 1, limit)
        yield "}"
    elif kind is int:
        bits = value.bit_length()
        yield repr(value) if bits <= SHOWN_INT_BITS else f"<an integer of {bits} bits>"
    elif kind is str or kind is bytes:
        yield repr(value[: limit + 1])
    elif kind is _Unparsable:
        yield value.text[: limit + 1]
    else:
        yield repr(value)[: limit + 1]


def short_repr(value: Any, limit: int = SHOWN_CHARS) -> str:
    """``repr(value)``, cut after ``limit`` characters, in time bounded by ``limit`` (however
    large or deep the value)."""
    pieces: list[str] = []
    size = 0
    try:
        for piece in _repr_pieces(value, 0, limit):
            pieces.append(piece)
            size += len(piece)
            if size > limit:
                return "".join(pieces)[:limit] + "…"
    except Exception:
        return "<unprintable>"
    return "".join(pieces)


def _text(value: Any, limit: int) -> str:
    """A string field of a hostile message, cut; '' for anything else."""
    return clip(value, limit) if type(value) is str else ""


def error_text(error: Any) -> str:
    if not isinstance(error, dict):
        return "unknown error"
    text = _text(error.get("traceback"), 2 * SHOWN_CHARS)
    if not text:
        text = f"{_text(error.get('type'), 100) or 'error'}: {_text(error.get('message'), 2 * SHOWN_CHARS)}"
    return clip(text, 2 * SHOWN_CHARS)


def error_name(error: Any) -> str:
    """The exception's type name from a hostile error dict, cut to a short identifier."""
    name = error.get("type") if isinstance(error, dict) else None
    return clip(name, 60).replace("\n", " ") if type(name) is str and name else "error"


# --------------------------------------------------------------------------------------------
# Talking to harness processes
# --------------------------------------------------------------------------------------------


def compiled_harness() -> bytes:
    """``code_harness`` as a .pyc for this interpreter (the sandbox runs the host's python):
    shipping bytecode spares every session compiling the harness."""
    source = Path(code_harness.__file__).read_text(encoding="utf-8")
    code = compile(source, "harness.py", "exec", dont_inherit=True)
    header = importlib.util.MAGIC_NUMBER + bytes(12)  # flags 0 (timestamp pyc), mtime 0, size 0
    return header + marshal.dumps(code)


class _Clock:
    """The verification's deadlines: ``final``, when the verdict must be out, and ``deadline``,
    ``reserve_s`` earlier, the end of the time the candidate's processes may use (the rest is
    for reading their last reply and closing the sandboxes)."""

    def __init__(self, budget_s: float, reserve_s: float = 0.0):
        self.start = time.monotonic()
        self.final = self.start + budget_s
        self.sandbox_paths: set[str] = set()  # "warm" / "cold": how this verification's sessions started
        self.deadline = self.final - reserve_s

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def elapsed(self) -> float:
        return time.monotonic() - self.start


class _Broken(Exception):
    """A harness peer went away, overran its time, or sent something malformed."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind  # "timeout" | "exited" | "protocol"


def _session_limits(verifier: CodeVerifier, seconds: float) -> Limits:
    """What one harness session may use: ``seconds`` of wall and CPU time, the verifier's memory."""
    return Limits(
        wall_s=seconds,
        cpu_s=seconds,
        memory_mb=verifier.memory_mb,
        processes=64,
        file_mb=16,
        open_files=64,
        output_bytes=256 << 10,
        tmp_mb=64,
    )


class _Peer:
    """One sandbox session speaking the harness protocol, with its own ExitStack; ``path`` says
    how it started ("warm" | "cold").  It lives until the verification's deadline, or for
    ``lifetime_s`` (a pooled checker)."""

    def __init__(
        self, verifier: CodeVerifier, config: dict, files: dict, clock: _Clock, lifetime_s: float | None = None
    ):
        self.stack = contextlib.ExitStack()
        limits = _session_limits(verifier, lifetime_s or clock.remaining() + 0.5)
        files = {verifier.harness_name: verifier.harness_pyc, **files}
        argv = [verifier.sandbox.python, "-I", "-S", verifier.harness_name]
        config = {**config, "sys_path": verifier.sys_path}
        try:
            self.session, self.path = verifier.enter_session(self.stack, argv, files, limits)
            clock.sandbox_paths.add(self.path)
            self.session.send(dumps_frame(config), timeout=min(STARTUP_S, clock.remaining()))
        except BaseException:
            self.stack.close()
            raise
        self.closed = False

    @property
    def alive(self) -> bool:
        return not self.closed and self.session.alive

    def send(self, message: dict, payload: bytes = b"", timeout: float = STARTUP_S) -> None:
        try:
            self.session.send(dumps_frame(message) + payload, timeout=timeout)
        except TimeoutError:
            raise _Broken("timeout", "did not read its input in time") from None
        except BrokenPipeError:
            raise _Broken("exited", "exited") from None

    def receive_line(self, timeout: float, limit: int) -> bytes:
        """The next protocol line, unparsed; a line over ``limit`` bytes is refused unread."""
        try:
            line = self.session.readline(limit, timeout=timeout)
        except TimeoutError:
            raise _Broken("timeout", "timed out") from None
        except ValueError:
            raise _Broken("protocol", f"sent a line longer than {limit} bytes") from None
        if not line:
            raise _Broken("timeout" if self.session.timed_out else "exited", "exited")
        if not line.endswith(b"\n"):
            raise _Broken("exited", "exited in the middle of a reply")
        return line

    def receive(self, timeout: float, limit: int) -> dict:
        try:
            return loads_frame(self.receive_line(timeout, limit))
        except CodecError as error:
            raise _Broken("protocol", f"sent a malformed reply ({error})") from None

    def read_exactly(self, size: int, timeout: float) -> bytes:
        try:
            data = self.session.read_exactly(size, timeout=timeout)
        except TimeoutError:
            raise _Broken("timeout", "timed out") from None
        if len(data) != size:
            raise _Broken("exited", "exited in the middle of a reply")
        return data

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.stack.close()


class _Checkers:
    """Trusted checker sessions kept between assert-style verifications (``checkers`` mode of
    ``code_harness``): each runs one problem's check at a time, in a fresh namespace, and goes
    back here only after a check that ended cleanly; one that overran, broke the protocol, left
    something behind or is near the end of its ``CHECKER_LIFETIME_S`` is closed instead.  At
    most ``keep`` are kept idle.  Thread-safe."""

    def __init__(self, verifier: CodeVerifier, keep: int):
        self.verifier = verifier
        self.keep = keep
        self._idle: list[_Peer] = []
        self._lock = threading.Lock()
        self._closed = False
        _CHECKER_POOLS.add(self)

    def take(self, clock: _Clock) -> _Peer:
        """An idle checker whose last check left nothing behind and that outlives this
        verification's deadline, else a new one."""
        while True:
            with self._lock:
                peer = self._idle.pop() if self._idle else None
            if peer is None:
                break
            if self._reusable(peer, clock):
                clock.sandbox_paths.add(peer.path)
                return peer
            peer.close()
        return _Peer(self.verifier, {"mode": "checkers"}, {}, clock, lifetime_s=CHECKER_LIFETIME_S)

    @staticmethod
    def _reusable(peer: _Peer, clock: _Clock) -> bool:
        if not peer.alive or peer.session.remaining_s < clock.final - time.monotonic() + MARGIN_S:
            return False
        try:  # the checker says its last check left nothing behind
            return peer.receive(min(IDLE_REPORT_S, clock.remaining()), CONTROL_FRAME_BYTES) == {
                "idle": True,
                "left_behind": "",
            }
        except _Broken:
            return False

    def give_back(self, peer: _Peer) -> None:
        with self._lock:
            if not self._closed and peer.alive and len(self._idle) < self.keep:
                self._idle.append(peer)
                return
        peer.close()

    def clear(self) -> None:
        """Close every idle checker (later verifications start new ones)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for peer in idle:
            peer.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self.clear()

    def forget(self) -> None:
        """In a forked child: the idle checkers' sessions belong to the parent; keep this
        process's copies out of use, unclosed."""
        _INHERITED_PEERS.extend(self._idle)
        self._idle = []
        self._lock = threading.Lock()


class _Closer:
    """Ends a verification's candidate sessions: ``release`` kills everything the session runs
    at once, and the rest of closing it -- waiting for the kill to land, reaping, giving its
    sandbox back -- happens on a background thread, after the verdict.  When ``CLOSE_BACKLOG``
    sessions already wait (or the closer is closed) the caller closes its own.  Thread-safe."""

    def __init__(self):
        self._pending: collections.deque[_Peer] = collections.deque()
        self._cond = threading.Condition()
        self._working = False
        self._thread: threading.Thread | None = None
        self._closed = False
        _CLOSERS.add(self)

    def release(self, peer: _Peer) -> None:
        if peer.closed:
            return
        peer.session.kill()
        with self._cond:
            if not self._closed and len(self._pending) < CLOSE_BACKLOG:
                self._pending.append(peer)
                if self._thread is None:
                    self._thread = threading.Thread(target=self._work, name="rlvr-code-closer", daemon=True)
                    self._thread.start()
                self._cond.notify_all()
                return
        peer.close()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._pending:
                    self._working = False
                    self._cond.notify_all()
                    if self._closed:
                        self._thread = None
                        return
                    self._cond.wait()
                peer = self._pending.popleft()
                self._working = True
            try:
                peer.close()
            except Exception:  # a session that fails to close must not end the closer
                log.exception("code verifier: closing a sandbox session failed")

    def drain(self) -> None:
        """Wait until every session released so far is closed."""
        with self._cond:
            while self._pending or self._working:
                self._cond.wait()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self.drain()

    def forget(self) -> None:
        """In a forked child: the sessions waiting here belong to the parent (see ``_Checkers.forget``)."""
        _INHERITED_PEERS.extend(self._pending)
        self._pending = collections.deque()
        self._cond = threading.Condition()
        self._working = False
        self._thread = None


_CHECKER_POOLS: weakref.WeakSet[_Checkers] = weakref.WeakSet()
_CLOSERS: weakref.WeakSet[_Closer] = weakref.WeakSet()
_INHERITED_PEERS: list[_Peer] = []  # a forked child's copies of its parent's sessions: never used nor closed


def _forget_inherited_sessions() -> None:
    for owner in [*_CHECKER_POOLS, *_CLOSERS]:
        owner.forget()


os.register_at_fork(after_in_child=_forget_inherited_sessions)


@atexit.register
def _close_sessions() -> None:
    for owner in [*_CHECKER_POOLS, *_CLOSERS]:
        owner.close()


@dataclass
class _Outcome:
    """One test's outcome as the host judged it."""

    passed: bool
    failure: dict | None = None  # input / expected / got | error
    reason: str = ""
    wall_s: float = 0.0


# --------------------------------------------------------------------------------------------
# The verifier
# --------------------------------------------------------------------------------------------


class CodeVerifier(SafeVerifier):
    """Runs extracted Python code on a code task's tests in the sandbox (see module docstring)."""

    def canonical_answer(self, task: Task, response: Any) -> str | None:
        """The program this verifier runs (``extract_code``), as ``reward: majority``'s key: its
        syntax tree, so comments and layout do not split a vote (text where it does not parse)."""
        return block_key(response, extract_code, self.max_response_chars, program_key)

    def __init__(
        self,
        partial: bool = False,
        backend: str | None = None,
        allow_unsafe_unsandboxed: bool = False,
        memory_mb: int = 1024,
        max_total_s: float = 30.0,
        warm: bool = True,
        sandbox: str = "auto",
        image: str | None = None,
    ):
        if not (isinstance(max_total_s, (int, float)) and math.isfinite(max_total_s) and max_total_s > 0):
            raise ValueError(f"max_total_s must be a positive number, got {max_total_s!r}")
        self.partial = flag_option("partial", partial)
        self.memory_mb = int(memory_mb)
        self.max_total_s = float(max_total_s)
        if backend is not None:  # the deprecated name of ``sandbox``
            warnings.warn("the code verifier's backend= is deprecated; pass sandbox=", DeprecationWarning, stacklevel=2)
            if sandbox not in ("auto", backend):
                raise ValueError(
                    f"backend={backend!r} and sandbox={sandbox!r} disagree (backend= is sandbox='s old name)"
                )
            sandbox = backend
        self.sandbox = Sandbox(sandbox, allow_unsafe_unsandboxed=allow_unsafe_unsandboxed, image=image)
        if self.sandbox.backend not in SESSION_BACKENDS:
            backend_name = self.sandbox.backend
            self.sandbox.close()
            raise SandboxUnavailable(
                f"the code verifier needs interactive sandbox sessions, which the {backend_name} backend does not "
                "offer; install bubblewrap (`apt-get install bubblewrap`) or, for trusted code only, pass "
                "sandbox='unsafe-none', allow_unsafe_unsandboxed=True"
            )
        self.isolated = self.sandbox.backend in ("bwrap", "docker")
        self.sys_path, cache_tag = self._site_directories()
        # the harness ships as bytecode for this interpreter; an image's other Python gets the source
        if cache_tag == sys.implementation.cache_tag:
            self.harness_name, self.harness_pyc = "harness.pyc", compiled_harness()
        else:
            self.harness_name, self.harness_pyc = "harness.py", Path(code_harness.__file__).read_bytes()
        self.warm_pool: WarmPool | DockerPool | None = None
        self.warm_unavailable = "" if warm else "warm=False"
        if warm and self.sandbox.backend == "docker":
            self.warm_pool = DockerPool(self.sandbox)
        elif warm:
            try:
                self.warm_pool = WarmPool(
                    self.sandbox, modules={"harness": self.harness_pyc}, entry="harness:main", imports=WARM_IMPORTS
                )
            except SandboxUnavailable as error:  # not root, no memory cgroup, unsafe-none: cold sessions
                self.warm_unavailable = str(error)
        self.checkers = _Checkers(self, CHECKERS_KEPT)
        self.closer = _Closer()
        # assert-style tasks' do-nothing outcomes (``_do_nothing_outcomes``), by what the checker
        # runs (partial=True only)
        self.do_nothing_outcomes: collections.OrderedDict[str, dict] = collections.OrderedDict()
        self.do_nothing_lock = threading.Lock()
        do_nothing_s = STARTUP_S + self.max_total_s if self.partial else 0.0
        self.deadline_s = STARTUP_S + UNPACK_S + 2 * self.max_total_s + do_nothing_s + MARGIN_S

    def enter_session(self, stack: contextlib.ExitStack, argv: list, files: dict, limits: Limits):
        """(session, "warm" | "cold"): a harness session entered on ``stack``, a warm child of a
        zygote (the harness already imported there, so harness.pyc is not shipped) when the warm
        path works, else a cold one."""
        if isinstance(self.warm_pool, DockerPool):  # a started container per session: it gets everything
            try:
                return stack.enter_context(self.warm_pool.session(argv, files=files, limits=limits)), "warm"
            except SandboxUnavailable as error:
                self.warm_unavailable = str(error)
        elif self.warm_pool is not None:
            warm_files = {name: data for name, data in files.items() if name != "harness.pyc"}
            try:
                session = stack.enter_context(self.warm_pool.session(["harness.pyc"], files=warm_files, limits=limits))
                return session, "warm"
            except SandboxUnavailable:
                pass  # the pool replaced what failed; this session falls back to a cold one
        return stack.enter_context(self.sandbox.session(argv, files=files, limits=limits)), "cold"

    def _site_directories(self) -> tuple[list[str], str]:
        """The sys.path entries that site processing adds inside the sandbox (the harness runs
        with -S and adds them itself, skipping .pth files), and the sandbox Python's cache tag."""
        probe = "import json, sys; print(json.dumps([sys.path, sys.implementation.cache_tag]))"
        paths = []
        for flags in (["-I"], ["-I", "-S"]):
            result = self.sandbox.run([self.sandbox.python, *flags, "-c", probe], limits=Limits(wall_s=30.0))
            if not result.ok:
                raise SandboxUnavailable(f"the sandbox's python does not start: {result.stderr[-500:]!r}")
            paths.append(json.loads(result.stdout))
        return [path for path in paths[0][0] if path not in paths[1][0]], paths[0][1]

    def settle(self) -> None:
        """Close the idle checker sessions kept for later verifications and wait until every
        candidate session of earlier ones is closed (e.g. before counting what is left open)."""
        self.closer.drain()
        self.checkers.clear()

    def close(self) -> None:
        self.closer.close()
        self.checkers.close()
        if self.warm_pool is not None:
            self.warm_pool.close()
        self.sandbox.close()

    # -- time budget
    def time_limit(self, task: Task) -> float:
        limit = task.answer.get("time_limit_s") or DEFAULT_TIME_LIMIT_S
        return min(max(float(limit), MIN_TIME_LIMIT_S), self.max_total_s)

    def test_budget(self, task: Task) -> float:
        packed = _packed_tests(task) or {}
        count = (
            1 if task.answer["style"] == "assert" else max(1, len(task.answer["tests"]), int(packed.get("count", 0)))
        )
        return min(count * self.time_limit(task), self.max_total_s)

    def deadline_for(self, task: Task) -> float:
        """Seconds this task's verification may take at most."""
        unpack = UNPACK_S if _packed_tests(task) else 0.0
        checks = self.time_limit(task) + self.test_budget(task) + self.do_nothing_budget(task)
        return STARTUP_S + unpack + checks + MARGIN_S

    def do_nothing_budget(self, task: Task) -> float:
        """Seconds for running an assert-style task's check against the do-nothing answers
        (partial=True): a checker's start-up and one time limit for all of them."""
        if not self.partial or task.answer["style"] != "assert":
            return 0.0
        return STARTUP_S + self.time_limit(task)

    # -- entry
    def check(self, task: Task, response: str) -> Verdict:
        code, problem = find_code(response)
        if code is None:
            return Verdict.fail(problem)
        source = code.encode("utf-8", "replace")
        if len(source) > MAX_CODE_BYTES:
            return Verdict.fail(f"code too long ({len(source)} bytes; at most {MAX_CODE_BYTES})")
        style = task.answer["style"]
        clock = _Clock(self.deadline_for(task), reserve_s=MARGIN_S)
        if _packed_tests(task):
            task, problem = self._unpacked(task, clock)
            if task is None:
                return Verdict.fail(problem)
        if style == "function":
            verdict = self._check_function(task, source, clock)
        elif style == "stdio":
            verdict = self._check_stdio(task, source, clock)
        elif style == "assert":
            verdict = self._check_assert(task, source, clock)
        else:
            raise ValueError(f"unknown code task style {style!r}")
        verdict.details["timings"]["total_s"] = round(clock.elapsed(), 4)
        paths = sorted(clock.sandbox_paths)
        verdict.details["sandbox"] = {
            "path": "+".join(paths) or "none",
            "enforcement": self.warm_pool.enforcement if paths == ["warm"] else self.sandbox.enforcement,
        }
        if self.warm_unavailable and "cold" in paths:
            verdict.details["sandbox"]["warm_unavailable"] = clip(self.warm_unavailable, 200)
        return verdict

    @staticmethod
    def _unpacked(task: Task, clock: _Clock) -> tuple[Task | None, str]:
        """The task with its compact tests rebuilt on the host (cached per task, at most UNPACK_S),
        or (None, why not). The rebuilt expected values stay on the host like inline ones."""
        from rlvr.generators.code import full_answer  # that module imports this one

        try:
            answer = full_answer(task, min(UNPACK_S, clock.remaining()))
        except TimeoutError:
            return None, f"the task's tests were not rebuilt within {UNPACK_S:g} s"
        except (ValueError, KeyError, TypeError) as error:
            return None, f"the task's packed tests are unusable: {clip(str(error), 200)}"
        return dataclasses.replace(task, answer=answer), ""

    # -- verdicts
    def _verdict(
        self,
        task: Task,
        outcomes: list[_Outcome],
        total: int,
        unit: str,
        timings: dict,
        startup_failure: dict | None = None,
    ) -> Verdict:
        passed = sum(outcome.passed for outcome in outcomes)
        first = next((outcome for outcome in outcomes if not outcome.passed), None)
        details = {
            "style": task.answer["style"],
            "passed": passed,
            "total": total,
            "tests_run": len(outcomes),
            "outcomes": "".join("1" if outcome.passed else "0" for outcome in outcomes),
            "first_failure": first.failure if first else startup_failure,
            "first_failure_index": outcomes.index(first) if first else None,  # 0-based test (check) number
            "timings": timings,
            "backend": self.sandbox.backend,
        }
        if startup_failure is not None:
            reason = startup_failure["reason"]
        elif total == 0:
            reason = "the task has no tests"
        elif passed == total:
            reason = f"passed all {total} {unit}{'s' if total != 1 else ''}"
        elif first is not None:
            reason = f"failed {unit} {outcomes.index(first) + 1} of {total}: {first.reason}"
        else:
            reason = f"stopped after {len(outcomes)} of {total} {unit}s: time budget exhausted"
        correct = passed == total and total > 0
        reward = 1.0 if correct else 0.0
        if self.partial and not correct and total and task.answer["style"] != "assert":  # assert: _check_assert
            floor = do_nothing_passes(task.answer)
            details["do_nothing_passes"] = floor
            reward = max(0.0, (passed - floor) / (total - floor)) if floor < total else 0.0
        return Verdict(reward, correct, True, clip(reason, REASON_CHARS), details)

    # -- function style
    def _start_server(self, task: Task, source: bytes, clock: _Clock) -> tuple[_Peer | None, dict]:
        """A loaded function server, or (None, failure) when the code does not load."""
        config = {
            "mode": "function",
            "entry_point": task.answer["entry_point"],
            "setup_code": task.answer.get("setup_code") or "",
            "source_file": "solution.py",
            "share_classes": task.answer["style"] == "assert",
        }
        peer = _Peer(self, config, {"solution.py": source}, clock)
        try:
            started = peer.receive(min(STARTUP_S, clock.remaining()), CONTROL_FRAME_BYTES)
            if started.get("started") is not True:
                raise _Broken("protocol", "did not start")
        except _Broken as broken:
            peer.close()
            raise RuntimeError(f"the function server did not start: {broken}") from None
        limit = self.time_limit(task)
        try:
            ready = peer.receive(min(limit, clock.remaining()), CONTROL_FRAME_BYTES)
        except _Broken as broken:
            peer.close()
            what = (
                f"loading the code took longer than {limit:g} s"
                if broken.kind == "timeout"
                else f"the program {broken} while loading"
            )
            return None, {"reason": what, "error": what}
        if ready.get("ready") is not True:
            peer.close()
            error = error_text(ready.get("error"))
            kind = error_name(ready.get("error"))
            what = (
                "the code does not compile"
                if kind in ("SyntaxError", "IndentationError", "TabError", "ValueError")
                else "the code failed while loading"
            )
            return None, {"reason": f"{what}: {clip(error.splitlines()[-1] if error else '', 200)}", "error": error}
        return peer, {}

    def _ask(self, peer: _Peer, request: dict, timeout: float, frame_bytes: int) -> tuple[str, Any, float]:
        """Send one call and read the raw reply line: ("line", bytes, seconds) or
        ("timeout"|"exited"|"protocol", message, seconds) after closing the peer."""
        started = time.monotonic()
        try:
            peer.send(request, timeout=timeout)
        except _Broken as broken:
            peer.close()
            return broken.kind, str(broken), time.monotonic() - started
        return self._reply(peer, timeout, frame_bytes, started)

    @staticmethod
    def _reply(peer: _Peer, timeout: float, frame_bytes: int, started: float) -> tuple[str, Any, float]:
        """The raw reply line to the call sent at ``started`` (``timeout`` from then), as ``_ask``."""
        try:
            line = peer.receive_line(max(0.0, timeout - (time.monotonic() - started)), frame_bytes)
        except _Broken as broken:
            peer.close()
            return broken.kind, str(broken), time.monotonic() - started
        return "line", line, time.monotonic() - started

    def _send_next(self, server: _Peer | None, known: collections.deque, number: int, clock: _Clock) -> tuple | None:
        """Send the loaded ``server`` the check's call ``number`` if its source fixes it (``known``:
        the calls of ``code_check_calls`` not yet sent, numbered as the checker numbers them),
        before the checker asks for it; its (number, key), or None when nothing was sent.  The
        server has answered every earlier call by then: it sees each call only after its reply
        to the one before, as when calls are relayed one by one."""
        while known and known[0][0] < number:
            known.popleft()
        if server is None or not known or known[0][0] != number:
            return None
        _, key, request = known.popleft()
        try:
            server.send(request, timeout=min(STARTUP_S, clock.remaining()))
        except _Broken:  # the server has gone: the call restarts it and is relayed
            return None
        return number, key

    def _call(self, peer: _Peer, args: Any, number: int, timeout: float, frame_bytes: int) -> tuple[str, Any, float]:
        """("ok", encoded value, seconds) | ("error", error dict, s) | ("timeout"|"exited"|"protocol", message, s)."""
        kind, line, elapsed = self._ask(peer, {"call": number, "args": args, "kwargs": []}, timeout, frame_bytes)
        if kind != "line":
            return kind, line, elapsed
        try:
            reply = loads_frame(line)
        except CodecError as error:
            peer.close()
            return "protocol", f"sent a malformed reply ({error})", elapsed
        if reply.get("result") != number or not isinstance(reply.get("ok"), bool):
            peer.close()
            return "protocol", "sent a reply that does not answer the call", elapsed
        if reply["ok"]:
            return "ok", reply.get("value"), elapsed
        return "error", reply.get("error"), elapsed

    def _check_function(self, task: Task, source: bytes, clock: _Clock) -> Verdict:
        answer = task.answer
        tests = answer["tests"]
        limit = self.time_limit(task)
        tolerance = answer.get("float_tolerance")
        entry = answer["entry_point"]
        outcomes: list[_Outcome] = []
        timings = {"startup_s": 0.0, "tests_s": 0.0, "slowest_test_s": 0.0}
        peer: _Peer | None = None
        try:
            for number, test in enumerate(tests):
                if clock.remaining() <= 0:
                    break
                if peer is None or not peer.alive:
                    began = time.monotonic()
                    peer, failure = self._start_server(task, source, clock)
                    timings["startup_s"] += time.monotonic() - began
                    if peer is None:
                        if not outcomes:
                            return self._verdict(task, [], len(tests), "test", timings, startup_failure=failure)
                        break
                args = parse_literal(test["args"])
                expected = parse_literal(test["expected"])
                kind, value, elapsed = self._call(
                    peer,
                    encode_value(list(args)),
                    number,
                    min(limit, clock.remaining()),
                    result_frame_bytes(test["expected"]),
                )
                timings["tests_s"] += elapsed
                timings["slowest_test_s"] = max(timings["slowest_test_s"], elapsed)
                outcome = self._judge_value(kind, value, expected, tolerance, limit, clock)
                if outcome.failure is not None:
                    shown = f"{entry.rpartition('.')[2]}({', '.join(short_repr(a) for a in args)})"
                    outcome.failure = {"input": clip(shown), **outcome.failure}
                outcome.wall_s = elapsed
                outcomes.append(outcome)
                if not outcome.passed and not self.partial:
                    break
        finally:
            if peer is not None:
                self.closer.release(peer)
        return self._verdict(task, outcomes, len(tests), "test", _rounded(timings))

    @staticmethod
    def _judge_value(
        kind: str, value: Any, expected: Any, tolerance: float | None, limit: float, clock: _Clock
    ) -> _Outcome:
        failure = {"expected": short_repr(expected)}
        if kind == "ok":
            try:
                got = ResultReader(deadline=clock.final).read(value)
                matched = values_match(expected, got, tolerance)
            except (CodecError, RecursionError, MemoryError) as error:
                failure["error"] = f"the result could not be read back: {clip(str(error), 200)}"
                return _Outcome(False, failure, "unreadable result")
            if matched:
                return _Outcome(True)
            failure["got"] = short_repr(got)
            return _Outcome(False, failure, "wrong answer")
        if kind == "error":
            failure["error"] = error_text(value)
            return _Outcome(False, failure, f"runtime error ({error_name(value)})")
        if kind == "timeout":
            failure["error"] = f"time limit exceeded ({limit:g} s)"
            return _Outcome(False, failure, f"time limit exceeded ({limit:g} s)")
        failure["error"] = f"the program {value}"
        return _Outcome(False, failure, "the program crashed" if kind == "exited" else "protocol violation")

    # -- stdio style
    def _start_runner(self, task: Task, source: bytes, clock: _Clock) -> tuple[_Peer | None, dict]:
        config = {
            "mode": "stdio",
            "source_file": "solution.py",
            "time_limit_s": self.time_limit(task),
            "stdout_cap": STDOUT_CAP_BYTES,
            "isolated": self.isolated,
            "setup_code": task.answer.get("setup_code") or "",
        }
        peer = _Peer(self, config, {"solution.py": source}, clock)
        try:
            ready = peer.receive(min(STARTUP_S, clock.remaining()), CONTROL_FRAME_BYTES)
        except _Broken as broken:
            peer.close()
            return None, {"reason": f"the runner {broken}", "error": f"the runner {broken}"}
        if ready.get("ready") is not True:
            peer.close()
            error = error_text(ready.get("error"))
            return None, {
                "reason": f"the code does not compile: {clip(error.splitlines()[-1] if error else '', 200)}",
                "error": error,
            }
        return peer, {}

    def _check_stdio(self, task: Task, source: bytes, clock: _Clock) -> Verdict:
        answer = task.answer
        tests = answer["tests"]
        limit = self.time_limit(task)
        tolerance = answer.get("float_tolerance")
        outcomes: list[_Outcome] = []
        timings = {"startup_s": 0.0, "tests_s": 0.0, "slowest_test_s": 0.0}
        peer: _Peer | None = None
        try:
            for number, test in enumerate(tests):
                if clock.remaining() <= 0:
                    break
                if peer is None or not peer.alive:
                    began = time.monotonic()
                    peer, failure = self._start_runner(task, source, clock)
                    timings["startup_s"] += time.monotonic() - began
                    if peer is None:
                        if not outcomes:
                            return self._verdict(task, [], len(tests), "test", timings, startup_failure=failure)
                        break
                stdin = test["input"].encode("utf-8")
                began = time.monotonic()
                outcome = self._run_stdio_test(peer, number, stdin, test["output"], tolerance, limit, clock)
                outcome.wall_s = time.monotonic() - began
                timings["tests_s"] += outcome.wall_s
                timings["slowest_test_s"] = max(timings["slowest_test_s"], outcome.wall_s)
                outcomes.append(outcome)
                if not outcome.passed and not self.partial:
                    break
        finally:
            if peer is not None:
                self.closer.release(peer)
        return self._verdict(task, outcomes, len(tests), "test", _rounded(timings))

    def _run_stdio_test(
        self,
        peer: _Peer,
        number: int,
        stdin: bytes,
        expected: str,
        tolerance: float | None,
        limit: float,
        clock: _Clock,
    ) -> _Outcome:
        failure = {"input": clip(stdin.decode("utf-8", "replace")), "expected": clip(expected)}
        wait = min(limit + RUNNER_SLACK_S + len(stdin) / 50e6, clock.remaining())
        try:
            peer.send({"run": number, "input_size": len(stdin)}, stdin, timeout=wait)
            report = peer.receive(wait, CONTROL_FRAME_BYTES)
            size = report.get("stdout_size")
            if report.get("result") != number or type(size) is not int or not 0 <= size <= STDOUT_CAP_BYTES:
                raise _Broken("protocol", "sent a malformed report")
            out = peer.read_exactly(size, timeout=clock.remaining())
        except _Broken as broken:
            peer.close()
            if broken.kind == "timeout":
                failure["error"] = f"time limit exceeded ({limit:g} s)"
                return _Outcome(False, failure, f"time limit exceeded ({limit:g} s)")
            failure["error"] = f"the test runner {broken} (the program killed it?)"
            return _Outcome(False, failure, "the program crashed")
        got = out.decode("utf-8", "replace")
        stderr = _text(report.get("stderr"), 8 * SHOWN_CHARS)[-2 * SHOWN_CHARS :]
        if report.get("timed_out"):
            failure["error"] = f"time limit exceeded ({limit:g} s)"
            return _Outcome(False, failure, f"time limit exceeded ({limit:g} s)")
        if report.get("output_limit"):
            failure["error"] = f"output limit exceeded ({STDOUT_CAP_BYTES >> 20} MiB)"
            return _Outcome(False, failure, "output limit exceeded")
        if report.get("exit_code") != 0:
            signal_number = report.get("signal")
            status = f"killed by signal {signal_number}" if signal_number else f"exit status {report.get('exit_code')}"
            failure["error"] = f"runtime error ({status})" + (f":\n{stderr}" if stderr else "")
            failure["got"] = clip(got)
            return _Outcome(False, failure, f"runtime error ({status})")
        if stdout_matches(expected, got, tolerance):
            return _Outcome(True)
        failure["got"] = clip(got)
        return _Outcome(False, failure, "wrong answer")

    # -- assert style
    def _check_assert(self, task: Task, source: bytes, clock: _Clock) -> Verdict:
        """The check's verdict; with partial=True, one that is not correct is paid only for the
        checks no do-nothing answer passes, beyond what one other constant passes of them
        (``assert_partial_reward``)."""
        verdict = self._run_check(task, source, clock)
        if not self.partial or verdict.correct or not verdict.details.get("passed"):
            return verdict
        total = verdict.details["total"]
        do_nothing = self._do_nothing_outcomes(task, total, clock)
        reason = verdict.reason
        if do_nothing is None:
            reason += "; no partial credit: the check could not be run against the do-nothing answers in time"
        return dataclasses.replace(
            verdict,
            reward=assert_partial_reward(verdict.details["outcomes"], total, do_nothing),
            reason=clip(reason, REASON_CHARS),
            details={**verdict.details, "do_nothing": do_nothing},
        )

    def _do_nothing_outcomes(self, task: Task, total: int, clock: _Clock) -> dict | None:
        """What do-nothing programs pass of an assert-style task's checks: ``passable``, one
        character per check, "1" when one of ``DO_NOTHING_ANSWERS`` (a constant returned, the
        first argument handed back) passes it, and ``compared``, per value the check code
        compares answers with, the checks that do (the ``COMPARED_VALUES`` run).  The check runs
        in a trusted checker against each answer, never against the candidate, all within
        ``do_nothing_budget``.  Kept per verifier by a digest of what the checker runs; None
        (nothing kept) when a run failed or overran."""
        answer = task.answer
        code = [answer.get("setup_code") or "", answer["check_code"], answer.get("entry_point") or "", total]
        key = hashlib.sha256(json.dumps([*code, DO_NOTHING_ANSWERS]).encode()).hexdigest()
        with self.do_nothing_lock:
            known = self.do_nothing_outcomes.get(key)
            if known is not None:
                self.do_nothing_outcomes.move_to_end(key)
                return known
        deadline = min(time.monotonic() + self.do_nothing_budget(task), clock.deadline)
        passable = [False] * total
        compared: list[str] = []
        try:
            for name in DO_NOTHING_ANSWERS:
                run = self._run_do_nothing(task, name, total, deadline, clock)
                if run is None:
                    return None
                passable = [before or now for before, now in zip(passable, run[0])]
            if not all(passable):  # else nothing counts whatever the other constants pass
                run = self._run_do_nothing(task, COMPARED_VALUES, total, deadline, clock)
                if run is None or run[1] is None:
                    return None
                compared = run[1]
        except Exception:  # a checker that could not start: no credit this time, nothing kept
            log.exception("code verifier: running a check against a do-nothing answer failed")
            return None
        known = {"passable": "".join("1" if free else "0" for free in passable), "compared": compared}
        with self.do_nothing_lock:
            self.do_nothing_outcomes[key] = known
            while len(self.do_nothing_outcomes) > DO_NOTHING_CACHE_SIZE:
                self.do_nothing_outcomes.popitem(last=False)
        return known

    def _run_do_nothing(
        self, task: Task, name: str, total: int, deadline: float, clock: _Clock
    ) -> tuple[list[bool], list[str] | None] | None:
        """Which checks the do-nothing answer ``name`` passes (checks a check that ended before
        reaching them fail) and, for ``COMPARED_VALUES``, the checker's ``compared`` masks; None
        when the checker did not answer as the protocol says by ``deadline``."""
        answer = task.answer
        nonce = secrets.token_hex(16)
        problem = {
            "nonce": nonce,
            "setup_code": answer.get("setup_code") or "",
            "check_code": answer["check_code"],
            "entry_point": answer.get("entry_point") or "",
            "stop_at_first_failure": False,
            "do_nothing": name,
        }

        def left() -> float:
            return max(0.0, deadline - time.monotonic())

        checker = self.checkers.take(clock)
        clean = False
        try:
            checker.send(problem, timeout=min(STARTUP_S, left()))
            ready = self._from_checker(checker, nonce, left())
            if ready.get("ready") is not True or ready.get("checks") != total:
                return None
            passed = [False] * total
            while True:
                message = self._from_checker(checker, nonce, left())
                if "check" in message and type(message["check"]) is int and 0 <= message["check"] < total:
                    passed[message["check"]] = message.get("passed") is True
                elif message.get("done") is True:
                    clean = True
                    compared = message.get("compared")
                    if not (isinstance(compared, list) and all(type(m) is str and len(m) == total for m in compared)):
                        compared = None
                    return passed, compared
                else:  # a call would mean the do-nothing answer reached the host: never expected
                    return None
        except (_Broken, RuntimeError):
            return None
        finally:
            if clean:
                self.checkers.give_back(checker)
            else:
                checker.close()

    def _run_check(self, task: Task, source: bytes, clock: _Clock) -> Verdict:
        answer = task.answer
        limit = self.time_limit(task)
        nonce = secrets.token_hex(16)
        timings = {"startup_s": 0.0, "tests_s": 0.0, "slowest_test_s": 0.0}
        problem = {
            "nonce": nonce,
            "setup_code": answer.get("setup_code") or "",
            "check_code": answer["check_code"],
            "entry_point": answer.get("entry_point") or "",
            "stop_at_first_failure": not self.partial,
        }
        began = time.monotonic()
        checker = self.checkers.take(clock)
        server: _Peer | None = None
        clean = False  # the check ended as the protocol says: the checker may serve another problem
        try:
            checker.send(problem, timeout=min(STARTUP_S, clock.remaining()))  # set up while the server loads
            server, failure = self._start_server(task, source, clock)
            try:
                ready = self._from_checker(checker, nonce, min(STARTUP_S, clock.remaining()))
            except _Broken as broken:
                raise RuntimeError(f"the checker {broken}") from None
            if ready.get("ready") is not True or type(ready.get("checks")) is not int or ready["checks"] < 1:
                raise RuntimeError(f"the checker could not start: {error_text(ready.get('error'))}")
            total = ready["checks"]
            timings["startup_s"] = time.monotonic() - began
            if server is None:
                clean = self._end_check_early(checker, nonce, clock)
                return self._verdict(task, [], total, "check", _rounded(timings), startup_failure=failure)
            check_started = time.monotonic()  # the check runs already; its calls are served from now
            check_deadline = min(check_started + limit, clock.deadline)
            # calls go ahead only while the check stops at its first failure: then the checker makes
            # them in source order until it stops (with every check run, a failed one may skip one)
            ahead = (
                calls_known_ahead(answer["check_code"], problem["setup_code"], problem["entry_point"])
                if problem["stop_at_first_failure"]
                else ()
            )
            known = collections.deque(
                (n, key, {"call": n, "args": args, "kwargs": kwargs}) for n, (key, args, kwargs) in enumerate(ahead, 1)
            )
            in_flight = self._send_next(server, known, 1, clock)  # computed while the checker starts
            outcomes: list[_Outcome] = []
            calls = 0
            last_call: dict | None = None  # the last call of the check code itself (shown when time runs out)
            while True:
                remaining = check_deadline - time.monotonic()
                try:
                    message = self._from_checker(checker, nonce, max(0.0, remaining))
                except _Broken as broken:
                    if broken.kind != "timeout":
                        raise RuntimeError(f"the checker {broken}") from None
                    failure = {"error": f"time limit exceeded ({limit:g} s for all checks)", **_shown_last(last_call)}
                    outcomes.append(_Outcome(False, failure, f"time limit exceeded ({limit:g} s)"))
                    break
                if "call" in message:
                    calls += 1
                    number = message["call"]
                    if in_flight and server is not None and server.alive and in_flight != (number, _key_of(message)):
                        # another call than the one sent ahead (check code that calls the candidate
                        # where its source does not show it): the server's next reply answers a
                        # call the check did not make; it is read and dropped, and the rest of
                        # the calls are relayed one by one
                        in_flight = None
                        known.clear()
                        self._reply(server, max(0.0, check_deadline - time.monotonic()), FRAME_BYTES, time.monotonic())
                    if server is None or not server.alive:
                        known.clear()
                        in_flight = None
                        server, failure = self._start_server(task, source, clock)
                    if server is None:
                        reply = {
                            "reply": number,
                            "ok": False,
                            "error": {"type": "CandidateError", "message": "the candidate's program could not restart"},
                        }
                    else:
                        request = {"call": number, "args": message.get("args"), "kwargs": message.get("kwargs", [])}
                        if isinstance(message.get("target"), str):
                            request["target"] = message["target"]
                        remaining = max(0.0, check_deadline - time.monotonic())
                        if in_flight:  # its reply is computed, or being computed, already
                            in_flight = None
                            kind, line, elapsed = self._reply(server, remaining, FRAME_BYTES, time.monotonic())
                        else:
                            kind, line, elapsed = self._ask(server, request, remaining, FRAME_BYTES)
                        timings["slowest_test_s"] = max(timings["slowest_test_s"], elapsed)
                        if kind == "timeout":
                            failure = {
                                "error": f"time limit exceeded ({limit:g} s for all checks)",
                                "input": _shown_call(message),
                            }
                            outcomes.append(_Outcome(False, failure, f"time limit exceeded ({limit:g} s)"))
                            break
                        if kind == "line":  # relayed unread: only the checker's sandbox decodes it
                            reply = {"reply": number, "frame": binascii.b2a_base64(line, newline=False).decode("ascii")}
                        else:
                            reply = {
                                "reply": number,
                                "ok": False,
                                "error": {"type": "CandidateError", "message": f"the candidate's program {line}"},
                            }
                    if message.get("target") is None:
                        last_call = message
                    try:
                        checker.send(reply, timeout=clock.remaining())
                    except _Broken as broken:
                        if broken.kind != "timeout":
                            raise RuntimeError(f"the checker {broken}") from None
                        failure = {
                            "error": f"time limit exceeded ({limit:g} s for all checks)",
                            **_shown_last(last_call),
                        }
                        outcomes.append(_Outcome(False, failure, f"time limit exceeded ({limit:g} s)"))
                        break
                    if "frame" in reply:  # the next call, computed while the checker reads this reply
                        in_flight = self._send_next(server, known, number + 1, clock)
                elif "check" in message:
                    if message.get("passed") is True:
                        outcomes.append(_Outcome(True))
                    else:
                        outcomes.append(_check_failure(message.get("failure")))
                elif message.get("done") is True:
                    if message.get("aborted") and len(outcomes) < total:
                        outcomes.append(_check_failure(message["aborted"], aborted=True))
                    clean = True
                    break
                else:
                    raise RuntimeError("the checker sent an unknown message")
            timings["tests_s"] = time.monotonic() - check_started
            timings["calls"] = calls
            return self._verdict(task, outcomes[:total], total, "check", _rounded(timings))
        finally:
            if clean:
                self.checkers.give_back(checker)
            else:
                checker.close()
            if server is not None:
                self.closer.release(server)

    def _end_check_early(self, checker: _Peer, nonce: str, clock: _Clock) -> bool:
        """The candidate's program did not load: answer the check's calls with ``abort`` until it
        ends (at most ``ABORT_S``); True when it ended as the protocol says."""
        deadline = time.monotonic() + min(ABORT_S, clock.remaining())
        try:
            while True:
                message = self._from_checker(checker, nonce, max(0.0, deadline - time.monotonic()))
                if "call" in message:
                    checker.send(
                        {"reply": message["call"], "abort": True}, timeout=max(0.0, deadline - time.monotonic())
                    )
                elif message.get("done") is True:
                    return True
                elif "check" not in message:
                    return False
        except (_Broken, RuntimeError):
            return False

    @staticmethod
    def _from_checker(checker: _Peer, nonce: str, timeout: float) -> dict:
        message = checker.receive(timeout, FRAME_BYTES)
        if message.pop("nonce", None) != nonce:
            raise RuntimeError("a message without the run's nonce reached the checker channel")
        return message


def _key_of(call: dict) -> str | None:
    """``call_key`` of a checker's call message (None for a call of a class of the candidate, or
    arguments too deep to key: neither is ever sent ahead)."""
    if call.get("target") is not None:
        return None
    try:
        return call_key(call.get("args"), call.get("kwargs", []))
    except (ValueError, TypeError, RecursionError):
        return None


def _packed_tests(task: Task) -> dict | None:
    """The compact task's record of tests kept out of the row (rlvr.generators.code), used only
    when the row's own ``tests`` list is empty."""
    return None if task.answer.get("tests") else task.answer.get("packed_tests")


def _shown_call(message: dict) -> str:
    """``candidate(args…)`` for details, read with small bounds (args may hold what the
    candidate returned earlier, passed back by the check code)."""
    try:
        args = ResultReader(deadline=time.monotonic() + SHOWN_READ_S, max_depth=SHOWN_DEPTH).read(message.get("args"))
    except (CodecError, RecursionError, MemoryError):
        return "candidate(…)"
    if type(args) is not list:
        return "candidate(…)"
    shown, size = [], 0
    for arg in args:
        shown.append(short_repr(arg))
        size += len(shown[-1])
        if size > SHOWN_CHARS:
            break
    return clip(f"candidate({', '.join(shown)})")


def _shown_last(call: dict | None) -> dict:
    return {} if call is None else {"input": _shown_call(call)}


def _check_failure(failure: Any, aborted: bool = False) -> _Outcome:
    """The outcome of a failed check as the trusted checker reported it (its fields may hold
    text the candidate chose: each is cut)."""
    failure = failure if isinstance(failure, dict) else {}
    error = failure.get("error")
    name = error_name(error) if isinstance(error, dict) else "error"
    error_type = _text(failure.get("error_type"), 60)
    if failure.get("got") is not None and name == "AssertionError":
        reason = "wrong answer"
    elif name == "CodecError":
        reason = "unreadable result (plain data only)"
    elif error_type:
        reason = f"runtime error ({error_type})"
    else:
        reason = f"{name}" + (" outside the checks" if aborted else "")
    shown = {
        key: clip(failure[key] if type(failure[key]) is str else short_repr(failure[key]))
        for key in ("statement", "input", "expected", "got")
        if failure.get(key) is not None
    }
    if error and (name != "AssertionError" or failure.get("got") is None):
        shown["error"] = error_text(error) if isinstance(error, dict) else _text(error, 2 * SHOWN_CHARS)
    if type(failure.get("line")) is int:
        shown["line"] = failure["line"]
    return _Outcome(False, shown, reason)


def _rounded(timings: dict) -> dict:
    return {key: round(value, 4) if isinstance(value, float) else value for key, value in timings.items()}


__all__ = [
    "CodeVerifier",
    "ResultReader",
    "extract_code",
    "find_code",
    "parse_literal",
    "result_frame_bytes",
    "returned_value_matches",
    "short_repr",
    "stdout_matches",
    "values_match",
]
