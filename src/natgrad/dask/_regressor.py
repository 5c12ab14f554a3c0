"""`DaskNGBoostRegressor`: natural-gradient boosting on a Dask cluster."""

from __future__ import annotations

import logging
from numbers import Real
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from natgrad._typing import Array
from natgrad.boosting import NGBoostRegressor
from natgrad.boosting.sharded import ShardedTrainer
from natgrad.distributions import Distribution

from ._cluster import place_shards

__all__ = ["DaskNGBoostRegressor"]

logger = logging.getLogger("natgrad.dask")

#: Seconds a round of the fit may take before the fit fails (see `DaskNGBoostRegressor.fit`).
DEFAULT_TIMEOUT = 300.0


class DaskNGBoostRegressor(NGBoostRegressor):
    """`NGBoostRegressor` trained on a Dask cluster, with the same trees.

    Every Dask worker holding training rows gets one actor that keeps its rows (binned with
    bin edges computed once, as the local fit computes them) and runs the engine's compiled
    kernels on them; the client grows each tree level by level from the workers' summed
    histograms and makes every decision (splits, leaf values, line search, early stopping)
    once. The fitted model is the one `NGBoostRegressor` fits on the concatenated rows, to
    floating-point summation order (docs/dask.md).

    The parameters are `NGBoostRegressor`'s. The distributed engine runs the default
    ``leaf_rule="fisher"`` with ``max_depth`` trees (``max_leaves=None``), without
    ``base_learner``, ``monotonic_cst`` or ``validation_fraction`` (pass a distributed
    ``eval_set``), for the families with compiled stage kernels (``"normal"``,
    ``"lognormal"``, ``"exponential"``, ``"poisson"``) and the log score; other settings
    raise a ValueError naming the parameter. The fitted attributes are those of
    `NGBoostRegressor`, and two of its own:

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
        from distributed import get_client

        self._validate_params()
        name = type(self).__name__
        if not isinstance(timeout, Real) or isinstance(timeout, bool) or not timeout > 0:
            raise ValueError(
                f"The 'timeout' argument of {name}.fit must be a float in the range (0, inf). "
                f"Got {timeout!r} instead."
            )
        client = get_client() if client is None else client
        family, config = self._family()
        self._score_rule = self._check_score(family)
        X_d, names = _as_dask_matrix(X, "X", name)
        self.n_features_in_ = int(X_d.shape[1])
        if names is not None:
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.categories_ = None
        train, y_all, w_all = self._partitions(X_d, y, sample_weight, family, config, "fit")
        val: list[Any] = []
        w_val_sum = None
        if eval_set is not None:
            if not isinstance(eval_set, tuple | list) or len(eval_set) not in (2, 3):
                raise ValueError(
                    f"The 'eval_set' argument of {name}.fit must be a tuple (X_val, y_val) or "
                    f"(X_val, y_val, sample_weight_val). Got {eval_set!r} instead."
                )
            Xv, _ = _as_dask_matrix(eval_set[0], "eval_set[0]", name)
            if Xv.shape[1] != X_d.shape[1]:
                raise ValueError(
                    f"The 'eval_set' argument of {name}.fit must have {X_d.shape[1]} features "
                    f"as X. Got {Xv.shape[1]} instead."
                )
            wv = eval_set[2] if len(eval_set) == 3 else None
            val, _, wv_all = self._partitions(Xv, eval_set[1], wv, family, config, "eval_set")
            w_val_sum = float(wv_all.sum())
        pool = place_shards(client, train, val, float(timeout))
        trainer = ShardedTrainer(
            estimator=self,
            family=family,
            config=config,
            score=self._score_rule,
            rng=check_random_state(self.random_state),
        )

        def fetch_rows(rows: Any) -> Array:
            return np.asarray((X_d if rows is None else X_d[rows]).compute(), dtype=np.float64)

        state = trainer.fit(pool, fetch_rows, y_all, w_all, self.n_features_in_, w_val_sum)
        self.init_params_ = state.init_params
        self._template_ = state.template
        self._model_ = state.model
        self.n_estimators_ = state.n_estimators
        self.best_iteration_ = state.best_iteration
        self.train_loss_ = state.train_loss
        self.validation_loss_ = state.validation_loss
        self.n_workers_ = len(pool.actors)
        self.rounds_per_stage_ = pool.rounds / max(1, self.n_estimators_)
        return self

    def _partitions(
        self,
        X: Any,
        y: Any,
        sample_weight: Any,
        family: type[Distribution],
        config: dict[str, Any],
        what: str,
    ) -> tuple[list[Any], Array, Array]:
        """The rows as delayed (X, y, w) partitions, and all targets and weights (checked
        on the client: a NaN target or a bad weight is rejected before any work)."""
        import dask
        import dask.array as da

        name = type(self).__name__
        chunks = X.chunks[0]
        n = int(sum(chunks))
        y_d = _as_dask_vector(y, "y" if what == "fit" else "eval_set[1]", name, n).rechunk(
            (chunks,)
        )
        if sample_weight is None:
            w_d = da.ones(n, chunks=(chunks,))
        else:
            w_d = _as_dask_vector(sample_weight, "sample_weight", name, n).rechunk((chunks,))
        y_all, w_all = dask.compute(y_d, w_d)
        y_all = np.asarray(y_all, dtype=np.float64)
        w_all = np.asarray(w_all, dtype=np.float64)
        label = "y" if what == "fit" else "eval_set[1]"
        bad = np.flatnonzero(~np.isfinite(y_all))
        if bad.size:
            part = int(np.searchsorted(np.cumsum(chunks), bad[0], side="right"))
            raise ValueError(
                f"The {label!r} argument of {name}.fit must be finite. Got {bad.size} "
                f"non-finite value(s), e.g. {y_all[bad[0]]} at row {bad[0]} (partition {part})."
            )
        y_all = self._check_fit_targets(y_all, family, config, n)
        if not (np.isfinite(w_all).all() and (w_all >= 0).all() and w_all.sum() > 0):
            raise ValueError(
                f"The 'sample_weight' argument of {name}.fit must hold finite non-negative "
                "weights with a positive sum. Got other values."
            )
        blocks = X.to_delayed().ravel()
        ys, ws = y_d.to_delayed().ravel(), w_d.to_delayed().ravel()
        parts = [
            dask.delayed(tuple)([xb, yb, wb]) for xb, yb, wb in zip(blocks, ys, ws, strict=True)
        ]
        return parts, y_all, w_all

    # ------------------------------------------------------------------ prediction
    def predict(self, X: Any) -> Any:  # type: ignore[override]
        """Point predictions (the mean, as `NGBoostRegressor.predict`), lazily per
        partition: a dask array of shape (n_samples,)."""
        local = self.to_local()
        X_d, _ = _as_dask_matrix(X, "X", type(self).__name__)
        return X_d.map_blocks(_predict_block, local, dtype=np.float64, drop_axis=1)

    def predict_params(self, X: Any, n_stages: int | None = None) -> Any:
        """The predicted distributions' parameters (the family's unconstrained θ), lazily
        per partition: a dask array of shape (n_samples, n_params)."""
        local = self.to_local()
        local._n_stages(n_stages)  # checked here, not in every partition
        X_d, _ = _as_dask_matrix(X, "X", type(self).__name__)
        p = int(self.init_params_.shape[1])
        return X_d.map_blocks(
            _params_block, local, n_stages, dtype=np.float64, chunks=(X_d.chunks[0], (p,))
        )

    def predict_dist(self, X: Any, n_stages: int | None = None) -> list[Any]:  # type: ignore[override]
        """The predicted distributions, lazily per partition: a list of `dask.delayed`
        objects, one per partition of ``X``, each computing that partition's natgrad
        `Distribution` (``dask.compute(*est.predict_dist(X))``)."""
        import dask

        theta = self.predict_params(X, n_stages)
        template = self._template_
        return [dask.delayed(template.with_params)(b) for b in theta.to_delayed().ravel()]

    def to_local(self) -> NGBoostRegressor:
        """The fitted model as a local `NGBoostRegressor` (same parameters, trees and
        predictions), which `save` writes and `natgrad.load` reads anywhere."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "init_params_")
        local = NGBoostRegressor(**self.get_params())
        for attr in (
            "init_params_", "_template_", "_model_", "n_estimators_", "best_iteration_",
            "train_loss_", "validation_loss_", "categories_", "n_features_in_",
            "feature_names_in_", "_score_rule",
        ):  # fmt: skip
            if hasattr(self, attr):
                setattr(local, attr, getattr(self, attr))
        return local

    def save(self, path: Any) -> Any:
        """Write the fitted model as its local equivalent (`to_local`), for `natgrad.load`."""
        return self.to_local().save(path)


