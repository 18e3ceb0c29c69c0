"""Hugging Face ``datasets``: tasks as a ``datasets.Dataset`` and back.

``to_dataset(tasks)``        one row per Task: ``id, env_id, family, prompt, answer, difficulty,
                             seed, params, meta, images``; ``answer``, ``params`` and ``meta`` are
                             canonical JSON text (their shapes differ between families, Arrow
                             columns cannot), ``images`` is a list of ``datasets.Image`` (PNG).
``from_dataset(dataset)``    the Tasks back, byte-identical (``Task.to_json``) to those written.
``save(tasks, directory)``   ``to_dataset(tasks).save_to_disk(directory)``; read it with
                             ``datasets.load_from_disk`` — what ``rlvr generate --format hf`` writes.

Needs the ``hf`` extra (``pip install 'rlvr[hf]'``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

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


def to_dataset(tasks: Iterable[Task]):
    """A ``datasets.Dataset`` with one row per task (see the module docstring)."""
    import datasets

    return datasets.Dataset.from_list([task_row(task) for task in tasks], features=features())


def from_dataset(dataset) -> list[Task]:
    """Tasks from a dataset made by ``to_dataset`` (images read as their PNG bytes)."""
    import datasets

    undecoded = dataset.cast_column("images", datasets.List(datasets.Image(decode=False)))
    return [row_task(row) for row in undecoded]


def save(tasks: Iterable[Task], directory: str | Path) -> int:
    """Write ``tasks`` with ``save_to_disk``; returns the number of rows."""
    dataset = to_dataset(tasks)
    dataset.save_to_disk(str(directory))
    return len(dataset)
