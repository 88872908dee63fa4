"""Honest validation: splits, cross-validation with out-of-fold predictions, and the ensemble.

The recipe is fit on each training fold only, so no validation row ever shapes its own features.
scikit-learn supplies fold indices and nothing else. Every fold and seed of a model trains in one
call to `kit.batched.fit_many`, on the plan's device; results come back to the CPU.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field

import torch

from kit.batched import fit_many, pad_rows, predict_many, resolve_device
from kit.models import MODELS
from kit.recipe import apply_recipe, check_filled, fit_apply, scale_into, unscaled_features
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
    repeats: int = 1  # the split again with split_seed + 1, + 2, ...: more folds, a truer spread
    device: str = "cpu"  # where models train: "cpu" or "cuda"; results come back to the CPU
    epochs: dict = field(default_factory=dict)  # model name -> epochs, instead of the article's

    def seed_list(self) -> list[int]:
        return [self.init_seed + i for i in range(self.seeds)]

    def settings(self, name: str) -> dict:
        """Learning rate and epochs of a model: the article's, unless the plan says otherwise."""
        model = MODELS[name]
        return {"lr": model.lr, "epochs": self.epochs.get(name, model.epochs)}


def random_split(n: int, valid_pct: float = 0.2, seed: int = 42):
    """fastai's RandomSplitter: shuffle with `seed`, the first int(valid_pct * n) rows validate."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    cut = int(valid_pct * n)
    return perm[cut:], perm[:cut]  # train_idx, valid_idx


def split_indices(plan: Plan, y: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(train_idx, valid_idx) per fold, the folds of every repeat one after another."""
    if plan.split == "random":
        return [random_split(len(y), plan.valid_pct, plan.split_seed + r) for r in range(plan.repeats)]
    from sklearn.model_selection import KFold, StratifiedKFold

    if plan.split not in ("kfold", "stratified"):
        raise ValueError(f"unknown split {plan.split!r}")
    splitter = KFold if plan.split == "kfold" else StratifiedKFold
    labels = y.numpy()
    return [
        (torch.as_tensor(t), torch.as_tensor(v))
        for r in range(plan.repeats)
        for t, v in splitter(n_splits=plan.folds, shuffle=True, random_state=plan.split_seed + r).split(labels, labels)
    ]


@dataclass
class ModelResult:
    """One model's (or the ensemble's) validation: out-of-fold predictions and fold scores."""

    oof: torch.Tensor  # (n_train,) mean probability over seeds and repeats; NaN for rows never validated
    test_pred: torch.Tensor  # (n_test,) mean over folds and seeds
    fold_scores: list[float]
    losses: list[list[float]] = field(default_factory=list)  # per fold and seed, the loss per epoch
    fold_preds: list = field(default_factory=list)  # per fold, (n_valid,) probabilities of its valid rows

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


def cross_validate(spec, train, test, y: torch.Tensor, plan: Plan, progress=None) -> CVResult:
    """Train every model and seed on every fold; keep out-of-fold and fold-averaged test predictions.

    progress, if given, is called with the number of folds each time a model finishes some.
    """
    device = resolve_device(plan.device)
    folds = split_indices(plan, y)
    data = _encode_folds(spec, train, test, folds)
    groups = {width: [f for f, _ in members] for width, members in data.groups.items()}

    results, fit_seconds = {}, 0.0
    for name in plan.models:
        model = MODELS[name]
        valid_prob, test_prob, histories = [None] * len(folds), [None] * len(folds), [None] * len(folds)
        for width, fold_ids in groups.items():
            stacks = data.stacks[width]
            ys, _ = pad_rows([y[folds[f][0]] for f in fold_ids])  # (F, n_max)
            start = time.perf_counter()
            params, losses = fit_many(
                model, stacks["train"].to(device), ys.to(device), stacks["mask"].to(device),
                **plan.settings(name), seeds=plan.seed_list(),
            )  # fmt: skip
            losses = losses.cpu()  # waits for the device, so the clock stops when training has ended
            fit_seconds += time.perf_counter() - start
            valid = predict_many(model, params, stacks["valid"].to(device)).cpu()
            tests = torch.cat(
                [predict_many(model, params, x.to(device)).cpu() for x in data.test_chunks(width)], dim=2
            )  # (F, S, n_test)
            for i, f in enumerate(fold_ids):
                valid_prob[f] = valid[i, :, : len(folds[f][1])].mean(dim=0)  # (n_valid,) mean over seeds
                test_prob[f] = tests[i].mean(dim=0)  # (n_test,)
                histories[f] = losses[i].tolist()  # per seed, the loss per epoch
            if progress:
                progress(len(fold_ids))
        results[name] = _model_result(valid_prob, test_prob, [h for fold in histories for h in fold], y, folds)
    return CVResult(results, ensemble(results, y, folds), fit_seconds, data.states)


