"""``rlvr eval``: the evaluator against a local reference server, through the real openai client."""

import json
import socket
from collections import defaultdict

import pytest

pytest.importorskip("openai", reason="openai is not installed: pip install 'rlvr[eval]'")

import rlvr
from rlvr.cli import main
from rlvr.integrations.openai_eval import EndpointUnreachable, evaluate, pass_at_k, write_samples
from rlvr.integrations.reference_server import ReferenceServer

MAZE, VISUAL = "rlvr/Maze-v0", "rlvr/Rotation-v0"
DIFFICULTIES = [0.0, 1.0]


@pytest.fixture(scope="module")
def tasks():
    return [
        t
        for env in (MAZE, VISUAL)
        for d in DIFFICULTIES
        for t in rlvr.generate(env, 4, seed=0, difficulty=d, split="test")
    ]  # eval's default


@pytest.fixture
def server_of(tasks):
    """Start reference servers over the module's tasks with the given options; stop them after."""
    started = []

    def start(**options):
        server = ReferenceServer(tasks, **options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def run(server, env_ids=(MAZE, VISUAL), n=4, k=4, concurrency=8, **options):
    return evaluate(
        server.url,
        "reference",
        list(env_ids),
        n,
        k=k,
        difficulties=DIFFICULTIES,
        concurrency=concurrency,
        timeout=10,
        **options,
    )


def test_pass_at_k_matches_hand_computed_values():
    assert pass_at_k(4, 0, 1) == 0.0
    assert pass_at_k(4, 1, 1) == 0.25
    assert pass_at_k(4, 1, 4) == 1.0
    assert pass_at_k(5, 2, 2) == pytest.approx(1 - 3 / 10)  # 1 - C(3,2)/C(5,2)
    assert pass_at_k(10, 3, 5) == pytest.approx(1 - 21 / 252)  # 1 - C(7,5)/C(10,5)
    assert pass_at_k(3, 3, 2) == 1.0
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 4)


def test_reference_answers_score_one_and_images_arrive_as_parts(server_of):
    server = server_of()
    results = run(server)
    assert len(results["rows"]) == 4 and results["overall"]["samples"] == 2 * 2 * 4 * 4
    for row in [*results["rows"], results["overall"]]:
        assert row["mean_reward"] == row["pass_at_1"] == row["pass_at_k"] == row["format_ok"] == 1.0
        assert row["errors"] == 0 and row["completion_tokens"] == 1
    visual_requests = 2 * 4 * 4
    stats = server.stats
    assert stats["image_requests"] == stats["image_parts"] == visual_requests
    assert stats["answered"] == 2 * visual_requests and stats["rejected"] == 0


def test_wrong_answers_split_pass_at_1_from_pass_at_k_as_the_samples_imply(server_of, tmp_path):
    results = run(server_of(wrong_rate=0.4), k=5)
    path = tmp_path / "samples.jsonl"
    write_samples(results, path)
    correct = defaultdict(list)
    for line in path.read_text().splitlines():
        sample = json.loads(line)
        correct[(sample["env_id"], sample["difficulty"], sample["task_id"])].append(sample["correct"])
    for row in results["rows"]:
        groups = [c for (env, d, _), c in correct.items() if (env, d) == (row["env_id"], row["difficulty"])]
        assert len(groups) == 4 and all(len(c) == 5 for c in groups)
        assert row["pass_at_1"] == pytest.approx(sum(sum(c) / 5 for c in groups) / 4)
        assert row["pass_at_k"] == pytest.approx(sum(any(c) for c in groups) / 4)
    overall = results["overall"]
    assert 0 < overall["pass_at_1"] < overall["pass_at_k"]
    assert overall["mean_reward"] < 1.0 and overall["errors"] == 0


def test_seeded_samples_get_the_same_answers_in_any_order(server_of):
    first = run(server_of(wrong_rate=0.5), env_ids=[MAZE], concurrency=1)
    second = run(server_of(wrong_rate=0.5), env_ids=[MAZE])
    assert [s["correct"] for s in first["samples"]] == [s["correct"] for s in second["samples"]]
    unseeded = [run(server_of(wrong_rate=0.5), env_ids=[MAZE], request_seed=False)["rows"] for _ in range(2)]
    assert [r["pass_at_1"] for r in unseeded[0]] == [
        r["pass_at_1"] for r in unseeded[1]
    ]  # per-task counters: same draws


def test_retries_recover_from_injected_failures(server_of):
    server = server_of(fail_first_n=6, fail_status=429)
    results = run(server, env_ids=[MAZE], max_retries=3)
    assert results["overall"]["errors"] == 0 and results["overall"]["pass_at_1"] == 1.0
    assert server.stats["injected_failures"] == 6 and server.stats["answered"] == 2 * 4 * 4


def test_failures_beyond_the_retries_count_as_errors(server_of):
    server = server_of(fail_first_n=10**6, fail_status=500)
    results = run(server, env_ids=[MAZE], n=2, k=1, max_retries=1)
    assert results["overall"]["errors"] == 4 and results["overall"]["mean_reward"] == 0.0
    assert "InternalServerError" in results["overall"]["first_error"]
    assert server.stats["requests"] == 4 * 2  # each request tried twice


