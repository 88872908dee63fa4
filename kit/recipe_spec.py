"""The feature recipe as data: RecipeSpec, the vocabulary of a [recipes.NAME] table, and the
checks that turn a mistake in a definition into one sentence before any data is read.

kit.recipe turns a RecipeSpec into features; kit.groups holds the steps that learn per group.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Literal

from kit.schema import Name, Names, Place, PositiveInt, RowsOrShare, Rule, SchemaError, Value, Values, check, show

# The recipe's steps in the order they run; the fields below say what each does.
STEP_ORDER = (
    "split", "extract", "date", "number", "replace", "boolean", "is_missing", "rare", "clip", "fill_constant", "fill_median", "fill_mode", "fill_group",
    "sum", "equals", "product", "row", "count", "target_mean", "ratio", "log1p",
)  # fmt: skip
# equals before product: a flag times a number is the usual interaction (two trials' users wrote an equals flag
# into a product and were refused); equals still reads a sum (a family's size: IsAlone)


@dataclass(frozen=True)
class RecipeSpec:
    """The feature recipe as data; kit.recipe turns it into features.

    kit.recipe runs the steps in the order of STEP_ORDER, so each may read what the ones before it
    made (and, within one step, what its earlier entries made); numeric and one_hot then pick the
    features. kit.groups explains what count and target_mean count as a group.
    """

    name: str
    split: dict = field(default_factory=dict)  # column -> {sep, into}: its parts, split on sep, as new columns
    extract: dict = field(default_factory=dict)  # new column -> {from, pattern}: the pattern's first group
    # column -> parts (year, month, ...), or {parts, format} for dates not written the ISO way: numbers COLUMN_PART
    date: dict = field(default_factory=dict)
    # column -> {thousands, decimal, missing}: numbers written "1,234" or "1,5", or with tokens for gaps ("?"),
    # read as numbers in place
    number: dict = field(default_factory=dict)
    replace: dict = field(default_factory=dict)  # column -> {value: new value}: listed values renamed in place
    boolean: tuple = ()  # True/False (or 1/0, yes/no) columns made 1.0/0.0 in place; missing stays missing
    # new column -> source column: 1.0 where the source has a gap; or -> several: how many of them have a gap
    is_missing: dict = field(default_factory=dict)
    # column -> n: levels in < n fit rows (n below 1: that share of them), and unseen ones, become "rare"
    rare: dict = field(default_factory=dict)
    # column -> (lower, upper) quantiles: its numbers kept within the fit rows' values at them, in place (outliers)
    clip: dict = field(default_factory=dict)
    fill_constant: dict = field(default_factory=dict)  # column -> value, applied before the modes
    fill_median: tuple = ()  # number columns whose missing values take the training median
    fill_mode: tuple = ()  # columns whose missing values take the training mode
    fill_group: dict = field(default_factory=dict)  # column -> {by, stat}: gaps take the group's median or mode
    sum: dict = field(default_factory=dict)  # new column -> columns and numbers added up
    product: dict = field(default_factory=dict)  # new column -> columns and numbers multiplied, after the sums
    # new column -> {stat, columns}: the row's mean, std (population), min or max over the columns, gaps skipped
    row: dict = field(default_factory=dict)
    equals: dict = field(default_factory=dict)  # new column -> {column, values}: 1.0 where column holds one of values
    count: dict = field(default_factory=dict)  # new column -> key columns: size of the row's group among fit rows
    # new column -> {by, prior_weight, centre, [positive | classes | values]}: the group's target rate (binary),
    # rate of each of `classes` (multiclass: one column NEW_CLASS each) or mean target (regression: values = true)
    target_mean: dict = field(default_factory=dict)
    ratio: dict = field(default_factory=dict)  # new column -> (numerator, denominator[, value where it is 0])
    log1p: dict = field(default_factory=dict)  # new column -> source column, log(x + 1)
    numeric: tuple = ()  # numeric feature columns, in output order
    # number column -> n: its piecewise-linear encoding, columns COLUMN_bin0.. cut at n + 1 training quantiles
    # (kit.recipe._piecewise), after the numeric features
    piecewise: dict = field(default_factory=dict)
    one_hot: tuple = ()  # categorical columns, one 0/1 column per training level
    # text column -> n: a 0/1 column COLUMN_WORD for each of the n words in the most fit rows (kit.recipe._words)
    words: dict = field(default_factory=dict)
    # column -> its one-hot columns listed first, in this order (no scale of the levels: replace gives them numbers)
    level_order: dict = field(default_factory=dict)
    # "max": divide by the largest absolute training value; "standard": (x - mean) / std; "standard_numbers": that for
    # the numeric features only, the 0/1 features of one_hot and words left 0/1; "none"
    scale: str = "max"
    infinite: str = "refuse"  # inf/-inf in a column read: "refuse" stops the run; "missing" reads them as gaps
    id: str | None = None  # the competition's id column: count and target_mean tell fit rows by it
    target: str | None = None  # the competition's target column: target_mean learns from it

    def entries(self) -> list[tuple[str, tuple, tuple]]:
        """(step, columns read, columns made) for every entry of every step, in the order they run."""
        e = [("split", (c,), s["into"]) for c, s in self.split.items()]
        e += [("extract", (x["from"],), (new,)) for new, x in self.extract.items()]
        e += [("date", (c,), tuple(f"{c}_{p}" for p in date_form(d)[0])) for c, d in self.date.items()]
        e += [(step, (c,), ()) for step in ("number", "replace", "boolean") for c in getattr(self, step)]
        e += [("is_missing", (s,) if isinstance(s, str) else s, (new,)) for new, s in self.is_missing.items()]
        e += [("rare", (c,), ()) for c in self.rare]
        e += [("clip", (c,), ()) for c in self.clip]
        e += [(step, (c,), ()) for step in ("fill_constant", "fill_median", "fill_mode") for c in getattr(self, step)]
        e += [("fill_group", (c, *g["by"]), ()) for c, g in self.fill_group.items()]
        e += [("sum", tuple(t for t in terms if isinstance(t, str)), (new,)) for new, terms in self.sum.items()]
        e += [("equals", (x["column"],), (new,)) for new, x in self.equals.items()]
        e += [("product", tuple(t for t in terms if isinstance(t, str)), (new,)) for new, terms in self.product.items()]
        e += [("row", r["columns"], (new,)) for new, r in self.row.items()]
        e += [("count", by, (new,)) for new, by in self.count.items()]
        e += [("target_mean", t["by"], target_mean_columns(new, t)) for new, t in self.target_mean.items()]
        e += [("ratio", r[:2], (new,)) for new, r in self.ratio.items()]  # (a third entry is a number)
        e += [("log1p", (source,), (new,)) for new, source in self.log1p.items()]
        e += [(step, (c,), ()) for step in ("numeric", "piecewise", "one_hot", "words") for c in getattr(self, step)]
        return e

    def produced(self) -> list[str]:
        """Columns the steps make, in the order they are made."""
        return [c for _, _, made in self.entries() for c in made]

    def input_columns(self) -> list[str]:
        """Raw columns the recipe reads from a data file (never the target: test files lack it)."""
        made = set(self.produced())
        return list(dict.fromkeys(c for _, read, _ in self.entries() for c in read if c not in made))


# ---- the schema of a [recipes.NAME] table: every key it may hold (kit.schema checks them) -------


def _regex_with_group(pattern: str) -> str | None:
    try:
        groups = re.compile(pattern).groups
    except re.error as e:
        return f"is an invalid regular expression ({e})"
    return None if groups else "needs a (group) to keep"


# What `date` can take from a date: day of week 0 is Monday; elapsed is days since 1970-01-01 (a fraction
# for a time of day).
DatePart = Literal["year", "month", "day", "dayofweek", "dayofyear", "hour", "minute", "elapsed"]
DateParts = Annotated[list[DatePart], Rule(min_len=1, unique=True)]


def date_form(entry) -> tuple[tuple, str | None]:
    """(parts, format) of a RecipeSpec.date entry: its parts alone, or {parts, format}; format None is ISO 8601."""
    return (tuple(entry["parts"]), entry["format"]) if isinstance(entry, dict) else (tuple(entry), None)


def _strftime_form(fmt: str) -> str | None:
    """Why `fmt` cannot read dates, or None: it needs a day, month or year code and must read what it writes."""
    from datetime import datetime

    if not re.search(r"%[dmyYbBjU]", fmt):
        return "needs a day, month or year code such as %d/%m/%Y"
    try:
        when = datetime(2019, 3, 14, 10, 30, 15)
        datetime.strptime(when.strftime(fmt), fmt)
    except ValueError as e:
        return f"is not a date format strptime reads ({e})"
    return None


@dataclass(frozen=True)
class DateForm:
    """date = { COLUMN = { parts, format } }"""

    parts: DateParts
    format: str = field(default=None, metadata={"test": _strftime_form})  # None: ISO 8601


@dataclass(frozen=True)
class Split:
    """split = { COLUMN = { sep, into } }"""

    sep: str = field(metadata={"min_len": 1})
    into: Names


@dataclass(frozen=True)
class Extract:
    """extract = { NEW = { from, pattern } }"""

    from_: Name
    pattern: str = field(metadata={"test": _regex_with_group})


RATIO_TERMS = "[numerator, denominator], or [numerator, denominator, the value where the denominator is 0]"


def _ratio_terms(terms: list) -> str | None:
    """Two column names, then optionally a number: the value of the rows whose denominator is 0 (an approval rate of
    no units enrolled; a trial's user could only add 1 to every denominator first)."""
    if len(terms) not in (2, 3) or not all(isinstance(t, str) for t in terms[:2]):
        return f"must be {RATIO_TERMS}"
    if len(terms) == 3 and isinstance(terms[2], str):
        return f"must be {RATIO_TERMS}: its third entry is a number, not {terms[2]!r}"
    return None


def _separator(sep: str) -> str | None:
    return None if sep in (",", ".", " ", "'", "_", "\u00a0", "\u202f") else "must be one of , . ' _ or a space"


@dataclass(frozen=True)
class NumberForm:
    """number = { COLUMN = { thousands, decimal, missing } }"""

    thousands: str = field(default=None, metadata={"test": _separator})  # "1,234": ","
    decimal: str = field(default=None, metadata={"test": _separator})  # "1,5": ","
    missing: Annotated[list[str], Rule(min_len=1)] = None  # texts that mean a gap: ["?", "unknown"]


@dataclass(frozen=True)
class FillGroup:
    """fill_group = { COLUMN = { by, stat } }"""

    by: Names
    stat: Literal["median", "mode"] = "median"


@dataclass(frozen=True)
class Equals:
    """equals = { NEW = { column, value } }"""

    column: Name
    value: Values


ROW_STAT = Literal["mean", "std", "min", "max"]


@dataclass(frozen=True)
class RowStat:
    """row = { NEW = { stat, columns } }: stat a list makes NEW_STAT of each (NEW in numeric stands for them all)"""

    stat: Annotated[
        ROW_STAT | Annotated[list[ROW_STAT], Rule(min_len=1)],
        Rule(means='one of "mean", "std", "min" and "max", or a list of them'),
    ]
    columns: Annotated[list[Name], Rule(min_len=2)]


@dataclass(frozen=True)
class TargetMean:
    """target_mean = { NEW = { by, prior_weight, centre, positive, classes, log1p } }"""

    by: Names
    prior_weight: float = field(default=0.0, metadata={"min": 0})
    centre: bool = False
    positive: str = None  # binary: the target's label counted as 1 (as the CSV writes it); default: True, 1 or yes
    # multiclass (required there): the labels, as the CSV writes them, whose rates make NEW_LABEL each
    classes: list[Name] = field(default=None, metadata={"min_len": 1, "unique": True})
    # regression: the mean of log(1 + target), the scale an rmsle competition's models learn on
    log1p: bool = False


@dataclass(frozen=True)
class RecipeTable:
    """A [recipes.NAME] table as the file writes it; RecipeSpec above says what each step does."""

    split: dict[Name, Split] = field(default_factory=dict)
    extract: dict[Name, Extract] = field(default_factory=dict)
    date: dict[Name, DateParts | DateForm] = field(default_factory=dict)
    number: dict[Name, NumberForm] = field(default_factory=dict)
    replace: dict[Name, dict[str, Value]] = field(default_factory=dict)
    boolean: list[Name] = field(default_factory=list)
    is_missing: dict[Name, Names] = field(default_factory=dict)
    rare: dict[Name, RowsOrShare] = field(default_factory=dict)
    clip: dict[Name, Annotated[list[float], Rule(length=2, means="[lower, upper] quantiles")]] = field(
        default_factory=dict
    )
    fill_constant: dict[Name, Value] = field(default_factory=dict)
    fill_median: list[Name] = field(default_factory=list)
    fill_mode: list[Name] = field(default_factory=list)
    fill_group: dict[Name, FillGroup] = field(default_factory=dict)
    sum: dict[Name, Annotated[list[Name | float], Rule(min_len=1)]] = field(default_factory=dict)
    product: dict[Name, Annotated[list[Name | float], Rule(min_len=2)]] = field(default_factory=dict)
    row: dict[Name, RowStat] = field(default_factory=dict)
    equals: dict[Name, Equals] = field(default_factory=dict)
    count: dict[Name, Names] = field(default_factory=dict)
    target_mean: dict[Name, TargetMean] = field(default_factory=dict)
    ratio: dict[Name, Annotated[list[Name | float], Rule(test=_ratio_terms, means=RATIO_TERMS)]] = field(
        default_factory=dict
    )
    log1p: dict[Name, Name] = field(default_factory=dict)
    numeric: list[Name] = field(default_factory=list, metadata={"unique": True})
    piecewise: dict[Name, PositiveInt] = field(default_factory=dict)
    one_hot: list[Name] = field(default_factory=list, metadata={"unique": True})
    words: dict[Name, PositiveInt] = field(default_factory=dict)
    level_order: dict[Name, list[str | float]] = field(default_factory=dict)
    scale: Literal["max", "standard", "standard_numbers", "none"] = "max"
    infinite: Literal["refuse", "missing"] = "refuse"


def _date_entry(raw) -> tuple | dict:
    """A date's parts as a tuple, or {parts, format} when it has a format (RecipeSpec.date)."""
    if not isinstance(raw, dict):
        return tuple(raw)
    return {"parts": tuple(raw["parts"]), "format": raw["format"]} if "format" in raw else tuple(raw["parts"])


def target_mean_columns(new: str, t: dict) -> tuple:
    """The columns one target_mean entry makes: NEW, or NEW_LABEL for each of its classes."""
    return tuple(f"{new}_{c}" for c in t["classes"]) if "classes" in t else (new,)


def _names(value) -> tuple:
    """One name (or value) or a list of them, as a tuple."""
    return tuple(value) if isinstance(value, list | tuple) else (value,)


LEAVE_OUT_KEYS = ("drop", "exclude", "remove", "ignore", "skip", "drop_columns")  # steps other tools have


def check_no_leave_out_step(recipes: dict) -> None:
    """A recipe asked to drop a column is told how: a trial's user wrote drop = [...] and read the list of known
    keys, not the fix (before the definition's check, which would say only that the key is unknown)."""
    for name, raw in recipes.items():
        leaving_out = [k for k in raw if k in LEAVE_OUT_KEYS] if isinstance(raw, dict) else []
        if leaving_out == ["drop"] and "from" in raw and isinstance(raw["drop"], dict):
            continue  # a recipe from another drops from its lists and tables (resolve_from)
        if leaving_out:
            raise SchemaError(
                f"{Place(('recipes', name))} has no step {leaving_out[0]}: a recipe makes only the features its "
                "steps name, so leave a column out by taking it out of every list that names it (numeric, one_hot, "
                '...), or in a recipe from another, drop = { numeric = [...] } (from = "base")'
            )


def resolve_from(recipes: dict) -> dict:
    """[recipes.NAME] tables with `from = "OTHER"` written out: OTHER's table (itself resolved), each key this one
    names replacing OTHER's whole (a list is the new list, not added to), then `add` and `drop` (`_changed`). A
    trial's variant with bins copied the base recipe's 52 numeric names to change one line."""
    resolved: dict = {}

    def table(name: str, seen: tuple) -> dict:
        raw = recipes[name]
        if not isinstance(raw, dict) or "from" not in raw:
            return raw
        base = raw["from"]
        if base not in recipes or not isinstance(base, str):
            known = ", ".join(n for n in recipes if n != name)
            raise SchemaError(f"{Place(('recipes', name))}: from = {show(base)} names no recipe; the others: {known}")
        if base in seen:
            raise SchemaError(f"{Place(('recipes', name))}: from = {show(base)} comes back to {name}: "
                              f"{' -> '.join((*seen, base))}")  # fmt: skip
        if base not in resolved:
            resolved[base] = table(base, (*seen, base))
        out = resolved[base] | {k: v for k, v in raw.items() if k not in ("from", "add", "drop")}
        for how in ("add", "drop"):
            out = _changed(name, out, how, raw.get(how, {}), set(raw) - {"from", "add", "drop"})
        return out

    for name, raw in recipes.items():
        if isinstance(raw, dict) and "from" not in raw and ({"add", "drop"} & set(raw)):
            how = "add" if "add" in raw else "drop"
            raise SchemaError(f"{Place(('recipes', name))}: {how} changes the recipe named by from, and it has none")
    return {name: table(name, (name,)) for name in recipes}


def _changed(name: str, table: dict, how: str, changes, replaced: set) -> dict:
    """`table` with `changes` added to (how "add") or dropped from (how "drop") its keys: a list's items appended or
    removed, a table's entries added or removed (`add = { numeric = ["Income_missing"], is_missing = {
    Income_missing = "Income" } }`), a key the base lacks added whole. A trial's user restated a 17-name numeric list
    and a 4-entry is_missing table to add one flag. Adding what is there, dropping what is not, or changing a key
    this recipe also sets is refused: each would be a silent no-op or a guess."""
    place = Place(("recipes", name), (how,))  # [recipes.NAME] add
    if not isinstance(changes, dict):
        raise SchemaError(f"{place} must be a table of recipe keys, such as {{ numeric = [...] }}, not {show(changes)}")
    out = dict(table)
    for key, change in changes.items():
        if key in replaced:
            raise SchemaError(f"{place}.{key}: this recipe sets {key} itself; change it there or here, not both")
        have = table.get(key)
        if how == "add" and have is None:
            out[key] = change
            continue
        if isinstance(have, list) and isinstance(change, list):
            items = [show(v) for v in have]
            clash = [v for v in change if (show(v) in items) == (how == "add")]
            if clash:
                said = "is already in it" if how == "add" else "is not in it"
                raise SchemaError(f"{place}.{key}: {show(clash[0])} {said}")
            gone = {show(v) for v in change}
            out[key] = [*have, *change] if how == "add" else [v for v in have if show(v) not in gone]
        elif isinstance(have, dict) and isinstance(change, dict | list):
            names = list(change)  # drop takes the entries' names, as a list or a table's keys
            clash = [k for k in names if (k in have) == (how == "add")]
            if clash:
                said = "is already in it" if how == "add" else "is not in it"
                raise SchemaError(f"{place}.{key}: {show(clash[0])} {said}")
            out[key] = have | change if how == "add" else {k: v for k, v in have.items() if k not in names}
        else:
            whole = "the base has no such key" if have is None else f"{key} is one value, set it"
            raise SchemaError(f"{place}.{key}: only a list or a table of the base can change ({whole})")
    return out


def parse_recipe(
    name: str,
    raw: dict,
    id_column: str | None = None,
    target: str | None = None,
    task: str = "binary",
    labels: tuple = (),
) -> RecipeSpec:
    """One [recipes.NAME] table as a RecipeSpec, checked against RecipeTable and then as a whole.

    labels: a multiclass competition's [submission] labels: a target_mean without classes makes a rate of each.
    A multiclass target_mean's name in numeric stands for its columns (NAME_class, in its classes' order)."""
    check(raw, RecipeTable, Place(("recipes", name)))
    if task == "multiclass" and raw.get("target_mean"):
        means = {new: t | {"classes": list(labels)} if labels and "classes" not in t else t
                 for new, t in raw["target_mean"].items()}  # fmt: skip
        rates = {new: [f"{new}_{c}" for c in t["classes"]] for new, t in means.items() if "classes" in t}  # by class
        raw = raw | {"target_mean": means}
        if "numeric" in raw:
            raw = raw | {"numeric": [c for col in raw["numeric"] for c in rates.get(col, [col])]}
    # a row entry of several statistics is one entry each, NEW_STAT, and NEW in numeric stands for them all: the
    # 20 columns a trial's row statistics were taken over were named once, not once a statistic
    several = {new for new, r in raw.get("row", {}).items() if isinstance(r["stat"], list)}
    if several:
        row, made = {}, {}
        for new, r in raw["row"].items():
            for stat in r["stat"] if new in several else [r["stat"]]:
                made.setdefault(new, []).append(f"{new}_{stat}" if new in several else new)
                row[made[new][-1]] = {"stat": stat, "columns": r["columns"]}
        raw = raw | {"row": row}
        if "numeric" in raw:
            raw = raw | {"numeric": [c for col in raw["numeric"] for c in (made[col] if col in several else [col])]}
    split = {col: {"sep": s["sep"], "into": _names(s["into"])} for col, s in raw.get("split", {}).items()}
    extract = {new: {"from": e["from"], "pattern": e["pattern"]} for new, e in raw.get("extract", {}).items()}
    fill_group = {
        col: {"by": _names(g["by"]), "stat": g.get("stat", "median")} for col, g in raw.get("fill_group", {}).items()
    }
    equals = {new: {"column": e["column"], "values": _names(e["value"])} for new, e in raw.get("equals", {}).items()}
    target_mean = {
        new: {
            "by": _names(t["by"]),
            "prior_weight": float(t.get("prior_weight", 0)),
            "centre": t.get("centre", False),
            # only when given: a recipe without it keeps the fingerprint (kit.report.recipe_hash) it had
            **({"positive": t["positive"]} if "positive" in t else {}),
            **({"classes": tuple(t["classes"])} if "classes" in t else {}),
            **({"values": True} if task == "regression" else {}),  # the mean of the target as numbers
            **({"log1p": True} if t.get("log1p") else {}),
        }
        for new, t in raw.get("target_mean", {}).items()
    }
    ratio = {new: tuple(r) for new, r in raw.get("ratio", {}).items()}
    spec = RecipeSpec(
        name=name,
        split=split,
        extract=extract,
        # parts alone as before (so a recipe keeps its fingerprint, kit.report.recipe_hash), a format beside them
        date={col: _date_entry(d) for col, d in raw.get("date", {}).items()},
        number={
            col: {k: tuple(v) if isinstance(v, list) else v for k, v in m.items()}
            for col, m in raw.get("number", {}).items()
        },
        replace={col: {str(k): v for k, v in m.items()} for col, m in raw.get("replace", {}).items()},
        boolean=tuple(raw.get("boolean", ())),
        is_missing={new: s if isinstance(s, str) else tuple(s) for new, s in raw.get("is_missing", {}).items()},
        rare=dict(raw.get("rare", {})),
        clip={col: tuple(float(q) for q in qs) for col, qs in raw.get("clip", {}).items()},
        fill_constant=dict(raw.get("fill_constant", {})),
        fill_median=tuple(raw.get("fill_median", ())),
        fill_mode=tuple(raw.get("fill_mode", ())),
        fill_group=fill_group,
        sum={new: tuple(terms) for new, terms in raw.get("sum", {}).items()},
        product={new: tuple(terms) for new, terms in raw.get("product", {}).items()},
        row={new: {"stat": r["stat"], "columns": tuple(r["columns"])} for new, r in raw.get("row", {}).items()},
        equals=equals,
        count={new: _names(by) for new, by in raw.get("count", {}).items()},
        target_mean=target_mean,
        ratio=ratio,
        log1p=dict(raw.get("log1p", {})),
        numeric=tuple(raw.get("numeric", ())),
        piecewise=dict(raw.get("piecewise", {})),
        one_hot=tuple(raw.get("one_hot", ())),
        words=dict(raw.get("words", {})),
        level_order={k: tuple(str(v) for v in vs) for k, vs in raw.get("level_order", {}).items()},
        scale=raw.get("scale", "max"),
        infinite=raw.get("infinite", "refuse"),
        id=id_column,
        target=target,
    )
    as_numbers = {c for c in spec.numeric if c not in spec.log1p} | set(spec.log1p.values()) | set(spec.fill_median)
    as_numbers |= {c for r in spec.row.values() for c in r["columns"]} | set(spec.piecewise)
    pooled = sorted(set(spec.rare) & as_numbers)
    if pooled:  # rare turns a column's levels into text ("rare"), which no number step can read
        raise SchemaError(
            f"recipe {name} pools {pooled[0]}'s levels with rare and reads it as numbers; keep it in one of them"
        )
    for col, (lower, upper) in spec.clip.items():
        if not 0 <= lower < upper <= 1:
            raise SchemaError(
                f"recipe {name}: clip.{col} = [{lower:g}, {upper:g}] must be two quantiles with 0 <= lower < upper <= 1,"
                " such as [0.001, 0.999]"
            )
    if clipped := sorted(set(spec.clip) & set(spec.rare)):
        raise SchemaError(f"recipe {name} clips {clipped[0]} as numbers and pools its levels with rare; keep one")
    for col, form in spec.number.items():
        if not form:
            raise SchemaError(f"recipe {name}: number.{col} says nothing; give it thousands, decimal or missing")
        if form.get("thousands") is not None and form.get("thousands") == form.get("decimal"):
            raise SchemaError(f"recipe {name}: number.{col} has the same thousands and decimal separator")
    made = spec.produced()
    twice = sorted({c for c in made if made.count(c) > 1})
    if twice:
        raise SchemaError(f"recipe {name} makes the column(s) {', '.join(twice)} more than once")
    ready = set()  # columns made so far, walking the steps in the order they run
    for step, read, makes in spec.entries():
        late = [c for c in read if c in made and c not in ready]
        if late:
            raise SchemaError(
                f"recipe {name}: {step} reads {late[0]} before a later step makes it; "
                f"the steps run in the order {', '.join(STEP_ORDER)}"
            )
        ready.update(makes)
    if target in spec.input_columns():
        raise SchemaError(f"recipe {name} reads the target {target} as an input; only target_mean may learn from it")
    fills = {"fill_median": set(spec.fill_median), "fill_mode": set(spec.fill_mode), "fill_group": set(spec.fill_group)}
    for a, b in (("fill_mode", "fill_group"), ("fill_median", "fill_mode"), ("fill_median", "fill_group")):
        if fills[a] & fills[b]:
            raise SchemaError(f"recipe {name} lists a column in both {a} and {b}; keep one")
    if not (spec.numeric or spec.piecewise or spec.one_hot or spec.words):  # the models would have no input at all
        raise SchemaError(
            f"recipe {name} makes no features; list the columns it feeds the models in numeric or one_hot"
        )
    return spec
