"""Ctrl-C during numba compilation is held until the compilation ends (natgrad._compile_guard)."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest
from numba import njit
from numba.core import event

from natgrad import _compile_guard
from natgrad._compile_guard import _HoldInterrupts

pytestmark = pytest.mark.skipif(not hasattr(signal, "raise_signal"), reason="needs raise_signal")


@pytest.fixture
def python_sigint() -> Iterator[None]:
    # xdist workers may run with SIGINT ignored: the tests need Python's own handler.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_sigint_inside_nested_compilations_is_raised_when_the_outermost_ends(python_sigint):
    hold = _HoldInterrupts()
    hold.on_start(None)
    hold.on_start(None)  # a callee compiled inside
    signal.raise_signal(signal.SIGINT)  # held: no KeyboardInterrupt here
    hold.on_end(None)
    assert hold.pending
    with pytest.raises(KeyboardInterrupt):
        hold.on_end(None)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert not hold.pending and hold.depth == 0


def test_a_compilation_without_sigint_changes_nothing(python_sigint):
    hold = _HoldInterrupts()
    hold.on_start(None)
    assert signal.getsignal(signal.SIGINT) == hold._hold
    hold.on_end(None)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_second_sigint_is_raised_at_once(python_sigint, caplog):
    hold = _HoldInterrupts()
    hold.on_start(None)
    signal.raise_signal(signal.SIGINT)
    assert "press Ctrl-C again" in caplog.text
    with pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    hold.on_end(None)  # the compilation unwinds: nothing left to deliver
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


class _InterruptOnce(event.Listener):
    """Sends SIGINT from inside numba's compiler (its first pass), like a Ctrl-C would."""

    def __init__(self) -> None:
        self.sent = False

    def on_start(self, ev):
        if not self.sent:
            self.sent = True
            signal.raise_signal(signal.SIGINT)

    def on_end(self, ev):
        pass


def test_a_real_compilation_finishes_before_the_interrupt(python_sigint):
    _compile_guard.install()

    @njit
    def add_one(x):
        return x + 1

    interrupt = _InterruptOnce()
    event.register("numba:run_pass", interrupt)
    try:
        with pytest.raises(KeyboardInterrupt):
            add_one(1)
    finally:
        event.unregister("numba:run_pass", interrupt)
    assert interrupt.sent
    assert add_one.signatures  # compiled whole: the interrupt came after
    assert add_one(1) == 2
