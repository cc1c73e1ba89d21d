"""A figure's mean over a study's shifts with its 95% confidence interval.

The interval is Student's t: mean +- t(0.975, n - 1) * s / sqrt(n), with s the sample standard
deviation, as for the mean of independent shifts (each seed is its own random day). With fewer
than two values there is no interval.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.stats import t as student_t

LEVEL = 0.95


@dataclass(frozen=True)
class Estimate:
    n: int  # values counted (shifts that had the figure)
    mean: float | None
    sd: float | None
    low: float | None  # the interval's ends
    high: float | None

    @property
    def half_width(self) -> float | None:
        return None if self.low is None or self.mean is None else self.mean - self.low


def estimate(values: Sequence[float | None], level: float = LEVEL) -> Estimate:
    have = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    if not have:
        return Estimate(0, None, None, None, None)
    mean = statistics.fmean(have)
    if len(have) < 2:
        return Estimate(1, mean, None, None, None)
    sd = statistics.stdev(have)
    half = float(student_t.ppf(0.5 + level / 2, len(have) - 1)) * sd / math.sqrt(len(have))
    return Estimate(len(have), mean, sd, mean - half, mean + half)
