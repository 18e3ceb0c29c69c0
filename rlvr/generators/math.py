"""How maths tasks are made: the kinds' builders, dataset rows, near misses, attacks.

Every kind computes with Python's exact integers and ``fractions.Fraction`` (polynomials as
coefficient lists, multiplied by convolution) and writes its LaTeX itself, exactly as
``sympy.latex`` prints the expressions the kinds once built with sympy (term order, factor order,
spacing: ``polynomial_latex``, ``product_latex``, ``factored_latex``); ``meta["expression_size"]``
is the node count of the problem as that sympy expression tree, counted without building it.
sympy stays as the reference: tests/test_math_generator_sympy_parity.py holds every algebra kind
to the sympy builder it replaced, field for field, over the declared parameter ranges.

For speed the kinds draw through ``draw_int``, ``draw_below``, ``draw_item``,
``draw_int_skipping`` and ``draw_sample`` (``random.Random``'s own draws from the same state,
without the methods' overhead), fractions are drawn as integer pairs (``drawn_chain``), and the
factors of a product are printed once per process (``printed_factor``); the tasks are the same
bytes (tests/test_math_generator_draws.py).

The family's contract (task, answer, verifier, difficulty, version history) is the docstring of
``rlvr.families.math``.
"""

from __future__ import annotations

import functools
import json
import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import sympy

from rlvr.core import Task, TaskGenerator
from rlvr.families.math import FAMILY
from rlvr.verifiers.math import NUMBER_ARITHMETIC, parse_plain_number

SYSTEM_VARIABLES = ("x", "y", "z")

BOX_RULE = r"Put your final answer inside \boxed{}; only the last \boxed{} counts, so give exactly one."
DATASET_INSTRUCTION = r"Put your final answer within \boxed{}."
PROBLEM_COLUMNS = ("problem", "prompt", "question")
PROMPT_NUMBER = re.compile(r"\d+")  # the numbers a prompt states, in order: part of its problem_key
# a prompt whose expression is two operands joined by + or ·: problem_key takes them in either order
SWAPPABLE_PAIR = re.compile(
    r"Compute the exact value of \$(?P<left>[^$ ]+) (?P<operator>\+|\\cdot) (?P<right>[^$ ]+)\$\."
)
UNORDERED_OPERANDS = frozenset({"gcd", "lcm"})  # subkinds whose operands problem_key takes as a multiset


@dataclass
class Problem:
    """What a kind's builder returns: the statement, the gold answer and how to judge it."""

    statement: str
    form_instruction: str
    gold: str
    form: str
    expression_size: int  # nodes of the problem as a sympy expression tree
    working: list[str]
    subkind: str
    extra_answer: dict = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Draws
# --------------------------------------------------------------------------------------------
# ``random.Random``'s randint, randrange and choice draw an integer below a width n as CPython's
# ``Random._randbelow``: getrandbits(n.bit_length()) until it is below n. These make exactly
# those draws from the same state (so the same tasks) without the methods' argument checks and
# two or three Python calls each, which cost more than the draw; tests hold them to the methods.


def draw_below(rng: random.Random, n: int) -> int:
    """``rng.randrange(n)`` for n > 0."""
    if n <= 0:
        raise ValueError(f"empty range for a draw below {n}")
    bits = n.bit_length()
    value = rng.getrandbits(bits)
    while value >= n:
        value = rng.getrandbits(bits)
    return value


def draw_int(rng: random.Random, low: int, high: int) -> int:
    """``rng.randint(low, high)`` for low ≤ high."""
    width = high - low + 1
    if width <= 0:
        raise ValueError(f"empty range for a draw in [{low}, {high}]")
    bits = width.bit_length()
    value = rng.getrandbits(bits)
    while value >= width:
        value = rng.getrandbits(bits)
    return low + value


def draw_int_skipping(rng: random.Random, low: int, high: int, skipped: tuple[int, ...]) -> int:
    """``rng.choice([k for k in range(low, high + 1) if k not in skipped])`` (``skipped``
    in increasing order), without building the list."""
    inside = [k for k in skipped if low <= k <= high]
    value = low + draw_below(rng, high - low + 1 - len(inside))
    for k in inside:
        if value >= k:
            value += 1
    return value


def draw_sample(rng: random.Random, n: int, k: int) -> list[int]:
    """``rng.sample(range(n), k)``: for a population of at most 21 (a list is smaller than the
    set CPython would use otherwise) its draws, each taken item's place filled by the last one
    left; the method itself above that."""
    if n > 21 or not 0 <= k <= n:
        return rng.sample(range(n), k)
    pool = list(range(n))
    taken = []
    for left in range(n, n - k, -1):
        index = draw_below(rng, left)
        taken.append(pool[index])
        pool[index] = pool[left - 1]
    return taken


def draw_item(rng: random.Random, items: Any) -> Any:
    """``rng.choice(items)``."""
    n = len(items)
    if not n:
        raise IndexError("cannot draw from an empty sequence")
    bits = n.bit_length()
    index = rng.getrandbits(bits)
    while index >= n:
        index = rng.getrandbits(bits)
    return items[index]


# --------------------------------------------------------------------------------------------
# LaTeX helpers
# --------------------------------------------------------------------------------------------


def latex_rational(value: Any) -> str:
    """``-\\frac{7}{3}``, ``5``: the LaTeX of an exact rational (int, Fraction or sympy)."""
    if isinstance(value, (int, Fraction)):
        return fraction_latex(value.numerator, value.denominator)
    rational = sympy.Rational(value)
    return fraction_latex(rational.p, rational.q)


def fraction_latex(numerator: int, denominator: int) -> str:
    """``latex_rational`` of ``numerator / denominator`` given in lowest terms (denominator > 0)."""
    if denominator == 1:
        return str(numerator)
    if numerator < 0:
        return rf"-\frac{{{-numerator}}}{{{denominator}}}"
    return rf"\frac{{{numerator}}}{{{denominator}}}"


def nonzero(rng: random.Random, low: int, high: int) -> int:
    while True:
        value = draw_int(rng, low, high)
        if value:
            return value


def linear_latex(coefficient: int, constant: int, symbol: str = "x") -> str:
    """``3x - 5``, ``-x + 2``, ``x``."""
    if coefficient == 1:
        head = symbol
    elif coefficient == -1:
        head = f"-{symbol}"
    else:
        head = f"{coefficient}{symbol}"
    if constant == 0:
        return head
    return f"{head} {'+' if constant > 0 else '-'} {abs(constant)}"


def signed(text: str, value: int) -> str:
    """Append ``+ value`` / ``- |value|`` to a LaTeX term."""
    if value == 0:
        return text
    return f"{text} {'+' if value > 0 else '-'} {abs(value)}"


# --------------------------------------------------------------------------------------------
# Kinds
# --------------------------------------------------------------------------------------------


@dataclass
class Chain:
    """operands[0] ops[0] operands[1] … with the usual precedence (· and ÷ before + and −)."""

    operands: list  # Chain, Fraction, or (numerator, denominator) in lowest terms (drawn_chain's)
    ops: list[str]  # "+", "-", "*", "/"


def random_operand(rng: random.Random, max_coefficient: int, negative: bool) -> tuple[int, int]:
    """(numerator, denominator) in lowest terms of a fraction up to ``max_coefficient`` over 2
    to ``max_coefficient``, now and then negated (``negative``) or a whole number."""
    denominator = draw_int(rng, 2, max(2, max_coefficient))
    numerator = draw_int(rng, 1, max_coefficient)
    if negative and rng.random() < 0.3:
        numerator = -numerator
    if rng.random() < 0.2:  # now and then a whole number
        return numerator, 1
    common = math.gcd(numerator, denominator)
    return numerator // common, denominator // common


def drawn_chain(rng: random.Random, params: dict, depth: int) -> Chain:
    """A random chain whose numbers are (numerator, denominator) pairs: what the
    fraction_arithmetic kind draws and evaluates (``worked_chain``)."""
    length = params["terms"] if depth == 0 else draw_int(rng, 2, max(2, params["terms"]))
    negative = params["nesting"] >= 1
    operands: list = [random_operand(rng, params["max_coefficient"], negative) for _ in range(length)]
    if depth < params["nesting"]:
        operands[draw_below(rng, length)] = drawn_chain(rng, params, depth + 1)
    ops = [draw_item(rng, "+-*/") for _ in range(length - 1)]
    return Chain(operands, ops)


def random_chain(rng: random.Random, params: dict, depth: int) -> Chain:
    """``drawn_chain`` (the same draws) with ``Fraction`` numbers, for exact arithmetic on it."""
    return with_fractions(drawn_chain(rng, params, depth))


def with_fractions(node: Any) -> Any:
    """A drawn chain with each (numerator, denominator) pair as a ``Fraction``."""
    if type(node) is Chain:
        return Chain([with_fractions(operand) for operand in node.operands], node.ops)
    return Fraction(*node)


def chain_value(node: Any) -> Fraction | None:
    """The chain's exact value (· and ÷ before + and −); None when it divides by zero anywhere
    (where ``chain_sympy(node).doit()`` of it or of an inner chain is not a rational)."""
    if isinstance(node, Fraction):
        return node
    worked = worked_chain(node, [])
    return None if worked is None else Fraction(worked[0], worked[1])


def reduced(numerator: int, denominator: int) -> tuple[int, int]:
    """``numerator / denominator`` in lowest terms with a positive denominator (nonzero)."""
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    common = math.gcd(numerator, denominator)
    return numerator // common, denominator // common


