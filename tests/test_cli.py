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
    assert "difficulty 0→.25→.5→.75→1:" in result.stdout
    unavailable = [line for line in result.stdout.splitlines() if "unavailable" in line]
    assert all("VerilogEval-v0 needs the option dataset=DIR" in line for line in unavailable), (
        unavailable
    )  # data not shipped


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_generate_then_verify(tmp_path, suffix):
    out = tmp_path / f"maze{suffix}"
    result = run(
        "generate", "rlvr/Maze-v0", "-n", "6", "--difficulty", "0.3", "--seed", "5", "-o", str(out), "--workers", "2"
    )
    assert result.returncode == 0, result.stderr
    tasks = rlvr.load_tasks(out)
    assert [t.id for t in tasks] == [f"maze/v0/d0.30/s{s}/train" for s in range(5, 11)]
    assert [t.to_json() for t in tasks] == [
        rlvr.make_task("rlvr/Maze-v0", seed=s, difficulty=0.3, split="train").to_json() for s in range(5, 11)
    ]
    if suffix == ".jsonl":
        responses = tmp_path / "responses.jsonl"
        lines = [
            json.dumps({"id": t.id, "response": rlvr.solve(t) if i % 2 == 0 else "<answer>U</answer>"})
            for i, t in enumerate(tasks)
        ]
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
    skipped = {line.split()[0] for line in result.stdout.splitlines() if " skipped: " in line}
    assert skipped == {"rlvr/VerilogEval-v0"}  # it needs dataset=, data the project does not ship
    for row in rlvr.list_envs():
        assert result.stdout.count(row["id"]) == (1 if row["id"] in skipped else 3)
    assert "FAIL" not in result.stdout
    assert any(Path(tmp_path / "demo").glob("*.png"))


def test_bench_reports_throughput():
    result = run("bench", "rlvr/Maze-v0", "-n", "20")
    assert result.returncode == 0, result.stderr
    assert "rlvr/Maze-v0" in result.stdout and "20/20" in result.stdout


# --------------------------------------------------------------------------------------------
# Errors: one line, exit 2, nothing left behind
# --------------------------------------------------------------------------------------------

from rlvr.cli import main  # noqa: E402

ERROR_LINE = r"^rlvr( [a-z]+)?: error: .+, .+$"  # rlvr <command>: error: <what>, <fix>


def unwritable_dir(tmp_path: Path) -> Path:
    """A directory this process cannot create files in (root ignores permission bits: /proc)."""
    import os

    if os.geteuid() == 0:
        return Path("/proc/rlvr-no-such-dir")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    return locked


@pytest.fixture
def files(tmp_path):
    """A tasks file, good responses, and a set of broken inputs next to them."""
    tasks = rlvr.generate("rlvr/Maze-v0", 3, seed=0, difficulty=0.0)
    paths = {"tasks": tmp_path / "in" / "tasks.jsonl"}
    paths["tasks"].parent.mkdir()
    rlvr.save_tasks(tasks, paths["tasks"])
    lines = paths["tasks"].read_text().splitlines()

    def write(name: str, text: str) -> Path:
        path = tmp_path / "in" / name
        path.write_text(text)
        return path

    paths["good"] = write(
        "good.jsonl", "".join(json.dumps({"id": t.id, "response": rlvr.solve(t)}) + "\n" for t in tasks)
    )
    paths["bad_tasks"] = write("bad_tasks.jsonl", lines[0] + "\n{not json\n")
    paths["bad_responses"] = write(
        "bad_responses.jsonl", json.dumps({"id": tasks[0].id, "response": "x"}) + "\n[1, 2\n"
    )
    paths["trl_keys"] = write(
        "trl.jsonl", "".join(json.dumps({"task_id": t.id, "completion": "x"}) + "\n" for t in tasks)
    )
    paths["unknown_id"] = write("unknown.jsonl", json.dumps({"id": "maze/v0/d0.00/s999", "response": "x"}) + "\n")
    paths["empty"] = write("empty.jsonl", "\n")
    paths["bad_dataset"] = write("math.jsonl", '{"problem": "1+1",\nnot json\n')
    paths["bad_yaml"] = write("bad.yaml", "envs: [tiny/Sums-v0\nsteps: 2\n")
    paths["unknown_key"] = write("lr.yaml", "envs: [tiny/Sums-v0]\nlr: 0.1\n")
    paths["big_seed"] = write("big_seed.jsonl", json.dumps({**json.loads(lines[0]), "seed": 2**63}) + "\n")
    paths["a_file"] = write("a_file", "")
    paths["a_dir"] = tmp_path / "in" / "a_dir.jsonl"
    paths["a_dir"].mkdir()
    return paths


