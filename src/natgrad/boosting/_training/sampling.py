"""Per-stage subsampling of rows (``subsample``) and features (``colsample``)."""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

from natgrad._typing import Array

__all__ = ["StageSampler", "sample_rows"]


class StageSampler:
    """Draws each stage's rows and features, reproducibly under the fit's ``rng``.

    Parameters
    ----------
    rng : numpy.random.RandomState
        The fit's random state. The feature subsets are drawn from it; the row subsets from
        a generator seeded from it at the first draw, so that the fit's sequence of draws
        is the same whether or not rows are subsampled.
    subsample, colsample : float in (0, 1]
        Fractions of the rows and features each stage sees; 1 disables a draw.
    """

    def __init__(self, rng: np.random.RandomState, subsample: float, colsample: float) -> None:
        self.rng = rng
        self.subsample = subsample
        self.colsample = colsample
        self._row_uniforms: np.random.Generator | None = None

    def rows(self, n: int) -> np.ndarray | None:
        """Sorted row indices of the stage's subsample, or None for all ``n`` rows."""
        if self.subsample >= 1.0:
            return None
        k = max(1, int(round(self.subsample * n)))
        if self._row_uniforms is None:  # reproducible under random_state
            self._row_uniforms = np.random.default_rng(self.rng.randint(np.iinfo(np.int32).max))
        return sample_rows(self._row_uniforms.random(n), k)

    def features(self, d: int) -> np.ndarray | None:
        """Mask (d,) of the stage's features, or None for all of them."""
        if self.colsample >= 1.0:
            return None
        k = max(1, int(round(self.colsample * d)))
        mask = np.zeros(d, dtype=np.bool_)
        mask[self.rng.choice(d, size=k, replace=False)] = True
        return mask


@njit(cache=True, nogil=True)
def sample_rows(uniforms: Array, k: int) -> NDArray[np.int32]:  # pragma: no cover - compiled
    """``k`` of the rows ``0 .. n-1`` (``n = uniforms.size``) drawn uniformly without
    replacement, in increasing order: selection sampling, which takes row i when
    ``uniforms[i] (rows left) < (rows still needed)`` and so takes exactly ``k``. One pass
    over ``n`` uniforms, where ``RandomState.choice(n, k, replace=False)`` shuffles all
    ``n`` rows and the sample must then be sorted (docs/design.md, "Written by hand")."""
    n = uniforms.size
    out = np.empty(k + 1, dtype=np.int32)
    j = 0
    for i in range(n):
        out[j] = i  # kept only when taken (branch-free)
        j += uniforms[i] * (n - i) < (k - j)
    return out[:k]
