"""The run ledger, submissions/<slug>/runs.json: one entry per `kit cv` or `kit submission` run, and
`kit report`, which joins it with the submission ledger's public scores: one row per distinct
configuration and file, best CV first in the metric's direction."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import statistics
from dataclasses import asdict
from pathlib import Path

from kit import ledger
from kit.competition import sha256_file
from kit.fixes import worded
from kit.paths import runs_path
from kit.submission import write_atomic
from kit.table import aligned, decimals
from kit.verdict import paired_verdict, unpaired_verdict

# Recipe steps added after runs were first logged: they count only in a recipe that uses them, so a recipe written
# before them keeps the fingerprint its runs were logged with.
LATER_STEPS = ("number", "is_missing", "words", "clip", "row", "piecewise", "product")


def recipe_hash(spec) -> str:
    """A short fingerprint of the recipe's definition: equal recipes, equal hashes."""
    facts = {k: v for k, v in asdict(spec).items() if v or k not in LATER_STEPS}
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:10]


def training_settings(plan) -> dict:
    """How each model trains, epochs aside (the run log has them apart): optimiser, lr, batch, loss, hidden, ..."""
    return {m: {k: v for k, v in plan.settings(m).items() if k not in ("model", "epochs")} for m in plan.models}


def training_hash(settings: dict) -> str:
    """A short fingerprint of the models' training settings: runs that differ only there are told apart."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:6]


def load_runs(slug: str) -> list[dict]:
    return ledger.read_list(runs_path(slug))


def record_run(comp, spec, plan, result, file: Path | None = None) -> dict:
    """Append one run to the run ledger; returns the entry."""
    entry = {
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        # a blend's: every recipe's models, RECIPE/MODEL for the blended ones (kit.pipeline.blended_cv)
        "models": list(result.models) if getattr(plan, "blend", ()) else list(plan.models),
        # a blend's every recipe, as its table names it: a trial's blend of base and inter was logged as base, and
        # the next CV of inter read "changed: recipe base -> inter"
        "recipe": "+".join((spec.name, *getattr(plan, "blend", ()))),
        "recipe_hash": recipe_hash(spec),
        "split": plan.split,
        "folds": plan.folds,
        "seeds": plan.seeds,
        "init_seed": plan.init_seed,  # the first model seed (the others follow it)
        "split_seed": plan.split_seed,
        "repeats": plan.repeats,
        # [validation]'s time column and block, or group column: other blocks cut other folds (a trial's blocks of
        # 852 and 365 dates both read "time2"); only where set, so that a definition without it logs as before
        "validation": dict(comp.validation) or None,
        "epochs": {m: plan.settings(m)["epochs"] for m in plan.models},  # with choose_epochs: the most CV tried
        "training": training_settings(plan),  # each model's optimiser, lr, batch size, loss, hidden sizes, ...
        "training_hash": training_hash(training_settings(plan)),
        "choose_epochs": plan.choose_epochs,
        "patience": plan.patience,  # choosing epochs, the curves stopped after this many without improving; 0: never
        "chosen_epochs": result.full_fit_epochs() or None,  # model -> the epochs its full-data fit trains
        "fold_epochs": {m: r.epochs for m, r in result.models.items() if r.chosen_epochs is not None} or None,
        "ensemble": plan.ensemble,  # "mean", or "select": weights chosen by CV (kit.ensemble)
        "refit": plan.refit,  # the submission's models trained again on all rows; false: the fold models' mean
        "rows": plan.rows,  # a CV on this many training rows drawn at random; 0: every row
        "data": result.data or None,  # a fingerprint of the input files' bytes (kit.pipeline.data_fingerprint)
        "fold_data": getattr(result, "fold_data", "") or None,  # ... of the training file's, the folds' (same folds)
        "extra": list(comp.extra) or None,  # the extra files whose rows train too (never validated)
        "ensemble_weights": result.ensemble.weights,  # with "select": model -> the full fit's weight
        "cutpoints": getattr(result.ensemble, "cutpoints", None),  # qwk: the full fit's (kit.cutpoints)
        "log_target": bool(result.task.log_target) if result.task else None,  # a regression learned in logs
        "metric": result.task.metric.name if result.task else None,
        "cv_mean": result.ensemble.mean,
        "cv_std": result.ensemble.std,
        # what a constant prediction scores on the same folds: the floor the CV clears (kit.validation.constant_scores)
        "constant_mean": statistics.fmean(result.constant) if getattr(result, "constant", None) else None,
        "model_means": {name: r.mean for name, r in result.models.items()},  # each model's CV score
        "fold_scores": result.ensemble.fold_scores,  # the ensemble's, fold by fold: the next CV's paired verdict
        "model_fold_scores": {name: r.fold_scores for name, r in result.models.items()},
        "file": str(file) if file else None,
        "sha256": sha256_file(file) if file else None,
    }
    write_atomic(runs_path(comp.slug), json.dumps([*load_runs(comp.slug), entry], indent=2) + "\n")
    return entry


# The seeds a plan starts from unless told (kit.validation.Plan): the report names only others.
DEFAULT_SPLIT_SEED, DEFAULT_INIT_SEED = 42, 442

# What a run entry holds when an older kit did not write the field (runs.json outlives versions).
RUN_DEFAULTS = {"time": "", "models": [], "recipe": "", "recipe_hash": "", "split": "", "folds": None,
                "seeds": None, "repeats": 1, "epochs": {}, "training": None, "training_hash": "", "choose_epochs": False, "patience": 0, "chosen_epochs": None,
                "fold_epochs": None, "ensemble": "mean", "ensemble_weights": None, "metric": None, "cv_mean": None, "cv_std": None,
                "constant_mean": None,
                "file": None, "sha256": None, "rows": 0, "model_means": None, "data": "", "init_seed": None,
                "split_seed": None, "cutpoints": None, "log_target": None, "refit": True, "fold_scores": None,
                "model_fold_scores": None, "validation": None, "fold_data": None, "extra": None}  # fmt: skip
# What makes two runs the same row of the report: the configuration, its CV score and the file it wrote.
SAME_RUN = ("models", "recipe", "recipe_hash", "split", "folds", "seeds", "repeats", "epochs", "training_hash",
            "choose_epochs",
            "patience", "chosen_epochs", "ensemble", "ensemble_weights", "cv_mean", "sha256", "rows", "data",
            "init_seed", "split_seed", "refit")  # fmt: skip


def last_run(slug: str, metric: str, rows: int | None = None, recipe: str | None = None) -> dict | None:
    """The latest run scored by `metric`, as `_complete` reads it; None before the first. rows: only runs on that
    many rows drawn (0: every row): a CV of 50,000 rows scores other rows than one of every row, and a new user
    read "worse" between the two as a verdict on the change. recipe: only runs of that recipe."""
    runs = [
        r
        for r in map(_complete, load_runs(slug))
        if run_metric(r) == metric and rows in (None, r["rows"]) and recipe in (None, r["recipe"])
    ]
    return runs[-1] if runs else None


# What two runs share when their fold scores are of the same rows, fold by fold: their differences are paired.
SAME_FOLDS = ("split", "folds", "repeats", "split_seed", "rows", "validation")  # and the training file: _same_folds


def _same_folds(last: dict, run: dict) -> bool:
    """Whether two runs' CVs validated the same rows: the same SAME_FOLDS and the same training file (where both
    logged its fingerprint; else the same input files). Extra files train and are never validated: a trial's
    original dataset added made its comparison of means alone, where the folds were the same."""
    if not all(last.get(key) == run.get(key) for key in SAME_FOLDS):
        return False
    if last.get("fold_data") and run.get("fold_data"):
        return last["fold_data"] == run["fold_data"]
    return last.get("data") == run.get("data")


def lower_lr_tried(slug: str, run: dict, model: str, greater_is_better: bool) -> dict | None:
    """The latest logged run of the same recipe on the same folds in which `model` trained at a lower lr than in
    `run` (a run entry) and scored no better: a lower learning rate for it, already tried. None if none was."""
    lr, now = (run.get("training") or {}).get(model, {}).get("lr"), (run.get("model_means") or {}).get(model)
    if lr is None or now is None:
        return None
    sign = 1 if greater_is_better else -1
    for then in reversed([_complete(r) for r in load_runs(slug)]):
        setting = (then["training"] or {}).get(model) or {}
        score = (then["model_means"] or {}).get(model)
        if (
            then["recipe_hash"] == run["recipe_hash"]
            and _same_folds(then, run)
            and isinstance(setting.get("lr"), int | float)
            and setting["lr"] < lr
            and isinstance(score, int | float)
            and sign * (score - now) <= 0
        ):
            return {"lr": setting["lr"], "score": score, "time": then["time"]}
    return None


def against_last(last: dict | None, run: dict, greater_is_better: bool) -> dict | None:
    """How `run` (a run entry) differs from the last run before it: its time, the ensemble's and each shared model's
    CV score then and now, and what changed in between (`what_changed`). None when there was no run before.

    On the same folds (SAME_FOLDS) a verdict counts the folds that went each way: a mean that moved by 0.0001 with
    folds spread 0.0022 (a trial's user read "better" and "worse" so) is `within noise` unless a sign test says
    that so many folds one way would be rare by chance (5 of 5; 3 folds never are)."""
    if last is None or last["cv_mean"] is None or run["cv_mean"] is None:
        return None
    then = last.get("model_means") if isinstance(last.get("model_means"), dict) else {}
    models = {m: [then[m], run["model_means"][m]] for m in run["models"] if isinstance(then.get(m), int | float)}
    sign = 1 if greater_is_better else -1
    paired = _same_folds(last, run)
    # unpaired: the folds cut otherwise, or from another training file
    unlike = "the folds differ" if last.get("data") == run.get("data") else "the input files differ"

    def verdict(then: float, now: float, folds_then=None, folds_now=None) -> str:
        better = sign * (now - then)
        overall = "better" if better > 0 else "worse" if better < 0 else "the same"
        if "time" in {last.get("split"), run.get("split")} and last.get("split") != run.get("split"):
            # random folds validate on rows beside the ones they learn from, a time split on later ones: a trial's
            # random folds "better" by 0.039 MAPE than its time split's, on rows whose hidden score was no better
            return f"not comparable (the split changed: {last.get('split')} -> {run.get('split')})"
        if not (better and isinstance(folds_then, list) and isinstance(folds_now, list)):
            return overall  # a run log of an older kit: the means alone
        if not paired:  # other folds: the move against the folds' spread (kit.verdict.unpaired_verdict)
            said = unpaired_verdict(folds_then, folds_now, better)
            return f"{said} ({unlike}: {'a move under' if said == 'within noise' else 'over'} twice its error)"
        if len(folds_then) != len(folds_now) or len(folds_now) < 2:
            return overall
        moves = [sign * (b - a) for a, b in zip(folds_then, folds_now)]
        up, down = sum(m > 0 for m in moves), sum(m < 0 for m in moves)
        if paired_verdict(up, down, better) != "within noise":
            return f"{overall} on {up if better > 0 else down} of {len(moves)} folds"
        return f"within noise ({up} of {len(moves)} folds better, {down} worse)"

    then_folds = last.get("model_fold_scores") if isinstance(last.get("model_fold_scores"), dict) else {}
    now_folds = run.get("model_fold_scores") or {}
    return {
        "time": last["time"],
        "ensemble": [last["cv_mean"], run["cv_mean"]],
        "models": models,
        "verdict": verdict(last["cv_mean"], run["cv_mean"], last.get("fold_scores"), run.get("fold_scores")),
        # each model's own: an ensemble that gained may hold a model that lost
        "model_verdicts": {m: verdict(a, b, then_folds.get(m), now_folds.get(m)) for m, (a, b) in models.items()},
        "changed": what_changed(last, _complete(run)),
    }


def changed_since_file(slug: str, file, run: dict) -> list[str]:
    """What changed (`what_changed`) between the last run that wrote `file` and `run` (a run entry); [] when no run
    in the log wrote it (a file from elsewhere, or from before the log)."""
    wrote = [r for r in load_runs(slug) if r.get("file") == str(file)]
    return what_changed(_complete(wrote[-1]), _complete(run)) if wrote else []


def what_changed(last: dict, run: dict) -> list[str]:
    """The differences between two runs' configurations, in the definition's words: `recipe base -> drafted`,
    `deep lr 0.01 -> 0.02`, `models linear,nn -> linear,nn,deep`, `rows 50,000 -> every row`."""
    changes = []

    def differs(name: str, before, after) -> None:
        if before != after:
            changes.append(f"{name} {before} -> {after}")

    if last["data"] and run["data"] and last["data"] != run["data"]:  # an older kit logged no fingerprint
        changes.append(f"input files {last['data']} -> {run['data']}")
    if last["fold_data"] and run["fold_data"] and last["extra"] != run["extra"]:  # by name (an older kit: unlogged)
        differs("extra files", ",".join(last["extra"] or []) or "none", ",".join(run["extra"] or []) or "none")
    if last["metric"] and run["metric"]:  # an older kit logged none
        differs("metric", last["metric"], run["metric"])
    differs("models", ",".join(last["models"]), ",".join(run["models"]))
    if last["recipe"] == run["recipe"] and last["recipe_hash"] != run["recipe_hash"]:
        changes.append(f"recipe {run['recipe']} edited")
    differs("recipe", last["recipe"], run["recipe"])
    differs("split", _split(last), _split(run))
    before, after = last["validation"] or {}, run["validation"] or {}
    for key in sorted((set(before) | set(after)) - {"block"}):  # the column that cuts the folds (split shows a block)
        differs(f"[validation] {key}", before.get(key, "unset"), after.get(key, "unset"))
    differs("seeds", last["seeds"], run["seeds"])
    for seed in ("split_seed", "init_seed"):  # an older kit logged neither
        if last[seed] is not None and run[seed] is not None:
            differs(seed.replace("_", " "), last[seed], run[seed])
    differs("epochs", _per_model(last["epochs"]), _per_model(run["epochs"]))  # the most tried, not those chosen
    differs("choose epochs", last["choose_epochs"], run["choose_epochs"])
    differs("patience", last["patience"], run["patience"])
    differs("ensemble", last["ensemble"], run["ensemble"])
    differs("refit", str(last["refit"]).lower(), str(run["refit"]).lower())  # as the definition writes it
    differs("cut-points", "tuned" if last["cutpoints"] else "none", "tuned" if run["cutpoints"] else "none")
    if last["log_target"] is not None and run["log_target"] is not None:  # an older kit logged neither
        differs("learned in logs", last["log_target"], run["log_target"])
    if last["training_hash"] != run["training_hash"] and isinstance(last["training"], dict):
        for model in [m for m in run["models"] if m in last["training"]]:
            before, after = last["training"][model], run["training"][model]
            for key in sorted(set(before) | set(after)):
                differs(f"{model} {key}", _setting(before.get(key)), _setting(after.get(key)))
    return changes


def format_against_last(diff: dict, metric: str, of_recipe: str | None = None) -> str:
    """Two lines: `against the last CV (2026-11-28 03:20 UTC): accuracy 0.7168 -> 0.7186, better (nn 0.7154 ->
    0.7174 better, deep 0.7161 -> 0.7140 worse)` and `  changed: recipe base -> drafted; deep lr 0.01 -> 0.02`; one
    when nothing changed."""
    then, now = diff["ensemble"]
    when = diff["time"][:16].replace("T", " ") + " UTC" if diff["time"] else "an older kit"
    last = f"the last CV of recipe {of_recipe}" if of_recipe else "the last CV"  # of_recipe: the one before, not last
    if not diff["changed"] and then == now:
        return f"the same configuration and CV score as {last} ({when})"
    places = decimals([then, now, *(s for pair in diff["models"].values() for s in pair)])  # 0.7168, 55.218, 44815
    verdicts = diff.get("model_verdicts", {})  # a run log of an older kit has none
    models = [
        f"{m} {a:.{places}f} -> {b:.{places}f}" + (f" {verdicts[m]}" if m in verdicts else "")
        for m, (a, b) in diff["models"].items()
        if f"{a:.{places}f}" != f"{b:.{places}f}"
    ]
    shown = places  # a move below the table's digits gets the digits it takes (a trial read "0.4484 -> 0.4484, within
    while shown < places + 3 and then != now and f"{then:.{shown}f}" == f"{now:.{shown}f}":  # noise (4 of 5 better)")
        shown += 1
    line = f"against {last} ({when}): {metric} {then:.{shown}f} -> {now:.{shown}f}, {diff['verdict']}"
    line += f" ({'; '.join(models)})" if models else ""  # "; ": a verdict may hold a comma
    changed = "; ".join(diff["changed"]) or "nothing in the configuration (so the data, the definition or kit)"
    # a recipe and a setting changed at once: the verdict is theirs together (a trial read "worse on 5 of 5" for a
    # recipe that scored better on hidden rows, where the seeds had gone 3 -> 1 with it)
    recipe = next((c for c in diff["changed"] if c.startswith("recipe ")), None)
    if recipe and len(diff["changed"]) > 1:
        changed += " (the verdict is of these together; the recipe's own move needs the rest as it was)"
    return f"{line}\n  changed: {changed}"


def run_metric(run: dict) -> str:
    """The metric a run was scored by; a run without one is from a kit that knew only accuracy."""
    return run.get("metric") or "accuracy"


def report_rows(slug: str, greater_is_better: bool = True, metric: str | None = None) -> list[dict]:
    """One row per distinct configuration and file (reruns counted in `runs`, the latest time kept), with the
    public score where the file was submitted, best CV first in the metric's direction (no CV score last).
    metric: only the runs scored by it (a definition whose metric was changed keeps its older runs, whose
    scores are not comparable). Fields an older kit did not write take RUN_DEFAULTS."""
    scores = {}
    for entry in ledger.load(slug):
        if entry.get("public_score") and entry.get("sha256"):
            scores[entry["sha256"]] = entry["public_score"]
    rows: dict[str, dict] = {}
    runs = [r for r in load_runs(slug) if metric is None or run_metric(r) == metric]
    for run in map(_complete, runs):
        key = json.dumps([run[k] for k in SAME_RUN], sort_keys=True, default=str)
        earlier = rows.get(key)
        count = earlier["runs"] + 1 if earlier else 1
        rows[key] = run | {"runs": count, "public_score": scores.get(run["sha256"], "")}  # the latest run wins
    # A CV (no file) of a configuration a submission was made of is counted in the submission's row: a new user read
    # `kit cv` then `kit submission` as two rows of one run
    config = {key: json.dumps([row[k] for k in SAME_RUN if k != "sha256"], sort_keys=True, default=str)
              for key, row in rows.items()}  # fmt: skip
    submitted = {config[key]: key for key, row in rows.items() if row["sha256"]}  # the latest file of each
    for key, row in list(rows.items()):
        if not row["sha256"] and config[key] in submitted:
            rows[submitted[config[key]]]["runs"] += row["runs"]
            del rows[key]
    return ranked(list(rows.values()), greater_is_better)


def ranked(rows: list[dict], greater_is_better: bool) -> list[dict]:
    """Best CV first in the metric's direction, no CV score last; where some runs were cut by a time split, those
    first: random folds of rows over time validate beside the rows they learn from and promise more than the test
    rows give (a trial's random folds topped the report at MAPE 0.065, where its time split's said 0.104-0.113 and
    its hidden rows 0.108-0.137). Within either, runs on every row before quick looks on rows drawn at random
    (`rows`), the larger draws first: a draw's folds hold other rows, and a trial's two 50,000-row looks topped the
    report above every full run, the first of them the recipe whose full run scored worst on the hidden rows."""
    sign = -1.0 if greater_is_better else 1.0
    timed = any(r["split"] == "time" for r in rows)

    def place(r: dict) -> tuple:
        drawn = r["rows"] or 0  # 0: every row
        return (r["cv_mean"] is None, timed and r["split"] != "time", drawn > 0, -drawn, sign * (r["cv_mean"] or 0.0))

    return sorted(rows, key=lambda r: (*place(r), r["time"]))


def _complete(run: dict) -> dict:
    row = RUN_DEFAULTS | {k: v for k, v in run.items() if v is not None}
    row["time"] = str(row["time"])
    row["models"] = [row["models"]] if isinstance(row["models"], str) else list(row["models"] or [])
    row["epochs"] = row["epochs"] if isinstance(row["epochs"], dict) else {}
    row["choose_epochs"] = row["choose_epochs"] is True
    patience = row["patience"]
    row["patience"] = patience if isinstance(patience, int) and not isinstance(patience, bool) and patience > 0 else 0
    chosen = row["chosen_epochs"]
    row["chosen_epochs"] = chosen if row["choose_epochs"] and isinstance(chosen, dict) else None
    row["ensemble"] = "select" if row["ensemble"] == "select" else "mean"
    row["refit"] = row["refit"] is not False
    weights = row["ensemble_weights"]
    row["ensemble_weights"] = weights if row["ensemble"] == "select" and isinstance(weights, dict) else None
    for key in ("cv_mean", "cv_std"):
        if not isinstance(row[key], int | float) or isinstance(row[key], bool):
            row[key] = None
    return row


def format_report(rows: list[dict], metric: str = "cv") -> str:
    if not rows:
        return worded("no runs recorded yet", fix="record_runs")
    head = (
        "when",
        "models",
        "recipe",
        "split",
        "seeds",
        "training",
        "epochs",
        f"cv {metric}",
        "public",
        "file",
        "runs",
    )
    places = decimals([r["cv_mean"] for r in rows if r["cv_mean"] is not None])  # one for the column: 0.05511
    cells = [
        (
            r["time"][:16].replace("T", " ") or "-",
            _models(r),
            ":".join(str(part) for part in (r["recipe"], r["recipe_hash"]) if part) or "-",
            _split(r) + (f" seed {r['split_seed']}" if r["split_seed"] not in (None, DEFAULT_SPLIT_SEED) else ""),
            (str(r["seeds"]) if r["seeds"] is not None else "-")
            + (f" from {r['init_seed']}" if r["init_seed"] not in (None, DEFAULT_INIT_SEED) else ""),
            str(r["training_hash"] or "-"),  # runs.json has the settings behind it
            _epochs(r),
            _cv(r, places),
            r["public_score"] or "-",
            _file(r["file"]),
            str(r["runs"]),
        )
        for r in rows
    ]
    if len({r["data"] for r in rows}) > 1:  # runs on other input files (edited, or another --data-dir): said so
        head = (*head[:3], "data", *head[3:])
        # and the extra files that trained too: a trial's user could not tell which fingerprint had its original rows
        data = [(r["data"] or "-") + "".join(f" +{name}" for name in r.get("extra") or ()) for r in rows]
        cells = [(*c[:3], d, *c[3:]) for c, d in zip(cells, data)]
    if len({r["log_target"] for r in rows if r["log_target"] is not None}) > 1:
        # a regression learned in logs or in values (log_target): a trial's two runs showed the same fingerprint
        learns = {True: "log(1+y)", False: "y", None: "-"}
        head = (*head[:-5], "learns", *head[-5:])
        cells = [(*c[:-5], learns[r["log_target"]], *c[-5:]) for c, r in zip(cells, rows)]
    return "\n".join([aligned(head, cells), *training_legend(rows), *_splits_note(rows), *_drawn_note(rows)])


def _file(file: str | None) -> str:
    """A row's file by its name where kit wrote it (submissions/<slug>/), else as its path: a byte-identical copy
    written elsewhere with --out takes the row, and a trial's user lost sight of where it was."""
    if not file:
        return "-"
    path = Path(file)
    return path.name if path.parent.parent.name == "submissions" else str(path)


def _splits_note(rows: list[dict]) -> list[str]:
    """A line when the runs were cut by more than one kind of split: their CV scores are of other folds (a time
    split's later folds score as the test set will; random folds of the same rows promise more), not one ranking."""
    kinds = sorted({r["split"] for r in rows if r["split"]})
    if len(kinds) < 2:
        return []
    first = "; the time split's runs first (random folds of rows over time promise more)" if "time" in kinds else ""
    return [f"splits differ ({', '.join(kinds)}): their CV scores are of other folds; compare runs of one split{first}"]


def _drawn_note(rows: list[dict]) -> list[str]:
    """A line when quick looks on rows drawn at random sit beside runs on every row: listed after them, since their
    folds hold other rows (and fewer of them: a move of the spread's size can turn around on every row)."""
    if not any(r["rows"] for r in rows) or all(r["rows"] for r in rows):
        return []
    return ["runs on rows drawn at random (`on N rows`) come after the runs on every row: their folds hold other rows"]


def training_legend(rows: list[dict]) -> list[str]:
    """What each training fingerprint of the table stands for, where the table shows more than one: the settings
    in which they differ, for the models they all train (`training 3df664: deep lr 0.04, deep hidden 64/32`)."""
    shown = {}  # fingerprint -> its settings, model -> {setting: value}
    for r in rows:
        if r["training_hash"] and isinstance(r["training"], dict):
            shown.setdefault(r["training_hash"], r["training"])
    if len(shown) < 2:
        return []
    shared = set.intersection(*(set(t) for t in shown.values()))
    keys = sorted({(m, k) for t in shown.values() for m in shared if isinstance(t[m], dict) for k in t[m]})
    differ = [
        (m, k)
        for m, k in keys
        if len({json.dumps(t[m].get(k), sort_keys=True, default=str) for t in shown.values()}) > 1
    ]
    # none where the runs differ only in their models (the models column says so)
    said = {f: ", ".join(f"{m} {k} {_setting(t[m].get(k))}" for m, k in differ) for f, t in shown.items() if differ}
    # two that read the same differ in the models they train: a trial's user read "training a0e1af: deep hidden
    # 32/32" and "training e4a96b: deep hidden 32/32" as one setting under two names; each names its models then
    alike = {text for text in said.values() if list(said.values()).count(text) > 1}
    return [
        f"training {f}" + (f" ({', '.join(shown[f])})" if text in alike else "") + f": {text}"
        for f, text in said.items()
    ]


def _setting(value) -> str:
    """A setting as the definition would write it: hidden sizes 64/32, numbers as they are, none as -."""
    if isinstance(value, list | tuple):
        return "/".join(map(str, value)) or "none"
    return "-" if value is None else str(value)


def _models(r: dict) -> str:
    """linear,nn,deep; with weights chosen by CV, each model's weight in the full fit: linear,nn,deep selected 0.10/0.60/0.30."""
    models = ",".join(map(str, r["models"])) or "-"
    weights = r["ensemble_weights"]
    if r["ensemble"] != "select" or len(r["models"]) < 2:  # one model has nothing to weigh
        return models
    shares = (
        "/".join(f"{weights[m]:.2f}" if isinstance(weights.get(m), int | float) else "?" for m in r["models"])
        if weights
        else ""
    )
    return f"{models} selected {shares}".rstrip()


def _split(r: dict) -> str:
    if r["split"] in ("random", ""):
        return r["split"] or "-"
    folds = r["folds"] if r["folds"] is not None else "?"
    sample = f" on {r['rows']:,} rows" if isinstance(r["rows"], int) and r["rows"] > 0 else ""  # kit cv --rows
    block = (r.get("validation") or {}).get("block") if r["split"] == "time" else None
    block = f" block {block}" if block else ""  # its folds' length in times: other blocks, other folds
    return f"{r['split']}{folds}" + (f"x{r['repeats']}" if (r.get("repeats") or 1) > 1 else "") + block + sample


def _epochs(r: dict) -> str:
    """30 when every model trains 30 epochs; linear:60,nn:30 otherwise. With epochs chosen by CV, what each
    full-data fit trained in the models' order, of the most allowed: chosen 60/26/12 of at most 100 (the CV table's
    `of` counts the epochs its curves ran, so the report says which it counts). Without a refit no full fit trains:
    chosen per fold of at most 100, no refit."""
    epochs = _per_model(r["epochs"])
    if not r["refit"]:  # the fold models predicted the test rows, each at its own fold's epochs
        return f"{'chosen per fold of at most ' if r['choose_epochs'] else ''}{epochs}, no refit"
    if not r["choose_epochs"]:
        return epochs
    chosen = r["chosen_epochs"] or {}
    patience = f", patience {r['patience']}" if r.get("patience") else ""
    return (
        "chosen " + "/".join(str(chosen.get(m, "?")) for m in r["models"] or chosen) + f" of at most {epochs}{patience}"
    )


def _per_model(epochs: dict) -> str:
    values = set(epochs.values())
    if len(values) == 1:
        return str(values.pop())
    return ",".join(f"{m}:{n}" for m, n in epochs.items()) or "-"


def _cv(r: dict, places: int) -> str:
    if r["cv_mean"] is None:
        return "-"
    return f"{r['cv_mean']:.{places}f}" + (f" ± {r['cv_std']:.{places}f}" if r["cv_std"] is not None else "")
