"""Data selection: per-env adaptive difficulty, and task choice from Beta posteriors.

DifficultyController  One per env. After each step it takes the env's pass rate (fraction of
                      its responses scored correct), keeps an exponential moving average
                      (weight ``smoothing`` on the new value), and when the average leaves the
                      target band [``low``, ``high``] moves the difficulty one ``step`` towards
                      it (up when too easy, down when too hard), clamped to [``min_difficulty``,
                      ``max_difficulty``]. After a move the average restarts, so one move is
                      judged on fresh evidence before the next.
BetaTaskSelector      One pool of tasks (seeds) per (env, difficulty). Each task has a Beta(α, β)
                      posterior of its pass probability p, from prior Beta(1, 1); each scored
                      group adds its successes to α and failures to β after discounting the
                      older evidence by ``evidence_discount`` (the policy keeps changing, so old
                      outcomes count less). To choose n tasks it draws p̃ from the posterior of
                      every pooled task and of n fresh seeds and takes the n largest p̃(1 − p̃):
                      tasks whose outcome is most uncertain give GRPO the most signal (a group's
                      reward variance is p(1 − p)), and because p̃ is drawn from the posterior,
                      evidence decides how far a task's estimate is trusted — fresh tasks draw
                      anywhere (exploration), well-measured ones close to their estimate. Past
                      ``pool_size`` tasks, those with the least expected signal
                      E[p(1 − p)] = αβ / ((α + β)(α + β + 1)) leave the pool (solved or hopeless).
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
        self.average = (
            pass_rate if self.average is None else (1 - self.smoothing) * self.average + self.smoothing * pass_rate
        )
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
    evidence_discount: float = 0.5
    pools: dict = field(default_factory=dict)  # "env|difficulty" -> {seed: [alpha, beta]}
    evicted: int = 0

    def __post_init__(self):
        if not 0.0 <= self.evidence_discount <= 1.0:
            raise ValueError(f"evidence_discount must be in [0, 1], got {self.evidence_discount}")

    @staticmethod
    def key(env_id: str, difficulty: float) -> str:
        return f"{env_id}|{difficulty:.4f}"

    def select(self, env_id: str, difficulty: float, n: int, rng: np.random.Generator) -> list[int]:
        """``n`` task seeds for this env at this difficulty: the n largest p̃(1 − p̃) among the
        pool and ``n`` fresh seeds (prior Beta(1, 1)), p̃ drawn from each task's posterior."""
        pool = self.pools.setdefault(self.key(env_id, difficulty), {})
        fresh = [int(s) for s in rng.integers(SEED_SPACE, size=n) if int(s) not in pool]
        candidates = list(pool) + fresh
        posterior = np.array([pool.get(s, [1.0, 1.0]) for s in candidates])
        draws = rng.beta(posterior[:, 0], posterior[:, 1])
        order = np.argsort(-(draws * (1.0 - draws)), kind="stable")[:n]
        chosen = [candidates[i] for i in order]
        for seed in chosen:
            pool.setdefault(seed, [1.0, 1.0])
        self.evict(pool, keep=set(chosen))
        return chosen

    def evict(self, pool: dict, keep: set) -> None:
        """Shrink the pool to ``pool_size``, dropping the tasks with the least expected signal
        E[p(1 − p)] = αβ / ((α + β)(α + β + 1)) first (solved and hopeless ones)."""
        excess = len(pool) - self.pool_size
        if excess <= 0:
            return
        signal = {s: a * b / ((a + b) * (a + b + 1)) for s, (a, b) in pool.items() if s not in keep}
        for seed in sorted(signal, key=lambda s: (signal[s], s))[:excess]:
            del pool[seed]
            self.evicted += 1

    def update(self, env_id: str, difficulty: float, seed: int, successes: float, failures: float) -> None:
        """Add a group's outcomes; older evidence is discounted first (the policy has moved)."""
        pool = self.pools.setdefault(self.key(env_id, difficulty), {})
        alpha, beta = pool.get(int(seed), [1.0, 1.0])
        keep = self.evidence_discount
        pool[int(seed)] = [1.0 + keep * (alpha - 1.0) + successes, 1.0 + keep * (beta - 1.0) + failures]

    def posterior(self, env_id: str, difficulty: float, seed: int) -> tuple[float, float]:
        alpha, beta = self.pools.get(self.key(env_id, difficulty), {}).get(int(seed), [1.0, 1.0])
        return float(alpha), float(beta)

    def state_dict(self) -> dict:
        return {
            "pools": {k: {str(s): list(v) for s, v in pool.items()} for k, pool in self.pools.items()},
            "evicted": self.evicted,
        }

    def load_state_dict(self, state: dict) -> None:
        self.pools = {k: {int(s): list(v) for s, v in pool.items()} for k, pool in state["pools"].items()}
        self.evicted = int(state["evicted"])
