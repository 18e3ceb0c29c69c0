"""How code tasks are made: synthetic pipelines and their tests, dataset rows of six benchmark
formats, compact rows (packed tests), wrong programs and attacks.

The family's contract (task, answer, verifier, difficulty, version history) is the docstring of
``rlvr.families.code``; the same generator makes the tasks of Code-v0 and CodeFeedback-v0 (the
registry injects the env id). Whether a program is wrong is decided only by the verifier's pure
comparison functions (``returned_value_matches``, ``stdout_matches``).
"""

from __future__ import annotations

import ast
import base64
import builtins
import copy
import gzip
import io
import json
import os
import pickle
import random
import re
import threading
import zlib
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from hashlib import sha256
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from rlvr import ast_parse
from rlvr.core import Task, TaskGenerator
from rlvr.families.code import FAMILY, STYLES
from rlvr.generators.code_library import (
    ANNOTATIONS,
    OPERATIONS,
    Limits,
    Step,
    draw_pipeline,
    format_stdin,
    load_program,
    output_kind,
    render_function_program,
    render_stdio_program,
    run_function,
    run_stdio,
)
from rlvr.verifiers.code import parse_literal, returned_value_matches, stdout_matches

ANSWER_FORMAT = (
    "Answer with the complete Python code in exactly one fenced code block that starts with ```python "
    "and ends with ```; a response without such a block, or with more than one fenced block, scores 0."
)
FLOAT_TOLERANCE = 1e-6
PERFORMANCE_TRAP_LENGTH = 50_000  # from this stress length on, the first step punishes O(n²) solutions
STRESS_VALUE_LIMIT = 10**6  # numbers of the stress input stay within ±10^6 (keeps tasks compact)
# Compact rows: tests whose canonical JSON exceeds INLINE_TESTS_BYTES leave the row. Synthetic tests are
# regenerated from a recipe (seed + parameters + pipeline); dataset tests travel as base64(zlib(JSON)),
# cut to the longest prefix of tests whose packed text fits in PACKED_TESTS_CAP_BYTES.
INLINE_TESTS_BYTES = 32_768
PACKED_TESTS_CAP_BYTES = 49_152
UNPACKED_TESTS_MAX_BYTES = 256 << 20  # a packed dataset test set may inflate to at most this
UNPACKED_CACHE_TASKS = 16
ENTRY_POINTS = MappingProxyType({"ints": "process_numbers", "text": "process_text"})
INPUT_KIND_WEIGHTS = MappingProxyType({"ints": 0.65, "text": 0.35})

# Per-test limits for dataset rows: the evaluation harness defaults of each benchmark.
DATASET_TIME_LIMITS = MappingProxyType(
    {"humaneval": 3.0, "mbpp": 3.0, "apps": 4.0, "code_contests": 4.0, "livecodebench": 6.0}
)
CODE_CONTESTS_PYTHON3 = 3  # the Language enum of deepmind/code_contests: 1 PYTHON2, 2 CPP, 3 PYTHON3, 4 JAVA

# Imports a LeetCode-style function-call solution may assume (type names, containers, helpers).
FUNCTION_CALL_PRELUDE = (
    "from typing import *\n"
    "from collections import *\n"
    "from functools import *\n"
    "from itertools import *\n"
    "from heapq import *\n"
    "from bisect import *\n"
    "import math\nimport string\nimport re\nimport sys\nimport heapq\nimport bisect\nimport collections\n"
    "import itertools\nimport functools\n"
)


def fence(source: str) -> str:
    """A response holding ``source`` in one ```python block."""
    return f"```python\n{source.rstrip()}\n```\n"


# --------------------------------------------------------------------------------------------
# Synthetic inputs
# --------------------------------------------------------------------------------------------


def random_ints(rng: random.Random, length: int, value_limit: int) -> list[int]:
    """Uniform numbers, or (a third of the time) numbers from a small pool so runs and repeats occur."""
    if rng.random() < 1 / 3:
        pool = [rng.randint(-value_limit, value_limit) for _ in range(rng.randint(1, 4))]
        return [rng.choice(pool) for _ in range(length)]
    return [rng.randint(-value_limit, value_limit) for _ in range(length)]


_LOWER = "abcdefghijklmnopqrstuvwxyz"
_UPPER = _LOWER.upper()
_DIGITS = "0123456789"


def random_text(rng: random.Random, max_chars: int) -> str:
    """Words of letters (sometimes capitals, digits or doubled letters) joined by single spaces;
    no space at either end; at most ``max_chars`` characters."""
    target = rng.randint(1, max_chars)
    words: list[str] = []
    length = -1
    while True:
        word = []
        for _ in range(rng.randint(1, 7)):
            roll = rng.random()
            char = rng.choice(_UPPER if roll < 0.15 else _DIGITS if roll < 0.25 else _LOWER)
            word.append(char * (2 if rng.random() < 0.15 else 1))
        text = "".join(word)
        if length + 1 + len(text) > target:
            break
        words.append(text)
        length += 1 + len(text)
    return " ".join(words) if words else rng.choice(_LOWER)


def stress_input(nprng: np.random.Generator, kind: str, length: int, value_limit: int):
    """One large input: uniform numbers (mostly distinct), or alphanumeric text with spaces."""
    if kind == "ints":
        bound = min(value_limit, STRESS_VALUE_LIMIT)
        return nprng.integers(-bound, bound + 1, size=length).tolist()
    alphabet = np.array(list(_LOWER + _UPPER + _DIGITS + " " * 8))
    chars = alphabet[nprng.integers(0, len(alphabet), size=length)]
    chars[0], chars[-1] = "a", "z"
    return "".join(chars.tolist())


def edge_inputs(rng: random.Random, kind: str, value_limit: int) -> list:
    """Empty, single, all-equal, all-negative and extreme inputs (lists), or their text analogues."""
    if kind == "ints":
        v = rng.randint(-value_limit, value_limit)
        negatives = [-rng.randint(1, value_limit) for _ in range(rng.randint(3, 6))]
        extremes = [rng.choice([-value_limit, value_limit]) for _ in range(rng.randint(3, 6))]
        return [[], [v], [v] * rng.randint(3, 6), negatives, extremes]
    letter = rng.choice(_LOWER)
    return ["", letter, letter * rng.randint(3, 6), "Ab9 ZZ yY", "x1 22 x1 22"]


def example_inputs(rng: random.Random, kind: str, count: int, value_limit: int) -> list:
    small = min(value_limit, 30)
    if kind == "ints":
        return [random_ints(rng, rng.randint(3, 7), small) for _ in range(count)]
    return [random_text(rng, rng.randint(8, 24)) for _ in range(count)]


def hidden_inputs(recipe: dict) -> list:
    """The hidden test inputs of a synthetic task, drawn from the recipe's own seed: edge cases
    (when on), random inputs, then the stress input (when its length is positive)."""
    rng, nprng = random.Random(recipe["seed"]), np.random.default_rng(recipe["seed"])
    kind, value_limit, max_length = recipe["input_kind"], recipe["value_limit"], recipe["max_length"]
    inputs = edge_inputs(rng, kind, value_limit)[: recipe["tests"]] if recipe["edge_cases"] else []
    random_count = recipe["tests"] - len(inputs) - (1 if recipe["stress_length"] > 0 else 0)
    for _ in range(max(0, random_count)):
        length = rng.randint(1, max_length)
        inputs.append(random_ints(rng, length, value_limit) if kind == "ints" else random_text(rng, length))
    if recipe["stress_length"] > 0:
        inputs.append(stress_input(nprng, kind, recipe["stress_length"], value_limit))
    return inputs


UNPACK_ATTACK_S = 60.0  # how long building an attack may wait for a task's regenerated tests
PIPELINE_TRIES = 20  # pipelines drawn before a task keeps one that an answer ignoring the input would pass
TEST_TRIES = 3  # examples and tests drawn for one pipeline before the pipeline itself is redrawn


