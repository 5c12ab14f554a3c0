"""Design matrices: conversion, column names and validation shared by fitting and predicting."""

from __future__ import annotations

from typing import Any

import numpy as np

from natgrad._typing import Array
from natgrad._validation import as_float_array


def as_design(X: Any, where: str) -> tuple[Array, list[str]]:
    """X as a C-contiguous float64 array of shape (n, p) and its column names.

    A DataFrame's columns name the coefficients; arrays get ``x1``, ``x2``, ... Raises a
    `TypeError` or `ValueError` naming 'X' on non-numeric, non-2-d, empty or non-finite input.
    """
    names: list[str]
    columns = getattr(X, "columns", None)
    if columns is not None and hasattr(X, "to_numpy"):
        names = [str(c) for c in columns]
        try:
            arr = X.to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"The 'X' argument of {where} must hold numbers only. Got columns of dtypes "
                f"{sorted({str(t) for t in X.dtypes})} instead."
            ) from exc
    else:
        arr = as_float_array(X, "X", where)
        names = [f"x{j + 1}" for j in range(arr.shape[1])] if arr.ndim == 2 else []
    if arr.ndim != 2:
        raise ValueError(
            f"The 'X' argument of {where} must be 2-d of shape (n_samples, n_features). "
            f"Got shape {arr.shape} instead."
        )
    if arr.shape[0] == 0:
        raise ValueError(f"The 'X' argument of {where} must have at least one row. Got 0.")
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(
            f"The 'X' argument of {where} must be finite. Got {arr[tuple(bad)]} at row "
            f"{bad[0]}, column {names[bad[1]]!r}."
        )
    return np.ascontiguousarray(arr), names
