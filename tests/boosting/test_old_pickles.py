"""Pickles written before the restructure name the old module paths (`natgrad._moved`)."""

from __future__ import annotations

import importlib
import pickle

import numpy as np
import pytest

from natgrad import NGBoostRegressor, NGBoostSurvival
from natgrad._moved import MOVED


def _as_old_pickle(obj: object) -> bytes:
    """``obj`` pickled as natgrad before the restructure wrote it: protocol 2 names each
    class by a text line "module\\nname\\n", which is replaced by the old module's."""
    data = pickle.dumps(obj, protocol=2)
    for old, new in MOVED.items():
        data = data.replace(f"\nc{new}\n".encode(), f"\nc{old}\n".encode())
        data = data.replace(f"c{new}\n".encode(), f"c{old}\n".encode())
    return data


def _data(n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    return X, np.exp(X[:, 0] + 0.3 * rng.normal(size=n))


def test_the_test_pickle_names_only_old_paths():
    X, y = _data()
    data = _as_old_pickle(NGBoostRegressor(n_estimators=3, random_state=0).fit(X, y))
    assert b"natgrad.boosting._estimator\nNGBoostRegressor" in data
    assert b"natgrad.boosting._models\nNativeModel" in data
    assert b"natgrad.boosting._binning\nBinMapper" in data
    for new in MOVED.values():
        assert f"{new}\n".encode() not in data


@pytest.mark.parametrize("learner", ["native", "external"])
def test_an_old_regressor_pickle_loads_and_predicts_the_same(learner):
    from sklearn.tree import DecisionTreeRegressor

    X, y = _data()
    base = None if learner == "native" else DecisionTreeRegressor(max_depth=2, random_state=0)
    model = NGBoostRegressor("lognormal", n_estimators=5, base_learner=base, random_state=0)
    model.fit(X, y)
    loaded = pickle.loads(_as_old_pickle(model))
    assert type(loaded) is NGBoostRegressor
    np.testing.assert_array_equal(loaded.predict_dist(X).params, model.predict_dist(X).params)


def test_an_old_survival_pickle_with_its_scoring_rule_loads():
    from natgrad.scores import CensoredLogScore

    X, t = _data()
    event = np.arange(t.size) % 3 != 0
    model = NGBoostSurvival(scoring_rule=CensoredLogScore(), n_estimators=3, random_state=0)
    model.fit(X, t, event)
    data = _as_old_pickle(model)
    assert b"natgrad._censored\nCensoredLogScore" in data
    loaded = pickle.loads(data)
    assert type(loaded.scoring_rule) is CensoredLogScore
    np.testing.assert_array_equal(loaded.predict_dist(X).params, model.predict_dist(X).params)


def test_old_module_names_are_aliases_of_the_new_modules():
    old = importlib.import_module("natgrad.boosting._estimator")
    assert old.NGBoostRegressor is NGBoostRegressor
    with pytest.raises(AttributeError):
        old.no_such_name  # noqa: B018
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("natgrad.boosting._no_such_module")
