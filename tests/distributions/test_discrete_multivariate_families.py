"""Family-specific checks of Poisson, negative binomial, Bernoulli, categorical, Beta and
multivariate normal that the shared identity checker (`natgrad.testing`) does not make.

Everything here is deterministic: log-likelihoods against scipy, Fisher matrices against exact
expectations (sums over the support, 40-digit mpmath references, or the (μ, Σ) Fisher pulled
back by finite differences), closed-form KL against exact sums, extreme-but-valid inputs, and
the error messages of invalid targets. No test draws random numbers except to make fixed
parameter grids (fixed seeds).
"""

from __future__ import annotations

import pickle

import mpmath as mp
import numpy as np
import pytest
from scipy import integrate, special, stats

from natgrad.distributions import (
    Bernoulli,
    Beta,
    Categorical,
    MultivariateNormal,
    NegativeBinomial,
    Poisson,
)
from natgrad.distributions import negative_binomial as nb_module


def _exact_kl_discrete(p, q, support: np.ndarray) -> np.ndarray:
    """Σ_y P(y) (log P(y) − log Q(y)) over a finite support grid, per row: (n,)."""
    y = np.broadcast_to(support[:, None], (support.size, len(p)))
    return np.sum(np.exp(-p.nll(y)) * (q.nll(y) - p.nll(y)), axis=0)


def _exact_fisher_discrete(dist, support: np.ndarray) -> np.ndarray:
    """Σ_y P(y) ∇nll(y) ∇nll(y)ᵀ over a finite support grid, per row: (n, p, p)."""
    y = np.broadcast_to(support[:, None], (support.size, len(dist)))
    prob = np.exp(-dist.nll(y))  # (m, n)
    g = dist.grad(y)  # (m, n, p)
    return np.einsum("mn,mni,mnj->nij", prob, g, g)


# ---------------------------------------------------------------------- nll = −scipy log density
def test_scalar_families_nll_matches_scipy() -> None:
    cases = [
        (Poisson(rate=[0.3, 4.0, 250.0]), np.array([0.0, 7.0, 240.0])),
        (
            NegativeBinomial(mean=[0.5, 6.0, 300.0], size=[0.2, 3.0, 40.0]),
            np.array([0.0, 11.0, 280.0]),
        ),
        (Bernoulli(probs=[0.01, 0.5, 0.97]), np.array([1.0, 0.0, 0.0])),
        (Beta(alpha=[0.5, 2.0, 40.0], beta=[0.7, 3.0, 4.0]), np.array([0.01, 0.4, 0.93])),
    ]
    for dist, y in cases:
        np.testing.assert_allclose(
            dist.nll(y),
            -dist.to_scipy().logpmf(y) if dist.discrete else -dist.to_scipy().logpdf(y),
            rtol=1e-12,
            atol=1e-12,
            err_msg=type(dist).__name__,
        )
        stacked = np.stack([y, y])  # (m, n) targets give (m, n)
        assert dist.nll(stacked).shape == (2, 3)


def test_categorical_and_mvn_nll_match_scipy_row_by_row() -> None:
    probs = np.array([[0.2, 0.3, 0.5], [0.7, 0.2, 0.1], [0.05, 0.05, 0.9]])
    cat = Categorical(probs)
    y = np.array([2.0, 0.0, 1.0])
    frozen = cat.to_scipy()
    assert isinstance(frozen, list) and len(frozen) == 3
    np.testing.assert_allclose(
        cat.nll(y), [-f.logpmf(v) for f, v in zip(frozen, y, strict=True)], rtol=1e-13
    )
    np.testing.assert_allclose(cat.probs, probs, rtol=1e-13)

    loc = np.array([[0.0, 1.0], [2.0, -1.0]])
    cov = np.array([[[1.0, 0.3], [0.3, 2.0]], [[0.5, -0.2], [-0.2, 0.4]]])
    mvn = MultivariateNormal(loc, cov)
    z = np.array([[0.5, 0.5], [1.0, 0.0]])
    expected = [
        stats.multivariate_normal(m, c).logpdf(v) for m, c, v in zip(loc, cov, z, strict=True)
    ]
    np.testing.assert_allclose(mvn.nll(z), -np.array(expected), rtol=1e-12)
    np.testing.assert_allclose(mvn.cov(), cov, rtol=1e-12)
    assert mvn.nll(np.stack([z, z, z])).shape == (3, 2)


