"""How the process's C allocator treats the blocks training frees (glibc only; elsewhere nothing changes).

A training step allocates and frees the same few tensors of a few megabytes, thousands of times.
By default glibc maps each such block afresh from the system and trims the heap's free top after
each free, so every step pays a page fault for each 4 KiB page of every new activation: measured on
Titanic's plan, a fifth of the batched nets' time (BENCHMARKS.md, "Allocator"). Blocks up to
MMAP_LIMIT then come from the heap, and up to TRIM_LIMIT of free heap top is kept for the next step.
Larger arrays (the fold stacks of a large competition) are still mapped and handed back whole, and
`kit.competition.release_freed_memory` still returns what a phase freed, so peak memory stays bounded.
"""

from __future__ import annotations

import ctypes
import ctypes.util

MMAP_LIMIT = 32 * 2**20  # glibc's ceiling on 64-bit systems: a 300,000-row case's batches (5-9 MB) too
TRIM_LIMIT = 64 * 2**20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)
_done = False


def reuse_freed_blocks() -> None:
    """Set the allocator up for training once per process: freed blocks stay in the heap for reuse."""
    global _done
    if _done:
        return
    _done = True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        libc.mallopt(_M_MMAP_THRESHOLD, MMAP_LIMIT)
        libc.mallopt(_M_TRIM_THRESHOLD, TRIM_LIMIT)
    except (OSError, AttributeError, TypeError):  # not glibc (macOS, Windows, musl)
        pass
