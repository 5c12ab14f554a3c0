"""Robustness of the leaf rules: the leaf prior of the Fisher leaves and the descent fallback
of the "ngboost" leaves (docs/design.md, "Leaf prior").

Exact references (brute-force splits, per-leaf dense solves) for the kernels; seeded
end-to-end fits for the behaviours the reports were about (scale collapse on small data,
Student's t training that stops).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from natgrad import NGBoostRegressor, NGBoostSurvival
from natgrad.boosting._hist.binning import BinMapper
from natgrad.boosting._hist.grow_checks import pack_metric
from natgrad.boosting._hist.grower import grow_tree
from natgrad.boosting._training.descent import fisher_leaf_values

# --------------------------------------------------------------------------------- helpers


def _kw(mapper: BinMapper) -> dict:
    return dict(
        n_bins_non_missing=mapper.n_bins_non_missing_,
        missing_values_bin_idx=mapper.missing_values_bin_idx_,
        bin_thresholds=mapper.bin_thresholds_,
    )


def _problem(seed: int, n: int, p: int, matrix: bool):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    mapper = BinMapper(max_bins=8, random_state=0).fit(X)
    binned = mapper.transform(X)
    g = rng.normal(size=(n, p)) + 1.2 * (binned[:, 1] < 3)[:, None]
    if matrix:
        a = rng.normal(size=(n, p, p))
        # Fisher blocks whose size varies by two orders of magnitude over the rows.
        metric = (a @ a.transpose(0, 2, 1) / p + 0.1 * np.eye(p)) * np.exp(
            rng.uniform(-2.3, 2.3, n)
        )[:, None, None]
    else:
        metric = np.broadcast_to(np.eye(p), (n, p, p))
    return mapper, binned, g, metric


def _prior_value(G, H, n, l2, kappa):
    """The prior's leaf value and score by dense algebra: H (1 + kappa / n) + lambda I."""
    A = H * (1.0 + kappa / n) + l2 * np.eye(G.size)
    v = np.linalg.solve(A, G)
    return v, float(G @ v)


def _brute_force_stump(binned, mapper, g, metric, l2, kappa, min_leaf):
    n = binned.shape[0]
    root = _prior_value(g.sum(0), metric.sum(0), n, l2, kappa)[1]
    best = (-np.inf, -1, -1)
    for f in range(binned.shape[1]):
        for t in range(int(mapper.n_bins_non_missing_[f])):
            left = binned[:, f] <= t
            nl = int(left.sum())
            if nl < min_leaf or n - nl < min_leaf or not (binned[:, f] == t).any():
                continue
            gain = -root
            for mask in (left, ~left):
                gain += _prior_value(g[mask].sum(0), metric[mask].sum(0), mask.sum(), l2, kappa)[1]
            if gain > best[0] + 1e-12 * abs(gain):
                best = (gain, f, t)
    return best


# ------------------------------------------------------------------------ the leaf prior


@pytest.mark.parametrize(("p", "matrix"), [(1, False), (2, False), (1, True), (2, True), (3, True)])
@pytest.mark.parametrize("l2", [0.0, 0.7])
def test_leaf_prior_split_and_values_equal_dense_algebra(p, matrix, l2):
    kappa, min_leaf = 4.0, 3
    mapper, binned, g, metric = _problem(3 + p, 120, p, matrix)
    tree, lor = grow_tree(
        binned,
        g,
        pack_metric(metric) if matrix else None,
        max_depth=1,
        min_samples_leaf=min_leaf,
        l2_regularization=l2,
        leaf_prior=kappa,
        **_kw(mapper),
    )
    gain, f, t = _brute_force_stump(binned, mapper, g, metric, l2, kappa, min_leaf)
    assert (tree.feature[0], tree.bin_threshold[0]) == (f, t)
    np.testing.assert_allclose(tree.split_gain[0], gain, rtol=1e-8)
    for leaf in range(tree.leaf_values.shape[0]):
        rows = lor == leaf
        want = _prior_value(g[rows].sum(0), metric[rows].sum(0), rows.sum(), l2, kappa)[0]
        np.testing.assert_allclose(tree.leaf_values[leaf], want, rtol=1e-9, atol=1e-12)
    # Per-parameter gains: the diagonal decomposition with the same prior.
    parts = []
    left = lor == 0
    for mask in (left, ~left, np.ones(binned.shape[0], bool)):
        G, H, m = g[mask].sum(0), metric[mask].sum(0), mask.sum()
        parts.append(G**2 / (np.diag(H) * (1 + kappa / m) + l2))
    np.testing.assert_allclose(tree.gain[0], parts[0] + parts[1] - parts[2], rtol=1e-8)


