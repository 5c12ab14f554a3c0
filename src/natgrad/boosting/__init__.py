"""Natural-gradient boosting with a native histogram tree engine with vector leaves."""

from natgrad.boosting._classifier import NGBoostClassifier
from natgrad.boosting._hist.shap import ShapValues
from natgrad.boosting._regressor import NGBoostRegressor
from natgrad.boosting._survival import NGBoostSurvival

__all__ = ["NGBoostClassifier", "NGBoostRegressor", "NGBoostSurvival", "ShapValues"]
