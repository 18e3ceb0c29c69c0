r"""Formulas: the native answer grammar's reading of expressions beyond exact constants.

What        Answers with functions and constructs the exact grammar of
            rlvr.verifiers.math_answers does not evaluate: ``\sin``, ``\cos``, ``\tan``, ``\cot``,
            ``\sec``, ``\csc`` (and ``\sinh``, ``\cosh``, ``\tanh``), ``\ln``, ``\log``, ``\log_b``,
            ``\exp``, inverse trigonometric functions, ``|x|``, fractional and irrational powers
            (``\sqrt[3]{x}^2``, ``10^{\frac{\sqrt{13}-5}{6}}``), roots of irrational values
            (``\sqrt{\sqrt{11}+\sqrt{194}}``), division by sums, indexed names (``F_{n-k-1}``) and
            ``\sum_{k=a}^{b}``. math_answers calls ``read`` when its own parser gives up on an
            expression, from the same position of the same tokens.
Deciding    Two values are equal when their formal values are equal (``formal``): a quotient of
            two math_answers.Exact polynomials over atoms, each rewrite a true identity for every
            complex value of the variables: sin, cos, tan, … of A as rational functions of
            e^{iA}; e^{i(qπ + Σ c·x + R)} = e^{iqπ}·Π (e^{ix})^c·e^{iR} (e^{iqπ} exact for 12q an
            integer); x^a·x^b = x^{a+b}; (c·x)^p = c^p·x^p for a rational c > 0 and one variable x;
            c^{q+R} = c^q·c^R for a rational c > 0; ln of a positive rational as Σ a·ln p over its
            prime powers (``\log`` is ln, ``\log_b x`` = ln x / ln b); x^\circ = x·π/180;
            Σ over numeric bounds summed out (at most MAX_SUM_TERMS terms); anything else (another
            logarithm, |x|, a power of a sum, a sum with symbolic bounds) is an opaque atom keyed
            by its argument's formal value, bound variables renamed. Formal equality of two such
            quotients (cross-multiplied) implies equality of the values wherever both are
            defined, so it is the only way to ACCEPT. Two values are different when their
            double-precision values (``numeric``, at MAX_POINTS fixed points: variables in
            (0.3, 1.4), variables used in bounds or subscripts integers 4–9, indexed names
            pseudo-random per index) differ by more than 10⁻⁶ relative AND by more than 10⁻⁸ of
            the largest magnitude met in either evaluation (so rounding error and cancellation
            cannot fake a difference): that is the only way to REJECT. Anything else (formally
            different, numerically alike: ``\sqrt[3]{x^2}`` against ``x^{2/3}``, a near-identity, an
            adversary's ``\sin x + 10^{-60}``) is undecided and goes to the worker.
Bounds      At most MAX_NODES nodes and MAX_DEPTH nested calls per reading; integer powers of
            non-constant values at most MAX_FORMAL_POWER; sums expanded or evaluated term by term
            within a shared budget; every Exact operation keeps its own size limits. All formula
            work inside one ``budget()`` block (rlvr.verifiers.math opens one per verify call)
            shares BUDGET_S seconds; past it, ``OutOfTime``: undecided, and the reading is not
            cached. Numeric values are cached per formula (``node_rows``).
"""

from __future__ import annotations

import cmath
import functools
import math
import random
import threading
import time
from dataclasses import dataclass
from fractions import Fraction

from rlvr.verifiers import math_answers as ma

MAX_NODES = 400
MAX_DEPTH = 60
MAX_FORMAL_POWER = 16
MAX_SUM_TERMS = 200  # a sum with numeric bounds is summed out formally up to this many terms
MAX_NUMERIC_SUM_TERMS = 5_000  # terms evaluated numerically per comparison, all sums together
MAX_POINTS = 3
BUDGET_S = 0.1  # seconds of formula work per verification, all readings and comparisons together
TRIGONOMETRIC = ("\\sin", "\\cos", "\\tan", "\\cot", "\\sec", "\\csc")
HYPERBOLIC = ("\\sinh", "\\cosh", "\\tanh")
INVERSE = ("\\arcsin", "\\arccos", "\\arctan")
LOGARITHMS = ("\\ln", "\\log")
FUNCTIONS = TRIGONOMETRIC + HYPERBOLIC + INVERSE + LOGARITHMS + ("\\exp",)
UPRIGHT = ("\\mathrm", "\\text", "\\textbf", "\\mathit", "\\mathbf", "\\textit")
BOUND = "@k"  # bound variables of sums are renamed @k0, @k1, … by nesting depth


class OutOfTime(ma.NotNative):
    """The formula budget of this verification is spent: undecided, and not to be cached."""


_budget = threading.local()


class Budget:
    """One time budget for all formula work inside the block (the outermost block sets it)."""

    __slots__ = ("outermost", "seconds")

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.outermost = False

    def __enter__(self) -> None:
        self.outermost = getattr(_budget, "deadline", None) is None
        if self.outermost:
            _budget.deadline = time.monotonic() + self.seconds

    def __exit__(self, *exception) -> None:
        if self.outermost:
            _budget.deadline = None


