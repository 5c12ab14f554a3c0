"""Per-row natural gradients F_i⁻¹ g_i for the ``"ngboost"`` leaf rule, compiled.

`natgrad.natural_gradient` is the validated, general solver; a boosting stage calls this
kernel instead because it runs once per stage over every training row, where NumPy's
per-call overhead on tiny blocks dominates. Both follow natgrad's one damped-solve policy
(`natgrad._damped`): a Cholesky factorisation of the Jacobi-scaled block with Levenberg-
Marquardt damping where a pivot fails; a block that no damping makes positive definite (only
possible when it is not finite) gives a zero step.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from natgrad._damped import damped_solve
from natgrad._typing import Array

__all__ = ["row_natural_gradients"]


@njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def _solve_rows(metric, grad, out):  # pragma: no cover - compiled
    n, p = grad.shape
    for i in prange(n):
        chol = np.zeros((p, p))
        damped_solve(metric[i], grad[i], out[i], chol)


def row_natural_gradients(grad: Array, metric: Array) -> Array:
    """F_i⁻¹ g_i for every row: grad (n, p), metric (n, p, p) -> (n, p)."""
    out = np.empty_like(grad)
    _solve_rows(np.ascontiguousarray(metric), np.ascontiguousarray(grad), out)
    return out
