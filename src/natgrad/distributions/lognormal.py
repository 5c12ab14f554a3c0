"""The LogNormal family, parameterised by (loc, log scale) of log y."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from natgrad.distributions._base import Array, Distribution, register_kl
from natgrad.distributions._support import POSITIVE, REAL
from natgrad.distributions.normal import Normal, _kl_normal_normal


class LogNormal(Distribution):
    """Log-normal distributions: log y ~ N(loc, scale²).

    Unconstrained parameters θ = (μ, log σ) of the Normal law of x = log y. The change of
    variables y = eˣ adds log y to the negative log-likelihood and leaves its θ-derivatives,
    the Fisher information and the KL divergence exactly those of the Normal on x:

        nll = log y + log σ + ½ log 2π + ½ z²,   z = (log y − μ)/σ
        ∇nll = (−z/σ, 1 − z²)
        F = diag(1/σ², 2)
        KL(p ‖ q) = KL(N(μ_p, σ_p²) ‖ N(μ_q, σ_q²))

    Parameters
    ----------
    loc : array-like of shape (n,) or scalar
        Mean μ of log y (the median of y is e^μ).
    scale : array-like of shape (n,) or scalar
        Standard deviation σ > 0 of log y.

    See Also
    --------
    natgrad.distributions.Gamma : Positive targets with a lighter right tail.
    natgrad.distributions.Weibull : Positive targets; survival times.
    natgrad.distributions.Normal : The law of log y.

    Examples
    --------
    >>> from natgrad.distributions import LogNormal
    >>> dist = LogNormal(loc=[0.0, 1.0], scale=0.5)      # log y ~ N(loc, scale²)
    >>> print(dist.median().round(3))
    [1.    2.718]
    >>> print(dist.mean().round(3))
    [1.133 3.08 ]
    >>> print(dist.cdf([1.0, 1.0]).round(3))
    [0.5   0.023]
    """

    name = "lognormal"
    param_names = ("loc", "log_scale")
    n_params = 2
    support = POSITIVE
    natural_support = {"loc": REAL, "scale": POSITIVE}
    examples = [({}, [[0.0, 0.0], [2.0, -1.5], [-1.0, 0.7]])]

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

    # The geometry is the Normal's on log y; the kernels below reuse Normal's, which read
    # only ``self._params`` (same layout), so the two families cannot drift apart.
    def _nll(self, y: Array) -> Array:
        log_y = np.log(y)
        return Normal._nll(self, log_y) + log_y  # type: ignore[arg-type]

    def _grad(self, y: Array) -> Array:
        return Normal._grad(self, np.log(y))  # type: ignore[arg-type]

    def _fisher(self) -> Array:
        return Normal._fisher(self)  # type: ignore[arg-type]

    def _fit_marginal(self, y: Array, w: Array) -> Array:
        # Maximum likelihood is invariant under y -> log y: the Normal fit of log y.
        return Normal._fit_marginal(self, np.log(y), w)  # type: ignore[arg-type]

    def to_scipy(self) -> stats.rv_continuous:
        return stats.lognorm(s=self.scale, scale=np.exp(self.loc))

    def mean(self) -> Array:
        """E[y] = exp(μ + σ²/2) (inf where it overflows)."""
        mu, log_scale = self._params[:, 0], self._params[:, 1]
        with np.errstate(over="ignore"):
            return np.exp(mu + 0.5 * np.exp(2.0 * log_scale))

    def var(self) -> Array:
        """Var[y] = (exp(σ²) − 1) exp(2μ + σ²); expm1 keeps small σ accurate."""
        mu, log_scale = self._params[:, 0], self._params[:, 1]
        s2 = np.exp(2.0 * log_scale)
        with np.errstate(over="ignore", invalid="ignore"):
            # Multiply in log space so that a huge factor times a tiny one does not overflow.
            return np.exp(np.log(np.expm1(s2)) + 2.0 * mu + s2)

    def sample(self, size: int, rng: np.random.Generator | int | None = None) -> Array:
        size, rng = self._check_sample_args(size, rng)
        return np.exp(self.loc + self.scale * rng.standard_normal((size, len(self))))


@register_kl(LogNormal, LogNormal)
def _kl_lognormal_lognormal(p: LogNormal, q: LogNormal) -> Array:
    """KL between log-normals equals the KL between the Normals of log y (a bijection)."""
    return _kl_normal_normal(p, q)  # type: ignore[arg-type]
