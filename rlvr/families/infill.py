"""Infill: restore a masked span of a passage, by choosing among candidates or writing it exactly.

Task        A sentence of one document of a text corpus with a span of about ``span_tokens``
            words replaced by [BLANK], shown with up to two sentences either side. The span lies
            inside one sentence (never all of it), its words are plain text (no LaTeX markup),
            each holds a letter or digit, and its edge punctuation stays outside the blank.
            ``mode="choice"``: ``candidates`` options labelled A, B, …, one of them the span, in
            an order the task's RNG draws. The distractors are spans of other documents of the
            same corpus with (1) the answer's word count, (2) the same type — all words
            numeric, some numeric, or none — and the same position class in their sentence
            (start, middle, end), and, after "a"/"an", the same vowel/consonant start; (3) never
            the answer: a candidate whose normalised text equals, contains or is contained in the
            answer's, or whose word-set Jaccard overlap with the answer (or with another
            candidate) exceeds 0.5, is rejected. Three in four
            sampled spans come from sentences of other documents sharing a topic word (four+
            letters, or a number) with the passage. Among up to 64 eligible spans, ``similarity``
            picks how close the distractors are: spans are ranked by a 1:1:2 mix of length
            closeness (characters), character-bigram overlap with the answer and topic match
            (words shared with the passage, relative to the answer's), and the distractors come
            from the top ``max(k − 1, (1 − similarity) × pool)``: similarity 1 takes the closest,
            0 any. Surface cues are balanced: how many distractors are shorter than the answer is
            drawn uniformly from 0 … k − 1 per task (ties split by a coin); by words shared with
            the passage the answer's place is drawn uniformly and the places 0 … k − 1 are cut
            into runs of equal overlap (neighbours joined with probability 0.8), which fixes how
            many distractors share fewer words and how many as many; a span is redrawn until the
            draws are met (a small corpus may fall back after 28 tries), so the longest, the
            shortest and the most and least passage-like candidate (ties broken at random or to
            the first listed) are the answer about 1/k of the time, and the answer's overlap is
            shared as often as a distractor's. So is the candidate most (or least) like the others,
            although each distractor is picked for its likeness to the answer: how many distractors
            are more central than the answer (the others' summed character-bigram Dice with a
            candidate) is drawn uniformly from 0 … k − 1 too, and by the ranking score the answer's
            place equals its drawn passage-overlap place; from the first set meeting the draws,
            distractors are swapped one at a time for spans on the same sides of the cues (window
            first) until the places are met, else the span is redrawn, and then any from beyond the
            window for closer ones while the places hold (all measured in tests/test_infill.py).
            ``mode="exact"``: no candidates; the span is to be written out. ``mode="any"``: each
            task draws choice or exact, exact only for spans of at most three words.
Corpus      Generator options ``corpus=`` and ``field=`` (rlvr.generators.corpus): by default the
            project's synthetic maths solutions (worked steps of Math-v0 problems on the train
            side of its split, and worked fraction chains; no benchmark text); or a folder of
            .txt/.md files, a JSONL file with ``field=``, or ``hf:NAME[:CONFIG]:SPLIT:FIELD`` (a
            local ``datasets`` copy; never downloaded). Tasks of a corpus other than the default
            carry ``/c<corpus digest>`` at the end of their id.
Answer      Choice: ``<answer>B</answer>`` — one letter, optionally "option B", "(B)", "B." or the
            letter followed by that candidate's own text; two letters, another text or a text
            alone is wrong. Exact: ``<answer>the missing words</answer>``, compared after
            normalising Unicode (NFKC), case, whitespace and the punctuation at each word's
            edges (a sign before a digit is kept; "3.5" is not "35"). ``task.answer`` = {"mode",
            "text" (the span), "letter" and "candidates" (choice), "decoy" (exact: a distractor,
            for the near-miss response)}; ``task.meta`` = {"corpus", "source", "span_words",
            "type", "position", "similarity" (mean ranking score of the distractors, choice)}.
Verifier    rlvr.verifiers.infill.InfillVerifier: 1 for the right letter (choice) or the span's
            normalised text (exact); anything else 0 with a one-line reason.
Solver      The masked span (its letter in choice mode).
Hints       The span's word count; then (choice) one distractor ruled out per piece, leaving two
            candidates, or (exact) its first words, one more per piece, never all of them (a
            one-word span: its first character).
Weakness    A blank can have more than one fitting filling (exact mode mostly, and a distractor
            may fit the context too: the corpus, not a model, decides); the distractor rules
            keep paraphrases and copies of the answer out, not every plausible alternative.
            Word rarity is not balanced: "the candidate whose rarest word is least rare in the
            corpus" picks the answer 0.31 of the time against 1/4 at d = .5 (red team s17,
            2,600 tasks), about 0.24 against 1/5 at d = .75, at chance at d = 1; at d = 0 it and
            "the candidate whose words are commonest" pick it 0.47 of the time against 1/3
            (session 18, 600 tasks): distractors are placed over the passage's topic words, so
            they are rarer-worded than a span drawn anywhere. Where no balanced set is found
            (about a third of tasks at d = 1), the distractors are kept unbalanced, and there
            the answer is the similarity hub 0.32 of the time (0.18 elsewhere): "the candidate
            most like the others by similarity" is right 0.22 against 1/6 at d = 1 on fresh
            seeds (0.22 against 1/8 with 8 candidates at similarity 1; session 18, 400 tasks).
            Balancing word commonness as a third target in ``pick_distractors``, with a 3× pool
            where 8 spans failed, brought d = 0 to chance and d = .5 to 0.27, but made
            generation 2.5–3× slower and left "rarest word least rare" at 0.35 on one seed range
            of 240 (session 18, not adopted).

Difficulty  (rendered from the declaration below)
            d     span_tokens  candidates  similarity
            0     2            3           0.0
            0.25  3            4           0.25
            0.5   4            4           0.5
            0.75  6            5           0.75
            1     8            6           1.0
            fixed: mode=choice
            ``mode`` is "choice" at every point; pass mode="exact" (or "any") for free-text
            filling, which suits the short spans of low d.

Version history
            v0  (2026-12) first release. 2026-12-05: up to 64 spans are tried per task
                (was 32, which left about 1 in 1,500 d = 1 seeds raising ValueError, e.g. seed
                1112); every task made before is byte-identical.
                2026-12-05 (session 7): train/held-out sides go by ``split_group`` (by the source
                document; red team S7-1: one problem shown otherwise was on both sides), so split
                streams changed where a task's group lands elsewhere than its prompt did (re-
                pinned); raw-stream bytes unchanged.
                Later 2026-12-05: the default corpus holds no benchmark text (rlvr.generators.corpus;
                red team S7-3); every task's bytes changed (re-pinned), ids keep their form.
                2026-12-05 (session 10): the Math generator redraws a problem whose answer is its
                format example (red team S10-G5) and draws number-theory questions afresh (S10-G11,
                S10b-B7), which changed some of the corpus's synthetic worked solutions and so
                every Infill task's bytes (re-pinned).
                2026-12-06 (session 11): the Math generator widens its d = 0 answer ranges and draws
                number-theory answers first (red team S10b-B6), which changed the corpus's synthetic
                worked solutions and so Infill tasks' bytes (re-pinned).
                2026-12-06 (red team s13 F3): the answer was the similarity hub of the candidates
                (distractors are the spans most like it, so "the candidate the others are most
                like" found it: 0.45 at d = 1 against 1/6); its place by centrality (Dice and the
                ranking score) is now drawn like the length and overlap cues, and the most / least
                like-the-others rules are family attacks. A peripheral answer needs distractors
                more alike to each other than to it, so similarity 1 sets are a little less like
                the answer (mean ranking score 0.85 → 0.82 at d = 1). Choice-mode task bytes
                changed (re-pin); exact-mode tasks are byte-identical.
                2026-12-06 (red team s13 F3 follow-up): ties by passage overlap split by a coin per
                span made "the candidate sharing fewest words with the passage" right 0.27 (ties to
                the first listed) and 0.23 (at random) of the time at d = 1 against 1/6 (an answer
                sharing none tied the distractors sharing none); the answer's place is now drawn
                with explicit runs of equal overlap, so least and most overlap (ties at random or
                first listed), "an overlap no other candidate has" and the most / least like-the-
                others rules by similarity with its arguments swapped are at chance; least overlap
                and the swapped hubs are family attacks. Mean ranking score 0.57 → 0.65 at d = 0,
                0.82 at d = 1 as before, so the knob's range narrows (candidates 5, 4 words: +0.065
                → +0.035). Task bytes changed in both modes (re-pin).
                2026-12-06 (red team s17 I1): distractors had word counts within ±20 % of the
                answer's, a band centred on it, so when three counts showed the answer was the
                middle one every time ("take the middle word count": 0.343 against 1/6 at d = 1,
                0.336 against 1/5 at d = .75); distractors now have the answer's word count, and
                the rule is a family attack. Choice-mode task bytes changed (one random draw
                fewer a span tried; re-pin); exact-mode tasks are byte-identical.
                2026-12-07 (session 21, red team s21 B4): the default corpus's synthetic prose
                paragraphs share no sentence (470 of 4,177 sentences were in several paragraphs,
                and Infill splits by paragraph: 36 of 200 test tasks at d = .5 blanked a
                sentence that a 1,500-task train set showed whole; now 0). The paragraphs after
                the first repeat changed, and with them the spans and distractors drawn: task
                bytes changed in both modes (re-pinned).
                2026-12-07 (session 22): ``corpus=`` lines lose enumerations in words and roman
                numerals too, as StepOrder's version history says; the default corpus's tasks
                are unchanged.
"""

