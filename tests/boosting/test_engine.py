"""Tests of the native histogram tree engine: binning, histograms, splits, growth, prediction.

Every compiled kernel is checked against a plain numpy reference on a problem small enough to
compute exactly; seeds are fixed, so the tests are deterministic.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from natgrad.boosting._hist.binning import BinMapper
from natgrad.boosting._hist.grow_checks import pack_metric
from natgrad.boosting._hist.grower import grow_tree
from natgrad.boosting._hist.histogram import (
    accumulate_histogram,
    build_histogram,
    fill_channels,
    subtract_histograms,
)
from natgrad.boosting._hist.partition import add_leaf_values
from natgrad.boosting._hist.predictor import Ensemble

# --------------------------------------------------------------------------------- helpers


def _kw(mapper: BinMapper) -> dict:
    return dict(
        n_bins_non_missing=mapper.n_bins_non_missing_,
        missing_values_bin_idx=mapper.missing_values_bin_idx_,
        bin_thresholds=mapper.bin_thresholds_,
    )


def _random_metric(rng: np.random.Generator, n: int, p: int) -> np.ndarray:
    """Random symmetric positive definite blocks, shape (n, p, p)."""
    a = rng.normal(size=(n, p, p))
    return a @ a.transpose(0, 2, 1) / p + 0.1 * np.eye(p)


def _problem(seed: int, n: int = 300, d: int = 3, max_bins: int = 8, missing: float = 0.1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    X[rng.random(X.shape) < missing] = np.nan
    mapper = BinMapper(max_bins=max_bins, random_state=0).fit(X)
    return rng, X, mapper, mapper.transform(X)


def _score(G: np.ndarray, H: np.ndarray, l2: float) -> float:
    return float(G @ np.linalg.solve(H + l2 * np.eye(G.size), G))


def _sums(mask, g, w, metric):
    """Gradient sums and metric sums (scalar mode: W I) of the rows in ``mask``."""
    G = (w[mask, None] * g[mask]).sum(axis=0)
    H = metric[mask].sum(axis=0) if metric is not None else w[mask].sum() * np.eye(g.shape[1])
    return G, H


def _brute_force_split(binned, mapper, g, w, metric, l2, min_leaf, node):
    """Best (gain, feature, bin, missing_go_left) over every candidate split of the rows in
    the boolean mask ``node``, scanned in the engine's order (first maximum kept)."""
    G, H = _sums(node, g, w, metric)
    parent = _score(G, H, l2)
    best = (-np.inf, -1, -1, None)
    for f in range(binned.shape[1]):
        col = binned[:, f]
        is_missing = col == mapper.missing_values_bin_idx_
        for t in range(mapper.n_bins_non_missing_[f]):
            for mgl in (False, True):
                left = ((col <= t) & ~is_missing) | (is_missing & mgl)
                n_left, n_right = (node & left).sum(), (node & ~left).sum()
                if min(n_left, n_right) < min_leaf:
                    continue
                gain = (
                    _score(*_sums(node & left, g, w, metric), l2)
                    + _score(*_sums(node & ~left, g, w, metric), l2)
                    - parent
                )
                if gain > best[0]:
                    best = (gain, f, t, mgl)
    return best


def _goes_left(tree, node, binned, mapper):
    col = binned[:, tree.feature[node]]
    left = col <= tree.bin_threshold[node]
    left[col == mapper.missing_values_bin_idx_] = tree.missing_go_left[node]
    return left


# --------------------------------------------------------------------------------- binning


def test_binning_quantiles_give_balanced_bins():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 2))
    mapper = BinMapper(max_bins=16, random_state=0).fit(X)
    binned = mapper.transform(X)
    assert binned.dtype == np.uint8 and binned.flags.f_contiguous
    np.testing.assert_array_equal(mapper.n_bins_non_missing_, [16, 16])
    for f in range(2):
        counts = np.bincount(binned[:, f], minlength=16)
        assert counts.min() > 0.9 * 20_000 / 16 and counts.max() < 1.1 * 20_000 / 16
        expected = np.percentile(X[:, f], np.linspace(0, 100, 17)[1:-1])
        np.testing.assert_allclose(mapper.bin_thresholds_[f], expected, atol=1e-3)


