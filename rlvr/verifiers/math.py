r"""Math verifier: is the one final answer of a response equal to the task's gold answer?

Input       A ``Task`` from rlvr.generators.math: ``task.answer`` = {"gold": LaTeX, "form":
            "number" | "set" | "tuple" | "expanded" | "factored" | "expression" | "any", plus
            "values", "variables", "variable", "factor_count", "labels" where the form needs
            them}. A bare string answer is read as {"gold": it, "form": "any"}.
Extraction  rlvr.core.extract_math_answer: the last ``\boxed{}`` (inside the last
            ``<answer>`` block if there is one), else the ``<answer>`` block. Two different
            boxes, more than 16 boxes, a box not closed within 4 000 characters, or an answer
            that ``looks_hedged`` ("2 or 3", "maybe 4"; not an "or" joining inequalities,
            ``x \le 2 \text{ or } x \ge 5``) score 0 — unless the gold has several values (a
            set, list or tuple): then several boxes, or values joined by "and"/"or", form one
            comma-separated answer (``\boxed{1}, \boxed{2}`` for ``\{1, 2\}``). Boxes along the
            working followed by one stated result ("… The final answer is $10,455$.", see Free
            text) are judged by that statement. Extraction is linear in the response (C-level
            scans) plus at most 16 × 4 000 characters of brace matching; ``$…$`` around the whole
            answer is dropped, and LaTeX escaped twice (``\\frac``, every run of backslashes
            doubled) is read once, in answers and dataset golds alike.
Free text   Prose (form "any") is judged by what it states last: after its last answer anchor
            ("The final answer is $5$", "Final Answer: … is 19") the one value of that sentence
            (a sentence that hedges or denies — "is not $5$" — scores 0; one naming two values
            goes on as prose); without an anchor, a text with one maths span and no other number
            ("Therefore $x \geq 5$ is the solution.") is that span; a last sentence that denies
            its last value ("It is not $3$.") scores 0; anything else goes whole to the worker.
Bounds      An extracted answer longer than ``MAX_ANSWER_CHARS`` (2 000; free text: 20 000,
            judged in the worker), nested more than ``MAX_NESTING`` (40) brackets deep, or with
            radicals nested more than ``MAX_RADICAL_NESTING`` (6) deep, or with a binomial
            coefficient or Γ larger than 500! (``large_binomial``), or with \lceil/\lfloor
            nested more than ``MAX_ROUNDING_NESTING`` (3) deep, an exponent anywhere (inside
            function arguments and exponents too; ``\exp``, ``\cosh``… arguments count) beyond
            4 096 or a factorial's operand beyond 500 (``too_large_to_evaluate``) scores 0 at once, so
            every later step works on a bounded text; ``reason`` is at most 300 characters,
            ``details`` holds three short fields.
Screening   Answers holding calculus or summation operators (``\int``, ``\sum``, ``\prod``,
            ``\lim``, ``\frac{d}{dx}``, ``d/dx``, ``\partial``, ``Derivative``, ``Integral``)
            score 0 unless the gold holds them too: restating the problem is not answering it.
            Dataset tasks (form "any"): neither is an answer that is a maths span of the prompt,
            a side of an equation in one, or that holds a span that computes something, each
            also up to the order of its terms and factors and the spelling of −, × and ÷
            (``restates_problem``: ``99^2+99+1``, ``(99^2+99+1)`` or ``1+99+99^2`` for 9901),
            unless the gold is written so; nor, where the gold is a plain number, one that still
            computes on written numbers (``unevaluated``: ``9801+99+1``, ``\sqrt{4900}``).
            So do macros that define, hide or colour text (``\def``, ``\newcommand``,
            ``\phantom``, ``\color``…), and (unless the gold holds the same) the relations,
            operators and markup math-verify reads only one side of (``UNREAD_CONSTRUCTS``:
            ``19 \mid 18``, ``19 \star 18``, ``19 \\ 18``, ``\cancel{19} 18``, ``19 ? 18``,
            ``\cup`` next to a bare value, an odd number of bars ``19 | 18``), and logical
            connectives between values (``19 \vee 18``: ``looks_hedged``). Equations: an
            answer ``L = R`` counts as R only when L is a name (``x``, ``x_1``, ``f'(2)``,
            ``\theta``, ``|AB|``; not a number, an expression or a constant like ``\pi``,
            ``e``): "5 = 3" does not answer 3. Chains
            (``x = 5 = 3``) score 0. A synthetic task names the labels it accepts
            (``labels``, else its unknowns: ``x = 5`` for "solve for x", ``f'(2) = 7``);
            other labels, or any label where none is asked, score 0. A dataset gold that is
            itself labelled (``k = 1``, or a named quantity ``\frac{NO}{BO} = \frac{1}{\sqrt6}``,
            ``S_{MBCN}:S = 7:32``) takes the bare value or the same name (a gold ``A \approx d``
            with a plain number d is A); one naming several
            values (``AB = 4, CD = 5``) takes them bare in its order; the solutions of a system
            (``p = 5, q = 2 \text{ and } p = 7, q = 2``, ``p=5,q=2;p=7,q=2``) compare as sets of
            named values, or as tuples in the gold's order of names (``(5,2),(7,2)``). ``A \approx d``
            with a plain number d is read as A. A gold with one value takes one value:
            "3, 3, 3" is not 3. A prime left in the value (``(x^3)'``) scores 0.
Numbers     Exact values must be exactly equal, whatever their size: 1/2^99 is not 1/2^98.
            Decimals are read as exact rationals (``4.000001`` = 4000001/10⁶) and the whole
            answer is evaluated exactly: ``\sqrt{4.000001}`` is not 2, ``1.23456789 \cdot 10^{8}
            + 1`` is not 123456789. The one tolerance (``value_agrees``): a PLAIN decimal number
            — the whole answer or one set/tuple element, maybe negative, maybe in scientific
            notation (``1.428571 \times 10^{-3}`` shows 9 places) — for an exact gold that is
            no integer is an approximation: it counts when it is the gold correctly rounded at
            its last shown digit and within a relative 10⁻⁵ of it (``0.333333`` for 1/3; not
            ``0.33``, not ``0.001429`` for 1/700, not ``0.0000001`` for 1/2^98; only 0 matches
            0). An integer gold is never approximated (``1.234568 \times 10^{8}`` is not
            123456789) and a decimal inside an expression (multiplied, added, under a root, in
            a function) never is. A plain decimal gold with enough digits is read as a rounded
            rendering of the exact answer (gold ``0.333333`` takes ``\frac{1}{3}``, not
            ``\frac{1}{3} + 10^{-6}``; gold ``0.33`` does not take it); decimals on both sides
            compare exactly. ``tolerance=`` replaces all this with one relative tolerance for
            every number. The worker re-checks math-verify's "equal" by the same rule, because
            math-verify compares with an absolute tolerance and rounds floats to 6 places.
Native path No process, for form "any": rlvr.verifiers.math_answers reads both answers into
            exact canonical values (rationals, radicals, π, e, i, polynomials; sets, tuples,
            intervals and unions, matrices, words, ratios; equations up to a factor, linear
            inequalities as intervals, ``a \le |x| \le b`` as the union it describes; units and
            percentages per ``units``) and compares them; the gold's reading is cached. What
            that exact grammar does not evaluate (functions, fractional and irrational powers,
            roots of sums, division by sums, indexed names, ``\sum``) rlvr.verifiers.math_formulas
            reads: equal only when formally equal by identities true for every value, unequal
            only when clearly different in double precision at fixed points, anything else
            (``\ln 4`` against ``2 \ln 2``, ``\sin x + 10^{-60}``) to the worker. All formula
            work of one verify call shares a budget of math_formulas.BUDGET_S (0.1 s): past it,
            the worker decides. Several ``p = a``, ``p = b`` of one name are the set of its values.
            An answer outside these grammars goes to the worker; one that is no answer at all
            (``4 4``, ``10^{10^{10}}``) scores 0.
Fast path   No process, for synthetic forms: when gold and answer are plain numbers (integers,
            ``1,000``, decimals, ``\frac{a}{b}``, ``\dfrac``, ``\frac12``, ``a/b``, mixed
            ``4\frac{2}{3}``, a leading ``$``, one trailing ``.``; ASCII digits only) they are
            compared as Fractions with the rule above (``3..`` is no number). "58, 500" and "2 3" are not numbers.
Forms       number     only a numeric literal counts (an exactly equal decimal is fine).
            set        comma-separated elements, any order, every root once, nothing extra
                       (each element judged by the Numbers rule: ``-2, 0.333333`` for {-2, 1/3});
                       where the gold's values are plain numbers (always, for synthetic tasks),
                       each element must be one too: the quadratic formula on the prompt's
                       coefficients, or ``2+2`` for a repeated root, scores 0 (red team s19 F1).
            tuple      elements in order (or all labelled ``x = …, y = …``, or named as a whole:
                       ``(x, y) = (1, 2)``), plain numbers as for sets (Cramer's rule written out
                       scores 0). In both, an element may carry brackets and a sign around its
                       number (``\left(-\frac{3}{2}\right)``, ``-{\frac32}``, ``(-3)/2``), spacing
                       after its comma (``x = 2,\ x = 4``), and a set's roots the labels ``x_1``,
                       ``x_2``, …; ``\pm a`` (``x = \pm 3``) in a set is the two roots a and −a.
            expanded   a sum of monomials in x, like terms combined, equal to the gold; each
                       monomial's coefficient one integer, fraction or decimal (with its sign):
                       ``(4-1)x`` or ``1\cdot 4 + (-1)\cdot 1`` is not evaluated (red team s19 F3).
            factored   a product of polynomial factors with rational coefficients whose
                       factor count (with multiplicity) equals the gold's irreducible count,
                       equal to the gold; with equal products that forces irreducible factors.
            expression any expression equal to the gold, where the gold is a polynomial in x
                       with no part (a sum, product or power, as written) of a higher degree
                       than the gold's: the product and chain rules written out stay within
                       f′'s degree, while finite differences of the prompt's f, which cancel
                       f's leading terms, do not (red team s19 F2).
            any        datasets: the native path, else math-verify in the worker, which reads
                       an answer as LaTeX alone and whole (what it cannot read scores 0; see
                       rlvr.verifiers.math_worker, Parsing). Free text
                       ("the answer is $5$", prose in any script) goes to the worker, where
                       math-verify finds the final expression and that expression is then
                       screened and judged like any answer (labels, chains, hedges, native).
Worker      Everything symbolic runs in ``rlvr.verifiers.math_worker``, in worker processes
            forked from one warm template process (``python -I``, RLIMIT_AS = ``memory_mb``;
            JSON lines over a Unix socket per worker) owned by the verifier: the template starts
            on first use (importing sympy takes a second or more), workers are forked in
            milliseconds, one more for each further concurrent caller up to ``max(8, 4 × CPU
            count)`` (``worker_cap``; capped at the CPU count and started cold, a few slow
            answers held every worker and right answers on other threads timed out waiting,
            red team S5-6), and kept once started, except that a worker whose request hit a
            math-verify alarm or a MemoryError, or grew past twice its size at fork, is
            retired after its reply (rlvr.verifiers.math_worker, Retirement; an interrupted
            big-integer parse left a worker ~230 MB larger for good, red team S6-5) and the
            next request gets a fresh fork; ``close()`` or garbage collection or
            interpreter exit ends them all. A call that gets no worker before its deadline
            scores 0 with ``details["not_judged"] = True``: the answer was never looked at
            (unlike ``timed_out``, which a slow answer can cause itself). Inside, math-verify's
            own alarms stop most slow parses (``9^{9^{9^{9}}}``: "incorrect" / "could not
            parse"), and a MemoryError under the cap ("ran out of memory") is answered (the
            worker then retires). What neither can stop (one long C-level operation such as
            ``10^{-10^{10}}``) the parent stops: it waits on the socket with ``poll`` and
            at ``deadline_s`` kills the worker and answers "timed out after Xs"; the next
            request gets a worker freshly forked from the template.
Verdict     ``details``: "answer" (extracted, first 200 characters), "path" ("extraction",
            "screen", "native", "fast" or "math-verify"), "form".
Options     ``deadline_s`` (default 5.0) bounds every verify call; ``memory_mb`` (default 1024)
            caps the worker's address space; ``tolerance`` (default None: the rule above) a
            relative tolerance for every numeric comparison; ``ordered`` (default False) makes
            bare lists ``10, 4, -2`` ordered (tuples and bracketed lists always are);
            ``units`` "ignore" (default: ``10 \text{ cm}``, ``10 weeks``, ``28\%``, ``90^\circ``
            are 10, 10, 28, 90) or "strict" (the unit text must match). Both hold on every
            path: for an answer the worker judges, a bare-list gold is compared element by
            element in order (``ordered_items``) and the unit is checked before math-verify,
            which ignores both (``unit_problem``; red team S14-B1).
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from rlvr.core import SafeVerifier, Task, Verdict, extract_math_answer, flag_option, looks_hedged
from rlvr.verifiers import math_answers, math_formulas

RESTATED_OPERATORS = re.compile(
    r"\\(?:i{0,3}int|oint|sum|prod|lim(?:inf|sup)?|partial|nabla)(?![A-Za-z])"  # \int \iint \sum \prod \lim \partial
    r"|\\[dt]?frac\s*\{\s*(?:\\mathrm\s*\{\s*d\s*\}|d)\s*[A-Za-z]?\s*\}\s*\{\s*(?:\\mathrm\s*\{\s*d\s*\}"
    r"|d)\s*[A-Za-z]\s*\}"  # \frac{d}{dx}
    r"|\bd\s*/\s*d[A-Za-z]\b"  # d/dx
    r"|\b(?:Derivative|Integral|Sum|Product|Limit)\b|\b(?:diff|integrate|limit)\s*\("
)
# Relations, operators and markup that math-verify does not read as part of one value: it keeps
# one side or the last number ("19 \mid 18", "19 \star 18", "19 \\ 18", "\cancel{19} 18" all
# "are" 18). An answer holding one scores 0 unless the gold answer holds the same.
UNREAD_CONSTRUCTS = re.compile(
    r"\\(?:mid|nmid|divides|equiv|sim|simeq|cong|propto|parallel|nparallel|perp|to|mapsto|ni|notin|owns|in|subset"
    r"|subseteq|subsetneq|supset|supseteq|supsetneq|vdash|dashv|models|colon|bullet|star|ast|dagger"
    r"|ddagger|otimes|odot|ominus|oslash|lhd|rhd|unlhd|unrhd|triangleleft|triangleright|uplus|sqcup|sqcap|wr|amalg"
    r"|diamond"
    r"|bigcirc|asymp|doteq|prec|succ|preceq|succeq|ll|gg|bowtie|therefore|because|forall|exists|nexists|neg|lnot|not"
    r"|substack|stackrel|overset|underset|xrightarrow|xleftarrow|underbrace|overbrace|cancel|bcancel|xcancel|sout|tag"
    r"|label|hline|cline|newline|linebreak|dots|ldots|cdots|vdots|ddots)(?![A-Za-z])"
    r"|(?<!\^)(?<!\^\{)(?<!\^ )\\circ(?![A-Za-z])"  # \circ, but not the degree sign 90^\circ
    r"|(?<=[0-9A-Za-z])\s*\\(?:cup|cap|setminus)(?![A-Za-z])"  # 19 \cup 18: no sets
    r"|\\(?:cup|cap|setminus)\s*(?=[-+0-9A-Za-z])"
    r"|\\\\(?![A-Za-z])|\\[#&]|\?|\{\s*\}\s*\^"  # a line break, \# \&, "?", a prefix superscript {}^{19}
)
SYNTHETIC_FORMS = ("number", "set", "tuple", "expanded", "factored", "expression")
ANSWER_PREVIEW_CHARS = 200
REASON_MAX_CHARS = 300
# The longest final answer judged at all: every later step (screening, the native grammar, the
# worker) then works on at most this much text. The longest MATH-500 gold answer has 53.
MAX_ANSWER_CHARS = 2_000
SEPARATOR_WORDS = re.compile(
    r"(?<!\s)\s*+,?\s*+(?:\\text\s*\{\s*(?:and|or)\s*\}|\\quad\s*\\text\s*\{\s*and\s*\}\s*\\quad"
    r"|(?<![A-Za-z\\])(?:and|or)(?![A-Za-z]))\s*"
)
MAX_PROSE_CHARS = 20_000  # free text goes whole to the worker, under the deadline
MAX_NESTING = 40  # brackets deep; the deepest MATH-500 gold answer has 6
MAX_RADICAL_NESTING = 6  # radicals inside radicals: the deepest MATH-500 answer has 1
# Applications of elementary functions in one answer (beyond the gold's own count): the parser
# takes tens of milliseconds for each (59 terms \sin(kx)^{k} held a worker its whole 5 s
# deadline: red team S10-G8); a MATH-500 gold answer has at most 1.
MAX_FUNCTIONS = 8
FUNCTION_MACRO = re.compile(r"\\(?:arc)?(?:sin|cos|tan|cot|sec|csc)h?(?![A-Za-z])|\\(?:log|ln|lg|exp)(?![A-Za-z])")
BINOMIAL = re.compile(r"\\[dt]?binom(?![A-Za-z])|\\choose(?![A-Za-z])")
GAMMA = re.compile(r"\\Gamma(?![A-Za-z])\s*(?:\\left\s*)?")
# what may make a binomial's argument large: products, powers, factorials, fractions, binomials
GROWING_ARGUMENT = re.compile(r"\^|\*|!|\\(?:cdot|times|[dt]?frac|[dt]?binom|choose)(?![A-Za-z])")
RADICAL = re.compile(r"\\sqrt\s*(?:\[[^\[\]{}]*\])?\s*\{")
# Macros that hide, colour or redefine text: what a reader sees is not what a parser reads.
HIDING_MACROS = re.compile(
    r"\\(?:def|edef|gdef|xdef|let|newcommand|renewcommand|providecommand|DeclareMathOperator|newenvironment"
    r"|phantom|hphantom|vphantom|smash|color|textcolor|colorbox|fcolorbox|pagecolor|require|href|url|input|include"
    r"|catcode|csname|expandafter|iffalse|ifx|ifnum|else|fi|verb|llap|rlap|clap|mathllap|mathrlap|kern|hskip|mskip"
    r"|raisebox|scalebox|resizebox|tiny|scriptsize|footnotesize|small|normalsize|large|Large|LARGE|huge"
    r"|Huge)(?![A-Za-z])"
)
# An equation answer counts only when its left side is a name (x, x_1, f'(2), \theta, |AB|,
# \text{area}): "5 = 3" does not answer "3". Constants are not names: "\pi = 3" is false.
NAME = re.compile(
    r"(?:\\(?:alpha|beta|gamma|delta|epsilon|varepsilon|zeta|eta|theta|vartheta|iota|kappa|lambda|mu|nu|xi|rho"
    r"|sigma|tau|upsilon|phi|varphi|chi|psi|omega|Gamma|Delta|Theta|Lambda|Xi|Sigma|Upsilon|Phi|Psi|Omega)(?![A-Za-z])"
    r"|(?![ei](?![A-Za-z]))[A-Za-z]{1,3}(?![A-Za-z])|\\(?:text|mathrm|textbf|operatorname)\s*\{[A-Za-z ]{1,40}\})"
    r"(?:_(?:\{[A-Za-z0-9,]{1,12}\}|[A-Za-z0-9]))?(?:'{1,3})?"
    r"(?:\s*(?:\\left)?\(\s*[-A-Za-z0-9, ]{1,24}\s*(?:\\right)?\))?"
    r"|\|[A-Z]{1,3}\||\(\s*[A-Za-z](?:\s*,\s*[A-Za-z]){1,5}\s*\)"  # |AB|, (x, y)
)

_LAYOUT_NOISE = re.compile(r"\\[,;:! ]|\\(?:displaystyle|textstyle)|~|\s+")
_DIGITS = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)"  # ASCII digits only: "３" is not 3 here
_DECIMAL = re.compile(rf"({_DIGITS})?(?:\.([0-9]*))?")
_FRACTION_ARGUMENT = r"(?:\{([+-]?[0-9]+)\}|([0-9]))"
_LATEX_FRACTION = re.compile(rf"\\[dt]?frac{_FRACTION_ARGUMENT}{_FRACTION_ARGUMENT}")
_SLASH_FRACTION = re.compile(r"([0-9]+)/([0-9]+)")
_MIXED_NUMBER = re.compile(r"([0-9]+)\\[dt]?frac\{([0-9]+)\}\{([0-9]+)\}")


# --------------------------------------------------------------------------------------------
# Plain numbers: the fast path
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlainNumber:
    value: Fraction
    decimal: bool  # written with a decimal point: maybe an approximation
    places: int = 0  # digits after the decimal point


def normalise_number_text(text: str) -> str:
    """Drop math delimiters, spacing macros, a currency sign, braces around the whole and a full stop."""
    s = _LAYOUT_NOISE.sub("", text).replace("\u2212", "-")  # a typographic minus is a minus
    for left, right in (("$", "$"), (r"\(", r"\)"), (r"\[", r"\]")):
        if s.startswith(left) and s.endswith(right) and len(s) > len(left) + len(right):
            s = s[len(left) : -len(right)]
    s = s.replace("{,}", ",")
    if s.startswith(r"\$"):
        s = s[2:]
    elif s.startswith("$"):
        s = s[1:]
    if s.endswith(".") and not s.endswith(".."):
        s = s[:-1]
    while s.startswith("{") and s.endswith("}") and balanced(s[1:-1]):
        s = s[1:-1]
    return s


def balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += (char == "{") - (char == "}")
        if depth < 0:
            return False
    return depth == 0


def parse_plain_number(text: str) -> PlainNumber | None:
    """A Fraction for integers, decimals, simple fractions and mixed numbers; None otherwise."""
    if len(text) > 400 or re.search(r"\d\s+\d|,\s", text):  # "2 3" is not 23, "58, 500" is a list
        return None
    s = normalise_number_text(text)
    sign = 1
    if s[:1] in "+-" and s:
        sign, s = (-1 if s[0] == "-" else 1), s[1:]
    if not s:
        return None
    match = _DECIMAL.fullmatch(s)
    if match and (match.group(1) or match.group(2)):
        whole = (match.group(1) or "0").replace(",", "")
        return PlainNumber(
            sign * Fraction(f"{whole}.{match.group(2) or '0'}"), match.group(2) is not None, len(match.group(2) or "")
        )
    match = _SLASH_FRACTION.fullmatch(s)
    if match:
        return _fraction(sign, int(match.group(1)), int(match.group(2)))
    match = _LATEX_FRACTION.fullmatch(s)
    if match:
        numerator = int(match.group(1) if match.group(1) is not None else match.group(2))
        denominator = int(match.group(3) if match.group(3) is not None else match.group(4))
        return _fraction(sign, numerator, denominator)
    match = _MIXED_NUMBER.fullmatch(s)
    if match and int(match.group(3)) and int(match.group(2)) < int(match.group(3)):
        return PlainNumber(sign * (int(match.group(1)) + Fraction(int(match.group(2)), int(match.group(3)))), False)
    return None


def _fraction(sign: int, numerator: int, denominator: int) -> PlainNumber | None:
    return PlainNumber(sign * Fraction(numerator, denominator), False) if denominator else None


# --------------------------------------------------------------------------------------------
# Answer structure
# --------------------------------------------------------------------------------------------


def split_top_level(text: str, separator: str = ",") -> list[str]:
    """Split on separators outside (), [], {} (LaTeX ``\\{``/``\\}`` count as brackets)."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def strip_brackets(text: str, pairs: tuple[tuple[str, str], ...]) -> str:
    s = text.strip()
    for left, right in pairs:
        if s.startswith(left) and s.endswith(right):
            inner = s[len(left) : len(s) - len(right)]
            if balanced_brackets(inner):
                return inner.strip()
    return s


