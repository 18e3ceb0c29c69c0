"""StepOrder-v0: corpus windows, shuffles that echo nothing, the label reader, Kendall credit."""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

import rlvr
from rlvr.core import Task
from rlvr.generators.corpus import load_corpus, split_sentences
from rlvr.generators.step_order import StepOrderGenerator, normalised, surface_leak, surface_sorts
from rlvr.verifiers.step_order import StepOrderVerifier, chance_tau, discordant_pairs, kendall_reward, read_labels

VERIFIER = StepOrderVerifier()
KENDALL = StepOrderVerifier(scoring="kendall")
DIFFICULTIES = (0.0, 0.25, 0.5, 0.75, 1.0)


@pytest.fixture(scope="module")
def generator():
    return rlvr.make_generator("StepOrder-v0")


def with_order(order: list[str]) -> Task:
    return Task(
        id="t",
        env_id="rlvr/StepOrder-v0",
        family="step_order",
        prompt="",
        answer={"order": order},
        difficulty=0.5,
        seed=0,
    )


def shown_steps(task: Task) -> list[str]:
    return [line[3:] for line in task.prompt.splitlines() if len(line) > 3 and line[1:3] == ". " and line[0].isupper()]


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_reference_scores_one_and_near_miss_zero(generator, difficulty):
    for seed in range(20):
        task = generator.generate(seed, difficulty)
        order = task.answer["order"]
        assert len(order) == task.params["steps"] and sorted(order) == sorted(set(order))
        assert VERIFIER.verify(task, generator.solve(task)).reward == 1.0
        assert VERIFIER.verify(task, generator.wrong_response(task)).reward == 0.0
        near_miss = KENDALL.verify(task, generator.wrong_response(task)).reward
        assert (0 < near_miss < 1) if len(order) >= 5 else near_miss == 0.0  # 4 labels: only exact beats chance


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_shuffle_never_echoes_the_order_and_steps_are_distinct(generator, difficulty):
    for seed in range(30):
        task = generator.generate(seed, difficulty)
        order, anchored = task.answer["order"], task.meta["anchored"]
        free = [label for label in order if label not in anchored]
        assert free != sorted(free) and free != sorted(free, reverse=True)
        steps = shown_steps(task)
        assert len(steps) == len(order) and len({normalised(s) for s in steps}) == len(steps)
        assert not any(re.match(r"(step\s*)?\d+[.):]\s", s, re.IGNORECASE) for s in steps)  # numbering stripped
        for label in anchored:
            assert f"{label} is step {order.index(label) + 1}" in task.prompt


def test_formatting_variants_all_read_the_same(generator):
    task = generator.generate(4, 0.5)
    order = task.answer["order"]
    variants = [
        ", ".join(order),
        " ".join(order),
        "\n".join(f"{i + 1}. {l}" for i, l in enumerate(order)),
        " -> ".join(order),
        " → ".join(order),
        "[" + ", ".join(order) + "]",
        "; ".join(o.lower() for o in order),
        " then ".join(f"Step {l}" for l in order),
        "".join(f"({l})" for l in order),
        " => ".join(order) + ".",
    ]
    for text in variants:
        assert VERIFIER.verify(task, f"<think>maybe {order[::-1]}</think><answer>{text}</answer>").reward == 1.0, text


def test_kendall_values_by_hand():
    truth = ["A", "B", "C", "D"]
    assert kendall_reward(truth, truth) == 1.0
    # 4 labels: 1 of 24 random orders is exact and 3 more have tau 2/3, so chance is tau 2/3
    assert chance_tau(4) == pytest.approx(2 / 3)
    assert kendall_reward(["B", "A", "C", "D"], truth) == 0.0  # 1 of 6 pairs reversed: tau 2/3, not above chance
    assert kendall_reward(["D", "A", "B", "C"], truth) == 0.0  # D before A, B, C: 3 of 6, tau 0
    assert kendall_reward(["D", "C", "B", "A"], truth) == 0.0  # tau = -1
    eight = list("ABCDEFGH")  # chance tau 1/2 for 8 labels; one swap: tau 1 - 2/28
    assert kendall_reward(["B", "A", *eight[2:]], eight) == pytest.approx((1 - 2 / 28 - 0.5) / 0.5)
    task = with_order(["C", "A", "D", "B"])
    assert KENDALL.verify(task, "<answer>A, C, D, B</answer>").reward == 0.0
    assert KENDALL.verify(task, "<answer>B, D, A, C</answer>").reward == 0.0
    assert KENDALL.verify(task, "<answer>C, A, D, B</answer>").reward == 1.0
    assert VERIFIER.verify(task, "<answer>A, C, D, B</answer>").reward == 0.0
    assert KENDALL.verify(task, "<answer>C, A, D</answer>").reward == 0.0  # a missing label is no order
    with pytest.raises(ValueError, match="scoring"):
        StepOrderVerifier(scoring="spearman")


