"""Zebra (Einstein) puzzles: houses in a row, one value of each attribute per house, found from clues.

Task        H houses in a row, numbered 1 to H from left to right, and A attributes (colour,
            nationality, pet, drink, sport, food, car, job, music), each with H values drawn
            from the fixed lists below; every value belongs to exactly one house. A hidden
            solution is drawn (a random permutation of each attribute's values over the houses),
            then true clues of the allowed kinds are added in random order (a kind chosen
            uniformly, then a random unused true clue of it) until a SAT model (python-sat,
            one selector literal per clue) proves that no other assignment satisfies them all;
            then clues are dropped greedily, in random order, whenever uniqueness survives
            without them, so no clue is redundant; ``redundant`` > 0 then adds that fraction of
            extra true clues back. A fresh solver proves uniqueness again before the task is
            returned. Clue kinds ("X", "Y", "Z" are people named by one of their values):
              same            "The Brit lives in the red house."
              different       "The Brit does not live in the red house."
              next_to         "X lives next to Y." (adjacent houses)
              directly_left   "X lives directly left of Y." (or "Y lives directly right of X")
              left_of         "X lives somewhere to the left of Y." (any smaller house number)
              at_house        "X lives in house 3." (also "the first / last / middle house")
              not_at_house    "X does not live in house 3."
              between         "X lives somewhere between Y and Z." (strictly, either order)
            The question (``question``) asks for the grid: every house's value of ``asked``
            attributes (drawn at random, listed in the declaration's order; all of them when
            ``asked`` ≥ ``attributes``, "What is in every house?", as at every difficulty). A
            clue-blind guess is right with probability (H!)^−asked: 1/216 at d = 0. ``cell``
            (opt-in, never in the table) asks one cell — another attribute of a person named by
            one value ("What nationality is the owner of the zebra?") or their house number,
            never one that a single clue states outright — so a fixed guess is right 1/H of the
            time (red team S10-G6), though "the asked attribute's value the clues mention least"
            is right 0.42–0.44 against 1/3 at d = 0, about 0.28 against 1/4 at d = .25 – .5 and at
            chance at d = 1 (red team s18 Z1, ~750 tasks; left as it is: cell is opt-in);
            ``any`` draws one of cell and grid per task.
Answer      ``<answer>…</answer>``. Cell: the value ("German"; surrounding words are tolerated
            when exactly one value name of the asked attribute appears: "The German owns it")
            or the house number ("3", "house 3", "the third house"). Grid: one line per house,
            "House 1: red, Norwegian, water, …" with the asked attributes' values (in any order;
            a markdown table whose rows carry the house number; or a "House 1:" line followed by
            lines of its values); the prompt's example names the attributes, never a value.
            ``task.answer`` = {"houses", "attributes" [names], "values" {attribute: [values as
            listed in the prompt]}, "solution" {attribute: [value in house 1, …, house H]},
            "clues" [[kind, item, …, (house)] with items [attribute, value]], "question"
            {"kind": "grid", "attributes": [the asked attributes]} or {"kind": "cell", "subject":
            [attribute, value], "target": attribute | "house"}} (a grid question without
            "attributes", from before 2026-12-05 session 10, asks for all of them);
            ``task.meta`` = {"clues", "clue_kinds" {kind: count},
            "search_nodes" (nodes of a plain backtracking search over the clues, see below),
            "clues_drawn" (before redundant clues were dropped), "redundant_clues" (added back),
            "sat_checks", "question"}.
Verifier    rlvr.verifiers.zebra.ZebraVerifier: value names are whole words, any case, and no
            word is shared between the lists, so a value identifies its attribute. Cell: exactly
            one distinct value of the asked attribute in the block (or, for a house question,
            exactly one house number); two are a hedge (reward 0). Grid: every line (split also
            at ";") is read for its house label (the one number on it, "house 3", "3rd",
            "third house") and the puzzle's value names; every (house, attribute) cell must be
            given to be correct (an empty one counts as wrong), and two values of one attribute
            in one house or one value in two houses is a format error (so hedges score 0).
            Only the asked attributes' cells are judged (others may be given, and must be well
            formed). The solution is unique, so the only correct answers are formatting
            variants of it. ``partial=True`` (grid only; off by default): the H × asked cells
            right beyond chance (the count a grid that ignores the clues, one random order of
            the houses per attribute, exceeds at most 5 % of the time), scaled to [0, 1) when
            the answer is well formed.
Solver      The hidden solution (the one assignment consistent with the clues).

Hints       ``hint=h``: solution cells, a few per piece, up to three quarters; for a cell question
            never a cell of the asked house, the asked attribute or the subject's attribute.
Difficulty  (rendered from the declaration below)
            d     houses  attributes  clues
            0     3       3           3 kinds
            0.25  4       3           5 kinds
            0.5   4       4           7 kinds
            0.75  5       5           8 kinds
            1     6       6           7 kinds
            fixed: redundant=0.0, question=grid, asked=9
            ``clues`` grows from same / next_to / at_house (d = 0) through different and
            directly_left (0.25), left_of and not_at_house (0.5) to all eight kinds (0.75); at
            d = 1 ``at_house`` is withheld, so no clue places a person directly. A kinds set
            must hold one of at_house, not_at_house, directly_left, left_of: the others are
            unchanged by mirroring the row, so they never pin down one solution.
            ``meta["search_nodes"]`` counts the assignments a plain depth-first search tries
            (values placed one at a time in a fixed most-constrained-first order, a clue checked
            once all its people are placed) while proving the solution unique, capped at
            200,000; its median and the clue count rise with d (tests/test_zebra.py).

Version history
            v0  (2026-12) first release; partial credit counted above chance (2026-12-05).
                2026-12-05 (session 8): split side by the puzzle with values renamed to (attribute,
                house) and clues in any order (red team S8-3): split streams re-pinned; raw-stream bytes
                unchanged.
                2026-12-05 (session 9): ``partial=True`` pays above the 95 % level of a random
                grid's right cells, not its mean (red team S9-F3: grids ignoring the clues
                averaged 0.03–0.07; now under 0.01); task bytes unchanged.
                2026-12-05 (session 10): the table asks no single cell any more (red team S10-G6:
                a cell is one of H values, so a fixed guess such as "the last listed value" or
                "house 1" earned 0.32–0.38 of them at d ≤ 0.5): every difficulty asks for the
                whole grid; a new parameter ``asked`` (opt-in) asks for fewer attributes' columns;
                grid questions carry "attributes"; cell stays opt-in. (Two of the three
                attributes at d = 0 was tried: ordering values by their mentions in the clues
                was right on 0.059 of 1,000 tasks, against 1/36 by chance.)
                Every task re-pinned; clue-blind guesses (listed, reversed, rotated, most or least
                mentioned first) now earn ≤ 0.014 binary and ≤ 0.04 partial at d = 0 (1,000 tasks).
                2026-12-07 (session 18, red team s18 Z2): a cell answer that is negated ("not the
                Dane", "house -2", "except …") is refused; it was read as the value it names.
                Task bytes unchanged.
                2026-12-07 (session 21, red team s21 B2): the split side and problem key also
                ignore the attributes' order and which end of the row is house 1 (``directly
                left of`` then read as ``directly right of``): 150 of 300 d = 0 test puzzles were
                a 3,000-puzzle train set's with the attributes reordered, 210 counting the
                mirror, and that train set held 1,398 such repeats (now 0 and 0, d = 0 and .25).
                Raw-stream bytes unchanged; the split streams re-pinned.
"""

