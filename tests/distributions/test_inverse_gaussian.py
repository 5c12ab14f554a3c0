"""The inverse Gaussian family beyond the shared identity checker.

`natgrad.testing.check_distribution` runs on it through the registry completeness test; here
its closed forms are checked deterministically against independent references: the density
and moments against `scipy.stats.invgauss`, the Fisher and the KL against numerical
integration over y, the marginal fit against the likelihood equations, and extreme
parameters for finite geometry.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from natgrad.distributions import InverseGaussian

ROWS = [(1.0, 1.0), (3.0, 0.5), (0.2, 40.0), (50.0, 2000.0), (1e-3, 1e3)]


def _expect(dist: InverseGaussian, f) -> float:
    """E[f(y)] under one distribution by adaptive quadrature on the quantile scale."""
    frozen = dist.to_scipy()
    lo, hi = float(frozen.ppf(1e-15)[0]), float(frozen.ppf(1 - 1e-15)[0])
    value, _ = integrate.quad(
        lambda y: float(f(np.array([y]))) * float(frozen.pdf(y)[0]), lo, hi, limit=400
    )
    return value


@pytest.mark.parametrize(("mean", "shape"), ROWS)
def test_nll_matches_scipy(mean, shape) -> None:
    dist = InverseGaussian(mean, shape)
    y = np.asarray(dist.to_scipy().ppf(np.array([1e-6, 0.1, 0.5, 0.9, 1 - 1e-6])))[:, None]
    expected = -stats.invgauss(mu=mean / shape, scale=shape).logpdf(y)
    np.testing.assert_allclose(dist.nll(y), expected, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(dist.mean(), dist.to_scipy().mean(), rtol=1e-12)
    np.testing.assert_allclose(dist.var(), dist.to_scipy().var(), rtol=1e-10)
    np.testing.assert_allclose(dist.var(), mean**3 / shape, rtol=1e-12)


@pytest.mark.parametrize(("mean", "shape"), ROWS[:4])
def test_fisher_equals_the_expected_outer_product_of_scores(mean, shape) -> None:
    dist = InverseGaussian(mean, shape)
    fisher = dist.fisher()[0]
    for i in range(2):
        for j in range(2):
            value = _expect(dist, lambda y, i=i, j=j: dist.grad(y)[0, i] * dist.grad(y)[0, j])
            np.testing.assert_allclose(value, fisher[i, j], rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize(
    ("p", "q"), [(ROWS[0], ROWS[1]), (ROWS[2], (0.25, 30.0)), (ROWS[1], ROWS[0])]
)
def test_kl_matches_numerical_integration(p, q) -> None:
    dp, dq = InverseGaussian(*p), InverseGaussian(*q)
    expected = _expect(dp, lambda y: dq.nll(y)[0] - dp.nll(y)[0])
    np.testing.assert_allclose(dp.kl(dq), [expected], rtol=1e-7)
    assert dp.kl(dp)[0] == 0.0


def test_kl_of_nearby_shapes_has_no_cancellation() -> None:
    p = InverseGaussian(2.0, 3.0)
    q = InverseGaussian(2.0, 3.0 * (1 + 1e-9))
    # ½(r − 1 − log r) with r = 1 + 1e-9: ¼ 1e-18.
    np.testing.assert_allclose(p.kl(q), [0.25e-18], rtol=1e-6)


def test_marginal_fit_solves_the_weighted_likelihood_equations() -> None:
    rng = np.random.default_rng(3)
    y = InverseGaussian(2.0, 5.0).sample(2000, rng)[:, 0]
    w = rng.uniform(0.0, 2.0, size=y.size)
    theta = InverseGaussian.fit_marginal(y, sample_weight=w)
    score = (w / w.sum()) @ InverseGaussian.from_params(theta).grad(y[:, None])[:, 0]
    np.testing.assert_allclose(score, 0.0, atol=1e-12)
    # A constant target has no spread: the shape is capped, the mean exact.
    const = InverseGaussian.fit_marginal(np.full(10, 3.0))
    assert np.isfinite(const).all() and np.isclose(np.exp(const[0, 0]), 3.0)


@pytest.mark.parametrize(
    "kwargs", [dict(mean=1e-8, shape=1e8), dict(mean=1e8, shape=1e-8), dict(mean=1e6, shape=1e6)]
)
def test_extreme_parameters_give_finite_geometry(kwargs) -> None:
    dist = InverseGaussian(**kwargs)
    y = np.asarray(dist.to_scipy().ppf(np.array([0.01, 0.5, 0.99])))
    y = y[np.isfinite(y) & (y > 0)][:, None]
    assert y.size
    assert np.isfinite(dist.nll(y)).all() and np.isfinite(dist.grad(y)).all()
    assert np.isfinite(dist.fisher()).all() and (np.diagonal(dist.fisher()[0]) > 0).all()


def test_invalid_arguments_name_the_parameter() -> None:
    with pytest.raises(ValueError, match="'shape'"):
        InverseGaussian(1.0, -1.0)
    with pytest.raises(ValueError, match="'mean'"):
        InverseGaussian(0.0, 1.0)
    with pytest.raises(ValueError, match="'y'.*positive"):
        InverseGaussian(1.0, 1.0).nll(np.array([0.0]))
