"""How Countdown tasks are made: numbers drawn, a target built from them, the search effort measured.

The family's contract (task, answer, verifier, difficulty, version history) is the docstring of
``rlvr.families.countdown``; ``CountdownGenerator(preset="game24")`` makes Game24-v0's tasks.
"""

from __future__ import annotations

import ast
import random
from fractions import Fraction
from typing import Any

import numpy as np

from rlvr import ast_parse
from rlvr.core import Task, TaskGenerator
from rlvr.families.countdown import FAMILY, PRESETS
from rlvr.verifiers.countdown import judge

MAX_DRAWS = 64  # puzzles drawn per task while looking for one that needs min_search_nodes
SEARCH_NODE_CAP = 20_000
# from this many numbers (Countdown d ≥ 0.375, Game24 always) a draw product_reach solves ranks
# just above a signs-only one (the family's docstring says why not with three)
PRODUCT_SCREEN_MIN_NUMBERS = 4
SYMBOLS = {"+": "+", "-": "-", "*": "*", "/": "/"}


class SearchCapReached(Exception):
    """The exhaustive search ran past its node cap."""


def search(
    numbers: list[int],
    target: int,
    operators: str,
    use_all: bool,
    node_cap: int = SEARCH_NODE_CAP,
    integers: bool = False,
) -> tuple[str | None, int]:
    """Depth-first search over combining two values at a time with the allowed operators until
    the target appears (among any values when numbers may go unused, as the last value when all
    must be used): in exact rationals, or with ``integers`` by Countdown's own rules (positive
    differences, exact divisions, no × or ÷ by 1), which prunes far more. Returns (an expression
    reaching the target or None, nodes expanded); multisets of values already seen are not
    searched again. Raises SearchCapReached past ``node_cap`` nodes."""
    allowed = set(operators.split(","))
    seen: set[tuple] = set()
    nodes = 0

    def combine_integers(a: tuple[int, str], b: tuple[int, str]):
        (x, ex), (y, ey) = (a, b) if a[0] >= b[0] else (b, a)
        if "+" in allowed:
            yield x + y, f"({ex} + {ey})"
        if "*" in allowed and y > 1:
            yield x * y, f"({ex} * {ey})"
        if "-" in allowed and x > y:
            yield x - y, f"({ex} - {ey})"
        if "/" in allowed and y > 1 and x % y == 0:
            yield x // y, f"({ex} / {ey})"

    def combine(a: tuple[Fraction, str], b: tuple[Fraction, str]):
        if integers:
            yield from combine_integers(a, b)
            return
        (x, ex), (y, ey) = a, b
        if "+" in allowed:
            yield x + y, f"({ex} + {ey})"
        if "*" in allowed:
            yield x * y, f"({ex} * {ey})"
        if "-" in allowed:
            yield x - y, f"({ex} - {ey})"
            yield y - x, f"({ey} - {ex})"
        if "/" in allowed:
            if y != 0:
                yield x / y, f"({ex} / {ey})"
            if x != 0:
                yield y / x, f"({ey} / {ex})"

    def dfs(items: list[tuple[Fraction, str]]) -> str | None:
        nonlocal nodes
        if use_all:
            if len(items) == 1:
                return items[0][1] if items[0][0] == target else None
        else:
            for value, text in items:
                if value == target:
                    return text
        key = tuple(sorted(value for value, _ in items))
        if key in seen:
            return None
        seen.add(key)
        for i in range(len(items)):
            for j in range(i + 1, len(items)):
                rest = items[:i] + items[i + 1 : j] + items[j + 1 :]
                for value, text in combine(items[i], items[j]):
                    nodes += 1
                    if nodes > node_cap:
                        raise SearchCapReached
                    found = dfs(rest + [(value, text)])
                    if found is not None:
                        return found
        return None

    try:
        found = dfs([(n if integers else Fraction(n), str(n)) for n in numbers])
    finally:  # dfs refers to itself: that cycle would keep ``seen`` alive until a collector pass
        dfs = None
    if found is not None and found.startswith("(") and found.endswith(")"):
        found = found[1:-1]
    return found, nodes


def signs_reach(numbers: list[int], target: int, use_all: bool) -> bool:
    """Whether adding and subtracting the numbers (every one when ``use_all``), with no × or ÷,
    gives the target: then a task that offers × and ÷ is solved by signs alone (red team
    S11-H3: 15 / 36 / 26 % of Countdown tasks at d = 0.5 / 0.75 / 1). Any sign pattern with a
    positive result is an expression: the added numbers first, then the subtracted ones."""
    sums = {0}
    for number in numbers:
        sums = {s + number for s in sums} | {s - number for s in sums} | (set() if use_all else sums)
    return target in sums


