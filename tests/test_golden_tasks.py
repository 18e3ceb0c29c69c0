"""Golden bytes: the pinned tasks of every env are byte-identical to what was pinned.

A task id names its bytes for good: an env whose generator changes what a (seed, difficulty)
produces must get a new version (``-v1``) and a "Version history" line in its family's contract;
then, and only then, its digests are re-pinned with ``python tests/golden/pin.py rlvr/Env-v1``.
Digests cover the raw stream (seeds 0–2 at d = 0, 0.5, 1), both splits, and dataset modes whose
data is present (``../shared/data``, which CI always has; an absent file skips its cases).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
spec = importlib.util.spec_from_file_location("golden_pin", HERE / "golden" / "pin.py")
pin = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pin)

PINNED = json.loads(pin.DIGESTS.read_text())
CASES = {(env_id, key): make for env_id, key, make in pin.cases()}


def test_every_registered_env_is_pinned():
    from rlvr.envs.registry import ENV_SPECS

    missing = sorted({s.id for s in ENV_SPECS} - set(PINNED))
    assert not missing, f"no golden digests for {missing}: run python tests/golden/pin.py {' '.join(missing)}"


@pytest.mark.parametrize("env_id,key", sorted((e, k) for e, keys in PINNED.items() for k in keys))
def test_task_bytes_match_the_pinned_digest(env_id, key):
    if (env_id, key) not in CASES:
        if key.startswith("dataset/"):
            pytest.skip(f"dataset of {env_id} {key} is absent (../shared/data)")
        pytest.fail(f"{env_id} {key} is pinned but no longer made; bump the env's version instead of removing it")
    assert pin.task_digest(CASES[(env_id, key)]()) == PINNED[env_id][key], (
        f"{env_id} {key} changed bytes: bump the env's version and record it in its Version history"
    )
