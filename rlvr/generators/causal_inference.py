"""Exact inference in small discrete causal Bayesian networks, at all three rungs of the ladder.

Network         ``CausalNetwork``: variables 0…n−1 in a topological order, each with a number of
                states (2 or 3 here, any ≥ 2 works), a tuple of parents (earlier variables) and a
                conditional probability table ``tables[v]`` of shape
                (*cardinalities of the parents, cardinality of v``)``: the last axis sums to 1.
Association     ``posterior(network, target, evidence)`` = P(target | evidence).
Intervention    ``posterior(network, target, evidence, intervention)`` = P(target | do(intervention),
                evidence): the intervened variables lose their parents and are fixed (the
                "mutilated" network), then ordinary conditioning on the evidence.
Counterfactual  ``counterfactual(network, target, intervention, evidence)`` = P(target_{do(intervention)}
                | evidence), by the twin network. The tables alone do not fix counterfactuals; the
                structural model used here is the standard quantile (inverse-CDF) coupling: each
                variable V has its own exogenous U_V ~ Uniform[0, 1), independent of every other
                U, and V = the first state s with U_V < P(V ≤ s | parents). The factual and the
                hypothetical world share every U_V. Variables that are not descendants of the
                intervention keep their factual value; for each descendant V the twin network
                holds the factual V and its copy V*, generated jointly from (parents, parents*)
                by the coupled table
                    P(V=v, V*=w | pa, pa*) = |[F(v−1|pa), F(v|pa)) ∩ [F(w−1|pa*), F(w|pa*))|
                (F the cumulative table): the length of the U_V interval that gives v in the
                factual world and w in the hypothetical one. Summing out V* gives back the
                factual table, so the twin network's factual half is the original network.
Algorithm       Variable elimination over numpy factors: evidence is sliced in, barren variables
                (not ancestors of the target or the evidence) are pruned, then variables are
                summed out one at a time, smallest resulting factor first (ties by variable id, so
                the order — and every float — is reproducible). Each step is one ``numpy.einsum``.
                The order and the subscripts depend only on the factors' scopes, so they are
                planned once per shape (``elimination_plan``, cached), and each network memoises
                its answers: the generator's screens ask the same query many times.
Cost            Exponential only in the width of the elimination order; a 14-variable ternary
                network with in-degree 3 takes well under a millisecond per query, its twin
                network a few milliseconds (benchmarks/bench_causal.py).
"""

from __future__ import annotations

import functools
import math
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

EINSUM_LETTERS = string.ascii_letters  # numpy.einsum's 52 subscripts


