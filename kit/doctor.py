"""`kit doctor`: which credentials the client will use, whether they work, whether the data is there,
and what the models would train on here.

It never prints a key or a token, only where they come from.
"""

from __future__ import annotations

from pathlib import Path

from kit import KitError
from kit.competition import Competition
from kit.fetch import data_status
from kit.fixes import sentence
from kit.kaggle_client import Kaggle, config_dir, find_credentials, readable_by_others
from kit.paths import in_kaggle_notebook


def doctor(comp: Competition, data_dir: Path, client: Kaggle | None = None) -> tuple[list[str], bool]:
    """Lines to print, and whether everything is fine."""
    lines, ok = [], True
    found = find_credentials()
    if found is None:
        lines.append(
            "credentials: none found; create an API token at https://www.kaggle.com/settings/api and "
            "save it to ~/.kaggle/access_token"
        )
        ok = False
    else:
        lines.append(f"credentials: {found.source}")
    kaggle_json = config_dir() / "kaggle.json"
    if kaggle_json.is_file() and readable_by_others(kaggle_json):
        lines.append(f"warning: {kaggle_json} is readable by other users; run `chmod 600 {kaggle_json}`")
        ok = False
    if found is not None:
        try:
            user = (client or Kaggle(retries=1)).whoami(comp.slug)
            lines.append(f"kaggle api: works (signed in as {user})")
        except KitError as e:
            lines.append(f"kaggle api: fails: {sentence(e)}")
            ok = False
    where = "Kaggle notebook" if in_kaggle_notebook() else "local machine"
    lines.append(f"running on: {where}")
    lines.append(f"training: {training_hardware()}")
    status, data_ok = data_status(comp, data_dir)
    lines.append(f"data: {status}")
    return lines, ok and data_ok


def training_hardware() -> str:
    """torch's build, its CPU threads and the CUDA GPU it sees, if any: what a run can train on here."""
    import torch

    from kit.threads import given_threads

    here = f"torch {torch.__version__}, {given_threads()} CPU threads"
    if not torch.cuda.is_available():
        return f"{here}, no CUDA GPU (models train on the CPU)"
    gpus = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
    return f"{here}, CUDA GPU {gpus} (device cuda trains on it)"
