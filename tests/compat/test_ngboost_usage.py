"""The NGBoost drop-in: NGBoost's documented usage with only the import lines changed."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeRegressor

from natgrad.compat import ngboost as compat
from natgrad.compat.ngboost import (
    CRPScore,
    Exponential,
    LogNormal,
    LogScore,
    MultivariateNormal,
    NGBClassifier,
    NGBRegressor,
    NGBSurvival,
    Normal,
    k_categorical,
)


@pytest.fixture(scope="module")
def diabetes():
    X, Y = load_diabetes(return_X_y=True)
    return train_test_split(X, Y, test_size=0.2, random_state=0)


@pytest.fixture(scope="module")
def survival_data():
    # Log-normal event times whose location depends on x0, censored by an independent
    # exponential censoring time.
    rng = np.random.default_rng(7)
    X = rng.normal(size=(400, 3))
    t_event = np.exp(1.0 + 0.8 * X[:, 0] + 0.5 * rng.normal(size=400))
    t_cens = rng.exponential(scale=8.0, size=400)
    T = np.minimum(t_event, t_cens)
    E = (t_event <= t_cens).astype(int)
    return X[:300], T[:300], E[:300], X[300:], T[300:], E[300:]


# ---------------------------------------------------------------------- the documented usage
def test_regression_usage(diabetes):
    X_reg_train, X_reg_test, Y_reg_train, Y_reg_test = diabetes
    ngb = NGBRegressor(n_estimators=60, verbose=False).fit(X_reg_train, Y_reg_train)
    Y_preds = ngb.predict(X_reg_test)
    Y_dists = ngb.pred_dist(X_reg_test)
    test_MSE = mean_squared_error(Y_preds, Y_reg_test)
    test_NLL = -Y_dists.logpdf(Y_reg_test).mean()
    # The marginal (a constant prediction) has MSE ≈ var(Y) and NLL ≈ 5.8 here.
    assert test_MSE < 0.8 * np.var(Y_reg_test)
    assert test_NLL < 5.75
    params = Y_dists[0:5].params
    assert set(params) == {"loc", "scale"} and params["loc"].shape == (5,)
    np.testing.assert_allclose(Y_dists.params["loc"], Y_preds)
    assert np.all(Y_dists.params["scale"] > 0)
    assert len(Y_dists) == len(X_reg_test)
    np.testing.assert_allclose(Y_dists.std(), Y_dists.params["scale"])
    lo, hi = Y_dists.interval(0.9)
    assert np.all(lo < Y_preds) and np.all(Y_preds < hi)


def test_feature_importances_per_parameter(diabetes):
    X_reg_train, _, Y_reg_train, _ = diabetes
    ngb = NGBRegressor(n_estimators=20, verbose=False).fit(X_reg_train, Y_reg_train)
    feature_importance_loc = ngb.feature_importances_[0]
    feature_importance_scale = ngb.feature_importances_[1]
    assert feature_importance_loc.shape == (X_reg_train.shape[1],)
    assert feature_importance_scale.sum() == pytest.approx(1.0)
    # BMI (column 2) and s5 (column 8) carry most of the signal of this dataset's mean.
    assert set(np.argsort(feature_importance_loc)[-3:]) & {2, 8}


def test_staged_predictions_and_max_iter(diabetes):
    X_reg_train, X_reg_test, Y_reg_train, Y_reg_test = diabetes
    ngb = NGBRegressor(n_estimators=15, verbose=False).fit(X_reg_train, Y_reg_train)
    staged = list(ngb.staged_predict(X_reg_test))
    dists = list(ngb.staged_pred_dist(X_reg_test))
    assert len(staged) == len(dists) == 15
    np.testing.assert_allclose(staged[-1], ngb.predict(X_reg_test))
    np.testing.assert_allclose(staged[9], ngb.predict(X_reg_test, max_iter=10))
    np.testing.assert_allclose(
        dists[9].params["scale"], ngb.pred_dist(X_reg_test, 10).params["scale"]
    )
    assert len(list(ngb.staged_predict(X_reg_test, max_iter=5))) == 5


def test_early_stopping_with_validation_set(diabetes):
    X_reg_train, X_reg_test, Y_reg_train, Y_reg_test = diabetes
    X_tr, X_val, Y_tr, Y_val = train_test_split(
        X_reg_train, Y_reg_train, test_size=0.2, random_state=1
    )
    # A large learning rate overfits quickly, so the validation loss turns within the budget.
    ngb = NGBRegressor(n_estimators=300, learning_rate=0.1, verbose=False)
    ngb.fit(X_tr, Y_tr, X_val=X_val, Y_val=Y_val, early_stopping_rounds=5)
    assert ngb.best_val_loss_itr is not None
    n_fitted = ngb.model_.n_estimators_
    # NGBoost's bookkeeping: best_val_loss_itr indexes the validation losses after stages
    # 1, 2, ...; the fit stops 5 stages after the best one.
    assert n_fitted < 300 and n_fitted == ngb.best_val_loss_itr + 1 + 5
    val = np.asarray(ngb.evals_result["val"]["LOGSCORE"])
    assert len(val) == len(ngb.evals_result["train"]["LOGSCORE"]) == n_fitted
    assert val[ngb.best_val_loss_itr] == val.min() and val[-5:].min() > val.min()
    # Predictions use every fitted stage by default, as NGBoost's do.
    np.testing.assert_array_equal(
        ngb.predict(X_reg_test), ngb.predict(X_reg_test, max_iter=n_fitted)
    )
    assert not np.array_equal(
        ngb.predict(X_reg_test), ngb.predict(X_reg_test, max_iter=ngb.best_val_loss_itr + 1)
    )


def test_early_stopping_with_validation_fraction(diabetes):
    X_reg_train, _, Y_reg_train, _ = diabetes
    ngb = NGBRegressor(
        n_estimators=300,
        learning_rate=0.1,
        early_stopping_rounds=5,
        random_state=0,
        verbose=False,
    ).fit(X_reg_train, Y_reg_train)
    assert ngb.best_val_loss_itr is not None and ngb.model_.n_estimators_ < 300
    # Without early stopping, validation_fraction holds nothing out (as in NGBoost).
    plain = NGBRegressor(n_estimators=5, verbose=False).fit(X_reg_train, Y_reg_train)
    assert plain.best_val_loss_itr is None and "val" not in plain.evals_result


def test_classification_usage_k_categorical():
    X, y = load_breast_cancer(return_X_y=True)
    X_cls_train, X_cls_test, Y_cls_train, Y_cls_test = train_test_split(
        X, y, test_size=0.2, random_state=0
    )
    ngb_cat = NGBClassifier(Dist=k_categorical(2), n_estimators=40, verbose=False)
    _ = ngb_cat.fit(X_cls_train, Y_cls_train)
    proba = ngb_cat.predict_proba(X_cls_test)
    assert proba.shape == (len(X_cls_test), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert roc_auc_score(Y_cls_test, proba[:, 1]) > 0.95
    assert (ngb_cat.predict(X_cls_test) == Y_cls_test).mean() > 0.9
    params = ngb_cat.pred_dist(X_cls_test[0:5]).params
    assert set(params) == {"p0", "p1"}
    np.testing.assert_allclose(params["p1"], proba[:5, 1])
    staged = list(ngb_cat.staged_predict_proba(X_cls_test[:5]))
    np.testing.assert_allclose(staged[-1], proba[:5])


def test_classification_three_classes():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 2))
    Y = np.digitize(X[:, 0] + 0.3 * rng.normal(size=300), [-0.5, 0.5])  # labels 0, 1, 2
    ngb = NGBClassifier(Dist=k_categorical(3), n_estimators=40, learning_rate=0.1, verbose=False)
    ngb.fit(X, Y)
    proba = ngb.predict_proba(X)
    assert proba.shape == (300, 3)
    assert (ngb.predict(X) == Y).mean() > 0.75
    assert set(ngb.pred_dist(X[:2]).params) == {"p0", "p1", "p2"}
    assert ngb.feature_importances_.shape == (2, 2)
    with pytest.raises(ValueError, match="k_categorical\\(4\\).*3 classes"):
        NGBClassifier(Dist=k_categorical(4), n_estimators=2, verbose=False).fit(X, Y)


@pytest.mark.parametrize("Dist", [LogNormal, Exponential])
def test_survival_usage(survival_data, Dist):
    X_surv_train, T_surv_train, E_surv_train, X_surv_test, T_surv_test, E_surv_test = survival_data
    assert 0.1 < 1 - E_surv_train.mean() < 0.6  # a real share of censored rows
    ngb = NGBSurvival(Dist=Dist, n_estimators=40, learning_rate=0.1, verbose=False)
    ngb.fit(X_surv_train, T_surv_train, E_surv_train)
    Y_dists = ngb.pred_dist(X_surv_test)
    preds = ngb.predict(X_surv_test)
    np.testing.assert_allclose(preds, Y_dists.mean())
    # Larger x0 means later events: the predicted scale (exp of the log-time location for
    # LogNormal, the mean for Exponential) must follow it.
    log_scale = np.log(Y_dists.params["scale"])
    assert np.corrcoef(log_scale, X_surv_test[:, 0])[0, 1] > 0.8
    keys = {"s", "scale"} if Dist is LogNormal else {"scale"}
    assert set(Y_dists.params) == keys
    sf = Y_dists.sf(np.full(len(Y_dists), 2.0))
    assert np.all((sf > 0) & (sf < 1))


def test_survival_validation_arguments(survival_data):
    X_tr, T_tr, E_tr, X_val, T_val, E_val = survival_data
    ngb = NGBSurvival(n_estimators=200, learning_rate=0.2, verbose=False)
    ngb.fit(X_tr, T_tr, E_tr, X_val=X_val, T_val=T_val, E_val=E_val, early_stopping_rounds=5)
    assert ngb.best_val_loss_itr is not None
    assert ngb.model_.n_estimators_ == ngb.best_val_loss_itr + 1 + 5
    with pytest.raises(ValueError, match="LogScore"):
        NGBSurvival(Score=CRPScore, verbose=False).fit(X_tr, T_tr, E_tr)


# ---------------------------------------------------------------------- against NGBoost
def test_matches_real_ngboost_on_diabetes(diabetes):
    ngboost = pytest.importorskip("ngboost")
    X_train, X_test, Y_train, Y_test = diabetes
    ours = NGBRegressor(n_estimators=60, verbose=False, random_state=0).fit(X_train, Y_train)
    theirs = ngboost.NGBRegressor(n_estimators=60, verbose=False, random_state=0)
    theirs.fit(X_train, Y_train)
    nll_ours = -ours.pred_dist(X_test).logpdf(Y_test).mean()
    nll_theirs = -theirs.pred_dist(X_test).logpdf(Y_test).mean()
    # Same algorithm, histogram vs exact splits: the test NLLs (≈ 5.5) agree closely.
    assert abs(nll_ours - nll_theirs) < 0.1
    loc_ours = ours.pred_dist(X_test).params["loc"]
    loc_theirs = theirs.pred_dist(X_test).params["loc"]
    assert np.corrcoef(loc_ours, loc_theirs)[0, 1] > 0.95


# ---------------------------------------------------------------------- mapping details
def test_get_params_and_clone_use_ngboost_names():
    ngb = NGBRegressor(Dist=LogNormal, Score=CRPScore, minibatch_frac=0.5, n_estimators=7)
    params = ngb.get_params()
    for name in (
        "Dist",
        "Score",
        "Base",
        "natural_gradient",
        "minibatch_frac",
        "col_sample",
        "early_stopping_rounds",
        "validation_fraction",
        "tol",
        "verbose_eval",
    ):
        assert name in params
    copy = clone(ngb)
    shallow = {k: v for k, v in params.items() if not k.startswith("Base")}
    assert {k: v for k, v in copy.get_params().items() if not k.startswith("Base")} == shallow
    assert copy.Base.get_params() == ngb.Base.get_params() and copy.Dist is LogNormal
    cat = clone(NGBClassifier(Dist=k_categorical(3)))
    assert cat.Dist == k_categorical(3)
    assert clone(NGBSurvival(Dist=Exponential)).Dist is Exponential


def test_base_mapping(diabetes):
    X, _, Y, _ = diabetes
    tree = NGBRegressor(
        Base=DecisionTreeRegressor(max_depth=2, min_samples_leaf=5), n_estimators=3, verbose=False
    ).fit(X, Y)
    assert tree.model_.max_depth == 2 and tree.model_.min_samples_leaf == 5
    assert tree.model_.base_learner is None and tree.model_.leaf_rule == "ngboost"
    default = NGBRegressor(n_estimators=3, verbose=False).fit(X, Y)
    # NGBoost's default tree (one-row leaves) maps to leaves of at least five rows.
    assert default.model_.max_depth == 3 and default.model_.min_samples_leaf == 5
    assert (
        NGBRegressor(Base=compat.default_tree_learner, n_estimators=2, verbose=False)
        .fit(X, Y)
        .model_.base_learner
        is None
    )
    ridge = NGBRegressor(Base=Ridge(), n_estimators=3, verbose=False).fit(X, Y)
    assert isinstance(ridge.model_.base_learner, Ridge)
    pruned = DecisionTreeRegressor(max_depth=3, ccp_alpha=0.1)
    assert (
        NGBRegressor(Base=pruned, n_estimators=2, verbose=False).fit(X, Y).model_.base_learner
        is pruned
    )


def test_natural_gradient_false_uses_the_plain_gradient(diabetes):
    X, X_test, Y, Y_test = diabetes
    nat = NGBRegressor(n_estimators=20, verbose=False).fit(X, Y)
    plain = NGBRegressor(natural_gradient=False, n_estimators=20, verbose=False).fit(X, Y)
    # The plain gradient of the Normal log score in loc is (μ − y)/σ², tiny for σ ≈ 60:
    # the location barely moves off the marginal mean, unlike with the natural gradient.
    spread_nat = np.std(nat.predict(X_test))
    spread_plain = np.std(plain.predict(X_test))
    assert spread_plain < 0.5 * spread_nat


def test_crps_score_and_other_distributions(diabetes):
    X, X_test, Y, Y_test = diabetes
    crps = NGBRegressor(Score=CRPScore, n_estimators=20, verbose=False).fit(X, Y)
    # NGBoost names the losses by the score class: "CRPSCORE".
    assert crps.evals_result["train"]["CRPSCORE"][-1] < crps.evals_result["train"]["CRPSCORE"][0]
    lognormal = NGBRegressor(Dist=LogNormal, n_estimators=10, verbose=False).fit(X, Y)
    assert set(lognormal.pred_dist(X_test[:3]).params) == {"s", "scale"}
    t = NGBRegressor(Dist=compat.T, n_estimators=5, verbose=False).fit(X, Y)
    np.testing.assert_allclose(t.predict(X_test), t.pred_dist(X_test).params["loc"])
    counts = np.round(Y / 10)
    poisson = NGBRegressor(Dist=compat.Poisson, n_estimators=5, verbose=False).fit(X, counts)
    assert set(poisson.pred_dist(X_test[:2]).params) == {"mu"}
    gamma = NGBRegressor(Dist=compat.Gamma, n_estimators=5, verbose=False).fit(X, Y)
    assert set(gamma.pred_dist(X_test[:2]).params) == {"alpha", "beta"}


def test_clear_errors(diabetes):
    X, _, Y, _ = diabetes
    with pytest.raises(ValueError, match=r"shape \(n_samples, k\) with k >= 2.*'normal'"):
        NGBRegressor(Dist=MultivariateNormal(2), verbose=False).fit(X, Y)
    with pytest.raises(ValueError, match="'k' argument of MultivariateNormal"):
        MultivariateNormal(0)
    with pytest.raises(TypeError, match="'Dist' parameter"):
        NGBRegressor(Dist="normal", verbose=False).fit(X, Y)
    with pytest.raises(TypeError, match="'Score' parameter"):
        NGBRegressor(Score="log", verbose=False).fit(X, Y)
    with pytest.raises(ValueError, match="CRPScore is not implemented for the Poisson"):
        NGBRegressor(Dist=compat.Poisson, Score=CRPScore, verbose=False).fit(X, np.round(Y))
    with pytest.raises(ValueError, match="NGBClassifier"):
        NGBRegressor(Dist=k_categorical(3), verbose=False).fit(X, Y)
    with pytest.raises(ValueError, match="k_categorical"):
        k_categorical(1)
    with pytest.raises(ValueError, match="Y_val"):
        NGBRegressor(verbose=False).fit(X, Y, X_val=X)
    assert Normal.__name__ == "Normal" and repr(k_categorical(3)) == "k_categorical(3)"


def test_weights_and_pickle(diabetes):
    import pickle

    X, X_test, Y, _ = diabetes
    X_tr, X_val, Y_tr, Y_val = X[:250], X[250:], Y[:250], Y[250:]
    w = np.ones(len(Y_tr))
    ngb = NGBRegressor(n_estimators=5, verbose=False)
    ngb.fit(
        X_tr, Y_tr, X_val=X_val, Y_val=Y_val, sample_weight=w, val_sample_weight=np.ones(len(Y_val))
    )
    unweighted = NGBRegressor(n_estimators=5, verbose=False).fit(
        X_tr, Y_tr, X_val=X_val, Y_val=Y_val
    )
    np.testing.assert_allclose(ngb.predict(X_test), unweighted.predict(X_test))
    # Doubling every weight leaves the fit unchanged; zero weights drop rows.
    doubled = NGBRegressor(n_estimators=5, verbose=False).fit(X_tr, Y_tr, sample_weight=2 * w)
    plain = NGBRegressor(n_estimators=5, verbose=False).fit(X_tr, Y_tr)
    np.testing.assert_allclose(doubled.predict(X_test), plain.predict(X_test), rtol=1e-10)
    back = pickle.loads(pickle.dumps(ngb))
    np.testing.assert_array_equal(back.predict(X_test), ngb.predict(X_test))
    assert back.Dist is Normal and back.Score is LogScore
