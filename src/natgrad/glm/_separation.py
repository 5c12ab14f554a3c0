"""Detecting (quasi-)complete separation: data on which the maximum likelihood does not exist.

A binomial GLM has no finite MLE exactly when some direction b ≠ 0 of the coefficients
separates the data: x̃ᵢᵀb ≥ 0 for every row with all successes, ≤ 0 for every row with all
failures, = 0 for rows with both, and strictly for at least one row. Moving β along b then
raises the likelihood forever (Albert & Anderson, Biometrika 1984). The same holds for
log-link count models, where the rows with y = 0 play the part of the failures and the rows
with y > 0 must have x̃ᵢᵀb = 0.

Whether such a b exists is a linear program (Konis 2007, "Linear programming algorithms for
detecting separated data in binary logistic regression models"): maximise Σ sᵢ x̃ᵢᵀb over
the box −1 ≤ b ≤ 1 subject to the sign constraints, with sᵢ = ±1 on the boundary rows. The
optimum is 0 without separation and positive with it. Fisher scoring sends such fits toward
fitted means of exactly 0 or 1, which is when `check_separation` runs the program.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

from natgrad._typing import Array

# Fitted means this close to the boundary of the mean space (relative for counts) make the
# fit suspect, and the linear program decides.
BOUNDARY = 1e-8
# The optimum of the program (columns scaled to unit maximum) above which data are separated.
_LP_TOL = 1e-7
# Coefficients of the separating direction below this (relative to its largest) are not named.
_NAME_TOL = 1e-6


class PerfectSeparationError(ValueError):
    """The data are (quasi-)completely separated: the maximum likelihood estimate does not exist.

    Attributes
    ----------
    direction : dict of str to float
        The separating direction b (largest coefficient ±1), by column name.
    n_separated : int
        The rows that b separates strictly (fitted exactly at 0 or 1 in the limit).

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import glm
    >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    >>> y = np.array([0.0, 0.0, 1.0, 1.0])          # x > 0 predicts y exactly
    >>> try:
    ...     glm.fit(X, y, family="binomial")
    ... except glm.PerfectSeparationError as err:
    ...     print(err.n_separated, err.direction)
    3 {'const': -1.0, 'x1': 1.0}
    """

    def __init__(self, message: str, direction: dict[str, float], n_separated: int) -> None:
        super().__init__(message)
        self.direction = direction
        self.n_separated = n_separated


def separating_direction(
    X: Array, intercept: bool, upper: np.ndarray, lower: np.ndarray, free: np.ndarray
) -> tuple[Array, np.ndarray] | None:
    """A direction b with x̃ᵀb ≥ 0 on ``upper`` rows, ≤ 0 on ``lower`` rows, = 0 elsewhere.

    Parameters
    ----------
    X : ndarray of shape (n, p)
    intercept : bool
    upper, lower, free : ndarray of bool, shape (n,)
        Rows at the upper boundary (all successes), the lower boundary (all failures or a
        zero count), and rows that may have either sign (weight 0). Other rows need x̃ᵀb = 0.

    Returns
    -------
    (b, strict) or None
        b of shape (q,), scaled to a largest coefficient of ±1, and the boolean mask of rows it
        separates strictly; None when the program's optimum is 0 (no separation).
    """
    design = np.column_stack([np.ones(X.shape[0]), X]) if intercept else X
    col_scale = np.max(np.abs(design), axis=0)
    col_scale[col_scale == 0] = 1.0
    design = design / col_scale
    sign = np.where(upper, 1.0, 0.0) - np.where(lower, 1.0, 0.0)
    bound = upper | lower
    interior = ~(bound | free)
    q = design.shape[1]
    c = -(sign[bound] @ design[bound])  # linprog minimises
    a_ub = -sign[bound, None] * design[bound]
    a_eq = design[interior] if interior.any() else None
    result = optimize.linprog(
        c,
        A_ub=a_ub,
        b_ub=np.zeros(a_ub.shape[0]),
        A_eq=a_eq,
        b_eq=None if a_eq is None else np.zeros(a_eq.shape[0]),
        bounds=[(-1.0, 1.0)] * q,
        method="highs",
    )
    if not result.success or -result.fun <= _LP_TOL:
        return None
    b = result.x / col_scale
    b = b / np.max(np.abs(b))
    margin = sign * (design @ result.x)
    return b, bound & (margin > _LP_TOL)


def check_separation(
    X: Array,
    intercept: bool,
    names: list[str],
    family: str,
    y: Array,
    w: Array,
    mu: Array,
    mu_c: Array,
) -> None:
    """Raise `PerfectSeparationError` if the fitted means hit the boundary on separated data.

    Runs the linear program only when some row with positive weight has a fitted mean within
    ``BOUNDARY`` of 0 or 1 (binomial) or of 0 with y = 0 (counts): on other fits it costs
    nothing.
    """
    active = w > 0
    if family == "binomial":
        near = active & (((y == 0) & (mu < BOUNDARY)) | ((y == 1) & (mu_c < BOUNDARY)))
        upper, lower = active & (y == 1), active & (y == 0)
        what = "y = 1 (all successes)", "y = 0 (all failures)"
    else:
        scale = max(float(np.average(y, weights=w)), 1.0)
        near = active & (y == 0) & (mu < BOUNDARY * scale)
        upper, lower = np.zeros_like(active), active & (y == 0)
        what = ("", "")
    if not near.any():
        return
    found = separating_direction(X, intercept, upper, lower, ~active)
    if found is None:
        return
    b, strict = found
    direction = {n: float(v) for n, v in zip(names, b, strict=True) if abs(v) > _NAME_TOL}
    combo = " ".join(f"{v:+.3g}·{n!r}" for n, v in direction.items())
    if family == "binomial":
        rule = f"≥ 0 on every row with {what[0]} and ≤ 0 on every row with {what[1]}"
        limit = "0 or 1"
    else:
        rule = "≤ 0 on every row with y = 0 and = 0 on every row with y > 0"
        limit = "0"
    raise PerfectSeparationError(
        f"Perfect separation in the {family} model: the linear combination {combo} is {rule}, "
        f"strictly on {int(strict.sum())} row(s), so the maximum likelihood estimate does not "
        "exist (the coefficients grow without bound along that direction and those rows are "
        f"fitted with means of exactly {limit}). Remove or merge the separating column(s), or "
        "pass alpha > 0: an L2 penalty has a finite optimum.",
        direction,
        int(strict.sum()),
    )
