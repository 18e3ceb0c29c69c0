"""Verdicts that are ``not_judged`` (the Math verifier got no worker before its deadline, so the
answer was never read) give no reward on every trainer path — TRL's reward function, verl's
compute_score, the GRPO trainer — while a verdict that ``timed_out`` keeps its 0."""

from __future__ import annotations

import json
import math
import zlib

import pytest
import torch
from tiny_training import small_config

import rlvr
from rlvr.core import SafeVerifier, Task, Verdict
from rlvr.integrations import trl as rlvr_trl
from rlvr.integrations import verl as rlvr_verl
from rlvr.integrations.verl import ground_truth

# An f'(x) task (form "expanded"): any answer but an exact copy of the gold is judged by a math worker.
EXPRESSION_TASK = rlvr.make_task("rlvr/Math-v0", seed=3, difficulty=0.8)
RIGHT_VIA_WORKER = r"\boxed{-2736x^3-2844x^2+1306x+1050}"  # correct, judged by math-verify
WRONG_VIA_WORKER = r"\boxed{\sin(x)^2+\cos(x)^2}"


@pytest.fixture
def math_verifier():
    return rlvr.make_verifier("rlvr/Math-v0")  # the process's cached one, which every path uses


@pytest.fixture
def exhausted_pool(math_verifier, monkeypatch):
    """Every worker slot of the Math verifier's pool is taken and its deadline is 1 s: an answer
    that needs a worker waits 1 s and is not judged. The warm template is started first, so
    that once a slot is given back (``busy = 0``) a worker forks well within the deadline.
    Undone after the test."""
    monkeypatch.setattr(math_verifier, "deadline_s", 30.0)  # the template's first start imports sympy
    assert math_verifier.verify(EXPRESSION_TASK, RIGHT_VIA_WORKER).reward == 1.0
    math_verifier.deadline_s = 1.0
    pool = math_verifier.pool()
    monkeypatch.setattr(pool, "busy", pool.max_workers)
    monkeypatch.setattr(pool, "idle", [])
    return pool


def test_math_pool_exhausted_gives_a_not_judged_verdict(math_verifier, exhausted_pool):
    assert EXPRESSION_TASK.answer["form"] == "expanded"  # f'(x): judged in a worker (asked expanded since round 19)
    for response in (RIGHT_VIA_WORKER, WRONG_VIA_WORKER):
        verdict = math_verifier.verify(EXPRESSION_TASK, response)
        assert verdict.reward == 0.0 and verdict.not_judged and verdict.details["not_judged"] is True
        assert "waiting for a free math worker" in verdict.reason
    exhausted_pool.busy = 0  # a worker is free again: the same answers are read and judged
    math_verifier.deadline_s = 10.0  # (a loaded machine may take over 1 s to judge)
    assert math_verifier.verify(EXPRESSION_TASK, RIGHT_VIA_WORKER).reward == 1.0
    wrong = math_verifier.verify(EXPRESSION_TASK, WRONG_VIA_WORKER)
    assert wrong.reward == 0.0 and not wrong.not_judged


def test_only_an_untimed_zero_marked_not_judged_is_not_judged():
    assert Verdict.fail("no worker", not_judged=True).not_judged
    assert not Verdict.fail("slow", timed_out=True).not_judged
    assert not Verdict.fail("slow and no worker", timed_out=True, not_judged=True).not_judged
    assert not Verdict(1.0, True, True, "right", {"not_judged": True}).not_judged
    for marker in ("true", 1, [True], {"not_judged": True}):
        assert not Verdict.fail("", not_judged=marker).not_judged
    assert not Verdict.fail("wrong").not_judged and not Verdict.success().not_judged


# ------------------------------------------------------------------------------------------ TRL


