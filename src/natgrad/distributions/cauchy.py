"""The Cauchy family, parameterised by (loc, log scale)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, stats

from natgrad.distributions._base import Array, Distribution, register_kl
from natgrad.distributions._support import POSITIVE, REAL
from natgrad.distributions.laplace import _weighted_quantile

_LOG_PI = np.log(np.pi)


def _log1p_square(a: Array) -> Array:
    """log(1 + a²) without overflow for huge |a| and without cancellation for small |a|."""
    abs_a = np.abs(a)
    big = abs_a >= 1.0
    safe = np.where(big, abs_a, 1.0)
    tiny = np.where(big, 0.0, abs_a)
    return np.where(big, 2.0 * np.log(safe) + np.log1p((1.0 / safe) ** 2), np.log1p(tiny * tiny))


class Cauchy(Distribution):
    """Cauchy distributions with location μ and scale γ (Student's t with one degree of freedom).

    Unconstrained parameters θ = (μ, log γ). Negative log-likelihood and its geometry:

        nll = log π + log γ + log(1 + z²),   z = (y − μ)/γ
        ∇nll = (−2z/(γ(1 + z²)), (1 − z²)/(1 + z²))
        F = diag(1/(2γ²), ½)

    (E[z²/(1 + z²)²] = 1/8 and E[((1 − z²)/(1 + z²))²] = ½ under the standard Cauchy.) The
    score is bounded, so every Monte Carlo identity has finite variance even though y has no
    mean. Terms in z are written through r = 1/√(1 + z²) so that |z| up to the float range
    does not overflow.

    The Cauchy has no mean and no variance: `mean` and `var` raise; use ``ppf(0.5)`` (the
    median, equal to ``loc``) and `interval` instead.

    Parameters
    ----------
    loc : array-like of shape (n,) or scalar
        Location (median) μ.
    scale : array-like of shape (n,) or scalar
        Scale γ > 0 (half the interquartile range).

    See Also
    --------
    natgrad.distributions.StudentT : More degrees of freedom, learned or fixed.

    Examples
    --------
    >>> from natgrad.distributions import Cauchy
    >>> dist = Cauchy(loc=[0.0, 5.0], scale=2.0)
    >>> print(dist.median())
    [0. 5.]
    >>> print(dist.interval(0.5)[1])                # quartile at loc + scale
    [2. 7.]
    """

    name = "cauchy"
    param_names = ("loc", "log_scale")
    n_params = 2
    support = REAL
    natural_support = {"loc": REAL, "scale": POSITIVE}
    examples = [({}, [[0.0, 0.0], [2.0, -1.0], [-5.0, 2.5]])]

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

    def _z(self, y: Array) -> Array:
        return (y - self._params[:, 0]) * np.exp(-self._params[:, 1])

    def _nll(self, y: Array) -> Array:
        return _LOG_PI + self._params[:, 1] + _log1p_square(self._z(y))

    def _grad(self, y: Array) -> Array:
        z = self._z(y)
        r = 1.0 / np.hypot(1.0, z)
        zr = z * r  # z/√(1+z²), bounded by 1
        inv_scale = np.exp(-self._params[:, 1])
        return np.stack([-2.0 * zr * r * inv_scale, r * r - zr * zr], axis=-1)

    def _fisher(self) -> Array:
        n = len(self)
        out = np.zeros((n, 2, 2))
        out[:, 0, 0] = 0.5 * np.exp(-2.0 * self._params[:, 1])
        out[:, 1, 1] = 0.5
        return out

    def _fit_marginal(self, y: Array, w: Array) -> Array:
        return _fit_location_scale(self, y, w)

    def _initial_params(self, y: Array, w: Array) -> Array:
        center, spread = _robust_center_spread(y, w)
        return np.array([center, np.log(spread)])

    def to_scipy(self) -> stats.rv_continuous:
        return stats.cauchy(loc=self.loc, scale=self.scale)

    def mean(self) -> Array:
        raise ValueError(
            "The Cauchy distribution has no mean (E|y| is infinite). Use ppf(0.5) or loc "
            "for its median, the natural point prediction."
        )

    def var(self) -> Array:
        raise ValueError(
            "The Cauchy distribution has no variance (E[y²] is infinite). Use scale (half "
            "the interquartile range) or interval() for its spread."
        )

    def sample(self, size: int, rng: np.random.Generator | int | None = None) -> Array:
        size, rng = self._check_sample_args(size, rng)
        return self.loc + self.scale * rng.standard_cauchy((size, len(self)))


def _robust_center_spread(y: Array, w: Array) -> tuple[float, float]:
    """Weighted median and half the interquartile range (γ for a Cauchy), floored above 0."""
    center = _weighted_quantile(y, w, 0.5)
    spread = 0.5 * (_weighted_quantile(y, w, 0.75) - _weighted_quantile(y, w, 0.25))
    if not spread > 0:
        spread = float(w @ np.abs(y - center))
    # A constant target has no spread; keep the scale finite and tiny rather than zero.
    return center, max(spread, 1e-8 * max(abs(center), 1.0))


def _fit_location_scale(
    dist: Distribution, y: Array, w: Array, extra_bounds: tuple[tuple[float, float], ...] = ()
) -> Array:
    """Weighted MLE of a location-scale family (μ, log σ, *extra) by bounded L-BFGS.

    The MLE is location-scale equivariant, so the fit runs on z = (y − m)/s (m the weighted
    median, s half the IQR) and maps back exactly: μ = m + sμ_z, log σ = log σ_z + log s.
    Standardising keeps the optimiser's gradient tolerance meaningful at any scale of y. The
    log scale is bounded below by the floor the other families use (1e-8 max(|m|, 1)):
    when many targets coincide the Cauchy and t likelihoods grow without bound as σ → 0.
    ``extra_bounds`` bounds the remaining coordinates. The start is
    ``dist._initial_params(z, w)``.
    """
    center, spread = _robust_center_spread(y, w)
    z = (y - center) / spread
    floor = 1e-8 * max(abs(center), 1.0)
    bounds = [(None, None), (float(np.log(floor / spread)), None), *extra_bounds]
    start = np.asarray(dist._initial_params(z, w), dtype=np.float64)
    start = np.clip(start, [b[0] if b[0] is not None else -np.inf for b in bounds], np.inf)

    column = z[:, None]  # one distribution, the targets on the leading sample axis

    def objective(theta: Array) -> tuple[float, Array]:
        one = dist.with_params(theta[None, :], validate=False)
        # Trial points far out in the line search may overflow; they are rejected below.
        with np.errstate(over="ignore", invalid="ignore"):
            value = float(w @ one._nll(column)[:, 0])
            gradient = w @ one._grad(column)[:, 0]
        if not (np.isfinite(value) and np.isfinite(gradient).all()):
            return 1e300, np.zeros_like(theta)
        return value, gradient

    result = optimize.minimize(objective, start, jac=True, method="L-BFGS-B", bounds=bounds)
    theta = np.array(result.x, dtype=np.float64)
    theta[0] = center + spread * theta[0]
    theta[1] += np.log(spread)
    return theta


@register_kl(Cauchy, Cauchy)
def _kl_cauchy_cauchy(p: Cauchy, q: Cauchy) -> Array:
    """KL(p ‖ q) = log(((γ_p + γ_q)² + (μ_p − μ_q)²) / (4 γ_p γ_q)) (symmetric in p, q).

    Chyzak & Nielsen (2019). The square is taken inside a hypot and the denominator in log
    space, so extreme scales neither overflow nor underflow.
    """
    log_gp, log_gq = p._params[:, 1], q._params[:, 1]
    # Factor out the larger scale: (γ_p + γ_q)/γ_max = 1 + e^{−|log γ_p − log γ_q|}.
    log_gmax = np.maximum(log_gp, log_gq)
    gsum = 1.0 + np.exp(-np.abs(log_gp - log_gq))
    diff = (p.loc - q.loc) * np.exp(-log_gmax)
    return 2.0 * np.log(np.hypot(gsum, diff)) + 2.0 * log_gmax - np.log(4.0) - log_gp - log_gq
