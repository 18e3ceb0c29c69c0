r"""The native answer grammar: final answers parsed once into exact canonical values.

Why hand-written  math-verify (LaTeX → sympy through an ANTLR grammar, then sympy
                  simplification) is general but slow (milliseconds per pair, seconds on
                  adversarial input) and has to run in a killable process. Nearly every real
                  final answer is drawn from a small grammar, and for that grammar an exact
                  canonical form makes equality a dictionary comparison: no sympy, no
                  re-parsing, no process. So this module parses that grammar by hand and says
                  "not mine" (``NotNative``) for everything else, which goes to math-verify in
                  the worker as before. Every step is bounded: the caller hands at most
                  ``MAX_ANSWER_CHARS`` characters nested at most ``MAX_NESTING`` deep, and
                  arithmetic that could grow (powers, factorials, radicands, term counts) has
                  explicit limits past which the answer is not native.
Grammar           answer   := [name "="] body [unit] | equation | inequality | ratio
                  equation := expr "=" expr  (with a variable; L − R kept as the value)
                  inequality := expr rel expr | expr rel (expr | name) rel expr
                              (rel: < > \le \ge \neq …; linear in one variable)
                  ratio    := expr (":" expr)+  (``08:34``, ``12:00``: a time of day, not native)
                  body     := union | set | sequence | matrix | list | expr | text
                  union    := interval ("\cup" interval | "\cup" set)+  ;  interval := ("("|"[") expr "," expr (")"|"]")
                  set      := "\{" list "\}" | "{" list "}"  ;  sequence := "(" list ")" | "[" list "]"
                  list     := expr ("," expr)+
                              (";" separates like "," when there is no comma, or when every ";" is
                              inside brackets and every "," outside: ``(0;-2;0),(4;0;6)``)
                  matrix   := \begin{pmatrix|bmatrix|matrix|array}  rows of "&"-separated exprs  \end{…}
                  expr     := ["+"|"-"] term (("+"|"-") term)*
                  term     := factor (("\cdot"|"\times"|"*"|"/"|"\div"| ) factor)*
                  factor   := ["-"] atom ["^" exponent] ["!"] ["\%" | "^\circ"]
                  atom     := integer | decimal | "\frac"{…}{…} (\dfrac \tfrac \cfrac, \frac12)
                              | mixed number 4\frac{2}{3} | "\sqrt"[n]{…} | "\pi" | "e" | "i" | "\infty"
                              | a letter (a variable) | "(" expr ")" | "{" expr "}"
                  Scientific notation (``2.3 \times 10^{-3}``), percentages (``28\%``: 28 — see
                  units), degrees (``90^\circ``: 90), thousands separators (``1,000``,
                  ``11,\! 111``, ``1\,000``, ``1 000``, ``0.333\,333``), mixed numbers
                  (``4\frac{2}{3}``, ``1 1/2``) and products of powers (``2^6 3^5``) are read; two numbers side
                  by side otherwise (``4 4``) are not an answer (``Invalid``), nor is a number with two full stops
                  (``3..``; an ellipsis ``...`` is fine), nor are values too large to
                  write down: powers with exponents above 4 096 (``10^{10^{10}}``), roots of
                  degree above 1 000 (``2^{1/2^{1000}}``), factorials above 500!.
                  Where this grammar stops short of an expression (``\sin``, ``\ln``, a power it
                  does not evaluate, ``|x|``, ``F_{n-1}``, ``\sum``), ``Parser.value_expression``
                  hands the same tokens to rlvr.verifiers.math_formulas, whose ``Formula`` takes
                  the place of a Scalar (in lists, sets, matrices, equations: ``FormulaEquation``).
                  A trailing ``^\circ`` in an expression with a trigonometric function is an
                  angle (``\sin 30^\circ``), not a unit; ``\mathrm{e}`` is e.
Values            ``Exact``: a finite sum of rational coefficients times monomials
                  π^a·e^b·i^c·√m·x^k… (m square-free, c ∈ {0, 1}); products, integer powers,
                  square roots of rationals, and division by one term stay exact, so equal
                  values have equal dictionaries (π and e are treated as independent, as every
                  grader does). Division by a sum, roots of irrationals, functions (\sin, \log…)
                  are not native.
Comparison        ``equivalent(gold, answer, options)``: decimals are read as exact rationals
                  (``4.000001`` = 4000001/10⁶) and values must be exactly equal; the one
                  tolerance is a PLAIN decimal number (``-0.333333``, ``-2.31 \times 10^{-3}``; not one inside an
                  expression: ``\sqrt{4.000001}``, ``1.234568 \times 10^{8}``, ``2.5 + 1``) for
                  an exact gold that is no integer, or a plain decimal gold for an exact answer
                  (``0.333333`` for ``\frac{1}{3}``: a gold written rounded), which follows
                  rlvr.verifiers.math.value_agrees (correctly rounded, relative 10⁻⁵; for an
                  integer gold that means exactly equal); decimals on both sides compare exactly;
                  ``tolerance`` makes every numeric comparison relative; sets and bare lists
                  compare as sets (order and repeats ignored; ``ordered=True``: bare lists in
                  order), tuples and bracketed lists in order, a pair's brackets always count
                  (``(1, 2)``, ``[1, 2)``, ``1, 2`` all differ), unions as sets of pieces,
                  matrices entry by entry (pmatrix = bmatrix; a one-row or one-column matrix
                  equals a bracketed list), text case-insensitively (``\text{E}`` = ``E``),
                  ratios part by part, equations when one L − R is a non-zero rational multiple
                  of the other (``2x + 4y - 3 = 0`` = ``y = -\frac{1}{2}x + \frac{3}{4}``; ``x^2 = 4``
                  is not ``x = 2``), an inequality as the interval of its variable
                  (``-x > -1`` = ``x < 1`` = ``(-\infty, 1)``; ``x \neq 3`` a union of two; another
                  variable differs; ``1 \le |z| \le 2`` the union ``[-2, -1] ∪ [1, 2]``), formulas
                  and formula equations by math_formulas (formally equal, or clearly different at
                  fixed points, else NotNative). Units: ``units="ignore"`` (default) drops a
                  trailing unit (``10 \text{ cm}^2``, ``10 weeks``, ``\%``, ``^\circ``) on both
                  sides; ``"strict"`` requires the same unit text on both sides.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from fractions import Fraction

MAX_TERMS = 64
MAX_POWER = 4_096  # largest |integer exponent| applied to a value
MAX_INTEGER_BITS = 20_000  # no intermediate integer beyond this many bits
MAX_FACTORIAL = 500
MAX_ROOT_DEGREE = 1_000
MAX_RADICAND = 10**12


class NotNative(Exception):
    """Outside the native grammar: math-verify decides."""


class Invalid(Exception):
    """Not a well-formed answer at all (``4 4``): scores 0 without asking anyone."""


# --------------------------------------------------------------------------------------------
# Exact values
# --------------------------------------------------------------------------------------------

# A monomial: (π exponent, e exponent, i exponent 0/1, square-free radicand, ((symbol, exp), …))
ONE = (0, 0, 0, 1, ())


def square_free(n: int) -> tuple[int, int]:
    """n = k²·m with m square-free: (k, m). Trial division, n ≤ MAX_RADICAND."""
    if n > MAX_RADICAND:
        raise NotNative("radicand too large")
    outside, inside, p = 1, 1, 2
    while p * p <= n:
        count = 0
        while n % p == 0:
            n //= p
            count += 1
        outside *= p ** (count // 2)
        inside *= p ** (count % 2)
        p += 1 if p == 2 else 2
    return outside, inside * n


def check_size(value: Fraction) -> Fraction:
    if value.numerator.bit_length() > MAX_INTEGER_BITS or value.denominator.bit_length() > MAX_INTEGER_BITS:
        raise NotNative("number too large")
    return value


def multiply_monomials(a: tuple, b: tuple) -> tuple[Fraction, tuple]:
    pi, e, i = a[0] + b[0], a[1] + b[1], a[2] + b[2]
    coefficient = Fraction(1)
    if i >= 2:
        i -= 2
        coefficient = -coefficient
    radicand = a[3] * b[3]
    shared = math.gcd(a[3], b[3])
    if shared > 1:  # √(sm)·√(sn) = s·√(mn)
        coefficient *= shared
        radicand //= shared * shared
    symbols = dict(a[4])
    for name, power in b[4]:
        symbols[name] = symbols.get(name, 0) + power
    return coefficient, (pi, e, i, radicand, tuple(sorted((k, v) for k, v in symbols.items() if v)))


@dataclass(frozen=True)
class Exact:
    """Σ coefficient·monomial, zero terms dropped: equal values have equal ``terms``."""

    terms: tuple  # ((monomial, Fraction), …) sorted

    @staticmethod
    def of(terms: dict) -> Exact:
        kept = tuple(sorted((m, c) for m, c in terms.items() if c))
        if len(kept) > MAX_TERMS:
            raise NotNative("too many terms")
        for _, c in kept:
            check_size(c)
        return Exact(kept)

    @staticmethod
    def rational(value) -> Exact:
        return Exact.of({ONE: Fraction(value)})

    def rational_value(self) -> Fraction | None:
        if not self.terms:
            return Fraction(0)
        if len(self.terms) == 1 and self.terms[0][0] == ONE:
            return self.terms[0][1]
        return None

    def has_symbols(self) -> bool:
        return any(m[4] for m, _ in self.terms)

    def __add__(self, other: Exact) -> Exact:
        terms = dict(self.terms)
        for m, c in other.terms:
            terms[m] = terms.get(m, 0) + c
        return Exact.of(terms)

    def __neg__(self) -> Exact:
        return Exact(tuple((m, -c) for m, c in self.terms))

    def __sub__(self, other: Exact) -> Exact:
        return self + (-other)

    def __mul__(self, other: Exact) -> Exact:
        if len(self.terms) * len(other.terms) > MAX_TERMS * 4:
            raise NotNative("product too large")
        terms: dict = {}
        for m1, c1 in self.terms:
            for m2, c2 in other.terms:
                factor, m = multiply_monomials(m1, m2)
                terms[m] = terms.get(m, 0) + check_size(c1 * c2 * factor)
        return Exact.of(terms)

    def inverse(self) -> Exact:
        if not self.terms:
            raise Invalid("division by zero")
        if len(self.terms) != 1:
            raise NotNative("division by a sum")
        (pi, e, i, radicand, symbols), c = self.terms[0]
        coefficient = 1 / c
        if i:  # 1/i = -i
            coefficient = -coefficient
        if radicand != 1:  # 1/√m = √m/m
            coefficient /= radicand
        monomial = (-pi, -e, i, radicand, tuple((name, -power) for name, power in symbols))
        return Exact.of({monomial: coefficient})

    def power(self, exponent: Fraction) -> Exact:
        if exponent.denominator == 1:
            n = exponent.numerator
            if abs(n) > MAX_POWER and self.rational_value() not in (0, 1, -1):
                raise Invalid(f"a power too large to evaluate (exponent above {MAX_POWER})")
            if n == 0 and not self.terms:  # 0^0 is undefined (sympy and Python say 1: red team S10-G1)
                raise Invalid("zero to the power zero")
            base = self if n >= 0 else self.inverse()
            if len(base.terms) == 1:
                (pi, e, i, radicand, symbols), c = base.terms[0]
                k = abs(n)
                rational = self.rational_value()
                if rational is not None and rational != 0:
                    bits = max(rational.numerator.bit_length(), rational.denominator.bit_length()) * k
                    if bits > MAX_INTEGER_BITS:
                        raise NotNative("power too large")
                    return Exact.rational(Fraction(c) ** k)
            result, square, k = Exact.rational(1), base, abs(n)
            while k:  # square and multiply; sizes are checked at every product
                if k & 1:
                    result = result * square
                k >>= 1
                if k:
                    square = square * square
            return result
        if exponent.denominator > MAX_ROOT_DEGREE:
            raise Invalid(f"a root of degree above {MAX_ROOT_DEGREE}")
        if exponent.denominator == 2:
            return self.sqrt().power(Fraction(exponent.numerator))
        rational = self.rational_value()
        if rational is not None and rational >= 0:  # an exact rational root, else not native
            root = exact_root(rational, exponent.denominator)
            if root is not None:
                return Exact.rational(root).power(Fraction(exponent.numerator))
        raise NotNative("fractional power")

    def sqrt(self) -> Exact:
        rational = self.rational_value()
        if rational is None:
            raise NotNative("square root of an irrational value")
        negative = rational < 0
        rational = abs(rational)
        k, m = square_free(rational.numerator * rational.denominator)  # √(p/q) = √(pq)/q
        coefficient = Fraction(k, rational.denominator)
        return Exact.of({(0, 0, 1 if negative else 0, m, ()): coefficient}) if coefficient else Exact.rational(0)

    def numeric(self) -> complex:
        """A double-precision value (for approximations and tolerances); symbols not allowed."""
        total = 0j
        for (pi, e, i, radicand, symbols), c in self.terms:
            if symbols:
                raise NotNative("not a number")
            value = float(c) * math.pi**pi * math.e**e * math.sqrt(radicand)
            total += value * (1j if i else 1)
        return total


def exact_root(value: Fraction, degree: int) -> Fraction | None:
    if degree > 64:
        return None
    parts = []
    for n in (value.numerator, value.denominator):
        root = round(n ** (1 / degree)) if n.bit_length() < 1000 else None
        if root is None:
            return None
        for candidate in (root - 1, root, root + 1):
            if candidate >= 0 and candidate**degree == n:
                parts.append(candidate)
                break
        else:
            return None
    return Fraction(parts[0], parts[1])


# --------------------------------------------------------------------------------------------
# Parsed answers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scalar:
    value: Exact
    decimal_places: int | None = None  # a bare decimal literal: digits after the point
    has_decimal: bool = False  # some decimal literal inside
    infinite: int = 0  # +1 / -1 for ±∞


@dataclass(frozen=True)
class Sequence:
    items: tuple
    left: str  # "(" "[" or "" for a bare list
    right: str


@dataclass(frozen=True)
class SetOf:
    items: tuple
    plus_minus: bool = False  # a ± b: its two values join an enclosing list or set


@dataclass(frozen=True)
class Union:
    pieces: tuple


@dataclass(frozen=True)
class Matrix:
    rows: tuple


@dataclass(frozen=True)
class Text:
    word: str


@dataclass(frozen=True)
class Ratio:
    """``7:32``: equal only part by part (``14:64`` is another answer; ``20:34`` may be a time)."""

    parts: tuple


@dataclass(frozen=True)
class Equation:
    """``L = R`` with a variable in it, as the polynomial L − R: equal equations are proportional."""

    difference: Exact


@dataclass(frozen=True)
class Answer:
    body: object
    unit: str = ""
    variable: str = ""  # the unknown an inequality bounds (``x > 5``: "x"; its body is the interval)


# --------------------------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------------------------

_NOISE = re.compile(
    r"(?<!\\)\\[,;:! ]|\\\$"
    r"|\\(?:displaystyle|textstyle|quad|qquad|left|right|bigl|bigr|Bigl|Bigr|big|Big)(?![A-Za-z])|~|\$"
)
_TOKEN = re.compile(
    r"\s*(?:(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
    r"|(?P<command>\\[A-Za-z]+|\\[{}%|\\])"
    r"|(?P<symbol>[A-Za-z])"
    r"|(?P<op>[-+*/^_(){}\[\],=!&'|<>:;]))"
)
_UNIT_TEXT = re.compile(r"\\(?:text|textnormal|mbox|mathrm|textrm|textbf|textit|operatorname)\s*\{([^{}]*)\}")
UNIT_WORDS = frozenset(
    [
        "mm",
        "cm",
        "m",
        "km",
        "in",
        "inch",
        "inches",
        "ft",
        "foot",
        "feet",
        "yd",
        "yard",
        "yards",
        "mi",
        "mile",
        "miles",
        "meter",
        "meters",
        "metre",
        "metres",
        "centimeter",
        "centimeters",
        "kilometer",
        "kilometers",
        "millimeter",
        "millimeters",
        "unit",
        "units",
        "square",
        "cubic",
        "sq",
        "g",
        "kg",
        "mg",
        "gram",
        "grams",
        "kilogram",
        "kilograms",
        "lb",
        "lbs",
        "pound",
        "pounds",
        "oz",
        "ounce",
        "ounces",
        "l",
        "ml",
        "liter",
        "liters",
        "litre",
        "litres",
        "gallon",
        "gallons",
        "cup",
        "cups",
        "s",
        "sec",
        "second",
        "seconds",
        "min",
        "minute",
        "minutes",
        "h",
        "hr",
        "hrs",
        "hour",
        "hours",
        "day",
        "days",
        "week",
        "weeks",
        "month",
        "months",
        "year",
        "years",
        "mph",
        "kph",
        "degree",
        "degrees",
        "radian",
        "radians",
        "cent",
        "cents",
        "dollar",
        "dollars",
        "euro",
        "euros",
        "yuan",
        "percent",
        "pct",
        "percentage",
        "people",
        "students",
        "person",
        "persons",
        "ways",
        "times",
    ]
)
# A trailing unit: \text{…} (any words), or unit words from UNIT_WORDS, with an optional ^2 / ^3.
_TRAILING_UNIT = re.compile(
    r"^(?P<body>.*?[0-9}.)\]])\s*"
    r"(?P<unit>(?:\\(?:text|textnormal|mbox|mathrm|textrm|textbf|textit)\s*\{\s*[A-Za-z][A-Za-z .]*\}"
    r"|[A-Za-z]+(?:\s+[A-Za-z]+){0,2})"
    r"(?:\s*\^\s*\{?\s*[23]\s*\}?)?)\s*\.?$",
    re.DOTALL,
)
_GREEK = frozenset(
    [
        "alpha",
        "beta",
        "gamma",
        "delta",
        "epsilon",
        "zeta",
        "eta",
        "theta",
        "iota",
        "kappa",
        "lambda",
        "mu",
        "nu",
        "xi",
        "rho",
        "sigma",
        "tau",
        "phi",
        "chi",
        "psi",
        "omega",
    ]
)


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            if text[position:].strip() == "":
                break
            raise NotNative(f"unexpected character {text[position]!r}")
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


# --------------------------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------------------------


FRACTIONS = ("\\frac", "\\dfrac", "\\tfrac", "\\cfrac")
TIMES = ("\\cdot", "\\times", "*")
# Tokens that may follow a complete expression: anything else means the exact grammar stopped short.
EXPRESSION_ENDS = frozenset([",", ")", "]", "}", "\\}", "&", "\\\\", "\\end", "", "\\cup", "\\pm", ";", ":"])
MATRIX_ENVIRONMENTS = ("pmatrix", "bmatrix", "matrix", "array", "vmatrix", "Bmatrix")


@dataclass
class Parser:
    tokens: list
    position: int = 0
    decimals: list = field(default_factory=list)

    def peek(self, offset: int = 0) -> tuple[str, str]:
        index = self.position + offset
        return self.tokens[index] if index < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.position += 1
        return token

    def expect(self, value: str) -> None:
        if self.take()[1] != value:
            raise NotNative(f"expected {value!r}")

    def at(self, *values: str) -> bool:
        return self.peek()[1] in values

    # -- structure ------------------------------------------------------------------------

    def body(self):
        if self.at("\\begin"):
            return self.matrix()
        if self.at("(", "[") and self.peek(1)[1] == "\\begin":  # \left[ \begin{array} … \right]
            closer = ")" if self.take()[1] == "(" else "]"
            matrix = self.matrix()
            self.expect(closer)
            return matrix
        first = self.element()
        if self.at("\\cup"):
            pieces = [first]
            while self.at("\\cup"):
                self.take()
                pieces.append(self.element())
            if not all(isinstance(p, (Sequence, SetOf)) for p in pieces):
                raise NotNative("a union of non-intervals")
            return Union(tuple(pieces))
        if self.at(","):
            items = list(spread(first))
            while self.at(","):
                self.take()
                items.extend(spread(self.element()))
            return Sequence(tuple(items), "", "")
        return first

    def element(self):
        """One list element: a bracketed group (set, tuple, interval), an expression, or
        ``a \\pm b`` (the set of a + b and a - b)."""
        kind, value = self.peek()
        if value == "\\pm":  # ±2021
            self.take()
            magnitude = self.expression()
            return SetOf((magnitude, negate(magnitude)), True)
        group = self.group_or_expression()
        if self.at("\\pm") and isinstance(group, Scalar):
            self.take()
            offset = self.expression()
            return SetOf((combine(group, offset), combine(group, negate(offset))), True)
        return group

    def group_or_expression(self):
        kind, value = self.peek()
        if value == "\\{":
            self.take()
            items = self.items_until("\\}")
            return SetOf(tuple(items))
        if value == "{":  # {1, 2, 3} written with plain braces is a set; {x} is a group
            start = self.position
            self.take()
            items = self.items_until("}")
            if len(items) > 1:
                return SetOf(tuple(items))
            self.position = start
        if value in ("(", "["):
            start = self.position
            self.take()
            items = self.items_until(")", "]")
            closing = self.tokens[self.position - 1][1]
            if len(items) > 1:
                if self.at("^", "!") or self.peek()[0] in ("number", "symbol") or self.at("\\sqrt", "\\pi", *FRACTIONS):
                    raise NotNative("a bracketed list used as a factor")
                return Sequence(tuple(items), value, closing)
            self.position = start  # a parenthesised expression: parse it as one
        return self.value_expression()

    def value_expression(self):
        """An expression; when the exact grammar stops short of one (a function, a power it does
        not evaluate, an indexed name, a sum), the formula reader's reading from the same start."""
        start = self.position
        try:
            value = self.expression()
            if self.peek()[1] in EXPRESSION_ENDS:
                return value
        except NotNative:
            pass
        self.position = start
        return math_formulas.read(self)

    def items_until(self, *closers: str) -> list:
        items = []
        if self.at(*closers):
            raise NotNative("an empty bracket")
        while True:
            items.extend(spread(self.element()))
            if self.at(","):
                self.take()
                continue
            if self.at(*closers):
                self.take()
                return items
            raise NotNative("unclosed bracket")

    def matrix(self):
        self.expect("\\begin")
        self.expect("{")
        environment = self.take()[1]
        while not self.at("}"):
            environment += self.take()[1]
        self.expect("}")
        if environment not in MATRIX_ENVIRONMENTS:
            raise NotNative("an environment that is not a matrix")
        if environment == "array":  # column spec {cc}
            self.expect("{")
            while not self.at("}"):
                if self.take()[0] == "end":
                    raise NotNative("unclosed array spec")
            self.take()
        rows, row = [], [self.value_expression()]
        while True:
            if self.at("&"):
                self.take()
                row.append(self.value_expression())
            elif self.at("\\\\"):
                self.take()
                rows.append(tuple(row))
                if self.at("\\end"):
                    row = []
                    break
                row = [self.value_expression()]
            elif self.at("\\end"):
                break
            else:
                raise NotNative("unexpected token in a matrix")
        if row:
            rows.append(tuple(row))
        self.expect("\\end")
        self.expect("{")
        while not self.at("}"):
            if self.take()[0] == "end":
                raise NotNative("unclosed matrix")
        self.take()
        if len({len(r) for r in rows}) != 1:
            raise NotNative("ragged matrix")
        return Matrix(tuple(rows))

    # -- expressions ------------------------------------------------------------------------

    def expression(self) -> Scalar:
        sign = 1
        while self.at("+", "-"):
            if self.take()[1] == "-":
                sign = -sign
        total = self.term()
        if sign < 0:
            total = negate(total)
        while self.at("+", "-"):
            op = self.take()[1]
            right = self.term()
            total = combine(total, right if op == "+" else negate(right))
        return total

    def term(self) -> Scalar:
        value = self.factor()
        while True:
            kind, token = self.peek()
            if token in TIMES or token == "\\div" or token == "/":
                self.take()
                right = self.factor()
                value = product(value, right) if token in TIMES else product(value, reciprocal(right))
            elif (
                kind in ("symbol", "number")
                or token in ("(", "{", "\\sqrt", "\\pi", "\\infty")
                or token in FRACTIONS
                or token[1:] in _GREEK
            ):
                if kind == "number" and self.previous_was_number():
                    raise Invalid("two numbers side by side")
                right = self.factor()
                value = product(value, right)
            else:
                return value

    def previous_was_number(self) -> bool:
        """The last token was a bare number literal (not an exponent: ``2^6 3^5`` is a product)."""
        return (
            self.position > 0
            and self.tokens[self.position - 1][0] == "number"
            and (self.position < 2 or self.tokens[self.position - 2][1] not in ("^", "{"))
        )

    def factor(self) -> Scalar:
        if self.at("-"):
            self.take()
            return negate(self.factor())
        if self.at("+"):
            self.take()
            return self.factor()
        base = self.atom()
        while True:
            if self.at("^"):
                self.take()
                if self.at("\\circ"):  # degrees: 90^\circ is 90
                    self.take()
                    continue
                if self.at("{") and self.peek(1)[1] == "\\circ" and self.peek(2)[1] == "}":
                    self.position += 3
                    continue
                exponent = self.exponent()
                base = raise_to(base, exponent)
            elif self.at("!"):
                self.take()
                base = factorial(base)
            elif self.at("\\%"):
                self.take()
            else:
                return base

    def exponent(self) -> Scalar:
        kind, token = self.peek()
        if token == "{":
            self.take()
            value = self.expression()
            self.expect("}")
            return value
        if kind == "number":
            self.take()
            if not token.isdigit() or len(token) > 1:  # LaTeX reads 2^10 as 2^1·0; people mean 2^{10}
                raise NotNative("an ambiguous exponent")
            return Scalar(Exact.rational(int(token)))
        if token == "-":
            self.take()
            return negate(self.exponent())
        return self.atom()

    def group(self) -> Scalar:
        """A braced argument, or a single digit or letter (``\\frac12``, ``\\sqrt3``)."""
        kind, token = self.peek()
        if token == "{":
            self.take()
            value = self.expression()
            self.expect("}")
            return value
        if kind == "number":
            self.take()
            if len(token) > 1:  # \frac12 reads the digits one at a time
                self.tokens[self.position - 1 : self.position] = [("number", token[0]), ("number", token[1:])]
                return Scalar(Exact.rational(int(token[0])))
            return Scalar(Exact.rational(int(token)))
        return self.atom()

    def atom(self) -> Scalar:
        kind, token = self.take()
        if kind == "number":
            # digit groups separated by a thin space: "1 000 000", "0.333 333"
            groups = len(token.split(".")[-1]) == 3 if "." in token else len(token) <= 3
            while (
                groups
                and self.peek()[0] == "number"
                and len(self.peek()[1]) == 3
                and self.peek()[1].isdigit()
                and len(token) <= 60
            ):
                token += self.take()[1]
            places = len(token.split(".")[1]) if "." in token else None
            value = Fraction(token)
            following = [self.peek(k) for k in range(3)]
            if (
                places is None
                and following[0][0] == "number"
                and following[1][1] == "/"
                and following[2][0] == "number"
                and following[0][1].isdigit()
                and following[2][1].isdigit()
                and 0 < int(following[0][1]) < int(following[2][1])
            ):
                self.position += 3  # mixed number 1 1/2
                return Scalar(Exact.rational(value + Fraction(int(following[0][1]), int(following[2][1]))))
            if places is not None:
                self.decimals.append(places)
                if self.peek()[0] == "command" and self.peek()[1] in FRACTIONS:
                    raise NotNative("a decimal before a fraction")
            elif self.peek()[1] in FRACTIONS and token.isdigit():  # mixed number 4\frac{2}{3}
                start = self.position
                fraction = self.atom()
                part = fraction.value.rational_value()
                if part is not None and 0 < part < 1:
                    return Scalar(Exact.rational(value + part))
                self.position = start
            return Scalar(Exact.rational(value), places, places is not None)
        if token in FRACTIONS:
            numerator = self.group()
            denominator = self.group()
            return product(numerator, reciprocal(denominator))
        if token == "\\sqrt":
            degree = None
            if self.at("["):
                self.take()
                degree = self.expression().value.rational_value()
                self.expect("]")
            radicand = self.group()
            if degree is None or degree == 2:
                return Scalar(radicand.value.sqrt(), None, radicand.has_decimal)
            if degree.denominator != 1 or degree < 2:
                raise NotNative("odd root degree")
            return raise_to(radicand, Scalar(Exact.rational(Fraction(1, degree.numerator))))
        if token == "\\pi":
            return Scalar(Exact.of({(1, 0, 0, 1, ()): Fraction(1)}))
        if token == "\\infty":
            return Scalar(Exact.rational(0), infinite=1)
        if token == "(" or token == "{":
            value = self.expression()
            self.expect(")" if token == "(" else "}")
            return value
        if kind == "symbol":
            if token == "e":
                return Scalar(Exact.of({(0, 1, 0, 1, ()): Fraction(1)}))
            if token == "i":
                return Scalar(Exact.of({(0, 0, 1, 1, ()): Fraction(1)}))
            return Scalar(Exact.of({(0, 0, 0, 1, ((token, 1),)): Fraction(1)}))
        if kind == "command" and token[1:] in _GREEK:
            return Scalar(Exact.of({(0, 0, 0, 1, ((token, 1),)): Fraction(1)}))
        if token in ("\\text", "\\mathrm", "\\textbf", "\\mbox", "\\textnormal", "\\operatorname"):
            raise NotNative("text inside an expression")
        raise NotNative(f"token {token!r}")


