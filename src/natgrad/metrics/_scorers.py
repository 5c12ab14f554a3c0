"""Scorers of predictive distributions for scikit-learn model selection.

scikit-learn's `make_scorer` calls one of ``predict``, ``predict_proba`` or
``decision_function``; it cannot ask for a whole distribution (``predict_dist``), and a
`Pipeline` does not expose that method. A scorer here is a callable
``scorer(estimator, X, y, sample_weight=None) -> float`` (what ``scoring=`` of
`GridSearchCV` and `cross_val_score` takes) that reaches the distribution through pipelines:
the pipeline's transformers transform X, and the final step predicts. Greater is better, as
scikit-learn expects, hence the negated losses.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from natgrad._typing import Array
from natgrad._validation import describe
from natgrad.distributions import Distribution
from natgrad.metrics._regression import crps

__all__ = [
    "DistributionScorer",
    "coverage_scorer",
    "neg_coverage_error_scorer",
    "neg_crps_scorer",
    "neg_interval_width_scorer",
    "neg_nll_scorer",
    "predict_dist",
]


def predict_dist(estimator: Any, X: Any) -> Distribution:
    """The predicted distributions of a fitted natgrad estimator, a pipeline ending in one,
    or a fitted search (``best_estimator_``)."""
    if hasattr(estimator, "predict_dist"):
        return estimator.predict_dist(X)
    from sklearn.pipeline import Pipeline

    if isinstance(estimator, Pipeline):
        return predict_dist(estimator[-1], estimator[:-1].transform(X))
    if hasattr(estimator, "best_estimator_"):
        return predict_dist(estimator.best_estimator_, X)
    raise TypeError(
        "A natgrad scorer needs an estimator with predict_dist (a natgrad estimator, or a "
        f"Pipeline whose last step is one). Got {describe(estimator)} instead."
    )


def _check_level(level: Any, where: str) -> float:
    ok = isinstance(level, float | int | np.floating) and not isinstance(level, bool)
    if not ok or not 0.0 < level < 1.0:
        raise ValueError(
            f"The 'level' argument of {where} must be a float in the range (0, 1). Got "
            f"{describe(level)} instead."
        )
    return float(level)


class DistributionScorer:
    """``scoring=`` callable: a per-row metric of the predicted distributions, averaged.

    Parameters
    ----------
    metric : {"nll", "crps", "coverage", "coverage_error", "interval_width"}
        What is averaged over the rows (weighted by ``sample_weight`` when given).
    sign : {1, -1}
        −1 for losses, so that greater is better.
    level : float in (0, 1), default=0.9
        Nominal level of the central interval (the interval metrics only).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import cross_val_score
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from natgrad.glm import GLMRegressor
    >>> from natgrad.metrics import DistributionScorer, neg_crps_scorer, neg_nll_scorer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 3))
    >>> y = X @ [1.0, -2.0, 0.5] + rng.normal(size=300)
    >>> model = make_pipeline(StandardScaler(), GLMRegressor())   # through a pipeline
    >>> print(cross_val_score(model, X, y, cv=3, scoring=neg_nll_scorer).round(2))
    [-1.47 -1.54 -1.34]
    >>> print(cross_val_score(model, X, y, cv=3, scoring=neg_crps_scorer).round(2))
    [-0.59 -0.61 -0.53]
    >>> neg_nll_scorer
    DistributionScorer('nll', sign=-1)
    """

    _METRICS = ("nll", "crps", "coverage", "coverage_error", "interval_width")

    def __init__(self, metric: str, sign: int = -1, level: float = 0.9) -> None:
        if metric not in self._METRICS:
            raise ValueError(
                f"The 'metric' argument of DistributionScorer must be one of {self._METRICS}. "
                f"Got {describe(metric)} instead."
            )
        if sign not in (1, -1) or isinstance(sign, bool):
            raise ValueError(
                "The 'sign' argument of DistributionScorer must be 1 or -1. Got "
                f"{describe(sign)} instead."
            )
        self.metric = metric
        self.sign = sign
        self.level = _check_level(level, "DistributionScorer")

    def __repr__(self) -> str:
        level = f", level={self.level}" if "interval" in self.metric or "cov" in self.metric else ""
        return f"DistributionScorer({self.metric!r}, sign={self.sign}{level})"

    def __call__(
        self, estimator: Any, X: Any, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> float:
        dist = predict_dist(estimator, X)
        target = np.asarray(y, dtype=np.float64)
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        if self.metric == "coverage_error":
            inside = self._inside(dist, target)
            return self.sign * abs(float(np.average(inside, weights=w)) - self.level)
        return self.sign * float(np.average(self._per_row(dist, target), weights=w))

    def _inside(self, dist: Distribution, y: Array) -> Array:
        lower, upper = dist.interval(self.level)
        return ((y >= lower) & (y <= upper)).astype(np.float64)

    def _per_row(self, dist: Distribution, y: Array) -> Array:
        if self.metric == "nll":
            return dist.nll(y)
        if self.metric == "crps":
            return crps(dist, y)
        if self.metric == "coverage":
            return self._inside(dist, y)
        lower, upper = dist.interval(self.level)
        return upper - lower


#: Negative mean negative log-likelihood (the log score); greater is better.
neg_nll_scorer = DistributionScorer("nll")
#: Negative mean CRPS; greater is better.
neg_crps_scorer = DistributionScorer("crps")


def coverage_scorer(level: float = 0.9) -> DistributionScorer:
    """Share of targets inside the central ``level`` interval (to report, not to maximise).

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.glm import GLMRegressor
    >>> from natgrad.metrics import coverage_scorer
    >>> rng = np.random.default_rng(1)
    >>> X = rng.normal(size=(400, 2))
    >>> y = X[:, 0] + rng.normal(size=400)
    >>> model = GLMRegressor().fit(X[:200], y[:200])
    >>> round(coverage_scorer(0.8)(model, X[200:], y[200:]), 3)   # held-out share inside
    0.775
    """
    return DistributionScorer("coverage", sign=1, level=_check_level(level, "coverage_scorer"))


def neg_coverage_error_scorer(level: float = 0.9) -> DistributionScorer:
    """−|coverage − level| of the central ``level`` interval; greater is better.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import GridSearchCV
    >>> from natgrad.glm import GLMRegressor
    >>> from natgrad.metrics import neg_coverage_error_scorer
    >>> rng = np.random.default_rng(1)
    >>> X = rng.normal(size=(400, 2))
    >>> y = X[:, 0] + rng.normal(scale=2.0, size=400)
    >>> scoring = neg_coverage_error_scorer(0.8)
    >>> search = GridSearchCV(GLMRegressor(), {"alpha": [0.0, 100.0]}, scoring=scoring, cv=4)
    >>> print(search.fit(X, y).cv_results_["mean_test_score"].round(3))
    [-0.015 -0.025]
    """
    where = "neg_coverage_error_scorer"
    return DistributionScorer("coverage_error", sign=-1, level=_check_level(level, where))


def neg_interval_width_scorer(level: float = 0.9) -> DistributionScorer:
    """Negative mean width of the central ``level`` interval (sharpness); greater is better.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sklearn.model_selection import cross_val_score
    >>> from natgrad.glm import GLMRegressor
    >>> from natgrad.metrics import neg_interval_width_scorer
    >>> X, y = make_regression(n_samples=300, n_features=3, noise=1.0, random_state=0)
    >>> scores = cross_val_score(GLMRegressor(), X, y, scoring=neg_interval_width_scorer(0.9))
    >>> print(scores.round(1))
    [-3.2 -3.3 -3.3 -3.2 -3.3]
    """
    where = "neg_interval_width_scorer"
    return DistributionScorer("interval_width", sign=-1, level=_check_level(level, where))
