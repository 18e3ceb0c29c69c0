"""Conformance of every registered env: reference solutions, wrong answers, Gymnasium API,
replay, determinism across processes, and hostile responses."""

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import rlvr
from rlvr.envs.registry import ENV_SPECS, get_spec

ENV_IDS = [spec.id for spec in ENV_SPECS]
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
# the options an env cannot be made without: data the project does not ship (from ../shared/data)
REQUIRED_OPTIONS = {"rlvr/VerilogEval-v0": {"dataset": str(SHARED_DATA / "verilog-eval" / "dataset_spec-to-rtl")}}
DIFFICULTIES = (0.0, 0.5, 1.0)
SEEDS = range(50)
# envs whose tasks take 0.1–0.3 s each to make or verify (a sandbox run, a Sudoku of unique
# solution at d = 1): 20 seeds a difficulty here, their families' own tests run more
FEWER_SEEDS = {
    "rlvr/Code-v0": range(20),
    "rlvr/CodeFeedback-v0": range(20),
    "rlvr/SWE-v0": range(20),
    "rlvr/SWEAgent-v0": range(20),
    "rlvr/Sudoku-v0": range(20),
    "rlvr/SudokuImage-v0": range(20),
    "rlvr/Verilog-v0": range(20),
    "rlvr/Game24-v0": range(20),
}

HOSTILE = {
    "empty": "",
    "whitespace": " \n\t ",
    "none-like": "None",
    "ten-megabytes": "9" * 10_000_000,
    "binary-junk": bytes(range(256)).decode("latin-1") * 64,
    "unbalanced-latex": r"<answer>\frac{1}{</answer> \boxed{\left(",
    "power-tower": r"<answer>9^9^9^9</answer> \boxed{9^9^9^9}",
    "nested-parentheses": "<answer>" + "(" * 1000 + "1" + ")" * 1000 + "</answer>",
    "several-answers": r"\boxed{1} \boxed{2} <answer>1 or 2</answer>",
    "null-bytes": "<answer>\x00\x00\x00</answer>",
}


def required(env_id: str) -> dict:
    """The options ``env_id`` needs (its dataset), or {}."""
    return REQUIRED_OPTIONS.get(env_id, {})


def makeable(env_id: str) -> bool:
    return all(Path(value).exists() for value in required(env_id).values())


@pytest.fixture(scope="module", params=ENV_IDS)
def env_id(request):
    if not makeable(request.param):
        pytest.skip(f"{request.param} needs its dataset, absent here: {required(request.param)}")
    return request.param


def test_every_env_is_registered_and_listed():
    listed = {row["id"] for row in rlvr.list_envs()}
    assert set(ENV_IDS) <= listed
    for env_id in ENV_IDS:
        assert env_id in gym.registry


def test_reference_correct_and_wrong_incorrect(env_id):
    generator = rlvr.make_generator(env_id, **required(env_id))
    tasks = [
        rlvr.make_task(env_id, seed=seed, difficulty=d, **required(env_id))
        for d in DIFFICULTIES
        for seed in FEWER_SEEDS.get(env_id, SEEDS)
    ]
    responses = [rlvr.solve(task) for task in tasks] + [generator.wrong_response(task) for task in tasks]
    verdicts = rlvr.verify_batch(tasks + tasks, responses, workers=2, backend="thread")
    for task, good in zip(tasks, verdicts[: len(tasks)]):
        assert good.correct and good.reward == 1.0 and good.format_ok, (task.id, good)
    for task, bad in zip(tasks, verdicts[len(tasks) :]):
        assert not bad.correct and bad.reward < 1.0, (task.id, bad)


def test_check_env_passes(env_id):
    env = gym.make(env_id, difficulty=0.2, **required(env_id))
    check_env(env.unwrapped)
    env.close()