@dataclass(frozen=True)
class CausalNetwork:
    """A discrete causal Bayesian network; variables are indices in topological order."""

    names: tuple[str, ...]
    cardinalities: tuple[int, ...]
    parents: tuple[tuple[int, ...], ...]
    tables: tuple[np.ndarray, ...]
    # Answers already computed on this network (``posterior``, ``counterfactual``, ``descendants``,
    # the twin networks, and derived values its users store under their own keys), keyed by the
    # normalised query; the network is immutable, so an answer never goes stale. Not part of
    # the network's identity.
    memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        count = len(self.names)
        if not (len(self.cardinalities) == len(self.parents) == len(self.tables) == count):
            raise ValueError("names, cardinalities, parents and tables must have one entry per variable")
        for v in range(count):
            if any(p >= v for p in self.parents[v]):
                raise ValueError(f"variable {v} has a parent that is not earlier in the order")
            shape = tuple(self.cardinalities[p] for p in self.parents[v]) + (self.cardinalities[v],)
            if self.tables[v].shape != shape:
                raise ValueError(f"table of variable {v} has shape {self.tables[v].shape}, expected {shape}")
            # |sum − 1| ≤ atol + rtol·1, numpy.allclose's test with its default rtol (NaN fails it)
            if not (np.abs(self.tables[v].sum(axis=-1) - 1.0) <= 1e-9 + 1e-5).all() or (self.tables[v] < 0).any():
                raise ValueError(f"table of variable {v} is not a conditional distribution")

    @property
    def size(self) -> int:
        return len(self.names)

    def graph(self) -> nx.DiGraph:
        """The DAG (nodes 0…n−1, edges parent → child, inserted in a fixed order)."""
        graph = nx.DiGraph()
        graph.add_nodes_from(range(self.size))
        graph.add_edges_from((p, v) for v in range(self.size) for p in self.parents[v])
        return graph

    def descendants(self, variables: Iterable[int]) -> set[int]:
        """Proper descendants of the given variables (the variables themselves excluded, unless
        one descends from another)."""
        roots = frozenset(variables)
        key = ("descendants", roots)
        if key not in self.memo:
            children = self.children()
            self.memo[key] = frozenset(closure((child for root in roots for child in children[root]), children))
        return set(self.memo[key])

    def children(self) -> tuple[tuple[int, ...], ...]:
        """Each variable's children, in increasing order."""
        if "children" not in self.memo:
            children: list[list[int]] = [[] for _ in range(self.size)]
            for v in range(self.size):
                for p in self.parents[v]:
                    children[p].append(v)
            self.memo["children"] = tuple(tuple(c) for c in children)
        return self.memo["children"]

    def ancestral_closure(self, variables: Iterable[int]) -> set[int]:
        """The variables together with all their ancestors."""
        return closure(variables, self.parents)


def closure(variables: Iterable[int], parents_of: Mapping[int, Iterable[int]] | tuple) -> set[int]:
    found = set(variables)
    stack = list(found)
    while stack:
        for parent in parents_of[stack.pop()]:
            if parent not in found:
                found.add(parent)
                stack.append(parent)
    return found


def d_separated(
    parents: tuple[tuple[int, ...], ...], sources: Iterable[int], targets: Iterable[int], given: Iterable[int]
) -> bool:
    """True when ``given`` d-separates ``sources`` from ``targets`` in the DAG whose variable v
    has the parents ``parents[v]`` (three disjoint sets): no trail between them is active.
    Koller & Friedman's reachability search (Probabilistic Graphical Models, algorithm 3.1):
    a trail passes a variable that is not given, unless it meets two arrowheads there (a
    collider), and passes a collider exactly when the collider or a descendant is given. Not
    networkx.is_d_separator: that one re-checks acyclicity and needs a graph object per edge
    cut, and the question screens ask thousands of these per second; the tests check this one
    against it on random graphs."""
    given = set(given)
    targets = set(targets)
    children: list[list[int]] = [[] for _ in parents]
    for v, ps in enumerate(parents):
        for p in ps:
            children[p].append(v)
    opens_collider = closure(given, parents)  # the given variables and their ancestors
    UP, DOWN = True, False  # reached from a child / from a parent
    stack = [(v, UP) for v in sources]
    seen: set[tuple[int, bool]] = set()
    while stack:
        v, direction = stack.pop()
        if (v, direction) in seen:
            continue
        seen.add((v, direction))
        if v not in given and v in targets:
            return False
        if direction is UP and v not in given:
            stack += [(p, UP) for p in parents[v]] + [(c, DOWN) for c in children[v]]
        elif direction is DOWN:
            if v not in given:
                stack += [(c, DOWN) for c in children[v]]
            if v in opens_collider:
                stack += [(p, UP) for p in parents[v]]
    return True


# --------------------------------------------------------------------------------------------
# Factors and variable elimination
# --------------------------------------------------------------------------------------------

Factor = tuple[tuple[int, ...], np.ndarray]


def merge_repeated_axes(variables: tuple[int, ...], values: np.ndarray) -> Factor:
    """A factor whose variable list names a variable twice becomes its diagonal over it."""
    unique = tuple(dict.fromkeys(variables))
    if len(unique) == len(variables):
        return variables, values
    letters = {v: EINSUM_LETTERS[i] for i, v in enumerate(unique)}
    spec = "".join(letters[v] for v in variables) + "->" + "".join(letters[v] for v in unique)
    return unique, np.einsum(spec, values)


