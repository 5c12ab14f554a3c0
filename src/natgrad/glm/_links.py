"""Link functions of generalised linear models: η = g(μ), μ = g⁻¹(η).

A link gives the inverse link and its first two derivatives in η. Fisher scoring needs the
first (the IRLS weight is (dμ/dη)²/V(μ)); the observed information needs the second. Links
onto probabilities also give 1 − μ directly, so that the binomial log-likelihood stays exact
where μ rounds to 1.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from natgrad._typing import Array

# Inverse links are evaluated on η clipped to this range where they would overflow.
_EXP_MAX = 700.0


class Link:
    """A link function g and its inverse.

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"log"``.
    domain : str
        Where μ must lie for the link to be defined: ``"real"``, ``"positive"`` or
        ``"unit"`` (the open interval (0, 1)).
    """

    name: str = ""
    domain: str = "real"

    def link(self, mu: Array) -> Array:
        """η = g(μ), shape of ``mu``."""
        raise NotImplementedError

    def inverse(self, eta: Array) -> Array:
        """μ = g⁻¹(η), shape of ``eta``."""
        raise NotImplementedError

    def inverse_deriv(self, eta: Array) -> Array:
        """dμ/dη."""
        raise NotImplementedError

    def inverse_deriv2(self, eta: Array) -> Array:
        """d²μ/dη²."""
        raise NotImplementedError

    def valid_eta(self, eta: Array) -> bool:
        """Whether every η maps to a μ inside the link's domain."""
        return bool(np.all(np.isfinite(eta)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Identity(Link):
    """g(μ) = μ."""

    name = "identity"

    def link(self, mu: Array) -> Array:
        return np.asarray(mu, dtype=np.float64)

    def inverse(self, eta: Array) -> Array:
        return np.asarray(eta, dtype=np.float64)

    def inverse_deriv(self, eta: Array) -> Array:
        return np.ones_like(eta)

    def inverse_deriv2(self, eta: Array) -> Array:
        return np.zeros_like(eta)


class Log(Link):
    """g(μ) = log μ."""

    name = "log"
    domain = "positive"

    def link(self, mu: Array) -> Array:
        return np.log(mu)

    def inverse(self, eta: Array) -> Array:
        return np.exp(np.minimum(eta, _EXP_MAX))

    inverse_deriv = inverse
    inverse_deriv2 = inverse


class Inverse(Link):
    """g(μ) = 1/μ (the canonical link of the gamma family)."""

    name = "inverse"
    domain = "positive"

    def link(self, mu: Array) -> Array:
        return 1.0 / mu

    def inverse(self, eta: Array) -> Array:
        return 1.0 / eta

    def inverse_deriv(self, eta: Array) -> Array:
        return -1.0 / (eta * eta)

    def inverse_deriv2(self, eta: Array) -> Array:
        return 2.0 / (eta * eta * eta)

    def valid_eta(self, eta: Array) -> bool:
        return bool(np.all(np.isfinite(eta) & (eta > 0)))


class InverseSquared(Link):
    """g(μ) = 1/μ² (the canonical link of the inverse Gaussian family)."""

    name = "inverse_squared"
    domain = "positive"

    def link(self, mu: Array) -> Array:
        return 1.0 / (mu * mu)

    def inverse(self, eta: Array) -> Array:
        return 1.0 / np.sqrt(eta)

    def inverse_deriv(self, eta: Array) -> Array:
        return -0.5 / (eta * np.sqrt(eta))

    def inverse_deriv2(self, eta: Array) -> Array:
        return 0.75 / (eta * eta * np.sqrt(eta))

    def valid_eta(self, eta: Array) -> bool:
        return bool(np.all(np.isfinite(eta) & (eta > 0)))


class _ProbabilityLink(Link):
    """A link onto (0, 1); also gives 1 − μ without cancellation."""

    domain = "unit"

    def inverse_complement(self, eta: Array) -> Array:
        """1 − μ, exact where μ rounds to 1."""
        raise NotImplementedError


class Logit(_ProbabilityLink):
    """g(μ) = log(μ/(1 − μ)) (the canonical link of the binomial family)."""

    name = "logit"

    def link(self, mu: Array) -> Array:
        return special.logit(mu)

    def inverse(self, eta: Array) -> Array:
        return special.expit(eta)

    def inverse_complement(self, eta: Array) -> Array:
        return special.expit(-eta)

    def inverse_deriv(self, eta: Array) -> Array:
        return special.expit(eta) * special.expit(-eta)

    def inverse_deriv2(self, eta: Array) -> Array:
        p, q = special.expit(eta), special.expit(-eta)
        return p * q * (q - p)


class Probit(_ProbabilityLink):
    """g(μ) = Φ⁻¹(μ), the standard normal quantile."""

    name = "probit"

    def link(self, mu: Array) -> Array:
        return special.ndtri(mu)

    def inverse(self, eta: Array) -> Array:
        return special.ndtr(eta)

    def inverse_complement(self, eta: Array) -> Array:
        return special.ndtr(-eta)

    def inverse_deriv(self, eta: Array) -> Array:
        return np.exp(-0.5 * eta * eta) / np.sqrt(2.0 * np.pi)

    def inverse_deriv2(self, eta: Array) -> Array:
        return -eta * self.inverse_deriv(eta)


class CLogLog(_ProbabilityLink):
    """g(μ) = log(−log(1 − μ)), the complementary log-log link."""

    name = "cloglog"

    def link(self, mu: Array) -> Array:
        return np.log(-np.log1p(-mu))

    def inverse(self, eta: Array) -> Array:
        return -np.expm1(-np.exp(np.minimum(eta, _EXP_MAX)))

    def inverse_complement(self, eta: Array) -> Array:
        return np.exp(-np.exp(np.minimum(eta, _EXP_MAX)))

    def inverse_deriv(self, eta: Array) -> Array:
        e = np.exp(np.minimum(eta, _EXP_MAX))
        return np.exp(np.minimum(eta, _EXP_MAX) - e)

    def inverse_deriv2(self, eta: Array) -> Array:
        e = np.exp(np.minimum(eta, _EXP_MAX))
        return self.inverse_deriv(eta) * (1.0 - e)


LINKS: dict[str, type[Link]] = {
    cls.name: cls for cls in (Identity, Log, Inverse, InverseSquared, Logit, Probit, CLogLog)
}
