"""NGBoost's ``BetaBinomialEstN``: a beta-binomial whose number of trials n is learned too.

n enters as a continuous parameter (log n) through the gamma function, and the counts'
support 0..n moves with it, so the family is not regular and natgrad has no exact Fisher
information for it. As in NGBoost, the metric is a Monte Carlo estimate of the Fisher
information (here from a generator with a fixed seed, so that fits are reproducible); the
estimators train it through these methods (`natgrad.compat.ngboost._adapter`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from natgrad._typing import Array
from natgrad.compat.ngboost.distns.distn import RegressionDistn
from natgrad.compat.ngboost.scores import LogScore

#: Monte Carlo draws per row of the metric, and the seed of their generator.
_MC_DRAWS = 100
_MC_SEED = 0


class BetaBinomialEstNLogScore(LogScore):
    """The log score of `BetaBinomialEstN` in (log α, log β, log n)."""

    def score(self, Y: ArrayLike) -> Array:
        y = np.asarray(Y, dtype=np.float64)
        a, b, n = self.alpha, self.beta, self.n  # type: ignore[attr-defined]
        with np.errstate(invalid="ignore"):
            log_pmf = (
                special.gammaln(n + 1.0)
                - special.gammaln(y + 1.0)
                - special.gammaln(n - y + 1.0)
                + special.betaln(y + a, n - y + b)
                - special.betaln(a, b)
            )
        # A count above n has probability zero (log Γ stays finite at negative non-integers,
        # so the formula alone would not say so).
        return np.where(np.isfinite(log_pmf) & (y <= n), -log_pmf, 1e8)

    def d_score(self, Y: ArrayLike) -> Array:
        y = np.asarray(Y, dtype=np.float64)
        a, b, n = self.alpha, self.beta, self.n  # type: ignore[attr-defined]
        total = special.digamma(n + a + b)
        shared = total - special.digamma(a + b)
        with np.errstate(invalid="ignore"):
            g = np.stack(
                [
                    a * (special.digamma(a) - special.digamma(y + a) + shared),
                    b * (special.digamma(b) - special.digamma(n - y + b) + shared),
                    n * (special.digamma(n - y + 1.0) - special.digamma(n + 1.0)
                         - special.digamma(n - y + b) + total),
                ],
                axis=-1,
            )  # fmt: skip
        return np.nan_to_num(g, nan=0.0, posinf=1e6, neginf=-1e6)

    def metric(self, n_mc_samples: int = _MC_DRAWS) -> Array:  # type: ignore[override]
        """Monte Carlo Fisher information from ``n_mc_samples`` seeded draws per row, with
        1e-8 added to the diagonal (shape (n, 3, 3))."""
        draws = self.sample(n_mc_samples, random_state=_MC_SEED)  # type: ignore[attr-defined]
        grads = np.stack([self.d_score(y) for y in draws])
        fisher = np.einsum("sni,snj->nij", grads, grads) / grads.shape[0]
        fisher[:, range(3), range(3)] += 1e-8
        return fisher


class BetaBinomialEstN(RegressionDistn):
    """Beta-binomial counts with α, β and the number of trials n all learned; internal
    parameters (log α, log β, log n). Prefer `BetaBinomial` when n is known.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.compat.ngboost.distns import BetaBinomialEstN
    >>> y = np.array([2.0, 5.0, 7.0, 3.0])
    >>> theta = BetaBinomialEstN.fit(y)                # marginal fit, internal parameters
    >>> dist = BetaBinomialEstN(np.tile(theta[:, None], (1, 3)))   # shape (n_params, n)
    >>> sorted(dist.params)
    ['alpha', 'beta', 'n']
    >>> print(dist.predict().round(3))
    [4.25 4.25 4.25]
    """

    n_params: ClassVar[int] = 3
    scores: ClassVar[list[type]] = [BetaBinomialEstNLogScore]

    def __init__(self, params: ArrayLike) -> None:
        arr = np.asarray(params, dtype=np.float64)
        super().__init__(arr)
        clipped = np.exp(np.clip(arr, -150.0, 700.0))
        self.alpha, self.beta, self.n = clipped[0], clipped[1], clipped[2]

    @staticmethod
    def fit(Y: ArrayLike) -> Array:
        """Moments-based start with n well above the largest count: (log α, log β, log n)."""
        y = np.asarray(Y, dtype=np.float64)
        n = max(2.0 * y.max(), y.max() + 10.0)
        p = float(np.clip(y.mean() / n, 0.01, 0.99))
        binom = n * p * (1.0 - p)
        rho = float(np.clip((y.var() / binom - 1.0) / (n - 1.0), 0.01, 0.99))
        total = 1.0 / rho - 1.0
        alpha = float(np.clip(p * total, 1e-4, 1e4))
        beta = float(np.clip((1.0 - p) * total, 1e-4, 1e4))
        return np.log([alpha, beta, n])

    def sample(self, m: int, random_state: Any = None) -> Array:
        """``m`` draws per row, shape (m, n); the trials are ⌊n⌋ (at least 1)."""
        rng = np.random.default_rng(random_state)
        trials = np.clip(np.floor(self.n), 1, 2**31).astype(np.int64)
        p = rng.beta(self.alpha, self.beta, size=(int(m), len(self)))
        return rng.binomial(trials, p).astype(np.float64)

    def mean(self) -> Array:
        return self.n * self.alpha / (self.alpha + self.beta)

    @property
    def params(self) -> dict[str, Array]:
        return {"alpha": self.alpha, "beta": self.beta, "n": self.n}
