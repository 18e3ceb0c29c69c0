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


# --------------------------------------------------------------------------------------------
# Hostile servers (red team S6-1, S6-2): malformed replies, escape sequences, huge replies
# --------------------------------------------------------------------------------------------


def completion_body(content="<answer>x</answer>", **overrides):
    body = {
        "id": "c",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 3, "total_tokens": 4},
    }
    body.update(overrides)
    return body


def with_choice(**fields):
    choice = {"index": 0, "message": {"role": "assistant", "content": "<answer>x</answer>"}, "finish_reason": "stop"}
    choice.update(fields)
    return json.dumps(completion_body(choices=[choice])).encode()


def with_usage(tokens):
    return json.dumps(completion_body(usage={"prompt_tokens": 1, "completion_tokens": tokens})).encode()


MALFORMED = {  # raw 200 bodies the openai client accepts without validating them
    "body-null": b"null",
    "choices-not-list": json.dumps(completion_body(choices={"a": 1})).encode(),
    "choice-str": json.dumps(completion_body(choices=["hello"])).encode(),
    "message-null": with_choice(message=None),
    "message-missing": json.dumps(completion_body(choices=[{"index": 0, "finish_reason": "stop"}])).encode(),
    "content-int": json.dumps(completion_body(content=12345)).encode(),
    "content-parts": json.dumps(completion_body(content=[{"type": "text", "text": "<answer>x</answer>"}])).encode(),
    "finish-reason-object": with_choice(finish_reason={"a": 1}),
    "tokens-str": with_usage("many"),
    "tokens-negative": with_usage(-(10**30)),
    "tokens-huge": with_usage(10**30),
    "tokens-float": with_usage(3.5),
    "tokens-bool": with_usage(True),
    "tokens-nan": with_usage(0).replace(b'"completion_tokens": 0', b'"completion_tokens": NaN'),
    "usage-str": json.dumps(completion_body(usage="lots")).encode(),
}


class HostileServer:
    """A stdlib OpenAI-compatible server: request i (counted from 1) gets ``reply(i)``, a
    (status, body bytes) pair."""

    def __init__(self, reply):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        counter = {"n": 0}
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("content-length", 0)))
                with lock:
                    counter["n"] += 1
                    index = counter["n"]
                status, data = reply(index)
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def hostile_run(server, n=4, k=3, **options):
    return evaluate(
        server.url, "m", [MAZE], n, k=k, difficulties=[0.0], max_retries=0, timeout=10, concurrency=4, **options
    )


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_a_malformed_reply_fails_its_request_and_the_run_goes_on(name, tmp_path):
    """Red team S6-1: one reply of the wrong shape crashed the whole run after every request
    was answered, and nothing was written."""
    good = json.dumps(completion_body()).encode()
    with HostileServer(lambda i: (200, MALFORMED[name] if i % 4 == 2 else good)) as server:
        results = hostile_run(server)
    samples = results["samples"]
    failed = [s for s in samples if s["error"] is not None]
    assert len(samples) == 12 and len(failed) == 3, [s["error"] for s in samples]
    assert all(s["reward"] == 0.0 and s["reason"] == "request failed" for s in failed)
    assert all(s["error"].startswith(("malformed reply", "the response has no choices")) for s in failed)
    answered = [s for s in samples if s["error"] is None]
    assert all(s["response"] == "<answer>x</answer>" and s["completion_tokens"] == 3 for s in answered)
    overall = results["overall"]
    assert overall["errors"] == 3 and overall["completion_tokens"] == 3 and overall["not_judged"] == 0
    write_samples(results, tmp_path / "s.jsonl")
    assert len((tmp_path / "s.jsonl").read_text().splitlines()) == 12


