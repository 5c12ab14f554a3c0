"""natgrad.fit_distribution, FitResult, Objective and parameterizations."""

from __future__ import annotations

import importlib.util
import logging

import numpy as np
import pytest

import natgrad
from natgrad import optim
from natgrad.distributions import Normal
from natgrad.fit import (
    GAMMA_LOG_MEAN,
    NORMAL_LOC_SCALE,
    FitResult,
    excess_loss_estimate,
    fit_distribution,
    make_objective,
)


def _family_exists(module: str) -> bool:
    return importlib.util.find_spec(f"natgrad.distributions.{module}") is not None


def requires_family(module: str) -> pytest.MarkDecorator:
    """Skip only for families that have not been written yet."""
    return pytest.mark.skipif(not _family_exists(module), reason=f"no {module} family yet")


@pytest.fixture(scope="module")
def normal_data() -> np.ndarray:
    return np.random.default_rng(1).normal(-4.0, 0.3, size=300)


@pytest.fixture(scope="module")
def gamma_data() -> np.ndarray:
    return np.random.default_rng(2).gamma(20.0, 1 / 4.0, size=300)


def test_public_names():
    assert natgrad.fit_distribution is fit_distribution
    assert natgrad.FitResult is FitResult


def test_recovers_the_normal_mle(normal_data):
    res = fit_distribution(normal_data, "normal")  # tol = 1e-8 on ½ gᵀF⁻¹g
    assert res.converged
    # Near the optimum ½ gᵀF⁻¹g ≈ ½ δᵀFδ with δ the distance to the MLE: within 2·tol.
    delta = (res.params - Normal.fit_marginal(normal_data))[0]
    assert 0.5 * delta @ res.dist.fisher()[0] @ delta <= 2e-8
    assert isinstance(res.dist, Normal) and len(res.dist) == 1


def test_recovers_the_weighted_normal_mle(normal_data):
    w = np.random.default_rng(3).uniform(0.0, 2.0, size=normal_data.size)
    res = fit_distribution(normal_data, Normal, sample_weight=w, tol=1e-12)
    assert res.converged
    np.testing.assert_allclose(res.params, Normal.fit_marginal(normal_data, w), atol=1e-6)


@requires_family("gamma")
@pytest.mark.parametrize("optimizer", ["natural", "newton"])
def test_recovers_the_gamma_mle(gamma_data, optimizer):
    from natgrad.distributions import Gamma

    res = fit_distribution(gamma_data, "gamma", optimizer, tol=1e-12)
    assert res.converged
    np.testing.assert_allclose(res.params, Gamma.fit_marginal(gamma_data), atol=1e-5)


def test_result_fields_are_consistent(normal_data):
    res = fit_distribution(normal_data, "normal", max_steps=30)
    n = res.n_steps
    assert res.loss_history.shape == (n + 1,)
    assert res.path.shape == (n + 1, 2)
    assert res.kl_history.shape == (n,)
    np.testing.assert_array_equal(res.path[-1], res.params[0])
    # Loss history equals the weighted mean nll along the path.
    dists = Normal.from_params(res.path)
    losses = dists.nll(np.broadcast_to(normal_data[:, None], (normal_data.size, n + 1))).mean(0)
    np.testing.assert_allclose(res.loss_history, losses, rtol=1e-12)
    # KL history is the closed-form KL between consecutive iterates.
    kl = dists[:-1].kl(dists[1:])
    np.testing.assert_allclose(res.kl_history, kl, rtol=1e-12)
    assert fit_distribution(normal_data, "normal", record_path=False).path is None


def test_convergence_means_small_natural_gradient_norm(normal_data):
    res = fit_distribution(normal_data, "normal", tol=1e-6)
    obj = make_objective(normal_data, "normal")
    assert res.converged
    assert excess_loss_estimate(obj.grad(res.params), obj.fisher(res.params)) <= 1e-6
    unconverged = fit_distribution(normal_data, "normal", "gd", max_steps=3)
    assert not unconverged.converged and unconverged.n_steps == 3


def test_accepts_a_transformation_and_an_init(normal_data):
    opt = optim.chain(optim.scale_by_fisher(), optim.scale(-0.5))
    start = Normal(loc=-3.0, scale=0.5)
    res = fit_distribution(normal_data, "normal", opt, init=start, max_steps=5)
    np.testing.assert_array_equal(res.path[0], start.params[0])
    res2 = fit_distribution(normal_data, "normal", opt, init=[-3.0, np.log(0.5)], max_steps=5)
    np.testing.assert_allclose(res2.path, res.path)


def test_never_nan_halves_steps_that_leave_the_domain(caplog):
    # Fixed-rate Fisher scoring from N(0, 1) towards data of spread 0.01 overshoots the scale
    # to e^1250 (overflow); in (μ, σ) coordinates a big gradient step makes σ negative.
    y = np.random.default_rng(0).normal(50.0, 0.01, size=100)
    fixed = optim.natural_gradient_descent(learning_rate=1.0, max_kl=None)
    with caplog.at_level(logging.WARNING):
        res = fit_distribution(y, "normal", fixed, max_steps=20)
        res2 = fit_distribution(y, "normal", "gd", max_steps=20, parameterization=NORMAL_LOC_SCALE)
    for r in (res, res2):
        assert np.isfinite(r.loss_history).all() and np.isfinite(r.path).all()
    assert (res2.path[:, 1] > 0).all()


