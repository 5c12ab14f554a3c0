"""Accuracy benchmark on the nine UCI regression sets (DESIGN.md protocol).

Per split: hold out 20 % of the training rows (seeded by the split number) as validation,
choose the number of stages by validation NLL (learning rate 0.01, at most 2000 stages),
refit on all training rows with that number, and report test NLL and RMSE. The table gives
mean, standard deviation and standard error over splits beside NGBoost's published numbers.

Run: ``python -m benchmarks.accuracy [--datasets ...] [--leaf-rules fisher ngboost]``.
``--leaf-rules ngboost-library`` runs the PyPI ``ngboost`` package under the same protocol
(same splits, same validation rows), for a like-for-like reference.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from benchmarks._results import report
from benchmarks._uci import DATASETS, PUBLISHED, load_split, n_splits


def _holdout(n: int, split: int) -> tuple[np.ndarray, np.ndarray]:
    """20 % of the training rows as validation, seeded by the split number."""
    perm = np.random.default_rng(split).permutation(n)
    n_val = int(round(0.2 * n))
    return perm[:n_val], perm[n_val:]


def run_split_ngboost(name: str, split: int, max_stages: int) -> dict:
    """The same protocol with the reference library (PyPI ``ngboost``), for comparison."""
    from ngboost import NGBRegressor
    from ngboost.distns import Normal as NGBNormal

    data = load_split(name, split)
    val, train = _holdout(data.X_train.shape[0], split)
    kw = dict(Dist=NGBNormal, learning_rate=0.01, verbose=False)
    chooser = NGBRegressor(n_estimators=max_stages, **kw).fit(
        data.X_train[train], data.y_train[train]
    )
    losses = [
        -np.mean(d.logpdf(data.y_train[val])) for d in chooser.staged_pred_dist(data.X_train[val])
    ]
    stages = int(np.argmin(losses)) + 1
    model = NGBRegressor(n_estimators=stages, **kw).fit(data.X_train, data.y_train)
    dist = model.pred_dist(data.X_test)
    nll = float(-np.mean(dist.logpdf(data.y_test)))
    rmse = float(np.sqrt(np.mean((dist.mean() - data.y_test) ** 2)))
    return {"split": split, "stages": stages, "nll": nll, "rmse": rmse}


def run_split(
    name: str,
    split: int,
    rule: str,
    max_stages: int,
    patience: int | None,
    min_samples_leaf: int,
    leaf_prior: float,
    subsample: float,
    colsample: float,
    max_depth: int,
) -> dict:
    from natgrad import NGBoostRegressor

    if rule == "ngboost-library":
        return run_split_ngboost(name, split, max_stages)
    data = load_split(name, split)
    val, train = _holdout(data.X_train.shape[0], split)
    params = dict(
        learning_rate=0.01,
        max_depth=max_depth,
        leaf_rule=rule,
        min_samples_leaf=min_samples_leaf,
        leaf_prior=leaf_prior,
        # Row subsampling per stage, seeded by the split (the same seed for both fits).
        subsample=subsample,
        colsample=colsample,
        random_state=split,
    )
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
    parser.add_argument(
        "--leaf-rules",
        nargs="+",
        default=["fisher", "ngboost"],
        help="natgrad leaf rules to run; 'ngboost-library' runs the reference library instead",
    )
    parser.add_argument("--max-stages", type=int, default=2000)
    parser.add_argument(
        "--patience",
        type=int,
        default=None,
        help="stop choosing after this many stages without improvement",
    )
    parser.add_argument("--splits", type=int, default=None, help="use only the first K splits")
    parser.add_argument(
        "--min-samples-leaf",
        type=int,
        default=None,
        help="natgrad's min_samples_leaf (default: the estimator's default)",
    )
    parser.add_argument(
        "--leaf-prior",
        type=float,
        default=None,
        help="natgrad's leaf_prior (pseudo-rows of the node's mean Fisher; default: the "
        "regressor's default)",
    )
    parser.add_argument(
        "--subsample",
        type=float,
        default=None,
        help="natgrad's row subsample per stage (default: the regressor's default, 0.3; 1.0 "
        "uses all rows)",
    )
    parser.add_argument(
        "--colsample",
        type=float,
        default=1.0,
        help="natgrad's column subsample per stage (the regressor's default is 1.0: all columns)",
    )
    parser.add_argument(
        "--max-depth",
        type=int,
        default=None,
        help="natgrad's tree depth (default: the regressor's default; NGBoost's published "
        "setting is 3)",
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/accuracy.json"))
    args = parser.parse_args(argv)
    from natgrad import NGBoostRegressor

    # The regressor's defaults where no option is given; the results file records the values.
    defaults = NGBoostRegressor()
    settings = {
        "min_samples_leaf": defaults.min_samples_leaf
        if args.min_samples_leaf is None
        else args.min_samples_leaf,
        "leaf_prior": defaults.leaf_prior if args.leaf_prior is None else args.leaf_prior,
        "subsample": defaults.subsample if args.subsample is None else args.subsample,
        "colsample": args.colsample,
        "max_depth": defaults.max_depth if args.max_depth is None else args.max_depth,
    }
    results: dict = {}
    if args.out.exists():
        results = json.loads(args.out.read_text())
    for rule in args.leaf_rules:
        for name in args.datasets:
            k = n_splits(name) if args.splits is None else min(args.splits, n_splits(name))
            start = time.perf_counter()
            rows = [
                run_split(name, s, rule, args.max_stages, args.patience, **settings)
                for s in range(k)
            ]
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
                **settings,
            }
            report(
                f"{rule:8s} {name:28s} NLL {nll[0]:7.3f} ± {nll[1]:.3f} (se {nll[2]:.3f}) "
                f"[NGBoost {pub_nll:5.2f} ± {pub_nll_sd:.2f}: {verdict}]  "
                f"RMSE {rmse[0]:6.3f} ± {rmse[1]:.3f} [NGBoost {pub_rmse:.2f}]  "
                f"{time.perf_counter() - start:6.1f}s",
                args.out,
                results,
            )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
