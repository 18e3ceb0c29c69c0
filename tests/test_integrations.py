"""Adapters against the real libraries: Hugging Face datasets, TRL's GRPOTrainer, verl's dataset
and reward manager. Models and tokenizers are the tiny offline ones of rlvr.trainers.tiny."""

from __future__ import annotations

import json

import numpy as np
import pytest

import rlvr
from rlvr.cli import main as cli_main
from rlvr.core import Task

datasets = pytest.importorskip("datasets", reason="needs the hf extra")

from rlvr.integrations import hf  # noqa: E402
from rlvr.integrations import trl as rlvr_trl  # noqa: E402
from rlvr.integrations import verl as rlvr_verl  # noqa: E402

MIXED = [
    ("rlvr/Maze-v0", 0.3),
    ("rlvr/Math-v0", 0.5),
    ("rlvr/Jigsaw-v0", 0.4),
    ("rlvr/Knapsack-v0", 0.2),
    ("rlvr/Causal-v0", 0.1),
]


@pytest.fixture(scope="module")
def mixed_tasks() -> list[Task]:
    return [rlvr.make_task(env_id, seed=seed, difficulty=d) for env_id, d in MIXED for seed in range(3)]


# ------------------------------------------------------------------------- Hugging Face datasets


def test_hf_round_trip_is_byte_identical(mixed_tasks, tmp_path):
    dataset = hf.to_dataset(mixed_tasks)
    assert dataset.num_rows == len(mixed_tasks)
    assert isinstance(dataset.features["images"].feature, datasets.Image)
    assert [t.to_json() for t in hf.from_dataset(dataset)] == [t.to_json() for t in mixed_tasks]
    hf.save(mixed_tasks, tmp_path / "ds")
    loaded = datasets.load_from_disk(str(tmp_path / "ds"))
    assert [t.to_json() for t in hf.from_dataset(loaded)] == [t.to_json() for t in mixed_tasks]
    jigsaw = next(row for row in loaded if row["env_id"] == "rlvr/Jigsaw-v0")
    original = next(t for t in mixed_tasks if t.id == jigsaw["id"])
    assert np.array_equal(np.asarray(jigsaw["images"][0].convert("RGB")), np.asarray(original.images[0].convert("RGB")))
    assert [hf.row_task(row).to_json() for row in loaded] == [t.to_json() for t in mixed_tasks]  # decoded PIL rows too


def test_cli_generate_hf_and_verl_formats(tmp_path):
    assert (
        cli_main(
            [
                "generate",
                "rlvr/Rotation-v0",
                "-n",
                "4",
                "--difficulty",
                "0.2",
                "-o",
                str(tmp_path / "hf"),
                "--format",
                "hf",
                "-q",
            ]
        )
        == 0
    )
    expected = [t.to_json() for t in rlvr.generate("rlvr/Rotation-v0", 4, difficulty=0.2)]
    assert [t.to_json() for t in hf.from_dataset(datasets.load_from_disk(str(tmp_path / "hf")))] == expected
    assert (
        cli_main(
            ["generate", "rlvr/Maze-v0", "-n", "3", "-o", str(tmp_path / "train.parquet"), "--format", "verl", "-q"]
        )
        == 0
    )
    import pyarrow.parquet as pq

    rows = pq.read_table(tmp_path / "train.parquet").to_pylist()
    assert [r["data_source"] for r in rows] == ["rlvr/Maze-v0"] * 3
    assert (
        cli_main(
            ["generate", "rlvr/Maze-v0", "-n", "2", "-o", str(tmp_path / "plain.data"), "--format", "parquet", "-q"]
        )
        == 0
    )
    assert pq.read_table(tmp_path / "plain.data").num_rows == 2


# ------------------------------------------------------------------------------------------ TRL


def test_trl_dataset_mixture_is_deterministic_and_weighted():
    weights = {"rlvr/Maze-v0": 3, "rlvr/SubsetSum-v0": 1}
    first = rlvr_trl.dataset(weights, n=12, seed=5, difficulty={"rlvr/Maze-v0": 0.1, "rlvr/SubsetSum-v0": 0.4})
    again = rlvr_trl.dataset(weights, n=12, seed=5, difficulty={"rlvr/Maze-v0": 0.1, "rlvr/SubsetSum-v0": 0.4})
    assert first.to_list() == again.to_list()
    assert sorted(first["env_id"]) == ["rlvr/Maze-v0"] * 9 + ["rlvr/SubsetSum-v0"] * 3
    assert first["env_id"] != sorted(first["env_id"])  # interleaved, not blocks
    assert "images" not in first.column_names
    for row in first:
        task = Task.from_dict(json.loads(row["task"]))
        assert row["prompt"] == [{"role": "user", "content": task.prompt}]
        assert task.difficulty == (0.1 if task.env_id == "rlvr/Maze-v0" else 0.4)
    plain = rlvr_trl.dataset("rlvr/Maze-v0", n=2, conversational=False, system_prompt="Think.")
    assert plain[0]["prompt"].startswith("Think.\n\n")
    assert rlvr_trl.env_shares(["a", "b", "c"], 10) == {"a": 4, "b": 3, "c": 3}
    with pytest.raises(ValueError):
        rlvr_trl.env_shares({"a": 0}, 3)


