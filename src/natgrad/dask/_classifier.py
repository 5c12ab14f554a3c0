"""`DaskNGBoostClassifier`: natural-gradient boosting of class probabilities on Dask."""

from __future__ import annotations

from typing import Any

import numpy as np

from natgrad.boosting import NGBoostClassifier

from ._base import DEFAULT_TIMEOUT, _DaskBoosting

__all__ = ["DaskNGBoostClassifier"]


class DaskNGBoostClassifier(_DaskBoosting, NGBoostClassifier):  # type: ignore[misc]  # predict_dist: lazy
    """`NGBoostClassifier` trained on a Dask cluster, with the same trees.

    As `DaskNGBoostRegressor` (one actor per worker holding its rows, the client growing
    each tree from the summed histograms), for class labels: the labels are gathered once
    to the client (``classes_``, their codes), and the line search, without closed-form
    per-leaf sums for the Bernoulli and categorical families, takes one round per trial
    step (docs/dask.md).

    The parameters are `NGBoostClassifier`'s, with the settings `DaskNGBoostRegressor`
    runs.

    Attributes
    ----------
    rounds_per_stage_, n_workers_
        As in `DaskNGBoostRegressor`; the other fitted attributes are `NGBoostClassifier`'s.

    See Also
    --------
    natgrad.NGBoostClassifier : The same model on data in one process.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from distributed import Client, LocalCluster
    >>> from natgrad.dask import DaskNGBoostClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(1000, 3))
    >>> y = np.where(X[:, 0] + rng.normal(size=1000) > 0, "yes", "no")
    >>> cluster = LocalCluster(n_workers=2, processes=False, threads_per_worker=1,
    ...                        dashboard_address=":0")
    >>> client = Client(cluster)
    >>> model = DaskNGBoostClassifier(n_estimators=10, random_state=0)
    >>> model = model.fit(da.from_array(X, chunks=(500, -1)), da.from_array(y, chunks=500),
    ...                   client=client)
    >>> model.classes_.tolist()
    ['no', 'yes']
    >>> model.predict_proba(da.from_array(X[:4], chunks=(2, -1))).compute().shape
    (4, 2)
    >>> client.close()
    >>> cluster.close()
    """

    _local = NGBoostClassifier

    def fit(  # type: ignore[override]
        self,
        X: Any,
        y: Any,
        sample_weight: Any = None,
        eval_set: tuple[Any, ...] | None = None,
        *,
        client: Any = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> DaskNGBoostClassifier:
        """Fit on distributed data; ``y`` holds class labels of any type, partitioned as
        ``X`` (see `DaskNGBoostRegressor.fit` for the other arguments)."""
        return self._dask_fit(X, y, sample_weight, eval_set, client, timeout)  # type: ignore[no-any-return]

    def _before_family(self, raw: Any) -> None:
        self._check_targets(raw, None, {})  # the classes, as the local fit finds them

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities, lazily per partition: a dask array of shape
        (n_samples, n_classes), columns in ``classes_`` order."""
        return self._map_blocks(X, "predict_proba", np.float64, len(self.classes_))

    def predict(self, X: Any) -> Any:
        """The most probable class of every row, lazily per partition: a dask array of
        shape (n_samples,)."""
        return self._map_blocks(X, "predict", self.classes_.dtype, None)
