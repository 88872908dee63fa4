"""A small declarative schema for the TOML definitions, and the one function that checks a raw table against it.

A schema is a dataclass: each field is a key of the table, its annotation the kind of value the key
holds, and its metadata the rules beyond the type (`field(default=1, metadata={"min": 1})`). A field
without a default is a required key; the defaults themselves are applied by the parser, not here.
A trailing underscore stands for a Python keyword (`from_` is the key `from`).

Kinds: str, int, bool, float (any finite number, integers included), Literal[...] (exactly one of
these values), list[K], dict[K, V] (a table whose keys are K and values V), a schema dataclass (a
table with exactly its keys), K1 | K2, and Annotated[K, Rule(...)] for rules on a nested value.

check() raises SchemaError: one sentence naming the place as the file writes it,
`[recipes.plus] fill_mode` or `[training] epochs.linear`, and what it must be.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import MISSING, dataclass, fields, is_dataclass
from functools import cache
from types import UnionType
from typing import Annotated, Literal, Union, get_args, get_origin, get_type_hints


class SchemaError(ValueError):
    """A definition that does not fit its schema; the message is one sentence without the file's name."""


@dataclass(frozen=True)
class Rule:
    """What a value must be beyond its type; also what a field's metadata may hold."""

    min: float | None = None  # numbers: the smallest allowed
    max: float | None = None  # numbers: the largest allowed
    min_len: int | None = None  # strings, lists, tables: at least this many characters or entries
    length: int | None = None  # lists: exactly this many entries
    pattern: str | None = None  # strings: must match this regular expression in full
    unique: bool = False  # lists: no entry twice
    test: Callable | None = None  # value -> None, or why it is wrong ("needs a (group) to keep")
    means: str | None = None  # what the value is, for messages: "a plain slug (lowercase letters, digits, -)"
    section: bool = False  # the key opens a [section] of the file: it is written in the place's brackets


# Kinds shared by the definitions.
# Control characters (C0, DEL, C1) and line separators would split a message that names the column in two.
Name = Annotated[
    str, Rule(pattern="[^\x00-\x1f\x7f-\x9f\u2028\u2029]+", means="a name (a non-empty string on one line)")
]
Names = Annotated[Name | Annotated[list[Name], Rule(min_len=1)], Rule(means="a name or a list of names")]
PositiveInt = Annotated[int, Rule(min=1)]
# a number of rows (1 or more) or a share of them (between 0 and 1): how rare a level is, whatever the rows' count
ROWS_OR_SHARE = "a number of rows (a whole number, 1 or more) or a share of the rows (between 0 and 1, such as 0.001)"
RowsOrShare = Annotated[
    PositiveInt | Annotated[float, Rule(test=lambda v: None if 0 < v < 1 else f"must be {ROWS_OR_SHARE}, not {v!r}")],
    Rule(means=ROWS_OR_SHARE),
]
Value = Annotated[str | float | bool, Rule(means="a string, a number or true/false")]
Values = Annotated[Value | list[Value], Rule(means="a value (a string, a number or true/false) or a list of values")]


@dataclass(frozen=True)
class Place:
    """Where a value sits in the file: the [section] it is under, then the keys and list positions within it."""

    header: tuple = ()
    keys: tuple = ()

    def child(self, key, section: bool = False) -> Place:
        return Place((*self.header, key), ()) if section else Place(self.header, (*self.keys, key))

    def __str__(self) -> str:
        keys = "".join(f"[{k}]" if isinstance(k, int) else f".{toml_key(k)}" for k in self.keys).lstrip(".")
        header = f"[{'.'.join(toml_key(k) for k in self.header)}]" if self.header else ""
        return " ".join(p for p in (header, keys) if p) or "the top level"


def check(value, kind, place: Place = Place(), rules: tuple = ()) -> None:
    """Raise SchemaError if `value` (from tomllib) is not of `kind`, or breaks a rule, at `place`."""
    origin, args = get_origin(kind), get_args(kind)
    if origin is Annotated:
        return check(value, args[0], place, (*rules, *args[1:]))
    means = next((r.means for r in rules if r.means), None)
    if origin in (Union, UnionType):
        fitting = [k for k in args if _fits(value, k)]
        if not fitting:
            _fail(place, f"must be {means or ' or '.join(_describe(k) for k in args)}, not {show(value)}")
        return check(value, fitting[0], place, rules)
    if not _fits(value, kind):
        _fail(place, f"must be {means or _describe(kind)}, not {show(value)}")
    if is_dataclass(kind):
        _check_table(value, kind, place)
    elif origin is list:
        for i, item in enumerate(value):
            check(item, args[0], place.child(i))
    elif origin is dict:
        key_kind, value_kind = args
        # The entries of a [section] that are tables are sections too: [recipes.plus].
        section = bool(place.header) and not place.keys and _is_table(value_kind)
        for k, v in value.items():
            if get_origin(key_kind) is Literal and k not in get_args(key_kind):
                _unknown(place, k, get_args(key_kind))
            check(k, key_kind, place.child(k))
            check(v, value_kind, place.child(k, section))
    elif kind is float and not math.isfinite(value):
        _fail(place, f"must be a finite number, not {show(value)}")
    for rule in rules:
        _apply(rule, value, place, means)