def worked_chain(node: Chain, working: list[str]) -> tuple[int, int, str, int] | None:
    """(numerator, denominator, LaTeX, size) of a chain: its exact value in lowest terms, the
    chain itself (``chain_latex``) and the nodes of ``chain_sympy(node)`` (its preorder
    traversal) counted without building it (a rational is 1, a division a Pow(…, -1) 2 more, a
    product of several factors, a negated product Mul(-1, …) and a sum of several products 1
    more each), in one pass over exact integers; appends to ``working`` the line ``$inner =
    value$`` of each inner chain, innermost first (the order of ``inner_chains``). None when it
    divides by zero anywhere (``chain_value``)."""
    pieces: list[str] = []
    total_n, total_d, sign = 0, 1, 1
    product_n = product_d = 0
    summed_size = products = 0  # the closed products: their sizes (signs included) and count
    factors_size = factors = 0  # the open product: its factors' sizes and count
    for index, operand in enumerate(node.operands):
        op = node.ops[index - 1] if index else "+"
        if type(operand) is Chain:
            inner = worked_chain(operand, working)
            if inner is None:
                return None
            value_n, value_d, inner_latex, size = inner
            working.append(f"${inner_latex} = {fraction_latex(value_n, value_d)}$")
            text = rf"\left({inner_latex}\right)"
        else:
            value_n, value_d = operand if type(operand) is tuple else (operand.numerator, operand.denominator)
            text, size = fraction_latex(value_n, value_d), 1
            if value_n < 0 and index:
                text = rf"\left({text}\right)"
        pieces.append(text if not index else f"{CHAIN_SYMBOLS[op]} {text}")
        if not index:
            product_n, product_d = value_n, value_d
            factors_size, factors = size, 1
        elif op == "*":
            product_n, product_d = reduced(product_n * value_n, product_d * value_d)
            factors_size, factors = factors_size + size, factors + 1
        elif op == "/":
            if value_n == 0:
                return None
            product_n, product_d = reduced(product_n * value_d, product_d * value_n)
            factors_size, factors = factors_size + size + 2, factors + 1
        else:
            total_n, total_d = reduced(total_n * product_d + sign * product_n * total_d, total_d * product_d)
            summed_size += (factors_size if factors == 1 else 1 + factors_size) + (0 if sign > 0 else 2)
            products += 1
            sign, product_n, product_d = (1 if op == "+" else -1), value_n, value_d
            factors_size, factors = size, 1
    total_n, total_d = reduced(total_n * product_d + sign * product_n * total_d, total_d * product_d)
    summed_size += (factors_size if factors == 1 else 1 + factors_size) + (0 if sign > 0 else 2)
    return total_n, total_d, " ".join(pieces), summed_size if products == 0 else 1 + summed_size


def chain_sympy(node: Any) -> sympy.Expr:
    """The chain as an unevaluated sympy expression, precedence made explicit."""
    if isinstance(node, Fraction):
        return sympy.Rational(node.numerator, node.denominator)
    signed_products: list[tuple[int, list]] = []
    sign, factors = 1, [chain_sympy(node.operands[0])]
    for op, operand in zip(node.ops, node.operands[1:]):
        value = chain_sympy(operand)
        if op == "*":
            factors.append(value)
        elif op == "/":
            factors.append(sympy.Pow(value, -1, evaluate=False))
        else:
            signed_products.append((sign, factors))
            sign, factors = (1 if op == "+" else -1), [value]
    signed_products.append((sign, factors))
    parts = []
    for sign, product_factors in signed_products:
        product = product_factors[0] if len(product_factors) == 1 else sympy.Mul(*product_factors, evaluate=False)
        parts.append(product if sign > 0 else sympy.Mul(-1, product, evaluate=False))
    return parts[0] if len(parts) == 1 else sympy.Add(*parts, evaluate=False)


CHAIN_SYMBOLS = {"+": "+", "-": "-", "*": r"\cdot", "/": r"\div"}


def chain_latex(node: Any, first: bool = True) -> str:
    if isinstance(node, Fraction):
        text = latex_rational(node)
        return rf"\left({text}\right)" if node < 0 and not first else text
    pieces = [chain_latex_operand(node.operands[0], True)]
    for op, operand in zip(node.ops, node.operands[1:]):
        pieces.append(f"{CHAIN_SYMBOLS[op]} {chain_latex_operand(operand, False)}")
    return " ".join(pieces)


def chain_latex_operand(node: Any, first: bool) -> str:
    if isinstance(node, Chain):
        return rf"\left({chain_latex(node)}\right)"
    return chain_latex(node, first)


def inner_chains(node: Any) -> list[Chain]:
    """Sub-chains, innermost first."""
    found: list[Chain] = []
    if isinstance(node, Chain):
        for operand in node.operands:
            found.extend(inner_chains(operand))
            if isinstance(operand, Chain):
                found.append(operand)
    return found


def build_fraction_arithmetic(rng: random.Random, params: dict) -> Problem:
    for _ in range(100):
        chain = drawn_chain(rng, params, 0)
        working: list[str] = []
        worked = worked_chain(chain, working)
        if worked is not None:
            break
    else:  # pragma: no cover - a zero divisor a hundred times in a row
        raise ValueError("could not draw a fraction expression without division by zero")
    numerator, denominator, latex, size = worked
    value = fraction_latex(numerator, denominator)
    working.append(f"${latex} = {value}$")
    return Problem(
        statement=f"Compute the exact value of ${latex}$.",
        form_instruction=r"Give the answer as an integer or a fraction, for example \boxed{-\frac{7}{12}}.",
        gold=value,
        form="number",
        expression_size=size,
        working=working,
        subkind=f"{len(chain.operands)} operands",
    )


def x_term_latex(coefficient: int) -> str:
    """``3 x``, ``x``, ``- x``, ``- 3 x``: sympy's LaTeX of a nonzero integer times x."""
    return monomial_latex(coefficient, 1)


def collected_linear_latex(coefficient: int, constant: int) -> str:
    """sympy's LaTeX of ``coefficient·x + constant`` (coefficient nonzero): the x term first,
    except that a positive constant leads a negative x term (``5 - 3 x``)."""
    return polynomial_latex([constant, coefficient])


