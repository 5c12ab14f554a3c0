"""Monotone constraints per distribution parameter: validation and canonical form.

The estimators' ``monotonic_cst`` says, for some distribution parameters, in which direction
the model's unconstrained parameter θ_j (the family's ``param_names``, e.g. ``"loc"`` or
``"log_scale"``) must move with a feature: +1 non-decreasing, -1 non-increasing, 0 free.
This module turns the user's value into one integer matrix of shape (n_params, n_features);
the tree grower (`natgrad.boosting._hist.grower.grow_tree`) enforces it. See docs/design.md,
"Monotone constraints".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Integral
from typing import Any

import numpy as np
from numpy.typing import NDArray

from natgrad._validation import describe

__all__ = ["monotonic_cst_to_json", "resolve_monotonic_cst"]


def resolve_monotonic_cst(
    value: Any,
    param_names: Sequence[str],
    n_features: int,
    feature_names: Sequence[str] | None,
    where: str,
) -> NDArray[np.int8] | None:
    """The constraint matrix of a ``monotonic_cst`` hyper-parameter.

    Parameters
    ----------
    value : dict, array-like of shape (n_params, n_features), or None
        A dict maps a parameter name to either an array-like of shape (n_features,) or a
        dict ``{feature name or index: -1 | 0 | 1}``; a 2-D array-like gives every
        parameter's row in ``param_names`` order.
    param_names : sequence of str
        The family's parameter names (``Distribution.param_names``), length n_params.
    n_features : int
    feature_names : sequence of str or None
        ``feature_names_in_`` of the estimator (None when X had no column names).
    where : str
        The estimator's class name, for the error messages.

    Returns
    -------
    cst : ndarray of shape (n_params, n_features), int8, or None
        Entries in {-1, 0, 1}; None when nothing is constrained.
    """
    if value is None:
        return None
    names = tuple(param_names)
    p = len(names)
    head = f"The 'monotonic_cst' parameter of {where}"
    out = np.zeros((p, n_features), dtype=np.int8)
    if isinstance(value, Mapping):
        for key, row in value.items():
            if key not in names:
                raise ValueError(
                    f"{head} must map parameter names of the distribution ({list(names)}) to "
                    f"constraints. Got the unknown parameter name {key!r} instead."
                )
            where_row = f"{head} for {key!r}"
            if isinstance(row, Mapping):
                out[names.index(key)] = _from_feature_dict(
                    row, n_features, feature_names, where_row
                )
            else:
                out[names.index(key)] = _as_signs(row, (n_features,), where_row)
    elif isinstance(value, str | bytes):
        raise TypeError(
            f"{head} must be a dict or an array-like of shape ({p}, {n_features}). "
            f"Got {describe(value)} instead."
        )
    else:
        out[:] = _as_signs(value, (p, n_features), head)
    return out if out.any() else None


def _as_signs(row: Any, shape: tuple[int, ...], head: str) -> NDArray[np.int8]:
    """``row`` as int8 of ``shape`` with entries in {-1, 0, 1}, or a clear error."""
    try:
        arr = np.asarray(row)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise ValueError(
            f"{head} must be an array-like of shape {shape}. Got {describe(row)} instead."
        ) from exc
    if arr.shape != shape:
        raise ValueError(
            f"{head} must be an array-like of shape {shape} (n_features = {shape[-1]}). "
            f"Got shape {arr.shape} instead."
        )
    if arr.dtype.kind not in "iuf" or not np.isin(arr, (-1, 0, 1)).all():
        raise ValueError(f"{head} must hold only -1, 0 and 1. Got {_bad_values(arr)} instead.")
    return arr.astype(np.int8)


def _bad_values(arr: np.ndarray) -> str:
    if arr.dtype.kind not in "iuf":
        return f"values of dtype {arr.dtype}"
    bad = np.unique(arr[~np.isin(arr, (-1, 0, 1))])
    return f"the value(s) {bad[:5].tolist()}"


def _from_feature_dict(
    row: Mapping[Any, Any], n_features: int, feature_names: Sequence[str] | None, head: str
) -> NDArray[np.int8]:
    out = np.zeros(n_features, dtype=np.int8)
    known = None if feature_names is None else [str(s) for s in feature_names]
    for key, sign in row.items():
        if isinstance(key, Integral) and not isinstance(key, bool):
            col = int(key)
            if not 0 <= col < n_features:
                raise ValueError(
                    f"{head} must use feature indices in [0, {n_features}). "
                    f"Got the index {key} instead."
                )
        elif isinstance(key, str):
            if known is None:
                raise ValueError(
                    f"{head} names the feature {key!r}, but X has no feature names: fit on "
                    "a pandas DataFrame to use names, or use column indices. Got feature "
                    "names in monotonic_cst while X has none."
                )
            if key not in known:
                raise ValueError(
                    f"{head} must name features of X ({known[:10]}"
                    f"{' ...' if len(known) > 10 else ''}). Got the unknown feature name "
                    f"{key!r} instead."
                )
            col = known.index(key)
        else:
            raise TypeError(
                f"{head} must be keyed by feature names (str) or column indices (int). "
                f"Got the key {key!r} of type {type(key).__name__} instead."
            )
        if isinstance(sign, bool) or not isinstance(sign, Integral) or sign not in (-1, 0, 1):
            raise ValueError(
                f"{head} must map features to -1, 0 or 1. Got {sign!r} for feature {key!r} instead."
            )
        out[col] = sign
    return out


def monotonic_cst_to_json(
    value: Any,
    param_names: Sequence[str],
    n_features: int,
    feature_names: Sequence[str] | None,
    where: str,
) -> dict[str, list[int]] | None:
    """A JSON form of ``monotonic_cst`` that fits back to the same constraints.

    Arrays and integer dict keys have no faithful JSON form (JSON object keys are strings,
    which a later fit would read as feature names), so the saved value is the resolved
    matrix as ``{parameter name: [one sign per feature]}``, constrained parameters only.
    """
    cst = resolve_monotonic_cst(value, param_names, n_features, feature_names, where)
    if cst is None:
        return None
    rows = zip(param_names, cst, strict=True)
    return {name: [int(s) for s in row] for name, row in rows if row.any()}
