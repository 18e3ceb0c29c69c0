"""The GRPO-family trainer on CPU: it learns, scores within deadlines, resumes, logs, adapts.

Everything runs offline with the tiny model and tokenizer of rlvr.trainers.tiny. Torch uses one
thread (the tiny model gains nothing from two) so runs are reproducible for a fixed seed.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

pytest.importorskip("transformers")

from tiny_training import small_config

from rlvr.core import SafeVerifier, Task, Verdict
from rlvr.trainers import TrainConfig, demo_config, load_config
from rlvr.trainers.curriculum import BetaTaskSelector, DifficultyController
from rlvr.trainers.grpo import collate, token_logprobs, train
from rlvr.trainers.rollout import HFSampler, RewardSource, Scorer, TemperatureSchedule, run_episodes
from rlvr.trainers.run_directory import read_metrics
from rlvr.trainers.tiny import (
    CopyGenerator,
    CopyVerifier,
    SumsGenerator,
    SumsVerifier,
    build_tiny_model,
    build_tiny_tokenizer,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# --------------------------------------------------------------------------------------------
# The tiny tasks, tokenizer and model
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("generator, verifier", [(CopyGenerator(), CopyVerifier()), (SumsGenerator(), SumsVerifier())])
def test_tiny_tasks_keep_the_generator_contract(generator, verifier):
    for difficulty in (0.0, 0.5, 1.0):
        for seed in range(30):
            task = generator.generate(seed, difficulty)
            assert task.prompt.endswith("Put your final answer inside <answer>…</answer>.")
            assert verifier.verify(task, generator.solve(task)).correct
            assert not verifier.verify(task, generator.wrong_response(task)).correct
            replayed = Task.from_dict(json.loads(task.to_json()))
            assert verifier.verify(replayed, generator.solve(task)).correct
    task = generator.generate(1, 0.0)
    for hostile in (
        "",
        "x" * 10_000_000,
        "\x00\xff" * 100,
        "<answer>9^9^9^9</answer>",
        "<answer>" + "(" * 1000 + "</answer>",
        "<answer>1</answer><answer>2</answer> or 3",
        None,
        b"<answer>1</answer>",
    ):
        assert verifier.verify(task, hostile).reward == 0.0 or hostile == generator.solve(task)


def test_tiny_difficulty_tables_match_the_docstring():
    assert SumsGenerator.table.resolve(0.0) == {"terms": 2, "max_operand": 4}
    assert SumsGenerator.table.resolve(1.0) == {"terms": 3, "max_operand": 9}
    assert CopyGenerator.table.resolve(0.0) == {"min_length": 1, "max_length": 3, "alphabet": 5}
    totals = {SumsGenerator().generate(seed, 0.0).answer["total"] for seed in range(300)}
    assert totals == set(range(9))  # operands 0–4


def test_tiny_tokenizer_round_trips_and_keeps_digits_whole():
    tokenizer = build_tiny_tokenizer()
    task = SumsGenerator().generate(0, 1.0)
    for text in (task.prompt, "<answer>12345</answer>", "é ü — 9^9^9 \\frac{1}{2}"):
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        assert tokenizer.decode(ids) == text
    digits = tokenizer("9081726354", add_special_tokens=False)["input_ids"]
    assert len(digits) == 10
    assert len(tokenizer("<answer>", add_special_tokens=False)["input_ids"]) == 1
    rendered = tokenizer.apply_chat_template(
        [{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True
    )
    assert rendered == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.pad_token_id != tokenizer.eos_token_id
    model = build_tiny_model(tokenizer, "0.6M")
    assert 0.5e6 < sum(p.numel() for p in model.parameters()) < 0.8e6


def test_training_logprobs_match_the_sampler():
    """Left-padded prompts + right-padded completions give the log-probabilities generate() used."""
    tokenizer = build_tiny_tokenizer()
    model = build_tiny_model(tokenizer, "0.2M", seed=1)
    prompts = [tokenizer(f"{i}+{i}=?" + " pad" * i, add_special_tokens=False)["input_ids"] for i in range(4)]
    torch.manual_seed(0)
    width = max(map(len, prompts))
    ids = torch.tensor([[tokenizer.pad_token_id] * (width - len(p)) + p for p in prompts])
    mask = (ids != tokenizer.pad_token_id).long()
    out = model.generate(
        input_ids=ids,
        attention_mask=mask,
        do_sample=True,
        top_k=0,
        max_new_tokens=5,
        output_scores=True,
        return_dict_in_generate=True,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    completions = out.sequences[:, width:]
    sampled = torch.stack(out.scores, 1).log_softmax(-1).gather(-1, completions.unsqueeze(-1)).squeeze(-1)
    rows = []
    for prompt, completion in zip(prompts, completions.tolist()):
        rows.append((prompt, completion, [1] * len(completion), list(range(len(completion)))))
    batch = collate(rows, tokenizer.pad_token_id, "cpu")
    with torch.no_grad():
        logp, entropy = token_logprobs(model, batch, TemperatureSchedule(1.0))
    finite = torch.isfinite(sampled)  # positions after EOS are padded with -inf scores
    assert torch.allclose(logp[finite], sampled[finite], atol=1e-4)
    assert (entropy > 0).all()


def test_annealed_temperature_schedule():
    schedule = TemperatureSchedule(1.2, 0.6, 4)
    assert schedule.at(torch.tensor([0, 2, 4, 10])).tolist() == pytest.approx([1.2, 0.9, 0.6, 0.6])
    assert TemperatureSchedule(0.7).at(torch.tensor([0, 50])).tolist() == pytest.approx([0.7, 0.7])


# --------------------------------------------------------------------------------------------
# Learning
# --------------------------------------------------------------------------------------------


def test_tiny_model_learns_sums_with_a_fixed_seed(tmp_path):
    """SFT on one-digit copying teaches the format only; RL (DAPO) must then learn addition."""
    config = demo_config(
        output_dir=str(tmp_path / "demo"), steps=40, eval_tasks=0, progress=False, plot=True, save_every=100
    )
    result = train(config)
    rewards = [row["reward"] for row in result.metrics]
    first, last = np.mean(rewards[:5]), np.mean(rewards[-5:])
    print(f"reward per step: {' '.join(f'{r:.2f}' for r in rewards)}")
    assert first < 0.35  # about chance (1 in 9) after the format-only warm-up
    assert last > first + 0.3
    sft = [row for row in read_metrics(result.output_dir / "metrics.jsonl") if row.get("phase") == "sft"]
    assert len(sft) == config.warmup_sft_steps and sft[-1]["sft_loss"] < sft[0]["sft_loss"] / 10

    # metrics: every field the issue names, once per step, and a PNG of the curves
    rows = [row for row in read_metrics(result.output_dir / "metrics.jsonl") if row.get("phase") == "rl"]
    assert [row["step"] for row in rows] == list(range(1, 41))
    for key in (
        "reward",
        "reward/tiny/Sums-v0",
        "pass_rate",
        "pass_rate/tiny/Sums-v0",
        "zero_variance_fraction",
        "entropy",
        "kl",
        "response_length",
        "clip_fraction",
        "difficulty/tiny/Sums-v0",
        "time/generation",
        "time/scoring",
        "time/update",
        "groups_used",
        "refill_rounds",
    ):
        assert all(key in row and row[key] == row[key] for row in rows), key  # present and not NaN
    assert any(row["refill_rounds"] > 0 for row in rows)  # DAPO's dynamic sampling refilled some batches
    assert result.plot is not None and result.plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------------------------
# Scoring with deadlines
# --------------------------------------------------------------------------------------------


class StallingVerifier(SafeVerifier):
    """Correct for the reference answer; stalls far past its deadline on "<answer>stall</answer>".
    The deadline leaves a process worker's first call room on a loaded machine (at 0.3 s an
    honest verdict ran out once, with other jobs on both CPUs)."""

    deadline_s = 1.0

    def check(self, task: Task, response: str) -> Verdict:
        if "stall" in response:
            time.sleep(30)
        return SumsVerifier().check(task, response)


@pytest.mark.parametrize("backend", ["process", "thread"])
def test_a_stalling_verifier_is_cut_off_at_its_deadline(backend):
    generator = SumsGenerator()
    tasks = [generator.generate(seed, 0.0) for seed in range(4)]
    responses = [generator.solve(tasks[0]), "<answer>stall</answer>", generator.solve(tasks[2]), "<answer>99</answer>"]
    scorer = Scorer(workers=2, backend=backend, grace_s=0.5)
    try:
        started = time.monotonic()
        verdicts = scorer.score(
            [(t, r, StallingVerifier, StallingVerifier.deadline_s) for t, r in zip(tasks, responses)]
        )
        elapsed = time.monotonic() - started
    finally:
        scorer.close()
    assert [v.correct for v in verdicts] == [True, False, True, False]
    assert "deadline" in verdicts[1].reason and scorer.timeouts == 1
    assert elapsed < 25  # far less than the 30 s stall: the step went on without it


def test_training_steps_go_on_past_a_stalling_verifier(tmp_path):
    class StallOnLongAnswers(SafeVerifier):
        deadline_s = 0.2

        def check(self, task, response):
            if len(response) > 12:
                time.sleep(20)
            return SumsVerifier().check(task, response)

    source = RewardSource.custom("tiny/Sums-v0", SumsGenerator(), StallOnLongAnswers())
    config = small_config(tmp_path, steps=1, scoring_grace_s=0.3)
    result = train(config, sources=[source])
    row = result.metrics[0]
    assert row["scoring_timeouts"] > 0  # an untrained model writes long junk: those responses stalled
    assert row["time/scoring"] < 15


# --------------------------------------------------------------------------------------------
# Checkpoints, config, command line
# --------------------------------------------------------------------------------------------


def test_resume_from_a_checkpoint_continues_exactly(tmp_path):
    common = {
        "steps": 4,
        "save_every": 2,
        "inner_updates": 2,
        "minibatches": 2,
        "warmup_sft_steps": 3,
        "track_reference_kl": True,
        "task_selection": {"method": "beta", "pool_size": 8},
        "curriculum": {"enabled": True},
    }
    straight = train(small_config(tmp_path / "a", **common))
    train(small_config(tmp_path / "b", **{**common, "steps": 2}))
    resumed = train(small_config(tmp_path / "b", **common))
    assert [r["step"] for r in resumed.metrics] == [3, 4]
    keys = ("reward", "response_length", "loss", "kl", "entropy", "difficulty/tiny/Sums-v0")
    assert [[r[k] for k in keys] for r in resumed.metrics] == [[r[k] for k in keys] for r in straight.metrics[2:]]
    lines = read_metrics(tmp_path / "b" / "run" / "metrics.jsonl")
    assert [r["step"] for r in lines if r["phase"] == "rl"] == [1, 2, 3, 4]
    assert sum(r["phase"] == "sft" for r in lines) == 3  # the warm-up is not repeated on resume
    weights_a = torch.load(
        sorted((tmp_path / "a" / "run").glob("checkpoint-*"))[-1] / "trainer_state.pt", weights_only=False
    )
    weights_b = torch.load(
        sorted((tmp_path / "b" / "run").glob("checkpoint-*"))[-1] / "trainer_state.pt", weights_only=False
    )
    assert weights_a["controllers"] == weights_b["controllers"] and weights_a["selector"] == weights_b["selector"]
    assert len(list((tmp_path / "a" / "run").glob("checkpoint-*"))) == 2  # keep_checkpoints


def test_yaml_config_and_env_forms(tmp_path):
    config = load_config(ROOT / "examples" / "tiny_sums.yaml")
    assert config.envs[0].id == "tiny/Sums-v0" and config.loss == "dapo"
    mapping = TrainConfig.from_dict({"envs": {"tiny/Sums-v0": 0.7, "tiny/Copy-v0": {"weight": 0.3, "difficulty": 0.5}}})
    assert [(e.id, e.weight, e.difficulty) for e in mapping.envs] == [
        ("tiny/Sums-v0", 0.7, 0.0),
        ("tiny/Copy-v0", 0.3, 0.5),
    ]
    with pytest.raises(ValueError, match="unknown config keys: lr"):
        TrainConfig.from_dict({"envs": ["tiny/Sums-v0"], "lr": 1.0})
    with pytest.raises(ValueError, match="unknown loss"):
        TrainConfig.from_dict({"envs": ["tiny/Sums-v0"], "loss": "ppo"})
    with pytest.raises(ValueError, match="visual"):
        RewardSource.from_env("rlvr/MazeImage-v0")


def test_train_command_line(tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(
        "envs:\n  - id: tiny/Copy-v0\n    difficulty: 0.0\nsteps: 2\ntasks_per_step: 2\ngroup_size: 2\n"
        "max_new_tokens: 4\n"
        f"output_dir: {tmp_path / 'out'}\nscoring_backend: thread\nprogress: false\ntorch_threads: 1\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "rlvr.cli", "train", str(config), "--warmup-sft", "2"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "mean reward" in result.stdout
    lines = read_metrics(tmp_path / "out" / "metrics.jsonl")
    assert sum(r["phase"] == "sft" for r in lines) == 2 and sum(r["phase"] == "rl" for r in lines) == 2
    assert (tmp_path / "out" / "metrics.png").exists()
    helped = subprocess.run(
        [sys.executable, "-m", "rlvr.cli", "train", "--help"], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert "--warmup-sft" in helped.stdout and "--demo" in helped.stdout


# --------------------------------------------------------------------------------------------
# Curriculum and task selection
# --------------------------------------------------------------------------------------------


def test_difficulty_controller_keeps_the_pass_rate_in_its_band():
    controller = DifficultyController(difficulty=0.2, low=0.3, high=0.7, step=0.1, smoothing=1.0)
    assert controller.update(0.5) == 0.2  # inside the band: stay
    assert controller.update(0.9) == 0.3  # too easy: harder
    assert controller.update(0.95) == 0.4
    assert controller.update(0.1) == 0.3  # too hard: easier
    smoothed = DifficultyController(difficulty=0.0, step=0.1, smoothing=0.5, max_difficulty=0.1)
    assert smoothed.update(1.0) == 0.1 and smoothed.update(1.0) == 0.1  # clamped at the maximum
    with pytest.raises(ValueError):
        DifficultyController(low=0.8, high=0.2)


class AlwaysCorrect(SafeVerifier):
    deadline_s = 1.0

    def check(self, task, response):
        return Verdict.success()


def test_curriculum_raises_the_difficulty_of_a_solved_env(tmp_path):
    source = RewardSource.custom("tiny/Sums-v0", SumsGenerator(), AlwaysCorrect())
    config = small_config(tmp_path, steps=3, curriculum={"enabled": True, "step": 0.1, "smoothing": 1.0})
    result = train(config, sources=[source])
    assert [row["difficulty/tiny/Sums-v0"] for row in result.metrics] == pytest.approx([0.1, 0.2, 0.3])


def test_beta_selection_prefers_uncertain_tasks():
    selector = BetaTaskSelector(pool_size=3, evidence_discount=1.0)
    rng = np.random.default_rng(0)
    for _ in range(5):
        selector.update("env", 0.0, 1, successes=8, failures=0)  # solved
        selector.update("env", 0.0, 2, successes=4, failures=4)  # a coin flip
        selector.update("env", 0.0, 3, successes=0, failures=8)  # hopeless
    assert selector.posterior("env", 0.0, 2) == (21.0, 21.0)
    picks = [selector.select("env", 0.0, 1, rng)[0] for _ in range(200)]
    assert picks.count(2) > 100 and picks.count(1) + picks.count(3) < 20  # fresh seeds take the rest
    assert set(selector.pools["env|0.0000"]) >= {2}  # the uncertain task stays in the pool
    assert len(selector.pools["env|0.0000"]) <= 3 and selector.evicted > 0
    discounted = BetaTaskSelector(evidence_discount=0.5)
    discounted.update("env", 0.0, 7, 4, 0)
    discounted.update("env", 0.0, 7, 0, 4)
    assert discounted.posterior("env", 0.0, 7) == (3.0, 5.0)  # 1 + 0.5·4 + 0, 1 + 0 + 4


# --------------------------------------------------------------------------------------------
# Multi-turn envs
# --------------------------------------------------------------------------------------------


class GuessEnv(gym.Env):
    """Guess the task's sum; a wrong guess gets "Wrong, try again." and another turn."""

    observation_space = gym.spaces.Text(4096)
    action_space = gym.spaces.Text(4096)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.task = options["task"]
        return self.task.prompt, {"task": self.task}

    def step(self, action):
        verdict = SumsVerifier().verify(self.task, action)
        if verdict.correct:
            return "", 1.0, True, False, {"verdict": verdict}
        return "Wrong, try again.", 0.0, False, False, {"verdict": verdict}


