"""The NGBoost estimators' shared base: NGBoost's constructor arguments and parameters, the
native fit and its continuation (``partial_fit``), NGBoost's recorded losses, fitted
attributes and predictions (`_NGBBase`); the estimators are in
`natgrad.compat.ngboost._estimators`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import _num_features, check_is_fitted

from natgrad._typing import Array
from natgrad._validation import check_n_jobs
from natgrad.compat.ngboost import scores as ngb_scores
from natgrad.compat.ngboost._adapter import Scored
from natgrad.compat.ngboost._mapping import _IdentityMetric, _Spec, _tree_settings
from natgrad.compat.ngboost._monitors import Rows, holdout, monitored, stop_stage
from natgrad.compat.ngboost.distns import Normal
from natgrad.compat.ngboost.distns.distn import RegressionDistn
from natgrad.compat.ngboost.learners import default_tree_learner
from natgrad.distributions import Distribution
from natgrad.scores import Score, get_score

#: The native settings that ``partial_fit`` takes from the estimator when it continues a fit
#: (the others, the learner's, stay the first fit's).
_STAGE_LOOP = (
    "learning_rate", "subsample", "colsample", "n_iter_no_change", "tol", "verbose", "n_jobs",
)  # fmt: skip


@dataclass(frozen=True)
class _Call:
    """The arguments of one ``fit`` or ``partial_fit``, NGBoost's (survival: ``Y`` and
    ``Y_val`` are (T, E) pairs)."""

    X: Any
    Y: Any
    X_val: Any = None
    Y_val: Any = None
    sample_weight: Any = None
    val_sample_weight: Any = None
    train_loss_monitor: Any = None
    val_loss_monitor: Any = None
    early_stopping_rounds: int | None = None


class _NGBBase(BaseEstimator):
    """NGBoost's constructor arguments and the methods shared by the three estimators."""

    _kind: type = RegressionDistn

    def __init__(
        self,
        Dist: Any = Normal,  # noqa: N803 - NGBoost's argument names
        Score: Any = ngb_scores.LogScore,  # noqa: N803
        Base: Any = default_tree_learner,  # noqa: N803
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

    # ------------------------------------------------------------------ parameters
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """NGBoost's parameters; with ``deep``, a list ``Base``'s learners as
        ``Base__<i>`` and their parameters as ``Base__<i>__<name>``."""
        params = super().get_params(deep=False)
        if not deep:
            return params
        base = self.Base
        if isinstance(base, list | tuple):
            for i, learner in enumerate(base):
                params[f"Base__{i}"] = learner
                if hasattr(learner, "get_params"):
                    for key, value in learner.get_params(deep=True).items():
                        params[f"Base__{i}__{key}"] = value
        elif hasattr(base, "get_params"):
            for key, value in base.get_params(deep=True).items():
                params[f"Base__{key}"] = value
        return params

    def set_params(self, **params: Any) -> _NGBBase:
        """Set parameters, including ``Base__<i>__<name>`` of a list ``Base``."""
        plain: dict[str, Any] = {}
        nested: dict[str, Any] = {}
        for key, value in params.items():
            head, delim, sub = key.partition("__")
            if head == "Base" and delim and isinstance(self.Base, list | tuple):
                nested[sub] = value
            else:
                plain[key] = value
        if plain:
            super().set_params(**plain)
        if nested:
            learners = list(self.Base)
            for key, value in nested.items():
                index, delim, sub = key.partition("__")
                if not index.isdigit() or int(index) >= len(learners):
                    raise ValueError(
                        f"The 'Base' parameter of {type(self).__name__} is a list of "
                        f"{len(learners)} learners: set their parameters as "
                        f"Base__<position>__<name>. Got Base__{key}."
                    )
                if delim:
                    learners[int(index)].set_params(**{sub: value})
                else:
                    learners[int(index)] = value
            self.Base = type(self.Base)(learners)
        return self

    # ------------------------------------------------------------------ mapping
    def _rule(self, spec: _Spec) -> str | Score:
        if not isinstance(self.natural_gradient, bool | np.bool_):
            raise TypeError(
                f"The 'natural_gradient' parameter of {type(self).__name__} must be a bool. "
                f"Got {self.natural_gradient!r} instead."
            )
        if self.natural_gradient:
            return spec.rule
        return _IdentityMetric(get_score(spec.rule))

    def _base_settings(self, n_params: int) -> dict[str, Any]:
        base = self.Base
        if isinstance(base, list | tuple):
            if len(base) != n_params:
                raise ValueError(
                    f"The 'Base' parameter of {type(self).__name__} must be one learner or a "
                    f"list of one learner per distribution parameter ({n_params}). Got a list "
                    f"of {len(base)}."
                )
            settings = [_tree_settings(b) for b in base]
            if settings[0] is not None and all(s == settings[0] for s in settings):
                return settings[0]  # equal trees: one native tree for every parameter
            return {"base_learner": list(base)}
        tree = _tree_settings(base)
        return {"base_learner": base} if tree is None else tree

    def _native_kwargs(self, spec: _Spec, n_params: int, rounds: int | None) -> dict[str, Any]:
        """The native estimator's arguments; ``rounds``: its early stopping (None: none)."""
        check_n_jobs(self.n_jobs, type(self).__name__)
        kwargs: dict[str, Any] = {
            "scoring_rule": self._rule(spec),
            "n_estimators": self.n_estimators,
            "learning_rate": self.learning_rate,
            "leaf_rule": "ngboost",
            "subsample": self.minibatch_frac,
            "colsample": self.col_sample,
            "n_iter_no_change": rounds,
            # NGBoost counts any lower validation loss as an improvement.
            "tol": 0.0,
            "random_state": self.random_state,
            "verbose": self.verbose,
            "n_jobs": self.n_jobs,
        }
        kwargs.update(self._base_settings(n_params))
        return kwargs

    def _n_params(self, spec: _Spec) -> int:
        return int(spec.make.n_params)

    def _train(
        self,
        spec: _Spec,
        build: Callable[[dict[str, Any]], Any],
        train: Rows,
        val: Rows | None,
        call: _Call,
        continuing: bool = False,
    ) -> None:
        """Fit the native model built by ``build(kwargs)`` and record NGBoost's fitted state;
        ``continuing`` (``partial_fit`` of a fitted model): append ``n_estimators`` stages
        to the fitted model instead (`_continue`).

        As in NGBoost 0.6, the constructor's ``early_stopping_rounds`` wins over ``fit``'s and
        alone splits off ``validation_fraction`` of the rows when no validation set is given
        (`holdout`, NGBoost's split). One random stream serves the split and the stages, as
        NGBoost's ``_rng``: ``fit`` starts it from ``random_state``, ``partial_fit`` goes on
        with it.
        """
        if not continuing or getattr(self, "_rng", None) is None:
            self._rng = check_random_state(self.random_state)
        own = self.early_stopping_rounds
        rounds = own if own is not None else call.early_stopping_rounds
        if own is not None and val is None and self.validation_fraction:
            part, held = holdout(
                train.X, train.targets, train.weight, self.validation_fraction, self._rng
            )
            y_of = self._ngboost_y
            train = Rows(*part, y_of(part[1]))
            val = Rows(*held, y_of(held[1]))
        eval_set = None
        if val is not None:
            eval_set = (val.X, *val.targets) + (() if val.weight is None else (val.weight,))
        # A validation monitor decides the stop after the fit (every stage is trained).
        native_rounds = rounds if call.val_loss_monitor is None and rounds else None
        kwargs = self._native_kwargs(spec, self._n_params(spec), native_rounds)
        if continuing:
            offset = self._continue(kwargs, train, eval_set)
        else:
            offset = 0
            # The fit draws from the stream (the native estimator advances a RandomState
            # it is given); afterwards it shows the estimator's random_state, which its
            # model file keeps.
            model = build({**kwargs, "random_state": self._rng})
            model.fit(train.X, *train.targets, sample_weight=train.weight, eval_set=eval_set)
            model.set_params(random_state=self.random_state)
            self.model_ = model
            self._spec_ = spec
            self.n_features_in_ = model.n_features_in_
            if hasattr(model, "feature_names_in_"):
                self.feature_names_in_ = model.feature_names_in_
        self._record_losses(
            train, val, rounds, call.train_loss_monitor, call.val_loss_monitor, offset
        )

    def _continue(self, kwargs: dict[str, Any], train: Rows, eval_set: Any) -> int:
        """Append ``n_estimators`` stages fitted on ``train`` to the fitted model, from its
        predictions of those rows (`natgrad.boosting`'s warm start), with θ⁽⁰⁾ refitted to
        the new targets as NGBoost's ``partial_fit`` does. Returns the stages kept before."""
        model = self.model_
        offset = self._kept()
        name = type(self).__name__
        n_features = _num_features(train.X)
        if n_features != self.n_features_in_:
            raise ValueError(
                f"The 'X' argument of {name}.partial_fit must have {self.n_features_in_} "
                f"features, as the fitted model. Got {n_features} instead."
            )
        # The stage loop's settings follow the estimator; the learner, the bins and the
        # scoring rule are the first fit's.
        model.set_params(**{key: kwargs[key] for key in _STAGE_LOOP})
        targets = train.targets[0] if len(train.targets) == 1 else tuple(train.targets)
        model._continue_fit(
            train.X, targets, sample_weight=train.weight, eval_set=eval_set,
            n_more=self.n_estimators, n_stages=offset, refit_init=True, rng=self._rng,
        )  # fmt: skip
        return offset

    def partial_fit(
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
    ) -> Any:
        """Continue the fit with ``n_estimators`` further stages fitted on (X, Y), as
        NGBoost's ``partial_fit``; on an unfitted model, ``fit``.

        Every row starts from the fitted model's prediction; the stages fitted so far stay
        as they are and the new ones are appended. As in NGBoost, ``init_params`` becomes
        the marginal fit of this ``Y`` (under the same stages), ``evals_result`` records
        this call's stages, ``best_val_loss_itr`` counts every stage, and the random
        stream of the earlier calls goes on. ``X`` must have the fitted number of features;
        the native tree bins it with the first fit's bins; a classifier's labels must be
        among the fitted ``classes_``. Arguments as in ``fit``.
        """
        call = _Call(
            X, Y, X_val, Y_val, sample_weight, val_sample_weight,
            train_loss_monitor, val_loss_monitor, early_stopping_rounds,
        )  # fmt: skip
        return self._fit_ngboost(call, continuing=self.__sklearn_is_fitted__())

    def _fit_ngboost(self, call: _Call, continuing: bool) -> Any:
        """``fit`` (``continuing`` False) or ``partial_fit`` of a fitted model: each
        estimator's own."""
        raise NotImplementedError

    def _ngboost_y(self, targets: tuple[Any, ...]) -> Any:
        """The native targets as NGBoost's scores and monitors take them."""
        return targets[0]

    def _record_losses(
        self,
        train: Rows,
        val: Rows | None,
        rounds: int | None,
        train_monitor: Any,
        val_monitor: Any,
        offset: int = 0,
    ) -> None:
        """``evals_result``, ``best_val_loss_itr`` and the stages kept, NGBoost's way
        (`natgrad.compat.ngboost._monitors`), for the stages after the first ``offset``
        (the stages this call fitted: ``partial_fit`` records only its own, and
        ``best_val_loss_itr`` counts every stage, as NGBoost's)."""
        model = self.model_
        fitted = int(model.n_estimators_) - offset
        if offset == 0:
            self.best_val_loss_itr = None
        self._n_stages_ = offset + fitted
        name = getattr(self.Score, "__name__", "score").upper()
        val_losses: list[float] = []
        if val is not None:
            if val_monitor is None:
                val_losses = [
                    float(v) for v in model.validation_loss_[offset + 1 : offset + fitted + 1]
                ]
            else:
                val_losses = monitored(
                    lambda D: val_monitor(D, val.ngboost_y),
                    self._manifolds(val.X, first=1, start=offset),
                    fitted,
                )
            kept_new, best = stop_stage(val_losses, rounds)
            self._n_stages_, self.best_val_loss_itr = offset + kept_new, offset + best
        kept = self._n_stages_ - offset
        if train_monitor is None:
            train_losses = [float(v) for v in model.train_loss_[offset : offset + kept]]
        else:
            train_losses = monitored(
                lambda D: train_monitor(D, train.ngboost_y, train.weight),
                self._manifolds(train.X, first=0, start=offset),
                kept,
            )
        self.evals_result = {"train": {name: train_losses}}
        if val is not None:
            self.evals_result["val"] = {name: val_losses[:kept]}

    def _manifolds(self, X: Any, first: int, start: int = 0) -> Iterator[Any]:
        """The predicted distributions of ``X`` bound to the score (NGBoost's manifold
        objects, what its monitors take) after ``start + first``, ``start + first`` + 1,
        ... stages."""
        impl = self._monitor_impl()
        if first == 0:
            yield Scored(self._wrap(self.model_.predict_dist(X, n_stages=start)), impl)
        for dist in islice(self.model_.staged_predict_dist(X), start, None):
            yield Scored(self._wrap(dist), impl)

    def _monitor_impl(self) -> Any:
        return self._spec_.make.implementation(self.Score)

    def _kept(self) -> int:
        """The stages NGBoost's model has: all fitted, or fewer when a validation monitor
        stopped early (unpickled models from before monitors: all)."""
        check_is_fitted(self, "model_")
        return int(getattr(self, "_n_stages_", self.model_.n_estimators_))

    # ------------------------------------------------------------------ fitted attributes
    def _to_ngboost(self, theta: Array) -> Array:
        """natgrad's parameters (n, p) -> NGBoost's internal ones (p, n)."""
        flip = self._spec_.flip
        return (theta if flip is None else theta * np.asarray(flip)).T

    @property
    def init_params(self) -> Array:
        """The marginal fit, NGBoost's internal parameters of shape (n_params,)."""
        check_is_fitted(self, "model_")
        return self._to_ngboost(self.model_.init_params_)[:, 0]

    @property
    def scalings(self) -> list[float]:
        """The line search's step ρ of every stage (NGBoost's ``scalings``)."""
        check_is_fitted(self, "model_")
        model = self.model_._model_
        if hasattr(model, "ensemble"):
            scales = np.asarray(model.ensemble.scales)
        else:
            scales = np.asarray([scale for _, _, scale in model.stages])
        return list(-scales[: self._kept()] / self.learning_rate)

    @property
    def base_models(self) -> list[Any]:
        """Per stage, the fitted learners: one per parameter for a scikit-learn ``Base``;
        for the native tree, the stage's index in the native model (its trees live in one
        flat ensemble, see ``model_``)."""
        check_is_fitted(self, "model_")
        model = self.model_._model_
        if hasattr(model, "stages"):
            return [learners for learners, _, _ in model.stages[: self._kept()]]
        return list(range(self._kept()))

    @property
    def col_idxs(self) -> list[np.ndarray]:
        """Per stage, the feature columns its learners saw (all of them without
        ``col_sample``; the native tree does not record sampled columns)."""
        check_is_fitted(self, "model_")
        model = self.model_._model_
        every = np.arange(self.n_features_in_)
        if hasattr(model, "stages"):
            stages = model.stages[: self._kept()]
            return [every if f is None else np.flatnonzero(f) for _, f, _ in stages]
        return [every for _ in range(self._kept())]

    @property
    def n_features(self) -> int:
        check_is_fitted(self, "model_")
        return int(self.n_features_in_)

    # ------------------------------------------------------------------ prediction
    def _stages(self, max_iter: int | None) -> int:
        kept = self._kept()
        if max_iter is None:
            return kept
        return int(min(max(int(max_iter), 0), kept))

    def _wrap(self, dist: Distribution) -> Any:
        return self._spec_.make(self._to_ngboost(dist.params))

    def pred_dist(self, X: Any, max_iter: int | None = None) -> Any:
        """Predicted distributions of the rows of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        max_iter : int, optional
            Use the first ``max_iter`` stages; by default all that were fitted (as NGBoost
            does, also after early stopping).

        Returns
        -------
        Distn
            An instance of ``Dist`` holding internal parameters (n_params, n_samples).
        """
        return self._wrap(self.model_.predict_dist(X, n_stages=self._stages(max_iter)))

    def pred_param(self, X: Any, max_iter: int | None = None) -> Array:
        """The internal parameters of the predicted distributions, shape
        (n_samples, n_params): rows first, as NGBoost's ``pred_param`` returns them (the
        distribution holds them transposed)."""
        return np.asarray(self.pred_dist(X, max_iter)._params).T.copy()

    def staged_pred_dist(self, X: Any, max_iter: int | None = None) -> list[Any]:
        """The predicted distributions after each stage 1, 2, ..., (max_iter)."""
        stop = self._stages(max_iter)
        out = []
        for stage, dist in enumerate(self.model_.staged_predict_dist(X), start=1):
            if stage > stop:
                break
            out.append(self._wrap(dist))
        return out

    def predict(self, X: Any, max_iter: int | None = None) -> Array:
        """Point predictions, shape (n_samples,): the distribution's ``predict()`` (the
        mean; the location for Student's t and Cauchy)."""
        return np.asarray(self.pred_dist(X, max_iter).predict())

    def staged_predict(self, X: Any, max_iter: int | None = None) -> list[Array]:
        """The point predictions after each stage."""
        return [np.asarray(d.predict()) for d in self.staged_pred_dist(X, max_iter)]

    def score(self, X: Any, Y: ArrayLike) -> float:
        """The negative mean score of ``Y`` under the predicted distributions (higher is
        better, as scikit-learn expects): the mean log-likelihood for `LogScore`, the
        negative mean CRPS for `CRPScore`."""
        dist = self.pred_dist(X)
        impl = type(self)._impl_for(dist, self.Score)
        return -float(np.mean(impl.score(np.asarray(self._encode(Y)))))

    @staticmethod
    def _impl_for(dist: Any, score: Any) -> Any:
        cls = type(dist)
        return Scored(dist, cls.implementation(score))

    def _encode(self, Y: ArrayLike) -> Any:
        return Y

    @property
    def feature_importances_(self) -> Array:
        """Normalised importances, shape (n_params, n_features): one row per parameter."""
        check_is_fitted(self, "model_")
        return self.model_.feature_importances_

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "model_")


