"""The testbench stimulus and what the golden design answers to it: ``make_stimulus`` (directed
vectors or sequences, W-method transition tests of the small state machines, then random
vectors with special values and random resets; exhaustive for small combinational input
spaces), ``model_samples``/``expected_outputs`` (the Python model run over the stimulus, one
sample per combinational vector and two per clock cycle), and the packing of input vectors to
hex (``pack``) and back (``vectors_of``)."""

from __future__ import annotations

import random
from collections import deque
from typing import Any

from rlvr.core import Task
from rlvr.generators.verilog.design import Design, mask, special_values

RESET_PROBABILITY = 0.04
SPECIAL_FRACTION = 0.3
MAX_STEPS_FACTOR = 3
EXPLORE_STEPS_FACTOR = 5


def model_samples(design: Design, vectors: list[dict]) -> list[dict | None]:
    """The model's outputs at every sample the testbench takes (None: unknown, before a reset)."""
    if not design.sequential:
        return [design.comb(u) for u in vectors]
    r = design.reset
    state, samples = None, []
    for u in vectors:
        active = u[r.name] == r.active_value
        if r.asynchronous and active:
            state = design.reset_state
        samples.append(None if state is None else design.out(state, u))
        if active:
            state = design.reset_state
        elif state is not None:
            state = design.next_state(state, u)
        samples.append(None if state is None else design.out(state, u))
    return samples


def expected_outputs(design: Design, vectors: list[dict]) -> list[str]:
    """The model's outputs at every sample, packed (first output most significant) in hex;
    "x" where the model does not know them (before the first reset)."""
    out = []
    for sample in model_samples(design, vectors):
        if sample is None:
            out.append("x")
            continue
        value = 0
        for name, width in design.outputs:
            value = (value << width) | (sample[name] & mask(width))
        out.append(format(value, "x"))
    return out


def random_vector(design: Design, rng: random.Random) -> dict:
    vector = {}
    for name, width in design.inputs:
        if width == 1 and name in design.bias:
            vector[name] = int(rng.random() < design.bias[name])
        elif rng.random() < SPECIAL_FRACTION:
            vector[name] = rng.choice(special_values(width)) if width > 1 else rng.randrange(2)
        else:
            vector[name] = rng.getrandbits(width)
    return vector


def with_reset(design: Design, vector: dict, active: bool) -> dict:
    r = design.reset
    return {r.name: r.active_value if active else 1 - r.active_value, **vector}


def alphabet(design: Design) -> list[dict]:
    names = [(n, w) for n, w in design.inputs]
    total = sum(w for _, w in names)
    out = []
    for value in range(1 << total):
        vector, position = {}, total
        for name, width in names:
            position -= width
            vector[name] = value >> position & mask(width)
        out.append(vector)
    return out


def distinguishing_sequence(design: Design, a: Any, b: Any, letters: list[dict]) -> list[dict] | None:
    """The shortest inputs after which states a and b give different outputs (None: equivalent)."""
    parent: dict[tuple, tuple | None] = {(a, b): None}
    queue = deque([(a, b)])
    while queue:
        pair = queue.popleft()
        for letter in letters:
            x, y = pair
            if design.out(x, letter) != design.out(y, letter):
                path = [letter]
                cursor = pair
                while parent[cursor] is not None:
                    cursor, step = parent[cursor]
                    path.append(step)
                return path[::-1]
            nxt = (design.next_state(x, letter), design.next_state(y, letter))
            if nxt not in parent:
                parent[nxt] = (pair, letter)
                queue.append(nxt)
    return None


