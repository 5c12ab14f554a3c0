"""Distribution families with exact geometry: log-likelihood, gradient, Fisher and KL.

Every family is a batch class: ``Normal(loc=..., scale=...)`` or
``Normal.from_params(theta)`` with ``theta`` of shape (n, p) in unconstrained coordinates.
Families are looked up by name with `get`; `names` lists them all.
"""

from __future__ import annotations

import importlib
from typing import Any

from natgrad.distributions._base import Distribution, has_closed_form_kl, register_kl
from natgrad.distributions._support import Support

# name -> (module, class). Resolved on first use so that importing the package stays cheap.
_FAMILIES: dict[str, tuple[str, str]] = {
    "normal": ("normal", "Normal"),
    "lognormal": ("lognormal", "LogNormal"),
    "laplace": ("laplace", "Laplace"),
    "student_t": ("student_t", "StudentT"),
    "cauchy": ("cauchy", "Cauchy"),
    "gamma": ("gamma", "Gamma"),
    "exponential": ("exponential", "Exponential"),
    "weibull": ("weibull", "Weibull"),
    "half_normal": ("half_normal", "HalfNormal"),
    "poisson": ("poisson", "Poisson"),
    "negative_binomial": ("negative_binomial", "NegativeBinomial"),
    "bernoulli": ("bernoulli", "Bernoulli"),
    "categorical": ("categorical", "Categorical"),
    "beta": ("beta", "Beta"),
    "multivariate_normal": ("multivariate_normal", "MultivariateNormal"),
    "inverse_gaussian": ("inverse_gaussian", "InverseGaussian"),
    "logit_normal": ("logit_normal", "LogitNormal"),
    "beta_binomial": ("beta_binomial", "BetaBinomial"),
    "fixed_params": ("fixed_params", "FixedParams"),
}
_CLASSES = {cls: (module, name) for name, (module, cls) in _FAMILIES.items()}

__all__ = [
    "Distribution",
    "Support",
    "get",
    "has_closed_form_kl",
    "names",
    "register_kl",
    *sorted(_CLASSES),
]


def names() -> list[str]:
    """Registry names of all families, e.g. ``["normal", "lognormal", ...]``.

    Examples
    --------
    >>> from natgrad import distributions
    >>> "normal" in distributions.names(), len(distributions.names())
    (True, 19)
    """
    return list(_FAMILIES)


def get(name: str | type[Distribution]) -> type[Distribution]:
    """The family class registered under ``name`` (a class passes through unchanged).

    Examples
    --------
    >>> from natgrad import distributions
    >>> distributions.get("gamma")
    <class 'natgrad.distributions.gamma.Gamma'>
    >>> distributions.get("gamma")(shape=2.0, rate=1.0).mean()
    array([2.])
    """
    if isinstance(name, type) and issubclass(name, Distribution):
        return name
    if not isinstance(name, str) or name not in _FAMILIES:
        raise ValueError(
            "The 'distribution' argument must be one of "
            f"{', '.join(repr(n) for n in _FAMILIES)} or a Distribution subclass. "
            f"Got {name!r} instead."
        )
    module, cls = _FAMILIES[name]
    return getattr(importlib.import_module(f"natgrad.distributions.{module}"), cls)


def __getattr__(attr: str) -> Any:
    if attr in _CLASSES:
        module, _ = _CLASSES[attr]
        return getattr(importlib.import_module(f"natgrad.distributions.{module}"), attr)
    raise AttributeError(f"module 'natgrad.distributions' has no attribute {attr!r}")
