"""The fit's memory: float32 or memory-mapped X read as it is (no float64 copy, the same bins);
equal loss weights kept as one value."""

from __future__ import annotations

import numpy as np
import pytest

from natgrad import NGBoostRegressor
from natgrad.boosting._hist import binning
from natgrad.boosting._hist.binning import BinMapper, feature_view


def _data(n: int = 300, d: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d)).astype(np.float32)
    X[rng.random((n, d)) < 0.05] = np.nan
    y = np.nan_to_num(X[:, 0]).astype(np.float64) + 0.5 * rng.normal(size=n)
    return X, y


@pytest.mark.parametrize("order", ["C", "F"])
def test_feature_view_keeps_float32_and_float64_arrays_without_a_copy(order):
    X, _ = _data()
    for arr in (np.asarray(X, order=order), np.asarray(X, dtype=np.float64, order=order)):
        view = feature_view(arr, "test")
        assert view.dtype == arr.dtype and np.shares_memory(view, arr)


def test_feature_view_converts_other_dtypes_and_finds_an_infinity_past_the_first_block():
    assert feature_view(np.ones((3, 2), dtype=np.int64), "test").dtype == np.float64
    X = np.zeros((binning._CHECK_BLOCK + 10, 1), dtype=np.float32)
    X[-1, 0] = -np.inf
    with pytest.raises(ValueError, match="Got 1 infinite value"):
        feature_view(X, "test")


@pytest.mark.parametrize("subsample", [None, 100])
def test_float32_bins_are_the_bins_of_the_same_values_in_float64(subsample):
    X, _ = _data()
    binned32 = BinMapper(subsample=subsample, random_state=0).fit_transform(X)
    binned64 = BinMapper(subsample=subsample, random_state=0).fit_transform(X.astype(np.float64))
    np.testing.assert_array_equal(binned32, binned64)


def test_a_fit_on_float32_or_memory_mapped_X_equals_the_fit_on_float64(tmp_path):
    X, y = _data()
    path = tmp_path / "X.npy"
    np.save(path, X)
    mapped = np.load(path, mmap_mode="r")
    params = {}
    for name, features in (("float64", X.astype(np.float64)), ("float32", X), ("mmap", mapped)):
        model = NGBoostRegressor(n_estimators=10, learning_rate=0.1, random_state=0)
        model.fit(features, y)
        params[name] = model.predict_dist(X.astype(np.float64)).params
    np.testing.assert_array_equal(params["float32"], params["float64"])
    np.testing.assert_array_equal(params["mmap"], params["float64"])


def test_equal_loss_weights_are_kept_as_one_value_with_the_same_numbers():
    # Equal weights (unit weights, the common case) reach the compiled stage kernels as one
    # value, not an (n,) array: the loss, the line search's row pass and its per-leaf sums
    # must be the numbers of the per-row array bit for bit (rows past one 4096-row block).
    from natgrad.boosting._training.computers import stage_computer
    from natgrad.boosting._training.stage import fused_stage
    from natgrad.distributions import Normal
    from natgrad.scores import LogScore

    rng = np.random.default_rng(3)
    n, n_leaves = 9000, 5
    y = rng.normal(size=n)
    theta = np.asfortranarray(np.c_[rng.normal(size=n), 0.3 * rng.normal(size=n)])
    index = rng.integers(0, n_leaves, size=n).astype(np.int32)
    values = rng.normal(size=(n_leaves, 2))
    per_row = fused_stage(Normal, LogScore(), {}, y, np.full(n, 1.0) / n)
    one = fused_stage(Normal, LogScore(), {}, y, np.full(1, 1.0) / n)
    assert per_row is not None and one is not None and one.weights.shape == (1,)
    assert one.set_params(theta) == per_row.set_params(theta)
    assert one.loss_along(theta, values, index, 0.7) == per_row.loss_along(
        theta, values, index, 0.7
    )
    np.testing.assert_array_equal(
        one.leaf_stats(theta, index, n_leaves), per_row.leaf_stats(theta, index, n_leaves)
    )
    with pytest.raises(ValueError, match="'weights' argument of fused_stage"):
        fused_stage(Normal, LogScore(), {}, y, np.ones(2))
    # The trainer's path: unit weights (a read-only view of one value) and equal weights
    # become one value; unequal weights stay per row.
    template = Normal.from_params(np.zeros((1, 2)))
    for w, size in ((np.broadcast_to(1.0, (n,)), 1), (np.full(n, 2.5), 1), (rng.random(n), n)):
        computer = stage_computer(
            Normal, LogScore(), {}, template, y, w, row_weight=None, fisher_leaves=True
        )
        assert computer.fused.weights.shape == (size,)
