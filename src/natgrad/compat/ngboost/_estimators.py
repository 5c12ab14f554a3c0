"""NGBoost's estimators (``NGBRegressor``, ``NGBClassifier``, ``NGBSurvival``) on natgrad's engine.

The estimators take NGBoost's constructor arguments and build the native estimators
(`natgrad.NGBoostRegressor`, `NGBoostClassifier`, `NGBoostSurvival`) in ``fit``:

=========================  ================================================================
NGBoost argument           native setting
=========================  ================================================================
``Dist``                   a built-in distribution of `natgrad.compat.ngboost.distns`: its
                           natgrad family (compiled stages, exact Fisher); a user-defined
                           `Distn` subclass: trained through its own scores
``Score``                  `LogScore` -> ``"log"``, `CRPScore` -> ``"crps"``; a user-defined
                           rule: its implementation for ``Dist``
``Base``                   a `~sklearn.tree.DecisionTreeRegressor` the native tree can
                           express -> the native histogram tree (``max_depth``,
                           ``max_leaf_nodes``, ``min_samples_leaf`` of at least 5, see
                           below); any other regressor, or a list of one regressor per
                           parameter -> cloned per parameter and stage
``natural_gradient``       ``False``: the same rule with the identity as its metric
``minibatch_frac``         ``subsample``
``col_sample``             ``colsample``
``early_stopping_rounds``  ``n_iter_no_change`` (with ``tol=0``: NGBoost's rule); the
                           constructor's wins over ``fit``'s, as in NGBoost
``validation_fraction``    with the constructor's early stopping and no ``X_val``: NGBoost's
                           split (`train_test_split`), passed as ``eval_set``
``verbose``                ``verbose`` (a progress bar); ``verbose_eval`` and ``tol`` are
                           accepted and ignored
``n_jobs``                 ``n_jobs``: threads of the compiled kernels (the model does not
                           depend on it)
=========================  ================================================================

The native tree is one histogram tree with vector leaves per stage for all parameters, fitted
by least squares to the per-row natural gradients (``leaf_rule="ngboost"``, NGBoost's step),
with leaves of at least 5 rows (``_mapping.MIN_LEAF_ROWS``): on a few hundred rows, one-row
leaves of the histogram tree chase single rows' extreme natural gradients and lose to NGBoost's
exact trees, while five-row leaves beat them (``docs/migrating-from-ngboost.md`` has the
numbers and the command, ``benchmarks/compat_ngboost.py``).

The estimators share `_NGBBase` (`natgrad.compat.ngboost._base`); how ``Dist``, ``Score``
and ``Base`` resolve is `natgrad.compat.ngboost._mapping`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from natgrad._signature import init_with_defaults
from natgrad._typing import Array
from natgrad.boosting import NGBoostClassifier, NGBoostRegressor, NGBoostSurvival
from natgrad.compat.ngboost import scores as ngb_scores
from natgrad.compat.ngboost._base import _NGB_DOC, _Call, _NGBBase, _val_rows
from natgrad.compat.ngboost._mapping import (
    _EuclideanCensoredLogScore,
    _IdentityMetric,  # noqa: F401 - for old pickles, see below
    _Spec,
    _spec,
)
from natgrad.compat.ngboost._monitors import Rows
from natgrad.compat.ngboost.distns import LogNormal, k_categorical
from natgrad.compat.ngboost.distns._native import NativeCensoredLogScore
from natgrad.compat.ngboost.distns.distn import ClassificationDistn, RegressionDistn
from natgrad.compat.ngboost.helpers import Y_from_censored
from natgrad.scores import CensoredLogScore

__all__ = ["NGBClassifier", "NGBRegressor", "NGBSurvival"]

# Pickles written before this module was split (2026-12) name _Spec, _IdentityMetric and
# _EuclideanCensoredLogScore in this module; they load because the names are here too.


def _regression_targets(spec: _Spec, Y: Any) -> Any:
    """``MultivariateNormal(1)`` takes targets of shape (n, 1) on natgrad's Normal."""
    if spec.native and spec.flip is not None and Y is not None:
        arr = np.asarray(Y, dtype=np.float64)
        return arr.reshape(arr.shape[0]) if arr.ndim == 2 and arr.shape[1] == 1 else arr
    return Y


