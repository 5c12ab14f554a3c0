"""NGBoost's scoring rules: `Score`, `LogScore` (alias `MLE`), `CRPScore` (alias `CRPS`).

In NGBoost a scoring rule is a class whose distribution-specific implementations define
``score(Y)`` (the loss per row), ``d_score(Y)`` (its gradient in the internal parameters,
shape (n, n_params)) and ``metric()`` (the Riemannian metric, shape (n, n_params, n_params)),
with ``self`` the predicted distribution. The generic methods here are the ones NGBoost's
rules share: `Score.total_score`, `Score.grad` (natural or ordinary) and the Monte Carlo
Fisher information of `LogScore.metric`, used when an implementation defines no metric.

Passing `LogScore` or `CRPScore` as ``Score`` to an estimator with a built-in distribution
trains on natgrad's compiled rules (``"log"``, ``"crps"``); a user-defined subclass trains
through its own ``score``/``d_score``/``metric`` (see `natgrad.compat.ngboost.distns.Distn`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from natgrad._typing import Array

__all__ = ["CRPS", "MLE", "CRPScore", "LogScore", "Score"]


def natural_gradient(grad: ArrayLike, metric: ArrayLike) -> Array:
    """Per-row solves F_i⁻¹ g_i, shape (n, p); a singular F_i falls back to its pseudo-inverse.

    Parameters
    ----------
    grad : array-like of shape (n, p)
    metric : array-like of shape (n, p, p)
    """
    g = np.asarray(grad, dtype=np.float64)
    f = np.asarray(metric, dtype=np.float64)
    if g.ndim != 2 or f.shape != g.shape + (g.shape[1],):
        raise ValueError(
            "The gradient must have shape (n, p) and the metric (n, p, p). Got shapes "
            f"{g.shape} and {f.shape} instead."
        )
    try:
        out = np.linalg.solve(f, g[..., None])[..., 0]
    except np.linalg.LinAlgError:
        out = np.einsum("nij,nj->ni", np.linalg.pinv(f), g)
    return np.asarray(out, dtype=np.float64)


class Score:
    """Base class of NGBoost scoring rules (methods shared by every implementation)."""

    def total_score(self, Y: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
        """The (weighted) mean score of the batch."""
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        return float(np.average(self.score(Y), weights=weights))  # type: ignore[attr-defined]

    def grad(self, Y: ArrayLike, natural: bool = True) -> Array:
        """Gradient of the score per row, shape (n, n_params); natural by default."""
        grad = self.d_score(Y)  # type: ignore[attr-defined]
        if natural:
            grad = natural_gradient(grad, self.metric())  # type: ignore[attr-defined]
        return np.asarray(grad)


class LogScore(Score):
    """The logarithmic score −log p(Y) (maximum likelihood).

    Examples
    --------
    >>> from natgrad.compat.ngboost import MLE, LogScore, NGBRegressor
    >>> MLE is LogScore                             # NGBoost's alias
    True
    >>> NGBRegressor(Score=LogScore).Score.__name__
    'LogScore'
    """

    def metric(self, n_mc_samples: int = 100) -> Array:
        """Fisher information estimated from ``n_mc_samples`` draws of every distribution:
        the mean of d_score d_scoreᵀ, shape (n, n_params, n_params)."""
        draws = self.sample(n_mc_samples)  # type: ignore[attr-defined]
        grads = np.stack([np.asarray(self.d_score(y)) for y in draws])  # type: ignore[attr-defined]
        return np.einsum("sni,snj->nij", grads, grads) / grads.shape[0]


class CRPScore(Score):
    """The continuous ranked probability score ∫ (F(x) − 1{Y ≤ x})² dx.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.compat.ngboost import CRPS, CRPScore, NGBRegressor
    >>> from natgrad.compat.ngboost.distns import Normal
    >>> CRPS is CRPScore
    True
    >>> X = np.random.default_rng(0).normal(size=(200, 2))
    >>> Y = X[:, 0] + np.random.default_rng(1).normal(scale=0.5, size=200)
    >>> model = NGBRegressor(Dist=Normal, Score=CRPScore, n_estimators=20, verbose=False).fit(X, Y)
    >>> model.pred_dist(X[:2]).params["scale"].shape
    (2,)
    """


MLE = LogScore
CRPS = CRPScore


def rule_name(score: Any) -> str | None:
    """natgrad's rule for an NGBoost score class: ``"log"``, ``"crps"``, or None (custom)."""
    if score is LogScore:
        return "log"
    if score is CRPScore:
        return "crps"
    return None
