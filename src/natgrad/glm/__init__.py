"""Generalised linear models by Fisher scoring: the natural gradient with step 1.

`fit` fits a GLM of any family in `natgrad.glm.families` and returns `GLMResults`
(coefficients, standard errors from the expected or observed information, log-likelihood,
deviance, predictions as natgrad distribution batches, a summary table). `GLMRegressor` is the
same model as a scikit-learn estimator.
"""

from __future__ import annotations

from natgrad.glm import families
from natgrad.glm._estimator import GLMRegressor
from natgrad.glm._fit import ConvergenceWarning, fit
from natgrad.glm._results import GLMResults
from natgrad.glm._separation import PerfectSeparationError

__all__ = [
    "ConvergenceWarning",
    "GLMRegressor",
    "GLMResults",
    "PerfectSeparationError",
    "families",
    "fit",
]
