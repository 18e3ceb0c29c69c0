"""The trainer's hint schedules: GHPO's retry ladder and SEELE's fitted pass-rate curve."""

from __future__ import annotations

import math
import random

import pytest

from rlvr.trainers.hints import HintConfig, HintSchedule, PassRateCurve


def test_the_curve_fit_recovers_a_known_logistic_and_inverts_it():
    rng = random.Random(0)
    a, b = -3.0, 5.0
    curve = PassRateCurve()
    for _ in range(400):
        level = rng.choice([0.0, 0.25, 0.5, 0.75, 1.0])
        p = 1 / (1 + math.exp(-(a + b * level)))
        correct = sum(rng.random() < p for _ in range(8))
        curve.add(level, correct, 8)
    fitted_a, fitted_b = curve.fit()
    assert abs(fitted_a - a) < 0.3 and abs(fitted_b - b) < 0.5
    level = curve.level_for(0.5)
    assert abs(level - 0.6) < 0.06 and abs(curve.predict(level) - 0.5) < 1e-6


def test_one_group_does_not_swing_the_fit_and_levels_stay_in_range():
    curve = PassRateCurve()
    assert 0.0 <= curve.level_for(0.5) <= 1.0  # the prior alone
    curve.add(0.0, 0, 8)
    assert 0.0 < curve.level_for(0.5) <= 1.0  # all wrong without a hint: some hint
    easy = PassRateCurve()
    easy.add(0.0, 8, 8)
    assert easy.level_for(0.5) == 0.0  # solved without a hint: none


def test_ghpo_climbs_the_ladder_and_seele_targets_the_pass_rate():
    ghpo = HintSchedule(HintConfig("ghpo"))
    assert ghpo.first_level("rlvr/Maze-v0", 0.0) == 0.0
    ladder, level = [], 0.0
    while (level := ghpo.retry_level(level)) is not None:
        ladder.append(level)
    assert ladder == [0.25, 0.5, 0.75, 1.0]
    seele = HintSchedule(HintConfig("seele", target=0.5))
    for _ in range(30):
        seele.record("rlvr/Maze-v0", 0.0, 0.0, 0, 8)
        seele.record("rlvr/Maze-v0", 0.0, 1.0, 8, 8)
    assert 0.2 < seele.first_level("rlvr/Maze-v0", 0.0) < 0.8
    assert seele.first_level("rlvr/Maze-v0", 0.5) == pytest.approx(seele.first_level("rlvr/Math-v0", 0.5))
    assert HintSchedule(HintConfig()).first_level("x", 0.0) == 0.0 and not HintSchedule(HintConfig()).active


@pytest.mark.parametrize(
    "config,match",
    [
        (HintConfig("always"), "schedule"),
        (HintConfig("ghpo", levels=(0.5, 0.25)), "levels"),
        (HintConfig("seele", target=1.0), "target"),
    ],
)
def test_bad_configs_are_refused_in_one_line(config, match):
    with pytest.raises(ValueError, match=match):
        HintSchedule(config)
