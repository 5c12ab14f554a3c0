"""Compiled kernels that keep working in a process forked after they ran.

numba's OpenMP threading layer refuses to run a parallel region in a child forked from a
process that already used OpenMP: it prints "Terminating: fork() called from a process
already using GNU OpenMP, this is unsafe." and kills the child. ``fork`` is Linux's default
start method (``multiprocessing.Pool``, gunicorn workers, joblib's fork backend), so
prediction there must not enter a parallel region. `forksafe` returns, in a forked child, a
serial twin of a ``parallel=True`` kernel (the same Python function compiled without
``parallel``: ``prange`` becomes ``range``, the results are the same) and the kernel itself
everywhere else. Twins are compiled on first use in each child, without the on-disk cache,
whose index does not tell parallel and serial builds of one function apart.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["forksafe", "in_forked_child"]

_forked = False
_twins: dict[int, Any] = {}


def _after_fork_in_child() -> None:
    global _forked
    _forked = True


os.register_at_fork(after_in_child=_after_fork_in_child)


def in_forked_child() -> bool:
    """Whether this process was forked after natgrad was imported."""
    return _forked


def forksafe(kernel: Any) -> Any:
    """``kernel`` (a ``parallel=True`` numba dispatcher), or its serial twin after a fork."""
    if not _forked:
        return kernel
    twin = _twins.get(id(kernel))
    if twin is None:
        from numba import njit

        options = {
            k: v
            for k, v in kernel.targetoptions.items()
            if k not in ("parallel", "cache", "nopython")
        }
        twin = _twins[id(kernel)] = njit(**options)(kernel.py_func)
    return twin
