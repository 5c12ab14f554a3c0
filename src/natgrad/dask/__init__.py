"""Natural-gradient boosting on a Dask cluster (``pip install natgrad[dask]``).

`DaskNGBoostRegressor` takes dask arrays or DataFrames and fits, with one actor per worker
holding that worker's rows, the model `natgrad.boosting.NGBoostRegressor` fits on the
concatenated rows; ``to_local()`` returns that local estimator. See docs/dask.md for when it
pays and what may differ from a local fit.
"""

from natgrad.dask._regressor import DaskNGBoostRegressor

__all__ = ["DaskNGBoostRegressor"]
