"""NGBoost's ``partial_fit`` through `natgrad.compat.ngboost`: stages appended to the fitted
model from its predictions of the new rows (natgrad's warm start, `_NGBoostBase._continue_fit`),
and — where the optional ``ngboost`` package is installed — the same model as NGBoost's."""

from __future__ import annotations

import inspect
import pickle

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeRegressor

from natgrad.compat import ngboost as compat
from natgrad.compat.ngboost import NGBClassifier, NGBRegressor, NGBSurvival
from natgrad.compat.ngboost.distns import LogNormal, k_categorical
from natgrad.compat.ngboost.helpers import Y_from_censored

#: scikit-learn's exact trees, which the native tree cannot express: NGBoost's algorithm.
EXACT = DecisionTreeRegressor(max_depth=3, ccp_alpha=1e-12)


@pytest.fixture(scope="module")
def halves():
    """Diabetes, 75/25 split; the training rows in two halves A and B."""
    X, Y = load_diabetes(return_X_y=True)
    X, X_test, Y, Y_test = train_test_split(X, Y, test_size=0.25, random_state=0)
    h = X.shape[0] // 2
    return (X[:h], Y[:h]), (X[h:], Y[h:]), (X_test, Y_test)


def _stage_sum(ngb, X, stages):
    """The first ``stages`` stages' contribution to the parameters of the rows ``X``."""
    return ngb.model_._model_.predict(np.asarray(X, dtype=np.float64), stages)


def test_partial_fit_on_halves_appends_stages(halves):
    (XA, YA), (XB, YB), (X_test, Y_test) = halves
    first = NGBRegressor(n_estimators=15, learning_rate=0.1, verbose=False, random_state=0)
    first.partial_fit(XA, YA)  # on an unfitted model: fit
    fresh = NGBRegressor(n_estimators=15, learning_rate=0.1, verbose=False, random_state=0)
    np.testing.assert_array_equal(fresh.fit(XA, YA).predict(X_test), first.predict(X_test))
    before = _stage_sum(first, X_test, 15)
    scalings = list(first.scalings)

    both = pickle.loads(pickle.dumps(first)).partial_fit(XB, YB)
    assert len(both.scalings) == len(both.base_models) == len(both.col_idxs) == 30
    assert both.model_.random_state == 0  # the stream is the layer's; the seed stays shown
    assert both.scalings[:15] == scalings
    # The first stages are the first model's, unchanged.
    np.testing.assert_array_equal(_stage_sum(both, X_test, 15), before)
    # NGBoost's partial_fit: the marginal fit of the new targets under the same stages.
    B = NGBRegressor(n_estimators=1, verbose=False).fit(XB, YB)
    np.testing.assert_allclose(both.init_params, B.init_params, rtol=1e-12)
    # This call's training losses, from the first model's predictions of the new rows.
    losses = both.evals_result["train"]["LOGSCORE"]
    assert len(losses) == 15
    start = both.pred_dist(XB, max_iter=15)
    assert losses[0] == pytest.approx(-np.mean(start.logpdf(YB)), rel=1e-9)
    assert losses[-1] < losses[0]
    assert both.score(XB, YB) > start.logpdf(YB).mean()


def test_partial_fit_validation_and_early_stopping(halves):
    (XA, YA), (XB, YB), (X_val, Y_val) = halves
    ngb = NGBRegressor(n_estimators=10, learning_rate=0.2, verbose=False, random_state=0)
    ngb.fit(XA, YA)
    ngb.set_params(n_estimators=400)
    ngb.partial_fit(XB, YB, X_val=X_val, Y_val=Y_val, early_stopping_rounds=3)
    val = ngb.evals_result["val"]["LOGSCORE"]
    added = len(ngb.scalings) - 10
    assert 3 < added < 400 and len(val) == added  # stopped early
    assert len(ngb.evals_result["train"]["LOGSCORE"]) == added
    # best_val_loss_itr counts every stage (NGBoost's), the losses only this call's.
    assert ngb.best_val_loss_itr == 10 + int(np.argmin(val))
    for j in (0, added - 1):
        dist = ngb.pred_dist(X_val, max_iter=10 + j + 1)
        assert val[j] == pytest.approx(-np.mean(dist.logpdf(Y_val)), rel=1e-9)
    assert min(val[-3:]) > min(val)  # NGBoost's rule: three stages without a new best


def test_partial_fit_after_a_monitor_stopped_early(halves):
    (XA, YA), (XB, YB), (X_val, Y_val) = halves
    rising = iter(range(10**6))  # a validation loss that rises at every stage

    def monitor(D, Y):
        return float(next(rising))

    ngb = NGBRegressor(n_estimators=12, learning_rate=0.1, verbose=False, random_state=0)
    ngb.fit(XA, YA, X_val=X_val, Y_val=Y_val, val_loss_monitor=monitor, early_stopping_rounds=2)
    assert len(ngb.scalings) == 3 and ngb.model_.n_estimators_ == 12
    kept = _stage_sum(ngb, X_val, 3)
    ngb.partial_fit(XB, YB)
    # It continues from the three stages NGBoost keeps, not from the twelve trained.
    assert len(ngb.scalings) == ngb.model_.n_estimators_ == 15
    np.testing.assert_array_equal(_stage_sum(ngb, X_val, 3), kept)


