"""A visual report of a fitted natural-gradient boosting regressor: one self-contained HTML file.

The report shows what a person would rather look at than read: learning curves, the PIT
histogram, a reliability plot, coverage of central intervals, predicted intervals against
observed values, feature importances per distribution parameter, the metrics table, a data
summary and the exact command and version that made it. Figures are PNG images embedded as
base64 ``data:`` URIs, so the file needs nothing else (no network, no other files).

Every figure is a ``<figure>`` element whose ``id`` is one of `FIGURE_IDS`; a figure that
needs validation data and has none holds a note instead of an image. matplotlib is imported
only inside `write_report`, and figures are drawn on the Agg canvas directly (no ``pyplot``),
so no global backend is switched and no window can open.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from natgrad._targets import check_predicted_targets
from natgrad._validation import as_float_array, describe
from natgrad.io.framing import write_atomic
from natgrad.metrics import REGRESSION_DESCRIPTIONS, format_value, pit
from natgrad.report._figures import (
    _SEED,
    _plot_class_reliability,
    _plot_coverage,
    _plot_importances,
    _plot_intervals,
    _plot_kaplan_meier,
    _plot_learning_curves,
    _plot_pit_histogram,
    _plot_reliability,
)

#: The ``id`` of every figure in the report, in order of appearance.
FIGURE_IDS: tuple[str, ...] = (
    "fig-learning-curves",
    "fig-pit-histogram",
    "fig-reliability",
    "fig-coverage",
    "fig-intervals",
    "fig-feature-importances",
)

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222;
       background: #fafafa; margin: 0; line-height: 1.45; }
main { max-width: 1000px; margin: 0 auto; padding: 1.5rem 2rem 3rem; background: #fff; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2rem;
       margin-top: 2.2rem; }
.subtitle { color: #555; margin-top: 0; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 0.5rem 0.8rem; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.95rem; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 0.25rem 0.8rem; text-align: left;
       vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
table table { margin: 0; font-size: 0.9rem; }
figure { margin: 1.2rem 0; } figure img { max-width: 100%; height: auto; display: block; }
figcaption { color: #555; font-size: 0.9rem; margin-top: 0.3rem; }
pre { background: #f5f5f5; padding: 0.6rem 0.8rem; overflow-x: auto; white-space: pre-wrap;
       word-break: break-all; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr));
       gap: 0 1.2rem; }
"""


# ---------------------------------------------------------------------- data summary
def summarize_data(
    X: Any, y: ArrayLike | None = None, *, target_name: str = "target"
) -> dict[str, Any]:
    """A data summary for `write_report`: rows, columns, target statistics, missing values.

    Parameters
    ----------
    X : DataFrame or array-like of shape (n_samples, n_features)
        The features (a pandas DataFrame keeps its column names; categorical columns are
        counted like any other).
    y : array-like of shape (n_samples,), optional
        The numeric target.
    target_name : str, default="target"
        How the summary names the target.

    Returns
    -------
    dict
        ``{"rows": n, "columns": p, "target": {...}, "missing values": {...}}``.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.report import summarize_data
    >>> X = np.array([[1.0, np.nan], [2.0, 3.0], [4.0, 5.0]])
    >>> summary = summarize_data(X, [1.0, 2.0, 6.0], target_name="price")
    >>> summary["rows"], summary["columns"]
    (3, 2)
    >>> summary["missing values"]
    {'total': 1, 'by column': {'x1': 1}}
    """
    if hasattr(X, "columns") and hasattr(X, "isna"):
        names = [str(c) for c in X.columns]
        n_rows = int(X.shape[0])
        missing_per = [int(v) for v in X.isna().sum().to_numpy()]
    else:
        arr = np.asarray(X)
        if arr.ndim != 2:
            raise ValueError(
                f"The 'X' argument of summarize_data must be 2-dimensional. Got shape "
                f"{arr.shape} instead."
            )
        n_rows = int(arr.shape[0])
        names = [f"x{j}" for j in range(arr.shape[1])]
        try:
            missing_per = [int(v) for v in np.isnan(arr.astype(np.float64)).sum(axis=0)]
        except (TypeError, ValueError):
            missing_per = [int(sum(v is None for v in col)) for col in arr.T]
    summary: dict[str, Any] = {"rows": n_rows, "columns": len(names)}
    if y is not None:
        t = as_float_array(y, "y", "summarize_data").ravel()
        finite = t[np.isfinite(t)]
        stats: dict[str, Any] = {"name": target_name}
        if finite.size:
            stats |= {
                "mean": float(finite.mean()),
                "std": float(finite.std()),
                "min": float(finite.min()),
                "median": float(np.median(finite)),
                "max": float(finite.max()),
            }
        stats["missing"] = int(t.size - finite.size)
        summary["target"] = stats
    by_column = {name: k for name, k in zip(names, missing_per, strict=True) if k}
    summary["missing values"] = {"total": int(sum(missing_per)), "by column": by_column or "none"}
    return summary


