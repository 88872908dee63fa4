"""Progress bars on stderr for long work, silent when stderr is not a terminal or with --quiet."""

from __future__ import annotations

import os
import sys
import time


def show_progress(quiet: bool = False) -> bool:
    """Bars only for a person watching: a terminal on stderr, no --quiet, no KIT_QUIET."""
    return not quiet and not os.environ.get("KIT_QUIET") and sys.stderr.isatty()


def bar(total: int, desc: str, enabled: bool):
    """A tqdm bar over `total` steps (a no-op bar when not enabled), without a time to go: models that train side by
    side finish together, so the steps come in a burst at the end (a trial's 750,000 rows: 0/15 for 83 s, then
    "2:46" to go, and 13 s it took). `epoch_note` shows the epochs in between."""
    from tqdm import tqdm

    shape = "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]"
    return tqdm(total=total, desc=desc, unit="fit", disable=not enabled, file=sys.stderr, leave=False, bar_format=shape)


def epoch_note(progress):
    """A callback (model, its most epochs, epochs trained) that shows each model's latest epoch after the bar: "nn
    epoch 12 of 100" (of its cap: patience may stop it sooner)."""
    latest, shown = {}, [0.0]

    def note(model: str, cap: int, epochs: int) -> None:
        latest[model] = f"{epochs} of {cap}"
        if time.monotonic() - shown[0] >= 0.1:  # drawn at most ten times a second: Titanic's epochs take 2 ms
            shown[0] = time.monotonic()
            progress.set_postfix_str(", ".join(f"{m} epoch {e}" for m, e in latest.items()))

    return note
