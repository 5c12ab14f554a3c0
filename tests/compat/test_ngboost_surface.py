"""The rest of NGBoost 0.6's public surface through `natgrad.compat.ngboost`: ``n_jobs``, the
estimators' signatures, ``BetaBinomial``'s ``n``, the configured distribution types in
``issubclass``/``isinstance``, ``load_ngboost_model``, loss monitors and NGBoost's validation
bookkeeping, ``make_distribution`` — each compared with NGBoost itself where the optional
``ngboost`` package is installed."""

from __future__ import annotations

import inspect
import pickle

import joblib
import numpy as np
import pytest
import scipy.stats as st
from sklearn.base import clone
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split

from natgrad.compat import ngboost as compat
from natgrad.compat.ngboost import NGBClassifier, NGBRegressor, NGBSurvival, load_ngboost_model
from natgrad.compat.ngboost import distns as D
from natgrad.compat.ngboost.manifold import manifold
from natgrad.compat.ngboost.scores import LogScore


@pytest.fixture(scope="module")
def diabetes():
    X, Y = load_diabetes(return_X_y=True)
    return train_test_split(X, Y, test_size=0.25, random_state=0)


# ---------------------------------------------------------------------- n_jobs
def test_n_jobs_reaches_the_engine_and_leaves_the_model_unchanged(diabetes):
    X, X_test, Y, _ = diabetes
    one = NGBRegressor(n_estimators=8, verbose=False, random_state=0, n_jobs=1).fit(X, Y)
    two = NGBRegressor(n_estimators=8, verbose=False, random_state=0, n_jobs=2).fit(X, Y)
    assert one.model_.n_jobs == 1 and two.model_.n_jobs == 2
    np.testing.assert_array_equal(one.predict(X_test), two.predict(X_test))
    labels = (Y > np.median(Y)).astype(int)
    clf = NGBClassifier(n_estimators=3, verbose=False, n_jobs=-1).fit(X, labels)
    assert clf.model_.n_jobs == -1
    for bad in (0, 1.5, "all"):
        with pytest.raises(ValueError, match="'n_jobs' parameter of NGBRegressor"):
            NGBRegressor(n_estimators=2, verbose=False, n_jobs=bad).fit(X, Y)


def test_n_jobs_zero_raises_as_in_ngboost(diabetes):
    ngboost = pytest.importorskip("ngboost")
    X, _, Y, _ = diabetes
    with pytest.raises(ValueError):
        ngboost.NGBRegressor(n_estimators=2, verbose=False, n_jobs=0).fit(X, Y)
    with pytest.raises(ValueError):
        NGBRegressor(n_estimators=2, verbose=False, n_jobs=0).fit(X, Y)


# ---------------------------------------------------------------------- signatures
def test_estimators_share_ngboost_signature_with_their_own_default():
    names = list(inspect.signature(NGBRegressor).parameters)
    for cls, default in ((NGBClassifier, D.k_categorical(2)), (NGBSurvival, D.LogNormal)):
        assert list(inspect.signature(cls).parameters) == names
        assert cls().Dist == default and cls().get_params()["Dist"] == default
        est = cls(D.Exponential, n_estimators=7)  # positional Dist, as NGBoost takes it
        assert est.Dist is D.Exponential and est.n_estimators == 7
        copy = clone(est).get_params(deep=False)
        assert copy.pop("Base").get_params() == est.Base.get_params()
        assert copy == {k: v for k, v in est.get_params(deep=False).items() if k != "Base"}
    assert NGBClassifier(D.k_categorical(3)).Dist == D.k_categorical(3)
    assert "k_categorical(3)" in repr(NGBClassifier(D.k_categorical(3)))


def test_parameter_names_are_ngboost():
    ngboost = pytest.importorskip("ngboost")
    for name in ("NGBRegressor", "NGBClassifier", "NGBSurvival"):
        ours = getattr(compat, name)().get_params(deep=False)
        theirs = getattr(ngboost, name)().get_params(deep=False)
        assert sorted(ours) == sorted(theirs)


