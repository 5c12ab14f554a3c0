"""The Gamma family, parameterised by (log shape, log rate)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import special, stats

from natgrad.distributions._base import Array, Distribution, register_kl
from natgrad.distributions._support import POSITIVE

# Above this shape, log α − ψ(α) comes from its asymptotic series: the difference of two
# nearly equal logs loses digits there, and the series is exact to double precision.
_SERIES_SHAPE = 50.0
# The smallest dispersion statistic s = log ȳ − mean log y the marginal fit accepts: a
# constant target has s = 0 and an infinite shape; this caps the shape near 1/(2s) = 5e9.
_MIN_DISPERSION = 1e-10


def _log_minus_digamma(a: Array) -> Array:
    """log a − ψ(a) > 0, accurate for large a (where it is about 1/(2a)).

    Series: 1/(2a) + 1/(12a²) − 1/(120a⁴) + 1/(252a⁶) − 1/(240a⁸) (Bernoulli numbers).
    """
    a = np.asarray(a, dtype=np.float64)
    big = a >= _SERIES_SHAPE
    safe = np.where(big, a, _SERIES_SHAPE)
    inv2 = 1.0 / (safe * safe)
    series = 0.5 / safe + inv2 * (
        1.0 / 12.0 + inv2 * (-1.0 / 120.0 + inv2 * (1.0 / 252.0 - inv2 / 240.0))
    )
    small = np.where(big, 1.0, a)
    return np.where(big, series, np.log(small) - special.digamma(small))


class Gamma(Distribution):
    """Gamma distributions with shape α and rate β (mean α/β).

    Unconstrained parameters θ = (log α, log β). Negative log-likelihood and its geometry:

        nll = log Γ(α) − α log β − (α − 1) log y + β y
        ∇nll = (α(ψ(α) − log β − log y), βy − α)
        F = [[α² ψ'(α), −α], [−α, α]]

    (the Fisher in (α, β), [[ψ'(α), −1/β], [−1/β, α/β²]], times the Jacobian diag(α, β) on
    both sides). It is positive definite: det = α²(αψ'(α) − 1) > 0.

    Parameters
    ----------
    shape : array-like of shape (n,) or scalar
        Shape α > 0.
    rate : array-like of shape (n,) or scalar
        Rate β > 0 (inverse scale).

    See Also
    --------
    natgrad.distributions.LogNormal : A heavier right tail.
    natgrad.distributions.InverseGaussian : Variance growing as the cube of the mean.
    natgrad.distributions.Exponential : Shape fixed at 1.
    natgrad.fit.GAMMA_LOG_MEAN : Fitting it in (log shape, log mean).

    Examples
    --------
    >>> from natgrad.distributions import Gamma
    >>> dist = Gamma(shape=[2.0, 9.0], rate=[1.0, 3.0])
    >>> print(dist.mean(), dist.var())
    [2. 3.] [2. 1.]
    >>> print(dist.fisher()[0].round(3))
    [[ 2.58 -2.  ]
     [-2.    2.  ]]
    """

    name = "gamma"
    param_names = ("log_shape", "log_rate")
    n_params = 2
    support = POSITIVE
    natural_support = {"shape": POSITIVE, "rate": POSITIVE}
    examples = [
        (
            {},
            [
                [0.0, 0.0],
                [np.log(0.5), np.log(2.0)],
                [np.log(20.0), np.log(0.1)],
                [np.log(3.0), np.log(50.0)],
            ],
        )
    ]

    def __init__(self, shape: ArrayLike = 1.0, rate: ArrayLike = 1.0) -> None:
        self._set_natural(shape=shape, rate=rate)

    def _from_natural(self, shape: Array, rate: Array) -> Array:  # type: ignore[override]
        return np.column_stack([np.log(shape), np.log(rate)])

    def _natural(self) -> dict[str, Array]:
        return {"shape": np.exp(self._params[:, 0]), "rate": np.exp(self._params[:, 1])}

    @property
    def shape(self) -> Array:
        return np.exp(self._params[:, 0])

    @property
    def rate(self) -> Array:
        return np.exp(self._params[:, 1])

    def _nll(self, y: Array) -> Array:
        log_shape, log_rate = self._params[:, 0], self._params[:, 1]
        shape = np.exp(log_shape)
        return (
            special.gammaln(shape)
            - shape * log_rate
            - (shape - 1.0) * np.log(y)
            + y * np.exp(log_rate)
        )

    def _grad(self, y: Array) -> Array:
        log_shape, log_rate = self._params[:, 0], self._params[:, 1]
        shape = np.exp(log_shape)
        # ψ(α) − log β − log y = −(log α − ψ(α)) − log(βy/α): both terms stay accurate for
        # large α, where ψ(α) and log(βy) nearly cancel.
        g_shape = -shape * (_log_minus_digamma(shape) + (log_rate + np.log(y) - log_shape))
        g_rate = y * np.exp(log_rate) - shape
        return np.stack([g_shape, g_rate], axis=-1)

    def _fisher(self) -> Array:
        shape = np.exp(self._params[:, 0])
        out = np.empty((len(self), 2, 2))
        out[:, 0, 0] = shape * shape * special.polygamma(1, shape)
        out[:, 0, 1] = -shape
        out[:, 1, 0] = -shape
        out[:, 1, 1] = shape
        return out

    def _fit_marginal(self, y: Array, w: Array) -> Array:
        """Weighted MLE: Minka's generalised Newton on α, then β = α/ȳ.

        The likelihood equations reduce to log α − ψ(α) = s with s = log ȳ − mean(log y)
        ≥ 0 (weighted means). Minka (2002, "Estimating a Gamma distribution") iterates
        1/α ← 1/α + (log α − ψ(α) − s)/(α²(1/α − ψ'(α))), which converges in a few steps
        from α₀ = (3 − s + √((s − 3)² + 24s))/(12s).
        """
        top = float(np.max(y))
        mean = top * float(w @ (y / top))  # no overflow near the largest float
        # s = Σ wᵢ (rᵢ − log(1 + rᵢ)) with rᵢ = yᵢ/ȳ − 1 (Σ wᵢ rᵢ = 0): every term is ≥ 0,
        # so s cannot come out negative by rounding. log(1 + rᵢ) is log1p(rᵢ) near 0 and
        # log yᵢ − log ȳ elsewhere: for yᵢ ≪ ȳ (data spanning many orders of magnitude)
        # 1 + rᵢ rounds to 0 and log1p would give −inf.
        ratio = y / mean
        r = ratio - 1.0
        log_ratio = np.where(np.abs(r) < 0.5, np.log1p(r), np.log(y) - np.log(mean))
        s = max(float(w @ (r - log_ratio)), _MIN_DISPERSION)
        a = (3.0 - s + np.sqrt((s - 3.0) ** 2 + 24.0 * s)) / (12.0 * s)
        for _ in range(100):
            step = (_log_minus_digamma(a) - s) / (a - a * a * special.polygamma(1, a))
            a_new = 1.0 / (1.0 / a + step)
            if not np.isfinite(a_new) or a_new <= 0:
                # Fall back to a damped step (only reachable from a far-off start).
                a_new = 0.5 * a
            converged = abs(a_new - a) <= 1e-14 * a
            a = float(a_new)
            if converged:
                break
        return np.array([np.log(a), np.log(a) - np.log(mean)])

    def to_scipy(self) -> stats.rv_continuous:
        return stats.gamma(a=self.shape, scale=1.0 / self.rate)

    def mean(self) -> Array:
        return np.exp(self._params[:, 0] - self._params[:, 1])

    def var(self) -> Array:
        return np.exp(self._params[:, 0] - 2.0 * self._params[:, 1])

    def sample(self, size: int, rng: np.random.Generator | int | None = None) -> Array:
        size, rng = self._check_sample_args(size, rng)
        return rng.standard_gamma(self.shape, size=(size, len(self))) / self.rate


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p: Gamma, q: Gamma) -> Array:
    """KL(p ‖ q) = (α_p − α_q)ψ(α_p) − log Γ(α_p) + log Γ(α_q) + α_q log(β_p/β_q)
    + α_p (β_q − β_p)/β_p, with β_q/β_p − 1 through expm1."""
    a_p, a_q = p.shape, q.shape
    log_bp, log_bq = p._params[:, 1], q._params[:, 1]
    return (
        (a_p - a_q) * special.digamma(a_p)
        - special.gammaln(a_p)
        + special.gammaln(a_q)
        + a_q * (log_bp - log_bq)
        + a_p * np.expm1(log_bq - log_bp)
    )