# ---------------------------------------------------------------------- Fisher = exact expectation
def test_poisson_bernoulli_categorical_fisher_equal_sums_over_the_support() -> None:
    poisson = Poisson(rate=[0.2, 3.0, 40.0])
    np.testing.assert_allclose(
        poisson.fisher(), _exact_fisher_discrete(poisson, np.arange(200.0)), rtol=1e-12
    )
    bern = Bernoulli.from_params([[-6.0], [0.3], [9.0]])
    np.testing.assert_allclose(
        bern.fisher(), _exact_fisher_discrete(bern, np.array([0.0, 1.0])), rtol=1e-12
    )
    cat = Categorical.from_params([[0.5, -1.0, 2.0], [-3.0, 0.0, 1.0]], n_classes=4)
    np.testing.assert_allclose(
        cat.fisher(), _exact_fisher_discrete(cat, np.arange(4.0)), rtol=1e-12, atol=1e-15
    )


def test_negative_binomial_fisher_equals_sum_over_the_support() -> None:
    dist = NegativeBinomial(mean=[0.3, 3.0, 20.0, 8.0], size=[1.5, 2.0, 0.8, 60.0])
    exact = _exact_fisher_discrete(dist, np.arange(3000.0))
    # Off the diagonal the sum is rounding noise around 0 (about 1e-17 of the diagonal).
    np.testing.assert_allclose(dist.fisher(), exact, rtol=1e-10, atol=1e-13)
    assert dist.fisher()[:, 0, 1].tolist() == [0.0] * 4  # μ and r are orthogonal


def _reference_fisher_log_size(mu: float, r: float) -> mp.mpf:
    """r²[ψ'(r) − E ψ'(Y + r)] − μr/(μ + r) to 40 digits: a sum over the support, or for
    very large means the integral representation with mpmath's adaptive quadrature."""
    with mp.workdps(40):
        mu_, r_ = mp.mpf(mu), mp.mpf(r)
        if mu <= 1e3:
            q = mu_ / (r_ + mu_)
            pmf, total, mass, y = (r_ / (r_ + mu_)) ** r_, mp.mpf(0), mp.mpf(0), 0
            while y <= mu or 1 - mass > mp.mpf(10) ** -35:
                total += pmf * mp.psi(1, y + r_)
                mass += pmf
                pmf *= (y + r_) / (y + 1) * q
                y += 1
            expect = total
        else:

            def f(t):
                if t == 0:
                    return mp.mpf(0)
                one_minus_s = -mp.expm1(-t)
                pgf = mp.exp(-r_ * mp.log1p(mu_ * one_minus_s / r_))
                return t * mp.exp(-r_ * t) * pgf / one_minus_s

            points = sorted({mp.mpf(0), 1 / (mu_ + r_), 1 / r_, 1 / mu_, mp.mpf(1), mp.inf})
            expect = mp.quad(f, points)
        return r_**2 * (mp.psi(1, r_) - expect) - mu_ * r_ / (mu_ + r_)


# (mean, size) covering all three methods: sums, the wide-window integral, the large-size
# expansion (r ≥ 100) including the near-Poisson limit where F ~ μ²/(2r²) is tiny.
_NB_REFERENCE_CASES = [
    (3.0, 2.0),
    (0.3, 1.5),
    (5.0, 20.0),
    (1e-4, 5.0),
    (50.0, 0.5),
    (200.0, 300.0),
    (1.0, 100.0),
    (10.0, 600.0),
    (1e4, 900.0),
    (1e5, 1e-3),
    (1e8, 500.0),
    (1e12, 1e10),
]


def test_negative_binomial_fisher_of_log_size_against_40_digit_references() -> None:
    mu = np.array([c[0] for c in _NB_REFERENCE_CASES])
    r = np.array([c[1] for c in _NB_REFERENCE_CASES])
    got = NegativeBinomial(mean=mu, size=r).fisher()[:, 1, 1]
    for (m, s), value in zip(_NB_REFERENCE_CASES, got, strict=True):
        ref = _reference_fisher_log_size(m, s)
        assert abs(float((value - ref) / ref)) < 1e-11, (m, s, value, ref)


