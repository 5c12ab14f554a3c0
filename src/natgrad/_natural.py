"""The natural gradient F⁻¹g, batched over rows, and the step size of a KL trust region.

Both functions take rows first: a batch of n gradients of shape (n, p) and n metric blocks of
shape (n, p, p) (a single (p,) / (p, p) pair is accepted too). The solve is a Cholesky
factorisation vectorised over the rows; a block that is not numerically positive definite
gets Levenberg damping for that row only (see `natural_gradient`).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from natgrad._damped import PIVOT_RTOL, damped_solve_rows
from natgrad._typing import Array
from natgrad._validation import as_float_array, check_finite, describe

logger = logging.getLogger(__name__)


def _check_float(value: Any, name: str, where: str, *, positive: bool = False) -> float:
    """A finite real number ≥ 0 (or > 0 with ``positive``), else a `ValueError`."""
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    ok = ok and bool(np.isfinite(value)) and (value > 0 if positive else value >= 0)
    if not ok:
        bound = "(0, inf)" if positive else "[0, inf)"
        raise ValueError(
            f"The {name!r} argument of {where} must be a float in the range {bound}. "
            f"Got {describe(value)} instead."
        )
    return float(value)


def _check_pair(
    vector: ArrayLike, matrix: ArrayLike, vname: str, mname: str, where: str
) -> tuple[Array, Array, bool]:
    """Validate a (n, p) / (n, p, p) pair (or (p,) / (p, p)); return 2-d/3-d arrays."""
    g = as_float_array(vector, vname, where)
    f = as_float_array(matrix, mname, where)
    single = g.ndim == 1
    if g.ndim not in (1, 2) or g.shape[-1] == 0:
        raise ValueError(
            f"The {vname!r} argument of {where} must have shape (n, p) or (p,) with p >= 1. "
            f"Got shape {g.shape} instead."
        )
    p = g.shape[-1]
    expected = (p, p) if single else (g.shape[0], p, p)
    if f.shape != expected:
        raise ValueError(
            f"The {mname!r} argument of {where} must have shape {expected} to match "
            f"{vname!r} of shape {g.shape}. Got shape {f.shape} instead."
        )
    check_finite(g, vname, where)
    check_finite(f, mname, where)
    if single:
        g, f = g[None, :], f[None, :, :]
    return g, f, single


def _cholesky_rows(a: Array) -> tuple[Array, NDArray[np.bool_]]:
    """Cholesky factors of a stack of symmetric matrices, and which rows succeeded.

    Vectorised over the rows (a loop over the p columns only), so that one bad block does not
    abort the whole batch as `numpy.linalg.cholesky` would. A row fails when a pivot d_j is not
    larger than ``PIVOT_RTOL · max(a_jj, 1)`` (``a`` is scaled to a unit diagonal by the
    caller); its factor is then meaningless and must not be used.

    Parameters
    ----------
    a : ndarray of shape (n, p, p)

    Returns
    -------
    chol : ndarray of shape (n, p, p)
        Lower-triangular L with L Lᵀ = a for the rows that succeeded.
    ok : ndarray of shape (n,), bool
    """
    n, p, _ = a.shape
    chol = np.zeros_like(a)
    ok = np.ones(n, dtype=bool)
    for j in range(p):
        row = chol[:, j, :j]
        pivot = a[:, j, j] - np.einsum("nk,nk->n", row, row)
        good = (a[:, j, j] > 0) & (pivot > PIVOT_RTOL * np.maximum(a[:, j, j], 1.0))
        ok &= good
        diag = np.sqrt(np.where(good, pivot, 1.0))
        chol[:, j, j] = diag
        if j + 1 < p:
            below = a[:, j + 1 :, j] - np.einsum("nik,nk->ni", chol[:, j + 1 :, :j], row)
            chol[:, j + 1 :, j] = below / diag[:, None]
    return chol, ok


def _cholesky_solve(chol: Array, b: Array) -> Array:
    """Solve L Lᵀ x = b row by row (forward then back substitution, vectorised over rows)."""
    n, p, _ = chol.shape
    z = np.empty_like(b)
    for j in range(p):
        z[:, j] = (b[:, j] - np.einsum("nk,nk->n", chol[:, j, :j], z[:, :j])) / chol[:, j, j]
    x = np.empty_like(b)
    for j in range(p - 1, -1, -1):
        x[:, j] = (z[:, j] - np.einsum("nk,nk->n", chol[:, j + 1 :, j], x[:, j + 1 :])) / chol[
            :, j, j
        ]
    return x


def _try_solve(a: Array, b: Array) -> tuple[Array, NDArray[np.bool_]]:
    """Solve a x = b for the rows whose block passes the pivot test; ``ok`` marks them.

    p = 1 and p = 2 use the closed form of the same factorisation (the usual sizes of a
    distribution's parameters; numpy's per-call overhead dominates there), larger p the
    vectorised Cholesky.
    """
    p = a.shape[1]
    if p == 1:
        ok = a[:, 0, 0] > PIVOT_RTOL
        return b / np.where(ok, a[:, 0, 0], 1.0)[:, None], ok
    if p == 2:
        a00, a01, a11 = a[:, 0, 0], a[:, 0, 1], a[:, 1, 1]
        safe00 = np.where(a00 > 0, a00, 1.0)
        pivot = a11 - a01 * a01 / safe00  # the second Cholesky pivot (a Schur complement)
        ok = (a00 > PIVOT_RTOL) & (a11 > 0) & (pivot > PIVOT_RTOL * np.maximum(a11, 1.0))
        det = safe00 * np.where(ok, pivot, 1.0)
        x = np.column_stack([a11 * b[:, 0] - a01 * b[:, 1], a00 * b[:, 1] - a01 * b[:, 0]])
        return x / det[:, None], ok
    chol, ok = _cholesky_rows(a)
    chol[~ok] = np.eye(p)  # keep the substitution finite on rows whose result is discarded
    return _cholesky_solve(chol, b), ok


def solve_psd(
    matrix: Array, rhs: Array, *, what: str = "metric", log_level: int = logging.WARNING
) -> tuple[Array, Array]:
    """Solve A x = b for a stack of symmetric blocks, with a per-row Levenberg fallback.

    No validation (internal; callers pass finite arrays). Returns ``(x, lam)`` where ``lam``
    (shape (n,)) is the relative Marquardt damping μ each row needed (0 where the block
    passed): the row was solved with A + μ·diag(|A_ii|).

    Parameters
    ----------
    matrix : ndarray of shape (n, p, p)
    rhs : ndarray of shape (n, p)
    what : str
        How a log message names the blocks ("Fisher", "Hessian").
    log_level : int
        `logging` level of the message emitted when some rows needed the fallback.
    """
    a = 0.5 * (matrix + np.swapaxes(matrix, 1, 2))  # symmetric part; drops rounding asymmetry
    # Jacobi scaling to a unit diagonal: it avoids overflow in the products of huge entries
    # and makes the damping below relative to each coordinate's own scale.
    diag = np.abs(np.diagonal(a, axis1=1, axis2=2))
    d = 1.0 / np.sqrt(np.where(diag > 0, diag, 1.0))
    a = (a * d[:, :, None]) * d[:, None, :]
    x, ok = _try_solve(a, rhs * d)
    lam = np.zeros(a.shape[0])
    if ok.all():
        return x * d, lam
    x = x * d
    # The rows that failed: natgrad's one damped solve (`natgrad._damped`) on their blocks.
    bad = np.flatnonzero(~ok)
    sym = 0.5 * (matrix[bad] + np.swapaxes(matrix[bad], 1, 2))
    xs, mu = damped_solve_rows(np.ascontiguousarray(sym), np.ascontiguousarray(rhs[bad]))
    if (mu < 0).any():  # unreachable for finite blocks: the last damping dominates every entry
        raise np.linalg.LinAlgError(
            f"{what} blocks of rows {bad[mu < 0].tolist()} stay indefinite after damping."
        )
    lam[bad] = mu
    logger.log(
        log_level,
        "%d of %d %s block(s) not positive definite (rows %s); added Levenberg-Marquardt "
        "damping of up to %.3g times the diagonal.",
        bad.size,
        a.shape[0],
        what,
        bad[:10].tolist(),
        lam.max(),
    )
    x[bad] = xs
    return x, lam


def natural_gradient(grad: ArrayLike, fisher: ArrayLike, damping: float = 0.0) -> Array:
    """The natural gradient (F + λI)⁻¹ g, row by row.

    Parameters
    ----------
    grad : array-like of shape (n, p) or (p,)
        Gradients g of the loss, one row per distribution.
    fisher : array-like of shape (n, p, p) or (p, p)
        Fisher (metric) blocks F, symmetric positive semi-definite.
    damping : float, default 0.0
        λ ≥ 0 added to every diagonal (Tikhonov damping).

    Returns
    -------
    ndarray of the shape of ``grad``
        g̃ = (F + λI)⁻¹ g, by a Cholesky factorisation vectorised over the rows.

    Notes
    -----
    Singular or indefinite blocks. A block counts as positive definite when every Cholesky
    pivot d_j exceeds ``1e-10 · A_jj`` (A = F + λI); the ratio is invariant to rescaling the
    parameters. A row that fails is solved with A + μ·diag(|A_ii|) instead (Marquardt's
    damping; 1 in place of a zero diagonal entry), with μ = ŝ·10⁻⁸, ŝ·10⁻⁷, ... until the
    factorisation succeeds, where ŝ is the largest entry of A scaled to a unit diagonal,
    |A_ij| / √(|A_ii A_jj|). The result moves little along the directions the Fisher cannot
    see. Such rows are logged at WARNING level on the ``natgrad._natural`` logger; the other
    rows are solved exactly. (Every solve is done on A scaled to a unit diagonal, so huge or
    tiny entries do not overflow.)

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import natural_gradient
    >>> from natgrad.distributions import Normal
    >>> dist = Normal(loc=0.0, scale=0.1)
    >>> g = dist.grad([0.05])                       # ∇nll at y = 0.05: large along loc
    >>> print(g.round(3))
    [[-5.    0.75]]
    >>> print(natural_gradient(g, dist.fisher()).round(3))   # F⁻¹g = (μ − y, (1 − z²)/2)
    [[-0.05   0.375]]
    """
    where = "natural_gradient"
    g, f, single = _check_pair(grad, fisher, "grad", "fisher", where)
    lam = _check_float(damping, "damping", where)
    if lam:
        f = f + lam * np.eye(f.shape[1])
    out, _ = solve_psd(f, g, what="Fisher")
    return out[0] if single else out


def kl_step_size(
    direction: ArrayLike, fisher: ArrayLike, max_kl: float, *, total: bool = False
) -> Array | float:
    """The step η ≥ 0 along ``direction`` whose second-order KL equals ``max_kl``.

    KL(p_θ ‖ p_{θ+ηd}) ≈ ½ η² dᵀF d, so η = sqrt(2·max_kl / dᵀF d).

    Parameters
    ----------
    direction : array-like of shape (n, p) or (p,)
        Step directions d (e.g. natural gradients), one per row.
    fisher : array-like of shape (n, p, p) or (p, p)
        Fisher blocks F at the current parameters.
    max_kl : float
        The KL budget, > 0.
    total : bool, default False
        False: one η per row, each row's own KL equal to ``max_kl``. True: one η for the
        whole batch so that the summed KL ½η² Σᵢ dᵢᵀFᵢdᵢ (the KL of the joint distribution of
        independent rows) equals ``max_kl``.

    Returns
    -------
    ndarray of shape (n,), or float
        η per row (a float for a single (p,) direction or with ``total=True``). Where
        dᵀFd = 0 (a zero direction, or one the Fisher cannot see) the KL budget does not
        bound the step; η is then 0, so that a caller never takes an unbounded step.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import kl_step_size, natural_gradient
    >>> from natgrad.distributions import Normal
    >>> dist = Normal(loc=[0.0, 0.0], scale=[1.0, 0.01])
    >>> d = natural_gradient(dist.grad([1.0, 0.01]), dist.fisher())
    >>> eta = kl_step_size(d, dist.fisher(), max_kl=0.01)
    >>> print(eta.round(4))                         # same KL per row, whatever the scale
    [0.1414 0.1414]
    >>> new = dist.with_params(dist.params - eta[:, None] * d)
    >>> print(dist.kl(new).round(4))
    [0.01 0.01]
    """
    where = "kl_step_size"
    d, f, single = _check_pair(direction, fisher, "direction", "fisher", where)
    budget = _check_float(max_kl, "max_kl", where, positive=True)
    quad = np.einsum("ni,nij,nj->n", d, f, d)
    if total:
        quad = np.array([quad.sum()])
    # A negative quadratic form (an indefinite metric) cannot bound the step either.
    safe = quad > 0
    eta = np.where(safe, np.sqrt(2.0 * budget / np.where(safe, quad, 1.0)), 0.0)
    return float(eta[0]) if (single or total) else eta
