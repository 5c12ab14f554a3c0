"""The Exponential family, parameterised by log scale."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from natgrad.distributions._base import Array, Distribution, register_kl
from natgrad.distributions._support import NON_NEGATIVE, POSITIVE


class Exponential(Distribution):
    """Exponential distributions with scale λ (mean λ, rate 1/λ).

    Unconstrained parameter θ = (log λ). Negative log-likelihood and its geometry:

        nll = log λ + y/λ
        ∇nll = 1 − y/λ
        F = [[1]]

    (y/λ ~ Exp(1) has unit variance.) The support is [0, inf): the density 1/λ at y = 0 is
    finite.

    Parameters
    ----------
    scale : array-like of shape (n,) or scalar
        Scale λ > 0, the mean.

    See Also
    --------
    natgrad.distributions.Gamma : A free shape.
    natgrad.distributions.Weibull : A free shape; hazards that rise or fall with time.

    Examples
    --------
    >>> from natgrad.distributions import Exponential
    >>> dist = Exponential(scale=[1.0, 10.0])
    >>> print(dist.mean())
    [ 1. 10.]
    >>> print(dist.sf([1.0, 1.0]).round(3))         # survival function P(Y > 1)
    [0.368 0.905]
    """

    name = "exponential"
    param_names = ("log_scale",)
    n_params = 1
    support = NON_NEGATIVE
    natural_support = {"scale": POSITIVE}
    examples = [({}, [[0.0], [-3.0], [4.0]])]

    def __init__(self, scale: ArrayLike = 1.0) -> None:
        self._set_natural(scale=scale)

    def _from_natural(self, scale: Array) -> Array:  # type: ignore[override]
        return np.log(scale)[:, None]

    def _natural(self) -> dict[str, Array]:
        return {"scale": np.exp(self._params[:, 0])}

    @property
    def scale(self) -> Array:
        return np.exp(self._params[:, 0])

    def _nll(self, y: Array) -> Array:
        log_scale = self._params[:, 0]
        return log_scale + y * np.exp(-log_scale)

    def _grad(self, y: Array) -> Array:
        return (1.0 - y * np.exp(-self._params[:, 0]))[..., None]

    def _fisher(self) -> Array:
        return np.ones((len(self), 1, 1))

    def _fit_marginal(self, y: Array, w: Array) -> Array:
        # The MLE of the scale is the weighted mean. All-zero targets have MLE scale 0; keep
        # it the smallest normal float so that the log stays finite.
        scale = max(float(w @ y), np.finfo(np.float64).tiny)
        return np.array([np.log(scale)])

    def to_scipy(self) -> stats.rv_continuous:
        return stats.expon(scale=self.scale)

    def mean(self) -> Array:
        return self.scale

    def var(self) -> Array:
        return np.exp(2.0 * self._params[:, 0])

    def sample(self, size: int, rng: np.random.Generator | int | None = None) -> Array:
        size, rng = self._check_sample_args(size, rng)
        return self.scale * rng.standard_exponential((size, len(self)))


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p: Exponential, q: Exponential) -> Array:
    """KL(p ‖ q) = d + e^{−d} − 1 with d = log(λ_q/λ_p); expm1 keeps small d accurate."""
    d = q._params[:, 0] - p._params[:, 0]
    return d + np.expm1(-d)
