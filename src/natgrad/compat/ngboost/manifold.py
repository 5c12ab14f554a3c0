"""NGBoost's ``manifold(Score, Distribution)``: a distribution bound to a scoring rule.

NGBoost mixes the rule's implementation for the distribution into the distribution class;
here `manifold` returns a small factory whose instances are the distribution with the
implementation's methods (``score``, ``d_score``, ``metric``, ``total_score``, ``grad``)
bound to it, built without creating a class.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from natgrad.compat.ngboost._adapter import Scored

__all__ = ["manifold"]


class Manifold:
    """``Distribution`` with its implementation of ``Score``: call it with internal
    parameters (n_params, n); ``n_params`` and ``fit`` are the distribution's.

    Parameters
    ----------
    score : type
        The NGBoost scoring rule (e.g. `LogScore`).
    dist : type or DistnType
        The NGBoost distribution.
    """

    def __init__(self, score: type, dist: Any) -> None:
        self.score = score
        self.dist = dist
        self.implementation = dist.implementation(score)

    @property
    def n_params(self) -> int:
        return int(self.dist.n_params)

    def fit(self, Y: ArrayLike) -> Any:
        return self.dist.fit(Y)

    def __call__(self, params: ArrayLike) -> Scored:
        return Scored(self.dist(np.asarray(params)), self.implementation)

    def __repr__(self) -> str:
        name = getattr(self.dist, "__name__", repr(self.dist))
        return f"manifold({self.score.__name__}, {name})"


def manifold(Score: type, Distribution: Any) -> Manifold:  # noqa: N803 - NGBoost's names
    """``Distribution`` bound to its implementation of the rule ``Score``."""
    return Manifold(Score, Distribution)
