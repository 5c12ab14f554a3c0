"""Grow one histogram tree with vector leaves (one boosting stage).

The whole growth runs in one compiled call: the node histograms (smaller child built,
sibling by subtraction from the parent), the best split per node, the row partition (each
node's rows are a contiguous slice of one index array, as in LightGBM and scikit-learn's
histogram GBM), the leaf solves and the leaf of every row. Growth is best-first on split gain
up to ``max_leaves`` leaves and ``max_depth`` levels; with ``max_leaves`` unset the leaf budget
``2**max_depth`` can never bind, so the tree is exactly the depth-wise tree.

Leaf values approximate the per-row targets: ``value = (H + lambda I)^{-1} G`` (scalar metric:
the weighted mean ``G / (W + lambda)``), damped as in `natgrad.boosting._hist.splitting`; with a
leaf prior of ``kappa`` pseudo-rows, ``H`` is ``H (1 + kappa / n)`` in values and gains. The
caller updates ``theta <- theta - eta rho tree.leaf_values[leaf_of_row]``.
With ``monotonic_cst`` the leaf values are made monotone in the constrained features
(bounds per node, docs/design.md "Monotone constraints").
"""

from __future__ import annotations

# numba's cache is keyed on the source file of each cached function only: after editing a
# kernel imported here (histograms, splits, binned traversal), touch this file or delete
# __pycache__/*.nbi, or `_grow` keeps running the old compiled code.
from typing import NamedTuple

import numpy as np
from numba import get_num_threads, njit
from numpy.typing import ArrayLike, NDArray

from .common import N_WORDS, NodeArrays, Tree
from .grow_checks import (
    GrowPlan,
    _check_arrays,
    _check_channels,
    _check_diagonal,
    _check_features,
    _check_rows,
    _split_categorical,
    make_plan,
)
from .histogram import (
    build_histogram,
    fill_channels,
    n_channels,
    node_sums,
    subtract_histograms,
)
from .leaf_solve import leaf_value
from .partition import (
    bitset_sides,
    partition,
    take_slot,
    threshold_sides,
    traverse_unassigned,
)
from .split_categorical import find_best_categorical_split
from .split_diagonal import diagonal_layout, expand_diagonal, fill_diagonal_channels
from .split_monotone import child_bounds, clipped_value
from .splitting import find_best_split

__all__ = ["grow_planned", "grow_tree"]


