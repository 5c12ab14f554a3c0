"""NGBoostRegressor: behaviour, accuracy on synthetic data, bad input and extreme data."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor

from natgrad import NGBoostRegressor
from natgrad.distributions import Normal, get


def heteroscedastic(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """y ~ N(sin(3 x0) + x1, (0.1 + 0.5 |x2|)²) with two noise features."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 5))
    scale = 0.1 + 0.5 * np.abs(X[:, 2])
    y = np.sin(3 * X[:, 0]) + X[:, 1] + scale * rng.standard_normal(n)
    return X, y, scale


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return heteroscedastic()


@pytest.mark.parametrize("rule", ["fisher", "ngboost"])
def test_learns_location_and_scale(data, rule):
    X, y, scale = data
    X_test, y_test, scale_test = heteroscedastic(1000, seed=1)
    model = NGBoostRegressor(n_estimators=200, learning_rate=0.05, leaf_rule=rule).fit(X, y)
    dist = model.predict_dist(X_test)
    assert isinstance(dist, Normal) and len(dist) == 1000
    marginal = Normal.from_params(model.init_params_)
    # The model must beat the marginal fit by a wide margin and track the true scale.
    assert dist.nll(y_test).mean() < marginal.nll(y_test).mean() - 0.5
    assert np.corrcoef(dist.scale, scale_test)[0, 1] > 0.8
    true_mean = np.sin(3 * X_test[:, 0]) + X_test[:, 1]
    assert np.sqrt(np.mean((model.predict(X_test) - true_mean) ** 2)) < 0.15
    # The line search never accepts a worse training loss.
    assert np.all(np.diff(model.train_loss_) <= 1e-12)


def test_init_params_are_the_marginal_fit(data):
    X, y, _ = data
    model = NGBoostRegressor(n_estimators=2).fit(X, y)
    np.testing.assert_allclose(model.init_params_, Normal.fit_marginal(y))
    np.testing.assert_allclose(
        model.predict_dist(X, n_stages=0).params[0], Normal.fit_marginal(y)[0]
    )


def test_staged_predictions_match(data):
    X, y, _ = data
    model = NGBoostRegressor(n_estimators=15, learning_rate=0.1).fit(X, y)
    staged = list(model.staged_predict_dist(X[:50]))
    assert len(staged) == model.n_estimators_ == 15
    for k in (1, 7, 15):
        np.testing.assert_allclose(staged[k - 1].params, model.predict_dist(X[:50], k).params)
    np.testing.assert_allclose(staged[-1].params, model.predict_dist(X[:50]).params)


def test_training_loss_is_the_predicted_loss(data):
    X, y, _ = data
    model = NGBoostRegressor(n_estimators=20, learning_rate=0.1).fit(X, y)
    for k in (0, 10, 20):
        nll = model.predict_dist(X, n_stages=k).nll(y).mean()
        assert nll == pytest.approx(model.train_loss_[k], rel=1e-10)


def _chosen_stage(losses, tol):
    """The early-stopping rule written out: the last stage lowering the best loss so far by
    more than ``tol``."""
    best, best_val = 0, losses[0]
    for k, value in enumerate(losses[1:], start=1):
        if value < best_val - tol:
            best, best_val = k, value
    return best


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_eval_set_and_early_stopping(data, seed):
    X, y, _ = data
    X_val, y_val, _ = heteroscedastic(500, seed=2)
    model = NGBoostRegressor(
        n_estimators=400, learning_rate=0.3, n_iter_no_change=20, random_state=seed
    )
    model.fit(X, y, eval_set=(X_val, y_val))
    assert model.n_estimators_ < 400
    losses = model.validation_loss_
    best = model.best_iteration_
    assert best == _chosen_stage(losses, model.tol)
    # The chosen stage is within tol of the lowest loss (a later stage may be lower by less
    # than tol: that is why best_iteration_ need not be the argmin).
    assert losses[best] - losses.min() <= model.tol
    assert model.n_estimators_ == best + 20
    # Predictions default to the chosen stage.
    np.testing.assert_allclose(
        model.predict_dist(X_val).params, model.predict_dist(X_val, best).params
    )
    vl = model.predict_dist(X_val, best).nll(y_val).mean()
    assert vl == pytest.approx(losses[best], rel=1e-10)


