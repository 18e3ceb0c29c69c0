"""The code family's generator and dataset loaders (the verifier and sandbox are tested elsewhere).

Only trusted code runs here: generated reference programs, their generated mutations, and the
reference solutions and tests of the benchmark files in tests/data/code (hand-written samples in
the public layouts) and of HumanEval from ../shared/data (tests that need it skip without it).
"""

import ast
import base64
import contextlib
import gzip
import io
import json
import pickle
import re
import subprocess
import sys
import zlib
from collections import OrderedDict
from pathlib import Path
from statistics import mean

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import rlvr
from rlvr.core import Task
from rlvr.generators.code import (
    FUNCTION_CALL_PRELUDE,
    PERFORMANCE_TRAP_LENGTH,
    CodeGenerator,
    decode_test_cases,
    detect_format,
    identity_passes,
    mbpp_entry_point,
    revealed_tests,
    unpack_tests,
)
from rlvr.generators.code_library import (
    ANNOTATIONS,
    OPERATIONS,
    load_program,
    render_function_program,
    render_stdio_program,
)
from rlvr.verifiers import code as code_verifier
from rlvr.verifiers.code import extract_code, parse_literal, stdout_matches, values_match

DATA = Path(__file__).parent / "data" / "code"
HUMANEVAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "humaneval" / "HumanEval.jsonl.gz"
needs_humaneval = pytest.mark.skipif(not HUMANEVAL.is_file(), reason=f"HumanEval absent: {HUMANEVAL}")
LCB_SOLUTIONS = json.loads((DATA / "livecodebench_sample_solutions.json").read_text())
GENERATOR = CodeGenerator()
FEEDBACK = rlvr.make_generator("rlvr/CodeFeedback-v0")


# --------------------------------------------------------------------------------------------
# Running trusted programs in-process
# --------------------------------------------------------------------------------------------


def fenced_code(response: str) -> str:
    blocks = re.findall(r"```python\n(.*?)```", response, re.DOTALL)
    assert len(blocks) == 1, response[:300]
    return blocks[0]


def resolve_entry(namespace: dict, entry_point: str):
    class_name, _, name = entry_point.rpartition(".")
    return getattr(namespace[class_name](), name) if class_name else namespace[name]


def values_equal(expected, got, tolerance) -> bool:
    return values_match(expected, got, tolerance)  # the verifier's rule


def stdout_equal(expected: str, got: str, tolerance) -> bool:
    return stdout_matches(expected, got, tolerance)  # the verifier's rule


def run_as_main(source: str, stdin_text: str) -> str:
    """Execute ``source`` as ``__main__`` with stdin and stdout redirected."""
    out = io.StringIO()
    saved = sys.stdin
    sys.stdin = io.StringIO(stdin_text)
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(source, "<program>", "exec"), {"__name__": "__main__"})
    finally:
        sys.stdin = saved
    return out.getvalue()


def outcomes(answer: dict, source: str) -> list[bool]:
    """Whether ``source`` passes each of the answer's tests (one verdict for assert style)."""
    if answer["style"] == "stdio":
        return [
            stdout_equal(t["output"], run_as_main(answer["setup_code"] + source, t["input"]), answer["float_tolerance"])
            for t in unpack_tests(answer)
        ]
    namespace: dict = {"__name__": "candidate"}
    exec(answer["setup_code"], namespace)
    exec(source, namespace)
    if answer["style"] == "assert":
        exec(answer["check_code"], namespace)
        try:
            namespace["check"](namespace[answer["entry_point"]])
        except Exception:
            return [False]
        return [True]
    function = resolve_entry(namespace, answer["entry_point"])
    results = []
    for test in unpack_tests(answer):
        try:
            got = function(*ast.literal_eval(test["args"]))
        except Exception:
            results.append(False)
            continue
        results.append(values_equal(ast.literal_eval(test["expected"]), got, answer["float_tolerance"]))
    return results


# --------------------------------------------------------------------------------------------
# Synthetic tasks
# --------------------------------------------------------------------------------------------


