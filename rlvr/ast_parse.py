"""``ast.parse`` and ``ast.literal_eval`` that are safe to call from several threads at once.

CPython 3.11 keeps the depth counter of the C-to-Python AST conversion in state that every
thread of an interpreter shares.  When a collection or a finaliser during one thread's
conversion lets another thread run its own, the counters of both go wrong and one of them fails
with ``SystemError: AST constructor recursion depth mismatch`` (CPython gh-106905; fixed in
3.12 and later).  Verification runs on many threads (the TRL reward function, ``rlvr eval``,
the trainers' reward pools), so a right answer could score 0 from that alone.  Every parse of
the library's host side therefore goes through one lock here; a parse takes microseconds to a
few milliseconds (sources are size-capped before they get here), so the lock costs little.
"""

from __future__ import annotations

import ast
import re
import threading
from typing import Any

_LOCK = threading.Lock()
_TOKENS = {str: re.compile(r"\w+|[^\w\s]"), bytes: re.compile(rb"\w+|[^\w\s]")}
_BRACE = {str: "{", bytes: b"{"}


def parse(source: str | bytes, mode: str = "exec") -> ast.AST:
    """``ast.parse(source, mode=mode)``, one thread at a time."""
    with _LOCK:
        return ast.parse(source, mode=mode)


def literal_eval(node_or_text: str | ast.AST) -> Any:
    """``ast.literal_eval``, parsing text one thread at a time (evaluating a node needs no lock)."""
    if isinstance(node_or_text, str):
        node_or_text = parse(node_or_text.lstrip(" \t"), mode="eval")
    return ast.literal_eval(node_or_text)


def parse_cost(source: str | bytes) -> tuple[int, int]:
    """(words and punctuation marks, opening braces) of ``source``, counted in one linear pass
    each: what bounds parsing it. The parser's time and memory grow about linearly with the
    first (~0.7 KB of memory a token); one f-string's parse in CPython 3.11 grows with the
    square of its replacement fields (0.04 s for 5,000, 1 s for 40,000), each opened by a brace.
    Callers that parse untrusted text cap both before ``parse``, which holds the lock (and the
    GIL) while it runs."""
    kind = type(source)
    return _TOKENS[kind].subn(_BRACE[kind][:0], source)[1], source.count(_BRACE[kind])
