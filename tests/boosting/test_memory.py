"""The fit reads a float32 or memory-mapped X as it is: no float64 copy, the same bins."""

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
