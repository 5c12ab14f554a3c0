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

Monotone constraints (docs/design.md): a node carries bounds ``[lower, upper]`` on its
values; a constrained scan clips both children's values into them, scores a node of value
``v`` by ``2 G^T v - v^T (H + lambda I) v`` (equal to the score above when nothing is
clipped) and rejects splits whose children are out of order; `child_bounds` passes the
mid-point of the two children down as their new bounds.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._histogram import FASTMATH

__all__ = [
    "child_bounds",
    "clipped_value",
    "find_best_split",
    "leaf_value",
    "param_gains",
    "score",
]

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
        Channel sums (see `natgrad.boosting._histogram`).
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
def _scan_monotone(
    h, n_bins_nm, missing_bin, parent, p, matrix, l2, min_leaf, parent_score, sign, lower, upper,
    prior,
):  # fmt: skip
    """Best split of one feature under monotone constraints (docs/design.md).

    Both children's values are clipped into the node's bounds ``[lower, upper]`` and scored
    by `_quadratic_score`; a threshold is rejected when a component ``k`` with ``sign[k] = +1``
    has a left value above the right one (``-1``: below). The missing-value bin may join
    either side: the order is checked on the children as wholes, missing rows included.
    """
    K = h.shape[1]
    cnt = K - 1
    n_missing = h[missing_bin, cnt]
    total = parent[cnt]
    run = np.zeros(K)
    cand = np.empty(K)
    right = np.empty(K)
    vl = np.empty(p)
    vr = np.empty(p)
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
            for k in range(K):
                c = run[k] + mv * h[missing_bin, k]
                cand[k] = c
                right[k] = parent[k] - c
            sl = clipped_value(cand, p, matrix, l2, lower, upper, work, z, vl, prior)
            sr = clipped_value(right, p, matrix, l2, lower, upper, work, z, vr, prior)
            ordered = True
            for k in range(p):
                if (sign[k] > 0 and vl[k] > vr[k]) or (sign[k] < 0 and vl[k] < vr[k]):
                    ordered = False
            gain = sl + sr - parent_score
            if ordered and gain > best_gain:
                best_gain = gain
                best_bin = t
                best_mgl = direction == 1
    return best_gain, best_bin, best_mgl


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
def _scan_scalar(h, n_bins_nm, missing_bin, parent, p, l2, min_leaf, parent_score, prior):
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
        if prior > 0.0:
            # Leaf prior (module docstring): each child's score is f |G|^2 / (W + f lambda)
            # with f = n / (n + kappa). A loop of its own keeps the plain one branch-free.
            for t in range(nb):
                wl = cum[p, t] + wm
                nl = cum[cnt, t] + cm
                nl_ = max(nl, 0.0)
                nr_ = max(total - nl, 0.0)
                fl = nl_ / (nl_ + prior)
                fr = nr_ / (nr_ + prior)
                dl = wl + fl * l2
                dr = parent[p] - wl + fr * l2
                g = (fl * sl[t] / dl if dl > 0.0 else 0.0) + (fr * sr[t] / dr if dr > 0.0 else 0.0)
                ok = (nl >= min_leaf) & (total - nl >= min_leaf) & (h[t, cnt] > 0.0)
                gains[t] = g - parent_score if ok else -np.inf
        else:
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
def _scan_matrix(h, n_bins_nm, missing_bin, parent, p, l2, min_leaf, parent_score, prior):
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
                if prior > 0.0:
                    # Leaf prior: f score(G, H, f lambda) per child, f = n / (n + kappa).
                    fl = n_left / (n_left + prior)
                    fr = (total - n_left) / (total - n_left + prior)
                    sl = _score2(g0, g1, a, b, c, fl * l2)
                    sr = _score2(
                        parent[0] - g0, parent[1] - g1, parent[2] - a, parent[3] - b,
                        parent[4] - c, fr * l2,
                    )  # fmt: skip
                    if sl >= 0.0 and sr >= 0.0:
                        sl *= fl
                        sr *= fr
                else:
                    sl = _score2(g0, g1, a, b, c, l2)
                    sr = _score2(
                        parent[0] - g0, parent[1] - g1, parent[2] - a, parent[3] - b,
                        parent[4] - c, l2,
                    )  # fmt: skip
            if sl < 0.0 or sr < 0.0:  # p > 2, or a pivot failed: the damped general path
                for k in range(K):
                    c = run[k] + mv * h[missing_bin, k]
                    cand[k] = c
                    right[k] = parent[k] - c
                sl = score(cand, p, True, l2, work, z, prior)
                sr = score(right, p, True, l2, work, z, prior)
            gain = sl + sr - parent_score
            if gain > best_gain:
                best_gain = gain
                best_bin = t
                best_mgl = direction == 1
    return best_gain, best_bin, best_mgl


