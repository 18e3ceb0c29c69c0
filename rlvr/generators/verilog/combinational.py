"""The ten combinational families: for each, ``sample_<family>(rng, params)`` draws the concrete
spec (a JSON-able dict) and ``build_<family>(spec)`` builds its ``Design`` — golden body, the
plausible bug, prose and table behaviour, the Python model (``comb``) and the directed vectors.
Families: adder, comparator, mux, decoder, priority, popcount, parity, alu, bitmanip, truthtable."""

from __future__ import annotations

import random

from rlvr.generators.verilog.design import Design, bits, clog2, format_table, mask, special_values, to_signed


def sample_adder(rng: random.Random, p: dict) -> dict:
    op = rng.choice(["add", "sub"] if p["ports"] <= 1 else ["add", "sub", "addsub"])
    return {"W": p["width"], "op": op, "carry_in": p["ports"] >= 2 and op != "addsub", "overflow": p["ports"] >= 3}


def build_adder(s: dict) -> Design:
    w, op = s["W"], s["op"]
    top = mask(w)
    cin = {"add": "cin", "sub": "bin"}.get(op) if s["carry_in"] else None
    result, carry = {"add": ("sum", "cout"), "sub": ("diff", "bout"), "addsub": ("result", "cout")}[op]
    inputs = [("a", w), ("b", w)] + ([(cin, 1)] if cin else []) + ([("sub", 1)] if op == "addsub" else [])
    outputs = [(result, w), (carry, 1)] + ([("overflow", 1)] if s["overflow"] else [])
    extra = f" + {cin}" if cin and op == "add" else (f" - {cin}" if cin else "")
    if op == "add":
        total = f"{{1'b0, a}} + {{1'b0, b}}{extra}"
        signed_total = f"{{a[{w - 1}], a}} + {{b[{w - 1}], b}}{extra}"
    elif op == "sub":
        total = f"{{1'b0, a}} - {{1'b0, b}}{extra}"
        signed_total = f"{{a[{w - 1}], a}} - {{b[{w - 1}], b}}{extra}"
    else:
        total = f"{{1'b0, a}} + {{1'b0, b ^ {{{w}{{sub}}}}}} + sub"
        signed_total = f"{{a[{w - 1}], a}} + {{b[{w - 1}] ^ sub, b ^ {{{w}{{sub}}}}}} + sub"

    def body_text(bug: bool) -> str:
        lines = [
            f"  wire [{w}:0] total;",
            f"  assign total = {total};",
            f"  assign {result} = total[{w - 1}:0];",
            f"  assign {carry} = total[{w - 1 if bug else w}];",
        ]
        if s["overflow"]:
            lines += [
                f"  wire [{w}:0] signed_total;",
                f"  assign signed_total = {signed_total};",
                f"  assign overflow = signed_total[{w}] ^ signed_total[{w - 1}];",
            ]
        return "\n".join(lines) + "\n"

    def comb(u: dict) -> dict:
        a, b, c = u["a"], u["b"], u.get(cin, 0) if cin else 0
        if op == "add":
            t, st = a + b + c, to_signed(a, w) + to_signed(b, w) + c
        elif op == "sub":
            t, st = a - b - c, to_signed(a, w) - to_signed(b, w) - c
        else:
            sub = u["sub"]
            t = a + (b ^ (top if sub else 0)) + sub
            st = to_signed(a, w) - to_signed(b, w) if sub else to_signed(a, w) + to_signed(b, w)
        out = {result: t & top, carry: (t >> w) & 1 if op != "sub" else int(t < 0)}
        if s["overflow"]:
            out["overflow"] = int(not -(1 << (w - 1)) <= st < (1 << (w - 1)))
        return out

    if op == "add":
        text = (
            f"{result} is the low {w} bits of a + b{' + cin' if cin else ''} and {carry} is the carry out of that "
            f"addition (its bit {w}), i.e. {{{carry}, {result}}} = a + b{' + cin' if cin else ''}."
        )
    elif op == "sub":
        text = (
            f"{result} is the low {w} bits of a - b{' - bin' if cin else ''} (two's-complement wrap-around) and "
            f"{carry} is the borrow out: 1 exactly when a < b{' + bin' if cin else ''} as unsigned numbers."
        )
    else:
        text = (
            f"When sub is 0, {result} is the low {w} bits of a + b and {carry} is its carry out. When sub is 1, "
            f"the module computes a - b as a + ~b + 1: {result} is its low {w} bits and {carry} is its carry "
            f"out (so {carry} is 1 exactly when a >= b as unsigned numbers)."
        )
    if s["overflow"]:
        text += (
            " overflow is 1 when the same operation on a and b read as two's-complement signed numbers "
            f"{'(with the carry/borrow input as a plain 0 or 1) ' if cin else ''}has a true result outside "
            f"[{-(1 << (w - 1))}, {(1 << (w - 1)) - 1}]."
        )
    directed = []
    extras = [0, 1] if (cin or op == "addsub") else [0]
    for a in special_values(w):
        for b in (0, 1, top, 1 << (w - 1), a, top ^ a):
            for e in extras:
                vector = {"a": a, "b": b}
                if cin:
                    vector[cin] = e
                if op == "addsub":
                    vector["sub"] = e
                directed.append(vector)
    return Design("adder", inputs, outputs, body_text(False), body_text(True), text, comb=comb, directed=directed)