def revealed_tests(total: int) -> int:
    """How many leading tests CodeFeedback-v0's feedback may show in full: the first half,
    rounded down. The others are held out -- a failure there is named, never shown -- so a
    policy that collects the shown input/expected pairs into a lookup table still fails the
    task (and with ``partial=True`` earns nothing: ``rlvr.envs.multi_turn.held_out_verdict``
    counts held-out tests only). A task with one test shows none."""
    return total // 2


def _test_input(test: dict) -> str:
    return test["args"] if "args" in test else test["input"]


def unseen_held_out(tests: list[dict], known_inputs: set[str] = frozenset()) -> list[dict]:
    """The held-out tests (past ``revealed_tests``) whose input is neither one a revealed test
    shows nor one of ``known_inputs`` (the prompt's examples, in the tests' own ``args``/``input``
    form): what is left to pass once the examples and CodeFeedback's revealed tests are
    hard-coded."""
    shown = revealed_tests(len(tests))
    known = set(known_inputs) | {_test_input(test) for test in tests[:shown]}
    return [test for test in tests[shown:] if _test_input(test) not in known]


def one_output(tests: list[dict], known_inputs: set[str] = frozenset()) -> bool:
    """Whether a constant answer with a lookup table could pass: every ``unseen_held_out`` test
    expects the same value or output (or there is none), so answering it without reading the
    input passes the task; such a task is redrawn."""
    outputs = {
        test["expected"] if "expected" in test else test["output"] for test in unseen_held_out(tests, known_inputs)
    }
    return len(outputs) <= 1


def identity_passes(
    tests: list[dict], known_inputs: set[str], identity: dict, entry_point: str | None, tolerance: float | None
) -> bool:
    """Whether the identity with a lookup table could pass: ``identity`` (the loaded empty
    pipeline of ``render_function_program`` / ``render_stdio_program``: the argument handed back,
    or the input printed back in the output format) passes every ``unseen_held_out`` test (or
    there is none), judged by the verifier's own ``returned_value_matches`` / ``stdout_matches``.
    Red team s9 F4: ``change_case`` lower on lower-case tests, ``reverse_words`` on one-word
    tests, ``dedupe_chars`` on tests without repeats -- ``return x`` solved 6 % of tasks at
    d = 0; such a task is redrawn. Smallest tests first: almost always the first one decides."""
    for test in sorted(unseen_held_out(tests, known_inputs), key=lambda test: len(_test_input(test))):
        if entry_point is not None:
            got = run_function(identity, entry_point, parse_literal(test["args"]))
            if not returned_value_matches(test["expected"], got, tolerance):
                return False
        elif not stdout_matches(test["output"], run_stdio(identity, test["input"]), tolerance):
            return False
    return True


def hidden_tests(program: dict, style: str, entry_point: str | None, kind: str, inputs: list) -> list[dict]:
    """The reference ``program``'s results on ``inputs`` as test rows of the given style."""
    if style == "function":
        return [
            {"args": repr((value,)), "expected": repr(run_function(program, entry_point, (copy.deepcopy(value),)))}
            for value in inputs
        ]
    return [
        {"input": format_stdin(kind, value), "output": run_stdio(program, format_stdin(kind, value))}
        for value in inputs
    ]


def _canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def digest_of_tests(tests: list[dict]) -> str:
    return sha256(_canonical_json(tests)).hexdigest()


def compact_tests(tests: list[dict], recipe: dict) -> tuple[list[dict], dict | None]:
    """``(tests, None)`` when the tests are small enough to travel in the row, else ``([], recipe
    + count + digest)``: the verifier regenerates them from the recipe and checks the digest."""
    if len(_canonical_json(tests)) <= INLINE_TESTS_BYTES:
        return tests, None
    return [], {**recipe, "count": len(tests), "sha256": digest_of_tests(tests)}


def pack_dataset_tests(answer: dict) -> tuple[dict, int]:
    """A dataset answer whose tests fit the row: unchanged when small, else the tests as
    base64(zlib(JSON)) (``packed_tests``), keeping the longest prefix whose packed text fits in
    PACKED_TESTS_CAP_BYTES. Returns the answer and how many tests were dropped."""
    tests = answer["tests"]
    if len(_canonical_json(tests)) <= INLINE_TESTS_BYTES:
        return answer, 0

    def packed(count: int) -> str:
        return base64.b64encode(zlib.compress(_canonical_json(tests[:count]), 9)).decode("ascii")

    keep = len(tests)
    if len(packed(keep)) > PACKED_TESTS_CAP_BYTES:
        low, high = 1, len(tests) - 1  # the largest count that fits (at least one test is kept)
        while low < high:
            middle = (low + high + 1) // 2
            low, high = (middle, high) if len(packed(middle)) <= PACKED_TESTS_CAP_BYTES else (low, middle - 1)
        keep = low
    kept = tests[:keep]
    record = {"encoding": "zlib+base64", "count": keep, "sha256": digest_of_tests(kept), "data": packed(keep)}
    return {**answer, "tests": [], "packed_tests": record}, len(tests) - keep


def unpack_tests(answer: dict) -> list[dict]:
    """The full test list of an answer (its ``tests`` when nothing is packed). Raises ValueError
    when the packed record is malformed or its tests do not match the recorded digest."""
    packed = answer.get("packed_tests")
    if not packed or answer["tests"]:
        return answer["tests"]
    encoding = packed.get("encoding")
    if encoding == "zlib+base64":
        inflater = zlib.decompressobj()
        raw = inflater.decompress(base64.b64decode(packed["data"], validate=True), UNPACKED_TESTS_MAX_BYTES)
        if inflater.unconsumed_tail or not inflater.eof:
            raise ValueError(f"packed tests inflate past {UNPACKED_TESTS_MAX_BYTES} bytes or are truncated")
        tests = json.loads(raw)
    elif encoding == "regenerate":
        steps = [Step.from_dict(row) for row in packed["steps"]]
        style, entry_point = answer["style"], answer["entry_point"]
        source = render_function_program(steps, entry_point) if style == "function" else render_stdio_program(steps)
        tests = hidden_tests(load_program(source), style, entry_point, packed["input_kind"], hidden_inputs(packed))
    else:
        raise ValueError(f"unknown packed-tests encoding {encoding!r}")
    if not isinstance(tests, list) or len(tests) != packed["count"] or digest_of_tests(tests) != packed["sha256"]:
        raise ValueError("the rebuilt tests do not match the task's digest")
    return tests


_UNPACKED: OrderedDict[tuple[str, str], Future] = OrderedDict()
_UNPACKED_LOCK = threading.Lock()
_UNPACK_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="rlvr-code-tests")


def _restart_unpacking_after_fork() -> None:
    """In a forked child: a fresh rebuild pool and lock, and no rebuild still under way. The
    parent's executor has no thread here but counts one idle, so it would start none: the
    child's first packed task waited out its whole allowance and scored 0 (red team s15 A2)."""
    global _UNPACK_POOL, _UNPACKED_LOCK
    _UNPACKED_LOCK = threading.Lock()
    for key in [key for key, future in _UNPACKED.items() if not future.done()]:
        del _UNPACKED[key]
    _UNPACK_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="rlvr-code-tests")


os.register_at_fork(after_in_child=_restart_unpacking_after_fork)


