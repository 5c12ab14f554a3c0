"""NGBoostSurvival: accuracy on censored synthetic data, the censored marginal fit, bad input."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from natgrad import NGBoostRegressor
from natgrad.boosting._survival import NGBoostSurvival
from natgrad.distributions import Exponential, LogNormal, get
from natgrad.scores import CensoredLogScore


def censored_data(
    n: int, seed: int, c_max: float = 10.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """log T = 1 + x0 + 0.5 ε (ε standard normal), censoring C ~ U(0, c_max), two noise features.

    Returns X, the observed time min(T, C), the event flag 1{T ≤ C} and the true median e^{1+x0}.
    """
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 3))
    t_true = np.exp(1.0 + X[:, 0] + 0.5 * rng.standard_normal(n))
    c = rng.uniform(0, c_max, size=n)
    return X, np.minimum(t_true, c), (t_true <= c).astype(float), np.exp(1.0 + X[:, 0])


def harrell_c(time: np.ndarray, event: np.ndarray, predicted_time: np.ndarray) -> float:
    """Harrell's concordance index, O(n²): among comparable pairs (the earlier time is an
    event), the fraction whose predicted times are ordered the same way (ties count ½)."""
    earlier = (time[:, None] < time[None, :]) & (event[:, None] == 1)
    shorter = predicted_time[:, None] < predicted_time[None, :]
    tied = predicted_time[:, None] == predicted_time[None, :]
    return float((shorter[earlier].sum() + 0.5 * tied[earlier].sum()) / earlier.sum())


@pytest.fixture(scope="module")
def data():
    return censored_data(1000, seed=0)


@pytest.fixture(scope="module")
def fitted(data):
    X, time, event, _ = data
    return NGBoostSurvival(n_estimators=100, learning_rate=0.03, random_state=0).fit(X, time, event)


def test_harrell_c_reference_values():
    time = np.array([1.0, 2.0, 3.0, 4.0])
    event = np.array([1.0, 1.0, 0.0, 1.0])
    assert harrell_c(time, event, time) == 1.0
    assert harrell_c(time, event, -time) == 0.0
    assert harrell_c(time, event, np.ones(4)) == 0.5
    # Comparable pairs: (0,1), (0,2), (0,3), (1,2), (1,3); the censored row 2 starts none.
    assert harrell_c(time, event, np.array([1.0, 3.0, 2.0, 4.0])) == pytest.approx(4 / 5)


def test_tracks_the_true_median_and_ranks_survival(fitted):
    X_test, t_test, e_test, median_test = censored_data(1000, seed=1)
    assert 0.2 < 1 - e_test.mean() < 0.5  # a meaningful share is censored
    predicted = fitted.predict(X_test)
    assert predicted.shape == (1000,)
    assert np.corrcoef(np.log(predicted), np.log(median_test))[0, 1] > 0.9
    assert harrell_c(t_test, e_test, predicted) > 0.7
    # The model beats the marginal fit on held-out censored log score.
    y_test = np.column_stack([t_test, e_test])
    score = CensoredLogScore()
    model_loss = score.score(fitted.predict_dist(X_test), y_test).mean()
    marginal = fitted.predict_dist(X_test, n_stages=0)
    assert model_loss < score.score(marginal, y_test).mean() - 0.2
    assert np.all(np.diff(fitted.train_loss_) <= 1e-12)


def test_predictions_and_survival_function(fitted, data):
    X = data[0][:20]
    dist = fitted.predict_dist(X)
    assert isinstance(dist, LogNormal)
    np.testing.assert_allclose(fitted.predict(X), dist.ppf(0.5), rtol=1e-12)
    np.testing.assert_allclose(fitted.predict(X), np.exp(dist.loc), rtol=1e-12)
    times = np.array([0.0, 0.5, 1.0, 3.0, 10.0])
    surv = fitted.predict_survival_function(X, times)
    assert surv.shape == (20, 5)
    np.testing.assert_allclose(surv[:, 0], 1.0)
    assert np.all(np.diff(surv, axis=1) <= 0)
    for j, t in enumerate(times):
        np.testing.assert_allclose(surv[:, j], dist.sf(t), rtol=1e-12)
    np.testing.assert_allclose(dist.sf(fitted.predict(X)), 0.5, rtol=1e-10)
    with pytest.raises(ValueError, match="'times'"):
        fitted.predict_survival_function(X, [1.0, -1.0])


def test_training_loss_is_the_censored_score(fitted, data):
    X, time, event, _ = data
    y = np.column_stack([time, event])
    for k in (0, 40, 80):
        loss = CensoredLogScore().score(fitted.predict_dist(X, n_stages=k), y).mean()
        assert loss == pytest.approx(fitted.train_loss_[k], rel=1e-10)


@pytest.mark.parametrize("name", ["lognormal", "exponential", "weibull", "gamma"])
def test_init_params_are_the_censored_mle(name, data):
    X, time, event, _ = data
    model = NGBoostSurvival(name, n_estimators=1).fit(X, time, event)
    family = get(name)
    theta = model.init_params_
    many = family.from_params(np.repeat(theta, len(time), axis=0))
    grad = CensoredLogScore().grad(many, np.column_stack([time, event])).mean(axis=0)
    assert np.all(np.abs(grad) < 1e-4)
    if name == "exponential":
        # Closed form: the scale is total time over the number of events.
        assert np.exp(theta[0, 0]) == pytest.approx(time.sum() / event.sum(), rel=1e-5)
    # Censoring hides the long times: the censored fit has a larger median than the naive one.
    naive = family.from_params(family.fit_marginal(time))
    assert family.from_params(theta).ppf(0.5)[0] > naive.ppf(0.5)[0]


@pytest.mark.parametrize("name", ["lognormal", "exponential", "weibull", "gamma"])
@pytest.mark.parametrize("leaf_rule", ["fisher", "ngboost"])
def test_every_family_trains(name, leaf_rule, data):
    X, time, event, median = data
    X, time, event, median = X[:400], time[:400], event[:400], median[:400]
    model = NGBoostSurvival(name, n_estimators=20, learning_rate=0.15, leaf_rule=leaf_rule)
    model.fit(X, time, event)
    assert np.all(np.isfinite(model.train_loss_))
    assert model.train_loss_[-1] < model.train_loss_[0] - 0.05
    dist = model.predict_dist(X)
    assert isinstance(dist, get(name)) and np.all(np.isfinite(dist.params))
    pred = model.predict(X)
    assert np.all(np.isfinite(pred) & (pred > 0))
    assert np.corrcoef(np.log(pred), np.log(median))[0, 1] > 0.8


def test_metric_follows_the_leaf_rule(data):
    X, time, event, _ = data
    kw = dict(n_estimators=2)
    assert NGBoostSurvival(**kw).fit(X, time, event)._score_rule.metric_kind == "censored"
    rule = NGBoostSurvival(leaf_rule="ngboost", **kw).fit(X, time, event)._score_rule
    assert rule.metric_kind == "fisher"
    given = CensoredLogScore("fisher")
    model = NGBoostSurvival(scoring_rule=given, **kw).fit(X, time, event)
    assert model._score_rule is given


def test_without_censoring_equals_the_regressor():
    """All events: the censored log score is the log score and the metric is the Fisher."""
    X, _, _, median = censored_data(500, seed=3)
    rng = np.random.default_rng(4)
    time = median * np.exp(0.5 * rng.standard_normal(500))
    # The same leaf prior on both (the survival default is 3, the regressor's 0).
    kw = dict(n_estimators=20, learning_rate=0.1, leaf_prior=3.0, subsample=1.0)
    surv = NGBoostSurvival("weibull", **kw).fit(X, time, np.ones(500))
    reg = NGBoostRegressor("weibull", **kw).fit(X, time)
    np.testing.assert_allclose(surv.init_params_, reg.init_params_, atol=1e-5)
    np.testing.assert_allclose(
        surv.predict_dist(X).params, reg.predict_dist(X).params, rtol=1e-4, atol=1e-4
    )


def test_eval_set_validation_fraction_and_weights(data):
    X, time, event, _ = data
    X_val, t_val, e_val, _ = censored_data(300, seed=2)
    model = NGBoostSurvival(n_estimators=200, learning_rate=0.3, n_iter_no_change=10)
    model.fit(X, time, event, eval_set=(X_val, t_val, e_val))
    assert model.n_estimators_ == model.best_iteration_ + 10 < 200
    loss = CensoredLogScore().score(model.predict_dist(X_val), np.column_stack([t_val, e_val]))
    assert loss.mean() == pytest.approx(model.validation_loss_[model.best_iteration_], rel=1e-10)
    frac = NGBoostSurvival(n_estimators=5, validation_fraction=0.2, random_state=0)
    assert np.isfinite(frac.fit(X, time, event).validation_loss_).all()
    # Integer weights act as repeated rows (few distinct feature values: identical bins).
    w = np.random.default_rng(5).integers(1, 3, size=200)
    Xr = np.round(X[:200] * 5)
    # min_samples_leaf and leaf_prior count rows, not weight: off, both fits are equal.
    kw = dict(n_estimators=5, learning_rate=0.1, min_samples_leaf=1, leaf_prior=0.0)
    a = NGBoostSurvival(**kw).fit(Xr, time[:200], event[:200], sample_weight=w)
    b = NGBoostSurvival(**kw).fit(
        np.repeat(Xr, w, 0), np.repeat(time[:200], w), np.repeat(event[:200], w)
    )
    np.testing.assert_allclose(a.predict_dist(Xr).params, b.predict_dist(Xr).params, atol=1e-6)


def test_clone_and_pickle(fitted, data):
    X = data[0]
    fresh = clone(fitted)
    assert fresh.get_params() == fitted.get_params()
    assert not hasattr(fresh, "init_params_")
    rule = CensoredLogScore("fisher")
    cloned = clone(NGBoostSurvival("weibull", scoring_rule=rule, n_estimators=7))
    assert cloned.get_params()["scoring_rule"] == rule
    assert cloned.get_params()["distribution"] == "weibull"
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict(X), fitted.predict(X))


# The times are fit's second argument, named y as scikit-learn requires.
TIMES = r"The 'y' argument \(the times\) of NGBoostSurvival.fit must hold finite positive"
BAD_INPUTS = [
    ({"time": "zero"}, TIMES),
    ({"time": "negative"}, TIMES),
    ({"time": "nan"}, TIMES),
    ({"time": "inf"}, TIMES),
    ({"event": "two"}, "'event' argument of NGBoostSurvival.fit must hold event flags 0"),
    ({"event": "half"}, "'event' argument of NGBoostSurvival.fit must hold event flags 0"),
    ({"event": "all_censored"}, "'event' argument .* at least one observed event"),
    ({"time": "short"}, r"'y' argument of NGBoostSurvival.fit must have shape \(50,\)"),
    ({"event": "short"}, r"'event' argument of NGBoostSurvival.fit must have shape \(50,\)"),
]


@pytest.mark.parametrize(("change", "name"), BAD_INPUTS)
def test_bad_input(change, name):
    X, time, event, _ = censored_data(50, seed=6)
    time, event = time.copy(), event.copy()
    kind = change.get("time") or change.get("event")
    target = time if "time" in change else event
    if kind == "zero":
        target[3] = 0.0
    elif kind == "negative":
        target[3] = -1.0
    elif kind == "nan":
        target[3] = np.nan
    elif kind == "inf":
        target[3] = np.inf
    elif kind == "two":
        target[3] = 2.0
    elif kind == "half":
        target[3] = 0.5
    elif kind == "all_censored":
        target[:] = 0.0
    elif kind == "short":
        if "time" in change:
            time = time[:-1]
        else:
            event = event[:-1]
    with pytest.raises(ValueError, match=name):
        NGBoostSurvival(n_estimators=2).fit(X, time, event)


def test_bad_configuration():
    X, time, event, _ = censored_data(50, seed=7)
    with pytest.raises(ValueError, match="'distribution'"):
        NGBoostSurvival("normal", n_estimators=2).fit(X, time, event)
    with pytest.raises(ValueError, match="scoring_rule"):
        NGBoostSurvival(scoring_rule="crps", n_estimators=2).fit(X, time, event)
    with pytest.raises(ValueError, match="'eval_set'"):
        NGBoostSurvival(n_estimators=2).fit(X, time, event, eval_set=(X,))
    with pytest.raises(ValueError, match="'event_val'"):
        NGBoostSurvival(n_estimators=2).fit(X, time, event, eval_set=(X, time, event + 2))
    # Censored times beyond the last event are fine; only some event is needed.
    event = np.zeros(50)
    event[0] = 1.0
    model = NGBoostSurvival("exponential", n_estimators=2).fit(X, time, event)
    assert np.exp(model.init_params_[0, 0]) == pytest.approx(time.sum(), rel=1e-5)
    assert isinstance(model.predict_dist(X[:2]), Exponential)


# ---------------------------------------------------------------------- target forms
def structured(time: np.ndarray, event: np.ndarray, dtype: list) -> np.ndarray:
    """A structured array of the given dtype: the float/int-time field gets the times, the
    other the flags (fields named as in the dtype)."""
    out = np.empty(len(time), dtype=dtype)
    for name, kind in dtype:
        is_time = np.dtype(kind).kind == "f" or name in ("time", "futime")
        out[name] = time if is_time else event.astype(kind)
    return out


@pytest.mark.parametrize(
    "dtype",
    [
        [("event", bool), ("time", float)],  # scikit-survival's Surv.from_arrays
        [("futime", "<f4"), ("cens", "?")],  # other names and order; float32 times
        [("status", "<i8"), ("t", float)],  # integer flags beside float times
        [("t", float), ("status", "u1")],
        [("time", "<i8"), ("dead", bool)],  # integer times beside boolean flags
    ],
)
def test_structured_targets_give_the_same_model(dtype, data):
    X, time, event, _ = data
    X, time, event = X[:300], time[:300], event[:300]
    if np.dtype(dtype[0][1]).kind in "iu" or np.dtype(dtype[1][1]).kind in "iu":
        time = np.ceil(time)  # times that an integer field holds exactly
    if "<f4" in (dtype[0][1], dtype[1][1]):
        time = time.astype(np.float32).astype(np.float64)
    kw = dict(n_estimators=15, learning_rate=0.1, random_state=0)
    reference = NGBoostSurvival(**kw).fit(X, time, event)
    y = structured(time, event, dtype)
    model = NGBoostSurvival(**kw).fit(X, y)
    np.testing.assert_array_equal(model.init_params_, reference.init_params_)
    np.testing.assert_array_equal(model.predict_dist(X).params, reference.predict_dist(X).params)
    np.testing.assert_array_equal(model.train_loss_, reference.train_loss_)
    # A record array (a structured array subclass) works too.
    again = NGBoostSurvival(**kw).fit(X, y.view(np.recarray))
    np.testing.assert_array_equal(again.predict(X), reference.predict(X))


def test_times_alone_mean_every_row_observed(data):
    X, time, _, _ = data
    kw = dict(n_estimators=15, learning_rate=0.1)
    alone = NGBoostSurvival(**kw).fit(X, time)
    flagged = NGBoostSurvival(**kw).fit(X, time, np.ones(len(time)))
    np.testing.assert_array_equal(alone.predict_dist(X).params, flagged.predict_dist(X).params)
    boolean = NGBoostSurvival(**kw).fit(X, time, np.ones(len(time), dtype=bool))
    np.testing.assert_array_equal(boolean.predict(X), flagged.predict(X))


def test_eval_set_forms_agree(data):
    X, time, event, _ = data
    X_val, t_val, e_val, _ = censored_data(200, seed=8)
    w_val = np.random.default_rng(9).uniform(0.5, 2.0, size=200)
    y_val = structured(t_val, e_val, [("event", bool), ("time", float)])
    kw = dict(n_estimators=20, learning_rate=0.1)
    forms = [
        ((X_val, t_val, e_val), (X_val, y_val)),
        ((X_val, t_val, e_val, w_val), (X_val, y_val, w_val)),
        ((X_val, t_val, np.ones(200)), (X_val, t_val)),
        ((X_val, t_val, np.ones(200), w_val), (X_val, t_val, None, w_val)),
    ]
    for plain, other in forms:
        a = NGBoostSurvival(**kw).fit(X[:300], time[:300], event[:300], eval_set=plain)
        b = NGBoostSurvival(**kw).fit(X[:300], time[:300], event[:300], eval_set=other)
        np.testing.assert_array_equal(a.validation_loss_, b.validation_loss_)
        assert np.isfinite(a.validation_loss_).all()
    with pytest.raises(ValueError, match="structured y_val, so it must be"):
        NGBoostSurvival(**kw).fit(X, time, event, eval_set=(X_val, y_val, e_val, w_val))


def test_score_is_harrells_c_of_the_median(fitted):
    X_test, t_test, e_test, _ = censored_data(300, seed=10)
    expected = harrell_c(t_test, e_test, fitted.predict(X_test))
    assert fitted.score(X_test, t_test, e_test) == pytest.approx(expected, rel=1e-12)
    y = structured(t_test, e_test, [("event", bool), ("time", float)])
    assert fitted.score(X_test, y) == pytest.approx(expected, rel=1e-12)
    everyone = harrell_c(t_test, np.ones(300), fitted.predict(X_test))
    assert fitted.score(X_test, t_test) == pytest.approx(everyone, rel=1e-12)


BAD_STRUCTURED = [
    ([("event", bool), ("time", float), ("id", int)], "exactly two fields.*Got 3 field"),
    ([("time", float)], "exactly two fields.*Got 1 field"),
    ([("a", float), ("b", float)], "cannot be told from the time field"),
    ([("a", bool), ("b", bool)], "cannot be told from the time field"),
    ([("a", int), ("b", int)], "cannot be told from the time field"),
    ([("event", bool), ("time", "U5")], "the time field is not numeric"),
]


@pytest.mark.parametrize(("dtype", "message"), BAD_STRUCTURED)
def test_structured_targets_with_wrong_fields(dtype, message):
    X = np.random.default_rng(11).normal(size=(20, 2))
    y = np.zeros(20, dtype=dtype)
    with pytest.raises(ValueError, match=r"'y' argument of NGBoostSurvival.fit is a structured"):
        NGBoostSurvival(n_estimators=2).fit(X, y)
    with pytest.raises(ValueError, match=message):
        NGBoostSurvival(n_estimators=2).fit(X, y)


def test_structured_targets_bad_values():
    X, time, event, _ = censored_data(50, seed=12)
    kw = dict(n_estimators=2)
    y = structured(time, event, [("status", "<i8"), ("futime", float)])
    with pytest.raises(ValueError, match="'event' argument .* must be None when 'y' is a struct"):
        NGBoostSurvival(**kw).fit(X, y, event)
    bad = y.copy()
    bad["futime"][4] = 0.0
    with pytest.raises(ValueError, match="time field 'futime' .* finite positive times.*row 4"):
        NGBoostSurvival(**kw).fit(X, bad)
    bad = y.copy()
    bad["status"][7] = 2
    with pytest.raises(ValueError, match="event field 'status' .* flags 0 .* 2.0 at row 7"):
        NGBoostSurvival(**kw).fit(X, bad)
    bad = y.copy()
    bad["status"] = 0
    with pytest.raises(ValueError, match="at least one observed event"):
        NGBoostSurvival(**kw).fit(X, bad)
    with pytest.raises(ValueError, match=r"'y' argument .* shape \(50,\), one record per row"):
        NGBoostSurvival(**kw).fit(X, y[:-1])
    with pytest.raises(ValueError, match="requires y to be passed"):
        NGBoostSurvival(**kw).fit(X, None)