def balanced_brackets(text: str) -> bool:
    depth = 0
    for char in text:
        depth += (char in "([{") - (char in ")]}")
        if depth < 0:
            return False
    return depth == 0


SET_BRACKETS = ((r"\left\{", r"\right\}"), (r"\{", r"\}"), ("{", "}"), ("[", "]"), ("(", ")"))
TUPLE_BRACKETS = ((r"\left(", r"\right)"), ("(", ")"), (r"\left[", r"\right]"), ("[", "]"), (r"\langle", r"\rangle"))


def split_relation(text: str) -> list[str]:
    """Parts between top-level '=' signs (not those of <=, >=, !=, ==, :=), stripped."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "=" and depth == 0:
            before = text[index - 1] if index else ""
            after = text[index + 1] if index + 1 < len(text) else ""
            if before not in "<>!=:" and after != "=":
                parts.append(text[start:index])
                start = index + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def label_of(text: str) -> str | None:
    """The normalised name on the left of an equation (``f'\\left(2\\right)`` → ``f'(2)``), or
    None when the left side is not a name (a number, an expression, a constant)."""
    stripped = text.strip()
    if not NAME.fullmatch(stripped):
        return None
    return re.sub(r"\\left|\\right|\\(?:text|mathrm|textbf|operatorname)|[\s{}]", "", stripped)


def allowed_labels(spec: dict) -> set[str]:
    """Names an equation answer of a synthetic task may start with: the task's ``labels``, else
    its unknowns (``variables``, or ``variable`` for a set of roots, also indexed: ``x_1``)."""
    if "labels" in spec:
        names = spec["labels"]
    elif spec.get("variables"):
        names = spec["variables"]
    elif spec["form"] == "set" and spec.get("variable"):  # x, or x_1, x_2, … for the roots one by one
        variable = spec["variable"]
        names = [variable] + [f"{variable}_{index}" for index in range(1, len(spec.get("values", ())) + 1)]
    else:
        names = []
    return {re.sub(r"\\left|\\right|[\s{}]", "", str(name)) for name in names}


def unlabel(text: str, allowed: set[str] | None) -> tuple[str | None, str, str | None]:
    """(label, value, problem) of one answer element: ``x = 5`` → ("x", "5", None). A chain
    (``x = 5 = 3``), a left side that is not a name (``5 = 3``) or a name outside ``allowed``
    (when given) is a problem. ``A \\approx 0.33`` is A (the approximation is dropped) and
    ``x \\approx 0.33`` is labelled 0.33; any other ``\\approx`` is a problem."""
    if "\\approx" in text:
        left, _, right = text.partition("\\approx")
        if "\\approx" in right:
            return None, text, "a chain of approximations is not one answer"
        if label_of(left) is not None and "=" not in left:
            text = f"{left} = {right}"
        elif parse_plain_number(right) is not None:
            text = left
        else:
            return None, text, "an approximation that is not of a plain number"
    parts = split_relation(text)
    if len(parts) == 1:
        return None, text.strip(), None
    if len(parts) > 2:
        return None, text, "a chain of equations is not one answer"
    label = label_of(parts[0])
    if label is None:
        return None, text, f"an equation whose left side {parts[0][:40]!r} is not the asked-for name"
    if allowed is not None and label not in allowed:
        wanted = ", ".join(sorted(allowed)) or "no label"
        return label, parts[1], f"the answer is labelled {label[:40]!r}; the question asks for {wanted[:80]}"
    return label, parts[1], None


def radical_depth(text: str) -> int:
    """The deepest nesting of ``\\sqrt{…}`` / ``\\sqrt[n]{…}`` radicals in ``text`` (each
    counted while its braced radicand is open)."""
    open_radicands: list[int] = []  # the brace depth at which each open radicand closes
    depth = deepest = 0
    index = 0
    while index < len(text):
        found = RADICAL.match(text, index) if text[index] == "\\" else None
        if found:
            depth += 1
            open_radicands.append(depth)
            deepest = max(deepest, len(open_radicands))
            index = found.end()
            continue
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            if open_radicands and open_radicands[-1] == depth:
                open_radicands.pop()
            depth -= 1
        index += 1
    return deepest


def _braced_group(text: str, index: int) -> tuple[str, int]:
    """The argument of a macro that starts at ``text[index]`` (spaces skipped): a ``{…}`` group's
    inside, or one character; and the index after it."""
    while index < len(text) and text[index].isspace():
        index += 1
    if index >= len(text) or text[index] != "{":
        return text[index : index + 1], index + 1
    depth, start = 0, index
    for end in range(index, len(text)):
        depth += {"{": 1, "}": -1}.get(text[end], 0)
        if depth == 0:
            return text[start + 1 : end], end + 1
    return text[start + 1 :], len(text)


def _enclosing_group(text: str, index: int) -> tuple[int, int]:
    """The inside of the innermost ``{…}`` group around ``text[index]`` (the whole text if none)."""
    depth, start = 0, 0
    for back in range(index - 1, -1, -1):
        depth += {"}": 1, "{": -1}.get(text[back], 0)
        if depth < 0:
            start = back + 1
            break
    depth, end = 0, len(text)
    for forward in range(index, len(text)):
        depth += {"{": 1, "}": -1}.get(text[forward], 0)
        if depth < 0:
            end = forward
            break
    return start, end


FRACTION = re.compile(r"\\[dt]?frac(?![A-Za-z])")
PLAIN_DENOMINATOR = re.compile(r"\s*[+-]?\s*[0-9]*[1-9][0-9]*\s*")  # a nonzero integer literal
MAX_CHECKED_DENOMINATORS = 8


def symbolic_denominators(text: str) -> list[str]:
    """The denominators of the ``\\frac``s in ``text`` that are not plain nonzero integers (at
    most ``MAX_CHECKED_DENOMINATORS``): what ``math_worker`` checks for an undefined 0/0 that
    sympy would cancel as f/f before evaluating anything."""
    found = []
    for fraction in FRACTION.finditer(text):
        _, after = _braced_group(text, fraction.end())
        denominator = _braced_group(text, after)[0]
        if not PLAIN_DENOMINATOR.fullmatch(denominator):
            found.append(denominator)
            if len(found) == MAX_CHECKED_DENOMINATORS:
                break
    return found


POWER_BASE_TAIL = re.compile(r"(?:\\[A-Za-z]+|[0-9]*\.?[0-9]+|[A-Za-z])\s*$")  # \pi, 2.5, x before a ^
LEFT_RIGHT = re.compile(r"\\(?:left|right)(?![A-Za-z])")


def _power_base(text: str, caret: int) -> str:
    """The base of the power whose ``^`` is at ``text[caret]``: a bracketed group (``(…)``,
    ``[…]``, ``\\left(…\\right)``), a macro with its braced arguments (``\\frac{…}{…}``), a
    braced group, a number, a macro name or a letter; "" when none is found."""
    end = caret
    while end and text[end - 1].isspace():
        end -= 1
    if not end:
        return ""
    closer = text[end - 1]
    if closer in ")]}":
        opener = {")": "(", "]": "[", "}": "{"}[closer]
        depth, start = 0, -1
        for back in range(end - 1, -1, -1):
            depth += {closer: 1, opener: -1}.get(text[back], 0)
            if depth == 0:
                start = back
                break
        if start < 0:
            return ""
        if closer == "}":  # a macro's last argument: take the macro and its other arguments
            while start and text[start - 1] == "}":
                depth = 0
                for back in range(start - 1, -1, -1):
                    depth += {"}": 1, "{": -1}.get(text[back], 0)
                    if depth == 0:
                        start = back
                        break
                else:
                    break
            macro = re.search(r"\\[A-Za-z]+\s*$", text[:start])
            if macro:
                start = macro.start()
        return LEFT_RIGHT.sub(" ", text[start:end]).strip()
    tail = POWER_BASE_TAIL.search(text[:end])
    return tail.group().strip() if tail else ""


def vanishing_power_bases(text: str) -> list[str]:
    """The bases, other than nonzero integer literals, of the powers in ``text`` whose exponent
    reads as a rational ≤ 0 (at most ``MAX_CHECKED_DENOMINATORS``): sympy evaluates 0^0 to 1 and
    cancels f·f^{-1} as it builds the product, so the gold times 0^{0} or (\\log 1)^{0} read as
    the gold (red team S10-G1); ``math_worker`` checks each base as it checks a denominator."""
    found = []
    for caret in re.finditer(r"\^", text):
        exponent = _braced_group(text, caret.end())[0]
        reading = native_reading(exponent)
        exact = getattr(getattr(reading, "body", None), "value", None)  # Answer → Scalar → Exact
        value = exact.rational_value() if isinstance(exact, math_answers.Exact) else None
        if not isinstance(value, Fraction) or value > 0:
            continue
        base = _power_base(text, caret.start())
        if base and not PLAIN_DENOMINATOR.fullmatch(base):
            found.append(base)
            if len(found) == MAX_CHECKED_DENOMINATORS:
                break
    return found


def _parenthesised(text: str, index: int) -> str:
    """The inside of the ``(…)`` group that opens at ``text[index]``, else ``_braced_group``'s argument."""
    if not text.startswith("(", index):
        return _braced_group(text, index)[0]
    depth = 0
    for end in range(index, len(text)):
        depth += {"(": 1, ")": -1}.get(text[end], 0)
        if depth == 0:
            return text[index + 1 : end]
    return text[index + 1 :]


