"""Exponential-dispersion families of generalised linear models.

A GLM family is the bridge between a linear predictor and a natgrad distribution: it names
the natgrad family that the fitted model predicts (`distribution`), and the two functions
Fisher scoring needs in closed form, the variance function V(μ) and the unit deviance. The
Fisher information of the mean of every family here is 1/(φ V(μ)), the Fisher of the natgrad
distribution pulled back to μ (the tests check the two against each other for every family).

==================  ======================  ==========  ===============================
family              natgrad distribution    V(μ)        links (first: the default)
==================  ======================  ==========  ===============================
gaussian            Normal(μ, √φ)           1           identity, log
binomial            Bernoulli(μ) per trial  μ(1 − μ)    logit, probit, cloglog
poisson             Poisson(μ)              μ           log, identity
gamma               Gamma(1/φ, 1/(φμ))      μ²          inverse, log, identity
inverse_gaussian    InverseGaussian(μ, 1/φ) μ³          inverse_squared, log, inverse
negative_binomial   NegativeBinomial(μ, r)  μ + μ²/r    log
==================  ======================  ==========  ===============================

The default links are the canonical ones, except the negative binomial's (its canonical link
log(μ/(μ + r)) depends on r).
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import numpy as np
from scipy import special

from natgrad._typing import Array
from natgrad._validation import describe
from natgrad.distributions import Distribution, get

__all__ = [
    "Binomial",
    "Family",
    "Gamma",
    "Gaussian",
    "InverseGaussian",
    "NegativeBinomial",
    "Poisson",
    "get_family",
]


class Family:
    """A GLM family: variance function, unit deviance, log-likelihood and distribution.

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"poisson"``.
    links : tuple of str
        The links the family accepts; the first is the default.
    canonical_link : str
        The link for which the expected and observed information coincide.
    estimate_scale : bool
        Whether the dispersion φ is estimated (Pearson χ²/(n − p)) or fixed at 1.

    Examples
    --------
    >>> from natgrad.glm import families
    >>> fam = families.Poisson()
    >>> fam.name, fam.links, fam.canonical_link, fam.estimate_scale
    ('poisson', ('log', 'identity'), 'log', False)
    """

    name: ClassVar[str] = ""
    #: The mean space ("real", "positive" or "unit") and the targets' lower bound
    #: ("real", "positive" or "non_negative"; binomial targets are checked by the family).
    mean_space: ClassVar[str] = "real"
    targets: ClassVar[str] = "real"
    links: ClassVar[tuple[str, ...]] = ()
    canonical_link: ClassVar[str] = ""
    estimate_scale: ClassVar[bool] = False
    distribution_name: ClassVar[str] = ""

    # ------------------------------------------------------------------ targets
    def check_y(self, y: Array, where: str) -> None:
        """Raise a `ValueError` naming 'y' if a target is outside the family's support."""
        if self.targets == "positive":
            self._reject(y, y <= 0, "positive", where)
        elif self.targets == "non_negative":
            self._reject(y, y < 0, "non-negative", where)

    def _reject(self, y: Array, bad: np.ndarray, expected: str, where: str) -> None:
        if bad.any():
            index = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"The 'y' argument of {where} must be {expected} for the {self.name} family. "
                f"Got {int(bad.sum())} value(s) outside, e.g. {y[index]} at index {index}."
            )

    def start_mu(self, y: Array, w: Array, a: Array) -> Array:
        """Starting means: halfway between each target and the weighted mean target.

        ``w`` are the frequency weights, ``a`` the prior weights (binomial trials).
        """
        wa = w * a
        return 0.5 * (y + float(wa @ y) / float(wa.sum()))

    # ------------------------------------------------------------------ geometry
    def variance(self, mu: Array) -> Array:
        """V(μ): the variance of y is φ V(μ)/a for prior weight a."""
        raise NotImplementedError

    def variance_deriv(self, mu: Array) -> Array:
        """dV/dμ (for the observed information)."""
        raise NotImplementedError

    def unit_deviance(self, y: Array, mu: Array, mu_c: Array) -> Array:
        """d(y, μ) = 2 [ℓ(y; y) − ℓ(y; μ)] at φ = 1; ``mu_c`` is 1 − μ (binomial only)."""
        raise NotImplementedError

    def valid_mu(self, mu: Array) -> bool:
        """Whether every mean lies inside the family's mean space."""
        ok = np.isfinite(mu)
        if self.mean_space == "positive":
            ok &= mu > 0
        elif self.mean_space == "unit":
            ok &= (mu >= 0) & (mu <= 1)
        return bool(np.all(ok))

    # ------------------------------------------------------------------ likelihood
    def distribution(self, mu: Array, mu_c: Array, scale: float) -> Distribution:
        """The natgrad distribution batch with means ``mu`` and dispersion ``scale``."""
        raise NotImplementedError

    def loglike_obs(self, y: Array, mu: Array, mu_c: Array, a: Array, scale: float) -> Array:
        """log p(yᵢ) per row for prior weights ``a`` (binomial trials), shape (n,)."""
        dist = self.distribution(mu, mu_c, scale)
        return -dist._nll(y)

    @property
    def natgrad_family(self) -> type[Distribution]:
        """The natgrad distribution class the family predicts."""
        return get(self.distribution_name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(vars(self).items()))))


