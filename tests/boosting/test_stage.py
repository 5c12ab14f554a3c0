"""The compiled stage kernels against the generic NumPy path they replace."""

from __future__ import annotations

import numpy as np
import pytest

import natgrad.boosting._training.stage as stage
from natgrad import NGBoostRegressor
from natgrad.boosting._hist.grow_checks import pack_metric
from natgrad.boosting._training.line_search import line_search, search_step
from natgrad.boosting._training.rowsolve import row_natural_gradients
from natgrad.distributions import (
    Exponential,
    Gamma,
    Laplace,
    LogNormal,
    Normal,
    Poisson,
)
from natgrad.scores import LogScore, get_score

FUSED = [Normal, LogNormal, Laplace, Exponential, Poisson]
RTOL = 1e-12


def _targets(family, n, rng):
    if family in (Normal, Laplace):
        return rng.normal(scale=3.0, size=n)
    if family is Poisson:
        return rng.poisson(4.0, size=n).astype(float)
    if family is Exponential:
        return rng.exponential(2.0, size=n)
    return np.exp(rng.normal(size=n))


def _params(family, n, rng):
    """Typical values plus extreme-but-finite ones (tiny and huge scales, rates)."""
    p = family.n_params
    theta = rng.normal(scale=2.0, size=(n, p))
    extreme = np.array([-30.0, -12.0, 12.0, 30.0])
    theta[: extreme.size, -1] = extreme
    theta[extreme.size : 2 * extreme.size, 0] = extreme
    return theta


def _generic_loss(family, theta, y, w):
    dist = family.from_params(theta)
    with np.errstate(all="ignore"):
        return float(w @ LogScore()._score(dist, y))


def _close(a, b, rtol=RTOL):
    np.testing.assert_allclose(a, b, rtol=rtol, atol=0.0)


