"""Training picks its thread count from the problem, restores torch's afterwards, and so writes the
same bytes whatever OMP_NUM_THREADS says."""

from __future__ import annotations

import os
import subprocess
import sys

import torch
from conftest import shared_data

import kit.train as kit_train
from kit import threads
from kit.task import make_task


def test_small_problems_get_one_thread_and_large_ones_every_thread_torch_was_given(monkeypatch):
    monkeypatch.setattr(threads, "_GIVEN", 16)
    assert threads.threads_for(rows=713, width=12, models=50) == 1  # Titanic's plan
    assert threads.threads_for(rows=1_000_000, width=50, models=5) == 16  # 2.5e8 multiply-adds


def test_training_runs_on_the_chosen_threads_and_restores_the_count(monkeypatch):
    seen = []
    real = kit_train._fit
    monkeypatch.setattr(kit_train, "_fit", lambda *a, **k: seen.append(torch.get_num_threads()) or real(*a, **k))
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        x, y, mask = torch.rand(2, 50, 3), torch.ones(2, 50), torch.ones(2, 50)
        settings = kit_train.Training(epochs=2).settings("linear")
        task = make_task("binary", "accuracy", ("0", "1"), ("id", "y"))
        kit_train.fit(settings, task, x, y, mask, seeds=[1])
        assert seen == [1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_mini_batches_choose_threads_by_the_rows_of_a_batch_not_of_the_whole_fold(monkeypatch):
    seen = []
    real = kit_train._fit
    monkeypatch.setattr(kit_train, "_fit", lambda *a, **k: seen.append(torch.get_num_threads()) or real(*a, **k))
    monkeypatch.setattr(threads, "SERIAL_WORK", 1_000)  # 500 rows x 3 inputs x 2 models is large, 50 rows small
    monkeypatch.setattr(threads, "_GIVEN", 2)
    before = torch.get_num_threads()
    try:
        x, y, mask = torch.rand(2, 500, 3), torch.ones(2, 500), torch.ones(2, 500)
        task = make_task("binary", "accuracy", ("0", "1"), ("id", "y"))
        for batch_size in (0, 50):
            kit_train.fit(
                kit_train.Training(epochs=1, batch_size=batch_size).settings("linear"), task, x, y, mask, seeds=[1]
            )
        assert seen == [2, 1]
    finally:
        torch.set_num_threads(before)


def _submission_bytes(tmp_path, slug: str, omp_threads: str, *flags: str) -> tuple[bytes, bytes]:
    folder = tmp_path / f"omp{omp_threads}"
    folder.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": omp_threads}
    command = [sys.executable, "-m", "kit", "submission", "-c", slug, "--data-dir", str(shared_data(slug))]
    done = subprocess.run(
        [*command, "--quiet", "--out", "sub.csv", *flags], cwd=folder, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return (folder / "sub.csv").read_bytes(), (folder / "sub.json").read_bytes()


def test_titanics_main_job_writes_the_same_bytes_on_one_thread_and_on_two(tmp_path):
    assert _submission_bytes(tmp_path, "titanic", "1") == _submission_bytes(tmp_path, "titanic", "2")


def test_spaceships_main_job_writes_the_same_bytes_on_one_thread_and_on_two(tmp_path):
    # Before threads were chosen per problem, its CV (nn, deep) changed with the thread count.
    assert _submission_bytes(tmp_path, "spaceship-titanic", "1") == _submission_bytes(
        tmp_path, "spaceship-titanic", "2"
    )
