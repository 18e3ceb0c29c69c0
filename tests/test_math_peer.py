"""rlvr's math verdicts against other graders' own test suites (../shared/data/math/
peer_grader_cases.jsonl, issue 15): the agreement floor on unflagged cases, no false accepts,
no slow case, and the per-convention behaviour of flagged cases with the options that
reproduce the common alternatives."""

from collections import Counter, defaultdict

import pytest

from rlvr.verifiers.math import MathVerifier
from rlvr.verifiers.math_peer_cases import DEFAULT_PATH, load_peer_cases, peer_response, peer_task

pytestmark = pytest.mark.skipif(
    not DEFAULT_PATH.exists(), reason=f"peer grader cases not found at {DEFAULT_PATH} (shared data folder absent)"
)

UNFLAGGED_AGREEMENT_FLOOR = 0.98  # issue 15's goal; measured 0.982 (433 of 441; benchmarks/results/math.json)


@pytest.fixture(scope="module")
def judged():
    verifier = MathVerifier()
    try:
        return [(case, verifier.verify(peer_task(case), peer_response(case))) for case in load_peer_cases()]
    finally:
        verifier.close()


def test_unflagged_agreement_and_no_false_accepts(judged):
    unflagged = [(case, verdict) for case, verdict in judged if case.flag is None]
    assert len(unflagged) >= 400
    agreement = sum(verdict.correct == case.expected for case, verdict in unflagged) / len(unflagged)
    false_accepts = [case.id for case, verdict in unflagged if verdict.correct and not case.expected]
    assert not false_accepts, false_accepts
    assert agreement >= UNFLAGGED_AGREEMENT_FLOOR, agreement


def test_flagged_cases_by_convention(judged):
    """Report (and pin) how each convention's cases fare under the defaults; a false accept on a
    flagged case is allowed only where that grader's rule is looser than ours."""
    by_flag: dict[str, Counter] = defaultdict(Counter)
    for case, verdict in judged:
        if case.flag:
            by_flag[case.flag]["agree" if verdict.correct == case.expected else "differ"] += 1
    print({flag: dict(counts) for flag, counts in by_flag.items()})
    assert set(by_flag) <= {"config", "format", "convention", "suspect"}
    assert sum(sum(c.values()) for c in by_flag.values()) == sum(1 for case, _ in judged if case.flag) >= 50
    # our defaults: exact numbers, unordered bare lists, units ignored; a grader's looser rule
    # (tolerance, ordered lists, format contracts) is where we differ
    # measured: convention 2/23, format 14/22, config 6/10 agree (an inequality in one variable
    # is the interval it describes: "-2 \le x \le 7" answers "x \in [-2,7]", where one grader's
    # convention says no); the suspect case (1 - 1/e "equals" 1 + 1/e) is rejected, as the
    # mathematics says
    assert by_flag["convention"]["agree"] >= 2 and by_flag["format"]["agree"] >= 14 and by_flag["config"]["agree"] >= 6
    assert by_flag["suspect"] == Counter(differ=1)


def test_options_reproduce_other_conventions():
    cases = {case.id: case for case in load_peer_cases()}
    strict_order, loose, strict_units = (
        MathVerifier(ordered=True),
        MathVerifier(tolerance=1e-3),
        MathVerifier(units="strict"),
    )
    try:
        for case_id in ("math-002", "math-009"):  # ordered lists
            case = cases[case_id]
            assert strict_order.verify(peer_task(case), peer_response(case)).correct == case.expected
        for case_id in ("mario-eval-010", "mario-eval-011", "mindspeed--005"):  # numeric tolerance
            case = cases[case_id]
            assert loose.verify(peer_task(case), peer_response(case)).correct == case.expected, case_id
        for case_id in ("mario-eval-032", "mario-eval-033"):  # "10cm" is not 10 when units count
            case = cases[case_id]
            assert strict_units.verify(peer_task(case), peer_response(case)).correct == case.expected, case_id
    finally:
        for verifier in (strict_order, loose, strict_units):
            verifier.close()


def test_most_cases_take_the_native_path(judged):
    paths = Counter(verdict.details.get("path") for _, verdict in judged)
    assert paths["native"] + paths["fast"] + paths["screen"] >= 0.85 * len(judged), paths  # measured 434 of 497
