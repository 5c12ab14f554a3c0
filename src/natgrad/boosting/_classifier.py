"""Probabilistic classification by natural-gradient boosting."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import ClassifierMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from natgrad._typing import Array
from natgrad.boosting._base import _NGBoostBase, init_with_defaults
from natgrad.distributions import Distribution
from natgrad.io.format import LABEL_KINDS, HeaderReader, python_value


class NGBoostClassifier(ClassifierMixin, _NGBoostBase):
    """Probabilistic classification by natural-gradient boosting.

    Labels of any type are encoded into ``classes_`` (sorted, as scikit-learn does). Two
    classes use the Bernoulli family (one parameter, the log-odds of ``classes_[1]``); K > 2
    classes use the categorical family (K − 1 log-odds against ``classes_[0]``). Every stage
    grows one tree with vector leaves for all K − 1 parameters.

    Parameters
    ----------
    distribution : {"auto", "bernoulli", "categorical"}, default="auto"
        ``"auto"``: Bernoulli for two classes, categorical otherwise. ``"categorical"`` also
        works for two classes.
    **kwargs
        Every other hyper-parameter as in `NGBoostRegressor` (``n_estimators``,
        ``learning_rate``, ``max_depth``, ``leaf_rule``, ...), except that ``subsample``
        defaults to 1.0 (every row each stage): the regressor's 0.3 was chosen on regression
        benchmarks (docs/design.md).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    init_params_, n_estimators_, best_iteration_, train_loss_, validation_loss_,
    feature_importances_, categories_, n_features_in_, feature_names_in_
        As in `NGBoostRegressor`.

    See Also
    --------
    natgrad.NGBoostRegressor : The hyper-parameters this estimator shares.
    natgrad.metrics.evaluate_classification : Log loss, Brier score, accuracy and calibration.
    natgrad.metrics.reliability_curve : Predicted against observed frequencies.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import NGBoostClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2))
    >>> y = np.where(X[:, 0] + 0.5 * rng.normal(size=300) > 0, "yes", "no")
    >>> model = NGBoostClassifier(n_estimators=40, learning_rate=0.1, random_state=0).fit(X, y)
    >>> model.classes_
    array(['no', 'yes'], dtype='<U3')
    >>> proba = model.predict_proba(X[:4])          # shape (4, 2), rows sum to 1
    >>> print(proba.sum(axis=1).round(6))
    [1. 1. 1. 1.]
    >>> model.predict(X[:4]).shape
    (4,)
    """

    _parameter_constraints: dict[str, list[Any]] = {
        **_NGBoostBase._parameter_constraints,
        "distribution": [StrOptions({"auto", "bernoulli", "categorical"})],
    }

    __init__ = init_with_defaults(distribution="auto", subsample=1.0)

    _file_task = "classification"

    def _file_entries(self, params: dict[str, Any]) -> dict[str, Any]:
        # "auto" / "bernoulli" / "categorical" is kept as given; the labels are stored.
        return {"classes": _encode_classes(self.classes_)}

    def _restore_entries(
        self, reader: HeaderReader, family: type[Distribution], config: dict[str, Any]
    ) -> None:
        spec = reader.get("classes", dict)
        dtype, values = spec.get("dtype"), spec.get("values")
        if not isinstance(values, list) or len(values) < 2:
            raise reader.fail("'classes' must hold a list of at least 2 labels")
        try:
            dt = np.dtype(object if dtype == "object" else dtype)
        except (TypeError, ValueError):
            raise reader.fail(f"invalid class label dtype {dtype!r}") from None
        kinds = (str, int, float, bool)
        if dt.kind not in LABEL_KINDS or not all(isinstance(v, kinds) for v in values):
            raise reader.fail(f"class labels must be int, float, str or bool ({dtype!r})")
        if dt.kind in "US":
            # No wider than the longest label needs: a crafted '<U500000000' would otherwise
            # allocate gigabytes for a few short labels.
            longest = max(len(v) if isinstance(v, str) else 0 for v in values)
            if dt.itemsize > max(longest, 1) * (4 if dt.kind == "U" else 1):
                raise reader.fail(
                    f"class label dtype {dtype!r} is wider than its longest label ({longest})"
                )
        try:
            classes = np.array(values, dtype=dt)
        except (TypeError, ValueError, OverflowError):
            raise reader.fail(f"class labels {values!r} do not fit dtype {dtype!r}") from None
        if dt.kind != "O" and classes.tolist() != values:
            raise reader.fail(f"class labels {values!r} do not fit dtype {dtype!r}")
        try:
            ordered = bool(np.all(classes[:-1] < classes[1:]))
        except TypeError:
            ordered = False
        if not ordered:
            raise reader.fail("class labels must be distinct and sorted")
        self.classes_ = classes
        expected, expected_config = self._family()
        if expected is not family or expected_config != config:
            raise reader.fail(
                f"{len(values)} classes with distribution {self.distribution!r} do not match "
                f"the family {family.name!r} {config}"
            )

    def _family(self) -> tuple[type[Distribution], dict[str, Any]]:
        from natgrad.distributions import get

        k = len(self.classes_)
        if self.distribution == "bernoulli" or (self.distribution == "auto" and k == 2):
            if k != 2:
                raise ValueError(
                    f"The 'distribution' parameter of {type(self).__name__} is 'bernoulli', "
                    f"which needs exactly 2 classes. Got {k} classes instead."
                )
            return get("bernoulli"), {}
        return get("categorical"), {"n_classes": k}

    def _check_targets(
        self,
        y: ArrayLike,
        family: type[Distribution],
        config: dict[str, Any],
        name: str = "y",
        keep_classes: bool = False,
    ) -> Array:
        """Labels encoded as 0, ..., K − 1; ``fit``'s ``y`` (unless ``keep_classes``: a
        continued fit's) sets ``classes_``, other labels must be among them."""
        where = f"{type(self).__name__}.fit"
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        arr = np.asarray(y)
        if arr.ndim == 2 and arr.shape[1] == 1:
            warnings.warn(
                f"A column-vector {name} was passed when a 1d array was expected; it is "
                "raveled to shape (n_samples,).",
                DataConversionWarning,
                stacklevel=3,
            )
            arr = arr[:, 0]
        if arr.ndim != 1:
            raise ValueError(
                f"The {name!r} argument of {where} must be 1-d class labels. Got shape "
                f"{arr.shape} instead."
            )
        if name == "y" and not keep_classes:
            check_classification_targets(arr)
            if arr.dtype.kind == "f" and np.isnan(arr).any():
                raise ValueError(f"The 'y' argument of {where} must not contain NaN labels.")
            self.classes_ = np.unique(arr)
            if len(self.classes_) < 2:
                raise ValueError(
                    f"The 'y' argument of {where} must hold at least 2 classes. Got 1 class: "
                    f"{self.classes_.tolist()!r}."
                )
        unseen = ~np.isin(arr, self.classes_)
        if unseen.any():
            raise ValueError(
                f"The {name!r} argument of {where} holds labels unseen in 'y': "
                f"{np.unique(arr[unseen]).tolist()!r}."
            )
        return np.searchsorted(self.classes_, arr).astype(np.float64)

    def _check_more_targets(
        self, y: Any, family: type[Distribution], config: dict[str, Any], n: int
    ) -> Array:
        labels = self._check_targets(y, family, config, keep_classes=True)
        if labels.shape != (n,):
            raise ValueError(
                f"The 'y' argument of {type(self).__name__}.fit must have shape {(n,)}, one "
                f"label per row of X. Got shape {labels.shape} instead."
            )
        return labels

    def fit(
        self,
        X: Any,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        eval_set: tuple[Any, ...] | None = None,
    ) -> NGBoostClassifier:
        """Fit the model; ``y`` holds class labels of any type (see `NGBoostRegressor.fit`)."""
        # The family depends on the number of classes, known only once y is encoded.
        self._check_targets(y, None, {})  # type: ignore[arg-type]
        self._fit(X, y, sample_weight, eval_set)
        return self

    def predict_proba(self, X: Any) -> Array:
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order."""
        dist = self.predict_dist(X)
        probs = dist.probs  # type: ignore[attr-defined]
        if probs.ndim == 1:
            probs = np.column_stack([1.0 - probs, probs])
        return np.asarray(probs)

    def predict_log_proba(self, X: Any) -> Array:
        """Logarithm of `predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of every row."""
        check_is_fitted(self, "init_params_")
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags


def _encode_classes(classes: np.ndarray) -> dict[str, Any]:
    """``classes_`` as ``{"dtype": NumPy dtype string, "values": [...]}`` (JSON values)."""
    arr = np.asarray(classes)
    kind = arr.dtype.kind
    allowed = (str, int, float, bool, np.str_, np.integer, np.floating, np.bool_)
    if kind not in LABEL_KINDS or (
        kind == "O" and not all(isinstance(v, allowed) for v in arr.tolist())
    ):
        bad = next((v for v in arr.tolist() if not isinstance(v, allowed)), arr.dtype)
        raise TypeError(
            "The 'model' argument of natgrad.io.save must have class labels (classes_) that "
            "are int, float, str or bool values; the model file stores no other labels. Got "
            f"a label of type {type(bad).__name__} ({bad!r}) instead."
        )
    values = [python_value(v) for v in arr.tolist()]
    if any(isinstance(v, float) and not np.isfinite(v) for v in values):
        raise ValueError(
            "The 'model' argument of natgrad.io.save must have finite class labels. Got "
            f"{values!r}."
        )
    return {"dtype": "object" if kind == "O" else arr.dtype.str, "values": values}