# ---------------------------------------------------------------------- BetaBinomial(n=...)
def test_beta_binomial_number_of_trials_keyword():
    params = np.log([[2.0, 0.5, 1.0], [1.0, 3.0, 1.0]])
    a, b = np.exp(params)
    dist = D.BetaBinomial(params, n=20)
    y = np.array([3.0, 0.0, 20.0])
    np.testing.assert_allclose(dist.logpdf(y), st.betabinom(20, a, b).logpmf(y), rtol=1e-10)
    np.testing.assert_allclose(dist.logpmf(y), st.betabinom(20, a, b).logpmf(y), rtol=1e-10)
    np.testing.assert_allclose(dist.mean(), 20 * a / (a + b))
    assert dist.params["n"] == 20 and D.BetaBinomial(params).params["n"] == 1
    assert dist[0:2].n == 20 and len(dist[0:2]) == 2
    assert pickle.loads(pickle.dumps(dist)).n == 20
    np.testing.assert_allclose(pickle.loads(pickle.dumps(dist)).mean(), dist.mean())
    assert D.BetaBinomial.n == 1  # the keyword sets the instance's n only

    class BetaBinomial20(D.BetaBinomial):
        n = 20

    counts = np.array([2.0, 5.0, 7.0, 11.0, 3.0, 8.0])
    np.testing.assert_allclose(D.BetaBinomial.fit(counts, n=20), BetaBinomial20.fit(counts))
    assert not np.allclose(D.BetaBinomial.fit(counts, n=20), D.BetaBinomial.fit(counts, n=12))
    with pytest.raises(ValueError, match="'n' argument of BetaBinomial"):
        D.BetaBinomial(params, n=0)


def test_beta_binomial_keyword_as_ngboost():
    pytest.importorskip("ngboost")
    from ngboost import distns as nd

    params = np.log([[2.0, 0.5, 1.0], [1.0, 3.0, 1.0]])
    ours, theirs = D.BetaBinomial(params, n=20), nd.BetaBinomial(params, n=20)
    y = np.array([3.0, 0.0, 20.0])
    np.testing.assert_allclose(ours.logpmf(y), theirs.logpmf(y), rtol=1e-10)
    np.testing.assert_allclose(ours.mean(), theirs.mean())
    assert set(ours.params) == set(theirs.params) and ours[1:].n == theirs[1:].n == 20


# ---------------------------------------------------------------------- configured types
def test_configured_types_in_issubclass_and_isinstance():
    cat3 = D.k_categorical(3)
    assert issubclass(cat3, D.ClassificationDistn) and issubclass(cat3, D.Distn)
    assert not issubclass(cat3, D.RegressionDistn)
    assert issubclass(D.Bernoulli, D.ClassificationDistn)
    for k in (1, 2):
        assert issubclass(D.MultivariateNormal(k), D.RegressionDistn)
        assert not issubclass(D.MultivariateNormal(k), D.ClassificationDistn)
    dist = cat3(np.zeros((2, 4)))
    assert isinstance(dist, cat3) and isinstance(dist, D.ClassificationDistn)
    assert not isinstance(dist, D.k_categorical(4)) and not isinstance(dist, D.Normal)
    assert issubclass(cat3, D.k_categorical(3)) and not issubclass(cat3, D.k_categorical(4))
    assert not issubclass(D.Normal, cat3)


def test_configured_types_classify_as_ngboost_factories_do():
    pytest.importorskip("ngboost")
    from ngboost import distns as nd

    for ours, theirs in (
        (D.k_categorical(3), nd.k_categorical(3)),
        (D.MultivariateNormal(2), nd.MultivariateNormal(2)),
    ):
        for base in ("Distn", "RegressionDistn", "ClassificationDistn"):
            assert issubclass(ours, getattr(D, base)) == issubclass(theirs, getattr(nd, base))


