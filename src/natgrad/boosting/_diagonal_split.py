"""Diagonal metric blocks: fewer histogram channels and a separable split scan.

For the families whose Fisher blocks are diagonal in their parameterisation (normal,
log-normal, Laplace: the mean and the log-scale are orthogonal), the packed metric of a
"fisher"-rule stage carries zeros off the diagonal, and some diagonal entries are the same
for every row (the normal's log-scale entry is 2, the Laplace's 1, before sample weights).
The caller says so per stage (``metric_diagonal`` of `grow_tree`, from the stage kernels
that compute the metric; nothing here scans the rows to find out), and the histograms then
carry only

    g_0 .. g_{p-1},  the diagonal entries that vary across rows,  the row count

(normal, unweighted: 4 channels instead of 6). A constant entry ``c_k`` is ``c_k n`` in a
node of ``n`` rows. The grower keeps every node's sums in the dense layout of
`natgrad.boosting._histogram` (`expand_diagonal`), so the leaf solve, the gains for
importances, the monotone and the categorical scans are the dense ones unchanged.

The numeric split scan is separable: with ``H`` diagonal the score is

    score(G, H) = f sum_k G_k^2 / (H_kk + f lambda)

(``f`` the leaf prior's shrinkage, `natgrad.boosting._leaf_solve`), which the scan evaluates
for all thresholds in branch-free loops over the bins. It agrees with the dense scan up to
rounding: the same pivot test (every ``H_kk + f lambda`` above ``1e-12`` times the largest),
and a threshold that fails it is scored by the dense damped solve.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._histogram import FASTMATH
from ._leaf_solve import _PIVOT_RTOL, _packed, score

__all__ = [
    "diagonal_layout",
    "expand_diagonal",
    "fill_diagonal_channels",
    "left_sums_diagonal",
    "scan_diagonal",
]


def diagonal_layout(metric_diagonal: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Histogram layout of a diagonal metric.

    Parameters
    ----------
    metric_diagonal : ndarray of shape (p,), float64
        Per parameter: NaN when the diagonal entry varies across rows, else its value in
        every row.

    Returns
    -------
    diag_map : ndarray of shape (p,), int64
        Histogram channel of each diagonal entry (``p + j``), -1 for a constant one.
    diag_const : ndarray of shape (p,), float64
        The constants (0 where the entry varies).
    columns : ndarray of shape (n_varying,), int64
        Columns of the packed metric copied into the histogram channels, in channel order.
    """
    p = metric_diagonal.shape[0]
    varying = np.isnan(metric_diagonal)
    diag_map = np.full(p, -1, dtype=np.int64)
    diag_map[varying] = p + np.arange(int(varying.sum()))
    diag_const = np.where(varying, 0.0, metric_diagonal)
    k = np.flatnonzero(varying)
    columns = (k * p - (k * (k - 1)) // 2).astype(np.int64)  # packed index of (k, k)
    return diag_map, diag_const, columns


@njit(nogil=True, fastmath=FASTMATH, error_model="numpy")
def expand_diagonal(h_row, p, diag_map, diag_const, out):
    """Dense channel sums ``out`` (p + p (p + 1) / 2 + 1,) of a diagonal-layout row ``h_row``
    (one histogram cell or node): off-diagonal entries zero, constant entries count x c."""
    cnt = h_row[h_row.shape[0] - 1]
    for k in range(p):
        out[k] = h_row[k]
    for j in range(p, out.shape[0] - 1):
        out[j] = 0.0
    for k in range(p):
        c = diag_map[k]
        out[p + _packed(k, k, p)] = h_row[c] if c >= 0 else diag_const[k] * cnt
    out[out.shape[0] - 1] = cnt


@njit(nogil=True, fastmath=FASTMATH, error_model="numpy")
def left_sums_diagonal(h, best_bin, best_mgl, missing_bin, p, diag_map, diag_const, out):
    """Dense sums ``out`` of the left child of a split at ``best_bin`` of one feature."""
    Kh = h.shape[1]
    acc = np.zeros(Kh)
    for t in range(best_bin + 1):
        for k in range(Kh):
            acc[k] += h[t, k]
    if best_mgl:
        for k in range(Kh):
            acc[k] += h[missing_bin, k]
    expand_diagonal(acc, p, diag_map, diag_const, out)


@njit(nogil=True, fastmath=FASTMATH, error_model="numpy")
def _child_scores(cum, h, nb, missing_bin, mv, parent, p, l2, prior, diag_map, diag_const,
                  total, scratch):  # fmt: skip
    # Separable scores of both children at every threshold into scratch[0], scratch[1];
    # scratch[2] > 0 where a pivot test fails. One scratch block: no allocation per call.
    cnt = h.shape[1] - 1
    cm = mv * h[missing_bin, cnt]
    sl, sr, bad = scratch[0], scratch[1], scratch[2]
    hi_l, hi_r, lo_l, lo_r = scratch[3], scratch[4], scratch[5], scratch[6]
    ridge_l, ridge_r, fl, fr = scratch[7], scratch[8], scratch[9], scratch[10]
    sl[:nb] = 0.0
    sr[:nb] = 0.0
    hi_l[:nb] = -np.inf
    hi_r[:nb] = -np.inf
    lo_l[:nb] = np.inf
    lo_r[:nb] = np.inf
    if prior > 0.0:
        for t in range(nb):
            nl_ = max(cum[cnt, t] + cm, 0.0)
            nr_ = max(total - nl_, 0.0)
            fl[t] = nl_ / (nl_ + prior) if nl_ > 0.0 else 1.0
            fr[t] = nr_ / (nr_ + prior) if nr_ > 0.0 else 1.0
            ridge_l[t] = fl[t] * l2
            ridge_r[t] = fr[t] * l2
    else:
        ridge_l[:nb] = l2
        ridge_r[:nb] = l2
    for k in range(p):
        gm = mv * h[missing_bin, k]
        gp = parent[k]
        hp = parent[p + _packed(k, k, p)]
        c = diag_map[k]
        # Left diagonal sums into `bad` (free until the pivot test below).
        if c >= 0:
            hm = mv * h[missing_bin, c]
            for t in range(nb):
                bad[t] = cum[c, t] + hm
        else:
            ck = diag_const[k]
            for t in range(nb):
                bad[t] = ck * (cum[cnt, t] + cm)
        for t in range(nb):
            a = cum[k, t] + gm
            b = gp - a
            hl = bad[t]
            dl = hl + ridge_l[t]
            dr = hp - hl + ridge_r[t]
            # A zero denominator fails the pivot test below: any nonzero divisor keeps
            # the loop free of division-by-zero checks.
            sl[t] += a * a / (dl if dl != 0.0 else 1.0)
            sr[t] += b * b / (dr if dr != 0.0 else 1.0)
            hi_l[t] = max(hi_l[t], dl)
            hi_r[t] = max(hi_r[t], dr)
            lo_l[t] = min(lo_l[t], dl)
            lo_r[t] = min(lo_r[t], dr)
    for t in range(nb):
        if prior > 0.0:
            sl[t] *= fl[t]
            sr[t] *= fr[t]
        ok = (lo_l[t] > _PIVOT_RTOL * hi_l[t]) & (lo_r[t] > _PIVOT_RTOL * hi_r[t])
        ok &= (sl[t] == sl[t]) & (sr[t] == sr[t])  # NaN: the dense path decides
        bad[t] = 0.0 if ok else 1.0


@njit(nogil=True, fastmath=FASTMATH, error_model="numpy")
def scan_diagonal(
    h, n_bins_nm, missing_bin, parent, p, l2, min_leaf, parent_score, prior, diag_map, diag_const
):
    """Best (gain, bin, missing_go_left) of one feature for a diagonal metric.

    ``h`` (n_bins, Kh) is the feature's diagonal-layout histogram, ``parent`` the node's
    dense sums. Candidates, the minimum leaf size and the tie order (threshold, then missing
    right before missing left) are those of the dense scan.
    """
    Kh = h.shape[1]
    cnt = Kh - 1
    nb = n_bins_nm
    K = parent.shape[0]
    n_missing = h[missing_bin, cnt]
    total = parent[K - 1]
    n_dir = 2 if n_missing != 0.0 else 1
    # One allocation: prefix sums cum[k, t] (channel k over bins 0..t), the gains of each
    # direction, the scratch of `_child_scores`.
    block = np.empty((Kh + n_dir + 11, max(nb, 1)))
    cum = block[:Kh]
    gains = block[Kh : Kh + n_dir]
    scratch = block[Kh + n_dir :]
    for k in range(Kh):
        acc = 0.0
        for t in range(nb):
            acc += h[t, k]
            cum[k, t] = acc
    sl, sr, bad = scratch[0], scratch[1], scratch[2]
    for direction in range(n_dir):
        mv = float(direction)  # 1.0 when the missing bin joins the left child
        _child_scores(
            cum, h, nb, missing_bin, mv, parent, p, l2, prior, diag_map, diag_const, total,
            scratch,
        )  # fmt: skip
        cm = mv * n_missing
        g = gains[direction]
        for t in range(nb):
            nl = cum[cnt, t] + cm
            ok = (nl >= min_leaf) & (total - nl >= min_leaf) & (h[t, cnt] > 0.0)
            g[t] = sl[t] + sr[t] - parent_score if ok else -np.inf
        for t in range(nb):
            if bad[t] > 0.0 and g[t] > -np.inf:
                # A pivot test failed: the dense damped solve, as the dense scan does.
                g[t] = _dense_gain(cum, h, t, mv, missing_bin, parent, p, l2, prior,
                                   diag_map, diag_const, parent_score)  # fmt: skip
    best_gain = -np.inf
    best_bin = -1
    best_mgl = False
    for t in range(nb):
        for direction in range(n_dir):
            if gains[direction, t] > best_gain:
                best_gain = gains[direction, t]
                best_bin = t
                best_mgl = direction == 1
    return best_gain, best_bin, best_mgl


@njit(nogil=True, fastmath=FASTMATH, error_model="numpy")
def _dense_gain(cum, h, t, mv, missing_bin, parent, p, l2, prior, diag_map, diag_const,
                parent_score):  # fmt: skip
    # Gain of threshold t by the dense (damped) solve of both children.
    Kh = h.shape[1]
    K = parent.shape[0]
    h_l = np.empty(Kh)
    for k in range(Kh):
        h_l[k] = cum[k, t] + mv * h[missing_bin, k]
    cand = np.empty(K)
    right = np.empty(K)
    expand_diagonal(h_l, p, diag_map, diag_const, cand)
    for k in range(K):
        right[k] = parent[k] - cand[k]
    work = np.empty((p, p))
    z = np.empty(p)
    sl = score(cand, p, True, l2, work, z, prior)
    return sl + score(right, p, True, l2, work, z, prior) - parent_score


@njit(cache=True, nogil=True, fastmath=FASTMATH, parallel=True)
def fill_diagonal_channels(gradients, sample_weight, metric, rows, columns, weighted, vals):
    """Channel values of the rows in ``rows`` in the diagonal layout: ``w_i g_i``, then the
    packed metric's ``columns`` (already weighted, as in `_histogram.fill_channels`).

    Parameters
    ----------
    gradients : ndarray of shape (n, p), float64
    sample_weight : ndarray of shape (n,), float64
        Ignored unless ``weighted``.
    metric : ndarray of shape (n, p (p + 1) / 2), float64
    rows : ndarray of shape (m,), int32
    columns : ndarray of shape (n_varying,), int64
        From `diagonal_layout`.
    weighted : bool
    vals : ndarray of shape (n, p + n_varying), float64
        Output; rows not in ``rows`` are left untouched.
    """
    p = gradients.shape[1]
    for ii in prange(rows.size):
        r = rows[ii]
        w = sample_weight[r] if weighted else 1.0
        for k in range(p):
            vals[r, k] = w * gradients[r, k]
        for j in range(columns.size):
            vals[r, p + j] = metric[r, columns[j]]
