"""PNG plots of `natgrad.compare` (matplotlib, imported only when plotting).

Figures are built with `matplotlib.figure.Figure` on the Agg canvas directly, never through
``pyplot``: no global backend is switched and no window can open, whatever the caller's
matplotlib setup.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from natgrad._compare.results import Run
    from natgrad.fit import Objective

_COLORS = {
    "natural": "#d62728",
    "gd": "#1f77b4",
    "momentum": "#17becf",
    "rmsprop": "#9467bd",
    "adam": "#2ca02c",
    "newton": "#ff7f0e",
}
#: Smallest plotted excess loss (a run at the optimum would otherwise be log(0)).
_FLOOR = 1e-16


def _figure(ncols: int = 1, width: float = 6.4) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, 4.8), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, axes


def _label(run: Run) -> str:
    setting = ", ".join(f"{k}={v:g}" for k, v in run.settings.items())
    return f"{run.optimizer} ({setting})"


def plot_losses(path: Path, name: str, optimum: float, runs: list[Run], tol: float) -> str:
    """Loss minus optimum against step, log scale, one line per optimizer."""
    fig, (ax,) = _figure()
    for run in runs:
        excess = np.maximum(run.result.loss_history - optimum, _FLOOR)
        ax.semilogy(excess, color=_COLORS.get(run.optimizer), label=_label(run), lw=1.5)
    ax.axhline(tol, color="gray", ls=":", lw=1, label=f"tol = {tol:g}")
    ax.set_xlabel("step")
    ax.set_ylabel("NLL − optimum")
    ax.set_title(f"{name}: loss per step (same start, θ = 0)")
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=110)
    return str(path)


def _loss_grid(objective: Objective, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Mean NLL over a grid of θ (the family's coordinates), in blocks to bound memory."""
    tx, ty = np.meshgrid(xs, ys)
    theta = np.column_stack([tx.ravel(), ty.ravel()])
    out = np.empty(theta.shape[0])
    with np.errstate(all="ignore"):
        for start in range(0, theta.shape[0], 2048):
            block = theta[start : start + 2048]
            dist = objective.template.with_params(block, validate=False)
            out[start : start + 2048] = objective.weights @ dist._nll(objective.y)
    return out.reshape(tx.shape)


