"""The ``natgrad`` click group and its ``compare`` command; the model commands come from
`natgrad.cli._model`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from natgrad.cli._model import commands


@click.group()
@click.version_option(package_name="natgrad")
def main() -> None:
    """natgrad: the natural gradient made practical."""


@main.command("compare")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("compare-out"),
    show_default=True,
    help="Folder for results.json and the PNG plots.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the data.")
@click.option(
    "--max-steps", type=click.IntRange(min=1), default=1000, show_default=True,
    help="Most steps per fit.",
)  # fmt: skip
@click.option(
    "--tol", type=click.FloatRange(min=0, min_open=True), default=1e-8, show_default=True,
    help="A fit reached the optimum when its NLL is within tol of it.",
)  # fmt: skip
@click.option(
    "--max-kl", type=click.FloatRange(min=0, min_open=True), default=0.05, show_default=True,
    help="KL budget per step of natural gradient descent.",
)  # fmt: skip
@click.option("--no-plots", is_flag=True, help="Write results.json only, no PNG plots.")
@click.option("--force", is_flag=True, help="Overwrite the outputs of an earlier run.")
def compare_command(
    out: Path, seed: int, max_steps: int, tol: float, max_kl: float, no_plots: bool, force: bool
) -> None:
    """Fit ill-conditioned distributions with every optimizer from the same start.

    Prints a table (steps to the optimum, time, final NLL, convergence) and one line per claim
    of natural gradient descent: (a) far fewer steps than gradient descent and Adam, (b) the
    same path in two parameterisations, (c) every step moves the distribution by the KL
    budget. Writes results.json and PNG plots into --out.
    """
    from natgrad._compare import compare, existing_outputs

    plots = not no_plots
    clash = existing_outputs(out, plots=plots)
    if clash and not force:
        click.echo(
            f"Error: {out} already holds outputs ({clash[0].name}); use --force to overwrite.",
            err=True,
        )
        sys.exit(2)
    result = compare(
        out=out, seed=seed, max_steps=max_steps, tol=tol, max_kl=max_kl, plots=plots,
        force=True, progress=True,
    )  # fmt: skip
    click.echo(result.table())
    click.echo("")
    for line in result.summary():
        click.echo(line)
    click.echo("")
    click.echo(f"Wrote {len(result.files)} file(s) to {out}.")


for _command in commands:
    main.add_command(_command)
