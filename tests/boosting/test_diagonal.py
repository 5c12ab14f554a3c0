"""The grower's diagonal-metric layout against the dense layout it shortcuts."""

from __future__ import annotations

import numpy as np
import pytest

import natgrad.boosting._training.stage as stage
from natgrad import NGBoostRegressor
from natgrad.boosting._hist.binning import BinMapper
from natgrad.boosting._hist.grower import grow_tree
from natgrad.boosting._hist.split_diagonal import diagonal_layout
from natgrad.distributions import Exponential, Laplace, LogNormal, Normal, Poisson
from natgrad.scores import LogScore

N, D = 1500, 4


def _data(seed=0, missing=0.1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D))
    X[:, 3] = rng.integers(0, 6, N)  # categorical codes in some cases
    signal = np.tanh(X[:, 0]) + 0.5 * (X[:, 3] % 2)
    X[rng.random((N, D)) < missing] = np.nan
    grad = np.column_stack([signal + rng.normal(size=N), signal**2 - 0.5 + rng.normal(size=N)])
    h00 = rng.uniform(0.2, 3.0, N)
    return X, grad, h00, rng


def _packed(h00, h11):
    return np.column_stack([h00, np.zeros_like(h00), h11])


def _mapper(X, categorical=False):
    n_cat = np.array([0, 0, 0, 6]) if categorical else None
    mapper = BinMapper(max_bins=48, random_state=0, n_categories=n_cat)
    return mapper, mapper.fit_transform(X)


def _bins(mapper):
    return {
        "n_bins_non_missing": mapper.n_bins_non_missing_,
        "missing_values_bin_idx": mapper.missing_values_bin_idx_,
        "bin_thresholds": mapper.bin_thresholds_,
    }


