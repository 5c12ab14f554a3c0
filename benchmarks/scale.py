"""Scale benchmark: synthetic heteroscedastic data, Normal, 500 stages, growing row counts.

Each size runs in a fresh subprocess so that its peak resident memory (``ru_maxrss``) is its
own. Reports fit time, time per stage and per million rows, peak memory, and the fit's own
memory per row: the peak resident memory during ``fit`` minus the resident memory just
before it (the interpreter, the libraries and the caller's X and y), divided by the rows
(Linux: the peak is reset through ``/proc/self/clear_refs`` before the fit). The time should
grow about linearly with the number of rows.

``--dtype float32`` passes X as float32, ``--memmap`` as a memory-mapped file (its pages
that the fit reads count as the file's, not the fit's: the growth of the file-backed
resident memory is subtracted).

Run: ``python -m benchmarks.scale [--rows 100000 1000000 10000000] [--stages 500]
[--dtype float64|float32] [--memmap]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path


def make_data(n_rows: int, n_features: int, seed: int = 0, dtype: str = "float64"):
    import numpy as np

    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n_rows, n_features)).astype(dtype)
    loc = np.sin(3.0 * X[:, 0]) + X[:, 1] - 0.5 * X[:, 2] * X[:, 3]
    scale = 0.1 + 0.5 * np.abs(X[:, 4]) + 0.2 * (X[:, 5] > 0)
    y = loc + scale * rng.standard_normal(n_rows)
    return X, y


def _status_kib() -> dict[str, int]:
    """VmRSS, VmHWM (peak), RssFile of this process in KiB (Linux), else empty."""
    try:
        with open("/proc/self/status") as f:
            lines = f.read().splitlines()
    except OSError:
        return {}
    out = {}
    for line in lines:
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssFile"):
            out[key] = int(value.split()[0])
    return out


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current resident size
    except OSError:
        return False
    return True


def run_one(
    n_rows: int, n_features: int, stages: int, dtype: str = "float64", memmap: Path | None = None
) -> dict:
    import resource
    import time

    import numpy as np

    from natgrad import NGBoostRegressor

    X, y = make_data(n_rows, n_features, dtype=dtype)
    if memmap is not None:
        mm = np.lib.format.open_memmap(memmap, mode="w+", dtype=X.dtype, shape=X.shape)
        mm[:] = X
        mm.flush()
        del X, mm
        X = np.load(memmap, mmap_mode="r")
    # A small fit first: the compiled kernels' code is loaded before the measurement, so
    # that the fit's own memory is its arrays, not code loaded once per process.
    X_small, y_small = make_data(2000, n_features, seed=1, dtype=dtype)
    NGBoostRegressor(n_estimators=2, learning_rate=0.1, max_depth=3, subsample=1.0).fit(
        X_small, y_small
    )
    del X_small, y_small
    before = _status_kib()
    measured = _reset_peak() and "VmHWM" in before
    start = time.perf_counter()
    # All rows every stage (the speed protocol), so that the time grows with the rows.
    model = NGBoostRegressor(
        n_estimators=stages, learning_rate=0.1, max_depth=3, subsample=1.0
    ).fit(X, y)
    seconds = time.perf_counter() - start
    after = _status_kib()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    data_mib = (X.nbytes + y.nbytes) / 2**20
    fit_bytes_per_row = float("nan")
    if measured:
        # The file's pages the fit read are the caller's X, not the fit's memory.
        file_kib = after["RssFile"] - before["RssFile"] if memmap is not None else 0
        fit_kib = after["VmHWM"] - before["VmRSS"] - file_kib
        fit_bytes_per_row = fit_kib * 1024.0 / n_rows
    return {
        "rows": n_rows,
        "features": n_features,
        "stages": stages,
        "seconds": seconds,
        "seconds_per_stage": seconds / stages,
        "seconds_per_stage_per_million_rows": seconds / stages / (n_rows / 1e6),
        "peak_rss_mib": peak_mib,
        "input_data_mib": data_mib,
        "input": "memmap" if memmap is not None else "array",
        "dtype": dtype,
        "fit_bytes_per_row": fit_bytes_per_row,
        "final_train_nll": float(model.train_loss_[-1]),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--stages", type=int, default=500)
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument("--memmap", action="store_true", help="pass X as a memory-mapped .npy file")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/scale.json"))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--memmap-path", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        row = run_one(args.rows[0], args.features, args.stages, args.dtype, args.memmap_path)
        print(json.dumps(row))
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
            "--dtype",
            args.dtype,
        ]
        with tempfile.TemporaryDirectory() as tmp:
            if args.memmap:
                cmd += ["--memmap-path", str(Path(tmp) / "X.npy")]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(
            f"rows={n:>10,d}  fit {row['seconds']:8.1f}s  per stage {row['seconds_per_stage']:.4f}s"
            f"  per stage per 1M rows {row['seconds_per_stage_per_million_rows']:.4f}s"
            f"  peak RSS {row['peak_rss_mib']:8.0f} MiB"
            f" (input data {row['input_data_mib']:.0f} MiB, {args.dtype}"
            f"{' memmap' if args.memmap else ''})"
            f"  fit's own memory {row['fit_bytes_per_row']:.0f} bytes/row",
            flush=True,
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"results": rows}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
