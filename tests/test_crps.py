"""CRPScore: the score against its definition, its gradient, its metric and propriety.

Every closed form of `natgrad.scores.CRPScore` is checked against an independent route: the CRPS and
the metric against adaptive quadrature of their defining integrals (using the families' own
`scipy.stats` distribution functions), the gradient against central finite differences, and
the metric against the second-order expansion of the expected score that defines it.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import integrate, optimize

from natgrad.distributions import Laplace, LogNormal, Normal, get
from natgrad.scores import CRPScore, get_score

CRPS = CRPScore()

#: Unconstrained parameters (loc, log scale) per family: typical, small and large scales.
CASES = {
    Normal: [(0.0, 0.0), (1.5, -1.0), (-2.0, 0.8)],
    Laplace: [(0.0, 0.0), (1.5, -2.0), (-4.0, 1.2)],
    LogNormal: [(0.0, 0.0), (1.0, -1.5), (-0.5, 0.7)],
}
FAMILY_CASES = [(fam, theta) for fam, thetas in CASES.items() for theta in thetas]
#: Targets as standard scores z of the family (x = μ + σz, or e^{μ+σz} for the lognormal).
Z_TARGETS = [-3.0, -0.7, 0.0, 0.4, 2.5]


def _ident(value) -> str:
    if isinstance(value, type):
        return value.name
    return f"{value[0]:g},{value[1]:g}"


def _dist(family: type, theta) -> object:
    return family.from_params(np.asarray(theta, dtype=np.float64).reshape(1, 2))


def _x_of_z(family: type, theta, z: float) -> tuple[float, float]:
    """The point x with standard score z, and dx/dz."""
    mu, sigma = theta[0], math.exp(theta[1])
    if family is LogNormal:
        x = math.exp(mu + sigma * z)
        return x, sigma * x
    return mu + sigma * z, sigma


def _z_of_x(family: type, theta, x: float) -> float:
    mu, sigma = theta[0], math.exp(theta[1])
    return ((math.log(x) if family is LogNormal else x) - mu) / sigma


def _z_density(family: type, z: float) -> float:
    """Density of the standard score z under the family itself."""
    if family is Laplace:
        return 0.5 * math.exp(-abs(z))
    return math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def _quad_line(fn, breaks=(), epsrel: float = 1e-11) -> float:
    """∫ fn(z) dz over the standard scores z, split at the given points (kinks of fn).

    |z| ≤ 50 is the whole line here: every integrand decays at least like e^{−|z|} times a
    polynomial (e^{σz − z²/2} in y-space for the lognormal), far below 1e-15 beyond it. A
    warning that quad missed its tolerance fails the test.
    """
    edges = [-50.0, *sorted(set(breaks)), 50.0]
    total = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", integrate.IntegrationWarning)
        for lo, hi in zip(edges[:-1], edges[1:], strict=True):
            value, _ = integrate.quad(fn, lo, hi, epsabs=0.01 * epsrel, epsrel=epsrel, limit=200)
            total += value
    return total


# ---------------------------------------------------------------------- the score
@pytest.mark.parametrize(("family", "theta"), FAMILY_CASES, ids=_ident)
def test_crps_matches_its_definition(family, theta):
    # CRPS(F, y) = ∫_{x<y} F(x)² dx + ∫_{x>y} (1 − F(x))² dx, integrated in z with the
    # family's scipy distribution functions (sf for the upper part keeps its tail accurate).
    frozen = _dist(family, theta).to_scipy()
    for zy in Z_TARGETS:
        y, _ = _x_of_z(family, theta, zy)

        def integrand(z, zy=zy):
            x, dx = _x_of_z(family, theta, z)
            f = frozen.cdf(x)[0] if z < zy else frozen.sf(x)[0]
            return f * f * dx

        expected = _quad_line(integrand, breaks=(zy, 0.0))
        got = CRPS.score(_dist(family, theta), [y])[0]
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_lognormal_crps_is_not_the_normal_crps_of_log_y():
    theta = np.array([[0.3, 0.2]])
    y = np.array([2.0])
    in_y = CRPS.score(LogNormal.from_params(theta), y)
    in_log_y = CRPS.score(Normal.from_params(theta), np.log(y))
    assert abs(in_y[0] - in_log_y[0]) > 0.1


def test_stacked_targets_match_row_by_row():
    rng = np.random.default_rng(3)
    for family, thetas in CASES.items():
        dist = family.from_params(np.array(thetas))
        y = dist.sample(4, rng)  # shape (4, 3): a leading sample axis
        scores = CRPS.score(dist, y)
        grads = CRPS.grad(dist, y)
        assert scores.shape == (4, 3) and grads.shape == (4, 3, 2)
        for k in range(4):
            np.testing.assert_allclose(scores[k], CRPS.score(dist, y[k]), rtol=1e-15)
            np.testing.assert_allclose(grads[k], CRPS.grad(dist, y[k]), rtol=1e-15)


def test_crps_is_non_negative_and_finite_at_extremes():
    rng = np.random.default_rng(4)
    for family in CASES:
        theta = np.column_stack([rng.uniform(-5, 5, 200), rng.uniform(-6, 1.5, 200)])
        dist = family.from_params(theta)
        y = dist.sample(1, rng)[0] + (0.0 if family is LogNormal else rng.normal(0, 5, 200))
        values, grads = CRPS.score(dist, y), CRPS.grad(dist, y)
        assert np.isfinite(values).all() and np.isfinite(grads).all()
        # Non-negative up to the rounding of the closed forms' cancelling terms.
        scale = np.abs(y) + np.exp(theta[:, 0] * (family is LogNormal) + theta[:, 1])
        assert np.all(values >= -1e-12 * scale)


# ---------------------------------------------------------------------- the gradient
@pytest.mark.parametrize("family", list(CASES), ids=lambda f: f.name)
def test_grad_matches_finite_differences(family):
    rng = np.random.default_rng(5)
    thetas = np.array(CASES[family])
    dist = family.from_params(thetas)
    y = dist.sample(30, rng)
    h = 1e-6
    grad = CRPS.grad(dist, y)
    for j in range(2):
        step = np.zeros(2)
        step[j] = h
        up = CRPS.score(family.from_params(thetas + step), y)
        down = CRPS.score(family.from_params(thetas - step), y)
        numeric = (up - down) / (2 * h)
        # Central differences: truncation O(h²), rounding O(eps · |score| / h) ~ 1e-10.
        np.testing.assert_allclose(grad[..., j], numeric, rtol=1e-6, atol=1e-8)


def test_laplace_grad_at_the_kink_is_the_symmetric_derivative():
    dist = Laplace.from_params([[0.5, -0.3]])
    g = CRPS.grad(dist, [0.5])
    assert g[0, 0] == 0.0
    np.testing.assert_allclose(g[0, 1], math.exp(-0.3) * 0.25, rtol=1e-14)


# ---------------------------------------------------------------------- the metric
@pytest.mark.parametrize("family", list(CASES), ids=lambda f: f.name)
def test_metric_is_symmetric_positive_definite(family):
    rng = np.random.default_rng(6)
    top = 1.5 if family is LogNormal else 3.0
    theta = np.column_stack([rng.uniform(-10, 10, 500), rng.uniform(-6, top, 500)])
    metric = CRPS.metric(family.from_params(theta))
    assert metric.shape == (500, 2, 2) and np.isfinite(metric).all()
    np.testing.assert_array_equal(metric, np.swapaxes(metric, 1, 2))
    assert np.all(np.linalg.eigvalsh(metric) > 0)


@pytest.mark.parametrize(("family", "theta"), FAMILY_CASES, ids=_ident)
def test_metric_is_twice_the_integral_of_cdf_gradient_products(family, theta):
    # M = 2 ∫ ∇F ∇Fᵀ dx, with ∇F by central differences of the family's own scipy cdf, so
    # that nothing of the closed forms' derivation is reused.
    h = 1e-6
    shifted = [
        [_dist(family, np.add(theta, sign * h * np.eye(2)[j])).to_scipy() for sign in (1.0, -1.0)]
        for j in range(2)
    ]

    def grad_cdf(x: float) -> np.ndarray:
        return np.array([(up.cdf(x)[0] - down.cdf(x)[0]) / (2 * h) for up, down in shifted])

    expected = np.empty((2, 2))
    for a in range(2):
        for b in range(a, 2):

            def integrand(z, a=a, b=b):
                x, dx = _x_of_z(family, theta, z)
                g = grad_cdf(x)
                return g[a] * g[b] * dx

            # The differences carry rounding noise ~1e-10: ask quad for no more than 1e-9.
            integral = _quad_line(integrand, breaks=(0.0,), epsrel=1e-9)
            expected[a, b] = expected[b, a] = 2.0 * integral
    metric = CRPS.metric(_dist(family, theta))[0]
    np.testing.assert_allclose(metric, expected, rtol=1e-6, atol=1e-9)


def _expected_score_change(family, theta, other) -> float:
    """E_θ[S(θ', Y)] − E_θ[S(θ, Y)] by quadrature over Y ~ θ (one integrand, no cancellation
    between two large expectations)."""
    base, moved = _dist(family, theta), _dist(family, other)

    def integrand(z: float) -> float:
        y, _ = _x_of_z(family, theta, z)
        diff = CRPS._score(moved, np.array([y]))[0] - CRPS._score(base, np.array([y]))[0]
        return diff * _z_density(family, z)

    # Split where the Laplace density and score have kinks (y = μ, y = μ'); at the median
    # (e^μ, e^μ') for the smooth families, where it does no harm.
    kink = math.exp(other[0]) if family is LogNormal else other[0]
    return _quad_line(integrand, breaks=(0.0, _z_of_x(family, theta, kink)))


@pytest.mark.parametrize(("family", "theta"), FAMILY_CASES, ids=_ident)
def test_metric_is_the_hessian_of_the_expected_score(family, theta):
    # D(θ ‖ θ + εv) = ½ ε² vᵀMv + O(ε³); the mean of ±ε cancels the cubic term, leaving a
    # relative error O(ε²).
    metric = CRPS.metric(_dist(family, theta))[0]
    eps = 0.02
    for v in ([1.0, 0.0], [0.0, 1.0], [0.6, 0.8], [0.6, -0.8]):
        v = np.asarray(v)
        changes = []
        for sign in (1.0, -1.0):
            other = np.asarray(theta) + sign * eps * v
            changes.append(_expected_score_change(family, theta, other))
        assert min(changes) > 0  # propriety: moving away from θ costs
        np.testing.assert_allclose(np.mean(changes), 0.5 * eps**2 * v @ metric @ v, rtol=2e-3)


# ---------------------------------------------------------------------- propriety
@pytest.mark.parametrize(("family", "theta"), FAMILY_CASES, ids=_ident)
def test_expected_gradient_vanishes_at_the_truth(family, theta):
    # E_θ[∇S(θ, Y)] = 0 (first-order condition of propriety), by quadrature over Y.
    dist = _dist(family, theta)
    for j in range(2):

        def integrand(z, j=j):
            y, _ = _x_of_z(family, theta, z)
            return CRPS._grad(dist, np.array([y]))[0, j] * _z_density(family, z)

        # Scale of the terms being averaged: the gradient is O(1) in μ and O(σ) in log σ.
        scale = math.exp(theta[1]) * (math.exp(theta[0]) if family is LogNormal else 1.0)
        assert abs(_quad_line(integrand, breaks=(0.0,))) < 1e-9 * max(1.0, scale)


@pytest.mark.parametrize("family", list(CASES), ids=lambda f: f.name)
def test_mean_score_over_a_large_sample_is_minimised_near_the_truth(family):
    # The minimiser θ̂ of the sample mean of S is an M-estimator: asymptotically normal around
    # the true θ with covariance M⁻¹ V M⁻¹ / N (M the metric = Hessian of the expected score,
    # V = Cov ∇S). Each coordinate must lie within 4 standard errors (two-sided false-alarm
    # rate 6e-5 per coordinate; the seed is fixed, so the outcome is deterministic).
    theta0 = np.array(CASES[family][1])
    n = 20_000
    y = _dist(family, theta0).sample(n, np.random.default_rng(7))[:, 0]

    def objective(t: np.ndarray) -> tuple[float, np.ndarray]:
        dist = family.from_params(np.broadcast_to(t, (n, 2)))
        return float(CRPS._score(dist, y).mean()), CRPS._grad(dist, y).mean(axis=0)

    fit = optimize.minimize(objective, theta0 + [0.3, -0.3], jac=True, method="BFGS", tol=1e-12)
    grads = CRPS._grad(family.from_params(np.broadcast_to(theta0, (n, 2))), y)
    m_inv = np.linalg.inv(CRPS.metric(_dist(family, theta0))[0])
    cov = m_inv @ np.cov(grads.T) @ m_inv / n
    se = np.sqrt(np.diag(cov))
    assert np.all(np.abs(fit.x - theta0) < 4 * se), (fit.x, theta0, se)
    # And the truth scores better than clearly wrong parameters on the same sample.
    best = objective(theta0)[0]
    for delta in ([0.2, 0.0], [-0.2, 0.0], [0.0, 0.2], [0.0, -0.2]):
        assert objective(theta0 + delta)[0] > best


# ---------------------------------------------------------------------- registry and errors
def test_registry_and_supported_families():
    assert isinstance(get_score("crps"), CRPScore) and CRPScore.name == "crps"
    assert repr(get_score("crps")) == "CRPScore()"
    for family in CASES:
        assert CRPS.supports(family)

    class MyNormal(Normal):
        pass

    assert CRPS.supports(MyNormal)
    for name in ("gamma", "student_t", "exponential", "bernoulli"):
        assert not CRPS.supports(get(name))
    with pytest.raises(ValueError, match="'crps'"):
        get_score("bogus")


def test_unsupported_family_raises_naming_it():
    gamma = get("gamma").from_params(np.zeros((2, get("gamma").n_params)))
    for call in (
        lambda: CRPS.score(gamma, [1.0, 2.0]),
        lambda: CRPS._score(gamma, np.array([1.0, 2.0])),
        lambda: CRPS.grad(gamma, [1.0, 2.0]),
        lambda: CRPS.metric(gamma),
    ):
        with pytest.raises(ValueError, match=r"'gamma'.*Gamma|Gamma.*'gamma'"):
            call()


def test_score_validates_targets():
    with pytest.raises(ValueError, match="'y'"):
        CRPS.score(LogNormal.from_params([[0.0, 0.0]]), [-1.0])


# ---------------------------------------------------------------------- boosting
def test_ngboost_regressor_trains_with_crps():
    # One family only: the first fit of a test process pays the boosting engine's numba
    # compilation, and more families would compile more specialisations. The lognormal has
    # the richest metric (it couples loc and log scale and depends on loc).
    family = "lognormal"
    from natgrad import NGBoostRegressor
    from natgrad.metrics import crps

    rng = np.random.default_rng(8)
    X = rng.uniform(-1, 1, size=(600, 3))
    loc = np.sin(3 * X[:, 0])
    scale = 0.1 + 0.4 * np.abs(X[:, 1])
    noise = rng.standard_normal(600) if family != "laplace" else rng.laplace(size=600)
    y = np.exp(loc + scale * noise) if family == "lognormal" else loc + scale * noise
    model = NGBoostRegressor(
        family, scoring_rule="crps", n_estimators=40, learning_rate=0.1, random_state=0
    ).fit(X, y)
    dist = model.predict_dist(X)
    marginal = type(dist).from_params(np.repeat(model.init_params_, len(y), axis=0))
    # The training loss is the mean CRPS, never increases, and ends well below the marginal.
    np.testing.assert_allclose(model.train_loss_[-1], crps(dist, y).mean(), rtol=1e-10)
    assert np.all(np.diff(model.train_loss_) <= 1e-12)
    assert crps(dist, y).mean() < 0.7 * crps(marginal, y).mean()