# Test rows are scaled and predicted this many at a time, so the grid never holds every fold's copy
# of a large test set; a test set this small or smaller is one chunk, as it always was.
TEST_CHUNK = 65_536


@dataclass
class _FoldData:
    """Every fold's features, stacked per width, ready for `fit_many` and `predict_many`.

    The stacks are stored rows-last, (F, width, n), and handed out as (F, n, width) views: fit_many
    and predict_many want rows last for their matmuls (kit.models), and a view already in that
    layout needs no second copy.
    """

    states: list  # per fold, the recipe learned on its training rows
    groups: dict  # width -> [(fold, position in that width's stacks)]
    stacks: dict  # width -> {"train", "valid": (F, n_max, width) views, "mask": (F, n_train_max)}
    test: list  # per fold, its test rows' features before scaling, (n_test, width): shared by equal states

    def test_chunks(self, width: int):
        """Each fold's test features, scaled, TEST_CHUNK rows at a time: (F, chunk, width) views."""
        members = self.groups[width]
        n_test = len(self.test[members[0][0]])
        for start in range(0, n_test, TEST_CHUNK):
            stop = min(start + TEST_CHUNK, n_test)
            block = torch.empty(len(members), width, stop - start)  # (F, width, chunk), rows last
            for f, slot in members:
                scale_into(self.states[f], self.test[f][start:stop], block[slot].T)
            yield block.transpose(1, 2)


def _encode_folds(spec, train, test, folds) -> _FoldData:
    """Fit the recipe on each training fold and write the features straight into padded stacks.

    Folds whose recipes learned different levels have different columns; models stack only along
    equal widths, so each width is one group (almost always there is just one). Each fold's rows go
    into its slot of a stack sized for every fold, padding zeroed, so no per-fold copy is kept and
    no second stack is built. The test rows go through the recipe once per distinct learned state,
    scale aside (folds usually learn the same levels and fills and differ only in their maxima);
    `test_chunks` divides that one encoding by each fold's scale, the bytes apply gives.
    """
    n_train = max(len(t) for t, _ in folds)
    n_valid = max(len(v) for _, v in folds)
    states, groups, stacks, test_x, unscaled_test = [], {}, {}, [], {}
    for train_idx, valid_idx in folds:
        state, x_train = fit_apply(spec, train.iloc[train_idx.numpy()])  # training rows only
        states.append(state)
        width = x_train.shape[1]
        if width not in stacks:
            # torch.empty: slots of folds that fall in another width are never touched, so never paged in
            stacks[width] = {
                "train": torch.empty(len(folds), width, n_train),  # (F, width, n_train_max), rows last
                "mask": torch.zeros(len(folds), n_train),  # (F, n_train_max)
                "valid": torch.empty(len(folds), width, n_valid),  # (F, width, n_valid_max), rows last
            }
        slot, stack = len(groups.setdefault(width, [])), stacks[width]
        groups[width].append((len(states) - 1, slot))
        _put(stack["train"][slot], x_train)
        stack["mask"][slot, : len(x_train)] = 1.0
        del x_train
        _put(stack["valid"][slot], apply_recipe(spec, state, train.iloc[valid_idx.numpy()]))
        key = json.dumps({k: v for k, v in state.items() if k != "scale"}, sort_keys=True)
        if key not in unscaled_test:
            unscaled_test[key] = unscaled_features(spec, state, test)  # (n_test, width) float32
            check_filled(spec, state, unscaled_test[key])
        test_x.append(unscaled_test[key])
    for width, members in groups.items():  # (F, n, width) views of the slots in use: no copy
        stack = stacks[width]
        stacks[width] = {
            "train": stack["train"][: len(members)].transpose(1, 2),
            "valid": stack["valid"][: len(members)].transpose(1, 2),
            "mask": stack["mask"][: len(members)],
        }
    return _FoldData(states, groups, stacks, test_x)


