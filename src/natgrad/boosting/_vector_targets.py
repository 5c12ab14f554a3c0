"""Validation of vector targets (families with ``event_dim == 1``) for the boosting estimators.

A vector family's dimension is configuration (``dim``); the estimators infer it from the
training targets, so that ``NGBoostRegressor(distribution="multivariate_normal").fit(X, Y)``
needs no configuration. One tree per stage then fits all of the family's parameters (its
leaves are vectors of length ``n_params``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from natgrad._typing import Array
from natgrad.distributions import Distribution

# The univariate family to suggest when a vector family gets one target column.
_UNIVARIATE = {"multivariate_normal": "normal"}


def check_vector_targets(
    y: ArrayLike,
    family: type[Distribution],
    config: dict[str, Any],
    where: str,
    name: str = "y",
) -> Array:
    """Validate targets of shape (n_samples, k), k >= 2, and set ``config["dim"] = k``.

    Parameters
    ----------
    y : array-like of shape (n_samples, k)
        Targets; every entry finite.
    family : Distribution subclass
        A vector family (``event_dim == 1``) configured by ``dim``.
    config : dict
        The family configuration. Updated in place: ``dim`` is set from ``y`` when absent
        and checked against ``y`` when present (validation targets, or a ``dim`` the user
        gave in ``distribution_config``).
    where : str
        The method that validates, for error messages (e.g. ``"NGBoostRegressor.fit"``).
    name : str, default="y"
        The argument's name in error messages (``"y_val"`` for validation targets).

    Returns
    -------
    ndarray of shape (n_samples, k)
        C-contiguous float64 targets.
    """
    try:
        arr = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"The {name!r} argument of {where} must be numeric. Got {type(y).__name__} with "
            "non-numeric values instead."
        ) from exc
    if arr.ndim != 2 or arr.shape[1] < 2:
        hint = ""
        if arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] == 1):
            alt = _UNIVARIATE.get(family.name)
            hint = f"; for a single target use distribution={alt!r}" if alt else ""
        raise ValueError(
            f"The {name!r} argument of {where} must have shape (n_samples, k) with k >= 2 "
            f"for the {family.name!r} distribution. Got shape {arr.shape} instead{hint}."
        )
    k = arr.shape[1]
    dim = config.get("dim")
    if dim is None:
        config["dim"] = k
    elif dim != k:
        raise ValueError(
            f"The {name!r} argument of {where} must have {dim} columns (the {family.name!r} "
            f"distribution's dimension). Got shape {arr.shape} instead."
        )
    finite = np.isfinite(arr)
    if not finite.all():
        row, col = np.argwhere(~finite)[0]
        raise ValueError(
            f"The {name!r} argument of {where} must be finite. Got {int((~finite).sum())} NaN "
            f"or infinite value(s), e.g. at row {row}, column {col}."
        )
    probe = family.__new__(family)
    probe._configure(**config)
    inside = probe.support.contains(arr)
    if not inside.all():
        row, col = np.argwhere(~inside)[0]
        raise ValueError(
            f"The {name!r} argument of {where} must be {probe.support.description} for the "
            f"{family.name!r} distribution. Got {arr[row, col]} at row {row}, column {col}."
        )
    return np.ascontiguousarray(arr)
