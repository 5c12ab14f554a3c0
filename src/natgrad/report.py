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

import base64
import contextlib
import html
import io
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from natgrad._validation import as_float_array, describe
from natgrad.distributions._base import Array, Distribution
from natgrad.metrics import (
    _DESCRIPTIONS,
    _check_inputs,
    _format_value,
    calibration_curve,
    coverage,
    pit,
    point_prediction,
)

__all__ = [
    "CLASSIFICATION_FIGURE_IDS",
    "FIGURE_IDS",
    "SURVIVAL_FIGURE_IDS",
    "summarize_data",
    "write_classification_report",
    "write_report",
    "write_survival_report",
]

#: The ``id`` of every figure in the report, in order of appearance.
FIGURE_IDS: tuple[str, ...] = (
    "fig-learning-curves",
    "fig-pit-histogram",
    "fig-reliability",
    "fig-coverage",
    "fig-intervals",
    "fig-feature-importances",
)
#: At most this many validation rows in the interval plot (a seeded random sample).
_MAX_INTERVAL_ROWS = 100
#: At most this many features per parameter in the importance plot.
_TOP_FEATURES = 15
#: Seed of the row sample of the interval plot and of the randomised PIT of discrete families.
_SEED = 0
_PIT_BINS = 20
_COVERAGE_GRID = np.round(np.arange(1, 20) / 20.0, 2)
_INTERVAL_LEVELS = (0.95, 0.8, 0.5)
_BLUE = "#1f77b4"
_ORANGE = "#ff7f0e"
_RED = "#d62728"
_GRAY = "#7f7f7f"

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


# ---------------------------------------------------------------------- figures
def _figure(ncols: int = 1, width: float = 6.4, height: float = 4.2) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, axes