def test_multi_turn_episodes_mask_env_tokens():
    tokenizer = build_tiny_tokenizer()
    model = build_tiny_model(tokenizer, "0.2M", seed=2)
    generator = SumsGenerator()
    source = RewardSource.custom("guess", generator, SumsVerifier(), env_factory=GuessEnv)
    tasks = [(source, generator.generate(seed, 0.0)) for seed in range(3)]
    sampler = HFSampler(model, tokenizer, 5, TemperatureSchedule(1.0))
    scorer = Scorer(2, "thread")
    torch.manual_seed(0)
    episodes = run_episodes(tasks, 2, sampler, tokenizer, scorer, max_turns=3)
    assert len(episodes) == 6 and all(e.done for e in episodes)
    multi = [e for e in episodes if e.turns > 1]
    assert multi, "an untrained model should need more than one turn somewhere"
    for episode in multi:
        assert episode.messages[2] == {"role": "user", "content": "Wrong, try again."}
        env_part = [t for t, flag in zip(episode.completion_ids, episode.model_token) if flag == 0]
        text = tokenizer.decode(env_part)
        assert "Wrong, try again." in text and text.endswith("<|im_start|>assistant\n")
        model_part = [t for t, flag in zip(episode.completion_ids, episode.model_token) if flag == 1]
        assert len(model_part) == episode.response_tokens and "Wrong" not in tokenizer.decode(model_part)
        # the context of the last turn is exactly the chat template's rendering of the conversation
        last_turn = max(i for i, flag in enumerate(episode.model_token) if flag == 1 and episode.turn_position[i] == 0)
        context = tokenizer.decode(episode.prompt_ids + episode.completion_ids[:last_turn])
        specials = set(tokenizer.all_special_ids)
        if not specials & {
            t for t, flag in zip(episode.completion_ids[:last_turn], episode.model_token) if flag == 1
        } - {tokenizer.eos_token_id}:
            assert context == tokenizer.apply_chat_template(
                episode.messages[:-1], tokenize=False, add_generation_prompt=True
            )
    assert len(source.idle_envs) == 6  # envs go back to the pool for the next step
    scorer.close()


