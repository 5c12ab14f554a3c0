"""Survival benchmark: natgrad's NGBoostSurvival vs NGBoost's NGBSurvival (LogNormal).

Data:

* ``synthetic``: a log-normal accelerated failure time model with known parameters,
  log T = 1 + x·β + σ(x) ε with ε ~ N(0, 1), β = (1, −0.5, 0.5, 0, 0, 0), σ(x) = 0.6 e^{0.4 x₄}
  and x uniform on [−1, 1]⁶, censored independently by an exponential time whose rate is tuned
  (by bisection on a large seeded sample) to ``--censoring`` (default 40 %). The true model's
  test scores are reported as the oracle.
* ``gbsg2`` (German Breast Cancer Study Group 2, 686 rows, 56 % censored) and ``rossi``
  (recidivism, 432 rows, 74 % censored), which the ``lifelines`` wheel ships (no download).

Protocol, the same on both sides: LogNormal, the censored log score, depth-3 trees with
``min_samples_leaf`` 1 (NGBoost's default tree), learning rate 0.01, a fixed number of stages,
no early stopping. Public sets: K-fold splits stratified by the event flag (seeded); synthetic:
``--splits`` independent train/test draws. Reported: Harrell's concordance index of the
predicted median times (`lifelines.utils.concordance_index`), the mean censored negative
log-likelihood on the test rows (−log f(t) for events, −log S(t) for censored rows, from
`scipy.stats.lognorm` on both sides), both mean ± sd over splits, and the fit-time ratio
NGBoost / natgrad (median over splits; natgrad fits once first so that its compiled code is
compiled). natgrad runs with both leaf rules: ``fisher`` (its default: Fisher-scoring leaves
and the censored Fisher metric) and ``ngboost`` (NGBoost's step and metric).

Run: ``python -m benchmarks.survival [--datasets synthetic gbsg2 rossi] [--stages 500]``
(needs the ``bench`` extra: ngboost, lifelines). The machines are shared and noisy: quote
ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from benchmarks._timing import ngboost_tree, timed

DATASETS = ("synthetic", "gbsg2", "rossi")
NATGRAD_RULES = ("fisher", "ngboost")
BETA = np.array([1.0, -0.5, 0.5, 0.0, 0.0, 0.0])


# ---------------------------------------------------------------------- data
def _aft_params(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(μ, σ) of log T given x under the synthetic model."""
    return 1.0 + X @ BETA, 0.6 * np.exp(0.4 * X[:, 4])


def censoring_rate(target: float, seed: int = 12345, n: int = 200_000) -> float:
    """The rate λ of exponential censoring times that censors a ``target`` share of rows."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, BETA.size))
    mu, sigma = _aft_params(X)
    t = np.exp(mu + sigma * rng.standard_normal(n))
    e = rng.standard_exponential(n)  # C = e / λ

    def share(log_rate: float) -> float:
        return float(np.mean(e / np.exp(log_rate) < t))

    lo, hi = -12.0, 6.0  # share(lo) ≈ 0, share(hi) ≈ 1; share increases with the rate
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if share(mid) < target else (lo, mid)
    return float(np.exp(0.5 * (lo + hi)))


def synthetic(
    n: int, seed: int, rate: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """X, observed time min(T, C), event 1{T ≤ C}, and the true (μ, σ) of log T per row."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, BETA.size))
    mu, sigma = _aft_params(X)
    t = np.exp(mu + sigma * rng.standard_normal(n))
    c = rng.standard_exponential(n) / rate
    return X, np.minimum(t, c), (t <= c).astype(np.float64), mu, sigma