def _log_or_zero(y: Array, mu: Array) -> Array:
    """y log(y/μ), 0 where y = 0."""
    return special.xlogy(y, y) - special.xlogy(y, mu)


class Gaussian(Family):
    """Normal targets: V(μ) = 1, φ = σ² estimated.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.glm import families
    >>> fam = families.Gaussian()
    >>> fam.links, fam.estimate_scale
    (('identity', 'log'), True)
    >>> print(fam.variance(np.array([0.5, 10.0])))  # V(μ) = 1
    [1. 1.]
    """

    name = "gaussian"
    links = ("identity", "log")
    canonical_link = "identity"
    estimate_scale = True
    distribution_name = "normal"

    def variance(self, mu: Array) -> Array:
        return np.ones_like(mu)

    def variance_deriv(self, mu: Array) -> Array:
        return np.zeros_like(mu)

    def unit_deviance(self, y: Array, mu: Array, mu_c: Array) -> Array:
        r = y - mu
        return r * r

    def distribution(self, mu: Array, mu_c: Array, scale: float) -> Distribution:
        return self.natgrad_family.from_params(
            np.column_stack([mu, np.full(mu.shape, 0.5 * np.log(scale))])
        )

    def loglike_obs(self, y: Array, mu: Array, mu_c: Array, a: Array, scale: float) -> Array:
        r = y - mu
        return -0.5 * (r * r / scale + np.log(2.0 * np.pi * scale))


class Binomial(Family):
    """Successes out of n trials: V(μ) = μ(1 − μ) for the success probability μ, φ = 1.

    Targets are success counts with ``n_trials`` given to `natgrad.glm.fit`, or proportions
    in [0, 1] (one trial each, or weighted). The predicted distribution is the Bernoulli law
    of one trial.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import glm
    >>> trials = np.array([10, 10, 10, 10])
    >>> successes = np.array([1, 4, 6, 9])
    >>> X = np.array([[-1.5], [-0.5], [0.5], [1.5]])
    >>> result = glm.fit(X, successes, family=glm.families.Binomial(), n_trials=trials)
    >>> print(result.predict_mean(X).round(2))      # success probabilities
    [0.12 0.34 0.66 0.88]
    """

    name = "binomial"
    mean_space = "unit"
    links = ("logit", "probit", "cloglog")
    canonical_link = "logit"
    distribution_name = "bernoulli"

    def check_y(self, y: Array, where: str) -> None:
        self._reject(y, (y < 0) | (y > 1), "a proportion in [0, 1]", where)

    def start_mu(self, y: Array, w: Array, a: Array) -> Array:
        # (a y + ½)/(a + 1) for a trials: strictly inside (0, 1).
        return (a * y + 0.5) / (a + 1.0)

    def variance(self, mu: Array) -> Array:
        return mu * (1.0 - mu)

    def variance_deriv(self, mu: Array) -> Array:
        return 1.0 - 2.0 * mu

    def unit_deviance(self, y: Array, mu: Array, mu_c: Array) -> Array:
        return 2.0 * (_log_or_zero(y, mu) + _log_or_zero(1.0 - y, mu_c))

    def distribution(self, mu: Array, mu_c: Array, scale: float) -> Distribution:
        with np.errstate(divide="ignore"):
            logit = np.log(mu) - np.log(mu_c)
        return self.natgrad_family.from_params(np.clip(logit, -745.0, 745.0)[:, None])

    def loglike_obs(self, y: Array, mu: Array, mu_c: Array, a: Array, scale: float) -> Array:
        k = a * y
        return (
            special.gammaln(a + 1.0)
            - special.gammaln(k + 1.0)
            - special.gammaln(a - k + 1.0)
            + special.xlogy(k, mu)
            + special.xlogy(a - k, mu_c)
        )


