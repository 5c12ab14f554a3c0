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


def test_mnist1d_paper_mlp_is_residual_and_trains(tmp_path, benchmarks_on_path):
    import torch

    import benchmarks.nn

    model = benchmarks.nn._mnist1d_mlp()
    x = torch.randn(3, 40)
    h = model.linear1(x).relu()
    expected = model.linear3(h + model.linear2(h).relu())
    torch.testing.assert_close(model(x), expected)
    out = tmp_path / "mlp.json"
    args = ["mnist1d", "--model", "mlp-paper", "--epochs", "1", "--batch-size", "2000"]
    args += ["--eval-every", "1", "--optimizers", "adam,kfac", "--adam-lr", "0.01"]
    benchmarks.nn.main([*args, "--weight-decay", "0.001", "--out", str(out)])
    result = json.loads(out.read_text())
    assert result["args"]["weight_decay"] == 0.001
    kfac = result["tuned"]["kfac"]["curve"]
    assert [p["iter"] for p in kfac] == [0, 1, 2]
    assert kfac[-1]["train_loss"] < kfac[0]["train_loss"]


def test_plot_draws_the_stored_results(tmp_path, benchmarks_on_path):
    pytest.importorskip("matplotlib")
    import benchmarks.nn

    benchmarks.nn.main(["plot", "--images", str(tmp_path)])
    drawn = {p.stem for p in tmp_path.glob("*.png")}
    assert {"mnist1d_mlp-paper-wd", "mnist1d_cnn-paper-wd", "autoencoder"} <= drawn