def test_same_seed_same_bytes_and_seeds_differ():
    for difficulty in (0.0, 0.5, 1.0):
        assert GENERATOR.generate(11, difficulty).to_json() == CodeGenerator().generate(11, difficulty).to_json()
    prompts = {GENERATOR.generate(seed, 0.5).prompt for seed in range(20)}
    assert len(prompts) == 20
    assert GENERATOR.generate(3, 0.5).id == "code/v0/d0.50/s3"


def test_every_operation_style_and_input_kind_appears():
    tasks = [GENERATOR.generate(seed, d) for seed in range(150) for d in (0.0, 0.25, 0.5)]
    used = {name for task in tasks for name in task.meta["ops"]}
    assert used == {op.name for op in OPERATIONS}
    assert {task.answer["style"] for task in tasks} == {"function", "stdio"}
    assert {task.meta["input_kind"] for task in tasks} == {"ints", "text"}
    assert {task.meta["output_kind"] for task in tasks} == {"ints", "text", "number", "float", "pairs"}
    assert len({op.name for op in OPERATIONS}) == len(OPERATIONS) >= 40


def test_difficulty_table_numbers():
    assert GENERATOR.table.resolve(0.0) == {
        "depth": 1,
        "max_length": 10,
        "value_limit": 20,
        "tests": 5,
        "edge_cases": False,
        "stress_length": 0,
        "time_limit_s": 4.0,
        "style": "any",
        "input": "any",
    }
    assert GENERATOR.table.resolve(0.5) == {
        "depth": 3,
        "max_length": 100,
        "value_limit": 10_000,
        "tests": 10,
        "edge_cases": True,
        "stress_length": 10_000,
        "time_limit_s": 3.0,
        "style": "any",
        "input": "any",
    }
    assert GENERATOR.table.resolve(1.0) == {
        "depth": 5,
        "max_length": 1000,
        "value_limit": 10**9,
        "tests": 20,
        "edge_cases": True,
        "stress_length": 100_000,
        "time_limit_s": 2.0,
        "style": "any",
        "input": "any",
    }


def test_difficulty_is_monotone_in_measured_task_properties():
    levels = (0.0, 0.25, 0.5, 0.75, 1.0)
    tasks = {d: [GENERATOR.generate(seed, d) for seed in range(12)] for d in levels}
    depth = [mean(t.meta["depth"] for t in tasks[d]) for d in levels]
    size = [mean(t.meta["max_input_length"] for t in tasks[d]) for d in levels]
    count = [mean(len(unpack_tests(t.answer)) for t in tasks[d]) for d in levels]
    limit = [mean(t.answer["time_limit_s"] for t in tasks[d]) for d in levels]
    assert depth == sorted(depth) and depth[0] == 1 and depth[-1] == 5
    assert size == sorted(size) and max(t.meta["max_input_length"] for t in tasks[0.0]) <= 10
    assert max(t.meta["max_input_length"] for t in tasks[1.0]) == 100_000
    assert count == sorted(count) and count[0] == 5 and count[-1] == 20
    assert limit == sorted(limit, reverse=True)
    for d in levels:
        for task in tasks[d]:
            assert task.meta["test_count"] == len(unpack_tests(task.answer)) == task.params["tests"]
            assert len(task.meta["ops"]) == task.meta["depth"] == task.params["depth"]


def test_edge_cases_and_stress_input():
    easy = GENERATOR.generate(4, 0.0, input="ints", style="function")
    assert [ast.literal_eval(t["args"])[0] for t in unpack_tests(easy.answer)] != []
    assert all(ast.literal_eval(t["args"])[0] != [] for t in unpack_tests(easy.answer))  # no edge cases at d=0
    hard = GENERATOR.generate(4, 1.0, input="ints", style="function")
    inputs = [ast.literal_eval(t["args"])[0] for t in unpack_tests(hard.answer)]
    assert inputs[0] == [] and len(inputs[1]) == 1 and len(set(inputs[2])) == 1
    assert all(x < 0 for x in inputs[3]) and all(abs(x) == 10**9 for x in inputs[4])
    assert len(inputs[-1]) == 100_000 and max(map(abs, inputs[-1])) <= 10**6


