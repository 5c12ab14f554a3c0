"""Property-based fuzzing: on valid data at any scale, families and estimators stay finite.

Bounded in time: a few examples per test (``max_examples`` small, no deadline, derandomised
so that a run is reproducible). Each example draws a seed and a scale exponent; the data are
valid for the family (inside its support), and the outputs must be finite numbers.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import natgrad
from natgrad import distributions

FUZZ = settings(max_examples=8, deadline=None, derandomize=True)
FUZZ_FITS = settings(max_examples=2, deadline=None, derandomize=True)

CONTINUOUS_REAL = ("normal", "laplace", "student_t", "cauchy")
POSITIVE = ("lognormal", "gamma", "exponential", "weibull", "half_normal", "inverse_gaussian")
COUNTS = ("poisson", "negative_binomial")
UNIT = ("beta", "logit_normal")
UNIVARIATE = [*CONTINUOUS_REAL, *POSITIVE, *COUNTS, "bernoulli", *UNIT]


def valid_data(name: str, seed: int, exponent: float, n: int) -> np.ndarray:
    """n targets inside the support of family ``name``, at scale 10**exponent."""
    rng = np.random.default_rng(seed)
    scale = 10.0**exponent
    if name in CONTINUOUS_REAL:
        return scale * (rng.standard_t(3.0, size=n) + rng.normal())
    if name in POSITIVE:
        return scale * np.exp(rng.normal(scale=1.5, size=n))
    if name in COUNTS:
        return rng.poisson(min(scale, 1e12) * rng.gamma(2.0, 0.5, size=n)).astype(float)
    if name == "bernoulli":
        return (rng.random(n) < 0.3).astype(float)
    if name in UNIT:
        return np.clip(rng.beta(0.5 + scale % 3, 2.0, size=n), 1e-12, 1 - 1e-12)
    raise AssertionError(name)


@pytest.mark.parametrize("name", UNIVARIATE)
@given(seed=st.integers(0, 2**31), exponent=st.floats(-6.0, 6.0))
@FUZZ
def test_marginal_fit_and_geometry_are_finite(name, seed, exponent):
    family = distributions.get(name)
    y = valid_data(name, seed, exponent, 60)
    theta = family.fit_marginal(y)
    assert np.all(np.isfinite(theta)), (name, theta)
    dist = family.from_params(np.repeat(theta, y.size, axis=0))
    assert np.all(np.isfinite(dist.nll(y)))
    assert np.all(np.isfinite(dist.grad(y)))
    assert np.all(np.isfinite(dist.fisher()))
    try:
        quantiles = dist.quantiles([0.05, 0.5, 0.95])
    except NotImplementedError:  # a family without a quantile function (logit-normal)
        return
    assert np.all(np.isfinite(quantiles))


# Families whose stage kernels the other boosting tests compile too (no new compile here).
@pytest.mark.parametrize("name", ["normal", "lognormal", "gamma", "student_t"])
@given(seed=st.integers(0, 2**31), exponent=st.floats(-4.0, 6.0))
@FUZZ_FITS
def test_regressor_predictions_are_finite(name, seed, exponent):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(80, 2)) * 10.0 ** rng.uniform(-3, 3, size=2)
    y = valid_data(name, seed, exponent, 80)
    model = natgrad.NGBoostRegressor(
        name, n_estimators=10, learning_rate=0.5, min_samples_leaf=1, random_state=0
    ).fit(X, y)
    dist = model.predict_dist(X)
    assert np.all(np.isfinite(dist.params))
    assert np.all(np.isfinite(model.predict(X)))
    assert np.all(np.isfinite(model.predict_interval(X, alpha=0.1)))
