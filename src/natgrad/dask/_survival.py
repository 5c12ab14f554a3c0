"""`DaskNGBoostSurvival`: natural-gradient boosting of right-censored times on Dask."""

from __future__ import annotations

from typing import Any

import numpy as np

from natgrad._typing import Array
from natgrad._validation import check_sample_weight
from natgrad.boosting import NGBoostSurvival
from natgrad.distributions import Distribution

from ._base import DEFAULT_TIMEOUT, _aligned, _check_finite, _DaskBoosting

__all__ = ["DaskNGBoostSurvival"]


class DaskNGBoostSurvival(_DaskBoosting, NGBoostSurvival):  # type: ignore[misc]  # predict_dist: lazy
    """`NGBoostSurvival` trained on a Dask cluster, with the same trees.

    As `DaskNGBoostRegressor` (one actor per worker holding its rows, the client growing
    each tree from the summed histograms), for right-censored times: times and event flags
    are gathered once to the client (the censored marginal fit θ⁽⁰⁾ and the checks), and
    the line search of the censored log score takes one round per trial step
    (docs/dask.md).

    The parameters are `NGBoostSurvival`'s, with the settings `DaskNGBoostRegressor` runs.

    Attributes
    ----------
    rounds_per_stage_, n_workers_
        As in `DaskNGBoostRegressor`; the other fitted attributes are `NGBoostSurvival`'s.

    See Also
    --------
    natgrad.NGBoostSurvival : The same model on data in one process.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from distributed import Client, LocalCluster
    >>> from natgrad.dask import DaskNGBoostSurvival
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(1000, 2))
    >>> t = rng.lognormal(mean=1.0 + 0.5 * X[:, 0], sigma=0.5)   # event times
    >>> c = rng.lognormal(mean=1.5, sigma=0.5, size=1000)         # censoring times
    >>> time, event = np.minimum(t, c), t <= c
    >>> cluster = LocalCluster(n_workers=2, processes=False, threads_per_worker=1,
    ...                        dashboard_address=":0")
    >>> client = Client(cluster)
    >>> model = DaskNGBoostSurvival(n_estimators=10, random_state=0)
    >>> model = model.fit(da.from_array(X, chunks=(500, -1)), da.from_array(time, chunks=500),
    ...                   da.from_array(event, chunks=500), client=client)
    >>> model.predict(da.from_array(X[:4], chunks=(2, -1))).compute().shape
    (4,)
    >>> client.close()
    >>> cluster.close()
    """

    _local = NGBoostSurvival

    def fit(  # type: ignore[override]
        self,
        X: Any,
        y: Any,
        event: Any = None,
        sample_weight: Any = None,
        eval_set: tuple[Any, ...] | None = None,
        *,
        client: Any = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> DaskNGBoostSurvival:
        """Fit on distributed right-censored times.

        Parameters
        ----------
        X : dask array or dask DataFrame of shape (n_samples, n_features)
            Training data (NaN: missing), partitioned along rows.
        y : dask array or dask Series of shape (n_samples,)
            Event or censoring times, finite and > 0.
        event : dask array or dask Series of shape (n_samples,), optional
            1 (or True) where the event was observed, 0 where the row was censored; None:
            every row observed.
        sample_weight : dask array or dask Series of shape (n_samples,), optional
            Non-negative row weights.
        eval_set : tuple, optional
            ``(X_val, time_val)``, ``(X_val, time_val, event_val)`` or ``(X_val, time_val,
            event_val, sample_weight_val)`` as dask collections.
        client, timeout
            As in `DaskNGBoostRegressor.fit`.
        """
        return self._dask_fit(X, (y, event), sample_weight, eval_set, client, timeout)  # type: ignore[no-any-return]

    def _split_eval_set(self, eval_set: Any, name: str) -> tuple[Any, Any, Any]:
        if not isinstance(eval_set, tuple | list) or len(eval_set) not in (2, 3, 4):
            raise ValueError(
                f"The 'eval_set' argument of {name}.fit must be a tuple (X_val, time_val[, "
                f"event_val[, sample_weight_val]]). Got {eval_set!r} instead."
            )
        rest = [*eval_set[1:], None, None][:3]
        return eval_set[0], (rest[0], rest[1]), rest[2]

    def _gather(
        self, X_d: Any, y: Any, sample_weight: Any, what: str
    ) -> tuple[Any, Any, Any, Array]:
        import dask
        import dask.array as da

        time, event = y
        name = type(self).__name__
        labels = ("y", "event") if what == "fit" else ("eval_set[1]", "eval_set[2]")
        t_d = _aligned(time, labels[0], name, X_d).astype(np.float64)
        if event is None:
            e_d = da.ones(X_d.shape[0], chunks=(X_d.chunks[0],))
        else:
            e_d = _aligned(event, labels[1], name, X_d).astype(np.float64)
        w_d = self._weights(X_d, sample_weight)
        t, e, w = dask.compute(t_d, e_d, w_d)
        t, e = np.asarray(t), np.asarray(e)
        _check_finite(t, labels[0], name, X_d.chunks[0])
        _check_finite(e, labels[1], name, X_d.chunks[0])
        return (t, e), None, w_d, check_sample_weight(w, len(t), f"{name}.fit")

    def _check_val_targets(
        self, raw: Any, family: type[Distribution], config: dict[str, Any], n: int
    ) -> Array:
        return np.asarray(self._check_fit_targets(raw, family, config, n), dtype=np.float64)

    def predict(self, X: Any) -> Any:  # type: ignore[override]
        """The predicted median survival time of every row, lazily per partition: a dask
        array of shape (n_samples,)."""
        return self._map_blocks(X, "predict", np.float64, None)
