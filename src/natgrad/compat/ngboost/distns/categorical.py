"""``ngboost.distns.categorical``: `Bernoulli`, `k_categorical`.

NGBoost's per-distribution module, for code that imports from it; the classes live in
`natgrad.compat.ngboost.distns`.
"""

from __future__ import annotations

from natgrad.compat.ngboost.distns import Bernoulli, k_categorical

__all__ = ["Bernoulli", "k_categorical"]