def test_tol_zero_chooses_the_lowest_validation_loss(data):
    X, y, _ = data
    X_val, y_val, _ = heteroscedastic(500, seed=2)
    model = NGBoostRegressor(
        n_estimators=400, learning_rate=0.3, n_iter_no_change=20, tol=0.0, random_state=0
    ).fit(X, y, eval_set=(X_val, y_val))
    assert model.best_iteration_ == int(np.argmin(model.validation_loss_))


def test_validation_fraction(data):
    X, y, _ = data
    model = NGBoostRegressor(
        n_estimators=50, learning_rate=0.1, validation_fraction=0.2, random_state=0
    ).fit(X, y)
    assert np.isfinite(model.validation_loss_).all()
    assert 0 <= model.best_iteration_ <= 50


def test_integer_weights_equal_duplicated_rows():
    rng = np.random.default_rng(3)
    X = rng.integers(0, 20, size=(300, 3)).astype(float)  # few distinct values: exact bins
    y = X[:, 0] + rng.standard_normal(300)
    w = rng.integers(1, 4, size=300)
    for rule in ("fisher", "ngboost"):
        # min_samples_leaf and leaf_prior count rows, not weight: with 1 and 0 both fits
        # see the same splits and leaves. Every row each stage: a subsample of the
        # duplicated rows is not a subsample of the weighted ones.
        kw = dict(n_estimators=20, learning_rate=0.1, min_samples_leaf=1, leaf_prior=0.0)
        kw.update(leaf_rule=rule, subsample=1.0)
        a = NGBoostRegressor(**kw).fit(X, y, sample_weight=w)
        b = NGBoostRegressor(**kw).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
        np.testing.assert_allclose(a.predict_dist(X).params, b.predict_dist(X).params, atol=1e-8)


def test_missing_values_are_used():
    rng = np.random.default_rng(4)
    X = rng.uniform(-1, 1, size=(2000, 2))
    y = 3.0 * X[:, 0] + 0.1 * rng.standard_normal(2000)
    missing = rng.random(2000) < 0.3
    y[missing] = 5.0 + 0.1 * rng.standard_normal(missing.sum())
    X[missing, 0] = np.nan
    model = NGBoostRegressor(n_estimators=200, learning_rate=0.1).fit(X, y)
    pred = model.predict(np.array([[np.nan, 0.0]]))
    assert pred[0] == pytest.approx(5.0, abs=0.3)


def test_feature_importances(data):
    X, y, _ = data
    model = NGBoostRegressor(n_estimators=100, learning_rate=0.1, subsample=1.0).fit(X, y)
    imp = model.feature_importances_
    assert imp.shape == (2, 5)
    np.testing.assert_allclose(imp.sum(axis=1), 1.0)
    # The location depends on x0 and x1, the scale on x2 (x3 and x4 are noise).
    assert imp[0, :2].sum() > 0.8
    assert imp[1, 2] > 0.3 and imp[1, 2] > 3 * imp[1, 3:].max()


def test_dataframe_feature_names(data):
    pd = pytest.importorskip("pandas")
    X, y, _ = data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)])
    model = NGBoostRegressor(n_estimators=5).fit(frame, y)
    assert list(model.feature_names_in_) == [f"f{i}" for i in range(5)]
    assert model.n_features_in_ == 5
    np.testing.assert_allclose(model.predict(frame), model.predict(X))


def test_pickle_round_trip_is_exact(data):
    X, y, _ = data
    model = NGBoostRegressor(n_estimators=30, learning_rate=0.1).fit(X, y)
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.predict_dist(X).params, model.predict_dist(X).params)


def test_external_base_learner(data):
    X, y, _ = data
    base = DecisionTreeRegressor(max_depth=3)
    model = NGBoostRegressor(n_estimators=30, learning_rate=0.1, base_learner=base).fit(X, y)
    assert model.train_loss_[-1] < model.train_loss_[0] - 0.2
    assert model.feature_importances_.shape == (2, 5)
    staged = list(model.staged_predict_dist(X[:10]))
    np.testing.assert_allclose(staged[-1].params, model.predict_dist(X[:10]).params)


