"""How causal tasks are made: random networks, query search, text, the optional graph drawing.

The family's contract (task, answer, verifier, difficulty, version history) is the docstring of
``rlvr.families.causal``; exact inference lives in ``rlvr.generators.causal_inference``.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import random
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, NamedTuple

import networkx as nx
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from rlvr.core import Task, TaskGenerator
from rlvr.families.causal import FAMILY
from rlvr.generators.causal_inference import CausalNetwork, closure, counterfactual, d_separated, posterior
from rlvr.verifiers.causal import PARTIAL_BAND

# Letters that cannot be read as something else in the notation or the prompt's wording (no E
# for expectations, P for probabilities, U and V for the noise definition, I and O for 1 and 0).
NAME_POOL = tuple("ABCDFGHJKLMNQRSTWXYZ")
TABLE_RESOLUTION = 100  # table entries are multiples of 1/100
ROOT_PROBABILITY = 0.15  # chance that a non-first variable gets no parents
DIRICHLET_CONCENTRATION = 1.0
COMPARISON_MARGIN = 0.02  # a yes/no comparison's two probabilities differ by at least this
EFFECT_MARGIN = 0.02  # an asked effect is at least this far from 0, so "0" is never a free answer
ANSWER_DECIMALS = 6
GRAPH_TRIES = 60
PAIR_TRIES = 16
EVIDENCE_TRIES = 6
ROW_TRIES = 50
# No answer may be read off the outcome's table without inference (red team S10-G3): every table
# read (``table_reads``) lies at least READ_DISTANCE from the exact answer, and the plain reads
# (all rows' mean, the rows that agree with the query's values) at least PLAIN_READ_DISTANCE.
READ_TOLERANCE = 0.01  # the verifier's default tolerance
READ_DISTANCE = READ_TOLERANCE + 0.001  # wrong even when stated to 3 decimals
PLAIN_READ_DISTANCE = PARTIAL_BAND * READ_TOLERANCE  # where partial credit reaches 0
# A shortcut that skips the rung (``rung_shortcuts``; red team S10-G9) lies at least
# PLAIN_READ_DISTANCE from the answer, unless it is an intervention's observational reading and
# the answer (within EXACT: do = see without a back-door path).
EXACT = 1e-9
VALUE_TRIES = 6  # value redraws (evidence, observed treatment, asked value and state) per network
QUERY_TRIES = 300  # networks (the rung and evidence screens, red team S10-G9 and S10b-B2, reject many at d ≥ 0.5)


# --------------------------------------------------------------------------------------------
# Random networks
# --------------------------------------------------------------------------------------------


def dirichlet_rows(nprng: np.random.Generator, count: int, states: int) -> list[tuple[int, ...]]:
    """``count`` rows of a table in hundredths, one Dirichlet draw each (one call draws them in
    the order of as many single draws): each entry at least 1/100, summing to exactly 100
    (largest remainder rounding, ties to the lower state)."""
    spare = TABLE_RESOLUTION - states
    rows = []
    for shares in (nprng.dirichlet(np.full(states, DIRICHLET_CONCENTRATION), size=count) * spare).tolist():
        counts = [math.floor(share) for share in shares]
        remainders = [share - whole for share, whole in zip(shares, counts)]
        for index in sorted(range(states), key=lambda i: -remainders[i])[: spare - sum(counts)]:  # stable sort
            counts[index] += 1
        rows.append(tuple(whole + 1 for whole in counts))
    return rows


def random_table(nprng: np.random.Generator, configurations: int, states: int) -> list[tuple[int, ...]]:
    """``configurations`` pairwise different rows (so every parent changes the distribution):
    row after row, a row equal to an earlier one drawn again (at most ROW_TRIES draws per row).
    The rows still to draw are drawn in one call; where one repeats an earlier row, the
    generator goes back to its state before the call and draws again only the rows before it,
    then that row one draw at a time — the same draws as row by row, in fewer calls."""
    rows: list[tuple[int, ...]] = []
    while len(rows) < configurations:
        saved = nprng.bit_generator.state
        batch = dirichlet_rows(nprng, configurations - len(rows), states)
        seen = set(rows)
        fresh = 0
        while fresh < len(batch) and batch[fresh] not in seen:
            seen.add(batch[fresh])
            fresh += 1
        if fresh == len(batch):
            return rows + batch
        nprng.bit_generator.state = saved
        if fresh:
            dirichlet_rows(nprng, fresh, states)  # the same draws as the rows kept
        rows += batch[:fresh]
        for _ in range(ROW_TRIES):
            row = dirichlet_rows(nprng, 1, states)[0]
            if row not in rows:
                break
        else:
            raise ValueError("could not draw pairwise different table rows")
        rows.append(row)
    return rows


def network_from_spec(names, states, parents, hundredths) -> CausalNetwork:
    """A CausalNetwork from the JSON-safe spec kept in ``task.meta["network"]``."""
    tables = []
    for v, rows in enumerate(hundredths):
        shape = tuple(states[p] for p in parents[v]) + (states[v],)
        tables.append(np.asarray(rows, dtype=np.float64).reshape(shape) / TABLE_RESOLUTION)
    return CausalNetwork(
        tuple(names), tuple(int(s) for s in states), tuple(tuple(int(p) for p in ps) for ps in parents), tuple(tables)
    )


def network_from_meta(meta: dict) -> CausalNetwork:
    spec = meta["network"]
    return network_from_spec(spec["names"], spec["states"], spec["parents"], spec["tables"])


def random_network_spec(
    rng: random.Random, nprng: np.random.Generator, variables: int, max_in_degree: int, ternary_share: float
) -> dict:
    """Names, state counts, parents (earlier variables) and tables in hundredths."""
    names = rng.sample(NAME_POOL, variables)
    ternary = set(rng.sample(range(variables), min(variables, int(np.floor(ternary_share * variables + 0.5)))))
    states = [3 if v in ternary else 2 for v in range(variables)]
    parents: list[list[int]] = [[]]
    for v in range(1, variables):
        if rng.random() < ROOT_PROBABILITY:
            parents.append([])
            continue
        count = rng.randint(1, min(v, max_in_degree))
        parents.append(sorted(rng.sample(range(v), count)))
    tables = []
    for v in range(variables):
        configurations = int(np.prod([states[p] for p in parents[v]], dtype=np.int64))
        tables.append([list(row) for row in random_table(nprng, configurations, states[v])])
    return {"names": names, "states": states, "parents": parents, "tables": tables}


# --------------------------------------------------------------------------------------------
# Structural measures
# --------------------------------------------------------------------------------------------


def backdoor_open(parents: tuple[tuple[int, ...], ...], treatment: int, outcome: int, conditioning: list[int]) -> bool:
    """True when some path from the treatment to the outcome that starts with an arrow into the
    treatment is d-connected given ``conditioning`` (the back-door criterion fails); the DAG is
    given by each variable's parents."""
    cut = tuple(tuple(p for p in ps if p != treatment) for ps in parents)  # the treatment's out-arrows removed
    return not d_separated(cut, {treatment}, {outcome}, set(conditioning))


def decorative_evidence(
    parents: tuple[tuple[int, ...], ...], rung: str, treatment: int, outcome: int, evidence: list[int]
) -> bool:
    """True when, in an association or an intervention, some evidence variable is d-separated from
    the outcome given the treatment and the other evidence — for an intervention in the graph
    without the arrows into the treatment (do-calculus rule 1): leaving it out is then exactly
    right, so it is decoration (red team S10b-B2: a third of the questions at d ≤ 0.5).
    Counterfactual evidence is not checked here. The DAG is given by each variable's parents."""
    if rung == "counterfactual":
        return False
    if rung == "intervention":
        parents = tuple(() if v == treatment else ps for v, ps in enumerate(parents))
    return any(
        d_separated(parents, {variable}, {outcome}, {treatment, *evidence} - {variable}) for variable in evidence
    )


