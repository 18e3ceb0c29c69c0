"""Knights & Knaves: who always tells the truth and who always lies, from what each one says.

Task        n inhabitants, each a knight (every statement true) or a knave (every statement
            false), and what each says: claims about roles ("Bob is a knave"), negations, and,
            or, if-then, if-and-only-if, nested claims ("Bob would say that [Carol is a knight
            and Dave is a knave]": true when Bob's role makes the bracketed claim's truth match,
            knight ↔ claim) and counts ("exactly 2 of the 5 inhabitants are knights"). The
            roles are drawn first; each statement's shape (connectives, nesting, a top-level
            "it is not true that" on a fair coin) is drawn alike for knights and knaves, and
            its leaves (who is claimed to be what, the counts) are then drawn so that it is
            true to its speaker's role; more statements are added until exactly one assignment
            of roles is consistent with all of them, which an exhaustive check over all 2ⁿ
            assignments proves at generation. A puzzle that a logic-free reading solves (each
            claim believed by where it sits: under "and" or in an "if" part it is true 2/3 of
            the time, under "or" or in a "then" part 1/3; four such readings, "a denier is a
            knave" both ways, and the first reading with any one person flipped:
            ``face_value_guesses``) is kept only with a chance fitted per configuration that
            holds each to 2⁻ⁿ, a guess's rate; otherwise another puzzle is drawn.
Answer      ``<answer>…</answer>`` with one role per inhabitant in any order and wording: "Alice
            is a knight, Bob is a knave" or one "Name: role" per line. ``task.answer`` =
            {"names" (prompt order), "roles" {name: "knight" | "knave"}, "statements" [[speaker
            index, statement tree]]}; ``task.meta`` = {"statements", "search_nodes" (nodes of a
            person-by-person depth-first search that prunes on violated statements), "knights",
            "puzzles_drawn"}.
Verifier    rlvr.verifiers.knights_knaves.KnightsKnavesVerifier: reads clauses (split at newlines,
            commas, semicolons and "and"), each naming exactly one inhabitant and one role;
            correct when every inhabitant has the solution's role. Two roles for one person, a
            role naming nobody, or a clause with two people is a format error (so hedges score
            0). ``partial=True`` (off by default): the roles right beyond c, the larger of what
            the best constant answer (all knights or all knaves) gets and what a coin flip per
            inhabitant exceeds at most 5 % of the time, (right − c) / (people − c), at least 0.
            The solution is unique, so it is the only correct answer.
Solver      The hidden assignment (the one consistent assignment).
Hints       One inhabitant's role per piece, in the order they are introduced, all but the last.
Weakness    Roles still leave traces a learner can pick up without doing the logic. The claims'
            lean cannot be drawn away (a knave's "and" always wholly false would make every
            statement symmetric under swapping all roles, and no puzzle unique), and a screen
            only moves it: holding the readings and their one-flip neighbours at chance leaves
            the first reading with its two least sure people flipped at 0.21–0.23 against 0.125
            at d = .25 (3 people: the rest of the 8 assignments take the mass), and every rule
            of the second pass's battery within 0.093 against 0.0625 at d = .5 and 0.027 against
            0.0156 at d = .75 (two seed ranges of 600; before the screen: 0.35 / 0.28 / 0.098).
            Screening pairs of flips too pushed d = .5 up to 0.12 at 3× the draws, so it was not
            kept. A gradient-boosted classifier over counts of how each person is mentioned and
            what they say (trained on 3,000 tasks, tested on 600; red team s19) solves 0.56 /
            0.28 / 0.13 / 0.030 / 0.005 at d = 0 / .25 / .5 / .75 / 1 against chance 0.25 /
            0.125 / 0.0625 / 0.0156 / 0.0039 (before the screen: 0.60 / 0.33 / 0.19 / 0.043 /
            0.007); at d = 0 (two people, one connective) such counts come close to spelling out
            the logic itself.
Difficulty  (rendered from the declaration below)
            d     people  depth  kinds
            0     2       1      4 kinds
            0.25  3       1      4 kinds
            0.5   4       2      5 kinds
            0.75  6       2      7 kinds
            1     8       3      8 kinds
            fixed: statements=1
            ``kinds`` grows from is/not/and/or to implies, then says/iff, then count (claims
            built only from is, not, says and iff are symmetric under swapping every role, so
            they never pin down a unique answer: a kinds set needs and, or, implies or count);
            ``statements`` is how many each inhabitant makes before more are added for
            uniqueness. The measured search effort (``meta["search_nodes"]``) rises with d
            (tests/test_knights_knaves.py).

Version history
            v0  (2026-12) first release; partial credit counted above the do-nothing
                answer's (2026-12-05).
                2026-12-05 (session 7): train/held-out sides go by ``split_group`` (by the
                statements and the roles by speaker number; red team S7-1: one problem shown
                otherwise was on both sides), so split streams changed where a task's group lands
                elsewhere than its prompt did (re-pinned); raw-stream bytes unchanged.
                2026-12-05 (session 8): split side by the puzzle up to its people's names and order, its
                statements' order and and/or/iff operand order (red team S8-3b: 9 % of d = 0 test
                puzzles were train puzzles with the speakers swapped): split streams re-pinned;
                raw-stream bytes unchanged.
                2026-12-05 (session 9): ``partial=True`` counts credit above chance as well as
                above the constant answers (red team S9-F2: answers ignoring the statements
                averaged 0.08–0.15 at d ≥ 0.5; now no more than their exact hits); task bytes
                unchanged.
                2026-12-06, red team s13 F6: statements were negated exactly when they had the
                wrong truth for their speaker, so "it is not true that" marked a role ("negated
                → knave" solved 0.126 at d = 0.5 against chance 0.0625; at d = 0, where only a
                denied "and" could pin down a knight, "negated → knight" solved 0.48 against
                0.25). Now the shape, negation included, is drawn alike for both roles and the
                leaves are drawn to fit the speaker's role, and d = 0 adds "or" (so both roles
                can break the swap-every-role symmetry). Left at d = 0: the statement that
                breaks that symmetry is a knight's "or" or denied "and", or a knave's "and" or
                denied "or", so "plain and → knave" solves 0.28 against 0.25 (was 0.50). Search
                effort per level unchanged (medians 6 / 10 / 18 / 42 / 166 nodes). Task bytes
                changed (re-pinned).
                2026-12-07, red team s19 F1: believing each claim by its place in the statement
                (a claim under "and" true 2/3 of the time, under "or" 1/3), with no logic, solved
                0.42 / 0.35 / 0.28 / 0.098 / 0.028 at d = 0 / .25 / .5 / .75 / 1 against chance
                0.25 / 0.125 / 0.0625 / 0.0156 / 0.0039 (600 tasks a level). The leaves cannot be
                drawn without this lean (a knave's "and" always wholly false would make every
                statement symmetric under swapping all roles), so puzzles that such readings
                solve are kept only with a fitted chance (``face_value_keep_chances``; ~2
                puzzles a task at d ≤ .5, 1.3 at .75, 1.1 at d = 1, plus 0.1–0.5 s once per
                configuration and process); the readings now solve 0.23 / 0.14 / 0.06 / 0.025 /
                0.005 on the same seeds and are family attacks. A second pass found the screen
                of exact hits alone moved them onto the readings' neighbours ("flip the least
                sure person" 0.26 / 0.18 / 0.077 at d = .25 / .5 / .75) and pushed s13's "a
                denier is a knave" to 0.088 at d = .5, so the one-flip neighbours and both
                denier rules are screened too (see Weakness for what is left). Up to 64
                puzzles are drawn per task (was 32). Task bytes changed where a puzzle was
                turned away (re-pinned).
                2026-12-07 (session 21), red team s21 B1: the split side and the problem key go
                by what the puzzle says (the set of constraints its statements put on the roles,
                up to renaming people, those that say nothing left out;
                ``problem_forms.knights_knaves_meaning_form``), not its wording: "X is not a
                knave" for "X is a knight" and De Morgan's rewrites had put 129 / 59 / 4 of 300
                test puzzles in a 3,000-puzzle train set at d = 0 / .25 / .5, and a statement
                that says nothing or a constraint stated by the other person it binds 291 / 47 /
                1 (second pass); now 0. d = 0 (two people, one connective) holds only about 110
                distinct puzzles (110 in 100,000 draws; ~75 train, ~11 test), and sets asking for
                more are told so. Raw-stream bytes unchanged; the split streams re-pinned.
"""

