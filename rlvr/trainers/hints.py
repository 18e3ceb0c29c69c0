"""Hint schedules: how much of a task's guidance (``TaskGenerator.with_hint``) the trainer shows.

Config  ``hints: {schedule: none | ghpo | seele, levels: [0.25, 0.5, 0.75, 1.0], target: 0.5}``.
none    Tasks as generated (level 0).
ghpo    Guided hybrid policy optimisation: every task is first rolled out without a hint; a
        group that scores all zero is rolled out again with the next hint level of ``levels``,
        and again, until some response succeeds or the levels run out. The group that is kept
        for the update is the last one rolled out, so the hint only enters where the model could
        not learn without it.
seele   Capability-adaptive scaffolding: one hint level per (env, difficulty), chosen so the
        predicted pass rate sits near ``target``. The prediction is a logistic curve of pass
        rate against hint level, p(h) = σ(a + b·h), fitted to the groups seen so far (every
        group adds its (level, correct, total)) by a few Newton steps on the binomial
        log-likelihood with a weak prior (a = logit of the overall pass rate, b = 4), so
        one group cannot swing it. The level is the h in [0, 1] with p(h) = target, clipped.
Logged  ``hints/mean_level`` (of the kept groups) and ``hints/hinted_share``; evaluation is
        always without hints. Checkpoints keep seele's observations (``state_dict``), so a
        resumed run goes on from the same curve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

SCHEDULES = ("none", "ghpo", "seele")
DEFAULT_LEVELS = (0.25, 0.5, 0.75, 1.0)
PRIOR_SLOPE = 4.0
PRIOR_WEIGHT = 2.0  # pseudo-trials holding the fit near the prior
NEWTON_STEPS = 25


@dataclass
class HintConfig:
    schedule: str = "none"
    levels: tuple[float, ...] = DEFAULT_LEVELS
    target: float = 0.5

    def __post_init__(self) -> None:
        if isinstance(self.levels, list):  # from YAML
            self.levels = tuple(self.levels)

    def validate(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ValueError(f"hints.schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        levels = list(self.levels)
        if not levels or any(not 0 < level <= 1 for level in levels) or levels != sorted(set(levels)):
            raise ValueError(f"hints.levels must be increasing numbers in (0, 1], got {self.levels!r}")
        if not 0 < self.target < 1:
            raise ValueError(f"hints.target must be a pass rate in (0, 1), got {self.target!r}")


@dataclass
class PassRateCurve:
    """Observed (hint level, correct, total) and the logistic fit p(h) = σ(a + b·h)."""

    observations: list[tuple[float, int, int]] = field(default_factory=list)

    def add(self, level: float, correct: int, total: int) -> None:
        self.observations.append((float(level), int(correct), int(total)))

    def fit(self) -> tuple[float, float]:
        """(a, b) maximising the binomial log-likelihood plus a Gaussian prior centred on
        (logit of the pooled pass rate, ``PRIOR_SLOPE``) with ``PRIOR_WEIGHT`` pseudo-trials."""
        correct = sum(c for _, c, _ in self.observations)
        total = sum(t for _, _, t in self.observations)
        pooled = (correct + 0.5) / (total + 1.0)
        prior = (math.log(pooled / (1 - pooled)), PRIOR_SLOPE)
        a, b = prior
        for _ in range(NEWTON_STEPS):
            ga, gb = -PRIOR_WEIGHT * (a - prior[0]), -PRIOR_WEIGHT * (b - prior[1])
            haa, hab, hbb = -PRIOR_WEIGHT, 0.0, -PRIOR_WEIGHT
            for level, c, t in self.observations:
                p = 1 / (1 + math.exp(-(a + b * level)))
                ga += c - t * p
                gb += (c - t * p) * level
                w = t * p * (1 - p)
                haa -= w
                hab -= w * level
                hbb -= w * level * level
            determinant = haa * hbb - hab * hab
            if determinant == 0:
                break
            da = (hbb * ga - hab * gb) / determinant
            db = (haa * gb - hab * ga) / determinant
            a, b = a - da, b - db
            if abs(da) + abs(db) < 1e-9:
                break
        return a, b

    def predict(self, level: float) -> float:
        a, b = self.fit()
        return 1 / (1 + math.exp(-(a + b * level)))

    def level_for(self, target: float) -> float:
        """The hint level whose predicted pass rate is ``target``, in [0, 1]."""
        a, b = self.fit()
        if b <= 1e-6:  # hints do not seem to help (yet): show none unless the task is hopeless
            return 0.0 if 1 / (1 + math.exp(-a)) >= target else 1.0
        return min(1.0, max(0.0, (math.log(target / (1 - target)) - a) / b))


class HintSchedule:
    """The chosen schedule's decisions; see the module docstring."""

    def __init__(self, config: HintConfig):
        config.validate()
        self.config = config
        self.curves: dict[tuple[str, float], PassRateCurve] = {}

    @property
    def active(self) -> bool:
        return self.config.schedule != "none"

    def first_level(self, env_id: str, difficulty: float) -> float:
        """The level a task's first rollout gets this step."""
        if self.config.schedule == "seele":
            return round(self.curve(env_id, difficulty).level_for(self.config.target), 4)
        return 0.0

    def retry_level(self, level: float) -> float | None:
        """GHPO: the next level after a group at ``level`` scored all zero (None: give up)."""
        if self.config.schedule != "ghpo":
            return None
        return next((higher for higher in self.config.levels if higher > level), None)

    def record(self, env_id: str, difficulty: float, level: float, correct: int, total: int) -> None:
        self.curve(env_id, difficulty).add(level, correct, total)

    def curve(self, env_id: str, difficulty: float) -> PassRateCurve:
        return self.curves.setdefault((env_id, round(float(difficulty), 4)), PassRateCurve())

    def state_dict(self) -> dict:
        """The curves' observations, for a checkpoint (``load_state_dict`` reads them back)."""
        return {
            "curves": [
                [env_id, difficulty, list(curve.observations)] for (env_id, difficulty), curve in self.curves.items()
            ]
        }

    def load_state_dict(self, state: dict) -> None:
        self.curves = {
            (env_id, difficulty): PassRateCurve([tuple(o) for o in observations])
            for env_id, difficulty, observations in state["curves"]
        }
