"""GLM fit time: natgrad.glm (Fisher scoring) against statsmodels GLM and scikit-learn (lbfgs).

    python -m benchmarks.glm                       # 1e4, 1e5, 1e6 rows x 20 features
    python -m benchmarks.glm --rows 10000 --features 50 --out /tmp/glm.json

One process, the same simulated data for every library: a Poisson model with log link and a
gamma model with log link (both unpenalised, with an intercept), features ~ N(0, 1), true
coefficients ~ N(0, 0.1²). Each library runs with its default settings except what makes the
model the same (scikit-learn: ``alpha=0``, ``max_iter=1000``). Reported per size and family:
fit seconds of each library (the median of ``--repeats`` fits below 1e6 rows, one fit at
1e6), the ratios statsmodels / natgrad and scikit-learn / natgrad, iterations to convergence,
and the agreement of the coefficients with natgrad's (largest difference relative to
natgrad's standard error, and the log-likelihood difference for statsmodels). A last row fits
natgrad alone on 1e6 x 50 (``--scale-features``) for the in-memory scale the issue asks for.

BLAS runs on ``--threads`` threads (default 1) for every library, through threadpoolctl: on a
shared, loaded machine a multi-threaded BLAS spins and the timings stop meaning anything.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings
from pathlib import Path
from statistics import median
from typing import Any

import numpy as np

from natgrad import glm

FAMILIES = ("poisson", "gamma")


def simulate(family: str, n: int, p: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """X of shape (n, p) and targets of ``family`` with a log link."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    beta = 0.1 * rng.standard_normal(p)
    mu = np.exp(0.5 + X @ beta)
    if family == "poisson":
        return X, rng.poisson(mu).astype(np.float64)
    return X, rng.gamma(2.0, mu / 2.0)


def _time(fn: Any, repeats: int) -> tuple[Any, float]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return out, median(times)


def run_size(family: str, n: int, p: int, repeats: int, seed: int) -> dict[str, Any]:
    import statsmodels.api as sm
    from sklearn.linear_model import GammaRegressor, PoissonRegressor

    X, y = simulate(family, n, p, seed)
    res, t_ng = _time(lambda: glm.fit(X, y, family, link="log"), repeats)
    row: dict[str, Any] = {
        "family": family,
        "rows": n,
        "features": p,
        "natgrad_seconds": t_ng,
        "natgrad_iterations": res.n_iter,
    }
    exog = sm.add_constant(X, prepend=True)
    sm_family = (
        sm.families.Poisson() if family == "poisson" else sm.families.Gamma(sm.families.links.Log())
    )
    ref, t_sm = _time(lambda: sm.GLM(y, exog, family=sm_family).fit(), repeats)
    row["statsmodels_seconds"] = t_sm
    row["statsmodels_iterations"] = int(ref.fit_history["iteration"])
    row["statsmodels_over_natgrad"] = t_sm / t_ng
    row["statsmodels_max_diff_in_se"] = float(np.max(np.abs(ref.params - res.params) / res.bse))
    row["statsmodels_max_rel_diff"] = float(
        np.max(np.abs(ref.params - res.params) / np.abs(res.params))
    )
    row["statsmodels_llf_diff"] = float(ref.llf - res.llf)
    cls = PoissonRegressor if family == "poisson" else GammaRegressor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lbfgs may stop at max_iter on the largest size
        est, t_sk = _time(lambda: cls(alpha=0.0, max_iter=1000).fit(X, y), repeats)
    coef = np.concatenate([[est.intercept_], est.coef_])
    row["sklearn_seconds"] = t_sk
    row["sklearn_iterations"] = int(est.n_iter_)
    row["sklearn_over_natgrad"] = t_sk / t_ng
    row["sklearn_max_diff_in_se"] = float(np.max(np.abs(coef - res.params) / res.bse))
    return row


def run_scale(n: int, p: int, seed: int) -> dict[str, Any]:
    X, y = simulate("poisson", n, p, seed)
    res, seconds = _time(lambda: glm.fit(X, y, "poisson"), 1)
    return {
        "family": "poisson",
        "rows": n,
        "features": p,
        "natgrad_seconds": seconds,
        "natgrad_iterations": res.n_iter,
        "converged": bool(res.converged),
        "X_megabytes": X.nbytes / 2**20,
    }


def table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of the comparison rows."""
    head = (
        "| family | rows | natgrad s (iter) | statsmodels s (iter) | ratio | scikit-learn s (iter) "
        "| ratio | max diff statsmodels / scikit-learn (in SE) |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- |"
    )
    lines = [head]
    for r in rows:
        if "statsmodels_seconds" not in r:
            continue
        lines.append(
            f"| {r['family']} | {r['rows']:,} | {r['natgrad_seconds']:.3g} "
            f"({r['natgrad_iterations']}) | {r['statsmodels_seconds']:.3g} "
            f"({r['statsmodels_iterations']}) | {r['statsmodels_over_natgrad']:.1f}x | "
            f"{r['sklearn_seconds']:.3g} ({r['sklearn_iterations']}) | "
            f"{r['sklearn_over_natgrad']:.1f}x | {r['statsmodels_max_diff_in_se']:.1e} / "
            f"{r['sklearn_max_diff_in_se']:.1e} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--families", nargs="+", choices=FAMILIES, default=list(FAMILIES))
    parser.add_argument("--repeats", type=int, default=3, help="fits per timing below 1e6 rows")
    parser.add_argument("--scale-rows", type=int, default=1_000_000)
    parser.add_argument("--scale-features", type=int, default=50, help="0 skips the scale row")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads for every library")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/glm.json"))
    args = parser.parse_args(argv)

    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=args.threads):
        rows = _run(args)
    import sklearn
    import statsmodels

    meta = {
        "command": "python -m benchmarks.glm " + " ".join(argv or []),
        "blas_threads": args.threads,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "statsmodels": statsmodels.__version__,
        "scikit-learn": sklearn.__version__,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "results": rows}, indent=2) + "\n")
    print(table(rows))


def _run(args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    for n in args.rows:
        for family in args.families:
            repeats = 1 if n >= 1_000_000 else args.repeats
            row = run_size(family, n, args.features, repeats, args.seed)
            rows.append(row)
            print(json.dumps(row), flush=True)
    if args.scale_features > 0:
        row = run_scale(args.scale_rows, args.scale_features, args.seed)
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


if __name__ == "__main__":
    main()
