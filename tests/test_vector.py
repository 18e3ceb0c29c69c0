"""TaskVectorEnv (gym.make_vec of every single-turn env) and Gymnasium's own vector envs."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import rlvr
from rlvr.envs.registry import ENV_SPECS, SINGLE_TURN_ENTRY_POINT
from rlvr.envs.vector import TaskVectorEnv


def test_make_vec_gives_the_batched_env_for_every_single_turn_env():
    for spec in ENV_SPECS:
        if spec.entry_point == SINGLE_TURN_ENTRY_POINT:
            assert gym.spec(spec.id).vector_entry_point == "rlvr.envs.vector:TaskVectorEnv"
        else:
            assert gym.spec(spec.id).vector_entry_point is None


@pytest.mark.parametrize("backend", ["thread", "process", "serial"])
def test_reset_and_step_match_single_tasks(backend):
    envs = gym.make_vec("rlvr/Maze-v0", num_envs=4, difficulty=0.3, backend=backend, workers=2)
    try:
        assert isinstance(envs.unwrapped, TaskVectorEnv)
        observations, infos = envs.reset(seed=11)
        expected = [rlvr.make_task("rlvr/Maze-v0", seed=11 + i, difficulty=0.3) for i in range(4)]
        assert [t.to_json() for t in infos["task"]] == [t.to_json() for t in expected]
        assert observations == tuple(t.prompt for t in expected)
        assert envs.observation_space.contains(observations)
        answers = [
            rlvr.solve(expected[0]),
            "garbage",
            None,
            rlvr.make_generator("rlvr/Maze-v0").wrong_response(expected[3]),
        ]
        _, rewards, terminated, truncated, infos = envs.step(answers)
        assert rewards.dtype == np.float64 and rewards.tolist() == [
            rlvr.verify(t, a).reward for t, a in zip(expected, answers)
        ]
        assert rewards[0] == 1.0 and rewards[1] == rewards[2] == 0.0
        assert terminated.all() and not truncated.any()
        assert infos["correct"].tolist() == [True, False, False, False] and infos["_verdict"].all()
        assert infos["verdict"][1].reason
        with pytest.raises(gym.error.ResetNeeded):
            envs.step(answers)
    finally:
        envs.close()


def test_seeds_difficulties_replay_and_mixed_envs():
    env_ids = ["rlvr/Math-v0", "rlvr/SAT-v0", "rlvr/Knapsack-v0", "rlvr/Causal-v0"]
    envs = TaskVectorEnv(env_ids, difficulty=[0.0, 0.5, 0.2, 0.1], workers=2)
    try:
        _, infos = envs.reset(seed=[5, 9, 2, 7])
        tasks = list(infos["task"])
        assert [t.id for t in tasks] == [
            rlvr.make_task(e, seed=s, difficulty=d).id for e, s, d in zip(env_ids, [5, 9, 2, 7], [0.0, 0.5, 0.2, 0.1])
        ]
        _, rewards, *_ = envs.step([rlvr.solve(t) for t in tasks])
        assert rewards.tolist() == [1.0] * 4
        _, infos = envs.reset(seed=3, options={"difficulty": 1.0})
        assert {t.difficulty for t in infos["task"]} == {1.0}
        group = [tasks[1]] * 4  # a GRPO group: one task, four answers
        _, infos = envs.reset(options={"tasks": [t.to_dict() for t in group]})
        assert [t.to_json() for t in infos["task"]] == [tasks[1].to_json()] * 4
        first = envs.reset(seed=None)[1]["task_id"]
        assert len(set(first)) == 4
    finally:
        envs.close()
    a, b = TaskVectorEnv("rlvr/Maze-v0", 3), TaskVectorEnv("rlvr/Maze-v0", 3)
    assert list(a.reset(seed=42)[1]["task_id"]) == list(b.reset(seed=42)[1]["task_id"])
    a.close(), b.close()


def test_visual_batches_and_options_reach_verifier_and_generator():
    envs = gym.make_vec("rlvr/Jigsaw-v0", num_envs=3, difficulty=0.2, image_size=(96, 128), rows=2, cols=3)
    try:
        observations, infos = envs.reset(seed=0)
        assert observations["image"].shape == (3, 96, 128, 3) and observations["image"].dtype == np.uint8
        assert len(observations["text"]) == 3 and envs.observation_space.contains(observations)
        assert all(t.params["rows"] == 2 and t.params["cols"] == 3 for t in infos["task"])
        _, rewards, *_ = envs.step([rlvr.solve(t) for t in infos["task"]])
        assert rewards.tolist() == [1.0] * 3
    finally:
        envs.close()
    maze = gym.make_vec("rlvr/Maze-v0", num_envs=2, difficulty=1.0, partial=True)
    _, infos = maze.reset(seed=1)
    path = rlvr.solve(infos["task"][0]).split("<answer>")[1].split("</answer>")[0]
    _, rewards, *_ = maze.step(["<answer>" + path[:-1] + "</answer>", ""])
    assert 0.0 < rewards[0] < 1.0  # partial credit for all but the last move: the verifier option arrived
    maze.close()


def test_invalid_arguments_are_refused():
    with pytest.raises(ValueError):
        TaskVectorEnv(["rlvr/Maze-v0", "rlvr/MazeImage-v0"])
    with pytest.raises(ValueError):
        TaskVectorEnv("rlvr/CodeFeedback-v0", 2)
    with pytest.raises(ValueError):
        TaskVectorEnv("rlvr/Maze-v0", 2, backend="gpu")
    with pytest.raises(ValueError):
        TaskVectorEnv(["rlvr/Maze-v0"] * 2, num_envs=3)
    with pytest.raises(ValueError):
        TaskVectorEnv("rlvr/Maze-v0", 2, difficulty=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="unknown parameter"):
        TaskVectorEnv("rlvr/Maze-v0", 2, no_such_parameter=1)
    with pytest.raises(KeyError):
        TaskVectorEnv("rlvr/Nope-v0", 2)
    envs = TaskVectorEnv("rlvr/Maze-v0", 2)
    with pytest.raises(gym.error.ResetNeeded):
        envs.step(["a", "b"])
    envs.reset(seed=0)
    with pytest.raises(ValueError):
        envs.step(["only one"])
    envs.close()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_gymnasium_vector_envs_work_with_rlvr_envs(mode):
    vector_kwargs = {
        "autoreset_mode": gym.vector.AutoresetMode.DISABLED,
        **({"shared_memory": False} if mode == "async" else {}),
    }
    envs = gym.make_vec(
        "rlvr/Maze-v0", num_envs=2, vectorization_mode=mode, vector_kwargs=vector_kwargs, difficulty=0.1
    )
    try:
        for seed in (4, 40):
            observations, infos = envs.reset(seed=seed)
            tasks = [rlvr.make_task("rlvr/Maze-v0", seed=seed + i, difficulty=0.1) for i in range(2)]
            assert tuple(observations) == tuple(t.prompt for t in tasks)
            _, rewards, terminated, _, _ = envs.step([rlvr.solve(t) for t in tasks])
            assert rewards.tolist() == [1.0, 1.0] and terminated.all()
    finally:
        envs.close()
