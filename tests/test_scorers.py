"""Issue 14 #2: probabilistic model selection with natgrad.metrics' scorers."""

from __future__ import annotations

import numpy as np
import pytest

import natgrad
from natgrad import metrics


def test_scorers_select_models_through_a_pipeline():
    from sklearn.model_selection import GridSearchCV, KFold, cross_validate
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(4)
    X = rng.uniform(-1, 1, size=(300, 2))
    y = X[:, 0] + (0.2 + 0.5 * np.abs(X[:, 1])) * rng.normal(size=300)
    # Few stages with a large learning rate: enough for 40 stages to beat 5 clearly.
    model = natgrad.NGBoostRegressor(n_estimators=20, learning_rate=0.1, random_state=0)
    pipe = make_pipeline(StandardScaler(), model)
    grid = {"ngboostregressor__n_estimators": [5, 40]}
    search = GridSearchCV(pipe, grid, scoring=metrics.neg_nll_scorer, cv=3, error_score="raise")
    search.fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores)) and scores[1] > scores[0]
    # The scorer is minus the mean NLL of the pipeline's distributions, and it reaches them
    # through a fitted search as well.
    dist = search.best_estimator_[-1].predict_dist(search.best_estimator_[:-1].transform(X))
    expected = -dist.nll(y).mean()
    assert metrics.neg_nll_scorer(search.best_estimator_, X, y) == pytest.approx(expected)
    assert metrics.neg_nll_scorer(search, X, y) == pytest.approx(expected)
    scoring = {
        "nll": metrics.neg_nll_scorer,
        "crps": metrics.neg_crps_scorer,
        "coverage": metrics.coverage_scorer(0.8),
        "coverage_error": metrics.neg_coverage_error_scorer(0.8),
        "width": metrics.neg_interval_width_scorer(0.8),
    }
    cv = cross_validate(pipe, X, y, scoring=scoring, cv=KFold(3), error_score="raise")
    for key in scoring:
        assert np.all(np.isfinite(cv[f"test_{key}"])), key
    assert np.all((cv["test_coverage"] > 0.5) & (cv["test_coverage"] <= 1.0))
    assert np.all(cv["test_width"] < 0) and np.all(cv["test_crps"] < 0)
    np.testing.assert_allclose(cv["test_coverage_error"], -np.abs(cv["test_coverage"] - 0.8))


def test_scorers_weight_rows_and_refuse_what_they_cannot_score():
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(6)
    X = rng.uniform(-1, 1, size=(120, 2))
    y = X[:, 0] + 0.3 * rng.normal(size=120)
    model = natgrad.NGBoostRegressor(n_estimators=10, random_state=0).fit(X, y)
    w = rng.uniform(0.1, 2.0, size=120)
    nll = model.predict_dist(X).nll(y)
    assert metrics.neg_nll_scorer(model, X, y, sample_weight=w) == pytest.approx(
        -np.average(nll, weights=w)
    )
    with pytest.raises(TypeError, match="predict_dist.*StandardScaler"):
        metrics.neg_nll_scorer(StandardScaler().fit(X), X, y)
    with pytest.raises(ValueError, match="'level'.*Got 1.5"):
        metrics.coverage_scorer(1.5)
    with pytest.raises(ValueError, match="'metric'.*Got 'auc'"):
        metrics.DistributionScorer("auc")


def test_score_is_r2_as_in_scikit_learn():
    from sklearn.metrics import r2_score

    rng = np.random.default_rng(5)
    X = rng.uniform(-1, 1, size=(200, 2))
    y = X[:, 0] + 0.3 * rng.normal(size=200)
    model = natgrad.NGBoostRegressor(n_estimators=20, random_state=0).fit(X, y)
    assert model.score(X, y) == pytest.approx(r2_score(y, model.predict(X)))
