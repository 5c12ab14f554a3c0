"""Natural-gradient boosting estimators (scikit-learn API).

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
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from natgrad import distributions
from natgrad._validation import check_sample_weight
from natgrad.distributions._base import Array, Distribution
from natgrad.scores import Score, get_score

logger = logging.getLogger(__name__)


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
        "learning_rate": [Interval(Real, 0.0, None, closed="neither")],
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
        "base_learner": [HasMethods(["fit", "predict"]), None],
        "monotonic_cst": [dict, "array-like", None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
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
        family, config = self._family()
        self._score_rule = self._check_score(family)
        X = self._validate_X(X, reset=True)
        where = f"{type(self).__name__}.fit"
        y = self._check_fit_targets(y, family, config, X.shape[0])
        w = check_sample_weight(sample_weight, X.shape[0], where)
        X, y, w = _drop_zero_weights(X, y, w)
        rng = check_random_state(self.random_state)

        X_val = y_val = w_val = None
        if eval_set is not None:
            X_val, y_val, w_val = self._check_eval_set(eval_set, family, config)
        elif self.validation_fraction is not None:
            (X, y, w), (X_val, y_val, w_val) = self._holdout(X, y, w, rng)
        self._check_training_targets(y)

        from natgrad.boosting._trainer import Trainer

        trainer = Trainer(
            estimator=self,
            family=family,
            config=config,
            score=self._score_rule,
            rng=rng,
        )
        trainer.fit(X, y, w, X_val, y_val, w_val)
        return self

    def _monotonic_constraints(self, param_names: Any, n_features: int) -> np.ndarray | None:
        """``monotonic_cst`` as an int8 matrix (n_params, n_features), or None."""
        from natgrad.boosting._constraints import resolve_monotonic_cst

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
        w_val = check_sample_weight(
            eval_set[2] if len(eval_set) == 3 else None, X_val.shape[0], where
        )
        return X_val, y_val, w_val

    def _validate_X(self, X: Any, reset: bool) -> Array:
        """``X`` as a float64 array: categorical columns become their fit-time category
        indices (NaN: missing or unseen, `natgrad.boosting._categorical`), then scikit-learn's
        checks (feature count and names; NaN allowed). ``reset`` (in ``fit``) also finds the
        categorical features and sets ``categories_``."""
        from natgrad.boosting._categorical import encode_categorical, fit_categorical

        if reset:
            X, self.categories_ = fit_categorical(
                X, self.categorical_features, self.max_bins, type(self).__name__
            )
        else:
            X = encode_categorical(X, getattr(self, "categories_", None))
        return np.asarray(
            validate_data(self, X, reset=reset, ensure_all_finite="allow-nan", dtype=np.float64)
        )

    # ------------------------------------------------------------------ prediction
    def _raw_params(self, X: Any, n_stages: int | None) -> Array:
        check_is_fitted(self, "init_params_")
        X = self._validate_X(X, reset=False)
        stages = self._n_stages(n_stages)
        theta = np.repeat(self.init_params_, X.shape[0], axis=0)
        if stages:
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
        from natgrad.boosting._models import NativeModel
        from natgrad.boosting._shap import shap_values

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
        from natgrad import io

        return io.save(self, path)

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


class NGBoostRegressor(RegressorMixin, _NGBoostBase):
    """Probabilistic regression by natural-gradient boosting.

    Each stage grows one histogram tree with vector leaves (one value per distribution
    parameter) on the natural gradient of the scoring rule, then moves every row's parameters
    by a line-searched step. Predictions are whole distributions (`predict_dist`).

    Parameters
    ----------
    distribution : str or Distribution subclass, default="normal"
        Any univariate family of `natgrad.distributions` (see `natgrad.distributions.names`),
        or ``"multivariate_normal"`` for targets of shape (n_samples, k), k >= 2 (its
        dimension ``dim`` is taken from y; one tree per stage fits all k(k+3)/2 parameters).
    distribution_config : dict, optional
        Family configuration, e.g. ``{"fixed_df": 3.0}`` for ``"student_t"``.
    scoring_rule : {"log", "crps"} or Score, default="log"
        The scoring rule; the log score's metric is the Fisher information. (Not named
        ``score``: that would hide scikit-learn's ``score(X, y)`` method.)
    n_estimators : int, default=500
        Number of boosting stages.
    learning_rate : float, default=0.01
        Shrinkage η of every stage.
    max_depth : int or None, default=3
        Depth of each tree (as NGBoost's default base learner).
    max_leaves : int or None, default=None
        Leaf budget of each tree, grown best-first when given.
    min_samples_leaf : int, default=5
        Minimum number of training rows in a leaf.
    l2_regularization : float, default=0.0
        λ added to the leaf's metric (``"fisher"``) or weight (``"ngboost"``) sums.
    leaf_prior : float, default=0.0
        Strength κ, in pseudo-rows, of a zero-mean prior on each ``"fisher"`` leaf: a node
        of n rows with metric sum H solves with H (1 + κ/n) in its value and its split
        gain, i.e. its natural-gradient step shrunk by n/(n + κ). Unlike λ it does not
        depend on the units of y or the parameterisation; it keeps leaves whose few rows
        carry most of the Fisher information (tiny residuals, heavy censoring) from
        collapsing the scale. 0 disables it; ignored by ``leaf_rule="ngboost"``.
        `NGBoostSurvival` defaults to 3; for regression on small data sets (and
        ``min_samples_leaf=1``) 3-5 is a reasonable choice (docs/design.md, "Leaf prior").
    leaf_rule : {"fisher", "ngboost"}, default="fisher"
        ``"ngboost"``: least squares on per-row natural gradients Fᵢ⁻¹gᵢ (NGBoost's step:
        leaf values are their leaf means); the shared tree's split gain weighs each
        parameter by the stage's mean Fisher diagonal, so it does not depend on the units
        of y (docs/design.md, "Balanced splits for the ngboost rule").
        ``"fisher"``: each leaf takes the natural-gradient step of its own parameters,
        (Σ wᵢFᵢ + λI)⁻¹ Σ wᵢgᵢ, with the matching split gain (DESIGN.md).
    max_bins : int, default=255
        Histogram bins per feature (plus one for missing values); also the most categories
        a categorical feature may have.
    categorical_features : "from_dtype", None, or array-like of bool, int or str, \
default="from_dtype"
        Features split by sets of categories (no one-hot encoding needed). ``"from_dtype"``:
        the pandas ``category`` columns of a DataFrame; None: none; else a boolean mask,
        feature indices, or column names. Categories are matched by value at prediction;
        a category not seen in ``fit`` (like NaN) follows each split's missing-value side.
        NumPy input holds the category values themselves. See docs/design.md.
    subsample : float, default=0.3
        Fraction of rows drawn (without replacement) for each stage's tree; the tree's
        leaf values come from those rows, the line search and the update use every row.
        Row subsampling keeps the predicted scale from collapsing on regions the training
        rows fit closely; on the UCI benchmark it gives the better test likelihood on seven
        of nine sets (docs/benchmarks.md, "Accuracy on the nine UCI datasets"). 1.0 uses
        every row.
    colsample : float, default=1.0
        Fraction of features each stage's tree may split on.
    validation_fraction : float, optional
        Hold out this fraction of the training rows to choose the stage (when ``fit`` gets
        no ``eval_set``).
    n_iter_no_change : int, optional
        Stop when the validation loss has not improved by ``tol`` for this many stages.
    tol : float, default=1e-4
        Minimum improvement of the validation loss that counts for early stopping.
    base_learner : scikit-learn regressor, optional
        Use this regressor (cloned, one per parameter per stage, on the per-row natural
        gradients) instead of the native histogram tree: NGBoost's slow, general path.
    monotonic_cst : dict or array-like of shape (n_params, n_features), optional
        Monotone constraints per distribution parameter, for the native tree learner. A
        dict maps a parameter name of the family (``param_names``, e.g. ``"loc"``,
        ``"log_scale"``) to an array-like of shape (n_features,) or to a dict
        ``{feature name or column index: sign}``; a 2-D array-like gives one row per
        parameter. Signs: 1 makes the parameter non-decreasing in the feature (the others
        fixed), -1 non-increasing, 0 leaves it free. Missing values are not ordered. The
        constraint holds for the internal parameter θ (e.g. the log scale), an increasing
        function of the natural one, so it holds for both. Feature names need X with column
        names (a pandas DataFrame).
    random_state : int, RandomState or None
        Seed of row/column subsampling and of the automatic validation split.
    verbose : bool or int, default=False
        Show a progress bar with the training and validation loss.

    Attributes
    ----------
    init_params_ : ndarray of shape (1, n_params)
        The marginal fit θ⁽⁰⁾.
    n_estimators_ : int
        Number of stages fitted (fewer than ``n_estimators`` after early stopping).
    best_iteration_ : int
        The chosen number of stages, which predictions use by default: the one with the best
        validation loss when there was a validation set (0 means the marginal fit alone),
        otherwise all ``n_estimators_``.
    train_loss_, validation_loss_ : ndarray of shape (n_estimators_ + 1,)
        Weighted mean score before the first stage and after each stage (validation: NaN
        when no validation set was used).
    categories_ : list or None
        Per feature, the categories seen in ``fit`` (in the order of their bins) for a
        categorical feature and None for a numeric one; None when no feature is
        categorical.
    n_features_in_, feature_names_in_
        As in scikit-learn.
    """

    _vector_targets = True

    def fit(
        self,
        X: Any,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        eval_set: tuple[Any, ...] | None = None,
    ) -> NGBoostRegressor:
        """Fit the model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; NaN marks a missing value.
        y : array-like of shape (n_samples,) or (n_samples, k)
            Targets inside the family's support; (n_samples, k) for a vector family.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative row weights.
        eval_set : tuple, optional
            ``(X_val, y_val)`` or ``(X_val, y_val, sample_weight_val)``: a validation set
            whose loss chooses the stage and drives early stopping.
        """
        self._fit(X, y, sample_weight, eval_set)
        return self

    def predict(self, X: Any) -> Array:
        """Point predictions: the predicted mean (the median where the mean does not exist),
        shape (n_samples,), or (n_samples, k) for a vector family."""
        dist = self.predict_dist(X)
        try:
            return dist.mean()
        except ValueError:
            return dist.ppf(np.full(len(dist), 0.5))