_NGB_DOC = """

    Parameters
    ----------
    Dist : distribution, default={default}
        A distribution of `natgrad.compat.ngboost.distns` or a user-defined subclass of its
        `{kind}`.
    Score : scoring rule class, default=LogScore
        `LogScore`, `CRPScore` (Normal, Laplace, LogNormal) or a user-defined `Score`
        subclass that ``Dist`` implements.
    Base : regressor or list of regressors, default=default_tree_learner
        A `DecisionTreeRegressor` the native tree can express (criterion
        ``"friedman_mse"``/``"squared_error"``, ``splitter="best"``, no feature sampling, no
        pruning): the native histogram tree with its ``max_depth`` and ``max_leaf_nodes``
        and ``max(min_samples_leaf, 5)``. Any other regressor, or a list of one per
        parameter, is cloned per parameter and stage.
    natural_gradient : bool, default=True
        ``False`` fits the ordinary gradient: the same rule with the identity metric.
    n_estimators, learning_rate : int, float
        Stages and shrinkage.
    minibatch_frac, col_sample : float
        Row and column fractions drawn for each stage (``subsample``, ``colsample``).
    verbose : bool, default=True
        Show a progress bar. ``verbose_eval`` is accepted and ignored.
    tol : float, default=1e-4
        Accepted and ignored (NGBoost stops when the fitted gradient's mean norm falls
        below it; natgrad fits ``n_estimators`` stages unless early stopping ends the fit).
    random_state : int, RandomState or None
    validation_fraction : float, default=0.1
        Held-out fraction when ``early_stopping_rounds`` is set and ``fit`` gets no
        ``X_val``.
    early_stopping_rounds : int, optional
        Stop after this many stages without validation improvement.
    n_jobs : int or None, default=None
        Threads of natgrad's compiled kernels (the native tree's fit and every prediction):
        -1 for all cores, None to choose from the free cores and the size of the work. The
        fitted model does not depend on it, as in NGBoost.

    Attributes
    ----------
    model_ : {native}
        The fitted native estimator.
    init_params : ndarray of shape (n_params,)
        The marginal fit (internal parameters).
    best_val_loss_itr : int or None
        Index into ``evals_result["val"]`` of the best validation loss: stage
        ``best_val_loss_itr + 1`` (None without a validation set). Predictions use every
        fitted stage by default, as in NGBoost.
    evals_result : dict
        ``{{"train": {{name: losses}}, "val": {{name: losses}}}}`` with ``name`` the score's
        class name in capitals (e.g. ``"LOGSCORE"``): the training loss before each stage and
        the validation loss after each stage (the mean score, or the loss monitors' values),
        as NGBoost records them.
    scalings, base_models, col_idxs : list
        Per stage: the line search's step, the learners, the columns they saw.
    feature_importances_ : ndarray of shape (n_params, n_features)
    """


def _val_rows(est: Any, X_val: Any, targets: tuple[Any, ...], weight: Any, y: Any) -> Rows | None:
    """NGBoost's validation arguments as `Rows` (None without ``X_val``)."""
    if X_val is None:
        return None
    if any(t is None for t in targets):
        raise ValueError(
            f"{type(est).__name__}.fit got 'X_val' without its validation targets; pass "
            "them all (Y_val, or T_val and E_val)."
        )
    return Rows(X_val, targets, weight, y)
