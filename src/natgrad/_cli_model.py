"""The model commands of the ``natgrad`` command line: ``fit``, ``predict`` and ``evaluate``.

Regression only for now; the classifier and the survival model come later. What every
command guarantees:

* exit code 0 on success, 2 for bad usage or bad input (a data file, a column, a model
  file), 130 after Ctrl-C, 1 for anything else;
* an error is one line on stderr naming the file, the column and the row (numbered from 1,
  the header not counted) and what was expected; a traceback only with ``--debug``;
* an existing output is never replaced without ``--force``; every output is written to a
  temporary file in its folder and renamed into place, so an interrupted run leaves no
  half-written file.

The commands are registered on the ``natgrad`` group from `commands`.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import click

__all__ = ["InputError", "commands", "evaluate", "fit", "predict"]

MODEL_FILE = "model.ngm"
METRICS_FILE = "metrics.json"
REPORT_FILE = "report.html"
_TABLES = {".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}
_EPILOG = (
    "Exit codes: 0 success, 2 bad usage or bad input, 130 interrupted, 1 anything else. Rows "
    "in messages are numbered from 1, not counting the header line."
)
_DATA_PATH = click.Path(exists=True, dir_okay=False, path_type=Path)


class InputError(click.ClickException):
    """Bad input (a data file, a column, a model file): one line on stderr, exit code 2."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


def _guarded(fn: Callable[..., None]) -> Callable[..., None]:
    """Turn every failure into one line and an exit code; --debug adds the traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            fn(*args, **kwargs)
        except (click.exceptions.Exit, click.Abort):
            raise
        except (Exception, KeyboardInterrupt) as exc:
            if kwargs.get("debug"):
                import traceback

                click.echo(traceback.format_exc().rstrip(), err=True)
            raise _as_click_error(exc) from None

    return wrapper


def _as_click_error(exc: BaseException) -> click.ClickException | SystemExit:
    from natgrad.io import ModelFileError

    if isinstance(exc, click.ClickException):
        return exc
    interrupt = _interrupt_in_chain(exc)
    if interrupt is not None:
        said = interrupt.args[0] if interrupt.args and isinstance(interrupt.args[0], str) else ""
        click.echo(said or "Interrupted (Ctrl-C); no output was written.", err=True)
        return SystemExit(130)
    if isinstance(exc, ModelFileError):
        return InputError(str(exc))
    if isinstance(exc, OSError) and exc.filename:
        return click.ClickException(f"{exc.filename}: {exc.strerror or exc}")
    return click.ClickException(
        " ".join(f"unexpected {type(exc).__name__}: {exc}".split())
        + " (run again with --debug for the traceback)"
    )


def _interrupt_in_chain(exc: BaseException | None) -> KeyboardInterrupt | None:
    """The KeyboardInterrupt behind ``exc``, if any.

    Ctrl-C inside compiled (numba) code surfaces as a SystemError whose cause is the
    KeyboardInterrupt, so the whole chain is searched.
    """
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, KeyboardInterrupt):
            return exc
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


# ------------------------------------------------------------------------------- data
def _names(values: Sequence[str], limit: int = 20) -> str:
    shown = ", ".join(repr(v) for v in list(values)[:limit])
    return shown + (f", … ({len(values)} in all)" if len(values) > limit else "")


def _read_table(path: Path) -> Any:
    """A data file as a DataFrame with string column names and at least one row."""
    import pandas as pd

    kind = _TABLES.get(path.suffix.lower())
    if kind is None:
        raise InputError(
            f"{path}: unsupported file type {path.suffix or '(no extension)'!r}; expected "
            ".csv, .tsv or .parquet"
        )
    try:
        if kind == "parquet":
            df = pd.read_parquet(path)
        else:
            # round_trip: every decimal becomes the float Python's float() gives (the default
            # parser can be one unit in the last place off).
            df = pd.read_csv(path, sep="\t" if kind == "tsv" else ",", float_precision="round_trip")
    except ImportError:
        raise InputError(f"{path}: reading Parquet needs pyarrow (pip install pyarrow)") from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: the file is empty; expected a header line and rows") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; expected a {kind.upper()} file") from None
    except (pd.errors.ParserError, ValueError, OSError) as exc:
        raise InputError(f"{path}: cannot read it as {kind.upper()} ({exc})") from None
    if df.shape[0] == 0:
        raise InputError(f"{path}: the file has a header but no data rows")
    df.columns = [str(c) for c in df.columns]
    return df


def _numeric(df: Any, name: str, path: Path) -> Any:
    """One column as float64 (NaN = missing); the first non-numeric value is an error."""
    import numpy as np
    import pandas as pd

    col = df[name]
    categorical = isinstance(col.dtype, pd.CategoricalDtype)
    if pd.api.types.is_datetime64_any_dtype(col) or pd.api.types.is_timedelta64_dtype(col):
        raise InputError(f"{path}: column {name!r} holds dates or times; expected numbers")
    if pd.api.types.is_numeric_dtype(col) and not categorical:
        values = col.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        obj = col.astype(object)
        converted = pd.to_numeric(obj, errors="coerce")
        bad = np.flatnonzero(converted.isna().to_numpy() & obj.notna().to_numpy())
        if bad.size:
            hint = (
                " (native categorical features are not supported yet: encode the categories "
                "as numbers)"
                if categorical
                else ""
            )
            raise InputError(
                f"{path}: column {name!r} must be numeric{hint}; row {bad[0] + 1} holds "
                f"{obj.iloc[bad[0]]!r}"
            )
        values = converted.to_numpy(dtype=np.float64, na_value=np.nan)
    inf = np.flatnonzero(np.isinf(values))
    if inf.size:
        raise InputError(
            f"{path}: column {name!r} must hold finite numbers; row {inf[0] + 1} holds "
            f"{float(values[inf[0]])!r}"
        )
    return values


def _feature_frame(df: Any, names: Sequence[str], path: Path, *, for_fit: bool) -> Any:
    """The feature columns as a float64 DataFrame; in ``fit`` a column needs one value."""
    import numpy as np
    import pandas as pd

    columns = {}
    for name in names:
        values = _numeric(df, name, path)
        if np.isnan(values).all():
            if for_fit:
                raise InputError(
                    f"{path}: column {name!r} has no values (every row is missing); drop it "
                    "or pass --features"
                )
            click.echo(
                f"Warning: {path}: column {name!r} is entirely missing; the model treats "
                "every value as missing.",
                err=True,
            )
        columns[name] = values
    return pd.DataFrame(columns, index=df.index)


def _target(df: Any, name: str, path: Path, family: Any) -> Any:
    """The target column: numeric, present on every row and inside the family's support."""
    import numpy as np

    if name not in df.columns:
        raise InputError(
            f"{path}: target column {name!r} not found; its columns are {_names(df.columns)}"
        )
    y = _numeric(df, name, path)
    missing = np.flatnonzero(np.isnan(y))
    if missing.size:
        raise InputError(
            f"{path}: target column {name!r} is missing at row {missing[0] + 1}; every row "
            "needs a target value"
        )
    outside = np.flatnonzero(~family.support.contains(y))
    if outside.size:
        raise InputError(
            f"{path}: target column {name!r} must be {family.support.description} for the "
            f"{family.name!r} distribution; row {outside[0] + 1} holds "
            f"{float(y[outside[0]])!r}"
        )
    return y


