"""Smoke test of `python -m benchmarks.nn` at a tiny size (writes under tmp_path only)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")


def test_autoencoder_benchmark_runs(tmp_path, benchmarks_on_path):
    import benchmarks.nn

    out = tmp_path / "ae.json"
    benchmarks.nn.main(
        [
            "autoencoder",
            "--iters",
            "4",
            "--eval-every",
            "2",
            "--optimizers",
            "adam,kfac",
            "--adam-lr",
            "0.01",
            "--out",
            str(out),
        ]
    )
    result = json.loads(out.read_text())
    assert {row["optimizer"] for row in result["table"]} == {"adam", "kfac"}
    kfac = result["tuned"]["kfac"]["curve"]
    assert [p["iter"] for p in kfac] == [0, 2, 4]
    assert kfac[-1]["train_loss"] < kfac[0]["train_loss"]
