"""AST mutation operators that inject realistic bugs into Python source (SWE-smith style).

Every operator finds *sites* in a module's abstract syntax tree and turns each into a
``Mutation``: a replacement of one character span of the original text, so the rest of the
file keeps its exact formatting and the bug's diff is one or a few lines, as a real bug's is.

Operators (``OPERATORS``; only code inside function bodies is mutated, so importing the module
still works):

  flip_operator       ``+``↔``-``, ``*``→``+``, ``//``→``/``, ``%``→``//``, ``&``↔``|``,
                      augmented ``+=``↔``-=``, ``and``↔``or``
  flip_comparison     ``<``↔``<=``, ``>``↔``>=``, ``==``↔``!=``, ``in``↔``not in``, ``is``↔``is not``
  off_by_one          an integer constant n becomes n+1 or n-1
  slice_bound         a slice bound b becomes ``b + 1`` or ``b - 1``
  swap_arguments      two adjacent positional arguments of a call change places
  remove_branch       an ``else`` branch, a whole ``if`` without ``else``, or the ``else`` arm of
                      a conditional expression is removed
  remove_statement    an assignment, augmented assignment, call statement, ``break`` or
                      ``continue`` is deleted (never the only statement of a block)
  wrong_default       an int default becomes n±1, a bool default its negation
  invert_condition    the test of an ``if``, a conditional expression or a comprehension
                      filter is negated (``while`` tests are left alone: no new endless loops)

``mutation_sites(source, path)`` lists every candidate in a stable order;
``Mutation.apply(source)`` returns the mutated text (checked to compile by ``mutation_sites``).
Whether a mutation is a *bug* — some test fails, the others pass — is decided by running tests
(see ``rlvr.generators.swe``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import asdict, dataclass

from rlvr import ast_parse

OPERATORS = (
    "flip_operator",
    "flip_comparison",
    "off_by_one",
    "slice_bound",
    "swap_arguments",
    "remove_branch",
    "remove_statement",
    "wrong_default",
    "invert_condition",
)

BINARY_FLIPS = {
    ast.Add: "-",
    ast.Sub: "+",
    ast.Mult: "+",
    ast.FloorDiv: "/",
    ast.Mod: "//",
    ast.BitAnd: "|",
    ast.BitOr: "&",
}
BINARY_SYMBOLS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.BitAnd: "&",
    ast.BitOr: "|",
}
COMPARISON_FLIPS = {
    ast.Lt: ("<", "<="),
    ast.LtE: ("<=", "<"),
    ast.Gt: (">", ">="),
    ast.GtE: (">=", ">"),
    ast.Eq: ("==", "!="),
    ast.NotEq: ("!=", "=="),
    ast.In: ("in", "not in"),
    ast.NotIn: ("not in", "in"),
    ast.Is: ("is", "is not"),
    ast.IsNot: ("is not", "is"),
}
BOOL_FLIPS = {ast.And: ("and", "or"), ast.Or: ("or", "and")}
MAX_CONSTANT = 10**6  # larger literals are ids or masks, not counts


@dataclass(frozen=True)
class Mutation:
    """One text replacement: ``source[start:end]`` (== ``original``) becomes ``replacement``."""

    path: str
    operator: str
    function: str  # qualified name of the enclosing function, e.g. "Ledger.balance"
    line: int  # 1-based line of the change in the original file
    start: int
    end: int
    original: str
    replacement: str
    description: str

    def apply(self, source: str) -> str:
        if source[self.start : self.end] != self.original:
            raise ValueError(f"{self.path}:{self.line}: the text to mutate has changed")
        return source[: self.start] + self.replacement + source[self.end :]

    def to_dict(self) -> dict:
        return asdict(self)


class _Offsets:
    """Character offsets of (line, UTF-8 column) positions, as ``ast`` reports them."""

    def __init__(self, source: str):
        self.lines = source.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def offset(self, line: int, column: int) -> int:
        text = self.lines[line - 1] if line - 1 < len(self.lines) else ""
        return self.starts[line - 1] + len(text.encode("utf-8")[:column].decode("utf-8", errors="ignore"))

    def span(self, node: ast.AST) -> tuple[int, int]:
        return self.offset(node.lineno, node.col_offset), self.offset(node.end_lineno, node.end_col_offset)

    def line_span(self, first: int, last: int) -> tuple[int, int]:
        """Offsets covering whole lines ``first..last`` (1-based, inclusive)."""
        return self.starts[first - 1], self.starts[min(last, len(self.lines))]


def _functions_with_names(tree: ast.Module) -> list[tuple[str, ast.AST]]:
    """(qualified name, function node) for every function, methods included, in source order."""
    found: list[tuple[str, ast.AST]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                found.append((name, child))
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def _body_nodes(function: ast.AST) -> list[ast.AST]:
    """Nodes inside a function's body, not descending into nested functions or classes."""
    nodes: list[ast.AST] = []
    stack = list(reversed(function.body))
    while stack:
        node = stack.pop()
        nodes.append(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))
    return nodes


