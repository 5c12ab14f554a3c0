"""The Beta family, parameterised by (log α, log β)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import special, stats

from natgrad.distributions._base import Array, Distribution, register_kl
from natgrad.distributions._support import POSITIVE, UNIT_INTERVAL

# Fisher scoring of the marginal fit: iteration cap and the relative step that ends it.
_FIT_MAX_ITER = 200
_FIT_TOL = 1e-13
# A variance below this share of m(1 − m) counts as a constant target (α + β ≈ 1e12).
_MIN_RELATIVE_VARIANCE = 1e-12
# Draws are clipped into [tiny, 1 − 2⁻⁵³]: for small α or β a float draw can round to exactly
# 0 or 1, which lies outside the open support.
_TOP = 1.0 - 2.0**-53


def _fisher_ab(a: Array, b: Array) -> Array:
    """Fisher information in (log α, log β), shape (n, 2, 2).

    In (α, β) it is [[ψ'(α) − ψ'(α+β), −ψ'(α+β)], [−ψ'(α+β), ψ'(β) − ψ'(α+β)]]; the
    Jacobian diag(α, β) on both sides gives the log-coordinates form.
    """
    tri_a, tri_b = special.polygamma(1, a), special.polygamma(1, b)
    tri_ab = special.polygamma(1, a + b)
    out = np.empty(a.shape + (2, 2))
    out[..., 0, 0] = a * a * (tri_a - tri_ab)
    out[..., 1, 1] = b * b * (tri_b - tri_ab)
    out[..., 0, 1] = out[..., 1, 0] = -a * b * tri_ab
    return out


class Beta(Distribution):
    """Beta distributions on (0, 1) with shapes α and β (mean α/(α + β)).

    Unconstrained parameters θ = (log α, log β). Negative log-likelihood and its geometry
    (ψ the digamma, ψ' the trigamma function):

        nll = log B(α, β) − (α − 1) log y − (β − 1) log(1 − y)
        ∇nll = (α(ψ(α) − ψ(α+β) − log y), β(ψ(β) − ψ(α+β) − log(1 − y)))
        F = [[α²(ψ'(α) − ψ'(α+β)), −αβ ψ'(α+β)],
             [−αβ ψ'(α+β),          β²(ψ'(β) − ψ'(α+β))]]

    Parameters
    ----------
    alpha : array-like of shape (n,) or scalar
        First shape α > 0.
    beta : array-like of shape (n,) or scalar
        Second shape β > 0.

    See Also
    --------
    natgrad.distributions.LogitNormal : The other common law on (0, 1).
    natgrad.distributions.BetaBinomial : Counts of successes with a Beta probability.

    Examples
    --------
    >>> from natgrad.distributions import Beta
    >>> dist = Beta(alpha=[2.0, 5.0], beta=[2.0, 1.0])
    >>> print(dist.mean().round(3))
    [0.5   0.833]
    >>> print(dist.cdf(0.5).round(4))
    [0.5    0.0313]
    """

    name = "beta"
    param_names = ("log_alpha", "log_beta")
    n_params = 2
    support = UNIT_INTERVAL
    natural_support = {"alpha": POSITIVE, "beta": POSITIVE}
    examples = [
        (
            {},
            [
                [np.log(2.0), np.log(3.0)],
                [np.log(0.5), np.log(0.7)],
                [np.log(40.0), np.log(4.0)],
                [np.log(300.0), np.log(500.0)],
            ],
        )
    ]

    def __init__(self, alpha: ArrayLike = 1.0, beta: ArrayLike = 1.0) -> None:
        self._set_natural(alpha=alpha, beta=beta)

    def _from_natural(self, alpha: Array, beta: Array) -> Array:  # type: ignore[override]
        return np.column_stack([np.log(alpha), np.log(beta)])

    def _natural(self) -> dict[str, Array]:
        return {"alpha": self.alpha, "beta": self.beta}

    @property
    def alpha(self) -> Array:
        return np.exp(self._params[:, 0])

    @property
    def beta(self) -> Array:
        return np.exp(self._params[:, 1])

    def _nll(self, y: Array) -> Array:
        a, b = self.alpha, self.beta
        # xlog1py/xlogy: exact zeros when α = 1 or β = 1, and log1p keeps y near 0 exact.
        return special.betaln(a, b) - special.xlogy(a - 1.0, y) - special.xlog1py(b - 1.0, -y)

    def _grad(self, y: Array) -> Array:
        a, b = self.alpha, self.beta
        psi_ab = special.digamma(a + b)
        g_a = a * (special.digamma(a) - psi_ab - np.log(y))
        g_b = b * (special.digamma(b) - psi_ab - np.log1p(-y))
        return np.stack([g_a, g_b], axis=-1)

    def _fisher(self) -> Array:
        return _fisher_ab(self.alpha, self.beta)

    def _fit_marginal(self, y: Array, w: Array) -> Array:
        """Weighted MLE by Fisher scoring from the method-of-moments start.

        The Beta is an exponential family in (α, β) with sufficient statistics
        (log y, log(1 − y)): its Hessian of the mean nll equals the Fisher, so Fisher
        scoring θ ← θ − F(θ)⁻¹ ∇ is Newton's method. In log coordinates the step is halved
        until the mean nll decreases, which makes it globally convergent.
        """
        s1, s2 = float(w @ np.log(y)), float(w @ np.log1p(-y))
        m = float(w @ y)
        v = float(w @ (y - m) ** 2)
        if v <= _MIN_RELATIVE_VARIANCE * m * (1.0 - m):
            # A (near-)constant target: the likelihood rises without bound as α + β → ∞
            # and Fisher scoring meets a singular matrix. Stop at the concentration whose
            # variance is the floor, as the Normal keeps a tiny positive scale.
            common = 1.0 / _MIN_RELATIVE_VARIANCE - 1.0
            return np.log([m * common, (1.0 - m) * common])
        common = m * (1.0 - m) / v - 1.0
        if not np.isfinite(common) or common <= 0:  # moments impossible for a Beta
            common = 1.0
        theta = np.log([m * common, (1.0 - m) * common])

        def mean_nll(t: Array) -> float:
            a, b = np.exp(t)
            return float(special.betaln(a, b) - (a - 1.0) * s1 - (b - 1.0) * s2)

        value = mean_nll(theta)
        for _ in range(_FIT_MAX_ITER):
            a, b = np.exp(theta)
            psi_ab = special.digamma(a + b)
            grad = np.array(
                [a * (special.digamma(a) - psi_ab - s1), b * (special.digamma(b) - psi_ab - s2)]
            )
            try:
                step = np.linalg.solve(_fisher_ab(np.array(a), np.array(b)), grad)
            except np.linalg.LinAlgError:
                break  # singular to rounding: as far as Fisher scoring can go
            t = 1.0
            while t > 1e-10:
                candidate = theta - t * step
                new = mean_nll(candidate)
                if np.isfinite(new) and new <= value:
                    break
                t *= 0.5
            else:
                break  # no descent left: at the optimum to rounding
            theta, value = candidate, new
            if np.max(np.abs(t * step)) <= _FIT_TOL * max(1.0, np.max(np.abs(theta))):
                break
        return theta

    def to_scipy(self) -> stats.rv_continuous:
        return stats.beta(a=self.alpha, b=self.beta)

    def mean(self) -> Array:
        # α/(α + β) = σ(log α − log β), exact for very unequal shapes.
        return special.expit(self._params[:, 0] - self._params[:, 1])

    def var(self) -> Array:
        a, b = self.alpha, self.beta
        m = special.expit(self._params[:, 0] - self._params[:, 1])
        return m * (1.0 - m) / (a + b + 1.0)

    def sample(self, size: int, rng: np.random.Generator | int | None = None) -> Array:
        size, rng = self._check_sample_args(size, rng)
        draws = rng.beta(self.alpha, self.beta, size=(size, len(self)))
        return np.clip(draws, np.finfo(np.float64).tiny, _TOP)


@register_kl(Beta, Beta)
def _kl_beta_beta(p: Beta, q: Beta) -> Array:
    """KL(Beta(α₁, β₁) ‖ Beta(α₂, β₂)).

    = log B(α₂, β₂) − log B(α₁, β₁) + (α₁ − α₂)ψ(α₁) + (β₁ − β₂)ψ(β₁)
      + (α₂ − α₁ + β₂ − β₁)ψ(α₁ + β₁).
    """
    a1, b1, a2, b2 = p.alpha, p.beta, q.alpha, q.beta
    kl = (
        special.betaln(a2, b2)
        - special.betaln(a1, b1)
        + (a1 - a2) * special.digamma(a1)
        + (b1 - b2) * special.digamma(b1)
        + (a2 - a1 + b2 - b1) * special.digamma(a1 + b1)
    )
    return np.maximum(kl, 0.0)
