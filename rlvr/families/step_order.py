"""StepOrder: put the shuffled steps of a worked solution or procedure back in order.

Task        A window of ``steps`` consecutive steps of one document of a text corpus (the steps
            of a solution or procedure: its lines, or its sentences when it is one paragraph),
            shown in a shuffled order under the labels A, B, C, … (A is the first shown). With
            ``anchored`` > 0 the prompt also states the true position of that many steps
            ("C is step 1"). The shuffle is never the true order nor its reverse, and the
            unanchored steps are never shown in their true relative order or its reverse (so
            echoing the labels, reversed or not, around the anchors is never right). Windows
            holding two steps with the same text (case and spacing aside) are never used, so
            the order is unique as far as the text goes; steps longer than 400 characters are
            never used. The document is drawn by the task's own RNG among those with enough
            steps, and a window is redrawn (at most 256 draws, then a ValueError) while a
            surface measure of its steps gives the order away (``surface_leak``: sorted by
            largest or smallest number, digit count, length, word count, count of numbers,
            largest number left of the last '=', the result's largest number, digits or size,
            ascending or descending, some tie-break is the true order (from 7 steps: one in at
            most 120 tie-breaks), or the largest |Kendall τ| of these measures with the true
            order is beyond the 95 % quantile of that largest |τ| over random orders of the same
            steps, a family-wise test that rejects at most 5 % of random orders).
Corpus      Generator options ``corpus=`` and ``field=`` (rlvr.generators.corpus): by default the
            project's synthetic maths solutions (worked steps of Math-v0 problems on the train
            side of its split, worked fraction chains, and running integer computations whose
            values wander in 10-999, each step starting from the one before's result written
            "previous result" ("previous result + 17 = 45"), which make 91-98 % of tasks since
            the worked solutions' lengths and the fraction chains' growing numbers give their
            order and fail the screen; no benchmark text); or a folder of
            .txt/.md files, a JSONL file with ``field=``, or ``hf:NAME[:CONFIG]:SPLIT:FIELD`` (a
            local ``datasets`` copy; never downloaded). Tasks of a corpus other than the default
            carry ``/c<corpus digest>`` at the end of their id.
Answer      ``<answer>C, A, D, B</answer>``: every label once, in the true order. Numbering,
            brackets, whitespace, newlines, commas, semicolons, arrows ("->", "→", "=>") and the
            words "step"/"then" are ignored; labels may be lower case; any other word (an "or"
            hedge, the step texts pasted) is a format error. ``task.answer`` = {"order": the
            labels in the true order}; ``task.meta`` = {"corpus", "source" (the document),
            "window" [first, last+1] step indices, "anchored" (labels whose position is given),
            "step_chars" (characters of the shown steps)}.
Verifier    rlvr.verifiers.step_order.StepOrderVerifier: the labels read must be a permutation of
            the task's (a label missing, repeated or unknown is reward 0). ``scoring="exact"``
            (default): 1 for the true order, else 0. ``scoring="kendall"``: partial credit
            from Kendall's τ = 1 − 2 · discordant pairs / all pairs above chance,
            max(0, (τ − q) / (1 − q)) with q the τ random orders exceed at most 5 % of the time
            (4 labels: only the true order scores), 1 only for the true order.
Solver      The window's own order.
Hints       The true position of one step per piece ("Step 1 is C."), from the first, all but
            the last two.
Weakness    Some steps of real solutions are independent (two sub-results computed in either
            order), so an order the source did not use may be logically fine and still score 0
            (or < 1 with Kendall scoring). On the default corpus nearly every task is a running
            computation, ordered by undoing each step (45 - 17 = 28: the step whose result is 28
            comes before); a few are fraction chains, whose results are restated in the next
            step, so matching digits orders them. The worked Math-v0 solutions (4 steps at
            most, each nesting the one before) never pass the screen: their lengths give the
            order. At 4-5 steps the screen refuses windows that any of the 20 sorts orders, so
            the true order is never a surface sort: a guess avoiding every sort is right 8 %
            of the time at 4 steps (chance 4 %). Difficulty is only the number of steps.

Difficulty  (rendered from the declaration below)
            d     steps  anchored
            0     4      1
            0.25  4      0
            0.5   5      0
            0.75  6      0
            1     8      0
            Up to d = 0.125 one of the four steps is placed for the model; above it none is.

Version history
            v0  (2026-12) first release; ``scoring="kendall"`` pays τ clipped at 0, was
                (τ + 1) / 2, which paid a random order 0.5 (2026-12-05); then τ above the
                5 % chance level (clipping at 0 still paid alphabetical order 0.10–0.19;
                now at most 0.05 in partial credit).
                2026-12-05 (session 7): train/held-out sides go by ``split_group`` (by the source
                document; red team S7-1: one problem shown otherwise was on both sides), so split
                streams changed where a task's group lands elsewhere than its prompt did (re-
                pinned); raw-stream bytes unchanged.
                Later 2026-12-05: the default corpus holds no benchmark text (rlvr.generators.corpus;
                red team S7-3); every task's bytes changed (re-pinned), ids keep their form.
                2026-12-05 (session 10): windows are redrawn while a surface order gives their
                order away, and the default corpus gained 600 running integer computations
                (red team S10-G10: on the fraction chains, whose numbers grow along the order,
                sorting the steps by their largest number was the exact order of 31-58 % of
                tasks, Kendall credit 0.59-0.72); the surface sorts are attacks; every task's
                bytes changed (re-pinned). Infill's sentences are unchanged (the computations
                carry none).
                2026-12-05, session 10, red team S10b-B1: a computation step wrote the value it
                starts from as a literal operand, so linking equal digit strings, no arithmetic,
                ordered 192-197 of 200 tasks at every difficulty (95-97 % of tasks were such
                computations); now it is written "previous result" (that program: 0 of the
                computations; undoing each step: all). The screen's τ test is family-wise (the
                largest |τ| of the measures against its own 95 % quantile over random orders; it
                was each measure at the verifier's 5 % chance τ, which refused 2/3 of random
                orders), and from 7 steps a sort exact on one tie-break in over 120 no longer
                refuses a window; random orders now pass 42/68/77/97 % at 4/5/6/8 steps (were
                31/46/62/72 %). Every task's bytes changed (re-pinned); Infill's did not.
                2026-12-07 (session 22, red team s22 B-F1 and its second pass): a ``corpus=``
                line's leading enumeration may also be a roman numeral ("ii.", "(iv)"), an
                ordinal with a mark after it ("First,", "6th step:", "Finally,"; a line that lost
                one starts with a capital) or "Step" and a number word
                (``rlvr.generators.corpus.ENUMERATION``), and a document whose steps still count
                along ("**Step 1:**", "1.1", "S1:", "Step 1/8", "①", fullwidth digits, a trailing
                "(step 1)": ``numbered_steps``) is left out. Sorting by such numbering ordered
                51 / 45 / 54 of 100 windows at d = .25 / .5 / 1 of a corpus numbered in words,
                and every window for the ten other styles; now none is drawn. The default corpus
                and GSM8K have no such documents: their tasks are unchanged (goldens pass).
"""

