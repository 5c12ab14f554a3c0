"""A drop-in for NGBoost's public API on natgrad's boosting engine.

Code written for NGBoost runs after changing its import lines only::

    from natgrad.compat.ngboost import NGBRegressor, NGBClassifier, NGBSurvival
    from natgrad.compat.ngboost import Normal, LogNormal, k_categorical, LogScore, CRPScore

The estimators take NGBoost's constructor arguments and build the native estimators
(`natgrad.NGBoostRegressor`, `NGBoostClassifier`, `NGBoostSurvival`) in ``fit``:

=======================  ==================================================================
NGBoost argument         native setting
=======================  ==================================================================
``Dist``                 ``distribution`` (and ``distribution_config``), see the names below
``Score``                ``scoring_rule``: `LogScore` -> ``"log"``, `CRPScore` -> ``"crps"``
``Base``                 ``None`` or a `~sklearn.tree.DecisionTreeRegressor` that the native
                         tree can express -> the native histogram tree with the tree's
                         ``max_depth``, ``min_samples_leaf`` and ``max_leaf_nodes``; any
                         other regressor -> ``base_learner`` (cloned per parameter per stage)
``natural_gradient``     ``True``: the natural gradient. ``False``: the ordinary gradient,
                         i.e. the same rule with the identity as its metric (F = I, so the
                         trees fit gᵢ instead of Fᵢ⁻¹gᵢ), as NGBoost does
``minibatch_frac``       ``subsample``
``col_sample``           ``colsample``
``early_stopping_rounds``  ``n_iter_no_change``
``validation_fraction``  ``validation_fraction``, used only with early stopping and no
                         ``X_val``, as in NGBoost
``tol``                  ``tol`` (the minimum validation improvement of early stopping)
``verbose``              ``verbose`` (a progress bar); ``verbose_eval`` and ``n_jobs`` are
                         accepted and ignored
=======================  ==================================================================

The compat layer always uses ``leaf_rule="ngboost"`` (least-squares trees on the per-row
natural gradients Fᵢ⁻¹gᵢ, then a line-searched step) and ``min_samples_leaf=1`` unless the
tree says otherwise, so that results follow NGBoost's algorithm. The native trees split on
histograms of at most 255 bins per feature rather than on every distinct value, so fits agree
with NGBoost's closely but not bit for bit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils.validation import check_is_fitted

from natgrad.boosting import NGBoostClassifier, NGBoostRegressor, NGBoostSurvival
from natgrad.compat._ngboost_names import (
    CRPS,
    MLE,
    Bernoulli,
    Cauchy,
    CRPScore,
    DistName,
    Exponential,
    Gamma,
    HalfNormal,
    Laplace,
    LogNormal,
    LogScore,
    MultivariateNormal,
    NGBDistribution,
    Normal,
    Poisson,
    ScoreName,
    T,
    TFixedDf,
    Weibull,
    default_tree_learner,
    k_categorical,
)
from natgrad.distributions._base import Array, Distribution
from natgrad.scores import CensoredLogScore, Score, get_score

__all__ = [
    "CRPS",
    "MLE",
    "Bernoulli",
    "CRPScore",
    "Cauchy",
    "Exponential",
    "Gamma",
    "HalfNormal",
    "Laplace",
    "LogNormal",
    "LogScore",
    "MultivariateNormal",
    "NGBClassifier",
    "NGBDistribution",
    "NGBRegressor",
    "NGBSurvival",
    "Normal",
    "Poisson",
    "T",
    "TFixedDf",
    "Weibull",
    "default_tree_learner",
    "k_categorical",
]


# ---------------------------------------------------------------------- estimators
def _tree_settings(base: Any) -> dict[str, Any] | None:
    """Native tree settings for ``base``, or None when the native tree cannot express it."""
    if base is None:
        return {"max_depth": 3, "min_samples_leaf": 1, "max_leaves": None}
    if type(base) is not DecisionTreeRegressor:
        return None
    p = base.get_params()
    expressible = (
        p["criterion"] in ("friedman_mse", "squared_error")
        and p["splitter"] == "best"
        and p["min_samples_split"] == 2
        and p["min_weight_fraction_leaf"] == 0.0
        and p["max_features"] is None
        and p["min_impurity_decrease"] == 0.0
        and p["ccp_alpha"] == 0.0
        and p.get("monotonic_cst") is None
        and isinstance(p["min_samples_leaf"], int)
    )
    if not expressible:
        return None
    return {
        "max_depth": p["max_depth"],
        "min_samples_leaf": p["min_samples_leaf"],
        "max_leaves": p["max_leaf_nodes"],
    }


class _IdentityMetric(Score):
    """``rule`` with the identity as its metric: NGBoost's ``natural_gradient=False``."""

    def __init__(self, rule: Score) -> None:
        self.rule = rule
        self.name = rule.name  # type: ignore[misc]

    def _score(self, dist: Distribution, y: Array) -> Array:
        return self.rule._score(dist, y)

    def _grad(self, dist: Distribution, y: Array) -> Array:
        return self.rule._grad(dist, y)

    def metric(self, dist: Distribution) -> Array:
        return np.broadcast_to(np.eye(dist.n_params), (len(dist), dist.n_params, dist.n_params))

    def supports(self, family: type[Distribution]) -> bool:
        return self.rule.supports(family)


