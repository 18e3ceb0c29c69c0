"""Rollouts: envs as reward sources, sampling backends, scoring with deadlines, episodes turn by turn.

RewardSource  One env of the training mixture: its generator (tasks by seed and difficulty), a
              picklable verifier factory, the task parameters, and whether it is multi-turn.
              ``RewardSource.from_env(id, weight, options)`` takes any registered rlvr env or a
              tiny task (``rlvr.trainers.tiny.TINY_ENVS``); ``RewardSource.custom`` takes any
              generator/verifier pair. Visual envs are refused (the trainer feeds text only).
Samplers      ``HFSampler``: ``model.generate`` on CPU or GPU, left-padded batches; the sampling
              temperature may be annealed over the positions of each model turn
              (``TemperatureSchedule``), applied by a logits processor.
              ``VLLMSampler``: vLLM (GPU only, import-guarded); ``sync`` copies the trained
              weights into vLLM's model after each optimiser step. Written for GPU users; not
              exercised by the CPU test suite.
Scorer        ``rlvr.scoring.Scorer`` (re-exported here) scores single-turn responses in parallel
              workers: ``process`` (a pebble process pool; a job that runs past its verifier's
              ``deadline_s`` + ``grace_s`` is killed and scored 0), ``thread`` (a job past its
              deadline is scored 0 and abandoned: its thread cannot be killed, a fresh one takes its
              place) or ``serial``. Multi-turn env steps run in its threads (``run_calls``) with the
              same deadline rule. A slow verifier therefore never stalls a step.
Episodes      ``run_episodes`` plays G episodes per task: single-turn envs get one response,
              scored through the verifier; multi-turn envs follow the Gymnasium protocol
              (observation → response → ``step`` until terminated or truncated, at most
              ``max_turns`` turns), each env turn rendered with the chat template and appended
              as tokens the loss never sees (``model_token`` 0). The episode's reward is the sum
              of its step rewards. An episode whose (last) verdict is ``not_judged`` is not
              ``judged``: the trainer learns nothing from it (its 0 is no verdict on the answer);
              one that ``timed_out`` is judged and keeps its 0. A multi-turn episode keeps what
              its last verdict judged (``judged_text``) as ``judged_response``: for SWEAgent the
              work tree's final diff, not the last message (``reward: majority`` keys by it).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

import rlvr
from rlvr.api import split_task_maker
from rlvr.core import Task, Verdict, canonical_difficulty
from rlvr.envs.multi_turn import CodeFeedbackEnv
from rlvr.envs.registry import get_spec, split_options
from rlvr.scoring import Scorer
from rlvr.trainers.tiny import TINY_ENVS

SINGLE_TURN_ENTRY = "rlvr.envs.single_turn:SingleTurnEnv"

# --------------------------------------------------------------------------------------------
# Reward sources
# --------------------------------------------------------------------------------------------


class ReturnObject:
    """A picklable zero-argument factory that returns the object it holds."""

    def __init__(self, value: Any):
        self.value = value

    def __call__(self) -> Any:
        return self.value


@dataclass
class RewardSource:
    env_id: str
    generator: Any
    verifier_factory: Callable[[], Any]
    weight: float = 1.0
    params: dict = field(default_factory=dict)  # task parameters, win over the difficulty knob
    env_options: dict = field(default_factory=dict)  # everything gym.make needs besides difficulty
    multi_turn: bool = False
    env_factory: Callable[[], Any] | None = field(default=None, repr=False)  # default: gym.make(env_id, **env_options)
    idle_envs: list = field(default_factory=list, repr=False)

    @classmethod
    def from_env(cls, env_id: str, weight: float = 1.0, options: dict | None = None) -> RewardSource:
        options = dict(options or {})
        if env_id in TINY_ENVS:
            generator_class, verifier_class = TINY_ENVS[env_id]
            generator = generator_class()
            generator.table.resolve(0.0, options)  # unknown parameters fail now, not mid-run
            return cls(env_id, generator, verifier_class, weight, options)
        spec = get_spec(env_id)
        env_id = spec.id  # "Maze-v0" → "rlvr/Maze-v0"
        if spec.visual:
            raise ValueError(f"{env_id} is a visual env; this trainer feeds text-only models")
        generator_kwargs, verifier_kwargs, params = split_options(spec, options)
        generator = rlvr.make_generator(env_id, **generator_kwargs)
        generator.table.resolve(0.0, params)
        factory = functools.partial(rlvr.make_verifier, env_id, **verifier_kwargs)
        return cls(
            env_id, generator, factory, weight, params, options, multi_turn=spec.entry_point != SINGLE_TURN_ENTRY
        )

    @classmethod
    def custom(
        cls,
        env_id: str,
        generator: Any,
        verifier: Any,
        weight: float = 1.0,
        params: dict | None = None,
        env_factory: Callable[[], Any] | None = None,
    ) -> RewardSource:
        """Any generator (``generate(seed, difficulty, **params)``, ``solve``) and verifier; with
        ``env_factory`` (a Gymnasium env that replays ``reset(options={"task": task})``) the
        source is multi-turn and its episodes are played through that env."""
        return cls(
            env_id,
            generator,
            ReturnObject(verifier),
            weight,
            dict(params or {}),
            multi_turn=env_factory is not None,
            env_factory=env_factory,
        )

    def make_task(self, seed: int, difficulty: float, split: str | None = "train") -> Task:
        """The task at position ``seed`` of ``split``'s stream (rlvr.api's split rule): training
        draws from "train", evaluation from "test", so no evaluation prompt is a training prompt."""
        return split_task_maker(self.generator, canonical_difficulty(difficulty), split, 0.0, self.params, keys=False)(
            int(seed)
        )[0]

    def reference_response(self, task: Task) -> str:
        return self.generator.solve(task)

    @functools.cached_property
    def deadline_s(self) -> float:
        return float(getattr(self.verifier_factory(), "deadline_s", 5.0))

    def acquire_env(self):
        """An idle Gymnasium env of this source (multi-turn), made on first need."""
        if self.idle_envs:
            return self.idle_envs.pop()
        if self.env_factory is not None:
            return self.env_factory()
        import gymnasium as gym

        return gym.make(self.env_id, **self.env_options)

    def release_env(self, env) -> None:
        self.idle_envs.append(env)


# --------------------------------------------------------------------------------------------
# Sampling
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemperatureSchedule:
    """Sampling temperature at position i of a model turn: ``start`` → ``end`` linearly over the
    first ``anneal_tokens`` positions, then ``end`` (constant ``start`` when ``end`` is None)."""

    start: float = 1.0
    end: float | None = None
    anneal_tokens: int = 0

    def at(self, positions: torch.Tensor) -> torch.Tensor:
        positions = positions.to(torch.float32)
        if self.end is None or self.anneal_tokens <= 0:
            return torch.full_like(positions, self.start)
        progress = torch.clamp(positions / self.anneal_tokens, max=1.0)
        return self.start + (self.end - self.start) * progress


class AnnealedTemperature:
    """A ``transformers`` logits processor dividing logits by the schedule's temperature at the
    current position of the turn (the prompt is ``prompt_width`` tokens wide)."""

    def __init__(self, schedule: TemperatureSchedule, prompt_width: int):
        self.schedule, self.prompt_width = schedule, prompt_width

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        position = torch.tensor(float(input_ids.shape[1] - self.prompt_width))
        return scores / self.schedule.at(position).to(scores.dtype)


@dataclass
class Completion:
    ids: list[int]
    finished: bool  # ended with EOS (else it hit the token budget)


class HFSampler:
    """Samples with ``model.generate`` from the training model itself (no weight sync needed)."""

    def __init__(
        self,
        model,
        tokenizer,
        max_new_tokens: int,
        temperature: TemperatureSchedule,
        top_p: float = 1.0,
        batch_size: int = 256,
        greedy: bool = False,
    ):
        self.model, self.tokenizer = model, tokenizer
        self.max_new_tokens, self.temperature, self.top_p, self.batch_size = (
            max_new_tokens,
            temperature,
            top_p,
            batch_size,
        )
        self.greedy = greedy  # argmax decoding (evaluation)

    @torch.no_grad()
    def generate(self, contexts: Sequence[Sequence[int]]) -> list[Completion]:
        from transformers import LogitsProcessorList

        completions: list[Completion] = []
        was_training = self.model.training
        self.model.eval()
        eos = self.tokenizer.eos_token_id
        for start in range(0, len(contexts), self.batch_size):
            chunk = contexts[start : start + self.batch_size]
            input_ids, attention_mask = left_pad(chunk, self.tokenizer.pad_token_id, self.model.device)
            if self.greedy:
                sampling = {"do_sample": False}
            else:
                sampling = {
                    "do_sample": True,
                    "temperature": 1.0,
                    "top_k": 0,
                    "top_p": self.top_p,
                    "logits_processor": LogitsProcessorList(
                        [AnnealedTemperature(self.temperature, input_ids.shape[1])]
                    ),
                }
            output = self.model.generate(
                input_ids=input_ids,
                attention_mask=attention_mask,
                max_new_tokens=self.max_new_tokens,
                pad_token_id=self.tokenizer.pad_token_id,
                eos_token_id=eos,
                **sampling,
            )
            for row in output[:, input_ids.shape[1] :].tolist():
                if eos in row:
                    completions.append(Completion(row[: row.index(eos) + 1], True))
                else:
                    completions.append(Completion(row, False))
        self.model.train(was_training)
        return completions

    def sync(self, model) -> None:
        """Nothing to do: HF sampling uses the training model's own weights."""


