"""`DaskNGBoostRegressor`: natural-gradient boosting on a Dask cluster."""

from __future__ import annotations

from typing import Any

import numpy as np

from natgrad._typing import Array
from natgrad.boosting import NGBoostRegressor

from ._base import DEFAULT_TIMEOUT, _DaskBoosting

__all__ = ["DaskNGBoostRegressor"]


class DaskNGBoostRegressor(_DaskBoosting, NGBoostRegressor):  # type: ignore[misc]  # predict_dist: lazy
    """`NGBoostRegressor` trained on a Dask cluster, with the same trees.

    Every Dask worker holding training rows gets one actor that keeps its rows (binned with
    bin edges computed once, as the local fit computes them) and runs the engine's kernels
    on them; the client grows each tree level by level from the workers' summed histograms
    and makes every decision (splits, leaf values, line search, early stopping) once. The
    fitted model is the one `NGBoostRegressor` fits on the concatenated rows, to
    floating-point summation order (docs/dask.md).

    The parameters are `NGBoostRegressor`'s. The distributed engine runs the default
    ``leaf_rule="fisher"`` with ``max_depth`` trees (``max_leaves=None``), without
    ``base_learner``, ``monotonic_cst`` or ``validation_fraction`` (pass a distributed
    ``eval_set``); other settings raise a ValueError naming the parameter. The fitted
    attributes are those of `NGBoostRegressor`, and two of its own:

    Attributes
    ----------
    rounds_per_stage_ : float
        Client-to-workers round trips per boosting stage of the last fit.
    n_workers_ : int
        Workers (actors) that held training rows.

    See Also
    --------
    natgrad.NGBoostRegressor : The same model on data in one process.

    Examples
    --------
    A cluster of two workers in this process; ``to_local`` gives the fitted
    `NGBoostRegressor`, which predicts and saves like any other.

    >>> import numpy as np
    >>> import dask.array as da
    >>> from distributed import Client, LocalCluster
    >>> from natgrad.dask import DaskNGBoostRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 3))
    >>> y = X[:, 0] + rng.normal(scale=np.exp(0.5 * X[:, 1]))
    >>> cluster = LocalCluster(n_workers=2, processes=False, threads_per_worker=1,
    ...                        dashboard_address=":0")
    >>> client = Client(cluster)
    >>> model = DaskNGBoostRegressor(n_estimators=20, learning_rate=0.1, subsample=1.0,
    ...                              random_state=0)
    >>> model = model.fit(da.from_array(X, chunks=(500, -1)), da.from_array(y, chunks=500),
    ...                   client=client)
    >>> model.n_workers_, model.n_estimators_
    (2, 20)
    >>> model.predict(da.from_array(X[:4], chunks=(2, -1))).compute().shape
    (4,)
    >>> model.to_local().predict_dist(X[:3]).params.shape     # (loc, log scale) per row
    (3, 2)
    >>> client.close()
    >>> cluster.close()
    """

    _local = NGBoostRegressor

    def fit(  # type: ignore[override]
        self,
        X: Any,
        y: Any,
        sample_weight: Any = None,
        eval_set: tuple[Any, ...] | None = None,
        *,
        client: Any = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> DaskNGBoostRegressor:
        """Fit on distributed data.

        Parameters
        ----------
        X : dask array or dask DataFrame of shape (n_samples, n_features)
            Training data (NaN: missing), partitioned along rows.
        y : dask array or dask Series of shape (n_samples,)
            Targets, partitioned as ``X`` (rechunked to its partitions otherwise).
        sample_weight : dask array or dask Series of shape (n_samples,), optional
            Non-negative row weights.
        eval_set : tuple, optional
            ``(X_val, y_val)`` or ``(X_val, y_val, sample_weight_val)`` as dask collections:
            a validation set whose loss chooses the stage and drives early stopping.
        client : distributed.Client, optional
            The cluster's client; by default the current one (``distributed.get_client``).
        timeout : float, default=300
            Seconds any round of the fit may take; a worker that dies or hangs makes the fit
            fail with a RuntimeError after at most this long.
        """
        return self._dask_fit(X, y, sample_weight, eval_set, client, timeout)  # type: ignore[no-any-return]

    def _target_parts(self, y_parts: Any, y_all: Array, X_d: Any) -> Any:
        # The checks keep the values: the workers read their own partitions of y.
        return y_parts.astype(np.float64)

    def predict(self, X: Any) -> Any:  # type: ignore[override]
        """Point predictions (the mean, as `NGBoostRegressor.predict`), lazily per
        partition: a dask array of shape (n_samples,)."""
        return self._map_blocks(X, "predict", np.float64, None)