def test_binning_threshold_semantics_and_missing_bin():
    _, X, mapper, binned = _problem(1, n=500, max_bins=10)
    assert mapper.missing_values_bin_idx_ == 10
    np.testing.assert_array_equal(binned == 10, np.isnan(X))
    for f in range(X.shape[1]):
        thr = mapper.bin_thresholds_[f]
        ok = ~np.isnan(X[:, f])
        for t in range(thr.size):
            np.testing.assert_array_equal(binned[ok, f] <= t, X[ok, f] <= thr[t])


def test_binning_few_distinct_values_use_midpoints():
    X = np.array([[1.0, 0.0], [2.0, 0.0], [5.0, np.nan], [2.0, 0.0], [1.0, 0.0]])
    mapper = BinMapper().fit(X)
    np.testing.assert_allclose(mapper.bin_thresholds_[0], [1.5, 3.5])
    assert mapper.bin_thresholds_[1].size == 0
    np.testing.assert_array_equal(mapper.n_bins_non_missing_, [3, 1])
    np.testing.assert_array_equal(mapper.transform(X)[:, 0], [0, 1, 2, 1, 0])
    np.testing.assert_array_equal(mapper.transform(X)[:, 1], [0, 0, 255, 0, 0])


def test_binning_subsample_and_validation():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(5000, 1))
    mapper = BinMapper(max_bins=4, subsample=1000, random_state=0).fit(X)
    np.testing.assert_allclose(mapper.bin_thresholds_[0], np.percentile(X, [25, 50, 75]), atol=0.15)
    with pytest.raises(ValueError, match="'X'"):
        BinMapper().fit(np.array([[1.0], [np.inf]]))
    with pytest.raises(ValueError, match="'X'"):
        mapper.transform(np.array([[-np.inf]]))
    with pytest.raises(ValueError, match="'max_bins'"):
        BinMapper(max_bins=256).fit(X)
    with pytest.raises(ValueError, match="'X'"):
        mapper.transform(np.zeros((3, 2)))


# ------------------------------------------------------------------------------ histograms


@pytest.mark.parametrize("n_vals", [1, 3, 5, 8])
def test_histogram_matches_numpy_and_subtraction(n_vals):
    rng, _, mapper, binned = _problem(3, n=400, d=4)
    vals = rng.normal(size=(400, n_vals))
    rows = np.sort(rng.choice(400, 300, replace=False)).astype(np.int32)
    features = np.array([0, 2, 3], dtype=np.int32)
    n_bins, K = mapper.missing_values_bin_idx_ + 1, n_vals + 1

    def reference(r):
        ref = np.zeros((4, n_bins, K))
        for f in features:
            for c in range(n_vals):
                ref[f, :, c] = np.bincount(binned[r, f], weights=vals[r, c], minlength=n_bins)
            np.add.at(ref[f, :, n_vals], binned[r, f], 1.0)
        return ref

    hist = np.full((4, n_bins, K), 7.0)  # inactive feature 1 must stay untouched
    build_histogram(binned, rows, 0, 300, features, vals, hist, np.zeros((0, 4, n_bins, K)), 2)
    ref = reference(rows)
    np.testing.assert_allclose(hist[features], ref[features], atol=1e-12)
    assert (hist[1] == 7.0).all()
    # Reduction over blocks: two accumulated blocks give the same histogram.
    acc = np.zeros_like(hist)
    accumulate_histogram(binned, rows, 0, 120, features, vals, acc)
    accumulate_histogram(binned, rows, 120, 300, features, vals, acc)
    np.testing.assert_allclose(acc[features], ref[features], atol=1e-12)
    # Subtraction: parent - smaller child = sibling.
    child = np.zeros_like(hist)
    build_histogram(binned, rows, 0, 100, features, vals, child, np.zeros((0, 4, n_bins, K)), 2)
    subtract_histograms(hist, child, features)
    np.testing.assert_allclose(hist[features], reference(rows[100:])[features], atol=1e-12)