def test_trl_reward_is_none_when_not_judged(math_verifier, exhausted_pool):
    maze = rlvr.make_task("rlvr/Maze-v0", seed=1, difficulty=0.2)
    cells = [ground_truth(EXPRESSION_TASK), ground_truth(maze), ground_truth(EXPRESSION_TASK)]
    completions = [RIGHT_VIA_WORKER, rlvr.solve(maze), [{"role": "assistant", "content": WRONG_VIA_WORKER}]]
    logged: dict[str, float] = {}
    rewards = rlvr_trl.reward_function()(
        ["p"] * 3, completions, task=cells, log_metric=lambda name, value: logged.setdefault(name, value)
    )
    assert rewards == [None, 1.0, None]  # not 0: the answers were never read
    assert logged["rlvr/Math-v0/not_judged"] == 1.0 and logged["rlvr/Maze-v0/not_judged"] == 0.0
    assert "rlvr/Math-v0/accuracy" not in logged and logged["rlvr/Maze-v0/accuracy"] == 1.0
    assert rlvr_trl.reward_function("rlvr/Math-v0")(["p"] * 3, completions, task=cells) == [None, None, None]
    exhausted_pool.busy, math_verifier.deadline_s = 0, 10.0
    assert rlvr_trl.reward_function()(["p"] * 3, completions, task=cells) == [1.0, 1.0, 0.0]


def test_trl_reward_keeps_the_zero_of_a_timed_out_verdict(math_verifier, monkeypatch):
    """A slow answer's verdict says timed_out (and here not_judged too): it must keep its 0, or a
    policy could escape its wrong answers by making them slow."""
    slow = Verdict.fail("parsing timed out", timed_out=True, not_judged=True)
    monkeypatch.setattr(math_verifier, "check", lambda task, response: slow)
    reward = rlvr_trl.reward_function()
    assert reward(["p"], [RIGHT_VIA_WORKER], task=[ground_truth(EXPRESSION_TASK)]) == [0.0]


def test_trl_grpo_trainer_leaves_a_none_reward_out_of_its_group(tmp_path, math_verifier, monkeypatch):
    """What the reward function relies on, checked against the installed TRL: a row whose only
    reward is None gets advantage 0 and is left out of its group's mean and std."""
    pytest.importorskip("trl", reason="needs the trl extra")
    from trl import GRPOConfig, GRPOTrainer

    from rlvr.trainers.tiny import build_tiny_model, build_tiny_tokenizer

    torch.set_num_threads(1)
    sentinel = "<not judged>"
    real_check = math_verifier.check
    monkeypatch.setattr(
        math_verifier,
        "check",
        lambda task, response: (
            Verdict.fail("no worker", not_judged=True) if response == sentinel else real_check(task, response)
        ),
    )
    train = rlvr_trl.dataset("rlvr/Math-v0", n=2, difficulty=0.0)
    reward = rlvr_trl.reward_function()
    given: list[list] = []

    def scripted(prompts, completions, **columns):  # per group of 4: right, wrong, not judged, wrong
        answers = [
            rlvr.solve(Task.from_dict(json.loads(cell)))
            if i % 4 == 0
            else [r"\boxed{0.5}", sentinel, r"\boxed{0.25}"][i % 4 - 1]
            for i, cell in enumerate(columns["task"])
        ]
        rewards = reward(prompts, answers, **columns)
        given.append(rewards)
        return rewards

    args = GRPOConfig(
        output_dir=str(tmp_path / "trl"),
        max_steps=1,
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=4,
        use_cpu=True,
        report_to="none",
        save_strategy="no",
        seed=0,
        bf16=False,
        disable_tqdm=True,
        dataloader_num_workers=0,
        beta=0.0,
    )
    tokenizer = build_tiny_tokenizer()
    trainer = GRPOTrainer(
        model=build_tiny_model(tokenizer, "0.2M"),
        reward_funcs=scripted,
        args=args,
        train_dataset=train,
        processing_class=tokenizer,
    )
    advantages: list[torch.Tensor] = []
    score = trainer._generate_and_score_completions

    def recorded(batch):
        output = score(batch)
        advantages.append(output["advantages"].detach().cpu())
        return output

    monkeypatch.setattr(trainer, "_generate_and_score_completions", recorded)
    trainer.train()
    assert given and len(given) == len(advantages)
    judged = torch.tensor([1.0, 0.0, 0.0])
    expected = (judged - judged.mean()) / (judged.std() + 1e-4)  # TRL's group scaling over the 3 judged
    for rewards, advantage in zip(given, advantages):
        assert len(rewards) == len(advantage) and len(rewards) % 4 == 0
        for start in range(0, len(rewards), 4):
            assert rewards[start : start + 4] == [1.0, 0.0, None, 0.0]
            assert advantage[start + 2].item() == 0.0  # counted as 0 it would be -0.5 / std
            group = advantage[[start, start + 1, start + 3]]
            assert group.tolist() == pytest.approx(expected.tolist(), abs=1e-5)


