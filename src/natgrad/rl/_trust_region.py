"""The natural policy gradient step with a KL trust region (TRPO's update; private).

For a batch of states sᵢ, actions aᵢ and advantages Âᵢ collected with the policy π_old,
the surrogate objective and its gradient at the current parameters w are

    L(w) = (1/n) Σᵢ π_w(aᵢ|sᵢ) / π_old(aᵢ|sᵢ) · Âᵢ,       g = ∇L(w_old),

and the Fisher of the policy's output distribution, averaged over the states,

    F = (1/n) Σᵢ Jᵢᵀ F_out(sᵢ) Jᵢ,

is the Hessian of the mean KL(π_old ‖ π_w) at w_old (`natgrad.nn.Fisher`, matrix-free). The
step solves (F + λI) x = g by conjugate gradient, scales x so that the quadratic model of the
KL, ½ xᵀF x, equals the budget δ (``max_kl``), and backtracks along it until the realised
mean KL is within δ and the surrogate improved; when no fraction qualifies, the parameters
are restored.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from natgrad.nn import Fisher, Likelihood


def conjugate_gradient(
    mv: Callable[[Tensor], Tensor], b: Tensor, max_iter: int, tol: float = 1e-10
) -> tuple[Tensor, int, float]:
    """Solve A x = b for a symmetric positive definite A given by products ``mv``.

    Starts from x = 0 and stops after ``max_iter`` iterations or when ‖r‖² < tol.

    Returns
    -------
    x : Tensor of shape (p,)
    n_iter : int
        Iterations run.
    residual : float
        ‖b − A x‖ at the end (from the recursion).
    """
    x = torch.zeros_like(b)
    r = b.clone()
    p = b.clone()
    rr = float(r @ r)
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 (n_iter is returned)
        ap = mv(p)
        pap = float(p @ ap)
        if not pap > 0.0:  # breakdown (or a non-finite product): keep the last iterate
            n_iter -= 1
            break
        alpha = rr / pap
        x += alpha * p
        r -= alpha * ap
        rr_new = float(r @ r)
        if rr_new < tol:
            rr = rr_new
            break
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x, n_iter, math.sqrt(rr)


def _flat(params: list[nn.Parameter]) -> Tensor:
    return torch.cat([p.detach().reshape(-1) for p in params])


def _assign(params: list[nn.Parameter], flat: Tensor) -> None:
    start = 0
    with torch.no_grad():
        for p in params:
            p.copy_(flat[start : start + p.numel()].view_as(p))
            start += p.numel()


def policy_fisher(policy: nn.Module, likelihood: Likelihood, obs: Tensor) -> Fisher:
    """The Fisher of the policy's action distribution over the states ``obs``, (1/n) Σᵢ JᵢᵀF_out Jᵢ.

    It is the Hessian of the mean KL(π_old ‖ π_w) in w at w = w_old, so ½ sᵀF s is the
    quadratic model of the KL of a step s. Products ``.mv`` are matrix-free (`natgrad.nn`).
    """
    return Fisher(policy, likelihood, obs)


def policy_step(
    policy: nn.Module,
    likelihood: Likelihood,
    obs: Tensor,
    actions: Tensor,
    advantages: Tensor,
    *,
    max_kl: float,
    cg_iters: int,
    cg_damping: float,
    backtrack_ratio: float,
    max_backtracks: int,
) -> dict[str, Any]:
    """One trust-region natural-gradient step of ``policy`` in place; returns statistics.

    Parameters
    ----------
    policy : torch.nn.Module
        Observations (n, d) → the likelihood's outputs (n, k).
    likelihood : natgrad.nn.Likelihood
    obs : Tensor of shape (n, d)
    actions : Tensor of shape (n,) or (n, m)
    advantages : Tensor of shape (n,)
    max_kl : float
        δ, the bound on the mean KL(π_old ‖ π_new) over ``obs``.
    cg_iters : int
        Conjugate-gradient iterations.
    cg_damping : float
        λ added to the Fisher's diagonal inside CG.
    backtrack_ratio : float
        Factor in (0, 1) applied to the step at each backtracking trial.
    max_backtracks : int
        Trials after the full step.

    Returns
    -------
    dict
        ``kl`` (realised mean KL of the step taken, 0 when rejected), ``surrogate_gain``,
        ``expected_gain`` (gᵀ of the full step), ``step_fraction`` (0 when rejected),
        ``accepted``, ``cg_iterations``, ``cg_residual``, ``grad_norm``.
    """
    params = [p for p in policy.parameters() if p.requires_grad]
    stats: dict[str, Any] = {
        "kl": 0.0,
        "surrogate_gain": 0.0,
        "expected_gain": 0.0,
        "step_fraction": 0.0,
        "accepted": False,
        "cg_iterations": 0,
        "cg_residual": float("nan"),
        "grad_norm": 0.0,
    }
    with torch.no_grad():
        old_out = policy(obs)
        old_logp = -likelihood.nll(old_out, actions)

    def surrogate(out: Tensor) -> Tensor:
        return (torch.exp(-likelihood.nll(out, actions) - old_logp) * advantages).mean()

    surr_old = surrogate(policy(obs))
    g = torch.cat([t.reshape(-1) for t in torch.autograd.grad(surr_old, params)])
    grad_norm = float(g.norm())
    stats["grad_norm"] = grad_norm
    if not math.isfinite(grad_norm) or grad_norm == 0.0:
        return stats
    fisher = policy_fisher(policy, likelihood, obs)

    def damped_mv(v: Tensor) -> Tensor:
        return fisher.mv(v) + cg_damping * v

    x, n_iter, residual = conjugate_gradient(damped_mv, g, cg_iters)
    stats["cg_iterations"], stats["cg_residual"] = n_iter, residual
    quad = float(fisher.quadratic(x))
    if not (math.isfinite(quad) and quad > 0.0):
        return stats
    full_step = math.sqrt(2.0 * max_kl / quad) * x
    stats["expected_gain"] = float(g @ full_step)
    w_old = _flat(params)
    surr_old_value = float(surr_old.detach())
    for k in range(max_backtracks + 1):
        fraction = backtrack_ratio**k
        _assign(params, w_old + fraction * full_step)
        with torch.no_grad():
            out = policy(obs)
            kl = float(likelihood.kl(old_out, out).mean())
            gain = float(surrogate(out)) - surr_old_value
        if math.isfinite(kl) and math.isfinite(gain) and kl <= max_kl and gain > 0.0:
            stats.update(kl=kl, surrogate_gain=gain, step_fraction=fraction, accepted=True)
            return stats
    _assign(params, w_old)
    return stats


def fit_value(
    value_net: nn.Module,
    optimizer: torch.optim.Optimizer,
    obs: Tensor,
    returns: Tensor,
    *,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator,
) -> float:
    """Regress the value network on the returns: ``epochs`` passes of shuffled mini-batches.

    Returns the mean squared error over the last epoch's mini-batches.
    """
    n = obs.shape[0]
    losses: list[float] = []
    for _ in range(epochs):
        losses = []
        order = torch.as_tensor(rng.permutation(n))
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            loss = torch.mean((value_net(obs[idx])[:, 0] - returns[idx]) ** 2)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
    return float(np.mean(losses)) if losses else float("nan")
