"""rlvr/CodeFeedback-v0: attempts, feedback text, episode end and the Gymnasium contract."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import rlvr
from rlvr.core import Task, Verdict
from rlvr.envs.multi_turn import CodeFeedbackEnv, feedback_text, held_out_verdict, revealed_tests
from rlvr.generators.code import CodeGenerator, fence, full_answer, unpack_tests
from rlvr.verifiers import sandbox as sb
from rlvr.verifiers.code import (
    DO_NOTHING_OUTPUTS,
    DO_NOTHING_VALUES,
    do_nothing_passes,
    parse_literal,
    stdout_matches,
    values_match,
)

pytestmark = pytest.mark.skipif(sb._probe_bwrap()[0] is None, reason="bwrap unusable")

ENV_ID = "rlvr/CodeFeedback-v0"
HUMANEVAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "humaneval" / "HumanEval.jsonl.gz"


def make(**kwargs) -> gym.Env:
    return gym.make(ENV_ID, **kwargs)


def test_wrong_then_right_ends_with_reward_one_at_attempt_two():
    env = make(difficulty=0.3)
    _, info = env.reset(seed=4)
    task = info["task"]
    generator = env.unwrapped.generator
    assert info["attempts_left"] == 3
    observation, reward, terminated, truncated, info = env.step(generator.wrong_response(task))
    assert (reward, terminated, truncated, info["attempt"], info["attempts_left"]) == (0.0, False, False, 1, 2)
    assert not info["verdict"].correct and observation == info["feedback"] and "did not pass" in observation
    observation, reward, terminated, truncated, info = env.step(generator.solve(task))
    assert (reward, terminated, truncated, info["attempt"]) == (1.0, True, False, 2)
    assert info["verdict"].correct and info["feedback"] == "" and observation.startswith("Passed")
    with pytest.raises(gym.error.ResetNeeded):
        env.step(generator.solve(task))
    env.close()


@pytest.mark.parametrize("attempts", [1, 2, 4])
def test_k_wrong_attempts_end_the_episode(attempts):
    env = make(difficulty=0.2, max_attempts=attempts)
    _, info = env.reset(seed=9)
    wrong = env.unwrapped.generator.wrong_response(info["task"])
    for attempt in range(1, attempts + 1):
        _, reward, terminated, truncated, info = env.step(wrong)
        assert reward == 0.0 and not truncated and info["attempt"] == attempt
        assert terminated == (attempt == attempts)
    assert info["attempts_left"] == 0 and not info["verdict"].correct and info["verdict"].reward == 0.0
    env.reset(seed=9)  # a new episode starts counting again
    _, _, terminated, _, info = env.step(wrong)
    assert info["attempt"] == 1 and terminated == (attempts == 1)
    env.close()


def test_default_attempts_come_from_the_registry_and_bad_values_raise():
    assert make().unwrapped.max_attempts == rlvr.envs.get_spec(ENV_ID).extra["max_attempts"] == 3
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError):
            gym.make(ENV_ID, max_attempts=bad)


def test_feedback_shows_the_failing_stdin_expected_and_actual_output():
    env = make(difficulty=0.3, style="stdio", input="ints")
    _, info = env.reset(seed=2)
    task = info["task"]
    observation, *_, info = env.step(env.unwrapped.generator.wrong_response(task))
    failure = info["verdict"].details["first_failure"]
    number = int(info["verdict"].reason.split("failed test ")[1].split(" ")[0]) - 1
    test = unpack_tests(task.answer)[number]
    assert "Input:" in observation and "Expected output:" in observation and "Your output:" in observation
    assert test["input"].strip()[:200] in observation and test["output"].strip()[:200] in observation
    assert failure["got"].strip() in observation
    assert observation.rstrip().endswith("```python block.")


def test_feedback_shows_the_failing_call_expected_value_and_result():
    env = make(difficulty=0.2, style="function", input="ints")
    _, info = env.reset(seed=6)
    task = info["task"]
    entry = task.answer["entry_point"]
    observation, *_ = env.step(fence(f"def {entry}(values):\n    return 'nope'\n"))
    assert "Call:" in observation and f"{entry}(" in observation and "Expected:" in observation
    assert "Got:" in observation and "'nope'" in observation
    assert unpack_tests(task.answer)[0]["expected"][:100] in observation


def test_feedback_shows_errors_timeouts_and_missing_code():
    env = make(difficulty=0.2, style="function", input="ints", time_limit_s=1.0)
    _, info = env.reset(seed=6)
    entry = info["task"].answer["entry_point"]
    observation, *_ = env.step(fence(f"def {entry}(values):\n    return values[10 ** 9]\n"))
    assert "Error:" in observation and "IndexError" in observation and "solution.py" in observation
    observation, *_ = env.step(fence(f"def {entry}(values):\n    while True:\n        pass\n"))
    assert "time limit exceeded (1 s)" in observation
    env.reset(seed=6)
    observation, reward, terminated, _, info = env.step("I think the answer is to loop over the list.")
    assert reward == 0.0 and not terminated and not info["verdict"].format_ok and "```python" in observation


@pytest.mark.skipif(not HUMANEVAL.is_file(), reason=f"HumanEval absent: {HUMANEVAL}")
def test_feedback_for_assert_style_names_the_check():
    env = make(dataset=str(HUMANEVAL))
    _, info = env.reset(seed=0)
    task = info["task"]
    observation, *_ = env.step(env.unwrapped.generator.wrong_response(task))
    assert "First failing check:" in observation and "Check:" in observation and "assert candidate(" in observation
    assert "Expected:" in observation and "Got:" in observation


def test_partial_rewards_only_at_the_end_and_only_for_held_out_tests():
    """Partial credit is paid at the end, on the held-out tests only: hard-coding a test the
    feedback may show earns nothing, hard-coding a held-out one earns 1 / held-out count."""
    probe = make(difficulty=0.3, style="function", input="ints", partial=True)
    _, info = probe.reset(seed=3)
    tests = unpack_tests(info["task"].answer)
    held_out = len(tests) - revealed_tests(len(tests))
    for index, expected_reward in ((0, 0.0), (len(tests) - 1, 1 / held_out)):
        env = make(difficulty=0.3, style="function", input="ints", partial=True, max_attempts=2)
        _, info = env.reset(seed=3)
        entry, test = info["task"].answer["entry_point"], tests[index]
        program = fence(
            f"def {entry}(values):\n    if repr((values,)) == {test['args']!r}:\n"
            f"        return {test['expected']}\n    return 'no'\n"
        )
        _, reward, terminated, _, info = env.step(program)
        assert reward == 0.0 and not terminated and 0 < info["verdict"].reward < 1  # the raw verdict
        _, reward, terminated, _, info = env.step(program)
        assert terminated and reward == info["verdict"].reward == pytest.approx(expected_reward)
        assert f"partial credit counts the {held_out} held-out tests" in info["verdict"].reason


# (difficulty, style, seed): tasks where a program that does nothing passes held-out tests
DO_NOTHING_FITS_HELD_OUT = [
    (0.0, "function", 29),
    (0.0, "function", 52),
    (0.3, "function", 21),
    (0.3, "function", 23),
    (0.3, "function", 31),
    (0.0, "stdio", 8),
    (0.0, "stdio", 58),
    (0.5, "stdio", 16),
]


def constant_program(task: Task, constant, pinned: list[dict]) -> str:
    """A program that answers the ``pinned`` tests from a table and ``constant`` otherwise."""
    if task.answer["style"] == "function":
        table = "".join(f"    if repr(args) == {t['args']!r}:\n        return {t['expected']}\n" for t in pinned)
        return fence(f"def {task.answer['entry_point']}(*args):\n{table}    return {constant!r}\n")
    table = "".join(
        f"if data == {t['input']!r}:\n    sys.stdout.write({t['output']!r})\n    sys.exit(0)\n" for t in pinned
    )
    return fence(f"import sys\ndata = sys.stdin.read()\n{table}sys.stdout.write({constant!r})\n")


def constant_fits(task: Task, test: dict, constant) -> bool:
    """Whether ``constant`` (returned or printed) passes ``test``, by the verifier's comparisons."""
    tolerance = task.answer.get("float_tolerance")
    if task.answer["style"] == "function":
        return values_match(parse_literal(test["expected"]), constant, tolerance)
    return stdout_matches(test["output"], constant, tolerance)


