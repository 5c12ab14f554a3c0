"""Family-specific tests of the continuous families beyond the shared identity checker.

`natgrad.testing.check_distribution` checks the generic identities by Monte Carlo. Here the
same quantities are checked deterministically and against independent references:

* nll against ``-scipy.stats`` logpdf of `to_scipy()`;
* the closed-form Fisher and KL against numerical integration in probability space
  (E[f(y)] = ∫₀¹ f(F⁻¹(u)) du by tanh-sinh quadrature, exact to ~1e-14 here), also at rows
  beyond the families' examples (e.g. Student's t on both sides of its series switch);
* relations between families (Gamma(1, 1/λ) = Exponential(λ), Cauchy = t₁, t_∞ = Normal,
  Weibull(1, λ) = Exponential(λ));
* extreme but valid parameters give finite nll, gradient and a PSD Fisher;
* support errors name 'y'; Student's t with fixed degrees of freedom; Cauchy's missing moments;
* marginal fits: stationarity of the likelihood, scale equivariance, constant targets.

The only random test is the Kolmogorov-Smirnov test of the samplers: fixed seed, level 1e-4
per family (false-alarm rate below 1e-3 for the eight families together).
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from scipy import special, stats

import natgrad.distributions as nd
from natgrad.distributions import (
    Cauchy,
    Distribution,
    Exponential,
    Gamma,
    HalfNormal,
    Laplace,
    LogNormal,
    Normal,
    StudentT,
    Weibull,
)

NAMES = [
    "lognormal",
    "laplace",
    "student_t",
    "cauchy",
    "gamma",
    "exponential",
    "weibull",
    "half_normal",
]
LOG = np.log

# Rows checked by quadrature: each family's examples plus rows that exercise other branches.
EXTRA_ROWS: dict[str, list[tuple[dict, list[float]]]] = {
    "student_t": [
        ({}, [0.5, 0.3, LOG(0.5)]),
        ({}, [0.0, 0.0, LOG(99.0)]),  # direct trigamma forms
        ({}, [0.0, 0.0, LOG(150.0)]),  # asymptotic series in 1/ν
        ({"fixed_df": 0.7}, [1.0, -0.5]),
    ],
    "gamma": [({}, [LOG(0.05), 0.0]), ({}, [LOG(200.0), 1.0])],
    "weibull": [({}, [LOG(0.3), 0.5]), ({}, [LOG(40.0), -2.0])],
    "lognormal": [({}, [5.0, LOG(3.0)])],
}


def _cases() -> list[tuple[str, dict, list[float]]]:
    cases = []
    for name in NAMES:
        family = nd.get(name)
        for config, rows in family.examples:
            cases += [(name, config, list(row)) for row in rows]
        cases += [(name, config, row) for config, row in EXTRA_ROWS.get(name, [])]
    return cases


CASES = _cases()
CASE_IDS = [f"{name}-{config}-{np.round(row, 2).tolist()}" for name, config, row in CASES]


def _one(name: str, config: dict, row: list[float]) -> Distribution:
    return nd.get(name).from_params([row], **config)


def _quantile(dist: Distribution, u: np.ndarray, upper: np.ndarray | None = None) -> np.ndarray:
    """F⁻¹(u) of a one-row batch, shape (K, 1); ``upper`` = 1 − u, given exactly, is used
    through isf where u > ½ so that quantiles near 1 keep their precision."""
    frozen = dist.to_scipy()
    u = np.asarray(u, dtype=np.float64)
    upper = 1.0 - u if upper is None else upper
    with np.errstate(over="ignore"):  # unrepresentable quantiles become inf
        y = np.where(u < 0.5, frozen.ppf(u), frozen.isf(upper))
    return np.asarray(y, dtype=np.float64).reshape(-1, 1)


def _tanh_sinh(h: float = 1.0 / 64.0, t_max: float = 4.5):
    """Nodes v, 1 − v and weights of the tanh-sinh rule on (0, 1): v = expit(π sinh t).

    The double-exponential change of variables makes endpoint singularities (log y and
    powers of it as u → 0 or 1) harmless; the rule converges like exp(−c/h) and reaches
    double precision here (checked against adaptive quadrature when the tests were written).
    """
    t = np.arange(-t_max, t_max + h / 2, h)
    s = np.pi * np.sinh(t)
    v, v_comp = special.expit(s), special.expit(-s)
    return v, v_comp, h * np.pi * np.cosh(t) * v * v_comp


def _expect(dist: Distribution, fn, breaks: tuple[float, ...] = ()) -> np.ndarray:
    """E[fn(y)] for a one-row batch: ∫₀¹ fn(F⁻¹(u)) du, by tanh-sinh on pieces of (0, 1).

    ``fn`` maps targets of shape (K, 1) to values of shape (K, q). The pieces end at u = ½
    and at ``breaks`` (probabilities where fn has a kink, e.g. Laplace's at its location),
    so that every kink sits on a piece boundary. Quantiles that underflow to 0 (Gamma with
    a small shape, u → 0) move to the smallest positive float: the mass below it is
    negligible at the shapes used here.
    """
    v, v_comp, w = _tanh_sinh()
    tiny = np.finfo(np.float64).tiny
    edges = sorted({0.0, 0.5, 1.0, *breaks})
    total = 0.0
    for a, b in zip(edges[:-1], edges[1:], strict=False):
        # u = a + (b − a) v and 1 − u = (1 − b) + (b − a)(1 − v), both without cancellation.
        y = _quantile(dist, a + (b - a) * v, (1.0 - b) + (b - a) * v_comp)
        y = np.where(dist.support.contains(y), y, tiny)
        total = total + (b - a) * (w @ fn(y))
    return np.asarray(total)


# ---------------------------------------------------------------------- nll and Fisher
@pytest.mark.parametrize(("name", "config", "row"), CASES, ids=CASE_IDS)
def test_nll_equals_minus_scipy_logpdf(name, config, row) -> None:
    dist = _one(name, config, row)
    y = _quantile(dist, np.linspace(0.001, 0.999, 41))  # (41, 1): a sample axis
    expected = -dist.to_scipy().logpdf(y)
    np.testing.assert_allclose(dist.nll(y), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("name", "config", "row"), CASES, ids=CASE_IDS)
def test_fisher_equals_integrated_score_outer_product(name, config, row) -> None:
    dist = _one(name, config, row)
    p = dist.n_params

    def moments(y):
        g = dist.grad(y)[:, 0]  # (K, p)
        return np.concatenate([g, (g[:, :, None] * g[:, None, :]).reshape(len(g), -1)], axis=1)

    integrated = _expect(dist, moments)
    fisher = dist.fisher()[0]
    scale = np.sqrt(np.outer(np.diag(fisher), np.diag(fisher)))
    d = np.sqrt(np.diag(fisher))
    # Score mean zero and E[g gᵀ] = F, each entry relative to sqrt(F_ii F_jj).
    np.testing.assert_allclose(integrated[:p] / d, 0.0, atol=1e-9)
    np.testing.assert_allclose(integrated[p:].reshape(p, p) / scale, fisher / scale, atol=1e-9)


def test_student_t_fisher_is_continuous_across_the_series_switch() -> None:
    below = StudentT(0.0, 1.0, 100.0 * (1 - 1e-12)).fisher()
    above = StudentT(0.0, 1.0, 100.0).fisher()
    np.testing.assert_allclose(below, above, rtol=1e-9)
    y = np.linspace(-6, 6, 13)[:, None]
    np.testing.assert_allclose(
        StudentT(0.0, 1.0, 100.0 * (1 - 1e-12)).grad(y),
        StudentT(0.0, 1.0, 100.0).grad(y),
        rtol=1e-9,
        atol=1e-14,
    )


def test_student_t_log_df_fisher_at_huge_df_is_accurate() -> None:
    # F[log ν, log ν] = 7/(2ν²) − 13/ν³ + 79/(2ν⁴) − …: positive and accurate where the
    # trigamma difference of the direct form would be pure rounding noise.
    # Learned ν stops at DF_RANGE[1] = 1000; the series itself serves any ν.
    from natgrad.distributions.student_t import _df_terms

    nu = np.array([1e3, 1e4, 1e8, 1e12])
    fisher = _df_terms(nu, 2)
    np.testing.assert_allclose(fisher, 3.5 / nu**2 - 13 / nu**3 + 39.5 / nu**4, rtol=1e-7)
    at_bound = StudentT(0.0, 1.0, 1e3).fisher()[0, 2, 2]
    np.testing.assert_allclose(at_bound, fisher[0], rtol=1e-14)


# ---------------------------------------------------------------------- KL
KL_PAIRS = [
    (LogNormal, [0.0, 0.0], [1.0, -0.5]),
    (Laplace, [0.0, 0.0], [1.5, 0.7]),
    (Laplace, [2.0, -1.0], [2.0, 1.0]),
    (Cauchy, [0.0, 0.0], [3.0, 1.0]),
    (Gamma, [LOG(0.7), 0.0], [LOG(3.0), 1.0]),
    (Gamma, [LOG(40.0), 2.0], [LOG(35.0), 1.8]),
    (Exponential, [0.0], [1.3]),
    (Weibull, [LOG(1.5), 0.0], [LOG(0.8), 0.5]),
    (Weibull, [LOG(5.0), 1.0], [LOG(7.0), 1.2]),
    (HalfNormal, [0.0], [-0.8]),
]


@pytest.mark.parametrize(
    ("family", "row_p", "row_q"), KL_PAIRS, ids=[f.name for f, _, _ in KL_PAIRS]
)
def test_closed_form_kl_equals_integrated_log_ratio(family, row_p, row_q) -> None:
    p, q = family.from_params([row_p]), family.from_params([row_q])
    # Laplace's log ratio has kinks at both locations; the other integrands are smooth.
    kinks = tuple(p.cdf(q.loc)) if family is Laplace else ()
    integrated = _expect(p, lambda y: q.nll(y) - p.nll(y), kinks)
    np.testing.assert_allclose(p.kl(q), integrated, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(p.kl(p), 0.0, atol=1e-14)


def test_kl_is_finite_and_non_negative_at_extreme_scales() -> None:
    for family in [LogNormal, Laplace, Cauchy]:
        p = family.from_params([[0.0, LOG(1e-8)], [1e8, LOG(1e8)]])
        q = family.from_params([[1.0, LOG(1e8)], [-1e8, LOG(1e-8)]])
        kl = p.kl(q)
        assert np.isfinite(kl).all() and (kl > 0).all(), family.name
    gp, gq = Gamma([1e8, 1e-3], [1e-8, 1e8]), Gamma([2e8, 1e-2], [1e8, 1e-8])
    assert np.isfinite(gp.kl(gq)).all() and (gp.kl(gq) > 0).all()
    wp, wq = Weibull([1e3, 0.05], [1e-8, 1e8]), Weibull([1.2e3, 0.06], [1.1e-8, 1e7])
    assert np.isfinite(wp.kl(wq)).all() and (wp.kl(wq) > 0).all()


def test_student_t_kl_has_no_closed_form_and_falls_back_to_monte_carlo() -> None:
    p, q = StudentT(0.0, 1.0, 4.0), StudentT(0.5, 1.2, 6.0)
    with pytest.raises(ValueError, match="rng"):
        p.kl(q)
    estimate = p.kl(q, rng=np.random.default_rng(0), n_samples=20_000)
    integrated = _expect(p, lambda y: q.nll(y) - p.nll(y))
    # The log ratio has standard deviation < 0.6 here: 20 000 draws give SE < 0.005.
    np.testing.assert_allclose(estimate, integrated, atol=0.03)


# ---------------------------------------------------------------------- relations
def test_special_cases_agree_with_related_families() -> None:
    y = np.array([0.01, 0.3, 1.0, 2.5, 9.0])[:, None]
    lam = 2.5
    expo = Exponential(lam)
    np.testing.assert_allclose(Gamma(1.0, 1.0 / lam).nll(y), expo.nll(y), rtol=1e-13)
    np.testing.assert_allclose(Weibull(1.0, lam).nll(y), expo.nll(y), rtol=1e-13)
    g_expo = expo.grad(y)[..., 0]
    np.testing.assert_allclose(Gamma(1.0, 1.0 / lam).grad(y)[..., 1], -g_expo, atol=1e-14)
    np.testing.assert_allclose(Weibull(1.0, lam).grad(y)[..., 1], g_expo, atol=1e-14)
    np.testing.assert_allclose(
        Weibull(1.0, lam).kl(Weibull(1.0, 4.0)), expo.kl(Exponential(4.0)), rtol=1e-13
    )

    x = np.linspace(-30, 30, 11)[:, None]
    t1 = StudentT(0.7, 2.0, 1.0)
    cauchy = Cauchy(0.7, 2.0)
    np.testing.assert_allclose(t1.nll(x), cauchy.nll(x), rtol=1e-13)
    np.testing.assert_allclose(t1.grad(x)[..., :2], cauchy.grad(x), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(t1.fisher()[:, :2, :2], cauchy.fisher(), rtol=1e-13)

    # ν → ∞: the Normal, to O(1/ν).
    t_inf, normal = StudentT(0.7, 2.0, fixed_df=1e10), Normal(0.7, 2.0)
    np.testing.assert_allclose(t_inf.nll(x[3:8]), normal.nll(x[3:8]), rtol=1e-8)
    np.testing.assert_allclose(t_inf.grad(x[3:8])[..., :2], normal.grad(x[3:8]), atol=1e-7)
    np.testing.assert_allclose(t_inf.fisher()[:, :2, :2], normal.fisher(), rtol=1e-9)

    np.testing.assert_allclose(
        HalfNormal(2.0).nll(np.abs(x)), Normal(0.0, 2.0).nll(x) - np.log(2.0), rtol=1e-13
    )
    np.testing.assert_allclose(
        LogNormal(0.3, 1.7).nll(np.exp(x[3:8] / 10)),
        Normal(0.3, 1.7).nll(x[3:8] / 10) + x[3:8] / 10,
        rtol=1e-13,
    )


# ---------------------------------------------------------------------- extreme parameters
EXTREME = {
    "lognormal": [dict(loc=0.0, scale=1e-8), dict(loc=3.0, scale=1e8), dict(loc=-300, scale=1.0)],
    "laplace": [dict(loc=0.0, scale=1e-8), dict(loc=1e8, scale=1e8)],
    "student_t": [
        # Learned ν lives in [0.1, 1000]; fixed ν may be anything positive.
        dict(loc=0.0, scale=1e-8, df=1e3),
        dict(loc=5.0, scale=1e8, df=0.1),
        dict(loc=0.0, scale=1.0, fixed_df=1e15),
        dict(loc=0.0, scale=1e-8, fixed_df=0.05),
        dict(loc=5.0, scale=1e8, fixed_df=1e-3),
        dict(loc=0.0, scale=1e8, fixed_df=1e8),
    ],
    "cauchy": [dict(loc=0.0, scale=1e-8), dict(loc=1e8, scale=1e8)],
    "gamma": [
        dict(shape=1e8, rate=1e-8),
        dict(shape=1e8, rate=1e8),
        dict(shape=0.05, rate=1e8),
        dict(shape=1e-3, rate=1e-8),
    ],
    "exponential": [dict(scale=1e-8), dict(scale=1e8)],
    "weibull": [
        dict(shape=1e8, scale=1e-8),
        dict(shape=0.05, scale=1e8),
        dict(shape=1e8, scale=1e8),
        dict(shape=0.2, scale=1e-8),
    ],
    "half_normal": [dict(scale=1e-8), dict(scale=1e8)],
}
EXTREME_CASES = [(name, kw) for name, kws in EXTREME.items() for kw in kws]


@pytest.mark.parametrize(
    ("name", "kwargs"), EXTREME_CASES, ids=[f"{n}-{kw}" for n, kw in EXTREME_CASES]
)
def test_extreme_parameters_give_finite_geometry(name, kwargs) -> None:
    dist = nd.get(name)(**kwargs)
    y = _quantile(dist, np.array([1e-6, 0.01, 0.3, 0.5, 0.7, 0.99, 1 - 1e-6]))[:, 0]
    # Quantiles that are not representable (e.g. a log-normal with σ = 1e8) leave the set.
    y = y[np.isfinite(y) & dist.support.contains(y)][:, None]
    assert y.shape[0] >= 1
    nll, g, fisher = dist.nll(y), dist.grad(y), dist.fisher()
    assert np.isfinite(nll).all() and np.isfinite(g).all() and np.isfinite(fisher).all()
    d = np.sqrt(np.diagonal(fisher, axis1=1, axis2=2))
    assert (d > 0).all()
    scaled = fisher / (d[:, :, None] * d[:, None, :])
    assert np.linalg.eigvalsh(scaled).min() > -1e-10


# ---------------------------------------------------------------------- support and errors
@pytest.mark.parametrize(
    ("family", "zero_ok"),
    [(LogNormal, False), (Gamma, False), (Weibull, False), (Exponential, True), (HalfNormal, True)],
    ids=lambda v: getattr(v, "name", str(v)),
)
def test_targets_outside_the_support_are_rejected_naming_y(family, zero_ok) -> None:
    dist = family.from_params(family.examples[0][1][:1])
    for method in (dist.nll, dist.grad):
        with pytest.raises(ValueError, match="'y'.*(positive|non-negative)"):
            method(np.array([-1.0]))
    with pytest.raises(ValueError, match="'y'"):
        family.fit_marginal([1.0, 2.0, -0.5])
    if zero_ok:
        assert np.isfinite(dist.nll(np.array([0.0]))).all()
    else:
        with pytest.raises(ValueError, match="'y'"):
            dist.nll(np.array([0.0]))


@pytest.mark.parametrize("family", [Laplace, Cauchy, LogNormal, Gamma, Weibull, HalfNormal])
def test_non_positive_natural_parameters_are_rejected(family) -> None:
    name = next(k for k in family.natural_support if k != "loc")
    with pytest.raises(ValueError, match=f"'{name}'"):
        family(**{name: -1.0})


def test_cauchy_has_no_mean_or_variance() -> None:
    dist = Cauchy([0.0, 1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"no mean.*ppf\(0.5\)"):
        dist.mean()
    with pytest.raises(ValueError, match="no variance"):
        dist.var()
    np.testing.assert_allclose(dist.ppf(0.5), dist.loc)


def test_student_t_mean_and_var_follow_scipy_where_they_do_not_exist() -> None:
    dist = StudentT(1.0, 2.0, [0.5, 1.5, 3.0])
    np.testing.assert_array_equal(dist.mean(), [np.nan, 1.0, 1.0])
    np.testing.assert_allclose(dist.var(), [np.nan, np.inf, 12.0])
    np.testing.assert_allclose(dist.var()[2], dist.to_scipy().var()[2])


# ---------------------------------------------------------------------- Student's t, fixed df
def test_student_t_with_fixed_df_has_two_parameters() -> None:
    dist = StudentT([0.0, 1.0], [1.0, 2.0], fixed_df=3.0)
    assert dist.n_params == 2 and dist.param_names == ("loc", "log_scale")
    assert StudentT.n_params == 3 and StudentT.param_names[-1] == "log_df"
    assert dist.config == {"fixed_df": 3.0} and dist.fixed_df == 3.0
    np.testing.assert_array_equal(dist.df, [3.0, 3.0])
    assert set(dist.natural_params) == {"loc", "scale"}
    y = np.zeros((5, 2))
    assert dist.params.shape == (2, 2) and dist.fisher().shape == (2, 2, 2)
    assert dist.nll(y).shape == (5, 2) and dist.grad(y).shape == (5, 2, 2)
    assert dist.grad(y[0]).shape == (2, 2)

    learned = StudentT([0.0, 1.0], [1.0, 2.0], 3.0)
    x = np.tile(np.linspace(-5, 5, 7)[:, None], (1, 2))
    np.testing.assert_allclose(dist.nll(x), learned.nll(x), rtol=1e-14)
    np.testing.assert_allclose(dist.grad(x), learned.grad(x)[..., :2], rtol=1e-14)
    np.testing.assert_allclose(dist.fisher(), learned.fisher()[:, :2, :2], rtol=1e-14)

    again = StudentT.from_params(dist.params, fixed_df=3.0)
    np.testing.assert_array_equal(again.params, dist.params)
    assert again.n_params == 2 and dist[1:].n_params == 2
    back = pickle.loads(pickle.dumps(dist))
    assert back.config == dist.config and back.n_params == 2
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        StudentT.from_params(np.zeros((2, 3)), fixed_df=3.0)

    theta = StudentT.fit_marginal(np.linspace(-3, 3, 50), fixed_df=3.0)
    assert theta.shape == (1, 2)
    assert StudentT.fit_marginal(np.linspace(-3, 3, 50)).shape == (1, 3)


def test_student_t_constructor_errors_name_the_argument() -> None:
    with pytest.raises(ValueError, match="'df'"):
        StudentT(0.0, 1.0)
    with pytest.raises(ValueError, match="'df'"):
        StudentT(0.0, 1.0, 3.0, fixed_df=3.0)
    for bad in [-1.0, 0.0, np.inf, "3", True]:
        with pytest.raises(ValueError, match="'fixed_df'"):
            StudentT(0.0, 1.0, fixed_df=bad)
    with pytest.raises(ValueError, match="'df'"):
        StudentT(0.0, 1.0, -2.0)
    with pytest.raises(TypeError, match="configuration"):
        StudentT.from_params([[0.0, 0.0]], fixed_dof=3.0)


# ---------------------------------------------------------------------- distribution functions
@pytest.mark.parametrize("name", NAMES)
def test_cdf_ppf_round_trip_and_moments(name) -> None:
    family = nd.get(name)
    config, rows = family.examples[0]
    dist = family.from_params(rows, **config)
    q = np.array([0.05, 0.5, 0.95])[:, None]
    y = dist.ppf(q)
    assert y.shape == (3, len(dist))
    np.testing.assert_allclose(dist.cdf(y), np.broadcast_to(q, y.shape), rtol=1e-10)
    np.testing.assert_allclose(dist.sf(y), 1.0 - np.broadcast_to(q, y.shape), rtol=1e-9)
    if name != "cauchy":
        frozen = dist.to_scipy()
        np.testing.assert_allclose(dist.mean(), frozen.mean(), rtol=1e-12)
        np.testing.assert_allclose(dist.var(), frozen.var(), rtol=1e-10)


@pytest.mark.parametrize("name", NAMES)
def test_samples_follow_the_distribution(name) -> None:
    # Kolmogorov-Smirnov per row at level 1e-4 / n_rows (false-alarm rate 1e-4 per family).
    family = nd.get(name)
    config, rows = family.examples[0]
    dist = family.from_params(rows, **config)
    x = dist.sample(20_000, np.random.default_rng(7))
    frozen = dist.to_scipy()
    for i in range(len(dist)):
        cdf = np.asarray(frozen.cdf(np.repeat(x[:, i : i + 1], len(dist), axis=1)))[:, i]
        pvalue = stats.kstest(cdf, "uniform").pvalue
        assert pvalue > 1e-4 / len(dist), (name, i, pvalue)


# ---------------------------------------------------------------------- marginal fits
def _weighted_mean_grad(family, theta, y, w, config) -> np.ndarray:
    dist = family.from_params(theta, **config)
    return (w / w.sum()) @ dist.grad(y[:, None])[:, 0]


@pytest.mark.parametrize(
    ("name", "config", "row", "tol"),
    [
        ("lognormal", {}, [0.5, -0.3], 1e-10),
        ("gamma", {}, [LOG(2.0), 0.5], 1e-10),
        ("exponential", {}, [1.0], 1e-10),
        ("weibull", {}, [LOG(1.7), 0.3], 1e-8),
        ("half_normal", {}, [0.4], 1e-10),
        ("cauchy", {}, [1.0, -1.0], 1e-4),
        ("student_t", {}, [1.0, -1.0, LOG(4.0)], 1e-4),
        ("student_t", {"fixed_df": 4.0}, [1.0, -1.0], 1e-4),
    ],
)
def test_marginal_fit_solves_the_weighted_likelihood_equations(name, config, row, tol) -> None:
    family = nd.get(name)
    truth = family.from_params([row], **config)
    rng = np.random.default_rng(3)
    y = truth.sample(500, rng)[:, 0]
    w = rng.uniform(0.0, 2.0, size=500)
    theta = family.fit_marginal(y, sample_weight=w, **config)
    fisher = family.from_params(theta, **config).fisher()[0]
    # The mean score at the fit, in units of its own standard deviation sqrt(F_jj).
    score = _weighted_mean_grad(family, theta, y, w, config)
    np.testing.assert_allclose(score / np.sqrt(np.diag(fisher)), 0.0, atol=tol)


def test_laplace_fit_is_weighted_median_and_mean_absolute_deviation() -> None:
    y = np.array([3.0, -1.0, 2.0, 10.0, 0.0, 5.0])
    theta = Laplace.fit_marginal(y)[0]
    assert theta[0] == pytest.approx(2.5)  # midpoint of the two middle values
    assert np.exp(theta[1]) == pytest.approx(np.mean(np.abs(y - 2.5)))
    # Half the weight at 10 exactly: any point of [5, 10] is a median, the midpoint is taken.
    w = np.array([1.0, 1.0, 1.0, 5.0, 1.0, 1.0])
    assert Laplace.fit_marginal(y, sample_weight=w)[0, 0] == pytest.approx(7.5)
    w[3] = 6.0
    assert Laplace.fit_marginal(y, sample_weight=w)[0, 0] == pytest.approx(10.0)


def test_gamma_and_weibull_fits_match_scipy() -> None:
    rng = np.random.default_rng(11)
    y = rng.gamma(2.5, 1.0 / 3.0, size=400)
    a, _, scale = stats.gamma.fit(y, floc=0.0, method="MLE")
    np.testing.assert_allclose(Gamma.fit_marginal(y)[0], [np.log(a), -np.log(scale)], atol=1e-4)
    y = 2.0 * rng.weibull(1.7, size=400)
    c, _, scale = stats.weibull_min.fit(y, floc=0.0, method="MLE")
    np.testing.assert_allclose(Weibull.fit_marginal(y)[0], [np.log(c), np.log(scale)], atol=1e-4)


@pytest.mark.parametrize("name", NAMES)
def test_marginal_fit_is_scale_equivariant_and_handles_constant_targets(name) -> None:
    family = nd.get(name)
    config, rows = family.examples[0]
    y = family.from_params(rows[:1], **config).sample(300, np.random.default_rng(5))[:, 0]
    base = family.fit_marginal(y, **config)[0]
    c = 1e6
    scaled = family.fit_marginal(c * y, **config)[0]
    expected = base.copy()
    if name == "lognormal":
        expected[0] += np.log(c)  # scaling y shifts the location of log y
    else:
        for j, pname in enumerate(family.from_params(rows[:1], **config).param_names):
            if pname == "loc":
                expected[j] *= c
            elif pname == "log_scale":
                expected[j] += np.log(c)
            elif pname == "log_rate":
                expected[j] -= np.log(c)
    np.testing.assert_allclose(scaled, expected, rtol=1e-5, atol=1e-5)

    constant = family.fit_marginal(np.full(20, 3.0), **config)
    assert np.isfinite(constant).all()
    dist = family.from_params(constant, **config)
    assert np.isfinite(dist.nll(np.array([3.0]))).all()
    assert np.isfinite(dist.fisher()).all()
