"""The boosting estimators' progress bar, and the one line that says a fit compiles.

The first fit of an installation (or after an upgrade) compiles natgrad's engine with numba
during its first stage. A bar started before that stage would take the compilation for the
cost of a stage and show an ETA of hours; instead one line says that the engine compiles,
and the bar's clock starts after the stage that compiled.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from natgrad._numba_cache import is_compiled

__all__ = ["COMPILING_MESSAGE", "StageBar", "announce_compilation", "stage_progress"]

logger = logging.getLogger("natgrad.boosting")

COMPILING_MESSAGE = "Compiling natgrad's engine (first run only)..."

_announced = False  # the line is shown once per process


def announce_compilation(show: bool) -> bool:
    """Whether natgrad's engine still has to be compiled; if so, log one line (and print
    it on stderr when ``show``), once per process."""
    global _announced
    from natgrad.boosting._hist.grower import _grow

    if is_compiled(_grow):
        return False
    if not _announced:
        logger.info(COMPILING_MESSAGE)
        if show:
            from tqdm.auto import tqdm

            tqdm.write(COMPILING_MESSAGE, file=sys.stderr)
        _announced = True
    return True


class StageBar:
    """A tqdm bar over the stages whose clock can restart at its first update.

    Parameters
    ----------
    bar : tqdm
    restart : bool
        Restart the clock (elapsed time, rate, ETA) at the first `update`: the stage it
        counts compiled the engine.
    """

    def __init__(self, bar: Any, restart: bool) -> None:
        self.bar = bar
        self.restart = restart

    def update(self, n: int = 1) -> None:
        if self.restart:
            self.restart = False
            self.bar.reset()
        self.bar.update(n)

    def set_postfix(self, *args: Any, **kwargs: Any) -> None:
        self.bar.set_postfix(*args, **kwargs)

    def close(self) -> None:
        self.bar.close()


def stage_progress(est: Any, total: int | None = None) -> StageBar:
    """The progress bar of ``est``'s stages (shown when ``est.verbose``), after the
    compilation line where the engine is not compiled yet; ``total`` stages (default:
    ``est.n_estimators``)."""
    from tqdm.auto import tqdm

    # No stderr (a process started with it closed, `2>&-`): no bar rather than a crash.
    show = bool(est.verbose) and sys.stderr is not None
    compiling = announce_compilation(show)
    bar = tqdm(
        total=est.n_estimators if total is None else total,
        disable=not show,
        desc=type(est).__name__,
        unit="stage",
        leave=True,
    )
    return StageBar(bar, restart=compiling)
