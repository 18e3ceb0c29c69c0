"""The state-machine families: seqdet (a sequence detector for a random target pattern, Moore or
Mealy, overlapping or not, built from the pattern's automaton) and fsm (a random Moore state
table whose states are all reachable and pairwise distinguishable). Both share ``fsm_body``, the
case-statement rendering of a state table, and set ``explore`` so the stimulus adds W-method
transition tests."""

from __future__ import annotations

import random
from collections import deque

from rlvr.generators.verilog.design import Design, Reset, always_seq, clog2, format_table


def pattern_automaton(target: str, moore: bool, overlap: bool) -> tuple[list[list[int]], list]:
    """(next[state][bit], outputs): Moore outputs per state, Mealy per (state, bit)."""
    length = len(target)

    def longest(history: str, cap: int) -> int:
        for j in range(min(cap, len(history)), -1, -1):
            if history.endswith(target[:j]):
                return j
        return 0

    count = length + 1 if moore else length
    table, outputs = [], []
    for state in range(count):
        row, outs = [], []
        for bit in "01":
            if moore and state == length and not overlap:
                history = bit
            else:
                history = target[:state] + bit
            j = longest(history, length)
            if moore:
                row.append(j)
            elif j == length:
                outs.append(1)
                row.append(longest(history, length - 1) if overlap else 0)
            else:
                outs.append(0)
                row.append(j)
        table.append(row)
        outputs.append(int(state == length) if moore else outs)
    return table, outputs


def sample_seqdet(rng: random.Random, p: dict, reset: str) -> dict:
    length = p["states"]
    target = "".join(rng.choice("01") for _ in range(length))
    while len(set(target)) == 1 and length > 2:
        target = "".join(rng.choice("01") for _ in range(length))
    moore = True if p["ports"] <= 1 else rng.random() < 0.5
    overlap = True if p["ports"] <= 1 else rng.random() < 0.5
    return {"target": target, "moore": moore, "overlap": overlap, "reset": reset}


def fsm_body(
    r: Reset, table: list[list[int]], input_name: str, input_bits: int, outputs_text: str, bug: tuple | None
) -> str:
    count = len(table)
    sw = clog2(count)
    names = ", ".join(f"S{k} = {sw}'d{k}" for k in range(count))
    lines = [f"  localparam {names};", f"  reg [{sw - 1}:0] state, next;", "  always @(*) begin", "    case (state)"]
    for state, row in enumerate(table):
        targets = [bug[2] if bug and bug[0] == state and bug[1] == v else t for v, t in enumerate(row)]
        if input_bits == 1:
            lines.append(f"      S{state}: next = {input_name} ? S{targets[1]} : S{targets[0]};")
        else:
            lines.append(f"      S{state}: case ({input_name})")
            lines += [f"        {input_bits}'d{v}: next = S{t};" for v, t in enumerate(targets)]
            lines.append("      endcase")
    if count < (1 << sw):
        lines.append("      default: next = S0;")
    lines += [
        "    endcase",
        "  end",
        always_seq(r).rstrip("\n"),
        f"    if ({r.cond}) state <= S0;",
        "    else state <= next;",
        "  end",
    ]
    return "\n".join(lines) + "\n" + outputs_text


def build_seqdet(s: dict) -> Design:
    target, moore, overlap = s["target"], s["moore"], s["overlap"]
    r = Reset(s["reset"])
    length = len(target)
    table, outs = pattern_automaton(target, moore, overlap)
    if moore:
        output_text = f"  assign z = (state == S{length});\n"
        bug = (length - 1, int(target[-1]), 0)
    else:
        output_text = f"  assign z = (state == S{length - 1}) && ({'x' if target[-1] == '1' else '!x'});\n"
        bug = (length - 2, int(target[-2]), 0)

    def next_state(state: int, u: dict) -> int:
        return table[state][u["x"]]

    def out(state: int, u: dict) -> dict:
        return {"z": outs[state] if moore else outs[state][u["x"]]}

    overlap_text = (
        "Occurrences may overlap: the last bits of one occurrence can start the next."
        if overlap
        else "Occurrences do not overlap: after a detection, the bits of that occurrence cannot be reused; the "
        "search starts afresh with the next bit."
    )
    if moore:
        timing = (
            "z is 1 during the whole clock cycle that follows the rising edge at which the last bit of an occurrence "
            "was sampled, and 0 otherwise (a Moore output: it depends only on the state)."
        )
    else:
        timing = (
            "z is 1, combinationally, while the bits sampled at the previous rising edges followed by the current "
            "value of x complete an occurrence, and 0 otherwise (a Mealy output: it depends on the state and on x)."
        )
    text = (
        f"The module watches the serial input x, sampled at each rising edge of clk, for the {length}-bit pattern "
        f"{target} (the leftmost bit arrives first). {timing} {overlap_text} After reset no bits have been seen."
    )
    if moore:
        rows = [
            [f"S{k}" + (" (reset)" if k == 0 else ""), f"S{row[0]}", f"S{row[1]}", outs[k]]
            for k, row in enumerate(table)
        ]
        table_text = (
            "Moore state machine (the state encoding is up to you; only z is observed). At each rising edge the state "
            "moves to the next state for the current x; z depends only on the current state:\n"
            + format_table(["state", "next if x=0", "next if x=1", "z"], rows)
        )
    else:
        rows = [
            [f"S{k}" + (" (reset)" if k == 0 else ""), f"S{row[0]}", f"S{row[1]}", outs[k][0], outs[k][1]]
            for k, row in enumerate(table)
        ]
        table_text = (
            "Mealy state machine (the state encoding is up to you; only z is observed). At each rising edge the state "
            "moves to the next state for the current x; z depends on the current state and the current x:\n"
            + format_table(["state", "next if x=0", "next if x=1", "z if x=0", "z if x=1"], rows)
        )
    pattern = [{"x": int(c)} for c in target]
    directed = [pattern + pattern + [{"x": int(c)} for c in target[1:]] + pattern, pattern[:-1] + pattern]
    return Design(
        "seqdet",
        [("x", 1)],
        [("z", 1)],
        fsm_body(r, table, "x", 1, output_text, None),
        fsm_body(r, table, "x", 1, output_text, bug),
        text,
        table=table_text,
        reset=r,
        reset_action="the machine returns to its reset state (no bits seen)",
        reset_state=0,
        next_state=next_state,
        out=out,
        directed=directed,
        explore=True,
        chunk=lambda rng: [
            {"x": int(c)} for c in (target[rng.randrange(length) :] if rng.random() < 0.5 else rng.choice("01"))
        ],
    )


