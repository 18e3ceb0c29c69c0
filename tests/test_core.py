"""Core contracts: extraction, difficulty tables, seeding, ids and serialisation round trips."""

import json

import numpy as np
import pytest
from PIL import Image

from rlvr.core import (
    Task,
    Verdict,
    canonical_difficulty,
    env_slug,
    extract_answer,
    extract_boxed,
    extract_math_answer,
    load_tasks,
    looks_hedged,
    make_task_id,
    save_tasks,
    strip_think,
    task_rngs,
)


def test_extract_answer_takes_last_block_after_reasoning():
    text = "<think>maybe <answer>1</answer></think> so <answer>2</answer> then <answer> 3 </answer>"
    assert extract_answer(text) == "3"
    assert extract_answer("<think><answer>1</answer>") is None  # reasoning never closed
    assert extract_answer("no block here") is None
    assert extract_answer("<ANSWER>x</ANSWER>") == "x"
    assert extract_answer("reasoning</think><answer>7</answer>") == "7"  # chat templates open <think> for the model


def test_strip_think():
    assert strip_think("a<think>b</think>c") == "c"
    assert strip_think("plain") == "plain"
    assert strip_think("x<think>never closed") == ""


def test_boxed_extraction_balances_braces_and_detects_hedges():
    assert extract_boxed(r"\boxed{\frac{1}{2}} and \fbox{3}") == [r"\frac{1}{2}", "3"]
    assert extract_boxed(r"\boxed{\frac{1}{2}") == []  # unbalanced
    assert extract_math_answer(r"so \boxed{4}").value == "4"
    assert extract_math_answer(r"\boxed{4} or \boxed{5}").value is None
    assert extract_math_answer(r"\boxed{4} again \boxed{ 4 }").value == "4"
    assert extract_math_answer("<answer>12</answer>").value == "12"
    assert extract_math_answer(r"\boxed{9} <answer>\boxed{1}</answer>").value == "1"
    assert extract_math_answer("nothing").value is None


@pytest.mark.parametrize("text", ["2 or 3", "either 2", "maybe 4", r"2 \lor 3", "4?"])
def test_hedges(text):
    assert looks_hedged(text)


@pytest.mark.parametrize("text", ["4", r"\frac{1}{2}", "x^2 + 1", r"\text{Evelyn}", "(3, 4)", "north"])
def test_not_hedges(text):
    assert not looks_hedged(text)


def test_difficulty_table_interpolates_and_overrides():
    from rlvr.params import Choice, DifficultyTable, Float, Int

    params = {"rows": Int(2, 50), "loops": Float(0.0, 1.0), "style": Choice("a", "b", "c")}
    table = DifficultyTable(
        params,
        {
            0.0: {"rows": 5, "loops": 0.0, "style": "a"},
            0.5: {"rows": 15, "loops": 0.05, "style": "b"},
            1.0: {"rows": 41, "loops": 0.15, "style": "c"},
        },
    )
    assert table.resolve(0.0) == {"rows": 5, "loops": 0.0, "style": "a"}
    assert table.resolve(0.25) == {"rows": 10, "loops": 0.025, "style": "a"}
    assert table.resolve(1.0)["rows"] == 41
    assert table.resolve(0.75, {"rows": 3})["rows"] == 3
    assert table.resolve(0.75, {"rows": "3", "loops": 1})["rows"] == 3  # canonical form: the same task
    rows = [table.resolve(d / 20)["rows"] for d in range(21)]
    assert rows == sorted(rows)
    for bad, match in (
        ({"nope": 1}, "unknown parameter 'nope'"),
        ({"rows": 1}, r"rows must be an integer in \[2, 50\]"),
        ({"rows": 2.5}, "rows must be an integer"),
        ({"rows": True}, "rows must be an integer"),
        ({"loops": "x"}, "loops must be a number"),
        ({"style": "d"}, "style must be one of a, b, c"),
    ):
        with pytest.raises(ValueError, match=match):
            table.resolve(0.5, bad)
    with pytest.raises(ValueError, match="expected"):
        DifficultyTable({"a": Int(0, 9)}, {0.0: {"a": 1}, 1.0: {"b": 1}})
    with pytest.raises(ValueError, match="rows must be an integer"):
        DifficultyTable(
            params, {0.0: {"rows": 99, "loops": 0.0, "style": "a"}, 1.0: {"rows": 5, "loops": 0.0, "style": "a"}}
        )
    assert "rows 5→41" in table.describe()
    rendered = table.doc_table().splitlines()
    assert rendered[0].split() == ["d", "rows", "loops", "style"] and rendered[3].split() == ["0.5", "15", "0.05", "b"]