def is_table_lookup(network: CausalNetwork, rung: str, treatment: int, outcome: int, evidence: list[int]) -> bool:
    """True when the outcome's parents are all fixed (the treatment, or observed — in a
    counterfactual only observed non-descendants of the treatment stay fixed) and nothing at or
    below the outcome is observed: the answer is then read off rows of the outcome's table."""
    movable = network.descendants({treatment}) if rung == "counterfactual" else set()
    fixed = {treatment, *(v for v in evidence if v not in movable)}
    below = network.descendants({outcome}) | {outcome}
    return set(network.parents[outcome]) <= fixed and not (below & set(evidence))


def confounder_count(network: CausalNetwork, treatment: int, outcome: int) -> int:
    """Ancestors of the treatment that reach the outcome by a directed path avoiding it."""
    without = tuple(
        tuple(p for p in ps if p != treatment) if v != treatment else () for v, ps in enumerate(network.parents)
    )
    reach = closure({outcome}, without)
    return len((network.ancestral_closure({treatment}) - {treatment}) & reach)


# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------


def describe_network(network: CausalNetwork) -> str:
    lines = [f"Variables ({network.size}; states are numbered from 0):"]
    for v in range(network.size):
        lines.append(f"  {network.names[v]}: " + ", ".join(str(s) for s in range(network.cardinalities[v])))
    arrows = [f"{network.names[p]} → {network.names[v]}" for v in range(network.size) for p in network.parents[v]]
    lines.append("Arrows (cause → effect): " + (", ".join(arrows) if arrows else "none"))
    lines.append("")
    lines.append(
        "Conditional probability tables (each line lists the probabilities of the variable's states 0, 1[, 2] in "
        "order):"
    )
    for v in range(network.size):
        name, table = network.names[v], network.tables[v]
        parent_names = [network.names[p] for p in network.parents[v]]
        if not parent_names:
            lines.append(f"  P({name}) = " + ", ".join(f"{x:.2f}" for x in table))
            continue
        lines.append(f"  P({name} | {', '.join(parent_names)}):")
        for configuration in np.ndindex(*table.shape[:-1]):
            condition = ", ".join(f"{n}={s}" for n, s in zip(parent_names, configuration))
            lines.append(f"    {condition}: " + ", ".join(f"{x:.2f}" for x in table[configuration]))
    return "\n".join(lines)


def assignment_text(network: CausalNetwork, assignment: list[tuple[int, int]]) -> str:
    return ", ".join(f"{network.names[v]}={s}" for v, s in assignment)


def condition_text(
    rung: str,
    network: CausalNetwork,
    treatment: int,
    value: int,
    evidence: list[tuple[int, int]],
    observed_treatment: int | None,
) -> str:
    """The part of the formula after the outcome: " | X=1, Z=0", " | do(X=1), Z=0", …"""
    rest = assignment_text(network, evidence)
    name = network.names[treatment]
    if rung == "association":
        return f" | {name}={value}" + (f", {rest}" if rest else "")
    if rung == "intervention":
        return f" | do({name}={value})" + (f", {rest}" if rest else "")
    return f" | {name}={observed_treatment}" + (f", {rest}" if rest else "")


def outcome_symbol(rung: str, network: CausalNetwork, outcome: int, treatment: int, value: int) -> str:
    name = network.names[outcome]
    if rung == "counterfactual":
        return f"{name}_{{{network.names[treatment]}={value}}}"
    return name


def probability_formula(rung, network, outcome, treatment, value, evidence, observed, state=None) -> str:
    symbol = outcome_symbol(rung, network, outcome, treatment, value)
    head = symbol if state is None else f"{symbol}={state}"
    return f"P({head}{condition_text(rung, network, treatment, value, evidence, observed)})"


def expectation_formula(rung, network, outcome, treatment, value, evidence, observed) -> str:
    symbol = outcome_symbol(rung, network, outcome, treatment, value)
    return f"E[{symbol}{condition_text(rung, network, treatment, value, evidence, observed)}]"


STRUCTURAL_MODEL_TEXT = (
    "Counterfactuals use this structural model: every variable V has its own noise U_V, uniform on [0, 1) and "
    "independent of all other noises, and V takes the first state s (in the order 0, 1, 2) for which "
    "U_V < P(V ≤ s | the values of V's direct causes). A counterfactual keeps every noise U_V of the observed "
    "case and changes only what the intervention changes."
)


def question_text(
    rung: str,
    kind: str,
    network: CausalNetwork,
    treatment: int,
    outcome: int,
    evidence: list[tuple[int, int]],
    observed: int | None,
    values: tuple[int, ...],
    state: int | None,
) -> str:
    x_name, y_name = network.names[treatment], network.names[outcome]
    lines = []
    if rung == "association":
        lines.append(
            "Question (observational): nothing is intervened on; the values after '|' are observed, and the "
            "probability is conditional on them."
        )
    elif rung == "intervention":
        lines.append(
            f"Question (interventional): do({x_name}=x) means an external intervention sets {x_name} to x: "
            f"{x_name} no longer depends on its causes, and every other variable still follows its table. "
            f"Any other values after '|' are observed in the population produced this way."
        )
    else:
        rest = assignment_text(network, evidence)
        observed_text = f"{x_name}={observed}" + (f", {rest}" if rest else "")
        lines.append("Question (counterfactual): " + STRUCTURAL_MODEL_TEXT)
        lines.append(
            f"In one particular case, {observed_text} were observed. {y_name}_{{{x_name}=x}} denotes the value "
            f"{y_name} would have taken in that same case had {x_name} been set to x."
        )
    if kind == "distribution":
        formula = probability_formula(rung, network, outcome, treatment, values[0], evidence, observed)
        example = ", ".join(f"P({y_name}={s})=…" for s in range(network.cardinalities[outcome]))
        lines.append(f"What is the distribution {formula}?")
        lines.append(
            f"Put your final answer inside <answer>…</answer> as <answer>{example}</answer>, one entry for each "
            f"state of {y_name}, each a decimal with at least 3 decimals, summing to 1."
        )
    elif kind == "probability":
        formula = probability_formula(rung, network, outcome, treatment, values[0], evidence, observed, state)
        lines.append(f"What is {formula}?")
        lines.append(
            "Put your final answer inside <answer>…</answer> as one decimal number between 0 and 1 with at "
            "least 3 decimals (a zero, a point and three or more digits)."
        )
    elif kind == "comparison":
        first = probability_formula(rung, network, outcome, treatment, values[0], evidence, observed, state)
        second = probability_formula(rung, network, outcome, treatment, values[1], evidence, observed, state)
        lines.append(f"Let a = {first} and b = {second}. Is a greater than b?")
        lines.append(
            "Put your final answer inside <answer>…</answer> as <answer>a=…; b=…; yes</answer> or "
            "<answer>a=…; b=…; no</answer>: the two probabilities, each a decimal between 0 and 1 with at least 3 "
            "decimals, then yes if a > b or no if a < b. It counts only when both probabilities are right and the "
            "word agrees with them."
        )
    else:
        first = expectation_formula(rung, network, outcome, treatment, values[0], evidence, observed)
        second = expectation_formula(rung, network, outcome, treatment, values[1], evidence, observed)
        numbers = ", ".join(str(s) for s in range(network.cardinalities[outcome]))
        lines.append(f"Reading the states of {y_name} as the numbers {numbers}, what is {first} − {second}?")
        lines.append(
            "Put your final answer inside <answer>…</answer> as one decimal number with at least 3 decimals, "
            "preceded by a minus sign when it is negative."
        )
    lines.append(
        "Answers are computed exactly from the tables as given; a small rounding error (0.01 by default) is allowed."
    )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Drawing (optional)
# --------------------------------------------------------------------------------------------

NODE_RADIUS = 22
LAYER_GAP = 90
NODE_GAP = 80
MARGIN = 40


EDGE_BOWS = (0.0, 60.0, -60.0, 110.0, -110.0, 170.0, -170.0, 240.0, -240.0)


