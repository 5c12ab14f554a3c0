"""Prediction-time benchmark: natgrad vs LightGBM, the same number of trees and rows.

Both models are fitted on kin8nm's first training split with ``--stages`` depth-3 trees
(natgrad: Normal, learning rate 0.01, all rows every stage; LightGBM: plain L2 regression, 8
leaves), then predict ``--rows`` rows drawn from the training rows with a little noise (so
that they are not the binned training rows). Batch time: the median of ``--repeats`` calls
after one warm-up call of each (natgrad's compiled code compiled by then), natgrad's
``predict`` (the predictive mean) against LightGBM's ``predict``, alternating. Single-row
latency: the median over ``--single`` one-row calls. Ratios, not seconds, are the result.

Run: ``python -m benchmarks.predict_speed`` (needs lightgbm, in the ``bench`` extra).
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import numpy as np

from benchmarks._results import report
from benchmarks._timing import repeat_times
from benchmarks._uci import load_split


def bench(n_stages: int, n_rows: int, repeats: int, n_single: int, seed: int = 0) -> dict:
    import lightgbm

    from natgrad import NGBoostRegressor

    split = load_split("kin8nm", 0)
    X, y = split.X_train, split.y_train
    rng = np.random.default_rng(seed)
    rows = X[rng.integers(0, X.shape[0], n_rows)]
    rows = rows + rng.normal(scale=0.01 * X.std(axis=0), size=rows.shape)
    natgrad = NGBoostRegressor(
        n_estimators=n_stages, learning_rate=0.01, max_depth=3, subsample=1.0, random_state=0
    ).fit(X, y)
    lgbm = lightgbm.LGBMRegressor(
        n_estimators=n_stages, learning_rate=0.01, max_depth=3, num_leaves=8,
        min_child_samples=1, min_child_weight=0.0, verbose=-1,
    ).fit(X, y)  # fmt: skip
    sides = {"natgrad": natgrad, "lightgbm": lgbm}
    for model in sides.values():  # warm-up
        model.predict(rows)
        model.predict(rows[:1])
    batch: dict[str, list[float]] = {k: [] for k in sides}
    for _ in range(repeats):  # alternating: both sides see the same slow phases
        for key, model in sides.items():
            batch[key] += repeat_times(lambda m=model: m.predict(rows), 1)
    single = {}
    for key, model in sides.items():
        one = rows[:1]
        single[key] = statistics.median(repeat_times(lambda m=model, r=one: m.predict(r), n_single))
    result = {
        "n_stages": n_stages,
        "n_rows": n_rows,
        "natgrad_trees": int(natgrad.n_estimators_),
        "lightgbm_trees": int(lgbm.booster_.num_trees()),
        "batch_seconds": {k: statistics.median(v) for k, v in batch.items()},
        "batch_all": batch,
        "single_row_seconds": single,
    }
    result["batch_ratio_natgrad_to_lightgbm"] = (
        result["batch_seconds"]["natgrad"] / result["batch_seconds"]["lightgbm"]
    )
    result["single_row_ratio_natgrad_to_lightgbm"] = single["natgrad"] / single["lightgbm"]
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stages", type=int, default=500)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--single", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/predict_speed.json"))
    args = parser.parse_args(argv)
    row = bench(args.stages, args.rows, args.repeats, args.single)
    report(
        f"{row['n_rows']} rows x {row['n_stages']} trees: natgrad/LightGBM batch "
        f"{row['batch_ratio_natgrad_to_lightgbm']:.2f}x "
        f"(natgrad {row['batch_seconds']['natgrad']:.3f}s)  |  single row "
        f"{row['single_row_ratio_natgrad_to_lightgbm']:.2f}x "
        f"(natgrad {1e3 * row['single_row_seconds']['natgrad']:.2f} ms)",
        args.out,
        row,
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