def test_multi_turn_training_step(tmp_path):
    generator = SumsGenerator()
    source = RewardSource.custom("guess", generator, SumsVerifier(), env_factory=GuessEnv)
    config = small_config(tmp_path, envs=[{"id": "guess"}], max_turns=2, steps=1)
    result = train(config, sources=[source])
    assert result.metrics[0]["turns"] > 1 and result.metrics[0]["loss"] == result.metrics[0]["loss"]


def test_code_feedback_env_plays_turn_by_turn():
    """The registered multi-turn env (rlvr/CodeFeedback-v0) through the generic Gymnasium protocol."""
    source = RewardSource.from_env("rlvr/CodeFeedback-v0")
    assert source.multi_turn
    tokenizer = build_tiny_tokenizer()
    model = build_tiny_model(tokenizer, "0.2M", seed=4, max_positions=4096)
    task = source.make_task(0, 0.0)
    torch.manual_seed(0)
    episodes = run_episodes(
        [(source, task)],
        2,
        HFSampler(model, tokenizer, 6, TemperatureSchedule(1.0)),
        tokenizer,
        Scorer(2, "thread"),
        max_turns=2,
        max_context_tokens=4000,
    )
    for episode in episodes:  # an untrained model writes no code: the env answers with feedback, then the episode ends
        assert episode.turns == 2 and episode.done and episode.reward == 0.0
        assert episode.messages[2]["role"] == "user" and "Attempt 1 of" in episode.messages[2]["content"]
        env_text = tokenizer.decode([t for t, flag in zip(episode.completion_ids, episode.model_token) if flag == 0])
        assert "Attempt 1 of" in env_text and episode.response_tokens == sum(episode.model_token) <= 12