def _split_list(values: Sequence[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        for item in value.split(","):
            if item.strip() and item.strip() not in out:
                out.append(item.strip())
    return out


def _levels(ctx: click.Context, param: click.Parameter, value: str) -> list[float]:
    """Parse "0.05,0.5,0.95" into probabilities strictly between 0 and 1 (click callback)."""
    out: list[float] = []
    for item in value.split(","):
        if not item.strip():
            continue
        try:
            level = float(item)
        except ValueError:
            level = math.nan
        if not 0.0 < level < 1.0:
            raise click.BadParameter(
                f"expected comma-separated numbers strictly between 0 and 1; got {item.strip()!r}"
            )
        if level not in out:
            out.append(level)
    return out


def _family(name: str, config_text: str | None) -> tuple[Any, dict[str, Any]]:
    """A univariate family and its configuration, checked before any work is done."""
    from natgrad import distributions

    univariate = [n for n in distributions.names() if distributions.get(n).event_dim == 0]
    if name not in univariate:
        raise InputError(
            f"--distribution {name!r} is not a univariate family; choose one of "
            f"{', '.join(univariate)}"
        )
    family = distributions.get(name)
    config: Any = {}
    if config_text:
        try:
            config = json.loads(config_text)
        except ValueError:
            config = None
        if not isinstance(config, dict):
            raise InputError(
                f"--distribution-config must be a JSON object such as '{{\"fixed_df\": 3}}'; "
                f"got {config_text!r}"
            )
    probe = family.__new__(family)
    try:
        probe._configure(**config)
    except (TypeError, ValueError) as exc:
        raise InputError(f"--distribution-config does not fit {name!r}: {exc}") from None
    return probe, config


# ------------------------------------------------------------------------------- outputs
def _check_new(paths: Sequence[Path], force: bool) -> None:
    for path in paths:
        if path.is_dir():
            raise InputError(f"{path} is a folder; expected a file name")
        if path.exists() and not force:
            raise InputError(f"{path} already exists; use --force to overwrite it")


@contextlib.contextmanager
def _staged(dests: Sequence[Path]) -> Iterator[list[Path]]:
    """Temporary files beside ``dests``; renamed into place when the block succeeds.

    A temporary file the block deletes is skipped. Any failure (Ctrl-C included) removes the
    temporary files, and a failure while renaming removes what this call already renamed,
    so a run leaves either all its outputs or none.
    """
    temps: list[Path] = []
    done: list[Path] = []
    try:
        for dest in dests:
            fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
            os.close(fd)
            temps.append(Path(name))
        yield temps
        for temp, dest in zip(temps, dests, strict=True):
            if temp.exists():
                os.chmod(temp, 0o644)
                os.replace(temp, dest)
                done.append(dest)
    except BaseException:
        for dest in done:
            dest.unlink(missing_ok=True)
        raise
    finally:
        for temp in temps:
            temp.unlink(missing_ok=True)


def _write_table(frame: Any, path: Path, kind: str) -> None:
    if kind == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, sep="\t" if kind == "tsv" else ",")


def _json_safe(value: Any) -> Any:
    """Non-finite floats become null so that the file is strict JSON."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item"):  # NumPy scalars
        return _json_safe(value.item())
    return value


def _command_line(ctx: click.Context) -> str:
    """The command with every setting spelled out (defaults included): reproducible."""
    import shlex

    words = ["natgrad", ctx.command.name or ""]
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        if param.name in ("debug", "force", "quiet") or value is None or value is False:
            continue
        if value == ():
            continue
        if isinstance(param, click.Argument):
            words.append(str(value))
            continue
        flag = max(param.opts, key=len)
        if isinstance(param, click.Option) and param.is_flag:
            words.append(flag)
        elif isinstance(value, tuple):
            for item in value:
                words += [flag, str(item)]
        else:
            words += [flag, str(value)]
    return shlex.join(words)


def _load_model(path: Path) -> Any:
    from natgrad import io

    model = io.load(path)
    return model, io.read_header(path).get("metadata", {})


def _model_features(model: Any, df: Any, path: Path, exclude: Sequence[str]) -> Any:
    """The model's feature columns from ``df`` (by name when the model knows the names)."""
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        names = [str(n) for n in names]
        missing = [n for n in names if n not in df.columns]
        if missing:
            raise InputError(
                f"{path}: missing the model's feature column(s) {_names(missing)}; the model "
                f"was fitted on {_names(names)}"
            )
        return _feature_frame(df, names, path, for_fit=False)
    columns = [c for c in df.columns if c not in exclude]
    if len(columns) != model.n_features_in_:
        raise InputError(
            f"{path}: has {len(columns)} feature column(s); the model was fitted without "
            f"column names on {model.n_features_in_} features"
        )
    return _feature_frame(df, columns, path, for_fit=False).to_numpy()


# ------------------------------------------------------------------------------- fit
@click.command("fit", epilog=_EPILOG)
@click.argument("data", required=False, type=_DATA_PATH)
@click.option("--target", metavar="COL", help="Target column (required with DATA).")
@click.option(
    "--distribution", default="normal", show_default=True, metavar="NAME",
    help="A univariate family of natgrad.distributions, e.g. normal, lognormal, laplace, "
    "student_t, gamma, poisson.",
)  # fmt: skip
@click.option(
    "--distribution-config", metavar="JSON",
    help='Family settings as a JSON object, e.g. \'{"fixed_df": 3}\' for student_t.',
)  # fmt: skip
@click.option(
    "--task", type=click.Choice(["regression", "classification", "survival"]),
    default="regression", show_default=True,
    help="Only regression is available yet.",
)  # fmt: skip
@click.option("--time", "time_col", metavar="COL", help="Time column (--task survival).")
@click.option("--event", "event_col", metavar="COL", help="Event column (--task survival).")
@click.option(
    "--features", multiple=True, metavar="COLS",
    help="Feature columns, comma-separated (repeatable). Default: every column but the target.",
)  # fmt: skip
@click.option("--n-estimators", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Most boosting stages.")  # fmt: skip
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True), default=0.05,
              show_default=True, help="Shrinkage of every stage.")  # fmt: skip
