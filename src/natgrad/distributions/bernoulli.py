"""The Bernoulli family, parameterised by the log-odds."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import special, stats

from natgrad.distributions._base import Array, Distribution, register_kl
from natgrad.distributions._support import BINARY, UNIT_INTERVAL

# The marginal fit of a target that is all 0 or all 1 has an infinite MLE logit; it clips the
# frequency to [1e-10, 1 − 1e-10] instead (|logit| ≤ 23).
_MIN_PROB = 1e-10


class Bernoulli(Distribution):
    """Bernoulli distributions on {0, 1} with P(y = 1) = p.

    Unconstrained parameter θ = logit p = log(p/(1 − p)). Negative log-likelihood and its
    geometry, all through log σ(±θ) (σ the logistic function) so that |θ| up to several
    hundred stays exact:

        nll = −y log σ(θ) − (1 − y) log σ(−θ)
        ∇nll = σ(θ) − y = p − y     (−σ(−θ) for y = 1)
        F = [[σ(θ) σ(−θ)]] = [[p(1 − p)]]

    Parameters
    ----------
    probs : array-like of shape (n,) or scalar
        Success probability p in (0, 1).

    See Also
    --------
    natgrad.distributions.Categorical : More than two classes.
    natgrad.NGBoostClassifier : Predicts class probabilities.

    Examples
    --------
    >>> from natgrad.distributions import Bernoulli
    >>> dist = Bernoulli(probs=[0.2, 0.9])
    >>> print(dist.mean())
    [0.2 0.9]
    >>> print(dist.nll([1, 1]).round(3))
    [1.609 0.105]
    >>> print(dist.fisher()[:, 0, 0].round(3))      # p (1 − p) in the logit coordinate
    [0.16 0.09]
    """

    name = "bernoulli"
    param_names = ("logit",)
    n_params = 1
    support = BINARY
    natural_support = {"probs": UNIT_INTERVAL}
    discrete = True
    examples = [({}, [[0.0], [2.5], [-5.0]])]

    def __init__(self, probs: ArrayLike = 0.5) -> None:
        self._set_natural(probs=probs)

    def _from_natural(self, probs: Array) -> Array:  # type: ignore[override]
        return special.logit(probs)[:, None]

    def _natural(self) -> dict[str, Array]:
        return {"probs": self.probs}

    @property
    def probs(self) -> Array:
        """p = σ(θ), shape (n,)."""
        return special.expit(self._params[:, 0])

    @property
    def logits(self) -> Array:
        """θ = logit p, shape (n,)."""
        return self._params[:, 0]

    def _nll(self, y: Array) -> Array:
        logit = self._params[:, 0]
        # y ∈ {0, 1}: pick the one log-probability instead of mixing both (0 · −inf = nan).
        return -np.where(y == 1.0, special.log_expit(logit), special.log_expit(-logit))

    def _grad(self, y: Array) -> Array:
        logit = self._params[:, 0]
        # p − 1 = −σ(−θ) for y = 1: exact where p rounds to 1 (θ > 37), so that the
        # natural gradient (p − y)/(p(1 − p)) keeps its value −1/p there.
        return np.where(y == 1.0, -special.expit(-logit), special.expit(logit))[..., None]

    def _fisher(self) -> Array:
        logit = self._params[:, 0]
        # σ(θ)σ(−θ): no 1 − p, which would round to 0 for θ > 37.
        return (special.expit(logit) * special.expit(-logit))[:, None, None]

    def _fit_marginal(self, y: Array, w: Array) -> Array:
        """Closed form: logit of the weighted frequency of ones (clipped to [1e-10, 1 − 1e-10])."""
        p = float(np.clip(w @ y, _MIN_PROB, 1.0 - _MIN_PROB))
        return np.array([special.logit(p)])

    def to_scipy(self) -> stats.rv_discrete:
        return stats.bernoulli(p=self.probs)

    def mean(self) -> Array:
        return self.probs

    def var(self) -> Array:
        logit = self._params[:, 0]
        return special.expit(logit) * special.expit(-logit)

    def sample(self, size: int, rng: np.random.Generator | int | None = None) -> Array:
        size, rng = self._check_sample_args(size, rng)
        return (rng.random((size, len(self))) < self.probs).astype(np.float64)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p: Bernoulli, q: Bernoulli) -> Array:
    """KL(Ber(p₁) ‖ Ber(p₂)) = p₁ log(p₁/p₂) + (1 − p₁) log((1 − p₁)/(1 − p₂)).

    Every log-probability is log σ(±θ), exact for extreme logits.
    """
    a, b = p._params[:, 0], q._params[:, 0]
    log_p1, log_q1 = special.log_expit(a), special.log_expit(-a)
    log_p2, log_q2 = special.log_expit(b), special.log_expit(-b)
    kl = np.exp(log_p1) * (log_p1 - log_p2) + np.exp(log_q1) * (log_q1 - log_q2)
    # Rounding can leave −1e-17 where the two rows are equal; KL is never negative.
    return np.maximum(kl, 0.0)
