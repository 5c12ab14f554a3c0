"""Fitted boosting models: the stages a trainer grows and how they predict.

Two kinds share one small interface (``start``, ``fit_stage``, ``fit_stage_leaves``,
``commit``, ``last_stage_validation``, ``finish``, ``predict``, ``staged_predict``,
``feature_importances``):

* `NativeModel`: one histogram tree with vector leaves per stage (the default, compiled);
* `ExternalModel`: any scikit-learn regressor (or one per parameter), cloned per parameter
  per stage, fitted to per-row natural gradients (NGBoost's general path).

A model stores each stage's output already multiplied by its signed step (−η ρ), so the
predicted parameters are θ⁽⁰⁾ + Σ stages.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import clone
from sklearn.utils.validation import has_fit_parameter

from natgrad._typing import Array
from natgrad.boosting._hist.binning import BinMapper
from natgrad.boosting._hist.common import Tree
from natgrad.boosting._hist.grow_checks import GrowPlan, _check_rows, make_plan
from natgrad.boosting._hist.grower import grow_planned, grow_tree
from natgrad.boosting._hist.predictor import Ensemble
from natgrad.boosting._hist.split_diagonal import diagonal_layout

_SEED_MAX = np.iinfo(np.int32).max


class NativeModel:
    """Stages made of native histogram trees with vector leaves, in one flat `Ensemble`.

    During training it holds the binned training (and validation) data; `finish` drops
    them so that a fitted model keeps only the bin edges and the trees.
    """

    def __init__(
        self,
        n_params: int,
        *,
        max_bins: int,
        max_depth: int | None,
        max_leaves: int | None,
        min_samples_leaf: int,
        l2_regularization: float,
        random_state: int,
        leaf_prior: float = 0.0,
        n_categories: np.ndarray | None = None,
        monotonic_cst: np.ndarray | None = None,
    ) -> None:
        self.n_params = n_params
        self.grow_params: dict[str, Any] = {
            "max_depth": max_depth,
            "max_leaves": max_leaves,
            "min_samples_leaf": min_samples_leaf,
            "l2_regularization": l2_regularization,
            "leaf_prior": leaf_prior,
            # monotonic_cst (n_params, d) constrains θ; a stage adds scale * tree with
            # scale = -ηρ <= 0 (`commit`), so the tree's values carry the opposite signs.
            "monotonic_cst": None if monotonic_cst is None else -np.asarray(monotonic_cst),
        }
        # n_categories: categories per feature (0: numeric), `_categorical.n_categories`.
        self.mapper = BinMapper(
            max_bins=max_bins, random_state=random_state, n_categories=n_categories
        )
        self._pending: Tree | None = None
        self._plan: GrowPlan | None = None
        self._plan_key: tuple | None = None

    @property
    def n_stages(self) -> int:
        return int(self.ensemble.n_trees)

    def start(self, X: Array, X_val: Array | None) -> None:
        self._binned = self.mapper.fit_transform(X)
        self._binned_val = None if X_val is None else self.mapper.transform(X_val)
        self.ensemble = Ensemble(
            self.n_params, X.shape[1], missing_values_bin_idx=self.mapper.missing_values_bin_idx_
        )
        self._bins = self._bin_settings()

    def _bin_settings(self) -> dict[str, Any]:
        """The fitted bins as the grower takes them."""
        return {
            "n_bins_non_missing": self.mapper.n_bins_non_missing_,
            "missing_values_bin_idx": self.mapper.missing_values_bin_idx_,
            "bin_thresholds": self.mapper.bin_thresholds_,
            "is_categorical": (
                self.mapper.is_categorical_ if self.mapper.is_categorical_.any() else None
            ),
        }

    def resumed(
        self, X: Array, X_val: Array | None, n_stages: int, rng: np.random.RandomState
    ) -> NativeModel:
        """A copy of this fitted model cut to its first ``n_stages`` stages, ready to grow
        more on ``X`` (and to follow ``X_val``): the rows are binned with this model's bins,
        and this model is left as it is. (``rng``: the continuation's random state; the
        native trees draw nothing per stage.)"""
        out = copy.copy(self)
        out.ensemble = self.ensemble.head(n_stages)
        out._binned = self.mapper.transform(X)
        out._binned_val = None if X_val is None else self.mapper.transform(X_val)
        out._bins = self._bin_settings()
        out._pending, out._plan, out._plan_key = None, None, None
        return out

    def fit_stage(
        self,
        target: Array,
        metric: Array | None,
        sample_weight: Array | None,
        rows: Array | None,
        features: Array | None,
    ) -> Array:
        """Grow one tree; return its (unscaled) output for every training row, (n, p).

        ``metric`` None: least squares on ``target`` weighted by ``sample_weight`` (None for
        unit weights). Otherwise ``target`` holds wᵢgᵢ and ``metric`` wᵢFᵢ (weights already
        applied, ``sample_weight`` None), and the leaves solve (ΣwF + λI)δ = Σwg.
        """
        values, index = self.fit_stage_leaves(target, metric, sample_weight, rows, features)
        return np.take(values, index, axis=0)

    def fit_stage_leaves(
        self,
        target: Array | None,
        metric: Array | None,
        sample_weight: Array | None,
        rows: Array | None,
        features: Array | None,
        metric_diagonal: Array | None = None,
        channels: Array | None = None,
    ) -> tuple[Array, NDArray[np.int32]]:
        """As `fit_stage`, with the output as (leaf values (n_leaves, p), leaf of each row
        (n,) int32): the stage's output for row i is ``values[index[i]]``.
        ``metric_diagonal`` and ``channels``: `grow_tree`'s, from the stage kernels (with
        ``channels``, ``target``, ``metric`` and ``sample_weight`` are None)."""
        if channels is not None or (metric is None and sample_weight is None):
            # The trainer's common layouts (the kernels' Fisher channels; unweighted least
            # squares on the targets themselves): the per-fit settings are validated once.
            assert channels is not None or target is not None
            vals = channels if channels is not None else np.ascontiguousarray(target, np.float64)
            assert vals.ndim == 2  # the trainer's (n, p) buffers
            p = vals.shape[1] if channels is None else self.n_params
            key = (p, channels is not None, None if metric_diagonal is None else
                   np.asarray(metric_diagonal, dtype=np.float64).tobytes())  # fmt: skip
            if self._plan is None or self._plan_key != key:
                layout = None
                if channels is not None and metric_diagonal is not None and p > 1:
                    layout = diagonal_layout(np.asarray(metric_diagonal, dtype=np.float64))
                self._plan = make_plan(
                    self._binned, p, channels is not None, layout, **self.grow_params,
                    **self._bins, min_gain_to_split=0.0,
                )  # fmt: skip
                self._plan_key = key
            part = _check_rows(rows, self._binned.shape[0])
            tree, leaf_of_row = grow_planned(self._plan, vals, part, rows is not None, features)
        else:
            tree, leaf_of_row = grow_tree(
                self._binned,
                target,
                metric,
                sample_weight,
                rows=rows,
                feature_mask=features,
                metric_diagonal=metric_diagonal,
                channels=channels,
                **self.grow_params,
                **self._bins,
            )
        self._pending = tree
        return tree.leaf_values, leaf_of_row

    def set_leaf_values(self, values: Array) -> None:
        """Replace the pending tree's leaf values (n_leaves, p), e.g. by `_descent`'s."""
        assert self._pending is not None
        tree = self._pending
        tree.leaf_values[:] = values
        tree.value[tree.leaf_index] = values

    def unscale_pending(self, factor: Array) -> Array:
        """Multiply every value of the pending tree by ``factor`` (p,) per parameter (the
        "ngboost" rule's balanced targets back in parameter units); returns its leaf values."""
        assert self._pending is not None
        tree = self._pending
        tree.value[:] *= factor
        tree.leaf_values[:] *= factor
        return tree.leaf_values

    def commit(self, scale: float) -> None:
        assert self._pending is not None
        # Monotone trees keep θ monotone only through a non-positive scale.
        assert scale <= 0.0 or self.grow_params["monotonic_cst"] is None
        self.ensemble.append(self._pending, scale)
        self._pending = None

    def last_stage_validation(self) -> Array:
        assert self._binned_val is not None
        t = self.ensemble.n_trees
        X, binned, use_binned, n = self.ensemble._inputs(None, self._binned_val, "predict")
        out = np.zeros((n, self.n_params))
        return self.ensemble._run_predict(X, binned, use_binned, t - 1, t, out)

    def finish(self) -> None:
        self._plan = None  # holds the binned matrix
        self._binned = None  # type: ignore[assignment]
        self._binned_val = None
        self._pending = None

    # -------------------------------------------------------------------------- model file
    def to_arrays(self) -> dict[str, np.ndarray]:
        """The forest's and the bin mapper's model-file arrays."""
        return {**self.ensemble.to_arrays(), **self.mapper.to_arrays()}

    def file_entry(self) -> dict[str, Any]:
        """The model file's ``learner`` header entry."""
        return {
            "kind": "native",
            "max_bins": int(self.mapper.max_bins),
            "missing_values_bin_idx": int(self.mapper.missing_values_bin_idx_),
        }

    def restore(
        self,
        a: dict[str, np.ndarray],
        n_features: int,
        n_stages: int,
        categories: Any,
        fail: Callable[[str], Exception],
    ) -> None:
        """Take the fitted forest and bins from a model file's arrays (checked)."""
        max_bins = int(self.mapper.max_bins)
        self.ensemble = Ensemble.from_arrays(a, self.n_params, n_features, n_stages, max_bins, fail)
        is_cat_split = a["node_cat_index"] >= 0
        if categories is None and is_cat_split.any():
            raise fail("it has categorical splits but no 'categories' entry")
        self.mapper = BinMapper.from_arrays(a, n_features, max_bins, categories, fail)
        split_features = a["node_feature"][is_cat_split]
        if any(categories[f] is None for f in split_features.tolist()):
            raise fail("a categorical split uses a feature without categories")
        self.finish()

    def predict(self, X: Array, n_stages: int) -> Array:
        return self.ensemble.predict_raw(X, n_stages)

    def staged_predict(self, X: Array) -> Iterator[Array]:
        return self.ensemble.staged_predict_raw(X)

    def feature_importances(self) -> Array:
        return self.ensemble.feature_importances()


def per_parameter_learners(base_learner: Any, n_params: int, owner: str) -> list[Any]:
    """The prototype learner of each of the ``n_params`` parameters.

    ``base_learner`` is one regressor (every parameter clones it) or a list or tuple of
    ``n_params`` regressors (parameter k clones ``base_learner[k]``). ``owner`` names the
    estimator in the error messages.
    """
    if not isinstance(base_learner, list | tuple):
        return [base_learner] * n_params
    if len(base_learner) != n_params:
        raise ValueError(
            f"The 'base_learner' parameter of {owner} must be one regressor or a list of one "
            f"regressor per distribution parameter ({n_params}). Got a list of "
            f"{len(base_learner)}."
        )
    for k, learner in enumerate(base_learner):
        if not (hasattr(learner, "fit") and hasattr(learner, "predict")):
            raise TypeError(
                f"The 'base_learner' parameter of {owner} must hold regressors with fit and "
                f"predict. Got {learner!r} at position {k} instead."
            )
    return list(base_learner)


def _unseeded(learner: Any) -> list[str]:
    """The ``random_state`` parameters of ``learner`` (its own and nested estimators') that
    are None, i.e. draw from NumPy's global state."""
    if not hasattr(learner, "get_params"):
        return []
    return [
        key
        for key, value in learner.get_params(deep=True).items()
        if (key == "random_state" or key.endswith("__random_state")) and value is None
    ]


class ExternalModel:
    """Stages made of cloned scikit-learn regressors, one per distribution parameter.

    Parameters
    ----------
    n_params : int
        Distribution parameters p.
    base_learner : regressor or list of p regressors
        Parameter k of every stage is fitted by a clone of ``base_learner`` (of
        ``base_learner[k]`` for a list; `per_parameter_learners` checks it).
    rng : numpy.random.RandomState, optional
        The fit's random state: every stage draws one seed from it for each learner with
        an unseeded ``random_state`` (its own or a nested estimator's, in parameter order),
        so that the fit is reproducible from the estimator's ``random_state``
        (scikit-learn's trees break ties between equally good splits at random). Learners
        with seeds keep them and draw nothing. None leaves unseeded learners unseeded.
    owner : str
        The estimator's name, for error messages.
    """

    def __init__(
        self,
        n_params: int,
        base_learner: Any,
        rng: np.random.RandomState | None = None,
        owner: str = "the estimator",
    ) -> None:
        self.n_params = n_params
        self.base_learner = base_learner
        self.learners = per_parameter_learners(base_learner, n_params, owner)
        self._unseeded = [_unseeded(learner) for learner in self.learners]
        self._rng = rng
        self.stages: list[tuple[list[Any], Array | None, float]] = []
        self._pending: tuple[list[Any], Array | None] | None = None
        self._X_val: Array | None = None
        self.n_features = 0

    @property
    def n_stages(self) -> int:
        return len(self.stages)

    def resumed(
        self, X: Array, X_val: Array | None, n_stages: int, rng: np.random.RandomState
    ) -> ExternalModel:
        """A copy of this fitted model cut to its first ``n_stages`` stages, ready to fit
        more on ``X`` (and to follow ``X_val``), drawing the unseeded learners' seeds from
        ``rng``; this model is left as it is (the stages' learners are shared, not copied:
        fitted stages are never changed)."""
        out = copy.copy(self)
        out.stages = list(self.stages[:n_stages])
        out._pending = None
        out._rng = rng
        out.start(X, X_val)
        return out

    def start(self, X: Array, X_val: Array | None) -> None:
        self._X = np.asarray(X, dtype=np.float64)  # the learners see float64, as always
        self._X_val = X_val
        self.n_features = X.shape[1]
        self._identity = np.arange(X.shape[0], dtype=np.int32)

    def fit_stage_leaves(
        self,
        target: Array | None,
        metric: Array | None,
        sample_weight: Array | None,
        rows: Array | None,
        features: Array | None,
        metric_diagonal: Array | None = None,
        channels: Array | None = None,
    ) -> tuple[Array, NDArray[np.int32]]:
        """`fit_stage` in `NativeModel.fit_stage_leaves`'s form: every row its own leaf
        (``metric_diagonal`` is not used; ``channels`` belong to the native trees only)."""
        assert target is not None and channels is None
        return self.fit_stage(target, metric, sample_weight, rows, features), self._identity

    def fit_stage(
        self,
        target: Array,
        metric: Array | None,
        sample_weight: Array | None,
        rows: Array | None,
        features: Array | None,
    ) -> Array:
        X = self._X if features is None else self._X[:, features]
        Xr, tr = (X, target) if rows is None else (X[rows], target[rows])
        kw = {}
        if sample_weight is not None:
            for prototype in self.learners:
                if not has_fit_parameter(prototype, "sample_weight"):
                    raise ValueError(
                        f"The 'base_learner' {type(prototype).__name__} does not accept "
                        "sample_weight in fit; it cannot be trained with row weights."
                    )
            kw["sample_weight"] = sample_weight if rows is None else sample_weight[rows]
        learners = []
        out = np.empty_like(target)
        for k, prototype in enumerate(self.learners):
            learner = clone(prototype)
            if self._unseeded[k] and self._rng is not None:
                seed = int(self._rng.randint(_SEED_MAX))
                learner.set_params(**dict.fromkeys(self._unseeded[k], seed))
            learner.fit(Xr, tr[:, k], **kw)
            learners.append(learner)
            out[:, k] = learner.predict(X)
        self._pending = (learners, features)
        return out

    def _predict_stage(self, learners: list[Any], features: Array | None, X: Array) -> Array:
        Xs = X if features is None else X[:, features]
        return np.column_stack([learner.predict(Xs) for learner in learners])

    def commit(self, scale: float) -> None:
        assert self._pending is not None
        learners, features = self._pending
        self.stages.append((learners, features, scale))

    def last_stage_validation(self) -> Array:
        assert self._X_val is not None
        learners, features, scale = self.stages[-1]
        return scale * self._predict_stage(learners, features, self._X_val)

    def finish(self) -> None:
        self._X = None  # type: ignore[assignment]
        self._X_val = None
        self._pending = None
        self._rng = None

    def predict(self, X: Array, n_stages: int) -> Array:
        out = np.zeros((X.shape[0], self.n_params))
        for learners, features, scale in self.stages[:n_stages]:
            if scale != 0.0:
                out += scale * self._predict_stage(learners, features, X)
        return out

    def staged_predict(self, X: Array) -> Iterator[Array]:
        out = np.zeros((X.shape[0], self.n_params))
        for learners, features, scale in self.stages:
            out = out + scale * self._predict_stage(learners, features, X)
            yield out

    def feature_importances(self) -> Array:
        gains = np.zeros((self.n_params, self.n_features))
        for learners, features, _ in self.stages:
            cols = np.arange(self.n_features) if features is None else np.flatnonzero(features)
            for k, learner in enumerate(learners):
                imp = getattr(learner, "feature_importances_", None)
                if imp is not None:
                    gains[k, cols] += imp
        return gains
