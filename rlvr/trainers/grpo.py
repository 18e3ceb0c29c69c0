"""The GRPO-family training loop: ``train(config)``, one readable loop in the CleanRL manner.

    run = resume_state(config)        model, optimiser, envs, RNGs: fresh, or from the latest
                                      checkpoint in output_dir (run_directory.py)
    warm_up(config, run)              optional SFT on the generators' reference solutions
    log_evaluation(after_step=0)      greedy pass rate per env before training
    reference, sampler, scorer        frozen start for the KL term; HF generate or vLLM
                                      (export_for_vllm); the verifiers' scoring workers
    for step in start + 1 .. steps:
        1. choose tasks        envs drawn by weight; each env's tasks at its current difficulty,
                               uniformly by seed or from Beta posteriors (curriculum.py)
        2. roll out            G responses per task (HF generate or vLLM), scored by the env's
                               verifier in parallel workers with deadlines (rollout.py); DAPO's
                               dynamic sampling drops groups whose rewards are all equal and
                               rolls out more tasks to refill the batch (``roll_out``)
        3. advantages          from the verifiers' rewards, or with ``reward: majority`` from
                               label-free ones (1 for agreeing with the group's most common
                               canonical answer: ``majority_vote``); per group (GRPO / Dr.
                               GRPO's mean baseline), W-REINFORCE, or ``advantage: pass_at_k``
                               (each response's credit over the group's k-subsets); DAPO's
                               overlong penalty shapes rewards first (``advantages_for``, losses.py)
        4. update              μ passes of clipped policy-gradient steps over minibatches, with
                               optional KL to the frozen start, entropy bonus, top-ρ entropy
                               tokens (``policy_update``)
        5. bookkeeping         curriculum moves difficulties, metrics go to metrics.jsonl (and
                               TensorBoard / W&B with ``report_to``), a checkpoint every
                               ``save_every`` steps and at the last (``save_checkpoint``)
    log_evaluation(after_step=steps), then write_plots: curves to metrics.png (plots.py)

``train(config)`` runs it and returns a summary; ``rlvr train config.yaml`` does the same from
the command line, ``rlvr train --demo`` runs the CPU demo (config.demo_config). The SFT warm-up
runs only when ``warmup_sft_steps`` > 0 and never again on resume.
With ``resume`` (the default) a run continues from the latest checkpoint in ``output_dir`` and
says so on stderr (a finished run says there is nothing left to train); ``resume: false``
(``--no-resume``) removes the earlier run's checkpoints, reference model and metrics first.
Scoring workers start by forkserver, so a script that calls ``train`` with the default
``scoring_backend: process`` needs the usual ``if __name__ == "__main__":`` guard.

Not judged: an episode whose verdict is ``not_judged`` (``rlvr.core.Verdict.not_judged``: the
Math verifier got no worker before its deadline, so the answer was never read) has no reward.
With ``reward: verifier`` it is left out of its group's advantages (the others' baseline is
computed among themselves; a group left with fewer than two judged episodes, or fewer than
``pass_k`` with ``advantage: pass_at_k``, gives them advantage 0) and out of the update, and the
step's ``not_judged`` metric counts it; the curriculum, task selector and hint schedule count
only judged episodes. A verdict that ``timed_out`` is judged and keeps its 0 (a slow wrong
answer must not escape it). ``reward: majority`` does not read the verifier's reward, so it keeps
every episode. Its key for a multi-turn episode is what the env's last verdict judged (SWEAgent:
the final diff; CodeFeedback: the last attempt), never the last message; an episode whose env
judged nothing, or reports nothing (rollout.judged_text), gives no vote.

Metrics (one JSON object per step in ``output_dir/metrics.jsonl``): step, reward, pass_rate,
reward/<env>, pass_rate/<env> (rewards and pass rates over the judged episodes),
difficulty/<env>, zero_variance_fraction, groups_used, refill_rounds, not_judged (episodes of
the step's rounds not judged), entropy, kl, response_length, truncated_fraction, clip_fraction,
ratio_mean, loss, scoring_timeouts, time/generation, time/scoring, time/update, time/step; with ``reward:
majority`` also majority/label_correct (share of groups whose pseudo-label the verifier judges
correct), majority/agreement (mean share of a group giving its most common answer) and
majority/labelled (share of groups with a label, i.e. no tie); reward and pass_rate stay the
verifier's. SFT warm-up lines
carry ``"phase": "sft"``; evaluation lines ``"phase": "eval"`` (greedy pass rate per env over
the judged answers, eval_not_judged/<env> the others).
metrics.png plots the training curves, the SFT warm-up loss and the greedy pass rate before and
after training.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rlvr.core import Task, Verdict, answer_block_key, hint_pieces_shown
from rlvr.trainers.config import CurriculumConfig, EnvConfig, TrainConfig, demo_config, load_config, save_config
from rlvr.trainers.curriculum import SEED_SPACE, BetaTaskSelector, DifficultyController
from rlvr.trainers.hints import HintConfig, HintSchedule
from rlvr.trainers.losses import (
    OBJECTIVES,
    group_advantages,
    majority_label,
    majority_rewards,
    overlong_penalty,
    pass_at_k_advantages,
    policy_loss,
    w_reinforce_advantages,
)
from rlvr.trainers.plots import plot_metrics
from rlvr.trainers.reporting import Reporter
from rlvr.trainers.rollout import (
    Episode,
    HFSampler,
    RewardSource,
    Scorer,
    TemperatureSchedule,
    VLLMSampler,
    encode_prompt,
    run_episodes,
)
from rlvr.trainers.run_directory import (
    METRICS_FILE,
    PLOT_FILE,
    STATE_FILE,
    announce,
    clear_earlier_run,
    latest_checkpoint,
    truncate_metrics,
    write_checkpoint,
)

# --------------------------------------------------------------------------------------------
# Model, tokens and log-probabilities
# --------------------------------------------------------------------------------------------


def load_model_and_tokenizer(config: TrainConfig, path: str | None = None):
    """The policy and its tokenizer: the offline tiny model, or ``from_pretrained(path)``."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from rlvr.trainers.tiny import CORPUS_ENVS, build_tiny_model, build_tiny_tokenizer

    dtype = getattr(torch, config.dtype)
    if path is None and config.model == "tiny":
        trained_on = [env.id for env in [*config.envs, *(config.warmup_sft_envs or [])]]
        tokenizer = build_tiny_tokenizer(tuple(dict.fromkeys([*CORPUS_ENVS, *trained_on])))
        model = build_tiny_model(tokenizer, config.tiny_size, seed=config.seed).to(dtype)
    else:
        source = path or config.model
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    return model.to(pick_device(config.device)), tokenizer


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


