r"""Red team S14 (team B) on rlvr/Math-v0: the options ``ordered`` / ``units="strict"`` on the
worker path (B1), values too large to evaluate inside functions and nested rounding (B3), and
answers that restate the problem's own maths in dataset mode (B4)."""

import gc
import re
import threading
import time
from pathlib import Path

import pytest

from rlvr.core import Task
from rlvr.generators.math import MathGenerator, math_attacks, partly_evaluated, reversed_terms
from rlvr.verifiers.math import MathVerifier, problem_expressions, restates_problem, too_large_to_evaluate

SHARED_MATH = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "math"
MATH500 = SHARED_MATH / "math500.jsonl"
SPAN = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\[(.+?)\\\]|\\\((.+?)\\\)", re.DOTALL)


def any_task(gold: str, prompt: str = "") -> Task:
    return Task("t", "rlvr/Math-v0", "math", prompt, {"gold": gold, "form": "any"}, 0.0, 0)


def boxed(text: str) -> str:
    return "\\boxed{" + text + "}"


@pytest.fixture(scope="module")
def verifier():
    made = MathVerifier()
    yield made
    made.close()


# --------------------------------------------------------------------------------------------
# B1: ordered and strict units hold whatever path judges
# --------------------------------------------------------------------------------------------

# Each sends its element (and so the whole answer) outside the native reader, to the worker
WORKER_WRAPPERS = (
    r"\lceil {0} \rceil",
    r"\lfloor {0} \rfloor",
    r"\max({0}, {0})",
    r"\binom{{1}}{{1}}\cdot {0}",
    r"\Gamma(2)\cdot {0}",
    r"\sinh(\operatorname{{arcsinh}} {0})",
)
ORDERED_GOLDS = ("10, 4, -2", "1, 2, 3", "3, 5, 7", "-7, 0, 12, 5")


def ordered_responses(items: list[str]) -> list[str]:
    """Each element wrapped in turn, boxed and stated in free text."""
    responses = []
    for wrapper in WORKER_WRAPPERS:
        for position in range(len(items)):
            wrapped = list(items)
            wrapped[position] = wrapper.format(items[position])
            text = ", ".join(wrapped)
            responses += [boxed(text), f"<answer>The answer is ${text}$.</answer>"]
    return responses


def test_ordered_lists_keep_their_order_on_the_worker_path():
    """Before: a reversed list with one element the native reader cannot read went to
    math-verify, which compares bare lists as sets: every reversed response below scored 1."""
    ordered = MathVerifier(ordered=True)
    try:
        wrong = right = total = 0
        for gold in ORDERED_GOLDS:
            items = [item.strip() for item in gold.split(",")]
            for response in ordered_responses(items[::-1]) + [boxed(", ".join(items[1:] + items[:1]))]:
                verdict = ordered.verify(any_task(gold), response)
                wrong += verdict.reward > 0
                total += 1
            for response in ordered_responses(items):
                right += ordered.verify(any_task(gold), response).correct
        assert total >= 150 and wrong == 0, wrong
        assert right == sum(len(ordered_responses(g.split(","))) for g in ORDERED_GOLDS)  # in order: all score
        # without the option a bare list is a set, on either path
        unordered = MathVerifier()
        try:
            assert unordered.verify(any_task("10, 4, -2"), boxed(r"-2, \lceil 4 \rceil, 10")).correct
        finally:
            unordered.close()
    finally:
        ordered.close()


UNIT_GOLDS = (
    (r"10 \text{ cm}", "10"),
    (r"\frac{270}7\text{ degrees}", r"\frac{270}{7}"),
    (r"5.4 \text{ cents}", "5.4"),
)
UNIT_WRAPPERS = (r"\lceil 0.5\rceil\cdot {0}", r"\max({0}, 0)", r"\binom{{1}}{{1}}\cdot {0}", r"\Gamma(2) \cdot {0}")
WRONG_UNITS = (r"\text{ kg}", r"\,\mathrm{kg}", r"\text{ seconds}", " kg", "", r"\text{ cm kg}")


