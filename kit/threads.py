"""How many CPU threads torch trains with, chosen from the size of the problem.

A grid of small models does thousands of small matmuls and elementwise passes. Split across
OpenMP threads, each of them is a parallel region whose threads wait for one another; when another
process holds a core, every region waits for a time slice, and training runs up to 25x slower than
on one thread (BENCHMARKS.md, "Threads"). So a problem below `SERIAL_WORK` trains on one thread,
and only one large enough to pay for the waits uses every thread torch was given (all cores, or
OMP_NUM_THREADS), and kit's other torch work runs on one thread. One thread also makes the small problems' results independent of the machine's
thread settings: the order of a matmul's sums depends on how many threads share it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import contextmanager

import torch

# Multiply-adds of one layer over one epoch (rows x inputs x models) below which one thread wins.
# Measured on a shared 2-core machine (BENCHMARKS.md, "Threads"): one thread was 25x faster on
# an 891-row grid, 15x on a 7,000-row one, 2x on the 300,000-row Playground case (6.8e7), and even at
# 1e8 (100,000 rows x 30 inputs x 50 models) it tied with two.
SERIAL_WORK = 200_000_000
_GIVEN = torch.get_num_threads()  # what the environment gave torch, before kit changed anything
# Everything else kit asks of torch (scoring, out-of-fold tables, the ensemble, checks) is elementwise work on up to
# a few hundred thousand values, which two threads did 300x slower than one where other work held the cores (an
# isfinite over 60,000 floats: 60 ms against 0.2 ms, load 4.8 on 2 cores): one thread unless a grid asks for more.
torch.set_num_threads(1)


# Multiply-adds of one step's first layer (batch rows x inputs x models) from which separate models train
# side by side, one per core (`run_each`). Measured (BENCHMARKS.md, "Threads"): on the 300,000-row
# Playground case (7,500-row batches x 57 inputs x 5 models, 2.1e6) linear, nn and deep trained 1.46x
# faster on two cores than one after another; on Titanic's article plan (713 x 12 x 50, 4.3e5) 1.5x (95
# against 140 ms), its definition's plan (713 x 13 x 25, 2.3e5) 1.47x, a 7,000-row one's (256 x 27 x 15,
# 1.0e5) 1.25x, Titanic's with 2 seeds (9.3e4) 1.15x; with one seed (4.6e4) 7% slower: each operation is so
# short that the threads mostly wait for Python's lock.
PARALLEL_WORK = 60_000


def given_threads() -> int:
    """The CPU threads the environment gave torch (all cores, or OMP_NUM_THREADS): what a large grid trains on."""
    return _GIVEN


def threads_for(rows: int, width: int, models: int) -> int:
    """Threads for a grid of `models` models on `rows` rows of `width` inputs each."""
    return 1 if rows * width * models < SERIAL_WORK else _GIVEN


@contextmanager
def torch_threads(n: int, device: torch.device | None = None):
    """Run the block with torch on `n` CPU threads (on a GPU nothing changes); restore the count after."""
    if device is not None and device.type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def model_workers(rows: int, width: int, models: int, n_jobs: int, device: torch.device | None = None) -> int:
    """How many models of `n_jobs` train at once: one per thread torch was given, when each step is large
    enough to keep a core busy but small enough to train on one thread (see `threads_for`); else 1."""
    work = rows * width * models
    if (device is not None and device.type != "cpu") or not PARALLEL_WORK <= work < SERIAL_WORK:
        return 1
    return max(1, min(n_jobs, _GIVEN))


def run_each(jobs: list[Callable], workers: int) -> list:
    """Each job's result, in the order given; with workers > 1, that many run at once on threads of their own.

    Each thread runs torch on one thread, so a job computes exactly what it would alone: the same bytes
    whatever the number of workers. Jobs are taken in the order given; the first error a job raises is
    raised here. Ctrl-C (or any error) asks the other jobs to stop: a training loop checks `stop_asked`
    once an epoch, so they end within an epoch instead of running on in the background (in a notebook
    the process outlives the interrupt). Threads are waited for through events of their own, not
    Thread.join: a Ctrl-C that lands inside join can leave a running thread marked as finished.
    """
    if workers <= 1:
        return [job() for job in jobs]
    results, errors = [None] * len(jobs), []
    queue, lock, stop = iter(enumerate(jobs)), threading.Lock(), threading.Event()

    def work(finished: threading.Event) -> None:
        _local.stop = stop
        torch.set_num_threads(1)  # OpenMP's thread count is per thread: a new thread starts with the default
        try:
            while not errors and not stop.is_set():
                with lock:
                    item = next(queue, None)
                if item is None:
                    return
                i, job = item
                try:
                    results[i] = job()
                except BaseException as e:  # handed to the caller's thread
                    errors.append(e)
        finally:
            finished.set()

    done = [threading.Event() for _ in range(min(workers, len(jobs)))]
    threads = [threading.Thread(target=work, args=(finished,), daemon=True) for finished in done]
    with torch_threads(1):  # restored after: the workers changed the process-wide MKL count
        try:
            for t in threads:
                t.start()
            for finished in done:
                while not finished.wait(0.1):
                    if errors:
                        stop.set()  # the run has failed: the others need not finish
        except KeyboardInterrupt:
            stop.set()  # never cleared: a thread still starting takes no job
            for t, finished in zip(threads, done):
                if t.ident is not None:
                    finished.wait()  # within an epoch: their loops check stop_asked
            raise
    if errors:
        raise errors[0]
    return results


_local = threading.local()  # a run_each thread's stop event


def stop_asked() -> bool:
    """True on a `run_each` thread whose run was interrupted or failed: a training loop stops at its next epoch."""
    stop = getattr(_local, "stop", None)
    return stop is not None and stop.is_set()