def _is_docstring(node: ast.AST, parent_body: list) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        and parent_body
        and parent_body[0] is node
    )


def _gap_token(source: str, start: int, end: int) -> tuple[int, int, str] | None:
    """The operator token between two operands: (start, end, token) if the gap holds exactly one
    operator (parentheses and whitespace aside), else None."""
    gap = source[start:end]
    if "#" in gap or "\\" in gap:
        return None
    match = re.fullmatch(r"[\s()]*?(\s*)(not\s+in|is\s+not|<=|>=|==|!=|//|<|>|in|is|and|or|[-+*/%&|])(\s*)[\s()]*", gap)
    if not match:
        return None
    return start + match.start(2), start + match.end(2), match.group(2)


class _SiteFinder:
    def __init__(self, source: str, path: str):
        self.source = source
        self.path = path
        self.offsets = _Offsets(source)
        self.sites: list[Mutation] = []

    def add(
        self, operator: str, function: str, node_line: int, start: int, end: int, replacement: str, description: str
    ) -> None:
        original = self.source[start:end]
        if original == replacement:
            return
        self.sites.append(
            Mutation(self.path, operator, function, node_line, start, end, original, replacement, description)
        )

    # -- operators ---------------------------------------------------------------------------
    def binary(self, name: str, node: ast.BinOp) -> None:
        flip = BINARY_FLIPS.get(type(node.op))
        if flip is None:
            return
        _, left_end = self.offsets.span(node.left)
        right_start, _ = self.offsets.span(node.right)
        token = _gap_token(self.source, left_end, right_start)
        if token and token[2] == BINARY_SYMBOLS[type(node.op)]:
            self.add("flip_operator", name, node.lineno, token[0], token[1], flip, f"`{token[2]}` became `{flip}`")

    def augmented(self, name: str, node: ast.AugAssign) -> None:
        flips = {ast.Add: ("+=", "-="), ast.Sub: ("-=", "+=")}
        if type(node.op) not in flips:
            return
        old, new = flips[type(node.op)]
        _, target_end = self.offsets.span(node.target)
        value_start, _ = self.offsets.span(node.value)
        gap = self.source[target_end:value_start]
        if gap.count(old) == 1 and "#" not in gap:
            at = target_end + gap.index(old)
            self.add("flip_operator", name, node.lineno, at, at + 2, new, f"`{old}` became `{new}`")

    def boolean(self, name: str, node: ast.BoolOp) -> None:
        if len(node.values) != 2:
            return
        old, new = BOOL_FLIPS[type(node.op)]
        _, left_end = self.offsets.span(node.values[0])
        right_start, _ = self.offsets.span(node.values[1])
        token = _gap_token(self.source, left_end, right_start)
        if token and token[2] == old:
            self.add("flip_operator", name, node.lineno, token[0], token[1], new, f"`{old}` became `{new}`")

    def compare(self, name: str, node: ast.Compare) -> None:
        if len(node.ops) != 1 or type(node.ops[0]) not in COMPARISON_FLIPS:
            return
        old, new = COMPARISON_FLIPS[type(node.ops[0])]
        _, left_end = self.offsets.span(node.left)
        right_start, _ = self.offsets.span(node.comparators[0])
        token = _gap_token(self.source, left_end, right_start)
        if token and re.sub(r"\s+", " ", token[2]) == old:
            self.add("flip_comparison", name, node.lineno, token[0], token[1], new, f"`{old}` became `{new}`")

    def constant(self, name: str, node: ast.Constant, in_slice: bool) -> None:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_CONSTANT or in_slice:
            return
        start, end = self.offsets.span(node)
        if self.source[start:end] != str(value):
            return  # hex, underscores: leave them
        for delta in (1, -1):
            self.add(
                "off_by_one",
                name,
                node.lineno,
                start,
                end,
                str(value + delta),
                f"constant {value} became {value + delta}",
            )

    def slice_bounds(self, name: str, node: ast.Slice) -> None:
        for bound in (node.lower, node.upper):
            if bound is None:
                continue
            start, end = self.offsets.span(bound)
            text = self.source[start:end]
            if isinstance(bound, ast.Constant) and isinstance(bound.value, int) and not isinstance(bound.value, bool):
                if text != str(bound.value):
                    continue
                options = [str(bound.value + 1), str(bound.value - 1)]
            elif "\n" in text:
                continue
            else:
                simple = isinstance(bound, (ast.Name, ast.Attribute, ast.Call, ast.Subscript))
                wrapped = text if simple else f"({text})"
                options = [f"{wrapped} + 1", f"{wrapped} - 1"]
            for option in options:
                self.add(
                    "slice_bound", name, bound.lineno, start, end, option, f"slice bound `{text}` became `{option}`"
                )

    def call(self, name: str, node: ast.Call) -> None:
        arguments = node.args
        if any(isinstance(a, ast.Starred) for a in arguments):
            return
        for first, second in zip(arguments, arguments[1:]):
            a_start, a_end = self.offsets.span(first)
            b_start, b_end = self.offsets.span(second)
            a_text, b_text = self.source[a_start:a_end], self.source[b_start:b_end]
            between = self.source[a_end:b_start]
            if a_text == b_text or "#" in between or "\n" in a_text + b_text:
                continue
            replacement = b_text + between + a_text
            self.add(
                "swap_arguments",
                name,
                node.lineno,
                a_start,
                b_end,
                replacement,
                f"arguments `{a_text}` and `{b_text}` swapped",
            )

    def conditional_expression(self, name: str, node: ast.IfExp) -> None:
        start, end = self.offsets.span(node)
        body_start, body_end = self.offsets.span(node.body)
        body_text = self.source[body_start:body_end]
        if "\n" not in self.source[start:end]:
            wrapped = (
                body_text
                if isinstance(node.body, (ast.Name, ast.Constant, ast.Call, ast.Attribute, ast.Subscript))
                else f"({body_text})"
            )
            self.add(
                "remove_branch",
                name,
                node.lineno,
                start,
                end,
                wrapped,
                "the `else` arm of a conditional expression was removed",
            )
        self.negate(name, node.test, "the condition of a conditional expression was inverted")

    def negate(self, name: str, test: ast.AST, description: str) -> None:
        start, end = self.offsets.span(test)
        text = self.source[start:end]
        if "\n" in text:
            return
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            inner_start, inner_end = self.offsets.span(test.operand)
            replacement = self.source[inner_start:inner_end]
        elif isinstance(test, (ast.Name, ast.Call, ast.Attribute, ast.Subscript, ast.Constant)):
            replacement = f"not {text}"
        else:
            replacement = f"not ({text})"
        self.add("invert_condition", name, test.lineno, start, end, replacement, description)

    def statement_blocks(self, name: str, function: ast.AST) -> None:
        """remove_statement and remove_branch over every statement list in the function."""
        for holder in [function, *(n for n in _body_nodes(function))]:
            for field_name in ("body", "orelse", "finalbody"):
                block = getattr(holder, field_name, None)
                if not isinstance(block, list) or not block or not isinstance(block[0], ast.stmt):
                    continue
                self._block(name, holder, field_name, block)

    def _owns_lines(self, node: ast.stmt) -> bool:
        """The statement starts its first line and ends its last one (no `a = 1; b = 2`)."""
        first = self.offsets.lines[node.lineno - 1]
        last = self.offsets.lines[node.end_lineno - 1]
        head = first.encode("utf-8")[: node.col_offset].decode("utf-8", errors="ignore")
        tail = last.encode("utf-8")[node.end_col_offset :].decode("utf-8", errors="ignore")
        return head.strip() == "" and (tail.strip() == "" or tail.strip().startswith("#"))

    def _block(self, name: str, holder: ast.AST, field_name: str, block: list) -> None:
        real = [s for s in block if not _is_docstring(s, block)]
        for statement in block:
            if _is_docstring(statement, block) or not self._owns_lines(statement):
                continue
            removable = isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Break, ast.Continue)) or (
                isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)
            )
            start, end = self.offsets.line_span(statement.lineno, statement.end_lineno)
            if removable and len(real) > 1:
                summary = self.offsets.lines[statement.lineno - 1].strip()
                self.add(
                    "remove_statement", name, statement.lineno, start, end, "", f"statement `{summary}` was removed"
                )
            if isinstance(statement, ast.If):
                self._if_statement(name, statement, len(real) > 1, start, end)

    def _if_statement(self, name: str, node: ast.If, has_siblings: bool, start: int, end: int) -> None:
        line_text = self.offsets.lines[node.lineno - 1]
        if line_text.lstrip().startswith("elif"):
            return
        self.negate(name, node.test, "an `if` condition was inverted")
        if node.orelse:
            first_else = node.orelse[0]
            is_elif = isinstance(first_else, ast.If) and self.offsets.lines[first_else.lineno - 1].lstrip().startswith(
                "elif"
            )
            if is_elif:
                return
            else_line = next(
                (
                    n
                    for n in range(first_else.lineno - 1, node.body[-1].end_lineno, -1)
                    if self.offsets.lines[n - 1].strip().startswith("else")
                ),
                None,
            )
            last = node.orelse[-1].end_lineno
            if else_line is None or not self.offsets.lines[last - 1].strip():
                return
            else_start, else_end = self.offsets.line_span(else_line, last)
            self.add("remove_branch", name, else_line, else_start, else_end, "", "an `else` branch was removed")
        elif has_siblings and self._owns_lines(node):
            self.add(
                "remove_branch", name, node.lineno, start, end, "", f"the branch `{line_text.strip()}` was removed"
            )

    def defaults(self, name: str, function: ast.AST) -> None:
        arguments = function.args
        for default in [*arguments.defaults, *(d for d in arguments.kw_defaults if d is not None)]:
            if not isinstance(default, ast.Constant):
                continue
            start, end = self.offsets.span(default)
            text = self.source[start:end]
            value = default.value
            if isinstance(value, bool):
                options = [str(not value)]
            elif isinstance(value, int) and text == str(value) and abs(value) <= MAX_CONSTANT:
                options = [str(value + 1), str(value - 1)]
            else:
                continue
            for option in options:
                self.add(
                    "wrong_default", name, default.lineno, start, end, option, f"default `{text}` became `{option}`"
                )

    # -- driver ------------------------------------------------------------------------------
    def find(self, tree: ast.Module) -> list[Mutation]:
        for name, function in _functions_with_names(tree):
            self.defaults(name, function)
            self.statement_blocks(name, function)
            slice_constants: set[int] = set()
            nodes = _body_nodes(function)
            for node in nodes:
                if isinstance(node, ast.Slice):
                    for bound in (node.lower, node.upper, node.step):
                        if isinstance(bound, ast.Constant):
                            slice_constants.add(id(bound))
            for node in nodes:
                if isinstance(node, ast.BinOp):
                    self.binary(name, node)
                elif isinstance(node, ast.AugAssign):
                    self.augmented(name, node)
                elif isinstance(node, ast.BoolOp):
                    self.boolean(name, node)
                elif isinstance(node, ast.Compare):
                    self.compare(name, node)
                elif isinstance(node, ast.Constant):
                    self.constant(name, node, id(node) in slice_constants)
                elif isinstance(node, ast.Slice):
                    self.slice_bounds(name, node)
                elif isinstance(node, ast.Call):
                    self.call(name, node)
                elif isinstance(node, ast.IfExp):
                    self.conditional_expression(name, node)
                elif isinstance(node, ast.comprehension):
                    for condition in node.ifs:
                        self.negate(name, condition, "a comprehension filter was inverted")
        return self.sites


def mutation_sites(source: str, path: str, operators: tuple[str, ...] = OPERATORS) -> list[Mutation]:
    """Every single mutation of ``source`` by the given operators whose result still compiles,
    sorted by (position, operator, replacement). A file that does not parse has none."""
    try:
        tree = ast_parse.parse(source)
    except (SyntaxError, ValueError):
        return []
    found = [m for m in _SiteFinder(source, path).find(tree) if m.operator in operators]
    unique: dict[tuple, Mutation] = {}
    for mutation in found:
        unique.setdefault((mutation.start, mutation.end, mutation.replacement), mutation)
    result = []
    for mutation in sorted(unique.values(), key=lambda m: (m.start, m.end, m.operator, m.replacement)):
        try:
            compile(mutation.apply(source), path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError):
            continue
        result.append(mutation)
    return result


def apply_mutations(source: str, mutations: list[Mutation]) -> str:
    """Apply several non-overlapping mutations of one file (right to left, so offsets hold)."""
    ordered = sorted(mutations, key=lambda m: m.start, reverse=True)
    for later, earlier in zip(ordered, ordered[1:]):
        if earlier.end > later.start:
            raise ValueError("overlapping mutations")
    for mutation in ordered:
        source = mutation.apply(source)
    return source
