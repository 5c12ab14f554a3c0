"""``ngboost.ngboost``: NGBoost's base estimator class, for code that imports it from there.

NGBoost's ``NGBoost`` is the estimator that `NGBRegressor` extends with scikit-learn's
regressor interface; here the two are one class (`natgrad.compat.ngboost.NGBoost`).
"""

from __future__ import annotations

from natgrad.compat.ngboost import NGBoost

__all__ = ["NGBoost"]
