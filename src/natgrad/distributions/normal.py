"""The Normal family, parameterised by (loc, log scale)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from natgrad.distributions._base import Array, Distribution, register_kl
from natgrad.distributions._support import POSITIVE, REAL

_HALF_LOG_2PI = 0.5 * np.log(2.0 * np.pi)


class Normal(Distribution):
    """Normal distributions N(loc, scale²).

    Unconstrained parameters θ = (μ, log σ). Negative log-likelihood and its geometry:

        nll = log σ + ½ log 2π + ½ z²,   z = (y − μ)/σ
        ∇nll = (−z/σ, 1 − z²)
        F = diag(1/σ², 2)

    Parameters
    ----------
    loc : array-like of shape (n,) or scalar
        Mean μ.
    scale : array-like of shape (n,) or scalar
        Standard deviation σ > 0.

    See Also
    --------
    natgrad.distributions.StudentT : Heavier tails (outliers).
    natgrad.distributions.LogNormal : Positive, right-skewed targets.
    natgrad.distributions.MultivariateNormal : Several correlated targets.

    Examples
    --------
    >>> from natgrad.distributions import Normal
    >>> dist = Normal(loc=[0.0, 2.0], scale=[1.0, 0.5])
    >>> dist.params                      # unconstrained (loc, log scale), shape (2, 2)
    array([[ 0.        ,  0.        ],
           [ 2.        , -0.69314718]])
    >>> print(dist.nll([0.0, 2.0]).round(3))
    [0.919 0.226]
    >>> print(dist.fisher()[1])          # diag(1/σ², 2)
    [[4. 0.]
     [0. 2.]]
    >>> lower, upper = dist.interval(0.95)
    >>> print(upper.round(3))
    [1.96 2.98]
    """

    name = "normal"
    param_names = ("loc", "log_scale")
    n_params = 2
    support = REAL
    natural_support = {"loc": REAL, "scale": POSITIVE}
    examples = [({}, [[0.0, 0.0], [1.5, -1.0], [-3.0, 2.0]])]

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
        z = (y - self._params[:, 0]) * np.exp(-log_scale)
        return log_scale + _HALF_LOG_2PI + 0.5 * z * z

    def _grad(self, y: Array) -> Array:
        inv_scale = np.exp(-self._params[:, 1])
        z = (y - self._params[:, 0]) * inv_scale
        return np.stack([-z * inv_scale, 1.0 - z * z], axis=-1)

    def _fisher(self) -> Array:
        n = len(self)
        out = np.zeros((n, 2, 2))
        out[:, 0, 0] = np.exp(-2.0 * self._params[:, 1])
        out[:, 1, 1] = 2.0
        return out

    def _fit_marginal(self, y: Array, w: Array) -> Array:
        # Moments of y/c with c = max |y|: no overflow of (y − μ)² for |y| above ~1e154.
        c = max(float(np.max(np.abs(y))), 1.0)
        u = y / c
        mu_u = float(w @ u)
        var_u = float(w @ (u - mu_u) ** 2)
        # A constant target has no spread; keep the scale finite and tiny rather than zero.
        sd_u = np.sqrt(max(var_u, (1e-8 * max(abs(mu_u), 1.0 / c)) ** 2))
        return np.array([c * mu_u, np.log(c) + np.log(sd_u)])

    def to_scipy(self) -> stats.rv_continuous:
        return stats.norm(loc=self.loc, scale=self.scale)

    def mean(self) -> Array:
        return self.loc.copy()

    def var(self) -> Array:
        return np.exp(2.0 * self._params[:, 1])

    def sample(self, size: int, rng: np.random.Generator | int | None = None) -> Array:
        size, rng = self._check_sample_args(size, rng)
        return self.loc + self.scale * rng.standard_normal((size, len(self)))


@register_kl(Normal, Normal)
def _kl_normal_normal(p: Normal, q: Normal) -> Array:
    """KL(N(μ₁, σ₁²) ‖ N(μ₂, σ₂²)) = log σ₂/σ₁ + (σ₁² + (μ₁ − μ₂)²)/(2σ₂²) − ½."""
    log_ratio = q._params[:, 1] - p._params[:, 1]
    diff = (p.loc - q.loc) / q.scale
    return log_ratio + 0.5 * (np.exp(-2.0 * log_ratio) + diff * diff) - 0.5
