"""`natgrad.glm.fit`: validation, the negative binomial size, and the fitted results.

The iterations themselves (Fisher scoring, the natural gradient with step 1) are in
`natgrad.glm._irls`.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize

from natgrad._typing import Array
from natgrad._validation import as_float_array, check_finite, describe
from natgrad.distributions.negative_binomial import size_score_bracket
from natgrad.glm._design import as_design
from natgrad.glm._irls import WHERE as _WHERE
from natgrad.glm._irls import ConvergenceWarning, Problem, State, irls, penalty
from natgrad.glm._links import LINKS
from natgrad.glm._results import GLMResults
from natgrad.glm._separation import check_separation
from natgrad.glm._solve import (
    inverse_psd,
    weighted_gram,
)
from natgrad.glm.families import Family, NegativeBinomial, get_family

logger = logging.getLogger(__name__)

# Outer rounds of the negative binomial fit (coefficients, then the size, alternately).
_MAX_SIZE_ROUNDS = 100
# The size r of a negative binomial without over-dispersion (no finite MLE): 1e6 · max(ȳ, 1).
_MAX_SIZE_RATIO = 1e6


# ---------------------------------------------------------------------- validation
def _check_real(value: Any, name: str, low: float, low_open: bool) -> float:
    ok = isinstance(value, Real) and not isinstance(value, bool) and np.isfinite(float(value))
    ok = ok and (value > low if low_open else value >= low)
    if not ok:
        bracket = "(" if low_open else "["
        raise ValueError(
            f"The {name!r} parameter of {_WHERE} must be a float in the range {bracket}{low}, "
            f"inf). Got {describe(value)} instead."
        )
    return float(value)


def _as_vector(value: Any, name: str, n: int) -> Array:
    arr = as_float_array(value, name, _WHERE)
    if arr.ndim == 0 and name != "y":
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(
            f"The {name!r} argument of {_WHERE} must have shape ({n},) (one value per row of "
            f"X). Got shape {arr.shape} instead."
        )
    check_finite(arr, name, _WHERE)
    return arr


def _problem(
    X: Any,
    y: Any,
    family: Any,
    link: Any,
    offset: Any,
    n_trials: Any,
    fit_intercept: Any,
    alpha: Any,
) -> Problem:
    fam = get_family(family, _WHERE)
    link_name = fam.links[0] if link is None else link
    if not isinstance(link_name, str) or link_name not in fam.links:
        raise ValueError(
            f"The 'link' argument of {_WHERE} must be one of "
            f"{', '.join(repr(k) for k in fam.links)} for the {fam.name} family (or None for "
            f"{fam.links[0]!r}). Got {describe(link)} instead."
        )
    if not isinstance(fit_intercept, bool | np.bool_):
        raise TypeError(
            f"The 'fit_intercept' argument of {_WHERE} must be a bool. "
            f"Got {describe(fit_intercept)} instead."
        )
    alpha = _check_real(alpha, "alpha", 0.0, low_open=False)
    arr, names = as_design(X, _WHERE)
    n = arr.shape[0]
    yv = _as_vector(y, "y", n)
    w = np.ones(n)
    off = None if offset is None else _as_vector(offset, "offset", n)
    a = np.ones(n)
    trials = None
    if n_trials is not None:
        if fam.name != "binomial":
            raise ValueError(
                f"The 'n_trials' argument of {_WHERE} applies to the binomial family only. "
                f"Got n_trials with family {fam.name!r}."
            )
        trials = _as_vector(n_trials, "n_trials", n)
        if np.any(trials < 1) or np.any(trials != np.round(trials)):
            raise ValueError(
                f"The 'n_trials' argument of {_WHERE} must hold positive integers. Got "
                f"{describe(n_trials)} instead."
            )
        bad = (yv < 0) | (yv > trials) | (yv != np.round(yv))
        if bad.any():
            index = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"The 'y' argument of {_WHERE} must hold success counts in 0..n_trials for the "
                f"binomial family with n_trials. Got y={yv[index]} with n_trials="
                f"{trials[index]} at index {index}."
            )
        a = trials
        yv = yv / trials
    fam.check_y(yv, _WHERE)
    if fit_intercept:
        names = ["const", *names]
    return Problem(
        arr, yv, w, a, off, fam, LINKS[link_name](), bool(fit_intercept), alpha, names, trials
    )


# ---------------------------------------------------------------------- negative binomial size
def _size_mle(prob: Problem, mu: Array) -> float:
    """The MLE of the negative binomial size r at fixed means (a 1-d root in log r).

    The score of log r, r Σ wᵢ [ψ(yᵢ + r) − ψ(r) − log(1 + μᵢ/r) + (μᵢ − yᵢ)/(μᵢ + r)],
    is the one natgrad's NegativeBinomial family uses for its own marginal fit. Data without
    over-dispersion have no finite root: r = 1e6 · max(ȳ, 1) is returned.
    """
    y, w = prob.y, prob.w

    def score(log_r: float) -> float:
        r = float(np.exp(log_r))
        return float(w @ size_score_bracket(y, mu, np.asarray(r))) * r

    b_max = float(np.log(_MAX_SIZE_RATIO * max(float(np.average(y, weights=w)), 1.0)))
    if not np.any(y > 0) or score(b_max) >= 0.0:
        return float(np.exp(b_max))
    b_min = float(np.log(1e-4))
    while score(b_min) <= 0.0 and b_min > -700.0:
        b_min -= 10.0
    root = optimize.brentq(score, b_min, b_max, xtol=1e-12, rtol=4 * np.finfo(float).eps)
    return float(np.exp(root))


def _fit_negative_binomial_size(
    prob: Problem, max_iter: int, tol: float, history: list[float]
) -> tuple[State, int, bool]:
    """Joint MLE of β and r by alternating Fisher scoring for β and a 1-d root for r.

    β and log r are orthogonal (their Fisher block is diagonal), so the alternation converges
    fast: a few rounds, each warm-started from the previous β.
    """
    from natgrad.glm.families import Poisson

    family = prob.family
    if not isinstance(family, NegativeBinomial):  # pragma: no cover - guarded by the caller
        raise TypeError("negative binomial family expected")
    prob.family = Poisson()
    state, total, converged = irls(prob, max_iter, tol, None, history)
    size = _size_mle(prob, state.mu)
    last = -np.inf
    for _ in range(_MAX_SIZE_ROUNDS):
        prob.family = family.with_size(size)
        state, n_iter, converged = irls(prob, max_iter, tol, state.beta, history)
        total += n_iter
        new_size = _size_mle(prob, state.mu)
        prob.family = family.with_size(new_size)
        llf = float(prob.w @ prob.family.loglike_obs(prob.y, state.mu, state.mu_c, prob.a, 1.0))
        done = abs(llf - last) <= tol * (abs(llf) + 0.1) and abs(np.log(new_size / size)) <= 1e-8
        size, last = new_size, llf
        if done:
            break
    else:
        converged = False
    prob.family = family.with_size(size)
    # A last scoring pass at the final size, so that β and r are consistent.
    state, n_iter, converged_last = irls(prob, max_iter, tol, state.beta, history)
    return state, total + n_iter, converged and converged_last


# ---------------------------------------------------------------------- public entry point
def _check_int(value: Any, name: str, low: int) -> int:
    if not isinstance(value, Integral) or isinstance(value, bool) or value < low:
        raise ValueError(
            f"The {name!r} parameter of {_WHERE} must be an int in the range [{low}, inf). "
            f"Got {describe(value)} instead."
        )
    return int(value)


def _check_weights(weights: Any, n: int) -> Array:
    if weights is None:
        return np.ones(n)
    w = _as_vector(weights, "weights", n)
    if (w < 0).any() or not (w > 0).any():
        raise ValueError(
            f"The 'weights' argument of {_WHERE} must be non-negative and not all zero. "
            f"Got a minimum of {w.min()} and a sum of {w.sum()} instead."
        )
    return w


def fit(
    X: ArrayLike,
    y: ArrayLike,
    family: str | Family = "gaussian",
    *,
    link: str | None = None,
    weights: ArrayLike | None = None,
    offset: ArrayLike | None = None,
    n_trials: ArrayLike | None = None,
    fit_intercept: bool = True,
    alpha: float = 0.0,
    max_iter: int = 100,
    tol: float = 1e-12,
) -> GLMResults:
    """Fit a generalised linear model by Fisher scoring (the natural gradient with step 1).

    Each iteration solves one weighted least-squares problem (X̃ᵀWX̃ + P)β = X̃ᵀWz by a
    Cholesky factorisation (see the module docstring); a step that raises the penalised
    deviance (or leaves the family's mean space) is halved, up to 30 times.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
        The design matrix, without an intercept column. A DataFrame's column names name the
        coefficients (and the columns reported when X is rank deficient).
    y : array-like of shape (n_samples,)
        Targets in the family's support. Binomial: success counts with ``n_trials``, or
        proportions in [0, 1] without.
    family : {"gaussian", "binomial", "poisson", "gamma", "inverse_gaussian", \
"negative_binomial"} or natgrad.glm.families.Family
        The family; ``natgrad.glm.families.NegativeBinomial(size=r)`` fixes the negative
        binomial size r (the string estimates it by maximum likelihood).
    link : str, optional
        The link (see `natgrad.glm.families`); default the family's canonical link (log for
        the negative binomial).
    weights : array-like of shape (n_samples,), optional
        Frequency weights: a row of weight k counts as k identical rows.
    offset : array-like of shape (n_samples,), optional
        A known term added to the linear predictor (log exposure for counts).
    n_trials : array-like of shape (n_samples,) or int, optional
        Binomial only: trials per row; ``y`` then counts the successes.
    fit_intercept : bool
        Whether to add an intercept (named ``"const"``), which the penalty leaves out.
    alpha : float
        L2 penalty: minimises Σ wᵢ aᵢ d(yᵢ, μᵢ)/(2 Σ w) + (α/2)‖β‖² over the coefficients
        other than the intercept (scikit-learn's objective). ``0`` is maximum likelihood.
    max_iter : int
        Most Fisher-scoring iterations (per round for an estimated negative binomial size).
    tol : float
        Convergence: the squared length of the last step in the Fisher metric,
        δᵀ(X̃ᵀWX̃ + P)δ/φ ≈ Σⱼ (δⱼ/seⱼ)², is at most tol (every coefficient moved by less than
        √tol standard errors; twice the KL divergence between the last two fits).

    Returns
    -------
    GLMResults

    Raises
    ------
    ValueError
        On invalid input; when X is rank deficient (naming the dependent columns); when the
        data are separated (`natgrad.glm.PerfectSeparationError`, a ValueError).

    Warns
    -----
    ConvergenceWarning
        When the deviance has not settled after ``max_iter`` iterations, or no halved step
        decreases it.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import glm
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 2))
    >>> y = rng.poisson(np.exp(0.5 + 0.3 * X[:, 0] - 0.2 * X[:, 1]))
    >>> result = glm.fit(X, y, family="poisson")
    >>> result.param_names
    ['const', 'x1', 'x2']
    >>> print(result.params.round(2))
    [ 0.42  0.29 -0.16]
    >>> print(result.bse.round(3))                  # standard errors from the Fisher information
    [0.037 0.037 0.037]
    """
    max_iter = _check_int(max_iter, "max_iter", 1)
    tol = _check_real(tol, "tol", 0.0, low_open=True)
    prob = _problem(X, y, family, link, offset, n_trials, fit_intercept, alpha)
    prob.w = _check_weights(weights, prob.X.shape[0])
    family_in = prob.family
    history: list[float] = []
    if isinstance(family_in, NegativeBinomial) and family_in.size is None:
        state, n_iter, converged = _fit_negative_binomial_size(prob, max_iter, tol, history)
        n_extra = 1
    else:
        state, n_iter, converged = irls(prob, max_iter, tol, None, history)
        n_extra = 0
    if not converged:
        warnings.warn(
            f"Fisher scoring did not converge in {n_iter} iterations (tol={tol:g}); "
            "increase max_iter.",
            ConvergenceWarning,
            stacklevel=2,
        )
    if prob.alpha == 0.0 and prob.family.name in ("binomial", "poisson", "negative_binomial"):
        check_separation(
            prob.X,
            prob.intercept,
            prob.names,
            prob.family.name,
            prob.y,
            prob.w,
            state.mu,
            state.mu_c,
        )
    result = _results(prob, state, n_iter, converged, n_extra)
    result.deviance_history = np.asarray(history)
    if n_extra:
        result._size_bse = _size_standard_error(prob, state.mu)
    return result


def _size_standard_error(prob: Problem, mu: Array) -> Callable[[], float]:
    """The standard error of the estimated size r, from the expected information.

    β and log r are orthogonal, so Var(log r̂) = 1/Σ wᵢ F_rr(μᵢ, r) with F_rr natgrad's exact
    Fisher of the log size (a sum over the support: formed on first use), and se(r̂) = r se(log r̂).
    """
    family, w = prob.family, prob.w

    def se() -> float:
        dist = family.distribution(mu, 1.0 - mu, 1.0)
        info = float(w @ dist.fisher()[:, 1, 1])
        size = float(family.size)  # type: ignore[attr-defined]
        return size / np.sqrt(info) if info > 0 else float("inf")

    return se


def _results(prob: Problem, state: State, n_iter: int, converged: bool, n_extra: int) -> GLMResults:
    fam, link, mu, mu_c, y = prob.family, prob.link, state.mu, state.mu_c, prob.y
    wa = prob.w * prob.a
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        var = mu * mu_c if fam.name == "binomial" else fam.variance(mu)
        d1 = link.inverse_deriv(state.eta)
        d2 = link.inverse_deriv2(state.eta)
        ok = var > 0
        safe_var = np.where(ok, var, 1.0)
        expected_w = np.where(ok, wa * d1 * d1 / safe_var, 0.0)
        # −∂²ℓ/∂η² = a[μ'²/V − (y − μ)(μ''/V − μ'² V'/V²)] (φ = 1): equal to the expected
        # weight for canonical links, where μ'/V is constant.
        correction = (y - mu) * (d2 / safe_var - d1 * d1 * fam.variance_deriv(mu) / safe_var**2)
        observed_w = np.where(ok, expected_w - wa * correction, 0.0)
        pearson = float(np.sum(np.where(ok, wa * (y - mu) ** 2 / safe_var, 0.0)))
    pen = penalty(prob)
    q = prob.n_coef
    nobs = float(prob.w.sum())
    if fam.estimate_scale:
        df_resid = nobs - q
        scale = pearson / df_resid if df_resid > 0 else float("nan")
    else:
        scale = 1.0
    info_e, _ = weighted_gram(prob.X, prob.intercept, expected_w)
    info_e[np.diag_indices(q)] += pen
    cov_e = scale * inverse_psd(info_e)
    X, intercept = prob.X, prob.intercept

    def cov_observed() -> Array:
        # One more pass over X: computed on the first call of cov_params("observed").
        info_o, _ = weighted_gram(X, intercept, observed_w)
        info_o[np.diag_indices(q)] += pen
        return scale * inverse_psd(info_o)

    llf_scale = scale
    if fam.name == "gaussian":
        llf_scale = float(prob.w @ (y - mu) ** 2) / nobs
    if llf_scale > 0 and np.isfinite(llf_scale):
        llf = float(prob.w @ fam.loglike_obs(y, mu, mu_c, prob.a, llf_scale))
    else:
        llf = float("inf") if fam.name == "gaussian" else float("nan")
    return GLMResults(
        params=state.beta.copy(),
        names=list(prob.names),
        cov_expected=cov_e,
        cov_observed=cov_observed,
        family=fam,
        link=link,
        intercept=prob.intercept,
        scale=float(scale),
        llf=llf,
        deviance=state.deviance,
        pearson_chi2=pearson,
        n_extra_params=n_extra,
        nobs=nobs,
        n_iter=n_iter,
        converged=converged,
        alpha=prob.alpha,
    )
