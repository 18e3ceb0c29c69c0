"""TRL: rlvr environments as a ``GRPOTrainer`` dataset and reward function.

    from trl import GRPOConfig, GRPOTrainer
    from rlvr.integrations import trl as rlvr_trl

    train = rlvr_trl.dataset({"rlvr/Math-v0": 0.5, "rlvr/Maze-v0": 0.5}, n=2000, difficulty=0.3)
    trainer = GRPOTrainer(model=..., reward_funcs=rlvr_trl.reward_function(), train_dataset=train,
                          args=GRPOConfig(...))   # keep remove_unused_columns=False (TRL's default)

``dataset(envs, n, …)``  a ``datasets.Dataset`` with columns
    prompt    chat messages ``[{"role": "user", "content": task.prompt}]`` (an optional system
              message first), or the bare prompt text with ``conversational=False``
    task      the task as JSON without images (what the reward function verifies against)
    env_id, task_id, difficulty
    images    the task's images (``datasets.Image``), only when some task has images; TRL then
              treats the rows as vision-language examples
    verifier_options  only when some env is given verifier options (``ordered=True``,
              ``partial=True``…, for every env or in one entry's ``options``): the row's env's
              options as JSON text (``"{}"`` for an env given none); they are checked as
              ``gym.make`` checks them (ValueError) and ``reward_function`` applies them to the
              row, so each row is rewarded as ``gym.make(env, **options)`` rewards it (red team
              s14 B2, 2026-12-06: they were accepted and dropped; rows without options are as
              before)
  ``envs`` is the mixture format of ``rlvr.generate_mix`` (one env id, a list for equal shares,
  ``{env_id: weight}`` or ``{env_id: {weight, difficulty, options}}``); ``difficulty`` a number,
  a list spread evenly over each env's share, or ``{env_id: difficulty}``. Rows are the
  ``split`` stream (default ``"train"``: never a test-split prompt), distinct unless
  ``allow_duplicates``, interleaved in an order fixed by ``seed``.
``reward_function(env_ids=None, …)``  a callable with GRPOTrainer's ``reward_funcs`` contract
    ``(prompts, completions, completion_ids=None, **columns) -> list[float | None]``: it reads
    each row's task from ``columns["task"]``, takes the completion text (for conversational
    completions the last assistant message's text), and returns the verdict's reward. Rows whose
    env is not in ``env_ids`` get ``None`` (TRL ignores them for this function), so one function
    per env can be combined with weights. Keyword options (e.g. ``partial=True``) reach each row's
    verifier where its env declares them (``rlvr info ENV`` lists them), so a mixture's partial
    credit applies to the envs that have it and the others judge as usual; an option that no env
    (of ``env_ids``, when given) declares raises ValueError at once. A row's own
    ``verifier_options`` column is applied too; a row whose column is not a JSON object of
    options, names an option its env refuses, or sets an option these keywords set to another
    value scores 0 (never a silent default). Verification runs in ``workers`` threads (verifiers
    that run code do it in their own sandboxed processes) through ``rlvr.scoring``: a row whose
    verification runs past its verifier's deadline plus a grace scores 0 (its thread is
    abandoned, threads cannot be killed); it never raises. A row whose verdict is
    ``not_judged`` (``rlvr.core.Verdict.not_judged``: the Math verifier got no worker before its
    deadline, so the answer was never read) gets ``None`` too, never a 0 that says nothing
    about the answer. TRL turns ``None`` into NaN and, where every reward function gave NaN
    (as here when this is the only one), GRPOTrainer (1.16, the installed version) leaves the
    row out of its group's mean and std and gives it advantage 0 (it logs a warning naming the
    row); with other reward functions the row is scored by those alone. A verdict that
    ``timed_out`` keeps its 0: a slow wrong answer must not escape it. When TRL passes
    ``log_metric``, per-env accuracy and format rates over the judged rows are logged as
    ``rlvr/<Env>/accuracy``, …, and the share of rows not judged as ``rlvr/<Env>/not_judged``.

Needs the ``trl`` extra (``pip install 'rlvr[trl]'``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import rlvr
from rlvr import scoring
from rlvr.api import largest_remainder_shares
from rlvr.core import Task
from rlvr.envs.registry import ENV_SPECS, canonical_env_id, get_spec
from rlvr.integrations.verl import OPTIONS_KEY, ground_truth, options_text, row_options


def env_shares(envs: str | Sequence[str] | Mapping[str, float], n: int) -> dict[str, int]:
    """How many of ``n`` rows each env gets (``rlvr.api.largest_remainder_shares``)."""
    weights = (
        {envs: 1.0} if isinstance(envs, str) else dict(envs) if isinstance(envs, Mapping) else dict.fromkeys(envs, 1.0)
    )
    return largest_remainder_shares(weights, n)


def _mix_of(envs: Any, difficulty: float | Mapping[str, float] | Sequence[float]) -> Any:
    """``envs`` in the mixture format, with a per-env ``difficulty`` mapping folded in."""
    if not isinstance(difficulty, Mapping):
        return envs
    weights = (
        {envs: 1.0} if isinstance(envs, str) else dict(envs) if isinstance(envs, Mapping) else dict.fromkeys(envs, 1.0)
    )
    return {
        env_id: {
            **(entry if isinstance(entry, Mapping) else {"weight": float(entry)}),
            "difficulty": difficulty[env_id],
        }
        for env_id, entry in weights.items()
    }


def dataset(
    envs: Any,
    n: int,
    seed: int = 0,
    difficulty: float | Sequence[float] | Mapping[str, float] = 0.5,
    conversational: bool = True,
    system_prompt: str | None = None,
    workers: int | None = 1,
    *,
    split: str | None = "train",
    allow_duplicates: bool = False,
    **options: Any,
):
    """A ``datasets.Dataset`` of ``n`` tasks for GRPOTrainer (module docstring)."""
    import datasets

    pairs = rlvr.generate_mix(
        _mix_of(envs, difficulty),
        n,
        seed,
        None if isinstance(difficulty, Mapping) else difficulty,
        workers,
        split=split,
        allow_duplicates=allow_duplicates,
        with_options=True,
        **options,
    )
    tasks = [task for task, _ in pairs]
    columns: dict[str, list] = {
        "prompt": [_prompt(task, conversational, system_prompt) for task in tasks],
        "task": [ground_truth(task) for task in tasks],
        "env_id": [task.env_id for task in tasks],
        "task_id": [task.id for task in tasks],
        "difficulty": [task.difficulty for task in tasks],
    }
    if any(verifier for _, verifier in pairs):
        columns[OPTIONS_KEY] = [options_text(verifier) for _, verifier in pairs]
    if any(task.images for task in tasks):
        columns["images"] = [list(task.images) for task in tasks]
        return datasets.Dataset.from_dict(columns).cast_column("images", datasets.List(datasets.Image()))
    return datasets.Dataset.from_dict(columns)


def _prompt(task: Task, conversational: bool, system_prompt: str | None) -> Any:
    if not conversational:
        return f"{system_prompt}\n\n{task.prompt}" if system_prompt else task.prompt
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    return [*messages, {"role": "user", "content": task.prompt}]


def completion_text(completion: Any) -> Any:
    """The text of one completion: a str as is; for chat messages the last assistant message
    (its text parts joined when the content is a list of parts). Anything else, a text part
    whose "text" is not a str included, is returned unchanged for the verifier to reject (that
    row scores 0; red team S6-4: joining it raised and lost the whole batch)."""
    if isinstance(completion, list):
        replies = [m for m in completion if isinstance(m, dict) and m.get("role", "assistant") == "assistant"]
        if not replies:
            return ""
        content = replies[-1].get("content", "")
        if isinstance(content, list):
            texts = [part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text"]
            return "".join(texts) if all(isinstance(text, str) for text in texts) else content
        return content
    return completion


def _task_of(cell: Any) -> Task | None:
    try:
        return Task.from_dict(json.loads(cell) if isinstance(cell, (str, bytes)) else dict(cell))
    except Exception:  # a row that holds no rlvr task
        return None


def reward_function(
    env_ids: str | Sequence[str] | None = None,
    task_column: str = "task",
    workers: int | None = None,
    **verifier_options: Any,
) -> Callable[..., list[float | None]]:
    """A GRPOTrainer reward function over rows made by ``dataset`` (module docstring)."""
    named = [env_ids] if isinstance(env_ids, str) else list(env_ids) if env_ids is not None else None
    wanted = {canonical_env_id(env_id) for env_id in named} if named is not None else None  # "Maze-v0" too
    options_of = _options_per_env(wanted, verifier_options)

    def rlvr_reward(
        prompts: list, completions: list, completion_ids: list | None = None, **columns: Any
    ) -> list[float | None]:
        cells = columns.get(task_column)
        if cells is None:
            raise KeyError(f"the dataset has no {task_column!r} column; build it with rlvr.integrations.trl.dataset")
        tasks = [_task_of(cell) for cell in cells]
        carried = columns.get(OPTIONS_KEY) or [None] * len(cells)
        scored = [i for i, task in enumerate(tasks) if task is not None and (wanted is None or task.env_id in wanted)]
        verdicts = scoring.score(
            [
                (tasks[i], completion_text(completions[i]), _row_verifier(tasks[i], carried[i], options_of))
                for i in scored
            ],
            "thread",
            workers,
        )
        # rows without a task still need a number when this is the only reward
        rewards: list[float | None] = [None if wanted is not None else 0.0] * len(completions)
        for i, verdict in zip(scored, verdicts):
            rewards[i] = None if verdict.not_judged else float(verdict.reward)  # no reward, not a 0
        _log_per_env(columns.get("log_metric"), [tasks[i] for i in scored], verdicts)
        return rewards

    rlvr_reward.__name__ = "rlvr" if wanted is None else "rlvr:" + ",".join(sorted(e.split("/")[-1] for e in wanted))
    return rlvr_reward


def _row_verifier(task: Task, carried: Any, options_of: Callable[[str], dict]) -> Any:
    """The ``scoring`` verifier of one row: its options (``verl.row_options`` of the row's column
    and this function's keywords), or, when they cannot be made, a factory whose verifier raises
    the reason (``scoring`` scores the row 0 with it)."""
    try:
        return row_options(task.env_id, carried, options_of(task.env_id))
    except (KeyError, ValueError) as error:
        reason = str(error)

        def refused() -> Any:
            raise ValueError(f"verifier options refused: {reason}")

        return refused


def _options_per_env(wanted: set[str] | None, verifier_options: dict) -> Callable[[str], dict]:
    """env id → the ``verifier_options`` that env's verifier declares (a mixture's ``partial=True``
    reaches the envs that pay partial credit; the others judge as they always do). An option no
    env in ``wanted`` (or no registered env) declares raises ValueError now, not a 0 per row."""
    specs = [get_spec(env_id) for env_id in wanted] if wanted is not None else list(ENV_SPECS)
    declared = {name for spec in specs for name in spec.verifier_options}
    unknown = sorted(set(verifier_options) - declared)
    if unknown:
        where = "the envs named" if wanted is not None else "any env"
        raise ValueError(
            f"reward_function: no verifier of {where} has the option {', '.join(map(repr, unknown))} "
            f"(declared: {', '.join(sorted(declared)) or 'none'}; `rlvr info ENV` lists an env's options)"
        )

    per_env = {
        spec.id: {name: value for name, value in verifier_options.items() if name in spec.verifier_options}
        for spec in ENV_SPECS
    }

    def options_of(env_id: str) -> dict:
        return per_env.get(env_id, {})  # an unknown env's verification scores 0 with that reason

    return options_of


def _log_per_env(log_metric: Callable[[str, float], None] | None, tasks: list[Task], verdicts: list) -> None:
    if log_metric is None or not tasks:
        return
    for env_id in sorted({task.env_id for task in tasks}):
        rows = [v for t, v in zip(tasks, verdicts) if t.env_id == env_id]
        judged = [v for v in rows if not v.not_judged]
        name = env_id.split("/")[-1]
        log_metric(f"rlvr/{name}/not_judged", (len(rows) - len(judged)) / len(rows))
        if judged:
            log_metric(f"rlvr/{name}/accuracy", sum(v.correct for v in judged) / len(judged))
            log_metric(f"rlvr/{name}/format_ok", sum(v.format_ok for v in judged) / len(judged))
