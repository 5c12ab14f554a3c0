"""Compiled log-score formulas of the common families, for the learners' fast paths.

A learner that runs a stage's per-row work compiled (`natgrad.boosting`'s stage kernels)
asks `log_score_formulas(family)` for the family's entry and calls the compiled row formulas
below with the entry's ``code``; it never names a family. Adding a family to the fast path is
one entry in `_REGISTRY` and its branch in each formula, all in this file.

The formulas are the families' own (`Normal._nll`, `Normal._grad`, ...) in the same order, so
the compiled path agrees with the NumPy one to rounding. Every family here has one
transcendental per row, ``e = exp(sign * theta[:, column])`` (1/σ or λ), which the caller
computes once per parameter update with NumPy and passes in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy import special

from natgrad.distributions._base import Array, Distribution
from natgrad.distributions.exponential import Exponential
from natgrad.distributions.laplace import Laplace
from natgrad.distributions.lognormal import LogNormal
from natgrad.distributions.normal import Normal
from natgrad.distributions.poisson import Poisson

__all__ = [
    "N_STATS",
    "Formulas",
    "add_leaf_stats",
    "leaf_loss",
    "log_score_formulas",
    "row_grad_fisher",
    "row_nll",
]

# Kernel codes (the compiled code branches on them once per row; the branch is
# loop-invariant).
_NORMAL = 0  # also LogNormal, on log y
_LAPLACE = 1
_EXPONENTIAL = 2
_POISSON = 3

_HALF_LOG_2PI = 0.5 * np.log(2.0 * np.pi)  # the value Normal uses
_LOG_2 = np.log(2.0)  # the value Laplace uses


def _identity(y: Array) -> tuple[Array, Array | None]:
    return y, None


def _log_target(y: Array) -> tuple[Array, Array | None]:
    # LogNormal's nll is Normal's on log y plus log y (the Jacobian), a per-row constant.
    log_y = np.log(y)
    return log_y, log_y


def _poisson_target(y: Array) -> tuple[Array, Array | None]:
    return y, special.gammaln(y + 1.0)


@dataclass(frozen=True)
class Formulas:
    """How the compiled formulas treat one family (its log score).

    Attributes
    ----------
    code : int
        The family's branch in the compiled formulas.
    n_params : int
        p (1 or 2).
    column, sign : int, float
        The family's one transcendental is ``exp(sign * theta[:, column])``.
    prepare : callable
        Targets as the formulas take them, and the per-row constant of the score (None:
        zero), from the validated targets y of shape (n,).
    fisher_diagonal : tuple of float or None
        When every row's Fisher block is diagonal: per parameter its value in every row, NaN
        where it varies (the varying entry is e²); None for p = 1.
    leaf_sums : bool
        Whether the loss along a leaf's direction depends on the leaf's rows only through
        the `add_leaf_stats` sums (else the line search needs a pass over the rows).
    """

    code: int
    n_params: int
    column: int
    sign: float
    prepare: Callable[[Array], tuple[Array, Array | None]]
    fisher_diagonal: tuple[float, ...] | None = None
    leaf_sums: bool = True


_REGISTRY: dict[type[Distribution], Formulas] = {
    Normal: Formulas(_NORMAL, 2, 1, -1.0, _identity, (np.nan, 2.0)),
    LogNormal: Formulas(_NORMAL, 2, 1, -1.0, _log_target, (np.nan, 2.0)),
    Laplace: Formulas(_LAPLACE, 2, 1, -1.0, _identity, (np.nan, 1.0), leaf_sums=False),
    Exponential: Formulas(_EXPONENTIAL, 1, 0, -1.0, _identity),
    Poisson: Formulas(_POISSON, 1, 0, 1.0, _poisson_target),
}


def log_score_formulas(family: type[Distribution]) -> Formulas | None:
    """The compiled log-score formulas of ``family``, or None when it has none.

    Exact types only: a subclass may override a formula, so it takes the generic path.
    """
    return _REGISTRY.get(family)


# ---------------------------------------------------------------------- compiled row formulas
# ``e`` is the family's cached exponential: exp(−log σ) (normal, log-normal, Laplace,
# exponential) or exp(log λ) (Poisson).
@njit(cache=True, nogil=True, error_model="numpy")
def row_nll(code, a0, a1, e, y):  # pragma: no cover - compiled
    """The log score of one row without its constant, in each family's own order."""
    if code == _NORMAL:
        z = (y - a0) * e
        return a1 + _HALF_LOG_2PI + 0.5 * z * z
    if code == _LAPLACE:
        return a1 + _LOG_2 + np.abs(y - a0) * e
    if code == _EXPONENTIAL:
        return a0 + y * e
    # _POISSON
    return e - y * a0


@njit(cache=True, nogil=True, error_model="numpy")
def row_grad_fisher(code, a0, e, y):  # pragma: no cover - compiled
    """(g0, g1, F00, F01, F11) of one row (unused entries zero for p = 1)."""
    if code == _NORMAL:
        z = (y - a0) * e
        return -z * e, 1.0 - z * z, e * e, 0.0, 2.0
    if code == _LAPLACE:
        diff = y - a0
        return -np.sign(diff) * e, 1.0 - np.abs(diff) * e, e * e, 0.0, 1.0
    if code == _EXPONENTIAL:
        return 1.0 - y * e, 0.0, 1.0, 0.0, 0.0
    # _POISSON
    return e - y, 0.0, e, 0.0, 0.0


# Columns of the per-leaf sums (`add_leaf_stats`), by family:
#   normal:      Σw, Σw log σ, Σw e², Σw e² r, Σw e² r² (r = y − μ, e = 1/σ), Σw c
#   exponential: Σw, Σw log σ, Σw y e, Σw c
#   Poisson:     Σw λ, Σw y log λ, Σw y, Σw c
#: Columns of a leaf's sums; the last is the score's per-row constant, added by the caller.
N_STATS = 6


@njit(cache=True, nogil=True, error_model="numpy")
def add_leaf_stats(code, acc, w, e, y, a0, a1):  # pragma: no cover - compiled
    """Add one row (weight w, parameters a0, a1) to its leaf's sums ``acc`` (N_STATS,)."""
    if code == _NORMAL:
        r = y - a0
        we2 = w * e * e
        acc[0] += w
        acc[1] += w * a1
        acc[2] += we2
        acc[3] += we2 * r
        acc[4] += we2 * r * r
    elif code == _EXPONENTIAL:
        acc[0] += w
        acc[1] += w * a0
        acc[2] += w * y * e
    else:  # _POISSON
        acc[0] += w * e
        acc[1] += w * y * a0
        acc[2] += w * y


@njit(cache=True, nogil=True, error_model="numpy")
def leaf_loss(code, st, v0, v1, rho):  # pragma: no cover - compiled
    """A leaf's loss at θ − ρv from its sums ``st``, without the constant column: θ − ρv is
    affine in ρ and exp(±(θ − ρv)) is the cached exp(±θ) times one factor per leaf."""
    if code == _NORMAL:
        f = np.exp(rho * v1)
        rv = rho * v0
        quad = st[4] + rv * (2.0 * st[3] + rv * st[2])
        return st[1] - rho * v1 * st[0] + _HALF_LOG_2PI * st[0] + 0.5 * (f * f) * quad
    if code == _EXPONENTIAL:
        return st[1] - rho * v0 * st[0] + np.exp(rho * v0) * st[2]
    # _POISSON
    return np.exp(-rho * v0) * st[0] - (st[1] - rho * v0 * st[2])
