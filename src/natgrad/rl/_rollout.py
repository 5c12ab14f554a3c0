"""Collecting experience from a Gymnasium environment, and GAE advantages (private)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from natgrad.nn import Likelihood


@dataclass
class Rollout:
    """n consecutive transitions (possibly spanning several episodes).

    Attributes
    ----------
    obs, next_obs : ndarray of shape (n, d)
        The observation before each step and the one the step returned (for a step that ended
        an episode: the final observation, not the next episode's first).
    actions : ndarray of shape (n,) (discrete) or (n, m) (continuous)
        The sampled actions, before clipping to the action space's bounds.
    rewards : ndarray of shape (n,)
    terminated : ndarray of bool, shape (n,)
        The step reached a terminal state (its successor has value 0).
    ended : ndarray of bool, shape (n,)
        The step ended the episode, by termination or truncation (a time limit).
    """

    obs: np.ndarray
    next_obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    terminated: np.ndarray
    ended: np.ndarray

    def __len__(self) -> int:
        return int(self.rewards.shape[0])


def gae(
    rewards: np.ndarray,
    values: np.ndarray,
    next_values: np.ndarray,
    terminated: np.ndarray,
    ended: np.ndarray,
    gamma: float,
    lam: float,
) -> np.ndarray:
    """Generalised advantage estimates (Schulman et al. 2016), shape (n,).

    With δₜ = rₜ + γ (1 − termₜ) V(sₜ₊₁) − V(sₜ),

        Âₜ = δₜ + γλ (1 − endₜ) Âₜ₊₁,     Â after the last step = 0.

    A truncated episode (a time limit) bootstraps from the value of its final observation
    but, like a terminated one, does not pass advantages across the boundary; the rollout's
    last step bootstraps from V of its next observation.
    """
    deltas = rewards + gamma * np.where(terminated, 0.0, next_values) - values
    carry = gamma * lam * (~ended)
    adv = np.empty_like(deltas)
    last = 0.0
    for t in range(deltas.shape[0] - 1, -1, -1):
        last = deltas[t] + carry[t] * last
        adv[t] = last
    return adv


class Collector:
    """Steps one environment with a policy; keeps the episode in progress between rollouts.

    Parameters
    ----------
    env : gymnasium.Env
    policy : torch.nn.Module
        Observations (n, d) → the likelihood's outputs.
    likelihood : natgrad.nn.Likelihood
        Categorical or Normal: the action distribution.
    generator : torch.Generator
        Source of the sampled actions.
    env_seed : int
        Seed of the first ``env.reset``.
    """

    def __init__(
        self,
        env: Any,
        policy: nn.Module,
        likelihood: Likelihood,
        generator: torch.Generator,
        env_seed: int,
    ) -> None:
        from gymnasium import spaces

        self.env = env
        self.policy = policy
        self.likelihood = likelihood
        self.generator = generator
        self.dtype = next(policy.parameters()).dtype
        space = env.action_space
        self.discrete = isinstance(space, spaces.Discrete)
        if not self.discrete:
            self.low = np.asarray(space.low, dtype=np.float64).reshape(-1)
            self.high = np.asarray(space.high, dtype=np.float64).reshape(-1)
            self.action_shape = space.shape
        obs, _ = env.reset(seed=env_seed)
        self.obs = np.asarray(obs, dtype=np.float64).reshape(-1)
        self.episode_return = 0.0
        self.episode_length = 0
        #: (timestep at the episode's end, return, length) of every finished episode.
        self.episodes: list[tuple[int, float, int]] = []
        self.timesteps = 0

    def env_action(self, action: np.ndarray) -> Any:
        """A sampled action in the environment's format (continuous: clipped to bounds)."""
        if self.discrete:
            return int(action)
        return np.clip(action, self.low, self.high).reshape(self.action_shape).astype(np.float32)

    def collect(self, n_steps: int) -> Rollout:
        """Run ``n_steps`` steps, resetting the environment whenever an episode ends."""
        d = self.obs.shape[0]
        obs = np.empty((n_steps, d))
        next_obs = np.empty((n_steps, d))
        rewards = np.empty(n_steps)
        terminated = np.zeros(n_steps, dtype=bool)
        ended = np.zeros(n_steps, dtype=bool)
        actions: list[np.ndarray] = []
        sample = self.likelihood._sample  # outputs come from our own policy: already valid
        with torch.no_grad():
            for t in range(n_steps):
                obs[t] = self.obs
                x = torch.as_tensor(self.obs, dtype=self.dtype)[None]
                action = sample(self.policy(x), self.generator)[0].numpy()
                actions.append(action)
                nxt, reward, term, trunc, _ = self.env.step(self.env_action(action))
                nxt = np.asarray(nxt, dtype=np.float64).reshape(-1)
                next_obs[t] = nxt
                rewards[t] = float(reward)
                terminated[t] = bool(term)
                ended[t] = bool(term or trunc)
                self.timesteps += 1
                self.episode_return += float(reward)
                self.episode_length += 1
                if ended[t]:
                    self.episodes.append((self.timesteps, self.episode_return, self.episode_length))
                    self.episode_return, self.episode_length = 0.0, 0
                    nxt, _ = self.env.reset()
                    nxt = np.asarray(nxt, dtype=np.float64).reshape(-1)
                self.obs = nxt
        return Rollout(obs, next_obs, np.stack(actions), rewards, terminated, ended)