def free_port() -> int:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_url_stops_early_or_counts_errors_without_crashing():
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(EndpointUnreachable, match=r"the first 6 requests all failed to connect .*APIConnectionError"):
        evaluate(url, "m", [MAZE], 3, k=2, difficulties=[0.0], max_retries=0, timeout=2)
    results = evaluate(
        url, "m", [MAZE], 3, k=2, difficulties=[0.0], max_retries=0, timeout=2, stop_after_failed_connections=0
    )
    overall = results["overall"]
    assert overall["errors"] == 6 and overall["mean_reward"] == overall["pass_at_k"] == overall["format_ok"] == 0.0
    assert "APIConnectionError" in overall["first_error"]
    assert all(s["error"] and s["reward"] == 0.0 for s in results["samples"])


def test_cli_eval_with_the_server_down_stops_at_once_with_one_line(tmp_path, capsys):
    import time

    url = f"http://127.0.0.1:{free_port()}/v1"
    started = time.perf_counter()
    code = main(
        [
            "eval",
            "--base-url",
            url,
            "--model",
            "m",
            "--env",
            "Maze-v0",
            "-n",
            "200",
            "--k",
            "4",
            "--max-retries",
            "0",
            "-o",
            str(tmp_path / "r.json"),
            "--quiet",
        ]
    )
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.strip() == (
        f"rlvr eval: error: the first 8 requests all failed to connect to {url} (APIConnectionError: "
        f"Connection error.{captured.err.split('Connection error.', 1)[1].split('), check')[0]}), "
        "check --base-url and that the server is running"
    )
    assert time.perf_counter() - started < 60 and list(tmp_path.iterdir()) == []


def test_cli_eval_prints_the_first_error_and_the_error_rate_decides_the_exit_code(server_of, tmp_path, capsys):
    server = server_of(fail_first_n=2, fail_status=500)  # two requests fail even after their retries
    argv = [
        "eval",
        "--base-url",
        server.url,
        "--model",
        "reference",
        "--env",
        MAZE,
        "-n",
        "4",
        "--k",
        "2",
        "--difficulty",
        "0",
        "--max-retries",
        "0",
        "--concurrency",
        "1",
        "--quiet",
    ]
    assert main(argv) == 1  # 2 of 8 failed: over the default 1%
    captured = capsys.readouterr()
    table, _, below = captured.out.partition("\n\n")
    assert "pass@k" in table
    assert below.startswith("2 of 8 requests failed (25.0%); first error: InternalServerError")
    assert "more than --max-error-rate 0.01" in captured.err
    assert main([*argv, "--max-error-rate", "0.3"]) == 0
    ok = capsys.readouterr()
    assert "first error" not in ok.out  # the new server state: no failures left to inject


def test_an_option_one_env_rejects_fails_before_any_request(server_of):
    server = server_of()
    with pytest.raises(ValueError, match="unknown parameter"):
        run(server, env_options={"loops": 0.1})  # a Maze parameter: Rotation-v0 has none of that name
    assert server.stats["requests"] == 0


def test_visual_task_without_its_image_is_refused(tasks, server_of):
    import openai

    server = server_of()
    visual = next(t for t in tasks if t.images)
    client = openai.OpenAI(base_url=server.url, api_key="EMPTY", max_retries=0)
    with pytest.raises(openai.BadRequestError, match="without its image"):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": visual.prompt}])
    with pytest.raises(openai.BadRequestError, match="matches no indexed task"):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hello"}])
    assert [m.id for m in client.models.list()] == ["rlvr-reference"]
    assert server.stats["rejected"] == 2


def test_cli_eval_writes_results_and_samples(server_of, tmp_path, capsys):
    server = server_of(wrong_rate=0.25)
    output, samples = tmp_path / "results.json", tmp_path / "samples.jsonl"
    code = main(
        [
            "eval",
            "--base-url",
            server.url,
            "--model",
            "reference",
            "--env",
            MAZE,
            "--env",
            VISUAL,
            "-n",
            "4",
            "--k",
            "2",
            "--difficulty",
            "0",
            "1",
            "--concurrency",
            "4",
            "--max-tokens",
            "64",
            "--system",
            "Be brief.",
            "--output",
            str(output),
            "--samples",
            str(samples),
            "--quiet",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "pass@k" in printed and MAZE in printed and VISUAL in printed
    results = json.loads(output.read_text())
    assert results["config"]["env_ids"] == [MAZE, VISUAL] and results["config"]["system_prompt"] == "Be brief."
    assert [(r["env_id"], r["difficulty"]) for r in results["rows"]] == [
        (e, d) for e in (MAZE, VISUAL) for d in (0.0, 1.0)
    ]
    assert results["overall"]["samples"] == len(samples.read_text().splitlines()) == 2 * 2 * 4 * 2
    assert 0 < results["overall"]["pass_at_1"] <= results["overall"]["pass_at_k"] <= 1


def test_samples_with_lone_surrogates_are_written_and_read_back_exactly(tmp_path):
    """A server may send ``\\ud800`` in its JSON; the samples file must stay valid UTF-8 and
    give back the same text (red team S5-7: writing it raised UnicodeEncodeError)."""
    samples = [{"task_id": "t", "response": "x\ud800y", "reason": "ok"}, {"task_id": "u", "response": "é ok"}]
    path = tmp_path / "samples.jsonl"
    write_samples({"samples": samples}, path)
    lines = path.read_bytes().decode("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == samples
    assert "é" in lines[1]  # ordinary text stays readable