def _put(slot: torch.Tensor, x: torch.Tensor) -> None:
    """x's rows into a rows-last stack slot (width, n_max), zeros after them: what `pad_rows` gives, transposed."""
    slot[:, : len(x)] = x.T
    slot[:, len(x) :] = 0.0


def _model_result(fold_preds: list, test_preds: list, losses: list, y: torch.Tensor, folds) -> ModelResult:
    """Out-of-fold predictions (averaged where repeats validate a row more than once) and fold scores."""
    total, count = torch.zeros(len(y)), torch.zeros(len(y))
    for pred, (_, valid_idx) in zip(fold_preds, folds):
        total[valid_idx] += pred
        count[valid_idx] += 1
    oof = torch.where(count > 0, total / count.clamp(min=1), torch.tensor(float("nan")))  # (n_train,)
    test_pred = torch.stack(test_preds).mean(dim=0)  # (n_test,) mean over folds
    scores = [accuracy(pred, y[valid_idx]) for pred, (_, valid_idx) in zip(fold_preds, folds)]
    return ModelResult(oof, test_pred, scores, losses, fold_preds)


def ensemble(results: dict, y: torch.Tensor, folds) -> ModelResult:
    """The mean probability across models (each already a mean over its seeds), scored fold by fold."""
    if not results:
        raise ValueError("an ensemble needs at least one model")
    oofs = [r.oof for r in results.values()]
    tests = [r.test_pred for r in results.values()]
    if len({o.shape for o in oofs}) != 1 or len({t.shape for t in tests}) != 1:
        raise ValueError("ensemble members disagree on the number of rows")
    if all(r.fold_preds for r in results.values()):
        fold_preds = [torch.stack(preds).mean(dim=0) for preds in zip(*(r.fold_preds for r in results.values()))]
        return _model_result(fold_preds, tests, [], y, folds)
    oof = torch.stack(oofs).mean(dim=0)  # (n_train,)
    return ModelResult(oof, torch.stack(tests).mean(dim=0), _fold_scores(oof, y, folds))


def _fold_scores(oof: torch.Tensor, y: torch.Tensor, folds) -> list[float]:
    return [accuracy(oof[valid_idx], y[valid_idx]) for _, valid_idx in folds]


def fit_full(spec, train, test, y: torch.Tensor, plan: Plan):
    """Fit the recipe and every model and seed on all training rows; return (test_pred, state).

    test_pred is the ensemble's mean probability over models and seeds, shape (n_test,).
    """
    device = resolve_device(plan.device)
    state, x_train = fit_apply(spec, train)
    x_train = x_train[None].to(device)  # (1, n_train, n_features): one fold, all rows
    x_test = apply_recipe(spec, state, test)[None].to(device)  # (1, n_test, n_features)
    mask = torch.ones(1, len(y), device=device)  # (1, n_train)
    y_train = y[None].to(device)  # (1, n_train)
    per_model = []
    for name in plan.models:
        model = MODELS[name]
        params, _ = fit_many(model, x_train, y_train, mask, **plan.settings(name), seeds=plan.seed_list())
        per_model.append(predict_many(model, params, x_test)[0].mean(dim=0).cpu())  # (n_test,) mean over seeds
    return torch.stack(per_model).mean(dim=0), state


def paired_comparison(a: CVResult, b: CVResult) -> dict:
    """A minus B fold by fold, for each model both ran and for the ensembles; the folds must be the same.

    Per entry: the mean difference, its standard deviation across folds, and how many folds A won,
    tied and lost. Judging a difference against its own spread is what makes the comparison honest.
    """
    pairs = {m: (a.models[m], b.models[m]) for m in a.models if m in b.models}
    pairs["ensemble"] = (a.ensemble, b.ensemble)
    out = {}
    for name, (ra, rb) in pairs.items():
        if len(ra.fold_scores) != len(rb.fold_scores):
            raise ValueError("a paired comparison needs the same folds on both sides")
        diffs = [x - y for x, y in zip(ra.fold_scores, rb.fold_scores)]
        out[name] = {
            "mean_diff": statistics.fmean(diffs),
            "std_diff": statistics.pstdev(diffs),
            "wins": sum(d > 0 for d in diffs),
            "ties": sum(d == 0 for d in diffs),
            "losses": sum(d < 0 for d in diffs),
        }
    return out