@pytest.mark.parametrize(
    "text",
    [
        "C, A or D, B",
        "C, A, D, B, B",
        "C, A, D",
        "C, A, D, B, Z",
        "CADB",
        "C A D B ?",
        "the order is C, A, D, B",
        "C, A, D, B\nor A, C, D, B",
        "",
        "<answer>C</answer>",
    ],
)
def test_hostile_label_lists_score_zero(text):
    task = with_order(["C", "A", "D", "B"])
    verdict = VERIFIER.verify(task, f"<answer>{text}</answer>")
    assert verdict.reward == 0 and "\n" not in verdict.reason and len(verdict.reason) <= 300


def test_bounds_hold_on_huge_input():
    task = with_order(["C", "A", "D", "B"])
    for response in (
        "<answer>" + "A, " * 1_000_000 + "</answer>",
        "<answer>" + "(" * 200_000 + "</answer>",
        "x" * 5_000_000,
        None,
        b"<answer>C, A, D, B</answer>",
    ):
        assert VERIFIER.verify(task, response).reward == 0
    with pytest.raises(ValueError, match="longer"):
        read_labels("A" * 3_000)


def test_family_attacks_all_score_zero(generator):
    for difficulty in (0.0, 0.5, 1.0):
        for seed in range(12):
            task = generator.generate(seed, difficulty)
            attacks = generator.attacks(task)
            assert len(attacks) >= 12
            assert sum(name.startswith("surface-sort: ") for name, _ in attacks) == 20
            for name, response in attacks:
                assert VERIFIER.verify(task, response).reward == 0, (name, task.id)


def test_same_bytes_in_another_process_and_ids(generator):
    code = "import rlvr; print(rlvr.make_task('StepOrder-v0', 7, 0.6).to_json())"
    task = rlvr.make_task("StepOrder-v0", 7, 0.6)
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
    assert task.id == "steporder/v0/d0.60/s7"
    contents = {rlvr.make_task("StepOrder-v0", s, 0.5).prompt for s in range(40)}
    sources = {rlvr.make_task("StepOrder-v0", s, 0.5).meta["source"] for s in range(40)}
    assert len(contents) == 40 and len(sources) >= 35


def test_difficulty_moves_steps_and_anchors(generator):
    assert [generator.generate(0, d).params["steps"] for d in DIFFICULTIES] == [4, 4, 5, 6, 8]
    assert generator.generate(0, 0.0).meta["anchored"] and not generator.generate(0, 0.5).meta["anchored"]
    with pytest.raises(ValueError, match="anchored"):
        generator.generate(0, 0.5, steps=4, anchored=2)
    task = generator.generate(3, 0.5, steps=6, anchored=3)
    assert len(task.meta["anchored"]) == 3 and VERIFIER.verify(task, generator.solve(task)).correct


def test_folder_corpus_strips_numbering_and_skips_repeated_steps(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "bake.md").write_text(
        "# Bread\n\n1. Mix flour and water.\n2. Knead the dough.\n3. Let it rise.\n"
        "4. Shape the loaf.\n5. Bake it for forty minutes.\n\nA closing note.\n"
    )
    (tmp_path / "sub" / "repeat.txt").write_text(
        "Step 1: Stir.\nStep 2: Stir.\nStep 3: Stir.\nStep 4: Stir.\nStep 5: Stir.\n"
    )
    corpus = load_corpus(str(tmp_path))
    assert [d.source for d in corpus.documents] == ["bake.md#1", "bake.md#2", "sub/repeat.txt#0"]
    assert corpus.documents[0].steps[0] == "Mix flour and water."
    generator = StepOrderGenerator(corpus=str(tmp_path))
    for seed in range(15):
        task = generator.generate(seed, 0.5)
        assert task.meta["source"] == "bake.md#1" and task.id.endswith(f"/c{corpus.fingerprint}")
        assert "1." not in task.prompt.split("\n\n")[1] and VERIFIER.verify(task, generator.solve(task)).correct
    with pytest.raises(ValueError, match="no procedure with 8 steps"):
        generator.generate(0, 1.0)


