"""Fit time with and without the compiled stage kernels (`natgrad.boosting._training.stage`).

The speed protocol's model (Normal, log score, depth 3, learning rate 0.01, 1000 stages, all
rows, split 0) fitted with the fused kernels and with the generic NumPy stage (the private
switch ``_stage.ENABLED``), interleaved in one process after one warm-up fit of each, so
that the ratio is measured under the same load. Prints the median seconds and the ratio.

Run: ``python -m benchmarks.stage_kernels [--datasets kin8nm] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

from benchmarks._uci import load_split


def main(argv: list[str] | None = None) -> None:
    import natgrad.boosting._training.stage as stage
    from natgrad import NGBoostRegressor

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["kin8nm", "protein-tertiary-structure"])
    parser.add_argument("--leaf-rules", nargs="+", default=["fisher", "ngboost"])
    parser.add_argument("--stages", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    for name in args.datasets:
        split = load_split(name, 0)
        for rule in args.leaf_rules:

            def fit(rule: str = rule, X=split.X_train, y=split.y_train) -> float:
                start = time.perf_counter()
                NGBoostRegressor(
                    n_estimators=args.stages,
                    learning_rate=0.01,
                    max_depth=3,
                    leaf_rule=rule,
                    subsample=1.0,  # the speed protocol's model
                ).fit(X, y)
                return time.perf_counter() - start

            times: dict[bool, list[float]] = {True: [], False: []}
            for enabled in (True, False):  # warm-up: compiled code compiled
                stage.ENABLED = enabled
                fit()
            for _ in range(args.repeats):
                for enabled in (True, False):
                    stage.ENABLED = enabled
                    times[enabled].append(fit())
            stage.ENABLED = True
            fused, generic = statistics.median(times[True]), statistics.median(times[False])
            print(
                f"{name:28s} {rule:8s} fused {fused:7.3f}s  generic {generic:7.3f}s  "
                f"generic/fused {generic / fused:5.2f}x",
                flush=True,
            )


if __name__ == "__main__":
    main()