def test_reset_step_and_replay(env_id):
    env = gym.make(env_id, difficulty=0.3, **required(env_id))
    observation, info = env.reset(seed=11)
    task = info["task"]
    assert env.observation_space.contains(observation)
    again = gym.make(env_id, difficulty=0.9, **required(env_id))
    replay, replay_info = again.reset(options={"task": task})
    assert replay_info["task"].to_json() == task.to_json()
    text = replay["text"] if isinstance(replay, dict) else replay
    assert text == task.prompt
    replay_from_dict, _ = again.reset(options={"task": task.to_dict()})
    assert (replay_from_dict["text"] if isinstance(replay_from_dict, dict) else replay_from_dict) == task.prompt
    other = "rlvr/Countdown-v0" if get_spec(env_id).family.name != "countdown" else "rlvr/Maze-v0"
    with pytest.raises(ValueError, match=f"holds a task of {other}, another family"):  # red team s22 B-F2
        again.reset(options={"task": rlvr.make_task(other, seed=1)})
    _, reward, terminated, truncated, step_info = env.step(rlvr.solve(task))
    assert (reward, terminated, truncated) == (1.0, True, False)
    assert step_info["verdict"].correct
    _, harder_info = env.reset(seed=11, options={"difficulty": 1.0})
    assert harder_info["task"].difficulty == 1.0
    env.close()
    again.close()


@pytest.mark.parametrize(
    "text_env, image_env", [("Maze", "MazeImage"), ("Sudoku", "SudokuImage"), ("ArcGrid", "ArcGridImage")]
)
def test_a_task_is_replayed_only_where_its_observation_can_be_shown(text_env, image_env):
    """A text task in its family's image env showed a blank image, an image task in the text env
    a prompt about a picture the policy never saw: both refused, naming the env to use, in the
    single and the vector envs. Siblings of one kind share tasks (a Code task in CodeFeedback)."""
    text_task = rlvr.make_task(f"rlvr/{text_env}-v0", seed=3, difficulty=0.2)
    image_task = rlvr.make_task(f"rlvr/{image_env}-v0", seed=3, difficulty=0.2)
    for env_id, task, kind in ((image_env, text_task, "a text task"), (text_env, image_task, "an image task")):
        env = gym.make(f"rlvr/{env_id}-v0")
        with pytest.raises(ValueError, match=f"holds a task of {task.env_id}, {kind}, unlike .* gym.make"):
            env.reset(options={"task": task.to_dict()})
        env.close()
        vector = gym.make_vec(f"rlvr/{env_id}-v0", num_envs=2)
        with pytest.raises(ValueError, match=f"options\\['tasks'\\] holds a task of {task.env_id}, {kind}"):
            vector.reset(options={"tasks": [task, task]})
        vector.close()
    env = gym.make("rlvr/CodeFeedback-v0")
    code_task = rlvr.make_task("rlvr/Code-v0", seed=2, difficulty=0.2)
    assert env.reset(options={"task": code_task})[0] == code_task.prompt
    env.close()


def test_reset_without_seed_follows_the_env_rng(env_id):
    first, second = gym.make(env_id, **required(env_id)), gym.make(env_id, **required(env_id))
    first.reset(seed=5)
    second.reset(seed=5)
    ids_first = [first.reset()[1]["task"].id for _ in range(3)]
    ids_second = [second.reset()[1]["task"].id for _ in range(3)]
    assert ids_first == ids_second and len(set(ids_first)) == 3


def test_neighbouring_seeds_differ(env_id):
    from rlvr.api import content_key  # what the policy sees: the prompt and, for visual envs, the pixels

    seen = [content_key(rlvr.make_task(env_id, seed=s, difficulty=0.5, **required(env_id))) for s in range(60)]
    assert all(a != b for a, b in zip(seen, seen[1:]))
    assert len(set(seen)) >= 55


DIGEST_SCRIPT = """
import hashlib, json, sys, rlvr
out = {}
for env_id, options in json.loads(sys.argv[1]).items():
    for d in (0.0, 0.5, 1.0):
        for s in (0, 1, 99):
            task = rlvr.make_task(env_id, seed=s, difficulty=d, **options)
            out[f"{env_id}|{d}|{s}"] = hashlib.sha256(task.to_json().encode()).hexdigest()
print(json.dumps(out))
"""


