"""The model commands of the ``natgrad`` command line: ``fit``, ``predict`` and ``evaluate``.

Three tasks: regression (`NGBoostRegressor`), classification (`NGBoostClassifier`) and
survival (`NGBoostSurvival`); the model file records the task, so ``predict`` and
``evaluate`` need not be told. What every command guarantees:

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

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from natgrad.cli._common import (
    _check_new,
    _check_out_folder,
    _command_line,
    _guarded,
    _interrupt_in_chain,
    _json_safe,
    _staged,
    _write_table,
)
from natgrad.cli._data import (
    _TABLES,
    TASK_FAMILIES,
    InputError,
    _family,
    _feature_frame,
    _labels,
    _levels,
    _model_features,
    _names,
    _read_table,
    _split,
    _split_list,
    _stratified_split,
    _survival_columns,
    _target,
)

if TYPE_CHECKING:
    import numpy as np

__all__ = ["InputError", "commands", "evaluate", "fit", "predict"]

MODEL_FILE = "model.ngm"
METRICS_FILE = "metrics.json"
REPORT_FILE = "report.html"
_EPILOG = (
    "Exit codes: 0 success, 2 bad usage or bad input, 130 interrupted, 1 anything else. Rows "
    "in messages are numbered from 1, not counting the header line."
)
_DATA_PATH = click.Path(exists=True, dir_okay=False, path_type=Path)


def _load_model(path: Path) -> Any:
    from natgrad import io

    model = io.load(path)
    return model, io.read_header(path).get("metadata", {})


# ------------------------------------------------------------------------------- fit
@click.command("fit", epilog=_EPILOG)
@click.argument("data", required=False, type=_DATA_PATH)
@click.option("--target", metavar="COL", help="Target column (required with DATA).")
@click.option(
    "--distribution", metavar="NAME",
    help="Regression: a univariate family of natgrad.distributions (default normal; e.g. "
    "lognormal, laplace, student_t, gamma, poisson). Classification: auto (default), bernoulli "
    "or categorical. Survival: lognormal (default), exponential, weibull or gamma.",
)  # fmt: skip
@click.option(
    "--distribution-config", metavar="JSON",
    help='Family settings as a JSON object, e.g. \'{"fixed_df": 3}\' for student_t.',
)  # fmt: skip
@click.option(
    "--task", type=click.Choice(["regression", "classification", "survival"]),
    default="regression", show_default=True,
    help="classification: --target holds class labels; survival: --time and --event "
    "(1 event, 0 censored) replace --target.",
)  # fmt: skip
@click.option("--time", "time_col", metavar="COL", help="Time column (--task survival).")
@click.option("--event", "event_col", metavar="COL", help="Event column (--task survival).")
@click.option(
    "--features", multiple=True, metavar="COLS",
    help="Feature columns, comma-separated (repeatable). Default: every column but the target.",
)  # fmt: skip
@click.option("--n-estimators", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Most boosting stages.")  # fmt: skip
@click.option("--learning-rate", type=click.FloatRange(min=0, max=1, min_open=True), default=0.05,
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
    task = o["task"]
    family, config = _resolve_distribution(o)
    out: Path = o["out"]
    dests = [out / MODEL_FILE, out / METRICS_FILE] + ([] if o["no_report"] else [out / REPORT_FILE])
    # The data first (a mistake there is the more useful message), then the output folder:
    # both before training, so that no run trains for long only to fail at writing.
    data = _training_data(o, family)
    _check_out_folder(out)
    if out.is_dir():  # else it is created after training (_check_out_folder said it can be)
        _check_new(dests, o["force"])
    train, val = _validation_split(o, data)
    model = _estimator(o, config)
    click.echo(
        f"Training on {train.size} rows, validating on {val.size} ({len(data['features'])} "
        f"features, target {data['target']!r}, {o['distribution']} distribution).",
        err=True,
    )
    X, y = data["X"], data["y"]
    X_val, y_val = X.iloc[val], y[val]
    _train(model, task, data, train, val, out)

    best = int(model.best_iteration_)
    if task == "survival":
        y_val = (y_val, data["event"][val])
    metrics = _task_metrics(model, task, X_val, y_val)
    ctx.params["distribution"] = o["distribution"]  # the resolved default, for the record
    summary = _fit_summary(o, data, model, config, train, val, metrics, _command_line(ctx))
    _write_fit_outputs(out, dests, model, summary, data["df"], X_val, y_val, o["force"])
    click.echo(
        f"Chosen stage {best} of {model.n_estimators_} fitted (validation "
        f"{model._score_rule.name} score {model.validation_loss_[best]:.4f})."
    )
    click.echo(_table(metrics, task))
    click.echo(f"Wrote {', '.join(str(d) for d in dests if d.exists())}.")


def _resolve_distribution(o: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """Check the task's options and set ``o["distribution"]`` (the task's default when not
    given); returns the regression family and its configuration (None and {} otherwise)."""
    task = o["task"]
    if task != "survival" and (o["time_col"] or o["event_col"]):
        raise InputError("--time and --event belong to --task survival")
    if task == "survival" and not (o["time_col"] and o["event_col"]):
        raise InputError("--task survival needs --time COL and --event COL")
    if task == "survival" and o["target"]:
        raise InputError("--task survival takes --time and --event instead of --target")
    if task == "regression":
        o["distribution"] = o["distribution"] or "normal"
        return _family(o["distribution"], o["distribution_config"])
    choices, default = TASK_FAMILIES[task]
    o["distribution"] = o["distribution"] or default
    if o["distribution"] not in choices:
        raise InputError(
            f"--distribution {o['distribution']!r} does not fit --task {task}; choose one "
            f"of {', '.join(choices)}"
        )
    if o["distribution_config"]:
        raise InputError(f"--distribution-config is for --task regression, not {task}")
    return None, {}


def _validation_split(o: dict[str, Any], data: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The training and validation row indices (stratified by class for classification)."""
    task = o["task"]
    if task == "classification":
        train, val = _stratified_split(data["y"], o["validation_fraction"], o["seed"], data["path"])
    else:
        train, val = _split(len(data["y"]), o["validation_fraction"], o["seed"], data["path"])
    if task == "survival" and not data["event"][train].any():
        raise InputError(
            f"{data['path']}: the training rows hold no observed event; use more data or "
            "another --seed"
        )
    return train, val


