"""natgrad.optim: the transformations, the named optimizers and their registry."""

from __future__ import annotations

import numpy as np
import pytest

from natgrad import optim
from natgrad.fit import fit_distribution

# One setting per registered optimizer for the shared problems below. A new optimizer in
# the registry without an entry here fails `test_every_optimizer_has_a_setting`.
SETTINGS: dict[str, dict[str, float]] = {
    "gd": {"learning_rate": 0.1},
    "momentum": {"learning_rate": 0.05},
    "rmsprop": {"learning_rate": 0.01},
    "adam": {"learning_rate": 0.05},
    "newton": {},
    "natural": {},
}

A = np.array([[[3.0, 1.0], [1.0, 0.5]]])
C = np.array([[1.0, -2.0]])


def quadratic(theta: np.ndarray) -> tuple[float, np.ndarray]:
    """L = ½ (θ − c)ᵀ A (θ − c) and its gradient; Fisher = Hessian = A."""
    r = theta - C
    return float(0.5 * np.einsum("ni,nij,nj->", r, A, r)), np.einsum("nij,nj->ni", A, r)


def test_every_optimizer_has_a_setting():
    assert set(SETTINGS) == set(optim.names())
    assert optim.names() == ["gd", "momentum", "rmsprop", "adam", "newton", "natural"]


@pytest.mark.parametrize("name", optim.names())
def test_optimizer_decreases_a_quadratic(name):
    opt = optim.get(name, **SETTINGS[name])
    theta = np.zeros((1, 2))
    state = opt.init(theta)
    start, _ = quadratic(theta)
    for _ in range(300):
        _, grad = quadratic(theta)
        updates, state = opt.update(grad, state, theta, fisher=A, hessian=A)
        theta = theta + updates
    end, _ = quadratic(theta)
    assert end < 0.05 * start
    if name in ("newton", "natural"):  # exact curvature: the minimum itself
        np.testing.assert_allclose(theta, C, atol=1e-8)


@pytest.mark.parametrize("name", optim.names())
def test_optimizer_decreases_a_normal_fit(name):
    y = np.random.default_rng(0).normal(2.0, 1.5, size=200)
    res = fit_distribution(y, "normal", optim.get(name, **SETTINGS[name]), max_steps=200)
    assert np.isfinite(res.loss_history).all()
    assert res.loss_history[-1] < res.loss_history[0] - 0.5


G1 = np.array([[1.0, -2.0]])
G2 = np.array([[0.5, 3.0]])


def _two_steps(opt: optim.GradientTransformation) -> tuple[np.ndarray, np.ndarray]:
    params = np.zeros((1, 2))
    state = opt.init(params)
    u1, state = opt.update(G1, state, params)
    u2, _ = opt.update(G2, state, params + u1)
    return u1, u2


def test_momentum_by_hand():
    u1, u2 = _two_steps(optim.momentum(learning_rate=0.1, beta=0.9))
    np.testing.assert_allclose(u1, [[-0.1, 0.2]], rtol=1e-14)
    # m2 = 0.9·(1, −2) + (0.5, 3) = (1.4, 1.2)
    np.testing.assert_allclose(u2, [[-0.14, -0.12]], rtol=1e-14)


def test_rmsprop_by_hand():
    u1, u2 = _two_steps(optim.rmsprop(learning_rate=0.1, decay=0.9, eps=1e-8))
    # ν1 = 0.1·(1, 4) = (0.1, 0.4)
    np.testing.assert_allclose(
        u1, [[-0.1 * 1.0 / (np.sqrt(0.1) + 1e-8), 0.1 * 2.0 / (np.sqrt(0.4) + 1e-8)]], rtol=1e-14
    )
    # ν2 = 0.9·(0.1, 0.4) + 0.1·(0.25, 9) = (0.115, 1.26)
    np.testing.assert_allclose(
        u2,
        [[-0.1 * 0.5 / (np.sqrt(0.115) + 1e-8), -0.1 * 3.0 / (np.sqrt(1.26) + 1e-8)]],
        rtol=1e-13,
    )


def test_adam_by_hand():
    u1, u2 = _two_steps(optim.adam(learning_rate=0.1, b1=0.9, b2=0.999, eps=1e-8))
    # Step 1: m̂ = g, v̂ = g², so the update is −lr·sign(g) (up to eps).
    np.testing.assert_allclose(u1, [[-0.1 / (1 + 1e-8), 0.1 / (1 + 0.5e-8)]], rtol=1e-14)
    # Step 2: m = 0.09·(1, −2) + 0.1·(0.5, 3) = (0.14, 0.12), m̂ = m / 0.19;
    # v = 0.000999·(1, 4) + 0.001·(0.25, 9) = (0.001249, 0.012996), v̂ = v / 0.001999.
    m_hat = np.array([0.14, 0.12]) / 0.19
    v_hat = np.array([0.001249, 0.012996]) / 0.001999
    np.testing.assert_allclose(u2, [-0.1 * m_hat / (np.sqrt(v_hat) + 1e-8)], rtol=1e-12)


