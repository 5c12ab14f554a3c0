"""Bad and extreme input on the generic distribution layer.

Every invalid argument must raise `ValueError` or `TypeError` whose message names the
argument. The tests run on every family whose module exists (families still missing are
caught by the completeness test in test_check_distribution.py), built from the family's own
first example; hypothesis draws random bad and extreme inputs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import natgrad.distributions as nd
from natgrad.distributions import Distribution, Normal


def _available() -> list[type[Distribution]]:
    families = []
    for name in nd.names():
        try:
            families.append(nd.get(name))
        except ImportError:  # not written yet: the completeness test reports it
            continue
    return families


FAMILIES = _available()
SCALAR_FAMILIES = [f for f in FAMILIES if f.event_dim == 0]
HYPOTHESIS = settings(max_examples=40, deadline=None, derandomize=True)


def _batch(family: type[Distribution], n: int = 3) -> Distribution:
    """n copies of the family's first example row (with its config)."""
    config, rows = family.examples[0]
    rows = np.atleast_2d(np.asarray(rows, dtype=float))
    return family.from_params(np.repeat(rows[:1], n, axis=0), **config)


def _targets(dist: Distribution) -> np.ndarray:
    """Valid targets of shape (n,) (+ event shape), as floats."""
    return np.asarray(dist.sample(1, np.random.default_rng(0))[0], dtype=float)


def _ids(families):
    return [f.name for f in families]


# ---------------------------------------------------------------------- parameters
@pytest.mark.parametrize("family", FAMILIES, ids=_ids(FAMILIES))
def test_wrong_params_shape(family) -> None:
    dist = _batch(family)
    config, p = dist.config, dist.n_params
    for bad in [np.zeros((3, p + 1)), np.zeros((2, 3, p)), np.zeros((0, p)), np.zeros((3, 0))]:
        with pytest.raises(ValueError, match="'params'"):
            family.from_params(bad, **config)
        with pytest.raises(ValueError, match="'params'"):
            dist.with_params(bad)
    with pytest.raises(TypeError, match="'params'"):
        family.from_params([["a"] * p], **config)


@pytest.mark.parametrize("family", FAMILIES, ids=_ids(FAMILIES))
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_params(family, value) -> None:
    dist = _batch(family)
    theta = dist.params.copy()
    theta[1, -1] = value
    with pytest.raises(ValueError, match=r"'params'.*finite"):
        family.from_params(theta, **dist.config)
    with pytest.raises(ValueError, match="'params'"):
        dist.with_params(theta)


@pytest.mark.parametrize("family", FAMILIES, ids=_ids(FAMILIES))
def test_unknown_config_is_a_type_error(family) -> None:
    dist = _batch(family)
    with pytest.raises(TypeError, match="not_an_option"):
        family.from_params(dist.params, **dist.config, not_an_option=1)


def _constructible(family) -> bool:
    if family.examples[0][0]:  # configured families have their own constructors
        return False
    natural = _batch(family).natural_params
    return all(np.shape(v) == (3,) for v in natural.values())


NATURAL_FAMILIES = [f for f in FAMILIES if _constructible(f)]


@pytest.mark.parametrize("family", NATURAL_FAMILIES, ids=_ids(NATURAL_FAMILIES))
def test_invalid_natural_params(family) -> None:
    natural = _batch(family).natural_params
    for key, value in natural.items():
        support = family.natural_support.get(key)
        outside = []
        if support is not None and np.isfinite(support.lower):
            outside += [support.lower - 1.0] + ([support.lower] if support.lower_open else [])
        if support is not None and np.isfinite(support.upper):
            outside += [support.upper + 1.0] + ([support.upper] if support.upper_open else [])
        for bad in [*outside, np.nan, np.inf]:
            args = {k: v.copy() for k, v in natural.items()}
            args[key][1] = bad
            with pytest.raises(ValueError, match=repr(key)):
                family(**args)
        args = {k: v.copy() for k, v in natural.items()}
        args[key] = np.array([[float(value[0])]] * 2)  # 2-d batch shape
        with pytest.raises(ValueError):
            family(**args)


def test_normal_negative_scale_names_scale() -> None:
    with pytest.raises(ValueError, match=r"'scale'.*positive.*-1"):
        Normal(loc=0.0, scale=-1.0)
    with pytest.raises(ValueError, match="'scale'"):
        Normal(loc=[0.0, 1.0], scale=[1.0, 0.0])
    with pytest.raises(TypeError, match="'loc'"):
        Normal(loc="a", scale=1.0)
    with pytest.raises(ValueError, match="broadcast"):
        Normal(loc=[0.0, 1.0], scale=[1.0, 2.0, 3.0])


