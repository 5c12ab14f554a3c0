"""Time the native histogram tree engine against LightGBM on kin8nm.

1000 stages of L2 boosting with depth-3 trees and learning rate 0.1, in one process: the
natgrad grower + predictor with p = 1 (gradient = residual) and p = 2 (a second, synthetic
target column), and ``lightgbm.LGBMRegressor`` with the same trees. Each is warmed up once
(so compiled code is compiled), then timed as the median of 3 interleaved runs; the script
prints the ratios. The data directory is ``../shared/data/uci`` next to the repository, or
``$NATGRAD_UCI_DIR``.

Run: ``python benchmarks/bench_engine.py [--stages 1000] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np

from natgrad.boosting._hist.binning import BinMapper
from natgrad.boosting._hist.grower import grow_tree
from natgrad.boosting._hist.partition import add_leaf_values
from natgrad.boosting._hist.predictor import Ensemble


def _data_dir() -> Path:
    env = os.environ.get("NATGRAD_UCI_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "data" / "uci"


def load_kin8nm() -> tuple[np.ndarray, np.ndarray]:
    data = np.loadtxt(_data_dir() / "kin8nm" / "data.txt")
    return np.ascontiguousarray(data[:, :-1]), np.ascontiguousarray(data[:, -1])


def fit_natgrad(X, y, n_params, stages, lr=0.1):
    """L2 boosting on the engine; returns the ensemble and the training MSE."""
    mapper = BinMapper(max_bins=255, random_state=0)
    binned = mapper.fit_transform(X)
    kw = dict(
        max_depth=3,
        min_samples_leaf=20,
        n_bins_non_missing=mapper.n_bins_non_missing_,
        missing_values_bin_idx=mapper.missing_values_bin_idx_,
        bin_thresholds=mapper.bin_thresholds_,
    )
    n = y.shape[0]
    # Column 0 regresses y; a second column (p = 2) regresses y**2, as a Normal's two
    # parameters would each get a target.
    targets = np.stack([y, y * y], axis=1)[:, :n_params]
    theta = np.repeat(targets.mean(axis=0)[None, :], n, axis=0)
    ens = Ensemble(n_params, X.shape[1], mapper.missing_values_bin_idx_)
    for _ in range(stages):
        grad = theta - targets  # gradient of the half squared error
        tree, leaf_of_row = grow_tree(binned, grad, **kw)
        add_leaf_values(theta, tree.leaf_values, leaf_of_row, -lr)
        ens.append(tree, -lr)
    return ens, float(np.mean((theta[:, 0] - y) ** 2))


def fit_lightgbm(X, y, stages, lr=0.1):
    import lightgbm

    model = lightgbm.LGBMRegressor(
        n_estimators=stages,
        max_depth=3,
        num_leaves=8,
        learning_rate=lr,
        min_child_samples=20,
        max_bin=255,
        verbose=-1,
    )
    model.fit(X, y)
    return model, float(np.mean((model.predict(X) - y) ** 2))


def _timed(fn):
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    X, y = load_kin8nm()

    t0 = time.perf_counter()
    fit_natgrad(X[:200], y[:200], 1, 2)
    fit_natgrad(X[:200], y[:200], 2, 2)
    print(f"first call (compile, or load from numba's cache): {time.perf_counter() - t0:.2f} s")
    fit_lightgbm(X, y, 10)

    # Rounds interleave the three fits, so that a burst of load on a shared machine hits
    # them alike; each ratio is taken within a round and the median over rounds reported.
    times: dict[str, list[float]] = {"lightgbm": [], "p=1": [], "p=2": []}
    mse: dict[str, float] = {}
    for _ in range(args.repeats):
        t, (_, mse["lightgbm"]) = _timed(lambda: fit_lightgbm(X, y, args.stages))
        times["lightgbm"].append(t)
        for p in (1, 2):
            t, (ens, mse[f"p={p}"]) = _timed(lambda p=p: fit_natgrad(X, y, p, args.stages))
            times[f"p={p}"].append(t)
    t_lgb = statistics.median(times["lightgbm"])
    print(f"lightgbm   : {t_lgb:.3f} s   train MSE {mse['lightgbm']:.5f}")
    for name in ("p=1", "p=2"):
        ratios = [a / b for a, b in zip(times[name], times["lightgbm"], strict=True)]
        print(
            f"natgrad {name}: {statistics.median(times[name]):.3f} s   train MSE "
            f"{mse[name]:.5f}   ratio to lightgbm {statistics.median(ratios):.2f}"
        )
    t_pred = statistics.median(_timed(lambda: ens.predict_raw(X))[0] for _ in range(args.repeats))
    print(f"predict_raw (p=2, {ens.n_trees} trees, {X.shape[0]} rows): {t_pred * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