@click.option("--max-depth", type=click.IntRange(min=1), default=3, show_default=True,
              help="Depth of each tree.")  # fmt: skip
@click.option(
    "--early-stopping-rounds", type=click.IntRange(min=0), default=100, show_default=True,
    help="Stop after this many stages without a better validation loss; 0 never stops early.",
)  # fmt: skip
@click.option(
    "--validation-fraction", type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.2, show_default=True,
    help="Share of rows held out to choose the stage and to compute metrics.json and the report.",
)  # fmt: skip
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the validation split and of the model.")  # fmt: skip
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), default=Path("natgrad-out"),
    show_default=True, help="Folder for model.ngm, metrics.json and report.html.",
)  # fmt: skip
@click.option("--no-report", is_flag=True, help="Do not write report.html.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--force", is_flag=True, help="Overwrite outputs that already exist.")
@click.option("--debug", is_flag=True, help="Show the traceback of an error.")
@click.pass_context
@_guarded
def fit(ctx: click.Context, **opts: Any) -> None:
    """Fit a natural-gradient boosting model to DATA (CSV or Parquet).

    Holds out a validation share of the rows to choose the number of stages, then writes
    into --out the model (model.ngm, natgrad's safe model format), its validation metrics
    (metrics.json) and a visual report (report.html). Without DATA, trains on the small
    dataset shipped with natgrad (concrete compressive strength).
    """
    _fit(ctx, **opts)