def binomial_arguments(text: str) -> list[list[str]]:
    """The arguments of every ``\\binom``/``\\dbinom``/``\\tbinom`` and ``{n \\choose k}`` (two
    each) and every ``\\Gamma(…)`` (one) in ``text``."""
    groups = []
    for found in BINOMIAL.finditer(text):
        if found.group().endswith("choose"):
            start, end = _enclosing_group(text, found.start())
            groups.append([text[start : found.start()], text[found.end() : end]])
        else:
            top, after = _braced_group(text, found.end())
            groups.append([top, _braced_group(text, after)[0]])
    groups += [[_parenthesised(text, found.end())] for found in GAMMA.finditer(text)]  # Γ(n) = (n - 1)!
    return groups


#: digits of MAX_FACTORIAL! (1 135): the largest factorial the native reader evaluates
MAX_VALUE_DIGITS = math.lgamma(math_answers.MAX_FACTORIAL + 1) / math.log(10)


LETTER = re.compile(r"(?<![\\A-Za-z])[A-Za-z](?![A-Za-z])")  # a one-letter symbol, not part of a command


def _argument_size(argument: str) -> Fraction | None:
    """A binomial's or Γ's argument read alone by the native reader, every one-letter symbol
    taken as 2 (what a symbolic argument adds to the size of what sympy may expand); None when
    it cannot be read as one rational number (an irrational or a disguised number)."""
    reading = native_reading(LETTER.sub("(2)", argument))
    exact = getattr(getattr(reading, "body", None), "value", None)  # Answer → Scalar → Exact
    value = exact.rational_value() if isinstance(exact, math_answers.Exact) else None
    return value if isinstance(value, Fraction) else None


def _too_large(arguments: list[str]) -> bool:
    """Whether C(n, k) (two arguments) or Γ(x) (one) may be too large to evaluate: with integer
    0 ≤ k ≤ n and no symbol, a value of more digits than ``MAX_FACTORIAL``! (C(1000, 2) is
    fine, C(10^6, 5·10^5) is not); otherwise (symbols, negative or fractional arguments, Γ) an
    argument of magnitude above ``MAX_FACTORIAL`` (sympy expands binomial(x, k) into a
    polynomial of degree k, and Γ(x + c) into c factors); an argument that cannot be read as a
    number at all when it is built with products, powers, factorials, fractions or binomials,
    or its integers add up past ``MAX_FACTORIAL``."""
    sizes = [_argument_size(argument) for argument in arguments]
    for argument, size in zip(arguments, sizes):
        if size is None and (
            GROWING_ARGUMENT.search(argument)
            or sum(int(digits) for digits in re.findall(r"[0-9]+", argument)) > math_answers.MAX_FACTORIAL
        ):
            return True
    if any(size is None for size in sizes):
        return False
    symbolic = any(LETTER.search(argument) for argument in arguments)
    if len(sizes) == 2 and not symbolic and all(size.denominator == 1 for size in sizes) and 0 <= sizes[1] <= sizes[0]:
        n, k = (float(size) for size in sizes)
        digits = (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)) / math.log(10)
        return digits > MAX_VALUE_DIGITS
    return any(abs(size) > math_answers.MAX_FACTORIAL + 1 for size in sizes)


def large_binomial(text: str) -> bool:
    """Whether a binomial coefficient or Γ in ``text`` may be too large to evaluate
    (``_too_large``; spacing macros between a macro and its arguments are ignored): C(10^6,
    5·10^5) held a worker for its whole deadline (red team S10-G8), and so did Γ(10^6),
    C(−10^6, 5·10^5), binomial(x, 500000) and Γ(x + 10^6) (S10b-B8/B9)."""
    text = _LAYOUT_NOISE.sub("", text)
    return any(_too_large(arguments) for arguments in binomial_arguments(text))


MAX_ROUNDING_NESTING = 3  # \lceil / \lfloor inside one another: the deepest MATH-500 gold answer has 1
ROUNDING_OPEN = re.compile(r"\\(?:lceil|lfloor)(?![A-Za-z])")
ROUNDING_CLOSE = re.compile(r"\\(?:rceil|rfloor)(?![A-Za-z])")
# Functions whose argument is an exponent in disguise (exp x = e^x, cosh x = (e^x + e^{-x})/2)
EXPONENTIAL_MACRO = re.compile(r"\\(?:exp|sinh|cosh|tanh)(?![A-Za-z])\s*(?:\\left\s*)?")
FUNCTION_ARGUMENT = re.compile(f"(?:{FUNCTION_MACRO.pattern})" + r"\s*(?:\\left\s*)?")  # \sin(…), \log{…}
# The native reader's reasons for a value too large to write down (math_answers: powers,
# roots, factorials)
SIZE_REASON = re.compile(r"too large|above")


def rounding_depth(text: str) -> int:
    """The deepest nesting of ``\\lceil … \\rceil`` / ``\\lfloor … \\rfloor`` in ``text``."""
    depth = deepest = 0
    for found in re.finditer(rf"{ROUNDING_OPEN.pattern}|{ROUNDING_CLOSE.pattern}", text):
        depth += 1 if found.group().startswith(("\\lceil", "\\lfloor")) else -1
        deepest = max(deepest, depth)
    return deepest


def rounding_as_brackets(text: str) -> str:
    """``text`` with ``\\lceil``/``\\lfloor`` and their closers read as round brackets: the
    value changes by less than 1, so its size is what the native reader then measures."""
    return ROUNDING_CLOSE.sub(") ", ROUNDING_OPEN.sub(" (", LEFT_RIGHT.sub(" ", text)))


def exponent_too_large(exponent: str) -> bool:
    """Whether an exponent (of ``^``, or the argument of ``\\exp``, ``\\cosh``…) may be larger in
    magnitude than ``math_answers.MAX_POWER`` (4 096): read by the native reader (rounding as
    brackets), too large when that reading is refused for its size, or its double-precision
    value (variables at math_formulas' fixed points) exceeds the bound or overflows; an
    exponent it cannot read is too large when it is built with products, powers, factorials,
    fractions or binomials (``GROWING_ARGUMENT``), else taken as small."""
    reading = native_reading(rounding_as_brackets(exponent))
    if isinstance(reading, math_answers.Invalid):
        return bool(SIZE_REASON.search(str(reading)))
    body = getattr(reading, "body", None)
    if isinstance(body, math_answers.Scalar) and body.infinite:
        return True
    if isinstance(body, (math_answers.Scalar, math_formulas.Formula)):
        try:
            rows = math_formulas.evaluate_all([math_formulas.node_of(body)], 1)
        except math_formulas.Undecided as error:  # overflow, or a node it cannot evaluate
            return str(error) in ("not finite", "evaluation failed")
        except math_answers.NotNative:  # the formula budget is spent: judge by the text
            return bool(GROWING_ARGUMENT.search(exponent))
        return abs(rows[0][0][0]) > math_answers.MAX_POWER
    return not isinstance(reading, math_answers.Answer) and bool(GROWING_ARGUMENT.search(exponent))


def factorial_too_large(operand: str) -> bool:
    """Whether the operand of a ``!`` may exceed ``math_answers.MAX_FACTORIAL``: its native
    reading (rounding as brackets) is refused for its size or is a number above the bound, or
    it cannot be read and is built with products, powers, factorials, fractions or binomials."""
    reading = native_reading(rounding_as_brackets(operand))
    if isinstance(reading, math_answers.Invalid):
        return bool(SIZE_REASON.search(str(reading)))
    exact = getattr(getattr(reading, "body", None), "value", None)  # Answer → Scalar → Exact
    value = exact.rational_value() if isinstance(exact, math_answers.Exact) else None
    if isinstance(value, Fraction):
        return abs(value) > math_answers.MAX_FACTORIAL
    return not isinstance(reading, math_answers.Answer) and bool(GROWING_ARGUMENT.search(operand))


