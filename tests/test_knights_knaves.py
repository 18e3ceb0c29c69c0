"""KnightsKnaves-v0: unique solutions, the clause reader, hostile answers, the knob."""

from __future__ import annotations

import random
import statistics
import subprocess
import sys

import pytest

import rlvr
from rlvr.generators.knights_knaves import (
    READERS,
    KnightsKnavesGenerator,
    consistent_assignments,
    face_value_guesses,
    truth_vector,
)
from rlvr.verifiers.chance import right_turns
from rlvr.verifiers.knights_knaves import KnightsKnavesVerifier, read_roles

GENERATOR = KnightsKnavesGenerator()
VERIFIER = KnightsKnavesVerifier()


@pytest.mark.parametrize("difficulty", [0.0, 0.25, 0.5, 0.75, 1.0])
def test_every_puzzle_has_exactly_one_consistent_assignment(difficulty):
    for seed in range(40):
        task = GENERATOR.generate(seed, difficulty)
        names, roles = task.answer["names"], task.answer["roles"]
        statements = [(speaker, statement) for speaker, statement in task.answer["statements"]]
        solutions = consistent_assignments(statements, len(names))
        truth = sum(1 << i for i, n in enumerate(names) if roles[n] == "knight")
        assert list(solutions) == [truth]
        assert VERIFIER.verify(task, GENERATOR.solve(task)).correct
        assert not VERIFIER.verify(task, GENERATOR.wrong_response(task)).correct


def test_uniqueness_check_against_brute_force_evaluation():
    task = GENERATOR.generate(3, 0.8)
    n = len(task.answer["names"])

    def holds(statement, bits):
        kind = statement[0]
        if kind == "is":
            return bool(bits >> statement[1] & 1) == (statement[2] == "knight")
        if kind == "count":
            return bin(bits).count("1") == statement[1]
        if kind == "not":
            return not holds(statement[1], bits)
        if kind == "says":
            return bool(bits >> statement[1] & 1) == holds(statement[2], bits)
        a, b = holds(statement[1], bits), holds(statement[2], bits)
        return {"and": a and b, "or": a or b, "implies": (not a) or b, "iff": a == b}[kind]

    for _, statement in task.answer["statements"]:
        assert [holds(statement, bits) for bits in range(1 << n)] == list(truth_vector(statement, n))
    consistent = [
        bits
        for bits in range(1 << n)
        if all(bool(bits >> s & 1) == holds(st, bits) for s, st in task.answer["statements"])
    ]
    assert len(consistent) == 1


def test_answers_in_any_order_and_wording_are_read():
    task = GENERATOR.generate(1, 0.5)
    names, roles = task.answer["names"], task.answer["roles"]
    lines = "\n".join(f"{name}: {roles[name].upper()}" for name in reversed(names))
    assert VERIFIER.verify(task, f"<think>hmm</think>Therefore:\n<answer>{lines}</answer>").correct
    listed = "; ".join(f"({i}) {name} — {roles[name]}s" for i, name in enumerate(names))
    assert VERIFIER.verify(task, f"<answer>{listed}</answer>").correct


@pytest.mark.parametrize(
    "block,problem",
    [
        ("Alice is a knight or a knave", "one role word"),
        ("Alice and Bruno are knights", "one role word"),
        ("Alice Bruno knight", "more than one"),
        ("a knight", "names nobody"),
        ("Alice is a knight, Alice is a knave", "both roles"),
        ("Alice is not a knave", "negates"),
        ("Bruno isn't a knight", "negates"),
        ("Alice is never a knave", "negates"),
    ],
)
def test_hedges_and_contradictions_are_format_errors(block, problem):
    roles, reason = read_roles(block, ["Alice", "Bruno"])
    assert roles is None and problem in reason


