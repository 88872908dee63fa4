"""Progress bars on stderr for long work, silent when stderr is not a terminal or with --quiet."""

from __future__ import annotations

import os
import sys


def show_progress(quiet: bool = False) -> bool:
    """Bars only for a person watching: a terminal on stderr, no --quiet, no KIT_QUIET."""
    return not quiet and not os.environ.get("KIT_QUIET") and sys.stderr.isatty()


def bar(total: int, desc: str, enabled: bool):
    """A tqdm bar over `total` steps (a no-op bar when not enabled)."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="fit", disable=not enabled, file=sys.stderr, leave=False)
