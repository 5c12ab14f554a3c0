"""The inverse Gaussian (Wald) family, parameterised by (log mean, log shape)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from natgrad.distributions._base import Array, Distribution, register_kl
from natgrad.distributions._support import POSITIVE
from natgrad.distributions.poisson import _expm1mx

# The marginal fit of a constant target has 1/λ̂ = 0 (no spread); it returns a shape of
# this many times the mean instead, a coefficient of variation of 1e-5.
_MAX_SHAPE_RATIO = 1e10


class InverseGaussian(Distribution):
    """Inverse Gaussian distributions with mean μ and shape λ (variance μ³/λ).

    Density √(λ/(2π y³)) exp(−λ(y − μ)²/(2μ²y)) on y > 0. Unconstrained parameters
    θ = (log μ, log λ). Negative log-likelihood and its geometry:

        nll = ½ log 2π + (3/2) log y − ½ log λ + λ (y − μ)²/(2μ² y)
        ∇nll = (λ(μ − y)/μ², −½ + λ(y − μ)²/(2μ² y))
        F = diag(λ/μ, ½)

    (the Fisher in (μ, λ) is diag(λ/μ³, 1/(2λ²)); μ and λ are orthogonal). It is the GLM
    family with variance function V(μ) = μ³ and dispersion φ = 1/λ.

    Parameters
    ----------
    mean : array-like of shape (n,) or scalar
        Mean μ > 0.
    shape : array-like of shape (n,) or scalar
        Shape λ > 0 (larger is less dispersed).

    See Also
    --------
    natgrad.distributions.Gamma : Variance growing as the square of the mean.
    natgrad.distributions.LogNormal : A heavier right tail.

    Examples
    --------
    >>> from natgrad.distributions import InverseGaussian
    >>> dist = InverseGaussian(mean=[1.0, 2.0], shape=4.0)
    >>> print(dist.mean())
    [1. 2.]
    >>> print(dist.var())                           # mean³ / shape
    [0.25 2.  ]
    """

    name = "inverse_gaussian"
    param_names = ("log_mean", "log_shape")
    n_params = 2
    support = POSITIVE
    natural_support = {"mean": POSITIVE, "shape": POSITIVE}
    examples = [
        (
            {},
            [
                [0.0, 0.0],
                [np.log(3.0), np.log(0.5)],
                [np.log(0.2), np.log(40.0)],
                [np.log(50.0), np.log(2000.0)],
            ],
        )
    ]

    def __init__(self, mean: ArrayLike = 1.0, shape: ArrayLike = 1.0) -> None:
        self._set_natural(mean=mean, shape=shape)

    def _from_natural(self, mean: Array, shape: Array) -> Array:  # type: ignore[override]
        return np.column_stack([np.log(mean), np.log(shape)])

    def _natural(self) -> dict[str, Array]:
        return {"mean": self.mean(), "shape": self.shape}

    @property
    def shape(self) -> Array:
        """λ, shape (n,)."""
        return np.exp(self._params[:, 1])

    def _nll(self, y: Array) -> Array:
        log_mu, log_lam = self._params[:, 0], self._params[:, 1]
        mu = np.exp(log_mu)
        # λ(y − μ)²/(2μ²y) = (λ/2y)((y − μ)/μ)²: no μ² that could overflow.
        rel = (y - mu) / mu
        return (
            0.5 * np.log(2.0 * np.pi) + 1.5 * np.log(y) - 0.5 * log_lam
            + 0.5 * np.exp(log_lam) * rel * rel / y
        )  # fmt: skip

    def _grad(self, y: Array) -> Array:
        log_mu, log_lam = self._params[:, 0], self._params[:, 1]
        mu, lam = np.exp(log_mu), np.exp(log_lam)
        rel = (y - mu) / mu
        g_mean = -lam * rel / mu
        g_shape = -0.5 + 0.5 * lam * rel * rel / y
        return np.stack([g_mean, g_shape], axis=-1)

    def _fisher(self) -> Array:
        out = np.zeros((len(self), 2, 2))
        out[:, 0, 0] = np.exp(self._params[:, 1] - self._params[:, 0])
        out[:, 1, 1] = 0.5
        return out

    def _fit_marginal(self, y: Array, w: Array) -> Array:
        """Closed form: μ̂ = ȳ and 1/λ̂ = mean(1/y − 1/ȳ) (weighted means).

        Written as mean((y − ȳ)²/(ȳ² y)) ≥ 0, so rounding cannot make it negative; a
        constant target (no spread) gets λ = 1e10 ȳ.
        """
        mean = float(w @ y)
        rel = (y - mean) / mean
        inv_shape = float(w @ (rel * rel / y))
        cap = _MAX_SHAPE_RATIO * mean
        shape = cap if inv_shape * cap <= 1.0 else 1.0 / inv_shape
        return np.array([np.log(mean), np.log(shape)])

    def to_scipy(self) -> stats.rv_continuous:
        """`scipy.stats.invgauss` with mu = μ/λ and scale = λ."""
        return stats.invgauss(mu=np.exp(self._params[:, 0] - self._params[:, 1]), scale=self.shape)

    def mean(self) -> Array:
        return np.exp(self._params[:, 0])

    def var(self) -> Array:
        return np.exp(3.0 * self._params[:, 0] - self._params[:, 1])

    def sample(self, size: int, rng: np.random.Generator | int | None = None) -> Array:
        size, rng = self._check_sample_args(size, rng)
        return rng.wald(self.mean(), self.shape, size=(size, len(self)))


@register_kl(InverseGaussian, InverseGaussian)
def _kl_inverse_gaussian(p: InverseGaussian, q: InverseGaussian) -> Array:
    """KL(p ‖ q) = ½(λ_q/λ_p − 1 − log(λ_q/λ_p)) + λ_q (μ_p − μ_q)²/(2 μ_p μ_q²).

    From E_p[y] = μ_p and E_p[1/y] = 1/μ_p + 1/λ_p; the first term through eᵈ − 1 − d
    (d = log λ_q − log λ_p), exact when the shapes are close.
    """
    log_mp, log_lp = p._params[:, 0], p._params[:, 1]
    log_mq, log_lq = q._params[:, 0], q._params[:, 1]
    # (μ_p − μ_q)²/(μ_p μ_q²) = (μ_p/μ_q)(1 − μ_q/μ_p)² = e^{a}(expm1(−a))², a = log μ_p/μ_q.
    a = log_mp - log_mq
    return 0.5 * _expm1mx(log_lq - log_lp) + 0.5 * np.exp(log_lq - log_mq + a) * np.expm1(-a) ** 2
