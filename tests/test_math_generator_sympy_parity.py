"""The algebra kinds of Math-v0 (quadratic_equation, linear_system, polynomial_expansion,
polynomial_factoring, derivative, definite_integral) compute in Python integers and fractions and write sympy's LaTeX
themselves. These tests hold them to the sympy builders they replaced (kept here as the
reference): the same draws must give the same Problem, field for field, over the declared
parameter ranges (not only the difficulty table's), so tasks stay byte-identical; and the LaTeX
helpers to ``sympy.latex`` on random inputs."""

import random
from fractions import Fraction

import pytest
import sympy

from rlvr.families.math import FAMILY
from rlvr.generators import math as maths

X = sympy.Symbol("x")
SYSTEM_VARIABLES = sympy.symbols("x y z")


def sympy_size(expr) -> int:
    return sum(1 for _ in sympy.preorder_traversal(expr))


def to_poly(expr: sympy.Expr) -> sympy.Poly:
    """A polynomial in x from a (possibly unevaluated) product of powers of polynomials."""
    if isinstance(expr, sympy.Mul):
        result = sympy.Poly(1, X)
        for factor in expr.args:
            result = result * to_poly(factor)
        return result
    if isinstance(expr, sympy.Pow) and expr.exp.is_Integer and expr.exp >= 0:
        return to_poly(expr.base) ** int(expr.exp)
    return sympy.Poly(expr, X)


def sympy_polynomial(coefficients) -> sympy.Expr:
    return sympy.Add(*[sympy.Rational(c.numerator, c.denominator) * X**k for k, c in enumerate(coefficients)])


# --------------------------------------------------------------------------------------------
# The sympy builders the kinds used to be (the reference)
# --------------------------------------------------------------------------------------------