def sample_comparator(rng: random.Random, p: dict) -> dict:
    count = min(3, p["ports"])
    names = sorted(rng.sample(["eq", "lt", "gt"], count), key=["eq", "lt", "gt"].index)
    return {"W": p["width"], "signed": p["ports"] >= 2 and rng.random() < 0.5, "outputs": names}


def build_comparator(s: dict) -> Design:
    w, signed, names = s["W"], s["signed"], list(s["outputs"])
    a, b = ("$signed(a)", "$signed(b)") if signed else ("a", "b")
    exprs = {"eq": "(a == b)", "lt": f"({a} < {b})", "gt": f"({a} > {b})"}
    bugs = {"eq": f"(a[{w - 2}:0] == b[{w - 2}:0])", "lt": f"({a} <= {b})", "gt": f"({a} >= {b})"}
    body = "".join(f"  assign {n} = {exprs[n]};\n" for n in names)
    bug = "".join(f"  assign {n} = {bugs[n] if i == 0 else exprs[n]};\n" for i, n in enumerate(names))

    def comb(u: dict) -> dict:
        x, y = (to_signed(u["a"], w), to_signed(u["b"], w)) if signed else (u["a"], u["b"])
        return {n: int({"eq": x == y, "lt": x < y, "gt": x > y}[n]) for n in names}

    kind = "two's-complement signed numbers" if signed else "unsigned numbers"
    words = {
        "eq": "eq is 1 when a equals b",
        "lt": "lt is 1 when a is less than b",
        "gt": "gt is 1 when a is greater than b",
    }
    text = f"Compare a and b as {kind}: " + "; ".join(words[n] for n in names) + ". Each output is 0 otherwise."
    top, msb = mask(w), 1 << (w - 1)
    pairs = [(x, x) for x in special_values(w)] + [
        (0, top),
        (top, 0),
        (msb, msb - 1),
        (msb - 1, msb),
        (0, msb),
        (msb, 0),
        (1, 0),
        (0, 1),
        (top, top - 1),
        (top - 1, top),
        (msb, top),
        (top, msb),
    ]
    return Design(
        "comparator",
        [("a", w), ("b", w)],
        [(n, 1) for n in names],
        body,
        bug,
        text,
        comb=comb,
        directed=[{"a": x, "b": y} for x, y in pairs],
    )