@pytest.mark.parametrize("family", FUSED, ids=lambda f: f.__name__)
@pytest.mark.parametrize("weighted", [False, True])
def test_gradient_and_metric_equal_generic(family, weighted):
    rng = np.random.default_rng(1)
    n, p = 600, family.n_params
    y, theta = _targets(family, n, rng), _params(family, n, rng)
    w = rng.uniform(0.1, 3.0, size=n) if weighted else None
    fused = stage.fused_stage(family, LogScore(), {}, y, np.full(n, 1.0 / n))
    assert fused is not None
    fused.set_params(theta)
    grad, packed = np.empty((n, p)), np.empty((n, p * (p + 1) // 2))
    fused.gradient_and_metric(theta, w, grad, packed)

    dist = family.from_params(theta)
    ref_grad, ref_packed = dist._grad(y), pack_metric(dist.fisher())
    if w is not None:
        ref_grad, ref_packed = ref_grad * w[:, None], ref_packed * w[:, None]
    _close(grad, ref_grad)
    _close(packed, ref_packed)


@pytest.mark.parametrize("family", FUSED, ids=lambda f: f.__name__)
def test_natural_gradient_equals_row_solver(family):
    rng = np.random.default_rng(2)
    n, p = 600, family.n_params
    y, theta = _targets(family, n, rng), _params(family, n, rng)
    # Fisher entries that overflow to inf or underflow to 0: the damped solver's path.
    theta[20:24, -1] = [-800.0, -400.0, 400.0, 800.0]
    fused = stage.fused_stage(family, LogScore(), {}, y, np.full(n, 1.0 / n))
    fused.set_params(theta)
    out = np.empty((n, p))
    fused.natural_gradient(theta, out)
    dist = family.from_params(theta)
    with np.errstate(all="ignore"):
        ref = row_natural_gradients(dist._grad(y), dist.fisher())
    _close(out, ref)


def test_small_solver_damping_and_failure_match_row_solver():
    # Blocks that need Levenberg damping (singular, indefinite) or that no damping fixes
    # (not finite): the unrolled solve must follow the general one step for step.
    blocks = np.array(
        [
            [[1.0, 1.0], [1.0, 1.0]],
            [[1.0, 2.0], [2.0, 1.0]],
            [[0.0, 0.0], [0.0, 3.0]],
            [[np.inf, 0.0], [0.0, 1.0]],
            [[np.nan, 0.0], [0.0, 1.0]],
            [[4.0, -1.0], [-1.0, 0.5]],
        ]
    )
    grads = np.array([[1.0, -2.0], [0.5, 0.5], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [3.0, -1.0]])
    ref = row_natural_gradients(grads, blocks)
    for k in range(len(blocks)):
        f = blocks[k]
        got = stage._solve2(f[0, 0], f[0, 1], f[1, 1], grads[k, 0], grads[k, 1], 2)
        np.testing.assert_allclose(got, ref[k], rtol=RTOL, atol=0.0)
    assert np.all(ref[3:5] == 0.0)  # non-finite blocks give no step
    one = row_natural_gradients(np.array([[2.0]]), np.array([[[0.0]]]))
    got = stage._solve2(0.0, 0.0, 0.0, 2.0, 0.0, 1)
    np.testing.assert_allclose(got[0], one[0, 0], rtol=RTOL)


@pytest.mark.parametrize("family", FUSED, ids=lambda f: f.__name__)
@pytest.mark.parametrize("weighted", [False, True])
def test_loss_along_leaf_direction_equals_generic(family, weighted):
    rng = np.random.default_rng(3)
    n, p = 9000, family.n_params  # more than one block of the partial sums
    y, theta = _targets(family, n, rng), _params(family, n, rng)
    w = rng.uniform(0.1, 3.0, size=n) if weighted else np.ones(n)
    w = w / w.sum()
    values = rng.normal(scale=0.5, size=(7, p))
    index = rng.integers(0, 7, size=n).astype(np.int32)
    fused = stage.fused_stage(family, LogScore(), {}, y, w)
    _close(fused.set_params(theta), _generic_loss(family, theta, y, w))
    direction = values[index]
    line = fused.line(theta, values, index)  # by per-leaf sums where the family allows
    for rho in (0.0, 0.25, 1.0, 4.0):
        ref = _generic_loss(family, theta - rho * direction, y, w)
        _close(fused.loss_along(theta, values, index, rho), ref)
        _close(line(rho), ref)


def test_loss_overflow_is_not_finite_like_generic():
    rng = np.random.default_rng(4)
    n = 100
    y = rng.normal(size=n)
    theta = np.zeros((n, 2))
    values = np.array([[0.0, 1e3]])  # a step to log scale -1e3·rho: exp overflows
    index = np.zeros(n, dtype=np.int32)
    w = np.full(n, 1.0 / n)
    fused = stage.fused_stage(Normal, LogScore(), {}, y, w)
    fused.set_params(theta)
    got = fused.loss_along(theta, values, index, 1.0)
    ref = _generic_loss(Normal, theta - values[index], y, w)
    assert not np.isfinite(got) and not np.isfinite(ref)


def test_registry_falls_back_for_other_pairs():
    y = np.ones(10)
    w = np.full(10, 0.1)
    assert stage.fused_stage(Gamma, LogScore(), {}, y, w) is None  # not fused
    assert stage.fused_stage(Normal, get_score("crps"), {}, y, w) is None  # other score

    class MyNormal(Normal):  # a subclass may change a formula: generic path
        pass

    assert stage.fused_stage(MyNormal, LogScore(), {}, y, w) is None
    assert stage.fused_stage(Normal, LogScore(), {}, np.ones((10, 2)), w) is None


def test_search_step_is_line_search_on_the_line():
    rng = np.random.default_rng(5)
    theta, d = rng.normal(size=(50, 2)), rng.normal(size=(50, 2))
    y = rng.normal(size=50)
    w = np.full(50, 1 / 50)

    def loss(params):
        return _generic_loss(Normal, params, y, w)

    l0 = loss(theta)
    for scale in (1e-3, 0.3, 5.0, -1.0):
        a = line_search(loss, theta, scale * d, loss_at_zero=l0)
        b = search_step(lambda r, s=scale: loss(theta - r * (s * d)), loss_at_zero=l0)
        assert a == b


@pytest.mark.parametrize(
    ("distribution", "make_y"),
    [
        ("normal", lambda X, rng: X[:, 0] + rng.normal(size=len(X))),
        ("lognormal", lambda X, rng: np.exp(0.3 * X[:, 0] + 0.5 * rng.normal(size=len(X)))),
        ("laplace", lambda X, rng: X[:, 0] + rng.laplace(size=len(X))),
        ("exponential", lambda X, rng: rng.exponential(np.exp(0.3 * X[:, 0]))),
        ("poisson", lambda X, rng: rng.poisson(np.exp(0.5 * X[:, 0])).astype(float)),
    ],
)
@pytest.mark.parametrize("leaf_rule", ["fisher", "ngboost"])
def test_estimator_fused_equals_generic(monkeypatch, distribution, make_y, leaf_rule):
    rng = np.random.default_rng(6)
    X = rng.normal(size=(400, 3))
    y = make_y(X, rng)
    w = rng.uniform(0.5, 2.0, size=len(X))
    calls = []
    line = stage.FusedStage.line

    def counted(self, *args):
        calls.append(1)
        return line(self, *args)

    monkeypatch.setattr(stage.FusedStage, "line", counted)
    fits = []
    for enabled in (True, False):
        monkeypatch.setattr(stage, "ENABLED", enabled)
        est = NGBoostRegressor(
            distribution=distribution,
            n_estimators=60,
            learning_rate=0.05,
            leaf_rule=leaf_rule,
            validation_fraction=0.2,
            subsample=1.0,  # the kernels' equality, not row subsampling's (a tie in the line
            random_state=0,  # search can fall the other way after 1e-16 differences)
        )
        fits.append(est.fit(X, y, sample_weight=w))
    assert len(calls) == 60  # the fused fit used the kernels every stage, the other never
    fused, generic = fits
    np.testing.assert_allclose(
        fused.predict_dist(X).params, generic.predict_dist(X).params, rtol=1e-9, atol=1e-9
    )
    np.testing.assert_allclose(fused.train_loss_, generic.train_loss_, rtol=1e-9)
    np.testing.assert_allclose(fused.validation_loss_, generic.validation_loss_, rtol=1e-9)


def test_many_leaves_use_the_row_pass_and_agree():
    # One "leaf" per row (an external learner's output): no per-leaf sums of size n.
    rng = np.random.default_rng(7)
    n = 5000
    y, theta = rng.normal(size=n), rng.normal(scale=0.3, size=(n, 2))
    w = np.full(n, 1.0 / n)
    values = rng.normal(scale=0.2, size=(n, 2))
    index = np.arange(n, dtype=np.int32)
    fused = stage.fused_stage(Normal, LogScore(), {}, y, w)
    fused.set_params(theta)
    line = fused.line(theta, values, index)
    for rho in (0.5, 2.0):
        _close(line(rho), _generic_loss(Normal, theta - rho * values, y, w))


@pytest.mark.parametrize("leaf_rule", ["fisher", "ngboost"])
def test_external_learner_fused_equals_generic(monkeypatch, leaf_rule):
    from sklearn.tree import DecisionTreeRegressor

    rng = np.random.default_rng(8)
    X = rng.normal(size=(300, 3))
    y = X[:, 0] + rng.normal(size=300) * np.exp(0.3 * X[:, 1])
    preds = []
    for enabled in (True, False):
        monkeypatch.setattr(stage, "ENABLED", enabled)
        est = NGBoostRegressor(
            base_learner=DecisionTreeRegressor(max_depth=3, random_state=0),
            n_estimators=40,
            learning_rate=0.05,
            leaf_rule=leaf_rule,
            subsample=1.0,  # as in test_estimator_fused_equals_generic
            random_state=0,
        )
        preds.append(est.fit(X, y).predict_dist(X).params)
    np.testing.assert_allclose(preds[0], preds[1], rtol=1e-9, atol=1e-9)
