"""The multivariate normal family against independent references.

Monte Carlo comparisons use 5 standard errors (a false-alarm rate of 5.7e-7 per compared
number) with fixed seeds. The expected Hessian is computed exactly, up to finite-difference
error, by cubature: the Hessian of the nll is a polynomial of degree 2 in y, and the 2k points
μ ± √k (columns of chol Σ) with equal weights reproduce the first and second moments of
N(μ, Σ), so their average Hessian is its expectation.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from scipy import stats

from natgrad.distributions import MultivariateNormal
from natgrad.testing import SkippedCheckWarning, check_distribution, numerical_hessian

Z = 5.0


def _random_mvn(k: int, n: int, seed: int) -> MultivariateNormal:
    rng = np.random.default_rng(seed)
    loc = rng.normal(scale=3.0, size=(n, k))
    a = rng.normal(size=(n, k, k))
    cov = a @ np.swapaxes(a, 1, 2) + 0.3 * np.eye(k)
    return MultivariateNormal(loc, cov)


def test_identity_checker_on_more_dimensions_and_strong_correlation() -> None:
    strong = MultivariateNormal([[0.0, 1.0]], [[[1.0, 0.99], [0.99, 1.0]]]).params.tolist()
    k4 = _random_mvn(4, 2, seed=3).params.tolist()
    with warnings.catch_warnings():
        # The constructor round trip is skipped: MVN's natural parameters are not scalars.
        warnings.simplefilter("ignore", SkippedCheckWarning)
        check_distribution(
            MultivariateNormal,
            rng=np.random.default_rng(0),
            examples=[({"dim": 2}, strong), ({"dim": 4}, k4)],
        )


@pytest.mark.parametrize("k", [2, 3])
def test_fisher_equals_score_covariance_by_monte_carlo(k: int) -> None:
    dist = _random_mvn(k, 3, seed=k)
    rng = np.random.default_rng(10 + k)
    m = 200_000
    y = dist.sample(m, rng)  # (m, n, k)
    g = dist.grad(y)  # (m, n, p)
    outer = g[..., :, None] * g[..., None, :]
    mean = outer.mean(axis=0)
    se = outer.std(axis=0) / np.sqrt(m)
    assert np.all(np.abs(mean - dist.fisher()) <= Z * se + 1e-10)
    g_mean, g_se = g.mean(axis=0), g.std(axis=0) / np.sqrt(m)
    assert np.all(np.abs(g_mean) <= Z * g_se)


@pytest.mark.parametrize("k", [2, 3])
def test_fisher_equals_expected_hessian_by_cubature(k: int) -> None:
    dist = _random_mvn(k, 2, seed=20 + k)
    chol = np.linalg.cholesky(dist.cov())  # (n, k, k)
    expected = np.zeros_like(dist.fisher())
    for sign in (1.0, -1.0):
        for j in range(k):
            point = dist.loc + sign * np.sqrt(k) * chol[:, :, j]
            expected += numerical_hessian(dist, point) / (2 * k)
    scale = np.sqrt(np.abs(np.einsum("nii->ni", dist.fisher())))
    rel = np.abs(expected - dist.fisher()) / (scale[:, :, None] * scale[:, None, :])
    assert rel.max() < 1e-5


def test_fisher_is_block_diagonal_with_the_precision_for_the_mean() -> None:
    dist = _random_mvn(3, 4, seed=5)
    f = dist.fisher()
    np.testing.assert_allclose(f[:, :3, :3], np.linalg.inv(dist.cov()), rtol=1e-9, atol=1e-12)
    assert np.all(f[:, :3, 3:] == 0.0)
    np.testing.assert_allclose(f, np.swapaxes(f, 1, 2))
    assert np.all(np.linalg.eigvalsh(f) > 0)


@pytest.mark.parametrize("k", [2, 3])
def test_kl_matches_monte_carlo(k: int) -> None:
    p, q = _random_mvn(k, 3, seed=30 + k), _random_mvn(k, 3, seed=40 + k)
    rng = np.random.default_rng(k)
    m = 200_000
    x = p.sample(m, rng)
    diff = q.nll(x) - p.nll(x)
    se = diff.std(axis=0) / np.sqrt(m)
    assert np.all(np.abs(diff.mean(axis=0) - p.kl(q)) <= Z * se)
    np.testing.assert_allclose(p.kl(p), 0.0, atol=1e-12)


def test_kl_against_the_textbook_formula() -> None:
    p, q = _random_mvn(3, 2, seed=1), _random_mvn(3, 2, seed=2)
    s0, s1 = p.cov(), q.cov()
    for i in range(2):
        inv1 = np.linalg.inv(s1[i])
        d = q.loc[i] - p.loc[i]
        want = 0.5 * (
            np.trace(inv1 @ s0[i])
            - 3
            + d @ inv1 @ d
            + np.linalg.slogdet(s1[i])[1]
            - np.linalg.slogdet(s0[i])[1]
        )
        assert p.kl(q)[i] == pytest.approx(want, rel=1e-10)


def test_nll_grad_and_scipy_agree_row_by_row() -> None:
    dist = _random_mvn(3, 4, seed=7)
    y = np.random.default_rng(0).normal(size=(4, 3))
    frozen = dist.to_scipy()
    assert len(frozen) == 4
    want = [f.logpdf(v) for f, v in zip(frozen, y, strict=True)]
    np.testing.assert_allclose(dist.logpdf(y), want, rtol=1e-11)
    # ∇_μ nll = −Σ⁻¹(y − μ), independent of the factor parameterisation.
    g = dist.grad(y)
    np.testing.assert_allclose(
        g[:, :3], -np.einsum("nij,nj->ni", np.linalg.inv(dist.cov()), y - dist.loc), rtol=1e-9
    )


def test_sample_moments_mean_and_covariance() -> None:
    dist = _random_mvn(2, 2, seed=8)
    x = dist.sample(100_000, np.random.default_rng(1))
    np.testing.assert_array_equal(dist.mean(), dist.loc)
    for i in range(2):
        se = np.sqrt(np.diag(dist.cov()[i]) / x.shape[0])
        assert np.all(np.abs(x[:, i].mean(axis=0) - dist.loc[i]) <= Z * se)
        np.testing.assert_allclose(np.cov(x[:, i].T), dist.cov()[i], rtol=0.03, atol=0.03)
    np.testing.assert_allclose(dist.var(), np.einsum("nii->ni", dist.cov()))


def test_weighted_marginal_fit_is_the_weighted_sample_moments() -> None:
    rng = np.random.default_rng(4)
    y = rng.multivariate_normal([1.0, -2.0, 0.5], [[2, 0.5, 0], [0.5, 1, 0.3], [0, 0.3, 1]], 300)
    w = rng.uniform(0.1, 2.0, size=300)
    fitted = MultivariateNormal.from_params(MultivariateNormal.fit_marginal(y, w))
    np.testing.assert_allclose(fitted.loc[0], np.average(y, axis=0, weights=w), rtol=1e-10)
    np.testing.assert_allclose(fitted.cov()[0], np.cov(y.T, aweights=w, bias=True), rtol=1e-9)
    # Integer weights equal repeated rows.
    reps = rng.integers(1, 4, size=300)
    a = MultivariateNormal.fit_marginal(y, reps.astype(float))
    b = MultivariateNormal.fit_marginal(np.repeat(y, reps, axis=0))
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("scale", [1e-6, 1e6])
def test_extreme_scales_stay_finite(scale: float) -> None:
    rng = np.random.default_rng(9)
    y = scale * rng.multivariate_normal([1.0, 2.0, 3.0], [[1, 0.8, 0], [0.8, 1, 0], [0, 0, 1]], 50)
    theta = MultivariateNormal.fit_marginal(y)
    dist = MultivariateNormal.from_params(np.repeat(theta, 50, axis=0))
    for value in (dist.nll(y), dist.grad(y), dist.fisher(), dist.cov(), dist.kl(dist)):
        assert np.isfinite(value).all()
    np.testing.assert_allclose(dist.cov()[0], np.cov(y.T, bias=True), rtol=1e-8)


@pytest.mark.parametrize(
    ("y", "match"),
    [
        (np.zeros((4, 3)), r"last axis of length 2"),
        (np.zeros(4), r"last axis of length 2"),
        (np.array([[0.0, np.nan]] * 4), r"'y' argument .* must be finite"),
        (np.zeros((3, 2)), r"shape \(4, k\)"),
    ],
)
def test_bad_targets_are_named(y: np.ndarray, match: str) -> None:
    dist = MultivariateNormal(np.zeros((4, 2)), np.eye(2))
    with pytest.raises(ValueError, match=match):
        dist.nll(y)


def test_pickle_round_trip_keeps_the_dimension() -> None:
    dist = _random_mvn(3, 2, seed=11)
    again = pickle.loads(pickle.dumps(dist))
    assert again.dim == 3 and again.config == {"dim": 3}
    np.testing.assert_array_equal(again.params, dist.params)
    assert stats.multivariate_normal(again.loc[0], again.cov()[0]).logpdf(
        again.loc[0]
    ) == pytest.approx(-again.nll(again.loc)[0])