def spread(item) -> tuple:
    """A list element as list items: ``1 \\pm \\sqrt{5}`` gives two, anything else one."""
    return item.items if isinstance(item, SetOf) and item.plus_minus else (item,)


# -- scalar arithmetic -----------------------------------------------------------------------


def negate(a: Scalar) -> Scalar:
    if a.infinite:
        return Scalar(a.value, None, a.has_decimal, -a.infinite)
    return Scalar(-a.value, a.decimal_places, a.has_decimal)


def finite(*values: Scalar) -> None:
    if any(v.infinite for v in values):
        raise NotNative("arithmetic with infinity")


def combine(a: Scalar, b: Scalar) -> Scalar:
    finite(a, b)
    return Scalar(a.value + b.value, None, a.has_decimal or b.has_decimal)


def product(a: Scalar, b: Scalar) -> Scalar:
    finite(a, b)
    return Scalar(a.value * b.value, None, a.has_decimal or b.has_decimal)


def reciprocal(a: Scalar) -> Scalar:
    finite(a)
    return Scalar(a.value.inverse(), None, a.has_decimal)


def raise_to(base: Scalar, exponent: Scalar) -> Scalar:
    finite(base, exponent)
    power = exponent.value.rational_value()
    if power is None or exponent.has_decimal:
        raise NotNative("a non-rational exponent")
    return Scalar(base.value.power(power), None, base.has_decimal)


