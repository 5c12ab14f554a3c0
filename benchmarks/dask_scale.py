"""Dask benchmark: per-stage overhead of the distributed fit against the local fit.

The same model on both sides (Normal, log score, depth-3 trees, all rows every stage unless
``--subsample`` says otherwise, no early stopping) on the synthetic data of
`benchmarks.scale`: the local `NGBoostRegressor` on up to 2 threads in a child process
without Dask (``--local-n-jobs``, default natgrad's own choice: 2 threads when both cores are
free, else 1, as a fit on a busy machine runs faster on one thread: `natgrad.boosting.
_threads`), and `natgrad.dask.DaskNGBoostRegressor` on a `distributed.LocalCluster`
of 2 worker processes with 1 thread each (the same two cores), each holding one half of the
rows.
A stage's time is the time from its start to the next stage's start, read from timestamps
taken during the fits (the local trainer's stage calls; the distributed fit's first round of
each stage), so the set-up (placing and binning the rows, compiling) is left out and a burst
of load from other processes moves a few stages, not the result: it reports the median over
the stages of ``--repeat`` fits. It also measures the latency of one round (every actor
answers a no-op call), counts the rounds per stage, compares the two fits' predictions and
whole fit times, and prints the cost model of docs/dask.md.

Run: ``python -m benchmarks.dask_scale [--rows 100000 1000000] [--stages 30] [--repeat 2]
[--subsample 1.0] [--local-n-jobs N] [--direct]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.scale import make_data

#: Rows on which the two fits' predictions are compared.
CHECK_ROWS = 10_000


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


def _stage_intervals(starts: list[float], end: float) -> list[float]:
    """Seconds from each stage's start to the next one's (the last: to ``end``)."""
    return list(np.diff([*starts, end]))


def _local_fits(n: int, n_features: int, stages: int, params: dict, repeat: int) -> dict:
    """The local fits (in a child process: `run`): per fit its seconds and each stage's
    seconds (from timestamps at the start of the trainer's stage calls), and the predictions
    on the first rows."""
    from natgrad import NGBoostRegressor
    from natgrad.boosting._training import trainer

    starts: list[float] = []
    run_stage = trainer._Stages.run

    def timed(self, *args, **kwargs):
        starts.append(time.perf_counter())
        return run_stage(self, *args, **kwargs)

    trainer._Stages.run = timed  # this child process only
    X, y = make_data(n, n_features)
    Xw, yw = make_data(2000, n_features, seed=1)
    NGBoostRegressor(n_estimators=3, **params).fit(Xw, yw)  # compile (or load) the kernels
    out: dict = {"fit_s": [], "stage_s": []}
    for _ in range(repeat):
        starts.clear()
        t0 = time.perf_counter()
        model = NGBoostRegressor(n_estimators=stages, **params).fit(X, y)
        end = time.perf_counter()
        out["fit_s"].append(end - t0)
        out["stage_s"] += _stage_intervals(starts, end)
    out["predictions"] = model.predict(X[: min(n, CHECK_ROWS)])
    return out


def _dask_data(client, X, y):
    """``X`` and ``y`` as dask arrays of one partition per worker, each placed on its worker
    (scattered: the rows do not travel through the task graph)."""
    import dask.array as da

    workers = sorted(client.scheduler_info()["workers"])
    cuts = np.linspace(0, len(y), len(workers) + 1).astype(int)
    xs, ys = [], []
    for k, addr in enumerate(workers):
        a, b = cuts[k], cuts[k + 1]
        fx = client.scatter(X[a:b], workers=[addr], direct=True)
        fy = client.scatter(y[a:b], workers=[addr], direct=True)
        xs.append(da.from_delayed(fx, shape=(b - a, X.shape[1]), dtype=X.dtype))
        ys.append(da.from_delayed(fy, shape=(b - a,), dtype=y.dtype))
    return da.concatenate(xs), da.concatenate(ys)


def run(
    rows: list[int],
    n_features: int,
    stages: int,
    subsample: float,
    repeat: int,
    local_n_jobs: int | None,
    direct: bool = False,
) -> dict:
    """Per row count: the local fits (a child process, ``local_n_jobs`` threads), then the
    distributed ones (2 worker processes x 1 thread); see the module docstring."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import dask.array as da
    import distributed

    from natgrad.dask import DaskNGBoostRegressor
    from natgrad.dask._cluster import ActorPool

    params = {"learning_rate": 0.1, "max_depth": 3, "subsample": subsample, "random_state": 0}
    out: dict = {
        "stages": stages, "features": n_features, "subsample": subsample, "repeat": repeat,
        "local_n_jobs": local_n_jobs, "direct_to_workers": direct, "sizes": [],
    }  # fmt: skip
    spawn = multiprocessing.get_context("spawn")
    local_runs = {}
    for n in rows:
        # The local fits run in a process of their own, before the cluster starts: with a
        # Dask client's threads in the process, numba's parallel loops ran many times slower
        # on this loaded machine.
        with ProcessPoolExecutor(1, mp_context=spawn) as pool:
            local_runs[n] = pool.submit(
                _local_fits, n, n_features, stages, {**params, "n_jobs": local_n_jobs}, repeat
            ).result()
        print(json.dumps({"rows": n, "local_fit_s": local_runs[n]["fit_s"]}), flush=True)
    # The distributed fit's rounds, timestamped: a stage starts with its "begin" round.
    rounds: list[tuple[str, float]] = []
    call = ActorPool.call

    def timed(pool, method, *args):
        rounds.append((method, time.perf_counter()))
        return call(pool, method, *args)

    ActorPool.call = timed  # type: ignore[method-assign]
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
        env={"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    # Without direct_to_workers (Dask's default), each actor call passes through the scheduler.
    client = distributed.Client(cluster, direct_to_workers=direct)
    try:
        # Warm-up: compile (or load) every kernel on both sides (client and workers).
        Xw, yw = make_data(2000, n_features, seed=1)
        DaskNGBoostRegressor(n_estimators=3, **params).fit(
            da.from_array(Xw, chunks=(1000, -1)), da.from_array(yw, chunks=1000), client=client
        )
        latency = round_latency(client)
        out["round_latency_ms"] = 1e3 * latency
        for n in rows:
            X, y = make_data(n, n_features)
            Xd, yd = _dask_data(client, X, y)
            X_check = X[: min(n, CHECK_ROWS)]
            del X, y
            fit_s, stage_s = [], []
            for _ in range(repeat):
                rounds.clear()
                t0 = time.perf_counter()
                model = DaskNGBoostRegressor(n_estimators=stages, **params).fit(
                    Xd, yd, client=client
                )
                end = time.perf_counter()
                fit_s.append(end - t0)
                starts = [t for method, t in rounds if method == "begin"]
                stage_s += _stage_intervals(starts, [t for m, t in rounds if m == "end"][-1])
            local = local_runs.pop(n)
            per_local = float(np.median(local["stage_s"]))
            per_dist = float(np.median(stage_s))
            diff = float(np.max(np.abs(local["predictions"] - model.to_local().predict(X_check))))
            n_rounds = float(model.rounds_per_stage_)
            size = {
                "rows": n,
                "workers": model.n_workers_,
                "local_ms_per_stage": 1e3 * per_local,
                "dask_ms_per_stage": 1e3 * per_dist,
                "overhead_ms_per_stage": 1e3 * (per_dist - per_local),
                "local_ms_per_stage_quartiles": [
                    1e3 * float(q) for q in np.percentile(local["stage_s"], [25, 75])
                ],
                "dask_ms_per_stage_quartiles": [
                    1e3 * float(q) for q in np.percentile(stage_s, [25, 75])
                ],
                "rounds_per_stage": n_rounds,
                "rounds_x_latency_ms": 1e3 * n_rounds * latency,
                "local_fit_s": local["fit_s"],
                "dask_fit_s": fit_s,
                "max_abs_prediction_difference": diff,
                "load_average": os.getloadavg(),
            }
            out["sizes"].append(size)
            print(json.dumps(size), flush=True)
            del Xd, yd, model
    finally:
        ActorPool.call = call  # type: ignore[method-assign]
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
            f"n={n:>9,}: median stage: local {size['local_ms_per_stage']:8.1f} ms, dask "
            f"{size['dask_ms_per_stage']:8.1f} ms, overhead "
            f"{size['overhead_ms_per_stage']:7.1f} ms = R x L "
            f"({size['rounds_per_stage']:.0f} x {result['round_latency_ms']:.2f}) "
            f"{size['rounds_x_latency_ms']:.1f} ms + other {rest:.1f} ms; "
            f"local work {per_row_ns:.1f} ns/row/stage on 2 cores; "
            f"max |prediction difference| {size['max_abs_prediction_difference']:.1e}; "
            f"whole fits (s): local {_seconds(size['local_fit_s'])}, dask "
            f"{_seconds(size['dask_fit_s'])}"
        )
        if size["overhead_ms_per_stage"] > 0:
            # W machines like this one take (1 - 1/W) of the local per-row work off the
            # client's machine; it pays once that exceeds the overhead.
            lines.append(
                f"    pays on 2 machines above {break_even_rows(size, 2):,.0f} rows "
                f"(overhead / ((1 - 1/2) x {per_row_ns:.1f} ns/row))"
            )
    return lines


def _seconds(times: list[float]) -> str:
    return "/".join(f"{t:.2f}" for t in times)


def break_even_rows(size: dict, machines: int) -> float:
    """Rows above which ``machines`` machines like this one fit a stage faster than one:
    overhead / ((1 - 1/W) x local time per row), with this size's measured terms."""
    per_row_ms = size["local_ms_per_stage"] / size["rows"]
    return size["overhead_ms_per_stage"] / ((1.0 - 1.0 / machines) * per_row_ms)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--stages", type=int, default=30)
    parser.add_argument("--subsample", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=2, help="each fit's time: least of N")
    parser.add_argument("--local-n-jobs", type=int, default=None, help="the local fit's n_jobs")
    parser.add_argument(
        "--direct",
        action="store_true",
        help="Client(direct_to_workers=True): rounds skip the scheduler",
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/dask_scale.json"))
    args = parser.parse_args(argv)
    result = run(
        args.rows,
        args.features,
        args.stages,
        args.subsample,
        args.repeat,
        args.local_n_jobs,
        args.direct,
    )
    result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    result["load_average"] = os.getloadavg()
    result["command"] = " ".join(
        ["python -m benchmarks.dask_scale", *(sys.argv[1:] if argv is None else argv)]
    )
    for line in cost_model(result):
        print(line)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
