"""The GRPO-family training loop, in one file, top to bottom.

    for each step:
        1. choose tasks        envs drawn by weight; each env's tasks at its current difficulty,
                               uniformly by seed or from Beta posteriors (curriculum.py)
        2. roll out            G responses per task (HF generate or vLLM), scored by the env's
                               verifier in parallel workers with deadlines (rollout.py); DAPO's
                               dynamic sampling drops groups whose rewards are all equal and
                               rolls out more tasks to refill the batch
        3. advantages          per group (GRPO / Dr. GRPO) or W-REINFORCE; DAPO's overlong
                               penalty shapes rewards first (losses.py)
        4. update              μ passes of clipped policy-gradient steps over minibatches, with
                               optional KL to the frozen start, entropy bonus, top-ρ entropy tokens
        5. bookkeeping         curriculum moves difficulties, metrics go to metrics.jsonl (and
                               TensorBoard / W&B with ``report_to``), a checkpoint every
                               ``save_every`` steps; at the end, curves to metrics.png

``train(config)`` runs it and returns a summary; ``rlvr train config.yaml`` does the same from
the command line, ``rlvr train --demo`` runs the CPU demo (config.demo_config). An optional SFT
warm-up on the generators' reference solutions runs before step 1 (``warmup_sft_steps``).
With ``resume`` (the default) a run continues from the latest checkpoint in ``output_dir`` and
says so on stderr (a finished run says there is nothing left to train); ``resume: false``
(``--no-resume``) removes the earlier run's checkpoints, reference model and metrics first.
Scoring workers start by forkserver, so a script that calls ``train`` with the default
``scoring_backend: process`` needs the usual ``if __name__ == "__main__":`` guard.

Metrics (one JSON object per step in ``output_dir/metrics.jsonl``): step, reward, pass_rate,
reward/<env>, pass_rate/<env>, difficulty/<env>, zero_variance_fraction, groups_used,
refill_rounds, entropy, kl, response_length, truncated_fraction, clip_fraction, ratio_mean,
loss, scoring_timeouts, time/generation, time/scoring, time/update, time/step. SFT warm-up lines
carry ``"phase": "sft"``; evaluation lines ``"phase": "eval"`` (greedy pass rate per env).
metrics.png plots the training curves, the SFT warm-up loss and the greedy pass rate before and
after training.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from rlvr.trainers.config import CurriculumConfig, EnvConfig, TrainConfig, demo_config, load_config, save_config
from rlvr.trainers.curriculum import SEED_SPACE, BetaTaskSelector, DifficultyController
from rlvr.trainers.reporting import Reporter
from rlvr.trainers.losses import OBJECTIVES, group_advantages, overlong_penalty, policy_loss, w_reinforce_advantages
from rlvr.trainers.rollout import Episode, HFSampler, RewardSource, Scorer, TemperatureSchedule, VLLMSampler, encode_prompt, run_episodes

METRICS_FILE = "metrics.jsonl"
PLOT_FILE = "metrics.png"
STATE_FILE = "trainer_state.pt"

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

    def __getitem__(self, rows) -> "Batch":
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
            input_ids[row, prompt_width:prompt_width + len(completion)] = torch.tensor(completion)
            attention_mask[row, prompt_width:prompt_width + len(completion)] = 1
            completion_mask[row, :len(completion)] = torch.tensor(model_token, dtype=torch.float32)
            turn_position[row, :len(completion)] = torch.tensor(positions)
    position_ids = (attention_mask.cumsum(dim=1) - 1).clamp(min=0)
    return Batch(*(t.to(device) for t in (input_ids, attention_mask, position_ids, completion_mask, turn_position)))


def token_logprobs(model, batch: Batch, temperature: TemperatureSchedule) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-probability of each completion token under the (temperature-scaled) policy, and the
    entropy of the distribution it was drawn from; both [N, C]."""
    width = batch.completion_mask.shape[1]
    logits = model(
        input_ids=batch.input_ids, attention_mask=batch.attention_mask, position_ids=batch.position_ids, logits_to_keep=width + 1,
    ).logits[:, :-1].float()
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