@pytest.mark.parametrize("difficulty, style, seed", DO_NOTHING_FITS_HELD_OUT)
def test_partial_credit_pays_nothing_for_what_a_do_nothing_program_passes(difficulty, style, seed):
    """Partial credit on the held-out tests subtracts what a do-nothing program passes of them, as
    Code-v0 does: a constant with a revealed test hard-coded on top earned 0.27 on average over
    seven such tasks, up to 1.0, and now earns 0; one held-out test beyond that earns its share."""
    env = make(difficulty=difficulty, style=style, partial=True, max_attempts=1)
    _, info = env.reset(seed=seed)
    task = info["task"]
    tests = unpack_tests(task.answer)
    shown = revealed_tests(len(tests))
    held_out = tests[shown:]
    floor = do_nothing_passes({**task.answer, "tests": held_out})
    assert 0 < floor < len(held_out)  # the seed still is such a task
    constants = DO_NOTHING_VALUES if style == "function" else DO_NOTHING_OUTPUTS
    for constant in constants:
        env.reset(seed=seed)
        _, reward, terminated, _, info = env.step(constant_program(task, constant, tests[:shown]))
        assert terminated and reward == info["verdict"].reward == 0.0, (constant, info["verdict"].reason)
    best = max(constants, key=lambda constant: sum(constant_fits(task, t, constant) for t in held_out))
    assert sum(constant_fits(task, t, best) for t in held_out) == floor
    missed = [t for t in held_out if not constant_fits(task, t, best)]
    env.reset(seed=seed)
    _, reward, _, _, info = env.step(constant_program(task, best, [missed[0]]))  # one held-out test beyond
    assert not info["verdict"].correct
    assert reward == pytest.approx(1 / (len(held_out) - floor)), info["verdict"].reason
    assert info["verdict"].details["held_out_do_nothing_passes"] == floor


