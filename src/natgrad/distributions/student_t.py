"""The Student's t family, parameterised by (loc, log scale, log df), or with a fixed df."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import special, stats

from natgrad._validation import describe
from natgrad.distributions._base import Array, Distribution
from natgrad.distributions._support import POSITIVE, REAL
from natgrad.distributions.cauchy import (
    _fit_location_scale,
    _log1p_square,
    _robust_center_spread,
)

_HALF_LOG_2PI = 0.5 * np.log(2.0 * np.pi)
# Learned degrees of freedom live in [DF_RANGE[0], DF_RANGE[1]]. Above the upper bound the
# likelihood is flat in ν (the Normal limit: the excess kurtosis 6/(ν − 4) is below 0.6 %, which
# takes ~10^6 rows to detect) and its Fisher entry ~7/(2ν²) vanishes, so an unbounded natural
# gradient in log ν is huge and noisy: boosting's trees then chase that column and ν runs off
# to 1e10 and beyond while the location underfits. Below the lower bound every moment and
# the density's numerics are gone. The bound is a clip of ν.
DF_RANGE = (0.1, 1000.0)
_LOG_DF_BOUNDS = (float(np.log(DF_RANGE[0])), float(np.log(DF_RANGE[1])))

# Above this df the ν-terms come from asymptotic series in t = 1/ν: the direct forms
# subtract log-gamma, digamma and trigamma values that agree to ~log10(ν²) digits (at ν = 1e8
# the trigamma form of the Fisher entry is pure noise, possibly negative).
_SERIES_DF = 100.0
# D0(ν) = log Γ((ν+1)/2) − log Γ(ν/2) − ½ log(ν/2) = Σ a_j t^{2j−1}
_D0 = (-1 / 4, 1 / 24, -1 / 20, 17 / 112, -31 / 36, 691 / 88)
# D1(ν) = ψ((ν+1)/2) − ψ(ν/2) − 1/ν = Σ b_j t^{2j}
_D1 = (1 / 2, -1 / 4, 1 / 2, -17 / 8, 31 / 2, -691 / 4)
# C(ν) = ν² I_νν = Σ c_k t^{k+2} (the Fisher entry of log ν), from the two series above and
# the expansion of the rational part; checked against 60-digit arithmetic (rel. error < 1e-16
# at ν = 100).
_C = (7 / 2, -13, 79 / 2, -119, 727 / 2, -1101, 6559 / 2, -9763, 59047 / 2, -89609, 531439 / 2)
# log(1 + q) − q/(1 + q) = Σ_{k≥2} s^k/k with s = q/(1 + q); s^2 times a polynomial in s
# (highest power first), 14 terms: exact to double precision for s < 0.05.
_EXCESS = tuple(1.0 / k for k in range(15, 1, -1))


def _df_terms(nu: Array, order: int) -> Array:
    """D0 (order 0), D1 (order 1) or C (order 2) of ν (see the constants), shape (n,)."""
    big = nu >= _SERIES_DF
    t = 1.0 / np.where(big, nu, _SERIES_DF)
    small = np.where(big, 1.0, nu)
    x = 0.5 * small
    if order == 0:
        series = t * np.polyval(_D0[::-1], t * t)
        direct = special.gammaln(x + 0.5) - special.gammaln(x) - 0.5 * np.log(x)
    elif order == 1:
        series = t * t * np.polyval(_D1[::-1], t * t)
        direct = special.digamma(x + 0.5) - special.digamma(x) - 1.0 / small
    else:
        series = t * t * np.polyval(_C[::-1], t)
        direct = (
            small
            * small
            * (
                0.25 * (special.polygamma(1, x) - special.polygamma(1, x + 0.5))
                - (small + 5.0) / (2.0 * small * (small + 1.0) * (small + 3.0))
            )
        )
    return np.where(big, series, direct)


class StudentT(Distribution):
    """Student's t distributions with location μ, scale σ and ν degrees of freedom.

    Unconstrained parameters θ = (μ, log σ, log ν); with ``fixed_df`` the degrees of freedom
    are configuration and θ = (μ, log σ). Learned ν is bounded to `DF_RANGE` = [0.1, 1000]
    (θ beyond it is read as the bound, where the loss is flat in log ν: its gradient and
    Fisher row are zero); a fixed ν may be any positive number.
    With z = (y − μ)/σ, q = z²/ν and s = q/(1 + q):

        nll = log σ + ½ log 2π − D0(ν) + ((ν + 1)/2) log(1 + q)
        ∇nll = (−(ν + 1) z/(σ(ν + z²)),  1 − (ν + 1) s,
                ½ [−ν D1(ν) + ν (log(1 + q) − s) − s])

    where D0(ν) = log Γ((ν+1)/2) − log Γ(ν/2) − ½ log(ν/2) and
    D1(ν) = ψ((ν+1)/2) − ψ(ν/2) − 1/ν both vanish as ν → ∞ (the Normal limit). The Fisher
    information (Lange, Little & Taylor 1989, JASA 84:881, mapped to log σ and log ν) is

        F = [[(ν+1)/((ν+3)σ²), 0, 0],
             [0, 2ν/(ν+3), −2ν/((ν+1)(ν+3))],
             [0, −2ν/((ν+1)(ν+3)), ν² (¼[ψ'(ν/2) − ψ'((ν+1)/2)] − (ν+5)/(2ν(ν+1)(ν+3)))]]

    and its top-left 2×2 block with a fixed ν. For ν ≥ 100 the ν-terms use their asymptotic
    series in 1/ν (the last entry is 7/(2ν²) − 13/ν³ + …), which stays accurate where the
    direct form cancels catastrophically.

    KL divergence between t distributions has no closed form, so none is registered:
    `kl` needs an ``rng`` and returns a Monte Carlo estimate.

    Parameters
    ----------
    loc : array-like of shape (n,) or scalar
        Location (median) μ.
    scale : array-like of shape (n,) or scalar
        Scale σ > 0.
    df : array-like of shape (n,) or scalar, optional
        Degrees of freedom ν > 0, learned. Required unless ``fixed_df`` is given.
    fixed_df : float, optional
        Fixed degrees of freedom ν > 0 shared by the batch; the family then has the two
        parameters (loc, log_scale). Pass it to `from_params` and `fit_marginal` too.

    See Also
    --------
    natgrad.distributions.Normal : The limit of infinitely many degrees of freedom.
    natgrad.distributions.Cauchy : One degree of freedom.

    Examples
    --------
    >>> from natgrad.distributions import StudentT
    >>> dist = StudentT(loc=0.0, scale=1.0, df=[3.0, 30.0])   # three learned parameters per row
    >>> dist.param_names
    ('loc', 'log_scale', 'log_df')
    >>> print(dist.ppf(0.975).round(3))
    [3.182 2.042]
    >>> heavy = StudentT(loc=[0.0, 1.0], scale=1.0, fixed_df=3.0)   # df fixed, not learned
    >>> heavy.n_params
    2
    """

    name = "student_t"
    param_names: tuple[str, ...] = ("loc", "log_scale", "log_df")
    n_params = 3
    support = REAL
    natural_support = {"loc": REAL, "scale": POSITIVE, "df": POSITIVE}
    examples = [
        ({}, [[0.0, 0.0, np.log(5.0)], [1.5, -1.0, np.log(30.0)], [-3.0, 2.0, np.log(2.5)]]),
        ({"fixed_df": 3.0}, [[0.0, 0.0], [2.0, -2.0], [-1.0, 3.0]]),
    ]

    _fixed_df: float | None = None

    def __init__(
        self,
        loc: ArrayLike = 0.0,
        scale: ArrayLike = 1.0,
        df: ArrayLike | None = None,
        *,
        fixed_df: float | None = None,
    ) -> None:
        self._configure(fixed_df=fixed_df)
        if fixed_df is None:
            if df is None:
                raise ValueError(
                    "The 'df' argument of StudentT must be given (a positive number or "
                    "array) unless 'fixed_df' is. Got neither."
                )
            self._set_natural(loc=loc, scale=scale, df=df)
            log_df = self._params[:, 2]
            outside = (log_df < _LOG_DF_BOUNDS[0] - 1e-12) | (log_df > _LOG_DF_BOUNDS[1] + 1e-12)
            if outside.any():
                raise ValueError(
                    f"The 'df' argument of StudentT must be in the range [{DF_RANGE[0]}, "
                    f"{DF_RANGE[1]:g}] (learned degrees of freedom are bounded there; pass "
                    "fixed_df= for any other positive value). Got "
                    f"{np.exp(log_df[outside][0]):g} instead."
                )
        else:
            if df is not None:
                raise ValueError(
                    "The 'df' argument of StudentT must be None when 'fixed_df' is given "
                    f"(fixed_df={fixed_df!r}). Got {describe(df)} instead."
                )
            self._set_natural(loc=loc, scale=scale)

    def _configure(self, fixed_df: float | None = None, **config: Any) -> None:
        super()._configure(**config)
        if fixed_df is not None:
            value = fixed_df
            ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(
                value, bool
            )
            if not ok or not np.isfinite(value) or value <= 0:
                raise ValueError(
                    "The 'fixed_df' argument of StudentT must be None or a finite float in "
                    f"the range (0, inf). Got {describe(fixed_df)} instead."
                )
            fixed_df = float(value)
        self._fixed_df = fixed_df
        # Instance attributes: the parameter count depends on the configuration.
        if fixed_df is None:
            self.n_params = 3
            self.param_names = ("loc", "log_scale", "log_df")
        else:
            self.n_params = 2
            self.param_names = ("loc", "log_scale")

    @property
    def config(self) -> dict[str, Any]:
        return {"fixed_df": self._fixed_df}

    @property
    def fixed_df(self) -> float | None:
        """The fixed degrees of freedom, or None when they are learned."""
        return self._fixed_df

    def _from_natural(  # type: ignore[override]
        self, loc: Array, scale: Array, df: Array | None = None
    ) -> Array:
        columns = [loc, np.log(scale)]
        if df is not None:
            columns.append(np.log(df))
        return np.column_stack(columns)

    def _natural(self) -> dict[str, Array]:
        natural = {"loc": self._params[:, 0], "scale": np.exp(self._params[:, 1])}
        if self._fixed_df is None:
            natural["df"] = self.df
        return natural

    @property
    def loc(self) -> Array:
        return self._params[:, 0]

    @property
    def scale(self) -> Array:
        return np.exp(self._params[:, 1])

    @property
    def df(self) -> Array:
        """Degrees of freedom of every row, shape (n,) (fixed or learned)."""
        if self._fixed_df is None:
            return np.exp(np.clip(self._params[:, 2], *_LOG_DF_BOUNDS))
        return np.full(len(self), self._fixed_df)

    def _df_inside(self) -> Array:
        """1.0 where a row's log ν lies inside `DF_RANGE` (bounds included), else 0.0, (n,)."""
        log_df = self._params[:, 2]
        inside = (log_df >= _LOG_DF_BOUNDS[0]) & (log_df <= _LOG_DF_BOUNDS[1])
        return inside.astype(np.float64)

    # ------------------------------------------------------------------ kernels
    def _z(self, y: Array) -> tuple[Array, Array, Array]:
        """z, a = z/√ν and s = z²/(ν + z²), overflow-safe for huge |z|."""
        nu = self.df
        z = (y - self._params[:, 0]) * np.exp(-self._params[:, 1])
        a = z / np.sqrt(nu)
        with np.errstate(over="ignore"):
            q = a * a
        r = 1.0 / (1.0 + q)
        # s = q/(1+q): q·r is exact for small q, 1 − r is safe when q overflows.
        s = np.where(q < 1.0, np.minimum(q, 1.0) * r, 1.0 - r)
        return z, a, s

    def _nll(self, y: Array) -> Array:
        nu = self.df
        _, a, _ = self._z(y)
        d0 = _df_terms(nu, 0)
        return self._params[:, 1] + _HALF_LOG_2PI - d0 + 0.5 * (nu + 1.0) * _log1p_square(a)

    def _grad(self, y: Array) -> Array:
        nu = self.df
        z, a, s = self._z(y)
        inv_scale = np.exp(-self._params[:, 1])
        # (ν + 1) z/(ν + z²) = (1 + 1/ν) z (1 − s)
        g_loc = -(1.0 + 1.0 / nu) * z * (1.0 - s) * inv_scale
        g_scale = 1.0 - (nu + 1.0) * s
        if self._fixed_df is not None:
            return np.stack([g_loc, g_scale], axis=-1)
        d1 = _df_terms(nu, 1)
        # log(1 + q) − s = Σ_{k≥2} s^k/k: the series avoids cancellation for small s.
        small = np.minimum(s, 0.05)
        series = small * small * np.polyval(_EXCESS, small)
        excess = np.where(s < 0.05, series, _log1p_square(a) - s)
        g_df = 0.5 * (-nu * d1 + nu * excess - s)
        # Outside DF_RANGE ν is clipped, so the loss does not depend on log ν there.
        g_df = np.where(self._df_inside() > 0.0, g_df, 0.0)
        return np.stack([g_loc, g_scale, g_df], axis=-1)

    def _fisher(self) -> Array:
        nu = self.df
        p = self.n_params
        out = np.zeros((len(self), p, p))
        out[:, 0, 0] = (nu + 1.0) / (nu + 3.0) * np.exp(-2.0 * self._params[:, 1])
        out[:, 1, 1] = 2.0 * nu / (nu + 3.0)
        if p == 3:
            c = _df_terms(nu, 2)
            out[:, 1, 2] = out[:, 2, 1] = -2.0 * nu / ((nu + 1.0) * (nu + 3.0))
            out[:, 2, 2] = c
            # Outside DF_RANGE the score of log ν is zero, and so is its Fisher row.
            out[:, 2, :] *= self._df_inside()[:, None]
            out[:, :, 2] *= self._df_inside()[:, None]
        return out

    # ------------------------------------------------------------------ marginal fit
    def _fit_marginal(self, y: Array, w: Array) -> Array:
        """Weighted MLE by bounded L-BFGS on data standardised by median and half the IQR.

        See `natgrad.distributions.cauchy._fit_location_scale`. With learned ν the
        likelihood can keep rising as ν → ∞ (Normal-looking data); ν is kept in
        `DF_RANGE`.
        """
        extra = () if self._fixed_df is not None else (_LOG_DF_BOUNDS,)
        return _fit_location_scale(self, y, w, extra)

    def _initial_params(self, y: Array, w: Array) -> Array:
        center, spread = _robust_center_spread(y, w)
        # Half the IQR is 0.73σ at ν = 5 (0.67σ for a Normal); start from ν = 5.
        start = [center, np.log(spread / 0.7267)]
        if self._fixed_df is None:
            start.append(np.log(5.0))
        return np.array(start)

    # ------------------------------------------------------------------ distribution functions
    def to_scipy(self) -> stats.rv_continuous:
        return stats.t(df=self.df, loc=self.loc, scale=self.scale)

    def mean(self) -> Array:
        """loc where ν > 1; NaN where the mean does not exist (ν ≤ 1), as in scipy."""
        return np.where(self.df > 1.0, self.loc, np.nan)

    def var(self) -> Array:
        """σ²ν/(ν − 2) where ν > 2; inf for 1 < ν ≤ 2 and NaN for ν ≤ 1, as in scipy."""
        nu = self.df
        with np.errstate(divide="ignore", invalid="ignore"):
            finite = np.exp(2.0 * self._params[:, 1]) * nu / (nu - 2.0)
        return np.where(nu > 2.0, finite, np.where(nu > 1.0, np.inf, np.nan))

    def sample(self, size: int, rng: np.random.Generator | int | None = None) -> Array:
        size, rng = self._check_sample_args(size, rng)
        return self.loc + self.scale * rng.standard_t(self.df, size=(size, len(self)))