def grow_tree(
    binned: NDArray[np.uint8],
    gradients: ArrayLike | None,
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
    metric_diagonal: ArrayLike | None = None,
    channels: NDArray[np.float64] | None = None,
) -> tuple[Tree, NDArray[np.int32]]:
    """Grow one vector-leaf tree on the per-row targets ``gradients``.

    Parameters
    ----------
    binned : ndarray of shape (n, d), uint8
        Bins from `BinMapper.transform`; Fortran order (another layout is copied, which
        costs a pass over the data every call).
    gradients : array-like of shape (n, p) or (n,), or None
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
        (`natgrad.boosting._hist.splitting`, docs/design.md "Leaf prior").
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
        (`natgrad.boosting._hist.split_categorical`). None: every feature is numeric.
    metric_diagonal : array-like of shape (p,), or None
        Set by a caller that knows every row's metric block to be diagonal (e.g. from the
        family's formulas): per parameter NaN when the diagonal entry varies across rows,
        else its value in every row (which must then be that of ``metric``, weights
        included). The histograms then carry fewer channels and the split scan is
        separable (`natgrad.boosting._hist.split_diagonal`); the tree is the same up to
        rounding. None, or with ``metric`` None or p = 1: the dense layout.
    channels : ndarray of shape (n, C), float64, or None
        The Fisher rule's histogram channel values written by the caller, for callers that
        compute the per-row gradient and metric in a compiled pass anyway (the fused stage
        kernels, `natgrad.boosting._training.stage`) and so save the copy into the histogram layout.
        With ``metric_diagonal`` (p > 1) the diagonal layout, ``C = p + n_varying``: the
        ``w_i g_i``, then the varying diagonal entries of ``w_i F_i`` in parameter order;
        without it the dense layout, ``C = p + p (p + 1) / 2``: ``w_i g_i``, then the packed
        ``w_i F_i``. ``gradients``, ``metric`` and ``sample_weight`` must then be None: the
        weights are in the channels. Rows outside ``rows`` are not read.

    Returns
    -------
    tree : Tree
    leaf_of_row : ndarray of shape (n,), int32
        Leaf number of every row: from the growth partition for the rows in ``rows``, by a
        binned traversal for the others.
    """
    if channels is not None:
        binned, vals, p, diag_layout = _check_channels(
            binned, channels, gradients, metric, sample_weight, metric_diagonal
        )
        matrix, sw = True, None  # the Fisher rule's layouts; weights are in the channels
    else:
        binned, grads, met, sw = _check_arrays(binned, gradients, metric, sample_weight)
        p = grads.shape[1]
        matrix = met is not None
        diag_layout = None
        if metric_diagonal is not None and matrix and p > 1:
            diag_layout = diagonal_layout(_check_diagonal(metric_diagonal, p))
    n = binned.shape[0]
    plan = make_plan(
        binned, p, matrix, diag_layout, max_depth=max_depth, max_leaves=max_leaves,
        min_samples_leaf=min_samples_leaf, l2_regularization=l2_regularization,
        leaf_prior=leaf_prior, min_gain_to_split=min_gain_to_split,
        n_bins_non_missing=n_bins_non_missing, missing_values_bin_idx=missing_values_bin_idx,
        bin_thresholds=bin_thresholds, monotonic_cst=monotonic_cst,
        is_categorical=is_categorical,
    )  # fmt: skip
    part = _check_rows(rows, n)
    if channels is None:
        if diag_layout is not None:
            columns = diag_layout[2]
            vals = np.empty((n, p + columns.size))  # count not stored
            fill_diagonal_channels(
                grads, _ONE if sw is None else sw, met, part, columns, sw is not None, vals
            )
        elif sw is None and not matrix:
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
    return grow_planned(plan, vals, part, rows is not None, feature_mask)


