"""The optimizer protocol: a pair of pure functions, and their composition.

An optimizer is a `GradientTransformation`: ``init(params) -> state`` and
``update(grads, state, params, **curvature) -> (updates, new_state)``. Parameters, gradients
and updates are float arrays of one shape (rows first: (n, p)); the caller applies
``params + updates``. Curvature that some transformations need arrives as keyword arrays
of shape (n, p, p): ``fisher=`` (the Fisher information) and ``hessian=`` (the observed
Hessian of the loss). A transformation ignores curvature it does not use, and raises
`MissingCurvatureError` for curvature it needs but did not get, so a training loop can compute
an expensive Hessian only for the optimizers that ask for it (the functions are pure, so the
loop can simply call ``update`` again with it).

State is a small immutable `NamedTuple`; ``update`` never mutates its arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from natgrad._typing import Array
from natgrad._validation import check_finite

State = Any
InitFn = Callable[[Array], State]
UpdateFn = Callable[..., tuple[Array, State]]


class GradientTransformation(NamedTuple):
    """An optimizer or a building block of one.

    Attributes
    ----------
    init : callable ``init(params) -> state``
        ``params`` is an array of shape (n, p); returns the initial state.
    update : callable ``update(grads, state, params=None, **curvature) -> (updates, state)``
        ``grads`` (n, p) are the incoming updates (the loss gradient for the first block of a
        chain); ``curvature`` may hold ``fisher`` and ``hessian`` of shape (n, p, p).

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import optim
    >>> def init(params):
    ...     return optim.EmptyState()
    ...
    >>> def update(grads, state, params=None, **curvature):
    ...     return np.clip(grads, -1.0, 1.0), state       # clip every coordinate to [-1, 1]
    ...
    >>> clip = optim.GradientTransformation(init, update)
    >>> opt = optim.chain(clip, optim.scale(-0.1))
    >>> params = np.zeros((1, 2))
    >>> updates, _ = opt.update(np.array([[5.0, 0.5]]), opt.init(params), params)
    >>> print(updates)
    [[-0.1  -0.05]]
    """

    init: InitFn
    update: UpdateFn


class EmptyState(NamedTuple):
    """The state of a stateless transformation.

    Examples
    --------
    >>> from natgrad import optim
    >>> optim.scale(2.0).init(None)                 # the state of a stateless block
    EmptyState()
    """


class MissingCurvatureError(ValueError):
    """A transformation needs a curvature argument (``fisher`` or ``hessian``) it did not get.

    Attributes
    ----------
    name : str
        The missing keyword, ``"fisher"`` or ``"hessian"``.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import optim
    >>> opt = optim.natural_gradient_descent()
    >>> params = np.zeros((1, 2))
    >>> try:
    ...     opt.update(np.ones((1, 2)), opt.init(params), params)      # no fisher=
    ... except optim.MissingCurvatureError as err:
    ...     print(err.name)
    fisher
    """

    def __init__(self, name: str, where: str) -> None:
        super().__init__(
            f"The {name!r} argument of {where} is required: pass {name}=<array of shape "
            f"(n, p, p)> to update(). Got none."
        )
        self.name = name


def require_curvature(
    curvature: dict[str, Any], name: str, shape: tuple[int, ...], where: str
) -> Array:
    """Fetch ``curvature[name]`` as a float array of shape (n, p, p) matching ``shape`` (n, p)."""
    value = curvature.get(name)
    if value is None:
        raise MissingCurvatureError(name, where)
    arr = np.asarray(value, dtype=np.float64)
    expected = (*shape, shape[-1]) if len(shape) == 2 else (shape[-1], shape[-1])
    if arr.shape != expected:
        raise ValueError(
            f"The {name!r} argument of {where} must have shape {expected} to match the "
            f"updates of shape {shape}. Got shape {arr.shape} instead."
        )
    check_finite(arr, name, where)
    return arr


def stateless(fn: Callable[[Array, Array | None], Array]) -> GradientTransformation:
    """A transformation without state from ``fn(updates, params) -> updates``."""

    def init(params: Array) -> EmptyState:
        del params
        return EmptyState()

    def update(
        grads: Array, state: EmptyState, params: Array | None = None, **curvature: Any
    ) -> tuple[Array, EmptyState]:
        del curvature
        return fn(np.asarray(grads, dtype=np.float64), params), state

    return GradientTransformation(init, update)


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Apply transformations one after the other; the state is the tuple of their states.

    ``chain(scale_by_adam(), scale(-lr))`` is Adam: each block receives the previous block's
    updates, the same ``params`` and the same curvature keywords.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import optim
    >>> opt = optim.chain(optim.scale_by_adam(), optim.scale(-0.01))   # Adam at rate 0.01
    >>> params = np.zeros((1, 2))
    >>> state = opt.init(params)
    >>> len(state)                                  # one state per block
    2
    >>> updates, state = opt.update(np.array([[1.0, -1.0]]), state, params)
    >>> print(updates.round(6))
    [[-0.01  0.01]]
    """
    for i, t in enumerate(transforms):
        if not isinstance(t, GradientTransformation):
            raise TypeError(
                f"The arguments of chain must be GradientTransformation objects. Argument {i} "
                f"is {type(t).__name__} instead."
            )

    def init(params: Array) -> tuple[State, ...]:
        return tuple(t.init(params) for t in transforms)

    def update(
        grads: Array, state: tuple[State, ...], params: Array | None = None, **curvature: Any
    ) -> tuple[Array, tuple[State, ...]]:
        updates = grads
        new_state = []
        for t, s in zip(transforms, state, strict=True):
            updates, s = t.update(updates, s, params, **curvature)
            new_state.append(s)
        return updates, tuple(new_state)

    return GradientTransformation(init, update)