def test_performance_trap_at_high_difficulty():
    trap_ops = {op.name for op in OPERATIONS if op.quadratic_naive}
    for seed in range(15):
        task = GENERATOR.generate(seed, 1.0)
        assert task.meta["quadratic_trap"] == task.meta["ops"][0] in trap_ops
        assert task.meta["stress_length"] == 100_000 >= PERFORMANCE_TRAP_LENGTH
        unit = "numbers" if task.meta["input_kind"] == "ints" else "characters"
        assert "O(n^2)" in task.prompt and f"a hidden test has 100000 {unit}" in task.prompt
        if task.meta["ops"][0] == "window_sums":
            assert task.meta["steps"][0]["params"]["width"] == "half"
    assert GENERATOR.generate(0, 0.5).meta["quadratic_trap"] is None
    assert (
        GENERATOR.generate(0, 0.72).meta["quadratic_trap"] is None
        and GENERATOR.generate(0, 0.72).meta["stress_length"] == 49_600
    )
    assert GENERATOR.generate(0, 0.73).meta["quadratic_trap"] is not None
    assert GENERATOR.generate(0, 0.0).meta["stress_length"] == 0


@pytest.mark.parametrize("difficulty", [0.0, 0.5, 1.0])
def test_reference_reproduces_every_expected_output(difficulty):
    styles = set()
    for seed in range(50):
        task = GENERATOR.generate(seed, difficulty)
        styles.add(task.answer["style"])
        assert all(outcomes(task.answer, fenced_code(GENERATOR.solve(task)))), task.id
    assert styles == {"function", "stdio"}


def test_prompt_states_format_signature_and_examples():
    function_task = GENERATOR.generate(2, 0.5, style="function", input="ints")
    assert "exactly one fenced code block that starts with ```python" in function_task.prompt
    assert (
        f"`def process_numbers(values: list[int]) -> {ANNOTATIONS[function_task.meta['output_kind']]}`"
        in function_task.prompt
    )
    examples = re.findall(r"process_numbers\((.*)\) returns (.*)", function_task.prompt)
    assert 2 <= len(examples) <= 3
    namespace: dict = {}
    exec(function_task.answer["reference"], namespace)
    for args, result in examples:
        assert namespace["process_numbers"](ast.literal_eval(args)) == ast.literal_eval(result)
    stdio_task = GENERATOR.generate(2, 0.5, style="stdio", input="text")
    assert "standard input" in stdio_task.prompt and "Example 2" in stdio_task.prompt
    assert stdio_task.answer["entry_point"] is None and unpack_tests(stdio_task.answer)[0].keys() == {"input", "output"}


def test_overrides_pin_style_and_input_and_bad_values_raise():
    assert {GENERATOR.generate(s, 0.5, style="stdio").answer["style"] for s in range(6)} == {"stdio"}
    assert {GENERATOR.generate(s, 0.5, input="text").meta["input_kind"] for s in range(6)} == {"text"}
    assert (
        GENERATOR.generate(2, 0.5, edge_cases="false").to_json()
        == GENERATOR.generate(2, 0.5, edge_cases=False).to_json()
    )
    assert GENERATOR.generate(2, 0.5, depth="2").meta["depth"] == 2
    for bad, words in (
        ({"style": "notebook"}, "style must be one of any, function, stdio"),
        ({"input": "floats"}, "input must be one of any, ints, text"),
        ({"edge_cases": "sometimes"}, "edge_cases must be true or false"),
        ({"depth": 0}, r"depth must be an integer in \[1, 10\]"),
        ({"tests": 2.5}, "tests must be an integer"),
        ({"time_limit_s": 0}, "time_limit_s must be a number"),
        ({"stress_length": -1}, "stress_length"),
        ({"nonsense": 1}, "unknown parameter 'nonsense'"),
    ):
        with pytest.raises(ValueError, match=words):
            GENERATOR.generate(0, 0.5, **bad)