def test_tasks_are_byte_identical_across_processes_and_hash_seeds():
    envs = {env_id: required(env_id) for env_id in ENV_IDS if makeable(env_id)}
    children = [  # both at once, each with its own hash seed
        subprocess.Popen(
            [sys.executable, "-c", DIGEST_SCRIPT, json.dumps(envs)],
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for hash_seed in ("1", "4242")
    ]
    outputs = [child.communicate(timeout=600) for child in children]
    assert [child.returncode for child in children] == [0, 0], [err[-2000:] for _, err in outputs]
    digests = [json.loads(out) for out, _ in outputs]
    assert digests[0] == digests[1]
    local = {
        key: hashlib.sha256(
            rlvr.make_task(
                key.split("|")[0],
                seed=int(key.split("|")[2]),
                difficulty=float(key.split("|")[1]),
                **required(key.split("|")[0]),
            )
            .to_json()
            .encode()
        ).hexdigest()
        for key in digests[0]
    }
    assert local == digests[0]


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_responses_score_zero_within_deadline(env_id, name):
    verifier = rlvr.make_verifier(env_id)
    task = rlvr.make_task(env_id, seed=3, difficulty=0.5, **required(env_id))
    start = time.monotonic()
    verdict = verifier.verify(task, HOSTILE[name])
    elapsed = time.monotonic() - start
    assert verdict.reward == 0.0 and not verdict.correct and verdict.reason
    assert elapsed < verifier.deadline_s + 5.0
    assert verifier.verify(task, rlvr.solve(task)).correct  # still healthy afterwards


@pytest.mark.parametrize("response", [None, 42, b"<answer>1</answer>", ["x"]])
def test_non_text_responses_score_zero(env_id, response):
    task = rlvr.make_task(env_id, seed=1, difficulty=0.5, **required(env_id))
    verdict = rlvr.verify(task, response)
    assert verdict.reward == 0.0 and not verdict.format_ok


def test_serialised_tasks_verify_after_round_trip(env_id, tmp_path):
    tasks = rlvr.generate(env_id, 5, seed=100, difficulty=0.5, **required(env_id))
    for suffix in (".jsonl", ".parquet"):
        path = tmp_path / f"t{suffix}"
        rlvr.save_tasks(tasks, path)
        loaded = rlvr.load_tasks(path)
        assert [t.to_json() for t in loaded] == [t.to_json() for t in tasks]
        for task in loaded:
            assert rlvr.verify(task, rlvr.solve(task)).correct


def test_two_envs_do_not_influence_each_other(env_id):
    lone = gym.make(env_id, **required(env_id))
    lone_ids = [lone.reset(seed=s)[1]["task"].id for s in (1, 2, 3)]
    first, second = gym.make(env_id, **required(env_id)), gym.make(env_id, **required(env_id))
    interleaved = []
    for s in (1, 2, 3):
        interleaved.append(first.reset(seed=s)[1]["task"].id)
        second.reset(seed=s + 100)
    assert interleaved == lone_ids


def test_parallel_generation_matches_serial(env_id):
    serial = rlvr.generate(env_id, 12, seed=40, difficulty=0.4, **required(env_id))
    parallel = rlvr.generate(env_id, 12, seed=40, difficulty=0.4, workers=2, **required(env_id))
    assert [t.to_json() for t in serial] == [t.to_json() for t in parallel]
    responses = [rlvr.solve(t) for t in serial]
    verdicts = rlvr.verify_batch(serial, responses, workers=2)
    assert all(v.correct for v in verdicts)


# ------------------------------------------------------------------ edges a new user meets first


def test_step_after_termination_raises_reset_needed_and_never_scores_twice():
    for env_id, options in (("rlvr/Maze-v0", {}), ("rlvr/CodeFeedback-v0", {"max_attempts": 1})):
        env = gym.make(env_id, difficulty=0.0, **options)
        _, info = env.reset(seed=3)
        _, _, terminated, _, _ = env.step(rlvr.solve(info["task"]) if env_id == "rlvr/Maze-v0" else "no code")
        assert terminated
        with pytest.raises(gym.error.ResetNeeded, match="after the episode terminated"):
            env.step(rlvr.solve(info["task"]))
        env.reset(seed=4)
        env.step("x")  # a new episode steps again
        env.close()


def test_envs_carry_their_family_contract_and_public_functions_have_docstrings():
    import inspect

    from rlvr import api, core
    from rlvr.envs.registry import family_doc
    from rlvr.envs.single_turn import SingleTurnEnv
    from rlvr.envs.vector import TaskVectorEnv

    for spec in rlvr.envs.ENV_SPECS[:4]:
        env = gym.make(spec.id)
        assert env.unwrapped.__doc__ == family_doc(spec) and "Difficulty" in env.unwrapped.__doc__
        env.close()
    assert SingleTurnEnv.__doc__ and TaskVectorEnv.__doc__
    for module in (api, core):
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ == module.__name__ and not name.startswith("_"):
                assert function.__doc__, f"{module.__name__}.{name} has no docstring"
    assert all(
        getattr(rlvr, name).__doc__
        for name in ("generate", "iter_generate", "solve", "verify", "load_tasks", "list_envs")
    )


def test_ids_without_prefix_and_bad_arguments_named():
    assert (
        rlvr.make_task("GraphColoring-v0", seed=1).to_json()
        == rlvr.make_task("rlvr/GraphColoring-v0", seed=1).to_json()
    )
    assert [t.env_id for t in rlvr.generate("Maze-v0", 2)] == ["rlvr/Maze-v0"] * 2
    with pytest.raises(KeyError, match=r"did you mean 'rlvr/GraphColoring-v0'"):
        rlvr.make_task("GraphColouring-v0")
    with pytest.raises(ValueError, match=r"n must be a whole number ≥ 0, got -5"):
        rlvr.generate("rlvr/Maze-v0", n=-5)
    assert rlvr.generate("rlvr/Maze-v0", n=0) == []
    with pytest.raises(ValueError, match=r"difficulty must be a number in \[0, 1\], got 'hard'"):
        rlvr.make_task("rlvr/Maze-v0", difficulty="hard")
    with pytest.raises(ValueError, match=r"difficulty must be a number in \[0, 1\], got 'hard'"):
        gym.make("rlvr/Maze-v0", difficulty="hard")
    for not_a_number in ("0.5", True, np.True_):  # red team s21 B9: these were d0.50 and d1.00
        with pytest.raises(ValueError, match=r"difficulty must be a number in \[0, 1\]"):
            rlvr.make_task("rlvr/Maze-v0", difficulty=not_a_number)
    assert rlvr.make_task("rlvr/Maze-v0", difficulty=np.float32(0.5)).id == rlvr.make_task("rlvr/Maze-v0").id
    for seed in (2**63, -(2**63) - 1):  # red team s21 B6: tasks carry their seed in 64-bit columns
        with pytest.raises(ValueError, match="outside the 64-bit range"):
            rlvr.make_task("rlvr/Maze-v0", seed=seed)
    with pytest.raises(ValueError, match="and the 2 positions after it"):
        rlvr.generate("rlvr/Maze-v0", 3, seed=2**63 - 2)
    with pytest.raises(rlvr.api.SeedRangeEnded, match="reached the last seed"):  # repeats skipped up to the range's end
        rlvr.generate("rlvr/Maze-v0", 60, seed=2**63 - 60, difficulty=0.0, split=None)
    assert (
        len(rlvr.generate("rlvr/Maze-v0", 60, seed=2**63 - 60, difficulty=0.0, split=None, allow_duplicates=True)) == 60
    )
    with pytest.raises(ValueError, match="workers must be a whole number ≥ 1, got -2"):
        rlvr.generate("rlvr/Maze-v0", n=2, workers=-2)
