"""Countdown verifier: parse the arithmetic expression itself, check the numbers, evaluate exactly.

Input       A ``Task`` of rlvr.generators.countdown: ``task.answer`` = {"numbers": [ints],
            "target": int, "operators": "+,-,*,/" (the allowed ones), "use_all": bool, …}; and
            the model's whole response.
Extraction  The last ``<answer>…</answer>`` outside ``<think>`` (rlvr.core.extract_answer).
Grammar     expression := term (("+" | "-") term)* ; term := factor (("*" | "/") factor)* ;
            factor := integer | "(" expression ")". Spellings: "−" for "-", "×" "·" for "*",
            "÷" for "/". An optional trailing "= N" must name the target. Nothing else parses:
            no unary minus, no decimals, no powers, no names, no function calls — never
            ``eval``.
Numbers     The integers written must be drawn from the given numbers as a multiset: each given
            number at most once (``use_all=False``) or every one exactly once (``use_all=True``).
            Gluing digits ("1","2" → 12) is writing 12, which is not given.
Arithmetic  Exact rationals (``fractions.Fraction``), so 8 / 3 * 3 is 8. Division by zero is
            an invalid answer. Only the allowed operators may appear.
Correct     The value equals the target: reward 1; anything else reward 0 with a one-line reason.
Bounds      At most ``MAX_ANSWER_CHARS`` characters, ``MAX_TOKENS`` tokens and ``MAX_DEPTH``
            nested parentheses; the multiset check comes before any arithmetic, so at most
            len(numbers) − 1 operations run on given numbers: a check is microseconds.
"""

from __future__ import annotations

import re
from collections import Counter
from fractions import Fraction
from typing import Any

from rlvr.core import SafeVerifier, Task, Verdict, answer_value_key, extract_answer

MAX_ANSWER_CHARS = 2_000
MAX_TOKENS = 400
MAX_DEPTH = 64
SPELLINGS = {"−": "-", "×": "*", "·": "*", "÷": "/"}
TOKEN = re.compile(r"\s*(?:(\d+)|([-+*/()=]))")


class ExpressionError(ValueError):
    """The answer is not an expression of the grammar (a format error)."""


class RuleError(ValueError):
    """The expression parses but breaks a rule: a number not given, an operator not allowed,
    division by zero."""


def tokenize(text: str) -> list[str]:
    """The tokens of ``text`` (integers and ``+ - * / ( ) =``) after normalising spellings;
    ExpressionError on any other character."""
    for spelled, plain in SPELLINGS.items():
        text = text.replace(spelled, plain)
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = TOKEN.match(text, position)
        if match is None:
            raise ExpressionError(f"unexpected {text[position : position + 12].strip()!r} at character {position + 1}")
        tokens.append(match.group(1) or match.group(2))
        position = match.end()
        if len(tokens) > MAX_TOKENS:
            raise ExpressionError(f"more than {MAX_TOKENS} tokens")
    return tokens


class Parser:
    """A recursive-descent parser of the grammar into a nested tuple tree: an int leaf or
    (operator, left, right)."""

    def __init__(self, tokens: list[str]):
        self.tokens, self.position = tokens, 0

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise ExpressionError("the expression ends too early")
        self.position += 1
        return token

    def expression(self, depth: int = 0) -> Any:
        tree = self.term(depth)
        while self.peek() in ("+", "-"):
            tree = (self.take(), tree, self.term(depth))
        return tree

    def term(self, depth: int) -> Any:
        tree = self.factor(depth)
        while self.peek() in ("*", "/"):
            tree = (self.take(), tree, self.factor(depth))
        return tree

    def factor(self, depth: int) -> Any:
        token = self.take()
        if token == "(":
            if depth >= MAX_DEPTH:
                raise ExpressionError(f"more than {MAX_DEPTH} nested parentheses")
            tree = self.expression(depth + 1)
            if self.take() != ")":
                raise ExpressionError("a '(' is not closed")
            return tree
        if token.isdigit():
            return int(token)
        raise ExpressionError(f"expected a number or '(', got {token!r}")


def parse(text: str) -> tuple[Any, int | None]:
    """(tree, claimed result) of an answer ``expression [= N]``; ExpressionError otherwise."""
    tokens = tokenize(text)
    claimed = None
    if "=" in tokens:
        at = tokens.index("=")
        if at != len(tokens) - 2 or not tokens[-1].isdigit():
            raise ExpressionError("'=' may only end the expression, followed by the target")
        claimed, tokens = int(tokens[-1]), tokens[:at]
    if not tokens:
        raise ExpressionError("empty expression")
    parser = Parser(tokens)
    tree = parser.expression()
    if parser.peek() is not None:
        raise ExpressionError(f"unexpected {parser.peek()!r} after a complete expression")
    return tree, claimed