def sample_mux(rng: random.Random, p: dict) -> dict:
    sel = p["selects"]
    n = 1 << sel
    if p["ports"] >= 2 and sel >= 2 and rng.random() < 0.5:
        n = rng.randint((1 << (sel - 1)) + 1, (1 << sel) - 1)
    return {"W": max(2, p["width"] // 2), "n": n, "sel": sel}


def build_mux(s: dict) -> Design:
    w, n, sw = s["W"], s["n"], s["sel"]

    def body_text(bug: bool) -> str:
        lines = ["  always @(*) begin", "    case (sel)"]
        for k in range(n):
            source = {0: 1, 1: 0}.get(k, k) if bug else k
            lines.append(f"      {sw}'d{k}: out = in{source};")
        if n < (1 << sw):
            lines.append(f"      default: out = {w}'d0;")
        lines += ["    endcase", "  end"]
        return "\n".join(lines) + "\n"

    def comb(u: dict) -> dict:
        return {"out": u[f"in{u['sel']}"] if u["sel"] < n else 0}

    text = "out equals input in<k> where k is the value of sel (in0 when sel is 0, in1 when sel is 1, and so on)."
    if n < (1 << sw):
        text += f" When sel is {n} or more, out is 0."
    rows = [[k, f"in{k}" if k < n else "0"] for k in range(1 << sw)]
    table = "sel selects out:\n" + format_table(["sel", "out"], rows)
    inputs = [(f"in{k}", w) for k in range(n)] + [("sel", sw)]
    directed = []
    for k in range(1 << sw):
        directed.append({**{f"in{j}": (mask(w) if j == k else 0) for j in range(n)}, "sel": k})
        directed.append({**{f"in{j}": (0 if j == k else mask(w)) for j in range(n)}, "sel": k})
    return Design(
        "mux",
        inputs,
        [("out", w)],
        body_text(False),
        body_text(True),
        text,
        regs=frozenset({"out"}),
        table=table,
        comb=comb,
        directed=directed,
    )


def sample_decoder(rng: random.Random, p: dict) -> dict:
    return {"n": p["selects"] + 1, "enable": p["ports"] >= 2, "active_low": p["ports"] >= 3 and rng.random() < 0.5}


def build_decoder(s: dict) -> Design:
    n, en, low = s["n"], s["enable"], s["active_low"]
    size = 1 << n
    idle, hot = ("1'b1", "1'b0") if low else ("1'b0", "1'b1")

    def body_text(bug: bool) -> str:
        index = "in" if (en or not bug) else "~in"
        guard = "if (en) " if en and not bug else ""
        return f"  always @(*) begin\n    out = {{{size}{{{idle}}}}};\n    {guard}out[{index}] = {hot};\n  end\n"

    def comb(u: dict) -> dict:
        value = (1 << u["in"]) if (u.get("en", 1) if en else 1) else 0
        return {"out": value ^ mask(size) if low else value}

    text = f"out is a one-hot decoding of in: bit k of out is {'0' if low else '1'} exactly when in equals k"
    text += (
        f" and en is 1; all other bits are {'1' if low else '0'}"
        if en
        else f"; all other bits are {'1' if low else '0'}"
    )
    text += f" (so out is {'all ones' if low else 0} when en is 0)." if en else "."
    inputs = [("in", n)] + ([("en", 1)] if en else [])
    directed = [{"in": v, **({"en": e} if en else {})} for v in range(size) for e in ((0, 1) if en else (1,))]
    return Design(
        "decoder",
        inputs,
        [("out", size)],
        body_text(False),
        body_text(True),
        text,
        regs=frozenset({"out"}),
        comb=comb,
        directed=directed,
    )


def sample_priority(rng: random.Random, p: dict) -> dict:
    return {"N": p["width"], "highest": rng.random() < 0.5, "valid": p["ports"] >= 2}


def build_priority(s: dict) -> Design:
    n, highest, valid = s["N"], s["highest"], s["valid"]
    pw = clog2(n)

    def body_text(bug: bool) -> str:
        up = highest != bug
        loop = f"for (i = 0; i < {n}; i = i + 1)" if up else f"for (i = {n - 1}; i >= 0; i = i - 1)"
        text = f"  integer i;\n  always @(*) begin\n    pos = {pw}'d0;\n    {loop}\n      if (in[i]) pos = i;\n  end\n"
        if valid:
            text += "  assign valid = |in;\n"
        return text

    def comb(u: dict) -> dict:
        x = u["in"]
        set_bits = [i for i in range(n) if x >> i & 1]
        out = {"pos": (max(set_bits) if highest else min(set_bits)) if set_bits else 0}
        if valid:
            out["valid"] = int(bool(set_bits))
        return out

    which = "highest" if highest else "lowest"
    text = (
        f"pos is the index of the {which} bit of in that is 1 (bit 0 is the least significant); when in is 0, pos is 0."
    )
    if valid:
        text += " valid is 1 when at least one bit of in is 1, else 0."
    directed = [{"in": v} for v in special_values(n)] + [{"in": 1 << i} for i in range(n)]
    directed += [{"in": (1 << i) | 1} for i in range(n)] + [{"in": (1 << (n - 1)) | (1 << i)} for i in range(n)]
    outputs = [("pos", pw)] + ([("valid", 1)] if valid else [])
    return Design(
        "priority",
        [("in", n)],
        outputs,
        body_text(False),
        body_text(True),
        text,
        regs=frozenset({"pos"}),
        comb=comb,
        directed=directed,
    )


def sample_popcount(rng: random.Random, p: dict) -> dict:
    n = p["width"]
    return {"N": n, "threshold": rng.randint(2, n - 1) if p["ports"] >= 2 else None}


def build_popcount(s: dict) -> Design:
    n, t = s["N"], s["threshold"]
    cw = clog2(n + 1)

    def body_text(bug: bool) -> str:
        text = (
            f"  integer i;\n  always @(*) begin\n    count = {cw}'d0;\n"
            f"    for (i = 0; i < {n - 1 if bug else n}; i = i + 1)\n      count = count + in[i];\n  end\n"
        )
        if t is not None:
            text += f"  assign at_least = (count >= {cw}'d{t});\n"
        return text

    def comb(u: dict) -> dict:
        c = bin(u["in"]).count("1")
        return {"count": c, **({"at_least": int(c >= t)} if t is not None else {})}

    text = "count is the number of bits of in that are 1."
    if t is not None:
        text += f" at_least is 1 when that number is {t} or more, else 0."
    directed = [{"in": v} for v in special_values(n)] + [{"in": 1 << i} for i in range(n)]
    if t is not None:
        directed += [{"in": mask(t - 1)}, {"in": mask(t)}, {"in": mask(t) << (n - t)}]
    outputs = [("count", cw)] + ([("at_least", 1)] if t is not None else [])
    return Design(
        "popcount",
        [("in", n)],
        outputs,
        body_text(False),
        body_text(True),
        text,
        regs=frozenset({"count"}),
        comb=comb,
        directed=directed,
    )


def sample_parity(rng: random.Random, p: dict) -> dict:
    """Odd or even on a fair coin and the bits that count (``select``, a mask) uniform over the
    subsets of at least two bits, the whole input among them: red team s13 F5 found that one
    design written from the port list, every output = ^{all inputs}, solved every parity
    task when they were all the even parity of all of ``in`` (d = 0)."""
    n = p["width"]
    group = None
    if p["ports"] >= 3:
        group = next((g for g in (4, 3, 2) if n % g == 0 and n // g >= 2), None)
    odd = rng.random() < 0.5
    select = rng.getrandbits(n)
    while select.bit_count() < 2:
        select = rng.getrandbits(n)
    return {"N": n, "odd": odd, "group": group, "select": select}


def build_parity(s: dict) -> Design:
    n, odd, g, select = s["N"], s["odd"], s["group"], s["select"]
    op = "~^" if odd else "^"
    chosen = [i for i in range(n) if select >> i & 1]

    def selected(m: int) -> str:
        return "in" if m == mask(n) else f"(in & {n}'b{m:0{n}b})"

    def body_text(bug: bool) -> str:
        counted = select & (select - 1) if bug else select  # the bug leaves the lowest selected bit out
        text = f"  assign parity = {op}{selected(counted)};\n"
        if g:
            text += (
                f"  integer i;\n  always @(*) begin\n    for (i = 0; i < {n // g}; i = i + 1)\n"
                f"      groups[i] = {op}in[i*{g} +: {g}];\n  end\n"
            )
        return text

    def par(x: int) -> int:
        return (bin(x).count("1") & 1) ^ int(odd)

    def comb(u: dict) -> dict:
        out = {"parity": par(u["in"] & select)}
        if g:
            out["groups"] = sum(par(u["in"] >> (g * i) & mask(g)) << i for i in range(n // g))
        return out

    kind, wanted = ("odd", "even") if odd else ("even", "odd")
    if select == mask(n):
        of, subject, verb = "in", "in", "has"
    else:
        listed = [f"in[{i}]" for i in reversed(chosen)]
        of = f"the bits {', '.join(listed[:-1])} and {listed[-1]} (the other bits of in do not count)"
        subject, verb = "those bits", "have"
    text = (
        f"parity is the {kind} parity bit of {of}: 1 when {subject} {verb} an {wanted} number of 1 bits, so that "
        f"{subject} together with parity {verb} an {kind} number of 1 bits."
    )
    if g:
        text += (
            f" groups[k] is the {kind} parity bit of all the bits of the {g}-bit group in[{g}*k+{g - 1}:{g}*k]: 1 "
            f"when that group has an {wanted} number of 1 bits."
        )
    outputs = [("parity", 1)] + ([("groups", n // g)] if g else [])
    directed = [{"in": v} for v in special_values(n)] + [{"in": 1 << i} for i in range(n)]
    return Design(
        "parity",
        [("in", n)],
        outputs,
        body_text(False),
        body_text(True),
        text,
        regs=frozenset({"groups"}) if g else frozenset(),
        comb=comb,
        directed=directed,
    )


ALU_OPS = {
    "ADD": ("a + b", "the sum a + b (low bits)"),
    "SUB": ("a - b", "the difference a - b (low bits, wrapping)"),
    "AND": ("a & b", "the bitwise AND of a and b"),
    "OR": ("a | b", "the bitwise OR of a and b"),
    "XOR": ("a ^ b", "the bitwise XOR of a and b"),
    "NOR": ("~(a | b)", "the bitwise NOR of a and b"),
    "NAND": ("~(a & b)", "the bitwise NAND of a and b"),
    "XNOR": ("~(a ^ b)", "the bitwise XNOR of a and b"),
    "SHL": ("a << 1", "a shifted left by one (a 0 enters at bit 0)"),
    "SHR": ("a >> 1", "a shifted right by one (a 0 enters at the top bit)"),
    "PASSA": ("a", "a"),
    "PASSB": ("b", "b"),
    "NOTA": ("~a", "the bitwise NOT of a"),
    "INC": ("a + 1", "a + 1 (wrapping)"),
    "DEC": ("a - 1", "a - 1 (wrapping)"),
    "SLT": ("{{W1{1'b0}}, a < b}", "1 if a < b as unsigned numbers, else 0"),
    "MIN": ("(a < b) ? a : b", "the smaller of a and b (unsigned)"),
    "MAX": ("(a > b) ? a : b", "the larger of a and b (unsigned)"),
}


def alu_value(name: str, a: int, b: int, w: int) -> int:
    top = mask(w)
    return {
        "ADD": a + b,
        "SUB": a - b,
        "AND": a & b,
        "OR": a | b,
        "XOR": a ^ b,
        "NOR": ~(a | b),
        "NAND": ~(a & b),
        "XNOR": ~(a ^ b),
        "SHL": a << 1,
        "SHR": a >> 1,
        "PASSA": a,
        "PASSB": b,
        "NOTA": ~a,
        "INC": a + 1,
        "DEC": a - 1,
        "SLT": int(a < b),
        "MIN": min(a, b),
        "MAX": max(a, b),
    }[name] & top


def sample_alu(rng: random.Random, p: dict) -> dict:
    op_bits = min(3, p["selects"] + 1) if p["selects"] < 3 else 4
    count = min(1 << op_bits, len(ALU_OPS))
    return {"W": p["width"], "op_bits": op_bits, "ops": rng.sample(sorted(ALU_OPS), count), "zero": p["ports"] >= 2}


def build_alu(s: dict) -> Design:
    w, ob, ops, zero = s["W"], s["op_bits"], list(s["ops"]), s["zero"]

    def expr(name: str) -> str:
        return ALU_OPS[name][0].replace("W1", str(w - 1))

    def body_text(bug: bool) -> str:
        lines = ["  always @(*) begin", "    case (op)"]
        for code, name in enumerate(ops):
            chosen = ops[{0: 1, 1: 0}.get(code, code)] if bug else name
            lines.append(f"      {ob}'d{code}: y = {expr(chosen)};")
        if len(ops) < (1 << ob):
            lines.append(f"      default: y = {w}'d0;")
        lines += ["    endcase", "  end"]
        if zero:
            lines.append(f"  assign zero = (y == {w}'d0);")
        return "\n".join(lines) + "\n"

    def comb(u: dict) -> dict:
        value = alu_value(ops[u["op"]], u["a"], u["b"], w) if u["op"] < len(ops) else 0
        return {"y": value, **({"zero": int(value == 0)} if zero else {})}

    rows = [[code, ALU_OPS[name][1]] for code, name in enumerate(ops)]
    if len(ops) < (1 << ob):
        rows.append([f"{len(ops)}..{(1 << ob) - 1}", "0"])
    table = f"y as a function of op (a and b are {w}-bit unsigned; results keep their low {w} bits):\n" + format_table(
        ["op", "y"], rows
    )
    text = " ".join(f"When op is {code}, y is {ALU_OPS[name][1]}." for code, name in enumerate(ops))
    if len(ops) < (1 << ob):
        text += " For any other op value, y is 0."
    text += f" All results keep their low {w} bits."
    if zero:
        text += " zero is 1 when y is 0, else 0."
        table += "\nzero is 1 when y is 0, else 0."
    top, msb = mask(w), 1 << (w - 1)
    alternating = int("01" * w, 2) & top
    pairs = [
        (0, 0),
        (top, top),
        (top, 1),
        (1, top),
        (msb, 1),
        (alternating, top ^ alternating),
        (3, 5),
        (msb, msb - 1),
        (top ^ alternating, alternating),
        (5, 3),
    ]
    directed = [{"a": a, "b": b, "op": code} for code in range(1 << ob) for a, b in pairs]
    outputs = [("y", w)] + ([("zero", 1)] if zero else [])
    return Design(
        "alu",
        [("a", w), ("b", w), ("op", ob)],
        outputs,
        body_text(False),
        body_text(True),
        text,
        regs=frozenset({"y"}),
        table=table,
        comb=comb,
        directed=directed,
    )


BITMANIP_OPS = ("reverse", "rotl", "rotr", "swap", "gray", "binary", "sext", "rotvar")
BITMANIP_OUTPUT = {
    "reverse": "rev",
    "rotl": "rotl",
    "rotr": "rotr",
    "swap": "swapped",
    "gray": "gray",
    "binary": "binary",
    "sext": "sext",
    "rotvar": "rot",
}


def sample_bitmanip(rng: random.Random, p: dict) -> dict:
    w = p["width"]
    pool = [op for op in BITMANIP_OPS if not (op == "swap" and w % 2) and not (op == "rotvar" and w & (w - 1))]
    ops = rng.sample(pool, min(p["ports"], len(pool)))
    return {"W": w, "ops": ops, "k": rng.randint(1, w - 2), "m": rng.randint(2, w - 2)}


def build_bitmanip(s: dict) -> Design:
    w, ops, k, m = s["W"], list(s["ops"]), s["k"], s["m"]
    h = w // 2
    aw = clog2(w)
    top = mask(w)

    def piece(op: str, bug: bool) -> tuple[str, str]:
        name = BITMANIP_OUTPUT[op]
        if op == "reverse":
            src = "in[i]" if bug else f"in[{w - 1} - i]"
            return (
                f"  integer i;\n  always @(*) begin\n    for (i = 0; i < {w}; i = i + 1)\n"
                f"      {name}[i] = {src};\n  end\n",
                name,
            )
        if op in ("rotl", "rotr"):
            kk = (k + 1 if k + 1 < w else k - 1) if bug else k
            if op == "rotl":
                return (f"  assign {name} = {{in[{w - 1 - kk}:0], in[{w - 1}:{w - kk}]}};\n", name)
            return (f"  assign {name} = {{in[{kk - 1}:0], in[{w - 1}:{kk}]}};\n", name)
        if op == "swap":
            return (f"  assign {name} = {'in' if bug else f'{{in[{h - 1}:0], in[{w - 1}:{h}]}}'};\n", name)
        if op == "gray":
            return (f"  assign {name} = in ^ (in {'<<' if bug else '>>'} 1);\n", name)
        if op == "binary":
            if bug:
                return (f"  always @(*) {name} = in ^ (in >> 1);\n", name)
            return (
                "  integer j;\n  reg acc;\n  always @(*) begin\n    acc = 1'b0;\n"
                f"    for (j = {w - 1}; j >= 0; j = j - 1) begin\n"
                f"      acc = acc ^ in[j];\n      {name}[j] = acc;\n    end\n  end\n",
                name,
            )
        if op == "sext":
            fill = "1'b0" if bug else f"in[{m - 1}]"
            return (f"  assign {name} = {{{{{w - m}{{{fill}}}}}, in[{m - 1}:0]}};\n", name)
        if op == "rotvar":
            shift = ">>" if bug else "<<"
            if bug:
                return (
                    f"  wire [{2 * w - 1}:0] doubled;\n  assign doubled = {{in, in}} >> amt;\n"
                    f"  assign {name} = doubled[{w - 1}:0];\n",
                    name,
                )
            return (
                f"  wire [{2 * w - 1}:0] doubled;\n  assign doubled = {{in, in}} {shift} amt;\n"
                f"  assign {name} = doubled[{2 * w - 1}:{w}];\n",
                name,
            )
        raise ValueError(op)

    def body_text(bug: bool) -> str:
        return "".join(piece(op, bug and i == 0)[0] for i, op in enumerate(ops))

    def value(op: str, x: int, amt: int) -> int:
        if op == "reverse":
            return int(format(x, f"0{w}b")[::-1], 2)
        if op == "rotl":
            return ((x << k) | (x >> (w - k))) & top
        if op == "rotr":
            return ((x >> k) | (x << (w - k))) & top
        if op == "swap":
            return ((x & mask(h)) << h) | (x >> h)
        if op == "gray":
            return x ^ (x >> 1)
        if op == "binary":
            out, acc = 0, 0
            for i in range(w - 1, -1, -1):
                acc ^= x >> i & 1
                out |= acc << i
            return out
        if op == "sext":
            low = x & mask(m)
            return low | (top ^ mask(m)) if low >> (m - 1) & 1 else low
        if op == "rotvar":
            return ((x << amt) | (x >> (w - amt))) & top if amt else x
        raise ValueError(op)

    def comb(u: dict) -> dict:
        return {BITMANIP_OUTPUT[op]: value(op, u["in"], u.get("amt", 0)) for op in ops}

    words = {
        "reverse": f"rev is in with its bit order reversed: rev[i] = in[{w - 1} - i]",
        "rotl": f"rotl is in rotated left by {k} bits (bits leaving at the top re-enter at bit 0)",
        "rotr": f"rotr is in rotated right by {k} bits (bits leaving at bit 0 re-enter at the top)",
        "swap": f"swapped is in with its upper and lower {h}-bit halves exchanged",
        "gray": "gray is the Gray code of in read as a binary number: gray = in XOR (in shifted right by one)",
        "binary": (
            "binary is the binary number whose Gray code is in: binary[i] is the XOR of in[i] and all higher bits of in"
        ),
        "sext": (
            f"sext is the sign extension of the low {m} bits of in to {w} bits: sext[{m - 1}:0] = "
            f"in[{m - 1}:0] and every higher bit of sext equals in[{m - 1}]"
        ),
        "rotvar": "rot is in rotated left by amt bits (0 to the width minus one)",
    }
    text = "; ".join(words[op] for op in ops) + "."
    inputs = [("in", w)] + ([("amt", aw)] if "rotvar" in ops else [])
    values = special_values(w) + [1 << i for i in range(w)] + [int("0011" * w, 2) & top]
    directed = [
        {"in": v, **({"amt": a} if "rotvar" in ops else {})}
        for v in values
        for a in ((0, 1, w - 1) if "rotvar" in ops else (0,))
    ]
    outputs = [(BITMANIP_OUTPUT[op], w) for op in ops]
    regs = frozenset(BITMANIP_OUTPUT[op] for op in ops if op in ("reverse", "binary"))
    return Design(
        "bitmanip", inputs, outputs, body_text(False), body_text(True), text, regs=regs, comb=comb, directed=directed
    )


TRUTH_INPUTS = "abcde"
TRUTH_OUTPUTS = "fgh"


def sample_truthtable(rng: random.Random, p: dict) -> dict:
    n = min(5, p["selects"] + 2)
    count = min(3, p["ports"])
    rows = 1 << n
    masks: list[int] = []
    while len(masks) < count:
        candidate = rng.getrandbits(rows)
        if candidate not in (0, mask(rows)) and candidate not in masks:
            masks.append(candidate)
    return {"n": n, "masks": masks}


def build_truthtable(s: dict) -> Design:
    n, masks = s["n"], list(s["masks"])
    names = [TRUTH_INPUTS[i] for i in range(n)]
    outs = [TRUTH_OUTPUTS[i] for i in range(len(masks))]
    concat_in = "{" + ", ".join(names) + "}"
    concat_out = "{" + ", ".join(outs) + "}" if len(outs) > 1 else outs[0]

    def row_value(row: int, bug: bool) -> int:
        value = 0
        for j, m in enumerate(masks):
            bit = m >> row & 1
            if bug and j == 0 and row == 0:
                bit ^= 1
            value = (value << 1) | bit
        return value

    def body_text(bug: bool) -> str:
        lines = ["  always @(*) begin", f"    case ({concat_in})"]
        for row in range(1 << n):
            lines.append(f"      {n}'d{row}: {concat_out} = {len(outs)}'b{bits(row_value(row, bug), len(outs))};")
        lines += ["    endcase", "  end"]
        return "\n".join(lines) + "\n"

    def comb(u: dict) -> dict:
        row = 0
        for name in names:
            row = (row << 1) | u[name]
        return {o: m >> row & 1 for o, m in zip(outs, masks)}

    order = f"{{{', '.join(names)}}} ({names[0]} is the most significant bit)"
    parts = []
    for o, m in zip(outs, masks):
        ones = [str(r) for r in range(1 << n) if m >> r & 1]
        parts.append(f"{o} is 1 exactly when the number {order} is one of {', '.join(ones)}; otherwise {o} is 0")
    text = ". ".join(parts) + "."
    rows = [[*bits(r, n)] + [m >> r & 1 for m in masks] for r in range(1 << n)]
    table = "Truth table (one row per input combination):\n" + format_table(names + outs, rows)
    directed = [{name: row >> (n - 1 - i) & 1 for i, name in enumerate(names)} for row in range(1 << n)]
    return Design(
        "truthtable",
        [(x, 1) for x in names],
        [(o, 1) for o in outs],
        body_text(False),
        body_text(True),
        text,
        regs=frozenset(outs),
        table=table,
        comb=comb,
        directed=directed,
    )