@dataclass
class Batch:
    """Episodes as tensors: left-padded prompts, then right-padded completions (width C)."""

    input_ids: torch.Tensor  # [N, P + C]
    attention_mask: torch.Tensor
    position_ids: torch.Tensor
    completion_mask: torch.Tensor  # [N, C], 1 on tokens the model wrote
    turn_position: torch.Tensor  # [N, C], position within the model turn (temperature index)

    def __getitem__(self, rows) -> Batch:
        return Batch(*(getattr(self, f)[rows] for f in self.__dataclass_fields__))


def collate(sequences: Sequence[tuple[list[int], list[int], list[int], list[int]]], pad_id: int, device) -> Batch:
    """(prompt ids, completion ids, model-token flags, turn positions) per row → a Batch."""
    prompt_width = max(len(p) for p, *_ in sequences)
    completion_width = max(1, max(len(c) for _, c, *_ in sequences))
    n = len(sequences)
    input_ids = torch.full((n, prompt_width + completion_width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros_like(input_ids)
    completion_mask = torch.zeros((n, completion_width), dtype=torch.float32)
    turn_position = torch.zeros((n, completion_width), dtype=torch.long)
    for row, (prompt, completion, model_token, positions) in enumerate(sequences):
        start = prompt_width - len(prompt)
        input_ids[row, start:prompt_width] = torch.tensor(prompt)
        attention_mask[row, start:prompt_width] = 1
        if completion:
            input_ids[row, prompt_width : prompt_width + len(completion)] = torch.tensor(completion)
            attention_mask[row, prompt_width : prompt_width + len(completion)] = 1
            completion_mask[row, : len(completion)] = torch.tensor(model_token, dtype=torch.float32)
            turn_position[row, : len(completion)] = torch.tensor(positions)
    position_ids = (attention_mask.cumsum(dim=1) - 1).clamp(min=0)
    return Batch(*(t.to(device) for t in (input_ids, attention_mask, position_ids, completion_mask, turn_position)))


def token_logprobs(model, batch: Batch, temperature: TemperatureSchedule) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-probability of each completion token under the (temperature-scaled) policy, and the
    entropy of the distribution it was drawn from; both [N, C]."""
    width = batch.completion_mask.shape[1]
    logits = (
        model(
            input_ids=batch.input_ids,
            attention_mask=batch.attention_mask,
            position_ids=batch.position_ids,
            logits_to_keep=width + 1,
        )
        .logits[:, :-1]
        .float()
    )
    logits = logits / temperature.at(batch.turn_position).unsqueeze(-1).to(logits.device)
    log_probs = torch.log_softmax(logits, dim=-1)
    targets = batch.input_ids[:, -width:]
    logp = log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    entropy = -(log_probs.exp() * log_probs).sum(dim=-1)
    return logp, entropy


# --------------------------------------------------------------------------------------------
# Tasks, rewards and advantages
# --------------------------------------------------------------------------------------------


@dataclass
class EnvState:
    """One env of the mixture during training."""

    config: EnvConfig
    source: RewardSource
    controller: DifficultyController
    adaptive: bool

    @property
    def difficulty(self) -> float:
        return self.controller.difficulty


def build_envs(
    env_configs: Sequence[EnvConfig], curriculum: CurriculumConfig, sources: Sequence[RewardSource] | None = None
) -> list[EnvState]:
    """The mixture: a reward source and a difficulty controller per env."""
    if sources is not None and len(sources) != len(env_configs):
        raise ValueError(f"{len(sources)} reward sources for {len(env_configs)} envs")
    states = []
    for index, env in enumerate(env_configs):
        source = sources[index] if sources is not None else RewardSource.from_env(env.id, env.weight, env.options)
        source.weight = env.weight
        cur = curriculum
        controller = DifficultyController(
            env.difficulty, cur.low, cur.high, cur.step, cur.smoothing, cur.min_difficulty, cur.max_difficulty
        )
        adaptive = cur.enabled if env.curriculum is None else env.curriculum
        states.append(EnvState(env, source, controller, adaptive))
    return states


def choose_tasks(
    envs: list[EnvState], n: int, rng: np.random.Generator, selector: BetaTaskSelector | None
) -> tuple[list[tuple[EnvState, Any]], list[int]]:
    """``n`` (env, task) pairs — envs by weight, tasks of the train split at each env's current
    difficulty — and each task's stream position (what the task selector keys its evidence by)."""
    weights = np.array([e.config.weight for e in envs], dtype=float)
    picks = rng.choice(len(envs), size=n, p=weights / weights.sum())
    chosen: list[tuple[EnvState, Any]] = []
    positions: list[int] = []
    for index in range(len(envs)):
        count = int((picks == index).sum())
        if not count:
            continue
        env = envs[index]
        if selector is not None:
            seeds = selector.select(env.config.id, env.difficulty, count, rng)
        else:
            seeds = [int(s) for s in rng.integers(SEED_SPACE, size=count)]
        chosen += [(env, env.source.make_task(seed, env.difficulty)) for seed in seeds]
        positions += [int(seed) for seed in seeds]
    return chosen, positions


def group_rewards(episodes: list[Episode], group_size: int) -> torch.Tensor:
    """[groups, G] verifier rewards; NaN for an episode not judged (``Episode.judged``)."""
    return torch.tensor([e.reward if e.judged else math.nan for e in episodes], dtype=torch.float32).view(
        -1, group_size
    )


def unreadable(verdict: Verdict) -> bool:
    """The verifier judged the response and could not read an answer in it: ``format_ok`` False,
    neither timed out (a slow check says nothing about the format) nor left unjudged."""
    return not verdict.format_ok and not verdict.details.get("timed_out") and not verdict.not_judged


def answer_keys(episodes: list[Episode]) -> list[str | None]:
    """Each episode's canonical answer key: ``canonical_answer(task, response)`` of its source's
    verifier (rlvr.core.answer_block_key for a verifier without one); a hook that raises gives None.
    The response is the last message of a single-turn episode and, of a multi-turn one, what its
    env's last verdict judged (``Episode.judged_response``: SWEAgent's final diff, CodeFeedback's
    last attempt); a multi-turn episode with none (no verdict yet, nothing submitted, or an env
    that does not report it: rollout.judged_text) has no key, so no vote. Keyed by its last
    message, an SWEAgent episode that fixed the bug with tools and ended with a bare submit had
    no vote, and two that ended with one trivial diff won every group (red team s14 C1).
    A response its verifier could not read (a verdict with ``format_ok`` False, not one that ran
    out of time or was never judged) has no key, so no vote: otherwise one fixed unreadable
    string, repeated, would win every group's majority."""
    verifiers: dict[int, Any] = {}
    keys: list[str | None] = []
    for episode in episodes:
        response = episode.judged_response if episode.source.multi_turn else episode.response
        if response is None or (episode.verdict is not None and unreadable(episode.verdict)):
            keys.append(None)
            continue
        factory = episode.source.verifier_factory
        if id(factory) not in verifiers:
            verifiers[id(factory)] = factory()
        hook = getattr(verifiers[id(factory)], "canonical_answer", None)
        try:
            key = hook(episode.task, response) if hook is not None else answer_block_key(response)
        except Exception:  # a family's hook must not stop training: its response has no vote
            key = None
        keys.append(key if isinstance(key, str) else None)
    return keys


def majority_vote(episodes: list[Episode], group_size: int) -> tuple[torch.Tensor, dict]:
    """``reward: majority`` on groups of episodes: the [groups, G] label-free rewards
    (losses.majority_rewards over ``answer_keys``) and the round's majority/* metrics. A
    pseudo-label counts as correct when a response giving it was judged correct by the verifier."""
    keys = answer_keys(episodes)
    correct, agreement, labelled = [], [], []
    groups = [keys[start : start + group_size] for start in range(0, len(keys), group_size)]
    for index, group in enumerate(groups):
        label = majority_label(group)
        members = episodes[index * group_size : (index + 1) * group_size]
        votes = [sum(key == other for key in group) for other in set(group) - {None}]
        agreement.append(max(votes, default=0) / group_size)
        labelled.append(label is not None)
        correct.append(
            label is not None
            and any(bool(e.verdict and e.verdict.correct) for e, key in zip(members, group) if key == label)
        )
    metrics = {
        "majority/label_correct": float(np.mean(correct)),
        "majority/agreement": float(np.mean(agreement)),
        "majority/labelled": float(np.mean(labelled)),
    }
    return majority_rewards(groups), metrics


def training_rewards(config: TrainConfig, episodes: list[Episode]) -> tuple[torch.Tensor, dict]:
    """[groups, G] rewards the update learns from, and metrics of how they were made: the
    verifiers' (``reward: verifier``) or the majority vote's (``reward: majority``)."""
    if config.reward == "majority":
        return majority_vote(episodes, config.group_size)
    return group_rewards(episodes, config.group_size), {}


def advantages_for(config: TrainConfig, episodes: list[Episode], rewards: torch.Tensor | None = None) -> torch.Tensor:
    """[N] advantages of episodes laid out group by group, from ``rewards`` ([groups, G]; default:
    ``training_rewards``). A NaN reward (an episode not judged) gives a NaN advantage, and the
    group's other episodes get their advantages among themselves (module docstring)."""
    objective = OBJECTIVES[config.loss]
    if rewards is None:
        rewards = training_rewards(config, episodes)[0]
    use_overlong = objective.overlong_penalty if config.overlong_penalty is None else config.overlong_penalty
    if use_overlong:
        lengths = torch.tensor([e.response_tokens for e in episodes], dtype=torch.float32).view_as(rewards)
        budget = config.max_new_tokens * config.max_turns
        rewards = rewards + overlong_penalty(lengths, budget, min(config.overlong_cache_tokens, budget))
    if config.w_reinforce is not None:
        return w_reinforce_advantages(rewards, config.w_reinforce)  # no baseline: NaN stays NaN
    if config.advantage == "pass_at_k":
        smallest = max(2, config.pass_k)

        def advantage(group_rewards: torch.Tensor) -> torch.Tensor:
            return pass_at_k_advantages(group_rewards, config.pass_k, scale_by_std=objective.scale_by_std)
    else:
        smallest = 2

        def advantage(group_rewards: torch.Tensor) -> torch.Tensor:
            return group_advantages(group_rewards, scale_by_std=objective.scale_by_std)

    judged = ~torch.isnan(rewards)
    if bool(judged.all()):
        return advantage(rewards)
    advantages = torch.full_like(rewards, math.nan)
    whole = judged.all(dim=1)
    if bool(whole.any()):
        advantages[whole] = advantage(rewards[whole]).view(-1, rewards.shape[1])
    for g in (~whole).nonzero().flatten().tolist():
        members = judged[g]
        count = int(members.sum())
        advantages[g, members] = advantage(rewards[g, members].view(1, -1)) if count >= smallest else 0.0
    return advantages.reshape(-1)


# --------------------------------------------------------------------------------------------
# The loop
# --------------------------------------------------------------------------------------------


@dataclass
class TrainResult:
    output_dir: Path
    steps: int
    metrics: list[dict] = field(default_factory=list)
    evaluations: list[dict] = field(default_factory=list)
    plot: Path | None = None
    seconds: float = 0.0


@dataclass
class RunState:
    """What the loop trains and advances, and what a checkpoint keeps of it."""

    model: Any
    tokenizer: Any
    envs: list[EnvState]
    selector: BetaTaskSelector | None
    rng: np.random.Generator
    optimizer: torch.optim.Optimizer
    start_step: int  # the step the checkpoint resumed from; 0 on a fresh start
    sft_done: bool
    hints: HintSchedule = field(default_factory=lambda: HintSchedule(HintConfig()))


UPDATE_METRICS = ("loss", "policy_loss", "kl", "entropy", "clip_fraction", "ratio_mean")


def train(
    config: TrainConfig, *, sources: Sequence[RewardSource] | None = None, model=None, tokenizer=None
) -> TrainResult:
    """Train ``config.model`` on ``config.envs``; ``sources`` (one per env) replace the envs'
    default reward sources, ``model``/``tokenizer`` the configured model."""
    started = time.perf_counter()
    output_dir = set_up(config)
    run = resume_state(config, sources, model, tokenizer)
    save_config(config, output_dir / "config.yaml")
    with contextlib.closing(
        Reporter(output_dir, output_dir / METRICS_FILE, config.report_to, config.to_dict())
    ) as reporter:
        log = reporter.log
        if not run.sft_done:
            warm_up(config, run, log)
        evaluations = [log_evaluation(config, run, 0, log)] if config.eval_tasks and run.start_step == 0 else []
        reference = (
            load_reference(run.model, config, output_dir) if config.kl_coef > 0 or config.track_reference_kl else None
        )
        temperature = TemperatureSchedule(config.temperature, config.temperature_end, config.temperature_anneal_tokens)
        sampler = build_sampler(config, run, temperature, output_dir)
        scorer = Scorer(config.scoring_workers, config.scoring_backend, config.scoring_grace_s)
        rows: list[dict] = []
        with contextlib.closing(scorer), progress_bar(config, run.start_step) as progress:
            for step in range(run.start_step + 1, config.steps + 1):
                step_started = time.perf_counter()
                timings = {"generation": 0.0, "scoring": 0.0}
                # 1-2. choose tasks, sample G responses to each and score them
                rollout = roll_out(config, run, sampler, scorer, timings)
                # 3-4. advantages per group, then μ passes of policy-gradient steps
                update_started = time.perf_counter()
                update = dict.fromkeys(UPDATE_METRICS, math.nan)  # every group dropped: nothing to learn from
                if rollout.kept:
                    advantages = advantages_for(config, rollout.kept, rollout.rewards)
                    learn = ~torch.isnan(advantages)  # episodes not judged leave the update
                    if bool(learn.any()):
                        episodes = [e for e, keep in zip(rollout.kept, learn.tolist()) if keep]
                        update = policy_update(run, reference, episodes, advantages[learn], config, temperature)
                timings["update"] = time.perf_counter() - update_started
                sampler.sync(run.model)
                # 5. curriculum, metrics, checkpoint
                adapt_difficulty(run.envs, rollout.unhinted)
                row = {
                    **step_metrics(step, rollout, update, run.envs, scorer.timeouts, timings, config.group_size),
                    "time/step": time.perf_counter() - step_started,
                }
                log(row)
                rows.append(row)
                show_progress(progress, row)
                if step % config.save_every == 0 or step == config.steps:
                    save_checkpoint(config, step, run)
        if config.eval_tasks:
            evaluations.append(log_evaluation(config, run, config.steps, log))
        plot = write_plots(config, output_dir)
        return TrainResult(output_dir, config.steps, rows, evaluations, plot, time.perf_counter() - started)


# --------------------------------------------------------------------------------------------
# Setup, resume, checkpoints
# --------------------------------------------------------------------------------------------


def set_up(config: TrainConfig) -> Path:
    """Create ``output_dir`` (returned), set torch's thread count, keep transformers' own
    progress bars off (ours only: transformers would add one per checkpoint write)."""
    output_dir = Path(config.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    if config.torch_threads:
        torch.set_num_threads(config.torch_threads)
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    return output_dir


def resume_state(config: TrainConfig, sources: Sequence[RewardSource] | None, model, tokenizer) -> RunState:
    """The model, envs, RNGs and optimiser: restored from the latest checkpoint in ``output_dir``
    when ``resume`` finds one (and said so on stderr), else fresh, after clearing what an
    earlier run left there. ``model``/``tokenizer``, if given, are used on a fresh start."""
    output_dir = Path(config.output_dir)
    checkpoint = latest_checkpoint(output_dir) if config.resume else None
    if checkpoint is None:  # a fresh start: nothing of an earlier run in this directory
        clear_earlier_run(output_dir)
    if model is None or checkpoint is not None:
        model, tokenizer = load_model_and_tokenizer(config, str(checkpoint) if checkpoint else None)
    model.train()
    envs = build_envs(config.envs, config.curriculum, sources)
    selector = None
    if config.task_selection.method == "beta":
        ts = config.task_selection
        selector = BetaTaskSelector(ts.pool_size, ts.evidence_discount)
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    run = RunState(
        model,
        tokenizer,
        envs,
        selector,
        rng,
        optimizer,
        start_step=0,
        sft_done=config.warmup_sft_steps == 0,
        hints=HintSchedule(config.hints),
    )
    if checkpoint is None:
        return run
    restore_checkpoint(run, checkpoint)
    truncate_metrics(output_dir / METRICS_FILE, run.start_step)
    if run.start_step >= config.steps:
        announce(
            f"{output_dir} already holds a run trained to step {run.start_step} of {config.steps}: nothing left to "
            "train (raise steps to continue it, or pass --no-resume / resume: false to start afresh)"
        )
    else:
        announce(
            f"resuming from {checkpoint} at step {run.start_step} of {config.steps} "
            f"(--no-resume / resume: false starts afresh)"
        )
    return run


def save_checkpoint(config: TrainConfig, step: int, run: RunState) -> Path:
    """``output_dir/checkpoint-<step>``: the model and tokenizer, and in its state file the step,
    the optimiser, both RNG states, each env's difficulty controller, the task selector, the
    hint schedule's pass-rate curves and the config (``restore_checkpoint`` reads them back)."""
    state = {
        "step": step,
        "numpy_rng": run.rng.bit_generator.state,
        "torch_rng": torch.random.get_rng_state(),
        "controllers": {e.config.id: e.controller.state_dict() for e in run.envs},
        "selector": run.selector.state_dict() if run.selector is not None else None,
        "hints": run.hints.state_dict(),
        "config": config.to_dict(),
    }
    return write_checkpoint(
        Path(config.output_dir), step, run.model, run.tokenizer, run.optimizer, state, config.keep_checkpoints
    )


def restore_checkpoint(run: RunState, checkpoint: Path) -> None:
    """Put the state ``save_checkpoint`` kept back into ``run`` (whose model and tokenizer were
    loaded from ``checkpoint``); the SFT warm-up, which precedes every checkpoint, is done."""
    state = torch.load(checkpoint / STATE_FILE, weights_only=False)
    run.optimizer.load_state_dict(state["optimizer"])
    run.rng.bit_generator.state = state["numpy_rng"]
    torch.random.set_rng_state(state["torch_rng"])
    for env in run.envs:
        env.controller.load_state_dict(state["controllers"][env.config.id])
    if run.selector is not None and state.get("selector"):
        run.selector.load_state_dict(state["selector"])
    if state.get("hints"):  # checkpoints from before hint schedules have none
        run.hints.load_state_dict(state["hints"])
    run.start_step, run.sft_done = int(state["step"]), True


def load_reference(model, config: TrainConfig, output_dir: Path):
    """A frozen copy of the starting policy (after any SFT warm-up), kept on disk for resumes."""
    import copy

    from transformers import AutoModelForCausalLM

    path = output_dir / "reference"
    if (path / "config.json").exists():
        reference = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, config.dtype)).to(model.device)
    else:
        reference = copy.deepcopy(model)
        reference.save_pretrained(path)
    reference.eval()
    for parameter in reference.parameters():
        parameter.requires_grad_(False)
    return reference


def build_sampler(config: TrainConfig, run: RunState, temperature: TemperatureSchedule, output_dir: Path):
    """The rollout sampler of ``rollout_backend``: HF generate on the policy itself, or a vLLM
    engine started from the exported weights and kept in sync after every update."""
    if config.rollout_backend != "vllm":
        return HFSampler(
            run.model, run.tokenizer, config.max_new_tokens, temperature, config.top_p, config.generation_batch_size
        )
    weights = export_for_vllm(run.model, run.tokenizer, output_dir)
    sampler = VLLMSampler(
        str(weights),
        run.tokenizer,
        config.max_new_tokens,
        temperature,
        config.top_p,
        config.vllm_gpu_memory_utilization,
    )
    sampler.sync(run.model)
    return sampler


def export_for_vllm(model, tokenizer, output_dir: Path) -> Path:
    """The policy as it is now, saved where vLLM loads its first weights: ``output_dir/vllm-weights``."""
    path = output_dir / "vllm-weights"
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


# --------------------------------------------------------------------------------------------
# One step: roll out, update, bookkeeping
# --------------------------------------------------------------------------------------------


@dataclass
class Rollout:
    """A step's scored episodes, group by group."""

    kept: list[Episode]  # the groups the update learns from (at most tasks_per_step)
    first_round: list[Episode]  # every group of the first round: the step's metrics
    unhinted: list[Episode]  # the first round's groups as first rolled out without a hint: the curriculum
    refill_rounds: int  # extra rounds dynamic sampling rolled out to refill the batch
    rewards: torch.Tensor  # [kept groups, G] the rewards the update learns from (training_rewards)
    reward_metrics: dict  # the first round's majority/* metrics with reward: majority
    not_judged: int = 0  # episodes of every round whose verdict is not_judged


def roll_out(config: TrainConfig, run: RunState, sampler, scorer: Scorer, timings: dict) -> Rollout:
    """Choose tasks, sample ``group_size`` responses to each, score them; tell the task selector
    how each task went. With dynamic sampling, groups whose rewards are all equal are dropped and
    fresh tasks rolled out in their place, up to ``max_refill_rounds`` times (all equal: the
    training rewards, so the majority vote's with ``reward: majority``)."""
    objective = OBJECTIVES[config.loss]
    dynamic_sampling = objective.dynamic_sampling if config.dynamic_sampling is None else config.dynamic_sampling
    kept: list[Episode] = []
    kept_rewards: list[torch.Tensor] = []
    first_round: list[Episode] = []
    unhinted: list[Episode] = []
    reward_metrics: dict = {}
    refill_rounds = 0
    not_judged = 0
    while True:
        needed = config.tasks_per_step - len(kept) // config.group_size
        chosen, positions = choose_tasks(run.envs, needed, run.rng, run.selector)
        episodes, levels, unhinted_groups = roll_out_with_hints(config, run, chosen, sampler, scorer, timings)
        rewards, metrics = training_rewards(config, episodes)
        not_judged += sum(not e.judged for e in episodes)
        if run.hints.active:
            metrics = {
                **metrics,
                "hints/mean_level": float(np.mean(levels)) if levels else 0.0,
                "hints/hinted_share": float(np.mean([level > 0 for level in levels])) if levels else 0.0,
            }
        if not first_round:
            first_round, reward_metrics = episodes, metrics
            unhinted = [e for group in unhinted_groups if group is not None for e in group]
        if run.selector is not None:  # a task's evidence is how it went without a hint
            for g, (env, _) in enumerate(chosen):
                if unhinted_groups[g] is not None:
                    judged = [e for e in unhinted_groups[g] if e.judged]
                    correct = sum(bool(e.verdict and e.verdict.correct) for e in judged)
                    run.selector.update(env.config.id, env.difficulty, positions[g], correct, len(judged) - correct)
        for g in range(len(chosen)):
            values = rewards[g][~torch.isnan(rewards[g])]  # the judged episodes' rewards
            informative = bool(values.numel() > 1 and values.max() > values.min())
            if informative or not dynamic_sampling:
                kept += episodes[g * config.group_size : (g + 1) * config.group_size]
                kept_rewards.append(rewards[g])
        if (
            not dynamic_sampling
            or len(kept) >= config.tasks_per_step * config.group_size
            or refill_rounds >= config.max_refill_rounds
        ):
            break
        refill_rounds += 1
    rewards = (
        torch.stack(kept_rewards[: config.tasks_per_step]) if kept_rewards else torch.zeros((0, config.group_size))
    )
    return Rollout(
        kept[: config.tasks_per_step * config.group_size],
        first_round,
        unhinted,
        refill_rounds,
        rewards,
        reward_metrics,
        not_judged,
    )


def roll_out_with_hints(
    config: TrainConfig, run: RunState, chosen: list[tuple[EnvState, Task]], sampler, scorer: Scorer, timings: dict
) -> tuple[list[Episode], list[float], list[list[Episode] | None]]:
    """Episodes of ``chosen`` (group by group), each group's hint level, per the hint schedule
    (rlvr.trainers.hints): seele's level from the start, ghpo's ladder for groups that score all
    zero (each such group rolled out again at the next level, its episodes replaced), and each
    group's first roll-out if it showed no hint (else None): what the task selector and the
    difficulty curriculum learn from, so that hints never make a level look easier than it is.
    Every group's outcome is recorded for the schedule's curve."""
    levels = [run.hints.first_level(env.config.id, env.difficulty) for env, _ in chosen]
    pieces = [len(env.source.generator.hints(task)) if run.hints.active else 0 for env, task in chosen]
    unhinted: list[list[Episode] | None] = [
        None if min(hint_pieces_shown(level, count), count) else [] for level, count in zip(levels, pieces)
    ]
    todo = list(range(len(chosen)))
    episodes: list[Episode] = [None] * (len(chosen) * config.group_size)  # type: ignore[list-item]
    while todo:
        pairs = [(chosen[g][0].source, chosen[g][0].source.generator.with_hint(chosen[g][1], levels[g])) for g in todo]
        fresh = run_episodes(
            pairs,
            config.group_size,
            sampler,
            run.tokenizer,
            scorer,
            max_turns=config.max_turns,
            max_context_tokens=config.max_context_tokens,
            system_prompt=config.system_prompt,
            timings=timings,
        )
        retry = []
        for position, g in enumerate(todo):
            group = fresh[position * config.group_size : (position + 1) * config.group_size]
            episodes[g * config.group_size : (g + 1) * config.group_size] = group
            if unhinted[g] == []:  # the group's first roll-out, with no hint shown
                unhinted[g] = group
            judged = sum(e.judged for e in group)
            correct = sum(bool(e.verdict and e.verdict.correct) for e in group)
            env = chosen[g][0]
            if run.hints.active and judged:
                run.hints.record(env.config.id, env.difficulty, levels[g], correct, judged)
            higher = run.hints.retry_level(levels[g]) if correct == 0 and judged else None
            while higher is not None and hint_pieces_shown(higher, pieces[g]) == hint_pieces_shown(
                levels[g], pieces[g]
            ):
                higher = run.hints.retry_level(higher)  # a level that shows nothing new would resend the same prompt
            if higher is not None:
                levels[g] = higher
                retry.append(g)
        todo = retry
    return episodes, levels, unhinted


def policy_update(
    run: RunState,
    reference,
    episodes: list[Episode],
    advantages: torch.Tensor,
    config: TrainConfig,
    temperature: TemperatureSchedule,
) -> dict:
    """μ passes over the batch in minibatches of clipped policy-gradient steps; logged means."""
    model, optimizer = run.model, run.optimizer
    objective = OBJECTIVES[config.loss]
    advantages = advantages.to(model.device)
    batch = collate(
        [(e.prompt_ids, e.completion_ids, e.model_token, e.turn_position) for e in episodes],
        run.tokenizer.pad_token_id,
        model.device,
    )
    on_policy = config.inner_updates == 1 and config.minibatches == 1
    with torch.no_grad():
        old_logp = None if on_policy else token_logprobs(model, batch, temperature)[0]  # the sampling policy
        ref_logp = token_logprobs(reference, batch, temperature)[0] if reference is not None else None
    n = len(episodes)
    totals: dict[str, list[float]] = {}
    for _ in range(config.inner_updates):
        order = torch.randperm(n) if config.minibatches > 1 else torch.arange(n)
        # near-equal minibatches (equal when n divides; episodes left out may leave fewer than minibatches)
        for rows in torch.tensor_split(order, min(config.minibatches, n)):
            rows = rows.to(model.device)
            part = batch[rows]
            logp, entropy = token_logprobs(model, part, temperature)
            out = policy_loss(
                objective,
                logp,
                logp.detach() if old_logp is None else old_logp[rows],
                advantages[rows],
                part.completion_mask,
                max_tokens=config.max_new_tokens * config.max_turns,
                ref_logp=None if ref_logp is None else ref_logp[rows],
                kl_coef=config.kl_coef,
                entropy=entropy,
                entropy_coef=config.entropy_coef,
                high_entropy_fraction=config.high_entropy_fraction,
                epsilon_low=config.epsilon_low,
                epsilon_high=config.epsilon_high,
            )
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            for key in ("policy_loss", "kl", "entropy", "clip_fraction", "ratio_mean"):
                totals.setdefault(key, []).append(getattr(out, key))
            totals.setdefault("loss", []).append(float(out.loss.detach()))
    result = {key: float(np.mean(values)) for key, values in totals.items()}
    if reference is None:
        result["kl"] = math.nan
    return result


def adapt_difficulty(envs: list[EnvState], episodes: list[Episode]) -> None:
    """Each adaptive env's difficulty controller sees the pass rate of its episodes this step
    (the unhinted ones: an env whose every group was hinted keeps its difficulty)."""
    for env in envs:
        mine = [e for e in episodes if e.source is env.source and e.judged]
        if mine and env.adaptive:
            env.controller.update(float(np.mean([bool(e.verdict and e.verdict.correct) for e in mine])))


def step_metrics(
    step: int,
    rollout: Rollout,
    update: dict,
    envs: list[EnvState],
    scoring_timeouts: int,
    timings: dict,
    group_size: int,
) -> dict:
    """The step's metrics row but its total time: the first round's rewards and pass rates, each
    env's difficulty, the update's means, the refill and scoring counts, seconds by phase."""
    return {
        "phase": "rl",
        "step": step,
        **episode_metrics(rollout.first_round, group_size),
        **rollout.reward_metrics,
        **{f"difficulty/{env.config.id}": env.difficulty for env in envs},
        **update,
        "groups_used": len(rollout.kept) // group_size,
        "refill_rounds": rollout.refill_rounds,
        "not_judged": rollout.not_judged,
        "scoring_timeouts": scoring_timeouts,
        "time/generation": timings["generation"],
        "time/scoring": timings["scoring"],
        "time/update": timings["update"],
    }


def episode_metrics(episodes: list[Episode], group_size: int) -> dict:
    """Reward and pass rate overall and per env (over the judged episodes: NaN when none is),
    zero-variance groups (among each group's judged rewards), response lengths."""
    rewards = group_rewards(episodes, group_size)
    judged = [e for e in episodes if e.judged]
    highest = rewards.nan_to_num(nan=-math.inf).max(dim=1).values
    lowest = rewards.nan_to_num(nan=math.inf).min(dim=1).values
    metrics: dict[str, Any] = {
        "reward": mean_or_nan([e.reward for e in judged]),
        "pass_rate": mean_or_nan([bool(e.verdict and e.verdict.correct) for e in judged]),
        "zero_variance_fraction": float((highest <= lowest).float().mean()),
        "response_length": float(np.mean([e.response_tokens for e in episodes])),
        "truncated_fraction": float(np.mean([e.truncated for e in episodes])),
        "turns": float(np.mean([e.turns for e in episodes])),
    }
    for env_id in sorted({e.source.env_id for e in episodes}):
        mine = [e for e in judged if e.source.env_id == env_id]
        metrics[f"reward/{env_id}"] = mean_or_nan([e.reward for e in mine])
        metrics[f"pass_rate/{env_id}"] = mean_or_nan([bool(e.verdict and e.verdict.correct) for e in mine])
    return metrics


def mean_or_nan(values: list) -> float:
    return float(np.mean(values)) if values else math.nan


def progress_bar(config: TrainConfig, start_step: int):
    """The RL steps' progress bar on stderr (off with ``progress: false``)."""
    from tqdm import tqdm

    return tqdm(
        total=config.steps, initial=start_step, disable=not config.progress, unit="step", dynamic_ncols=True, desc="RL"
    )


def show_progress(progress, row: dict) -> None:
    progress.update(1)
    progress.set_postfix(
        reward=f"{row['reward']:.2f}",
        pass_rate=f"{row['pass_rate']:.2f}",
        length=f"{row['response_length']:.1f}",
        kl=f"{row['kl']:.3f}",
        refresh=False,
    )


# --------------------------------------------------------------------------------------------
# SFT warm-up, evaluation, the plot
# --------------------------------------------------------------------------------------------


def warm_up(config: TrainConfig, run: RunState, log) -> None:
    """The SFT warm-up before step 1, on ``warmup_sft_envs`` (default: the training envs)."""
    envs = build_envs(config.warmup_sft_envs, CurriculumConfig()) if config.warmup_sft_envs else run.envs
    sft_warmup(run.model, run.tokenizer, envs, config, run.rng, log)


def sft_warmup(model, tokenizer, envs: list[EnvState], config: TrainConfig, rng: np.random.Generator, log) -> None:
    """Supervised steps on the generators' reference solutions (cross-entropy on the response),
    with a progress bar of their loss."""
    from tqdm import tqdm

    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.warmup_sft_learning_rate or config.learning_rate, weight_decay=config.weight_decay
    )
    model.train()
    eos = tokenizer.eos_token_id
    progress = tqdm(
        range(1, config.warmup_sft_steps + 1),
        disable=not config.progress,
        unit="step",
        dynamic_ncols=True,
        desc="SFT warm-up",
    )
    for step in progress:
        chosen, _ = choose_tasks(envs, config.warmup_sft_batch_size, rng, None)
        rows = []
        for env, task in chosen:
            prompt = encode_prompt(tokenizer, system_messages(config) + [{"role": "user", "content": task.prompt}])
            response = tokenizer(env.source.reference_response(task), add_special_tokens=False)["input_ids"] + [eos]
            rows.append((prompt, response, [1] * len(response), list(range(len(response)))))
        batch = collate(rows, tokenizer.pad_token_id, model.device)
        logp, _ = token_logprobs(model, batch, TemperatureSchedule(1.0))
        loss = -(logp * batch.completion_mask).sum() / batch.completion_mask.sum()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        log({"phase": "sft", "sft_step": step, "sft_loss": float(loss.detach())})
        progress.set_postfix(loss=f"{float(loss.detach()):.3f}", refresh=False)
    progress.close()


