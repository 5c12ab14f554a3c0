"""Scoring rules: the loss a model minimises and the metric of its natural gradient.

`LogScore` (the negative log-likelihood; its metric is the Fisher information), `CRPScore`
(the continuous ranked probability score) and `CensoredLogScore` (the log score of
right-censored targets, for `natgrad.NGBoostSurvival`). `get_score` turns a name of `SCORES`
into a rule.
"""

from natgrad.scores._base import LogScore, Score
from natgrad.scores._censored import CensoredLogScore
from natgrad.scores._crps import CRPScore
from natgrad.scores._registry import SCORES, get_score

__all__ = [
    "SCORES",
    "CRPScore",
    "CensoredLogScore",
    "LogScore",
    "Score",
    "get_score",
]
