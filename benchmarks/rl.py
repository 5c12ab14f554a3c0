"""Reinforcement-learning benchmark: natgrad's NPG against sb3-contrib's TRPO, and
stable-baselines3's PPO and A2C, all at their default settings, in one process.

Protocol, the same for every algorithm: train on one environment with one seed; after the
first update that crosses each multiple of ``--eval-every`` environment steps, evaluate the
deterministic policy on ``--eval-episodes`` (20) episodes (the same fixed episode seeds for
every algorithm); stop when the mean evaluation return reaches the environment's threshold
(CartPole-v1: 475, Acrobot-v1: −100) or after the step budget. Reported per run: the
environment steps and the training wall-clock seconds (evaluation time excluded) at which the
threshold was reached, and the evaluation curve; for Pendulum-v1 (no threshold) the mean
evaluation return after the budget. Per environment and algorithm: the median over seeds.
Runs are interleaved (seed by seed, every algorithm) so that load on the shared machine
falls on all of them alike; PyTorch uses one thread for all of them.

Run: ``python -m benchmarks.rl [--envs CartPole-v1 Acrobot-v1 Pendulum-v1] [--algos npg trpo
ppo a2c] [--seeds 0 1 2] [--budget N] [--out benchmarks/results/rl.json] [--plots docs/images]``
(needs the ``bench`` extra: stable-baselines3, sb3-contrib). The results file is rewritten
after every run; ``--replot FILE [FILE ...] --plots DIR`` draws the curves of results files
(the runs of several files together, e.g. seeds run by separate commands).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

#: threshold (None: report the return after the budget), default step budget
ENVS: dict[str, tuple[float | None, int]] = {
    "CartPole-v1": (475.0, 100_000),
    "Acrobot-v1": (-100.0, 100_000),
    "Pendulum-v1": (None, 100_000),
}
ALGOS = ("npg", "trpo", "ppo", "a2c")


def evaluate(predict: Any, env_id: str, episodes: int, seed: int) -> float:
    """Mean return of the deterministic policy over ``episodes`` seeded episodes (batched)."""
    import gymnasium as gym

    envs = [gym.make(env_id) for _ in range(episodes)]
    obs = np.stack([e.reset(seed=seed + i)[0] for i, e in enumerate(envs)])
    returns = np.zeros(episodes)
    live = np.ones(episodes, dtype=bool)
    while live.any():
        idx = np.flatnonzero(live)
        actions = predict(obs[idx])
        for j, i in enumerate(idx):
            o, r, term, trunc, _ = envs[i].step(actions[j])
            returns[i] += float(r)
            obs[i] = o
            if term or trunc:
                live[i] = False
    for e in envs:
        e.close()
    return float(returns.mean())


class Tracker:
    """Training clock (evaluations excluded), evaluation schedule and curve of one run."""

    def __init__(self, env_id: str, threshold: float | None, args: argparse.Namespace) -> None:
        self.env_id, self.threshold = env_id, threshold
        self.every, self.episodes = args.eval_every, args.eval_episodes
        self.next_eval = self.every
        self.curve: list[tuple[int, float, float]] = []
        self.reached: tuple[int, float] | None = None
        self.train_seconds = 0.0
        self._start = time.perf_counter()

    def maybe_evaluate(self, steps: int, predict: Any) -> bool:
        """Evaluate when ``steps`` crossed the next multiple; False when training should stop."""
        if steps < self.next_eval:
            return True
        now = time.perf_counter()
        self.train_seconds += now - self._start
        ret = evaluate(predict, self.env_id, self.episodes, seed=10_000)
        self.curve.append((steps, self.train_seconds, ret))
        while self.next_eval <= steps:
            self.next_eval += self.every
        self._start = time.perf_counter()
        if self.threshold is not None and ret >= self.threshold:
            self.reached = (steps, self.train_seconds)
            return False
        return True


def run_npg(env_id: str, seed: int, budget: int, tracker: Tracker) -> None:
    from natgrad.rl import NPG

    model = NPG(env_id, seed=seed)

    def predict(obs: np.ndarray) -> np.ndarray:
        return model.predict(obs, deterministic=True)

    model.learn(
        budget,
        lambda m, _: tracker.maybe_evaluate(m.num_timesteps_, predict),
        progress_bar=False,
    )
    if tracker.threshold is None and (not tracker.curve or tracker.curve[-1][0] < budget):
        tracker.next_eval = 0
        tracker.maybe_evaluate(model.num_timesteps_, predict)


def run_sb3(algo: str, env_id: str, seed: int, budget: int, tracker: Tracker) -> None:
    from stable_baselines3 import A2C, PPO
    from stable_baselines3.common.callbacks import BaseCallback

    if algo == "trpo":
        from sb3_contrib import TRPO as cls
    else:
        cls = {"ppo": PPO, "a2c": A2C}[algo]

    class Eval(BaseCallback):
        # At the start of a rollout the previous update is done: evaluate the policy that
        # the steps so far produced, as for NPG (whose callback runs after each update).
        def _on_rollout_start(self) -> None:
            if not tracker.maybe_evaluate(self.model.num_timesteps, predict):
                self.stop = True

        def _on_step(self) -> bool:
            return not getattr(self, "stop", False)

    model = cls("MlpPolicy", env_id, seed=seed, device="cpu")

    def predict(obs: np.ndarray) -> np.ndarray:
        return model.predict(obs, deterministic=True)[0]

    model.learn(budget, callback=Eval())
    if tracker.reached is None:
        tracker.next_eval = 0
        tracker.maybe_evaluate(model.num_timesteps, predict)


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for env_id in dict.fromkeys(r["env"] for r in runs):
        out[env_id] = {}
        for algo in dict.fromkeys(r["algo"] for r in runs if r["env"] == env_id):
            rs = [r for r in runs if r["env"] == env_id and r["algo"] == algo]
            hit = [r for r in rs if r["steps_to_threshold"] is not None]
            row: dict[str, Any] = {"seeds": len(rs), "reached": len(hit)}
            if ENVS[env_id][0] is not None:
                # Median over seeds; a seed that never reached counts as infinitely slow.
                # (None in the output: the median seed did not reach it).
                steps = [r["steps_to_threshold"] or float("inf") for r in rs]
                secs = [r["seconds_to_threshold"] or float("inf") for r in rs]
                med_steps, med_secs = statistics.median(steps), statistics.median(secs)
                row["median_steps"] = med_steps if np.isfinite(med_steps) else None
                row["median_seconds"] = med_secs if np.isfinite(med_secs) else None
            row["final_return_mean"] = float(np.mean([r["final_return"] for r in rs]))
            out[env_id][algo] = row
    return out


def plot(runs: list[dict[str, Any]], folder: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    colors = dict(zip(ALGOS, ("C3", "C0", "C1", "C2"), strict=True))
    for env_id in dict.fromkeys(r["env"] for r in runs):
        fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
        for r in runs:
            if r["env"] != env_id or not r["curve"]:
                continue
            c = np.asarray(r["curve"])
            label = r["algo"].upper() if r["seed"] == min(x["seed"] for x in runs) else None
            for ax, col in zip(axes, (0, 1), strict=True):
                ax.plot(c[:, col], c[:, 2], "-o", ms=2, color=colors[r["algo"]], label=label)
        threshold = ENVS[env_id][0]
        for ax, xlabel in zip(axes, ("environment steps", "training seconds"), strict=True):
            if threshold is not None:
                ax.axhline(threshold, color="k", lw=0.8, ls="--")
            ax.set_xlabel(xlabel)
        axes[0].set_ylabel("mean return, 20 deterministic episodes")
        axes[0].legend()
        fig.suptitle(f"{env_id}: one line per seed")
        fig.tight_layout()
        path = folder / f"rl_{env_id.split('-')[0].lower()}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(path)
    return paths


def write(runs: list[dict[str, Any]], args: argparse.Namespace, argv: list[str] | None) -> dict:
    """Write the results so far to ``args.out``."""
    result = {
        "command": "python -m benchmarks.rl " + " ".join(sys.argv[1:] if argv is None else argv),
        "python": platform.python_version(),
        "torch_threads": 1,
        "eval_every": args.eval_every,
        "eval_episodes": args.eval_episodes,
        "summary": summarise(runs),
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--envs", nargs="+", default=list(ENVS), choices=list(ENVS))
    parser.add_argument("--algos", nargs="+", default=list(ALGOS), choices=ALGOS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--budget", type=int, default=None, help="steps (default per env)")
    parser.add_argument("--eval-every", type=int, default=2048)
    parser.add_argument("--eval-episodes", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/rl.json"))
    parser.add_argument("--plots", type=Path, default=None, help="folder for PNG curves")
    parser.add_argument(
        "--replot",
        type=Path,
        nargs="+",
        default=None,
        help="only draw --plots from results files (their runs together)",
    )
    args = parser.parse_args(argv)
    if args.replot is not None:
        saved = {"runs": []}
        for results in args.replot:
            saved["runs"] += json.loads(results.read_text())["runs"]
        folder = args.plots or Path("docs/images")
        folder.mkdir(parents=True, exist_ok=True)
        for path in plot(saved["runs"], folder):
            print("wrote", path)
        return saved

    import torch

    torch.set_num_threads(1)
    runs: list[dict[str, Any]] = []
    for env_id in args.envs:
        threshold, default_budget = ENVS[env_id]
        budget = args.budget or default_budget
        for seed in args.seeds:
            for algo in args.algos:
                tracker = Tracker(env_id, threshold, args)
                if algo == "npg":
                    run_npg(env_id, seed, budget, tracker)
                else:
                    run_sb3(algo, env_id, seed, budget, tracker)
                reached = tracker.reached
                run = {
                    "env": env_id,
                    "algo": algo,
                    "seed": seed,
                    "budget": budget,
                    "steps_to_threshold": reached[0] if reached else None,
                    "seconds_to_threshold": round(reached[1], 2) if reached else None,
                    "final_return": tracker.curve[-1][2] if tracker.curve else float("nan"),
                    "curve": [[s, round(t, 3), r] for s, t, r in tracker.curve],
                }
                runs.append(run)
                write(runs, args, argv)  # after every run: a cut-off run keeps its results
                print(
                    f"{env_id:12s} {algo:5s} seed {seed}: steps {run['steps_to_threshold']} "
                    f"seconds {run['seconds_to_threshold']} final {run['final_return']:.1f}",
                    flush=True,
                )
    result = write(runs, args, argv)
    print(json.dumps(result["summary"], indent=1))
    if args.plots is not None:
        args.plots.mkdir(parents=True, exist_ok=True)
        for path in plot(runs, args.plots):
            print("wrote", path)
    return result


if __name__ == "__main__":
    main()
