"""Scale benchmark: synthetic heteroscedastic data, Normal, 500 stages, growing row counts.

Each size runs in a fresh subprocess so that its peak resident memory (``ru_maxrss``) is its
own. Reports fit time, time per stage and per million rows, and peak memory; the time
should grow about linearly with the number of rows.

Run: ``python -m benchmarks.scale [--rows 100000 1000000 10000000] [--stages 500]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path


def make_data(n_rows: int, n_features: int, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n_rows, n_features)).astype(np.float64)
    loc = np.sin(3.0 * X[:, 0]) + X[:, 1] - 0.5 * X[:, 2] * X[:, 3]
    scale = 0.1 + 0.5 * np.abs(X[:, 4]) + 0.2 * (X[:, 5] > 0)
    y = loc + scale * rng.standard_normal(n_rows)
    return X, y


def run_one(n_rows: int, n_features: int, stages: int) -> dict:
    import resource
    import time

    from natgrad import NGBoostRegressor

    X, y = make_data(n_rows, n_features)
    start = time.perf_counter()
    # All rows every stage (the speed protocol), so that the time grows with the rows.
    model = NGBoostRegressor(
        n_estimators=stages, learning_rate=0.1, max_depth=3, subsample=1.0
    ).fit(X, y)
    seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    data_mib = (X.nbytes + y.nbytes) / 2**20
    return {
        "rows": n_rows,
        "features": n_features,
        "stages": stages,
        "seconds": seconds,
        "seconds_per_stage": seconds / stages,
        "seconds_per_stage_per_million_rows": seconds / stages / (n_rows / 1e6),
        "peak_rss_mib": peak_mib,
        "input_data_mib": data_mib,
        "final_train_nll": float(model.train_loss_[-1]),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--stages", type=int, default=500)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/scale.json"))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(run_one(args.rows[0], args.features, args.stages)))
        return

    # Warm the compile cache once so that no size pays for compilation.
    subprocess.run(
        [sys.executable, "-m", "benchmarks.scale", "--child", "--rows", "2000", "--stages", "3"],
        check=True,
        capture_output=True,
    )
    rows = []
    for n in args.rows:
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.scale",
            "--child",
            "--rows",
            str(n),
            "--features",
            str(args.features),
            "--stages",
            str(args.stages),
        ]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(
            f"rows={n:>10,d}  fit {row['seconds']:8.1f}s  per stage {row['seconds_per_stage']:.4f}s"
            f"  per stage per 1M rows {row['seconds_per_stage_per_million_rows']:.4f}s"
            f"  peak RSS {row['peak_rss_mib']:8.0f} MiB"
            f" (input data {row['input_data_mib']:.0f} MiB)",
            flush=True,
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"results": rows}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