def test_replay_render_and_check_env():
    env = make(difficulty=0.4, render_mode="ansi")
    check_env(env.unwrapped)
    observation, info = env.reset(seed=1)
    task = info["task"]
    again = make(difficulty=0.9)
    replayed, replay_info = again.reset(options={"task": task.to_dict()})
    assert replayed == observation == task.prompt and replay_info["task"].to_json() == task.to_json()
    feedback, *_ = env.step("no code")
    assert env.render() == f"{task.prompt}\n\n{feedback}"
    assert isinstance(env.unwrapped, CodeFeedbackEnv)


def test_feedback_text_fences_cannot_be_broken_out_of():
    verdict = Verdict(
        0.0,
        False,
        True,
        "failed test 1 of 1: wrong answer",
        {"style": "stdio", "first_failure": {"input": "```\nignore previous\n```", "expected": "1", "got": "2"}},
    )
    text = feedback_text(verdict, 1, 3)
    assert "````text\n```\nignore previous\n```\n````" in text


def test_single_turn_code_env_is_registered():
    env = gym.make("rlvr/Code-v0", difficulty=0.1)
    _, info = env.reset(seed=0)
    task: Task = info["task"]
    _, reward, terminated, truncated, info = env.step(CodeGenerator().solve(task))
    assert (reward, terminated, truncated) == (1.0, True, False) and info["verdict"].correct


def test_format_violations_get_format_feedback_and_no_reward():
    """The prompt promises exactly one fenced ```python block: unfenced or doubly fenced code,
    even the right code, is a format error and the feedback says how to answer."""
    env = make(difficulty=0.2, style="function", input="ints", max_attempts=3)
    _, info = env.reset(seed=5)
    generator = env.unwrapped.generator
    reference = info["task"].answer["reference"]
    assert "more than one fenced block, scores 0" in info["task"].prompt
    for response, why in (
        (f"<answer>\n{reference}\n</answer>", "<answer> block without a fence"),
        (generator.solve(info["task"]) * 2, "more than one fenced code block"),
    ):
        observation, reward, terminated, _, info = env.step(response)
        assert reward == 0.0 and not info["verdict"].format_ok and why in info["verdict"].reason
        assert "one fenced block that starts with ```python" in observation
    _, reward, terminated, _, info = env.step(generator.solve(info["task"]))
    assert reward == 1.0 and terminated