def budget(seconds: float = BUDGET_S) -> Budget:
    return Budget(seconds)


def deadline() -> float:
    current = getattr(_budget, "deadline", None)
    return current if current is not None else time.monotonic() + BUDGET_S


def check_time(until: float) -> None:
    if time.monotonic() > until:
        raise OutOfTime("the formula budget is spent")


# --------------------------------------------------------------------------------------------
# Syntax: nodes are tuples
#   ("num", Fraction) ("const", "pi"|"e"|"i") ("var", name) ("idx", name, node)
#   ("add", (nodes)) ("mul", (nodes)) ("neg", node) ("inv", node) ("pow", base, exponent)
#   ("fn", name, node) ("log", base node, node) ("abs", node) ("fact", node)
#   ("sum", bound name, low, high, body)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Formula:
    """An expression the exact grammar does not evaluate, with its formal value when it has one."""

    node: tuple
    formal: object  # Quotient, or None when no formal value could be formed
    has_decimal: bool = False


class Reader:
    """Reads one expression from math_answers' tokens, starting at ``parser.position``."""

    def __init__(self, parser):
        self.parser = parser
        self.nodes = 0
        self.depth = 0
        self.decimal = False
        self.bars = 0  # absolute values open: a bar inside one closes it

    def peek(self, offset: int = 0):
        return self.parser.peek(offset)

    def at(self, *values: str) -> bool:
        return self.parser.at(*values)

    def take(self):
        return self.parser.take()

    def expect(self, value: str) -> None:
        self.parser.expect(value)

    def make(self, *node) -> tuple:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ma.NotNative("formula too large")
        return node

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ma.NotNative("formula nested too deeply")

    def expression(self) -> tuple:
        self.enter()
        negative = False
        while self.at("+", "-"):
            negative ^= self.take()[1] == "-"
        terms = [self.term()]
        if negative:
            terms[0] = self.make("neg", terms[0])
        while self.at("+", "-"):
            op = self.take()[1]
            right = self.term()
            terms.append(right if op == "+" else self.make("neg", right))
        self.depth -= 1
        return terms[0] if len(terms) == 1 else self.make("add", tuple(terms))

    def starts_factor(self) -> bool:
        kind, token = self.peek()
        return (
            kind in ("symbol", "number")
            or token in ("(", "{", "\\sqrt", "\\pi", "\\sum")
            or (token == "|" and not self.bars)
            or token in ma.FRACTIONS
            or token in FUNCTIONS
            or token[1:] in ma._GREEK
        )

    def term(self, stop_at_function: bool = False) -> tuple:
        factors = [self.factor()]
        while True:
            kind, token = self.peek()
            if token in ma.TIMES or token in ("\\div", "/"):
                self.take()
                right = self.factor()
                factors.append(right if token in ma.TIMES else self.make("inv", right))
            elif self.starts_factor() and not (stop_at_function and token in FUNCTIONS):
                previous = self.parser.tokens[self.parser.position - 1]
                if previous[0] == "number" and (kind == "number" or token in ma.FRACTIONS):
                    raise ma.NotNative("a number side by side with a number or a fraction")
                factors.append(self.factor())
            else:
                return factors[0] if len(factors) == 1 else self.make("mul", tuple(factors))

    def factor(self) -> tuple:
        self.enter()
        if self.at("-"):
            self.take()
            node = self.make("neg", self.factor())
        elif self.at("+"):
            self.take()
            node = self.factor()
        else:
            node = self.atom()
            while True:
                if self.at("^"):
                    self.take()
                    if self.at("\\circ") or (self.at("{") and self.peek(1)[1] == "\\circ" and self.peek(2)[1] == "}"):
                        self.parser.position += 1 if self.at("\\circ") else 3  # degrees: x · π/180
                        node = self.make("mul", (node, self.make("const", "pi"), self.make("num", Fraction(1, 180))))
                        continue
                    node = self.make("pow", node, self.exponent())
                elif self.at("!"):
                    self.take()
                    node = self.make("fact", node)
                else:
                    break
        self.depth -= 1
        return node

    def exponent(self) -> tuple:
        kind, token = self.peek()
        if token == "{":
            return self.braced()
        if kind == "number":
            self.take()
            if not token.isdigit() or len(token) > 1:
                raise ma.NotNative("an ambiguous exponent")
            return self.make("num", Fraction(int(token)))
        if token == "-":
            self.take()
            return self.make("neg", self.exponent())
        return self.atom()

    def braced(self) -> tuple:
        self.expect("{")
        node = self.expression()
        self.expect("}")
        return node

    def group(self) -> tuple:
        """A braced argument, or one digit or letter (``\\frac12``, ``\\sqrt3``)."""
        kind, token = self.peek()
        if token == "{":
            return self.braced()
        if kind == "number":
            self.take()
            if len(token) > 1 and token.isdigit():  # \frac12 reads the digits one at a time
                self.parser.tokens[self.parser.position - 1 : self.parser.position] = [
                    ("number", token[0]),
                    ("number", token[1:]),
                ]
                return self.number(token[0])
            return self.number(token)
        return self.atom()

    def number(self, token: str) -> tuple:
        if "." in token:
            self.decimal = True
        return self.make("num", Fraction(token))

    def atom(self) -> tuple:
        self.enter()
        kind, token = self.take()
        if kind == "number":
            node = self.number(token)
        elif token in ma.FRACTIONS:
            numerator = self.group()
            node = self.make("mul", (numerator, self.make("inv", self.group())))
        elif token == "\\sqrt":
            degree = None
            if self.at("["):
                self.take()
                degree = self.expression()
                self.expect("]")
            radicand = self.group()
            exponent = self.make("inv", degree) if degree is not None else self.make("num", Fraction(1, 2))
            node = self.make("pow", radicand, exponent)
        elif token == "\\pi":
            node = self.make("const", "pi")
        elif token in ("(", "{"):
            node = self.expression()
            self.expect(")" if token == "(" else "}")
        elif token == "|":
            self.bars += 1
            node = self.make("abs", self.expression())
            self.expect("|")
            self.bars -= 1
        elif token in FUNCTIONS:
            node = self.function(token)
        elif token == "\\sum":
            node = self.summation()
        elif token in UPRIGHT and self.at("{") and self.peek(1)[0] == "symbol" and self.peek(2)[1] == "}":
            node = self.make("var", self.peek(1)[1])  # \mathrm{E}: the letter E
            self.parser.position += 3
        elif kind == "symbol" or (kind == "command" and token[1:] in ma._GREEK):
            if token == "e" and not self.at("_"):
                node = self.make("const", "e")
            elif token == "i" and not self.at("_"):
                node = self.make("const", "i")
            elif self.at("_"):
                self.take()
                node = self.make("idx", token, self.group())
            else:
                node = self.make("var", token)
        else:
            raise ma.NotNative(f"token {token!r}")
        self.depth -= 1
        return node

    def function(self, name: str) -> tuple:
        """``\\sin x``, ``\\sin(x)``, ``\\sin^2 x`` (the square of sin x), ``\\sin^{-1}`` (arcsin),
        ``\\log_2 8``; an argument without brackets runs to the next + or - (``\\sin 2x``)."""
        base = None
        if name == "\\log" and self.at("_"):
            self.take()
            base = self.group()
        power = None
        if self.at("^"):
            self.take()
            power = self.exponent()
            if power == ("neg", ("num", Fraction(1))) or power == ("num", Fraction(-1)):
                if name not in TRIGONOMETRIC[:3]:
                    raise ma.NotNative("an inverse function")
                name, power = {"\\sin": "\\arcsin", "\\cos": "\\arccos", "\\tan": "\\arctan"}[name], None
        if self.at("("):
            self.take()
            argument = self.expression()
            self.expect(")")
        elif self.at("{"):
            argument = self.braced()
        else:
            argument = self.term(stop_at_function=True)
        if name == "\\log" and base is not None:
            node = self.make("log", base, argument)
        elif name == "\\exp":
            node = self.make("pow", self.make("const", "e"), argument)
        else:
            node = self.make("fn", "\\ln" if name == "\\log" else name, argument)
        return self.make("pow", node, power) if power is not None else node

    def summation(self) -> tuple:
        """``\\sum_{k=a}^{b} body``: the body is the next term (a product of factors)."""
        self.expect("_")
        self.expect("{")
        kind, name = self.take()
        if kind != "symbol":
            raise ma.NotNative("a sum over something other than a letter")
        self.expect("=")
        low = self.expression()
        self.expect("}")
        self.expect("^")
        high = self.exponent()
        body = self.term()
        return self.make("sum", name, low, high, body)


