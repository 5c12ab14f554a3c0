"""Figures of the HTML report, drawn on matplotlib's Agg canvas (no pyplot, no global backend).

Each ``_plot_*`` function returns ``(png_base64, caption)``; `natgrad.report` places them.
matplotlib is imported inside `_figure` only, so importing this module stays cheap.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np

from natgrad._typing import Array
from natgrad.distributions import Distribution
from natgrad.metrics import calibration_curve, coverage, point_prediction

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


# ---------------------------------------------------------------------- figures
def _figure(ncols: int = 1, width: float = 6.4, height: float = 4.2) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, axes


def _label(ax: Any, xlabel: str, ylabel: str, title: str, loc: str = "best") -> None:
    """Axis labels, title and legend, in the one style of every report figure."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=9, loc=loc)


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
    _label(ax, "stage (0 = marginal fit)", "mean score (loss)", "Learning curves")
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
    _label(ax, "PIT value F(y)", "density", "PIT histogram")
    caption = (
        f"Probability integral transform of the {n} validation targets. A calibrated model "
        "gives a flat histogram; a U shape means intervals too narrow (overconfident), a hump "
        "too wide, a slope a biased centre."
    )
    return _png_base64(fig), caption


def _against_diagonal(
    n: int,
    nominal: Array,
    observed: Array,
    *,
    labels: tuple[str, str],
    axes: tuple[str, str],
    title: str,
) -> tuple[Any, Any]:
    """Observed shares against nominal probabilities on the unit square, with the diagonal
    and the 95 % band of a share of ``n`` calibrated rows; ``labels`` name the diagonal and
    the points, ``axes`` the x and y axes."""
    grid = np.linspace(0, 1, 101)
    band = 1.96 * np.sqrt(grid * (1 - grid) / n)
    fig, (ax,) = _figure(width=5.2)
    ax.fill_between(grid, grid - band, grid + band, color=_GRAY, alpha=0.15, label="95% band")
    ax.plot([0, 1], [0, 1], color="black", lw=1, label=labels[0])
    ax.plot(nominal, observed, "o-", color=_BLUE, ms=4, label=labels[1])
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    _label(ax, axes[0], axes[1], title, loc="upper left")
    return fig, ax


def _plot_reliability(u: Array) -> tuple[str, str]:
    levels, observed = calibration_curve(u)
    error = float(np.mean(np.abs(observed - levels)))
    fig, ax = _against_diagonal(
        u.size,
        levels,
        observed,
        labels=("perfect calibration", "model"),
        axes=("nominal probability α", "observed share of PIT ≤ α"),
        title=f"Reliability (calibration error {error:.3f})",
    )
    caption = (
        "Share of validation targets below each predicted quantile α against α. Points above "
        "the diagonal: the predicted quantiles are too high; below: too low."
    )
    return _png_base64(fig), caption


def _plot_coverage(dist: Distribution, y: Array) -> tuple[str, str]:
    observed = coverage(dist, y, _COVERAGE_GRID)
    fig, ax = _against_diagonal(
        y.size,
        _COVERAGE_GRID,
        observed,
        labels=("nominal", "observed"),
        axes=("nominal coverage of the central interval", "observed coverage"),
        title="Coverage of central intervals",
    )
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


def _plot_class_reliability(proba: Array, y: Any) -> tuple[str, str]:
    from natgrad.metrics import reliability_curve

    predicted, observed, counts = reliability_curve(proba, y)
    used = counts > 0
    fig, (ax,) = _figure()
    ax.plot([0, 1], [0, 1], color=_GRAY, ls="--", lw=1, label="perfect calibration")
    ax.plot(predicted[used], observed[used], "o-", color=_BLUE, lw=1.6, label="model")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    _label(ax, "predicted probability (bin mean)", "observed frequency", "Reliability diagram")
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
    _label(ax, "time", "survival probability S(t)", "Kaplan–Meier against predicted survival")
    caption = (
        f"The Kaplan–Meier estimate on {time.size} validation rows ({int(event.sum())} events) "
        "and the mean of the predicted survival curves; close curves mean the model is "
        "calibrated on average (with censoring independent of the event time)."
    )
    return _png_base64(fig), caption
