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
    """One line per model: the loss per epoch averaged over folds and seeds, with a min-max band."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    for name, r in result.models.items():
        histories = [h for h in r.losses if h]
        if not histories:
            continue
        epochs = range(1, min(len(h) for h in histories) + 1)
        per_epoch = [[h[e - 1] for h in histories] for e in epochs]
        mean = [statistics.fmean(v) for v in per_epoch]
        ax.plot(list(epochs), mean, label=f"{name} ({len(histories)} fits)")
        ax.fill_between(list(epochs), [min(v) for v in per_epoch], [max(v) for v in per_epoch], alpha=0.2)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (mean absolute error)")
    ax.set_title(title or "training loss: mean over folds and seeds, band = min to max")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def cv_figure(result, title: str = ""):
    """Mean CV score per model and for the ensemble, with each fold's score as a dot."""
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
    ax.set_ylim(max(0.0, min(scores) - 0.05), min(1.0, max(scores) + 0.05))
    ax.set_ylabel("accuracy")
    ax.set_title(title or "CV accuracy: mean ± std, dots = folds")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def report_figure(runs: list[dict]):
    """CV score and public score of each recorded run, in time order."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    ordered = sorted(runs, key=lambda r: r["time"])
    x = list(range(1, len(ordered) + 1))
    ax.plot(x, [r["cv_mean"] for r in ordered], marker="o", label="local CV (mean)")
    public = [(i, float(r["public_score"])) for i, r in zip(x, ordered) if r.get("public_score")]
    if public:
        ax.plot([i for i, _ in public], [s for _, s in public], marker="s", linestyle="--", label="public score")
    ax.set_xticks(x, [r["time"][:16].replace("T", "\n") for r in ordered], fontsize=7)
    ax.set_xlabel("run")
    ax.set_ylabel("accuracy")
    ax.set_title("CV and public score over time")
    ax.legend()
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
