"""Data helpers of the ``natgrad`` model commands: reading tables and checking columns.

Every check raises `InputError` (exit code 2) with one line naming the file, the column, the
row (numbered from 1, the header not counted) and what was expected.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

_TABLES = {".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}


class InputError(click.ClickException):
    """Bad input (a data file, a column, a model file): one line on stderr, exit code 2."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


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
                " (the model was fitted with this feature as numeric, so its categories "
                "cannot be used here)"
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


def _as_categories(col: Any) -> Any:
    """A text column as a pandas ``category`` column of its values as strings (missing kept):
    the estimators split such columns by category sets (native categorical features)."""
    import numpy as np
    import pandas as pd

    obj = col.astype(object)
    present = obj.notna().to_numpy()
    text = np.array(
        [str(v) if ok else None for v, ok in zip(obj, present, strict=True)], dtype=object
    )
    return pd.Categorical(text)


def _is_text(col: Any) -> bool:
    """Whether a column is a categorical feature in ``fit``: a pandas ``category`` column, or
    a column of text none of whose values is a number (a column of numbers with a stray word
    stays an error, most likely a typo)."""
    import pandas as pd

    if isinstance(col.dtype, pd.CategoricalDtype):
        return True
    if pd.api.types.is_numeric_dtype(col) or not (
        pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col)
    ):
        return False
    converted = pd.to_numeric(col.astype(object), errors="coerce")
    return bool(col.notna().any() and converted.isna().all())


def _feature_frame(
    df: Any,
    names: Sequence[str],
    path: Path,
    *,
    for_fit: bool,
    categories: Sequence[Any] | None = None,
) -> Any:
    """The feature columns as a DataFrame: float64, except text columns, which become
    ``category`` columns. In ``fit`` a column needs one value and a column of text is
    categorical; otherwise ``categories`` (the model's ``categories_``, by position in
    ``names``) says which columns are."""
    import numpy as np

    columns = {}
    for j, name in enumerate(names):
        is_cat = (
            _is_text(df[name]) if for_fit else categories is not None and categories[j] is not None
        )
        if is_cat:
            columns[name] = _as_categories(df[name])
            if for_fit and columns[name].isna().all():
                raise InputError(
                    f"{path}: column {name!r} has no values (every row is missing); drop it "
                    "or pass --features"
                )
            continue
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
    import pandas as pd

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


def _model_features(model: Any, df: Any, path: Path, exclude: Sequence[str]) -> Any:
    """The model's feature columns from ``df`` (by name when the model knows the names)."""
    names = getattr(model, "feature_names_in_", None)
    categories = getattr(model, "categories_", None)
    if names is not None:
        names = [str(n) for n in names]
        missing = [n for n in names if n not in df.columns]
        if missing:
            raise InputError(
                f"{path}: missing the model's feature column(s) {_names(missing)}; the model "
                f"was fitted on {_names(names)}"
            )
        return _feature_frame(df, names, path, for_fit=False, categories=categories)
    columns = [c for c in df.columns if c not in exclude]
    if len(columns) != model.n_features_in_:
        raise InputError(
            f"{path}: has {len(columns)} feature column(s); the model was fitted without "
            f"column names on {model.n_features_in_} features"
        )
    return _feature_frame(df, columns, path, for_fit=False, categories=categories).to_numpy()


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


def _stratified_split(labels: Any, fraction: float, seed: int, path: Path) -> tuple[Any, Any]:
    """A seeded split that holds out about ``fraction`` of every class, keeping one to train."""
    import numpy as np

    rng = np.random.default_rng(seed)
    val = []
    for k in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == k))
        n_val = min(int(round(fraction * rows.size)), rows.size - 1)
        val.append(rows[:n_val])
    val_rows = np.sort(np.concatenate(val))
    if val_rows.size < 1:
        raise InputError(
            f"{path}: {len(labels)} row(s) are too few to hold out a validation fraction of "
            f"{fraction}"
        )
    train = np.setdiff1d(np.arange(len(labels)), val_rows)
    return train, val_rows


def _labels(df: Any, name: str, path: Path) -> Any:
    """A class label column (numbers, strings or booleans): no missing value, two classes."""
    import numpy as np
    import pandas as pd

    if name not in df.columns:
        raise InputError(
            f"{path}: target column {name!r} not found; its columns are {_names(df.columns)}"
        )
    col = df[name]
    missing = np.flatnonzero(col.isna().to_numpy())
    if missing.size:
        raise InputError(
            f"{path}: target column {name!r} is missing at row {missing[0] + 1}; every row "
            "needs a class label"
        )
    if pd.api.types.is_bool_dtype(col) or (
        pd.api.types.is_numeric_dtype(col) and not isinstance(col.dtype, pd.CategoricalDtype)
    ):
        values = col.to_numpy()
        if values.dtype.kind == "f" and np.all(values == np.round(values)):
            values = values.astype(np.int64)  # 0.0 / 1.0 labels read back as 0 / 1
    else:
        values = col.astype(str).to_numpy(dtype=object)
    classes = np.unique(values)
    if classes.size < 2:
        raise InputError(
            f"{path}: target column {name!r} holds a single class ({classes[0]!r}); "
            "classification needs at least two"
        )
    return values


def _survival_columns(df: Any, time_col: str, event_col: str, path: Path) -> tuple[Any, Any]:
    """Times (finite, > 0) and event flags (0 or 1) with at least one event."""
    import numpy as np

    from natgrad._targets import check_time_event

    out = []
    for flag, name in (("--time", time_col), ("--event", event_col)):
        if name not in df.columns:
            raise InputError(
                f"{path}: {flag} column {name!r} not found; its columns are {_names(df.columns)}"
            )
        values = _numeric(df, name, path)
        missing = np.flatnonzero(np.isnan(values))
        if missing.size:
            raise InputError(f"{path}: column {name!r} is missing at row {missing[0] + 1}")
        out.append(values)
    time, event = out
    check_time_event(
        time,
        event,
        (f"{path}: time column {time_col!r}", f"{path}: event column {event_col!r}"),
        first_row=1,
        error=InputError,
    )
    if not event.any():
        raise InputError(
            f"{path}: event column {event_col!r} is 0 on every row (all censored); at least "
            "one observed event is needed"
        )
    return time, event


#: The distribution families each task accepts, and its default.
TASK_FAMILIES = {
    "classification": (("auto", "bernoulli", "categorical"), "auto"),
    "survival": (("lognormal", "exponential", "weibull", "gamma"), "lognormal"),
}
