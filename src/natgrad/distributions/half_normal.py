"""The HalfNormal family, parameterised by log scale."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from natgrad.distributions._base import Array, Distribution, register_kl
from natgrad.distributions._support import NON_NEGATIVE, POSITIVE

_HALF_LOG_HALF_PI = 0.5 * np.log(0.5 * np.pi)


class HalfNormal(Distribution):
    """Half-normal distributions: y = |x| with x ~ N(0, scale²).

    Unconstrained parameter θ = (log σ). Negative log-likelihood and its geometry:

        nll = log σ + ½ log(π/2) + ½ z²,   z = y/σ
        ∇nll = 1 − z²
        F = [[2]]

    (z² ~ χ²₁ has variance 2, as for the Normal's scale.)

    Parameters
    ----------
    scale : array-like of shape (n,) or scalar
        Scale σ > 0 of the underlying Normal (the mean is σ√(2/π)).

    See Also
    --------
    natgrad.distributions.Exponential : A heavier tail on y > 0.

    Examples
    --------
    >>> from natgrad.distributions import HalfNormal
    >>> dist = HalfNormal(scale=[1.0, 2.0])
    >>> print(dist.mean().round(3))
    [0.798 1.596]
    >>> print(dist.cdf(0.0))
    [0. 0.]
    """

    name = "half_normal"
    param_names = ("log_scale",)
    n_params = 1
    support = NON_NEGATIVE
    natural_support = {"scale": POSITIVE}
    examples = [({}, [[0.0], [-2.5], [3.0]])]

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
        z = y * np.exp(-log_scale)
        return log_scale + _HALF_LOG_HALF_PI + 0.5 * z * z

    def _grad(self, y: Array) -> Array:
        z = y * np.exp(-self._params[:, 0])
        return (1.0 - z * z)[..., None]

    def _fisher(self) -> Array:
        return np.full((len(self), 1, 1), 2.0)

    def _fit_marginal(self, y: Array, w: Array) -> Array:
        # σ̂² = Σ wᵢ yᵢ²; all-zero targets keep the smallest normal float as their scale.
        scale = max(float(np.sqrt(w @ (y * y))), np.finfo(np.float64).tiny)
        return np.array([np.log(scale)])

    def to_scipy(self) -> stats.rv_continuous:
        return stats.halfnorm(scale=self.scale)

    def mean(self) -> Array:
        return self.scale * np.sqrt(2.0 / np.pi)

    def var(self) -> Array:
        return np.exp(2.0 * self._params[:, 0]) * (1.0 - 2.0 / np.pi)

    def sample(self, size: int, rng: np.random.Generator | int | None = None) -> Array:
        size, rng = self._check_sample_args(size, rng)
        return self.scale * np.abs(rng.standard_normal((size, len(self))))


@register_kl(HalfNormal, HalfNormal)
def _kl_half_normal_half_normal(p: HalfNormal, q: HalfNormal) -> Array:
    """KL(p ‖ q) = log(σ_q/σ_p) + σ_p²/(2σ_q²) − ½ (the Normal's, both centred at 0)."""
    log_ratio = q._params[:, 0] - p._params[:, 0]
    return log_ratio + 0.5 * np.expm1(-2.0 * log_ratio)
