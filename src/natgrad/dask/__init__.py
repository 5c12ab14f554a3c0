"""Natural-gradient boosting on a Dask cluster (``pip install natgrad[dask]``).

`DaskNGBoostRegressor`, `DaskNGBoostClassifier` and `DaskNGBoostSurvival` take dask arrays
or DataFrames and fit, with one actor per worker holding that worker's rows, the model their
local estimators (`natgrad.boosting`) fit on the concatenated rows; ``to_local()`` returns
that local estimator. See docs/dask.md for when it pays and what may differ from a local
fit.
"""

from natgrad.dask._classifier import DaskNGBoostClassifier
from natgrad.dask._regressor import DaskNGBoostRegressor
from natgrad.dask._survival import DaskNGBoostSurvival

__all__ = ["DaskNGBoostClassifier", "DaskNGBoostRegressor", "DaskNGBoostSurvival"]
