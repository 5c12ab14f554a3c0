"""Natural-gradient boosting for right-censored time-to-event data.

The model is `NGBoostRegressor`'s, with targets (time, event) and the censored log score
(`natgrad.scores.CensoredLogScore`): −log f(t) for observed events, −log S(t) for censored
rows. θ⁽⁰⁾ is the censored maximum-likelihood fit of the family to all rows; each stage's
natural gradient uses the metric of `CensoredLogScore.metric_at` (the Fisher information of a
censored row at its censoring time, the family's Fisher for event rows).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from natgrad._targets import check_time_event
from natgrad._typing import Array
from natgrad._validation import as_float_array, check_sample_weight, describe
from natgrad.boosting._base import _NGBoostBase, init_with_defaults
from natgrad.distributions import Distribution
from natgrad.io.format import HeaderReader
from natgrad.scores import CensoredLogScore, Score


def _is_structured(value: Any) -> bool:
    """Whether ``value`` is a NumPy structured array (or record array)."""
    return isinstance(value, np.ndarray) and value.dtype.names is not None


def _split_structured(y: np.ndarray, name: str, where: str) -> tuple[Array, Array, str, str]:
    """(time, event, time field, event field) of a structured target array.

    The fields are told apart by dtype, so that any names and order work (scikit-survival
    writes ``[("event", bool), ("time", float)]``, other code ``("status", int)`` first or
    last): the event field is the one boolean field or, when neither is boolean, the one
    integer field beside a floating-point one.
    """
    fields = y.dtype.names or ()
    kinds = {f: y.dtype[f].kind for f in fields}
    shown = ", ".join(f"({f!r}, {y.dtype[f]})" for f in fields)
    expected = (
        f"The {name!r} argument of {where} is a structured array, so it must have exactly two "
        "fields: an event indicator (bool, or int 0/1 beside a float time) and a numeric time, "
        'e.g. dtype [("event", bool), ("time", float)].'
    )
    if len(fields) != 2:
        raise ValueError(f"{expected} Got {len(fields)} field(s): [{shown}].")
    flags = [f for f in fields if kinds[f] == "b"]
    if len(flags) != 1:
        ints = [f for f in fields if kinds[f] in "iu"]
        floats = [f for f in fields if kinds[f] == "f"]
        flags = ints if len(flags) == 0 and len(ints) == 1 and len(floats) == 1 else []
    if not flags:
        raise ValueError(
            f"{expected} Got [{shown}], in which the event field cannot be told from the time "
            "field by its dtype."
        )
    event_field = flags[0]
    time_field = fields[1] if fields[0] == event_field else fields[0]
    if kinds[time_field] not in "fiu":
        raise ValueError(f"{expected} Got [{shown}]: the time field is not numeric.")
    return (
        np.asarray(y[time_field], dtype=np.float64),
        np.asarray(y[event_field], dtype=np.float64),
        time_field,
        event_field,
    )


def _survival_targets(
    time: Any,
    event: Any,
    n: int,
    where: str,
    names: tuple[str, str] = ("y", "event"),
) -> Array:
    """Validated targets of shape (n, 2): column 0 the times, column 1 the event flags.

    ``time`` (named ``names[0]`` in messages) is an array of times (``event`` None: every
    row observed) or a structured array holding both (`_split_structured`; ``event`` must
    then be None).
    """
    if time is None:
        # The phrase scikit-learn's check_requires_y_none looks for.
        raise ValueError(
            f"{where.split('.')[0]} requires y to be passed, but the target y is None."
        )
    if _is_structured(time):
        if event is not None:
            raise ValueError(
                f"The {names[1]!r} argument of {where} must be None when {names[0]!r} is a "
                f"structured array (which carries the event flags). Got {describe(event)} "
                "instead."
            )
        t, e, time_field, event_field = _split_structured(time, names[0], where)
        subjects = (
            f"The time field {time_field!r} of the structured {names[0]!r} argument of {where}",
            f"The event field {event_field!r} of the structured {names[0]!r} argument of {where}",
        )
        if t.ndim != 1 or t.shape[0] != n:
            raise ValueError(
                f"The {names[0]!r} argument of {where} must have shape ({n},), one record per "
                f"row of X. Got shape {t.shape} instead."
            )
    else:
        subjects = (
            f"The {names[0]!r} argument (the times) of {where}",
            f"The {names[1]!r} argument of {where}",
        )
        arrays = []
        for value, name in zip((time, event), names, strict=True):
            arr = np.ones(n) if value is None else as_float_array(value, name, where)
            if arr.ndim == 2 and arr.shape[1] == 1:
                arr = arr[:, 0]
            if arr.shape != (n,):
                raise ValueError(
                    f"The {name!r} argument of {where} must have shape ({n},), one value per "
                    f"row of X. Got shape {arr.shape} instead."
                )
            arrays.append(arr)
        t, e = arrays
    check_time_event(t, e, subjects)
    return np.ascontiguousarray(np.column_stack([t, e]))


class NGBoostSurvival(_NGBoostBase):
    """Survival analysis by natural-gradient boosting (right-censored data).

    Each row's time-to-event T follows a distribution of the chosen family whose parameters
    are boosted functions of the features. Training minimises the censored log score:
    −log f(t) for observed events, −log S(t) = −log P(T > t) for censored rows.

    Parameters
    ----------
    distribution : {"lognormal", "exponential", "weibull", "gamma"} or class, default="lognormal"
        The family of T.
    scoring_rule : {"log"} or CensoredLogScore, default="log"
        ``"log"`` is the censored log score. Its metric follows the leaf rule: with
        ``leaf_rule="fisher"`` (native trees) ``CensoredLogScore(metric="censored")``, the
        Fisher information of each censored row at its censoring time (the leaf's metric is
        then the information its rows actually carry); with ``leaf_rule="ngboost"`` or a
        ``base_learner`` ``CensoredLogScore(metric="fisher")``, the uncensored Fisher as in
        NGBoost (why the two differ: docs/design.md, "Survival targets"). A
        `CensoredLogScore` instance is used as given.
    distribution_config, n_estimators, learning_rate, max_depth, max_leaves, min_samples_leaf, \