def leaves(tree: Any) -> list[int]:
    """The integers written in the expression, left to right."""
    found, stack = [], [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, int):
            found.append(node)
        else:
            stack.extend((node[2], node[1]))
    return found


def operators_of(tree: Any) -> set[str]:
    found, stack = set(), [tree]
    while stack:
        node = stack.pop()
        if not isinstance(node, int):
            found.add(node[0])
            stack.extend((node[1], node[2]))
    return found


def evaluate(tree: Any) -> Fraction:
    """The exact value of a tree; RuleError on division by zero. Recursion depth is bounded by
    the parser's ``MAX_DEPTH`` and the token cap."""
    if isinstance(tree, int):
        return Fraction(tree)
    operator, left, right = tree[0], evaluate(tree[1]), evaluate(tree[2])
    if operator == "+":
        return left + right
    if operator == "-":
        return left - right
    if operator == "*":
        return left * right
    if right == 0:
        raise RuleError("division by zero")
    return left / right


def check_numbers(written: list[int], given: list[int], use_all: bool) -> None:
    """RuleError unless ``written`` is a sub-multiset of ``given`` (all of it when ``use_all``)."""
    missing = Counter(written) - Counter(given)
    if missing:
        number = next(iter(missing))
        times = Counter(given)[number]
        raise RuleError(
            f"{number} is used more often than given ({times}×)" if times else f"{number} is not one of the numbers"
        )
    if use_all and len(written) != len(given):
        unused = Counter(given) - Counter(written)
        raise RuleError(
            f"every number must be used exactly once; unused: {', '.join(map(str, sorted(unused.elements())))}"
        )


def read_legal(text: str, numbers: list[int], operators: str, use_all: bool) -> tuple[list[int], int | None, Fraction]:
    """(the numbers written, the claimed result or None, the exact value) of an expression that
    keeps the puzzle's rules; ExpressionError or RuleError otherwise."""
    if len(text) > MAX_ANSWER_CHARS:
        raise ExpressionError(f"answer longer than {MAX_ANSWER_CHARS} characters")
    tree, claimed = parse(text)
    written = leaves(tree)
    check_numbers(written, numbers, use_all)
    banned = operators_of(tree) - set(operators.split(","))
    if banned:
        raise RuleError(f"operator {sorted(banned)[0]!r} is not allowed here (allowed: {operators.replace(',', ' ')})")
    return written, claimed, evaluate(tree)


def judge(text: str, numbers: list[int], target: int, operators: str, use_all: bool) -> tuple[bool, str, dict]:
    """(correct, reason, details) of the expression ``text`` for this puzzle: the pure function
    both the verifier and the generator's checks use."""
    written, claimed, value = read_legal(text, numbers, operators, use_all)
    details = {"value": str(value), "numbers_used": written}
    if claimed is not None and claimed != target:
        return False, f"the answer claims {claimed}, the target is {target}", details
    if value != target:
        return False, f"the expression equals {value}, not {target}", details
    return True, "correct", details


class CountdownVerifier(SafeVerifier):
    """Judges a Countdown answer (module docstring); never raises."""

    deadline_s = 1.0

    def canonical_answer(self, task: Task, response: Any) -> str | None:
        """``reward: majority``'s key: the value of an expression that keeps the puzzle's rules
        (numbers, operators); None for one that breaks them or claims another result (``E =
        25`` where E is 24), which has no vote. Keyed by the text, other right expressions and
        spellings (``E`` / ``E = 24``, brackets) split the right answers' vote (red team s15
        B15-1)."""
        answer = task.answer

        def value(block: str) -> Fraction | None:
            numbers, operators, use_all = list(answer["numbers"]), answer["operators"], bool(answer["use_all"])
            _, claimed, result = read_legal(block, numbers, operators, use_all)
            return None if claimed is not None and claimed != result else result

        return answer_value_key(response, value, self.max_response_chars)

    def check(self, task: Task, response: str) -> Verdict:
        block = extract_answer(response)
        if block is None:
            return Verdict.fail("no <answer>…</answer> block")
        answer = task.answer
        try:
            correct, reason, details = judge(
                block, list(answer["numbers"]), int(answer["target"]), answer["operators"], bool(answer["use_all"])
            )
        except ExpressionError as error:
            return Verdict.fail(f"not an expression: {error}")
        except RuleError as error:
            return Verdict.fail(str(error), format_ok=True)
        if correct:
            return Verdict.success(reason, **details)
        return Verdict.fail(reason, format_ok=True, **details)
