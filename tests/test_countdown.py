"""Countdown-v0 and Game24-v0: construction, the expression verifier, hostile answers, the knob."""

from __future__ import annotations

import gc
import statistics
import subprocess
import sys
from fractions import Fraction

import pytest

import rlvr
from rlvr.generators.countdown import CountdownGenerator, SearchCapReached, search
from rlvr.verifiers.countdown import CountdownVerifier, ExpressionError, RuleError, judge

ENVS = ("rlvr/Countdown-v0", "rlvr/Game24-v0")
VERIFIER = CountdownVerifier()


def answer(text: str) -> str:
    return f"<answer>{text}</answer>"


@pytest.mark.parametrize("env_id", ENVS)
@pytest.mark.parametrize("difficulty", [0.0, 0.3, 0.6, 1.0])
def test_reference_scores_one_and_near_miss_zero_on_many_seeds(env_id, difficulty):
    generator = rlvr.make_generator(env_id)
    for seed in range(25):
        task = generator.generate(seed, difficulty)
        numbers, target = task.answer["numbers"], task.answer["target"]
        assert target not in numbers or env_id.endswith("Game24-v0")
        assert VERIFIER.verify(task, generator.solve(task)).correct
        assert not VERIFIER.verify(task, generator.wrong_response(task)).correct
        # the reference expression really uses given numbers with allowed operators
        assert judge(task.answer["expression"], numbers, target, task.answer["operators"], task.answer["use_all"])[0]


def test_game24_preset_pins_the_game_and_refuses_overrides():
    task = rlvr.make_task("Game24-v0", 5, 0.5)
    assert task.answer["target"] == 24 and len(task.answer["numbers"]) == 4 and task.answer["use_all"]
    assert all(1 <= n <= 13 for n in task.answer["numbers"]) and task.params["target"] == 24
    with pytest.raises(ValueError, match="fixes target"):
        rlvr.make_task("Game24-v0", 5, 0.5, target=25)


def test_fractional_intermediates_are_exact():
    task = rlvr.make_task("Countdown-v0", 0, 0.5, numbers=4)
    # 8 / (3 - 8 / 3) = 24: the classic 24-game answer needing fractions
    ok, _, details = judge("8 / (3 - 8 / 3)", [3, 3, 8, 8], 24, "+,-,*,/", True)
    assert ok and details["value"] == "24"
    assert judge("8 / 3 * 3", [8, 3, 3], 8, "+,-,*,/", True)[0]
    assert task is not None


def test_any_correct_expression_is_accepted_not_only_the_reference():
    found, _ = search([1, 2, 3, 4], 24, "+,-,*,/", True)
    assert judge(found, [1, 2, 3, 4], 24, "+,-,*,/", True)[0]
    for text in ("1 * 2 * 3 * 4", "(1 + 2 + 3) * 4", "4 * 3 * 2 * 1 = 24", "4 × (3 + 2 + 1)", "(4 ÷ 1) · 6 − 0 + 0"):
        numbers = [1, 2, 3, 4] if "0" not in text else [4, 1, 6, 0, 0]
        assert judge(text, numbers, 24, "+,-,*,/", "0" not in text)[0], text


def test_search_leaves_no_cyclic_garbage():
    """The search's memo of seen multisets is freed when it returns, not at the next collector
    pass: pool workers pause the collector for a whole chunk, and the memos of every task of the
    chunk piled up (10 % more CPU per task in a pool process than in one alone)."""
    gc.collect()
    gc.disable()
    try:
        for integers in (False, True):
            assert search([1, 2, 3, 4], 999, "+,-,*,/", False, integers=integers)[0] is None  # every node
            assert gc.collect() == 0
        with pytest.raises(SearchCapReached):
            search([3, 7, 11, 25, 50, 100], 9_999, "+,-,*,/", False, node_cap=500)
        assert gc.collect() == 0
    finally:
        gc.enable()


@pytest.mark.parametrize(
    "text,error",
    [
        ("2 ** 3", ExpressionError),
        ("2 ^ 3", ExpressionError),
        ("-2 + 5", ExpressionError),
        ("2.0 + 1", ExpressionError),
        ("abs(3)", ExpressionError),
        ("__import__('os')", ExpressionError),
        ("(2 + 3", ExpressionError),
        ("2 + + 3", ExpressionError),
        ("2 + 3 = 5 = 5", ExpressionError),
        ("", ExpressionError),
        ("=5", ExpressionError),
        ("5 / (3 - 3)", RuleError),
        ("23 + 1", RuleError),
        ("2 + 2 + 3", RuleError),
        ("7 + 1", RuleError),
    ],
)
def test_hostile_expressions_are_refused(text, error):
    with pytest.raises(error):
        judge(text, [2, 3, 5, 3], 5, "+,-,*,/", False)


def test_use_all_and_allowed_operators_are_enforced():
    with pytest.raises(RuleError, match="exactly once"):
        judge("2 + 3", [2, 3, 5], 5, "+,-,*,/", True)
    with pytest.raises(RuleError, match="not allowed"):
        judge("2 * 3", [2, 3], 6, "+,-", False)
    correct, reason, _ = judge("2 + 3 = 6", [2, 3], 5, "+,-", False)
    assert not correct and "claims 6" in reason


