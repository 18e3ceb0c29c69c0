"""Zebra verifier: read one cell or the whole grid from the answer, compare with the unique solution.

Input       A ``Task`` of rlvr.generators.zebra: ``task.answer`` = {"houses", "attributes",
            "values" {attribute: [values]}, "solution" {attribute: [value per house]},
            "question" {"kind": "cell", "subject", "target"} | {"kind": "grid", "attributes"}, …}; and the
            model's whole response.
Extraction  The last ``<answer>…</answer>`` outside ``<think>`` (rlvr.core.extract_answer).
Words       Value names are the puzzle's own values, matched as whole words in any case; no word
            belongs to two attributes, so each names its attribute. House labels are numbers
            ("3", "3rd", "house 3", "| 3 |"), "first … eighth house" and "house one … eight".
Cell        Target an attribute: exactly one distinct value of that attribute must appear (other
            words, other attributes' values and numbers are ignored: "The German owns the
            zebra"); two are a hedge. Target "house": exactly one distinct house label must
            appear. Correct when it is the solution's.
Grid        The block is cut into lines (at newlines and ";"). A line with value names belongs
            to the house it labels (it must label at most one), else to the current house: the
            one the nearest line above labelled ("House 2:" heading, then "- Colour: blue"
            lines), none after a line labelling several; values with no house are a format
            error. Only the question's "attributes" are judged (all when it names none); a
            (house, asked attribute) cell left empty counts as wrong; two values of one
            attribute in one house, or one value in two houses, is a format error in any
            attribute (a hedge scores 0). Repeating a value in its own house is allowed. Lines
            with no value name (headings, table rules, prose) give no values. Correct when every
            asked cell is the solution's (the solution is unique, so no other grid is right).
            ``partial=True``: for a well-formed grid, the H × asked cells right beyond chance:
            (right − c) / (cells − c), at least 0,
            never 1 unless all are right, with c the count a grid that ignores the clues (one
            random order of the houses per attribute) exceeds at most 5 % of the time
            (rlvr.verifiers.chance.right_in_permutations; red team S9-F3: with c its mean,
            cells / H, half of such grids earned credit, 0.03–0.07 on average); cell questions
            stay 0 or 1.
Bounds      At most ``MAX_ANSWER_CHARS`` characters and ``MAX_LINES`` lines; linear work.
"""

from __future__ import annotations

import re

from rlvr.core import SafeVerifier, Task, Verdict, extract_answer, flag_option
from rlvr.verifiers.chance import credit_above_chance, right_in_permutations

MAX_ANSWER_CHARS = 20_000
MAX_LINES = 400
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")
NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight")
LABEL = re.compile(
    r"\b(\d+)(?:st|nd|rd|th)?\b"
    rf"|\b({'|'.join(ORDINALS)})\s+house\b"
    rf"|\bhouse\s+({'|'.join(NUMBER_WORDS)})\b",
    re.IGNORECASE,
)
LINE_SPLIT = re.compile(r"[\n;]")
# a cell answer that says what the cell is not, or a house number below zero (red team s18 Z2: "not
# Audi" was read as Audi, "house -1" as house 1); no value name holds such a word
NEGATED = re.compile(r"\b(?:not|none|never|neither|nor|except|without|isn't|isn’t)\b|[-−]\s*\d", re.IGNORECASE)


def house_labels(text: str) -> set[int]:
    """Every house number a piece of text names (numbers too long to be a house become 0)."""
    labels = set()
    for digits, ordinal, word in LABEL.findall(text):
        if digits:
            labels.add(int(digits) if len(digits) <= 6 else 0)
        else:
            labels.add(ORDINALS.index(ordinal.lower()) + 1 if ordinal else NUMBER_WORDS.index(word.lower()) + 1)
    return labels


class ValueReader:
    """Finds a puzzle's value names in text: ``find(text)`` → [(attribute, value)] in order."""

    def __init__(self, values: dict[str, list[str]]):
        self.owner = {value.lower(): (attribute, value) for attribute, names in values.items() for value in names}
        names = sorted(self.owner, key=len, reverse=True)
        self.pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b", re.IGNORECASE)

    def find(self, text: str) -> list[tuple[str, str]]:
        return [self.owner[match.lower()] for match in self.pattern.findall(text)]