from rlvr.family import EnvDecl, Family
from rlvr.params import Choice, DifficultyTable, Float, Int

MODES = ("choice", "exact", "any")
MAX_CANDIDATES = 8  # letters A … H
EXACT_MAX_WORDS = 3  # mode="any" writes out spans up to this long

FAMILY = Family(
    name="infill",
    generator="rlvr.generators.infill:InfillGenerator",
    verifier="rlvr.verifiers.infill:InfillVerifier",
    table=DifficultyTable(
        {
            "span_tokens": Int(1, 12, doc="words in the masked span"),
            "candidates": Int(2, MAX_CANDIDATES, doc="options shown in choice mode (one is the span)"),
            "similarity": Float(
                0.0, 1.0, doc="0: distractors drawn from all eligible spans; 1: the closest in length and letters"
            ),
            "mode": Choice(
                *MODES,
                doc="choice (pick a letter), exact (write the span) or any (exact for short spans, drawn per task)",
            ),
        },
        {
            0.0: {"span_tokens": 2, "candidates": 3, "similarity": 0.0, "mode": "choice"},
            0.25: {"span_tokens": 3, "candidates": 4, "similarity": 0.25, "mode": "choice"},
            0.5: {"span_tokens": 4, "candidates": 4, "similarity": 0.5, "mode": "choice"},
            0.75: {"span_tokens": 6, "candidates": 5, "similarity": 0.75, "mode": "choice"},
            1.0: {"span_tokens": 8, "candidates": 6, "similarity": 1.0, "mode": "choice"},
        },
    ),
    envs=(
        EnvDecl(
            "rlvr/Infill-v0",
            "Restore a masked span of a passage from a text corpus: choose it among candidates "
            "from the same corpus, or write it exactly",
        ),
    ),
    generator_options={
        "corpus": "math (default: synthetic worked solutions, no benchmark text), a folder of "
        ".txt/.md files, a .jsonl file, or hf:NAME[:CONFIG]:SPLIT:FIELD",
        "field": "the JSONL field holding the text (with a .jsonl corpus)",
    },
)