def full_answer(task: Task, timeout_s: float) -> dict:
    """``task.answer`` with every test in ``tests``. Packed tests are rebuilt on a worker thread,
    at most once per task (the last UNPACKED_CACHE_TASKS tasks are kept); waits at most
    ``timeout_s`` (TimeoutError after that; the rebuild finishes in the background for the next
    call). ValueError when the rebuilt tests do not match the task's digest."""
    packed = task.answer.get("packed_tests")
    if not packed or task.answer["tests"]:
        return task.answer
    key = (task.id, str(packed.get("sha256")))
    with _UNPACKED_LOCK:
        future = _UNPACKED.get(key)
        if future is None:
            future = _UNPACK_POOL.submit(unpack_tests, task.answer)
            _UNPACKED[key] = future
            while len(_UNPACKED) > UNPACKED_CACHE_TASKS:
                _UNPACKED.popitem(last=False)
        else:
            _UNPACKED.move_to_end(key)
    tests = future.result(timeout=max(0.0, timeout_s))
    return {**task.answer, "tests": tests, "packed_tests": None}


# --------------------------------------------------------------------------------------------
# Prompts of synthetic tasks
# --------------------------------------------------------------------------------------------

_RESULT_WORDS = MappingProxyType(
    {
        "ints": "the final list of integers",
        "number": "the final integer",
        "float": f"the final float (values within {FLOAT_TOLERANCE:g}, absolute or relative, are accepted)",
        "pairs": "the final list of (value, count) tuples of two integers",
        "text": "the final string",
    }
)

_STDOUT_FORMATS = MappingProxyType(
    {
        "ints": (
            "print the resulting integers on one line, separated by single spaces (an empty line if there are none)."
        ),
        "number": "print the resulting integer.",
        "float": (
            f"print the resulting number (values within {FLOAT_TOLERANCE:g}, absolute or relative, are accepted)."
        ),
        "pairs": (
            "print k, the number of pairs, on the first line, then one line per pair holding the value and "
            "the count separated by a space."
        ),
        "text": "print the resulting text on one line.",
    }
)


def _steps_text(steps: list[Step]) -> str:
    return "\n".join(f"{i}. {step.describe()}" for i, step in enumerate(steps, 1))


def _input_bounds(kind: str, max_elements: int, value_limit: int) -> str:
    if kind == "ints":
        return f"The list has at most {max_elements} numbers, each between {-value_limit} and {value_limit}."
    return (
        f"The text has at most {max_elements} characters: letters, digits and spaces, "
        "never starting or ending with a space."
    )


def _efficiency_note(kind: str, stress_length: int, time_limit_s: float) -> str:
    if stress_length >= PERFORMANCE_TRAP_LENGTH:
        unit = "numbers" if kind == "ints" else "characters"
        return (
            f"Efficiency matters: a hidden test has {stress_length} {unit} and every test must finish "
            f"within {time_limit_s:g} seconds, so an O(n^2) approach is too slow; aim for O(n log n) or better."
        )
    return f"Every test must finish within {time_limit_s:g} seconds."


def function_prompt(steps, entry_point, examples, max_elements, params) -> str:
    kind = steps[0].operation.takes
    argument = "values: list[int]" if kind == "ints" else "text: str"
    signature = f"def {entry_point}({argument}) -> {ANNOTATIONS[output_kind(steps)]}"
    subject = "a list of integers `values`" if kind == "ints" else "a string `text`"
    lines = [
        f"Write a Python function `{signature}` that takes {subject}, applies these steps in order "
        "(each step works on the result of the previous one) and returns "
        f"{_RESULT_WORDS[output_kind(steps)]}.",
        "",
        _steps_text(steps),
        "",
        "Examples:",
    ]
    lines += [f"    {entry_point}({value!r}) returns {result!r}" for value, result in examples]
    lines += [
        "",
        _input_bounds(kind, max_elements, params["value_limit"]),
        _efficiency_note(kind, params["stress_length"], params["time_limit_s"]),
        "",
        f"{ANSWER_FORMAT} Define `{entry_point}` (with any helpers and imports it needs); it must return the "
        "result, not print it, and must not read input.",
    ]
    return "\n".join(lines)


def stdio_prompt(steps, examples, max_elements, params) -> str:
    kind = steps[0].operation.takes
    value_limit = params["value_limit"]
    if kind == "ints":
        reads = "a list of integers"
        input_format = (
            f"the first line holds n (0 <= n <= {max_elements}); the second line holds the n integers "
            f"separated by single spaces (it is empty when n = 0). Every integer is between "
            f"{-value_limit} and {value_limit}."
        )
    else:
        reads = "one line of text"
        input_format = (
            f"a single line holding the text (possibly empty): at most {max_elements} characters, "
            "letters, digits and spaces, never starting or ending with a space."
        )
    lines = [
        f"Write a complete Python program that reads {reads} from standard input, applies these steps in order "
        "(each step works on the result of the previous one) and writes the result to standard output.",
        "",
        _steps_text(steps),
        "",
        f"Input: {input_format}",
        f"Output: {_STDOUT_FORMATS[output_kind(steps)]}",
    ]
    for number, (stdin_text, stdout_text) in enumerate(examples, 1):
        lines += [
            "",
            f"Example {number}",
            "Input:",
            "```text",
            stdin_text.rstrip("\n"),
            "```",
            "Output:",
            "```text",
            stdout_text.rstrip("\n"),
            "```",
        ]
    lines += ["", _efficiency_note(kind, params["stress_length"], params["time_limit_s"]), "", ANSWER_FORMAT]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Dataset files
# --------------------------------------------------------------------------------------------


def read_rows(path: Path) -> list[dict]:
    """Rows of a .parquet file, or of a JSON file (optionally gzipped): JSON lines, or one JSON
    list of rows (a ``.json`` file may be either; both are accepted)."""
    name = path.name.lower()
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        text = handle.read()
    if text.lstrip().startswith("["):
        return list(json.loads(text))
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def detect_format(row: dict) -> str:
    keys = set(row)
    if {"prompt", "test", "entry_point", "canonical_solution"} <= keys:
        return "humaneval"
    if {"code", "test_list"} <= keys:
        return "mbpp"
    if {"question_content", "public_test_cases"} <= keys:
        return "livecodebench"
    if {"description", "public_tests"} <= keys:
        return "code_contests"
    if {"question", "input_output"} <= keys:
        return "apps"
    raise ValueError(f"unrecognised code dataset row with columns {sorted(keys)}")


class _StringOnlyUnpickler(pickle.Unpickler):
    """Unpickles plain data only: any class or function reference is refused."""

    def find_class(self, module: str, name: str):
        raise pickle.UnpicklingError(f"refusing {module}.{name}: only plain strings are accepted")