def load_public(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """X, time, event and feature names of a data set bundled with lifelines."""
    from lifelines import datasets

    if name == "rossi":
        df = datasets.load_rossi()
        time_col, event_col = "week", "arrest"
    elif name == "gbsg2":
        df = datasets.load_gbsg2().copy()
        time_col, event_col = "time", "cens"
        df["horTh"] = (df["horTh"] == "yes").astype(float)
        df["menostat"] = (df["menostat"] == "Post").astype(float)
        df["tgrade"] = df["tgrade"].map({"I": 1.0, "II": 2.0, "III": 3.0})
    else:
        raise ValueError(f"unknown data set {name!r}")
    features = [c for c in df.columns if c not in (time_col, event_col)]
    return (
        df[features].to_numpy(dtype=np.float64),
        df[time_col].to_numpy(dtype=np.float64),
        df[event_col].to_numpy(dtype=np.float64),
        features,
    )


Split = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, Any]


def splits(name: str, n_splits: int, n_rows: int, censoring: float) -> Iterator[Split]:
    """(X_train, time_train, event_train, X_test, time_test, event_test, oracle) per split;
    ``oracle`` is the true (μ, σ) of the test rows (synthetic data) or None."""
    if name == "synthetic":
        rate = censoring_rate(censoring)
        for k in range(n_splits):
            Xa, ta, ea, _, _ = synthetic(n_rows, seed=2 * k, rate=rate)
            Xb, tb, eb, mu, sigma = synthetic(n_rows, seed=2 * k + 1, rate=rate)
            yield Xa, ta, ea, Xb, tb, eb, (mu, sigma)
        return
    from sklearn.model_selection import StratifiedKFold

    X, t, e, _ = load_public(name)
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=0)
    for train, test in folds.split(X, e):
        yield X[train], t[train], e[train], X[test], t[test], e[test], None


# ---------------------------------------------------------------------- scores
def scores(time_: np.ndarray, event: np.ndarray, s: np.ndarray, scale: np.ndarray) -> dict:
    """Concordance of the predicted medians and the mean censored NLL of lognorm(s, scale)."""
    from lifelines.utils import concordance_index

    dist = stats.lognorm(s, scale=scale)
    nll = np.where(event == 1, -dist.logpdf(time_), -dist.logsf(time_))
    # The median of lognorm(s, scale) is its scale: larger predicts longer survival.
    return {
        "concordance": float(concordance_index(time_, scale, event)),
        "censored_nll": float(np.mean(nll)),
    }


def run_split(split: Split, stages: int, learning_rate: float, min_samples_leaf: int) -> dict:
    from ngboost import NGBSurvival
    from ngboost.distns import LogNormal

    from natgrad import NGBoostSurvival

    X, t, e, X_test, t_test, e_test, oracle = split
    out: dict[str, Any] = {"censored_share_train": float(1 - e.mean())}
    for rule in NATGRAD_RULES:
        model, seconds = timed(
            lambda rule=rule: NGBoostSurvival(
                "lognormal",
                n_estimators=stages,
                learning_rate=learning_rate,
                max_depth=3,
                min_samples_leaf=min_samples_leaf,
                leaf_rule=rule,
            ).fit(X, t, e)
        )
        nat = model.predict_dist(X_test).natural_params
        out[f"natgrad_{rule}"] = scores(t_test, e_test, nat["scale"], np.exp(nat["loc"]))
        out[f"natgrad_{rule}"]["seconds"] = seconds

    base = ngboost_tree(min_samples_leaf)
    model, seconds = timed(
        lambda: NGBSurvival(
            Dist=LogNormal,
            Base=base,
            n_estimators=stages,
            learning_rate=learning_rate,
            natural_gradient=True,
            minibatch_frac=1.0,
            col_sample=1.0,
            verbose=False,
        ).fit(X, t, e)
    )
    params = model.pred_dist(X_test).params
    out["ngboost"] = scores(t_test, e_test, params["s"], params["scale"])
    out["ngboost"]["seconds"] = seconds
    if oracle is not None:
        mu, sigma = oracle
        out["oracle"] = scores(t_test, e_test, sigma, np.exp(mu))
    return out


