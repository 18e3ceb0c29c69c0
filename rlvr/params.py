"""Typed task parameters and the difficulty table that moves them.

A family declares each of its task parameters once, with its type and range:

    Int(2, 250)                 an integer in [2, 250]; ``log=True`` interpolates geometrically
    Float(0.0, 1.0)             a float in [0, 1]; ``log=True`` as for Int
    Choice("prose", "table")    one of the named values
    Flag()                      True or False
    Subset("a", "b", "c")       a non-empty comma-separated selection of the named values
                                ("a,c"); a list or tuple of them is accepted and joined

and a ``DifficultyTable`` maps the knob d in [0, 1] onto them through anchors (d → values). The
declaration does four jobs at once: it validates anchors when the family is defined and every
override a user passes (one-line ``ValueError`` naming the parameter, its range and the bad
value), it interpolates between anchors (numbers linearly — half up for integers, 6 decimals for
floats — or geometrically with ``log=True``; choices, flags and subsets take the value of the
nearest anchor at or below d), it describes itself for ``rlvr info`` (``schema()``), and it
renders the family docstring's difficulty table (``doc_table()``), which a test compares with
the docstring so the two cannot drift.
"""

from __future__ import annotations

import abc
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

DOC_POINTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def canonical_difficulty(difficulty: float) -> float:
    """Check it is a number (an int, a float or a NumPy number; not a bool or a string) in
    [0, 1] and round to 4 decimals, so 0.3 and 0.30000000004 name the same task; a ValueError
    naming ``difficulty`` for anything else ("hard", "0.5", True, NaN, 1.5)."""
    if not isinstance(difficulty, numbers.Real) or isinstance(difficulty, (bool, np.bool_)):
        raise ValueError(f"difficulty must be a number in [0, 1], got {difficulty!r}")
    try:
        d = float(difficulty)
    except (TypeError, ValueError):
        raise ValueError(f"difficulty must be a number in [0, 1], got {difficulty!r}") from None
    if not (d == d) or d < 0.0 or d > 1.0:  # NaN or out of range
        raise ValueError(f"difficulty must be in [0, 1], got {difficulty!r}")
    return round(d, 4)


class Param(abc.ABC):
    """One declared parameter. ``check(name, value)`` returns the value in canonical form or
    raises a one-line ValueError; ``between(a, b, weight)`` interpolates two anchor values;
    ``span()`` says in a few words what values are allowed."""

    doc: str = ""

    @abc.abstractmethod
    def check(self, name: str, value: Any) -> Any:
        """``value`` in canonical form; a one-line ValueError naming ``name`` otherwise."""

    def between(self, a: Any, b: Any, weight: float) -> Any:
        return a

    @abc.abstractmethod
    def span(self) -> str:
        """The allowed values in a few words."""


def _whole_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


@dataclass(frozen=True)
class Int(Param):
    low: int
    high: int
    log: bool = False
    doc: str = ""

    def check(self, name: str, value: Any) -> int:
        number = _whole_number(value)
        if number is None or not self.low <= number <= self.high:
            raise ValueError(f"{name} must be an integer in [{self.low}, {self.high}], got {value!r}")
        return number

    def between(self, a: int, b: int, weight: float) -> int:
        if self.log:
            return int(np.floor(math.exp(math.log(a) + (math.log(b) - math.log(a)) * weight) + 0.5))
        return int(np.floor(a + (b - a) * weight + 0.5))

    def span(self) -> str:
        return f"integer {self.low}–{self.high}" + (" (log scale)" if self.log else "")


@dataclass(frozen=True)
class Float(Param):
    low: float
    high: float
    log: bool = False
    doc: str = ""

    def check(self, name: str, value: Any) -> float:
        try:
            number = float(value) if not isinstance(value, bool) else None
        except (TypeError, ValueError):
            number = None
        if number is None or not (number == number) or not self.low <= number <= self.high:
            raise ValueError(f"{name} must be a number in [{self.low:g}, {self.high:g}], got {value!r}")
        return number

    def between(self, a: float, b: float, weight: float) -> float:
        if self.log:
            return round(math.exp(math.log(a) + (math.log(b) - math.log(a)) * weight), 6)
        return round(float(a + (b - a) * weight), 6)

    def span(self) -> str:
        return f"number {self.low:g}–{self.high:g}" + (" (log scale)" if self.log else "")


class Choice(Param):
    """One of ``options`` (strings or numbers; between anchors it steps, never interpolates). A
    value whose text matches an option's (``"9"`` for 9, from a command line) is that option."""

    def __init__(self, *options: Any, doc: str = ""):
        self.options, self.doc = tuple(options), doc

    def check(self, name: str, value: Any) -> Any:
        if value in self.options and not isinstance(value, bool):
            return next(option for option in self.options if option == value)
        for option in self.options:
            if isinstance(value, str) and value.strip() == str(option):
                return option
        raise ValueError(f"{name} must be one of {', '.join(map(str, self.options))}; got {value!r}")

    def span(self) -> str:
        return "one of " + " | ".join(map(str, self.options))


@dataclass(frozen=True)
class Flag(Param):
    doc: str = ""

    def check(self, name: str, value: Any) -> bool:
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueError(f"{name} must be true or false, got {value!r}")

    def span(self) -> str:
        return "true | false"