l2_regularization, leaf_rule, max_bins, categorical_features, colsample, \
validation_fraction, n_iter_no_change, tol, base_learner, monotonic_cst, random_state, \
verbose, n_jobs
        As in `NGBoostRegressor`.
    subsample : float, default=1.0
        As in `NGBoostRegressor`, with every row each stage by default here (the
        regressor's 0.3 was chosen on regression benchmarks).
    leaf_prior : float, default=3.0
        As in `NGBoostRegressor`, with a default of 3 pseudo-rows here: censored rows carry
        little Fisher information, so a leaf's step can rest on one or two events, and
        without the prior their predicted scale can collapse. Raise it when most rows are
        censored and the predicted survival curves are too steep (docs/design.md, "Leaf
        prior").

    Attributes
    ----------
    init_params_ : ndarray of shape (1, n_params)
        The censored maximum-likelihood fit θ⁽⁰⁾ of the family to all training rows.
    n_estimators_, best_iteration_, train_loss_, validation_loss_, categories_, n_features_in_, \
feature_names_in_
        As in `NGBoostRegressor`; the losses are weighted mean censored log scores.

    See Also
    --------
    natgrad.NGBoostRegressor : The hyper-parameters this estimator shares.
    natgrad.scores.CensoredLogScore : The scoring rule it trains on.
    natgrad.metrics.evaluate_survival : Censored NLL, concordance and calibration.
    natgrad.metrics.kaplan_meier : The observed survival curve to compare against.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import NGBoostSurvival
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2))
    >>> t = rng.lognormal(mean=1.0 + 0.5 * X[:, 0], sigma=0.5)   # event times
    >>> c = rng.lognormal(mean=1.5, sigma=0.5, size=300)         # censoring times
    >>> time, event = np.minimum(t, c), t <= c
    >>> model = NGBoostSurvival(n_estimators=40, learning_rate=0.1, random_state=0)
    >>> model = model.fit(X, time, event)
    >>> S = model.predict_survival_function(X[:2], times=[1.0, 3.0, 10.0])
    >>> S.shape                                     # (rows, times)
    (2, 3)
    >>> bool(np.all(np.diff(S, axis=1) <= 0))       # survival curves never rise
    True
    """

    _parameter_constraints: dict[str, list[Any]] = {
        **_NGBoostBase._parameter_constraints,
        "scoring_rule": [StrOptions({"log"}), CensoredLogScore],
    }

    __init__ = init_with_defaults(distribution="lognormal", leaf_prior=3.0, subsample=1.0)

    # ------------------------------------------------------------------ model file
    _file_task = "survival"

    def _file_entries(self, params: dict[str, Any]) -> dict[str, Any]:
        params["distribution"] = self._template_.name
        rule: Any = self._score_rule  # the CensoredLogScore of `_check_score`
        score = {"name": rule.name, "config": {"metric": rule.metric_kind}}
        if not isinstance(params["scoring_rule"], str):
            params["scoring_rule"] = dict(score)
        return {"score": score}

    @classmethod
    def _restore_params(cls, params: dict[str, Any], reader: HeaderReader) -> None:
        if isinstance(params.get("scoring_rule"), dict):
            params["scoring_rule"] = _censored_score(params["scoring_rule"], reader)

    def _restore_score(self, reader: HeaderReader, family: type[Distribution]) -> Score:
        score = _censored_score(reader.get("score", dict), reader)
        if not score.supports(family):
            raise reader.fail(f"the censored log score does not support {family.name!r}")
        return score

    # ------------------------------------------------------------------ validation
    def _check_score(self, family: type[Distribution]) -> CensoredLogScore:
        rule = self.scoring_rule
        if isinstance(rule, CensoredLogScore):
            score = rule
        else:
            fisher_leaves = self.leaf_rule == "fisher" and self.base_learner is None
            score = CensoredLogScore(metric="censored" if fisher_leaves else "fisher")
        if not score.supports(family):
            raise ValueError(
                f"The 'distribution' parameter of {type(self).__name__} must be one of "
                f"'lognormal', 'exponential', 'weibull' or 'gamma' (families with a censored "
                f"log score). Got {family.name!r} instead."
            )
        return score

    def _check_fit_targets(
        self, y: Any, family: type[Distribution], config: dict[str, Any], n: int
    ) -> Array:
        time, event = y  # `fit` passes its two target arguments as a pair
        return _survival_targets(time, event, n, f"{type(self).__name__}.fit")

    def _check_training_targets(self, y: Array) -> None:
        if not np.any(y[:, 1] == 1):
            raise ValueError(
                f"The 'event' argument of {type(self).__name__}.fit must flag at least one "
                "observed event (1) among the training rows with positive weight. Got all rows "
                "censored: the likelihood then has no maximum."
            )

    def _check_eval_set(
        self, eval_set: Any, family: type[Distribution], config: dict[str, Any]
    ) -> tuple[Array, Array, Array]:
        where = f"{type(self).__name__}.fit"
        if not isinstance(eval_set, tuple | list) or len(eval_set) not in (2, 3, 4):
            raise ValueError(
                f"The 'eval_set' argument of {where} must be a tuple (X_val, y_val[, "
                "sample_weight_val]) with a structured y_val, or (X_val, y_val[, event_val[, "
                f"sample_weight_val]]). Got {type(eval_set).__name__} of length "
                f"{len(eval_set) if hasattr(eval_set, '__len__') else '?'} instead."
            )
        X_val = self._validate_X(eval_set[0], reset=False)
        n_val = X_val.shape[0]
        rest = list(eval_set[1:])
        if _is_structured(rest[0]):
            if len(rest) == 3:
                raise ValueError(
                    f"The 'eval_set' argument of {where} holds a structured y_val, so it must "
                    "be (X_val, y_val) or (X_val, y_val, sample_weight_val). Got 4 items."
                )
            rest.insert(1, None)  # the structured array carries the event flags
        rest += [None] * (3 - len(rest))
        y_val = _survival_targets(rest[0], rest[1], n_val, where, names=("y_val", "event_val"))
        w_val = check_sample_weight(rest[2], n_val, where)
        return X_val, y_val, w_val

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        X: Any,
        y: ArrayLike,
        event: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
        eval_set: tuple[Any, ...] | None = None,
    ) -> NGBoostSurvival:
        """Fit the model to right-censored times.

        Three forms give the same model: ``fit(X, time, event)``; ``fit(X, y)`` with a
        structured array ``y`` of an event field and a time field (scikit-survival's form, e.g.
        dtype ``[("event", bool), ("time", float)]``); ``fit(X, time)``, every row observed.
        (The second parameter is named ``y``, as scikit-learn requires of ``fit``.)

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; NaN marks a missing value.
        y : array-like of shape (n_samples,) or structured array of shape (n_samples,)
            Event or censoring times, finite and > 0. Or a structured array with exactly two
            fields, told apart by their dtype (field names and order are free): the event
            field is the boolean one, or, when neither is boolean, the integer one (values
            0 or 1) beside a floating-point time; the time field is the other, numeric.
        event : array-like of shape (n_samples,), optional
            1 (or True) where the event was observed at the time in ``y``, 0 where the row
            was censored there. None: the flags come from a structured ``y``, or, with plain
            times, every row was observed.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative row weights.
        eval_set : tuple, optional
            A validation set whose censored log score chooses the stage and drives early
            stopping, in the same forms: ``(X_val, y_val)`` with a structured ``y_val``,
            ``(X_val, time_val, event_val)``, or ``(X_val, time_val)``; each optionally followed
            by ``sample_weight_val``.

        Returns
        -------
        self : NGBoostSurvival
        """
        self._fit(X, (y, event), sample_weight, eval_set)
        return self

    def _initial_params(
        self, y: Array, w: Array, family: type[Distribution], config: dict[str, Any]
    ) -> Array:
        """θ⁽⁰⁾, shape (1, p): the censored maximum-likelihood fit of the marginal.

        Maximises Σ wᵢ [δᵢ log f(tᵢ) + (1 − δᵢ) log S(tᵢ)] by L-BFGS, starting from the
        uncensored marginal fit to all times (which treats censoring times as event times and
        so starts below the censored optimum in scale).
        """
        score = self._score_rule
        start = family.fit_marginal(y[:, 0], w, **config)
        template = family.from_params(start, **config)
        n, p = y.shape[0], start.shape[1]
        w_norm = w / w.sum()

        def objective(theta: Array) -> tuple[float, Array]:
            dist = template.with_params(np.broadcast_to(theta, (n, p)), validate=False)
            with np.errstate(over="ignore", invalid="ignore"):
                value = float(w_norm @ score._score(dist, y))
                gradient = w_norm @ score._grad(dist, y)
            if not (np.isfinite(value) and np.all(np.isfinite(gradient))):
                return 1e300, np.zeros(p)
            return value, gradient

        # Tight tolerances: the censored likelihood can be flat (few events), and the default
        # ones stop while the scale is still off by 1e-4.
        result = optimize.minimize(
            objective,
            start[0],
            jac=True,
            method="L-BFGS-B",
            options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 1000},
        )
        theta = np.asarray(result.x, dtype=np.float64).reshape(1, p)
        if objective(theta[0])[0] > objective(start[0])[0]:
            theta = start  # never start worse than the uncensored fit
        return theta

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        # fit needs targets, and times are positive: scikit-learn's checks then generate
        # valid times (passed as `time` alone: every row observed).
        tags.target_tags.required = True
        tags.target_tags.positive_only = True
        return tags

    # ------------------------------------------------------------------ prediction
    def predict(self, X: Any) -> Array:
        """The predicted median survival time of every row, shape (n_samples,)."""
        dist = self.predict_dist(X)
        return dist.ppf(np.full(len(dist), 0.5))

    def score(self, X: Any, y: ArrayLike, event: ArrayLike | None = None) -> float:
        """Harrell's concordance index of the predicted median times on (X, y).

        The score of scikit-learn's model selection (``cross_val_score``, ``GridSearchCV``),
        as in scikit-survival: 1 when the predicted medians order every comparable pair as
        the observed times do, 0.5 for a random order (`natgrad.metrics.concordance_index`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.
        y, event
            The observed times and event flags in any of the forms of `fit`.

        Returns
        -------
        float
            C in [0, 1]; NaN when no pair is comparable.
        """
        from natgrad.metrics import concordance_index

        predicted = self.predict(X)
        targets = _survival_targets(y, event, len(predicted), f"{type(self).__name__}.score")
        return concordance_index(targets[:, 0], targets[:, 1], predicted)

    def predict_survival_function(self, X: Any, times: ArrayLike) -> Array:
        """S(t | x) = P(T > t | x) at the given times.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.
        times : array-like of shape (n_times,)
            Non-negative, finite times.

        Returns
        -------
        ndarray of shape (n_samples, n_times)
        """
        check_is_fitted(self, "init_params_")
        where = f"{type(self).__name__}.predict_survival_function"
        t = np.atleast_1d(as_float_array(times, "times", where))
        if t.ndim != 1 or not np.all(np.isfinite(t) & (t >= 0)):
            raise ValueError(
                f"The 'times' argument of {where} must be a 1-d array of finite non-negative "
                f"times. Got an array of shape {t.shape} with min {np.min(t) if t.size else None}"
                " instead."
            )
        dist = self.predict_dist(X)
        # The batch broadcasts along the last axis: evaluate at shape (n_times, n_samples).
        return np.ascontiguousarray(dist.sf(t[:, None]).T)


def _censored_score(spec: Any, reader: HeaderReader) -> CensoredLogScore:
    """The censored log score a model file's JSON ``spec`` describes (checked)."""
    if (
        not isinstance(spec, dict)
        or spec.get("name") != CensoredLogScore.name
        or not isinstance(spec.get("config"), dict)
        or set(spec["config"]) != {"metric"}
        or spec["config"]["metric"] not in ("censored", "fisher")
    ):
        raise reader.fail(f"invalid censored scoring rule {spec!r}")
    return CensoredLogScore(metric=spec["config"]["metric"])