def test_negative_binomial_fisher_methods_agree_where_they_overlap(monkeypatch) -> None:
    mu = np.array([0.5, 3.0, 40.0, 300.0, 2e3])
    r = np.array([0.7, 2.0, 5.0, 50.0, 80.0])
    default = nb_module._fisher_log_size(mu, r)
    monkeypatch.setattr(nb_module, "_MAX_TERMS", 0)  # every row by the integral
    by_integral = nb_module._fisher_log_size(mu, r)
    monkeypatch.setattr(nb_module, "_MAX_TERMS", 10**6)  # every row by the sum
    by_sum = nb_module._fisher_log_size(mu, r)
    np.testing.assert_allclose(by_integral, by_sum, rtol=1e-10)
    np.testing.assert_allclose(default, by_sum, rtol=1e-10)
    # The large-size expansion against the sum just above its threshold (r = 100).
    mu, r = np.array([0.1, 5.0, 80.0]), np.array([120.0, 150.0, 130.0])
    monkeypatch.setattr(nb_module, "_LARGE_SIZE", np.inf)
    np.testing.assert_allclose(
        NegativeBinomial(mean=mu, size=r).fisher()[:, 1, 1],
        nb_module._fisher_large_size(mu, r),
        rtol=1e-10,
    )


def test_beta_fisher_from_the_hessian_at_one_target() -> None:
    # An exponential family in (α, β): the Hessian of nll in (α, β) does not depend on y. In
    # θ = (log α, log β) the chain rule adds diag(∇_θ nll(y)), so for every y
    # F = ∇²_θ nll(y) − diag(∇_θ nll(y)); the Hessian here is by central differences.
    dist = Beta(alpha=[0.5, 3.0, 200.0], beta=[2.0, 0.8, 300.0])
    y = np.array([0.3, 0.9, 0.4])
    theta, h = dist.params, 1e-5
    hessian = np.empty((3, 2, 2))
    for j in range(2):
        step = np.zeros(2)
        step[j] = h
        hessian[:, :, j] = (
            dist.with_params(theta + step).grad(y) - dist.with_params(theta - step).grad(y)
        ) / (2 * h)
    g = dist.grad(y)
    expected = hessian - g[:, :, None] * np.eye(2)
    np.testing.assert_allclose(dist.fisher(), expected, rtol=1e-7)


def test_mvn_fisher_is_the_pullback_of_the_mean_covariance_fisher() -> None:
    # F(θ) = J_μᵀ Σ⁻¹ J_μ + ½ tr(Σ⁻¹ ∂_iΣ Σ⁻¹ ∂_jΣ), with J from central differences of
    # (μ(θ), Σ(θ)): an independent route to the Fisher in the Cholesky parameters.
    for dim, rows in [(2, [[0.5, -1.0, 0.3, -0.7, -0.2]]), (3, MultivariateNormal.examples[1][1])]:
        dist = MultivariateNormal.from_params(rows, dim=dim)
        theta, p, h = dist.params, dist.n_params, 1e-6
        d_loc, d_cov = [], []
        for j in range(p):
            step = np.zeros(p)
            step[j] = h
            plus, minus = dist.with_params(theta + step), dist.with_params(theta - step)
            d_loc.append((plus.loc - minus.loc) / (2 * h))
            d_cov.append((plus.cov() - minus.cov()) / (2 * h))
        d_loc, d_cov = np.stack(d_loc, axis=1), np.stack(d_cov, axis=1)  # (n, p, k(, k))
        prec = np.linalg.inv(dist.cov())
        a = prec[:, None] @ d_cov  # Σ⁻¹ ∂_iΣ, (n, p, k, k)
        expected = np.einsum("nik,nkl,njl->nij", d_loc, prec, d_loc) + 0.5 * np.einsum(
            "nikl,njlk->nij", a, a
        )
        np.testing.assert_allclose(dist.fisher(), expected, rtol=1e-7, atol=1e-8)


