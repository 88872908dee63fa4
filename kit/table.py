"""Plain aligned text tables: readable in a terminal, a log file or a notebook alike."""

from __future__ import annotations

import math


def aligned(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """Left-aligned columns separated by two spaces, the header first."""
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(head)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in [head, *rows]]
    return "\n".join(lines)


def decimals(scores) -> int:
    """Decimal places that show scores to about five significant digits: 4 for an accuracy (0.8485), 3 for an
    RMSE of 55.218, none for one of 219,799 (four places there are noise, and they push the columns apart)."""
    largest = max((abs(s) for s in scores if math.isfinite(s)), default=0.0)
    return 4 if largest < 1 else max(0, 4 - int(math.floor(math.log10(largest))))