def sign_sums(numbers: list[int], allowed: set[str], use_all: bool) -> dict[int, tuple[int, ...]]:
    """Each value that the numbers reach with each one added where ``+`` is allowed or
    subtracted where ``-`` is (every one when ``use_all``, else each also left out), mapped to
    one sign pattern (+1, -1, 0 per number) that gives it."""
    signs = [sign for sign, op in ((1, "+"), (-1, "-")) if op in allowed] + ([] if use_all else [0])
    sums: dict[int, tuple[int, ...]] = {0: ()}
    for number in numbers:
        grown: dict[int, tuple[int, ...]] = {}
        for total, pattern in sums.items():
            for sign in signs:
                grown.setdefault(total + sign * number, pattern + (sign,))
        sums = grown
    return sums


def product_terms(numbers: list[int], allowed: set[str]):
    """Each integer one pair of the numbers makes with the allowed × or ÷ (a quotient only where
    it divides exactly: with integer numbers and target only an integer term can count), as
    (value, text, indices of the other numbers)."""
    for i in range(len(numbers)):
        for j in range(i + 1, len(numbers)):
            a, b = numbers[i], numbers[j]
            rest = [k for k in range(len(numbers)) if k not in (i, j)]
            if "*" in allowed:
                yield a * b, f"{a} * {b}", rest
            if "/" in allowed:
                for x, y in ((a, b), (b, a)):
                    if x % y == 0:
                        yield x // y, f"{x} / {y}", rest


def product_reach(numbers: list[int], target: int, operators: str, use_all: bool) -> bool:
    """Whether one product or quotient of two of the numbers, added or subtracted, with the
    others each added or subtracted (every one when ``use_all``) gives the target: a template a
    policy scans without search (red team S12 F5: it solved 77 / 65 / 39 / 31 % of Countdown
    tasks at d = 0.25 / 0.5 / 0.75 / 1 after the S11 signs screen, and 30 / 25 / 6 % of Game24's
    at d = 0 / 0.5 / 1)."""
    allowed = set(operators.split(","))
    minus = "-" in allowed
    for value, _, rest in product_terms(numbers, allowed):
        sums = sign_sums([numbers[k] for k in rest], allowed, use_all)
        if target - value in sums or (minus and target + value in sums):
            return True
    return False


def product_shortcut(numbers: list[int], target: int, operators: str, use_all: bool) -> str | None:
    """The expression of ``product_reach``'s template whose value is closest to the target (the
    first found on ties; positive values only), or None where no × or ÷ is allowed or no
    pattern is positive: what a policy answers with that template, for ``attacks``."""
    allowed = set(operators.split(","))
    best: tuple[int, str] | None = None
    for value, text, rest in product_terms(numbers, allowed):
        others = [numbers[k] for k in rest]
        for total, pattern in sign_sums(others, allowed, use_all).items():
            for sign in (1, -1) if "-" in allowed else (1,):
                result = sign * value + total
                if result <= 0 or (best is not None and abs(result - target) >= best[0]):
                    continue
                terms = [(sign, text)]
                terms += [(s, str(n)) for s, n in zip(pattern, others) if s]
                added = [t for s, t in terms if s > 0]
                subtracted = [t for s, t in terms if s < 0]
                best = (abs(result - target), " - ".join([" + ".join(added), *subtracted]))
    return None if best is None else best[1]