def _png_base64(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _plot_learning_curves(model: Any) -> tuple[str, str]:
    train = np.asarray(model.train_loss_, dtype=np.float64)
    val = np.asarray(model.validation_loss_, dtype=np.float64)
    best = int(model.best_iteration_)
    stages = np.arange(train.size)
    fig, (ax,) = _figure()
    ax.plot(stages, train, color=_BLUE, lw=1.6, label="train")
    has_val = bool(np.isfinite(val).any())
    if has_val:
        ax.plot(stages, val, color=_ORANGE, lw=1.6, label="validation")
    chosen = val if has_val else train
    ax.axvline(best, color=_GRAY, ls="--", lw=1, label=f"chosen stage = {best}")
    if 0 <= best < chosen.size and np.isfinite(chosen[best]):
        ax.plot([best], [chosen[best]], "o", color=_RED, ms=6)
    ax.set_xlabel("stage (0 = marginal fit)")
    ax.set_ylabel("mean score (loss)")
    ax.set_title("Learning curves")
    ax.legend(fontsize=9)
    caption = (
        f"Training and validation loss after each stage; the dashed line marks the chosen stage "
        f"({best} of {int(model.n_estimators_)}), the one with the lowest validation loss."
        if has_val
        else f"Training loss after each stage. There was no validation set during training, "
        f"so the chosen stage is the last ({best})."
    )
    return _png_base64(fig), caption


def _plot_pit_histogram(u: Array) -> tuple[str, str]:
    n = u.size
    # About √n bins (5 to 20): enough rows per bin that the shape is not just noise.
    bins = int(np.clip(round(np.sqrt(n)), 5, _PIT_BINS))
    fig, (ax,) = _figure()
    ax.hist(
        u,
        bins=bins,
        range=(0.0, 1.0),
        density=True,
        color=_BLUE,
        alpha=0.8,
        edgecolor="white",
        zorder=2,
    )
    # The density of a bin of a uniform sample has standard error √((B − 1)/n).
    se = np.sqrt((bins - 1) / n)
    ax.axhspan(
        max(0.0, 1 - 2 * se), 1 + 2 * se, color=_GRAY, alpha=0.2, zorder=1, label="uniform ±2 SE"
    )
    ax.axhline(1.0, color="black", lw=1, zorder=3, label="uniform")
    ax.set_xlim(0, 1)
    ax.set_xlabel("PIT value F(y)")
    ax.set_ylabel("density")
    ax.set_title("PIT histogram")
    ax.legend(fontsize=9)
    caption = (
        f"Probability integral transform of the {n} validation targets. A calibrated model "
        "gives a flat histogram; a U shape means intervals too narrow (overconfident), a hump "
        "too wide, a slope a biased centre."
    )
    return _png_base64(fig), caption


def _plot_reliability(u: Array) -> tuple[str, str]:
    n = u.size
    levels, observed = calibration_curve(u)
    error = float(np.mean(np.abs(observed - levels)))
    grid = np.linspace(0, 1, 101)
    band = 1.96 * np.sqrt(grid * (1 - grid) / n)
    fig, (ax,) = _figure(width=5.2)
    ax.fill_between(grid, grid - band, grid + band, color=_GRAY, alpha=0.15, label="95% band")
    ax.plot([0, 1], [0, 1], color="black", lw=1, label="perfect calibration")
    ax.plot(levels, observed, "o-", color=_BLUE, ms=4, label="model")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("nominal probability α")
    ax.set_ylabel("observed share of PIT ≤ α")
    ax.set_title(f"Reliability (calibration error {error:.3f})")
    ax.legend(fontsize=9, loc="upper left")
    caption = (
        "Share of validation targets below each predicted quantile α against α. Points above "
        "the diagonal: the predicted quantiles are too high; below: too low."
    )
    return _png_base64(fig), caption


def _plot_coverage(dist: Distribution, y: Array) -> tuple[str, str]:
    n = y.size
    observed = coverage(dist, y, _COVERAGE_GRID)
    grid = np.linspace(0, 1, 101)
    band = 1.96 * np.sqrt(grid * (1 - grid) / n)
    fig, (ax,) = _figure(width=5.2)
    ax.fill_between(grid, grid - band, grid + band, color=_GRAY, alpha=0.15, label="95% band")
    ax.plot([0, 1], [0, 1], color="black", lw=1, label="nominal")
    ax.plot(_COVERAGE_GRID, observed, "o-", color=_BLUE, ms=4, label="observed")
    for level in (0.5, 0.8, 0.95):
        j = int(np.argmin(np.abs(_COVERAGE_GRID - level)))
        ax.annotate(
            f"{observed[j]:.2f}",
            (level, observed[j]),
            textcoords="offset points",
            xytext=(6, -12),
            fontsize=8,
            color=_BLUE,
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("nominal coverage of the central interval")
    ax.set_ylabel("observed coverage")
    ax.set_title("Coverage of central intervals")
    ax.legend(fontsize=9, loc="upper left")
    caption = (
        "Share of validation targets inside the central interval of each nominal level "
        "(labels at 50, 80 and 95 %). Below the diagonal: intervals too narrow."
    )
    return _png_base64(fig), caption


def _plot_intervals(dist: Distribution, y: Array) -> tuple[str, str]:
    n = y.size
    rng = np.random.default_rng(_SEED)
    rows = np.sort(rng.choice(n, size=min(n, _MAX_INTERVAL_ROWS), replace=False))
    sub = dist[rows]
    point, kind = point_prediction(sub)
    order = np.argsort(point, kind="stable")
    sub, point, observed = sub[order], point[order], y[rows][order]
    x = np.arange(len(rows))
    fig, (ax,) = _figure(width=9.0, height=4.6)
    inside = np.ones(len(rows), dtype=bool)
    for level, width, alpha in zip(
        _INTERVAL_LEVELS, (2.0, 3.5, 5.0), (0.25, 0.45, 0.7), strict=True
    ):
        lower, upper = sub.interval(level)
        ax.vlines(
            x,
            lower,
            upper,
            color=_BLUE,
            alpha=alpha,
            lw=width,
            label=f"{round(100 * level)}% interval",
        )
        if level == _INTERVAL_LEVELS[0]:
            inside = (observed >= lower) & (observed <= upper)
    ax.plot(x, point, "_", color="black", ms=7, label=f"predicted {kind}")
    ax.plot(x[inside], observed[inside], "o", color=_ORANGE, ms=3.5, label="observed")
    if (~inside).any():
        ax.plot(x[~inside], observed[~inside], "o", color=_RED, ms=4, label="observed, outside 95%")
    ax.set_xlabel(f"validation row, sorted by predicted {kind}")
    ax.set_ylabel("target")
    ax.set_title("Predicted intervals and observed values")
    fig.legend(loc="outside lower center", ncols=6, fontsize=8, frameon=False)
    caption = (
        f"Central 50/80/95 % intervals for {len(rows)} of {n} validation rows (a seeded random "
        f"sample), sorted by the predicted {kind}; {int((~inside).sum())} of them fall outside "
        "their 95 % interval."
    )
    return _png_base64(fig), caption


def _feature_names(model: Any, n_features: int) -> list[str]:
    names = getattr(model, "feature_names_in_", None)
    if names is not None and len(names) == n_features:
        return [str(v) for v in names]
    return [f"x{j}" for j in range(n_features)]


def _plot_importances(model: Any) -> tuple[str, str]:
    importances = np.atleast_2d(np.asarray(model.feature_importances_, dtype=np.float64))
    n_params, n_features = importances.shape
    param_names = list(getattr(model._template_, "param_names", ()))
    if len(param_names) != n_params:
        param_names = [f"parameter {k}" for k in range(n_params)]
    names = _feature_names(model, n_features)
    top = min(_TOP_FEATURES, n_features)
    fig, axes = _figure(ncols=n_params, width=4.6, height=max(2.6, 0.8 + 0.3 * top))
    for ax, row, param in zip(axes, importances, param_names, strict=True):
        ax.set_title(param)
        if not row.any():
            ax.text(0.5, 0.5, "no splits", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            continue
        best = np.argsort(-row, kind="stable")[:top][::-1]
        labels = [n if len(n) <= 24 else n[:23] + "…" for n in (names[j] for j in best)]
        ax.barh(np.arange(len(best)), row[best], color=_BLUE)
        ax.set_yticks(np.arange(len(best)), labels, fontsize=8)
        ax.set_xlabel("share of split gain")
    caption = (
        f"Share of the total split gain of each distribution parameter, by feature (top {top} "
        f"of {n_features})."
    )
    return _png_base64(fig), caption


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
        return _esc(_format_value(float(value)))
    return _esc(value)


def _metrics_html(metrics: Mapping[str, float]) -> str:
    if not metrics:
        return '<p class="note">No metrics were given.</p>'
    rows = "".join(
        f'<tr><th>{_esc(k)}</th><td class="num">{_esc(_format_value(float(v)))}</td>'
        f"<td>{_esc(_DESCRIPTIONS.get(k, ''))}</td></tr>"
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


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it into place.

    A reader (or an interrupted run) never sees a half-written report: os.replace is atomic
    on the same file system, and the temporary file is removed on any failure.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp makes the file private (0600); a report is an ordinary readable file.
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


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
    """
    out = _check_report_args(path, model, metrics, data_summary, command, version)
    where = "natgrad.report.write_report"
    if (X_val is None) != (y_val is None):
        raise ValueError(
            f"The 'X_val' and 'y_val' arguments of {where} must both be given or both be None. "
            f"Got X_val {'None' if X_val is None else 'given'} and y_val "
            f"{'None' if y_val is None else 'given'}."
        )

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
        y = _check_inputs(dist, y_val, where)
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

    page = f"""<!DOCTYPE html>
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
{no_val_note}
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
    _write_atomic(out, page)


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


def _plot_class_reliability(proba: Array, y: Any) -> tuple[str, str]:
    from natgrad.metrics import reliability_curve

    predicted, observed, counts = reliability_curve(proba, y)
    used = counts > 0
    fig, (ax,) = _figure()
    ax.plot([0, 1], [0, 1], color=_GRAY, ls="--", lw=1, label="perfect calibration")
    ax.plot(predicted[used], observed[used], "o-", color=_BLUE, lw=1.6, label="model")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("predicted probability (bin mean)")
    ax.set_ylabel("observed frequency")
    ax.set_title("Reliability diagram")
    ax.legend(fontsize=9)
    what = (
        "the probability of the second class"
        if proba.shape[1] == 2
        else "every class probability (one-vs-rest)"
    )
    caption = (
        f"Observed frequency against mean predicted probability in 10 bins of {what}, on "
        f"{proba.shape[0]} validation rows; points on the diagonal mean calibrated probabilities."
    )
    return _png_base64(fig), caption


def _plot_kaplan_meier(dist: Distribution, time: Array, event: Array) -> tuple[str, str]:
    from natgrad.metrics import kaplan_meier

    km_t, km_s = kaplan_meier(time, event)
    grid = np.linspace(0.0, float(np.max(time)), 200)
    mean_sf = np.mean(np.asarray(dist.sf(grid[:, None]), dtype=np.float64), axis=1)
    fig, (ax,) = _figure()
    ax.step(np.r_[0.0, km_t], np.r_[1.0, km_s], where="post", color=_BLUE, lw=1.6,
            label="Kaplan–Meier (observed)")  # fmt: skip
    ax.plot(grid, mean_sf, color=_ORANGE, lw=1.6, label="mean predicted S(t)")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("time")
    ax.set_ylabel("survival probability S(t)")
    ax.set_title("Kaplan–Meier against predicted survival")
    ax.legend(fontsize=9)
    caption = (
        f"The Kaplan–Meier estimate on {time.size} validation rows ({int(event.sum())} events) "
        "and the mean of the predicted survival curves; close curves mean the model is "
        "calibrated on average (with censoring independent of the event time)."
    )
    return _png_base64(fig), caption


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
        f'<tr><th>{_esc(k)}</th><td class="num">{_esc(_format_value(float(v)))}</td>'
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
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="generator" content="natgrad {_esc(version)}">
<title>natgrad report</title>
<style>{_CSS}</style>
</head>
<body>
<main>
<h1>natgrad report</h1>
<p class="subtitle">{_esc(subtitle)}</p>
<section id="metrics"><h2>Metrics</h2>
{table}
</section>
<section id="figures"><h2>Figures</h2>
{body}
</section>
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
    _write_atomic(out, page)


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