def edge_curve(start: tuple[float, float], end: tuple[float, float], bow: float) -> list[tuple[float, float]]:
    """Points along a quadratic curve from start to end whose control point sits ``bow``
    pixels to one side of the midpoint (0: a straight line)."""
    steps = np.linspace(0.0, 1.0, 61)
    (x0, y0), (x1, y1) = start, end
    length = max(1e-9, float(np.hypot(x1 - x0, y1 - y0)))
    control = ((x0 + x1) / 2 + bow * (y1 - y0) / length, (y0 + y1) / 2 - bow * (x1 - x0) / length)
    xs = (1 - steps) ** 2 * x0 + 2 * (1 - steps) * steps * control[0] + steps**2 * x1
    ys = (1 - steps) ** 2 * y0 + 2 * (1 - steps) * steps * control[1] + steps**2 * y1
    return [(float(x), float(y)) for x, y in zip(xs, ys)]


def clear_curve(start, end, others: list[tuple[float, float]], size: tuple[float, float]) -> list[tuple[float, float]]:
    """The first curve of ``EDGE_BOWS`` that stays on the canvas and keeps clear of every
    other node (else the one that comes least close), so an arrow never seems to run through a
    third variable."""
    best, best_clearance = None, -1.0
    for bow in EDGE_BOWS:
        points = np.asarray(edge_curve(start, end, bow))
        if (points < 2).any() or (points[:, 0] > size[0] - 2).any() or (points[:, 1] > size[1] - 2).any():
            continue
        clearance = min((float(np.hypot(points[:, 0] - x, points[:, 1] - y).min()) for x, y in others), default=np.inf)
        if clearance > NODE_RADIUS + 4:
            return [tuple(p) for p in points.tolist()]
        if clearance > best_clearance:
            best, best_clearance = points, clearance
    return [tuple(p) for p in best.tolist()]


def draw_causal_graph(network: CausalNetwork) -> Image.Image:
    """The DAG drawn in layers (topological generations, top to bottom) on white; within a
    layer, variables sit in the order of their parents' mean position."""
    graph = network.graph()
    layers = [sorted(layer) for layer in nx.topological_generations(graph)]
    widest = max(len(layer) for layer in layers)
    width = 2 * MARGIN + max(1, widest) * NODE_GAP
    height = 2 * MARGIN + max(0, len(layers) - 1) * LAYER_GAP + 2 * NODE_RADIUS
    position: dict[int, tuple[float, float]] = {}
    for row, layer in enumerate(layers):
        if row:  # order each layer by its parents' mean position (fewer crossings)
            layer = sorted(layer, key=lambda v: (float(np.mean([position[p][0] for p in network.parents[v]])), v))
        offset = (width - len(layer) * NODE_GAP) / 2 + NODE_GAP / 2
        for column, v in enumerate(layer):
            position[v] = (offset + column * NODE_GAP, MARGIN + NODE_RADIUS + row * LAYER_GAP)
    image = Image.new("RGB", (int(width), int(height)), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=18)
    for parent, child in graph.edges:
        others = [xy for v, xy in position.items() if v not in (parent, child)]
        points = clear_curve(position[parent], position[child], others, (width, height))
        inside = [np.hypot(x - position[child][0], y - position[child][1]) < NODE_RADIUS for x, y in points]
        end = next(i for i, flag in enumerate(inside) if flag) if any(inside) else len(points) - 1
        start = next(
            i
            for i, (x, y) in enumerate(points)
            if np.hypot(x - position[parent][0], y - position[parent][1]) >= NODE_RADIUS
        )
        visible = points[start : end + 1]
        draw.line(visible, fill=(60, 60, 60), width=2)
        tip, before = visible[-1], visible[max(0, len(visible) - 4)]
        length = max(1e-9, float(np.hypot(tip[0] - before[0], tip[1] - before[1])))
        ux, uy = (tip[0] - before[0]) / length, (tip[1] - before[1]) / length
        back = (tip[0] - ux * 12, tip[1] - uy * 12)
        draw.polygon(
            [tip, (back[0] - uy * 6, back[1] + ux * 6), (back[0] + uy * 6, back[1] - ux * 6)], fill=(60, 60, 60)
        )
    for v, (x, y) in position.items():
        draw.ellipse(
            [x - NODE_RADIUS, y - NODE_RADIUS, x + NODE_RADIUS, y + NODE_RADIUS],
            fill=(225, 235, 250),
            outline=(30, 60, 120),
            width=2,
        )
        draw.text((x, y), network.names[v], fill=(0, 0, 0), font=font, anchor="mm")
    return image


# --------------------------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """One chosen query: the network, rung, treatment, outcome, evidence and its measures."""

    spec: dict  # the network as JSON-safe lists (names, states, parents, tables in hundredths)
    network: CausalNetwork
    rung: str
    treatment: int
    outcome: int
    evidence: list  # [(variable, state)], sorted by variable
    observed: int | None  # the factual treatment value of a counterfactual
    relevant: set
    backdoor: bool
    attempts: int

    def outcome_distribution(self, value: int) -> np.ndarray:
        return rung_distribution(
            self.network, self.rung, self.treatment, self.outcome, self.evidence, self.observed, value
        )


def rung_distribution(
    network: CausalNetwork,
    rung: str,
    treatment: int,
    outcome: int,
    evidence: list[tuple[int, int]],
    observed: int | None,
    value: int,
) -> np.ndarray:
    """The outcome's exact distribution that the rung asks for with the treatment at ``value``."""
    given = dict(evidence)
    if rung == "association":
        return posterior(network, outcome, {**given, treatment: value})
    if rung == "intervention":
        return posterior(network, outcome, given, {treatment: value})
    return counterfactual(network, outcome, {treatment: value}, {**given, treatment: observed})


def draw_values(
    rng: random.Random, network: CausalNetwork, rung: str, treatment: int, chosen: list[int]
) -> tuple[list[tuple[int, int]], int | None]:
    """The observed states of the evidence variables ``chosen`` and, for a counterfactual, the
    factual treatment value."""
    evidence = [(v, rng.randrange(network.cardinalities[v])) for v in chosen]
    observed = rng.randrange(network.cardinalities[treatment]) if rung == "counterfactual" else None
    return evidence, observed


def choose_query(rng: random.Random, nprng: np.random.Generator, params: dict, rung: str, want_backdoor: bool) -> Query:
    """A network and query meeting the parameters, by bounded seeded search."""
    evidence_count, min_relevant = int(params["evidence"]), int(params["min_relevant"])
    for attempt in range(1, GRAPH_TRIES + 1):
        spec = random_network_spec(
            rng, nprng, int(params["variables"]), int(params["max_in_degree"]), float(params["ternary_share"])
        )
        network = network_from_spec(spec["names"], spec["states"], spec["parents"], spec["tables"])
        pairs = [(x, y) for x in range(network.size) for y in sorted(network.descendants({x}))]
        rng.shuffle(pairs)
        for treatment, outcome in pairs[:PAIR_TRIES]:
            descendants = network.descendants({treatment})
            if rung == "association":
                eligible = [v for v in range(network.size) if v not in (treatment, outcome)]
            elif rung == "intervention":
                eligible = [v for v in range(network.size) if v != treatment and v not in descendants]
            else:
                eligible = [v for v in range(network.size) if v != treatment]
            if len(eligible) < evidence_count:
                continue
            screened: dict[tuple[int, ...], bool] = {}  # a sample drawn again gets the same verdict
            for _ in range(EVIDENCE_TRIES):
                chosen = sorted(rng.sample(eligible, evidence_count))
                if tuple(chosen) not in screened:  # cheapest test first; none draws from the rng
                    conditioning = [v for v in chosen if v not in descendants and v != outcome]
                    screened[tuple(chosen)] = (
                        len(network.ancestral_closure({treatment, outcome, *chosen})) >= min_relevant
                        and (params["table_lookup"] or not is_table_lookup(network, rung, treatment, outcome, chosen))
                        and backdoor_open(network.parents, treatment, outcome, conditioning) == want_backdoor
                        and not decorative_evidence(network.parents, rung, treatment, outcome, chosen)
                    )
                if not screened[tuple(chosen)]:
                    continue
                relevant = network.ancestral_closure({treatment, outcome, *chosen})
                evidence, observed = draw_values(rng, network, rung, treatment, chosen)
                return Query(
                    spec, network, rung, treatment, outcome, evidence, observed, relevant, want_backdoor, attempt
                )
    raise ValueError(
        f"no {params['variables']}-variable network with in-degree ≤ {params['max_in_degree']} gave a {rung} query "
        f"with {evidence_count} evidence variables, ≥ {min_relevant} relevant variables and back-door path "
        f"{'open' if want_backdoor else 'absent'} in {GRAPH_TRIES} attempts"
    )