def test_one_base_learner_per_parameter(data):
    X, y, _ = data
    base = [DecisionTreeRegressor(max_depth=4, random_state=0), Ridge(alpha=1.0)]
    model = NGBoostRegressor(
        n_estimators=20, learning_rate=0.1, subsample=1.0, base_learner=base
    ).fit(X, y)
    assert model.train_loss_[-1] < model.train_loss_[0] - 0.1
    stages = model._model_.stages
    assert all(isinstance(s[0][0], DecisionTreeRegressor) for s in stages)
    assert all(isinstance(s[0][1], Ridge) for s in stages)
    assert max(s[0][0].get_depth() for s in stages) == 4
    # clone keeps the list (scikit-learn clones each learner).
    copy = clone(model)
    assert isinstance(copy.base_learner, list) and copy.base_learner[0] is not base[0]
    with pytest.raises(
        ValueError, match="'base_learner' parameter of NGBoostRegressor must be one"
    ):
        NGBoostRegressor(n_estimators=2, base_learner=base[:1]).fit(X, y)
    with pytest.raises(TypeError, match="Got 'tree' at position 1"):
        NGBoostRegressor(n_estimators=2, base_learner=[base[0], "tree"]).fit(X, y)


def test_unseeded_base_learners_are_seeded_from_random_state(data):
    X, y, _ = data
    # Feature sampling makes an unseeded tree differ from fit to fit.
    kw = dict(n_estimators=15, learning_rate=0.1, subsample=0.5)

    def fit(seed, base):
        return NGBoostRegressor(random_state=seed, base_learner=base, **kw).fit(X, y)

    tree = DecisionTreeRegressor(max_depth=3, max_features=0.4)
    a, b, c = fit(0, tree), fit(0, tree), fit(1, tree)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert not np.array_equal(a.predict(X), c.predict(X))
    seeds = [learner.random_state for learners, _, _ in a._model_.stages for learner in learners]
    assert all(isinstance(s, int) for s in seeds) and len(set(seeds)) == len(seeds)
    assert tree.random_state is None  # the user's learner is not changed
    # A learner with a seed keeps it.
    seeded = fit(0, DecisionTreeRegressor(max_depth=3, max_features=0.4, random_state=7))
    assert {m.random_state for ms, _, _ in seeded._model_.stages for m in ms} == {7}
    # Nested random_state parameters (a pipeline's tree) are seeded as well.
    pipe = make_pipeline(StandardScaler(), DecisionTreeRegressor(max_depth=3, max_features=0.4))
    d, e = fit(0, pipe), fit(0, pipe)
    np.testing.assert_array_equal(d.predict(X), e.predict(X))


