"""Input validation shared by the whole package.

Every public entry point validates its arguments here so that error messages have one shape:
"The 'name' argument of Where must be <expected>. Got <given> instead."
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray


def describe(value: Any) -> str:
    """A short description of a value for an error message."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def as_float_array(value: ArrayLike, name: str, where: str) -> NDArray[np.float64]:
    """Convert to a float64 array or raise a `TypeError` naming the argument."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"The {name!r} argument of {where} must be array-like of numbers. "
            f"Got {describe(value)} instead."
        ) from exc
    return arr


def check_finite(arr: NDArray[np.float64], name: str, where: str) -> None:
    """Raise a `ValueError` naming the argument if ``arr`` holds NaN or infinite values."""
    finite = np.isfinite(arr)
    if not finite.all():
        bad = np.flatnonzero(~finite.ravel())
        first = bad[0]
        value = arr.ravel()[first]
        index = np.unravel_index(first, arr.shape) if arr.ndim > 1 else first
        raise ValueError(
            f"The {name!r} argument of {where} must be finite. Got {bad.size} non-finite "
            f"value(s), e.g. {value} at index {index}."
        )


def check_params(theta: ArrayLike, n_params: int, where: str) -> NDArray[np.float64]:
    """Validate a batch of unconstrained parameters: finite float array of shape (n, p)."""
    arr = as_float_array(theta, "params", where)
    if arr.ndim == 1 and n_params == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[1] != n_params:
        raise ValueError(
            f"The 'params' argument of {where} must have shape (n, {n_params}). "
            f"Got shape {arr.shape} instead."
        )
    if arr.shape[0] == 0:
        raise ValueError(f"The 'params' argument of {where} must hold at least one row. Got 0.")
    check_finite(arr, "params", where)
    return np.ascontiguousarray(arr)


def check_sample_weight(sample_weight: ArrayLike | None, n: int, where: str) -> NDArray[np.float64]:
    """Validate sample weights: finite, non-negative, not all zero, shape (n,)."""
    if sample_weight is None:
        return np.ones(n)
    w = as_float_array(sample_weight, "sample_weight", where)
    if w.ndim == 0:
        w = np.full(n, float(w))
    if w.shape != (n,):
        raise ValueError(
            f"The 'sample_weight' argument of {where} must have shape ({n},). "
            f"Got shape {w.shape} instead."
        )
    check_finite(w, "sample_weight", where)
    if (w < 0).any():
        raise ValueError(
            f"The 'sample_weight' argument of {where} must be non-negative. "
            f"Got a minimum of {w.min()} instead."
        )
    if not (w > 0).any():
        raise ValueError(
            f"The 'sample_weight' argument of {where} must have a positive sum. Got all zeros."
        )
    return w


def check_rng(rng: Any, where: str) -> np.random.Generator:
    """Accept only an explicit `numpy.random.Generator` (never the global RNG)."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"The 'rng' argument of {where} must be a numpy.random.Generator "
            f"(e.g. numpy.random.default_rng(0)). Got {describe(rng)} instead."
        )
    return rng


def as_generator(rng: Any, where: str) -> np.random.Generator:
    """None, an int seed or a `numpy.random.Generator`, as `numpy.random.default_rng` takes.

    The legacy `RandomState` and other objects are refused, so that the global RNG is never
    used by accident.
    """
    seed = isinstance(rng, int | np.integer) and not isinstance(rng, bool) and bool(rng >= 0)
    ok = rng is None or isinstance(rng, np.random.Generator) or seed
    if not ok:
        raise TypeError(
            f"The 'rng' argument of {where} must be None, a non-negative int seed or a "
            f"numpy.random.Generator (as numpy.random.default_rng takes). Got {describe(rng)} "
            "instead."
        )
    return np.random.default_rng(rng)


def check_option(value: Any, name: str, options: tuple[str, ...] | list[str], where: str) -> str:
    """Validate a string option against the allowed values."""
    if not isinstance(value, str) or value not in options:
        allowed = ", ".join(repr(o) for o in options)
        raise ValueError(
            f"The {name!r} argument of {where} must be one of {allowed}. "
            f"Got {describe(value)} instead."
        )
    return value


def check_n_jobs(n_jobs: Any, owner: str) -> None:
    """Raise the house error when ``n_jobs`` is not None or a non-zero int."""
    if n_jobs is None or (
        isinstance(n_jobs, Integral) and not isinstance(n_jobs, bool) and n_jobs != 0
    ):
        return
    raise ValueError(
        f"The 'n_jobs' parameter of {owner} must be None or an int other than 0 (-1: all "
        f"cores). Got {n_jobs!r} instead."
    )
