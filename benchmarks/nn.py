"""Benchmarks of `natgrad.nn.NaturalGradient` against Adam and SGD with momentum.

Every problem runs all optimizers in one process, on the same model initialisation, batches
and seeds; curves record the training loss (full training set, evaluation time excluded)
against iterations and seconds. Adam's and SGD's learning rates are tuned on a small grid
(the best final value is kept); natgrad runs with its defaults (``lr=None``: step length from
the quadratic model within the default KL budget).

Problems (subcommands):

* ``autoencoder``: 64-256-128-32-128-256-64 tanh autoencoder on scikit-learn's digits
  (pixels/16 in [0, 1], Bernoulli likelihood). Reports the iterations and seconds each
  optimizer needs to reach the best Adam's final training loss.
* ``mnist1d``: MLP and CNN classifiers on ``../shared/data/mnist1d/mnist1d.npz``: test
  accuracy after a fixed number of epochs and at equal wall-clock. ``--model mlp`` is a
  plain 40-100-100-10 ReLU MLP; ``mlp-paper`` and ``cnn`` are the MNIST-1D paper's models
  (its MLP adds the second layer's output to its input, a residual connection). The paper
  trains them with Adam (lr 0.01) for 8000 steps of batch 100 (``--epochs 200``).
* ``kin8nm``: heteroscedastic MLP (Normal likelihood, loc and log-scale) on split 0 of the
  UCI kin8nm data: test NLL at equal epochs.
* ``cost``: seconds per step of each curvature relative to an Adam step, over MLP widths.
* ``plot``: PNG curves from the JSON results.

Run ``python -m benchmarks.nn <problem> --help``. The machines here are shared, CPU only and
noisy: quote the ratios, iteration counts and accuracies, not absolute seconds.
"""

from __future__ import annotations

import argparse
import json
import math
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
NATGRAD = ("kfac", "cg", "diagonal")


# ---------------------------------------------------------------------------- training
def _make_optimizer(
    name: str, lr: float | None, model: Any, likelihood: Any, seed: int, options: dict[str, Any]
) -> Any:
    import torch

    from natgrad.nn import NaturalGradient

    if name == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr)
    if name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return NaturalGradient(model, likelihood, curvature=name, random_state=seed, **options)


