"""Compact rows: no task of a text env is over ~64 KB of JSON by default; Code's heavy tests leave
the row (synthetic: regenerated from a recipe; datasets: zlib+base64 with a cap) and come back
byte for byte, checked by digest, in the generator and on the verifier's host side."""

import json
import os
import random
import threading
import time

import pytest

import rlvr
from rlvr.core import Task
from rlvr.generators import code as code_generator
from rlvr.generators.code import (
    INLINE_TESTS_BYTES,
    PACKED_TESTS_CAP_BYTES,
    CodeGenerator,
    digest_of_tests,
    full_answer,
    pack_dataset_tests,
    unpack_tests,
)

ROW_LIMIT = 64 * 1024
# Image envs carry their pictures (not ground truth); Verilog's stimulus belongs to its own module.
TEXT_ENVS = [
    row["id"]
    for row in rlvr.list_envs()
    if not row["visual"] and not row["id"].endswith("Eval-v0") and row["id"] != "rlvr/Verilog-v0"
]
GENERATOR = CodeGenerator()


def row_bytes(task: Task) -> int:
    return len(task.to_json().encode("utf-8"))


@pytest.mark.parametrize("env_id", TEXT_ENVS)
def test_no_default_row_is_over_64_kb(env_id):
    seeds = range(12) if "Code" in env_id else range(3)
    for difficulty in (0.0, 0.25, 0.5, 0.75, 1.0):
        largest = max(row_bytes(rlvr.make_task(env_id, seed=seed, difficulty=difficulty)) for seed in seeds)
        assert largest <= ROW_LIMIT, (env_id, difficulty, largest)


def test_code_rows_stay_compact_for_every_style_and_input():
    for style in ("function", "stdio"):
        for kind in ("ints", "text"):
            for seed in range(6):
                for difficulty in (0.5, 0.8, 1.0):
                    task = GENERATOR.generate(seed, difficulty, style=style, input=kind)
                    assert row_bytes(task) <= ROW_LIMIT, task.id


def inline_twin(seed: int, difficulty: float, monkeypatch, **overrides) -> Task:
    """The same task generated with every test kept in the row."""
    with monkeypatch.context() as patch:
        patch.setattr(code_generator, "INLINE_TESTS_BYTES", 1 << 40)
        return CodeGenerator().generate(seed, difficulty, **overrides)


@pytest.mark.parametrize("style", ["function", "stdio"])
def test_regenerated_tests_equal_the_original_tests(style, monkeypatch):
    for seed in range(5):
        for difficulty in (0.6, 1.0):
            compact = GENERATOR.generate(seed, difficulty, style=style)
            full = inline_twin(seed, difficulty, monkeypatch, style=style)
            packed = compact.answer["packed_tests"]
            assert full.answer["packed_tests"] is None
            if len(code_generator._canonical_json(full.answer["tests"])) <= INLINE_TESTS_BYTES:
                assert packed is None and compact.to_json() == full.to_json()
                continue
            assert packed["encoding"] == "regenerate" and compact.answer["tests"] == []
            assert unpack_tests(compact.answer) == full.answer["tests"]
            assert packed["count"] == compact.meta["test_count"] == len(full.answer["tests"])
            assert packed["sha256"] == digest_of_tests(full.answer["tests"])
            same = {k: v for k, v in compact.answer.items() if k not in ("tests", "packed_tests")}
            assert same == {k: v for k, v in full.answer.items() if k not in ("tests", "packed_tests")}
            assert compact.prompt == full.prompt and compact.meta == full.meta


def test_small_tasks_keep_their_tests_inline():
    for seed in range(20):
        task = GENERATOR.generate(seed, 0.0)
        assert task.answer["packed_tests"] is None and len(task.answer["tests"]) == task.meta["test_count"] == 5


def test_compact_tasks_round_trip_through_json():
    for seed in range(4):
        task = GENERATOR.generate(seed, 1.0)
        back = Task.from_dict(json.loads(task.to_json()))
        assert back.to_json() == task.to_json() and back.answer == task.answer
        assert unpack_tests(back.answer) == unpack_tests(task.answer)


def test_a_tampered_recipe_or_digest_is_refused():
    task = GENERATOR.generate(2, 1.0)
    packed = task.answer["packed_tests"]
    for change in (
        {"seed": packed["seed"] + 1},
        {"sha256": "0" * 64},
        {"count": packed["count"] + 1},
        {"encoding": "pickle"},
        {"stress_length": packed["stress_length"] - 1},
    ):
        with pytest.raises(ValueError):
            unpack_tests({**task.answer, "packed_tests": {**packed, **change}})


def test_full_answer_rebuilds_once_per_task_and_is_bounded(monkeypatch):
    calls = []
    release = threading.Event()

    def slow_unpack(answer):
        calls.append(answer["packed_tests"]["sha256"])
        release.wait(10)
        return unpack_tests(answer)

    monkeypatch.setattr(code_generator, "unpack_tests", slow_unpack)
    task = GENERATOR.generate(random.Random(7).randrange(10**6, 2 * 10**6), 1.0)
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        full_answer(task, 0.2)
    assert time.monotonic() - start < 2.0
    release.set()
    first = full_answer(task, 30.0)
    second = full_answer(task, 30.0)
    assert len(calls) == 1 and first["tests"] == second["tests"] and len(first["tests"]) == task.meta["test_count"]
    assert first["packed_tests"] is None and task.answer["tests"] == []  # the task itself is untouched


