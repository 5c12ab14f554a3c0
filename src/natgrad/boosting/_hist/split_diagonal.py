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
`natgrad.boosting._hist.histogram` (`expand_diagonal`), so the leaf solve, the gains for
importances, the monotone and the categorical scans are the dense ones unchanged.

The numeric split scan is separable: with ``H`` diagonal the score is

    score(G, H) = f sum_k G_k^2 / (H_kk + f lambda)

(``f`` the leaf prior's shrinkage, `natgrad.boosting._hist.leaf_solve`), which the scan evaluates
in one pass over the thresholds, summing over the parameters in registers. It agrees with
the dense scan up to rounding: the same pivot test (every ``H_kk + f lambda`` above
``1e-12`` times the largest), and a threshold that fails it is scored by the dense damped
solve.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit, prange

from .common import FASTMATH
from .leaf_solve import _PIVOT_RTOL, _packed, score

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
    arr = np.ascontiguousarray(metric_diagonal, dtype=np.float64)
    # The trainer asks for the same layout every stage: computed once per distinct input.
    diag_map, diag_const, columns = _layout(arr.tobytes())
    return diag_map.copy(), diag_const.copy(), columns.copy()


@functools.lru_cache(maxsize=32)
def _layout(key: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    metric_diagonal = np.frombuffer(key, dtype=np.float64)
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
def scan_diagonal(
    h, n_bins_nm, missing_bin, parent, p, l2, min_leaf, parent_score, prior, diag_map, diag_const
):
    """Best (gain, bin, missing_go_left) of one feature for a diagonal metric.

    ``h`` (n_bins, Kh) is the feature's diagonal-layout histogram, ``parent`` the node's
    dense sums. Candidates, the minimum leaf size and the tie order (threshold, then missing
    right before missing left) are those of the dense scan.

    One pass over the thresholds: the left sums are a running prefix, and each candidate's
    two child scores are summed over the parameters in registers (no per-threshold arrays:
    3-4x faster than a pass per quantity over the bins).
    """
    Kh = h.shape[1]
    cnt = Kh - 1
    K = parent.shape[0]
    n_missing = h[missing_bin, cnt]
    total = parent[K - 1]
    if p == 2 and prior == 0.0 and n_missing == 0.0:
        best_gain, best_bin, clean = _scan_two(h, n_bins_nm, parent, l2, min_leaf,
                                               parent_score, diag_map, diag_const)  # fmt: skip
        if clean:
            return best_gain, best_bin, False
    n_dir = 2 if n_missing != 0.0 else 1
    acc = np.zeros(Kh)
    best_gain = -np.inf
    best_bin = -1
    best_mgl = False
    for t in range(n_bins_nm):
        for k in range(Kh):
            acc[k] += h[t, k]
        if h[t, cnt] <= 0.0:
            continue  # an empty bin repeats the previous threshold's split
        for direction in range(n_dir):
            mv = float(direction)  # 1.0 when the missing bin joins the left child
            nl = acc[cnt] + mv * n_missing
            nr = total - nl
            if nl < min_leaf or nr < min_leaf:
                continue
            fl = 1.0
            fr = 1.0
            if prior > 0.0:
                nl_ = max(nl, 0.0)
                nr_ = max(total - nl_, 0.0)
                fl = nl_ / (nl_ + prior) if nl_ > 0.0 else 1.0
                fr = nr_ / (nr_ + prior) if nr_ > 0.0 else 1.0
            ridge_l = fl * l2 if prior > 0.0 else l2
            ridge_r = fr * l2 if prior > 0.0 else l2
            sl = 0.0
            sr = 0.0
            hi_l = -np.inf
            hi_r = -np.inf
            lo_l = np.inf
            lo_r = np.inf
            for k in range(p):
                a = acc[k] + mv * h[missing_bin, k]
                b = parent[k] - a
                c = diag_map[k]
                if c >= 0:
                    hl = acc[c] + mv * h[missing_bin, c]
                else:
                    hl = diag_const[k] * nl
                dl = hl + ridge_l
                dr = parent[p + _packed(k, k, p)] - hl + ridge_r
                # A zero denominator fails the pivot test below: any nonzero divisor keeps
                # the loop free of division-by-zero checks.
                sl += a * a / (dl if dl != 0.0 else 1.0)
                sr += b * b / (dr if dr != 0.0 else 1.0)
                hi_l = max(hi_l, dl)
                hi_r = max(hi_r, dr)
                lo_l = min(lo_l, dl)
                lo_r = min(lo_r, dr)
            sl *= fl
            sr *= fr
            ok = (lo_l > _PIVOT_RTOL * hi_l) and (lo_r > _PIVOT_RTOL * hi_r)
            if ok and sl == sl and sr == sr:
                g = sl + sr - parent_score
            else:
                # A pivot test failed (or NaN): the dense damped solve, as the dense scan.
                g = _dense_gain(acc, h, mv, missing_bin, parent, p, l2, prior, diag_map,
                                diag_const, parent_score)  # fmt: skip
            if g > best_gain:
                best_gain = g
                best_bin = t
                best_mgl = direction == 1
    return best_gain, best_bin, best_mgl


@njit(nogil=True, fastmath=FASTMATH, error_model="numpy")
def _scan_two(h, n_bins_nm, parent, l2, min_leaf, parent_score, diag_map, diag_const):
    # The common case of `scan_diagonal`: two parameters (normal, log-normal, Laplace), no
    # leaf prior, no missing value in the node. One straight loop with every sum in a
    # scalar and a constant entry folded in as c * count (1.6x faster than the general
    # loop). Returns (gain, bin, clean); clean is False when some candidate fails the pivot
    # test or gives NaN, and the caller then runs the general scan, which scores those by
    # the dense damped solve.
    cnt = h.shape[1] - 1
    total = parent[parent.shape[0] - 1]
    g0p, g1p, h0p, h1p = parent[0], parent[1], parent[2], parent[4]  # packed (0,0), (1,1)
    # A varying entry k sums channel diag_map[k] (flag 1, constant 0); a constant one is
    # c * count (flag 0, c from diag_const, which is 0 for a varying entry).
    ch0 = diag_map[0] if diag_map[0] >= 0 else cnt
    ch1 = diag_map[1] if diag_map[1] >= 0 else cnt
    on0 = 1.0 if diag_map[0] >= 0 else 0.0
    on1 = 1.0 if diag_map[1] >= 0 else 0.0
    k0, k1 = diag_const[0], diag_const[1]
    a0 = a1 = s0 = s1 = nl = 0.0
    best_gain = -np.inf
    best_bin = -1
    clean = True
    for t in range(n_bins_nm):
        a0 += h[t, 0]
        a1 += h[t, 1]
        s0 += on0 * h[t, ch0]
        s1 += on1 * h[t, ch1]
        nl += h[t, cnt]
        hl0 = s0 + k0 * nl
        hl1 = s1 + k1 * nl
        dl0 = hl0 + l2
        dl1 = hl1 + l2
        dr0 = h0p - hl0 + l2
        dr1 = h1p - hl1 + l2
        b0 = g0p - a0
        b1 = g1p - a1
        sl = a0 * a0 / dl0 + a1 * a1 / dl1
        sr = b0 * b0 / dr0 + b1 * b1 / dr1
        ok = (nl >= min_leaf) & (total - nl >= min_leaf) & (h[t, cnt] > 0.0)
        if ok:
            piv = (min(dl0, dl1) > _PIVOT_RTOL * max(dl0, dl1)) & (
                min(dr0, dr1) > _PIVOT_RTOL * max(dr0, dr1)
            )
            if not (piv and sl == sl and sr == sr):
                clean = False
            g = sl + sr - parent_score
            if g > best_gain:
                best_gain = g
                best_bin = t
    return best_gain, best_bin, clean


@njit(nogil=True, fastmath=FASTMATH, error_model="numpy")
def _dense_gain(acc, h, mv, missing_bin, parent, p, l2, prior, diag_map, diag_const,
                parent_score):  # fmt: skip
    # Gain of the threshold whose left prefix sums are ``acc`` by the dense (damped) solve
    # of both children.
    Kh = h.shape[1]
    K = parent.shape[0]
    h_l = np.empty(Kh)
    for k in range(Kh):
        h_l[k] = acc[k] + mv * h[missing_bin, k]
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
