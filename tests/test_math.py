"""rlvr/Math-v0: synthetic kinds, the difficulty table, answer forms, the killable worker,
hostile responses, and the dataset mode on real MATH-500 / AIME / GSM8K samples."""

import dataclasses
import gc
import json
import math
import os
import pickle
import random
import re
import statistics
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import gymnasium as gym
import math_verify
import psutil
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import rlvr
from rlvr.core import Task, looks_hedged
from rlvr.families.math import EASY_KINDS, FAMILY, KINDS, MIDDLE_KINDS
from rlvr.generators import math as maths
from rlvr.generators.math import MathGenerator, gold_from_dataset_answer
from rlvr.verifiers.math import MathVerifier, parse_plain_number, worker_cap

SHARED_MATH = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "math"
# the real-data samples of the dataset tests: file name → (source in ../shared/data/math, rows kept; None: all).
# gsm8k adds to rows 0–54 the first later rows whose answer has a thousands separator or a minus sign.
SAMPLES = {
    "math500_sample.jsonl": ("math500.jsonl", range(60)),
    "aime24.jsonl": ("aime24.jsonl", None),
    "aime25.jsonl": ("aime25.jsonl", None),
    "gsm8k_sample.jsonl": ("gsm8k_test_original.jsonl", [*range(55), 146, 201, 230, 249, 489]),
}
DIFFICULTIES = (0.0, 0.5, 1.0)
HOSTILE_DEADLINE_S = 2.0
WORKER_THREE = r"\lfloor 3.5 \rfloor"  # outside the native grammar: judged in the worker
SLACK_S = 3.0  # process start-up and scheduling on a loaded 2-core machine

HOSTILE = {
    "power tower 9": r"The answer is \boxed{9^9^9^9}",
    "power tower 9 braced": r"\boxed{9^{9^{9^{9}}}}",
    "power tower 5": r"<answer>5^5^5^5</answer>",
    "nested parentheses": "<answer>" + "(" * 1000 + "1" + ")" * 1000 + "</answer>",
    "ten megabytes": "7" * 10_000_000,
    "ten megabytes boxed": r"\boxed{" + "7" * 10_000_000 + "}",
    "binary junk": bytes(range(256)).decode("latin-1") * 64,
    "unbalanced frac": r"<answer>\frac{1</answer>",
    "unbalanced box": r"\boxed{\frac{1}{",
    "two boxes": r"\boxed{2} \boxed{3}",
    "or": "<answer>2 or 3</answer>",
    "boxed or": r"\boxed{2 \text{ or } 3}",
    "many boxes": r"\boxed{" * 5000,
    "empty": "",
}


@pytest.fixture(scope="module")
def generator():
    return MathGenerator()


@pytest.fixture(scope="module")
def verifier():
    made = MathVerifier()
    yield made
    made.close()


def any_task(gold: str) -> Task:
    return Task("math/test", "rlvr/Math-v0", "math", "p", {"gold": gold, "form": "any"}, 0.5, 0)


def boxed(text: str) -> str:
    return f"Working omitted. The answer is $\\boxed{{{text}}}$."


# --------------------------------------------------------------------------------------------
# Synthetic tasks
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_reference_correct_and_perturbations_incorrect(generator, verifier, difficulty):
    for seed in range(50):
        task = generator.generate(seed, difficulty)
        good = verifier.verify(task, generator.solve(task))
        assert good.correct and good.reward == 1.0 and good.format_ok, (task.id, task.answer, good)
        assert generator.solve(task).rstrip().endswith(f"\\boxed{{{task.answer['gold']}}}$.")
        bad = verifier.verify(task, generator.wrong_response(task))
        assert not bad.correct and bad.reward == 0.0, (task.id, task.answer, bad)
        if task.answer["form"] == "number" and parse_plain_number(task.answer["gold"]).value != 0:
            negated = verifier.verify(task, boxed(f"-({task.answer['gold']})"))
            assert not negated.correct, (task.id, negated)
            flipped = -parse_plain_number(task.answer["gold"]).value
            assert not verifier.verify(task, boxed(f"{flipped.numerator}/{flipped.denominator}")).correct


def test_tasks_survive_a_json_round_trip(generator, verifier):
    for kind in KINDS:
        task = generator.generate(7, 1.0, kinds=kind)
        again = Task.from_dict(json.loads(task.to_json()))
        assert again.to_json() == task.to_json()
        assert verifier.verify(again, generator.solve(again)).correct


def test_every_kind_and_form_appears(generator):
    kinds = Counter(generator.generate(seed, 1.0).meta["kind"] for seed in range(300))
    assert set(kinds) == set(KINDS)
    forms = {generator.generate(seed, 1.0, kinds=kind).answer["form"] for kind in KINDS for seed in range(6)}
    assert forms == {"number", "set", "tuple", "expanded", "factored"}  # f'(x): expanded since red team s19


@pytest.mark.parametrize(
    "difficulty, pool", [(0.0, EASY_KINDS), (0.25, EASY_KINDS), (0.5, MIDDLE_KINDS), (0.75, MIDDLE_KINDS), (1.0, KINDS)]
)
def test_kinds_in_play_follow_the_table(generator, difficulty, pool):
    seen = {generator.generate(seed, difficulty).meta["kind"] for seed in range(200)}
    assert seen == set(pool)


def test_documented_difficulty_table(generator):
    documented = {
        0.0: (9, 2, 0, 2, 2),
        0.25: (20, 3, 1, 3, 2),
        0.5: (30, 3, 1, 3, 2),
        0.75: (65, 4, 2, 4, 3),
        1.0: (100, 5, 3, 5, 3),
    }
    for difficulty, numbers in documented.items():
        params = generator.table.resolve(difficulty)
        assert tuple(params[k] for k in ("max_coefficient", "terms", "nesting", "degree", "unknowns")) == numbers


def test_expression_size_rises_with_difficulty(generator):
    means = [
        statistics.mean(generator.generate(seed, d).meta["expression_size"] for seed in range(120))
        for d in DIFFICULTIES
    ]
    assert means[0] < means[1] < means[2], means
    # the docstring's figures (200 seeds): about 6, 13 and 23 nodes
    for mean, documented in zip(means, (6.2, 12.7, 23.0)):
        assert abs(mean - documented) < 0.3 * documented, (means, documented)


def test_each_kind_grows_with_difficulty(generator):
    for kind in (
        "fraction_arithmetic",
        "linear_equation",
        "polynomial_expansion",
        "polynomial_factoring",
        "derivative",
        "definite_integral",
    ):
        sizes = [
            statistics.mean(generator.generate(s, d, kinds=kind).meta["expression_size"] for s in range(40))
            for d in DIFFICULTIES
        ]
        assert sizes[0] < sizes[1] < sizes[2], (kind, sizes)


def test_explicit_parameters_win_and_bad_ones_fail(generator):
    task = generator.generate(3, 0.0, kinds="linear_system", unknowns=3)
    assert task.meta["kind"] == "linear_system" and len(task.answer["values"]) == 3
    assert generator.generate(3, 0.0, kinds=["counting"]).meta["kind"] == "counting"
    # a list, or spaces after the commas, name the same task as the plain comma-separated text
    listed = generator.generate(4, 0.5, kinds=["counting", "derivative"])
    assert listed.to_json() == generator.generate(4, 0.5, kinds="counting, derivative").to_json()
    assert (
        listed.params["kinds"] == "counting,derivative"
        and listed.id == generator.generate(4, 0.5, kinds="counting,derivative").id
    )
    assert (
        generator.generate(4, 0.5, max_coefficient="40").to_json()
        == generator.generate(4, 0.5, max_coefficient=40).to_json()
    )
    for bad, words in (
        ({"kinds": "astrology"}, "kinds must be one or more"),
        ({"kinds": "counting,counting"}, "kinds"),
        ({"kinds": ""}, "kinds"),
        ({"terms": 1}, r"terms must be an integer in \[2, 12\]"),
        ({"unknowns": 4}, r"unknowns must be an integer in \[2, 3\]"),
        ({"nesting": True}, "nesting"),
        ({"degree": 2.5}, "degree"),
        ({"max_coefficient": 10**7}, "max_coefficient"),
        ({"colour": "red"}, "unknown parameter 'colour'"),
    ):
        with pytest.raises(ValueError, match=words):
            generator.generate(0, 0.5, **bad)


def test_the_generator_reads_gold_numbers_as_the_verifier_does(generator, verifier):
    """Near misses and the zero-gold rule read golds with the verifier's ``parse_plain_number``,
    not with a grammar of their own: a gold the verifier reads as 0 gets no "attack" that is the
    gold itself (its negation, double or half would score 1), and every spelling of a number the
    verifier reads (``\\dfrac``, thousands commas, mixed numbers, a currency sign, a full stop)
    gets the near miss gold + 1, which the verifier scores 0."""
    from rlvr.generators.math import latex_rational, wrong_answer

    same_as_gold = {"wrong-sign", "factor-two", "half", "relative-near-miss", "decimal-under-root"}
    for gold in (r"\frac{0}{5}", "0.0", "-0", "0", r"\$0"):
        assert parse_plain_number(gold).value == 0
        assert not same_as_gold & {name for name, _ in generator.attacks(any_task(gold))}, gold
    for gold, near in (
        (r"\dfrac{3}{4}", r"\frac{7}{4}"),
        ("1,000", "1001"),
        ("0.5", r"\frac{3}{2}"),
        (r"4\frac{2}{3}", r"\frac{17}{3}"),
        (r"\$18", "19"),
        ("18.", "19"),
        ("-7/2", r"-\frac{5}{2}"),
    ):
        task = any_task(gold)
        assert wrong_answer(task) == near == latex_rational(parse_plain_number(gold).value + 1)
        assert verifier.verify(task, boxed(gold)).correct, gold
        assert not verifier.verify(task, generator.wrong_response(task)).correct, gold
        assert {"wrong-sign", "half"} <= {name for name, _ in generator.attacks(task)}
        for name, response in generator.attacks(task):
            if name in same_as_gold:
                assert not verifier.verify(task, response).correct, (gold, name)


def test_prompts_state_the_answer_format(generator):
    for kind in KINDS:
        prompt = generator.generate(1, 0.5, kinds=kind).prompt
        assert "\\boxed{}" in prompt and "for example \\boxed{" in prompt


def test_generation_is_seeded(generator):
    assert generator.generate(11, 0.7).to_json() == MathGenerator().generate(11, 0.7).to_json()
    assert generator.generate(11, 0.7).prompt != generator.generate(12, 0.7).prompt


# --------------------------------------------------------------------------------------------
# Answer forms
# --------------------------------------------------------------------------------------------


def test_number_form_is_exact_and_literal(verifier):
    task = Task("t", "rlvr/Math-v0", "math", "p", {"gold": r"\frac{14}{3}", "form": "number", "labels": ["x"]}, 0.5, 0)
    for answer in (
        r"\frac{14}{3}",
        "14/3",
        r"\dfrac{14}{3}",
        r"4\frac{2}{3}",
        r"\frac{28}{6}",
        "x = 14/3",
        r"{\frac{14}{3}}",
    ):
        assert verifier.verify(task, boxed(answer)).correct, answer
    for answer in (
        "4.67",
        "4.666667",
        r"\frac{14}{3} + 0",
        "14 3",
        "14/3 + 1",
        r"\frac{7 \cdot 2}{3}",
        "y = 14/3",
        "14/3 = 14/3",
        "x = 5 = 14/3",
        r"\frac{14}{3} = 5",
        "４",
        "x",
    ):
        verdict = verifier.verify(task, boxed(answer))
        assert not verdict.correct, answer
    half = Task("t", "rlvr/Math-v0", "math", "p", {"gold": r"\frac{1}{2}", "form": "number"}, 0.5, 0)
    for answer in ("0.5", r"\frac12", ".5", "1/2", "0.50", r"\tfrac{1}{2}", "$0.5$"):
        verdict = verifier.verify(half, boxed(answer))
        assert verdict.correct and verdict.details["path"] == "fast", answer


