"""Tests of natgrad.report: every figure present and decodable, tables, command, atomic writes."""

from __future__ import annotations

import base64
import html
import io
import os
import re

import numpy as np
import pandas as pd
import pytest

import natgrad
from natgrad.boosting import NGBoostRegressor
from natgrad.metrics import evaluate
from natgrad.report import FIGURE_IDS, summarize_data, write_report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
VALIDATION_FIGURES = ("fig-pit-histogram", "fig-reliability", "fig-coverage", "fig-intervals")
COMMAND = 'natgrad fit "my data.csv" --target y --features a,b --out <dir> & echo done'


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    n = 400
    X = pd.DataFrame(rng.normal(size=(n, 5)), columns=["size", "age", "rooms", "noise", "zip"])
    y = X["size"] + rng.normal(size=n) * np.exp(0.4 * X["age"])
    X_train, X_val, y_train, y_val = X[:300], X[300:], y[:300], y[300:]
    model = NGBoostRegressor(n_estimators=30, learning_rate=0.1, random_state=0)
    model.fit(X_train, y_train, eval_set=(X_val, y_val))
    return model, X, y, X_val, y_val


def _figures(text: str) -> dict[str, str]:
    """Each <figure id=...> element's inner HTML, by id."""
    return dict(re.findall(r'<figure id="([^"]+)">(.*?)</figure>', text, flags=re.S))


def _decode_png(figure_html: str) -> np.ndarray:
    match = re.search(r'<img [^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"', figure_html)
    assert match, figure_html[:200]
    data = base64.b64decode(match.group(1), validate=True)
    assert data.startswith(PNG_SIGNATURE)
    from matplotlib import image

    pixels = image.imread(io.BytesIO(data), format="png")
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    # Not a blank canvas: a figure has ink.
    assert pixels[..., :3].std() > 0.01
    return pixels


def test_report_holds_every_figure_table_and_the_command(fitted, tmp_path):
    model, X, y, X_val, y_val = fitted
    metrics = evaluate(model.predict_dist(X_val), y_val)
    path = tmp_path / "report.html"
    write_report(
        path,
        model=model,
        X_val=X_val,
        y_val=y_val,
        metrics=metrics,
        data_summary=summarize_data(X, y, target_name="price"),
        command=COMMAND,
        version=natgrad.__version__,
    )
    assert os.listdir(tmp_path) == ["report.html"]  # no temporary file left behind
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")

    figures = _figures(text)
    assert list(figures) == list(FIGURE_IDS)  # all present, in the documented order
    for fig_id in FIGURE_IDS:
        _decode_png(figures[fig_id])
        assert re.search(r'<img [^>]*alt="[^"]+"', figures[fig_id]), fig_id

    table = re.search(r'<table id="metrics-table">(.*?)</table>', text, flags=re.S).group(1)
    for key, value in metrics.items():
        assert f"<th>{key}</th>" in table
        assert f"{value:.4f}" in table
    command = re.search(r'<pre id="command">(.*?)</pre>', text, flags=re.S).group(1)
    assert html.unescape(command) == COMMAND
    assert f"natgrad {natgrad.__version__}" in text
    summary = re.search(r'<div id="data-summary">(.*?)</div>', text, flags=re.S).group(1)
    assert "<th>rows</th><td>400</td>" in summary and "price" in summary
    assert "no-validation" not in text
    # Self-contained: nothing is fetched from anywhere.
    assert not re.search(r'(src|href)="(?!data:)', text)
    assert "<script" not in text and "<link" not in text


def test_report_without_validation_data_says_so(fitted, tmp_path):
    model, X, y, _, _ = fitted
    path = tmp_path / "report.html"
    write_report(
        path,
        model=model,
        X_val=None,
        y_val=None,
        metrics={"nll": 1.5},
        data_summary={"rows": len(X)},
        command="natgrad fit",
        version="0.0.test",
    )
    text = path.read_text(encoding="utf-8")
    assert 'id="no-validation"' in text
    figures = _figures(text)
    assert set(figures) == set(FIGURE_IDS)
    _decode_png(figures["fig-learning-curves"])
    _decode_png(figures["fig-feature-importances"])
    for fig_id in VALIDATION_FIGURES:
        assert "<img" not in figures[fig_id]
        assert "no validation set" in figures[fig_id]
    assert os.listdir(tmp_path) == ["report.html"]


def test_report_for_a_discrete_family(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3))
    y = rng.poisson(np.exp(0.5 + 0.7 * X[:, 0]))
    model = NGBoostRegressor("poisson", n_estimators=10, learning_rate=0.2).fit(X[:150], y[:150])
    path = tmp_path / "r.html"
    write_report(
        path,
        model=model,
        X_val=X[150:],
        y_val=y[150:],
        metrics=evaluate(model.predict_dist(X[150:]), y[150:]),
        data_summary=summarize_data(X, y),
        command="c",
        version="v",
    )
    figures = _figures(path.read_text(encoding="utf-8"))
    for fig_id in FIGURE_IDS:
        _decode_png(figures[fig_id])


def test_a_failed_write_leaves_the_old_report_and_no_temporary_file(fitted, tmp_path, monkeypatch):
    model, _, _, X_val, y_val = fitted
    path = tmp_path / "report.html"
    path.write_text("old report", encoding="utf-8")

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_report(
            path,
            model=model,
            X_val=X_val,
            y_val=y_val,
            metrics={},
            data_summary={},
            command="c",
            version="v",
        )
    assert os.listdir(tmp_path) == ["report.html"]
    assert path.read_text(encoding="utf-8") == "old report"


def test_bad_arguments_are_rejected(fitted, tmp_path):
    model, _, _, X_val, y_val = fitted
    good = dict(
        model=model, X_val=X_val, y_val=y_val, metrics={}, data_summary={}, command="c", version="v"
    )
    with pytest.raises(ValueError, match="both be given or both be None"):
        write_report(tmp_path / "r.html", **{**good, "y_val": None})
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_report(tmp_path / "missing" / "r.html", **good)
    with pytest.raises(ValueError, match="must name a file"):
        write_report(tmp_path, **good)
    with pytest.raises(TypeError, match="fitted natgrad NGBoostRegressor"):
        write_report(tmp_path / "r.html", **{**good, "model": NGBoostRegressor()})
    with pytest.raises(TypeError, match="'metrics'"):
        write_report(tmp_path / "r.html", **{**good, "metrics": [1.0]})
    with pytest.raises(TypeError, match="'command'"):
        write_report(tmp_path / "r.html", **{**good, "command": ["natgrad", "fit"]})
    with pytest.raises(ValueError, match=r"shape \(100,\)"):
        write_report(tmp_path / "r.html", **{**good, "y_val": np.zeros(3)})
    assert os.listdir(tmp_path) == []


def test_summarize_data_counts_rows_columns_and_missing_values():
    X = np.array([[1.0, np.nan], [2.0, 3.0], [np.nan, np.nan]])
    summary = summarize_data(X, [1.0, 2.0, 6.0], target_name="t")
    assert summary["rows"] == 3 and summary["columns"] == 2
    assert summary["target"]["name"] == "t"
    assert summary["target"]["mean"] == pytest.approx(3.0)
    assert summary["target"]["median"] == pytest.approx(2.0)
    assert summary["missing values"] == {"total": 3, "by column": {"x0": 1, "x1": 2}}
    frame = pd.DataFrame({"a": [1.0, None], "c": pd.Categorical(["u", None])})
    assert summarize_data(frame)["missing values"]["by column"] == {"a": 1, "c": 1}