def bad_inputs(tmp_path: Path, files: dict) -> list[tuple[list[str], str]]:
    """(argv, a fragment the error line must contain) for every command; outputs go to tmp/out."""
    out = tmp_path / "out"
    locked = unwritable_dir(tmp_path)
    gen = ["generate", "rlvr/Maze-v0", "-n", "2"]
    return [
        (["generate", "rlvr/Nope-v0", "-n", "1", "-o", str(out / "x.jsonl")], "unknown env 'rlvr/Nope-v0'"),
        (
            ["generate", "GraphColouring-v0", "-n", "1", "-o", str(out / "x.jsonl")],
            "did you mean 'rlvr/GraphColoring-v0'",
        ),
        (
            [*gen, "--difficulty", "1.5", "-o", str(out / "x.jsonl")],
            "--difficulty: must be a number in [0, 1], got '1.5'",
        ),
        (
            [*gen, "--difficulty", "hard", "-o", str(out / "x.jsonl")],
            "--difficulty: must be a number in [0, 1], got 'hard'",
        ),
        ([*gen, "--param", "mazesize=9", "-o", str(out / "x.jsonl")], "unknown parameter 'mazesize'; known: rows"),
        # red team s21 B6 / B8: a seed past 64 bits wrote JSON lines no other format could hold;
        # an infinite weight and an all-zero mixture gave messages naming neither
        ([*gen, "--seed", str(2**63 - 1), "-o", str(out / "x.parquet")], "outside the 64-bit range"),
        ([*gen, "--seed", str(-(2**63) - 1), "-o", str(out / "x.jsonl")], "outside the 64-bit range"),
        (  # skipping repeats, a set read past its last seed (Maze d = 0 repeats a maze in these 60)
            [
                "generate",
                "Maze-v0",
                "-n",
                "60",
                "--difficulty",
                "0",
                "--seed",
                str(2**63 - 60),
                "-o",
                str(out / "x.jsonl"),
            ],
            "reached the last seed (9223372036854775807) after 59 of the 60 distinct tasks",
        ),
        (
            ["generate", "--env", "Maze-v0:inf", "-n", "2", "-o", str(out / "x.jsonl")],
            "weight must be a finite number ≥ 0, got 'Maze-v0:inf'",
        ),
        (
            ["generate", "--env", "Maze-v0:0", "-n", "2", "-o", str(out / "x.jsonl")],
            "not all 0, got rlvr/Maze-v0: 0.0; give some env a positive weight",
        ),
        (["convert", str(files["big_seed"]), str(out / "x.parquet")], "big_seed.jsonl:1: not a task row"),
        ([*gen, "--param", "rows", "-o", str(out / "x.jsonl")], "--param: takes key=value"),
        (
            [
                "generate",
                "rlvr/Math-v0",
                "-n",
                "2",
                "--dataset",
                str(tmp_path / "none.jsonl"),
                "-o",
                str(out / "x.jsonl"),
            ],
            "none.jsonl: No such file",
        ),
        (
            ["generate", "rlvr/Math-v0", "-n", "2", "--dataset", str(files["bad_dataset"]), "-o", str(out / "x.jsonl")],
            "math.jsonl: not valid JSON",
        ),
        (
            ["generate", "rlvr/Maze-v0", "-n", "2", "--dataset", str(files["good"]), "-o", str(out / "x.jsonl")],
            "unknown parameter 'dataset'",
        ),
        ([*gen, "--workers", "-2", "-o", str(out / "x.jsonl")], "--workers: must be a whole number ≥ 1, got '-2'"),
        (
            ["generate", "rlvr/Maze-v0", "-n", "0", "-o", str(out / "x.jsonl")],
            "-n: must be a whole number ≥ 1, got '0'",
        ),
        (
            ["generate", "rlvr/Maze-v0", "-n", "-5", "-o", str(out / "x.jsonl")],
            "-n: must be a whole number ≥ 1, got '-5'",
        ),
        (
            ["generate", "rlvr/Maze-v0", "-n", "0", "--format", "hf", "-o", str(out / "hf")],
            "-n: must be a whole number ≥ 1",
        ),
        ([*gen, "-o", str(out / "x.csv")], "cannot tell the format from the extension '.csv'"),
        ([*gen, "-o", str(out / "noext")], "cannot tell the format from the extension '(none)'"),
        ([*gen, "-o", "-", "--format", "parquet"], "(stdout) takes JSON lines, not parquet"),
        ([*gen, "-o", str(files["a_file"] / "x.jsonl")], "is not a directory"),
        ([*gen, "-o", str(files["tasks"].parent)], "cannot tell the format from the extension '(none)'"),
        ([*gen, "-o", str(files["a_dir"])], "is a directory, give a file name"),
        ([*gen, "-o", str(locked / "x.jsonl")], "choose a writable location"),
        ([*gen, "--format", "hf", "-o", str(files["a_file"])], "--format hf writes a directory"),
        (["generate", "rlvr/Maze-v0", "-o", str(out / "x.jsonl")], "the following arguments are required: -n"),
        (
            ["verify", str(tmp_path / "none.jsonl"), str(files["good"]), "-o", str(out / "v.jsonl")],
            "none.jsonl: No such file",
        ),
        (
            ["verify", str(files["bad_tasks"]), str(files["good"]), "-o", str(out / "v.jsonl")],
            "bad_tasks.jsonl:2: not a task row",
        ),
        (
            ["verify", str(files["tasks"]), str(files["bad_responses"]), "-o", str(out / "v.jsonl")],
            "bad_responses.jsonl:2: not JSON",
        ),
        (
            ["verify", str(files["tasks"]), str(files["trl_keys"]), "-o", str(out / "v.jsonl")],
            "found 'task_id', 'completion'",
        ),
        (
            ["verify", str(files["tasks"]), str(files["unknown_id"]), "-o", str(out / "v.jsonl")],
            "unknown task id 'maze/v0/d0.00/s999'",
        ),
        (
            ["verify", str(files["tasks"]), str(files["empty"]), "-o", str(out / "v.jsonl")],
            "holds no responses, nothing to verify",
        ),
        (["verify", str(files["empty"]), str(files["good"]), "-o", str(out / "v.jsonl")], "holds no tasks"),
        (
            ["verify", str(files["tasks"]), str(files["good"]), "-o", str(out / "v.csv")],
            "writes JSON lines, name the file .jsonl",
        ),
        (
            ["verify", str(files["tasks"]), str(files["good"]), "--workers", "0"],
            "--workers: must be a whole number ≥ 1",
        ),
        (["info", "Mazee-v0"], "did you mean 'rlvr/Maze-v0'"),
        (["info", "Maze-v0", "--difficulty", "2"], "--difficulty: must be a number in [0, 1]"),
        (["bench", "rlvr/Nope-v0"], "unknown env"),
        (["bench", "rlvr/Maze-v0", "-n", "0"], "-n: must be a whole number ≥ 1"),
        (
            [
                "eval",
                "--base-url",
                "http://127.0.0.1:9/v1",
                "--model",
                "m",
                "--env",
                "Nope-v0",
                "-o",
                str(out / "r.json"),
            ],
            "unknown env",
        ),
        (
            ["eval", "--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--env", "Maze-v0", "-n", "0"],
            "-n/--n: must be a whole number ≥ 1",
        ),
        (
            [
                "eval",
                "--base-url",
                "http://127.0.0.1:9/v1",
                "--model",
                "m",
                "--env",
                "Maze-v0",
                "--param",
                "mazesize=3",
                "-o",
                str(out / "r.json"),
            ],
            "unknown parameter 'mazesize'",
        ),
        (
            [
                "eval",
                "--base-url",
                "http://127.0.0.1:9/v1",
                "--model",
                "m",
                "--env",
                "Maze-v0",
                "--samples",
                str(out / "s.txt"),
            ],
            "name the file .jsonl",
        ),
        (["audit", "rlvr/Nope-v0"], "unknown env"),
        (["audit", "rlvr/Maze-v0", "-n", "0"], "-n/--n: must be a whole number ≥ 1"),
        (
            ["audit", "rlvr/Maze-v0", "--option", "nope=1"],
            "unknown verifier option 'nope' for rlvr/Maze-v0 (known: shortest, partial)",
        ),
        (["audit", "rlvr/Maze-v0", "--difficulty", "-0.1"], "--difficulty: must be a number in [0, 1]"),
        (["train", str(tmp_path / "none.yaml"), "--output-dir", str(out / "run")], "none.yaml: No such file"),
        (["train", str(files["bad_yaml"]), "--output-dir", str(out / "run")], "bad.yaml is not valid YAML"),
        (["train", str(files["unknown_key"]), "--output-dir", str(out / "run")], "unknown config keys: lr"),
        (["train", "--output-dir", str(out / "run")], "give a config file or --demo"),
        (
            ["train", "--demo", "--report-to", "nowhere", "--output-dir", str(out / "run")],
            "--report-to: invalid choice",
        ),
        (["demo", "--out", str(files["a_file"])], "is a file, give a directory"),
        (["list", "extra"], "unrecognized arguments: extra"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ]


def test_every_bad_input_gets_one_line_exit_2_and_leaves_no_output(tmp_path, files, capsys):
    import re

    out = tmp_path / "out"
    cases = bad_inputs(tmp_path, files)
    for argv, expected in cases:
        code = main(argv)
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert code == 2, (argv, code, captured.err)
        assert len(lines) == 1, (argv, captured.err)
        assert re.match(ERROR_LINE, lines[0]), (argv, lines[0])
        command = (
            argv[0]
            if argv[0] in ("generate", "convert", "verify", "info", "bench", "eval", "audit", "train", "demo", "list")
            else None
        )
        assert lines[0].startswith(f"rlvr {command}: error: " if command else "rlvr: error: "), (argv, lines[0])
        assert expected in lines[0], (argv, lines[0])
        assert "Traceback" not in captured.err and captured.out == ""
        assert not out.exists() or not any(out.rglob("*")), (argv, sorted(out.rglob("*")))
        assert not out.exists(), (argv, "the parent directory made for the output was left behind")
    assert sorted(p.name for p in (tmp_path / "in").iterdir()) == sorted(
        p.name for p in files.values() if p.parent.name == "in"
    )


def test_errors_as_a_user_sees_them_in_a_process(tmp_path):
    """Through the real entry point: one line, exit 2; --debug adds the traceback."""
    result = run("generate", "GraphColouring-v0", "-n", "3", "-o", str(tmp_path / "out" / "x.jsonl"))
    assert result.returncode == 2 and result.stdout == ""
    assert (
        result.stderr.strip()
        == "rlvr generate: error: unknown env 'GraphColouring-v0'; did you mean 'rlvr/GraphColoring-v0'?, "
        "run 'rlvr list' for every env"
    )
    debug = run("generate", "GraphColouring-v0", "-n", "3", "-o", str(tmp_path / "out" / "x.jsonl"), "--debug")
    assert debug.returncode == 2 and "Traceback" in debug.stderr and debug.stderr.strip().endswith("for every env")
    assert not (tmp_path / "out").exists()


def test_generate_refuses_a_verifier_option_instead_of_dropping_it(capsys, tmp_path):
    """A verifier option is no part of a task (red team s14 B2: exports dropped them silently):
    a usage error naming the option, exit 2, and no file."""
    target = tmp_path / "x.jsonl"
    assert main(["generate", "rlvr/Maze-v0", "-n", "2", "-o", str(target), "--param", "partial=true"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("rlvr generate: error: rlvr/Maze-v0: verifier option 'partial' is no part of a task")
    assert "\n" not in err and not target.exists()


def test_internal_errors_exit_1_with_a_pointer_to_debug(monkeypatch, capsys, tmp_path):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(rlvr, "iter_generate_mix", broken)
    assert main(["generate", "rlvr/Maze-v0", "-n", "2", "-o", str(tmp_path / "x.jsonl")]) == 1
    err = capsys.readouterr().err.strip()
    assert err == "rlvr generate: internal error: RuntimeError: a bug (run again with --debug for the traceback)"
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RuntimeError, match="a bug"):
        main(["generate", "rlvr/Maze-v0", "-n", "2", "-o", str(tmp_path / "x.jsonl"), "--debug"])


@pytest.mark.parametrize(
    "stop,code,said",
    [
        ("SIGINT", 130, "interrupted"),
        ("SIGTERM", 143, "stopped by SIGTERM"),  # red team s21 B7: it left the temporary files
        ("SIGHUP", 129, "stopped by SIGHUP"),
    ],
)
def test_ctrl_c_and_termination_leave_no_file_behind(tmp_path, stop, code, said):
    import os
    import signal
    import time

    out = tmp_path / "deep" / "tasks.parquet"
    process = subprocess.Popen(
        [
            *RLVR,
            "generate",
            "rlvr/Maze-v0",
            "-n",
            "100000",
            "--difficulty",
            "1",
            "-o",
            str(out),
            "-q",
            "--workers",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not any(tmp_path.rglob("*.tmp")) and time.monotonic() < deadline:  # it is writing
        time.sleep(0.1)
    assert any(tmp_path.rglob("*.tmp"))
    time.sleep(1.0)
    os.kill(process.pid, getattr(signal, stop))
    interrupted = time.monotonic()
    _, err = process.communicate(timeout=120)
    stopped_in = time.monotonic() - interrupted
    assert process.returncode == code, err
    assert err.strip().splitlines()[-1] == f"rlvr generate: {said}", err
    assert "Traceback" not in err, err
    assert stopped_in < 60, stopped_in  # the workers are stopped, not waited for (a chunk can take minutes)
    assert list(tmp_path.iterdir()) == []  # neither the file, its temporary nor the directories made for it


@pytest.mark.parametrize(
    "file_format, name",
    [
        ("auto", "a.jsonl"),
        ("auto", "a.parquet"),
        ("jsonl", "a.data"),
        ("parquet", "a.data"),
        ("verl", "train.parquet"),
        ("hf", "dataset"),
    ],
)
def test_missing_parent_directories_are_created_for_every_format(tmp_path, file_format, name):
    if file_format in ("hf", "verl"):
        pytest.importorskip("datasets", reason="needs the hf extra")
    target = tmp_path / "a" / "b" / name
    assert main(["generate", "Maze-v0", "-n", "3", "-o", str(target), "--format", file_format, "-q"]) == 0
    assert target.exists()
    if file_format in ("auto", "jsonl", "parquet"):
        assert (
            [t.id for t in rlvr.load_tasks(target)] == [f"maze/v0/d0.50/s{s}/train" for s in range(3)]
            if target.suffix != ".data"
            else True
        )
    sidecar = [f"{name}.provenance.json"] if name.endswith(".jsonl") or file_format == "jsonl" else []
    assert sorted(p.name for p in target.parent.iterdir()) == sorted([name, *sidecar])  # no temporary left next to it


def test_dash_means_stdout_and_ids_need_no_prefix(tmp_path, capsys):
    assert main(["generate", "GraphColoring-v0", "-n", "3", "-o", "-", "-q"]) == 0
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert [r["env_id"] for r in rows] == ["rlvr/GraphColoring-v0"] * 3
    assert [r["id"] for r in rows] == [t.id for t in rlvr.generate("rlvr/GraphColoring-v0", 3)]
    assert not (tmp_path / "-").exists() and not Path("-").exists()


def test_verify_reports_missing_responses_and_ignored_keys(files, capsys, tmp_path):
    tasks = rlvr.load_tasks(files["tasks"])
    partial = tmp_path / "partial.jsonl"
    partial.write_text(json.dumps({"id": tasks[1].id, "response": rlvr.solve(tasks[1]), "model": "m"}) + "\n")
    assert main(["verify", str(files["tasks"]), str(partial)]) == 0
    captured = capsys.readouterr()
    verdicts = [json.loads(line) for line in captured.out.splitlines()]
    assert [(v["id"], v["correct"]) for v in verdicts] == [(tasks[1].id, True)]
    assert f"note: 2 of 3 tasks have no response (first: {tasks[0].id})" in captured.err
    assert "ignored keys 'model'" in captured.err
    summary = json.loads(captured.err.strip().splitlines()[-1])
    assert summary["rows"] == 1 and summary["missing"] == 2 and summary["tasks"] == 3 and summary["accuracy"] == 1.0


def test_list_shows_non_monotone_difficulty_tables():
    result = run("list")
    assert result.returncode == 0
    rotation = result.stdout.split("rlvr/Rotation-v0", 1)[1].split("\n")[1]
    assert "rows 1→2→3→1→1" in rotation  # the grid grows, then a single turned picture returns
    assert "rlvr info" in result.stdout


@pytest.mark.parametrize("env_id", ["rlvr/Maze-v0", "Rotation-v0", "rlvr/CodeFeedback-v0"])
def test_info_shows_contract_table_options_and_an_example(env_id, tmp_path):
    result = run("info", env_id, "--image-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    spec = rlvr.envs.get_spec(env_id)
    from rlvr.envs.registry import family_doc

    text = result.stdout
    assert inspect_first_line(family_doc(spec)) in text
    assert "d=0  " in text and "d=0.25" in text and "d=0.75" in text and "d=1" in text
    assert "default difficulty 0.5" in text
    task = rlvr.make_task(spec.id, seed=0, difficulty=0.5)
    assert task.prompt.splitlines()[0] in text and rlvr.solve(task).splitlines()[0] in text
    if spec.id == "rlvr/Maze-v0":
        import inspect

        from rlvr.verifiers.maze import MazeVerifier

        defaults = inspect.signature(MazeVerifier).parameters
        verifier_section = text.split("verifier_options={...}")[1].split("env arguments")[0]
        assert f"shortest={defaults['shortest'].default}" in verifier_section
        assert f"partial={defaults['partial'].default}" in verifier_section
        for row in spec.family.table.schema():  # every typed parameter with its allowed values
            assert row["name"] in text and row["allowed"] in text
    if spec.id == "rlvr/CodeFeedback-v0":
        assert "max_attempts=None (3)" in text and "allow_unsafe_unsandboxed=False" in text
    if spec.visual:
        images = list(tmp_path.glob("*.png"))
        assert len(images) == len(task.images) and str(images[0]) in text
    else:
        assert not list(tmp_path.glob("*.png"))


def inspect_first_line(doc: str) -> str:
    return doc.strip().splitlines()[0]


def test_list_shows_a_variants_own_difficulty_profile():
    """Game24-v0 pins four numbers up to 13 (its generator's preset): ``rlvr list`` showed
    Countdown's moving numbers and max_number instead."""
    rows = {row["id"]: row["difficulty"] for row in rlvr.list_envs()}
    assert "numbers 3→" in rows["rlvr/Countdown-v0"]
    assert "numbers" not in rows["rlvr/Game24-v0"] and "max_number" not in rows["rlvr/Game24-v0"]
    assert "min_search_nodes 1→5→30→245→2000" in rows["rlvr/Game24-v0"]