def _predict_block(block: Array, model: NGBoostRegressor) -> Array:
    if block.shape[0] == 0:
        return np.zeros(0)
    return np.asarray(model.predict(block), dtype=np.float64)


def _params_block(block: Array, model: NGBoostRegressor, n_stages: int | None) -> Array:
    p = int(model.init_params_.shape[1])
    if block.shape[0] == 0:
        return np.zeros((0, p))
    return model._raw_params(block, n_stages)


def _as_dask_matrix(X: Any, what: str, name: str) -> tuple[Any, Any]:
    """``X`` as a 2-D float dask array with one column chunk, and its column names (a
    DataFrame's) or None."""
    import dask.array as da
    import dask.dataframe as dd

    names = None
    if isinstance(X, dd.DataFrame):
        if any(str(t) == "category" for t in X.dtypes):
            raise ValueError(
                f"The {what!r} argument of {name} must have numeric columns: the distributed "
                "engine does not split categorical features. Got a 'category' column."
            )
        names = np.asarray([str(c) for c in X.columns], dtype=object)
        X = X.to_dask_array(lengths=True)
    elif isinstance(X, np.ndarray):
        X = da.from_array(X, chunks=(max(1, X.shape[0]), -1))
    if not isinstance(X, da.Array) or X.ndim != 2:
        raise TypeError(
            f"The {what!r} argument of {name} must be a 2-D dask array or a dask DataFrame. "
            f"Got {type(X).__name__} instead."
        )
    if any(np.isnan(c) for c in X.chunks[0]):
        X = X.compute_chunk_sizes()
    return X.astype(np.float64).rechunk({1: -1}), names


def _as_dask_vector(v: Any, what: str, name: str, n: int) -> Any:
    import dask.array as da
    import dask.dataframe as dd

    if isinstance(v, dd.Series | dd.DataFrame):
        v = v.to_dask_array(lengths=True)
    elif isinstance(v, np.ndarray):
        v = da.from_array(v, chunks=-1)
    if not isinstance(v, da.Array) or v.ndim != 1 or v.shape[0] != n:
        raise ValueError(
            f"The {what!r} argument of {name}.fit must be a 1-D dask array or Series of "
            f"{n} values (one per row of X). Got {type(v).__name__} of shape "
            f"{getattr(v, 'shape', None)} instead."
        )
    return v
