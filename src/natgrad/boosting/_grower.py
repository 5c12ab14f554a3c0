"""Grow one histogram tree with vector leaves (one boosting stage).

The whole growth runs in one compiled call: the node histograms (smaller child built,
sibling by subtraction from the parent), the best split per node, the row partition (each
node's rows are a contiguous slice of one index array, as in LightGBM and scikit-learn's
histogram GBM), the leaf solves and the leaf of every row. Growth is best-first on split gain
up to ``max_leaves`` leaves and ``max_depth`` levels; with ``max_leaves`` unset the leaf budget
``2**max_depth`` can never bind, so the tree is exactly the depth-wise tree.

Leaf values approximate the per-row targets: ``value = (H + lambda I)^{-1} G`` (scalar metric:
the weighted mean ``G / (W + lambda)``), damped as in `natgrad.boosting._splitting`; with a
leaf prior of ``kappa`` pseudo-rows, ``H`` is ``H (1 + kappa / n)`` in values and gains. The
caller updates ``theta <- theta - eta rho tree.leaf_values[leaf_of_row]``.
With ``monotonic_cst`` the leaf values are made monotone in the constrained features
(bounds per node, docs/design.md "Monotone constraints").
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from numba import get_num_threads, njit, prange
from numpy.typing import ArrayLike, NDArray

from natgrad._validation import describe

from ._categorical_split import N_WORDS, find_best_categorical_split

# numba's cache is keyed on the source file of each cached function only: after editing a
# kernel imported here (histograms, splits, binned traversal), touch this file or delete
# __pycache__/*.nbi, or `_grow` keeps running the old compiled code.
from ._histogram import (
    build_histogram,
    fill_channels,
    n_channels,
    node_sums,
    subtract_histograms,
)
from ._predictor import leaf_of_binned_row
from ._splitting import child_bounds, clipped_value, find_best_split, leaf_value

__all__ = ["Tree", "add_leaf_values", "grow_tree", "pack_metric"]

_WHERE = "grow_tree"


@dataclass(frozen=True, eq=False)
class Tree:
    """A grown tree as flat node arrays (node 0 is the root).

    Attributes
    ----------
    feature : ndarray of shape (n_nodes,), int32
        Split feature (-1 at leaves).
    bin_threshold : ndarray of shape (n_nodes,), uint8
        Rows with ``bin <= bin_threshold`` go left (missing-value bin excepted).
    threshold : ndarray of shape (n_nodes,), float64
        Real-valued threshold: ``x <= threshold`` goes left (``+inf`` when every non-missing
        value goes left; NaN at leaves).
    missing_go_left : ndarray of shape (n_nodes,), bool
        Side of missing values: learned when the node saw some, else the larger child.
    left, right : ndarray of shape (n_nodes,), int32
        Children (-1 at leaves).
    value : ndarray of shape (n_nodes, p), float64
        ``(H + lambda I)^{-1} G`` of every node (the leaf value at leaves).
    gain : ndarray of shape (n_nodes, p), float64
        Per-parameter split gain (zero at leaves), for feature importances.
    split_gain : ndarray of shape (n_nodes,), float64
        Gain of the split (zero at leaves).
    count : ndarray of shape (n_nodes,), int64
        Training rows of the stage in the node.
    depth : ndarray of shape (n_nodes,), int32
    leaf_index : ndarray of shape (n_leaves,), int32
        Node of each leaf number.
    leaf_values : ndarray of shape (n_leaves, p), float64
        ``value[leaf_index]``.
    cat_index : ndarray of shape (n_nodes,), int32, or None
        Row of a categorical split's bitset in ``cat_bitsets`` (-1 elsewhere); None when
        the tree has no categorical split.
    cat_bitsets : ndarray of shape (n_categorical_splits, 8), uint32, or None
        Bit ``b`` set: bin (category index) ``b`` goes left, the missing-value bin included.
    """

    feature: NDArray[np.int32]
    bin_threshold: NDArray[np.uint8]
    threshold: NDArray[np.float64]
    missing_go_left: NDArray[np.bool_]
    left: NDArray[np.int32]
    right: NDArray[np.int32]
    value: NDArray[np.float64]
    gain: NDArray[np.float64]
    split_gain: NDArray[np.float64]
    count: NDArray[np.int64]
    depth: NDArray[np.int32]
    leaf_index: NDArray[np.int32]
    leaf_values: NDArray[np.float64]
    cat_index: NDArray[np.int32] | None = None
    cat_bitsets: NDArray[np.uint32] | None = None

    @property
    def n_nodes(self) -> int:
        return int(self.feature.shape[0])

    @property
    def n_leaves(self) -> int:
        return int(self.leaf_index.shape[0])


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
    return np.ascontiguousarray(arr[:, iu, ju])


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


def grow_tree(
    binned: NDArray[np.uint8],
    gradients: ArrayLike,
    metric: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    *,
    rows: ArrayLike | None = None,
    feature_mask: ArrayLike | None = None,
    max_depth: int | None = 3,
    max_leaves: int | None = None,
    min_samples_leaf: int = 20,
    l2_regularization: float = 0.0,
    leaf_prior: float = 0.0,
    min_gain_to_split: float = 0.0,
    n_bins_non_missing: ArrayLike,
    missing_values_bin_idx: int,
    bin_thresholds: list[NDArray[np.float64]],
    monotonic_cst: ArrayLike | None = None,
    is_categorical: ArrayLike | None = None,
) -> tuple[Tree, NDArray[np.int32]]:
    """Grow one vector-leaf tree on the per-row targets ``gradients``.

    Parameters
    ----------
    binned : ndarray of shape (n, d), uint8
        Bins from `BinMapper.transform`; Fortran order (another layout is copied, which
        costs a pass over the data every call).
    gradients : array-like of shape (n, p) or (n,)
        Per-row targets ``g_i`` (1-D means p = 1), not weighted: natural gradients for the
        "ngboost" rule, plain gradients for the "fisher" rule.
    metric : array-like of shape (n, p (p + 1) / 2) or (n, p, p), or None
        None for the scalar metric (hessian ``w_i I``). Otherwise the per-row metric blocks
        ``w_i F_i``, already multiplied by the sample weight, preferably packed as in
        `pack_metric` (full blocks are packed here, a copy per call).
    sample_weight : array-like of shape (n,) or None
        Row weights; the gradient sums are ``G = sum_i w_i g_i``. None (or all ones) is the
        fastest path.
    rows : array-like of int, shape (m,), or None
        Rows used by this stage (row subsampling); None uses every row.
    feature_mask : array-like of bool, shape (d,), or None
        Features the splits may use (column subsampling); None allows all.
    max_depth : int or None, default=3
        Maximum depth (the root has depth 0).
    max_leaves : int or None, default=None
        Maximum number of leaves, grown best-first. At least one of ``max_depth`` and
        ``max_leaves`` must be set; both limits apply.
    min_samples_leaf : int, default=20
        Minimum number of rows in a leaf.
    l2_regularization : float, default=0.0
        Ridge ``lambda`` added to the metric sums.
    leaf_prior : float, default=0.0
        Strength ``kappa``, in pseudo-rows, of a zero-mean prior on every node's value with
        the node's own mean metric ``H / n``: values and gains use ``H (1 + kappa / n)``
        (`natgrad.boosting._splitting`, docs/design.md "Leaf prior").
    min_gain_to_split : float, default=0.0
        A split must have a gain strictly above this.
    n_bins_non_missing : array-like of shape (d,), int
        From `BinMapper.n_bins_non_missing_`.
    missing_values_bin_idx : int
        From `BinMapper.missing_values_bin_idx_`.
    bin_thresholds : list of ndarray
        From `BinMapper.bin_thresholds_`, for the real-valued thresholds.
    monotonic_cst : array-like of shape (p, d) with values in {-1, 0, 1}, or None
        Monotone constraints on the tree's values: ``+1`` at ``(k, f)`` makes component
        ``k`` of the leaf values non-decreasing in feature ``f`` (other features fixed,
        missing values excepted), ``-1`` non-increasing. Leaf values are clipped into
        bounds passed down from the constrained splits (`_splitting.child_bounds`).
    is_categorical : array-like of bool, shape (d,), or None
        Categorical features (from `BinMapper.is_categorical_`): their bins are categories
        and their splits send a set of categories left
        (`natgrad.boosting._categorical_split`). None: every feature is numeric.

    Returns
    -------
    tree : Tree
    leaf_of_row : ndarray of shape (n,), int32
        Leaf number of every row: from the growth partition for the rows in ``rows``, by a
        binned traversal for the others.
    """
    binned, grads, met, sw = _check_arrays(binned, gradients, metric, sample_weight)
    n, d = binned.shape
    p = grads.shape[1]
    max_depth = _check_int(max_depth, "max_depth", 0, allow_none=True)
    max_leaves = _check_int(max_leaves, "max_leaves", 1, allow_none=True)
    if max_depth is None and max_leaves is None:
        raise ValueError(
            f"The 'max_depth' and 'max_leaves' arguments of {_WHERE} must not both be None."
        )
    min_samples_leaf = int(_check_int(min_samples_leaf, "min_samples_leaf", 1))  # type: ignore[arg-type]
    l2 = _check_float(l2_regularization, "l2_regularization", 0.0)
    prior = _check_float(leaf_prior, "leaf_prior", 0.0)
    min_gain = _check_float(min_gain_to_split, "min_gain_to_split", -np.inf)
    nbnm = np.ascontiguousarray(n_bins_non_missing, dtype=np.int32)
    missing_bin = int(missing_values_bin_idx)
    if nbnm.shape != (d,) or not 0 < missing_bin <= 255:
        raise ValueError(
            f"The 'n_bins_non_missing' and 'missing_values_bin_idx' arguments of {_WHERE} "
            f"must have shape ({d},) and be in [1, 255]. Got {describe(nbnm)} and "
            f"{describe(missing_values_bin_idx)} instead."
        )
    part = _check_rows(rows, n)
    features = _check_features(feature_mask, d)
    sign = _check_monotone(monotonic_cst, p, d)
    num_features, cat_features = _split_categorical(features, is_categorical, d)

    m = part.size
    depth_cap = 2 ** min(max_depth, 30) if max_depth is not None else np.iinfo(np.int64).max
    n_leaves_cap = min(max_leaves or depth_cap, depth_cap, max(1, m // min_samples_leaf))
    matrix = met is not None
    if sw is None and not matrix:
        vals = grads  # the count channel doubles as the weight sum: no copy
    else:
        vals = np.empty((n, n_channels(p, matrix, sw is not None) - 1))  # count not stored
        fill_channels(
            grads,
            _ONE if sw is None else sw,
            _NO_METRIC if met is None else met,
            part,
            matrix,
            sw is not None,
            vals,
        )
    out = _grow(
        binned,
        vals,
        part,
        features,
        nbnm,
        missing_bin,
        p,
        matrix,
        max_depth if max_depth is not None else 2**62,
        n_leaves_cap,
        min_samples_leaf,
        l2,
        min_gain,
        rows is not None,
        get_num_threads(),
        sign,
        num_features,
        cat_features,
        prior,
    )
    return _as_tree(out, bin_thresholds), out[-1]


# Placeholders for unused kernel inputs (no per-stage allocation).
_ONE = np.ones(1)
_NO_METRIC = np.zeros((1, 1))


def _check_arrays(binned, gradients, metric, sample_weight):
    """Validated ``binned`` (Fortran order), gradients (n, p), packed metric or None, and
    sample weights or None (None also when all weights are one)."""
    if not isinstance(binned, np.ndarray) or binned.dtype != np.uint8 or binned.ndim != 2:
        raise ValueError(
            f"The 'binned' argument of {_WHERE} must be a 2-D uint8 array. "
            f"Got {describe(binned)} instead."
        )
    binned = np.asfortranarray(binned)
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


def _split_categorical(features, is_categorical, d: int):
    """The active features split into (numeric, categorical) int32 arrays."""
    if is_categorical is None:
        return features, features[:0]
    cat = np.asarray(is_categorical, dtype=bool)
    if cat.shape != (d,):
        raise ValueError(
            f"The 'is_categorical' argument of {_WHERE} must have shape ({d},). "
            f"Got {describe(is_categorical)} instead."
        )
    on = cat[features]
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


def _as_tree(out, bin_thresholds) -> Tree:
    """Trim the capacity-sized node arrays of `_grow` and add the real thresholds."""
    n_nodes = out[0]
    feature, bin_thr, mgl, left, right, value, gain, split_gain, count, depth = (
        a[:n_nodes] for a in out[1:11]
    )
    leaf_index, leaf_values = out[11], out[12]
    is_cat = out[13][:n_nodes]
    cat_index = cat_bitsets = None
    if is_cat.any():
        cat_index = np.full(n_nodes, -1, dtype=np.int32)
        cat_index[is_cat] = np.arange(int(is_cat.sum()), dtype=np.int32)
        cat_bitsets = np.ascontiguousarray(out[14][:n_nodes][is_cat])
    threshold = np.full(n_nodes, np.nan)
    for node in np.flatnonzero((feature >= 0) & ~is_cat):
        thr = bin_thresholds[feature[node]]
        t = bin_thr[node]
        threshold[node] = thr[t] if t < thr.shape[0] else np.inf
    return Tree(
        feature,
        bin_thr,
        threshold,
        mgl,
        left,
        right,
        value,
        gain,
        split_gain,
        count,
        depth,
        leaf_index,
        leaf_values,
        cat_index,
        cat_bitsets,
    )


@njit(nogil=True)
def _partition_bits(col, part, start, stop, bits, tmp):
    # As `_partition`, for a categorical split: bin b goes left when bit b of `bits` is set.
    n_left = 0
    n_right = 0
    for ii in range(start, stop):
        r = part[ii]
        b = col[r]
        go = np.int64((bits[b >> 5] >> (b & 31)) & 1)
        part[start + n_left] = r
        tmp[n_right] = r
        n_left += go
        n_right += 1 - go
    for k in range(n_right):
        part[start + n_left + k] = tmp[k]
    return n_left


@njit(nogil=True)
def _partition(col, part, start, stop, t, mgl, missing_bin, tmp):
    # Stable: both children keep increasing row order. Left rows are compacted in place
    # (the write index never passes the read index), right rows go through `tmp`.
    # Branch-free: the row is written to both places and only one cursor advances (a
    # random split would mispredict half of the branches).
    n_left = 0
    n_right = 0
    for ii in range(start, stop):
        r = part[ii]
        b = col[r]
        go = np.int64((b <= t) | (mgl & (b == missing_bin)))
        part[start + n_left] = r
        tmp[n_right] = r
        n_left += go
        n_right += 1 - go
    for k in range(n_right):
        part[start + n_left + k] = tmp[k]
    return n_left


@njit(cache=True, nogil=True, parallel=True)
def _traverse_unassigned(
    binned, leaf_of_row, feature, bin_thr, mgl, left, right, node_leaf, missing_bin, cat_index,
    cat_bits,
):  # fmt: skip
    for i in prange(leaf_of_row.size):
        if leaf_of_row[i] < 0:
            node = leaf_of_binned_row(
                binned, i, 0, feature, bin_thr, mgl, left, right, missing_bin, cat_index, cat_bits
            )
            leaf_of_row[i] = node_leaf[node]


@njit(nogil=True)
def _take_slot(pool, n_used, free, n_free):
    # A free histogram slot: a recycled one, else the next one of the pool (grown x2).
    if n_free > 0:
        return pool, free[n_free - 1], n_used, n_free - 1
    if n_used == pool.shape[0]:
        bigger = np.empty((2 * pool.shape[0],) + pool.shape[1:])
        bigger[:n_used] = pool
        pool = bigger
    return pool, n_used, n_used + 1, n_free


@njit(cache=True, nogil=True)
def _grow(
    binned, vals, part, features, n_bins_nm, missing_bin, p, matrix, max_depth, max_leaves,
    min_samples_leaf, l2, min_gain, traverse_rest, n_threads, sign, num_features, cat_features,
    prior,
):  # fmt: skip
    """Compiled growth; see `grow_tree`. Node arrays are returned at capacity size, with
    the number of nodes first."""
    n, d = binned.shape
    m = part.size
    K = vals.shape[1] + 1
    max_nodes = 2 * max_leaves - 1
    feature = np.full(max_nodes, -1, dtype=np.int32)
    bin_thr = np.zeros(max_nodes, dtype=np.uint8)
    mgl = np.zeros(max_nodes, dtype=np.bool_)
    left = np.full(max_nodes, -1, dtype=np.int32)
    right = np.full(max_nodes, -1, dtype=np.int32)
    value = np.zeros((max_nodes, p))
    gain = np.zeros((max_nodes, p))
    split_gain = np.zeros(max_nodes)
    count = np.zeros(max_nodes, dtype=np.int64)
    depth = np.zeros(max_nodes, dtype=np.int32)
    start = np.zeros(max_nodes, dtype=np.int64)
    sums = np.zeros((max_nodes, K))
    # Best split of each current leaf, found when the leaf is created.
    cand_gain = np.full(max_nodes, -np.inf)
    cand_feat = np.zeros(max_nodes, dtype=np.int64)
    cand_bin = np.zeros(max_nodes, dtype=np.int64)
    cand_mgl = np.zeros(max_nodes, dtype=np.bool_)
    cand_left = np.zeros((max_nodes, K))
    cand_pg = np.zeros((max_nodes, p))
    # Categorical splits: the winning candidate's bitset, and each split node's.
    cand_cat = np.zeros(max_nodes, dtype=np.bool_)
    cand_bits = np.zeros((max_nodes, N_WORDS), dtype=np.uint32)
    is_cat = np.zeros(max_nodes, dtype=np.bool_)
    cat_bits = np.zeros((max_nodes, N_WORDS), dtype=np.uint32)
    cat_left = np.empty(K)
    cat_pg = np.empty(p)
    # Bounds of each node's values under monotone constraints (`sign`, (d, p) or empty).
    lower = np.full((max_nodes, p), -np.inf)
    upper = np.full((max_nodes, p), np.inf)
    tmp = np.empty(m, dtype=np.int32)
    # Histogram slots (at most one per splittable leaf), grown on demand; block partials
    # only when there are fewer features than threads.
    slot = np.full(max_nodes, -1, dtype=np.int64)
    pool = np.empty((min(max_leaves, 4), d, missing_bin + 1, K))
    free = np.empty(max_leaves + 1, dtype=np.int64)
    n_free = 0
    n_used = 0
    partials = np.empty((n_threads if features.size < n_threads else 0,) + pool.shape[1:])
    check = np.empty(2, dtype=np.int64)

    min_split = 2 * min_samples_leaf
    count[0] = m
    n_nodes = 1
    n_leaves = 1
    n_check = 0
    if max_depth > 0 and m >= min_split and max_leaves > 1 and features.size > 0:
        pool, slot[0], n_used, n_free = _take_slot(pool, n_used, free, n_free)
        build_histogram(
            binned, part, start[0], count[0], features, vals, pool[slot[0]], partials, n_threads
        )
        # The root sums are any one feature's histogram summed over its bins.
        sums[0] = pool[slot[0], features[0]].sum(axis=0)
        check[0] = 0
        n_check = 1
    else:
        node_sums(part, 0, m, vals, sums[0])
    while True:
        for k in range(n_check):
            c = check[k]
            cand_gain[c], cand_feat[c], cand_bin[c], cand_mgl[c] = find_best_split(
                pool[slot[c]], num_features, n_bins_nm, missing_bin, sums[c], p, matrix, l2,
                min_samples_leaf, min_gain, sign, lower[c], upper[c], cand_left[c], cand_pg[c],
                prior,
            )  # fmt: skip
            cand_cat[c] = False
            if cat_features.size > 0:
                g, cf, cm = find_best_categorical_split(
                    pool[slot[c]], cat_features, n_bins_nm, missing_bin, sums[c], p, matrix,
                    l2, min_samples_leaf, min_gain, cat_left, cat_pg, cand_bits[c], prior,
                )  # fmt: skip
                # Strictly better: on a tie the numeric split is kept.
                if g > cand_gain[c]:
                    cand_gain[c], cand_feat[c], cand_bin[c], cand_mgl[c] = g, cf, 0, cm
                    cand_left[c] = cat_left
                    cand_pg[c] = cat_pg
                    cand_cat[c] = True
        if n_leaves >= max_leaves:
            break
        best = -1
        best_gain = -np.inf
        for nd in range(n_nodes):
            if left[nd] == -1 and cand_gain[nd] > best_gain:
                best_gain = cand_gain[nd]
                best = nd
        if best < 0:
            break
        f = cand_feat[best]
        s = start[best]
        e = s + count[best]
        if cand_cat[best]:
            nl = _partition_bits(binned[:, f], part, s, e, cand_bits[best], tmp)
            is_cat[best] = True
            cat_bits[best] = cand_bits[best]
        else:
            nl = _partition(
                binned[:, f], part, s, e, cand_bin[best], cand_mgl[best], missing_bin, tmp
            )
        lc = n_nodes
        rc = n_nodes + 1
        n_nodes += 2
        n_leaves += 1
        feature[best] = f
        bin_thr[best] = cand_bin[best]
        mgl[best] = cand_mgl[best]
        left[best] = lc
        right[best] = rc
        split_gain[best] = best_gain
        gain[best] = cand_pg[best]
        cand_gain[best] = -np.inf
        sums[lc] = cand_left[best]
        sums[rc] = sums[best] - sums[lc]
        if sign.shape[0] > 0:
            child_bounds(
                sums[lc], sums[rc], p, matrix, l2, sign[f], lower[best], upper[best],
                lower[lc], upper[lc], lower[rc], upper[rc], prior,
            )  # fmt: skip
        start[lc], count[lc] = s, nl
        start[rc], count[rc] = s + nl, e - s - nl
        depth[lc] = depth[rc] = depth[best] + 1
        # Children get histograms only when one of them may still be split.
        small = lc if nl <= e - s - nl else rc
        large = rc if small == lc else lc
        ps = slot[best]
        slot[best] = -1
        n_check = 0
        for c in (small, large):
            if depth[c] < max_depth and count[c] >= min_split and n_leaves < max_leaves:
                check[n_check] = c
                n_check += 1
        if n_check == 0:
            free[n_free] = ps
            n_free += 1
            continue
        if n_check == 1 and check[0] == small:
            # Only the smaller child is needed: built in the parent's slot.
            slot[small] = ps
        else:
            # Smaller child built; the larger one is parent minus it, in the parent's slot.
            pool, ns, n_used, n_free = _take_slot(pool, n_used, free, n_free)
            slot[small] = ns
            slot[large] = ps
        build_histogram(
            binned, part, start[small], start[small] + count[small], features, vals,
            pool[slot[small]], partials, n_threads,
        )  # fmt: skip
        if slot[large] >= 0:
            subtract_histograms(pool[ps], pool[slot[small]], features)
            if check[0] != small:
                free[n_free] = slot[small]
                n_free += 1
                slot[small] = -1

    # Leaves, their values and the leaf of every row.
    work = np.empty((p, p))
    z = np.empty(p)
    leaf_index = np.empty(n_leaves, dtype=np.int32)
    node_leaf = np.full(n_nodes, -1, dtype=np.int32)
    leaf_values = np.empty((n_leaves, p))
    n_l = 0
    for nd in range(n_nodes):
        if sign.shape[0] > 0:
            clipped_value(sums[nd], p, matrix, l2, lower[nd], upper[nd], work, z, value[nd], prior)
        else:
            leaf_value(sums[nd], p, matrix, l2, work, z, value[nd], prior)
        if left[nd] == -1:
            leaf_index[n_l] = nd
            node_leaf[nd] = n_l
            leaf_values[n_l] = value[nd]
            n_l += 1
    leaf_of_row = np.empty(n, dtype=np.int32)
    if traverse_rest:
        leaf_of_row[:] = -1
    for lf in range(n_leaves):
        nd = leaf_index[lf]
        for ii in range(start[nd], start[nd] + count[nd]):
            leaf_of_row[part[ii]] = lf
    if traverse_rest:
        cat_index = np.where(is_cat, np.arange(max_nodes), -1).astype(np.int32)
        _traverse_unassigned(
            binned, leaf_of_row, feature, bin_thr, mgl, left, right, node_leaf, missing_bin,
            cat_index, cat_bits,
        )  # fmt: skip
    return (
        n_nodes, feature, bin_thr, mgl, left, right, value, gain, split_gain, count, depth,
        leaf_index, leaf_values, is_cat, cat_bits, leaf_of_row,
    )  # fmt: skip


@njit(cache=True, nogil=True, parallel=True)
def add_leaf_values(theta, leaf_values, leaf_of_row, scale):
    """``theta[i] += scale * leaf_values[leaf_of_row[i]]`` in place, parallel over rows.

    The stage update without numpy's fancy-indexing temporary.

    Parameters
    ----------
    theta : ndarray of shape (n, p), float64
        Parameters, updated in place.
    leaf_values : ndarray of shape (n_leaves, p), float64
    leaf_of_row : ndarray of shape (n,), int32
    scale : float
        ``-eta * rho`` for the boosting update.
    """
    p = theta.shape[1]
    for i in prange(theta.shape[0]):
        lf = leaf_of_row[i]
        for k in range(p):
            theta[i, k] += scale * leaf_values[lf, k]