def test_histogram_parallel_row_blocks():
    rng = np.random.default_rng(4)
    n = 40_000
    # Fortran order as from BinMapper (same compiled kernel); one active feature, 4 threads
    # asked for: the rows are split into blocks whose partial histograms are summed.
    binned = np.asfortranarray(rng.integers(0, 256, size=(n, 2), dtype=np.uint8))
    vals = rng.normal(size=(n, 2))
    rows = np.arange(n, dtype=np.int32)
    hist = np.zeros((2, 256, 3))
    build_histogram(
        binned, rows, 0, n, np.zeros(1, np.int32), vals, hist, np.zeros((4, 2, 256, 3)), 4
    )
    np.testing.assert_allclose(
        hist[0, :, 1], np.bincount(binned[:, 0], vals[:, 1], 256), atol=1e-10
    )
    np.testing.assert_array_equal(hist[0, :, 2], np.bincount(binned[:, 0], minlength=256))


@pytest.mark.parametrize("n_vals", [2, 3, 5])
def test_histogram_identity_rows_fast_path(n_vals):
    # `identity=True` (the root of a tree on every row) skips the row index: the same sums
    # as the indexed fold on [start, stop) of an identity index, serial and parallel sizes.
    rng = np.random.default_rng(6)
    for n in (500, 20_000):
        binned = np.asfortranarray(rng.integers(0, 256, size=(n, 3), dtype=np.uint8))
        vals = rng.normal(size=(n, n_vals))
        rows = np.arange(n, dtype=np.int32)
        features = np.arange(3, dtype=np.int32)
        no_partials = np.zeros((0, 3, 256, n_vals + 1))
        fast, ref = np.zeros((3, 256, n_vals + 1)), np.zeros((3, 256, n_vals + 1))
        build_histogram(binned, rows, 7, n - 3, features, vals, fast, no_partials, 2, True)
        build_histogram(binned, rows, 7, n - 3, features, vals, ref, no_partials, 2)
        np.testing.assert_allclose(fast, ref, rtol=1e-12, atol=1e-12)
        for c in range(n_vals):
            np.testing.assert_allclose(
                fast[1, :, c], np.bincount(binned[7 : n - 3, 1], vals[7 : n - 3, c], 256),
                atol=1e-9,
            )  # fmt: skip


def test_fill_channels_both_modes():
    rng = np.random.default_rng(5)
    g, w = rng.normal(size=(6, 2)), rng.uniform(0.5, 2, 6)
    met = pack_metric(_random_metric(rng, 6, 2))
    rows = np.arange(6, dtype=np.int32)
    scalar = np.empty((6, 3))
    fill_channels(g, w, met, rows, False, True, scalar)
    np.testing.assert_allclose(scalar, np.column_stack([w[:, None] * g, w]))
    matrix = np.empty((6, 5))
    fill_channels(g, w, met, rows, True, True, matrix)
    np.testing.assert_allclose(matrix, np.column_stack([w[:, None] * g, met]))


# ------------------------------------------------------------------------------ splitting


