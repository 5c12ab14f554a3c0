"""The continuous ranked probability score (CRPS) and its Riemannian metric.

For a predictive distribution function F and an observation y,

    CRPS(F, y) = ∫ (F(x) − 1{y ≤ x})² dx = E|X − y| − ½ E|X − X'|,   X, X' ~ F independent,

a proper scoring rule in the units of y (Matheson & Winkler 1976; Gneiting & Raftery 2007).

The metric
----------
For a proper scoring rule S the divergence D(θ ‖ θ') = E_θ[S(θ', Y)] − E_θ[S(θ, Y)] is
non-negative and zero at θ' = θ, so to second order D(θ ‖ θ + δ) ≈ ½ δᵀ M(θ) δ, with M the
Hessian of D in θ' at θ' = θ. For the log score D is the KL divergence and M the Fisher
information. For the CRPS, E_θ[S(θ', Y)] = ∫ (F_θ'² − 2 F_θ' F_θ + F_θ) dx, hence

    D(θ ‖ θ') = ∫ (F_θ'(x) − F_θ(x))² dx,       M(θ) = 2 ∫ ∇F(x; θ) ∇F(x; θ)ᵀ dx.

The factor 2 makes M the exact Hessian of the expected score (so that M⁻¹g is a Newton step
on it, as F⁻¹g is for the log score); some texts call ∫ ∇F ∇Fᵀ dx itself the CRPS metric,
which differs by that constant only. All three families below have M in closed form, in the
unconstrained coordinates θ = (μ, s), s = log σ (or log b).

Normal N(μ, σ²), z = (y − μ)/σ, φ and Φ the standard normal density and distribution:

    CRPS = σ [z (2Φ(z) − 1) + 2φ(z) − 1/√π]
    ∇CRPS = (−(2Φ(z) − 1),  σ [2φ(z) − 1/√π])
    M = diag(1/(√π σ),  σ/(2√π))                     (from ∫ φ² = 1/(2√π), ∫ z²φ² = 1/(4√π))

Laplace(μ, b), z = (y − μ)/b:

    CRPS = b (|z| + e^{−|z|} − ¾)
    ∇CRPS = (−sign(z)(1 − e^{−|z|}),  b [(1 + |z|) e^{−|z|} − ¾])
    M = diag(1/(2b),  b/4)

LogNormal, log y ~ N(μ, σ²), z = (log y − μ)/σ, m = exp(μ + σ²/2) the mean of y. The CRPS in
y-space is not the Normal's CRPS of log y (the integral is over y, not log y); Baran & Lerch
(2015, QJRMS 141, eq. 5) give

    CRPS = y (2Φ(z) − 1) − 2m [Φ(z − σ) + Φ(σ/√2) − 1].

Write A = Φ(z − σ) − Φ(−σ/√2) for the bracket. Differentiating, with ∂z/∂μ = −1/σ,
∂z/∂s = −z, ∂m/∂μ = m, ∂m/∂s = σ²m, the terms in φ(z) cancel through m φ(z − σ) = y φ(z):

    ∂CRPS/∂μ = −2mA
    ∂CRPS/∂s = 2σ y φ(z) − 2σ²mA − σ e^{μ+σ²/4}/√π.

With ∂F/∂μ = −φ(z)/σ, ∂F/∂s = −zφ(z) and dx = σ e^{μ+σz} dz, the Gaussian integrals
∫ zᵏ e^{−z² + σz} dz = √π e^{σ²/4} (1, σ/2, ½ + σ²/4) for k = 0, 1, 2 give

    M = e^{μ+σ²/4}/√π · [[1/σ, σ/2], [σ/2, σ(2 + σ²)/4]],

positive definite (the bracket has determinant ½). Unlike the Normal's, it depends on μ (the
CRPS is in the units of y, and y scales with e^μ) and couples μ and s.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import special

from natgrad._typing import Array
from natgrad.distributions import Distribution
from natgrad.distributions.laplace import Laplace
from natgrad.distributions.lognormal import LogNormal
from natgrad.distributions.normal import Normal
from natgrad.scores._base import Score, family_kernels, require_kernels

__all__ = ["CRPScore"]

_SQRT_PI = math.sqrt(math.pi)
_INV_SQRT_PI = 1.0 / _SQRT_PI
_SQRT_HALF = math.sqrt(0.5)
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


# ---------------------------------------------------------------------- Normal
def _normal_score(params: Array, y: Array) -> Array:
    mu, log_sigma = params[:, 0], params[:, 1]
    sigma = np.exp(log_sigma)
    z = (y - mu) / sigma
    pdf = np.exp(-0.5 * z * z - _HALF_LOG_2PI)
    # 2Φ(z) − 1 = erf(z/√2), without the cancellation of forming Φ first.
    return sigma * (z * special.erf(z * _SQRT_HALF) + 2.0 * pdf - _INV_SQRT_PI)


def _normal_grad(params: Array, y: Array) -> Array:
    mu, log_sigma = params[:, 0], params[:, 1]
    sigma = np.exp(log_sigma)
    z = (y - mu) / sigma
    pdf = np.exp(-0.5 * z * z - _HALF_LOG_2PI)
    return np.stack([-special.erf(z * _SQRT_HALF), sigma * (2.0 * pdf - _INV_SQRT_PI)], axis=-1)


def _normal_metric(params: Array) -> Array:
    sigma = np.exp(params[:, 1])
    out = np.zeros((params.shape[0], 2, 2))
    out[:, 0, 0] = _INV_SQRT_PI / sigma
    out[:, 1, 1] = 0.5 * _INV_SQRT_PI * sigma
    return out


# ---------------------------------------------------------------------- Laplace
def _laplace_score(params: Array, y: Array) -> Array:
    mu, b = params[:, 0], np.exp(params[:, 1])
    abs_z = np.abs(y - mu) / b
    return b * (abs_z + np.exp(-abs_z) - 0.75)


def _laplace_grad(params: Array, y: Array) -> Array:
    mu, b = params[:, 0], np.exp(params[:, 1])
    z = (y - mu) / b
    abs_z = np.abs(z)
    tail = np.exp(-abs_z)
    # 1 − e^{−|z|} by expm1: exact near the kink z = 0, where the gradient in μ is small.
    d_mu = np.sign(z) * np.expm1(-abs_z)
    d_s = b * ((1.0 + abs_z) * tail - 0.75)
    return np.stack([d_mu, d_s], axis=-1)


def _laplace_metric(params: Array) -> Array:
    b = np.exp(params[:, 1])
    out = np.zeros((params.shape[0], 2, 2))
    out[:, 0, 0] = 0.5 / b
    out[:, 1, 1] = 0.25 * b
    return out


# ---------------------------------------------------------------------- LogNormal
def _lognormal_terms(params: Array, y: Array) -> tuple[Array, Array, Array, Array]:
    """z = (log y − μ)/σ, σ, and mA = m [Φ(z − σ) − Φ(−σ/√2)] and y φ(z).

    The products m Φ(·) and y φ(z) are formed in log space (log Φ by `special.log_ndtr`), so
    that a huge mean e^{μ+σ²/2} times a tiny probability stays finite instead of inf · 0.
    """
    mu, log_sigma = params[:, 0], params[:, 1]
    sigma = np.exp(log_sigma)
    log_y = np.log(y)
    z = (log_y - mu) / sigma
    log_m = mu + 0.5 * sigma * sigma
    with np.errstate(over="ignore"):
        m_a = np.exp(log_m + special.log_ndtr(z - sigma)) - np.exp(
            log_m + special.log_ndtr(-sigma * _SQRT_HALF)
        )
        y_pdf = np.exp(log_y - 0.5 * z * z - _HALF_LOG_2PI)
    return z, sigma, m_a, y_pdf


def _lognormal_score(params: Array, y: Array) -> Array:
    z, _, m_a, _ = _lognormal_terms(params, y)
    return y * special.erf(z * _SQRT_HALF) - 2.0 * m_a


def _lognormal_grad(params: Array, y: Array) -> Array:
    _, sigma, m_a, y_pdf = _lognormal_terms(params, y)
    mu = params[:, 0]
    d_mu = -2.0 * m_a
    with np.errstate(over="ignore"):
        spread = sigma * np.exp(mu + 0.25 * sigma * sigma) * _INV_SQRT_PI
    d_s = 2.0 * sigma * y_pdf + sigma * sigma * d_mu - spread
    return np.stack([d_mu, d_s], axis=-1)


def _lognormal_metric(params: Array) -> Array:
    mu, sigma = params[:, 0], np.exp(params[:, 1])
    with np.errstate(over="ignore"):
        c = np.exp(mu + 0.25 * sigma * sigma) * _INV_SQRT_PI
    out = np.empty((params.shape[0], 2, 2))
    out[:, 0, 0] = c / sigma
    out[:, 0, 1] = out[:, 1, 0] = 0.5 * c * sigma
    out[:, 1, 1] = 0.25 * c * sigma * (2.0 + sigma * sigma)
    return out


_Kernels = tuple[
    Callable[[Array, Array], Array], Callable[[Array, Array], Array], Callable[[Array], Array]
]

#: (score, gradient, metric) kernels of each supported family, keyed by class.
_KERNELS: dict[type[Distribution], _Kernels] = {
    Normal: (_normal_score, _normal_grad, _normal_metric),
    Laplace: (_laplace_score, _laplace_grad, _laplace_metric),
    LogNormal: (_lognormal_score, _lognormal_grad, _lognormal_metric),
}


class CRPScore(Score):
    """The continuous ranked probability score, with its Riemannian metric.

    CRPS(F, y) = ∫ (F(x) − 1{y ≤ x})² dx, for the ``normal``, ``laplace`` and ``lognormal``
    families in their unconstrained coordinates (μ, log scale). The metric is the Hessian of
    the CRPS divergence, M(θ) = 2 ∫ ∇F(x; θ) ∇F(x; θ)ᵀ dx, in closed form for every supported
    family (see the module docstring for the formulas and their derivation).

    Kernels take the batch's parameters of shape (n, 2) and targets of shape (n,) or (m, n)
    (a leading sample axis); `_score` returns the targets' shape, `_grad` that shape plus
    (2,), and `metric` shape (n, 2, 2).

    See Also
    --------
    natgrad.scores.LogScore : The default rule.
    natgrad.metrics.crps : The CRPS as an evaluation metric.

    Examples
    --------
    >>> from natgrad.distributions import Gamma, Normal
    >>> from natgrad.scores import CRPScore
    >>> rule = CRPScore()
    >>> dist = Normal(loc=0.0, scale=[1.0, 0.1])
    >>> print(rule.score(dist, [0.0, 0.0]).round(4))   # σ (√2 − 1)/√π at y = μ
    [0.2337 0.0234]
    >>> rule.supports(Normal), rule.supports(Gamma)
    (True, False)
    >>> print(rule.metric(Normal(loc=0.0, scale=1.0))[0].round(4))
    [[0.5642 0.    ]
     [0.     0.2821]]
    """

    name = "crps"

    def supports(self, family: type[Distribution]) -> bool:
        """Whether the CRPS is implemented for ``family`` (a Distribution subclass)."""
        return isinstance(family, type) and family_kernels(_KERNELS, family) is not None

    def _kernels(self, dist: Distribution, method: str) -> _Kernels:
        return require_kernels(_KERNELS, dist, f"CRPScore.{method}")

    def _score(self, dist: Distribution, y: Array) -> Array:
        """CRPS per row: shape (n,), or (m, n) for stacked targets."""
        return self._kernels(dist, "score")[0](dist.params, y)

    def _grad(self, dist: Distribution, y: Array) -> Array:
        """Gradient of the CRPS in the unconstrained parameters: shape (n, 2) or (m, n, 2)."""
        return self._kernels(dist, "grad")[1](dist.params, y)

    def metric(self, dist: Distribution) -> Array:
        """M(θ) = 2 ∫ ∇F ∇Fᵀ dx, the Hessian of the CRPS divergence: shape (n, 2, 2)."""
        return self._kernels(dist, "metric")[2](dist.params)
