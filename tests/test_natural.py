"""natgrad.natural_gradient and natgrad.kl_step_size."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import natgrad
from natgrad._natural import solve_psd


def _spd(rng: np.random.Generator, n: int, p: int) -> np.ndarray:
    a = rng.normal(size=(n, p, p))
    return a @ np.swapaxes(a, 1, 2) + 0.1 * np.eye(p)


@pytest.mark.parametrize("p", [1, 2, 3, 5])
def test_matches_linalg_solve(p):
    rng = np.random.default_rng(p)
    fisher = _spd(rng, 40, p)
    grad = rng.normal(size=(40, p))
    expected = np.linalg.solve(fisher, grad[..., None])[..., 0]
    np.testing.assert_allclose(natgrad.natural_gradient(grad, fisher), expected, rtol=1e-9)


def test_single_row_shapes():
    fisher = np.array([[2.0, 0.5], [0.5, 1.0]])
    grad = np.array([1.0, -1.0])
    out = natgrad.natural_gradient(grad, fisher)
    assert out.shape == (2,)
    np.testing.assert_allclose(fisher @ out, grad, rtol=1e-12)


@pytest.mark.parametrize("p", [2, 4])
def test_damping_adds_identity(p):
    rng = np.random.default_rng(10 + p)
    fisher = _spd(rng, 10, p)
    grad = rng.normal(size=(10, p))
    expected = np.linalg.solve(fisher + 0.7 * np.eye(p), grad[..., None])[..., 0]
    np.testing.assert_allclose(
        natgrad.natural_gradient(grad, fisher, damping=0.7), expected, rtol=1e-10
    )


def test_badly_scaled_but_positive_definite_is_solved_exactly(caplog):
    # Normal with σ = 1e-6: F = diag(1e12, 2). The pivot test is relative to each diagonal
    # entry, so this is not mistaken for a singular block.
    fisher = np.array([[[1e12, 0.0], [0.0, 2.0]], [[1e-12, 1e-13], [1e-13, 3.0]]])
    grad = np.array([[3.0, 4.0], [1.0, 1.0]])
    with caplog.at_level(logging.WARNING, logger="natgrad._natural"):
        out = natgrad.natural_gradient(grad, fisher)
    assert not caplog.records
    np.testing.assert_allclose(out, np.linalg.solve(fisher, grad[..., None])[..., 0], rtol=1e-9)


@pytest.mark.parametrize(
    "block",
    [
        np.outer([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]),  # rank one
        np.zeros((3, 3)),  # the Fisher sees nothing
        np.diag([1.0, -2.0, 3.0]),  # indefinite
    ],
    ids=["rank-one", "zero", "indefinite"],
)
def test_singular_block_falls_back_for_its_row_only(block, caplog):
    rng = np.random.default_rng(3)
    fisher = _spd(rng, 5, 3)
    fisher[2] = block
    grad = rng.normal(size=(5, 3))
    with caplog.at_level(logging.WARNING, logger="natgrad._natural"):
        out = natgrad.natural_gradient(grad, fisher)
    assert np.isfinite(out).all()
    assert any("rows [2]" in r.getMessage() for r in caplog.records)
    good = [0, 1, 3, 4]
    expected = np.linalg.solve(fisher[good], grad[good][..., None])[..., 0]
    np.testing.assert_allclose(out[good], expected, rtol=1e-9)
    # The fallback row solves the documented Marquardt-damped system for the reported μ.
    _, mu = solve_psd(fisher, grad)
    assert mu[2] > 0 and np.all(mu[good] == 0)
    diag = np.abs(np.diag(block))
    diag = np.where(diag > 0, diag, 1.0)
    damped = block + mu[2] * np.diag(diag)
    np.testing.assert_allclose(damped @ out[2], grad[2], rtol=1e-6, atol=1e-9)
    # ... which is positive definite, so the step is a descent direction.
    assert grad[2] @ out[2] > 0


def test_huge_entries_do_not_overflow():
    fisher = np.array([[4.0e165, 6.8e167], [6.8e167, 1.2e170]])  # PD, products overflow
    grad = np.array([-3.4e167, -2.9e169])
    out = natgrad.natural_gradient(grad, fisher)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(fisher @ out, grad, rtol=1e-8)


def test_validation_messages_name_the_argument():
    with pytest.raises(ValueError, match="'fisher'"):
        natgrad.natural_gradient(np.ones((3, 2)), np.ones((3, 3, 3)))
    with pytest.raises(ValueError, match="'grad'"):
        natgrad.natural_gradient(np.ones((3, 2, 1)), np.ones((3, 2, 2)))
    with pytest.raises(ValueError, match="'grad'.*finite"):
        natgrad.natural_gradient(np.array([[np.nan, 1.0]]), np.eye(2)[None])
    with pytest.raises(ValueError, match="'fisher'.*finite"):
        natgrad.natural_gradient(np.ones((1, 2)), np.full((1, 2, 2), np.inf))
    with pytest.raises(ValueError, match="'damping'"):
        natgrad.natural_gradient(np.ones(2), np.eye(2), damping=-1.0)
    with pytest.raises(TypeError, match="'grad'"):
        natgrad.natural_gradient("abc", np.eye(2))


@settings(max_examples=60, deadline=None)
@given(
    log_scales=st.lists(st.floats(-30, 30), min_size=3, max_size=3),
    corr=st.floats(-1.0, 1.0),
    seed=st.integers(0, 2**16),
)
def test_extreme_scales_and_correlations_stay_finite(log_scales, corr, seed):
    """Any finite symmetric block, however scaled or correlated, gives a finite answer, and
    a block that passes the test is solved to working accuracy."""
    rng = np.random.default_rng(seed)
    scales = np.exp(np.array(log_scales))
    base = np.array([[1.0, corr, 0.0], [corr, 1.0, 0.0], [0.0, 0.0, 1.0]])
    fisher = base * np.outer(scales, scales)
    grad = rng.normal(size=3) * scales
    out, mu = solve_psd(fisher[None], grad[None])
    assert np.isfinite(out).all()
    if mu[0] == 0:
        rel = (fisher @ out[0] - grad) / scales
        assert np.abs(rel).max() <= 1e-4 * np.abs(grad / scales).max() / (1 - abs(corr) + 1e-12)


# ---------------------------------------------------------------------- kl_step_size
def test_kl_step_size_meets_the_budget_per_row():
    rng = np.random.default_rng(4)
    fisher = _spd(rng, 6, 3)
    direction = rng.normal(size=(6, 3))
    eta = natgrad.kl_step_size(direction, fisher, 0.05)
    assert eta.shape == (6,)
    quad = np.einsum("ni,nij,nj->n", direction, fisher, direction)
    np.testing.assert_allclose(0.5 * eta**2 * quad, 0.05, rtol=1e-12)


def test_kl_step_size_total_budget():
    rng = np.random.default_rng(5)
    fisher = _spd(rng, 4, 2)
    direction = rng.normal(size=(4, 2))
    eta = natgrad.kl_step_size(direction, fisher, 0.3, total=True)
    quad = np.einsum("ni,nij,nj->n", direction, fisher, direction).sum()
    assert isinstance(eta, float)
    np.testing.assert_allclose(0.5 * eta**2 * quad, 0.3, rtol=1e-12)


def test_kl_step_size_is_zero_where_the_fisher_sees_nothing():
    fisher = np.stack([np.eye(2), np.zeros((2, 2)), np.diag([1.0, 0.0])])
    direction = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    eta = natgrad.kl_step_size(direction, fisher, 0.1)
    np.testing.assert_array_equal(eta, [0.0, 0.0, 0.0])
    single = natgrad.kl_step_size(np.array([1.0, 0.0]), np.eye(2), 0.5)
    assert single == pytest.approx(1.0)


def test_kl_step_size_validation():
    with pytest.raises(ValueError, match="'max_kl'"):
        natgrad.kl_step_size(np.ones(2), np.eye(2), 0.0)
    with pytest.raises(ValueError, match="'fisher'"):
        natgrad.kl_step_size(np.ones((2, 2)), np.eye(2), 0.1)
