"""Hugging Face ``datasets``: tasks as a ``datasets.Dataset`` and back.

``to_dataset(tasks, metadata)`` one row per Task: ``id, env_id, family, prompt, answer, difficulty,
                             seed, params, meta, images``; ``answer``, ``params`` and ``meta`` are
                             canonical JSON text (their shapes differ between families, Arrow
                             columns cannot), ``images`` is a list of ``datasets.Image`` (PNG).
``dataset(envs, n, seed, difficulty, split=…)`` the same for a mixture (``rlvr.generate_mix``).
                             Verifier options (``ordered=True``, ``partial=True``…, for every
                             env or in one entry's ``options``) are checked as ``gym.make``
                             checks them (ValueError) and carried in a ``verifier_options``
                             column (the row's env's options as JSON text, ``"{}"`` for an env
                             given none), present only when some env is given options (red team
                             s14 B2, 2026-12-06: they were accepted and dropped).
``from_dataset(dataset, with_options=False)`` the Tasks back, byte-identical (``Task.to_json``)
                             to those written; ``with_options``: (task, verifier options) pairs,
                             to give each task's verifier (``rlvr.verify(task, response,
                             **options)``). A dataset with the options column read without
                             ``with_options`` raises ValueError: its options are never dropped.
                             Built with ``Dataset.from_generator`` (memory flat in the row
                             count); ``metadata`` (provenance) is stored as JSON in the
                             dataset's description (``provenance(dataset)`` reads it).
``save(tasks, directory)``   ``to_dataset(tasks).save_to_disk(directory)``; read it with
                             ``datasets.load_from_disk`` — what ``rlvr generate --format hf`` writes.

Needs the ``hf`` extra (``pip install 'rlvr[hf]'``).
"""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rlvr.core import Task, column_json, image_to_png
from rlvr.integrations.verl import OPTIONS_KEY, carried_options, carries_options, options_text

JSON_COLUMNS = ("answer", "params", "meta")


def features(verifier_options: bool = False):
    """The dataset's schema; ``verifier_options``: with the options column."""
    import datasets

    columns = {
        "id": datasets.Value("string"),
        "env_id": datasets.Value("string"),
        "family": datasets.Value("string"),
        "prompt": datasets.Value("string"),
        "answer": datasets.Value("string"),
        "difficulty": datasets.Value("float64"),
        "seed": datasets.Value("int64"),
        "params": datasets.Value("string"),
        "meta": datasets.Value("string"),
        "images": datasets.List(datasets.Image()),
    }
    if verifier_options:
        columns[OPTIONS_KEY] = datasets.Value("string")
    return datasets.Features(columns)


def task_row(task: Task) -> dict:
    """One Task as a row of ``features()``."""
    row = task.to_dict(image_encoding="bytes")
    for key in JSON_COLUMNS:
        row[key] = column_json(row[key])
    row["images"] = [{"bytes": png, "path": None} for png in row["images"]]
    return row


def row_task(row: dict) -> Task:
    """The Task of a row read with images undecoded (``{"bytes": …}``) or decoded (PIL); the
    options column, if any, is not part of it (``iter_dataset``)."""
    row = dict(row)
    row.pop(OPTIONS_KEY, None)
    for key in JSON_COLUMNS:
        row[key] = json.loads(row[key])
    images = []
    for image in row.get("images") or ():
        if isinstance(image, dict):
            images.append(image["bytes"])
        else:  # a decoded PIL image: re-encode, the pixels are what the task is
            images.append(image_to_png(image))
    row["images"] = images
    return Task.from_dict(row)


def _rows(tasks: Iterable[Any], encoded: bool, with_options: bool):
    if not with_options:
        yield from tasks if encoded else map(task_row, tasks)
        return
    for task, verifier in tasks:
        yield {**task_row(task), OPTIONS_KEY: options_text(verifier)}