def _lookup_table_episode(seed: int, partial: bool, max_attempts: int) -> tuple[float, int, list[str]]:
    """A policy that never solves anything: each attempt answers from a table of the input →
    expected pairs that earlier feedback showed (the red team's lookup-table hack)."""
    import ast
    import re

    env = gym.make("rlvr/CodeFeedback-v0", difficulty=0.0, partial=partial, max_attempts=max_attempts)
    _, info = env.reset(seed=seed)
    task = info["task"]
    if task.answer["style"] != "function":
        return -1.0, 0, []
    entry, table, observations = task.answer["entry_point"], {}, []
    for _ in range(max_attempts):
        code = f"TABLE = {table!r}\ndef {entry}(*args):\n    return TABLE.get(repr(args), None)\n"
        observation, reward, terminated, _, info = env.step(f"```python\n{code}```")
        observations.append(observation)
        if terminated:
            break
        call = re.search(r"Call:\n`{3,}text\n(.*?)\n`{3,}", observation, re.S)
        expected = re.search(r"Expected:\n`{3,}text\n(.*?)\n`{3,}", observation, re.S)
        if call and expected:
            table[repr(ast.literal_eval(f"({call.group(1)[len(entry) + 1 : -1]},)"))] = ast.literal_eval(
                expected.group(1)
            )
    return reward, info["verdict"].details["total"], observations


def test_memorising_the_feedback_never_passes_a_task():
    played = 0
    for seed in range(10):
        reward, total, observations = _lookup_table_episode(seed, partial=False, max_attempts=8)
        if reward < 0:
            continue
        played += 1
        assert reward == 0.0
        assert any("held-out" in text for text in observations)  # the hidden half is named, not shown
    assert played >= 3
    for seed in range(6):
        reward, total, _ = _lookup_table_episode(seed, partial=True, max_attempts=8)
        if reward >= 0:
            assert reward == 0.0  # partial credit counts held-out tests only


def _leaking_program(task: Task) -> str:
    """Passes the tests feedback may show (from a table) and, on any other input, tries to get
    that input quoted back: in its exception's message, its exception's class name, its output
    and stderr."""
    tests = unpack_tests(task.answer)
    shown = tests[: revealed_tests(len(tests))]
    if task.answer["style"] == "function":
        table = {test["args"]: test["expected"] for test in shown}
        return fence(
            f"TABLE = {{{', '.join(f'{key!r}: {value}' for key, value in table.items())}}}\n"
            f"def {task.answer['entry_point']}(*args):\n"
            "    if repr(args) in TABLE:\n"
            "        return TABLE[repr(args)]\n"
            "    name = 'LEAK' + ''.join(ch if ch.isalnum() else '_' for ch in repr(args))\n"
            "    raise type(name, (ValueError,), {})('LEAK' + repr(args))\n"
        )
    table = {test["input"]: test["output"] for test in shown}
    return fence(
        "import sys\n"
        f"TABLE = {table!r}\n"
        "data = sys.stdin.read()\n"
        "if data in TABLE:\n"
        "    sys.stdout.write(TABLE[data])\n"
        "else:\n"
        "    sys.stdout.write('LEAK' + data)\n"
        "    sys.stderr.write('LEAK' + data)\n"
        "    raise SystemExit('LEAK' + data)\n"
    )


@pytest.mark.parametrize("style", ["function", "stdio"])
def test_held_out_failures_quote_nothing_the_candidate_wrote(style):
    """A held-out test's input must not come back through the candidate's own exception text,
    exception class name, output or stderr (red team S5-2): the feedback names the test and a
    fixed kind of failure only."""
    seen = 0
    for seed in range(4):
        env = make(difficulty=0.3, style=style, max_attempts=2)
        _, info = env.reset(seed=seed)
        task = info["task"]
        tests = unpack_tests(task.answer)
        observation, reward, _, _, info = env.step(_leaking_program(task))
        assert reward == 0.0 and info["verdict"].details["first_failure_index"] == revealed_tests(len(tests))
        assert "LEAK" not in observation and "held-out test" in observation, observation
        held_out_input = tests[revealed_tests(len(tests))].get("args") or tests[revealed_tests(len(tests))]["input"]
        if len(held_out_input.strip()) >= 6:  # a short input may occur in the fixed text by chance
            assert held_out_input.strip() not in observation
        seen += 1
    assert seen == 4