def test_strict_units_hold_on_the_worker_path():
    """Before: ``\\lceil 9.5\\rceil \\text{ kg}`` for ``10 \\text{ cm}`` (any worker-bound value with
    any unit) scored 1 under ``units="strict"``."""
    strict = MathVerifier(units="strict")
    try:
        wrong = right = 0
        for gold, value in UNIT_GOLDS:
            unit = gold[gold.index("\\text") :]
            for wrapper in UNIT_WRAPPERS:
                written = wrapper.format(value)
                for other in WRONG_UNITS:
                    if other.strip() == unit.strip():
                        continue
                    for response in (boxed(f"{written}{other}"), f"<answer>The answer is ${written}{other}$.</answer>"):
                        wrong += strict.verify(any_task(gold), response).reward > 0
                hidden = boxed(rf"\lceil {value} \text{{ kg}} \rceil {unit}")  # a unit inside the value
                wrong += strict.verify(any_task(gold), hidden).reward > 0
                for response in (boxed(f"{written} {unit}"), f"<answer>The answer is ${written}{unit}$.</answer>"):
                    right += strict.verify(any_task(gold), response).correct
        assert wrong == 0, wrong
        assert right == 2 * len(UNIT_GOLDS) * len(UNIT_WRAPPERS)
        assert not strict.verify(any_task("10"), boxed(r"\lceil 9.5 \rceil \text{ kg}")).correct  # no unit asked
        assert strict.verify(any_task(r"\text{Evelyn}"), boxed(r"\left(\text{Evelyn}\right)")).correct  # a word
    finally:
        strict.close()


# --------------------------------------------------------------------------------------------
# B3: values too large to evaluate, wherever they stand
# --------------------------------------------------------------------------------------------

SLOW_ANSWERS = (  # each held a worker its whole 5 s deadline before
    r"\lceil 3^{3^{3^{3}}} \rceil",
    r"\lfloor \log_2 2^{2^{30}} \rfloor",
    r"\sin(10^{10^{6}})",
    r"\cos(2^{2^{25}})",
    r"\lceil e^{e^{e^{e}}} \rceil",
    r"\lfloor 10^{10^{7}}/10^{10^{7}} \rfloor",
    r"\lceil 0.5\rceil^{10^{10^{9}}}",
    r"\lfloor 1.5 \rfloor \cdot 7^{7^{8}}",
    r"\lceil\lceil\lceil\lceil\lceil\lceil 1 \rceil\rceil\rceil\rceil\rceil\rceil",
    r"\lfloor\lfloor\lfloor\lfloor 7 \rfloor\rfloor\rfloor\rfloor",
    r"\sin((10^{9})!)",
    r"\lceil (10^{9})! \rceil",
    r"\lceil \exp(10^{5}) \rceil",
    r"\lfloor \cosh(99999) \rfloor",
    r"10^{\lceil 10^{9}\rceil}",
    r"\lceil 10^{\max(10^{9}, 1)} \rceil",
    r"\lceil 2^{\binom{100}{50}} \rceil",
    r"\lceil \sqrt[10^{9}]{2} \rceil",
)


def test_values_too_large_to_evaluate_are_refused_at_once_in_every_form(verifier):
    tasks = [any_task(r"\frac{3}{4}")] + [MathGenerator().generate(200_000 + seed, 1.0) for seed in range(6)]
    for answer in SLOW_ANSWERS:
        assert too_large_to_evaluate(answer), answer
        for task in tasks:
            gc.disable()  # the suite's own full collections (~0.8 s once in CI) are not the verifier's time
            try:
                start = time.monotonic()
                verdict = verifier.verify(task, boxed(answer))
                seconds = time.monotonic() - start
            finally:
                gc.enable()
            assert verdict.reward == 0 and seconds < 0.5, (answer, task.answer, verdict, seconds)
            assert verdict.details["path"] in ("screen", "fast", "extraction"), (answer, verdict)