def reduce_by_evidence(factor: Factor, evidence: Mapping[int, int]) -> Factor:
    variables, values = factor
    index = tuple(evidence[v] if v in evidence else slice(None) for v in variables)
    kept = tuple(v for v in variables if v not in evidence)
    return kept, values[index]


def contraction(scopes: list[tuple[int, ...]], eliminated: int | None) -> tuple[tuple[int, ...], str]:
    """The scope of the product of factors over ``scopes`` with ``eliminated`` summed out (None:
    keep every variable), and the ``numpy.einsum`` subscripts that compute it."""
    union = tuple(dict.fromkeys(v for variables in scopes for v in variables))
    if len(union) > len(EINSUM_LETTERS):
        raise ValueError(f"a factor over {len(union)} variables is beyond this eliminator")
    letters = {v: EINSUM_LETTERS[i] for i, v in enumerate(union)}
    kept = tuple(v for v in union if v != eliminated)
    spec = ",".join("".join(letters[v] for v in variables) for variables in scopes)
    return kept, spec + "->" + "".join(letters[v] for v in kept)


@dataclass(frozen=True)
class EliminationPlan:
    """How ``eliminate`` contracts a list of factors, fixed by their scopes alone. ``steps``:
    one per summed-out variable, (positions in the current list of the factors that hold it,
    einsum subscripts); the product replaces them at the end of the list. Then the factors
    left with no variable (``scalars``) multiply the product of the others (``final``:
    positions and subscripts; None when no factor holds the target)."""

    steps: tuple[tuple[tuple[int, ...], str], ...]
    scalars: tuple[int, ...]
    final: tuple[tuple[int, ...], str] | None


@functools.lru_cache(maxsize=8192)
def elimination_plan(
    scopes: tuple[tuple[int, ...], ...], cardinalities: tuple[int, ...], target: int
) -> EliminationPlan:
    """The plan for factors with these scopes (variables 0…k−1, ``cardinalities[v]`` states
    each): every variable but the target is summed out, the one whose product factor is
    smallest first (ties by the lower variable), so the order — and every float — is
    reproducible. Renaming the variables in an order-preserving way gives the same plan."""
    states = cardinalities
    pool = list(scopes)
    remaining = sorted({v for variables in pool for v in variables} - {target})
    steps = []
    while remaining:
        touched: dict[int, set[int]] = {}  # each variable with every variable it shares a factor with
        for variables in pool:
            for v in variables:
                touched.setdefault(v, set()).update(variables)

        def cost(variable: int) -> tuple[int, int]:
            return math.prod(states[v] for v in touched[variable] if v != variable), variable

        variable = min(remaining, key=cost)
        remaining.remove(variable)
        positions = tuple(i for i, variables in enumerate(pool) if variable in variables)
        kept, spec = contraction([pool[i] for i in positions], variable)
        steps.append((positions, spec))
        pool = [variables for i, variables in enumerate(pool) if i not in positions] + [kept]
    scalars = tuple(i for i, variables in enumerate(pool) if not variables)
    with_target = tuple(i for i, variables in enumerate(pool) if variables)
    final = (with_target, contraction([pool[i] for i in with_target], None)[1]) if with_target else None
    return EliminationPlan(tuple(steps), scalars, final)


