"""The command line, run as users run it (a separate process through the console script)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import rlvr

RLVR = [sys.executable, "-m", "rlvr.cli"]


def run(*args, cwd=None):
    return subprocess.run([*RLVR, *args], capture_output=True, text=True, cwd=cwd, timeout=600)


def test_list_shows_every_env_with_difficulty():
    result = run("list")
    assert result.returncode == 0, result.stderr
    for row in rlvr.list_envs():
        assert row["id"] in result.stdout
    assert "difficulty:" in result.stdout and "unavailable" not in result.stdout


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_generate_then_verify(tmp_path, suffix):
    out = tmp_path / f"maze{suffix}"
    result = run("generate", "rlvr/Maze-v0", "-n", "6", "--difficulty", "0.3", "--seed", "5", "-o", str(out), "--workers", "2")
    assert result.returncode == 0, result.stderr
    tasks = rlvr.load_tasks(out)
    assert [t.seed for t in tasks] == list(range(5, 11))
    assert [t.to_json() for t in tasks] == [rlvr.make_task("rlvr/Maze-v0", seed=s, difficulty=0.3).to_json() for s in range(5, 11)]
    if suffix == ".jsonl":
        responses = tmp_path / "responses.jsonl"
        lines = [json.dumps({"id": t.id, "response": rlvr.solve(t) if i % 2 == 0 else "<answer>U</answer>"}) for i, t in enumerate(tasks)]
        responses.write_text("\n".join(lines) + "\n")
        verdict_file = tmp_path / "verdicts.jsonl"
        result = run("verify", str(out), str(responses), "-o", str(verdict_file))
        assert result.returncode == 0, result.stderr
        verdicts = [json.loads(line) for line in verdict_file.read_text().splitlines()]
        assert [v["correct"] for v in verdicts] == [True, False, True, False, True, False]
        summary = json.loads(result.stderr.strip().splitlines()[-1])
        assert summary["rows"] == 6 and summary["accuracy"] == 0.5


def test_generate_with_param_override(tmp_path):
    out = tmp_path / "maze.jsonl"
    result = run("generate", "rlvr/Maze-v0", "-n", "2", "-o", str(out), "--param", "rows=7", "--param", "cols=9", "-q")
    assert result.returncode == 0, result.stderr
    assert all(t.params["rows"] == 7 and t.params["cols"] == 9 for t in rlvr.load_tasks(out))


def test_generate_rejects_unknown_env(tmp_path):
    result = run("generate", "rlvr/Nope-v0", "-n", "1", "-o", str(tmp_path / "x.jsonl"))
    assert result.returncode != 0 and "unknown env" in result.stderr


def test_demo_checks_every_env_and_saves_images(tmp_path):
    result = run("demo", "--out", str(tmp_path / "demo"))
    assert result.returncode == 0, result.stdout + result.stderr
    for row in rlvr.list_envs():
        assert result.stdout.count(row["id"]) == 3
    assert "FAIL" not in result.stdout
    assert any(Path(tmp_path / "demo").glob("*.png"))


def test_bench_reports_throughput():
    result = run("bench", "rlvr/Maze-v0", "-n", "20")
    assert result.returncode == 0, result.stderr
    assert "rlvr/Maze-v0" in result.stdout and "20/20" in result.stdout