@pytest.mark.parametrize("p", [1, 2, 3])
@pytest.mark.parametrize("mode", ["scalar", "matrix"])
def test_best_split_equals_brute_force(p, mode):
    """Root and both depth-1 nodes (whose histograms come from the subtraction trick)."""
    l2, min_leaf, seen_missing_left = 0.5, 10, False
    for seed in range(3):
        rng, X, mapper, binned = _problem(10 + seed + 3 * p)
        n = binned.shape[0]
        # Seed 0: missing values of feature 1 behave like its low values (missing should go
        # left); seed 1: like its high values; seed 2: no structure at all.
        low = (binned[:, 1] < 3) | (np.isnan(X[:, 1]) & (seed == 0))
        g = rng.normal(size=(n, p)) + 1.5 * low[:, None] * (seed < 2)
        w = rng.uniform(0.5, 2.0, n)
        metric = w[:, None, None] * _random_metric(rng, n, p) if mode == "matrix" else None
        tree, lor = grow_tree(
            binned,
            g,
            metric,
            w,
            max_depth=2,
            min_samples_leaf=min_leaf,
            l2_regularization=l2,
            **_kw(mapper),
        )
        root_left = _goes_left(tree, 0, binned, mapper)
        nodes = [(0, np.ones(n, bool)), (tree.left[0], root_left), (tree.right[0], ~root_left)]
        for node, mask in nodes:
            gain, f, t, mgl = _brute_force_split(binned, mapper, g, w, metric, l2, min_leaf, mask)
            if f < 0:
                assert tree.left[node] == -1
                continue
            assert (tree.feature[node], tree.bin_threshold[node]) == (f, t)
            np.testing.assert_allclose(tree.split_gain[node], gain, rtol=1e-8)
            if (mask & (binned[:, f] == mapper.missing_values_bin_idx_)).any():
                assert tree.missing_go_left[node] == mgl
                seen_missing_left |= bool(mgl)
        # Per-parameter gains of the root: the diagonal decomposition, which adds up to the
        # split gain in scalar mode.
        parts = []
        for mask in (root_left, ~root_left, np.ones(n, bool)):
            G, H = _sums(mask, g, w, metric)
            parts.append(G**2 / (np.diag(H) + l2))
        np.testing.assert_allclose(tree.gain[0], parts[0] + parts[1] - parts[2], rtol=1e-9)
        if mode == "scalar":
            np.testing.assert_allclose(tree.gain[0].sum(), tree.split_gain[0], rtol=1e-9)
        np.testing.assert_array_equal(np.bincount(lor), tree.count[tree.leaf_index])
    assert seen_missing_left  # the learned direction was exercised


def test_min_gain_and_no_split_cases():
    rng, _, mapper, binned = _problem(20)
    g = np.ones((binned.shape[0], 1))  # constant target: nothing to gain
    tree, lor = grow_tree(binned, g, min_gain_to_split=1e-9, **_kw(mapper))
    assert tree.n_leaves == 1 and (lor == 0).all()
    np.testing.assert_allclose(tree.leaf_values, [[1.0]])
    tree, _ = grow_tree(binned, rng.normal(size=(300, 1)), min_gain_to_split=1e9, **_kw(mapper))
    assert tree.n_leaves == 1
    tree, _ = grow_tree(
        binned, rng.normal(size=(300, 1)), feature_mask=np.zeros(3, bool), **_kw(mapper)
    )
    assert tree.n_leaves == 1


# ---------------------------------------------------------------------------------- growth


@pytest.mark.parametrize("mode", ["scalar", "matrix"])
def test_leaf_values_are_least_squares_or_fisher_scoring(mode):
    rng, _, mapper, binned = _problem(30, n=600)
    p, n, l2 = 2, 600, 0.3
    g = rng.normal(size=(n, p)) + binned[:, [0, 1]] / 4.0
    w = rng.uniform(0.5, 2.0, n)
    metric = w[:, None, None] * _random_metric(rng, n, p) if mode == "matrix" else None
    tree, lor = grow_tree(
        binned, g, metric, w, max_depth=2, min_samples_leaf=5, l2_regularization=l2, **_kw(mapper)
    )
    assert tree.n_leaves == 4
    for leaf in range(tree.n_leaves):
        G, H = _sums(lor == leaf, g, w, metric)
        np.testing.assert_allclose(
            tree.leaf_values[leaf], np.linalg.solve(H + l2 * np.eye(p), G), rtol=1e-9
        )
        if mode == "scalar":  # weighted least squares: the weighted mean, shrunk by l2
            m = lor == leaf
            expected = (w[m, None] * g[m]).sum(0) / (w[m].sum() + l2)
            np.testing.assert_allclose(tree.leaf_values[leaf], expected, rtol=1e-9)


def test_matrix_mode_with_scalar_metric_equals_scalar_mode():
    rng, _, mapper, binned = _problem(31, n=500)
    g, w = rng.normal(size=(500, 2)) + binned[:, [2, 0]] / 3.0, rng.uniform(0.5, 2.0, 500)
    metric = w[:, None, None] * np.eye(2)
    a, lor_a = grow_tree(binned, g, None, w, max_depth=3, min_samples_leaf=5, **_kw(mapper))
    b, lor_b = grow_tree(binned, g, metric, w, max_depth=3, min_samples_leaf=5, **_kw(mapper))
    np.testing.assert_array_equal(lor_a, lor_b)
    np.testing.assert_array_equal(a.feature, b.feature)
    np.testing.assert_allclose(a.leaf_values, b.leaf_values, rtol=1e-9)


