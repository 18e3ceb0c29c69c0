"""verl: a reward function with verl's ``compute_score`` signature and an exporter to verl's
Parquet layout, so rlvr tasks train in verl with two config lines.

``export_parquet(tasks, path)``  one row per task, in the columns verl's ``RLHFDataset`` reads:
    data_source                   the env id, e.g. ``"rlvr/Maze-v0"``
    prompt                        chat messages: an optional system message, then the user message
                                  (the task prompt; visual tasks start it with one ``<image>``
                                  placeholder per image, which verl swaps for the image)
    images                        ``[{"bytes": PNG}]`` per task image (empty for text tasks)
    ability                       the family, e.g. ``"maze"``
    reward_model                  ``{"style": "rule", "ground_truth": <the task as JSON, no images>}``
    extra_info                    ``{"split", "index", "task_id", "difficulty", "seed"}``; ``index``
                                  counts from ``start_index`` (unique across the shards of one output).
                                  A file written with verifier options adds ``"verifier_options"``:
                                  the row's env's options as JSON text (``"{}"`` for an env given none)
  Rows are streamed in row groups; ``metadata`` (provenance) is stored in the Parquet key-value
  metadata under ``"rlvr"``. ``write_rows(rows, path)`` writes rows ``verl_row`` already made
  (``rlvr generate`` makes them in its worker processes). ``read_tasks(path)`` reads the tasks
  back, images included;
  ``export_mix(envs, n, path, …)`` writes a mixture (``rlvr.generate_mix``) directly; verifier
  options (``ordered=True``, ``partial=True``…, for every env or in one entry's ``options``) are
  checked as ``gym.make`` checks them and written into each row's ``extra_info``, so the rows are
  rewarded as ``gym.make(env, **options)`` rewards them (red team s14 B2, 2026-12-06: they were
  accepted and dropped, and the rows rewarded by the default verifier; rows without options are
  written and scored as before).
``compute_score(data_source, solution_str, ground_truth, extra_info=None, **reward_kwargs)``
    rebuilds the task from ``ground_truth`` and verifies ``solution_str`` with its env's verifier,
    built with the row's ``extra_info["verifier_options"]`` and those ``reward_kwargs`` (verl's
    ``reward.custom_reward_function.reward_kwargs``, passed as keywords) that the env declares;
    verl's own keywords (``reward_router_address``, ``reward_model_tokenizer``) are ignored. A
    keyword no env declares, options the env refuses, or a row option that ``reward_kwargs`` sets
    to another value score 0 with the reason (every row of the batch: loud, never a silent
    default);
    returns ``{"score": reward, "acc": 1.0 if correct, "format_ok": 0/1, "reason": str,
    "not_judged": 0/1}`` (the same keys on every path: verl's reward managers gather each key
    into a list per batch). Never raises: a ground truth that is not an rlvr task, or whose env
    differs from ``data_source``, scores 0 with the reason.
    Not judged: a verdict that is ``not_judged`` (``rlvr.core.Verdict.not_judged``: the Math
    verifier got no worker before its deadline, so the answer was never read) is verified once
    more, with a fresh deadline, so one call takes at most twice the verifier's ``deadline_s``
    (10 s for Math by default: keep verl's ``compute_score_timeout``, if set, above that). If the
    second try is not judged either, the score is 0 with ``"not_judged": 1.0``: verl needs a
    float for every sample, and a NaN would turn its group's mean and standard deviation, and so
    the loss, into NaN. That 0 says nothing about the answer; the ``not_judged`` key (in verl's
    ``reward_extra_info``) counts how often it happened. A verdict that ``timed_out`` is never
    retried: a slow wrong answer keeps its 0.

In a verl config::

    data.train_files=train.parquet  data.image_key=images
    reward.custom_reward_function.path=<path of this file>  reward.custom_reward_function.name=compute_score

(``python -c "import rlvr.integrations.verl as v; print(v.__file__)"`` prints the path.)
The exporter needs only pyarrow; neither function imports verl.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from rlvr.core import Task, canonical_json, image_to_png

IMAGE_PLACEHOLDER = "<image>"


def ground_truth(task: Task) -> str:
    """The task as canonical JSON without its images: all a verifier needs, small enough for a column."""
    row = task.to_dict()
    row["images"] = []
    return canonical_json(row)


def prompt_messages(task: Task, system_prompt: str | None = None) -> list[dict]:
    """verl's ``prompt`` column for ``task``: chat messages with ``<image>`` placeholders."""
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    placeholders = IMAGE_PLACEHOLDER * len(task.images)
    messages.append({"role": "user", "content": f"{placeholders}\n{task.prompt}" if placeholders else task.prompt})
    return messages