def factorial(a: Scalar) -> Scalar:
    n = a.value.rational_value()
    if a.infinite or n is None or n.denominator != 1 or n < 0:
        raise NotNative("factorial of a non-integer")
    if n > MAX_FACTORIAL:
        raise Invalid(f"a factorial above {MAX_FACTORIAL}! (too large to evaluate)")
    return Scalar(Exact.rational(math.factorial(int(n))))


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def normalise(text: str) -> str:
    s = text
    if "&" not in s and "\\begin" not in s:  # \\frac: LaTeX escaped twice (JSON written from a Python string)
        s = re.sub(r"\\\\(?=[A-Za-z])", r"\\", s)
    s = re.sub(r",\\!\s*", ",", s)  # 11,\! 111: a thousands separator
    s = re.sub(r"(?<!\\)\\\s*$", "", s)  # a lone trailing backslash
    s = _NOISE.sub(" ", s).replace("\u2212", "-")
    s = re.sub(r"\s*(?<!\\)\{\s*,\s*\}\s*", ",", s)  # 14{,}916 and 14 {, }916: a thousands separator
    s = re.sub(r"\\(?:dfrac|tfrac|cfrac)(?![A-Za-z])", r"\\frac", s)
    s = s.replace("\\lbrace", "\\{").replace("\\rbrace", "\\}")
    s = re.sub(r"\\mathrm\s*\{\s*e\s*\}", "e", s)  # \mathrm{e}: Euler's number, upright
    s = re.sub(
        r"(?<![0-9])([0-9]{1,3}(?:,[0-9]{3})+)(?![0-9,])",
        lambda m: m.group(1).replace(",", "") if "," not in s.replace(m.group(1), "") else m.group(1),
        s,
    )
    return s.strip().rstrip(".").strip()


