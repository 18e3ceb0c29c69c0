"""Text corpora for the self-supervised families (StepOrder-v0, Infill-v0).

A corpus is an ordered tuple of ``Document``s; each has a ``source`` ("rows.jsonl/17", "notes/a.md#2"),
``steps`` (its lines when it has several, else its sentences; StepOrder orders a window of
them) and ``sentences`` (Infill masks a span of one and shows the sentences around it).
``procedure`` is False for documents that are prose rather than a solution or procedure
(GSM8K's questions): StepOrder skips them.

Specs (the ``corpus=`` generator option):
  None or "math"                 the default: the project's own synthetic worked solutions
                                 (``meta["working"]`` of the first ``SYNTHETIC_KINDS`` Math-v0
                                 tasks over its default table whose problem is on the train side
                                 of Math-v0's split, and ``SYNTHETIC_CHAINS`` worked evaluations
                                 of Math-v0's nested fraction chains, innermost bracket first,
                                 each result substituted into the next step), and
                                 ``SYNTHETIC_PROSE`` paragraphs of logic-puzzle statements (random
                                 Zebra-style clues: prose for Infill, which StepOrder skips as
                                 unordered), and ``SYNTHETIC_WALKS`` running integer
                                 computations (``walk_derivation``; steps for StepOrder,
                                 no sentences for Infill). Nothing of a
                                 benchmark: until 2026-12-05 the default also read GSM8K's test
                                 set from ``../shared/data/math``, the file Math-v0 serves as a
                                 benchmark, so training StepOrder or Infill showed the worked
                                 answers of 84 % of its rows (red team S7-3); and a worked
                                 solution of a held-out Math-v0 problem would show a test answer
                                 the same way. Pass such a file explicitly (``.jsonl`` + ``field``)
                                 only if no evaluation of yours uses it.
  a folder                       every ``.txt`` and ``.md`` file under it (sorted by relative
                                 path), cut into documents at blank lines; heading lines dropped.
  a ``.jsonl`` file + ``field``  one document per row from that field: text, or a list of
                                 strings (taken as the steps).
  "hf:NAME[:CONFIG]:SPLIT:FIELD" a Hugging Face ``datasets`` dataset, never downloaded: NAME a
                                 folder written by ``save_to_disk``, or a dataset already in the
                                 local cache (loaded with the hub offline).

Cleaning (every source): ``<<…>>`` calculator notes (GSM8K) removed, heading lines (``# …``,
which includes GSM8K's final ``#### 18``) dropped, leading enumerations ("1.", "Step 3:", "ii.", "First,", "Step
one:", "-", "a)") stripped from lines — they would give the order away — and whitespace collapsed.
Everything is ordered by file, row and position, never by set or dict iteration, so a corpus
has the same documents in the same order in every process; ``fingerprint`` is a digest of them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import random
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any
from unittest import mock

DEFAULT_CORPUS = "math"
DEFAULT_LABEL = "math:synthetic"  # the default corpus: ids without a suffix
SYNTHETIC_KINDS = 1_200  # Math-v0 tasks over its default table, difficulties cycling 0, 0.25, … 1
SYNTHETIC_CHAINS = 400  # worked nested fraction chains, nesting cycling 2 … 8 (3 … 9 steps)
SYNTHETIC_PROSE = 600  # paragraphs of 6-10 random Zebra-style clue sentences
SENTENCE_DRAWS = 16  # draws of a synthetic prose sentence before it is left out as written already
SYNTHETIC_WALKS = 600  # worked running computations over bounded integers, 8-12 steps (StepOrder only)
WALK_LOW, WALK_HIGH = 10, 999  # every value and additive constant of a walk; multipliers are 2-9
CARRIED = "previous result"  # how a walk step names the value it starts from
SYNTHETIC_SEED_BASE = 1_000  # chain k is drawn by random.Random(SYNTHETIC_SEED_BASE + k)
MAX_DOCUMENTS = 200_000
MAX_FILE_BYTES = 50_000_000
MAX_STEP_CHARS = 400  # longer steps and sentences are kept out of tasks (StepOrder, Infill)

CALCULATOR_NOTE = re.compile(r"<<[^<>\n]*>>")
HEADING = re.compile(r"^\s{0,3}#+(\s|$)")
# A line's leading enumeration, one of: "1." "(2)" "3:" "Step 4." "step 5" (any number, a roman
# numeral up to xxxix or a number word up to twenty after "Step"), "ii." "(iv)", a bullet, "a)";
# or an ordinal with a mark after it: "6th," "First," "Eighth:" "Finally," "Second step:"
# (ordinal words up to twentieth; "Second derivative" and "Last year" stay whole).
# Red team s22 B-F1: "ii." "First," and "Step one:" were kept, and sorting by them put about half
# of a numbered corpus's windows in order.
ROMAN_NUMERAL = r"(?=[ivx])x{0,3}(?:ix|iv|v?i{0,3})"
NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen"
    "|eighteen|nineteen|twenty"
)
ORDINAL_WORDS = (
    "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|fourteenth"
    "|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|firstly|secondly|thirdly|finally|lastly|last"
)
ENUMERATION = re.compile(
    rf"^\s*(?:(?:step\s*)?\(?\d{{1,3}}[.):]|\(?{ROMAN_NUMERAL}[.)]"
    rf"|step\s+(?:\d{{1,3}}|{NUMBER_WORDS}|{ROMAN_NUMERAL})\b[.:]?"
    r"|[-*•+]|\(?[a-z][.)])\s+"
    rf"|^\s*(?P<ordinal>(?:\d{{1,3}}(?:st|nd|rd|th)|{ORDINAL_WORDS})(?:\s+step\b[,.:)]?|[,.:)]))\s+",
    re.IGNORECASE,
)
SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[A-Z0-9$\\(\"'])")
ABBREVIATION = re.compile(r"(?:^|\s)(?:Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|vs|etc|approx|No|Fig|Eq)\.$")


@dataclass(frozen=True)
class Document:
    """One solution, procedure or passage of a corpus."""

    source: str
    steps: tuple[str, ...]
    sentences: tuple[str, ...]
    procedure: bool = True


@dataclass(frozen=True)
class Corpus:
    """The documents of one ``corpus=`` spec, in a fixed order."""

    label: str
    documents: tuple[Document, ...]

    @functools.cached_property
    def fingerprint(self) -> str:
        """10 hex digits of sha256 over every document's source and steps."""
        digest = hashlib.sha256()
        for document in self.documents:
            digest.update(
                json.dumps([document.source, document.steps, document.sentences, document.procedure]).encode()
            )
        return digest.hexdigest()[:10]


