"""Hints for both Verilog families, read from the reference module (never all of it): the port
list, the state encoding, then the body a few lines at a time, stopping after about three
quarters of it."""

from __future__ import annotations

import re

HINT_CHUNKS = 4
ENCODING = re.compile(r"^\s*(localparam|parameter)\b")


def reference_hints(reference: str) -> list[str]:
    """Guidance pieces from a reference module's source (``RefModule`` named ``TopModule``)."""
    source = re.sub(r"\bRefModule\b", "TopModule", reference)
    lines = [line.rstrip() for line in source.splitlines() if line.strip() and not line.strip().startswith("//")]
    header_end = next((i for i, line in enumerate(lines) if line.rstrip().endswith(");")), 0)
    header = " ".join(line.strip() for line in lines[: header_end + 1])
    body = [line for line in lines[header_end + 1 :] if line.strip() != "endmodule"]
    encoding = [line.strip() for line in body if ENCODING.match(line)]
    logic = [line for line in body if not ENCODING.match(line)]
    pieces = [f"Ports: {header}"]
    if encoding:
        pieces.append("State encoding: " + " ".join(encoding))
    cut = (len(logic) * 3) // 4
    size = max(1, -(-cut // HINT_CHUNKS))
    pieces += [
        f"Design lines {start + 1}–{min(start + size, cut)} (of {len(logic)}):\n"
        + "\n".join(logic[start : min(start + size, cut)])
        for start in range(0, cut, size)
    ]
    return pieces
