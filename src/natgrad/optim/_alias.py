"""Named optimizers, each a short composition of building blocks, and their registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from natgrad._natural import _check_float
from natgrad._validation import describe
from natgrad.optim._base import GradientTransformation, chain
from natgrad.optim._transforms import (
    scale,
    scale_by_adam,
    scale_by_fisher,
    scale_by_kl_trust_region,
    scale_by_momentum,
    scale_by_newton,
    scale_by_rms,
)


def _lr(value: Any, where: str) -> float:
    return _check_float(value, "learning_rate", where, positive=True)


def gradient_descent(learning_rate: float = 0.1) -> GradientTransformation:
    """Gradient descent: δ = −η g.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import optim
    >>> opt = optim.gradient_descent(learning_rate=0.5)
    >>> params = np.ones((1, 2))
    >>> updates, state = opt.update(np.array([[2.0, -1.0]]), opt.init(params), params)
    >>> print(updates)
    [[-1.   0.5]]
    """
    return scale(-_lr(learning_rate, "gradient_descent"))


def momentum(learning_rate: float = 0.01, beta: float = 0.9) -> GradientTransformation:
    """Heavy-ball momentum: m_t = β m_{t−1} + g_t, δ = −η m_t.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import optim
    >>> opt = optim.momentum(learning_rate=0.1, beta=0.5)
    >>> params = np.zeros((1, 1))
    >>> state = opt.init(params)
    >>> for _ in range(3):                          # the same gradient three times
    ...     updates, state = opt.update(np.ones((1, 1)), state, params)
    ...
    >>> print(updates)                              # −0.1 (1 + 0.5 + 0.25)
    [[-0.175]]
    """
    return chain(scale_by_momentum(beta), scale(-_lr(learning_rate, "momentum")))


def rmsprop(
    learning_rate: float = 0.01, decay: float = 0.9, eps: float = 1e-8
) -> GradientTransformation:
    """RMSprop: ν_t = ρ ν_{t−1} + (1 − ρ) g_t², δ = −η g_t / (√ν_t + ε).

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import optim
    >>> opt = optim.rmsprop(learning_rate=0.01, decay=0.9)
    >>> params = np.zeros((1, 2))
    >>> updates, state = opt.update(np.array([[100.0, 0.01]]), opt.init(params), params)
    >>> print(updates.round(4))                     # the same step whatever the scale of g
    [[-0.0316 -0.0316]]
    """
    return chain(scale_by_rms(decay, eps), scale(-_lr(learning_rate, "rmsprop")))


def adam(
    learning_rate: float = 0.01, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> GradientTransformation:
    """Adam: δ = −η m̂_t / (√v̂_t + ε) with bias-corrected moments (see `scale_by_adam`).

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import optim
    >>> opt = optim.adam(learning_rate=0.1)
    >>> params = np.zeros((1, 2))
    >>> updates, state = opt.update(np.array([[5.0, -0.2]]), opt.init(params), params)
    >>> print(updates.round(6))                     # the first step is −η sign(g)
    [[-0.1  0.1]]
    >>> state[0].step                               # the state of scale_by_adam in the chain
    1
    """
    return chain(scale_by_adam(b1, b2, eps), scale(-_lr(learning_rate, "adam")))


def newton(learning_rate: float = 1.0, damping: float = 0.0) -> GradientTransformation:
    """Newton's method on the observed Hessian: δ = −η (H + λI)⁻¹ g.

    Needs ``hessian=`` in ``update``. Where H + λI is not positive definite the step falls back
    to Levenberg–Marquardt (see `scale_by_newton`).

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import optim
    >>> opt = optim.newton()
    >>> params = np.zeros((1, 2))
    >>> grads, hessian = np.array([[2.0, 2.0]]), np.diag([2.0, 4.0])[None]
    >>> updates, state = opt.update(grads, opt.init(params), params, hessian=hessian)
    >>> print(updates)                              # −H⁻¹g
    [[-1.  -0.5]]
    """
    return chain(scale_by_newton(damping), scale(-_lr(learning_rate, "newton")))


def natural_gradient_descent(
    learning_rate: float = 1.0, damping: float = 0.0, max_kl: float | None = 0.1
) -> GradientTransformation:
    """Natural gradient descent, with a fixed rate or with KL-trust-region steps.

    With d = (F + λI)⁻¹ g the natural gradient:

    * ``max_kl=None``: δ = −η d, a fixed rate (η = 1 is Fisher scoring);
    * ``max_kl`` given: δ = −min(√(2·max_kl / dᵀFd), η) d. The step's second-order KL
      ½ δᵀFδ equals ``max_kl`` unless that would take more than the full step η d; so far
      from the optimum every step moves the distribution by the same KL, and close to it the
      method becomes Fisher scoring at rate η (fast local convergence).

    The default is the trust region with ``max_kl=0.1``: a fixed rate is fragile from a
    start far from the data (one Fisher-scoring step from N(0, 1) towards data of spread
    0.01 multiplies the scale by e^1250), while the trust region needs no tuning there and
    costs nothing near the optimum, where the cap makes it Fisher scoring.

    Needs ``fisher=`` in ``update``.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import optim
    >>> opt = optim.natural_gradient_descent(max_kl=None)   # Fisher scoring: δ = −F⁻¹g
    >>> params = np.zeros((1, 2))
    >>> grads, fisher = np.array([[2.0, -1.0]]), np.diag([4.0, 2.0])[None]
    >>> updates, state = opt.update(grads, opt.init(params), params, fisher=fisher)
    >>> print(updates)
    [[-0.5  0.5]]
    """
    where = "natural_gradient_descent"
    rate = _lr(learning_rate, where)
    if max_kl is None:
        return chain(scale_by_fisher(damping), scale(-rate))
    return chain(
        scale_by_fisher(damping),
        scale_by_kl_trust_region(_check_float(max_kl, "max_kl", where, positive=True), rate),
        scale(-1.0),
    )


_REGISTRY: dict[str, Callable[..., GradientTransformation]] = {
    "gd": gradient_descent,
    "momentum": momentum,
    "rmsprop": rmsprop,
    "adam": adam,
    "newton": newton,
    "natural": natural_gradient_descent,
}


def names() -> list[str]:
    """Registry names of the named optimizers.

    Examples
    --------
    >>> from natgrad import optim
    >>> optim.names()
    ['gd', 'momentum', 'rmsprop', 'adam', 'newton', 'natural']
    """
    return list(_REGISTRY)


def get(name: str, **kwargs: Any) -> GradientTransformation:
    """The optimizer registered under ``name``, built with ``kwargs``.

    Examples
    --------
    >>> from natgrad import optim
    >>> opt = optim.get("adam", learning_rate=0.1)
    """
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(
            f"The 'optimizer' argument must be one of {', '.join(repr(n) for n in _REGISTRY)} "
            f"or a GradientTransformation. Got {describe(name)} instead."
        )
    return _REGISTRY[name](**kwargs)