from rlvr.family import EnvDecl, Family
from rlvr.params import Choice, DifficultyTable, Float, Int, Subset

# Each attribute's possible values. No word appears in two lists (nor is an attribute name), so
# a value name in an answer identifies its attribute.
ATTRIBUTES = {
    "colour": ("red", "green", "blue", "yellow", "white", "purple", "pink", "grey"),
    "nationality": ("Brit", "Swede", "Dane", "Norwegian", "German", "Spaniard", "Italian", "Japanese"),
    "pet": ("dog", "cat", "bird", "fish", "horse", "zebra", "rabbit", "hamster"),
    "drink": ("tea", "coffee", "milk", "water", "juice", "beer", "cocoa", "lemonade"),
    "sport": ("tennis", "golf", "rugby", "hockey", "cricket", "baseball", "volleyball", "badminton"),
    "food": ("pizza", "sushi", "pasta", "curry", "tacos", "salad", "soup", "noodles"),
    "car": ("Ford", "Toyota", "Tesla", "BMW", "Volvo", "Fiat", "Honda", "Audi"),
    "job": ("doctor", "teacher", "baker", "pilot", "lawyer", "nurse", "farmer", "engineer"),
    "music": ("jazz", "rock", "blues", "reggae", "folk", "opera", "techno", "disco"),
}
MAX_HOUSES = 8
CLUE_KINDS = ("same", "different", "next_to", "directly_left", "left_of", "at_house", "not_at_house", "between")
POSITIONAL_KINDS = ("at_house", "not_at_house", "directly_left", "left_of")  # the kinds mirroring the row changes
QUESTIONS = ("cell", "grid", "any")
ALL = len(ATTRIBUTES)  # ``asked`` at or above the attribute count: the whole grid

