"""Gymnasium spaces for language tasks.

``FreeText`` is a ``spaces.Text`` that contains any Python string up to ``max_length`` (a model
may answer with any Unicode); sampling draws printable ASCII so ``check_env`` can exercise it.
``observation_space_for`` builds the observation space of a text or a visual env.
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np
from gymnasium import spaces

SAMPLE_CHARSET = string.ascii_letters + string.digits + string.punctuation + " \n"


class FreeText(spaces.Text):
    """Any ``str`` of at most ``max_length`` characters (empty included)."""

    def __init__(self, max_length: int = 1_000_000, seed: int | np.random.Generator | None = None):
        super().__init__(max_length=max_length, min_length=0, charset=SAMPLE_CHARSET, seed=seed)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and len(x) <= self.max_length

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        if mask is not None or probability is not None:
            return super().sample(mask=mask, probability=probability)
        length = int(self.np_random.integers(0, min(self.max_length, 64) + 1))
        return "".join(self.np_random.choice(list(SAMPLE_CHARSET), size=length))

    def __repr__(self) -> str:
        return f"FreeText(max_length={self.max_length})"


def observation_space_for(visual: bool, image_size: tuple[int, int]) -> spaces.Space:
    """``FreeText`` for text envs; ``Dict(text, image)`` with an H×W×3 uint8 Box for visual ones."""
    if not visual:
        return FreeText()
    height, width = image_size
    return spaces.Dict({"text": FreeText(), "image": spaces.Box(0, 255, shape=(height, width, 3), dtype=np.uint8)})