def test_subsampling_is_seeded(data):
    X, y, _ = data
    kw = dict(n_estimators=20, learning_rate=0.1, subsample=0.5, colsample=0.6)
    a = NGBoostRegressor(random_state=0, **kw).fit(X, y)
    b = NGBoostRegressor(random_state=0, **kw).fit(X, y)
    c = NGBoostRegressor(random_state=1, **kw).fit(X, y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert not np.array_equal(a.predict(X), c.predict(X))
    assert a.train_loss_[-1] < a.train_loss_[0]


UNIVARIATE_TARGETS = {
    "normal": lambda r, m: m + r.standard_normal(m.size),
    "lognormal": lambda r, m: np.exp(m + 0.3 * r.standard_normal(m.size)),
    "laplace": lambda r, m: m + r.laplace(size=m.size),
    "student_t": lambda r, m: m + r.standard_t(5, size=m.size),
    "cauchy": lambda r, m: m + r.standard_cauchy(m.size),
    "gamma": lambda r, m: r.gamma(3.0, np.exp(m) / 3.0),
    "exponential": lambda r, m: r.exponential(np.exp(m)),
    "weibull": lambda r, m: np.exp(m) * r.weibull(2.0, size=m.size),
    "half_normal": lambda r, m: np.abs(np.exp(m) * r.standard_normal(m.size)),
    "poisson": lambda r, m: r.poisson(np.exp(m)).astype(float),
    "negative_binomial": lambda r, m: r.negative_binomial(3.0, 3.0 / (3.0 + np.exp(m))).astype(
        float
    ),
    "bernoulli": lambda r, m: (r.random(m.size) < 1 / (1 + np.exp(-3 * m))).astype(float),
    "beta": lambda r, m: r.beta(2 + np.exp(m), 2.0),
    "inverse_gaussian": lambda r, m: r.wald(np.exp(m), 4.0),
    "logit_normal": lambda r, m: 1 / (1 + np.exp(-(m + 0.5 * r.standard_normal(m.size)))),
    "beta_binomial": lambda r, m: r.binomial(10, r.beta(2 + np.exp(m), 2.0)).astype(float),
    "fixed_params": lambda r, m: m + r.standard_normal(m.size),
}

# Families whose configuration has no default (or whose targets need a setting).
UNIVARIATE_CONFIG = {
    "beta_binomial": {"n_trials": 10},
    "fixed_params": {"family": "normal", "fixed": {"log_scale": 0.0}},
}


@pytest.mark.parametrize("name", sorted(UNIVARIATE_TARGETS))
def test_every_univariate_family_trains(name):
    rng = np.random.default_rng(5)
    X = rng.uniform(-1, 1, size=(600, 3))
    y = UNIVARIATE_TARGETS[name](rng, X[:, 0])
    config = UNIVARIATE_CONFIG.get(name)
    model = NGBoostRegressor(name, distribution_config=config, n_estimators=40, learning_rate=0.1)
    dist = model.fit(X, y).predict_dist(X)
    assert isinstance(dist, get(name))
    assert np.isfinite(dist.params).all()
    assert model.train_loss_[-1] < model.train_loss_[0]


def test_every_univariate_family_is_covered():
    from natgrad.distributions import names

    univariate = {n for n in names() if get(n).event_dim == 0 and n != "categorical"}
    assert univariate == set(UNIVARIATE_TARGETS)


# ---------------------------------------------------------------------------- invariance
@pytest.mark.parametrize("rule", ["fisher", "ngboost"])
@pytest.mark.parametrize("family", ["normal", "laplace", "normal-generic"])
def test_trees_do_not_depend_on_the_units_of_y(data, rule, family, monkeypatch):
    # Changing the units of y (y -> c y + b) shifts the location and log-scale by known
    # amounts; both leaf rules must grow the same trees, so the fitted distributions
    # transform exactly. Unbalanced, the "ngboost" rule's shared tree let the location's
    # squared errors (in units of y squared) outweigh the log-scale's, or the reverse.
    # (normal, laplace: the compiled stage kernels; normal-generic: the NumPy path.)
    if family == "normal-generic":
        import natgrad.boosting._training.stage as stage

        monkeypatch.setattr(stage, "ENABLED", False)
        family = "normal"
    X, y, _ = data
    kw = {
        "n_estimators": 60,
        "learning_rate": 0.1,
        "leaf_rule": rule,
        "max_depth": 3,
        # Every row: the invariance is exact in exact arithmetic, but rounding differs with
        # the units, and over 60 subsampled stages a line-search tie can fall either way.
        "subsample": 1.0,
    }
    c, b = 1e4, -3.0
    base = NGBoostRegressor(family, **kw).fit(X, y)
    unit = NGBoostRegressor(family, **kw).fit(X, c * y + b)
    p0, p1 = base.predict_dist(X).params, unit.predict_dist(X).params
    np.testing.assert_allclose(p1[:, 0], c * p0[:, 0] + b, rtol=1e-7, atol=1e-7 * c)
    np.testing.assert_allclose(p1[:, 1], p0[:, 1] + np.log(c), rtol=0, atol=1e-7)


def test_ngboost_rule_units_matter_without_balancing(data, monkeypatch):
    # The same check fails with the balancing switched off: it is what makes the rule
    # invariant (the test above can fail).
    import natgrad.boosting._training.trainer as trainer

    monkeypatch.setattr(trainer, "_balance_units", lambda fisher_mean: np.ones_like(fisher_mean))
    X, y, _ = data
    kw = {"n_estimators": 60, "learning_rate": 0.1, "leaf_rule": "ngboost"}
    base = NGBoostRegressor(**kw).fit(X, y)
    unit = NGBoostRegressor(**kw).fit(X, 1e4 * y)
    loc0, loc1 = base.predict_dist(X).params[:, 0], unit.predict_dist(X).params[:, 0]
    assert np.max(np.abs(loc1 - 1e4 * loc0)) > 1e-3 * 1e4


# ---------------------------------------------------------------------------- extreme data
@pytest.mark.parametrize("factor", [1e-6, 1e6])
@pytest.mark.parametrize("rule", ["fisher", "ngboost"])
def test_extreme_target_scales(data, factor, rule):
    X, y, _ = data
    model = NGBoostRegressor(n_estimators=50, learning_rate=0.1, leaf_rule=rule)
    model.fit(X, y * factor)
    params = model.predict_dist(X).params
    assert np.isfinite(params).all()
    assert model.train_loss_[-1] < model.train_loss_[0]


@pytest.mark.parametrize("rule", ["fisher", "ngboost"])
def test_constant_target_and_duplicated_rows(rule):
    X = np.repeat(np.arange(10.0)[:, None], 30, axis=0)
    y = np.full(300, 7.0)
    model = NGBoostRegressor(n_estimators=30, learning_rate=0.1, leaf_rule=rule).fit(X, y)
    assert np.isfinite(model.predict_dist(X).params).all()
    np.testing.assert_allclose(model.predict(X), 7.0, rtol=1e-6)


@pytest.mark.parametrize("rule", ["fisher", "ngboost"])
def test_heavy_outliers(data, rule):
    X, y, _ = data
    y = y.copy()
    y[::100] = 1e8
    model = NGBoostRegressor("student_t", n_estimators=50, learning_rate=0.1, leaf_rule=rule)
    model.fit(X, y)
    assert np.isfinite(model.predict_dist(X).params).all()
    model = NGBoostRegressor(n_estimators=50, learning_rate=0.1, leaf_rule=rule).fit(X, y)
    assert np.isfinite(model.predict_dist(X).params).all()


# ---------------------------------------------------------------------------- bad input
def test_not_fitted():
    with pytest.raises(NotFittedError):
        NGBoostRegressor().predict(np.zeros((2, 2)))


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"n_estimators": 0}, "n_estimators"),
        ({"learning_rate": -1.0}, "learning_rate"),
        ({"max_depth": 0}, "max_depth"),
        ({"leaf_rule": "newton"}, "leaf_rule"),
        ({"subsample": 1.5}, "subsample"),
        ({"max_bins": 300}, "max_bins"),
        ({"distribution": "no_such_family"}, "distribution"),
    ],
)
def test_bad_hyper_parameters(data, params, name):
    X, y, _ = data
    with pytest.raises((ValueError, TypeError), match=f"'{name}' parameter"):
        NGBoostRegressor(**params).fit(X[:50], y[:50])