def identity_fits(answer: dict, test: dict) -> bool:
    """Whether handing the input back passes ``test`` by the verifier's comparisons: the first
    argument returned, or the input printed back whole or without its count line."""
    tolerance = answer["float_tolerance"]
    if answer["style"] == "function":
        return values_match(parse_literal(test["expected"]), parse_literal(test["args"])[0], tolerance)
    echoes = (test["input"], test["input"].partition("\n")[2])
    return any(stdout_matches(test["output"], echo, tolerance) for echo in echoes)


def shown_in_prompt(task: Task, test: dict) -> bool:
    """Whether the prompt shows ``test``'s input as one of its worked examples."""
    if task.answer["style"] == "function":
        return f"{task.answer['entry_point']}({test['args'][1:-2]}) returns " in task.prompt
    return f"Input:\n```text\n{test['input']}```" in task.prompt


@pytest.mark.parametrize("difficulty, seeds", [(0.0, 200), (0.25, 60)])
def test_no_task_lets_the_identity_pass_its_unseen_held_out_tests(difficulty, seeds):
    """Red team s9 F4: ``change_case`` lower on lower-case tests, ``reverse_words`` on one-word
    tests, ``dedupe_chars`` on tests without repeats -- ``return x`` (echoing stdin) solved 12 of
    200 tasks at d = 0. Now every task has a held-out test that neither feedback reveals nor the
    prompt shows, on which handing the input back fails (so a table of what was shown plus the
    identity fails too); many tasks still have tests the identity passes (the floor of partial
    credit counts them: ``do_nothing_passes``)."""
    somewhere_identity = 0
    for seed in range(seeds):
        task = GENERATOR.generate(seed, difficulty)
        tests = unpack_tests(task.answer)
        shown = revealed_tests(len(tests))
        unseen = [test for test in tests[shown:] if test not in tests[:shown] and not shown_in_prompt(task, test)]
        assert any(not identity_fits(task.answer, test) for test in unseen), (seed, task.meta["steps"])
        somewhere_identity += any(identity_fits(task.answer, test) for test in tests)
    assert somewhere_identity > 0  # the check above can tell the identity apart


def test_identity_passes_is_judged_by_the_verifiers_rules():
    """``identity_passes`` runs the empty pipeline (the identity) on the unseen held-out tests:
    True when every one gives its input back, False once one does not, and True when there is
    none left (everything was revealed or shown)."""
    entry = "process_text"
    function_identity = load_program(render_function_program([], entry, "text"))
    stdio_identity = load_program(render_stdio_program([], "ints"))
    same = [{"args": repr((word,)), "expected": repr(word)} for word in ("ab", "c", "d e", "fg", "h")]
    assert identity_passes(same, set(), function_identity, entry, None)
    changed = same[:4] + [{"args": "('h',)", "expected": "'H'"}]
    assert not identity_passes(changed, set(), function_identity, entry, None)
    assert identity_passes(changed, {"('h',)"}, function_identity, entry, None)  # the prompt shows it
    numbers = [{"input": f"2\n{i} {i + 1}\n", "output": f"{i} {i + 1}\n"} for i in range(4)]
    assert identity_passes(numbers, set(), stdio_identity, None, None)
    numbers[3] = {"input": "2\n3 4\n", "output": "4 3\n"}
    assert not identity_passes(numbers, set(), stdio_identity, None, None)
    assert identity_passes(numbers[:1], set(), stdio_identity, None, None)  # one test: none held out
    with pytest.raises(ValueError):
        render_function_program([], entry)


def test_wrong_response_fails_a_test_and_solve_passes_all():
    for difficulty in (0.0, 0.5, 1.0):
        for seed in range(12):
            task = GENERATOR.generate(seed, difficulty)
            wrong = fenced_code(GENERATOR.wrong_response(task))
            assert wrong != task.answer["reference"]
            assert not all(outcomes(task.answer, wrong)), task.id


