"""Which calls an assert-style check will make of the candidate, known from its source alone.

The code verifier relays every call the trusted checker makes of the candidate (assert style, see
``rlvr.verifiers.code``): checker -> host -> candidate -> host -> checker, four hops and a wake-up
of each process per call, about 0.25 ms of a HumanEval problem's ~7 ms per call.  Most checks
call the candidate with literal arguments in straight-line statements (``assert candidate([1, 2],
3) == 4``), so those calls and their order are fixed before the check runs.  ``calls_known_ahead``
finds the longest prefix of a check's calls that is certain; while the check stops at its first
failure (so no failed check can skip a call and go on), the host sends each of them to the
candidate's server one call ahead -- call k + 1 once the reply to call k has gone to the checker
-- so the candidate computes it while the checker works, and when the checker makes call k + 1
the host matches it with the call sent and hands back the reply already waiting.  The candidate
sees exactly the calls, in exactly the order, that the check makes, and each only after it has
answered the one before (never a later call's arguments while it answers: one check's input may
be another's answer).  Should the checker make a different call (check code that reaches the
candidate where its source does not show it, e.g. through ``globals()``), the host drops the
reply to the call sent and relays the rest one by one: the candidate has then run one call the
check did not make.

A call is known ahead when, in the order Python evaluates them, it is a call of the check's
parameter (or of the entry point's name) with literal arguments (``ast.literal_eval``), in one of
the leading top-level statements of ``check`` -- an ``assert`` (its test; a message never runs a
call), an expression or an assignment to plain names -- and everything evaluated before it in
that prefix is known not to call the candidate or the host: only calls of common builtins, of
functions and classes the check or setup code defines at its top level, of imported modules'
attributes and of methods of values (not the setup code's functions, which may name the entry
point); every name read is one the check or setup code binds where the check can see it, or a
builtin (any other is the checker's stand-in for a class of the candidate, which calls the host
when called); no ``and``/``or``, conditional expressions, chained comparisons, comprehensions or
lambdas around a candidate call; the candidate named nowhere else in the code, the setup code
included.  The prefix ends at the first statement that is not so.

Version history: added in release 0.1.0 (session 20; red team s20's mispredicted shapes -- a stand-in
handed to ``max(key=...)``, setup code calling the entry point, a name bound only as another
function's parameter -- now end the prefix).
"""

from __future__ import annotations

import ast
import builtins
import functools
import json

from rlvr import ast_parse
from rlvr.verifiers.code_harness import CodecError, encode_kwargs, encode_value

# Builtins whose calls never call back into the candidate (unless the check code rebinds them).
SAFE_BUILTINS = frozenset(
    {
        "abs", "all", "any", "bool", "chr", "dict", "divmod", "enumerate", "filter", "float",
        "frozenset", "hash", "int", "isinstance", "len", "list", "map", "max", "min", "ord",
        "pow", "range", "repr", "reversed", "round", "set", "sorted", "str", "sum", "tuple",
        "type", "zip",
    }
)  # fmt: skip

# Nodes whose parts may run partly or never (short-circuits, lazy bodies): no candidate call inside.
_OPAQUE = (
    ast.BoolOp,
    ast.IfExp,
    ast.Lambda,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
    ast.NamedExpr,
    ast.Dict,
    ast.Await,
    ast.Yield,
    ast.YieldFrom,
)


class _Unknown(Exception):
    """The statement's calls of the candidate cannot be known ahead."""