class VLLMSampler:
    """Samples with vLLM on a GPU; ``sync(model)`` pushes the trained weights after each step.

    vLLM runs in-process (``VLLM_ENABLE_V1_MULTIPROCESSING=0``) so its model can be reached and
    updated with ``load_weights``; where that attribute path differs between vLLM versions, the
    update goes through ``LLM.collective_rpc``. Temperature annealing over positions is not
    available here (vLLM samples at one temperature per request): only ``schedule.start`` is used.
    """

    def __init__(
        self,
        model_dir: str,
        tokenizer,
        max_new_tokens: int,
        temperature: TemperatureSchedule,
        top_p: float = 1.0,
        gpu_memory_utilization: float = 0.3,
        dtype: str = "bfloat16",
    ):
        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
        try:
            from vllm import LLM, SamplingParams
        except ImportError as error:
            raise RuntimeError(
                "the vllm rollout backend needs vLLM and a CUDA GPU: pip install 'rlvr[vllm]'"
            ) from error
        if temperature.end is not None and temperature.end != temperature.start:
            raise ValueError("the vllm backend samples at one temperature; annealing needs the hf backend")
        self.tokenizer = tokenizer
        self.llm = LLM(
            model=model_dir, dtype=dtype, gpu_memory_utilization=gpu_memory_utilization, enable_prefix_caching=True
        )
        self.sampling = SamplingParams(
            temperature=temperature.start,
            top_p=top_p,
            max_tokens=max_new_tokens,
            stop_token_ids=[tokenizer.eos_token_id],
            skip_special_tokens=False,
        )

    def generate(self, contexts: Sequence[Sequence[int]]) -> list[Completion]:
        from vllm.inputs import TokensPrompt

        outputs = self.llm.generate(
            [TokensPrompt(prompt_token_ids=list(c)) for c in contexts], self.sampling, use_tqdm=False
        )
        eos = self.tokenizer.eos_token_id
        completions = []
        for output in outputs:
            ids = list(output.outputs[0].token_ids)
            finished = output.outputs[0].finish_reason == "stop"
            if finished and (not ids or ids[-1] != eos):
                ids.append(eos)
            completions.append(Completion(ids, finished))
        return completions

    def sync(self, model) -> None:
        weights = [(name, tensor.detach()) for name, tensor in model.state_dict().items()]
        engine = self.llm.llm_engine
        executor = getattr(engine, "model_executor", None)
        worker = getattr(executor, "driver_worker", None)
        runner = getattr(getattr(worker, "worker", worker), "model_runner", None)
        if runner is not None:
            runner.model.load_weights(weights)
        else:
            self.llm.collective_rpc(load_weights_into_worker, args=(weights,))
        reset = getattr(self.llm, "reset_prefix_cache", None)
        if reset is not None:  # cached prefixes were computed by the old weights
            reset()


