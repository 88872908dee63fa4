"""Plain aligned text tables: readable in a terminal, a log file or a notebook alike."""

from __future__ import annotations


def aligned(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """Left-aligned columns separated by two spaces, the header first."""
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(head)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in [head, *rows]]
    return "\n".join(lines)
