"""Ctrl-C during numba compilation: held until the compilation ends, then delivered.

A SIGINT that lands inside numba's compiler can be lost or break the process: the
KeyboardInterrupt may be raised inside llvmlite's object-cache callback, which is called
from C through ctypes, and an exception there is printed and dropped (the fit then runs on);
or it interrupts LLVM's linking half way, leaving a library without compiled code ("no
compiled object yet") or a crash at exit. A user presses Ctrl-C most often during the first
fit, which is mostly compilation, so natgrad holds the signal for the length of each
compilation in the main thread and sends it again as soon as the outermost compilation has
finished: the KeyboardInterrupt is then raised in ordinary Python code, with numba's state
intact. The first Ctrl-C says so (a logged warning); a second one during the same
compilation is raised at once, as without natgrad (the user insists; the risks above
return). Registered on numba's ``numba:compile`` events by `install` (once per process).
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Any

from numba.core import event

__all__ = ["install"]

logger = logging.getLogger(__name__)

_installed = False


class _HoldInterrupts(event.Listener):  # type: ignore[misc]
    """A listener of numba's compile events: SIGINT held while the main thread compiles."""

    def __init__(self) -> None:
        self.depth = 0
        self.previous: Any = None
        self.pending = False

    def _hold(self, signum: int, frame: FrameType | None) -> None:
        if self.pending:  # a second Ctrl-C: no more waiting
            signal.signal(signal.SIGINT, self.previous)
            self.previous, self.pending = None, False
            raise KeyboardInterrupt
        self.pending = True
        logger.warning(
            "Ctrl-C: stopping as soon as the kernel being compiled is ready (interrupting "
            "numba's compiler can break the process); press Ctrl-C again to stop at once."
        )

    def on_start(self, ev: Any) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        self.depth += 1
        if self.depth > 1:
            return
        previous = signal.getsignal(signal.SIGINT)
        if not callable(previous):  # SIG_IGN, SIG_DFL or not set from Python: left alone
            self.previous = None
            return
        self.previous, self.pending = previous, False
        signal.signal(signal.SIGINT, self._hold)

    def on_end(self, ev: Any) -> None:
        if threading.current_thread() is not threading.main_thread() or self.depth == 0:
            return
        self.depth -= 1
        if self.depth > 0 or self.previous is None:
            return
        signal.signal(signal.SIGINT, self.previous)
        self.previous = None
        if self.pending:
            self.pending = False
            signal.raise_signal(signal.SIGINT)  # the restored handler runs it now


def install() -> None:
    """Register the listener on numba's ``numba:compile`` events, once per process."""
    global _installed
    if not _installed:
        event.register("numba:compile", _HoldInterrupts())
        _installed = True