def _fit(ctx: click.Context, **o: Any) -> None:
    from natgrad import __version__

    if o["task"] != "regression":
        raise InputError(
            f"--task {o['task']} is not available yet; natgrad fit supports --task regression"
        )
    if o["time_col"] or o["event_col"]:
        raise InputError("--time and --event belong to --task survival, which is not available")
    family, config = _family(o["distribution"], o["distribution_config"])
    out: Path = o["out"]
    dests = [out / MODEL_FILE, out / METRICS_FILE] + ([] if o["no_report"] else [out / REPORT_FILE])
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file; expected a folder")
    _check_new(dests, o["force"])
    data = _training_data(o, family)
    train, val = _split(len(data["y"]), o["validation_fraction"], o["seed"], data["path"])

    from natgrad.boosting import NGBoostRegressor
    from natgrad.metrics import evaluate as compute_metrics
    from natgrad.metrics import format_table

    model = NGBoostRegressor(
        o["distribution"],
        distribution_config=config or None,
        n_estimators=o["n_estimators"],
        learning_rate=o["learning_rate"],
        max_depth=o["max_depth"],
        n_iter_no_change=o["early_stopping_rounds"] or None,
        random_state=o["seed"],
        verbose=not o["quiet"],
    )
    click.echo(
        f"Training on {train.size} rows, validating on {val.size} ({len(data['features'])} "
        f"features, target {data['target']!r}, {family.name} distribution).",
        err=True,
    )
    X, y = data["X"], data["y"]
    X_val, y_val = X.iloc[val], y[val]
    try:
        model.fit(X.iloc[train], y[train], eval_set=(X_val, y_val))
    except (KeyboardInterrupt, SystemError) as exc:
        if _interrupt_in_chain(exc) is None:
            raise
        raise KeyboardInterrupt(
            f"Interrupted (Ctrl-C): training stopped; nothing was written to {out}."
        ) from None

    best = int(model.best_iteration_)
    metrics = compute_metrics(model.predict_dist(X_val), y_val)
    command = _command_line(ctx)
    summary = {
        "task": "regression",
        "data": data["label"],
        "target": data["target"],
        "features": data["features"],
        "distribution": family.name,
        "distribution_config": config,
        "rows": {"train": int(train.size), "validation": int(val.size)},
        "validation_fraction": o["validation_fraction"],
        "seed": o["seed"],
        "stages_fitted": int(model.n_estimators_),
        "chosen_stage": best,
        "train_loss_at_chosen_stage": float(model.train_loss_[best]),
        "validation_loss_at_chosen_stage": float(model.validation_loss_[best]),
        "metrics": metrics,
        "note": "validation metrics at the chosen stage; the same rows chose the stage",
        "command": command,
        "natgrad_version": __version__,
    }
    _write_fit_outputs(out, dests, model, summary, data["df"], X_val, y_val)
    click.echo(
        f"Chosen stage {best} of {model.n_estimators_} fitted (validation "
        f"{model._score_rule.name} score {model.validation_loss_[best]:.4f})."
    )
    click.echo(format_table(metrics))
    click.echo(f"Wrote {', '.join(str(d) for d in dests if d.exists())}.")