from rlvr.family import EnvDecl, Family
from rlvr.params import DifficultyTable, Int

MAX_STEPS = 12  # labels A … L

FAMILY = Family(
    name="step_order",
    generator="rlvr.generators.step_order:StepOrderGenerator",
    verifier="rlvr.verifiers.step_order:StepOrderVerifier",
    table=DifficultyTable(
        {
            "steps": Int(3, MAX_STEPS, doc="steps to order (a window of one document)"),
            "anchored": Int(0, MAX_STEPS - 3, doc="steps whose true position the prompt gives (at most steps - 3)"),
        },
        {
            0.0: {"steps": 4, "anchored": 1},
            0.25: {"steps": 4, "anchored": 0},
            0.5: {"steps": 5, "anchored": 0},
            0.75: {"steps": 6, "anchored": 0},
            1.0: {"steps": 8, "anchored": 0},
        },
    ),
    envs=(
        EnvDecl(
            "rlvr/StepOrder-v0",
            "Put the shuffled steps of a worked solution or procedure from a text corpus back "
            "in order; answer the step labels in order",
        ),
    ),
    generator_options={
        "corpus": "math (default: synthetic worked solutions, no benchmark text), a folder of "
        ".txt/.md files, a .jsonl file, or hf:NAME[:CONFIG]:SPLIT:FIELD",
        "field": "the JSONL field holding the text (with a .jsonl corpus)",
    },
    verifier_options={
        "scoring": "exact (default: 1 for the true order, else 0) or kendall (tau above chance as partial credit)"
    },
)
