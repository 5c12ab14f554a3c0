"""Composable optimizers in the style of optax: pure ``init``/``update`` pairs.

An optimizer is a `GradientTransformation`; named optimizers are short `chain` s of building
blocks, e.g. ``adam(lr) == chain(scale_by_adam(), scale(-lr))`` and
``natural_gradient_descent(lr) == chain(scale_by_fisher(), scale(-lr))``. Curvature arrives as
keywords of ``update``: ``fisher=`` for the natural gradient, ``hessian=`` for Newton.

>>> import numpy as np
>>> from natgrad import optim
>>> opt = optim.get("natural", max_kl=0.1)
>>> params = np.zeros((1, 2))
>>> state = opt.init(params)
>>> grads, fisher = np.array([[1.0, -2.0]]), np.eye(2)[None]
>>> updates, state = opt.update(grads, state, params, fisher=fisher)
>>> params = params + updates
"""

from natgrad.optim._alias import (
    adam,
    get,
    gradient_descent,
    momentum,
    names,
    natural_gradient_descent,
    newton,
    rmsprop,
)
from natgrad.optim._base import (
    EmptyState,
    GradientTransformation,
    MissingCurvatureError,
    chain,
)
from natgrad.optim._transforms import (
    AdamState,
    MomentumState,
    RmsState,
    scale,
    scale_by_adam,
    scale_by_fisher,
    scale_by_kl_trust_region,
    scale_by_momentum,
    scale_by_newton,
    scale_by_rms,
)

__all__ = [
    "AdamState",
    "EmptyState",
    "GradientTransformation",
    "MissingCurvatureError",
    "MomentumState",
    "RmsState",
    "adam",
    "chain",
    "get",
    "gradient_descent",
    "momentum",
    "names",
    "natural_gradient_descent",
    "newton",
    "rmsprop",
    "scale",
    "scale_by_adam",
    "scale_by_fisher",
    "scale_by_kl_trust_region",
    "scale_by_momentum",
    "scale_by_newton",
    "scale_by_rms",
]