# --------------------------------------------------------------------------------------------
# What the person running it sees: resume, progress, TensorBoard / W&B, the plot
# --------------------------------------------------------------------------------------------


def test_resume_is_announced_and_no_resume_starts_afresh(tmp_path, capsys):
    config = small_config(
        tmp_path, steps=2, save_every=1, keep_checkpoints=5, warmup_sft_steps=2, track_reference_kl=True
    )
    train(config)
    assert "rlvr train:" not in capsys.readouterr().err  # a first run has nothing to announce
    run_dir = tmp_path / "run"
    assert len(list(run_dir.glob("checkpoint-*"))) == 2 and (run_dir / "reference").exists()

    again = train(config)
    err = capsys.readouterr().err
    assert "already holds a run trained to step 2 of 2: nothing left to train" in err and "--no-resume" in err
    assert again.metrics == []

    more = train(
        small_config(tmp_path, steps=3, save_every=1, keep_checkpoints=5, warmup_sft_steps=2, track_reference_kl=True)
    )
    assert f"resuming from {run_dir / 'checkpoint-000002'} at step 2 of 3" in capsys.readouterr().err
    assert [r["step"] for r in more.metrics] == [3]

    fresh = train(small_config(tmp_path, steps=1, save_every=1, keep_checkpoints=5, resume=False))
    assert f"starting afresh in {run_dir}: removing 3 checkpoint(s) of an earlier run" in capsys.readouterr().err
    assert [r["step"] for r in fresh.metrics] == [1]
    assert sorted(p.name for p in run_dir.glob("checkpoint-*")) == ["checkpoint-000001"]
    assert not (run_dir / "reference").exists()  # the earlier run's reference model would be stale
    lines = read_metrics(run_dir / "metrics.jsonl")
    assert [r.get("step") for r in lines if r["phase"] == "rl"] == [1] and not any(r["phase"] == "sft" for r in lines)


def test_warm_up_and_training_show_progress_bars(tmp_path, capfd):
    train(small_config(tmp_path, steps=1, warmup_sft_steps=3, progress=True))
    err = capfd.readouterr().err
    assert "SFT warm-up: 100%" in err and "3/3" in err and "loss=" in err
    assert "RL: 100%" in err and "1/1" in err


def test_metrics_go_to_tensorboard(tmp_path):
    pytest.importorskip("tensorboard", reason="tensorboard is in the train extra")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    result = train(small_config(tmp_path, steps=2, warmup_sft_steps=3, eval_tasks=4, report_to="tensorboard"))
    events = EventAccumulator(str(tmp_path / "run" / "tensorboard"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"reward", "pass_rate", "loss", "entropy", "time/step", "sft/loss", "eval/pass_rate/tiny/Sums-v0"} <= tags
    assert [e.step for e in events.Scalars("reward")] == [1, 2]
    assert [e.value for e in events.Scalars("reward")] == pytest.approx([r["reward"] for r in result.metrics])
    assert [e.step for e in events.Scalars("sft/loss")] == [1, 2, 3]
    assert [e.step for e in events.Scalars("eval/pass_rate/tiny/Sums-v0")] == [0, 2]


def test_wandb_is_optional_offline_and_named_in_errors(tmp_path, monkeypatch):
    import importlib.util
    import sys
    import types

    if importlib.util.find_spec("wandb") is None:
        with pytest.raises(ValueError, match="report_to wandb needs the wandb package: pip install wandb"):
            small_config(tmp_path, report_to=["wandb"])
    with pytest.raises(ValueError, match="unknown report_to 'mlflow'"):
        small_config(tmp_path, report_to="mlflow")
    assert small_config(tmp_path, report_to="none").report_to == []

    calls = []  # a stand-in for the wandb package that records what the trainer asks of it

    class Run:
        def define_metric(self, name, step_metric=None):
            calls.append(("define_metric", name, step_metric))

        def log(self, values):
            calls.append(("log", values))

        def finish(self):
            calls.append(("finish",))

    fake = types.ModuleType("wandb")
    fake.init = lambda **kwargs: calls.append(("init", kwargs)) or Run()
    monkeypatch.setitem(sys.modules, "wandb", fake)
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: object() if name == "wandb" else FIND_SPEC(name, *a)
    )
    monkeypatch.delenv("WANDB_MODE", raising=False)
    train(small_config(tmp_path, steps=2, warmup_sft_steps=2, report_to=["wandb"]))
    init = calls[0][1]
    assert calls[0][0] == "init" and init["mode"] == "offline" and init["dir"] == str(tmp_path / "run")
    logged = [c[1] for c in calls if c[0] == "log"]
    assert [row["sft_step"] for row in logged if "sft/loss" in row] == [1, 2]
    assert [row["step"] for row in logged if "train/reward" in row] == [1, 2]
    assert calls[-1] == ("finish",)


FIND_SPEC = __import__("importlib.util").util.find_spec