def test_numbering_in_words_and_roman_numerals_is_stripped_too():
    """Red team s22 B-F1: "ii.", "(iv)", "First," and "Step one:" were kept, and sorting the
    labels by them ordered 51 / 45 / 54 of 100 windows at d = .25 / .5 / 1 of a folder corpus
    numbered so. Every style is stripped now; a line that lost an ordinal word starts with a
    capital (so which steps had one does not show), others keep their case. The second pass
    found the first pattern eating prose and maths ("Second derivative", "x: the number"):
    ordinals need a mark after them, roman numerals a "." or ")"."""
    from rlvr.generators.corpus import clean_lines

    verbs = ["heat the pan", "add the oil", "crack the eggs", "stir them", "salt them", "plate them", "serve them"]
    styles = {
        "roman": (lambda k: f"{['i', 'ii', 'iii', 'iv', 'v', 'vi', 'vii'][k]}. ", False),
        "parenthesised": (lambda k: f"({['i', 'ii', 'iii', 'iv', 'v', 'vi', 'vii'][k]}) ", False),
        "step-word": (lambda k: f"Step {['one', 'two', 'three', 'four', 'five', 'six', 'seven'][k]}: ", False),
        "ordinal": (lambda k: f"{['First', 'Second', 'Third', 'Fourth', 'Fifth', 'Sixth', 'Finally'][k]}, ", True),
        "ordinal-number": (lambda k: f"{k + 1}{['st', 'nd', 'rd'][k] if k < 3 else 'th'} step: ", True),
    }
    for name, (mark, capital) in styles.items():
        lines = clean_lines("\n".join(mark(k) + f"{verb} with tool {name}-{k}" for k, verb in enumerate(verbs)))
        expected = [(verb[0].upper() + verb[1:] if capital else verb) for verb in verbs]
        assert lines == [f"{verb} with tool {name}-{k}" for k, verb in enumerate(expected)], name
    kept = [  # words and maths that only look like numbering stay as written
        "Mix. Then bake.",
        "I went home.",
        "Civil works.",
        "Lasting results",
        "Second derivative test",
        "2nd derivative is 0",
        "Last year sales were 40.",
        "Fifth Avenue is long.",
        "x: the number of apples.",
        "Steps are easy.",
        "First mix the flour",
    ]
    assert clean_lines("\n".join(kept)) == kept
    assert clean_lines("- x = 3\n1. n = 5 so n^2 = 25") == ["x = 3", "n = 5 so n^2 = 25"]


NUMBERINGS = {  # red team s22 second pass: each let a sort by its number order every window
    "bold": lambda i: f"**Step {i}:** ",
    "sub-numbered": lambda i: f"1.{i} ",
    "bullet-then-number": lambda i: f"- {i}. ",
    "bracketed": lambda i: f"[Step {i}] ",
    "no-space": lambda i: f"{i}.",
    "circled": lambda i: chr(0x245F + i) + " ",
    "letter-number": lambda i: f"S{i}: ",
    "of-total": lambda i: f"Step {i}/8: ",
    "fullwidth": lambda i: chr(0xFF10 + i) + "． ",
    "trailing": None,
}


@pytest.mark.parametrize("style", sorted(NUMBERINGS))
def test_a_document_numbered_as_the_cleaning_cannot_strip_is_left_out(tmp_path, style):
    from rlvr.generators.corpus import load_corpus, numbered_steps

    mark = NUMBERINGS[style]
    rng = random.Random(style)
    lines = []
    for document in range(6):
        for i in range(1, 9):
            body = f"Stir batch {document} for {rng.randint(2, 30)} minutes with item {rng.randint(0, 999)}."
            lines.append(f"{body} (step {i})" if mark is None else mark(i) + body)
        lines.append("")
    (tmp_path / "numbered.md").write_text("\n".join(lines), encoding="utf-8")
    plain = [f"Stir batch {rng.randint(0, 99)} for {rng.randint(2, 30)} minutes with item {rng.randint(0, 999)}."]
    plain += [
        f"{verb.capitalize()} it with care." for verb in ("fold", "press", "rinse", "chop", "drain", "whisk", "cool")
    ]
    (tmp_path / "plain.md").write_text("\n".join(plain), encoding="utf-8")
    corpus = load_corpus(str(tmp_path))
    assert [numbered_steps(d.steps) for d in corpus.documents] == [True] * 6 + [False]
    generator = StepOrderGenerator(corpus=str(tmp_path))
    assert generator.numbered == 6 and all(generator.generate(s, 0.5).meta["source"] == "plain.md#0" for s in range(5))
    (tmp_path / "plain.md").unlink()
    with pytest.raises(ValueError, match="6 numbered in a way the cleaning keeps"):
        StepOrderGenerator(corpus=str(tmp_path)).generate(0, 0.5)


