"""Metrics of time-to-event predictions (re-exported by `natgrad.metrics`).

Right-censored targets: the censored log score, Harrell's concordance, the Kaplan–Meier
estimate and a censoring-aware calibration error of the PIT.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from natgrad._targets import check_time_event
from natgrad._typing import Array
from natgrad._validation import as_float_array, check_finite, describe
from natgrad.distributions import Distribution
from natgrad.metrics._regression import CALIBRATION_LEVELS
from natgrad.scores import CensoredLogScore

#: Descriptions of the survival metrics (`evaluate_survival`).
SURVIVAL_DESCRIPTIONS = {
    "censored_nll": "mean censored log score: -log f(t) for events, -log S(t) if censored",
    "concordance": "Harrell's C of the predicted median times (0.5 = random, 1 = perfect)",
    "median_coverage": "Kaplan-Meier share of event times below the predicted median (0.5)",
    "calibration_error": "mean |KM share(PIT <= a) - a| over a = 0.05, ..., 0.95 (censoring-aware)",
    "event_share": "share of rows with an observed event (the rest are censored)",
}


# ---------------------------------------------------------------------- survival
def _check_survival(time: ArrayLike, event: ArrayLike, where: str) -> tuple[Array, Array]:
    t = as_float_array(time, "time", where)
    e = as_float_array(event, "event", where)
    if t.ndim != 1 or t.size == 0 or e.shape != t.shape:
        raise ValueError(
            f"The 'time' and 'event' arguments of {where} must be non-empty arrays of the "
            f"same shape (n,). Got shapes {t.shape} and {e.shape} instead."
        )
    check_time_event(
        t,
        e,
        (f"The 'time' argument of {where}", f"The 'event' argument of {where}"),
        positive=False,
    )
    return t, e


def kaplan_meier(time: ArrayLike, event: ArrayLike) -> tuple[Array, Array]:
    """The Kaplan–Meier estimate of the survival function S(t) = P(T > t).

    Ŝ(t) = Π_{tⱼ ≤ t} (1 − dⱼ / nⱼ) over the distinct event times tⱼ, with dⱼ events at tⱼ
    and nⱼ rows still at risk (time ≥ tⱼ; a row censored at tⱼ counts as at risk there).

    Parameters
    ----------
    time : array-like of shape (n,)
        Event or censoring times.
    event : array-like of shape (n,)
        1 for an observed event, 0 for a censored row.

    Returns
    -------
    times : ndarray of shape (m,)
        The distinct event times, increasing (empty when no row has an event).
    survival : ndarray of shape (m,)
        Ŝ just after each of them; Ŝ = 1 before the first.

    Examples
    --------
    >>> from natgrad.metrics import kaplan_meier
    >>> times, survival = kaplan_meier([1.0, 2.0, 2.0, 3.0, 4.0], [1, 1, 0, 1, 0])
    >>> print(times, survival.round(3))
    [1. 2. 3.] [0.8 0.6 0.3]
    """
    t, e = _check_survival(time, event, "natgrad.metrics.kaplan_meier")
    times, inverse = np.unique(t, return_inverse=True)
    deaths = np.bincount(inverse, weights=e, minlength=times.size)
    leaving = np.bincount(inverse, minlength=times.size)
    at_risk = t.size - np.concatenate([[0], np.cumsum(leaving)[:-1]])
    has = deaths > 0
    survival = np.cumprod(1.0 - deaths[has] / at_risk[has])
    return times[has], survival


def _step(times: Array, survival: Array, at: Array) -> Array:
    """The right-continuous step function Ŝ evaluated at ``at``."""
    idx = np.searchsorted(times, at, side="right")
    return np.concatenate([[1.0], survival])[idx]


def concordance_index(time: ArrayLike, event: ArrayLike, predicted: ArrayLike) -> float:
    """Harrell's concordance index of predicted times (larger = longer survival).

    A pair (i, j) is comparable when row i had an event and tᵢ < tⱼ (row j may be
    censored; pairs with equal times are not comparable). It is concordant when the
    prediction of i is smaller than that of j, and counts ½ when they are equal:
    C = (concordant + ½ tied) / comparable. Computed in O(n log n) by a sweep from the
    longest time down, counting predictions of the rows with longer times in a Fenwick tree.

    Parameters
    ----------
    time, event, predicted : array-like of shape (n,)
        Observed times, event flags (1 event, 0 censored) and predicted times (e.g. the
        predicted median); for risk scores pass their negatives.

    Returns
    -------
    float
        C in [0, 1]; NaN when no pair is comparable.

    Examples
    --------
    >>> from natgrad.metrics import concordance_index
    >>> time, event = [1.0, 2.0, 3.0, 4.0], [1, 1, 0, 1]
    >>> concordance_index(time, event, predicted=[1.0, 2.0, 3.0, 4.0])   # same order as the times
    1.0
    >>> concordance_index(time, event, predicted=[4.0, 3.0, 2.0, 1.0])
    0.0
    """
    where = "natgrad.metrics.concordance_index"
    t, e = _check_survival(time, event, where)
    pred = as_float_array(predicted, "predicted", where)
    if pred.shape != t.shape:
        raise ValueError(
            f"The 'predicted' argument of {where} must have shape {t.shape}. Got shape "
            f"{pred.shape} instead."
        )
    check_finite(pred, "predicted", where)
    values, rank = np.unique(pred, return_inverse=True)
    tree = np.zeros(values.size + 1, dtype=np.int64)  # Fenwick tree of prediction ranks

    def below(r: int) -> int:  # rows inserted with rank < r
        total = 0
        while r > 0:
            total += int(tree[r])
            r -= r & -r
        return total

    order = np.argsort(-t, kind="stable")
    ts, es, rs = t[order].tolist(), e[order].tolist(), rank[order].tolist()
    concordant = tied = comparable = inserted = 0
    start = 0
    while start < len(ts):
        stop = start
        while stop < len(ts) and ts[stop] == ts[start]:
            stop += 1
        for i in range(start, stop):  # events against strictly longer times only
            if es[i] == 1:
                less, less_eq = below(rs[i]), below(rs[i] + 1)
                concordant += inserted - less_eq
                tied += less_eq - less
                comparable += inserted
        for i in range(start, stop):
            r = rs[i] + 1
            while r < tree.size:
                tree[r] += 1
                r += r & -r
            inserted += 1
        start = stop
    return (concordant + 0.5 * tied) / comparable if comparable else math.nan


def evaluate_survival(dist: Distribution, time: ArrayLike, event: ArrayLike) -> dict[str, float]:
    """Metrics of predicted time-to-event distributions for right-censored observations.

    ``censored_nll``: mean of −log fᵢ(tᵢ) (events) and −log Sᵢ(tᵢ) (censored rows).
    ``concordance``: `concordance_index` of the predicted medians. ``median_coverage`` and
    ``calibration_error`` use the PIT uᵢ = Fᵢ(tᵢ), right-censored where the row is (the
    true uᵢ then exceeds Fᵢ(tᵢ)): with the Kaplan–Meier estimate Ĝ of the PIT's distribution
    function, ``median_coverage`` = Ĝ(½), the estimated share of event times before the
    predicted median (½ when calibrated), and ``calibration_error`` = (1/K) Σⱼ |Ĝ(αⱼ) − αⱼ|
    over αⱼ = 0.05, …, 0.95 (as in D-calibration; valid under censoring independent of the
    event time given the features). ``event_share``: share of rows with an event.

    Parameters
    ----------
    dist : Distribution
        A batch of n distributions of a family with a censored log score.
    time, event : array-like of shape (n,)
        Observed times (> 0) and event flags.

    Returns
    -------
    dict of str to float

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.distributions import Exponential
    >>> from natgrad.metrics import evaluate_survival
    >>> rng = np.random.default_rng(0)
    >>> t = rng.exponential(scale=2.0, size=5000)
    >>> c = rng.exponential(scale=4.0, size=5000)        # independent censoring
    >>> dist = Exponential(scale=np.full(5000, 2.0))     # the true model
    >>> scores = evaluate_survival(dist, np.minimum(t, c), t <= c)
    >>> sorted(scores)
    ['calibration_error', 'censored_nll', 'concordance', 'event_share', 'median_coverage']
    >>> print(round(scores["median_coverage"], 2))      # about ½ when calibrated
    0.51
    """
    where = "natgrad.metrics.evaluate_survival"
    t, e = _check_survival(time, event, where)
    if not isinstance(dist, Distribution) or len(dist) != t.size:
        raise ValueError(
            f"The 'dist' argument of {where} must be a batch of {t.size} distributions. Got "
            f"{describe(dist)} instead."
        )
    nll = CensoredLogScore().score(dist, np.column_stack([t, e]))
    median = dist.ppf(np.full(t.size, 0.5))
    u = np.clip(np.asarray(dist.cdf(t), dtype=np.float64), 0.0, 1.0)
    grid, surv = kaplan_meier(u, e)
    cdf = 1.0 - _step(grid, surv, CALIBRATION_LEVELS)
    return {
        "censored_nll": float(np.mean(nll)),
        "concordance": float(concordance_index(t, e, median)),
        "median_coverage": float(1.0 - _step(grid, surv, np.array([0.5]))[0]),
        "calibration_error": float(np.mean(np.abs(cdf - CALIBRATION_LEVELS))),
        "event_share": float(np.mean(e)),
    }