def test_leaf_prior_zero_is_the_plain_solve():
    mapper, binned, g, metric = _problem(0, 200, 2, True)
    kw = dict(max_depth=3, min_samples_leaf=2, **_kw(mapper))
    a, la = grow_tree(binned, g, pack_metric(metric), **kw)
    b, lb = grow_tree(binned, g, pack_metric(metric), leaf_prior=0.0, **kw)
    np.testing.assert_array_equal(a.leaf_values, b.leaf_values)
    np.testing.assert_array_equal(la, lb)


def test_leaf_prior_rejects_bad_values():
    mapper, binned, g, metric = _problem(0, 50, 1, False)
    with pytest.raises(ValueError, match="'leaf_prior' argument of .* must be a float"):
        grow_tree(binned, g, leaf_prior=-1.0, **_kw(mapper))
    X, y = np.random.default_rng(0).normal(size=(30, 2)), np.arange(30.0)
    with pytest.raises(ValueError, match="'leaf_prior' parameter of NGBoostRegressor"):
        NGBoostRegressor(leaf_prior=-0.5, n_estimators=2).fit(X, y)


def test_leaf_prior_is_free_of_the_units_of_y():
    """Fitting c y + b gives loc' = c loc + b and scale' = c scale (a ridge lambda I would
    not: its strength depends on the units)."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 3))
    y = X[:, 0] + (0.3 + 0.3 * (X[:, 1] > 0)) * rng.normal(size=300)
    # Every row, as in test_trees_do_not_depend_on_the_units_of_y.
    kw = dict(n_estimators=60, learning_rate=0.1, min_samples_leaf=2, leaf_prior=5.0, subsample=1.0)
    a = NGBoostRegressor(**kw).fit(X, y).predict_dist(X)
    b = NGBoostRegressor(**kw).fit(X, 1000.0 * y + 7.0).predict_dist(X)
    np.testing.assert_allclose(b.loc, 1000.0 * a.loc + 7.0, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(b.scale, 1000.0 * a.scale, rtol=1e-6)


def test_leaf_prior_counts_rows_so_the_scale_of_the_weights_does_not_matter():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 3))
    y = X[:, 0] + rng.normal(size=200)
    w = rng.uniform(0.5, 2.0, 200)
    # Every row (subsample=1.0): the equality is to 1e-8, and a line-search tie after
    # 1e-16 differences could draw the fits apart.
    kw = dict(n_estimators=30, learning_rate=0.1, min_samples_leaf=2, leaf_prior=5.0, subsample=1.0)
    a = NGBoostRegressor(**kw).fit(X, y, sample_weight=w).predict_dist(X)
    b = NGBoostRegressor(**kw).fit(X, y, sample_weight=1e-3 * w).predict_dist(X)
    np.testing.assert_allclose(b.params, a.params, rtol=1e-8, atol=1e-10)


def _censored_weeks(seed: int, n: int):
    """Lognormal survival times rounded to whole weeks (ties), censored at 52 weeks."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    log_t = 4.2 + 0.5 * X[:, 0] + 0.8 * rng.normal(size=n)
    t = np.maximum(np.round(np.exp(log_t)), 1.0)
    event = (t < 52).astype(float)
    return X, np.minimum(t, 52.0), event