def test_plot_shows_warm_up_loss_and_evaluation_before_and_after(tmp_path):
    pytest.importorskip("matplotlib")
    from PIL import Image

    from rlvr.trainers.plots import plot_metrics

    result = train(small_config(tmp_path, steps=2, warmup_sft_steps=3, eval_tasks=4, plot=True))
    assert result.plot is not None and result.plot.exists()
    lines = read_metrics(tmp_path / "run" / "metrics.jsonl")
    assert [r["after_step"] for r in lines if r["phase"] == "eval"] == [0, 2]
    figure_width, _ = Image.open(result.plot).size
    assert figure_width > 1500  # four columns: the curves plus warm-up loss and evaluation
    only_sft = tmp_path / "sft.jsonl"
    only_sft.write_text(
        "".join(json.dumps({"phase": "sft", "sft_step": i, "sft_loss": 1.0 / i}) + "\n" for i in range(1, 4))
    )
    assert plot_metrics(only_sft, tmp_path / "sft.png") == tmp_path / "sft.png"
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert plot_metrics(empty, tmp_path / "empty.png") is None


# --------------------------------------------------------------------------------------------
# Objectives: reward: majority, advantage: pass_at_k
# --------------------------------------------------------------------------------------------


def answered(source: RewardSource, task: Task, responses: list, correct: list[bool]) -> list:
    """Scored episodes of one group, as the rollout leaves them."""
    from rlvr.trainers.rollout import Episode

    return [
        Episode(
            task,
            source,
            0,
            [],
            [{"role": "assistant", "content": text}],
            reward=float(ok),
            verdict=Verdict.success() if ok else Verdict.fail("wrong", format_ok=True),
        )
        for text, ok in zip(responses, correct)
    ]


def test_majority_vote_rewards_the_groups_most_common_answer():
    from rlvr.trainers.grpo import majority_vote

    source = RewardSource.from_env("tiny/Sums-v0")
    task = SumsGenerator().generate(1, 0.0)
    right, wrong = task.answer["total"], task.answer["total"] + 1
    texts = [f"<answer>{right}</answer>", f"<answer> {right} </answer>", f"<answer>{wrong}</answer>", "no answer"]
    rewards, metrics = majority_vote(answered(source, task, texts, [True, True, False, False]), 4)
    assert rewards.tolist() == [[1.0, 1.0, 0.0, 0.0]]
    assert metrics == {"majority/label_correct": 1.0, "majority/agreement": 0.5, "majority/labelled": 1.0}
    # the majority can be wrong: the label is the common answer, and it is logged as incorrect
    texts = [f"<answer>{wrong}</answer>"] * 3 + [f"<answer>{right}</answer>"]
    rewards, metrics = majority_vote(answered(source, task, texts, [False, False, False, True]), 4)
    assert rewards.tolist() == [[1.0, 1.0, 1.0, 0.0]] and metrics["majority/label_correct"] == 0.0
    # a tie names no label: every response scores 0
    texts = [f"<answer>{wrong}</answer>", f"<answer>{right}</answer>", "x", "y"]
    rewards, metrics = majority_vote(answered(source, task, texts, [False, True, False, False]), 4)
    assert rewards.tolist() == [[0.0] * 4] and metrics == {
        "majority/label_correct": 0.0,
        "majority/agreement": 0.25,
        "majority/labelled": 0.0,
    }


def test_unreadable_answers_do_not_vote():
    """Red team s11 H1: five copies of one string no verifier reads outvoted three right answers,
    so under ``reward: majority`` a fixed garbage answer earned 1 on every prompt."""
    from rlvr.trainers.grpo import answer_keys, majority_vote
    from rlvr.trainers.rollout import Episode

    for env_id in ("tiny/Sums-v0", "rlvr/Maze-v0"):
        source = RewardSource.from_env(env_id)
        verifier = source.verifier_factory()
        task = source.make_task(3, 0.0)
        texts = ["<answer>banana</answer>"] * 5 + [source.generator.solve(task)] * 3
        episodes = [
            Episode(task, source, 0, [], [{"role": "assistant", "content": t}], verdict=verifier.verify(task, t))
            for t in texts
        ]
        assert [e.verdict.format_ok for e in episodes] == [False] * 5 + [True] * 3
        assert answer_keys(episodes)[:5] == [None] * 5
        rewards, metrics = majority_vote(episodes, 8)
        assert rewards.tolist() == [[0.0] * 5 + [1.0] * 3], env_id
        assert metrics["majority/label_correct"] == 1.0
    # a check that ran out of time (red team s11b K5) or was never judged says nothing about the format
    slow = Verdict.fail("verifier overran its deadline", timed_out=True)
    unjudged = Verdict.fail("no worker", not_judged=True)
    for verdict in (slow, unjudged):
        episode = Episode(task, source, 0, [], [{"role": "assistant", "content": texts[-1]}], verdict=verdict)
        assert answer_keys([episode]) != [None]


def test_verifiers_that_read_a_fenced_block_vote_by_it():
    """Red team s13 F1: the key of ``reward: majority`` was the ``<answer>`` block for verifiers
    that never read one (Code, Verilog, SWE), so right answers had no vote and two wrong ones
    with ``<answer>ok</answer>`` appended won every group.  The key is now what the verifier runs."""
    from rlvr.trainers.grpo import answer_keys, majority_vote
    from rlvr.trainers.rollout import Episode

    wrong = {
        "rlvr/Code-v0": "```python\ndef f(*a, **k):\n    return None\n```\n<answer>ok</answer>",
        "rlvr/Verilog-v0": "```verilog\nmodule TopModule(output q); assign q = 0; endmodule\n```\n<answer>ok</answer>",
        "rlvr/SWE-v0": "```diff\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n```\n<answer>ok</answer>",
    }
    for env_id, bad in wrong.items():
        source = RewardSource.from_env(env_id)
        verifier = source.verifier_factory()
        for seed in range(2):
            task = source.make_task(seed, 0.5)
            right = source.generator.solve(task)
            respaced = right.replace("\n", "  \n") + "\n\n"  # trailing spaces and lines: the same block
            assert len(verifier.canonical_answer(task, right)) == 64, env_id  # a digest, not the syntax tree
            assert verifier.canonical_answer(task, respaced) == verifier.canonical_answer(task, right), env_id
            assert verifier.canonical_answer(task, bad) != verifier.canonical_answer(task, right), env_id
            texts = [right] * 3 + [bad] * 2
            episodes = [
                Episode(task, source, 0, [], [{"role": "assistant", "content": t}], verdict=verifier.verify(task, t))
                for t in texts
            ]
            assert [e.verdict.correct for e in episodes] == [True] * 3 + [False] * 2, env_id
            assert None not in answer_keys(episodes)[:3], env_id
            rewards, metrics = majority_vote(episodes, 5)
            assert rewards.tolist() == [[1.0] * 3 + [0.0] * 2], env_id
            assert metrics["majority/label_correct"] == 1.0
        for unread in ("no block", None, "```python\nx\n```\n```python\ny\n```", "```verilog\n```"):
            assert verifier.canonical_answer(task, unread) is None, (env_id, unread)
        if env_id != "rlvr/SWE-v0":  # SWE reads a diff in an <answer> block too
            assert verifier.canonical_answer(task, "<answer>ok</answer>") is None


