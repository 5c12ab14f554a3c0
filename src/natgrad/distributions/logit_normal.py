"""The logit-normal family on (0, 1), parameterised by (loc, log scale) of logit(y)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from natgrad.distributions._base import Array, Distribution, register_kl
from natgrad.distributions._support import POSITIVE, REAL, UNIT_INTERVAL

_HALF_LOG_2PI = 0.5 * np.log(2.0 * np.pi)


class LogitNormal(Distribution):
    """Logit-normal distributions: logit(Y) = log(Y/(1 − Y)) ~ N(μ, σ²), Y in (0, 1).

    Unconstrained parameters θ = (μ, log σ). With x = logit(y) and z = (x − μ)/σ the
    negative log-likelihood adds the log-Jacobian of the logit to the Normal's:

        nll = log σ + ½ log 2π + ½ z² + log y + log(1 − y)
        ∇nll = (−z/σ, 1 − z²)
        F = diag(1/σ², 2)

    (the Jacobian term does not depend on θ, so gradient, Fisher and KL are the Normal's).

    Parameters
    ----------
    loc : array-like of shape (n,) or scalar
        Mean μ of logit(Y).
    scale : array-like of shape (n,) or scalar
        Standard deviation σ > 0 of logit(Y).

    See Also
    --------
    natgrad.distributions.Beta : The other common law on (0, 1).

    Examples
    --------
    >>> from natgrad.distributions import LogitNormal
    >>> dist = LogitNormal(loc=[0.0, 2.0], scale=1.0)   # logit y ~ N(loc, scale²), y in (0, 1)
    >>> print(dist.median().round(3))
    [0.5   0.881]
    >>> print(dist.nll([0.5, 0.9]).round(3))
    [-0.467 -1.47 ]
    """

    name = "logit_normal"
    param_names = ("loc", "log_scale")
    n_params = 2
    support = UNIT_INTERVAL
    natural_support = {"loc": REAL, "scale": POSITIVE}
    examples = [({}, [[0.0, 0.0], [1.5, -1.0], [-2.0, 0.5]])]

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
        # log y and log(1 − y) separately: logit(y) = log y − log1p(−y) stays exact near 0 and 1.
        log_y, log_1my = np.log(y), np.log1p(-y)
        z = (log_y - log_1my - self._params[:, 0]) * np.exp(-log_scale)
        return log_scale + _HALF_LOG_2PI + 0.5 * z * z + log_y + log_1my

    def _grad(self, y: Array) -> Array:
        inv_scale = np.exp(-self._params[:, 1])
        z = (np.log(y) - np.log1p(-y) - self._params[:, 0]) * inv_scale
        return np.stack([-z * inv_scale, 1.0 - z * z], axis=-1)

    def _fisher(self) -> Array:
        out = np.zeros((len(self), 2, 2))
        out[:, 0, 0] = np.exp(-2.0 * self._params[:, 1])
        out[:, 1, 1] = 2.0
        return out

    def _fit_marginal(self, y: Array, w: Array) -> Array:
        """Closed form: the weighted mean and standard deviation of logit(y)."""
        x = np.log(y) - np.log1p(-y)
        mu = float(w @ x)
        var = float(w @ (x - mu) ** 2)
        scale = np.sqrt(max(var, (1e-8 * max(abs(mu), 1.0)) ** 2))
        return np.array([mu, np.log(scale)])

    def cdf(self, y: ArrayLike) -> Array:
        arr = np.clip(np.asarray(y, dtype=np.float64), 0.0, 1.0)
        with np.errstate(divide="ignore"):
            x = np.log(arr) - np.log1p(-arr)
        return special.ndtr((x - self.loc) / self.scale)

    def sf(self, y: ArrayLike) -> Array:
        return 1.0 - self.cdf(y)

    def ppf(self, q: ArrayLike) -> Array:
        arr = self._check_prob(q, "q", "ppf")
        return special.expit(self.loc + self.scale * special.ndtri(arr))

    def _moments(self) -> tuple[Array, Array]:
        # No closed form: Gauss–Hermite quadrature of E[expit(X)] and E[expit(X)²].
        nodes, weights = np.polynomial.hermite_e.hermegauss(64)
        weights = weights / weights.sum()
        p = special.expit(self.loc[:, None] + self.scale[:, None] * nodes[None, :])
        m1 = p @ weights
        m2 = (p * p) @ weights
        return m1, np.maximum(m2 - m1 * m1, 0.0)

    def mean(self) -> Array:
        """E[Y] by 64-point Gauss–Hermite quadrature (no closed form exists)."""
        return self._moments()[0]

    def var(self) -> Array:
        """Var[Y] by 64-point Gauss–Hermite quadrature."""
        return self._moments()[1]

    def sample(self, size: int, rng: np.random.Generator | int | None = None) -> Array:
        size, rng = self._check_sample_args(size, rng)
        x = self.loc + self.scale * rng.standard_normal((size, len(self)))
        # Keep draws inside the open interval where expit rounds to 0 or 1.
        return np.clip(special.expit(x), np.finfo(np.float64).tiny, 1.0 - 2.0**-53)


@register_kl(LogitNormal, LogitNormal)
def _kl_logit_normal(p: LogitNormal, q: LogitNormal) -> Array:
    """KL is invariant under the logit map: the Normal KL of the logits."""
    log_ratio = q._params[:, 1] - p._params[:, 1]
    diff = (p.loc - q.loc) / q.scale
    return log_ratio + 0.5 * (np.exp(-2.0 * log_ratio) + diff * diff) - 0.5
