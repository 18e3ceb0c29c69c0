"""Infill-v0: masked spans, distractor rules, the letter reader, exact normalisation, corpora."""

from __future__ import annotations

import collections
import functools
import json
import math
import os
import random
import string
import subprocess
import sys

import pytest

import rlvr
from rlvr.core import Task
from rlvr.generators.corpus import load_corpus
from rlvr.generators.infill import (
    BLANK,
    InfillGenerator,
    centrality,
    dice,
    kind_of,
    position_of,
    similarity,
    too_close,
    word_set,
)
from rlvr.verifiers.infill import InfillVerifier, normalise, read_letter

VERIFIER = InfillVerifier()
DIFFICULTIES = (0.0, 0.25, 0.5, 0.75, 1.0)


@pytest.fixture(scope="module")
def generator():
    return rlvr.make_generator("Infill-v0")


def choice_task(candidates: list[str], letter: str) -> Task:
    answer = {
        "mode": "choice",
        "text": candidates[string.ascii_uppercase.index(letter)],
        "letter": letter,
        "candidates": candidates,
    }
    return Task(id="t", env_id="rlvr/Infill-v0", family="infill", prompt="", answer=answer, difficulty=0.5, seed=0)


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
@pytest.mark.parametrize("mode", ["choice", "exact", "any"])
def test_reference_scores_one_and_distractor_zero(generator, difficulty, mode):
    for seed in range(12):
        task = generator.generate(seed, difficulty, mode=mode)
        assert task.prompt.split("\n\n")[1].count(BLANK) == 1 and task.answer["text"] not in ("", BLANK)
        assert VERIFIER.verify(task, generator.solve(task)).reward == 1.0
        assert VERIFIER.verify(task, generator.wrong_response(task)).reward == 0.0
        if mode == "exact" or (mode == "any" and task.params["span_tokens"] > 3):
            assert task.answer["mode"] == ("exact" if mode == "exact" else "choice")


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_distractors_follow_the_rules(generator, difficulty):
    for seed in range(25):
        task = generator.generate(seed, difficulty)
        answer, candidates = task.answer["text"], task.answer["candidates"]
        assert len(candidates) == task.params["candidates"] and candidates.count(answer) == 1
        assert candidates[string.ascii_uppercase.index(task.answer["letter"])] == answer
        words = len(answer.split())
        for i, candidate in enumerate(candidates):
            if candidate == answer:
                continue
            assert len(candidate.split()) == words  # the answer's word count (red team s17 I1: a band centred on it)
            assert kind_of(candidate.split()) == kind_of(answer.split())  # numeric / mixed / words alike
            assert not too_close(candidate, answer) and normalise(answer) not in normalise(candidate)
            assert all(not too_close(candidate, other) for other in candidates[i + 1 :] if other != answer)


def test_distractor_pool_matches_position_class(generator):
    rng = random.Random(5)
    checked = 0
    while checked < 20:
        answer = generator.draw_answer(rng, 3)
        if answer is None:
            continue
        total = len(generator.sentences[answer.sentence][2])
        position = position_of(answer.start, answer.length, total)
        for span in generator.distractor_pool(rng, answer, generator.masked_passage(answer)):
            assert position_of(span.start, span.length, len(generator.sentences[span.sentence][2])) == position
            assert generator.sentences[span.sentence][0] != generator.sentences[answer.sentence][0]  # another document
        checked += 1


def test_similarity_rises_with_the_knob(generator):
    # the default corpus is synthetic (templated prose, worked maths): its spans are alike to begin
    # with, so the knob moves similarity less than on real text. Over these 200 seeds: 0.710 →
    # 0.745 (+0.035, paired standard error 0.012). It was 0.686 → 0.751 (+0.065 ± 0.010) before
    # the distractors sharing as many passage words as the answer were set by a drawn run (red
    # team s13 F3 follow-up): such spans score full topic match, and the runs put them in the set
    # at every setting, which lifts the low end. Hence 0.02 here (was 0.05 over 40 seeds, where
    # the margin is now 0.021 and was 0.055).
    low = [generator.generate(s, 0.0, candidates=5, span_tokens=4).meta["similarity"] for s in range(200)]
    high = [generator.generate(s, 1.0, candidates=5, span_tokens=4).meta["similarity"] for s in range(200)]
    assert sum(high) / 200 > sum(low) / 200 + 0.02


def closeness(a: str, b: str) -> float:
    return 1 - abs(len(a) - len(b)) / max(len(a), len(b), 1)