def joint_probability(network: CausalNetwork, assignment: list[tuple[int, int]]) -> float:
    """P(assignment) by the chain rule, one exact posterior per variable."""
    probability, known = 1.0, {}
    for variable, state in assignment:
        probability *= float(posterior(network, variable, known)[state])
        known[variable] = state
    return probability


def rounded(value: float) -> float:
    result = round(float(value), ANSWER_DECIMALS)
    return 0.0 if result == 0 else result  # no "-0.0"


@dataclass(frozen=True)
class Asked:
    """What is asked about a query: the answer kind (a comparison or an effect too close to call
    falls back to the distribution), the treatment value(s), the outcome's exact distribution
    under each, the asked state (probability, comparison) and ``task.answer``'s numbers."""

    kind: str
    values: tuple[int, ...]
    distributions: tuple[np.ndarray, ...]
    state: int | None
    answer: dict


class Question(NamedTuple):
    """One asked question as the screens (``table_reads``, ``rung_shortcuts``,
    ``evidence_drops``) and the family's attacks see it."""

    network: CausalNetwork
    rung: str
    kind: str  # the answer kind actually asked (after any fallback)
    treatment: int
    outcome: int
    evidence: list  # [(variable, state)], sorted by variable
    observed: int | None  # the factual treatment value of a counterfactual
    values: tuple[int, ...]  # the asked treatment value(s)

    @classmethod
    def asked(cls, query: Query, asked: Asked) -> Question:
        """The question that ``asked`` puts about ``query``."""
        return cls(
            query.network,
            query.rung,
            asked.kind,
            query.treatment,
            query.outcome,
            query.evidence,
            query.observed,
            asked.values,
        )

    @classmethod
    def of_task(cls, task: Task) -> Question:
        """The question of a generated task, rebuilt from ``task.meta``."""
        query = task.meta["query"]
        return cls(
            network_from_meta(task.meta),
            task.meta["rung"],
            task.answer["kind"],
            int(query["treatment"]),
            int(query["outcome"]),
            [(int(v), int(s)) for v, s in query["evidence"]],
            query["observed_treatment"],
            tuple(int(x) for x in query["treatment_values"]),
        )

    def exact(self) -> tuple[np.ndarray, ...]:
        """The outcome's exact distribution under each asked treatment value."""
        return tuple(
            rung_distribution(
                self.network, self.rung, self.treatment, self.outcome, self.evidence, self.observed, value
            )
            for value in self.values
        )


def ask(rng: random.Random, query: Query, kind: str) -> Asked:
    """Draw the asked treatment value(s) and state and compute the exact answer."""
    treatment_states = query.network.cardinalities[query.treatment]
    outcome_states = query.network.cardinalities[query.outcome]
    if kind in ("distribution", "probability"):
        choices = [s for s in range(treatment_states) if s != query.observed]
        values: tuple[int, ...] = (rng.choice(choices),)
    else:
        values = tuple(rng.sample(range(treatment_states), 2))
    distributions = [query.outcome_distribution(v) for v in values]
    state = None
    answer: dict = {}
    if kind == "comparison":
        gaps = [s for s in range(outcome_states) if abs(distributions[0][s] - distributions[1][s]) >= COMPARISON_MARGIN]
        if gaps:
            state = rng.choice(gaps)
            answer["state"] = state
            answer["values"] = [rounded(distributions[0][state]), rounded(distributions[1][state])]
            answer["value"] = "yes" if distributions[0][state] > distributions[1][state] else "no"
        else:  # the two treatments are too close to compare fairly: ask for the distribution
            kind = "distribution"
    if kind == "effect":
        numbers = np.arange(outcome_states)
        effect = float(distributions[0] @ numbers) - float(distributions[1] @ numbers)
        if abs(effect) >= EFFECT_MARGIN:
            answer["value"] = rounded(effect)
        else:  # too close to no effect: ask for the distribution
            kind = "distribution"
    if kind == "distribution" and len(values) == 2:  # a fallback asks the side that is not the factual value
        side = 1 if values[0] == query.observed else 0
        values, distributions = values[side : side + 1], distributions[side : side + 1]
    if kind == "distribution":
        answer["distribution"] = [rounded(p) for p in distributions[0]]
    elif kind == "probability":
        state = rng.randrange(outcome_states)
        answer["state"] = state
        answer["value"] = rounded(distributions[0][state])
    return Asked(kind, values, tuple(distributions), state, answer)


def row_mean(network: CausalNetwork, variable: int, fixed: dict[int, int]) -> np.ndarray:
    """The unweighted mean of the rows of ``variable``'s table whose parents agree with ``fixed``
    (parents it does not name take every value), memoised on the network (read-only)."""
    key = ("row_mean", variable, tuple(fixed.get(p) for p in network.parents[variable]))
    if key not in network.memo:
        table = network.tables[variable]
        index = tuple(fixed.get(p, slice(None)) for p in network.parents[variable])
        network.memo[key] = table[index].reshape(-1, table.shape[-1]).mean(axis=0)
        network.memo[key].flags.writeable = False  # shared by every read that asks for it
    return network.memo[key]


def table_reads(question: Question) -> tuple[list[tuple[np.ndarray, ...]], list[tuple[np.ndarray, ...]]]:
    """What a policy can read off the prompt for a question without any inference, one outcome
    distribution per asked treatment value (``values``), as (reads, plain reads).

    plain reads  the unweighted mean of the outcome's table rows, and the mean of the rows that
                 agree with the values the question names (the asked treatment value — in a
                 counterfactual also the observed one — and the evidence), each named parent
                 taking one of its named values and the others every value. For a comparison
                 or an effect the treatment, when it is a parent, takes each side's value.
    reads        the plain reads, each single row of the outcome's table (the other parents at
                 every assignment, for a comparison or an effect), and for a distribution or a
                 probability the uniform distribution and, in a counterfactual where the
                 outcome is observed, the point mass on its observed state ("nothing
                 changes"). An effect's reads whose two sides are equal (the do-nothing answer
                 0) are left out."""
    network, rung, kind, treatment, outcome, evidence, observed, values = question
    parents = network.parents[outcome]
    named: dict[int, list[int]] = {v: [s] for v, s in evidence}
    if len(values) == 1:
        named[treatment] = sorted({values[0], *([] if observed is None else [observed])})
        free: tuple[int, ...] = parents
        sides: list[dict[int, int]] = [{}]
    else:
        free = tuple(p for p in parents if p != treatment)
        sides = [{treatment: v} if treatment in parents else {} for v in values]

    def read(fixed: dict[int, int]) -> tuple[np.ndarray, ...]:
        return tuple(row_mean(network, outcome, {**fixed, **side}) for side in sides)

    named_free = [p for p in free if p in named]
    plain = [read({})] + [
        read(dict(zip(named_free, choice))) for choice in itertools.product(*(named[p] for p in named_free))
    ]
    rows = itertools.product(*(range(network.cardinalities[p]) for p in free))
    reads = plain + [read(dict(zip(free, choice))) for choice in rows]
    if kind == "effect":  # equal sides read as 0: EFFECT_MARGIN and the verifier's partial rule handle it
        plain, reads = ([r for r in group if not np.array_equal(*r)] for group in (plain, reads))
    if len(values) == 1:
        states = network.cardinalities[outcome]
        reads.append((np.full(states, 1.0 / states),))
        if rung == "counterfactual" and outcome in named:
            reads.append((np.eye(states)[named[outcome][0]],))
    return reads, plain


