"""Property tests of the native answer grammar (rlvr.verifiers.math_answers): for random exact
values, every rendering the native path reads agrees with sympy's equality, and near misses
(one unit in the last rendered place, a flipped sign, a factor 2) are rejected."""

from fractions import Fraction

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rlvr.core import Task
from rlvr.verifiers import math_answers, math_formulas
from rlvr.verifiers.math import MathVerifier

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SQUARE_FREE = (2, 3, 5, 6, 7, 10, 11, 13, 14, 15)


def fraction_renderings(value: Fraction) -> list[str]:
    sign = "-" if value < 0 else ""
    p, q = abs(value.numerator), value.denominator
    if q == 1:
        return [f"{value.numerator}", f"{sign}\\frac{{{p}}}{{1}}", f"{value.numerator}.0", f"{sign}{p:,}"]
    out = [
        f"{sign}\\frac{{{p}}}{{{q}}}",
        f"{sign}\\dfrac{{{p}}}{{{q}}}",
        f"{sign}{p}/{q}",
        f"{sign}\\frac{{{2 * p}}}{{{2 * q}}}",
        f"\\frac{{{value.numerator}}}{{{q}}}",
    ]
    if p > q:
        out.append(f"{sign}{p // q}\\frac{{{p % q}}}{{{q}}}" if p % q else f"{sign}{p // q}")
    return out


def radical_renderings(coefficient: Fraction, radicand: int) -> list[str]:
    """coefficient·√radicand in several spellings."""
    c = coefficient
    p, q = abs(c.numerator), c.denominator
    sign = "-" if c < 0 else ""
    out = [
        f"{sign}\\frac{{{p}\\sqrt{{{radicand}}}}}{{{q}}}",
        f"{sign}\\frac{{{p}}}{{{q}}}\\sqrt{{{radicand}}}",
        f"{sign}\\frac{{\\sqrt{{{p * p * radicand}}}}}{{{q}}}",
    ]
    if q == 1:
        out.append(f"{sign}{p}\\sqrt{radicand}" if radicand < 10 else f"{sign}{p}\\sqrt{{{radicand}}}")
    return out


def native(text: str):
    return math_answers.parse(text)


def native_equal(gold: str, answer: str, **options) -> bool:
    return math_answers.equivalent(native(gold), native(answer), math_answers.Options(**options))


fractions = st.builds(Fraction, st.integers(-(10**6), 10**6), st.integers(1, 10**4))
coefficients = st.builds(Fraction, st.integers(-60, 60).filter(bool), st.integers(1, 40))


@SETTINGS
@given(fractions, fractions)
def test_rational_renderings_agree_with_exact_equality(first, second):
    for gold in fraction_renderings(first):
        for answer in fraction_renderings(first):
            assert native_equal(gold, answer), (gold, answer)
        for answer in fraction_renderings(second)[:2]:
            assert native_equal(gold, answer) == (first == second), (gold, answer)


@SETTINGS
@given(coefficients, st.sampled_from(SQUARE_FREE), coefficients, st.sampled_from(SQUARE_FREE))
def test_radical_renderings_agree_with_sympy(c1, m1, c2, m2):
    v1 = sympy.Rational(c1.numerator, c1.denominator) * sympy.sqrt(m1)
    v2 = sympy.Rational(c2.numerator, c2.denominator) * sympy.sqrt(m2)
    truth = sympy.simplify(v1 - v2) == 0
    for gold in radical_renderings(c1, m1):
        for answer in radical_renderings(c1, m1):
            assert native_equal(gold, answer), (gold, answer)
        for answer in radical_renderings(c2, m2):
            assert native_equal(gold, answer) == truth, (gold, answer, truth)
        # a sum with pi and a rational part, in either order
        assert native_equal(f"{gold} + \\frac{{1}}{{3}}\\pi", f"\\frac{{\\pi}}{{3}} + {gold}")
        assert not native_equal(f"{gold} + \\pi", f"{gold} + e")


