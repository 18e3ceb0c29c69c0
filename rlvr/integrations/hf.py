"""Hugging Face ``datasets``: tasks as a ``datasets.Dataset`` and back.

``to_dataset(tasks, metadata)`` one row per Task: ``id, env_id, family, prompt, answer, difficulty,
                             seed, params, meta, images``; ``answer``, ``params`` and ``meta`` are
                             canonical JSON text (their shapes differ between families, Arrow
                             columns cannot), ``images`` is a list of ``datasets.Image`` (PNG).
``dataset(envs, n, seed, difficulty, split=…)`` the same for a mixture (``rlvr.generate_mix``)
``from_dataset(dataset)``    the Tasks back, byte-identical (``Task.to_json``) to those written.
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

from rlvr.core import Task, image_to_png

JSON_COLUMNS = ("answer", "params", "meta")


def features():
    """The dataset's schema."""
    import datasets

    return datasets.Features(
        {
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
    )


def task_row(task: Task) -> dict:
    """One Task as a row of ``features()``."""
    row = task.to_dict(image_encoding="bytes")
    for key in JSON_COLUMNS:
        row[key] = json.dumps(row[key], sort_keys=True, ensure_ascii=False)
    row["images"] = [{"bytes": png, "path": None} for png in row["images"]]
    return row


def row_task(row: dict) -> Task:
    """The Task of a row read with images undecoded (``{"bytes": …}``) or decoded (PIL)."""
    row = dict(row)
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


def _rows(tasks: Iterable[Task], encoded: bool):
    yield from tasks if encoded else map(task_row, tasks)


def to_dataset(
    tasks: Iterable[Task],
    metadata: dict | None = None,
    cache_dir: str | Path | None = None,
    *,
    encoded: bool = False,
):
    """A ``datasets.Dataset`` with one row per task (see the module docstring), built from a
    generator (``Dataset.from_generator``: rows go to an Arrow file in ``cache_dir`` as they
    come, not into memory); ``metadata`` (provenance) becomes the dataset's description as JSON.
    ``encoded``: ``tasks`` are rows ``task_row`` already made (in worker processes, say)."""
    import datasets

    dataset = datasets.Dataset.from_generator(
        _rows,
        features=features(),
        gen_kwargs={"tasks": tasks, "encoded": encoded},
        cache_dir=None if cache_dir is None else str(cache_dir),
        fingerprint=f"rlvr-{uuid.uuid4().hex}",
    )
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
    uniqueness of ``rlvr.api``), streamed into Arrow as they are made."""
    import rlvr

    return to_dataset(
        rlvr.iter_generate_mix(
            envs, n, seed, difficulty, workers, split=split, allow_duplicates=allow_duplicates, **options
        ),
        metadata,
    )


def provenance(dataset) -> dict | None:
    """The provenance ``to_dataset`` stored in the description, if any."""
    try:
        return json.loads(dataset.info.description or "null")
    except ValueError:
        return None


def from_dataset(dataset) -> list[Task]:
    """Tasks from a dataset made by ``to_dataset`` (images read as their PNG bytes)."""
    return list(iter_dataset(dataset))


def iter_dataset(dataset):
    """``from_dataset`` one task at a time."""
    import datasets

    undecoded = dataset.cast_column("images", datasets.List(datasets.Image(decode=False)))
    for row in undecoded:
        yield row_task(row)


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
