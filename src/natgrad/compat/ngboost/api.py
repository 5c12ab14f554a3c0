"""``ngboost.api``: the estimators, for code that imports them from NGBoost's module."""

from __future__ import annotations

from natgrad.compat.ngboost._estimators import NGBClassifier, NGBRegressor, NGBSurvival

__all__ = ["NGBClassifier", "NGBRegressor", "NGBSurvival"]
