"""Plain aligned text tables: readable in a terminal, a log file or a notebook alike."""

from __future__ import annotations

import math


def aligned(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """Left-aligned columns separated by two spaces, the header first."""
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(head)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in [head, *rows]]
    return "\n".join(lines)


def decimals(scores) -> int:
    """Decimal places that show scores to about five significant digits: 4 for an accuracy (0.8485), 3 for an RMSE
    of 55.218, none for one of 219,799 (four places there are noise, and they push the columns apart); and below 0.1
    four significant digits: 5 for an RMSE of 0.05511, 8 for a difference of 0.00003120 (a trial's comparisons of
    RMSEs near 0.055 read "0.0000 ± 0.0000, better" and its report ranked three runs that all read 0.0551)."""
    largest = max((abs(s) for s in scores if math.isfinite(s) and s), default=0.0)
    if largest == 0:
        return 4
    digits = int(math.floor(math.log10(largest)))  # 0 for 5.5, -2 for 0.055
    return max(4, 3 - digits) if largest < 1 else max(0, 4 - digits)