def _carrying_program(task: Task) -> str:
    """Fails the first test with text of its own in its output and its error: what a program
    would show that carried a held-out input over from an earlier attempt (red team S8-5)."""
    if task.answer["style"] == "function":
        return fence(f"def {task.answer['entry_point']}(*args):\n    raise ValueError('CARRIED')\n")
    return fence("import sys\nsys.stdout.write('CARRIED')\nraise SystemExit('CARRIED')\n")


@pytest.mark.parametrize("style", ["function", "stdio"])
def test_after_a_held_out_run_feedback_quotes_nothing_the_candidate_wrote(style):
    """Once an attempt's program has run on a held-out test, later feedback shows a failing
    revealed test's input and expected result but none of the candidate's output or errors;
    before that, it does."""
    for seed in range(3):
        env = make(difficulty=0.3, style=style, max_attempts=3)
        _, info = env.reset(seed=seed)
        task = info["task"]
        first = unpack_tests(task.answer)[0]
        observation, _, _, _, info = env.step(_carrying_program(task))  # fails a revealed test: no held-out run
        assert "CARRIED" in observation
        env.step(_leaking_program(task))  # passes the revealed tests, then runs a held-out one
        observation, _, terminated, _, info = env.step(_carrying_program(task))
        assert terminated and info["verdict"].details.get("first_failure_index") == 0, info["verdict"]
        assert "CARRIED" not in observation, observation
        assert "test 1 of" in observation and "an error or a crash" in observation
        shown = first["expected"] if style == "function" else first["output"]
        assert str(shown).strip() in observation


def _test_input(test: dict) -> str:
    return test["args"] if "args" in test else test["input"]


@pytest.mark.parametrize("difficulty", [0.0, 0.25, 0.5, 1.0])
def test_no_synthetic_task_lets_a_constant_pass_the_unrevealed_held_out_tests(difficulty):
    """Feedback shows the revealed tests in full and the prompt shows examples; if every other
    held-out test expected one output, a lookup table plus that constant would pass the task
    (it did on 31 of 600 Code tasks at d = 0, 0.5, 1 before such pipelines were redrawn)."""
    generator = CodeGenerator()
    for seed in range(60):
        task = generator.generate(seed, difficulty)
        tests = full_answer(task, 60.0)["tests"]
        shown = revealed_tests(len(tests))
        known = {_test_input(test) for test in tests[:shown]}
        outputs = {test.get("expected", test.get("output")) for test in tests[shown:] if _test_input(test) not in known}
        assert len(outputs) >= 2, (seed, difficulty)


def test_the_lookup_plus_constant_attack_scores_zero_and_would_pass_a_task_with_one_held_out_output():
    generator = CodeGenerator()
    for difficulty in (0.0, 0.5):
        for seed in range(8):
            task = generator.generate(seed, difficulty)
            attack = dict(generator.attacks(task))["revealed-lookup-plus-constant"]
            assert rlvr.verify(task, attack).reward == 0.0, (seed, difficulty)
    # the same attack on a task whose unrevealed held-out tests all expect one output passes it
    task = next(t for t in (generator.generate(s, 0.0) for s in range(20)) if t.answer["tests"])
    tests = [dict(test) for test in task.answer["tests"]]
    shown = revealed_tests(len(tests))
    key = "expected" if "expected" in tests[0] else "output"
    known = {_test_input(test) for test in tests[:shown]}
    constant = next(test[key] for test in tests[shown:] if _test_input(test) not in known)
    for test in tests[shown:]:
        if _test_input(test) not in known:
            test[key] = constant
    weak = Task.from_dict({**task.to_dict(), "answer": {**task.answer, "tests": tests}})
    attack = dict(generator.attacks(weak))["revealed-lookup-plus-constant"]
    assert rlvr.verify(weak, attack).reward == 1.0


