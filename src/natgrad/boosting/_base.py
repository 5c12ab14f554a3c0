"""The shared base of the natural-gradient boosting estimators (scikit-learn API).

The training loop (NGBoost's algorithm, DESIGN.md):

1. θ⁽⁰⁾ = the family's weighted marginal fit, the same for every row.
2. Per stage m: per-row loss gradients gᵢ and metric blocks Fᵢ (Fisher for the log score).
3. The base learner fits the natural gradient: with ``leaf_rule="ngboost"`` a least-squares
   tree on g̃ᵢ = Fᵢ⁻¹gᵢ (NGBoost's step); with ``leaf_rule="fisher"`` a tree whose leaves take
   the natural-gradient step of the leaf's own parameters, δ_L = (Σ wᵢFᵢ + λI)⁻¹ Σ wᵢgᵢ.
4. A scalar ρ by line search on the training loss; θ ← θ − η ρ f⁽ᵐ⁾(x).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator
from sklearn.exceptions import DataConversionWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from natgrad import distributions
from natgrad._signature import init_with_defaults as _init_with_defaults
from natgrad._typing import Array
from natgrad._validation import check_n_jobs, check_sample_weight
from natgrad.boosting._model_file import default_score, restore_estimator, write_estimator
from natgrad.boosting._threads import fit_threads, predict_threads, using_threads
from natgrad.distributions import Distribution
from natgrad.io.format import HeaderReader
from natgrad.scores import Score, get_score

logger = logging.getLogger(__name__)


def _sample_weight(sample_weight: Any, n: int, where: str) -> Array:
    """Validated sample weights; without them, unit weights as a read-only view of a single
    1.0 (every use reads them, none writes): no array of n ones is held through the fit."""
    if sample_weight is None:
        return np.broadcast_to(np.float64(1.0), (n,))
    return check_sample_weight(sample_weight, n, where)


def _drop_zero_weights(X: Array, y: Array, w: Array) -> tuple[Array, Array, Array]:
    """Rows of weight zero carry no information: drop them so that they cannot move bin edges
    or count towards min_samples_leaf."""
    if (w == 0).any():
        keep = w > 0
        return X[keep], y[keep], w[keep]
    return X, y, w


class _NGBoostBase(BaseEstimator):
    """Shared machinery of the natural-gradient boosting estimators."""

    # Whether the estimator takes vector families (targets of shape (n, k)); the dimension
    # is inferred from y (`_vector_targets.check_vector_targets`).
    _vector_targets: ClassVar[bool] = False

    _parameter_constraints: dict[str, list[Any]] = {
        "distribution": [str, type],
        "distribution_config": [dict, None],
        "scoring_rule": [StrOptions({"log", "crps"}), Score],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        # Above 1 a stage moves further than the line search accepted: it diverges.
        "learning_rate": [Interval(Real, 0.0, 1.0, closed="right")],
        "max_depth": [Interval(Integral, 1, None, closed="left"), None],
        "max_leaves": [Interval(Integral, 2, None, closed="left"), None],
        "min_samples_leaf": [Interval(Integral, 1, None, closed="left")],
        "l2_regularization": [Interval(Real, 0.0, None, closed="left")],
        "leaf_prior": [Interval(Real, 0.0, None, closed="left")],
        "leaf_rule": [StrOptions({"ngboost", "fisher"})],
        "max_bins": [Interval(Integral, 2, 255, closed="both")],
        "categorical_features": [StrOptions({"from_dtype"}), "array-like", None],
        "subsample": [Interval(Real, 0.0, 1.0, closed="right")],
        "colsample": [Interval(Real, 0.0, 1.0, closed="right")],
        "validation_fraction": [Interval(Real, 0.0, 1.0, closed="neither"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), None],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "base_learner": [HasMethods(["fit", "predict"]), list, tuple, None],
        "monotonic_cst": [dict, "array-like", None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        distribution: str | type[Distribution] = "normal",
        *,
        distribution_config: dict[str, Any] | None = None,
        scoring_rule: str | Score = "log",
        n_estimators: int = 500,
        learning_rate: float = 0.01,
        max_depth: int | None = 3,
        max_leaves: int | None = None,
        min_samples_leaf: int = 5,
        l2_regularization: float = 0.0,
        leaf_prior: float = 0.0,
        leaf_rule: str = "fisher",
        max_bins: int = 255,
        categorical_features: Any = "from_dtype",
        subsample: float = 0.3,
        colsample: float = 1.0,
        validation_fraction: float | None = None,
        n_iter_no_change: int | None = None,
        tol: float = 1e-4,
        base_learner: Any = None,
        monotonic_cst: Any = None,
        random_state: Any = None,
        verbose: int | bool = False,
        n_jobs: int | None = None,
    ) -> None:
        self.distribution = distribution
        self.distribution_config = distribution_config
        self.scoring_rule = scoring_rule
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.max_leaves = max_leaves
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.leaf_prior = leaf_prior
        self.leaf_rule = leaf_rule
        self.max_bins = max_bins
        self.categorical_features = categorical_features
        self.subsample = subsample
        self.colsample = colsample
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.base_learner = base_learner
        self.monotonic_cst = monotonic_cst
        self.random_state = random_state
        self.verbose = verbose
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ validation
    def _family(self) -> tuple[type[Distribution], dict[str, Any]]:
        try:
            family = distributions.get(self.distribution)
        except ValueError as exc:
            raise ValueError(
                f"The 'distribution' parameter of {type(self).__name__} must be one of "
                f"{distributions.names()} or a Distribution subclass. "
                f"Got {self.distribution!r} instead."
            ) from exc
        if family.event_dim != 0 and not self._vector_targets:
            raise ValueError(
                f"The 'distribution' parameter of {type(self).__name__} must be a univariate "
                f"family. Got {family.name!r}, which has vector targets."
            )
        return family, dict(self.distribution_config or {})

    def _check_targets(
        self, y: ArrayLike, family: type[Distribution], config: dict[str, Any], name: str = "y"
    ) -> Array:
        where = f"{type(self).__name__}.fit"
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        if family.event_dim:
            # Vector targets (n, k); sets config["dim"] = k from the training targets.
            from natgrad.boosting._vector_targets import check_vector_targets

            return check_vector_targets(y, family, config, where, name)
        kind = getattr(getattr(y, "dtype", None), "kind", None) or np.asarray(y).dtype.kind
        if kind in "cmM":
            what = "complex numbers" if kind == "c" else "dates or time spans"
            fix = (
                "pass the real part (y.real) if that is meant."
                if kind == "c"
                else "convert them to numbers first (e.g. days since a reference date)."
            )
            raise TypeError(
                f"The {name!r} argument of {where} must hold real numbers. Got {what} "
                f"(dtype {np.asarray(y).dtype}) instead; {fix}"
            )
        try:
            arr = np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"The {name!r} argument of {where} must be numeric. Got {type(y).__name__} with "
                f"non-numeric values instead."
            ) from exc
        if arr.ndim == 2 and arr.shape[1] == 1:
            warnings.warn(
                f"A column-vector {name} was passed when a 1d array was expected; it is "
                "raveled to shape (n_samples,).",
                DataConversionWarning,
                stacklevel=3,
            )
            arr = arr[:, 0]
        if not np.isfinite(arr).all():
            bad = np.flatnonzero(~np.isfinite(arr))
            raise ValueError(
                f"The {name!r} argument of {where} must be finite. Got {bad.size} NaN or "
                f"infinite value(s), e.g. at row {bad[0]}."
            )
        probe = family.__new__(family)
        probe._configure(**config)
        inside = probe.support.contains(arr)
        if not inside.all():
            bad = np.flatnonzero(~inside)
            raise ValueError(
                f"The {name!r} argument of {where} must be {probe.support.description} for the "
                f"{family.name!r} distribution. Got {bad.size} value(s) outside it, e.g. "
                f"{arr[bad[0]]} at row {bad[0]}."
            )
        return np.ascontiguousarray(arr)

    # ------------------------------------------------------------------ fitting
    def _initial_params(
        self, y: Array, w: Array, family: type[Distribution], config: dict[str, Any]
    ) -> Array:
        """θ⁽⁰⁾, shape (1, p): the family's weighted marginal fit (estimators with other
        targets, such as censored times, override this)."""
        return family.fit_marginal(y, w, **config)

    # Hooks of `_fit` that estimators with other targets (censored times) override.
    def _check_score(self, family: type[Distribution]) -> Score:
        """The scoring rule to train with, checked against the family."""
        score = get_score(self.scoring_rule)
        if not score.supports(family):
            raise ValueError(
                f"The 'scoring_rule' parameter of {type(self).__name__} is {score.name!r}, "
                f"which is not defined for the {family.name!r} distribution."
            )
        return score

    def _check_fit_targets(
        self, y: Any, family: type[Distribution], config: dict[str, Any], n: int
    ) -> Array:
        """``fit``'s targets, validated: one per row of X."""
        y = self._check_targets(y, family, config)
        if y.shape[:1] != (n,):
            raise ValueError(
                f"The 'y' argument of {type(self).__name__}.fit must have shape "
                f"{(n, *y.shape[1:])}, one target per row of X. Got shape {y.shape} instead."
            )
        return y

    def _check_training_targets(self, y: Array) -> None:
        """Checks of the rows that train (after zero weights and the holdout are removed)."""

    def _fit(
        self,
        X: Any,
        y: Any,
        sample_weight: ArrayLike | None = None,
        eval_set: tuple[Any, ...] | None = None,
    ) -> _NGBoostBase:
        self._validate_params()
        check_n_jobs(self.n_jobs, type(self).__name__)
        family, config = self._family()
        self._score_rule = self._check_score(family)
        # float32 (and memory-mapped) X stays as it is: the bins come from it directly.
        X = self._validate_X(X, reset=True, dtype=(np.float64, np.float32))
        where = f"{type(self).__name__}.fit"
        y = self._check_fit_targets(y, family, config, X.shape[0])
        w = _sample_weight(sample_weight, X.shape[0], where)
        X, y, w = _drop_zero_weights(X, y, w)
        rng = check_random_state(self.random_state)
        self._run_stages(X, y, w, eval_set, family, config, rng)
        return self

    def _run_stages(
        self,
        X: Array,
        y: Array,
        w: Array,
        eval_set: tuple[Any, ...] | None,
        family: type[Distribution],
        config: dict[str, Any],
        rng: np.random.RandomState,
        warm: Any = None,
    ) -> None:
        """Take the validation rows (``eval_set``, else ``validation_fraction`` of the
        rows), run the stages on the validated rows (``warm``: continuing the fitted model,
        a `WarmStart`) and assign the fitted state."""
        X_val = y_val = w_val = None
        if eval_set is not None:
            X_val, y_val, w_val = self._check_eval_set(eval_set, family, config)
        elif self.validation_fraction is not None:
            (X, y, w), (X_val, y_val, w_val) = self._holdout(X, y, w, rng)
        self._check_training_targets(y)

        from natgrad.boosting._training.trainer import Trainer

        trainer = Trainer(
            estimator=self,
            family=family,
            config=config,
            score=self._score_rule,
            rng=rng,
        )
        with using_threads(fit_threads(self.n_jobs, X.shape[0], X.shape[1])):
            state = trainer.fit(X, y, w, X_val, y_val, w_val, warm=warm)
        state.assign_to(self)

    def _continue_fit(
        self,
        X: Any,
        y: Any,
        sample_weight: ArrayLike | None = None,
        eval_set: tuple[Any, ...] | None = None,
        *,
        n_more: int,
        n_stages: int | None = None,
        refit_init: bool = False,
        rng: np.random.RandomState | None = None,
    ) -> _NGBoostBase:
        """Continue the fitted model with ``n_more`` stages on new rows (a warm start).

        Every row of ``X`` starts from the fitted model's parameters after its first
        ``n_stages`` stages (default: all ``n_estimators_``); the rows are binned with the
        fitted bins (the native tree) and the new stages are appended, so the first
        ``n_stages`` stages stay as they were. The hyper-parameters of the stage loop
        (``learning_rate``, ``subsample``, ``colsample``, ``n_iter_no_change``, ``tol``)
        are read now; the tree's settings, the bins, the family, the scoring rule and the
        categories are the first fit's. ``eval_set`` (or ``validation_fraction``) follows
        the new stages: ``best_iteration_`` is then the best of the first ``n_stages`` and
        the new stages on it. ``refit_init`` replaces θ⁽⁰⁾ by the marginal fit of the new
        targets (what NGBoost's ``partial_fit`` does; the compat layer uses it). ``rng``:
        the random state of the new stages; by default one seeded from ``random_state``
        and ``n_stages`` (an int ``random_state`` gives reproducible continuations), or
        ``random_state`` itself when it is a RandomState.

        The engine's hook for continuing a fit (`natgrad.compat.ngboost`'s ``partial_fit``);
        ``y`` and ``sample_weight`` as in ``fit``. Fitted attributes: as after ``fit``, for
        the model of n_stages + n_more stages (``train_loss_``/``validation_loss_`` hold
        the first fit's losses for its first ``n_stages`` stages and this call's after).
        """
        check_is_fitted(self, "init_params_")
        self._validate_params()
        check_n_jobs(self.n_jobs, type(self).__name__)
        where = f"{type(self).__name__}.fit"
        done = self.n_estimators_ if n_stages is None else n_stages
        if not isinstance(done, Integral) or not 0 <= int(done) <= self.n_estimators_:
            raise ValueError(
                f"The 'n_stages' argument of {where} must be an integer in "
                f"[0, {self.n_estimators_}]. Got {n_stages!r} instead."
            )
        if not isinstance(n_more, Integral) or n_more < 1:
            raise ValueError(
                f"The 'n_more' argument of {where} must be a positive integer. Got "
                f"{n_more!r} instead."
            )
        template = self._template_
        family, config = type(template), dict(template.config)
        X = self._validate_X(X, reset=False, dtype=(np.float64, np.float32))
        y = self._check_more_targets(y, family, config, X.shape[0])
        if config != template.config:
            raise ValueError(
                f"The 'y' argument of {where} must fit the fitted {family.name!r} "
                f"distribution {template.config}. Got targets that need {config} instead."
            )
        w = _sample_weight(sample_weight, X.shape[0], where)
        X, y, w = _drop_zero_weights(X, y, w)
        if rng is None:
            seed = self.random_state
            if isinstance(seed, np.random.RandomState):
                rng = seed
            else:
                rng = np.random.RandomState(None if seed is None else [int(seed), int(done)])

        from natgrad.boosting._training.trainer import FitState, WarmStart

        fitted = FitState(
            self.init_params_, template, self._model_, self.n_estimators_,
            self.best_iteration_, self.train_loss_, self.validation_loss_,
        )  # fmt: skip
        warm = WarmStart(fitted, int(done), int(n_more), refit_init)
        self._run_stages(X, y, w, eval_set, family, config, rng, warm)
        return self

    def _check_more_targets(
        self, y: Any, family: type[Distribution], config: dict[str, Any], n: int
    ) -> Array:
        """`_continue_fit`'s targets, validated against the fitted model (by default as
        ``fit``'s)."""
        return self._check_fit_targets(y, family, config, n)

    def _monotonic_constraints(self, param_names: Any, n_features: int) -> np.ndarray | None:
        """``monotonic_cst`` as an int8 matrix (n_params, n_features), or None."""
        from natgrad.boosting._hist.constraints import resolve_monotonic_cst

        cst = resolve_monotonic_cst(
            self.monotonic_cst,
            param_names,
            n_features,
            getattr(self, "feature_names_in_", None),
            type(self).__name__,
        )
        if cst is not None and self.base_learner is not None:
            raise ValueError(
                f"The 'monotonic_cst' parameter of {type(self).__name__} needs the native tree "
                "learner (base_learner=None): only its trees enforce constraints. Got "
                f"base_learner={self.base_learner!r} instead."
            )
        cats = getattr(self, "categories_", None)
        if cst is not None and cats is not None:
            names = getattr(self, "feature_names_in_", None)
            bad = [
                j if names is None else str(names[j])
                for j, c in enumerate(cats)
                if c is not None and cst[:, j].any()
            ]
            if bad:
                raise ValueError(
                    f"The 'monotonic_cst' parameter of {type(self).__name__} must leave "
                    "categorical features unconstrained (their categories have no order). Got "
                    f"constraints on the categorical feature(s) {bad} instead."
                )
        return cst

    def _holdout(
        self, X: Array, y: Array, w: Array, rng: np.random.RandomState
    ) -> tuple[tuple[Array, Array, Array], tuple[Array, Array, Array]]:
        """Split off ``validation_fraction`` of the rows: (train, validation) triples."""
        n_val = int(round(self.validation_fraction * X.shape[0]))
        if n_val < 1 or n_val >= X.shape[0]:
            raise ValueError(
                f"The 'validation_fraction' parameter of {type(self).__name__} leaves "
                f"{n_val} validation rows out of {X.shape[0]}; it must leave at least one "
                "row on each side."
            )
        perm = rng.permutation(X.shape[0])
        val, train = perm[:n_val], perm[n_val:]
        return (X[train], y[train], w[train]), (X[val], y[val], w[val])

    def _check_eval_set(
        self, eval_set: Any, family: type[Distribution], config: dict[str, Any]
    ) -> tuple[Array, Array, Array]:
        where = f"{type(self).__name__}.fit"
        if not isinstance(eval_set, tuple | list) or len(eval_set) not in (2, 3):
            raise ValueError(
                f"The 'eval_set' argument of {where} must be a tuple (X_val, y_val) or "
                f"(X_val, y_val, sample_weight_val). Got {type(eval_set).__name__} instead."
            )
        X_val = self._validate_X(eval_set[0], reset=False)
        y_val = self._check_targets(eval_set[1], family, config, name="y_val")
        if y_val.shape[0] != X_val.shape[0]:
            raise ValueError(
                f"The 'eval_set' argument of {where} must hold as many targets as rows. Got "
                f"{X_val.shape[0]} rows and {y_val.shape[0]} targets."
            )
        w_val = _sample_weight(eval_set[2] if len(eval_set) == 3 else None, X_val.shape[0], where)
        return X_val, y_val, w_val

    def _validate_X(self, X: Any, reset: bool, dtype: Any = np.float64) -> Array:
        """``X`` as a float64 array (``dtype``: scikit-learn's, e.g. a tuple of the dtypes
        kept without a copy): categorical columns become their fit-time category
        indices (NaN: missing or unseen, `natgrad.boosting._hist.categorical`), then scikit-learn's
        checks (feature count and names; NaN allowed). ``reset`` (in ``fit``) also finds the
        categorical features and sets ``categories_``."""
        from natgrad.boosting._hist.categorical import (
            check_columns,
            encode_categorical,
            fit_categorical,
        )

        check_columns(X, f"{type(self).__name__}.{'fit' if reset else 'predict'}")
        if reset:
            X, self.categories_ = fit_categorical(
                X, self.categorical_features, self.max_bins, type(self).__name__
            )
        else:
            X = encode_categorical(X, getattr(self, "categories_", None))
        return np.asarray(
            validate_data(self, X, reset=reset, ensure_all_finite="allow-nan", dtype=dtype)
        )

    # ------------------------------------------------------------------ prediction
    def _raw_params(self, X: Any, n_stages: int | None) -> Array:
        check_is_fitted(self, "init_params_")
        X = self._validate_X(X, reset=False)
        stages = self._n_stages(n_stages)
        theta = np.repeat(self.init_params_, X.shape[0], axis=0)
        if stages:
            n_jobs = getattr(self, "n_jobs", None)  # unpickled from before n_jobs: None
            check_n_jobs(n_jobs, type(self).__name__)
            with using_threads(predict_threads(n_jobs, X.shape[0], stages)):
                theta += self._model_.predict(X, stages)
        return theta

    def _n_stages(self, n_stages: int | None) -> int:
        if n_stages is None:
            return int(self.best_iteration_)
        if not isinstance(n_stages, Integral) or not 0 <= n_stages <= self.n_estimators_:
            raise ValueError(
                f"The 'n_stages' argument of {type(self).__name__} must be an integer in "
                f"[0, {self.n_estimators_}]. Got {n_stages!r} instead."
            )
        return int(n_stages)

    def predict_dist(self, X: Any, n_stages: int | None = None) -> Distribution:
        """Predicted distributions, one per row of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data; NaN is a missing value.
        n_stages : int, optional
            Use the first ``n_stages`` stages. By default the chosen stage: the best one on
            the validation set when there was one, otherwise all.

        Returns
        -------
        Distribution
            A natgrad batch of n_samples distributions (``nll``, ``mean``, ``interval``,
            ``ppf``, ``cdf``, ``sample``, ``to_scipy``, ...).
        """
        theta = self._raw_params(X, n_stages)
        return self._template_.with_params(theta)

    def staged_predict_dist(self, X: Any) -> Any:
        """Yield the predicted distributions after each stage (1, 2, ..., n_estimators_)."""
        check_is_fitted(self, "init_params_")
        X = self._validate_X(X, reset=False)
        theta = np.repeat(self.init_params_, X.shape[0], axis=0)
        for total in self._model_.staged_predict(X):
            yield self._template_.with_params(theta + total)

    @property
    def feature_importances_(self) -> Array:
        """Normalised split gains, shape (n_params, n_features): one row per parameter."""
        check_is_fitted(self, "init_params_")
        gains = np.asarray(self._model_.feature_importances(), dtype=np.float64)
        totals = gains.sum(axis=1, keepdims=True)
        return np.divide(gains, totals, out=np.zeros_like(gains), where=totals > 0)

    def shap_values(self, X: Any, n_stages: int | None = None) -> Any:
        """Exact SHAP values of every distribution parameter (path-dependent TreeSHAP).

        Explains the model's internal parameters θ(x), one attribution per feature and
        parameter: the location *and* the scale (e.g. ``("loc", "log_scale")`` for the normal
        family, ``("logit",)`` for two classes, ``("logit_1", ...)`` for more; the names are
        ``param_names``). Needs the native tree learner (``base_learner=None``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to explain; NaN is a missing value.
        n_stages : int, optional
            Explain the model of the first ``n_stages`` stages (default: the chosen stage, as
            `predict_dist`).

        Returns
        -------
        ShapValues
            ``values`` of shape (n_samples, n_features, n_params), ``base_values`` of shape
            (n_params,), ``data`` (the rows as the trees see them: categorical columns as
            their category indices), ``feature_names``, ``param_names``, with
            ``values.sum(axis=1) + base_values == predict_dist(X, n_stages).params``.

        Notes
        -----
        A coalition's value averages the trees over unknown features by each node's share of
        the stage's training rows (Lundberg et al. 2018). Plot with the ``shap`` package, for
        parameter k (a name or an index)::

            sv = model.shap_values(X)
            explanation = sv.to_explanation("log_scale")
            # the same by hand:
            # shap.Explanation(sv.values[:, :, k], base_values=np.full(len(X), sv.base_values[k]),
            #                  data=sv.data, feature_names=sv.feature_names)
            shap.plots.beeswarm(explanation)
        """
        check_is_fitted(self, "init_params_")
        from natgrad.boosting._hist.shap import shap_values
        from natgrad.boosting._training.learners import NativeModel

        if not isinstance(self._model_, NativeModel):
            raise ValueError(
                f"{type(self).__name__}.shap_values needs the native tree learner "
                f"(base_learner=None). Got base_learner={self.base_learner!r}; explain such a "
                "model with a model-agnostic explainer (e.g. shap.KernelExplainer) instead."
            )
        X = self._validate_X(X, reset=False)
        return shap_values(self, X, self._n_stages(n_stages))

    def save(self, path: Any) -> Any:
        """Write the fitted model to ``path`` in natgrad's safe file format.

        The format (docs/model-format.md) is versioned, checksummed and loads without
        executing code; read it back with `natgrad.load`.
        """
        return self._write_model_file(path, None)

    # ----------------------------------------------------------------- model file hooks
    # `natgrad.io` calls `_write_model_file` and `_from_model_file`; the estimator writes and
    # checks its own entries (`natgrad.boosting._model_file`), a class adds its own through
    # `_file_entries`, `_restore_params`, `_restore_entries` and `_restore_score`.
    def _write_model_file(self, path: Any, metadata: dict | None) -> Any:
        return write_estimator(self, path, metadata)

    @classmethod
    def _from_model_file(cls, reader: HeaderReader) -> Any:
        return restore_estimator(cls, reader)

    def _file_entries(self, params: dict[str, Any]) -> dict[str, Any]:
        """Header entries of this class (and its JSON hyper-parameters, set in place)."""
        params["distribution"] = self._template_.name
        return {}

    @classmethod
    def _restore_params(cls, params: dict[str, Any], reader: HeaderReader) -> None:
        """Turn the file's JSON hyper-parameters into constructor arguments, in place."""

    def _restore_entries(
        self, reader: HeaderReader, family: type[Distribution], config: dict[str, Any]
    ) -> None:
        """Check (and take) this class's header entries against the file's family."""
        if self.distribution != family.name:
            raise reader.fail(
                f"the distribution parameter {self.distribution!r} differs from the family "
                f"{family.name!r}"
            )

    def _restore_score(self, reader: HeaderReader, family: type[Distribution]) -> Score:
        """The fitted scoring rule of the restored estimator."""
        return default_score(self)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        if self._vector_targets:
            try:
                vector = distributions.get(self.distribution).event_dim > 0
            except ValueError:  # an invalid setting; fit reports it
                vector = False
            if vector:
                tags.target_tags.multi_output = True
                tags.target_tags.single_output = False
        return tags


def init_with_defaults(
    base: Callable[..., None] | None = None, /, **defaults: Any
) -> Callable[..., None]:
    """`natgrad._signature.init_with_defaults` whose ``base`` defaults to
    `_NGBoostBase.__init__` (``__init__ = init_with_defaults(subsample=1.0)`` in a class body)."""
    return _init_with_defaults(_NGBoostBase.__init__ if base is None else base, **defaults)