# ---------------------------------------------------------------------- HTML
def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _figure_html(fig_id: str, title: str, image: str | None, caption: str) -> str:
    if image is None:
        body = f'<p class="note">{_esc(caption)}</p>'
    else:
        body = (
            f'<img id="{fig_id}-img" alt="{_esc(title)}" src="data:image/png;base64,{image}">'
            f"<figcaption>{_esc(caption)}</figcaption>"
        )
    return f'<figure id="{fig_id}">{body}</figure>'


def _value_html(value: Any) -> str:
    if isinstance(value, Mapping):
        rows = "".join(
            f"<tr><th>{_esc(k)}</th><td>{_value_html(v)}</td></tr>" for k, v in value.items()
        )
        return f"<table>{rows}</table>"
    if isinstance(value, list | tuple):
        return _esc(", ".join(str(v) for v in value))
    if isinstance(value, float | np.floating):
        return _esc(format_value(float(value)))
    return _esc(value)


def _metrics_html(metrics: Mapping[str, float]) -> str:
    if not metrics:
        return '<p class="note">No metrics were given.</p>'
    rows = "".join(
        f'<tr><th>{_esc(k)}</th><td class="num">{_esc(format_value(float(v)))}</td>'
        f"<td>{_esc(REGRESSION_DESCRIPTIONS.get(k, ''))}</td></tr>"
        for k, v in metrics.items()
    )
    head = "<tr><th>metric</th><th>value</th><th>meaning</th></tr>"
    return f'<table id="metrics-table">{head}{rows}</table>'


def _model_html(model: Any) -> str:
    fitted = {
        "distribution": getattr(model._template_, "name", type(model._template_).__name__),
        "stages fitted": int(model.n_estimators_),
        "chosen stage": int(model.best_iteration_),
        "features": int(getattr(model, "n_features_in_", 0)),
    }
    params = model.get_params(deep=False) if hasattr(model, "get_params") else {}
    settings = {
        # Settings as typed (0.1, not 0.1000): repr of numbers, str of everything else.
        k: (repr(v) if isinstance(v, int | float) and not isinstance(v, bool) else str(v))
        for k, v in params.items()
    }
    return (
        f'<table id="model-table"><tr><th>model</th><td>{_esc(type(model).__name__)}</td></tr>'
        f"<tr><th>fitted</th><td>{_value_html(fitted)}</td></tr>"
        f"<tr><th>settings</th><td>{_value_html(settings)}</td></tr></table>"
    )