def test_log_scale_and_subsets():
    from rlvr.params import DifficultyTable, Int, Subset

    table = DifficultyTable(
        {"limit": Int(10, 10**9, log=True), "kinds": Subset("x", "y", "z")},
        {0.0: {"limit": 10**4, "kinds": "x"}, 1.0: {"limit": 10**9, "kinds": "x,y,z"}},
    )
    assert table.resolve(0.5)["limit"] == 3162278  # geometric midpoint of 10^4 and 10^9, not 500,005,000
    assert table.resolve(0.5, {"kinds": ["y", "x"]})["kinds"] == "y,x"
    for bad in ("x,x", "", "w", ["x", 3]):
        with pytest.raises(ValueError, match="kinds must be one or more distinct values"):
            table.resolve(0.5, {"kinds": bad})


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_difficulty_out_of_range_is_refused(bad):
    with pytest.raises(ValueError):
        canonical_difficulty(bad)


def test_rng_streams_are_independent_per_seed():
    draws = {}
    for seed in range(200):
        rng, nprng = task_rngs("maze", seed, 0.4)
        draws[seed] = [rng.random() for _ in range(8)]
        assert nprng.integers(1 << 30) >= 0
    values = [v for seq in draws.values() for v in seq]
    assert len(set(values)) == len(values)  # no stream is a shifted copy of another
    again, _ = task_rngs("maze", 17, 0.4)
    assert [again.random() for _ in range(8)] == draws[17]
    other, _ = task_rngs("math", 17, 0.4)
    assert [other.random() for _ in range(8)] != draws[17]


def test_task_ids():
    assert env_slug("rlvr/MazeImage-v0") == "mazeimage/v0"
    assert make_task_id("maze/v0", 17, 0.4) == "maze/v0/d0.40/s17"
    assert make_task_id("maze/v0", 17, 0.333) == "maze/v0/d0.3330/s17"
    assert make_task_id("maze/v0", 17, 0.4, {"rows": 9}) != make_task_id("maze/v0", 17, 0.4, {"rows": 11})


def _sample_tasks():
    image = Image.fromarray(np.arange(48 * 32 * 3, dtype=np.uint8).reshape(48, 32, 3) % 251)
    return [
        Task(
            "t/v0/d0.50/s1",
            "rlvr/T-v0",
            "t",
            "prompt é",
            {"gold": [1, 2], "form": "set"},
            0.5,
            1,
            {"rows": 3},
            (),
            {"note": "x"},
        ),
        Task("t/v0/d0.50/s2", "rlvr/T-v0", "t", "with image", "A", 0.5, 2, {}, (image, image.convert("L")), {}),
    ]


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_serialisation_round_trip(tmp_path, suffix):
    tasks = _sample_tasks()
    path = tmp_path / f"tasks{suffix}"
    assert save_tasks(tasks, path) == 2
    loaded = load_tasks(path)
    assert [t.to_json() for t in loaded] == [t.to_json() for t in tasks]
    assert np.array_equal(np.asarray(loaded[1].images[0]), np.asarray(tasks[1].images[0]))
    assert loaded[1].images[1].mode == "L"
    assert loaded[0].answer == {"gold": [1, 2], "form": "set"}


def test_verdict_helpers():
    assert Verdict.fail("bad").reward == 0.0 and not Verdict.fail("bad").correct
    good = Verdict.success(extra=1)
    assert good.correct and good.reward == 1.0 and good.details == {"extra": 1}
    assert json.dumps(good.to_dict())


def test_strip_think_keeps_offsets_when_lower_casing_changes_length():
    # 'İ'.lower() is two characters: tag positions must be found on the text itself
    assert strip_think("İ" * 50 + "<think>2 + 2</THINK><answer>4</answer>") == "<answer>4</answer>"
    assert strip_think("<Think>" + "İ" * 10 + "<answer>4</answer>") == ""


