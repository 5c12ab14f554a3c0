"""`NPG`: the natural policy gradient with a KL trust region on Gymnasium environments."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from natgrad.io import ModelFileError
from natgrad.rl import _io
from natgrad.rl._networks import (
    DEFAULT_HIDDEN,
    action_likelihood,
    build_policy,
    build_value,
    check_hidden,
    observation_dim,
)
from natgrad.rl._rollout import Collector, Rollout, gae
from natgrad.rl._trust_region import fit_value, policy_step

__all__ = ["NPG"]

logger = logging.getLogger(__name__)

# name -> (kind, low, high, low_open, high_open) for the numeric hyper-parameters.
_CONSTRAINTS: dict[str, tuple[type, float, float, bool, bool]] = {
    "max_kl": (float, 0.0, math.inf, True, True),
    "gae_lambda": (float, 0.0, 1.0, False, False),
    "gamma": (float, 0.0, 1.0, False, False),
    "n_steps": (int, 2, math.inf, False, True),
    "cg_iters": (int, 1, math.inf, False, True),
    "cg_damping": (float, 0.0, math.inf, False, True),
    "backtrack_ratio": (float, 0.0, 1.0, True, True),
    "max_backtracks": (int, 0, math.inf, False, True),
    "vf_learning_rate": (float, 0.0, math.inf, True, True),
    "vf_epochs": (int, 0, math.inf, False, True),
    "vf_batch_size": (int, 1, math.inf, False, True),
}


def _interval(low: float, high: float, low_open: bool, high_open: bool) -> str:
    return f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


def _check_number(name: str, value: Any, spec: tuple[type, float, float, bool, bool]) -> None:
    kind, low, high, low_open, high_open = spec
    if kind is int:
        ok_type = isinstance(value, int | np.integer) and not isinstance(value, bool)
    else:
        ok_type = isinstance(value, int | float | np.integer | np.floating) and not isinstance(
            value, bool
        )
    ok = ok_type and math.isfinite(float(value)) if kind is float else ok_type
    if ok:
        v = float(value)
        ok = (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    if not ok:
        raise ValueError(
            f"The {name!r} parameter of NPG must be {'an int' if kind is int else 'a float'} "
            f"in the range {_interval(low, high, low_open, high_open)}. Got {value!r} instead."
        )


class NPG:
    """Natural policy gradient with a KL trust region (TRPO) for Gymnasium environments.

    Each update collects ``n_steps`` transitions with the current policy π, estimates
    advantages by GAE(γ, λ) with a learned value function V, and moves the policy along the
    natural gradient F⁻¹g of the surrogate L(w) = mean π_w(a|s)/π_old(a|s) · Â, where F is
    the Fisher of the policy's output distribution pulled back through the network
    (`natgrad.nn.Fisher`), solved by conjugate gradient. The step is scaled so that the
    quadratic model of the mean KL(π_old ‖ π_new) equals ``max_kl``; a backtracking line
    search then shrinks it until the *realised* mean KL over the rollout's states is at most
    ``max_kl`` and the surrogate improved, and restores the parameters when no shrunk step
    qualifies. V is regressed on the λ-returns by Adam.

    The update does not depend on how the policy network is parameterised (to first order):
    it is measured in the distribution space of the actions.

    Parameters
    ----------
    env : gymnasium.Env or str
        The environment, or a Gymnasium id (``"CartPole-v1"``) made with `gymnasium.make`.
        Observations: a ``Box`` (flattened). Actions: ``Discrete(K)`` (a categorical policy,
        K logits) or ``Box`` (a normal policy: locations from the network, one learned
        log-scale per dimension shared by all states; samples are clipped to the bounds when
        sent to the environment).
    policy : None, tuple of int or torch.nn.Module, default=None
        None: a tanh MLP with hidden widths (64, 64); a tuple: those hidden widths; a module:
        maps observations (n, d) to the likelihood's outputs (K logits, or m locations then m
        log-scales), trained in place.
    max_kl : float, default=0.01
        δ > 0, the trust region: the bound on the mean KL between the policies before and
        after an update, over the update's states.
    value_function : None, tuple of int or torch.nn.Module, default=None
        The critic: None (a tanh MLP (64, 64)), hidden widths, or a module mapping
        observations (n, d) to values (n, 1).
    gae_lambda : float, default=0.95
        λ of GAE, in [0, 1].
    gamma : float, default=0.99
        Discount factor, in [0, 1].
    n_steps : int, default=512
        Environment steps per update.
    cg_iters : int, default=10
        Conjugate-gradient iterations per update.
    cg_damping : float, default=0.1
        Added to the Fisher's diagonal inside conjugate gradient.
    backtrack_ratio : float, default=0.8
        The line search's shrink factor, in (0, 1).
    max_backtracks : int, default=10
        Shrunk steps tried after the full one.
    vf_learning_rate : float, default=1e-3
        Adam's learning rate for the value network.
    vf_epochs : int, default=10
        Passes over each rollout when fitting the value network.
    vf_batch_size : int, default=64
        Mini-batch size of the value regression.
    normalize_advantage : bool, default=True
        Standardise the advantages of each rollout.
    torch_threads : int or None, default=1
        PyTorch's intra-op threads while `learn` runs (restored afterwards). The default
        networks are far too small to gain from parallel kernels, and on shared or busy
        cores extra threads cost several times the run time. None keeps torch's setting.
    seed : int or None, default=None
        Seeds the networks' initialisation, the sampled actions, the environment's first
        reset and the value regression's shuffling (one `numpy.random.SeedSequence`); the
        same seed gives the same returns. None draws fresh entropy.

    Attributes
    ----------
    policy_ : torch.nn.Module
    value_function_ : torch.nn.Module
    likelihood_ : natgrad.nn.Likelihood
        The action distribution (`natgrad.nn.Categorical` or `natgrad.nn.Normal`).
    env_ : gymnasium.Env
    num_timesteps_ : int
        Environment steps taken so far.
    history_ : list of dict
        Per update: ``timesteps``, ``kl``, ``surrogate_gain``, ``expected_gain``,
        ``step_fraction``, ``accepted``, ``cg_iterations``, ``cg_residual``, ``grad_norm``,
        ``value_loss``, ``mean_return`` (of the last 10 finished episodes, NaN before one).

    Examples
    --------
    >>> from natgrad.rl import NPG
    >>> model = NPG("CartPole-v1", seed=0)
    >>> model.learn(20_000, progress_bar=False)          # doctest: +SKIP
    >>> action = model.predict(obs, deterministic=True)  # doctest: +SKIP
    """

    def __init__(
        self,
        env: Any,
        policy: Any = None,
        *,
        max_kl: float = 0.01,
        value_function: Any = None,
        gae_lambda: float = 0.95,
        gamma: float = 0.99,
        n_steps: int = 512,
        cg_iters: int = 10,
        cg_damping: float = 0.1,
        backtrack_ratio: float = 0.8,
        max_backtracks: int = 10,
        vf_learning_rate: float = 1e-3,
        vf_epochs: int = 10,
        vf_batch_size: int = 64,
        normalize_advantage: bool = True,
        torch_threads: int | None = 1,
        seed: int | None = None,
    ) -> None:
        self.env = env
        self.policy = policy
        self.max_kl = max_kl
        self.value_function = value_function
        self.gae_lambda = gae_lambda
        self.gamma = gamma
        self.n_steps = n_steps
        self.cg_iters = cg_iters
        self.cg_damping = cg_damping
        self.backtrack_ratio = backtrack_ratio
        self.max_backtracks = max_backtracks
        self.vf_learning_rate = vf_learning_rate
        self.vf_epochs = vf_epochs
        self.vf_batch_size = vf_batch_size
        self.normalize_advantage = normalize_advantage
        self.torch_threads = torch_threads
        self.seed = seed

    # ------------------------------------------------------------------ parameters
    def get_params(self) -> dict[str, Any]:
        """The constructor's arguments, by name."""
        names = (
            "env",
            "policy",
            "value_function",
            *_CONSTRAINTS,
            "normalize_advantage",
            "torch_threads",
            "seed",
        )
        return {name: getattr(self, name) for name in names}

    def _validate(self) -> None:
        for name, spec in _CONSTRAINTS.items():
            _check_number(name, getattr(self, name), spec)
        if not isinstance(self.normalize_advantage, bool | np.bool_):
            raise TypeError(
                "The 'normalize_advantage' parameter of NPG must be a bool. "
                f"Got {self.normalize_advantage!r} instead."
            )
        for name, low in (("torch_threads", 1), ("seed", 0)):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low
            ):
                raise ValueError(
                    f"The {name!r} parameter of NPG must be None or an int in the range "
                    f"[{low}, inf). Got {value!r} instead."
                )

    @staticmethod
    def _make_env(env: Any) -> Any:
        import gymnasium

        if isinstance(env, str):
            try:
                return gymnasium.make(env)
            except gymnasium.error.Error as exc:
                raise ValueError(
                    "The 'env' parameter of NPG must be a gymnasium.Env or a registered "
                    f"Gymnasium id. Got {env!r}, which gymnasium.make rejects: {exc}"
                ) from exc
        if not isinstance(env, gymnasium.Env):
            raise TypeError(
                "The 'env' parameter of NPG must be a gymnasium.Env or a Gymnasium id "
                f"(str). Got {type(env).__name__} instead."
            )
        return env

    def _network(
        self, spec: Any, name: str, build: Callable[[tuple[int, ...]], nn.Module]
    ) -> nn.Module:
        if spec is None:
            return build(DEFAULT_HIDDEN)
        if isinstance(spec, nn.Module):
            return spec
        return build(check_hidden(spec, name))

    def _setup(self) -> None:
        """Validate, make the environment and the networks (the first `learn` or `load`)."""
        self._validate()
        env = self._make_env(self.env)
        likelihood, _ = action_likelihood(env.action_space)
        obs_dim = observation_dim(env.observation_space)
        seeds = np.random.SeedSequence(self.seed).generate_state(5, dtype=np.uint64)
        init = torch.Generator().manual_seed(int(seeds[0]) >> 1)
        dtype = torch.float32
        if isinstance(self.policy, nn.Module):
            dtype = next(iter(self.policy.parameters())).dtype
        policy = self._network(
            self.policy,
            "policy",
            lambda h: build_policy(obs_dim, env.action_space, h, init, dtype),
        )
        value = self._network(
            self.value_function,
            "value_function",
            lambda h: build_value(obs_dim, h, init, dtype),
        )
        probe = torch.zeros((1, obs_dim), dtype=dtype)
        with torch.no_grad():
            try:
                likelihood.check_outputs(policy(probe), "policy")
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"The 'policy' parameter of NPG must map observations of shape (n, "
                    f"{obs_dim}) to the outputs of {likelihood!r} for the action space "
                    f"{env.action_space!r}: {exc}"
                ) from exc
            v = value(probe)
        if not isinstance(v, torch.Tensor) or tuple(v.shape) != (1, 1):
            raise ValueError(
                "The 'value_function' parameter of NPG must map observations of shape (n, "
                f"{obs_dim}) to values of shape (n, 1). Got "
                f"{tuple(v.shape) if isinstance(v, torch.Tensor) else type(v).__name__} "
                "for n = 1."
            )
        self.env_ = env
        self.likelihood_ = likelihood
        self.policy_ = policy
        self.value_function_ = value
        self._dtype = dtype
        self._action_gen = torch.Generator().manual_seed(int(seeds[1]) >> 1)
        self._predict_gen = torch.Generator().manual_seed(int(seeds[2]) >> 1)
        self._env_seed = int(seeds[3] >> np.uint64(33))
        self._shuffle_rng = np.random.default_rng(int(seeds[4]))
        self._vf_optimizer = torch.optim.Adam(value.parameters(), lr=float(self.vf_learning_rate))
        self._collector: Collector | None = None
        self.num_timesteps_ = 0
        self.history_: list[dict[str, Any]] = []
        self._past_episodes: list[tuple[int, float, int]] = []

    def _check_setup(self, method: str) -> None:
        if not hasattr(self, "policy_"):
            raise ValueError(
                f"This NPG instance has no policy yet: call 'learn' (or NPG.load) before "
                f"'{method}'."
            )

    # ------------------------------------------------------------------ training
    def learn(
        self,
        total_timesteps: int,
        callback: Callable[[NPG, dict[str, Any]], bool | None] | None = None,
        *,
        progress_bar: bool = True,
    ) -> NPG:
        """Train for (at least) ``total_timesteps`` more environment steps.

        Runs ⌈total_timesteps / n_steps⌉ updates; a second call continues where the first
        stopped (same environment episode, networks, optimiser and random streams).

        Parameters
        ----------
        total_timesteps : int
            Environment steps to add, ≥ 1.
        callback : callable, optional
            Called after every update as ``callback(model, stats)`` with that update's entry
            of `history_`; returning ``False`` stops training.
        progress_bar : bool, default=True
            Show a tqdm bar with the mean return of the last 10 episodes.

        Returns
        -------
        NPG
            self.
        """

        if (
            isinstance(total_timesteps, bool)
            or not isinstance(total_timesteps, int | np.integer)
            or total_timesteps < 1
        ):
            raise ValueError(
                "The 'total_timesteps' parameter of NPG.learn must be an int in the range "
                f"[1, inf). Got {total_timesteps!r} instead."
            )
        if callback is not None and not callable(callback):
            raise TypeError(
                "The 'callback' parameter of NPG.learn must be callable or None. Got "
                f"{type(callback).__name__} instead."
            )
        if not hasattr(self, "policy_"):
            self._setup()
        saved_threads = torch.get_num_threads()
        if self.torch_threads is not None:
            torch.set_num_threads(int(self.torch_threads))
        try:
            self._learn(int(total_timesteps), callback, progress_bar)
        finally:
            torch.set_num_threads(saved_threads)
        return self

    def _learn(
        self,
        total_timesteps: int,
        callback: Callable[[NPG, dict[str, Any]], bool | None] | None,
        progress_bar: bool,
    ) -> None:
        from tqdm.auto import tqdm

        if self._collector is None:
            self._collector = Collector(
                self.env_, self.policy_, self.likelihood_, self._action_gen, self._env_seed
            )
            self._collector.timesteps = self.num_timesteps_
        target = self.num_timesteps_ + int(total_timesteps)
        with tqdm(
            total=int(total_timesteps), disable=not progress_bar, desc="NPG", unit="step"
        ) as bar:
            while self.num_timesteps_ < target:
                rollout = self._collector.collect(int(self.n_steps))
                stats = self._update(rollout)
                self._last_rollout = rollout
                self.num_timesteps_ += len(rollout)
                stats["timesteps"] = self.num_timesteps_
                stats["mean_return"] = self._recent_return()
                self.history_.append(stats)
                logger.debug("NPG update %d: %s", len(self.history_), stats)
                bar.update(min(len(rollout), target - bar.n))
                bar.set_postfix(
                    ret=f"{stats['mean_return']:.1f}", kl=f"{stats['kl']:.4f}", refresh=False
                )
                if callback is not None and callback(self, stats) is False:
                    break

    def _recent_return(self, window: int = 10) -> float:
        returns = self.episode_returns_
        return float(np.mean(returns[-window:])) if returns.size else float("nan")

    def _update(self, rollout: Rollout) -> dict[str, Any]:
        dtype = self._dtype
        obs = torch.as_tensor(rollout.obs, dtype=dtype)
        with torch.no_grad():
            values = self.value_function_(obs)[:, 0].double().numpy()
            next_obs = torch.as_tensor(rollout.next_obs, dtype=dtype)
            next_values = self.value_function_(next_obs)[:, 0].double().numpy()
        adv = gae(
            rollout.rewards,
            values,
            next_values,
            rollout.terminated,
            rollout.ended,
            float(self.gamma),
            float(self.gae_lambda),
        )
        returns = torch.as_tensor(adv + values, dtype=dtype)
        if self.normalize_advantage:
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        actions = torch.as_tensor(rollout.actions)
        if actions.is_floating_point():
            actions = actions.to(dtype)
        stats = policy_step(
            self.policy_,
            self.likelihood_,
            obs,
            actions,
            torch.as_tensor(adv, dtype=dtype),
            max_kl=float(self.max_kl),
            cg_iters=int(self.cg_iters),
            cg_damping=float(self.cg_damping),
            backtrack_ratio=float(self.backtrack_ratio),
            max_backtracks=int(self.max_backtracks),
        )
        if not stats["accepted"]:
            logger.info("NPG: no step within the trust region improved the surrogate; kept.")
        stats["value_loss"] = fit_value(
            self.value_function_,
            self._vf_optimizer,
            obs,
            returns,
            epochs=int(self.vf_epochs),
            batch_size=int(self.vf_batch_size),
            rng=self._shuffle_rng,
        )
        return stats

    # ------------------------------------------------------------------ results
    @property
    def episodes_(self) -> np.ndarray:
        """Finished training episodes: (timestep at the end, return, length), shape (k, 3)."""
        self._check_setup("episodes_")
        rows = list(self._past_episodes)
        if self._collector is not None:
            rows += self._collector.episodes
        return np.asarray(rows, dtype=np.float64).reshape(-1, 3)

    @property
    def episode_returns_(self) -> np.ndarray:
        """Returns of the finished training episodes, in order, shape (k,)."""
        return self.episodes_[:, 1]

    def predict(self, obs: Any, deterministic: bool = False) -> np.ndarray:
        """Actions for one observation or a batch.

        Parameters
        ----------
        obs : array-like of the observation space's shape, or (n, *shape)
        deterministic : bool, default=False
            The most likely action (discrete) or the location (continuous) instead of a
            sample. Samples come from the model's own seeded stream.

        Returns
        -------
        ndarray
            One action (a 0-d int array, or of the action space's shape) or n of them;
            continuous actions are clipped to the space's bounds.
        """
        self._check_setup("predict")
        shape = tuple(self.env_.observation_space.shape)
        x = np.asarray(obs, dtype=np.float64)
        single = x.shape == shape
        if not single and x.shape[1:] != shape:
            raise ValueError(
                f"The 'obs' argument of NPG.predict must have shape {shape} or (n, *{shape}). "
                f"Got {x.shape} instead."
            )
        batch = torch.as_tensor(x.reshape(1 if single else x.shape[0], -1), dtype=self._dtype)
        with torch.no_grad():
            out = self.policy_(batch)
            if not deterministic:
                actions = self.likelihood_.sample(out, self._predict_gen)
            elif self._discrete:
                actions = out.argmax(dim=1)
            else:
                actions = out[:, : out.shape[1] // 2]
        a = actions.numpy()
        if self._discrete:
            a = a.astype(np.int64)
        else:
            space = self.env_.action_space
            a = np.clip(a.astype(np.float64), space.low.reshape(-1), space.high.reshape(-1))
            a = a.reshape(-1, *space.shape).astype(space.dtype)
        return a[0] if single else a

    @property
    def _discrete(self) -> bool:
        from gymnasium import spaces

        return isinstance(self.env_.action_space, spaces.Discrete)

    def plot_learning_curve(
        self, path: str | os.PathLike[str] | None = None, *, window: int = 10
    ) -> Any:
        """Episode returns against environment steps (and their moving average).

        Parameters
        ----------
        path : str or path-like, optional
            Where to save the figure (PNG by the suffix).
        window : int, default=10
            Episodes in the moving average.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from matplotlib.figure import Figure

        episodes = self.episodes_
        fig = Figure(figsize=(6, 4))
        ax = fig.subplots()
        if episodes.shape[0]:
            steps, returns = episodes[:, 0], episodes[:, 1]
            ax.plot(steps, returns, ".", alpha=0.3, label="episode return")
            k = max(1, min(int(window), returns.size))
            smooth = np.convolve(returns, np.ones(k) / k, mode="valid")
            ax.plot(steps[k - 1 :], smooth, label=f"mean of {k} episodes")
            ax.legend()
        ax.set_xlabel("environment steps")
        ax.set_ylabel("return")
        name = getattr(getattr(self.env_, "spec", None), "id", None)
        ax.set_title(f"NPG on {name}" if name else "NPG")
        if path is not None:
            fig.savefig(Path(path), dpi=100)
        return fig

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the policy and value networks to ``path`` (natgrad's safe RL file format).

        See `natgrad.rl.load`. The file holds the hyper-parameters, the spaces, the two
        networks' weights and the training episodes; no pickle, no code.
        """
        self._check_setup("save")
        return _io.save(self, path)

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        env: Any = None,
        *,
        policy: nn.Module | None = None,
        value_function: nn.Module | None = None,
    ) -> NPG:
        """Read a model written by `save` (see `natgrad.rl.load`)."""
        return load(path, env, policy=policy, value_function=value_function)

    def __repr__(self) -> str:
        env = self.env if isinstance(self.env, str) else type(self.env).__name__
        return f"NPG(env={env!r}, max_kl={self.max_kl!r}, n_steps={self.n_steps!r})"


