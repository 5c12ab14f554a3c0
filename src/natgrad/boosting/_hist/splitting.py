"""Best split of a node from its histogram.

For a set of rows with gradient sums ``G`` (p,) and metric sums ``H`` (p, p) -- in scalar
mode ``H = W I`` with ``W`` the weight sum -- the score is
``score(G, H) = G^T (H + lambda I)^{-1} G`` and the gain of a split is
``score(left) + score(right) - score(parent)`` (the usual factor 1/2 is dropped
everywhere); the solve, its damping and the leaf prior are `natgrad.boosting._hist.leaf_solve`.

A numeric feature is scanned by one of two loops: `_scan_scalar` (the scalar metric, and
p = 1: prefix sums, then branch-free loops over the thresholds that vectorise) or
`_scan_running` (one pass with running sums: the matrix metric with p >= 2, and every
feature scanned under monotone constraints, whose clipped values and order test are
`natgrad.boosting._hist.split_monotone`). The diagonal layout has its separable scan
(`natgrad.boosting._hist.split_diagonal`), categorical features their set search
(`natgrad.boosting._hist.split_categorical`).
"""

from __future__ import annotations

import numpy as np
from numba import literally, njit, prange

from .common import FASTMATH
from .leaf_solve import _score2, param_gains, score
from .split_diagonal import expand_diagonal, left_sums_diagonal, scan_diagonal
from .split_monotone import clipped_value, out_of_order

__all__ = ["find_best_split"]


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
def _scan_running(
    h, n_bins_nm, missing_bin, parent, p, matrix, l2, min_leaf, parent_score, prior, monotone,
    sign, lower, upper,
):  # fmt: skip
    """Best split of one feature in one pass over the thresholds with running sums: the
    matrix metric with p >= 2, and any metric under monotone constraints.

    Without constraints a child's score is the closed-form solve for p = 2 and `score`
    (damped Cholesky) otherwise or where a pivot failed. One function for both, so that the
    two cannot drift apart in their handling of empty bins, ``min_leaf``, the missing-value
    side and ties; the loop stays whole (over 80 lines) because splitting the candidate
    scoring into helpers slowed the Fisher rule's hot loop. With ``monotone`` (docs/design.md,
    "Monotone constraints") both children's values are clipped into the node's bounds
    ``[lower, upper]`` and scored by `clipped_value`, and a threshold whose children are out
    of order for ``sign`` (p,) int8 is rejected (`out_of_order`). The missing-value bin may
    join either side; the order is checked on the children as wholes, missing rows included.
    ``monotone`` must be a constant where this is called (``True`` or ``False`` literally).
    """
    # One compilation per value of the flag, with the other branch pruned: as a run-time
    # flag it made the constrained scan 15% slower.
    literally(monotone)
    K = h.shape[1]
    cnt = K - 1
    hm = h[missing_bin]
    n_missing = hm[cnt]
    total = parent[cnt]
    run = np.zeros(K)
    cand = np.empty(K)
    right = np.empty(K)
    vl = np.empty(p)
    vr = np.empty(p)
    work = np.empty((p, p))
    z = np.empty(p)
    closed_form = p == 2 and not monotone
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
            mv = float(direction)  # 1.0 when the missing bin joins the left child
            n_left = run[cnt] + mv * n_missing
            if n_left < min_leaf or total - n_left < min_leaf:
                continue
            sl = -1.0
            sr = -1.0
            if closed_form:
                # The closed-form p = 2 solve stays inline: as a helper returning the pair
                # it made this scan 2.4 times slower (the hot loop of the Fisher rule).
                g0 = run[0] + mv * hm[0]
                g1 = run[1] + mv * hm[1]
                a = run[2] + mv * hm[2]
                b = run[3] + mv * hm[3]
                c = run[4] + mv * hm[4]
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
            if sl < 0.0 or sr < 0.0:  # not the closed form, or a pivot failed
                for k in range(K):
                    c = run[k] + mv * hm[k]
                    cand[k] = c
                    right[k] = parent[k] - c
                if monotone:
                    sl = clipped_value(cand, p, matrix, l2, lower, upper, work, z, vl, prior)
                    sr = clipped_value(right, p, matrix, l2, lower, upper, work, z, vr, prior)
                    if out_of_order(vl, vr, sign, p):
                        continue
                else:
                    sl = score(cand, p, matrix, l2, work, z, prior)
                    sr = score(right, p, matrix, l2, work, z, prior)
            gain = sl + sr - parent_score
            if gain > best_gain:
                best_gain = gain
                best_bin = t
                best_mgl = direction == 1
    return best_gain, best_bin, best_mgl


@njit(nogil=True, fastmath=FASTMATH)
def _best_for_feature(
    h, n_bins_nm, missing_bin, parent, p, matrix, l2, min_leaf, parent_score, monotone, sign,
    lower, upper, prior,
):  # fmt: skip
    """Best (gain, bin, missing_go_left) of one feature (`find_best_split` sums the left
    child of the winning feature only): the running-sum scan under monotone constraints
    (``sign`` (p,) int8, bounds (p,)) or for the matrix metric with p >= 2, else the
    vectorised scalar scan."""
    if monotone:  # the flag of `_scan_running` must be a constant (numba.literally)
        return _scan_running(
            h, n_bins_nm, missing_bin, parent, p, matrix, l2, min_leaf, parent_score, prior,
            True, sign, lower, upper,
        )  # fmt: skip
    if matrix and p > 1:
        return _scan_running(
            h, n_bins_nm, missing_bin, parent, p, matrix, l2, min_leaf, parent_score, prior,
            False, sign, lower, upper,
        )  # fmt: skip
    return _scan_scalar(h, n_bins_nm, missing_bin, parent, p, l2, min_leaf, parent_score, prior)