def build_envs(env_configs: Sequence[EnvConfig], curriculum: CurriculumConfig, sources: Sequence[RewardSource] | None = None) -> list[EnvState]:
    """The mixture: a reward source and a difficulty controller per env."""
    if sources is not None and len(sources) != len(env_configs):
        raise ValueError(f"{len(sources)} reward sources for {len(env_configs)} envs")
    states = []
    for index, env in enumerate(env_configs):
        source = sources[index] if sources is not None else RewardSource.from_env(env.id, env.weight, env.options)
        source.weight = env.weight
        cur = curriculum
        controller = DifficultyController(env.difficulty, cur.low, cur.high, cur.step, cur.smoothing, cur.min_difficulty, cur.max_difficulty)
        adaptive = cur.enabled if env.curriculum is None else env.curriculum
        states.append(EnvState(env, source, controller, adaptive))
    return states


def choose_tasks(envs: list[EnvState], n: int, rng: np.random.Generator, selector: BetaTaskSelector | None) -> list[tuple[EnvState, Any]]:
    """``n`` (env, task) pairs: envs by weight, tasks at each env's current difficulty."""
    weights = np.array([e.config.weight for e in envs], dtype=float)
    picks = rng.choice(len(envs), size=n, p=weights / weights.sum())
    chosen: list[tuple[EnvState, Any]] = []
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
    return chosen


def group_rewards(episodes: list[Episode], group_size: int) -> torch.Tensor:
    return torch.tensor([e.reward for e in episodes], dtype=torch.float32).view(-1, group_size)


def advantages_for(config: TrainConfig, episodes: list[Episode]) -> torch.Tensor:
    """[N] advantages of episodes laid out group by group."""
    objective = OBJECTIVES[config.loss]
    rewards = group_rewards(episodes, config.group_size)
    use_overlong = objective.overlong_penalty if config.overlong_penalty is None else config.overlong_penalty
    if use_overlong:
        lengths = torch.tensor([e.response_tokens for e in episodes], dtype=torch.float32).view_as(rewards)
        budget = config.max_new_tokens * config.max_turns
        rewards = rewards + overlong_penalty(lengths, budget, min(config.overlong_cache_tokens, budget))
    if config.w_reinforce is not None:
        return w_reinforce_advantages(rewards, config.w_reinforce)
    return group_advantages(rewards, scale_by_std=objective.scale_by_std)


# --------------------------------------------------------------------------------------------
# Metrics, plots, checkpoints
# --------------------------------------------------------------------------------------------


def episode_metrics(episodes: list[Episode], group_size: int) -> dict:
    """Reward and pass rate overall and per env, zero-variance groups, response lengths."""
    rewards = group_rewards(episodes, group_size)
    metrics: dict[str, Any] = {
        "reward": float(rewards.mean()),
        "pass_rate": float(np.mean([bool(e.verdict and e.verdict.correct) for e in episodes])),
        "zero_variance_fraction": float((rewards.max(dim=1).values == rewards.min(dim=1).values).float().mean()),
        "response_length": float(np.mean([e.response_tokens for e in episodes])),
        "truncated_fraction": float(np.mean([e.truncated for e in episodes])),
        "turns": float(np.mean([e.turns for e in episodes])),
    }
    for env_id in sorted({e.source.env_id for e in episodes}):
        mine = [e for e in episodes if e.source.env_id == env_id]
        metrics[f"reward/{env_id}"] = float(np.mean([e.reward for e in mine]))
        metrics[f"pass_rate/{env_id}"] = float(np.mean([bool(e.verdict and e.verdict.correct) for e in mine]))
    return metrics


