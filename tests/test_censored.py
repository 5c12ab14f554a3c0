"""CensoredLogScore: score, gradient and metric of right-censored targets, for every family.

Statistical tests use fixed seeds and tolerances of 5 standard errors per checked entry (a
false-alarm rate below 1e-6 per entry under the normal approximation).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, special

from natgrad.distributions import Exponential, Gamma, LogNormal, Normal, Weibull
from natgrad.scores._censored import (
    CensoredLogScore,
    _gamma_terms,
    _log_q_continued_fraction,
    _log_sf_gamma,
)

SCORE = CensoredLogScore()

# (family, parameter rows): typical and extreme-but-valid values, each family's unconstrained
# coordinates.
CASES = {
    "lognormal": (LogNormal, [[0.0, 0.0], [2.0, -1.5], [-1.0, 0.7]]),
    "exponential": (Exponential, [[0.0], [-3.0], [4.0]]),
    "weibull": (Weibull, [[0.0, 0.0], [np.log(3.0), np.log(2.0)], [np.log(0.6), -1.0]]),
    "gamma": (Gamma, [[0.0, 0.0], [np.log(0.5), np.log(2.0)], [np.log(20.0), np.log(0.1)]]),
}
QUANTILES = [1e-4, 0.2, 0.5, 0.9, 1.0 - 1e-6]


def batch(name: str):
    family, params = CASES[name]
    return family, np.asarray(params, dtype=np.float64)


def targets(times: np.ndarray, event: int) -> np.ndarray:
    return np.column_stack([times, np.full(times.shape, float(event))])


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("q", QUANTILES)
def test_score_is_minus_logpdf_or_logsf(name, q):
    family, params = batch(name)
    dist = family.from_params(params)
    ref = dist.to_scipy()
    t = ref.ppf(q)
    np.testing.assert_allclose(SCORE.score(dist, targets(t, 1)), -ref.logpdf(t), rtol=1e-12)
    np.testing.assert_allclose(
        SCORE.score(dist, targets(t, 0)), -ref.logsf(t), rtol=1e-11, atol=1e-300
    )
    # A mixed batch takes each row's own branch.
    mixed = np.column_stack([t, np.arange(len(t)) % 2])
    expected = np.where(mixed[:, 1] == 1, -ref.logpdf(t), -ref.logsf(t))
    np.testing.assert_allclose(SCORE.score(dist, mixed), expected, rtol=1e-11)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("event", [0, 1])
@pytest.mark.parametrize("q", QUANTILES)
def test_gradient_matches_finite_differences(name, event, q):
    family, params = batch(name)
    dist = family.from_params(params)
    y = targets(dist.to_scipy().ppf(q), event)
    grad = SCORE.grad(dist, y)
    h = 1e-5
    fd = np.empty_like(grad)
    for j in range(params.shape[1]):
        step = np.zeros_like(params)
        step[:, j] = h
        up = SCORE.score(family.from_params(params + step), y)
        down = SCORE.score(family.from_params(params - step), y)
        fd[:, j] = (up - down) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8 * (1 + np.abs(fd).max()))


def test_far_tail_log_survival_of_gamma_is_finite_and_exact():
    # Integer shape: Q(n, x) = e^{−x} Σ_{k<n} x^k/k!, so log Q = −x + log Σ ...; scipy's Q
    # underflows to 0 here, the continued fraction does not.
    x = np.array([800.0, 5000.0, 1e6])
    a = np.full(3, 3.0)
    exact = -x + np.log1p(x + x * x / 2.0)
    np.testing.assert_allclose(_log_sf_gamma(a, x), exact, rtol=1e-13)
    # Non-integer shapes: the continued fraction agrees with scipy where scipy's Q is still
    # representable (which `_log_sf_gamma` uses there).
    for shape in (0.3, 2.5, 40.5):
        xs = np.array([shape + 5.0, 300.0, 650.0])
        cf = _log_q_continued_fraction(np.full(3, shape), xs) - xs
        np.testing.assert_allclose(cf, np.log(special.gammaincc(shape, xs)), rtol=1e-13)
    dist = Gamma(shape=3.0, rate=1.0)
    score = SCORE.score(dist.with_params(np.repeat(dist.params, 3, 0)), targets(x, 0))
    np.testing.assert_allclose(score, -exact, rtol=1e-13)


def test_incomplete_gamma_moments_match_quadrature():
    """m0, m1, m2 and ∂ₐ log Q (central differences) against direct quadrature."""
    a = np.array([0.3, 1.0, 1.0, 2.5, 20.0, 20.0, 0.05])
    x = np.array([0.1, 0.01, 4.0, 2.0, 15.0, 40.0, 1e-3])
    got = _gamma_terms(a, x)
    for i in range(a.size):
        ai, xi, psi = a[i], x[i], special.digamma(a[i])

        # In u = log v the integrands are smooth: v^{a−1}e^{−v}dv = exp(a u − eᵘ)du. Beyond
        # u = 8 (v ≈ 3000) the mass of every case here is below e^{−2900}.
        def moment(k, lo, hi, ai=ai, psi=psi):
            def f(u):
                return (u - psi) ** k * np.exp(ai * u - np.exp(u) - special.gammaln(ai))

            # Split where (u − ψ)ᵏ changes sign, so that each piece has one sign.
            cuts = [lo] + [psi] * bool(lo < psi < hi) + [hi]
            pieces = zip(cuts[:-1], cuts[1:], strict=True)
            return sum(
                integrate.quad(f, u0, u1, epsabs=1e-15, epsrel=1e-12, limit=400)[0]
                for u0, u1 in pieces
            )

        log_x = np.log(xi)
        for k in range(3):
            below = moment(k, -np.inf, log_x)
            assert got[f"m{k}"][i] == pytest.approx(below, rel=1e-7, abs=1e-13)
        upper = moment(0, log_x, 8.0)
        assert got["dlog_q"][i] == pytest.approx(moment(1, log_x, 8.0) / upper, rel=1e-7)
        assert got["log_q"][i] == pytest.approx(np.log(upper), rel=1e-10)


@pytest.mark.parametrize("name", sorted(CASES))
def test_censored_fisher_matches_quadrature(name):
    """I(c) = ∫₀ᶜ s sᵀ f dt + S(c) s_S s_Sᵀ, with s = ∇log f from the family itself."""
    family, params = batch(name)
    for q in (0.05, 0.5, 0.95):
        dist = family.from_params(params)
        c = dist.to_scipy().ppf(q)
        got = SCORE.censored_fisher(dist, c)
        for i in range(len(params)):
            row = dist[i]
            p = params.shape[1]

            def integrand(t, a, b, row=row):
                s = -row.grad(np.array([t]))[0]
                return s[a] * s[b] * np.exp(-row.nll(np.array([t]))[0])

            ref = np.array(
                [
                    [
                        integrate.quad(integrand, 0, c[i], args=(a, b), epsabs=0, epsrel=1e-10)[0]
                        for b in range(p)
                    ]
                    for a in range(p)
                ]
            )
            s_sf = -SCORE.grad(row, targets(c[i : i + 1], 0))[0]
            ref += row.sf(c[i])[0] * np.outer(s_sf, s_sf)
            np.testing.assert_allclose(got[i], ref, rtol=1e-6, atol=1e-9 * np.abs(ref).max())


@pytest.mark.parametrize("name", sorted(CASES))
def test_censored_fisher_is_the_covariance_of_the_censored_score(name):
    """Monte Carlo: T ~ f, observe (min(T, c), 1{T ≤ c}); the score has mean 0 and covariance
    I(c). Every entry within 5 standard errors (false-alarm rate < 1e-6 per entry)."""
    family, params = batch(name)
    rng = np.random.default_rng(20240)
    n = 100_000
    for i in range(len(params)):
        row = family.from_params(params[i : i + 1])
        c = row.to_scipy().ppf(0.6)
        draws = row.sample(n, rng)[:, 0]
        y = np.column_stack([np.minimum(draws, c), (draws <= c).astype(float)])
        many = row.with_params(np.repeat(row.params, n, axis=0))
        s = -SCORE.grad(many, y)
        se_mean = s.std(axis=0) / np.sqrt(n)
        assert np.all(np.abs(s.mean(axis=0)) < 5 * se_mean)
        outer = s[:, :, None] * s[:, None, :]
        est, se = outer.mean(axis=0), outer.std(axis=0) / np.sqrt(n)
        expected = SCORE.censored_fisher(row, c)[0]
        assert np.all(np.abs(est - expected) < 5 * se), (est, expected, se)


@pytest.mark.parametrize("name", sorted(CASES))
def test_censored_fisher_grows_to_the_fisher(name):
    family, params = batch(name)
    dist = family.from_params(params)
    fisher = dist.fisher()
    previous = np.zeros_like(fisher)
    for q in (1e-6, 0.1, 0.5, 0.9, 0.999):
        current = SCORE.censored_fisher(dist, dist.to_scipy().ppf(q))
        # 0 ⪯ I(c) ⪯ F and I increases with c (Loewner order), up to rounding.
        scale = np.abs(fisher).max()
        assert np.linalg.eigvalsh(current - previous).min() > -1e-9 * scale
        assert np.linalg.eigvalsh(fisher - current).min() > -1e-9 * scale
        previous = current
    far = SCORE.censored_fisher(dist, dist.to_scipy().ppf(1 - 1e-13))
    np.testing.assert_allclose(far, fisher, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(SCORE.censored_fisher(dist, np.inf), fisher)


def test_exponential_censored_fisher_closed_form():
    dist = Exponential(scale=[0.5, 2.0, 10.0])
    c = np.array([0.1, 2.0, 50.0])
    np.testing.assert_allclose(
        SCORE.censored_fisher(dist, c)[:, 0, 0], 1 - np.exp(-c / dist.scale), rtol=1e-15
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_metric_at_is_symmetric_positive_definite(name):
    family, params = batch(name)
    dist = family.from_params(params)
    for q in QUANTILES + [1e-250]:
        t = np.maximum(dist.to_scipy().ppf(q), 1e-300)
        for event in (0, 1):
            metric = SCORE.metric_at(dist, targets(t, event))
            assert np.all(np.isfinite(metric))
            np.testing.assert_array_equal(metric, np.swapaxes(metric, 1, 2))
            assert np.linalg.eigvalsh(metric).min() > 0
            if event == 1:
                np.testing.assert_array_equal(metric, dist.fisher())
    # Extreme censoring times on both sides stay finite and positive definite.
    n = 6
    wide = family.from_params(np.repeat(params[:1], n, axis=0))
    t = np.array([1e-300, 1e-30, 1.0, 1e30, 1e100, 1e300])
    with np.errstate(over="ignore"):
        metric = SCORE.metric_at(wide, targets(t, 0))
        grad = SCORE.grad(wide, targets(t, 0))
    assert np.all(np.isfinite(metric)) and np.linalg.eigvalsh(metric).min() > 0
    assert not np.any(np.isnan(grad))


def test_metric_choices():
    dist = LogNormal(loc=[0.0, 1.0], scale=[1.0, 0.5])
    y = np.array([[1.0, 0.0], [2.0, 1.0]])
    np.testing.assert_array_equal(CensoredLogScore("fisher").metric_at(dist, y), dist.fisher())
    np.testing.assert_array_equal(SCORE.metric(dist), dist.fisher())
    censored = SCORE.metric_at(dist, y)
    np.testing.assert_array_equal(censored[1], dist.fisher()[1])
    floor = 1e-9 * dist[0].sf(1.0)[0] * dist.fisher()[0]
    np.testing.assert_allclose(
        censored[0], SCORE.censored_fisher(dist[0], 1.0)[0] + floor, rtol=1e-15
    )


def test_bad_targets_and_families():
    dist = Exponential(scale=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        SCORE.score(dist, [1.0, 2.0])
    with pytest.raises(ValueError, match="finite positive times"):
        SCORE.grad(dist, [[0.0, 1.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match="finite positive times"):
        SCORE.score(dist, [[np.nan, 1.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match=r"event flags 0 \(censored\) or 1"):
        SCORE.metric_at(dist, [[1.0, 0.5], [1.0, 1.0]])
    with pytest.raises(ValueError, match="'metric'"):
        CensoredLogScore("expected")
    with pytest.raises(ValueError, match="censoring times"):
        SCORE.censored_fisher(dist, [-1.0, 1.0])
    assert SCORE.supports(Weibull) and not SCORE.supports(Normal)
    with pytest.raises(ValueError, match="supports"):
        SCORE.score(Normal(0.0, 1.0), [[1.0, 1.0]])


def test_score_equality_and_repr():
    assert CensoredLogScore() == CensoredLogScore("censored") != CensoredLogScore("fisher")
    assert repr(CensoredLogScore("fisher")) == "CensoredLogScore(metric='fisher')"