# ---------------------------------------------------------------------- closed-form KL = exact
def test_closed_form_kl_equals_exact_sums_and_integrals() -> None:
    p, q = Poisson(rate=[0.5, 30.0]), Poisson(rate=[0.7, 25.0])
    np.testing.assert_allclose(p.kl(q), _exact_kl_discrete(p, q, np.arange(300.0)), rtol=1e-12)

    p, q = Bernoulli.from_params([[-40.0], [2.0]]), Bernoulli.from_params([[-39.0], [-1.0]])
    np.testing.assert_allclose(p.kl(q), _exact_kl_discrete(p, q, np.array([0.0, 1.0])), rtol=1e-10)

    p = Categorical.from_params([[0.0, 1.0], [3.0, -2.0]], n_classes=3)
    q = Categorical.from_params([[0.5, 0.5], [-1.0, 2.0]], n_classes=3)
    np.testing.assert_allclose(p.kl(q), _exact_kl_discrete(p, q, np.arange(3.0)), rtol=1e-12)

    p = NegativeBinomial(mean=[3.0, 40.0, 0.2], size=[2.0, 0.6, 5.0])
    q = NegativeBinomial(mean=[4.0, 35.0, 0.3], size=[1.5, 0.9, 3.0])
    np.testing.assert_allclose(p.kl(q), _exact_kl_discrete(p, q, np.arange(20000.0)), rtol=1e-9)

    p, q = Beta(alpha=[2.0, 0.6], beta=[3.0, 0.9]), Beta(alpha=[2.5, 1.2], beta=[2.0, 0.5])
    for i in range(2):
        integrand = lambda t, i=i: np.exp(-p[i].nll(t)[0]) * (q[i].nll(t)[0] - p[i].nll(t)[0])  # noqa: E731
        exact, _ = integrate.quad(integrand, 0.0, 1.0, epsabs=1e-13, epsrel=1e-12, limit=200)
        np.testing.assert_allclose(p.kl(q)[i], exact, rtol=1e-8)

    loc0, loc1 = np.array([[0.0, 1.0]]), np.array([[0.5, -1.0]])
    cov0 = np.array([[[1.0, 0.3], [0.3, 2.0]]])
    cov1 = np.array([[[0.5, -0.1], [-0.1, 0.8]]])
    s1_inv = np.linalg.inv(cov1[0])
    d = (loc1 - loc0)[0]
    expected = 0.5 * (
        np.trace(s1_inv @ cov0[0])
        + d @ s1_inv @ d
        - 2
        + np.log(np.linalg.det(cov1[0]) / np.linalg.det(cov0[0]))
    )
    got = MultivariateNormal(loc0, cov0).kl(MultivariateNormal(loc1, cov1))
    np.testing.assert_allclose(got, [expected], rtol=1e-12)


def test_negative_binomial_kl_methods_agree(monkeypatch) -> None:
    p = NegativeBinomial(mean=[3.0, 300.0, 1e-3, 80.0], size=[2.0, 30.0, 2.0, 0.3])
    q = NegativeBinomial(mean=[4.0, 310.0, 2e-3, 80.0], size=[1.5, 29.0, 3.0, 0.31])
    by_sum = p.kl(q)
    monkeypatch.setattr(nb_module, "_MAX_TERMS", 0)
    np.testing.assert_allclose(p.kl(q), by_sum, rtol=1e-10)
    assert (p.kl(p) == 0.0).all()


# ---------------------------------------------------------------------- extreme but valid
def test_large_counts_are_finite_and_exact() -> None:
    y = np.full(3, 1e6)
    poisson = Poisson.from_params([[np.log(1e6)], [40.0], [-40.0]])
    for method in (poisson.nll, poisson.grad):
        assert np.isfinite(method(y)).all()
    np.testing.assert_allclose(poisson.nll(y)[0], -stats.poisson(1e6).logpmf(1e6), rtol=1e-12)
    nb = NegativeBinomial(mean=[1e6, 3.0, 1e6], size=[0.1, 1e12, 1e9])
    assert np.isfinite(nb.nll(y)).all() and np.isfinite(nb.grad(y)).all()
    fisher = nb.fisher()
    assert np.isfinite(fisher).all() and (np.diagonal(fisher, axis1=1, axis2=2) > 0).all()
    # Near the Poisson limit the NB nll equals the Poisson nll to O(μ²/r).
    np.testing.assert_allclose(
        NegativeBinomial(mean=1e6, size=1e15).nll(np.array([1e6])),
        Poisson(rate=1e6).nll(np.array([1e6])),
        rtol=1e-9,
    )