def _page(
    subtitle: str,
    sections: str,
    model: Any,
    data_summary: Mapping[str, Any],
    command: str,
    version: str,
) -> str:
    """The whole HTML page: the head, the title, the task's ``sections``, then the data
    summary, the model's settings and the command and version that every report ends with."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="natgrad {_esc(version)}">
<title>natgrad report</title>
<style>{_CSS}</style>
</head>
<body>
<main>
<h1>natgrad report</h1>
<p class="subtitle">{_esc(subtitle)}</p>
{sections}
<section id="data"><h2>Data</h2>
<div id="data-summary">{_value_html(dict(data_summary))}</div>
</section>
<section id="model"><h2>Model</h2>
{_model_html(model)}
</section>
<section id="provenance"><h2>Command and version</h2>
<pre id="command">{_esc(command)}</pre>
<p id="version">natgrad {_esc(version)}</p>
</section>
</main>
</body>
</html>
"""


# ---------------------------------------------------------------------- validation and writing
def _check_report_args(
    path: Any, model: Any, metrics: Any, data_summary: Any, command: Any, version: Any
) -> Path:
    where = "natgrad.report.write_report"
    if not isinstance(path, str | os.PathLike):
        raise TypeError(
            f"The 'path' argument of {where} must be a str or path. Got {describe(path)} instead."
        )
    out = Path(path)
    if out.is_dir():
        raise ValueError(
            f"The 'path' argument of {where} must name a file. Got the folder {str(out)!r}."
        )
    if not out.parent.is_dir():
        raise FileNotFoundError(
            f"The folder of the 'path' argument of {where} does not exist: {str(out.parent)!r}."
        )
    needed = (
        "predict_dist",
        "train_loss_",
        "validation_loss_",
        "best_iteration_",
        "n_estimators_",
        "_template_",
    )
    if not all(hasattr(model, attr) for attr in needed):
        raise TypeError(
            f"The 'model' argument of {where} must be a fitted natgrad NGBoostRegressor. "
            f"Got {describe(model)} instead."
        )
    if not isinstance(metrics, Mapping) or not all(
        isinstance(k, str) and isinstance(v, int | float | np.number) and not isinstance(v, bool)
        for k, v in metrics.items()
    ):
        raise TypeError(
            f"The 'metrics' argument of {where} must be a mapping of metric names to numbers "
            f"(e.g. natgrad.metrics.evaluate(...)). Got {describe(metrics)} instead."
        )
    if not isinstance(data_summary, Mapping):
        raise TypeError(
            f"The 'data_summary' argument of {where} must be a dict. Got "
            f"{describe(data_summary)} instead."
        )
    for name, value in (("command", command), ("version", version)):
        if not isinstance(value, str):
            raise TypeError(
                f"The {name!r} argument of {where} must be a str. Got {describe(value)} instead."
            )
    return out


def _regression_figures(
    model: Any, X_val: Any, y_val: Any, where: str
) -> dict[str, tuple[str, str | None, str]]:
    """The regression report's figures by id: (title, image or None, caption); the
    calibration and interval figures only with validation rows."""
    figures: dict[str, tuple[str, str | None, str]] = {}
    figures["fig-learning-curves"] = ("Learning curves", *_plot_learning_curves(model))
    titles = {
        "fig-pit-histogram": "PIT histogram",
        "fig-reliability": "Reliability plot",
        "fig-coverage": "Coverage of central intervals",
        "fig-intervals": "Predicted intervals against observed values",
    }
    if X_val is not None and y_val is not None:
        dist = model.predict_dist(X_val)
        y = check_predicted_targets(dist, y_val, where)
        u = pit(dist, y, rng=np.random.default_rng(_SEED))
        figures["fig-pit-histogram"] = (titles["fig-pit-histogram"], *_plot_pit_histogram(u))
        figures["fig-reliability"] = (titles["fig-reliability"], *_plot_reliability(u))
        figures["fig-coverage"] = (titles["fig-coverage"], *_plot_coverage(dist, y))
        figures["fig-intervals"] = (titles["fig-intervals"], *_plot_intervals(dist, y))
    else:
        for fig_id, title in titles.items():
            figures[fig_id] = (title, None, f"{title}: not shown, there was no validation set.")
    figures["fig-feature-importances"] = (
        "Feature importances per distribution parameter",
        *_plot_importances(model),
    )
    return figures


