"""Supports of distribution families: which target values are valid.

A support is a small object with a vectorised membership test and a human description, so
that every family validates its targets the same way and every error message says what was
expected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class Support:
    """A set of valid target values.

    Parameters
    ----------
    description : str
        How an error message names the set, e.g. ``"positive (0, inf)"``.
    lower, upper : float
        Bounds of the set.
    lower_open, upper_open : bool
        Whether the bounds are excluded.
    integer : bool
        Whether only integers belong to the set.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.distributions import Gamma
    >>> Gamma.support.description
    'positive (0, inf)'
    >>> print(Gamma.support.contains(np.array([-1.0, 0.0, 2.5])))
    [False False  True]
    """

    description: str
    lower: float = -np.inf
    upper: float = np.inf
    lower_open: bool = True
    upper_open: bool = True
    integer: bool = False

    def contains(self, y: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Elementwise membership of finite values ``y``."""
        ok = (y > self.lower) if self.lower_open else (y >= self.lower)
        ok &= (y < self.upper) if self.upper_open else (y <= self.upper)
        if self.integer:
            ok &= y == np.round(y)
        return ok


REAL = Support("real (-inf, inf)")
POSITIVE = Support("positive (0, inf)", lower=0.0)
NON_NEGATIVE = Support("non-negative [0, inf)", lower=0.0, lower_open=False)
COUNTS = Support("a non-negative integer", lower=0.0, lower_open=False, integer=True)
BINARY = Support("0 or 1", lower=0.0, upper=1.0, lower_open=False, upper_open=False, integer=True)
UNIT_INTERVAL = Support("in the open interval (0, 1)", lower=0.0, upper=1.0)


def labels(n_classes: int) -> Support:
    """Integer class labels 0, ..., n_classes - 1."""
    return Support(
        f"an integer label in 0..{n_classes - 1}",
        lower=0.0,
        upper=float(n_classes - 1),
        lower_open=False,
        upper_open=False,
        integer=True,
    )
