"""Native categorical features: which columns are categorical, their categories, and codes.

The tree engine sees a categorical feature as its category *index*: category ``c`` of
``categories[f]`` becomes the float ``c`` (``0 <= c < len(categories[f])``) and every other
value -- NaN, ``None``, a pandas missing value, or a category not seen in ``fit`` -- becomes
NaN, the missing value, which each split sends the way it learned for missing values.

Encoding is by category *value*, never by pandas' integer codes: two DataFrames may hold the
same categories in a different order (or a subset of them), and their codes then differ.

* In ``fit`` the categories of a feature are its distinct non-missing values, in the order of
  the pandas ``category`` dtype for such a column (only the categories that occur), sorted
  otherwise. There may be at most ``max_bins`` of them: each gets its own histogram bin.
* In ``predict`` a value maps to its fit-time index by equality (Python's ``==`` on the
  values: ``1`` and ``1.0`` are the same category, ``"1"`` is another).

Non-DataFrame input: a categorical column holds the category values themselves (numbers, or
strings in an object array); with a float array the categories are the distinct numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["encode_categorical", "fit_categorical", "is_dataframe", "n_categories", "resolve_mask"]


def is_dataframe(X: Any) -> bool:
    """Whether ``X`` is a pandas DataFrame (without importing pandas for other inputs)."""
    return type(X).__module__.split(".")[0] == "pandas" and hasattr(X, "columns")


def _is_category_dtype(dtype: Any) -> bool:
    import pandas as pd

    return isinstance(dtype, pd.CategoricalDtype)


def _python_value(v: Any) -> Any:
    # numpy scalars become Python ones: the categories are stored as plain values.
    return v.item() if isinstance(v, np.generic) else v


def _is_missing(v: Any) -> bool:
    import pandas as pd

    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def resolve_mask(
    categorical_features: Any, X: Any, n_features: int, where: str
) -> NDArray[np.bool_] | None:
    """Boolean mask of the categorical features of ``X``, or None when there are none.

    Parameters
    ----------
    categorical_features : "from_dtype", None, or array-like of bool, int or str
        The estimator's hyper-parameter.
    X : array-like of shape (n_samples, n_features)
        Training input (a DataFrame gives dtypes and column names).
    n_features : int
    where : str
        Estimator name, for the messages.

    Returns
    -------
    mask : ndarray of shape (n_features,), bool, or None
    """
    cf = categorical_features
    prefix = f"The 'categorical_features' parameter of {where}"
    if cf is None:
        return None
    if isinstance(cf, str):
        if cf != "from_dtype":
            raise ValueError(
                f"{prefix} must be 'from_dtype', None, or an array-like of bool, int or str. "
                f"Got {cf!r} instead."
            )
        if not is_dataframe(X):
            return None
        # pandas categories, and text columns as the command line reads them.
        mask = np.array(
            [
                _is_category_dtype(X.dtypes.iloc[j]) or _is_text(X.iloc[:, j])
                for j in range(n_features)
            ],
            dtype=bool,
        )
        return mask if mask.any() else None
    items = list(np.asarray(cf, dtype=object).ravel()) if not isinstance(cf, list) else cf
    if len(items) == 0:
        return None
    if all(isinstance(v, bool | np.bool_) for v in items):
        if len(items) != n_features:
            raise ValueError(
                f"{prefix} must have one entry per feature ({n_features}) when it is a "
                f"boolean mask. Got {len(items)} entries instead."
            )
        mask = np.array(items, dtype=bool)
        return mask if mask.any() else None
    mask = np.zeros(n_features, dtype=bool)
    if all(isinstance(v, Integral) and not isinstance(v, bool | np.bool_) for v in items):
        for v in items:
            if not 0 <= int(v) < n_features:
                raise ValueError(
                    f"{prefix} must hold feature indices in [0, {n_features}). Got the index "
                    f"{int(v)} instead."
                )
            mask[int(v)] = True
        return mask
    if all(isinstance(v, str) for v in items):
        if not is_dataframe(X):
            raise ValueError(
                f"{prefix} holds feature names, which need X to be a pandas DataFrame with "
                f"column names. Got {type(X).__name__} instead; pass feature indices."
            )
        names = [str(c) for c in X.columns]
        for v in items:
            if v not in names:
                shown = ", ".join(repr(n) for n in names[:20])
                raise ValueError(
                    f"{prefix} names the feature {v!r}, which is not a column of X. The "
                    f"columns are: {shown}{' …' if len(names) > 20 else ''}."
                )
            mask[names.index(v)] = True
        return mask
    kinds = sorted({type(v).__name__ for v in items})
    raise ValueError(
        f"{prefix} must be 'from_dtype', None, or an array-like of only bool, only int or only "
        f"str. Got entries of type(s) {', '.join(kinds)} instead."
    )


def _is_text(col: Any) -> bool:
    """An object or string column holding a value that is not a number (e.g. 'west')."""
    import pandas as pd

    if not (pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col)):
        return False
    present = col.notna().to_numpy()
    try:
        numbers = pd.to_numeric(col.astype(object), errors="coerce").notna().to_numpy()
    except TypeError:  # unhashable or otherwise odd values: not numbers either
        return bool(present.any())
    return bool((present & ~numbers).any())


def check_columns(X: Any, where: str) -> None:
    """Refuse what a DataFrame ``X`` must not hold: duplicate names, date or time columns."""
    if not is_dataframe(X):
        return
    names = [str(c) for c in X.columns]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(
            f"The 'X' argument of {where} must have distinct column names. Got the "
            f"duplicate name(s) {', '.join(repr(n) for n in dup)} instead."
        )
    for name, dtype in zip(names, X.dtypes, strict=True):
        if getattr(dtype, "kind", None) in ("m", "M"):
            raise TypeError(
                f"The 'X' argument of {where} holds the date or time column {name!r} "
                f"({dtype}); convert it to numbers first (e.g. days since a reference date, "
                "or year, month and weekday columns)."
            )


def _column(X: Any, j: int) -> Any:
    """Column ``j`` of ``X`` as a pandas Series (its dtype kept for a DataFrame)."""
    import pandas as pd

    if is_dataframe(X):
        return X.iloc[:, j]
    arr = np.asarray(X)
    return pd.Series(arr[:, j])


def _categories_of(col: Any) -> list[Any]:
    """Distinct non-missing values of a column: dtype order for pandas categories, else
    sorted (by type name first when the values are of mixed, unorderable types)."""
    if _is_category_dtype(col.dtype):
        codes = np.asarray(col.cat.codes)
        used = np.unique(codes[codes >= 0])
        return [_python_value(v) for v in np.asarray(col.cat.categories, dtype=object)[used]]
    values = [_python_value(v) for v in col.dropna().unique()]
    values = [v for v in values if not _is_missing(v)]
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=lambda v: (type(v).__name__, repr(v)))


def _codes(col: Any, categories: Sequence[Any]) -> NDArray[np.float64]:
    """Fit-time index of every value of ``col`` by value (NaN: missing or unseen)."""
    import pandas as pd

    lookup: dict[Any, int] = {}
    for i, v in enumerate(categories):
        lookup.setdefault(v, i)
    if _is_category_dtype(col.dtype):
        # Map this frame's categories once, then its codes: by value, not by code.
        cats = np.asarray(col.cat.categories, dtype=object)
        table = np.array(
            [lookup.get(_python_value(v), -1) for v in cats] + [-1], dtype=np.int64
        )  # code -1 (missing) reads the last entry
        idx = table[np.asarray(col.cat.codes, dtype=np.int64)]
    else:
        values = col.to_numpy(dtype=object)
        try:
            # Hash lookup in C; Python's == and hash, as the dict below.
            idx = pd.Index(list(lookup), dtype=object).get_indexer(values).astype(np.int64)
        except (TypeError, ValueError):  # unhashable values: one by one
            idx = np.fromiter(
                (_lookup(lookup, v) for v in values), dtype=np.int64, count=values.shape[0]
            )
    out = idx.astype(np.float64)
    out[idx < 0] = np.nan
    return out


def _lookup(lookup: dict[Any, int], v: Any) -> int:
    try:
        return lookup.get(_python_value(v), -1)
    except TypeError:  # an unhashable value is no category
        return -1


def _replace_columns(X: Any, columns: dict[int, NDArray[np.float64]]) -> Any:
    """``X`` with columns ``j`` replaced by float codes (a DataFrame stays a DataFrame, so
    that scikit-learn's feature-name checks still see the names)."""
    if is_dataframe(X):
        out = X.copy(deep=False)
        for j, codes in columns.items():
            out.isetitem(j, codes)
        return out
    arr = np.asarray(X)
    out = arr.astype(object if arr.dtype.kind == "O" else np.float64, copy=True)
    for j, codes in columns.items():
        out[:, j] = codes
    return out


def fit_categorical(
    X: Any, categorical_features: Any, max_bins: int, where: str
) -> tuple[Any, list[Any] | None]:
    """Find the categorical features of ``X`` and their categories; encode them.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Training input.
    categorical_features : "from_dtype", None, or array-like of bool, int or str
    max_bins : int
        The most categories a feature may have (one histogram bin each).
    where : str
        Estimator name, for the messages.

    Returns
    -------
    X : array-like
        ``X`` with the categorical columns replaced by category indices (float, NaN for
        missing); ``X`` itself when no feature is categorical.
    categories : list of (list or None), or None
        Per feature, its categories (None for a numeric feature); None when no feature is
        categorical.
    """
    if categorical_features is None:
        return X, None
    if is_dataframe(X):
        d = X.shape[1]
    else:
        arr = np.asarray(X, dtype=object) if not hasattr(X, "shape") else X
        if getattr(arr, "ndim", 0) != 2:
            # Not a table: validate_data gives its usual error.
            return X, None
        d = arr.shape[1]
    mask = resolve_mask(categorical_features, X, d, where)
    if mask is None:
        return X, None
    categories: list[Any] = [None] * d
    columns: dict[int, NDArray[np.float64]] = {}
    names = [str(c) for c in X.columns] if is_dataframe(X) else None
    for j in np.flatnonzero(mask):
        col = _column(X, int(j))
        label = repr(names[j]) if names is not None else f"{j}"
        try:
            cats = _categories_of(col)
        except TypeError:
            kinds = sorted({type(v).__name__ for v in col.dropna()})
            raise TypeError(
                f"The categorical feature {label} of X given to {where} must hold hashable "
                f"category values (str, numbers, bool). Got values of type(s) "
                f"{', '.join(kinds)} instead; convert them, e.g. to str."
            ) from None
        if len(cats) > max_bins:
            raise ValueError(
                f"The 'categorical_features' parameter of {where} makes feature {label} "
                f"categorical, but it has {len(cats)} categories and max_bins={max_bins} "
                f"allows at most {max_bins} (one bin per category). Raise max_bins (up to "
                "255), merge rare categories, or treat the feature as numeric."
            )
        categories[j] = cats
        columns[int(j)] = _codes(col, cats)
    return _replace_columns(X, columns), categories


def encode_categorical(X: Any, categories: list[Any] | None) -> Any:
    """Encode the categorical columns of a new ``X`` by value with the fit-time categories.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    categories : list of (list or None), or None
        The fitted ``categories_``; None returns ``X`` unchanged.

    Returns
    -------
    X : array-like
        As in `fit_categorical`; unseen categories become NaN (missing).
    """
    if categories is None:
        return X
    if not is_dataframe(X):
        arr = np.asarray(X, dtype=object) if not hasattr(X, "shape") else X
        if getattr(arr, "ndim", 0) != 2 or arr.shape[1] != len(categories):
            return X  # validate_data reports the shape
        X = arr
    elif X.shape[1] != len(categories):
        return X
    columns = {
        j: _codes(_column(X, j), cats) for j, cats in enumerate(categories) if cats is not None
    }
    return _replace_columns(X, columns)


def n_categories(categories: list[Any] | None, n_features: int) -> NDArray[np.int32]:
    """Number of categories per feature, 0 for a numeric one (the BinMapper's input)."""
    out = np.zeros(n_features, dtype=np.int32)
    if categories is not None:
        for j, cats in enumerate(categories):
            if cats is not None:
                out[j] = len(cats)
    return out
