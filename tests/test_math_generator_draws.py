"""Math-v0's fast paths make the same tasks as the plain ones they replace: the draws are
``random.Random``'s own (same values, same state after), the pair-valued chain is the Fraction
chain, the factorisation's roots are in the order of their values, and the cached factor
printing is the uncached one. tests/test_golden_tasks.py pins whole tasks; these cover the
pieces over many seeds and ranges, including the edges (width 1, huge widths, empty ranges)."""

import random
from fractions import Fraction

import pytest

from rlvr.families.math import FAMILY
from rlvr.generators import math as maths

WIDTHS = [1, 2, 3, 4, 5, 7, 8, 9, 31, 32, 33, 100, 2**31 - 1, 2**32, 2**32 + 1, 10**12, 2**64 + 3, 2**70]


def test_draw_int_and_draw_below_are_randint_and_randrange():
    for seed in range(300):
        ours, theirs = random.Random(seed), random.Random(seed)
        for width in WIDTHS:
            for low in (-(width // 2), 0, 7, -(10**6)):
                assert maths.draw_int(ours, low, low + width - 1) == theirs.randint(low, low + width - 1)
            assert maths.draw_below(ours, width) == theirs.randrange(width)
        assert ours.getstate() == theirs.getstate()


def test_draw_item_skipping_and_sample_are_choice_and_sample():
    sequences = ["+-*/", (1, -1), ("gcd", "lcm", "mod", "power_mod"), list(range(-40, 41)), [0]]
    for seed in range(400):
        ours, theirs = random.Random(seed), random.Random(seed)
        for items in sequences:
            assert maths.draw_item(ours, items) == theirs.choice(items)
        for low, high in ((-30, 30), (-2, 2), (0, 5), (-9, -1)):
            for skipped in ((), (0,), (0, 1), (low,), (high,), (low, high), (-100,), (100,), (-1, 0, 1)):
                wanted = [k for k in range(low, high + 1) if k not in skipped]
                assert maths.draw_int_skipping(ours, low, high, skipped) == theirs.choice(wanted), (low, high, skipped)
        for n in range(0, 26):
            for k in range(0, min(n, 7) + 1):
                assert maths.draw_sample(ours, n, k) == theirs.sample(range(n), k)
        assert ours.getstate() == theirs.getstate()


def test_empty_draws_raise_instead_of_looping():
    rng = random.Random(0)
    for draw in (
        lambda: maths.draw_int(rng, 5, 4),
        lambda: maths.draw_below(rng, 0),
        lambda: maths.draw_below(rng, -3),
        lambda: maths.draw_int_skipping(rng, 0, 1, (0, 1)),
    ):
        with pytest.raises(ValueError):
            draw()
    with pytest.raises(IndexError):
        maths.draw_item(rng, [])
    with pytest.raises(ValueError):
        maths.draw_sample(rng, 3, 4)


@pytest.mark.parametrize("difficulty", [0.0, 0.5, 1.0])
def test_drawn_chain_is_the_fraction_chain_with_the_same_draws(difficulty):
    params = FAMILY.table.resolve(difficulty)
    for seed in range(500):
        pairs_rng, fractions_rng = random.Random(seed), random.Random(seed)
        drawn = maths.drawn_chain(pairs_rng, params, 0)
        fractions = maths.random_chain(fractions_rng, params, 0)
        assert pairs_rng.getstate() == fractions_rng.getstate()
        assert maths.with_fractions(drawn) == fractions
        leaves = [*leaf_values(drawn)]
        assert all(d > 0 and Fraction(n, d).denominator == d for n, d in leaves)  # lowest terms
        assert maths.worked_chain(drawn, []) == maths.worked_chain(fractions, [])


def leaf_values(node):
    for operand in node.operands:
        if isinstance(operand, maths.Chain):
            yield from leaf_values(operand)
        else:
            yield operand


def test_linear_factorisation_roots_are_in_value_order():
    rng = random.Random(5)
    for _ in range(3000):
        linear = [(rng.randint(-40, 40), rng.randint(1, 6)) for _ in range(rng.randint(1, 6))]
        scale = rng.choice([-3, -1, 1, 2])
        content, factors, roots = maths.linear_factorisation(scale, linear)
        values = sorted({Fraction(n, d) for n, d in linear})
        assert [Fraction(n, d) for n, d in roots] == values
        assert all(Fraction(n, d).denominator == d for n, d in roots)
        assert [factor for factor, _ in factors] == [[-v.numerator, v.denominator] for v in values]
        assert sum(m for _, m in factors) == len(linear)
        assert content == scale * maths.math.prod(maths.math.gcd(n, d) for n, d in linear)


def test_cached_factor_printing_is_the_uncached_printing():
    rng = random.Random(11)
    for _ in range(3000):
        factors = [
            ([rng.randint(-9, 9) or 1 for _ in range(rng.randint(1, 3))] + [rng.randint(1, 5)], rng.randint(1, 3))
            for _ in range(rng.randint(1, 4))
        ]
        uncached = " ".join(
            rf"\left({maths.polynomial_latex(coefficients)}\right)" + (f"^{{{exponent}}}" if exponent > 1 else "")
            for coefficients, exponent in sorted(factors, key=lambda factor: maths.factor_order(*factor))
        )
        assert maths.product_latex(factors) == uncached
