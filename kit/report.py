"""The run ledger, submissions/<slug>/runs.json: one entry per `kit cv` or `kit submission` run, and
`kit report`, which joins it with the submission ledger's public scores and sorts by CV score."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from kit import ledger
from kit.competition import sha256_file
from kit.submission import write_atomic
from kit.table import aligned


def runs_path(slug: str) -> Path:
    return Path("submissions") / slug / "runs.json"


def recipe_hash(spec) -> str:
    """A short fingerprint of the recipe's definition: equal recipes, equal hashes."""
    return hashlib.sha256(json.dumps(asdict(spec), sort_keys=True).encode()).hexdigest()[:10]


def load_runs(slug: str) -> list[dict]:
    return ledger.read_list(runs_path(slug))


def record_run(comp, spec, plan, result, file: Path | None = None) -> dict:
    """Append one run to the run ledger; returns the entry."""
    entry = {
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "models": list(plan.models),
        "recipe": spec.name,
        "recipe_hash": recipe_hash(spec),
        "split": plan.split,
        "folds": plan.folds,
        "seeds": plan.seeds,
        "cv_mean": result.ensemble.mean,
        "cv_std": result.ensemble.std,
        "file": str(file) if file else None,
        "sha256": sha256_file(file) if file else None,
    }
    write_atomic(runs_path(comp.slug), json.dumps([*load_runs(comp.slug), entry], indent=2) + "\n")
    return entry


def report_rows(slug: str) -> list[dict]:
    """Every recorded run with its public score where the file was submitted, best CV first."""
    scores = {}
    for entry in ledger.load(slug):
        if entry.get("public_score"):
            scores[entry["sha256"]] = entry["public_score"]
    rows = [run | {"public_score": scores.get(run.get("sha256"), "")} for run in load_runs(slug)]
    return sorted(rows, key=lambda r: (-r["cv_mean"], r["time"]))


def format_report(rows: list[dict]) -> str:
    if not rows:
        return "no runs recorded yet; run `kit cv` or `kit submission`"
    head = ("when", "models", "recipe", "split", "cv", "public", "file")
    cells = [
        (
            r["time"][:16].replace("T", " "),
            ",".join(r["models"]),
            f"{r['recipe']}:{r['recipe_hash']}",
            r["split"] if r["split"] == "random" else f"{r['split']}{r['folds']}x{r['seeds']}",
            f"{r['cv_mean']:.4f} ± {r['cv_std']:.4f}",
            r["public_score"] or "-",
            Path(r["file"]).name if r["file"] else "-",
        )
        for r in rows
    ]
    return aligned(head, cells)