def _estimator(o: dict[str, Any], config: dict[str, Any]) -> Any:
    """The unfitted estimator of the task, from the command's options."""
    from natgrad import boosting

    estimator = {"regression": boosting.NGBoostRegressor,
                 "classification": boosting.NGBoostClassifier,
                 "survival": boosting.NGBoostSurvival}[o["task"]]  # fmt: skip
    return estimator(
        o["distribution"],
        distribution_config=config or None,
        n_estimators=o["n_estimators"],
        learning_rate=o["learning_rate"],
        max_depth=o["max_depth"],
        n_iter_no_change=o["early_stopping_rounds"] or None,
        random_state=o["seed"],
        verbose=not o["quiet"],
    )


def _train(
    model: Any, task: str, data: dict[str, Any], train: np.ndarray, val: np.ndarray, out: Path
) -> None:
    """Fit ``model`` on the training rows, validating on the others; Ctrl-C ends the command
    saying that nothing was written."""
    X, y = data["X"], data["y"]
    X_val, y_val = X.iloc[val], y[val]
    try:
        if task == "survival":
            e = data["event"]
            model.fit(X.iloc[train], y[train], e[train], eval_set=(X_val, y_val, e[val]))
        else:
            model.fit(X.iloc[train], y[train], eval_set=(X_val, y_val))
    except (KeyboardInterrupt, SystemError) as exc:
        if _interrupt_in_chain(exc) is None:
            raise
        raise KeyboardInterrupt(
            f"Interrupted (Ctrl-C): training stopped; nothing was written to {out}."
        ) from None