def read(parser) -> Formula:
    """The formula at ``parser.position`` (its tokens consumed), or NotNative (OutOfTime when the
    budget ran out: the reading is then not final)."""
    reader = Reader(parser)
    node = reader.expression()
    try:
        formal = Formal(deadline()).value(node, {})
    except OutOfTime:
        raise
    except (ma.NotNative, ma.Invalid, ZeroDivisionError, OverflowError, ValueError, RecursionError):
        formal = None
    return Formula(node, formal, reader.decimal)


# --------------------------------------------------------------------------------------------
# Formal values: quotients of Exact polynomials over atoms
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quotient:
    numerator: ma.Exact
    denominator: ma.Exact

    @staticmethod
    def of(value: ma.Exact) -> Quotient:
        return Quotient(value, ma.Exact.rational(1))

    def normal(self) -> Quotient:
        if not self.denominator.terms:
            raise ma.NotNative("division by zero")
        if len(self.denominator.terms) == 1:  # a monomial divides exactly
            return Quotient(self.numerator * self.denominator.inverse(), ma.Exact.rational(1))
        if self.numerator.terms and ma.proportional(self.denominator, self.numerator):  # c·D / D = c
            (monomial, coefficient), *_ = self.denominator.terms
            ratio = dict(self.numerator.terms)[monomial] / coefficient
            return Quotient.of(ma.Exact.rational(ratio))
        lead = self.denominator.terms[0][1]
        if lead != 1:
            scale = ma.Exact.rational(1 / lead)
            return Quotient(self.numerator * scale, self.denominator * scale)
        return self

    def __add__(self, other: Quotient) -> Quotient:
        if self.denominator == other.denominator:
            return Quotient(self.numerator + other.numerator, self.denominator).normal()
        return Quotient(
            self.numerator * other.denominator + other.numerator * self.denominator,
            self.denominator * other.denominator,
        ).normal()

    def __neg__(self) -> Quotient:
        return Quotient(-self.numerator, self.denominator)

    def __mul__(self, other: Quotient) -> Quotient:
        return Quotient(self.numerator * other.numerator, self.denominator * other.denominator).normal()

    def inverse(self) -> Quotient:
        if not self.numerator.terms:
            raise ma.Invalid("division by zero")
        return Quotient(self.denominator, self.numerator).normal()

    def power(self, n: int) -> Quotient:
        if n < 0:
            return self.inverse().power(-n)
        if n > MAX_FORMAL_POWER and self.constant() is None:
            raise ma.NotNative("a large power of a formula")
        return Quotient(self.numerator.power(Fraction(n)), self.denominator.power(Fraction(n))).normal()

    def constant(self) -> ma.Exact | None:
        """The value when it is an Exact without atoms or variables."""
        if self.denominator.rational_value() == 1 and not self.numerator.has_symbols():
            return self.numerator
        return None

    def rational(self) -> Fraction | None:
        value = self.constant()
        return value.rational_value() if value is not None else None

    def key(self) -> str:
        return repr((self.numerator.terms, self.denominator.terms))

    def same(self, other: Quotient) -> bool:
        if self == other:
            return True
        return self.numerator * other.denominator == other.numerator * self.denominator


