r"""Red team s19 on rlvr/Math-v0's synthetic forms: answers that restate the work instead of doing
it, right in value, scored 1 -- set and tuple values left as formulas (the quadratic formula and
Cramer's rule on the prompt's coefficients: every quadratic_equation and linear_system task, F1),
f'(x) as finite differences of the prompt's f (every derivative "expression" task, F2) and
expanded polynomials whose coefficients are left as sums (every polynomial_expansion task up to
d = .5, F3). Honest spellings of the same answers still score 1."""

import dataclasses
import re
from fractions import Fraction

import pytest
import sympy
from math_verify import parse

from rlvr.generators.math import MathGenerator
from rlvr.verifiers.math import MathVerifier, element_number, parse_plain_number
from rlvr.verifiers.math_worker import is_expanded_polynomial, written_degree

GENERATOR = MathGenerator()
X = sympy.Symbol("x", real=True)


@pytest.fixture(scope="module")
def verifier():
    made = MathVerifier()
    yield made
    made.close()


def boxed(text: str) -> str:
    return "So the final answer is $\\boxed{" + text + "}$."


def tasks_of(kind: str, seeds: range, difficulty: float, form: str | None = None) -> list:
    made = [GENERATOR.generate(seed, difficulty, kinds=kind) for seed in seeds]
    return [task for task in made if form is None or task.answer["form"] == form]


def fraction_latex(value) -> str:
    return str(value.numerator) if value.denominator == 1 else f"\\frac{{{value.numerator}}}{{{value.denominator}}}"


@pytest.mark.parametrize("difficulty", [0.0, 0.5, 1.0])
def test_roots_written_as_the_quadratic_formula_score_zero(verifier, difficulty):
    """F1: each root as the quadratic formula of the monic quadratic with these roots (what the red
    team filled in from the prompt's coefficients) is equal to it but computes nothing."""
    for task in tasks_of("quadratic_equation", range(12), difficulty):
        roots = [parse_plain_number(value).value for value in task.answer["values"]]
        low, high = min(roots), max(roots)
        b, c = fraction_latex(-(low + high)), fraction_latex(low * high)
        formula = [f"\\frac{{-({b}) {sign} \\sqrt{{({b})^{{2}} - 4({c})}}}}{{2}}" for sign in ("-", "+")]
        verdict = verifier.verify(task, boxed(", ".join(formula)))
        assert verdict.reward == 0.0, (task.id, verdict.reason)
        assert "single number" in verdict.reason
        repeated = task.answer["values"][:1] + [f"{task.answer['values'][0]} + 0"]
        assert verifier.verify(task, boxed(", ".join(repeated))).reward == 0.0


@pytest.mark.parametrize("difficulty", [0.0, 0.5, 1.0])
def test_honest_spellings_of_roots_and_solutions_still_score(verifier, difficulty):
    for task in tasks_of("quadratic_equation", range(12), difficulty):
        values = task.answer["values"]
        variable = task.answer.get("variable") or "x"
        assert verifier.verify(task, boxed(", ".join(reversed(values)))).reward == 1.0
        labelled = ", ".join(f"{variable} = {value}" for value in values)
        assert verifier.verify(task, boxed(labelled)).reward == 1.0, (task.id, labelled)
        dfrac = ", ".join(value.replace("\\frac", "\\dfrac") for value in values)
        assert verifier.verify(task, boxed(dfrac)).reward == 1.0
    for task in tasks_of("linear_system", range(12), difficulty):
        values, names = task.answer["values"], task.answer["variables"]
        assert verifier.verify(task, boxed("(" + ", ".join(values) + ")")).reward == 1.0
        labelled = ", ".join(f"{name} = {value}" for name, value in zip(names, values))
        assert verifier.verify(task, boxed(labelled)).reward == 1.0, (task.id, labelled)
        cramer = ", ".join(f"\\frac{{({value}) \\cdot 2 - 0}}{{2}}" for value in values)
        verdict = verifier.verify(task, boxed("(" + cramer + ")"))
        assert verdict.reward == 0.0, (task.id, verdict.reason)


STENCIL = ((-4, 3), (-3, -32), (-2, 168), (-1, -672), (1, 672), (2, -168), (3, 32), (4, -3))
FUNCTION = re.compile(r"Let \$f\(x\) = (.+?)\$\. Find \$f'\(x\)\$")


def product_rule(function_latex: str) -> str:
    """f' written out by the product and chain rules, factors unexpanded: what a person writes."""
    factors = sympy.Mul.make_args(parse("$" + function_latex + "$")[0])
    terms = []
    for index, factor in enumerate(factors):
        base, power = factor.as_base_exp()
        inner = sympy.diff(base, X)
        derivative = f"{power} \\left({sympy.latex(base)}\\right)^{{{power - 1}}} \\left({sympy.latex(inner)}\\right)"
        rest = " ".join(f"\\left({sympy.latex(other)}\\right)" for j, other in enumerate(factors) if j != index)
        terms.append(f"{derivative} {rest}".strip())
    return " + ".join(terms)


