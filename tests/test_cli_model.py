"""The fit, predict and evaluate commands: outputs, exit codes and one-line errors."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from natgrad import io
from natgrad._data import DEMO_TARGET, demo_path, load_demo
from natgrad.boosting import NGBoostRegressor
from natgrad.cli._model import commands

FAST = ["--n-estimators", "10", "--learning-rate", "0.3", "--quiet"]
GOLDEN = ["mean", "std", "q_0.05", "q_0.5", "q_0.95", "lower_0.8", "upper_0.8"]
GOLDEN += ["lower_0.95", "upper_0.95"]


@click.group()
def cli() -> None:
    """The commands as the natgrad group registers them."""


for _command in commands:
    cli.add_command(_command)


def run(*args: str | Path):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=True)


def one_line_error(result, code: int, *fragments: str) -> str:
    """Assert the exit code and a single-line stderr message holding every fragment."""
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error")]
    # One error line, last (progress notes may come before it), and no traceback.
    assert len(errors) == 1 and lines[-1] == errors[0], result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in errors[0], (fragment, errors[0])
    return errors[0]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """One fit on the shipped data, shared by the predict and evaluate tests."""
    out = tmp_path_factory.mktemp("fit") / "out"
    result = run("fit", "--out", out, *FAST)
    assert result.exit_code == 0, result.output
    return out, result


@pytest.fixture
def concrete(tmp_path):
    """A small copy of the shipped data with an id column, as CSV."""
    df, _ = load_demo()
    df = df.iloc[:120].copy()
    df.insert(0, "id", np.arange(len(df)) + 1000)
    path = tmp_path / "small.csv"
    df.to_csv(path, index=False)
    return path, df


def write_csv(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


# ------------------------------------------------------------------------------ fit
def test_demo_data(tmp_path):
    df, target = load_demo()
    assert df.shape == (1030, 9) and target == DEMO_TARGET == df.columns[-1]
    assert list(df.columns[:2]) == ["cement", "slag"]
    assert not df.isna().any().any()
    assert df["strength"].between(2, 83).all()
    arr, _ = load_demo(as_frame=False)
    assert arr.shape == (1030,) and np.array_equal(arr["strength"], df["strength"])


def test_fit_without_data_trains_on_shipped_data(fitted):
    out, result = fitted
    assert "shipped demo data" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "model.ngm", "report.html"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["target"] == "strength" and metrics["rows"] == {"train": 824, "validation": 206}
    assert set(metrics["metrics"]) >= {"nll", "crps", "rmse", "coverage_95", "calibration_error"}
    assert 0 <= metrics["chosen_stage"] <= metrics["stages_fitted"] <= 10
    assert metrics["command"].startswith("natgrad fit --distribution normal")
    model = io.load(out / "model.ngm")
    assert io.read_header(out / "model.ngm")["metadata"]["target"] == "strength"
    assert model.best_iteration_ == metrics["chosen_stage"]
    assert "nll" in result.stdout and "Chosen stage" in result.stdout


def test_report_has_every_figure_and_each_image_decodes(fitted):
    from natgrad.report import FIGURE_IDS

    page = (fitted[0] / "report.html").read_text()
    for fig_id in FIGURE_IDS:
        assert f'id="{fig_id}"' in page
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == len(FIGURE_IDS)
    for image in images:
        assert base64.b64decode(image, validate=True).startswith(b"\x89PNG\r\n\x1a\n")
    assert "natgrad fit" in page


def test_fit_on_a_file_with_options(tmp_path, concrete):
    path, df = concrete
    out = tmp_path / "out"
    args = ["fit", path, "--target", "strength", "--features", "cement,water", "--features"]
    args += ["age", "--distribution", "lognormal", "--validation-fraction", "0.25", "--seed", "3"]
    result = run(*args, "--out", out, "--no-report", *FAST)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "model.ngm"]
    model = io.load(out / "model.ngm")
    assert list(model.feature_names_in_) == ["cement", "water", "age"]
    assert model._template_.name == "lognormal"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["rows"] == {"train": 90, "validation": 30} and metrics["seed"] == 3


def test_fit_refuses_to_overwrite_without_force(fitted, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(fitted[0], out)
    before = (out / "model.ngm").read_bytes()
    one_line_error(run("fit", "--out", out, *FAST), 2, "model.ngm", "already exists", "--force")
    assert (out / "model.ngm").read_bytes() == before
    result = run("fit", "--out", out, "--force", "--seed", "1", "--no-report", *FAST)
    assert result.exit_code == 0, result.output
    assert (out / "model.ngm").read_bytes() != before
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--task", "classification"], ["--task classification needs a DATA file"]),
        (["--task", "survival", "--time", "t"], ["--task survival needs --time COL and --event"]),
        (["--time", "t"], ["--time and --event belong to --task survival"]),
        (["--distribution", "bogus"], ["'bogus'", "normal", "gamma"]),
        (["--distribution", "multivariate_normal"], ["not a univariate family"]),
        (["--distribution", "student_t", "--distribution-config", "[1]"], ["JSON object"]),
        (["--distribution-config", '{"fixed_df": 3}'], ["does not fit 'normal'"]),
        (["--target", "nope"], ["target column 'nope' not found", "'cement'"]),
        (["--features", "cement,nope"], ["unknown feature column(s) 'nope'"]),
        (["--features", "strength"], ["must not include the target"]),
        (["--distribution", "poisson"], ["must be a non-negative integer", "row 1 holds 79.99"]),
    ],
)
def test_fit_bad_input(tmp_path, args, fragments):
    out = tmp_path / "out"
    one_line_error(run("fit", "--out", out, *args, *FAST), 2, *fragments)
    assert not out.exists()


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("", ["the file is empty"]),
        ("a,b,y\n", ["header but no data rows"]),
        ("a,b,y\n1,2,3\n4,oops,6\n7,8,9\n", ["column 'b' must be numeric", "row 2 holds 'oops'"]),
        ("a,b,y\n1,,3\n4,,6\n7,,9\n", ["column 'b' has no values"]),
        ("a,b,y\n1,2,3\n4,inf,6\n7,8,9\n", ["column 'b' must hold finite numbers", "row 2"]),
        ("a,b,y\n1,2,3\n4,5,\n7,8,9\n", ["target column 'y' is missing at row 2"]),
        ("a,b,y\n1,2,3\n4,5,x\n7,8,9\n", ["column 'y' must be numeric", "row 2 holds 'x'"]),
        ("a,y\n1,2\n", ["too few"]),
    ],
)
def test_fit_bad_data_files(tmp_path, text, fragments):
    path = write_csv(tmp_path, text)
    one_line_error(
        run("fit", path, "--target", "y", "--out", tmp_path / "o"), 2, str(path), *fragments
    )


def test_fit_target_outside_support_names_the_row(tmp_path):
    path = write_csv(
        tmp_path, "a,y\n" + "".join(f"{i},{i % 7 + 1}\n" for i in range(30)) + "5,-2\n"
    )
    line = one_line_error(
        run("fit", path, "--target", "y", "--distribution", "gamma", "--out", tmp_path / "o"), 2
    )
    assert "must be positive" in line and "'gamma'" in line and "row 31 holds -2.0" in line


def test_fit_needs_target_with_data_and_a_known_file_type(tmp_path, concrete):
    one_line_error(run("fit", concrete[0], "--out", tmp_path / "o"), 2, "--target is required")
    xlsx = write_csv(tmp_path, "a", name="data.xlsx")
    one_line_error(
        run("fit", xlsx, "--target", "a", "--out", tmp_path / "o"), 2, "unsupported file type"
    )


def test_fit_checks_the_data_before_the_output_folder(tmp_path, concrete):
    # An existing output folder must not hide a mistake in the data arguments.
    out = tmp_path / "o"
    out.mkdir()
    (out / "model.ngm").write_bytes(b"x")
    one_line_error(run("fit", concrete[0], "--out", out), 2, "--target is required")
    xlsx = write_csv(tmp_path, "a", name="data.xlsx")
    one_line_error(run("fit", xlsx, "--target", "a", "--out", out), 2, "unsupported file type")


def test_the_readme_fit_left_in_the_working_directory_changes_no_error(
    tmp_path, concrete, monkeypatch
):
    # The README's first command leaves natgrad-out/model.ngm in the clone; a later fit run
    # there without --out must still report the mistake in its data arguments.
    clone = tmp_path / "clone"
    (clone / "natgrad-out").mkdir(parents=True)
    (clone / "natgrad-out" / "model.ngm").write_bytes(b"x")
    monkeypatch.chdir(clone)
    one_line_error(run("fit", concrete[0]), 2, "--target is required")
    xlsx = write_csv(tmp_path, "a", name="data.xlsx")
    one_line_error(run("fit", xlsx, "--target", "a"), 2, "unsupported file type")


def test_fit_never_replaces_an_output_another_run_wrote_meanwhile(tmp_path, monkeypatch):
    # A long fit checks --out, trains, and meanwhile a short fit writes the same folder: the
    # long one must refuse to replace the other's files (exit 2), not overwrite them.
    out = tmp_path / "o"
    fit = NGBoostRegressor.fit

    def slow_fit(self, *args, **kwargs):
        out.mkdir(exist_ok=True)
        (out / "model.ngm").write_bytes(b"the other run's model")
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(NGBoostRegressor, "fit", slow_fit)
    one_line_error(run("fit", "--out", out, *FAST), 2, "model.ngm", "--force")
    assert (out / "model.ngm").read_bytes() == b"the other run's model"
    assert sorted(p.name for p in out.iterdir()) == ["model.ngm"]  # nothing else, no temps


def test_fit_checks_an_unwritable_output_location_before_training(tmp_path, monkeypatch):
    trained = []
    monkeypatch.setattr(NGBoostRegressor, "fit", lambda self, *a, **k: trained.append(1))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    one_line_error(run("fit", "--out", blocker / "o", *FAST), 2, "--out", "is a file")
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        one_line_error(run("fit", "--out", locked / "o", *FAST), 2, "not writable")
    assert trained == []


def test_predict_checks_its_output_folder_first(fitted, tmp_path):
    model_path = fitted[0] / "model.ngm"
    line = one_line_error(
        run("predict", model_path, demo_path(), "--out", tmp_path / "missing" / "p.csv"), 2
    )
    assert "does not exist" in line and ".tmp" not in line


def test_fit_categorical_parquet_column_is_categorical(tmp_path):
    df = pd.DataFrame({"color": pd.Categorical(["red", "blue"] * 20), "y": np.arange(40.0)})
    path = tmp_path / "d.parquet"
    df.to_parquet(path)
    result = run("fit", path, "--target", "y", "--out", tmp_path / "o", *FAST)
    assert result.exit_code == 0, (result.output, result.exception)
    model = io.load(tmp_path / "o" / "model.ngm")
    assert model.categories_ == [["blue", "red"]]


def test_fit_usage_errors_exit_2(tmp_path):
    assert run("fit", "--no-such-option").exit_code == 2
    assert run("fit", "--n-estimators", "0").exit_code == 2
    assert run("fit", "--validation-fraction", "1").exit_code == 2
    assert run("fit", tmp_path / "missing.csv").exit_code == 2


def test_fit_refuses_a_learning_rate_above_one(tmp_path, monkeypatch):
    # Above 1 the stages overshoot the line search and the fit diverges (issue 14 #10).
    trained = []
    monkeypatch.setattr(NGBoostRegressor, "fit", lambda self, *a, **k: trained.append(1))
    out = tmp_path / "o"
    fast = ["--n-estimators", "3", "--quiet"]
    one_line_error(run("fit", "--out", out, "--learning-rate", "5", *fast), 2, "'--learning-rate'")
    assert trained == [] and not out.exists()


def test_ctrl_c_during_training_writes_nothing(tmp_path, monkeypatch):
    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(NGBoostRegressor, "fit", interrupted)
    out = tmp_path / "out"
    result = run("fit", "--out", out, *FAST)
    assert result.exit_code == 130
    assert "Interrupted (Ctrl-C): training stopped" in result.stderr
    assert not out.exists()


def test_ctrl_c_while_writing_outputs_leaves_no_partial_files(tmp_path, monkeypatch):
    import natgrad.report

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(natgrad.report, "write_report", interrupted)
    out = tmp_path / "out"
    out.mkdir()
    result = run("fit", "--out", out, *FAST, "--n-estimators", "2")
    assert result.exit_code == 130 and "Interrupted" in result.stderr
    assert list(out.iterdir()) == []


def test_unexpected_failure_exits_1_with_one_line_and_debug_shows_traceback(tmp_path, monkeypatch):
    def broken(self, *args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(NGBoostRegressor, "fit", broken)
    line = one_line_error(run("fit", "--out", tmp_path / "o", *FAST), 1, "RuntimeError: boom")
    assert "--debug" in line
    result = run("fit", "--out", tmp_path / "o", "--debug", *FAST)
    assert result.exit_code == 1
    assert "Traceback" in result.stderr and "boom" in result.stderr


# ------------------------------------------------------------------------------ predict
def test_predict_golden_columns_and_values(fitted, concrete, tmp_path):
    path, df = concrete
    dest = tmp_path / "pred.csv"
    result = run("predict", fitted[0] / "model.ngm", path, "--out", dest)
    assert result.exit_code == 0, result.output
    pred = pd.read_csv(dest, float_precision="round_trip")
    assert list(pred.columns) == GOLDEN
    assert len(pred) == len(df)
    model = io.load(fitted[0] / "model.ngm")
    dist = model.predict_dist(df[list(model.feature_names_in_)])
    # CSV keeps the shortest repr of each float64: the values come back exactly.
    assert np.array_equal(pred["mean"].to_numpy(), dist.mean())
    assert np.array_equal(pred["std"].to_numpy(), dist.std())
    assert np.array_equal(pred["q_0.05"].to_numpy(), dist.ppf(np.full(len(df), 0.05)))
    assert (pred["lower_0.95"] <= pred["lower_0.8"]).all()
    assert (pred["lower_0.8"] <= pred["q_0.5"]).all() and (pred["q_0.5"] <= pred["upper_0.8"]).all()


def test_predict_options_parquet_and_keep(fitted, concrete, tmp_path):
    path, df = concrete
    source = tmp_path / "in.parquet"
    df.to_parquet(source)
    dest = tmp_path / "pred.parquet"
    args = ["--quantiles", "0.1,0.9,0.1,0.123456789", "--intervals", "", "--keep", "id"]
    result = run("predict", fitted[0] / "model.ngm", source, "--out", dest, *args)
    assert result.exit_code == 0, result.output
    pred = pd.read_parquet(dest)
    assert list(pred.columns) == ["id", "mean", "std", "q_0.1", "q_0.9", "q_0.123456789"]
    assert np.array_equal(pred["id"].to_numpy(), df["id"].to_numpy())


def test_predict_never_overwrites_without_force(fitted, concrete, tmp_path):
    dest = write_csv(tmp_path, "precious\n", name="pred.csv")
    model = fitted[0] / "model.ngm"
    one_line_error(run("predict", model, concrete[0], "--out", dest), 2, "already exists")
    assert dest.read_text() == "precious\n"
    assert run("predict", model, concrete[0], "--out", dest, "--force").exit_code == 0
    assert list(pd.read_csv(dest).columns) == GOLDEN
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pred.csv", "small.csv"]


def test_predict_bad_input(fitted, concrete, tmp_path):
    model = fitted[0] / "model.ngm"
    path, df = concrete
    missing = tmp_path / "missing_cols.csv"
    df.drop(columns=["age", "water"]).to_csv(missing, index=False)
    one_line_error(
        run("predict", model, missing, "--out", tmp_path / "p.csv"),
        2,
        "missing the model's feature column(s) 'water', 'age'",
    )
    one_line_error(run("predict", model, path, "--out", tmp_path / "p.json"), 2, ".csv, .tsv")
    bad = tmp_path / "bad.csv"
    df.astype({"slag": object}).assign(slag=lambda d: d.slag.where(d.index != 1, "x")).to_csv(
        bad, index=False
    )
    one_line_error(
        run("predict", model, bad, "--out", tmp_path / "p.csv"), 2, "'slag'", "row 2 holds 'x'"
    )
    one_line_error(
        run("predict", model, path, "--out", tmp_path / "p.csv", "--keep", "id,mean"),
        2,
        "'mean' would clash",
    )
    result = run("predict", model, path, "--out", tmp_path / "p.csv", "--quantiles", "1.5")
    assert result.exit_code == 2 and "strictly between 0 and 1" in result.stderr
    assert not (tmp_path / "p.csv").exists()


def _damaged_models(source: Path, tmp_path: Path) -> list[tuple[Path, str]]:
    blob = source.read_bytes()
    flipped = bytearray(blob)
    flipped[len(blob) // 2] ^= 0x04
    cases = {
        "text.ngm": (b"cement,slag\n1,2\n", "not a natgrad model file"),
        "flipped.ngm": (bytes(flipped), "checksum"),
        "truncated.ngm": (blob[: len(blob) // 3], "truncated"),
        "empty.ngm": (b"", "not a natgrad model file"),
    }
    out = []
    for name, (data, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        out.append((tmp_path / name, message))
    return out


def test_damaged_model_files_are_bad_input(fitted, concrete, tmp_path):
    for model, message in _damaged_models(fitted[0] / "model.ngm", tmp_path):
        for command in (["predict"], ["evaluate"]):
            extra = ["--out", tmp_path / "p.csv"] if command == ["predict"] else []
            result = run(*command, model, concrete[0], *extra)
            one_line_error(result, 2, str(model), message)
    result = run("evaluate", tmp_path / "flipped.ngm", concrete[0], "--debug")
    assert result.exit_code == 2 and "Traceback" in result.stderr


def test_model_saved_from_python_without_column_names(concrete, tmp_path):
    path, df = concrete
    features = df.columns[1:-1]
    model = NGBoostRegressor(n_estimators=3).fit(df[features].to_numpy(), df["strength"])
    model_path = io.save(model, tmp_path / "py.ngm")
    only_features = tmp_path / "features.csv"
    df[features].to_csv(only_features, index=False)
    result = run("predict", model_path, only_features, "--out", tmp_path / "p.csv")
    assert result.exit_code == 0, result.output
    expected = model.predict(df[features].to_numpy())
    got = pd.read_csv(tmp_path / "p.csv", float_precision="round_trip")["mean"].to_numpy()
    assert np.array_equal(got, expected)
    one_line_error(
        run("predict", model_path, path, "--out", tmp_path / "q.csv"),
        2,
        "has 10 feature column(s); the model was fitted without column names on 8 features",
    )
    one_line_error(run("evaluate", model_path, path), 2, "--target is required")
    result = run("evaluate", model_path, path, "--target", "strength", "--json", "-")
    assert result.exit_code == 2 and "has 9 feature column(s)" in result.stderr
    with_target = tmp_path / "with_target.csv"
    df.iloc[:, 1:].to_csv(with_target, index=False)
    result = run("evaluate", model_path, with_target, "--target", "strength", "--json", "-")
    assert result.exit_code == 0 and json.loads(result.stdout)["rows"] == 120


def test_unwritable_output_is_one_line_exit_1(fitted, concrete, tmp_path, monkeypatch):
    import natgrad.cli._model as cli_model

    def denied(frame, path, kind):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(cli_model, "_write_table", denied)
    dest = tmp_path / "p.csv"
    result = run("predict", fitted[0] / "model.ngm", concrete[0], "--out", dest)
    one_line_error(result, 1, "Permission denied", str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.csv"]


# ------------------------------------------------------------------------------ evaluate
def test_evaluate_table_json_and_defaults(fitted, concrete, tmp_path):
    model = fitted[0] / "model.ngm"
    dest = tmp_path / "m.json"
    result = run("evaluate", model, concrete[0], "--json", dest)  # target from the model file
    assert result.exit_code == 0, result.output
    for name in ("nll", "crps", "rmse", "mae", "coverage_50", "calibration_error"):
        assert re.search(rf"^{name}\s+-?\d", result.stdout, re.MULTILINE), name
    saved = json.loads(dest.read_text())
    assert saved["target"] == "strength" and saved["rows"] == 120
    one_line_error(run("evaluate", model, concrete[0], "--json", dest), 2, "already exists")
    piped = run("evaluate", model, concrete[0], "--json", "-")
    assert json.loads(piped.stdout)["metrics"] == saved["metrics"]


def test_evaluate_bad_target(fitted, concrete, tmp_path):
    model = fitted[0] / "model.ngm"
    one_line_error(run("evaluate", model, concrete[0], "--target", "nope"), 2, "'nope' not found")
    neg = write_csv(tmp_path, "cement,slag,fly_ash,water,superplasticizer,coarse_aggregate,"
                    "fine_aggregate,age,strength\n1,2,3,4,5,6,7,8,\n")  # fmt: skip
    one_line_error(run("evaluate", model, neg), 2, "'strength' is missing at row 1")


def test_end_to_end_validation_metrics_match(fitted, tmp_path):
    """fit → predict → evaluate: evaluate on the held-out rows reproduces metrics.json."""
    out = fitted[0]
    df = pd.read_csv(demo_path())
    n_val = 206
    val = np.sort(np.random.default_rng(0).permutation(len(df))[:n_val])
    holdout = tmp_path / "val.csv"
    df.iloc[val].to_csv(holdout, index=False)
    result = run("evaluate", out / "model.ngm", holdout, "--json", "-")
    assert result.exit_code == 0, result.output
    expected = json.loads((out / "metrics.json").read_text())["metrics"]
    assert json.loads(result.stdout)["metrics"] == pytest.approx(expected, rel=1e-12)
    pred = tmp_path / "pred.csv"
    assert run("predict", out / "model.ngm", holdout, "--out", pred).exit_code == 0
    assert len(pd.read_csv(pred)) == n_val


# ------------------------------------------------------------------------------ subprocess
def _natgrad() -> list[str]:
    """The installed console script once `fit` is registered; until then the same commands
    under a bare click group in a fresh interpreter."""
    import natgrad.cli

    script = shutil.which("natgrad") or str(Path(sys.executable).parent / "natgrad")
    if "fit" in getattr(natgrad.cli.main, "commands", {}) and Path(script).exists():
        return [script]
    code = (
        "import click; from natgrad.cli._model import commands; "
        "click.Group('natgrad', commands=commands)(prog_name='natgrad')"
    )
    return [sys.executable, "-c", code]


def sh(*args, **kwargs):
    return subprocess.run(
        [*_natgrad(), *map(str, args)], capture_output=True, text=True, timeout=120, **kwargs
    )


def test_fit_works_with_stderr_closed(tmp_path):
    # `natgrad fit ... 2>&-`: Python then has no sys.stderr; the progress bar must not crash.
    out = tmp_path / "out"
    done = subprocess.run(
        [*_natgrad(), "fit", "--out", str(out), "--n-estimators", "3", "--no-report"],
        stdout=subprocess.PIPE, text=True, timeout=300, preexec_fn=lambda: os.close(2),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout
    assert (out / "model.ngm").exists() and "Wrote" in done.stdout


def test_subprocess_end_to_end(tmp_path):
    out = tmp_path / "out"
    fit = sh("fit", "--out", out, "--n-estimators", "5", "--no-report")
    assert fit.returncode == 0, fit.stderr
    assert "shipped demo data" in fit.stdout and "Wrote" in fit.stdout
    assert "stage" in fit.stderr  # the progress bar
    pred = sh("predict", out / "model.ngm", demo_path(), "--out", tmp_path / "p.csv")
    assert pred.returncode == 0, pred.stderr
    assert list(pd.read_csv(tmp_path / "p.csv").columns) == GOLDEN
    ev = sh("evaluate", out / "model.ngm", demo_path(), "--json", "-")
    assert ev.returncode == 0 and "nll" in json.loads(ev.stdout)["metrics"]
    bad = sh("evaluate", demo_path(), demo_path())
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "not a natgrad" in bad.stderr
    usage = sh("fit", "--task", "survival", "--out", tmp_path / "o2")
    assert usage.returncode == 2 and "needs --time COL and --event COL" in usage.stderr
    assert "Traceback" not in bad.stderr + usage.stderr


@pytest.mark.skipif(os.name != "posix", reason="SIGINT delivery to a child is POSIX")
def test_subprocess_ctrl_c_stops_cleanly(tmp_path):
    # Caught a real crash: a compiled kernel that returned a named tuple died of SIGSEGV in
    # about 5 of 12 interrupts (numba boxes a named tuple by running Python code, and a
    # KeyboardInterrupt there left it calling a NULL class); kernels return plain tuples.
    out = tmp_path / "out"
    args = ["fit", "--out", out, "--n-estimators", "100000", "--early-stopping-rounds", "0"]
    proc = subprocess.Popen(
        [*_natgrad(), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A test run started in the background of a non-interactive shell (a CI script's
        # `cmd &`) ignores SIGINT, and a child inherits that: Python then installs no
        # KeyboardInterrupt handler and the Ctrl-C under test never arrives. The child starts
        # with the default disposition, as a process started from a terminal does.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    # Interrupt once training has begun (its announcement precedes the first stage).
    deadline = time.monotonic() + 60
    seen = ""
    while "Training on" not in seen and time.monotonic() < deadline:
        seen += proc.stderr.read(1)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, seen + err
    assert "Interrupted (Ctrl-C): training stopped" in err
    assert "Traceback" not in err
    assert not out.exists()


# ------------------------------------------------------------------ classification, survival
TASK_FAST = ["--n-estimators", "8", "--learning-rate", "0.3", "--quiet"]


@pytest.fixture(scope="module")
def task_data(tmp_path_factory):
    d = tmp_path_factory.mktemp("tasks")
    rng = np.random.default_rng(0)
    n = 240
    X = rng.normal(size=(n, 2))
    label = np.where(X[:, 0] + rng.normal(size=n) > 0, "yes", "no")
    pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "label": label}).to_csv(d / "cls.csv", index=False)
    time_ = rng.exponential(size=n) * np.exp(X[:, 0])
    event = (rng.random(n) < 0.7).astype(int)
    frame = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "time": time_, "event": event})
    frame.to_csv(d / "surv.csv", index=False)
    cls = run("fit", d / "cls.csv", "--task", "classification", "--target", "label",
              *TASK_FAST, "--out", d / "oc")  # fmt: skip
    assert cls.exit_code == 0, cls.output
    surv = run("fit", d / "surv.csv", "--task", "survival", "--time", "time", "--event",
               "event", *TASK_FAST, "--out", d / "os")  # fmt: skip
    assert surv.exit_code == 0, surv.output
    return d


def _figures_decode(html_text: str, ids) -> None:
    for fig_id in ids:
        m = re.search(f'id="{fig_id}-img"[^>]*src="data:image/png;base64,([^"]+)"', html_text)
        assert m, fig_id
        assert base64.b64decode(m.group(1)).startswith(b"\x89PNG\r\n\x1a\n")


def test_classification_fit_predict_evaluate(task_data, tmp_path):
    from natgrad.report import CLASSIFICATION_FIGURE_IDS

    d = task_data
    metrics = json.loads((d / "oc" / "metrics.json").read_text())
    assert metrics["task"] == "classification" and metrics["classes"] == ["no", "yes"]
    assert set(metrics["metrics"]) == {"log_loss", "accuracy", "brier", "calibration_error"}
    assert io.read_header(d / "oc" / "model.ngm")["task"] == "classification"
    _figures_decode((d / "oc" / "report.html").read_text(), CLASSIFICATION_FIGURE_IDS)
    result = run("predict", d / "oc" / "model.ngm", d / "cls.csv", "--out", tmp_path / "p.csv")
    assert result.exit_code == 0, result.output
    pred = pd.read_csv(tmp_path / "p.csv", float_precision="round_trip")
    assert list(pred.columns) == ["p_no", "p_yes", "predicted"]
    np.testing.assert_allclose(pred["p_no"] + pred["p_yes"], 1.0)
    assert set(pred["predicted"]) <= {"no", "yes"}
    model = io.load(d / "oc" / "model.ngm")
    X = pd.read_csv(d / "cls.csv", float_precision="round_trip")[["a", "b"]]
    np.testing.assert_array_equal(pred["p_yes"].to_numpy(), model.predict_proba(X)[:, 1])
    ev = run("evaluate", d / "oc" / "model.ngm", d / "cls.csv", "--json", "-")
    assert ev.exit_code == 0 and json.loads(ev.stdout)["metrics"]["accuracy"] > 0.6


def test_survival_fit_predict_evaluate(task_data, tmp_path):
    from natgrad.report import SURVIVAL_FIGURE_IDS

    d = task_data
    metrics = json.loads((d / "os" / "metrics.json").read_text())["metrics"]
    assert {"censored_nll", "concordance", "median_coverage", "calibration_error"} <= set(metrics)
    _figures_decode((d / "os" / "report.html").read_text(), SURVIVAL_FIGURE_IDS)
    dest = tmp_path / "s.csv"
    result = run("predict", d / "os" / "model.ngm", d / "surv.csv", "--out", dest,
                 "--times", "0.5,1,2")  # fmt: skip
    assert result.exit_code == 0, result.output
    pred = pd.read_csv(dest, float_precision="round_trip")
    assert list(pred.columns) == ["median_time", "sf_0.5", "sf_1.0", "sf_2.0"]
    assert (np.diff(pred[["sf_0.5", "sf_1.0", "sf_2.0"]].to_numpy(), axis=1) <= 0).all()
    model = io.load(d / "os" / "model.ngm")
    X = pd.read_csv(d / "surv.csv", float_precision="round_trip")[["a", "b"]]
    np.testing.assert_array_equal(pred["median_time"].to_numpy(), model.predict(X))
    ev = run("evaluate", d / "os" / "model.ngm", d / "surv.csv", "--json", "-")
    assert ev.exit_code == 0, ev.output
    assert 0.55 < json.loads(ev.stdout)["metrics"]["concordance"] <= 1


@pytest.mark.parametrize(
    ("column", "values", "args", "fragments"),
    [
        ("label", ["x"] * 6, ["--task", "classification", "--target", "label"],
         ["holds a single class ('x')"]),
        ("event", [0, 1, 2, 0, 1, 0], ["--task", "survival", "--time", "time", "--event",
                                       "event"], ["0 (censored) or 1", "row 3"]),
        ("time", [1.0, -2.0, 1, 1, 1, 1], ["--task", "survival", "--time", "time", "--event",
                                           "event"], ["positive times", "row 2"]),
        ("event", [0] * 6, ["--task", "survival", "--time", "time", "--event", "event"],
         ["all censored"]),
    ],
)  # fmt: skip
def test_task_input_errors(tmp_path, column, values, args, fragments):
    frame = pd.DataFrame({"a": np.arange(6.0), "label": ["x", "y"] * 3, "time": 1.0,
                          "event": [1, 0] * 3})  # fmt: skip
    frame["label"] = frame["label"].astype(str)
    frame[column] = values
    frame.to_csv(tmp_path / "d.csv", index=False)
    result = run("fit", tmp_path / "d.csv", *args, *TASK_FAST, "--out", tmp_path / "o")
    one_line_error(result, 2, *fragments)


def test_evaluate_unseen_label(task_data, tmp_path):
    frame = pd.read_csv(task_data / "cls.csv")
    frame.loc[4, "label"] = "maybe"
    frame.to_csv(tmp_path / "u.csv", index=False)
    result = run("evaluate", task_data / "oc" / "model.ngm", tmp_path / "u.csv")
    one_line_error(result, 2, "unseen at fit time", "row 5", "'maybe'")