def grow_planned(
    plan: GrowPlan,
    vals: NDArray[np.float64],
    part: NDArray[np.int32],
    subsampled: bool,
    feature_mask: ArrayLike | None,
) -> tuple[Tree, NDArray[np.int32]]:
    """Grow one tree from a `GrowPlan` (`grow_checks.make_plan`) and its channel values.

    The trainer's per-stage entry: only what changes from tree to tree is passed, and only
    the feature mask is checked. ``vals`` (n, C) are the histogram channel values in the
    plan's layout (`grow_tree`'s ``channels``; for the scalar unweighted layout, the
    targets themselves), ``part`` the stage's rows, sorted, as a fresh int32 array that the
    growth reorders (`grow_checks._check_rows`), ``subsampled`` whether some rows are left
    out (their leaves are then found by a binned traversal).
    """
    d = plan.binned.shape[1]
    if feature_mask is None:
        features, num_features, cat_features = (
            plan.features, plan.num_features, plan.cat_features
        )  # fmt: skip
    else:
        features = _check_features(feature_mask, d)
        num_features, cat_features = _split_categorical(features, plan.is_categorical, d)
    n_leaves_cap = min(
        plan.max_leaves or plan.depth_cap,
        plan.depth_cap,
        max(1, part.size // plan.min_samples_leaf),
    )
    limits = GrowLimits(plan.max_depth, n_leaves_cap, subsampled, get_num_threads())
    feats = FeatureSets(features, num_features, cat_features)
    out = GrownTree._make(_grow(plan.binned, vals, part, feats, plan.split, limits))
    return _as_tree(out, plan.thresholds), out.leaf_of_row


class GrowLimits(NamedTuple):
    """Per-tree limits of `_grow`: depth, leaves, whether rows were left out (their leaves
    are then found by a binned traversal) and the number of threads."""

    max_depth: int
    max_leaves: int
    traverse_rest: bool
    n_threads: int


class FeatureSets(NamedTuple):
    """The features a tree may split on: all of them, the numeric and the categorical ones."""

    all: NDArray[np.int32]
    numeric: NDArray[np.int32]
    categorical: NDArray[np.int32]


class GrownTree(NamedTuple):
    """`_grow`'s result: node arrays at capacity size (``n_nodes`` in use), the leaves and
    the leaf of every row."""

    n_nodes: int
    feature: NDArray[np.int32]
    bin_threshold: NDArray[np.uint8]
    missing_go_left: NDArray[np.bool_]
    left: NDArray[np.int32]
    right: NDArray[np.int32]
    value: NDArray[np.float64]
    gain: NDArray[np.float64]
    split_gain: NDArray[np.float64]
    n_rows: NDArray[np.int64]  # training rows of the stage in each node
    depth: NDArray[np.int32]
    leaf_index: NDArray[np.int32]
    leaf_values: NDArray[np.float64]
    is_cat: NDArray[np.bool_]
    cat_bits: NDArray[np.uint32]
    leaf_of_row: NDArray[np.int32]


class _Nodes(NamedTuple):
    # The growing tree's per-node arrays (capacity max_nodes).
    feature: NDArray[np.int32]
    bin_thr: NDArray[np.uint8]
    mgl: NDArray[np.bool_]
    left: NDArray[np.int32]
    right: NDArray[np.int32]
    value: NDArray[np.float64]
    gain: NDArray[np.float64]
    split_gain: NDArray[np.float64]
    n_rows: NDArray[np.int64]
    depth: NDArray[np.int32]
    start: NDArray[np.int64]  # first row of the node in the partition
    sums: NDArray[np.float64]  # (max_nodes, K) dense channel sums
    lower: NDArray[np.float64]  # bounds of the values under monotone constraints
    upper: NDArray[np.float64]
    is_cat: NDArray[np.bool_]
    cat_bits: NDArray[np.uint32]


class _Candidates(NamedTuple):
    # Best split of each current leaf, found when the leaf is created.
    gain: NDArray[np.float64]
    feat: NDArray[np.int64]
    bin: NDArray[np.int64]
    mgl: NDArray[np.bool_]
    left: NDArray[np.float64]  # (max_nodes, K): sums of the left child
    pg: NDArray[np.float64]  # (max_nodes, p): per-parameter gains
    cat: NDArray[np.bool_]
    bits: NDArray[np.uint32]


# Placeholders for unused kernel inputs (no per-stage allocation).
_ONE = np.ones(1)
_NO_METRIC = np.zeros((1, 1))
_NO_THRESHOLD = np.zeros(0)


def _as_tree(out: GrownTree, thresholds) -> Tree:
    """Trim the capacity-sized node arrays of `_grow` and add the real thresholds
    (``thresholds``: the plan's (d, n_bins) table)."""
    n_nodes = out.n_nodes
    feature, bin_thr, mgl = (
        out.feature[:n_nodes],
        out.bin_threshold[:n_nodes],
        out.missing_go_left[:n_nodes],
    )
    left, right = out.left[:n_nodes], out.right[:n_nodes]
    value, gain, split_gain = out.value[:n_nodes], out.gain[:n_nodes], out.split_gain[:n_nodes]
    count, depth = out.n_rows[:n_nodes], out.depth[:n_nodes]
    is_cat = out.is_cat[:n_nodes]
    cat_index = cat_bitsets = None
    if is_cat.any():
        cat_index = np.full(n_nodes, -1, dtype=np.int32)
        cat_index[is_cat] = np.arange(int(is_cat.sum()), dtype=np.int32)
        cat_bitsets = np.ascontiguousarray(out.cat_bits[:n_nodes][is_cat])
    threshold = np.full(n_nodes, np.nan)
    split = (feature >= 0) & ~is_cat
    threshold[split] = thresholds[feature[split], bin_thr[split]]
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
        out.leaf_index,
        out.leaf_values,
        cat_index,
        cat_bitsets,
    )


