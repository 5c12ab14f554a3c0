"""Policy and value networks, and the policy's output distribution (private).

A policy maps a batch of observations, shape (n, d), to the unconstrained parameters of one
action distribution per row, in the layout of a `natgrad.nn` likelihood:

* discrete actions (``gymnasium.spaces.Discrete(K)``): K logits, `natgrad.nn.Categorical`;
* continuous actions (``gymnasium.spaces.Box`` of m dimensions): m locations then m
  log-scales, `natgrad.nn.Normal`; the log-scales are one learned vector shared by every
  state (`GaussianPolicy`).

The policy's Fisher is then that likelihood's closed-form Fisher pulled back through the
network, which is what `natgrad.nn.Fisher` computes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from natgrad.nn import Categorical, Likelihood, Normal

#: Hidden widths of the default networks (two tanh layers of 64, as is usual for these tasks).
DEFAULT_HIDDEN = (64, 64)


def check_hidden(value: Any, name: str) -> tuple[int, ...]:
    """Validate a tuple of hidden-layer widths."""
    if not isinstance(value, list | tuple) or not all(
        isinstance(h, int | np.integer) and not isinstance(h, bool) and h >= 1 for h in value
    ):
        raise TypeError(
            f"The {name!r} parameter of NPG must be None, a torch.nn.Module or a tuple of "
            f"positive hidden-layer widths. Got {value!r} instead."
        )
    return tuple(int(h) for h in value)


def mlp(
    n_in: int,
    hidden: Sequence[int],
    n_out: int,
    *,
    out_gain: float,
    generator: torch.Generator,
    dtype: torch.dtype,
) -> nn.Sequential:
    """A tanh MLP with orthogonal initialisation (gain √2 inside, ``out_gain`` at the end).

    A small output gain makes the initial policy close to uniform (logits) or centred (loc),
    so that early updates are not spent undoing a random initial preference.
    """
    layers: list[nn.Module] = []
    widths = [n_in, *hidden]
    for a, b in zip(widths[:-1], widths[1:], strict=True):
        layers += [nn.Linear(a, b, dtype=dtype), nn.Tanh()]
    layers.append(nn.Linear(widths[-1], n_out, dtype=dtype))
    for module in layers:
        if isinstance(module, nn.Linear):
            gain = out_gain if module is layers[-1] else float(np.sqrt(2.0))
            nn.init.orthogonal_(module.weight, gain=gain, generator=generator)
            nn.init.zeros_(module.bias)
    return nn.Sequential(*layers)


class GaussianPolicy(nn.Module):
    """Normal actions: a network for the locations and one learned log-scale per dimension.

    ``forward(obs)`` returns outputs of shape (n, 2m): the m locations ``mean_net(obs)`` then
    the m log-scales ``log_std`` (the same in every row), the layout of `natgrad.nn.Normal`.

    Parameters
    ----------
    mean_net : torch.nn.Module
        Maps observations (n, d) to locations (n, m).
    action_dim : int
        m.
    log_std_init : float, default=0.0
        Initial log-scale (σ = 1).
    """

    def __init__(self, mean_net: nn.Module, action_dim: int, log_std_init: float = 0.0) -> None:
        super().__init__()
        self.mean_net = mean_net
        dtype = next(mean_net.parameters()).dtype
        self.log_std = nn.Parameter(torch.full((action_dim,), log_std_init, dtype=dtype))

    def forward(self, obs: Tensor) -> Tensor:
        loc = self.mean_net(obs)
        return torch.cat([loc, self.log_std.expand_as(loc)], dim=1)


def action_likelihood(action_space: Any) -> tuple[Likelihood, int]:
    """The `natgrad.nn` likelihood of an action space and the policy's output width."""
    from gymnasium import spaces

    if isinstance(action_space, spaces.Discrete):
        k = int(action_space.n)
        if k < 2:
            raise ValueError(
                "The 'env' parameter of NPG must have at least 2 discrete actions. "
                f"Got {action_space!r} instead."
            )
        return Categorical(n_classes=k), k
    if isinstance(action_space, spaces.Box):
        m = int(np.prod(action_space.shape))
        return Normal(), 2 * m
    raise TypeError(
        "The 'env' parameter of NPG must have a gymnasium.spaces.Discrete or "
        f"gymnasium.spaces.Box action space. Got {type(action_space).__name__} "
        f"({action_space!r}) instead."
    )


def observation_dim(observation_space: Any) -> int:
    """d, the length of a flattened observation (Box spaces only)."""
    from gymnasium import spaces

    if not isinstance(observation_space, spaces.Box):
        raise TypeError(
            "The 'env' parameter of NPG must have a gymnasium.spaces.Box observation space. "
            f"Got {type(observation_space).__name__} ({observation_space!r}) instead."
        )
    return int(np.prod(observation_space.shape))


def build_policy(
    obs_dim: int,
    action_space: Any,
    hidden: Sequence[int],
    generator: torch.Generator,
    dtype: torch.dtype,
) -> nn.Module:
    """The default policy network for an action space."""
    from gymnasium import spaces

    if isinstance(action_space, spaces.Discrete):
        return mlp(
            obs_dim, hidden, int(action_space.n), out_gain=0.01, generator=generator, dtype=dtype
        )
    m = int(np.prod(action_space.shape))
    mean = mlp(obs_dim, hidden, m, out_gain=0.01, generator=generator, dtype=dtype)
    return GaussianPolicy(mean, m)


def build_value(
    obs_dim: int, hidden: Sequence[int], generator: torch.Generator, dtype: torch.dtype
) -> nn.Module:
    """The default value network: observations (n, d) to values (n, 1)."""
    return mlp(obs_dim, hidden, 1, out_gain=1.0, generator=generator, dtype=dtype)