def moore_is_minimal(table: list[list[int]], outs: list[int]) -> bool:
    classes = list(outs)
    while True:
        signature = [(classes[s], tuple(classes[t] for t in table[s])) for s in range(len(table))]
        numbering = {sig: i for i, sig in enumerate(sorted(set(signature)))}
        refined = [numbering[sig] for sig in signature]
        if len(set(refined)) == len(set(classes)):
            return len(set(refined)) == len(table)
        classes = refined


def reachable(table: list[list[int]]) -> set[int]:
    seen, queue = {0}, deque([0])
    while queue:
        for t in table[queue.popleft()]:
            if t not in seen:
                seen.add(t)
                queue.append(t)
    return seen


def sample_fsm(rng: random.Random, p: dict, reset: str) -> dict:
    k = p["states"]
    in_bits = 2 if p["ports"] >= 3 else 1
    out_bits = 2 if p["ports"] >= 2 else 1
    for _ in range(200):
        table = [[rng.randrange(k) for _ in range(1 << in_bits)] for _ in range(k)]
        outs = [rng.randrange(1 << out_bits) for _ in range(k)]
        if len(set(outs)) > 1 and len(reachable(table)) == k and moore_is_minimal(table, outs):
            break
    else:
        raise RuntimeError("no reachable, minimal state machine found in 200 draws")
    return {"next": table, "out": outs, "in_bits": in_bits, "out_bits": out_bits, "reset": reset}


def build_fsm(s: dict) -> Design:
    table = [list(row) for row in s["next"]]
    outs, ib, ob = list(s["out"]), s["in_bits"], s["out_bits"]
    r = Reset(s["reset"])
    k = len(table)
    output_lines = ["  always @(*) begin", "    case (state)"]
    output_lines += [f"      S{state}: y = {ob}'d{value};" for state, value in enumerate(outs)]
    if k < (1 << clog2(k)):
        output_lines.append(f"      default: y = {ob}'d0;")
    output_lines += ["    endcase", "  end"]
    output_text = "\n".join(output_lines) + "\n"
    bug = None
    for state in range(k):
        for value, t in enumerate(table[state]):
            other = next((c for c in range(k) if c != t and outs[c] != outs[t]), None)
            if bug is None and other is not None:
                bug = (state, value, other)
    text_rows = []
    for state, row in enumerate(table):
        moves = ", ".join(f"if x is {v} it goes to S{t}" for v, t in enumerate(row))
        text_rows.append(
            f"In state S{state}{' (the reset state)' if state == 0 else ''} the output y is {outs[state]}; at a "
            f"rising edge of clk, {moves}."
        )
    text = (
        f"A Moore state machine with {k} states S0..S{k - 1} (encode them as you like; only y is observed). y "
        "depends only on the current state. " + " ".join(text_rows)
    )
    headers = ["state"] + [f"next if x={v}" for v in range(1 << ib)] + ["y"]
    rows = [
        [f"S{state}" + (" (reset)" if state == 0 else "")] + [f"S{t}" for t in row] + [outs[state]]
        for state, row in enumerate(table)
    ]
    table_text = (
        "Moore state machine (state encoding is up to you; only y is observed). At each rising edge the state "
        "moves to the next state for the current x; y depends only on the current state:\n"
        + format_table(headers, rows)
    )

    def next_state(state: int, u: dict) -> int:
        return table[state][u["x"]]

    return Design(
        "fsm",
        [("x", ib)],
        [("y", ob)],
        fsm_body(r, table, "x", ib, output_text, None),
        fsm_body(r, table, "x", ib, output_text, bug),
        text,
        regs=frozenset({"y"}),
        table=table_text,
        reset=r,
        reset_action="the machine goes to state S0",
        reset_state=0,
        next_state=next_state,
        out=lambda state, u: {"y": outs[state]},
        explore=True,
    )
