"""Per-parameter TreeSHAP: exact against a brute-force Shapley sum, local accuracy, axioms,
node covers in the model (and its file), bad input."""

from __future__ import annotations

import hashlib
import json
import math
import struct
import sys
import types
from itertools import combinations

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.tree import DecisionTreeRegressor

from natgrad import io
from natgrad.boosting import NGBoostClassifier, NGBoostRegressor, NGBoostSurvival
from natgrad.boosting._hist.common import Tree
from natgrad.boosting._hist.predictor import Ensemble
from natgrad.boosting._hist.shap import ensemble_shap

SMALL = {"n_estimators": 4, "learning_rate": 0.5, "max_depth": 3, "min_samples_leaf": 3}


def _data(n=200, d=5, seed=0, nan=0.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X[:, 0] + 0.5 * X[:, 1] * X[:, 2] + np.exp(0.4 * X[:, 3]) * rng.normal(size=n)
    if nan:
        X[rng.random(X.shape) < nan] = np.nan
    return X, y


# ------------------------------------------------------------------- brute-force reference
def _route_left(ens, j, x):
    v = x[ens.feature[j]]
    if np.isnan(v):
        return bool(ens.missing_go_left[j])
    if ens.cat_index[j] >= 0:  # category set: bit v of the node's 256-bit set
        if v != int(v) or not 0 <= v < 256:
            return bool(ens.missing_go_left[j])
        word = int(ens.cat_bitsets[ens.cat_index[j], int(v) // 32])
        return bool((word >> (int(v) % 32)) & 1)
    return bool(v <= ens.threshold[j])


def _conditional(ens, j, x, known):
    """E[f(x) | x_known] of the subtree at node j, unknown features averaged by cover."""
    if ens.left[j] == -1:
        return ens.value[j].copy()
    a, b = ens.left[j], ens.right[j]
    if ens.feature[j] in known:
        return _conditional(ens, a if _route_left(ens, j, x) else b, x, known)
    c = ens.cover
    return (c[a] * _conditional(ens, a, x, known) + c[b] * _conditional(ens, b, x, known)) / c[j]


def brute_force_shap(ens, x, n_trees):
    """Shapley values of every feature for ``sum_t scale_t v_t(S)``, all 2^d coalitions."""
    d, p = ens.n_features, ens.n_params
    phi = np.zeros((d, p))
    base = np.zeros(p)
    for t in range(n_trees):
        root, s = ens.tree_offsets[t], ens.scales[t]
        v = {
            S: _conditional(ens, root, x, set(S))
            for r in range(d + 1)
            for S in combinations(range(d), r)
        }
        base += s * v[()]
        for i in range(d):
            others = [j for j in range(d) if j != i]
            for r in range(d):
                weight = math.factorial(r) * math.factorial(d - r - 1) / math.factorial(d)
                for S in combinations(others, r):
                    with_i = tuple(sorted((*S, i)))
                    phi[i] += s * weight * (v[with_i] - v[S])
    return phi, base


def S(feature, threshold, missing_go_left, cover, left, right):  # noqa: N802
    """A split node: ``x[feature] <= threshold`` goes left, NaN left iff missing_go_left."""
    return (feature, threshold, missing_go_left, cover, left, right)


def L(value, cover):  # noqa: N802
    """A leaf node with its vector value and cover."""
    return (value, cover)


def _tree(spec, p):
    """A `Tree` from nested tuples: ``(feature, threshold, missing_go_left, cover, left,
    right)`` for a split, ``(value list, cover)`` for a leaf (preorder numbering)."""
    rows = []

    def add(node):
        i = len(rows)
        rows.append(None)
        if len(node) == 2:
            rows[i] = (-1, np.nan, False, -1, -1, node[0], node[1])
        else:
            f, thr, mgl, cover, a, b = node
            left = add(a)
            right = add(b)
            rows[i] = (f, thr, mgl, left, right, [0.0] * p, cover)
        return i

    add(spec)
    m = len(rows)
    col = list(zip(*rows, strict=True))
    left = np.array(col[3], dtype=np.int32)
    leaves = np.flatnonzero(left < 0).astype(np.int32)
    value = np.array(col[5], dtype=float).reshape(m, p)
    return Tree(
        feature=np.array(col[0], dtype=np.int32),
        bin_threshold=np.zeros(m, dtype=np.uint8),
        threshold=np.array(col[1], dtype=float),
        missing_go_left=np.array(col[2], dtype=bool),
        left=left,
        right=np.array(col[4], dtype=np.int32),
        value=value,
        gain=np.zeros((m, p)),
        split_gain=np.zeros(m),
        count=np.array(col[6], dtype=np.int64),
        depth=np.zeros(m, dtype=np.int32),
        leaf_index=leaves,
        leaf_values=value[leaves],
    )


# --------------------------------------------------------------------- exactness (small)
@pytest.fixture(scope="module")
def small_models():
    X, y = _data(n=150, d=6, seed=1, nan=0.1)
    reg = NGBoostRegressor(**SMALL, subsample=0.8, random_state=0).fit(X, y)
    labels = np.digitize(np.nan_to_num(X[:, 0] + X[:, 1]), [-0.5, 0.5])
    clf = NGBoostClassifier(**SMALL, random_state=0).fit(X, labels)
    return X, {"regressor": reg, "classifier": clf}


@pytest.mark.parametrize("kind", ["regressor", "classifier"])
def test_matches_brute_force_shapley_on_small_models(small_models, kind):
    X, models = small_models
    model = models[kind]
    ens = model._model_.ensemble
    assert ens.n_trees == 4 and model.n_features_in_ == 6
    rows = X[:8]
    assert np.isnan(rows).any()  # missing values follow missing_go_left in both
    sv = model.shap_values(rows)
    for i, x in enumerate(rows):
        phi, base = brute_force_shap(ens, x, 4)
        np.testing.assert_allclose(sv.values[i], phi, rtol=0, atol=1e-12)
        np.testing.assert_allclose(sv.base_values, model.init_params_[0] + base, atol=1e-12)


def test_brute_force_on_constructed_trees_with_repeated_features():
    # Feature 0 splits twice on one path (TreeSHAP's unwind), feature 2 twice in tree 2,
    # missing values go right at the root; uneven covers.
    t1 = S(0, 0.0, False, 100,
           S(0, -1.0, True, 60, L([1.0, -2.0], 25),
             S(1, 0.5, False, 35, L([3.0, 0.5], 20), L([-1.0, 4.0], 15))),
           S(2, 1.0, True, 40, L([0.5, 0.0], 30),
             S(0, 2.0, False, 10, L([2.0, 1.0], 4), L([-3.0, 2.0], 6))))  # fmt: skip
    t2 = S(2, 0.3, True, 50,
           S(3, -0.2, False, 30, L([0.2, 1.0], 10),
             S(2, -1.0, True, 20, L([1.5, -1.0], 12), L([0.0, 2.0], 8))),
           L([-0.7, 0.3], 20))  # fmt: skip
    ens = Ensemble(2, 4)
    ens.append(_tree(t1, 2), -0.3)
    ens.append(_tree(t2, 2), 0.7)
    rng = np.random.default_rng(3)
    X = rng.normal(size=(30, 4)) * 1.5
    X[rng.random(X.shape) < 0.2] = np.nan
    values, mean = ensemble_shap(ens, X)
    for i, x in enumerate(X):
        phi, base = brute_force_shap(ens, x, 2)
        np.testing.assert_allclose(values[i], phi, rtol=0, atol=1e-12)
        np.testing.assert_allclose(mean, base, atol=1e-12)
    np.testing.assert_allclose(values.sum(axis=1) + mean, ens.predict_raw(X), atol=1e-12)


def test_symmetric_features_share_equally():
    # f = 1 when x0 > 0 and x1 > 0 (both halves equally covered): v(∅) = 1/4, v({0}) =
    # v({1}) = 1/2, v({0, 1}) = 1, so x = (1, 1) gives each feature (1/2 - 1/4 + 1 - 1/2)/2.
    tree = S(0, 0.0, False, 100,
             S(1, 0.0, False, 50, L([0.0, 0.0], 25), L([0.0, 0.0], 25)),
             S(1, 0.0, False, 50, L([0.0, 0.0], 25), L([1.0, -2.0], 25)))  # fmt: skip
    ens = Ensemble(2, 3)
    ens.append(_tree(tree, 2), 1.0)
    values, mean = ensemble_shap(ens, np.array([[1.0, 1.0, 5.0], [-1.0, -1.0, 0.0]]))
    np.testing.assert_array_equal(mean, [0.25, -0.5])
    np.testing.assert_allclose(values[0, :2], [[0.375, -0.75], [0.375, -0.75]], atol=1e-15)
    np.testing.assert_allclose(values[1, :2], [[-0.125, 0.25], [-0.125, 0.25]], atol=1e-15)
    assert (values[:, 2] == 0).all()  # never split on


def test_categorical_splits_match_brute_force():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(5)
    c = rng.choice(np.array(list("abcdef")), 300)
    x = rng.normal(size=(300, 2))
    y = np.where(np.isin(c, ["a", "c", "e"]), 1.5, -1.0) + x[:, 0] + rng.normal(size=300)
    frame = pd.DataFrame({"c": pd.Categorical(c), "u": x[:, 0], "v": x[:, 1]})
    model = NGBoostRegressor(**SMALL, random_state=0).fit(frame, y)
    ens = model._model_.ensemble
    assert (ens.cat_index >= 0).any()
    rows = frame.iloc[:10].copy()
    rows["c"] = pd.Categorical(["z", None, *c[2:10]])  # unseen and missing categories
    sv = _check_local_accuracy(model, rows)
    for i, xi in enumerate(sv.data):
        phi, _ = brute_force_shap(ens, xi, 4)
        np.testing.assert_allclose(sv.values[i], phi, rtol=0, atol=1e-12)


# ------------------------------------------------------------------------ local accuracy
def _check_local_accuracy(model, X, n_stages=None):
    sv = model.shap_values(X, n_stages)
    raw = model.predict_dist(X, n_stages).params
    assert sv.values.shape == (X.shape[0], X.shape[1], raw.shape[1])
    np.testing.assert_allclose(sv.values.sum(axis=1) + sv.base_values, raw, rtol=0, atol=1e-10)
    return sv


@pytest.mark.parametrize(
    ("family", "config", "names"),
    [
        ("normal", None, ("loc", "log_scale")),
        ("student_t", None, ("loc", "log_scale", "log_df")),
    ],
)
def test_local_accuracy_regressor(family, config, names):
    X, y = _data(nan=0.15)
    model = NGBoostRegressor(
        family, distribution_config=config, n_estimators=40, learning_rate=0.1, random_state=0
    ).fit(X, y)
    sv = _check_local_accuracy(model, X)
    assert sv.param_names == names
    assert sv.feature_names == [f"x{j}" for j in range(5)]
    # The model does move both location and scale through the features.
    assert np.abs(sv.values).sum(axis=(0, 1)).min() > 0


def test_local_accuracy_with_sample_weights_and_subsample():
    X, y = _data(nan=0.1)
    w = np.random.default_rng(2).uniform(0.2, 3.0, size=len(y))
    model = NGBoostRegressor(
        n_estimators=40, learning_rate=0.1, subsample=0.6, colsample=0.8, random_state=0
    ).fit(X, y, sample_weight=w)
    _check_local_accuracy(model, X)
    # Covers are the stage's rows: the root of every tree saw round(0.6 n) of them.
    ens = model._model_.ensemble
    assert (ens.cover[ens.tree_offsets[:-1]] == 120).all()


def test_deep_best_first_trees_on_few_features():
    # Paths far longer than the number of features: repeated features unwind at every level.
    X, y = _data(n=400, d=4, nan=0.05)
    X, y = X[:, :2], y + np.sin(3 * np.nan_to_num(X[:, 0]))
    model = NGBoostRegressor(
        n_estimators=10, learning_rate=0.3, max_depth=None, max_leaves=40, min_samples_leaf=2
    ).fit(X, y)
    ens = model._model_.ensemble
    depth = np.zeros(len(ens.left), dtype=int)
    for j in np.flatnonzero(ens.left >= 0):
        depth[[ens.left[j], ens.right[j]]] = depth[j] + 1
    assert depth.max() >= 8
    _check_local_accuracy(model, X)
    sv = model.shap_values(X[:5])
    for i, x in enumerate(X[:5]):
        np.testing.assert_allclose(sv.values[i], brute_force_shap(ens, x, 10)[0], atol=1e-12)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_local_accuracy_classifier(n_classes):
    X, _ = _data(nan=0.1)
    labels = np.array(list("abc"))[np.digitize(np.nan_to_num(X[:, 0]), [-0.4, 0.4])]
    labels = labels if n_classes == 3 else np.where(labels == "c", "b", labels)
    model = NGBoostClassifier(n_estimators=30, learning_rate=0.2, random_state=0).fit(X, labels)
    sv = _check_local_accuracy(model, X)
    assert sv.param_names == (("logit",) if n_classes == 2 else ("logit_1", "logit_2"))


def test_local_accuracy_survival():
    rng = np.random.default_rng(4)
    X = rng.uniform(-1, 1, size=(200, 3))
    t = np.exp(1.0 + X[:, 0] + 0.5 * rng.standard_normal(200))
    c = rng.uniform(0, 8, size=200)
    model = NGBoostSurvival(n_estimators=30, learning_rate=0.1, random_state=0)
    model.fit(X, np.minimum(t, c), (t <= c).astype(float))
    sv = _check_local_accuracy(model, X)
    assert sv.param_names == model._template_.param_names


def test_n_stages_and_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = _data(nan=0.1)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d", "e"])
    model = NGBoostRegressor(n_estimators=20, learning_rate=0.2, random_state=0).fit(frame, y)
    full = _check_local_accuracy(model, frame)
    part = _check_local_accuracy(model, frame, n_stages=7)
    assert full.feature_names == ["a", "b", "c", "d", "e"]
    assert not np.allclose(full.values, part.values)
    none = model.shap_values(frame, n_stages=0)
    assert (none.values == 0).all()
    np.testing.assert_array_equal(none.base_values, model.init_params_[0])
    with pytest.raises(ValueError, match="'n_stages' argument .* must be an integer in"):
        model.shap_values(frame, n_stages=21)


def test_dummy_feature_gets_exactly_zero():
    X, y = _data(nan=0.1)
    X[:, 2] = 3.0  # constant: no split can use it
    model = NGBoostRegressor(n_estimators=30, learning_rate=0.2, random_state=0).fit(X, y)
    sv = model.shap_values(X)
    assert (sv.values[:, 2, :] == 0.0).all()
    assert (np.abs(sv.values[:, 0, :]).max(axis=0) > 0).all()


def test_covers_are_training_row_counts():
    X, y = _data()
    # Every row in every tree (the regressor subsamples rows by default).
    model = NGBoostRegressor(n_estimators=5, learning_rate=0.2, subsample=1.0).fit(X, y)
    ens = model._model_.ensemble
    internal = np.flatnonzero(ens.left >= 0)
    np.testing.assert_array_equal(
        ens.cover[internal], ens.cover[ens.left[internal]] + ens.cover[ens.right[internal]]
    )
    assert (ens.cover[ens.tree_offsets[:-1]] == len(y)).all()
    # Each leaf's cover is the number of training rows that reach it.
    leaves = ens.apply(X)
    for t in range(ens.n_trees):
        nodes = np.flatnonzero(ens.leaf_id >= 0)
        nodes = nodes[(nodes >= ens.tree_offsets[t]) & (nodes < ens.tree_offsets[t + 1])]
        counts = np.bincount(leaves[:, t], minlength=nodes.size)
        np.testing.assert_array_equal(ens.cover[nodes], counts[ens.leaf_id[nodes]])


# ------------------------------------------------------------------------ files, errors
def _reseal_without_cover(blob: bytes) -> bytes:
    """The same model file as an older natgrad wrote it: no node_cover array."""
    _, version, _, n_head, n_body = struct.unpack_from("<8sIIQQ", blob)
    header = json.loads(blob[32 : 32 + n_head])
    body = blob[32 + n_head : 32 + n_head + n_body]
    header["arrays"].pop("node_cover")
    head = json.dumps(header).encode()
    data = struct.pack("<8sIIQQ", io.MAGIC, version, 0, len(head), len(body)) + head + body
    return data + hashlib.sha256(data).digest()


def test_save_load_round_trip_and_older_files(tmp_path):
    X, y = _data(nan=0.1)
    model = NGBoostRegressor(n_estimators=20, learning_rate=0.2, random_state=0).fit(X, y)
    model.save(tmp_path / "m.ngm")
    loaded = io.load(tmp_path / "m.ngm")
    a, b = model.shap_values(X), loaded.shap_values(X)
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.base_values, b.base_values)

    old = tmp_path / "old.ngm"
    old.write_bytes(_reseal_without_cover((tmp_path / "m.ngm").read_bytes()))
    legacy = io.load(old)
    np.testing.assert_array_equal(legacy.predict_dist(X).params, model.predict_dist(X).params)
    with pytest.raises(ValueError, match="saved by an older natgrad version. Refit"):
        legacy.shap_values(X)
    # Saving it again keeps it loadable (still without covers).
    legacy.save(tmp_path / "again.ngm")
    assert "node_cover" not in io.read_header(tmp_path / "again.ngm")["arrays"]


def test_crafted_cover_is_rejected(tmp_path):
    X, y = _data()
    model = NGBoostRegressor(n_estimators=3, random_state=0).fit(X, y)
    blob = bytearray(io.save(model, tmp_path / "m.ngm").read_bytes())
    n_head = struct.unpack_from("<8sIIQQ", blob)[3]
    spec = json.loads(blob[32 : 32 + n_head])["arrays"]["node_cover"]
    at = 32 + n_head + spec["offset"]
    blob[at : at + 8] = struct.pack("<d", -1.0)
    blob[-32:] = hashlib.sha256(blob[:-32]).digest()
    (tmp_path / "bad.ngm").write_bytes(bytes(blob))
    with pytest.raises(io.ModelFileError, match="node covers must be positive"):
        io.load(tmp_path / "bad.ngm")


def test_errors():
    X, y = _data()
    with pytest.raises(NotFittedError):
        NGBoostRegressor().shap_values(X)
    model = NGBoostRegressor(n_estimators=3, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="X has 4 features, but NGBoostRegressor is expecting 5"):
        model.shap_values(X[:, :4])
    external = NGBoostRegressor(
        n_estimators=2, base_learner=DecisionTreeRegressor(max_depth=2), random_state=0
    ).fit(X, y)
    with pytest.raises(ValueError, match="needs the native tree learner"):
        external.shap_values(X)


def test_to_explanation_and_param_index(monkeypatch):
    X, y = _data(n=50)
    sv = NGBoostRegressor(n_estimators=3, random_state=0).fit(X, y).shap_values(X)
    assert sv.param_index("log_scale") == 1 and sv.param_index(-2) == 0
    with pytest.raises(ValueError, match="'param' argument of ShapValues must be one of"):
        sv.param_index("scale")
    with pytest.raises(ValueError, match="Got 2 instead"):
        sv.param_index(2)

    captured = {}
    fake = types.ModuleType("shap")
    fake.Explanation = lambda values, **kw: captured.update(values=values, **kw)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "shap", fake)
    sv.to_explanation("log_scale")
    np.testing.assert_array_equal(captured["values"], sv.values[:, :, 1])
    np.testing.assert_array_equal(captured["base_values"], np.full(50, sv.base_values[1]))
    assert captured["data"] is sv.data and captured["output_names"] == "log_scale"
    monkeypatch.setitem(sys.modules, "shap", None)  # not installed
    with pytest.raises(ImportError, match="needs the 'shap' package"):
        sv.to_explanation(0)
