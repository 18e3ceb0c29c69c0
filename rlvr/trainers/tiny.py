"""A tiny offline model, its tokenizer, and two easy tasks, so the trainer runs and learns on a CPU.

Nothing here touches a model hub: the tokenizer and the model are built from code.

Tokenizer   ``build_tiny_tokenizer(env_ids)``: byte-level BPE (vocabulary 512 + 4) trained on the
            spot, with ``tokenizers``, on the prompts and reference solutions of ``env_ids`` (by
            default the two tiny tasks and rlvr/Maze-v0; the trainer adds the envs it trains on).
            Every byte is representable, so nothing is unknown; digits are always single tokens
            (numbers are read digit by digit); ``<answer>``, ``</answer>``, ``<think>``,
            ``</think>`` are whole tokens; ``<|im_start|>`` opens a turn and ``<|im_end|>`` (EOS)
            closes it; ``<pad>`` pads. A ChatML-style chat template renders
            ``<|im_start|>role\ncontent<|im_end|>\n`` per message and ``<|im_start|>assistant\n``
            as the generation prompt. Training is deterministic: the same corpus gives the same
            vocabulary in every process. Word pieces keep prompts short (the sums prompt is 17
            tokens, a 2×2 maze about 230), which is what lets a tiny model learn quickly.
Model       ``build_tiny_model(tokenizer, size="0.6M")``: a randomly initialised Qwen2 causal LM
            (``transformers.Qwen2ForCausalLM``) from a config; tied embeddings; reproducible from
            ``seed``.
            size     hidden  layers  heads (kv)  mlp   parameters (with the default tokenizer)
            "0.2M"   64      3       4 (2)       192   0.18M
            "0.6M"   128     3       4 (2)       384   0.66M
            "2M"     192     5       6 (2)       576   2.25M

Tasks       Two families that a 0.6M-parameter model learns in minutes on two CPU cores. They are
            not in rlvr's registry (they are a training aid, not benchmark envs); the trainer finds
            them by id in ``TINY_ENVS`` and uses the classes directly.
            tiny/Copy-v0   "Copy: 3142" → ``<answer>3142</answer>``; ``task.answer`` = {"text"}.
            tiny/Sums-v0   "2+3=?" → ``<answer>5</answer>``; ``task.answer`` = {"total", "operands"}.
            Both prompts end with "Put your final answer inside <answer>…</answer>."
Verifiers   ``CopyVerifier``: the last ``<answer>`` block (rlvr.core.extract_answer), stripped,
            equals the text. ``SumsVerifier``: the block is an integer (sign and digits only) equal
            to the total. No block, or any other content: reward 0 with a reason. deadline 1 s.
Solvers     The text itself; the sum itself, inside ``<answer>…</answer>``.

Difficulty  tiny/Copy-v0   d     length  alphabet (digits drawn from)
                           0.0   1–3     0–4
                           0.5   2–4     0–6
                           1.0   3–6     0–9
            tiny/Sums-v0   d     operands  each operand
                           0.0   2         0–4
                           0.5   2         0–9
                           1.0   3         0–9
            Parameters: ``min_length``, ``max_length``, ``alphabet`` (copy); ``terms``,
            ``max_operand`` (sums). Explicit values win over the knob.
"""

from __future__ import annotations

import random
import re
import string
import warnings
from collections.abc import Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from rlvr.core import SafeVerifier, Task, TaskGenerator, Verdict, extract_answer
from rlvr.params import DifficultyTable, Int

if TYPE_CHECKING:  # torch and transformers load only when a model is built
    from transformers import PreTrainedModel, PreTrainedTokenizerFast

ANSWER_FORMAT = "Put your final answer inside <answer>…</answer>."

# ---------------------------------------------------------------------------------------------
# Tasks
# ---------------------------------------------------------------------------------------------


class CopyGenerator(TaskGenerator):
    """Repeat a short digit string."""

    family = "copy"
    env_id = "tiny/Copy-v0"
    table = DifficultyTable(
        {"min_length": Int(1, 20), "max_length": Int(1, 20), "alphabet": Int(2, 10)},
        {
            0.0: {"min_length": 1, "max_length": 3, "alphabet": 5},
            0.5: {"min_length": 2, "max_length": 4, "alphabet": 7},
            1.0: {"min_length": 3, "max_length": 6, "alphabet": 10},
        },
    )

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        length = rng.randint(params["min_length"], params["max_length"])
        text = "".join(rng.choice(string.digits[: params["alphabet"]]) for _ in range(length))
        return {"prompt": f"Copy: {text}\n{ANSWER_FORMAT}", "answer": {"text": text}}

    def solve(self, task: Task) -> str:
        return f"<answer>{task.answer['text']}</answer>"

    def hints(self, task: Task) -> list[str]:
        """The string's first characters, one more per piece, never the last."""
        text = task.answer["text"]
        return [f"It starts {text[:k]}" for k in range(1, len(text))] or ["Copy every digit in order."]

    def wrong_response(self, task: Task) -> str:
        text = task.answer["text"]
        return f"<answer>{text[:-1] + str((int(text[-1]) + 1) % 10)}</answer>"


class CopyVerifier(SafeVerifier):
    deadline_s = 1.0

    def check(self, task: Task, response: str) -> Verdict:
        block = extract_answer(response)
        if block is None:
            return Verdict.fail("no <answer> block")
        if block == task.answer["text"]:
            return Verdict.success()
        return Verdict.fail(f"copied {block[:20]!r}, expected {task.answer['text']!r}", format_ok=True)


