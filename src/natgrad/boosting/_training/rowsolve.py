"""Per-row natural gradients F_i⁻¹ g_i for the ``"ngboost"`` leaf rule, compiled.

`natgrad.natural_gradient` is the validated, general solver; a boosting stage calls this
kernel instead because it runs once per stage over every training row, where NumPy's
per-call overhead on tiny blocks dominates. The rule is the same: a Cholesky factorisation of
the Jacobi-scaled block (unit diagonal), and where a pivot is not positive, Levenberg damping
μ·I added to the scaled block with μ = 10⁻¹⁰, 10⁻⁹, ... until it is. A block that no damping
makes positive definite (only possible when it is not finite) gives a zero step.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from natgrad.distributions._base import Array

_PIVOT_RTOL = 1e-10


@njit(cache=True, nogil=True, error_model="numpy")
def _solve_one(a, b, out, chol):  # pragma: no cover - compiled
    p = b.shape[0]
    scale = np.empty(p)
    for i in range(p):
        d = abs(a[i, i])
        scale[i] = 1.0 / np.sqrt(d) if d > 0.0 else 1.0
    damping = 0.0
    ok = False
    for _attempt in range(25):
        ok = True
        for j in range(p):
            for i in range(j, p):
                s = 0.5 * (a[i, j] + a[j, i]) * scale[i] * scale[j]
                if i == j:
                    s += damping
                for k in range(j):
                    s -= chol[i, k] * chol[j, k]
                if i == j:
                    if not s > _PIVOT_RTOL:
                        ok = False
                        break
                    chol[j, j] = np.sqrt(s)
                else:
                    chol[i, j] = s / chol[j, j]
            if not ok:
                break
        if ok:
            break
        damping = 1e-10 if damping == 0.0 else damping * 10.0
    if not ok:
        # Not finite (an overflowing block): this row contributes no step.
        for i in range(p):
            out[i] = 0.0
        return
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


@njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def _solve_rows(metric, grad, out):  # pragma: no cover - compiled
    n, p = grad.shape
    for i in prange(n):
        chol = np.zeros((p, p))
        _solve_one(metric[i], grad[i], out[i], chol)


def row_natural_gradients(grad: Array, metric: Array) -> Array:
    """F_i⁻¹ g_i for every row: grad (n, p), metric (n, p, p) -> (n, p)."""
    out = np.empty_like(grad)
    _solve_rows(np.ascontiguousarray(metric), np.ascontiguousarray(grad), out)
    return out
