"""The test rows that dominate one split's mean NLL (the accuracy protocol's refit model).

Usage::

    python -m benchmarks.worst_rows power-plant 0 --stages 1969

Fits the regressor on all training rows of the split with the given number of stages (the
number the accuracy protocol chose; see ``benchmarks/results/accuracy_*.json``), then prints
the test rows of largest negative log-likelihood with their target, predicted mean and
standard deviation, and the split's mean NLL with and without the worst rows.
"""

from __future__ import annotations

import argparse

import numpy as np

from benchmarks._uci import load_split


def main(argv: list[str] | None = None) -> None:
    from natgrad import NGBoostRegressor

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset")
    parser.add_argument("split", type=int)
    parser.add_argument("--stages", type=int, required=True)
    parser.add_argument("--leaf-rule", default="fisher", choices=["fisher", "ngboost"])
    parser.add_argument("--min-samples-leaf", type=int, default=5)
    parser.add_argument("--leaf-prior", type=float, default=0.0)
    parser.add_argument(
        "--subsample",
        type=float,
        default=1.0,
        help="row subsample per stage (default 1.0: all rows, the runs docs/benchmarks.md "
        "examines; seeded by the split)",
    )
    parser.add_argument(
        "--max-depth", type=int, default=3, help="tree depth (default 3, NGBoost's)"
    )
    parser.add_argument("--top", type=int, default=8)
    args = parser.parse_args(argv)

    data = load_split(args.dataset, args.split)
    model = NGBoostRegressor(
        n_estimators=args.stages,
        learning_rate=0.01,
        max_depth=args.max_depth,
        leaf_rule=args.leaf_rule,
        min_samples_leaf=args.min_samples_leaf,
        leaf_prior=args.leaf_prior,
        subsample=args.subsample,
        random_state=args.split,
    ).fit(data.X_train, data.y_train)
    dist = model.predict_dist(data.X_test)
    nll = np.asarray(dist.nll(data.y_test))
    mean, sd = np.asarray(dist.mean()), np.sqrt(np.asarray(dist.var()))
    print(f"mean NLL {nll.mean():.4f}, median {np.median(nll):.4f}, {nll.size} test rows")
    for i in np.argsort(-nll)[: args.top]:
        print(
            f"  NLL {nll[i]:9.2f}  y {data.y_test[i]:10.4g}  mean {mean[i]:10.4g}  "
            f"sd {sd[i]:9.3g}  z {(data.y_test[i] - mean[i]) / sd[i]:8.2f}"
        )
    ordered = np.sort(nll)
    for k in (1, 3):
        print(f"mean NLL without the worst {k}: {ordered[:-k].mean():.4f}")


if __name__ == "__main__":
    main()
