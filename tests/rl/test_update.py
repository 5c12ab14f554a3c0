"""The trust-region natural-gradient update against references computed independently."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("gymnasium")

from torch import nn  # noqa: E402
from torch.func import functional_call, hessian  # noqa: E402

from natgrad.nn import Categorical, Normal  # noqa: E402
from natgrad.rl._networks import GaussianPolicy  # noqa: E402
from natgrad.rl._rollout import gae  # noqa: E402
from natgrad.rl._trust_region import (  # noqa: E402
    conjugate_gradient,
    policy_fisher,
    policy_step,
)


def _tiny(kind: str) -> tuple[nn.Module, object, torch.Tensor]:
    torch.manual_seed(0)
    obs = torch.randn(7, 3, dtype=torch.float64)
    if kind == "categorical":
        net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3)).double()
        return net, Categorical(3), obs
    mean = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    policy = GaussianPolicy(mean, 2)
    with torch.no_grad():
        policy.log_std.copy_(torch.tensor([-0.3, 0.4], dtype=torch.float64))
    return policy, Normal(), obs


def _kl_hessian(policy: nn.Module, lik, obs: torch.Tensor) -> torch.Tensor:
    """∇²_w mean KL(π_old ‖ π_w) at w_old, dense, by torch.func.hessian (the TRPO Fisher)."""
    params = {k: p.detach().clone() for k, p in policy.named_parameters()}
    names = list(params)
    sizes = [params[k].numel() for k in names]
    w0 = torch.cat([params[k].reshape(-1) for k in names])
    with torch.no_grad():
        old = policy(obs)

    def mean_kl(w: torch.Tensor) -> torch.Tensor:
        chunks = torch.split(w, sizes)
        ps = {k: c.view_as(params[k]) for k, c in zip(names, chunks, strict=True)}
        return lik._kl(old, functional_call(policy, ps, (obs,))).mean()

    return hessian(mean_kl)(w0)


def _score_outer(policy: nn.Module, obs: torch.Tensor, k: int) -> torch.Tensor:
    """E_s E_{a~π} [∇log π(a|s) ∇log π(a|s)ᵀ], exact by summing over the k actions."""
    params = [p for p in policy.parameters()]
    total = 0
    for s in obs:
        logp = torch.log_softmax(policy(s[None]), dim=1)[0]
        for a in range(k):
            grads = torch.autograd.grad(logp[a], params, retain_graph=True)
            g = torch.cat([t.reshape(-1) for t in grads])
            total = total + logp[a].exp().detach() * torch.outer(g, g)
    return total / obs.shape[0]


@pytest.mark.parametrize("kind", ["categorical", "normal"])
def test_policy_fisher_vector_product_matches_dense_kl_hessian(kind):
    policy, lik, obs = _tiny(kind)
    fisher = policy_fisher(policy, lik, obs)
    ref = _kl_hessian(policy, lik, obs)
    assert ref.shape == (fisher.n_params, fisher.n_params)
    gen = torch.Generator().manual_seed(1)
    for _ in range(3):
        v = torch.randn(fisher.n_params, generator=gen, dtype=torch.float64)
        torch.testing.assert_close(fisher.mv(v), ref @ v, rtol=1e-9, atol=1e-12)


def test_categorical_policy_fisher_is_the_expected_score_outer_product():
    policy, lik, obs = _tiny("categorical")
    dense = policy_fisher(policy, lik, obs).dense()
    torch.testing.assert_close(dense, _score_outer(policy, obs, 3), rtol=1e-9, atol=1e-12)


def test_gaussian_log_scale_block_is_two_per_dimension():
    # The Fisher of N(μ, e^{2s}) in s is 2, whatever the state: a check of the pulled-back
    # state-independent log-scale.
    policy, lik, obs = _tiny("normal")
    fisher = policy_fisher(policy, lik, obs)
    assert fisher.names[0] == "log_std"  # the module's own parameter comes first
    block = fisher.dense()[:2, :2]
    torch.testing.assert_close(block, 2.0 * torch.eye(2, dtype=torch.float64))


def test_conjugate_gradient_solves_spd_system():
    gen = torch.Generator().manual_seed(3)
    a = torch.randn(6, 6, generator=gen, dtype=torch.float64)
    spd = a @ a.T + 0.5 * torch.eye(6, dtype=torch.float64)
    b = torch.randn(6, generator=gen, dtype=torch.float64)
    x, n_iter, residual = conjugate_gradient(lambda v: spd @ v, b, max_iter=50, tol=1e-24)
    torch.testing.assert_close(x, torch.linalg.solve(spd, b), rtol=1e-8, atol=1e-10)
    assert n_iter <= 7  # exact arithmetic needs 6
    assert residual < 1e-10


def _batch(kind: str):
    policy, lik, obs = _tiny(kind)
    gen = torch.Generator().manual_seed(5)
    with torch.no_grad():
        actions = lik.sample(policy(obs), gen)
    adv = torch.randn(obs.shape[0], generator=gen, dtype=torch.float64)
    return policy, lik, obs, actions, adv


@pytest.mark.parametrize("kind", ["categorical", "normal"])
@pytest.mark.parametrize("max_kl", [1e-3, 0.05])
def test_accepted_step_keeps_realised_kl_within_budget(kind, max_kl):
    policy, lik, obs, actions, adv = _batch(kind)
    before = [p.detach().clone() for p in policy.parameters()]
    with torch.no_grad():
        old = policy(obs)
    stats = policy_step(
        policy,
        lik,
        obs,
        actions,
        adv,
        max_kl=max_kl,
        cg_iters=20,
        cg_damping=1e-4,
        backtrack_ratio=0.8,
        max_backtracks=10,
    )
    assert stats["accepted"]
    with torch.no_grad():
        realised = float(lik.kl(old, policy(obs)).mean())
        ratio = torch.exp(-lik.nll(policy(obs), actions) + lik.nll(old, actions))
        gain = float((ratio * adv).mean() - adv.mean())
    assert realised == pytest.approx(stats["kl"], rel=1e-9)
    assert 0 < realised <= max_kl
    assert gain > 0
    moved = sum(
        float((p.detach() - b).norm()) for p, b in zip(policy.parameters(), before, strict=True)
    )
    assert moved > 0


class _Exploding(Categorical):
    """A categorical likelihood whose KL is always too large (forces the line search to fail)."""

    def _kl(self, outputs_p, outputs_q):
        return torch.full(outputs_p.shape[:1], math.inf, dtype=outputs_p.dtype)


def test_rejected_step_restores_parameters_exactly():
    policy, _, obs, actions, adv = _batch("categorical")
    before = {k: p.detach().clone() for k, p in policy.named_parameters()}
    stats = policy_step(
        policy,
        _Exploding(3),
        obs,
        actions,
        adv,
        max_kl=0.01,
        cg_iters=10,
        cg_damping=0.1,
        backtrack_ratio=0.5,
        max_backtracks=3,
    )
    assert not stats["accepted"]
    assert stats["kl"] == 0.0 and stats["step_fraction"] == 0.0
    for k, p in policy.named_parameters():
        assert torch.equal(p.detach(), before[k])


def _gae_reference(rewards, values, next_values, terminated, ended, gamma, lam):
    """Â_t = Σ_l (γλ)^l δ_{t+l} up to the end of t's episode (or of the rollout)."""
    n = len(rewards)
    delta = rewards + gamma * np.where(terminated, 0.0, next_values) - values
    out = np.zeros(n)
    for t in range(n):
        for j in range(t, n):
            out[t] += (gamma * lam) ** (j - t) * delta[j]
            if ended[j]:
                break
    return out


def test_gae_matches_the_sum_of_discounted_td_errors():
    rng = np.random.default_rng(0)
    n = 30
    rewards, values, next_values = rng.normal(size=(3, n))
    terminated = np.zeros(n, dtype=bool)
    truncated = np.zeros(n, dtype=bool)
    terminated[[6, 20]] = True
    truncated[13] = True
    ended = terminated | truncated
    got = gae(rewards, values, next_values, terminated, ended, 0.97, 0.9)
    want = _gae_reference(rewards, values, next_values, terminated, ended, 0.97, 0.9)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_gae_with_lambda_one_gives_discounted_returns_to_go():
    rewards = np.array([1.0, 2.0, 3.0, 4.0])
    values = np.array([0.5, -1.0, 2.0, 0.0])
    terminated = np.array([False, False, False, True])
    next_values = np.append(values[1:], 7.0)  # the terminal successor's value is ignored
    adv = gae(rewards, values, next_values, terminated, terminated, 0.9, 1.0)
    returns = [sum(0.9**k * r for k, r in enumerate(rewards[t:])) for t in range(4)]
    np.testing.assert_allclose(adv + values, returns, rtol=1e-12)