def test_trl_reward_function_scores_rows_by_their_task():
    data = rlvr_trl.dataset(["rlvr/Maze-v0", "rlvr/Rotation-v0", "rlvr/Math-v0"], n=9, difficulty=0.2)
    assert "images" in data.column_names
    tasks = [Task.from_dict(json.loads(cell)) for cell in data["task"]]
    references = [rlvr.solve(t) for t in tasks]
    reward = rlvr_trl.reward_function()
    assert reward.__name__ == "rlvr"
    conversational = [[{"role": "assistant", "content": text}] for text in references]
    assert reward(data["prompt"], conversational, task=data["task"]) == [1.0] * 9
    parts = [[{"role": "assistant", "content": [{"type": "text", "text": text}]}] for text in references]
    assert reward(data["prompt"], parts, task=data["task"]) == [1.0] * 9
    assert reward(data["prompt"], references, task=data["task"]) == [1.0] * 9  # plain-text completions
    hostile = [
        "",
        "<answer>" * 10_000,
        None,
        12,
        {"role": "assistant"},
        [],
        [{"role": "user", "content": "x"}],
        "\x00" * 100,
        "DROP TABLE",
    ]
    assert reward(data["prompt"], hostile, task=data["task"]) == [0.0] * 9
    for bad_text in (None, 5, ["x"], {"a": 1}, b"<answer>"):  # red team S6-4: crashed the whole batch
        for index in (0, 4, 8):
            bad_part = [{"type": "text", "text": references[index]}, {"type": "text", "text": bad_text}]
            completions = [*parts[:index], [{"role": "assistant", "content": bad_part}], *parts[index + 1 :]]
            assert reward(data["prompt"], completions, task=data["task"]) == [float(i != index) for i in range(9)]
            assert not isinstance(rlvr_trl.completion_text(completions[index]), str)
    only_maze = rlvr_trl.reward_function("rlvr/Maze-v0")
    scores = only_maze(data["prompt"], references, task=data["task"])
    assert [s is not None for s in scores] == [t.env_id == "rlvr/Maze-v0" for t in tasks]
    assert rlvr_trl.reward_function("Maze-v0")(data["prompt"], references, task=data["task"]) == scores  # no prefix
    assert reward(data["prompt"], references, task=["not json", *data["task"][1:]])[0] == 0.0
    logged = {}
    reward(data["prompt"], references, task=data["task"], log_metric=lambda name, value: logged.setdefault(name, value))
    assert logged["rlvr/Maze-v0/accuracy"] == 1.0 and logged["rlvr/Math-v0/format_ok"] == 1.0


def test_trl_reward_options_reach_only_the_envs_that_declare_them():
    """Red team S10-G2: ``partial=True`` over a mixture was handed to every verifier; those
    without the option raised, and every row of their envs scored 0, the reference included."""
    envs = ["rlvr/Maze-v0", "rlvr/Sudoku-v0", "rlvr/Math-v0", "rlvr/Countdown-v0", "rlvr/StepOrder-v0"]
    data = rlvr_trl.dataset(envs, n=10, difficulty=0.2)
    tasks = [Task.from_dict(json.loads(cell)) for cell in data["task"]]
    references = [rlvr.solve(t) for t in tasks]
    assert rlvr_trl.reward_function(partial=True)(data["prompt"], references, task=data["task"]) == [1.0] * 10
    maze = [i for i, t in enumerate(tasks) if t.env_id == "rlvr/Maze-v0"]
    partial_walk = rlvr_trl.reward_function(partial=True)(
        data["prompt"], ["<answer>R</answer>"] * 10, task=data["task"]
    )
    binary_walk = rlvr_trl.reward_function()(data["prompt"], ["<answer>R</answer>"] * 10, task=data["task"])
    assert all(binary_walk[i] == 0.0 <= partial_walk[i] for i in maze)
    with pytest.raises(ValueError, match="no verifier of the envs named has the option 'partial'"):
        rlvr_trl.reward_function(["rlvr/Sudoku-v0", "rlvr/Math-v0"], partial=True)
    with pytest.raises(ValueError, match="'partail'"):
        rlvr_trl.reward_function(partail=True)
    with pytest.raises(ValueError, match=r"rlvr/Sudoku-v0's verifier has no option 'partial' \(its options: none\)"):
        rlvr.make_verifier("rlvr/Sudoku-v0", partial=True)