def test_leaf_prior_keeps_the_scale_from_collapsing_on_small_censored_data():
    """The report's setting (500 stages, lr 0.01, min_samples_leaf 1) on a small, heavily
    censored sample with tied times: without the prior, leaves fitted to one or two events
    drive their scale towards zero and some test rows get huge NLL."""
    X, t, e = _censored_weeks(0, 150)
    Xt, tt, et = _censored_weeks(1, 2000)
    nll = {}
    for kappa in (0.0, 5.0):
        model = NGBoostSurvival(
            n_estimators=500, learning_rate=0.01, min_samples_leaf=1, leaf_prior=kappa
        ).fit(X, t, e)
        nat = model.predict_dist(Xt).natural_params
        z = (np.log(tt) - nat["loc"]) / nat["scale"]
        rows = np.where(
            et == 1, -stats.norm.logpdf(z) + np.log(nat["scale"] * tt), -stats.norm.logsf(z)
        )
        nll[kappa] = float(np.mean(rows))
    assert nll[5.0] < nll[0.0] - 0.1, nll


# ------------------------------------------------------------------ the descent fallback


def test_fisher_leaf_values_equal_dense_solves():
    rng = np.random.default_rng(2)
    n, p, n_leaves = 90, 3, 4
    g = rng.normal(size=(n, p))
    a = rng.normal(size=(n, p, p))
    metric = a @ a.transpose(0, 2, 1) + 0.1 * np.eye(p)
    leaf = rng.integers(0, n_leaves, n).astype(np.int32)
    rows = np.sort(rng.choice(n, 60, replace=False)).astype(np.int32)
    got = fisher_leaf_values(g, pack_metric(metric), leaf, n_leaves, rows, 0.3, 2.0)
    keep = np.zeros(n, bool)
    keep[rows] = True
    for lf in range(n_leaves):
        m = keep & (leaf == lf)
        want = _prior_value(g[m].sum(0), metric[m].sum(0), m.sum(), 0.3, 2.0)[0]
        np.testing.assert_allclose(got[lf], want, rtol=1e-10)
        # A descent direction: the leaf's first-order loss change -G^T v is not positive.
        assert g[m].sum(0) @ got[lf] >= 0.0


def _heavy_tailed(seed: int, n: int = 1000):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = X[:, 0] + 0.5 * rng.standard_t(3, size=n) * np.exp(0.3 * X[:, 1])
    return X, y


@pytest.mark.parametrize("rule", ["ngboost", "fisher"])
def test_student_t_keeps_learning(rule):
    """With learned df the "ngboost" leaves stopped after ~8 stages (rows pushed to df ~ 1e8
    ask for log-df steps of ~1e7; no step along their leaf mean lowers the loss)."""
    X, y = _heavy_tailed(0)
    model = NGBoostRegressor(
        "student_t", leaf_rule=rule, n_estimators=50, learning_rate=0.05, random_state=0
    ).fit(X, y)
    loss = model.train_loss_
    assert np.all(np.diff(loss) < 0.0), np.flatnonzero(np.diff(loss) >= 0.0)
    assert loss[50] < loss[10] - 0.02


@pytest.mark.parametrize("dist", ["normal", "student_t"])
def test_fallback_leaves_are_the_ones_predicted(dist, monkeypatch):
    """Force the fallback in every stage (the compiled path for the normal family, the
    generic one for Student's t): the committed trees must predict the parameters that
    training moved to, and the loss must still fall."""
    from natgrad.boosting._training import trainer as _trainer

    calls = {"n": 0}
    search = _trainer.search_step

    def first_search_fails(line, *, loss_at_zero, **kw):
        calls["n"] += 1
        if calls["n"] % 2 == 1:
            return 0.0, loss_at_zero
        return search(line, loss_at_zero=loss_at_zero, **kw)

    monkeypatch.setattr(_trainer, "search_step", first_search_fails)
    X, y = _heavy_tailed(1, 400)
    w = np.random.default_rng(0).uniform(0.5, 2.0, 400)
    # Every row: Fisher leaves lower the loss of the rows they are solved on, so with a
    # subsample a fallback stage may move nothing (a loss that stays, not one that falls).
    model = NGBoostRegressor(
        dist, leaf_rule="ngboost", n_estimators=10, learning_rate=0.1, min_samples_leaf=3,
        subsample=1.0,
    ).fit(X, y, sample_weight=w)  # fmt: skip
    assert calls["n"] == 20
    loss = model.train_loss_
    assert np.all(np.diff(loss) < 0.0)
    nll = model.predict_dist(X).nll(y)
    assert np.average(nll, weights=w) == pytest.approx(loss[-1], rel=1e-9)
