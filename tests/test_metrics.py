"""Tests of natgrad.metrics: closed forms against the definitions, calibration by simulation.

Statistical checks use fixed seeds; each states its false-alarm rate (the chance that a
correct implementation would fail for a fresh seed).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from natgrad import metrics
from natgrad.distributions import (
    Categorical,
    Cauchy,
    Gamma,
    Laplace,
    LogNormal,
    MultivariateNormal,
    NegativeBinomial,
    Normal,
    Poisson,
    StudentT,
    Weibull,
)
from natgrad.metrics._regression import _crps_by_quantiles

KEYS = ["nll", "crps", "rmse", "mae", "coverage_50", "coverage_80", "coverage_95"]


def crps_by_definition(dist, y: np.ndarray) -> np.ndarray:
    """CRPS(F, y) = ∫ (F(x) − 1{y ≤ x})² dx by adaptive quadrature, split at y."""
    out = []
    for i, yi in enumerate(y):
        row = dist[i]
        lower = row.support.lower if np.isfinite(row.support.lower) else -np.inf

        def cdf(x: float, row=row) -> float:
            return float(row.cdf(np.array([x]))[0])

        left = integrate.quad(lambda x, f=cdf: f(x) ** 2, lower, yi, limit=500, epsabs=1e-13)
        right = integrate.quad(
            lambda x, f=cdf: (1 - f(x)) ** 2, yi, np.inf, limit=500, epsabs=1e-13
        )
        out.append(left[0] + right[0])
    return np.array(out)


# ---------------------------------------------------------------------- CRPS
@pytest.mark.parametrize(
    ("dist", "y"),
    [
        (Normal([0.3, -1.0, 2.0], [1.5, 0.2, 3.0]), np.array([0.1, 0.5, -4.0])),
        (Laplace([0.3, -1.0, 0.0], [1.5, 0.2, 2.0]), np.array([0.1, 0.5, 7.0])),
        (LogNormal([0.3, -1.0, 1.0], [0.5, 1.2, 0.1]), np.array([0.1, 2.5, 2.7])),
    ],
    ids=["normal", "laplace", "lognormal"],
)
def test_closed_form_crps_equals_the_definition(dist, y):
    np.testing.assert_allclose(metrics.crps(dist, y), crps_by_definition(dist, y), rtol=1e-7)


@pytest.mark.parametrize(
    ("dist", "y"),
    [
        (Gamma([2.0, 0.5], [1.0, 3.0]), np.array([1.5, 0.05])),
        (StudentT([0.0, 1.0], [1.0, 2.0], [1.5, 5.0]), np.array([0.4, -3.0])),
        (Weibull([0.7, 3.0], [1.0, 2.0]), np.array([0.3, 2.5])),
    ],
    ids=["gamma", "student_t", "weibull"],
)
def test_numerical_crps_equals_the_definition(dist, y):
    # The quantile-grid rule is accurate to a few 1e-5 (docstring), also for ν = 1.5 tails.
    np.testing.assert_allclose(metrics.crps(dist, y), crps_by_definition(dist, y), rtol=2e-4)


def test_numerical_crps_agrees_with_the_normal_closed_form():
    dist = Normal(np.linspace(-2, 2, 7), np.linspace(0.1, 3.0, 7))
    y = np.array([0.0, 1.0, -3.0, 0.2, 5.0, -1.0, 2.0])
    np.testing.assert_allclose(_crps_by_quantiles(dist, y), metrics.crps(dist, y), rtol=1e-4)


def test_lognormal_crps_stays_accurate_where_its_mean_overflows():
    # A mean e^{μ+σ²/2} beyond the float range times a probability that underflows: the
    # closed form must take the products in log space (an inf · 0 gives NaN otherwise). The
    # reference is Baran & Lerch's formula in 50-digit arithmetic.
    import mpmath

    mu, sigma, y = 706.0, 3.0, np.array([1.0, 1e300])
    got = metrics.crps(LogNormal([mu, mu], sigma), y)
    want = []
    with mpmath.workdps(50):
        for yi in y:
            z = (mpmath.log(yi) - mu) / sigma
            m = mpmath.exp(mu + mpmath.mpf(sigma) ** 2 / 2)
            value = yi * (2 * mpmath.ncdf(z) - 1) - 2 * m * (
                mpmath.ncdf(z - sigma) + mpmath.ncdf(sigma / mpmath.sqrt(2)) - 1
            )
            want.append(float(value))
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_point_prediction_of_a_vector_family_is_its_mean():
    dist = MultivariateNormal([[1.0, -2.0], [0.5, 3.0]], np.eye(2))
    values, kind = metrics.point_prediction(dist)
    np.testing.assert_array_equal(values, [[1.0, -2.0], [0.5, 3.0]])
    assert kind == "mean"


def test_crps_of_a_point_mass_limit_is_the_absolute_error():
    # As σ → 0 the CRPS tends to |y − μ| (it generalises the absolute error).
    dist = Normal([1.0, -2.0], 1e-9)
    np.testing.assert_allclose(metrics.crps(dist, [3.0, -2.5]), [2.0, 0.5], rtol=1e-6)


def test_crps_is_undefined_for_discrete_and_heavy_tailed_families():
    with pytest.raises(ValueError, match="continuous family"):
        metrics.crps(Poisson([2.0]), [1.0])
    with pytest.raises(ValueError, match="finite mean"):
        metrics.crps(Cauchy([0.0]), [1.0])
    assert "crps" not in metrics.evaluate(Poisson([2.0, 3.0]), [1.0, 4.0])
    assert "crps" not in metrics.evaluate(Cauchy([0.0, 1.0]), [1.0, 4.0])


# ---------------------------------------------------------------------- hand-computed values
def test_evaluate_matches_hand_computed_values():
    y = np.array([0.0, 1.0, -2.0])
    out = metrics.evaluate(Normal(0.0 * y, 1.0), y)
    assert list(out) == [*KEYS, "calibration_error"]
    assert out["nll"] == pytest.approx(0.5 * math.log(2 * math.pi) + (0 + 1 + 4) / 6)
    assert out["rmse"] == pytest.approx(math.sqrt(5 / 3))
    assert out["mae"] == pytest.approx(1.0)
    # Central intervals ±0.674, ±1.282, ±1.960: hold {0}, {0, 1}, {0, 1}.
    assert out["coverage_50"] == pytest.approx(1 / 3)
    assert out["coverage_80"] == pytest.approx(2 / 3)
    assert out["coverage_95"] == pytest.approx(2 / 3)
    # PIT = Φ(y) = 0.5, 0.841, 0.023: the share ≤ α is 1/3 for α < 0.5, 2/3 for
    # 0.5 ≤ α < 0.85 and 1 from 0.85 on.
    alpha = np.arange(1, 20) / 20
    share = np.where(alpha < 0.5, 1 / 3, np.where(alpha < 0.85, 2 / 3, 1.0))
    assert out["calibration_error"] == pytest.approx(np.mean(np.abs(share - alpha)))
    assert out["crps"] == pytest.approx(np.mean(metrics.crps(Normal(0.0 * y, 1.0), y)))


def test_point_prediction_falls_back_to_the_median():
    y = np.array([1.0, 3.0])
    out = metrics.evaluate(Cauchy([0.0, 2.0], 1.0), y)
    assert out["rmse"] == pytest.approx(1.0) and out["mae"] == pytest.approx(1.0)
    values, kind = metrics.point_prediction(StudentT([1.0, 2.0], 1.0, [0.5, 3.0]))
    np.testing.assert_allclose(values, [1.0, 2.0])
    assert kind == "mean or median"
    assert metrics.point_prediction(Normal([1.0]))[1] == "mean"
    assert metrics.point_prediction(Cauchy([1.0]))[1] == "median"


# ---------------------------------------------------------------------- calibration by simulation
def _random_batch(family: str, n: int, rng: np.random.Generator):
    if family == "normal":
        return Normal(rng.normal(size=n), np.exp(rng.normal(size=n)))
    if family == "gamma":
        return Gamma(np.exp(rng.normal(size=n)), np.exp(rng.normal(size=n)))
    if family == "student_t":
        return StudentT(rng.normal(size=n), np.exp(rng.normal(size=n)), 3.0)
    if family == "poisson":
        return Poisson(np.exp(rng.normal(1.0, 1.0, size=n)))
    return NegativeBinomial(np.exp(rng.normal(1.0, 1.0, size=n)), 2.0)


N_SIM = 4000


@pytest.mark.parametrize("family", ["normal", "gamma", "student_t"])
def test_coverage_of_a_correct_model_is_nominal(family):
    rng = np.random.default_rng(11)
    dist = _random_batch(family, N_SIM, rng)
    y = dist.sample(1, rng)[0]
    levels = np.array([0.5, 0.8, 0.95])
    observed = metrics.coverage(dist, y, levels)
    # Binomial standard error; 4 SE two-sided: false-alarm rate 6e-5 per level.
    se = np.sqrt(levels * (1 - levels) / N_SIM)
    assert np.all(np.abs(observed - levels) < 4 * se), (observed, levels)


@pytest.mark.parametrize("family", ["poisson", "negative_binomial"])
def test_coverage_of_discrete_families_is_at_least_nominal(family):
    rng = np.random.default_rng(12)
    dist = _random_batch(family, N_SIM, rng)
    y = dist.sample(1, rng)[0]
    levels = np.array([0.5, 0.8, 0.95])
    se = np.sqrt(levels * (1 - levels) / N_SIM)
    # Closed intervals of a discrete law hold at least their level (false alarm 3e-5).
    assert np.all(metrics.coverage(dist, y, levels) > levels - 4 * se)


@pytest.mark.parametrize("family", ["normal", "gamma", "student_t", "poisson", "negative_binomial"])
def test_pit_of_a_correct_model_is_uniform(family):
    rng = np.random.default_rng(13)
    dist = _random_batch(family, N_SIM, rng)
    y = dist.sample(1, rng)[0]
    u = metrics.pit(dist, y, rng=np.random.default_rng(14))
    assert u.shape == (N_SIM,) and np.all((u >= 0) & (u <= 1))
    # Kolmogorov–Smirnov at level 1e-3: false-alarm rate 0.1 %.
    assert stats.kstest(u, "uniform").pvalue > 1e-3


def test_pit_detects_a_miscalibrated_model():
    rng = np.random.default_rng(15)
    dist = Normal(np.zeros(N_SIM), 1.0)
    y = 2.0 * rng.standard_normal(N_SIM)  # twice the predicted spread
    assert stats.kstest(metrics.pit(dist, y), "uniform").pvalue < 1e-6


def test_calibration_error_is_small_when_calibrated_and_large_otherwise():
    rng = np.random.default_rng(16)
    dist = _random_batch("normal", N_SIM, rng)
    y = dist.sample(1, rng)[0]
    calibrated = metrics.evaluate(dist, y)["calibration_error"]
    # Mean 0.33/√n = 0.005 and standard deviation 0.14/√n = 0.002 for a calibrated model
    # (simulated): 0.02 is 7 SD away, a negligible false-alarm rate.
    assert calibrated < 0.02
    natural = dist.natural_params
    too_narrow = Normal(natural["loc"], 0.5 * natural["scale"])
    shifted = Normal(natural["loc"] + natural["scale"], natural["scale"])
    assert metrics.evaluate(too_narrow, y)["calibration_error"] > 0.08
    assert metrics.evaluate(shifted, y)["calibration_error"] > 0.15


def test_randomised_pit_needs_an_explicit_generator_and_is_reproducible():
    dist, y = Poisson([1.0, 2.0, 3.0]), np.array([0.0, 2.0, 5.0])
    with pytest.raises(ValueError, match="randomised"):
        metrics.pit(dist, y)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        metrics.pit(dist, y, rng=0)
    first = metrics.pit(dist, y, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(first, metrics.pit(dist, y, rng=np.random.default_rng(3)))
    lower, upper = dist.cdf(y - 1), dist.cdf(y)
    assert np.all((first >= lower) & (first <= upper))
    assert metrics.evaluate(dist, y) == metrics.evaluate(dist, y)


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("y", "error", "match"),
    [
        (np.zeros((3, 1)), ValueError, r"shape \(3,\)"),
        (np.zeros(4), ValueError, r"shape \(3,\).*Got shape \(4,\)"),
        ([0.0, np.nan, 1.0], ValueError, "must be finite"),
        ([0.0, np.inf, 1.0], ValueError, "must be finite"),
        (["a", "b", "c"], TypeError, "array-like of numbers"),
    ],
)
def test_bad_targets_are_rejected(y, error, match):
    for fn in (metrics.evaluate, metrics.pit, metrics.crps):
        with pytest.raises(error, match=match):
            fn(Normal([0.0, 1.0, 2.0]), y)


def test_targets_outside_the_support_are_rejected():
    with pytest.raises(ValueError, match="positive"):
        metrics.evaluate(Gamma([1.0, 1.0]), [1.0, -2.0])
    with pytest.raises(ValueError, match="non-negative integer"):
        metrics.evaluate(Poisson([1.0, 1.0]), [1.0, 2.5])


def test_unsupported_distributions_are_rejected():
    with pytest.raises(TypeError, match="natgrad distribution"):
        metrics.evaluate(stats.norm(), [0.0])
    with pytest.raises(ValueError, match="univariate"):
        metrics.evaluate(MultivariateNormal(np.zeros((1, 2)), np.eye(2)[None]), [[0.0, 0.0]])
    with pytest.raises(TypeError, match="distribution function"):
        metrics.evaluate(Categorical([[0.2, 0.8]]), [1.0])
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        metrics.evaluate(Normal([0.0]), [0.0], rng=42)


# ---------------------------------------------------------------------- table
def test_format_table_is_aligned_and_complete():
    values = metrics.evaluate(Normal([0.0, 1.0, 2.0], 1.0), [0.5, 0.0, 4.0])
    values["custom"] = 12345678.0
    text = metrics.format_table(values)
    lines = text.splitlines()
    assert lines[0].split() == ["metric", "value", "meaning"]
    assert len(lines) == 2 + len(values)
    for line, (key, value) in zip(lines[2:], values.items(), strict=True):
        assert line.startswith(key)
        assert float(line.split()[1]) == pytest.approx(value, rel=1e-3)
    # Every value ends in the same column.
    ends = {line.index(line.split()[1]) + len(line.split()[1]) for line in lines[2:]}
    assert len(ends) == 1
    assert "mean negative log-likelihood" in text


@pytest.mark.parametrize("bad", [[1.0, 2.0], {"nll": "low"}, {"nll": None}])
def test_format_table_rejects_non_numeric_metrics(bad):
    with pytest.raises(TypeError, match="metrics"):
        metrics.format_table(bad)
