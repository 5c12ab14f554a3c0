"""Monotone constraints on the leaf values: clipped values, the order test, child bounds.

Monotone constraints (docs/design.md): a node carries bounds ``[lower, upper]`` on its
values; the constrained scan (`natgrad.boosting._hist.splitting`, the running-sum scan with
``monotone=True``) clips both children's values into them (`clipped_value`), scores a node
of value ``v`` by ``2 G^T v - v^T (H + lambda I) v`` (equal to `score` when nothing is
clipped) and rejects splits whose children are out of order (`out_of_order`);
`child_bounds` passes the mid-point of the two children down as their new bounds.

The leaf solve itself is `natgrad.boosting._hist.leaf_solve`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .common import FASTMATH
from .leaf_solve import _packed, _shrink, leaf_value

__all__ = ["child_bounds", "clipped_value", "out_of_order"]


@njit(nogil=True, fastmath=FASTMATH)
def _quadratic_score(sums, p, matrix, l2, v, prior=0.0):
    """``2 G^T v - v^T (H / f + lambda I) v``: the decrease of the node's quadratic model of
    the loss (leaf prior included) when it takes the value ``v``; equal to `score` at the
    `leaf_value`."""
    inv_f = 1.0 / _shrink(sums, prior)
    acc = 0.0
    for i in range(p):
        acc += 2.0 * sums[i] * v[i]
    if not matrix:
        return acc - (inv_f * sums[p] + l2) * np.sum(v[:p] * v[:p])
    for i in range(p):
        hv = l2 * v[i]
        for j in range(p):
            a, b = (i, j) if i <= j else (j, i)
            hv += inv_f * sums[p + _packed(a, b, p)] * v[j]
        acc -= v[i] * hv
    return acc


@njit(nogil=True, fastmath=FASTMATH)
def clipped_value(sums, p, matrix, l2, lower, upper, work, z, out, prior=0.0):
    """`leaf_value` clipped into ``[lower, upper]`` component-wise; returns its
    `_quadratic_score` (the score of a node under monotone constraints)."""
    leaf_value(sums, p, matrix, l2, work, z, out, prior)
    for k in range(p):
        out[k] = min(max(out[k], lower[k]), upper[k])
    return _quadratic_score(sums, p, matrix, l2, out, prior)


@njit(nogil=True, fastmath=FASTMATH)
def out_of_order(vl, vr, sign, p):
    """True when a component ``k`` with ``sign[k] = +1`` has the left value ``vl[k]`` above
    the right one ``vr[k]`` (``-1``: below): the split would break a constraint."""
    bad = False
    for k in range(p):
        if (sign[k] > 0 and vl[k] > vr[k]) or (sign[k] < 0 and vl[k] < vr[k]):
            bad = True
    return bad


@njit(nogil=True, fastmath=FASTMATH)
def child_bounds(
    left_sums, right_sums, p, matrix, l2, sign, lower, upper, lo_l, hi_l, lo_r, hi_r, prior=0.0
):
    """Bounds of the children of a split under monotone constraints.

    The children inherit the node's ``[lower, upper]``; for a component ``k`` with
    ``sign[k] = +1`` the left child's upper bound and the right child's lower bound become the
    mid-point of the two (clipped) child values (``-1``: the other way round), so that every
    later leaf on the left stays at or below every later leaf on the right.
    """
    work = np.empty((p, p))
    z = np.empty(p)
    vl = np.empty(p)
    vr = np.empty(p)
    clipped_value(left_sums, p, matrix, l2, lower, upper, work, z, vl, prior)
    clipped_value(right_sums, p, matrix, l2, lower, upper, work, z, vr, prior)
    for k in range(p):
        lo_l[k] = lo_r[k] = lower[k]
        hi_l[k] = hi_r[k] = upper[k]
        mid = 0.5 * (vl[k] + vr[k])
        if sign[k] > 0:
            hi_l[k] = min(hi_l[k], mid)
            lo_r[k] = max(lo_r[k], mid)
        elif sign[k] < 0:
            lo_l[k] = max(lo_l[k], mid)
            hi_r[k] = min(hi_r[k], mid)