def cue_scores(candidates: list[str], passage: str) -> dict[str, list[float]]:
    """Per surface rule, a score per candidate; the rule takes the highest (a guess among ties).
    Hub rules (red team s13 F3): the others' summed likeness to a candidate, by the generator's
    own ``similarity`` (with the passage's words), by character-bigram Dice and by length
    closeness + Dice on the candidate strings alone, and by ``similarity`` with its arguments
    swapped (each candidate scored as a distractor of each other); "least like" is the mirror.
    Overlap rules (red team s13 F3 follow-up: the answer sharing no word with the passage tied
    the distractors that shared none, and a guess among them found it at 0.33 against 0.25 at
    d = 0.5): least shared words (a guess among ties, or the first listed), and an overlap count
    no other candidate has (the answer's may not be tied more or less often than a
    distractor's)."""
    context = word_set(passage)
    overlap = [len(word_set(c) & context) for c in candidates]
    hubs = {
        "similarity": centrality(candidates, lambda other, text: similarity(other, text, context)),
        "swapped similarity": centrality(candidates, lambda other, text: similarity(text, other, context)),
        "dice": centrality(candidates, dice),
        "closeness+dice": centrality(candidates, lambda other, text: closeness(other, text) + dice(other, text)),
    }
    counts = [len(c.split()) for c in candidates]
    middle = sorted(set(counts))[(len(set(counts)) - 1) // 2]
    return {
        "middle word count": [-abs(n - middle) for n in counts],  # red team s17 I1: 0.34 against 1/6 at d = 1
        "longest": [len(c) for c in candidates],
        "shortest": [-len(c) for c in candidates],
        "most passage overlap": overlap,
        "least passage overlap": [-n for n in overlap],
        "least passage overlap, first listed": [-n - i / len(candidates) for i, n in enumerate(overlap)],
        "an overlap no other candidate has": [float(overlap.count(n) == 1) for n in overlap],
        "letter A": [1.0] + [0.0] * (len(candidates) - 1),
        **{f"most like the others by {name}": scores for name, scores in hubs.items()},
        **{f"least like the others by {name}": [-x for x in scores] for name, scores in hubs.items()},
    }


CUE_SETTINGS = [
    (0.0, ()),
    (0.5, ()),
    (0.75, ()),
    (1.0, ()),
    (1.0, (("candidates", 8), ("similarity", 0.5))),
    (1.0, (("candidates", 8), ("similarity", 1.0))),
]


@functools.cache
def cue_tasks(difficulty: float, overrides: tuple) -> list[Task]:
    """The surface-cue tests' tasks (seeds 4000 … 4239), made once for both tests."""
    generator = rlvr.make_generator("Infill-v0")
    return [generator.generate(seed, difficulty, **dict(overrides)) for seed in range(4000, 4240)]


@pytest.mark.parametrize("difficulty, overrides", CUE_SETTINGS)
def test_surface_cues_point_to_the_answer_about_as_often_as_a_guess(difficulty, overrides):
    """Longest, shortest, most words shared with the passage, a fixed letter, and the candidate
    most / least like the others (red team s13 F3: the answer was the similarity hub, 0.45 at
    d = 1 against 0.17), and the overlap rules of ``cue_scores``: each at most 3 binomial
    standard deviations above 1/k. (3, not PatchFit's 2.5: 15 rules at 6 settings are 90
    checks, and the hub rules' hits are the generator's own uniform draws of the answer's
    place, so 2.5 flags one by chance in about a third of seed ranges; the old generator was
    3.8 to 12.6 deviations above at d ≥ 0.5. Before ties by passage overlap were drawn as runs,
    "most like the others by swapped similarity" hit 0.428 at d = 0 against 0.333.)"""
    hits, tasks = collections.Counter(), 240
    for task in cue_tasks(difficulty, overrides):
        candidates, right = task.answer["candidates"], string.ascii_uppercase.index(task.answer["letter"])
        for cue, values in cue_scores(candidates, task.prompt.split("\n\n")[1]).items():
            best = max(values)
            hits[cue] += (values[right] == best) / values.count(best)  # a guess among ties
    chance = 1 / task.params["candidates"]
    bound = tasks * chance + 3 * math.sqrt(tasks * chance * (1 - chance))
    high = {cue: round(count / tasks, 3) for cue, count in hits.items() if count > bound}
    assert not high, (difficulty, overrides, f"chance {chance:.3f}", high)


def test_the_answers_place_by_passage_overlap_is_uniform():
    """Red team s13 F3 follow-up: the answer's place among the candidates by words shared with
    the passage, ties split at random (0 … 1: the share of the others it outranks, a tie as
    half), averages 1/2 at every setting. Per setting z = (sum of place − 1/2) / its standard
    deviation under a uniform place; the sum of the six z² is chi-square with 6 degrees of
    freedom, at most 18.5 (p = 0.005). The coin-split ties gave 19.6 (z = +2.41 at d = 0,
    −2.51 at d = 1: the least-overlap rule, ties to the first listed, found the answer 0.27 of
    the time at d = 1 over seeds 4000 … 4149 against 1/6); drawn as runs, 2.4."""
    total = 0.0
    for difficulty, overrides in CUE_SETTINGS:
        tasks = cue_tasks(difficulty, overrides)
        offset = 0.0
        for task in tasks:
            candidates, right = task.answer["candidates"], string.ascii_uppercase.index(task.answer["letter"])
            context = word_set(task.prompt.split("\n\n")[1])
            overlap = [len(word_set(c) & context) for c in candidates]
            below, tied = sum(n < overlap[right] for n in overlap), overlap.count(overlap[right]) - 1
            offset += (below + tied / 2) / (len(candidates) - 1) - 0.5
        k = len(tasks[0].answer["candidates"])
        total += offset**2 / (len(tasks) * (k * k - 1) / 12 / (k - 1) ** 2)
    assert total <= 18.5, total


def test_letter_reader_forms():
    candidates = ["nine eggs", "ten eggs", "a red hat"]
    for text in ("B", "b", "(B)", "[B]", "B.", "B)", "Option B", "answer: b", "B) ten eggs", "B. Ten eggs."):
        assert read_letter(text, candidates)[0] == "B", text
    for text in ("A or B", "A, B", "ten eggs", "D", "B) nine eggs", "AB", "B!", "Option"):
        assert read_letter(text, candidates)[0] is None, text


def test_exact_normalisation():
    assert normalise("  Nine   DUCK eggs, ") == "nine duck eggs"
    assert normalise("$18.") == normalise("18") and normalise("(9)") == "9" and normalise("ｅｇｇｓ") == "eggs"
    assert normalise("-5") != normalise("5") and normalise("3.5") != normalise("35")
    task = Task(
        id="t",
        env_id="rlvr/Infill-v0",
        family="infill",
        prompt="",
        difficulty=0.5,
        seed=0,
        answer={"mode": "exact", "text": "is 8", "decoy": "had $700"},
    )
    for good in ("is 8", "IS 8.", " is   8 ", "Is (8)"):
        assert VERIFIER.verify(task, f"<answer>{good}</answer>").correct, good
    for bad in ("is 80", "is", "is 8 kg", "8", "is 8 or is 9", "", "is8"):
        assert VERIFIER.verify(task, f"<answer>{bad}</answer>").reward == 0, bad


def test_hostile_answers_and_bounds():
    task = choice_task(["nine eggs", "ten eggs", "a red hat"], "B")
    for response in (
        "",
        "<answer></answer>",
        "<answer>" + "B" * 5_000 + "</answer>",
        "x" * 5_000_000,
        None,
        7,
        "<answer>\x00B</answer>",
        "<answer>B</answer><think>",
        "<think><answer>B</answer></think>",
        "<answer>" + "(" * 100_000 + "B" + ")" * 100_000 + "</answer>",
    ):
        verdict = VERIFIER.verify(task, response)
        assert verdict.reward == 0 and "\n" not in verdict.reason and len(verdict.reason) <= 300
    assert VERIFIER.verify(task, "<answer>Option B</answer>").correct


def test_family_attacks_all_score_zero(generator):
    for mode in ("choice", "exact"):
        for difficulty in (0.0, 0.5, 1.0):
            for seed in range(12):
                task = generator.generate(seed, difficulty, mode=mode)
                attacks = generator.attacks(task)
                assert len(attacks) >= 5
                for name, response in attacks:
                    assert VERIFIER.verify(task, response).reward == 0, (name, task.id)


def test_same_bytes_in_another_process_and_distinct_seeds():
    code = "import rlvr; print(rlvr.make_task('Infill-v0', 7, 0.6).to_json())"
    task = rlvr.make_task("Infill-v0", 7, 0.6)
    for hash_seed in ("1", "2"):
        other = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
        ).stdout.strip()
        assert other == task.to_json()
    assert load_corpus().label == "math:synthetic"  # the default corpus: ids without a suffix
    assert task.id == "infill/v0/d0.60/s7"
    prompts = {rlvr.make_task("Infill-v0", s, 0.5).prompt for s in range(40)}
    assert len(prompts) == 40


