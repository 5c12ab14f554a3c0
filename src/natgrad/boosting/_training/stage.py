"""Compiled stage kernels: a boosting stage's per-row work for common (family, score) pairs.

A stage of the generic path builds a `Distribution` for the current parameters, asks the
scoring rule for the gradient and the metric of every row (NumPy, one temporary per formula
term), packs the metric, and evaluates the training loss 4–6 times in the line search (a new
`Distribution` and an (n, p) trial array each time). For the families below with the log
score, the same numbers come from one compiled pass per quantity:

* `FusedStage.gradient_and_metric`: wᵢgᵢ and the packed upper triangle of wᵢFᵢ (the
  ``"fisher"`` leaf rule), written into preallocated arrays;
* `FusedStage.natural_gradient`: Fᵢ⁻¹gᵢ (the ``"ngboost"`` rule): gᵢ/Fᵢ for the positive
  diagonal blocks of these families, else natgrad's one damped solve (`natgrad._damped`);
* `FusedStage.line`: the line search's objective L(ρ) = Σ wᵢ S(θᵢ − ρ v[leafᵢ], yᵢ) from the
  tree's leaf values and each row's leaf, so no trial θ is ever materialised; for all but
  the Laplace family from a few per-leaf sums collected in one pass, so that each L(ρ)
  costs O(n_leaves) (`FusedStage.loss_along` is the row pass).

Each of these families has one transcendental per row, exp(±θ[:, c]) (1/σ or λ). Compiled
scalar exp costs more than the rest of a row's arithmetic, so `FusedStage.set_params` computes
it once per parameter update with NumPy's vectorised exp (the generic path's own numbers), and
the line search gets exp(±(θ − ρv)) as that times exp(∓ρv) per leaf. The row formulas are the
families' own, registered by the distributions layer (`natgrad.distributions.compiled`), so the
results agree with the generic path to rounding (a few ulps; the tests check 1e-12 relative).
Sums run over fixed blocks of rows in a fixed order, so the loss does not depend on the number
of threads.

Which pairs are fused: the log score (exact type) with a family that has compiled formulas
(exact types only: a subclass may override a formula); any other pair (custom families, other
scores, vector targets, configured families) takes the generic path unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

from natgrad._damped import damped_solve
from natgrad._typing import Array
from natgrad.distributions import Distribution, compiled
from natgrad.distributions.compiled import (
    N_STATS,
    Formulas,
    add_leaf_stats,
    leaf_loss,
    row_grad_fisher,
    row_nll,
)
from natgrad.scores import LogScore, Score

__all__ = ["FusedStage", "fused_stage"]

#: Private switch: False sends every family through the generic NumPy path (the tests compare
#: the two paths with it).
ENABLED = True

_BLOCK = 4096  # rows per partial sum of the loss: fixed, so sums do not depend on threads


def fused_stage(
    family: type[Distribution],
    score: Score,
    config: dict[str, Any],
    y: Array,
    weights: Array,
) -> FusedStage | None:
    """The compiled stage of ``(family, score)`` bound to targets and loss weights, or None.

    Parameters
    ----------
    family : Distribution subclass
    score : Score
    config : dict
        The family configuration; fused families take none.
    y : ndarray of shape (n,)
        Validated targets.
    weights : ndarray of shape (n,) or (1,)
        Loss weights (normalised to sum to one by the caller); shape (1,): the same weight
        for every row (equal weights, no per-row array).

    Returns
    -------
    FusedStage or None
        None where the pair is not fused (the caller takes the generic path).
    """
    entry = compiled.log_score_formulas(family) if type(score) is LogScore else None
    if not ENABLED or entry is None or config or y.ndim != 1:
        return None
    if weights.shape not in ((y.shape[0],), (1,)):
        raise ValueError(
            f"The 'weights' argument of fused_stage must have shape ({y.shape[0]},) or (1,). "
            f"Got shape {weights.shape} instead."
        )
    return FusedStage(entry, np.ascontiguousarray(y, dtype=np.float64), weights)


class FusedStage:
    """The compiled per-row work of one stage for one fused family, bound to its targets.

    The kernels read exp(±θ[:, c]) of the current parameters from a cache that
    `set_params` fills: call it after every change of θ, before the other methods.

    Parameters
    ----------
    entry : Formulas
        The family's compiled formulas (`natgrad.distributions.compiled`).
    y : ndarray of shape (n,)
        Targets.
    weights : ndarray of shape (n,) or (1,)
        Loss weights; shape (1,): the same weight for every row.
    """

    def __init__(self, entry: Formulas, y: Array, weights: Array) -> None:
        self.code = entry.code
        self._leaf_sums = entry.leaf_sums
        self.n_params = entry.n_params
        self.column = entry.column
        self.sign = entry.sign
        self.target, const = entry.prepare(y)
        self._fisher_diagonal = entry.fisher_diagonal
        self.has_const = const is not None
        self.const = const if const is not None else np.zeros(1)
        self.weights = np.ascontiguousarray(weights, dtype=np.float64)
        self._exp = np.empty(y.shape[0])
        self._no_values = np.zeros((1, entry.n_params))
        self._no_index = np.zeros(1, dtype=np.int32)
        self._ones = np.ones(entry.n_params)

    def set_params(self, theta: Array, *, loss: bool = True) -> float:
        """Cache exp(±θ[:, c]) of ``theta`` (n, p) and return the loss Σ wᵢ S(θᵢ, yᵢ)
        (NaN without computing it when ``loss`` is False)."""
        np.multiply(theta[:, self.column], self.sign, out=self._exp)
        with np.errstate(over="ignore", under="ignore"):  # inf/0 flow into the loss as such
            np.exp(self._exp, out=self._exp)
        if not loss:
            return np.nan
        return self._loss(theta, self._no_values, self._no_index, 0.0, False)

    def line(
        self, theta: Array, values: Array, index: NDArray[np.int32]
    ) -> Callable[[float], float]:
        """The line search's objective L(ρ) = Σ wᵢ S(θᵢ − ρ values[indexᵢ], yᵢ).

        For the families whose loss along a leaf's direction depends on the leaf's rows only
        through a few sums (normal, log-normal, exponential, Poisson), one pass over the rows
        collects them and each L(ρ) costs O(n_leaves); for the others (Laplace) each L(ρ)
        is a pass over the rows (`loss_along`). Both read the cache of `set_params`, which
        must hold ``theta``.

        Parameters
        ----------
        theta : ndarray of shape (n, p)
        values : ndarray of shape (n_leaves, p)
            The stage's direction as leaf values.
        index : ndarray of shape (n,), int32
            Each row's leaf.
        """
        n = self.target.shape[0]
        n_sums = values.shape[0] * N_STATS * ((n + _BLOCK - 1) // _BLOCK)
        # Many leaves (an external learner's output is one "leaf" per row) would make the
        # per-block sums larger than the rows themselves: a pass per L(ρ) instead.
        if not self._leaf_sums or n_sums > 2 * n:
            return lambda rho: self.loss_along(theta, values, index, rho)
        stats = self.leaf_stats(theta, index, values.shape[0])
        return lambda rho: self.stats_loss(stats, values, rho)

    @property
    def has_leaf_sums(self) -> bool:
        """Whether L(ρ) along a tree's direction follows from per-leaf sums (`leaf_stats`)."""
        return bool(self._leaf_sums)

    def leaf_stats(self, theta: Array, index: NDArray[np.int32], n_leaves: int) -> Array:
        """The per-leaf sums behind `line` (families with `has_leaf_sums`), read from the
        cache of `set_params`, which must hold ``theta``.

        They are sums over rows, so the sums of disjoint row shards add up to those of all
        the rows (the sharded engine, `natgrad.boosting.sharded`, adds them).

        Parameters
        ----------
        theta : ndarray of shape (n, p)
        index : ndarray of shape (n,), int32
            Each row's leaf.
        n_leaves : int

        Returns
        -------
        stats : ndarray of shape (n_leaves, N_STATS)
        """
        return _leaf_stats(
            self.code, theta, self._exp, index, n_leaves, self.target, self.const,
            self.has_const, self.weights,
        )  # fmt: skip

    def stats_loss(self, stats: Array, values: Array, rho: float) -> float:
        """L(ρ) = Σ wᵢ S(θᵢ − ρ values[leafᵢ], yᵢ) from `leaf_stats`' sums, O(n_leaves)."""
        return float(_stats_loss(self.code, stats, values, rho))

    def loss_along(
        self, theta: Array, values: Array, index: NDArray[np.int32], rho: float
    ) -> float:
        """Σ wᵢ S(θᵢ − ρ values[indexᵢ], yᵢ), the line search's L(ρ), from the cache.

        Parameters
        ----------
        theta : ndarray of shape (n, p)
            The parameters last passed to `set_params`.
        values : ndarray of shape (n_leaves, p)
            The stage's direction as leaf values.
        index : ndarray of shape (n,), int32
            Each row's leaf.
        rho : float
            Step scale.
        """
        return self._loss(theta, values, index, rho, True)

    def _loss(
        self, theta: Array, values: Array, index: NDArray[np.int32], rho: float, step: bool
    ) -> float:
        return float(
            _loss(
                self.code, theta, self._exp, self.sign, self.column, values, index, rho, step,
                self.target, self.const, self.has_const, self.weights,
            )
        )  # fmt: skip

    def gradient_and_metric(
        self, theta: Array, row_weight: Array | None, grad: Array, packed: Array
    ) -> None:
        """Write wᵢgᵢ into ``grad`` (n, p) and the upper triangle of wᵢFᵢ into ``packed``.

        ``packed`` has shape (n, p (p + 1) / 2), entries in ``numpy.triu_indices`` order;
        ``row_weight`` None means unit weights.
        """
        weighted = row_weight is not None
        w = row_weight if row_weight is not None else self._no_values[0]
        _grad_metric(self.code, theta, self._exp, self.target, w, weighted, grad, packed)

    def gradient_channels(
        self, theta: Array, row_weight: Array | None, columns: Array, out: Array
    ) -> None:
        """Write the Fisher rule's histogram channels of `grow_tree` into ``out``: wᵢgᵢ,
        then the entries ``columns`` (indices into the packed upper triangle) of wᵢFᵢ.

        ``columns`` = all ``p (p + 1) / 2`` entries gives the dense layout, the varying
        diagonal entries (`_diagonal_split.diagonal_layout`) the diagonal one. One pass
        instead of `gradient_and_metric` and the grower's copy into its layout.

        Parameters
        ----------
        theta : ndarray of shape (n, p)
        row_weight : ndarray of shape (n,) or None
            None means unit weights.
        columns : ndarray of shape (n_columns,), int64
        out : ndarray of shape (n, p + n_columns), C-contiguous
        """
        weighted = row_weight is not None
        w = row_weight if row_weight is not None else self._no_values[0]
        _grad_channels(self.code, theta, self._exp, self.target, w, weighted, columns, out)

    def metric_diagonal(self, weighted: bool) -> Array | None:
        """The diagonal of every row's ``wᵢFᵢ`` from `gradient_and_metric` when all the
        blocks are diagonal, else None: per parameter its value in every row, NaN where it
        varies (every entry varies with sample weights). For the grower's diagonal layout
        (`natgrad.boosting._hist.split_diagonal`)."""
        if self._fisher_diagonal is None:
            return None
        diag = np.array(self._fisher_diagonal, dtype=np.float64)
        if weighted:
            diag[:] = np.nan
        return diag

    def mean_fisher_diagonal(self, row_weight: Array | None) -> Array | None:
        """The weighted mean over rows of the diagonal of Fᵢ at the parameters of the last
        `set_params`, (p,), for the families with diagonal Fisher blocks (else None): the
        "ngboost" rule's split metric (`natgrad.boosting._training.trainer`). Their varying entry is
        the location's, exp(−2 log σ) = e² from the cache; the other one is constant."""
        if self._fisher_diagonal is None:
            return None
        diag = np.array(self._fisher_diagonal, dtype=np.float64)
        e = self._exp
        with np.errstate(over="ignore", invalid="ignore"):
            # Dot products: no (n,) temporary every stage.
            if row_weight is None:
                mean = (e @ e) / e.shape[0]
            else:
                mean = ((row_weight * e) @ e) / row_weight.sum()
        diag[np.isnan(diag)] = mean
        return diag

    def natural_gradient(self, theta: Array, out: Array, unit: Array | None = None) -> None:
        """Write Fᵢ⁻¹gᵢ into ``out`` (n, p), each column times ``unit`` (p,) if given."""
        scale = self._ones if unit is None else np.ascontiguousarray(unit, dtype=np.float64)
        _natural_gradient(self.code, theta, self._exp, self.target, scale, out)


