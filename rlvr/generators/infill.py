"""How Infill tasks are made: a span masked in a corpus sentence, distractors sampled from the corpus.

The family's contract (task, answer, verifier, difficulty, version history) is the docstring of
``rlvr.families.infill``; corpora are read by ``rlvr.generators.corpus``.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import itertools
import math
import random
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from rlvr.core import Task, TaskGenerator
from rlvr.families.infill import EXACT_MAX_WORDS, FAMILY
from rlvr.generators.corpus import MAX_STEP_CHARS, Corpus, id_suffix, load_corpus
from rlvr.verifiers.infill import normalise, read_letter

BLANK = "[BLANK]"
CONTEXT_SENTENCES = 2  # shown either side of the masked sentence
POOL_SIZE = 64  # eligible distractor spans ranked per task
MAX_POOL_DRAWS = 3_000  # random spans tried while filling the pool
MAX_SPAN_TRIES = 64  # masked spans tried per task before giving up (32 left 2 in 3,000 d=1 seeds unmade)
BALANCED_TRIES = 28  # later tries may leave the surface cues unbalanced (a small corpus)
MAX_JACCARD = 0.5
# chance that neighbouring places by passage overlap tie (``tie_run``): the answer's overlap is then shared
# as often as a distractor's ("an overlap no other candidate has": 0.29 against 1/6 at d = 1 with 0.5)
TIE = 0.8
MARKUP = frozenset("\\{}^_<>")  # LaTeX and tags: such words are never masked or offered
EDGE_PUNCTUATION = ".,;:!?\"'()[]“”‘’"
VOWELS = "aeiou"


@dataclass(frozen=True)
class Span:
    """A span of a corpus sentence: words [start, start + length) of sentence ``sentence``."""

    sentence: int  # index into the generator's sentence table
    start: int
    length: int
    text: str  # the words joined, edge punctuation removed
    lead: str  # punctuation before the text that stays outside the blank
    trail: str  # punctuation after it

    @property
    def words(self) -> list[str]:
        return self.text.split()


@functools.lru_cache(maxsize=1 << 16)
def admissible(word: str) -> bool:
    return any(ch.isalnum() for ch in word) and not any(ch in MARKUP for ch in word)


@functools.lru_cache(maxsize=1 << 16)
def normal_word(word: str) -> str:
    return normalise(word)


def normal(text: str) -> str:
    """``rlvr.verifiers.infill.normalise`` word by word (cached per word; the same result
    except for characters whose NFKC form holds a space)."""
    return " ".join(w for w in map(normal_word, text.split()) if w)


def kind_of(words: list[str]) -> str:
    """numeric (every word has a digit), mixed (some) or words (none)."""
    digits = sum(any(ch.isdigit() for ch in w) for w in words)
    return "numeric" if digits == len(words) else "mixed" if digits else "words"


def position_of(start: int, length: int, total: int) -> str:
    return "start" if start == 0 else "end" if start + length == total else "middle"


@functools.lru_cache(maxsize=1 << 16)
def word_set(text: str) -> frozenset[str]:
    return frozenset(normal(text).split())


def content_words(text: str) -> set[str]:
    """Normalised words of four letters or more, and numbers: what a passage and a span share
    by topic."""
    return {w for w in word_set(text) if (len(w) >= 4 and w.isalpha()) or any(ch.isdigit() for ch in w)}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def bigrams(text: str) -> list[str]:
    text = text.casefold()
    return [text[i : i + 2] for i in range(len(text) - 1)]


@functools.lru_cache(maxsize=1 << 16)
def bigram_counts(text: str) -> tuple[dict[str, int], int]:
    """Each bigram's count, and how many there are."""
    grams = bigrams(text)
    return collections.Counter(grams), len(grams)


@functools.lru_cache(maxsize=1 << 16)
def dice(candidate: str, answer: str) -> float:
    """Character-bigram Dice overlap (case-folded, counted with multiplicity), in [0, 1]."""
    (a, m), (b, n) = bigram_counts(candidate), bigram_counts(answer)
    common = sum(min(count, b[gram]) for gram, count in a.items() if gram in b)
    return 2 * common / (m + n) if m and n else 0.0


