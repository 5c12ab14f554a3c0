"""natgrad.glm against statsmodels on its bundled data sets (loaded offline) and simulations.

statsmodels is a test-only dependency (the ``dev`` extra); without it these tests skip.
Reference fits use statsmodels' IRLS with a tight tolerance (tol=1e-12 on the deviance) so
that both sides are converged; the comparisons are then about the answers, not the stopping
rules.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from natgrad import glm

sm = pytest.importorskip("statsmodels.api")


def _compare(res, ref, *, rtol_params=1e-6, rtol_bse=1e-6, llf_atol=1e-8):
    names = list(ref.params.index) if hasattr(ref.params, "index") else None
    params = np.asarray(ref.params)[: res.params.size]
    bse = np.asarray(ref.bse)[: res.params.size]
    if names is not None:
        assert res.param_names == names[: res.params.size]
    np.testing.assert_allclose(res.params, params, rtol=rtol_params, atol=0)
    np.testing.assert_allclose(res.bse, bse, rtol=rtol_bse, atol=0)
    if llf_atol is not None:
        assert abs(res.llf - ref.llf) <= llf_atol
    assert res.converged


@pytest.fixture(scope="module")
def star98():
    data = sm.datasets.star98.load_pandas()
    successes = data.endog.iloc[:, 0].to_numpy()
    trials = data.endog.sum(axis=1).to_numpy()
    return data, successes, trials


def test_star98_binomial_matches_the_published_log_likelihood(star98) -> None:
    data, successes, trials = star98
    res = glm.fit(data.exog, successes, "binomial", n_trials=trials)
    # The reference value statsmodels' own test suite holds for this model.
    assert abs(res.llf - (-2998.61255899391)) <= 1e-8
    ref = sm.GLM(data.endog, sm.add_constant(data.exog), family=sm.families.Binomial()).fit(
        tol=1e-12
    )
    _compare(res, ref)
    np.testing.assert_allclose(res.deviance, ref.deviance, rtol=1e-12)
    np.testing.assert_allclose(res.pearson_chi2, ref.pearson_chi2, rtol=1e-10)
    np.testing.assert_allclose(res.aic, ref.aic, rtol=1e-12)
    np.testing.assert_allclose(res.conf_int(), np.asarray(ref.conf_int()), rtol=1e-6)
    np.testing.assert_allclose(res.pvalues, np.asarray(ref.pvalues), rtol=1e-5, atol=1e-300)


@pytest.mark.parametrize(
    ("link", "sm_link"), [("probit", "Probit"), ("cloglog", "CLogLog")], ids=["probit", "cloglog"]
)
def test_star98_binomial_other_links(star98, link, sm_link) -> None:
    data, successes, trials = star98
    res = glm.fit(data.exog, successes, "binomial", link=link, n_trials=trials)
    family = sm.families.Binomial(getattr(sm.families.links, sm_link)())
    ref = sm.GLM(data.endog, sm.add_constant(data.exog), family=family).fit(tol=1e-12)
    _compare(res, ref)
    # statsmodels' default covariance after IRLS is the expected information.
    np.testing.assert_allclose(res.cov_params(), np.asarray(ref.cov_params()), rtol=1e-6)


@pytest.fixture(scope="module")
def scotland():
    return sm.datasets.scotland.load_pandas()


@pytest.mark.parametrize(
    ("family", "link", "sm_family", "sm_link"),
    [
        ("gamma", None, "Gamma", "InversePower"),
        ("gamma", "log", "Gamma", "Log"),
        ("inverse_gaussian", None, "InverseGaussian", "InverseSquared"),
        ("inverse_gaussian", "log", "InverseGaussian", "Log"),
    ],
)
def test_scotland_gamma_and_inverse_gaussian(scotland, family, link, sm_family, sm_link) -> None:
    res = glm.fit(scotland.exog, scotland.endog, family, link=link)
    fam = getattr(sm.families, sm_family)(getattr(sm.families.links, sm_link)())
    with warnings.catch_warnings():
        # statsmodels warns that the inverse links do not respect the family's domain.
        warnings.simplefilter("ignore")
        ref = sm.GLM(scotland.endog, sm.add_constant(scotland.exog), family=fam).fit(tol=1e-12)
    _compare(res, ref)
    np.testing.assert_allclose(res.scale, ref.scale, rtol=1e-9)
    np.testing.assert_allclose(res.deviance, ref.deviance, rtol=1e-9)


@pytest.fixture(scope="module")
def counts():
    rng = np.random.default_rng(20240601)
    n = 600
    X = rng.normal(size=(n, 3))
    exposure = rng.uniform(0.5, 3.0, size=n)
    weights = rng.integers(1, 4, size=n).astype(float)
    mu = exposure * np.exp(0.3 + X @ np.array([0.5, -0.2, 0.1]))
    y_pois = rng.poisson(mu).astype(float)
    y_nb = rng.negative_binomial(2.0, 2.0 / (2.0 + mu)).astype(float)
    return X, exposure, weights, y_pois, y_nb


def test_poisson_with_offset_and_weights(counts) -> None:
    X, exposure, weights, y, _ = counts
    res = glm.fit(X, y, "poisson", offset=np.log(exposure), weights=weights)
    ref = sm.GLM(
        y,
        sm.add_constant(X),
        family=sm.families.Poisson(),
        offset=np.log(exposure),
        freq_weights=weights,
    ).fit(tol=1e-12)
    _compare(res, ref)
    np.testing.assert_allclose(res.aic, ref.aic, rtol=1e-12)
    # Predictions carry the offset: the natgrad Poisson batch has the fitted means.
    dist = res.predict(X, offset=np.log(exposure))
    np.testing.assert_allclose(dist.mean(), ref.fittedvalues, rtol=1e-9)


def test_negative_binomial_with_fixed_size(counts) -> None:
    X, exposure, _, _, y = counts
    family = glm.families.NegativeBinomial(size=2.0)
    res = glm.fit(X, y, family, offset=np.log(exposure))
    ref = sm.GLM(
        y,
        sm.add_constant(X),
        family=sm.families.NegativeBinomial(alpha=0.5),
        offset=np.log(exposure),
    ).fit(tol=1e-12)
    _compare(res, ref)
    assert res.family.size == 2.0


def test_negative_binomial_with_estimated_size(counts) -> None:
    from statsmodels.discrete.discrete_model import NegativeBinomial

    X, exposure, _, _, y = counts
    res = glm.fit(X, y, "negative_binomial", offset=np.log(exposure))
    ref = NegativeBinomial(y, sm.add_constant(X), offset=np.log(exposure)).fit(
        method="newton", maxiter=200, tol=1e-14, disp=0
    )
    np.testing.assert_allclose(res.params, ref.params[:-1], rtol=1e-6)
    np.testing.assert_allclose(res.family.size, 1.0 / ref.params[-1], rtol=1e-6)
    assert abs(res.llf - ref.llf) <= 1e-8
    # The joint MLE counts the size as a parameter.
    np.testing.assert_allclose(res.aic, ref.aic, rtol=1e-12)
    # Standard errors: the expected information of β at the fitted size (β and the size are
    # orthogonal), which is statsmodels' GLM at that fixed alpha.
    fixed = sm.GLM(
        y,
        sm.add_constant(X),
        family=sm.families.NegativeBinomial(alpha=1.0 / res.family.size),
        offset=np.log(exposure),
    ).fit(tol=1e-12)
    np.testing.assert_allclose(res.bse, fixed.bse, rtol=1e-6)
    # The size's standard error: expected information (natgrad) against statsmodels'
    # observed one for alpha = 1/r (delta method: se(alpha) = se(r)/r²). The two differ by
    # O(1/√n) relative; 10 % is several times that at n = 600.
    se_alpha = res.size_bse / res.family.size**2
    np.testing.assert_allclose(se_alpha, ref.bse[-1], rtol=0.1)


@pytest.mark.parametrize("link", ["identity", "log"])
def test_gaussian(link) -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(200, 4))
    y = np.exp(0.5 + X @ np.array([0.2, -0.1, 0.0, 0.3])) + 0.3 * rng.normal(size=200)
    res = glm.fit(X, y, "gaussian", link=link)
    fam = sm.families.Gaussian(getattr(sm.families.links, link.capitalize())())
    ref = sm.GLM(y, sm.add_constant(X), family=fam).fit(tol=1e-12)
    # statsmodels evaluates the log-link gaussian likelihood at the Pearson scale; natgrad
    # at the maximum-likelihood scale RSS/n for every link (the identity link agrees).
    _compare(res, ref, llf_atol=1e-8 if link == "identity" else None)
    np.testing.assert_allclose(res.scale, ref.scale, rtol=1e-9)


def test_observed_information_matches_statsmodels_for_a_non_canonical_link(scotland) -> None:
    res = glm.fit(scotland.exog, scotland.endog, "gamma", link="log")
    fam = sm.families.Gamma(sm.families.links.Log())
    model = sm.GLM(scotland.endog, sm.add_constant(scotland.exog), family=fam)
    ref = model.fit(tol=1e-12)
    # The negative Hessian of the log-likelihood at the fit, divided through by the scale.
    hessian = model.hessian(ref.params.to_numpy(), scale=ref.scale, observed=True)
    np.testing.assert_allclose(res.cov_params("observed"), np.linalg.inv(-hessian), rtol=1e-6)
    assert not np.allclose(res.cov_params("observed"), res.cov_params(), rtol=1e-3)