FAMILY = Family(
    name="zebra",
    generator="rlvr.generators.zebra:ZebraGenerator",
    verifier="rlvr.verifiers.zebra:ZebraVerifier",
    table=DifficultyTable(
        {
            "houses": Int(2, MAX_HOUSES, doc="houses in the row (values per attribute)"),
            "attributes": Int(2, len(ATTRIBUTES), doc="attributes per house"),
            "clues": Subset(*CLUE_KINDS, doc="clue kinds that may appear"),
            "redundant": Float(0.0, 1.0, doc="extra true clues kept, as a fraction of the irredundant clue count"),
            "question": Choice(*QUESTIONS, doc="ask for the grid, one cell (opt-in: 1/H by guessing) or either"),
            "asked": Int(1, len(ATTRIBUTES), doc="attributes a grid question asks for (all when ≥ attributes)"),
        },
        {
            0.0: {
                "houses": 3,
                "attributes": 3,
                "clues": "same,next_to,at_house",
                "redundant": 0.0,
                "question": "grid",
                "asked": ALL,
            },
            0.25: {
                "houses": 4,
                "attributes": 3,
                "clues": "same,different,next_to,directly_left,at_house",
                "redundant": 0.0,
                "question": "grid",
                "asked": ALL,
            },
            0.5: {
                "houses": 4,
                "attributes": 4,
                "clues": "same,different,next_to,directly_left,left_of,at_house,not_at_house",
                "redundant": 0.0,
                "question": "grid",
                "asked": ALL,
            },
            0.75: {
                "houses": 5,
                "attributes": 5,
                "clues": ",".join(CLUE_KINDS),
                "redundant": 0.0,
                "question": "grid",
                "asked": ALL,
            },
            1.0: {
                "houses": 6,
                "attributes": 6,
                "clues": "same,different,next_to,directly_left,left_of,not_at_house,between",
                "redundant": 0.0,
                "question": "grid",
                "asked": ALL,
            },
        },
    ),
    envs=(
        EnvDecl(
            "rlvr/Zebra-v0",
            "Zebra (Einstein) puzzles: houses in a row, one value of each attribute per house, "
            "deduced from clues (unique solution); answer the grid or some of its attributes",
        ),
    ),
    verifier_options={"partial": "grid questions: reward the asked cells right beyond chance (default false)"},
)
