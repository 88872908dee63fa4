"""Honest validation: splits, cross-validation with out-of-fold predictions, and the ensemble.

The recipe is fit on each training fold only, so no validation row ever shapes its own features.
scikit-learn supplies fold indices and nothing else.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

import torch

from kit.models import MODELS
from kit.recipe import apply_recipe, fit_recipe
from kit.train import accuracy, fit, predict_proba


@dataclass(frozen=True)
class Plan:
    """What to train and how to validate it."""

    models: tuple = ("linear", "nn", "deep")  # names in kit.models.MODELS
    split: str = "stratified"  # "stratified", "kfold" or "random"
    folds: int = 5  # for kfold and stratified
    seeds: int = 1  # initialisations per model: init_seed, init_seed + 1, ...
    init_seed: int = 442  # the article's
    split_seed: int = 42  # the article's
    valid_pct: float = 0.2  # for the random split

    def seed_list(self) -> list[int]:
        return [self.init_seed + i for i in range(self.seeds)]


def random_split(n: int, valid_pct: float = 0.2, seed: int = 42):
    """fastai's RandomSplitter: shuffle with `seed`, the first int(valid_pct * n) rows validate."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    cut = int(valid_pct * n)
    return perm[cut:], perm[:cut]  # train_idx, valid_idx


def split_indices(plan: Plan, y: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(train_idx, valid_idx) per fold."""
    if plan.split == "random":
        return [random_split(len(y), plan.valid_pct, plan.split_seed)]
    from sklearn.model_selection import KFold, StratifiedKFold

    if plan.split == "kfold":
        splitter = KFold(n_splits=plan.folds, shuffle=True, random_state=plan.split_seed)
    elif plan.split == "stratified":
        splitter = StratifiedKFold(n_splits=plan.folds, shuffle=True, random_state=plan.split_seed)
    else:
        raise ValueError(f"unknown split {plan.split!r}")
    labels = y.numpy()
    return [(torch.as_tensor(t), torch.as_tensor(v)) for t, v in splitter.split(labels, labels)]


@dataclass
class ModelResult:
    """One model's (or the ensemble's) validation: out-of-fold predictions and fold scores."""

    oof: torch.Tensor  # (n_train,) mean probability over seeds; NaN for rows never validated
    test_pred: torch.Tensor  # (n_test,) mean over folds and seeds
    fold_scores: list[float]
    losses: list[list[float]] = field(default_factory=list)  # per fold and seed, the loss per epoch

    @property
    def mean(self) -> float:
        return statistics.fmean(self.fold_scores)

    @property
    def std(self) -> float:
        return statistics.pstdev(self.fold_scores)

    def summary(self) -> dict:
        return {"fold_scores": self.fold_scores, "mean": self.mean, "std": self.std}


@dataclass
class CVResult:
    models: dict  # name -> ModelResult
    ensemble: ModelResult
    fit_seconds: float  # time spent training, in process
    recipe_states: list  # the recipe learned on each training fold

    def summary(self) -> dict:
        return {
            "models": {name: r.summary() for name, r in self.models.items()},
            "ensemble": self.ensemble.summary(),
            "fit_seconds": self.fit_seconds,
        }


def cross_validate(spec, train, test, y: torch.Tensor, plan: Plan) -> CVResult:
    """Train every model and seed on every fold; keep out-of-fold and fold-averaged test predictions."""
    folds = split_indices(plan, y)
    n, n_test = len(y), len(test)
    oof = {m: torch.full((n,), float("nan")) for m in plan.models}
    test_pred = {m: torch.zeros(n_test) for m in plan.models}
    losses = {m: [] for m in plan.models}
    states, fit_seconds = [], 0.0
    for train_idx, valid_idx in folds:
        state = fit_recipe(spec, train.iloc[train_idx.numpy()])  # training rows only
        states.append(state)
        x_train = apply_recipe(spec, state, train.iloc[train_idx.numpy()])
        x_valid = apply_recipe(spec, state, train.iloc[valid_idx.numpy()])
        x_test = apply_recipe(spec, state, test)
        for name in plan.models:
            model = MODELS[name]
            valid_sum, test_sum = torch.zeros(len(valid_idx)), torch.zeros(n_test)
            for seed in plan.seed_list():
                start = time.perf_counter()
                params, history = fit(model, x_train, y[train_idx], lr=model.lr, epochs=model.epochs, seed=seed)
                fit_seconds += time.perf_counter() - start
                valid_sum += predict_proba(model, params, x_valid)
                test_sum += predict_proba(model, params, x_test)
                losses[name].append(history)
            oof[name][valid_idx] = valid_sum / plan.seeds
            test_pred[name] += test_sum / plan.seeds / len(folds)
    results = {m: ModelResult(oof[m], test_pred[m], _fold_scores(oof[m], y, folds), losses[m]) for m in plan.models}
    return CVResult(results, ensemble(results, y, folds), fit_seconds, states)


def ensemble(results: dict, y: torch.Tensor, folds) -> ModelResult:
    """The mean probability across models (each already a mean over its seeds), scored out of fold."""
    if not results:
        raise ValueError("an ensemble needs at least one model")
    oofs = [r.oof for r in results.values()]
    tests = [r.test_pred for r in results.values()]
    if len({o.shape for o in oofs}) != 1 or len({t.shape for t in tests}) != 1:
        raise ValueError("ensemble members disagree on the number of rows")
    oof = torch.stack(oofs).mean(dim=0)  # (n_train,)
    test_pred = torch.stack(tests).mean(dim=0)  # (n_test,)
    return ModelResult(oof, test_pred, _fold_scores(oof, y, folds))


def _fold_scores(oof: torch.Tensor, y: torch.Tensor, folds) -> list[float]:
    return [accuracy(oof[valid_idx], y[valid_idx]) for _, valid_idx in folds]


def fit_full(spec, train, test, y: torch.Tensor, plan: Plan):
    """Fit the recipe and every model and seed on all training rows; return (test_pred, state).

    test_pred is the ensemble's mean probability over models and seeds, shape (n_test,).
    """
    state = fit_recipe(spec, train)
    x_train, x_test = apply_recipe(spec, state, train), apply_recipe(spec, state, test)
    per_model = []
    for name in plan.models:
        model = MODELS[name]
        preds = [
            predict_proba(model, fit(model, x_train, y, lr=model.lr, epochs=model.epochs, seed=seed)[0], x_test)
            for seed in plan.seed_list()
        ]
        per_model.append(torch.stack(preds).mean(dim=0))
    return torch.stack(per_model).mean(dim=0), state
