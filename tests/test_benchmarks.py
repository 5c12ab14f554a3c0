"""Smoke tests of the classification and survival benchmark scripts at tiny sizes, and checks
of the survival benchmark's own pieces (censoring tuner, scores) against natgrad's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ngboost")
pytest.importorskip("lifelines")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    import benchmarks.classification
    import benchmarks.survival

    return benchmarks


def test_censoring_rate_hits_the_target_share(bench):
    survival = bench.survival
    rate = survival.censoring_rate(0.4)
    _, _, event, _, _ = survival.synthetic(100_000, seed=99, rate=rate)
    # Standard error of a share near 0.4 from 100 000 rows: 0.0015; the tuner's own sample
    # (200 000 rows) adds 0.0011. 0.01 is over 5 combined standard errors.
    assert abs((1 - event.mean()) - 0.4) < 0.01


def test_survival_scores_match_natgrads(bench):
    from natgrad.distributions import LogNormal
    from natgrad.metrics import concordance_index
    from natgrad.scores import CensoredLogScore

    rng = np.random.default_rng(0)
    n = 200
    loc, log_scale = rng.normal(1.0, 0.5, n), rng.normal(-0.5, 0.3, n)
    dist = LogNormal.from_params(np.column_stack([loc, log_scale]))
    time = np.exp(rng.normal(1.0, 0.8, n))
    event = (rng.uniform(size=n) < 0.6).astype(float)
    got = bench.survival.scores(time, event, np.exp(log_scale), np.exp(loc))
    expected = CensoredLogScore().score(dist, np.column_stack([time, event])).mean()
    assert got["censored_nll"] == pytest.approx(expected, rel=1e-10)
    # No tied times: lifelines' and natgrad's Harrell's C agree exactly.
    assert got["concordance"] == pytest.approx(
        concordance_index(time, event, np.exp(loc)), rel=1e-12
    )


def test_survival_benchmark_runs(bench, tmp_path):
    out = tmp_path / "survival.json"
    bench.survival.main(
        ["--datasets", "synthetic", "rossi", "--stages", "3", "--splits", "2", "--rows", "150"]
        + ["--out", str(out)]
    )
    data = json.loads(out.read_text())
    assert data["settings"]["stages"] == 3
    synthetic, rossi = data["results"]
    assert synthetic["n_train"] == 150 and 0.2 < synthetic["censored_share"] < 0.6
    assert rossi["n_train"] == 216 and rossi["n_features"] == 7
    for row in data["results"]:
        assert len(row["splits"]) == 2
        for side in ("natgrad_fisher", "natgrad_ngboost", "ngboost"):
            c, nll = row["summary"][side]["concordance"], row["summary"][side]["censored_nll"]
            assert 0.0 <= c[0] <= 1.0 and np.isfinite(nll[0])
    assert "oracle" in synthetic["summary"] and "oracle" not in rossi["summary"]


def test_classification_benchmark_runs(bench, tmp_path):
    out = tmp_path / "classification.json"
    bench.classification.main(
        ["--datasets", "iris", "--stages", "3", "--splits", "2", "--out", str(out)]
    )
    (row,) = json.loads(out.read_text())["results"]
    assert row["n_classes"] == 3 and len(row["splits"]) == 2
    for side in ("natgrad_fisher", "natgrad_ngboost", "ngboost"):
        loss, acc = row["summary"][side]["log_loss"], row["summary"][side]["accuracy"]
        assert np.isfinite(loss[0]) and 0.0 <= acc[0] <= 1.0
