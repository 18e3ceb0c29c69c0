"""Your own loop over rlvr envs: one env with ``gym.make``, a batch with ``gym.make_vec``.

    python examples/custom_loop.py

The "policy" here answers with the reference solution half of the time and a plausible wrong
answer otherwise; put your model's completion in its place. ``info["task"]`` is the Task
behind every observation: ``task.answer`` is the reference, ``rlvr.solve(task)`` a response
that scores 1, and ``reset(options={"task": task})`` replays it (for G samples of one prompt).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

import rlvr  # registers the envs with Gymnasium


def policy(prompt: str, task: rlvr.Task, rng: np.random.Generator) -> str:
    """Stand-in for a model: the reference answer or a wrong one."""
    if rng.random() < 0.5:
        return rlvr.solve(task)
    return rlvr.make_generator(task.env_id).wrong_response(task)


def single_env(rng: np.random.Generator) -> None:
    env = gym.make("rlvr/Maze-v0", difficulty=0.2)
    print(env.unwrapped.__doc__.splitlines()[0])  # the family's contract
    for seed in range(4):
        prompt, info = env.reset(seed=seed)
        _, reward, terminated, truncated, info = env.step(policy(prompt, info["task"], rng))
        verdict = info["verdict"]
        print(f"  seed {seed}: reward {reward:.1f}, {verdict.reason}")
    env.close()


def vector_env(rng: np.random.Generator) -> None:
    envs = gym.make_vec("rlvr/SubsetSum-v0", num_envs=4, difficulty=0.3)
    prompts, infos = envs.reset(seed=100)  # sub-env i gets seed 100 + i
    responses = [policy(p, t, rng) for p, t in zip(prompts, infos["task"])]
    _, rewards, terminated, _, infos = envs.step(responses)
    print(f"batch of {envs.num_envs}: rewards {rewards.tolist()}, all terminated: {bool(terminated.all())}")
    group = [infos["task"][0]] * envs.num_envs  # one prompt, G samples (GRPO): replay the task
    envs.reset(options={"tasks": group})
    _, rewards, _, _, _ = envs.step([policy("", t, rng) for t in group])
    print(f"group of one task: rewards {rewards.tolist()}, advantage {np.round(rewards - rewards.mean(), 2).tolist()}")
    envs.close()


if __name__ == "__main__":
    generator = np.random.default_rng(0)
    single_env(generator)
    vector_env(generator)
