"""The one damped-solve policy for Fisher (metric) blocks: constants and a compiled kernel.

Every per-row solve F⁻¹g in natgrad follows one rule (`natgrad.natural_gradient`, the
optimizers, `natgrad.fit`, the boosting stage's ``"ngboost"`` rule and its compiled stage):

1. Â = D A D, the symmetric part of A scaled to a unit diagonal, D = diag(|A_ii|^(-1/2)) (1
   where A_ii = 0), so that huge or tiny entries do not overflow and the test below does not
   depend on the parameters' units;
2. Cholesky of Â; a pivot d_j counts as positive only if d_j > PIVOT_RTOL · max(Â_jj, 1);
3. where a pivot fails, Levenberg-Marquardt damping Â + μ_k I with
   μ_k = ŝ · 10^(k + LEVENBERG_START), k = 0, 1, ..., LEVENBERG_TRIES − 1, ŝ = max |Â_ij|
   (1 where that is zero) -- in the original coordinates A + μ_k·diag(|A_ii|);
4. a block that no damping makes positive definite (possible only when it is not finite)
   has failed: the compiled paths give it a zero step, the public solver raises.

The boosting tree's leaf solve (`natgrad.boosting._hist.leaf_solve`) solves sums of blocks
with a ridge λ and a leaf prior; its damping is part of its split criterion and is described
there.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from natgrad._compile_guard import install as _hold_interrupts_while_compiling

__all__ = ["LEVENBERG_START", "LEVENBERG_TRIES", "PIVOT_RTOL", "damped_solve"]

_hold_interrupts_while_compiling()  # Ctrl-C during compilation (natgrad._compile_guard)

#: Pivot test, on the block scaled to a unit diagonal: a Cholesky pivot d_j counts as
#: positive only if d_j > PIVOT_RTOL · max(Â_jj, 1). For an undamped block that is
#: d_j > PIVOT_RTOL · A_jj in the original units; the ratio d_j / A_jj is unchanged by
#: rescaling the coordinates (it is 1 − R² of coordinate j regressed on the earlier ones under
#: the metric), so the test does not depend on the parameters' units. The floor of 1 (the
#: block's own scale) rejects a damped diagonal that cancelled to rounding noise.
PIVOT_RTOL = 1e-10
#: Levenberg–Marquardt fallback, on the scaled block: Â + μ_k I with
#: μ_k = ŝ · 10^(k + LEVENBERG_START), k = 0, 1, ..., LEVENBERG_TRIES − 1, ŝ = max |Â_ij|.
#: Since p·ŝ bounds every eigenvalue of Â, the last tries make any finite block positive
#: definite.
LEVENBERG_START = -8
LEVENBERG_TRIES = 20


@njit(cache=True, nogil=True, error_model="numpy")
def _factor(a, scale, mu, chol):  # pragma: no cover - compiled
    """Cholesky of the scaled block plus μI into ``chol``; False when a pivot fails."""
    p = scale.shape[0]
    for j in range(p):
        for i in range(j, p):
            s = 0.5 * (a[i, j] + a[j, i]) * scale[i] * scale[j]
            if i == j:
                s += mu
                tol = PIVOT_RTOL * max(0.5 * (a[i, i] + a[i, i]) * scale[i] * scale[i] + mu, 1.0)
            for k in range(j):
                s -= chol[i, k] * chol[j, k]
            if i == j:
                if not s > tol:
                    return False
                chol[j, j] = np.sqrt(s)
            else:
                chol[i, j] = s / chol[j, j]
    return True


@njit(cache=True, nogil=True, error_model="numpy")
def damped_solve(a, b, out, chol):  # pragma: no cover - compiled
    """Solve ``a x = b`` for one block by the module's policy.

    Parameters
    ----------
    a : ndarray of shape (p, p)
    b : ndarray of shape (p,)
    out : ndarray of shape (p,)
        Receives x (zero when the block failed).
    chol : ndarray of shape (p, p)
        Scratch for the factor.

    Returns
    -------
    float
        The damping μ used on the scaled block (0 when none was needed), or -1 when no
        damping made the block positive definite.
    """
    p = b.shape[0]
    scale = np.empty(p)
    for i in range(p):
        d = abs(a[i, i])
        scale[i] = 1.0 / np.sqrt(d) if d > 0.0 else 1.0
    mu = 0.0
    ok = _factor(a, scale, mu, chol)
    if not ok:
        s_hat = 0.0
        for i in range(p):
            for j in range(p):
                v = abs(0.5 * (a[i, j] + a[j, i]) * scale[i] * scale[j])
                if not v <= s_hat:  # also picks up NaN
                    s_hat = v
        if not s_hat > 0.0:  # zero or NaN
            s_hat = 1.0
        for k in range(LEVENBERG_TRIES):
            mu = s_hat * 10.0 ** float(k + LEVENBERG_START)
            ok = _factor(a, scale, mu, chol)
            if ok:
                break
    if not ok:
        for i in range(p):
            out[i] = 0.0
        return -1.0
    # Forward and back substitution on the scaled right-hand side.
    for i in range(p):
        s = b[i] * scale[i]
        for k in range(i):
            s -= chol[i, k] * out[k]
        out[i] = s / chol[i, i]
    for i in range(p - 1, -1, -1):
        s = out[i]
        for k in range(i + 1, p):
            s -= chol[k, i] * out[k]
        out[i] = s / chol[i, i]
    for i in range(p):
        out[i] *= scale[i]
    return mu


@njit(cache=True, nogil=True, error_model="numpy")
def damped_solve_rows(a, b):  # pragma: no cover - compiled
    """`damped_solve` of every row: a (n, p, p), b (n, p) -> (x (n, p), μ (n,))."""
    n, p = b.shape
    x = np.empty((n, p))
    mu = np.empty(n)
    chol = np.zeros((p, p))
    for r in range(n):
        mu[r] = damped_solve(a[r], b[r], x[r], chol)
    return x, mu
