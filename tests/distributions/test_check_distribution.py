"""Every registered family passes the shared identity checker, and the checker can fail.

The completeness test runs `natgrad.testing.check_distribution` on every name in the
registry: a family that is registered but missing (its module does not import) or that breaks
an identity fails the suite. The checker's Monte Carlo comparisons use 5 standard errors (a
false-alarm rate of 5.7e-7 per compared number) with fixed seeds.

The second half defines deliberately broken Normal variants and asserts that the checker
rejects each of them, naming the identity that catches it.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import natgrad.distributions as nd
from natgrad.distributions import Normal
from natgrad.distributions._base import _KL_REGISTRY, register_kl
from natgrad.testing import (
    SkippedCheckWarning,
    check_distribution,
    numerical_grad,
    numerical_hessian,
)


@pytest.mark.parametrize("name", nd.names())
def test_family_passes_identity_checks(name: str) -> None:
    family = nd.get(name)  # a registered family whose module is missing fails here
    assert family.name == name
    assert family.examples, f"{family.__name__} declares no examples"
    # Checks that cannot run (no closed-form KL) raise SkippedCheckWarning, shown by pytest.
    check_distribution(family)


def test_every_family_is_reachable_by_attribute() -> None:
    for name in nd.names():
        family = nd.get(name)
        assert getattr(nd, family.__name__) is family


# ---------------------------------------------------------------------- broken families
_normal_kl = _KL_REGISTRY[(Normal, Normal)]


class WrongFisher(Normal):
    """Fisher of log σ is 1 instead of 2."""

    def _fisher(self):
        out = super()._fisher()
        out[:, 1, 1] = 1.0
        return out


class SlightlyWrongFisher(Normal):
    """Fisher 5 % too large; its KL is right, so only the KL expansion can see it cheaply."""

    def _fisher(self):
        return 1.05 * super()._fisher()


class WrongGrad(Normal):
    """The log-σ component of the gradient is 1 − z instead of 1 − z²."""

    def _grad(self, y):
        out = super()._grad(y)
        z = (y - self._params[:, 0]) * np.exp(-self._params[:, 1])
        out[..., 1] = 1.0 - z
        return out


class WrongKL(Normal):
    """Closed-form KL 10 % too large."""


class WrongFarKL(Normal):
    """KL right to second order but wrong far away: only Monte Carlo KL sees it."""


class AsymmetricFisher(Normal):
    def _fisher(self):
        out = super()._fisher()
        out[:, 0, 1] = 0.1
        return out


class IndefiniteFisher(Normal):
    def _fisher(self):
        out = super()._fisher()
        out[:, 0, 1] = out[:, 1, 0] = 2.0 * np.sqrt(out[:, 0, 0] * out[:, 1, 1])
        return out


class BatchDependentFisher(Normal):
    """Uses the batch-mean scale: right for one row, wrong for a batch."""

    def _fisher(self):
        out = super()._fisher()
        out[:, 0, 0] = np.exp(-2.0 * self._params[:, 1].mean())
        return out


class BiasedFit(Normal):
    def _fit_marginal(self, y, w):
        theta = super()._fit_marginal(y, w)
        return theta + np.array([0.0, 0.05])


class IgnoresWeights(Normal):
    def _fit_marginal(self, y, w):
        return super()._fit_marginal(y, np.full_like(w, 1.0 / w.size))


class WrongNatural(Normal):
    """natural_params reports the variance under the name 'scale'."""

    def _natural(self):
        return {"loc": self._params[:, 0], "scale": np.exp(2.0 * self._params[:, 1])}


class NaNGrad(Normal):
    def _grad(self, y):
        out = super()._grad(y)
        out[..., 0] = np.where(y > 3.0, np.nan, out[..., 0])
        return out


class WrongSampleShape(Normal):
    def sample(self, size, rng):
        return super().sample(size, rng).T


for _cls in (SlightlyWrongFisher, AsymmetricFisher, IndefiniteFisher, BatchDependentFisher):
    register_kl(_cls, _cls)(_normal_kl)


@register_kl(WrongKL, WrongKL)
def _wrong_kl(p, q):
    return 1.1 * _normal_kl(p, q)


@register_kl(WrongFarKL, WrongFarKL)
def _wrong_far_kl(p, q):
    diff = (p.loc - q.loc) / q.scale
    return _normal_kl(p, q) + 0.01 * diff**4


@pytest.mark.parametrize(
    ("family", "identity"),
    [
        (WrongFisher, r"E\[∇nll ∇nllᵀ\] = Fisher"),
        (SlightlyWrongFisher, r"KL\(p_θ ‖ p_θ±εv\)"),
        (WrongGrad, "grad = central finite differences"),
        (WrongKL, r"KL\(p_θ ‖ p_θ±εv\)"),
        (WrongFarKL, "closed-form KL = Monte Carlo KL"),
        (AsymmetricFisher, "symmetric"),
        (IndefiniteFisher, "eigenvalues"),
        (BatchDependentFisher, "batch = row-by-row loop"),
        (BiasedFit, "fit_marginal recovers the parameters"),
        (IgnoresWeights, "sample_weight = duplicated rows"),
        (WrongNatural, "natural_params"),
        (NaNGrad, "finite"),
        (WrongSampleShape, "shapes"),
    ],
)
def test_checker_rejects_broken_family(family, identity) -> None:
    with pytest.raises(AssertionError, match=identity) as info:
        check_distribution(family)
    message = str(info.value)
    assert family.__name__ in message  # the family and its config are named
    assert "config {}" in message


def test_failure_message_names_row_and_params() -> None:
    examples = [({}, [[0.0, 0.0], [1.5, -1.0]])]
    with pytest.raises(AssertionError, match=r"row 1 \(params \[1.5, -1.0\]\)"):
        check_distribution(_RowOneBroken, examples=examples)


class _RowOneBroken(Normal):
    def _fisher(self):
        out = super()._fisher()
        out[:, 1, 1] = np.where(self._params[:, 0] > 1.0, 3.0, 2.0)
        return out


class NoKL(Normal):
    """A correct Normal with no closed-form KL registered."""


def test_missing_closed_form_kl_is_reported_as_skipped() -> None:
    with pytest.warns(SkippedCheckWarning, match="no closed-form KL"):
        check_distribution(NoKL)


def test_empty_examples_fail() -> None:
    class NoExamples(Normal):
        examples = []

    with pytest.raises(AssertionError, match="no examples"):
        check_distribution(NoExamples)


def test_checker_arguments_are_validated() -> None:
    with pytest.raises(TypeError, match="'rng'"):
        check_distribution("normal", rng=0)
    with pytest.raises(ValueError, match="'n_samples'"):
        check_distribution("normal", n_samples=10)
    with pytest.raises(ValueError, match="'distribution'"):
        check_distribution("no_such_family")


def test_checker_is_reproducible_with_explicit_rng() -> None:
    check_distribution(Normal, rng=np.random.default_rng(1), n_samples=5000)
    with pytest.warns(SkippedCheckWarning, match="single row"):
        check_distribution("normal", examples=[({}, [[0.5, -0.5]])])


def test_numerical_derivatives_match_normal_closed_form() -> None:
    rng = np.random.default_rng(0)
    dist = Normal(loc=[0.0, 2.0, -1.0], scale=[1.0, 0.1, 5.0])
    y = dist.sample(4, rng)
    np.testing.assert_allclose(numerical_grad(dist, y), dist.grad(y), rtol=1e-7, atol=1e-7)
    # Exact Hessian of nll in (μ, log σ): [[1/σ², 2z/σ], [2z/σ, 2z²]].
    z = (y - dist.loc) / dist.scale
    exact = np.empty(y.shape + (2, 2))
    exact[..., 0, 0] = 1.0 / dist.scale**2
    exact[..., 0, 1] = exact[..., 1, 0] = 2.0 * z / dist.scale
    exact[..., 1, 1] = 2.0 * z**2
    np.testing.assert_allclose(numerical_hessian(dist, y), exact, rtol=1e-6, atol=1e-6)


def test_broken_families_pickle_like_any_family() -> None:
    # The broken variants are module-level classes, so the pickle check is a real test.
    dist = WrongKL.from_params([[0.0, 0.0]])
    assert type(pickle.loads(pickle.dumps(dist))) is WrongKL
