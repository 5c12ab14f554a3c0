"""Estimator signatures shared by the package's scikit-learn estimators."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

__all__ = ["init_with_defaults"]


def init_with_defaults(base: Callable[..., None], /, **defaults: Any) -> Callable[..., None]:
    """The estimator ``__init__`` ``base`` with other defaults, for an estimator that differs
    from its base only there.

    scikit-learn reads the hyper-parameters and their defaults from the ``__init__``
    signature (``get_params``, ``clone``, the repr), so the function carries the base's
    signature with ``defaults`` replaced, and its body stores the arguments as the base's
    does: one list of hyper-parameters for every estimator.
    """
    signature = inspect.signature(base)
    unknown = sorted(set(defaults) - set(signature.parameters))
    if unknown:
        raise TypeError(f"{unknown} are not hyper-parameters of {base.__qualname__}.")
    signature = signature.replace(
        parameters=[
            p.replace(default=defaults.get(p.name, p.default))
            for p in signature.parameters.values()
        ]
    )

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        base(*bound.args, **bound.kwargs)

    __init__.__signature__ = signature  # type: ignore[attr-defined]
    return __init__