def test_partial_credit_is_opt_in_and_below_one():
    task = GENERATOR.generate(2, 1.0)
    wrong = GENERATOR.wrong_response(task)
    assert VERIFIER.verify(task, wrong).reward == 0
    partial = KnightsKnavesVerifier(partial=True)
    people = len(task.answer["names"])
    knights = sum(role == "knight" for role in task.answer["roles"].values())
    constant = max(knights, people - knights)  # what everyone-a-knight or everyone-a-knave gets right
    baseline = max(constant, right_turns(people, 2))  # ... or what a coin flip per person exceeds 5 % of the time
    verdict = partial.verify(task, wrong)
    assert verdict.details["chance_right"] == baseline
    assert verdict.reward == pytest.approx(max(0, people - 1 - baseline) / (people - baseline))
    assert not verdict.correct and verdict.reward < 1
    for seed in range(40):  # a constant answer earns nothing
        task = GENERATOR.generate(seed, 0.5)
        for role in ("knight", "knave"):
            text = "\n".join(f"{name} is a {role}" for name in task.answer["names"])
            assert partial.verify(task, f"<answer>{text}</answer>").reward in (0.0, 1.0)


@pytest.mark.parametrize("difficulty", [0.5, 0.75, 1.0])
def test_partial_credit_pays_guesses_no_more_than_their_exact_hits(difficulty):
    """Red team S9-F2: answers that ignore the statements ("the first a knight, the rest
    knaves", a coin per person) averaged 0.08-0.15 with the constant answer as the only
    baseline; above chance they earn about what their rare exact hits earn."""
    partial = KnightsKnavesVerifier(partial=True)
    rng = random.Random(7)
    extra = {"first-knight": 0.0, "coin": 0.0}
    seeds = range(200)
    for seed in seeds:
        task = GENERATOR.generate(seed, difficulty)
        names = task.answer["names"]
        guesses = {
            "first-knight": ["knight"] + ["knave"] * (len(names) - 1),
            "coin": [rng.choice(["knight", "knave"]) for _ in names],
        }
        for strategy, roles in guesses.items():
            text = "\n".join(f"{name} is a {role}" for name, role in zip(names, roles))
            verdict = partial.verify(task, f"<answer>{text}</answer>")
            extra[strategy] += verdict.reward - float(verdict.correct)
    for strategy, total in extra.items():
        assert total / len(seeds) < 0.03, (strategy, total / len(seeds))


def test_family_attacks_score_zero_and_bounds_hold():
    for seed in range(10):
        task = GENERATOR.generate(seed, 0.6)
        attacks = GENERATOR.attacks(task)
        assert len(attacks) >= 8
        for name, response in attacks:
            assert VERIFIER.verify(task, response).reward == 0, name
    for response in ("<answer>" + "Alice is a knight, " * 100_000 + "</answer>", "x" * 5_000_000):
        assert VERIFIER.verify(task, response).reward == 0


def test_symmetric_kinds_are_refused_with_the_fix():
    with pytest.raises(ValueError, match="add one of"):
        GENERATOR.generate(0, 0.0, kinds="is,not")


def test_search_effort_rises_with_the_knob():
    medians = [
        statistics.median(GENERATOR.generate(s, d).meta["search_nodes"] for s in range(30))
        for d in (0.0, 0.25, 0.5, 0.75, 1.0)
    ]
    assert all(a < b for a, b in zip(medians, medians[1:])), medians


def test_same_bytes_in_another_process():
    code = "import rlvr; print(rlvr.make_task('KnightsKnaves-v0', 9, 0.7).to_json())"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert other == rlvr.make_task("KnightsKnaves-v0", 9, 0.7).to_json()


def marker_guess(task, phrase: str, marked: str) -> dict[str, str]:
    """Roles from a surface phrase alone: ``marked`` for an inhabitant any of whose statements
    contains ``phrase``, the other role for the rest."""
    other = "knave" if marked == "knight" else "knight"
    lines = task.prompt.splitlines()
    return {
        name: marked if any(line.startswith(f"- {name} says") and phrase in line for line in lines) else other
        for name in task.answer["names"]
    }