def _assert_same_tree(dense, diag):
    (t1, l1), (t2, l2) = dense, diag
    np.testing.assert_array_equal(t1.feature, t2.feature)
    np.testing.assert_array_equal(t1.bin_threshold, t2.bin_threshold)
    np.testing.assert_array_equal(t1.missing_go_left, t2.missing_go_left)
    np.testing.assert_array_equal(l1, l2)
    np.testing.assert_allclose(t2.value, t1.value, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(t2.split_gain, t1.split_gain, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(t2.gain, t1.gain, rtol=1e-10, atol=1e-12)
    if t1.cat_bitsets is not None:
        np.testing.assert_array_equal(t1.cat_bitsets, t2.cat_bitsets)


CASES = {
    "plain": {},
    "prior_l2": {"leaf_prior": 3.0, "l2_regularization": 0.7},
    "monotone": {"monotonic_cst": np.array([[1, 0, 0, 0], [0, -1, 0, 0]])},
    "subsample": {
        "rows": np.sort(np.random.default_rng(5).choice(N, 1000, replace=False)),
        "feature_mask": np.array([True, True, False, True]),
    },
    "best_first": {"max_depth": None, "max_leaves": 11},
    "deep_small_leaves": {"max_depth": 6, "min_samples_leaf": 3},
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("constant", [True, False], ids=["constant", "varying"])
def test_diagonal_layout_grows_the_dense_tree(case, constant):
    X, grad, h00, rng = _data()
    mapper, binned = _mapper(X)
    h11 = np.full(N, 2.0) if constant else rng.uniform(0.5, 1.5, N)
    packed = _packed(h00, h11)
    kw = {"max_depth": 4, "min_samples_leaf": 10, **_bins(mapper), **CASES[case]}
    diagonal = [np.nan, 2.0] if constant else [np.nan, np.nan]
    dense = grow_tree(binned, grad, packed, **kw)
    assert dense[0].n_leaves > 4  # the data have structure to find
    _assert_same_tree(dense, grow_tree(binned, grad, packed, metric_diagonal=diagonal, **kw))


@pytest.mark.parametrize("constant", [True, False], ids=["constant", "varying"])
@pytest.mark.parametrize("l2", [0.0, 0.5])
def test_two_parameter_fast_scan_without_missing_values(constant, l2):
    # Nodes without missing values and without a leaf prior take `_scan_two`: the same
    # trees as the dense layout, with a constant or a varying second diagonal entry.
    X, grad, h00, rng = _data(seed=8, missing=0.0)
    mapper, binned = _mapper(X)
    h11 = np.full(N, 2.0) if constant else rng.uniform(0.5, 1.5, N)
    packed = _packed(h00, h11)
    kw = {"max_depth": 5, "min_samples_leaf": 5, "l2_regularization": l2, **_bins(mapper)}
    dense = grow_tree(binned, grad, packed, **kw)
    assert dense[0].n_leaves > 8
    diagonal = [np.nan, 2.0] if constant else [np.nan, np.nan]
    _assert_same_tree(dense, grow_tree(binned, grad, packed, metric_diagonal=diagonal, **kw))


def test_diagonal_layout_with_categorical_feature_and_weights():
    X, grad, h00, rng = _data(seed=1)
    X[:, 3] = np.where(np.isnan(X[:, 3]), 2.0, X[:, 3])
    mapper, binned = _mapper(X, categorical=True)
    w = rng.uniform(0.2, 2.0, N)
    packed = _packed(h00 * w, 2.0 * w)  # weighted metric: no entry is constant
    kw = {"max_depth": 4, "min_samples_leaf": 10, **_bins(mapper)}
    kw["is_categorical"] = mapper.is_categorical_
    dense = grow_tree(binned, grad, packed, w, **kw)
    assert dense[0].cat_index is not None  # a categorical split was chosen
    diag = grow_tree(binned, grad, packed, w, metric_diagonal=[np.nan, np.nan], **kw)
    _assert_same_tree(dense, diag)


def test_zero_curvature_children_take_the_damped_dense_solve():
    # Rows with h00 = 0 make some candidate children singular: those thresholds must be
    # scored by the dense damped solve, with the same result.
    X, grad, h00, _ = _data(seed=2, missing=0.0)
    h00[X[:, 0] < 0.3] = 0.0
    mapper, binned = _mapper(X)
    packed = _packed(h00, np.full(N, 2.0))
    kw = {"max_depth": 3, "min_samples_leaf": 5, **_bins(mapper)}
    dense = grow_tree(binned, grad, packed, **kw)
    _assert_same_tree(dense, grow_tree(binned, grad, packed, metric_diagonal=[np.nan, 2], **kw))


def test_constant_diagonal_entry_is_count_times_constant():
    # The constant is taken at its word: a diagonal of [nan, 1] on rows whose entry is 2
    # grows the tree of the metric with 1 there.
    X, grad, h00, _ = _data(seed=3)
    mapper, binned = _mapper(X)
    kw = {"max_depth": 3, **_bins(mapper)}
    ref = grow_tree(binned, grad, _packed(h00, np.ones(N)), **kw)
    got = grow_tree(binned, grad, _packed(h00, np.full(N, 2.0)), metric_diagonal=[np.nan, 1], **kw)
    _assert_same_tree(ref, got)


@pytest.mark.parametrize("bad", [[np.nan], [np.nan, np.inf], [[1.0, 2.0]]])
def test_metric_diagonal_is_validated(bad):
    X, grad, h00, _ = _data()
    mapper, binned = _mapper(X)
    with pytest.raises(ValueError, match="The 'metric_diagonal' argument of grow_tree must"):
        grow_tree(binned, grad, _packed(h00, h00), metric_diagonal=bad, **_bins(mapper))


@pytest.mark.parametrize("family", [Normal, LogNormal, Laplace], ids=lambda f: f.__name__)
@pytest.mark.parametrize("weighted", [False, True])
def test_stage_kernel_diagonal_matches_its_metric(family, weighted):
    rng = np.random.default_rng(4)
    n = 400
    y = np.exp(rng.normal(size=n)) if family is LogNormal else rng.normal(scale=2.0, size=n)
    theta = rng.normal(size=(n, 2))
    w = rng.uniform(0.1, 3.0, n) if weighted else None
    fused = stage.fused_stage(family, LogScore(), {}, y, np.full(n, 1.0 / n))
    assert fused is not None
    fused.set_params(theta)
    grad, packed = np.empty((n, 2)), np.empty((n, 3))
    fused.gradient_and_metric(theta, w, grad, packed)
    diag = fused.metric_diagonal(weighted)
    assert diag is not None and diag.shape == (2,)
    np.testing.assert_array_equal(packed[:, 1], 0.0)  # off-diagonal
    for k, col in ((0, 0), (1, 2)):
        if np.isnan(diag[k]):
            assert np.ptp(packed[:, col]) > 0.0 or weighted
        else:
            np.testing.assert_array_equal(packed[:, col], diag[k])
    if weighted:
        assert np.isnan(diag).all()


@pytest.mark.parametrize("family", [Exponential, Poisson], ids=lambda f: f.__name__)
def test_one_parameter_families_have_no_diagonal_layout(family):
    y = np.arange(1.0, 11.0)
    fused = stage.fused_stage(family, LogScore(), {}, y, np.full(10, 0.1))
    assert fused is not None and fused.metric_diagonal(False) is None


def test_fisher_fit_is_unchanged_by_the_diagonal_layout(monkeypatch):
    rng = np.random.default_rng(6)
    X = rng.standard_normal((800, 3))
    y = X[:, 0] + np.exp(0.5 * X[:, 1]) * rng.normal(size=800)
    kw = {
        "n_estimators": 30,
        "learning_rate": 0.1,
        "max_depth": 3,
        "leaf_rule": "fisher",
        "random_state": 0,
    }
    fast = NGBoostRegressor(**kw).fit(X, y)
    monkeypatch.setattr(stage.FusedStage, "metric_diagonal", lambda self, weighted: None)
    dense = NGBoostRegressor(**kw).fit(X, y)
    np.testing.assert_allclose(fast.predict(X), dense.predict(X), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fast.train_loss_, dense.train_loss_, rtol=1e-10)


@pytest.mark.parametrize(
    "family", [Normal, Laplace, Exponential, Poisson], ids=lambda f: f.__name__
)
@pytest.mark.parametrize("weighted", [False, True])
def test_stage_channels_grow_the_tree_of_gradient_and_metric(family, weighted):
    # The stage kernels' direct channel writing (`gradient_channels` + `grow_tree(channels=)`)
    # against the two-step path (`gradient_and_metric`, then the grower's own copy).
    X, _, _, rng = _data(seed=7)
    mapper, binned = _mapper(X)
    p = len(family.param_names)
    y = rng.poisson(3.0, N).astype(float) if family is Poisson else np.abs(rng.normal(size=N))
    y += 0.0 if family is Poisson else 0.1
    theta = np.asfortranarray(0.3 * rng.normal(size=(N, p)) + 0.5 * np.tanh(X[:, [0]]))
    theta[np.isnan(theta)] = 0.0
    w = rng.uniform(0.2, 2.0, N) if weighted else None
    fused = stage.fused_stage(family, LogScore(), {}, y, np.full(N, 1.0 / N))
    assert fused is not None
    fused.set_params(theta)
    grad, packed = np.empty((N, p)), np.empty((N, p * (p + 1) // 2))
    fused.gradient_and_metric(theta, w, grad, packed)
    diag = fused.metric_diagonal(weighted)
    kw = {"max_depth": 4, "min_samples_leaf": 10, **_bins(mapper)}
    ref = grow_tree(binned, grad, packed, metric_diagonal=diag, **kw)
    if diag is not None:
        columns = diagonal_layout(diag)[2]
    else:
        columns = np.arange(p * (p + 1) // 2)
    channels = np.empty((N, p + columns.size))
    fused.gradient_channels(theta, w, columns, channels)
    got = grow_tree(binned, None, metric_diagonal=diag, channels=channels, **kw)
    assert ref[0].n_leaves > 2
    _assert_same_tree(ref, got)


def test_channels_are_validated():
    X, grad, h00, _ = _data()
    mapper, binned = _mapper(X)
    good = np.zeros((N, 3))
    with pytest.raises(ValueError, match="'gradients', 'metric' and 'sample_weight' arguments"):
        grow_tree(binned, grad, channels=good, metric_diagonal=[np.nan, 2.0], **_bins(mapper))
    with pytest.raises(ValueError, match=r"'channels' argument of grow_tree must be a C-cont"):
        grow_tree(
            binned, None, channels=good[:, :2], metric_diagonal=[np.nan, 2.0], **_bins(mapper)
        )
    with pytest.raises(ValueError, match=r"must be a float64 array"):
        grow_tree(binned, None, channels=good.astype(np.float32), **_bins(mapper))
    with pytest.raises(ValueError, match=r"with p >= 2 when 'channels' is given"):
        grow_tree(
            binned, None, channels=np.zeros((N, 2)), metric_diagonal=[np.nan], **_bins(mapper)
        )
