"""Natural gradient for PyTorch networks (needs the ``torch`` extra: ``natgrad[torch]``).

The Fisher of a network is the closed-form Fisher of its output distribution pulled back
through the network's Jacobian, F = Jᵀ F_out J:

* likelihoods (`Categorical`, `Bernoulli`, `Normal`, `NormalFixedScale`, `Poisson`) own
  F_out, the KL divergence and sampling in the output space;
* `Fisher` is the pulled-back operator, matrix-free (``mv``) or dense for small models;
* `NaturalGradient` is the optimizer (CG, K-FAC, diagonal or dense curvature, a KL trust
  region and Levenberg–Marquardt damping).
"""

from natgrad.nn._fisher import Fisher
from natgrad.nn._likelihoods import (
    Bernoulli,
    Categorical,
    Likelihood,
    Normal,
    NormalFixedScale,
    Poisson,
    get_likelihood,
    likelihood_names,
)
from natgrad.nn._optimizer import NaturalGradient

__all__ = [
    "Bernoulli",
    "Categorical",
    "Fisher",
    "Likelihood",
    "NaturalGradient",
    "Normal",
    "NormalFixedScale",
    "Poisson",
    "get_likelihood",
    "likelihood_names",
]
