"""The maths arithmetic kinds compute in Python integers and fractions instead of sympy; these tests
hold the exact pieces to what sympy gives for the same expressions (values, node counts, LaTeX),
so the tasks stay byte-identical (tests/test_golden_tasks.py pins a few; this covers many seeds)."""

import random
from fractions import Fraction

import pytest
import sympy

from rlvr.families.math import FAMILY
from rlvr.generators import math as maths

X = sympy.Symbol("x")


def sympy_size(expr) -> int:
    return sum(1 for _ in sympy.preorder_traversal(expr))


@pytest.mark.parametrize("difficulty", [0.0, 0.5, 1.0])
def test_chain_value_and_size_match_sympy(difficulty):
    params = FAMILY.table.resolve(difficulty)
    divided_by_zero = 0
    for seed in range(400):
        rng = random.Random(seed)
        chain = maths.random_chain(rng, {**params, "max_coefficient": rng.choice([2, 3, params["max_coefficient"]])}, 0)
        chains = [*maths.inner_chains(chain), chain]
        exact = [sympy.sympify(maths.chain_sympy(c).doit()) for c in chains]
        rational = all(value.is_Rational for value in exact)
        value = maths.chain_value(chain)
        assert (value is not None) == rational, (seed, maths.chain_latex(chain))
        if value is None:
            divided_by_zero += 1
        else:
            assert all(maths.chain_value(c) == Fraction(int(v.p), int(v.q)) for c, v in zip(chains, exact))
            assert maths.worked_chain(chain, [])[3] == sympy_size(maths.chain_sympy(chain))
    if difficulty > 0:  # nested chains with tiny coefficients do reach a zero divisor now and then
        assert divided_by_zero > 0


def test_linear_latex_matches_sympy():
    values = [*range(-25, 26), 100, -100, 12345, -98765, 10**9, -(10**9)]
    for coefficient in values:
        if coefficient == 0:
            continue
        assert maths.x_term_latex(coefficient) == sympy.latex(coefficient * X)
        for constant in values:
            assert maths.collected_linear_latex(coefficient, constant) == sympy.latex(
                sympy.expand(coefficient * X + constant)
            )


def test_latex_rational_is_the_same_for_fraction_int_and_sympy():
    for value in (Fraction(-7, 3), Fraction(5), Fraction(0), Fraction(12, 8), 4, -9):
        assert maths.latex_rational(value) == maths.latex_rational(
            sympy.Rational(value.numerator, value.denominator) if isinstance(value, Fraction) else sympy.Integer(value)
        )
    assert maths.latex_rational(Fraction(-7, 3)) == r"-\frac{7}{3}"