def too_large_to_evaluate(text: str) -> str | None:
    """Why ``text`` may hold a value too large to evaluate in time, or None: ``\\lceil``/``\\lfloor``
    nested more than ``MAX_ROUNDING_NESTING`` deep (math-verify's time grows about sixfold per
    level), an exponent anywhere — inside a function's argument, or an exponent's own exponent —
    that ``exponent_too_large`` finds too large, the operand of a ``!`` that
    ``factorial_too_large`` finds too large, or a power, root or factorial the native reader
    refuses for its size in a function's argument or, rounding read as brackets, in the whole.
    The whole-answer reading alone saw none of these inside ``\\lceil``, ``\\log``, ``\\sin``…:
    ``\\lceil 3^{3^{3^{3}}} \\rceil`` and nested ``\\lceil`` held a worker its whole deadline (red team S14-B3)."""
    if rounding_depth(text) > MAX_ROUNDING_NESTING:
        return f"\\lceil/\\lfloor nested more than {MAX_ROUNDING_NESTING} deep"
    for caret in re.finditer(r"\^", text):
        if exponent_too_large(_braced_group(text, caret.end())[0]):
            return f"a power with an exponent beyond {math_answers.MAX_POWER} (too large to evaluate)"
    for function in EXPONENTIAL_MACRO.finditer(text):
        if exponent_too_large(_parenthesised(text, function.end())):
            return f"an exponential of an argument beyond {math_answers.MAX_POWER} (too large to evaluate)"
    for bang in re.finditer(r"(?<!\\)!", text):  # not the spacing macro \!
        if factorial_too_large(_power_base(text, bang.start())):
            return f"a factorial beyond {math_answers.MAX_FACTORIAL}! (too large to evaluate)"
    for function in FUNCTION_ARGUMENT.finditer(text):
        reading = native_reading(rounding_as_brackets(_parenthesised(text, function.end())))
        if isinstance(reading, math_answers.Invalid) and SIZE_REASON.search(str(reading)):
            return f"a function of a value too large to evaluate: {reading}"
    if ROUNDING_OPEN.search(text):
        reading = native_reading(rounding_as_brackets(text))
        if isinstance(reading, math_answers.Invalid) and SIZE_REASON.search(str(reading)):
            return f"a value too large to evaluate: {reading}"
    return None


def nesting_depth(text: str) -> int:
    """The deepest bracket nesting of ``text`` ((), [], {})."""
    depth = deepest = 0
    for char in text:
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth -= 1
    return deepest


def answer_elements(text: str, form: str) -> list[str]:
    """The elements of a set or tuple answer: ``\\{1, 2\\}`` → ["1", "2"]."""
    return split_top_level(strip_brackets(text, SET_BRACKETS if form == "set" else TUPLE_BRACKETS))


_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")


def value_count(text: str) -> int:
    """How many comma-separated values ``text`` holds at top level (``1,000`` is one)."""
    compact = _LAYOUT_NOISE.sub("", text).replace("{,}", ",")
    if _THOUSANDS.fullmatch(re.sub(r"^\\?\$", "", compact.strip("$"))):  # \$16,\!386.20: one amount
        return 1
    return len(split_top_level(compact))


def gold_spec(task: Task) -> dict:
    answer = task.answer
    if isinstance(answer, str):
        return {"gold": unescape_twice(answer), "form": "any"}
    if not isinstance(answer, dict) or not isinstance(answer.get("gold"), str):
        raise ValueError("task.answer must be a dict with a 'gold' LaTeX string")
    spec = dict(answer)
    spec.setdefault("form", "any")
    if spec["form"] not in SYNTHETIC_FORMS + ("any",):
        raise ValueError(f"unknown answer form {spec['form']!r}")
    if spec["form"] == "any":  # dataset golds: some files escape their LaTeX twice
        spec["gold"] = unescape_twice(spec["gold"])
    return spec


# --------------------------------------------------------------------------------------------
# Judging without sympy (shared by the caller and the worker)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Screened:
    """The outcome of the cheap checks: a final verdict, or what the worker must judge (the
    answer's value and the gold's, labels dropped)."""

    verdict: Verdict | None
    candidate: str
    gold: str = ""
    prose: bool = False  # free text: the worker finds the final expression in it, then screens that