def test_folder_and_jsonl_corpora(tmp_path):
    animals = [
        "The quick brown fox jumps over the lazy dog near the river bank today.",
        "A small grey cat sleeps on the warm window sill every afternoon.",
        "Seven old horses graze in the green field behind the red barn.",
        "The young children build a tall sand castle on the sunny beach.",
        "Two busy bees collect sweet nectar from the bright yellow flowers.",
        "An eager student reads a thick history book in the quiet library.",
        "The tired farmer drives his blue tractor across the muddy field.",
        "Three loud crows sit on the tall fence beside the country road.",
    ]
    (tmp_path / "a.txt").write_text("\n\n".join(animals[:4]))
    (tmp_path / "b.md").write_text("\n\n".join(animals[4:]))
    (tmp_path / "c.txt").write_text("A huge paragraph. " + "word " * 50_000 + ". It ends here.")
    generator = InfillGenerator(corpus=str(tmp_path))
    for seed in range(10):
        task = generator.generate(seed, 0.0)
        assert len(task.prompt) < 3_000  # sentences over 400 characters are neither masked nor shown
        assert task.id.endswith(f"/c{generator.corpus.fingerprint}") and task.meta["source"].split("#")[0] in (
            "a.txt",
            "b.md",
            "c.txt",
        )
        assert VERIFIER.verify(task, generator.solve(task)).correct
        assert all(c in " ".join(animals) + " A huge paragraph. It ends here." for c in task.answer["candidates"])
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(json.dumps({"body": text, "n": i}) for i, text in enumerate(animals)) + "\n")
    task = InfillGenerator(corpus=str(path), field="body").generate(3, 0.25)
    assert task.meta["source"].startswith("rows/") and VERIFIER.verify(task, rlvr.solve(task)).correct
    tiny = tmp_path / "tiny.jsonl"
    tiny.write_text("\n".join(json.dumps({"body": text}) for text in animals[:2]) + "\n")
    with pytest.raises(ValueError, match="no 4-word span with 7 eligible"):
        InfillGenerator(corpus=str(tiny), field="body").generate(0, 0.5, span_tokens=4, candidates=8)