def test_singular_metric_is_damped_not_fatal():
    rng, _, mapper, binned = _problem(32)
    g = rng.normal(size=(300, 2))
    zero = np.zeros((300, 2, 2))
    tree, _ = grow_tree(binned, g, zero, **_kw(mapper))
    assert tree.n_leaves == 1 and np.all(tree.leaf_values == 0.0)
    rank_one = np.repeat(np.array([[[1.0, 1.0], [1.0, 1.0]]]), 300, axis=0)
    tree, _ = grow_tree(binned, g, rank_one, max_depth=2, min_samples_leaf=5, **_kw(mapper))
    assert np.isfinite(tree.value).all() and np.isfinite(tree.split_gain).all()


def test_depth_and_leaf_limits():
    rng, _, mapper, binned = _problem(40, n=2000, d=4, max_bins=32)
    g = rng.normal(size=(2000, 1)) + binned[:, [0]] / 8.0 + binned[:, [1]] / 8.0
    kw = dict(min_samples_leaf=5, **_kw(mapper))
    full, _ = grow_tree(binned, g, max_depth=3, **kw)
    assert full.n_leaves == 8 and (full.depth[full.leaf_index] == 3).all()
    for max_leaves in (2, 3, 5):
        tree, lor = grow_tree(binned, g, max_depth=None, max_leaves=max_leaves, **kw)
        assert tree.n_leaves == max_leaves and lor.max() == max_leaves - 1
    tree, _ = grow_tree(binned, g, max_depth=2, max_leaves=6, **kw)
    assert tree.n_leaves == 4 and tree.depth.max() == 2
    tree, _ = grow_tree(binned, g, max_depth=5, max_leaves=6, **kw)
    assert tree.n_leaves == 6 and tree.depth.max() <= 5
    # Best-first: two leaves are the depth-1 tree; the third splits the better child.
    stump, _ = grow_tree(binned, g, max_depth=1, **kw)
    two, _ = grow_tree(binned, g, max_depth=None, max_leaves=2, **kw)
    np.testing.assert_array_equal(stump.feature, two.feature)
    three, _ = grow_tree(binned, g, max_depth=None, max_leaves=3, **kw)
    split_child = three.left[0] if three.left[three.left[0]] >= 0 else three.right[0]
    other = three.right[0] if split_child == three.left[0] else three.left[0]
    alone, _ = grow_tree(binned, g, max_depth=2, **kw)
    gains = {
        alone.left[0]: alone.split_gain[alone.left[0]],
        alone.right[0]: alone.split_gain[alone.right[0]],
    }
    assert three.split_gain[split_child] == max(gains.values()) >= gains[other]
    masked, _ = grow_tree(binned, g, max_depth=3, feature_mask=[False, True, True, True], **kw)
    assert 0 in full.feature and 0 not in masked.feature and masked.n_leaves == 8
    with pytest.raises(ValueError, match="'max_depth'"):
        grow_tree(binned, g, max_depth=None, **kw)


def test_min_samples_leaf_respected():
    rng, _, mapper, binned = _problem(50, n=1000, d=3, max_bins=64)
    g = rng.normal(size=(1000, 1)) ** 3  # heavy tails tempt tiny leaves
    for msl in (1, 7, 60):
        tree, lor = grow_tree(binned, g, max_depth=6, min_samples_leaf=msl, **_kw(mapper))
        assert tree.count[tree.leaf_index].min() >= msl
        np.testing.assert_array_equal(np.bincount(lor), tree.count[tree.leaf_index])


