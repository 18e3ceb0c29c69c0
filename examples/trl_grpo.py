"""GRPO with TRL's GRPOTrainer on rlvr envs: rewards are rlvr's verdicts.

    python examples/trl_grpo.py                                  # CPU, seconds: the tiny offline model
    python examples/trl_grpo.py --model Qwen/Qwen2.5-0.5B-Instruct --steps 200 --n 2000 --difficulty 0.3

The dataset mixes envs by weight; each row carries its task (column ``task``), which the reward
function verifies every completion against. ``--model tiny`` builds the 0.2M-parameter model
and tokenizer of ``rlvr.trainers.tiny`` offline (it learns nothing in two steps: this only shows
the wiring); any other value is loaded with ``from_pretrained`` (a hub name or a directory).
Needs ``pip install 'rlvr[trl]'``.
"""

from __future__ import annotations

import argparse

import torch
from trl import GRPOConfig, GRPOTrainer

from rlvr.integrations import trl as rlvr_trl


def load_model(name: str):
    """The tiny offline model and tokenizer, or a pretrained causal LM."""
    if name == "tiny":
        from rlvr.trainers.tiny import build_tiny_model, build_tiny_tokenizer

        tokenizer = build_tiny_tokenizer()
        return build_tiny_model(tokenizer, "0.2M"), tokenizer
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(name)
    return AutoModelForCausalLM.from_pretrained(name), tokenizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny", help="tiny (offline), a hub name or a local directory")
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--n", type=int, default=16, help="dataset rows")
    parser.add_argument("--difficulty", type=float, default=0.0)
    parser.add_argument("--output-dir", default="runs/trl-grpo")
    args = parser.parse_args()

    torch.set_num_threads(1)
    model, tokenizer = load_model(args.model)
    train = rlvr_trl.dataset({"rlvr/Maze-v0": 1, "rlvr/SubsetSum-v0": 1}, n=args.n, difficulty=args.difficulty)
    config = GRPOConfig(
        output_dir=args.output_dir,
        max_steps=args.steps,
        per_device_train_batch_size=4,
        num_generations=2,
        max_completion_length=16 if args.model == "tiny" else 512,
        learning_rate=1e-3 if args.model == "tiny" else 1e-6,
        use_cpu=not torch.cuda.is_available(),
        logging_steps=1,
        report_to="none",
        save_strategy="no",
        seed=0,
        bf16=False,
        beta=0.0,
        disable_tqdm=True,
    )
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=rlvr_trl.reward_function(),
        args=config,
        train_dataset=train,
        processing_class=tokenizer,
    )
    trainer.train()
    for entry in trainer.state.log_history:
        if "reward" in entry:
            print(f"step {entry['step']}: mean reward {entry['reward']:.3f}")
    print(f"trained {trainer.state.global_step} steps")


if __name__ == "__main__":
    main()