def rung_shortcuts(question: Question) -> list[tuple[str, tuple[np.ndarray, ...]]]:
    """Real inference one rung too low, one outcome distribution per asked treatment value, as
    (name, read) — a comparison or an effect takes every combination of the sides' shortcuts:

    intervention    "see": P(Y | X=x, E=e), the treatment observed rather than set;
    counterfactual  "see" and "do": P(Y | X=x, E=e) and P(Y | do(X=x), E=e) with the other
                    evidence (the factual treatment and an observed outcome dropped), and
                    "see-pre" and "do-pre" with only the evidence that X cannot change (its
                    non-descendants), where some evidence is a descendant.

    An association has none. An effect's reads whose two sides are equal (the do-nothing
    answer 0) are left out, as in ``table_reads``."""
    network, rung, kind, treatment, outcome, evidence, _, values = question
    if rung == "association":
        return []
    given = {v: s for v, s in evidence if v != outcome}
    settings = [("see", given, False)]
    if rung == "counterfactual":
        settings.append(("do", given, True))
        before = {v: s for v, s in given.items() if v not in network.descendants({treatment})}
        if before != given:
            settings += [("see-pre", before, False), ("do-pre", before, True)]
    sides = [
        [
            (
                name,
                posterior(network, outcome, known, {treatment: v})
                if do
                else posterior(network, outcome, {**known, treatment: v}),
            )
            for name, known, do in settings
        ]
        for v in values
    ]
    reads = [("+".join(name for name, _ in combo), tuple(d for _, d in combo)) for combo in itertools.product(*sides)]
    if kind == "effect":
        reads = [(name, read) for name, read in reads if not np.array_equal(*read)]
    return reads


def evidence_drops(question: Question) -> list[tuple[str, tuple[np.ndarray, ...], bool]]:
    """Inference that ignores part of the question (red team S10b-B2), one outcome distribution
    per asked treatment value, as (name, read, lower rung) — a comparison or an effect uses the
    same rule on every side:

    marginal        P(Y): nothing observed, nothing set;
    evidence-only   P(Y | E=e), the treatment ignored (the evidence other than X and Y; where
                    there is some);
    drop-evidence   the rung's own quantity with the evidence left out: P(Y | X=x),
                    P(Y | do(X=x)) or P(Y_{X=x} | X=x') (where there is evidence);
    see-bare        for an intervention or a counterfactual, P(Y | X=x) (lower rung);
    do-bare         for a counterfactual, P(Y | do(X=x)) (lower rung);
    factual         for a counterfactual whose outcome is not observed, the factual posterior
                    P(Y | X=x', E=e) — the same on every side.

    ``answered_by_a_read`` screens the lower-rung reads within READ_DISTANCE only (two mistakes
    at once; within PLAIN_READ_DISTANCE they reject most questions at d ≥ 0.5). An effect's reads whose two sides are
    equal (the do-nothing answer 0) are left out, as in ``table_reads``."""
    network, rung, kind, treatment, outcome, evidence, observed, values = question
    others = [(v, s) for v, s in evidence if v not in (treatment, outcome)]
    rules: list[tuple[str, Any, bool]] = [("marginal", lambda v: posterior(network, outcome, {}), False)]
    if others:
        rules.append(("evidence-only", lambda v: posterior(network, outcome, dict(others)), False))
    if evidence:
        rules.append(
            ("drop-evidence", lambda v: rung_distribution(network, rung, treatment, outcome, [], observed, v), False)
        )
    if rung != "association":
        rules.append(("see-bare", lambda v: posterior(network, outcome, {treatment: v}), True))
    if rung == "counterfactual":
        rules.append(("do-bare", lambda v: posterior(network, outcome, {}, {treatment: v}), True))
        if outcome not in dict(evidence):
            rules.append(
                ("factual", lambda v: posterior(network, outcome, {**dict(others), treatment: observed}), False)
            )
    reads = [(name, tuple(rule(v) for v in values), lower) for name, rule, lower in rules]
    if kind == "effect":
        reads = [(name, read, lower) for name, read, lower in reads if not np.array_equal(*read)]
    return reads


def read_distance(asked: Asked, read: tuple[np.ndarray, ...]) -> float:
    """How far the answer that states ``read`` is from the exact one, as the verifier measures
    it (a comparison: the larger of the two probabilities' errors)."""
    exact = asked.distributions
    if asked.kind == "distribution":
        return float(np.abs(read[0] - exact[0]).sum() / 2)
    if asked.kind == "probability":
        return float(abs(read[0][asked.state] - exact[0][asked.state]))
    if asked.kind == "comparison":
        return float(max(abs(r[asked.state] - e[asked.state]) for r, e in zip(read, exact)))
    numbers = np.arange(len(exact[0]))
    return float(abs((read[0] - read[1]) @ numbers - (exact[0] - exact[1]) @ numbers))


def answered_by_a_read(query: Query, asked: Asked, lookup: bool) -> bool:
    """True when a table read (``table_reads``) lies within READ_DISTANCE of the exact answer, or a
    plain read, a rung shortcut (``rung_shortcuts``) or an answer that ignores part of the
    question (``evidence_drops``) within PLAIN_READ_DISTANCE, where partial credit ends. One
    that is exactly the answer (within EXACT; the dropped evidence is d-separated from the
    outcome) is valid reasoning and stays asked; a lower rung's reading with the evidence left
    out counts within READ_DISTANCE, and when exact as the shortcuts do. In a table lookup the
    reads that are the answer (its row) are the task; the others still count. A shortcut within
    EXACT of the answer is the answer by the rung's identities, valid reasoning: an
    intervention's observational reading where no back-door path is open (do = see, do-calculus
    rule 2) stays asked. A counterfactual must need its rung: one that an interventional or
    observational posterior answers, even exactly (with no open back-door path and no evidence
    the treatment can change, P(Y_{X=x} | X=x', E=e) = P(Y | do(X=x), E=e)), is redrawn — unless
    the parameters allow no other (no evidence and no back-door path: every counterfactual is
    then the interventional posterior)."""
    question = Question.asked(query, asked)
    reads, plain = table_reads(question)
    distances = [read_distance(asked, r) for r in reads]
    plain_distances = [read_distance(asked, r) for r in plain]
    if lookup:
        distances, plain_distances = ([d for d in group if d > EXACT] for group in (distances, plain_distances))
    if any(d < READ_DISTANCE for d in distances) or any(d < PLAIN_READ_DISTANCE for d in plain_distances):
        return True
    shortcuts = rung_shortcuts(question)
    identity_allowed = query.rung == "intervention" or not (query.evidence or query.backdoor)
    floor = EXACT if identity_allowed else -1.0
    if any(floor < read_distance(asked, read) < PLAIN_READ_DISTANCE for _, read in shortcuts):
        return True
    drops = evidence_drops(question)
    return any(
        floor < read_distance(asked, read) < READ_DISTANCE
        if lower
        else EXACT < read_distance(asked, read) < PLAIN_READ_DISTANCE
        for _, read, lower in drops
    )


def choose_question(
    rng: random.Random, nprng: np.random.Generator, params: dict, rung: str, kind: str, want_backdoor: bool
) -> tuple[Query, Asked, int]:
    """A query (``choose_query``), what is asked about it (``ask``) and the number of questions
    redrawn because a table read, a rung shortcut or an answer that ignores part of the question
    answered them (``answered_by_a_read``):
    values first (``VALUE_TRIES`` per network), then a new network, at most ``QUERY_TRIES``
    networks (a counterfactual that no value draw can save — evidence but none that the
    treatment can change, no back-door path — goes straight to a new one). The first question
    settles the kind (a comparison or an effect too close to call settles the distribution)
    and every redraw must ask it — a comparison or an effect that falls back is redrawn too —
    so the screen, which rejects some kinds more than others, does not shift the mix of kinds.
    A table lookup (allowed only with ``table_lookup``) is answered by its row by design; the
    other reads must miss it as in any other query."""
    redraws, settled = 0, None
    for _ in range(QUERY_TRIES):
        query = choose_query(rng, nprng, params, rung, want_backdoor)
        chosen = [v for v, _ in query.evidence]
        lookup = is_table_lookup(query.network, rung, query.treatment, query.outcome, chosen)
        if rung == "counterfactual" and chosen and not query.backdoor:
            if not set(chosen) & query.network.descendants({query.treatment}):
                redraws += 1  # the interventional posterior is its answer whatever the values: a new network
                continue
        for tries in range(VALUE_TRIES):
            if tries:
                evidence, observed = draw_values(rng, query.network, rung, query.treatment, chosen)
                query = dataclasses.replace(query, evidence=evidence, observed=observed)
            asked = ask(rng, query, kind)
            settled = settled or asked.kind
            if asked.kind == settled and not answered_by_a_read(query, asked, lookup):
                return query, asked, redraws
            if settled == "distribution":
                kind = settled  # a fallback settled the distribution: ask it directly
            redraws += 1
    raise ValueError(
        f"every {rung} {settled} question on {QUERY_TRIES} networks × {VALUE_TRIES} value draws was answered by "
        "reading the outcome's table, by inference one rung too low or by ignoring part of the question"
    )


