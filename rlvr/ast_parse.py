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
import threading
from typing import Any

_LOCK = threading.Lock()


def parse(source: str | bytes, mode: str = "exec") -> ast.AST:
    """``ast.parse(source, mode=mode)``, one thread at a time."""
    with _LOCK:
        return ast.parse(source, mode=mode)


def literal_eval(node_or_text: str | ast.AST) -> Any:
    """``ast.literal_eval``, parsing text one thread at a time (evaluating a node needs no lock)."""
    if isinstance(node_or_text, str):
        node_or_text = parse(node_or_text.lstrip(" \t"), mode="eval")
    return ast.literal_eval(node_or_text)
