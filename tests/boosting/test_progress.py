"""The compilation line and the stage bar (natgrad.boosting._training.progress)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from tqdm import tqdm

from natgrad.boosting import NGBoostRegressor
from natgrad.boosting._training import progress


@pytest.fixture
def not_compiled(monkeypatch):
    """The engine reported as not compiled yet, and the line not yet shown."""
    monkeypatch.setattr(progress, "is_compiled", lambda kernel: False)
    monkeypatch.setattr(progress, "_announced", False)


def test_a_fit_that_compiles_says_so_once(not_compiled, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = X[:, 0] + rng.normal(size=200)
    NGBoostRegressor(n_estimators=3, verbose=True, random_state=0).fit(X, y)
    NGBoostRegressor(n_estimators=3, verbose=True, random_state=0).fit(X, y)
    assert capsys.readouterr().err.count(progress.COMPILING_MESSAGE) == 1


def test_no_line_without_verbose_or_once_compiled(not_compiled, monkeypatch, capsys):
    assert progress.announce_compilation(show=False)
    assert progress.COMPILING_MESSAGE not in capsys.readouterr().err
    monkeypatch.setattr(progress, "is_compiled", lambda kernel: True)
    monkeypatch.setattr(progress, "_announced", False)
    assert not progress.announce_compilation(show=True)
    assert capsys.readouterr().err == ""


def test_the_bar_clock_restarts_after_the_stage_that_compiled():
    bars = {}
    for restart in (False, True):
        bar = progress.StageBar(tqdm(total=5, file=io.StringIO(), mininterval=0), restart)
        bar.bar.start_t -= 100.0  # as if the first stage had taken 100 s (compiling)
        bar.update(1)
        bar.update(1)
        bars[restart] = bar.bar
    assert bars[False].n == bars[True].n == 2
    # The bar that restarted counts its time from the first update, not 100 s earlier.
    assert bars[False].format_dict["elapsed"] >= 100.0
    assert bars[True].format_dict["elapsed"] < 100.0