def test_strip_think_is_linear_on_hostile_tag_counts():
    # many closing tags, none, or an open tag with megabytes after it: each a single pass
    assert strip_think("</think>" * 1_000_000 + "a") == "a"
    assert strip_think("a" * 5_000_000) == "a" * 5_000_000
    assert strip_think("<think>" + "a" * 5_000_000) == ""


def test_verdicts_are_bounded_and_encodable_whatever_the_verifier_quotes():
    from rlvr.core import REASON_MAX_CHARS, Verdict

    hostile = "\ud800 lone surrogate " * 10_000
    verdict = Verdict.fail(
        hostile,
        output=hostile,
        nested=[[[[[[[[[["deep"]]]]]]]]]],
        many=list(range(100_000)),
        pair=(1, 2),
        keyed={3: "x\udcff"},
    )
    assert len(verdict.reason) <= REASON_MAX_CHARS
    json.dumps(verdict.to_dict(), ensure_ascii=False).encode("utf-8")
    assert len(verdict.details["many"]) < 100_000 and verdict.details["pair"] == (1, 2)
    assert verdict.details["keyed"][3].startswith("x\ufffd")
    assert Verdict.success(n_tests=5).details == {"n_tests": 5}  # clean values pass through unchanged


def test_answer_block_offsets_survive_characters_that_lengthen_when_lowercased():
    # 'İ' lower-cases to two characters; tags found on text.lower() would slice the wrong text
    assert extract_answer("İ" * 19 + "<answer>WRONGWRONG</answer>22 + 8    ") == "WRONGWRONG"
    assert extract_answer("<ANSWER> x </Answer> İİ <answer>y</answer>") == "y"
    assert extract_answer("<answer>a</answer><answer>b") == "a" and extract_answer("none") is None


def test_to_json_is_the_canonical_dumps_and_refuses_a_task_holding_itself():
    """``Task.to_json`` (one encoder, no circular-reference check) writes what
    ``json.dumps(sort_keys, ensure_ascii=False, compact separators)`` writes, for a task of
    every generated env and for awkward values (non-ASCII, a lone surrogate, -0.0, big and
    negative integers, nested empty containers); a task whose answer holds itself raises
    RecursionError instead of writing anything."""
    import rlvr

    def dumps(task):
        return json.dumps(task.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    for row in rlvr.list_envs():
        if row["id"].endswith("Eval-v0"):
            continue
        task = rlvr.make_task(row["id"], seed=11, difficulty=0.5)
        assert task.to_json() == dumps(task), row["id"]
    odd = Task("t", "e", "f", "é ☃ \ud800", {"b": [-0.0, 2**70, -(2**70), {}, [], None, True], "a": (1.5,)}, 0.25, -3)
    assert odd.to_json() == dumps(odd)
    looping = Task("t", "e", "f", "p", [], 0.5, 1)
    looping.answer.append(looping.answer)
    with pytest.raises(RecursionError):
        looping.to_json()


def test_dataset_rows_json_columns_are_json_dumps_text():
    """The Parquet and HF rows' answer, params and meta columns and verl's ground truth (kept
    encoders) hold what ``json.dumps`` with their options writes, for a task of every generated
    env and an awkward one."""
    import rlvr
    from rlvr.core import parquet_row
    from rlvr.integrations.hf import task_row
    from rlvr.integrations.verl import ground_truth

    tasks = [
        rlvr.make_task(row["id"], seed=12, difficulty=0.5)
        for row in rlvr.list_envs()
        if not row["id"].endswith("Eval-v0")
    ]
    tasks.append(Task("t", "e", "f", "é \ud800", {"b": [-0.0, 2**70, {}, None], "a": (1.5,)}, 0.25, -3, {"k": "☃"}))
    for task in tasks:
        fields = task.to_dict()
        for row in (parquet_row(task), task_row(task)):
            for key in ("answer", "params", "meta"):
                assert row[key] == json.dumps(fields[key], sort_keys=True, ensure_ascii=False), (task.env_id, key)
        truth = {**fields, "images": []}
        assert ground_truth(task) == json.dumps(truth, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