def to_dataset(
    tasks: Iterable[Task],
    metadata: dict | None = None,
    cache_dir: str | Path | None = None,
    *,
    encoded: bool = False,
    with_options: bool = False,
):
    """A ``datasets.Dataset`` with one row per task (see the module docstring), built from a
    generator (``Dataset.from_generator``: rows go to an Arrow file in ``cache_dir`` as they
    come, not into memory); ``metadata`` (provenance) becomes the dataset's description as JSON.
    ``encoded``: ``tasks`` are rows ``task_row`` already made (in worker processes, say);
    ``with_options``: ``tasks`` are (task, verifier options) pairs, written with the options column."""
    import datasets

    try:
        dataset = datasets.Dataset.from_generator(
            _rows,
            features=features(with_options),
            gen_kwargs={"tasks": tasks, "encoded": encoded, "with_options": with_options},
            cache_dir=None if cache_dir is None else str(cache_dir),
            fingerprint=f"rlvr-{uuid.uuid4().hex}",
        )
    except datasets.exceptions.DatasetGenerationError as error:
        if isinstance(error.__cause__, ValueError):  # a bad task or row, named by the error from the tasks
            raise error.__cause__ from None
        raise
    if metadata is not None:
        dataset.info.description = json.dumps(metadata, sort_keys=True, default=str)
    return dataset


def dataset(
    envs,
    n: int,
    seed: int = 0,
    difficulty=None,
    workers: int | None = 1,
    *,
    split: str | None = "train",
    allow_duplicates: bool = False,
    metadata: dict | None = None,
    **options,
):
    """A dataset of ``rlvr.generate_mix(envs, n, …)``'s tasks (the mixture format, split and
    uniqueness of ``rlvr.api``), streamed into Arrow as they are made; verifier options among
    ``options`` or the entries' are checked and carried (module docstring)."""
    import rlvr

    carried = carries_options(envs, n, difficulty, **options)
    pairs = rlvr.iter_generate_mix(
        envs, n, seed, difficulty, workers, split=split, allow_duplicates=allow_duplicates, with_options=True, **options
    )
    return to_dataset(pairs if carried else (task for task, _ in pairs), metadata, with_options=carried)


def provenance(dataset) -> dict | None:
    """The provenance ``to_dataset`` stored in the description, if any."""
    try:
        return json.loads(dataset.info.description or "null")
    except ValueError:
        return None


def from_dataset(dataset, with_options: bool = False) -> list[Any]:
    """Tasks from a dataset made by ``to_dataset`` (images read as their PNG bytes); with
    ``with_options``, (task, verifier options) pairs (module docstring)."""
    return list(iter_dataset(dataset, with_options))


def iter_dataset(dataset, with_options: bool = False):
    """``from_dataset`` one task (or pair) at a time; checked at the call: a dataset with the
    options column raises ValueError unless ``with_options``."""
    import datasets

    carried = OPTIONS_KEY in dataset.column_names
    if carried and not with_options:
        raise ValueError(
            f"the dataset carries verifier options (column {OPTIONS_KEY!r}): read it with "
            "from_dataset(dataset, with_options=True) and give each task's options to its verifier "
            "(rlvr.verify(task, response, **options))"
        )
    undecoded = dataset.cast_column("images", datasets.List(datasets.Image(decode=False)))
    return _read(undecoded, with_options, carried)


def _read(dataset, with_options: bool, carried: bool):
    for row in dataset:
        task = row_task(row)
        if with_options:
            yield task, carried_options(row[OPTIONS_KEY]) if carried else {}
        else:
            yield task


def save(
    tasks: Iterable[Task],
    directory: str | Path,
    metadata: dict | None = None,
    shard_rows: int | None = None,
    *,
    encoded: bool = False,
) -> int:
    """Write ``tasks`` with ``save_to_disk`` (Arrow files of at most ``shard_rows`` rows when
    given), streamed through a temporary Arrow cache that is removed afterwards; returns the
    number of rows. ``encoded`` as ``to_dataset``'s."""
    with tempfile.TemporaryDirectory(prefix=".rlvr-hf-cache-", dir=Path(directory).absolute().parent) as cache:
        dataset = to_dataset(tasks, metadata, cache_dir=cache, encoded=encoded)
        shards = None if not shard_rows else max(1, -(-len(dataset) // shard_rows))
        dataset.save_to_disk(str(directory), num_shards=shards)
        count = len(dataset)
        del dataset
    return count