def read_metrics(path: str | Path) -> list[dict]:
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def plot_metrics(metrics_path: str | Path, png_path: str | Path) -> Path | None:
    """The run in one PNG: the training steps' curves, the SFT warm-up loss and the greedy pass
    rate per env before and after training (None when there is nothing to plot)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    everything = read_metrics(metrics_path)
    rows = [r for r in everything if r.get("phase", "rl") == "rl"]
    sft = [r for r in everything if r.get("phase") == "sft"]
    evaluations = [r for r in everything if r.get("phase") == "eval"]
    if not (rows or sft or evaluations):
        return None
    last = rows[-1] if rows else {}
    panels = [
        ("reward", [k for k in last if k == "reward" or k.startswith("reward/")]),
        ("pass rate", [k for k in last if k == "pass_rate" or k.startswith("pass_rate/")]),
        ("difficulty", [k for k in last if k.startswith("difficulty/")]),
        ("zero-variance groups", ["zero_variance_fraction"]),
        ("entropy", ["entropy"]),
        ("KL to start", ["kl"]),
        ("response length (tokens)", ["response_length"]),
        ("clip fraction", ["clip_fraction"]),
        ("seconds per step", ["time/generation", "time/scoring", "time/update"]),
    ]
    figure, axes = plt.subplots(3, 4, figsize=(18, 10), constrained_layout=True)
    steps = [r["step"] for r in rows]
    for axis, (title, keys) in zip(axes[:, :3].flat, panels):
        for key in keys:
            axis.plot(steps, [math.nan if r.get(key) is None else r[key] for r in rows], label=key)
        axis.set_title(title)
        axis.set_xlabel("step")
        axis.grid(alpha=0.3)
        if len(keys) > 1:
            axis.legend(fontsize=7)
    warmup, before_after, unused = axes[:, 3]
    warmup.plot([r["sft_step"] for r in sft], [r["sft_loss"] for r in sft], color="tab:purple")
    warmup.set_title("SFT warm-up loss" if sft else "SFT warm-up loss (no warm-up)")
    warmup.set_xlabel("SFT step")
    warmup.grid(alpha=0.3)
    plot_evaluations(before_after, evaluations)
    unused.axis("off")
    figure.savefig(png_path, dpi=90)
    plt.close(figure)
    return Path(png_path)


def plot_evaluations(axis, evaluations: list[dict]) -> None:
    """Greedy pass rate per env, one bar per evaluation (before training, after step N)."""
    envs = sorted({k.split("/", 1)[1] for row in evaluations for k in row if k.startswith("eval_pass_rate/")})
    axis.set_title("greedy pass rate (evaluation)" if evaluations else "greedy pass rate (no evaluation: eval_tasks 0)")
    axis.set_ylim(0, 1.05)
    axis.grid(alpha=0.3, axis="y")
    width = 0.8 / max(1, len(evaluations))
    for index, row in enumerate(evaluations):
        label = "before training" if row["after_step"] == 0 else f"after step {row['after_step']}"
        values = [row.get(f"eval_pass_rate/{env}", math.nan) for env in envs]
        bars = axis.bar([e + index * width for e in range(len(envs))], values, width, label=label)
        axis.bar_label(bars, fmt="%.2f", fontsize=7)
    axis.set_xticks([e + width * (len(evaluations) - 1) / 2 for e in range(len(envs))], envs, fontsize=7)
    if evaluations:
        axis.legend(fontsize=7)


def latest_checkpoint(output_dir: Path) -> Path | None:
    candidates = sorted(p for p in output_dir.glob("checkpoint-*") if (p / STATE_FILE).exists())
    return candidates[-1] if candidates else None


def save_checkpoint(output_dir: Path, step: int, model, tokenizer, optimizer, state: dict, keep: int) -> Path:
    """``output_dir/checkpoint-<step>``: model and tokenizer (``save_pretrained``) plus the
    optimiser, RNG states, curriculum and task-selection state. Keeps the newest ``keep``."""
    target = output_dir / f"checkpoint-{step:06d}"
    partial = output_dir / f".partial-{step:06d}"
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    torch.save({**state, "optimizer": optimizer.state_dict()}, partial / STATE_FILE)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)  # a checkpoint directory with a state file is always complete
    for old in sorted(output_dir.glob("checkpoint-*"))[:-max(1, keep)]:
        shutil.rmtree(old, ignore_errors=True)
    return target


def truncate_metrics(path: Path, after_step: int) -> None:
    """Drop metric lines written after the checkpoint of ``after_step`` (we resume from it)."""

    def before_checkpoint(row: dict) -> bool:
        if row.get("phase") == "rl":
            return row["step"] <= after_step
        if row.get("phase") == "eval":
            return row["after_step"] < after_step or row["after_step"] == 0
        return True  # the SFT warm-up precedes every checkpoint

    kept = [row for row in read_metrics(path) if before_checkpoint(row)]
    path.write_text("".join(json.dumps(row) + "\n" for row in kept), encoding="utf-8")


# --------------------------------------------------------------------------------------------
# SFT warm-up and evaluation
# --------------------------------------------------------------------------------------------


def sft_warmup(model, tokenizer, envs: list[EnvState], config: TrainConfig, rng: np.random.Generator, log) -> None:
    """Supervised steps on the generators' reference solutions (cross-entropy on the response),
    with a progress bar of their loss."""
    from tqdm import tqdm

    optimizer = torch.optim.AdamW(model.parameters(), lr=config.warmup_sft_learning_rate or config.learning_rate, weight_decay=config.weight_decay)
    model.train()
    eos = tokenizer.eos_token_id
    progress = tqdm(range(1, config.warmup_sft_steps + 1), disable=not config.progress, unit="step", dynamic_ncols=True, desc="SFT warm-up")
    for step in progress:
        chosen = choose_tasks(envs, config.warmup_sft_batch_size, rng, None)
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


def evaluate(model, tokenizer, envs: list[EnvState], config: TrainConfig, n_tasks: int, seed: int) -> dict:
    """Greedy pass rate per env on ``n_tasks`` fixed tasks per env at its current difficulty."""
    sampler = HFSampler(model, tokenizer, config.max_new_tokens, TemperatureSchedule(1.0), batch_size=config.generation_batch_size, greedy=True)
    scorer = Scorer(1, "serial")
    result = {}
    rng = np.random.default_rng(seed)
    for env in envs:
        seeds = rng.integers(SEED_SPACE, size=n_tasks)
        groups = [(env.source, env.source.make_task(int(s), env.difficulty)) for s in seeds]
        episodes = run_episodes(groups, 1, sampler, tokenizer, scorer, max_turns=config.max_turns,
                                max_context_tokens=config.max_context_tokens, system_prompt=config.system_prompt)
        result[f"eval_pass_rate/{env.config.id}"] = float(np.mean([bool(e.verdict and e.verdict.correct) for e in episodes]))
    return result


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


def train(config: TrainConfig, *, sources: Sequence[RewardSource] | None = None, model=None, tokenizer=None) -> TrainResult:
    """Train ``config.model`` on ``config.envs``; ``sources`` (one per env) replace the envs'
    default reward sources, ``model``/``tokenizer`` the configured model."""
    started = time.perf_counter()
    output_dir = Path(config.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    metrics_path = output_dir / METRICS_FILE
    if config.torch_threads:
        torch.set_num_threads(config.torch_threads)
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # our bars only (transformers would add one per checkpoint write)

    # ---- setup: model, reference, envs, RNGs; or everything from the latest checkpoint -------
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
    start_step, sft_done = 0, config.warmup_sft_steps == 0
    if checkpoint is not None:
        state = torch.load(checkpoint / STATE_FILE, weights_only=False)
        optimizer.load_state_dict(state["optimizer"])
        rng.bit_generator.state = state["numpy_rng"]
        torch.random.set_rng_state(state["torch_rng"])
        for env in envs:
            env.controller.load_state_dict(state["controllers"][env.config.id])
        if selector is not None and state.get("selector"):
            selector.load_state_dict(state["selector"])
        start_step, sft_done = int(state["step"]), True
        truncate_metrics(metrics_path, start_step)
        if start_step >= config.steps:
            announce(f"{output_dir} already holds a run trained to step {start_step} of {config.steps}: nothing left to train "
                     f"(raise steps to continue it, or pass --no-resume / resume: false to start afresh)")
        else:
            announce(f"resuming from {checkpoint} at step {start_step} of {config.steps} "
                     f"(--no-resume / resume: false starts afresh)")
    save_config(config, output_dir / "config.yaml")
    reporter = Reporter(output_dir, metrics_path, config.report_to, config.to_dict())
    try:
        return run_loop(config, model, tokenizer, envs, selector, rng, optimizer, reporter, start_step, sft_done, started)
    finally:
        reporter.close()


def announce(message: str) -> None:
    """A line for the person running the trainer (stderr, so stdout stays the summary)."""
    print(f"rlvr train: {message}", file=sys.stderr, flush=True)


def clear_earlier_run(output_dir: Path) -> None:
    """Remove what an earlier run left in ``output_dir`` (checkpoints, reference model, metrics,
    TensorBoard events), so a fresh run neither resumes from nor plots them; say so."""
    leftovers = [*output_dir.glob("checkpoint-*"), *output_dir.glob(".partial-*"),
                 *(output_dir / name for name in ("reference", "vllm-weights", "tensorboard", METRICS_FILE, PLOT_FILE, STATE_FILE))]
    leftovers = [path for path in leftovers if path.exists()]
    checkpoints = sum(path.name.startswith("checkpoint-") for path in leftovers)
    if checkpoints:
        announce(f"starting afresh in {output_dir}: removing {checkpoints} checkpoint(s) of an earlier run")
    for path in leftovers:
        shutil.rmtree(path) if path.is_dir() else path.unlink()


def run_loop(config: TrainConfig, model, tokenizer, envs: list[EnvState], selector, rng: np.random.Generator, optimizer,
             reporter: Reporter, start_step: int, sft_done: bool, started: float) -> TrainResult:
    """Warm-up, evaluation before, the RL steps, evaluation after, the plot."""
    output_dir = Path(config.output_dir)
    metrics_path = output_dir / METRICS_FILE
    objective = OBJECTIVES[config.loss]
    dynamic_sampling = objective.dynamic_sampling if config.dynamic_sampling is None else config.dynamic_sampling
    log = reporter.log
    evaluations = []
    if not sft_done:
        sft_envs = build_envs(config.warmup_sft_envs, CurriculumConfig()) if config.warmup_sft_envs else envs
        sft_warmup(model, tokenizer, sft_envs, config, rng, log)
    if config.eval_tasks and start_step == 0:
        evaluations.append({"phase": "eval", "after_step": 0, **evaluate(model, tokenizer, envs, config, config.eval_tasks, config.seed + 1)})
        log(evaluations[-1])

    reference = None
    if config.kl_coef > 0 or config.track_reference_kl:
        reference = load_reference(model, config, output_dir)

    temperature = TemperatureSchedule(config.temperature, config.temperature_end, config.temperature_anneal_tokens)
    if config.rollout_backend == "vllm":
        initial = output_dir / "vllm-weights"
        model.save_pretrained(initial)
        tokenizer.save_pretrained(initial)
        sampler = VLLMSampler(str(initial), tokenizer, config.max_new_tokens, temperature, config.top_p, config.vllm_gpu_memory_utilization)
        sampler.sync(model)
    else:
        sampler = HFSampler(model, tokenizer, config.max_new_tokens, temperature, config.top_p, config.generation_batch_size)
    scorer = Scorer(config.scoring_workers, config.scoring_backend, config.scoring_grace_s)

    from tqdm import tqdm

    progress = tqdm(total=config.steps, initial=start_step, disable=not config.progress, unit="step", dynamic_ncols=True, desc="RL")
    rows: list[dict] = []
    try:
        for step in range(start_step + 1, config.steps + 1):
            step_started = time.perf_counter()
            timings = {"generation": 0.0, "scoring": 0.0}

            # ---- 1-2. choose tasks and roll out; dynamic sampling refills zero-variance groups --
            kept: list[Episode] = []
            first_round: list[Episode] = []
            refill_rounds = 0
            while True:
                needed = config.tasks_per_step - len(kept) // config.group_size
                chosen = choose_tasks(envs, needed, rng, selector)
                episodes = run_episodes(
                    [(env.source, task) for env, task in chosen], config.group_size, sampler, tokenizer, scorer,
                    max_turns=config.max_turns, max_context_tokens=config.max_context_tokens, system_prompt=config.system_prompt,
                    timings=timings,
                )
                if not first_round:
                    first_round = episodes
                if selector is not None:
                    for g, (env, task) in enumerate(chosen):
                        correct = sum(bool(e.verdict and e.verdict.correct) for e in episodes[g * config.group_size:(g + 1) * config.group_size])
                        selector.update(env.config.id, env.difficulty, task.seed, correct, config.group_size - correct)
                rewards = group_rewards(episodes, config.group_size)
                for g in range(len(chosen)):
                    informative = bool(rewards[g].max() > rewards[g].min())
                    if informative or not dynamic_sampling:
                        kept += episodes[g * config.group_size:(g + 1) * config.group_size]
                if not dynamic_sampling or len(kept) >= config.tasks_per_step * config.group_size or refill_rounds >= config.max_refill_rounds:
                    break
                refill_rounds += 1
            kept = kept[:config.tasks_per_step * config.group_size]

            # ---- 3-4. advantages and μ inner updates over minibatches ---------------------------
            update_started = time.perf_counter()
            update = {"loss": math.nan, "policy_loss": math.nan, "kl": math.nan, "entropy": math.nan, "clip_fraction": math.nan, "ratio_mean": math.nan}
            if kept:
                update = policy_update(model, reference, optimizer, kept, config, temperature, tokenizer.pad_token_id)
            timings["update"] = time.perf_counter() - update_started
            sampler.sync(model)

            # ---- 5. curriculum, metrics, checkpoint -------------------------------------------
            row = {"phase": "rl", "step": step, **episode_metrics(first_round, config.group_size)}
            for env in envs:
                mine = [e for e in first_round if e.source is env.source]
                if mine and env.adaptive:
                    env.controller.update(float(np.mean([bool(e.verdict and e.verdict.correct) for e in mine])))
                row[f"difficulty/{env.config.id}"] = env.difficulty
            row.update(update)
            row.update({
                "groups_used": len(kept) // config.group_size, "refill_rounds": refill_rounds, "scoring_timeouts": scorer.timeouts,
                "time/generation": timings["generation"], "time/scoring": timings["scoring"], "time/update": timings["update"],
                "time/step": time.perf_counter() - step_started,
            })
            log(row)
            rows.append(row)
            progress.update(1)
            progress.set_postfix(reward=f"{row['reward']:.2f}", pass_rate=f"{row['pass_rate']:.2f}", length=f"{row['response_length']:.1f}",
                                 kl=f"{row['kl']:.3f}", refresh=False)
            if step % config.save_every == 0 or step == config.steps:
                state = {
                    "step": step, "numpy_rng": rng.bit_generator.state, "torch_rng": torch.random.get_rng_state(),
                    "controllers": {e.config.id: e.controller.state_dict() for e in envs},
                    "selector": selector.state_dict() if selector is not None else None, "config": config.to_dict(),
                }
                save_checkpoint(output_dir, step, model, tokenizer, optimizer, state, config.keep_checkpoints)
    finally:
        progress.close()
        scorer.close()

    if config.eval_tasks:
        evaluations.append({"phase": "eval", "after_step": config.steps, **evaluate(model, tokenizer, envs, config, config.eval_tasks, config.seed + 1)})
        log(evaluations[-1])
    plot = plot_metrics(metrics_path, output_dir / PLOT_FILE) if config.plot else None
    return TrainResult(output_dir, config.steps, rows, evaluations, plot, time.perf_counter() - started)


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


def policy_update(model, reference, optimizer, episodes: list[Episode], config: TrainConfig, temperature: TemperatureSchedule, pad_id: int) -> dict:
    """μ passes over the batch in minibatches of clipped policy-gradient steps; logged means."""
    objective = OBJECTIVES[config.loss]
    advantages = advantages_for(config, episodes).to(model.device)
    batch = collate([(e.prompt_ids, e.completion_ids, e.model_token, e.turn_position) for e in episodes], pad_id, model.device)
    on_policy = config.inner_updates == 1 and config.minibatches == 1
    with torch.no_grad():
        old_logp = None if on_policy else token_logprobs(model, batch, temperature)[0]  # the sampling policy
        ref_logp = token_logprobs(reference, batch, temperature)[0] if reference is not None else None
    n = len(episodes)
    size = n // config.minibatches
    totals: dict[str, list[float]] = {}
    for _ in range(config.inner_updates):
        order = torch.randperm(n) if config.minibatches > 1 else torch.arange(n)
        for start in range(0, n, size):
            rows = order[start:start + size].to(model.device)
            part = batch[rows]
            logp, entropy = token_logprobs(model, part, temperature)
            out = policy_loss(
                objective, logp, logp.detach() if old_logp is None else old_logp[rows], advantages[rows], part.completion_mask,
                max_tokens=config.max_new_tokens * config.max_turns, ref_logp=None if ref_logp is None else ref_logp[rows],
                kl_coef=config.kl_coef, entropy=entropy, entropy_coef=config.entropy_coef,
                high_entropy_fraction=config.high_entropy_fraction, epsilon_low=config.epsilon_low, epsilon_high=config.epsilon_high,
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


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def train_command(args) -> int:
    """``rlvr train CONFIG`` / ``rlvr train --demo``: check the config (a mistake in it is a
    one-line UsageError), run, then print a short summary."""
    from rlvr.cli import UsageError, user_input

    overrides = {"warmup_sft_steps": args.warmup_sft, "steps": args.steps, "output_dir": args.output_dir, "seed": args.seed,
                 "report_to": args.report_to}
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
    rl = [r for r in result.metrics]
    if rl:
        head, tail = rl[: max(1, len(rl) // 10)], rl[-max(1, len(rl) // 10):]
        print(f"mean reward: first {len(head)} steps {np.mean([r['reward'] for r in head]):.3f} → last {len(tail)} steps "
              f"{np.mean([r['reward'] for r in tail]):.3f}")
    for evaluation in result.evaluations:
        scores = ", ".join(f"{k.split('/', 1)[1]} {v:.2f}" for k, v in evaluation.items() if k.startswith("eval_pass_rate/"))
        print(f"greedy pass rate after step {evaluation['after_step']}: {scores}")
    print(f"{result.seconds:.0f} s; metrics in {result.output_dir / METRICS_FILE}" + (f", curves in {result.plot}" if result.plot else ""))
    return 0