def eliminate(
    factors: list[Factor], cardinalities: Mapping[int, int], target: int, evidence: Mapping[int, int]
) -> np.ndarray:
    """P(target | evidence) from factors whose product is a joint distribution (possibly with
    barren variables already pruned; no factor names a variable twice — ``merge_repeated_axes``),
    by ``elimination_plan``. Raises ValueError when the evidence has probability 0. An observed
    target gets the point mass on its observed state."""
    if target in evidence:
        others = {v: s for v, s in evidence.items() if v != target}
        if not eliminate(factors, cardinalities, target, others)[evidence[target]] > 0.0:
            raise ValueError("the evidence has probability zero")
        return indicator(cardinalities[target], evidence[target])
    pool = [reduce_by_evidence(factor, evidence) for factor in factors]
    used = sorted({v for variables, _ in pool for v in variables} | {target})
    rank = {v: i for i, v in enumerate(used)}  # the plan is shared by networks whose queries look alike
    plan = elimination_plan(
        tuple(tuple(rank[v] for v in variables) for variables, _ in pool),
        tuple(cardinalities[v] for v in used),
        rank[target],
    )
    values = [factor_values for _, factor_values in pool]
    for positions, spec in plan.steps:
        product = np.einsum(spec, *(values[i] for i in positions))
        values = [factor_values for i, factor_values in enumerate(values) if i not in positions] + [product]
    if plan.final is not None:
        positions, spec = plan.final
        unnormalised = np.einsum(spec, *(values[i] for i in positions))
    else:
        unnormalised = np.ones(cardinalities[target])
    for i in plan.scalars:
        unnormalised = unnormalised * values[i]
    total = float(unnormalised.sum())
    if not total > 0.0:
        raise ValueError("the evidence has probability zero")
    return unnormalised / total


def indicator(cardinality: int, state: int) -> np.ndarray:
    values = np.zeros(cardinality)
    values[state] = 1.0
    return values


# --------------------------------------------------------------------------------------------
# The three rungs
# --------------------------------------------------------------------------------------------


def check_assignment(network: CausalNetwork, assignment: Mapping[int, int], what: str) -> None:
    for variable, state in assignment.items():
        if not 0 <= variable < network.size:
            raise ValueError(f"{what} names unknown variable {variable}")
        if not 0 <= state < network.cardinalities[variable]:
            raise ValueError(f"{what} gives {network.names[variable]} the state {state}, which it does not have")


def posterior(
    network: CausalNetwork,
    target: int,
    evidence: Mapping[int, int] | None = None,
    intervention: Mapping[int, int] | None = None,
) -> np.ndarray:
    """P(target | do(intervention), evidence) as an array over the target's states (a fresh
    array; the network memoises the answer, so asking again costs a dictionary look-up)."""
    evidence, intervention = dict(evidence or {}), dict(intervention or {})
    check_assignment(network, evidence, "the evidence")
    check_assignment(network, intervention, "the intervention")
    for variable, state in intervention.items():
        if evidence.get(variable, state) != state:
            raise ValueError("the evidence contradicts the intervention: probability zero")
    if target in intervention:
        return indicator(network.cardinalities[target], intervention[target])
    key = ("posterior", target, tuple(sorted(evidence.items())), tuple(sorted(intervention.items())))
    if key not in network.memo:
        mutilated_parents = tuple(() if v in intervention else network.parents[v] for v in range(network.size))
        relevant = closure({target, *evidence, *intervention}, mutilated_parents)
        factors: list[Factor] = []
        for v in sorted(relevant):
            if v in intervention:
                factors.append(((v,), indicator(network.cardinalities[v], intervention[v])))
            else:
                factors.append((network.parents[v] + (v,), network.tables[v]))
        fixed = {**evidence, **intervention}
        network.memo[key] = eliminate(factors, dict(enumerate(network.cardinalities)), target, fixed)
    return network.memo[key].copy()


def coupled_table(table: np.ndarray) -> np.ndarray:
    """For a table of shape (C, k) (parent configurations × states): the array of shape
    (C, C, k, k) whose [c, d, v, w] is the probability, under the quantile coupling, that the
    variable is v with parents in configuration c and w with parents in configuration d."""
    cumulative = np.concatenate([np.zeros((table.shape[0], 1)), np.cumsum(table, axis=1)], axis=1)
    cumulative[:, -1] = 1.0
    lower, upper = cumulative[:, :-1], cumulative[:, 1:]
    overlap = np.minimum(upper[:, None, :, None], upper[None, :, None, :]) - np.maximum(
        lower[:, None, :, None], lower[None, :, None, :]
    )
    return np.clip(overlap, 0.0, None)


