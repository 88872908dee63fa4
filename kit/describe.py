"""What a user can look at before anything trains: the competitions kit knows (`kit list`) and what a
recipe makes of the training rows (`kit recipe show`)."""

from __future__ import annotations

from pathlib import Path

from kit.fixes import worded
from kit.table import aligned


def competitions_table(data_dir_of) -> str:
    """Every known competition: slug, task, metric, recipes, and whether its data is here.

    data_dir_of: competition -> the folder its files would be read from.
    """
    from kit import KitError
    from kit.competition import competition_dirs, load_competition

    rows = []
    found = {}  # name -> the file kit.competition.load_competition reads for it: the first folder's
    for path in (p for d in competition_dirs() for p in sorted(d.glob("*.toml"))):
        found.setdefault(path.stem, path)
    for path in sorted(found.values(), key=lambda p: p.stem):
        try:
            comp = load_competition(str(path))
        except KitError as e:  # one broken definition must not hide the others
            rows.append((path.stem, "-", "-", "-", f"invalid: {e}"))
            continue
        folder = Path(data_dir_of(comp))
        here = all((folder / comp.files[role]).is_file() for role in ("train", "test"))
        data = str(folder) if here else worded("missing", fix="fetch_or_data_dir", slug=comp.slug)
        rows.append((comp.slug, comp.task, comp.metric, ",".join(comp.recipes), data))
    if not rows:
        return worded("no competitions found", fix="new_definition")
    return aligned(("competition", "task", "metric", "recipes", "data"), rows)


def recipe_table(state: dict, x) -> str:
    """One row per feature column the recipe makes: the value it was divided by, and its mean, min and max
    over the training rows after scaling. Then the values the recipe learned (fills, levels, groups)."""
    columns, scale = state["columns"], state["scale"]
    rows = [
        (
            name,
            _short(scale[j]),
            _short(x[:, j].mean().item()),
            _short(x[:, j].min().item()),
            _short(x[:, j].max().item()),
        )
        for j, name in enumerate(columns)
    ]
    lines = [aligned(("feature", "divided by", "mean", "min", "max"), rows), "", "learned on the training rows:"]
    for step, learned in state.items():
        if step in ("recipe", "columns", "scale"):
            continue
        lines.append(f"  {step}: {_summary(learned)}")
    return "\n".join(lines)


def _short(v: float) -> str:
    return f"{v:.4g}"


def _summary(value, limit: int = 6) -> str:
    """A learned value in a line: big tables show their first entries and how many there are."""
    if isinstance(value, dict):
        items = list(value.items())
        parts = [f"{k}={_summary(v, 3)}" for k, v in items[:limit]]
        more = f", ... ({len(items)} in all)" if len(items) > limit else ""
        return "{" + ", ".join(parts) + more + "}"
    if isinstance(value, list):
        more = f", ... ({len(value)} in all)" if len(value) > limit else ""
        return "[" + ", ".join(_summary(v, 3) for v in value[:limit]) + more + "]"
    if isinstance(value, float):
        return _short(value)
    return str(value)