def train(
    name: str,
    lr: float | None,
    build: Callable[[], Any],
    likelihood: Any,
    x: Any,
    y: Any,
    *,
    batch_size: int,
    iters: int,
    seconds: float,
    seed: int,
    evaluate: Callable[[Any], dict[str, float]],
    eval_every: int,
    natgrad_options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train one optimizer; returns its curve [(iteration, seconds, metrics...)].

    ``natgrad_options`` are keyword arguments of `NaturalGradient` that override its
    defaults (e.g. ``max_kl``, ``weight_decay``); they do not apply to Adam and SGD.
    """
    import torch

    torch.manual_seed(seed)
    model = build()
    opt = _make_optimizer(name, lr, model, likelihood, seed, natgrad_options or {})
    gen = torch.Generator().manual_seed(seed)
    n = x.shape[0]
    order = torch.randperm(n, generator=gen)
    pos, elapsed, it = 0, 0.0, 0
    curve = [{"iter": 0, "seconds": 0.0, **evaluate(model)}]
    while it < iters and elapsed < seconds:
        if pos + batch_size > n:
            order, pos = torch.randperm(n, generator=gen), 0
        idx = order[pos : pos + batch_size]
        pos += batch_size
        xb, yb = x[idx], y[idx]
        start = time.perf_counter()
        if name in NATGRAD:
            opt.step(xb, yb)
        else:
            opt.zero_grad()
            loss = likelihood.nll(model(xb), yb).mean()
            loss.backward()
            opt.step()
        elapsed += time.perf_counter() - start
        it += 1
        if it % eval_every == 0 or it == iters:
            metrics = evaluate(model)
            curve.append({"iter": it, "seconds": elapsed, **metrics})
            if not math.isfinite(metrics["train_loss"]):
                break
    if curve[-1]["iter"] != it:  # stopped by the time cap between evaluations
        curve.append({"iter": it, "seconds": elapsed, **evaluate(model)})
    return {"optimizer": name, "lr": lr, "curve": curve, "iters": it, "seconds": elapsed}


def _tuned(runs: list[dict[str, Any]], key: str, better: Callable[[float, float], bool]) -> Any:
    best = None
    for run in runs:
        value = run["curve"][-1][key]
        if math.isfinite(value) and (best is None or better(value, best["curve"][-1][key])):
            best = run
    return best if best is not None else runs[0]


def _reach(run: dict[str, Any], key: str, target: float) -> tuple[int | None, float | None]:
    for point in run["curve"]:
        if point[key] <= target:
            return point["iter"], point["seconds"]
    return None, None


def _at_seconds(run: dict[str, Any], key: str, seconds: float) -> float:
    """The metric at the last evaluation no later than ``seconds``."""
    value = run["curve"][0][key]
    for point in run["curve"]:
        if point["seconds"] <= seconds:
            value = point[key]
    return value


def _save(name: str, payload: dict[str, Any], out: str | None) -> Path:
    path = Path(out) if out else RESULTS / f"nn_{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1))
    return path


def _grid(text: str) -> list[float]:
    return [float(v) for v in text.split(",") if v]


def _common(parser: argparse.ArgumentParser, iters: int, seconds: float, batch: int) -> None:
    parser.add_argument("--iters", type=int, default=iters, help="iterations per run")
    parser.add_argument("--seconds", type=float, default=seconds, help="time cap per run")
    parser.add_argument("--batch-size", type=int, default=batch)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--adam-lr", default="0.001,0.003,0.01")
    parser.add_argument("--sgd-lr", default="0.01,0.1")
    parser.add_argument("--optimizers", default="adam,sgd,diagonal,kfac,cg")
    parser.add_argument("--eval-every", type=int, default=25)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument(
        "--max-kl", type=float, default=None, help="natgrad's KL budget (default: its own)"
    )
    parser.add_argument(
        "--weight-decay",
        type=float,
        default=None,
        help="natgrad's L2 penalty weight_decay (default: its own, 0)",
    )
    parser.add_argument(
        "--damping", type=float, default=None, help="natgrad's initial damping (default: its own)"
    )
    parser.add_argument("--out", default=None)


def _train_kwargs(args: argparse.Namespace, iters: int, **problem: Any) -> dict[str, Any]:
    """`train`'s keyword arguments: the problem's plus the command line's."""
    return dict(
        batch_size=args.batch_size,
        iters=iters,
        seconds=args.seconds,
        seed=args.seed,
        eval_every=args.eval_every,
        natgrad_options={
            key: getattr(args, key)
            for key in ("max_kl", "weight_decay", "damping")
            if getattr(args, key) is not None
        },
        **problem,
    )


def _run_all(args: argparse.Namespace, common: dict[str, Any], key: str, lower: bool) -> dict:
    """Every optimizer (grids for Adam and SGD); returns all runs and the tuned ones."""
    runs: dict[str, list[dict[str, Any]]] = {}
    for name in args.optimizers.split(","):
        grid = {"adam": _grid(args.adam_lr), "sgd": _grid(args.sgd_lr)}.get(name, [None])
        runs[name] = []
        for lr in grid:
            run = train(name, lr, **common)
            runs[name].append(run)
            last = run["curve"][-1]
            print(f"{name:9s} lr={lr!s:6s} iters={run['iters']:5d} s={run['seconds']:7.1f} {last}")

    def better(a: float, b: float) -> bool:
        return a < b if lower else a > b

    tuned = {name: _tuned(rs, key, better) for name, rs in runs.items()}
    return {"runs": runs, "tuned": tuned}


# ---------------------------------------------------------------------------- problems
def autoencoder(args: argparse.Namespace) -> None:
    import torch
    from sklearn.datasets import load_digits
    from torch import nn

    from natgrad.nn import get_likelihood

    x = torch.tensor(load_digits().data / 16.0, dtype=torch.float32)
    lik = get_likelihood("bernoulli")
    sizes = [64, 256, 128, 32, 128, 256, 64]

    def build() -> nn.Module:
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2 and b != 32:
                layers.append(nn.Tanh())
        return nn.Sequential(*layers)

    def evaluate(model: nn.Module) -> dict[str, float]:
        with torch.no_grad():
            return {"train_loss": float(lik.nll(model(x), x).mean())}

    common = _train_kwargs(
        args, args.iters, build=build, likelihood=lik, x=x, y=x, evaluate=evaluate
    )
    result = _run_all(args, common, "train_loss", lower=True)
    adam = result["tuned"]["adam"]
    target = adam["curve"][-1]["train_loss"]
    table = []
    for name, run in result["tuned"].items():
        it, sec = _reach(run, "train_loss", target)
        table.append(
            {
                "optimizer": name,
                "lr": run["lr"],
                "final_loss": run["curve"][-1]["train_loss"],
                "iters_to_target": it,
                "seconds_to_target": sec,
                "iter_ratio_vs_adam": None if it is None else it / adam["iters"],
                "seconds_ratio_vs_adam": None if sec is None else sec / adam["seconds"],
            }
        )
        print(table[-1])
    _save("autoencoder", {"args": vars(args), "target": target, "table": table, **result}, args.out)


def _mnist1d_mlp() -> Any:
    """The MNIST-1D paper's MLP: 40-100-100-10, ReLU, the second layer residual."""
    from torch import nn

    class MLP(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear1, self.linear2 = nn.Linear(40, 100), nn.Linear(100, 100)
            self.linear3 = nn.Linear(100, 10)

        def forward(self, x: Any) -> Any:
            h = self.linear1(x).relu()
            h = h + self.linear2(h).relu()
            return self.linear3(h)

    return MLP()


def _mnist1d() -> tuple[Any, Any, Any, Any]:
    import torch

    data = np.load(DATA / "mnist1d" / "mnist1d.npz")
    x, xt = (torch.tensor(data[k], dtype=torch.float32) for k in ("x", "x_test"))
    y, yt = (torch.tensor(data[k], dtype=torch.long) for k in ("y", "y_test"))
    return x, y, xt, yt


def mnist1d(args: argparse.Namespace) -> None:
    import torch
    from torch import nn

    from natgrad.nn import get_likelihood

    x, y, xt, yt = _mnist1d()
    lik = get_likelihood("categorical")

    def build() -> nn.Module:
        if args.model == "mlp":
            return nn.Sequential(
                nn.Linear(40, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 10)
            )
        if args.model == "mlp-paper":
            return _mnist1d_mlp()
        # The MNIST-1D paper's CNN: three 1-d convolutions (25 channels, kernel 5, stride 2);
        # Conv2d with a height of 1 so that K-FAC's convolution blocks apply.
        return nn.Sequential(
            nn.Unflatten(1, (1, 1, 40)),
            nn.Conv2d(1, 25, (1, 5), stride=(1, 2), padding=(0, 1)),
            nn.ReLU(),
            nn.Conv2d(25, 25, (1, 3), stride=(1, 2), padding=(0, 1)),
            nn.ReLU(),
            nn.Conv2d(25, 25, (1, 3), stride=(1, 2), padding=(0, 1)),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(25 * 5, 10),
        )

    def evaluate(model: nn.Module) -> dict[str, float]:
        with torch.no_grad():
            out, out_t = model(x), model(xt)
            return {
                "train_loss": float(lik.nll(out, y).mean()),
                "test_loss": float(lik.nll(out_t, yt).mean()),
                "test_accuracy": float((out_t.argmax(1) == yt).double().mean()),
            }

    iters = args.epochs * (x.shape[0] // args.batch_size)
    common = _train_kwargs(args, iters, build=build, likelihood=lik, x=x, y=y, evaluate=evaluate)
    result = _run_all(args, common, "test_accuracy", lower=False)
    # Ratios against Adam (against the first optimizer when Adam was not run).
    adam = result["tuned"].get("adam") or next(iter(result["tuned"].values()))
    equal = min(run["seconds"] for run in result["tuned"].values())
    table = []
    for name, run in result["tuned"].items():
        table.append(
            {
                "optimizer": name,
                "lr": run["lr"],
                "iters": run["iters"],
                "seconds_ratio_vs_adam": run["seconds"] / adam["seconds"],
                "test_accuracy": run["curve"][-1]["test_accuracy"],
                "best_test_accuracy": max(p["test_accuracy"] for p in run["curve"]),
                "test_accuracy_at_equal_seconds": _at_seconds(run, "test_accuracy", equal),
                "test_loss": run["curve"][-1]["test_loss"],
            }
        )
        print(table[-1])
    payload = {"args": vars(args), "equal_seconds": equal, "table": table, **result}
    _save(f"mnist1d_{args.model}", payload, args.out)


def kin8nm(args: argparse.Namespace) -> None:
    import torch
    from torch import nn

    from benchmarks._uci import load_split
    from natgrad.nn import get_likelihood

    split = load_split("kin8nm", args.split)
    mx, sx = split.X_train.mean(0), split.X_train.std(0)
    my, sy = split.y_train.mean(), split.y_train.std()

    def tensor(a: np.ndarray) -> Any:
        return torch.tensor(a, dtype=torch.float32)

    x, xt = tensor((split.X_train - mx) / sx), tensor((split.X_test - mx) / sx)
    y, yt = tensor((split.y_train - my) / sy), tensor((split.y_test - my) / sy)
    lik = get_likelihood("normal")

    def build() -> nn.Module:
        return nn.Sequential(
            nn.Linear(x.shape[1], 50), nn.Tanh(), nn.Linear(50, 50), nn.Tanh(), nn.Linear(50, 2)
        )

    def evaluate(model: nn.Module) -> dict[str, float]:
        # NLL in the original units: standardising y by sy adds log(sy) per row.
        with torch.no_grad():
            return {
                "train_loss": float(lik.nll(model(x), y).mean()) + math.log(sy),
                "test_nll": float(lik.nll(model(xt), yt).mean()) + math.log(sy),
                "test_rmse": float(((model(xt)[:, 0] - yt) ** 2).mean().sqrt()) * sy,
            }

    iters = args.epochs * (x.shape[0] // args.batch_size)
    common = _train_kwargs(args, iters, build=build, likelihood=lik, x=x, y=y, evaluate=evaluate)
    result = _run_all(args, common, "test_nll", lower=True)
    boosting = None
    stored = RESULTS / "accuracy_fisher_default.json"
    if stored.exists():
        splits = json.loads(stored.read_text())["fisher"]["kin8nm"]["splits"]
        boosting = next(s for s in splits if s["split"] == args.split)
    table = [
        {
            "optimizer": name,
            "lr": run["lr"],
            "iters": run["iters"],
            "test_nll": run["curve"][-1]["test_nll"],
            "best_test_nll": min(p["test_nll"] for p in run["curve"]),
            "test_rmse": run["curve"][-1]["test_rmse"],
        }
        for name, run in result["tuned"].items()
    ]
    for row in table:
        print(row)
    print("natgrad boosting (benchmarks/results/accuracy_fisher_default.json):", boosting)
    payload = {"args": vars(args), "table": table, "boosting": boosting, **result}
    _save("kin8nm", payload, args.out)


def cost(args: argparse.Namespace) -> None:
    from torch import nn

    from natgrad.nn import get_likelihood

    x, y, _, _ = _mnist1d()
    lik = get_likelihood("categorical")
    rows = []
    for width in [int(w) for w in args.widths.split(",")]:

        def build(width: int = width) -> nn.Module:
            return nn.Sequential(
                nn.Linear(40, width),
                nn.ReLU(),
                nn.Linear(width, width),
                nn.ReLU(),
                nn.Linear(width, 10),
            )

        row: dict[str, Any] = {
            "width": width,
            "params": sum(p.numel() for p in build().parameters()),
        }
        per_step = {}
        for name in ["adam", "diagonal", "kfac", "cg"]:
            # The first steps pay one-off costs (torch.func set-up, first decompositions):
            # a warm-up run of 3 steps is discarded.
            for steps in (3, args.steps):
                run = train(
                    name,
                    1e-3 if name == "adam" else None,
                    build,
                    lik,
                    x,
                    y,
                    batch_size=args.batch_size,
                    iters=steps,
                    seconds=math.inf,
                    seed=0,
                    evaluate=lambda m: {"train_loss": 0.0},
                    eval_every=args.steps,
                )
            per_step[name] = run["seconds"] / run["iters"]
        for name, sec in per_step.items():
            row[f"{name}_ratio"] = sec / per_step["adam"]
        row["adam_ms"] = 1e3 * per_step["adam"]
        rows.append(row)
        print(row)
    _save("cost", {"args": vars(args), "table": rows}, args.out)


# ---------------------------------------------------------------------------- plots
def plot(args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(args.images)
    out.mkdir(parents=True, exist_ok=True)
    specs = [
        ("autoencoder", "train_loss", "training loss (Bernoulli NLL)"),
        ("mnist1d_mlp", "train_loss", "training loss (cross-entropy)"),
        ("mnist1d_cnn", "train_loss", "training loss (cross-entropy)"),
        ("kin8nm", "test_nll", "test NLL"),
        ("mnist1d_mlp-paper", "test_accuracy", "test accuracy"),
        ("mnist1d_cnn-paper", "test_accuracy", "test accuracy"),
        ("mnist1d_mlp-paper-wd", "test_accuracy", "test accuracy"),
        ("mnist1d_cnn-paper-wd", "test_accuracy", "test accuracy"),
    ]
    for name, key, label in specs:
        path = RESULTS / f"nn_{name}.json"
        if not path.exists():
            continue
        saved = json.loads(path.read_text())
        tuned, wd = saved["tuned"], saved["args"].get("weight_decay")
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
        for opt, run in tuned.items():
            tag = opt if run["lr"] is None else f"{opt} (lr {run['lr']:g})"
            if opt in NATGRAD and wd:
                tag += f" (weight_decay {wd:g})"
            its = [p["iter"] for p in run["curve"]]
            secs = [p["seconds"] for p in run["curve"]]
            vals = [p[key] for p in run["curve"]]
            axes[0].plot(its, vals, label=tag)
            axes[1].plot(secs, vals, label=tag)
        for ax, xlabel in zip(axes, ["iterations", "seconds (CPU, 1 thread)"], strict=True):
            ax.set_xlabel(xlabel)
            ax.set_ylabel(label)
            if key == "train_loss":
                ax.set_yscale("log")
        axes[1].legend(fontsize=8)
        fig.suptitle(name)
        fig.tight_layout()
        fig.savefig(out / f"{name}.png", dpi=90)
        plt.close(fig)
        print("wrote", out / f"{name}.png")


def _fmt(value: Any, key: str = "") -> str:
    if value is None:
        return "default" if key == "lr" else "not reached"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def tables(args: argparse.Namespace) -> None:
    """Markdown tables of every ``nn_*.json`` result (what docs/nn.md quotes)."""
    for path in sorted(RESULTS.glob("nn_*.json")):
        result = json.loads(path.read_text())
        rows = result["table"]
        keys = list(rows[0])
        print(f"\n{path.name}\n")
        print("| " + " | ".join(keys) + " |")
        print("|" + " --- |" * len(keys))
        for row in rows:
            print("| " + " | ".join(_fmt(row[k], k) for k in keys) + " |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.nn", description=__doc__)
    sub = parser.add_subparsers(dest="problem", required=True)
    p = sub.add_parser("autoencoder")
    _common(p, iters=1000, seconds=120.0, batch=256)
    p = sub.add_parser("mnist1d")
    _common(p, iters=0, seconds=120.0, batch=100)
    p.add_argument("--model", choices=["mlp", "mlp-paper", "cnn"], default="mlp")
    p.add_argument("--epochs", type=int, default=20)
    p = sub.add_parser("kin8nm")
    _common(p, iters=0, seconds=120.0, batch=100)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--split", type=int, default=0)
    p = sub.add_parser("cost")
    p.add_argument("--widths", default="32,64,128,256")
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=None)
    p = sub.add_parser("tables")
    p.add_argument("--threads", type=int, default=1)
    p = sub.add_parser("plot")
    p.add_argument("--images", default=str(Path(__file__).resolve().parents[1] / "docs/images/nn"))
    p.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    problems = {
        "autoencoder": autoencoder,
        "mnist1d": mnist1d,
        "kin8nm": kin8nm,
        "cost": cost,
        "plot": plot,
        "tables": tables,
    }
    problems[args.problem](args)


if __name__ == "__main__":
    main()
