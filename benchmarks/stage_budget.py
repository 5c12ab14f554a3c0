"""How far a fit gets within a stage budget: validation NLL at checkpoints and step sizes.

For one UCI split, fits on the protocol's training rows (80 %, the accuracy benchmark's
holdout) with the rest as validation, and prints the validation NLL at stage checkpoints
and the median line-search scale ρ over ranges of stages (the largest power of two that
lowers the training loss; ρ ≈ 2 means the stage took about twice the Newton step, the
longest step the search allows). Shows whether a fit is bound by the stage cap and whether
longer steps could help.

Run: ``python -m benchmarks.stage_budget naval-propulsion-plant 0 --stages 8000
[--max-depth 4] [--subsample 1.0]``.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from benchmarks._uci import load_split
from benchmarks.accuracy import _holdout


def main(argv: list[str] | None = None) -> None:
    from natgrad import NGBoostRegressor
    from natgrad.boosting._training import trainer as _trainer

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset")
    parser.add_argument("split", type=int)
    parser.add_argument("--stages", type=int, default=4000)
    parser.add_argument("--leaf-rule", default="fisher", choices=["fisher", "ngboost"])
    parser.add_argument("--min-samples-leaf", type=int, default=5)
    parser.add_argument("--max-depth", type=int, default=3)
    parser.add_argument("--subsample", type=float, default=1.0)
    args = parser.parse_args(argv)

    rhos: list[float] = []
    search = _trainer.search_step

    def recorded(*a: Any, **kw: Any) -> tuple[float, float]:
        rho, loss = search(*a, **kw)
        rhos.append(rho)
        return rho, loss

    _trainer.search_step = recorded  # type: ignore[assignment]
    data = load_split(args.dataset, args.split)
    val, train = _holdout(data.X_train.shape[0], args.split)
    model = NGBoostRegressor(
        n_estimators=args.stages,
        learning_rate=0.01,
        max_depth=args.max_depth,
        leaf_rule=args.leaf_rule,
        min_samples_leaf=args.min_samples_leaf,
        subsample=args.subsample,
        random_state=args.split,
    ).fit(
        data.X_train[train],
        data.y_train[train],
        eval_set=(data.X_train[val], data.y_train[val]),
    )
    vl = model.validation_loss_
    checkpoints = [c for c in (500, 1000, 2000, 3000, 4000, 6000, 8000) if c <= args.stages]
    print(f"{args.dataset} split {args.split}, depth {args.max_depth}, {args.leaf_rule} leaves")
    for c in checkpoints:
        print(f"  validation NLL at stage {c:5d}: {vl[c]:8.4f}")
    best = int(np.argmin(vl))
    print(f"  best stage {best}: {vl[best]:.4f}")
    r = np.asarray(rhos)
    edges = [0, 10, 100, 1000] + [c for c in checkpoints if c > 1000]
    for lo, hi in zip(edges[:-1], edges[1:], strict=False):
        print(f"  median rho, stages {lo:4d}-{hi:4d}: {np.median(r[lo:hi]):g}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
