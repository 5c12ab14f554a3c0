"""Pickles of the NGBoost estimators written before ``_estimators`` was split into
``_mapping``, ``_base`` and ``_estimators`` name the mapping's classes in ``_estimators``."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from natgrad.compat.ngboost import NGBRegressor, NGBSurvival

_NEW = b"natgrad.compat.ngboost._mapping\n"
_OLD = b"natgrad.compat.ngboost._estimators\n"


def _as_old_pickle(obj: object) -> bytes:
    """``obj`` pickled with protocol 2 (classes named by "module\\nname\\n" lines), the
    mapping's module replaced by the one that held its classes before the split."""
    data = pickle.dumps(obj, protocol=2)
    assert _NEW in data
    return data.replace(_NEW, _OLD)


def _data(n: int = 120) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 2))
    return X, np.exp(0.5 * X[:, 0] + 0.3 * rng.normal(size=n))


@pytest.mark.parametrize("natural_gradient", [True, False])
def test_an_old_regressor_pickle_loads_and_predicts_the_same(natural_gradient):
    X, y = _data()
    model = NGBRegressor(
        n_estimators=5, natural_gradient=natural_gradient, random_state=0, verbose=False
    ).fit(X, y)
    data = _as_old_pickle(model)
    assert _OLD + b"_Spec" in data
    if not natural_gradient:
        assert _OLD + b"_IdentityMetric" in data
    loaded = pickle.loads(data)
    assert type(loaded) is NGBRegressor
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_an_old_euclidean_survival_pickle_loads_and_predicts_the_same():
    X, t = _data()
    event = (np.arange(t.size) % 3 != 0).astype(int)
    model = NGBSurvival(n_estimators=5, natural_gradient=False, random_state=0, verbose=False)
    model.fit(X, t, event)
    data = _as_old_pickle(model)
    assert _OLD + b"_EuclideanCensoredLogScore" in data
    loaded = pickle.loads(data)
    np.testing.assert_array_equal(loaded.pred_dist(X).params["s"], model.pred_dist(X).params["s"])