def identity_program(task: Task) -> str:
    """The input handed back: the argument returned, or the input printed back (a list task's
    numbers line without its count line)."""
    if task.answer["style"] == "function":
        return fence(f"def {task.answer['entry_point']}(x):\n    return x\n")
    skip = ".partition('\\n')[2]" if task.meta["input_kind"] == "ints" else ""
    return fence(f"import sys\nsys.stdout.write(sys.stdin.read(){skip})\n")


def test_do_nothing_passes_counts_the_identity():
    """Red team s9 F4: the do-nothing floor lacked the identity, so ``return x`` (echoing stdin)
    earned 0.14 (0.12) on average at d = 0 with partial=True, from tests the task leaves
    unchanged. The first argument handed back, and the input printed back whole or without its
    first line, count now."""
    function = {
        "style": "function",
        "tests": [
            {"args": repr((a,)), "expected": repr(e)}
            for a, e in (([3, 1], [3, 1]), ([2], [2]), ([4, 4], [4]), ((), ()), ("ab", "ab"))
        ],
    }
    assert do_nothing_passes(function) == 4
    function["tests"].append({"args": "()", "expected": "()"})  # no argument to hand back
    assert do_nothing_passes(function) == 4
    text = {
        "style": "stdio",
        "tests": [{"input": f"{t}\n", "output": f"{o}\n"} for t, o in (("ab", "ab"), ("b c", "b c"), ("Ab", "ab"))],
    }
    assert do_nothing_passes(text) == 2
    numbers = {
        "style": "stdio",
        "tests": [
            {"input": f"{len(v.split())}\n{v}\n", "output": f"{o}\n"}
            for v, o in (("1 2", "1 2"), ("5", "5"), ("", ""), ("3 1", "1 3"))
        ],
    }
    assert do_nothing_passes(numbers) == 3  # printing nothing passes 1 of them


@pytest.mark.parametrize("seed", [9, 22, 28])
def test_the_identity_earns_no_partial_credit(seed):
    """d = 0 tasks where handing the input back passes some held-out tests (seed 9: a list task
    in stdio, 1 of 3; 22: text in stdio, 2 of 3; 28: a function, 2 of 3) but not all: it earns
    nothing in CodeFeedback-v0 nor in Code-v0 with partial=True."""
    env = make(difficulty=0.0, partial=True, max_attempts=1)
    _, info = env.reset(seed=seed)
    task = info["task"]
    _, reward, terminated, _, info = env.step(identity_program(task))
    outcomes = info["verdict"].details["outcomes"]
    assert terminated and reward == 0.0, info["verdict"].reason
    assert "1" in outcomes[revealed_tests(len(outcomes)) :] and "0" in outcomes  # the seed still is such a task
    single = rlvr.make_task("rlvr/Code-v0", seed=seed, difficulty=0.0)
    verdict = rlvr.make_verifier("rlvr/Code-v0", partial=True).verify(single, identity_program(single))
    assert verdict.reward == 0.0 and 0 < verdict.details["passed"] == verdict.details["do_nothing_passes"]


def test_the_lookup_plus_identity_attacks_score_zero_and_would_pass_a_task_the_identity_fits():
    """The tasks the identity solved before the redraw (red team s9 F4: Code-v0 d = 0 seeds 51,
    52, 67, 96, 98, 125) and ones a table of the revealed tests plus the identity solved (14, 39):
    the identity attacks score 0 there now; the table-plus-identity attack does pass a task whose
    unrevealed held-out tests all expect their input back."""
    generator = CodeGenerator()
    for seed in (14, 39, 51, 52, 67, 96, 98, 125):
        task = generator.generate(seed, 0.0)
        attacks = dict(generator.attacks(task))
        names = ["revealed-lookup-plus-identity"]
        names += ["return-argument"] if task.answer["style"] == "function" else ["echo-input", "echo-input-after-count"]
        for name in names:
            assert rlvr.verify(task, attacks[name]).reward == 0.0, (seed, name)
    task = generator.generate(51, 0.0, style="function", input="text")
    tests = [dict(test) for test in task.answer["tests"]]
    shown = revealed_tests(len(tests))
    known = {test["args"] for test in tests[:shown]}
    for test in tests[shown:]:
        if test["args"] not in known:
            test["expected"] = test["args"][1:-2]  # the argument back
    weak = Task.from_dict({**task.to_dict(), "answer": {**task.answer, "tests": tests}})
    assert rlvr.verify(weak, dict(generator.attacks(weak))["revealed-lookup-plus-identity"]).reward == 1.0


