"""Honest validation: splits, cross-validation with out-of-fold predictions, and the ensemble.

The recipe is fit on each training fold only, so no validation row ever shapes its own features.
scikit-learn supplies fold indices and nothing else. Every fold and seed of a model trains in one
call to `kit.batched.fit_many`, on the plan's device; results come back to the CPU.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

import torch

from kit.batched import fit_many, pad_rows, predict_many, resolve_device
from kit.models import MODELS
from kit.recipe import apply_recipe, fit_recipe
from kit.train import accuracy


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
    device: str = "cpu"  # where models train: "cpu" or "cuda"; results come back to the CPU

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
    device = resolve_device(plan.device)
    folds = split_indices(plan, y)
    states, x_train, x_valid, x_test = [], [], [], []
    for train_idx, valid_idx in folds:
        state = fit_recipe(spec, train.iloc[train_idx.numpy()])  # training rows only
        states.append(state)
        x_train.append(apply_recipe(spec, state, train.iloc[train_idx.numpy()]))
        x_valid.append(apply_recipe(spec, state, train.iloc[valid_idx.numpy()]))
        x_test.append(apply_recipe(spec, state, test))
    # Folds differ in row count and, through their recipes, in features: stack them padded.
    x_train, mask = pad_rows(x_train)  # (F, n_max, n_features), (F, n_max)
    y_train, _ = pad_rows([y[train_idx] for train_idx, _ in folds])  # (F, n_max)
    x_train, mask, y_train = x_train.to(device), mask.to(device), y_train.to(device)
    x_valid = pad_rows(x_valid)[0].to(device)  # (F, n_valid_max, n_features)
    x_test = torch.stack(x_test).to(device)  # (F, n_test, n_features)

    results, fit_seconds = {}, 0.0
    for name in plan.models:
        model = MODELS[name]
        start = time.perf_counter()
        params, losses = fit_many(
            model, x_train, y_train, mask, lr=model.lr, epochs=model.epochs, seeds=plan.seed_list()
        )
        losses = losses.cpu()  # waits for the device, so the clock stops when training has ended
        fit_seconds += time.perf_counter() - start
        valid_prob = predict_many(model, params, x_valid).cpu()  # (F, S, n_valid_max)
        test_prob = predict_many(model, params, x_test).cpu()  # (F, S, n_test)
        oof = torch.full((len(y),), float("nan"))
        for f, (_, valid_idx) in enumerate(folds):
            oof[valid_idx] = valid_prob[f, :, : len(valid_idx)].mean(dim=0)  # mean over seeds
        test_pred = test_prob.mean(dim=(0, 1))  # (n_test,) mean over folds and seeds
        history = losses.flatten(0, 1).tolist()  # per fold, then seed: the loss per epoch
        results[name] = ModelResult(oof, test_pred, _fold_scores(oof, y, folds), history)
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
    device = resolve_device(plan.device)
    state = fit_recipe(spec, train)
    x_train = apply_recipe(spec, state, train)[None].to(device)  # (1, n_train, n_features): one fold, all rows
    x_test = apply_recipe(spec, state, test)[None].to(device)  # (1, n_test, n_features)
    mask = torch.ones(1, len(y), device=device)  # (1, n_train)
    y_train = y[None].to(device)  # (1, n_train)
    per_model = []
    for name in plan.models:
        model = MODELS[name]
        params, _ = fit_many(model, x_train, y_train, mask, lr=model.lr, epochs=model.epochs, seeds=plan.seed_list())
        per_model.append(predict_many(model, params, x_test)[0].mean(dim=0).cpu())  # (n_test,) mean over seeds
    return torch.stack(per_model).mean(dim=0), state