OPTIONS_KEY = "verifier_options"  # extra_info's key (and TRL's column) for the row's verifier options
VERL_KWARGS = frozenset({"reward_router_address", "reward_model_tokenizer"})  # verl's, not options


def options_text(options: dict) -> str:
    """Verifier options as the canonical JSON text a row carries (what ``rlvr.make_verifier``
    builds the verifier from: numpy scalars as their values, others JSON cannot hold as their
    ``str``: ``rlvr.api.json_value``)."""
    from rlvr.api import json_value

    return json.dumps(options, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=json_value)


def carries_options(envs: Any, n: int, difficulty: Any = None, **options: Any) -> bool:
    """Whether ``rlvr.iter_generate_mix(envs, n, …, **options)`` gives some env verifier options:
    the exporters then add the options column (else their rows are as they always were)."""
    from rlvr.api import group_options, mix_parts

    return any(group_options(p.env_id, {**options, **p.options}).verifier for p in mix_parts(envs, n, difficulty))


def verl_row(
    task: Task,
    index: int,
    split: str = "train",
    system_prompt: str | None = None,
    verifier_options: dict | None = None,
) -> dict:
    """One row of ``schema()``; ``verifier_options`` (None: the key is left out, the layout of a
    file without options) go into ``extra_info`` as ``options_text``."""
    row = {
        "data_source": task.env_id,
        "prompt": prompt_messages(task, system_prompt),
        "images": [{"bytes": image_to_png(image)} for image in task.images],
        "ability": task.family,
        "reward_model": {"style": "rule", "ground_truth": ground_truth(task)},
        "extra_info": {
            "split": split,
            "index": index,
            "task_id": task.id,
            "difficulty": task.difficulty,
            "seed": task.seed,
        },
    }
    if verifier_options is not None:
        row["extra_info"][OPTIONS_KEY] = options_text(verifier_options)
    return row


def schema(verifier_options: bool = False):
    """The Parquet schema of the rows; ``verifier_options``: ``extra_info`` has that key."""
    import pyarrow as pa

    extra = [
        ("split", pa.string()),
        ("index", pa.int64()),
        ("task_id", pa.string()),
        ("difficulty", pa.float64()),
        ("seed", pa.int64()),
    ]
    if verifier_options:
        extra.append((OPTIONS_KEY, pa.string()))

    message = pa.struct([("role", pa.string()), ("content", pa.string())])
    return pa.schema(
        [
            ("data_source", pa.string()),
            ("prompt", pa.list_(message)),
            ("images", pa.list_(pa.struct([("bytes", pa.binary())]))),
            ("ability", pa.string()),
            ("reward_model", pa.struct([("style", pa.string()), ("ground_truth", pa.string())])),
            ("extra_info", pa.struct(extra)),
        ]
    )


def export_parquet(
    tasks: Iterable[Task],
    path: str | Path,
    split: str = "train",
    system_prompt: str | None = None,
    *,
    start_index: int = 0,
    metadata: dict | None = None,
) -> int:
    """Write ``tasks`` in verl's layout (module docstring), streamed in row groups; row ``i``
    gets ``extra_info.index = start_index + i`` (a sharded output passes the rows written
    before, so indices are unique across files); ``metadata`` (provenance) goes into the
    Parquet key-value metadata under ``"rlvr"``. Returns the number of rows."""
    rows = (verl_row(task, 0, split, system_prompt) for task in tasks)
    return write_rows(rows, path, start_index=start_index, metadata=metadata)