class NGBRegressor(RegressorMixin, _NGBBase):
    """NGBoost's regressor on natgrad's engine (see the module docstring for the mapping).

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.compat.ngboost import NGBRegressor      # was: from ngboost import NGBRegressor
    >>> from natgrad.compat.ngboost.distns import Normal
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 3))
    >>> Y = X[:, 0] + rng.normal(scale=0.5, size=300)
    >>> ngb = NGBRegressor(Dist=Normal, n_estimators=50, random_state=0, verbose=False).fit(X, Y)
    >>> dist = ngb.pred_dist(X[:3])
    >>> sorted(dist.params)
    ['loc', 'scale']
    >>> ngb.predict(X[:3]).shape
    (3,)
    """

    _kind = RegressionDistn

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
        ``MultivariateNormal(k)``); ``X_val``/``Y_val`` (and ``val_sample_weight``) record
        validation losses and drive early stopping. ``train_loss_monitor(D, Y, weight)`` and
        ``val_loss_monitor(D, Y_val)`` replace the mean score in ``evals_result`` (and, for
        validation, in early stopping), as in NGBoost."""
        call = _Call(
            X, Y, X_val, Y_val, sample_weight, val_sample_weight,
            train_loss_monitor, val_loss_monitor, early_stopping_rounds,
        )  # fmt: skip
        return self._fit_ngboost(call, continuing=False)

    def _fit_ngboost(self, call: _Call, continuing: bool) -> NGBRegressor:
        spec = self._spec_ if continuing else _spec(self, RegressionDistn)
        Y = _regression_targets(spec, call.Y)
        Y_val = _regression_targets(spec, call.Y_val)
        self._train(
            spec,
            lambda kwargs: NGBoostRegressor(
                spec.family, distribution_config=dict(spec.config) or None, **kwargs
            ),
            Rows(call.X, (Y,), call.sample_weight, Y),
            _val_rows(self, call.X_val, (Y_val,), call.val_sample_weight, Y_val),
            call,
            continuing,
        )
        return self

    def score(self, X: Any, Y: ArrayLike) -> float:  # RegressorMixin's is R²
        return _NGBBase.score(self, X, _regression_targets(self._spec_, Y))


class NGBClassifier(ClassifierMixin, _NGBBase):
    """NGBoost's classifier on natgrad's engine (see the module docstring for the mapping).

    ``Dist=Bernoulli`` (the default) for two classes, ``k_categorical(K)`` for K; the
    training labels must hold exactly that many classes. Labels are encoded into
    ``classes_`` (sorted), as NGBoost's label encoder does; ``predict_proba`` columns follow
    ``classes_``.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.compat.ngboost import NGBClassifier
    >>> from natgrad.compat.ngboost.distns import k_categorical
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2))
    >>> Y = np.digitize(X[:, 0], [-0.5, 0.5])       # three classes
    >>> ngb = NGBClassifier(Dist=k_categorical(3), n_estimators=30, random_state=0, verbose=False)
    >>> ngb = ngb.fit(X, Y)
    >>> ngb.predict_proba(X[:2]).shape
    (2, 3)
    """

    _kind = ClassificationDistn
    classes_: np.ndarray

    __init__ = init_with_defaults(_NGBBase.__init__, Dist=k_categorical(2))

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
        """Fit to class labels ``Y`` (see `NGBRegressor.fit`; monitors get the labels
        encoded as 0, ..., K − 1, as NGBoost's do)."""
        call = _Call(
            X, Y, X_val, Y_val, sample_weight, val_sample_weight,
            train_loss_monitor, val_loss_monitor, early_stopping_rounds,
        )  # fmt: skip
        return self._fit_ngboost(call, continuing=False)

    def _fit_ngboost(self, call: _Call, continuing: bool) -> NGBClassifier:
        labels = np.asarray(call.Y)
        if continuing:
            spec = self._spec_
            n_classes = int(np.size(self.classes_))
        else:
            spec = _spec(self, ClassificationDistn)
            self.classes_ = np.unique(labels)
            n_classes = self._n_classes(spec)
            if self.classes_.size != n_classes:
                raise ValueError(
                    f"The 'Dist' parameter of {type(self).__name__} is {self.Dist!r}, for "
                    f"{n_classes} classes, but 'Y' holds {self.classes_.size} classes."
                )
        encoded = self._encode(labels)
        val = None if call.Y_val is None else self._encode(np.asarray(call.Y_val))

        def build(kwargs: dict[str, Any]) -> Any:
            if spec.native and spec.family == "categorical":
                family = "bernoulli" if n_classes == 2 else "categorical"
                return NGBoostClassifier(family, **kwargs)
            # other classification families train on the encoded labels
            return NGBoostRegressor(spec.family, distribution_config=dict(spec.config), **kwargs)

        self._train(
            spec,
            build,
            Rows(call.X, (encoded,), call.sample_weight, encoded),
            _val_rows(self, call.X_val, (val,), call.val_sample_weight, val),
            call,
            continuing,
        )
        return self

    def _n_classes(self, spec: _Spec) -> int:
        if spec.native and spec.family == "categorical":
            return int(spec.make.n_params) + 1
        make = spec.make
        probe = make(np.zeros((make.n_params, 1)))
        return int(np.shape(probe.class_probs())[1])

    def _encode(self, Y: ArrayLike) -> np.ndarray:
        arr = np.asarray(Y)
        unseen = ~np.isin(arr, self.classes_)
        if unseen.any():
            raise ValueError(
                f"{type(self).__name__} got labels unseen in fit: "
                f"{np.unique(arr[unseen]).tolist()!r}."
            )
        return np.searchsorted(self.classes_, arr)

    def predict(self, X: Any, max_iter: int | None = None) -> np.ndarray:
        """The most probable class of every row (labels from ``classes_``)."""
        return self.classes_[np.argmax(self.predict_proba(X, max_iter), axis=1)]

    def staged_predict(self, X: Any, max_iter: int | None = None) -> list[np.ndarray]:
        return [self.classes_[np.argmax(p, axis=1)] for p in self.staged_predict_proba(X, max_iter)]

    def score(self, X: Any, Y: ArrayLike) -> float:  # ClassifierMixin's is accuracy
        return _NGBBase.score(self, X, Y)

    def predict_proba(self, X: Any, max_iter: int | None = None) -> Array:
        """Class probabilities, shape (n_samples, n_classes)."""
        return np.asarray(self.pred_dist(X, max_iter).class_probs())

    def staged_predict_proba(self, X: Any, max_iter: int | None = None) -> list[Array]:
        """The class probabilities after each stage."""
        return [np.asarray(d.class_probs()) for d in self.staged_pred_dist(X, max_iter)]


class NGBSurvival(_NGBBase):
    """NGBoost's survival model on natgrad's engine (see the module docstring).

    ``fit(X, T, E)`` with times T > 0 and event flags E (1 observed, 0 right-censored);
    ``Dist`` one of LogNormal (default), Exponential, Weibull, Gamma; ``Score=LogScore``
    (the censored log score with NGBoost's metric, the uncensored Fisher information).
    ``predict`` gives the predicted mean time, as NGBoost does.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.compat.ngboost import NGBSurvival
    >>> from natgrad.compat.ngboost.distns import LogNormal
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2))
    >>> T = rng.lognormal(mean=1.0 + 0.5 * X[:, 0], sigma=0.5)
    >>> C = rng.lognormal(mean=1.5, sigma=0.5, size=300)
    >>> ngb = NGBSurvival(Dist=LogNormal, n_estimators=30, random_state=0, verbose=False)
    >>> ngb = ngb.fit(X, np.minimum(T, C), (T <= C).astype(int))   # fit(X, T, E)
    >>> ngb.pred_dist(X[:2]).params["s"].shape
    (2,)
    """

    _kind = RegressionDistn

    __init__ = init_with_defaults(_NGBBase.__init__, Dist=LogNormal)

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
        """Fit to right-censored times (see the class docstring and `NGBRegressor.fit`;
        monitors get NGBoost's structured targets, `Y_from_censored(T, E)`)."""
        call = _Call(
            X, (T, E), X_val, (T_val, E_val), sample_weight, val_sample_weight,
            train_loss_monitor, val_loss_monitor, early_stopping_rounds,
        )  # fmt: skip
        return self._fit_ngboost(call, continuing=False)

    # Survival's targets are (T, E), in partial_fit as in fit (NGBoost's survival fit
    # differs from the other estimators' in the same way).
    def partial_fit(  # type: ignore[override]
        self,
        X: Any,
        T: ArrayLike,  # noqa: N803
        E: ArrayLike | None = None,  # noqa: N803
        X_val: Any = None,
        T_val: ArrayLike | None = None,  # noqa: N803
        E_val: ArrayLike | None = None,  # noqa: N803
        sample_weight: ArrayLike | None = None,
        val_sample_weight: ArrayLike | None = None,
        train_loss_monitor: Any = None,
        val_loss_monitor: Any = None,
        early_stopping_rounds: int | None = None,
    ) -> NGBSurvival:
        """Continue the fit with ``n_estimators`` further stages on right-censored times
        (see `NGBRegressor.partial_fit`; the censored marginal fit of these times becomes
        ``init_params``). ``partial_fit(X, T, E, ...)`` as ``fit``; NGBoost's survival
        model inherits ``partial_fit(X, Y, ...)`` with ``Y = Y_from_censored(T, E)``,
        which is taken too (``T`` structured, ``E`` None; ``T_val`` likewise)."""
        call = _Call(
            X, _censored(T, E), X_val, _censored(T_val, E_val, "T_val"), sample_weight,
            val_sample_weight, train_loss_monitor, val_loss_monitor, early_stopping_rounds,
        )  # fmt: skip
        return self._fit_ngboost(call, continuing=self.__sklearn_is_fitted__())

    def _fit_ngboost(self, call: _Call, continuing: bool) -> NGBSurvival:
        (T, E), (T_val, E_val) = call.Y, call.Y_val  # noqa: N806
        spec = self._spec_ if continuing else _spec(self, RegressionDistn)
        if self.Score is not ngb_scores.LogScore:
            raise ValueError(
                f"The 'Score' parameter of {type(self).__name__} must be LogScore: natgrad "
                f"has no censored CRPS. Got {self.Score!r} instead."
            )
        if not spec.native or spec.family not in ("lognormal", "exponential", "weibull", "gamma"):
            raise ValueError(
                f"The 'Dist' parameter of {type(self).__name__} must be LogNormal, "
                f"Exponential, Weibull or Gamma. Got {self.Dist!r} instead."
            )
        metric = CensoredLogScore if self.natural_gradient else _EuclideanCensoredLogScore

        def build(kwargs: dict[str, Any]) -> Any:
            kwargs["scoring_rule"] = metric(metric="fisher")
            config = dict(spec.config) or None
            return NGBoostSurvival(spec.family, distribution_config=config, **kwargs)

        self._train(
            spec,
            build,
            Rows(call.X, (T, E), call.sample_weight, self._ngboost_y((T, E))),
            _val_rows(
                self,
                call.X_val,
                (T_val, E_val),
                call.val_sample_weight,
                self._ngboost_y((T_val, E_val)),
            ),
            call,
            continuing,
        )
        return self

    def _ngboost_y(self, targets: tuple[Any, ...]) -> Any:
        return Y_from_censored(*targets)

    def _monitor_impl(self) -> Any:
        return NativeCensoredLogScore

    def score(self, X: Any, T: ArrayLike, E: ArrayLike | None = None) -> float:  # noqa: N803
        """The mean censored log-likelihood of (T, E) (E = 1 for every row by default)."""
        check_is_fitted(self, "model_")
        times = np.asarray(T, dtype=np.float64)
        events = np.ones_like(times) if E is None else np.asarray(E, dtype=np.float64)
        dist = self.model_.predict_dist(X, n_stages=self._stages(None))
        return -float(np.mean(CensoredLogScore().score(dist, np.column_stack([times, events]))))


def _censored(T: Any, E: Any, name: str = "T") -> tuple[Any, Any]:  # noqa: N803
    """(T, E), also from NGBoost's structured targets (`Y_from_censored`) in ``T``."""
    if T is None or E is not None:
        return T, E
    names = getattr(getattr(T, "dtype", None), "names", None)
    if names is None or not {"Event", "Time"} <= set(names):
        raise ValueError(
            f"NGBSurvival.partial_fit needs the event flags with the times: pass E{name[1:]}, "
            f"or NGBoost's structured targets Y_from_censored(T, E) as {name}. Got {name} "
            "without them."
        )
    return T["Time"], T["Event"]


NGBRegressor.__doc__ = (NGBRegressor.__doc__ or "") + _NGB_DOC.format(
    default="Normal", kind="RegressionDistn", native="NGBoostRegressor"
)
NGBClassifier.__doc__ = (NGBClassifier.__doc__ or "") + _NGB_DOC.format(
    default="k_categorical(2)", kind="ClassificationDistn", native="NGBoostClassifier"
)
NGBSurvival.__doc__ = (NGBSurvival.__doc__ or "") + _NGB_DOC.format(
    default="LogNormal", kind="RegressionDistn", native="NGBoostSurvival"
)