@dataclass(frozen=True)
class TwinNetwork:
    """The twin network of one intervention as factors. Factual variables keep their ids
    0…n−1; the hypothetical copy of a changed variable v (a proper descendant of the
    intervention, or an intervened variable) has id n + v; ``world_id[v]`` is the id that
    holds v's hypothetical value (v itself when it cannot change)."""

    factors: tuple[Factor, ...]
    heads: tuple[tuple[int, ...], ...]  # the variables each factor generates
    cardinalities: dict
    world_id: tuple[int, ...]


def twin_network(network: CausalNetwork, intervention: Mapping[int, int]) -> TwinNetwork:
    count = network.size
    changed = network.descendants(intervention) - set(intervention)
    world_id = tuple(count + v if (v in changed or v in intervention) else v for v in range(count))
    cardinalities = {v: network.cardinalities[v] for v in range(count)}
    factors: list[Factor] = []
    heads: list[tuple[int, ...]] = []
    for v in range(count):
        card = network.cardinalities[v]
        if v in intervention:
            cardinalities[count + v] = card
            factors.append(((count + v,), indicator(card, intervention[v])))
            heads.append((count + v,))
        if v not in changed:
            factors.append((network.parents[v] + (v,), network.tables[v]))
            heads.append((v,))
            continue
        cardinalities[count + v] = card
        parent_cards = tuple(network.cardinalities[p] for p in network.parents[v])
        configurations = int(np.prod(parent_cards, dtype=np.int64))
        joint = coupled_table(network.tables[v].reshape(configurations, card))
        joint = joint.reshape(parent_cards + parent_cards + (card, card))
        hypothetical_parents = tuple(world_id[p] for p in network.parents[v])
        factors.append(merge_repeated_axes(network.parents[v] + hypothetical_parents + (v, count + v), joint))
        heads.append((v, count + v))
    return TwinNetwork(tuple(factors), tuple(heads), cardinalities, world_id)


def counterfactual(
    network: CausalNetwork, target: int, intervention: Mapping[int, int], evidence: Mapping[int, int] | None = None
) -> np.ndarray:
    """P(target_{do(intervention)} | evidence): the target's distribution in the hypothetical
    world where the intervention is made, given what was observed in the factual world (a fresh
    array; the network memoises the answer and the twin network of each intervention)."""
    evidence, intervention = dict(evidence or {}), dict(intervention or {})
    check_assignment(network, evidence, "the evidence")
    check_assignment(network, intervention, "the intervention")
    if not intervention:
        raise ValueError("a counterfactual needs an intervention")
    setting = tuple(sorted(intervention.items()))
    key = ("counterfactual", target, tuple(sorted(evidence.items())), setting)
    if key not in network.memo:
        if ("twin", setting) not in network.memo:
            twin = twin_network(network, intervention)
            parents_of: dict[int, set[int]] = {}
            generated_by: dict[int, int] = {}
            for index, (factor, heads) in enumerate(zip(twin.factors, twin.heads)):
                for head in heads:
                    generated_by[head] = index
                    parents_of[head] = set(factor[0]) - set(heads)
            network.memo["twin", setting] = twin, parents_of, generated_by
        twin, parents_of, generated_by = network.memo["twin", setting]
        query = twin.world_id[target]
        relevant = closure({query, *evidence}, parents_of)
        used = sorted({generated_by[v] for v in relevant})
        factors = [twin.factors[i] for i in used]
        network.memo[key] = eliminate(factors, twin.cardinalities, query, evidence)
    return network.memo[key].copy()