def stencil_of(function: str) -> str:
    terms = " ".join(
        f"{'+' if weight > 0 else '-'} {abs(weight)} \\left({function.replace('x', f'(x{shift:+d})')}\\right)"
        for shift, weight in STENCIL
    )
    return f"\\frac{{{terms.lstrip('+ ')}}}{{840}}"


@pytest.mark.parametrize("difficulty", [0.25, 0.5, 1.0])
def test_derivatives_as_finite_differences_score_zero(verifier, difficulty):
    """F2: the 9-point central difference of the prompt's f is f' exactly (f has degree at most 7)
    but differentiates nothing. f'(x) is now asked expanded, so it scores 0, as does the product
    rule left unexpanded; the expanded derivative scores. In the "expression" form (any equal
    expression, no longer generated) the difference still scores 0, its parts having f's degree,
    above f′'s, while the product and chain rules written out stay within f′'s degree and score."""
    tasks = [
        task
        for task in (GENERATOR.generate(seed, difficulty, kinds="derivative") for seed in range(40))
        if task.answer.get("labels") == ["f'(x)"]
    ][:8]
    assert tasks
    for task in tasks:
        assert task.answer["form"] == "expanded" and "expanded polynomial" in task.prompt
        function = FUNCTION.search(task.prompt).group(1)
        stencil, honest = stencil_of(function), product_rule(function)
        assert verifier.verify(task, boxed(stencil)).reward == 0.0
        verdict = verifier.verify(task, boxed(honest))
        assert verdict.reward == 0.0 and "not expanded" in verdict.reason, (task.id, verdict.reason)
        assert verifier.verify(task, boxed(task.answer["gold"])).reward == 1.0
        lenient = dataclasses.replace(task, answer={**task.answer, "form": "expression"})
        verdict = verifier.verify(lenient, boxed(stencil))
        assert verdict.reward == 0.0 and "degree" in verdict.reason, (task.id, verdict.reason)
        verdict = verifier.verify(lenient, boxed(honest))
        assert verdict.reward == 1.0, (task.id, honest, verdict.reason)


@pytest.mark.parametrize("difficulty", [0.0, 0.5])
def test_expansions_with_coefficients_left_as_sums_score_zero(verifier, difficulty):
    """F3: Vieta's sums of products of the prompt's numbers, unevaluated, as coefficients."""
    for task in tasks_of("polynomial_expansion", range(8), difficulty):
        unevaluated = re.sub(r"(\d+)(?= x|$)", r"\\left((\1-1)\\cdot 1+1\\right)", task.answer["gold"])
        assert unevaluated != task.answer["gold"]
        verdict = verifier.verify(task, boxed(unevaluated))
        assert verdict.reward == 0.0, (task.id, unevaluated, verdict.reason)
        assert verifier.verify(task, boxed(task.answer["gold"])).reward == 1.0


@pytest.mark.parametrize(
    "latex, expanded",
    [
        (r"- 4 x^{4} - 62 x^{3} + 7", True),
        (r"\frac{3}{2} x^{2} - \frac{1}{2}x + 7", True),
        (r"-\frac{3}{2}x + 0.5", True),
        (r"x^{2} + (4-1)x - 4", False),
        (r"3 \cdot 4 x + 1", False),
        (r"2^{3}x", False),
        (r"\sqrt{4}x + 1", False),
        (r"x^{2} + 2x + x", False),
        (r"(x+1)^{2}", False),
    ],
)
def test_what_counts_as_expanded(latex, expanded):
    assert is_expanded_polynomial(sympy, parse("$" + latex + "$")[0], X) is expanded


@pytest.mark.parametrize(
    "latex, bound",
    [
        (r"3 (2x+2)^{2} \cdot 2 (x^{2}+1) + (2x+2)^{3} (2x)", 4),
        (r"6x^{2} - 4x + 1", 2),
        (r"\frac{(x+1)^{3} - (x-1)^{3}}{2}", 3),
        (r"\frac{(x+1)^{2} - (x-1)^{2}}{4}", 2),
    ],
)
def test_written_degree_bounds_every_part(latex, bound):
    assert written_degree(sympy, parse("$" + latex + "$")[0], X, 10) == bound


