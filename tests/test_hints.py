"""Hints in every env: level 0 changes nothing, each level shows exactly its share, never more."""

from __future__ import annotations

import gymnasium as gym
import pytest
from test_envs import makeable, required  # the options an env cannot be made without (a dataset)

import rlvr
from rlvr.core import HINT_HEADER
from rlvr.envs.registry import ENV_SPECS

ENV_IDS = [spec.id for spec in ENV_SPECS]


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_hints_reveal_exactly_their_share_and_keep_the_task(env_id):
    if not makeable(env_id):
        pytest.skip(f"{env_id} needs its dataset, absent here: {required(env_id)}")
    options = required(env_id)
    generator = rlvr.make_generator(
        env_id, **{k: v for k, v in options.items() if k in rlvr.envs.get_spec(env_id).generator_options}
    )
    verifier = rlvr.make_verifier(env_id)
    for difficulty in (0.0, 0.5, 1.0):
        plain = rlvr.make_task(env_id, 3, difficulty, **options)
        assert rlvr.make_task(env_id, 3, difficulty, hint=0.0, **options).to_json() == plain.to_json()
        pieces = generator.hints(plain)
        assert pieces and all(isinstance(p, str) and p.strip() for p in pieces), env_id
        shown_before = 0
        for level in (0.1, 0.5, 1.0):
            hinted = rlvr.make_task(env_id, 3, difficulty, hint=level, **options)
            assert hinted.answer == plain.answer and hinted.id != plain.id and hinted.prompt.startswith(plain.prompt)
            hint_text = hinted.prompt[len(plain.prompt) :]
            assert HINT_HEADER in hint_text
            shown = hinted.meta["hint"]["shown"]
            assert (
                shown >= shown_before
                and hinted.meta["hint"]["of"] == len(pieces)
                and hinted.meta["hint"]["level"] == level
            )
            shown_before = shown
            assert all(piece in hint_text for piece in pieces[:shown])
            assert not any(
                piece not in plain.prompt and piece not in "\n".join(pieces[:shown]) and piece in hint_text
                for piece in pieces[shown:]
            ), "a hint shows more than its level"
            if plain.images == ():
                assert verifier.verify(hinted, rlvr.solve(hinted)).correct
        full = rlvr.make_task(env_id, 3, difficulty, hint=1.0, **options)
        assert not verifier.verify(full, full.prompt).correct  # the whole hinted prompt echoed is not an answer
        assert not verifier.verify(full, f"<answer>{full.prompt[len(plain.prompt) :]}</answer>").correct


def test_hint_reaches_gym_reset_options_and_is_validated():
    env = gym.make("rlvr/Maze-v0", hint=0.5)
    _, info = env.reset(seed=2)
    assert info["task"].meta["hint"]["level"] == 0.5
    _, info = env.reset(seed=2, options={"hint": 0.0})
    assert "hint" not in info["task"].meta
    with pytest.raises(ValueError, match="hint must be a number"):
        rlvr.make_task("Maze-v0", 0, 0.5, hint=1.5)