@pytest.mark.parametrize("subsample", [False, True])
def test_leaf_of_row_matches_predictor(subsample):
    rng, X, mapper, binned = _problem(60, n=3000, d=4, max_bins=32)
    g = rng.normal(size=(3000, 2)) + np.nan_to_num(X[:, [0, 1]])
    rows = np.sort(rng.choice(3000, 1500, replace=False)) if subsample else None
    ens = Ensemble(2, 4, mapper.missing_values_bin_idx_)
    leaves = []
    for _ in range(3):
        tree, lor = grow_tree(binned, g, rows=rows, max_depth=3, min_samples_leaf=10, **_kw(mapper))
        ens.append(tree, 0.5)
        leaves.append(lor)
        g = g - 0.5 * tree.leaf_values[lor]
        if subsample:
            np.testing.assert_array_equal(
                np.bincount(lor[rows], minlength=tree.n_leaves), tree.count[tree.leaf_index]
            )
    leaves = np.stack(leaves, axis=1)
    np.testing.assert_array_equal(ens.apply(binned, binned=True), leaves)
    np.testing.assert_array_equal(ens.apply(X), leaves)


def test_rows_left_out_of_an_uneven_tree_find_their_leaves():
    # Best-first growth leaves leaves at several depths: the branch-free walk of the rows
    # left out of the subsample steps in place at a shallow leaf.
    rng, X, mapper, binned = _problem(61, n=2000, d=4, max_bins=32)
    g = rng.normal(size=(2000, 1)) + 3.0 * (np.nan_to_num(X[:, [0]]) > 0.5)
    rows = np.sort(rng.choice(2000, 600, replace=False))
    tree, lor = grow_tree(binned, g, rows=rows, max_depth=None, max_leaves=7, **_kw(mapper))
    leaf_depths = tree.depth[tree.leaf_index]
    assert leaf_depths.min() < leaf_depths.max()  # the case under test
    ens = Ensemble(1, 4, mapper.missing_values_bin_idx_)
    ens.append(tree, 1.0)
    np.testing.assert_array_equal(ens.apply(binned, binned=True)[:, 0], lor)


def test_sample_rows_draws_exactly_k_sorted_rows_uniformly():
    from natgrad.boosting._training.sampling import sample_rows

    gen = np.random.default_rng(0)
    n, k, draws = 50, 15, 4000
    counts = np.zeros(n)
    for _ in range(draws):
        rows = sample_rows(gen.random(n), k)
        assert rows.dtype == np.int32 and rows.size == k
        assert np.all(np.diff(rows) > 0) and rows[0] >= 0 and rows[-1] < n
        counts[rows] += 1
    # Each row is drawn with probability k/n: its count is binomial(draws, k/n).
    p = k / n
    se = np.sqrt(draws * p * (1 - p))
    assert np.abs(counts - draws * p).max() < 4.5 * se
    assert sample_rows(gen.random(n), n).tolist() == list(range(n))
    assert sample_rows(gen.random(n), 1).size == 1


def test_predictor_raw_binned_staged_and_importances():
    rng, X, mapper, binned = _problem(70, n=2000, d=4, max_bins=32)
    g = rng.normal(size=(2000, 2)) + np.nan_to_num(X[:, [0, 2]])
    ens = Ensemble(2, 4, mapper.missing_values_bin_idx_)
    total = np.zeros((2000, 2))
    importances = np.zeros((2, 4))
    for stage in range(40):  # enough appends to grow the buffers several times
        tree, lor = grow_tree(binned, g, max_depth=3, min_samples_leaf=10, **_kw(mapper))
        scale = -0.1 * (1 + stage % 3)
        ens.append(tree, scale)
        add_leaf_values(total, tree.leaf_values, lor, scale)
        g = g + scale * tree.leaf_values[lor]
        internal = tree.feature >= 0
        np.add.at(importances.T, tree.feature[internal], tree.gain[internal])
    np.testing.assert_allclose(ens.predict_raw(X), total, atol=1e-12)
    np.testing.assert_allclose(ens.predict_binned(binned), total, atol=1e-12)
    staged = list(ens.staged_predict_raw(X))
    assert len(staged) == 40
    np.testing.assert_allclose(staged[-1], total, atol=1e-12)
    np.testing.assert_allclose(staged[9], ens.predict_raw(X, n_trees=10), atol=1e-12)
    np.testing.assert_allclose(ens.feature_importances(), importances)
    assert ens.feature_importances()[0, 0] > ens.feature_importances()[0, 1]
    assert ens.feature_importances()[1, 2] > ens.feature_importances()[1, 1]
    np.testing.assert_allclose(
        ens.predict_binned(binned, n_trees=10, start=9), staged[9] - staged[8], atol=1e-12
    )
    with pytest.raises(ValueError, match="'n_trees'"):
        ens.predict_raw(X, n_trees=41)
    with pytest.raises(ValueError, match="'start'"):
        ens.predict_raw(X, n_trees=5, start=6)
    clone = pickle.loads(pickle.dumps(ens))
    np.testing.assert_array_equal(clone.predict_raw(X), ens.predict_raw(X))