def test_extreme_logits_are_finite_and_exact() -> None:
    bern = Bernoulli.from_params([[40.0], [-40.0], [500.0], [-500.0]])
    y = np.array([1.0, 1.0, 0.0, 0.0])
    nll = bern.nll(y)
    assert np.isfinite(nll).all()
    np.testing.assert_allclose(nll[:2], [-special.log_expit(40.0), 40.0 + np.log1p(np.exp(-40.0))])
    np.testing.assert_allclose(nll[2:], [500.0, np.exp(-500.0)], rtol=1e-12)
    np.testing.assert_allclose(bern.fisher()[:2, 0, 0], np.exp(-40.0) / (1 + np.exp(-40.0)) ** 2)
    np.testing.assert_allclose(
        bern.grad(y)[:, 0],
        [-special.expit(-40.0), -special.expit(40.0), 1.0, special.expit(-500.0)],
        rtol=1e-12,
    )
    # The natural gradient (p − y)/(p(1 − p)) keeps its exact value −1/p at θ = 40.
    np.testing.assert_allclose(bern.grad(y)[0, 0] / bern.fisher()[0, 0, 0], -1.0, rtol=1e-12)
    cat = Categorical.from_params([[40.0, -40.0], [-40.0, -40.0]], n_classes=3)
    labels = np.array([2.0, 0.0])
    assert np.isfinite(cat.nll(labels)).all() and np.isfinite(cat.grad(labels)).all()
    np.testing.assert_allclose(cat.nll(labels), [80.0, 2 * np.exp(-40.0)], rtol=1e-12)
    # Label 2 with logits (0, 40, −40): ∇ = (p_1, p_2 − 1) with p_2 − 1 = −p_1 − p_0 ≈ −1;
    # label 0 with logits (0, −40, −40): ∇ = (p_1, p_2) ≈ e^{−40}, exact.
    np.testing.assert_allclose(cat.grad(labels)[1], [np.exp(-40.0)] * 2, rtol=1e-12)
    cat2 = Categorical.from_params([[-40.0, 40.0]], n_classes=3)  # saturated on class 2
    g = cat2.grad(np.array([2.0]))[0]
    p = cat2.probs[0]
    np.testing.assert_allclose(g, [p[1], -(p[0] + p[1])], rtol=1e-12)
    assert g[1] < 0  # a plain p_2 − 1 rounds to 0
    kl = cat.kl(cat.with_params(cat.params + 1e-3))
    assert np.isfinite(kl).all() and (kl >= 0).all()


def test_extreme_beta_and_mvn_are_finite() -> None:
    beta = Beta(alpha=[1e-3, 1e6, 0.5], beta=[1e-3, 1e6, 1e4])
    y = np.array([1e-300, 0.5, 1.0 - 2.0**-53])
    for value in (beta.nll(y), beta.grad(y), beta.fisher(), beta.mean(), beta.var()):
        assert np.isfinite(value).all()
    mvn = MultivariateNormal([[1e6, -1e6]], [[[1e-8, 0.0], [0.0, 1e8]]])
    z = np.array([[1e6 + 1e-4, 0.0]])
    for value in (mvn.nll(z), mvn.grad(z), mvn.fisher(), mvn.cov()):
        assert np.isfinite(value).all()
    assert (np.linalg.eigvalsh(mvn.fisher()) > 0).all()


# ---------------------------------------------------------------------- invalid targets
@pytest.mark.parametrize(
    ("dist", "bad", "pattern"),
    [
        (Poisson(rate=[1.0, 2.0]), [1.5, 2.0], r"'y'.*non-negative integer.*1\.5"),
        (Poisson(rate=[1.0, 2.0]), [-1.0, 2.0], r"'y'.*non-negative integer"),
        (NegativeBinomial(mean=[1.0, 2.0], size=1.0), [0.0, 2.5], r"'y'.*integer"),
        (Bernoulli(probs=[0.5, 0.5]), [0.0, 2.0], r"'y'.*0 or 1"),
        (Categorical(np.full((2, 3), 1 / 3)), [3.0, 0.0], r"'y'.*label in 0\.\.2.*3\.0"),
        (Categorical(np.full((2, 3), 1 / 3)), [0.5, 0.0], r"'y'.*label in 0\.\.2"),
        (Beta(alpha=[1.0, 2.0], beta=1.0), [0.0, 0.5], r"'y'.*open interval \(0, 1\)"),
        (Beta(alpha=[1.0, 2.0], beta=1.0), [0.5, 1.0], r"'y'.*open interval \(0, 1\)"),
    ],
)
def test_targets_outside_the_support_name_y(dist, bad, pattern) -> None:
    for method in (dist.nll, dist.grad):
        with pytest.raises(ValueError, match=pattern):
            method(np.array(bad))


