"""The result of `natgrad.glm.fit`: coefficients, their covariance, fit statistics, predictions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from natgrad._typing import Array
from natgrad._validation import check_option, describe
from natgrad.distributions import Distribution
from natgrad.glm._design import as_design
from natgrad.glm._links import Link, _ProbabilityLink
from natgrad.glm._solve import linear_predictor
from natgrad.glm.families import Family, NegativeBinomial


def _cell(value: float) -> str:
    """A table cell of width 11: four decimals, or three significant digits when small."""
    if value == 0 or abs(value) >= 1e-3 or not np.isfinite(value):
        return f"{value:11.4f}"
    return f"{value:11.3e}"


class GLMResults:
    """A fitted generalised linear model.

    Attributes
    ----------
    params : ndarray of shape (q,)
        Coefficients β, the intercept first (named ``"const"``) when one was fitted.
    param_names : list of str
        ``"const"`` and the column names of X (``"x1"``, ... for arrays).
    bse : ndarray of shape (q,)
        Standard errors from the expected information, √diag(`cov_params`).
    family : natgrad.glm.families.Family
        The family (a negative binomial carries its fitted or fixed ``size``).
    link : str
        The link's name.
    scale : float
        The dispersion φ: Pearson χ²/(n − q) for the gaussian, gamma and inverse Gaussian
        families, 1 for the others.
    llf : float
        Log-likelihood at the fit (weighted by the frequency weights), at the dispersion
        ``scale`` (gaussian: at its maximum-likelihood value RSS/n).
    deviance : float
        Σ wᵢ aᵢ d(yᵢ, μᵢ), the unscaled deviance (without the L2 penalty).
    pearson_chi2 : float
        Σ wᵢ aᵢ (yᵢ − μᵢ)²/V(μᵢ).
    aic, bic : float
        −2 llf + 2k and −2 llf + k log n, k the number of coefficients (+1 for an estimated
        negative binomial size), n the sum of the weights.
    nobs : float
        Sum of the frequency weights.
    df_resid : float
        nobs − q.
    n_iter : int
        Fisher-scoring iterations (for an estimated negative binomial size: over all rounds).
    converged : bool
    deviance_history : ndarray of shape (n_iter,)
        The penalised deviance after every iteration: non-increasing within a round (a step
        that would raise it is halved). For an estimated negative binomial size, the rounds
        (each at a new size) follow each other.
    alpha : float
        The L2 penalty of the fit.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import glm
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 1))
    >>> y = rng.gamma(shape=5.0, scale=np.exp(1.0 + 0.5 * X[:, 0]) / 5.0)
    >>> result = glm.fit(X, y, family="gamma", link="log")
    >>> print(result.conf_int().round(2))           # 95 % intervals, one row per coefficient
    [[0.94 1.03]
     [0.46 0.55]]
    >>> round(result.scale, 2)                      # dispersion φ ≈ 1/shape
    0.19
    >>> dist = result.predict(X[:3])                # natgrad distributions: the Gamma of each row
    >>> type(dist).__name__, dist.mean().shape
    ('Gamma', (3,))
    """

    def __init__(
        self,
        *,
        params: Array,
        names: list[str],
        cov_expected: Array,
        cov_observed: Callable[[], Array],
        family: Family,
        link: Link,
        intercept: bool,
        scale: float,
        llf: float,
        deviance: float,
        pearson_chi2: float,
        n_extra_params: int,
        nobs: float,
        n_iter: int,
        converged: bool,
        alpha: float,
    ) -> None:
        self.params = params
        self.param_names = names
        self._cov = {"expected": cov_expected}
        # The observed information needs one more pass over X; it is formed on first use
        # (and before pickling, which drops the reference to X).
        self._cov_observed: Callable[[], Array] | None = cov_observed
        self.family = family
        self._link = link
        self.link = link.name
        self._intercept = intercept
        self.scale = scale
        self.llf = llf
        self.deviance = deviance
        self.pearson_chi2 = pearson_chi2
        self.nobs = nobs
        self.df_resid = nobs - params.size
        k = params.size + n_extra_params
        self.aic = -2.0 * llf + 2.0 * k
        self.bic = -2.0 * llf + k * np.log(nobs)
        self.n_iter = n_iter
        self.converged = converged
        self.alpha = alpha
        self.bse = np.sqrt(np.diag(cov_expected))
        self.deviance_history = np.empty(0)
        self._size_bse: Callable[[], float] | float | None = None

    # ------------------------------------------------------------------ inference
    def cov_params(self, cov: str = "expected") -> Array:
        """Covariance of the coefficients, shape (q, q).

        Parameters
        ----------
        cov : {"expected", "observed"}
            φ times the inverse of the expected (Fisher) information X̃ᵀWX̃ (+ the L2
            penalty), or of the observed information (the negative Hessian of the
            log-likelihood, which adds −Σ (yᵢ − μᵢ) ∂²μ-terms for non-canonical links). They
            are equal for canonical links.
        """
        key = check_option(cov, "cov", ("expected", "observed"), "GLMResults.cov_params")
        if key not in self._cov and self._cov_observed is not None:
            self._cov[key] = self._cov_observed()
            self._cov_observed = None
        return self._cov[key].copy()

    def __getstate__(self) -> dict[str, Any]:
        self.cov_params("observed")
        _ = self.size_bse
        return self.__dict__.copy()

    @property
    def zvalues(self) -> Array:
        """params / bse, shape (q,)."""
        return self.params / self.bse

    @property
    def pvalues(self) -> Array:
        """Two-sided p-values of the z statistics (normal reference), shape (q,)."""
        return 2.0 * stats.norm.sf(np.abs(self.zvalues))

    def conf_int(self, alpha: float = 0.05) -> Array:
        """Wald confidence intervals at level 1 − alpha, shape (q, 2)."""
        if not isinstance(alpha, float | int) or isinstance(alpha, bool) or not 0 < alpha < 1:
            raise ValueError(
                "The 'alpha' argument of GLMResults.conf_int must be a float in the range "
                f"(0, 1). Got {describe(alpha)} instead."
            )
        q = stats.norm.ppf(1.0 - alpha / 2.0)
        return np.column_stack([self.params - q * self.bse, self.params + q * self.bse])

    @property
    def size_bse(self) -> float:
        """Standard error of an estimated negative binomial size r (NaN otherwise).

        From the expected information of log r (natgrad's exact negative binomial Fisher,
        summed over the rows), by the delta method; formed on first use (it sums over the
        support of every row: about a second per 10⁵ rows).
        """
        if self._size_bse is None:
            return float("nan")
        if callable(self._size_bse):
            self._size_bse = float(self._size_bse())
        return float(self._size_bse)

    # ------------------------------------------------------------------ prediction
    def _eta(self, X: ArrayLike, offset: ArrayLike | None) -> Array:
        where = "GLMResults.predict"
        arr, _ = as_design(X, where)
        n_features = self.params.size - int(self._intercept)
        if arr.ndim != 2 or arr.shape[1] != n_features:
            raise ValueError(
                f"The 'X' argument of {where} must have shape (n, {n_features}). "
                f"Got shape {arr.shape} instead."
            )
        off = None
        if offset is not None:
            off = np.broadcast_to(np.asarray(offset, dtype=np.float64), (arr.shape[0],))
        return linear_predictor(arr, self._intercept, self.params, off)

    def predict(self, X: ArrayLike, offset: ArrayLike | None = None) -> Distribution:
        """The predicted distribution of every row: a natgrad distribution batch.

        Its ``mean()`` is μ = g⁻¹(X̃β + offset); intervals (``interval``), quantiles
        (``ppf``) and samples (``sample``) come from the family. The binomial family predicts
        the Bernoulli law of one trial.

        Parameters
        ----------
        X : array-like of shape (n, p)
            Rows to predict, the columns of the fit (without the intercept).
        offset : array-like of shape (n,) or scalar, optional
            Added to the linear predictor (e.g. log exposure).
        """
        if not (np.isfinite(self.scale) and self.scale > 0):
            raise ValueError(
                f"GLMResults.predict needs the dispersion of the {self.family.name} family, "
                f"which could not be estimated (scale={self.scale}: as many coefficients as "
                "rows, or a perfect fit). predict_mean gives the means."
            )
        eta = self._eta(X, offset)
        with np.errstate(over="ignore"):
            mu = self._link.inverse(eta)
        if isinstance(self._link, _ProbabilityLink):
            mu_c = self._link.inverse_complement(eta)
        else:
            mu_c = 1.0 - mu
        if not self.family.valid_mu(mu):
            raise ValueError(
                f"The 'X' argument of GLMResults.predict gives means outside the "
                f"{self.family.name} family's range through the {self.link!r} link."
            )
        return self.family.distribution(mu, mu_c, self.scale)

    def predict_mean(self, X: ArrayLike, offset: ArrayLike | None = None) -> Array:
        """The predicted means μ = g⁻¹(X̃β + offset), shape (n,) (the arguments of `predict`)."""
        with np.errstate(over="ignore"):
            return np.asarray(self._link.inverse(self._eta(X, offset)), dtype=np.float64)

    # ------------------------------------------------------------------ reporting
    def summary_frame(self, alpha: float = 0.05) -> Any:
        """The coefficient table as a pandas DataFrame (coef, std err, z, P>|z|, CI)."""
        import pandas as pd

        ci = self.conf_int(alpha)
        lo, hi = f"[{alpha / 2:g}", f"{1 - alpha / 2:g}]"
        return pd.DataFrame(
            {
                "coef": self.params,
                "std err": self.bse,
                "z": self.zvalues,
                "P>|z|": self.pvalues,
                lo: ci[:, 0],
                hi: ci[:, 1],
            },
            index=self.param_names,
        )

    def summary(self, alpha: float = 0.05) -> str:
        """A text table of the fit and its coefficients, in statsmodels' layout."""
        size = ""
        if isinstance(self.family, NegativeBinomial) and self.family.size is not None:
            size = f"{self.family.size:.6g}"
        left = [
            ("Family:", self.family.name),
            ("Link:", self.link),
            ("No. Observations:", f"{self.nobs:g}"),
            ("Df Residuals:", f"{self.df_resid:g}"),
            ("Df Model:", f"{self.params.size - int(self._intercept)}"),
            ("L2 alpha:", f"{self.alpha:g}"),
        ]
        right = [
            ("Log-Likelihood:", f"{self.llf:.6g}"),
            ("Deviance:", f"{self.deviance:.6g}"),
            ("Pearson chi2:", f"{self.pearson_chi2:.3g}"),
            ("Scale:", f"{self.scale:.6g}"),
            ("No. Iterations:", f"{self.n_iter}{'' if self.converged else ' (not converged)'}"),
            ("NB size:" if size else "AIC:", size or f"{self.aic:.6g}"),
        ]
        frame = self.summary_frame(alpha)
        name_w = max(10, *(len(n) for n in self.param_names))
        header = f"{'':<{name_w}}" + "".join(f"{c:>11}" for c in frame.columns)
        width = max(78, len(header))
        title = "Generalized Linear Model Regression Results (natgrad, Fisher scoring)"
        lines = [title.center(width).rstrip(), "=" * width]
        half = width // 2
        for (lk, lv), (rk, rv) in zip(left, right, strict=True):
            lines.append(f"{lk:<20}{lv:>{half - 23}}   " + f"{rk:<20}{rv:>{width - half - 20}}")
        lines += ["=" * width, header, "-" * width]
        for name, row in frame.iterrows():
            values = row.to_numpy()
            cells = [_cell(values[0]), _cell(values[1]), f"{values[2]:11.3f}"]
            cells += [f"{values[3]:11.3f}", _cell(values[4]), _cell(values[5])]
            lines.append(f"{name!s:<{name_w}}" + "".join(cells))
        lines.append("=" * width)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"GLMResults(family={self.family.name!r}, link={self.link!r}, "
            f"n_params={self.params.size}, llf={self.llf:.6g}, converged={self.converged})"
        )
