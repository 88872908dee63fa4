"""Adversarial validation: can a model tell the test rows from the training rows?

Every row of train.csv is labelled 0 and every row of test.csv 1, the recipe makes their features (refit
on each fold's rows, as in any CV), and kit's own models learn to tell the two apart, scored by ROC AUC on
folds. Near 0.5 the test rows look like the training rows, and random folds score as the test set will;
near 1 they differ, and a model may lean on what the test rows do not hold. The features that tell them
apart most, each alone, say where to look: a date or an id that counts up, a level only one side holds,
a number whose range moved.

The target never enters: target_mean features (and whatever is made from them) are left out, since a
training row's rate is learned without its own label and a test row's is not, which alone would tell them
apart. Nothing is written; nothing is cached.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

# At most this many rows are drawn from each file (seeded, kept in the file's order): the AUC of 50,000
# against 50,000 rows is within about 0.003 of the whole set's, and a 300,000-row competition stays quick.
ROWS = 50_000
# The models that tell them apart, trained by kit's default preset with their epochs chosen on the folds.
MODELS = ("linear", "nn")
EPOCHS = 20
PATIENCE = 5


@dataclass
class Drift:
    """What adversarial validation found."""

    rows: tuple  # (training rows, test rows) that took part
    folds: int
    models: dict  # model name and "ensemble" -> kit.validation.ModelResult, scored by ROC AUC
    features: list  # (feature, its ROC AUC alone, as max(auc, 1 - auc)), the most telling first
    left_out: tuple  # features made from the target, not used
    without: tuple = ()  # recipe columns the user left out
    # (recipe column, the ROC AUC of its most telling feature, that feature), the most telling first: a one-hot
    # column's levels (or a words column's words) count as one column, as --without takes them
    columns: list = ()

    @property
    def auc(self) -> float:
        """The ensemble's mean ROC AUC over the folds."""
        return self.models["ensemble"].mean

    def summary(self) -> dict:
        return {
            "rows": {"train": self.rows[0], "test": self.rows[1]},
            "folds": self.folds,
            "roc_auc": self.auc,
            "models": {name: r.summary() for name, r in self.models.items()},
            "features": [{"feature": name, "roc_auc": auc} for name, auc in self.features],
            "columns": [{"column": c, "roc_auc": auc, "feature": name} for c, auc, name in self.columns],
            "left_out": list(self.left_out),
            "without": list(self.without),
        }


def without_target(spec):
    """(the recipe less every entry that reads the target, directly or through what it made; the columns
    left out): target_mean, and sums, ratios, logs or features of its columns."""
    made_from_target = set()
    for step, read, made in spec.entries():
        if step == "target_mean" or made_from_target.intersection(read):
            made_from_target.update(made)
    if not made_from_target:
        return spec, ()

    def keep(names):
        return tuple(c for c in names if c not in made_from_target)

    return (
        replace(
            spec,
            target_mean={},
            sum={k: v for k, v in spec.sum.items() if k not in made_from_target},
            product={k: v for k, v in spec.product.items() if k not in made_from_target},
            row={k: v for k, v in spec.row.items() if k not in made_from_target},
            ratio={k: v for k, v in spec.ratio.items() if k not in made_from_target},
            log1p={k: v for k, v in spec.log1p.items() if k not in made_from_target},
            equals={k: v for k, v in spec.equals.items() if k not in made_from_target},
            numeric=keep(spec.numeric),
            piecewise={k: v for k, v in spec.piecewise.items() if k not in made_from_target},
            one_hot=keep(spec.one_hot),
            words={k: v for k, v in spec.words.items() if k not in made_from_target},
        ),
        tuple(c for c in spec.produced() if c in made_from_target),
    )


def adversarial(
    spec, train, test, *, folds: int = 5, seed: int = 42, rows: int = ROWS, without: tuple = (), device: str = "cpu"
) -> Drift:
    """Adversarial validation of the recipe's features: train rows (0) against test rows (1).

    rows: at most this many rows of each frame, drawn at random (seeded by `seed`, which also cuts the folds).
    without: recipe columns (of numeric, one_hot or words) left out, to see what else tells the rows apart.
    """
    import pandas as pd
    import torch

    from kit.importance import column_groups
    from kit.metrics import roc_auc
    from kit.recipe import feature_names, fit_apply
    from kit.task import make_task
    from kit.train import Training
    from kit.validation import Plan, cross_validate

    spec, left_out = without_target(spec)
    if without:
        spec = replace(
            spec,
            numeric=tuple(c for c in spec.numeric if c not in without),
            piecewise={k: v for k, v in spec.piecewise.items() if k not in without},
            one_hot=tuple(c for c in spec.one_hot if c not in without),
            words={k: v for k, v in spec.words.items() if k not in without},
        )
    gen = torch.Generator().manual_seed(seed)
    # the columns the recipe reads, and the id (count and target_mean tell rows by it), from each side
    columns = [c for c in dict.fromkeys([*([spec.id] if spec.id else []), *spec.input_columns()]) if c in test]
    both = [_drawn(frame[columns], rows, gen) for frame in (train, test)]
    rows_used = (len(both[0]), len(both[1]))
    combined = pd.concat(both, ignore_index=True)
    if spec.id in combined and combined[spec.id].duplicated().any():  # ids that both files number from 0
        combined[spec.id] = range(len(combined))  # count tells rows by their id: each its own
    is_test = torch.cat([torch.zeros(rows_used[0]), torch.ones(rows_used[1])])

    task = make_task("binary", "roc_auc", ("train", "test"), ("id", "test"))
    plan = Plan(
        models=MODELS,
        split="stratified",
        folds=folds,
        split_seed=seed,
        device=device,
        training=Training(preset="default", epochs=EPOCHS),
        choose_epochs=True,
        patience=PATIENCE,
    )
    result = cross_validate(spec, combined, combined.iloc[:0], is_test, plan, task)

    # Each feature alone: the recipe fit on every row drawn, each column's AUC as a score of "test"
    state, x = fit_apply(spec, combined)
    alone = []
    for name, column in zip(feature_names(state), x.T):
        auc = roc_auc(column, is_test)
        alone.append((name, max(auc, 1.0 - auc)))
    by_column = []
    for column, positions in column_groups(spec, state):
        name, auc = alone[min(positions, key=lambda i: (-alone[i][1], alone[i][0]))]  # a tie: the first name
        by_column.append((column, auc, name))
    alone.sort(key=lambda pair: (-pair[1], pair[0]))
    by_column.sort(key=lambda row: (-row[1], row[0]))
    models = {**result.models, "ensemble": result.ensemble}
    return Drift(rows_used, folds, models, alone, left_out, tuple(without), by_column)


def _drawn(frame, rows: int, gen):
    """At most `rows` rows of the frame, drawn at random and kept in the file's order."""
    import torch

    if len(frame) <= rows:
        return frame
    return frame.iloc[torch.randperm(len(frame), generator=gen)[:rows].sort().values.numpy()]


# How far from 0.5 the AUC may be for the test rows to count as looking like the training rows, and past
# which they clearly differ.
ALIKE = 0.55
APART = 0.70


def verdict(auc: float) -> str:
    """'alike', 'somewhat' or 'apart': how far a model tells the test rows from the training rows."""
    return "alike" if auc <= ALIKE else "somewhat" if auc <= APART else "apart"
