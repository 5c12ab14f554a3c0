"""Dask benchmark: per-stage overhead of the distributed fit against the local fit.

The same model on both sides (Normal, log score, depth-3 trees, all rows every stage unless
``--subsample`` says otherwise, no early stopping) on the synthetic data of
`benchmarks.scale`: the local `NGBoostRegressor` in this process with 2 numba threads, and
`natgrad.dask.DaskNGBoostRegressor` on a `distributed.LocalCluster` of 2 worker processes
with 1 thread each (the same two cores).
A stage's time is the difference of two fits with ``--stages`` S1 < S2 stages divided by
S2 - S1, so the set-up (placing and binning the rows, compiling) cancels. It also measures
the latency of one round (every actor answers a no-op call), counts the rounds per stage,
checks that the two fits predict the same, and prints the cost model of docs/dask.md.

Run: ``python -m benchmarks.dask_scale [--rows 100000 1000000] [--stages 10 30]
[--subsample 1.0]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from benchmarks.scale import make_data


def round_latency(client, repeats: int = 200) -> float:
    """Median seconds of one round: every actor of a two-shard pool answers a no-op."""
    import dask
    import dask.array as da

    from natgrad.dask._cluster import place_shards

    X = da.zeros((2000, 2), chunks=(1000, 2))
    parts = [
        dask.delayed(tuple)([xb, yb, wb])
        for xb, yb, wb in zip(
            X.to_delayed().ravel(),
            da.zeros(2000, chunks=1000).to_delayed(),
            da.ones(2000, chunks=1000).to_delayed(),
            strict=True,
        )
    ]
    pool = place_shards(client, parts, [], 60.0)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        pool.call("ping")
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def run(rows: list[int], n_features: int, stages: tuple[int, int], subsample: float) -> dict:
    import dask.array as da
    import distributed

    from natgrad import NGBoostRegressor
    from natgrad.dask import DaskNGBoostRegressor

    params = {"learning_rate": 0.1, "max_depth": 3, "subsample": subsample, "random_state": 0}
    s1, s2 = stages
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
        env={"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    client = distributed.Client(cluster)
    out: dict = {"stages": [s1, s2], "features": n_features, "subsample": subsample, "sizes": []}
    try:
        # Warm-up: compile every kernel on both sides (client and workers).
        Xw, yw = make_data(2000, n_features, seed=1)
        NGBoostRegressor(n_estimators=3, **params).fit(Xw, yw)
        DaskNGBoostRegressor(n_estimators=3, **params).fit(
            da.from_array(Xw, chunks=(1000, -1)), da.from_array(yw, chunks=1000), client=client
        )
        latency = round_latency(client)
        out["round_latency_ms"] = 1e3 * latency
        for n in rows:
            X, y = make_data(n, n_features)
            Xd = client.persist(da.from_array(X, chunks=(n // 2, -1)))
            yd = client.persist(da.from_array(y, chunks=n // 2))
            distributed.wait([Xd, yd])
            local = {}
            dist = {}
            for s in (s1, s2):
                t0 = time.perf_counter()
                model = NGBoostRegressor(n_estimators=s, **params).fit(X, y)
                local[s] = (model, time.perf_counter() - t0)
                t0 = time.perf_counter()
                model = DaskNGBoostRegressor(n_estimators=s, **params).fit(Xd, yd, client=client)
                dist[s] = (model, time.perf_counter() - t0)
            per_local = (local[s2][1] - local[s1][1]) / (s2 - s1)
            per_dist = (dist[s2][1] - dist[s1][1]) / (s2 - s1)
            model_l, model_d = local[s2][0], dist[s2][0]
            check = slice(0, min(n, 10_000))
            diff = float(
                np.max(np.abs(model_l.predict(X[check]) - model_d.to_local().predict(X[check])))
            )
            rounds = float(model_d.rounds_per_stage_)
            size = {
                "rows": n,
                "local_ms_per_stage": 1e3 * per_local,
                "dask_ms_per_stage": 1e3 * per_dist,
                "overhead_ms_per_stage": 1e3 * (per_dist - per_local),
                "rounds_per_stage": rounds,
                "rounds_x_latency_ms": 1e3 * rounds * latency,
                "local_fit_s": {str(s): local[s][1] for s in (s1, s2)},
                "dask_fit_s": {str(s): dist[s][1] for s in (s1, s2)},
                "max_abs_prediction_difference": diff,
            }
            out["sizes"].append(size)
            print(json.dumps(size), flush=True)
            client.cancel([Xd, yd])
    finally:
        client.close()
        cluster.close()
    return out


def cost_model(result: dict) -> list[str]:
    """The overhead as rounds x latency + the rest, and where distributing starts to pay."""
    lines = [f"round latency L = {result['round_latency_ms']:.2f} ms (median of 200 no-op rounds)"]
    for size in result["sizes"]:
        n = size["rows"]
        rest = size["overhead_ms_per_stage"] - size["rounds_x_latency_ms"]
        per_row_ns = 1e6 * size["local_ms_per_stage"] / n
        lines.append(
            f"n={n:>9,}: local {size['local_ms_per_stage']:8.1f} ms/stage, dask "
            f"{size['dask_ms_per_stage']:8.1f} ms/stage, overhead "
            f"{size['overhead_ms_per_stage']:7.1f} ms = R x L "
            f"({size['rounds_per_stage']:.0f} x {result['round_latency_ms']:.2f}) "
            f"{size['rounds_x_latency_ms']:.1f} ms + other {rest:.1f} ms; "
            f"local work {per_row_ns:.1f} ns/row/stage on 2 cores; "
            f"max |prediction difference| {size['max_abs_prediction_difference']:.1e}"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--stages", type=int, nargs=2, default=[10, 30])
    parser.add_argument("--subsample", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/dask_scale.json"))
    args = parser.parse_args(argv)
    result = run(args.rows, args.features, (args.stages[0], args.stages[1]), args.subsample)
    result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    result["load_average"] = os.getloadavg()
    result["command"] = "python -m benchmarks.dask_scale " + " ".join(argv or [])
    for line in cost_model(result):
        print(line)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