def test_nan_routing():
    rng = np.random.default_rng(80)
    n = 1000
    X = rng.normal(size=(n, 2))
    X[:, 0] = rng.choice([-1.0, 1.0], n)  # two distinct values: the cut is exactly at 0
    missing = rng.random(n) < 0.3
    X[missing, 0] = np.nan
    y = np.where(missing, 5.0, np.where(X[:, 0] > 0, 1.0, -1.0))
    mapper = BinMapper(max_bins=32).fit(X)
    binned = mapper.transform(X)
    tree, lor = grow_tree(binned, y[:, None], max_depth=2, min_samples_leaf=5, **_kw(mapper))
    ens = Ensemble(1, 2, mapper.missing_values_bin_idx_)
    ens.append(tree, 1.0)
    pred = ens.predict_raw(X)[:, 0]
    np.testing.assert_allclose(pred, y, atol=1e-12)  # missing rows got their own leaf
    # Feature 1 never had missing values: a NaN there follows the larger child.
    tree, _ = grow_tree(
        binned, (X[:, 1] > 1.0)[:, None] * 1.0, max_depth=1, min_samples_leaf=5, **_kw(mapper)
    )
    assert tree.feature[0] == 1
    big = tree.left[0] if tree.count[tree.left[0]] > tree.count[tree.right[0]] else tree.right[0]
    ens = Ensemble(1, 2, mapper.missing_values_bin_idx_)
    ens.append(tree, 1.0)
    Xq = np.array([[0.0, np.nan], [0.0, np.nan]])
    np.testing.assert_allclose(ens.predict_raw(Xq)[:, 0], tree.value[big, 0])


# ------------------------------------------------------------------------------ end to end


def _boost(binned, mapper, targets, stages, lr=0.1, **kw):
    theta = np.repeat(targets.mean(axis=0, keepdims=True), targets.shape[0], axis=0)
    ens = Ensemble(targets.shape[1], binned.shape[1], mapper.missing_values_bin_idx_)
    for _ in range(stages):
        tree, lor = grow_tree(binned, theta - targets, **kw, **_kw(mapper))
        theta -= lr * tree.leaf_values[lor]
        ens.append(tree, -lr)
    return theta, ens