def test_slow_answers_no_longer_starve_right_ones():
    """Before: eight of the slow answers at once held every worker 5 s, and right answers sent
    0.3 s later came back not_judged."""
    made = MathVerifier()
    task = any_task(r"\frac{3}{4}")
    results: dict[int, object] = {}
    try:
        assert made.verify(task, boxed(r"\frac{3}{4}\lceil 0.5 \rceil")).correct  # warm template

        def run(index: int, response: str) -> None:
            results[index] = made.verify(task, response)

        slow = [threading.Thread(target=run, args=(i, boxed(SLOW_ANSWERS[i % 8]))) for i in range(16)]
        for thread in slow:
            thread.start()
        time.sleep(0.3)
        right = [threading.Thread(target=run, args=(100 + i, boxed(r"\frac{3}{4}\lceil 0.5 \rceil"))) for i in range(3)]
        for thread in right:
            thread.start()
        for thread in slow + right:
            thread.join()
        assert all(results[100 + i].correct for i in range(3)), [results[100 + i] for i in range(3)]
        assert not any(results[i].details.get("not_judged") for i in results)
    finally:
        made.close()


def test_rounding_nests_three_deep_and_powers_in_range_still_count(verifier):
    for depth in (1, 2, 3):
        answer = r"\lceil" * depth + r" \frac{5}{2} " + r"\rceil" * depth
        assert verifier.verify(any_task("3"), boxed(answer)).correct, depth
    for gold, answer in (
        ("8", r"\lfloor \log_2 2^{3} \rfloor + 5"),
        ("1", r"\sin^2(10^{3}) + \cos^2(10^{3})"),
        (r"2^{4096}", r"\lceil 2^{4096} \rceil"),
        ("120", r"\lceil 5! \rceil"),
        ("7", r"\lfloor e^{2} \rfloor"),
    ):
        assert verifier.verify(any_task(gold), boxed(answer)).correct, (gold, answer)


@pytest.mark.skipif(not MATH500.is_file(), reason=f"MATH-500 absent: {MATH500}")
def test_math500_golds_pass_the_size_screen():
    generator = MathGenerator(dataset=str(MATH500))
    golds = [generator.generate(row).answer["gold"] for row in range(len(generator.dataset_rows))]
    assert not [gold for gold in golds if too_large_to_evaluate(gold)]
    assert max(gold.count(r"\lceil") + gold.count(r"\lfloor") for gold in golds) <= 1


# --------------------------------------------------------------------------------------------
# B4: restating the problem is not answering it
# --------------------------------------------------------------------------------------------


def spans_of(prompt: str) -> list[str]:
    """The last four maths spans of a prompt that are no plain number (the red team's rule)."""
    spans = [next(g for g in found.groups() if g).strip().rstrip(".") for found in SPAN.finditer(prompt)]
    return [span for span in spans if span and not re.fullmatch(r"-?\d+(\.\d+)?", span)][-4:]


RESTATEMENTS = ("{0}", "({0})", "{0}+0", r"1\cdot {0}", r"\left({0}\right)", "x = {0}")


@pytest.mark.skipif(not MATH500.is_file(), reason=f"MATH-500 absent: {MATH500}")
def test_restating_the_problem_scores_on_math500_only_where_the_gold_is_the_span(verifier):
    """Before: boxing one of the last four maths spans of the problem scored 1 on 39 of the 500
    rows (plain, or in brackets, ``+0``, ``1\\cdot``, ``x =``: 41). Now 2: row 277, whose gold
    ``\\sqrt{53}`` is the span itself, and row 227, where the letter c is read as the gold (C)."""
    generator = MathGenerator(dataset=str(MATH500))
    scored = set()
    for row in range(len(generator.dataset_rows)):
        task = generator.generate(row)
        assert verifier.verify(task, boxed(task.answer["gold"])).correct, row  # every gold still scores
        for span in spans_of(task.prompt):
            for shape in RESTATEMENTS:
                if verifier.verify(task, boxed(shape.format(span))).correct:
                    scored.add(row)
            if verifier.verify(task, f"<answer>The final answer is ${span}$.</answer>").correct:
                scored.add(row)
    assert scored <= {227, 277}, sorted(scored)