@njit(nogil=True)
def _new_nodes(max_nodes, p, K):
    return _Nodes(
        np.full(max_nodes, -1, dtype=np.int32),
        np.zeros(max_nodes, dtype=np.uint8),
        np.zeros(max_nodes, dtype=np.bool_),
        np.full(max_nodes, -1, dtype=np.int32),
        np.full(max_nodes, -1, dtype=np.int32),
        np.zeros((max_nodes, p)),
        np.zeros((max_nodes, p)),
        np.zeros(max_nodes),
        np.zeros(max_nodes, dtype=np.int64),
        np.zeros(max_nodes, dtype=np.int32),
        np.zeros(max_nodes, dtype=np.int64),
        np.zeros((max_nodes, K)),
        np.full((max_nodes, p), -np.inf),
        np.full((max_nodes, p), np.inf),
        np.zeros(max_nodes, dtype=np.bool_),
        np.zeros((max_nodes, N_WORDS), dtype=np.uint32),
    )


@njit(nogil=True)
def _new_candidates(max_nodes, p, K):
    return _Candidates(
        np.full(max_nodes, -np.inf),
        np.zeros(max_nodes, dtype=np.int64),
        np.zeros(max_nodes, dtype=np.int64),
        np.zeros(max_nodes, dtype=np.bool_),
        np.zeros((max_nodes, K)),
        np.zeros((max_nodes, p)),
        np.zeros(max_nodes, dtype=np.bool_),
        np.zeros((max_nodes, N_WORDS), dtype=np.uint32),
    )


@njit(nogil=True)
def _search(hist, c, nodes, cand, feats, sp, cat_hist, cat_left, cat_pg):
    """Best split of node ``c`` from its histogram ``hist`` into ``cand[c]``: the numeric
    scan, then the categorical one, which wins only when strictly better."""
    p, missing_bin = sp.p, sp.missing_bin
    best_c = find_best_split(
        hist, feats.numeric, nodes.sums[c], nodes.lower[c], nodes.upper[c], cand.left[c],
        cand.pg[c], sp,
    )  # fmt: skip
    cand.gain[c], cand.feat[c], cand.bin[c], cand.mgl[c] = best_c
    cand.cat[c] = False
    if feats.categorical.size == 0:
        return
    cat_h = hist
    if sp.diag_map.size > 0:
        for cf in feats.categorical:
            for b in range(missing_bin + 1):
                expand_diagonal(hist[cf, b], p, sp.diag_map, sp.diag_const, cat_hist[cf, b])
        cat_h = cat_hist
    g, cf, cm = find_best_categorical_split(
        cat_h, feats.categorical, sp.n_bins_non_missing, missing_bin, nodes.sums[c], p,
        sp.matrix, sp.l2, sp.min_samples_leaf, sp.min_gain, cat_left, cat_pg, cand.bits[c],
        sp.prior,
    )  # fmt: skip
    # Strictly better: on a tie the numeric split is kept.
    if g > cand.gain[c]:
        cand.gain[c], cand.feat[c], cand.bin[c], cand.mgl[c] = g, cf, 0, cm
        cand.left[c] = cat_left
        cand.pg[c] = cat_pg
        cand.cat[c] = True


