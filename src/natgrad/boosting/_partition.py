"""Row partition, binned traversal and the stage update of the tree grower.

Each node's rows are a contiguous slice of one index array (as in LightGBM and
scikit-learn's histogram GBM); a split reorders its node's slice in place, stably.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._predictor import leaf_of_binned_row

__all__ = [
    "add_leaf_values",
    "bitset_sides",
    "partition",
    "take_slot",
    "threshold_sides",
    "traverse_unassigned",
]


@njit(nogil=True)
def threshold_sides(t, mgl, missing_bin, sides):
    """Fill ``sides`` (n_bins,) uint8 with 1 for the bins a numeric split sends left:
    ``b <= t``, and the missing-value bin when ``mgl``."""
    for b in range(sides.shape[0]):
        sides[b] = (b <= t) | (mgl & (b == missing_bin))


@njit(nogil=True)
def bitset_sides(bits, sides):
    """Fill ``sides`` (n_bins,) uint8 with 1 for the bins a categorical split sends left:
    bit ``b`` of ``bits`` set."""
    for b in range(sides.shape[0]):
        sides[b] = (bits[b >> 5] >> (b & 31)) & 1


@njit(nogil=True)
def partition(col, part, start, stop, sides, tmp):
    # Stable: both children keep increasing row order. Left rows are compacted in place
    # (the write index never passes the read index), right rows go through `tmp`.
    # Branch-free: the row is written to both places and only one cursor advances (a
    # random split would mispredict half of the branches). ``sides[b]`` (from
    # `threshold_sides` or `bitset_sides`) is 1 where bin b goes left: one loop for
    # numeric and categorical splits.
    n_left = 0
    n_right = 0
    for ii in range(start, stop):
        r = part[ii]
        go = np.int64(sides[col[r]])
        part[start + n_left] = r
        tmp[n_right] = r
        n_left += go
        n_right += 1 - go
    for k in range(n_right):
        part[start + n_left + k] = tmp[k]
    return n_left


@njit(cache=True, nogil=True, parallel=True)
def traverse_unassigned(
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
def take_slot(pool, n_used, free, n_free):
    # A free histogram slot: a recycled one, else the next one of the pool (grown x2).
    if n_free > 0:
        return pool, free[n_free - 1], n_used, n_free - 1
    if n_used == pool.shape[0]:
        bigger = np.empty((2 * pool.shape[0],) + pool.shape[1:])
        bigger[:n_used] = pool
        pool = bigger
    return pool, n_used, n_used + 1, n_free


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
