"""The problems `natgrad.compare` fits and the records of what it measured."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from natgrad.fit import GAMMA_LOG_MEAN, NORMAL_LOC_SCALE, FitResult, Parameterization


@dataclass(frozen=True)
class Problem:
    """One fitting problem: ``n`` draws from ``family(**truth)``.

    ``alternative`` is a second parameterisation of the family for claim (b) (None: skip).
    """

    name: str
    family: str
    truth: dict[str, float]
    n: int = 500
    alternative: Parameterization | None = None


DEFAULT_PROBLEMS: tuple[Problem, ...] = (
    Problem("normal-narrow", "normal", {"loc": 50.0, "scale": 0.01}, alternative=NORMAL_LOC_SCALE),
    Problem("gamma-large-shape", "gamma", {"shape": 50.0, "rate": 0.5}, alternative=GAMMA_LOG_MEAN),
)


@dataclass
class Run:
    """One fit in the comparison (JSON-friendly summary plus the full result)."""

    problem: str
    optimizer: str
    parameterization: str
    settings: dict[str, Any]
    steps_to_tol: int | None
    n_steps: int
    time_s: float
    final_nll: float
    excess: float
    converged: bool
    result: FitResult = field(repr=False)
    grid: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self, optimum: float) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "result"}
        out["loss_minus_optimum"] = (self.result.loss_history - optimum).tolist()
        if self.result.path is not None:
            out["path"] = self.result.path.tolist()
        return out


@dataclass
class Comparison:
    """Everything `compare` measured: runs per problem, optima and the three claims."""

    settings: dict[str, Any]
    problems: list[dict[str, Any]]
    runs: list[Run]
    claims: dict[str, Any]
    files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        optimum = {p["name"]: p["optimum_nll"] for p in self.problems}
        return {
            "settings": self.settings,
            "problems": self.problems,
            "runs": [r.to_dict(optimum[r.problem]) for r in self.runs],
            "claims": self.claims,
        }

    def table(self) -> str:
        """The main table: one row per problem and optimizer (own parameterisation)."""
        head = ("problem", "optimizer", "setting", "steps to tol", "steps", "time [s]",
                "final NLL", "NLL - opt", "converged")  # fmt: skip
        rows = [head]
        for r in self.runs:
            if r.parameterization != "default":
                continue
            setting = ", ".join(f"{k}={v:g}" for k, v in r.settings.items())
            rows.append(
                (
                    r.problem,
                    r.optimizer,
                    setting,
                    "-" if r.steps_to_tol is None else str(r.steps_to_tol),
                    str(r.n_steps),
                    f"{r.time_s:.3f}",
                    f"{r.final_nll:.6f}",
                    f"{r.excess:.2e}",
                    "yes" if r.converged else "no",
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def summary(self) -> list[str]:
        """One line per measured claim, with its numbers."""
        s, c = self.settings, self.claims
        lines = [
            f"Baselines: best learning rate of a grid per problem (fewest steps to within "
            f"tol={s['tol']:g} of the optimum NLL, else lowest final NLL); natural gradient "
            f"untuned (max_kl={s['max_kl']:g}, cap 1). '-' = not within tol in "
            f"{s['max_steps']} steps."
        ]
        for name, a in c["steps"].items():
            lines.append(
                f"(a) {name}: natural {_fmt_steps(a['natural'], s)} steps vs gd "
                f"{_fmt_steps(a['gd'], s)}, adam {_fmt_steps(a['adam'], s)}: at least "
                f"{a['speedup_vs_gd']:.0f}x / {a['speedup_vs_adam']:.0f}x fewer."
            )
        for name, b in c["invariance"].items():
            lines.append(
                f"(b) {name}, {b['parameterizations'][0]} vs {b['parameterizations'][1]}: "
                f"max distance between the two paths (as curves, in "
                f"{b['parameterizations'][0]}, relative to the path's extent): natural "
                f"{b['natural']:.2e} (max_kl/10: {b['natural_small_step']:.2e}), gd "
                f"{b['gd']:.2e}."
            )
        for name, k in c["trust_region"].items():
            lines.append(
                f"(c) {name}: over the {k['n_steps']} steps where the trust region binds, "
                f"|KL_step/max_kl - 1| mean {k['mean_abs_dev']:.3f}, max {k['max_abs_dev']:.3f} "
                f"(max_kl={k['max_kl']:g}); at max_kl/10: mean {k['mean_abs_dev_small']:.3f}, "
                f"max {k['max_abs_dev_small']:.3f}."
            )
        return lines


def _fmt_steps(steps: int | None, settings: dict[str, Any]) -> str:
    return f">{settings['max_steps']}" if steps is None else str(steps)


def output_files(problems: tuple[Problem, ...] = DEFAULT_PROBLEMS, plots: bool = True) -> list[str]:
    """File names `compare` writes into its output folder."""
    names = ["results.json"]
    if plots:
        for p in problems:
            names += [f"loss_{p.name}.png", f"paths_{p.name}.png"]
            if p.alternative is not None:
                names.append(f"invariance_{p.name}.png")
    return names


def existing_outputs(
    out: str | Path, problems: tuple[Problem, ...] = DEFAULT_PROBLEMS, plots: bool = True
) -> list[Path]:
    """The outputs of an earlier run that a new run into ``out`` would overwrite."""
    folder = Path(out)
    return [folder / n for n in output_files(problems, plots) if (folder / n).exists()]