def _fit_summary(
    o: dict[str, Any],
    data: dict[str, Any],
    model: Any,
    config: dict[str, Any],
    train: np.ndarray,
    val: np.ndarray,
    metrics: dict[str, Any],
    command: str,
) -> dict[str, Any]:
    """The run's record, metrics.json."""
    from natgrad import __version__

    task = o["task"]
    best = int(model.best_iteration_)
    return {
        "task": task,
        "data": data["label"],
        "target": data["target"],
        **({"time": o["time_col"], "event": o["event_col"]} if task == "survival" else {}),
        **({"classes": model.classes_.tolist()} if task == "classification" else {}),
        "features": data["features"],
        "distribution": model._template_.name,
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


def _training_data(o: dict[str, Any], family: Any) -> dict[str, Any]:
    """Read DATA (or the shipped data) and check the target and the feature columns."""
    from natgrad._data import DEMO_DESCRIPTION, DEMO_TARGET, demo_path

    path: Path | None = o["data"]
    task = o["task"]
    if path is None and task != "regression":
        raise InputError(f"--task {task} needs a DATA file (the shipped data is for regression)")
    if task == "survival":
        label, target = str(path), o["time_col"]
    elif path is None:
        path, label = demo_path(), f"shipped demo: {DEMO_DESCRIPTION}"
        click.echo(f"No DATA given: training on the shipped demo data, {DEMO_DESCRIPTION}.")
        target = o["target"] or DEMO_TARGET
    elif not o["target"]:
        raise InputError("--target is required with a DATA file: name the column to predict")
    else:
        label, target = str(path), o["target"]
    assert path is not None  # every branch above sets it
    df = _read_table(path)
    event = None
    if task == "survival":
        y, event = _survival_columns(df, o["time_col"], o["event_col"], path)
    elif task == "classification":
        y = _labels(df, target, path)
    else:
        y = _target(df, target, path, family)
    used = [target] + ([o["event_col"]] if task == "survival" else [])
    requested = _split_list(o["features"])
    unknown = [f for f in requested if f not in df.columns]
    if unknown:
        raise InputError(
            f"{path}: unknown feature column(s) {_names(unknown)} in --features; its columns "
            f"are {_names(df.columns)}"
        )
    for col in used:
        if col in requested:
            raise InputError(f"--features must not include the target column {col!r}")
    names = requested or [c for c in df.columns if c not in used]
    if not names:
        raise InputError(f"{path}: no feature columns besides the target {target!r}")
    X = _feature_frame(df, names, path, for_fit=True)
    return {"path": path, "label": label, "df": df, "target": target, "features": names,
            "X": X, "y": y, "event": event}  # fmt: skip


def _task_metrics(model: Any, task: str, X: Any, y: Any) -> dict[str, float]:
    """Metrics of ``model`` on (X, y); y is (time, event) for survival, labels otherwise."""
    import numpy as np

    from natgrad import metrics

    if task == "classification":
        index = np.searchsorted(model.classes_, y)
        return metrics.evaluate_classification(model.predict_proba(X), index)
    if task == "survival":
        return metrics.evaluate_survival(model.predict_dist(X), y[0], y[1])
    return metrics.evaluate(model.predict_dist(X), y)


def _table(values: dict[str, float], task: str) -> str:
    from natgrad import metrics

    descriptions = {"classification": metrics.CLASSIFICATION_DESCRIPTIONS,
                    "survival": metrics.SURVIVAL_DESCRIPTIONS}.get(task)  # fmt: skip
    return metrics.format_table(values, descriptions=descriptions)


def _times(text: str) -> list[float]:
    """Parse "1,5,10" into distinct finite times > 0."""
    out: list[float] = []
    for item in text.split(","):
        if not item.strip():
            continue
        try:
            t = float(item)
        except ValueError:
            t = math.nan
        if not (math.isfinite(t) and t > 0):
            raise InputError(f"--times expects comma-separated times > 0; got {item.strip()!r}")
        if t not in out:
            out.append(t)
    return out


def _task_of(model: Any) -> str:
    from natgrad.io import TASKS

    return TASKS[type(model).__name__]


def _write_fit_outputs(
    out: Path,
    dests: list[Path],
    model: Any,
    summary: dict,
    df: Any,
    X_val: Any,
    y_val: Any,
    force: bool,
) -> None:
    """Model, metrics and report: all renamed into place at the end, or none."""
    from natgrad import io

    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        with _staged(dests, force) as temps:
            meta = {"task": summary["task"], "target": summary["target"],
                    "command": summary["command"]}  # fmt: skip
            if summary["task"] == "survival":
                meta.update(time=summary["time"], event=summary["event"])
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
        from natgrad import report

        task = summary["task"]
        target = None if task == "classification" else df[summary["target"]]
        data_summary = {
            "file": summary["data"],
            **report.summarize_data(df[summary["features"]], target,
                                    target_name=summary["target"]),
            "training rows": summary["rows"]["train"],
            "validation rows": summary["rows"]["validation"],
        }  # fmt: skip
        common = {"model": model, "X_val": X_val, "metrics": summary["metrics"],
                  "data_summary": data_summary, "command": summary["command"],
                  "version": __version__}  # fmt: skip
        if task == "classification":
            counts = df[summary["target"]].astype(str).value_counts()
            data_summary["rows per class"] = {str(k): int(v) for k, v in counts.items()}
            report.write_classification_report(tmp, y_val=y_val, **common)
        elif task == "survival":
            data_summary["events"] = int(df[summary["event"]].sum())
            report.write_survival_report(tmp, time_val=y_val[0], event_val=y_val[1], **common)
        else:
            report.write_report(tmp, y_val=y_val, **common)
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
    "--times", default="", metavar="T1,T2,...",
    help="Survival models: times t > 0 at which to write S(t) as columns sf_<t>.",
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

    Writes one row per input row. Regression: mean, std, the requested quantiles and
    interval bounds (NaN where the family has no mean or variance, e.g. Cauchy).
    Classification: p_<label> for every class, then predicted (the most probable class).
    Survival: median_time, then sf_<t> = P(T > t) for every --times value.
    """
    import numpy as np
    import pandas as pd

    dest: Path = o["out"]
    if dest.suffix.lower() not in _TABLES:
        raise InputError(f"--out {dest}: expected a .csv, .tsv or .parquet file name")
    _check_new([dest], o["force"])
    model, _ = _load_model(o["model_path"])
    task = _task_of(model)
    times = _times(o["times"]) if task == "survival" else []
    if o["times"] and task != "survival":
        raise InputError(f"--times is for survival models; {o['model_path']} is {task}")
    df = _read_table(o["data"])
    keep = _split_list(o["keep"])
    reserved = ("mean", "std", "predicted", "median_time")
    prefixes = ("q_", "lower_", "upper_", "p_", "sf_")
    clash = [k for k in keep if k in reserved or k.startswith(prefixes)]
    if clash:
        raise InputError(f"--keep column(s) {_names(clash)} would clash with prediction columns")
    absent = [k for k in keep if k not in df.columns]
    if absent:
        raise InputError(f"{o['data']}: --keep column(s) {_names(absent)} not found")
    X = _model_features(model, df, o["data"], exclude=keep)
    dist = model.predict_dist(X)
    n = len(dist)
    table = {k: df[k].to_numpy() for k in keep}
    if task == "classification":
        proba = model.predict_proba(X)
        for j, label in enumerate(model.classes_.tolist()):
            table[f"p_{label}"] = proba[:, j]
        table["predicted"] = model.classes_[np.argmax(proba, axis=1)]
    elif task == "survival":
        table["median_time"] = dist.ppf(np.full(n, 0.5))
        sf = model.predict_survival_function(X, times) if times else np.empty((n, 0))
        for j, t in enumerate(times):
            table[f"sf_{t!r}"] = sf[:, j]
    with np.errstate(all="ignore"):
        moments = (("mean", dist.mean), ("std", dist.std)) if task == "regression" else ()
        if task != "regression":
            o["quantiles"] = o["intervals"] = []
        for name, moment in moments:
            try:
                table[name] = np.asarray(moment(), dtype=np.float64) * np.ones(n)
            except ValueError:  # a family without this moment (Cauchy) says so by raising
                table[name] = np.full(n, np.nan)
        for q in o["quantiles"]:
            table[f"q_{q!r}"] = dist.ppf(np.full(n, q))
        for level in o["intervals"]:
            table[f"lower_{level!r}"], table[f"upper_{level!r}"] = dist.interval(level)
    with _staged([dest], o["force"]) as (tmp,):
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
    """Score a model from natgrad fit on DATA.

    Regression: NLL, CRPS, RMSE, MAE, coverage, calibration. Classification: log loss,
    accuracy, Brier score, calibration error. Survival: censored NLL, concordance, median
    coverage, calibration error (the time and event columns are those of natgrad fit).
    """
    import numpy as np

    json_out: Path | None = o["json_out"]
    to_stdout = json_out is not None and str(json_out) == "-"
    if json_out is not None and not to_stdout:
        _check_new([json_out], o["force"])
    model, metadata = _load_model(o["model_path"])
    task = _task_of(model)
    target = o["target"] or metadata.get("target")
    if not target:
        raise InputError("--target is required: the model file does not name its target column")
    df = _read_table(o["data"])
    path = o["data"]
    if task == "survival":
        event_col = metadata.get("event")
        if not isinstance(event_col, str):
            raise InputError(f"{o['model_path']}: the model file does not name its event column")
        y: Any = _survival_columns(df, target, event_col, path)
        used = [target, event_col]
    elif task == "classification":
        y = _labels(df, target, path)
        unseen = ~np.isin(y, model.classes_)
        if unseen.any():
            row = int(np.flatnonzero(unseen)[0])
            raise InputError(
                f"{path}: target column {target!r} holds a class unseen at fit time at row "
                f"{row + 1} ({y[row]!r}); the model knows {_names(model.classes_.tolist())}"
            )
        used = [target]
    else:
        y = _target(df, target, path, model._template_)
        used = [target]
    X = _model_features(model, df, path, exclude=used)
    metrics = _task_metrics(model, task, X, y)
    result = {
        "model": str(o["model_path"]),
        "data": str(o["data"]),
        "task": task,
        "target": target,
        "rows": int(len(df)),
        "metrics": metrics,
    }
    text = json.dumps(_json_safe(result), indent=2) + "\n"
    if to_stdout:
        click.echo(text, nl=False)
        return
    click.echo(f"{len(df)} rows of {o['data']}, target {target!r}:")
    click.echo(_table(metrics, task))
    if json_out is not None:
        with _staged([json_out], o["force"]) as (tmp,):
            tmp.write_text(text)
        click.echo(f"Wrote {json_out}.")


commands: list[click.Command] = [fit, predict, evaluate]
