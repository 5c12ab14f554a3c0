"""Building blocks of optimizers: each is a `GradientTransformation`.

First-order blocks (`scale`, `scale_by_momentum`, `scale_by_rms`, `scale_by_adam`) rescale the
incoming updates u (the loss gradient g for the first block). Curvature blocks
(`scale_by_fisher`, `scale_by_newton`, `scale_by_kl_trust_region`) read ``fisher=`` or
``hessian=`` (shape (n, p, p)) from the keywords of ``update``. All arrays are rows first,
(n, p); each row is treated independently.
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

import numpy as np

from natgrad._natural import _check_float, solve_psd
from natgrad._validation import describe
from natgrad.optim._base import (
    Array,
    EmptyState,
    GradientTransformation,
    require_curvature,
    stateless,
)


def _check_unit(value: Any, name: str, where: str) -> float:
    """A decay rate in [0, 1)."""
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    if not (ok and 0.0 <= float(value) < 1.0):
        raise ValueError(
            f"The {name!r} argument of {where} must be a float in the range [0, 1). "
            f"Got {describe(value)} instead."
        )
    return float(value)


def _check_real(value: Any, name: str, where: str) -> float:
    """Any finite real number."""
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    if not (ok and np.isfinite(value)):
        raise ValueError(
            f"The {name!r} argument of {where} must be a finite float. "
            f"Got {describe(value)} instead."
        )
    return float(value)


# ---------------------------------------------------------------------- first order
def scale(step_size: float) -> GradientTransformation:
    """Multiply the updates by a constant: u ← step_size · u (negative for descent).

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import optim
    >>> opt = optim.scale(-0.5)
    >>> updates, _ = opt.update(np.array([[2.0, 4.0]]), opt.init(None))
    >>> print(updates)
    [[-1. -2.]]
    """
    factor = _check_real(step_size, "step_size", "scale")
    return stateless(lambda u, params: factor * u)


class MomentumState(NamedTuple):
    """State of `scale_by_momentum`: the trace m, shape (n, p).

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import optim
    >>> state = optim.scale_by_momentum().init(np.zeros((3, 2)))
    >>> state.trace.shape
    (3, 2)
    """

    trace: Array


def scale_by_momentum(beta: float = 0.9) -> GradientTransformation:
    """Heavy-ball momentum: m_t = β m_{t−1} + u_t (m_0 = 0); the output is m_t.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import optim
    >>> opt = optim.scale_by_momentum(beta=0.9)
    >>> state = opt.init(np.zeros((1, 1)))
    >>> _, state = opt.update(np.ones((1, 1)), state)
    >>> out, state = opt.update(np.ones((1, 1)), state)
    >>> print(out)                                  # 1 + 0.9
    [[1.9]]
    """
    b = _check_unit(beta, "beta", "scale_by_momentum")

    def init(params: Array) -> MomentumState:
        return MomentumState(trace=np.zeros_like(np.asarray(params, dtype=np.float64)))

    def update(
        grads: Array, state: MomentumState, params: Array | None = None, **curvature: Any
    ) -> tuple[Array, MomentumState]:
        trace = b * state.trace + grads
        return trace, MomentumState(trace=trace)

    return GradientTransformation(init, update)


class RmsState(NamedTuple):
    """State of `scale_by_rms`: the running mean of squares ν, shape (n, p).

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import optim
    >>> state = optim.scale_by_rms().init(np.zeros((3, 2)))
    >>> state.nu.shape
    (3, 2)
    """

    nu: Array


def scale_by_rms(decay: float = 0.9, eps: float = 1e-8) -> GradientTransformation:
    """RMSprop scaling: ν_t = ρ ν_{t−1} + (1 − ρ) u_t² (ν_0 = 0); output u_t / (√ν_t + ε).

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import optim
    >>> opt = optim.scale_by_rms(decay=0.0)         # no memory: u / |u|
    >>> out, state = opt.update(np.array([[-3.0, 0.5]]), opt.init(np.zeros((1, 2))))
    >>> print(out.round(6))
    [[-1.  1.]]
    >>> print(state.nu)
    [[9.   0.25]]
    """
    where = "scale_by_rms"
    rho = _check_unit(decay, "decay", where)
    epsilon = _check_float(eps, "eps", where)

    def init(params: Array) -> RmsState:
        return RmsState(nu=np.zeros_like(np.asarray(params, dtype=np.float64)))

    def update(
        grads: Array, state: RmsState, params: Array | None = None, **curvature: Any
    ) -> tuple[Array, RmsState]:
        nu = rho * state.nu + (1.0 - rho) * grads * grads
        return grads / (np.sqrt(nu) + epsilon), RmsState(nu=nu)

    return GradientTransformation(init, update)


class AdamState(NamedTuple):
    """State of `scale_by_adam`: the number of steps t taken, first and second moments (n, p).

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import optim
    >>> state = optim.scale_by_adam().init(np.zeros((3, 2)))
    >>> state.step, state.mu.shape, state.nu.shape
    (0, (3, 2), (3, 2))
    """

    step: int
    mu: Array
    nu: Array


def scale_by_adam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> GradientTransformation:
    """Adam scaling (Kingma & Ba 2015) with bias correction.

    m_t = β₁ m_{t−1} + (1 − β₁) u_t,  v_t = β₂ v_{t−1} + (1 − β₂) u_t²,
    m̂ = m_t / (1 − β₁ᵗ),  v̂ = v_t / (1 − β₂ᵗ),  output m̂ / (√v̂ + ε).

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import optim
    >>> opt = optim.scale_by_adam()
    >>> state = opt.init(np.zeros((1, 2)))
    >>> out, state = opt.update(np.array([[3.0, -0.1]]), state)
    >>> print(out.round(6))                         # first step: m̂/√v̂ = sign(g)
    [[ 1. -1.]]
    >>> state.step, state.mu.shape
    (1, (1, 2))
    """
    where = "scale_by_adam"
    beta1 = _check_unit(b1, "b1", where)
    beta2 = _check_unit(b2, "b2", where)
    epsilon = _check_float(eps, "eps", where)

    def init(params: Array) -> AdamState:
        zeros = np.zeros_like(np.asarray(params, dtype=np.float64))
        return AdamState(step=0, mu=zeros, nu=zeros.copy())

    def update(
        grads: Array, state: AdamState, params: Array | None = None, **curvature: Any
    ) -> tuple[Array, AdamState]:
        t = state.step + 1
        mu = beta1 * state.mu + (1.0 - beta1) * grads
        nu = beta2 * state.nu + (1.0 - beta2) * grads * grads
        mu_hat = mu / (1.0 - beta1**t)
        nu_hat = nu / (1.0 - beta2**t)
        return mu_hat / (np.sqrt(nu_hat) + epsilon), AdamState(step=t, mu=mu, nu=nu)

    return GradientTransformation(init, update)


# ---------------------------------------------------------------------- curvature
def _solve_rows(matrix: Array, updates: Array, what: str, level: int) -> Array:
    single = updates.ndim == 1
    if single:
        matrix, updates = matrix[None], updates[None]
    out, _ = solve_psd(matrix, updates, what=what, log_level=level)
    return out[0] if single else out


def scale_by_fisher(damping: float = 0.0) -> GradientTransformation:
    """Precondition by the Fisher: u ← (F + λI)⁻¹ u, the natural gradient.

    Needs ``fisher=`` in ``update``. Rows whose F + λI is not positive definite get the
    Levenberg fallback of `natgrad.natural_gradient`, logged at INFO level (an optimizer
    loop would otherwise repeat the same warning on every step).

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import optim
    >>> opt = optim.scale_by_fisher()
    >>> params = np.zeros((2, 1))
    >>> fisher = np.array([[[4.0]], [[0.25]]])      # one 1×1 block per row
    >>> direction, _ = opt.update(np.ones((2, 1)), opt.init(params), params, fisher=fisher)
    >>> print(direction.ravel())                    # F⁻¹g
    [0.25 4.  ]
    """
    where = "scale_by_fisher"
    lam = _check_float(damping, "damping", where)

    def update(
        grads: Array, state: EmptyState, params: Array | None = None, **curvature: Any
    ) -> tuple[Array, EmptyState]:
        u = np.asarray(grads, dtype=np.float64)
        f = require_curvature(curvature, "fisher", u.shape, where)
        if lam:
            f = f + lam * np.eye(u.shape[-1])
        return _solve_rows(f, u, "Fisher", logging.INFO), state

    return GradientTransformation(lambda params: EmptyState(), update)


def scale_by_newton(damping: float = 0.0) -> GradientTransformation:
    """Precondition by the observed Hessian: u ← (H + λI)⁻¹ u, the Newton direction.

    Needs ``hessian=`` in ``update``. Far from a minimum the observed Hessian is often
    indefinite, and a Newton step would then climb. Fallback: a row whose H + λI is not
    positive definite (the pivot test of `natgrad.natural_gradient`) is solved with
    H + λI + μ·diag(|H_ii|), μ = ŝ·10⁻⁸, ŝ·10⁻⁷, ... (ŝ the largest entry of H scaled to a
    unit diagonal) until it is: the Levenberg–Marquardt step, a descent direction. Logged at
    DEBUG level, since it is routine for Newton.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import optim
    >>> opt = optim.scale_by_newton(damping=1.0)
    >>> hessian = np.array([[[1.0, 0.0], [0.0, 3.0]]])
    >>> out, _ = opt.update(np.array([[2.0, 4.0]]), opt.init(None), hessian=hessian)
    >>> print(out)                                  # (H + I)⁻¹ g
    [[1. 1.]]
    """
    where = "scale_by_newton"
    lam = _check_float(damping, "damping", where)

    def update(
        grads: Array, state: EmptyState, params: Array | None = None, **curvature: Any
    ) -> tuple[Array, EmptyState]:
        u = np.asarray(grads, dtype=np.float64)
        h = require_curvature(curvature, "hessian", u.shape, where)
        if lam:
            h = h + lam * np.eye(u.shape[-1])
        return _solve_rows(h, u, "Hessian", logging.DEBUG), state

    return GradientTransformation(lambda params: EmptyState(), update)


def scale_by_kl_trust_region(
    max_kl: float, max_scale: float = np.inf, *, per_row: bool = True
) -> GradientTransformation:
    """Scale a direction d so that its second-order KL equals the budget, capped.

    u ← η d with η = min(√(2·max_kl / dᵀFd), max_scale), so that ½ (ηd)ᵀF(ηd) = max_kl
    whenever the cap does not bind. Far from the optimum the KL budget limits the step; near
    it (d → 0, the budget step grows without bound) the cap takes over, e.g. the full natural
    step η = 1. Where dᵀFd = 0 the budget does not bound the step and η = max_scale (0 if
    the cap is infinite).

    Parameters
    ----------
    max_kl : float
        KL budget per step, > 0.
    max_scale : float, default inf
        Upper bound on η, > 0.
    per_row : bool, default True
        True: each row gets its own η (each row's KL equals the budget). False: one η for the
        batch, with the summed KL of all rows equal to the budget.

    Needs ``fisher=`` in ``update``.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import optim
    >>> opt = optim.scale_by_kl_trust_region(max_kl=0.02, max_scale=1.0)
    >>> params, fisher = np.zeros((2, 1)), np.ones((2, 1, 1))
    >>> d = np.array([[10.0], [0.1]])               # a long and a short direction
    >>> step, _ = opt.update(d, opt.init(params), params, fisher=fisher)
    >>> print(step.ravel())                         # long: cut to KL 0.02 (|step| 0.2); short: kept
    [0.2 0.1]
    """
    where = "scale_by_kl_trust_region"
    budget = _check_float(max_kl, "max_kl", where, positive=True)
    if not (isinstance(max_scale, int | float | np.floating) and max_scale > 0):
        raise ValueError(
            f"The 'max_scale' argument of {where} must be a float in the range (0, inf]. "
            f"Got {describe(max_scale)} instead."
        )
    cap = float(max_scale)
    fallback = cap if np.isfinite(cap) else 0.0

    def update(
        grads: Array, state: EmptyState, params: Array | None = None, **curvature: Any
    ) -> tuple[Array, EmptyState]:
        d = np.asarray(grads, dtype=np.float64)
        f = require_curvature(curvature, "fisher", d.shape, where)
        d2, f2 = (d[None], f[None]) if d.ndim == 1 else (d, f)
        quad = np.einsum("ni,nij,nj->n", d2, f2, d2)
        if not per_row:
            quad = np.full_like(quad, quad.sum())
        safe = quad > 0
        eta = np.where(
            safe, np.minimum(np.sqrt(2.0 * budget / np.where(safe, quad, 1.0)), cap), fallback
        )
        out = eta[:, None] * d2
        return (out[0] if d.ndim == 1 else out), state

    return GradientTransformation(lambda params: EmptyState(), update)