@njit(nogil=True, fastmath=FASTMATH)
def _best_for_feature(
    h, n_bins_nm, missing_bin, parent, p, matrix, l2, min_leaf, parent_score, left_out,
    monotone, sign, lower, upper, prior,
):  # fmt: skip
    """Best (gain, bin, missing_go_left) of one feature; the left sums go to ``left_out``.

    ``monotone``: scan with `_scan_monotone` (``sign`` (p,) int8, bounds (p,))."""
    if monotone:
        best = _scan_monotone(
            h, n_bins_nm, missing_bin, parent, p, matrix, l2, min_leaf, parent_score, sign,
            lower, upper, prior,
        )  # fmt: skip
    elif matrix and p > 1:
        best = _scan_matrix(h, n_bins_nm, missing_bin, parent, p, l2, min_leaf, parent_score, prior)
    else:
        best = _scan_scalar(h, n_bins_nm, missing_bin, parent, p, l2, min_leaf, parent_score, prior)
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
    monotone_sign,
    lower,
    upper,
    left_sums,
    gains_out,
    prior=0.0,
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
    monotone_sign : ndarray of shape (d, p) or (0, p), int8
        Monotone constraints on the leaf values: ``+1`` at ``(f, k)`` means component ``k``
        of the tree's value must not decrease with feature ``f`` (``-1``: not increase).
        Empty: no constraints, and ``lower`` / ``upper`` are ignored.
    lower, upper : ndarray of shape (p,), float64
        Bounds of the node's values from the monotone splits above it (``-inf`` / ``inf``).
        Features with a constraint, and every feature of a node with a finite bound, are
        scanned by `_scan_monotone`.
    left_sums : ndarray of shape (K,), float64
        Output: sums of the left child of the best split.
    gains_out : ndarray of shape (p,), float64
        Output: per-parameter gains of the best split.
    prior : float, default=0.0
        Leaf prior ``kappa`` in pseudo-rows of each node's mean metric (module docstring).

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
    parent_score = score(parent, p, matrix, l2, work, z, prior)
    has_cst = monotone_sign.shape[0] > 0
    bounded = False
    mono_parent_score = parent_score
    if has_cst:
        for k in range(p):
            bounded |= (lower[k] > -np.inf) | (upper[k] < np.inf)
        vp = np.empty(p)
        mono_parent_score = clipped_value(parent, p, matrix, l2, lower, upper, work, z, vp, prior)
    no_sign = np.zeros(p, dtype=np.int8)
    f_gain = np.empty(n_feat)
    f_bin = np.empty(n_feat, dtype=np.int64)
    f_mgl = np.empty(n_feat, dtype=np.bool_)
    f_left = np.empty((n_feat, K))
    min_leaf = max(float(min_samples_leaf), 1.0)
    for j in prange(n_feat):
        f = features[j]
        sign = monotone_sign[f] if has_cst else no_sign
        monotone = bounded or (has_cst and np.any(sign != 0))
        g, t, mgl = _best_for_feature(
            hist[f],
            n_bins_non_missing[f],
            missing_bin,
            parent,
            p,
            matrix,
            l2,
            min_leaf,
            mono_parent_score if monotone else parent_score,
            f_left[j],
            monotone,
            sign,
            lower,
            upper,
            prior,
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
    param_gains(left_sums, right, parent, p, matrix, l2, gains_out, prior)
    return best_gain, np.int64(f), f_bin[best], mgl