def test_spellings_of_one_answer_share_a_key():
    """Red team s13b G1: keys were text, so right answers spelled differently (a comment, a blank
    line, ``[1,2]`` for ``[1, 2]``, people in another order) split their vote and two copies of
    one wrong answer won every group.  Keys are now the value each verifier judges."""
    import re

    from rlvr.trainers.grpo import majority_vote
    from rlvr.trainers.rollout import Episode

    def kk_reversed(task, right):
        roles = task.answer["roles"]
        return "<answer>" + " and ".join(f"{n} is a {roles[n]}" for n in reversed(task.answer["names"])) + "</answer>"

    spellings = {
        "rlvr/Code-v0": (
            lambda task, right: right.replace("\n```", "\n# done\n```", 1),
            lambda task, right: re.sub(r"(def [^\n]*:\n)", r"\1\n", right, count=1),
        ),
        "rlvr/Verilog-v0": (
            lambda task, right: right.replace("endmodule", "  // done\nendmodule"),
            lambda task, right: right.replace(");", ");\n", 1),
        ),
        "rlvr/KnightsKnaves-v0": (kk_reversed, lambda task, right: right.replace(", ", " , ")),
        "rlvr/SubsetSum-v0": (
            lambda task, right: right.replace(", ", ","),
            lambda task, right: right.replace("[", "[ "),
        ),
        "rlvr/Knapsack-v0": (
            lambda task, right: right.replace(", ", ","),
            lambda task, right: right.replace("]", " ]"),
        ),
        "rlvr/ArcGrid-v0": (
            lambda task, right: right.replace(" ", ""),
            lambda task, right: right.replace("\n", "\n\n"),
        ),
    }
    for env_id, (first, second) in spellings.items():
        source = RewardSource.from_env(env_id)
        verifier = source.verifier_factory()
        # Knapsack: tasks the density greedy does not solve (an answer no better has no vote)
        tasks = [source.make_task(seed, 0.25) for seed in range(40)]
        tasks = [
            task
            for task in tasks
            if env_id != "rlvr/Knapsack-v0" or task.answer["reference"]["objective"] > task.meta["greedy_objective"]
        ]
        for task in tasks[:3]:
            right = source.generator.solve(task)
            texts = [right, first(task, right), second(task, right)]
            assert len(set(texts)) == 3, env_id  # three different spellings
            verdicts = [verifier.verify(task, text) for text in texts]
            assert all(verdict.correct for verdict in verdicts), (env_id, [v.reason for v in verdicts])
            keys = {verifier.canonical_answer(task, text) for text in texts}
            assert len(keys) == 1 and None not in keys, (env_id, keys)
            wrong = source.generator.wrong_response(task)
            assert verifier.canonical_answer(task, wrong) not in keys, env_id
            episodes = [
                Episode(task, source, 0, [], [{"role": "assistant", "content": t}], verdict=verifier.verify(task, t))
                for t in [*texts, wrong, wrong]
            ]
            rewards, _ = majority_vote(episodes, 5)
            assert rewards.tolist() == [[1.0, 1.0, 1.0, 0.0, 0.0]], env_id


def test_math_answers_vote_by_exact_value():
    from rlvr.trainers.grpo import majority_vote
    from rlvr.verifiers.math import MathVerifier

    verifier = MathVerifier()
    task = Task("math/t", "rlvr/Math-v0", "math", "What is 1/2?", {"gold": "\\frac{1}{2}", "form": "any"}, 0.0, 0)
    source = RewardSource.custom("rlvr/Math-v0", SumsGenerator(), verifier)
    keys = [
        verifier.canonical_answer(task, r)
        for r in (
            "<answer>1/2</answer>",
            "<answer>0.5</answer>",
            "\\boxed{\\dfrac{1}{2}}",
            "<answer>x = \\frac12</answer>",
            "<answer>$0.50$</answer>",
        )
    ]
    assert len(set(keys)) == 1 and keys[0] is not None
    assert verifier.verify(task, "<answer>0.5</answer>").correct  # the verifier agrees that they are one answer
    for distinct in ("<answer>0.333333</answer>", "<answer>2</answer>", "<answer>\\{1, 2\\}</answer>"):
        assert verifier.canonical_answer(task, distinct) not in keys
    assert verifier.canonical_answer(task, "<answer>\\{1, 2\\}</answer>") == verifier.canonical_answer(
        task, "<answer>2, 1</answer>"
    )
    for unreadable in (
        "<answer>2 or 3</answer>",
        "<answer>4 4</answer>",
        "no answer",
        "\\boxed{1} \\boxed{2}",
        None,
        "<answer>" + "(" * 60 + "</answer>",
    ):
        assert verifier.canonical_answer(task, unreadable) is None
    responses = ["<answer>1/2</answer>", "<answer>0.5</answer>", "<answer>3</answer>", "no answer"]
    episodes = answered(source, task, responses, [verifier.verify(task, r).correct for r in responses])
    rewards, metrics = majority_vote(episodes, 4)
    assert rewards.tolist() == [[1.0, 1.0, 0.0, 0.0]] and metrics["majority/label_correct"] == 1.0
    assert verifier.worker_pids() == []  # keys never start the math worker


def test_default_canonical_answer_and_a_failing_hook():
    from rlvr.trainers.grpo import answer_keys

    verifier = SumsVerifier()
    task = SumsGenerator().generate(2, 0.0)
    assert verifier.canonical_answer(task, "<think>7</think><answer>  1\n 2 </answer>") == "1 2"
    assert verifier.canonical_answer(task, "<answer> </answer>") is None and verifier.canonical_answer(task, 5) is None

    class BrokenHook(SumsVerifier):
        def canonical_answer(self, task, response):
            raise RuntimeError("boom")

    class NoHook:  # a custom verifier that is no SafeVerifier: the default key applies
        deadline_s = 1.0

        def verify(self, task, response):
            return SumsVerifier().verify(task, response)

    broken = answered(
        RewardSource.custom("tiny/Sums-v0", SumsGenerator(), BrokenHook()), task, ["<answer>1</answer>"], [False]
    )
    plain = answered(
        RewardSource.custom("tiny/Sums-v0", SumsGenerator(), NoHook()), task, ["<answer>1</answer>"], [False]
    )
    assert answer_keys(broken) == [None] and answer_keys(plain) == ["1"]


