"""Checks of observed targets, shared by the packages that receive them (one check each)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from natgrad._typing import Array
from natgrad._validation import as_float_array, check_finite, describe
from natgrad.distributions import Distribution


def check_predicted_targets(dist: Any, y: ArrayLike, where: str) -> Array:
    """Validate a batch of univariate distributions and its targets; return y of shape (n,).

    Parameters
    ----------
    dist : Distribution
        A batch of n univariate distributions with a distribution function.
    y : array-like of shape (n,)
        Observed targets: finite and inside the family's support.
    where : str
        The caller, for error messages.
    """
    if not isinstance(dist, Distribution):
        raise TypeError(
            f"The 'dist' argument of {where} must be a natgrad distribution batch (e.g. "
            f"model.predict_dist(X)). Got {describe(dist)} instead."
        )
    if dist.event_dim != 0:
        raise ValueError(
            f"The 'dist' argument of {where} must be a univariate family. Got "
            f"{type(dist).__name__}, which has vector targets."
        )
    arr = as_float_array(y, "y", where)
    n = len(dist)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(
            f"The 'y' argument of {where} must have shape ({n},), one target per predicted "
            f"distribution. Got shape {arr.shape} instead."
        )
    check_finite(arr, "y", where)
    dist._check_support(arr, where)
    try:
        # Unordered families (categorical labels) have no cdf, quantiles or intervals.
        dist[:1].cdf(arr[:1])
    except NotImplementedError as exc:
        raise TypeError(
            f"The 'dist' argument of {where} must have ordered targets and a distribution "
            f"function. Got {type(dist).__name__}, which has none."
        ) from exc
    return arr


def check_time_event(
    time: Array,
    event: Array,
    subjects: tuple[str, str],
    *,
    positive: bool = True,
    first_row: int = 0,
    error: Callable[[str], Exception] = ValueError,
) -> None:
    """Check right-censored targets: finite times > 0 (or ≥ 0) and event flags 0 or 1.

    The one check of (time, event) pairs, whoever receives them (the censored log score,
    survival boosting, the survival metrics, the command line).

    Parameters
    ----------
    time, event : ndarray of shape (n,)
        Event or censoring times, and event flags (1 observed, 0 right-censored).
    subjects : (str, str)
        How messages name the times and the flags, e.g. ``("The 'time' argument of f",
        "The 'event' argument of f")``.
    positive : bool, default=True
        Times must be > 0; False allows 0 (e.g. PIT values treated as times).
    first_row : int, default=0
        The number messages give the first row (1 where rows are counted from 1).
    error : callable, default=ValueError
        Builds the exception raised from the message.
    """
    bad = np.flatnonzero(~(np.isfinite(time) & ((time > 0) if positive else (time >= 0))))
    if bad.size:
        kind, bounds = ("positive", "(0, inf)") if positive else ("non-negative", "[0, inf)")
        raise error(
            f"{subjects[0]} must hold finite {kind} times. Got {bad.size} value(s) outside "
            f"{bounds}, e.g. {time[bad[0]]} at row {bad[0] + first_row}."
        )
    bad = np.flatnonzero((event != 0) & (event != 1))
    if bad.size:
        raise error(
            f"{subjects[1]} must hold event flags 0 (censored) or 1 (observed). Got "
            f"{bad.size} other value(s), e.g. {event[bad[0]]} at row {bad[0] + first_row}."
        )
