"""Where a boosting stage's time goes: the speed protocol's fit with timers on its parts.

Fits the speed protocol's model (Normal, depth 3, learning rate 0.01, all rows, split 0)
once to warm the compiled code, then times one fit of ``--stages`` stages with wall-clock
timers wrapped around the stage's functions (the stage kernels, the grower's compiled
growth, the copy into the histogram layout where it exists, the tree's conversion, the line
search and update, the ensemble append). Parts nest (``fit_stage_leaves`` contains
``_grow``); the rest of the total is the trainer's own Python work. Set
``NUMBA_NUM_THREADS=1`` for a single-thread profile.

Run: ``python -m benchmarks.profile_stage kin8nm fisher [--stages 1000]``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from benchmarks._uci import load_split

# (module, object name or None for the module itself, attribute, label). Missing ones are
# skipped, so the script also profiles older versions of the engine.
_PARTS = [
    (
        "natgrad.boosting._training.stage",
        "FusedStage",
        "gradient_channels",
        "stage kernel: channels",
    ),
    (
        "natgrad.boosting._training.stage",
        "FusedStage",
        "gradient_and_metric",
        "stage kernel: g and F",
    ),
    ("natgrad.boosting._training.stage", "FusedStage", "natural_gradient", "stage kernel: F^-1 g"),
    ("natgrad.boosting._training.learners", "NativeModel", "fit_stage_leaves", "fit_stage_leaves"),
    ("natgrad.boosting._hist.grower", None, "fill_diagonal_channels", "  channel copy"),
    ("natgrad.boosting._hist.grower", None, "fill_channels", "  channel copy (dense)"),
    ("natgrad.boosting._hist.grower", None, "_grow", "  _grow (compiled growth)"),
    ("natgrad.boosting._hist.grower", None, "_as_tree", "  _as_tree"),
    ("natgrad.boosting._training.trainer", None, "_search_and_update", "line search and update"),
    ("natgrad.boosting._training.learners", "NativeModel", "commit", "commit (ensemble append)"),
    ("natgrad.boosting._training.trainer", "Trainer", "_rows", "row subsample draw"),
    ("natgrad.boosting._training.sampling", "StageSampler", "rows", "row subsample draw"),
]


def _wrap(owner: Any, attr: str, label: str, totals: dict[str, float]) -> None:
    inner: Callable[..., Any] = getattr(owner, attr)

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            totals[label] = totals.get(label, 0.0) + time.perf_counter() - start

    setattr(owner, attr, timed)


def main(argv: list[str] | None = None) -> None:
    import importlib

    from natgrad import NGBoostRegressor

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset")
    parser.add_argument("leaf_rule", choices=["fisher", "ngboost"])
    parser.add_argument("--stages", type=int, default=1000)
    parser.add_argument("--max-depth", type=int, default=3)
    parser.add_argument(
        "--subsample", type=float, default=1.0, help="row subsample (1.0: the speed protocol)"
    )
    args = parser.parse_args(argv)

    split = load_split(args.dataset, 0)
    totals: dict[str, float] = {}
    for module, owner_name, attr, label in _PARTS:
        mod = importlib.import_module(module)
        owner = mod if owner_name is None else getattr(mod, owner_name, None)
        if owner is not None and hasattr(owner, attr):
            _wrap(owner, attr, label, totals)

    def fit(stages: int) -> float:
        start = time.perf_counter()
        NGBoostRegressor(
            n_estimators=stages,
            learning_rate=0.01,
            max_depth=args.max_depth,
            leaf_rule=args.leaf_rule,
            subsample=args.subsample,  # 1.0 (the default here): the speed protocol's model
            random_state=0,
        ).fit(split.X_train, split.y_train)
        return time.perf_counter() - start

    fit(min(args.stages, 200))  # warm-up: compiled code compiled
    totals.clear()
    total = fit(args.stages)
    print(f"{args.dataset} {args.leaf_rule}: {args.stages} stages in {total:.3f} s")
    for _, _, _, label in _PARTS:
        if label in totals:
            print(f"  {label:32s} {totals[label]:7.3f} s  {totals[label] / total:6.1%}")


if __name__ == "__main__":
    main()