def _training_data(o: dict[str, Any], family: Any) -> dict[str, Any]:
    """Read DATA (or the shipped data) and check the target and the feature columns."""
    from natgrad._data import DEMO_DESCRIPTION, DEMO_TARGET, demo_path

    path: Path | None = o["data"]
    if path is None:
        path, label = demo_path(), f"shipped demo: {DEMO_DESCRIPTION}"
        click.echo(f"No DATA given: training on the shipped demo data, {DEMO_DESCRIPTION}.")
        target = o["target"] or DEMO_TARGET
    elif not o["target"]:
        raise InputError("--target is required with a DATA file: name the column to predict")
    else:
        label, target = str(path), o["target"]
    df = _read_table(path)
    y = _target(df, target, path, family)
    requested = _split_list(o["features"])
    unknown = [f for f in requested if f not in df.columns]
    if unknown:
        raise InputError(
            f"{path}: unknown feature column(s) {_names(unknown)} in --features; its columns "
            f"are {_names(df.columns)}"
        )
    if target in requested:
        raise InputError(f"--features must not include the target column {target!r}")
    names = requested or [c for c in df.columns if c != target]
    if not names:
        raise InputError(f"{path}: no feature columns besides the target {target!r}")
    X = _feature_frame(df, names, path, for_fit=True)
    return {"path": path, "label": label, "df": df, "target": target, "features": names,
            "X": X, "y": y}  # fmt: skip


def _split(n: int, fraction: float, seed: int, path: Path) -> tuple[Any, Any]:
    """Sorted training and validation row indices, a seeded random split."""
    import numpy as np

    n_val = int(round(fraction * n))
    if n_val < 1 or n - n_val < 2:
        raise InputError(
            f"{path}: {n} row(s) are too few to hold out a validation fraction of {fraction}; "
            "expected at least one validation and two training rows"
        )
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def _write_fit_outputs(
    out: Path, dests: list[Path], model: Any, summary: dict, df: Any, X_val: Any, y_val: Any
) -> None:
    """Model, metrics and report: all renamed into place at the end, or none."""
    from natgrad import io

    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        with _staged(dests) as temps:
            meta = {"target": summary["target"], "command": summary["command"]}
            io.save(model, temps[0], metadata=meta)
            temps[1].write_text(json.dumps(_json_safe(summary), indent=2) + "\n")
            if len(temps) > 2:
                _report(temps[2], model, X_val, y_val, summary, df)
    except BaseException:
        if created and not any(out.iterdir()):
            out.rmdir()
        raise


def _report(tmp: Path, model: Any, X_val: Any, y_val: Any, summary: dict, df: Any) -> None:
    from natgrad import __version__

    try:
        from natgrad.report import summarize_data, write_report

        data_summary = {
            "file": summary["data"],
            **summarize_data(df[summary["features"]], df[summary["target"]],
                             target_name=summary["target"]),
            "training rows": summary["rows"]["train"],
            "validation rows": summary["rows"]["validation"],
        }  # fmt: skip
        write_report(
            tmp, model=model, X_val=X_val, y_val=y_val, metrics=summary["metrics"],
            data_summary=data_summary, command=summary["command"], version=__version__,
        )  # fmt: skip
    except ImportError as exc:
        # matplotlib is an optional extra: the model and the metrics are still worth writing.
        tmp.unlink(missing_ok=True)
        click.echo(f"Warning: report.html not written ({exc}); pip install matplotlib.", err=True)