def test_objective_config_errors_are_one_line():
    base = {"envs": ["tiny/Sums-v0"], "group_size": 4}
    cases = [
        ({"reward": "vote"}, "unknown reward 'vote'"),
        ({"advantage": "pass@k"}, "unknown advantage 'pass@k'"),
        ({"advantage": "pass_at_k"}, "needs an integer pass_k"),
        ({"advantage": "pass_at_k", "pass_k": 0}, "between 1 and group_size"),
        ({"advantage": "pass_at_k", "pass_k": 5}, "between 1 and group_size"),
        ({"advantage": "pass_at_k", "pass_k": 2.0}, "integer pass_k"),
        ({"pass_k": 2}, "applies to advantage: pass_at_k only"),
        ({"advantage": "pass_at_k", "pass_k": 2, "w_reinforce": 0.1}, "set one"),
    ]
    for extra, message in cases:
        with pytest.raises(ValueError, match=message) as raised:
            TrainConfig.from_dict({**base, **extra})
        assert "\n" not in str(raised.value)
    config = TrainConfig.from_dict({**base, "advantage": "pass_at_k", "pass_k": 4, "reward": "majority"})
    assert (config.reward, config.advantage, config.pass_k) == ("majority", "pass_at_k", 4)
    assert (TrainConfig.from_dict(base).reward, TrainConfig.from_dict(base).advantage) == ("verifier", "group")


def test_advantages_follow_the_configured_objective(tmp_path):
    from rlvr.trainers.grpo import advantages_for
    from rlvr.trainers.losses import group_advantages, pass_at_k_advantages

    rewards = torch.tensor([[1.0, 0.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]])
    pass_k = small_config(tmp_path, advantage="pass_at_k", pass_k=2, loss="grpo")
    assert torch.equal(advantages_for(pass_k, [], rewards), pass_at_k_advantages(rewards, 2))
    assert advantages_for(pass_k, [], rewards)[:4].tolist() == pytest.approx([1.0, -1 / 3, -1 / 3, -1 / 3], abs=1e-6)
    unscaled = small_config(tmp_path, advantage="pass_at_k", pass_k=2, loss="dr_grpo")
    assert torch.equal(advantages_for(unscaled, [], rewards), pass_at_k_advantages(rewards, 2, scale_by_std=False))
    assert torch.equal(advantages_for(small_config(tmp_path, loss="grpo"), [], rewards), group_advantages(rewards))


def test_training_with_majority_reward_and_pass_at_k(tmp_path):
    result = train(small_config(tmp_path / "majority", reward="majority", loss="dapo", warmup_sft_steps=3))
    for row in result.metrics:
        for key in ("majority/label_correct", "majority/agreement", "majority/labelled"):
            assert 0.0 <= row[key] <= 1.0, key
        assert row["majority/label_correct"] <= row["majority/labelled"]
        assert 0.0 <= row["pass_rate"] <= 1.0  # the verifier's accuracy is still logged
    result = train(small_config(tmp_path / "pass_k", advantage="pass_at_k", pass_k=2, warmup_sft_steps=3))
    assert len(result.metrics) == 2 and all(row["loss"] == row["loss"] for row in result.metrics)
    assert not any(key.startswith("majority/") for key in result.metrics[0])


# --------------------------------------------------------------------------------------------
# Hint schedules
# --------------------------------------------------------------------------------------------


def hint_level(task: Task) -> float:
    return float(task.meta.get("hint", {}).get("level", 0.0))


class RecordingVerifier(SafeVerifier):
    """Records (task seed, hint level, prompt, correct) of every call; ``rule`` decides."""

    deadline_s = 1.0

    def __init__(self, rule):
        self.rule, self.calls = rule, []

    def check(self, task, response):
        correct = bool(self.rule(task, response))
        self.calls.append((task.seed, hint_level(task), task.prompt, correct))
        return Verdict.success() if correct else Verdict.fail("ruled wrong")


def test_ghpo_hints_only_groups_whose_unhinted_group_scored_all_zero(tmp_path):
    def rule(task, response):  # seed % 3: 0 always solved, 1 a coin flip per response, 2 solved once hinted
        kind = task.seed % 3
        return kind == 0 or (kind == 1 and len(response) % 2 == 0) or (kind == 2 and hint_level(task) > 0)

    verifier = RecordingVerifier(rule)
    config = small_config(tmp_path, steps=3, tasks_per_step=6, hints={"schedule": "ghpo"})
    result = train(config, sources=[RewardSource.custom("tiny/Sums-v0", SumsGenerator(), verifier)])
    ladder = [0.0, *config.hints.levels]
    by_task: dict[int, dict[float, list[bool]]] = {}
    for seed, level, prompt, correct in verifier.calls:
        by_task.setdefault(seed, {}).setdefault(level, []).append(correct)
        assert ("Hint (" in prompt) == (level > 0)
    assert len(by_task) == 3 * 6
    hinted = 0
    for seed, groups in by_task.items():
        levels = sorted(groups)
        assert levels[0] == 0.0 and set(levels) <= set(ladder), (seed, levels)  # up the ladder, in order
        assert all(len(groups[level]) == config.group_size for level in levels)
        assert not any(any(groups[level]) for level in levels[:-1])  # only a group that scored all zero was retried
        # retried until some succeed or no higher level shows more (a 2-term sum has one hint piece: 0.25 shows it all)
        assert any(groups[levels[-1]]) or levels[-1] == 0.25, (seed, levels)
        if seed % 3 == 0:
            assert levels == [0.0]
        if seed % 3 == 2:
            assert levels == [0.0, 0.25]
        hinted += len(levels) > 1
    assert hinted >= 1 and {seed % 3 for seed in by_task} == {0, 1, 2}
    rows = result.metrics
    assert sum(row["hints/hinted_share"] * 6 for row in rows) == pytest.approx(hinted)
    assert sum(row["hints/mean_level"] * 6 for row in rows) == pytest.approx(
        sum(max(groups) for groups in by_task.values())
    )
    unhinted = train(
        small_config(tmp_path / "none", steps=1),
        sources=[RewardSource.custom("tiny/Sums-v0", SumsGenerator(), AlwaysCorrect())],
    )
    assert not any(key.startswith("hints/") for key in unhinted.metrics[0])


