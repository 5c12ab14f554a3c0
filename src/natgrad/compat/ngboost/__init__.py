"""NGBoost's public API on natgrad's engine: change ``ngboost`` to ``natgrad.compat.ngboost``.

The package mirrors NGBoost's module layout::

    from natgrad.compat.ngboost import NGBRegressor, NGBClassifier, NGBSurvival
    from natgrad.compat.ngboost.distns import Normal, LogNormal, k_categorical, Distn
    from natgrad.compat.ngboost.scores import LogScore, CRPScore
    from natgrad.compat.ngboost.learners import default_tree_learner
    from natgrad.compat.ngboost.manifold import manifold
    from natgrad.compat.ngboost.helpers import Y_from_censored, load_ngboost_model
    from natgrad.compat.ngboost.distns.sympy_utils import make_sympy_log_score

``__version__`` is the NGBoost release whose public API this package follows. The
distribution and score names are also importable from the package itself, as earlier
versions of this module offered them. ``docs/migrating-from-ngboost.md`` lists what differs.
"""

from __future__ import annotations

from natgrad.compat.ngboost import distns, helpers, learners, manifold, scores
from natgrad.compat.ngboost._estimators import NGBClassifier, NGBRegressor, NGBSurvival
from natgrad.compat.ngboost.distns import (
    Bernoulli,
    Beta,
    BetaBernoulli,
    BetaBinomial,
    BetaBinomialEstN,
    Cauchy,
    Exponential,
    Gamma,
    HalfNormal,
    Laplace,
    LogitNormal,
    LogNormal,
    MultivariateNormal,
    Normal,
    NormalFixedMean,
    NormalFixedVar,
    Poisson,
    T,
    TFixedDf,
    TFixedDfFixedVar,
    Weibull,
    k_categorical,
)
from natgrad.compat.ngboost.helpers import load_ngboost_model
from natgrad.compat.ngboost.learners import default_linear_learner, default_tree_learner
from natgrad.compat.ngboost.scores import CRPS, MLE, CRPScore, LogScore

#: The NGBoost release whose public API this package follows.
__version__ = "0.6.0"

#: NGBoost's name for the base estimator class.
NGBoost = NGBRegressor

__all__ = [
    "CRPS",
    "MLE",
    "Bernoulli",
    "Beta",
    "BetaBernoulli",
    "BetaBinomial",
    "BetaBinomialEstN",
    "CRPScore",
    "Cauchy",
    "Exponential",
    "Gamma",
    "HalfNormal",
    "Laplace",
    "LogNormal",
    "LogScore",
    "LogitNormal",
    "MultivariateNormal",
    "NGBClassifier",
    "NGBRegressor",
    "NGBSurvival",
    "NGBoost",
    "Normal",
    "NormalFixedMean",
    "NormalFixedVar",
    "Poisson",
    "T",
    "TFixedDf",
    "TFixedDfFixedVar",
    "Weibull",
    "default_linear_learner",
    "default_tree_learner",
    "distns",
    "helpers",
    "k_categorical",
    "learners",
    "load_ngboost_model",
    "manifold",
    "scores",
]