class Subset(Param):
    """A non-empty selection of ``options``, as comma-separated text in the order given."""

    def __init__(self, *options: str, doc: str = ""):
        self.options, self.doc = tuple(options), doc

    def check(self, name: str, value: Any) -> str:
        items = (
            value.split(",") if isinstance(value, str) else list(value) if isinstance(value, (list, tuple)) else None
        )
        if items is not None:
            items = [item.strip() if isinstance(item, str) else item for item in items]
        if not items or any(item not in self.options for item in items) or len(set(items)) != len(items):
            raise ValueError(
                f"{name} must be one or more distinct values of {', '.join(self.options)} "
                f"(comma-separated); got {value!r}"
            )
        return ",".join(items)

    def span(self) -> str:
        return "some of " + ", ".join(self.options)


def describe_value(value: Any, width: int = 28) -> str:
    """A short rendering of a parameter value for tables: subsets as "N kinds"."""
    text = str(value)
    if isinstance(value, str) and "," in text:
        text = f"{len(text.split(','))} kinds"
    return text if len(text) <= width else text[: width - 1] + "…"


class DifficultyTable:
    """The task parameters of a family (name → Param) and the anchors that map the knob onto them.

    ``anchors`` maps difficulty points, including 0.0 and 1.0, to values of every parameter;
    they are checked against ``params`` at definition. ``resolve(d, overrides)`` interpolates
    and applies checked overrides, which must name declared parameters and win over the knob.
    """

    def __init__(self, params: Mapping[str, Param], anchors: Mapping[float, Mapping[str, Any]]):
        if 0.0 not in anchors or 1.0 not in anchors:
            raise ValueError("a difficulty table needs anchors at 0.0 and 1.0")
        self.params = dict(params)
        self.keys = tuple(self.params)
        self.points = sorted(anchors)
        for point in self.points:
            if set(anchors[point]) != set(self.keys):
                raise ValueError(f"anchor {point} has keys {sorted(anchors[point])}, expected {sorted(self.keys)}")
            for key in self.keys:
                if self.params[key].check(key, anchors[point][key]) != anchors[point][key]:
                    raise ValueError(f"anchor {point}: {key}={anchors[point][key]!r} is not in canonical form")
        self.anchors = {p: {k: anchors[p][k] for k in self.keys} for p in self.points}

    def check(self, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
        """``overrides`` validated and in canonical form; a ValueError naming an unknown or bad one."""
        checked = {}
        for key, value in (overrides or {}).items():
            if key not in self.params:
                raise ValueError(f"unknown parameter {key!r}; known: {', '.join(self.keys) or '(none)'}")
            checked[key] = self.params[key].check(key, value)
        return checked

    def resolve(self, difficulty: float, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Every parameter's value at ``difficulty``, with the (checked) overrides applied."""
        d = canonical_difficulty(difficulty)
        upper = next(p for p in self.points if p >= d)
        lower = max(p for p in self.points if p <= d)
        weight = 0.0 if upper == lower else (d - lower) / (upper - lower)
        values = {
            key: self.params[key].between(self.anchors[lower][key], self.anchors[upper][key], weight)
            if upper != lower
            else self.anchors[lower][key]
            for key in self.keys
        }
        values.update(self.check(overrides))
        return values

    def moving(self) -> list[str]:
        """The parameters the knob changes."""
        first = self.anchors[0.0]
        return [k for k in self.keys if any(self.anchors[p][k] != first[k] for p in self.points)]

    def describe(self) -> str:
        """One line: each parameter the knob moves, with its range, e.g. ``rows 3→20``."""
        first, last = self.anchors[0.0], self.anchors[1.0]
        moving = self.moving()
        if not moving:
            if not self.keys:
                return "none"
            return "fixed (" + ", ".join(f"{k}={describe_value(first[k])}" for k in self.keys) + ")"
        return ", ".join(f"{k} {describe_value(first[k])}→{describe_value(last[k])}" for k in moving)

    def schema(self) -> list[dict[str, Any]]:
        """Per parameter: name, allowed values, what it does, and its value at d = 0, 0.5, 1."""
        return [
            {
                "name": key,
                "allowed": self.params[key].span(),
                "doc": self.params[key].doc,
                "values": {d: self.resolve(d)[key] for d in (0.0, 0.5, 1.0)},
            }
            for key in self.keys
        ]

    def doc_table(self, points: tuple[float, ...] = DOC_POINTS) -> str:
        """The difficulty table as the family docstring shows it: one column per parameter the
        knob moves, one row per point, aligned; the fixed parameters on a last line. A family
        without parameters (a benchmark served as is) gets one line saying so."""
        if not self.keys:
            return "no task parameters: the knob changes nothing"
        moving = self.moving()
        rows = [["d", *moving]] + [[f"{d:g}", *(describe_value(self.resolve(d)[k]) for k in moving)] for d in points]
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
        fixed = [k for k in self.keys if k not in moving]
        if fixed:
            lines.append("fixed: " + ", ".join(f"{k}={describe_value(self.anchors[0.0][k])}" for k in fixed))
        return "\n".join(lines)
