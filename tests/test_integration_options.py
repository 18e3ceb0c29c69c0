"""Red team s14 B2: verifier options given to an exporter (``verl.export_mix``, ``trl.dataset``,
``hf.dataset``, all through ``rlvr.iter_generate_mix``) were accepted and dropped, so the exported
rows were rewarded by the default verifier, not by ``gym.make(env, **options)``; an illegal value
was accepted too. Now they are checked at export, carried with each row and applied by the
adapters' reward functions; rows without options are as before."""

from __future__ import annotations

import json
import math
import re

import gymnasium as gym
import pytest

import rlvr
from rlvr.core import Task

datasets = pytest.importorskip("datasets", reason="needs the hf extra")
pq = pytest.importorskip("pyarrow.parquet", reason="needs pyarrow")

from rlvr.integrations import hf  # noqa: E402
from rlvr.integrations import trl as rlvr_trl  # noqa: E402
from rlvr.integrations import verl as rlvr_verl  # noqa: E402

GOLDS = [
    "10, 4, -2",
    "1, 2, 3",
    "-5, 0, 7, 12",
    "3, 1",
    "8, 6, 4, 2",
    "100, -100",
    "2, 3, 5, 7, 11",
    "9, 8",
    "0, 1",
    "-1, -2, -3",
    "6, 28",
    "13, 21, 34",
]
# what gym.make(env, **options) is given for each env of the mixture
OPTIONS = {
    "rlvr/Math-v0": {"ordered": True},
    "rlvr/Maze-v0": {"partial": True},
    "rlvr/Knapsack-v0": {"partial": True},
    "rlvr/SubsetSum-v0": {},
}
N = 22  # Math 10, Maze 4, Knapsack 4, SubsetSum 4


