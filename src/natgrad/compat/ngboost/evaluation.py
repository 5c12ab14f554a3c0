"""NGBoost's evaluation helpers (``ngboost.evaluation``): calibration of predicted
distributions, their plots, and the naive concordance index.

The functions take and return what NGBoost's do, so code that calls them runs unchanged:
a predicted distribution (``pred_dist``'s result, anything with ``ppf`` / ``cdf``), arrays of
targets, and for the plots the current matplotlib axes. The Kaplan–Meier estimate behind
`calibration_time_to_event` is `natgrad.metrics.kaplan_meier` (NGBoost uses lifelines; the
numbers are the same product-limit estimate), so no extra package is needed; the plots need
matplotlib (``pip install natgrad[plot]``).

Examples
--------
>>> import numpy as np
>>> from scipy import stats
>>> from natgrad.compat.ngboost.evaluation import calibration_regression, calculate_calib_error
>>> y = stats.norm.rvs(size=2000, random_state=0)
>>> forecast = stats.norm(loc=np.zeros(2000))              # the true distribution
>>> predicted, observed, slope, intercept = calibration_regression(forecast, y)
>>> bool(calculate_calib_error(predicted, observed) < 1e-3), round(float(slope), 1)
(True, 1.0)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from natgrad._typing import Array
from natgrad.metrics import kaplan_meier

__all__ = [
    "calculate_calib_error",
    "calculate_concordance_dead_only",
    "calculate_concordance_naive",
    "calibration_regression",
    "calibration_time_to_event",
    "plot_calibration_curve",
    "plot_pit_histogram",
]


def calibration_regression(
    Forecast: Any,  # noqa: N803
    Y: ArrayLike,  # noqa: N803
    bins: int = 11,
    eps: float = 1e-3,
) -> tuple[Array, Array, float, float]:
    """Calibration of predicted distributions against observed targets.

    For ``bins`` probabilities p from ``eps`` to ``1 - eps``, the fraction of targets below
    the predicted p-quantile; a calibrated forecast gives fractions equal to p (slope 1,
    intercept 0 of the least-squares line through them).

    Parameters
    ----------
    Forecast : predicted distributions
        Anything with ``ppf(p)`` giving one quantile per target (``pred_dist``'s result).
    Y : array-like of shape (n,)
    bins : int, default=11
    eps : float, default=1e-3

    Returns
    -------
    predicted : ndarray of shape (bins,)
        The probabilities p.
    observed : ndarray of shape (bins,)
        The fraction of targets below each predicted quantile.
    slope, intercept : float
        Of the least-squares line of ``observed`` on ``predicted``.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import stats
    >>> from natgrad.compat.ngboost.evaluation import calibration_regression
    >>> y = stats.norm.rvs(size=1000, random_state=1)
    >>> p, obs, slope, intercept = calibration_regression(stats.norm(loc=np.zeros(1000)), y)
    >>> p.shape, bool(np.abs(obs - p).max() < 0.05)
    ((11,), True)
    """
    y = np.asarray(Y, dtype=np.float64)
    predicted = np.linspace(eps, 1.0 - eps, int(bins))
    observed = np.array(
        [np.mean(y < np.asarray(Forecast.ppf(p)).reshape(y.shape)) for p in predicted]
    )
    slope, intercept = np.polyfit(predicted, observed, deg=1)
    return predicted, observed, float(slope), float(intercept)


def calibration_time_to_event(
    Forecast: Any,  # noqa: N803
    T: ArrayLike,  # noqa: N803
    E: ArrayLike,  # noqa: N803
) -> tuple[Array, Array, float, float]:
    """Calibration of predicted survival distributions on right-censored times.

    The probability integral transform u = F(T) of each row is uniform when the forecast is
    calibrated; with censoring, its distribution is estimated by Kaplan–Meier (u censored
    where T is). Returned at 11 points spread evenly over the estimate's steps (0 and the
    distinct values of u): the values of u and the estimated P(U ≤ u).

    Parameters
    ----------
    Forecast : predicted distributions
        Anything with ``cdf(T)`` giving one probability per row.
    T : array-like of shape (n,)
        Event or censoring times.
    E : array-like of shape (n,)
        1 for an observed event, 0 for a censored row.

    Returns
    -------
    predicted, observed : ndarray of shape (11,)
    slope, intercept : float
        Of the least-squares line of ``observed`` on ``predicted``.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import stats
    >>> from natgrad.compat.ngboost.evaluation import calibration_time_to_event
    >>> t = stats.expon.rvs(size=2000, random_state=0)
    >>> c = stats.expon.rvs(scale=3.0, size=2000, random_state=1)
    >>> forecast = stats.expon(scale=np.ones(2000))
    >>> u, observed, slope, intercept = calibration_time_to_event(
    ...     forecast, np.minimum(t, c), (t <= c).astype(int))
    >>> bool(np.abs(observed - u).max() < 0.05)
    True
    """
    times = np.asarray(T, dtype=np.float64).reshape(-1)
    u = np.asarray(Forecast.cdf(times), dtype=np.float64).reshape(times.shape)
    events = np.asarray(E).reshape(times.shape)
    steps, survival = kaplan_meier(u, events)
    timeline = np.unique(np.concatenate([[0.0], u]))
    at = np.round(np.linspace(0, timeline.size - 1, 11)).astype(np.int64)
    predicted = timeline[at]
    surv = np.concatenate([[1.0], survival])[np.searchsorted(steps, predicted, side="right")]
    observed = 1.0 - surv
    slope, intercept = np.polyfit(predicted, observed, deg=1)
    return predicted, observed, float(slope), float(intercept)


def calculate_calib_error(predicted: ArrayLike, observed: ArrayLike) -> float:
    """Mean squared difference between predicted and observed probabilities.

    Examples
    --------
    >>> from natgrad.compat.ngboost.evaluation import calculate_calib_error
    >>> calculate_calib_error([0.1, 0.5, 0.9], [0.1, 0.6, 0.9])
    0.0033...
    """
    p = np.asarray(predicted, dtype=np.float64)
    o = np.asarray(observed, dtype=np.float64)
    return float(np.sum((p - o) ** 2) / len(p))


def _plot_inputs(predicted: ArrayLike, observed: ArrayLike) -> tuple[Any, Array, Array]:
    """matplotlib's pyplot and the two probability arrays of a calibration plot."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - matplotlib is in the dev extra
        raise ImportError(
            "The calibration plots need matplotlib: pip install 'natgrad[plot]'."
        ) from exc
    return plt, np.asarray(predicted, dtype=np.float64), np.asarray(observed, dtype=np.float64)


