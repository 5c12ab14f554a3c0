"""The sharded engine (`natgrad.boosting.sharded`) in one process: a fit over shards grows the
trees `NGBoostRegressor` grows on the concatenated rows.

The shards here are plain objects (`LocalPool`), so these tests need no cluster; the Dask
layer on top is tested in test_dask_cluster.py. "Same trees" means equal split features,
thresholds, missing-value sides and children, and leaf values equal to summation-order
rounding (the shards' histograms and sums are added in another order than one machine's).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils import check_random_state

from natgrad.boosting import NGBoostClassifier, NGBoostRegressor, NGBoostSurvival
from natgrad.boosting.sharded import (
    BINNING_SUBSAMPLE,
    LocalPool,
    Shard,
    ShardedTrainer,
    binning_rows,
)

# Summation-order rounding of sums over a few thousand rows, relative to their size.
RTOL = 1e-9

# No test can hang CI: a bound far above a test's time, compiling the engine from cold
# included (pytest-timeout, a dev dependency).
pytestmark = pytest.mark.timeout(1200)


def _data(n=2000, d=5, seed=0, missing=0.05):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    X[rng.random((n, d)) < missing] = np.nan
    x0, x1, x2 = (np.nan_to_num(X[:, k]) for k in range(3))
    y = 2.0 * x0 + x1 + rng.normal(size=n) * np.exp(0.5 * x2)
    return X, y


def _sharded_fit(est, X, y, w, cuts, eval_set=None):
    """`ShardedTrainer` over shards cut at ``cuts`` (rows); returns the fit state and pool."""
    est._validate_params()
    family, config = est._family()
    score = est._score_rule = est._check_score(family)
    bounds = list(zip(cuts[:-1], cuts[1:], strict=True))
    val_bounds = [None] * len(bounds)
    w_val_sum = None
    if eval_set is not None:
        Xv, yv, wv = eval_set
        # Validation rows split into as many shards, at other places than the training rows.
        edges = np.linspace(0, len(yv), len(bounds) + 1).astype(int)
        val_bounds = list(zip(edges[:-1], edges[1:], strict=True))
        w_val_sum = float(wv.sum())
    shards = []
    for (a, b), vb in zip(bounds, val_bounds, strict=True):
        if vb is None:
            shards.append(Shard(X[a:b], y[a:b], w[a:b]))
        else:
            c, e = vb
            shards.append(Shard(X[a:b], y[a:b], w[a:b], Xv[c:e], yv[c:e], wv[c:e]))
    pool = LocalPool(shards)
    trainer = ShardedTrainer(est, family, config, score, check_random_state(est.random_state))
    state = trainer.fit(pool, lambda rows: X if rows is None else X[rows], y, w, X.shape[1],
                        w_val_sum)  # fmt: skip
    return state, pool


def _assert_same_trees(local, state):
    a, b = local._model_.ensemble, state.model.ensemble
    assert a.n_trees == b.n_trees
    np.testing.assert_array_equal(a._offsets[: a.n_trees + 1], b._offsets[: b.n_trees + 1])
    for name in ("feature", "bin_threshold", "missing_go_left", "left", "right", "leaf_id"):
        np.testing.assert_array_equal(a._view(name), b._view(name), err_msg=name)
    np.testing.assert_allclose(a._view("threshold"), b._view("threshold"), rtol=0, atol=0)
    scale = np.abs(a._view("value")).max()
    np.testing.assert_allclose(a._view("value"), b._view("value"), rtol=0, atol=RTOL * scale)
    np.testing.assert_allclose(a._scales[: a.n_trees], b._scales[: b.n_trees], rtol=1e-8)


@pytest.mark.parametrize(
    ("cuts", "kwargs"),
    [
        ([0, 700, 1300, 2000], {}),
        ([0, 0, 2000], {}),  # a shard without rows
        ([0, 1999, 2000], {"max_depth": 2, "min_samples_leaf": 1}),
        ([0, 1000, 2000], {"colsample": 0.6, "l2_regularization": 0.5, "leaf_prior": 2.0}),
        # Row subsamples: the local fit's draws, whatever the cuts.
        ([0, 700, 1300, 2000], {"subsample": 0.3}),
        ([0, 0, 1, 2000], {"subsample": 0.5, "colsample": 0.6}),
        # 100 rows a stage with 20 rows a leaf: the local grower stops at 5 leaves.
        ([0, 1500, 2000], {"subsample": 0.05}),
    ],
)
def test_sharded_fit_grows_the_local_trees(cuts, kwargs):
    X, y = _data()
    params = {"n_estimators": 25, "learning_rate": 0.1, "subsample": 1.0, "random_state": 4}
    params.update(kwargs)
    local = NGBoostRegressor(**params).fit(X, y)
    state, pool = _sharded_fit(NGBoostRegressor(**params), X, y, np.ones(len(y)), cuts)
    _assert_same_trees(local, state)
    np.testing.assert_allclose(local.init_params_, state.init_params, rtol=1e-12)
    np.testing.assert_allclose(local.train_loss_, state.train_loss, rtol=1e-10)
    theta_local = local._model_.predict(X, local.n_estimators_)
    theta_sharded = state.model.predict(X, state.n_estimators)
    np.testing.assert_allclose(theta_local, theta_sharded, rtol=0, atol=1e-9)
    # Rounds: max_depth + 1 per stage (root, each further level, the leaves' sums), the
    # set-up and the last update.
    depth = params.get("max_depth", 3)
    assert pool.rounds == 2 + params["n_estimators"] * (depth + 1)


def test_sharded_fit_with_weights_and_early_stopping():
    X, y = _data(n=2400, seed=1)
    Xv, yv = _data(n=600, seed=2)
    rng = np.random.default_rng(3)
    w = rng.uniform(0.2, 2.0, size=len(y))
    wv = rng.uniform(0.2, 2.0, size=len(yv))
    params = {
        "n_estimators": 300, "learning_rate": 0.3, "subsample": 0.5, "random_state": 0,
        "n_iter_no_change": 5,
    }  # fmt: skip
    local = NGBoostRegressor(**params).fit(X, y, sample_weight=w, eval_set=(Xv, yv, wv))
    assert local.n_estimators_ < 300  # the early stop is exercised
    state, _ = _sharded_fit(
        NGBoostRegressor(**params), X, y, w, [0, 800, 2400], eval_set=(Xv, yv, wv)
    )
    _assert_same_trees(local, state)
    assert state.best_iteration == local.best_iteration_
    assert state.n_estimators == local.n_estimators_
    np.testing.assert_allclose(local.validation_loss_, state.validation_loss, rtol=1e-7)


def test_sharded_fit_other_family():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(1500, 3))
    y = rng.poisson(np.exp(0.5 * X[:, 0] + 1.0)).astype(float)
    params = {"distribution": "poisson", "n_estimators": 15, "subsample": 1.0, "random_state": 1}
    local = NGBoostRegressor(**params).fit(X, y)
    state, _ = _sharded_fit(NGBoostRegressor(**params), X, y, np.ones(len(y)), [0, 600, 1500])
    _assert_same_trees(local, state)


# Families without closed-form line sums: the generic computer (gamma) or compiled kernels
# without them (laplace); the line search then takes a round per trial step.
@pytest.mark.parametrize("distribution", ["gamma", "laplace"])
def test_sharded_fit_without_closed_form_line_sums(distribution):
    X, y = _data(n=1500)
    y = np.abs(y) + 0.1
    params = {
        "distribution": distribution, "n_estimators": 15, "subsample": 0.5, "random_state": 2,
    }  # fmt: skip
    local = NGBoostRegressor(**params).fit(X, y)
    state, pool = _sharded_fit(NGBoostRegressor(**params), X, y, np.ones(len(y)), [0, 900, 1500])
    _assert_same_trees(local, state)
    np.testing.assert_allclose(local.train_loss_, state.train_loss, rtol=1e-10)
    assert pool.rounds > 2 + 15 * 4  # at least one more trial step in some stage


@pytest.mark.parametrize("n_classes", [2, 3])
def test_sharded_fit_classifier(n_classes):
    X, _ = _data(n=1500, seed=6)
    labels = np.array(["a", "b", "c"])[
        np.digitize(np.nan_to_num(X[:, 0]) + 0.3 * np.nan_to_num(X[:, 1]),
                    [0.0] if n_classes == 2 else [-0.5, 0.5])
    ]  # fmt: skip
    params = {"n_estimators": 12, "subsample": 0.5, "random_state": 3}
    local = NGBoostClassifier(**params).fit(X, labels)
    est = NGBoostClassifier(**params)
    codes = est._check_targets(labels, None, {})
    state, _ = _sharded_fit(est, X, codes, np.ones(len(codes)), [0, 500, 1500])
    _assert_same_trees(local, state)
    np.testing.assert_allclose(local.train_loss_, state.train_loss, rtol=1e-10)


def test_sharded_fit_survival_with_early_stopping():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(1800, 3))
    t = rng.lognormal(mean=1.0 + 0.5 * X[:, 0], sigma=0.6)
    c = rng.lognormal(mean=1.4, sigma=0.5, size=len(t))
    time, event = np.minimum(t, c), (t <= c).astype(float)
    params = {
        "n_estimators": 60, "learning_rate": 0.3, "random_state": 4, "n_iter_no_change": 3,
    }  # fmt: skip
    cut = 1400
    local = NGBoostSurvival(**params).fit(
        X[:cut], time[:cut], event[:cut], eval_set=(X[cut:], time[cut:], event[cut:])
    )
    est = NGBoostSurvival(**params)
    family, config = est._family()
    y2 = est._check_fit_targets((time, event), family, config, len(time))
    w = np.ones(len(time))
    state, _ = _sharded_fit(
        est, X[:cut], y2[:cut], w[:cut], [0, 700, cut], eval_set=(X[cut:], y2[cut:], w[cut:])
    )
    _assert_same_trees(local, state)
    assert state.best_iteration == local.best_iteration_
    np.testing.assert_allclose(local.validation_loss_, state.validation_loss, rtol=1e-9)


def test_binning_rows_are_the_bin_mappers_sample():
    # The rows the local BinMapper reads: all of them up to its subsample size, else its
    # seeded draw. Checked on the draw itself (a fit at 200 001 rows is too slow for a test).
    assert binning_rows(BINNING_SUBSAMPLE, 7) is None
    rows = binning_rows(BINNING_SUBSAMPLE + 10, 7)
    assert rows is not None and rows.size == BINNING_SUBSAMPLE
    expected = np.sort(
        np.random.default_rng(7).choice(BINNING_SUBSAMPLE + 10, BINNING_SUBSAMPLE, replace=False)
    )
    np.testing.assert_array_equal(rows, expected)


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("leaf_rule", "ngboost"),
        ("max_leaves", 8),
        ("validation_fraction", 0.2),
    ],
)
def test_unsupported_settings_are_named(param, value):
    X, y = _data(n=200)
    est = NGBoostRegressor(n_estimators=2, subsample=1.0, **{param: value})
    with pytest.raises(ValueError, match=f"'{param}' parameter of NGBoostRegressor"):
        _sharded_fit(est, X, np.abs(y) + 0.1, np.ones(len(y)), [0, 100, 200])