@pytest.mark.parametrize("difficulty", [0.0, 0.5])
def test_a_decimal_does_not_get_unevaluated_coefficients_evaluated_first(verifier, difficulty):
    r"""Second pass M1: the answer's decimals were made exact by a substitution that rebuilt every
    sum and product around them with sympy's evaluating constructors, so ``(c+1.0-1)`` and a
    distribution written out term by term with ``1.0 \cdot`` in front were expanded before the
    form check looked. The check now reads the answer as written."""
    for task in tasks_of("polynomial_expansion", range(8), difficulty):
        unevaluated = re.sub(r"(\d+)(?= x|$)", r"\\left(\1+1.0-1\\right)", task.answer["gold"])
        verdict = verifier.verify(task, boxed(unevaluated))
        assert verdict.reward == 0.0, (task.id, unevaluated, verdict.reason)
        assert verifier.verify(task, boxed(task.answer["gold"] + " + 0.0")).reward == 0.0  # 0.0 is a term
    task = next(t for t in tasks_of("polynomial_expansion", range(40), 0.0) if t.prompt.count("\\left(") == 2)
    first, second = re.findall(r"\\left\(([^()]*)\\right\)", task.prompt)[:2]
    terms = [term.replace(" ", "") for term in (first, second)]
    split = [re.findall(r"[-+]?[^-+]+", term) for term in terms]
    distributed = " + ".join(f"1.0 \\cdot ({a}) \\cdot ({b})" for a in split[0] for b in split[1])
    assert verifier.verify(task, boxed(distributed)).reward == 0.0, distributed


@pytest.mark.parametrize(
    "kind, spelling",
    [
        ("quadratic_equation", lambda values, names: ", ".join(f"\\left({v}\\right)" for v in values)),
        ("quadratic_equation", lambda values, names: ",\\ ".join(f"x = {v}" for v in values)),
        ("quadratic_equation", lambda values, names: ",\\quad ".join(f"x = {v}" for v in values)),
        ("quadratic_equation", lambda values, names: ", ".join(f"x_{{{i + 1}}} = {v}" for i, v in enumerate(values))),
        (
            "quadratic_equation",
            lambda values, names: ", ".join(f"{v}." if i == len(values) - 1 else v for i, v in enumerate(values)),
        ),
        ("linear_system", lambda values, names: f"({', '.join(names)}) = ({', '.join(values)})"),
        ("linear_system", lambda values, names: ",~".join(f"{n} = \\left({v}\\right)" for n, v in zip(names, values))),
    ],
)
def test_careful_spellings_of_sets_and_tuples_score(verifier, kind, spelling):
    """Second pass F1–F3: plain numbers in brackets, spacing after the commas, indexed roots and
    the unknowns named as a tuple are what careful solvers write; each scores."""
    for difficulty in (0.5, 1.0):
        for task in tasks_of(kind, range(10), difficulty):
            values = task.answer["values"]
            response = boxed(spelling(values, task.answer.get("variables") or ["x"]))
            verdict = verifier.verify(task, response)
            assert verdict.reward == 1.0, (task.id, response, verdict.reason)


@pytest.mark.parametrize(
    "element, value",
    [
        (r"\left(-\frac{3}{2}\right)", "-3/2"),
        (r"-\left(\frac{3}{2}\right)", "-3/2"),
        (r"-{\frac{3}{2}}", "-3/2"),
        (r"-\cfrac{3}{2}", "-3/2"),
        ("(-3)/2", "-3/2"),
        (r"-\frac{3}{2}\text{.}", "-3/2"),
        (r"2.4 \times 10^{1}", "24"),
        ("(1)-(2)", None),
        ("(1+1)", None),
        (r"\sqrt{4}", None),
    ],
)
def test_element_numbers(element, value):
    number = element_number(element)
    assert (number.value if number else None) == (Fraction(value) if value else None)


def test_plus_minus_names_both_symmetric_roots(verifier):
    r"""Second pass F3: ``x = \pm 12`` for {-12, 12}; the same for one root, or around a
    different value, is wrong."""
    tasks = [
        task
        for task in (GENERATOR.generate(seed, 0.5, kinds="quadratic_equation") for seed in range(400))
        if len(task.answer["values"]) == 2 and task.answer["values"][0] == "-" + task.answer["values"][1]
    ]
    assert tasks
    for task in tasks:
        root = task.answer["values"][1]
        for answer in (f"x = \\pm {root}", f"\\pm {root}", f"\\pm\\left({root}\\right)"):
            verdict = verifier.verify(task, boxed(answer))
            assert verdict.reward == 1.0, (task.id, answer, verdict.reason)
        for answer in (f"x = \\pm {root}, x = 0", f"\\pm {root} + 1", f"{root} \\pm 1", r"\pm 1"):
            assert verifier.verify(task, boxed(answer)).reward == 0.0, (task.id, answer)
    single = next(t for t in tasks_of("quadratic_equation", range(200), 0.5) if len(t.answer["values"]) == 1)
    assert verifier.verify(single, boxed(f"\\pm {single.answer['values'][0]}")).reward == 0.0