# ----------------------------------------------------------------------------------------- verl


def test_verl_retries_a_not_judged_verdict_once(math_verifier, exhausted_pool, monkeypatch):
    calls: list[Verdict] = []
    real_verify = rlvr.verify

    def counted(task, response, **options):
        verdict = real_verify(task, response, **options)
        calls.append(verdict)
        return verdict

    monkeypatch.setattr(rlvr, "verify", counted)
    truth = ground_truth(EXPRESSION_TASK)
    result = rlvr_verl.compute_score(EXPRESSION_TASK.env_id, RIGHT_VIA_WORKER, truth)
    assert len(calls) == 2 and all(v.not_judged for v in calls)  # tried twice, never read
    assert result["score"] == 0.0 and result["not_judged"] == 1.0 and "free math worker" in result["reason"]

    calls.clear()
    real_ask = exhausted_pool.acquire

    def frees_after_first_wait(deadline):  # the pool is busy for the first try only
        worker = real_ask(deadline)
        exhausted_pool.busy, math_verifier.deadline_s = 0, 10.0  # the retry's deadline: ample under load
        return worker

    monkeypatch.setattr(exhausted_pool, "acquire", frees_after_first_wait)
    result = rlvr_verl.compute_score(EXPRESSION_TASK.env_id, RIGHT_VIA_WORKER, truth)
    assert len(calls) == 2 and calls[0].not_judged and not calls[1].not_judged
    assert result["score"] == 1.0 and result["acc"] == 1.0 and result["not_judged"] == 0.0


def test_verl_never_retries_a_timed_out_verdict(math_verifier, monkeypatch):
    calls: list[str] = []

    def slow(task, response):
        calls.append(response)
        return Verdict.fail("parsing timed out", timed_out=True, not_judged=True)

    monkeypatch.setattr(math_verifier, "check", slow)
    result = rlvr_verl.compute_score(EXPRESSION_TASK.env_id, RIGHT_VIA_WORKER, ground_truth(EXPRESSION_TASK))
    assert calls == [RIGHT_VIA_WORKER] and result["score"] == 0.0 and result["not_judged"] == 0.0


# ----------------------------------------------------------------------------------- GRPO trainer


def test_advantages_leave_out_rewards_not_judged(tmp_path):
    from rlvr.trainers.grpo import advantages_for
    from rlvr.trainers.losses import group_advantages, pass_at_k_advantages, w_reinforce_advantages

    nan = math.nan
    rewards = torch.tensor([[1.0, 0.0, 0.0, 1.0], [1.0, 0.0, nan, 0.0], [nan, 1.0, nan, nan], [nan] * 4])
    grpo = advantages_for(small_config(tmp_path, loss="grpo"), [], rewards).view(4, 4)
    assert torch.equal(grpo[0], group_advantages(rewards[:1]))  # a whole group: as before
    assert torch.isnan(grpo[1, 2]) and torch.equal(grpo[1, [0, 1, 3]], group_advantages(rewards[1:2, [0, 1, 3]]))
    assert grpo[2, 1] == 0.0 and torch.isnan(grpo[2, [0, 2, 3]]).all()  # one judged: no baseline, 0
    assert torch.isnan(grpo[3]).all()
    pass_k = advantages_for(small_config(tmp_path, advantage="pass_at_k", pass_k=3, loss="grpo"), [], rewards)
    pass_k = pass_k.view(4, 4)
    assert torch.equal(pass_k[1, [0, 1, 3]], pass_at_k_advantages(rewards[1:2, [0, 1, 3]], 3))
    two = torch.tensor([[1.0, nan, 0.0, nan]])
    short = advantages_for(small_config(tmp_path, advantage="pass_at_k", pass_k=3, loss="grpo"), [], two)
    assert short[[0, 2]].tolist() == [0.0, 0.0] and torch.isnan(short[[1, 3]]).all()  # fewer than k judged
    w = advantages_for(small_config(tmp_path, w_reinforce=0.1), [], rewards).view(4, 4)
    judged = ~torch.isnan(rewards)
    assert torch.equal(w[judged], w_reinforce_advantages(rewards[judged])) and torch.isnan(w[~judged]).all()


