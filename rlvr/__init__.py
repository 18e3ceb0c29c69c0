"""rlvr: verifiable task environments for reinforcement learning of language models.

``import rlvr`` registers every environment with Gymnasium (``gym.make("rlvr/Maze-v0")``).
"""

from rlvr.api import (
    generate,
    generate_mix,
    iter_generate,
    iter_generate_mix,
    list_envs,
    make_generator,
    make_task,
    make_verifier,
    solve,
    verify,
    verify_batch,
)
from rlvr.core import Task, Verdict, load_tasks, save_tasks
from rlvr.envs.registry import register_all
from rlvr.params import DifficultyTable

register_all()

__version__ = "0.1.0"

__all__ = [
    "DifficultyTable",
    "Task",
    "Verdict",
    "generate",
    "generate_mix",
    "iter_generate",
    "iter_generate_mix",
    "list_envs",
    "load_tasks",
    "make_generator",
    "make_task",
    "make_verifier",
    "save_tasks",
    "solve",
    "verify",
    "verify_batch",
]