class SumsGenerator(TaskGenerator):
    """Add a few small non-negative integers."""

    family = "sums"
    env_id = "tiny/Sums-v0"
    table = DifficultyTable(
        {"terms": Int(1, 10), "max_operand": Int(1, 999)},
        {
            0.0: {"terms": 2, "max_operand": 4},
            0.5: {"terms": 2, "max_operand": 9},
            1.0: {"terms": 3, "max_operand": 9},
        },
    )

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        operands = [rng.randint(0, params["max_operand"]) for _ in range(params["terms"])]
        question = "+".join(str(x) for x in operands)
        return {"prompt": f"{question}=?\n{ANSWER_FORMAT}", "answer": {"total": sum(operands), "operands": operands}}

    def solve(self, task: Task) -> str:
        return f"<answer>{task.answer['total']}</answer>"

    def hints(self, task: Task) -> list[str]:
        """Running sums of the operands, stopping before the total."""
        operands = task.answer["operands"]
        running = [sum(operands[:k]) for k in range(2, len(operands))]
        return [f"The first {k + 2} add up to {value}" for k, value in enumerate(running)] or [
            f"Add {operands[0]} and {operands[1]}"
        ]

    def wrong_response(self, task: Task) -> str:
        return f"<answer>{task.answer['total'] + 1}</answer>"


_INTEGER = re.compile(r"[+-]?\d{1,6}")


class SumsVerifier(SafeVerifier):
    deadline_s = 1.0

    def check(self, task: Task, response: str) -> Verdict:
        block = extract_answer(response)
        if block is None:
            return Verdict.fail("no <answer> block")
        if not _INTEGER.fullmatch(block):
            return Verdict.fail(f"not an integer: {block[:20]!r}")
        if int(block) == task.answer["total"]:
            return Verdict.success()
        return Verdict.fail(f"answered {int(block)}, expected {task.answer['total']}", format_ok=True)


TINY_ENVS: MappingProxyType = MappingProxyType(
    {
        "tiny/Copy-v0": (CopyGenerator, CopyVerifier),
        "tiny/Sums-v0": (SumsGenerator, SumsVerifier),
    }
)


# ---------------------------------------------------------------------------------------------
# Tokenizer and model
# ---------------------------------------------------------------------------------------------

PAD, TURN_START, TURN_END = "<pad>", "<|im_start|>", "<|im_end|>"
TAG_TOKENS = ("<answer>", "</answer>", "<think>", "</think>")
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
CORPUS_ENVS = ("tiny/Copy-v0", "tiny/Sums-v0", "rlvr/Maze-v0")
CORPUS_DIFFICULTIES = (0.0, 0.5, 1.0)
MODEL_SIZES = MappingProxyType(
    {
        "0.2M": {
            "hidden_size": 64,
            "num_hidden_layers": 3,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "intermediate_size": 192,
        },
        "0.6M": {
            "hidden_size": 128,
            "num_hidden_layers": 3,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "intermediate_size": 384,
        },
        "2M": {
            "hidden_size": 192,
            "num_hidden_layers": 5,
            "num_attention_heads": 6,
            "num_key_value_heads": 2,
            "intermediate_size": 576,
        },
    }
)


def tokenizer_corpus(env_ids: Sequence[str] = CORPUS_ENVS, samples: int = 40) -> list[str]:
    """Prompts and reference solutions of ``samples`` seeds per env and difficulty (registered
    envs at difficulty 0 only, which keeps building fast; ids of neither kind are skipped)."""
    import rlvr

    texts = ["user\n", "assistant\n", "system\n"] * samples  # the chat template's role names
    for env_id in env_ids:
        if env_id in TINY_ENVS:
            generator = TINY_ENVS[env_id][0]()
            tasks = [generator.generate(seed, d) for d in CORPUS_DIFFICULTIES for seed in range(samples)]
            texts += [t for task in tasks for t in (task.prompt, generator.solve(task))]
        elif env_id in {row["id"] for row in rlvr.list_envs()}:
            try:
                tasks = [rlvr.make_task(env_id, seed=seed, difficulty=0.0) for seed in range(samples)]
                texts += [t for task in tasks for t in (task.prompt, rlvr.solve(task))]
            except Exception as error:  # e.g. an env that needs a dataset file: train on the rest
                warnings.warn(f"tokenizer corpus: skipping {env_id} ({type(error).__name__}: {error})", stacklevel=2)
    return texts


def build_tiny_tokenizer(
    env_ids: Sequence[str] = CORPUS_ENVS, vocab_size: int = 512, samples: int = 40
) -> PreTrainedTokenizerFast:
    """A byte-level BPE ``PreTrainedTokenizerFast`` with a chat template, trained offline on the
    prompts and reference solutions of ``env_ids`` (digits always stay single tokens)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[PAD, TURN_START, TURN_END],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(tokenizer_corpus(env_ids, samples), trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        eos_token=TURN_END,
        pad_token=PAD,
        additional_special_tokens=[TURN_START],
        padding_side="left",
    )
    tokenizer.add_tokens(list(TAG_TOKENS))  # whole tokens, matched before the byte-level split; not special
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_tiny_model(tokenizer: Any, size: str = "0.6M", seed: int = 0, max_positions: int = 2048) -> PreTrainedModel:
    """A randomly initialised Qwen2-style causal LM sized for ``tokenizer``; reproducible from ``seed``."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    if size not in MODEL_SIZES:
        raise ValueError(f"unknown tiny model size {size!r}; known: {', '.join(MODEL_SIZES)}")
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        max_position_embeddings=max_positions,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
        rope_theta=10_000.0,
        **MODEL_SIZES[size],
    )
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        model = Qwen2ForCausalLM(config)
    finally:
        torch.random.set_rng_state(generator_state)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    return model
