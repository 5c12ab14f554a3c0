"""Native categorical features: category-set splits, encoding by value, persistence."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pandas as pd
import pytest

from natgrad import io
from natgrad.boosting import NGBoostClassifier, NGBoostRegressor, NGBoostSurvival
from natgrad.boosting._hist.categorical import encode_categorical
from natgrad.boosting._hist.common import N_WORDS
from natgrad.boosting._hist.grower import grow_tree
from natgrad.boosting._hist.histogram import n_channels
from natgrad.boosting._hist.split_categorical import find_best_categorical_split

LEAF_RULES = ["fisher", "ngboost"]


def _bits_to_set(bits, n_cats):
    return {c for c in range(n_cats) if (int(bits[c >> 5]) >> (c & 31)) & 1}


def _interleaved(n=2000, seed=0, extra_numeric=True):
    """Location +2 for categories {a, c, e} and -2 for {b, d}: no threshold on the codes of
    a..e separates the two groups in one split."""
    rng = np.random.default_rng(seed)
    c = rng.choice(np.array(list("abcde")), n)
    loc = np.where(np.isin(c, ["a", "c", "e"]), 2.0, -2.0)
    y = loc + rng.normal(size=n)
    cols = {"c": pd.Categorical(c)}
    if extra_numeric:
        cols["x"] = rng.normal(size=n)
    return pd.DataFrame(cols), y, c


def _fast(**kw):
    params = dict(n_estimators=20, learning_rate=0.3, max_depth=1, random_state=0)
    params.update(kw)
    return NGBoostRegressor(**params)


@pytest.mark.parametrize("leaf_rule", LEAF_RULES)
def test_depth_one_separates_an_interleaved_category_set(leaf_rule):
    X, y, _ = _interleaved()
    model = _fast(n_estimators=1, learning_rate=1.0, leaf_rule=leaf_rule).fit(X, y)
    assert model.categories_ == [list("abcde"), None]
    ens = model._model_.ensemble
    assert ens.feature[0] == 0 and ens.cat_index[0] == 0
    left = _bits_to_set(ens.cat_bitsets[0], 5)
    assert left in ({0, 2, 4}, {1, 3})
    # The two leaves predict the two group means (one stage, learning rate 1).
    pred = model.predict(X)
    group = np.isin(X["c"], ["a", "c", "e"])
    assert np.ptp(pred[group]) == 0.0 and np.ptp(pred[~group]) == 0.0
    assert pred[group][0] - pred[~group][0] > 3.0


@pytest.mark.parametrize("leaf_rule", LEAF_RULES)
def test_categorical_beats_ordinal_codes(leaf_rule):
    # Eight categories, alternating levels: stumps on the codes need many splits.
    rng = np.random.default_rng(1)
    n = 4000
    codes = rng.integers(0, 8, size=n)
    y = np.where(codes % 2 == 0, 1.5, -1.5) + rng.normal(size=n) * (1 + 0.5 * (codes >= 4))
    Xcat = pd.DataFrame({"c": pd.Categorical(codes)})
    Xord = pd.DataFrame({"c": codes.astype(float)})
    train, test = slice(0, 3000), slice(3000, None)
    nll = {}
    for name, X in (("cat", Xcat), ("ord", Xord)):
        model = _fast(leaf_rule=leaf_rule).fit(X.iloc[train], y[train])
        nll[name] = model.predict_dist(X.iloc[test]).nll(y[test]).mean()
    # The categorical model reaches about the noise level in 20 stumps; the ordinal one
    # cannot (each stump separates one run of codes). The gap is far above the sampling
    # error of a mean NLL over 1000 rows (about 0.03).
    assert nll["cat"] < nll["ord"] - 0.2, nll


def test_unseen_category_goes_the_missing_direction():
    X, y, _ = _interleaved()
    model = _fast().fit(X, y)
    probe = pd.DataFrame(
        {
            "c": pd.Categorical(["zzz", None, "a", "b"], categories=["zzz", "a", "b"]),
            "x": [0.3, 0.3, 0.3, 0.3],
        }
    )
    params = model.predict_dist(probe).params
    np.testing.assert_array_equal(params[0], params[1])
    # and equal to a NumPy row whose category index is NaN
    enc = encode_categorical(probe, model.categories_)
    assert np.isnan(enc.iloc[0, 0]) and np.isnan(enc.iloc[1, 0])
    leaves = model._model_.ensemble.apply(np.asarray(enc, dtype=float))
    np.testing.assert_array_equal(leaves[0], leaves[1])


def test_missing_direction_is_learned_from_the_data():
    X, y, c = _interleaved(n=3000, extra_numeric=False)
    # Missing rows behave as the {b, d} group: the missing bin must join that side.
    miss = np.random.default_rng(5).random(len(y)) < 0.1
    X.loc[miss, "c"] = np.nan
    y = np.where(miss, -2.0 + np.random.default_rng(6).normal(size=len(y)), y)
    model = _fast(n_estimators=1, learning_rate=1.0).fit(X, y)
    ens = model._model_.ensemble
    left = _bits_to_set(ens.cat_bitsets[0], 256)
    missing_bin = model.max_bins
    b_side = 1 in left
    assert (missing_bin in left) == b_side
    assert bool(ens.missing_go_left[0]) == b_side
    pred = model.predict(
        pd.DataFrame({"c": pd.Categorical([None, "b", "a"], categories=["a", "b"])})
    )
    assert pred[0] == pred[1] != pred[2]


def test_categories_are_matched_by_value_not_by_code():
    X, y, c = _interleaved()
    model = _fast().fit(X, y)
    assert isinstance(X["c"].dtype, pd.CategoricalDtype)  # the caller's frame is not changed
    expected = model.predict_dist(X).params
    # Same values, categories declared in another order (other pandas codes).
    reordered = X.copy()
    reordered["c"] = pd.Categorical(c, categories=list("edcba"))
    np.testing.assert_array_equal(model.predict_dist(reordered).params, expected)
    # A subset of the categories, and a plain object column.
    sub = np.isin(c, ["b", "e"])
    subset = X[sub].copy()
    subset["c"] = pd.Categorical(c[sub], categories=["e", "b"])
    np.testing.assert_array_equal(model.predict_dist(subset).params, expected[sub])
    as_text = X.copy()
    as_text["c"] = c.astype(object)
    np.testing.assert_array_equal(model.predict_dist(as_text).params, expected)


def test_numpy_input_uses_category_values():
    rng = np.random.default_rng(2)
    codes = rng.choice([10.0, 20.0, 30.0, 40.0], size=1500)
    y = np.where(np.isin(codes, [10.0, 30.0]), 1.0, -1.0) + rng.normal(size=1500) * 0.5
    X = np.column_stack([codes, rng.normal(size=1500)])
    model = _fast(categorical_features=[0]).fit(X, y)
    assert model.categories_ == [[10.0, 20.0, 30.0, 40.0], None]
    ens = model._model_.ensemble
    assert ens.cat_index[0] == 0
    assert _bits_to_set(ens.cat_bitsets[0], 4) in ({0, 2}, {1, 3})
    # An unseen value (25) predicts as a missing one.
    p = model.predict(np.array([[25.0, 0.0], [np.nan, 0.0], [10.0, 0.0]]))
    assert p[0] == p[1]
    # Boolean mask and the default: same model as the index list / as numeric.
    masked = _fast(categorical_features=[True, False]).fit(X, y)
    np.testing.assert_array_equal(masked.predict(X), model.predict(X))
    assert _fast().fit(X, y).categories_ is None


@pytest.mark.parametrize("leaf_rule", LEAF_RULES)
def test_binned_and_raw_prediction_agree(leaf_rule):
    X, y, _ = _interleaved()
    X.loc[::17, "c"] = np.nan
    model = NGBoostRegressor(
        n_estimators=15, learning_rate=0.3, max_depth=3, leaf_rule=leaf_rule, random_state=0
    ).fit(X, y)
    enc = np.asarray(encode_categorical(X, model.categories_), dtype=float)
    binned = model._model_.mapper.transform(enc)
    ens = model._model_.ensemble
    np.testing.assert_array_equal(ens.predict_binned(binned), ens.predict_raw(enc))
    np.testing.assert_array_equal(ens.apply(binned, binned=True), ens.apply(enc))
    staged = list(model.staged_predict_dist(X))
    np.testing.assert_allclose(staged[-1].params, model.predict_dist(X).params, rtol=0, atol=1e-12)
    imp = model.feature_importances_
    assert imp.shape == (2, 2) and imp[0, 0] > imp[0, 1]


def test_training_rows_follow_the_bitset_partition():
    """The leaf of each training row from the growth partition equals a binned traversal
    (rows subsampled: the others are routed by the traversal)."""
    X, y, _ = _interleaved(n=600)
    X.loc[::11, "c"] = np.nan
    model = _fast().fit(X, y)
    mapper = model._model_.mapper
    binned = mapper.transform(np.asarray(encode_categorical(X, model.categories_), dtype=float))
    grad = np.column_stack([y - y.mean(), (y - y.mean()) ** 2 - 1.0])
    tree, leaf_of_row = grow_tree(
        binned,
        grad,
        max_depth=3,
        min_samples_leaf=5,
        rows=np.arange(0, 600, 2),
        n_bins_non_missing=mapper.n_bins_non_missing_,
        missing_values_bin_idx=mapper.missing_values_bin_idx_,
        bin_thresholds=mapper.bin_thresholds_,
        is_categorical=mapper.is_categorical_,
    )
    assert tree.cat_index is not None
    from natgrad.boosting._hist.predictor import Ensemble

    ens = Ensemble(2, 2, missing_values_bin_idx=mapper.missing_values_bin_idx_)
    ens.append(tree, 1.0)
    np.testing.assert_array_equal(ens.apply(binned, binned=True)[:, 0], leaf_of_row)


def _scalar_hist(g, cats, n_bins, missing_bin):
    h = np.zeros((1, missing_bin + 1, 2))
    for gi, ci in zip(g, cats, strict=True):
        h[0, ci, 0] += gi
        h[0, ci, 1] += 1.0
    return h


def test_scalar_split_is_the_best_subset():
    """p = 1: the best prefix of the categories ordered by mean is the best of all 2^(k-1)
    subsets (Fisher, 1958); checked against brute force."""
    rng = np.random.default_rng(3)
    k, missing_bin = 7, 255
    for _trial in range(5):
        cats = rng.integers(0, k, size=300)
        means = rng.normal(size=k)
        g = means[cats] + rng.normal(size=300)
        hist = _scalar_hist(g, cats, k, missing_bin)
        parent = hist[0].sum(axis=0)
        left = np.empty(2)
        gains = np.empty(1)
        bits = np.zeros(N_WORDS, dtype=np.uint32)
        gain, f, _ = find_best_categorical_split(
            hist, np.array([0], np.int32), np.array([k], np.int32), missing_bin, parent, 1,
            False, 0.0, 1, 0.0, left, gains, bits,
        )  # fmt: skip
        assert f == 0

        def score(s):
            return s[0] ** 2 / s[1] if s[1] > 0 else 0.0

        best = -np.inf
        for r in range(1, k):
            for subset in itertools.combinations(range(k), r):
                sl = hist[0, list(subset)].sum(axis=0)
                best = max(best, score(sl) + score(parent - sl) - score(parent))
        assert gain == pytest.approx(best, rel=1e-10)
        chosen = sorted(_bits_to_set(bits, k))
        sl = hist[0, chosen].sum(axis=0)
        assert score(sl) + score(parent - sl) - score(parent) == pytest.approx(gain, rel=1e-10)
        np.testing.assert_allclose(left, sl, rtol=1e-12)


def test_vector_split_gain_is_the_exact_gain_of_its_partition():
    """p = 2 with the Fisher metric: the heuristic's chosen set has exactly the returned
    gain (recomputed by dense solves), which no other subset beats by much here."""
    rng = np.random.default_rng(4)
    k, p, missing_bin = 6, 2, 255
    cats = rng.integers(0, k, size=400)
    G = rng.normal(size=(k, p))[cats] + 0.3 * rng.normal(size=(400, p))
    F = np.einsum("ni,nj->nij", rng.normal(size=(400, p)), rng.normal(size=(400, p)))
    F = F + np.transpose(F, (0, 2, 1)) + 4 * np.eye(p)
    iu = np.triu_indices(p)
    K = n_channels(p, True, False)
    hist = np.zeros((1, missing_bin + 1, K))
    for i in range(400):
        hist[0, cats[i], :p] += G[i]
        hist[0, cats[i], p:-1] += F[i][iu]
        hist[0, cats[i], -1] += 1
    parent = hist[0].sum(axis=0)
    left = np.empty(K)
    gains = np.empty(p)
    bits = np.zeros(N_WORDS, dtype=np.uint32)
    gain, f, _ = find_best_categorical_split(
        hist, np.array([0], np.int32), np.array([k], np.int32), missing_bin, parent, p, True,
        0.5, 1, 0.0, left, gains, bits,
    )  # fmt: skip

    def score(s):
        H = np.zeros((p, p))
        H[iu] = s[p:-1]
        H = H + np.triu(H, 1).T + 0.5 * np.eye(p)
        return s[:p] @ np.linalg.solve(H, s[:p])

    chosen = sorted(_bits_to_set(bits, k))
    sl = hist[0, chosen].sum(axis=0)
    assert score(sl) + score(parent - sl) - score(parent) == pytest.approx(gain, rel=1e-9)
    best = max(
        score(hist[0, list(s)].sum(0)) + score(parent - hist[0, list(s)].sum(0)) - score(parent)
        for r in range(1, k)
        for s in itertools.combinations(range(k), r)
    )
    assert gain <= best * (1 + 1e-12)
    assert gain >= 0.9 * best


def test_rare_categories_join_the_missing_values():
    rng = np.random.default_rng(7)
    c = np.array(list("ab"))[rng.integers(0, 2, size=400)].astype(object)
    c[:3] = "rare"  # fewer rows than min_samples_leaf
    y = np.where(c == "a", 2.0, -2.0) + rng.normal(size=400)
    X = pd.DataFrame({"c": pd.Categorical(c)})
    model = _fast(n_estimators=1, learning_rate=1.0, min_samples_leaf=5).fit(X, y)
    p = model.predict(pd.DataFrame({"c": pd.Categorical(["rare", None], categories=["rare"])}))
    assert p[0] == p[1]


def test_classifier_and_survival_take_categorical_features():
    X, _, c = _interleaved(n=800)
    labels = np.isin(c, ["a", "c", "e"]).astype(int)
    clf = NGBoostClassifier(n_estimators=5, learning_rate=0.5, max_depth=1).fit(X, labels)
    assert (clf.predict(X) == labels).mean() > 0.99
    times = np.where(labels == 1, 5.0, 1.0) * np.random.default_rng(0).exponential(size=800)
    surv = NGBoostSurvival(n_estimators=5, learning_rate=0.5, max_depth=1).fit(X, times)
    assert surv.categories_ == [list("abcde"), None]
    med = surv.predict(X)
    assert med[labels == 1].min() > med[labels == 0].max()


@pytest.mark.parametrize("leaf_rule", LEAF_RULES)
def test_save_load_and_pickle_are_bit_for_bit(tmp_path, leaf_rule):
    X, y, c = _interleaved()
    X["n"] = pd.Categorical(np.random.default_rng(0).integers(0, 3, size=len(y)))  # int values
    X.loc[::13, "c"] = np.nan
    model = NGBoostRegressor(
        n_estimators=15, learning_rate=0.3, max_depth=2, leaf_rule=leaf_rule, random_state=0
    ).fit(X, y)
    assert model._model_.ensemble.cat_bitsets.shape[0] > 0
    path = model.save(tmp_path / "m.ngm")
    loaded = io.load(path)
    assert loaded.categories_ == model.categories_
    assert isinstance(loaded.categories_[2][0], int)
    probe = X.copy()
    probe["c"] = probe["c"].astype(object)
    probe.loc[::7, "c"] = "unseen-at-fit"  # object column with an unseen value
    for data in (X, probe):
        np.testing.assert_array_equal(
            loaded.predict_dist(data).params, model.predict_dist(data).params
        )
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict_dist(X).params, model.predict_dist(X).params)
    header = io.read_header(path)
    assert header["categories"][0] == list("abcde") and header["categories"][1] is None
    assert header["arrays"]["cat_bitsets"]["shape"][1] == N_WORDS


def test_save_rejects_categories_without_a_json_form(tmp_path):
    days = pd.to_datetime(["2020-01-01", "2020-01-02"])
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"d": pd.Categorical(rng.choice(days, 200))})
    y = rng.normal(size=200)
    model = _fast(n_estimators=2).fit(X, y)
    with pytest.raises(TypeError, match="categories that are str, int, finite float or bool"):
        model.save(tmp_path / "m.ngm")


def test_model_file_with_a_bad_bitset_index_is_rejected(tmp_path):
    import hashlib
    import json
    import struct

    X, y, _ = _interleaved(n=400)
    blob = bytearray(io.save(_fast(n_estimators=2).fit(X, y), tmp_path / "m.ngm").read_bytes())
    _, _, _, n_head, _ = struct.unpack_from("<8sIIQQ", blob)
    header = json.loads(bytes(blob[32 : 32 + n_head]))
    spec = header["arrays"]["node_cat_index"]
    start = 32 + n_head + spec["offset"]
    blob[start : start + 4] = struct.pack("<i", 99)
    blob[-32:] = hashlib.sha256(bytes(blob[:-32])).digest()
    path = tmp_path / "bad.ngm"
    path.write_bytes(bytes(blob))
    with pytest.raises(io.ModelFileError, match="bitset index is out of range"):
        io.load(path)


def test_file_without_categorical_arrays_still_loads(tmp_path):
    """A numeric model written as an older natgrad did (no categorical arrays, no
    'categories' entry) loads and predicts the same."""
    import hashlib
    import json
    import struct

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    y = X[:, 0] + rng.normal(size=300)
    model = _fast(n_estimators=3).fit(X, y)
    blob = io.save(model, tmp_path / "m.ngm").read_bytes()
    _, _, _, n_head, n_body = struct.unpack_from("<8sIIQQ", blob)
    header = json.loads(blob[32 : 32 + n_head])
    body = blob[32 + n_head : 32 + n_head + n_body]
    for key in ("node_cat_index", "cat_bitsets"):
        del header["arrays"][key]  # their bytes stay, unreferenced
    del header["categories"]
    del header["params"]["categorical_features"]
    head = json.dumps(header).encode()
    out = struct.pack("<8sIIQQ", io.MAGIC, 2, 0, len(head), len(body)) + head + body
    path = tmp_path / "v2.ngm"
    path.write_bytes(out + hashlib.sha256(out).digest())
    loaded = io.load(path)
    assert loaded.categories_ is None
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (["nope"], "names the feature 'nope', which is not a column of X"),
        ([5], r"feature indices in \[0, 2\). Got the index 5"),
        ([-1], r"feature indices in \[0, 2\). Got the index -1"),
        ([True], "one entry per feature"),
        ([0, "c"], "only bool, only int or only str"),
        ("auto", "must be a str among {'from_dtype'}, an array-like or None"),
    ],
)
def test_bad_categorical_features(value, match):
    X, y, _ = _interleaved(n=100)
    with pytest.raises(ValueError, match=match):
        _fast(categorical_features=value).fit(X, y)


def test_names_need_a_dataframe_and_too_many_categories_are_explained():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 2))
    y = rng.normal(size=100)
    with pytest.raises(ValueError, match="feature names, which need X to be a pandas DataFrame"):
        _fast(categorical_features=["a"]).fit(X, y)
    many = pd.DataFrame({"c": pd.Categorical(np.arange(100) % 40)})
    with pytest.raises(ValueError, match=r"has 40 categories and max_bins=32 .* merge rare"):
        _fast(categorical_features="from_dtype", max_bins=32).fit(many, y)
    assert _fast(max_bins=40).fit(many, y).categories_[0] == list(range(40))


def test_categorical_features_none_treats_category_columns_as_numbers():
    X = pd.DataFrame({"c": pd.Categorical([1.0, 2.0, 3.0] * 20)})
    y = np.arange(60.0)
    model = _fast(categorical_features=None).fit(X, y)
    assert model.categories_ is None
    assert model._model_.ensemble.cat_bitsets.shape[0] == 0


def test_shap_values_add_up_with_categorical_splits():
    X, y, _ = _interleaved(n=500)
    X.loc[::9, "c"] = np.nan
    model = NGBoostRegressor(n_estimators=10, learning_rate=0.3, max_depth=3).fit(X, y)
    if not hasattr(model, "shap_values"):
        pytest.skip("no shap_values on this build")
    sv = model.shap_values(X.iloc[:50])
    total = sv.values.sum(axis=1) + sv.base_values
    np.testing.assert_allclose(total, model.predict_dist(X.iloc[:50]).params, atol=1e-9)


def test_cli_fit_and_predict_with_a_text_column(tmp_path):
    from click.testing import CliRunner

    from natgrad.cli._model import fit, predict

    X, y, c = _interleaved(n=300)
    df = pd.DataFrame({"color": c, "x": X["x"], "y": y})
    df.to_csv(tmp_path / "d.csv", index=False)
    runner = CliRunner()
    args = [str(tmp_path / "d.csv"), "--target", "y", "--out", str(tmp_path / "o")]
    result = runner.invoke(fit, [*args, "--n-estimators", "10", "--quiet", "--no-report"])
    assert result.exit_code == 0, (result.output, result.exception)
    model = io.load(tmp_path / "o" / "model.ngm")
    assert model.categories_ == [list("abcde"), None]
    new = df.drop(columns="y").iloc[:20].copy()
    new.loc[0, "color"] = "purple"  # unseen
    new.to_csv(tmp_path / "new.csv", index=False)
    result = runner.invoke(
        predict, [str(tmp_path / "o" / "model.ngm"), str(tmp_path / "new.csv"), "--out",
                  str(tmp_path / "p.csv")],
    )  # fmt: skip
    assert result.exit_code == 0, (result.output, result.exception)
    pred = pd.read_csv(tmp_path / "p.csv")
    expected = model.predict(new)
    np.testing.assert_allclose(pred["mean"], expected, rtol=1e-12)


def test_eval_set_and_validation_fraction_are_encoded_by_value():
    X, y, c = _interleaved(n=1200)
    train, val = slice(0, 900), slice(900, None)
    X_val = X.iloc[val].copy()
    X_val["c"] = pd.Categorical(c[val], categories=list("edcba"))  # other codes
    model = _fast(colsample=0.5).fit(X.iloc[train], y[train], eval_set=(X_val, y[val]))
    nll = model.predict_dist(X.iloc[val]).nll(y[val]).mean()
    assert model.validation_loss_[model.best_iteration_] == pytest.approx(nll, rel=1e-12)
    held = _fast(validation_fraction=0.2).fit(X, y)
    assert held.categories_ == [list("abcde"), None]
    assert np.isfinite(held.validation_loss_).all()
