"""The beta-binomial family for counts out of n trials, parameterised by (log α, log β)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import special, stats

from natgrad._validation import describe
from natgrad.distributions._base import Array, Distribution, register_kl
from natgrad.distributions._support import POSITIVE, Support


def _count_support(n_trials: int) -> Support:
    return Support(
        f"an integer count in 0..{n_trials}",
        lower=0.0,
        upper=float(n_trials),
        lower_open=False,
        upper_open=False,
        integer=True,
    )


class BetaBinomial(Distribution):
    """Beta-binomial distributions: Y | p ~ Binomial(n, p), p ~ Beta(α, β).

    Unconstrained parameters θ = (log α, log β); the number of trials n is configuration
    (``n_trials``, shared by the batch; n = 1 is the beta-Bernoulli). With B the beta
    function, ψ the digamma function and s = α + β:

        nll = −log C(n, y) − log B(y + α, n − y + β) + log B(α, β)
        ∇nll = (α[ψ(α) − ψ(s) − ψ(y + α) + ψ(n + s)],
                β[ψ(β) − ψ(s) − ψ(n − y + β) + ψ(n + s)])

    The Fisher information E[∇nll ∇nllᵀ] is computed exactly as the sum over the n + 1
    possible counts, weighted by their probabilities (cost O(n) per row). For n = 1 it has
    rank one: only the mean α/(α + β) is identified by a single trial (so the examples the
    identity checker runs use n >= 10, where the marginal fit can recover α and β).

    Parameters
    ----------
    alpha, beta : array-like of shape (n,) or scalar
        Shapes α > 0 and β > 0 of the success probability's Beta distribution.
    n_trials : int, default=1
        Number of trials n >= 1.

    See Also
    --------
    natgrad.distributions.Beta : The law of the success probability.
    natgrad.distributions.Bernoulli : One trial with a fixed probability.

    Examples
    --------
    >>> from natgrad.distributions import BetaBinomial
    >>> dist = BetaBinomial(alpha=[1.0, 20.0], beta=[1.0, 20.0], n_trials=10)
    >>> print(dist.mean())
    [5. 5.]
    >>> print(dist.var().round(3))                  # Binomial(10, 0.5) has 2.5
    [10.     3.049]
    """

    name = "beta_binomial"
    param_names = ("log_alpha", "log_beta")
    n_params = 2
    discrete = True
    natural_support = {"alpha": POSITIVE, "beta": POSITIVE}
    examples = [
        ({"n_trials": 10}, [[np.log(2.0), np.log(3.0)], [np.log(0.5), np.log(0.7)]]),
        ({"n_trials": 25}, [[np.log(20.0), np.log(4.0)], [np.log(1.5), np.log(8.0)]]),
    ]

    n_trials: int = 1

    def __init__(self, alpha: ArrayLike = 1.0, beta: ArrayLike = 1.0, *, n_trials: int = 1) -> None:
        self._configure(n_trials=n_trials)
        self._set_natural(alpha=alpha, beta=beta)

    def _configure(self, n_trials: int = 1, **config: Any) -> None:
        super()._configure(**config)
        if isinstance(n_trials, bool) or not isinstance(n_trials, int | np.integer) or n_trials < 1:
            raise ValueError(
                "The 'n_trials' argument of BetaBinomial must be an integer >= 1. Got "
                f"{describe(n_trials)} instead."
            )
        self.n_trials = int(n_trials)
        self.support = _count_support(self.n_trials)

    @property
    def config(self) -> dict[str, Any]:
        return {"n_trials": self.n_trials}

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
        a, b, n = self.alpha, self.beta, self.n_trials
        log_choose = (
            special.gammaln(n + 1.0) - special.gammaln(y + 1.0) - special.gammaln(n - y + 1.0)
        )
        return -(log_choose + special.betaln(y + a, n - y + b) - special.betaln(a, b))

    def _grad(self, y: Array) -> Array:
        a, b, n = self.alpha, self.beta, self.n_trials
        common = special.digamma(n + a + b) - special.digamma(a + b)
        g_a = a * (special.digamma(a) - special.digamma(y + a) + common)
        g_b = b * (special.digamma(b) - special.digamma(n - y + b) + common)
        return np.stack([g_a, g_b], axis=-1)

    def _fisher(self) -> Array:
        counts = np.arange(self.n_trials + 1, dtype=np.float64)[:, None]  # (n+1, 1)
        y = np.broadcast_to(counts, (counts.shape[0], len(self)))
        prob = np.exp(-self._nll(y))  # (n+1, rows)
        g = self._grad(y)  # (n+1, rows, 2)
        return np.einsum("kr,kri,krj->rij", prob, g, g)

    def _initial_params(self, y: Array, w: Array) -> Array:
        n = self.n_trials
        p = float(np.clip(w @ y / n, 0.01, 0.99))
        var = float(w @ (y - n * p) ** 2)
        binom = n * p * (1.0 - p)
        rho = float(np.clip((var / binom - 1.0) / (n - 1.0), 0.01, 0.99)) if n > 1 else 0.5
        total = 1.0 / rho - 1.0
        return np.log([p * total, (1.0 - p) * total])

    def to_scipy(self) -> Any:
        return stats.betabinom(self.n_trials, self.alpha, self.beta)

    def mean(self) -> Array:
        return self.n_trials * special.expit(self._params[:, 0] - self._params[:, 1])

    def var(self) -> Array:
        a, b, n = self.alpha, self.beta, self.n_trials
        p = special.expit(self._params[:, 0] - self._params[:, 1])
        return n * p * (1.0 - p) * (a + b + n) / (a + b + 1.0)

    def sample(self, size: int, rng: np.random.Generator | int | None = None) -> Array:
        size, rng = self._check_sample_args(size, rng)
        p = rng.beta(self.alpha, self.beta, size=(size, len(self)))
        return rng.binomial(self.n_trials, p).astype(np.float64)


@register_kl(BetaBinomial, BetaBinomial)
def _kl_beta_binomial(p: BetaBinomial, q: BetaBinomial) -> Array:
    """KL(p ‖ q) = Σ_y p(y) (log p(y) − log q(y)), exactly, over the counts 0..n."""
    if p.n_trials != q.n_trials:
        raise ValueError(
            "KL between beta-binomial batches needs the same 'n_trials'. Got "
            f"{p.n_trials} and {q.n_trials}."
        )
    counts = np.arange(p.n_trials + 1, dtype=np.float64)[:, None]
    y = np.broadcast_to(counts, (counts.shape[0], len(p)))
    log_p, log_q = -p._nll(y), -q._nll(y)
    return np.maximum(np.sum(np.exp(log_p) * (log_p - log_q), axis=0), 0.0)
