"""benchmarks.rl at a tiny size (NPG only: stable-baselines3 is a benchmark-only extra)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("gymnasium")


def test_benchmark_runs_and_records_curves(tmp_path, benchmarks_on_path):
    from benchmarks import rl

    out = tmp_path / "rl.json"
    args = ["--envs", "CartPole-v1", "--algos", "npg", "--seeds", "0", "--budget", "1024"]
    args += ["--eval-every", "512", "--eval-episodes", "2", "--out", str(out)]
    result = rl.main(args)
    saved = json.loads(out.read_text())
    assert saved["summary"] == result["summary"]
    (run,) = saved["runs"]
    assert [point[0] for point in run["curve"]] == [512, 1024]  # one evaluation per 512 steps
    seconds = [point[1] for point in run["curve"]]
    assert 0 < seconds[0] <= seconds[1]
    # Two deterministic CartPole episodes: returns between 8 and 500 steps.
    assert all(8 <= point[2] <= 500 for point in run["curve"])
    assert run["steps_to_threshold"] is None or run["steps_to_threshold"] in (512, 1024)
    paths = rl.plot(saved["runs"], tmp_path)
    assert paths[0].read_bytes()[:4] == b"\x89PNG"
    # --replot joins the runs of several results files (seeds run by separate commands).
    other = dict(saved, runs=[dict(run, seed=1)])
    (tmp_path / "other.json").write_text(json.dumps(other))
    joined = rl.main(["--replot", str(out), str(tmp_path / "other.json"), "--plots", str(tmp_path)])
    assert [r["seed"] for r in joined["runs"]] == [0, 1]


def test_evaluate_is_the_mean_return_of_seeded_episodes(benchmarks_on_path):
    import numpy as np

    from benchmarks import rl

    # Always pushing left ends CartPole within a few dozen steps; the same seeds give the
    # same mean, other seeds (almost surely) another.
    def left(obs):
        return np.zeros(len(obs), dtype=np.int64)

    a = rl.evaluate(left, "CartPole-v1", 5, seed=1)
    assert a == rl.evaluate(left, "CartPole-v1", 5, seed=1)
    assert 5 <= a <= 60