def test_fast_path_agrees_with_math_verify_on_renderings(verifier):
    renderings = {
        r"\frac{14}{3}": ["14/3", r"\dfrac{14}{3}", r"4\frac{2}{3}", r"\frac{28}{6}"],
        r"\frac{1}{2}": ["0.5", r"\frac12", "1/2"],
        "1000": ["1,000", r"\$1000", r"1{,}000"],
        "-7": ["-7", "-7.0", r"-\frac{14}{2}"],
    }
    for gold, answers in renderings.items():
        for answer in answers:
            ours = verifier.verify(any_task(gold), boxed(answer))
            theirs = math_verify.verify(math_verify.parse(f"\\boxed{{{gold}}}"), math_verify.parse(boxed(answer)))
            assert ours.correct and theirs, (gold, answer, ours, theirs)
            assert ours.details["path"] in ("fast", "native")  # no process
    # a full stop after the number: we accept it, math-verify does not (a known, intended difference)
    assert verifier.verify(any_task("18"), boxed("18.")).correct
    assert not math_verify.verify(math_verify.parse(r"\boxed{18}"), math_verify.parse(boxed("18.")))


def test_decimal_approximations_are_judged_relative_to_the_gold(verifier):
    third = any_task(r"\frac{1}{3}")
    for answer in ("0.333333", "0.3333333333", r"0.333\,333"):
        assert verifier.verify(third, boxed(answer)).correct, answer  # the gold rounded at the last digit
    for answer in ("0.33", "0.333334", "0.333332", "0.3333", "0.34"):
        assert not verifier.verify(third, boxed(answer)).correct, answer
    small = any_task(r"\frac{1}{700}")  # math-verify takes 0.001429 (absolute, 6 places); 4 digits is not 1 ppm
    assert not verifier.verify(small, boxed("0.001429")).correct
    assert verifier.verify(small, boxed("0.00142857143")).correct
    assert not verifier.verify(any_task("1"), boxed("1.0000001")).correct  # 7 places shown, the 7th is wrong
    assert not verifier.verify(any_task("0"), boxed("0.0000001")).correct


@pytest.mark.parametrize(
    "gold", [r"\frac{1}{2^{98}}", r"2^{-98}", r"10^{-30}", r"3 \cdot 10^{-12}", r"\frac{\sqrt{2}}{10^{20}}"]
)
def test_tiny_numbers_are_compared_relatively(verifier, gold):
    """math-verify's absolute tolerance takes any small number for any other (issue 14, finding 5)."""
    task = any_task(gold)
    assert verifier.verify(task, boxed(gold)).correct
    for answer in (
        f"-{gold}",
        f"3 \\cdot {gold}",
        f"2 \\left({gold}\\right)",
        "0.0000001",
        "0",
        "0.000000",
        r"\frac{1}{2^{99}}",
        "10^{-40}",
    ):
        verdict = verifier.verify(task, boxed(answer))
        assert not verdict.correct, (gold, answer, verdict)
    huge = any_task(r"10^{30}")
    assert verifier.verify(huge, boxed("1000000000000000000000000000000")).correct
    assert not verifier.verify(huge, boxed("1000000000000000000000000000001")).correct
    assert not verifier.verify(huge, boxed(r"10^{30} + 1")).correct


def test_tolerance_option_is_relative():
    loose = MathVerifier(tolerance=1e-3)
    try:
        assert loose.verify(any_task(r"\sqrt{3}"), boxed("1.7321")).correct
        assert loose.verify(any_task("1"), boxed("1.0001")).correct
        assert not loose.verify(any_task("1"), boxed("1.01")).correct
        assert not loose.verify(any_task(r"\frac{1}{2^{98}}"), boxed("0.0000001")).correct
        assert not loose.verify(any_task("0"), boxed("0.0000001")).correct
    finally:
        loose.close()
    with pytest.raises(ValueError):
        MathVerifier(tolerance=-1)


def test_equation_answers_need_a_name_on_the_left(verifier):
    task = any_task("3")
    for answer in ("x = 3", "k=3", r"\theta = 3", "f(2) = 3", "a_1 = 3", r"x \approx 3"):
        assert verifier.verify(task, boxed(answer)).correct, answer
    for answer in (
        "5 = 3",
        "3 = 5",
        "1 + 2 = 3",
        r"\pi = 3",
        "e = 3",
        "x = 5 = 3",
        "x = 3 = 5",
        r"5 \approx 3",
        r"x \approx 3 \approx 4",
    ):
        verdict = verifier.verify(task, boxed(answer))
        assert not verdict.correct and verdict.reason, (answer, verdict)
    labelled = any_task("x = 11")
    assert verifier.verify(labelled, boxed("11")).correct and verifier.verify(labelled, boxed("x=11")).correct
    assert not verifier.verify(labelled, boxed("y = 11")).correct
    assert verifier.verify(any_task(r"2x+4y-3=0"), boxed(r"y=-\frac{1}{2}x+\frac{3}{4}")).correct  # a real equation


def test_synthetic_labels_must_be_the_asked_for_name(generator, verifier):
    seen = set()
    for seed in range(40):
        task = generator.generate(seed, 1.0)
        gold, form = task.answer["gold"], task.answer["form"]
        labels = task.answer.get("labels") or task.answer.get("variables") or []
        if form in ("number", "expanded"):
            for label in labels:
                assert verifier.verify(task, boxed(f"{label} = {gold}")).correct, (task.id, label)
            for stranger in ("w", "q"):
                assert not verifier.verify(task, boxed(f"{stranger} = {gold}")).correct, task.id
            seen.add(task.meta["kind"])
    assert {"linear_equation", "fraction_arithmetic"} <= seen


def test_repeated_answers_score_zero(verifier, generator):
    for task in (any_task("4"), generator.generate(0, 0.0, kinds="counting")):
        gold = task.answer["gold"]
        for response in (
            "<answer>" + f"{gold} " * 500_000 + "</answer>",
            boxed(", ".join([gold] * 3)),
            boxed(" ".join([gold] * 3)),
            f"\\boxed{{{gold}}}" * 17,
            "<answer>" + ", ".join([gold] * 400) + "</answer>",
        ):
            verdict = verifier.verify(task, response)
            assert verdict.reward == 0.0 and len(verdict.reason) <= 300, (task.id, response[:60], verdict)
        assert verifier.verify(task, f"\\boxed{{{gold}}} so again \\boxed{{{gold}}}").correct