def prime_powers(value: Fraction) -> list[tuple[int, int]]:
    """(prime, exponent) of a positive rational, negative exponents in the denominator; trial
    division, numerator and denominator at most math_answers.MAX_RADICAND."""
    out = []
    for number, sign in ((value.numerator, 1), (value.denominator, -1)):
        if number > ma.MAX_RADICAND:
            raise ma.NotNative("too large to factor")
        p = 2
        while p * p <= number:
            count = 0
            while number % p == 0:
                number //= p
                count += 1
            if count:
                out.append((p, sign * count))
            p += 1 if p == 2 else 2
        if number > 1:
            out.append((number, sign))
    return out


def atom(name: str, exponent: Fraction = Fraction(1)) -> Quotient:
    return Quotient.of(ma.Exact.of({(0, 0, 0, 1, ((name, exponent),)): Fraction(1)}))


def exact_constant(monomial: tuple) -> Quotient:
    return Quotient.of(ma.Exact.of({monomial: Fraction(1)}))


PI = (1, 0, 0, 1, ())
E = (0, 1, 0, 1, ())
I = (0, 0, 1, 1, ())


def is_variable(name: str) -> bool:
    return not name.startswith("@")


def twelfth_roots() -> list[ma.Exact]:
    """e^{ikπ/12} for k = 0…23, exactly: powers of cos(π/12) + i·sin(π/12) = ((√6+√2) + i(√6−√2))/4."""
    s6, s2 = ma.Exact.rational(6).sqrt(), ma.Exact.rational(2).sqrt()
    i = ma.Exact.of({I: Fraction(1)})
    quarter = ma.Exact.rational(Fraction(1, 4))
    root = (s6 + s2) * quarter + i * (s6 - s2) * quarter
    out = [ma.Exact.rational(1)]
    for _ in range(23):
        out.append(out[-1] * root)
    return out


TWELFTH_ROOTS = twelfth_roots()