def short(text: str, limit: int = REASON_MAX_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def verdict_for(spec: dict, answer: str, path: str, correct: bool, reason: str, format_ok: bool = True) -> Verdict:
    details = {"answer": answer[:ANSWER_PREVIEW_CHARS], "path": path, "form": spec["form"]}
    if correct:
        return Verdict.success(short(reason), **details)
    return Verdict.fail(short(reason), format_ok=format_ok, **details)


def screen_answer(spec: dict, answer: str) -> Screened:
    """Hedges, hidden text, restated operators, labels, forms and the exact fast path;
    ``verdict=None`` means: ask the worker. All formula work of one answer shares one time
    budget (math_formulas.BUDGET_S)."""
    with math_formulas.budget():
        return screen_within_budget(spec, answer)


def screen_within_budget(spec: dict, answer: str) -> Screened:
    gold, form = spec["gold"], spec["form"]

    def fail(reason: str, format_ok: bool = True) -> Screened:
        return Screened(verdict_for(spec, answer, "screen", False, reason, format_ok), answer)

    if nesting_depth(answer) > MAX_NESTING:
        return fail(f"the answer is nested more than {MAX_NESTING} brackets deep", False)
    if radical_depth(answer) > MAX_RADICAL_NESTING:  # math-verify's time grows steeply (red team S9-F7)
        return fail(f"the answer nests radicals more than {MAX_RADICAL_NESTING} deep", False)
    if large_binomial(answer):
        return fail(f"a binomial coefficient or Γ beyond {math_answers.MAX_FACTORIAL}! (too large to evaluate)", False)
    if HIDING_MACROS.search(answer) and not HIDING_MACROS.search(gold):
        return fail("the answer uses a macro that defines, hides or colours text", False)
    if form == "any" and is_prose(answer):
        stated, hedged = stated_answer(answer)
        if hedged:
            return fail("the stated final answer hedges or denies", False)
        if stated is None:
            stated = lone_maths_span(answer)
        if stated is not None:  # "… The final answer is $14{,}916$. I hope it is correct."
            return screen_answer(spec, stated)
        if DENIED_FINAL_VALUE.search(
            last_sentence(answer)[-DENIAL_WINDOW:]
        ):  # "It is not $3$.": what math-verify would find is denied
            return fail("the final value is denied", False)
    if looks_hedged(answer) and not looks_hedged(gold):
        return fail("the answer hedges between alternatives", False)
    if form == "any" and is_prose(answer):
        return Screened(None, answer, gold, prose=True)
    if len(answer) > MAX_ANSWER_CHARS:
        return fail(f"the final answer is too long ({len(answer)} characters; at most {MAX_ANSWER_CHARS})", False)
    functions = len(FUNCTION_MACRO.findall(answer))
    if functions > max(MAX_FUNCTIONS, 2 * len(FUNCTION_MACRO.findall(gold))):
        return fail(f"the answer applies {functions} functions (at most {MAX_FUNCTIONS} are read)", False)
    oversized = too_large_to_evaluate(answer)  # after the function count: it reads each function's argument
    if oversized and not too_large_to_evaluate(gold):
        return fail(oversized, False)
    if RESTATED_OPERATORS.search(answer) and not RESTATED_OPERATORS.search(gold):
        return fail("the answer restates an integral, sum, limit or derivative instead of evaluating it")
    if form == "any" and restates_problem(spec, answer):
        return fail("the answer restates an expression of the problem instead of answering it")
    if form == "any" and unevaluated(spec, answer):
        return fail("the answer still computes on numbers where a number is asked for: evaluate it")
    unread = unread_constructs(answer) - unread_constructs(gold)
    if unread:
        return fail(f"the answer uses {min(unread)[:20]}, which does not join values into one answer")
    invalid = native_reading(unlabel(answer, None)[1])
    if isinstance(invalid, math_answers.Invalid):  # 4 4, 10^{10^{10}}: no process needed to say no
        return Screened(
            verdict_for(spec, answer, "native", False, f"not a well-formed answer: {invalid}", False), answer
        )
    if form == "any":
        return screen_any(spec, answer)
    if form in ("set", "tuple"):
        return screen_elements(spec, answer)
    _, value, problem = unlabel(answer, allowed_labels(spec))
    if problem:
        return fail(problem)
    if "'" in value:
        return Screened(
            verdict_for(spec, answer, "screen", False, "the answer still contains derivative notation (a prime)"), value
        )
    if form == "number":
        return screen_number(spec, answer, value)
    return Screened(None, value, gold)


PROMPT_SPAN = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\[(.+?)\\\]|\\\((.+?)\\\)", re.DOTALL)
MAX_PROMPT_SPANS = 256  # maths spans of one prompt remembered for the restatement screen
MAX_RESTATED_CHARS = 400  # longer spans are not remembered (the longest MATH-500 gold has 53 characters)


def restatement_key(text: str) -> str:
    """``text`` as compared with the problem's maths: no layout, ``\\left``/``\\right``, ``$``,
    trailing punctuation or braces around one character (``\\dfrac{1}{2}`` = ``\\frac12``,
    ``\\dbinom`` = ``\\binom``)."""
    s = _LAYOUT_NOISE.sub("", LEFT_RIGHT.sub(" ", text)).strip("$").rstrip(".,;:")
    s = re.sub(r"\\[dt](frac|binom)(?![A-Za-z])", r"\\\1", s)
    s = re.sub(r"\{(\\?[A-Za-z0-9])\}", r"\1", s)
    while s.startswith("{") and s.endswith("}") and balanced(s[1:-1]):
        s = s[1:-1]
    return s


@functools.lru_cache(maxsize=1024)
def problem_expressions(prompt: str) -> tuple[str, ...]:
    """The ``restatement_key`` of every maths span of a problem (``$…$``, ``$$…$$``, ``\\(…\\)``,
    ``\\[…\\]``; an escaped ``\\$`` is money) and of each side of an equation in one (``x =
    99^2 + 99 + 1``), for ``restates_problem``."""
    keys = set()
    for found in PROMPT_SPAN.finditer(prompt.replace("\\$", " ")):
        span = next(group for group in found.groups() if group is not None)
        if len(span) > MAX_RESTATED_CHARS:
            continue
        sides = split_relation(span)
        keys.update(restatement_key(part) for part in [span] + (sides if len(sides) > 1 else []))
        if len(keys) >= MAX_PROMPT_SPANS:
            break
    keys.discard("")
    return tuple(sorted(keys))


# A span that holds a computation (an operator or a macro that builds a value), long enough
# not to be one symbol: found inside an answer, it is the problem's expression decorated
COMPUTATION = re.compile(r"[-+*/^!]|\\(?:frac|binom|sqrt|cdot|times|div|log|ln|sin|cos|tan|lceil|lfloor)(?![A-Za-z])")
MIN_EMBEDDED_SPAN = 5


# One token of maths for ``restatement_tokens``: a macro or one other character (a digit
# alone: ``restatement_key`` writes \frac{9}{2} as \frac92); brackets, braces, "+" and the
# signs of multiplication are not tokens (moving terms moves and adds "+", and a product may be
# written with no sign at all)
RESTATEMENT_TOKEN = re.compile(r"\\[A-Za-z]+|[^\s{}()\[\]+]")
SAME_TOKEN = {
    "\\times": "",
    "\\cdot": "",
    "\\ast": "",
    "*": "",
    "\u00d7": "",  # ×
    "\u22c5": "",  # ⋅
    "\u00b7": "",  # ·
    "\u2217": "",  # ∗
    "\\div": "/",
    "\u00f7": "/",  # ÷
    "\\frac": "/",
    "\\dfrac": "/",
    "\\tfrac": "/",
    "\u2212": "-",  # the minus sign
    "\\dbinom": "\\binom",
    "\\tbinom": "\\binom",
}
# Arithmetic on written numbers (a sign, root, binomial or factorial applied to digits): an
# answer holding it is not evaluated, where the gold is a plain number
NUMBER_ARITHMETIC = re.compile(
    r"[\d)}]\s*(?:[-+*^\u00d7\u22c5\u00b7\u2217\u2212\u00f7!]|\\(?:cdot|times|div|ast)(?![A-Za-z]))"
    r"\s*[{(]*\s*(?:\d|\\[dt]?frac|\\sqrt)"
    r"|\\(?:sqrt|d?binom|tbinom)\s*[\[{]?\s*\d|\d\s*!"
)


@functools.lru_cache(maxsize=4096)
def restatement_tokens(key: str) -> frozenset:
    """The tokens of a ``restatement_key`` as a multiset (``frozenset`` of (token, count)),
    so that reordered terms and factors (``1+99+99^2`` = ``99^2+99+1``, ``(1+2i)6-3i`` =
    ``6(1+2i)-3i``), products with any sign or none, and the other spellings of − and ÷
    (``SAME_TOKEN``: ``\\div``, ``÷``, ``/`` and ``\\frac``, so ``(a)/(b)`` = ``\\frac{a}{b}``)
    compare equal."""
    counts: dict[str, int] = {}
    for token in RESTATEMENT_TOKEN.findall(key):
        token = SAME_TOKEN.get(token, token)
        if token:
            counts[token] = counts.get(token, 0) + 1
    return frozenset(counts.items())


def unevaluated(spec: dict, answer: str) -> bool:
    """Whether a dataset answer computes on written numbers (``NUMBER_ARITHMETIC``: ``9801+99+1``,
    ``99^2+100``, ``(100-1)^2``, ``\\sqrt{16}``, ``5!``) where the gold is a plain number and the
    problem shows maths that computes (``COMPUTATION``): partly evaluating the problem's own
    expression scored on 32 of 500 MATH-500 rows (second pass, session 15). A plain number in
    any spelling (``1/2``, ``\\frac12``, ``0.5``, ``-3``, ``2\\frac12``) stays an answer."""
    gold = unlabel(spec["gold"], None)[1]
    if parse_plain_number(gold) is None or NUMBER_ARITHMETIC.search(gold):
        return False
    if not any(COMPUTATION.search(span) for span in spec.get("restated") or ()):
        return False
    value = unlabel(answer, None)[1]
    return parse_plain_number(value) is None and NUMBER_ARITHMETIC.search(value) is not None


def _holds(tokens: frozenset, part: frozenset) -> bool:
    """Whether multiset ``tokens`` holds multiset ``part``."""
    have = dict(tokens)
    return all(have.get(token, 0) >= count for token, count in part)


def restates_problem(spec: dict, answer: str) -> bool:
    """Whether a dataset answer is the problem's own maths rather than the gold written some
    way: its ``restatement_key`` is that of a span or of one side of an equation in one
    (``problem_expressions``), or holds one that computes something (``COMPUTATION``, at least
    ``MIN_EMBEDDED_SPAN`` characters: ``(99^2+99+1)``, ``99^2+99+1+0``, ``1\\cdot\\binom{31}{28}``),
    each also as multisets of ``restatement_tokens`` (for a span that computes something), so
    reordering its terms or factors or respelling × and ÷ is a restatement too. Boxing
    ``99^2+99+1`` for 9901, ``\\sqrt{242}`` for ``11\\sqrt2`` or the expanded product for a
    factorisation scored 1 on 31 of 500 MATH-500 rows, since form "any" compares values (red
    team S14-B4); after that screen, the reordered or respelt span still scored on 16 (session
    15). What the gold itself holds (its text, its value, a side of it) is exempt."""
    restated = spec.get("restated")
    if not restated:
        return False
    keys = {restatement_key(answer), restatement_key(unlabel(answer, None)[1])}
    gold = spec["gold"]
    gold_keys = {restatement_key(part) for part in [gold, unlabel(gold, None)[1]] + split_relation(gold)}
    if keys & gold_keys:
        return False
    if keys & set(restated):
        return True
    answers = [(key, restatement_tokens(key)) for key in keys]
    golds = [(key, restatement_tokens(key)) for key in gold_keys]
    if {tokens for _, tokens in answers} & {tokens for _, tokens in golds}:
        return False
    for span in restated:
        if not COMPUTATION.search(span):
            continue
        span_tokens = restatement_tokens(span)
        if any(tokens == span_tokens for _, tokens in answers):
            return True
        if (
            len(span) >= MIN_EMBEDDED_SPAN
            and any(span in key or _holds(tokens, span_tokens) for key, tokens in answers)
            and not any(span in key or _holds(tokens, span_tokens) for key, tokens in golds)
        ):
            return True
    return False


def unread_constructs(text: str) -> set[str]:
    """The UNREAD_CONSTRUCTS in ``text`` (a leading ``x \\in`` names the set that follows; an odd
    number of bars, ``|`` or ``\\|``, is one: ``19 | 18``)."""
    found = {
        match.group(0).strip()
        for match in UNREAD_CONSTRUCTS.finditer(re.sub(r"^\s*[A-Za-z]\s*\\in(?![A-Za-z])", "", text))
    }
    for bar in ("|", "\\|"):  # bars come in pairs: |x|, \|v\|
        if len(re.findall(r"(?<!\\)" + re.escape(bar), text)) % 2:
            found.add(bar)
    return found


def screen_any(spec: dict, answer: str) -> Screened:
    """Dataset answers: labels must be names (and the gold's own name when it has one), a
    single-valued gold takes a single value, plain numbers are compared here."""
    options = math_answers.Options(spec.get("ordered", False), spec.get("tolerance"), spec.get("units", "ignore"))
    exact, approximately, rounded = spec["gold"].partition("\\approx")
    if approximately and "\\approx" not in rounded and parse_plain_number(rounded) is not None:
        if isinstance(native_reading(exact.strip()), math_answers.Answer):  # \frac{\sqrt{3}}{3} \approx 0.577
            spec = {**spec, "gold": exact.strip()}
    gold_named = values_of_one_name(spec["gold"])
    if gold_named is not None:  # p = -1 \text{ and } p = \frac{15}{8}: the values of p
        answer_named = values_of_one_name(answer)
        if answer_named is not None and answer_named[0] != gold_named[0]:
            reason = f"the answer is labelled {answer_named[0][:40]!r}; the gold answer is {gold_named[0][:40]!r}"
            return Screened(verdict_for(spec, answer, "screen", False, reason), answer)
        if answer_named is not None:
            answer = ", ".join(answer_named[1])
        spec = {**spec, "gold": ", ".join(gold_named[1])}
    gold_solutions = labelled_solutions(spec["gold"])
    answer_solutions = labelled_solutions(answer) if gold_solutions is not None else None
    if answer_solutions is not None:
        correct = same_solutions(gold_solutions, answer_solutions, options)
        if correct is not None:
            return Screened(
                verdict_for(
                    spec, answer, "native", correct, "correct" if correct else "incorrect: not the gold solutions"
                ),
                answer,
            )
    elif gold_solutions is not None and "=" not in answer:  # x = -5, p = 14/3 answered -5, 14/3
        correct = solutions_in_order(gold_solutions, answer, options)
        if correct is not None:
            return Screened(
                verdict_for(
                    spec, answer, "native", correct, "correct" if correct else "incorrect: not the gold values in order"
                ),
                answer,
            )
    gold = separated(spec["gold"])
    gold_parts = split_relation(gold)
    gold_label, gold_value = None, gold
    if len(gold_parts) == 2 and label_of(gold_parts[0]) is not None:
        gold_label, gold_value = label_of(gold_parts[0]), gold_parts[1]
    elif len(gold_parts) == 2 and named_quantity(*gold_parts):  # \frac{NO}{BO} = \frac{1}{\sqrt{6}}
        gold_label, gold_value = named_quantity(*gold_parts), gold_parts[1]
    whole = split_relation(answer)
    if len(whole) > 2 and len(gold_parts) <= 2:  # x = 5 = 3 (and x = x = … = 1 for an equation gold)
        return Screened(verdict_for(spec, answer, "screen", False, "a chain of equations is not one answer"), answer)
    if (
        len(whole) == 2
        and gold_label is not None
        and label_of(whole[0]) is None
        and re.sub(r"[\s{}]", "", whole[0]) == gold_label
    ):
        answer = whole[1]  # the gold's own quantity named on the left
    elif len(whole) == 2 and label_of(whole[0]) is not None and (len(gold_parts) == 1 or gold_label is not None):
        if gold_label is not None and label_of(whole[0]) != gold_label:
            reason = f"the answer is labelled {label_of(whole[0])[:40]!r}; the gold answer is {gold_label[:40]!r}"
            return Screened(verdict_for(spec, answer, "screen", False, reason), answer)
        answer = whole[1]  # (x, y) = (5, 8), (8, 5): one name for the whole answer
    elements = split_top_level(answer)
    value = answer
    if len(gold_parts) == 1 or gold_label is not None:  # the gold is a value, not an equation to match
        problems = [unlabel(element, None)[2] for element in elements]
        problem = next((p for p in problems if p), None)
        if problem:
            return Screened(verdict_for(spec, answer, "screen", False, problem), answer)
        if len(elements) == 1:
            label, value, _ = unlabel(answer, None)
            if gold_label is not None and label is not None and label != gold_label:
                reason = f"the answer is labelled {label[:40]!r}; the gold answer is {gold_label[:40]!r}"
                return Screened(verdict_for(spec, answer, "screen", False, reason), answer)
    if " ".join(value.split()) == " ".join(gold_value.split()):  # "58, 500" is not "58,500"
        return Screened(
            verdict_for(spec, answer, "native", True, "correct (the gold answer as written)"), value, gold_value
        )
    if single_valued(gold_value):
        if value_count(value) > 1:
            return Screened(
                verdict_for(spec, answer, "screen", False, "several values where the gold answer has one"), answer
            )
    gold_reading, answer_reading = native_reading(gold_value), native_reading(value)
    if isinstance(answer_reading, math_answers.Invalid):
        return Screened(
            verdict_for(spec, answer, "native", False, f"not a well-formed answer: {answer_reading}", False), value
        )
    if isinstance(gold_reading, math_answers.Answer) and isinstance(answer_reading, math_answers.Answer):
        try:
            correct = math_answers.equivalent(gold_reading, answer_reading, options)
        except math_answers.NotNative:  # e.g. a tolerance asked of a value with a variable in it
            return Screened(None, value, gold_value)
        return Screened(
            verdict_for(
                spec, answer, "native", correct, "correct" if correct else "incorrect: not equal to the gold answer"
            ),
            value,
            gold_value,
        )
    gold_number, answer_number = parse_plain_number(gold_value), parse_plain_number(value)
    if gold_number is None or answer_number is None:
        return Screened(None, value, gold_value)
    correct = numbers_agree(gold_number, answer_number, spec.get("tolerance"))
    return Screened(
        verdict_for(spec, answer, "fast", correct, "correct" if correct else "incorrect: a different number"),
        value,
        gold_value,
    )


def ordered_items(spec: dict) -> list[str] | None:
    """With ``ordered``, a dataset gold that is a bare list (``10, 4, -2``: several values, no
    brackets around them; not prose) as its elements in order, which the worker then compares
    one by one (math-verify reads a bare list as a set); None otherwise."""
    if not spec.get("ordered") or spec["form"] != "any" or is_prose(spec["gold"]):
        return None
    gold = spec["gold"]
    reading = native_reading(gold)
    if isinstance(reading, math_answers.Answer):
        body = reading.body
        bare = isinstance(body, math_answers.Sequence) and not body.left and len(body.items) > 1
    else:
        bare = value_count(gold) > 1 and strip_brackets(gold, SET_BRACKETS + TUPLE_BRACKETS) == gold.strip()
    return split_top_level(_LAYOUT_NOISE.sub(" ", gold).replace("{,}", ",")) if bare else None


def answer_items(spec: dict, answer: str) -> list[str]:
    """An answer's elements to compare in order with ``ordered_items``: a bare list, or a
    bracketed one (``(10, 4, -2)``, as the native reader takes it) unless the gold has two
    values (``(1, 2)`` is a point or an interval, not the list ``1, 2``)."""
    items = split_top_level(_LAYOUT_NOISE.sub(" ", answer).replace("{,}", ","))
    if len(items) == 1 and len(ordered_items(spec) or ()) != 2:
        inside = strip_brackets(items[0], TUPLE_BRACKETS)
        if inside != items[0]:
            items = split_top_level(inside)
    return items


UNIT_TEXT = re.compile(r"\\(?:text|textnormal|mbox|mathrm|textrm|textbf|textit|operatorname)\s*\{([^{}]*)\}")


TRAILING_UNIT_TEXT = re.compile(rf"(?:{UNIT_TEXT.pattern})\s*(?:\^\s*\{{?\s*[23]\s*\}}?)?\s*$")


def written_unit(text: str) -> tuple[str, str]:
    """(value, unit) as the native reader splits them (``math_answers.split_unit``), rounding
    read as brackets; a value it does not split that ends in ``\\text{…}`` (``\\max(9, 10)
    \\text{ cm}``) has that text as its unit."""
    s = math_answers.normalise(rounding_as_brackets(text))
    value, unit = math_answers.split_unit(s)
    trailing = TRAILING_UNIT_TEXT.search(s) if not unit else None
    if trailing and s[: trailing.start()].strip():  # \text{Evelyn} alone is a word, not a unit
        value, unit = s[: trailing.start()].strip(), re.sub(r"\s+", "", UNIT_TEXT.sub(r"\1", trailing.group())).lower()
    return value, unit


def unit_problem(spec: dict, answer: str) -> str | None:
    """With ``units="strict"``, why an answer the worker judges (math-verify ignores units) does
    not carry the gold's unit: its trailing unit (``math_answers.split_unit``) differs, or its
    value holds words in ``\\text{…}`` the gold's value lacks (a unit hidden inside); None when it
    agrees, units are ignored or the gold is prose."""
    if spec.get("units") != "strict" or spec["form"] != "any" or is_prose(spec["gold"]):
        return None
    gold_value, gold_unit = written_unit(spec["gold"])
    value, unit = written_unit(answer)
    if unit != gold_unit:
        return f"the unit {unit or '(none)'!r} is not the gold's {gold_unit or '(none)'!r} (units are strict)"

    def words(text: str) -> list[str]:
        return sorted(w.lower() for inside in UNIT_TEXT.findall(text) for w in re.findall(r"[A-Za-z]+", inside))

    if words(value) != words(gold_value):
        return "the answer holds unit text the gold answer lacks (units are strict)"
    return None


def named_quantity(left: str, right: str) -> str | None:
    r"""The left side of a dataset gold ``\frac{NO}{BO} = \frac{1}{\sqrt{6}}`` that names a
    quantity — a product or quotient of letters, coefficient 1 — whose value, a constant, is on
    the right (braces and spaces dropped); None for an equation to solve (``a + 3z = 0``,
    ``2x = 1``, ``7 = 11a + c``)."""
    quantity, value = native_reading(left), native_reading(right)
    if ":" in left and all(label_of(part) for part in left.split(":")):  # S_{MBCN}:S = 7:32, A:B = 1
        if isinstance(value, math_answers.Answer) and isinstance(value.body, (math_answers.Ratio, math_answers.Scalar)):
            return re.sub(r"[\s{}]", "", left)
        return None
    if not all(
        isinstance(r, math_answers.Answer) and isinstance(r.body, math_answers.Scalar) for r in (quantity, value)
    ):
        return None
    terms = quantity.body.value.terms
    if (
        len(terms) != 1
        or terms[0][1] != 1
        or terms[0][0][:4] != (0, 0, 0, 1)
        or not terms[0][0][4]
        or value.body.value.has_symbols()
    ):
        return None
    return re.sub(r"[\s{}]", "", left)


MAX_SOLUTIONS = 64  # solutions of a system compared pairwise: at most this many on a side
SOLUTION_SEPARATOR = re.compile(
    r"(?<!\s)\s*+(?:;|(?:\\quad\s*)?\\text\s*\{\s*(?:and|or)\s*\}(?:\s*\\quad)?"
    r"|(?<![A-Za-z\\])(?:and|or)(?![A-Za-z]))\s*"
)


def labelled_solutions(text: str) -> list[dict] | None:
    r"""The solutions of a system, each a set of named values: ``p = 5, q = 2 \quad \text{and}
    \quad p = 7, q = 2`` or ``p=5,q=2;p=7,q=2`` → [{p: 5, q: 2}, {p: 7, q: 2}]. None unless every
    element is ``name = value`` and every solution names at least two unknowns, each once."""
    if "=" not in text or len(text) > MAX_ANSWER_CHARS:
        return None
    solutions = []
    groups = SOLUTION_SEPARATOR.split(text)
    if len(groups) > MAX_SOLUTIONS:
        return None
    for group in groups:
        assignment = {}
        for element in split_top_level(group):
            parts = split_relation(re.sub(r"\\q?quad|\\[,;:! ]", " ", element))  # a_3 = 2, \quad a_{37} = 19
            name = label_of(parts[0]) if len(parts) == 2 else None
            if name is None or name in assignment or not parts[1]:
                return None
            assignment[name] = parts[1]
        if len(assignment) < 2:
            return None
        solutions.append(assignment)
    return solutions


def values_of_one_name(text: str) -> tuple[str, list[str]] | None:
    r"""``p = -1 \text{ and } p = \frac{15}{8}`` or ``p=-1,p=\frac{15}{8}``: (p, [-1, 15/8]) — several
    values, each given as ``name = value`` with one and the same name; None otherwise."""
    if "=" not in text or len(text) > MAX_ANSWER_CHARS:
        return None
    groups = SOLUTION_SEPARATOR.split(text)
    if len(groups) > MAX_SOLUTIONS:
        return None
    name, values = None, []
    for group in groups:
        for element in split_top_level(group):
            parts = split_relation(re.sub(r"\\q?quad|\\[,;:! ]", " ", element))
            label = label_of(parts[0]) if len(parts) == 2 else None
            if label is None or not parts[1] or name not in (None, label):
                return None
            name = label
            values.append(parts[1])
    return (name, values) if len(values) > 1 else None


def same_solutions(gold: list[dict], answer: list[dict], options: math_answers.Options) -> bool | None:
    """Equal sets of solutions (order and repeats aside), every value compared by the native
    grammar; None when some value is outside it."""
    readings = {}
    for value in {v for solution in gold + answer for v in solution.values()}:
        reading = native_reading(value)
        if not isinstance(reading, math_answers.Answer):
            return None
        readings[value] = reading

    def match(g: dict, a: dict) -> bool:
        return g.keys() == a.keys() and all(math_answers.equivalent(readings[g[k]], readings[a[k]], options) for k in g)

    try:
        return all(any(match(g, a) for g in gold) for a in answer) and all(
            any(match(g, a) for a in answer) for g in gold
        )
    except math_answers.NotNative:
        return None


def solutions_in_order(gold: list[dict], answer: str, options: math_answers.Options) -> bool | None:
    """Solutions given without their names, each in the order the gold names its unknowns: one
    solution as bare values (``-5, \\frac{14}{3}``), several as tuples (``(5,2),(7,2)`` for
    ``p=5,q=2;p=7,q=2``, in any order of the tuples); None outside the native grammar."""
    if len(gold) == 1:  # -5, \frac{14}{3} or one tuple (-5, \frac{14}{3})
        items = split_top_level(answer)
        if len(items) == 1 and items[0].startswith(("(", "\\left(")):
            items = split_top_level(strip_brackets(items[0], TUPLE_BRACKETS))
        return same_values_in_order(list(gold[0].values()), items, options)
    tuples = [strip_brackets(item, TUPLE_BRACKETS) for item in split_top_level(answer)]
    if len(tuples) > MAX_SOLUTIONS or not all(item.startswith(("(", "\\left(")) for item in split_top_level(answer)):
        return None
    verdicts = [
        [same_values_in_order(list(solution.values()), split_top_level(values), options) for values in tuples]
        for solution in gold
    ]
    if any(v is None for row in verdicts for v in row):
        return None
    return all(any(row) for row in verdicts) and all(any(row[j] for row in verdicts) for j in range(len(tuples)))


def same_values_in_order(gold: list[str], answer: list[str], options: math_answers.Options) -> bool | None:
    """The values of a gold that names each (``AB = 4, CD = 5``) given bare, in the gold's order;
    None when some value is outside the native grammar."""
    readings = [native_reading(value) for value in gold + answer]
    if not all(isinstance(r, math_answers.Answer) for r in readings):
        return None
    try:
        return len(gold) == len(answer) and all(
            math_answers.equivalent(g, a, options) for g, a in zip(readings[: len(gold)], readings[len(gold) :])
        )
    except math_answers.NotNative:
        return None


def native_reading(text: str):
    """The native grammar's reading of ``text`` (cached: gold answers repeat), or the
    NotNative / Invalid exception that says why there is none. A reading cut short by the
    formula time budget is NotNative and not cached."""
    try:
        return cached_reading(text)
    except math_formulas.OutOfTime as error:
        return error


@functools.lru_cache(maxsize=4096)
def cached_reading(text: str):
    try:
        return math_answers.parse(text)
    except math_formulas.OutOfTime:
        raise  # lru_cache keeps no exception: the next call reads again
    except (math_answers.NotNative, math_answers.Invalid) as error:
        return error
    except (RecursionError, ValueError, ZeroDivisionError, OverflowError) as error:
        return math_answers.NotNative(f"{type(error).__name__}")


def value_key(node, ordered: bool) -> str:
    """A native reading as text, equal for readings ``math_answers.same`` finds equal by exact
    value: scalars by their exact value (a rational as ``p/q``, anything else by its terms), sets, bare lists
    (unless ``ordered``) and unions by their distinct sorted elements (a one-element set is its element), bracketed
    lists in order with their brackets, matrices entry by entry, words lower-cased."""
    if isinstance(node, math_answers.Scalar):
        if node.infinite:
            return "+oo" if node.infinite > 0 else "-oo"
        rational = node.value.rational_value()
        return str(rational) if rational is not None else repr(node.value.terms)
    if isinstance(node, math_answers.Text):
        return f"word:{node.word}"
    if isinstance(node, math_formulas.Formula):  # a constant formula (\sin\frac{\pi}{6}) keys as its value
        constant = node.formal.constant() if node.formal is not None else None
        if constant is not None:
            return value_key(math_answers.Scalar(constant), ordered)
        return "formula:" + (node.formal.key() if node.formal is not None else repr(node.node))
    if isinstance(node, math_answers.Ratio):
        return "ratio:" + ":".join(value_key(part, ordered) for part in node.parts)
    if isinstance(node, math_answers.Matrix):
        return "matrix[" + ";".join(",".join(value_key(x, ordered) for x in row) for row in node.rows) + "]"
    if isinstance(node, math_answers.Union):
        return "union{" + ",".join(sorted({value_key(piece, ordered) for piece in node.pieces})) + "}"
    if isinstance(node, math_answers.SetOf) or (
        isinstance(node, math_answers.Sequence) and not node.left and not ordered
    ):
        items = sorted({value_key(x, ordered) for x in node.items})
        return items[0] if len(items) == 1 else "set{" + ",".join(items) + "}"
    if isinstance(node, math_answers.Sequence):
        return f"{node.left or 'list('}" + ",".join(value_key(x, ordered) for x in node.items) + f"{node.right or ')'}"
    return repr(node)


def unescape_twice(text: str) -> str:
    r"""LaTeX escaped twice (``\\frac{1}{2}``, ``\\begin{matrix} x \\\\ y \\end{matrix}``:
    JSON written from an already escaped string) read once: when every run of backslashes has
    even length and one pair stands before a letter, each run is halved. A single escape
    (``a \\ b``, a line break) has a pair before a space and stays as it is."""
    if "\\\\" not in text:
        return text
    runs = re.findall(r"\\+", text)
    if any(len(run) % 2 for run in runs) or not re.search(r"(?<!\\)\\\\[A-Za-z]", text):
        return text
    return re.sub(r"\\+", lambda run: run.group(0)[: len(run.group(0)) // 2], text)


def strip_delimiters(text: str) -> str:
    """``$x = 1$``, ``$$…$$``, ``\\(…\\)``, ``\\[…\\]`` around the whole answer → the maths inside."""
    s = text.strip()
    for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if (
            s.startswith(left)
            and s.endswith(right)
            and len(s) > len(left) + len(right)
            and left not in s[len(left) : -len(right)]
        ):
            return s[len(left) : -len(right)].strip()
    return s


def separated(text: str) -> str:
    """``6 \\text{ and } 8``, ``(11,7) or (7,11)`` → comma lists, when that gives several values."""
    joined = SEPARATOR_WORDS.sub(", ", text)
    return joined if joined != text and value_count(joined) > 1 else text


PROSE_WORD = re.compile(r"(?:^|(?<=[\s$(]))([A-Za-z]{3,})(?=[\s.,;:!?$)]|$)")
TEXT_COMMAND = re.compile(r"\\(?:text|textbf|textit|textnormal|mathrm|mbox|operatorname)\s*\{[^{}]*\}")


def is_prose(text: str) -> bool:
    """Free text rather than one expression: letters of a non-Latin script (Greek letters are
    maths), or a word that is no unit or separator next to anything else ("odd" alone is a
    one-word answer, "the answer is 5" is prose)."""
    if any(char.isalpha() and ord(char) > 0x3FF for char in text):
        return True
    bare = TEXT_COMMAND.sub(" ", text)
    words = [
        w
        for w in PROSE_WORD.findall(bare)
        if w.lower() not in math_answers.UNIT_WORDS and w.lower() not in ("and", "or")
    ]
    return bool(words) and (len(words) > 1 or bare.strip(" .$") != words[0])


# Where free text names its answer: "The final answer is", "the answer is", "Final Answer:".
ANSWER_ANCHOR = re.compile(r"(?i)\banswer(?:\s++is\b|\s*+\**+\s*+:)")  # possessive: linear on long runs of spaces
DENIAL = re.compile(r"(?i)\b(?:not|no|never|wrong|incorrect|isn't|cannot)\b")
STATED_NUMBER = re.compile(r"(?i)\bis\s+([-+]?[0-9][0-9,]*(?:\.[0-9]+)?)\s*$")


MATHS_DELIMITER = re.compile(r"\\[()\[\]]|\$\$")  # \( \) \[ \] $$: maths spans, read as $…$


# A denial next to the last value of a sentence, no other value between: "it is not $3$.",
# "$3$ is wrong." (not "it is not 10, it is 1,000.99").
# Read in the last DENIAL_WINDOW characters only (a denial stands next to its value), with
# possessive loops and numbers matched from their first digit: linear, whatever the text.
DENIED_FINAL_VALUE = re.compile(
    r"(?i)\b(?:not|no|never|isn't|cannot)\b[^0-9$]*+(?:\$[^$]*+\$|(?<![0-9.,])[0-9][0-9.,]*+)[^0-9$]*+$"
    r"|(?:\$[^$]*+\$|(?<![0-9.,])[0-9][0-9.,]*+)[^0-9$]*?\b(?:not|wrong|incorrect|false)\b[^0-9$]*+$"
)
DENIAL_WINDOW = 400


def last_sentence(text: str) -> str:
    """The text after its last full stop, "!" or "?" (followed by a space) or line break."""
    sentences = [part for part in re.split(r"(?<=[.!?])\s+|\n", text.strip()) if part.strip(" .")]
    return sentences[-1] if sentences else ""


def lone_maths_span(text: str) -> str | None:
    r"""Free text with no answer anchor but one maths span and no number outside it ("Therefore
    $x \geq 5$ is the solution."): that span. None when the text hedges or denies anything
    ("not"), or holds no span, several, or other numbers."""
    if len(text) > MAX_ANSWER_CHARS or looks_hedged(text) or DENIAL.search(text):
        return None
    parts = MATHS_DELIMITER.sub("$", text).split("$")
    if len(parts) != 3 or re.search(r"[0-9]", parts[0] + parts[2]) or not parts[1].strip() or is_prose(parts[1]):
        return None
    return parts[1].strip()


def stated_answer(text: str) -> tuple[str | None, bool]:
    r"""The value free text states after its last answer anchor ("The final answer is $5$",
    "Final Answer: … is 19"), read in that one sentence: (the maths span that ends it, else the
    number after its last "is", else the whole sentence when it is maths rather than prose;
    whether the sentence hedges (``looks_hedged``) or denies: "is not $5$" scores 0). The value
    is None (the worker reads the text) when there is no anchor or the sentence is prose of
    another shape."""
    anchor = None
    for match in ANSWER_ANCHOR.finditer(text):
        anchor = match
    if anchor is None:
        return None, False
    rest, inside, end = MATHS_DELIMITER.sub("$", text[anchor.end() :]), False, None
    for index, char in enumerate(rest):
        if char == "$":
            inside = not inside
        elif not inside and (char == "\n" or (char in ".!?" and (index + 1 == len(rest) or rest[index + 1].isspace()))):
            end = index
            break
    sentence = rest[:end].strip(" *:")
    if not sentence:
        return None, False
    if looks_hedged(sentence) or DENIAL.search(sentence):
        return None, True
    spans = re.findall(r"\$[^$]*\$", sentence)
    numbers = [span for span in spans if re.search(r"[0-9]", span)] + re.findall(
        r"[0-9]+", re.sub(r"\$[^$]*\$", " ", sentence)
    )
    ending = re.search(r"\$([^$]+)\$\s*$", sentence)
    if ending and numbers in ([], [ending.group(0)]):  # "is $3$, $4$" names two values: not one answer
        return ending.group(1).strip(), False
    number = STATED_NUMBER.search(sentence)
    if number and len(numbers) == len(re.findall(r"[0-9]+", number.group(1))):
        return number.group(1), False
    return (None if "$" in sentence or is_prose(sentence) else sentence), False


def single_valued(gold: str) -> bool:
    """One value (a number, an expression, a word), not a set, list, tuple, interval or union."""
    reading = native_reading(gold)
    if isinstance(reading, math_answers.Answer):
        return isinstance(reading.body, (math_answers.Scalar, math_answers.Text, math_formulas.Formula))
    return value_count(gold) == 1 and "\\{" not in gold and "\\cup" not in gold


def gold_has_several_values(spec: dict) -> bool:
    """Several boxes (or "and"/"or") together form one answer only when the gold has several
    values: a set, a list, a tuple of more than one element."""
    if spec["form"] in ("set", "tuple"):
        return len(spec.get("values", ())) > 1
    gold = separated(spec["gold"])
    reading = native_reading(gold)
    if isinstance(reading, math_answers.Answer):
        body = reading.body
        items = getattr(body, "items", None) or getattr(body, "pieces", None)
        if isinstance(body, (math_answers.SetOf, math_answers.Union)) or (
            isinstance(body, math_answers.Sequence) and not body.left
        ):
            return items is not None and len(items) > 1
        return False
    return value_count(gold) > 1


def numbers_agree(gold: PlainNumber, answer: PlainNumber, tolerance: float | None) -> bool:
    """Exact values must be equal. A decimal answer for a gold that is not a decimal (``0.333333``
    for 1/3) must be the gold correctly rounded at its last digit and within ``DECIMAL_RELATIVE``
    of it; ``tolerance`` (relative) replaces both rules when the verifier sets one."""
    return value_agrees(
        gold.value, answer.value, answer.places if answer.decimal and not gold.decimal else None, tolerance
    )


# A decimal approximation of an exact gold must be this close, relative to the gold.
DECIMAL_RELATIVE = Fraction(1, 10**5)  # five significant digits at least


def value_agrees(gold: Fraction, answer: Fraction, approximate_places: int | None, tolerance: float | None) -> bool:
    """The numeric rule of the module (see ``numbers_agree``); relative, so it means the same for
    1/2^98 as for 10^30: a gold of 0 is matched only by 0."""
    error = abs(answer - gold)
    if tolerance is not None:
        return error <= Fraction(tolerance) * abs(gold)
    if approximate_places is None or gold.denominator == 1:  # an integer gold is never approximated
        return error == 0
    return error <= Fraction(1, 2) / Fraction(10) ** approximate_places and error <= DECIMAL_RELATIVE * abs(gold)


def screen_number(spec: dict, answer: str, value: str) -> Screened:
    answer_number = parse_plain_number(value)
    if answer_number is None:
        return Screened(
            verdict_for(spec, answer, "fast", False, "expected a single number (integer, fraction or decimal)", False),
            value,
        )
    gold_number = parse_plain_number(spec["gold"])
    if gold_number is None:
        raise ValueError(f"gold {spec['gold'][:80]!r} of a 'number' task is not a number")
    if gold_number.value == answer_number.value:
        return Screened(verdict_for(spec, answer, "fast", True, "correct"), value)
    return Screened(verdict_for(spec, answer, "fast", False, "incorrect: a different number"), value)


_SIGN_OUTSIDE = re.compile(r"([-+]?)\s*(.*)", re.DOTALL)
_PARENTHESISED_QUOTIENT = re.compile(r"\(\s*([-+]?\s*[0-9]+)\s*\)\s*/\s*([0-9]+)")
_TRAILING_FULL_STOP = re.compile(r"(?:\\text\{\s*\.\s*\}|\.)\s*$")


def signed_group(text: str) -> str:
    """One number as written in a set or tuple, with the brackets and signs a careful writer puts
    around it taken off: ``\\left(-\\frac{3}{2}\\right)``, ``-\\left(\\frac{3}{2}\\right)``,
    ``-{\\frac{3}{2}}`` → ``-\\frac{3}{2}``; ``(-3)/2`` → ``-3/2``; ``\\cfrac`` read as ``\\frac``; a full
    stop after it dropped. Anything else comes back as it was."""
    current = _TRAILING_FULL_STOP.sub("", LEFT_RIGHT.sub("", text).strip()).replace("\\cfrac", "\\frac")
    quotient = _PARENTHESISED_QUOTIENT.fullmatch(current)
    if quotient:
        return f"{quotient.group(1).replace(' ', '')}/{quotient.group(2)}"
    negative = False
    while True:
        sign, rest = _SIGN_OUTSIDE.fullmatch(current).groups()
        rest = rest.strip()
        negative ^= sign == "-"
        if not _wrapped(rest):
            return ("-" if negative else "") + rest
        current = rest[1:-1].strip()


def _wrapped(text: str) -> bool:
    """Whether ``text`` is one bracketed group: its first ``(`` or ``{`` closes at its last character."""
    if len(text) < 2 or text[0] + text[-1] not in ("()", "{}"):
        return False
    depth = 0
    for index, char in enumerate(text):
        depth += char in "({"
        depth -= char in ")}"
        if depth == 0:
            return index == len(text) - 1
    return False


def element_number(text: str) -> PlainNumber | None:
    """A set or tuple element as a plain number: ``parse_plain_number``'s, or a decimal in
    scientific notation (``2.4 \\times 10^{1}``, showing its places: 2.31 × 10⁻³ shows 5)."""
    text = signed_group(text)
    number = parse_plain_number(text)
    if number is not None:
        return number
    scientific = math_answers.SCIENTIFIC.fullmatch(text.strip())
    if scientific is None:
        return None
    mantissa = re.split(r"\s*(?:\*|\\)", scientific.group(0))[0].replace(" ", "")
    exponent = int((scientific.group(2) or scientific.group(3)).replace(" ", ""))
    value = Fraction(mantissa) * Fraction(10) ** exponent
    return PlainNumber(value, True, max(0, len(scientific.group(1)) - exponent))


_SPACING = r"(?:\\[,;:! ]|\\q?quad(?![A-Za-z])|~|\\text\{\s*\}|\s)"
ELEMENT_SPACING = re.compile(rf"^{_SPACING}+|{_SPACING}+$")  # ``x = 2,\\ x = 4``: the space is no part of x
# ``(x, y) = (1, 2)``: the tuple of the unknowns named on the left
NAMED_TUPLE = re.compile(r"\s*(?:\\left)?\(([^()=]*)(?:\\right)?\)\s*=\s*(.+)", re.DOTALL)


PLUS_MINUS = re.compile(r"\\pm\s*(.+)", re.DOTALL)  # one set element for the two roots ±a


def screen_elements(spec: dict, answer: str) -> Screened:
    """Sets and tuples: labels checked here, plain numbers decided here. Where every gold value is
    a plain number (every synthetic task), so must every answer value be: an element that still
    computes (the quadratic formula or Cramer's rule on the prompt's coefficients, ``2+2`` for a
    repeated root) scores 0. Other golds go to the worker."""
    form = spec["form"]
    allowed = allowed_labels(spec)
    named = NAMED_TUPLE.fullmatch(answer) if form == "tuple" and spec.get("variables") else None
    if named and [name.strip() for name in named.group(1).split(",")] == list(spec["variables"]):
        answer = named.group(2)
    whole_label, whole_value, whole_problem = (
        unlabel(answer, allowed) if len(split_top_level(answer)) == 1 else (None, answer, None)
    )
    if whole_problem:  # "(x, y) = (1, 2)" has a tuple of names on the left, not one name
        return Screened(verdict_for(spec, answer, "screen", False, whole_problem), answer)
    labelled = []
    for element in answer_elements(whole_value, form):
        label, value, problem = unlabel(ELEMENT_SPACING.sub("", element), allowed)
        if problem:
            return Screened(verdict_for(spec, answer, "screen", False, problem), answer)
        if not value:
            return Screened(verdict_for(spec, answer, "fast", False, "an empty element", False), answer)
        both = PLUS_MINUS.fullmatch(value) if form == "set" else None
        if both and element_number(both.group(1)) is not None:  # x = \pm 3: both roots
            labelled += [(label, both.group(1)), (label, f"-{{{both.group(1)}}}")]
            continue
        labelled.append((label, value))
    variables = spec.get("variables")
    labels = [label for label, _ in labelled]
    if form == "tuple" and variables and all(labels):
        if sorted(labels) != sorted(variables):
            return Screened(
                verdict_for(spec, answer, "fast", False, f"labels {labels} do not match the unknowns {variables}"),
                answer,
            )
        labelled = sorted(labelled, key=lambda pair: variables.index(pair[0]))
    values = [v for _, v in labelled]
    answer_numbers = [element_number(v) for v in values]
    gold_numbers = [parse_plain_number(v) for v in spec["values"]]
    if any(n is None for n in gold_numbers):
        return Screened(None, ", ".join(values), spec["gold"])
    if any(n is None for n in answer_numbers):  # red team s19 F1: the quadratic formula, Cramer's rule
        return Screened(
            verdict_for(
                spec, answer, "fast", False, "each value must be a single number (integer, fraction or decimal)", False
            ),
            answer,
        )
    tolerance = spec.get("tolerance")
    if form == "tuple":
        if len(answer_numbers) != len(gold_numbers):
            return Screened(
                verdict_for(
                    spec, answer, "fast", False, f"expected {len(gold_numbers)} coordinates, got {len(answer_numbers)}"
                ),
                answer,
            )
        correct = all(numbers_agree(g, a, tolerance) for g, a in zip(gold_numbers, answer_numbers))
        return Screened(
            verdict_for(spec, answer, "fast", correct, "correct" if correct else "incorrect: a coordinate differs"),
            answer,
        )
    missing = sum(not any(numbers_agree(g, a, tolerance) for a in answer_numbers) for g in gold_numbers)
    extra = sum(not any(numbers_agree(g, a, tolerance) for g in gold_numbers) for a in answer_numbers)
    repeated = len(answer_numbers) - len(gold_numbers) if not missing and not extra else 0
    if not missing and not extra and not repeated:
        return Screened(verdict_for(spec, answer, "fast", True, "correct"), answer)
    reason = "incorrect: " + ", ".join(
        part
        for part in (
            f"{missing} root(s) missing" if missing else "",
            f"{extra} extra value(s)" if extra else "",
            "a root repeated" if repeated else "",
        )
        if part
    )
    return Screened(verdict_for(spec, answer, "fast", False, reason), answer)


def judge_response_cheaply(spec: dict, response: str) -> tuple[Verdict | None, str, Screened | None]:
    """Extraction and screening, linear in the response and then bounded by MAX_ANSWER_CHARS:
    (verdict or None, extracted answer, what the worker must judge)."""
    extraction = extract_math_answer(response)
    several = len(extraction.boxes) > 1 and gold_has_several_values(spec)
    value = extraction.value
    if (
        value is None
        and not several
        and len(extraction.boxes) > 1
        and spec["form"] == "any"
        and "<answer>" not in response
    ):
        # boxed steps of the working, then one statement of the result: "… The final answer is $10,455$."
        value = stated_answer(response[response.rfind("\\boxed") :][:MAX_PROSE_CHARS])[0]
    if value is None and not several:
        return Verdict.fail(short(extraction.reason), answer="", path="extraction", form=spec["form"]), "", None
    value = unescape_twice(strip_delimiters(", ".join(extraction.boxes) if several else value))
    if gold_has_several_values(spec) and len(value) <= MAX_ANSWER_CHARS and labelled_solutions(spec["gold"]) is None:
        # "6 \text{ and } 8" lists two values (but "and" between solutions of a system keeps them apart)
        value = SEPARATOR_WORDS.sub(", ", value)
    if not value:
        return Verdict.fail("the final answer is empty", answer="", path="extraction", form=spec["form"]), "", None
    if len(value) > MAX_PROSE_CHARS:
        reason = f"the final answer is too long ({len(value)} characters; at most {MAX_PROSE_CHARS})"
        return (
            Verdict.fail(reason, answer=value[:ANSWER_PREVIEW_CHARS], path="extraction", form=spec["form"]),
            value[:ANSWER_PREVIEW_CHARS],
            None,
        )
    screened = screen_answer(spec, value)
    return screened.verdict, value, screened


# --------------------------------------------------------------------------------------------
# The worker processes
# --------------------------------------------------------------------------------------------


class WorkerTimeout(Exception):
    pass


class WorkerFailure(Exception):
    pass


def worker_command(memory_mb: int) -> list[str]:
    """``python -I`` (no user site, no PYTHON* variables, no cwd on the path) running the worker
    from the directory that holds this very ``rlvr`` package."""
    package_parent = str(Path(__file__).resolve().parents[2])
    bootstrap = (
        "import sys; sys.path.insert(0, sys.argv[1]); from rlvr.verifiers.math_worker import main; "
        "main(int(sys.argv[2]))"
    )
    return [sys.executable, "-I", "-c", bootstrap, package_parent, str(int(memory_mb))]


class MathTemplate:
    """The warm template process workers are forked from (rlvr.verifiers.math_worker)."""

    def __init__(self, memory_mb: int):
        environment = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.process = subprocess.Popen(
                worker_command(memory_mb),
                stdin=theirs,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=environment,
                close_fds=True,
            )
        finally:
            theirs.close()
        self.control.setblocking(False)
        self.lock = threading.Lock()
        self.pending = b""
        self.unanswered = 0  # fork requests whose reply line is still to be read

    def alive(self) -> bool:
        return self.process.poll() is None

    def fork_worker(self, deadline: float) -> MathWorkerProcess:
        """A new worker forked from the template (WorkerTimeout past the deadline: the template
        may still be importing; WorkerFailure when it is gone)."""
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not self.lock.acquire(timeout=remaining):
            raise WorkerTimeout()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            try:
                while self.unanswered:  # replies to callers that gave up (their workers saw EOF and left)
                    read_line(self, self.control.fileno(), deadline, "the math worker template")
                    self.unanswered -= 1
                socket.send_fds(self.control, [b"w"], [theirs.fileno()])
                self.unanswered += 1
                line = read_line(self, self.control.fileno(), deadline, "the math worker template")
                self.unanswered -= 1
            except OSError as error:
                raise WorkerFailure(f"the math worker template is gone ({type(error).__name__})") from error
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
            self.lock.release()
        try:
            return MathWorkerProcess(ours, int(line))
        except (ValueError, OSError) as error:
            ours.close()
            raise WorkerFailure(f"the math worker did not start ({type(error).__name__})") from error

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL is not ignorable
            pass
        self.control.close()


def wait_ready(fd: int, events: int, deadline: float) -> None:
    """Block until ``fd`` is ready or the deadline passes (poll: no FD_SETSIZE limit)."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise WorkerTimeout()
    poller = select.poll()
    poller.register(fd, events)
    if not poller.poll(max(1, int(remaining * 1000))):
        raise WorkerTimeout()


def read_line(owner, fd: int, deadline: float, what: str) -> bytes:
    """The next line from a non-blocking ``fd``, buffering what follows in ``owner.pending``."""
    while b"\n" not in owner.pending:
        wait_ready(fd, select.POLLIN, deadline)
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            continue
        if not chunk:
            raise WorkerFailure(f"{what} exited")
        owner.pending += chunk
    line, _, owner.pending = owner.pending.partition(b"\n")
    return line


class MathWorkerProcess:
    """One forked worker: JSON line out, JSON line back on its socket, within a deadline or
    killed. It is the template's child, so it is watched and signalled through a pidfd."""

    def __init__(self, channel: socket.socket, pid: int):
        self.pid = pid
        self.pidfd = os.pidfd_open(pid)
        self.channel = channel
        self.fd = channel.fileno()
        channel.setblocking(False)
        self.pending = b""
        self.request_count = 0

    def alive(self) -> bool:
        if self.pidfd < 0:
            return False
        poller = select.poll()
        poller.register(self.pidfd, select.POLLIN)  # readable once the process has exited
        return not poller.poll(0)

    def ask(self, payload: dict, deadline: float) -> dict:
        self.request_count += 1
        payload = {**payload, "id": self.request_count}
        data = (json.dumps(payload, ensure_ascii=True) + "\n").encode("ascii")
        self._write(data, deadline)
        reply = json.loads(read_line(self, self.fd, deadline, "the math worker"))
        if reply.get("id") != self.request_count:
            raise WorkerFailure("the math worker answered out of turn")
        return reply

    def _write(self, data: bytes, deadline: float) -> None:
        view, offset = memoryview(data), 0
        while offset < len(data):
            wait_ready(self.fd, select.POLLOUT, deadline)
            try:
                offset += os.write(self.fd, view[offset : offset + 65536])
            except BlockingIOError:
                continue
            except OSError as error:
                raise WorkerFailure(f"the math worker stopped reading ({type(error).__name__})") from error

    def kill(self) -> None:
        """SIGKILL, then wait (up to a second) until it has exited."""
        if self.pidfd >= 0:
            try:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
                poller = select.poll()
                poller.register(self.pidfd, select.POLLIN)
                poller.poll(1000)
            except ProcessLookupError:
                pass
            os.close(self.pidfd)
            self.pidfd = -1
        self.channel.close()

    def close(self) -> None:
        """EOF on its socket ends its loop; then make sure."""
        try:
            self.channel.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self.kill()


def stop_processes(workers: set, templates: list, owner_pid: int) -> None:
    """Finalizer: end every worker and template still alive, but only in the process that
    started them."""
    if os.getpid() != owner_pid:
        return
    for worker in list(workers):
        worker.kill()
    workers.clear()
    for template in templates:
        template.kill()
    templates.clear()


def worker_cap() -> int:
    """The most worker processes one verifier starts: a worker per concurrent caller, up to
    max(8, 4 × CPU count) (each shares the template's pages; a slow answer keeps one busy to
    its deadline)."""
    return max(8, 4 * (os.cpu_count() or 1))


class MathWorkerPool:
    """Idle workers handed to one request at a time, forked from one warm template as callers
    need them (up to ``max_workers``); a killed worker is simply dropped."""

    def __init__(self, memory_mb: int, max_workers: int):
        self.memory_mb = memory_mb
        self.max_workers = max(1, max_workers)
        self.owner_pid = os.getpid()
        self.condition = threading.Condition()
        self.idle: list[MathWorkerProcess] = []
        self.live: set[MathWorkerProcess] = set()
        self.templates: list[MathTemplate] = []  # the current template, once started
        self.busy = 0
        self.closed = False
        self.finalizer = weakref.finalize(self, stop_processes, self.live, self.templates, self.owner_pid)

    def acquire(self, deadline: float) -> MathWorkerProcess | None:
        """An idle worker, a newly forked one while fewer than ``max_workers`` exist, or None
        when none is free before the deadline. Raises WorkerTimeout / WorkerFailure when the
        template does not fork one in time."""
        with self.condition:
            while True:
                while self.idle:
                    worker = self.idle.pop()
                    if worker.alive():
                        self.busy += 1
                        return worker
                    self.live.discard(worker)
                    worker.kill()
                if self.busy < self.max_workers:
                    self.busy += 1
                    template = self._template()
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self.condition.wait(remaining):
                    return None
        try:  # forking waits on the template (its first start imports sympy): not under the lock
            worker = template.fork_worker(deadline)
        except WorkerTimeout:
            self._unreserve(None)
            raise
        except BaseException:
            self._unreserve(template)  # broken: the next caller starts a new one
            raise
        with self.condition:
            self.live.add(worker)
        return worker

    def _unreserve(self, broken: MathTemplate | None) -> None:
        with self.condition:
            self.busy -= 1
            if broken is not None and broken in self.templates:
                self.templates.remove(broken)
                broken.kill()
            self.condition.notify()

    def _template(self) -> MathTemplate:
        """The live template, started (or restarted) here; called under the condition."""
        if self.templates and not self.templates[0].alive():
            self.templates.pop().kill()
        if not self.templates:
            self.templates.append(MathTemplate(self.memory_mb))
        return self.templates[0]

    def release(self, worker: MathWorkerProcess, healthy: bool) -> None:
        with self.condition:
            self.busy -= 1
            if healthy and not self.closed:
                self.idle.append(worker)
            else:
                self.live.discard(worker)
                worker.kill()
            self.condition.notify()

    def close(self) -> None:
        with self.condition:
            self.closed = True
            idle, self.idle = self.idle, []
            for worker in idle:
                self.live.discard(worker)
                worker.close()
            for template in self.templates:
                template.kill()
            self.templates.clear()
            self.condition.notify_all()

    def pids(self) -> list[int]:
        """The live workers' process ids (not the template's)."""
        with self.condition:
            return [w.pid for w in self.live]


# --------------------------------------------------------------------------------------------
# The verifier
# --------------------------------------------------------------------------------------------


class MathVerifier(SafeVerifier):
    """Exact answers: a Fraction fast path, then math-verify in a killable worker process."""

    def __init__(
        self,
        deadline_s: float = 5.0,
        memory_mb: int = 1024,
        tolerance: float | None = None,
        ordered: bool = False,
        units: str = "ignore",
    ):
        if not deadline_s > 0:
            raise ValueError(f"deadline_s must be positive, got {deadline_s!r}")
        if int(memory_mb) < 256:
            raise ValueError(f"memory_mb must be at least 256, got {memory_mb!r}")
        if tolerance is not None and not 0 <= float(tolerance) < 1:
            raise ValueError(f"tolerance must be a relative error in [0, 1), got {tolerance!r}")
        if units not in ("ignore", "strict"):
            raise ValueError(f"units must be 'ignore' or 'strict', got {units!r}")
        self.ordered = flag_option("ordered", ordered)
        self.units = units
        self.deadline_s = float(deadline_s)
        self.memory_mb = int(memory_mb)
        self.tolerance = None if tolerance is None else float(tolerance)
        self.max_workers = worker_cap()
        self._pool: MathWorkerPool | None = None
        self._pool_lock = threading.Lock()

    def check(self, task: Task, response: str) -> Verdict:
        deadline = time.monotonic() + self.deadline_s
        spec = {**gold_spec(task), "tolerance": self.tolerance, "ordered": self.ordered, "units": self.units}
        if spec["form"] == "any" and isinstance(task.prompt, str):
            spec["restated"] = problem_expressions(task.prompt)
        with math_formulas.budget():  # one time budget for all in-process formula work of this call
            verdict, extracted, screened = judge_response_cheaply(spec, response)
        if verdict is not None:
            return verdict
        payload = {
            "spec": {**spec, "gold": screened.gold or spec["gold"]},
            "answer": screened.candidate,
            "prose": screened.prose,
            "extracted": extracted[:ANSWER_PREVIEW_CHARS],
        }
        return self._ask_worker(payload, deadline, preview=extracted)

    def canonical_answer(self, task: Task, response: str) -> str | None:
        r"""The key label-free training compares (the trainer's ``reward: majority``; the gold is
        not used): the final answer extracted as ``verify`` extracts it, a leading name (``x =``)
        dropped, read by the native grammar into its exact value — ``value:…``, so ``1/2``,
        ``0.5``, ``\frac{1}{2}`` and ``x = \dfrac12`` share one key, sets and bare lists are
        compared unordered (ordered with ``ordered``), units dropped (kept with ``units="strict"``)
        — or, outside that grammar, the answer without layout (``text:…``). A decimal that only
        approximates a value (``0.333333`` for 1/3) keeps its own key. None for no answer, a hedge,
        two different boxes, hidden text, a chain of equations, an answer longer than
        ``MAX_ANSWER_CHARS`` or nested deeper than ``MAX_NESTING``, or one that is not well
        formed (``4 4``). Bounded like ``check``'s cheap path; never starts a worker."""
        if not isinstance(response, str) or len(response) > self.max_response_chars:
            return None
        extracted = extract_math_answer(response).value
        value = unescape_twice(strip_delimiters(extracted)) if extracted is not None else ""
        if not value or len(value) > MAX_ANSWER_CHARS or nesting_depth(value) > MAX_NESTING:
            return None
        if looks_hedged(value) or HIDING_MACROS.search(value):
            return None
        _, value, problem = unlabel(value, None)
        if problem or not value:
            return None
        with math_formulas.budget():
            reading = native_reading(value)
        if isinstance(reading, math_answers.Answer):
            key = value_key(reading.body, self.ordered)
            return f"value:{key}" + (f" [{reading.unit}]" if self.units == "strict" and reading.unit else "")
        if isinstance(reading, math_answers.Invalid):
            return None
        return "text:" + _LAYOUT_NOISE.sub("", value)

    def _ask_worker(self, payload: dict, deadline: float, preview: str) -> Verdict:
        details = {"answer": preview[:ANSWER_PREVIEW_CHARS], "path": "math-verify", "form": payload["spec"]["form"]}
        pool = self.pool()
        try:
            worker = pool.acquire(deadline)
        except WorkerTimeout:
            worker = None
        except WorkerFailure as error:
            return Verdict.fail(short(f"math worker failed to start: {error}"), **details)
        if worker is None:
            return Verdict.fail(
                f"timed out after {self.deadline_s:g}s waiting for a free math worker", not_judged=True, **details
            )
        healthy = False
        try:
            reply = worker.ask({**payload, "deadline_s": max(0.0, deadline - time.monotonic())}, deadline)
            healthy = reply.get("retire") is not True  # a retiring worker exits after this reply
        except WorkerTimeout:
            return Verdict.fail(f"timed out after {self.deadline_s:g}s (the math worker was killed)", **details)
        except WorkerFailure as error:
            return Verdict.fail(short(f"math worker failed: {error}"), **details)
        finally:
            pool.release(worker, healthy)
        verdict = reply.get("verdict")
        if not isinstance(verdict, dict):
            return Verdict.fail(short(f"math worker error: {reply.get('error')}"), **details)
        return Verdict(
            float(verdict["reward"]),
            bool(verdict["correct"]),
            bool(verdict["format_ok"]),
            short(str(verdict["reason"])),
            {**details, "timed_out": True} if (verdict.get("details") or {}).get("timed_out") else details,
        )

    def pool(self) -> MathWorkerPool:
        """This process's worker pool, started (empty) on first use and again after ``close()``
        or a fork."""
        with self._pool_lock:
            pool = self._pool
            if pool is not None and pool.owner_pid != os.getpid():
                pool.finalizer.detach()  # the parent's workers are not ours to stop
                pool = None
            if pool is None or pool.closed:
                pool = self._pool = MathWorkerPool(self.memory_mb, self.max_workers)
            return pool

    def worker_pids(self) -> list[int]:
        """Process ids of this verifier's live workers (for monitoring and tests)."""
        pool = self._pool
        return pool.pids() if pool is not None and pool.owner_pid == os.getpid() else []

    def close(self) -> None:
        """Stop the workers; a later verify starts new ones."""
        with self._pool_lock:
            pool = self._pool
            if pool is not None and pool.owner_pid == os.getpid():
                pool.close()

    def __getstate__(self) -> dict:
        return {
            "deadline_s": self.deadline_s,
            "memory_mb": self.memory_mb,
            "tolerance": self.tolerance,
            "ordered": self.ordered,
            "units": self.units,
        }

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)
