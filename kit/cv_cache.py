"""The last cross-validation of each competition, kept so that a submission of the same configuration
need not run it again.

`kit cv` then `kit submission` with the same settings is the usual way to work; the submission's
sidecar records the CV, which the first command has just computed. Each CV is saved with its run key
(kit.pipeline.run_key: kit's version and commit, the definition, recipe, plan and input files' sha256,
everything that decides its numbers) in one file per competition, replaced by the next CV; a CV whose
key matches is loaded instead of computed. The file holds only tensors and plain data (read with
torch's weights_only loader), and a file that cannot be read is ignored, never trusted.
"""

from __future__ import annotations

import io
from dataclasses import fields

import torch

from kit import paths
from kit.submission import write_atomic
from kit.validation import CVResult, ModelResult

_MODEL_FIELDS = [f.name for f in fields(ModelResult)]


def save(slug: str, key: str, result: CVResult) -> None:
    """Keep `result` as the competition's last CV, under `key`."""
    data = {
        "key": key,
        "models": {name: _plain(r) for name, r in result.models.items()},
        "ensemble": _plain(result.ensemble),
        "fit_seconds": result.fit_seconds,
        "recipe_states": result.recipe_states,
        "folds": [list(fold) for fold in result.folds],
    }
    buffer = io.BytesIO()
    torch.save(data, buffer)
    write_atomic(paths.cv_cache_path(slug), buffer.getvalue())


def load(slug: str, key: str, task) -> CVResult | None:
    """The competition's last CV if it was made under `key`, else None."""
    path = paths.cv_cache_path(slug)
    try:
        data = torch.load(path, weights_only=True)
        if data.get("key") != key:
            return None
        models = {name: ModelResult(**r) for name, r in data["models"].items()}
        folds = [tuple(fold) for fold in data["folds"]]
        return CVResult(
            models, ModelResult(**data["ensemble"]), data["fit_seconds"], data["recipe_states"], task, folds, True
        )
    except Exception:  # absent, damaged or from another layout: computed again
        return None


def _plain(result: ModelResult) -> dict:
    return {name: getattr(result, name) for name in _MODEL_FIELDS}
