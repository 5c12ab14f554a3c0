"""Natural-gradient boosting with a native histogram tree engine with vector leaves."""

from natgrad._compile_guard import install as _hold_interrupts_while_compiling
from natgrad.boosting._classifier import NGBoostClassifier
from natgrad.boosting._hist.shap import ShapValues
from natgrad.boosting._regressor import NGBoostRegressor
from natgrad.boosting._survival import NGBoostSurvival

__all__ = ["NGBoostClassifier", "NGBoostRegressor", "NGBoostSurvival", "ShapValues"]

# Ctrl-C during a kernel's compilation is held until it ends (natgrad._compile_guard).
_hold_interrupts_while_compiling()