TRIGONOMETRY = re.compile(r"\\(?:sin|cos|tan|cot|sec|csc)(?![A-Za-z])")


def split_unit(text: str) -> tuple[str, str]:
    """(body, unit): ``10 \\text{ cm}^2`` → ("10", "cm^2"); ``28\\%`` → ("28", "%");
    ``90^\\circ`` → ("90", "°")."""
    s = text.strip()
    for marker, unit in (
        ("\\%", "%"),
        ("%", "%"),
        ("^\\circ", "°"),
        ("^{\\circ}", "°"),
        ("\\circ", "°"),
        ("\\degree", "°"),
    ):
        if s.endswith(marker) and not (unit == "°" and TRIGONOMETRY.search(s)):  # \sin 30^\circ: an angle
            return s[: -len(marker)].strip(), unit
    match = _TRAILING_UNIT.match(s)
    if match:
        written = match.group("unit")
        wrapped = _UNIT_TEXT.search(written)
        words = (wrapped.group(1) if wrapped else re.sub(r"\^.*", "", written)).lower().split()
        if words and (wrapped or all(w in UNIT_WORDS for w in words)) and not {"or", "and"} & set(words):
            return match.group("body").strip(), re.sub(
                r"\s+", "", _UNIT_TEXT.sub(lambda m: m.group(1), written)
            ).lower()
    return s, ""