# ---------------------------------------------------------------------- load_ngboost_model
def test_load_ngboost_model_reads_joblib_and_pickle_files(diabetes, tmp_path):
    X, X_test, Y, _ = diabetes
    ngb = NGBRegressor(n_estimators=5, verbose=False, random_state=0).fit(X, Y)
    joblib.dump(ngb, tmp_path / "model.joblib")
    with open(tmp_path / "model.pkl", "wb") as fh:
        pickle.dump(ngb, fh)
    for path in (tmp_path / "model.joblib", str(tmp_path / "model.pkl")):
        loaded = load_ngboost_model(path)
        assert type(loaded) is NGBRegressor
        np.testing.assert_array_equal(loaded.predict(X_test), ngb.predict(X_test))
    assert compat.helpers.load_ngboost_model is load_ngboost_model


# ---------------------------------------------------------------------- loss monitors
def _mae(D, Y, W=None):  # noqa: N803 - NGBoost's monitor arguments
    return float(np.average(np.abs(D.mean() - Y), weights=W))


def test_default_losses_are_ngboost_lists(diabetes):
    X, X_val, Y, Y_val = diabetes
    ngb = NGBRegressor(n_estimators=6, verbose=False).fit(X, Y, X_val=X_val, Y_val=Y_val)
    train, val = ngb.evals_result["train"]["LOGSCORE"], ngb.evals_result["val"]["LOGSCORE"]
    assert len(train) == len(val) == 6
    # training loss before stages 1..6 (0..5 stages fitted), validation loss after them
    nll = [-ngb.pred_dist(X, max_iter=k).logpdf(Y).mean() for k in range(6)]
    np.testing.assert_allclose(train, nll, rtol=1e-9)
    staged = [-d.logpdf(Y_val).mean() for d in ngb.staged_pred_dist(X_val)]
    np.testing.assert_allclose(val, staged, rtol=1e-9)
    assert ngb.best_val_loss_itr == int(np.argmin(val))


def test_loss_monitors_replace_the_mean_score(diabetes):
    X, X_val, Y, Y_val = diabetes
    w = np.linspace(0.5, 2.0, len(Y))
    ngb = NGBRegressor(n_estimators=6, verbose=False).fit(
        X, Y, X_val=X_val, Y_val=Y_val, sample_weight=w,
        val_sample_weight=np.ones(len(Y_val)), train_loss_monitor=_mae, val_loss_monitor=_mae,
    )  # fmt: skip
    train, val = ngb.evals_result["train"]["LOGSCORE"], ngb.evals_result["val"]["LOGSCORE"]
    expected = [_mae(ngb.pred_dist(X, max_iter=k), Y, w) for k in range(6)]
    np.testing.assert_allclose(train, expected, rtol=1e-12)
    expected = [np.mean(np.abs(p - Y_val)) for p in ngb.staged_predict(X_val)]
    np.testing.assert_allclose(val, expected, rtol=1e-12)
    assert ngb.best_val_loss_itr == int(np.argmin(val))


def _counting_monitor(best_stage):
    """A validation monitor whose loss after stage s is |s - best_stage| (it counts calls)."""
    calls = []

    def monitor(D, Y):  # noqa: N803
        calls.append(len(D))
        return abs(len(calls) - best_stage)

    return monitor


def test_validation_monitor_decides_early_stopping(diabetes):
    X, X_val, Y, Y_val = diabetes
    ngb = NGBRegressor(n_estimators=30, verbose=False, random_state=0)
    ngb.fit(X, Y, X_val=X_val, Y_val=Y_val, val_loss_monitor=_counting_monitor(7),
            early_stopping_rounds=3)  # fmt: skip
    # best after stage 7 (index 6); three worse stages follow, so NGBoost keeps 10
    assert ngb.best_val_loss_itr == 6 and ngb.evals_result["val"]["LOGSCORE"][6] == 0
    assert len(ngb.base_models) == len(ngb.scalings) == len(ngb.col_idxs) == 10
    assert len(ngb.evals_result["train"]["LOGSCORE"]) == 10
    assert len(ngb.staged_pred_dist(X_val)) == 10
    np.testing.assert_array_equal(ngb.predict(X_val), ngb.predict(X_val, max_iter=10))
    np.testing.assert_array_equal(ngb.predict(X_val, max_iter=30), ngb.predict(X_val))
    assert ngb.model_.n_estimators_ == 30  # the engine trained every stage
    restored = pickle.loads(pickle.dumps(ngb))
    np.testing.assert_array_equal(restored.predict(X_val), ngb.predict(X_val))