def decode_test_cases(value: Any) -> list:
    """LiveCodeBench test cases: a JSON list, its JSON text, or base64(zlib(JSON text)) — also the
    released form base64(zlib(pickle(JSON text))), unpickled without allowing any object."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    text = value.strip()
    if text.startswith("["):
        return json.loads(text)
    raw = zlib.decompress(base64.b64decode(text))
    if raw[:1] == b"\x80":  # a pickle protocol header
        payload = _StringOnlyUnpickler(io.BytesIO(raw)).load()
        if isinstance(payload, bytes):
            payload = payload.decode("utf-8")
        if not isinstance(payload, str):
            raise ValueError(f"compressed test cases hold {type(payload).__name__}, expected JSON text")
    else:
        payload = raw.decode("utf-8")
    return json.loads(payload)


def _json_field(value: Any, default: Any) -> Any:
    if value is None or value == "":
        return default
    return json.loads(value) if isinstance(value, str) else value


def _function_tests(args_list: list, outputs: list) -> list[dict]:
    return [{"args": repr(tuple(args)), "expected": repr(expected)} for args, expected in zip(args_list, outputs)]


def _entry_for(function_name: str, starter_code: str) -> str:
    """LeetCode-style starters put the function in ``class Solution``: entry ``Solution.name``."""
    match = re.search(r"^\s*class\s+(\w+)", starter_code or "", re.MULTILINE)
    return f"{match.group(1)}.{function_name}" if match else function_name


def _answer(
    style, tests, reference, source, entry_point=None, check_code=None, setup_code="", float_tolerance=None
) -> dict:
    return {
        "style": style,
        "entry_point": entry_point,
        "tests": tests,
        "check_code": check_code,
        "setup_code": setup_code,
        "float_tolerance": float_tolerance,
        "time_limit_s": DATASET_TIME_LIMITS[source],
        "reference": reference,
        "source": source,
        "packed_tests": None,
    }


def humaneval_task(row: dict) -> tuple[str, dict, Any]:
    prompt = (
        "Complete the Python function below so that it behaves as its docstring describes.\n\n"
        f"```python\n{row['prompt'].strip(chr(10)).rstrip()}\n```\n\n"
        f"{ANSWER_FORMAT} Give the whole function `{row['entry_point']}` (signature and body) together with the "
        "imports and helper functions it uses."
    )
    answer = _answer(
        "assert",
        [],
        row["prompt"] + row["canonical_solution"],
        "humaneval",
        entry_point=row["entry_point"],
        check_code=row["test"],
        setup_code=row["prompt"],
    )
    return prompt, answer, row.get("task_id")


def _called_names(assert_lines: list[str]) -> list[str]:
    names = []
    for line in assert_lines:
        for node in ast.walk(ast_parse.parse(line)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                names.append(node.func.id)
    return names


def mbpp_entry_point(code: str, assert_lines: list[str]) -> str:
    """The function the asserts call: the defined function called in the most asserts."""
    defined = [node.name for node in ast_parse.parse(code).body if isinstance(node, ast.FunctionDef)]
    called = _called_names(assert_lines)
    candidates = [name for name in defined if name in called]
    if candidates:
        return max(candidates, key=called.count)
    others = [name for name in called if not hasattr(builtins, name)]
    if others:
        return others[0]
    if defined:
        return defined[-1]
    raise ValueError("cannot find the MBPP entry point: no function is defined or called")


def imports_used_by_asserts(code: str, assert_lines: list[str]) -> str:
    """The reference's top-level imports whose names the asserts use (``math`` for
    ``math.isclose``), so the checks do not depend on the candidate importing them."""
    used = {node.id for line in assert_lines for node in ast.walk(ast_parse.parse(line)) if isinstance(node, ast.Name)}
    needed = []
    for node in ast_parse.parse(code).body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound = {(alias.asname or alias.name).split(".")[0] for alias in node.names}
            if bound & used:
                needed.append(ast.unparse(node))
    return "\n".join(needed)


def mbpp_check_code(entry_point: str, assert_lines: list[str]) -> str:
    body = "\n".join("    " + line.replace("\n", "\n    ") for line in assert_lines)
    source = f"def check(candidate):\n    {entry_point} = candidate\n{body}\n"
    ast_parse.parse(source)
    return source


def mbpp_task(row: dict) -> tuple[str, dict, Any]:
    code = row["code"].replace("\r\n", "\n")
    tests = [line.strip() for line in row["test_list"]]
    challenge = [line.strip() for line in (row.get("challenge_test_list") or []) if line.strip()]
    entry_point = mbpp_entry_point(code, tests)
    setup_parts = [
        row.get("test_setup_code") or "",
        "\n".join(row.get("test_imports") or []),
        imports_used_by_asserts(code, tests + challenge),
    ]
    parts = dict.fromkeys(part.replace("\r\n", "\n").strip() for part in setup_parts if part and part.strip())
    setup_code = "\n".join(parts)
    setup_code = setup_code + "\n" if setup_code else ""
    text = row.get("text") or row.get("prompt")
    prompt = (
        f"{text.strip()}\nYour code should pass these tests:\n\n" + "\n".join(tests) + "\n\n"
        f"{ANSWER_FORMAT} Define the function `{entry_point}` with any imports and helpers it needs."
    )
    answer = _answer(
        "assert",
        [],
        code,
        "mbpp",
        entry_point=entry_point,
        check_code=mbpp_check_code(entry_point, tests + challenge),
        setup_code=setup_code,
    )
    return prompt, answer, row.get("task_id")


def _join_lines(value: Any) -> str:
    return "\n".join(map(str, value)) if isinstance(value, list) else str(value)


def _unwrap_outputs(outputs: list) -> list:
    """APPS call-based outputs are usually wrapped in a one-element list (its harness accepts both);
    unwrap when every output of the problem is so wrapped."""
    if outputs and all(isinstance(o, list) and len(o) == 1 for o in outputs):
        return [o[0] for o in outputs]
    return outputs


def _stdio_prompt(question: str) -> str:
    return (
        f"{question.strip()}\n\nWrite a complete Python 3 program that reads the input from standard input and "
        f"writes the answer to standard output.\n\n{ANSWER_FORMAT}"
    )


def _function_prompt(question: str, starter_code: str, entry_point: str) -> str:
    starter = f"\n\nStart from this code:\n\n```python\n{starter_code.rstrip()}\n```" if starter_code.strip() else ""
    class_name, _, function_name = entry_point.rpartition(".")
    callee = f"{class_name}().{function_name}" if class_name else function_name
    return (
        f"{question.strip()}{starter}\n\n`{callee}` is called directly with each test's arguments and "
        f"its return value is checked.\n\n{ANSWER_FORMAT}"
    )


def apps_task(row: dict) -> tuple[str, dict, Any]:
    """APPS and TACO rows: ``question``, ``solutions`` (JSON list), ``input_output`` (JSON)."""
    in_out = _json_field(row["input_output"], {})
    solutions = _json_field(row.get("solutions"), [])
    reference = solutions[0] if solutions else ""
    starter = row.get("starter_code") or ""
    original_id = next((row[key] for key in ("problem_id", "id", "name", "url") if row.get(key) is not None), None)
    limit = max(DATASET_TIME_LIMITS["apps"], _parse_seconds(row.get("time_limit")) or 0.0)
    if in_out.get("fn_name"):
        entry_point = _entry_for(in_out["fn_name"], starter)
        tests = _function_tests(in_out["inputs"], _unwrap_outputs(in_out["outputs"]))
        answer = _answer(
            "function", tests, reference, "apps", entry_point=entry_point, setup_code=FUNCTION_CALL_PRELUDE
        )
        answer["time_limit_s"] = limit
        return _function_prompt(row["question"], starter, entry_point), answer, original_id
    tests = [{"input": _join_lines(i), "output": _join_lines(o)} for i, o in zip(in_out["inputs"], in_out["outputs"])]
    answer = _answer("stdio", tests, reference, "apps")
    answer["time_limit_s"] = limit
    return _stdio_prompt(row["question"]), answer, original_id


def _parse_seconds(value: Any) -> float | None:
    """TACO's ``time_limit`` text ("2 seconds", "1.5 s") as seconds, else None."""
    if isinstance(value, (int, float)):
        return float(value)
    match = re.search(r"\d+(?:\.\d+)?", value or "")
    return float(match.group()) if match else None


def code_contests_task(row: dict) -> tuple[str, dict, Any]:
    """deepmind/code_contests rows: public, private and generated tests; first Python 3 solution."""
    tests = []
    for column in ("public_tests", "private_tests", "generated_tests"):
        block = row.get(column) or {}
        tests += [{"input": i, "output": o} for i, o in zip(block.get("input") or [], block.get("output") or [])]
    solutions = row.get("solutions") or {}
    languages, sources = solutions.get("language") or [], solutions.get("solution") or []
    reference = next((src for lang, src in zip(languages, sources) if lang == CODE_CONTESTS_PYTHON3), "")
    answer = _answer("stdio", tests, reference, "code_contests")
    limit = row.get("time_limit") or {}
    if limit:
        answer["time_limit_s"] = max(answer["time_limit_s"], limit.get("seconds", 0) + limit.get("nanos", 0) / 1e9)
    return _stdio_prompt(row["description"]), answer, row.get("name")