# A decimal in scientific notation is a plain decimal: 2.31 \times 10^{-3} shows 5 places.
SCIENTIFIC = re.compile(
    r"[-+]?\s*[0-9]+\.([0-9]+)\s*(?:\\times|\\cdot|\*)\s*10\s*\^\s*(?:\{\s*([-+]?\s*[0-9]{1,4})\s*\}|([0-9]))"
)


def parse(text: str) -> Answer:
    """The native reading of one final answer (label already dropped by the caller); raises
    NotNative or Invalid. Formula work inside shares one time budget (math_formulas.budget)."""
    with math_formulas.budget():
        return parse_within_budget(text)


def parse_within_budget(text: str) -> Answer:
    if re.search(r"(?<!\.)\.\s*\.(?!\.)", text):  # "3..": two full stops (not an ellipsis "...")
        raise Invalid("two decimal points in a row")
    s = normalise(text)
    if not s:
        raise Invalid("empty")
    bare_text = _UNIT_TEXT.fullmatch(s)
    word = (bare_text.group(1) if bare_text else s).strip()
    if re.fullmatch(r"\(?[A-Za-z][A-Za-z ]*\)?", word) and (bare_text or len(word) > 1):
        if len(word.split()) > 3 or word.lower() in ("or", "and"):
            raise NotNative("prose")
        return Answer(Text(word.strip("()").strip().lower()))
    base = re.fullmatch(r"([0-9A-Za-z]+)_\{?([0-9]{1,2})\}?", s)
    if base:  # 4210_5: a numeral in base 5, equal only to itself
        return Answer(Text(f"{base.group(1).lower()}_{int(base.group(2))}"))
    s = re.sub(r"^[A-Za-z]\s*\\in\s*", "", s)  # x \in [-2, 7]: the set itself
    if ";" in s and ("," not in s or semicolons_inside_commas_outside(s)):  # -12; -11; -10 and (0;-2;0),(4;0;6)
        s = s.replace(";", ",")
    pieces = split_relations(s) if _RELATION.search(s) else [s]
    if len(pieces) > 1:
        return relation(pieces)
    if ":" in s and re.fullmatch(r"[^:]+(?::[^:]+)+", s):  # 7:32
        parts = [part.strip() for part in s.split(":")]
        if any(re.fullmatch(r"0[0-9]*", part) for part in parts):  # 08:34, 12:00: a time of day
            raise NotNative("a time of day")
        return Answer(Ratio(tuple(side(part) for part in parts)))
    body_text, unit = split_unit(s)
    parser = Parser(tokenize(body_text))
    body = parser.body()
    if parser.position != len(parser.tokens):
        raise NotNative(f"trailing {parser.peek()[1]!r}")
    if isinstance(body, Scalar) and len(parser.decimals) == 1 and body.decimal_places is not None:
        body = Scalar(body.value, parser.decimals[0], True)
    elif (
        isinstance(body, Scalar)
        and len(parser.decimals) == 1
        and (scientific := SCIENTIFIC.fullmatch(body_text.strip()))
    ):
        exponent = int(
            re.sub(r"\s", "", scientific.group(2) or scientific.group(3))
        )  # 2.31 \times 10^{-3}: a plain decimal
        body = Scalar(body.value, len(scientific.group(1)) - exponent, True)
    return Answer(body, unit)