def reference_binomial(rng, params, least_constant_bound=3):
    lead_bound = max(1, min(9, params["max_coefficient"] // 10))
    constant_bound = max(least_constant_bound, params["max_coefficient"] // 5)
    lead = rng.randint(1, lead_bound) * (rng.choice((1, -1)) if params["nesting"] else 1)
    return sympy.Add(sympy.Mul(lead, X), maths.nonzero(rng, -constant_bound, constant_bound), evaluate=False)


def reference_polynomial(rng, params, terms, degree):
    coefficient_bound = max(3, params["max_coefficient"] // 3)
    exponents = sorted(rng.sample(range(degree), min(terms, degree + 1) - 1) + [degree], reverse=True)
    return sympy.Add(*[maths.nonzero(rng, -coefficient_bound, coefficient_bound) * X**e for e in exponents])


def reference_function(rng, params):
    degree = max(1, params["degree"])
    if params["nesting"] == 0:
        return reference_polynomial(rng, params, params["terms"], degree)
    power = sympy.Pow(reference_binomial(rng, params), rng.randint(2, params["nesting"] + 1), evaluate=False)
    other = reference_polynomial(rng, params, max(1, params["terms"] - 1), max(1, degree - 2))
    return sympy.Mul(power, other, evaluate=False)


def reference_quadratic_equation(rng, params):
    bound, nesting = params["max_coefficient"], params["nesting"]
    root_bound = max(3, bound // 2)
    factors = []
    for _ in range(2):
        denominator = rng.randint(1, nesting + 1)
        numerator = rng.randint(-root_bound, root_bound)
        factors.append(denominator * X - numerator)
    scale = rng.choice([k for k in range(-nesting - 1, nesting + 2) if k]) if nesting else 1
    poly = to_poly(sympy.Mul(scale, *factors, evaluate=False))
    polynomial = poly.as_expr()
    if params["terms"] >= 3:
        s, t = rng.randint(-bound, bound), rng.randint(-bound, bound)
        lhs, rhs = polynomial + s * X + t, s * X + t
    else:
        lhs, rhs = polynomial, sympy.Integer(0)
    roots = sorted(sympy.Poly(lhs - rhs, X).ground_roots())
    values = [maths.latex_rational(root) for root in roots]
    coefficient, irreducible = poly.factor_list()
    factored = sympy.Mul(coefficient, *[f.as_expr() ** m for f, m in irreducible])
    working = [
        rf"Bring everything to one side: ${sympy.latex(polynomial)} = 0$ (discriminant ${poly.discriminant()}$).",
        rf"Factor: ${sympy.latex(factored)} = 0$, so $x \in \{{{', '.join(values)}\}}$.",
    ]
    return maths.Problem(
        statement=f"Find all real solutions of ${sympy.latex(lhs)} = {sympy.latex(rhs)}$.",
        form_instruction=(
            r"List every distinct solution once, separated by commas, in any order, for example "
            r"\boxed{-2, \frac{1}{3}}."
        ),
        gold=", ".join(values),
        form="set",
        expression_size=sympy_size(sympy.Eq(lhs, rhs, evaluate=False)),
        working=working,
        subkind="double root" if len(roots) == 1 else "two roots",
        extra_answer={"values": values, "variable": "x"},
    )


def reference_linear_system(rng, params):
    unknowns, bound = params["unknowns"], params["max_coefficient"]
    variables = SYSTEM_VARIABLES[:unknowns]
    small = max(3, bound // 4)
    while True:
        matrix = sympy.Matrix(unknowns, unknowns, lambda i, j: rng.randint(-small, small))
        if matrix.det() != 0:
            break
    solution_drawn = sympy.Matrix([rng.randint(-bound, bound) for _ in range(unknowns)])
    constants = matrix * solution_drawn
    equations = [
        sympy.Eq(sum(matrix[i, j] * variables[j] for j in range(unknowns)), constants[i], evaluate=False)
        for i in range(unknowns)
    ]
    (solution,) = sympy.linsolve(equations, *variables)
    values = [maths.latex_rational(v) for v in solution]
    names = ", ".join(str(v) for v in variables)
    shape = "pair" if unknowns == 2 else "triple"
    lines = "\n".join(f"${sympy.latex(eq.lhs)} = {sympy.latex(eq.rhs)}$" for eq in equations)
    working = [
        f"Eliminate one unknown at a time (determinant {matrix.det()}).",
        f"${', '.join(f'{v} = {w}' for v, w in zip(variables, values))}$.",
    ]
    return maths.Problem(
        statement=f"Solve the system of equations\n{lines}",
        form_instruction=(
            rf"Give the solution as the ordered {shape} $({names})$, for example "
            rf"\boxed{{({', '.join(['1', '-2', '5'][:unknowns])})}}."
        ),
        gold="(" + ", ".join(values) + ")",
        form="tuple",
        expression_size=sympy_size(sympy.Tuple(*equations)),
        working=working,
        subkind=f"{unknowns} unknowns",
        extra_answer={"values": values, "variables": [str(v) for v in variables]},
    )


def reference_polynomial_expansion(rng, params):
    least = 12 if params["terms"] == 2 else 3  # two factors: constants from ±12 at least
    factors = [reference_binomial(rng, params, least) for _ in range(params["terms"])]
    if params["nesting"]:
        index = rng.randrange(len(factors))
        factors[index] = sympy.Pow(factors[index], rng.randint(2, params["nesting"] + 1), evaluate=False)
    product = sympy.Mul(*factors, evaluate=False)
    expanded = sympy.latex(to_poly(product).as_expr())
    return maths.Problem(
        statement=f"Expand and simplify ${sympy.latex(product)}$.",
        form_instruction=(
            r"Give the expanded polynomial in $x$ with like terms combined, for example \boxed{2x^3 - 5x + 6}."
        ),
        gold=expanded,
        form="expanded",
        expression_size=sympy_size(product),
        working=[f"Multiply out the {len(factors)} factors and collect powers of $x$: ${expanded}$."],
        subkind=f"{len(factors)} factors",
        extra_answer={"variable": "x"},
    )


def reference_derivative(rng, params):
    function = reference_function(rng, params)
    derivative = to_poly(function).diff(X).as_expr()
    rule = "the power rule" if params["nesting"] == 0 else "the product and chain rules"
    derivative_latex = sympy.latex(derivative)
    working = [rf"By {rule}, $f'(x) = {derivative_latex}$."]
    if rng.random() < 0.5:
        point = rng.choice([c for c in (-3, -2, -1, 1, 2, 3) if derivative.subs(X, c) != 0] or [-3, -2, -1, 1, 2, 3])
        value = derivative.subs(X, point)
        working.append(rf"At $x = {point}$: $f'({point}) = {maths.latex_rational(value)}$.")
        return maths.Problem(
            statement=f"Let $f(x) = {sympy.latex(function)}$. Find $f'({point})$.",
            form_instruction=r"Give the value as an integer or a fraction, for example \boxed{-14}.",
            gold=maths.latex_rational(value),
            form="number",
            expression_size=sympy_size(sympy.Subs(sympy.Derivative(function, X), X, point)),
            working=working,
            subkind="value at a point",
            extra_answer={"labels": [f"f'({point})"]},
        )
    return maths.Problem(
        statement=f"Let $f(x) = {sympy.latex(function)}$. Find $f'(x)$.",
        form_instruction=(
            r"Give $f'(x)$ as an expanded polynomial in $x$ with like terms combined, for example "
            r"\boxed{6x^2 - 4x + 1}."
        ),
        gold=derivative_latex,
        form="expanded",
        expression_size=sympy_size(sympy.Derivative(function, X)),
        working=working,
        subkind="expression",
        extra_answer={"variable": "x", "labels": ["f'(x)"]},
    )


def reference_definite_integral(rng, params):
    function = reference_function(rng, params)
    bound_limit = 2 + params["nesting"]
    lower = rng.randint(-bound_limit, bound_limit - 1)
    upper = rng.randint(lower + 1, bound_limit)
    antiderivative_poly = to_poly(function).integrate()
    antiderivative = antiderivative_poly.as_expr()
    value = antiderivative_poly.eval(upper) - antiderivative_poly.eval(lower)
    integrand = sympy.latex(function) if function.is_Mul else rf"\left({sympy.latex(function)}\right)"
    return maths.Problem(
        statement=rf"Evaluate $\int_{{{lower}}}^{{{upper}}} {integrand} \, dx$.",
        form_instruction=r"Give the exact value as an integer or a fraction, for example \boxed{\frac{38}{3}}.",
        gold=maths.latex_rational(value),
        form="number",
        expression_size=sympy_size(sympy.Integral(function, (X, lower, upper))),
        working=[
            rf"An antiderivative is $F(x) = {sympy.latex(antiderivative)}$.",
            rf"$F({upper}) - F({lower}) = {maths.latex_rational(value)}$.",
        ],
        subkind="product" if params["nesting"] else "polynomial",
    )


def reference_polynomial_factoring(rng, params):
    nesting = params["nesting"]
    root_bound = max(3, params["max_coefficient"] // 4)
    factors = []
    for _ in range(max(2, params["terms"])):
        lead = rng.randint(1, min(3, nesting + 1))
        factors.append(lead * X - rng.randint(-root_bound, root_bound))
    content = rng.choice([k for k in range(-nesting - 1, nesting + 2) if k]) if nesting else 1
    poly = to_poly(sympy.Mul(content, *factors, evaluate=False))
    polynomial = poly.as_expr()
    coefficient, irreducible = poly.factor_list()
    factored = sympy.latex(sympy.factor(polynomial))
    factor_count = sum(multiplicity for _, multiplicity in irreducible)
    roots = sorted(-f.nth(0) / f.nth(1) for f, _ in irreducible)
    return maths.Problem(
        statement=f"Factor completely over the integers: ${sympy.latex(polynomial)}$.",
        form_instruction=r"Give a product of irreducible factors, for example \boxed{2(x - 1)(x + 3)^2}.",
        gold=factored,
        form="factored",
        expression_size=sympy_size(polynomial),
        working=[
            f"Rational roots: ${', '.join(maths.latex_rational(r) for r in roots)}$; "
            f"with the content that gives ${factored}$ ({factor_count} irreducible factors)."
        ],
        subkind=f"{factor_count} factors",
        extra_answer={"variable": "x", "factor_count": factor_count},
    )


REFERENCES = {
    "polynomial_factoring": reference_polynomial_factoring,
    "quadratic_equation": reference_quadratic_equation,
    "linear_system": reference_linear_system,
    "polynomial_expansion": reference_polynomial_expansion,
    "derivative": reference_derivative,
    "definite_integral": reference_definite_integral,
}


def drawn_params(rng: random.Random) -> dict:
    """Parameters anywhere in the declared ranges (sizes kept where sympy stays quick): the
    table's at a random difficulty, each of them overridden half the time."""
    params = dict(FAMILY.table.resolve(round(rng.random(), 4)))
    overrides = {
        "max_coefficient": rng.choice([2, 3, 5, 9, 10, 11, 30, 99, 1000, 10**6]),
        "terms": rng.randint(2, 6),
        "nesting": rng.randint(0, 4),
        "degree": rng.randint(1, 8),
        "unknowns": rng.randint(2, 3),
    }
    params.update({name: value for name, value in overrides.items() if rng.random() < 0.5})
    return params


@pytest.mark.parametrize("kind", sorted(REFERENCES))
def test_kind_gives_what_the_sympy_builder_gave(kind):
    for case in range(250):
        params = drawn_params(random.Random(case))
        ours = maths.BUILDERS[kind](random.Random(10_000 + case), params)
        reference = REFERENCES[kind](random.Random(10_000 + case), params)
        assert ours == reference, (kind, case, params)


def test_polynomial_latex_and_size_match_sympy():
    rng = random.Random(7)
    for _ in range(3000):
        degree = rng.randint(0, 7)
        coefficients = [rng.choice([0, 0, 1, -1, rng.randint(-50, 50)]) for _ in range(degree + 1)]
        if rng.random() < 0.3:  # two terms: the constant-first case and its neighbours
            coefficients = [0] * (max(1, degree) + 1)
            coefficients[0] = rng.choice([1, 5, -1, -5])
            coefficients[rng.randint(1, max(1, degree))] = rng.choice([1, 3, -1, -3])
        if not any(coefficients):
            continue
        expr = sympy_polynomial(coefficients)
        assert maths.polynomial_latex(coefficients) == sympy.latex(expr), coefficients
        assert maths.polynomial_size(coefficients) == sympy_size(expr), coefficients
        rational = [Fraction(c, rng.randint(1, 6)) for c in coefficients]
        assert maths.polynomial_latex(rational) == sympy.latex(sympy_polynomial(rational)), rational


def test_product_latex_orders_factors_as_sympy_prints_them():
    rng = random.Random(11)
    for _ in range(1500):
        factors = []
        for _ in range(rng.randint(1, 4)):
            if rng.random() < 0.7:
                coefficients = [maths.nonzero(rng, -6, 6), maths.nonzero(rng, -3, 3)]
            else:
                coefficients = [rng.randint(-4, 4) for _ in range(rng.randint(2, 4))] + [maths.nonzero(rng, -4, 4)]
                if sum(1 for c in coefficients if c) < 2:
                    continue
            factors.append((coefficients, rng.choice([1, 1, 2, 3])))
        if len(factors) < 2 and not any(e > 1 for _, e in factors):  # a lone sum is no product
            continue
        product = sympy.Mul(
            *[
                sympy.Pow(sympy.Add(*[c * X**k for k, c in enumerate(cs) if c], evaluate=False), e, evaluate=False)
                if e > 1
                else sympy.Add(*[c * X**k for k, c in enumerate(cs) if c], evaluate=False)
                for cs, e in factors
            ],
            evaluate=False,
        )
        assert maths.product_latex(factors) == sympy.latex(product), factors


def test_factored_latex_matches_sympy_factor_list():
    rng = random.Random(13)
    for _ in range(1500):
        roots = [Fraction(rng.randint(-6, 6), rng.randint(1, 4)) for _ in range(rng.randint(2, 3))]
        scale = maths.nonzero(rng, -4, 4)
        poly = sympy.Poly(scale * sympy.Mul(*[r.denominator * X - r.numerator for r in roots]), X)
        content, irreducible = poly.factor_list()
        factors = [([int(c) for c in reversed(f.all_coeffs())], m) for f, m in irreducible]
        expected = sympy.latex(sympy.Mul(content, *[f.as_expr() ** m for f, m in irreducible]))
        assert maths.factored_latex(int(content), factors) == expected, (scale, roots)
