"""A small Verilog tokenizer for the golden modules the generator writes (no comments, no
strings): ``significant_tokens(text)`` gives (kind, text, offset) for every token that is not
white space, kind one of "sized" (``8'hff``), "number", "ident" or "op"; ``sized_value`` reads a
sized literal; ``matching`` finds the token that closes a bracket."""

from __future__ import annotations

import re

TOKEN = re.compile(
    r"(?P<space>\s+)|(?P<sized>\d+'[sS]?[bodhBODH][0-9a-fA-FxXzZ_]+)|(?P<number>\d+)|(?P<ident>[A-Za-z_$][A-Za-z0-9_$]*)"
    r"|(?P<op>===|!==|==|!=|<=|>=|<<|>>|&&|\|\||~\^|\^~|\+:|[-+&|^<>~!?:=;,()\[\]{}@#*/%.'])"
)


def significant_tokens(text: str) -> list[tuple[str, str, int]]:
    """(kind, text, offset) of every token of ``text`` that is not white space."""
    return [(m.lastgroup, m.group(), m.start()) for m in TOKEN.finditer(text) if m.lastgroup != "space"]


def sized_value(text: str) -> tuple[int, int]:
    width, rest = text.split("'", 1)
    rest = rest.lstrip("sS")
    base = {"b": 2, "o": 8, "d": 10, "h": 16}[rest[0].lower()]
    return int(width), int(rest[1:].replace("_", ""), base)


def matching(significant: list, i: int, opening: str, closing: str) -> int:
    level = 0
    for j in range(i, len(significant)):
        level += significant[j][1] == opening
        level -= significant[j][1] == closing
        if level == 0:
            return j
    return len(significant) - 1
