"""Progress on stderr for long work: a bar on a terminal, a plain line now and then in a notebook or a log file,
nothing with --quiet."""

from __future__ import annotations

import os
import sys
import time


def show_progress(quiet: bool = False) -> bool:
    """Bars only for a person watching: a terminal on stderr, no --quiet, no KIT_QUIET."""
    return not quiet and not os.environ.get("KIT_QUIET") and sys.stderr.isatty()


LINE_EVERY = 30.0  # seconds between plain lines: a run shorter than this prints none


class Lines:
    """Where stderr is no terminal (a Kaggle notebook's log, a file), a bar's redrawn line would pile up, and without
    one a 10-minute CV looks stuck: so one plain line every LINE_EVERY seconds of work, none for a short run. It takes
    what a tqdm bar takes from kit (update, set_postfix_str, disable)."""

    disable = False

    def __init__(self, total: int, desc: str):
        self.total, self.desc, self.done, self.postfix = total, desc, 0, ""
        self.start = self.said = time.monotonic()

    def update(self, n: int = 1) -> None:
        self.done += n
        self._say()

    def set_postfix_str(self, text: str) -> None:
        self.postfix = text
        self._say()

    def _say(self) -> None:
        now = time.monotonic()
        if now - self.said < LINE_EVERY:
            return
        self.said = now
        minutes, seconds = divmod(int(now - self.start), 60)
        epochs = f"{self.postfix}; " if self.postfix else ""
        # the epochs first, and why the count waits: a trial's log read "0 of 15 fits done" for 9 of its 10 minutes
        # (a model's folds train as one grid, so its fits are done together, at its end)
        line = (
            f"kit: {self.desc}, {minutes}:{seconds:02d} so far: {epochs}{self.done} of {self.total} fits done, "
            "each model's folds ending together"
        )
        print(line, file=sys.stderr, flush=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


def progress_for(total: int, desc: str, quiet: bool = False):
    """A bar on a terminal, plain lines elsewhere, nothing with --quiet or KIT_QUIET."""
    if not quiet and not os.environ.get("KIT_QUIET") and not sys.stderr.isatty():
        return Lines(total, desc)
    return bar(total, desc, show_progress(quiet))


def bar(total: int, desc: str, enabled: bool):
    """A tqdm bar over `total` steps (a no-op bar when not enabled), without a time to go: models that train side by
    side finish together, so the steps come in a burst at the end (a trial's 750,000 rows: 0/15 for 83 s, then
    "2:46" to go, and 13 s it took). `epoch_note` shows the epochs in between."""
    from tqdm import tqdm

    shape = "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]"
    return tqdm(total=total, desc=desc, unit="fit", disable=not enabled, file=sys.stderr, leave=False, bar_format=shape)


def epoch_note(progress):
    """A callback (model, its most epochs, epochs trained) that shows each model's latest epoch after the bar: "nn
    epoch 12 of 100" (of its cap: patience may stop it sooner); epochs None: the model is done ("nn done": a trial's
    log repeated a stopped model's last epoch for a minute and a half)."""
    latest, shown = {}, [0.0]

    def note(model: str, cap: int, epochs: int | None) -> None:
        latest[model] = f"{model} done" if epochs is None else f"{model} epoch {epochs} of {cap}"
        # drawn at most ten times a second (Titanic's epochs take 2 ms), and whenever a model is done
        if epochs is None or time.monotonic() - shown[0] >= 0.1:
            shown[0] = time.monotonic()
            progress.set_postfix_str(", ".join(latest.values()))

    return note