@given(
    params=hnp.arrays(
        np.float64, st.tuples(st.integers(1, 5), st.just(2)), elements=st.floats(-5, 5)
    ),
    where=st.integers(0, 9),
    value=st.sampled_from([np.nan, np.inf, -np.inf]),
)
@HYPOTHESIS
def test_random_non_finite_params_rejected(params, where, value) -> None:
    params.ravel()[where % params.size] = value
    with pytest.raises(ValueError, match="'params'"):
        Normal.from_params(params)


@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4))
@HYPOTHESIS
def test_random_params_shapes(shape) -> None:
    params = np.zeros(shape)
    valid = len(shape) == 2 and shape[1] == 2 and shape[0] > 0
    if valid:
        assert Normal.from_params(params).params.shape == shape
    else:
        with pytest.raises(ValueError, match="'params'"):
            Normal.from_params(params)


# ---------------------------------------------------------------------- targets
@pytest.mark.parametrize("family", FAMILIES, ids=_ids(FAMILIES))
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_targets(family, value) -> None:
    dist = _batch(family)
    y = _targets(dist)
    y.reshape(-1)[1] = value
    for method in (dist.nll, dist.grad, dist.logpdf):
        with pytest.raises(ValueError, match=r"'y'"):
            method(y)


@pytest.mark.parametrize("family", FAMILIES, ids=_ids(FAMILIES))
def test_wrong_target_shape(family) -> None:
    dist = _batch(family)
    y = _targets(dist)  # (3,) + event
    wrong = [np.concatenate([y, y[:1]]), np.stack([y, y, y, y], axis=0)[None]]
    if family.event_dim:
        wrong.append(y[..., 0])  # event axis missing
    for bad in wrong:
        for method in (dist.nll, dist.grad):
            with pytest.raises(ValueError, match="'y'"):
                method(bad)
    with pytest.raises(TypeError, match="'y'"):
        dist.nll(np.array(["a"] * 3, dtype=object))


@pytest.mark.parametrize("family", FAMILIES, ids=_ids(FAMILIES))
def test_targets_outside_support(family) -> None:
    dist = _batch(family)
    support = dist.support
    y = _targets(dist)
    outside = []
    if np.isfinite(support.lower):
        outside += [support.lower - 1.0] + ([support.lower] if support.lower_open else [])
    if np.isfinite(support.upper):
        outside += [support.upper + 1.0] + ([support.upper] if support.upper_open else [])
    if support.integer:
        outside.append(float(np.ravel(y)[0]) + 0.5)
    for bad in outside:
        z = y.copy()
        z.reshape(-1)[0] = bad
        with pytest.raises(ValueError, match=r"'y'"):
            dist.nll(z)


@given(
    y=hnp.arrays(np.float64, 4, elements=st.floats(-1e3, 1e3)),
    where=st.integers(0, 3),
    value=st.sampled_from([np.nan, np.inf, -np.inf]),
)
@HYPOTHESIS
def test_random_non_finite_targets_rejected(y, where, value) -> None:
    y[where] = value
    dist = Normal(loc=np.zeros(4), scale=1.0)
    with pytest.raises(ValueError, match="'y'.*finite"):
        dist.grad(y)


# ---------------------------------------------------------------------- randomness
@pytest.mark.parametrize("family", FAMILIES, ids=_ids(FAMILIES))
@pytest.mark.parametrize("rng", [-1, 0.5, True, np.random.RandomState(0), "seed"])
def test_non_generator_rng(family, rng) -> None:
    # None, an int seed and a Generator are accepted, as numpy.random.default_rng takes them.
    dist = _batch(family)
    with pytest.raises(TypeError, match=r"'rng'.*Generator"):
        dist.sample(5, rng)
    with pytest.raises(TypeError, match="'rng'"):
        dist.kl_monte_carlo(dist, rng=rng)


@pytest.mark.parametrize("family", FAMILIES, ids=_ids(FAMILIES))
@pytest.mark.parametrize("size", [0, -1, 2.5, "3", None])
def test_invalid_sample_size(family, size) -> None:
    with pytest.raises(ValueError, match="'size'"):
        _batch(family).sample(size, np.random.default_rng(0))


def test_kl_other_is_validated() -> None:
    dist = Normal(loc=np.zeros(3), scale=1.0)
    with pytest.raises(TypeError, match="'other'"):
        dist.kl("normal")
    with pytest.raises(ValueError, match="'other'"):
        dist.kl(Normal(loc=[0.0, 1.0], scale=1.0))


# ---------------------------------------------------------------------- distribution functions
@pytest.mark.parametrize("family", SCALAR_FAMILIES, ids=_ids(SCALAR_FAMILIES))
@pytest.mark.parametrize("level", [0, 1, 0.0, 1.0, -0.1, 1.5, math.nan, "0.9", None])
def test_interval_level_outside_unit_interval(family, level) -> None:
    with pytest.raises(ValueError, match="'level'"):
        _batch(family).interval(level)


