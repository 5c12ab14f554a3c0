"""The Laplace family, parameterised by (loc, log scale)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from natgrad.distributions._base import Array, Distribution, register_kl
from natgrad.distributions._support import POSITIVE, REAL

_LOG_2 = np.log(2.0)


def _weighted_quantile(y: Array, w: Array, q: float) -> float:
    """The q-quantile of the weighted sample (y, w), w ≥ 0 with a positive sum.

    The smallest y whose cumulative weight reaches q; where the cumulative weight equals q
    exactly (an unweighted sample of even size at q = ½), the midpoint of the flat stretch,
    so that the unweighted median is the usual one. Shared by the location-scale families.
    """
    keep = w > 0
    order = np.argsort(y[keep], kind="stable")
    ys = y[keep][order]
    cw = np.cumsum(w[keep][order])
    cw /= cw[-1]
    tol = 1e-12
    i = int(np.searchsorted(cw, q - tol, side="left"))
    i = min(i, ys.size - 1)
    if abs(cw[i] - q) <= tol and i + 1 < ys.size:
        return float(0.5 * (ys[i] + ys[i + 1]))
    return float(ys[i])


class Laplace(Distribution):
    """Laplace (double exponential) distributions with location μ and scale b.

    Unconstrained parameters θ = (μ, log b). Negative log-likelihood and its geometry:

        nll = log 2b + |z|,   z = (y − μ)/b
        ∇nll = (−sign(z)/b, 1 − |z|)
        F = diag(1/b², 1)

    (|z| ~ Exp(1), so E[sign²] = 1, Var|z| = 1 and the cross term vanishes by symmetry.) The
    nll has a kink at y = μ: its Hessian in μ is 2δ(y − μ)/b, whose expectation is again
    1/b², so F = E[Hessian] only holds with that point mass counted.

    Parameters
    ----------
    loc : array-like of shape (n,) or scalar
        Location (mean and median) μ.
    scale : array-like of shape (n,) or scalar
        Scale b > 0 (the variance is 2b²).

    See Also
    --------
    natgrad.distributions.Normal : Lighter tails.
    natgrad.distributions.StudentT : Heavier tails.

    Examples
    --------
    >>> from natgrad.distributions import Laplace
    >>> dist = Laplace(loc=0.0, scale=[1.0, 2.0])
    >>> print(dist.std().round(3))
    [1.414 2.828]
    >>> print(dist.nll([0.0, 0.0]).round(3))
    [0.693 1.386]
    """

    name = "laplace"
    param_names = ("loc", "log_scale")
    n_params = 2
    support = REAL
    natural_support = {"loc": REAL, "scale": POSITIVE}
    examples = [({}, [[0.0, 0.0], [1.5, -2.0], [-4.0, 1.5]])]

    def __init__(self, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> None:
        self._set_natural(loc=loc, scale=scale)

    def _from_natural(self, loc: Array, scale: Array) -> Array:  # type: ignore[override]
        return np.column_stack([loc, np.log(scale)])

    def _natural(self) -> dict[str, Array]:
        return {"loc": self._params[:, 0], "scale": np.exp(self._params[:, 1])}

    @property
    def loc(self) -> Array:
        return self._params[:, 0]

    @property
    def scale(self) -> Array:
        return np.exp(self._params[:, 1])

    def _nll(self, y: Array) -> Array:
        log_scale = self._params[:, 1]
        return log_scale + _LOG_2 + np.abs(y - self._params[:, 0]) * np.exp(-log_scale)

    def _grad(self, y: Array) -> Array:
        inv_scale = np.exp(-self._params[:, 1])
        diff = y - self._params[:, 0]
        return np.stack([-np.sign(diff) * inv_scale, 1.0 - np.abs(diff) * inv_scale], axis=-1)

    def _fisher(self) -> Array:
        n = len(self)
        out = np.zeros((n, 2, 2))
        out[:, 0, 0] = np.exp(-2.0 * self._params[:, 1])
        out[:, 1, 1] = 1.0
        return out

    def _fit_marginal(self, y: Array, w: Array) -> Array:
        # The weighted median minimises Σ wᵢ|yᵢ − μ|; b is then the mean absolute deviation.
        mu = _weighted_quantile(y, w, 0.5)
        b = float(w @ np.abs(y - mu))
        # A constant target has no spread; keep the scale finite and tiny rather than zero.
        b = max(b, 1e-8 * max(abs(mu), 1.0))
        return np.array([mu, np.log(b)])

    def to_scipy(self) -> stats.rv_continuous:
        return stats.laplace(loc=self.loc, scale=self.scale)

    def mean(self) -> Array:
        return self.loc.copy()

    def var(self) -> Array:
        return 2.0 * np.exp(2.0 * self._params[:, 1])

    def sample(self, size: int, rng: np.random.Generator | int | None = None) -> Array:
        size, rng = self._check_sample_args(size, rng)
        return rng.laplace(self.loc, self.scale, size=(size, len(self)))


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p: Laplace, q: Laplace) -> Array:
    """KL(p ‖ q) = log(b_q/b_p) + (|Δ| + b_p e^{−|Δ|/b_p})/b_q − 1,  Δ = μ_p − μ_q.

    From E_p|y − μ_q| = |Δ| + b_p e^{−|Δ|/b_p}; the product b_p e^{−|Δ|/b_p}/b_q is formed
    in log space so that extreme scales do not overflow.
    """
    log_bp, log_bq = p._params[:, 1], q._params[:, 1]
    dist = np.abs(p.loc - q.loc)
    return (
        (log_bq - log_bp)
        + dist * np.exp(-log_bq)
        + np.expm1(log_bp - log_bq - dist * np.exp(-log_bp))
    )