def construct(rng: random.Random, numbers: list[int], operators: list[str], use_all: bool) -> tuple[int, str] | None:
    """A target built from the numbers by Countdown's own rules (every intermediate a positive
    integer, divisions exact): all numbers when ``use_all``, else a random subset of at least
    two. Returns (target, expression) or None when no operator keeps the rules at some step."""
    pool = list(numbers) if use_all else rng.sample(numbers, rng.randint(2, len(numbers)))
    items = [(n, str(n)) for n in pool]
    rng.shuffle(items)
    while len(items) > 1:
        i, j = sorted(rng.sample(range(len(items)), 2))
        (a, ea), (b, eb) = items[i], items[j]
        if a < b:
            (a, ea), (b, eb) = (b, eb), (a, ea)
        choices = [
            op
            for op in rng.sample(operators, len(operators))
            if not (op == "-" and a == b) and not (op == "/" and (b == 1 or a % b))
        ]
        if not choices:
            return None
        op = choices[0]
        value = {"+": a + b, "-": a - b, "*": a * b, "/": a // b if b else 0}[op]
        items = items[:i] + items[i + 1 : j] + items[j + 1 :] + [(value, f"({ea} {SYMBOLS[op]} {eb})")]
    value, text = items[0]
    return value, text[1:-1] if text.startswith("(") else text


class CountdownGenerator(TaskGenerator):
    """Countdown tasks; ``preset="game24"`` pins the 24 game's parameters (Game24-v0)."""

    declaration = FAMILY

    def __init__(self, preset: str = "none"):
        if preset not in PRESETS:
            raise ValueError(f"preset must be one of {', '.join(PRESETS)}, got {preset!r}")
        self.preset = preset

    def resolve(self, difficulty: float, overrides: dict) -> dict:
        pinned = PRESETS[self.preset]
        clash = sorted(set(overrides) & set(pinned))
        if clash:
            raise ValueError(f"the {self.preset} preset fixes {', '.join(clash)}; use rlvr/Countdown-v0 to choose them")
        return {**self.table.resolve(difficulty, overrides), **pinned}

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        count, max_number, operators = params["numbers"], params["max_number"], params["operators"]
        use_all, fixed_target, target_max = params["use_all"], params["target"], params["target_max"]
        allowed = operators.split(",")
        screen_signs = "*" in allowed or "/" in allowed  # a draw signs alone solve ranks below any other
        screen_product = screen_signs and count >= PRODUCT_SCREEN_MIN_NUMBERS
        best = None
        for draw in range(1, MAX_DRAWS + 1):
            numbers = [rng.randint(1, max_number) for _ in range(count)]
            if fixed_target:
                target, expression = fixed_target, None
            else:
                built = construct(rng, numbers, allowed, use_all)
                if built is None or not 1 <= built[0] <= target_max or built[0] in numbers:
                    continue
                target, expression = built
            try:  # a constructed target has an integer-rules solution, so that search finds one
                found, nodes = search(numbers, target, operators, use_all, integers=not fixed_target)
            except SearchCapReached:
                found, nodes = expression, SEARCH_NODE_CAP
            if found is None:
                continue  # a fixed target these numbers cannot reach
            if screen_signs and signs_reach(numbers, target, use_all):
                rank = 0
            elif screen_product and product_reach(numbers, target, operators, use_all):
                rank = 1
            else:
                rank = 2
            candidate = (rank, nodes, numbers, target, found if expression is None else expression, draw)
            if best is None or candidate[:2] > best[:2]:
                best = candidate
            if rank == 2 and nodes >= params["min_search_nodes"]:
                break
        if best is None:
            raise ValueError(
                f"no {count} numbers up to {max_number} reach a target within {MAX_DRAWS} draws; "
                f"raise max_number or target_max"
            )
        _, nodes, numbers, target, expression, draws = best
        answer = {
            "numbers": numbers,
            "target": target,
            "operators": operators,
            "use_all": use_all,
            "expression": expression,
        }
        meta = {"search_nodes": nodes, "operations": expression.count(" ") // 2, "draws": draws}
        return {"prompt": describe(numbers, target, allowed, use_all), "answer": answer, "meta": meta}

    def solve(self, task: Task) -> str:
        return f"<answer>{task.answer['expression']} = {task.answer['target']}</answer>"

    def hints(self, task: Task) -> list[str]:
        """Where numbers may go unused, how many the reference uses; its last operation; then
        its operations in the order they are computed, one per piece with their values, never
        the last one (nor, where numbers may go unused, a step that already makes the target:
        that step alone would be an answer)."""
        steps = operation_steps(task.answer["expression"])
        target, use_all = int(task.answer["target"]), bool(task.answer["use_all"])
        if not steps:
            return ["The target is one of the given numbers."]
        pieces = (
            []
            if use_all
            else [f"The reference expression uses {len(steps) + 1} of the {len(task.answer['numbers'])} numbers."]
        )
        pieces.append(f"The reference expression's last operation is {OPERATOR_NAMES[steps[-1][1]]}.")
        for index, (left, op, right, value) in enumerate(steps[:-1], start=1):
            if value == target and not use_all:
                break
            pieces.append(f"Step {index} of the reference: {left} {op} {right} = {value}")
        return pieces

    def wrong_response(self, task: Task) -> str:
        """A near miss: the reference expression with one more added (target + n)."""
        return f"<answer>({task.answer['expression']}) + 1</answer>"

    def split_group(self, task: Task) -> Any:
        """The numbers as a multiset, the target and the rules: the same puzzle with its numbers
        listed in another order (or posed by Game24 and Countdown alike) is on one side."""
        answer = task.answer
        return [sorted(answer["numbers"]), answer["target"], answer["operators"], answer["use_all"]]

    def attacks(self, task: Task) -> list[tuple[str, Any]]:
        """What a reward-hacking policy tries on Countdown: the target alone or claimed, the
        reference expression with a number reused, a number not given, digits glued, unary
        minus, powers, division by zero, Python the verifier might ``eval``, the right value
        as a decimal, an expression of other numbers, a huge answer, and the closest answer of
        the one-product template (``product_shortcut``; left out where it solves the task)."""
        answer = task.answer
        numbers, target = list(answer["numbers"]), int(answer["target"])
        first = numbers[0]
        glued = int(f"{numbers[0]}{numbers[1]}") if len(numbers) > 1 else first * 11
        others = [n for n in range(1, 10) if n not in numbers][:2] or [target + 1, 1]
        attacks = [
            ("target-alone", f"<answer>{target}</answer>"),
            ("target-times-one", f"<answer>{target} * 1</answer>"),
            ("claim-only", f"<answer>= {target}</answer>"),
            ("number-reused", f"<answer>{first} + {first} - {first} + {target} - {target}</answer>"),
            ("unary-minus", f"<answer>-{first} + {first} + {target}</answer>"),
            ("glued-digits", f"<answer>{glued} - {glued} + {target}</answer>"),
            ("power", f"<answer>{first} ** 1 * {target}</answer>"),
            ("caret-power", f"<answer>{first} ^ 1</answer>"),
            ("divide-by-zero", f"<answer>{first} / ({first} - {first})</answer>"),
            ("python-eval", f"<answer>__import__('os').system('true') or {target}</answer>"),
            ("decimal-target", f"<answer>{target}.0</answer>"),
            ("other-numbers", f"<answer>{others[0]} * {others[-1]} - {others[0] * others[-1]} + {target}</answer>"),
            ("wrong-claim", f"<answer>{' + '.join(map(str, numbers))} = {target}</answer>"),
            ("huge", "<answer>" + " + ".join(["1"] * 5_000) + "</answer>"),
            ("nested-parens", "<answer>" + "(" * 500 + str(first) + ")" * 500 + "</answer>"),
        ]
        shortcut = product_shortcut(numbers, target, answer["operators"], bool(answer["use_all"]))
        if shortcut is not None:
            attacks.append(("one-product-signs", f"<answer>{shortcut}</answer>"))
        return [(name, text) for name, text in attacks if not _solves(task, text)]


def _solves(task: Task, response: str) -> bool:
    """Whether an attack happens to be a real solution (then it is an answer, not an attack)."""
    answer = task.answer
    text = response.removeprefix("<answer>").removesuffix("</answer>")
    try:
        return judge(
            text, list(answer["numbers"]), int(answer["target"]), answer["operators"], bool(answer["use_all"])
        )[0]
    except ValueError:
        return False


OPERATOR_NAMES = {"+": "an addition (+)", "-": "a subtraction (-)", "*": "a multiplication (*)", "/": "a division (/)"}
AST_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


def operation_steps(expression: str) -> list[tuple[Fraction, str, Fraction, Fraction]]:
    """The binary operations of a reference expression (integers, + - * /, parentheses) in
    the order they are computed (left operand first), as (left, operator, right, value) in
    exact rationals."""
    steps: list[tuple[Fraction, str, Fraction, Fraction]] = []

    def walk(node: ast.AST) -> Fraction:
        if isinstance(node, ast.Constant):
            return Fraction(node.value)
        left, right = walk(node.left), walk(node.right)
        op = AST_OPERATORS[type(node.op)]
        value = {"+": left + right, "-": left - right, "*": left * right, "/": left / right}[op]
        steps.append((left, op, right, value))
        return value

    walk(ast_parse.parse(expression, mode="eval").body)
    return steps


OPERATOR_WORDS = {"+": "addition (+)", "-": "subtraction (-)", "*": "multiplication (*)", "/": "division (/)"}


def describe(numbers: list[int], target: int, operators: list[str], use_all: bool) -> str:
    rule = "Use every number exactly once." if use_all else "Use each number at most once; you need not use them all."
    return (
        f"Using the numbers {', '.join(map(str, numbers))}, make {target}.\n\n"
        f"{rule} Allowed operations: {', '.join(OPERATOR_WORDS[o] for o in operators)}, with parentheses as needed; "
        "intermediate results may be fractions. You may not join digits into new numbers, use a number more often "
        "than it is given, or use unary minus or powers.\n"
        "Put your final answer inside <answer>…</answer> as one arithmetic expression, optionally followed by "
        f"'= {target}', for example <answer>(3 + 5) * 2 = 16</answer>."
    )