# --------------------------------------------------------------------------------------------
# Equations and inequalities
# --------------------------------------------------------------------------------------------

_RELATION = re.compile(
    r"\\(?:leqslant|geqslant|leq|geq|le|ge|lt|gt|neq|ne)(?![A-Za-z])|<=|>=|!=|=|<|>|\u2264|\u2265|\u2260"
)
RELATION_NAMES = {
    "\\leqslant": "<=",
    "\\leq": "<=",
    "\\le": "<=",
    "\u2264": "<=",
    "\\geqslant": ">=",
    "\\geq": ">=",
    "\\ge": ">=",
    "\u2265": ">=",
    "\\lt": "<",
    "\\gt": ">",
    "\\neq": "!=",
    "\\ne": "!=",
    "\u2260": "!=",
}
_NAME_TEXT = re.compile(r"[A-Za-z](?:_\{?[A-Za-z0-9]{1,4}\}?)?(?:\s*\(\s*[A-Za-z]\s*\))?")  # x, a_1, f(x)


def semicolons_inside_commas_outside(text: str) -> bool:
    """Every ``;`` inside brackets and every ``,`` outside: tuples written ``(0;-2;0),(4;0;6)``."""
    depth = 0
    for char in text:
        depth += (char in "([{") - (char in ")]}")
        if (char == ";" and depth == 0) or (char == "," and depth > 0):
            return False
    return True


def split_relations(text: str) -> list[str]:
    """[side, relation, side, …] at bracket depth 0; one piece when there is no relation."""
    pieces, depth, start, position = [], 0, 0, 0
    while position < len(text):
        char = text[position]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif depth == 0:
            match = _RELATION.match(text, position)
            if match and not (char == "\\" and text[position - 1 : position] == "\\"):
                pieces += [text[start:position].strip(), RELATION_NAMES.get(match.group(0), match.group(0))]
                start = position = match.end()
                continue
        position += 1
    return pieces + [text[start:].strip()]


def side(text: str) -> Scalar:
    parser = Parser(tokenize(text))
    value = parser.expression()
    if parser.position != len(parser.tokens) or value.infinite:
        raise NotNative("not an expression")
    return value


def formula_side(text: str):
    """One side of an equation: an exact Scalar, else a formula (``\\sin(x)``, ``F_{n-1}``)."""
    try:
        return side(text)
    except NotNative:
        parser = Parser(tokenize(text))
        value = math_formulas.read(parser)
        if parser.position != len(parser.tokens):
            raise NotNative("not an expression") from None
        return value


ABSOLUTE_NAME = re.compile(r"\|\s*([A-Za-z])\s*\|")


def absolute_range(interval: Sequence, variable: str) -> Answer:
    r"""The values of x whose |x| lies in ``interval`` (``1 \le |z| \le \frac{3}{2}``:
    [-3/2, -1] ∪ [1, 3/2]); NotNative when a bound is not a real number."""
    low, high = interval.items
    closed_low, closed_high = interval.left == "[", interval.right == "]"
    if not low.infinite and (low.value.has_symbols() or low.value.numeric().imag):
        raise NotNative("a bound that is not a real number")
    if not high.infinite and (high.value.has_symbols() or high.value.numeric().imag):
        raise NotNative("a bound that is not a real number")
    if not high.infinite and high.value.numeric().real < 0:
        raise NotNative("an empty range")
    infinity = Scalar(Exact.rational(0), infinite=1)
    if low.infinite or low.value.numeric().real < 0 or (low.value.rational_value() == 0 and closed_low):
        top = negate(high) if not high.infinite else Scalar(Exact.rational(0), infinite=-1)
        return Answer(
            Sequence(
                (top, high),
                "(" if high.infinite or not closed_high else "[",
                ")" if high.infinite or not closed_high else "]",
            ),
            "",
            variable,
        )
    open_right = "(" if not closed_low else "["
    open_left = ")" if not closed_low else "]"
    upper_left = "(" if high.infinite or not closed_high else "["
    upper_right = ")" if high.infinite or not closed_high else "]"
    negative = Sequence((negate(high) if not high.infinite else negate(infinity), negate(low)), upper_left, open_left)
    positive = Sequence((low, high), open_right, upper_right)
    return Answer(Union((negative, positive)), "", variable)


