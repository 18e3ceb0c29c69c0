"""CodeFeedbackEnv: write code, read the first failing test, try again.

Observation  ``str``.  After ``reset``: the task prompt.  After a failed attempt: a feedback
             message — the verdict's reason and the first failing test (its input, the
             expected output or value, what the code produced, or the error, time-out or crash
             it hit), or, when no code was found, how to format the answer — followed by the
             request to answer again with the complete code.  Only the first half of the tests
             (``revealed_tests``) is ever shown in full; a failing held-out test is named with
             its number and a fixed kind of failure only, no text of the candidate's (its
             exceptions or output could carry the test's input), so memorising feedback cannot
             pass the task.  Once an attempt has run a held-out test, later feedback quotes no
             text of the candidate's at all (for a revealed test too: its input, expected
             result and the kind of failure only), since a program can carry what it saw
             from one attempt to the next through state no namespace holds (the host's page
             cache: red team S8-5).  After the final step: the verdict's reason ("passed all
             10 tests") or the last feedback.
Action       ``str``: the model's whole response (``FreeText``).
Reward       0.0 after a failed attempt that is not the last; on the step that ends the
             episode, the final verdict's reward: 1.0 on a pass; with the verifier option
             ``partial=True``, the share of the held-out tests (never shown in feedback) the last
             attempt passed beyond what a do-nothing program passes of them, as Code-v0 pays
             (``held_out_verdict``), so answers memorised from feedback, alone or on top of a
             constant, earn nothing (``info``'s final verdict carries that reward; its reason says
             so).  The episode's return is therefore the final verdict's reward.
Episode end  ``terminated=True`` as soon as an attempt is correct or after ``max_attempts``
             attempts; ``truncated`` is always False.  Stepping a finished episode raises
             ``ResetNeeded``.
Info         ``verdict`` (this attempt's Verdict; at the end, the final one), ``attempt``
             (1-based), ``attempts_left``, ``feedback`` (the text shown; "" on a pass),
             ``task`` and ``task_id``.
Arguments    ``env_id`` (set by registration), ``difficulty``, ``max_attempts`` (default: the
             registry's ``extra["max_attempts"]``, 3), ``render_mode`` ("ansi": the prompt and
             the feedback so far), the generator's options (``dataset=``), the verifier's
             options (``partial=``, ``backend=``…) and task parameters, as ``SingleTurnEnv``.
Reset        As ``SingleTurnEnv``: ``reset(seed=s)``, ``options={"difficulty": d}``,
             ``options={"task": task}`` replays a Task exactly; the attempt count restarts.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym

from rlvr.core import Verdict, clean_text
from rlvr.envs.registry import get_spec
from rlvr.envs.single_turn import SingleTurnEnv
from rlvr.generators.code import full_answer, revealed_tests
from rlvr.verifiers.code import UNPACK_S, assert_partial_reward, do_nothing_passes

DEFAULT_MAX_ATTEMPTS = 3
ANSWER_AGAIN = "Fix the code and answer again with the complete code in one ```python block."


def _block(text: str) -> str:
    """``text`` in a fenced block that its own backticks cannot close."""
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}text\n{text.rstrip(chr(10))}\n{fence}"


def held_out_verdict(verdict: Verdict, answer: dict | None) -> Verdict:
    """A ``partial=True`` verdict re-scored on the held-out tests only, the way Code-v0 scores
    all of them: of the tests past ``revealed_tests`` (tests not run count as failed), the share
    passed beyond p0, what one do-nothing program (a constant, or the input handed back) passes
    of them (``rlvr.verifiers.code.do_nothing_passes`` over the held-out tests): (passed − p0) /
    (held-out − p0), clipped at 0. So a constant that happens to fit held-out tests earns
    nothing, even with a revealed test hard-coded on top (that paid 0.27 on average over seven
    such tasks, up to 1.0). Assert-style checks: ``rlvr.verifiers.code.assert_partial_reward``
    over the held-out checks (only checks no do-nothing answer passes count, beyond what one other
    constant passes; ``return None`` earned the full 1.0 on five HumanEval rows). A verdict that
    is not correct stays below 1. ``answer`` is the task's answer with every test (``full_answer``);
    None (its tests could not be rebuilt) or a test list that does not match the verdict gives
    no credit. A correct verdict, or one without per-test ``outcomes``, is returned as it is."""
    outcomes, total = verdict.details.get("outcomes"), verdict.details.get("total") or 0
    if verdict.correct or not isinstance(outcomes, str) or total <= 0:
        return verdict
    shown = revealed_tests(total)
    count = total - shown
    tests = (answer or {}).get("tests")
    if answer is None or (answer.get("style") != "assert" and (not isinstance(tests, list) or len(tests) != total)):
        reason = f"{verdict.reason}; no partial credit: the task's held-out tests could not be read"
        return dataclasses.replace(verdict, reward=0.0, reason=reason)
    passed = outcomes[shown:].count("1")
    if answer.get("style") == "assert":  # red team S7-2c: as Code-v0 pays checks (assert_partial_reward)
        reward = assert_partial_reward(outcomes, total, verdict.details.get("do_nothing"), first=shown)
        passes, floor = None, "only those no do-nothing program passes counted"
    else:
        passes = do_nothing_passes({**answer, "tests": tests[shown:] if isinstance(tests, list) else []})
        reward = max(0.0, (passed - passes) / (count - passes)) if passes < count else 0.0
        floor = f"{passes} of them passed by a program that does nothing"
    reward = min(reward, 1.0 - 1e-9)  # not correct: never the full reward (red team S7-2c)
    reason = f"{verdict.reason}; partial credit counts the {count} held-out tests: {passed} passed, {floor}"
    details = {**verdict.details, "held_out_do_nothing_passes": passes}
    return dataclasses.replace(verdict, reward=reward, reason=reason, details=details)


def held_out_feedback(failure: dict, style: str | None, index: int, total: int, attempt: int, max_attempts: int) -> str:
    """The message for a failed held-out test: its number and one of three fixed kinds only.

    Nothing the candidate wrote is quoted — not the verdict's reason, its exception's message
    or type name, its output or traceback — since a candidate can put the test's input into
    any of them (``raise ValueError(repr(args))``, a class named after the input) and so
    collect the held-out inputs one attempt at a time.
    """
    unit = "check" if style == "assert" else "test"
    failed = f"held-out {unit} {index + 1} of {total} failed ({failure_kind(failure)})"
    return "\n".join(
        [
            f"Attempt {attempt} of {max_attempts} did not pass: {failed}.",
            "",
            "Its input, expected result and your program's output or error are not shown.",
            "",
            ANSWER_AGAIN,
        ]
    )


def failure_kind(failure: dict) -> str:
    """One of three fixed words for how a test failed (none of the candidate's text)."""
    error = str(failure.get("error") or "")
    if failure.get("got") is not None and not error:
        return "wrong result"
    if error.startswith("time limit exceeded"):
        return "time limit exceeded"
    return "an error or a crash"


def ran_held_out(verdict: Verdict) -> bool:
    """Whether the attempt's program was run on a held-out test (tests run in order, the
    revealed ones first), and so may have seen a held-out input."""
    total = verdict.details.get("total") or 0
    return (verdict.details.get("tests_run") or 0) > revealed_tests(total)


def feedback_text(verdict: Verdict, attempt: int, max_attempts: int, quote_candidate: bool = True) -> str:
    """The message shown after a failed attempt: what went wrong and the first failing test.
    ``quote_candidate=False`` (after an attempt that ran a held-out test): nothing the candidate
    wrote — not the verdict's reason, its output or its error — only the failing revealed
    test's input and expected result and the kind of failure."""
    failure = verdict.details.get("first_failure") or {}
    style = verdict.details.get("style")
    index, total = verdict.details.get("first_failure_index"), verdict.details.get("total") or 0
    if verdict.format_ok and failure and index is not None and index >= revealed_tests(total):
        return held_out_feedback(failure, style, index, total, attempt, max_attempts)
    if not quote_candidate:
        unit = "check" if style == "assert" else "test"
        failed = (
            f"{unit} {index + 1} of {total} failed ({failure_kind(failure)})"
            if verdict.format_ok and failure and index is not None
            else ("the program did not run" if verdict.format_ok else "no code was found")
        )
        lines = [f"Attempt {attempt} of {max_attempts} did not pass: {failed}."]
        failure = {key: failure[key] for key in ("statement", "input", "expected") if key in failure}
        if verdict.format_ok:
            lines += [
                "",
                "Your program's output and errors are no longer shown: an earlier attempt ran held-out tests.",
            ]
    else:
        lines = [f"Attempt {attempt} of {max_attempts} did not pass: {verdict.reason}."]
    if not verdict.format_ok:
        lines += ["", "Put the complete code in one fenced block that starts with ```python and ends with ```."]
        return "\n".join(lines)
    if failure:
        lines += ["", "First failing check:" if style == "assert" else "First failing test:"]
        if failure.get("statement"):
            lines += ["Check:", _block(str(failure["statement"]))]
        if failure.get("input") is not None:
            lines += ["Input:" if style == "stdio" else "Call:", _block(str(failure["input"]))]
        if failure.get("expected") is not None:
            lines += ["Expected output:" if style == "stdio" else "Expected:", _block(str(failure["expected"]))]
        if failure.get("got") is not None:
            lines += ["Your output:" if style == "stdio" else "Got:", _block(str(failure["got"]))]
        if failure.get("error"):
            lines += ["Error:", _block(str(failure["error"]))]
    lines += ["", ANSWER_AGAIN]
    return "\n".join(lines)


class CodeFeedbackEnv(SingleTurnEnv):
    metadata = {"render_modes": ["ansi"], "render_fps": 1}

    def __init__(
        self,
        env_id: str,
        difficulty: float = 0.5,
        max_attempts: int | None = None,
        render_mode: str | None = None,
        **options: Any,
    ):
        if max_attempts is None:
            max_attempts = get_spec(env_id).extra.get("max_attempts", DEFAULT_MAX_ATTEMPTS)
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise ValueError(f"max_attempts must be a positive int, got {max_attempts!r}")
        super().__init__(env_id, difficulty=difficulty, render_mode=render_mode, **options)
        if self.visual:
            raise ValueError(f"{env_id} is visual; CodeFeedbackEnv serves text tasks")
        self.max_attempts = max_attempts
        self.attempt = 0
        self.finished = False
        self.saw_held_out = False  # an attempt's program has run on a held-out test
        self.transcript: list[str] = []

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        observation, info = super().reset(seed=seed, options=options)
        self.attempt = 0
        self.finished = False
        self.saw_held_out = False
        self.transcript = []
        info["attempts_left"] = self.max_attempts
        return observation, info

    def step(self, action: str):
        if self.task is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        if self.finished:
            raise gym.error.ResetNeeded("Cannot call env.step() after the episode terminated; call env.reset()")
        verdict: Verdict = self.verifier.verify(self.task, action)
        self.attempt += 1
        terminated = bool(verdict.correct) or self.attempt >= self.max_attempts
        feedback = (
            "" if verdict.correct else feedback_text(verdict, self.attempt, self.max_attempts, not self.saw_held_out)
        )
        self.saw_held_out = self.saw_held_out or ran_held_out(verdict)
        if terminated:
            self.finished = True
            if getattr(self.verifier, "partial", False):
                verdict = held_out_verdict(verdict, self.full_answer())
            reward = float(verdict.reward)
            observation = feedback or f"Passed: {verdict.reason}."
        else:
            reward = 0.0
            observation = feedback
        observation = clean_text(observation)  # feedback may quote candidate output with lone surrogates
        self.transcript.append(observation)
        info = {
            "verdict": verdict,
            "attempt": self.attempt,
            "attempts_left": self.max_attempts - self.attempt,
            "feedback": feedback,
            "task": self.task,
            "task_id": self.task.id,
        }
        return observation, reward, terminated, False, info

    def full_answer(self) -> dict | None:
        """The task's answer with every test: packed tests rebuilt on the host (cached: the
        verifier has just rebuilt them), at most ``UNPACK_S``; None if that fails."""
        try:
            return full_answer(self.task, UNPACK_S)
        except (TimeoutError, ValueError, KeyError, TypeError):
            return None

    def render(self):
        if self.task is None or self.render_mode is None:
            return None
        return "\n\n".join([self.task.prompt, *self.transcript])