def _check_table(table: dict, schema: type, place: Place) -> None:
    hints = _hints(schema)
    keys = {f.name.removesuffix("_"): f for f in fields(schema)}
    for k in table:
        if k not in keys:
            _unknown(place, k, keys)
    for k, f in keys.items():
        if k in table:
            rule = Rule(**f.metadata)
            check(table[k], hints[f.name], place.child(k, rule.section), (rule,))
        elif f.default is MISSING and f.default_factory is MISSING:
            _fail(place, f"lacks the key {k!r}")


def _apply(rule: Rule, value, place: Place, means: str | None) -> None:
    def fail(reason):
        _fail(place, f"must be {means}, not {show(value)}" if means else reason)

    if rule.min is not None and value < rule.min:
        fail(f"must be at least {rule.min}, not {show(value)}")
    if rule.max is not None and value > rule.max:
        fail(f"must be at most {rule.max}, not {show(value)}")
    if rule.min_len is not None and len(value) < rule.min_len:
        fail("must not be empty" if rule.min_len == 1 else f"must have at least {rule.min_len} entries")
    if rule.length is not None and len(value) != rule.length:
        fail(f"must list exactly {rule.length} entries, not {show(value)}")
    if rule.pattern is not None and not re.fullmatch(rule.pattern, value):
        fail(f"must match {rule.pattern}, not {show(value)}")
    if rule.unique and len(set(value)) != len(value):
        twice = next(v for i, v in enumerate(value) if v in value[:i])
        _fail(place, f"lists {show(twice)} twice")
    if rule.test is not None and (reason := rule.test(value)):
        _fail(place, reason)


# ---- kinds, as Python sees them and as a message says them ----------------------------------------


def _fits(value, kind) -> bool:
    """Whether `value` has the shape of `kind` (its rules and its entries are checked after)."""
    origin = get_origin(kind)
    if origin is Annotated:
        return _fits(value, get_args(kind)[0])
    if origin in (Union, UnionType):
        return any(_fits(value, k) for k in get_args(kind))
    if origin is Literal:
        return any(type(value) is type(a) and value == a for a in get_args(kind))
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if _is_table(kind):
        return isinstance(value, dict)
    return isinstance(value, origin or kind)


def _is_table(kind) -> bool:
    kind = get_args(kind)[0] if get_origin(kind) is Annotated else kind
    return is_dataclass(kind) or get_origin(kind) is dict


def _describe(kind) -> str:
    origin, args = get_origin(kind), get_args(kind)
    if origin is Annotated:
        return next((r.means for r in args[1:] if r.means), None) or _describe(args[0])
    if origin is Literal:
        shown = [show(a) for a in args]
        return (
            shown[0]
            if len(shown) == 1
            else f"{'one of ' if len(shown) > 2 else ''}{', '.join(shown[:-1])} or {shown[-1]}"
        )
    if origin is list:
        return "a list"
    if _is_table(kind):
        return "a table"
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(kind, str(kind))


def show(value, limit: int = 60) -> str:
    """A value as the TOML file would write it, on one line and cut short."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = _quote(value)
    elif isinstance(value, float) and not math.isfinite(value):
        text = "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    elif isinstance(value, list):
        text = "[" + ", ".join(show(v, limit) for v in value) + "]"
    elif isinstance(value, dict):
        text = "{ " + ", ".join(f"{toml_key(k)} = {show(v, limit)}" for k, v in value.items()) + " }"
    else:
        text = " ".join(str(value).split())  # numbers, dates
    return text if len(text) <= limit else text[: limit - 3] + "..."


def toml_key(key: str) -> str:
    """A key as TOML writes it: bare when it can be, quoted otherwise."""
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _quote(key)


def _quote(text: str) -> str:
    """A TOML basic string: anything that is not printable escaped, so a message stays on one line."""

    def one(c: str) -> str:
        if c in '"\\':
            return "\\" + c
        return c if c.isprintable() else f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}"

    return '"' + "".join(map(one, text)) + '"'


def _unknown(place: Place, key: str, known) -> None:
    import difflib

    close = difflib.get_close_matches(str(key), [str(k) for k in known], n=1, cutoff=0.75)  # fill_medain: fill_median
    meant = f" (did you mean {close[0]}?)" if close else ""
    _fail(place, f"has unknown key {toml_key(key)}{meant}; known: {', '.join(known)}")


def _fail(place: Place, reason: str):
    raise SchemaError(f"{place} {reason}")


@cache
def _hints(schema: type) -> dict:
    return get_type_hints(schema, include_extras=True)
