"""Accuracy benchmark on the nine UCI regression sets (DESIGN.md protocol).

Per split: hold out 20 % of the training rows (seeded by the split number) as validation,
choose the number of stages by validation NLL (learning rate 0.01, at most 2000 stages),
refit on all training rows with that number, and report test NLL and RMSE. The table gives
mean, standard deviation and standard error over splits beside NGBoost's published numbers.

Run: ``python -m benchmarks.accuracy [--datasets ...] [--leaf-rules fisher ngboost]``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from benchmarks._uci import DATASETS, PUBLISHED, load_split, n_splits


def run_split(name: str, split: int, rule: str, max_stages: int, patience: int | None) -> dict:
    from natgrad import NGBoostRegressor

    data = load_split(name, split)
    rng = np.random.default_rng(split)
    n = data.X_train.shape[0]
    perm = rng.permutation(n)
    n_val = int(round(0.2 * n))
    val, train = perm[:n_val], perm[n_val:]
    params = dict(learning_rate=0.01, max_depth=3, leaf_rule=rule)
    chooser = NGBoostRegressor(n_estimators=max_stages, n_iter_no_change=patience, **params)
    chooser.fit(
        data.X_train[train],
        data.y_train[train],
        eval_set=(data.X_train[val], data.y_train[val]),
    )
    stages = max(int(chooser.best_iteration_), 1)
    model = NGBoostRegressor(n_estimators=stages, **params).fit(data.X_train, data.y_train)
    dist = model.predict_dist(data.X_test)
    nll = float(np.mean(dist.nll(data.y_test)))
    rmse = float(np.sqrt(np.mean((dist.mean() - data.y_test) ** 2)))
    return {"split": split, "stages": stages, "nll": nll, "rmse": rmse}


def summarise(values: list[float]) -> tuple[float, float, float]:
    arr = np.asarray(values)
    std = float(arr.std(ddof=1)) if arr.size > 1 else 0.0
    return float(arr.mean()), std, std / np.sqrt(arr.size)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--leaf-rules", nargs="+", default=["fisher", "ngboost"])
    parser.add_argument("--max-stages", type=int, default=2000)
    parser.add_argument(
        "--patience",
        type=int,
        default=None,
        help="stop choosing after this many stages without improvement",
    )
    parser.add_argument("--splits", type=int, default=None, help="use only the first K splits")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/accuracy.json"))
    args = parser.parse_args(argv)

    results: dict = {}
    if args.out.exists():
        results = json.loads(args.out.read_text())
    for rule in args.leaf_rules:
        for name in args.datasets:
            k = n_splits(name) if args.splits is None else min(args.splits, n_splits(name))
            start = time.perf_counter()
            rows = [run_split(name, s, rule, args.max_stages, args.patience) for s in range(k)]
            nll = summarise([r["nll"] for r in rows])
            rmse = summarise([r["rmse"] for r in rows])
            (pub_nll, pub_nll_sd), (pub_rmse, _) = PUBLISHED[name]
            verdict = (
                "better"
                if nll[0] < pub_nll
                else ("within 1 sd" if nll[0] <= pub_nll + pub_nll_sd else "WORSE")
            )
            results.setdefault(rule, {})[name] = {
                "splits": rows,
                "nll": nll,
                "rmse": rmse,
                "published_nll": [pub_nll, pub_nll_sd],
                "published_rmse": PUBLISHED[name][1],
                "verdict": verdict,
                "seconds": time.perf_counter() - start,
            }
            print(
                f"{rule:8s} {name:28s} NLL {nll[0]:7.3f} ± {nll[1]:.3f} (se {nll[2]:.3f}) "
                f"[NGBoost {pub_nll:5.2f} ± {pub_nll_sd:.2f}: {verdict}]  "
                f"RMSE {rmse[0]:6.3f} ± {rmse[1]:.3f} [NGBoost {pub_rmse:.2f}]  "
                f"{time.perf_counter() - start:6.1f}s",
                flush=True,
            )
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