# ------------------------------------------------------------------------------- predict
@click.command("predict", epilog=_EPILOG)
@click.argument("model_path", metavar="MODEL", type=_DATA_PATH)
@click.argument("data", type=_DATA_PATH)
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
    help="Predictions file: .csv, .tsv or .parquet.",
)  # fmt: skip
@click.option(
    "--quantiles", default="0.05,0.5,0.95", show_default=True, callback=_levels,
    help='Quantile levels, comma-separated ("" for none): columns q_<level>.',
)  # fmt: skip
@click.option(
    "--intervals", default="0.8,0.95", show_default=True, callback=_levels,
    help='Central interval levels ("" for none): columns lower_<level>, upper_<level>.',
)  # fmt: skip
@click.option(
    "--keep",
    multiple=True,
    metavar="COLS",
    help="Input columns to copy first into the output (e.g. an id), comma-separated.",
)
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@click.option("--debug", is_flag=True, help="Show the traceback of an error.")
@_guarded
def predict(**o: Any) -> None:
    """Predict distributions for every row of DATA with a model from natgrad fit.

    Writes one row per input row: mean, std, the requested quantiles and interval bounds
    (NaN where the family has no mean or variance, e.g. Cauchy).
    """
    import numpy as np
    import pandas as pd

    dest: Path = o["out"]
    if dest.suffix.lower() not in _TABLES:
        raise InputError(f"--out {dest}: expected a .csv, .tsv or .parquet file name")
    _check_new([dest], o["force"])
    model, _ = _load_model(o["model_path"])
    df = _read_table(o["data"])
    keep = _split_list(o["keep"])
    clash = [k for k in keep if k in ("mean", "std") or k.startswith(("q_", "lower_", "upper_"))]
    if clash:
        raise InputError(f"--keep column(s) {_names(clash)} would clash with prediction columns")
    absent = [k for k in keep if k not in df.columns]
    if absent:
        raise InputError(f"{o['data']}: --keep column(s) {_names(absent)} not found")
    X = _model_features(model, df, o["data"], exclude=keep)
    dist = model.predict_dist(X)
    n = len(dist)
    table = {k: df[k].to_numpy() for k in keep}
    with np.errstate(all="ignore"):
        for name, moment in (("mean", dist.mean), ("std", dist.std)):
            try:
                table[name] = np.asarray(moment(), dtype=np.float64) * np.ones(n)
            except ValueError:  # a family without this moment (Cauchy) says so by raising
                table[name] = np.full(n, np.nan)
        for q in o["quantiles"]:
            table[f"q_{q!r}"] = dist.ppf(np.full(n, q))
        for level in o["intervals"]:
            table[f"lower_{level!r}"], table[f"upper_{level!r}"] = dist.interval(level)
    with _staged([dest]) as (tmp,):
        _write_table(pd.DataFrame(table), tmp, _TABLES[dest.suffix.lower()])
    click.echo(f"Wrote {n} predictions to {dest}.")


# ------------------------------------------------------------------------------- evaluate
@click.command("evaluate", epilog=_EPILOG)
@click.argument("model_path", metavar="MODEL", type=_DATA_PATH)
@click.argument("data", type=_DATA_PATH)
@click.option("--target", metavar="COL",
              help="Target column (default: the one the model was fitted on).")  # fmt: skip
@click.option(
    "--json", "json_out", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path),
    help='Also write the metrics as JSON to FILE ("-": print JSON instead of the table).',
)  # fmt: skip
@click.option("--force", is_flag=True, help="Overwrite the --json file if it exists.")
@click.option("--debug", is_flag=True, help="Show the traceback of an error.")
@_guarded
def evaluate(**o: Any) -> None:
    """Score a model from natgrad fit on DATA: NLL, CRPS, RMSE, MAE, coverage, calibration."""
    from natgrad.metrics import evaluate as compute_metrics
    from natgrad.metrics import format_table

    json_out: Path | None = o["json_out"]
    to_stdout = json_out is not None and str(json_out) == "-"
    if json_out is not None and not to_stdout:
        _check_new([json_out], o["force"])
    model, metadata = _load_model(o["model_path"])
    target = o["target"] or metadata.get("target")
    if not target:
        raise InputError("--target is required: the model file does not name its target column")
    df = _read_table(o["data"])
    y = _target(df, target, o["data"], model._template_)
    X = _model_features(model, df, o["data"], exclude=[target])
    metrics = compute_metrics(model.predict_dist(X), y)
    result = {
        "model": str(o["model_path"]),
        "data": str(o["data"]),
        "target": target,
        "rows": int(len(y)),
        "metrics": metrics,
    }
    text = json.dumps(_json_safe(result), indent=2) + "\n"
    if to_stdout:
        click.echo(text, nl=False)
        return
    click.echo(f"{len(y)} rows of {o['data']}, target {target!r}:")
    click.echo(format_table(metrics))
    if json_out is not None:
        with _staged([json_out]) as (tmp,):
            tmp.write_text(text)
        click.echo(f"Wrote {json_out}.")


commands: list[click.Command] = [fit, predict, evaluate]