def test_wrong_responses_are_judged_by_the_verifiers_own_rules():
    """The generator decides that a program is wrong with the verifier's comparison functions,
    so a "wrong" program whose result differs only in what the verifier ignores (2 vs 2.0, a
    tuple for a list, line-end spaces) is never served as wrong."""
    from rlvr.generators import code as code_generator

    for name in ("returned_value_matches", "stdout_matches", "parse_literal"):
        assert getattr(code_generator, name) is getattr(code_verifier, name)
    tree = ast.parse(Path(code_generator.__file__).read_text())  # no comparison of its own to drift from the verifier's
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
    }
    assert not used & {"values_match", "numbers_match", "isclose"}
    assert not [
        f.name for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) and re.search("equal|match|same", f.name)
    ]
    function = {
        "style": "function",
        "entry_point": "f",
        "float_tolerance": None,
        "tests": [{"args": "([1, 2],)", "expected": "[2, 3]"}, {"args": "([],)", "expected": "[]"}],
    }
    assert not code_generator._fails_some_test(
        "def f(values):\n    return tuple(float(v + 1) for v in values)\n", function
    )
    assert code_generator._fails_some_test("def f(values):\n    return [v + 2 for v in values]\n", function)
    # what the verifier's codec refuses (an object, however equal it claims to be) is wrong here too
    rigged = "class Same(list):\n    def __eq__(self, other):\n        return True\ndef f(values):\n    return Same()\n"
    assert code_generator._fails_some_test(rigged, function)
    stdio = {
        "style": "stdio",
        "entry_point": None,
        "float_tolerance": None,
        "tests": [{"input": "2\n1 2\n", "output": "2\n3\n"}],
    }
    assert not code_generator._fails_some_test("def main(stdin, out):\n    out.write('2 \\n3\\n\\n')\n", stdio)
    assert code_generator._fails_some_test("def main(stdin, out):\n    out.write('2 3\\n')\n", stdio)  # wrong lines


def test_attacks_are_named_well_formed_and_never_the_reference():
    mbpp = CodeGenerator(dataset=DATA / "mbpp_sample.jsonl")
    cases = [
        (GENERATOR, GENERATOR.generate(3, 0.5, style="function")),
        (GENERATOR, GENERATOR.generate(3, 0.5, style="stdio")),
        (FEEDBACK, FEEDBACK.generate(3, 0.5)),
        (mbpp, mbpp.generate(1)),
    ]
    if HUMANEVAL.is_file():
        humaneval = CodeGenerator(dataset=HUMANEVAL)
        cases.append((humaneval, humaneval.generate(5)))
    for generator, task in cases:
        attacks = generator.attacks(task)
        names = [name for name, _ in attacks]
        assert len(names) == len(set(names)) >= 20
        assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name) for name in names)
        assert all(isinstance(response, str) for _, response in attacks)
        reference = task.answer["reference"]
        for name, response in attacks:
            code = extract_code(response)
            assert code is None or code.strip() != reference.strip(), name
        for name in ("unfenced-answer", "two-fences", "bare-code", "fenced-in-think"):
            assert reference.strip() in dict(attacks)[name]  # the right code, in the wrong form
        if task.answer["style"] != "stdio":
            assert {
                "hash-collision-set",
                "huge-int-reply",
                "deep-nesting-reply",
                "always-equal-object",
                "raise-stopiteration",
                "read-expected-values",
                "monkeypatch-harness",
            } <= set(names)


def test_answer_survives_json_round_trip():
    for difficulty in (0.0, 1.0):
        task = GENERATOR.generate(5, difficulty)
        back = Task.from_dict(json.loads(task.to_json()))
        assert back.answer == task.answer and back.meta == task.meta and back.to_json() == task.to_json()
        assert all(outcomes(back.answer, fenced_code(GENERATOR.solve(back))))
        assert not all(outcomes(back.answer, fenced_code(GENERATOR.wrong_response(back))))
    keys = {
        "style",
        "entry_point",
        "tests",
        "check_code",
        "setup_code",
        "float_tolerance",
        "time_limit_s",
        "reference",
        "source",
        "packed_tests",
    }
    assert set(task.answer) == keys and task.answer["source"] == "synthetic"


def test_float_results_carry_a_tolerance():
    task = next(t for t in (GENERATOR.generate(s, 0.25) for s in range(300)) if t.meta["output_kind"] == "float")
    assert task.answer["float_tolerance"] == 1e-6
    assert GENERATOR.generate(0, 0.0, input="text").answer["float_tolerance"] is None


