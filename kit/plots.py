"""Pictures of a run, written as PNG with matplotlib: training loss per epoch, and CV scores.

Each `*_figure` function returns a matplotlib Figure (the tests count its series); `write_plots`
saves them beside a submission. The Agg backend needs no screen.
"""

from __future__ import annotations

import statistics
from pathlib import Path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only; works with no display
    import matplotlib.pyplot as plt

    return plt


def loss_figure(result, title: str = ""):
    """Left: per model, the training loss per epoch (solid) and the validation loss after each epoch (dashed),
    each the mean over folds and seeds with a min-max band around the training line. Right: the validation
    metric per epoch, the mean over folds. A validation curve that turns up while training goes down is
    overfitting; the epoch to stop at is where the metric is best (what --choose-epochs picks)."""
    plt = _pyplot()
    curves = any(r.valid_scores for r in result.models.values())
    fig, axes = plt.subplots(1, 2 if curves else 1, figsize=(11 if curves else 7, 4.5), dpi=100, squeeze=False)
    ax = axes[0][0]
    for name, r in result.models.items():
        histories = [h for h in r.losses if h]
        if not histories:
            continue
        epochs = range(1, min(len(h) for h in histories) + 1)
        per_epoch = [[h[e - 1] for h in histories] for e in epochs]
        mean = [statistics.fmean(v) for v in per_epoch]
        # epochs chosen by CV: each fold's fits end at its chosen epoch, while its validation curve runs on to where
        # training stopped (a trial's user saw linear's solid line end at 32 and its dashed one at 49, unexplained)
        to = ", to the earliest chosen epoch" if r.chosen_epochs is not None and r.valid_losses else ""
        (line,) = ax.plot(list(epochs), mean, label=f"{name} ({len(histories)} fits{to})")
        ax.fill_between(list(epochs), [min(v) for v in per_epoch], [max(v) for v in per_epoch], alpha=0.2)
        if r.valid_losses:
            n = min(len(h) for h in r.valid_losses)
            valid = [statistics.fmean(h[e] for h in r.valid_losses) for e in range(n)]
            ax.plot(range(1, n + 1), valid, linestyle="--", color=line.get_color(), label=f"{name} validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title or "loss: training (band = min to max) and validation (dashed)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    if curves:
        metric = result.task.metric.name if result.task else "score"
        right = axes[0][1]
        for name, r in result.models.items():
            if r.valid_scores:
                n = min(len(c) for c in r.valid_scores)
                right.plot(
                    range(1, n + 1), [statistics.fmean(c[e] for c in r.valid_scores) for e in range(n)], label=name
                )
        right.set_xlabel("epoch")
        right.set_ylabel(f"validation {metric}")
        right.set_title(f"validation {metric} per epoch, mean over folds")
        right.legend(fontsize=8)
        right.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def cv_figure(result, title: str = ""):
    """Mean CV score per model and for the ensemble, with each fold's score as a dot; the axis names the metric."""
    plt = _pyplot()
    rows = [*result.models.items(), ("ensemble", result.ensemble)]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    for i, (name, r) in enumerate(rows):
        color = "tab:red" if name == "ensemble" else "tab:blue"
        ax.bar(i, r.mean, color=color, alpha=0.35, width=0.6)
        ax.errorbar(i, r.mean, yerr=r.std, color=color, capsize=6)
        ax.scatter([i] * len(r.fold_scores), r.fold_scores, color=color, s=14, zorder=3)
    ax.set_xticks(range(len(rows)), [name for name, _ in rows])
    scores = [s for _, r in rows for s in r.fold_scores]
    metric = result.task.metric.name if result.task else "score"
    spread = (max(scores) - min(scores)) or abs(max(scores)) or 1.0
    ax.set_ylim(min(scores) - 0.25 * spread, max(scores) + 0.25 * spread)
    ax.set_ylabel(metric)
    ax.set_title(title or f"CV {metric}: mean ± std, dots = folds")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def report_figure(rows: list[dict], metric: str, title: str):
    """Public score against CV score, one point per submitted file, with the y = x line: points below it
    (for a metric where higher is better) did worse on Kaggle than CV promised."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 6), dpi=100)
    points = {}
    for r in rows:
        if r.get("public_score") and r.get("cv_mean") is not None and r.get("sha256"):
            points[r["sha256"]] = (r["cv_mean"], float(r["public_score"]), Path(r["file"] or "").stem)
    if points:
        cv, public, names = zip(*points.values())
        ax.scatter(cv, public, zorder=3)
        for x, y, name in points.values():
            ax.annotate(name, (x, y), fontsize=6, xytext=(3, 3), textcoords="offset points")
        low, high = min(*cv, *public), max(*cv, *public)
        pad = (high - low) * 0.1 or 0.01
        ax.plot([low - pad, high + pad], [low - pad, high + pad], linestyle="--", color="grey", label="y = x")
        ax.legend()
    else:
        ax.text(0.5, 0.5, "no scored submissions yet", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel(f"local CV {metric}")
    ax.set_ylabel(f"public {metric}")
    ax.set_title(f"{title}: CV against public score")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def save(fig, path: Path) -> Path:
    """Write the figure as PNG through a temp file, then close it."""
    plt = _pyplot()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    # No Software/date metadata: the same run gives the same bytes.
    fig.savefig(tmp, format="png", metadata={"Software": None})
    plt.close(fig)
    tmp.replace(path)
    return path


def write_plots(result, folder: Path, stem: str) -> list[Path]:
    """<stem>.loss.png and <stem>.cv.png in folder."""
    return [
        save(loss_figure(result), Path(folder) / f"{stem}.loss.png"),
        save(cv_figure(result), Path(folder) / f"{stem}.cv.png"),
    ]