def test_hinted_groups_never_make_the_curriculum_or_the_task_selector_think_a_task_easy(tmp_path):
    verifier = RecordingVerifier(lambda task, response: hint_level(task) > 0)  # solvable only with a hint
    config = small_config(
        tmp_path,
        steps=3,
        save_every=3,
        hints={"schedule": "ghpo"},
        curriculum={"enabled": True, "step": 0.1, "smoothing": 1.0},
        task_selection={"method": "beta", "pool_size": 8},
    )
    result = train(config, sources=[RewardSource.custom("tiny/Sums-v0", SumsGenerator(), verifier)])
    assert [row["pass_rate"] for row in result.metrics] == [1.0, 1.0, 1.0]  # every group solved once hinted
    assert [row["difficulty/tiny/Sums-v0"] for row in result.metrics] == [0.0, 0.0, 0.0]  # unhinted: 0 %
    state = torch.load(sorted((tmp_path / "run").glob("checkpoint-*"))[-1] / "trainer_state.pt", weights_only=False)
    evidence = [posterior for pool in state["selector"]["pools"].values() for posterior in pool.values()]
    assert evidence and all(alpha == 1.0 and beta > 1.0 for alpha, beta in evidence)  # failures only


def test_evaluation_shows_no_hints(tmp_path):
    verifier = RecordingVerifier(lambda task, response: hint_level(task) > 0)  # solvable only with a hint
    config = small_config(tmp_path, steps=2, tasks_per_step=2, eval_tasks=5, hints={"schedule": "ghpo"})
    result = train(config, sources=[RewardSource.custom("tiny/Sums-v0", SumsGenerator(), verifier)])
    assert [row["hints/hinted_share"] for row in result.metrics] == [1.0, 1.0]
    assert [row["pass_rate"] for row in result.metrics] == [
        1.0,
        1.0,
    ]  # every kept group was hinted (level 0.25) and solved
    assert [row["eval_pass_rate/tiny/Sums-v0"] for row in result.evaluations] == [0.0, 0.0]
    before, after = verifier.calls[:5], verifier.calls[-5:]
    assert all(level == 0.0 and "Hint (" not in prompt for _, level, prompt, _ in before + after)
    assert [seed for seed, *_ in before] == [seed for seed, *_ in after]  # the same fixed tasks, before and after


def test_seele_moves_the_hint_level_toward_the_target():
    from rlvr.trainers.hints import HintConfig, HintSchedule

    for seed in range(5):
        schedule = HintSchedule(HintConfig(schedule="seele", target=0.5))
        easy = HintSchedule(HintConfig(schedule="seele", target=0.5))
        rng = np.random.default_rng(seed)
        levels, rates = [], []
        for _ in range(60):  # true pass rate σ(-4 + 8h): 0.5 at h = 0.5; the model is at 2 % without hints
            level = schedule.first_level("env", 0.0)
            correct = int(rng.binomial(8, 1 / (1 + np.exp(4 - 8 * level))))
            schedule.record("env", 0.0, level, correct, 8)
            levels.append(level)
            rates.append(correct / 8)
            easy_level = easy.first_level("env", 0.0)  # σ(3 + h): solved without hints
            easy.record("env", 0.0, easy_level, int(rng.binomial(8, 1 / (1 + np.exp(-3 - easy_level)))), 8)
        assert levels[0] == 0.0 and max(levels[:5]) > 0.3  # starts unhinted, raises the level after failures
        assert abs(np.mean(levels[-20:]) - 0.5) < 0.1 and abs(np.mean(rates[-30:]) - 0.5) < 0.12
        assert easy.first_level("env", 0.0) == 0.0
    assert schedule.first_level("other-env", 0.0) == 0.0  # one curve per (env, difficulty)


def test_seele_raises_the_hint_level_in_training(tmp_path):
    verifier = RecordingVerifier(lambda task, response: hint_level(task) >= 0.5)
    config = small_config(tmp_path, steps=3, hints={"schedule": "seele", "target": 0.5})
    result = train(config, sources=[RewardSource.custom("tiny/Sums-v0", SumsGenerator(), verifier)])
    levels = [row["hints/mean_level"] for row in result.metrics]
    assert levels[0] == 0.0 and levels[1] > 0.5  # all failed unhinted: the curve asks for more
    assert [row["hints/hinted_share"] for row in result.metrics] == [0.0, 1.0, 1.0]
    assert result.metrics[1]["pass_rate"] == 1.0 and result.metrics[0]["pass_rate"] == 0.0


def test_bad_hints_config_is_a_one_line_error(tmp_path):
    base = {"envs": ["tiny/Sums-v0"]}
    cases = [
        ({"schedule": "always"}, "hints.schedule must be one of none, ghpo, seele, got 'always'"),
        ({"schedule": "ghpo", "levels": [0.5, 0.25]}, "hints.levels must be increasing"),
        ({"schedule": "ghpo", "levels": [0.0, 0.5]}, "hints.levels must be increasing"),
        ({"schedule": "seele", "target": 1.5}, "hints.target must be a pass rate"),
        ({"level": 0.5}, "unknown hints keys: level"),
    ]
    for hints, message in cases:
        with pytest.raises(ValueError, match=message) as raised:
            TrainConfig.from_dict({**base, "hints": hints})
        assert "\n" not in str(raised.value)
    assert TrainConfig.from_dict({**base, "hints": {"schedule": "ghpo", "levels": [0.5, 1.0]}}).hints.levels == (
        0.5,
        1.0,
    )
    path = tmp_path / "bad.yaml"
    path.write_text("envs: [tiny/Sums-v0]\nhints: {schedule: always}\n", encoding="utf-8")
    command = [sys.executable, "-c", "import sys; from rlvr.cli import main; sys.exit(main())", "train", str(path)]
    finished = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert finished.returncode == 2
    assert finished.stderr.strip().count("\n") == 0 and "error: hints.schedule must be one of" in finished.stderr


def test_resume_keeps_the_seele_curve(tmp_path):
    def source():
        return RewardSource.custom(
            "tiny/Sums-v0", SumsGenerator(), RecordingVerifier(lambda task, response: hint_level(task) >= 0.5)
        )

    common = {"steps": 4, "save_every": 2, "hints": {"schedule": "seele"}}
    straight = train(small_config(tmp_path / "a", **common), sources=[source()])
    train(small_config(tmp_path / "b", **{**common, "steps": 2}), sources=[source()])
    resumed = train(small_config(tmp_path / "b", **common), sources=[source()])
    levels = [row["hints/mean_level"] for row in straight.metrics]
    assert levels[2] > 0  # the curve learned that hints are needed: a fresh one would start at 0
    assert [row["hints/mean_level"] for row in resumed.metrics] == pytest.approx(levels[2:])
