"""Smoke test of ``benchmarks/compat_ngboost.py`` at a tiny size (needs ngboost)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("ngboost")

ROOT = Path(__file__).resolve().parents[2]


def test_speed_section_runs(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(ROOT))
    import benchmarks.compat_ngboost as bench

    out = tmp_path / "compat.json"
    result = bench.main(
        ["--skip-accuracy", "--sizes", "60", "--stages", "3", "--repeats", "1", "--out", str(out)]
    )
    (row,) = result["speed"]
    assert row["n_rows"] == 60 and row["speedup"] > 0
    assert json.loads(out.read_text()) == result


def test_survival_data_is_censored(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    import benchmarks.compat_ngboost as bench

    _, _, events, _, _, test_events = bench._survival_data()
    assert 0.15 < 1 - events.mean() < 0.5 and len(test_events) == 250
