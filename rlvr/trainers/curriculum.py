"""Data selection: per-env adaptive difficulty, and task choice from Beta posteriors.

DifficultyController  One per env. After each step it takes the env's pass rate (fraction of
                      its responses scored correct), keeps an exponential moving average
                      (weight ``smoothing`` on the new value), and when the average leaves the
                      target band [``low``, ``high``] moves the difficulty one ``step`` towards
                      it (up when too easy, down when too hard), clamped to [``min_difficulty``,
                      ``max_difficulty``]. After a move the average restarts, so one move is
                      judged on fresh evidence before the next.
BetaTaskSelector      One pool of candidate tasks (seeds) per (env, difficulty). Each task has a
                      Beta(1 + successes, 1 + failures) posterior of its pass probability p.
                      To choose n tasks it draws p̃ from every posterior and takes the n largest
                      p̃(1 − p̃): tasks whose outcome is most uncertain give GRPO the most signal
                      (a group's reward variance is p(1 − p)), and because the draw comes from
                      the posterior, evidence decides how much to trust a task's estimate —
                      unseen tasks draw anywhere (exploration), well-measured ones draw close to
                      their estimate. Tasks measured at least ``min_evidence`` times whose
                      posterior mean is within ``retire_margin`` of 0 or 1 retire; fresh seeds
                      refill the pool.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SEED_SPACE = 2**31 - 1


@dataclass
class DifficultyController:
    difficulty: float = 0.0
    low: float = 0.3
    high: float = 0.7
    step: float = 0.05
    smoothing: float = 0.5
    min_difficulty: float = 0.0
    max_difficulty: float = 1.0
    average: float | None = None
    moves: int = 0

    def __post_init__(self):
        if not 0.0 <= self.low < self.high <= 1.0:
            raise ValueError(f"target band must satisfy 0 ≤ low < high ≤ 1, got [{self.low}, {self.high}]")
        if not 0.0 < self.smoothing <= 1.0:
            raise ValueError(f"smoothing must be in (0, 1], got {self.smoothing}")
        self.difficulty = self.clamp(self.difficulty)

    def clamp(self, difficulty: float) -> float:
        return round(min(self.max_difficulty, max(self.min_difficulty, difficulty)), 4)

    def update(self, pass_rate: float) -> float:
        """Record one step's pass rate; returns the (possibly moved) difficulty."""
        self.average = pass_rate if self.average is None else (1 - self.smoothing) * self.average + self.smoothing * pass_rate
        target = self.difficulty
        if self.average > self.high:
            target = self.clamp(self.difficulty + self.step)
        elif self.average < self.low:
            target = self.clamp(self.difficulty - self.step)
        if target != self.difficulty:
            self.difficulty, self.average, self.moves = target, None, self.moves + 1
        return self.difficulty

    def state_dict(self) -> dict:
        return {"difficulty": self.difficulty, "average": self.average, "moves": self.moves}

    def load_state_dict(self, state: dict) -> None:
        self.difficulty, self.average, self.moves = float(state["difficulty"]), state["average"], int(state["moves"])


@dataclass
class BetaTaskSelector:
    pool_size: int = 64
    min_evidence: int = 8
    retire_margin: float = 0.05
    pools: dict = field(default_factory=dict)  # "env|difficulty" -> {seed: [alpha, beta]}
    retired: int = 0

    @staticmethod
    def key(env_id: str, difficulty: float) -> str:
        return f"{env_id}|{difficulty:.4f}"

    def select(self, env_id: str, difficulty: float, n: int, rng: np.random.Generator) -> list[int]:
        """``n`` task seeds for this env at this difficulty (fresh seeds fill the pool first)."""
        pool = self.pools.setdefault(self.key(env_id, difficulty), {})
        while len(pool) < max(self.pool_size, n):
            pool.setdefault(int(rng.integers(SEED_SPACE)), [1.0, 1.0])
        seeds = list(pool)
        posterior = np.array([pool[s] for s in seeds])
        draws = rng.beta(posterior[:, 0], posterior[:, 1])
        priority = draws * (1.0 - draws)
        order = np.argsort(-priority, kind="stable")[:n]
        return [seeds[i] for i in order]

    def update(self, env_id: str, difficulty: float, seed: int, successes: float, failures: float) -> None:
        pool = self.pools.setdefault(self.key(env_id, difficulty), {})
        alpha, beta = pool.get(int(seed), [1.0, 1.0])
        alpha, beta = alpha + successes, beta + failures
        mean = alpha / (alpha + beta)
        if alpha + beta - 2 >= self.min_evidence and (mean < self.retire_margin or mean > 1 - self.retire_margin):
            pool.pop(int(seed), None)
            self.retired += 1
        else:
            pool[int(seed)] = [alpha, beta]

    def posterior(self, env_id: str, difficulty: float, seed: int) -> tuple[float, float]:
        alpha, beta = self.pools.get(self.key(env_id, difficulty), {}).get(int(seed), [1.0, 1.0])
        return float(alpha), float(beta)

    def state_dict(self) -> dict:
        return {"pools": {k: {str(s): list(v) for s, v in pool.items()} for k, pool in self.pools.items()}, "retired": self.retired}

    def load_state_dict(self, state: dict) -> None:
        self.pools = {k: {int(s): list(v) for s, v in pool.items()} for k, pool in state["pools"].items()}
        self.retired = int(state["retired"])
