"""Monotone constraints per distribution parameter (``monotonic_cst``).

The property under test: with a constraint ``+1`` (``-1``) on parameter ``k`` and feature
``f``, the predicted internal parameter θ_k is non-decreasing (non-increasing) along any line
that varies feature ``f`` alone, wherever the other features sit (missing ones included).
Each property check is paired with the unconstrained model on the same data, which must
break it, so that the check can fail.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils.estimator_checks import check_estimator

from natgrad import io
from natgrad.boosting import NGBoostClassifier, NGBoostRegressor, NGBoostSurvival
from natgrad.boosting._hist.binning import BinMapper
from natgrad.boosting._hist.constraints import resolve_monotonic_cst
from natgrad.boosting._hist.grow_checks import pack_metric
from natgrad.boosting._hist.grower import grow_tree
from natgrad.boosting._hist.leaf_solve import score
from natgrad.boosting._hist.predictor import Ensemble
from natgrad.boosting._hist.split_monotone import clipped_value

N_GRID = 60


def _lines(X, f, rng, n_base=40, lo=None, hi=None):
    """Rows of ``n_base`` lines (base points drawn from X's rows, NaNs kept) along feature
    ``f``: shape (n_base * N_GRID, d), feature ``f`` on a grid slightly wider than its range."""
    col = X[:, f][~np.isnan(X[:, f])]
    lo = col.min() - 0.5 if lo is None else lo
    hi = col.max() + 0.5 if hi is None else hi
    base = X[rng.choice(X.shape[0], n_base, replace=False)]
    Z = np.repeat(base, N_GRID, axis=0)
    Z[:, f] = np.tile(np.linspace(lo, hi, N_GRID), n_base)
    return Z


def _violation(theta_k, sign):
    """Largest step against ``sign`` along the lines (0 when monotone)."""
    steps = np.diff(theta_k.reshape(-1, N_GRID), axis=1)
    return float(np.max(-sign * steps, initial=0.0))


def _max_violation(model, k, f, sign, X, seed=0):
    Z = _lines(X, f, np.random.default_rng(seed))
    return _violation(model.predict_dist(Z).params[:, k], sign)


# ----------------------------------------------------------------------------- engine
def _sums(G, H, count=10.0):
    """Channel sums (G, packed H, count) of one node, matrix mode."""
    return np.concatenate([G, pack_metric(H[None])[0], [count]])


@pytest.mark.parametrize("p", [1, 2, 3])
def test_clipped_value_against_numpy(p):
    rng = np.random.default_rng(p)
    A = rng.normal(size=(p, p))
    H = A @ A.T + 0.5 * np.eye(p)
    G = rng.normal(size=p) * 3
    lam = 0.3
    sums = _sums(G, H)
    work, z, out = np.empty((p, p)), np.empty(p), np.empty(p)
    free = clipped_value(sums, p, True, lam, np.full(p, -np.inf), np.full(p, np.inf), work, z, out)
    v = np.linalg.solve(H + lam * np.eye(p), G)
    np.testing.assert_allclose(out, v, rtol=1e-10)
    np.testing.assert_allclose(free, score(sums, p, True, lam, work, z), rtol=1e-10)
    lower, upper = v - 1.0, v.copy()
    lower[0] = upper[0] = v[0] + 0.25  # component 0 forced above its free value
    got = clipped_value(sums, p, True, lam, lower, upper, work, z, out)
    ref_v = np.clip(v, lower, upper)
    np.testing.assert_allclose(out, ref_v, rtol=1e-10)
    ref = 2 * G @ ref_v - ref_v @ (H + lam * np.eye(p)) @ ref_v
    np.testing.assert_allclose(got, ref, rtol=1e-10)
    assert got < free  # the free value maximises the quadratic score
    # Scalar mode: channels (G, W, count); the value is G / (W + lambda) per component.
    ssum = np.concatenate([G, [4.0, 10.0]])
    got = clipped_value(ssum, p, False, lam, lower, upper, work, z, out)
    ref_v = np.clip(G / 4.3, lower, upper)
    np.testing.assert_allclose(out, ref_v, rtol=1e-10)
    np.testing.assert_allclose(got, 2 * G @ ref_v - 4.3 * ref_v @ ref_v, rtol=1e-10)


def _engine_data(n, d, p, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    X[rng.random((n, d)) < 0.1] = np.nan
    x0 = np.nan_to_num(X[:, 0])
    g = np.column_stack([np.sin(3 * x0) + rng.normal(size=n) for _ in range(p)])
    g[:, -1] = np.cos(2 * x0) + 0.3 * rng.normal(size=n)
    A = rng.normal(size=(n, p, p))
    metric = np.einsum("nij,nkj->nik", A, A) + np.eye(p)
    mapper = BinMapper(max_bins=48, random_state=0)
    binned = mapper.fit_transform(X)
    bins = {
        "n_bins_non_missing": mapper.n_bins_non_missing_,
        "missing_values_bin_idx": mapper.missing_values_bin_idx_,
        "bin_thresholds": mapper.bin_thresholds_,
    }
    return X, g, metric, binned, bins


def _tree_predict(tree, p, d, bins, Z):
    ens = Ensemble(p, d, missing_values_bin_idx=bins["missing_values_bin_idx"])
    ens.append(tree, 1.0)
    return ens.predict_raw(Z)


@pytest.mark.parametrize("matrix", [False, True])
@pytest.mark.parametrize("p", [2, 3])
@pytest.mark.parametrize("seed", [0, 1])
def test_grown_tree_is_monotone_with_missing_values(matrix, p, seed):
    d = 3
    X, g, metric, binned, bins = _engine_data(1500, d, p, seed)
    cst = np.zeros((p, d), dtype=int)
    cst[0, 0] = 1
    cst[p - 1, 0] = -1
    cst[0, 2] = -1
    kw = {"max_depth": None, "max_leaves": 24, "min_samples_leaf": 5, **bins}
    met = metric if matrix else None
    tree, leaf_of_row = grow_tree(binned, g, met, monotonic_cst=cst, **kw)
    free, _ = grow_tree(binned, g, met, **kw)
    assert tree.n_leaves > 8  # constraints leave room for real trees
    rng = np.random.default_rng(seed)
    for f, k, sign in [(0, 0, 1), (0, p - 1, -1), (2, 0, -1)]:
        Z = _lines(X, f, rng)
        assert _violation(_tree_predict(tree, p, d, bins, Z)[:, k], sign) == 0.0
        if f == 0:  # the data oscillate in feature 0: the free tree is not monotone
            assert _violation(_tree_predict(free, p, d, bins, Z)[:, k], sign) > 0.05
    # Leaf values of the training rows are the tree's leaves (clipped values included).
    np.testing.assert_array_equal(tree.leaf_values[leaf_of_row], _tree_predict(tree, p, d, bins, X))


@pytest.mark.parametrize("matrix", [False, True])
def test_stump_exact_cases(matrix):
    """Depth 1: a target increasing in x keeps the free stump under +1; under -1 no split is
    valid (scalar mode), so the tree is one leaf holding the mean of all rows."""
    n = 400
    x = np.linspace(0, 1, n)[:, None]
    mapper = BinMapper(max_bins=32, random_state=0)
    binned = mapper.fit_transform(x)
    bins = {
        "n_bins_non_missing": mapper.n_bins_non_missing_,
        "missing_values_bin_idx": mapper.missing_values_bin_idx_,
        "bin_thresholds": mapper.bin_thresholds_,
    }
    g = np.column_stack([3 * x[:, 0], np.sin(7 * x[:, 0])])
    met = np.tile(np.array([[2.0, 0.3], [0.3, 1.0]]), (n, 1, 1)) if matrix else None
    kw = {"max_depth": 1, "min_samples_leaf": 5, **bins}
    up = grow_tree(binned, g, met, monotonic_cst=[[1], [0]], **kw)[0]
    free = grow_tree(binned, g, met, **kw)[0]
    np.testing.assert_array_equal(up.feature, free.feature)
    np.testing.assert_array_equal(up.bin_threshold, free.bin_threshold)
    np.testing.assert_allclose(up.leaf_values, free.leaf_values, rtol=1e-12)
    down = grow_tree(binned, g, met, monotonic_cst=[[-1], [0]], **kw)[0]
    if matrix:
        # Coupled components: a split may still fit the free one and leave component 0
        # ordered; whatever it does, component 0 must not increase left to right.
        if down.n_leaves == 2:
            assert down.leaf_values[0, 0] >= down.leaf_values[1, 0]
    else:
        # Scalar mode: component 0 is the mean of an increasing target, left below right
        # for every threshold, so no split is valid.
        assert down.n_leaves == 1
    # Scalar mode, both components constrained against the data: no split is valid.
    both = grow_tree(binned, g[:, :1].repeat(2, axis=1), None, monotonic_cst=[[-1], [-1]], **kw)[0]
    assert both.n_leaves == 1
    np.testing.assert_allclose(both.leaf_values[0], g[:, 0].mean(), rtol=1e-12)


def test_grow_tree_rejects_bad_constraints():
    X, g, _, binned, bins = _engine_data(100, 3, 2, 0)
    with pytest.raises(ValueError, match="'monotonic_cst' argument of grow_tree must have shape"):
        grow_tree(binned, g, monotonic_cst=np.ones((3, 2)), **bins)
    with pytest.raises(ValueError, match=r"values in \{-1, 0, 1\}"):
        grow_tree(binned, g, monotonic_cst=np.full((2, 3), 2), **bins)


# ----------------------------------------------------------------------------- estimators
def _regression_data(n, seed, d=3):
    """loc increasing in x0 with a wiggle, log scale oscillating in x0 and falling in x2."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, d))
    loc = 1.5 * X[:, 0] + 0.4 * np.sin(3 * X[:, 0]) + X[:, 1]
    log_scale = 0.8 * np.sin(2.5 * X[:, 0]) - 0.3 * X[:, 2]
    y = loc + np.exp(log_scale) * rng.standard_t(8, size=n)
    X[rng.random((n, d)) < 0.1] = np.nan
    return X, y


FAST = {"n_estimators": 60, "learning_rate": 0.1, "min_samples_leaf": 10}


@pytest.mark.parametrize("leaf_rule", ["fisher", "ngboost"])
@pytest.mark.parametrize("family", ["normal", "student_t"])
@pytest.mark.parametrize("seed", [0, 1])
def test_constrained_parameters_are_monotone(leaf_rule, family, seed):
    X, y = _regression_data(700, seed)
    cst = {"loc": [-1, 0, 0], "log_scale": {2: 1}}
    if family == "student_t":
        cst["log_df"] = {0: 1}
    model = NGBoostRegressor(
        family, monotonic_cst=cst, leaf_rule=leaf_rule, random_state=seed, **FAST
    ).fit(X, y)
    free = NGBoostRegressor(family, leaf_rule=leaf_rule, random_state=seed, **FAST).fit(X, y)
    checks = [("loc", 0, -1), ("log_scale", 2, 1)]
    if family == "student_t":
        checks.append(("log_df", 0, 1))
    names = model._template_.param_names
    for name, f, sign in checks:
        k = names.index(name)
        assert _max_violation(model, k, f, sign, X, seed) <= 1e-12, name
    # The data say the opposite for loc in x0: the free model breaks the constraint.
    assert _max_violation(free, 0, 0, -1, X, seed) > 0.3
    # The constrained model still learns: loc follows the free feature x1.
    Z = _lines(X, 1, np.random.default_rng(seed), lo=-2, hi=2)
    loc = model.predict_dist(Z).params[:, 0].reshape(-1, N_GRID)
    assert np.median(loc[:, -1] - loc[:, 0]) > 0.75  # the truth rises by 4; 60 stages


def test_unconstrained_parameter_varies_non_monotonically():
    X, y = _regression_data(1500, 3)
    model = NGBoostRegressor(
        monotonic_cst={"loc": {0: 1}}, n_estimators=150, learning_rate=0.1, random_state=0
    ).fit(X, y)
    assert _max_violation(model, 0, 0, 1, X) <= 1e-12
    grid = np.linspace(-2, 2, 200)
    Z = np.zeros((200, 3))
    Z[:, 0] = grid
    log_scale = model.predict_dist(Z).params[:, 1]
    truth = 0.8 * np.sin(2.5 * grid)
    # Rises and falls where the truth does (the truth's swing is 1.6).
    assert np.corrcoef(log_scale, truth)[0, 1] > 0.8
    assert np.ptp(log_scale[grid < -0.6]) > 0.3 and np.ptp(log_scale[grid > 0.6]) > 0.3


@pytest.mark.parametrize("leaf_rule", ["fisher", "ngboost"])
def test_constrained_fit_is_not_worse_when_the_truth_is_monotone(leaf_rule):
    """True location increasing in x0; the constrained model's test NLL may not be worse
    than the free one's by more than 3 standard errors of the paired difference plus 0.005
    nats (for the training noise the paired SE leaves out). Both stop early on a holdout."""
    rng = np.random.default_rng(8)
    n, n_test = 2000, 4000
    X = rng.uniform(-2, 2, size=(n + n_test, 4))
    loc = np.tanh(2 * X[:, 0]) + 0.5 * X[:, 0]
    y = loc + 0.5 * rng.normal(size=n + n_test)
    X[rng.random(X.shape) < 0.05] = np.nan
    kw = {
        "n_estimators": 400,
        "learning_rate": 0.05,
        "min_samples_leaf": 20,
        "validation_fraction": 0.2,
        "n_iter_no_change": 20,
        "leaf_rule": leaf_rule,
        "random_state": 0,
    }
    model = NGBoostRegressor(monotonic_cst={"loc": {0: 1}}, **kw).fit(X[:n], y[:n])
    free = NGBoostRegressor(**kw).fit(X[:n], y[:n])
    diff = model.predict_dist(X[n:]).nll(y[n:]) - free.predict_dist(X[n:]).nll(y[n:])
    se = diff.std(ddof=1) / np.sqrt(n_test)
    assert diff.mean() <= 3 * se + 0.005, (diff.mean(), se)
    assert _max_violation(model, 0, 0, 1, X[:n]) <= 1e-12


def test_two_dimensional_array_and_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = _regression_data(500, 4)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    by_name = NGBoostRegressor(
        monotonic_cst={"loc": {"a": -1}, "log_scale": {"c": 1}}, random_state=0, **FAST
    )
    by_name.fit(frame, y)
    array = NGBoostRegressor(monotonic_cst=[[-1, 0, 0], [0, 0, 1]], random_state=0, **FAST).fit(
        X, y
    )
    np.testing.assert_array_equal(by_name.predict_dist(frame).params, array.predict_dist(X).params)
    assert _max_violation(array, 0, 0, -1, X) <= 1e-12


def test_classifier_and_survival_take_constraints():
    rng = np.random.default_rng(5)
    X = rng.uniform(-2, 2, size=(600, 2))
    X[rng.random(X.shape) < 0.1] = np.nan
    x0 = np.nan_to_num(X[:, 0])
    labels = (rng.random(600) < 1 / (1 + np.exp(-np.sin(3 * x0) - x0))).astype(int)
    clf = NGBoostClassifier(monotonic_cst={"logit": {0: 1}}, **FAST).fit(X, labels)
    assert _max_violation(clf, 0, 0, 1, X) <= 1e-12
    free = NGBoostClassifier(**FAST).fit(X, labels)
    assert _max_violation(free, 0, 0, 1, X) > 0.05
    time = np.exp(0.5 * x0 + 0.5 * np.sin(3 * x0) + 0.3 * rng.normal(size=600))
    event = rng.random(600) < 0.8
    surv = NGBoostSurvival(monotonic_cst={"loc": {0: 1}}, **FAST).fit(X, time, event)
    assert _max_violation(surv, 0, 0, 1, X) <= 1e-12


# ----------------------------------------------------------------------------- API
def test_get_params_clone_and_save_load(tmp_path):
    X, y = _regression_data(300, 2)
    cst = {"loc": {0: 1}, "log_scale": np.array([0, 0, -1])}
    model = NGBoostRegressor(monotonic_cst=cst, random_state=0, **FAST).fit(X, y)
    assert model.get_params()["monotonic_cst"] is cst
    assert clone(model).get_params()["monotonic_cst"]["loc"] == {0: 1}
    path = tmp_path / "m.ngm"
    io.save(model, path)
    loaded = io.load(path)
    # Saved in resolved form: one sign per feature for each constrained parameter.
    assert loaded.monotonic_cst == {"loc": [1, 0, 0], "log_scale": [0, 0, -1]}
    np.testing.assert_array_equal(loaded.predict_dist(X).params, model.predict_dist(X).params)
    refit = clone(loaded).fit(X, y)
    np.testing.assert_array_equal(refit.predict_dist(X).params, model.predict_dist(X).params)


def test_save_load_with_feature_names(tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = _regression_data(300, 2)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    model = NGBoostRegressor(monotonic_cst={"loc": {"b": 1}}, **FAST).fit(frame, y)
    io.save(model, tmp_path / "m.ngm")
    loaded = io.load(tmp_path / "m.ngm")
    assert loaded.monotonic_cst == {"loc": [0, 1, 0]}
    np.testing.assert_array_equal(
        loaded.predict_dist(frame).params, model.predict_dist(frame).params
    )


def test_constrained_regressor_passes_check_estimator():
    # Feature 0 exists in every data set the checks use.
    est = NGBoostRegressor(monotonic_cst={"loc": {0: 1}}, n_estimators=10, learning_rate=0.1)
    check_estimator(
        est.set_params(min_samples_leaf=1),
        expected_failed_checks={"check_sample_weight_equivalence_on_dense_data": "ties"},
    )


@pytest.mark.parametrize(
    ("cst", "error", "match"),
    [
        ({"scale": [1, 0, 0]}, ValueError, "unknown parameter name 'scale'"),
        ({"loc": [1, 0]}, ValueError, r"must be an array-like of shape \(3,\).*Got shape \(2,\)"),
        ({"loc": [2, 0, 0]}, ValueError, r"only -1, 0 and 1. Got the value\(s\) \[2\]"),
        ({"loc": [0.5, 0, 0]}, ValueError, "only -1, 0 and 1"),
        ({"loc": ["a", 0, 0]}, ValueError, "only -1, 0 and 1. Got values of dtype"),
        ({"loc": {3: 1}}, ValueError, r"feature indices in \[0, 3\). Got the index 3"),
        ({"loc": {0: 2}}, ValueError, "must map features to -1, 0 or 1. Got 2"),
        ({"loc": {"x": 1}}, ValueError, "X has no feature names"),
        ({"loc": {1.5: 1}}, TypeError, "keyed by feature names .* Got the key 1.5"),
        ([[1, 0, 0]], ValueError, r"shape \(2, 3\).*Got shape \(1, 3\)"),
        ("loc", ValueError, "'monotonic_cst' parameter of NGBoostRegressor must be"),
    ],
)
def test_bad_constraints(cst, error, match):
    X, y = _regression_data(100, 0)
    with pytest.raises(error, match=match):
        NGBoostRegressor(monotonic_cst=cst, n_estimators=2).fit(X, y)


def test_bad_feature_name_and_base_learner():
    pd = pytest.importorskip("pandas")
    X, y = _regression_data(100, 0)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    with pytest.raises(ValueError, match="unknown feature name 'z'"):
        NGBoostRegressor(monotonic_cst={"loc": {"z": 1}}, n_estimators=2).fit(frame, y)
    with pytest.raises(ValueError, match="needs the native tree learner"):
        NGBoostRegressor(
            monotonic_cst={"loc": {0: 1}},
            base_learner=DecisionTreeRegressor(max_depth=2),
            n_estimators=2,
        ).fit(X, y)
    # All-zero constraints are no constraints: fine with an external learner.
    NGBoostRegressor(
        monotonic_cst={"loc": [0, 0, 0]}, base_learner=DecisionTreeRegressor(max_depth=2),
        n_estimators=2,
    ).fit(X, y)  # fmt: skip


def test_resolve_forms_agree():
    names, d = ("loc", "log_scale"), 3
    ref = np.array([[1, 0, -1], [0, 0, 0]], dtype=np.int8)
    for value in (
        {"loc": [1, 0, -1]},
        {"loc": {0: 1, 2: -1}},
        {"loc": {"a": 1, "c": -1}},
        [[1, 0, -1], [0, 0, 0]],
        np.array([[1.0, 0.0, -1.0], [0.0, 0.0, 0.0]]),
    ):
        got = resolve_monotonic_cst(value, names, d, ["a", "b", "c"], "Est")
        np.testing.assert_array_equal(got, ref)
    assert resolve_monotonic_cst({"loc": [0, 0, 0]}, names, d, None, "Est") is None
    assert resolve_monotonic_cst(None, names, d, None, "Est") is None


def test_categorical_feature_cannot_be_constrained():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=200), rng.integers(0, 4, size=200).astype(float)])
    y = X[:, 0] + X[:, 1] + rng.normal(size=200)
    est = NGBoostRegressor(categorical_features=[1], n_estimators=5)
    with pytest.raises(ValueError, match=r"unconstrained .* categorical feature\(s\) \[1\]"):
        clone(est).set_params(monotonic_cst={"loc": {1: 1}}).fit(X, y)
    # Constraining the numeric feature of a model with categorical splits is fine.
    model = clone(est).set_params(monotonic_cst={"loc": {0: 1}}, n_estimators=30).fit(X, y)
    assert _max_violation(model, 0, 0, 1, X) <= 1e-12