def test_feedback_env_is_served_by_the_same_generator_class():
    """CodeFeedback-v0 has no generator class of its own: the registry builds a CodeGenerator and
    injects the env id, so the tasks are Code-v0's under CodeFeedback-v0's ids."""
    assert (
        type(FEEDBACK) is CodeGenerator
        and FEEDBACK.env_id == "rlvr/CodeFeedback-v0"
        and GENERATOR.env_id == "rlvr/Code-v0"
    )
    spec = rlvr.envs.get_spec("CodeFeedback-v0")
    assert spec.generator == rlvr.envs.get_spec("Code-v0").generator == "rlvr.generators.code:CodeGenerator"
    assert spec.entry_point == "rlvr.envs.multi_turn:CodeFeedbackEnv" and spec.extra == {"max_attempts": 3}
    a, b = GENERATOR.generate(9, 0.5), FEEDBACK.generate(9, 0.5)
    assert (a.prompt, a.answer, a.meta) == (b.prompt, b.answer, b.meta) and b.env_id == "rlvr/CodeFeedback-v0"
    assert (a.id, b.id) == ("code/v0/d0.50/s9", "codefeedback/v0/d0.50/s9")
    row = rlvr.make_generator("CodeFeedback-v0", dataset=str(DATA / "mbpp_sample.jsonl")).generate(2)
    assert row.id == "codefeedback/v0/dataset/mbpp_sample/2" and row.env_id == "rlvr/CodeFeedback-v0"
    assert (row.prompt, row.answer) == (lambda t: (t.prompt, t.answer))(
        CodeGenerator(dataset=DATA / "mbpp_sample.jsonl").generate(2)
    )


# --------------------------------------------------------------------------------------------
# Dataset files
# --------------------------------------------------------------------------------------------

SAMPLES = {
    "mbpp_sample.jsonl": ("mbpp", "assert", 6),
    "mbpp_sanitized_sample.json": ("mbpp", "assert", 2),
    "apps_sample.jsonl": ("apps", None, 5),
    "taco_sample.jsonl": ("apps", "stdio", 1),
    "code_contests_sample.jsonl": ("code_contests", "stdio", 2),
    "livecodebench_sample.jsonl": ("livecodebench", None, 4),
}


def dataset_tasks(name: str) -> list[Task]:
    generator = CodeGenerator(dataset=DATA / name)
    return [generator.generate(row) for row in range(len(generator.dataset_rows))]


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_loader_parses_its_file_and_references_pass(name):
    source, style, rows = SAMPLES[name]
    generator = CodeGenerator(dataset=DATA / name)
    tasks = dataset_tasks(name)
    assert len(tasks) == rows
    for row, task in enumerate(tasks):
        answer = task.answer
        assert answer["source"] == source and (style is None or answer["style"] == style)
        assert task.id == f"code/v0/dataset/{name.split('.')[0]}/{row}"
        assert task.meta["dataset"] == str(DATA / name) and task.meta["row"] == row and task.meta["task_id"] is not None
        assert "```python" in task.prompt and answer["time_limit_s"] > 0
        assert unpack_tests(answer) or answer["check_code"]
        reference = answer["reference"] or LCB_SOLUTIONS[task.meta["task_id"]]
        assert all(outcomes(answer, reference)), task.id
        assert not all(outcomes(answer, fenced_code(generator.wrong_response(task)))), task.id
        back = Task.from_dict(json.loads(task.to_json()))
        assert back.answer == answer
    assert generator.generate(2 * rows + 1).id == tasks[1 % rows].id  # seed i serves row i % rows


