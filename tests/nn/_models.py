"""Tiny models and inputs shared by the natgrad.nn tests."""

from __future__ import annotations

import torch
from torch import nn

from natgrad.nn import Likelihood, NormalFixedScale, get_likelihood

# (name, factory, output width) for every likelihood: the completeness test checks that no
# registered likelihood is missing here.
LIKELIHOODS: dict[str, tuple[Likelihood, int]] = {
    "categorical": (get_likelihood("categorical"), 3),
    "bernoulli": (get_likelihood("bernoulli"), 2),
    "normal": (get_likelihood("normal"), 2),
    "normal_fixed_scale": (NormalFixedScale(scale=0.7), 2),
    "poisson": (get_likelihood("poisson"), 2),
}


def mlp(d_in: int, d_out: int, hidden: int = 5, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(d_in, hidden),
        nn.Tanh(),
        nn.Linear(hidden, hidden),
        nn.Tanh(),
        nn.Linear(hidden, d_out),
    ).double()


def cnn(d_out: int, seed: int = 0) -> nn.Module:
    """Input (n, 1, 5, 5)."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 2, 3),
        nn.Tanh(),
        nn.Conv2d(2, 2, 2, padding=1),
        nn.Flatten(),
        nn.Linear(2 * 4 * 4, d_out),
    ).double()


def targets_for(lik: Likelihood, outputs: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """Valid targets drawn from the model's own distribution."""
    return lik.sample(outputs, torch.Generator().manual_seed(seed))