def plot_pit_histogram(predicted: ArrayLike, observed: ArrayLike, **kwargs: Any) -> None:
    """Histogram of the probability integral transform, on the current matplotlib axes.

    ``predicted`` and ``observed`` as `calibration_regression` returns them: each bar is the
    fraction of targets between two consecutive predicted quantiles; the dashed line is the
    height of a calibrated forecast's bars. ``kwargs`` go to ``plt.bar``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from natgrad.compat.ngboost.evaluation import plot_pit_histogram
    >>> plot_pit_histogram([0.0, 0.5, 1.0], [0.0, 0.4, 1.0])
    """
    plt, p, o = _plot_inputs(predicted, observed)
    plt.bar(
        x=p[1:], height=np.diff(o), width=-np.diff(p), align="edge", fill=False,
        edgecolor="black", **kwargs,
    )  # fmt: skip
    plt.xlim((0, 1))
    plt.xlabel("Probability Integral Transform")
    plt.ylabel("Density")
    plt.axhline(1.0 / (len(p) - 1), linestyle="--", color="grey")
    plt.title("PIT Histogram")


def plot_calibration_curve(predicted: ArrayLike, observed: ArrayLike) -> None:
    """Observed against predicted probabilities, with their least-squares line and the
    diagonal of a calibrated forecast, on the current matplotlib axes.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from natgrad.compat.ngboost.evaluation import plot_calibration_curve
    >>> plot_calibration_curve([0.1, 0.5, 0.9], [0.12, 0.5, 0.85])
    """
    plt, p, o = _plot_inputs(predicted, observed)
    slope, intercept = np.polyfit(p, o, deg=1)
    grid = np.linspace(0, 1)
    plt.plot(p, o, "o", color="black")
    plt.plot(
        grid, grid * slope + intercept, "--", alpha=0.5, color="black",
        label=f"Slope: {slope:.2f}, Intercept: {intercept:.2f}",
    )  # fmt: skip
    plt.plot(grid, grid, "--", color="grey", alpha=0.5)
    plt.xlabel("Predicted CDF")
    plt.ylabel("Observed CDF")
    plt.title("Calibration Plot")
    plt.xlim((0, 1))
    plt.ylim((0, 1))
    plt.legend(loc="upper left")


def calculate_concordance_naive(preds: ArrayLike, Y: ArrayLike, E: ArrayLike) -> float:  # noqa: N803
    """NGBoost's naive concordance of predictions with right-censored times.

    A pair is comparable when both rows had an event, or when one had an event at a time
    before the other's censoring time. It counts 1 when the predictions are ordered as the
    times (strictly), ½ when the predictions are equal, 0 otherwise. NGBoost's definition,
    kept for its users: pairs of events at equal times count, unlike Harrell's index
    (`natgrad.metrics.concordance_index`). O(n²) time, O(n) memory.

    Examples
    --------
    >>> from natgrad.compat.ngboost.evaluation import calculate_concordance_naive
    >>> calculate_concordance_naive([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1, 1, 0])
    1.0
    """
    p = np.asarray(preds, dtype=np.float64).reshape(-1)
    y = np.asarray(Y, dtype=np.float64).reshape(-1)
    e = np.asarray(E).reshape(-1).astype(bool)
    concordant = 0.0
    comparable = 0
    for i in range(p.size - 1):
        pj, yj, ej = p[i + 1 :], y[i + 1 :], e[i + 1 :]
        both = e[i] & ej
        if e[i]:
            ok = both | (~ej & (y[i] < yj))
        else:
            ok = ej & (y[i] > yj)
        ordered = ((p[i] < pj) & (y[i] < yj)) | ((p[i] > pj) & (y[i] > yj))
        tied = ok & ~ordered & (p[i] == pj)
        concordant += float(np.sum(ok & ordered)) + 0.5 * float(np.sum(tied))
        comparable += int(np.sum(ok))
    return concordant / comparable


def calculate_concordance_dead_only(preds: ArrayLike, Y: ArrayLike, E: ArrayLike) -> float:  # noqa: N803
    """`calculate_concordance_naive` on the rows with an observed event only.

    Examples
    --------
    >>> from natgrad.compat.ngboost.evaluation import calculate_concordance_dead_only
    >>> calculate_concordance_dead_only([1.0, 3.0, 2.0], [1.0, 2.0, 3.0], [1, 0, 1])
    1.0
    """
    e = np.asarray(E).reshape(-1) == 1
    p = np.asarray(preds, dtype=np.float64).reshape(-1)[e]
    y = np.asarray(Y, dtype=np.float64).reshape(-1)[e]
    return calculate_concordance_naive(p, y, np.ones(p.size))
