"""First-fit benchmark: ``natgrad fit`` on the shipped data, with an empty and a warm cache.

Runs the command line's default fit (``natgrad fit --out DIR``: the shipped concrete data,
1000 stages at most with early stopping, the report included) twice in fresh subprocesses
that share one new, empty numba cache folder (``NUMBA_CACHE_DIR``): the first run compiles
natgrad's kernels (cold), the second loads them from the cache (warm). Prints, for each run,
the wall-clock and CPU seconds of the command, the seconds spent in numba's compiler
(compiling, or loading from the cache), and the machine load (``os.getloadavg``) before and
after; then the cold run's compile time per natgrad kernel. CPU seconds are the figure to
compare on a shared machine: compilation is single-threaded, so on an idle machine wall and
CPU agree, while under load the wall clock also counts the time other processes held the
cores.

With ``--signatures``, the argument types of every natgrad kernel compiled more than once
(each signature is a compilation of its own: literal arguments, omitted defaults and array
layouts each make one).

Run: ``python -m benchmarks.first_fit [--top 15] [--signatures] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _child(result_path: str, out_dir: str) -> None:
    """Run ``natgrad fit --out out_dir`` in this process, recording numba's compilations."""
    import resource

    wall0, cpu0 = time.perf_counter(), time.process_time()
    from numba.core import event

    records: list[dict] = []

    class _Recorder(event.Listener):
        # Compilations nest (a kernel compiles its callees): each record keeps its own
        # time less its nested compilations', so that the records add up.
        def __init__(self) -> None:
            self.stack: list[list] = []

        def on_start(self, ev: event.Event) -> None:
            func = ev.data["dispatcher"].py_func
            name = f"{func.__module__}.{func.__qualname__}"
            # numba's own library functions are charged to the natgrad kernel compiling them.
            owner = name if name.startswith("natgrad.") or not self.stack else self.stack[-1][4]
            self.stack.append([time.perf_counter(), time.process_time(), 0.0, 0.0, owner])

        def on_end(self, ev: event.Event) -> None:
            w0, c0, child_w, child_c, owner = self.stack.pop()
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            if self.stack:
                self.stack[-1][2] += wall
                self.stack[-1][3] += cpu
            disp = ev.data["dispatcher"]
            func = disp.py_func
            records.append(
                {
                    "name": f"{func.__module__}.{func.__qualname__}",
                    "owner": owner,
                    "top": not self.stack,
                    "wall": wall,
                    "cpu": cpu,
                    "self_cpu": cpu - child_c,
                    "cache_hits": int(sum(getattr(disp, "_cache_hits", {}).values())),
                    "signature": ", ".join(str(a) for a in ev.data.get("args", ())),
                }
            )

    event.register("numba:compile", _Recorder())
    from natgrad.cli import main

    start_wall, start_cpu = time.perf_counter(), time.process_time()
    try:
        main(["fit", "--out", out_dir], standalone_mode=False)
    except SystemExit as exc:  # click's exit on an error
        if exc.code:
            raise
    fit_wall, fit_cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
    top = [r for r in records if r["top"]]
    summary = {
        "process_wall": time.perf_counter() - wall0,
        "process_cpu": time.process_time() - cpu0,
        "fit_wall": fit_wall,
        "fit_cpu": fit_cpu,
        "compile_wall": sum(r["wall"] for r in top),
        "compile_cpu": sum(r["cpu"] for r in top),
        "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "records": records,
    }
    Path(result_path).write_text(json.dumps(summary))


def run_once(cache: Path, work: Path, label: str) -> dict:
    """One ``natgrad fit`` in a fresh subprocess with ``NUMBA_CACHE_DIR=cache``."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    result = work / f"{label}.json"
    load_before = os.getloadavg()
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "benchmarks.first_fit", "--child", str(result),
         str(work / f"out-{label}")],
        cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    out = json.loads(result.read_text())
    out["subprocess_wall"] = time.perf_counter() - start
    out["load_before"] = load_before
    out["load_after"] = os.getloadavg()
    return out


def per_kernel(records: list[dict], top: int) -> list[tuple[str, float, int]]:
    """natgrad's kernels by their own compile CPU seconds, numba's library functions that
    they compiled included: (name, seconds, compilations of the kernel itself)."""
    totals: dict[str, list[float]] = {}
    for r in records:
        entry = totals.setdefault(r["owner"], [0.0, 0])
        entry[0] += r["self_cpu"]
        entry[1] += r["name"] == r["owner"]
    rows = sorted(((k, v[0], int(v[1])) for k, v in totals.items()), key=lambda t: -t[1])
    return rows[:top]


def repeated(records: list[dict]) -> dict[str, list[str]]:
    """The argument types of each natgrad kernel compiled more than once, by kernel."""
    found: dict[str, list[str]] = {}
    for r in records:
        if r["name"].startswith("natgrad."):
            found.setdefault(r["name"], []).append(r.get("signature", ""))
    return {name: sigs for name, sigs in sorted(found.items()) if len(sigs) > 1}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=15, help="Kernels listed (default 15).")
    parser.add_argument("--json", type=Path, help="Also write the results to this file.")
    parser.add_argument(
        "--signatures", action="store_true", help="List the kernels compiled more than once."
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child)
        return {}
    with tempfile.TemporaryDirectory(prefix="natgrad-first-fit-") as tmp:
        work = Path(tmp)
        cache = work / "numba-cache"  # new and empty: nothing compiled yet
        runs = {label: run_once(cache, work, label) for label in ("cold", "warm")}
    print("natgrad fit --out DIR (shipped data, CLI defaults), NUMBA_CACHE_DIR empty at first")
    print(f"{'run':<5} {'wall s':>8} {'CPU s':>8} {'compile wall s':>15} {'compile CPU s':>14}"
          f"  load (1 min) before/after")  # fmt: skip
    for label, r in runs.items():
        print(
            f"{label:<5} {r['subprocess_wall']:8.1f} {r['process_cpu']:8.1f} "
            f"{r['compile_wall']:15.1f} {r['compile_cpu']:14.1f}  "
            f"{r['load_before'][0]:.1f} / {r['load_after'][0]:.1f}"
        )
    print(f"\nCold run, compile CPU seconds per natgrad kernel (top {args.top}):")
    for name, seconds, count in per_kernel(runs["cold"]["records"], args.top):
        print(f"{seconds:8.1f}  {name}" + (f"  ({count} signatures)" if count > 1 else ""))
    if args.signatures:
        print("\nCold run, natgrad kernels compiled more than once (argument types):")
        for name, signatures in repeated(runs["cold"]["records"]).items():
            print(f"{name}:")
            for sig in signatures:
                print(f"    ({sig})")
    if args.json:
        slim = {k: {kk: vv for kk, vv in v.items() if kk != "records"} for k, v in runs.items()}
        slim["cold"]["kernels"] = per_kernel(runs["cold"]["records"], 10**6)
        slim["cold"]["repeated"] = repeated(runs["cold"]["records"])
        args.json.write_text(json.dumps(slim, indent=2) + "\n")
    return runs


if __name__ == "__main__":
    main()