@njit(nogil=True, fastmath=FASTMATH)
def _diagonal_feature(
    h, n_bins_nm, missing_bin, parent, p, l2, min_leaf, parent_score, monotone, sign, lower,
    upper, prior, diag_map, diag_const,
):  # fmt: skip
    """`_best_for_feature` for a diagonal-layout histogram ``h`` (n_bins, Kh): the separable
    scan, or under monotone constraints the dense scan of the expanded histogram."""
    if not monotone:
        return scan_diagonal(
            h, n_bins_nm, missing_bin, parent, p, l2, min_leaf, parent_score, prior, diag_map,
            diag_const,
        )  # fmt: skip
    dense = np.empty((h.shape[0], parent.shape[0]))
    for b in range(h.shape[0]):
        expand_diagonal(h[b], p, diag_map, diag_const, dense[b])
    return _best_for_feature(
        dense, n_bins_nm, missing_bin, parent, p, True, l2, min_leaf, parent_score, True, sign,
        lower, upper, prior,
    )  # fmt: skip


@njit(cache=True, nogil=True, fastmath=FASTMATH, parallel=True)
def find_best_split(hist, features, parent, lower, upper, left_sums, gains_out, sp):
    """Best split of a node over the active features and both missing-value directions.

    Candidates: feature ``f``, threshold bin ``t`` in ``[0, n_bins_non_missing[f])`` (bins
    ``<= t`` go left) and the side of the missing-value bin; both children must hold at least
    ``min_samples_leaf`` rows. Ties keep the first candidate in (feature order, ``t``, missing
    right before missing left). When the node has no missing value only "missing right" is
    scored and the caller sends unseen missing values to the larger child.

    Parameters
    ----------
    hist : ndarray of shape (d, n_bins, K), float64
        Node histogram (with ``sp.diag_map`` non-empty, the diagonal layout of ``Kh``
        channels, `natgrad.boosting._hist.split_diagonal`: numeric features are then scanned
        by `scan_diagonal`, monotone ones by the constrained scan on the expanded histogram;
        ``parent`` and ``left_sums`` stay dense).
    features : ndarray of shape (n_active,), int32
    parent : ndarray of shape (K,), float64
        Node sums.
    lower, upper : ndarray of shape (p,), float64
        Bounds of the node's values from the monotone splits above it (``-inf`` / ``inf``).
        Features with a constraint in ``sp.sign`` (``+1`` at ``(f, k)``: component ``k`` of
        the tree's value must not decrease with feature ``f``; ``-1``: not increase), and
        every feature of a node with a finite bound, are scanned under the constraints
        (`_scan_running` with ``monotone``). Ignored without constraints.
    left_sums : ndarray of shape (K,), float64
        Output: sums of the left child of the best split.
    gains_out : ndarray of shape (p,), float64
        Output: per-parameter gains of the best split.
    sp : SplitParams
        The fit's split settings (`natgrad.boosting._hist.common.SplitParams`); the leaf
        prior is in pseudo-rows of each node's mean metric (module docstring).

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
    p, matrix, l2, prior, missing_bin = sp.p, sp.matrix, sp.l2, sp.prior, sp.missing_bin
    monotone_sign, n_bins_non_missing = sp.sign, sp.n_bins_non_missing
    diag_map, diag_const = sp.diag_map, sp.diag_const
    diag = diag_map.size > 0
    n_feat = features.size
    K = parent.shape[0]
    cnt_h = hist.shape[2] - 1
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
    min_leaf = max(float(sp.min_samples_leaf), 1.0)
    for j in prange(n_feat):
        f = features[j]
        sign = monotone_sign[f] if has_cst else no_sign
        monotone = bounded or (has_cst and np.any(sign != 0))
        ps = mono_parent_score if monotone else parent_score
        if diag:
            g, t, mgl = _diagonal_feature(
                hist[f], n_bins_non_missing[f], missing_bin, parent, p, l2, min_leaf, ps,
                monotone, sign, lower, upper, prior, diag_map, diag_const,
            )  # fmt: skip
        else:
            g, t, mgl = _best_for_feature(
                hist[f], n_bins_non_missing[f], missing_bin, parent, p, matrix, l2, min_leaf, ps,
                monotone, sign, lower, upper, prior,
            )  # fmt: skip
        f_gain[j] = g
        f_bin[j] = t
        f_mgl[j] = mgl
    best = -1
    best_gain = -np.inf
    for j in range(n_feat):
        if f_gain[j] > best_gain and f_gain[j] > sp.min_gain:
            best_gain = f_gain[j]
            best = j
    if best < 0:
        return -np.inf, -1, 0, False
    f = features[best]
    # The left child's sums, for the winning feature only: bins up to the threshold, plus
    # the missing-value bin when it goes left (expanded to the dense layout if diagonal).
    h = hist[f]
    if diag:
        left_sums_diagonal(h, f_bin[best], f_mgl[best], missing_bin, p, diag_map, diag_const,
                           left_sums)  # fmt: skip
    else:
        for k in range(K):
            left_sums[k] = 0.0
        for t in range(f_bin[best] + 1):
            for k in range(K):
                left_sums[k] += h[t, k]
        if f_mgl[best]:
            for k in range(K):
                left_sums[k] += h[missing_bin, k]
    right = np.empty(K)
    for k in range(K):
        right[k] = parent[k] - left_sums[k]
    mgl = f_mgl[best]
    if hist[f, missing_bin, cnt_h] == 0.0:
        # No missing value reached this node: unseen ones follow the majority.
        mgl = left_sums[K - 1] >= right[K - 1]
    param_gains(left_sums, right, parent, p, matrix, l2, gains_out, prior)
    return best_gain, np.int64(f), f_bin[best], mgl
