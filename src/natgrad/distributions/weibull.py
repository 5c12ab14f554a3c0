"""The Weibull family, parameterised by (log shape, log scale)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, special, stats

from natgrad.distributions._base import Array, Distribution, register_kl
from natgrad.distributions._support import POSITIVE

_EULER = np.euler_gamma
_PI2_6 = np.pi**2 / 6.0
# The marginal fit caps the shape here: a constant target has an infinite MLE shape.
_MAX_SHAPE = 1e8


class Weibull(Distribution):
    """Weibull distributions with shape k and scale λ: P(y > t) = exp(−(t/λ)^k).

    Unconstrained parameters θ = (log k, log λ). With u = k log(y/λ) and t = eᵘ = (y/λ)^k
    (t ~ Exp(1) under the model):

        nll = −log k + log λ − (k − 1) log(y/λ) + t
        ∇nll = (−1 + u(t − 1), k(1 − t))
        F = [[(1 − γ)² + π²/6, −k(1 − γ)], [−k(1 − γ), k²]]

    with γ Euler's constant; the entries follow from E[tˢ log t] = Γ'(s + 1) and
    E[tˢ log² t] = Γ''(s + 1) for s = 0, 1, 2. det F = k²π²/6 > 0.

    Parameters
    ----------
    shape : array-like of shape (n,) or scalar
        Shape k > 0 (k = 1 is the Exponential, k = 2 the Rayleigh).
    scale : array-like of shape (n,) or scalar
        Scale λ > 0 (the 1 − 1/e quantile).

    See Also
    --------
    natgrad.distributions.Exponential : Shape fixed at 1 (a constant hazard).
    natgrad.distributions.LogNormal : Another common law of survival times.

    Examples
    --------
    >>> from natgrad.distributions import Weibull
    >>> dist = Weibull(shape=[1.0, 2.0], scale=3.0)
    >>> print(dist.sf(3.0).round(3))                # exp(-1) at the scale, whatever the shape
    [0.368 0.368]
    >>> print(dist.median().round(3))
    [2.079 2.498]
    """

    name = "weibull"
    param_names = ("log_shape", "log_scale")
    n_params = 2
    support = POSITIVE
    natural_support = {"shape": POSITIVE, "scale": POSITIVE}
    examples = [
        (
            {},
            [
                [0.0, 0.0],
                [np.log(3.0), np.log(2.0)],
                [np.log(0.6), -1.0],
                [np.log(15.0), 3.0],
            ],
        )
    ]

    def __init__(self, shape: ArrayLike = 1.0, scale: ArrayLike = 1.0) -> None:
        self._set_natural(shape=shape, scale=scale)

    def _from_natural(self, shape: Array, scale: Array) -> Array:  # type: ignore[override]
        return np.column_stack([np.log(shape), np.log(scale)])

    def _natural(self) -> dict[str, Array]:
        return {"shape": np.exp(self._params[:, 0]), "scale": np.exp(self._params[:, 1])}

    @property
    def shape(self) -> Array:
        return np.exp(self._params[:, 0])

    @property
    def scale(self) -> Array:
        return np.exp(self._params[:, 1])

    def _nll(self, y: Array) -> Array:
        log_shape, log_scale = self._params[:, 0], self._params[:, 1]
        log_y = np.log(y)
        u = np.exp(log_shape) * (log_y - log_scale)
        with np.errstate(over="ignore"):
            # −(k − 1) log(y/λ) + log λ = log y − u. t = eᵘ overflows only where the density
            # underflows, so nll = inf is then the right answer.
            return -log_shape + log_y - u + np.exp(u)

    def _grad(self, y: Array) -> Array:
        log_shape, log_scale = self._params[:, 0], self._params[:, 1]
        shape = np.exp(log_shape)
        u = shape * (np.log(y) - log_scale)
        with np.errstate(over="ignore"):
            tm1 = np.expm1(u)  # t − 1, accurate near t = 1
        return np.stack([u * tm1 - 1.0, -shape * tm1], axis=-1)

    def _fisher(self) -> Array:
        shape = np.exp(self._params[:, 0])
        out = np.empty((len(self), 2, 2))
        out[:, 0, 0] = (1.0 - _EULER) ** 2 + _PI2_6
        out[:, 0, 1] = -(1.0 - _EULER) * shape
        out[:, 1, 0] = out[:, 0, 1]
        out[:, 1, 1] = shape * shape
        return out

    def _fit_marginal(self, y: Array, w: Array) -> Array:
        """Weighted MLE: a bracketed root of the profile equation in k, then λ in closed form.

        With ℓ = log y − Σwᵢ log yᵢ (centred logs) and q ∝ w e^{kℓ} (softmax weights), the
        likelihood equations are

            h(k) = 1/k − Σ qᵢ ℓᵢ = 0,      λ^k = Σ wᵢ yᵢ^k.

        h decreases strictly (h' = −1/k² − Var_q ℓ), so Brent's method on log k finds the
        unique root once a sign change is bracketed; working with centred logs and
        log-sum-exp keeps y^k from overflowing.
        """
        log_y = np.log(y)
        center = float(w @ log_y)
        ell = log_y - center
        log_w = np.log(np.where(w > 0, w, 1.0)) + np.where(w > 0, 0.0, -np.inf)
        spread = float(np.sqrt(w @ (ell * ell)))

        def h(log_k: float) -> float:
            k = np.exp(log_k)
            logits = k * ell + log_w
            q = np.exp(logits - special.logsumexp(logits))
            return float(1.0 / k - q @ ell)

        log_max = np.log(_MAX_SHAPE)
        if spread == 0.0 or h(log_max) >= 0.0:
            log_k = log_max
        else:
            # Var(log y) = π²/(6k²) gives a moment start; widen until h changes sign.
            lo = hi = min(np.log(np.pi / np.sqrt(6.0) / spread), log_max)
            while h(lo) <= 0.0:
                lo -= 1.0
            while h(hi) >= 0.0:
                hi += 1.0
            log_k = optimize.brentq(h, lo, min(hi, log_max), xtol=1e-14, rtol=1e-15)
        k = np.exp(log_k)
        log_scale = center + special.logsumexp(k * ell + log_w) / k
        return np.array([log_k, log_scale])

    def to_scipy(self) -> stats.rv_continuous:
        return stats.weibull_min(c=self.shape, scale=self.scale)

    def mean(self) -> Array:
        """E[y] = λ Γ(1 + 1/k), in log space (inf where it overflows, for tiny k)."""
        inv_k = np.exp(-self._params[:, 0])
        with np.errstate(over="ignore"):
            return np.exp(self._params[:, 1] + special.gammaln(1.0 + inv_k))

    def var(self) -> Array:
        """Var[y] = λ²Γ(1 + 1/k)² (Γ(1 + 2/k)/Γ(1 + 1/k)² − 1); expm1 keeps large k accurate."""
        inv_k = np.exp(-self._params[:, 0])
        g1 = special.gammaln(1.0 + inv_k)
        g2 = special.gammaln(1.0 + 2.0 * inv_k)
        with np.errstate(over="ignore"):
            return np.exp(2.0 * (self._params[:, 1] + g1)) * np.expm1(g2 - 2.0 * g1)

    def sample(self, size: int, rng: np.random.Generator | int | None = None) -> Array:
        size, rng = self._check_sample_args(size, rng)
        # y = λ E^{1/k} with E ~ Exp(1), in log space so that tiny k does not overflow early.
        e = rng.standard_exponential((size, len(self)))
        return np.exp(self._params[:, 1] + np.log(e) * np.exp(-self._params[:, 0]))


@register_kl(Weibull, Weibull)
def _kl_weibull_weibull(p: Weibull, q: Weibull) -> Array:
    """KL(p ‖ q) in closed form (Bauckhage 2013, "Computing the Kullback-Leibler divergence
    between two Weibull distributions", arXiv 1310.3713):

        KL = log(k_p/k_q) − D + γ(r − 1) + exp(D) Γ(1 + r) − 1,
        r = k_q/k_p,  D = k_q (log λ_p − log λ_q),

    from E_p[log y] = log λ_p − γ/k_p and E_p[(y/λ_q)^{k_q}] = (λ_p/λ_q)^{k_q} Γ(1 + r).
    The last two terms are combined as expm1(D + log Γ(1 + r)).
    """
    log_kp, log_kq = p._params[:, 0], q._params[:, 0]
    r = np.exp(log_kq - log_kp)
    d = np.exp(log_kq) * (p._params[:, 1] - q._params[:, 1])
    with np.errstate(over="ignore"):
        return (log_kp - log_kq) - d + _EULER * (r - 1.0) + np.expm1(d + special.gammaln(1.0 + r))
