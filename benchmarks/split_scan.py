"""The split search of this tree against another commit's, in one process.

Copies the histogram engine's modules (``src/natgrad/boosting/_hist/*.py``) of the working
tree and of commit ``--against`` into two throw-away packages, builds node histograms of
kin8nm (split 0, training rows; Normal gradients and Fisher blocks with random positive
weights, a dense p = 2 metric; 5% of one feature missing) for the root and three smaller
nodes, checks that both ``find_best_split`` give bit-identical results (gain, feature, bin,
missing side, left sums, per-parameter gains, also under finite monotone bounds), then times
them in interleaved rounds and prints this tree's time over the other's, per path: the matrix
scan (with and without leaf prior), the monotone-constrained scans and the scalar scan.

Times are CPU time of the process (``time.process_time``), so that other processes on a
shared machine disturb them less than wall time; set ``NUMBA_NUM_THREADS=1``. Both kernels
get instances of one ``SplitParams`` class: given two classes of the same fields, numba's
dispatcher types one of them by a slow path on every call (about 200 µs).

Run: ``NUMBA_NUM_THREADS=1 python -m benchmarks.split_scan --against main``
(compiles both engines first: a minute or two).
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._uci import load_split

_ROOT = Path(__file__).resolve().parents[1]
_HIST = "src/natgrad/boosting/_hist"


def _package(folder: Path, name: str, files: dict[str, str]) -> Any:
    (folder / name).mkdir()
    for file, text in files.items():
        (folder / name / file).write_text(text)
    return importlib.import_module(f"{name}.splitting"), importlib.import_module(f"{name}.common")


def _files_at(rev: str) -> dict[str, str]:
    listing = subprocess.run(
        ["git", "ls-tree", "--name-only", f"{rev}:{_HIST}"],
        cwd=_ROOT, check=True, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    show = ["git", "show"]
    return {
        name: subprocess.run(
            [*show, f"{rev}:{_HIST}/{name}"], cwd=_ROOT, check=True, capture_output=True, text=True
        ).stdout
        for name in listing
        if name.endswith(".py")
    }


def _histograms(rng: np.random.Generator) -> tuple[dict[str, list[np.ndarray]], np.ndarray]:
    data = load_split("kin8nm", 0)
    X, y = data.X_train, data.y_train
    n, d = X.shape
    bins = np.empty((n, d), dtype=np.uint8)
    n_bins = np.empty(d, dtype=np.int32)
    for f in range(d):
        edges = np.unique(np.quantile(X[:, f], np.linspace(0, 1, 256)[1:-1]))
        bins[:, f] = np.searchsorted(edges, X[:, f], side="left")
        n_bins[f] = len(edges) + 1
    bins[rng.random(n) < 0.05, 1] = 255  # the missing-value bin
    mu = y.mean() + 0.3 * (y - y.mean()) + 0.05 * rng.normal(size=n)
    sigma = y.std() * np.exp(0.1 * rng.normal(size=n))
    w = rng.uniform(0.5, 1.5, size=n)
    r = (y - mu) / sigma
    g = np.column_stack([-r / sigma, 1 - r * r]) * w[:, None]
    metric = np.column_stack([w / sigma**2, 0.1 * w / sigma, 2.0 * w])  # packed, dense
    channels = {
        "matrix": np.column_stack([g, metric, np.ones(n)]),
        "scalar": np.column_stack([g, w, np.ones(n)]),
    }
    perm = rng.permutation(n)
    nodes = [perm, perm[: n // 2], perm[: n // 8], perm[: n // 64]]
    hists: dict[str, list[np.ndarray]] = {}
    for kind, vals in channels.items():
        hists[kind] = []
        for rows in nodes:
            h = np.zeros((d, 256, vals.shape[1]))
            for f in range(d):
                for k in range(vals.shape[1]):
                    h[f, :, k] = np.bincount(bins[rows, f], weights=vals[rows, k], minlength=256)
            hists[kind].append(h)
    return hists, n_bins


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", default="main", help="commit to compare with")
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--reps", type=int, default=10)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    hists, n_bins = _histograms(rng)
    d = n_bins.size
    none = np.zeros((0, 2), dtype=np.int8)
    mono = np.zeros((d, 2), dtype=np.int8)
    mono[0, 0], mono[3, 1] = 1, -1
    cases = [
        ("matrix p=2", "matrix", True, none, 0.0),
        ("matrix p=2, leaf prior", "matrix", True, none, 2.0),
        ("matrix p=2, monotone", "matrix", True, mono, 0.0),
        ("scalar p=2, monotone", "scalar", False, mono, 0.0),
        ("scalar p=2", "scalar", False, none, 0.0),
    ]
    with tempfile.TemporaryDirectory() as folder:
        sys.path.insert(0, folder)
        current_files = {p.name: p.read_text() for p in (_ROOT / _HIST).glob("*.py")}
        this, _ = _package(Path(folder), "bench_this_hist", current_files)
        other, common = _package(Path(folder), "bench_other_hist", _files_at(args.against))
        features = np.arange(d, dtype=np.int32)
        free = np.full(2, -np.inf), np.full(2, np.inf)
        bounded = np.array([-1e9, -np.inf]), np.full(2, np.inf)

        parents = {id(h): h[0].sum(axis=0) for hs in hists.values() for h in hs}

        def call(fn: Any, sp: Any, h: np.ndarray, bounds: tuple) -> tuple:
            left, gains = np.empty(h.shape[2]), np.empty(2)
            out = fn(h, features, parents[id(h)], *bounds, left, gains, sp)
            return out, left, gains

        print(f"this tree / {args.against}, CPU time, median (min) of {args.rounds} rounds")
        for label, kind, matrix, sign, prior in cases:
            sp = common.SplitParams(
                p=2, matrix=matrix, l2=0.0, prior=prior, min_samples_leaf=5, min_gain=-np.inf,
                n_bins_non_missing=n_bins, missing_bin=255, sign=sign,
                diag_map=np.zeros(0, np.int64), diag_const=np.zeros(0),
            )  # fmt: skip
            for h in hists[kind]:
                for bounds in (free, bounded) if sign.shape[0] else (free,):
                    a = call(other.find_best_split, sp, h, bounds)
                    b = call(this.find_best_split, sp, h, bounds)
                    same = a[0] == b[0] and all(
                        np.array_equal(x, y) for x, y in zip(a[1:], b[1:], strict=True)
                    )
                    if not same:
                        raise SystemExit(f"{label}: results differ: {a} != {b}")
            times: dict[str, list[float]] = {"this": [], "other": []}
            for r in range(args.rounds):
                for who in ("this", "other") if r % 2 == 0 else ("other", "this"):
                    fn = (this if who == "this" else other).find_best_split
                    start = time.process_time()
                    for _ in range(args.reps):
                        for h in hists[kind]:
                            call(fn, sp, h, free)
                    times[who].append((time.process_time() - start) / args.reps)
            ratio = np.median(times["this"]) / np.median(times["other"])
            ratio_min = np.min(times["this"]) / np.min(times["other"])
            ms = 1e3 * np.median(times["other"])
            print(f"  {label:24s} {ratio:.3f} ({ratio_min:.3f})   {args.against}: {ms:.3f} ms")
        print("results bit-identical on every node")


if __name__ == "__main__":
    main()