def linear_in_one_variable(difference: Exact) -> tuple[str, Fraction, Exact] | None:
    """(name, a, b) when ``difference`` = a·name + b with a rational a ≠ 0 and a constant real b."""
    names = {name for monomial, _ in difference.terms for name, _ in monomial[4]}
    if len(names) != 1:
        return None
    name = names.pop()
    slope, constant = None, {}
    for monomial, coefficient in difference.terms:
        if monomial == (0, 0, 0, 1, ((name, 1),)):
            slope = coefficient
        elif monomial[4] or monomial[2]:
            return None
        else:
            constant[monomial] = coefficient
    return (name, slope, Exact.of(constant)) if slope else None


def relation(pieces: list[str]) -> Answer:
    r"""``L = R`` with a variable: an ``Equation``. One inequality (``x > 5``, ``-x \ge -1``,
    ``5 \geq x``, ``x \neq 3``) or a chain of two in one direction (``-2 \le x \le 7``,
    ``0 < f(x) < 1``) in one variable, linear: the set of its values as an interval (or the
    union of two for ≠), with the variable kept beside it."""
    relations, sides = pieces[1::2], pieces[0::2]
    if relations == ["="]:
        left, right = formula_side(sides[0]), formula_side(sides[1])
        if isinstance(left, Scalar) and isinstance(right, Scalar):
            difference = left.value - right.value
            if not difference.has_symbols():
                raise NotNative("an equation between numbers")
            return Answer(Equation(difference))
        equation = math_formulas.equation(left, right)
        if not math_formulas.variables(equation.difference, set()):
            raise NotNative("an equation between numbers")
        return Answer(equation)
    absolute = [index for index, text in enumerate(sides) if ABSOLUTE_NAME.fullmatch(text)]
    if len(absolute) == 1 and "!=" not in relations:  # 1 \le |z| \le 3/2: the values of z
        name = ABSOLUTE_NAME.fullmatch(sides[absolute[0]]).group(1)
        plain = relation([name if index == 2 * absolute[0] else piece for index, piece in enumerate(pieces)])
        if not isinstance(plain.body, Sequence) or plain.variable != name:
            raise NotNative("a range of an absolute value")
        return absolute_range(plain.body, name)
    if "=" in relations or len(relations) > 2 or ("!=" in relations and len(relations) > 1):
        raise NotNative("a chain of relations")
    bounds, variable = [], None
    middle = (
        sides[1] if len(relations) == 2 and _NAME_TEXT.fullmatch(sides[1]) else None
    )  # 0 < f(x) < 1: bounds of a name

    def value_of(text: str) -> Exact:
        return (
            Exact.of({(0, 0, 0, 1, ((re.sub(r"\s", "", text), 1),)): Fraction(1)})
            if text == middle
            else side(text).value
        )

    for (left, right), op in zip(zip(sides, sides[1:]), relations):
        found = linear_in_one_variable(value_of(left) - value_of(right))
        if found is None:
            raise NotNative("not linear in one variable")
        name, a, b = found
        if variable not in (None, name):
            raise NotNative("two variables")
        variable = name
        boundary = Scalar(-b * Exact.rational(1 / a))
        if op == "!=":
            return Answer(
                Union(
                    (
                        Sequence((Scalar(Exact.rational(0), infinite=-1), boundary), "(", ")"),
                        Sequence((boundary, Scalar(Exact.rational(0), infinite=1)), "(", ")"),
                    )
                ),
                "",
                variable,
            )
        below = (op in ("<", "<=")) == (a > 0)  # a·x + b < 0 with a > 0: x below the boundary
        bounds.append((below, boundary, op in ("<=", ">=")))
    lower = [(value, closed) for below, value, closed in bounds if not below]
    upper = [(value, closed) for below, value, closed in bounds if below]
    if len(lower) > 1 or len(upper) > 1:
        raise NotNative("two bounds on one side")
    low, high = (
        (lower or [(Scalar(Exact.rational(0), infinite=-1), False)])[0],
        (upper or [(Scalar(Exact.rational(0), infinite=1), False)])[0],
    )
    if lower and upper and not low[0].value.numeric().real < high[0].value.numeric().real:
        raise NotNative("an empty or one-point range")
    return Answer(Sequence((low[0], high[0]), "[" if low[1] else "(", "]" if high[1] else ")"), "", variable)


def proportional(gold: Exact, answer: Exact) -> bool:
    """answer = c·gold for a rational c ≠ 0 (both non-zero): the same equation."""
    if not gold.terms or len(gold.terms) != len(answer.terms):
        return False
    monomial, coefficient = gold.terms[0]
    other = dict(answer.terms).get(monomial)
    return bool(other) and answer == gold * Exact.rational(other / coefficient)


# --------------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    ordered: bool = False
    tolerance: float | None = None
    units: str = "ignore"


def equivalent(gold: Answer, answer: Answer, options: Options = Options()) -> bool:
    """Equal answers (see Comparison); raises NotNative when a formula is undecided."""
    with math_formulas.budget():
        return equivalent_within_budget(gold, answer, options)


def equivalent_within_budget(gold: Answer, answer: Answer, options: Options) -> bool:
    if options.units == "strict" and gold.unit != answer.unit:
        return False
    if gold.variable and answer.variable and gold.variable != answer.variable:
        return False  # x > 5 does not answer y > 5
    return same(gold.body, answer.body, options)


