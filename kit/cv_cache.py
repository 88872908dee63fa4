"""Each model's cross-validation, kept so that the next CV trains only the models it does not share.

`kit cv` then `kit submission` with the same settings is the usual way to work, and so is a CV that
adds a model, drops one, changes one model's training or the ensemble: every model it shares with an
earlier CV would only repeat it. A model's CV (its out-of-fold and test predictions, fold scores,
curves and epochs) depends on kit's version and commit, the competition's task and submission form,
the recipe, the input files' sha256, the split and the seeds, and on that model's own training
settings, never on the other models or on the ensemble: each model trains as it would alone
(kit.threads.run_each). So each is kept under a key of exactly those facts (kit.pipeline.cv_keys),
with the folds of its split; a model whose key matches is loaded, not trained, and
the ensemble is made again from the models of the plan (tested: the same bytes as a fresh run).

A model whose epochs are chosen by CV with patience often stops before its cap (the most epochs it may train):
its curves stalled at epoch T, and with the same settings every cap of T or more trains the same epochs and
stops at T again (a cap does not change an epoch it allows). So a kept model whose every curve stopped early is
reused under any cap at or above where it stopped: raising `epochs` after kit's "CV chose the last epoch" note
retrains only the models that reached the old cap (tested: the same bytes as a fresh run under the new cap).

One file per competition keeps the last MAX_MODELS models, and fewer where they would take more than MAX_BYTES. It
holds only tensors and plain data (read with torch's weights_only loader), and a file that cannot be read is
ignored, never trusted. It keeps no fold's recipe state: the models' test predictions are made during the CV, so
nothing reads one again, and that loader reads plain data object by object in Python (a trial's bank-churn cache
held 1.3 million objects of 18,000 customers' rates per fold: 65 MB loaded in 2.1 s; without them 52 MB in 0.06 s,
and its `kit cv` with every model reused took 3.2 s where it took 9.2).
"""

from __future__ import annotations

import io
from dataclasses import fields

import torch

from kit import paths
from kit.submission import write_atomic
from kit.validation import ModelResult

# models kept: a few CVs of three models, and of two recipes a CV with --against compares; 300,000 training and
# 200,000 test rows cost ~3 MB a model. At 8 a new user's third --against CV trained its base recipe's models again.
MAX_MODELS = 24
# ... and at most this many bytes of them, the CV just run kept whatever its size: the models' predictions grow with
# the rows (a trial's 1,117,957 training and 745,305 test rows took ~17 MB a model, 206 MB after four
# configurations), and a cache is no reason for a user's disk to fill. 256 MB keeps six such CVs of three models.
MAX_BYTES = 256 * 2**20
_MODEL_FIELDS = [f.name for f in fields(ModelResult)]


def load(slug: str, split_key: str, keys: dict, caps: dict | None = None) -> tuple[dict, dict | None, dict]:
    """(model -> its kept ModelResult, the split's folds and recipe states or None, model -> (the epoch its
    curves stopped at, the cap they stopped under) for those reused under another cap) for the models of `keys`
    (model -> (its key, its key less epochs)) kept under `split_key`.

    caps: model -> the most epochs it may train now; a model kept under another cap whose every curve stopped
    before it, at or below this cap, is reused (see the module docstring)."""
    kept = _read(slug)
    split = kept["splits"].get(split_key)
    models, stopped = {}, {}
    if split is None:
        return models, split, stopped
    for name, (key, family) in keys.items():
        entry = kept["models"].get(key)
        if entry is None and caps:
            entry = next((e for e in reversed(kept["models"].values()) if _stopped_within(e, family, caps[name])), None)
            if entry is not None:
                stopped[name] = (entry["trained"], entry["cap"])
        try:
            if entry is not None and entry["split"] == split_key:
                models[name] = ModelResult(**entry["result"])
        except Exception:  # an entry of another layout: trained again
            stopped.pop(name, None)
            continue
    return models, split, stopped


def _stopped_within(entry: dict, family: str, cap: int) -> bool:
    """Whether a kept model of the same settings but epochs stopped before its own cap, and at or below `cap`."""
    try:
        return entry.get("family") == family and entry["trained"] < entry["cap"] and entry["trained"] <= cap
    except Exception:  # an entry of another layout
        return False


def save(slug: str, split_key: str, keys: dict, result, caps: dict) -> None:
    """Keep every model of `result` (a CVResult) under its key (keys: model -> (key, key less epochs)), the latest
    last; the oldest beyond MAX_MODELS go. caps: model -> the most epochs it was allowed."""
    kept = _read(slug)
    for name, (key, family) in keys.items():
        kept["models"].pop(key, None)  # re-added last: the most recently used
        model = result.models[name]
        kept["models"][key] = {
            "split": split_key,
            "result": _plain(model),
            "family": family,
            "cap": caps[name],
            # the most epochs any fold's curve ran: below the cap only where patience stopped every one
            "trained": max((len(s) for s in model.valid_scores), default=caps[name]),
        }
    for key in list(kept["models"])[:-MAX_MODELS]:
        del kept["models"][key]
    # row numbers as int32: half the bytes of the folds, which outweigh a model's predictions
    folds = [[idx.to(torch.int32) for idx in fold] for fold in result.folds]
    kept["splits"][split_key] = {"folds": folds}
    _within_bytes(kept, just_run={key for key, _ in keys.values()})
    used = {entry["split"] for entry in kept["models"].values()}
    # a file an earlier kit wrote also kept each fold's recipe state: dropped as each split is kept again
    kept["splits"] = {key: {"folds": split["folds"]} for key, split in kept["splits"].items() if key in used}
    buffer = io.BytesIO()
    torch.save(kept, buffer)
    write_atomic(paths.cv_cache_path(slug), buffer.getvalue())


def _within_bytes(kept: dict, just_run: set) -> None:
    """Drop the oldest models (and a split no model is left to use) until the file's tensors take MAX_BYTES or less;
    the models of `just_run` stay whatever their size."""
    sizes = {key: _nbytes(entry) for key, entry in kept["models"].items()}
    splits = {key: _nbytes(split) for key, split in kept["splits"].items()}
    for key in list(kept["models"]):
        used = {entry["split"] for entry in kept["models"].values()}
        if sum(sizes.values()) + sum(n for s, n in splits.items() if s in used) <= MAX_BYTES:
            return
        if key not in just_run:
            del kept["models"][key], sizes[key]


def _nbytes(value) -> int:
    """The bytes of the tensors in `value` (a dict, list or tensor): what torch.save writes, less a little."""
    if isinstance(value, torch.Tensor):
        return value.nbytes
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_nbytes(v) for v in value)
    return 0


def _read(slug: str) -> dict:
    try:
        kept = torch.load(paths.cv_cache_path(slug), weights_only=True)
        if isinstance(kept, dict) and isinstance(kept.get("models"), dict) and isinstance(kept.get("splits"), dict):
            return kept
    except Exception:  # absent, damaged or from another layout: computed again
        pass
    return {"models": {}, "splits": {}}


def _plain(result: ModelResult) -> dict:
    return {name: _compact(getattr(result, name)) for name in _MODEL_FIELDS}


def _compact(value):
    """A tensor (or list of them) as a copy of its own: torch.save writes a view's whole storage, and a fold's
    predictions are views of every fold's (3x the bytes at 300,000 rows)."""
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, list) and value and isinstance(value[0], torch.Tensor):
        return [v.clone() for v in value]
    return value