def test_verifier_bounds_hold_on_huge_and_deep_input():
    task = rlvr.make_task("Countdown-v0", 1, 1.0)
    for response in (
        answer("1 + " * 300_000 + "1"),
        answer("(" * 100_000 + "1" + ")" * 100_000),
        "x" * 10_000_000,
        answer("9" * 5_000),
    ):
        verdict = VERIFIER.verify(task, response)
        assert verdict.reward == 0 and len(verdict.reason) <= 300


def test_family_attacks_all_score_zero():
    generator = CountdownGenerator()
    for seed in range(10):
        task = generator.generate(seed, 0.7)
        attacks = generator.attacks(task)
        assert len(attacks) >= 12
        for name, response in attacks:
            assert VERIFIER.verify(task, response).reward == 0, name


def test_search_effort_rises_with_the_knob():
    medians = []
    for difficulty in (0.0, 0.25, 0.5, 0.75, 1.0):
        tasks = [rlvr.make_task("Countdown-v0", seed, difficulty) for seed in range(30)]
        medians.append(statistics.median(t.meta["search_nodes"] for t in tasks))
    assert all(a < b for a, b in zip(medians, medians[1:])), medians


def test_signs_alone_do_not_reach_a_target_that_offers_times_and_divide():
    """Red team S11-H3: + and − alone solved 15 / 36 / 26 % of Countdown tasks at d = 0.5 / 0.75
    / 1 (the sum minus twice one number 9–12 %). A sign pattern is checked by brute force here."""
    from itertools import product

    for env_id, difficulties in (("rlvr/Countdown-v0", (0.5, 0.75)), ("rlvr/Game24-v0", (0.5,))):
        for difficulty in difficulties:
            plain = 0
            for seed in range(60):
                answer = rlvr.make_task(env_id, seed=seed, difficulty=difficulty).answer
                numbers, target = answer["numbers"], answer["target"]
                signs = (1, -1) if answer["use_all"] else (1, -1, 0)
                plain += any(
                    sum(s * n for s, n in zip(pattern, numbers)) == target
                    for pattern in product(signs, repeat=len(numbers))
                )
            assert plain <= 1, (env_id, difficulty, plain)


def test_same_bytes_in_another_process():
    code = "import rlvr; print(rlvr.make_task('Countdown-v0', 7, 0.6).to_json())"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert other == rlvr.make_task("Countdown-v0", 7, 0.6).to_json()


def test_exact_value_is_reported():
    task = rlvr.make_task("Countdown-v0", 3, 0.5)
    numbers = task.answer["numbers"]
    verdict = VERIFIER.verify(task, answer(f"{numbers[0]} / {numbers[1]}"))
    assert verdict.reward == 0 and Fraction(verdict.details["value"]) == Fraction(numbers[0], numbers[1])


def one_product_reaches(numbers: list[int], target: int, use_all: bool) -> bool:
    """Red team S12 F5's template by brute force: one pair's product or quotient, added or
    subtracted, with every other number added, subtracted (or, unless ``use_all``, left out)."""
    from itertools import permutations, product

    signs = (1, -1) if use_all else (1, -1, 0)
    for i, j in permutations(range(len(numbers)), 2):
        rest = [n for k, n in enumerate(numbers) if k not in (i, j)]
        for term in (Fraction(numbers[i]) * numbers[j], Fraction(numbers[i], numbers[j])):
            for pattern in product(signs, repeat=len(rest)):
                total = sum(s * n for s, n in zip(pattern, rest))
                if total + term == target or total - term == target:
                    return True
    return False


# the screened levels, the seeds tried (fewer where a task takes tens of ms: Countdown d = 1 and
# Game24 d = 1 try up to 64 draws a task) and the most of them whose kept draw the template
# reaches: the family's docstring gives the measured shares (d = 0.5 keeps the most, its 4
# numbers give fewer draws a clean target)
SCREENED = [
    ("rlvr/Countdown-v0", 0.5, 200, 20),
    ("rlvr/Countdown-v0", 0.75, 200, 4),
    ("rlvr/Countdown-v0", 1.0, 60, 2),
    ("rlvr/Game24-v0", 0.0, 200, 2),
    ("rlvr/Game24-v0", 0.5, 200, 2),
    ("rlvr/Game24-v0", 1.0, 40, 1),
]


@pytest.mark.parametrize("env_id,difficulty,seeds,most", SCREENED)
def test_one_product_template_rarely_reaches_the_target(env_id, difficulty, seeds, most):
    """Red team S12 F5: "one product or quotient, the rest added or subtracted" solved 65 / 39 /
    31 % of Countdown tasks at d = 0.5 / 0.75 / 1 and 45 / 38 / 9 of 150 Game24 tasks at d = 0 /
    0.5 / 1. Over ``seeds`` seeds it reaches at most ``most`` kept targets; the reference
    still scores 1, the template's closest answer (an attack) scores 0 wherever it is offered,
    and every tenth task is the same when made again."""
    generator = rlvr.make_generator(env_id)
    reached = 0
    for seed in range(seeds):
        task = generator.generate(seed, difficulty)
        answer = task.answer
        hit = one_product_reaches(answer["numbers"], answer["target"], answer["use_all"])
        reached += hit
        assert VERIFIER.verify(task, generator.solve(task)).correct
        attacks = dict(generator.attacks(task))
        assert ("one-product-signs" in attacks) != hit, seed
        if not hit:
            assert VERIFIER.verify(task, attacks["one-product-signs"]).reward == 0
        if seed % 10 == 0:
            assert generator.generate(seed, difficulty).to_json() == task.to_json()
    assert reached <= most, (env_id, difficulty, reached)