class Formal:
    def __init__(self, deadline: float):
        self.deadline = deadline

    def tick(self) -> None:
        check_time(self.deadline)

    def value(self, node: tuple, bound: dict) -> Quotient:
        self.tick()
        kind = node[0]
        if kind == "num":
            return Quotient.of(ma.Exact.rational(node[1]))
        if kind == "const":
            return exact_constant({"pi": PI, "e": E, "i": I}[node[1]])
        if kind == "var":
            if node[1] in bound:
                return bound[node[1]]
            return atom(node[1])
        if kind == "idx":
            return atom(f"{node[1]}_[{self.value(node[2], bound).key()}]")
        if kind == "add":
            total = self.value(node[1][0], bound)
            for item in node[1][1:]:
                total = total + self.value(item, bound)
            return total
        if kind == "mul":
            total = self.value(node[1][0], bound)
            for item in node[1][1:]:
                total = total * self.value(item, bound)
            return total
        if kind == "neg":
            return -self.value(node[1], bound)
        if kind == "inv":
            return self.value(node[1], bound).inverse()
        if kind == "pow":
            return self.power(node[1], node[2], bound)
        if kind == "fn":
            return self.function(node[1], self.value(node[2], bound))
        if kind == "log":
            return self.logarithm(self.value(node[2], bound)) * self.logarithm(self.value(node[1], bound)).inverse()
        if kind == "abs":
            argument = self.value(node[1], bound)
            rational = argument.rational()
            return (
                Quotient.of(ma.Exact.rational(abs(rational))) if rational is not None else self.opaque("abs", argument)
            )
        if kind == "fact":
            rational = self.value(node[1], bound).rational()
            if rational is None or rational.denominator != 1 or not 0 <= rational <= ma.MAX_FACTORIAL:
                raise ma.NotNative("factorial of a non-integer")
            return Quotient.of(ma.Exact.rational(math.factorial(int(rational))))
        if kind == "sum":
            return self.summation(node, bound)
        raise ma.NotNative(f"node {kind}")

    def opaque(self, name: str, argument: Quotient, exponent: Fraction = Fraction(1)) -> Quotient:
        return atom(f"@{name}[{argument.key()}]", exponent)

    def power(self, base_node: tuple, exponent_node: tuple, bound: dict) -> Quotient:
        exponent = self.value(exponent_node, bound)
        p = exponent.rational()
        if p is not None and p.denominator == 1:
            return self.value(base_node, bound).power(int(p))
        if base_node == ("const", "e"):
            return self.exp(exponent)
        base = self.value(base_node, bound)
        constant = base.constant()
        rational_base = constant.rational_value() if constant is not None else None
        if p is not None:
            if rational_base is not None and rational_base >= 0:
                try:  # an exact value (√8 = 2√2, 8^{1/3} = 2), else a power of the base as an atom
                    return Quotient.of(ma.Exact.rational(rational_base).power(p))
                except ma.NotNative:
                    return atom(f"@base[{rational_base}]", p)
            single = base.numerator.terms if base.denominator.rational_value() == 1 else ()
            if len(single) == 1:
                (pi, e, i, radicand, symbols), c = single[0]
                if (pi, e, i, radicand) == (0, 0, 0, 1) and c > 0 and len(symbols) == 1:
                    name, power = symbols[0]
                    if power == 1 and is_variable(name):  # (c·x)^p = c^p·x^p for c > 0
                        return self.power(("num", c), ("num", p), bound) * atom(name, p)
            return self.opaque("pow", base, Fraction(1)) if p == 1 else self.opaque("root", base, p)
        if rational_base is not None and rational_base > 0:  # c^A = c^q · c^(A − q), q the rational part
            value = exponent.constant()
            if value is None:
                return self.opaque(f"pow{rational_base}", exponent)
            rational_part = dict(value.terms).get(ma.ONE, Fraction(0))
            rest = value - ma.Exact.rational(rational_part)
            result = self.power(("num", rational_base), ("num", rational_part), bound)
            if rest.terms:
                sign = 1 if rest.terms[0][1] > 0 else -1
                rest = rest if sign > 0 else -rest
                result = result * atom(f"@pow{rational_base}[{Quotient.of(rest).key()}]", Fraction(sign))
            return result
        return atom(f"@powx[{base.key()}^{exponent.key()}]")

    def exp(self, exponent: Quotient) -> Quotient:
        """e^A = e^{i·(−iA)}."""
        return self.expi(exponent * exact_constant(I) * Quotient.of(ma.Exact.rational(-1)))

    def expi(self, argument: Quotient) -> Quotient:
        """e^{iB}: B = qπ + Σ c·x + Σ c·i·x + R gives e^{iqπ} · Π (e^{ix})^c · Π (e^x)^{−c} · e^{iR}."""
        if argument.denominator.rational_value() != 1:
            return self.opaque("eix", argument)
        result = Quotient.of(ma.Exact.rational(1))
        rest = {}
        for monomial, coefficient in argument.numerator.terms:
            pi, e, i, radicand, symbols = monomial
            if monomial == PI:
                q = coefficient % 2
                if (12 * q).denominator == 1:
                    result = result * Quotient.of(TWELFTH_ROOTS[int(12 * q)])
                else:
                    result = result * atom("@eipi", q)
            elif monomial == I and coefficient.denominator == 1:  # e^{i·(−n·i)} = e^n
                result = result * Quotient.of(ma.Exact.of({(0, 1, 0, 1, ()): Fraction(1)}).power(-coefficient))
            elif (
                (pi, e, radicand) == (0, 0, 1)
                and len(symbols) == 1
                and symbols[0][1] == 1
                and is_variable(symbols[0][0])
            ):
                name = symbols[0][0]
                result = result * (atom(f"@ex:{name}", -coefficient) if i else atom(f"@eix:{name}", coefficient))
            else:
                rest[monomial] = coefficient
        if rest:
            remainder = ma.Exact.of(rest)
            sign = 1 if remainder.terms[0][1] > 0 else -1
            result = result * self.opaque("eix", Quotient.of(remainder if sign > 0 else -remainder), Fraction(sign))
        return result

    def function(self, name: str, argument: Quotient) -> Quotient:
        one = Quotient.of(ma.Exact.rational(1))
        half = Quotient.of(ma.Exact.rational(Fraction(1, 2)))
        i = exact_constant(I)
        if name in TRIGONOMETRIC:
            z = self.expi(argument)
            plus, minus = z + z.inverse(), z + -z.inverse()
            sine, cosine = minus * (i * Quotient.of(ma.Exact.rational(2))).inverse(), plus * half
        elif name in HYPERBOLIC:
            z = self.exp(argument)
            plus, minus = z + z.inverse(), z + -z.inverse()
            sine, cosine = minus * half, plus * half
        elif name == "\\ln":
            return self.logarithm(argument)
        else:
            return self.opaque(name[1:], argument)
        if name in ("\\sin", "\\sinh"):
            return sine
        if name in ("\\cos", "\\cosh"):
            return cosine
        if name in ("\\tan", "\\tanh"):
            return sine * cosine.inverse()
        if name == "\\cot":
            return cosine * sine.inverse()
        if name == "\\sec":
            return one * cosine.inverse()
        return one * sine.inverse()  # csc

    def logarithm(self, argument: Quotient) -> Quotient:
        constant = argument.constant()
        if constant is not None:
            rational = constant.rational_value()
            if rational is not None and rational > 0:  # ln(p^a·q^b/r^c) = a·ln p + b·ln q − c·ln r
                total = Quotient.of(ma.Exact.rational(0))
                for prime, count in prime_powers(rational):
                    total = total + atom(f"@ln[{prime}]") * Quotient.of(ma.Exact.rational(count))
                return total
            if len(constant.terms) == 1 and constant.terms[0][1] == 1:
                (pi, e, i, radicand, symbols), _ = constant.terms[0]
                if (pi, i, radicand) == (0, 0, 1) and not symbols:  # ln(e^k) = k
                    return Quotient.of(ma.Exact.rational(e))
        return self.opaque("ln", argument)

    def summation(self, node: tuple, bound: dict) -> Quotient:
        _, name, low_node, high_node, body = node
        low, high = self.value(low_node, bound).rational(), self.value(high_node, bound).rational()
        if (
            low is not None
            and high is not None
            and low.denominator == high.denominator == 1
            and high - low < MAX_SUM_TERMS
        ):
            total = Quotient.of(ma.Exact.rational(0))
            for k in range(int(low), int(high) + 1):
                total = total + self.value(body, {**bound, name: Quotient.of(ma.Exact.rational(k))})
            return total
        renamed = atom(f"{BOUND}{len(bound)}")  # one name per nesting level: sums inside sums stay apart
        body_value = self.value(body, {**bound, name: renamed})
        low_value, high_value = self.value(low_node, bound), self.value(high_node, bound)
        return atom(f"@sum[{low_value.key()};{high_value.key()};{body_value.key()}]")