def test_objective_pulls_back_gradient_fisher_and_hessian(normal_data):
    obj = make_objective(normal_data, "normal", parameterization=NORMAL_LOC_SCALE)
    phi = np.array([[-3.5, 0.4]])
    # Gradient against central differences of the loss.
    h = 1e-6
    fd = [(obj.loss(phi + h * e) - obj.loss(phi - h * e)) / (2 * h) for e in np.eye(2)[:, None, :]]
    np.testing.assert_allclose(obj.grad(phi)[0], fd, rtol=1e-6)
    # Fisher in (μ, σ) is diag(1/σ², 2/σ²).
    np.testing.assert_allclose(obj.fisher(phi)[0], np.diag([1 / 0.16, 2 / 0.16]), rtol=1e-12)
    # Hessian of the mean nll in (μ, σ): [[1/σ², 2a/σ³], [2a/σ³, 3b/σ⁴ − 1/σ²]],
    # a = mean(y − μ), b = mean((y − μ)²).
    r = normal_data - phi[0, 0]
    s = phi[0, 1]
    a, b = r.mean(), (r**2).mean()
    exact = np.array([[1 / s**2, 2 * a / s**3], [2 * a / s**3, 3 * b / s**4 - 1 / s**2]])
    np.testing.assert_allclose(obj.hessian(phi)[0], exact, rtol=1e-6)


@requires_family("gamma")
def test_gamma_reparameterization_gives_the_same_natural_path(gamma_data):
    a = fit_distribution(gamma_data, "gamma")
    b = fit_distribution(gamma_data, "gamma", parameterization=GAMMA_LOG_MEAN)
    assert a.n_steps == b.n_steps
    # A linear map: the natural-gradient iterates agree exactly (up to rounding).
    np.testing.assert_allclose(GAMMA_LOG_MEAN.to_params(b.path), a.path, atol=1e-10)
    gd_a = fit_distribution(gamma_data, "gamma", "gd", max_steps=50)
    gd_b = fit_distribution(
        gamma_data, "gamma", "gd", max_steps=50, parameterization=GAMMA_LOG_MEAN
    )
    assert np.abs(GAMMA_LOG_MEAN.to_params(gd_b.path) - gd_a.path).max() > 0.1


def test_normal_reparameterization_path_converges_with_the_step(normal_data):
    def gap(max_kl: float) -> float:
        opt = optim.natural_gradient_descent(max_kl=max_kl)
        a = fit_distribution(normal_data, "normal", opt)
        b = fit_distribution(normal_data, "normal", opt, parameterization=NORMAL_LOC_SCALE)
        m = min(len(a.path), len(b.path))
        return float(np.abs(NORMAL_LOC_SCALE.to_params(b.path[:m]) - a.path[:m]).max())

    # The one-step difference is O(step²); summed over O(1/step) steps, the paths' gap is O(step).
    assert gap(0.001) < 0.5 * gap(0.01)


def test_errors_name_the_argument(normal_data):
    with pytest.raises(ValueError, match="'optimizer'.*'natural'"):
        fit_distribution(normal_data, "normal", "bfgs")
    with pytest.raises(ValueError, match="'optimizer'"):
        fit_distribution(normal_data, "normal", 3)
    with pytest.raises(ValueError, match="'distribution'"):
        fit_distribution(normal_data, "no-such-family")
    with pytest.raises(ValueError, match="'y'"):
        fit_distribution(normal_data[:, None], "normal")
    with pytest.raises(ValueError, match="'y'.*finite"):
        fit_distribution([1.0, np.nan], "normal")
    with pytest.raises(ValueError, match="'init'"):
        fit_distribution(normal_data, "normal", init=[0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="'max_steps'"):
        fit_distribution(normal_data, "normal", max_steps=-1)
    with pytest.raises(ValueError, match="'tol'"):
        fit_distribution(normal_data, "normal", tol=-1.0)
    with pytest.raises(ValueError, match="'sample_weight'"):
        fit_distribution(normal_data, "normal", sample_weight=np.ones(3))
    with pytest.raises(TypeError, match="'parameterization'"):
        fit_distribution(normal_data, "normal", parameterization="log")
    with pytest.raises(TypeError, match="configuration"):
        fit_distribution(normal_data, "normal", n_classes=3)


@requires_family("gamma")
def test_support_is_checked():
    with pytest.raises(ValueError, match="'y'.*positive"):
        fit_distribution([1.0, -2.0], "gamma")


def test_fit_distribution_says_what_to_do():
    from sklearn.exceptions import ConvergenceWarning

    y = np.random.default_rng(13).normal(size=(60, 3))
    assert natgrad.fit_distribution(y, "multivariate_normal").dist.dim == 3  # dim inferred
    with pytest.raises(ValueError, match="default start.*Pass 'init'") as info:
        natgrad.fit_distribution(np.full(10, 1e200), "normal")
    assert "The 'init' argument" not in str(info.value)  # the user passed none
    huge = np.random.default_rng(14).gamma(2.0, 1e200, size=100)
    with pytest.warns(ConvergenceWarning, match="stopped before converging.*init"):
        result = natgrad.fit_distribution(huge, "gamma")
    assert not result.converged