def test_chain_equals_the_composition_by_hand():
    params = np.zeros((1, 2))
    chained = optim.chain(optim.scale_by_momentum(0.5), optim.scale(-2.0))
    state = chained.init(params)
    u1, state = chained.update(G1, state, params)
    u2, state = chained.update(G2, state, params)
    np.testing.assert_allclose(u1, -2.0 * G1)
    np.testing.assert_allclose(u2, -2.0 * (0.5 * G1 + G2))
    assert isinstance(state, tuple) and isinstance(state[0], optim.MomentumState)


def test_update_does_not_mutate_its_arguments():
    opt = optim.adam(learning_rate=0.1)
    params = np.zeros((1, 2))
    state = opt.init(params)
    _, state = opt.update(G1, state, params)
    snapshot = [np.copy(state[0].mu), np.copy(state[0].nu)]
    grads = G2.copy()
    opt.update(grads, state, params)
    np.testing.assert_array_equal(state[0].mu, snapshot[0])
    np.testing.assert_array_equal(state[0].nu, snapshot[1])
    np.testing.assert_array_equal(grads, G2)
    with pytest.raises(AttributeError):
        state[0].step = 5  # NamedTuple state is immutable


def test_natural_gradient_descent_fixed_rate_is_scaled_fisher_solve():
    opt = optim.natural_gradient_descent(learning_rate=0.5, max_kl=None)
    u, _ = opt.update(G1, opt.init(G1), G1, fisher=A)
    np.testing.assert_allclose(u[0], -0.5 * np.linalg.solve(A[0], G1[0]), rtol=1e-12)


def test_trust_region_holds_the_budget_and_respects_the_cap():
    fisher = np.array([[[4.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    grads = np.array([[10.0, 5.0], [1e-3, 0.0]])
    opt = optim.natural_gradient_descent(learning_rate=1.0, max_kl=0.02)
    u, _ = opt.update(grads, opt.init(grads), grads, fisher=fisher)
    natural = np.linalg.solve(fisher, grads[..., None])[..., 0]
    quad = 0.5 * np.einsum("ni,nij,nj->n", u, fisher, u)
    assert quad[0] == pytest.approx(0.02, rel=1e-12)  # far: the budget binds
    np.testing.assert_allclose(u[1], -natural[1], rtol=1e-12)  # near: the full step (cap)
    assert quad[1] < 0.02


def test_trust_region_whole_batch_budget():
    fisher = np.stack([np.eye(2), 2 * np.eye(2)])
    grads = np.array([[3.0, 0.0], [0.0, 4.0]])
    tr = optim.scale_by_kl_trust_region(0.1, per_row=False)
    u, _ = tr.update(grads, tr.init(grads), grads, fisher=fisher)
    assert 0.5 * np.einsum("ni,nij,nj->", u, fisher, u) == pytest.approx(0.1, rel=1e-12)


def test_trust_region_zero_direction_gives_zero_update():
    tr = optim.scale_by_kl_trust_region(0.1)
    u, _ = tr.update(np.zeros((1, 2)), tr.init(None), None, fisher=np.eye(2)[None])
    np.testing.assert_array_equal(u, 0.0)


def test_newton_falls_back_to_a_descent_direction_on_an_indefinite_hessian():
    hessian = np.array([[[1.0, 0.0], [0.0, -3.0]]])
    grads = np.array([[1.0, 1.0]])
    opt = optim.newton()
    u, _ = opt.update(grads, opt.init(grads), grads, hessian=hessian)
    assert np.isfinite(u).all()
    assert float(grads[0] @ u[0]) < 0  # descent: the loss decreases to first order


def test_missing_curvature_names_it():
    for name, key in (("natural", "fisher"), ("newton", "hessian")):
        opt = optim.get(name)
        with pytest.raises(optim.MissingCurvatureError, match=f"'{key}'") as info:
            opt.update(G1, opt.init(G1), G1)
        assert isinstance(info.value, ValueError) and info.value.name == key
    opt = optim.get("natural")
    with pytest.raises(ValueError, match="'fisher'.*shape"):
        opt.update(G1, opt.init(G1), G1, fisher=np.eye(3)[None])
    with pytest.raises(ValueError, match="'fisher'.*finite"):
        opt.update(G1, opt.init(G1), G1, fisher=np.full((1, 2, 2), np.nan))


def test_registry_errors():
    with pytest.raises(ValueError, match="'optimizer'.*'gd'.*'natural'.*Got 'lbfgs'"):
        optim.get("lbfgs")
    with pytest.raises(TypeError):
        optim.get("adam", momentum=0.3)


@pytest.mark.parametrize(
    ("builder", "kwargs", "name"),
    [
        (optim.gradient_descent, {"learning_rate": -0.1}, "learning_rate"),
        (optim.adam, {"learning_rate": 0.1, "b1": 1.0}, "b1"),
        (optim.rmsprop, {"decay": -0.5}, "decay"),
        (optim.momentum, {"beta": "x"}, "beta"),
        (optim.natural_gradient_descent, {"max_kl": 0.0}, "max_kl"),
        (optim.newton, {"damping": np.nan}, "damping"),
        (optim.scale, {"step_size": np.inf}, "step_size"),
    ],
)
def test_hyperparameter_validation(builder, kwargs, name):
    with pytest.raises(ValueError, match=f"'{name}'"):
        builder(**kwargs)


def test_chain_rejects_non_transformations():
    with pytest.raises(TypeError, match="chain"):
        optim.chain(optim.scale(1.0), lambda g: g)