@SETTINGS
@given(fractions.filter(bool), st.integers(1, 9))
def test_decimal_near_misses_are_rejected(value, places):
    """The gold rounded to ``places`` digits counts when it is within 10⁻⁵ relative; one unit in
    the last place off, a flipped sign or a factor 2 never does."""
    scale = 10**places
    rounded = Fraction(round(value * scale), scale)
    text = f"{float(rounded):.{places}f}"
    gold = f"\\frac{{{value.numerator}}}{{{value.denominator}}}"
    close = abs(rounded - value) <= Fraction(1, 10**5) * abs(value)
    assert native_equal(gold, text) == close, (gold, text)
    for miss in (rounded + Fraction(1, scale), rounded - Fraction(1, scale)):
        if abs(miss - value) > Fraction(1, 2 * scale):  # not the other rounding of an exact tie
            assert not native_equal(gold, f"{float(miss):.{places}f}"), (gold, miss)
    assert not native_equal(gold, f"-\\left({gold}\\right)")
    assert not native_equal(gold, f"2\\left({gold}\\right)")
    assert not native_equal(gold, f"\\frac{{{gold}}}{{2}}")


@SETTINGS
@given(st.integers(-98, 98).filter(bool), st.integers(1, 5))
def test_tiny_and_huge_powers_compare_exactly(exponent, factor):
    gold = f"{factor} \\cdot 2^{{{exponent}}}"
    assert native_equal(gold, f"{factor * 2} \\cdot 2^{{{exponent - 1}}}")
    for miss in (
        f"{factor + 1} \\cdot 2^{{{exponent}}}",
        f"-{factor} \\cdot 2^{{{exponent}}}",
        f"{factor} \\cdot 2^{{{exponent + 1}}}",
        "0",
        "0.0000001",
    ):
        assert not native_equal(gold, miss), (gold, miss)


@SETTINGS
@given(st.lists(st.integers(-50, 50), min_size=2, max_size=6, unique=True), st.randoms(use_true_random=False))
def test_sets_ignore_order_tuples_keep_it(values, rng):
    shuffled = list(values)
    rng.shuffle(shuffled)
    gold_set = "\\{" + ", ".join(map(str, values)) + "\\}"
    assert native_equal(gold_set, "\\{" + ", ".join(map(str, shuffled)) + "\\}")
    assert native_equal(gold_set, ", ".join(map(str, shuffled)))
    assert not native_equal(gold_set, "\\{" + ", ".join(map(str, values[:-1])) + "\\}")
    gold_tuple = "(" + ", ".join(map(str, values)) + ")"
    assert native_equal(gold_tuple, "(" + ", ".join(map(str, shuffled)) + ")") == (shuffled == values)
    bare = ", ".join(map(str, values))
    assert native_equal(bare, ", ".join(map(str, shuffled)))
    assert native_equal(bare, ", ".join(map(str, shuffled)), ordered=True) == (shuffled == values)


def test_native_path_is_what_the_verifier_uses():
    verifier = MathVerifier()
    try:
        task = Task("t", "rlvr/Math-v0", "math", "p", {"gold": r"\frac{3\sqrt{2}}{4}", "form": "any"}, 0.5, 0)
        for answer, correct in (
            (r"\frac{3}{4}\sqrt{2}", True),
            (r"\frac{\sqrt{18}}{4}", True),
            ("1.06066", True),
            ("1.0607", False),
            (r"-\frac{3\sqrt{2}}{4}", False),
            (r"\frac{3\sqrt{2}}{2}", False),
        ):
            verdict = verifier.verify(task, f"\\boxed{{{answer}}}")
            assert verdict.correct == correct and verdict.details["path"] == "native", (answer, verdict)
        assert verifier.worker_pids() == []  # nothing needed a process
    finally:
        verifier.close()


@pytest.mark.parametrize("text", ["4 4", "2 3", r"10^{10^{10}}", "9!!!!!!", r"2^{\frac{1}{2^{1000}}}"])
def test_invalid_answers(text):
    with pytest.raises(math_answers.Invalid):
        native(text)


RELATIONS = {
    "<": ("<", r"\lt", "<"),
    ">": (">", r"\gt", ">"),
    "<=": (r"\le", r"\leq", "<="),
    ">=": (r"\ge", r"\geq", ">="),
}
FLIPPED = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}