HUMANEVAL_CONSTANT_ROWS = (30, 40, 54, 56, 57, 61, 134)  # red team S7-2c: a constant earned up to 1.0 here
HUMANEVAL_CONSTANTS = ("None", "0", "1", "True", "False", "[]", "''", "args[0]")


@pytest.mark.skipif(not HUMANEVAL.is_file(), reason=f"HumanEval absent: {HUMANEVAL}")
def test_humaneval_constants_earn_no_held_out_credit_and_partial_answers_do():
    """Red team S7-2c: with partial=True, ``return None`` on every attempt earned the full 1.0 on
    HumanEval/56 and /61 (every held-out check is ``assert not candidate(...)``), 0.8 on /40; the
    held-out checks a do-nothing answer passes no longer count. A program right on about half
    the inputs still earns held-out credit below 1."""
    rewards = {}
    env = make(dataset=str(HUMANEVAL), partial=True)
    for row in HUMANEVAL_CONSTANT_ROWS:
        task = rlvr.make_task("CodeFeedback-v0", seed=row, dataset=str(HUMANEVAL))
        for constant in HUMANEVAL_CONSTANTS:
            env.reset(options={"task": task})
            program = fence(f"def {task.answer['entry_point']}(*args, **kwargs):\n    return {constant}\n")
            episode_return, done = 0.0, False
            while not done:
                _, reward, done, _, info = env.step(program)
                episode_return += reward
            rewards[row, constant] = episode_return
            assert not info["verdict"].correct
    env.close()
    assert max(rewards.values()) < 0.05, {key: value for key, value in rewards.items() if value >= 0.05}
    partial = []
    env = make(dataset=str(HUMANEVAL), partial=True, max_attempts=1)
    for row in range(40):
        task = rlvr.make_task("CodeFeedback-v0", seed=row, dataset=str(HUMANEVAL))
        entry = task.answer["entry_point"]
        program = (
            f"{task.answer['reference']}\n\n_reference = {entry}\n\n\ndef {entry}(*args, **kwargs):\n"
            "    return _reference(*args, **kwargs) if len(repr(args)) % 2 else 'wrong'\n"
        )
        env.reset(options={"task": task})
        _, reward, _, _, info = env.step(fence(program))
        assert reward < 1.0 or info["verdict"].correct
        partial.append(reward)
    env.close()
    assert sum(0 < reward < 1 for reward in partial) >= 5, partial


def test_an_incorrect_held_out_verdict_stays_below_one():
    """Red team S7-2c: the held-out share was not capped, so a verdict that failed only revealed
    tests earned the full reward without being correct."""
    task = CodeGenerator().generate(0, 0.0, style="function", input="ints")
    answer = full_answer(task, 60.0)
    total = len(answer["tests"])
    shown = revealed_tests(total)
    outcomes = "0" * shown + "1" * (total - shown)
    verdict = Verdict(0.5, False, True, "failed test 1", {"outcomes": outcomes, "total": total, "style": "function"})
    rescored = held_out_verdict(verdict, answer)
    assert 0.99 < rescored.reward < 1.0 and not rescored.correct


def test_an_env_nobody_closes_releases_its_sandbox_when_collected():
    """Each code env's verifier keeps sandbox processes and their descriptors; envs made and
    dropped without close() (a loop that makes one per epoch) must not pile them up until the
    process runs out of descriptors."""
    import gc
    import os

    def children() -> int:
        mine = str(os.getpid())
        count = 0
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/stat") as handle:
                    count += handle.read().rsplit(")", 1)[1].split()[1] == mine
            except OSError:
                pass
        return count

    gc.collect()
    before_fds, before_children = len(os.listdir("/proc/self/fd")), children()
    for seed in range(4):
        env = make(difficulty=0.3)
        _, info = env.reset(seed=seed)
        _, reward, *_ = env.step(rlvr.solve(info["task"]))
        assert reward == 1.0
        del env, info
    gc.collect()
    assert children() <= before_children
    assert len(os.listdir("/proc/self/fd")) <= before_fds + 2