def similarity(candidate: str, answer: str, context: set[str]) -> float:
    """Weighted mean (1 : 1 : 2) of length closeness (characters), character-bigram Dice overlap
    with the answer and topic match (the candidate's words shared with the passage ``context``,
    relative to the answer's, capped at 1), in [0, 1]."""
    closeness = 1 - abs(len(candidate) - len(answer)) / max(len(candidate), len(answer), 1)
    topic = min(1.0, len(word_set(candidate) & context) / max(1, len(word_set(answer) & context)))
    return (closeness + dice(candidate, answer) + 2 * topic) / 4


def tie_run(rng: random.Random, place: int, count: int, tie: float = TIE) -> tuple[int, int]:
    """(how many places come before, how many others share) the run holding ``place`` when
    places 0 … ``count`` are cut into runs, each neighbouring pair joined with probability
    ``tie``. The cuts are drawn before ``place`` is looked at, so when ``place`` is uniform and
    every place of its run is equally likely to be the one a reader sees, the place seen is
    uniform too, whatever ``tie`` is."""
    joined = [rng.random() < tie for _ in range(count)]  # joined[i]: places i and i + 1 are one run
    first, last = place, place
    while first and joined[first - 1]:
        first -= 1
    while last < count and joined[last]:
        last += 1
    return first, last - first


def centrality(candidates: list[str], alike: Callable[[str, str], float]) -> list[float]:
    """Per candidate, the summed likeness to it of the others, ``alike(other, candidate)`` (as
    ``similarity`` scores a distractor against the answer)."""
    return [
        sum(alike(other, text) for j, other in enumerate(candidates) if j != i) for i, text in enumerate(candidates)
    ]


@functools.lru_cache(maxsize=1 << 16)
def too_close(candidate: str, other: str) -> bool:
    """Equal, containing, contained, or word-set Jaccard above MAX_JACCARD (normalised)."""
    c, o = normal(candidate), normal(other)
    if not c or c == o or f" {o} " in f" {c} " or f" {c} " in f" {o} ":
        return True
    return jaccard(set(c.split()), set(o.split())) > MAX_JACCARD