from rlvr.family import EnvDecl, Family
from rlvr.params import DifficultyTable, Int, Subset

KINDS = ("is", "not", "and", "or", "implies", "says", "iff", "count")
NAMES = (
    "Alice",
    "Bruno",
    "Chloe",
    "Dmitri",
    "Elena",
    "Farid",
    "Greta",
    "Hiro",
    "Ines",
    "Jonas",
    "Kira",
    "Luca",
    "Mira",
    "Nadia",
    "Oscar",
    "Priya",
    "Quentin",
    "Rosa",
    "Samir",
    "Tess",
    "Umar",
    "Vera",
    "Wendell",
    "Yusuf",
)

FAMILY = Family(
    name="knights_knaves",
    generator="rlvr.generators.knights_knaves:KnightsKnavesGenerator",
    verifier="rlvr.verifiers.knights_knaves:KnightsKnavesVerifier",
    table=DifficultyTable(
        {
            "people": Int(2, 12, doc="inhabitants"),
            "depth": Int(0, 4, doc="connective levels a statement may nest"),
            "kinds": Subset(*KINDS, doc="statement kinds that may appear"),
            "statements": Int(1, 3, doc="statements each inhabitant makes before more are added for uniqueness"),
        },
        {
            0.0: {"people": 2, "depth": 1, "kinds": "is,not,and,or", "statements": 1},
            0.25: {"people": 3, "depth": 1, "kinds": "is,not,and,or", "statements": 1},
            0.5: {"people": 4, "depth": 2, "kinds": "is,not,and,or,implies", "statements": 1},
            0.75: {"people": 6, "depth": 2, "kinds": "is,not,and,or,implies,says,iff", "statements": 1},
            1.0: {"people": 8, "depth": 3, "kinds": ",".join(KINDS), "statements": 1},
        },
    ),
    envs=(
        EnvDecl(
            "rlvr/KnightsKnaves-v0",
            "Knights always tell the truth, knaves always lie: find each inhabitant's role "
            "from their statements (unique solution)",
        ),
    ),
    verifier_options={"partial": "reward the roles right beyond the best constant answer and chance (default false)"},
)