def test_hints_rule_out_all_but_two(generator):
    task = generator.generate(2, 1.0)
    hints = generator.hints(task)
    assert len(hints) == len(task.answer["candidates"]) - 1
    assert not any(f"Candidate {task.answer['letter']} " in h for h in hints)


@pytest.mark.parametrize("seed", [1112, 2954])
def test_seeds_that_needed_more_than_32_span_tries_are_made(seed):
    """These d = 1 seeds raised ValueError when a task tried at most 32 spans."""
    task = rlvr.make_task("rlvr/Infill-v0", seed=seed, difficulty=1.0)
    assert rlvr.verify(task, rlvr.solve(task)).correct


def test_no_synthetic_prose_sentence_is_in_two_paragraphs():
    """Infill splits by paragraph, so a sentence in two paragraphs could be blanked by a test
    task and shown whole by a train task (red team s21 B4)."""
    from rlvr.generators.corpus import synthetic_prose_documents

    seen: dict[str, str] = {}
    for document in synthetic_prose_documents():
        for sentence in set(document.sentences):
            assert sentence not in seen, (sentence, seen.get(sentence), document.source)
            seen[sentence] = document.source
    assert len(seen) > 4000


def test_no_test_blank_is_shown_whole_by_a_train_passage():
    """Red team s21 B4's measure: a test task's blanked sentence, filled in, is never a sentence
    of a train task's passage (36 of 200 test tasks at d = .5 were, against 1,500 train)."""
    import re

    def passage(task):
        return task.prompt.split("\n\n")[1]

    test = rlvr.generate("Infill-v0", 30, difficulty=0.5, split="test")
    train = rlvr.generate("Infill-v0", 250, difficulty=0.5, split="train")
    shown = {s for task in train for s in re.split(r"(?<=[.!?])\s+", passage(task)) if "[BLANK]" not in s}
    for task in test:
        blanked = next(s for s in re.split(r"(?<=[.!?])\s+", passage(task)) if "[BLANK]" in s)
        assert blanked.replace("[BLANK]", task.answer["text"]) not in shown, task.id
