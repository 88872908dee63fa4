"""The job from a competition's files to a submission, shared by the CLI and the Kaggle notebook
so that both write byte-identical files from the same settings."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch

from kit import KitError, __version__
from kit.competition import input_hashes, read_train_test, target_vector
from kit.models import MODELS
from kit.submission import check_submission, git_commit, submission_text, write_submission
from kit.validation import cross_validate, fit_full


def run_cv(comp, spec, train, test, plan):
    """Cross-validate the plan; returns (CVResult, y)."""
    y = torch.tensor(target_vector(comp, train))
    if plan.split != "random" and plan.folds > len(y):
        raise KitError(f"--folds {plan.folds} is more than the {len(y)} training rows.")
    return cross_validate(spec, train, test, y, plan), y


def make_submission(comp, spec, plan, data_dir: Path, out: Path, plots: bool = True):
    """Cross-validate, train on all rows, write the checked CSV, its sidecar and (with plots) the
    loss and CV pictures beside it; returns the CVResult."""
    train, test = read_train_test(comp, data_dir, spec)
    result, y = run_cv(comp, spec, train, test, plan)
    test_pred, state = fit_full(spec, train, test, y, plan)
    test_ids = test[comp.id].tolist()
    text = submission_text(comp, test_ids, test_pred)
    check_submission(comp, text, test_ids)  # never write a file Kaggle would reject
    cv_summary = result.summary()
    del cv_summary["fit_seconds"]  # a timing would make two identical runs differ
    sidecar = {
        "kit_version": __version__,
        "git_commit": git_commit(),
        "competition": comp.slug,
        "config": {
            "plan": asdict(plan),
            "recipe": asdict(spec),
            "models": {m: {"lr": MODELS[m].lr, "epochs": MODELS[m].epochs} for m in plan.models},
        },
        "recipe_state": state,
        "cv": cv_summary,
        "cv_score": cv_summary["ensemble"]["mean"],
        "inputs": input_hashes(comp, data_dir),
    }
    write_submission(Path(out), text, sidecar)
    if plots:
        from kit.plots import write_plots

        write_plots(result, Path(out).parent, Path(out).stem)
    return result


def format_cv(comp, spec, plan, result) -> str:
    """The CV table: mean ± std and per-fold scores of each model and of the ensemble."""
    split = "random 80/20" if plan.split == "random" else f"{plan.split} {plan.folds} folds"
    lines = [f"{comp.slug}  recipe={spec.name}  split={split}  seeds={plan.seeds}", ""]
    lines.append(f"{'model':<12}{'accuracy':>20}   folds")
    rows = [*result.models.items(), ("ensemble", result.ensemble)]
    for name, r in rows:
        folds = " ".join(f"{s:.4f}" for s in r.fold_scores)
        lines.append(f"{name:<12}{r.mean:>11.4f} ± {r.std:.4f}   {folds}")
    lines.append("")
    lines.append(f"training took {result.fit_seconds:.2f} s")
    return "\n".join(lines)