@pytest.mark.parametrize("family", SCALAR_FAMILIES, ids=_ids(SCALAR_FAMILIES))
@pytest.mark.parametrize("q", [-0.1, 1.1, np.nan, [0.5, 2.0, 0.5]])
def test_ppf_outside_unit_interval(family, q) -> None:
    with pytest.raises(ValueError, match="'q'"):
        _batch(family).ppf(q)


@given(
    q=st.one_of(
        st.floats(max_value=-1e-12, allow_nan=False),
        st.floats(min_value=1.0 + 1e-12, allow_nan=False),
    )
)
@HYPOTHESIS
def test_random_ppf_outside_rejected(q) -> None:
    with pytest.raises(ValueError, match="'q'"):
        Normal(0.0, 1.0).ppf(q)


@given(level=st.one_of(st.floats(max_value=0.0), st.floats(min_value=1.0)))
@HYPOTHESIS
def test_random_levels_outside_rejected(level) -> None:
    with pytest.raises(ValueError, match="'level'"):
        Normal(0.0, 1.0).interval(level)


# ---------------------------------------------------------------------- marginal fit
@pytest.mark.parametrize("family", FAMILIES, ids=_ids(FAMILIES))
def test_fit_marginal_bad_data(family) -> None:
    config = family.examples[0][0]
    y = np.asarray(_batch(family, n=6).sample(1, np.random.default_rng(1))[0], dtype=float)
    empty = y[:0]
    with pytest.raises(ValueError, match="'y'"):
        family.fit_marginal(empty, **config)
    with pytest.raises(ValueError, match="'y'"):
        family.fit_marginal(y[None], **config)  # one extra axis
    for value in (np.nan, np.inf):
        bad = y.copy()
        bad.reshape(-1)[2] = value
        with pytest.raises(ValueError, match="'y'"):
            family.fit_marginal(bad, **config)
    for weights, pattern in [
        (np.array([1.0, -1.0, 1.0, 1.0, 1.0, 1.0]), "non-negative"),
        (np.zeros(6), "positive sum"),
        (np.array([1.0, np.nan, 1.0, 1.0, 1.0, 1.0]), "finite"),
        (np.ones(5), r"shape \(6,\)"),
    ]:
        with pytest.raises(ValueError, match=rf"'sample_weight'.*{pattern}"):
            family.fit_marginal(y, sample_weight=weights, **config)
    with pytest.raises(TypeError, match="'sample_weight'"):
        family.fit_marginal(y, sample_weight=["a"] * 6, **config)


@given(
    y=hnp.arrays(np.float64, st.integers(1, 30), elements=st.floats(-1e6, 1e6)),
    data=st.data(),
)
@HYPOTHESIS
def test_random_negative_weights_rejected(y, data) -> None:
    weights = data.draw(hnp.arrays(np.float64, y.shape, elements=st.floats(0, 10)))
    weights[data.draw(st.integers(0, y.size - 1))] = -data.draw(st.floats(1e-9, 1e6))
    with pytest.raises(ValueError, match="'sample_weight'.*non-negative"):
        Normal.fit_marginal(y, sample_weight=weights)


# ---------------------------------------------------------------------- extreme but valid
@pytest.mark.parametrize("scale", [1e-8, 1e8])
def test_normal_extreme_scales_are_finite(scale) -> None:
    dist = Normal(loc=[0.0, 1e6, -1e6], scale=scale)
    y = np.array([0.0, 1e6 + 3 * scale, 1e3])
    assert np.isfinite(dist.nll(y)).all()
    assert np.isfinite(dist.grad(y)).all()
    fisher = dist.fisher()
    assert np.isfinite(fisher).all()
    np.testing.assert_allclose(fisher[:, 0, 0], scale**-2.0)
    np.testing.assert_allclose(dist.grad(dist.loc)[:, 1], 1.0)  # z = 0: ∂/∂log σ = 1


@given(
    loc=st.floats(-1e8, 1e8),
    log_scale=st.floats(math.log(1e-8), math.log(1e8)),
    y=st.floats(-1e8, 1e8),
)
@HYPOTHESIS
def test_random_extreme_normal_is_finite(loc, log_scale, y) -> None:
    dist = Normal.from_params([[loc, log_scale]])
    assert np.isfinite(dist.nll(y)).all()
    assert np.isfinite(dist.grad(y)).all()
    fisher = dist.fisher()
    assert np.isfinite(fisher).all()
    assert (np.linalg.eigvalsh(fisher) > 0).all()
