"""`NGBoostRegressor`: probabilistic regression by natural-gradient boosting."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import RegressorMixin

from natgrad._typing import Array
from natgrad.boosting._base import _NGBoostBase
from natgrad.metrics import point_prediction

__all__ = ["NGBoostRegressor"]


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
    learning_rate : float in (0, 1], default=0.01
        Shrinkage η of every stage (a share of the line search's step; above 1 the stages
        would overshoot it and diverge).
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
        ``"fisher"``: each leaf takes the natural-gradient step of its own parameters,
        (Σ wᵢFᵢ + λI)⁻¹ Σ wᵢgᵢ, with the matching split gain. ``"ngboost"``: least squares
        on per-row natural gradients Fᵢ⁻¹gᵢ (NGBoost's step: leaf values are their leaf
        means); choose it to reproduce NGBoost's fits. How each rule splits:
        docs/design.md.
    max_bins : int, default=255
        Histogram bins per feature (plus one for missing values); also the most categories
        a categorical feature may have.
    categorical_features : "from_dtype", None, or array-like of bool, int or str, \
default="from_dtype"
        Features split by sets of categories (no one-hot encoding needed). ``"from_dtype"``:
        the pandas ``category`` columns of a DataFrame and its text columns (object or
        string columns holding a non-number, as ``natgrad fit`` reads a data file); None:
        none; else a boolean mask, feature indices, or column names. Categories are matched
        by value at prediction; a category not seen in ``fit`` (like NaN) follows each
        split's missing-value side. NumPy input holds the category values themselves. See
        docs/design.md.
    subsample : float, default=0.3
        Fraction of rows drawn (without replacement) for each stage's tree; the tree's
        leaf values come from those rows, the line search and the update use every row.
        It keeps the predicted scale from collapsing where the training rows are fit
        closely: lower it when held-out intervals are too narrow; 1.0 uses every row (as
        NGBoost), for the fewest stages on large data. Why 0.3: docs/design.md.
    colsample : float, default=1.0
        Fraction of features each stage's tree may split on.
    validation_fraction : float, optional
        Hold out this fraction of the training rows to choose the stage (when ``fit`` gets
        no ``eval_set``).
    n_iter_no_change : int, optional
        Stop when the validation loss has not improved by ``tol`` for this many stages.
    tol : float, default=1e-4
        Minimum improvement of the validation loss that counts for early stopping and for
        ``best_iteration_``: a stage must lower the best loss so far by more than ``tol``.
    base_learner : scikit-learn regressor or list of them, optional
        Use this regressor (cloned, one per parameter per stage, on the per-row natural
        gradients) instead of the native histogram tree: NGBoost's slow, general path. A
        list holds one regressor per distribution parameter (``param_names`` order), e.g.
        a deeper tree for the location than for the scale. A learner whose
        ``random_state`` is None gets a seed per stage and parameter drawn from
        ``random_state``, so that the fit is reproducible.
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
        Seed of row/column subsampling, of the automatic validation split and of unseeded
        base learners.
    verbose : bool or int, default=False
        Show a progress bar with the training and validation loss.
    n_jobs : int or None, default=None
        Threads of the compiled kernels in ``fit`` and in large predictions (scikit-learn's
        and LightGBM's meaning): a positive count, -1 for all cores (-2 all but one, ...),
        at most ``NUMBA_NUM_THREADS``. None chooses per call: one thread for small data and
        small batches, otherwise the cores that other processes leave free at the start of
        the call. The model does not depend on it; it is not stored in model files.

    Attributes
    ----------
    init_params_ : ndarray of shape (1, n_params)
        The marginal fit θ⁽⁰⁾.
    n_estimators_ : int
        Number of stages fitted (fewer than ``n_estimators`` after early stopping).
    best_iteration_ : int
        The chosen number of stages, which predictions use by default. With a validation
        set: the last stage that lowered the best validation loss so far by more than
        ``tol`` (0 means the marginal fit alone); a later stage may be lower by less than
        ``tol``. Without one: all ``n_estimators_``.
    train_loss_, validation_loss_ : ndarray of shape (n_estimators_ + 1,)
        Weighted mean score before the first stage and after each stage (validation: NaN
        when no validation set was used).
    categories_ : list or None
        Per feature, the categories seen in ``fit`` (in the order of their bins) for a
        categorical feature and None for a numeric one; None when no feature is
        categorical.
    n_features_in_, feature_names_in_
        As in scikit-learn.

    See Also
    --------
    natgrad.NGBoostClassifier : Class probabilities, by the same boosting.
    natgrad.NGBoostSurvival : Right-censored times.
    natgrad.distributions.names : The families ``distribution`` takes by name.
    natgrad.metrics.evaluate : NLL, CRPS, coverage and calibration of the predicted distributions.
    natgrad.compat.ngboost.NGBRegressor : NGBoost's API on this estimator.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import NGBoostRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-2, 2, size=(300, 2))
    >>> y = X[:, 0] + rng.normal(scale=0.2 + 0.3 * np.abs(X[:, 1]))   # noise grows with |x1|
    >>> model = NGBoostRegressor(n_estimators=60, learning_rate=0.1, random_state=0).fit(X, y)
    >>> dist = model.predict_dist(X[:3])            # a Normal per row
    >>> dist.params.shape                           # (loc, log scale) per row
    (3, 2)
    >>> lower, upper = dist.interval(0.9)
    >>> bool(np.all(lower < upper))
    True
    >>> model.predict(X[:3]).shape                  # the predicted means
    (3,)
    """

    _vector_targets = True
    _file_task = "regression"

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
        """Point predictions, shape (n_samples,), or (n_samples, k) for a vector family: the
        predicted mean, or the median in the rows where the mean does not exist or is not
        finite (`natgrad.metrics.point_prediction`)."""
        return point_prediction(self.predict_dist(X))[0]

    def predict_quantiles(self, X: Any, q: ArrayLike) -> Array:
        """Quantiles of the predicted distributions at each probability in ``q``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        q : float or array-like of shape (n_quantiles,)
            Probabilities in [0, 1].

        Returns
        -------
        ndarray of shape (n_samples, n_quantiles)
        """
        return self.predict_dist(X).quantiles(q)

    def predict_interval(self, X: Any, alpha: float = 0.1) -> Array:
        """Central prediction intervals that hold each target with probability 1 − ``alpha``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        alpha : float in (0, 1), default=0.1
            Miscoverage: the interval runs from the alpha/2 to the 1 − alpha/2 quantile.

        Returns
        -------
        ndarray of shape (n_samples, 2)
            Lower and upper bounds.
        """
        ok = isinstance(alpha, float | int | np.floating) and not isinstance(alpha, bool)
        if not ok or not 0.0 < alpha < 1.0:
            raise ValueError(
                "The 'alpha' parameter of NGBoostRegressor.predict_interval must be a float in "
                f"the range (0, 1). Got {alpha!r} instead."
            )
        return self.predict_quantiles(X, [alpha / 2.0, 1.0 - alpha / 2.0])
