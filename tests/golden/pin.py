"""Pin the bytes of a few tasks per env: ``python tests/golden/pin.py [ENV_ID …]``.

Writes ``tests/golden/task_digests.json``: for every env (or only the named ones), the sha256 of
the canonical JSON of the tasks at seeds 0–2 × difficulties 0, 0.5, 1 (raw stream), position 0 of
the train and test splits at d = 0.5, and the first two rows of each dataset mode whose data is
present under ``../shared/data`` (or ``tests/data``). An env that cannot be made without its
dataset (``DATASET_REQUIRED``) has no raw stream and is pinned through its dataset mode only.
``tests/test_golden_tasks.py`` recomputes them. Re-pin an env only together with a version bump recorded in its
family's "Version history": changed bytes behind an unchanged id are what the golden test exists to catch.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DIGESTS = Path(__file__).with_name("task_digests.json")
SHARED = ROOT.parent / "shared" / "data"
SEEDS = (0, 1, 2)
DIFFICULTIES = (0.0, 0.5, 1.0)
# (env id, dataset path relative to the project root, label): the dataset modes that are pinned
DATASETS = (
    ("rlvr/Math-v0", SHARED / "math" / "math500.jsonl", "math500"),
    ("rlvr/Math-v0", SHARED / "math" / "gsm8k_test_original.jsonl", "gsm8k"),
    ("rlvr/Code-v0", SHARED / "humaneval" / "HumanEval.jsonl.gz", "humaneval"),
    ("rlvr/Code-v0", ROOT / "tests" / "data" / "code" / "apps_sample.jsonl", "apps_sample"),
    ("rlvr/VerilogEval-v0", SHARED / "verilog-eval" / "dataset_spec-to-rtl", "verilog-eval"),
    ("rlvr/SWE-v0", ROOT / "tests" / "data" / "swe" / "synthetic_swebench.jsonl", "synthetic_swebench"),
)
# envs whose generator needs ``dataset=`` (the project ships no copy of their data)
DATASET_REQUIRED = {"rlvr/VerilogEval-v0"}


def task_digest(task) -> str:
    """sha256 of the task's canonical JSON, with a dataset's location reduced to its file name
    (the bytes must not depend on where the checkout lives)."""
    row = task.to_dict()
    if isinstance(row["meta"].get("dataset"), str):
        row["meta"] = {**row["meta"], "dataset": Path(row["meta"]["dataset"]).name}
    text = json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def cases():
    """(env id, key, zero-argument task maker) for every pinned task."""
    import rlvr
    from rlvr.envs.registry import ENV_SPECS

    for spec in ENV_SPECS:
        if spec.id in DATASET_REQUIRED:
            continue
        for difficulty in DIFFICULTIES:
            for seed in SEEDS:
                yield (
                    spec.id,
                    f"d{difficulty}/s{seed}",
                    (lambda e=spec.id, s=seed, d=difficulty: rlvr.make_task(e, s, d)),
                )
        for split in ("train", "test"):
            yield spec.id, f"{split}/d0.5/s0", (lambda e=spec.id, sp=split: rlvr.make_task(e, 0, 0.5, split=sp))
    for env_id, path, label in DATASETS:
        if path.exists():
            for seed in (0, 1):
                yield (
                    env_id,
                    f"dataset/{label}/s{seed}",
                    (lambda e=env_id, p=path, s=seed: rlvr.make_task(e, s, 0.5, dataset=str(p))),
                )


def main(only: list[str]) -> None:
    """Re-pin the envs in ``only`` (every env when empty); an id that names no env is refused
    before anything is written."""
    from rlvr.envs.registry import ENV_SPECS

    unknown = sorted(set(only) - {spec.id for spec in ENV_SPECS})
    if unknown:
        raise SystemExit(f"pin.py: no such env {', '.join(unknown)}; `rlvr list` shows the ids (e.g. rlvr/Math-v0)")
    pinned = json.loads(DIGESTS.read_text()) if DIGESTS.exists() else {}
    for env_id, key, make in cases():
        if only and env_id not in only:
            continue
        pinned.setdefault(env_id, {})[key] = task_digest(make())
    DIGESTS.write_text(json.dumps(pinned, indent=1, sort_keys=True) + "\n")
    print(f"pinned {sum(len(v) for v in pinned.values())} tasks of {len(pinned)} envs in {DIGESTS}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Pin the task digests of the named envs (all when none is named).")
    parser.add_argument("env_ids", nargs="*", metavar="ENV_ID", help="an env id, e.g. rlvr/Math-v0")
    main(parser.parse_args().env_ids)