@functools.lru_cache(maxsize=512)
def calls_known_ahead(check_code: str, setup_code: str, entry_point: str) -> tuple[tuple[str, list, list], ...]:
    """The leading calls of ``check(candidate)`` known from the source, in order: per call the
    key the host matches the checker's call message by (``call_key``), and the encoded
    ``args`` and ``kwargs`` to send.  () when none is known (or the code does not parse)."""
    try:
        check_tree = ast_parse.parse(check_code)
        setup_tree = ast_parse.parse(setup_code or "")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ()
    function = next((n for n in check_tree.body if isinstance(n, ast.FunctionDef) and n.name == "check"), None)
    if function is None or not function.args.args:
        return ()
    parameter = function.args.args[0].arg
    names = {parameter} | ({entry_point} if entry_point.isidentifier() else set())
    anywhere = _bound_names(check_tree.body, nested=True) | _bound_names(setup_tree.body, nested=True)
    if (
        entry_point in _bound_names(check_tree.body, nested=True)
        or _named_outside(check_tree, function, names)
        or _named_outside(setup_tree, None, names)  # setup code that calls the entry point by name
    ):
        return ()
    # what the check's statements can see: the check and setup code's module-level names and the
    # check's own (the entry point's stub among them: the checker overrides it with the candidate)
    bound = _bound_names(check_tree.body) | _bound_names(setup_tree.body) | _bound_names(function.body)
    bound |= {arg.arg for arg in function.args.args}
    defined = {node.name for node in check_tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    reader = _Reader(names, (SAFE_BUILTINS - anywhere) | defined, (bound - names) | (set(dir(builtins)) - anywhere))
    calls: list[tuple[str, list, list]] = []
    for statement in function.body:
        try:
            found = reader.statement(statement)
        except _Unknown:
            break
        calls += [(call_key(args, kwargs), args, kwargs) for args, kwargs in found]
    return tuple(calls)


def call_key(args, kwargs) -> str:
    """One text per call's encoded arguments: equal exactly when the encodings are (``1`` and
    ``True`` or ``1.0`` differ)."""
    return json.dumps([args, kwargs], separators=(",", ":"), allow_nan=False)


class _Reader:
    """The candidate calls of one statement, in evaluation order, or ``_Unknown``."""

    def __init__(self, candidate: set[str], callable_names: set[str], known: set[str]):
        self.candidate = candidate
        self.callable_names = callable_names  # names whose calls stay in the checker
        # names the checker resolves without the host: the check and setup code's, builtins; any
        # other is the checker's stand-in for a class of the candidate, which calls the host
        self.known = known

    def statement(self, node: ast.stmt) -> list[tuple[list, list]]:
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.Pass)):
            return []
        if isinstance(node, ast.Assert):
            if node.msg is not None:
                self._inert(node.msg)
            return self.expression(node.test)
        if isinstance(node, ast.Expr):
            return self.expression(node.value)
        if isinstance(node, ast.Assign):
            for target in node.targets:
                for name in ast.walk(target):
                    if not isinstance(name, (ast.Name, ast.Tuple, ast.Store)) or (
                        isinstance(name, ast.Name) and (name.id in self.candidate or name.id in self.callable_names)
                    ):
                        raise _Unknown
            return self.expression(node.value)
        raise _Unknown

    def expression(self, node: ast.expr) -> list[tuple[list, list]]:
        if isinstance(node, ast.Constant):
            return []
        if isinstance(node, ast.Name):
            if node.id in self.candidate or node.id not in self.known:  # the candidate or a stand-in handed on
                raise _Unknown
            return []
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id in self.candidate:
                return [self._literal_call(node)]
            found = self._callee(node.func)
            for part in [*node.args, *(keyword.value for keyword in node.keywords)]:
                found += self.expression(part.value if isinstance(part, ast.Starred) else part)
            return found
        if isinstance(node, ast.Attribute):
            return self.expression(node.value)
        if isinstance(node, ast.BinOp):
            return self.expression(node.left) + self.expression(node.right)
        if isinstance(node, ast.UnaryOp):
            return self.expression(node.operand)
        if isinstance(node, ast.Compare):
            if len(node.ops) != 1:  # a chain stops early once one comparison is false
                self._inert(node)
                return []
            return self.expression(node.left) + self.expression(node.comparators[0])
        if isinstance(node, ast.Subscript):
            return self.expression(node.value) + self.expression(node.slice)
        if isinstance(node, ast.Slice):
            return [call for part in (node.lower, node.upper, node.step) if part for call in self.expression(part)]
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return [call for item in node.elts for call in self.expression(item)]
        if isinstance(node, ast.Starred):
            return self.expression(node.value)
        if isinstance(node, ast.JoinedStr):
            return [call for part in node.values for call in self.expression(part)]
        if isinstance(node, ast.FormattedValue):
            return self.expression(node.value) + (self.expression(node.format_spec) if node.format_spec else [])
        if isinstance(node, _OPAQUE):
            self._inert(node)
            return []
        raise _Unknown

    def _callee(self, func: ast.expr) -> list[tuple[list, list]]:
        """Candidate calls made while evaluating a callee that is not the candidate; _Unknown when
        the callee might call the candidate or the host (a name the checker resolves through it)."""
        if isinstance(func, ast.Name):
            if func.id not in self.callable_names:
                raise _Unknown
            return []
        if isinstance(func, ast.Attribute):
            base = func.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id not in self.known:
                raise _Unknown  # the checker's stand-in for a class of the candidate
            return self.expression(func.value)
        raise _Unknown

    def _literal_call(self, node: ast.Call) -> tuple[list, list]:
        try:
            if any(isinstance(arg, ast.Starred) for arg in node.args) or any(k.arg is None for k in node.keywords):
                raise ValueError
            args = [ast_parse.literal_eval(arg) for arg in node.args]
            kwargs = {keyword.arg: ast_parse.literal_eval(keyword.value) for keyword in node.keywords}
            return encode_value(args), encode_kwargs(kwargs)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError, CodecError):
            raise _Unknown from None

    def _inert(self, node: ast.AST) -> None:
        """``node`` runs no call of the candidate and none through the host."""
        for part in ast.walk(node):
            if isinstance(part, ast.Name) and part.id in self.candidate:
                raise _Unknown
            if isinstance(part, ast.Name) and isinstance(part.ctx, ast.Load) and part.id not in self.known:
                if not any(part.id in _bound_names([n], nested=True) for n in _scopes(node)):
                    raise _Unknown
            called = part.func if isinstance(part, ast.Call) else None
            if isinstance(called, ast.Name) and called.id not in self.callable_names:
                raise _Unknown


_SCOPES = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Lambda,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)


def _bound_names(statements: list, nested: bool = False) -> set[str]:
    """The names ``statements`` bind in their own scope (assignments, loops, imports, definitions,
    ``global``); with ``nested``, in every scope within them too (parameters included)."""
    bound: set[str] = set()
    stack = list(statements)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg) and nested:
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).partition(".")[0])
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            bound.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound.update(node.names)
        if nested or not isinstance(node, _SCOPES):
            stack.extend(ast.iter_child_nodes(node))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stack.extend(node.decorator_list)  # evaluated where the definition stands
    return bound


def _scopes(node: ast.AST) -> list[ast.AST]:
    """The lambdas and comprehensions within ``node`` (their own names: parameters, targets)."""
    return [part for part in ast.walk(node) if isinstance(part, _SCOPES)]


def _named_outside(tree: ast.Module, function: ast.FunctionDef | None, names: set[str]) -> bool:
    """Whether ``names`` occur anywhere but in ``function``'s own statements (a function defined
    elsewhere could then call the candidate from within the prefix), or are bound there."""
    inside = {id(node) for statement in (function.body if function else []) for node in ast.walk(statement)}
    return any(
        isinstance(node, ast.Name)
        and node.id in names
        and (id(node) not in inside or not isinstance(node.ctx, ast.Load))
        for node in ast.walk(tree)
    )