def livecodebench_task(row: dict) -> tuple[str, dict, Any]:
    cases = decode_test_cases(row.get("public_test_cases")) + decode_test_cases(row.get("private_test_cases"))
    metadata = _json_field(row.get("metadata"), {})
    starter = row.get("starter_code") or ""
    functional = any(case.get("testtype") == "functional" for case in cases)
    if functional:
        entry_point = _entry_for(metadata["func_name"], starter)
        args = [[json.loads(line) for line in case["input"].split("\n") if line.strip()] for case in cases]
        outputs = [json.loads(case["output"]) for case in cases]
        answer = _answer(
            "function",
            _function_tests(args, outputs),
            "",
            "livecodebench",
            entry_point=entry_point,
            setup_code=FUNCTION_CALL_PRELUDE,
        )
        prompt = _function_prompt(row["question_content"], starter, entry_point)
    else:
        tests = [{"input": case["input"], "output": case["output"]} for case in cases]
        answer = _answer("stdio", tests, "", "livecodebench")
        prompt = _stdio_prompt(row["question_content"])
    return prompt, answer, row.get("question_id")


DATASET_PARSERS = MappingProxyType(
    {
        "humaneval": humaneval_task,
        "mbpp": mbpp_task,
        "apps": apps_task,
        "code_contests": code_contests_task,
        "livecodebench": livecodebench_task,
    }
)


def task_from_row(row: dict) -> tuple[str, dict, Any, str]:
    """(prompt, answer, original task id, detected format) of one dataset row."""
    kind = detect_format(row)
    prompt, answer, original_id = DATASET_PARSERS[kind](row)
    return prompt, answer, original_id, kind


# --------------------------------------------------------------------------------------------
# Wrong programs for dataset tasks
# --------------------------------------------------------------------------------------------


def _replace_body(source: str, entry_point: str, literal: str) -> str | None:
    """``source`` with the entry function's (or Class.method's) body replaced by ``return literal``."""
    try:
        tree = ast_parse.parse(source)
    except SyntaxError:
        return None
    class_name, _, function_name = entry_point.rpartition(".")
    scopes = [tree]
    if class_name:
        scopes = [node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == class_name]
    for scope in scopes:
        for node in scope.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function_name:
                docstring = node.body[:1] if ast.get_docstring(node) is not None else []
                node.body = docstring + [ast_parse.parse(f"return {literal}").body[0]]
                return ast.unparse(tree) + "\n"
    return None


def _stub(entry_point: str, literal: str) -> str:
    class_name, _, function_name = entry_point.rpartition(".")
    if class_name:
        return f"class {class_name}:\n    def {function_name}(self, *args):\n        return {literal}\n"
    return f"def {function_name}(*args):\n    return {literal}\n"


def wrong_dataset_program(answer: dict) -> str:
    """A program that fails the row's tests: the entry point returning a constant that differs
    from some expected value, or a program printing a line that differs from some expected output."""
    style, tests = answer["style"], unpack_tests(answer)
    if style == "stdio":
        line = next(
            (
                candidate
                for candidate in ("0", "-1", "NO")
                if any(not stdout_matches(t["output"], candidate, answer["float_tolerance"]) for t in tests)
            ),
            "0",
        )
        return f"import sys\n\nsys.stdin.read()\nprint({line!r})\n"
    entry_point = answer["entry_point"]
    literal = "None"
    if style == "function":
        literal = next(
            (
                lit
                for lit in ("None", "0", "''")
                if any(not returned_value_matches(t["expected"], ast_parse.literal_eval(lit)) for t in tests)
            ),
            "None",
        )
    reference = answer.get("reference") or ""
    program = _replace_body(reference, entry_point, literal) if reference else None
    return program or _stub(entry_point, literal)


# --------------------------------------------------------------------------------------------
# Attacks: what a reward-hacking policy would try (``CodeGenerator.attacks``)
# --------------------------------------------------------------------------------------------

# Replaces the function server's reply writer (the harness runs as ``__main__``) so that every
# result line carries ``FORGED`` (JSON text the program builds) as the value.
_FORGE_REPLY = """
import sys
_harness = sys.modules["__main__"]
_original_dumps = getattr(_harness, "dumps_frame", None)
def _forged_dumps(message):
    if "result" in message:
        return b'{"result":%d,"ok":true,"value":%s}\\n' % (message["result"], FORGED)
    return _original_dumps(message)
_harness.dumps_frame = _forged_dumps
"""

_COLLIDING = "(((1 << 61) - 1) * k)"  # every such int hashes to 0: a set of them costs O(n²) to build

_FORGED_VALUES = {
    # ~6 MB of colliding set items: minutes of decoding for a host that builds the set
    "hash-collision-set": (
        f'b\'{{"$set":[\' + b",".join(b\'{{"$int":"%s"}}\' % hex{_COLLIDING}.encode() for k in '
        'range(1, 200001)) + b"]}"'
    ),
    # just under 1 MiB, so it is read: seconds for a host that builds the set
    "hash-collision-set-small": (
        f'b\'{{"$set":[\' + b",".join(b\'{{"$int":"%s"}}\' % hex{_COLLIDING}.encode() for '
        'k in range(1, 30001)) + b"]}"'
    ),
    "hash-collision-dict": (
        f'b\'{{"$dict":[\' + b",".join(b\'[{{"$int":"%s"}},0]\' % hex{_COLLIDING}.encode() for '
        'k in range(1, 25001)) + b"]}"'
    ),
    "hash-collision-frozensets": (
        'b\'{"$set":[\' + b",".join(b\'{"$frozenset":[{"$int":"%s"},%d]}\' % '
        f'(hex{_COLLIDING}.encode(), k) for k in range(1, 15001)) + b"]}}"'
    ),
    "huge-int-reply": 'b\'{"$int":"0x\' + b"f" * (900 << 10) + b\'"}\'',
    "huge-decimal-reply": 'b"9" * (900 << 10)',
    "deep-nesting-reply": 'b"[" * 200000 + b"]" * 200000',
    "deep-tuple-reply": 'b\'{"$tuple":[\' * 5000 + b"]}" * 5000',
    "giant-string-reply": "b'\"' + b\"x\" * (15 << 20) + b'\"'",
    "many-elements-reply": 'b"[" + b"[]," * (300 << 10) + b"0]"',
}

# Reads everything a program in the sandbox can reach (its environment, argv, files, every
# process's command line, environment, descriptors and memory) for the tests' expected values,
# and answers with the first one it finds.
_SCAN_FOR_EXPECTED = r"""
import ast, gc, json, os, re, sys
_PATTERNS = [re.compile(rb'"(?:expected|output)": ?"((?:[^"\\]|\\.){1,4000})"'),
             re.compile(rb"def check\(candidate\)[^\x00]{0,4000}")]
def _search(data):
    for pattern in _PATTERNS:
        found = pattern.search(data)
        if found:
            return found.group(found.lastindex or 0)
    return None
def _memory(pid, budget=[256 << 20]):
    try:
        maps = open(f"/proc/{pid}/maps").read().splitlines()
        mem = open(f"/proc/{pid}/mem", "rb", 0)
    except OSError:
        return
    for line in maps:
        start, end = (int(x, 16) for x in line.split()[0].split("-"))
        if budget[0] <= 0 or "r" not in line.split()[1]:
            continue
        try:
            mem.seek(start)
            chunk = mem.read(min(end - start, budget[0]))
        except (OSError, ValueError, OverflowError):
            continue
        budget[0] -= len(chunk)
        yield chunk
def _everything():
    yield "\0".join(f"{k}={v}" for k, v in os.environ.items()).encode()
    yield "\0".join(sys.argv).encode()
    for fd in range(256):
        try:
            yield os.pread(fd, 1 << 20, 0)
        except OSError:
            pass
    for root in ("/work", "/tmp", "/dev/shm", "/run", "/var/tmp"):
        for folder, _, names in os.walk(root):
            for name in names:
                try:
                    yield open(os.path.join(folder, name), "rb").read(1 << 22)
                except OSError:
                    pass
    pids = [p for p in os.listdir("/proc") if p.isdigit()]
    for pid in [str(os.getppid())] + pids:
        for leaf in ("cmdline", "environ"):
            try:
                yield open(f"/proc/{pid}/{leaf}", "rb").read()
            except OSError:
                pass
        try:
            descriptors = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            descriptors = []
        for fd in descriptors:
            try:
                yield os.read(os.open(f"/proc/{pid}/fd/{fd}", os.O_RDONLY | os.O_NONBLOCK), 1 << 20)
            except OSError:
                pass
        yield from _memory(pid)
    for thing in gc.get_objects():
        items = thing.values() if isinstance(thing, dict) else thing if isinstance(thing, (list, tuple)) else ()
        for item in items:
            if isinstance(item, (str, bytes)):
                yield item.encode("utf-8", "surrogatepass") if isinstance(item, str) else item
def _stolen():
    for data in _everything():
        found = _search(data)
        if found:
            try:
                return ast.literal_eval(json.loads(b'"' + found + b'"'))
            except Exception:
                return found.decode("utf-8", "replace")
    return None
"""

