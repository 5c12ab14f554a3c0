"""Boosting with multivariate normal targets: y of shape (n, k), one tree per stage.

The recovery test draws from a known model whose correlation and scales depend on features;
its test-NLL comparison with the marginal fit uses a margin of 5 standard errors of the mean
per-row difference (a false-alarm rate of 2.9e-7 under a normal approximation).
"""

from __future__ import annotations

import hashlib
import json
import struct

import numpy as np
import pytest
from scipy import stats

import natgrad
from natgrad.boosting import NGBoostRegressor, NGBoostSurvival
from natgrad.compat.ngboost import MultivariateNormal, NGBRegressor
from natgrad.distributions import MultivariateNormal as MVN
from natgrad.io import MAGIC, ModelFileError


def _truth(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Means (n, 2) and covariances (n, 2, 2): correlation 0.8·x₃, log scales linear in x₂."""
    loc = np.column_stack([2.0 * X[:, 0], -X[:, 1]])
    s1, s2 = np.exp(0.5 * X[:, 2]), np.exp(-0.5 * X[:, 2])
    rho = 0.8 * X[:, 3]
    cov = np.empty((X.shape[0], 2, 2))
    cov[:, 0, 0], cov[:, 1, 1] = s1**2, s2**2
    cov[:, 0, 1] = cov[:, 1, 0] = rho * s1 * s2
    return loc, cov


def _draw(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, 5))
    loc, cov = _truth(X)
    eps = np.einsum("nij,nj->ni", np.linalg.cholesky(cov), rng.standard_normal((n, 2)))
    return X, loc + eps


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, ...]:
    X, Y = _draw(3000, seed=0)
    X_test, Y_test = _draw(2000, seed=1)
    return X, Y, X_test, Y_test


@pytest.fixture(scope="module")
def fitted(data) -> NGBoostRegressor:
    X, Y, _, _ = data
    return NGBoostRegressor(
        "multivariate_normal", n_estimators=300, learning_rate=0.05, random_state=0
    ).fit(X, Y)


def _corr(cov: np.ndarray) -> np.ndarray:
    return cov[:, 0, 1] / np.sqrt(cov[:, 0, 0] * cov[:, 1, 1])


def test_recovers_feature_dependent_correlation_and_beats_the_marginal(data, fitted) -> None:
    _, Y, X_test, Y_test = data
    dist = fitted.predict_dist(X_test)
    assert isinstance(dist, MVN) and dist.dim == 2 and len(dist) == 2000
    rho_hat, rho = _corr(dist.cov()), 0.8 * X_test[:, 3]
    # The predicted correlation moves with x₃ the right way, and strongly.
    assert stats.spearmanr(rho_hat, rho).statistic > 0.8
    assert rho_hat[rho > 0.5].mean() > 0.3 and rho_hat[rho < -0.5].mean() < -0.3
    # Log scales: the first coordinate's grows with x₂, the second's shrinks.
    var = np.einsum("nii->ni", dist.cov())
    assert stats.spearmanr(var[:, 0], X_test[:, 2]).statistic > 0.7
    assert stats.spearmanr(var[:, 1], X_test[:, 2]).statistic < -0.7
    marginal = MVN.from_params(MVN.fit_marginal(Y))
    gain = marginal.nll(np.asarray(Y_test)) - dist.nll(Y_test)
    se = gain.std() / np.sqrt(gain.size)
    assert gain.mean() > 5.0 * se
    # The exact model is the floor: the fit is not better than the truth by more than noise.
    truth = MVN(*_truth(X_test))
    excess = dist.nll(Y_test) - truth.nll(Y_test)
    assert excess.mean() > -5.0 * excess.std() / np.sqrt(excess.size)


def test_predictions_have_the_target_shape(data, fitted) -> None:
    _, _, X_test, Y_test = data
    pred = fitted.predict(X_test[:10])
    assert pred.shape == (10, 2)
    np.testing.assert_array_equal(pred, fitted.predict_dist(X_test[:10]).mean())
    assert fitted.init_params_.shape == (1, 5)
    assert fitted.feature_importances_.shape == (5, 5)
    assert np.isfinite(fitted.score(X_test, Y_test))
    tags = fitted.__sklearn_tags__().target_tags
    assert tags.multi_output and not tags.single_output
    assert NGBoostRegressor().__sklearn_tags__().target_tags.single_output


def test_staged_predict_dist_ends_at_predict_dist(data) -> None:
    X, Y, X_test, _ = data
    model = NGBoostRegressor("multivariate_normal", n_estimators=8, learning_rate=0.1)
    model.fit(X[:500], Y[:500])
    staged = list(model.staged_predict_dist(X_test[:20]))
    assert len(staged) == 8
    for stage, dist in enumerate(staged, start=1):
        np.testing.assert_allclose(
            dist.params, model.predict_dist(X_test[:20], n_stages=stage).params, rtol=1e-12
        )
    np.testing.assert_array_equal(staged[-1].params, model.predict_dist(X_test[:20]).params)


@pytest.mark.parametrize("leaf_rule", ["fisher", "ngboost"])
def test_three_dimensions_and_both_leaf_rules_reduce_the_loss(leaf_rule: str) -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(600, 4))
    Y = X[:, :3] @ np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])
    Y = Y + rng.normal(size=(600, 3)) * np.exp(0.3 * X[:, 3:4])
    model = NGBoostRegressor(
        "multivariate_normal", n_estimators=40, learning_rate=0.1, leaf_rule=leaf_rule
    ).fit(X, Y)
    assert model.predict_dist(X).n_params == 9
    assert np.all(np.diff(model.train_loss_) <= 1e-12)
    assert model.train_loss_[-1] < model.train_loss_[0] - 0.3


def test_eval_set_and_early_stopping(data) -> None:
    X, Y, X_test, Y_test = data
    model = NGBoostRegressor(
        "multivariate_normal", n_estimators=400, learning_rate=0.3, n_iter_no_change=5
    ).fit(X[:1000], Y[:1000], eval_set=(X_test[:500], Y_test[:500]))
    assert np.isfinite(model.validation_loss_).all()
    best = int(np.argmin(model.validation_loss_))
    assert model.best_iteration_ == best


@pytest.mark.parametrize("scale", [1e-6, 1e6])
def test_extreme_target_scales_give_finite_fits(data, scale: float) -> None:
    X, Y, X_test, _ = data
    model = NGBoostRegressor("multivariate_normal", n_estimators=30, learning_rate=0.1)
    model.fit(X[:800], scale * Y[:800])
    dist = model.predict_dist(X_test[:200])
    assert np.isfinite(dist.params).all() and np.isfinite(dist.cov()).all()
    assert np.isfinite(model.train_loss_).all()
    assert model.train_loss_[-1] < model.train_loss_[0]
    # The fitted means live on the targets' scale.
    assert np.abs(model.predict(X_test[:200])).max() < 10 * scale


@pytest.mark.parametrize(
    ("y", "match"),
    [
        (lambda Y: Y[:, 0], r"shape \(n_samples, k\) with k >= 2.*distribution='normal'"),
        (lambda Y: Y[:, :1], r"shape \(n_samples, k\) with k >= 2.*distribution='normal'"),
        (lambda Y: Y[:, :, None], r"shape \(n_samples, k\)"),
        (lambda Y: np.where(np.arange(Y.shape[0])[:, None] == 3, np.nan, Y), r"row 3"),
        (lambda Y: np.where(Y > 0, np.inf, Y), "must be finite"),
        (lambda Y: Y.astype(str).astype(object) + "x", "must be numeric"),
        (lambda Y: Y[:-1], r"shape \(100, 2\), one target per row"),
    ],
)
def test_bad_targets_raise_clear_errors(data, y, match: str) -> None:
    X, Y, _, _ = data
    with pytest.raises(ValueError, match=match):
        NGBoostRegressor("multivariate_normal", n_estimators=2).fit(X[:100], y(Y[:100]))


def test_dimension_mismatches_name_the_argument(data) -> None:
    X, Y, _, _ = data
    Y3 = np.column_stack([Y, Y[:, 0]])
    with pytest.raises(ValueError, match="'y_val' argument .* must have 2 columns"):
        NGBoostRegressor("multivariate_normal", n_estimators=2).fit(
            X[:100], Y[:100], eval_set=(X[100:150], Y3[100:150])
        )
    with pytest.raises(ValueError, match="'y' argument .* must have 3 columns"):
        NGBoostRegressor("multivariate_normal", n_estimators=2, distribution_config={"dim": 3}).fit(
            X[:100], Y[:100]
        )
    with pytest.raises(ValueError, match="must be a univariate family"):
        NGBoostSurvival("multivariate_normal").fit(X[:10], np.ones(10), np.ones(10))


def test_save_load_is_bit_for_bit(data, tmp_path) -> None:
    X, Y, X_test, _ = data
    model = NGBoostRegressor("multivariate_normal", n_estimators=15, learning_rate=0.1)
    model.fit(X[:500], np.column_stack([Y[:500], Y[:500, 0] - Y[:500, 1]]))
    model.save(tmp_path / "m.ngm")
    loaded = natgrad.load(tmp_path / "m.ngm")
    assert loaded.predict_dist(X_test).config == {"dim": 3}
    np.testing.assert_array_equal(
        loaded.predict_dist(X_test).params, model.predict_dist(X_test).params
    )
    np.testing.assert_array_equal(loaded.predict(X_test), model.predict(X_test))
    loaded.save(tmp_path / "again.ngm")
    assert (tmp_path / "again.ngm").read_bytes() == (tmp_path / "m.ngm").read_bytes()
    # A file that claims another estimator (with a consistent checksum) is refused.
    blob = (tmp_path / "m.ngm").read_bytes()
    _, version, _, n_head, n_body = struct.unpack_from("<8sIIQQ", blob)
    header = json.loads(blob[32 : 32 + n_head])
    header["estimator"], header["task"] = "NGBoostSurvival", "survival"
    head = json.dumps(header).encode()
    forged = struct.pack("<8sIIQQ", MAGIC, version, 0, len(head), n_body)
    forged += head + blob[32 + n_head : 32 + n_head + n_body]
    (tmp_path / "forged.ngm").write_bytes(forged + hashlib.sha256(forged).digest())
    with pytest.raises(ModelFileError, match="'multivariate_normal' is not univariate"):
        natgrad.load(tmp_path / "forged.ngm")


def test_compat_multivariate_normal_is_the_native_model(data) -> None:
    X, Y, X_test, _ = data
    compat = NGBRegressor(Dist=MultivariateNormal(2), n_estimators=20, verbose=False)
    compat.fit(X[:500], Y[:500])
    native = NGBoostRegressor(
        "multivariate_normal",
        n_estimators=20,
        leaf_rule="ngboost",
        min_samples_leaf=5,  # the compat layer's smallest leaf
        subsample=1.0,  # NGBoost's minibatch_frac=1.0
    ).fit(X[:500], Y[:500])
    pred = compat.pred_dist(X_test[:50])
    assert pred.params["loc"].shape == (50, 2) and pred.params["scale"].shape == (50, 2, 2)
    np.testing.assert_allclose(pred.params["scale"], native.predict_dist(X_test[:50]).cov())
    np.testing.assert_allclose(compat.predict(X_test[:50]), native.predict(X_test[:50]))
    assert repr(MultivariateNormal(3)) == "MultivariateNormal(3)"
    with pytest.raises(ValueError, match="'k' argument of MultivariateNormal"):
        MultivariateNormal(0)