@pytest.mark.parametrize("size", [1_000_000, 3_000_000])
def test_huge_answers_are_rejected_in_linear_time_with_short_reasons(verifier, generator, size):
    """Issue 14, finding 4: million-element answers took 40-95 s and gave megabyte reasons."""
    tasks = [
        any_task("4"),
        generator.generate(2, 0.5, kinds="linear_system"),
        generator.generate(1, 0.5, kinds="quadratic_equation"),
    ]
    elements = ", ".join(str(i) for i in range(size // 7))
    labelled = ", ".join(f"x_{{{i}}} = {i}" for i in range(size // 14))
    responses = [
        f"<answer>\\{{{elements}\\}}</answer>",
        f"<answer>({elements})</answer>",
        f"<answer>{labelled}</answer>",
        boxed(f"\\{{{elements}\\}}"),
        "\\boxed{" * (size // 7),
        "<answer>" + "(" * size + "</answer>",
    ]
    for task in tasks:
        for response in responses:
            start = time.monotonic()
            verdict = verifier.verify(task, response)
            assert time.monotonic() - start < 1.0, (task.id, response[:40])
            assert verdict.reward == 0.0 and len(verdict.reason) <= 300, verdict.reason[:400]
            assert all(len(str(v)) <= 300 for v in verdict.details.values())


def test_family_attacks_score_zero(generator, hostile_verifier):
    for difficulty in DIFFICULTIES:
        for seed in range(2):
            task = generator.generate(seed, difficulty)
            attacks = generator.attacks(task)
            assert len({name for name, _ in attacks}) == len(attacks) >= 40
            for name, response in attacks:
                start = time.monotonic()
                verdict = hostile_verifier.verify(task, response)
                assert verdict.reward == 0.0, (task.id, name, verdict)
                assert len(verdict.reason) <= 300
                assert time.monotonic() - start < HOSTILE_DEADLINE_S + SLACK_S, (task.id, name)


def test_expanded_form(generator, verifier):
    task = Task(
        "t", "rlvr/Math-v0", "math", "p", {"gold": "x^{2} - 2 x - 3", "form": "expanded", "variable": "x"}, 0.5, 0
    )
    for answer in ("x^2 - 2x - 3", "-3 - 2x + x^2", "x^{2}-2x-3"):
        assert verifier.verify(task, boxed(answer)).correct, answer
    for answer in (
        "(x - 3)(x + 1)",
        "x^2 - 3x + x - 3",
        "x(x - 2) - 3",
        "x^2 - 2x - 2",
        "y^2 - 2y - 3",
        "p(x) = x^2 - 2x - 3",
    ):
        verdict = verifier.verify(task, boxed(answer))
        assert not verdict.correct, (answer, verdict)
    assert "not expanded" in verifier.verify(task, boxed("(x - 3)(x + 1)")).reason


def test_factored_form(verifier):
    spec = {
        "gold": r"2 \left(x - 1\right) \left(x + 3\right)^{2}",
        "form": "factored",
        "variable": "x",
        "factor_count": 3,
    }
    task = Task("t", "rlvr/Math-v0", "math", "p", spec, 0.5, 0)
    for answer in ("2(x - 1)(x + 3)^2", "(x+3)^2 (2x - 2)", "2(x+3)(x-1)(x+3)", "-2(1 - x)(x + 3)^2"):
        assert verifier.verify(task, boxed(answer)).correct, answer
    for answer in (
        "2x^3 + 10x^2 + 6x - 18",
        "(2x - 2)(x^2 + 6x + 9)",
        "2(x-1)(x+3)^2 + 1",
        "(x - 1)(x + 3)^2",
        r"\frac{2(x-1)(x+3)^3}{x+3}",
    ):
        verdict = verifier.verify(task, boxed(answer))
        assert not verdict.correct, (answer, verdict)
    assert "not completely factored" in verifier.verify(task, boxed("(2x - 2)(x^2 + 6x + 9)")).reason


def test_unfactored_polynomial_is_not_a_factorisation(generator, verifier):
    for seed in range(10):
        task = generator.generate(seed, 1.0, kinds="polynomial_factoring")
        polynomial = task.prompt.split("$")[1]
        verdict = verifier.verify(task, boxed(polynomial))
        assert not verdict.correct and "factor" in verdict.reason, (task.id, verdict)


def test_set_form(verifier):
    spec = {"gold": r"-2, \frac{1}{3}", "form": "set", "values": ["-2", r"\frac{1}{3}"], "variable": "x"}
    task = Task("t", "rlvr/Math-v0", "math", "p", spec, 0.5, 0)
    for answer in (
        r"-2, \frac{1}{3}",
        r"\frac{1}{3}, -2",
        r"x = -2, x = 1/3",
        r"\{-2, \tfrac13\}",
        r"\left\{ \frac{1}{3}, -2 \right\}",
        r"-\frac{4}{2}, \frac{1}{3}",
    ):
        assert verifier.verify(task, boxed(answer)).correct, answer
    for answer in (
        r"x = -2 \text{ or } x = \frac{1}{3}",
        r"-2 \text{ and } \frac{1}{3}",
    ):  # one answer listing both roots
        assert verifier.verify(task, boxed(answer)).correct, answer
    assert verifier.verify(
        task, r"The roots are \boxed{-2} and \boxed{\frac{1}{3}}."
    ).correct  # several boxes, several values
    for answer in (
        "-2",
        r"-2, \frac{1}{3}, 5",
        r"2, \frac{1}{3}",
        r"-2 \text{ or } 5",
        r"x, \frac{1}{3}",
        r"-2,",
        r"-2, \frac{1}{3}, -2",
        r"y = -2, y = 1/3",
        r"x = -2 = 5, x = 1/3",
    ):
        assert not verifier.verify(task, boxed(answer)).correct, answer


def test_tuple_form(verifier):
    spec = {"gold": "(2, -1, 3)", "form": "tuple", "values": ["2", "-1", "3"], "variables": ["x", "y", "z"]}
    task = Task("t", "rlvr/Math-v0", "math", "p", spec, 0.5, 0)
    for answer in (
        "(2, -1, 3)",
        r"\left(2, -1, 3\right)",
        "x = 2, y = -1, z = 3",
        "z = 3, x = 2, y = -1",
    ):
        assert verifier.verify(task, boxed(answer)).correct, answer
    for answer in (
        "(-1, 2, 3)",
        "(2, -1)",
        "(2, -1, 3, 0)",
        "x = 2, y = -1, w = 3",
        r"\{2, -1, 3\}, 1",
        r"(\sqrt{4}, -1, 3)",  # red team s19 F1: plain-number golds take plain numbers, as the number form does
    ):
        assert not verifier.verify(task, boxed(answer)).correct, answer


def expression_form_derivative(generator) -> Task:
    """A f'(x) task judged in the "expression" form (any equal expression), which the generator
    itself asked for until red team s19 (f'(x) is now asked expanded)."""
    task = next(
        t
        for t in (generator.generate(s, 0.5, kinds="derivative") for s in range(40))
        if "labels" in t.answer and t.answer["labels"] == ["f'(x)"]
    )
    return dataclasses.replace(task, answer={**task.answer, "form": "expression"})


def test_expression_form_accepts_any_equal_expression(generator, verifier):
    task = expression_form_derivative(generator)
    gold = task.answer["gold"]
    assert verifier.verify(task, boxed(f"f'(x) = {gold}")).correct
    assert verifier.verify(task, boxed(f"{gold} + x - x")).correct
    assert not verifier.verify(task, boxed(f"{gold} + x")).correct
    # constants the parser keeps unevaluated are evaluated before comparing (a false negative until 2026-12-05)
    assert verifier.verify(task, boxed(f"\\left({gold}\\right) \\cos 0")).correct
    assert verifier.verify(task, boxed(f"{gold} + \\sin 0")).correct
    assert not verifier.verify(task, boxed(f"\\left({gold}\\right) \\cos 1")).correct
    for undefined in (
        r"\frac{\sin 0}{\sin 0}",
        r"\frac{\sin \pi}{\sin \pi}",
        r"\frac{\ln 1}{\ln 1}",
        r"\frac{\sin^{2} 1+\cos^{2} 1-1}{\sin^{2} 1+\cos^{2} 1-1}",  # red team S10-G1: sympy cancels f/f
        r"\frac{\sin^{2} x+\cos^{2} x-1}{\sin^{2} x+\cos^{2} x-1}",
        r"\frac{x^{2}-1-(x-1)(x+1)}{x^{2}-1-(x-1)(x+1)}",
    ):
        verdict = verifier.verify(task, boxed(f"\\left({gold}\\right) {undefined}"))  # red team S9-F5
        assert verdict.reward == 0 and not verdict.format_ok, (undefined, verdict)
    function = task.prompt.split("$")[1].split("=", 1)[1].strip()
    assert not verifier.verify(task, boxed(rf"\frac{{d}}{{dx}}\left({function}\right)")).correct
    assert not verifier.verify(task, boxed(f"\\left({function}\\right)'")).correct


def test_zero_to_a_non_positive_power_is_undefined(generator, verifier):
    """Red team S10-G1: sympy evaluates 0^0 to 1 (and cancels f·f^{-1}) as it builds the answer,
    so the gold times 0^{0}, (\\log 1)^{0} or (sin²x + cos²x − 1)^{0}, or plus 0^{0} − 1, was
    judged equal; now malformed, on the native path and in the worker. A power with a nonzero
    base is read as before."""
    task = expression_form_derivative(generator)
    gold = task.answer["gold"]
    for undefined in (
        rf"\left({gold}\right) 0^{{0}}",
        rf"{gold} + 0^{{0}} - 1",
        rf"\left({gold}\right) \left(\log 1\right)^{{0}}",
        rf"\left({gold}\right) \left(\cos^{{2}} x+\sin^{{2}} x-1\right)^{{0}}",
        rf"\left({gold}\right) \left(x - x\right)^{{0}}",
        rf"\left({gold}\right) \left(\sin \pi\right)^{{-2}} \left(\sin \pi\right)^{{2}}",
    ):
        verdict = verifier.verify(task, boxed(undefined))
        assert verdict.reward == 0 and not verdict.format_ok, (undefined, verdict)
    for fine in (
        rf"\left({gold}\right) 2^{{0}}",
        rf"\left({gold}\right) x^{{0}}",
        rf"\left({gold}\right) \left(\frac{{1}}{{2}}\right)^{{-1}} \cdot \frac{{1}}{{2}}",
    ):
        assert verifier.verify(task, boxed(fine)).correct, fine
    for answer in (r"496 \cdot 0^{0}", r"496 + 0^{0} - 1", r"496 (3 - 3)^{0}"):  # the native reader
        verdict = verifier.verify(any_task("496"), boxed(answer))
        assert verdict.reward == 0 and not verdict.format_ok, (answer, verdict)
    assert verifier.verify(any_task("496"), boxed(r"496 \cdot 7^{0}")).correct
    roots = next(t for t in (generator.generate(s, 0.5, kinds="quadratic_equation") for s in range(40)))
    first, *rest = roots.answer["values"]
    for factor in (r"\left(\log 1\right)^{0}", r"\frac{\sin^{2} 1+\cos^{2} 1-1}{\sin^{2} 1+\cos^{2} 1-1}"):
        verdict = verifier.verify(roots, boxed(", ".join([f"{first} {factor}", *rest])))  # sets and tuples too
        assert verdict.reward == 0 and not verdict.format_ok, (factor, verdict)


def test_symbolic_binomials_and_many_functions_are_judged_quickly(generator, verifier):
    """Red team S10-G8 / S10b-B4: \\binom{2n}{n} against the gold \\frac{(2n)!}{(n!)^2} (and
    Γ(a) against (a − 1)!) held a math worker for its whole 5 s deadline and scored 0 though
    correct, and 59 terms \\sin(kx)^{k} held it too. Now expressions that differ at a sample
    point are told apart before math-verify simplifies, equal ones with binomials, factorials or
    Γ are proved by ``gammasimp``, and more than 8 function applications are refused unread."""
    for gold, answer, correct in (
        (r"\frac{(2n)!}{(n!)^2}", r"\binom{2n}{n}", True),
        (r"\frac{(a-1)!}{a+b}", r"\frac{\Gamma(a)}{a+b}", True),
        (r"\frac{(2n)!}{(n!)^2}", r"\binom{2n}{n+1}", False),
        (r"\frac{(2n)!}{(n!)^2}", r"\binom{2n}{n} + 1", False),
    ):
        start = time.process_time(), time.monotonic()
        verdict = verifier.verify(any_task(gold), boxed(answer))
        assert verdict.correct is correct and "timed out" not in verdict.reason, (answer, verdict)
        assert time.monotonic() - start[1] < 4.0, answer  # the deadline is 5 s
    task = expression_form_derivative(generator)
    sines = "+".join(rf"\sin({k}x)^{{{k}}}" for k in range(1, 60))
    for answer in (sines, f"{task.answer['gold']} + {sines}"):
        start = time.monotonic()
        verdict = verifier.verify(task, boxed(answer))
        assert verdict.reward == 0 and "functions" in verdict.reason, verdict
        assert time.monotonic() - start < 1.0
    few = "+".join(rf"\sin({k}x)^{{{k}}}" for k in range(1, 4))
    verdict = verifier.verify(task, boxed(f"{task.answer['gold']} + {few}"))
    assert verdict.reward == 0 and verdict.format_ok and "timed out" not in verdict.reason, verdict


def test_binomials_that_could_be_huge_are_refused_at_once(verifier):
    """Red team S10-G8: C(10^6, 5·10^5) and Γ(10^6) held a math worker for its whole deadline.
    Refused by the size of their value (more digits than 500!), their arguments read alone; small
    and symbolic ones are judged as before (S10b-B4: refusing by the characters of the arguments
    refused \\binom{2^5}{2} and \\Gamma(\\frac{1}{2}))."""
    task = Task("t", "rlvr/Math-v0", "math", "p", {"gold": "126", "form": "any"}, 0.5, 0)
    for huge in (
        r"\binom{10^{6}}{5 \cdot 10^{5}}",
        r"\dbinom{100000}{50000}",
        r"{4000 \choose 2000}",
        r"\binom{1000 \cdot 1000}{1000 \cdot 500}",
        r"\Gamma(10^{6})",  # Γ(n) = (n - 1)!: 4 s in a worker
        r"\Gamma\left(1000000\right)",
        r"\Gamma\!(10^{6})",  # S10b-B8: a spacing macro hid the argument
        r"\binom{1000000}\,{500000}",
        r"\binom{-1000000}{500000}",  # S10b-B9: negative, disguised and symbolic arguments
        r"\binom{10^{6}\cos 0}{500000}",
        r"\binom{x}{500000}",
        r"\Gamma(x+1000000)",
    ):
        start = time.monotonic()
        verdict = verifier.verify(task, boxed(huge))
        assert verdict.reward == 0 and not verdict.format_ok and "500!" in verdict.reason, (huge, verdict)
        assert time.monotonic() - start < 1.0
    for gold, small in (
        ("126", r"\binom{9}{4}"),
        ("126", r"\dbinom{9}{5}"),
        ("126", r"{9 \choose 4}"),
        ("496", r"\binom{2^5}{2}"),
        ("499500", r"\binom{1000}{2}"),
        ("24", r"\Gamma(5)"),
        (r"\sqrt{\pi}", r"\Gamma\left(\frac{1}{2}\right)"),
        (r"\frac{n^{2}(n^{2}-1)}{2}", r"\binom{n^2}{2}"),
    ):
        task = Task("t", "rlvr/Math-v0", "math", "p", {"gold": gold, "form": "any"}, 0.5, 0)
        assert verifier.verify(task, boxed(small)).correct, small


def test_a_denominator_zero_only_where_its_symbols_are_equal_is_not_undefined(verifier):
    """Red team S10b-B3: the zero-denominator check once set every symbol to the same value, so
    a - b read as 0 and a correct answer that reaches the worker was called undefined."""
    for gold, answer in (
        (r"\frac{a(a-1)}{2(a-b)}", r"\frac{\binom{a}{2}}{a-b}"),
        (r"\frac{x^{2}}{x-y}", r"\frac{\binom{x}{2} \cdot 2 + x}{x-y}"),
    ):
        task = Task("t", "rlvr/Math-v0", "math", "p", {"gold": gold, "form": "any"}, 0.5, 0)
        assert verifier.verify(task, boxed(answer)).correct, answer
    task = Task("t", "rlvr/Math-v0", "math", "p", {"gold": r"\frac{a(a-1)}{2}", "form": "any"}, 0.5, 0)
    undefined = verifier.verify(task, boxed(r"\frac{\binom{a}{2} (a-b-a+b)}{a-b-a+b}"))
    assert undefined.reward == 0 and not undefined.format_ok, undefined


def test_the_answer_format_example_is_never_the_answer(generator, verifier):
    """Red team S10-G5: \\boxed{120} (the counting kinds' example) and \\boxed{12} were the gold
    of 9 of 300 tasks at d = 0, so answering the example scored."""
    for difficulty in (0.0, 0.25, 0.5):
        for seed in range(300):
            task = generator.generate(seed, difficulty)
            example = task.prompt.split("for example ", 1)[1].split(". Put your final answer", 1)[0]
            if task.answer["form"] == "number":  # the native path: no worker, fast
                assert not verifier.verify(task, f"So the answer is ${example}$.").correct, task.id


def one_step_gcd(numbers: list[int]) -> int:
    """Euclid stopped after one step: the smallest non-zero remainder by the smallest number."""
    remainders = [n % min(numbers) for n in numbers if n % min(numbers)]
    return min(remainders) if remainders else min(numbers)


def test_number_theory_answers_are_not_read_off_the_question(generator):
    """Red team S10-G11 / S10b-B7: with moduli from 2 and powers whose residues cluster on 0 and
    1, the constant 1 answered 39 % of the power-remainder questions at d = 0.25; the base's own
    remainder answered 26–35 % of them, the smallest number 38 % of the gcds and the product
    52 % of the lcms at d = 0. Now no such reading is the answer, no residue is 0 or 1, and no
    single answer is that of more than a fifth of a kind's questions (a quarter for powers,
    whose residues favour 4 and 9)."""
    for difficulty in (0.0, 0.25, 0.5):
        golds = {"gcd": Counter(), "lcm": Counter(), "mod": Counter(), "power_mod": Counter()}
        for seed in range(1500):
            task = generator.generate(seed, difficulty)
            subkind = task.meta["subkind"]
            if subkind not in golds:
                continue
            gold = int(task.answer["gold"])
            numbers = [int(n) for n in re.findall(r"[0-9]+", task.prompt.split("\n")[0])]
            golds[subkind][gold] += 1
            if subkind == "gcd":
                assert gold not in numbers, task.id
                assert len(numbers) > 2 or gold != abs(numbers[0] - numbers[1]), task.id  # S11: 53 % at d = 0
                assert gold != one_step_gcd(numbers), task.id  # red team s11 H6: 27–47 %
            elif subkind == "lcm":
                assert gold not in numbers and gold != math.prod(numbers), task.id
                assert gold != math.prod(numbers) // one_step_gcd(numbers) or len(numbers) > 2, task.id  # H6: 71/139
            else:
                assert gold > 1, task.id
                if subkind == "power_mod":  # S11: b² 30–34 %, b³ 19–37 %, −b 7–15 % before
                    base, exponent, modulus = numbers[-3:]
                    readings = {base % modulus, -base % modulus, base * base % modulus}
                    assert gold not in readings | ({pow(base, 3, modulus)} if exponent > 3 else set()), task.id
                else:  # no factor's own remainder (S11: 15 % at d = 0)
                    assert gold not in {n % numbers[-1] for n in numbers[:-2]}, task.id
        for subkind, counts in golds.items():
            share = 0.25 if subkind == "power_mod" else 0.2
            assert sum(counts.values()) >= 40, (difficulty, subkind, counts)
            assert counts.most_common(1)[0][1] <= share * sum(counts.values()), (
                difficulty,
                subkind,
                counts.most_common(3),
            )


def test_no_answer_is_common_within_a_question_template():
    """Red team S10b-B6: within one question template (the statement with its digits masked) a
    constant answered up to a quarter of the questions at d = 0: (x + a)(x + b) → x² + 4x + 3
    (0.25), a^b mod m → 9 (0.16), a committee count → 15 (0.15), a gcd → 4 (0.14), and each sign
    pattern of a linear equation → one solution (0.13–0.15). Now no answer is more than 6 % of
    a template (or of a subkind) drawn 300 times or more; the same builders' draws, no tasks."""
    worst = []
    for difficulty in (0.0, 0.25, 0.5):
        params = FAMILY.table.resolve(difficulty)
        for kind in ("linear_equation", "polynomial_expansion", "number_theory", "counting", "derivative"):
            if kind not in params["kinds"].split(","):
                continue
            groups = defaultdict(Counter)
            for draw in range(20_000 if (kind, difficulty) == ("linear_equation", 0.0) else 3_000):
                problem = maths.BUILDERS[kind](random.Random(draw), params)
                groups[re.sub("[0-9]+", "#", problem.statement)][problem.gold] += 1
                groups[problem.subkind][problem.gold] += 1
            for group, golds in groups.items():
                drawn = sum(golds.values())
                if drawn >= 300:
                    worst.append((golds.most_common(1)[0][1] / drawn, difficulty, group, golds.most_common(2)))
    assert len(worst) > 20
    assert max(worst)[0] <= 0.06, sorted(worst, reverse=True)[:3]


def test_deeply_nested_radicals_are_refused_at_once(verifier):
    """Red team S9-F7: twenty nested cube roots held a math worker for the whole deadline."""
    task = Task("t", "rlvr/Math-v0", "math", "p", {"gold": r"\sqrt{2}", "form": "any"}, 0.5, 0)
    start = time.monotonic()
    verdict = verifier.verify(task, boxed(r"\sqrt[3]{" * 20 + "5" + "}" * 20))
    assert verdict.reward == 0 and not verdict.format_ok and "radicals" in verdict.reason
    assert time.monotonic() - start < 1.0
    assert verifier.verify(task, boxed(r"\sqrt{\sqrt{4}}")).correct  # shallow nesting is read as before


def test_restated_expressions_are_not_answers(verifier):
    third = Task("t", "rlvr/Math-v0", "math", "p", {"gold": r"\frac{1}{3}", "form": "number"}, 0.5, 0)
    for task in (third, any_task(r"\frac{1}{3}")):
        verdict = verifier.verify(task, boxed(r"\int_0^1 x^2 dx"))
        assert not verdict.correct and "restates" in verdict.reason
    assert math_verify.verify(math_verify.parse(r"\boxed{\frac{1}{3}}"), math_verify.parse(r"\boxed{\int_0^1 x^2 dx}"))
    restated = {
        "6": [r"\sum_{k=1}^{3} k", r"\prod_{k=1}^{3} k", "Derivative(x**3, x, 2).subs(x, 1)"],
        "1": [
            r"\lim_{x \to 0} \frac{\sin x}{x}",
            r"\frac{d}{dx}(x) ",
            "d/dx x",
            r"\partial_x x",
            r"\iint_{[0,1]^2} 1 \, dA",
        ],
    }
    for gold, answers in restated.items():
        for answer in answers:
            assert not verifier.verify(any_task(gold), boxed(answer)).correct, answer
    assert verifier.verify(any_task("6"), boxed("6")).correct


def test_hedges_score_zero(verifier):
    task = any_task("2")
    for response in (
        r"\boxed{2} \boxed{3}",
        "<answer>2 or 3</answer>",
        r"\boxed{2 \text{ or } 3}",
        "<answer>maybe 2</answer>",
        "<answer>2?</answer>",
    ):
        verdict = verifier.verify(task, response)
        assert verdict.reward == 0.0 and verdict.reason, response
    assert verifier.verify(task, r"\boxed{2} and again \boxed{2}").correct  # the same answer twice is no hedge


# --------------------------------------------------------------------------------------------
# The worker: deadlines, hostile input, lifecycle
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_verifier():
    made = MathVerifier(deadline_s=HOSTILE_DEADLINE_S)
    yield made
    made.close()


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_responses_score_zero_within_the_deadline(generator, hostile_verifier, name):
    synthetic = generator.generate(3, 0.5, kinds="polynomial_expansion")
    for task in (any_task("3"), synthetic):
        start = time.monotonic()
        verdict = hostile_verifier.verify(task, HOSTILE[name])
        elapsed = time.monotonic() - start
        assert verdict.reward == 0.0 and not verdict.correct and verdict.reason, (name, verdict)
        assert elapsed < HOSTILE_DEADLINE_S + SLACK_S, (name, elapsed)
        assert hostile_verifier.verify(task, generator.solve(task) if task is synthetic else boxed("3")).correct


def test_a_stuck_worker_is_killed_and_replaced(monkeypatch):
    # the screen refuses the power since S14-B3; it is let through here to reach a worker
    monkeypatch.setattr("rlvr.verifiers.math.too_large_to_evaluate", lambda text: None)
    made = MathVerifier(deadline_s=30.0)
    try:
        assert made.verify(any_task("3"), boxed(WORKER_THREE)).correct  # the template and one worker
        (first,) = made.worker_pids()
        made.deadline_s = 1.0
        verdict = made.verify(any_task("3"), boxed(r"\sin(2^{2^{40}}) + 3"))  # runs past any deadline
        assert not verdict.correct and "timed out after 1s (the math worker was killed)" in verdict.reason
        assert made.worker_pids() == [] and not psutil.pid_exists(first)  # killed and reaped
        made.deadline_s = 30.0
        assert made.verify(any_task("3"), boxed(WORKER_THREE)).correct
        (second,) = made.worker_pids()
        assert second != first  # forked afresh from the template
    finally:
        made.close()


def test_a_worker_whose_alarm_fired_is_retired_and_a_normal_one_kept(monkeypatch):
    """Red team S6-5: a parse interrupted by math-verify's alarm left its worker ~230 MB
    larger for good, and the worker went back to the pool. Now it is retired after its reply.
    (The screen refuses the huge binomial since S10-G8; it is let through here to reach a worker.)"""
    monkeypatch.setattr("rlvr.verifiers.math.large_binomial", lambda text: False)
    made = MathVerifier(deadline_s=5.0)  # 4 s alarms; a plain answer takes a fraction of that
    try:
        assert made.verify(any_task("3"), boxed(WORKER_THREE)).correct
        (first,) = made.worker_pids()
        for _ in range(3):
            assert made.verify(any_task("3"), boxed(WORKER_THREE)).correct
            assert made.worker_pids() == [first]  # normal requests keep the worker
        verdict = made.verify(any_task("3"), boxed(r"\binom{10^{4000}}{4000}"))
        assert verdict.reward == 0.0 and verdict.details.get("timed_out"), verdict
        assert made.worker_pids() == [] and not psutil.pid_exists(first)  # retired, not pooled
        assert made.verify(any_task("3"), boxed(WORKER_THREE)).correct
        (second,) = made.worker_pids()
        assert second != first  # forked afresh from the template
        assert made.verify(any_task("3"), boxed(WORKER_THREE)).correct and made.worker_pids() == [second]
    finally:
        made.close()


def test_the_judge_marks_strained_requests_for_retirement(monkeypatch):
    from rlvr.verifiers import math_worker

    judge = math_worker.Judge()
    request = {"id": 1, "spec": {"gold": "3", "form": "any"}, "deadline_s": 3.0, "answer": r"\sqrt{9}", "extracted": ""}
    plain = judge.reply(json.dumps(request).encode())
    assert plain["verdict"]["correct"] and "retire" not in plain
    for error in (MemoryError, math_worker.ParseTimedOut("parsing timed out after 2s")):

        def failing(request, error=error):
            raise error

        monkeypatch.setattr(judge, "judge", failing)
        reply = judge.reply(json.dumps(request).encode())
        assert reply["retire"] is True and reply["verdict"]["reward"] == 0.0, reply

    def slow(request):  # ran into its alarm (math-verify's verify alarm answers a silent False)
        time.sleep(math_worker.PARSE_TIMEOUT_SHARE * 1)
        raise RecursionError

    monkeypatch.setattr(judge, "judge", slow)
    short = {**request, "deadline_s": 1.0}  # 1 s alarms
    assert judge.reply(json.dumps(short).encode())["retire"] is True
    assert math_worker.resident_kib() > 0


def test_a_worker_retires_once_its_memory_doubled(monkeypatch):
    import socket

    from rlvr.verifiers import math_worker

    sizes = iter([100_000, 199_000, 201_000])  # at fork, after request 1, after request 2
    monkeypatch.setattr(math_worker, "resident_kib", lambda: next(sizes))

    class Echo:
        def reply(self, line):
            return {"id": json.loads(line)["id"], "verdict": {}}

    ours, theirs = socket.socketpair()
    worker = threading.Thread(target=math_worker.serve, args=(Echo(), theirs.detach()))
    worker.start()
    reader = ours.makefile("rb")
    ours.sendall(b'{"id": 1}\n')
    assert json.loads(reader.readline()) == {"id": 1, "verdict": {}}
    ours.sendall(b'{"id": 2}\n')
    assert json.loads(reader.readline()) == {"id": 2, "verdict": {}, "retire": True}
    worker.join(5)
    assert not worker.is_alive()  # it left its loop after the retiring reply
    ours.close()


def test_workers_held_by_slow_answers_do_not_starve_other_callers():
    """Red team S5-6: with workers capped at the CPU count, a few answers that ran to the
    deadline held every worker and right answers on other threads timed out waiting. Now the
    pool forks another warm worker for each further caller, up to ``worker_cap()``."""
    made = MathVerifier(deadline_s=60.0)
    try:
        assert made.verify(any_task("3"), boxed(WORKER_THREE)).correct  # the template is up
        pool = made.pool()
        held = [pool.acquire(time.monotonic() + 60) for _ in range(max(3, os.cpu_count() or 1))]
        assert all(worker is not None for worker in held)  # as slow answers would hold them
        verdict = made.verify(any_task("3"), boxed(WORKER_THREE))
        assert verdict.correct, verdict.reason
        assert len(made.worker_pids()) == len(held) + 1 <= worker_cap()
        for worker in held:
            pool.release(worker, True)
    finally:
        made.close()


def test_close_leaves_no_process_behind():
    made = MathVerifier()
    assert made.verify(any_task("3"), boxed(WORKER_THREE)).correct
    pids = made.worker_pids()
    assert pids and all(psutil.pid_exists(pid) for pid in pids)
    made.close()
    assert made.worker_pids() == []
    children = {child.pid for child in psutil.Process(os.getpid()).children(recursive=True)}
    assert not children & set(pids)
    assert made.verify(any_task("3"), boxed(WORKER_THREE)).correct  # starts afresh after close
    made.close()


def test_garbage_collection_stops_the_workers():
    made = MathVerifier()
    assert made.verify(any_task("3"), boxed(WORKER_THREE)).correct
    pids = made.worker_pids()
    del made
    gc.collect()
    children = {child.pid for child in psutil.Process(os.getpid()).children(recursive=True)}
    assert pids and not children & set(pids)


def test_concurrent_threads_get_right_verdicts(verifier):
    tasks = [any_task(str(n)) for n in range(12)]
    results = [None] * len(tasks)

    def check(index: int) -> None:
        results[index] = verifier.verify(tasks[index], boxed(rf"\lfloor {index}.5 \rfloor"))

    threads = [threading.Thread(target=check, args=(i,)) for i in range(len(tasks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r.correct for r in results), results
    assert len(verifier.worker_pids()) <= worker_cap()


def test_verifier_pickles_without_its_workers(verifier):
    assert verifier.verify(any_task("3"), boxed(WORKER_THREE)).correct
    copy = pickle.loads(pickle.dumps(verifier))
    try:
        assert (copy.deadline_s, copy.memory_mb, copy.worker_pids()) == (verifier.deadline_s, verifier.memory_mb, [])
        assert copy.verify(any_task("3"), boxed(WORKER_THREE)).correct
    finally:
        copy.close()


def test_non_text_and_malformed_tasks(verifier):
    assert verifier.verify(any_task("3"), None).reward == 0.0
    broken = Task("t", "rlvr/Math-v0", "math", "p", {"form": "number"}, 0.5, 0)
    assert verifier.verify(broken, boxed("3")).reward == 0.0
    assert verifier.verify(Task("t", "rlvr/Math-v0", "math", "p", "3", 0.5, 0), boxed("3")).correct


# --------------------------------------------------------------------------------------------
# Datasets
# --------------------------------------------------------------------------------------------


def sample(name: str, directory: Path) -> Path:
    """``directory / name`` holding its rows of the shared file (``SAMPLES``), byte for byte; the
    test is skipped when ../shared/data is absent."""
    source_name, rows = SAMPLES[name]
    source = SHARED_MATH / source_name
    if not source.is_file():
        pytest.skip(f"math data absent: {source}")
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    path = directory / name
    path.write_text("".join(lines if rows is None else [lines[i] for i in rows]), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", sorted(SAMPLES), ids=lambda name: name.removesuffix(".jsonl"))
def test_real_data_gold_is_correct_and_wrong_is_not(verifier, name, tmp_path):
    path = sample(name, tmp_path)
    generator = MathGenerator(dataset=path)
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    assert len(generator.dataset_rows) == len(rows) >= 30
    for index in range(len(rows)):
        task = generator.generate(index)
        gold = task.answer["gold"]
        assert verifier.verify(task, boxed(gold)).correct, (task.id, gold)
        assert verifier.verify(task, generator.solve(task)).correct
        wrong = generator.wrong_response(task)
        assert not verifier.verify(task, wrong).correct, (task.id, gold, wrong)
        assert not verifier.verify(task, boxed("-98765.4321")).correct, (task.id, gold)


def test_math500_alternative_renderings_agree_with_math_verify(verifier, tmp_path):
    generator = MathGenerator(dataset=sample("math500_sample.jsonl", tmp_path))
    checked, restated = 0, []
    for index in range(len(generator.dataset_rows)):
        task = generator.generate(index)
        gold = task.answer["gold"]
        alternatives = {
            gold.replace(r"\frac", r"\dfrac"),
            gold.replace(" ", ""),
            f"\\left({gold}\\right)" if "," not in gold else gold,
        }
        number = parse_plain_number(gold)
        if number is not None:
            alternatives.add(f"{number.value.numerator}/{number.value.denominator}")
            if number.value.denominator in (1, 2, 4, 5, 8, 10, 20, 25):
                alternatives.add(str(float(number.value)))
        for alternative in alternatives:
            theirs = math_verify.verify(math_verify.parse(f"\\boxed{{{gold}}}"), math_verify.parse(boxed(alternative)))
            ours = verifier.verify(task, boxed(alternative))
            if theirs and "restates" in ours.reason:  # "Write $\\frac{3}{20}$ as a decimal": 3/20 is the question
                restated.append((gold, alternative))
            elif theirs:
                assert ours.correct, (gold, alternative, ours)
                checked += 1
    assert checked >= 100 and restated == [("0.15", "3/20")], restated


def test_structured_gold_answers(verifier):
    golds = [
        r"\begin{pmatrix} 1/5 \\ -18/5 \end{pmatrix}",
        r"\begin{pmatrix} -1 & 0 \\ 0 & -1 \end{pmatrix}",
        r"\left( 3, \frac{\pi}{2} \right)",
        r"[-2, 7)",
        r"\text{Evelyn}",
        r"6 - 5i",
        r"90^\circ",
    ]
    for gold in golds:
        assert verifier.verify(any_task(gold), boxed(gold)).correct, gold
    assert not verifier.verify(any_task(golds[0]), boxed(r"\begin{pmatrix} 1/5 \\ 18/5 \end{pmatrix}")).correct
    assert not verifier.verify(any_task("[-2, 7)"), boxed("(-2, 7)")).correct


def test_dataset_mode_through_gym_and_make_task(tmp_path):
    path = sample("math500_sample.jsonl", tmp_path)
    env = gym.make("rlvr/Math-v0", dataset=str(path))
    try:
        observation, info = env.reset(seed=62)
        task = info["task"]
        assert task.id == "math/v0/dataset/math500_sample/2" and task.meta == {"dataset": str(path), "row": 2}
        assert observation == task.prompt and "\\boxed" in observation
        _, reward, terminated, _, step_info = env.step(boxed(r"\dfrac{14}{3}"))
        assert reward == 1.0 and terminated and step_info["verdict"].correct
    finally:
        env.close()
    made = rlvr.make_task("rlvr/Math-v0", seed=2, difficulty=0.9, dataset=str(path))
    assert made.id == task.id and made.prompt == task.prompt and made.difficulty == 0.9
    assert rlvr.verify(made, rlvr.solve(made)).correct
    with pytest.raises(ValueError):
        MathGenerator(dataset=path).generate(0, 0.5, terms=3)


def test_gsm8k_gold_parsing_and_instruction(tmp_path):
    assert gold_from_dataset_answer("She makes 9 * 2 = $<<9*2=18>>18.\n#### 18") == "18"
    assert gold_from_dataset_answer("… so 1,000 + 125 = 1,125\n#### 1,125") == "1125"
    assert gold_from_dataset_answer("#### -10") == "-10"
    assert gold_from_dataset_answer(204) == "204"
    generator = MathGenerator(dataset=sample("gsm8k_sample.jsonl", tmp_path))
    first = generator.generate(0)
    assert first.answer == {"gold": "18", "form": "any"}
    assert first.prompt.endswith("Put your final answer within \\boxed{}.")
    golds = {generator.generate(i).answer["gold"] for i in range(len(generator.dataset_rows))}
    assert {"2125", "114200", "276000", "5600", "-10"} <= golds
    verifier = rlvr.make_verifier("rlvr/Math-v0")
    assert verifier.verify(first, boxed(r"\$18")).correct and verifier.verify(first, boxed("18.00")).correct
    assert verifier.verify(first, "<answer>She makes 18 dollars.</answer>").correct
    assert not verifier.verify(first, "<answer>She makes 16 dollars.</answer>").correct
    thousands = next(
        generator.generate(i)
        for i in range(len(generator.dataset_rows))
        if generator.generate(i).answer["gold"] == "114200"
    )
    assert verifier.verify(thousands, boxed("114,200")).correct


def test_aime_integer_answers_and_parquet(tmp_path):
    rows = [json.loads(line) for line in sample("aime24.jsonl", tmp_path).read_text().splitlines()]
    assert all(isinstance(row["answer"], int) for row in rows)
    parquet = tmp_path / "aime24.parquet"
    pq.write_table(pa.Table.from_pylist([{"problem": r["prompt"], "answer": r["answer"]} for r in rows]), parquet)
    generator = MathGenerator(dataset=parquet)
    task = generator.generate(31)
    assert task.id == "math/v0/dataset/aime24/1" and task.answer["gold"] == str(rows[1]["answer"])
    assert rlvr.make_verifier("rlvr/Math-v0").verify(task, boxed(str(rows[1]["answer"]))).correct


def test_dataset_files_must_have_the_columns(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"text": "what?", "answer": 1}) + "\n")
    with pytest.raises(ValueError):
        MathGenerator(dataset=path)


@pytest.mark.parametrize(
    "gold, answer, correct",
    [
        (r"1 \pm \sqrt{19}", r"1 + \sqrt{19}, 1 - \sqrt{19}", True),
        (r"1 \pm \sqrt{19}", r"1 + \sqrt{19}", False),
        (r"\{1\pm\sqrt{5},-2\}", r"-2, 1-\sqrt5, 1+\sqrt5", True),
        ("4210_{5}", "4210_5", True),
        ("52_8", "42", False),
        (r"x \in [-2,7]", "[-2, 7]", True),
        (r"x \in [-2,7]", "(-2, 7)", False),
        (r"[-1, -\frac{1}{2}) \cup (-\frac{1}{2}, 0)", r"(-\tfrac12, 0) \cup [-1, -\tfrac12)", True),
        (
            r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}",
            r"\left[\begin{array}{cc} 1 & 2 \\ 3 & 4 \end{array}\right]",
            True,
        ),
        (r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}", r"\begin{pmatrix} 1 & 2 \\ 3 & 5 \end{pmatrix}", False),
        (r"10 \text{ cm}^2", "10", True),
        ("10 weeks", "10", True),
        (r"28\%", "28", True),
        (r"90^\circ", "90", True),
        ("2xy", "2", False),
        ("6 - 5i", "6-5i", True),
        (r"\text{Evelyn}", "evelyn", True),
        (r"3\sqrt{13}", r"\sqrt{117}", True),
        (r"\frac{9}{4}\pi", r"2.25\pi", True),
        ("1 1/2", "1.5", True),
        ("32349", "32, 349", False),
        (r"11,\! 111,\! 111,\! 100", "11111111100", True),
    ],
)
def test_native_grammar_on_common_answer_shapes(verifier, gold, answer, correct):
    verdict = verifier.verify(any_task(gold), boxed(answer))
    assert verdict.correct == correct and verdict.details["path"] in ("native", "screen"), (gold, answer, verdict)


@pytest.mark.parametrize(
    "text, hedged",
    [
        (r"x \le 2 \text{ or } x \ge 5", False),
        (r"x < -1 \lor x > 4", False),
        ("2 or 3", True),
        (r"x < 1 \text{ or maybe } x > 3", True),
        ("x < 2 or 3", True),
    ],
)
def test_or_between_inequalities_is_one_answer(text, hedged):
    assert looks_hedged(text) == hedged


def test_free_text_answers_are_screened_after_extraction(verifier):
    """Prose goes to math-verify's free-text extraction; what it finds is screened like any answer."""
    task = any_task("3")
    assert verifier.verify(task, "<answer>The final answer is $3$.</answer>").correct
    for response in (
        "<answer>The answer is $5 = 3$.</answer>",
        "<answer>The answer is $x = 5 = 3$.</answer>",
        "<answer>The answer is maybe $3$.</answer>",
        r"<answer>The answer is $\phantom{5}3$.</answer>",
        "<answer>It is not $3$; the final answer is $4$.</answer>",
    ):
        verdict = verifier.verify(task, response)
        assert not verdict.correct and len(verdict.reason) <= 300, (response, verdict)


# --------------------------------------------------------------------------------------------
# Decimals are exact; connectives and relations that math-verify reads one side of
# --------------------------------------------------------------------------------------------


def set_task(gold: str, values: list[str]) -> Task:
    return Task("math/test", "rlvr/Math-v0", "math", "p", {"gold": gold, "form": "set", "values": values}, 0.5, 0)


def tuple_task(values: list[str]) -> Task:
    gold = "(" + ", ".join(values) + ")"
    return Task(
        "math/test",
        "rlvr/Math-v0",
        "math",
        "p",
        {"gold": gold, "form": "tuple", "values": values, "variables": ["x", "y"]},
        0.5,
        0,
    )


def expression_task(gold: str, form: str = "expression") -> Task:
    return Task("math/test", "rlvr/Math-v0", "math", "p", {"gold": gold, "form": form, "variable": "x"}, 0.5, 0)


@pytest.mark.parametrize(
    "gold, answer",
    [
        ("123456789", r"1.234568 \times 10^{8}"),  # a rounded decimal never answers an integer gold
        ("123456789", r"1.234567 \times 10^{8}"),
        ("123456789", r"1.23456789 \cdot 10^{8} + 1"),  # 123456790
        ("10341", r"1.0341 \times 10^{4} + 0.4"),
        ("2", r"\sqrt{4.000001}"),  # math-verify rounds floats to 6 places
        ("2", r"2 \cdot \sqrt{1.000001}"),
        (r"\frac{1}{3}", r"0.333333 + 0"),  # a decimal inside an expression is exact, not an approximation
        (r"\frac{1}{3}", r"\frac{0.333333}{1}"),
        (r"\frac{1}{700}", r"1.43 \times 10^{-3}"),  # scientific notation follows the plain-decimal rule
        (r"\sqrt{2}", r"\sqrt{2.0000001}"),
        (r"\ln 2", r"\ln(2.000001)"),  # worker path
        (r"\frac{\sqrt{3}}{2}", r"\sin(1.0471976)"),
        ("x^2+1", r"x^2 + 1.0000001"),
        ("3", "3.."),  # malformed: two full stops
    ],
)
def test_decimals_in_an_answer_are_read_exactly(verifier, gold, answer):
    verdict = verifier.verify(any_task(gold), boxed(answer))
    assert not verdict.correct and verdict.reward == 0, (gold, answer, verdict)


@pytest.mark.parametrize(
    "gold, answer",
    [
        ("123456789", r"1.23456789 \times 10^{8}"),  # exactly equal
        ("5", "5.000000"),
        ("2", r"\sqrt{4.0}"),
        (r"\frac{1}{3}", "0.333333"),  # a plain decimal for a non-integer gold: correctly rounded
        (r"-\frac{1}{3}", "-0.333333"),
        (r"\frac{1}{700}", r"1.428571 \times 10^{-3}"),
        (r"\frac{1}{700}", r"1.428571 \cdot 10^{-3}"),
        (r"\sqrt{2}", "1.414214"),
        (r"\ln 2", "0.693147"),
        ("0.333333", r"\frac{1}{3}"),  # a decimal gold is a rounded rendering of the exact value
        (r"2.314814814815 \times 10^{-3}", r"\frac{1}{432}"),
        ("x^2+1", r"x^2 + 1.0"),
        ("3", "3."),
    ],
)
def test_exact_and_correctly_rounded_answers_still_count(verifier, gold, answer):
    assert verifier.verify(any_task(gold), boxed(answer)).correct, (gold, answer)


def test_integer_gold_takes_no_approximation(verifier):
    for answer in ("4.9999999", "5.0000001", r"4.9999999 \times 10^{0}", r"5.00000001 \cdot 1"):
        assert not verifier.verify(any_task("5"), boxed(answer)).correct, answer
    assert not verifier.verify(any_task("0.333333"), boxed(r"\frac{1}{3} + 10^{-6}")).correct  # rounds to 0.333334
    assert not verifier.verify(any_task("0.33"), boxed(r"\frac{1}{3}")).correct  # too few digits shown


def test_synthetic_sets_and_tuples_judge_decimals_exactly(verifier):
    roots = set_task(r"-2, \frac{1}{3}", ["-2", r"\frac{1}{3}"])
    for answer in (
        r"\sqrt{4.000001} \cdot (-1), \frac{1}{3}",
        r"-2.0000001, \frac{1}{3}",
        r"-2, \frac{1}{3}, 0.333333",
    ):
        assert not verifier.verify(roots, boxed(answer)).correct, answer
    for answer in (r"\frac{1}{3}, -2", "-2, 0.333333", r"-2.0, \frac{1}{3}"):
        assert verifier.verify(roots, boxed(answer)).correct, answer
    point = tuple_task(["24", "-13"])
    for answer in (
        r"(\sqrt{576.00001}, -13)",
        r"(24 \cdot \sqrt{1.000001}, -13)",
        r"(2.4 \times 10^{1} + 0.000001, -13)",
    ):
        assert not verifier.verify(point, boxed(answer)).correct, answer
    for answer in ("(24.0, -13)", r"(2.4 \times 10^{1}, -13)"):
        assert verifier.verify(point, boxed(answer)).correct, answer
    assert not verifier.verify(point, boxed(r"(\sqrt{576}, -13)")).correct  # red team s19 F1: not evaluated
    assert not verifier.verify(expression_task("x^2 + 1"), boxed(r"x^2 + 0.3333333333333333333 \cdot 3")).correct
    assert not verifier.verify(expression_task("x^2 + 1"), boxed(r"x^2 + 1.0000001")).correct
    assert verifier.verify(expression_task("x^2 + 1", "expanded"), boxed(r"x^2 + 1.0")).correct


@pytest.mark.parametrize(
    "connective",
    [
        r"\vee",
        r"\lor",
        r"\wedge",
        r"\land",
        r"\implies",
        r"\mid",
        r"\star",
        r"\equiv",
        r"\sim",
        r"\to",
        r"\in",
        r"\cup",
        r"\circ",
        r"\\",
        "?",
        "|",
        r"\|",
        r"\colon",
        r"\#",
    ],
)
def test_connectives_and_relations_between_values_score_zero(verifier, connective):
    """math-verify keeps one side of ``19 \\mid 18`` (it "is" 18): such an answer is no value."""
    verdict = verifier.verify(any_task("18"), boxed(f"19 {connective} 18"))
    assert verdict.reward == 0, (connective, verdict)


@pytest.mark.parametrize(
    "answer",
    [
        r"\cancel{19} 18",
        r"\tag{19} 18",
        r"\stackrel{19}{=} 18",
        r"{}^{19} 18",
        r"\begin{cases} 19 \\ 18 \end{cases}",
        r"19 \dots 18",
    ],
)
def test_markup_that_hides_a_value_scores_zero(verifier, answer):
    assert verifier.verify(any_task("18"), boxed(answer)).reward == 0, answer


@pytest.mark.parametrize(
    "answer",
    [
        r"19 \hat 18",
        r"\underline{19} 18",
        r"\max{19} 18",
        r"\ref{19} 18",
        r"19 \atop 18",
        r"\hbox{19} 18",
        r"\le{19} 18",
        r"19 \longrightarrow 18",
        "19 @ 18",
        r"\unicode{19} 18",
    ],
)
@pytest.mark.parametrize("wrap", [r"\boxed{%s}", "The answer is $%s$.", "<answer>%s</answer>"])
def test_latex_math_verify_cannot_read_whole_scores_zero(verifier, answer, wrap):
    """math-verify's plain-expression fallback took the last number of an unreadable answer."""
    assert verifier.verify(any_task("18"), wrap % answer).reward == 0, wrap % answer


def test_connectives_joining_inequalities_and_legitimate_notation_still_count(verifier):
    assert not looks_hedged(r"x \le 2 \vee x \ge 5") and not looks_hedged(r"x > 1 \wedge x < 3")
    assert looks_hedged(r"19 \vee 18") and looks_hedged(r"19 \land 18")
    for gold, answer in (
        ("90^\\circ", "90^\\circ"),
        ("18", "18^{\\circ}"),
        ("[1, 2]", r"x \in [1, 2]"),
        ("|x|", "|x|"),
        (r"(-\infty, 1) \cup (2, \infty)", r"(-\infty, 1) \cup (2, \infty)"),
        (r"1\leq|z|\leq \frac{3}{2}", r"z \in \left[-\frac{3}{2}, -1\right] \cup \left[1, \frac{3}{2}\right]"),
    ):
        assert verifier.verify(any_task(gold), boxed(answer)).correct, (gold, answer)


def test_worker_refuses_a_logical_value_and_rounded_floats_for_an_exact_gold():
    """The worker's own re-check, below the screens: an Or for a value, a float math-verify rounded."""
    import sympy

    from rlvr.verifiers.math_worker import Judge, Symbolic

    judge = Judge()
    symbolic = Symbolic(judge, {"gold": "18", "form": "any"}, "", 5)
    x = sympy.Symbol("x")
    assert not symbolic.equal([sympy.Integer(18)], [sympy.Or(sympy.Eq(x, 19), sympy.Eq(x, 18))])
    symbolic.literals = ["4.000001"]
    assert not symbolic.equal([sympy.Integer(2)], [sympy.sqrt(sympy.Float("4.000001"))])
    assert not symbolic.equal([sympy.Integer(2)], [sympy.Float("2.0000001")])  # no literal it came from
    symbolic.literals = ["0.333333"]
    assert symbolic.equal([sympy.Rational(1, 3)], [sympy.Float("0.333333")])
    assert not symbolic.equal([sympy.Integer(1)], [3 * sympy.Float("0.333333")])


# --------------------------------------------------------------------------------------------
# Grader rules from other projects' test suites (issue 15): each with its near misses
# --------------------------------------------------------------------------------------------


def test_a_currency_amount_with_thousands_separators_is_one_value(verifier):
    task = any_task("16386.20")
    assert verifier.verify(task, boxed(r"\$16,\!386.20")).correct
    assert not verifier.verify(task, boxed(r"\$16,\!386.21")).correct
    assert not verifier.verify(task, boxed(r"\$16, 386.20")).correct  # a list of two amounts


def test_latex_escaped_twice_is_read_once():
    from rlvr.verifiers.math import unescape_twice

    assert (
        unescape_twice(r"\\begin{matrix} x \\\\ \\frac12 \\end{matrix}") == r"\begin{matrix} x \\ \frac12 \end{matrix}"
    )
    for text in (
        r"a \\ b",
        r"\frac{1}{2}",
        r"\\ \frac{1}{2}",
        r"\\frac{1}{2} \sqrt{2}",
        "12",
    ):  # once-escaped or mixed: kept
        assert unescape_twice(text) == text


def test_a_gold_escaped_twice_matches_its_answer(verifier):
    gold = r"\\begin{matrix} x \\\\ \\sqrt{3} + 2I \\\\ \\frac12 \\end{matrix}"
    assert verifier.verify(any_task(gold), boxed(r"\begin{matrix} x \\ \sqrt{3} + 2I \\ 0.5 \end{matrix}")).correct
    assert not verifier.verify(any_task(gold), boxed(r"\begin{matrix} x \\ \sqrt{3} + 2I \\ 0.6 \end{matrix}")).correct
    assert verifier.verify(any_task(r"\\frac{10}{9}"), boxed(r"\frac{10}{9}")).correct


@pytest.mark.parametrize(
    "response, correct",
    [
        (
            "<answer>Working... Final Answer: The final answer is $14 {, }916$. I hope it is correct. Note: check "
            "A or B.</answer>",
            True,
        ),
        (
            "<answer>f(x) = 2 or f(x) = -2. Final Answer: The number of points in the domain of $f(x)$ is 14916. "
            "Done</answer>",
            True,
        ),
        ("<answer>The final answer is $14{,}917$. I hope it is correct.</answer>", False),
        ("<answer>The final answer is not $14916$.</answer>", False),
        ("<answer>The final answer is $14916$ or $14917$.</answer>", False),
        ("<answer>The final answer is maybe $14916$.</answer>", False),
        ("<answer>We get 14916 or 14917. Both work.</answer>", False),  # no stated answer: the whole text hedges
        ("<answer>The final answer is $14917$, $14916$.</answer>", False),  # two values stated
        (
            "<answer>We find \\( x = 14917 - 1 \\). Final Answer: The final answer is \\(14916\\). I hope it is "
            "correct.</answer>",
            True,
        ),
    ],
)
def test_free_text_is_judged_by_its_stated_final_answer(verifier, response, correct):
    verdict = verifier.verify(any_task("14916"), response)
    assert verdict.correct == correct, (response, verdict)


def test_boxed_steps_then_one_stated_result(verifier):
    """Boxes along the working, then "The final answer is …": the statement is the answer. Without
    a statement two different boxes stay a hedge."""
    working = r"First $0.04 \cdot 10,000 \cdot \frac{1}{2} = \boxed{200}$, then $\boxed{255}$; so $10,455."
    assert verifier.verify(
        any_task("10455"), working + " Final Answer: The final answer is $10,455$. I hope it is correct."
    ).correct
    assert not verifier.verify(any_task("10455"), working + " The final answer is $10,456$.").correct
    assert not verifier.verify(any_task("255"), working + " The final answer is $10,455$.").correct
    assert not verifier.verify(any_task("255"), working).correct
    assert not verifier.verify(any_task("10455"), working + r" The final answer is $10,455$ or $\boxed{255}$.").correct


@pytest.mark.parametrize(
    "answer, correct",
    [
        ("p=5,q=2;p=7,q=2", True),
        (r"q = 2, p = 7 \text{ and } p = 5, q = 2", True),
        ("p=5,q=2", False),  # a solution missing
        ("p=5,q=7;p=7,q=2", False),
        ("q=5,p=2;q=7,p=2", False),  # names swapped
        ("p=5,q=2;p=7,q=2;p=2,q=2", False),  # an extra solution
    ],
)
def test_solutions_of_a_system_compare_as_sets_of_named_values(verifier, answer, correct):
    gold = r"p = 5, q = 2 \quad \text{and} \quad p = 7, q = 2"
    verdict = verifier.verify(any_task(gold), boxed(answer))
    assert verdict.correct == correct and verdict.details["path"] == "native", (answer, verdict)


def test_numbers_inside_text_of_another_script_are_found(verifier):
    assert verifier.verify(any_task("13/28"), "<answer>计划的比例为13/28</answer>").correct
    assert not verifier.verify(any_task("13/28"), "<answer>计划的比例为13/29</answer>").correct
    assert verifier.verify(any_task("99"), "<answer>结论：Haley总共有99颗弹珠。</answer>").correct


@pytest.mark.parametrize(
    "gold, answer, correct",
    [
        (r"\sin(90^{\circ}-x)", r"\cos(x)", True),
        (r"\sin(90^{\circ}-x)", r"\sin(x)", False),
        (r"\cos(60^\circ) + x", r"x + \frac{1}{2}", True),
        (r"\cos(60^\circ) + x", r"x + 60", False),
    ],
)
def test_degrees_inside_trigonometric_functions_are_radians(verifier, gold, answer, correct):
    verdict = verifier.verify(any_task(gold), boxed(answer))
    assert verdict.correct == correct, (gold, answer, verdict)


@pytest.mark.parametrize(
    "gold, answer, correct",
    [
        ("x >= 5", r"x \geq 5", True),
        ("x > 5", "x < 5", False),
        (r"x \neq 5", "x != 5", True),
        (r"x \leq 5", r"5 \geq x", True),
        ("x < 1", "-x > -1", True),
        ("x < 1", "x > -1", False),
        (r"-2 \le x \le 7", "[-2,7]", True),
        (r"-2 \le x \le 7", "(-2,7)", False),
        ("0<f(x)<1", "(0,1)", True),
        ("-793 < a < 10", "(-793, 10)", True),
        ("x > 5", "y > 5", False),
        ("x > 5", "5", False),
        ("2x+4y-3=0", r"y=-\frac{1}{2}x+\frac{3}{4}", True),
        ("x^2/4 + y^2/3 = 1", "x^2/16 + y^2/12 = 1/4", True),
        ("5x - 7y + 11z + 4 = 0", "x + y - z + 2 = 0", False),
        ("x^2 = 4", "x = 2", False),
        ("7 = 11a+c", "11a+c", False),
        ("2x+4y-3=0", "2x+4y-3 = 0 = 0", False),
        ("a + 3z = 0", "0", False),
        (r"\frac{NO}{BO}=\frac{1}{\sqrt{6}}", r"\frac{1}{\sqrt{6}}", True),
        (r"\frac{NO}{BO}=\frac{1}{\sqrt{6}}", r"\sqrt{6}", False),
        ("2x = 1", r"\frac12", False),
        ("S_{MBCN}:S=7:32", "7:32", True),
        ("S_{MBCN}:S=7:32", "14:64", False),
        ("7:32", "32:7", False),
        ("-12;-11;-10", r"\{-12, -11, -10\}", True),
        ("-12;-11;-10", r"\{-12, -11\}", False),
        (r"x = -5,\ p = \frac{14}{3}", r"-5, \frac{14}{3}", True),
        (r"x = -5,\ p = \frac{14}{3}", r"\frac{14}{3}, -5", False),
        (r"x = -5,\ p = \frac{14}{3}", r"\left(-5, \frac{14}{3}\right)", True),
        (r"x = -5,\ p = \frac{14}{3}", r"(-5, 4)", False),
        ("a_3 = 2, a_{37} = 19", r"a_{37} = 19, \quad a_3 = 2", True),
        ("a_3 = 2, a_{37} = 19", r"a_{37} = 2, \quad a_3 = 19", False),
        ("p=5,q=2;p=7,q=2", "(7,2),(5,2)", True),
        ("p=5,q=2;p=7,q=2", "(2,5),(2,7)", False),
        ("p=5,q=2;p=7,q=2", "(5,2)", False),
        ("(0;0;0),(0;-2;0)", "(0, -2, 0), (0, 0, 0)", True),
        ("(0;0;0),(0;-2;0)", "(0, 2, 0), (0, 0, 0)", False),
    ],
)
def test_relations_ratios_and_named_values_are_native(verifier, gold, answer, correct):
    verdict = verifier.verify(any_task(gold), boxed(answer))
    assert verdict.correct == correct and verdict.details["path"] in ("native", "screen"), (gold, answer, verdict)


@pytest.mark.parametrize(
    "response, correct",
    [
        ("<answer>Therefore $x \\geq 5$ is the solution.</answer>", True),
        ("<answer>Therefore $x < 5$ is the solution.</answer>", False),
        ("<answer>It is not $x \\geq 5$.</answer>", False),
        ("<answer>It is not $x < 5$, it is $x \\geq 5$.</answer>", True),
        ("<answer>We got $x \\geq 5$, which is wrong.</answer>", False),
        ("<answer>So 5 is the bound: x \\geq 5 is not right.</answer>", False),
        ("<answer>Either $x \\geq 5$ or $x \\geq 6$.</answer>", False),
    ],
)
def test_free_text_with_one_maths_span(verifier, response, correct):
    verdict = verifier.verify(any_task("x >= 5"), response)
    assert verdict.correct == correct, (response, verdict)


def test_canonical_keys_of_ratios_and_equations(verifier):
    task = any_task("7:32")
    assert (
        verifier.canonical_answer(task, r"\boxed{7:32}")
        == verifier.canonical_answer(task, "<answer>7 : 32</answer>")
        is not None
    )
    assert verifier.canonical_answer(task, r"\boxed{7:32}") != verifier.canonical_answer(task, r"\boxed{14:64}")
    assert verifier.canonical_answer(task, r"\boxed{2x + 4y - 3 = 0}") is None  # an equation, not a named value


@pytest.mark.parametrize(
    "gold, response",
    [
        (r"\{1, 2\}", "\\boxed{1," + " " * 1990 + "x}"),  # "and"/"or" separators over a long run of spaces
        ("p=5,q=2;p=7,q=2", "\\boxed{p=5,q=2" + " " * 1980 + "; p=7,q=3}"),
        ("1", "<answer>The answer" + " " * 19000 + "is 1</answer>"),  # an answer anchor
        ("1", "<answer>word " + "1," * 9000 + " not 1</answer>"),  # a denial next to the last value
        (r"\sin(90^\circ - x)", "\\boxed{\\sin(" + "1" * 1900 + ")}"),  # degrees in trigonometry
    ],
)
def test_text_scans_stay_linear_on_long_runs(verifier, gold, response):
    """The parent judges these in-process, where no deadline can interrupt a regular expression:
    every scan of the new rules must be linear (possessive loops, anchored starts)."""
    verifier.verify(any_task(gold), boxed("1"))  # the worker warm: only the scan is timed
    start = time.perf_counter()
    verdict = verifier.verify(any_task(gold), response)
    assert time.perf_counter() - start < 1.0 + SLACK_S and len(verdict.reason) <= 300, (gold, verdict)


# --------------------------------------------------------------------------------------------
# Formulas (rlvr.verifiers.math_formulas): functions, powers, sums, decided in-process
# --------------------------------------------------------------------------------------------

FORMULA_PAIRS = [  # (gold, answer, correct): each decided without the worker
    (r"\tan^2(y)+1", r"\sec^2(y)", True),
    (r"\sec x", r"\frac1{\cos x}", True),
    (r"\sin(90^{\circ}-x)", r"\cos(x)", True),
    (r"\sin 30^\circ", r"\frac{1}{2}", True),
    (r"\cos 2x", r"\cos^2 x - \sin^2 x", True),
    (r"\sin(x)=\frac{42}{59}", r"\cos(x)=\frac{42}{59}", False),
    (r"\frac{\sqrt{\sqrt{11}+\sqrt{194}}}{15+2\sqrt{33}}", r"\frac{\sqrt{\sqrt{11}+\sqrt{194}}}{2\sqrt{33}+15}", True),
    (
        r"x_{1}=10^{\frac{-5+\sqrt{13}}{6}},\quad x_{2}=10^{\frac{-5-\sqrt{13}}{6}}",
        r"10^{\frac{\sqrt{13} - 5}{6}}, 10^{-\frac{5 + \sqrt{13}}{6}}",
        True,
    ),
    (
        r"x_{1}=10^{\frac{-5+\sqrt{13}}{6}},\quad x_{2}=10^{\frac{-5-\sqrt{13}}{6}}",
        r"10^{\frac{\sqrt{13} - 5}{6}}, 10^{\frac{5 + \sqrt{13}}{6}}",
        False,
    ),
    (r"F_n = \sum_{k=0}^{n-1} F_k F_{n-k-1}", r"F_n = \sum_{k=0}^{n-1} F_{n-k-1} F_k", True),
    (r"F_n = \sum_{k=0}^{n-1} F_k F_{n-k-1}", r"F_n = \sum_{k=0}^{n-2} F_k F_{n-k-2}", False),
    (r"\sum_{k=1}^{10} k^2", "385", True),
    (r"1\leq|z|\leq \frac{3}{2}", r"z \in \left[-\frac{3}{2}, -1\right] \cup \left[1, \frac{3}{2}\right]", True),
    (r"1\leq|z|\leq \frac{3}{2}", r"z \in \left[-\frac{3}{2}, \frac{3}{2}\right]", False),
    (r"|x| < 3", "(-3, 3)", True),
    (
        r"\begin{pmatrix}\frac{1}{3\sqrt[3]{x}^2}&0\\-\sin(x)&0\end{pmatrix}",
        r"\begin{pmatrix}\frac{1}{3x^{2/3}}&0\\-\sin(x)&0\end{pmatrix}",
        True,
    ),
    (r"\log_2 8", "3", True),
    (r"\ln 4", r"2\ln 2", True),
    (r"\ln 2", r"\ln 3", False),
    (r"e^{x+2}", r"e^x e^2", True),
    (r"1 - \frac{1}{\mathrm{e}}", r"1 + \frac{1}{\mathrm{e}}", False),
    (r"\frac{1}{x+1}", r"\frac{2}{2x+2}", True),
    (r"\frac{1}{x+1}", r"\frac{1}{x+2}", False),
    (r"p = -1 \text{ and } p = \dfrac{15}{8}", r"p=-1,p=\frac{15}{8}", True),
    (r"\frac{\sqrt{3}}{3} \approx 0.577", r"\frac{\sqrt{3}}{3}", True),
    (r"\sum_{k=1}^{n}\sum_{j=1}^{k} k j^2", r"\sum_{k=1}^{n}\sum_{j=1}^{k} k^2 j", False),  # bound names kept apart
    ("-2", r"(-8)^{1/3}", False),  # the principal cube root
]


@pytest.mark.parametrize("gold, answer, correct", FORMULA_PAIRS)
def test_formulas_are_decided_in_process(verifier, gold, answer, correct, monkeypatch):
    from rlvr.verifiers import math_formulas

    # which path decides is the point here, not how fast: on a loaded machine the 0.1 s formula
    # budget ran out and math-verify decided instead (seen once under a load average of 13)
    monkeypatch.setattr(math_formulas, "budget", lambda seconds=5.0: math_formulas.Budget(seconds))
    verdict = verifier.verify(any_task(gold), boxed(answer))
    assert verdict.correct == correct, (gold, answer, verdict)
    assert verdict.details["path"] in ("native", "screen"), verdict


# Answers a policy would try against the formula path: near-identities and tiny perturbations
# that no double-precision check can tell apart, branch tricks, undefined values. None may score.
FORMULA_ATTACKS = [
    (r"\sin x", r"\sin x + 10^{-60}"),
    (r"\sin x", r"\sin(x + 2\pi \cdot 10^{-20})"),
    (r"\sin x", r"\sin x \cdot e^{10^{-20}}"),
    ("1", r"\sin^2 x + \cos^2 x + 10^{-50}"),
    (r"\tan x", r"\frac{\sin x}{\cos x} + 10^{-30}"),
    ("-1", r"\cos\frac{355}{113}"),  # 355/113 is π to 7 digits
    (r"640320^3+744", r"e^{\pi\sqrt{163}}"),  # an integer to 12 digits
    (r"\sqrt{2}", r"2\sin\frac{\pi}{4} + 10^{-40}"),
    (r"\frac{\sqrt{2}}{2}", r"\sin(0.7853981633974483)"),
    (r"\frac{1}{2}", r"\cos\frac{\pi}{3} + \sin(10^{-30})"),
    (r"\ln 2", r"\ln 2.0000000001"),
    ("0", r"\sin(3.14159265358979)"),
    ("x", r"\sqrt{x^2}"),
    ("x", "|x|"),
    ("x", r"\ln(e^{x}) + 10^{-40}"),
    ("1", r"\frac{\sin 0}{\sin 0}"),
    (r"\sin x", r"1.0000001\sin x"),
]


@pytest.mark.parametrize("gold, answer", FORMULA_ATTACKS)
def test_formula_attacks_score_zero(verifier, gold, answer):
    verdict = verifier.verify(any_task(gold), boxed(answer))
    assert not verdict.correct and verdict.reward == 0, (gold, answer, verdict)


def test_the_formula_path_accepts_no_disguised_zero_over_zero():
    """Formally D/D = 1, but D is 0 (a root squared is its radicand): the values are checked at
    points before a formal equality counts, so this is left undecided (the worker's sympy then
    cancels it to 1, as it would any x/x)."""
    from rlvr.verifiers import math_answers

    disguised = r"\frac{(\sqrt{1+\sqrt2})^2 - 1 - \sqrt2}{(\sqrt{1+\sqrt2})^2 - 1 - \sqrt2}"
    with pytest.raises(math_answers.NotNative):
        math_answers.equivalent(math_answers.parse("1"), math_answers.parse(disguised))


HOSTILE_FORMULAS = [
    "\\sin(" * 38 + "x" + ")" * 38,
    "\\sin " * 300 + "x",
    r"\sum_{k=1}^{1000000} k",
    r"\sum_{a=1}^{150}\sum_{b=1}^{150}\sum_{c=1}^{150} a b c",
    r"\sum_{a=1}^{n}\sum_{b=1}^{n}\sum_{c=1}^{n}\sum_{d=1}^{n} a b c d",
    r"\sin^{16}(x) \cos^{16}(x) \tan^{16}(x)",
    "+".join(rf"\sin({k}x)" for k in range(1, 120)),
    r"e^{e^{e^{e^{x}}}}",
    r"(x+1)^{\frac{1}{3}} (x+2)^{\frac{2}{7}} (x+3)^{\frac{3}{11}}",
    r"\sec(\frac{\pi}{2}) + \ln 0 + \frac{1}{\sin 0}",
    r"\tan(" + "+".join(f"{k}x" for k in range(1, 40)) + ")",
    ", ".join([r"\sum_{a=1}^{150}\sum_{b=1}^{150} a b"] * 30),
]


@pytest.mark.parametrize("index", range(len(HOSTILE_FORMULAS)))
def test_hostile_formulas_are_bounded_in_process(index):
    """The cheap stage (extraction, screening, the native grammar and its formulas) of a hostile
    formula stays within a small time bound and never raises."""
    from rlvr.verifiers import math_formulas
    from rlvr.verifiers.math import gold_spec, judge_response_cheaply

    for gold in (r"\sin x", "3", r"\sum_{k=1}^{n} k"):
        spec = {**gold_spec(any_task(gold)), "tolerance": None, "ordered": False, "units": "ignore"}
        start = time.monotonic()
        with math_formulas.budget():
            judge_response_cheaply(spec, boxed(HOSTILE_FORMULAS[index]))
        assert time.monotonic() - start < 0.5 + 20 * math_formulas.BUDGET_S, (gold, HOSTILE_FORMULAS[index])


def test_constant_formulas_share_the_key_of_their_value(verifier):
    task = any_task("1")
    key = verifier.canonical_answer(task, boxed(r"\frac{1}{2}"))
    for answer in (r"\sin\frac{\pi}{6}", r"\cos 60^\circ", r"\sin^2\frac{\pi}{4}"):
        assert verifier.canonical_answer(task, boxed(answer)) == key, answer
    assert verifier.canonical_answer(task, boxed(r"\sec^2 x - \tan^2 x")) == verifier.canonical_answer(task, boxed("1"))
    assert verifier.canonical_answer(task, boxed(r"\sin x")) == verifier.canonical_answer(task, boxed(r"\sin(x)"))
    assert verifier.canonical_answer(task, boxed(r"\sin x")) != verifier.canonical_answer(task, boxed(r"\cos x"))


# One constant whose value is exactly 0 but whose difference from any gold evalf cannot resolve at
# 2 000 digits (the terms are 10^3000): it once read "no significant digits" as "equal" and scored
# on 77 % of MATH-500 rows and every GSM8K row.
HUGE_CANCELLATION = r"10^{3000}\cos^{2}(1) + 10^{3000}\sin^{2}(1) - 10^{3000}"


# 0/0 that math-verify keeps unevaluated: its evaluation came back as a digit-less Float too
ZERO_OVER_ZERO = r"\frac{\sin \pi}{\sin \pi}"


@pytest.mark.parametrize("universal", [HUGE_CANCELLATION, ZERO_OVER_ZERO], ids=["huge-cancellation", "zero-over-zero"])
@pytest.mark.parametrize("source", ["math500.jsonl", "gsm8k_test_original.jsonl", "aime24.jsonl"])
def test_an_unresolved_evaluation_is_no_evidence_of_equality_on_real_data(verifier, source, universal):
    path = SHARED_MATH / source
    if not path.is_file():
        pytest.skip(f"math data absent: {path}")
    generator = MathGenerator(dataset=str(path))
    for row in range(0, 30):
        task = generator.generate(row)
        verdict = verifier.verify(task, boxed(universal))
        assert verdict.reward == 0, (task.answer, verdict)


def test_an_unresolved_evaluation_does_not_fill_tuples_and_true_radical_identities_still_count(verifier):
    assert verifier.verify(any_task("(-3, 6)"), boxed(f"({HUGE_CANCELLATION}, {HUGE_CANCELLATION})")).reward == 0
    system = MathGenerator().generate(7, 0.5, kinds="linear_system")  # each coordinate judged by the worker
    assert verifier.verify(system, boxed(f"({HUGE_CANCELLATION}, {HUGE_CANCELLATION})")).reward == 0
    assert verifier.verify(system, boxed(f"({ZERO_OVER_ZERO}, {ZERO_OVER_ZERO})")).reward == 0
    assert verifier.verify(any_task(r"\sqrt{2}+\sqrt{3}"), boxed(r"\sqrt{5+2\sqrt{6}}")).correct
    assert not verifier.verify(any_task(r"\sqrt{2}+\sqrt{3}"), boxed(r"\sqrt{5+2\sqrt{6}}+10^{-100}")).correct


def test_a_number_too_large_to_evaluate_is_a_screened_zero(verifier, monkeypatch):
    """A power tower whose evaluation overflows gets a reason of its own, not an internal error:
    the size screen's (S14-B3) and, let through to the worker, the worker's."""
    tower = r"\sqrt{2}^{\sqrt{3}^{\sqrt{5}^{\sqrt{7}^{\sqrt{11}^{\sqrt{13}}}}}} - \sqrt[3]{2}^{\sqrt{3}}"
    verdict = verifier.verify(any_task("5"), boxed(tower))
    assert verdict.reward == 0.0 and verdict.details["path"] == "screen" and "too large to evaluate" in verdict.reason
    monkeypatch.setattr("rlvr.verifiers.math.too_large_to_evaluate", lambda text: None)
    verdict = verifier.verify(any_task("5"), boxed(tower))
    assert verdict.reward == 0.0 and not verdict.correct
    assert "error" not in verdict.reason and "too big to evaluate" in verdict.reason, verdict.reason


def test_a_parse_that_runs_out_of_time_says_so_and_a_gold_that_did_is_not_cached(monkeypatch):
    """Red team S5-11: under CPU load math-verify's parse alarm fired and its empty reading was
    reported as "could not parse the answer" (and an empty gold reading would have been cached)."""
    from rlvr.verifiers import math_worker

    judge = math_worker.Judge()
    spec = {"gold": "3", "form": "any"}
    request = {"id": 1, "spec": spec, "deadline_s": 1.5, "answer": r"\sqrt{9}", "extracted": ""}
    real_parse = judge.math_verify.parse

    def stalled(text, **options):  # what math-verify returns when its alarm fires: nothing, late
        time.sleep(options["parsing_timeout"])
        return []

    monkeypatch.setattr(judge.math_verify, "parse", stalled)
    verdict = judge.reply(json.dumps(request).encode())["verdict"]
    assert verdict["reward"] == 0.0 and "timed out" in verdict["reason"] and verdict["details"]["timed_out"]
    assert "3" not in judge.gold_cache
    monkeypatch.setattr(judge.math_verify, "parse", real_parse)
    assert judge.reply(json.dumps(request).encode())["verdict"]["correct"]
