"""The Ray backend on a local two-CPU Ray started by this module: tasks byte-identical to local
generation, verdicts identical to serial verification and in input order, hostile responses
scoring 0 inside Ray workers, sandboxed code verification in Ray workers, and the command line.
Skipped when Ray is not installed (``pip install 'rlvr[ray]'``)."""

from __future__ import annotations

import itertools
import json
import sys
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'rlvr[ray]'")

import rlvr  # noqa: E402
from rlvr import cli  # noqa: E402
from rlvr.integrations import ray_backend  # noqa: E402
from rlvr.verifiers.sandbox import available_backends  # noqa: E402

HOSTILE = [
    None,
    12345,
    "",
    "\x00" * 64,
    "9" * 2_000_000,
    "<answer>" + "(" * 5000 + "</answer>",
    "<think>" + "<answer>RRRR</answer>",
    "<answer>U</answer>" * 10_000,
]


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def jsons(tasks) -> list[str]:
    return [task.to_json() for task in tasks]


@pytest.mark.parametrize("env_id, difficulty", [("rlvr/Maze-v0", 0.5), ("rlvr/Math-v0", 0.3), ("rlvr/Jigsaw-v0", 0.5)])
def test_generation_is_byte_identical_to_local(env_id, difficulty):
    remote = rlvr.generate(env_id, 10, seed=40, difficulty=difficulty, workers=2, backend="ray")
    assert [task.id.split("/")[-2:] for task in remote] == [
        [f"s{s}", "train"] for s in range(40, 50)
    ]  # positions of the train split
    assert jsons(remote) == jsons(rlvr.generate(env_id, 10, seed=40, difficulty=difficulty))


def test_generation_passes_task_parameters_runtime_env_and_chunks_in_order():
    remote = ray_backend.iter_generate(
        "rlvr/Maze-v0",
        9,
        seed=3,
        difficulty=0.2,
        workers=2,
        chunk_size=2,
        runtime_env={"env_vars": {"RLVR_RAY_TEST": "1"}},
        rows=7,
    )
    assert jsons(remote) == jsons(
        rlvr.generate("rlvr/Maze-v0", 9, seed=3, difficulty=0.2, rows=7, split=None, allow_duplicates=True)
    )


def test_reading_part_of_a_long_generation_stops_it():
    first = list(itertools.islice(rlvr.iter_generate("rlvr/Maze-v0", 100_000, workers=2, backend="ray"), 5))
    assert jsons(first) == jsons(rlvr.generate("rlvr/Maze-v0", 5))
    assert ray.is_initialized()  # the caller's Ray is left running


def test_calls_still_running_when_the_reader_stops_end_with_their_worker_process(tmp_path):
    # a plain ray.cancel interrupts the call wherever it is (an import, say) and leaves the
    # worker in use; the calls must be killed with their processes instead
    @ray.remote(num_cpus=1)
    def job(index: int, directory: str) -> int:
        import os
        import time

        Path(directory, f"{index}.pid").write_text(str(os.getpid()))
        if index:
            time.sleep(60)
        return index

    stream = ray_backend.in_order(ray, lambda index: job.remote(index, str(tmp_path)), range(3), workers=2)
    assert next(stream) == 0
    deadline = time.monotonic() + 30
    while not (tmp_path / "1.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    stream.close()
    pid = int((tmp_path / "1.pid").read_text())
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.1)
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()


def test_verdicts_match_serial_in_order_and_hostile_responses_score_zero():
    tasks = rlvr.generate("rlvr/Maze-v0", 12, seed=1, difficulty=0.3) + rlvr.generate(
        "rlvr/Math-v0", 4, seed=1, difficulty=0.3
    )
    wrong = {env_id: rlvr.make_generator(env_id).wrong_response for env_id in ("rlvr/Maze-v0", "rlvr/Math-v0")}
    responses = [
        rlvr.solve(task) if i % 3 == 0 else wrong[task.env_id](task) if i % 3 == 1 else "<answer>D</answer>"
        for i, task in enumerate(tasks)
    ]
    hostile_tasks = [tasks[i % len(tasks)] for i in range(len(HOSTILE))]
    tasks, responses = tasks + hostile_tasks, responses + HOSTILE
    remote = rlvr.verify_batch(tasks, responses, workers=2, backend="ray")
    serial = rlvr.verify_batch(tasks, responses, backend="serial")
    assert [v.to_dict() for v in remote] == [v.to_dict() for v in serial]
    assert all(remote[i].correct for i in range(0, 16, 3))
    assert all(v.reward == 0.0 and not v.correct for v in remote[16:])


@pytest.mark.skipif("bwrap" not in available_backends(), reason="bubblewrap unusable here")
def test_code_runs_sandboxed_in_ray_workers():
    tasks = rlvr.generate("rlvr/Code-v0", 4, seed=2, difficulty=0.2)
    generator = rlvr.make_generator("rlvr/Code-v0")
    responses = [
        rlvr.solve(tasks[0]),
        generator.wrong_response(tasks[1]),
        rlvr.solve(tasks[2]),
        "```python\nimport os\nos.system('echo pwned > /tmp/rlvr-ray-pwned')\n```",
    ]
    verdicts = rlvr.verify_batch(tasks, responses, workers=2, backend="ray")
    assert [v.correct for v in verdicts] == [True, False, True, False]
    assert verdicts[3].reward == 0.0 and not Path("/tmp/rlvr-ray-pwned").exists()


def test_cli_generates_the_same_file_with_ray(tmp_path, capsys):
    files = {}
    for backend in ("process", "ray"):
        files[backend] = tmp_path / f"{backend}.jsonl"
        argv = ["generate", "rlvr/Maze-v0", "-n", "8", "--seed", "5", "--workers", "2", "--backend", backend, "-q"]
        assert cli.main([*argv, "-o", str(files[backend])]) == 0
    assert files["ray"].read_bytes() == files["process"].read_bytes()
    tasks = rlvr.load_tasks(files["ray"])
    responses = tmp_path / "responses.jsonl"
    responses.write_text(
        "".join(
            json.dumps({"id": t.id, "response": rlvr.solve(t) if i % 2 else "x"}) + "\n" for i, t in enumerate(tasks)
        )
    )
    verdicts = tmp_path / "verdicts.jsonl"
    assert cli.main(["verify", str(files["ray"]), str(responses), "--backend", "ray", "-o", str(verdicts)]) == 0
    assert [json.loads(line)["correct"] for line in verdicts.read_text().splitlines()] == [False, True] * 4


def test_unknown_backend_or_env_is_refused():
    with pytest.raises(ValueError, match="backend"):
        rlvr.iter_generate("rlvr/Maze-v0", 2, backend="dask")
    with pytest.raises(ValueError, match="backend"):
        rlvr.verify_batch([], [], backend="dask")
    with pytest.raises(KeyError, match="unknown env"):
        rlvr.iter_generate("rlvr/Nope-v0", 2, backend="ray")


def test_a_bad_task_parameter_raises_its_own_error():
    with pytest.raises(ValueError, match="unknown parameter"):
        rlvr.generate("rlvr/Maze-v0", 2, backend="ray", no_such_parameter=1)


def test_missing_ray_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ImportError, match=r"pip install 'rlvr\[ray\]'"):
        ray_backend.import_ray()