def test_partial_fit_refuses_a_feature_count_mismatch(halves):
    (XA, YA), (XB, YB), _ = halves
    ngb = NGBRegressor(n_estimators=5, verbose=False).fit(XA, YA)
    before = ngb.predict(XA)
    with pytest.raises(ValueError, match=r"'X' argument of NGBRegressor.partial_fit .* 10 "):
        ngb.partial_fit(XB[:, :4], YB)
    with pytest.raises(ValueError, match="'y'"):
        ngb.partial_fit(XB, YB[:-1])
    assert len(ngb.scalings) == 5
    np.testing.assert_array_equal(ngb.predict(XA), before)


def test_classifier_partial_fit_keeps_classes():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    labels = np.array(["a", "b", "c"])[np.digitize(X[:, 0], [-0.5, 0.5])]
    ngb = NGBClassifier(Dist=k_categorical(3), n_estimators=10, verbose=False, random_state=0)
    ngb.partial_fit(X[:200], labels[:200])
    ngb.partial_fit(X[200:], labels[200:])
    assert len(ngb.scalings) == 20 and list(ngb.classes_) == ["a", "b", "c"]
    assert (ngb.predict(X[200:]) == labels[200:]).mean() > 0.7
    with pytest.raises(ValueError, match="unseen"):
        ngb.partial_fit(X[:5], np.array(["a", "b", "d", "a", "b"]))


def test_survival_partial_fit_takes_both_target_forms():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 2))
    T = rng.lognormal(mean=1.0 + 0.5 * X[:, 0], sigma=0.5)
    C = rng.lognormal(mean=1.5, sigma=0.5, size=400)
    times, events = np.minimum(T, C), (T <= C).astype(int)

    def model():
        return NGBSurvival(Dist=LogNormal, n_estimators=8, verbose=False, random_state=0)

    ours = model().fit(X[:200], times[:200], events[:200])
    ours.partial_fit(X[200:], times[200:], events[200:])
    structured = model().fit(X[:200], times[:200], events[:200])
    structured.partial_fit(X[200:], Y_from_censored(times[200:], events[200:]))
    assert len(ours.scalings) == 16
    np.testing.assert_array_equal(ours.predict(X), structured.predict(X))
    with pytest.raises(ValueError, match="event flags"):
        ours.partial_fit(X[200:], times[200:])


def test_partial_fit_same_model_as_ngboost(halves):
    ngboost = pytest.importorskip("ngboost")
    (XA, YA), (XB, YB), (X_val, Y_val) = halves
    # Exact trees on both sides; their unseeded trees draw seeds from one random stream that
    # partial_fit continues.
    kwargs = {"Base": EXACT, "n_estimators": 20, "verbose": False, "random_state": 0}
    ours, theirs = NGBRegressor(**kwargs), ngboost.NGBRegressor(**kwargs)
    for est in (ours, theirs):
        est.fit(XA, YA)
        est.partial_fit(XB, YB, X_val=X_val, Y_val=Y_val)
    np.testing.assert_allclose(ours.init_params, theirs.init_params, rtol=1e-6)
    np.testing.assert_allclose(ours.scalings, theirs.scalings, rtol=1e-6)
    np.testing.assert_allclose(ours.predict(X_val), theirs.predict(X_val), rtol=1e-4)
    # The same seed for every tree of both calls: the random stream went on.
    seeds = [[tree.random_state for tree in trees] for trees in ours.base_models]
    assert seeds == [[tree.random_state for tree in trees] for trees in theirs.base_models]
    # The log scale's trees split the training rows alike but may pick another of two
    # features that split them equally (a near tie, docs/migrating-from-ngboost.md), which
    # moves held-out rows: the losses agree to 2e-4.
    for side in ("train", "val"):
        ours_losses, theirs_losses = ours.evals_result[side], theirs.evals_result[side]
        assert len(ours_losses["LOGSCORE"]) == len(theirs_losses["LOGSCORE"]) == 20
        np.testing.assert_allclose(ours_losses["LOGSCORE"], theirs_losses["LOGSCORE"], rtol=2e-4)
    assert ours.best_val_loss_itr == theirs.best_val_loss_itr


def test_partial_fit_signature_is_ngboost():
    ngboost = pytest.importorskip("ngboost")
    for name in ("NGBRegressor", "NGBClassifier"):
        ours = inspect.signature(getattr(compat, name).partial_fit)
        theirs = inspect.signature(getattr(ngboost, name).partial_fit)
        assert list(ours.parameters) == list(theirs.parameters)