@njit(nogil=True)
def _split(best, best_gain, lc, binned, part, nodes, cand, sp, sides, tmp):
    """Split leaf ``best`` by its candidate into the children ``lc`` and ``lc + 1``: the
    row partition, the children's sums, bounds, rows and depths."""
    rc = lc + 1
    f = cand.feat[best]
    s = nodes.start[best]
    e = s + nodes.n_rows[best]
    if cand.cat[best]:
        bitset_sides(cand.bits[best], sides)
        nodes.is_cat[best] = True
        nodes.cat_bits[best] = cand.bits[best]
    else:
        threshold_sides(cand.bin[best], cand.mgl[best], sp.missing_bin, sides)
    nl = partition(binned[:, f], part, s, e, sides, tmp)
    nodes.feature[best] = f
    nodes.bin_thr[best] = cand.bin[best]
    nodes.mgl[best] = cand.mgl[best]
    nodes.left[best] = lc
    nodes.right[best] = rc
    nodes.split_gain[best] = best_gain
    nodes.gain[best] = cand.pg[best]
    cand.gain[best] = -np.inf
    sums = nodes.sums
    sums[lc] = cand.left[best]
    sums[rc] = sums[best] - sums[lc]
    if sp.sign.shape[0] > 0:
        lower, upper = nodes.lower, nodes.upper
        child_bounds(
            sums[lc], sums[rc], sp.p, sp.matrix, sp.l2, sp.sign[f], lower[best], upper[best],
            lower[lc], upper[lc], lower[rc], upper[rc], sp.prior,
        )  # fmt: skip
    nodes.start[lc], nodes.n_rows[lc] = s, nl
    nodes.start[rc], nodes.n_rows[rc] = s + nl, e - s - nl
    nodes.depth[lc] = nodes.depth[rc] = nodes.depth[best] + 1


@njit(nogil=True)
def _finish(n_nodes, n_leaves, nodes, sp, binned, part, traverse_rest):
    """Every node's value, the leaves and the leaf of every row (by the partition for the
    grown rows, by a binned traversal for the rows left out)."""
    p = sp.p
    work = np.empty((p, p))
    z = np.empty(p)
    leaf_index = np.empty(n_leaves, dtype=np.int32)
    node_leaf = np.full(n_nodes, -1, dtype=np.int32)
    leaf_values = np.empty((n_leaves, p))
    n_l = 0
    for nd in range(n_nodes):
        if sp.sign.shape[0] > 0:
            clipped_value(
                nodes.sums[nd], p, sp.matrix, sp.l2, nodes.lower[nd], nodes.upper[nd], work, z,
                nodes.value[nd], sp.prior,
            )  # fmt: skip
        else:
            leaf_value(nodes.sums[nd], p, sp.matrix, sp.l2, work, z, nodes.value[nd], sp.prior)
        if nodes.left[nd] == -1:
            leaf_index[n_l] = nd
            node_leaf[nd] = n_l
            leaf_values[n_l] = nodes.value[nd]
            n_l += 1
    leaf_of_row = np.empty(binned.shape[0], dtype=np.int32)
    if traverse_rest:
        leaf_of_row[:] = -1
    for lf in range(n_leaves):
        nd = leaf_index[lf]
        for ii in range(nodes.start[nd], nodes.start[nd] + nodes.n_rows[nd]):
            leaf_of_row[part[ii]] = lf
    if traverse_rest:
        max_nodes = nodes.is_cat.shape[0]
        cat_index = np.where(nodes.is_cat, np.arange(max_nodes), -1).astype(np.int32)
        walk = NodeArrays(
            nodes.feature, _NO_THRESHOLD, nodes.bin_thr, nodes.mgl, nodes.left, nodes.right,
            cat_index, nodes.cat_bits, sp.missing_bin,
        )  # fmt: skip
        traverse_unassigned(binned, leaf_of_row, walk, node_leaf)
    return leaf_index, leaf_values, leaf_of_row


