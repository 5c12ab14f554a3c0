"""The linear algebra of Fisher scoring: weighted Gram matrices by row blocks, Cholesky solves.

Every Fisher-scoring iteration of a GLM is one weighted least-squares problem,

    (X̃ᵀ W X̃ + P) β = X̃ᵀ W z,      X̃ = [1, X] with an intercept,

so its cost is one pass over X forming X̃ᵀ W X̃ (a BLAS rank-k update per block of rows) and a
p × p Cholesky solve. The blocks bound the extra memory to a few megabytes however many rows X
has, and the intercept column is written into each block instead of into a copy of X.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

import numpy as np
from scipy import linalg
from scipy.linalg import lapack

from natgrad._natural import solve_psd
from natgrad._typing import Array

# Elements per block of rows (2 MB of float64: the block stays in cache between the weighting
# and the rank-k update, about a third faster than 8 MB blocks).
_BLOCK_ELEMENTS = 1 << 18
# Pivoted Cholesky of the Gram matrix scaled to unit diagonal: a column whose squared residual
# on the columns before it is below this fraction of its own squared norm counts as a linear
# combination of them (a relative residual norm of about 3e-6).
RANK_TOL = 1e-11


def _blocks(X: Array, intercept: bool) -> Iterator[tuple[int, int]]:
    n, p = X.shape
    step = max(256, _BLOCK_ELEMENTS // (p + int(intercept) + 1))
    for start in range(0, n, step):
        yield start, min(n, start + step)


def weighted_gram(
    X: Array, intercept: bool, w: Array, z: Array | None = None
) -> tuple[Array, Array]:
    """X̃ᵀ diag(w) X̃ and X̃ᵀ (w z), by blocks of rows.

    Parameters
    ----------
    X : ndarray of shape (n, p)
        The design matrix without the intercept column.
    intercept : bool
        Whether X̃ has a leading column of ones.
    w : ndarray of shape (n,)
        Weights. Non-negative weights take the symmetric rank-k update of √w X̃; weights of
        either sign (the observed information) a general product.
    z : ndarray of shape (n,), optional
        Working response.

    Returns
    -------
    gram : ndarray of shape (q, q)
        q = p + 1 with an intercept, else p.
    rhs : ndarray of shape (q,)
        Zeros when ``z`` is None.
    """
    n, p = X.shape
    q = p + int(intercept)
    gram = np.zeros((q, q))
    rhs = np.zeros(q)
    symmetric = bool(np.all(w >= 0))
    for start, stop in _blocks(X, intercept):
        wb = w[start:stop]
        scale = np.sqrt(wb) if symmetric else np.ones_like(wb)
        block = np.empty((stop - start, q))
        if intercept:
            block[:, 0] = scale
        np.multiply(X[start:stop], scale[:, None], out=block[:, int(intercept) :])
        if symmetric:
            gram += block.T @ block  # the same buffer on both sides: a SYRK update
            if z is not None:
                rhs += block.T @ (scale * z[start:stop])
        else:
            gram += block.T @ (block * wb[:, None])
            if z is not None:
                rhs += block.T @ (wb * z[start:stop])
    return gram, rhs


def linear_predictor(X: Array, intercept: bool, beta: Array, offset: Array | None) -> Array:
    """η = X̃ β + offset, shape (n,)."""
    eta = X @ beta[int(intercept) :]
    if intercept:
        eta += beta[0]
    if offset is not None:
        eta += offset
    return eta


def dependent_columns(gram: Array) -> tuple[int, list[int], Array]:
    """Rank of a Gram matrix and the columns a pivoted Cholesky finds dependent.

    The Gram matrix is scaled to unit diagonal first, so that the tolerance ``RANK_TOL`` is a
    statement about angles between columns, not about their units.

    Returns
    -------
    rank : int
    dependent : list of int
        Column indices that are (numerically) linear combinations of the other columns; a
        column of zeros always is.
    combination : ndarray of shape (q, len(dependent))
        Column k expresses dependent column ``dependent[k]`` in the independent columns (zeros
        elsewhere), in the original units.
    """
    q = gram.shape[0]
    diag = np.diag(gram).copy()
    zero = diag <= 0
    d = np.sqrt(np.where(zero, 1.0, diag))
    scaled = gram / np.outer(d, d)
    scaled[zero, :] = 0.0
    scaled[:, zero] = 0.0
    scaled[zero, zero] = 0.0
    # LAPACK's pivoted Cholesky stops at the first pivot below tol; rank = columns factored.
    _, piv, rank, info = lapack.dpstrf(scaled, tol=RANK_TOL, lower=0)
    if info < 0:  # pragma: no cover - an argument error in the LAPACK call itself
        raise RuntimeError(f"dpstrf failed with info={info}")
    order = np.asarray(piv[:q]) - 1
    keep = np.sort(order[:rank])
    dependent = sorted(int(j) for j in order[rank:])
    dep = np.asarray(dependent, dtype=np.intp)
    combination = np.zeros((q, len(dependent)))
    if dependent and keep.size:
        sub = scaled[np.ix_(keep, keep)]
        coef = linalg.solve(sub, scaled[np.ix_(keep, dep)], assume_a="pos")
        # Back to the original units: x_j ≈ Σ_k c_k x_k with c = coef · d_j / d_k.
        combination[keep, :] = coef * d[dep][None, :] / d[keep][:, None]
    return int(rank), dependent, combination


def describe_dependence(names: Sequence[str], dependent: list[int], combination: Array) -> str:
    """'x3' = 2·'x1' − 'x2'; ... for the first few dependent columns."""
    parts = []
    for k, j in enumerate(dependent[:3]):
        terms = [f"{c:+.3g}·{names[i]!r}" for i, c in enumerate(combination[:, k]) if abs(c) > 1e-9]
        rhs = " ".join(terms) if terms else "0"
        parts.append(f"{names[j]!r} = {rhs}")
    return "; ".join(parts)


def cholesky_solve(matrix: Array, rhs: Array) -> Array:
    """Solve the normal equations X̃ᵀWX̃ β = X̃ᵀWz (a Fisher matrix) by Cholesky.

    LAPACK's factorisation first; a matrix it finds not positive definite (a weight that
    underflowed to 0, say) goes through natgrad's one damped solve of Fisher blocks
    (`natgrad._natural.solve_psd`: scaled to a unit diagonal, Levenberg-Marquardt damping
    relative to each coordinate's own scale, so the result does not depend on the units of X).
    """
    try:
        return linalg.cho_solve(linalg.cho_factor(matrix, check_finite=False), rhs)
    except linalg.LinAlgError:
        pass
    x, _ = solve_psd(matrix[None], rhs[None], what="Fisher-scoring", log_level=logging.DEBUG)
    return x[0]


def inverse_psd(matrix: Array) -> Array:
    """Inverse of a symmetric positive definite matrix by Cholesky (pseudo-inverse if singular)."""
    try:
        factor = linalg.cho_factor(matrix, check_finite=False)
        return linalg.cho_solve(factor, np.eye(matrix.shape[0]))
    except linalg.LinAlgError:
        return np.asarray(linalg.pinvh(matrix))