def test_trl_grpo_trainer_runs_with_rlvr_rewards(tmp_path):
    """TRL's real GRPOTrainer takes two steps on CPU; every reward it used equals rlvr's verdict."""
    pytest.importorskip("trl", reason="needs the trl extra")
    import torch
    from trl import GRPOConfig, GRPOTrainer

    from rlvr.trainers.tiny import build_tiny_model, build_tiny_tokenizer

    torch.set_num_threads(1)
    tokenizer = build_tiny_tokenizer()
    model = build_tiny_model(tokenizer, "0.2M")
    train = rlvr_trl.dataset({"rlvr/Maze-v0": 1, "rlvr/SubsetSum-v0": 1}, n=8, difficulty=0.0)
    reward = rlvr_trl.reward_function()
    seen: list[tuple[list, list, list]] = []

    def recorded(prompts, completions, **columns):
        rewards = reward(prompts, completions, **columns)
        seen.append((list(completions), list(columns["task"]), rewards))
        return rewards

    args = GRPOConfig(
        output_dir=str(tmp_path / "trl"),
        max_steps=2,
        per_device_train_batch_size=4,
        num_generations=2,
        max_completion_length=8,
        learning_rate=1e-3,
        use_cpu=True,
        logging_steps=1,
        report_to="none",
        save_strategy="no",
        seed=0,
        bf16=False,
        disable_tqdm=True,
        dataloader_num_workers=0,
        beta=0.0,
    )
    trainer = GRPOTrainer(
        model=model, reward_funcs=recorded, args=args, train_dataset=train, processing_class=tokenizer
    )
    trainer.train()
    assert trainer.state.global_step == 2
    assert sum(len(c) for c, _, _ in seen) >= 8
    for completions, cells, rewards in seen:
        for completion, cell, given in zip(completions, cells, rewards):
            task = Task.from_dict(json.loads(cell))
            assert given == rlvr.verify(task, rlvr_trl.completion_text(completion)).reward
    logged = {key for entry in trainer.state.log_history for key in entry}
    assert "rewards/recorded/mean" in logged


# ----------------------------------------------------------------------------------------- verl


def test_verl_compute_score_contract(mixed_tasks):
    for task in mixed_tasks:
        truth = rlvr_verl.ground_truth(task)
        good = rlvr_verl.compute_score(task.env_id, rlvr.solve(task), truth, {"index": 0})
        assert good["score"] == 1.0 and good["acc"] == 1.0, (task.id, good)
        bad = rlvr_verl.compute_score(task.env_id, rlvr.make_generator(task.env_id).wrong_response(task), truth)
        assert bad["acc"] == 0.0
        assert set(good) == {"score", "acc", "format_ok", "reason", "not_judged"}
    task = mixed_tasks[0]
    for data_source, solution, truth in [
        (task.env_id, rlvr.solve(task), "not json"),
        (task.env_id, rlvr.solve(task), json.dumps({"id": 1})),
        ("rlvr/Math-v0", rlvr.solve(task), rlvr_verl.ground_truth(task)),
        (task.env_id, None, rlvr_verl.ground_truth(task)),
        (task.env_id, rlvr.solve(task), rlvr_verl.ground_truth(task).replace("rlvr/Maze-v0", "rlvr/Nope-v0")),
    ]:
        result = rlvr_verl.compute_score(data_source, solution, truth)
        assert result["score"] == 0.0 and result["reason"]
        assert set(result) == {"score", "acc", "format_ok", "reason", "not_judged"}  # verl gathers keys per batch


def test_verl_export_layout(mixed_tasks, tmp_path):
    import pyarrow.parquet as pq

    path = tmp_path / "mixed.parquet"
    assert rlvr_verl.export_parquet(mixed_tasks, path, split="test", system_prompt="Be brief.") == len(mixed_tasks)
    rows = pq.read_table(path).to_pylist()
    for index, (row, task) in enumerate(zip(rows, mixed_tasks)):
        assert row["data_source"] == task.env_id and row["ability"] == task.family
        assert row["reward_model"] == {"style": "rule", "ground_truth": rlvr_verl.ground_truth(task)}
        assert row["extra_info"] == {
            "split": "test",
            "index": index,
            "task_id": task.id,
            "difficulty": task.difficulty,
            "seed": task.seed,
        }
        assert row["prompt"][0] == {"role": "system", "content": "Be brief."}
        user = row["prompt"][1]["content"]
        assert user.count("<image>") == len(task.images) == len(row["images"])
        assert user.endswith(task.prompt)
        from rlvr.core import png_to_image

        for stored, image in zip(row["images"], task.images):
            assert np.array_equal(np.asarray(png_to_image(stored["bytes"])), np.asarray(image))