class CausalGenerator(TaskGenerator):
    """Causal tasks; ``graph_image=True`` also draws the graph as ``task.images[0]``."""

    declaration = FAMILY

    def __init__(self, graph_image: bool = False):
        self.graph_image = bool(graph_image)

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        rung = rng.choice(params["rungs"].split(","))
        kind = rng.choice(params["answer_kinds"].split(","))
        want_backdoor = rng.random() < float(params["confounding"])
        query, asked, redraws = choose_question(rng, nprng, params, rung, kind, want_backdoor)
        network, treatment, outcome = query.network, query.treatment, query.outcome
        kind, values, state, answer = asked.kind, asked.values, asked.state, dict(asked.answer)
        outcome_states = network.cardinalities[outcome]

        evidence = query.evidence
        if kind in ("distribution", "probability", "comparison"):
            formula = probability_formula(rung, network, outcome, treatment, values[0], evidence, query.observed, state)
            if kind == "comparison":
                formula += " > " + probability_formula(
                    rung, network, outcome, treatment, values[1], evidence, query.observed, state
                )
        else:
            formula = (
                expectation_formula(rung, network, outcome, treatment, values[0], evidence, query.observed)
                + " − "
                + expectation_formula(rung, network, outcome, treatment, values[1], evidence, query.observed)
            )
        answer.update(
            {
                "kind": kind,
                "rung": rung,
                "outcome": network.names[outcome],
                "states": list(range(outcome_states)),
                "query": formula,
            }
        )

        intro = (
            "A causal Bayesian network. An arrow from one variable to another means the first is a direct cause "
            "of the second; every variable depends only on its direct causes, through its table below."
        )
        if self.graph_image:
            intro += " The attached image draws the same graph (arrows point from cause to effect)."
        prompt = "\n\n".join(
            [
                intro,
                describe_network(network),
                question_text(rung, kind, network, treatment, outcome, evidence, query.observed, values, state),
            ]
        )
        relevant = sorted(query.relevant)
        meta = {
            "rung": rung,
            "answer_kind": kind,
            "variables": network.size,
            "edges": sum(len(p) for p in network.parents),
            "max_in_degree": max(len(p) for p in network.parents),
            "ternary_variables": sum(1 for c in network.cardinalities if c == 3),
            "relevant_variables": len(relevant),
            "relevant_joint_states": int(np.prod([network.cardinalities[v] for v in relevant], dtype=np.int64)),
            "evidence_variables": len(evidence),
            "backdoor_open": bool(query.backdoor),
            "table_lookup": is_table_lookup(network, rung, treatment, outcome, [v for v, _ in evidence]),
            "confounders": confounder_count(network, treatment, outcome),
            "graph_attempts": query.attempts,
            "read_redraws": redraws,
            "network": query.spec,
            "query": {
                "treatment": treatment,
                "outcome": outcome,
                "evidence": [list(pair) for pair in evidence],
                "observed_treatment": query.observed,
                "treatment_values": list(values),
                "state": state,
            },
        }
        parts = {"prompt": prompt, "answer": answer, "meta": meta}
        if self.graph_image:
            parts["images"] = [draw_causal_graph(network)]
        return parts

    def solve(self, task: Task) -> str:
        answer = task.answer
        method = {
            "association": "variable elimination on the network",
            "intervention": "variable elimination on the network with the treatment's arrows cut (do)",
            "counterfactual": "variable elimination on the twin network (shared noise, intervention in the copy)",
        }[answer["rung"]]
        return f"Exact inference by {method}: {answer['query']}.\n<answer>{reference_answer_text(answer)}</answer>"

    def hints(self, task: Task) -> list[str]:
        """The relevant subgraph; the formula for the rung (the ratio of an association, the
        back-door adjustment set of an intervention, abduction–action–prediction of a
        counterfactual with the variables that change); then intermediate quantities (the
        conditioning event's probability; the adjustment weights, then the conditional
        outcome per stratum; the observed case's posteriors, without the outcome's when the
        observed treatment value is one of those asked) — never an asked number."""
        network = network_from_meta(task.meta)
        query, rung, kind = task.meta["query"], task.answer["rung"], task.answer["kind"]
        treatment, outcome = int(query["treatment"]), int(query["outcome"])
        evidence = [(int(v), int(s)) for v, s in query["evidence"]]
        values = [int(x) for x in query["treatment_values"]]
        names = network.names
        x_name, y_name = names[treatment], names[outcome]
        relevant = sorted(network.ancestral_closure({treatment, outcome, *(v for v, _ in evidence)}))
        dropped = [names[v] for v in range(network.size) if v not in relevant]
        pieces = [
            f"Relevant variables (the treatment {x_name}, the outcome {y_name}, the observed ones and their "
            f"ancestors): {', '.join(names[v] for v in relevant)}; "
            + (
                f"{', '.join(dropped)} can be left out (summing them out gives 1)."
                if dropped
                else "every variable is needed."
            )
        ]
        observed_text = assignment_text(network, evidence)
        given = f", {observed_text}" if observed_text else ""
        if rung == "counterfactual":
            factual = [(treatment, int(query["observed_treatment"])), *evidence]
            changed = sorted(network.descendants({treatment}) & network.ancestral_closure({outcome}))
            pieces.append(
                f"Abduction, action, prediction: in the observed case ({assignment_text(network, factual)}) every "
                f"variable that does not descend from {x_name} keeps its value; set {x_name} to the asked value and "
                f"recompute only {', '.join(names[v] for v in changed)}, each with the same noise U as in the "
                f"observed case (a twin network: one copy of these per world, joined by the shared noise)."
            )
            # the outcome's factual posterior is the answer for the treatment value that was observed
            # (a comparison or an effect may ask for it): it is left out then
            factual_asked = {outcome} if int(query["observed_treatment"]) in values else set()
            shared = sorted(
                ({p for v in changed for p in network.parents[v]} | set(changed))
                - {treatment}
                - {v for v, _ in evidence}
                - factual_asked
            )
            marginals = [
                f"P({names[v]}) = " + ", ".join(f"{p:.4f}" for p in posterior(network, v, dict(factual)))
                for v in shared
            ]
            if marginals:
                pieces.append(
                    f"In the observed case ({assignment_text(network, factual)}), before any change: "
                    + "; ".join(marginals)
                )
            return pieces
        backdoor = rung == "intervention" and bool(task.meta["backdoor_open"])
        adjust = [p for p in network.parents[treatment] if p not in dict(evidence)] if backdoor else []
        if not adjust:
            hidden = [names[v] for v in relevant if v not in (treatment, outcome) and v not in dict(evidence)]
            lead = (
                f"No back-door path from {x_name} to {y_name} is "
                f"open{' given ' + observed_text if observed_text else ''}, so P({y_name} | do({x_name}=x){given}) "
                f"= P({y_name} | {x_name}=x{given}). "
                if rung == "intervention"
                else ""
            )
            pieces.append(
                lead + f"P({y_name} | {x_name}=x{given}) = P({y_name}, {x_name}=x{given}) / P({x_name}=x{given}): "
                "multiply the relevant tables and sum out " + (", ".join(hidden) if hidden else "nothing else") + "."
            )
            pieces.append(
                "; ".join(
                    f"P({x_name}={x}{given}) = {joint_probability(network, [(treatment, x), *evidence]):.4f}"
                    for x in values
                )
            )
            return pieces
        z_names = ", ".join(names[z] for z in adjust)
        pieces.append(
            f"Back-door adjustment for the parents of {x_name} ({z_names}), which block every back-door path: "
            f"P({y_name} | do({x_name}=x){given}) = Σ_z P({y_name} | {x_name}=x, {z_names}=z{given}) · "
            f"P({z_names}=z{' | ' + observed_text if observed_text else ''})."
        )
        strata = list(itertools.product(*(range(network.cardinalities[z]) for z in adjust)))
        weights = []
        for stratum in strata:
            assignment = list(zip(adjust, stratum))
            weights.append(
                f"{assignment_text(network, assignment)}: "
                f"{joint_probability(network, [*evidence, *assignment]) / joint_probability(network, evidence):.4f}"
            )
        pieces.append(f"Weights P({z_names}=z{' | ' + observed_text if observed_text else ''}): " + "; ".join(weights))
        state = query["state"]
        conditionals = []
        for x in values:
            for stratum in strata:
                fixed = {**dict(evidence), treatment: x, **dict(zip(adjust, stratum))}
                distribution = posterior(network, outcome, fixed)
                head = assignment_text(network, [(treatment, x), *zip(adjust, stratum)])
                if kind == "effect":
                    conditionals.append(
                        f"E[{y_name} | {head}] = {float(distribution @ np.arange(len(distribution))):.4f}"
                    )
                elif state is not None:
                    conditionals.append(f"P({y_name}={state} | {head}) = {distribution[state]:.4f}")
                else:
                    conditionals.append(f"P({y_name} | {head}) = " + ", ".join(f"{p:.4f}" for p in distribution))
        pieces.append(
            f"Per stratum{' (also given ' + observed_text + ')' if observed_text else ''}: " + "; ".join(conditionals)
        )
        return pieces

    def wrong_response(self, task: Task) -> str:
        answer = dict(task.answer)
        kind = answer["kind"]
        if kind == "distribution":
            shifted = list(answer["distribution"])
            largest = int(np.argmax(shifted))
            moved = 0.3 if shifted[largest] >= 0.3 else shifted[largest]
            shifted[largest] -= moved
            shifted[(largest + 1) % len(shifted)] += moved
            answer["distribution"] = [round(p, 6) for p in shifted]
        elif kind == "probability":
            answer["value"] = answer["value"] + 0.3 if answer["value"] < 0.5 else answer["value"] - 0.3
        elif kind == "comparison":  # the two probabilities swapped, and the verdict that follows from them
            answer["values"] = list(reversed(answer["values"]))
            answer["value"] = "no" if answer["value"] == "yes" else "yes"
        else:
            answer["value"] = answer["value"] + 0.3 if answer["value"] < 0 else answer["value"] - 0.3
        return f"I estimate {answer['query']}.\n<answer>{reference_answer_text(answer)}</answer>"

    def split_group(self, task: Task) -> Any:
        """The network and the query: the same question in text and as a picture of the graph
        (``graph_image``) is on one side."""
        return ["causal", task.meta["network"], task.answer["query"], task.meta["rung"]]

    def attacks(self, task: Task) -> list[tuple[str, Any]]:
        """What a reward-hacking policy tries on a causal query: the outcome's table read with no
        inference (``table_read_attacks``, unless the query is a table lookup); inference one
        rung too low (``rung_shortcut_attacks``, unless it is the answer); answers that ignore
        part of the question (``evidence_drop_attacks``, unless exact); numbers in forms the
        verifier must not read loosely (percent, exponent, NaN, infinity, outside [0, 1], an interval
        or several numbers around the truth, exactly the tolerance away), a distribution that
        is not one (unnormalised, negative entries, a state twice, an extra state, two
        distributions at once), yes-and-no, and an exact value claimed in words. For a
        comparison: a bare yes or no, both verdicts, the probabilities swapped (one or both),
        the probabilities right and the verdict wrong, the verdict right and the probabilities
        wrong, two values for one probability, a label twice or missing. Constants that happen
        to lie within the tolerance of this task's answer are left out: they are answers, not
        attacks."""
        answer = task.answer
        kind = answer["kind"]
        wrong_text = self.wrong_response(task).rpartition("<answer>")[2].removesuffix("</answer>")
        claimed = f"The exact answer, computed by variable elimination, is {reference_answer_text(answer)}.\n"
        attacks: list[tuple[str, Any]] = [("claimed-exact-then-wrong", claimed + f"<answer>{wrong_text}</answer>")]
        question = Question.of_task(task)  # one network for the three, so its posteriors are shared
        if not task.meta["table_lookup"]:
            attacks += table_read_attacks(task, question)
        attacks += rung_shortcut_attacks(task, question) + evidence_drop_attacks(task, question)
        if kind == "comparison":
            verdict, flipped = str(answer["value"]), "no" if answer["value"] == "yes" else "yes"
            first, second = (Fraction(repr(float(p))) for p in answer["values"])
            a, b = (f"{float(p):.4f}" for p in (first, second))

            def stated(x, y, word: str) -> str:
                return f"<answer>a={x}; b={y}; {word}</answer>"

            forms = ["yes and no", "yes/no", "no/yes", "both", "maybe", "true", "1", "YES NO", "no, yes", "y"]
            forms += ["yes!", "not no"]
            attacks += [(f"comparison-{index}", f"<answer>{form}</answer>") for index, form in enumerate(forms)]
            attacks += [
                ("yes-only", "<answer>yes</answer>"),
                ("no-only", "<answer>no</answer>"),
                ("both-verdicts", f"<answer>a={a}; b={b}; yes; no</answer>"),
                ("verdict-yes-slash-no", stated(a, b, "yes/no")),
                ("probabilities-right-verdict-wrong", stated(a, b, flipped)),
                ("probabilities-swapped", stated(b, a, verdict)),
                ("probabilities-swapped-verdict-follows", stated(b, a, flipped)),
                ("first-probability-swapped", stated(b, b, verdict)),
                ("second-probability-swapped", stated(a, a, verdict)),
                ("two-values-for-a", f"<answer>a={a} {b}; b={b}; {verdict}</answer>"),
                ("a-given-twice", f"<answer>a={a}; a={b}; b={b}; {verdict}</answer>"),
                ("b-missing", f"<answer>a={a}; {verdict}</answer>"),
                ("percent-probabilities", stated(f"{100 * float(first):.2f}%", f"{100 * float(second):.2f}%", verdict)),
                ("right-then-wrong-block", f"{stated(a, b, verdict)} on reflection <answer>{wrong_text}</answer>"),
            ]
            # the verdict right, the probabilities not: mirrored (1 − b, 1 − a keeps the order) and a fixed
            # guess, kept when one is five tolerances off (where even partial credit is 0)
            guess = (Fraction(6, 10), Fraction(4, 10)) if verdict == "yes" else (Fraction(4, 10), Fraction(6, 10))
            for name_, (x, y) in (("verdict-right-mirrored", (1 - second, 1 - first)), ("verdict-right-guess", guess)):
                if max(abs(x - first), abs(y - second)) >= Fraction(5, 100):
                    attacks.append((name_, stated(_decimal_text(x), _decimal_text(y), verdict)))
            return attacks
        if kind == "distribution":
            truth = [Fraction(repr(float(p))) for p in answer["distribution"]]
            name, states = str(answer["outcome"]), len(truth)

            def labelled(values) -> str:
                return ", ".join(f"P({name}={s})={v}" for s, v in enumerate(values))

            def far(values) -> bool:
                return sum(abs(Fraction(str(v)) - t) for v, t in zip(values, truth)) / 2 >= Fraction(2, 100)

            shown = [f"{float(t):.4f}" for t in truth]
            candidates = [
                (
                    "uniform-distribution",
                    [f"{1 / states:.6f}"] * (states - 1) + [f"{1 - (states - 1) * round(1 / states, 6):.6f}"],
                ),
                ("one-hot-first-state", ["1"] + ["0"] * (states - 1)),
                ("one-hot-last-state", ["0"] * (states - 1) + ["1"]),
            ]
            attacks += [(name_, f"<answer>{labelled(values)}</answer>") for name_, values in candidates if far(values)]
            attacks += [
                ("unnormalised-doubled", f"<answer>{labelled(f'{2 * float(t):.4f}' for t in truth)}</answer>"),
                ("negative-entry", f"<answer>{labelled(['1.5', '-0.5'] + ['0'] * (states - 2))}</answer>"),
                ("state-given-twice", f"<answer>{labelled(shown)}, P({name}=0)={shown[0]}</answer>"),
                ("extra-state", f"<answer>{labelled(shown)}, P({name}={states})=0</answer>"),
                ("two-distributions", f"<answer>{labelled(shown)}; {wrong_text}</answer>"),
                ("nan-entries", f"<answer>{labelled(['nan'] * states)}</answer>"),
                ("percent-entries", f"<answer>{labelled(f'{100 * float(t):.1f}%' for t in truth)}</answer>"),
                ("bare-list-too-long", "<answer>[" + ", ".join(shown + ["0"]) + "]</answer>"),
                (
                    "another-variable-named",
                    f"<answer>{labelled(shown).replace(f'P({name}=', 'P(' + ('B' if name == 'A' else 'A') + '=')}"
                    "</answer>",
                ),
            ]
            return attacks
        truth = Fraction(repr(float(answer["value"])))
        wrong = Fraction(wrong_text.strip())

        def far(value: Fraction) -> bool:
            return abs(value - truth) >= Fraction(2, 100)

        at_tolerance = (
            truth + Fraction(1, 100) if kind == "effect" or truth <= Fraction(99, 100) else truth - Fraction(1, 100)
        )
        interval = f"[{float(truth) - 0.05:.3f}, {float(truth) + 0.05:.3f}]"
        attacks += [
            ("percent-wrong", f"<answer>{100 * float(wrong):.2f}%</answer>"),
            ("scientific-wrong", f"<answer>{float(wrong):.4e}</answer>"),
            ("nan", "<answer>nan</answer>"),
            ("infinity", "<answer>inf</answer>"),
            ("negative-infinity", "<answer>-inf</answer>"),
            ("huge-number", "<answer>" + "9" * 15 + "</answer>"),
            ("several-numbers", f"<answer>{float(wrong):.4f} {float(truth):.4f}</answer>"),
            ("several-numbers-commas", f"<answer>{float(wrong):.4f}, {float(truth):.4f}</answer>"),
            ("interval-around-truth", f"<answer>{interval}</answer>"),
            ("plus-minus", f"<answer>{float(truth):.3f} ± 0.05</answer>"),
            ("exactly-at-tolerance", f"<answer>{_decimal_text(at_tolerance)}</answer>"),
            ("labelled-wrong", f"<answer>P({answer['outcome']}=0)={float(wrong):.4f}</answer>"),
            (
                "right-then-wrong-block",
                f"<answer>{float(truth):.4f}</answer> on reflection <answer>{wrong_text}</answer>",
            ),
        ]
        constants = [
            ("zero", Fraction(0)),
            ("half", Fraction(1, 2)),
            ("one", Fraction(1)),
            ("sign-flipped", -truth),
            ("complement", 1 - truth),
            ("absolute-value", abs(truth)),
            ("fraction-wrong", wrong),
        ]
        if kind == "probability":
            attacks += [
                ("above-one", f"<answer>{_decimal_text(truth + 1)}</answer>"),
                ("negative-probability", f"<answer>{_decimal_text(-truth - Fraction(1, 2))}</answer>"),
            ]
        attacks += [
            (
                name_,
                f"<answer>{value.numerator}/{value.denominator}</answer>"
                if name_ == "fraction-wrong"
                else f"<answer>{_decimal_text(value)}</answer>",
            )
            for name_, value in constants
            if far(value)
        ]
        return attacks