def write_rows(
    rows: Iterable[dict],
    path: str | Path,
    *,
    start_index: int = 0,
    metadata: dict | None = None,
    verifier_options: bool = False,
) -> int:
    """``export_parquet`` of rows already made by ``verl_row`` (in worker processes, say):
    each row's ``extra_info.index`` is set here to ``start_index`` plus its place in ``rows``,
    whatever it was made with. ``verifier_options``: the rows carry them (``schema``); a row
    that carries options written without it raises ValueError (they would be dropped)."""
    from rlvr.core import PROVENANCE_KEY, write_parquet_rows

    table_schema = schema(verifier_options)
    if metadata is not None:
        table_schema = table_schema.with_metadata({PROVENANCE_KEY: json.dumps(metadata, sort_keys=True, default=str)})
    return write_parquet_rows(_indexed(rows, start_index, verifier_options), path, table_schema)


def _indexed(rows: Iterable[dict], start_index: int, verifier_options: bool) -> Iterator[dict]:
    for index, row in enumerate(rows, start_index):
        if not verifier_options and OPTIONS_KEY in row["extra_info"]:
            raise ValueError("a row carries verifier options: write it with write_rows(..., verifier_options=True)")
        row["extra_info"]["index"] = index
        yield row


def export_mix(
    envs: Any,
    n: int,
    path: str | Path,
    seed: int = 0,
    difficulty: Any = None,
    workers: int | None = 1,
    *,
    split: str | None = "train",
    allow_duplicates: bool = False,
    system_prompt: str | None = None,
    metadata: dict | None = None,
    **options: Any,
) -> int:
    """``export_parquet`` of ``rlvr.generate_mix(envs, n, …)``'s tasks (mixture format, split and
    uniqueness of ``rlvr.api``), streamed; ``extra_info.split`` is ``split`` (``"all"`` for None).
    Verifier options among ``options`` or the entries' are checked (ValueError) and carried in
    each row's ``extra_info`` (module docstring)."""
    import rlvr

    carried = carries_options(envs, n, difficulty, **options)
    pairs = rlvr.iter_generate_mix(
        envs, n, seed, difficulty, workers, split=split, allow_duplicates=allow_duplicates, with_options=True, **options
    )
    rows = (verl_row(task, 0, split or "all", system_prompt, verifier if carried else None) for task, verifier in pairs)
    return write_rows(rows, path, metadata=metadata, verifier_options=carried)


def read_tasks(path: str | Path, with_options: bool = False) -> Iterator[Any]:
    """The tasks of a file written by ``export_parquet`` (ground truth plus the image column);
    with ``with_options``, (task, the verifier options its row carries) pairs. A file whose rows
    carry options raises ValueError without ``with_options`` (checked at the call), so that
    ``rlvr convert`` cannot drop them silently (red team s14 R2-3)."""
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(str(path))
    extra = parquet.schema_arrow.field("extra_info").type if "extra_info" in parquet.schema_arrow.names else None
    carried = extra is not None and extra.get_field_index(OPTIONS_KEY) != -1
    if carried and not with_options:
        raise ValueError(
            f"{path} carries verifier options (extra_info.{OPTIONS_KEY}), which a task file cannot hold: "
            "score it as it is, or read it with rlvr.integrations.verl.read_tasks(path, with_options=True)"
        )
    return _read_rows(parquet, with_options, carried)


def _read_rows(parquet: Any, with_options: bool, carried: bool) -> Iterator[Any]:
    from rlvr.core import PARQUET_BATCH_ROWS, png_to_image

    columns = ["reward_model", "images", *(["extra_info"] if carried else [])]
    for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=columns):
        for row in batch.to_pylist():
            task = Task.from_dict(json.loads(row["reward_model"]["ground_truth"]))
            images = tuple(png_to_image(image["bytes"]) for image in row["images"] or ())
            task = dataclasses.replace(task, images=images) if images else task
            if with_options:
                yield task, carried_options(row["extra_info"][OPTIONS_KEY]) if carried else {}
            else:
                yield task