def same(gold, answer, options: Options) -> bool:
    if isinstance(gold, Ratio) or isinstance(answer, Ratio):
        return (
            isinstance(gold, Ratio)
            and isinstance(answer, Ratio)
            and len(gold.parts) == len(answer.parts)
            and all(same_scalar(g, a, options) for g, a in zip(gold.parts, answer.parts))
        )
    if isinstance(gold, math_formulas.FormulaEquation) or isinstance(answer, math_formulas.FormulaEquation):
        equations = (Equation, math_formulas.FormulaEquation)
        if not (isinstance(gold, equations) and isinstance(answer, equations)):
            return False
        return math_formulas.same_equation(gold, answer)
    if isinstance(gold, Equation) or isinstance(answer, Equation):
        return (
            isinstance(gold, Equation)
            and isinstance(answer, Equation)
            and proportional(gold.difference, answer.difference)
        )
    if isinstance(gold, math_formulas.Formula) or isinstance(answer, math_formulas.Formula):
        return same_formula(gold, answer, options)
    if isinstance(gold, Text) or isinstance(answer, Text):
        return text_of(gold) is not None and text_of(gold) == text_of(answer)
    if isinstance(gold, Scalar) and isinstance(answer, Scalar):
        return same_scalar(gold, answer, options)
    if isinstance(gold, Matrix) != isinstance(answer, Matrix):  # a column or row vector written as [a, b]
        matrix, other = (gold, answer) if isinstance(gold, Matrix) else (answer, gold)
        if not isinstance(other, Sequence) or not other.left or is_interval(other):
            return False
        entries = (
            [row[0] for row in matrix.rows]
            if all(len(row) == 1 for row in matrix.rows)
            else (list(matrix.rows[0]) if len(matrix.rows) == 1 else None)
        )
        return (
            entries is not None
            and len(entries) == len(other.items)
            and all(same(x, y, options) for x, y in zip(entries, other.items))
        )
    if isinstance(gold, Matrix) and isinstance(answer, Matrix):
        return len(gold.rows) == len(answer.rows) and all(
            len(g) == len(a) and all(same(x, y, options) for x, y in zip(g, a)) for g, a in zip(gold.rows, answer.rows)
        )
    if isinstance(gold, Union) or isinstance(answer, Union):
        gold_pieces = gold.pieces if isinstance(gold, Union) else (gold,)
        answer_pieces = answer.pieces if isinstance(answer, Union) else (answer,)
        return unordered_match(gold_pieces, answer_pieces, options)
    if isinstance(gold, SetOf) or isinstance(answer, SetOf):
        gold_items = items_of(gold)
        answer_items = items_of(answer)
        if gold_items is None or answer_items is None:
            return False
        return unordered_match(gold_items, answer_items, options)
    if isinstance(gold, Sequence) and isinstance(answer, Sequence):
        if not gold.left and not answer.left and not options.ordered:  # two bare lists
            return unordered_match(gold.items, answer.items, options)
        if len(gold.items) != len(answer.items):
            return False
        if len(gold.items) == 2 and (gold.left, gold.right) != (answer.left, answer.right):
            return False  # (a, b), [a, b), a, b: a point, intervals, a list — the brackets decide
        return all(same(g, a, options) for g, a in zip(gold.items, answer.items))
    return False


def is_interval(sequence: Sequence) -> bool:
    """Certainly an interval: half-open brackets."""
    return (sequence.left, sequence.right) in (("(", "]"), ("[", ")")) and len(sequence.items) == 2


def items_of(node) -> tuple | None:
    if isinstance(node, SetOf):
        return node.items
    if isinstance(node, Sequence) and not node.left:
        return node.items
    if isinstance(node, (Scalar, math_formulas.Formula)):
        return (node,)
    return None


def same_formula(gold, answer, options: Options) -> bool:
    """A formula against a formula or a scalar (rlvr.verifiers.math_formulas decides, or raises
    NotNative). A plain decimal against a constant formula follows the approximation rule of
    ``same_scalar``; with a ``tolerance`` the worker decides."""
    if not all(isinstance(x, (Scalar, math_formulas.Formula)) for x in (gold, answer)):
        return False
    if any(isinstance(x, Scalar) and x.infinite for x in (gold, answer)):
        return False
    if options.tolerance is not None:
        raise NotNative("a tolerance asked of a formula")
    for exact, decimal in ((gold, answer), (answer, gold)):
        if (
            isinstance(decimal, Scalar)
            and decimal.decimal_places is not None
            and isinstance(exact, math_formulas.Formula)
            and not exact.has_decimal
        ):
            rational = decimal.value.rational_value()
            verdict = (
                math_formulas.approximates(exact, decimal.decimal_places, rational) if rational is not None else None
            )
            if verdict is None:
                raise NotNative("a decimal for a formula")
            return verdict
    return math_formulas.same_value(gold, answer)


def unordered_match(gold_items: tuple, answer_items: tuple, options: Options) -> bool:
    """Set equality: every answer item equals some gold item and every gold item some answer
    item (a repeated element changes nothing; the caller bounds the sizes)."""
    return all(any(same(g, a, options) for g in gold_items) for a in answer_items) and all(
        any(same(g, a, options) for a in answer_items) for g in gold_items
    )


def text_of(node) -> str | None:
    if isinstance(node, Text):
        return node.word
    if isinstance(node, Scalar) and not node.infinite and len(node.value.terms) == 1:
        monomial, coefficient = node.value.terms[0]
        if coefficient == 1 and monomial in ((0, 1, 0, 1, ()), (0, 0, 1, 1, ())):
            return "e" if monomial[1] else "i"
        if coefficient == 1 and monomial[:4] == (0, 0, 0, 1) and len(monomial[4]) == 1 and monomial[4][0][1] == 1:
            return monomial[4][0][0].lower()
    return None


def decimal_relative() -> Fraction:
    from rlvr.verifiers.math import DECIMAL_RELATIVE  # the rule lives with the verifier

    return DECIMAL_RELATIVE


def same_scalar(gold: Scalar, answer: Scalar, options: Options) -> bool:
    """Decimals are read exactly (``4.000001`` is 4000001/10⁶), so every value is exact and equal
    means exactly equal. The one tolerance: a plain decimal number (``0.333333``, ``-1.41421``;
    not one inside an expression: ``\\sqrt{4.000001}``, ``1.234568 \\times 10^{8}``, ``2.5 + 1``)
    against an exact gold that is not an integer is an approximation, judged by
    rlvr.verifiers.math.value_agrees; a plain decimal gold against an exact answer likewise
    (``0.333333`` for ``\\frac{1}{3}``: a rounded gold). ``tolerance`` overrides all of this."""
    from rlvr.verifiers.math import value_agrees

    if gold.infinite or answer.infinite:
        return gold.infinite == answer.infinite
    if gold.value.has_symbols() or answer.value.has_symbols():
        return gold.value == answer.value
    gold_rational, answer_rational = gold.value.rational_value(), answer.value.rational_value()
    if options.tolerance is not None:
        if gold_rational is not None and answer_rational is not None:
            return value_agrees(gold_rational, answer_rational, None, options.tolerance)
        g, a = gold.value.numeric(), answer.value.numeric()
        return abs(a - g) <= options.tolerance * abs(g)
    if gold.value == answer.value:
        return True
    if gold.has_decimal and not answer.has_decimal:  # a decimal gold approximating an exact answer
        gold, answer = answer, gold
        gold_rational, answer_rational = answer_rational, gold_rational
    if gold.has_decimal or answer.decimal_places is None or answer_rational is None:
        return False  # decimals on both sides, or inside an expression: exact values only
    if gold_rational is not None:
        return value_agrees(gold_rational, answer_rational, answer.decimal_places, None)
    g, a = gold.value.numeric(), answer.value.numeric()
    if g.imag or a.imag:
        return False
    slack = 1 + 1e-9  # the gold's double-precision value
    error = abs(a.real - g.real)
    return error <= slack * 0.5 * 10.0 ** -min(answer.decimal_places, 300) and error <= slack * float(
        decimal_relative()
    ) * abs(g.real)


# Formulas build on this module (Exact, the tokens, the Parser): imported last, as a cycle.
from rlvr.verifiers import math_formulas  # noqa: E402