def table_read_attacks(task: Task, question: Question) -> list[tuple[str, str]]:
    """The plain table reads of ``table_reads`` (the mean of all the outcome's rows, the mean of
    those that agree with the question's values; red team S10-G3) stated in the task's format
    (``read_answer_text``); ``question`` is the task's (``Question.of_task``)."""
    _, plain = table_reads(question)
    state = task.meta["query"]["state"]
    return [(f"table-read-{index}", read_answer_text(task.answer, state, read)) for index, read in enumerate(plain)]


def rung_shortcut_attacks(task: Task, question: Question) -> list[tuple[str, str]]:
    """The rung shortcuts of ``rung_shortcuts`` (inference one rung too low; red team S10-G9)
    stated in the task's format (``read_answer_text``), except those that are the answer by
    the rung's identities (within EXACT of it: valid reasoning, not an attack)."""
    state = task.meta["query"]["state"]
    asked = Asked(question.kind, question.values, question.exact(), state, task.answer)
    return [
        (f"rung-shortcut-{name}", read_answer_text(task.answer, state, read))
        for name, read in rung_shortcuts(question)
        if read_distance(asked, read) > EXACT
    ]


def evidence_drop_attacks(task: Task, question: Question) -> list[tuple[str, str]]:
    """The answers of ``evidence_drops`` that ignore part of the question (red team S10b-B2)
    stated in the task's format (``read_answer_text``), except those that are the answer (within
    EXACT of it: the evidence left out is d-separated from the outcome — valid reasoning)."""
    state = task.meta["query"]["state"]
    asked = Asked(question.kind, question.values, question.exact(), state, task.answer)
    return [
        (f"evidence-drop-{name}", read_answer_text(task.answer, state, read))
        for name, read, _ in evidence_drops(question)
        if read_distance(asked, read) > EXACT
    ]


