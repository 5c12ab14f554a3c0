"""Classification benchmark: natgrad's NGBoostClassifier vs NGBoost's NGBClassifier.

Data that ships with scikit-learn (no download): ``breast_cancer`` (2 classes, Bernoulli) and
``digits`` or ``wine`` (10 or 3 classes, categorical; ``k_categorical(K)`` in NGBoost).
Protocol, the same on both sides: stratified K-fold train/test splits (seeded), depth-3
trees with ``min_samples_leaf`` 1 (NGBoost's default tree), learning rate 0.01, a fixed number
of stages, no early stopping, all rows and columns every stage. Reported per dataset: test log
loss and accuracy (mean ± sd over the splits) and the fit-time ratio NGBoost / natgrad (median
fit time over the splits; natgrad fits once before the first split so that its compiled code
is compiled). natgrad runs with both leaf rules: ``fisher`` (its default) and ``ngboost``
(NGBoost's step, for a like-for-like comparison).

Run: ``python -m benchmarks.classification [--datasets ...] [--stages 500] [--splits 5]``
(needs the ``bench`` extra: ngboost). The machines are shared and noisy: quote ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._timing import ngboost_tree, timed

LOADERS = {
    "breast_cancer": "load_breast_cancer",
    "digits": "load_digits",
    "wine": "load_wine",
    "iris": "load_iris",
}
NATGRAD_RULES = ("fisher", "ngboost")


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    import sklearn.datasets

    X, y = getattr(sklearn.datasets, LOADERS[name])(return_X_y=True)
    return np.asarray(X, dtype=np.float64), np.asarray(y)


def _scores(y: np.ndarray, proba: np.ndarray, n_classes: int) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, log_loss

    return {
        "log_loss": float(log_loss(y, proba, labels=np.arange(n_classes))),
        "accuracy": float(accuracy_score(y, np.argmax(proba, axis=1))),
    }


def run_split(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    n_classes: int,
    stages: int,
    learning_rate: float,
    min_samples_leaf: int,
) -> dict[str, dict[str, float]]:
    """Fit every side on one split; test scores and fit seconds per side."""
    from ngboost import NGBClassifier
    from ngboost.distns import Bernoulli, k_categorical

    from natgrad import NGBoostClassifier

    out: dict[str, dict[str, float]] = {}
    for rule in NATGRAD_RULES:
        model, seconds = timed(
            lambda rule=rule: NGBoostClassifier(
                n_estimators=stages,
                learning_rate=learning_rate,
                max_depth=3,
                min_samples_leaf=min_samples_leaf,
                leaf_rule=rule,
            ).fit(X_train, y_train)
        )
        out[f"natgrad_{rule}"] = {**_scores(y_test, model.predict_proba(X_test), n_classes)}
        out[f"natgrad_{rule}"]["seconds"] = seconds

    dist = Bernoulli if n_classes == 2 else k_categorical(n_classes)
    base = ngboost_tree(min_samples_leaf)
    model, seconds = timed(
        lambda: NGBClassifier(
            Dist=dist,
            Base=base,
            n_estimators=stages,
            learning_rate=learning_rate,
            natural_gradient=True,
            minibatch_frac=1.0,
            col_sample=1.0,
            verbose=False,
        ).fit(X_train, y_train)
    )
    out["ngboost"] = {**_scores(y_test, model.predict_proba(X_test), n_classes)}
    out["ngboost"]["seconds"] = seconds
    return out


def mean_sd(values: list[float]) -> list[float]:
    arr = np.asarray(values)
    return [float(arr.mean()), float(arr.std(ddof=1)) if arr.size > 1 else 0.0]


def bench_dataset(
    name: str, stages: int, n_splits: int, learning_rate: float, min_samples_leaf: int
) -> dict:
    from sklearn.model_selection import StratifiedKFold

    from natgrad import NGBoostClassifier

    X, y = load(name)
    n_classes = int(np.unique(y).size)
    # Compile natgrad's kernels (both leaf rules) before anything is timed; the first call's
    # time is reported.
    _, first_call = timed(
        lambda: NGBoostClassifier(n_estimators=stages, learning_rate=learning_rate).fit(X, y)
    )
    NGBoostClassifier(n_estimators=2, leaf_rule="ngboost").fit(X, y)
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=0)
    splits = []
    for k, (train, test) in enumerate(folds.split(X, y)):
        row = run_split(
            X[train], y[train], X[test], y[test], n_classes, stages, learning_rate, min_samples_leaf
        )
        splits.append({"split": k, **row})
    sides = [f"natgrad_{rule}" for rule in NATGRAD_RULES] + ["ngboost"]
    summary: dict[str, Any] = {}
    for side in sides:
        summary[side] = {
            "log_loss": mean_sd([s[side]["log_loss"] for s in splits]),
            "accuracy": mean_sd([s[side]["accuracy"] for s in splits]),
            "median_seconds": statistics.median(s[side]["seconds"] for s in splits),
        }
    for rule in NATGRAD_RULES:
        summary[f"speedup_vs_ngboost_{rule}"] = (
            summary["ngboost"]["median_seconds"] / summary[f"natgrad_{rule}"]["median_seconds"]
        )
    return {
        "dataset": name,
        "n_rows": int(X.shape[0]),
        "n_features": int(X.shape[1]),
        "n_classes": n_classes,
        "natgrad_first_call_seconds": first_call,
        "summary": summary,
        "splits": splits,
    }


def format_row(row: dict) -> str:
    s = row["summary"]
    parts = [f"{row['dataset']:14s} K={row['n_classes']:<2d} n={row['n_rows']:5d}"]
    for side in [f"natgrad_{rule}" for rule in NATGRAD_RULES] + ["ngboost"]:
        ll, acc = s[side]["log_loss"], s[side]["accuracy"]
        parts.append(f"{side}: logloss {ll[0]:.4f} ± {ll[1]:.4f} acc {acc[0]:.4f} ± {acc[1]:.4f}")
    parts.append(
        "NGBoost/natgrad time: "
        + ", ".join(f"{rule} {s[f'speedup_vs_ngboost_{rule}']:.1f}x" for rule in NATGRAD_RULES)
    )
    return "\n  ".join(parts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--datasets", nargs="+", default=["breast_cancer", "digits"], choices=sorted(LOADERS)
    )
    parser.add_argument("--stages", type=int, default=500)
    parser.add_argument("--splits", type=int, default=5, help="stratified K-fold splits")
    parser.add_argument("--learning-rate", type=float, default=0.01)
    parser.add_argument("--min-samples-leaf", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/classification.json"))
    args = parser.parse_args(argv)

    rows = []
    for name in args.datasets:
        row = bench_dataset(
            name, args.stages, args.splits, args.learning_rate, args.min_samples_leaf
        )
        rows.append(row)
        print(format_row(row), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    settings = {
        "stages": args.stages,
        "splits": args.splits,
        "learning_rate": args.learning_rate,
        "max_depth": 3,
        "min_samples_leaf": args.min_samples_leaf,
    }
    args.out.write_text(json.dumps({"settings": settings, "results": rows}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