def test_validation_monitor_stops_where_ngboost_stops(diabetes):
    ngboost = pytest.importorskip("ngboost")
    from sklearn.tree import DecisionTreeRegressor

    X, X_val, Y, Y_val = diabetes
    exact = DecisionTreeRegressor(max_depth=3, ccp_alpha=1e-12)
    fits = []
    for cls in (NGBRegressor, ngboost.NGBRegressor):
        model = cls(Base=exact, n_estimators=30, verbose=False, random_state=0)
        model.fit(X, Y, X_val=X_val, Y_val=Y_val, val_loss_monitor=_counting_monitor(7),
                  early_stopping_rounds=3)  # fmt: skip
        fits.append(model)
    ours, theirs = fits
    assert ours.best_val_loss_itr == theirs.best_val_loss_itr
    assert len(ours.base_models) == len(theirs.base_models)
    assert ours.evals_result["val"] == theirs.evals_result["val"]
    np.testing.assert_allclose(ours.predict(X_val), theirs.predict(X_val), rtol=1e-4)
    np.testing.assert_allclose(
        ours.evals_result["train"]["LOGSCORE"], theirs.evals_result["train"]["LOGSCORE"],
        rtol=1e-5,
    )  # fmt: skip


def test_classifier_and_survival_monitors_get_ngboost_targets():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    labels = np.where(X[:, 0] + 0.5 * rng.normal(size=200) > 0, "yes", "no")
    seen = []

    def monitor(D, Y, W):  # noqa: N803
        seen.append(np.unique(Y))
        return D.total_score(Y, W)

    clf = NGBClassifier(n_estimators=5, verbose=False).fit(X, labels, train_loss_monitor=monitor)
    assert all(list(s) == [0, 1] for s in seen) and len(seen) == 5
    plain = NGBClassifier(n_estimators=5, verbose=False).fit(X, labels)
    np.testing.assert_allclose(
        clf.evals_result["train"]["LOGSCORE"], plain.evals_result["train"]["LOGSCORE"], rtol=1e-9
    )
    T = np.exp(1.0 + X[:, 0] + 0.3 * rng.normal(size=200))
    E = rng.random(200) < 0.7
    fields = []

    def censored(D, Y, W):  # noqa: N803
        fields.append(Y.dtype.names)
        return D.total_score(Y, W)

    surv = NGBSurvival(n_estimators=5, verbose=False).fit(X, T, E, train_loss_monitor=censored)
    assert set(fields) == {("Event", "Time")}
    plain = NGBSurvival(n_estimators=5, verbose=False).fit(X, T, E)
    np.testing.assert_allclose(
        surv.evals_result["train"]["LOGSCORE"], plain.evals_result["train"]["LOGSCORE"], rtol=1e-9
    )


def test_early_stopping_holdout_and_rounds_as_ngboost(diabetes):
    X, _, Y, _ = diabetes
    # fit's early_stopping_rounds without a validation set: no holdout, every stage.
    plain = NGBRegressor(n_estimators=8, verbose=False).fit(X, Y, early_stopping_rounds=2)
    assert plain.best_val_loss_itr is None and len(plain.base_models) == 8
    held = NGBRegressor(n_estimators=8, verbose=False, random_state=0, early_stopping_rounds=50)
    held.fit(X, Y)
    assert len(held.evals_result["val"]["LOGSCORE"]) == 8
    ngboost = pytest.importorskip("ngboost")
    theirs = ngboost.NGBRegressor(n_estimators=8, verbose=False, random_state=0,
                                  early_stopping_rounds=50).fit(X, Y)  # fmt: skip
    # the same rows held out: the marginal fit to the same training rows
    np.testing.assert_allclose(held.init_params, theirs.init_params, rtol=1e-8)
    assert not np.allclose(held.init_params, plain.init_params)


