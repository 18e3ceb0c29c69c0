"""The clocked datapath families: counter, shiftreg, edge and handshake. ``sample_<family>(rng,
params, reset)`` draws the concrete spec, ``build_<family>(spec)`` builds its ``Design`` — golden
body, plausible bug, behaviour text and table, the Python model (``reset_state``,
``next_state``, ``out``) and the directed sequences. (The state-machine families are in
``fsm``.)"""

from __future__ import annotations

import random

from rlvr.generators.verilog.design import Design, Reset, always_seq, clog2, format_table, mask


def sample_counter(rng: random.Random, p: dict, reset: str) -> dict:
    w = p["width"]
    load = w >= 6 or p["ports"] >= 3
    limit = 1 << w if load else min(1 << w, 24)
    direction = "up" if p["ports"] <= 1 else rng.choice(["up", "down"] if p["ports"] == 2 else ["up", "down", "input"])
    return {
        "W": w,
        "M": rng.randint(3, limit),
        "enable": p["ports"] >= 2,
        "direction": direction,
        "load": load,
        "reset": reset,
    }


def build_counter(s: dict) -> Design:
    w, m, en, direction, load = s["W"], s["M"], s["enable"], s["direction"], s["load"]
    r = Reset(s["reset"])
    top = mask(w)
    inputs = (
        ([("load", 1), ("d", w)] if load else [])
        + ([("ena", 1)] if en else [])
        + ([("up", 1)] if direction == "input" else [])
    )

    def count_stmt(up: bool, bug: bool) -> str:
        if up:
            return f"q <= (q >= {w}'d{m - 1}) ? {w}'d{1 if bug else 0} : q + {w}'d1;"
        return f"q <= (q == {w}'d0) ? {w}'d{m - 2 if bug else m - 1} : q - {w}'d1;"

    def body_text(bug: bool) -> str:
        lines = [always_seq(r).rstrip("\n"), f"    if ({r.cond}) q <= {w}'d0;"]
        if load:
            lines.append("    else if (load) q <= d;")
        guard = "else if (ena)" if en else "else"
        if direction == "input":
            lines += [
                f"    {guard} begin",
                f"      if (up) {count_stmt(True, bug)}",
                f"      else {count_stmt(False, False)}",
                "    end",
            ]
        else:
            lines.append(f"    {guard} {count_stmt(direction == 'up', bug)}")
        lines.append("  end")
        return "\n".join(lines) + "\n"

    def next_state(q: int, u: dict) -> int:
        if load and u["load"]:
            return u["d"]
        if en and not u["ena"]:
            return q
        up = u["up"] if direction == "input" else direction == "up"
        if up:
            return 0 if q >= m - 1 else (q + 1) & top
        return m - 1 if q == 0 else q - 1

    up_rule = f"if q is {m - 1} or more it wraps to 0, otherwise it becomes q + 1"
    down_rule = f"if q is 0 it wraps to {m - 1}, otherwise it becomes q - 1"
    counting = {
        "up": f"counts up modulo {m}: {up_rule}",
        "down": f"counts down modulo {m}: {down_rule}",
        "input": f"counts up when up is 1 ({up_rule}) and down when up is 0 ({down_rule})",
    }[direction]
    parts = [f"q is a {w}-bit counter register, updated at each rising edge of clk."]
    if load:
        parts.append("When load is 1, q takes the value of d" + (" (load has priority over ena)." if en else "."))
    if en:
        parts.append(f"Otherwise, when ena is 1, the counter {counting}; when ena is 0, q keeps its value.")
    else:
        parts.append(f"{'Otherwise the' if load else 'The'} counter {counting} at every rising edge.")
    text = " ".join(parts)
    rows = [[f"{r.name} asserted", "0"]]
    if load:
        rows.append(["load = 1", "d"])
    if en:
        rows.append(["ena = 0", "q (hold)"])
    if direction in ("up", "input"):
        rows.append([("up = 1, " if direction == "input" else "") + f"q >= {m - 1}", "0"])
        rows.append([("up = 1, " if direction == "input" else "") + f"q < {m - 1}", "q + 1"])
    if direction in ("down", "input"):
        rows.append([("up = 0, " if direction == "input" else "") + "q = 0", str(m - 1)])
        rows.append([("up = 0, " if direction == "input" else "") + "q > 0", "q - 1"])
    table = (
        "Value of q after each rising edge of clk; the first row whose condition holds applies (so every row "
        "assumes the conditions of the rows above it are false):\n" + format_table(["condition", "next q"], rows)
    )
    base = {"load": 0, "d": 0} if load else {}
    if en:
        base["ena"] = 1
    directed = []
    for up in (True, False) if direction == "input" else (direction == "up",):
        start = (m - 3 if up else 2) if load else 0
        sequence = []
        if load:
            sequence.append(
                {**base, "load": 1, "d": max(0, start), **({"up": int(up)} if direction == "input" else {})}
            )
        run = 6 if load else m + 2
        sequence += [{**base, **({"up": int(up)} if direction == "input" else {})} for _ in range(run)]
        if en:
            sequence.insert(len(sequence) // 2, {**base, "ena": 0, **({"up": int(up)} if direction == "input" else {})})
        directed.append(sequence)
    bias = {"ena": 0.75, "load": 0.06, "up": 0.6}
    return Design(
        "counter",
        inputs,
        [("q", w)],
        body_text(False),
        body_text(True),
        text,
        regs=frozenset({"q"}),
        table=table,
        reset=r,
        reset_action="q becomes 0",
        reset_state=0,
        next_state=next_state,
        out=lambda q, u: {"q": q},
        directed=directed,
        bias=bias,
    )


def sample_shiftreg(rng: random.Random, p: dict, reset: str) -> dict:
    return {
        "W": p["width"],
        "left": rng.random() < 0.5,
        "enable": p["ports"] >= 2,
        "load": p["ports"] >= 3,
        "reset": reset,
    }


def build_shiftreg(s: dict) -> Design:
    w, left, en, load = s["W"], s["left"], s["enable"], s["load"]
    r = Reset(s["reset"])
    inputs = ([("load", 1), ("d", w)] if load else []) + ([("ena", 1)] if en else []) + [("sin", 1)]

    def shift(bug: bool) -> str:
        return f"{{q[{w - 2}:0], sin}}" if left != bug else f"{{sin, q[{w - 1}:1]}}"

    def body_text(bug: bool) -> str:
        lines = [always_seq(r).rstrip("\n"), f"    if ({r.cond}) q <= {w}'d0;"]
        if load:
            lines.append("    else if (load) q <= d;")
        lines.append(f"    {'else if (ena)' if en else 'else'} q <= {shift(bug)};")
        lines.append("  end")
        return "\n".join(lines) + "\n"

    def next_state(q: int, u: dict) -> int:
        if load and u["load"]:
            return u["d"]
        if en and not u["ena"]:
            return q
        return ((q << 1) & mask(w)) | u["sin"] if left else (u["sin"] << (w - 1)) | (q >> 1)

    move = (
        f"shifts left by one: q[{w - 1}:1] takes the old q[{w - 2}:0] and q[0] takes sin"
        if left
        else f"shifts right by one: q[{w - 2}:0] takes the old q[{w - 1}:1] and q[{w - 1}] takes sin"
    )
    parts = [f"q is a {w}-bit shift register, updated at each rising edge of clk."]
    if load:
        parts.append("When load is 1, q takes the value of d" + (" (load has priority over ena)." if en else "."))
    parts.append(
        ("Otherwise, when ena is 1, q " if en else ("Otherwise q " if load else "At every rising edge q "))
        + move
        + ("; when ena is 0, q keeps its value." if en else ".")
    )
    text = " ".join(parts)
    rows = (
        [[f"{r.name} asserted", "0"]]
        + ([["load = 1", "d"]] if load else [])
        + ([["ena = 0", "q (hold)"]] if en else [])
    )
    rows.append(["otherwise", f"{{q[{w - 2}:0], sin}}" if left else f"{{sin, q[{w - 1}:1]}}"])
    table = (
        "Value of q after each rising edge of clk; the first row whose condition holds applies (so every row "
        "assumes the conditions of the rows above it are false):\n" + format_table(["condition", "next q"], rows)
    )
    base = {"load": 0, "d": 0} if load else {}
    if en:
        base["ena"] = 1
    walk = [{**base, "sin": 1}] + [{**base, "sin": 0} for _ in range(w + 1)]
    directed = [walk]
    if load:
        directed.append(
            [{**base, "load": 1, "d": int("10" * w, 2) & mask(w), "sin": 0}] + [{**base, "sin": 1} for _ in range(3)]
        )
    bias = {"ena": 0.75, "load": 0.06, "sin": 0.5}
    return Design(
        "shiftreg",
        inputs,
        [("q", w)],
        body_text(False),
        body_text(True),
        text,
        regs=frozenset({"q"}),
        table=table,
        reset=r,
        reset_action="q becomes 0",
        reset_state=0,
        next_state=next_state,
        out=lambda q, u: {"q": q},
        directed=directed,
        bias=bias,
    )


def sample_edge(rng: random.Random, p: dict, reset: str) -> dict:
    return {"N": max(2, p["width"] // 2), "kind": rng.choice(["rise", "fall", "any"]), "reset": reset}


def build_edge(s: dict) -> Design:
    n, kind = s["N"], s["kind"]
    r = Reset(s["reset"])
    exprs = {"rise": "in & ~prev", "fall": "~in & prev", "any": "in ^ prev"}
    bugs = {"rise": "in & prev", "fall": "~in & ~prev", "any": "in & ~prev"}

    def body_text(bug: bool) -> str:
        return (
            f"  reg [{n - 1}:0] prev;\n"
            + always_seq(r)
            + f"    if ({r.cond}) begin\n      prev <= {n}'d0;\n      pulse <= {n}'d0;\n    end\n"
            + f"    else begin\n      prev <= in;\n      pulse <= {bugs[kind] if bug else exprs[kind]};\n    end\n"
            "  end\n"
        )

    def next_state(state: tuple, u: dict) -> tuple:
        prev, _ = state
        x = u["in"]
        value = {"rise": x & ~prev, "fall": ~x & prev, "any": x ^ prev}[kind] & mask(n)
        return (x, value)

    what = {"rise": "changed from 0 to 1", "fall": "changed from 1 to 0", "any": "changed (0 to 1 or 1 to 0)"}[kind]
    text = (
        "The module keeps a copy of in sampled at the previous rising edge of clk. At each rising edge, pulse[i] "
        f"becomes 1 if in[i] {what} between the previous rising edge and this one (that is, the stored copy and "
        "the current in[i] differ that way), and 0 otherwise; the copy is then updated. So pulse[i] is 1 for the "
        "one clock cycle after the edge is seen."
    )
    cases = {
        "rise": [["0", "1", "1"], ["0", "0", "0"], ["1", "0", "0"], ["1", "1", "0"]],
        "fall": [["0", "1", "0"], ["0", "0", "0"], ["1", "0", "1"], ["1", "1", "0"]],
        "any": [["0", "1", "1"], ["0", "0", "0"], ["1", "0", "1"], ["1", "1", "0"]],
    }[kind]
    table = (
        "Per bit i, at each rising edge of clk (prev[i] is in[i] as sampled at the previous rising edge, 0 after "
        "reset; prev then takes in):\n" + format_table(["prev[i]", "in[i]", "pulse[i] after the edge"], cases)
    )
    ones, alt = mask(n), int("01" * n, 2) & mask(n)
    directed = [
        [{"in": v} for v in (0, ones, ones, 0, 0, alt, ones ^ alt, alt, ones, 0)],
        [{"in": v} for v in (ones, 0, ones)],
    ]
    return Design(
        "edge",
        [("in", n)],
        [("pulse", n)],
        body_text(False),
        body_text(True),
        text,
        regs=frozenset({"pulse"}),
        table=table,
        reset=r,
        reset_action="pulse and the stored copy of in become 0",
        reset_state=(0, 0),
        next_state=next_state,
        out=lambda st, u: {"pulse": st[1]},
        directed=directed,
    )


def sample_handshake(rng: random.Random, p: dict, reset: str) -> dict:
    kind = "reqack" if p["ports"] <= 1 else ("slice" if p["ports"] >= 3 else rng.choice(["reqack", "slice"]))
    return {"kind": kind, "W": max(2, p["width"] // 2), "D": rng.randint(2, 3 + p["ports"]), "reset": reset}


def build_handshake(s: dict) -> Design:
    r = Reset(s["reset"])
    if s["kind"] == "slice":
        w = s["W"]

        def body_text(bug: bool) -> str:
            ready = "!out_valid" if bug else "!out_valid || out_ready"
            return (
                f"  assign in_ready = {ready};\n"
                + always_seq(r)
                + f"    if ({r.cond}) begin\n      out_valid <= 1'b0;\n      out_data <= {w}'d0;\n    end\n"
                + "    else if (in_valid && in_ready) begin\n      out_valid <= 1'b1;\n      out_data <= in_data;\n"
                "    end\n" + "    else if (out_ready) out_valid <= 1'b0;\n  end\n"
            )

        def next_state(st: tuple, u: dict) -> tuple:
            valid, data = st
            if u["in_valid"] and (not valid or u["out_ready"]):
                return (1, u["in_data"])
            if u["out_ready"]:
                return (0, data)
            return st

        def out(st: tuple, u: dict) -> dict:
            return {"in_ready": int(not st[0] or u["out_ready"]), "out_valid": st[0], "out_data": st[1]}

        text = (
            "A one-entry register slice between a producer (in_valid, in_data, in_ready) and a consumer "
            "(out_valid, out_data, out_ready). in_ready is combinational: it is 1 when the slice is empty "
            "(out_valid is 0) or when the consumer takes the current entry in this cycle (out_ready is 1). At each "
            "rising edge of clk: if in_valid and in_ready are both 1, out_data takes in_data and out_valid becomes "
            "1; otherwise, if out_ready is 1, out_valid becomes 0 (out_data keeps its value); otherwise nothing "
            "changes."
        )
        rows = [
            [f"{r.name} asserted", "0", "0"],
            ["in_valid = 1 and in_ready = 1", "1", "in_data"],
            ["else out_ready = 1", "0", "out_data (hold)"],
            ["otherwise", "out_valid (hold)", "out_data (hold)"],
        ]
        table = (
            "in_ready = !out_valid || out_ready (combinational). Registers after each rising edge of clk, first "
            "row that applies wins:\n" + format_table(["condition", "out_valid", "out_data"], rows)
        )
        directed = [
            [
                {"in_valid": 1, "in_data": mask(w), "out_ready": 0},
                {"in_valid": 1, "in_data": 1, "out_ready": 0},
                {"in_valid": 1, "in_data": 2, "out_ready": 1},
                {"in_valid": 1, "in_data": 3, "out_ready": 1},
                {"in_valid": 0, "in_data": 0, "out_ready": 1},
                {"in_valid": 0, "in_data": 0, "out_ready": 0},
            ]
        ]
        return Design(
            "handshake",
            [("in_valid", 1), ("in_data", w), ("out_ready", 1)],
            [("in_ready", 1), ("out_valid", 1), ("out_data", w)],
            body_text(False),
            body_text(True),
            text,
            regs=frozenset({"out_valid", "out_data"}),
            table=table,
            reset=r,
            reset_action="out_valid and out_data become 0",
            reset_state=(0, 0),
            next_state=next_state,
            out=out,
            directed=directed,
            bias={"in_valid": 0.6, "out_ready": 0.6},
        )
    d = s["D"]
    cw = clog2(d + 1)

    def body_text(bug: bool) -> str:
        return (
            "  localparam S_IDLE = 2'd0, S_BUSY = 2'd1, S_ACK = 2'd2;\n  reg [1:0] state;\n"
            f"  reg [{cw - 1}:0] count;\n"
            + always_seq(r)
            + f"    if ({r.cond}) begin\n      state <= S_IDLE;\n      count <= {cw}'d0;\n    end\n"
            + "    else case (state)\n"
            + "      S_IDLE: if (req) begin\n        state <= S_BUSY;\n"
            f"        count <= {cw}'d{d if bug else d - 1};\n      end\n"
            + f"      S_BUSY: if (count == {cw}'d0) state <= S_ACK;\n        else count <= count - {cw}'d1;\n"
            + "      S_ACK: if (!req) state <= S_IDLE;\n      default: state <= S_IDLE;\n    endcase\n  end\n"
            + "  assign busy = (state == S_BUSY);\n  assign ack = (state == S_ACK);\n"
        )

    def next_state(st: tuple, u: dict) -> tuple:
        phase, count = st
        if phase == 0:
            return (1, d - 1) if u["req"] else st
        if phase == 1:
            return (2, count) if count == 0 else (1, count - 1)
        return (0, count) if not u["req"] else st

    text = (
        "A four-phase request/acknowledge responder. While idle, busy and ack are 0. When req is 1 at a rising "
        f"edge of clk while idle, the module becomes busy: busy is 1 for exactly {d} clock "
        f"cycle{'s' if d > 1 else ''} (starting right after that edge), whatever req does. Then busy returns to 0 "
        "and ack becomes 1, and ack stays 1 until req is 0 at a rising edge, after which the module is idle again "
        "(so a new request can be taken at the following rising edge)."
    )
    rows = [
        ["IDLE (reset)", "0", "0", "req = 1: BUSY (for " + str(d) + " cycles); else IDLE"],
        ["BUSY", "1", "0", f"ACK after {d} cycle{'s' if d > 1 else ''} in BUSY; else BUSY"],
        ["ACK", "0", "1", "req = 0: IDLE; else ACK"],
    ]
    table = (
        "State machine; outputs depend only on the state, transitions happen at rising edges of clk:\n"
        + format_table(["state", "busy", "ack", "next state"], rows)
    )
    directed = [[{"req": 1}] * (d + 3) + [{"req": 0}, {"req": 0}, {"req": 1}, {"req": 0}] + [{"req": 0}] * (d + 2)]
    return Design(
        "handshake",
        [("req", 1)],
        [("busy", 1), ("ack", 1)],
        body_text(False),
        body_text(True),
        text,
        table=table,
        reset=r,
        reset_action="the module becomes idle",
        reset_state=(0, 0),
        next_state=next_state,
        out=lambda st, u: {"busy": int(st[0] == 1), "ack": int(st[0] == 2)},
        directed=directed,
        bias={"req": 0.6},
    )
