"""Multivariate normal targets: natgrad vs NGBoost's MultivariateNormal, fit time and test NLL.

Synthetic data with k-dimensional targets whose mean, scales and correlations all depend on
the features: Σ(x) = L(x) L(x)ᵀ with L lower triangular, L_ii = exp(0.3 x_(i mod d)) and
L_ij = 0.5 tanh(x_((i+j) mod d)) below the diagonal. The same model on both sides: log
score, depth-3 trees, learning rate 0.01, a fixed number of stages, no early stopping, all
rows every stage. natgrad grows one tree per stage for all k(k+3)/2 parameters; NGBoost grows
one scikit-learn tree per parameter. natgrad's fit time is the median of ``--repeats`` runs
after one warm-up fit (its first-call time is reported separately); NGBoost runs
``--ngboost-repeats`` times (default once). Ratios, not seconds, are the result: the machines
are shared and noisy (set ``NUMBA_NUM_THREADS`` for a fixed thread count).

A stage of natgrad moves all parameters along one tree's partition, so it gains less per
stage than NGBoost's p trees. The benchmark therefore also fits natgrad for
``--match-factor`` times the stages and reports the first stage whose test NLL reaches
NGBoost's, with its time estimated as that many stages at the measured time per stage, and
NGBoost's time over it: the speed-up at equal test NLL.

Run: ``python -m benchmarks.mvn`` (needs the ``bench`` extra: ngboost).
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np

from benchmarks._timing import repeat_times


def make_data(n: int, d: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """X of shape (n, d) uniform on [-1, 1]; Y of shape (n, k) from the model above."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, d))
    loc = np.column_stack([np.sin(2.0 * X[:, i % d]) + X[:, (i + 1) % d] for i in range(k)])
    chol = np.zeros((n, k, k))
    for i in range(k):
        chol[:, i, i] = np.exp(0.3 * X[:, i % d])
        for j in range(i):
            chol[:, i, j] = 0.5 * np.tanh(2.0 * X[:, (i + j) % d])
    Y = loc + np.einsum("nij,nj->ni", chol, rng.standard_normal((n, k)))
    return X, Y


def bench_dim(
    k: int,
    n_rows: int,
    n_test: int,
    n_features: int,
    n_stages: int,
    repeats: int,
    ngb_repeats: int,
    match_factor: int,
) -> dict:
    from ngboost import NGBRegressor
    from ngboost.distns import MultivariateNormal as NGBMultivariateNormal
    from sklearn.tree import DecisionTreeRegressor

    from natgrad import NGBoostRegressor
    from natgrad.distributions import MultivariateNormal

    X, Y = make_data(n_rows, n_features, k, seed=k)
    X_test, Y_test = make_data(n_test, n_features, k, seed=100 + k)
    result: dict = {
        "k": k,
        "n_params": k * (k + 3) // 2,
        "n_rows": n_rows,
        "n_test": n_test,
        "n_features": n_features,
    }
    marginal = MultivariateNormal.from_params(MultivariateNormal.fit_marginal(Y))
    result["nll_marginal"] = float(marginal.nll(Y_test).mean())

    for rule in ("fisher", "ngboost"):
        fitted: list = []

        def natgrad_fit(rule: str = rule, fitted: list = fitted) -> None:
            model = NGBoostRegressor(
                "multivariate_normal",
                n_estimators=n_stages,
                learning_rate=0.01,
                max_depth=3,
                leaf_rule=rule,
                subsample=1.0,  # all rows every stage, as NGBoost
            )
            fitted[:] = [model.fit(X, Y)]

        result[f"natgrad_{rule}_first_call"] = repeat_times(natgrad_fit, 1)[0]
        result[f"natgrad_{rule}"] = statistics.median(repeat_times(natgrad_fit, repeats))
        result[f"nll_natgrad_{rule}"] = float(fitted[0].predict_dist(X_test).nll(Y_test).mean())

    ngb_fitted: list = []

    def ngboost_fit() -> None:
        model = NGBRegressor(
            Dist=NGBMultivariateNormal(k),
            Base=DecisionTreeRegressor(criterion="friedman_mse", max_depth=3),
            n_estimators=n_stages,
            learning_rate=0.01,
            natural_gradient=True,
            minibatch_frac=1.0,
            col_sample=1.0,
            verbose=False,
        )
        ngb_fitted[:] = [model.fit(X, Y)]

    result["ngboost"] = statistics.median(repeat_times(ngboost_fit, ngb_repeats))
    result["nll_ngboost"] = float(-np.mean(ngb_fitted[0].pred_dist(X_test).logpdf(Y_test)))
    for rule in ("fisher", "ngboost"):
        per_stage = result[f"natgrad_{rule}"] / n_stages
        result[f"speedup_vs_ngboost_{rule}"] = result["ngboost"] / result[f"natgrad_{rule}"]
        long = NGBoostRegressor(
            "multivariate_normal",
            n_estimators=match_factor * n_stages,
            learning_rate=0.01,
            max_depth=3,
            leaf_rule=rule,
            subsample=1.0,  # all rows every stage, as NGBoost
        ).fit(X, Y)
        match = None
        for stage, dist in enumerate(long.staged_predict_dist(X_test), start=1):
            if dist.nll(Y_test).mean() <= result["nll_ngboost"]:
                match = stage
                break
        result[f"stages_to_match_ngboost_{rule}"] = match
        result[f"speedup_at_equal_nll_{rule}"] = (
            None if match is None else result["ngboost"] / (match * per_stage)
        )
        result[f"nll_natgrad_{rule}_{match_factor}x_stages"] = float(
            long.predict_dist(X_test).nll(Y_test).mean()
        )
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dims", nargs="+", type=int, default=[2, 5])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--test-rows", type=int, default=5000)
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--stages", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ngboost-repeats", type=int, default=1)
    parser.add_argument("--match-factor", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/mvn.json"))
    args = parser.parse_args(argv)

    rows = []
    print(
        f"{'k':>3s} {'p':>3s} {'rule':>8s} | {'NGBoost/natgrad':>15s} {'first call':>10s} | "
        f"{'test NLL: natgrad':>17s} {'NGBoost':>8s} {'marginal':>8s} | "
        f"{'stages to match':>15s} {'speed-up at equal NLL':>21s}"
    )
    for k in args.dims:
        row = bench_dim(
            k,
            args.rows,
            args.test_rows,
            args.features,
            args.stages,
            args.repeats,
            args.ngboost_repeats,
            args.match_factor,
        )
        rows.append(row)
        for rule in ("fisher", "ngboost"):
            match = row[f"stages_to_match_ngboost_{rule}"]
            equal = row[f"speedup_at_equal_nll_{rule}"]
            print(
                f"{k:3d} {row['n_params']:3d} {rule:>8s} | "
                f"{row[f'speedup_vs_ngboost_{rule}']:14.1f}x "
                f"{row[f'natgrad_{rule}_first_call']:9.2f}s | "
                f"{row[f'nll_natgrad_{rule}']:17.4f} {row['nll_ngboost']:8.4f} "
                f"{row['nll_marginal']:8.4f} | "
                f"{'-' if match is None else match:>15} "
                f"{'-' if equal is None else f'{equal:.1f}x':>21s}",
                flush=True,
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    settings = {k: v for k, v in vars(args).items() if k != "out"}
    args.out.write_text(json.dumps({"settings": settings, "results": rows}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
