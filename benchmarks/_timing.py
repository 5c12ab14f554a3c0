"""Timing helpers shared by the benchmarks (wall-clock, `time.perf_counter`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def repeat_times(fn: Callable[[], object], repeats: int) -> list[float]:
    """Seconds of each of ``repeats`` calls of ``fn``."""
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def timed(fit: Callable[[], Any]) -> tuple[Any, float]:
    """``fit()``'s result and the seconds it took."""
    start = time.perf_counter()
    model = fit()
    return model, time.perf_counter() - start


def ngboost_tree(min_samples_leaf: int) -> Any:
    """NGBoost's default base learner (a depth-3 Friedman-MSE tree) with the given leaf size."""
    from sklearn.tree import DecisionTreeRegressor

    return DecisionTreeRegressor(
        criterion="friedman_mse", max_depth=3, min_samples_leaf=min_samples_leaf
    )