def load_weights_into_worker(worker, weights) -> None:
    worker.model_runner.model.load_weights(weights)


def left_pad(rows: Sequence[Sequence[int]], pad_id: int, device: Any = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(row) for row in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        if row:
            ids[i, width - len(row) :] = torch.tensor(row, dtype=torch.long)
            mask[i, width - len(row) :] = 1
    return ids.to(device), mask.to(device)


# --------------------------------------------------------------------------------------------
# Prompts and turns
# --------------------------------------------------------------------------------------------


def observation_text(observation: Any) -> str:
    if isinstance(observation, str):
        return observation
    if isinstance(observation, dict) and isinstance(observation.get("text"), str):
        return observation["text"]
    raise TypeError(f"expected a text observation, got {type(observation).__name__}")


def encode_prompt(tokenizer, messages: list[dict]) -> list[int]:
    """Token ids of the conversation so far, ready for the assistant to answer."""
    if getattr(tokenizer, "chat_template", None):
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return tokenizer(text, add_special_tokens=False)["input_ids"]
    text = "\n\n".join(message["content"] for message in messages) + "\n"
    return tokenizer(text)["input_ids"]


def env_turn_ids(tokenizer, messages: list[dict], ended_with_eos: bool) -> list[int]:
    """Token ids that follow the model's last turn: the template's closing of that turn, the
    env's message (``messages[-1]``) and the next generation prompt. None of it is trained on."""
    if not getattr(tokenizer, "chat_template", None):
        return tokenizer("\n" + messages[-1]["content"] + "\n", add_special_tokens=False)["input_ids"]
    *before, assistant, env_message = messages
    head = tokenizer.apply_chat_template(before, tokenize=False, add_generation_prompt=True) + assistant["content"]
    full = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    if full.startswith(head):
        tail = full[len(head) :]
    else:  # a template that rewrites earlier turns: render the env's turn on its own
        tail = tokenizer.apply_chat_template([env_message], tokenize=False, add_generation_prompt=True)
    eos_text = tokenizer.eos_token or ""
    if ended_with_eos and eos_text and tail.startswith(eos_text):
        tail = tail[len(eos_text) :]
    return tokenizer(tail, add_special_tokens=False)["input_ids"]


@dataclass
class Episode:
    """One response (one or more model turns) to one task."""

    task: Task
    source: RewardSource = field(repr=False)
    group: int
    prompt_ids: list[int]
    messages: list[dict]
    completion_ids: list[int] = field(default_factory=list)  # model and env turns after the prompt
    model_token: list[int] = field(default_factory=list)  # 1 where the model wrote the token
    turn_position: list[int] = field(default_factory=list)  # index within its model turn
    reward: float = 0.0
    verdict: Verdict | None = None
    done: bool = False
    truncated: bool = False  # the last model turn hit the token budget
    turns: int = 0
    env: Any = field(default=None, repr=False)
    judged_response: str | None = None  # multi-turn: what ``verdict`` judged (``judged_text``)

    @property
    def response(self) -> str:
        return next((m["content"] for m in reversed(self.messages) if m["role"] == "assistant"), "")

    @property
    def response_tokens(self) -> int:
        return sum(self.model_token)

    @property
    def judged(self) -> bool:
        """False when the verifier never looked at the response (``Verdict.not_judged``: the
        Math verifier got no worker before its deadline): its 0 says nothing about the answer,
        and the trainer leaves the episode out of its group's advantages and the update."""
        return self.verdict is None or not self.verdict.not_judged


def run_episodes(
    groups: Sequence[tuple[RewardSource, Task]],
    group_size: int,
    sampler,
    tokenizer,
    scorer: Scorer,
    *,
    max_turns: int = 1,
    max_context_tokens: int = 4096,
    system_prompt: str | None = None,
    timings: dict | None = None,
) -> list[Episode]:
    """G episodes per (source, task), played turn by turn; returns them grouped in order.
    ``timings`` (if given) accumulates seconds under "generation" and "scoring"."""
    timings = timings if timings is not None else {}
    timings.setdefault("generation", 0.0)
    timings.setdefault("scoring", 0.0)
    episodes: list[Episode] = []
    for index, (source, task) in enumerate(groups):
        for _ in range(group_size):
            env, prompt = None, task.prompt
            if source.multi_turn:
                env = source.acquire_env()
                observation, _ = env.reset(options={"task": task})
                prompt = observation_text(observation)
            messages = ([{"role": "system", "content": system_prompt}] if system_prompt else []) + [
                {"role": "user", "content": prompt}
            ]
            episodes.append(Episode(task, source, index, encode_prompt(tokenizer, messages), messages, env=env))

    for turn in range(max(1, max_turns)):
        live = [e for e in episodes if not e.done]
        if not live:
            break
        clock = time.perf_counter()
        completions = sampler.generate([e.prompt_ids + e.completion_ids for e in live])
        timings["generation"] += time.perf_counter() - clock
        clock = time.perf_counter()
        for episode, completion in zip(live, completions):
            episode.completion_ids += completion.ids
            episode.model_token += [1] * len(completion.ids)
            episode.turn_position += list(range(len(completion.ids)))
            episode.messages.append(
                {"role": "assistant", "content": tokenizer.decode(completion.ids, skip_special_tokens=True)}
            )
            episode.truncated = not completion.finished
            episode.turns += 1

        single = [e for e in live if not e.source.multi_turn]
        verdicts = scorer.score([(e.task, e.response, e.source.verifier_factory, e.source.deadline_s) for e in single])
        for episode, verdict in zip(single, verdicts):
            episode.verdict, episode.reward, episode.done = verdict, float(verdict.reward), True

        multi = [e for e in live if e.source.multi_turn]
        if multi:
            step_env(
                multi,
                scorer,
                tokenizer,
                last_turn=turn == max_turns - 1,
                max_context_tokens=max_context_tokens,
                ended_with_eos=[c.finished for e, c in zip(live, completions) if e.source.multi_turn],
            )
        timings["scoring"] += time.perf_counter() - clock
    for episode in episodes:
        if episode.env is not None:
            episode.source.release_env(episode.env)
            episode.env = None
    return episodes


def judged_text(env, action: str, info: dict) -> str | None:
    """What the verdict of a multi-turn step (``info["verdict"]``; ``info`` empty for a step that
    overran or raised) judged, as a response the env's verifier reads, so that ``reward:
    majority`` keys it with ``canonical_answer``: ``info["judged_response"]`` where the env
    reports it (SWEAgentEnv: its final diff in a ```diff block, None when it judged none); else
    the step's action for CodeFeedbackEnv, whose verdicts each judge the attempt sent; else
    None. An episode with None has no key and no vote: a Gymnasium env of one's own takes part
    in the vote by putting ``judged_response`` in the info of each step that returns a verdict."""
    if "judged_response" in info:
        judged = info["judged_response"]
        return judged if isinstance(judged, str) else None
    return action if isinstance(getattr(env, "unwrapped", env), CodeFeedbackEnv) else None


def step_env(
    episodes: list[Episode],
    scorer: Scorer,
    tokenizer,
    *,
    last_turn: bool,
    max_context_tokens: int,
    ended_with_eos: list[bool],
) -> None:
    """Send each episode's last response to its env (in threads, with deadlines) and append the
    env's reply as untrained tokens, or finish the episode."""
    calls = [functools.partial(e.env.step, e.response) for e in episodes]
    results = scorer.run_calls(calls, [e.source.deadline_s for e in episodes])
    for episode, result, eos in zip(episodes, results, ended_with_eos):
        if isinstance(result, Verdict):  # the step overran its deadline or raised
            episode.verdict, episode.done = result, True
            episode.judged_response = judged_text(episode.env, episode.response, {})
            episode.env = None  # a stuck env is not reused
            continue
        observation, reward, terminated, truncated, info = result
        episode.reward += float(reward)
        if "verdict" in info:
            episode.verdict = info["verdict"]
            episode.judged_response = judged_text(episode.env, episode.response, info)
        if terminated or truncated or last_turn:
            episode.done = True
            continue
        episode.messages.append({"role": "user", "content": observation_text(observation)})
        ids = env_turn_ids(tokenizer, episode.messages, eos)
        if len(episode.prompt_ids) + len(episode.completion_ids) + len(ids) >= max_context_tokens:
            episode.done = True
            continue
        episode.completion_ids += ids
        episode.model_token += [0] * len(ids)
        episode.turn_position += [0] * len(ids)