# --------------------------------------------------------------------------------------------
# Numeric values: double precision at fixed points, for rejecting only
# --------------------------------------------------------------------------------------------


class Undecided(Exception):
    pass


KINDS = frozenset(["num", "const", "var", "idx", "add", "mul", "neg", "inv", "pow", "fn", "log", "abs", "fact", "sum"])


def children(node: tuple) -> list[tuple]:
    out = []
    for part in node[1:]:
        if isinstance(part, tuple) and part and part[0] in KINDS:
            out.append(part)
        elif isinstance(part, tuple):
            out.extend(item for item in part if isinstance(item, tuple))
    return out


def variables(node: tuple, found: set) -> set:
    """The free variables of ``node`` (bound variables of sums included: they only add names)."""
    if node[0] == "var":
        found.add(node[1])
    for child in children(node):
        variables(child, found)
    return found


def integer_names(node: tuple, found: set) -> set:
    """Variables that appear in sum bounds or subscripts: they take integer values."""
    if node[0] == "sum":
        for part in node[2:4]:
            variables(part, found)
    elif node[0] == "idx":
        variables(node[2], found)
    for child in children(node):
        integer_names(child, found)
    return found


class Numeric:
    """Evaluation at one point, recording the largest magnitude met (the error scale)."""

    def __init__(self, point: dict, seed: int, deadline: float, budget: list):
        self.point, self.seed, self.deadline, self.budget = point, seed, deadline, budget
        self.scale = 1.0

    def note(self, value: complex) -> complex:
        size = abs(value)
        if not math.isfinite(size):
            raise Undecided("not finite")
        self.scale = max(self.scale, size)
        return value

    def value(self, node: tuple, bound: dict) -> complex:
        check_time(self.deadline)
        kind = node[0]
        if kind == "num":
            return self.note(complex(float(node[1])))
        if kind == "const":
            return {"pi": complex(math.pi), "e": complex(math.e), "i": 1j}[node[1]]
        if kind == "var":
            if node[1] in bound:
                return bound[node[1]]
            return self.point[node[1]]
        if kind == "idx":
            index = self.value(node[2], bound)
            generator = random.Random(f"{self.seed}:{node[1]}:{round(index.real, 9)}:{round(index.imag, 9)}")
            return complex(generator.uniform(0.3, 1.4))
        if kind == "add":
            return self.note(sum(self.value(item, bound) for item in node[1]))
        if kind == "mul":
            total = complex(1)
            for item in node[1]:
                total = self.note(total * self.value(item, bound))
            return total
        if kind == "neg":
            return -self.value(node[1], bound)
        if kind == "inv":
            value = self.value(node[1], bound)
            if abs(value) < 1e-12 * self.scale:
                raise Undecided("division by about zero")
            return self.note(1 / value)
        if kind == "pow":
            base, exponent = self.value(node[1], bound), self.value(node[2], bound)
            if abs(exponent) > 1e4:
                raise Undecided("a large exponent")
            if base == 0:
                if exponent.real > 0:
                    return complex(0)
                raise Undecided("zero to a non-positive power")
            if exponent.imag == 0 and exponent.real == round(exponent.real):
                return self.note(base ** int(round(exponent.real)))
            return self.note(base**exponent)
        if kind == "fn":
            argument = self.value(node[2], bound)
            if abs(argument) > 1e6:
                raise Undecided("a large argument")
            name = node[1]
            if name in ("\\sec", "\\csc", "\\cot"):
                inner = {"\\sec": cmath.cos, "\\csc": cmath.sin, "\\cot": cmath.tan}[name](argument)
                if abs(inner) < 1e-9:
                    raise Undecided("near a pole")
                return self.note(1 / inner)
            if name == "\\ln" and abs(argument) < 1e-12:
                raise Undecided("log of about zero")
            function = getattr(
                cmath, {"\\ln": "log", "\\arcsin": "asin", "\\arccos": "acos", "\\arctan": "atan"}.get(name, name[1:])
            )
            return self.note(function(argument))
        if kind == "log":
            base, argument = self.value(node[1], bound), self.value(node[2], bound)
            if abs(argument) < 1e-12 or abs(cmath.log(base)) < 1e-12:
                raise Undecided("a degenerate logarithm")
            return self.note(cmath.log(argument) / cmath.log(base))
        if kind == "abs":
            return self.note(complex(abs(self.value(node[1], bound))))
        if kind == "fact":
            value = self.value(node[1], bound)
            if value.imag or value.real != round(value.real) or not 0 <= value.real <= 170:
                raise Undecided("factorial")
            return self.note(complex(math.factorial(int(value.real))))
        if kind == "sum":
            _, name, low_node, high_node, body = node
            low, high = self.value(low_node, bound), self.value(high_node, bound)
            if low.imag or high.imag or low.real != round(low.real) or high.real != round(high.real):
                raise Undecided("a sum with non-integer bounds")
            count = int(high.real) - int(low.real) + 1
            self.budget[0] -= max(count, 0)
            if self.budget[0] < 0:
                raise Undecided("too many terms")
            total = complex(0)
            for k in range(int(low.real), int(high.real) + 1):
                total += self.value(body, {**bound, name: complex(k)})
            return self.note(total)
        raise Undecided(kind)