# ---------------------------------------------------------------------- compiled solve
@njit(cache=True, nogil=True, error_model="numpy")
def _solve2(f00, f01, f11, g0, g1, p):  # pragma: no cover - compiled
    """F⁻¹g for one block with p ≤ 2 by natgrad's damped-solve policy (`natgrad._damped`),
    for the blocks that are not positive diagonal (rare: the arrays are made only here)."""
    a = np.empty((p, p))
    b = np.empty(p)
    a[0, 0] = f00
    b[0] = g0
    if p == 2:
        a[0, 1] = f01
        a[1, 0] = f01
        a[1, 1] = f11
        b[1] = g1
    out = np.empty(p)
    damped_solve(a, b, out, np.zeros((p, p)))
    return out[0], (out[1] if p == 2 else 0.0)


# ---------------------------------------------------------------------- compiled passes
@njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def _loss(
    code, theta, exp_theta, sign, column, values, index, rho, step, target, const, has_const,
    weights,
):  # fmt: skip  # pragma: no cover - compiled
    n = target.shape[0]
    p = theta.shape[1]
    # exp(sign · (θ − ρv)) = exp(sign · θ) · exp(−sign · ρ v): one exp per leaf, not per row.
    n_leaves = values.shape[0]
    factor = np.ones(n_leaves)
    if step:
        for lf in range(n_leaves):
            factor[lf] = np.exp(-sign * rho * values[lf, column])
    n_blocks = (n + _BLOCK - 1) // _BLOCK
    partial = np.empty(n_blocks)
    w_step = 1 if weights.shape[0] > 1 else 0  # one weight (shape (1,)) for every row
    for b in prange(n_blocks):
        total = 0.0
        for i in range(b * _BLOCK, min(n, (b + 1) * _BLOCK)):
            a0 = theta[i, 0]
            a1 = theta[i, 1] if p == 2 else 0.0
            e = exp_theta[i]
            if step:
                lf = index[i]
                a0 = a0 - rho * values[lf, 0]
                if p == 2:
                    a1 = a1 - rho * values[lf, 1]
                e = e * factor[lf]
            s = row_nll(code, a0, a1, e, target[i])
            if has_const:
                s = s + const[i]
            total += weights[i * w_step] * s
        partial[b] = total
    out = 0.0
    for b in range(n_blocks):
        out += partial[b]
    return out


@njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def _grad_metric(code, theta, exp_theta, target, w, weighted, grad, packed):  # pragma: no cover
    n = target.shape[0]
    p = theta.shape[1]
    for i in prange(n):
        g0, g1, f00, f01, f11 = row_grad_fisher(code, theta[i, 0], exp_theta[i], target[i])
        if weighted:
            wi = w[i]
            g0, g1, f00, f01, f11 = g0 * wi, g1 * wi, f00 * wi, f01 * wi, f11 * wi
        grad[i, 0] = g0
        packed[i, 0] = f00
        if p == 2:
            grad[i, 1] = g1
            packed[i, 1] = f01
            packed[i, 2] = f11


@njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def _grad_channels(code, theta, exp_theta, target, w, weighted, columns, out):  # pragma: no cover
    n = target.shape[0]
    p = theta.shape[1]
    n_cols = columns.size
    for i in prange(n):
        g0, g1, f00, f01, f11 = row_grad_fisher(code, theta[i, 0], exp_theta[i], target[i])
        wi = w[i] if weighted else 1.0
        out[i, 0] = wi * g0
        if p == 2:
            out[i, 1] = wi * g1
        for j in range(n_cols):
            c = columns[j]  # packed (0, 0), (0, 1), (1, 1)
            out[i, p + j] = wi * (f00 if c == 0 else (f01 if c == 1 else f11))


@njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def _natural_gradient(code, theta, exp_theta, target, unit, out):  # pragma: no cover - compiled
    n = target.shape[0]
    p = theta.shape[1]
    for i in prange(n):
        g0, g1, f00, f01, f11 = row_grad_fisher(code, theta[i, 0], exp_theta[i], target[i])
        if f01 == 0.0 and 0.0 < f00 < np.inf and (p == 1 or 0.0 < f11 < np.inf):
            # A positive diagonal block: the scaled Cholesky has unit pivots and no
            # damping, and gives g / F up to a few ulps, without its sqrt/div chain.
            x0 = g0 / f00
            x1 = g1 / f11 if p == 2 else 0.0
        else:
            x0, x1 = _solve2(f00, f01, f11, g0, g1, p)
        out[i, 0] = x0 * unit[0]
        if p == 2:
            out[i, 1] = x1 * unit[1]


@njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def _leaf_stats(
    code, theta, exp_theta, index, n_leaves, target, const, has_const, weights
):  # pragma: no cover - compiled
    n = target.shape[0]
    n_blocks = (n + _BLOCK - 1) // _BLOCK
    partial = np.zeros((n_blocks, n_leaves, N_STATS))
    p = theta.shape[1]
    w_step = 1 if weights.shape[0] > 1 else 0  # one weight (shape (1,)) for every row
    for b in prange(n_blocks):
        acc = partial[b]
        for i in range(b * _BLOCK, min(n, (b + 1) * _BLOCK)):
            lf = index[i]
            w = weights[i * w_step]
            a1 = theta[i, 1] if p == 2 else 0.0
            add_leaf_stats(code, acc[lf], w, exp_theta[i], target[i], theta[i, 0], a1)
            if has_const:
                acc[lf, N_STATS - 1] += w * const[i]
    out = np.zeros((n_leaves, N_STATS))
    for b in range(n_blocks):
        out += partial[b]
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def _stats_loss(code, stats, values, rho):  # pragma: no cover - compiled
    """L(ρ) from the per-leaf sums: θ − ρv is affine in ρ and exp(±(θ − ρv)) is the cached
    exp(±θ) times one factor per leaf, so each family's score sums in closed form."""
    total = 0.0
    p = values.shape[1]
    for lf in range(stats.shape[0]):
        v1 = values[lf, 1] if p == 2 else 0.0
        total += leaf_loss(code, stats[lf], values[lf, 0], v1, rho)
        total += stats[lf, N_STATS - 1]
    return total
