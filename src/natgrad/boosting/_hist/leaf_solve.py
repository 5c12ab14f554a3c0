"""The leaf solve: a node's value and score from its channel sums.

For a set of rows with gradient sums ``G`` (p,) and metric sums ``H`` (p, p) -- in scalar
mode ``H = W I`` with ``W`` the weight sum -- the leaf value and the score are

    value(G, H) = (H + lambda I)^{-1} G,        score(G, H) = G^T (H + lambda I)^{-1} G,

and the gain of a split is ``score(left) + score(right) - score(parent)`` (the usual factor
1/2 is dropped everywhere). In scalar mode the score is the decrease of the weighted sum of
squares of the per-row targets ``g_i`` when a node predicts its weighted mean.

Damping. ``H + lambda I`` is factored by Cholesky; when a pivot is not above ``1e-12 s``
(``s`` the largest diagonal entry, NaN included), the factorisation is retried on
``H + (lambda + tau) I`` with ``tau = 1e-10 s, 1e-8 s, ..., s``. When ``s <= 0`` (no
curvature at all) or every retry fails, the value and the score are zero: the solve never
raises.

Leaf prior (docs/design.md, "Leaf prior"). With ``prior = kappa > 0`` every node also
carries ``kappa`` pseudo-rows of its own mean metric ``H / n`` (``n`` its row count, channel
``K - 1``) as a zero-mean prior on its value: ``H`` becomes ``H / f`` with the shrinkage
``f = n / (n + kappa)``, so

    value = f (H + f lambda I)^{-1} G,        score = f G^T (H + f lambda I)^{-1} G.

The prior is scale-free (it moves with the units of ``y`` and with any linear
reparameterisation, unlike ``lambda I``); it shrinks small nodes most, in the gains as in the
values. ``kappa = 0`` is the plain solve.

Per-parameter gains (for importances): for parameter ``k`` the gain
``G_Lk^2 / (H_L,kk + lambda) + G_Rk^2 / (H_R,kk + lambda) - G_Pk^2 / (H_P,kk + lambda)``,
which in scalar mode adds up to the split gain.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .common import FASTMATH

__all__ = ["leaf_value", "param_gains", "score"]

_PIVOT_RTOL = 1e-12
_N_DAMPING = 7  # tau = 0, then 1e-10 s, 1e-8 s, ..., s


@njit(nogil=True, fastmath=FASTMATH)
def _packed(i, j, p):
    # Index of entry (i, j), i <= j, in the row-by-row upper triangle (numpy.triu_indices).
    return i * p - (i * (i - 1)) // 2 + (j - i)


@njit(nogil=True, fastmath=FASTMATH)
def _shrink(sums, prior):
    """``f = n / (n + prior)`` of a node (``n`` its count, the last channel); 1 without prior."""
    if not prior > 0.0:
        return 1.0
    n = sums[sums.shape[0] - 1]
    return n / (n + prior) if n > 0.0 else 1.0


@njit(nogil=True, fastmath=FASTMATH)
def _max_diag(sums, p, matrix, l2):
    if not matrix:
        return sums[p] + l2
    s = -np.inf
    for k in range(p):
        d = sums[p + _packed(k, k, p)] + l2
        if not d <= s:  # also picks up NaN
            s = d
    return s


@njit(nogil=True, fastmath=FASTMATH)
def _cholesky_solve(sums, p, ridge, tol, work, z, out, want_value):
    """Solve ``(H + ridge I) x = G`` by Cholesky; False when a pivot is not above ``tol``.

    ``z`` receives ``L^{-1} G`` (so the score is ``z . z``); ``out`` the solution when
    ``want_value``. ``work`` is (p, p) scratch for the factor.
    """
    for i in range(p):
        for j in range(i, p):
            a = sums[p + _packed(i, j, p)]
            if i == j:
                a += ridge
            for k in range(i):
                a -= work[i, k] * work[j, k]
            if i == j:
                if not a > tol:
                    return False
                work[i, i] = np.sqrt(a)
            else:
                work[j, i] = a / work[i, i]
    for i in range(p):
        a = sums[i]
        for k in range(i):
            a -= work[i, k] * z[k]
        z[i] = a / work[i, i]
    if want_value:
        for i in range(p - 1, -1, -1):
            a = z[i]
            for k in range(i + 1, p):
                a -= work[k, i] * out[k]
            out[i] = a / work[i, i]
    return True


@njit(nogil=True, fastmath=FASTMATH)
def _small_solve(sums, p, ridge, tol, out, want_value):
    """Closed-form Cholesky for p = 1, 2 (same pivots as `_cholesky_solve`); score or -1."""
    g0 = sums[0]
    a = sums[p] + ridge
    if not a > tol:
        return -1.0
    if p == 1:
        if want_value:
            out[0] = g0 / a
        return g0 * g0 / a
    b = sums[p + 1]
    g1 = sums[1]
    piv = sums[p + 2] + ridge - b * b / a
    if not piv > tol:
        return -1.0
    r1 = g1 - b * g0 / a  # second component of L^{-1} G, times sqrt(piv)
    if want_value:
        out[1] = r1 / piv
        out[0] = (g0 - b * out[1]) / a
    return g0 * g0 / a + r1 * r1 / piv


@njit(nogil=True, fastmath=FASTMATH)
def _score2(g0, g1, h00, h01, h11, l2):
    """Score of p = 2 without damping, or -1 when a pivot is not above the tolerance."""
    a = h00 + l2
    c = h11 + l2
    tol = _PIVOT_RTOL * max(a, c)
    if not a > tol:
        return -1.0
    piv = c - h01 * h01 / a
    if not piv > tol:
        return -1.0
    r1 = g1 - h01 * g0 / a
    return g0 * g0 / a + r1 * r1 / piv


@njit(nogil=True, fastmath=FASTMATH)
def _matrix_solve(sums, p, l2, work, z, out, want_value):
    s = _max_diag(sums, p, True, l2)
    if not s > 0.0:
        if want_value:
            out[:p] = 0.0
        return 0.0
    tol = _PIVOT_RTOL * s
    tau = 0.0
    for attempt in range(_N_DAMPING):
        if p <= 2:
            sc = _small_solve(sums, p, l2 + tau, tol, out, want_value)
            if sc >= 0.0:
                return sc
        elif _cholesky_solve(sums, p, l2 + tau, tol, work, z, out, want_value):
            sc = 0.0
            for k in range(p):
                sc += z[k] * z[k]
            return sc
        tau = s * 10.0 ** (2 * attempt - 10)
    if want_value:
        out[:p] = 0.0
    return 0.0


@njit(nogil=True, fastmath=FASTMATH)
def score(sums, p, matrix, l2, work, z, prior=0.0):
    """``G^T (H + lambda I)^{-1} G`` of one histogram cell or node.

    Parameters
    ----------
    sums : ndarray of shape (K,), float64
        Channel sums (see `natgrad.boosting._hist.histogram`).
    p : int
    matrix : bool
    l2 : float
        Ridge ``lambda``.
    work : ndarray of shape (p, p), float64
        Scratch (matrix mode, p > 2).
    z : ndarray of shape (p,), float64
        Scratch.
    prior : float, default=0.0
        Leaf prior ``kappa`` in pseudo-rows (module docstring); ``sums`` must then hold the
        count channel last.

    Returns
    -------
    score : float
    """
    f = _shrink(sums, prior)
    if matrix:
        return f * _matrix_solve(sums, p, f * l2, work, z, z, False)
    den = sums[p] + f * l2
    if not den > 0.0:
        return 0.0
    acc = 0.0
    for k in range(p):
        acc += sums[k] * sums[k]
    return f * acc / den


@njit(nogil=True, fastmath=FASTMATH)
def leaf_value(sums, p, matrix, l2, work, z, out, prior=0.0):
    """``(H + lambda I)^{-1} G`` into ``out`` (p,), damped as in the module docstring
    (``f (H + f lambda I)^{-1} G`` with a leaf prior)."""
    f = _shrink(sums, prior)
    if matrix:
        _matrix_solve(sums, p, f * l2, work, z, out, True)
        if f != 1.0:
            for k in range(p):
                out[k] *= f
        return
    den = sums[p] + f * l2
    for k in range(p):
        out[k] = f * sums[k] / den if den > 0.0 else 0.0


@njit(nogil=True, fastmath=FASTMATH)
def param_gains(left, right, parent, p, matrix, l2, out, prior=0.0):
    """Per-parameter gain decomposition of a split into ``out`` (p,)."""
    for k in range(p):
        acc = 0.0
        for which in range(3):
            s = left if which == 0 else (right if which == 1 else parent)
            f = _shrink(s, prior)
            den = (s[p + _packed(k, k, p)] if matrix else s[p]) + f * l2
            term = f * s[k] * s[k] / den if den > 0.0 else 0.0
            acc += -term if which == 2 else term
        out[k] = acc