class _EuclideanCensoredLogScore(CensoredLogScore):
    """The censored log score with the identity metric (survival, ``natural_gradient=False``)."""

    def metric(self, dist: Distribution) -> Array:
        return np.broadcast_to(np.eye(dist.n_params), (len(dist), dist.n_params, dist.n_params))

    def metric_at(self, dist: Distribution, y: ArrayLike) -> Array:
        return self.metric(dist)


class _NGBBase(BaseEstimator):
    """NGBoost's constructor arguments and the methods shared by the three estimators."""

    _native: type[Any] = NGBoostRegressor
    _default_dist: DistName = Normal

    def __init__(
        self,
        Dist: DistName | None = None,  # noqa: N803 - NGBoost's argument names
        Score: ScoreName = LogScore,  # noqa: N803
        Base: Any = None,  # noqa: N803
        natural_gradient: bool = True,
        n_estimators: int = 500,
        learning_rate: float = 0.01,
        minibatch_frac: float = 1.0,
        col_sample: float = 1.0,
        verbose: bool = True,
        verbose_eval: int = 100,
        tol: float = 1e-4,
        random_state: Any = None,
        validation_fraction: float = 0.1,
        early_stopping_rounds: int | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.Dist = Dist
        self.Score = Score
        self.Base = Base
        self.natural_gradient = natural_gradient
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.minibatch_frac = minibatch_frac
        self.col_sample = col_sample
        self.verbose = verbose
        self.verbose_eval = verbose_eval
        self.tol = tol
        self.random_state = random_state
        self.validation_fraction = validation_fraction
        self.early_stopping_rounds = early_stopping_rounds
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ mapping
    def _dist(self) -> DistName:
        dist = self._default_dist if self.Dist is None else self.Dist
        if not isinstance(dist, DistName):
            raise TypeError(
                f"The 'Dist' parameter of {type(self).__name__} must be one of the names of "
                "natgrad.compat.ngboost (Normal, LogNormal, ..., k_categorical(K)). Got "
                f"{dist!r} instead."
            )
        return dist

    def _rule(self) -> str | Score:
        if not isinstance(self.Score, ScoreName):
            raise TypeError(
                f"The 'Score' parameter of {type(self).__name__} must be LogScore or CRPScore "
                f"of natgrad.compat.ngboost. Got {self.Score!r} instead."
            )
        if not isinstance(self.natural_gradient, bool | np.bool_):
            raise TypeError(
                f"The 'natural_gradient' parameter of {type(self).__name__} must be a bool. "
                f"Got {self.natural_gradient!r} instead."
            )
        if self.natural_gradient:
            return self.Score.rule
        return _IdentityMetric(get_score(self.Score.rule))

    def _native_kwargs(self, early_stopping_rounds: int | None, has_val: bool) -> dict[str, Any]:
        tree = _tree_settings(self.Base)
        # fit's early_stopping_rounds overrides the constructor's, as in NGBoost.
        rounds = (
            self.early_stopping_rounds if early_stopping_rounds is None else early_stopping_rounds
        )
        use_fraction = rounds is not None and not has_val and self.validation_fraction
        kwargs: dict[str, Any] = {
            "scoring_rule": self._rule(),
            "n_estimators": self.n_estimators,
            "learning_rate": self.learning_rate,
            "leaf_rule": "ngboost",
            "subsample": self.minibatch_frac,
            "colsample": self.col_sample,
            "validation_fraction": self.validation_fraction if use_fraction else None,
            "n_iter_no_change": rounds,
            "tol": self.tol,
            "random_state": self.random_state,
            "verbose": self.verbose,
        }
        if tree is None:
            kwargs["base_learner"] = self.Base
        else:
            kwargs.update(tree)
        return kwargs

    def _finish(self, model: Any) -> None:
        self.model_ = model
        self.n_features_in_ = model.n_features_in_
        if hasattr(model, "feature_names_in_"):
            self.feature_names_in_ = model.feature_names_in_
        has_val = bool(np.isfinite(model.validation_loss_).any())
        self.best_val_loss_itr = int(model.best_iteration_) if has_val else None
        name = "CRPS" if self.Score.rule == "crps" else "LOGSCORE"
        self.evals_result = {"train": {name: list(model.train_loss_)}}
        if has_val:
            self.evals_result["val"] = {name: list(model.validation_loss_)}

    # ------------------------------------------------------------------ prediction
    def _stages(self, max_iter: int | None) -> int | None:
        check_is_fitted(self, "model_")
        if max_iter is None:
            return None
        return int(min(max(int(max_iter), 0), self.model_.n_estimators_))

    def _wrap(self, dist: Distribution) -> NGBDistribution:
        return NGBDistribution(dist)

    def pred_dist(self, X: Any, max_iter: int | None = None) -> NGBDistribution:
        """Predicted distributions of the rows of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        max_iter : int, optional
            Use the first ``max_iter`` stages; by default the best validation stage
            (``best_val_loss_itr``) when there was a validation set, otherwise all.

        Returns
        -------
        NGBDistribution
            ``.params`` holds the natural parameters under NGBoost's names.
        """
        return self._wrap(self.model_.predict_dist(X, n_stages=self._stages(max_iter)))

    def staged_pred_dist(self, X: Any, max_iter: int | None = None) -> Iterator[NGBDistribution]:
        """Yield the predicted distributions after each stage 1, 2, ..., (max_iter)."""
        stop = self._stages(max_iter)
        for stage, dist in enumerate(self.model_.staged_predict_dist(X), start=1):
            if stop is not None and stage > stop:
                return
            yield self._wrap(dist)

    def _point(self, dist: NGBDistribution) -> Array:
        batch = dist.dist
        if batch.name in ("student_t", "cauchy"):  # NGBoost predicts the location
            return np.asarray(batch.natural_params["loc"])
        try:
            return batch.mean()
        except ValueError:  # no finite mean: the median
            return batch.ppf(np.full(len(batch), 0.5))

    def predict(self, X: Any, max_iter: int | None = None) -> Array:
        """Point predictions, shape (n_samples,) (the mean; for Student's t and Cauchy the
        location)."""
        return self._point(self.pred_dist(X, max_iter))

    def staged_predict(self, X: Any, max_iter: int | None = None) -> Iterator[Array]:
        """Yield the point predictions after each stage."""
        for dist in self.staged_pred_dist(X, max_iter):
            yield self._point(dist)

    @property
    def feature_importances_(self) -> Array:
        """Normalised importances, shape (n_params, n_features): one row per parameter."""
        check_is_fitted(self, "model_")
        return self.model_.feature_importances_


_NGB_DOC = """

    Parameters
    ----------
    Dist : distribution name, default={default}
        One of this module's names ({names}).
    Score : {{LogScore, CRPScore}}, default=LogScore
        The scoring rule (CRPScore for Normal, Laplace and LogNormal).
    Base : DecisionTreeRegressor or regressor, optional
        ``None`` or a `DecisionTreeRegressor` the native tree can express (criterion
        ``"friedman_mse"``/``"squared_error"``, ``splitter="best"``, no feature sampling, no
        pruning): the native histogram tree with its ``max_depth``, ``min_samples_leaf`` and
        ``max_leaf_nodes`` (``None``: depth 3, one row per leaf, as NGBoost's default). Any
        other regressor is cloned per parameter and stage (natgrad's ``base_learner``).
    natural_gradient : bool, default=True
        ``False`` fits the ordinary gradient: the same rule with the identity metric.
    n_estimators, learning_rate : int, float
        Stages and shrinkage.
    minibatch_frac, col_sample : float
        Row and column fractions drawn for each stage (``subsample``, ``colsample``).
    verbose : bool, default=True
        Show a progress bar. ``verbose_eval`` and ``n_jobs`` are accepted and ignored.
    tol : float, default=1e-4
        Minimum validation improvement that early stopping counts.
    random_state : int, RandomState or None
    validation_fraction : float, default=0.1
        Held-out fraction when ``early_stopping_rounds`` is set and ``fit`` gets no
        ``X_val``.
    early_stopping_rounds : int, optional
        Stop after this many stages without validation improvement.

    Attributes
    ----------
    model_ : {native}
        The fitted native estimator.
    best_val_loss_itr : int or None
        Number of stages with the best validation loss (None without a validation set);
        predictions use it by default.
    evals_result : dict
        ``{{"train": {{name: losses}}, "val": ...}}``, the mean score before the first stage
        and after each stage.
    feature_importances_ : ndarray of shape (n_params, n_features)
    """


class NGBRegressor(RegressorMixin, _NGBBase):
    """NGBoost's regressor on natgrad's engine (see the module docstring for the mapping)."""

    _native = NGBoostRegressor
    _default_dist = Normal

    def fit(
        self,
        X: Any,
        Y: ArrayLike,
        X_val: Any = None,
        Y_val: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
        val_sample_weight: ArrayLike | None = None,
        train_loss_monitor: Any = None,
        val_loss_monitor: Any = None,
        early_stopping_rounds: int | None = None,
    ) -> NGBRegressor:
        """Fit to targets ``Y`` of shape (n_samples,) ((n_samples, k) for
        ``MultivariateNormal(k)``); ``X_val``/``Y_val`` (and
        ``val_sample_weight``) choose the stage and drive early stopping. Loss monitors are
        not supported (ValueError when given)."""
        _no_monitors(self, train_loss_monitor, val_loss_monitor)
        eval_set = _eval_set(self, X_val, (Y_val,), val_sample_weight)
        model = self._make(early_stopping_rounds, eval_set is not None)
        model.fit(X, Y, sample_weight=sample_weight, eval_set=eval_set)
        self._finish(model)
        return self

    def _make(self, rounds: int | None, has_val: bool) -> Any:
        dist = self._dist()
        if dist.n_classes is not None:
            raise ValueError(
                f"The 'Dist' parameter of {type(self).__name__} must be a regression "
                f"distribution. Got {dist!r}, a classification one: use NGBClassifier."
            )
        return self._native(
            dist.family,
            distribution_config=dict(dist.config) or None,
            **self._native_kwargs(rounds, has_val),
        )


class NGBClassifier(ClassifierMixin, _NGBBase):
    """NGBoost's classifier on natgrad's engine (see the module docstring for the mapping).

    ``Dist=Bernoulli`` for two classes, ``k_categorical(K)`` for K; the training labels must
    hold exactly that many classes. ``predict_proba`` columns follow ``classes_`` (for
    labels 0, ..., K − 1, NGBoost's order).
    """

    _native = NGBoostClassifier
    _default_dist = Bernoulli

    def fit(
        self,
        X: Any,
        Y: ArrayLike,
        X_val: Any = None,
        Y_val: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
        val_sample_weight: ArrayLike | None = None,
        train_loss_monitor: Any = None,
        val_loss_monitor: Any = None,
        early_stopping_rounds: int | None = None,
    ) -> NGBClassifier:
        """Fit to class labels ``Y`` (see `NGBRegressor.fit`)."""
        _no_monitors(self, train_loss_monitor, val_loss_monitor)
        dist = self._dist()
        if dist.n_classes is None:
            raise ValueError(
                f"The 'Dist' parameter of {type(self).__name__} must be Bernoulli or "
                f"k_categorical(K). Got {dist!r} instead."
            )
        found = np.unique(np.asarray(Y)).size
        if found != dist.n_classes:
            raise ValueError(
                f"The 'Dist' parameter of {type(self).__name__} is {dist!r}, for "
                f"{dist.n_classes} classes, but 'Y' holds {found} classes."
            )
        eval_set = _eval_set(self, X_val, (Y_val,), val_sample_weight)
        model = self._native(
            "bernoulli" if dist.family == "bernoulli" else "categorical",
            **self._native_kwargs(early_stopping_rounds, eval_set is not None),
        )
        model.fit(X, Y, sample_weight=sample_weight, eval_set=eval_set)
        self.classes_ = model.classes_
        self._finish(model)
        return self

    def _wrap(self, dist: Distribution) -> NGBDistribution:
        return NGBDistribution(dist, self.classes_)

    def _point(self, dist: NGBDistribution) -> Array:
        probs = np.column_stack(list(dist.params.values()))
        return self.classes_[np.argmax(probs, axis=1)]

    def predict_proba(self, X: Any, max_iter: int | None = None) -> Array:
        """Class probabilities, shape (n_samples, n_classes)."""
        return np.column_stack(list(self.pred_dist(X, max_iter).params.values()))

    def staged_predict_proba(self, X: Any, max_iter: int | None = None) -> Iterator[Array]:
        """Yield the class probabilities after each stage."""
        for dist in self.staged_pred_dist(X, max_iter):
            yield np.column_stack(list(dist.params.values()))


class NGBSurvival(_NGBBase):
    """NGBoost's survival model on natgrad's engine (see the module docstring).

    ``fit(X, T, E)`` with times T > 0 and event flags E (1 observed, 0 right-censored);
    ``Dist`` one of LogNormal (default), Exponential, Weibull, Gamma; ``Score=LogScore``
    (the censored log score with NGBoost's metric, the uncensored Fisher information).
    ``predict`` gives the predicted mean time, as NGBoost does.
    """

    _native = NGBoostSurvival
    _default_dist = LogNormal

    def fit(
        self,
        X: Any,
        T: ArrayLike,  # noqa: N803
        E: ArrayLike,  # noqa: N803
        X_val: Any = None,
        T_val: ArrayLike | None = None,  # noqa: N803
        E_val: ArrayLike | None = None,  # noqa: N803
        sample_weight: ArrayLike | None = None,
        val_sample_weight: ArrayLike | None = None,
        train_loss_monitor: Any = None,
        val_loss_monitor: Any = None,
        early_stopping_rounds: int | None = None,
    ) -> NGBSurvival:
        """Fit to right-censored times (see the class docstring and `NGBRegressor.fit`)."""
        _no_monitors(self, train_loss_monitor, val_loss_monitor)
        dist = self._dist()
        if self.Score != LogScore:
            raise ValueError(
                f"The 'Score' parameter of {type(self).__name__} must be LogScore: natgrad "
                f"has no censored CRPS. Got {self.Score!r} instead."
            )
        eval_set = _eval_set(self, X_val, (T_val, E_val), val_sample_weight)
        kwargs = self._native_kwargs(early_stopping_rounds, eval_set is not None)
        metric = CensoredLogScore if self.natural_gradient else _EuclideanCensoredLogScore
        kwargs["scoring_rule"] = metric(metric="fisher")
        model = self._native(dist.family, distribution_config=dict(dist.config) or None, **kwargs)
        model.fit(X, T, E, sample_weight=sample_weight, eval_set=eval_set)
        self._finish(model)
        return self


NGBRegressor.__doc__ = (NGBRegressor.__doc__ or "") + _NGB_DOC.format(
    default="Normal",
    names="Normal, LogNormal, Exponential, Laplace, T, TFixedDf, Cauchy, Gamma, Poisson, "
    "Weibull, HalfNormal, MultivariateNormal(k)",
    native="NGBoostRegressor",
)
NGBClassifier.__doc__ = (NGBClassifier.__doc__ or "") + _NGB_DOC.format(
    default="Bernoulli", names="Bernoulli, k_categorical(K)", native="NGBoostClassifier"
)
NGBSurvival.__doc__ = (NGBSurvival.__doc__ or "") + _NGB_DOC.format(
    default="LogNormal", names="LogNormal, Exponential, Weibull, Gamma", native="NGBoostSurvival"
)


def _no_monitors(est: Any, train: Any, val: Any) -> None:
    if train is not None or val is not None:
        raise ValueError(
            f"The 'train_loss_monitor' and 'val_loss_monitor' arguments of "
            f"{type(est).__name__}.fit are not supported by natgrad. Got {train!r} and {val!r}."
        )


def _eval_set(
    est: Any, X_val: Any, targets: tuple[Any, ...], weight: ArrayLike | None
) -> tuple[Any, ...] | None:
    """The native ``eval_set`` from NGBoost's validation arguments (None without X_val)."""
    if X_val is None:
        return None
    if any(t is None for t in targets):
        raise ValueError(
            f"{type(est).__name__}.fit got 'X_val' without its validation targets; pass "
            "them all (Y_val, or T_val and E_val)."
        )
    return (X_val, *targets) if weight is None else (X_val, *targets, weight)
