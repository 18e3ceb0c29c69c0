"""SingleTurnEnv: one task, one answer, one verdict — any generator composed with any verifier.

Observation  ``str`` (the prompt) for text envs; ``{"text": str, "image": uint8[H, W, 3]}`` for
             visual envs, the task's first image fitted onto a fixed ``image_size`` canvas.
Action       ``str``: the model's whole response (``FreeText``: any string).
Reward       ``Verdict.reward`` in [0, 1] from the family's verifier.
Episode end  Always after one step: ``terminated=True, truncated=False``;
             ``info["verdict"]`` holds the Verdict, ``info["task"]`` the Task (its ``answer``
             is the reference; ``rlvr.solve(info["task"])`` a response that scores 1).
             Stepping again before ``reset`` raises Gymnasium's ``ResetNeeded``: a response is
             never scored twice.
Arguments    ``env_id`` (set by registration), ``difficulty`` (0–1), ``image_size`` (H, W) for
             visual envs, ``render_mode`` ("ansi" for text, "rgb_array" for visual), the
             generator's constructor options (e.g. ``dataset=``), the verifier's options
             (e.g. ``shortest=True``), and any task parameter, which wins over the knob.
Reset        ``reset(seed=s)`` makes the task of seed s; ``options={"difficulty": d}`` changes
             the knob for this episode and ``options={"hint": h}`` the hint level (``hint=`` of
             the constructor, default 0: none; see ``TaskGenerator.with_hint``); ``options={"task": task}``
             replays a Task (or its dict) exactly, as a GRPO group needs (a task of another
             family, or of a sibling env whose observation is of the other kind, text or
             image, is refused: ValueError).
Docs         ``env.unwrapped.__doc__`` is the family's contract (its generator module's
             docstring: task, answer format, verifier, difficulty table).
"""

from __future__ import annotations

import weakref
from typing import Any

import gymnasium as gym
import numpy as np
from PIL import Image

from rlvr.core import Task, Verdict, canonical_difficulty, check_hint
from rlvr.envs.registry import (
    build_generator,
    build_verifier,
    check_replayable,
    family_doc,
    get_spec,
    split_options,
)
from rlvr.envs.spaces import FreeText, observation_space_for

SEED_SPACE = 2**31 - 1


def fit_to_canvas(image: Image.Image, size: tuple[int, int]) -> np.ndarray:
    """Scale ``image`` to fit an H×W canvas keeping its aspect ratio, centred on white."""
    height, width = size
    image = image.convert("RGB")
    scale = min(width / image.width, height / image.height)
    new_size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    if new_size != image.size:
        image = image.resize(new_size, Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    canvas.paste(image, ((width - new_size[0]) // 2, (height - new_size[1]) // 2))
    return np.asarray(canvas, dtype=np.uint8)


class SingleTurnEnv(gym.Env):
    """One task, one response, one verdict: the Gymnasium env of every single-turn rlvr family.

    ``gym.make("rlvr/Maze-v0", difficulty=0.4)`` builds one; see this module's docstring for the
    spaces, reward and options. Each instance's ``__doc__`` is its family's contract.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 1}

    def __init__(
        self,
        env_id: str,
        difficulty: float = 0.5,
        image_size: tuple[int, int] = (512, 512),
        render_mode: str | None = None,
        hint: float = 0.0,
        **options: Any,
    ):
        self.spec_entry = get_spec(env_id)
        self.env_id = self.spec_entry.id
        self.__doc__ = family_doc(self.spec_entry)
        self.difficulty = canonical_difficulty(difficulty)
        self.hint = check_hint(hint)
        self.image_size = tuple(image_size)
        generator_kwargs, verifier_kwargs, self.params = split_options(self.spec_entry, options)
        self.generator = build_generator(self.spec_entry, **generator_kwargs)
        self.verifier = build_verifier(self.spec_entry, **verifier_kwargs)
        # the verifier's workers (a code env's sandbox processes and their descriptors) end with the
        # env: at close(), or when an env nobody closed is garbage collected, or at exit
        self._release_verifier = weakref.finalize(self, _close_verifier, self.verifier)
        if self.params:  # fail at construction, not at the first reset, on unknown parameters
            self.generator.table.resolve(self.difficulty, self.params)
        self.visual = self.spec_entry.visual
        self.observation_space = observation_space_for(self.visual, self.image_size)
        self.action_space = FreeText()
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}")
        self.render_mode = render_mode
        self.task: Task | None = None
        self.terminated = False

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        options = options or {}
        given = options.get("task")
        if given is not None:
            task = given if isinstance(given, Task) else Task.from_dict(given)
            check_replayable(task.env_id, self.spec_entry)
            self.task = task
        else:
            difficulty = canonical_difficulty(options.get("difficulty", self.difficulty))
            task_seed = seed if seed is not None else int(self.np_random.integers(SEED_SPACE))
            task = self.generator.generate(task_seed, difficulty, **self.params)
            self.task = self.generator.with_hint(task, options.get("hint", self.hint))
        self.terminated = False
        return self._observe(self.task), {"task": self.task, "task_id": self.task.id}

    def step(self, action: str):
        if self.task is None:
            raise gym.error.ResetNeeded("Cannot call env.step() before calling env.reset()")
        if self.terminated:
            raise gym.error.ResetNeeded(
                "Cannot call env.step() after the episode terminated (one response per task); call env.reset()"
            )
        verdict: Verdict = self.verifier.verify(self.task, action)
        self.terminated = True
        info = {"verdict": verdict, "task": self.task, "task_id": self.task.id}
        return self._observe(self.task), float(verdict.reward), True, False, info

    def render(self):
        if self.task is None or self.render_mode is None:
            return None
        if self.render_mode == "ansi":
            return self.task.prompt
        if self.visual and self.task.images:
            return fit_to_canvas(self.task.images[0], self.image_size)
        return np.full((*self.image_size, 3), 255, dtype=np.uint8)

    def close(self):
        self._release_verifier()

    def _observe(self, task: Task):
        if not self.visual:
            return task.prompt
        if task.images:
            image = fit_to_canvas(task.images[0], self.image_size)
        else:
            image = np.full((*self.image_size, 3), 255, dtype=np.uint8)
        return {"text": task.prompt, "image": image}


def _close_verifier(verifier: Any) -> None:
    """``verifier.close()`` where it has one (SingleTurnEnv's finalizer: it must not hold the env)."""
    closer = getattr(verifier, "close", None)
    if closer is not None:
        closer()