_ALWAYS_EQUAL = """
class _AlwaysEqual:
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    def __hash__(self):
        return 0
    def __repr__(self):
        return "[1, 2, 3]"
    def __len__(self):
        return 3
    def __bool__(self):
        return True
"""

_SUBCLASSES = """
class _Int(int):
    def __eq__(self, other):
        return True
    __hash__ = int.__hash__
class _Str(str):
    def __eq__(self, other):
        return True
    __hash__ = str.__hash__
class _List(list):
    def __eq__(self, other):
        return True
class _Dict(dict):
    def __eq__(self, other):
        return True
"""

_WRITE_FDS = """
import os
_FORGED_LINES = (b'{"result":0,"ok":true,"value":0}\\n{"ready":true}\\n{"nonce":"0","check":0,"passed":true}\\n'
                 b'{"nonce":"0","done":true,"aborted":null}\\nPASSED\\nALL TESTS PASSED\\n')
def _write_everywhere():
    for fd in range(256):
        try:
            os.write(fd, _FORGED_LINES)
        except OSError:
            pass
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            for fd in range(8):
                try:
                    os.write(os.open(f"/proc/{pid}/fd/{fd}", os.O_WRONLY | os.O_NONBLOCK), _FORGED_LINES)
                except OSError:
                    pass
"""

_MONKEYPATCH = """
import builtins, json, sys
_harness = sys.modules["__main__"]
for _name in ("encode_value", "dumps_frame", "describe_error", "loads_frame", "decode_value"):
    if hasattr(_harness, _name):
        setattr(_harness, _name, lambda *a, **k: b'{"result":0,"ok":true,"value":null}\\n')
if hasattr(_harness, "Channel"):
    _send = _harness.Channel.send
    def _rigged_send(self, message, payload=b""):
        message = dict(message, ok=True, passed=True, ready=True)
        _send(self, message, payload)
    _harness.Channel.send = _rigged_send
json.dumps = lambda *a, **k: '{"result": 0, "ok": true, "value": 0}'
builtins.AssertionError = KeyError
builtins.isinstance = lambda *a: True
builtins.print = lambda *a, **k: None
"""

# Answers each call with the first argument of a call already waiting for it, on the channel's
# socket or in the harness's buffer (one check's input may be another's answer; red team s20
# earned partial credit so while a check's calls were all sent at once).
_NEXT_CALL_ARGUMENT = """
import gc, json, os, socket, stat
def _waiting_call():
    for fd in range(3, 64):
        try:
            if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                continue
            peer = socket.socket(fileno=os.dup(fd))
        except OSError:
            continue
        try:
            data = peer.recv(1 << 16, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except OSError:
            data = b""
        finally:
            peer.close()
        if data:
            return data
    return next((bytes(o.buffer) for o in gc.get_objects() if type(o).__name__ == "Channel" and o.buffer), b"")
def _next_argument(args):
    try:
        return json.loads(_waiting_call().split(b"\\n")[0])["args"][0]
    except Exception:
        return args[0] if args else None
"""


def _indented(body: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line if line else line for line in body.strip("\n").split("\n"))


def _callable_program(entry_point: str, body: str, prelude: str = "") -> str:
    """A program whose entry point (a function, or ``Class.method``) runs ``body``."""
    class_name, _, name = entry_point.rpartition(".")
    if class_name:
        return f"{prelude}\nclass {class_name}:\n    def {name}(self, *args, **kwargs):\n{_indented(body, 8)}\n"
    return f"{prelude}\ndef {name}(*args, **kwargs):\n{_indented(body, 4)}\n"


def _lookup_and_constant(task: Task, entry: str, calls: bool) -> str:
    """CodeFeedback's memorising policy at its best: a table of the tests feedback may show in
    full (``revealed_tests``) and, for any other input, the output most of the other held-out tests
    expect (chosen with the answer: no policy can do better with a constant)."""
    tests = full_answer(task, UNPACK_ATTACK_S)["tests"]
    shown = revealed_tests(len(tests))
    key = "expected" if calls else "output"
    table = {_test_input(test): test[key] for test in tests[:shown]}
    held_out = [test[key] for test in tests[shown:] if _test_input(test) not in table] or [""]
    constant = max(held_out, key=held_out.count)
    if calls:
        body = "import ast\nreturn ast.literal_eval(_TABLE.get(repr(args), _CONSTANT))"
        return _callable_program(entry, body, f"_TABLE = {table!r}\n_CONSTANT = {constant!r}\n")
    return f"import sys\n_TABLE = {table!r}\nsys.stdout.write(_TABLE.get(sys.stdin.read(), {constant!r}))\n"


def _lookup_and_identity(task: Task, entry: str, calls: bool) -> str:
    """The memorising policy's other fallback: the table of the revealed tests (as
    ``_lookup_and_constant``) and, for any other input, the input handed back -- the argument,
    or the input printed back (the numbers' line without the count line for a list task)."""
    tests = full_answer(task, UNPACK_ATTACK_S)["tests"]
    shown = revealed_tests(len(tests))
    key = "expected" if calls else "output"
    table = {_test_input(test): test[key] for test in tests[:shown]}
    if calls:
        body = "import ast\nreturn ast.literal_eval(_TABLE[repr(args)]) if repr(args) in _TABLE else args[0]"
        return _callable_program(entry, body, f"_TABLE = {table!r}\n")
    data = "_DATA.partition('\\n')[2]" if task.meta.get("input_kind") == "ints" else "_DATA"
    return f"import sys\n_TABLE = {table!r}\n_DATA = sys.stdin.read()\nsys.stdout.write(_TABLE.get(_DATA, {data}))\n"