# ---------------------------------------------------------------------- make_distribution
def _sympy_beta(module):
    """NGBoost's documented example: Beta from SymPy and SciPy (``module``'s factory)."""
    sympy = pytest.importorskip("sympy")
    import sympy.stats as symstats

    alpha, beta, y = sympy.symbols("alpha beta y", positive=True)
    return module.make_distribution(
        params=[(alpha, True), (beta, True)], y=y, sympy_dist=symstats.Beta("Y", alpha, beta),
        scipy_dist_cls=st.beta, scipy_kwarg_map={"a": alpha, "b": beta}, name="SympyBeta",
    )  # fmt: skip


# Module level, so that pickles of models using it find it by name (as users must do).
try:
    from natgrad.compat.ngboost.distns import sympy_utils as _ours_sympy

    SympyBeta = _sympy_beta(_ours_sympy)
except pytest.skip.Exception:  # no sympy
    SympyBeta = None


def test_make_distribution_trains_like_the_builtin(diabetes):
    if SympyBeta is None:
        pytest.skip("sympy is not installed")
    assert issubclass(SympyBeta, D.RegressionDistn) and SympyBeta.n_params == 2
    assert SympyBeta.__module__ == __name__
    X, X_test, Y, _ = diabetes
    target = Y / 400.0
    np.testing.assert_allclose(SympyBeta.fit(target), D.Beta.fit(target), rtol=1e-3)
    params = np.log([[2.0, 0.5], [3.0, 1.5]])
    dist = SympyBeta(params)
    np.testing.assert_allclose(dist.logpdf([0.3, 0.8]), D.Beta(params).logpdf([0.3, 0.8]))
    np.testing.assert_allclose(dist.mean(), D.Beta(params).mean())
    assert set(dist.params) == {"alpha", "beta"} and len(dist[1:]) == 1
    assert dist.sample(4, random_state=0).shape == (4, 2)
    with pytest.raises(AttributeError):
        _ = dist.nonexistent
    kw = dict(n_estimators=20, verbose=False, random_state=0)
    user = NGBRegressor(Dist=SympyBeta, **kw).fit(X, target)
    builtin = NGBRegressor(Dist=D.Beta, **kw).fit(X, target)
    # the same model up to the marginal fits (SciPy's and natgrad's maximum likelihood)
    np.testing.assert_allclose(user.predict(X_test), builtin.predict(X_test), rtol=1e-3)
    restored = pickle.loads(pickle.dumps(user))
    np.testing.assert_array_equal(restored.predict(X_test), user.predict(X_test))