def write_report(
    path: str | os.PathLike[str],
    *,
    model: Any,
    X_val: Any,
    y_val: ArrayLike | None,
    metrics: Mapping[str, float],
    data_summary: Mapping[str, Any],
    command: str,
    version: str,
) -> None:
    """Write the HTML report of a fitted regressor to ``path`` (replacing any file there).

    The file is self-contained (inline CSS, PNG figures as base64 ``data:`` URIs) and written
    atomically: a temporary file in the same folder, renamed into place with `os.replace`.
    Refusing to overwrite is the caller's decision.

    Figures (``<figure id=...>``, see `FIGURE_IDS`): ``fig-learning-curves`` (train and
    validation loss per stage, chosen stage marked), ``fig-pit-histogram``,
    ``fig-reliability`` (observed share of PIT ≤ α against α), ``fig-coverage`` (observed
    against nominal coverage of central intervals), ``fig-intervals`` (50/80/95 % intervals
    and observed values for up to 100 validation rows sorted by the predicted mean) and
    ``fig-feature-importances`` (one panel per distribution parameter, top 15 features).
    Without validation data the four validation figures hold a note saying so.

    Parameters
    ----------
    path : str or path-like
        The HTML file to write; its folder must exist.
    model : NGBoostRegressor
        A fitted regressor.
    X_val : array-like of shape (n_val, n_features) or None
        Validation features, or None when there is no validation set.
    y_val : array-like of shape (n_val,) or None
        Validation targets (None exactly when ``X_val`` is None).
    metrics : mapping of str to float
        The metrics table (e.g. `natgrad.metrics.evaluate` on the validation set).
    data_summary : mapping
        Shown as a (nested) table; `summarize_data` makes one with rows, columns, target
        statistics and missing values.
    command : str
        The exact command that made the report.
    version : str
        The natgrad version.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import natgrad
    >>> from natgrad import NGBoostRegressor
    >>> from natgrad.metrics import evaluate
    >>> from natgrad.report import summarize_data, write_report
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2))
    >>> y = X[:, 0] + rng.normal(scale=0.5, size=300)
    >>> model = NGBoostRegressor(n_estimators=30, learning_rate=0.1, random_state=0)
    >>> model = model.fit(X[:200], y[:200], eval_set=(X[200:], y[200:]))
    >>> path = os.path.join(tempfile.mkdtemp(), "report.html")
    >>> write_report(path, model=model, X_val=X[200:], y_val=y[200:],
    ...              metrics=evaluate(model.predict_dist(X[200:]), y[200:]),
    ...              data_summary=summarize_data(X, y), command="example",
    ...              version=natgrad.__version__)
    >>> 'id="fig-pit-histogram"' in open(path, encoding="utf-8").read()
    True
    """
    out = _check_report_args(path, model, metrics, data_summary, command, version)
    where = "natgrad.report.write_report"
    if (X_val is None) != (y_val is None):
        raise ValueError(
            f"The 'X_val' and 'y_val' arguments of {where} must both be given or both be None. "
            f"Got X_val {'None' if X_val is None else 'given'} and y_val "
            f"{'None' if y_val is None else 'given'}."
        )

    figures = _regression_figures(model, X_val, y_val, where)

    family = getattr(model._template_, "name", "")
    subtitle = (
        f"NGBoostRegressor · {family} distribution · chosen stage {int(model.best_iteration_)} "
        f"of {int(model.n_estimators_)} · natgrad {version}"
    )
    no_val_note = (
        ""
        if X_val is not None
        else '<p class="note" id="no-validation">No validation data was given for this report: '
        "the calibration and interval figures are omitted, and the metrics below are the ones "
        "the caller computed (possibly on the training data, which flatters the model).</p>"
    )

    def fig(fig_id: str) -> str:
        return _figure_html(fig_id, *figures[fig_id])

    sections = f"""{no_val_note}
<section id="metrics"><h2>Metrics</h2>
{_metrics_html(metrics)}
</section>
<section id="learning"><h2>Learning</h2>
{fig("fig-learning-curves")}
</section>
<section id="calibration"><h2>Calibration</h2>
<div class="grid">{fig("fig-pit-histogram")}{fig("fig-reliability")}{fig("fig-coverage")}</div>
</section>
<section id="predictions"><h2>Predictions</h2>
{fig("fig-intervals")}
</section>
<section id="importances"><h2>Feature importances</h2>
{fig("fig-feature-importances")}
</section>
"""
    page = _page(subtitle, sections, model, data_summary, command, version)
    write_atomic(page.encode("utf-8"), out)


