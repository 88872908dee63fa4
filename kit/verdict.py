"""Whether a change beat the folds' noise: a sign test on the folds that went each way.

Two CVs on the same folds give paired scores. A mean that moved by 0.0001 with folds 0.0022 apart says nothing (a
trial's user read "better" and "worse" into such moves), so a change is called better or worse only where so many
folds went its way that chance would rarely send them so. Both "against the last CV" (kit.report) and the
`--against` table (kit.pipeline) say it this way.
"""

from __future__ import annotations

import math
import statistics

SIGNIFICANT = 0.05  # a sign test's one-sided chance of as many folds one way were the change nothing


def paired_verdict(up: int, down: int, mean: float) -> str:
    """The verdict on a paired change: better or worse (the way `mean`, a difference in the better direction, went)
    where so many folds went that way that a sign test finds it rare by chance (SIGNIFICANT); else within noise."""
    way = up if mean > 0 else down if mean < 0 else 0  # the folds that went the way the mean did
    if way and _sign_test(way, up + down) < SIGNIFICANT:
        return "better" if mean > 0 else "worse"
    return "within noise"


def unpaired_verdict(then: list[float], now: list[float], mean: float) -> str:
    """The verdict on a change between CVs on other folds (another split, or its seed), which pair no fold with
    another: better or worse (the way `mean`, the difference in the better direction, went) where the means moved
    more than twice the standard error of their difference, taken from each CV's spread across its folds; else
    within noise. A trial's user read "better" into 0.8640 -> 0.8640 with folds 0.0013 apart."""
    if len(then) < 2 or len(now) < 2:
        return "better" if mean > 0 else "worse" if mean < 0 else "within noise"  # no spread to judge by
    error = math.sqrt(statistics.variance(then) / len(then) + statistics.variance(now) / len(now))
    if abs(mean) > 2 * error:
        return "better" if mean > 0 else "worse"
    return "within noise"


def _sign_test(k: int, n: int) -> float:
    """The chance of k or more of n folds going one way were each a coin toss (one-sided)."""
    return math.fsum(math.comb(n, i) for i in range(k, n + 1)) / 2**n
