"""How many threads the compiled kernels use: the ``n_jobs`` hyper-parameter, resolved per call.

numba's parallel loops end in a barrier: a loop is as slow as its slowest thread. When other
processes keep the cores busy, a thread of the pool waits for a time slice at every loop, and a
boosting stage runs dozens of short loops, so a fit with two threads on a busy two-core machine
ran several times slower than with one. The thread count is therefore chosen per call
(`numba.set_num_threads`, restored afterwards), from ``n_jobs`` (scikit-learn's and LightGBM's
meaning) and, by default, from the cores other processes leave free right now and the size of
the work: a fit or prediction too small to pay for the threads' wake-ups runs on the calling
thread alone. The trees never depend on the thread count (the kernels' sums run in an order
that does not depend on it), so ``n_jobs`` changes the time of a fit, not its model.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["fit_threads", "predict_threads", "using_threads"]

# Cells (rows x features) below which a default fit runs on one thread: the per-node loops
# are then too short for the pool's wake-ups to pay.
_MIN_PARALLEL_FIT_CELLS = 20_000
# Rows x trees below which a default prediction runs on one thread (a single row among them).
_MIN_PARALLEL_PREDICT_WORK = 1 << 16


def _max_threads() -> int:
    import numba

    # NUMBA_NUM_THREADS (default: the cores) caps what set_num_threads may ask for.
    return int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]


def _busy_elsewhere() -> int | None:
    """Runnable tasks other than this one, system-wide, now (Linux); None when unknown.

    The fourth field of ``/proc/loadavg`` counts the runnable tasks at this instant, the
    reader included; the median of a few readings a millisecond apart smooths a single
    scheduler tick.
    """
    import time

    counts = []
    for k in range(3):
        try:
            with open("/proc/loadavg", encoding="ascii") as fh:
                counts.append(int(fh.read().split()[3].split("/")[0]))
        except (OSError, ValueError, IndexError):
            return None
        if k < 2:
            time.sleep(0.001)
    return max(0, sorted(counts)[1] - 1)


def _resolve(n_jobs: int | None, default_cap: int) -> int:
    top = _max_threads()
    if n_jobs is None:
        return max(1, min(top, default_cap))
    if n_jobs < 0:  # joblib's rule: -1 all cores, -2 all but one, ...
        n_jobs = max(1, (os.cpu_count() or 1) + 1 + n_jobs)
    return max(1, min(top, n_jobs))


def fit_threads(n_jobs: int | None, n_rows: int, n_features: int) -> int:
    """Threads for a fit: ``n_jobs`` as given (capped by ``NUMBA_NUM_THREADS``), or by default
    one for small data and otherwise the cores that other processes leave free now."""
    if n_jobs is not None:
        return _resolve(n_jobs, 0)
    if n_rows * n_features < _MIN_PARALLEL_FIT_CELLS:
        return 1
    cores = os.cpu_count() or 1
    busy = _busy_elsewhere()
    free = cores if busy is None else cores - busy
    return _resolve(None, free)


def predict_threads(n_jobs: int | None, n_rows: int, n_trees: int) -> int:
    """Threads for a prediction: one for small batches (single-row latency), otherwise
    ``n_jobs`` (by default all of numba's threads: one long loop pays for its wake-ups)."""
    if n_rows * n_trees < _MIN_PARALLEL_PREDICT_WORK or n_rows < 2:
        return 1
    return _resolve(n_jobs, _max_threads())


@contextmanager
def using_threads(n_threads: int) -> Iterator[None]:
    """numba's kernels use ``n_threads`` threads on this thread inside the block."""
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(n_threads), _max_threads())))
    try:
        yield
    finally:
        numba.set_num_threads(before)
