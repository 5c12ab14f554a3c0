"""Metrics of class-probability predictions (re-exported by `natgrad.metrics`).

Log loss, accuracy, Brier score and a binned reliability curve.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from natgrad._typing import Array
from natgrad._validation import as_float_array, check_finite, describe

#: Descriptions of the classification metrics (`evaluate_classification`).
CLASSIFICATION_DESCRIPTIONS = {
    "log_loss": "mean negative log-probability of the observed class",
    "accuracy": "share of rows whose most probable class is the observed one",
    "brier": "mean sum over classes of (p_k - 1{y = k})^2 (Brier's multi-class form)",
    "calibration_error": "mean |observed frequency - predicted probability| over 10 bins",
}
#: Bins of the reliability curve of class probabilities.
RELIABILITY_BINS = 10


# ---------------------------------------------------------------------- classification
def _check_classes(proba: ArrayLike, y: ArrayLike, where: str) -> tuple[Array, NDArray[np.intp]]:
    """Probabilities of shape (n, K) (rows summing to 1) and class indices of shape (n,)."""
    p = as_float_array(proba, "proba", where)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] < 2:
        raise ValueError(
            f"The 'proba' argument of {where} must have shape (n, n_classes) with n >= 1 and "
            f"n_classes >= 2. Got shape {p.shape} instead."
        )
    check_finite(p, "proba", where)
    if np.any(p < 0) or not np.allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-6):
        raise ValueError(
            f"The 'proba' argument of {where} must hold probabilities, each row summing to 1."
        )
    k = as_float_array(y, "y", where)
    if k.shape != (p.shape[0],) or not np.all((k == np.round(k)) & (k >= 0) & (k < p.shape[1])):
        raise ValueError(
            f"The 'y' argument of {where} must hold one class index in [0, {p.shape[1]}) per "
            f"row of 'proba' (shape ({p.shape[0]},)). Got {describe(y)} instead."
        )
    return p, k.astype(np.intp)


def reliability_curve(
    proba: ArrayLike, y: ArrayLike, n_bins: int = RELIABILITY_BINS
) -> tuple[Array, Array, Array]:
    """Mean predicted probability against observed frequency, in equal-width bins.

    Two classes: the pairs (pᵢ₁, 1{yᵢ = 1}), the probability of the second class. K > 2
    classes: every pair (pᵢₖ, 1{yᵢ = k}) of every row and class (one-vs-rest, pooled). The
    pairs are put into ``n_bins`` bins of [0, 1] by predicted probability; a calibrated model
    has observed frequency ≈ mean predicted probability in every bin.

    Parameters
    ----------
    proba : array-like of shape (n, K)
        Predicted class probabilities (``predict_proba``).
    y : array-like of shape (n,)
        Observed class indices in [0, K).
    n_bins : int, default=10

    Returns
    -------
    predicted, observed : ndarray of shape (n_bins,)
        Mean predicted probability and observed frequency per bin (NaN in empty bins).
    counts : ndarray of shape (n_bins,)
        Pairs per bin.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.metrics import reliability_curve
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(size=5000)
    >>> y = (rng.uniform(size=5000) < p).astype(int)             # calibrated: P(y = 1) = p
    >>> proba = np.column_stack([1 - p, p])
    >>> predicted, observed, counts = reliability_curve(proba, y, n_bins=5)
    >>> print(predicted.round(1), observed.round(1))
    [0.1 0.3 0.5 0.7 0.9] [0.1 0.3 0.5 0.7 0.9]
    """
    p, k = _check_classes(proba, y, "natgrad.metrics.reliability_curve")
    if not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ValueError(
            "The 'n_bins' argument of natgrad.metrics.reliability_curve must be a positive "
            f"int. Got {describe(n_bins)} instead."
        )
    onehot = np.zeros_like(p)
    onehot[np.arange(p.shape[0]), k] = 1.0
    if p.shape[1] == 2:
        pred, hit = p[:, 1], onehot[:, 1]
    else:
        pred, hit = p.ravel(), onehot.ravel()
    # Bin b holds b/B <= p < (b+1)/B; p = 1 goes into the last bin.
    idx = np.minimum((pred * n_bins).astype(np.intp), n_bins - 1)
    counts = np.bincount(idx, minlength=n_bins).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        predicted = np.bincount(idx, weights=pred, minlength=n_bins) / counts
        observed = np.bincount(idx, weights=hit, minlength=n_bins) / counts
    return predicted, observed, counts


def evaluate_classification(proba: ArrayLike, y: ArrayLike) -> dict[str, float]:
    """Metrics of predicted class probabilities for observed classes.

    ``log_loss`` (1/n) Σ −log pᵢ,yᵢ (probabilities floored at 1e-300, so a confident miss
    costs about 690 nats rather than infinity); ``accuracy``; ``brier``
    (1/n) Σᵢ Σₖ (pᵢₖ − 1{yᵢ = k})² (Brier's multi-class form: twice scikit-learn's binary
    ``brier_score_loss``); ``calibration_error`` Σ_b (n_b/N) |observed_b − predicted_b| over
    the bins of `reliability_curve` (expected calibration error; 0 when calibrated, plus
    sampling noise of order 1/√n).

    Parameters
    ----------
    proba : array-like of shape (n, K)
        Predicted class probabilities, columns in class order.
    y : array-like of shape (n,)
        Observed class indices in [0, K).

    Returns
    -------
    dict of str to float

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.metrics import evaluate_classification
    >>> proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    >>> scores = evaluate_classification(proba, [0, 1, 1, 1])
    >>> print({k: round(v, 3) for k, v in scores.items() if k != "calibration_error"})
    {'log_loss': 0.4, 'accuracy': 0.75, 'brier': 0.25}
    """
    where = "natgrad.metrics.evaluate_classification"
    p, k = _check_classes(proba, y, where)
    rows = np.arange(p.shape[0])
    onehot = np.zeros_like(p)
    onehot[rows, k] = 1.0
    predicted, observed, counts = reliability_curve(p, k)
    used = counts > 0
    ece = np.sum(counts[used] * np.abs(observed[used] - predicted[used])) / counts.sum()
    return {
        "log_loss": float(np.mean(-np.log(np.maximum(p[rows, k], 1e-300)))),
        "accuracy": float(np.mean(np.argmax(p, axis=1) == k)),
        "brier": float(np.mean(np.sum((p - onehot) ** 2, axis=1))),
        "calibration_error": float(ece),
    }
