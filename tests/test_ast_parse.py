"""Host-side parsing goes through rlvr.ast_parse (one lock: CPython 3.11's AST conversion is not
safe on several threads at once, gh-106905)."""

from __future__ import annotations

import ast
import threading
from pathlib import Path

from rlvr import ast_parse

ROOT = Path(__file__).resolve().parents[1] / "rlvr"
# modules that run only inside a sandbox, on one thread, without rlvr importable
SANDBOX_ONLY = {"verifiers/code_harness.py", "verifiers/sandbox/zygote.py", "ast_parse.py"}


def test_no_host_module_parses_python_without_the_lock():
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative in SANDBOX_ONLY:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = {"ast"} | {
            alias.asname
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
            if alias.name == "ast" and alias.asname
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in aliases
                and (
                    node.func.attr == "parse"
                    or (node.func.attr == "literal_eval" and not (node.args and _is_node_argument(node.args[0])))
                )
            ):
                offenders.append(f"{relative}:{node.lineno}")
    assert offenders == []


def _is_node_argument(argument: ast.expr) -> bool:
    """``ast.literal_eval(tree)`` on a tree already parsed under the lock needs no lock: a
    name bound to a parse result or a call that returns a node (a visitor's ``visit``)."""
    return isinstance(argument, ast.Name) and argument.id in ("tree", "node")


def test_parse_and_literal_eval_agree_with_the_standard_library_on_many_threads():
    sources = [repr([list(range(i)), {"k": (i, str(i))}, None, 1.5e-3 * i]) for i in range(200)]
    expected = [ast.literal_eval(text) for text in sources]
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(5):
                assert [ast_parse.literal_eval(text) for text in sources] == expected
                assert ast.dump(ast_parse.parse(sources[-1], mode="eval")) == ast.dump(
                    ast.parse(sources[-1], mode="eval")
                )
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