@pytest.fixture(scope="module")
def ordered_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("ordered") / "ordered.jsonl"
    rows = [
        {"problem": f"List the {len(g.split(','))} numbers of part {i} in the order asked.", "answer": g}
        for i, g in enumerate(GOLDS)
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


def mixture(path: str) -> dict:
    """Math's ``ordered`` and Knapsack's ``partial`` in their entries, Maze's given to every env that
    declares it would reach SubsetSum too: so it is in its entry as well; SubsetSum gets none."""
    return {
        "rlvr/Math-v0": {"weight": 5, "options": {"dataset": path, "ordered": True}},
        "rlvr/Maze-v0": {"weight": 2, "difficulty": 0.75, "options": {"partial": True}},
        "rlvr/Knapsack-v0": {"weight": 2, "difficulty": 0.3, "options": {"partial": True}},
        "rlvr/SubsetSum-v0": {"weight": 2, "difficulty": 0.3},
    }


def _boxed(items: list[str]) -> str:
    return "\\boxed{" + ", ".join(items) + "}"


def responses(task: Task) -> list:
    """Right, reordered, partial, wrong and hostile answers to ``task``."""
    reference = rlvr.solve(task)
    hostile = ["", "\x00" * 64, "<answer>" * 2000, None, 7, rlvr.make_generator(task.env_id).wrong_response(task)]
    if task.env_id == "rlvr/Math-v0":
        items = [part.strip() for part in task.answer["gold"].split(",")]
        orders = [items[::-1], items[1:] + items[:1], sorted(items, key=float), items[:-1], [*items, items[0]]]
        both = _boxed(items[::-1]) + " or " + _boxed(items)
        return [reference, _boxed(items), *(_boxed(order) for order in orders), both, *hostile]
    inner = re.search(r"<answer>(.*)</answer>", reference, re.S).group(1)
    if task.env_id == "rlvr/Maze-v0":
        cuts = sorted({1, len(inner) // 2, *(len(inner) * k // 20 for k in range(15, 20)), len(inner) - 1} - {0})
        partial = [f"<answer>{inner[:cut]}</answer>" for cut in cuts] + [f"<answer>{inner[::-1]}</answer>"]
    elif task.env_id in ("rlvr/Knapsack-v0", "rlvr/SubsetSum-v0"):  # a list of items: drop each in turn
        chosen = json.loads(inner)
        partial = [f"<answer>{json.dumps(chosen[:i] + chosen[i + 1 :])}</answer>" for i in range(len(chosen))]
    else:
        partial = [f"<answer>{inner[:-1]}</answer>", f"<answer>{inner} + 0</answer>"]
    return [reference, *partial, *hostile]


_ENVS: dict[str, gym.Env] = {}


def env_reward(task: Task, response) -> float:
    """The reward ``gym.make(env, **OPTIONS[env])`` gives ``response`` on ``task``."""
    env = _ENVS.get(task.env_id)
    if env is None:
        env = _ENVS[task.env_id] = gym.make(task.env_id, **OPTIONS[task.env_id]).unwrapped
    env.reset(options={"task": task})
    return env.step(response)[1]


def _check_cases(tasks: list[Task]) -> list[tuple[Task, object, float]]:
    """(task, response, env reward) for every response of every task; checks the options matter."""
    cases = [(task, response, env_reward(task, response)) for task in tasks for response in responses(task)]
    assert sorted({task.env_id for task in tasks}) == sorted(OPTIONS)
    math_rows = [(t, r, e) for t, r, e in cases if t.env_id == "rlvr/Math-v0"]
    # the reordered lists the default verifier pays and ``ordered=True`` does not
    reordered = [(t, r) for t, r, e in math_rows if e == 0.0 and rlvr.verify(t, r).reward == 1.0]
    assert len(reordered) >= 10, len(reordered)
    partial = [(t, r, e) for t, r, e in cases if t.env_id == "rlvr/Maze-v0" and 0 < e < 1]
    assert len(partial) >= 4 and all(rlvr.verify(t, r).reward == 0.0 for t, r, _ in partial)
    assert sum(e == 1.0 for _, _, e in cases) >= len(tasks)  # the references
    return cases


# --------------------------------------------------------------------------------------- verl


def test_verl_export_rows_are_rewarded_as_the_env_with_their_options(ordered_file, tmp_path):
    path = tmp_path / "mix.parquet"
    assert rlvr_verl.export_mix(mixture(ordered_file), N, path, seed=3, split=None) == N
    rows = pq.read_table(path).to_pylist()
    tasks = [Task.from_dict(json.loads(row["reward_model"]["ground_truth"])) for row in rows]
    for row, task in zip(rows, tasks):
        assert json.loads(row["extra_info"]["verifier_options"]) == OPTIONS[task.env_id]
    by_id = {task.id: row for task, row in zip(tasks, rows)}
    for task, response, expected in _check_cases(tasks):
        row = by_id[task.id]
        result = rlvr_verl.compute_score(
            row["data_source"], response, row["reward_model"]["ground_truth"], row["extra_info"]
        )
        assert result["score"] == expected, (task.id, response, result)
        assert set(result) == {"score", "acc", "format_ok", "reason", "not_judged"}


def test_verl_reward_kwargs_reach_compute_score_as_verl_passes_them(ordered_file, tmp_path):
    """verl 0.9 wraps the custom function with ``reward_kwargs`` (``get_custom_reward_fn``) and its
    reward managers call it with keywords (data_source, solution_str, ground_truth, extra_info,
    and ``reward_router_address`` / ``reward_model_tokenizer`` with a reward model)."""
    tasks = [rlvr.make_task("rlvr/Maze-v0", seed=s, difficulty=0.75) for s in range(4)]
    tasks += [rlvr.make_task("rlvr/Countdown-v0", seed=s, difficulty=0.2) for s in range(4)]  # no options
    path = tmp_path / "plain.parquet"
    rlvr_verl.export_parquet(tasks, path)
    rows = pq.read_table(path).to_pylist()
    try:
        from omegaconf import OmegaConf
        from verl.trainer.ppo.reward import get_custom_reward_fn
    except ImportError:
        score = lambda **kw: rlvr_verl.compute_score(**kw, partial=True)  # noqa: E731
    else:
        config = OmegaConf.create(
            {
                "reward": {
                    "custom_reward_function": {
                        "path": rlvr_verl.__file__,
                        "name": "compute_score",
                        "reward_kwargs": {"partial": True},
                    }
                }
            }
        )
        score = get_custom_reward_fn(config)
    seen_partial = 0
    for row, task in zip(rows, tasks):
        for response in responses(task):
            given = score(
                data_source=row["data_source"],
                solution_str=response,
                ground_truth=row["reward_model"]["ground_truth"],
                extra_info=row["extra_info"],
                reward_router_address=None,
                reward_model_tokenizer=None,
            )
            options = {"partial": True} if task.env_id == "rlvr/Maze-v0" else {}
            assert given["score"] == rlvr.verify(task, response, **options).reward, (task.id, response, given)
            seen_partial += 0 < given["score"] < 1
    assert seen_partial >= 2


def test_verl_compute_score_refuses_bad_options_with_a_reason():
    task = rlvr.make_task("rlvr/Math-v0", seed=200001, difficulty=0.3)
    truth = rlvr_verl.ground_truth(task)
    reference = rlvr.solve(task)
    assert rlvr_verl.compute_score(task.env_id, reference, truth, {"verifier_options": "{}"})["score"] == 1.0
    assert rlvr_verl.compute_score(task.env_id, reference, truth, {"index": 3})["score"] == 1.0  # an old row
    bad_rows = [
        "not json",
        "[]",
        "null",
        "7",
        '{"tolerance": 2}',
        '{"nope": 1}',
        '{"units": "bogus"}',
        "{" * 5000,
        "[" * 200_000 + "]" * 200_000,  # nested past the stack
        b"\xff\xfe",
        12,
        {"ordered": True},
    ]
    for carried in bad_rows:
        result = rlvr_verl.compute_score(task.env_id, reference, truth, {"verifier_options": carried})
        assert result["score"] == 0.0 and "verifier options refused" in result["reason"], (carried, result)
        assert set(result) == {"score", "acc", "format_ok", "reason", "not_judged"}
    for kwargs in ({"partail": True}, {"tolerance": -1.0}):
        result = rlvr_verl.compute_score(task.env_id, reference, truth, None, **kwargs)
        assert result["score"] == 0.0 and result["reason"], (kwargs, result)
    clash = rlvr_verl.compute_score(
        task.env_id, reference, truth, {"verifier_options": '{"ordered":true}'}, ordered=False
    )
    assert clash["score"] == 0.0 and "'ordered' differs" in clash["reason"]
    same = rlvr_verl.compute_score(
        task.env_id, reference, truth, {"verifier_options": '{"ordered":true}'}, ordered=True
    )
    assert same["score"] == 1.0
    # an option of another env (Maze's partial) leaves Math's verifier as it is
    assert rlvr_verl.compute_score(task.env_id, reference, truth, None, partial=True)["score"] == 1.0


# ---------------------------------------------------------------------------------------- TRL


def _columns(data) -> dict:
    return {name: data[name] for name in data.column_names if name != "prompt"}


def test_trl_dataset_rows_are_rewarded_as_the_env_with_their_options(ordered_file):
    data = rlvr_trl.dataset(mixture(ordered_file), n=N, seed=3, split=None)
    columns = _columns(data)
    tasks = [Task.from_dict(json.loads(cell)) for cell in columns["task"]]
    assert [json.loads(cell) for cell in columns["verifier_options"]] == [OPTIONS[t.env_id] for t in tasks]
    cases = _check_cases(tasks)
    reward = rlvr_trl.reward_function()
    per_task = {task.id: [(r, e) for t, r, e in cases if t.id == task.id] for task in tasks}
    for k in range(max(map(len, per_task.values()))):
        picked = [per_task[t.id][k] if k < len(per_task[t.id]) else per_task[t.id][0] for t in tasks]
        completions = [response if isinstance(response, str) else "" for response, _ in picked]
        expected = [env_reward(t, c) for t, c in zip(tasks, completions)]
        assert reward(data["prompt"], completions, **columns) == expected, k
    hostile = ["not json", "[]", '{"tolerance": 2}', '{"nope": 1}', "[" * 200_000 + "]" * 200_000, 5, None]
    references = [rlvr.solve(t) for t in tasks]
    for carried in hostile:
        bad = dict(columns, verifier_options=[carried] * len(tasks))
        scores = reward(data["prompt"], references, **bad)
        assert scores == [0.0 if carried is not None else 1.0] * len(tasks), carried
    clash = rlvr_trl.reward_function(ordered=False)(data["prompt"], references, **columns)
    assert [s == 0.0 for s in clash] == [t.env_id == "rlvr/Math-v0" for t in tasks]


# ----------------------------------------------------------------------------------------- HF


def test_hf_dataset_carries_options_and_never_drops_them(ordered_file):
    data = hf.dataset(mixture(ordered_file), N, seed=3, split=None)
    assert "verifier_options" in data.column_names
    with pytest.raises(ValueError, match="carries verifier options"):
        hf.from_dataset(data)
    pairs = hf.from_dataset(data, with_options=True)
    assert [options for _, options in pairs] == [OPTIONS[t.env_id] for t, _ in pairs]
    trl_tasks = [json.loads(cell) for cell in rlvr_trl.dataset(mixture(ordered_file), n=N, seed=3, split=None)["task"]]
    assert [rlvr_verl.ground_truth(t) for t, _ in pairs] == [
        json.dumps(t, sort_keys=True, ensure_ascii=False, separators=(",", ":")) for t in trl_tasks
    ]
    for task, response, expected in _check_cases([t for t, _ in pairs]):
        options = dict(next(o for t, o in pairs if t.id == task.id))
        assert rlvr.verify(task, response, **options).reward == expected, (task.id, response)


# ------------------------------------------------------------------------ checked at export


BAD = [
    ({"rlvr/Causal-v0": {"options": {"tolerance": 0.0}}}, {}, "tolerance=0.0"),
    ("rlvr/Causal-v0", {"tolerance": 1.5}, "tolerance=1.5"),
    ("rlvr/Math-v0", {"units": "bogus"}, "units='bogus'"),
    ("rlvr/Math-v0", {"tolerance": -1}, "tolerance=-1"),
    ("rlvr/Math-v0", {"tolerance": math.nan}, "tolerance=nan"),
    ({"rlvr/Maze-v0": 1, "rlvr/Math-v0": {"options": {"tolerance": 1.0}}}, {}, "tolerance=1.0"),
    (
        [{"id": "rlvr/Math-v0", "options": {"ordered": True}}, {"id": "rlvr/Math-v0", "difficulty": 0.2}],
        {},
        "different verifier options",
    ),
    ("rlvr/Maze-v0", {"verifier_options": {"partail": True}}, "partail"),
]


@pytest.mark.parametrize(("envs", "options", "named"), BAD)
def test_illegal_options_raise_at_export(envs, options, named, tmp_path):
    path = tmp_path / "x.parquet"
    with pytest.raises(ValueError, match=re.escape(named)):
        rlvr_verl.export_mix(envs, 4, path, **options)
    assert not path.exists()
    with pytest.raises(ValueError, match=re.escape(named)):
        rlvr_trl.dataset(envs, n=4, **options)
    with pytest.raises(ValueError, match=re.escape(named)):
        hf.dataset(envs, 4, **options)
    with pytest.raises(ValueError, match=re.escape(named)):
        rlvr.generate_mix(envs, 4, with_options=True, **options)


def test_generate_mix_raises_rather_than_drop_options():
    for envs, options in [("rlvr/Math-v0", {"ordered": True}), ({"rlvr/TSP-v0": {"options": {"partial": True}}}, {})]:
        with pytest.raises(ValueError, match="no part of a task and would be dropped"):
            rlvr.generate_mix(envs, 2, **options)
        with pytest.raises(ValueError, match="no part of a task and would be dropped"):
            rlvr.iter_generate_mix(envs, 2, **options)  # checked at the call
    pairs = rlvr.generate_mix({"rlvr/Maze-v0": 1, "rlvr/TSP-v0": {"options": {"partial": True}}}, 4, with_options=True)
    assert [options for _, options in pairs] == [
        {"partial": True} if t.env_id == "rlvr/TSP-v0" else {} for t, _ in pairs
    ]
    assert [t.to_json() for t, _ in pairs] == [
        t.to_json() for t in rlvr.generate_mix(["rlvr/Maze-v0", "rlvr/TSP-v0"], 4)
    ]
    with pytest.raises(ValueError, match="leave encode None"):
        rlvr.iter_generate_mix("rlvr/Maze-v0", 2, with_options=True, encode=Task.to_json)


# ------------------------------------------------------------------- rows without options


def test_rows_without_options_are_as_before(tmp_path):
    envs = {"rlvr/Maze-v0": 1, "rlvr/Countdown-v0": 1, "rlvr/Math-v0": 1}
    tasks = rlvr.generate_mix(envs, 9, seed=2)
    path, direct = tmp_path / "mix.parquet", tmp_path / "direct.parquet"
    rlvr_verl.export_mix(envs, 9, path, seed=2)
    rlvr_verl.export_parquet(tasks, direct)
    assert pq.read_schema(path).remove_metadata() == rlvr_verl.schema()
    rows = pq.read_table(path).to_pylist()
    assert rows == pq.read_table(direct).to_pylist()
    assert all(set(row["extra_info"]) == {"split", "index", "task_id", "difficulty", "seed"} for row in rows)
    for row, task in zip(rows, tasks):
        for response in (rlvr.solve(task), "", rlvr.make_generator(task.env_id).wrong_response(task)):
            score = rlvr_verl.compute_score(
                row["data_source"], response, row["reward_model"]["ground_truth"], row["extra_info"]
            )
            assert score["score"] == rlvr.verify(task, response).reward
    data = rlvr_trl.dataset(envs, n=9, seed=2)
    assert data.column_names == ["prompt", "task", "env_id", "task_id", "difficulty"]
    assert [json.loads(cell) for cell in data["task"]] == [json.loads(rlvr_verl.ground_truth(t)) for t in tasks]
    frame = hf.dataset(envs, 9, seed=2)
    assert frame.column_names == list(hf.features()) and "verifier_options" not in hf.features()
    assert [t.to_json() for t in hf.from_dataset(frame)] == [t.to_json() for t in tasks]
    assert [o for _, o in hf.from_dataset(frame, with_options=True)] == [{}] * 9


# ------------------------------------------------ second pass: what a row may carry (R2-1 … R2-3)


def test_a_row_carries_only_scoring_options_never_the_hosts(tmp_path):
    """Red team s14 R2-1: a row's options reached every option its env declares, so a shared
    file with ``sandbox="unsafe-none"`` ran a response on the host, and ``deadline_s`` let a
    simulation outlive its caller. Rows carry only how an answer is judged; the sandbox, limits,
    images and directories come from the caller (a call's own ``sandbox`` still works)."""
    task = rlvr.make_task("rlvr/Code-v0", seed=200001, difficulty=0.0)
    truth = rlvr_verl.ground_truth(task)
    marker = tmp_path / "escaped"
    escape = f"```python\nopen({str(marker)!r}, 'w').write('x')\n```"
    for carried in (
        {"sandbox": "unsafe-none", "allow_unsafe_unsandboxed": True},
        {"memory_mb": 100_000},
        {"partial": True, "warm": False},
    ):
        result = rlvr_verl.compute_score(task.env_id, escape, truth, {"verifier_options": json.dumps(carried)})
        assert result["score"] == 0.0 and "carries only scoring options" in result["reason"], result
        scores = rlvr_trl.reward_function()(
            prompts=["p"], completions=[escape], task=[truth], verifier_options=[json.dumps(carried)]
        )
        assert scores == [0.0]
    assert not marker.exists()
    verilog = rlvr.make_task("rlvr/Verilog-v0", seed=200001, difficulty=0.0)
    result = rlvr_verl.compute_score(
        verilog.env_id, rlvr.solve(verilog), rlvr_verl.ground_truth(verilog), {"verifier_options": '{"deadline_s":1e5}'}
    )
    assert result["score"] == 0.0 and "deadline_s" in result["reason"]
    for envs, options in (("rlvr/Code-v0", {"sandbox": "bwrap"}), ("rlvr/Math-v0", {"deadline_s": 30.0})):
        with pytest.raises(ValueError, match="belongs to the host that scores"):
            rlvr.generate_mix(envs, 2, with_options=True, **options)
        with pytest.raises(ValueError, match="belongs to the host that scores"):
            rlvr_verl.export_mix(envs, 2, tmp_path / "host.parquet", **options)
    assert not (tmp_path / "host.parquet").exists()
    data = hf.dataset({"rlvr/Maze-v0": {"options": {"partial": True}}}, 2, split=None)
    hostile = data.map(lambda row: {"verifier_options": '{"sandbox": "unsafe-none"}'})
    with pytest.raises(ValueError, match="carries only scoring options"):
        hf.from_dataset(hostile, with_options=True)


def test_on_off_options_take_only_true_or_false():
    """Red team s14 R2-2: ``bool(partial)`` read the text "False", NaN or ``[False]`` as on, so
    options from a file or a config switched partial credit on (wrong answers paid up to 0.88);
    the unsafe backend's ``allow_unsafe_unsandboxed`` took any truthy value the same way."""
    import numpy as np

    from rlvr.verifiers.sandbox import Sandbox

    for env_id, name in (
        ("rlvr/Knapsack-v0", "partial"),
        ("rlvr/ArcGrid-v0", "partial"),
        ("rlvr/Causal-v0", "partial"),
        ("rlvr/Zebra-v0", "partial"),
        ("rlvr/KnightsKnaves-v0", "partial"),
        ("rlvr/Maze-v0", "shortest"),
        ("rlvr/Math-v0", "ordered"),
    ):
        for value in ("False", "false", 0, 1, math.nan, [False], None):
            with pytest.raises(ValueError, match=f"{name} must be true or false"):
                rlvr.make_verifier(env_id, **{name: value})
        assert getattr(rlvr.make_verifier(env_id, **{name: np.False_}), name) is False
    task = rlvr.make_task("rlvr/Knapsack-v0", seed=200001, difficulty=0.5)
    result = rlvr_verl.compute_score(
        task.env_id,
        rlvr.api.make_generator(task.env_id).wrong_response(task),
        rlvr_verl.ground_truth(task),
        {"verifier_options": '{"partial": "False"}'},
    )
    assert result["score"] == 0.0 and "partial must be true or false" in result["reason"]
    with pytest.raises(ValueError, match="allow_unsafe_unsandboxed=True"):
        Sandbox("unsafe-none", allow_unsafe_unsandboxed="False")


def test_convert_refuses_a_verl_file_whose_rows_carry_options(ordered_file, tmp_path):
    """Red team s14 R2-3: ``rlvr convert`` read a verl file with options as plain tasks and wrote
    them out without their options (exit 0). Now it is a usage error; the reader gives the pairs
    when asked."""
    from rlvr.cli import main

    source = tmp_path / "with.parquet"
    rlvr_verl.export_mix(mixture(ordered_file), N, source, seed=3, split=None)
    with pytest.raises(ValueError, match="carries verifier options"):
        rlvr_verl.read_tasks(source)
    pairs = list(rlvr_verl.read_tasks(source, with_options=True))
    assert len(pairs) == N and [options for _, options in pairs] == [OPTIONS[t.env_id] for t, _ in pairs]
    target = tmp_path / "out.jsonl"
    assert main(["convert", str(source), str(target)]) == 2
    assert not target.exists()
