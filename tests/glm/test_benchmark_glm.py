"""Smoke test of `python -m benchmarks.glm` at a tiny size (statsmodels needed)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("statsmodels")


def test_glm_benchmark_runs_and_agrees(tmp_path, benchmarks_on_path) -> None:
    import benchmarks.glm as bench

    out = tmp_path / "glm.json"
    bench.main(
        ["--rows", "2000", "--features", "5", "--repeats", "1", "--scale-rows", "3000"]
        + ["--scale-features", "4", "--out", str(out)]
    )
    data = json.loads(out.read_text())
    rows = data["results"]
    assert [r["family"] for r in rows] == ["poisson", "gamma", "poisson"]
    for row in rows[:2]:
        # The same model: statsmodels converges to natgrad's answer to far below one SE.
        assert row["statsmodels_max_diff_in_se"] < 1e-4
        assert abs(row["statsmodels_llf_diff"]) < 1e-6
        assert row["natgrad_iterations"] >= 2 and row["statsmodels_over_natgrad"] > 0
    assert rows[2]["converged"] and rows[2]["features"] == 4
    assert data["meta"]["blas_threads"] == 1