@pytest.mark.parametrize("difficulty", [0.0, 0.25, 0.5, 0.75, 1.0])
def test_negation_and_other_wrappers_do_not_mark_a_role(difficulty):
    """Red team s13 F6: statements were negated exactly when they had the wrong truth for the
    speaker, so "It is not true that" marked knaves (d = .5: "negated → knave" solved 0.126
    against chance 0.0625) and at d = 0, where only a denied "and" could pin a knight down,
    knights (0.48 against 0.25). The wrapper is now a fair coin and the leaves are drawn to
    fit: a phrase rule, either way round, solves at most chance + 2.5 binomial σ and gets
    about half of the people right."""
    seeds = range(600)
    tasks = [GENERATOR.generate(seed, difficulty) for seed in seeds]
    people = len(tasks[0].answer["names"])
    chance = 0.5**people
    bound = chance + 2.5 * (chance * (1 - chance) / len(seeds)) ** 0.5
    for phrase in ("It is not true that", " is not a "):
        for marked in ("knave", "knight"):
            solved = right = 0
            for task in tasks:
                guess = marker_guess(task, phrase, marked)
                solved += guess == task.answer["roles"]
                right += sum(guess[name] == role for name, role in task.answer["roles"].items())
            assert solved / len(seeds) <= bound, (phrase, marked, solved / len(seeds), bound)
            assert abs(right / (people * len(seeds)) - 0.5) < 0.04, (phrase, marked, right / (people * len(seeds)))


def _truth(task) -> int:
    return sum(1 << i for i, name in enumerate(task.answer["names"]) if task.answer["roles"][name] == "knight")


@pytest.mark.parametrize("difficulty", [0.0, 0.25, 0.5, 0.75, 1.0])
def test_logic_free_readings_solve_no_more_than_a_guess(difficulty):
    """Red team s19 F1: the leaves are drawn to fit the speaker's role, so a claim under "and"
    is true 2/3 of the time and one under "or" 1/3, and believing each claim by where it sits
    (no logic at all) solved 0.42 / 0.35 / 0.28 / 0.098 / 0.028 of puzzles against chance 0.25 /
    0.125 / 0.0625 / 0.0156 / 0.0039. Puzzles those readings solve are now kept only as often as
    holds each to chance: on 600 fresh seeds each of the four, s13's "a denier is a knave" both
    ways, and the first with any one
    person flipped (second pass: screening exact hits alone moved them onto these
    neighbours: "flip the least sure person" solved 0.26 / 0.18 / 0.077 at d = .25 / .5 /
    .75), solves at most chance + 3
    binomial σ -- and on the same configuration's unscreened draws the strongest of them solves
    well above that (so this test can fail)."""
    seeds = range(20_000, 20_600)
    tasks = [GENERATOR.generate(seed, difficulty) for seed in seeds]
    people = len(tasks[0].answer["names"])
    chance = 0.5**people
    bound = chance + 3 * (chance * (1 - chance) / len(seeds)) ** 0.5
    solved = [0] * (READERS + people)
    for task in tasks:
        guesses = face_value_guesses([tuple(item) for item in task.answer["statements"]], people)
        for reader, guess in enumerate(guesses):
            solved[reader] += guess == _truth(task)
    assert max(solved) / len(seeds) <= bound, (solved, bound)
    params = GENERATOR.resolve(difficulty, {})
    rng = random.Random(f"power {difficulty}")
    raw = unique = 0
    while unique < 600:
        _, _, truth, statements, solutions = GENERATOR.draw_puzzle(
            rng, people, params["depth"], params["kinds"].split(","), params["statements"]
        )
        if len(solutions) == 1:
            unique += 1
            raw += truth == face_value_guesses(statements, people)[0]
    if difficulty < 1.0:  # at d = 1 the raw rate (~0.03) is within reach of the bound's noise
        assert raw / unique > bound + 2 * (chance * (1 - chance) / unique) ** 0.5, (raw / unique, bound)