def coverage_sequences(design: Design) -> list[list[dict]]:
    """Transition tests of a small state machine (the W-method): for every (state, input)
    transition, the shortest path from reset to the state, the input, then a sequence that tells
    the target state apart from one other state — round by round, so the first round tests every
    transition once, the next round adds a second distinguishing sequence, and so on. A transition
    sent to a wrong state shows up as soon as the round holding the right sequence is included."""
    letters = alphabet(design)
    start = design.reset_state
    parent: dict[Any, tuple[Any, dict] | None] = {start: None}
    order, queue = [start], deque([start])
    while queue:
        state = queue.popleft()
        for letter in letters:
            nxt = design.next_state(state, letter)
            if nxt not in parent:
                parent[nxt] = (state, letter)
                order.append(nxt)
                queue.append(nxt)

    def path_to(state: Any) -> list[dict]:
        path: list[dict] = []
        while parent[state] is not None:
            state, letter = parent[state]
            path.append(letter)
        return path[::-1]

    suffixes: dict[Any, list[list[dict]]] = {}
    for state in order:
        found: list[list[dict]] = []
        for other in order:
            if other != state:
                sequence = distinguishing_sequence(design, state, other, letters)
                if sequence is not None and sequence not in found:
                    found.append(sequence)
        suffixes[state] = sorted(found, key=len) or [[letters[0]]]
    transitions = [
        (path_to(state) + [letter], design.next_state(state, letter)) for state in order for letter in letters
    ]
    rounds = max(len(v) for v in suffixes.values())
    sequences = []
    for round_index in range(rounds):
        for prefix, target in transitions:
            options = suffixes[target]
            if round_index < len(options):
                sequences.append(prefix + options[round_index])
    return sequences


def make_stimulus(design: Design, rng: random.Random, steps: int) -> tuple[list[dict], int]:
    """(full input vectors per step, number of directed steps)."""
    cap = MAX_STEPS_FACTOR * steps
    if not design.sequential:
        space = 1 << sum(w for _, w in design.inputs)
        directed: list[dict] = []
        seen: set = set()
        for vector in design.directed:
            key = tuple(sorted(vector.items()))
            if key not in seen:
                seen.add(key)
                directed.append(vector)
        if space <= cap:
            everything = alphabet(design)
            rng.shuffle(everything)
            return directed + everything, len(directed)
        directed = directed[:cap]
        vectors = directed + [random_vector(design, rng) for _ in range(max(0, steps - len(directed)))]
        return vectors, len(directed)
    sequences = list(design.directed)
    if design.directed:  # a reset in the middle of activity: catches a missing or ignored reset
        first = design.directed[0]
        sequences.append(first[: max(1, len(first) // 2)] + [{"__reset__": 1}] + first)
    if design.explore:
        sequences += coverage_sequences(design)
        cap = EXPLORE_STEPS_FACTOR * steps
    vectors = [with_reset(design, random_vector(design, rng), True)]
    for sequence in sequences:
        if len(vectors) + len(sequence) + 1 > cap:
            break
        vectors.append(with_reset(design, random_vector(design, rng), True))
        vectors += [
            with_reset(
                design,
                {**random_vector(design, rng), **{k: v for k, v in step.items() if k != "__reset__"}},
                "__reset__" in step,
            )
            for step in sequence
        ]
    directed_steps = len(vectors)
    forced = rng.randrange(directed_steps, max(steps, directed_steps + 4)) if steps > directed_steps + 4 else None
    while len(vectors) < max(steps, directed_steps + 4):
        burst = design.chunk(rng) if design.chunk else [{}]
        for step in burst[: max(steps, directed_steps + 4) - len(vectors)]:
            active = rng.random() < RESET_PROBABILITY or len(vectors) == forced
            vectors.append(with_reset(design, {**random_vector(design, rng), **step}, active))
    return vectors, directed_steps


def pack(design: Design, vector: dict) -> str:
    value = 0
    total = 0
    for name, width in design.all_inputs():
        value = (value << width) | (vector[name] & mask(width))
        total += width
    return format(value, f"0{(total + 3) // 4}x")


def vectors_of(task: Task) -> list[dict]:
    """The task's stimulus unpacked into per-step input dicts."""
    inputs = [(n, int(w)) for n, w in task.answer["inputs"]]
    total = sum(w for _, w in inputs)
    out = []
    for text in task.answer["vectors"]:
        value, position, vector = int(text, 16), total, {}
        for name, width in inputs:
            position -= width
            vector[name] = value >> position & mask(width)
        out.append(vector)
    return out