def test_l2_boosting_matches_sklearn_hist_gbm():
    from sklearn.ensemble import HistGradientBoostingRegressor

    rng = np.random.default_rng(90)
    X = rng.uniform(-1, 1, size=(3000, 5))
    y = np.sin(3 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.normal(size=3000)
    mapper = BinMapper(random_state=0).fit(X)
    theta, ens = _boost(
        mapper.transform(X), mapper, y[:, None], 200, max_depth=3, min_samples_leaf=20
    )
    ours = np.mean((theta[:, 0] - y) ** 2)
    ref = HistGradientBoostingRegressor(
        max_iter=200,
        max_depth=3,
        learning_rate=0.1,
        min_samples_leaf=20,
        l2_regularization=0.0,
        early_stopping=False,
        random_state=0,
    ).fit(X, y)
    theirs = np.mean((ref.predict(X) - y) ** 2)
    assert ours < 0.15 * np.var(y)
    assert 0.85 < ours / theirs < 1.15
    np.testing.assert_allclose(ens.predict_raw(X)[:, 0] + y.mean(), theta[:, 0], atol=1e-9)


def test_two_parameter_scalar_boosting_and_row_subsampling():
    rng = np.random.default_rng(91)
    X = rng.uniform(-1, 1, size=(2000, 3))
    targets = np.column_stack([np.sign(X[:, 0]) * 2.0, X[:, 1] ** 2 * 3.0])
    targets += 0.05 * rng.normal(size=targets.shape)
    mapper = BinMapper(random_state=0).fit(X)
    binned = mapper.transform(X)
    theta, ens = _boost(binned, mapper, targets, 100, max_depth=3, min_samples_leaf=20)
    mse = np.mean((theta - targets) ** 2, axis=0)
    assert (mse < 0.05 * targets.var(axis=0)).all()
    imp = ens.feature_importances()
    assert imp[0].argmax() == 0 and imp[1].argmax() == 1
    # Row subsampling: only half the rows each stage, still every row updated.
    theta = np.zeros_like(targets)
    for _ in range(100):
        rows = rng.choice(2000, 1000, replace=False)
        tree, lor = grow_tree(
            binned, theta - targets, rows=rows, max_depth=3, min_samples_leaf=20, **_kw(mapper)
        )
        theta -= 0.1 * tree.leaf_values[lor]
    assert (np.mean((theta - targets) ** 2, axis=0) < 0.1 * targets.var(axis=0)).all()


def test_grow_tree_validation():
    _, _, mapper, binned = _problem(95)
    g = np.zeros((300, 1))
    with pytest.raises(ValueError, match="'gradients'"):
        grow_tree(binned, np.zeros((299, 1)), **_kw(mapper))
    with pytest.raises(ValueError, match="'metric'"):
        grow_tree(binned, g, np.zeros((300, 2)), **_kw(mapper))
    with pytest.raises(ValueError, match="'rows'"):
        grow_tree(binned, g, rows=[0, 300], **_kw(mapper))
    with pytest.raises(ValueError, match="'min_samples_leaf'"):
        grow_tree(binned, g, min_samples_leaf=0, **_kw(mapper))
    with pytest.raises(ValueError, match="'binned'"):
        grow_tree(binned.astype(np.int64), g, **_kw(mapper))


@pytest.mark.parametrize("subsample", [False, True])
def test_planned_growth_equals_grow_tree(subsample):
    # The trainer's per-stage entry (`make_plan` once, `grow_planned` per tree) grows the
    # public `grow_tree`'s trees, real thresholds included, over many trees on one plan.
    from natgrad.boosting._hist.grow_checks import _check_rows, make_plan
    from natgrad.boosting._hist.grower import grow_planned

    rng, X, mapper, binned = _problem(11, n=600, d=4, max_bins=16)
    binned = np.asfortranarray(binned)
    bins = {
        "n_bins_non_missing": mapper.n_bins_non_missing_,
        "missing_values_bin_idx": mapper.missing_values_bin_idx_,
        "bin_thresholds": mapper.bin_thresholds_,
        "monotonic_cst": None,
        "is_categorical": None,
    }
    settings = {"max_depth": 3, "max_leaves": None, "min_samples_leaf": 5,
                "l2_regularization": 0.1, "leaf_prior": 0.0}  # fmt: skip
    plan = make_plan(binned, 2, False, None, **settings, **bins, min_gain_to_split=0.0)
    for stage in range(5):
        g = np.ascontiguousarray(rng.normal(size=(600, 2)) + X[:, [0]] * (stage + 1))
        g[np.isnan(g)] = 0.0
        rows = np.sort(rng.choice(600, 400, replace=False)).astype(np.int32) if subsample else None
        mask = np.array([True, stage % 2 == 0, True, True])
        ref, ref_leaf = grow_tree(binned, g, rows=rows, feature_mask=mask, **settings, **bins)
        got, got_leaf = grow_planned(plan, g, _check_rows(rows, 600), subsample, mask)
        np.testing.assert_array_equal(got_leaf, ref_leaf)
        np.testing.assert_array_equal(got.feature, ref.feature)
        np.testing.assert_array_equal(got.threshold, ref.threshold)
        np.testing.assert_array_equal(got.leaf_values, ref.leaf_values)
        split = got.feature >= 0
        assert split.any()
        for node in np.flatnonzero(split):  # the real threshold of the split's bin
            thr = mapper.bin_thresholds_[got.feature[node]]
            t = got.bin_threshold[node]
            assert got.threshold[node] == (thr[t] if t < thr.shape[0] else np.inf)