def code_attacks(task: Task, reference: str) -> list[tuple[str, str]]:
    """Hostile responses for a code task (each a complete response; none solves the task)."""
    answer = task.answer
    entry = answer.get("entry_point") or ""
    calls = answer["style"] in ("function", "assert")
    programs: dict[str, str] = {}
    if calls:
        for name, value in _FORGED_VALUES.items():
            programs[name] = _callable_program(entry, "return None", f"FORGED = {value}\n{_FORGE_REPLY}")
        programs.update(
            {
                "giant-result": _callable_program(entry, "return 'x' * (40 << 20)"),
                "fake-harness-lines": _callable_program(
                    entry,
                    "print('PASSED')\nos.write(1, _FORGED_LINES)\n_write_everywhere()\nreturn 'PASSED'",
                    _WRITE_FDS + "print('ALL TESTS PASSED')\n",
                ),
                "write-relay-fds": _callable_program(
                    entry, "_write_everywhere()\nreturn None", _WRITE_FDS + "_write_everywhere()\n"
                ),
                "read-expected-values": _callable_program(entry, "return _stolen()", _SCAN_FOR_EXPECTED),
                "monkeypatch-harness": _callable_program(entry, "return 0", _MONKEYPATCH),
                "exit-zero-at-load": "import sys\nsys.exit(0)\n",
                "os-exit-at-load": "import os\nos._exit(0)\n",
                "exit-zero-in-call": _callable_program(entry, "sys.exit(0)", "import sys\n"),
                "os-exit-in-call": _callable_program(entry, "os._exit(0)", "import os\n"),
                "raise-systemexit": _callable_program(entry, "raise SystemExit(0)"),
                "raise-keyboardinterrupt": _callable_program(entry, "raise KeyboardInterrupt"),
                "raise-baseexception-subclass": _callable_program(
                    entry, "raise Passed()", "class Passed(BaseException):\n    pass\n"
                ),
                "raise-stopiteration": _callable_program(entry, "raise StopIteration"),
                "raise-generatorexit": _callable_program(entry, "raise GeneratorExit"),
                "always-equal-object": _callable_program(entry, "return _AlwaysEqual()", _ALWAYS_EQUAL),
                "expected-type-subclass": _callable_program(
                    entry, "import random\nreturn random.choice([_Int(0), _Str(''), _List(), _Dict()])", _SUBCLASSES
                ),
                "infinite-loop": _callable_program(entry, "while True:\n    pass"),
                "fork-bomb": _callable_program(
                    entry, "while True:\n    try:\n        os.fork()\n    except OSError:\n        pass", "import os\n"
                ),
                "memory-bomb": _callable_program(
                    entry, "hoard = []\nwhile True:\n    hoard.append(bytearray(64 << 20))"
                ),
            }
        )
    else:
        programs.update(
            {
                "giant-output": "import sys\nwhile True:\n    sys.stdout.write('9' * 65536)\n",
                "many-short-lines": "import sys\nsys.stdout.write('1\\n' * (4 << 20))\n",
                "one-huge-line-of-tokens": "import sys\nsys.stdout.write('1 ' * (4 << 20))\n",
                "huge-number-token": "import sys\nsys.stdout.write('1' * (8 << 20) + '\\n')\n",
                "hash-collision-output": f"print(' '.join(str{_COLLIDING} for k in range(1, 200001)))\n",
                "fake-harness-lines": _WRITE_FDS
                + "print('PASSED')\nprint('{\"result\": 0, \"exit_code\": 0}')\n_write_everywhere()\n",
                "write-relay-fds": _WRITE_FDS + "_write_everywhere()\n",
                "read-expected-values": _SCAN_FOR_EXPECTED + "print(_stolen() or '')\n",
                "monkeypatch-harness": _MONKEYPATCH + "print(0)\n",
                "exit-zero-at-start": "import sys\nsys.exit(0)\n",
                "os-exit-at-start": "import os\nos._exit(0)\n",
                "raise-keyboardinterrupt": "raise KeyboardInterrupt\n",
                "raise-baseexception-subclass": "class Passed(BaseException):\n    pass\nraise Passed()\n",
                "always-equal-object": _ALWAYS_EQUAL + "print(_AlwaysEqual())\n",
                "infinite-loop": "while True:\n    pass\n",
                "fork-bomb": "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
                "memory-bomb": "hoard = []\nwhile True:\n    hoard.append(bytearray(64 << 20))\n",
            }
        )
    if answer["style"] == "assert":  # checks a constant passes count for nothing in partial credit (S7-2)
        for name, body in (
            ("none", "return None"),
            ("zero", "return 0"),
            ("one", "return 1"),
            ("true", "return True"),
            ("false", "return False"),
            ("empty-list", "return []"),
            ("empty-string", "return ''"),
            ("first-argument", "return args[0] if args else None"),
            ("no", "return 'No'"),
        ):
            programs[f"return-{name}"] = _callable_program(entry, body)
        programs["next-call-argument"] = _callable_program(entry, "return _next_argument(args)", _NEXT_CALL_ARGUMENT)
    if answer.get("source") == "synthetic":  # generation redraws tasks these pass (one_output, identity_passes)
        if calls:
            for name, value in (("none", None), ("zero", 0), ("empty-list", []), ("empty-string", "")):
                programs[f"return-{name}"] = _callable_program(entry, f"return {value!r}")
            programs["return-argument"] = _callable_program(entry, "return args[0]")
        else:
            programs.update({"print-nothing": "pass\n", "print-zero": "print(0)\n"})
            programs["echo-input"] = "import sys\nsys.stdout.write(sys.stdin.read())\n"
            programs["echo-input-after-count"] = "import sys\nsys.stdout.write(sys.stdin.read().partition('\\n')[2])\n"
        programs["revealed-lookup-plus-constant"] = _lookup_and_constant(task, entry, calls)
        programs["revealed-lookup-plus-identity"] = _lookup_and_identity(task, entry, calls)
    attacks = [(name, fence(program)) for name, program in programs.items()]
    attacks += [
        ("unfenced-answer", f"<answer>\n{reference}\n</answer>"),
        ("bare-code", reference),
        ("two-fences", fence(reference) + "\n" + fence(reference)),
        ("code-and-example-fence", fence(reference) + "\nExample:\n```text\n1\n```\n"),
        ("prompt-echo-fenced", fence(task.prompt)),
        ("fenced-in-think", f"<think>\n{fence(reference)}</think>\nThe code is above."),
    ]
    return attacks


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


HINT_CHUNKS = 4  # a code hint shows about three quarters of the reference in up to this many chunks