def read_answer_text(answer: dict, state: int | None, read: tuple[np.ndarray, ...]) -> str:
    """A read (one outcome distribution per asked treatment value) as a response in the task's
    format, numbers to 4 decimals — a comparison with the exact verdict, its two numbers split
    by 0.001 where they are equal."""
    kind = answer["kind"]
    if kind == "distribution":
        text = ", ".join(f"P({answer['outcome']}={s})={p:.4f}" for s, p in enumerate(read[0]))
    elif kind == "probability":
        text = f"{read[0][state]:.4f}"
    elif kind == "comparison":
        first, second = float(read[0][state]), float(read[1][state])
        if abs(first - second) < 0.001:
            middle, half = (first + second) / 2, 0.0005 if answer["value"] == "yes" else -0.0005
            first, second = middle + half, middle - half
        text = f"a={first:.4f}; b={second:.4f}; {answer['value']}"
    else:
        numbers = np.arange(len(read[0]))
        text = f"{float((read[0] - read[1]) @ numbers):.4f}"
    return f"<answer>{text}</answer>"


def _decimal_text(value: Fraction) -> str:
    """A fraction with a power-of-ten denominator (every value built here) written exactly."""
    digits = 0
    while (value * 10**digits).denominator != 1 and digits < 15:
        digits += 1
    scaled = value * 10**digits
    if scaled.denominator != 1:
        return f"{float(value):.15f}"
    sign, magnitude = ("-" if scaled < 0 else ""), abs(scaled.numerator)
    whole, part = divmod(magnitude, 10**digits)
    return f"{sign}{whole}" + (f".{part:0{digits}d}" if digits else "")


def reference_answer_text(answer: dict) -> str:
    """The text inside <answer>…</answer> that states ``answer`` in the documented format."""
    kind = answer["kind"]
    if kind == "distribution":
        return ", ".join(
            f"P({answer['outcome']}={s})={p:.4f}" for s, p in zip(answer["states"], answer["distribution"])
        )
    if kind == "comparison":
        first, second = answer["values"]
        return f"a={first:.4f}; b={second:.4f}; {answer['value']}"
    return f"{answer['value']:.4f}"
