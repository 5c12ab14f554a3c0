"""Argument checks of `natgrad.boosting._hist.grower.grow_tree`, and the metric packing."""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from numpy.typing import ArrayLike, NDArray

from natgrad._validation import describe

from .common import SplitParams
from .split_diagonal import diagonal_layout

__all__ = ["pack_metric"]

_WHERE = "grow_tree"


def pack_metric(metric: ArrayLike) -> NDArray[np.float64]:
    """Pack symmetric ``p x p`` blocks into their upper triangles, row by row.

    Parameters
    ----------
    metric : array-like of shape (n, p, p)

    Returns
    -------
    packed : ndarray of shape (n, p (p + 1) / 2)
        Entries in the order of ``numpy.triu_indices(p)``.
    """
    arr = np.asarray(metric, dtype=np.float64)
    iu, ju = np.triu_indices(arr.shape[1])
    # Column by column: several times faster than fancy indexing for small p (this runs
    # every stage of the generic Fisher-rule path).
    out = np.empty((arr.shape[0], iu.size))
    for k, (i, j) in enumerate(zip(iu, ju, strict=True)):
        out[:, k] = arr[:, i, j]
    return out


def _check_int(value, name: str, low: int, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if not isinstance(value, Integral) or isinstance(value, bool) or value < low:
        extra = " or None" if allow_none else ""
        raise ValueError(
            f"The {name!r} argument of {_WHERE} must be an int in the range [{low}, inf)"
            f"{extra}. Got {describe(value)} instead."
        )
    return int(value)


def _check_float(value, name: str, low: float) -> float:
    if not isinstance(value, Real) or isinstance(value, bool) or not float(value) >= low:
        raise ValueError(
            f"The {name!r} argument of {_WHERE} must be a float in the range [{low}, inf). "
            f"Got {describe(value)} instead."
        )
    return float(value)


def _as_2d(value, name: str, n: int, width: int | None = None) -> NDArray[np.float64]:
    arr = np.ascontiguousarray(value, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] != n or (width is not None and arr.shape[1] != width):
        shape = f"({n}, {'p' if width is None else width})"
        raise ValueError(
            f"The {name!r} argument of {_WHERE} must have shape {shape}. "
            f"Got {describe(arr)} instead."
        )
    return arr


def _check_binned(binned) -> NDArray[np.uint8]:
    """``binned`` as a 2-D uint8 array in Fortran order (a copy only if it is not)."""
    if not isinstance(binned, np.ndarray) or binned.dtype != np.uint8 or binned.ndim != 2:
        raise ValueError(
            f"The 'binned' argument of {_WHERE} must be a 2-D uint8 array. "
            f"Got {describe(binned)} instead."
        )
    return np.asfortranarray(binned)


def _check_arrays(binned, gradients, metric, sample_weight):
    """Validated ``binned`` (Fortran order), gradients (n, p), packed metric or None, and
    sample weights or None (None also when all weights are one)."""
    binned = _check_binned(binned)
    n = binned.shape[0]
    grads = np.asarray(gradients, dtype=np.float64)
    grads = _as_2d(grads[:, None] if grads.ndim == 1 else grads, "gradients", n)
    p = grads.shape[1]
    met = None
    if metric is not None:
        met = np.asarray(metric, dtype=np.float64)
        if met.ndim == 3 and met.shape == (n, p, p):
            met = pack_metric(met)
        met = _as_2d(met, "metric", n, p * (p + 1) // 2)
    sw = None
    if sample_weight is not None:
        sw = np.ascontiguousarray(sample_weight, dtype=np.float64)
        if sw.shape != (n,):
            raise ValueError(
                f"The 'sample_weight' argument of {_WHERE} must have shape ({n},). "
                f"Got {describe(sw)} instead."
            )
        if (sw == 1.0).all():
            sw = None
    return binned, grads, met, sw


def _check_rows(rows, n: int) -> NDArray[np.int32]:
    """The partition array: every row, or a sorted copy of ``rows``."""
    if rows is None:
        return np.arange(n, dtype=np.int32)
    part = np.array(rows, dtype=np.int32)  # a copy: the partition reorders it
    if part.ndim != 1 or (part.size and (part.min() < 0 or part.max() >= n)):
        raise ValueError(
            f"The 'rows' argument of {_WHERE} must be a 1-D array of row indices in "
            f"[0, {n}). Got {describe(rows)} instead."
        )
    if part.size > 1 and (part[1:] < part[:-1]).any():
        part.sort()  # increasing indices keep the memory access streaming
    return part


def _check_monotone(monotonic_cst, p: int, d: int) -> NDArray[np.int8]:
    """The constraints as a C-ordered (d, p) int8 array (one row per feature, as the
    split kernel reads them); shape (0, p) when nothing is constrained."""
    if monotonic_cst is None:
        return np.zeros((0, p), dtype=np.int8)
    cst = np.asarray(monotonic_cst)
    if cst.shape != (p, d) or cst.dtype.kind not in "iuf" or not np.isin(cst, (-1, 0, 1)).all():
        raise ValueError(
            f"The 'monotonic_cst' argument of {_WHERE} must have shape ({p}, {d}) and values "
            f"in {{-1, 0, 1}}. Got {describe(monotonic_cst)} instead."
        )
    if not cst.any():
        return np.zeros((0, p), dtype=np.int8)
    return np.ascontiguousarray(cst.T, dtype=np.int8)


def _check_categorical(is_categorical, d: int) -> NDArray[np.bool_]:
    cat = np.asarray(is_categorical, dtype=bool)
    if cat.shape != (d,):
        raise ValueError(
            f"The 'is_categorical' argument of {_WHERE} must have shape ({d},). "
            f"Got {describe(is_categorical)} instead."
        )
    return cat


def _split_categorical(features, is_categorical, d: int):
    """The active features split into (numeric, categorical) int32 arrays."""
    if is_categorical is None:
        return features, features[:0]
    on = _check_categorical(is_categorical, d)[features]
    return features[~on], features[on]


def _check_features(feature_mask, d: int) -> NDArray[np.int32]:
    if feature_mask is None:
        return np.arange(d, dtype=np.int32)
    mask = np.asarray(feature_mask, dtype=bool)
    if mask.shape != (d,):
        raise ValueError(
            f"The 'feature_mask' argument of {_WHERE} must have shape ({d},). "
            f"Got {describe(feature_mask)} instead."
        )
    return np.flatnonzero(mask).astype(np.int32)


def _check_diagonal(metric_diagonal, p: int) -> NDArray[np.float64]:
    """``metric_diagonal`` as a (p,) float array (NaN: varies across rows)."""
    diag = np.asarray(metric_diagonal, dtype=np.float64)
    if diag.shape != (p,) or np.isinf(diag).any():
        raise ValueError(
            f"The 'metric_diagonal' argument of {_WHERE} must have shape ({p},) with finite "
            f"or NaN values. Got {describe(metric_diagonal)} instead."
        )
    return diag


def _check_channels(binned, channels, gradients, metric, sample_weight, metric_diagonal):
    """Validated ``binned`` and caller-written histogram channels of `grow_tree`: returns
    (binned, channels, p, diagonal layout or None)."""
    if gradients is not None or metric is not None or sample_weight is not None:
        raise ValueError(
            f"The 'gradients', 'metric' and 'sample_weight' arguments of {_WHERE} must be None "
            "when 'channels' is given (the channels carry them). Got "
            f"{describe(gradients)}, {describe(metric)} and {describe(sample_weight)} instead."
        )
    binned = _check_binned(binned)
    n = binned.shape[0]
    if not isinstance(channels, np.ndarray) or channels.dtype != np.float64:
        raise ValueError(
            f"The 'channels' argument of {_WHERE} must be a float64 array. "
            f"Got {describe(channels)} instead."
        )
    width = channels.shape[1] if channels.ndim == 2 else -1
    layout = None
    if metric_diagonal is not None:
        diag = np.asarray(metric_diagonal, dtype=np.float64)
        p = diag.shape[0] if diag.ndim == 1 else 0
        if p < 2:
            raise ValueError(
                f"The 'metric_diagonal' argument of {_WHERE} must have shape (p,) with p >= 2 "
                f"when 'channels' is given. Got {describe(metric_diagonal)} instead."
            )
        layout = diagonal_layout(_check_diagonal(diag, p))
        expected = p + layout[2].size
    else:
        # Dense layout: C = p + p (p + 1) / 2 fixes p.
        p = 1
        while p + p * (p + 1) // 2 < width:
            p += 1
        expected = p + p * (p + 1) // 2
    if channels.shape != (n, expected) or not channels.flags.c_contiguous:
        raise ValueError(
            f"The 'channels' argument of {_WHERE} must be a C-contiguous array of shape "
            f"({n}, {expected}). Got {describe(channels)} instead."
        )
    return binned, channels, p, layout


@dataclass(frozen=True, eq=False)
class GrowPlan:
    """The arguments of `grow_tree` that stay the same from tree to tree, validated once.

    A trainer grows hundreds of trees on the same binned matrix with the same settings;
    `make_plan` checks and converts those settings once, and `_grower.grow_planned` grows
    each tree from the plan and that tree's channel values (`grow_tree` builds a plan per
    call).
    """

    binned: NDArray[np.uint8]
    p: int
    matrix: bool
    max_depth: int  # 2**62 when unlimited
    depth_cap: int
    max_leaves: int | None
    min_samples_leaf: int
    l2: float
    prior: float
    min_gain: float
    n_bins_non_missing: NDArray[np.int32]
    missing_bin: int
    sign: NDArray[np.int8]
    is_categorical: NDArray[np.bool_] | None
    features: NDArray[np.int32]  # every feature, split into numeric and categorical:
    num_features: NDArray[np.int32]
    cat_features: NDArray[np.int32]
    diag_map: NDArray[np.int64]  # empty: the dense layout
    diag_const: NDArray[np.float64]
    thresholds: NDArray[np.float64]  # (d, n_bins): real threshold of each bin, inf past the last
    split: SplitParams  # the split search's settings, as the compiled kernels take them


def make_plan(
    binned,
    p: int,
    matrix: bool,
    diag_layout,
    *,
    max_depth,
    max_leaves,
    min_samples_leaf,
    l2_regularization,
    leaf_prior,
    min_gain_to_split,
    n_bins_non_missing,
    missing_values_bin_idx,
    bin_thresholds,
    monotonic_cst,
    is_categorical,
) -> GrowPlan:
    """Validate `grow_tree`'s per-fit arguments (its docstring) into a `GrowPlan`.
    ``diag_layout``: `diagonal_layout`'s output for the diagonal layout, or None."""
    binned = _check_binned(binned)
    d = binned.shape[1]
    max_depth = _check_int(max_depth, "max_depth", 0, allow_none=True)
    max_leaves = _check_int(max_leaves, "max_leaves", 1, allow_none=True)
    if max_depth is None and max_leaves is None:
        raise ValueError(
            f"The 'max_depth' and 'max_leaves' arguments of {_WHERE} must not both be None."
        )
    min_leaf = int(_check_int(min_samples_leaf, "min_samples_leaf", 1))  # type: ignore[arg-type]
    nbnm = np.ascontiguousarray(n_bins_non_missing, dtype=np.int32)
    missing_bin = int(missing_values_bin_idx)
    if nbnm.shape != (d,) or not 0 < missing_bin <= 255:
        raise ValueError(
            f"The 'n_bins_non_missing' and 'missing_values_bin_idx' arguments of {_WHERE} "
            f"must have shape ({d},) and be in [1, 255]. Got {describe(nbnm)} and "
            f"{describe(missing_values_bin_idx)} instead."
        )
    features = np.arange(d, dtype=np.int32)
    is_cat = None if is_categorical is None else _check_categorical(is_categorical, d)
    num_features, cat_features = _split_categorical(features, is_cat, d)
    thresholds = np.full((d, missing_bin + 1), np.inf)
    for f in range(d):
        thr = np.asarray(bin_thresholds[f], dtype=np.float64)
        k = min(thr.shape[0], missing_bin + 1)
        thresholds[f, :k] = thr[:k]
    diag_map, diag_const = (_NO_DIAG, _NO_DIAG_CONST) if diag_layout is None else diag_layout[:2]
    l2 = _check_float(l2_regularization, "l2_regularization", 0.0)
    prior = _check_float(leaf_prior, "leaf_prior", 0.0)
    min_gain = _check_float(min_gain_to_split, "min_gain_to_split", -np.inf)
    sign = _check_monotone(monotonic_cst, p, d)
    split = SplitParams(
        p=int(p),
        matrix=bool(matrix),
        l2=float(l2),
        prior=float(prior),
        min_samples_leaf=min_leaf,
        min_gain=float(min_gain),
        n_bins_non_missing=nbnm,
        missing_bin=missing_bin,
        sign=sign,
        diag_map=diag_map,
        diag_const=diag_const,
    )
    return GrowPlan(
        binned=binned,
        p=p,
        matrix=matrix,
        max_depth=max_depth if max_depth is not None else 2**62,
        depth_cap=2 ** min(max_depth, 30) if max_depth is not None else np.iinfo(np.int64).max,
        max_leaves=max_leaves,
        min_samples_leaf=min_leaf,
        l2=l2,
        prior=prior,
        min_gain=min_gain,
        n_bins_non_missing=nbnm,
        missing_bin=missing_bin,
        sign=sign,
        is_categorical=is_cat,
        features=features,
        num_features=num_features,
        cat_features=cat_features,
        diag_map=diag_map,
        diag_const=diag_const,
        thresholds=thresholds,
        split=split,
    )


_NO_DIAG = np.zeros(0, dtype=np.int64)  # dense layout
_NO_DIAG_CONST = np.zeros(0)
