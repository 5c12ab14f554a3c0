"""What the Dask estimators share: a fit on dask collections through the sharded engine
(`natgrad.boosting.sharded`), lazy predictions per partition and the local equivalent."""

from __future__ import annotations

from numbers import Real
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray
from sklearn.utils import check_random_state

from natgrad._typing import Array
from natgrad._validation import check_sample_weight
from natgrad.boosting.sharded import ShardedTrainer
from natgrad.distributions import Distribution

from ._cluster import place_shards

#: Seconds a round of the fit may take before the fit fails (see `_DaskBoosting._dask_fit`).
DEFAULT_TIMEOUT = 300.0

_FITTED = (
    "init_params_", "_template_", "_model_", "n_estimators_", "best_iteration_",
    "train_loss_", "validation_loss_", "categories_", "n_features_in_", "feature_names_in_",
    "_score_rule", "classes_",
)  # fmt: skip


class _DaskBoosting:
    """Mixin of a Dask estimator over its local estimator (``_local``, the next base class):
    the same hyper-parameters and fitted attributes, a fit on dask collections and lazy
    predictions.

    A subclass's ``fit`` passes its targets to `_dask_fit` in the form `_gather` reads.
    """

    _local: ClassVar[type]

    # The local estimator's, seen through the mixin (mypy).
    _validate_params: Any
    _family: Any
    _check_score: Any
    _check_fit_targets: Any
    _check_targets: Any
    _check_training_targets: Any
    _raw_params: Any
    _n_stages: Any
    get_params: Any
    init_params_: Array
    _template_: Distribution
    _score_rule: Any
    categories_: Any

    # ------------------------------------------------------------------ fitting
    def _dask_fit(
        self,
        X: Any,
        y: Any,
        sample_weight: Any,
        eval_set: tuple[Any, ...] | None,
        client: Any,
        timeout: float,
    ) -> Any:
        """Fit on distributed data (the public ``fit`` of each estimator documents it)."""
        from distributed import get_client

        self._validate_params()
        name = type(self).__name__
        if not isinstance(timeout, Real) or isinstance(timeout, bool) or not timeout > 0:
            raise ValueError(
                f"The 'timeout' argument of {name}.fit must be a float in the range (0, inf). "
                f"Got {timeout!r} instead."
            )
        client = get_client() if client is None else client
        X_d, names = _as_dask_matrix(X, "X", name)
        self.n_features_in_ = int(X_d.shape[1])
        if names is not None:
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.categories_ = None
        raw, y_parts, w_d, w_all = self._gather(X_d, y, sample_weight, "fit")
        self._before_family(raw)
        family, config = self._family()
        self._score_rule = self._check_score(family)
        y_all = self._check_fit_targets(raw, family, config, len(w_all))
        train = _partitions(X_d, self._target_parts(y_parts, y_all, X_d), w_d)
        # The shards drop the rows of weight zero, as the local fit does (`Shard`).
        w_all_full = w_all
        kept = None if np.all(w_all > 0) else np.flatnonzero(w_all > 0)
        if kept is not None:
            y_all, w_all = y_all[kept], w_all[kept]
        self._check_training_targets(y_all)
        val: list[Any] = []
        w_val_sum = None
        if eval_set is not None:
            val, w_val_sum = self._eval_partitions(eval_set, X_d, family, config, name)
        pool = place_shards(client, train, val, float(timeout))
        pool.row_order = _row_order(X_d.chunks[0], w_all_full > 0, pool.parts)
        trainer = ShardedTrainer(
            estimator=self,
            family=family,
            config=config,
            score=self._score_rule,
            rng=check_random_state(self.random_state),  # type: ignore[attr-defined]
        )

        def fetch_rows(rows: Any) -> Array:
            if kept is not None:
                rows = kept if rows is None else kept[rows]
            return np.asarray((X_d if rows is None else X_d[rows]).compute(), dtype=np.float64)

        state = trainer.fit(pool, fetch_rows, y_all, w_all, self.n_features_in_, w_val_sum)
        state.assign_to(self)
        self.n_workers_ = len(pool.actors)
        self.rounds_per_stage_ = pool.rounds / max(1, self.n_estimators_)
        return self

    def _eval_partitions(
        self, eval_set: Any, X_d: Any, family: Any, config: dict[str, Any], name: str
    ) -> tuple[list[Any], float]:
        """The validation partitions of ``eval_set`` (checked as ``fit``'s rows) and their
        total weight."""
        Xv, yv, wv = self._split_eval_set(eval_set, name)
        Xv_d, _ = _as_dask_matrix(Xv, "eval_set[0]", name)
        if Xv_d.shape[1] != X_d.shape[1]:
            raise ValueError(
                f"The 'eval_set' argument of {name}.fit must have {X_d.shape[1]} features "
                f"as X. Got {Xv_d.shape[1]} instead."
            )
        raw_v, yv_parts, wv_d, wv_all = self._gather(Xv_d, yv, wv, "eval_set")
        yv_all = self._check_val_targets(raw_v, family, config, len(wv_all))
        val = _partitions(Xv_d, self._target_parts(yv_parts, yv_all, Xv_d), wv_d)
        return val, float(wv_all.sum())

    def _split_eval_set(self, eval_set: Any, name: str) -> tuple[Any, Any, Any]:
        """``(X_val, y_val, sample_weight_val or None)`` of ``eval_set``."""
        if not isinstance(eval_set, tuple | list) or len(eval_set) not in (2, 3):
            raise ValueError(
                f"The 'eval_set' argument of {name}.fit must be a tuple (X_val, y_val) or "
                f"(X_val, y_val, sample_weight_val). Got {eval_set!r} instead."
            )
        return eval_set[0], eval_set[1], eval_set[2] if len(eval_set) == 3 else None

    def _gather(
        self, X_d: Any, y: Any, sample_weight: Any, what: str
    ) -> tuple[Any, Any, Any, Array]:
        """The targets and weights computed on the client, checked for non-finite values
        (naming the row and partition) and bad weights: ``(targets, their dask array
        aligned with X_d's partitions, the weights' dask array, the weights)``. Targets of
        one vector here; the survival estimator reads its (time, event) pair."""
        import dask

        name = type(self).__name__
        label = "y" if what == "fit" else "eval_set[1]"
        y_d = _aligned(y, label, name, X_d)
        w_d = self._weights(X_d, sample_weight)
        y_all, w_all = dask.compute(y_d, w_d)
        y_all = np.asarray(y_all)
        _check_finite(y_all, label, name, X_d.chunks[0])
        return y_all, y_d, w_d, check_sample_weight(w_all, len(y_all), f"{name}.fit")

    def _weights(self, X_d: Any, sample_weight: Any) -> Any:
        import dask.array as da

        if sample_weight is None:
            return da.ones(X_d.shape[0], chunks=(X_d.chunks[0],))
        return _aligned(sample_weight, "sample_weight", type(self).__name__, X_d)

    def _before_family(self, raw: Any) -> None:
        """What the family needs to know of the training targets (the classes)."""

    def _check_val_targets(
        self, raw: Any, family: type[Distribution], config: dict[str, Any], n: int
    ) -> Array:
        """The validation targets, validated as the local estimator's ``eval_set``'s."""
        y = self._check_targets(raw, family, config, name="y_val")
        return np.asarray(y, dtype=np.float64)

    def _target_parts(self, y_parts: Any, y_all: Array, X_d: Any) -> Any:
        """The checked targets as a dask array partitioned as ``X_d`` (from the client)."""
        import dask.array as da

        return da.from_array(y_all, chunks=(X_d.chunks[0], *y_all.shape[1:]))

    # ------------------------------------------------------------------ prediction
    def _map_blocks(self, X: Any, method: str, dtype: Any, columns: int | None) -> Any:
        """``to_local().<method>`` on each partition of ``X``: a dask array of shape
        (n_samples,) or (n_samples, columns)."""
        local = self.to_local()
        X_d, _ = _as_dask_matrix(X, "X", type(self).__name__)
        if columns is None:
            return X_d.map_blocks(_call_block, local, method, dtype=dtype, drop_axis=1)
        return X_d.map_blocks(
            _call_block, local, method, dtype=dtype, chunks=(X_d.chunks[0], (columns,))
        )

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

    def predict_dist(self, X: Any, n_stages: int | None = None) -> list[Any]:
        """The predicted distributions, lazily per partition: a list of `dask.delayed`
        objects, one per partition of ``X``, each computing that partition's natgrad
        `Distribution` (``dask.compute(*est.predict_dist(X))``)."""
        import dask

        theta = self.predict_params(X, n_stages)
        template = self._template_
        return [dask.delayed(template.with_params)(b) for b in theta.to_delayed().ravel()]

    def to_local(self) -> Any:
        """The fitted model as its local estimator (same parameters, trees and
        predictions), which `save` writes and `natgrad.load` reads anywhere."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "init_params_")
        local = self._local(**self.get_params())
        for attr in _FITTED:
            if hasattr(self, attr):
                setattr(local, attr, getattr(self, attr))
        return local

    def save(self, path: Any) -> Any:
        """Write the fitted model as its local equivalent (`to_local`), for `natgrad.load`."""
        return self.to_local().save(path)


def _partitions(X_d: Any, y_d: Any, w_d: Any) -> list[Any]:
    """The rows as delayed ``(X, y, w)`` partitions, in partition order."""
    import dask

    blocks = X_d.to_delayed().ravel()
    ys = y_d.to_delayed().ravel()
    ws = w_d.to_delayed().ravel()
    return [dask.delayed(tuple)([xb, yb, wb]) for xb, yb, wb in zip(blocks, ys, ws, strict=True)]


def _check_finite(y: Array, label: str, name: str, chunks: tuple[int, ...]) -> None:
    """A non-finite numeric target is rejected, naming its row and partition."""
    if y.dtype.kind not in "fc":
        return
    bad = np.flatnonzero(~np.isfinite(y).reshape(len(y), -1).all(axis=1))
    if bad.size:
        part = int(np.searchsorted(np.cumsum(chunks), bad[0], side="right"))
        raise ValueError(
            f"The {label!r} argument of {name}.fit must be finite. Got {bad.size} "
            f"non-finite value(s), e.g. {y[bad[0]]} at row {bad[0]} (partition {part})."
        )


def _call_block(block: Array, model: Any, method: str) -> Array:
    if block.shape[0] == 0:
        return np.asarray(getattr(model, method)(np.zeros((1, block.shape[1]))))[:0]
    return np.asarray(getattr(model, method)(block))


def _params_block(block: Array, model: Any, n_stages: int | None) -> Array:
    p = int(model.init_params_.shape[1])
    if block.shape[0] == 0:
        return np.zeros((0, p))
    return np.asarray(model._raw_params(block, n_stages))


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


def _aligned(v: Any, what: str, name: str, X_d: Any) -> Any:
    """The 1-D collection ``v`` as a dask array partitioned as the rows of ``X_d``."""
    import dask.array as da
    import dask.dataframe as dd

    n = int(X_d.shape[0])
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
    return v.rechunk((X_d.chunks[0],))


def _row_order(
    chunks: tuple[int, ...], kept: NDArray[np.bool_], parts: list[list[int]]
) -> list[NDArray[np.int64]]:
    """Each actor's rows in the concatenated kept rows (``kept``: the rows of nonzero
    weight), from the row ``chunks`` of X's partitions and each actor's partitions
    ``parts``: a worker's partitions need not be consecutive, and the row subsample is
    drawn over the concatenated rows."""
    offsets = np.concatenate([[0], np.cumsum(chunks)]).astype(np.int64)
    rank = np.cumsum(kept) - 1
    return [
        np.concatenate(
            [rank[offsets[k] : offsets[k + 1]][kept[offsets[k] : offsets[k + 1]]]
             for k in p] or [np.zeros(0, dtype=np.int64)]
        )
        for p in parts
    ]  # fmt: skip
