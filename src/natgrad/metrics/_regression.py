"""Metrics of predictive distributions for regression (re-exported by `natgrad.metrics`)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from natgrad._targets import check_predicted_targets
from natgrad._typing import Array
from natgrad._validation import as_float_array, check_finite, check_rng, describe
from natgrad.distributions import Distribution
from natgrad.scores import CRPScore

#: Grid of probabilities α = 0.05, 0.10, …, 0.95 on which the PIT's distribution function is
#: compared with the uniform one (`calibration_curve`, ``calibration_error``).
CALIBRATION_LEVELS: Array = np.round(np.arange(1, 20) / 20.0, 2)
#: Nominal levels of the central intervals whose coverage `evaluate` reports.
COVERAGE_LEVELS: tuple[float, ...] = (0.5, 0.8, 0.95)
#: Quadrature points of the numerical CRPS (midpoint rule in the probability τ).
_CRPS_GRID = 1000
#: At most this many (grid point, row) pairs of quantiles are held in memory at once.
_CRPS_BLOCK = 2_000_000
#: Seed of the randomised PIT of discrete families when `evaluate` gets no ``rng``.
_DEFAULT_SEED = 0

#: The closed forms of the CRPS (normal, laplace, lognormal): one implementation, the scoring
#: rule's, whose products of huge means and tiny probabilities are formed in log space.
_CRPS = CRPScore()

#: Descriptions of the regression metrics (`evaluate`).
REGRESSION_DESCRIPTIONS = {
    "nll": "mean negative log-likelihood",
    "crps": "mean continuous ranked probability score",
    "rmse": "root mean squared error of the point prediction",
    "mae": "mean absolute error of the point prediction",
    "coverage_50": "share of targets inside the central 50% interval",
    "coverage_80": "share of targets inside the central 80% interval",
    "coverage_95": "share of targets inside the central 95% interval",
    "calibration_error": "mean |share(PIT <= a) - a| over a = 0.05, 0.10, ..., 0.95",
}


# ---------------------------------------------------------------------- point prediction
def point_prediction(dist: Distribution) -> tuple[Array, str]:
    """The point prediction of every distribution: its mean, or its median without one.

    The one rule of the package: the estimators' ``predict`` and the errors of `evaluate`
    (``rmse``, ``mae``) both use it.

    Parameters
    ----------
    dist : Distribution
        A batch of n distributions.

    Returns
    -------
    values : ndarray of shape (n,), or (n, k) for a family with vector targets
        The mean where it exists and is finite, otherwise the median F⁻¹(½) (a Cauchy,
        a Student's t with ν ≤ 1, or a mean that overflows). Vector families (the
        multivariate normal) have no median: their mean.
    kind : {"mean", "median", "mean or median"}
        Which one was used (``"mean or median"`` when rows differ).

    Examples
    --------
    >>> from natgrad.distributions import Cauchy, Gamma
    >>> from natgrad.metrics import point_prediction
    >>> point_prediction(Gamma(shape=2.0, rate=[1.0, 4.0]))
    (array([2. , 0.5]), 'mean')
    >>> point_prediction(Cauchy(loc=3.0, scale=1.0))             # no mean: the median
    (array([3.]), 'median')
    """
    n = len(dist)
    try:
        mean = np.asarray(dist.mean(), dtype=np.float64)
    except (ValueError, NotImplementedError):
        # Families without a mean (Cauchy) say so by raising.
        mean = np.full(n, np.nan)
    if dist.event_dim != 0:
        return mean, "mean"
    mean = mean * np.ones(n)
    missing = ~np.isfinite(mean)
    if not missing.any():
        return mean, "mean"
    median = np.asarray(dist.ppf(np.full(n, 0.5)), dtype=np.float64)
    values = np.where(missing, median, mean)
    return values, "median" if missing.all() else "mean or median"


# ---------------------------------------------------------------------- CRPS
def _crps_by_quantiles(dist: Distribution, y: Array, n_grid: int = _CRPS_GRID) -> Array:
    """CRPS by numerical integration of its quantile (pinball-loss) representation.

    CRPS(F, y) = ∫ (F(x) − 1{y ≤ x})² dx = 2 ∫₀¹ (1{y < F⁻¹(τ)} − τ)(F⁻¹(τ) − y) dτ,

    integrated by the midpoint rule on τₖ = (k − ½)/N, k = 1..N. Deterministic (no sampling);
    the integrand is continuous with one kink at τ = F(y), and the tails τ < 1/(2N) that the
    rule leaves out hold a share of order N^{−2+1/ν} for a tail F⁻¹(τ) ~ τ^{−1/ν}.
    """
    n = y.shape[0]
    tau = (np.arange(n_grid) + 0.5) / n_grid
    out = np.empty(n)
    step = max(1, _CRPS_BLOCK // n_grid)
    for start in range(0, n, step):
        rows = slice(start, min(n, start + step))
        block = dist[rows]
        yb = y[rows]
        q = np.asarray(block.ppf(np.broadcast_to(tau[:, None], (n_grid, len(block)))))
        above = (yb < q).astype(np.float64)
        out[rows] = 2.0 * np.mean((above - tau[:, None]) * (q - yb), axis=0)
    return out


def _has_finite_mean(dist: Distribution) -> bool:
    try:
        mean = np.asarray(dist.mean(), dtype=np.float64)
    except (ValueError, NotImplementedError):
        return False
    return bool(np.isfinite(mean).all())


def crps(dist: Distribution, y: ArrayLike) -> Array:
    """Continuous ranked probability score per row (lower is better).

    CRPS(F, y) = ∫ (F(x) − 1{y ≤ x})² dx = E|X − y| − ½ E|X − X'|,  X, X' ~ F independent.

    In closed form for the ``normal``, ``laplace`` and ``lognormal`` families (the formulas of
    `natgrad.scores.CRPScore`, the scoring rule boosting trains with); for the other
    continuous families by deterministic numerical integration over the quantile function
    (midpoint rule with 1000 points in τ ∈ (0, 1), see `_crps_by_quantiles`; relative error
    a few 1e-5 against adaptive quadrature of the definition, also for a Student's t with
    ν = 1.5).

    Parameters
    ----------
    dist : Distribution
        A batch of n univariate continuous distributions.
    y : array-like of shape (n,)
        Observed targets, finite and inside the family's support.

    Returns
    -------
    ndarray of shape (n,)

    Raises
    ------
    ValueError
        For a discrete family (not defined here), or where a distribution has no finite mean
        (Cauchy, Student's t with ν ≤ 1): its CRPS is infinite.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.distributions import Gamma, Normal
    >>> from natgrad.metrics import crps
    >>> print(crps(Normal(loc=0.0, scale=[1.0, 2.0]), [0.0, 0.0]).round(4))   # σ (√2 − 1)/√π
    [0.2337 0.4674]
    >>> print(crps(Gamma(shape=2.0, rate=1.0), [2.0]).round(4))   # by numerical integration
    [0.3327]
    """
    where = "natgrad.metrics.crps"
    y = check_predicted_targets(dist, y, where)
    if dist.discrete:
        raise ValueError(
            f"The 'dist' argument of {where} must be a continuous family. Got the discrete "
            f"family {type(dist).__name__}."
        )
    if _CRPS.supports(type(dist)):
        return _CRPS.score(dist, y)
    if not _has_finite_mean(dist):
        raise ValueError(
            f"The 'dist' argument of {where} must have a finite mean: the CRPS is infinite "
            f"otherwise. Got {type(dist).__name__} distributions without one."
        )
    return _crps_by_quantiles(dist, y)


# ---------------------------------------------------------------------- calibration
def pit(dist: Distribution, y: ArrayLike, *, rng: np.random.Generator | None = None) -> Array:
    """Probability integral transform: uᵢ = Fᵢ(yᵢ), uniform on (0, 1) for a correct model.

    For a discrete family (integer targets) the randomised PIT
    uᵢ = Fᵢ(yᵢ − 1) + vᵢ (Fᵢ(yᵢ) − Fᵢ(yᵢ − 1)),  vᵢ ~ U(0, 1) drawn from ``rng``,
    which is exactly uniform when yᵢ ~ Fᵢ.

    Parameters
    ----------
    dist : Distribution
        A batch of n univariate distributions with a distribution function.
    y : array-like of shape (n,)
        Observed targets, finite and inside the family's support.
    rng : numpy.random.Generator, optional
        Required for discrete families; ignored for continuous ones.

    Returns
    -------
    ndarray of shape (n,)
        Values in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.distributions import Normal, Poisson
    >>> from natgrad.metrics import pit
    >>> print(pit(Normal(loc=[0.0, 0.0, 0.0], scale=1.0), [-1.0, 0.0, 1.96]).round(3))
    [0.159 0.5   0.975]
    >>> u = pit(Poisson(rate=[3.0, 3.0]), [2, 2], rng=np.random.default_rng(0))   # randomised
    >>> bool(np.all((u >= 0) & (u <= 1)))
    True
    """
    where = "natgrad.metrics.pit"
    y = check_predicted_targets(dist, y, where)
    upper = np.asarray(dist.cdf(y), dtype=np.float64)
    if not dist.discrete:
        return upper
    if rng is None:
        raise ValueError(
            f"The PIT of the discrete family {type(dist).__name__} is randomised: pass "
            f"rng=numpy.random.default_rng(seed) to {where}."
        )
    rng = check_rng(rng, where)
    # Discrete families here live on the integers, so F(y⁻) = F(y − 1).
    lower = np.asarray(dist.cdf(y - 1.0), dtype=np.float64)
    return lower + rng.random(y.shape[0]) * (upper - lower)


def calibration_curve(
    pit_values: ArrayLike, levels: ArrayLike = CALIBRATION_LEVELS
) -> tuple[Array, Array]:
    """Observed share of PIT values at or below each nominal level α.

    For a calibrated model the PIT is uniform and the share equals α.

    Parameters
    ----------
    pit_values : array-like of shape (n,)
        PIT values in [0, 1] (from `pit`).
    levels : array-like of shape (k,), default `CALIBRATION_LEVELS`
        Nominal levels α in (0, 1).

    Returns
    -------
    levels : ndarray of shape (k,)
    observed : ndarray of shape (k,)
        (1/n) Σᵢ 1{uᵢ ≤ αⱼ}.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.metrics import calibration_curve
    >>> u = np.random.default_rng(0).uniform(size=5000)          # PIT of a calibrated model
    >>> levels, observed = calibration_curve(u, [0.1, 0.5, 0.9])
    >>> print(levels, observed.round(2))
    [0.1 0.5 0.9] [0.11 0.5  0.9 ]
    """
    where = "natgrad.metrics.calibration_curve"
    u = as_float_array(pit_values, "pit_values", where)
    if u.ndim != 1 or u.size == 0:
        raise ValueError(
            f"The 'pit_values' argument of {where} must be a non-empty array of shape (n,). "
            f"Got shape {u.shape} instead."
        )
    check_finite(u, "pit_values", where)
    alpha = as_float_array(levels, "levels", where).ravel()
    if alpha.size == 0 or not np.all((alpha > 0) & (alpha < 1)):
        raise ValueError(
            f"The 'levels' argument of {where} must hold probabilities in (0, 1). "
            f"Got {describe(levels)} instead."
        )
    observed = np.mean(u[:, None] <= alpha[None, :], axis=0)
    return alpha, observed


def coverage(dist: Distribution, y: ArrayLike, levels: ArrayLike = COVERAGE_LEVELS) -> Array:
    """Share of targets inside each central interval [F⁻¹((1 − c)/2), F⁻¹((1 + c)/2)].

    The bounds are included; for discrete families the coverage is then at least the
    nominal level c even for a correct model.

    Parameters
    ----------
    dist : Distribution
        A batch of n univariate distributions with a quantile function.
    y : array-like of shape (n,)
        Observed targets.
    levels : array-like of shape (k,)
        Nominal levels c in (0, 1).

    Returns
    -------
    ndarray of shape (k,)

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.distributions import Normal
    >>> from natgrad.metrics import coverage
    >>> y = np.random.default_rng(0).normal(size=2000)
    >>> print(coverage(Normal(loc=np.zeros(2000), scale=1.0), y, [0.5, 0.9]).round(2))
    [0.5 0.9]
    >>> print(coverage(Normal(loc=np.zeros(2000), scale=0.5), y, [0.5, 0.9]).round(2))  # narrow
    [0.26 0.59]
    """
    where = "natgrad.metrics.coverage"
    y = check_predicted_targets(dist, y, where)
    nominal = as_float_array(levels, "levels", where).ravel()
    if nominal.size == 0 or not np.all((nominal > 0) & (nominal < 1)):
        raise ValueError(
            f"The 'levels' argument of {where} must hold probabilities in (0, 1). "
            f"Got {describe(levels)} instead."
        )
    out = np.empty(nominal.size)
    for j, level in enumerate(nominal):
        lower, upper = dist.interval(float(level))
        out[j] = np.mean((y >= lower) & (y <= upper))
    return out


# ---------------------------------------------------------------------- all together
def evaluate(
    dist: Distribution, y: ArrayLike, *, rng: np.random.Generator | None = None
) -> dict[str, float]:
    """All metrics of predictive distributions ``dist`` for observed targets ``y``.

    Keys, in order:

    ``nll``
        Mean negative log-likelihood (1/n) Σ −log pᵢ(yᵢ).
    ``crps``
        Mean CRPS (`crps`): closed form for normal, laplace and lognormal, deterministic
        numerical integration of the quantile representation for the other continuous
        families. Absent for discrete families and where a distribution has no finite
        mean (its CRPS is infinite).
    ``rmse``, ``mae``
        Errors of the point prediction (`point_prediction`): the mean, or the median where
        the mean does not exist (e.g. Cauchy).
    ``coverage_50``, ``coverage_80``, ``coverage_95``
        Share of targets inside the central 50/80/95 % intervals (`coverage`).
    ``calibration_error``
        (1/K) Σⱼ |(1/n) Σᵢ 1{uᵢ ≤ αⱼ} − αⱼ| over αⱼ = 0.05, 0.10, …, 0.95 (K = 19), with
        uᵢ the PIT (`pit`): the mean vertical distance of the reliability curve from the
        diagonal. 0 for perfect calibration; about 0.33/√n for a calibrated model from sampling
        noise alone (√(2/π) times the mean of √(α(1 − α)/n), the mean absolute deviation of a
        binomial share); at most 0.5.

    Parameters
    ----------
    dist : Distribution
        A batch of n univariate distributions (e.g. ``model.predict_dist(X)``).
    y : array-like of shape (n,)
        Observed targets, finite and inside the family's support.
    rng : numpy.random.Generator, optional
        Draws of the randomised PIT of discrete families; by default a generator seeded with
        0, so that results are reproducible. Unused for continuous families.

    Returns
    -------
    dict of str to float

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.distributions import Normal
    >>> from natgrad.metrics import evaluate
    >>> y = np.random.default_rng(0).normal(size=1000)
    >>> good = evaluate(Normal(loc=np.zeros(1000), scale=1.0), y)
    >>> narrow = evaluate(Normal(loc=np.zeros(1000), scale=0.3), y)   # overconfident
    >>> list(good)[:4]
    ['nll', 'crps', 'rmse', 'mae']
    >>> print(round(good["coverage_95"], 2), round(narrow["coverage_95"], 2))
    0.96 0.46
    >>> bool(narrow["nll"] > good["nll"])
    True
    """
    where = "natgrad.metrics.evaluate"
    y = check_predicted_targets(dist, y, where)
    if rng is None:
        rng = np.random.default_rng(_DEFAULT_SEED)
    rng = check_rng(rng, where)

    out: dict[str, float] = {"nll": float(np.mean(dist.nll(y)))}
    if not dist.discrete and (_CRPS.supports(type(dist)) or _has_finite_mean(dist)):
        out["crps"] = float(np.mean(crps(dist, y)))
    point, _ = point_prediction(dist)
    error = point - y
    out["rmse"] = float(np.sqrt(np.mean(error * error)))
    out["mae"] = float(np.mean(np.abs(error)))
    for level, share in zip(COVERAGE_LEVELS, coverage(dist, y), strict=True):
        out[f"coverage_{round(100 * level)}"] = float(share)
    levels, observed = calibration_curve(pit(dist, y, rng=rng))
    out["calibration_error"] = float(np.mean(np.abs(observed - levels)))
    return out