@njit(cache=True, nogil=True)
def _grow(binned, vals, part, feats, sp, limits):
    """Compiled growth; see `grow_tree`. ``feats``: `FeatureSets`; ``sp``: `SplitParams`;
    ``limits``: `GrowLimits`. Returns the fields of a `GrownTree` (node arrays at capacity
    size) as a plain tuple: boxing a named tuple runs its Python ``__new__``, where a Ctrl-C
    arriving at that moment crashed the interpreter (a segmentation fault in numba's boxing);
    the caller wraps it.
    ``sp.diag_map`` non-empty: the histograms have the diagonal layout (`split_diagonal`),
    the node sums (``K`` channels) stay dense.

    The loop over splits stays whole: it owns the histogram pool, which `take_slot` may
    reallocate, and the slots of the nodes still to be searched.
    """
    n, d = binned.shape
    m = part.size
    p, missing_bin = sp.p, sp.missing_bin
    max_depth, max_leaves, n_threads = limits.max_depth, limits.max_leaves, limits.n_threads
    features = feats.all
    Kh = vals.shape[1] + 1  # histogram channels
    diag = sp.diag_map.size > 0
    K = p + p * (p + 1) // 2 + 1 if diag else Kh
    max_nodes = 2 * max_leaves - 1
    nodes = _new_nodes(max_nodes, p, K)
    cand = _new_candidates(max_nodes, p, K)
    cat_left = np.empty(K)
    cat_pg = np.empty(p)
    tmp = np.empty(m, dtype=np.int32)
    sides = np.empty(missing_bin + 1, dtype=np.uint8)  # 1: the bin goes left (`partition`)
    # Histogram slots (at most one per splittable leaf), grown on demand. No row-block
    # partials: their sums would round by the thread count, and the trees must not depend
    # on it (`n_jobs` sets the time of a fit, never its model).
    slot = np.full(max_nodes, -1, dtype=np.int64)
    pool = np.empty((min(max_leaves, 4), d, missing_bin + 1, Kh))
    free = np.empty(max_leaves + 1, dtype=np.int64)
    n_free = 0
    n_used = 0
    partials = np.empty((0,) + pool.shape[1:])
    check = np.empty(2, dtype=np.int64)
    h_sums = np.empty(Kh)
    # Dense copies of the categorical features' histograms (diagonal layout only).
    cat_hist = np.zeros((d if diag and feats.categorical.size > 0 else 0, missing_bin + 1, K))
    count, start, depth, left = nodes.n_rows, nodes.start, nodes.depth, nodes.left

    min_split = 2 * sp.min_samples_leaf
    count[0] = m
    n_nodes = 1
    n_leaves = 1
    n_check = 0
    if max_depth > 0 and m >= min_split and max_leaves > 1 and features.size > 0:
        pool, slot[0], n_used, n_free = take_slot(pool, n_used, free, n_free)
        # Without row subsampling the root's rows are 0 .. n-1 in order (`_check_rows`).
        build_histogram(
            binned, part, start[0], count[0], features, vals, pool[slot[0]], partials, n_threads,
            not limits.traverse_rest,
        )  # fmt: skip
        # The root sums are any one feature's histogram summed over its bins.
        h_sums[:] = pool[slot[0], features[0]].sum(axis=0)
        check[0] = 0
        n_check = 1
    else:
        node_sums(part, 0, m, vals, h_sums)
    if diag:
        expand_diagonal(h_sums, p, sp.diag_map, sp.diag_const, nodes.sums[0])
    else:
        nodes.sums[0] = h_sums
    while True:
        for k in range(n_check):
            c = check[k]
            _search(pool[slot[c]], c, nodes, cand, feats, sp, cat_hist, cat_left, cat_pg)
        if n_leaves >= max_leaves:
            break
        best = -1
        best_gain = -np.inf
        for nd in range(n_nodes):
            if left[nd] == -1 and cand.gain[nd] > best_gain:
                best_gain = cand.gain[nd]
                best = nd
        if best < 0:
            break
        lc = n_nodes
        rc = n_nodes + 1
        _split(best, best_gain, lc, binned, part, nodes, cand, sp, sides, tmp)
        n_nodes += 2
        n_leaves += 1
        # Children get histograms only when one of them may still be split.
        small = lc if count[lc] <= count[rc] else rc
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
            pool, ns, n_used, n_free = take_slot(pool, n_used, free, n_free)
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

    leaf_index, leaf_values, leaf_of_row = _finish(
        n_nodes, n_leaves, nodes, sp, binned, part, limits.traverse_rest
    )
    return (
        n_nodes, nodes.feature, nodes.bin_thr, nodes.mgl, nodes.left, nodes.right, nodes.value,
        nodes.gain, nodes.split_gain, nodes.n_rows, nodes.depth, leaf_index, leaf_values,
        nodes.is_cat, nodes.cat_bits, leaf_of_row,
    )  # fmt: skip
