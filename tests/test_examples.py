"""Every script in examples/ runs as a user would run it (short settings: seconds each)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import rlvr

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT, **kwargs)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result


def test_custom_loop_with_gym_make_and_make_vec():
    out = run([sys.executable, str(EXAMPLES / "custom_loop.py")]).stdout.splitlines()
    assert out[0] == rlvr.envs.registry.family_doc(rlvr.envs.get_spec("rlvr/Maze-v0")).splitlines()[0]
    seeds = [line for line in out if line.startswith("  seed ")]
    assert len(seeds) == 4 and any("reward 1.0" in s for s in seeds) and any("reward 0.0" in s for s in seeds)
    assert any(line.startswith("batch of 4: rewards [") and line.endswith("all terminated: True") for line in out)
    group = next(line for line in out if line.startswith("group of one task"))
    rewards = json.loads(group.split("rewards ", 1)[1].split("]", 1)[0] + "]")
    assert len(rewards) == 4 and set(rewards) <= {0.0, 1.0}


def test_trl_grpo_script_on_cpu(tmp_path):
    pytest.importorskip("trl", reason="needs the trl extra")
    out = run(
        [
            sys.executable,
            str(EXAMPLES / "trl_grpo.py"),
            "--steps",
            "2",
            "--n",
            "8",
            "--output-dir",
            str(tmp_path / "trl"),
        ]
    ).stdout
    assert "trained 2 steps" in out
    assert [line.split(":")[0] for line in out.splitlines() if line.startswith("step ")] == ["step 1", "step 2"]


def verl_config() -> dict:
    """verl's full PPO trainer config (the Hydra defaults, composed), as a nested dict."""
    verl = pytest.importorskip("verl", reason="verl is not installed (scripts/setup.sh installs it)")
    import yaml

    path = Path(verl.__file__).parent / "trainer" / "config" / "_generated_ppo_trainer.yaml"
    return yaml.safe_load(path.read_text())


def test_verl_launch_script_dry_run_writes_data_and_valid_overrides(tmp_path):
    import pyarrow.parquet as pq

    environment = {
        **os.environ,
        "DRY_RUN": "1",
        "DATA": str(tmp_path / "data"),
        "N_TRAIN": "4",
        "N_VAL": "2",
        "PYTHON": sys.executable,
    }
    out = run(["bash", str(EXAMPLES / "verl" / "run_grpo.sh"), "trainer.total_epochs=2"], env=environment).stdout
    command = shlex.split(out.strip().splitlines()[-1])
    assert command[:3] == [sys.executable, "-m", "verl.trainer.main_ppo"]
    overrides = dict(item.split("=", 1) for item in command[3:])
    trains, vals = (json.loads(overrides[key].replace("'", '"')) for key in ("data.train_files", "data.val_files"))
    assert len(trains) == len(vals) == 3
    for files, rows in ((trains, 4), (vals, 2)):
        for file in files:
            table = pq.read_table(file).to_pylist()
            assert len(table) == rows and {"data_source", "prompt", "reward_model", "extra_info"} <= set(table[0])
    train_seeds = {r["extra_info"]["seed"] for f in trains for r in pq.read_table(f).to_pylist()}
    val_seeds = {r["extra_info"]["seed"] for f in vals for r in pq.read_table(f).to_pylist()}
    assert not train_seeds & val_seeds
    reward = Path(overrides["reward.custom_reward_function.path"])
    assert (
        reward.samefile(ROOT / "rlvr" / "integrations" / "verl.py")
        and overrides["reward.custom_reward_function.name"] == "compute_score"
    )
    assert overrides["trainer.total_epochs"] == "2"  # extra arguments come last and win
    config = verl_config()
    for key in overrides:  # every override names a real key of verl's config
        node = config
        for part in key.split("."):
            assert isinstance(node, dict) and part in node, f"{key} is not a verl config key"
            node = node[part]
