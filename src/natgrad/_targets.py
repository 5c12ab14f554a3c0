"""Checks of observed targets against predicted distributions, shared by metrics and report."""

from __future__ import annotations

from typing import Any

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
