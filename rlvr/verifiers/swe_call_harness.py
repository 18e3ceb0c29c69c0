"""Sandbox side of the host-judged SWE checks: import the patched package, make each call of the
task's tests, and stream back what it returned. Standard library only: this file is shipped into
the sandbox (``rlvr`` is not importable there) and run as ``python -I -B <random name>.py``.

Protocol
    stdin   One JSON line: ``{"nonce": hex, "paths": [...], "package": name,
            "calls": [[module, imported name, call expression], ...]}``; fd 0 is then pointed at
            ``/dev/null``. The config holds no expected value, key or verdict: only what to call.
    stdout  A private duplicate of fd 1, taken before any package code is imported; fd 1 itself
            is then pointed at stderr, so whatever the package prints lands in stderr. One line
            per call, as soon as it returns: ``<nonce> <index> <json>`` where json is
            ``["value", V]`` or ``["error", type name, message]``. V is a tagged value:
            ``["none"]``, ``["bool", b]``, ``["int", decimal text]``, ``["float", repr text]``,
            ``["str", s]``, ``["list", [V...]]``, ``["tuple", [V...]]``, or ``["other", type
            name]`` for anything else (subclasses of the plain types included, so an object with
            its own ``__eq__`` never travels as a value). Encoding stops with an error past
            ``MAX_DEPTH`` nesting, ``MAX_ELEMENTS`` values or ``MAX_CHARS`` characters.
    end     ``os._exit(0)`` after the last call: atexit hooks, threads and finalizers planted by
            the package never run.

Trust
    This process runs the candidate's code, so nothing it writes is trusted: the package can
    patch this module, write lines of its own to any descriptor, or exit at any point. The host
    (``rlvr.verifiers.swe``) therefore only takes values from it — each line at most one value
    for one call it asked for, parsed with bounded cost — and compares them with expected values
    that never enter the sandbox. A forged line can only claim a value the package could have
    returned from the call itself; two lines for one call void the run; a missing line fails the
    call. Calls are trusted text from the task generator, evaluated in a namespace holding only
    the imported callable.
"""

import builtins
import importlib
import json
import os
import sys

MAX_DEPTH = 16
MAX_ELEMENTS = 4000
MAX_CHARS = 50_000
MAX_MESSAGE_CHARS = 300
MAX_INT_DIGITS = 4000


class TooLarge(Exception):
    """The value exceeds the encoding bounds."""


def encode(value, budget, depth=0):
    """The tagged form of ``value``; ``budget`` is a one-item list of remaining elements."""
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        raise TooLarge("the result is too large or too deeply nested")
    kind = type(value)
    if value is None:
        return ["none"]
    if kind is bool:
        return ["bool", value]
    if kind is int:
        if value.bit_length() > MAX_INT_DIGITS * 3:
            raise TooLarge("the integer result is too large")
        return ["int", str(value)]
    if kind is float:
        return ["float", repr(value)]
    if kind is str:
        budget[1] -= len(value)
        if budget[1] < 0:
            raise TooLarge("the text result is too long")
        return ["str", value]
    if kind is list or kind is tuple:
        items = [encode(item, budget, depth + 1) for item in value]
        return ["list" if kind is list else "tuple", items]
    return ["other", kind.__name__[:80]]


def describe(error):
    try:
        message = str(error)[:MAX_MESSAGE_CHARS]
    except BaseException:  # a package exception whose __str__ fails
        message = "(no message)"
    return ["error", type(error).__name__[:80], message]


def write_all(fd, data):
    while data:
        data = data[os.write(fd, data) :]


def main():
    config = json.loads(sys.stdin.readline())
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    channel = os.dup(1)
    os.dup2(2, 1)
    for entry in reversed(config["paths"]):
        sys.path.insert(0, os.path.abspath(entry))
    prefix = config["nonce"] + " "
    package = config["package"]
    for index, (module_name, name, call) in enumerate(config["calls"]):
        try:
            target = getattr(importlib.import_module(f"{package}.{module_name}"), name)
            value = eval(compile(call, "<check>", "eval", dont_inherit=True), {"__builtins__": builtins, name: target})
            frame = ["value", encode(value, [MAX_ELEMENTS, MAX_CHARS])]
        except BaseException as error:  # the package may raise anything, SystemExit included
            frame = describe(error)
        line = prefix + str(index) + " " + json.dumps(frame, ensure_ascii=True) + "\n"
        write_all(channel, line.encode("ascii"))
    os._exit(0)


if __name__ == "__main__":
    main()
