"""The Poisson family, parameterised by the log rate."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import special, stats

from natgrad.distributions._base import Array, Distribution, register_kl
from natgrad.distributions._support import COUNTS, POSITIVE

# The marginal fit of an all-zero target has an MLE rate of 0 (log rate −∞); it returns this
# rate instead, which keeps every later computation finite.
_MIN_RATE = 1e-10
# Below this |x|, expm1(x) − x comes from its Taylor series (the subtraction loses digits).
_SERIES_EXPM1MX = 0.1


def _expm1mx(x: ArrayLike) -> Array:
    """eˣ − 1 − x, accurate for small |x| (where it is about x²/2).

    Taylor series Σ_{k≥2} xᵏ/k! for |x| < 0.1 (terms to x¹⁰: relative error below 1e-17),
    ``expm1(x) − x`` elsewhere. Shared by the closed-form KL divergences of the log-link
    families (Poisson, multivariate normal).
    """
    x = np.asarray(x, dtype=np.float64)
    small = np.abs(x) < _SERIES_EXPM1MX
    xs = np.where(small, x, 0.0)
    series = np.zeros_like(xs)
    for k in range(10, 1, -1):  # Horner: x²(1/2! + x(1/3! + ...))
        series = series * xs + 1.0 / special.factorial(k)
    series = series * xs * xs
    return np.where(small, series, special.expm1(x) - x)


class Poisson(Distribution):
    """Poisson distributions with rate λ (mean and variance λ).

    Unconstrained parameter θ = log λ. Negative log-likelihood and its geometry:

        nll = λ − y log λ + log y!
        ∇nll = λ − y
        F = [[λ]]

    Parameters
    ----------
    rate : array-like of shape (n,) or scalar
        Rate λ > 0.

    See Also
    --------
    natgrad.distributions.NegativeBinomial : Counts whose variance exceeds their mean.

    Examples
    --------
    >>> from natgrad.distributions import Poisson
    >>> dist = Poisson(rate=[0.5, 4.0])
    >>> print(dist.mean(), dist.var())
    [0.5 4. ] [0.5 4. ]
    >>> print(dist.pdf([0, 4]).round(4))            # probability mass
    [0.6065 0.1954]
    >>> print(dist.fisher()[:, 0, 0])               # rate, in the log-rate coordinate
    [0.5 4. ]
    """

    name = "poisson"
    param_names = ("log_rate",)
    n_params = 1
    support = COUNTS
    natural_support = {"rate": POSITIVE}
    discrete = True
    examples = [({}, [[0.0], [np.log(20.0)], [np.log(0.05)], [np.log(500.0)]])]

    def __init__(self, rate: ArrayLike = 1.0) -> None:
        self._set_natural(rate=rate)

    def _from_natural(self, rate: Array) -> Array:  # type: ignore[override]
        return np.log(rate)[:, None]

    def _natural(self) -> dict[str, Array]:
        return {"rate": self.rate}

    @property
    def rate(self) -> Array:
        """λ, shape (n,)."""
        return np.exp(self._params[:, 0])

    def _nll(self, y: Array) -> Array:
        log_rate = self._params[:, 0]
        # y log λ with y = 0 is 0 even where λ underflows; y · θ has no such edge.
        return np.exp(log_rate) - y * log_rate + special.gammaln(y + 1.0)

    def _grad(self, y: Array) -> Array:
        return (np.exp(self._params[:, 0]) - y)[..., None]

    def _fisher(self) -> Array:
        return np.exp(self._params[:, 0])[:, None, None].copy()

    def _fit_marginal(self, y: Array, w: Array) -> Array:
        """Closed form: λ̂ = weighted mean of y (floored at 1e-10 for all-zero targets)."""
        return np.array([np.log(max(float(w @ y), _MIN_RATE))])

    def to_scipy(self) -> stats.rv_discrete:
        return stats.poisson(mu=self.rate)

    def mean(self) -> Array:
        return self.rate

    def var(self) -> Array:
        return self.rate

    def sample(self, size: int, rng: np.random.Generator | int | None = None) -> Array:
        size, rng = self._check_sample_args(size, rng)
        return rng.poisson(self.rate, size=(size, len(self))).astype(np.float64)


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p: Poisson, q: Poisson) -> Array:
    """KL(Pois(λ₁) ‖ Pois(λ₂)) = λ₁ log(λ₁/λ₂) − λ₁ + λ₂ = λ₁ (e^d − 1 − d), d = θ₂ − θ₁.

    The second form has no cancellation between large terms when λ₁ ≈ λ₂.
    """
    d = q._params[:, 0] - p._params[:, 0]
    return p.rate * _expm1mx(d)