def scalar_node(value: ma.Exact) -> tuple:
    """An Exact (from the exact grammar) as a formula node."""
    terms = []
    for (pi, e, i, radicand, symbols), coefficient in value.terms:
        factors = [("num", coefficient)]
        factors += [("pow", ("const", "pi"), ("num", Fraction(pi)))] if pi else []
        factors += [("pow", ("const", "e"), ("num", Fraction(e)))] if e else []
        factors += [("const", "i")] if i else []
        factors += [("pow", ("num", Fraction(radicand)), ("num", Fraction(1, 2)))] if radicand != 1 else []
        factors += [("pow", ("var", name), ("num", Fraction(power))) for name, power in symbols]
        terms.append(("mul", tuple(factors)))
    return ("add", tuple(terms)) if terms else ("num", Fraction(0))


def point(index: int, names: set, integers: frozenset) -> dict:
    """Variable values at point ``index``, each a function of its name alone (so every formula
    sees the same values): integers 4–9 for names used in bounds or subscripts, else (0.3, 1.4)."""
    values = {}
    for name in names:
        generator = random.Random(f"rlvr-formula-point-{index}-{name}")
        values[name] = complex(generator.randint(4, 9)) if name in integers else complex(generator.uniform(0.3, 1.4))
    return values


@functools.lru_cache(maxsize=2048)
def node_rows(node: tuple, integers: frozenset, count: int) -> tuple:
    """(value, error scale) of ``node`` at the first ``count`` points; Undecided (not cached)
    when an evaluation fails."""
    until = deadline()
    budget_left = [MAX_NUMERIC_SUM_TERMS]
    names = variables(node, set())
    rows = []
    for index in range(count):
        numeric = Numeric(point(index, names, integers), index, until, budget_left)
        try:
            value = numeric.value(node, {})
        except (ZeroDivisionError, OverflowError, ValueError):
            raise Undecided("evaluation failed") from None
        rows.append((value, numeric.scale))
    return tuple(rows)