@SETTINGS
@given(st.integers(-9, 9).filter(bool), st.integers(-30, 30), st.integers(-30, 30), st.sampled_from(sorted(RELATIONS)))
def test_linear_inequalities_are_the_intervals_they_describe(a, b, c, op):
    """a·x + b op c is x op' (c − b)/a: sympy's solution set decides; the flipped relation, the
    other strictness, a boundary one off and another variable are near misses."""
    x = sympy.Symbol("x", real=True)
    relation = {"<": sympy.Lt, ">": sympy.Gt, "<=": sympy.Le, ">=": sympy.Ge}[op]
    solution = sympy.solveset(relation(a * x + b, c), x, sympy.S.Reals)
    boundary = Fraction(c - b, a)
    bound = f"\\frac{{{boundary.numerator}}}{{{boundary.denominator}}}"
    low, high = (f"({bound}", "\\infty)") if solution.sup == sympy.oo else ("(-\\infty", f"{bound})")
    closed = op in ("<=", ">=")
    interval = (
        (low.replace("(", "[") if closed and solution.sup == sympy.oo else low)
        + ", "
        + (high.replace(")", "]") if closed and solution.sup != sympy.oo else high)
    )
    for spelling in RELATIONS[op]:
        gold = f"{a}x + {b} {spelling} {c}"
        assert native_equal(gold, interval), (gold, interval)
        assert native_equal(gold, f"x {'>' if solution.sup == sympy.oo else '<'}{'=' if closed else ''} {bound}"), gold
        assert not native_equal(gold, f"{a}x + {b} {RELATIONS[FLIPPED[op]][0]} {c}"), gold
        assert not native_equal(gold, f"{a}y + {b} {spelling} {c}"), gold
        other = {"<": "<=", "<=": "<", ">": ">=", ">=": ">"}[op]
        assert not native_equal(gold, f"{a}x + {b} {RELATIONS[other][0]} {c}"), gold
        assert not native_equal(gold, f"{a}x + {b + 1} {spelling} {c}"), gold


@SETTINGS
@given(
    st.lists(st.integers(-9, 9), min_size=3, max_size=3).filter(any),
    st.integers(-9, 9).filter(bool),
    st.integers(-5, 5).filter(bool),
)
def test_equations_count_up_to_a_nonzero_factor(coefficients, constant, factor):
    a, b, c = coefficients
    gold = f"{a}x + {b}y + {c}z = {constant}"
    assert native_equal(gold, f"{factor * a}x + {factor * b}y + {factor * c}z - {factor * constant} = 0")
    assert native_equal(gold, f"{constant} = {a}x + {b}y + {c}z")
    assert not native_equal(gold, f"{a}x + {b}y + {c}z = {constant + 1}")
    bumped = a + 1 if (a + 1, b, c) != (0, 0, 0) else a + 2  # 0x + 0y + 0z = 1 is no equation in a variable
    assert not native_equal(gold, f"{bumped}x + {b}y + {c}z = {constant}")
    assert not native_equal(gold, f"{a}x + {b}y + {c}z")  # an expression is no equation


# --------------------------------------------------------------------------------------------
# Formulas: functions of a variable, decided formally (accept) or numerically (reject)
# --------------------------------------------------------------------------------------------

X = sympy.Symbol("x")
TRIG = (sympy.sin, sympy.cos, sympy.tan, sympy.sec, sympy.csc, sympy.cot)


def formula_verdict(gold: str, answer: str) -> bool | None:
    """The native verdict, or None when the formula path leaves it to the worker (with a time
    budget far above the verifier's, so a loaded machine does not change the verdict)."""
    try:
        with math_formulas.budget(10.0):
            return native_equal(gold, answer)
    except math_answers.NotNative:
        return None


def sympy_equal(a, b) -> bool:
    """Equal at three points to 50 digits (the test's reference; the pairs are small)."""
    for value in (sympy.Rational(3, 7), sympy.Rational(9, 11), sympy.Rational(13, 10)):
        if abs(sympy.N((a - b).subs(X, value), 50)) > sympy.Float("1e-40"):
            return False
    return True