def _zero(reason: str) -> dict:
    return {"score": 0.0, "acc": 0.0, "format_ok": 0.0, "reason": reason, "not_judged": 0.0}


def carried_options(text: Any) -> dict:
    """The options a row carries (its ``verifier_options`` text) as a dict; ValueError where the
    text is not a JSON object or names an option that is not a scoring one
    (``rlvr.api.ROW_VERIFIER_OPTIONS``): the sandbox, limits, images and directories come from
    the caller only, never from a row (red team s14 R2-1)."""
    from rlvr.api import ROW_VERIFIER_OPTIONS

    try:
        row = json.loads(text)
    except (TypeError, ValueError, RecursionError):  # not text, not JSON, nested past the stack
        row = None
    if not isinstance(row, dict):
        raise ValueError(f"the row's {OPTIONS_KEY} is not a JSON object of options")
    host = sorted(set(row) - ROW_VERIFIER_OPTIONS)
    if host:
        raise ValueError(
            f"the row's {OPTIONS_KEY} names {', '.join(map(repr, host))}: a row carries only scoring options "
            f"({', '.join(sorted(ROW_VERIFIER_OPTIONS))}); the host's come from the caller"
        )
    return row


def row_options(env_id: str, carried: Any, asked: dict) -> dict:
    """The verifier options of a row of ``env_id``: ``carried`` (its options text, None for a row
    without) and those of the options ``asked`` for every row that ``env_id`` declares. ValueError
    (the reason) for an option no env declares, a carried text that ``carried_options`` refuses,
    or an option both give with different values; KeyError for an unknown env."""
    from rlvr.envs.registry import ENV_SPECS, get_spec

    asked = json.loads(options_text(asked))  # compared as the row's are written
    unknown = sorted(set(asked) - {name for spec in ENV_SPECS for name in spec.verifier_options})
    if unknown:
        raise ValueError(f"{', '.join(map(repr, unknown))} is no verifier option of any rlvr env")
    declared = get_spec(env_id).verifier_options
    options = {name: value for name, value in asked.items() if name in declared}
    if carried is None:
        return options
    row = carried_options(carried)
    clashes = sorted(name for name, value in row.items() if name in options and options[name] != value)
    if clashes:
        raise ValueError(f"verifier option {', '.join(map(repr, clashes))} differs between the row and the call")
    return {**options, **row}


def compute_score(
    data_source: Any, solution_str: Any, ground_truth: Any, extra_info: Any = None, **reward_kwargs: Any
) -> dict:
    """verl's reward-function contract (module docstring); never raises."""
    import rlvr

    try:
        task = Task.from_dict(
            json.loads(ground_truth) if isinstance(ground_truth, (str, bytes)) else dict(ground_truth)
        )
    except Exception as error:  # the ground truth comes from a file we may not have written
        return _zero(f"ground_truth is not an rlvr task ({type(error).__name__})")
    if data_source is not None and str(data_source) != task.env_id:
        return _zero(f"data_source {data_source!r} is not the task's env {task.env_id!r}")
    carried = extra_info.get(OPTIONS_KEY) if isinstance(extra_info, dict) else None
    asked = {name: value for name, value in reward_kwargs.items() if name not in VERL_KWARGS}
    try:
        options = row_options(task.env_id, carried, asked)
        rlvr.make_verifier(task.env_id, **options)  # built (and cached) here, so refused options score 0
    except KeyError:
        return _zero(f"unknown env {task.env_id!r}")
    except Exception as error:  # options from a file or a config: scored 0 with the reason, every row
        return _zero(f"verifier options refused: {error}")
    verdict = rlvr.verify(task, solution_str, **options)
    if verdict.not_judged:  # never read: one more try (module docstring)
        verdict = rlvr.verify(task, solution_str, **options)
    return {
        "score": float(verdict.reward),
        "acc": float(verdict.correct),
        "format_ok": float(verdict.format_ok),
        "reason": verdict.reason,
        "not_judged": float(verdict.not_judged),
    }