class SometimesNotJudged(SafeVerifier):
    """By a hash of the response: a third are not judged, a third time out (0), a third are right."""

    deadline_s = 1.0

    def check(self, task: Task, response: str) -> Verdict:
        kind = zlib.crc32(response.encode()) % 3
        if kind == 0:
            return Verdict.fail("timed out waiting for a free worker", not_judged=True)
        if kind == 1:
            return Verdict.fail("timed out", timed_out=True)
        return Verdict.success()


@pytest.mark.parametrize("loss", ["grpo", "dapo"])  # dapo: dynamic sampling judges groups by judged rewards
def test_grpo_trainer_leaves_not_judged_episodes_out_of_the_update(tmp_path, monkeypatch, loss):
    pytest.importorskip("transformers")
    from rlvr.trainers import grpo
    from rlvr.trainers.rollout import RewardSource
    from rlvr.trainers.tiny import SumsGenerator

    torch.set_num_threads(1)
    updates: list[tuple[list, torch.Tensor]] = []
    rollouts: list = []
    real_update, real_roll_out = grpo.policy_update, grpo.roll_out

    def recorded_update(run, reference, episodes, advantages, config, temperature):
        updates.append((list(episodes), advantages.detach().clone()))
        return real_update(run, reference, episodes, advantages, config, temperature)

    def recorded_roll_out(*args, **kwargs):
        rollout = real_roll_out(*args, **kwargs)
        rollouts.append(rollout)
        return rollout

    monkeypatch.setattr(grpo, "policy_update", recorded_update)
    monkeypatch.setattr(grpo, "roll_out", recorded_roll_out)
    source = RewardSource.custom("tiny/Sums-v0", SumsGenerator(), SometimesNotJudged())
    result = grpo.train(small_config(tmp_path, steps=2, loss=loss), sources=[source])
    assert len(result.metrics) == 2 and len(rollouts) == 2
    for row, rollout in zip(result.metrics, rollouts):
        left_out = [e for e in rollout.kept if not e.judged]
        assert row["not_judged"] == rollout.not_judged > 0 and rollout.not_judged >= len(left_out)
        assert all(e.verdict.not_judged for e in left_out)
        assert 0.0 <= row["reward"] <= 1.0
    with_kept = [rollout for rollout in rollouts if rollout.kept]
    assert len(updates) == len(with_kept) > 0
    for (episodes, advantages), rollout in zip(updates, with_kept):
        assert [id(e) for e in episodes] == [id(e) for e in rollout.kept if e.judged]  # every judged one, in order
        assert not torch.isnan(advantages).any() and len(advantages) == len(episodes)
        timed_out = [e for e in episodes if e.verdict.details.get("timed_out")]
        assert all(e.reward == 0.0 for e in timed_out)  # a slow answer keeps its 0 and stays in
    assert any(e.verdict.details.get("timed_out") for episodes, _ in updates for e in episodes)


class NeverJudged(SafeVerifier):
    """Every other answer never got a worker; the others are right."""

    deadline_s = 1.0

    def __init__(self) -> None:
        self.calls = 0

    def check(self, task: Task, response: str) -> Verdict:
        self.calls += 1
        if self.calls % 2:
            return Verdict.fail("timed out waiting for a free worker", not_judged=True)
        return Verdict.success()


def test_greedy_evaluation_counts_only_judged_answers(tmp_path):
    pytest.importorskip("transformers")
    from rlvr.trainers import grpo
    from rlvr.trainers.rollout import RewardSource
    from rlvr.trainers.tiny import SumsGenerator

    torch.set_num_threads(1)
    verifier = NeverJudged()
    config = small_config(tmp_path, steps=1, eval_tasks=4)
    result = grpo.train(config, sources=[RewardSource.custom("tiny/Sums-v0", SumsGenerator(), verifier)])
    for row in result.evaluations:
        judged = 4 - row["eval_not_judged/tiny/Sums-v0"]
        assert 0 < row["eval_not_judged/tiny/Sums-v0"] <= 4
        rate = row["eval_pass_rate/tiny/Sums-v0"]
        assert (rate == 1.0) if judged else math.isnan(rate)  # the not-judged ones are not counted as wrong