def mean_sd(values: list[float]) -> list[float]:
    arr = np.asarray(values)
    return [float(arr.mean()), float(arr.std(ddof=1)) if arr.size > 1 else 0.0]


def bench_dataset(
    name: str,
    stages: int,
    n_splits: int,
    n_rows: int,
    censoring: float,
    learning_rate: float,
    min_samples_leaf: int,
) -> dict:
    from natgrad import NGBoostSurvival

    all_splits = list(splits(name, n_splits, n_rows, censoring))
    X, t, e = all_splits[0][:3]
    # Compile natgrad's kernels (both leaf rules) before anything is timed; the first call's
    # time is reported.
    _, first_call = timed(
        lambda: NGBoostSurvival(n_estimators=stages, learning_rate=learning_rate).fit(X, t, e)
    )
    NGBoostSurvival(n_estimators=2, leaf_rule="ngboost").fit(X, t, e)
    rows = [
        {"split": k, **run_split(s, stages, learning_rate, min_samples_leaf)}
        for k, s in enumerate(all_splits)
    ]
    sides = [f"natgrad_{rule}" for rule in NATGRAD_RULES] + ["ngboost"]
    summary: dict[str, Any] = {}
    for side in sides + (["oracle"] if "oracle" in rows[0] else []):
        summary[side] = {
            "concordance": mean_sd([r[side]["concordance"] for r in rows]),
            "censored_nll": mean_sd([r[side]["censored_nll"] for r in rows]),
        }
        if side != "oracle":
            summary[side]["median_seconds"] = statistics.median(r[side]["seconds"] for r in rows)
    for rule in NATGRAD_RULES:
        summary[f"speedup_vs_ngboost_{rule}"] = (
            summary["ngboost"]["median_seconds"] / summary[f"natgrad_{rule}"]["median_seconds"]
        )
    return {
        "dataset": name,
        "n_train": int(X.shape[0]),
        "n_features": int(X.shape[1]),
        "censored_share": float(np.mean([r["censored_share_train"] for r in rows])),
        "natgrad_first_call_seconds": first_call,
        "summary": summary,
        "splits": rows,
    }


def format_row(row: dict) -> str:
    s = row["summary"]
    parts = [
        f"{row['dataset']:10s} n_train={row['n_train']:5d} "
        f"censored={100 * row['censored_share']:.0f}%"
    ]
    for side in [f"natgrad_{rule}" for rule in NATGRAD_RULES] + ["ngboost", "oracle"]:
        if side in s:
            c, nll = s[side]["concordance"], s[side]["censored_nll"]
            parts.append(
                f"{side:16s} C {c[0]:.4f} ± {c[1]:.4f}  censored NLL {nll[0]:.4f} ± {nll[1]:.4f}"
            )
    parts.append(
        "NGBoost/natgrad time: "
        + ", ".join(f"{rule} {s[f'speedup_vs_ngboost_{rule}']:.1f}x" for rule in NATGRAD_RULES)
    )
    return "\n  ".join(parts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--stages", type=int, default=500)
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument(
        "--rows", type=int, default=2000, help="synthetic: training rows (and as many test rows)"
    )
    parser.add_argument("--censoring", type=float, default=0.4, help="synthetic: censored share")
    parser.add_argument("--learning-rate", type=float, default=0.01)
    parser.add_argument("--min-samples-leaf", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/survival.json"))
    args = parser.parse_args(argv)

    rows = []
    for name in args.datasets:
        row = bench_dataset(
            name,
            args.stages,
            args.splits,
            args.rows,
            args.censoring,
            args.learning_rate,
            args.min_samples_leaf,
        )
        rows.append(row)
        print(format_row(row), flush=True)
    settings = {
        "stages": args.stages,
        "splits": args.splits,
        "synthetic_rows": args.rows,
        "synthetic_censoring": args.censoring,
        "learning_rate": args.learning_rate,
        "max_depth": 3,
        "min_samples_leaf": args.min_samples_leaf,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"settings": settings, "results": rows}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