def collapse(text: str) -> str:
    return " ".join(text.split())


def split_sentences(text: str) -> list[str]:
    """Sentences of one line of text: cut after . ! ? followed by space and a capital, digit,
    ``$``, ``\\`` or bracket (so "3.5", "e.g. this" and "Mr. Smith" stay whole)."""
    sentences: list[str] = []
    for part in (collapse(part) for part in SENTENCE_END.split(collapse(text))):
        if sentences and ABBREVIATION.search(sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {part}"  # "Mr. Smith" is one sentence
        elif part:
            sentences.append(part)
    return sentences


INTEGER = re.compile(r"\d+")
ROMAN_VALUES = {
    roman: value
    for value, roman in enumerate(
        [
            "i",
            "ii",
            "iii",
            "iv",
            "v",
            "vi",
            "vii",
            "viii",
            "ix",
            "x",
            "xi",
            "xii",
            "xiii",
            "xiv",
            "xv",
            "xvi",
            "xvii",
            "xviii",
            "xix",
            "xx",
        ],
        start=1,
    )
}
WORD_VALUES = {
    **{word: value for value, word in enumerate(NUMBER_WORDS.split("|"), start=1)},
    **{word: value for value, word in enumerate(ORDINAL_WORDS.split("|")[:20], start=1)},
}


def numbered_steps(steps: tuple[str, ...] | list[str]) -> bool:
    """Whether the steps still count along in a way the cleaning did not strip (red team s22
    second pass: "**Step 1:**", "1.1", "- 1.", "[Step 1]", "1.Mix", "①", "S1:", "Step 1/8",
    fullwidth digits, a trailing "(step 1)" each let a sort by the number order every window):
    in the steps' NFKC forms, the first, second or last whole number of every step, or the
    first word read as a roman numeral or a number or ordinal word, runs k, k + 1, k + 2, …
    From four steps (StepOrder's fewest; three-step runs happen by chance: 4 of GSM8K's 1,319
    solutions); a document numbered so shows its order without being read."""
    if len(steps) < 4:
        return False
    forms = [unicodedata.normalize("NFKC", step) for step in steps]
    integers = [[int(n) for n in INTEGER.findall(form)] for form in forms]
    words = [re.sub(r"[^a-z]", " ", form.casefold()).split()[:2] for form in forms]
    first = [row[0] if row else None for row in integers]
    second = [row[1] if len(row) > 1 else None for row in integers]
    last = [row[-1] if row else None for row in integers]
    sequences = [first, second, last]
    for lead in (0, 1):  # "Step two" and "ii." alike: the first or the second word
        sequences.append(
            [ROMAN_VALUES.get(w[lead], WORD_VALUES.get(w[lead])) if len(w) > lead else None for w in words]
        )
    return any(
        None not in sequence and all(b == a + 1 for a, b in zip(sequence, sequence[1:])) for sequence in sequences
    )


def clean_lines(text: str) -> list[str]:
    """The non-empty lines of ``text`` with notes, headings and enumerations removed; a line
    that lost an ordinal starts with a capital ("First, mix …" → "Mix …"), so which steps were
    numbered with words (often only the first and last) does not show."""
    lines = []
    for line in CALCULATOR_NOTE.sub("", text).splitlines():
        if HEADING.match(line):
            continue
        numbered = ENUMERATION.match(line)
        if numbered:
            line = line[numbered.end() :]
            if numbered.group("ordinal"):  # "First, mix" → "Mix", as "1. Mix" → "Mix"
                line = line[:1].upper() + line[1:]
        line = collapse(line)
        if line:
            lines.append(line)
    return lines


def document_of(source: str, value: Any, procedure: bool = True) -> Document | None:
    """A Document from text (lines → steps when there are several, else sentences) or a list
    of strings (the steps); None when nothing is left after cleaning."""
    if isinstance(value, (list, tuple)):
        steps = [line for item in value if isinstance(item, str) for line in [" ".join(clean_lines(item))] if line]
    elif isinstance(value, str):
        lines = clean_lines(value)
        steps = lines if len(lines) > 1 else [s for line in lines for s in split_sentences(line)]
    else:
        return None
    if not steps:
        return None
    sentences = tuple(s for step in steps for s in split_sentences(step))
    return Document(source, tuple(steps), sentences, procedure)


def blocks(text: str) -> list[str]:
    """Paragraph blocks of a text file (cut at blank lines)."""
    return [block for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if block.strip()]


def read_text(path: Path) -> str:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValueError(f"{path} is larger than {MAX_FILE_BYTES} bytes")
    return path.read_text(encoding="utf-8", errors="replace")


def folder_documents(folder: Path) -> Iterable[Document]:
    files = sorted(
        (p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in (".txt", ".md")),
        key=lambda p: p.relative_to(folder).as_posix(),
    )
    for path in files:
        relative = path.relative_to(folder).as_posix()
        for index, block in enumerate(blocks(read_text(path))):
            document = document_of(f"{relative}#{index}", block)
            if document is not None:
                yield document


def jsonl_rows(path: Path) -> Iterable[tuple[int, dict]]:
    for index, line in enumerate(read_text(path).splitlines()):
        if line.strip():
            row = json.loads(line)
            if isinstance(row, dict):
                yield index, row


def jsonl_documents(path: Path, field: str) -> Iterable[Document]:
    for index, row in jsonl_rows(path):
        document = document_of(f"{path.stem}/{index}", row.get(field))
        if document is not None:
            yield document


def chain_value(operands: list[Fraction], ops: list[str]) -> Fraction | None:
    """The exact value of ``operands[0] ops[0] operands[1] …`` (· and ÷ first); None on ÷ 0."""
    total, sign, product = Fraction(0), 1, operands[0]
    for op, operand in zip(ops, operands[1:]):
        if op in "*/":
            if op == "/" and operand == 0:
                return None
            product = product * operand if op == "*" else product / operand
        else:
            total, sign, product = total + sign * product, (1 if op == "+" else -1), operand
    return total + sign * product


def chain_derivation(seed: int, nesting: int) -> list[str] | None:
    """A worked evaluation of a nested fraction chain (Math-v0's ``random_chain``), innermost
    bracket first, each step with the bracket before it replaced by its value — so the order
    follows the data (each result feeds the next step), not the steps' lengths. None when a
    division by zero appears."""
    from rlvr.generators.math import Chain, chain_latex, latex_rational, random_chain

    chain = random_chain(
        random.Random(SYNTHETIC_SEED_BASE + seed), {"terms": 3, "nesting": nesting, "max_coefficient": 12}, 0
    )
    levels = [chain]
    while any(isinstance(operand, Chain) for operand in levels[-1].operands):
        levels.append(next(operand for operand in levels[-1].operands if isinstance(operand, Chain)))
    steps, inner = [], None
    for level in reversed(levels):
        operands = [inner if isinstance(operand, Chain) else operand for operand in level.operands]
        inner = chain_value(operands, level.ops)
        if inner is None:
            return None
        steps.append(f"${chain_latex(Chain(operands, level.ops))} = {latex_rational(inner)}$")
    return steps


def synthetic_math_documents() -> Iterable[Document]:
    """Worked solutions of Math-v0 tasks (their ``meta["working"]``), made by the Math
    generator with fixed seeds, but none of a problem on the held-out side of Math-v0's split
    (its test tasks' answers would be in every StepOrder and Infill task made from them), and
    worked evaluations of nested fraction chains (``chain_derivation``): the same documents in
    every process."""
    from rlvr.api import is_held_out
    from rlvr.generators.math import MathGenerator

    generator = MathGenerator()
    for seed in range(SYNTHETIC_KINDS):
        task = generator.generate(seed, (seed % 5) / 4)
        if is_held_out(task):
            continue
        document = document_of(f"math-synthetic/{task.id}", task.meta["working"])
        if document is not None:
            yield document
    for seed in range(SYNTHETIC_CHAINS):
        steps = chain_derivation(seed, 2 + seed % 7)
        document = document_of(f"math-synthetic/chain/{seed}", steps) if steps else None
        if document is not None:
            yield document


def hf_documents(spec: str) -> Iterable[Document]:
    parts = spec[len("hf:") :].split(":")
    if len(parts) not in (3, 4) or not all(parts):
        raise ValueError(f"corpus {spec!r}: write hf:NAME:SPLIT:FIELD or hf:NAME:CONFIG:SPLIT:FIELD")
    name, config, split, field = (parts[0], None, *parts[1:]) if len(parts) == 3 else parts
    import datasets
    import huggingface_hub.constants

    if Path(name).is_dir():
        loaded = datasets.load_from_disk(name)
        if isinstance(loaded, datasets.DatasetDict):
            if split not in loaded:
                raise ValueError(f"corpus {spec!r}: {name} has no split {split!r} (has {', '.join(loaded)})")
            loaded = loaded[split]
    else:
        try:
            with (
                mock.patch.object(datasets.config, "HF_HUB_OFFLINE", True),
                mock.patch.object(huggingface_hub.constants, "HF_HUB_OFFLINE", True),
            ):  # never download
                loaded = datasets.load_dataset(name, config, split=split, download_mode="reuse_cache_if_exists")
        except Exception as error:  # offline: anything not already cached
            raise ValueError(
                f"corpus {spec!r}: not loadable from a local folder or the local cache ({type(error).__name__})"
            ) from None
    if field not in loaded.column_names:
        raise ValueError(f"corpus {spec!r}: no field {field!r} (fields: {', '.join(loaded.column_names)})")
    for index, value in enumerate(loaded[field]):
        document = document_of(f"{Path(name).name}/{split}/{index}", value)
        if document is not None:
            yield document


def take(documents: Iterable[Document], label: str) -> Corpus:
    kept = []
    for document in documents:
        kept.append(document)
        if len(kept) > MAX_DOCUMENTS:
            raise ValueError(f"corpus {label} has more than {MAX_DOCUMENTS} documents")
    if not kept:
        raise ValueError(f"corpus {label} has no usable text")
    return Corpus(label, tuple(kept))


def id_suffix(corpus: Corpus) -> str:
    """What a task id of this corpus ends with: nothing for the default corpus, else
    ``/c<fingerprint>`` — other documents, other ids."""
    return "" if corpus.label == DEFAULT_LABEL else f"/c{corpus.fingerprint}"


def synthetic_prose_documents() -> Iterable[Document]:
    """Paragraphs of statements about people in a row of houses, in the Zebra family's wording
    (``rlvr.generators.zebra.render``), their facts drawn at random by ``random.Random`` seeded
    per paragraph: prose (``procedure=False``) with many similar spans, no puzzle and no answer
    of any task. No sentence is in two paragraphs (one already written is drawn again, up to
    ``SENTENCE_DRAWS`` times, then left out): Infill splits by paragraph, and a sentence a test
    task blanks must not be shown whole by a train task (red team s21 B4: 470 of 4,177
    sentences were in several paragraphs, and 36 of 200 test blanks at d = .5 were whole in
    train passages)."""
    from rlvr.families.zebra import ATTRIBUTES
    from rlvr.generators.zebra import ARITY, render

    names = sorted(ATTRIBUTES)
    written: set[str] = set()
    for index in range(SYNTHETIC_PROSE):
        rng = random.Random(f"rlvr-corpus-prose|{index}")
        houses = rng.randint(4, 6)
        sentences = []
        for _ in range(rng.randint(6, 10)):
            for _ in range(SENTENCE_DRAWS):
                kind = rng.choice(sorted(ARITY))
                attributes = rng.sample(names, ARITY[kind])
                people = tuple((attribute, rng.choice(ATTRIBUTES[attribute])) for attribute in attributes)
                sentence = render(rng, (kind, people, rng.randrange(houses)), lambda item: item, houses)
                if sentence not in written:
                    written.add(sentence)
                    sentences.append(sentence)
                    break
        document = document_of(f"prose-synthetic/{index}", " ".join(sentences), procedure=False)
        if document is not None:
            yield document


def walk_step(rng: random.Random, value: int) -> tuple[str, int, int | None]:
    """One step of a running computation from ``value``: (text, result, additive constant or
    None), the result in [WALK_LOW, WALK_HIGH], drawn among +, −, ·, ÷ (the carried value on
    either side of + and ·, and of − when the constant is the larger). The carried value is
    written "previous result", never as its digits (red team S10b-B1: written out, it linked
    each step to the one before by string matching alone)."""
    moves = []
    if value + WALK_LOW <= WALK_HIGH:
        moves.append("+")
    if value - WALK_LOW >= WALK_LOW or value + WALK_LOW <= WALK_HIGH:
        moves.append("-")
    multipliers = [k for k in range(2, 10) if value * k <= WALK_HIGH]
    divisors = [k for k in range(2, 10) if value % k == 0 and value // k >= WALK_LOW]
    moves += ["*"] * bool(multipliers) + ["/"] * bool(divisors)
    move = rng.choice(moves)
    if move == "+":
        constant = rng.randint(WALK_LOW, WALK_HIGH - value)
        terms = [CARRIED, str(constant)] if rng.random() < 0.5 else [str(constant), CARRIED]
        return f"{terms[0]} + {terms[1]} = {value + constant}", value + constant, constant
    if move == "-":
        below = value - WALK_LOW >= WALK_LOW and (value + WALK_LOW > WALK_HIGH or rng.random() < 0.5)
        if below:
            constant = rng.randint(WALK_LOW, value - WALK_LOW)
            return f"{CARRIED} - {constant} = {value - constant}", value - constant, constant
        constant = rng.randint(value + WALK_LOW, WALK_HIGH)
        return f"{constant} - {CARRIED} = {constant - value}", constant - value, constant
    if move == "*":
        factor = rng.choice(multipliers)
        terms = [CARRIED, str(factor)] if rng.random() < 0.5 else [str(factor), CARRIED]
        return f"{terms[0]} · {terms[1]} = {value * factor}", value * factor, None
    factor = rng.choice(divisors)
    return f"{CARRIED} ÷ {factor} = {value // factor}", value // factor, None


def walk_derivation(seed: int, count: int) -> list[str]:
    """A running computation of ``count`` steps over integers in [WALK_LOW, WALK_HIGH], each
    step starting from the result of the one before ("previous result + 17 = 45"): its values
    wander rather than grow, so no surface measure (a step's largest number, its length, its
    result's size) tracks its position, and the order follows only from undoing each step
    (45 - 17 = 28: the step whose result is 28 comes just before). Every result is distinct and
    none equals the start value or an additive constant, so in any window exactly one step's
    input is no other step's result (the first) and each other step has exactly one
    predecessor: the order is unique."""
    rng = random.Random(f"rlvr-corpus-walk|{seed}")
    while True:
        start = rng.randint(WALK_LOW, WALK_HIGH)
        steps, results, constants, value = [], [], {start}, start
        for _ in range(count):
            text, value, constant = walk_step(rng, value)
            steps.append(text)
            results.append(value)
            constants.add(constant)
        if len(set(results)) == count and not constants & set(results):
            return steps


def synthetic_walk_documents() -> Iterable[Document]:
    """``SYNTHETIC_WALKS`` running computations (``walk_derivation``, 8-12 steps): procedures
    for StepOrder with no ``sentences``, so Infill's sentences are the same as before them."""
    for seed in range(SYNTHETIC_WALKS):
        yield Document(f"math-synthetic/walk/{seed}", tuple(walk_derivation(seed, 8 + seed % 5)), ())


@functools.lru_cache(maxsize=1)
def default_corpus() -> Corpus:
    """The project's synthetic maths solutions and prose (module docstring)."""
    return take([*synthetic_math_documents(), *synthetic_prose_documents(), *synthetic_walk_documents()], DEFAULT_LABEL)


def load_corpus(spec: str | os.PathLike | None = None, field: str | None = None) -> Corpus:
    """The corpus of a ``corpus=`` spec (module docstring); a one-line ValueError otherwise."""
    if spec is None or spec == DEFAULT_CORPUS:
        if field is not None:
            raise ValueError("field= goes with a .jsonl corpus")
        return default_corpus()
    spec = str(spec)
    if spec.startswith("hf:"):
        if field is not None:
            raise ValueError("an hf: corpus names its field in the spec: hf:NAME[:CONFIG]:SPLIT:FIELD")
        return take(hf_documents(spec), spec)
    path = Path(spec)
    if path.is_dir():
        if field is not None:
            raise ValueError("field= goes with a .jsonl corpus, not a folder")
        return take(folder_documents(path), path.name)
    if path.is_file() and path.suffix == ".jsonl":
        if not field:
            raise ValueError(f"corpus {spec}: a .jsonl corpus needs field= (the field holding the text)")
        return take(jsonl_documents(path, field), f"{path.name}:{field}")
    raise ValueError(
        f"corpus must be 'math', a folder of .txt/.md files, a .jsonl file (with field=) or "
        f"hf:NAME[:CONFIG]:SPLIT:FIELD; got {spec!r}"
    )