@st.composite
def trig_expressions(draw):
    """A sum of one or two terms c·f(a·x + kπ/12)^p."""
    terms = []
    for _ in range(draw(st.integers(1, 2))):
        function = draw(st.sampled_from(TRIG))
        a, k = draw(st.integers(1, 3)), draw(st.integers(0, 23))
        power, coefficient = draw(st.integers(1, 2)), draw(st.integers(-3, 3).filter(bool))
        terms.append(coefficient * function(a * X + k * sympy.pi / 12) ** power)
    return sympy.Add(*terms)


@SETTINGS
@given(trig_expressions(), st.integers(20, 80))
def test_formula_renderings_agree_with_sympy(expression, tiny):
    r"""Every rewriting sympy makes of a trigonometric expression that the formula path decides is
    decided as sympy's equality says; near misses (a factor 2, a flipped sign, + 10^{-k}, a
    shifted argument) are never accepted."""
    gold = sympy.latex(expression)
    renderings = {sympy.latex(expression.rewrite(sympy.exp)), sympy.latex(sympy.expand_trig(expression))}
    renderings.add(sympy.latex(expression.rewrite(sympy.cos)))
    for answer in renderings:
        verdict = formula_verdict(gold, answer)
        assert verdict in (True, None), (gold, answer)
    assert formula_verdict(gold, gold) is True
    misses = [2 * expression, -expression, expression.subs(X, X + 1)]
    for miss in misses:
        if not sympy_equal(miss, expression):
            assert formula_verdict(gold, sympy.latex(miss)) is not True, (gold, miss)
    if expression == 0:  # the terms cancelled: 0 · (1 + 10^{-k}) is 0
        return
    for text in (f"{gold} + 10^{{-{tiny}}}", f"\\left({gold}\\right) \\cdot (1 + 10^{{-{tiny}}})"):
        assert formula_verdict(gold, text) is not True, text


@st.composite
def rational_functions(draw):
    coefficients = st.lists(st.integers(-4, 4), min_size=2, max_size=3).filter(any)
    numerator = sympy.Poly(draw(coefficients), X).as_expr()
    denominator = sympy.Poly(draw(coefficients), X).as_expr()
    return numerator, denominator


def quotient_latex(numerator, denominator) -> str:
    return rf"\frac{{{sympy.latex(sympy.expand(numerator))}}}{{{sympy.latex(sympy.expand(denominator))}}}"


@SETTINGS
@given(rational_functions(), st.integers(1, 5))
def test_rational_functions_agree_with_sympy(pair, factor):
    """p/q against (k·p)/(k·q), p·(x+k)/(q·(x+k)) and the near misses p/q + 1/k, (p+1)/q: the
    verdicts are sympy's equality, and decided in-process."""
    numerator, denominator = pair
    if denominator.is_number and denominator == 0:
        return
    expression = numerator / denominator
    gold = quotient_latex(numerator, denominator)
    same = [
        quotient_latex(factor * numerator, factor * denominator),
        quotient_latex(numerator * (X + factor), denominator * (X + factor)),
    ]
    for answer in same:
        assert formula_verdict(gold, answer) is True, (gold, answer)
    for miss in (expression + sympy.Rational(1, factor), (numerator + 1) / denominator):
        if not sympy_equal(miss, expression):
            assert formula_verdict(gold, sympy.latex(miss)) is False, (gold, miss)


@pytest.mark.parametrize("k", range(24))
def test_angles_in_twelfths_of_pi_are_exact(k):
    """sin and cos of kπ/12 read formally equal sympy's exact radicals, and differ from their
    neighbours' values."""
    for function in (sympy.sin, sympy.cos):
        exact = function(k * sympy.pi / 12)
        written = rf"\{function.__name__}\left(\frac{{{k}\pi}}{{12}}\right)"
        assert formula_verdict(written, sympy.latex(exact)) is True, (written, exact)
        other = function((k + 1) * sympy.pi / 12)
        assert formula_verdict(written, sympy.latex(other)) is False, (written, other)