# ---------------------------------------------------------------------- classification, survival
#: Figure ids of `write_classification_report`.
CLASSIFICATION_FIGURE_IDS: tuple[str, ...] = (
    "fig-learning-curves",
    "fig-reliability",
    "fig-feature-importances",
)
#: Figure ids of `write_survival_report`.
SURVIVAL_FIGURE_IDS: tuple[str, ...] = (
    "fig-learning-curves",
    "fig-kaplan-meier",
    "fig-feature-importances",
)


def _task_page(
    out: Path,
    model: Any,
    figures: Sequence[tuple[str, str, str | None, str]],
    metrics: Mapping[str, float],
    descriptions: Mapping[str, str],
    data_summary: Mapping[str, Any],
    command: str,
    version: str,
) -> None:
    family = getattr(model._template_, "name", "")
    subtitle = (
        f"{type(model).__name__} · {family} distribution · chosen stage "
        f"{int(model.best_iteration_)} of {int(model.n_estimators_)} · natgrad {version}"
    )
    rows = "".join(
        f'<tr><th>{_esc(k)}</th><td class="num">{_esc(format_value(float(v)))}</td>'
        f"<td>{_esc(descriptions.get(k, ''))}</td></tr>"
        for k, v in metrics.items()
    )
    table = (
        '<table id="metrics-table"><tr><th>metric</th><th>value</th><th>meaning</th></tr>'
        f"{rows}</table>"
    )
    body = "\n".join(
        _figure_html(fig_id, title, image, caption) for fig_id, title, image, caption in figures
    )
    sections = f"""<section id="metrics"><h2>Metrics</h2>
{table}
</section>
<section id="figures"><h2>Figures</h2>
{body}
</section>
"""
    page = _page(subtitle, sections, model, data_summary, command, version)
    write_atomic(page.encode("utf-8"), out)


def write_classification_report(
    path: str | os.PathLike[str],
    *,
    model: Any,
    X_val: Any,
    y_val: ArrayLike,
    metrics: Mapping[str, float],
    data_summary: Mapping[str, Any],
    command: str,
    version: str,
) -> None:
    """Write the HTML report of a fitted `NGBoostClassifier` (see `write_report`).

    Figures (`CLASSIFICATION_FIGURE_IDS`): learning curves, the reliability diagram
    (`natgrad.metrics.reliability_curve` on the validation rows) and feature importances per
    parameter; then the metrics table (`natgrad.metrics.evaluate_classification`), the data
    summary, the model settings, the command and the version.

    Parameters
    ----------
    y_val : array-like of shape (n_val,)
        Validation labels, values of ``model.classes_``.
    path, model, X_val, metrics, data_summary, command, version
        As in `write_report` (``X_val`` is required).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import natgrad
    >>> from natgrad import NGBoostClassifier
    >>> from natgrad.metrics import evaluate_classification
    >>> from natgrad.report import CLASSIFICATION_FIGURE_IDS, summarize_data
    >>> from natgrad.report import write_classification_report
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2))
    >>> y = (X[:, 0] + rng.normal(size=300) > 0).astype(int)
    >>> model = NGBoostClassifier(n_estimators=20, learning_rate=0.1, random_state=0).fit(X, y)
    >>> proba = model.predict_proba(X)
    >>> path = os.path.join(tempfile.mkdtemp(), "report.html")
    >>> write_classification_report(path, model=model, X_val=X, y_val=y,
    ...                             metrics=evaluate_classification(proba, y),
    ...                             data_summary=summarize_data(X), command="example",
    ...                             version=natgrad.__version__)
    >>> html = open(path, encoding="utf-8").read()
    >>> all(f'id="{fig}"' in html for fig in CLASSIFICATION_FIGURE_IDS)
    True
    """
    from natgrad.metrics import CLASSIFICATION_DESCRIPTIONS

    out = _check_report_args(path, model, metrics, data_summary, command, version)
    proba = np.asarray(model.predict_proba(X_val), dtype=np.float64)
    index = np.searchsorted(model.classes_, np.asarray(y_val))
    figures = [
        ("fig-learning-curves", "Learning curves", *_plot_learning_curves(model)),
        ("fig-reliability", "Reliability diagram", *_plot_class_reliability(proba, index)),
        ("fig-feature-importances", "Feature importances per parameter",
         *_plot_importances(model)),
    ]  # fmt: skip
    _task_page(out, model, figures, metrics, CLASSIFICATION_DESCRIPTIONS, data_summary,
               command, version)  # fmt: skip


