"""``ngboost.distns.beta``: `Beta`.

NGBoost's per-distribution module, for code that imports from it; the classes live in
`natgrad.compat.ngboost.distns`.
"""

from __future__ import annotations

from natgrad.compat.ngboost.distns import Beta

__all__ = ["Beta"]