def load(
    path: str | os.PathLike[str],
    env: Any = None,
    *,
    policy: nn.Module | None = None,
    value_function: nn.Module | None = None,
) -> NPG:
    """Read an `NPG` model written by `NPG.save`.

    Loading never runs code from the file: the header is JSON, the arrays are read with
    ``numpy.load(..., allow_pickle=False)``, and a file that is truncated, altered (the
    SHA-256 digest) or inconsistent raises `natgrad.io.ModelFileError` (a ``ValueError``).

    Parameters
    ----------
    path : str or path-like
    env : gymnasium.Env or str, optional
        The environment to attach; by default the file's Gymnasium id is made again. Its
        spaces must match the saved ones.
    policy, value_function : torch.nn.Module, optional
        Required when the model was saved with custom modules: modules of the same
        structure, into which the weights are loaded.

    Returns
    -------
    NPG
        A model that predicts as the saved one (deterministic actions bit for bit) and can
        continue training (`learn`); the value network's Adam state starts afresh.

    Examples
    --------
    >>> import os, tempfile
    >>> from natgrad.rl import NPG, load
    >>> model = NPG("CartPole-v1", n_steps=64, seed=0)
    >>> model = model.learn(64, progress_bar=False)         # one short update
    >>> path = os.path.join(tempfile.mkdtemp(), "npg.zip")
    >>> _ = model.save(path)
    >>> loaded = load(path)
    >>> type(loaded).__name__
    'NPG'
    """
    p = Path(path)
    header, arrays = _io._read(p)
    params = header["params"]
    if not isinstance(params, dict) or set(params) != set(_io._PARAMS):
        raise ModelFileError(p, f"the header's 'params' must have the keys {list(_io._PARAMS)}")
    if env is None:
        env = header["env_id"]
        if not isinstance(env, str):
            raise ValueError(
                "The 'env' parameter of natgrad.rl.load must be given: the file names no "
                "Gymnasium id to make the environment from."
            )
    model = NPG(
        env,
        _io._network_arg(header["policy"], policy, "policy", p),
        value_function=_io._network_arg(
            header["value_function"], value_function, "value_function", p
        ),
        **params,
    )
    try:
        model._setup()
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(p, f"its settings are invalid ({exc})") from exc
    _io._check_spaces(model, header, arrays, p)
    _io._load_state(model.policy_, "policy", arrays, p)
    _io._load_state(model.value_function_, "value", arrays, p)
    episodes = arrays["episodes"]
    if episodes.ndim != 2 or episodes.shape[1] != 3:
        raise ModelFileError(p, "array 'episodes' must have shape (k, 3)")
    model._past_episodes = [(int(t), float(r), int(n)) for t, r, n in episodes]
    steps = header["num_timesteps"]
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ModelFileError(p, "the header's 'num_timesteps' must be a non-negative int")
    model.num_timesteps_ = steps
    return model