def test_mvn_wrong_target_shape_names_y() -> None:
    mvn = MultivariateNormal(np.zeros((4, 2)), np.eye(2))
    for bad in [np.zeros((4, 3)), np.zeros(4), np.zeros((2, 4, 3)), 0.0]:
        with pytest.raises(ValueError, match=r"'y'.*last axis of length 2"):
            mvn.nll(bad)
    with pytest.raises(ValueError, match="'y'"):
        MultivariateNormal.fit_marginal(np.zeros((10, 3)), dim=2)
    assert mvn.nll(np.zeros(2)).shape == (4,)  # one (k,) target broadcasts to every row


# ---------------------------------------------------------------------- configuration
def test_categorical_configuration_and_validation() -> None:
    cat = Categorical.from_params(np.zeros((2, 3)))  # K inferred as 4
    assert cat.n_classes == 4 and cat.config == {"n_classes": 4} and cat.n_params == 3
    assert cat.param_names == ("logit_1", "logit_2", "logit_3")
    np.testing.assert_allclose(cat.probs, 0.25)
    back = pickle.loads(pickle.dumps(cat))
    assert back.config == cat.config and back.support == cat.support
    with pytest.raises(ValueError, match="'params'"):
        Categorical.from_params(np.zeros((2, 3)), n_classes=3)
    with pytest.raises(ValueError, match="'n_classes'"):
        Categorical.from_params(np.zeros((2, 0)), n_classes=1)
    with pytest.raises(ValueError, match="'probs'.*sum"):
        Categorical([[0.5, 0.6]])
    with pytest.raises(ValueError, match="'probs'.*positive"):
        Categorical([[1.0, 0.0]])
    with pytest.raises(ValueError, match="'probs'.*shape"):
        Categorical([0.5])
    for method in (cat.mean, cat.var):
        with pytest.raises(NotImplementedError, match="probs"):
            method()
    with pytest.raises(ValueError, match="'other'.*3 classes"):
        Categorical(np.full((1, 3), 1 / 3)).kl(Categorical(np.full((1, 2), 0.5)))
    # The marginal fit infers K from the largest label unless told; absent classes are floored.
    theta = Categorical.fit_marginal(np.array([0.0, 1.0, 1.0, 2.0]))
    np.testing.assert_allclose(theta, [[np.log(2.0), 0.0]])
    theta = Categorical.fit_marginal(np.array([0.0, 1.0]), n_classes=3)
    assert theta.shape == (1, 2) and np.isfinite(theta).all() and theta[0, 1] < -20


def test_categorical_samples_follow_the_probabilities() -> None:
    probs = np.array([[0.1, 0.2, 0.7], [0.6, 0.3, 0.1]])
    draws = Categorical(probs).sample(40_000, np.random.default_rng(7))
    freq = np.stack([(draws == k).mean(axis=0) for k in range(3)], axis=1)
    se = np.sqrt(probs * (1 - probs) / 40_000)
    assert (np.abs(freq - probs) < 5 * se).all()  # false-alarm rate 6e-7 per number


def test_mvn_configuration_moments_and_undefined_functions() -> None:
    loc = np.array([1.0, -2.0, 0.5])
    cov = np.array([[2.0, 0.5, 0.1], [0.5, 1.0, -0.3], [0.1, -0.3, 0.7]])
    mvn = MultivariateNormal(loc, cov)
    assert mvn.dim == 3 and mvn.n_params == 9 and mvn.config == {"dim": 3}
    again = MultivariateNormal.from_params(mvn.params)  # dim inferred from p = 9
    np.testing.assert_allclose(again.cov()[0], cov, rtol=1e-12)
    np.testing.assert_allclose(mvn.mean(), loc[None])
    np.testing.assert_allclose(mvn.var(), np.diag(cov)[None], rtol=1e-12)
    np.testing.assert_allclose(mvn.precision()[0], np.linalg.inv(cov), rtol=1e-12)
    assert mvn.sample(5, np.random.default_rng(0)).shape == (5, 1, 3)
    with pytest.raises(ValueError, match="'params'"):
        MultivariateNormal.from_params(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="'cov'.*positive definite"):
        MultivariateNormal(loc, -cov)
    with pytest.raises(ValueError, match="'cov'.*symmetric"):
        MultivariateNormal(loc[:2], [[1.0, 0.5], [0.0, 1.0]])
    with pytest.raises(ValueError, match="'cov'.*shape"):
        MultivariateNormal(loc, np.eye(2))
    for call in (lambda: mvn.cdf(loc), lambda: mvn.ppf(0.5), lambda: mvn.interval(0.9)):
        with pytest.raises(NotImplementedError, match="not defined"):
            call()
    with pytest.raises(ValueError, match="'q'"):
        mvn.ppf(1.5)


