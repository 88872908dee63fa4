"""The GPU path end to end: `kit cv --device cuda` scores a real competition as the CPU does.

Runs only where torch sees a CUDA GPU (CI has none); the grid-level comparison is in test_batched.py.
"""

from __future__ import annotations

import json

import pytest
import torch

from kit.cli import main

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _cv(args: list[str], device: str, tmp_path, monkeypatch, capsys) -> dict:
    monkeypatch.chdir(tmp_path)
    assert main(["cv", *args, "--device", device, "--json", "--quiet"]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "plan",
    [
        ["--preset", "article"],
        ["--models", "linear,nn,deep", "--batch-size", "64"],
    ],
)
def test_kit_cv_on_the_gpu_scores_titanic_as_the_cpu_does(plan, titanic_dir, tmp_path, monkeypatch, capsys):
    args = ["--data-dir", str(titanic_dir), *plan]
    on_cpu = _cv(args, "cpu", tmp_path, monkeypatch, capsys)
    on_gpu = _cv(args, "cuda", tmp_path, monkeypatch, capsys)
    assert on_gpu["models"].keys() == on_cpu["models"].keys()
    for name, cpu in [*on_cpu["models"].items(), ("ensemble", on_cpu["ensemble"])]:
        gpu = on_gpu["ensemble"] if name == "ensemble" else on_gpu["models"][name]
        # float sums in another order can move a borderline row across 0.5: at most one row a fold
        assert gpu["fold_scores"] == pytest.approx(cpu["fold_scores"], abs=1 / 178 + 1e-9), name


def test_kit_submission_on_the_gpu_writes_the_cpus_predictions(titanic_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    files = {}
    for device in ("cpu", "cuda"):
        files[device] = tmp_path / f"{device}.csv"
        args = ["--data-dir", str(titanic_dir), "--batch-size", "64", "--out", str(files[device]), "--quiet"]
        assert main(["submission", *args, "--device", device]) == 0
    cpu, gpu = (files[d].read_text().splitlines() for d in ("cpu", "cuda"))
    assert cpu[0] == gpu[0] and len(cpu) == len(gpu) == 419  # header and every test row
    # the full-data fits sum in another order on the GPU: a borderline passenger may flip, not more than a few
    assert sum(a != b for a, b in zip(cpu, gpu)) <= 4


def test_patience_on_the_gpu_stops_its_curves_where_its_own_full_curves_first_stall():
    # The GPU sums in another order than the CPU, so its curves (and where they stall) may differ from the CPU's;
    # what holds on every device is that stopping changes nothing before the stop, at the rule's first epoch.
    from test_patience import BINARY, _first_stall, _folds

    from kit.train import Training, fit

    xs, ys, mask, valid = _folds()
    xs, ys, mask, valid = xs.cuda(), ys.cuda(), mask.cuda(), tuple(t.cuda() for t in valid)
    settings = Training(epochs=80, lr=0.05, batch_size=32).settings("nn")
    full = fit(settings, BINARY, xs, ys, mask, seeds=[1, 2], valid=valid)
    stall = _first_stall(full.valid_scores, full.valid_losses, 4)
    assert stall is not None and stall < 80
    stopped = fit(settings, BINARY, xs, ys, mask, seeds=[1, 2], valid=valid, patience=4)
    assert torch.equal(stopped.valid_scores, full.valid_scores[:, :stall])
    assert torch.equal(stopped.losses, full.losses[:, :, :stall])