@needs_humaneval
def test_humaneval_loads_all_164_with_entry_points_and_checks():
    generator = CodeGenerator(dataset=HUMANEVAL)
    tasks = [generator.generate(seed) for seed in range(164)]
    assert len(generator.dataset_rows) == 164
    for row, task in enumerate(tasks):
        answer = task.answer
        assert answer["style"] == "assert" and answer["source"] == "humaneval" and unpack_tests(answer) == []
        assert answer["entry_point"] and "def check(candidate)" in answer["check_code"]
        assert answer["setup_code"] == generator.dataset_rows[row]["prompt"]
        assert (
            answer["reference"]
            == generator.dataset_rows[row]["prompt"] + generator.dataset_rows[row]["canonical_solution"]
        )
        assert task.meta["task_id"] == f"HumanEval/{row}" and task.id == f"code/v0/dataset/HumanEval/{row}"
        assert f"def {answer['entry_point']}" in fenced_code(generator.solve(task))
    assert generator.generate(164 + 7).meta["row"] == 7


@needs_humaneval
def test_humaneval_references_pass_and_wrong_responses_fail():
    """All 164 canonical solutions pass their checks; all wrong responses fail (own process)."""
    generator = CodeGenerator(dataset=HUMANEVAL)
    jobs = []
    for seed in range(164):
        task = generator.generate(seed)
        jobs.append(
            {
                "answer": task.answer,
                "good": fenced_code(generator.solve(task)),
                "bad": fenced_code(generator.wrong_response(task)),
            }
        )
    runner = (
        "import json, sys\n"
        "def passes(answer, source):\n"
        "    namespace = {'__name__': 'candidate'}\n"
        "    try:\n"
        "        exec(answer['setup_code'], namespace)\n"
        "        exec(source, namespace)\n"
        "        exec(answer['check_code'], namespace)\n"
        "        namespace['check'](namespace[answer['entry_point']])\n"
        "    except BaseException:\n"
        "        return False\n"
        "    return True\n"
        "jobs = json.load(sys.stdin)\n"
        "print(json.dumps([[passes(j['answer'], j['good']), passes(j['answer'], j['bad'])] for j in jobs]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", runner], input=json.dumps(jobs), capture_output=True, text=True, timeout=120, check=True
    )
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert [good for good, _ in results] == [True] * 164
    assert [bad for _, bad in results] == [False] * 164


def test_mbpp_entry_points_checks_and_setup():
    tasks = {t.meta["task_id"]: t for t in dataset_tasks("mbpp_sample.jsonl")}
    assert tasks[9003].answer["entry_point"] == "shared_items"  # the call inside set(...)
    assert tasks[9006].answer["entry_point"] == "primes_below"  # not the helper defined first
    assert "    primes_below = candidate\n" in tasks[9006].answer["check_code"]
    assert "len(primes_below(1000)) == 168" in tasks[9006].answer["check_code"]  # challenge tests included
    assert tasks[9005].answer["setup_code"].startswith("from collections import namedtuple\n")
    assert "\r" not in tasks[9001].answer["reference"]
    assert tasks[9004].answer["setup_code"] == "import math\n"  # test_setup_code and the import the asserts use
    namespace: dict = {}
    exec(tasks[9004].answer["setup_code"] + "def circle_area(r):\n    return 3.141592653589793 * r * r\n", namespace)
    exec(tasks[9004].answer["check_code"], namespace)
    namespace["check"](namespace["circle_area"])  # a candidate that imports nothing still meets math.isclose
    assert tasks[9002].answer["setup_code"] == ""
    sanitized = dataset_tasks("mbpp_sanitized_sample.json")
    assert sanitized[0].answer["setup_code"] == "import math\n"
    assert mbpp_entry_point("def f(x):\n    return x\n", ["assert sorted(f([2, 1])) == [1, 2]"]) == "f"


def test_apps_function_outputs_and_class_entry_points():
    tasks = {t.meta["task_id"]: t for t in dataset_tasks("apps_sample.jsonl")}
    stdio = tasks[9002].answer
    assert stdio["style"] == "stdio" and unpack_tests(stdio)[0] == {"input": "2\nlevel\nabc", "output": "YES\nNO"}
    vowels = tasks[9003].answer
    assert vowels["style"] == "function" and vowels["entry_point"] == "count_vowels_in"
    assert unpack_tests(vowels)[0] == {"args": "('hello',)", "expected": "2"}
    assert [t["expected"] for t in unpack_tests(tasks[9004].answer)] == ["[1, 3, 6]", "[]", "[5, 0, 5]"]  # unwrapped
    gap = tasks[9005].answer
    assert gap["entry_point"] == "Solution.maxGap" and gap["setup_code"] == FUNCTION_CALL_PRELUDE
    assert [t["expected"] for t in unpack_tests(gap)] == ["3", "0", "0"]  # not all wrapped: kept as given
    taco = dataset_tasks("taco_sample.jsonl")[0]
    assert taco.answer["time_limit_s"] == 5.0


