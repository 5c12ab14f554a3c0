"""Best split of a node from its histogram, and the leaf solve.

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

Per-parameter gains (for importances): for parameter ``k`` the gain
``G_Lk^2 / (H_L,kk + lambda) + G_Rk^2 / (H_R,kk + lambda) - G_Pk^2 / (H_P,kk + lambda)``,
which in scalar mode adds up to the split gain.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._histogram import FASTMATH

__all__ = ["find_best_split", "leaf_value", "param_gains", "score"]

_PIVOT_RTOL = 1e-12
_N_DAMPING = 7  # tau = 0, then 1e-10 s, 1e-8 s, ..., s


@njit(nogil=True, fastmath=FASTMATH)
def _packed(i, j, p):
    # Index of entry (i, j), i <= j, in the row-by-row upper triangle (numpy.triu_indices).
    return i * p - (i * (i - 1)) // 2 + (j - i)


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
def score(sums, p, matrix, l2, work, z):
    """``G^T (H + lambda I)^{-1} G`` of one histogram cell or node.

    Parameters
    ----------
    sums : ndarray of shape (K,), float64
        Channel sums (see `natgrad.boosting._histogram`).
    p : int
    matrix : bool
    l2 : float
        Ridge ``lambda``.
    work : ndarray of shape (p, p), float64
        Scratch (matrix mode, p > 2).
    z : ndarray of shape (p,), float64
        Scratch.

    Returns
    -------
    score : float
    """
    if matrix:
        return _matrix_solve(sums, p, l2, work, z, z, False)
    den = sums[p] + l2
    if not den > 0.0:
        return 0.0
    acc = 0.0
    for k in range(p):
        acc += sums[k] * sums[k]
    return acc / den


@njit(nogil=True, fastmath=FASTMATH)
def leaf_value(sums, p, matrix, l2, work, z, out):
    """``(H + lambda I)^{-1} G`` into ``out`` (p,), damped as in the module docstring."""
    if matrix:
        _matrix_solve(sums, p, l2, work, z, out, True)
        return
    den = sums[p] + l2
    for k in range(p):
        out[k] = sums[k] / den if den > 0.0 else 0.0


@njit(nogil=True, fastmath=FASTMATH)
def param_gains(left, right, parent, p, matrix, l2, out):
    """Per-parameter gain decomposition of a split into ``out`` (p,)."""
    for k in range(p):
        acc = 0.0
        for which in range(3):
            s = left if which == 0 else (right if which == 1 else parent)
            den = (s[p + _packed(k, k, p)] if matrix else s[p]) + l2
            term = s[k] * s[k] / den if den > 0.0 else 0.0
            acc += -term if which == 2 else term
        out[k] = acc


@njit(nogil=True, fastmath=FASTMATH)
def _argmax_first(gains, best_gain, best_bin, best_mgl, mgl):
    # Strict '>' keeps the first maximum (lowest bin, missing right before missing left).
    for t in range(gains.size):
        if gains[t] > best_gain:
            best_gain = gains[t]
            best_bin = t
            best_mgl = mgl
    return best_gain, best_bin, best_mgl


@njit(nogil=True, fastmath=FASTMATH)
def _scan_scalar(h, n_bins_nm, missing_bin, parent, p, l2, min_leaf, parent_score):
    """Best split of one feature for the scalar metric (and the matrix metric with p = 1,
    whose channel p is H): the score is ``|G|^2 / (W + lambda)``.

    Prefix sums first, then the gains of all thresholds in branch-free loops over the bins,
    which vectorise (the hot loop of a stage).
    """
    K = h.shape[1]
    cnt = K - 1
    nb = n_bins_nm
    n_missing = h[missing_bin, cnt]
    total = parent[cnt]
    cum = np.empty((K, nb))  # cum[k, t] = sum of channel k over bins 0..t
    for k in range(K):
        acc = 0.0
        for t in range(nb):
            acc += h[t, k]
            cum[k, t] = acc
    sl = np.empty(nb)
    sr = np.empty(nb)
    gains = np.empty(nb)
    best_gain = -np.inf
    best_bin = -1
    best_mgl = False
    for direction in range(2):
        if direction == 1 and n_missing == 0.0:
            break
        mv = float(direction)  # 1.0 when the missing bin joins the left child
        sl[:] = 0.0
        sr[:] = 0.0
        for k in range(p):
            gm = mv * h[missing_bin, k]
            gp = parent[k]
            for t in range(nb):
                a = cum[k, t] + gm
                b = gp - a
                sl[t] += a * a
                sr[t] += b * b
        wm = mv * h[missing_bin, p]
        cm = mv * n_missing
        for t in range(nb):
            wl = cum[p, t] + wm
            nl = cum[cnt, t] + cm
            dl = wl + l2
            dr = parent[p] - wl + l2
            g = (sl[t] / dl if dl > 0.0 else 0.0) + (sr[t] / dr if dr > 0.0 else 0.0)
            # Empty bins repeat the previous threshold's partition: excluded, so the first
            # threshold of a partition is the one kept.
            ok = (nl >= min_leaf) & (total - nl >= min_leaf) & (h[t, cnt] > 0.0)
            gains[t] = g - parent_score if ok else -np.inf
        best_gain, best_bin, best_mgl = _argmax_first(
            gains, best_gain, best_bin, best_mgl, direction == 1
        )
    return best_gain, best_bin, best_mgl


@njit(nogil=True, fastmath=FASTMATH)
def _scan_matrix(h, n_bins_nm, missing_bin, parent, p, l2, min_leaf, parent_score):
    """Best split of one feature for the matrix metric, p >= 2: one pass with running sums,
    a closed-form solve for p = 2 and `score` (Cholesky) otherwise."""
    K = h.shape[1]
    cnt = K - 1
    n_missing = h[missing_bin, cnt]
    total = parent[cnt]
    run = np.zeros(K)
    cand = np.empty(K)
    right = np.empty(K)
    work = np.empty((p, p))
    z = np.empty(p)
    best_gain = -np.inf
    best_bin = -1
    best_mgl = False
    for t in range(n_bins_nm):
        for k in range(K):
            run[k] += h[t, k]
        if h[t, cnt] == 0.0:  # same partition as the previous threshold
            continue
        for direction in range(2):
            if direction == 1 and n_missing == 0.0:
                break
            mv = float(direction)
            n_left = run[cnt] + mv * n_missing
            if n_left < min_leaf or total - n_left < min_leaf:
                continue
            sl = -1.0
            sr = -1.0
            if p == 2:
                g0 = run[0] + mv * h[missing_bin, 0]
                g1 = run[1] + mv * h[missing_bin, 1]
                a = run[2] + mv * h[missing_bin, 2]
                b = run[3] + mv * h[missing_bin, 3]
                c = run[4] + mv * h[missing_bin, 4]
                sl = _score2(g0, g1, a, b, c, l2)
                sr = _score2(
                    parent[0] - g0, parent[1] - g1, parent[2] - a, parent[3] - b, parent[4] - c, l2
                )
            if sl < 0.0 or sr < 0.0:  # p > 2, or a pivot failed: the damped general path
                for k in range(K):
                    c = run[k] + mv * h[missing_bin, k]
                    cand[k] = c
                    right[k] = parent[k] - c
                sl = score(cand, p, True, l2, work, z)
                sr = score(right, p, True, l2, work, z)
            gain = sl + sr - parent_score
            if gain > best_gain:
                best_gain = gain
                best_bin = t
                best_mgl = direction == 1
    return best_gain, best_bin, best_mgl


@njit(nogil=True, fastmath=FASTMATH)
def _best_for_feature(
    h, n_bins_nm, missing_bin, parent, p, matrix, l2, min_leaf, parent_score, left_out
):
    """Best (gain, bin, missing_go_left) of one feature; the left sums go to ``left_out``."""
    if matrix and p > 1:
        best = _scan_matrix(h, n_bins_nm, missing_bin, parent, p, l2, min_leaf, parent_score)
    else:
        best = _scan_scalar(h, n_bins_nm, missing_bin, parent, p, l2, min_leaf, parent_score)
    best_gain, best_bin, best_mgl = best
    if best_bin >= 0:
        K = h.shape[1]
        for k in range(K):
            left_out[k] = 0.0
        for t in range(best_bin + 1):
            for k in range(K):
                left_out[k] += h[t, k]
        if best_mgl:
            for k in range(K):
                left_out[k] += h[missing_bin, k]
    return best_gain, best_bin, best_mgl


@njit(cache=True, nogil=True, fastmath=FASTMATH, parallel=True)
def find_best_split(
    hist,
    features,
    n_bins_non_missing,
    missing_bin,
    parent,
    p,
    matrix,
    l2,
    min_samples_leaf,
    min_gain_to_split,
    left_sums,
    gains_out,
):
    """Best split of a node over the active features and both missing-value directions.

    Candidates: feature ``f``, threshold bin ``t`` in ``[0, n_bins_non_missing[f])`` (bins
    ``<= t`` go left) and the side of the missing-value bin; both children must hold at least
    ``min_samples_leaf`` rows. Ties keep the first candidate in (feature order, ``t``, missing
    right before missing left). When the node has no missing value only "missing right" is
    scored and the caller sends unseen missing values to the larger child.

    Parameters
    ----------
    hist : ndarray of shape (d, n_bins, K), float64
        Node histogram.
    features : ndarray of shape (n_active,), int32
    n_bins_non_missing : ndarray of shape (d,), int32
    missing_bin : int
    parent : ndarray of shape (K,), float64
        Node sums.
    p : int
    matrix : bool
    l2, min_samples_leaf, min_gain_to_split : float
    left_sums : ndarray of shape (K,), float64
        Output: sums of the left child of the best split.
    gains_out : ndarray of shape (p,), float64
        Output: per-parameter gains of the best split.

    Returns
    -------
    gain : float
        Best gain, ``-inf`` when no candidate has gain above ``min_gain_to_split``.
    feature : int
        Feature of the best split (-1 when none).
    bin : int
        Threshold bin (rows with ``bin <= threshold`` go left).
    missing_go_left : bool
    """
    n_feat = features.size
    K = hist.shape[2]
    work = np.empty((p, p))
    z = np.empty(p)
    parent_score = score(parent, p, matrix, l2, work, z)
    f_gain = np.empty(n_feat)
    f_bin = np.empty(n_feat, dtype=np.int64)
    f_mgl = np.empty(n_feat, dtype=np.bool_)
    f_left = np.empty((n_feat, K))
    min_leaf = max(float(min_samples_leaf), 1.0)
    for j in prange(n_feat):
        f = features[j]
        g, t, mgl = _best_for_feature(
            hist[f],
            n_bins_non_missing[f],
            missing_bin,
            parent,
            p,
            matrix,
            l2,
            min_leaf,
            parent_score,
            f_left[j],
        )
        f_gain[j] = g
        f_bin[j] = t
        f_mgl[j] = mgl
    best = -1
    best_gain = -np.inf
    for j in range(n_feat):
        if f_gain[j] > best_gain and f_gain[j] > min_gain_to_split:
            best_gain = f_gain[j]
            best = j
    if best < 0:
        return -np.inf, -1, 0, False
    f = features[best]
    right = np.empty(K)
    for k in range(K):
        left_sums[k] = f_left[best, k]
        right[k] = parent[k] - left_sums[k]
    mgl = f_mgl[best]
    if hist[f, missing_bin, K - 1] == 0.0:
        # No missing value reached this node: unseen ones follow the majority.
        mgl = left_sums[K - 1] >= right[K - 1]
    param_gains(left_sums, right, parent, p, matrix, l2, gains_out)
    return best_gain, np.int64(f), f_bin[best], mgl
