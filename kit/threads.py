"""How many CPU threads torch trains with, chosen from the size of the problem.

A grid of small models does thousands of small matmuls and elementwise passes. Split across
OpenMP threads, each of them is a parallel region whose threads wait for one another; when another
process holds a core, every region waits for a time slice, and training runs up to 25x slower than
on one thread (BENCHMARKS.md, "Threads"). So a problem below `SERIAL_WORK` trains on one thread,
and only one large enough to pay for the waits uses every thread torch was given (all cores, or
OMP_NUM_THREADS). One thread also makes the small problems' results independent of the machine's
thread settings: the order of a matmul's sums depends on how many threads share it.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch

# Multiply-adds of one layer over one epoch (rows x inputs x models) below which one thread wins.
# Measured on a shared 2-core machine (BENCHMARKS.md, "Threads"): one thread was 25x faster on
# an 891-row grid, 15x on a 7,000-row one, 2x on the 300,000-row Playground case (6.8e7), and even at
# 1e8 (100,000 rows x 30 inputs x 50 models) it tied with two.
SERIAL_WORK = 200_000_000
_GIVEN = torch.get_num_threads()  # what the environment gave torch, before kit changed anything


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