class Poisson(Family):
    """Counts: V(μ) = μ, φ = 1. Non-integer targets ≥ 0 are accepted (quasi-Poisson rates).

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.glm import families
    >>> fam = families.Poisson()
    >>> print(fam.variance(np.array([0.5, 4.0])))   # V(μ) = μ
    [0.5 4. ]
    """

    name = "poisson"
    mean_space = "positive"
    targets = "non_negative"
    links = ("log", "identity")
    canonical_link = "log"
    distribution_name = "poisson"

    def variance(self, mu: Array) -> Array:
        return mu

    def variance_deriv(self, mu: Array) -> Array:
        return np.ones_like(mu)

    def unit_deviance(self, y: Array, mu: Array, mu_c: Array) -> Array:
        return 2.0 * (_log_or_zero(y, mu) - (y - mu))

    def distribution(self, mu: Array, mu_c: Array, scale: float) -> Distribution:
        return self.natgrad_family.from_params(np.log(mu)[:, None])


class Gamma(Family):
    """Positive targets with constant coefficient of variation: V(μ) = μ², φ estimated.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.glm import families
    >>> fam = families.Gamma()
    >>> fam.links[0], fam.estimate_scale            # default link first
    ('inverse', True)
    >>> print(fam.variance(np.array([0.5, 4.0])))   # V(μ) = μ²
    [ 0.25 16.  ]
    """

    name = "gamma"
    mean_space = "positive"
    targets = "positive"
    links = ("inverse", "log", "identity")
    canonical_link = "inverse"
    estimate_scale = True
    distribution_name = "gamma"

    def variance(self, mu: Array) -> Array:
        return mu * mu

    def variance_deriv(self, mu: Array) -> Array:
        return 2.0 * mu

    def unit_deviance(self, y: Array, mu: Array, mu_c: Array) -> Array:
        r = (y - mu) / mu
        # 2[(y − μ)/μ − log(y/μ)] = 2[r − log1p(r)]: no cancellation for y ≈ μ.
        return 2.0 * (r - np.log1p(r))

    def distribution(self, mu: Array, mu_c: Array, scale: float) -> Distribution:
        log_shape = -np.log(scale)
        return self.natgrad_family.from_params(
            np.column_stack([np.full(mu.shape, log_shape), log_shape - np.log(mu)])
        )


class InverseGaussian(Family):
    """Positive, right-skewed targets: V(μ) = μ³, φ = 1/λ estimated.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.glm import families
    >>> print(families.InverseGaussian().variance(np.array([0.5, 2.0])))   # V(μ) = μ³
    [0.125 8.   ]
    """

    name = "inverse_gaussian"
    mean_space = "positive"
    targets = "positive"
    links = ("inverse_squared", "log", "inverse")
    canonical_link = "inverse_squared"
    estimate_scale = True
    distribution_name = "inverse_gaussian"

    def variance(self, mu: Array) -> Array:
        return mu * mu * mu

    def variance_deriv(self, mu: Array) -> Array:
        return 3.0 * mu * mu

    def unit_deviance(self, y: Array, mu: Array, mu_c: Array) -> Array:
        r = (y - mu) / mu
        return r * r / y

    def distribution(self, mu: Array, mu_c: Array, scale: float) -> Distribution:
        return self.natgrad_family.from_params(
            np.column_stack([np.log(mu), np.full(mu.shape, -np.log(scale))])
        )


