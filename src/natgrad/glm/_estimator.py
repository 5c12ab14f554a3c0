"""`GLMRegressor`: `natgrad.glm.fit` as a scikit-learn estimator."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from natgrad._typing import Array
from natgrad._validation import check_sample_weight
from natgrad.distributions import Distribution
from natgrad.glm._fit import fit
from natgrad.glm._results import GLMResults
from natgrad.glm.families import FAMILIES, Family


class GLMRegressor(RegressorMixin, BaseEstimator):
    """A generalised linear model fitted by Fisher scoring, for scikit-learn pipelines.

    The model of `natgrad.glm.fit`; ``predict`` gives the mean, ``predict_dist`` the whole
    predictive distribution (a natgrad batch), ``result_`` the full `GLMResults` (standard
    errors, summary table).

    Parameters
    ----------
    family : str or natgrad.glm.families.Family, default="gaussian"
        One of ``"gaussian"``, ``"binomial"`` (targets are proportions in [0, 1]; the sample
        weights count trials), ``"poisson"``, ``"gamma"``, ``"inverse_gaussian"``,
        ``"negative_binomial"`` (size estimated), or a family instance.
    link : str, optional
        The link; the family's default when None.
    alpha : float, default=0.0
        L2 penalty on the coefficients (not the intercept), in scikit-learn's units: the
        objective is the mean deviance / 2 + alpha/2 ‖coef‖².
    fit_intercept : bool, default=True
    max_iter : int, default=100
        Most Fisher-scoring iterations.
    tol : float, default=1e-12
        Convergence threshold on the squared Fisher length of the last step.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
        0.0 without an intercept.
    n_iter_ : int
    result_ : GLMResults
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when X was a DataFrame with string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import cross_val_score
    >>> from natgrad.glm import GLMRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 3))
    >>> y = X @ [1.0, -2.0, 0.5] + rng.normal(size=300)
    >>> model = GLMRegressor().fit(X, y)
    >>> print(model.coef_.round(1), round(model.intercept_, 1))
    [ 1.  -2.   0.5] -0.1
    >>> scores = cross_val_score(GLMRegressor(), X, y, cv=3)   # an ordinary scikit-learn estimator
    >>> print(scores.round(2))
    [0.83 0.78 0.83]
    """

    _parameter_constraints: dict[str, list[Any]] = {
        "family": [StrOptions(set(FAMILIES)), Family],
        "link": [str, None],
        "alpha": [Interval(Real, 0.0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0.0, None, closed="neither")],
    }

    def __init__(
        self,
        family: str | Family = "gaussian",
        *,
        link: str | None = None,
        alpha: float = 0.0,
        fit_intercept: bool = True,
        max_iter: int = 100,
        tol: float = 1e-12,
    ) -> None:
        self.family = family
        self.link = link
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> Self:
        """Fit the model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional
            Frequency weights (for the binomial family: trials per row).
        """
        self._validate_params()
        names = getattr(X, "columns", None)
        X_arr, y_arr = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        weights = check_sample_weight(sample_weight, X_arr.shape[0], "GLMRegressor.fit")
        if names is not None and hasattr(self, "feature_names_in_"):
            X_fit: Any = X_arr
            columns = [str(c) for c in self.feature_names_in_]
            import pandas as pd

            X_fit = pd.DataFrame(X_arr, columns=columns)
        else:
            X_fit = X_arr
        self.result_: GLMResults = fit(
            X_fit,
            y_arr,
            self.family,
            link=self.link,
            weights=weights,
            fit_intercept=bool(self.fit_intercept),
            alpha=float(self.alpha),
            max_iter=int(self.max_iter),
            tol=float(self.tol),
        )
        params = self.result_.params
        self.intercept_ = float(params[0]) if self.fit_intercept else 0.0
        self.coef_ = params[1:].copy() if self.fit_intercept else params.copy()
        self.n_iter_ = self.result_.n_iter
        return self

    def predict_dist(self, X: ArrayLike) -> Distribution:
        """The predictive distribution of every row (a natgrad batch of n rows)."""
        check_is_fitted(self)
        X_arr = validate_data(self, X, dtype=np.float64, reset=False)
        return self.result_.predict(X_arr)

    def predict(self, X: ArrayLike) -> Array:
        """The predicted mean μ = g⁻¹(Xβ + intercept), shape (n_samples,)."""
        check_is_fitted(self)
        X_arr = validate_data(self, X, dtype=np.float64, reset=False)
        return self.result_.predict_mean(X_arr)
