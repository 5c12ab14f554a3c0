"""Continuing a fitted model (`_NGBoostBase._continue_fit`, the warm start behind the NGBoost
layer's ``partial_fit``): appended stages, the first ones untouched, the fitted bins."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.tree import DecisionTreeRegressor

import natgrad
from natgrad import NGBoostRegressor


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = X[:, 0] + rng.normal(scale=0.3 + 0.3 * np.abs(X[:, 1]), size=300)
    return X, y


def _model(**kwargs):
    return NGBoostRegressor(n_estimators=12, learning_rate=0.2, subsample=1.0, random_state=0,
                            **kwargs)  # fmt: skip


@pytest.mark.parametrize("base_learner", [None, DecisionTreeRegressor(max_depth=2, random_state=0)])
def test_continuing_from_a_cut_reproduces_the_fit(data, base_learner):
    # Every stage is a function of the rows and their current parameters (no subsampling,
    # seeded learners): cutting a fit after 5 stages and fitting 7 more on the same rows
    # gives the same 12 stages.
    X, y = data
    whole = _model(base_learner=base_learner).fit(X, y)
    cut = _model(base_learner=base_learner).fit(X, y)
    cut._continue_fit(X, y, n_stages=5, n_more=7, rng=np.random.RandomState(0))
    assert cut.n_estimators_ == cut.best_iteration_ == 12
    np.testing.assert_allclose(cut.predict_dist(X).params, whole.predict_dist(X).params,
                               rtol=1e-12, atol=1e-12)  # fmt: skip
    np.testing.assert_allclose(cut.train_loss_, whole.train_loss_, rtol=1e-12)


def test_continuing_on_new_rows_appends_stages(data):
    X, y = data
    model = _model().fit(X[:150], y[:150])
    before = model.predict_dist(X).params
    model._continue_fit(X[150:], y[150:], n_more=8, eval_set=(X[:50], y[:50]))
    assert model.n_estimators_ == 20 and model.train_loss_.shape == (21,)
    np.testing.assert_array_equal(model.predict_dist(X, n_stages=12).params, before)
    # The new stages start from the fitted model's loss on the new rows.
    start = model.predict_dist(X[150:], n_stages=12)
    assert model.train_loss_[12] == pytest.approx(np.mean(start.nll(y[150:])), rel=1e-12)
    assert model.train_loss_[-1] < model.train_loss_[12]
    # The validation set follows the new stages; best_iteration_ counts every stage.
    assert np.isnan(model.validation_loss_[:12]).all()
    assert np.isfinite(model.validation_loss_[12:]).all()
    assert 12 <= model.best_iteration_ <= 20


def test_continuing_a_loaded_model_file(data, tmp_path):
    X, y = data
    path = _model().fit(X[:150], y[:150]).save(tmp_path / "model.ngm")
    loaded = natgrad.load(path)
    before = loaded.predict_dist(X).params
    loaded._continue_fit(X[150:], y[150:], n_more=4)
    assert loaded.n_estimators_ == 16
    np.testing.assert_array_equal(loaded.predict_dist(X, n_stages=12).params, before)


def test_a_failed_continuation_leaves_the_model(data):
    X, y = data
    model = _model().fit(X[:150], y[:150])
    before = model.predict_dist(X).params
    with pytest.raises(ValueError, match="expecting 3 features"):
        model._continue_fit(X[150:, :2], y[150:], n_more=4)
    with pytest.raises(ValueError, match="'n_stages'"):
        model._continue_fit(X[150:], y[150:], n_more=4, n_stages=13)
    with pytest.raises(ValueError, match="'n_more'"):
        model._continue_fit(X[150:], y[150:], n_more=0)
    assert model.n_estimators_ == 12
    np.testing.assert_array_equal(model.predict_dist(X).params, before)
