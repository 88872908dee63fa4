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


def test_kit_works_on_one_thread_between_grids_and_a_large_grid_gets_every_thread_it_was_given():
    # a fresh process: importing kit's training sets torch's count, and remembers the environment's
    probe = (
        "import torch; from kit import threads; "
        "print(torch.get_num_threads(), threads.given_threads(), threads.threads_for(1_000_000, 50, 5))"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["1", "2", "2"]


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


def test_models_train_side_by_side_only_when_a_step_keeps_a_core_busy_on_one_thread(monkeypatch):
    monkeypatch.setattr(threads, "_GIVEN", 2)
    assert threads.model_workers(rows=713, width=12, models=50, n_jobs=3) == 2  # Titanic's article plan
    assert threads.model_workers(rows=713, width=13, models=5, n_jobs=3) == 1  # one seed: steps too short
    assert threads.model_workers(rows=7_500, width=57, models=5, n_jobs=3) == 2  # 300,000 rows, 32 steps
    assert threads.model_workers(rows=7_500, width=57, models=5, n_jobs=1) == 1  # one model: nothing beside it
    assert threads.model_workers(rows=1_000_000, width=50, models=5, n_jobs=3) == 1  # each uses every thread
    assert threads.model_workers(rows=7_500, width=57, models=5, n_jobs=3, device=torch.device("meta")) == 1
    monkeypatch.setattr(threads, "_GIVEN", 1)
    assert threads.model_workers(rows=7_500, width=57, models=5, n_jobs=3) == 1


def test_run_each_returns_results_in_the_order_given_from_threads_running_at_once():
    import threading

    both_running = threading.Barrier(2, timeout=10)  # breaks (and fails the jobs) unless two run at the same time
    seen = []

    def job(i):
        both_running.wait()
        seen.append((threading.get_ident(), torch.get_num_threads()))
        return i * 10

    before = torch.get_num_threads()
    assert threads.run_each([lambda i=i: job(i) for i in range(2)], workers=2) == [0, 10]
    assert len({ident for ident, _ in seen}) == 2 and {n for _, n in seen} == {1}  # two threads, torch on one each
    assert torch.get_num_threads() == before


def test_run_each_raises_the_first_error_of_a_job_in_the_callers_thread():
    def bad():
        raise ValueError("job failed")

    try:
        threads.run_each([lambda: 1, bad, lambda: 3], workers=2)
    except ValueError as e:
        assert str(e) == "job failed"
    else:
        raise AssertionError("the job's error was lost")


def test_models_trained_side_by_side_give_the_bytes_they_give_one_after_another(monkeypatch):
    import pandas as pd

    from kit.recipe_spec import RecipeSpec
    from kit.validation import Plan, cross_validate, fit_full

    gen = torch.Generator().manual_seed(0)
    n = 600
    frame = pd.DataFrame({"a": torch.randn(n, generator=gen).tolist(), "b": torch.rand(n, generator=gen).tolist()})
    y = ((frame["a"] + frame["b"]) > 0.5).astype(float)
    train, test = frame.iloc[:500].reset_index(drop=True), frame.iloc[500:].reset_index(drop=True)
    y_train = torch.tensor(y.iloc[:500].to_numpy(), dtype=torch.float32)
    spec = RecipeSpec(name="t", numeric=["a", "b"])
    task = make_task("binary", "accuracy", ("0", "1"), ("id", "y"))
    plan = Plan(folds=3, seeds=2, training=kit_train.Training(epochs=4, batch_size=64))

    def run(parallel_work):
        monkeypatch.setattr(threads, "PARALLEL_WORK", parallel_work)
        monkeypatch.setattr(threads, "_GIVEN", 2)
        cv = cross_validate(spec, train, test, y_train, plan, task)
        full, _ = fit_full(spec, train, test, y_train, plan, task)
        return cv, full

    alone, full_alone = run(10**12)
    side_by_side, full_side = run(0)
    assert torch.equal(full_alone, full_side)
    for name in plan.models:
        a, b = alone.models[name], side_by_side.models[name]
        assert torch.equal(a.oof, b.oof) and torch.equal(a.test_pred, b.test_pred)
        assert a.losses == b.losses and a.valid_scores == b.valid_scores
    assert list(side_by_side.models) == list(plan.models)  # reported in the plan's order, whatever finished first


def test_ctrl_c_stops_the_jobs_running_beside_the_main_thread_and_is_raised():
    import _thread
    import threading
    import time

    started, stopped = threading.Barrier(3, timeout=10), []

    def job():
        started.wait()
        while not threads.stop_asked():  # what a training loop checks once an epoch
            time.sleep(0.01)
        stopped.append(1)
        raise KeyboardInterrupt

    def press_ctrl_c():
        started.wait()
        _thread.interrupt_main()

    threading.Thread(target=press_ctrl_c, daemon=True).start()
    try:
        threads.run_each([job, job], workers=2)
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError("Ctrl-C was swallowed")
    assert stopped == [1, 1] and not threads.stop_asked()  # both jobs ended before run_each returned


def test_an_error_in_one_job_stops_the_others():
    import time

    def bad():
        time.sleep(0.05)
        raise ValueError("diverged")

    asked = []

    def long():
        for _ in range(1000):  # 10 s unless asked to stop
            if threads.stop_asked():
                asked.append(1)
                raise KeyboardInterrupt
            time.sleep(0.01)
        return "finished"

    try:
        threads.run_each([long, bad], workers=2)
    except ValueError as e:
        assert str(e) == "diverged"  # the first error, not the stopped job's interrupt
    else:
        raise AssertionError("the job's error was lost")
    assert asked == [1]  # the long job was told to stop rather than left to finish