def evaluate_all(nodes: list[tuple], count: int = MAX_POINTS) -> list[list[tuple[complex, float]]]:
    """For each point, each node's (value, error scale); Undecided when some evaluation fails."""
    integers = set()
    for node in nodes:
        integer_names(node, integers)
    columns = [node_rows(node, frozenset(integers), count) for node in nodes]
    return [list(row) for row in zip(*columns)]


def clearly_different(a: tuple[complex, float], b: tuple[complex, float]) -> bool:
    (x, sx), (y, sy) = a, b
    difference = abs(x - y)
    return difference > 1e-6 * max(1.0, abs(x), abs(y)) and difference > 1e-8 * max(sx, sy)


# --------------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------------


def node_of(item) -> tuple:
    return item.node if isinstance(item, Formula) else scalar_node(item.value)


def formal_of(item) -> Quotient | None:
    return item.formal if isinstance(item, Formula) else Quotient.of(item.value)


def same_value(gold, answer) -> bool:
    """Formula against formula or exact Scalar: True when formally equal and defined at the
    points with no clear difference there (a check on the rewrites, and no 0/0 in disguise),
    False when clearly different at some point, else NotNative (the worker decides)."""
    if node_of(gold) == node_of(answer):  # read alike: the same value
        return True
    g, a = formal_of(gold), formal_of(answer)
    check_time(deadline())
    formally_equal = False
    try:
        formally_equal = g is not None and a is not None and g.same(a)
    except OutOfTime:
        raise
    except (ma.NotNative, ma.Invalid):
        pass
    try:
        rows = evaluate_all([node_of(gold), node_of(answer)])
    except Undecided as error:
        raise ma.NotNative(f"undecided formula ({error})") from None
    different = any(clearly_different(row[0], row[1]) for row in rows)
    if formally_equal and not different:
        return True
    if different and not formally_equal:
        return False
    raise ma.NotNative(
        "formally equal but numerically different" if different else "formally different, numerically alike"
    )


def approximates(gold, places: int, answer: Fraction) -> bool | None:
    """A plain decimal ``answer`` with ``places`` digits for a constant formula gold: the rule of
    rlvr.verifiers.math.value_agrees at double precision; None when the gold is not a clean constant."""
    node = node_of(gold)
    if variables(node, set()):
        return None
    try:
        ((value, scale),) = evaluate_all([node], 1)[0]
    except Undecided:
        return None
    if value.imag or scale > 1e6 * max(abs(value), 1e-300):
        return None
    error = abs(float(answer) - value.real)
    slack = 1 + 1e-9
    return error <= slack * 0.5 * 10.0 ** -min(places, 300) and error <= slack * 1e-5 * abs(value.real)


@dataclass(frozen=True)
class FormulaEquation:
    """``L = R`` with a function or another formula construct on a side: the difference L − R."""

    difference: tuple  # node
    formal: object  # Quotient or None


def equation(left, right) -> FormulaEquation:
    node = ("add", (node_of(left), ("neg", node_of(right))))
    g, a = formal_of(left), formal_of(right)
    formal = None
    if g is not None and a is not None:
        try:
            formal = g + -a
        except (ma.NotNative, ma.Invalid):
            formal = None
    return FormulaEquation(node, formal)


def same_equation(gold, answer) -> bool:
    """Proportional differences (a non-zero rational factor) formally, and no clear sign of the
    contrary at the points: True; differences whose ratio clearly changes between points, or
    that vanish at a point where the other does not: False; else NotNative."""
    g = gold.formal if isinstance(gold, FormulaEquation) else Quotient.of(gold.difference)
    a = answer.formal if isinstance(answer, FormulaEquation) else Quotient.of(answer.difference)
    check_time(deadline())
    formally_proportional = False
    if g is not None and a is not None:
        try:
            formally_proportional = ma.proportional(g.numerator * a.denominator, a.numerator * g.denominator)
        except OutOfTime:
            raise
        except (ma.NotNative, ma.Invalid):
            pass
    nodes = [
        item.difference if isinstance(item, FormulaEquation) else scalar_node(item.difference)
        for item in (gold, answer)
    ]
    try:
        rows = evaluate_all(nodes)
    except Undecided as error:
        raise ma.NotNative(f"undecided equation ({error})") from None
    different, ratios = False, []
    for (x, sx), (y, sy) in rows:
        x_zero, y_zero = abs(x) <= 1e-8 * sx, abs(y) <= 1e-8 * sy
        if x_zero != y_zero and max(abs(x), abs(y)) > 1e-6:
            different = True
        if not x_zero and not y_zero:
            ratios.append((x / y, max(sx / abs(y), sy * abs(x) / abs(y) ** 2)))
    different = different or any(clearly_different(r1, r2) for r1, r2 in zip(ratios, ratios[1:]))
    if formally_proportional != different:
        return formally_proportional
    raise ma.NotNative("equations undecided")