def test_a_forked_child_rebuilds_packed_tests_at_once():
    """Red team s15 A2: a child forked after the parent rebuilt packed tests inherited an executor
    with no thread that counted one idle, so it started none: the child's first rebuild waited
    out its whole allowance (an honest answer scored 0 after 5 s)."""
    parent_task, child_task = (GENERATOR.generate(random.Random(s).randrange(10**6, 2 * 10**6), 1.0) for s in (8, 9))
    full_answer(parent_task, 30.0)  # the parent's pool now has a thread
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report how long a rebuild of a task not cached here took
        status = 1
        try:
            started = time.monotonic()
            tests = full_answer(child_task, 10.0)["tests"]
            os.write(write, f"{time.monotonic() - started:.3f} {len(tests)}".encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write)
    with os.fdopen(read) as report:
        seconds, count = report.read().split()
    _, status = os.waitpid(pid, 0)
    assert status == 0 and int(count) == child_task.meta["test_count"]
    assert float(seconds) < 3.0, seconds


def big_stdio_rows(count: int, tests: int, size: int) -> list[dict]:
    rng = random.Random(3)
    rows = []
    for index in range(count):
        inputs = [" ".join(str(rng.randrange(10**9)) for _ in range(size)) for _ in range(tests)]
        outputs = [str(sum(map(int, line.split()))) for line in inputs]
        rows.append(
            {
                "problem_id": index,
                "question": "Print the sum of the numbers on the line.",
                "solutions": json.dumps(["print(sum(map(int, input().split())))"]),
                "input_output": json.dumps({"inputs": inputs, "outputs": outputs}),
            }
        )
    return rows


def test_dataset_tests_are_compressed_and_capped(tmp_path):
    path = tmp_path / "apps_big.jsonl"
    rows = big_stdio_rows(2, tests=60, size=2_000)  # ≈ 1.2 MB of tests per row
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    generator = CodeGenerator(dataset=path)
    for seed in range(2):
        task = generator.generate(seed)
        packed = task.answer["packed_tests"]
        assert packed["encoding"] == "zlib+base64" and task.answer["tests"] == []
        assert len(packed["data"]) <= PACKED_TESTS_CAP_BYTES and row_bytes(task) <= ROW_LIMIT
        inputs = json.loads(rows[seed]["input_output"])["inputs"]
        tests = unpack_tests(task.answer)
        assert 1 <= len(tests) < len(inputs) and task.meta["tests_dropped"] == len(inputs) - len(tests)
        assert [t["input"] for t in tests] == inputs[: len(tests)]  # the longest prefix that fits
        assert task.meta["test_count"] == packed["count"] == len(tests)
        assert generator.generate(seed).to_json() == task.to_json()


def test_dataset_tests_under_the_cap_are_compressed_whole_and_small_ones_stay_inline():
    rows = big_stdio_rows(1, tests=12, size=600)
    from rlvr.generators.code import apps_task

    _, answer, _ = apps_task(rows[0])
    packed, dropped = pack_dataset_tests(answer)
    assert dropped == 0 and packed["packed_tests"]["count"] == 12 and unpack_tests(packed) == answer["tests"]
    small = {**answer, "tests": answer["tests"][:1]}
    assert pack_dataset_tests(small) == (small, 0)


def test_a_zip_bomb_is_refused(monkeypatch):
    import base64
    import zlib

    monkeypatch.setattr(code_generator, "UNPACKED_TESTS_MAX_BYTES", 1 << 20)
    bomb = base64.b64encode(zlib.compress(b"[" + b" " * (8 << 20) + b"]", 9)).decode()
    answer = {
        "style": "stdio",
        "tests": [],
        "packed_tests": {"encoding": "zlib+base64", "count": 0, "sha256": digest_of_tests([]), "data": bomb},
    }
    with pytest.raises(ValueError):
        unpack_tests(answer)


@pytest.fixture(scope="module")
def verifier():
    from rlvr.verifiers.code import CodeVerifier
    from rlvr.verifiers.sandbox import SandboxUnavailable

    try:
        instance = CodeVerifier()
    except SandboxUnavailable as error:
        pytest.skip(f"no sandbox: {error}")
    yield instance
    instance.close()


def test_the_verifier_judges_compact_tasks_and_refuses_broken_ones(verifier):
    for seed, style in ((11, "function"), (12, "stdio")):
        task = GENERATOR.generate(seed, 1.0, style=style)
        good = verifier.verify(task, GENERATOR.solve(task))
        assert good.correct and good.details["total"] == task.meta["test_count"], good
        bad = verifier.verify(task, GENERATOR.wrong_response(task))
        assert not bad.correct and bad.reward == 0.0
        packed = task.answer["packed_tests"]
        broken = Task.from_dict(
            {
                **task.to_dict(),
                "id": task.id + "/tampered",
                "answer": {**task.answer, "packed_tests": {**packed, "seed": packed["seed"] + 1}},
            }
        )
        verdict = verifier.verify(broken, GENERATOR.solve(task))
        assert verdict.reward == 0.0 and "packed tests are unusable" in verdict.reason