def test_make_distribution_classification_and_fixed_parameters():
    sympy = pytest.importorskip("sympy")

    from natgrad.compat.ngboost.distns.sympy_utils import make_distribution

    alpha, beta, y = sympy.symbols("alpha beta y", positive=True)
    p = alpha / (alpha + beta)
    bernoulli = -(y * sympy.log(p) + (1 - y) * sympy.log(1 - p))
    BetaBernoulli = make_distribution(
        params=[(alpha, True), (beta, True)], y=y, score_expr=bernoulli,
        class_prob_exprs=[1 - p, p], name="SymBetaBernoulli",
    )  # fmt: skip
    assert issubclass(BetaBernoulli, D.ClassificationDistn)
    probs = BetaBernoulli(np.log([[1.0, 3.0], [1.0, 1.0]])).class_probs()
    np.testing.assert_allclose(probs, [[0.5, 0.5], [0.25, 0.75]])
    draws = BetaBernoulli(np.log([[1.0, 3.0], [1.0, 1.0]])).sample(4000, random_state=0)
    # P(Y = 1) = 3/4 in the second row; 4 standard errors: false alarm about 6e-5
    assert abs(draws[:, 1].mean() - 0.75) < 4 * np.sqrt(0.25 * 0.75 / 4000)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    labels = (X[:, 0] + 0.5 * rng.normal(size=300) > 0).astype(int)
    clf = NGBClassifier(Dist=BetaBernoulli, n_estimators=15, learning_rate=0.1, verbose=False)
    clf.fit(X, labels)
    loss = clf.evals_result["train"]["LOGSCORE"]
    assert loss[-1] < loss[0] and clf.predict_proba(X[:3]).shape == (3, 2)
    # fixed parameters by keyword, with defaults (NGBoost's BetaBinomial pattern)
    n = sympy.Symbol("n", positive=True, integer=True)
    score = -(
        sympy.loggamma(n + 1) - sympy.loggamma(y + 1) - sympy.loggamma(n - y + 1)
        + sympy.loggamma(y + alpha) + sympy.loggamma(n - y + beta)
        - sympy.loggamma(n + alpha + beta) + sympy.loggamma(alpha + beta)
        - sympy.loggamma(alpha) - sympy.loggamma(beta)
    )  # fmt: skip
    BB = make_distribution(
        params=[(alpha, True), (beta, True)], y=y, score_expr=score, extra_params=[(n, 5)],
        scipy_dist_cls=st.betabinom, scipy_kwarg_map={"n": n, "a": alpha, "b": beta},
        fit_fn=lambda Y: np.zeros(2), name="SymBB",
    )  # fmt: skip
    dist = BB(np.zeros((2, 3)), n=20)
    assert dist.n == 20 and dist[0:2].n == 20 and BB(np.zeros((2, 3))).n == 5
    np.testing.assert_allclose(dist.mean(), 10.0)
    np.testing.assert_allclose(BB.fit(np.array([1.0])), [0.0, 0.0])
    with pytest.raises(TypeError, match="fixed parameters"):
        BB(np.zeros((2, 3)), m=3)
    with pytest.raises(ValueError, match="not both"):
        make_distribution([(alpha, True)], y, score_expr=bernoulli, scipy_dist_cls=st.beta,
                          class_prob_exprs=[1 - p, p])  # fmt: skip
    with pytest.raises(ValueError, match="at least 2"):
        make_distribution([(alpha, True)], y, score_expr=bernoulli, class_prob_exprs=[p])


def test_make_distribution_as_ngboost():
    pytest.importorskip("ngboost")
    from ngboost.distns import sympy_utils as theirs_sympy

    if SympyBeta is None:
        pytest.skip("sympy is not installed")
    theirs = _sympy_beta(theirs_sympy)
    y = np.random.default_rng(3).beta(2.0, 5.0, size=400)
    np.testing.assert_allclose(SympyBeta.fit(y), theirs.fit(y), rtol=1e-8)
    params = np.log([[2.0, 0.5], [3.0, 1.5]])
    ours_d, theirs_d = SympyBeta(params), theirs(params)
    for key in ("alpha", "beta"):
        np.testing.assert_allclose(ours_d.params[key], theirs_d.params[key])
    np.testing.assert_allclose(ours_d.logpdf([0.3, 0.8]), theirs_d.logpdf([0.3, 0.8]))
    ours_s = manifold(LogScore, SympyBeta)(params)
    theirs_s = theirs_manifold(theirs)(params)
    np.testing.assert_allclose(ours_s.d_score(np.array([0.3, 0.8])),
                               theirs_s.d_score(np.array([0.3, 0.8])), rtol=1e-10)  # fmt: skip
    # NGBoost adds 1e-8 to the diagonal of its closed-form metric
    np.testing.assert_allclose(ours_s.metric(), theirs_s.metric(), rtol=1e-7, atol=2e-8)


def theirs_manifold(dist):
    from ngboost.manifold import manifold as ngb_manifold
    from ngboost.scores import LogScore as NGBLogScore

    return ngb_manifold(NGBLogScore, dist)