class CodeGenerator(TaskGenerator):
    """Synthetic pipeline problems, or the rows of a code benchmark file (``dataset=PATH``)."""

    declaration = FAMILY

    def __init__(self, dataset: str | Path | None = None):
        if dataset is not None:
            self.use_dataset(dataset, read_rows(Path(dataset)))

    # ---- dataset mode ------------------------------------------------------------------------

    def dataset_task(self, row: dict) -> dict:
        prompt, answer, original_id, kind = task_from_row(row)
        test_count = len(answer["tests"])
        answer, dropped = pack_dataset_tests(answer)
        return {
            "prompt": prompt,
            "answer": answer,
            "meta": {
                "task_id": original_id,
                "format": kind,
                "test_count": test_count - dropped,
                "tests_dropped": dropped,
            },
        }

    # ---- synthetic mode ----------------------------------------------------------------------

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        style = params["style"] if params["style"] != "any" else rng.choice(STYLES)
        kind = params["input"]
        if kind == "any":
            kinds = sorted(INPUT_KIND_WEIGHTS)
            kind = rng.choices(kinds, [INPUT_KIND_WEIGHTS[k] for k in kinds])[0]
        value_limit, max_length = params["value_limit"], params["max_length"]
        stress_length = params["stress_length"]
        trap = stress_length >= PERFORMANCE_TRAP_LENGTH
        entry_point = ENTRY_POINTS[kind] if style == "function" else None
        identity = load_program(
            render_function_program([], entry_point, kind) if entry_point else render_stdio_program([], kind)
        )
        # Redrawn until no answer that ignores the input passes the unseen held-out tests: a
        # pipeline whose tests expect one output (``one_output``) is redrawn; one whose tests the
        # identity passes (``identity_passes``: its inputs left unchanged) first gets new
        # examples and tests, TEST_TRIES draws in all, then is redrawn.
        for _ in range(PIPELINE_TRIES):
            steps = draw_pipeline(rng, kind, params["depth"], Limits(value_limit, max_length), trap)
            tolerance = FLOAT_TOLERANCE if output_kind(steps) == "float" else None
            for _ in range(TEST_TRIES):
                recipe, inputs, reference, prompt, tests, known = self._draw_tests(
                    rng, steps, style, entry_point, kind, params
                )
                constant = one_output(tests, known)
                echoed = not constant and identity_passes(tests, known, identity, entry_point, tolerance)
                if not echoed:
                    break
            if not constant and not echoed:
                break
        tests, packed = compact_tests(tests, recipe)

        gives = output_kind(steps)
        answer = {
            "style": style,
            "entry_point": entry_point,
            "tests": tests,
            "check_code": None,
            "setup_code": "",
            "float_tolerance": FLOAT_TOLERANCE if gives == "float" else None,
            "time_limit_s": float(params["time_limit_s"]),
            "reference": reference,
            "source": "synthetic",
            "packed_tests": packed,
        }
        meta = {
            "depth": len(steps),
            "ops": [step.operation.name for step in steps],
            "steps": [step.to_dict() for step in steps],
            "input_kind": kind,
            "output_kind": gives,
            "style": style,
            "max_input_length": max(len(value) for value in inputs),
            "test_count": len(inputs),
            "stress_length": stress_length,
            "quadratic_trap": steps[0].operation.name if trap else None,
        }
        return {"prompt": prompt, "answer": answer, "meta": meta}

    def _draw_tests(
        self, rng: random.Random, steps: list[Step], style: str, entry_point: str | None, kind: str, params: dict
    ):
        """One draw of a pipeline's tests and examples: (tests recipe, hidden inputs, reference
        source, prompt, tests, the examples' inputs in the tests' ``args``/``input`` form)."""
        max_elements = max(params["max_length"], params["stress_length"])
        recipe = {
            "encoding": "regenerate",
            "seed": rng.getrandbits(63),
            "input_kind": kind,
            "steps": [step.to_dict() for step in steps],
            **{key: params[key] for key in ("value_limit", "max_length", "tests", "edge_cases", "stress_length")},
        }
        inputs = hidden_inputs(recipe)
        examples = example_inputs(rng, kind, rng.choice([2, 3]), params["value_limit"])
        if style == "function":
            reference = render_function_program(steps, entry_point)
            program = load_program(reference)
            shown = [(value, run_function(program, entry_point, (copy.deepcopy(value),))) for value in examples]
            prompt = function_prompt(steps, entry_point, shown, max_elements, params)
            known = {repr((value,)) for value in examples}
        else:
            reference = render_stdio_program(steps)
            program = load_program(reference)
            shown = [(format_stdin(kind, value), run_stdio(program, format_stdin(kind, value))) for value in examples]
            prompt = stdio_prompt(steps, shown, max_elements, params)
            known = {format_stdin(kind, value) for value in examples}
        tests = hidden_tests(program, style, entry_point, kind, inputs)
        return recipe, inputs, reference, prompt, tests, known

    # ---- responses ---------------------------------------------------------------------------

    def solve(self, task: Task) -> str:
        reference = task.answer.get("reference") or ""
        if not reference:
            raise ValueError(f"task {task.id} ({task.answer.get('source')}) has no reference solution")
        return fence(reference)

    def hints(self, task: Task) -> list[str]:
        """A plan (synthetic tasks: the steps in order, one helper each; the quadratic trap's
        key idea when there is one), then the reference solution's lines that the prompt does
        not already show, a chunk per piece, stopping after about three quarters of them."""
        pieces = []
        if task.answer.get("source") == "synthetic":
            ops = task.meta.get("ops", [])
            pieces.append(f"Plan: apply {', then '.join(ops)} in that order, one small helper function per step.")
            if task.meta.get("quadratic_trap"):
                pieces.append(
                    f"Key idea: the large tests make a quadratic {task.meta['quadratic_trap']} time out; keep "
                    "each step linear (a set or dict for membership, no repeated list scans)."
                )
        shown = {line.strip() for line in task.prompt.splitlines()}
        lines = [
            line
            for line in (task.answer.get("reference") or "").splitlines()
            if line.strip() and line.strip() not in shown
        ]
        cut = max(1, (len(lines) * 3) // 4)
        size = max(1, -(-cut // HINT_CHUNKS))
        pieces += (
            [
                f"Reference lines {start + 1}–{min(start + size, cut)} (of {len(lines)}):\n"
                + "\n".join(lines[start : min(start + size, cut)])
                for start in range(0, cut, size)
            ]
            if lines
            else []
        )
        return pieces

    def wrong_response(self, task: Task) -> str:
        """A plausible program that fails at least one of the task's tests."""
        if task.answer["source"] == "synthetic":
            return fence(self._wrong_synthetic_program(task))
        return fence(wrong_dataset_program(task.answer))

    def split_group(self, task: Task) -> Any:
        """A synthetic task's reference program (the same pipeline with other examples and
        tests, in either style, is on one side); a dataset task's row."""
        if task.answer["source"] == "synthetic":
            return ["code", task.answer["reference"]]
        return super().split_group(task)

    def attacks(self, task: Task) -> list[tuple[str, Any]]:
        """Forged replies (colliding set and dict keys, huge integers, deep nesting, giant
        values), output and protocol spoofing, reading the expected values from anything the
        sandbox can reach, monkeypatching the harness, early exits and control-flow exceptions,
        always-equal objects and rigged subclasses, loops and bombs, and format tricks (the
        code unfenced, twice fenced, or hidden in the reasoning)."""
        reference = task.answer.get("reference") or wrong_dataset_program(task.answer)
        return code_attacks(task, reference)

    def _wrong_synthetic_program(self, task: Task) -> str:
        answer = task.answer
        steps = [Step.from_dict(row) for row in task.meta["steps"]]
        for candidate in _mutated_pipelines(steps, random.Random(f"wrong|{task.id}"), task.params):
            if answer["style"] == "function":
                source = render_function_program(candidate, answer["entry_point"])
            else:
                source = render_stdio_program(candidate)
            if _fails_some_test(source, answer):
                return source
        entry = answer["entry_point"]
        if answer["style"] == "function":
            return f"def {entry}(*args):\n    return None\n"
        return wrong_dataset_program(answer)


def _mutated_pipelines(steps: list[Step], rng: random.Random, params: dict):
    """Pipelines a careless reader might implement, most plausible first: one step with other
    constants, one step swapped for another of the same kinds, one step dropped."""
    limits = Limits(params.get("value_limit", 20), params.get("max_length", 10))
    for index in reversed(range(len(steps))):
        operation = steps[index].operation
        for _ in range(3):
            params_drawn = operation.draw(rng, limits, False)
            if params_drawn and params_drawn != steps[index].params:
                yield steps[:index] + [Step(operation, params_drawn)] + steps[index + 1 :]
    for index in reversed(range(len(steps))):
        operation = steps[index].operation
        others = [
            op
            for op in OPERATIONS
            if op.takes == operation.takes
            and op.gives == operation.gives
            and op.name != operation.name
            and op.name not in {s.operation.name for s in steps}
        ]
        rng.shuffle(others)
        for other in others[:4]:
            yield steps[:index] + [Step(other, other.draw(rng, limits, False))] + steps[index + 1 :]
    for index in reversed(range(len(steps))):
        if len(steps) > 1 and steps[index].operation.takes == steps[index].operation.gives:
            yield steps[:index] + steps[index + 1 :]


def _fails_some_test(source: str, answer: dict) -> bool:
    """Whether the trusted generated ``source`` gets some test wrong (largest test tried last),
    judged only by the verifier's pure functions: tests read with its ``parse_literal``, a
    returned value by ``returned_value_matches`` (the codec round trip, ``ResultReader``,
    ``values_match``), printed output by ``stdout_matches``."""
    program = load_program(source)
    tolerance = answer["float_tolerance"]
    tests = sorted(unpack_tests(answer), key=lambda t: len(t.get("args") or t.get("input") or ""))
    for test in tests:
        if answer["style"] == "function":
            got = run_function(program, answer["entry_point"], parse_literal(test["args"]))
            if not returned_value_matches(test["expected"], got, tolerance):
                return True
        elif not stdout_matches(test["output"], run_stdio(program, test["input"]), tolerance):
            return True
    return False
