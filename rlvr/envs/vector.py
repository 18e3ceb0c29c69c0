"""TaskVectorEnv: N single-turn rlvr envs reset and stepped as one batch, for LLM loops.

    envs = gym.make_vec("rlvr/Maze-v0", num_envs=8, difficulty=0.3)        # this class
    envs = TaskVectorEnv(["rlvr/Math-v0", "rlvr/Maze-v0", "rlvr/SAT-v0"])   # mixed envs
    prompts, infos = envs.reset(seed=0)
    _, rewards, terminated, truncated, infos = envs.step(responses)

Spaces       ``single_observation_space`` is the sub-envs' (``FreeText``, or ``Dict(text, image)``
             for visual envs); ``observation_space`` its Gymnasium batch: a ``Tuple`` of N texts,
             or ``Dict(text=Tuple, image=Box(N, H, W, 3))``. Actions: a sequence of N strings.
             Text and visual envs cannot be mixed (their observations have different spaces).
Reset        ``reset(seed=s)`` gives sub-env i the task of seed ``s + i`` (a list gives each its
             own seed; None draws them from the vector env's RNG). ``options``:
             ``{"difficulty": d or [d_i]}``; ``{"tasks": [Task or dict, …]}`` replays tasks exactly
             (N of them, of any family whose observation is this env's kind, text or image;
             GRPO repeats one task G times this way).
Step         Every sub-env's response is verified in parallel workers (``backend="thread"``, the
             default: verifiers that run code already do it in their own sandboxed processes;
             ``"process"`` for pure-Python verifiers under heavy load; ``"serial"``) by
             ``rlvr.scoring``: a verification still running its verifier's ``deadline_s`` plus a
             grace after it started gets reward 0 and ``details["timed_out"]`` (its process is
             killed; a thread cannot be, and is abandoned). Returns
             ``rewards`` float64[N], ``terminated`` all True, ``truncated`` all False and ``infos``
             with ``verdict``, ``correct``, ``format_ok``, ``task`` and ``task_id`` arrays (and
             Gymnasium's ``_key`` masks). Tasks are generated in the same workers.
Episode end  Every episode ends after its one step; autoreset is DISABLED (Gymnasium's
             ``AutoresetMode.DISABLED``): call ``reset`` for the next batch; stepping again
             raises ``ResetNeeded``.
Arguments    ``env_id`` (one id, or N ids for a mixed batch), ``num_envs`` (with one id),
             ``difficulty`` (one or N values), ``workers`` (default: CPU count), ``backend``,
             ``image_size`` for visual envs, and generator/verifier options and task parameters
             as ``gym.make`` takes them (each sub-env uses those its env knows).

Gymnasium's own ``gym.make_vec(id, n, vectorization_mode="sync")`` (or ``"async"`` with
``vector_kwargs={"shared_memory": False}``) works too; pass ``"autoreset_mode":
AutoresetMode.DISABLED`` in ``vector_kwargs`` as well, or (Gymnasium 1.4) the async env's next
step after ``reset`` still autoresets and ignores the responses. Those build a generator and a
verifier per sub-env; this class shares one per env.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space, concatenate, create_empty_array

from rlvr import api
from rlvr.core import Task, Verdict, canonical_difficulty, check_hint
from rlvr.envs.registry import SINGLE_TURN_ENTRY_POINT, check_replayable, family_doc, get_spec, split_options
from rlvr.envs.single_turn import SEED_SPACE, fit_to_canvas
from rlvr.envs.spaces import FreeText, observation_space_for
from rlvr.scoring import Scorer

BACKENDS = ("thread", "process", "serial")


def _make(job: tuple[str, dict, int, float, dict, float]) -> Task:
    env_id, generator_kwargs, seed, difficulty, params, hint = job
    generator = api.make_generator(env_id, **generator_kwargs)
    return generator.with_hint(generator.generate(seed, difficulty, **params), hint)


class TaskVectorEnv(VectorEnv):
    """N single-turn rlvr envs (one env id or a mix) reset and stepped as one batch, verified in
    parallel workers; what ``gym.make_vec("rlvr/…", num_envs=N)`` returns. The module docstring
    is the contract (spaces, seeds, options, autoreset disabled); ``__doc__`` of an instance is
    its first env's family contract."""

    metadata = {"autoreset_mode": AutoresetMode.DISABLED}

    def __init__(
        self,
        env_id: str | Sequence[str],
        num_envs: int | None = None,
        difficulty: float | Sequence[float] = 0.5,
        workers: int | None = None,
        backend: str = "thread",
        image_size: tuple[int, int] = (512, 512),
        hint: float | Sequence[float] = 0.0,
        **options: Any,
    ):
        env_ids = [env_id] * (num_envs or 1) if isinstance(env_id, str) else list(env_id)
        if not env_ids or (num_envs is not None and num_envs != len(env_ids)):
            raise ValueError(f"num_envs={num_envs} does not match {len(env_ids)} env ids")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        specs = [get_spec(e) for e in env_ids]
        env_ids = [spec.id for spec in specs]  # "Maze-v0" → "rlvr/Maze-v0"
        if any(spec.entry_point != SINGLE_TURN_ENTRY_POINT for spec in specs):
            raise ValueError(
                "TaskVectorEnv batches single-turn envs; use gym.make_vec(..., vectorization_mode='sync') for "
                "multi-turn ones"
            )
        if len({spec.visual for spec in specs}) > 1:
            raise ValueError("text and visual envs have different observation spaces and cannot share one vector env")
        self.env_ids = env_ids
        self.__doc__ = family_doc(specs[0])
        self.num_envs = len(env_ids)
        self.difficulties = self._per_env(difficulty)
        self.hints = self._per_env(hint, check_hint)
        self.split = [split_options(spec, options) for spec in specs]
        for (generator_kwargs, _, params), spec in zip(self.split, specs):
            if params:  # unknown parameters fail here, not at the first reset
                api.make_generator(spec.id, **generator_kwargs).table.resolve(self.difficulties[0], params)
        self.visual = specs[0].visual
        self.image_size = tuple(image_size)
        self.single_observation_space = observation_space_for(self.visual, self.image_size)
        self.single_action_space = FreeText()
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.backend = backend
        self.workers = workers or os.cpu_count() or 1
        self.scorer = Scorer(self.workers, backend)
        self.tasks: list[Task] = []
        self._live = False

    def _per_env(self, value: float | Sequence[float], check=canonical_difficulty) -> list[float]:
        """One checked value per env (difficulty, or hint level with ``check_hint``)."""
        values = [value] * self.num_envs if np.isscalar(value) else list(value)
        if len(values) != self.num_envs:
            raise ValueError(f"expected one value or {self.num_envs}, got {len(values)}")
        return [check(v) for v in values]

    def reset(self, *, seed: int | Sequence[int] | None = None, options: dict | None = None):
        super().reset(seed=seed if isinstance(seed, int) else None)
        options = options or {}
        if options.get("tasks") is not None:
            given = list(options["tasks"])
            if len(given) != self.num_envs:
                raise ValueError(f"options['tasks'] needs {self.num_envs} tasks, got {len(given)}")
            tasks = [t if isinstance(t, Task) else Task.from_dict(t) for t in given]
            for task in tasks:  # any family (a GRPO group may fill every slot with one task), this kind
                check_replayable(task.env_id, get_spec(self.env_ids[0]), any_family=True, option="tasks")
            self.tasks = tasks
        else:
            seeds = self._seeds(seed)
            difficulties = self._per_env(options["difficulty"]) if "difficulty" in options else self.difficulties
            hints = self._per_env(options["hint"], check_hint) if "hint" in options else self.hints
            jobs = [
                (env_id, generator_kwargs, s, d, params, h)
                for env_id, (generator_kwargs, _, params), s, d, h in zip(
                    self.env_ids, self.split, seeds, difficulties, hints
                )
            ]
            self.tasks = self.scorer.map(_make, jobs)
        self._live = True
        return self._observe(), self._infos({"task": self.tasks, "task_id": [t.id for t in self.tasks]})

    def _seeds(self, seed: int | Sequence[int] | None) -> list[int]:
        if seed is None:
            return [int(s) for s in self.np_random.integers(SEED_SPACE, size=self.num_envs)]
        if isinstance(seed, (int, np.integer)):
            return [int(seed) + i for i in range(self.num_envs)]
        seeds = [int(s) for s in seed]
        if len(seeds) != self.num_envs:
            raise ValueError(f"expected {self.num_envs} seeds, got {len(seeds)}")
        return seeds

    def step(self, actions: Sequence[Any]):
        if not self._live:
            raise gym.error.ResetNeeded("every episode has ended; call reset() for the next batch")
        actions = list(actions)
        if len(actions) != self.num_envs:
            raise ValueError(f"expected {self.num_envs} responses, got {len(actions)}")
        jobs = [
            (task, action, verifier_kwargs)
            for task, action, (_, verifier_kwargs, _) in zip(self.tasks, actions, self.split)
        ]
        verdicts: list[Verdict] = self.scorer.score(jobs)
        self._live = False
        rewards = np.array([v.reward for v in verdicts], dtype=np.float64)
        infos = self._infos(
            {
                "verdict": verdicts,
                "correct": [v.correct for v in verdicts],
                "format_ok": [v.format_ok for v in verdicts],
                "task": self.tasks,
                "task_id": [t.id for t in self.tasks],
            }
        )
        return self._observe(), rewards, np.ones(self.num_envs, dtype=bool), np.zeros(self.num_envs, dtype=bool), infos

    def _observe(self):
        if not self.visual:
            observations = [task.prompt for task in self.tasks]
        else:
            blank = np.full((*self.image_size, 3), 255, dtype=np.uint8)
            observations = [
                {"text": t.prompt, "image": fit_to_canvas(t.images[0], self.image_size) if t.images else blank}
                for t in self.tasks
            ]
        return concatenate(
            self.single_observation_space,
            observations,
            create_empty_array(self.single_observation_space, self.num_envs),
        )

    def _infos(self, values: dict[str, list]) -> dict:
        infos = {}
        for key, items in values.items():
            array = (
                np.empty(self.num_envs, dtype=object)
                if not isinstance(items[0], (bool, np.bool_))
                else np.zeros(self.num_envs, dtype=bool)
            )
            array[:] = items
            infos[key], infos[f"_{key}"] = array, np.ones(self.num_envs, dtype=bool)
        return infos

    def close_extras(self, **kwargs: Any):
        self.scorer.close()