def build_linear_equation(rng: random.Random, params: dict) -> Problem:
    """The left side is kept as the integers (x coefficient, constant) it expands to, and the size
    of its unevaluated sympy tree: Add(Mul(a, x), b) is 5 nodes, each nesting c·(…) + d adds 4, an
    extra x term 4 and an extra constant 2; the right side Add(Mul(g, x), h) is 5, Eq one more."""
    bound, nesting = params["max_coefficient"], params["nesting"]
    small = max(2, bound // 3)
    multiplier = max(2, min(9, bound // 10))
    a, b = nonzero(rng, -small, small), draw_int(rng, -bound, bound)
    lhs_latex = linear_latex(a, b)
    x_coefficient, constant, lhs_size = a, b, 5
    for _ in range(nesting):
        c, d = (
            draw_int_skipping(rng, -multiplier, multiplier, (0, 1)),
            nonzero(rng, -bound, bound),
        )
        lhs_latex = signed(rf"{'-' if c == -1 else c}\left({lhs_latex}\right)", d)
        x_coefficient, constant, lhs_size = c * x_coefficient, c * constant + d, lhs_size + 4
    for _ in range(params["terms"] - 2):  # more terms on the left: an x term or a constant
        e = nonzero(rng, -small, small)
        if rng.random() < 0.5:
            term = "x" if abs(e) == 1 else f"{abs(e)}x"
            x_coefficient, lhs_size = x_coefficient + e, lhs_size + 4
        else:
            e = nonzero(rng, -bound, bound)
            term = str(abs(e))
            constant, lhs_size = constant + e, lhs_size + 2
        lhs_latex = f"{lhs_latex} {'+' if e > 0 else '-'} {term}"
    g = draw_int_skipping(rng, -small, small, (x_coefficient,))
    if nesting == 0:
        # an integer solution within ±max(bound, 30): from ±9 each sign pattern of the equation
        # (which tells much of the solution's sign) had a commonest answer of 13–15 % (S10b-B6)
        solution_drawn = draw_int(rng, -max(bound, 30), max(bound, 30))
        h = x_coefficient * solution_drawn + constant - g * solution_drawn
    else:  # any rational solution
        h = draw_int(rng, -bound, bound)
    rhs_latex = linear_latex(g, h) if g else str(h)
    collected_x, collected_constant = x_coefficient - g, constant - h  # g was drawn unequal to the x coefficient
    solution = Fraction(-collected_constant, collected_x)
    working = [
        rf"Expand and collect everything on the left: ${collected_linear_latex(collected_x, collected_constant)} = 0$.",
        rf"So ${x_term_latex(collected_x)} = {latex_rational(-collected_constant)}$ and $x = "
        rf"{latex_rational(solution)}$.",
    ]
    return Problem(
        statement=f"Solve for $x$: ${lhs_latex} = {rhs_latex}$.",
        form_instruction=r"Give the value of $x$ as an integer or a fraction, for example \boxed{\frac{5}{2}}.",
        gold=latex_rational(solution),
        form="number",
        expression_size=1 + lhs_size + 5,
        working=working,
        subkind=f"nesting {nesting}",
        extra_answer={"labels": ["x"]},
    )


def factored_latex(content: int, factors: list[tuple[list[int], int]]) -> str:
    """sympy's LaTeX of the evaluated product content · Π factor^multiplicity of primitive
    integer polynomials (``factor_list``'s), of degree 2 or more (sympy would distribute the
    content over a lone linear factor): a negative content as a leading ``- ``, a content of
    ±1 unwritten, then a bare x (or x^m), then the factors of two or more terms in
    ``factor_order``."""
    pieces = [str(abs(content))] if abs(content) != 1 else []
    pieces += [monomial_latex(1, m) for coefficients, m in factors if coefficients == [0, 1]]
    binomials = [factor for factor in factors if factor[0] != [0, 1]]
    if binomials:
        pieces.append(product_latex(binomials))
    text = " ".join(pieces)
    return f"- {text}" if content < 0 else text


def linear_factorisation(
    scale: int, linear: list[tuple[int, int]]
) -> tuple[int, list[tuple[list[int], int]], list[tuple[int, int]]]:
    """sympy's ``factor_list`` of scale·Π(d·x − n) over the (n, d) of ``linear`` (d > 0): the
    content (scale times each factor's gcd(n, d)), each root's primitive factor [−n', d'] (by
    degree) with its multiplicity, and the distinct roots n'/d' (in lowest terms) in increasing
    order."""
    content = scale
    multiplicities: dict[tuple[int, int], int] = {}
    for numerator, denominator in linear:
        common = math.gcd(numerator, denominator)
        content *= common
        root = (numerator // common, denominator // common)
        multiplicities[root] = multiplicities.get(root, 0) + 1
    roots = sorted(multiplicities, key=BY_VALUE)
    return content, [([-n, d], multiplicities[n, d]) for n, d in roots], roots


BY_VALUE = functools.cmp_to_key(lambda a, b: a[0] * b[1] - b[0] * a[1])  # (n, d) pairs, d > 0, by n/d


def build_quadratic_equation(rng: random.Random, params: dict) -> Problem:
    """Exact integers: scale·(d₁x − n₁)(d₂x − n₂), roots n₁/d₁ and n₂/d₂, factorised by
    ``linear_factorisation``; the size is that of the sympy tree Eq(lhs, rhs) of the evaluated
    sides."""
    bound, nesting = params["max_coefficient"], params["nesting"]
    root_bound = max(3, bound // 2)
    roots_drawn = []
    for _ in range(2):
        denominator = draw_int(rng, 1, nesting + 1)
        numerator = draw_int(rng, -root_bound, root_bound)
        roots_drawn.append((numerator, denominator))
    scale = draw_int_skipping(rng, -nesting - 1, nesting + 1, (0,)) if nesting else 1
    polynomial = [scale]
    for numerator, denominator in roots_drawn:
        polynomial = multiplied(polynomial, [-numerator, denominator])
    if params["terms"] >= 3:  # move part of the linear and constant terms to the right
        s, t = draw_int(rng, -bound, bound), draw_int(rng, -bound, bound)
        lhs, rhs = [polynomial[0] + t, polynomial[1] + s, polynomial[2]], [t, s]
    else:
        lhs, rhs = polynomial, [0]
    content, factors, roots = linear_factorisation(scale, roots_drawn)
    values = [fraction_latex(*root) for root in roots]
    (c, b, a) = polynomial
    rhs_latex = polynomial_latex(rhs) if any(rhs) else "0"
    working = [
        rf"Bring everything to one side: ${polynomial_latex(polynomial)} = 0$ (discriminant ${b * b - 4 * a * c}$).",
        rf"Factor: ${factored_latex(content, factors)} = 0$, so $x \in \{{{', '.join(values)}\}}$.",
    ]
    return Problem(
        statement=f"Find all real solutions of ${polynomial_latex(lhs)} = {rhs_latex}$.",
        form_instruction=(
            r"List every distinct solution once, separated by commas, in any order, for example "
            r"\boxed{-2, \frac{1}{3}}."
        ),
        gold=", ".join(values),
        form="set",
        expression_size=1 + polynomial_size(lhs) + (polynomial_size(rhs) if any(rhs) else 1),
        working=working,
        subkind="double root" if len(roots) == 1 else "two roots",
        extra_answer={"values": values, "variable": "x"},
    )


def determinant(matrix: list[list[int]]) -> int:
    """The determinant of a 2×2 or 3×3 integer matrix (cofactor expansion along the first row)."""
    if len(matrix) == 2:
        (a, b), (c, d) = matrix
        return a * d - b * c
    (a, b, c), (d, e, f), (g, h, i) = matrix
    return a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)


def linear_form_latex(coefficients: list[int], variables: tuple[str, ...]) -> str:
    """sympy's LaTeX of ``Σ coefficients[j]·variables[j]`` (not all zero): the nonzero terms in
    the variables' order, ``- 5 x + y - 2 z``."""
    terms = [(c, v) for c, v in zip(coefficients, variables) if c]
    pieces = []
    for index, (coefficient, variable) in enumerate(terms):
        magnitude = variable if abs(coefficient) == 1 else f"{abs(coefficient)} {variable}"
        if coefficient > 0:
            pieces.append(f"+ {magnitude}" if index else magnitude)
        else:
            pieces.append(f"- {magnitude}")
    return " ".join(pieces)


def build_linear_system(rng: random.Random, params: dict) -> Problem:
    """Exact integers: the system is drawn from its solution, so the solution is the draw; the
    size is that of the sympy tree Tuple(Eq(lhs, constant), …): a left side of several terms is
    Add 1 + 3 per term (1 for a coefficient of 1: the bare variable), of one term just that term."""
    unknowns, bound = params["unknowns"], params["max_coefficient"]
    variables = SYSTEM_VARIABLES[:unknowns]
    small = max(3, bound // 4)
    while True:
        matrix = [[draw_int(rng, -small, small) for _ in range(unknowns)] for _ in range(unknowns)]
        det = determinant(matrix)
        if det != 0:
            break
    solution = [draw_int(rng, -bound, bound) for _ in range(unknowns)]
    constants = [sum(a * s for a, s in zip(row, solution)) for row in matrix]
    size = 1
    for row in matrix:
        terms = [1 if c == 1 else 3 for c in row if c]
        size += 2 + (terms[0] if len(terms) == 1 else 1 + sum(terms))
    values = [str(v) for v in solution]
    names = ", ".join(variables)
    shape = "pair" if unknowns == 2 else "triple"
    lines = "\n".join(f"${linear_form_latex(row, variables)} = {constant}$" for row, constant in zip(matrix, constants))
    working = [
        f"Eliminate one unknown at a time (determinant {det}).",
        f"${', '.join(f'{v} = {w}' for v, w in zip(variables, values))}$.",
    ]
    return Problem(
        statement=f"Solve the system of equations\n{lines}",
        form_instruction=(
            rf"Give the solution as the ordered {shape} $({names})$, for example "
            rf"\boxed{{({', '.join(['1', '-2', '5'][:unknowns])})}}."
        ),
        gold="(" + ", ".join(values) + ")",
        form="tuple",
        expression_size=size,
        working=working,
        subkind=f"{unknowns} unknowns",
        extra_answer={"values": values, "variables": list(variables)},
    )


def draw_binomial(rng: random.Random, params: dict, least_constant_bound: int = 3) -> tuple[int, int]:
    """(lead, constant) of a binomial lead·x + constant, both nonzero, the constant within
    ±max(least_constant_bound, max_coefficient // 5); the lead is positive at nesting 0."""
    lead_bound = max(1, min(9, params["max_coefficient"] // 10))
    constant_bound = max(least_constant_bound, params["max_coefficient"] // 5)
    lead = draw_int(rng, 1, lead_bound) * (draw_item(rng, (1, -1)) if params["nesting"] else 1)
    return lead, nonzero(rng, -constant_bound, constant_bound)


def monomial_latex(coefficient: int | Fraction, degree: int) -> str:
    """sympy's LaTeX of a nonzero rational times x^degree: ``- 5 x^{3}``, ``x``, ``- x``, ``7``,
    ``- \\frac{3 x^{2}}{2}``, ``\\frac{x}{3}``, ``- \\frac{1}{2}`` (with a space, unlike
    ``latex_rational``)."""
    numerator, denominator = coefficient.numerator, coefficient.denominator
    if denominator != 1:
        sign = "- " if numerator < 0 else ""
        inner = str(abs(numerator)) if degree == 0 else monomial_latex(abs(numerator), degree)
        return rf"{sign}\frac{{{inner}}}{{{denominator}}}"
    if degree == 0:
        return str(numerator)
    power = "x" if degree == 1 else f"x^{{{degree}}}"
    if numerator == 1:
        return power
    if numerator == -1:
        return f"- {power}"
    return f"{numerator} {power}" if numerator > 0 else f"- {-numerator} {power}"


def printed_terms(coefficients: list) -> list[tuple[Any, int]]:
    """(coefficient, degree) of the nonzero terms of ``Σ coefficients[k]·x^k`` (rational
    coefficients, not all zero) in the order sympy prints them (``Expr.as_ordered_terms``): by
    falling degree, except that a positive constant leads when the only other term is negative
    (``5 - 3 x``, ``4 - x^{2}``)."""
    terms = [(c, k) for k, c in enumerate(coefficients) if c]
    terms.reverse()
    if len(terms) == 2 and terms[1][1] == 0 and terms[1][0] > 0 > terms[0][0]:
        terms.reverse()
    return terms


def polynomial_latex(coefficients: list) -> str:
    """sympy's LaTeX of the polynomial ``Σ coefficients[k]·x^k`` (rational coefficients, not all
    zero), its terms in ``printed_terms`` order."""
    terms = printed_terms(coefficients)
    pieces = [monomial_latex(*terms[0])]
    for coefficient, degree in terms[1:]:
        pieces.append(
            f"- {monomial_latex(-coefficient, degree)}"
            if coefficient < 0
            else f"+ {monomial_latex(coefficient, degree)}"
        )
    return " ".join(pieces)


def polynomial_size(coefficients: list[int]) -> int:
    """Nodes of the sympy tree of the integer polynomial ``Σ coefficients[k]·x^k`` (not all
    zero): a constant 1, x 1, x^k 3 (Pow, x, k), times a coefficient other than 1 two more (Mul
    and the number), and Add 1 over two or more terms."""
    sizes = [1 if k == 0 else (1 if k == 1 else 3) + (0 if c == 1 else 2) for k, c in enumerate(coefficients) if c]
    return sizes[0] if len(sizes) == 1 else 1 + sum(sizes)


def factor_order(coefficients: list[int], exponent: int) -> tuple:
    """Where sympy's printer puts the factor (polynomial)^exponent, a polynomial of two or more
    terms, in an unevaluated product (``Mul.as_ordered_factors``, by ``Expr.sort_key``): by the
    number of terms, then term by term in printed order, a constant's key (0, c) before an x
    term's (1, degree, coefficient), then by the exponent."""
    terms = printed_terms(coefficients)
    return len(terms), tuple((0, c) if k == 0 else (1, k, c) for c, k in terms), exponent


def product_latex(factors: list[tuple[list[int], int]]) -> str:
    """sympy's LaTeX of the factors of an unevaluated product (more than one factor, or a power):
    powers (polynomial coefficients, exponent) of integer polynomials of two or more terms each,
    each bracketed: ``\\left(2 - x\\right) \\left(x + 3\\right)^{2}``."""
    return " ".join(latex for _, latex in sorted(printed_factor(tuple(c), e) for c, e in factors))


@functools.lru_cache(maxsize=4096)
def printed_factor(coefficients: tuple[int, ...], exponent: int) -> tuple[tuple, str]:
    """(``factor_order``, bracketed LaTeX) of one factor of ``product_latex``; the same few
    binomials come back task after task, so each is printed once (equal orders are equal
    factors, so sorting these pairs sorts by the order alone)."""
    power = f"^{{{exponent}}}" if exponent > 1 else ""
    return factor_order(list(coefficients), exponent), rf"\left({polynomial_latex(coefficients)}\right){power}"


def multiplied(left: list[int], right: list[int]) -> list[int]:
    """The coefficients of the product of two polynomials (coefficients by degree)."""
    product = [0] * (len(left) + len(right) - 1)
    for i, a in enumerate(left):
        if a:
            for j, b in enumerate(right):
                product[i + j] += a * b
    return product


PAIR_CONSTANT_BOUND = 12


def build_polynomial_expansion(rng: random.Random, params: dict) -> Problem:
    """Exact integers: the factors are (lead, constant, exponent) triples, multiplied out by
    convolution; the LaTeX is sympy's for the unevaluated product and the expanded polynomial, and
    the size that of the product's sympy tree: Mul 1 + per factor Add(Mul(lead, x), constant) 5
    nodes (3 when the lead is 1: the bare x), a power 2 more. A product of two binomials draws
    its constants from ±PAIR_CONSTANT_BOUND at least: from ±3 a sign pattern such as
    (x + a)(x + b) had 6 answers, the commonest a quarter of them (red team S10b-B6)."""
    least = PAIR_CONSTANT_BOUND if params["terms"] == 2 else 3
    factors = [(*draw_binomial(rng, params, least), 1) for _ in range(params["terms"])]
    if params["nesting"]:
        index = draw_below(rng, len(factors))
        factors[index] = (*factors[index][:2], draw_int(rng, 2, params["nesting"] + 1))
    coefficients = [1]
    for lead, constant, exponent in factors:
        for _ in range(exponent):
            coefficients = multiplied(coefficients, [constant, lead])
    size = 1 + sum(
        polynomial_size([constant, lead]) + (2 if exponent > 1 else 0) for lead, constant, exponent in factors
    )
    expanded = polynomial_latex(coefficients)
    return Problem(
        statement=f"Expand and simplify ${product_latex([([c, lead], e) for lead, c, e in factors])}$.",
        form_instruction=(
            r"Give the expanded polynomial in $x$ with like terms combined, for example \boxed{2x^3 "
            r"- 5x + 6}."
        ),
        gold=expanded,
        form="expanded",
        expression_size=size,
        working=[f"Multiply out the {len(factors)} factors and collect powers of $x$: ${expanded}$."],
        subkind=f"{len(factors)} factors",
        extra_answer={"variable": "x"},
    )


def build_polynomial_factoring(rng: random.Random, params: dict) -> Problem:
    """Exact integers: content·Π(lead·x − root) multiplied out; the factorisation and roots are
    ``linear_factorisation``'s, printed as sympy prints ``factor`` of the polynomial."""
    nesting = params["nesting"]
    root_bound = max(3, params["max_coefficient"] // 4)
    linear = []
    for _ in range(max(2, params["terms"])):
        lead = draw_int(rng, 1, min(3, nesting + 1))
        linear.append((draw_int(rng, -root_bound, root_bound), lead))
    scale = draw_int_skipping(rng, -nesting - 1, nesting + 1, (0,)) if nesting else 1
    polynomial = [scale]
    for root, lead in linear:
        polynomial = multiplied(polynomial, [-root, lead])
    content, factors, roots = linear_factorisation(scale, linear)
    factored = factored_latex(content, factors)  # printed once: the gold and the working
    factor_count = len(linear)
    return Problem(
        statement=f"Factor completely over the integers: ${polynomial_latex(polynomial)}$.",
        form_instruction=r"Give a product of irreducible factors, for example \boxed{2(x - 1)(x + 3)^2}.",
        gold=factored,
        form="factored",
        expression_size=polynomial_size(polynomial),
        working=[
            f"Rational roots: ${', '.join(fraction_latex(*root) for root in roots)}$; "
            f"with the content that gives ${factored}$ ({factor_count} irreducible factors)."
        ],
        subkind=f"{factor_count} factors",
        extra_answer={"variable": "x", "factor_count": factor_count},
    )


def random_polynomial(rng: random.Random, params: dict, terms: int, degree: int) -> list[int]:
    """The coefficients (by degree) of a polynomial of ``degree`` with up to ``terms`` nonzero terms."""
    coefficient_bound = max(3, params["max_coefficient"] // 3)
    exponents = sorted(draw_sample(rng, degree, min(terms, degree + 1) - 1) + [degree], reverse=True)
    coefficients = [0] * (degree + 1)
    for exponent in exponents:
        coefficients[exponent] = nonzero(rng, -coefficient_bound, coefficient_bound)
    return coefficients


@dataclass
class Function:
    """A drawn f(x): the polynomial ``other`` (coefficients by degree), at nesting above 0 times
    the power (lead·x + constant)^exponent. Its LaTeX and node count are those of the sympy
    expression the kinds used to build (an evaluated polynomial; Mul(Pow(binomial), polynomial)
    unevaluated)."""

    other: list[int]
    power: tuple[int, int, int] | None  # (lead, constant, exponent)

    def coefficients(self) -> list[int]:
        """f expanded: coefficients by degree."""
        if self.power is None:
            return self.other
        lead, constant, exponent = self.power
        expanded = self.other
        for _ in range(exponent):
            expanded = multiplied(expanded, [constant, lead])
        return expanded

    def latex(self) -> str:
        """A single-term polynomial prints before the power (sympy sorts a symbol before a sum)."""
        if self.power is None:
            return polynomial_latex(self.other)
        lead, constant, exponent = self.power
        if sum(1 for c in self.other if c) > 1:
            return product_latex([([constant, lead], exponent), (self.other, 1)])
        return f"{polynomial_latex(self.other)} {product_latex([([constant, lead], exponent)])}"

    def size(self) -> int:
        if self.power is None:
            return polynomial_size(self.other)
        lead, constant, _ = self.power
        return 1 + (2 + polynomial_size([constant, lead])) + polynomial_size(self.other)


def random_function(rng: random.Random, params: dict) -> Function:
    """A polynomial at nesting 0; a power of a binomial times a polynomial above."""
    degree = max(1, params["degree"])
    if params["nesting"] == 0:
        return Function(random_polynomial(rng, params, params["terms"], degree), None)
    lead, constant = draw_binomial(rng, params)
    power = (lead, constant, draw_int(rng, 2, params["nesting"] + 1))
    return Function(random_polynomial(rng, params, max(1, params["terms"] - 1), max(1, degree - 2)), power)


def polynomial_value(coefficients: list, point: Any) -> Any:
    """``Σ coefficients[k]·point^k`` (Horner)."""
    value = 0
    for coefficient in reversed(coefficients):
        value = value * point + coefficient
    return value


POINTS = (-3, -2, -1, 1, 2, 3)  # where f'(c) is asked


def build_derivative(rng: random.Random, params: dict) -> Problem:
    """Exact integers; the sizes are those of the sympy trees Derivative(f, x) (f's + 4:
    Derivative, and Tuple(x, 1)) and Subs(Derivative(f, x), x, point) (9 more than f's)."""
    function = random_function(rng, params)
    expanded = function.coefficients()
    derivative = [k * c for k, c in enumerate(expanded)][1:]
    rule = "the power rule" if params["nesting"] == 0 else "the product and chain rules"
    derivative_latex = polynomial_latex(derivative)  # printed once: the working and, for f'(x), the gold
    working = [rf"By {rule}, $f'(x) = {derivative_latex}$."]
    if rng.random() < 0.5:
        # not at 0 (the x coefficient) nor where f' is 0 (a double root): f'(c) = 0 was 8 % of them
        points = [c for c in POINTS if polynomial_value(derivative, c)] or list(POINTS)
        point = draw_item(rng, points)
        value = polynomial_value(derivative, point)
        working.append(rf"At $x = {point}$: $f'({point}) = {value}$.")
        return Problem(
            statement=f"Let $f(x) = {function.latex()}$. Find $f'({point})$.",
            form_instruction=r"Give the value as an integer or a fraction, for example \boxed{-14}.",
            gold=str(value),
            form="number",
            expression_size=function.size() + 9,
            working=working,
            subkind="value at a point",
            extra_answer={"labels": [f"f'({point})"]},
        )
    return Problem(
        statement=f"Let $f(x) = {function.latex()}$. Find $f'(x)$.",
        form_instruction=(
            r"Give $f'(x)$ as an expanded polynomial in $x$ with like terms combined, for example "
            r"\boxed{6x^2 - 4x + 1}."
        ),
        gold=derivative_latex,
        form="expanded",  # red team s19 F2: "any equal expression" paid finite differences of f
        expression_size=function.size() + 4,
        working=working,
        subkind="expression",
        extra_answer={"variable": "x", "labels": ["f'(x)"]},
    )


def build_definite_integral(rng: random.Random, params: dict) -> Problem:
    """Exact rationals; the size is that of the sympy tree Integral(f, (x, lower, upper)): f's
    + 5 (Integral, and Tuple(x, lower, upper))."""
    function = random_function(rng, params)
    bound_limit = 2 + params["nesting"]
    lower = draw_int(rng, -bound_limit, bound_limit - 1)
    upper = draw_int(rng, lower + 1, bound_limit)
    antiderivative = [0] + [Fraction(c, k + 1) for k, c in enumerate(function.coefficients())]
    value = polynomial_value(antiderivative, upper) - polynomial_value(antiderivative, lower)
    integrand = function.latex() if function.power is not None else rf"\left({function.latex()}\right)"
    return Problem(
        statement=rf"Evaluate $\int_{{{lower}}}^{{{upper}}} {integrand} \, dx$.",
        form_instruction=r"Give the exact value as an integer or a fraction, for example \boxed{\frac{38}{3}}.",
        gold=latex_rational(value),
        form="number",
        expression_size=function.size() + 5,
        working=[
            rf"An antiderivative is $F(x) = {polynomial_latex(antiderivative)}$.",
            rf"$F({upper}) - F({lower}) = {latex_rational(value)}$.",
        ],
        subkind="product" if params["nesting"] else "polynomial",
    )


MIN_MODULUS = 17
MODULUS_SPREAD = 56  # moduli go up to at least this + 8
MIN_SPREAD = 50  # an lcm's numbers and a power's base go up to at least this: from 2 … 30 an lcm of 60 was 7.5 %
GCD_SPREAD = 35  # a gcd is drawn from 2 … max(max_coefficient, GCD_SPREAD)
MAX_RESIDUE_REDRAWS = 32
POWER_TRIES = 8  # exponents tried for one remainder of a power


def draw_modulus(rng: random.Random, bound: int) -> int:
    """A remainder question's modulus, 17 … max(56, bound) + 8: with small moduli (2 … 9 at d = 0)
    and powers, whose residues cluster on 0 and 1, a constant answer solved 15–39 % of a
    remainder template (red team S10-G11), and with moduli 11 … 19 still 16–19 % (the few
    residues below 19, S10b-B6). The residue is drawn above 1, evenly among those the question
    can have, and (S10b-B7) never what a reading of the numbers shown gives without the work
    (the base's remainder or its negative for a power, 0.26–0.35 of them; the smallest number
    for a gcd, 0.38 at d = 0; the largest or the product for an lcm, 0.45 / 0.52)."""
    return draw_int(rng, MIN_MODULUS, max(MODULUS_SPREAD, bound) + 8)


def one_euclid_step(numbers: list[int]) -> int:
    """The gcd a reader gets who stops Euclid's algorithm after one step: the smallest non-zero
    remainder of the other numbers by the smallest (the smallest itself if it divides them all).
    With two numbers, "larger mod smaller" answered 27–47 % of gcd questions and, through
    a·b / (b mod a), half of the lcm ones at d = 0 (red team S11-H6), so neither is asked where
    this gives the gcd."""
    smallest = min(numbers)
    remainders = [number % smallest for number in numbers if number % smallest]
    return min(remainders) if remainders else smallest


def build_number_theory(rng: random.Random, params: dict) -> Problem:
    """Exact integers; the size is that of the sympy tree: gcd/lcm(n₁, …) is 1 + count nodes,
    Mod(Add(Mul(f₁, …), offset), m) 4 + the product's (1 for a single factor, else 1 + factors),
    Mod(Pow(b, e), m) 5. Each answer is drawn first, evenly (a gcd from 2 … max(bound, 35), a
    remainder among those its modulus allows), and the numbers shown are drawn to give it: a
    template's commonest answer was 7–16 % of it (red team S10b-B6)."""
    bound, count = params["max_coefficient"], max(2, params["terms"])
    subkind = draw_item(rng, ("gcd", "lcm", "mod", "power_mod"))
    number_form = r"Give a non-negative integer, for example \boxed{12}."
    if subkind == "gcd":
        value = draw_int(rng, 2, max(bound, GCD_SPREAD))
        while True:  # cofactors ≥ 2 with gcd 1: the gcd is not a number shown (red team S10b-B7)
            cofactors = [draw_int(rng, 2, max(bound, 9)) for _ in range(count)]
            # of two numbers, not their difference either (consecutive cofactors)
            if (
                math.gcd(*cofactors) == 1
                and (count > 2 or abs(cofactors[0] - cofactors[1]) > 1)
                and one_euclid_step(cofactors) != 1  # nor one Euclid step short of the gcd (S11-H6)
            ):
                break
        numbers = [value * cofactor for cofactor in cofactors]
        statement = f"Find the greatest common divisor of ${', '.join(map(str, numbers))}$."
        size = 1 + len(numbers)
        working = [f"The common prime factors give $\\gcd = {value}$."]
    elif subkind == "lcm":
        while True:  # neither the largest number shown nor their product (S10b-B7); ~4 draws
            numbers = [draw_int(rng, 2, max(bound, MIN_SPREAD)) for _ in range(count)]
            value = math.lcm(*numbers)
            if value not in numbers and value != math.prod(numbers) and one_euclid_step(numbers) != math.gcd(*numbers):
                break
        statement = f"Find the least common multiple of ${', '.join(map(str, numbers))}$."
        size = 1 + len(numbers)
        working = [f"The highest power of each prime gives $\\operatorname{{lcm}} = {value}$."]
    elif subkind == "mod":
        modulus = draw_modulus(rng, bound)
        factors, offset, value = remainder_of_product(rng, modulus, bound, count - 1)
        product_latex = r" \cdot ".join(map(str, factors))
        statement = f"Find the remainder when ${product_latex} + {offset}$ is divided by ${modulus}$."
        size = 4 + (1 if len(factors) == 1 else 1 + len(factors))
        working = [f"Reduce each factor modulo {modulus} first: the remainder is ${value}$."]
    else:
        base, exponent, modulus, value = power_with_remainder(rng, bound, params["nesting"])
        statement = f"Find the remainder when ${base}^{{{exponent}}}$ is divided by ${modulus}$."
        size = 5
        working = [
            f"Square and multiply modulo {modulus}: ${base}^{{{exponent}}} \\equiv {value} \\pmod{{{modulus}}}$."
        ]
    return Problem(statement, number_form, str(value), "number", size, working, subkind)


def remainder_of_product(rng: random.Random, modulus: int, bound: int, count: int) -> tuple[list[int], int, int]:
    """(factors, offset, remainder) of "f₁ ⋯ f_count + offset mod modulus", factors in bound … bound²,
    offset in 0 … bound: the remainder is drawn first, evenly from 2 … modulus − 1 less the
    offset's, and the last factor is drawn among those in range that give it (the others fix
    its residue class); the sum exceeds the modulus and the remainder is no factor's. Redrawn
    up to MAX_RESIDUE_REDRAWS times; with ranges too narrow for that (an overridden bound) the
    last draw stands, its remainder whatever it is."""
    low, high = bound, bound**2
    for _ in range(MAX_RESIDUE_REDRAWS):
        offset = draw_int(rng, 0, bound)
        value = draw_int_skipping(rng, 2, modulus - 1, (offset % modulus,))
        others = [draw_int(rng, low, high) for _ in range(count - 1)]
        rest = math.prod(others)
        common = math.gcd(rest, modulus)
        wanted = (value - offset) % modulus  # rest · last ≡ wanted (mod modulus)
        if wanted % common:
            continue
        step = modulus // common
        residue = wanted // common * pow(rest // common, -1, step) % step
        least = max(low, modulus - offset + 1)  # the sum exceeds the modulus: a remainder is taken
        first = least + (residue - least) % step
        if first > high:
            continue
        factors = others + [first + step * draw_below(rng, (high - first) // step + 1)]
        if value not in {factor % modulus for factor in factors}:
            return factors, offset, value
    factors = others + [draw_int(rng, low, high)]
    return factors, offset, (math.prod(factors) + offset) % modulus


@functools.lru_cache(maxsize=64)
def prime_moduli(high: int) -> tuple[int, ...]:
    """The primes from MIN_MODULUS to ``high``: a power's moduli."""
    return tuple(int(p) for p in sympy.primerange(MIN_MODULUS, high + 1))


def power_with_remainder(rng: random.Random, bound: int, nesting: int) -> tuple[int, int, int, int]:
    """(base, exponent, modulus, remainder) of "base^exponent mod modulus". The modulus is a prime
    from ``prime_moduli`` (17 … max(56, bound) + 8): a composite one has a small Carmichael
    exponent λ(m), so b^e ≡ b³, b² or b whenever e ≡ 3, 2 or 1 mod λ(m), and with 2^e these
    readings answered 15–37 % of the questions (red team S10b-B7, S11). The remainder is drawn
    first, evenly from 2 … modulus − 1, then exponents from 3 … max(9, bound^(1 + nesting))
    until one has bases in 2 … max(bound, MIN_SPREAD) that give it (not as the base's
    remainder, its negative, its square's or, for an exponent above 3, its cube's; with the
    power above the modulus), then one of those bases; a remainder no exponent gives in
    POWER_TRIES draws is redrawn with its modulus. Drawing the exponent first left few
    remainders for some (the 8th powers mod 17 are 1 and 16: 16 answered 7–13 % of these
    questions, S10b-B6)."""
    bases = range(2, max(bound, MIN_SPREAD) + 1)
    primes = prime_moduli(max(MODULUS_SPREAD, bound) + 8)
    while True:
        modulus = draw_item(rng, primes)
        value = draw_int(rng, 2, modulus - 1)
        for _ in range(POWER_TRIES):
            exponent = draw_int(rng, 3, max(9, bound ** (1 + nesting)))
            giving = [
                base
                for base in bases
                if pow(base, exponent, modulus) == value
                and value not in (base % modulus, -base % modulus, base * base % modulus)
                and (exponent == 3 or value != pow(base, 3, modulus))
                and exponent * math.log2(base) > math.log2(modulus)
            ]
            if giving:
                return draw_item(rng, giving), exponent, modulus, value


GROUPS = (("club", "members"), ("class", "students"), ("team", "players"), ("choir", "singers"))
COUNTING_SPREAD = 30  # group sizes go up to at least this: from 5 … 9 a committee count of 10 or 15 was 15 %


def build_counting(rng: random.Random, params: dict) -> Problem:
    """Exact integers (``math.comb``, ``math.perm``); the size is that of the sympy tree:
    binomial(n, k) and FallingFactorial(n, k) 3 nodes, a product of two binomials 7, a
    difference Add(binomial, Mul(-1, binomial)) 9."""
    bound, nesting = params["max_coefficient"], params["nesting"]
    stories = ["committee", "podium"] + (["exactly", "at_least_one"] if nesting >= 1 else [])
    subkind = draw_item(rng, stories)
    group, people = draw_item(rng, GROUPS)
    top = max(COUNTING_SPREAD, min(bound, 60))
    number_form = r"Give the count as an integer, for example \boxed{120}."
    if subkind == "committee":  # k ≤ n − 2: C(n, n − 1) is n, a number shown
        n = draw_int(rng, 6, top)
        k = draw_int(rng, 2, min(n - 2, 2 + params["terms"] + nesting))
        value, size = math.comb(n, k), 3
        statement = (
            f"A {group} has {n} {people}. In how many ways can a committee of {k} be chosen (order does not matter)?"
        )
        working = [rf"$\binom{{{n}}}{{{k}}}$ ways."]
    elif subkind == "podium":
        n = draw_int(rng, 4, top)
        k = draw_int(rng, 2, min(n - 1, 1 + params["terms"]))
        value, size = math.perm(n, k), 3
        statement = (
            f"A {group} of {n} {people} holds a contest. In how many ways can the first {k} places be awarded "
            f"(no ties, each person at most one place)?"
        )
        factors = [str(n - i) for i in range(k)]
        shown = r" \cdot ".join(factors) if k <= 4 else rf"{factors[0]} \cdot {factors[1]} \cdots {factors[-1]}"
        working = [f"${shown}$ ordered choices."]
    else:
        juniors, seniors = draw_int(rng, 3, max(3, top // 2)), draw_int(rng, 3, max(3, top // 2))
        k = draw_int(rng, 2, min(juniors + seniors - 1, 2 + params["terms"]))
        if subkind == "exactly":
            j = draw_int(rng, max(1, k - juniors), min(k - 1, seniors)) if k > 1 else 1
            value, size = math.comb(seniors, j) * math.comb(juniors, k - j), 7
            statement = (
                f"A {group} has {seniors} seniors and {juniors} juniors. How many committees of {k} contain "
                f"exactly {j} senior{'s' if j != 1 else ''}?"
            )
            working = [rf"$\binom{{{seniors}}}{{{j}}} \binom{{{juniors}}}{{{k - j}}}$."]
        else:
            value, size = math.comb(seniors + juniors, k) - math.comb(juniors, k), 9
            statement = (
                f"A {group} has {seniors} seniors and {juniors} juniors. How many committees of {k} contain at "
                f"least one senior?"
            )
            working = [
                rf"All committees minus those with no senior: $\binom{{{seniors + juniors}}}{{{k}}} - "
                rf"\binom{{{juniors}}}{{{k}}}$."
            ]
    working.append(f"That is ${value}$.")
    return Problem(statement, number_form, str(value), "number", size, working, subkind)


BUILDERS: dict[str, Callable[[random.Random, dict], Problem]] = {
    "fraction_arithmetic": build_fraction_arithmetic,
    "linear_equation": build_linear_equation,
    "quadratic_equation": build_quadratic_equation,
    "linear_system": build_linear_system,
    "polynomial_expansion": build_polynomial_expansion,
    "polynomial_factoring": build_polynomial_factoring,
    "derivative": build_derivative,
    "definite_integral": build_definite_integral,
    "number_theory": build_number_theory,
    "counting": build_counting,
}


# --------------------------------------------------------------------------------------------
# Datasets
# --------------------------------------------------------------------------------------------


def gold_from_dataset_answer(answer: Any) -> str:
    """The gold LaTeX of a dataset row: AIME ints as text, GSM8K ``… #### 1,000`` → ``1000``."""
    if isinstance(answer, bool):
        raise ValueError(f"answer must be text or a number, got {answer!r}")
    if isinstance(answer, (int, np.integer)):
        return str(int(answer))
    if isinstance(answer, (float, np.floating)):
        return str(int(answer)) if float(answer).is_integer() else repr(float(answer))
    text = str(answer).strip()
    if "####" in text:
        text = text.rsplit("####", 1)[1].strip()
        text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)
        text = text.lstrip("$").rstrip(".").strip()
    if not text:
        raise ValueError("empty answer")
    return text


def load_dataset_rows(path: Path) -> list[dict]:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        raw = pq.read_table(path).to_pylist()
    else:
        with open(path, encoding="utf-8") as handle:
            raw = [json.loads(line) for line in handle if line.strip()]
    rows = []
    for index, row in enumerate(raw):
        column = next((c for c in PROBLEM_COLUMNS if row.get(c)), None)
        if column is None or row.get("answer") is None:
            raise ValueError(f"{path}: row {index} needs one of {PROBLEM_COLUMNS} and an 'answer'")
        rows.append(
            {
                "problem": str(row[column]),
                "gold": gold_from_dataset_answer(row["answer"]),
                "working": solution_steps(row),
            }
        )
    return rows


GSM8K_CALCULATOR = re.compile(r"<<[^<>]*>>")


def solution_steps(row: dict) -> list[str]:
    """The worked steps a dataset row carries, one line each: a MATH-style ``solution`` split
    into sentences, or GSM8K's ``answer`` lines before ``####`` (calculator notes removed);
    [] when the row has none (AIME, MATH-500 as shipped here)."""
    if isinstance(row.get("solution"), str):
        text = row["solution"]
        steps = [part.strip() for part in re.split(r"(?<=[.!?])\s+(?=[A-Z$\\])|\n+", text)]
    elif isinstance(row.get("answer"), str) and "####" in row["answer"]:
        steps = [GSM8K_CALCULATOR.sub("", line).strip() for line in row["answer"].split("####")[0].splitlines()]
    else:
        return []
    return [step for step in steps if step]


# --------------------------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------------------------


MAX_EXAMPLE_REDRAWS = 16
EXAMPLE = re.compile(r"for example \\boxed\{(.*)\}\.$")
PROMPT_EXAMPLE = re.compile(r"for example \\boxed\{(.*)\}\. " + re.escape(BOX_RULE))
_LAYOUT = re.compile(r"\s+|[{}]|\\left|\\right")


def gold_is_the_example(problem: Problem) -> bool:
    """Whether the problem's answer is the example of its answer format (``for example
    \\boxed{120}``): answering the example scored on 3 % of d = 0 tasks (red team S10-G5).
    Compared as text without spaces, braces and ``\\left``/``\\right`` (lists of solutions as
    sets of such texts), which is how golds and examples are both written."""
    found = EXAMPLE.search(problem.form_instruction)
    if found is None:
        return False
    example, gold = _LAYOUT.sub("", found.group(1)), _LAYOUT.sub("", problem.gold)
    if problem.form == "set":
        return set(example.split(",")) == set(gold.split(","))
    return example == gold


class MathGenerator(TaskGenerator):
    """Synthetic problems of the difficulty's kinds, or the rows of a maths dataset (``dataset=PATH``)."""

    declaration = FAMILY

    def __init__(self, dataset: str | Path | None = None):
        if dataset is not None:
            self.use_dataset(dataset, load_dataset_rows(Path(dataset)))

    def dataset_task(self, row: dict) -> dict:
        prompt = row["problem"] if "\\boxed" in row["problem"] else f"{row['problem']}\n\n{DATASET_INSTRUCTION}"
        parts = {"prompt": prompt, "answer": {"gold": row["gold"], "form": "any"}}
        if row["working"]:
            parts["meta"] = {"working": row["working"]}
        return parts

    def hints(self, task: Task) -> list[str]:
        """The worked solution's steps but the last (which states the answer), with any step
        that contains the gold dropped; a task without working steps gets one nudge about the
        answer's form."""
        gold = str(task.answer["gold"]) if isinstance(task.answer, dict) else str(task.answer)
        steps = [step.replace("\n", " ") for step in task.meta.get("working", [])[:-1]]
        steps = [step for step in steps if gold.replace(" ", "") not in step.replace(" ", "")]
        return [f"Step {i + 1}: {step}" for i, step in enumerate(steps)] or [answer_form_nudge(gold)]

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        for _ in range(MAX_EXAMPLE_REDRAWS):  # a problem whose answer is its own format example is redrawn
            kind = draw_item(rng, params["kinds"].split(","))
            problem = BUILDERS[kind](rng, params)
            if not gold_is_the_example(problem):
                break
        prompt = f"{problem.statement}\n\n{problem.form_instruction} {BOX_RULE}"
        return {
            "prompt": prompt,
            "answer": {"gold": problem.gold, "form": problem.form, **problem.extra_answer},
            "meta": {
                "kind": kind,
                "subkind": problem.subkind,
                "expression_size": problem.expression_size,
                "working": problem.working,
            },
        }

    def solve(self, task: Task) -> str:
        steps = "\n".join(task.meta.get("working", []))
        gold = task.answer["gold"]
        return f"{steps}\n\nThe answer is $\\boxed{{{gold}}}$." if steps else f"The answer is $\\boxed{{{gold}}}$."

    def wrong_response(self, task: Task) -> str:
        """A near miss: off by one, one root or coordinate changed, or one factor's sign flipped."""
        return f"Working it out, the answer is $\\boxed{{{wrong_answer(task)}}}$."

    def split_group(self, task: Task) -> Any:
        """A synthetic task's kind, subkind and answer: the same question in another story
        (other nouns around the same numbers) is on one side; a dataset task's row."""
        if "kind" not in task.meta:
            return super().split_group(task)
        return ["math", task.meta["kind"], task.meta["subkind"], task.answer["gold"]]

    def problem_key(self, task: Task) -> Any:
        """A synthetic task's kind, subkind, the numbers its prompt states (as a multiset for a
        gcd or lcm, whose operands' order does not matter; a sum or product of two operands as
        its operator and operands in either order) and its answer: the same question
        told of a club or of a choir is one problem (its split group, all questions with one
        answer, is coarser); a dataset task's row."""
        if "kind" not in task.meta:
            return super().problem_key(task)
        numbers = PROMPT_NUMBER.findall(task.prompt)
        if task.meta["subkind"] in UNORDERED_OPERANDS:
            numbers.sort()
        pair = SWAPPABLE_PAIR.match(task.prompt)
        if pair:  # a + b and b + a, a · b and b · a (red team s21 B5: 41 of 3,000 d = 0 train tasks)
            numbers = [pair["operator"], *sorted((pair["left"], pair["right"]))]
        return ["math", task.meta["kind"], task.meta["subkind"], numbers, task.answer["gold"]]

    def attacks(self, task: Task) -> list[tuple[str, Any]]:
        """Hostile responses for a maths task (see ``math_attacks``)."""
        return math_attacks(task)


def answer_form_nudge(gold: str) -> str:
    """One line on what kind of answer is expected, without its value."""
    number = parse_plain_number(gold)
    if number is not None:
        kind = "an integer" if number.value == int(number.value) else "a fraction or decimal number"
    elif "," in gold:
        kind = "a list of values separated by commas"
    else:
        kind = "an expression"
    return f"The final answer is {kind}; work it out step by step and box it."


def wrong_answer(task: Task) -> str:
    """The LaTeX of ``wrong_response``'s near miss."""
    answer = task.answer if isinstance(task.answer, dict) else {"gold": str(task.answer), "form": "any"}
    form = answer.get("form", "any")
    if form in ("set", "tuple"):
        values = list(answer["values"])
        values[0] = latex_rational(parse_plain_number(values[0]).value + 1)  # our own golds: plain numbers
        text = ", ".join(values)
        return f"({text})" if form == "tuple" else text
    if form == "factored":  # one factor's sign flipped: x - 1 becomes x + 1
        gold = answer["gold"]
        sign = re.search(r" [+-] ", gold)
        return (
            gold[: sign.start()] + (" - " if sign.group() == " + " else " + ") + gold[sign.end() :]
            if sign
            else f"{gold} + 1"
        )
    if form in ("expanded", "expression"):
        return f"{answer['gold']} + 1"
    return near_miss_text(answer["gold"])


ARABIC_INDIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULLWIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


def reversed_terms(span: str) -> str:
    """``span`` with its top-level terms in reverse order (``99^2+99+1`` → ``1+99+99^2``,
    ``6(1+2i)-3i`` → ``-3i+6(1+2i)``): the problem's expression restated by value."""
    terms, depth, current = [], 0, ""
    for char in span:
        if char in "{([":
            depth += 1
        elif char in "})]":
            depth -= 1
        if depth == 0 and char in "+-" and current.strip():
            terms.append(current.strip())
            current = "" if char == "+" else char
        else:
            current += char
    terms.append(current.strip())
    return "+".join(term for term in reversed(terms) if term).replace("+-", "-")


def partly_evaluated(span: str) -> str | None:
    """``span`` with its first power or product of two small written integers worked out
    (``99^2+99+1`` → ``9801+99+1``, ``12\\cdot 7+1`` → ``84+1``), or None when it has neither:
    the problem's expression restated with a little of the work done."""
    power = re.search(r"(?<![\d.^_{])(\d{1,4})\^\{?(\d)\}?(?![\d.])", span)
    if power:
        return span[: power.start()] + str(int(power.group(1)) ** int(power.group(2))) + span[power.end() :]
    product = re.search(r"(?<![\d.^_{])(\d{1,4})\s*(?:\\cdot|\\times|\*)\s*(\d{1,4})(?![\d.^])", span)
    if product:
        return span[: product.start()] + str(int(product.group(1)) * int(product.group(2))) + span[product.end() :]
    return None


def math_attacks(task: Task) -> list[tuple[str, str]]:
    """What a reward-hacking policy tries on a maths task; none of these answers it, so each must
    score 0: oversize and deeply nested answers, values too costly to evaluate, repeated and
    hedged answers, near misses (sign, factor 2, tiny offsets a loose tolerance would take,
    decimals inside an expression or under a root, scientific-notation near misses), equations
    that name the gold without answering with it, connectives and relations math-verify reads
    one side of (``wrong \\vee gold``, ``wrong \\mid gold``), hidden or redefined text and
    look-alike digits."""
    answer = task.answer if isinstance(task.answer, dict) else {"gold": str(task.answer), "form": "any"}
    gold, form = answer["gold"], answer.get("form", "any")
    wrong = wrong_answer(task)
    labels = set(
        answer.get("labels")
        or answer.get("variables")
        or ([answer["variable"]] if form == "set" and answer.get("variable") else [])
    )
    stranger = next(name for name in ("x", "y", "w", "q") if name not in labels)

    def boxed(text: str) -> str:
        return f"So the final answer is $\\boxed{{{text}}}$."

    million = ", ".join(str(i) for i in range(1_000_000))
    gold_number = parse_plain_number(gold)
    zero = gold_number is not None and gold_number.value == 0  # -0, 2·0, 0/2 are the gold itself
    attacks = [
        ("million-element-set", f"<answer>\\{{{gold}, {million}\\}}</answer>"),
        ("million-element-tuple", f"<answer>({gold}, {million})</answer>"),
        ("million-element-set-boxed", boxed(f"\\{{{gold}, {million}\\}}")),
        ("labelled-million-tuple", "<answer>" + ", ".join(f"x_{{{i}}} = {i}" for i in range(300_000)) + "</answer>"),
        (
            "gold-repeated-answer-block",
            "<answer>" + " ".join([gold] * max(1, 2_000_000 // (len(gold) + 1))) + "</answer>",
        ),
        ("gold-repeated-few", boxed(" ".join([gold] * 4))),
        ("gold-list-repeated", boxed(", ".join([gold] * 3))),
        ("power-tower", boxed("9^{9^{9^{9^{9}}}}")),
        ("power-tower-bare", "<answer>5^5^5^5^5</answer>"),
        ("huge-exponent", boxed("10^{10^{10}}")),
        ("huge-exponent-gold", boxed(f"{gold} + 10^{{-10^{{10}}}}")),
        ("iterated-factorial", boxed("9!!!!!!")),
        ("factorial-of-power", boxed("(10^{10})!")),
        ("deep-nesting-gold", boxed("(" * 500 + gold + ")" * 500)),
        ("deep-braces-gold", boxed("{" * 500 + gold + "}" * 500)),
        ("deep-fractions", boxed("\\frac{1}{" * 300 + "2" + "}" * 300)),
        ("boxed-spam-gold", f"\\boxed{{{gold}}} " * 5_000),
        ("boxed-spam-wrong-then-gold", f"\\boxed{{{wrong}}} " * 20 + f"\\boxed{{{gold}}}"),
        ("boxed-unclosed-after-gold", f"\\boxed{{{gold}}} and \\boxed{{" + "1" * 10_000),
        ("tiny-offset-decimal", boxed(f"{gold} + 0.0000001")),
        ("stated-denial", f"The final answer is not ${gold}$."),
        ("final-sentence-denial", f"Working through it, it is not ${gold}$."),
        ("separator-spaces", f"<answer>\\boxed{{{gold}," + " " * 2_000 + "x}</answer>"),
        ("tiny-number", boxed("0.0000001")),
        ("tiny-exact", boxed("\\frac{1}{2^{98}}")),
        ("relative-near-miss", boxed(f"{gold} \\cdot 1.0000001")),
        ("wrong-sign", boxed(f"-\\left({gold}\\right)")),
        ("factor-two", boxed(f"2\\left({gold}\\right)")),
        (
            "half",
            boxed(f"\\frac{{{gold}}}{{2}}") if form not in ("set", "tuple") else boxed(f"\\frac{{1}}{{2}}({gold})"),
        ),
        ("wrong-label", boxed(f"{stranger} = {gold}")),
        ("gold-equals-wrong", boxed(f"{gold} = {wrong}")),
        ("wrong-equals-gold", boxed(f"{wrong} = {gold}")),
        ("label-chain", boxed(f"{stranger} = {wrong} = {gold}")),
        ("wrong-approximately-gold", boxed(f"{wrong} \\approx {gold}")),
        ("prose-wrong-equals-gold", f"<answer>The answer is ${wrong} = {gold}$.</answer>"),
        ("prose-gold-then-wrong", f"<answer>It is not ${gold}$; the final answer is ${wrong}$.</answer>"),
        ("hedge-or", boxed(f"{wrong} \\text{{ or }} {gold}")),
        ("hedge-lor", boxed(f"{wrong} \\lor {gold}")),
        ("hedge-two-boxes", f"\\boxed{{{wrong}}} or perhaps \\boxed{{{gold}}}"),
        ("hedge-set", boxed(f"\\{{{wrong}, {gold}\\}}")),
        ("hedge-plus-minus", boxed(f"{gold} \\pm 1")),
        ("prompt-echo-boxed", boxed(task.prompt)),
        ("def-macro", boxed(f"\\def\\ans{{{gold}}}\\ans")),
        ("newcommand-macro", f"\\newcommand{{\\ans}}{{{gold}}} " + boxed("\\ans")),
        ("text-gold-in-wrong", boxed(f"{wrong} \\text{{ (not {gold}) }}")),
        ("text-gold-times-wrong", boxed(f"{wrong}\\text{{{gold}}}")),
        ("phantom-wrong", boxed(f"\\phantom{{{gold}}}{wrong}")),
        ("phantom-gold", boxed(f"\\phantom{{{wrong}}}{gold}")),
        ("color-hidden", boxed(f"\\color{{white}}{{{wrong}}}{gold}")),
        ("unicode-arabic-digits", boxed(gold.translate(ARABIC_INDIC_DIGITS))),
        ("unicode-fullwidth-digits", boxed(gold.translate(FULLWIDTH_DIGITS))),
        ("unicode-minus-wrong", boxed(wrong.replace("-", "\u2212"))),
        # decimals inside an expression are exact: sqrt(1.000001) is not 1, however it rounds
        ("decimal-under-root", boxed(f"\\left({gold}\\right) \\cdot \\sqrt{{1.000001}}")),
        ("hedge-vee", boxed(f"{wrong} \\vee {gold}")),
        ("double-full-stop", boxed(f"{gold}..")),
        # LaTeX math-verify cannot read whole: its fallback took the last number ("18" of "\underline{19} 18")
        ("unreadable-latex-then-gold", boxed(f"\\underline{{{wrong}}} {gold}")),
        ("unreadable-macro-then-gold", boxed(f"{wrong} \\hat {gold}")),
        # sizes inside functions and deep ceilings held a worker its whole deadline (s14 B3)
        ("huge-inside-ceiling", boxed("\\lceil 3^{3^{3^{3}}} \\rceil")),
        ("huge-inside-sine", boxed("\\sin(10^{10^{6}})")),
        ("nested-ceilings", boxed("\\lceil " * 8 + "1" + " \\rceil" * 8)),
    ]
    last_span = re.findall(r"\$([^$]+)\$", task.prompt)
    if last_span and last_span[-1].strip() != gold.strip():  # the problem's own expression (s14 B4)
        attacks.append(("prompt-last-span-boxed", boxed(last_span[-1].strip())))
        if (turned := reversed_terms(last_span[-1])) not in (last_span[-1].strip(), gold.strip()):
            attacks.append(("prompt-last-span-reordered", boxed(turned)))  # (session 15)
        partial = partly_evaluated(last_span[-1]) if gold_number is not None else None
        if partial is not None and NUMBER_ARITHMETIC.search(partial):  # 99^2+99+1 → 9801+99+1 (session 15)
            attacks.append(("prompt-last-span-partly-evaluated", boxed(partial)))
    if not (gold_number is not None and gold_number.decimal):  # a decimal gold may be a rounding (docstring)
        # formulas that equal the gold to many digits but not exactly (the native formula path
        # accepts only formal equality, rejects only clear differences, and leaves these to the
        # worker, which must not round them away), and a 0/0 factor that cancels formally
        attacks += [
            ("formula-tiny-offset", boxed(f"{gold} + \\sin\\left(10^{{-30}}\\right)")),
            ("formula-factor-near-one", boxed(f"\\left({gold}\\right) e^{{10^{{-20}}}}")),
            ("identity-plus-tiny", boxed(f"{gold} + \\sin^2 \\theta + \\cos^2 \\theta - 1 + 10^{{-50}}")),
            ("pi-approximating-argument", boxed(f"{gold} + 1 + \\cos\\frac{{355}}{{113}}")),
            ("zero-over-zero-factor", boxed(f"\\left({gold}\\right) \\frac{{\\sin 0}}{{\\sin 0}}")),
            ("zero-over-zero-pi-factor", boxed(f"\\left({gold}\\right) \\frac{{\\sin \\pi}}{{\\sin \\pi}}")),
            (  # sympy cancels the factor against itself before anything is evaluated (S10-G1)
                "zero-over-zero-cancelled",
                boxed(
                    f"\\left({gold}\\right) \\frac{{\\sin^{{2}} 1+\\cos^{{2}} 1-1}}{{\\sin^{{2}} 1+\\cos^{{2}} 1-1}}"
                ),
            ),
        ]
    # constants whose difference from any gold no evaluation resolves: exactly 0 as terms of
    # 10^3000 (not offered for a zero gold, which it equals), 0/0 kept unevaluated, and radicals
    # nested past what math-verify parses in time
    slots = max(1, len(answer.get("values", ())) if form in ("set", "tuple") else 1)
    for name, constant in (
        ("huge-cancellation-zero", "10^{3000}\\cos^{2}(1) + 10^{3000}\\sin^{2}(1) - 10^{3000}"),
        ("zero-over-zero-universal", "\\frac{\\sin \\pi}{\\sin \\pi}"),
        ("nested-radicals-stall", "\\sqrt[3]{" * 20 + "5" + "}" * 20),  # held a worker 5 s (S9-F7)
        ("huge-binomial", "\\binom{10^{6}}{5 \\cdot 10^{5}}"),  # held a worker 5 s (S10-G8)
    ):
        if name == "huge-cancellation-zero" and zero:
            continue
        joined = ", ".join([constant] * slots)
        attacks.append((name, boxed(f"({joined})" if form == "tuple" else joined)))
    # relations and markup math-verify reads only one side of ("19 \mid 18" "is" 18)
    attacks += [
        (name, boxed(text))
        for name, marker, text in (
            ("divides-gold", "\\mid", f"{wrong} \\mid {gold}"),
            ("star-gold", "\\star", f"{wrong} \\star {gold}"),
            ("line-break-gold", "\\\\", f"{wrong} \\\\ {gold}"),
            ("cancelled-wrong", "\\cancel", f"\\cancel{{{wrong}}} {gold}"),
            ("question-gold", "?", f"{wrong} ? {gold}"),
        )
        if marker not in gold
    ]
    example = PROMPT_EXAMPLE.search(task.prompt)
    if example:  # the answer format's own example, never the gold (S10-G5)
        attacks.append(("format-example", boxed(example.group(1))))
    number = first_number(answer)
    if number:  # a near miss in scientific notation: 1 + 3·10⁻⁶ times the gold, 10 digits shown
        attacks.append(("scientific-near-miss", boxed(scientific(number * (1 + Fraction(3, 10**6)), 10))))
        if form in ("set", "tuple"):
            values = list(answer["values"])
            magnitude = values[0].strip().removeprefix("-")
            values[0] = f"{'-' if number < 0 else ''}\\sqrt{{\\left({magnitude}\\right)^{{2}} + 0.00001}}"
            text = ", ".join(values)
            attacks.append(("set-member-under-root", boxed(f"({text})" if form == "tuple" else text)))
    attacks += unevaluated_attacks(task, answer, form, boxed)
    if zero:
        attacks = [
            (name, text)
            for name, text in attacks
            if name not in ("relative-near-miss", "wrong-sign", "factor-two", "half", "decimal-under-root")
        ]
    return attacks


STENCIL = ((-4, 3), (-3, -32), (-2, 168), (-1, -672), (1, 672), (2, -168), (3, 32), (4, -3))  # / 840


def unevaluated_attacks(task: Task, answer: dict, form: str, boxed: Callable[[str], str]) -> list[tuple[str, str]]:
    """Red team s19: answers that restate the work instead of doing it, right in value. Sets and
    tuples with each value left as a sum (the quadratic formula and Cramer's rule on the
    prompt's coefficients did this); an expanded polynomial whose coefficients are left as sums;
    f'(x) as the exact 9-point central difference of the prompt's f (exact up to degree 8),
    which differentiates nothing."""
    attacks = []
    if form in ("set", "tuple"):
        text = ", ".join(f"\\left({value}+1\\right)-1" for value in answer["values"])
        attacks.append(("values-left-as-sums", boxed(f"({text})" if form == "tuple" else text)))
    if form == "expanded":
        for name, one in (("coefficients-left-as-sums", "1"), ("coefficients-left-as-decimal-sums", "1.0")):
            # (second pass: a decimal once made sympy evaluate every sum around it before the check)
            unevaluated = re.sub(r"(\d+)(?= x|$)", rf"\\left(\1+{one}-1\\right)", answer["gold"])
            attacks.append((name, boxed(unevaluated)))
    function = re.search(r"Let \$f\(x\) = (.+?)\$\. Find \$f'\(x\)\$", task.prompt) if form != "any" else None
    if function:
        shifted = {shift: function.group(1).replace("x", f"(x{shift:+d})") for shift, _ in STENCIL}
        terms = " ".join(
            f"{'+' if weight > 0 else '-'} {abs(weight)} \\left({shifted[shift]}\\right)" for shift, weight in STENCIL
        )
        attacks.append(("finite-differences-of-f", boxed(f"\\frac{{{terms.lstrip('+ ')}}}{{840}}")))
    return attacks


def first_number(answer: dict) -> Fraction | None:
    """The gold's value (its first element's, for sets and tuples) when it is a nonzero plain
    number as the verifier reads one (``parse_plain_number``: an integer, a fraction, a decimal)."""
    text = answer["values"][0] if answer.get("form") in ("set", "tuple") and answer.get("values") else answer["gold"]
    number = parse_plain_number(text)
    return number.value if number is not None and number.value else None


def scientific(value: Fraction, digits: int) -> str:
    """``value`` in scientific notation with ``digits`` significant digits: 1.234567890 \\times 10^{8}."""
    sign, value = ("-" if value < 0 else ""), abs(value)
    exponent = len(str(int(value))) - 1 if value >= 1 else -len(str(int(1 / value)))
    mantissa = value / Fraction(10) ** exponent
    while mantissa >= 10:
        mantissa, exponent = mantissa / 10, exponent + 1
    while mantissa < 1:
        mantissa, exponent = mantissa * 10, exponent - 1
    scaled = round(mantissa * 10 ** (digits - 1))
    if scaled == 10**digits:  # 9.99… rounded up to 10.0…
        scaled, exponent = 10 ** (digits - 1), exponent + 1
    text = str(scaled)
    return f"{sign}{text[0]}.{text[1:]} \\times 10^{{{exponent}}}"


def near_miss_text(gold: str) -> str:
    """Gold + 1 for a plain number (as the verifier reads one); otherwise the first digit bumped;
    otherwise a far number."""
    number = parse_plain_number(gold)
    if number is not None:
        return latex_rational(number.value + 1)
    digit = re.search(r"\d", gold)
    if digit:
        bumped = str((int(digit.group()) + 1) % 10)
        return gold[: digit.start()] + bumped + gold[digit.end() :]
    return "1234567"
