"""Evaluation metrics of predictive distributions.

A model predicts a batch of n distributions P₁, …, Pₙ (`natgrad.distributions`) for n observed
targets y₁, …, yₙ. The metrics here judge them from every side a user cares about:

* the log score (``nll``) and the continuous ranked probability score (``crps``), both proper
  scoring rules (lower is better);
* the accuracy of the point prediction (``rmse``, ``mae``);
* calibration: the share of targets inside central intervals (``coverage_50``, ``coverage_80``,
  ``coverage_95``) and a calibration error computed from the probability integral transform
  (PIT, `pit`).

`evaluate` computes them all for regression, `evaluate_classification` and
`evaluate_survival` for class probabilities and right-censored times; `format_table` lays
them out for a terminal. The scorers (`neg_nll_scorer`, `neg_crps_scorer`,
`coverage_scorer`, `neg_coverage_error_scorer`, `neg_interval_width_scorer`) put the
regression metrics into scikit-learn's ``scoring=``, through pipelines.
"""

from natgrad.metrics._classification import (
    CLASSIFICATION_DESCRIPTIONS,
    RELIABILITY_BINS,
    evaluate_classification,
    reliability_curve,
)
from natgrad.metrics._format import format_table, format_value
from natgrad.metrics._regression import (
    CALIBRATION_LEVELS,
    COVERAGE_LEVELS,
    REGRESSION_DESCRIPTIONS,
    calibration_curve,
    coverage,
    crps,
    evaluate,
    pit,
    point_prediction,
)
from natgrad.metrics._scorers import (
    DistributionScorer,
    coverage_scorer,
    neg_coverage_error_scorer,
    neg_crps_scorer,
    neg_interval_width_scorer,
    neg_nll_scorer,
)
from natgrad.metrics._survival import (
    SURVIVAL_DESCRIPTIONS,
    concordance_index,
    evaluate_survival,
    kaplan_meier,
)

__all__ = [
    "CALIBRATION_LEVELS",
    "CLASSIFICATION_DESCRIPTIONS",
    "RELIABILITY_BINS",
    "REGRESSION_DESCRIPTIONS",
    "SURVIVAL_DESCRIPTIONS",
    "COVERAGE_LEVELS",
    "DistributionScorer",
    "calibration_curve",
    "concordance_index",
    "coverage_scorer",
    "coverage",
    "crps",
    "evaluate",
    "evaluate_classification",
    "evaluate_survival",
    "kaplan_meier",
    "neg_coverage_error_scorer",
    "neg_crps_scorer",
    "neg_interval_width_scorer",
    "neg_nll_scorer",
    "reliability_curve",
    "format_table",
    "format_value",
    "pit",
    "point_prediction",
]
