"""The safe model file format: exact round trips, atomic writes, and every kind of damage."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import struct

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.tree import DecisionTreeRegressor

from natgrad import io
from natgrad.boosting import NGBoostRegressor
from natgrad.io import MAGIC, ModelFileError


def _data(n=300, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    X[rng.random((n, d)) < 0.1] = np.nan  # missing values take the learned side
    y = 2.0 * np.nan_to_num(X[:, 0]) + np.exp(0.5 * np.nan_to_num(X[:, 1])) * rng.normal(size=n)
    return X, y


@pytest.fixture(scope="module")
def fitted():
    import pandas as pd

    X, y = _data()
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    model = NGBoostRegressor(n_estimators=25, learning_rate=0.2, random_state=0)
    model.fit(frame[:240], y[:240], eval_set=(frame[240:], y[240:]))
    return model, frame


@pytest.fixture(scope="module")
def blob(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "m.ngm"
    io.save(fitted[0], path, metadata={"target": "y"})
    return path.read_bytes()


def _same(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


# ------------------------------------------------------------------------------ round trips
def test_round_trip_is_bit_for_bit(fitted, tmp_path):
    model, X = fitted
    path = io.save(model, tmp_path / "m.ngm")
    loaded = io.load(path)
    assert type(loaded) is NGBoostRegressor
    assert loaded.get_params() == model.get_params()
    assert _same(loaded.predict_dist(X).params, model.predict_dist(X).params)
    assert _same(loaded.predict(X), model.predict(X))
    for k in (0, 3, model.n_estimators_):
        assert _same(loaded.predict_dist(X, k).params, model.predict_dist(X, k).params)
    for a, b in zip(loaded.staged_predict_dist(X), model.staged_predict_dist(X), strict=True):
        assert _same(a.params, b.params)
    assert _same(loaded.feature_importances_, model.feature_importances_)
    assert _same(loaded.train_loss_, model.train_loss_)
    assert np.array_equal(loaded.validation_loss_, model.validation_loss_, equal_nan=True)
    assert loaded.best_iteration_ == model.best_iteration_ < model.n_estimators_
    assert list(loaded.feature_names_in_) == ["a", "b", "c", "d"]
    # the training bins are rebuilt too
    Xn = X.to_numpy()
    assert _same(loaded._model_.mapper.transform(Xn), model._model_.mapper.transform(Xn))
    assert _same(loaded._model_.ensemble.apply(Xn), model._model_.ensemble.apply(Xn))


def test_file_is_deterministic_and_reloads_to_the_same_bytes(fitted, blob, tmp_path):
    loaded = io.load(_write(tmp_path, blob))
    again = io.save(loaded, tmp_path / "again.ngm", metadata={"target": "y"})
    assert again.read_bytes() == blob


@pytest.mark.parametrize(
    ("family", "config"),
    [("student_t", {"fixed_df": 3.0}), ("gamma", None), ("poisson", None), ("laplace", None)],
)
def test_round_trip_other_families_without_feature_names(family, config, tmp_path):
    X, y = _data(n=150, seed=1)
    y = np.abs(np.round(y)) + (1.0 if family == "gamma" else 0.0)
    model = NGBoostRegressor(
        family, distribution_config=config, n_estimators=5, random_state=np.random.RandomState(0)
    ).fit(X, y)
    loaded = io.load(io.save(model, tmp_path / "m.ngm"))
    assert _same(loaded.predict_dist(X).params, model.predict_dist(X).params)
    assert loaded._template_.config == model._template_.config
    assert not hasattr(loaded, "feature_names_in_")
    assert loaded.random_state is None  # a RandomState has no JSON form; documented


def test_loaded_model_pickles(fitted, blob, tmp_path):
    loaded = io.load(_write(tmp_path, blob))
    X = fitted[1]
    again = pickle.loads(pickle.dumps(loaded))
    assert _same(again.predict(X), fitted[0].predict(X))


def test_metadata_and_header(blob, tmp_path):
    header = io.read_header(_write(tmp_path, blob))
    assert header["metadata"] == {"target": "y"}
    assert header["estimator"] == "NGBoostRegressor"
    assert header["distribution"] == {"name": "normal", "config": {}}
    assert blob[:8] == MAGIC
    assert struct.unpack_from("<I", blob, 8)[0] == io.FORMAT_VERSION


# ------------------------------------------------------------------------------ saving
def test_save_is_atomic_and_leaves_no_temporary_file(fitted, tmp_path):
    path = tmp_path / "m.ngm"
    io.save(fitted[0], path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.ngm"]
    before = path.read_bytes()
    other = NGBoostRegressor(n_estimators=2).fit(*_data(n=60))
    with pytest.MonkeyPatch.context() as mp:
        # Interrupted right before the rename: the old file stays whole, no temp is left.
        def interrupted(src, dst):
            raise KeyboardInterrupt

        mp.setattr(io.os, "replace", interrupted)
        with pytest.raises(KeyboardInterrupt):
            io.save(other, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.ngm"]


def test_save_rejects_external_learner_unfitted_and_foreign_models(tmp_path):
    X, y = _data(n=80)
    external = NGBoostRegressor(
        n_estimators=2, base_learner=DecisionTreeRegressor(max_depth=2)
    ).fit(X, y)
    with pytest.raises(ValueError, match="native tree learner.*pickle or joblib"):
        io.save(external, tmp_path / "m.ngm")
    with pytest.raises(NotFittedError):
        io.save(NGBoostRegressor(), tmp_path / "m.ngm")
    with pytest.raises(TypeError, match="NGBoostRegressor"):
        io.save(DecisionTreeRegressor(), tmp_path / "m.ngm")
    model = NGBoostRegressor(n_estimators=2).fit(X, y)
    with pytest.raises(ValueError, match="metadata"):
        io.save(model, tmp_path / "m.ngm", metadata={"bad": object()})
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------ damage
def _write(tmp_path, data, name="m.ngm"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _expect_error(tmp_path, data, match):
    path = _write(tmp_path, data, "bad.ngm")
    with pytest.raises(ModelFileError, match=match or None) as info:
        io.load(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)
    assert str(pickle.loads(pickle.dumps(info.value))) == str(info.value)
    return info.value


def _reseal(body: bytes) -> bytes:
    return body + hashlib.sha256(body).digest()


def _parts(blob):
    _, _, _, n_head, n_body = struct.unpack_from("<8sIIQQ", blob)
    header = json.loads(blob[32 : 32 + n_head])
    return header, blob[32 + n_head : 32 + n_head + n_body]


def _rebuild(header, body, version=1):
    head = json.dumps(header).encode()
    return _reseal(struct.pack("<8sIIQQ", MAGIC, version, 0, len(head), len(body)) + head + body)


def test_wrong_magic(blob, tmp_path):
    _expect_error(tmp_path, b"X" + blob[1:], "not a natgrad model file")
    _expect_error(tmp_path, b"cement,slag\n1,2\n", "not a natgrad model file")
    _expect_error(tmp_path, b"", "not a natgrad model file")
    _expect_error(tmp_path, pickle.dumps({"a": 1}), "not a natgrad model file")


def test_unsupported_version(blob, tmp_path):
    header, body = _parts(blob)
    newer = _rebuild(header, body, version=io.FORMAT_VERSION + 1)
    error = _expect_error(tmp_path, newer, f"unsupported format version {io.FORMAT_VERSION + 1}")
    assert "newer natgrad" in str(error)
    data = bytearray(blob)
    data[8:12] = struct.pack("<I", 0)
    _expect_error(tmp_path, bytes(data), "unsupported format version 0")


@pytest.mark.parametrize("cut", [3, 8, 20, 32, 33, 200, 0.5, -33, -32, -1])
def test_truncated(blob, tmp_path, cut):
    end = int(len(blob) * cut) if isinstance(cut, float) else cut
    _expect_error(tmp_path, blob[:end], "truncated")


def test_padded(blob, tmp_path):
    _expect_error(tmp_path, blob + b"\0", "corrupt")


@pytest.mark.parametrize("where", [0, 7, 9, 14, 18, 27, 40, 0.3, 0.6, 0.9, -5])
def test_bit_flip(blob, tmp_path, where):
    i = int(len(blob) * where) if isinstance(where, float) else where % len(blob)
    data = bytearray(blob)
    data[i] ^= 0x10
    _expect_error(tmp_path, bytes(data), "")


def test_bit_flips_in_contents_fail_the_checksum(blob, tmp_path):
    for i in (40, len(blob) // 2, len(blob) - 40):
        data = bytearray(blob)
        data[i] ^= 0x01
        _expect_error(tmp_path, bytes(data), "checksum")


def test_tampered_json_fails_the_checksum(blob, tmp_path):
    text = blob.replace(b'"learning_rate":0.2', b'"learning_rate":0.9')
    assert text != blob and len(text) == len(blob)
    _expect_error(tmp_path, text, "checksum")


# A file crafted with a valid checksum still has to describe a consistent model.
@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda h, a: h.update(estimator="os.system"), "unknown estimator class 'os.system'"),
        (lambda h, a: h["distribution"].update(name="evil"), "unknown distribution family"),
        (lambda h, a: h["distribution"].update(name="multivariate_normal"), "differs from"),
        (lambda h, a: h["distribution"].update(config={"bogus": 1}), "invalid distribution"),
        (lambda h, a: h["params"].update(nonsense=1), "unknown hyper-parameter"),
        (lambda h, a: h["params"].update(learning_rate=-1.0), "invalid hyper-parameters"),
        (lambda h, a: h.update(best_iteration_=10**6), "exceeds"),
        (lambda h, a: h.update(n_params=3), "shape"),
        (lambda h, a: h.update(n_features_in=7), "list of 7 strings"),
        (lambda h, a: h.update(n_features_in=7, feature_names_in=None), "shape"),
        (lambda h, a: h["arrays"]["node_value"].update(shape=[1, 2]), "bytes do not fit"),
        (lambda h, a: h["arrays"]["scales"].update(dtype="<f4"), "dtype"),
        (lambda h, a: h["arrays"].pop("node_gain"), "missing"),
        (lambda h, a: h["arrays"]["node_left"].update(offset=10**9), "past the end"),
        (lambda h, a: h["arrays"]["scales"].update(offset=0), "overlap"),
        (lambda h, a: h.pop("estimator"), "no 'estimator' entry"),
        (lambda h, a: h.update(format="other"), "not a natgrad model header"),
    ],
)
def test_crafted_header_is_rejected(blob, tmp_path, edit, match):
    header, body = _parts(blob)
    edit(header, None)
    _expect_error(tmp_path, _rebuild(header, body), match)


def _with_array(blob, name, change):
    header, body = _parts(blob)
    spec = header["arrays"][name]
    arr = np.frombuffer(body, spec["dtype"], int(np.prod(spec["shape"])), spec["offset"]).copy()
    change(arr)
    body = bytearray(body)
    body[spec["offset"] : spec["offset"] + spec["nbytes"]] = arr.tobytes()
    return _rebuild(header, bytes(body))


@pytest.mark.parametrize(
    ("name", "change", "match"),
    [
        ("node_left", lambda a: a.__setitem__(0, 0), "malformed"),  # a loop to the root
        ("node_right", lambda a: a.__setitem__(0, 10**6), "malformed"),
        ("node_feature", lambda a: a.__setitem__(0, 99), "feature outside"),
        ("node_missing_go_left", lambda a: a.__setitem__(0, 7), "other than 0 and 1"),
        ("tree_offsets", lambda a: a.__setitem__(1, 0), "offsets"),
        ("bin_counts", lambda a: a.__setitem__(0, 0), "bin"),
        ("bin_thresholds", lambda a: a.__setitem__(slice(0, 2), [1.0, 0.0]), "not increasing"),
        ("init_params", lambda a: a.__setitem__(0, np.nan), "finite"),
    ],
)
def test_crafted_arrays_are_rejected(blob, tmp_path, name, change, match):
    _expect_error(tmp_path, _with_array(blob, name, change), match)


def test_unchanged_rebuild_loads(blob, tmp_path):
    # The helpers above only damage what each case names.
    header, body = _parts(blob)
    assert io.load(_write(tmp_path, _rebuild(header, body))).n_estimators_ == 25
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


# ------------------------------------------------------------------ classifier and survival
@pytest.mark.parametrize(
    "labels",
    [
        np.array(["a", "b", "c"]),
        np.array(["a", "b"], dtype=object),
        np.array([False, True]),
        np.array([-1, 2, 7], dtype=np.int32),
        np.array([1.0, 2.0]),
    ],
)
def test_classifier_round_trip(tmp_path, labels):
    from natgrad.boosting import NGBoostClassifier

    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 3))
    y = labels[rng.integers(0, labels.size, 120)]
    model = NGBoostClassifier(n_estimators=4, learning_rate=0.3).fit(X, y)
    io.save(model, tmp_path / "c.ngm")
    loaded = io.load(tmp_path / "c.ngm")
    assert loaded.classes_.dtype == model.classes_.dtype
    np.testing.assert_array_equal(loaded.classes_, model.classes_)
    assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert io.read_header(tmp_path / "c.ngm")["task"] == "classification"


def test_classifier_object_labels_rejected(tmp_path):
    from natgrad.boosting import NGBoostClassifier

    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 2))
    model = NGBoostClassifier(n_estimators=2).fit(X, rng.integers(0, 2, 60))
    model.classes_ = np.empty(2, dtype=object)
    model.classes_[:] = [(0, 1), (1, 2)]
    with pytest.raises(TypeError, match="int, float, str or bool"):
        io.save(model, tmp_path / "c.ngm")
    assert not (tmp_path / "c.ngm").exists()


@pytest.mark.parametrize("metric", [None, "fisher"])
def test_survival_round_trip(tmp_path, metric):
    from natgrad.boosting import NGBoostSurvival
    from natgrad.scores import CensoredLogScore

    rng = np.random.default_rng(2)
    X = rng.normal(size=(150, 2))
    t = rng.exponential(size=150) * np.exp(X[:, 0])
    e = (rng.random(150) < 0.7).astype(float)
    rule = "log" if metric is None else CensoredLogScore(metric=metric)
    model = NGBoostSurvival("weibull", n_estimators=4, learning_rate=0.3, scoring_rule=rule)
    model.fit(X, t, e)
    io.save(model, tmp_path / "s.ngm")
    loaded = io.load(tmp_path / "s.ngm")
    assert loaded._score_rule == model._score_rule and loaded.scoring_rule == model.scoring_rule
    assert np.array_equal(loaded.predict(X), model.predict(X))
    times = [0.3, 1.0, 4.0]
    assert np.array_equal(
        loaded.predict_survival_function(X, times), model.predict_survival_function(X, times)
    )
    assert io.read_header(tmp_path / "s.ngm")["score"]["config"]["metric"] == (metric or "censored")


def test_version_1_regressor_still_loads(blob, tmp_path):
    header, body = _parts(blob)
    header.pop("task", None)
    path = tmp_path / "v1.ngm"
    path.write_bytes(_rebuild(header, body, version=1))
    assert type(io.load(path)).__name__ == "NGBoostRegressor"