class InfillGenerator(TaskGenerator):
    """Infill tasks from the corpus ``corpus=`` (``field=`` for a JSONL corpus)."""

    declaration = FAMILY

    def __init__(self, corpus: str | None = None, field: str | None = None):
        self.corpus: Corpus = load_corpus(corpus, field)
        self.id_suffix = id_suffix(self.corpus)
        # (document index, sentence index, words) of every sentence short enough to show
        self.sentences = tuple(
            (d, s, tuple(text.split()))
            for d, document in enumerate(self.corpus.documents)
            for s, text in enumerate(document.sentences)
            if len(text) <= MAX_STEP_CHARS
        )
        if not self.sentences:
            raise ValueError(f"corpus {self.corpus.label} has no sentence of at most {MAX_STEP_CHARS} characters")
        self._by_word: dict[str, list[int]] | None = None

    def sentences_with(self, word: str) -> list[int]:
        """Indices of the sentences holding the content word ``word`` (built on first use)."""
        if self._by_word is None:
            index: dict[str, list[int]] = {}
            for position, (_, _, words) in enumerate(self.sentences):
                for key in sorted(content_words(" ".join(words))):
                    index.setdefault(key, []).append(position)
            self._by_word = index
        return self._by_word.get(word, [])

    def generate(self, seed: int, difficulty: float = 0.5, **overrides: Any) -> Task:
        task = super().generate(seed, difficulty, **overrides)
        return dataclasses.replace(task, id=task.id + self.id_suffix) if self.id_suffix else task

    # -- spans -------------------------------------------------------------------------------

    def span_at(self, sentence: int, start: int, length: int) -> Span | None:
        """The span, or None when a word is not plain text or nothing is left after trimming."""
        words = self.sentences[sentence][2][start : start + length]
        if len(words) != length or not all(admissible(w) for w in words):
            return None
        raw = " ".join(words)
        text = raw.strip(EDGE_PUNCTUATION)
        if not text or not admissible(text):
            return None
        lead = raw[: raw.index(text)]
        return Span(sentence, start, length, text, lead, raw[len(lead) + len(text) :])

    def preceding_article(self, span: Span) -> bool:
        return span.start > 0 and self.sentences[span.sentence][2][span.start - 1].lower() in ("a", "an")

    def draw_answer(self, rng: random.Random, length: int) -> Span | None:
        sentence = rng.randrange(len(self.sentences))
        total = len(self.sentences[sentence][2])
        if total < length + 1:
            return None
        return self.span_at(sentence, rng.randint(0, total - length), length)

    def distractor_pool(self, rng: random.Random, answer: Span, context_text: str) -> list[Span]:
        """Up to POOL_SIZE eligible distractor spans (contract rules) from other documents, in
        the order drawn: three draws in four from sentences sharing a topic word (``content_words``)
        with the passage, a middle span then placed over such a word.  Every span has the
        answer's word count (a band of counts around it put the answer in the middle)."""
        size = answer.length
        answer_words = self.sentences[answer.sentence][2]
        position = position_of(answer.start, size, len(answer_words))
        kind = kind_of(answer.words)
        article = self.preceding_article(answer)
        document = self.sentences[answer.sentence][0]
        topic = content_words(context_text)
        neighbours = sorted(
            {i for word in sorted(topic) for i in self.sentences_with(word) if self.sentences[i][0] != document}
        )
        pool: list[Span] = []
        seen = {normal(answer.text)}
        for draw in range(MAX_POOL_DRAWS):
            if len(pool) >= POOL_SIZE:
                break
            # three draws in four from a sentence sharing a topic word with the passage (another document)
            near = bool(neighbours) and draw % 4 != 0
            sentence = neighbours[rng.randrange(len(neighbours))] if near else rng.randrange(len(self.sentences))
            words = self.sentences[sentence][2]
            total = len(words)
            if total < size + 1 or self.sentences[sentence][0] == document:
                continue
            if position == "start":
                start = 0
            elif position == "end":
                start = total - size
            elif total >= size + 2:
                first, last = 1, total - size - 1
                shared = [j for j, word in enumerate(words) if near and normal_word(word) in topic]
                if shared:  # a middle span around a word the passage also has
                    j = shared[rng.randrange(len(shared))]
                    first, last = max(first, j - size + 1), min(last, j)
                start = rng.randint(first, last) if first <= last else rng.randint(1, total - size - 1)
            else:
                continue
            span = self.span_at(sentence, start, size)
            if (
                span is None
                or kind_of(span.words) != kind
                or normal(span.text) in seen
                or too_close(span.text, answer.text)
            ):
                continue
            if article and (span.text[0].lower() in VOWELS) != (answer.text[0].lower() in VOWELS):
                continue
            seen.add(normal(span.text))
            pool.append(span)
        return pool

    def pick_distractors(
        self,
        rng: random.Random,
        pool: list[Span],
        answer: Span,
        count: int,
        closeness: float,
        context: set[str],
        below: tuple[int, int, int],
        hub: tuple[int, int] | None = None,
        balanced: bool = True,
    ) -> list[Span]:
        """``count`` mutually distinct distractors from the top of the pool ranked by similarity.
        Two surface cues are balanced: ``below`` = (how many distractors are shorter than the
        answer, a tie counting as shorter on a coin flip; how many share fewer words with the
        passage; how many share as many), drawn once per task (``build``): the first uniformly
        from 0 … count, the other two as the run of equal overlap holding the answer's place, a
        uniform draw (``tie_run``), so that "take the longest / shortest / middle-length
        candidate" and "take the one sharing most (fewest) words with the passage", ties broken
        at random or to the first listed, are right about as often as a guess, and the answer's
        overlap is shared with another candidate about as often as a distractor's. ``hub``
        (choice mode): how many distractors are more central than the answer (``centrality``:
        the others' summed likeness to a candidate) by character-bigram ``dice``, drawn
        uniformly, and by ``similarity``, the answer's overlap place (that score is mostly
        topic, which ranks a candidate by how few words it shares with the passage, so this
        place follows the overlap draw rather than fight it). So "take the candidate most
        (least) like the others" is right about as often as a guess too, although every
        distractor is picked for its likeness to the answer. From the first set meeting
        ``below``, a distractor is swapped for a span on the same sides of both cues (in the
        order tried: window first) while that brings the places nearer their targets; then any
        distractor from beyond the window for a closer span, while the places hold (a peripheral
        answer needs distractors more alike to each other than to it: similarity 1 gives up some
        likeness for this). ``balanced``: return [] rather than miss ``below`` or ``hub``; else
        the set found."""
        ranked = sorted(
            pool, key=lambda span: -similarity(span.text, answer.text, context)
        )  # stable: ties keep draw order
        window = max(count, math.ceil((1 - closeness) * len(ranked)))
        head = ranked[:window]
        rng.shuffle(head)
        shared = len(word_set(answer.text) & context)
        coins = {span: rng.random() < 0.5 for span in ranked}  # length ties go below or above by a coin

        @functools.cache
        def sides(span: Span) -> tuple[bool, int]:
            length, theirs, overlap = len(span.text), len(answer.text), len(word_set(span.text) & context)
            return length < theirs or (length == theirs and coins[span]), (overlap > shared) - (overlap < shared)

        def fill(order: list[Span], passes: tuple[bool, ...]) -> list[Span]:
            quota = [{True: below[0], False: count - below[0]}, {-1: below[1], 0: below[2], 1: count - sum(below[1:])}]
            chosen: list[Span] = []
            for strict in passes:
                for span in order:
                    side = sides(span)
                    if span in chosen or (strict and not all(quota[i][side[i]] > 0 for i in range(2))):
                        continue
                    if all(not too_close(span.text, other.text) for other in chosen):
                        chosen.append(span)
                        for i in range(2):
                            quota[i][side[i]] -= 1
                        if len(chosen) == count:
                            return chosen
            return []

        measures = (dice, functools.cache(lambda text, other: similarity(text, other, context)))

        def miss(distractors: list[Span]) -> float:
            """How far the answer's centralities are from the bands with their targets' numbers of
            distractors above it: (``dice``, ``hub[0]``) and (``similarity``, ``hub[1]``)."""
            total = 0.0
            for alike, target in zip(measures, hub):
                mine, *theirs = centrality([answer.text, *(span.text for span in distractors)], alike)
                theirs.sort(reverse=True)
                above = theirs[target - 1] if target else math.inf
                under = theirs[target] if target < count else -math.inf
                total += max(0.0, under - mine, mine - above)
            return total

        order = head + ranked[window:]
        chosen = fill(order, (True,))
        if not chosen:
            return [] if balanced else fill(order, (True, False))
        if hub is None:
            return chosen

        def swaps(current: list[Span], spans: list[Span]) -> Iterator[tuple[int, list[Span]]]:
            """(i, the set) for each swap of distractor i for one of ``spans`` on the same sides of
            both cues and not too close to the others."""
            for span in spans:
                if span in current or sides(span) not in map(sides, current):
                    continue
                close = [too_close(span.text, other.text) for other in current]
                for i in range(count):
                    if sides(span) == sides(current[i]) and not any(close[:i] + close[i + 1 :]):
                        yield i, [*current[:i], span, *current[i + 1 :]]

        score = miss(chosen)
        while score:  # the first swap (window first) that brings the places nearer their targets
            step = next(((trial, new) for _, trial in swaps(chosen, order) if (new := miss(trial)) < score), None)
            if step is None:
                return [] if balanced else chosen
            chosen, score = step
        rank = {span: j for j, span in enumerate(ranked)}
        while closer := next(  # then closer spans for any beyond the window, while the places hold
            (
                trial
                for i, trial in swaps(chosen, ranked)
                if rank[trial[i]] < rank[chosen[i]] and rank[chosen[i]] >= window and miss(trial) == 0
            ),
            None,
        ):
            chosen = closer
        return chosen

    def masked_passage(self, answer: Span) -> str:
        """The answer's sentence with [BLANK] for the span, between up to CONTEXT_SENTENCES
        sentences of its document either side (stopping at one over MAX_STEP_CHARS)."""
        document_index, sentence_index, words = self.sentences[answer.sentence]
        sentences = self.corpus.documents[document_index].sentences
        masked = " ".join(
            [*words[: answer.start], answer.lead + BLANK + answer.trail, *words[answer.start + answer.length :]]
        )
        before = list(
            itertools.takewhile(
                lambda text: len(text) <= MAX_STEP_CHARS,
                reversed(sentences[max(0, sentence_index - CONTEXT_SENTENCES) : sentence_index]),
            )
        )
        after = itertools.takewhile(
            lambda text: len(text) <= MAX_STEP_CHARS,
            sentences[sentence_index + 1 : sentence_index + 1 + CONTEXT_SENTENCES],
        )
        return " ".join([*reversed(before), masked, *after])

    # -- tasks -------------------------------------------------------------------------------

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        length, count, closeness = params["span_tokens"], params["candidates"], params["similarity"]
        mode = params["mode"]
        if mode == "any":
            mode = "exact" if length <= EXACT_MAX_WORDS and rng.random() < 0.5 else "choice"
        wanted = count - 1 if mode == "choice" else 1
        # drawn once: a retry must not pick an easier one
        place = rng.randint(0, wanted)
        below = (rng.randint(0, wanted), *tie_run(rng, place, wanted))
        hub = (rng.randint(0, wanted), place) if mode == "choice" else None  # no list to find a hub in otherwise
        for attempt in range(MAX_SPAN_TRIES):
            answer = self.draw_answer(rng, length)
            if answer is None:
                continue
            passage = self.masked_passage(answer)
            context = word_set(passage)
            balanced = attempt < BALANCED_TRIES
            if balanced and below[1] and not word_set(answer.text) & context:
                continue  # no distractor can share fewer words with the passage
            pool = self.distractor_pool(rng, answer, passage)
            distractors = self.pick_distractors(rng, pool, answer, wanted, closeness, context, below, hub, balanced)
            if distractors:
                break
        else:
            raise ValueError(
                f"corpus {self.corpus.label}: no {length}-word span with {wanted} eligible distractor(s) "
                f"in {MAX_SPAN_TRIES} tries; lower span_tokens or candidates"
            )
        document_index, _, words = self.sentences[answer.sentence]
        document = self.corpus.documents[document_index]
        meta = {
            "corpus": self.corpus.label,
            "source": document.source,
            "span_words": answer.length,
            "type": kind_of(answer.words),
            "position": position_of(answer.start, answer.length, len(words)),
        }
        if mode == "exact":
            answer_record = {"mode": "exact", "text": answer.text, "decoy": distractors[0].text}
            return {"prompt": describe_exact(passage, answer.length), "answer": answer_record, "meta": meta}
        options = [answer, *distractors]
        rng.shuffle(options)
        candidates = [span.text for span in options]
        letter = string.ascii_uppercase[options.index(answer)]
        meta["similarity"] = round(
            sum(similarity(s.text, answer.text, context) for s in distractors) / len(distractors), 4
        )
        answer_record = {"mode": "choice", "text": answer.text, "letter": letter, "candidates": candidates}
        return {"prompt": describe_choice(passage, candidates), "answer": answer_record, "meta": meta}

    def solve(self, task: Task) -> str:
        answer = task.answer
        return f"<answer>{answer['letter'] if answer['mode'] == 'choice' else answer['text']}</answer>"

    def wrong_response(self, task: Task) -> str:
        """A distractor: its letter (choice) or its text (exact)."""
        answer = task.answer
        if answer["mode"] == "exact":
            return f"<answer>{answer['decoy']}</answer>"
        wrong = next(i for i in range(len(answer["candidates"])) if string.ascii_uppercase[i] != answer["letter"])
        return f"<answer>{string.ascii_uppercase[wrong]}</answer>"

    def hints(self, task: Task) -> list[str]:
        """The span's word count, then distractors ruled out one at a time leaving two (choice),
        or its first words one at a time, never all (exact)."""
        answer = task.answer
        words = answer["text"].split()
        pieces = [f"The missing text has {len(words)} word{'s' if len(words) != 1 else ''}."]
        if answer["mode"] == "choice":
            wrong = [
                string.ascii_uppercase[i]
                for i in range(len(answer["candidates"]))
                if string.ascii_uppercase[i] != answer["letter"]
            ]
            pieces += [f"Candidate {letter} is not the missing text." for letter in wrong[:-1]]
        elif len(words) == 1:
            pieces.append(f"It begins with {words[0][0]!r}.")
        else:
            pieces += [f"It begins with {' '.join(words[:j])!r}." for j in range(1, len(words))]
        return pieces

    def split_group(self, task: Task) -> Any:
        """The source document: every blank of it, with any candidates, is on one side (a train
        task showing a sentence in full would answer the test task that blanks it)."""
        return ["infill", task.meta["corpus"], task.meta["source"]]

    def problem_key(self, task: Task) -> Any:
        """The source document and the blanked text: the same blank with other candidates (or
        asked without them) is one problem."""
        return ["infill", task.meta["corpus"], task.meta["source"], task.answer["text"]]

    def attacks(self, task: Task) -> list[tuple[str, Any]]:
        """Choice: every letter, two letters hedged, the answer's text instead of its letter,
        the candidate of the middle word count, the longest / shortest / first candidate, the
        candidates sharing most and fewest words with the passage, the candidates most and least
        like the others (``centrality`` by ``similarity``, by ``similarity`` with its arguments
        swapped and by ``dice``), the right letter with another candidate's text, a letter out
        of range. Exact: the decoy, the answer with a word added or dropped, the whole masked
        sentence filled in, the blank marker, the answer hedged with the decoy. Any that
        happens to be the right answer is left out."""
        answer = task.answer
        text = answer["text"]
        passage = task.prompt.split("\n\n")[1] if task.prompt.count("\n\n") >= 2 else task.prompt
        if answer["mode"] == "exact":
            attacks = [
                ("decoy", answer["decoy"]),
                ("answer-plus-word", f"{text} {text.split()[-1]}"),
                ("answer-minus-word", " ".join(text.split()[:-1]) or text[:-1]),
                ("passage-filled", passage.replace(BLANK, text)),
                ("blank-marker", BLANK),
                ("hedge-decoy-or-answer", f"{answer['decoy']} or {text}"),
                ("answer-twice", f"{text} {text}"),
            ]
            return [(name, f"<answer>{body}</answer>") for name, body in attacks if normalise(body) != normalise(text)]
        candidates, right = answer["candidates"], answer["letter"]
        letters = string.ascii_uppercase[: len(candidates)]
        overlap = [len(word_set(c) & word_set(passage)) for c in candidates]
        alike = functools.partial(similarity, context=word_set(passage))
        measures = (
            ("similarity", alike),
            ("swapped-similarity", lambda other, text: alike(text, other)),
            ("dice", dice),
        )
        hubs = {name: centrality(candidates, measure) for name, measure in measures}
        other = next(letter for letter in letters if letter != right)
        attacks = [
            ("every-letter", ", ".join(letters)),
            ("hedge-two-letters", f"{right} or {other}"),
            ("answer-text-only", text),
            ("middle-word-count", letters[middle_word_count(candidates)]),
            ("longest-candidate", letters[max(range(len(candidates)), key=lambda i: (len(candidates[i]), i))]),
            ("shortest-candidate", letters[min(range(len(candidates)), key=lambda i: (len(candidates[i]), i))]),
            ("first-candidate", "A"),
            ("most-passage-overlap", letters[max(range(len(candidates)), key=lambda i: (overlap[i], i))]),
            ("least-passage-overlap", letters[min(range(len(candidates)), key=lambda i: (overlap[i], i))]),
            *(
                (f"{end}-like-the-others-by-{name}", letters[pick(range(len(candidates)), key=scores.__getitem__)])
                for name, scores in hubs.items()
                for end, pick in (("most", max), ("least", min))
            ),
            ("right-letter-other-text", f"{right}) {candidates[letters.index(other)]}"),
            ("other-letter-right-text", f"{other}) {text}"),
            ("letter-out-of-range", string.ascii_uppercase[len(candidates)]),
            ("blank-marker", BLANK),
        ]
        return [
            (name, f"<answer>{body}</answer>")
            for name, body in attacks
            if read_letter(body, list(candidates))[0] != right
        ]


def middle_word_count(candidates: list[str]) -> int:
    """The first candidate whose word count is the middle one of the counts shown (the median
    of the distinct counts, the lower of two): the answer, always, when distractors were drawn
    within a band of counts around the answer's and three counts showed (red team s17 I1)."""
    counts = [len(text.split()) for text in candidates]
    distinct = sorted(set(counts))
    return counts.index(distinct[(len(distinct) - 1) // 2])


def describe_choice(passage: str, candidates: list[str]) -> str:
    listed = "\n".join(f"{string.ascii_uppercase[i]}) {text}" for i, text in enumerate(candidates))
    return (
        f"One span of this passage was replaced by {BLANK}:\n\n{passage}\n\nCandidates:\n{listed}\n\n"
        "Which candidate is the missing text? Put its letter inside <answer>…</answer>, for example "
        "<answer>X</answer> for candidate X."
    )


def describe_exact(passage: str, words: int) -> str:
    return (
        f"One span of this passage, {words} word{'s' if words != 1 else ''} long, was replaced by {BLANK}:\n\n"
        f"{passage}\n\n"
        "Write the missing text exactly (case and punctuation at word edges do not matter) inside <answer>…</answer>."
    )