def write_survival_report(
    path: str | os.PathLike[str],
    *,
    model: Any,
    X_val: Any,
    time_val: ArrayLike,
    event_val: ArrayLike,
    metrics: Mapping[str, float],
    data_summary: Mapping[str, Any],
    command: str,
    version: str,
) -> None:
    """Write the HTML report of a fitted `NGBoostSurvival` (see `write_report`).

    Figures (`SURVIVAL_FIGURE_IDS`): learning curves, the Kaplan–Meier curve of the
    validation rows against the mean predicted survival curve, and feature importances per
    parameter; then the metrics table (`natgrad.metrics.evaluate_survival`), the data summary,
    the model settings, the command and the version.

    Parameters
    ----------
    time_val, event_val : array-like of shape (n_val,)
        Validation times and event flags (1 event, 0 censored).
    path, model, X_val, metrics, data_summary, command, version
        As in `write_report` (``X_val`` is required).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import natgrad
    >>> from natgrad import NGBoostSurvival
    >>> from natgrad.metrics import evaluate_survival
    >>> from natgrad.report import summarize_data, write_survival_report
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2))
    >>> t = rng.lognormal(mean=1.0 + 0.5 * X[:, 0], sigma=0.5)
    >>> c = rng.lognormal(mean=1.5, sigma=0.5, size=300)
    >>> time, event = np.minimum(t, c), (t <= c).astype(float)
    >>> model = NGBoostSurvival(n_estimators=20, learning_rate=0.1, random_state=0)
    >>> model = model.fit(X, time, event)
    >>> path = os.path.join(tempfile.mkdtemp(), "report.html")
    >>> write_survival_report(path, model=model, X_val=X, time_val=time, event_val=event,
    ...                       metrics=evaluate_survival(model.predict_dist(X), time, event),
    ...                       data_summary=summarize_data(X), command="example",
    ...                       version=natgrad.__version__)
    >>> 'id="fig-kaplan-meier"' in open(path, encoding="utf-8").read()
    True
    """
    from natgrad.metrics import SURVIVAL_DESCRIPTIONS

    out = _check_report_args(path, model, metrics, data_summary, command, version)
    where = "natgrad.report.write_survival_report"
    time = as_float_array(time_val, "time_val", where)
    event = as_float_array(event_val, "event_val", where)
    dist = model.predict_dist(X_val)
    figures = [
        ("fig-learning-curves", "Learning curves", *_plot_learning_curves(model)),
        ("fig-kaplan-meier", "Kaplan–Meier against predicted survival",
         *_plot_kaplan_meier(dist, time, event)),
        ("fig-feature-importances", "Feature importances per parameter",
         *_plot_importances(model)),
    ]  # fmt: skip
    _task_page(out, model, figures, metrics, SURVIVAL_DESCRIPTIONS, data_summary, command,
               version)  # fmt: skip
