"""Best split of a node on a categorical feature: a set of categories goes left.

A categorical feature's bins are its categories (`natgrad.boosting._hist.binning`). A split sends
a subset of them left; with ``k`` categories there are ``2**(k-1) - 1`` subsets, too many to
score. With a scalar target the best subset is a prefix of the categories sorted by their
mean target (Fisher's classic result for least squares); with vector leaves no single order
is exact, so a few 1-D orders are tried and, along each, every prefix is scored with the
exact vector gain of `natgrad.boosting._hist.splitting`:

* the category's optimal step along a direction ``u``, ``s_c = G_c . u / (u^T H_c u + lambda)``
  (scalar metric: the mean target projected on ``u``, ``G_c . u / (W_c + lambda)``), for
  ``u`` = the parent's own value ``(H + lambda I)^{-1} G`` (when it is not zero) and for each
  parameter axis ``e_1 .. e_p``. With ``p = 1`` the axis is the only order. The axes matter
  at the root of the first stage, where the parent's value is about zero (the marginal fit
  zeroes the summed gradient) and its direction is noise.

Rare categories. A category with fewer than ``min_samples_leaf`` rows in the node is not
placed in the order: it joins the missing values, and that group goes to whichever side
gives the better gain (as the missing values of a numeric split). Categories with no row in
the node, and categories never seen in training, also go where the missing values go; when
the node has neither missing values nor rare categories, that side is the larger child.

The decision is a bitset over the 256 bins (`N_WORDS` ``uint32`` words; bit ``b`` set: bin
``b`` goes left), the missing-value bin included, read by `natgrad.boosting._hist.predictor`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .common import FASTMATH, N_WORDS
from .leaf_solve import leaf_value, param_gains, score

__all__ = ["find_best_categorical_split"]


@njit(nogil=True)
def _set_bit(bits, b):
    bits[b >> 5] |= np.uint32(1) << np.uint32(b & 31)


@njit(nogil=True, fastmath=FASTMATH)
def _order_score(h, c, u, p, matrix, l2):
    # s_c = G_c . u / (u^T H_c u + lambda), or the projected mean in scalar mode.
    num = 0.0
    for k in range(p):
        num += h[c, k] * u[k]
    if matrix:
        den = l2
        for i in range(p):
            for j in range(i, p):
                idx = i * p - (i * (i - 1)) // 2 + (j - i)
                den += (1.0 if i == j else 2.0) * u[i] * u[j] * h[c, p + idx]
    else:
        den = h[c, p] + l2
    return num / den if den > 0.0 else 0.0


@njit(nogil=True, fastmath=FASTMATH)
def _scan_feature(h, nb, missing_bin, parent, p, matrix, l2, min_leaf, parent_score, left_out,
                  bits_out, prior):  # fmt: skip
    """Best (gain, missing_go_left) of one categorical feature; left sums and bitset out."""
    K = h.shape[1]
    cnt = K - 1
    total = parent[cnt]
    rare = np.zeros(K)  # missing bin + rare categories: they move together
    for k in range(K):
        rare[k] = h[missing_bin, k]
    cats = np.empty(nb, dtype=np.int64)
    m = 0
    for c in range(nb):
        if h[c, cnt] >= min_leaf:
            cats[m] = c
            m += 1
        else:
            for k in range(K):
                rare[k] += h[c, k]
    best_gain = -np.inf
    if m == 0 or (m == 1 and rare[cnt] == 0.0):
        return best_gain, False
    # Directions of the orders: the parent's value (when p > 1), then the axes.
    n_dir = p + 1 if p > 1 else 1
    dirs = np.zeros((n_dir, p))
    work = np.empty((p, p))
    z = np.empty(p)
    skip_parent = False
    if p > 1:
        leaf_value(parent, p, matrix, l2, work, z, dirs[0])
        norm = 0.0
        for k in range(p):
            norm += dirs[0, k] * dirs[0, k]
        skip_parent = not (norm > 0.0 and np.isfinite(norm))
        for k in range(p):
            dirs[1 + k, k] = 1.0
    else:
        dirs[0, 0] = 1.0
    scores = np.empty(m)
    run = np.empty(K)
    cand = np.empty(K)
    right = np.empty(K)
    best_dir = -1
    best_j = 0
    best_rl = False
    for di in range(n_dir):
        if di == 0 and skip_parent:
            continue
        for i in range(m):
            scores[i] = _order_score(h, cats[i], dirs[di], p, matrix, l2)
        order = np.argsort(scores, kind="mergesort")
        for rl in range(2):
            if rl == 1 and rare[cnt] == 0.0:
                break
            run[:] = 0.0
            # j categories of the order on the left (plus the rare group when rl = 1).
            for j in range(m + 1):
                if j > 0:
                    c = cats[order[j - 1]]
                    for k in range(K):
                        run[k] += h[c, k]
                for k in range(K):
                    cand[k] = run[k] + rl * rare[k]
                    right[k] = parent[k] - cand[k]
                n_left = cand[cnt]
                if n_left < min_leaf or total - n_left < min_leaf:
                    continue
                g = score(cand, p, matrix, l2, work, z, prior)
                g += score(right, p, matrix, l2, work, z, prior)
                g -= parent_score
                if g > best_gain:
                    best_gain = g
                    best_dir = di
                    best_j = j
                    best_rl = rl == 1
    if best_dir < 0:
        return best_gain, False
    # Rebuild the winner: its prefix, then the side of the rare group.
    for i in range(m):
        scores[i] = _order_score(h, cats[i], dirs[best_dir], p, matrix, l2)
    order = np.argsort(scores, kind="mergesort")
    bits_out[:] = 0
    for k in range(K):
        left_out[k] = rare[k] if best_rl else 0.0
    for i in range(best_j):
        c = cats[order[i]]
        _set_bit(bits_out, c)
        for k in range(K):
            left_out[k] += h[c, k]
    mgl = best_rl
    if rare[cnt] == 0.0:
        # No missing value and no rare category here: unseen ones follow the majority.
        mgl = left_out[cnt] >= total - left_out[cnt]
    if mgl:
        _set_bit(bits_out, missing_bin)
        for c in range(nb):
            if h[c, cnt] < min_leaf:
                _set_bit(bits_out, c)
    return best_gain, mgl


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def find_best_categorical_split(
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
    bits_out,
    prior=0.0,
):
    """Best category-set split of a node over the categorical features ``features``.

    Parameters
    ----------
    hist : ndarray of shape (d, n_bins, K), float64
        Node histogram (bin ``c`` of a categorical feature is category ``c``).
    features : ndarray of shape (n_cat,), int32
        Active categorical features.
    n_bins_non_missing : ndarray of shape (d,), int32
        Number of categories of each categorical feature.
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
    bits_out : ndarray of shape (N_WORDS,), uint32
        Output: bitset of the bins that go left (the missing-value bin included).
    prior : float, default=0.0
        Leaf prior in pseudo-rows (`natgrad.boosting._hist.splitting`), in the gains.

    Returns
    -------
    gain : float
        Best gain, ``-inf`` when no candidate has gain above ``min_gain_to_split``.
    feature : int
        Feature of the best split (-1 when none).
    missing_go_left : bool
    """
    K = hist.shape[2]
    work = np.empty((p, p))
    z = np.empty(p)
    parent_score = score(parent, p, matrix, l2, work, z, prior)
    min_leaf = max(float(min_samples_leaf), 1.0)
    left = np.empty(K)
    bits = np.zeros(N_WORDS, dtype=np.uint32)
    best_gain = -np.inf
    best_f = -1
    best_mgl = False
    for j in range(features.size):
        f = features[j]
        g, mgl = _scan_feature(
            hist[f], n_bins_non_missing[f], missing_bin, parent, p, matrix, l2, min_leaf,
            parent_score, left, bits, prior,
        )  # fmt: skip
        if g > best_gain and g > min_gain_to_split:
            best_gain = g
            best_f = f
            best_mgl = mgl
            left_sums[:] = left
            bits_out[:] = bits
    if best_f < 0:
        return -np.inf, -1, False
    right = np.empty(K)
    for k in range(K):
        right[k] = parent[k] - left_sums[k]
    param_gains(left_sums, right, parent, p, matrix, l2, gains_out, prior)
    return best_gain, np.int64(best_f), best_mgl
