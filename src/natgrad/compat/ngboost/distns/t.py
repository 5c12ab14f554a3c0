"""``ngboost.distns.t``: `T`, `TFixedDf`, `TFixedDfFixedVar`.

NGBoost's per-distribution module, for code that imports from it; the classes live in
`natgrad.compat.ngboost.distns`.
"""

from __future__ import annotations

from natgrad.compat.ngboost.distns import T, TFixedDf, TFixedDfFixedVar

__all__ = ["T", "TFixedDf", "TFixedDfFixedVar"]
