"""NGBoost's validation holdout, early-stopping rule and per-stage losses (``evals_result``).

NGBoost records, for a fit of S stages, the training loss *before* each stage (S values) and
the validation loss *after* each stage (S values); ``best_val_loss_itr`` indexes the latter.
It stops after stage i + 1 when the best validation loss so far is lower than each of the
last ``early_stopping_rounds`` losses, and predicts with every stage it fitted. Its loss
monitors replace the mean score in those lists: ``train_loss_monitor(D, Y, sample_weight)``
and ``val_loss_monitor(D, Y_val)``, with ``D`` the predicted distributions bound to the
score (NGBoost's manifold object).

The drop-in trains on natgrad's engine, which records its own per-stage losses and early
stopping; this module turns a fitted native model into NGBoost's lists: the engine's losses
where no monitor is given, the monitor evaluated on each stage's predicted distributions
where one is. A validation monitor decides the early stop, so the engine then trains every
stage and the drop-in keeps the first S (NGBoost's rule on the monitor's losses).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state

__all__ = ["Rows", "holdout", "monitored", "stop_stage"]


@dataclass(frozen=True)
class Rows:
    """One side of a fit: features, the native targets (a tuple: (Y,) or (T, E)), weights,
    and the targets as NGBoost's scores and monitors take them."""

    X: Any
    targets: tuple[Any, ...]
    weight: Any
    ngboost_y: Any


def holdout(
    X: Any, targets: tuple[Any, ...], weight: Any, fraction: float, random_state: Any
) -> tuple[tuple[Any, tuple[Any, ...], Any], tuple[Any, tuple[Any, ...], Any]]:
    """NGBoost's validation split: ``train_test_split`` of (X, targets..., weight) with
    ``test_size=fraction`` and a `RandomState` from ``random_state``.

    Returns
    -------
    (X, targets, weight), (X_val, targets_val, weight_val)
    """
    arrays = [X, *targets] + ([] if weight is None else [weight])
    parts = train_test_split(
        *arrays, test_size=fraction, random_state=check_random_state(random_state)
    )
    train, val = parts[0::2], parts[1::2]
    k = len(targets)
    w_train = None if weight is None else train[-1]
    w_val = None if weight is None else val[-1]
    return (train[0], tuple(train[1 : 1 + k]), w_train), (val[0], tuple(val[1 : 1 + k]), w_val)


def stop_stage(losses: Sequence[float], rounds: int | None) -> tuple[int, int]:
    """NGBoost's early stopping on validation losses after stages 1, 2, ...

    Returns
    -------
    stages : int
        How many stages NGBoost keeps: it stops after stage i + 1 once the best loss so far
        is lower than each of the last ``rounds`` losses (never when ``rounds`` is None or 0).
    best : int
        The index of the first lowest loss among those stages (``best_val_loss_itr``).
    """
    best_loss, best = np.inf, 0
    for i, loss in enumerate(losses):
        if loss < best_loss:
            best_loss, best = loss, i
        if (
            rounds is not None
            and i + 1 > rounds
            and best_loss < min(losses[i + 1 - rounds : i + 1])
        ):
            return i + 1, best
    return len(losses), best


def monitored(monitor: Callable[[Any], float], dists: Iterator[Any], count: int) -> list[float]:
    """``monitor(D)`` for the first ``count`` predicted distributions of ``dists``."""
    return [float(monitor(dist)) for dist in islice(dists, count)]
