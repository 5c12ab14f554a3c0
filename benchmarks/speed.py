"""Fit-time benchmark: natgrad vs NGBoost vs LightGBM, in one process (DESIGN.md protocol).

The same model on every side: Normal, log score, depth-3 trees, learning rate 0.01, a fixed
number of stages, no early stopping, all rows every stage. natgrad's and LightGBM's fit
time is the median of ``--repeats`` runs after one warm-up fit (natgrad's compiled code is
compiled by then; the first-call time is reported separately), taken just before and just
after each NGBoost fit; the ratios are per round (``--ngboost-repeats`` rounds, one NGBoost
fit each) and their median is reported. Ratios, not seconds, are the result: the machines
are shared and noisy.

Run: ``python -m benchmarks.speed`` (needs the ``bench`` extra: ngboost, lightgbm).
``--natgrad-max-depth``, ``--natgrad-subsample`` and ``--lightgbm-max-depth`` time other
models than the protocol's, e.g. natgrad's defaults against LightGBM's trees of that size.
``--under-load [N]``: the same natgrad model with N CPU-bound processes beside it (default
2): its default fit against a one-thread fit (``n_jobs=1``) and against NGBoost.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from functools import partial
from pathlib import Path

import numpy as np

from benchmarks._timing import ngboost_tree, repeat_times
from benchmarks._uci import load_split


def bench_dataset(
    name: str,
    n_stages: int,
    repeats: int,
    ngboost_repeats: int,
    natgrad_depth: int = 3,
    natgrad_subsample: float = 1.0,
    lightgbm_depth: int = 3,
) -> dict:
    import lightgbm
    from ngboost import NGBRegressor
    from ngboost.distns import Normal as NGBNormal
    from sklearn.tree import DecisionTreeRegressor

    from natgrad import NGBoostRegressor

    split = load_split(name, 0)
    X, y = split.X_train, split.y_train
    result: dict = {
        "dataset": name,
        "n_rows": int(X.shape[0]),
        "n_features": int(X.shape[1]),
        "natgrad_max_depth": natgrad_depth,
        "natgrad_subsample": natgrad_subsample,
        "lightgbm_max_depth": lightgbm_depth,
    }

    def natgrad_fit(rule: str) -> None:
        NGBoostRegressor(
            n_estimators=n_stages,
            learning_rate=0.01,
            max_depth=natgrad_depth,  # the protocol: 3, as NGBoost's trees
            leaf_rule=rule,
            subsample=natgrad_subsample,  # the protocol: all rows every stage, as NGBoost
        ).fit(X, y)

    def lgbm_fit() -> None:
        lightgbm.LGBMRegressor(
            n_estimators=n_stages,
            learning_rate=0.01,
            max_depth=lightgbm_depth,
            num_leaves=2**lightgbm_depth,
            min_child_samples=1,
            min_child_weight=0.0,
            verbose=-1,
        ).fit(X, y)

    def ngboost_fit() -> None:
        base = DecisionTreeRegressor(criterion="friedman_mse", max_depth=3)
        NGBRegressor(
            Dist=NGBNormal,
            Base=base,
            n_estimators=n_stages,
            learning_rate=0.01,
            natural_gradient=True,
            minibatch_frac=1.0,
            col_sample=1.0,
            verbose=False,
        ).fit(X, y)

    rules = ("fisher", "ngboost")
    for rule in rules:  # warm-up: natgrad's compiled code compiled, its time reported
        result[f"natgrad_{rule}_first_call"] = repeat_times(partial(natgrad_fit, rule), 1)[0]
    repeat_times(lgbm_fit, 1)

    def fast_sides() -> dict[str, float]:
        out = {f"natgrad_{r}": statistics.median(repeat_times(partial(natgrad_fit, r), repeats))
               for r in rules}  # fmt: skip
        out["lightgbm"] = statistics.median(repeat_times(lgbm_fit, repeats))
        return out

    # Rounds: each NGBoost fit is bracketed by natgrad and LightGBM fits just before and just
    # after it, and a round's ratios use the mean of the two brackets. The shared machine
    # has slow phases of minutes; a ratio of times taken minutes apart can move by 1.5x.
    rounds = []
    for _ in range(ngboost_repeats):
        before = fast_sides()
        ngb = repeat_times(ngboost_fit, 1)[0]
        after = fast_sides()
        row = {"ngboost": ngb, "before": before, "after": after}
        for key in before:
            row[key] = 0.5 * (before[key] + after[key])
        for rule in rules:
            t = row[f"natgrad_{rule}"]
            row[f"speedup_vs_ngboost_{rule}"] = ngb / t
            row[f"ratio_to_lightgbm_{rule}"] = t / row["lightgbm"]
        rounds.append(row)
    result["rounds"] = rounds
    keys = ["ngboost", "lightgbm"] + [f"natgrad_{r}" for r in rules]
    keys += [f"{k}_{r}" for k in ("speedup_vs_ngboost", "ratio_to_lightgbm") for r in rules]
    for key in keys:  # medians over rounds
        result[key] = statistics.median(row[key] for row in rounds)
    return result


def busy_processes(n: int) -> list[subprocess.Popen]:
    """``n`` CPU-bound processes (``while True: pass``), the load of a busy machine."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def bench_under_load(name: str, n_stages: int, repeats: int, n_busy: int) -> dict:
    """natgrad's default fit against one thread and against NGBoost, with ``n_busy``
    CPU-bound processes beside it (started after the warm-up, stopped at the end).

    Rounds as in `bench_dataset`: each NGBoost fit is bracketed by natgrad fits (the default
    ``n_jobs=None``, ``n_jobs=1`` and ``n_jobs=-1``, all of numba's threads: the behaviour
    before ``n_jobs``), medians of ``repeats`` each, just before and just after it (in the
    reverse order after). The ratios are taken within each round and their median over the
    rounds is reported, so that a slow stretch of the machine falls on both sides of a ratio.
    """
    from ngboost import NGBRegressor
    from ngboost.distns import Normal as NGBNormal

    from natgrad import NGBoostRegressor

    split = load_split(name, 0)
    X, y = split.X_train, split.y_train

    def natgrad_fit(n_jobs: int | None) -> None:
        NGBoostRegressor(
            n_estimators=n_stages, learning_rate=0.01, max_depth=3, subsample=1.0, n_jobs=n_jobs
        ).fit(X, y)

    def ngboost_fit() -> None:
        NGBRegressor(
            Dist=NGBNormal, Base=ngboost_tree(1), n_estimators=n_stages, learning_rate=0.01,
            natural_gradient=True, verbose=False,
        ).fit(X, y)  # fmt: skip

    jobs = {"default": None, "one_thread": 1, "all_threads": -1}
    for n_jobs in jobs.values():  # warm-up on the quiet machine: compiled code compiled
        natgrad_fit(n_jobs)
    quiet = {k: statistics.median(repeat_times(partial(natgrad_fit, j), repeats))
             for k, j in jobs.items()}  # fmt: skip
    procs = busy_processes(n_busy)
    try:
        rounds = []
        for _ in range(repeats):
            before = {k: statistics.median(repeat_times(partial(natgrad_fit, j), repeats))
                      for k, j in jobs.items()}  # fmt: skip
            ngb = repeat_times(ngboost_fit, 1)[0]
            # The reverse order after NGBoost's fit: each setting's mean of before and after
            # sits at the same distance from it, so a drift of the load favours none.
            after = {k: statistics.median(repeat_times(partial(natgrad_fit, j), repeats))
                     for k, j in reversed(jobs.items())}  # fmt: skip
            row = {k: 0.5 * (before[k] + after[k]) for k in jobs}
            row["ngboost"] = ngb
            rounds.append(row)
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
    result: dict = {"dataset": name, "n_rows": int(X.shape[0]), "n_busy": n_busy}
    result["quiet"] = quiet
    result["rounds"] = rounds
    for key in (*jobs, "ngboost"):
        result[key] = statistics.median(row[key] for row in rounds)

    # Ratios paired within a round (the same stretch of load), then the median over rounds.
    def ratio(num: str, den: str) -> float:
        return statistics.median(row[num] / row[den] for row in rounds)

    result["default_over_one_thread"] = ratio("default", "one_thread")
    result["all_threads_over_one_thread"] = ratio("all_threads", "one_thread")
    result["ngboost_over_default"] = ratio("ngboost", "default")
    result["quiet_default_over_all_threads"] = quiet["default"] / quiet["all_threads"]
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["kin8nm", "protein-tertiary-structure"])
    parser.add_argument("--stages", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ngboost-repeats", type=int, default=1)
    parser.add_argument(
        "--natgrad-max-depth",
        type=int,
        default=3,
        help="natgrad's tree depth (the protocol: 3, NGBoost's; NGBoost and LightGBM keep 3)",
    )
    parser.add_argument(
        "--lightgbm-max-depth",
        type=int,
        default=3,
        help="LightGBM's tree depth, 2**depth leaves (the protocol: 3; give natgrad's depth "
        "for trees of the same size)",
    )
    parser.add_argument(
        "--natgrad-subsample",
        type=float,
        default=1.0,
        help="natgrad's row subsample per stage (the protocol: 1.0, all rows)",
    )
    parser.add_argument(
        "--under-load",
        type=int,
        nargs="?",
        const=2,
        default=0,
        metavar="N",
        help="with N CPU-bound processes beside the fits (default 2): natgrad's default fit "
        "against one thread and against NGBoost (--datasets, --stages, --repeats apply)",
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.under_load:
        out = args.out or Path("benchmarks/results/speed_under_load.json")
        loaded = []
        for name in args.datasets:
            row = bench_under_load(name, args.stages, args.repeats, args.under_load)
            loaded.append(row)
            print(
                f"{name:28s} {args.under_load} busy processes: default/one-thread "
                f"{row['default_over_one_thread']:5.2f}x  all-threads/one-thread "
                f"{row['all_threads_over_one_thread']:5.2f}x  NGBoost/natgrad-default "
                f"{row['ngboost_over_default']:6.1f}x  |  quiet: default/all-threads "
                f"{row['quiet_default_over_all_threads']:5.2f}x",
                flush=True,
            )
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"stages": args.stages, "results": loaded}, indent=2) + "\n")
        print(f"wrote {out}")
        return
    args.out = args.out or Path("benchmarks/results/speed.json")

    rows = []
    for name in args.datasets:
        row = bench_dataset(
            name,
            args.stages,
            args.repeats,
            args.ngboost_repeats,
            args.natgrad_max_depth,
            args.natgrad_subsample,
            args.lightgbm_max_depth,
        )
        rows.append(row)
        print(
            f"{name:28s} rows={row['n_rows']:6d}  "
            f"NGBoost/natgrad: fisher {row['speedup_vs_ngboost_fisher']:7.1f}x  "
            f"ngboost-rule {row['speedup_vs_ngboost_ngboost']:7.1f}x  |  "
            f"natgrad/LightGBM: fisher {row['ratio_to_lightgbm_fisher']:5.2f}x  "
            f"ngboost-rule {row['ratio_to_lightgbm_ngboost']:5.2f}x  |  "
            f"first call {row['natgrad_fisher_first_call']:.2f}s",
            flush=True,
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"stages": args.stages, "results": rows}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