@pytest.mark.parametrize(
    ("prompt", "gold", "restated", "answers"),
    [
        ("Compute $99^2+99+1$ in your head.", "9901", r"99^2 + 99 + 1", ["9901", "9,901", "x = 9901"]),
        ("Simplify $\\sqrt{242}$.", r"11\sqrt2", r"\sqrt{242}", [r"11\sqrt{2}", r"\sqrt{2} \cdot 11"]),
        ("Factor the expression $ab+5b+2a+10$.", "(a+5)(b+2)", "ab+5b+2a+10", ["(b+2)(a+5)"]),
        ("Compute $\\dbinom{31}{28}$.", "4495", r"\binom{31}{28}", ["4495"]),
        ("It costs \\$5, then \\$3. Let $x = 2^{10} - 24$. Find $x$.", "1000", r"2^{10}-24", ["1000", "1\\,000"]),
        (
            "Rationalize $\\frac{3}{\\sqrt{27}}$.",
            r"\frac{\sqrt{3}}{3}",
            r"\dfrac{3}{\sqrt{27}}",
            [r"\frac{1}{\sqrt{3}}"],
        ),
    ],
)
def test_a_restatement_scores_zero_and_the_answer_still_counts(verifier, prompt, gold, restated, answers):
    task = any_task(gold, prompt)
    for shape in RESTATEMENTS + (r"\left( {0} \right)",):
        response = boxed(shape.format(restated))
        verdict = verifier.verify(task, response)
        assert verdict.reward == 0 and "restates" in verdict.reason, (response, verdict)
        assert restates_problem({"gold": gold, "restated": problem_expressions(prompt)}, shape.format(restated))
    assert verifier.verify(any_task(gold), boxed(restated)).correct  # the value itself is right: no prompt, no screen
    for answer in answers + [gold]:
        assert verifier.verify(task, boxed(answer)).correct, answer


@pytest.mark.skipif(not MATH500.is_file(), reason=f"MATH-500 absent: {MATH500}")
def test_reordered_or_respelt_restatements_score_only_where_the_gold_is_the_span(verifier):
    """Session 15: after the exact screen, a span with its terms reversed still scored on 11 of
    the 500 rows and one with ``\\cdot`` and ``\\times`` swapped on 5 (``1+99+99^2`` for 9901,
    ``10+2a+5b+ab`` for ``(a+5)(b+2)``). Now only row 277 (gold ``\\sqrt{53}``, the span)."""
    generator = MathGenerator(dataset=str(MATH500))
    scored = set()
    for row in range(len(generator.dataset_rows)):
        task = generator.generate(row)
        for span in spans_of(task.prompt)[-2:]:
            shapes = {
                reversed_terms(span),
                span.replace("\\cdot", "\\times"),
                span.replace("\\times", "\\cdot"),
                span.replace("-", "\u2212"),  # the minus sign (second pass: 15 rows)
                span.replace("\\cdot", "\u00d7"),
                re.sub(r"\\d?frac\{([^{}]*)\}\{([^{}]*)\}", r"(\1)/(\2)", span),
            }
            for shape in shapes - {span}:
                if verifier.verify(task, boxed(shape)).correct:
                    scored.add(row)
    assert scored <= {277}, sorted(scored)


@pytest.mark.parametrize(
    ("prompt", "gold", "restatements", "answers"),
    [
        ("Compute $99^2+99+1$.", "9901", ["1+99+99^2", "99+1+99^{2}", "0+1+99+99^2"], ["9901", "9\\,901"]),
        ("Factor $ab+5b+2a+10$.", "(a+5)(b+2)", ["10+2a+5b+ab", "ba+5b+2a+10"], ["(b+2)(a+5)", "(5+a)(2+b)"]),
        ("Simplify $6(1+2i)-3i$.", "6+9i", ["-3i+(1+2i)6", "(1+2i)\\times 6-3i"], ["6+9i", "9i+6"]),
        ("Compute $2 \\cdot 3 \\div 4$.", "\\frac32", ["2\\times 3/4", "3*2\\div 4"], ["1.5", "\\frac{3}{2}"]),
    ],
)
def test_a_reordered_restatement_scores_zero_and_the_answer_still_counts(verifier, prompt, gold, restatements, answers):
    task = any_task(gold, prompt)
    for restatement in restatements:
        verdict = verifier.verify(task, boxed(restatement))
        assert verdict.reward == 0 and "restates" in verdict.reason, (restatement, verdict)
        assert verifier.verify(any_task(gold), boxed(restatement)).correct  # its value is right: no prompt, no screen
    for answer in answers + [gold]:
        assert verifier.verify(task, boxed(answer)).correct, answer