class NegativeBinomial(Family):
    """Over-dispersed counts: V(μ) = μ + μ²/r with size r (statsmodels' alpha = 1/r).

    Parameters
    ----------
    size : float or None
        The size r > 0, fixed; None (the default) estimates it by maximum likelihood
        jointly with the coefficients.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import glm
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(1000, 1))
    >>> mu = np.exp(1.0 + 0.5 * X[:, 0])
    >>> y = rng.negative_binomial(n=2.0, p=2.0 / (2.0 + mu))    # size r = 2
    >>> fitted = glm.fit(X, y, family=glm.families.NegativeBinomial())   # r estimated
    >>> round(fitted.family.size, 1)
    1.9
    >>> fixed = glm.fit(X, y, family=glm.families.NegativeBinomial(size=2.0))
    >>> fixed.family.size
    2.0
    """

    name = "negative_binomial"
    mean_space = "positive"
    targets = "non_negative"
    links = ("log",)
    canonical_link = ""  # log(μ/(μ + r)): not offered, it depends on r
    distribution_name = "negative_binomial"

    def __init__(self, size: float | None = None) -> None:
        self.size = size

    def __repr__(self) -> str:
        return f"NegativeBinomial(size={self.size!r})"

    def _r(self) -> float:
        if self.size is None:
            raise ValueError("The negative binomial family has no size set yet.")
        return float(self.size)

    def with_size(self, size: float) -> NegativeBinomial:
        out = copy.copy(self)
        out.size = float(size)
        return out

    def variance(self, mu: Array) -> Array:
        return mu + mu * mu / self._r()

    def variance_deriv(self, mu: Array) -> Array:
        return 1.0 + 2.0 * mu / self._r()

    def unit_deviance(self, y: Array, mu: Array, mu_c: Array) -> Array:
        r = self._r()
        return 2.0 * (_log_or_zero(y, mu) - (y + r) * (np.log(y + r) - np.log(mu + r)))

    def distribution(self, mu: Array, mu_c: Array, scale: float) -> Distribution:
        return self.natgrad_family.from_params(
            np.column_stack([np.log(mu), np.full(mu.shape, np.log(self._r()))])
        )


FAMILIES: dict[str, type[Family]] = {
    cls.name: cls for cls in (Gaussian, Binomial, Poisson, Gamma, InverseGaussian, NegativeBinomial)
}


def get_family(family: Any, where: str) -> Family:
    """A family instance from a registry name or an instance (returned as a copy).

    Examples
    --------
    >>> from natgrad.glm.families import NegativeBinomial, get_family
    >>> get_family("poisson", "example").name
    'poisson'
    >>> get_family(NegativeBinomial(size=3.0), "example").size     # an instance is copied
    3.0
    """
    if isinstance(family, Family):
        if isinstance(family, NegativeBinomial):
            size = family.size
            if size is not None and (
                isinstance(size, bool)
                or not isinstance(size, int | float | np.number)
                or not np.isfinite(size)
                or size <= 0
            ):
                raise ValueError(
                    "The 'size' argument of natgrad.glm.families.NegativeBinomial must be a "
                    f"float in the range (0, inf) or None. Got {describe(size)} instead."
                )
        return copy.copy(family)
    if isinstance(family, str) and family in FAMILIES:
        return FAMILIES[family]()
    raise ValueError(
        f"The 'family' argument of {where} must be one of "
        f"{', '.join(repr(n) for n in FAMILIES)} or a natgrad.glm.families.Family instance. "
        f"Got {describe(family)} instead."
    )
