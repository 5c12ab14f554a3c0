"""The descent fallback of the ``"ngboost"`` leaf rule: Fisher leaf values on the same tree.

The ``"ngboost"`` rule fits each leaf the mean of the per-row natural gradients
``d_i = F_i^{-1} g_i``. The leaf's first-order change of the loss along ``-v`` is
``-(sum_i g_i)^T v``, and nothing makes it negative: when the rows of a leaf have Fisher
information of very different size, the rows with the smallest ``F_i`` have the largest
``d_i`` and set the mean. (Student's t near the Normal limit: the Fisher entry of ``log df`` is
about ``3.5 / df^2``, so a row at ``df = 1e8`` asks for a ``log df`` step of order ``1e7``,
which the other rows of its leaf cannot take.) The line search then finds no step that lowers
the loss, and since nothing changes, every later stage proposes the same tree again.

When that happens the stage re-solves the same tree's leaves by the ``"fisher"`` rule,

    v_L = (sum_{i in L} w_i F_i + lambda I)^{-1} sum_{i in L} w_i g_i,

whose first-order change ``-G_L^T (H_L + lambda I)^{-1} G_L`` is never positive: a descent
direction whenever the gradient is not zero on every leaf (docs/design.md, "Leaf prior").
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

from natgrad._typing import Array
from natgrad.boosting._hist.leaf_solve import leaf_value

__all__ = ["fisher_leaf_values"]


@njit(cache=True, nogil=True)
def _leaf_sums(gradients, packed, leaf_of_row, rows, n_leaves):  # pragma: no cover - compiled
    n, p = gradients.shape
    q = packed.shape[1]
    sums = np.zeros((n_leaves, p + q + 1))
    m = n if rows.size == 0 else rows.size
    for ii in range(m):
        i = ii if rows.size == 0 else rows[ii]
        lf = leaf_of_row[i]
        for k in range(p):
            sums[lf, k] += gradients[i, k]
        for k in range(q):
            sums[lf, p + k] += packed[i, k]
        sums[lf, p + q] += 1.0
    return sums


@njit(cache=True, nogil=True)
def _solve_leaves(sums, p, l2, prior):  # pragma: no cover - compiled
    n_leaves = sums.shape[0]
    out = np.zeros((n_leaves, p))
    work = np.empty((p, p))
    z = np.empty(p)
    for lf in range(n_leaves):
        leaf_value(sums[lf], p, True, l2, work, z, out[lf], prior)
    return out


def fisher_leaf_values(
    gradients: Array,
    packed_metric: Array,
    leaf_of_row: NDArray[np.int32],
    n_leaves: int,
    rows: NDArray[np.int32] | None,
    l2_regularization: float,
    leaf_prior: float,
) -> Array:
    """``"fisher"`` leaf values of a grown tree, damped as its leaves would be.

    Parameters
    ----------
    gradients : ndarray of shape (n, p)
        Weighted per-row gradients ``w_i g_i``.
    packed_metric : ndarray of shape (n, p (p + 1) / 2)
        Weighted metric blocks ``w_i F_i``, upper triangles row by row.
    leaf_of_row : ndarray of shape (n,), int32
        Leaf of every row.
    n_leaves : int
    rows : ndarray of shape (m,), int32, or None
        The stage's rows (row subsampling); None: every row.
    l2_regularization, leaf_prior : float
        As for `natgrad.boosting._hist.grower.grow_tree`.

    Returns
    -------
    values : ndarray of shape (n_leaves, p)
    """
    grads = np.ascontiguousarray(gradients, dtype=np.float64)
    packed = np.ascontiguousarray(packed_metric, dtype=np.float64)
    part = np.empty(0, dtype=np.int32) if rows is None else np.asarray(rows, dtype=np.int32)
    sums = _leaf_sums(grads, packed, np.asarray(leaf_of_row, dtype=np.int32), part, n_leaves)
    return _solve_leaves(sums, grads.shape[1], float(l2_regularization), float(leaf_prior))