@pytest.mark.parametrize(
    ("X_bad", "y_bad", "match"),
    [
        ("inf_x", None, "infinity"),
        (None, "nan_y", "'y'.*finite"),
        (None, "inf_y", "'y'.*finite"),
    ],
)
def test_bad_data(data, X_bad, y_bad, match):
    X, y, _ = data
    X, y = X[:100].copy(), y[:100].copy()
    if X_bad == "inf_x":
        X[3, 1] = np.inf
    if y_bad == "nan_y":
        y[5] = np.nan
    if y_bad == "inf_y":
        y[5] = -np.inf
    with pytest.raises(ValueError, match=match):
        NGBoostRegressor(n_estimators=2).fit(X, y)


def test_target_outside_support(data):
    X, _, _ = data
    y = np.abs(np.random.default_rng(0).standard_normal(100))
    y[7] = -1.0
    with pytest.raises(ValueError, match="'y'.*positive.*row 7"):
        NGBoostRegressor("gamma", n_estimators=2).fit(X[:100], y)


@pytest.mark.parametrize("weights", [-np.ones(100), np.zeros(100), np.ones(99)])
def test_bad_sample_weight(data, weights):
    X, y, _ = data
    with pytest.raises(ValueError, match="sample_weight"):
        NGBoostRegressor(n_estimators=2).fit(X[:100], y[:100], sample_weight=weights)


def test_wrong_number_of_features_at_predict(data):
    X, y, _ = data
    model = NGBoostRegressor(n_estimators=2).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :3])


def test_bad_eval_set(data):
    X, y, _ = data
    with pytest.raises(ValueError, match="eval_set"):
        NGBoostRegressor(n_estimators=2).fit(X, y, eval_set=(X,))
    with pytest.raises(ValueError, match="y_val"):
        NGBoostRegressor(n_estimators=2).fit(X, y, eval_set=(X[:10], np.full(10, np.nan)))


def test_bad_n_stages(data):
    X, y, _ = data
    model = NGBoostRegressor(n_estimators=3).fit(X, y)
    with pytest.raises(ValueError, match="n_stages"):
        model.predict_dist(X, n_stages=4)