def read_cell(block: str, task_answer: dict) -> tuple[str | int | None, str]:
    """(the value or house number the block names, or None; reason) for a cell question."""
    if len(block) > MAX_ANSWER_CHARS:
        return None, f"answer longer than {MAX_ANSWER_CHARS} characters"
    if NEGATED.search(block):
        return None, "a negated answer (name the value itself)"
    target = task_answer["question"]["target"]
    if target == "house":
        labels = house_labels(block)
        if len(labels) != 1:
            return None, "no house number" if not labels else f"{len(labels)} different house numbers (a hedge)"
        return labels.pop(), "read"
    named = {value for attribute, value in ValueReader(task_answer["values"]).find(block) if attribute == target}
    if len(named) != 1:
        return None, f"no {target} named" if not named else f"{len(named)} different values of {target} (a hedge)"
    return named.pop(), "read"


def read_grid(block: str, task_answer: dict) -> tuple[dict[tuple[int, str], str] | None, str]:
    """({(house, attribute): value} or None, reason) for a grid answer; None means a format error."""
    if len(block) > MAX_ANSWER_CHARS:
        return None, f"answer longer than {MAX_ANSWER_CHARS} characters"
    lines = LINE_SPLIT.split(block)
    if len(lines) > MAX_LINES:
        return None, f"more than {MAX_LINES} lines"
    houses, reader = int(task_answer["houses"]), ValueReader(task_answer["values"])
    grid: dict[tuple[int, str], str] = {}
    home: dict[str, int] = {}
    current = None
    for line in lines:
        labels, found = house_labels(line), reader.find(line)
        if not found:
            if labels:
                current = next(iter(labels)) if len(labels) == 1 else None
            continue
        if len(labels) > 1:
            return None, f"line {line.strip()[:60]!r} names more than one house"
        house = next(iter(labels)) if labels else current
        if house is None:
            return None, f"line {line.strip()[:60]!r} gives values without a house number"
        if not 1 <= house <= houses:
            return None, f"there is no house {house}"
        current = house
        for attribute, value in found:
            if grid.setdefault((house, attribute), value) != value:
                return None, f"house {house} is given two values of {attribute} ({grid[house, attribute]}, {value})"
            if home.setdefault(value, house) != house:
                return None, f"{value} is placed in two houses ({home[value]} and {house})"
    return grid, "read"


class ZebraVerifier(SafeVerifier):
    """Judges a Zebra answer (module docstring); never raises."""

    deadline_s = 1.0

    def __init__(self, partial: bool = False):
        self.partial = flag_option("partial", partial)

    def check(self, task: Task, response: str) -> Verdict:
        block = extract_answer(response)
        if block is None:
            return Verdict.fail("no <answer>…</answer> block")
        answer = task.answer
        question = answer["question"]
        if question["kind"] == "cell":
            named, reason = read_cell(block, answer)
            if named is None:
                return Verdict.fail(f"unreadable answer: {reason}")
            expected = expected_cell(answer)
            if named == expected:
                return Verdict.success(answer=named)
            return Verdict(0.0, False, True, f"{named} is not the answer", {"answer": named})
        grid, reason = read_grid(block, answer)
        if grid is None:
            return Verdict.fail(f"unreadable answer: {reason}")
        solution, asked = answer["solution"], asked_attributes(answer)
        cells = [(house, attribute) for attribute in asked for house in range(1, answer["houses"] + 1)]
        right = sum(grid.get(cell) == solution[cell[1]][cell[0] - 1] for cell in cells)
        missing = sum(cell not in grid for cell in cells)
        details = {"right": right, "cells": len(cells), "missing": missing}
        if right == len(cells):
            return Verdict.success(**details)
        reason = f"{missing} cell(s) not given" if missing else f"{len(cells) - right} cell(s) wrong"
        if not self.partial:
            return Verdict(0.0, False, True, reason, details)
        chance = right_in_permutations(len(asked), answer["houses"])
        credit = credit_above_chance(right, len(cells), chance)
        return Verdict(min(credit, 1.0 - 1e-9), False, True, reason, details | {"chance_right": chance})


def asked_attributes(answer: dict) -> list[str]:
    """The attributes a grid question asks for (every one when the question names none)."""
    return list(answer["question"].get("attributes", answer["attributes"]))


def expected_cell(answer: dict) -> str | int:
    """The solution's value (or house number) for a cell question."""
    subject_attribute, subject_value = answer["question"]["subject"]
    house = answer["solution"][subject_attribute].index(subject_value) + 1
    target = answer["question"]["target"]
    return house if target == "house" else answer["solution"][target][house - 1]