def test_mvn_fit_marginal_is_the_weighted_mle_and_survives_singular_data() -> None:
    rng = np.random.default_rng(3)
    y = rng.standard_normal((500, 2)) @ np.array([[1.0, 0.0], [0.8, 0.5]]) + [1.0, -1.0]
    w = rng.uniform(0.5, 2.0, 500)
    fitted = MultivariateNormal.from_params(MultivariateNormal.fit_marginal(y, sample_weight=w))
    mean = np.average(y, axis=0, weights=w)
    cov = np.cov(y.T, aweights=w, bias=True)
    np.testing.assert_allclose(fitted.loc[0], mean, rtol=1e-12)
    np.testing.assert_allclose(fitted.cov()[0], cov, rtol=1e-10)
    # A constant coordinate (singular covariance) gets a tiny ridge instead of failing.
    flat = np.column_stack([y[:, 0], np.full(500, 3.0)])
    theta = MultivariateNormal.fit_marginal(flat)
    assert np.isfinite(theta).all()
    assert np.isfinite(MultivariateNormal.from_params(theta).nll(flat[:1])).all()


def test_marginal_fits_of_degenerate_data_stay_finite() -> None:
    zeros = np.zeros(10)
    for family in (Poisson, NegativeBinomial, Bernoulli):
        theta = family.fit_marginal(zeros)
        assert np.isfinite(theta).all(), family.__name__
    assert np.isfinite(Bernoulli.fit_marginal(np.ones(10))).all()
    # Under-dispersed counts have no finite MLE of r: the fit returns r = 1e6·max(μ, 1).
    theta = NegativeBinomial.fit_marginal(np.array([2.0, 3.0, 2.0, 3.0, 2.0, 3.0]))
    np.testing.assert_allclose(np.exp(theta[0]), [2.5, 2.5e6])
    # Over-dispersed counts: the profile score of r vanishes at the fit.
    y = np.array([0.0, 0.0, 1.0, 4.0, 9.0, 2.0, 0.0, 15.0])
    theta = NegativeBinomial.fit_marginal(y)
    dist = NegativeBinomial.from_params(np.repeat(theta, y.size, axis=0))
    np.testing.assert_allclose(dist.grad(y).mean(axis=0), 0.0, atol=1e-10)
    # Beta: the likelihood equations E[log y] = ψ(α) − ψ(α+β) hold at the fit.
    y = np.array([0.1, 0.35, 0.5, 0.52, 0.8, 0.95])
    theta = Beta.fit_marginal(y)
    dist = Beta.from_params(np.repeat(theta, y.size, axis=0))
    np.testing.assert_allclose(dist.grad(y).mean(axis=0), 0.0, atol=1e-10)


def test_negative_binomial_gradient_in_the_poisson_limit() -> None:
    # ∂nll/∂log r = −r[ψ(y + r) − ψ(r) − log(1 + μ/r) + (μ − y)/(μ + r)] is O(1/r): a naive
    # evaluation loses every digit for r = 1e12; compare with 40-digit arithmetic.
    cases = [(3.0, 2.5, 1e8), (0.0, 2.5, 1e12), (7.0, 7.0, 1e15), (1e6, 3.0, 0.5)]
    for y, mu, r in cases:
        got = NegativeBinomial(mean=mu, size=r).grad(np.array([y]))[0, 1]
        with mp.workdps(40):
            y_, m_, r_ = mp.mpf(y), mp.mpf(mu), mp.mpf(r)
            ref = -r_ * (
                mp.psi(0, y_ + r_) - mp.psi(0, r_) - mp.log1p(m_ / r_) + (m_ - y_) / (r_ + m_)
            )
        assert abs(float((got - ref) / ref)) < 1e-12, (y, mu, r, got, ref)
