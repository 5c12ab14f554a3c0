"""NGBoost's helpers: `Y_from_censored` (structured survival targets)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["Y_from_censored"]

_CENSORED = np.dtype([("Event", np.bool_), ("Time", np.float64)])


def Y_from_censored(T: ArrayLike | None, E: ArrayLike | None = None) -> np.ndarray | None:  # noqa: N802, N803
    """A structured array with fields ``"Event"`` (bool) and ``"Time"`` (float), shape (n,).

    ``E`` defaults to every event observed; an array already in this form passes through.
    """
    if T is None:
        return None
    arr = np.asarray(T)
    if arr.dtype == _CENSORED:
        return arr
    times = arr.astype(np.float64).reshape(-1)
    events = np.ones_like(times) if E is None else np.asarray(E).reshape(-1)
    if events.shape != times.shape:
        raise ValueError(
            f"The 'E' argument of Y_from_censored must have one flag per time ({times.size}). "
            f"Got {events.size} instead."
        )
    out = np.empty(times.shape[0], dtype=_CENSORED)
    out["Event"] = events.astype(np.bool_)
    out["Time"] = times
    return out
