"""natgrad: the natural gradient made practical.

Distributions with exact Fisher geometry (`natgrad.distributions`), natural-gradient and
classical optimizers (`natgrad.optim`), fitting (`fit_distribution`) and natural-gradient
boosting (`NGBoostRegressor`). Heavy modules (numba, scikit-learn) load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from natgrad import _moved
from natgrad._numba_cache import configure as _configure_numba_cache

__version__ = "0.1.0"

# Before any kernel module imports numba: the compiled kernels' cache folder, keyed by the
# version and the sources (natgrad._numba_cache).
_configure_numba_cache(__version__)
_moved.install()  # old module paths, for pickles written before the restructure

_LAZY = {
    "distributions": ("natgrad.distributions", None),
    "optim": ("natgrad.optim", None),
    "nn": ("natgrad.nn", None),
    "rl": ("natgrad.rl", None),
    "scores": ("natgrad.scores", None),
    "testing": ("natgrad.testing", None),
    "datasets": ("natgrad.datasets", None),
    "metrics": ("natgrad.metrics", None),
    "io": ("natgrad.io", None),
    "load": ("natgrad.io", "load"),
    "report": ("natgrad.report", None),
    "natural_gradient": ("natgrad._natural", "natural_gradient"),
    "kl_step_size": ("natgrad._natural", "kl_step_size"),
    "fit_distribution": ("natgrad.fit", "fit_distribution"),
    "FitResult": ("natgrad.fit", "FitResult"),
    "compare": ("natgrad._compare", "compare"),
    "NGBoostRegressor": ("natgrad.boosting", "NGBoostRegressor"),
    "NGBoostClassifier": ("natgrad.boosting", "NGBoostClassifier"),
    "NGBoostSurvival": ("natgrad.boosting", "NGBoostSurvival"),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        mod = importlib.import_module(module)
        return mod if attr is None else getattr(mod, attr)
    raise AttributeError(f"module 'natgrad' has no attribute {name!r}")
