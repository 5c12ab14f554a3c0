"""The NGBoost drop-in against NGBoost itself, on NGBoost's own defaults (one process).

Accuracy, on scikit-learn's data with a 75/25 split (``random_state=0``):

* diabetes: ``NGBRegressor(Dist=Normal, n_estimators=500, random_state=0)``, test NLL;
* breast cancer: ``NGBClassifier(Dist=k_categorical(2), n_estimators=300, random_state=0)``,
  test log loss;
* survival: right-censored log-normal times on synthetic data (1000 rows, 5 features, about
  30 % censored), ``NGBSurvival(Dist=LogNormal, n_estimators=500, random_state=0)``, mean
  censored NLL of the test rows;

each for NGBoost, the drop-in (natgrad's histogram tree, leaves of at least 5 rows), the
drop-in with NGBoost's exact trees (``Base`` a tree the native one cannot express: NGBoost's
algorithm on natgrad's stage loop), and natgrad's tree with one-row leaves (NGBoost's
``min_samples_leaf=1``, the drop-in's earlier mapping). Fit times are the median of
``--repeats`` fits after the fit that gave the accuracy (natgrad's warm-up). ``max_diff`` is
the largest difference from NGBoost's over the test rows of what the task scores (diabetes:
each row's log-density; breast cancer: each row's probability of class 1; survival: each
row's location and scale of log T), so 0 means the same predictions.

Speed, ``--sizes``: synthetic regression (Friedman #1, 10 features), Normal, 100 stages: the
ratio NGBoost fit time (one fit) / drop-in fit time (median of ``--repeats`` after a warm-up
fit) at each size, in one process.

Run: ``python -m benchmarks.compat_ngboost`` (needs the ``bench`` extra: ngboost);
``--sizes`` with no value skips the speed runs, ``--skip-accuracy`` the accuracy runs,
``--sides`` runs only the named accuracy sides.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._timing import repeat_times


def _median_time(fit: Callable[[], Any], repeats: int, warm_up: bool = True) -> float:
    """The median of ``repeats`` timed fits, after a warm-up fit (natgrad compiles its
    kernels on the first fit) unless ``warm_up`` is False (a fit already ran)."""
    if warm_up:
        fit()
    return statistics.median(repeat_times(fit, repeats))


def _survival_data(seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    n = 1000
    X = rng.normal(size=(n, 5))
    noise = np.exp(-1.0 + 0.3 * X[:, 2]) * rng.normal(size=n)
    log_t = 1.0 + 0.8 * X[:, 0] - 0.5 * X[:, 1] + noise
    t_event = np.exp(log_t)
    t_cens = rng.exponential(scale=12.0, size=n)
    T = np.minimum(t_event, t_cens)
    E = (t_event <= t_cens).astype(int)
    return X[:750], T[:750], E[:750], X[750:], T[750:], E[750:]


def _censored_nll(loc: np.ndarray, scale: np.ndarray, T: np.ndarray, E: np.ndarray) -> float:
    from scipy import stats

    z = (np.log(T) - loc) / scale
    logpdf = stats.norm.logpdf(z) - np.log(scale) - np.log(T)
    logsf = stats.norm.logsf(z)
    return float(-np.mean(np.where(E == 1, logpdf, logsf)))


def _sides(kind: str, exact: Any, **kwargs: Any) -> list[tuple[str, Callable[[], Any]]]:
    """(side, model factory) for NGBoost, the drop-in, and the drop-in with exact trees."""
    import ngboost
    from ngboost import distns as nd

    from natgrad import NGBoostClassifier, NGBoostRegressor, NGBoostSurvival
    from natgrad.compat import ngboost as compat
    from natgrad.compat.ngboost import distns as cd
    from natgrad.scores import CensoredLogScore

    def dist(module: Any) -> Any:
        name = kwargs["Dist"]
        return module.k_categorical(2) if name == "k_categorical(2)" else getattr(module, name)

    rest = {k: v for k, v in kwargs.items() if k != "Dist"}
    theirs, ours = getattr(ngboost, kind), getattr(compat, kind)
    # The mapping the drop-in used before: natgrad's tree with one-row leaves.
    one_row = {
        "NGBRegressor": lambda: NGBoostRegressor(
            "normal", leaf_rule="ngboost", min_samples_leaf=1, subsample=1.0, **rest
        ),
        "NGBClassifier": lambda: NGBoostClassifier(
            "bernoulli", leaf_rule="ngboost", min_samples_leaf=1, **rest
        ),
        "NGBSurvival": lambda: NGBoostSurvival(
            "lognormal", leaf_rule="ngboost", min_samples_leaf=1, subsample=1.0,
            scoring_rule=CensoredLogScore(metric="fisher"), **rest,
        ),
    }[kind]  # fmt: skip
    return [
        ("ngboost", lambda: theirs(Dist=dist(nd), verbose=False, **rest)),
        ("natgrad.compat", lambda: ours(Dist=dist(cd), verbose=False, **rest)),
        ("natgrad.compat, exact trees", lambda: ours(Dist=dist(cd), Base=exact, verbose=False,
                                                     **rest)),
        ("natgrad, one-row leaves", one_row),
    ]  # fmt: skip


def accuracy(repeats: int, only: list[str] | None = None) -> list[dict[str, Any]]:
    """The accuracy rows; ``only``: run just these sides (all by default)."""
    from sklearn.datasets import load_breast_cancer, load_diabetes
    from sklearn.metrics import log_loss
    from sklearn.model_selection import train_test_split
    from sklearn.tree import DecisionTreeRegressor

    # A tree the native one cannot express (ccp_alpha > 0) is used as it is: exact splits.
    exact = DecisionTreeRegressor(criterion="friedman_mse", max_depth=3, ccp_alpha=1e-12)
    rows: list[dict[str, Any]] = []

    def chosen(sides: list[tuple[str, Callable[[], Any]]]) -> list[tuple[str, Callable[[], Any]]]:
        return [(side, make) for side, make in sides if only is None or side in only]

    reference: dict[str, np.ndarray] = {}

    def record(
        task: str, side: str, value: float, per_row: np.ndarray, fit: Callable[[], Any]
    ) -> None:
        if side == "ngboost":
            reference[task] = per_row
        diff = np.abs(per_row - reference[task]).max() if task in reference else None
        seconds = _median_time(fit, repeats, warm_up=False)  # the accuracy fit warmed up
        rows.append(
            {"task": task, "side": side, "value": value, "fit_s": seconds,
             "max_diff": None if diff is None else float(diff)}
        )  # fmt: skip

    X, y = load_diabetes(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
    for side, make in chosen(
        _sides("NGBRegressor", exact, Dist="Normal", n_estimators=500, random_state=0)
    ):
        model = make().fit(Xtr, ytr)
        pred = model.predict_dist(Xte) if hasattr(model, "predict_dist") else model.pred_dist(Xte)
        logpdf = np.asarray(pred.logpdf(yte), dtype=np.float64)
        fit = lambda make=make: make().fit(Xtr, ytr)  # noqa: E731
        record("diabetes NLL", side, float(-np.mean(logpdf)), logpdf, fit)

    X, y = load_breast_cancer(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
    sides = _sides(
        "NGBClassifier", exact, Dist="k_categorical(2)", n_estimators=300, random_state=0
    )
    for side, make in chosen(sides):
        model = make().fit(Xtr, ytr)
        proba = np.asarray(model.predict_proba(Xte), dtype=np.float64)
        fit = lambda make=make: make().fit(Xtr, ytr)  # noqa: E731
        record("breast cancer log loss", side, float(log_loss(yte, proba)), proba[:, 1], fit)

    Xtr, Ttr, Etr, Xte, Tte, Ete = _survival_data()
    for side, make in chosen(
        _sides("NGBSurvival", exact, Dist="LogNormal", n_estimators=500, random_state=0)
    ):
        model = make().fit(Xtr, Ttr, Etr)
        if hasattr(model, "predict_dist"):
            nat = model.predict_dist(Xte).natural_params
            loc, scale = nat["loc"], nat["scale"]
        else:
            params = model.pred_dist(Xte).params
            loc, scale = np.log(params["scale"]), params["s"]
        nll = _censored_nll(loc, scale, Tte, Ete)
        fit = lambda make=make: make().fit(Xtr, Ttr, Etr)  # noqa: E731
        record("survival censored NLL", side, nll, np.concatenate([loc, scale]), fit)
    return rows


def speed(sizes: list[int], stages: int, repeats: int) -> list[dict[str, Any]]:
    import ngboost
    from sklearn.datasets import make_friedman1

    from natgrad.compat import ngboost as compat

    rows = []
    for n in sizes:
        X, y = make_friedman1(n_samples=n, n_features=10, noise=1.0, random_state=0)

        def ours_fit(X: np.ndarray = X, y: np.ndarray = y) -> Any:
            return compat.NGBRegressor(n_estimators=stages, verbose=False).fit(X, y)

        def theirs_fit(X: np.ndarray = X, y: np.ndarray = y) -> Any:
            return ngboost.NGBRegressor(n_estimators=stages, verbose=False).fit(X, y)

        ours = _median_time(ours_fit, repeats)
        theirs = _median_time(theirs_fit, 1, warm_up=False)  # NGBoost compiles nothing
        row = {"n_rows": n, "stages": stages, "ngboost_s": theirs, "natgrad_s": ours}
        rows.append({**row, "speedup": theirs / ours})
    return rows


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed fits per model")
    parser.add_argument("--sizes", type=int, nargs="*", default=[300, 1000, 5000, 20000])
    parser.add_argument("--stages", type=int, default=100, help="stages of the speed runs")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument(
        "--sides", nargs="+", help="accuracy: run only these sides (names as in the output)"
    )
    parser.add_argument("--out", type=Path, help="write the results as JSON")
    args = parser.parse_args(argv)
    result: dict[str, Any] = {}
    if not args.skip_accuracy:
        result["accuracy"] = accuracy(args.repeats, args.sides)
        print(f"{'task':<24} {'side':<30} {'value':>8} {'fit s':>8} {'max diff':>9}")
        for row in result["accuracy"]:
            diff = "" if row["max_diff"] is None else f"{row['max_diff']:9.2e}"
            print(
                f"{row['task']:<24} {row['side']:<30} {row['value']:8.4f} {row['fit_s']:8.2f} "
                f"{diff}"
            )
    if args.sizes:
        result["speed"] = speed(args.sizes, args.stages, args.repeats)
        print(f"\n{'rows':>7} {'stages':>6} {'ngboost s':>10} {'natgrad s':>10} {'speed-up':>9}")
        for row in result["speed"]:
            print(
                f"{row['n_rows']:7d} {row['stages']:6d} {row['ngboost_s']:10.2f} "
                f"{row['natgrad_s']:10.3f} {row['speedup']:8.1f}x"
            )
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