def test_the_shipped_corpus_has_no_numbered_document():
    from rlvr.generators.corpus import load_corpus, numbered_steps

    assert not any(numbered_steps(d.steps) for d in load_corpus(None).documents if d.procedure)


def test_gsm8k_solutions_hold_no_numbered_document():
    """Three-step runs happen by chance (4 of GSM8K's 1,319 solutions), four never here."""
    from rlvr.generators.corpus import load_corpus, numbered_steps

    gsm8k = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "math" / "gsm8k_test_original.jsonl"
    if not gsm8k.exists():
        pytest.skip(f"{gsm8k} is absent (the shared benchmark data; CI has it)")
    assert not any(numbered_steps(d.steps) for d in load_corpus(str(gsm8k), "answer").documents)


def test_jsonl_corpus_with_field_and_bad_specs(tmp_path):
    path = tmp_path / "procedures.jsonl"
    rows = [
        {"text": "Open the valve.\nWait for the pressure to drop.\nRemove the cap.\nFill the tank.\nClose the valve."},
        # (steps whose lengths do not fall along the order: "Serve" last was a length leak, refused)
        {"steps": ["Boil water", "Add the pasta", "Stir it once", "Drain it", "Serve it warm"]},
        {"other": 1},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    task = StepOrderGenerator(corpus=str(path), field="text").generate(1, 0.5)
    assert task.meta["source"] == "procedures/0" and "Remove the cap." in task.prompt
    listed = StepOrderGenerator(corpus=str(path), field="steps").generate(2, 0.5)
    assert "Add the pasta" in listed.prompt and listed.meta["source"] == "procedures/1"
    for spec, field, message in (
        (str(path), None, "needs field"),
        (str(tmp_path / "none.txt"), None, "corpus must be"),
        ("hf:only-name", None, "hf:NAME"),
        (str(path), "missing", "no usable text"),
        ("math", "text", "field= goes"),
    ):
        with pytest.raises(ValueError, match=message):
            load_corpus(spec, field)


def test_hf_corpus_from_a_local_save(tmp_path):
    datasets = pytest.importorskip("datasets")
    texts = ["Heat the pan.\nAdd oil.\nCrack two eggs.\nStir gently.\nSalt to taste.", "Only one line here."]
    datasets.DatasetDict({"train": datasets.Dataset.from_dict({"text": texts})}).save_to_disk(str(tmp_path / "ds"))
    generator = StepOrderGenerator(corpus=f"hf:{tmp_path / 'ds'}:train:text")
    task = generator.generate(0, 0.5)
    assert "Crack two eggs." in task.prompt and VERIFIER.verify(task, generator.solve(task)).correct
    with pytest.raises(ValueError, match="no split"):
        load_corpus(f"hf:{tmp_path / 'ds'}:test:text")
    with pytest.raises(ValueError, match="local cache"):  # a hub name is never downloaded
        load_corpus("hf:rlvr-tests/no-such-dataset:train:text")


def test_sentences_keep_decimals_and_titles():
    assert split_sentences("Mr. Smith paid $3.5 for it. Then he left! Did he? Yes.") == [
        "Mr. Smith paid $3.5 for it.",
        "Then he left!",
        "Did he?",
        "Yes.",
    ]


def test_hints_give_positions_never_the_last_two(generator):
    task = generator.generate(5, 1.0)
    hints = generator.hints(task)
    assert len(hints) == len(task.answer["order"]) - 2 and hints[0] == f"Step 1 is {task.answer['order'][0]}."


@pytest.mark.parametrize("difficulty", [0.5, 1.0])
def test_sorting_steps_by_length_is_no_shortcut(generator, difficulty):
    """Worked fraction chains substitute each result into the next step, so their steps do not
    grow with their position (the nested form did: sorting by length solved them)."""
    solved = 0
    for seed in range(150):
        task = generator.generate(seed, difficulty)
        steps = dict(zip(sorted(task.answer["order"]), shown_steps(task)))
        solved += sorted(steps, key=lambda label: len(steps[label])) == task.answer["order"]
    assert solved / 150 < 0.1


def test_chain_derivations_feed_each_result_into_the_next_step():
    from rlvr.generators.corpus import chain_derivation

    for seed in range(20):
        steps = chain_derivation(seed, 4)
        if steps is None:
            continue
        assert len(steps) == 5
        for before, after in zip(steps, steps[1:]):
            result = before.rsplit("= ", 1)[1].rstrip("$")
            assert result.lstrip("-") in after.rsplit(" =", 1)[0]


def test_default_corpus_is_synthetic_and_holds_no_held_out_maths_problem():
    from rlvr.generators.corpus import Corpus, id_suffix, synthetic_math_documents

    corpus = load_corpus()
    assert not any("<<" in step or step.startswith("#") for d in corpus.documents for step in d.steps)
    assert len(corpus.documents) >= 1_000 and id_suffix(corpus) == ""
    assert all(d.source.startswith(("math-synthetic/", "prose-synthetic/")) for d in corpus.documents)  # S7-3
    other = Corpus("math:synthetic+more", tuple(synthetic_math_documents())[:-1])
    assert id_suffix(other) == f"/c{other.fingerprint}"
    # every worked solution is of a Math-v0 problem on the train side: no test answer is shown
    math = rlvr.make_generator("Math-v0")
    used = {d.source.removeprefix("math-synthetic/") for d in corpus.documents}
    made = [math.generate(seed, (seed % 5) / 4) for seed in range(1_200)]
    assert sum(task.id in used for task in made) > 900
    assert not any(task.id in used and rlvr.api.is_held_out(task) for task in made)
    assert any(rlvr.api.is_held_out(task) for task in made)


def test_no_gsm8k_test_solution_is_shown_by_a_train_task():
    """Red team S7-3: the default corpus held GSM8K's test set, so StepOrder and Infill train
    tasks showed the worked answers of 84 % of the rows Math-v0 serves as a benchmark."""
    gsm8k = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "math" / "gsm8k_test_original.jsonl"
    if not gsm8k.exists():
        pytest.skip("../shared/data/math is absent")
    answers = [json.loads(line)["answer"] for line in gsm8k.read_text().splitlines()[:300]]
    final_steps = {answer.split("\n####")[0].splitlines()[-1].split("<<")[0].strip() for answer in answers}
    final_steps = {step for step in final_steps if len(step) > 20}
    shown = " ".join(
        task.prompt for env in ("StepOrder-v0", "Infill-v0") for task in rlvr.generate(env, 300, difficulty=0.5)
    )
    assert len(final_steps) > 100 and not any(step in shown for step in final_steps)


def test_kendall_pays_orders_that_ignore_the_steps_little():
    generator = rlvr.make_generator("rlvr/StepOrder-v0")
    rewards = {"alphabetical": [], "reversed alphabetical": []}
    for seed in range(60):
        task = generator.generate(seed, 0.5)
        labels = sorted(task.answer["order"])
        rewards["alphabetical"].append(KENDALL.verify(task, f"<answer>{', '.join(labels)}</answer>").reward)
        rewards["reversed alphabetical"].append(
            KENDALL.verify(task, f"<answer>{', '.join(labels[::-1])}</answer>").reward
        )
    for name, values in rewards.items():  # (tau + 1) / 2 paid ~0.5, tau clipped at 0 0.10-0.19
        assert sum(values) / len(values) < 0.06, (name, sum(values) / len(values))


@pytest.mark.parametrize("labels", range(2, 13))
def test_random_orders_exceed_the_chance_tau_at_most_five_percent_of_the_time(labels):
    """chance_tau against a direct count: 20,000 random orders for many labels, every order
    for few."""
    truth = [chr(ord("A") + i) for i in range(labels)]
    if labels <= 7:
        orders = [list(order) for order in itertools.permutations(truth)]
    else:
        rng = random.Random(labels)
        orders = [rng.sample(truth, labels) for _ in range(20_000)]
    pairs = labels * (labels - 1) // 2
    above = sum(1 - 2 * discordant_pairs(order, truth) / pairs > chance_tau(labels) for order in orders)
    assert above / len(orders) <= 0.05 + (0.005 if labels > 7 else 0.0)  # 3 sd of sampling
    mean = sum(kendall_reward(order, truth) for order in orders if order != truth) / len(orders)  # partial credit
    assert mean <= 0.05


def largest_integer(text: str) -> int:
    return max((int(number) for number in re.findall(r"\d+", text)), default=0)


# orders that need no reading of the steps, written here independently of SURFACE_KEYS (S10-G10)
SURFACE_ORDERS = {
    "largest integer": largest_integer,
    "digit count": lambda text: sum(c.isdigit() for c in text),
    "length": len,
    "largest integer left of '='": lambda text: largest_integer(text.rpartition("=")[0]),
    "largest integer of the result": lambda text: largest_integer(text.rpartition("=")[2]),
}


@pytest.mark.parametrize("difficulty", (0.0, 0.5, 1.0))
def test_no_surface_order_gives_the_order_away(generator, difficulty):
    """Red team S10-G10: on the worked fraction chains each result feeds the next step, so the
    numbers grew along the order and sorting the steps by their largest number was the exact
    order of 31-58 % of tasks (Kendall credit 0.59-0.72). Now no surface sort is ever exact
    and none earns more Kendall credit than a random order does (≤ 0.05 on average)."""
    exact, credit, rows = {}, {}, 200
    for seed in range(rows):
        task = generator.generate(seed, difficulty)
        texts = dict(zip("ABCDEFGHIJKL", shown_steps(task)))
        orders = {
            f"{name} {way}": sorted(texts, key=lambda k: key(texts[k]), reverse=way == "descending")
            for name, key in SURFACE_ORDERS.items()
            for way in ("ascending", "descending")
        }
        orders.update(surface_sorts(texts))
        for name, order in orders.items():
            answer = f"<answer>{', '.join(order)}</answer>"
            exact[name] = exact.get(name, 0) + VERIFIER.verify(task, answer).correct
            credit[name] = credit.get(name, 0.0) + KENDALL.verify(task, answer).reward / rows
    assert max(exact.values()) <= 2, exact  # 1/n! is 0.6-4 % of 200 tasks before anchors; the screen leaves 0
    assert max(credit.values()) <= 0.05, credit


WALK_STEP = re.compile(r"^(?:(\d+) ([+·-]) previous result|previous result ([+·÷-]) (\d+)) = (\d+)$")


def walk_input(step: str) -> int | None:
    """The value a walk step starts from, by undoing it ("previous result + 17 = 45": 28);
    None for a step of another kind."""
    match = WALK_STEP.match(step)
    if not match:
        return None
    left, left_op, right_op, right, result = match.groups()
    result = int(result)
    if left is not None:  # "c op previous result"
        constant, op = int(left), left_op
        return {"+": result - constant, "·": result // constant, "-": constant - result}[op]
    constant, op = int(right), right_op
    return {"+": result - constant, "-": result + constant, "·": result // constant, "÷": result * constant}[op]


def arithmetic_order(texts: dict[str, str]) -> list[str]:
    """A walk's order by undoing each step: a step follows the one whose result it starts from."""
    inputs = {label: walk_input(text) for label, text in texts.items()}
    results = {int(text.rpartition("= ")[2]): label for label, text in texts.items()}
    before = {label: results.get(value) for label, value in inputs.items()}
    order = [label for label, previous in before.items() if previous is None][:1]
    after = {previous: label for label, previous in before.items() if previous is not None}
    while order and order[-1] in after and len(order) < len(texts):
        order.append(after[order[-1]])
    return order


def literal_order(texts: dict[str, str]) -> list[str]:
    """Red team S10b-B1's program: no arithmetic, a step feeds the one whose left side holds its
    result's digits; start at the step nobody feeds and follow the links."""
    result = {k: re.findall(r"\d+", text.rpartition("=")[2])[-1:] for k, text in texts.items()}
    operands = {k: re.findall(r"\d+", text.rpartition("=")[0]) for k, text in texts.items()}
    fed = {k: [j for j in texts if j != k and result[k] and result[k][0] in operands[j]] for k in texts}
    first = [k for k in texts if not any(k in fed[j] for j in texts)]
    order = first[:1] if len(first) == 1 else []
    while order and len(order) < len(texts) and len(fed[order[-1]]) == 1:
        order.append(fed[order[-1]][0])
    return order


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_walks_need_the_arithmetic_not_matching_digits(generator, difficulty):
    """Red team S10b-B1: a walk step wrote the value it starts from as a literal operand, so
    linking equal digit strings (no arithmetic) was the exact order of 192-197 of 200 tasks at
    every difficulty. Now the carried value is "previous result": undoing each step orders every
    walk, matching digits orders none."""
    walks = literal = arithmetic = 0
    for seed in range(60):
        task = generator.generate(seed, difficulty)
        if "/walk/" not in task.meta["source"]:
            continue
        texts = dict(zip("ABCDEFGHIJKL", shown_steps(task)))
        walks += 1
        literal += VERIFIER.verify(task, f"<answer>{', '.join(literal_order(texts))}</answer>").correct
        arithmetic += VERIFIER.verify(task, f"<answer>{', '.join(arithmetic_order(texts))}</answer>").correct
    assert walks >= 40 and literal <= 2 and arithmetic == walks, (walks, literal, arithmetic)


def test_walk_derivations_chain_distinct_results_within_bounds():
    """Each step starts from the result before it, written "previous result", never as digits;
    results are distinct and in bounds; and in every window of up to 8 steps exactly one order
    chains each step's input to the result before it (every order tried)."""
    from rlvr.generators.corpus import WALK_HIGH, WALK_LOW, walk_derivation

    for seed in range(40):
        steps = walk_derivation(seed, 10)
        assert all(WALK_STEP.match(step) for step in steps), steps
        results = [int(step.rpartition("= ")[2]) for step in steps]
        assert len(set(results)) == 10 and all(WALK_LOW <= r <= WALK_HIGH for r in results)
        for result, after in zip(results, steps[1:]):
            assert walk_input(after) == result
            assert str(result) not in re.findall(r"\d+", after.rpartition("=")[0])
        assert walk_derivation(seed, 10) == steps
        if seed < 6:
            size = 4 + seed % 5
            window = steps[seed % 3 : seed % 3 + size]
            chained = [
                order
                for order in itertools.permutations(range(size))
                if all(walk_input(window[b]) == int(window[a].rpartition("= ")[2]) for a, b in zip(order, order[1:]))
            ]
            assert chained == [tuple(range(size))], (seed, chained)


@pytest.mark.parametrize("count", (5, 8))
def test_the_surface_screen_passes_random_orders(count):
    """Red team S10b-B1: ten measures, each tested at the 5 % chance τ, rejected 2/3 of randomly
    shuffled windows, so the screen selected documents rather than leaks. The τ test is now
    family-wise (at most 5 % of random orders of any window; every order of 5 steps is checked
    here) and shuffled windows of the default corpus pass at 5 steps (where a sort of 20 is
    exact for a third of random orders, which the screen still refuses) and at 8."""
    from rlvr.generators.step_order import usable_window

    procedures = [d for d in load_corpus().documents if d.procedure and len(d.steps) >= count]
    rng = random.Random(count)
    passed = tried = 0
    for _ in range(200):
        document = rng.choice(procedures)
        start = rng.randint(0, len(document.steps) - count)
        window = document.steps[start : start + count]
        if usable_window(window):
            tried += 1
            passed += surface_leak(tuple(rng.sample(window, count))) is None
    assert passed / tried >= (0.6 if count == 5 else 0.9), (passed, tried)
    if count == 5:
        window = next(d.steps[:5] for d in procedures if "/walk/" in d.source)
        together = [
            order for order in itertools.permutations(window) if surface_leak(order) == "surface orders together"
        ]
        assert len(together) <= 0.05 * 120


def test_a_corpus_whose_only_window_leaks_its_order_is_refused(tmp_path):
    steps = ["Go", "Go on", "Go on now", "Go on now then", "Go on now then again"]  # lengths rise
    assert surface_leak(tuple(steps)) == "length" and surface_leak(tuple(steps[::-1])) == "length"
    assert surface_leak(("Boil water", "Add the pasta", "Stir it once", "Drain it", "Serve it warm")) is None
    path = tmp_path / "rising.jsonl"
    path.write_text(json.dumps({"steps": steps}) + "\n")
    with pytest.raises(ValueError, match="no surface measure gives away"):
        StepOrderGenerator(corpus=str(path), field="steps").generate(0, 0.5)