def test_verl_dataset_and_reward_manager_score_exported_tasks(tmp_path):
    """verl's own RLHFDataset reads the export and its NaiveRewardManager scores with our compute_score."""
    pytest.importorskip("verl", reason="verl is not installed (scripts/setup.sh installs it)")
    import torch
    from omegaconf import OmegaConf
    from verl import DataProto
    from verl.utils.dataset.rl_dataset import RLHFDataset
    from verl.utils.import_utils import load_extern_object
    from verl.workers.reward_manager.naive import NaiveRewardManager

    from rlvr.trainers.tiny import build_tiny_tokenizer

    tasks = [rlvr.make_task("rlvr/Maze-v0", seed=s, difficulty=0.0) for s in range(3)]
    tasks += [rlvr.make_task("rlvr/SubsetSum-v0", seed=s, difficulty=0.0) for s in range(3)]
    path = tmp_path / "train.parquet"
    rlvr_verl.export_parquet(tasks, path)
    tokenizer = build_tiny_tokenizer()
    config = OmegaConf.create(
        {"max_prompt_length": 4096, "filter_overlong_prompts": False, "cache_dir": str(tmp_path / "cache")}
    )
    dataset = RLHFDataset(data_files=str(path), tokenizer=tokenizer, config=config)
    assert len(dataset) == len(tasks)
    items = [dataset[i] for i in range(len(dataset))]
    assert [item["raw_prompt"][-1]["content"] for item in items] == [t.prompt for t in tasks]

    answers = [
        rlvr.solve(t) if i % 2 == 0 else rlvr.make_generator(t.env_id).wrong_response(t) for i, t in enumerate(tasks)
    ]
    prompt_ids = [tokenizer.encode(t.prompt)[-16:] for t in tasks]
    response_ids = [tokenizer.encode(a) for a in answers]
    prompt_width, response_width = max(map(len, prompt_ids)), max(map(len, response_ids))
    pad = tokenizer.pad_token_id

    def padded(ids, width, left):
        fill = [pad] * (width - len(ids))
        return (fill + ids) if left else (ids + fill)

    prompts = torch.tensor([padded(ids, prompt_width, True) for ids in prompt_ids])
    responses = torch.tensor([padded(ids, response_width, False) for ids in response_ids])
    mask = torch.tensor(
        [
            [0] * (prompt_width - len(p)) + [1] * len(p) + [1] * len(r) + [0] * (response_width - len(r))
            for p, r in zip(prompt_ids, response_ids)
        ]
    )
    batch = DataProto.from_dict(
        tensors={"prompts": prompts, "responses": responses, "attention_mask": mask},
        non_tensors={
            key: np.array([item[key] for item in items], dtype=object)
            for key in ("data_source", "reward_model", "extra_info")
        },
    )
    compute_score = load_extern_object(module_path=rlvr_verl.__file__, object_name="compute_score")
    manager = NaiveRewardManager(tokenizer=tokenizer, num_examine=0, compute_score=compute_score)
    result = manager(batch, return_dict=True)
    scores = result["reward_tensor"].sum(dim=1).tolist()
    expected = [rlvr.verify(t, a).reward for t, a in zip(tasks, answers)]
    assert scores == expected and expected[0::2] == [1.0] * 3 and max(expected[1::2]) < 1.0
    assert result["reward_extra_info"]["acc"] == [float(i % 2 == 0) for i in range(len(tasks))]


def test_verifier_options_named_like_generate_arguments_do_not_clash():
    """Code-v0's sandbox ``backend`` is a verifier option; generate's ``backend`` picks local or Ray."""
    options = {"backend": "bwrap", "partial": True}
    grouped = rlvr.api.group_options("rlvr/Code-v0", options)
    assert grouped.for_tasks() == {"params": {}, "generator_options": {}} and grouped.verifier == options
    data = rlvr_trl.dataset("rlvr/Code-v0", n=2, difficulty=0.1, partial=True)
    with pytest.raises(ValueError, match="'backend' belongs to the host that scores"):  # the sandbox's, not a row's
        rlvr_trl.dataset("rlvr/Code-v0", n=2, difficulty=0.1, **options)
    assert sorted(data["task_id"]) == sorted(t.id for t in rlvr.generate("rlvr/Code-v0", 2, difficulty=0.1))
    with pytest.raises(ValueError):
        rlvr.generate("rlvr/Code-v0", 2, backend="bwrap")