def system_messages(config: TrainConfig) -> list[dict]:
    return [{"role": "system", "content": config.system_prompt}] if config.system_prompt else []


def log_evaluation(config: TrainConfig, run: RunState, after_step: int, log) -> dict:
    """The greedy evaluation after ``after_step`` steps (0: before training) as a logged eval row;
    the same ``eval_tasks`` fixed tasks per env every time."""
    row = {
        "phase": "eval",
        "after_step": after_step,
        **evaluate(run.model, run.tokenizer, run.envs, config, config.eval_tasks, config.seed + 1),
    }
    log(row)
    return row


def evaluate(model, tokenizer, envs: list[EnvState], config: TrainConfig, n_tasks: int, seed: int) -> dict:
    """Greedy pass rate per env on ``n_tasks`` fixed tasks per env at its current difficulty, over
    the episodes that were judged (a ``not_judged`` verdict says nothing about the answer; their
    count is ``eval_not_judged/<env>``; the rate is NaN when none was judged)."""
    sampler = HFSampler(
        model,
        tokenizer,
        config.max_new_tokens,
        TemperatureSchedule(1.0),
        batch_size=config.generation_batch_size,
        greedy=True,
    )
    scorer = Scorer(1, "serial")
    result = {}
    rng = np.random.default_rng(seed)
    for env in envs:
        seeds = rng.integers(SEED_SPACE, size=n_tasks)
        groups = [(env.source, env.source.make_task(int(s), env.difficulty, split="test")) for s in seeds]
        episodes = run_episodes(
            groups,
            1,
            sampler,
            tokenizer,
            scorer,
            max_turns=config.max_turns,
            max_context_tokens=config.max_context_tokens,
            system_prompt=config.system_prompt,
        )
        judged = [e for e in episodes if e.judged]
        result[f"eval_pass_rate/{env.config.id}"] = mean_or_nan([bool(e.verdict and e.verdict.correct) for e in judged])
        result[f"eval_not_judged/{env.config.id}"] = len(episodes) - len(judged)
    return result