def exit_point(path: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray | None:
    """Where ``path`` first leaves the box [lo, hi] (on its edge), or None if it stays."""
    inside = np.all((path >= lo) & (path <= hi), axis=1)
    if inside.all():
        return None
    k = int(np.argmin(inside))  # the first point outside
    if k == 0:
        return np.clip(path[0], lo, hi)
    a, b = path[k - 1], path[k]
    step = b - a
    # the largest t in [0, 1] with a + t·step inside the box, per coordinate
    with np.errstate(divide="ignore", invalid="ignore"):
        t_hi = np.where(step > 0, (hi - a) / step, np.inf)
        t_lo = np.where(step < 0, (lo - a) / step, np.inf)
    t = float(np.clip(np.min(np.minimum(t_hi, t_lo)), 0.0, 1.0))
    return a + t * step


def grid_axis(lo: float, hi: float, center: float, n: int = 160) -> np.ndarray:
    """Points of [lo, hi] for the loss grid: ``n`` evenly spaced ones and, around ``center``
    (the optimum), ``n`` more at geometrically growing distances from 10⁻⁵ of the width on.

    An ill-conditioned optimum sits in a valley far narrower than an even grid's spacing
    (a Normal with σ = 0.01 in a view 60 wide): sampled only evenly, the contours would
    draw high loss at the optimum itself.
    """
    width = hi - lo
    offsets = width * np.geomspace(1e-5, 1.0, n // 2)
    points = np.concatenate([np.linspace(lo, hi, n), [center], center - offsets, center + offsets])
    return np.unique(points[(points >= lo) & (points <= hi)])


def contour_levels(values: np.ndarray, n: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """Filled-contour bounds covering the plotted values, and the values with every
    non-finite entry (an infinite loss) set above the top bound."""
    finite = values[np.isfinite(values)]
    high = float(np.ceil(np.quantile(finite, 0.98)))
    # at most ten decades below the top: lower values (the optimum's neighbourhood, down to
    # the floor) take the darkest shade through extend="both", never a blank
    low = max(float(np.floor(finite.min())), high - 10.0)
    if high <= low:
        high = low + 1.0
    bounds = np.linspace(low, high, n + 1)
    return bounds, np.where(np.isfinite(values), values, high + 1.0)


def plot_paths(
    path: Path, name: str, info: dict[str, Any], objective: Objective, runs: list[Run]
) -> str:
    """Optimizer paths in θ over contours of log₁₀(NLL − optimum)."""
    names = objective.template.param_names
    fig, (ax,) = _figure(width=7.0)
    # The view holds the start, the optimum and the natural-gradient path; paths that
    # wander off leave the view, which says as much as their full extent would.
    anchors = [np.array([info["start_params"], info["mle_params"]])]
    anchors += [
        r.result.path for r in runs if r.optimizer == "natural" and r.result.path is not None
    ]
    box = np.vstack(anchors)
    lo, hi = box.min(axis=0), box.max(axis=0)
    pad = 0.12 * np.maximum(hi - lo, 1e-3)
    lo, hi = lo - pad, hi + pad
    mle = info["mle_params"]
    xs, ys = grid_axis(lo[0], hi[0], mle[0]), grid_axis(lo[1], hi[1], mle[1])
    excess = _loss_grid(objective, xs, ys) - info["optimum_nll"]
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = np.log10(np.maximum(excess, _FLOOR))
    # Darker is lower; values below the scale take its darkest shade and non-finite losses
    # its lightest (extend="both"), so no region is left blank.
    bounds, levels = contour_levels(raw)
    contour = ax.contourf(xs, ys, levels, levels=bounds, cmap="Greys_r", alpha=0.6, extend="both")
    ticks = np.arange(np.ceil(bounds[0]), np.floor(bounds[-1]) + 1)  # whole decades
    fig.colorbar(contour, ax=ax, label="log10(NLL − optimum)", ticks=ticks)
    for i, run in enumerate(runs):
        p = run.result.path
        if p is None:
            continue
        color = _COLORS.get(run.optimizer)
        label = f"{_label(run)}: {run.n_steps} steps"
        leaves = exit_point(p, lo, hi)
        if leaves is not None:
            label += " (leaves the view: ×)"
        # earlier paths drawn wider, so that one a later path runs over stays visible
        lw = 1.0 + 2.0 * (len(runs) - 1 - i) / max(1, len(runs) - 1)
        ax.plot(p[:, 0], p[:, 1], ".-", ms=2.5, lw=lw, color=color, label=label)
        if leaves is not None:
            ax.plot(*leaves, "X", ms=10, color=color, mec="black", mew=0.8, clip_on=False)
        else:  # where the run ended
            ax.plot(*p[-1], "o", ms=6, color=color, mec="black", mew=0.8)
    ax.plot(*info["start_params"], "ko", ms=6, label="start")
    ax.plot(*info["mle_params"], "k*", ms=12, label="MLE")
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.set_title(f"{name}: paths over NLL contours")
    ax.legend(fontsize=7, loc="best")
    fig.savefig(path, dpi=110)
    return str(path)


def plot_invariance(path: Path, name: str, objective: Objective, runs: list[Run]) -> str:
    """Each optimizer's path in the family's θ and in a second parameterisation, mapped to θ."""
    names = objective.template.param_names
    pairs = [o for o in ("natural", "gd") if sum(r.optimizer == o for r in runs) == 2]
    fig, axes = _figure(ncols=len(pairs), width=5.5)
    for ax, opt in zip(axes, pairs, strict=True):
        for run in (r for r in runs if r.optimizer == opt):
            res = run.result
            if res.path is None:
                continue
            alt = res.parameterization
            theta = res.path if alt is None else np.asarray(alt.to_params(res.path))
            label = ",".join(names) if alt is None else ",".join(alt.param_names)
            style = "o-" if alt is None else "x--"
            ax.plot(theta[:, 0], theta[:, 1], style, ms=3, lw=1, label=f"fitted in ({label})")
        ax.set_title(f"{opt}: {name}")
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        ax.legend(fontsize=8)
    fig.savefig(path, dpi=110)
    return str(path)


def plot_problem(
    folder: Path, name: str, info: dict[str, Any], objective: Objective, runs: list[Run], tol: float
) -> list[str]:
    """All plots of one problem; returns the files written."""
    default = [r for r in runs if r.parameterization == "default"]
    files = [
        plot_losses(folder / f"loss_{name}.png", name, info["optimum_nll"], default, tol),
        plot_paths(folder / f"paths_{name}.png", name, info, objective, default),
    ]
    if any(r.parameterization != "default" for r in runs):
        files.append(plot_invariance(folder / f"invariance_{name}.png", name, objective, runs))
    return files