def test_cli_eval_escapes_control_characters_of_server_errors(tmp_path, capsys):
    """Red team S6-2: an error body with terminal escapes (window title, clear screen, OSC 52
    clipboard write) was printed raw."""
    escapes = "\x1b]0;PWNED\x07\x1b[2J\x1b[31mFAKE: all passed\x1b[0m\x1b]52;c;cm0gLXJmIH4K\x07\x9b2J\r\x00"
    error = json.dumps({"error": {"message": escapes, "type": "x"}}).encode()
    with HostileServer(lambda i: (400, error)) as server:
        code = main(
            ["eval", "--base-url", server.url, "--model", "m", "--env", MAZE, "-n", "2", "--difficulty", "0"]
            + ["--max-retries", "0", "--quiet", "-o", str(tmp_path / "r.json")]
        )
    captured = capsys.readouterr()
    assert code == 1
    for stream in (captured.out, captured.err):
        assert not any((ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F for c in stream), repr(stream)
    assert r"\x1b]0;PWNED\x07\x1b[2J" in captured.out and r"\x9b2J\x0d\x00" in captured.out
    assert json.loads((tmp_path / "r.json").read_text())["overall"]["errors"] == 2


def test_a_huge_reply_is_verified_whole_but_kept_capped():
    """Red team S6-1: a 60 MB reply was kept whole in memory and in the samples file."""
    (task,) = rlvr.generate(MAZE, 1, seed=0, difficulty=0.0, split="test")  # what eval asks for
    text = "x" * 1_000 + rlvr.solve(task) + "x" * 300_000  # the answer lies in the part left out
    huge = json.dumps(completion_body(content=text)).encode()
    with HostileServer(lambda i: (200, huge)) as server:
        results = hostile_run(server, n=1, k=2, max_kept_chars=1_000)
    assert results["overall"]["errors"] == 0 and results["config"]["max_kept_chars"] == 1_000
    assert results["overall"]["pass_at_1"] == 1.0  # verified whole
    for sample in results["samples"]:
        kept = sample["response"]
        assert sample["response_chars"] == len(text) and len(kept) < 1_100
        assert kept.startswith("x" * 500) and kept.endswith("\n" + "x" * 500)
        assert f"[{len(text) - 1_000} characters left out]" in kept and "<answer>" not in kept
    with HostileServer(lambda i: (200, json.dumps(completion_body(content="short")).encode())) as server:
        (short, *_) = hostile_run(server, n=1, k=1)["samples"]
    assert short["response"] == "short" and short["response_chars"] == 5


def make_sample(task_id, correct, not_judged=False, reward=None, error=None, tokens=1):
    from rlvr.integrations.openai_eval import Sample

    reward = (1.0 if correct else 0.0) if reward is None else reward
    return Sample(task_id, MAZE, 0.0, 0, 0, "r", 1, reward, correct, correct, not_judged, "", "stop", tokens, error)


def test_not_judged_samples_are_counted_apart_and_left_out_of_the_scores():
    from rlvr.integrations.openai_eval import group_metrics, summary_table

    samples = [
        *(make_sample("a", c) for c in (True, False, True)),  # judged: 2 of 3
        make_sample("b", True),  # 1 of 1 judged; pass@3 cannot be told
        make_sample("b", False, not_judged=True),
        make_sample("b", False, not_judged=True),
        *(make_sample("c", False, not_judged=True) for _ in range(3)),  # nothing judged
        *(make_sample("d", False, error="request failed") for _ in range(3)),  # failures are judged 0
    ]
    row = group_metrics(samples, 3, 1.0, 0.0)
    assert row["not_judged"] == 5 and row["tasks"] == 4 and row["samples"] == 12
    assert row["pass_at_1"] == pytest.approx((2 / 3 + 1 + 0) / 3)  # tasks a, b, d
    assert row["pass_at_k"] == pytest.approx((1 + 0) / 2)  # tasks a, d: three judged samples each
    assert row["mean_reward"] == pytest.approx(3 / 7) and row["format_ok"] == pytest.approx(3 / 7)
    assert row["errors"] == 3
    everything_unjudged = group_metrics([make_sample("c", False, not_judged=True)], 1, 1.0, 0.0)
    assert everything_unjudged["pass_at_1"] is None and everything_unjudged["mean_reward"] is None
    all_judged = group_metrics([make_sample("a", True), make_sample("a", False)], 2, 1.0, 0.0)
    assert (all_judged["pass_at_1"], all_judged["pass_at_k"], all_judged["not_judged"]) == (0.5, 1.0, 0)
    results = {"rows": [{"env_id": MAZE, "difficulty": 0.0, **everything_unjudged}]}
    results["overall"] = {"env_id": "all", "difficulty": None, **row}
    header, lines = summary_table(results)
    assert header[header.index("not judged") - 1] == "errors"
    assert lines[0][header.index("not judged")] == "1" and lines[0][header.index("pass@1")] == "-"
    assert lines[1][header.index("not judged")] == "5"