@pytest.mark.parametrize(
    ("prompt", "gold", "unevaluated", "answers"),
    [
        (
            "Compute $99^2+99+1$.",
            "9901",
            ["9801+99+1", "99\\cdot 99+99+1", "(100-1)^2+99+1", "99^2+100", "9900+1", "x = 9801 + 100"],
            ["9901", "9\\,901", "9{,}901", "x = 9901"],
        ),
        ("Evaluate $\\dbinom{8}{4}$.", "70", ["\\frac{8!}{4!4!}", "7\\cdot 10", "\\sqrt{4900}"], ["70"]),
        (
            "Find $\\frac{1}{3}+\\frac{1}{6}$.",
            "\\frac12",
            ["\\frac{2}{6}+\\frac16", "1-\\frac12"],
            ["\\frac{1}{2}", "0.5", "1/2"],
        ),
    ],
)
def test_numbers_computed_on_are_not_a_number_answer(verifier, prompt, gold, unevaluated, answers):
    """Second pass, session 15: evaluating part of the problem's expression (``9801+99+1``,
    ``99^2+100``) or respelling it scored on 30–32 of 500 MATH-500 rows. Where the gold is a plain
    number, an answer that still computes on written numbers scores 0; any spelling of a
    number still counts."""
    task = any_task(gold, prompt)
    for answer in unevaluated:
        verdict = verifier.verify(task, boxed(answer))
        assert verdict.reward == 0 and ("evaluate" in verdict.reason or "restates" in verdict.reason), (answer, verdict)
    for answer in answers + [gold]:
        assert verifier.verify(task, boxed(answer)).correct, answer
    assert verifier.verify(any_task(gold), boxed(unevaluated[0])).correct  # no prompt: no screen, the value is right


@pytest.mark.skipif(not MATH500.is_file(), reason=f"MATH-500 absent: {MATH500}")
def test_the_prompt_span_attacks_score_nothing_on_math500(verifier):
    """The family's attacks built from the problem's last span (boxed, reordered, partly
    evaluated: ``99^2+99+1`` → ``9801+99+1``) on every MATH-500 row."""
    generator = MathGenerator(dataset=str(MATH500))
    counts: dict[str, int] = {}
    for row in range(len(generator.dataset_rows)):
        task = generator.generate(row)
        spans = re.findall(r"\$([^$]+)\$", task.prompt)
        if not spans or (partly_evaluated(spans[-1]) is None and row % 10):  # all that can be partly evaluated
            continue  # (the family's attacks cost ~0.2 s a task to build)
        for name, response in math_attacks(task):
            if name.startswith("prompt-last-span"):
                counts[name] = counts.get(name, 0) + 1
                assert not verifier.verify(task, response).reward, (row, name, response)
    assert counts["prompt-last-span-partly-evaluated"] >= 10 and counts["prompt-last-span-reordered"] >= 8, counts


def test_the_gold_written_as_the_span_is_not_a_restatement(verifier):
    assert verifier.verify(any_task(r"\sqrt{53}", r"Simplify $\sqrt{53}$."), boxed(r"\sqrt{53}")).correct
    assert verifier.verify(any_task(r"\sqrt{53}", r"Simplify $\sqrt{53}$."), boxed(r"\sqrt{ 53 }")).correct
    assert verifier.verify(any_task("x = 3", "Solve $2x = 6$, giving $x = 3$ a check."), boxed("3")).correct
    assert verifier.verify(any_task(r"\frac{1}{2}", r"Given $\frac{1}{2}$, double it and halve."), boxed("0.5")).correct