# ---------------------------------------------------------------------- distribution attributes
_P3 = np.array([[0.0, 1.0, 2.0, -1.0], [0.5, 0.0, -2.0, 1.0]])  # k_categorical(3), 4 rows
_P2 = np.array([[0.0, 1.0], [0.3, 0.1]])  # (loc, log scale), 2 rows
_MVN2 = np.array([[0.0, 1.0], [1.0, -1.0], [0.2, -0.3], [0.5, 0.1], [0.1, 0.4]])  # k = 2


def _attribute_cases():
    """(name of the NGBoost factory or class, its arguments, internal parameters, the
    attributes NGBoost's instances have that the compat layer provides as well)."""
    return [
        ("k_categorical", (3,), _P3, ("probs", "logits", "K_", "problem_type")),
        ("k_categorical", (2,), _P3[:1], ("probs", "logits", "K_", "problem_type")),
        ("TFixedDf", None, _P2, ("df", "fixed_df")),
        ("TFixedDfFixedVar", None, _P2[:1], ("df", "fixed_df")),
        ("Cauchy", None, _P2, ("df", "fixed_df")),
        ("Laplace", None, _P2, ("logscale",)),
        ("MultivariateNormal", (2,), _MVN2, ("p", "N", "tril_L", "L", "cov_inv")),
        ("MultivariateNormal", (1,), _P2, ("p", "N", "tril_L", "L", "cov_inv")),
    ]


def _build(module, name, args, params):
    factory = getattr(module, name)
    return (factory if args is None else factory(*args))(params)


def test_distribution_attributes_in_ngboost_layout():
    cat = _build(D, "k_categorical", (3,), _P3)
    assert cat.probs.shape == cat.logits.shape == (3, 4) and cat.K_ == 3
    np.testing.assert_allclose(cat.probs.T, cat.class_probs())
    np.testing.assert_allclose(cat.probs.sum(axis=0), 1.0)
    assert cat.problem_type == "classification"
    t = _build(D, "TFixedDf", None, _P2)
    np.testing.assert_array_equal(t.df, [3.0, 3.0])
    np.testing.assert_array_equal(_build(D, "Cauchy", None, _P2).df, [1.0, 1.0])
    np.testing.assert_array_equal(_build(D, "Laplace", None, _P2).logscale, _P2[1])
    mvn = _build(D, "MultivariateNormal", (2,), _MVN2)
    assert (mvn.p, mvn.N) == (2, 2) and mvn.L.shape == (2, 2, 2)
    np.testing.assert_allclose(np.linalg.inv(mvn.cov_inv), mvn.params["scale"], rtol=1e-10)
    assert mvn.rv(random_state=0).shape == (2, 2)
    # Every distribution: an unknown name is an AttributeError, so getattr's default works
    # (LogitNormal, which has no scipy equivalent, raised NotImplementedError).
    for name in ("Normal", "LogitNormal", "Beta", "Poisson", "Gamma"):
        cls = getattr(D, name)
        dist = cls(np.zeros((cls.n_params, 2)))
        assert getattr(dist, "no_such_attribute", None) is None


@pytest.mark.filterwarnings("ignore:Using Multivariate normal with k=1")  # NGBoost's advice
def test_distribution_attributes_as_ngboost():
    ngboost = pytest.importorskip("ngboost")
    for name, args, params, attributes in _attribute_cases():
        ours = _build(D, name, args, params)
        theirs = _build(ngboost.distns, name, args, params)
        for attribute in attributes:
            mine, expected = getattr(ours, attribute), getattr(theirs, attribute)
            if isinstance(expected, str):
                assert mine == expected
                continue
            # NGBoost adds 1e-6 to the Cholesky factor's diagonal (against singular
            # matrices); natgrad's family is exact.
            rtol = 1e-5 if attribute in ("L", "cov_inv") else 1e-12
            np.testing.assert_allclose(
                np.asarray(mine, dtype=float),
                np.asarray(expected, dtype=float),
                rtol=rtol,
                err_msg=f"{name}{args or ''}.{attribute}",
            )