def test_code_contests_tests_solution_and_time_limit():
    first, second = dataset_tasks("code_contests_sample.jsonl")
    assert len(unpack_tests(first.answer)) == 4  # public + private + generated
    assert first.answer["reference"].startswith("n = int(input())")  # the Python 3 solution, not C++
    assert second.answer["reference"] == "print(len(input().split()))\n"  # Python 3, not Python 2
    assert first.answer["time_limit_s"] == 4.0 and second.answer["time_limit_s"] == 4.0
    assert first.meta["task_id"] == "9001_A. Sum of Extremes"


def test_livecodebench_plain_and_compressed_tests():
    tasks = dataset_tasks("livecodebench_sample.jsonl")
    assert [t.answer["style"] for t in tasks] == ["stdio", "stdio", "function", "function"]
    assert [len(unpack_tests(t.answer)) for t in tasks] == [4, 3, 3, 3]
    assert tasks[2].answer["entry_point"] == "Solution.sumOfSquares"
    assert unpack_tests(tasks[3].answer)[0] == {"args": "([1, 5, 7], 4)", "expected": "True"}
    assert tasks[0].answer["reference"] == "" and tasks[0].answer["time_limit_s"] == 6.0
    with pytest.raises(ValueError, match="no reference solution"):
        CodeGenerator(dataset=DATA / "livecodebench_sample.jsonl").solve(tasks[0])
    cases = [{"input": "1\n", "output": "2\n", "testtype": "stdin"}]
    released = base64.b64encode(zlib.compress(pickle.dumps(json.dumps(cases)))).decode()
    assert decode_test_cases(released) == cases == decode_test_cases(json.dumps(cases))
    hostile = base64.b64encode(zlib.compress(pickle.dumps(OrderedDict(a=1)))).decode()
    with pytest.raises(pickle.UnpicklingError):
        decode_test_cases(hostile)


def test_parquet_and_gzip_files_load_like_jsonl(tmp_path):
    rows = [json.loads(line) for line in (DATA / "mbpp_sample.jsonl").read_text().splitlines()]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "mbpp_sample.parquet")
    from_parquet = dataset_tasks_at(tmp_path / "mbpp_sample.parquet")
    from_jsonl = dataset_tasks("mbpp_sample.jsonl")
    assert [t.answer for t in from_parquet] == [t.answer for t in from_jsonl]
    assert from_parquet[0].id == "code/v0/dataset/mbpp_sample/0"
    (tmp_path / "mbpp_lines.json").write_text((DATA / "mbpp_sample.jsonl").read_text())  # JSON lines named .json
    (tmp_path / "mbpp_list.json.gz").write_bytes(gzip.compress(json.dumps(rows).encode()))
    for name in ("mbpp_lines.json", "mbpp_list.json.gz"):
        assert [t.answer for t in dataset_tasks_at(tmp_path / name)] == [t.answer for t in from_jsonl]


def dataset_tasks_at(path: Path) -> list[Task]:
    generator = CodeGenerator(dataset=path)
    return [generator.generate(row) for row in range(len(generator.dataset_rows))]


def test_dataset_mode_rejects_parameters_empty_files_and_unknown_rows(tmp_path):
    with pytest.raises(ValueError, match="no parameters"):
        CodeGenerator(dataset=DATA / "mbpp_sample.jsonl").generate(0, 0.5, depth=3)
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(ValueError, match="no usable rows"):
        CodeGenerator(dataset=tmp_path / "empty.jsonl")
    with pytest.raises(ValueError, match="unrecognised"):
        detect_format({"question": "x"})