def write_plots(config: TrainConfig, output_dir: Path) -> Path | None:
    """metrics.png from metrics.jsonl (with ``plot``; None without, or with nothing to plot)."""
    return plot_metrics(output_dir / METRICS_FILE, output_dir / PLOT_FILE) if config.plot else None


# Command line
# --------------------------------------------------------------------------------------------


def train_command(args) -> int:
    """``rlvr train CONFIG`` / ``rlvr train --demo``: check the config (a mistake in it is a
    one-line UsageError), run, then print a short summary."""
    from rlvr.cli import UsageError, user_input

    overrides = {
        "warmup_sft_steps": args.warmup_sft,
        "steps": args.steps,
        "output_dir": args.output_dir,
        "seed": args.seed,
        "report_to": args.report_to,
    }
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if args.no_resume:
        overrides["resume"] = False
    if args.demo and args.config:
        raise UsageError("give a config file or --demo, not both")
    if not args.demo and not args.config:
        raise UsageError("give a config file or --demo, e.g. rlvr train examples/tiny_sums.yaml")
    with user_input("fix the config (its keys are the fields of rlvr.trainers.TrainConfig)"):
        config = demo_config(**overrides) if args.demo else load_config(args.config, **overrides)
        for env in [*config.envs, *(config.warmup_sft_envs or [])]:
            RewardSource.from_env(env.id, env.weight, env.options)  # an unknown env id or option fails here
    result = train(config)
    rl = list(result.metrics)
    if rl:
        head, tail = rl[: max(1, len(rl) // 10)], rl[-max(1, len(rl) // 10) :]
        print(
            f"mean reward: first {len(head)} steps {np.mean([r['reward'] for r in head]):.3f} → last {len(tail)} steps "
            f"{np.mean([r['reward'] for r in tail]):.3f}"
        )
    for evaluation in result.evaluations:
        scores = ", ".join(
            f"{k.split('/', 1)[1]} {v:.2f}" for k, v in evaluation.items() if k.startswith("eval_pass_rate/")
        )
        print(f"greedy pass rate after step {evaluation['after_step']}: {scores}")
    print(
        f"{result.seconds:.0f} s; metrics in {result.output_dir / METRICS_FILE}"
        + (f", curves in {result.plot}" if result.plot else "")
    )
    return 0
