"""Plain-text tables of metrics (re-exported by `natgrad.metrics`)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from natgrad._validation import describe
from natgrad.metrics._regression import REGRESSION_DESCRIPTIONS


def format_value(value: float) -> str:
    """A metric's value as the tables of `natgrad.metrics` and `natgrad.report` print it.

    Four decimals between 1e-3 and 1e6 (and for 0), scientific notation otherwise.

    Examples
    --------
    >>> from natgrad.metrics import format_value
    >>> format_value(0.123456), format_value(1.5e-7), format_value(2e6)
    ('0.1235', '1.500e-07', '2.000e+06')
    """
    if not math.isfinite(value):
        return str(value)
    if value == 0 or 1e-3 <= abs(value) < 1e6:
        return f"{value:.4f}"
    return f"{value:.3e}"


def format_table(
    metrics: Mapping[str, float], *, descriptions: Mapping[str, str] | None = None
) -> str:
    """An aligned plain-text table of metrics: name, value and meaning, one per line.

    Parameters
    ----------
    metrics : mapping of str to float
        E.g. the result of `evaluate`. Keys this module does not know get no description.
    descriptions : mapping of str to str, optional
        Meanings of the keys (default: those of `evaluate`; e.g. `CLASSIFICATION_DESCRIPTIONS`).

    Returns
    -------
    str
        Lines joined by newlines, without a trailing newline.

    Examples
    --------
    >>> from natgrad.metrics import format_table
    >>> print(format_table({"nll": 1.23456, "coverage_95": 0.95}))
    metric        value  meaning
    -----------  ------  -------
    nll          1.2346  mean negative log-likelihood
    coverage_95  0.9500  share of targets inside the central 95% interval
    """
    where = "natgrad.metrics.format_table"
    if not isinstance(metrics, Mapping):
        raise TypeError(
            f"The 'metrics' argument of {where} must be a mapping of metric names to numbers. "
            f"Got {describe(metrics)} instead."
        )
    rows = []
    for key, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise TypeError(
                f"The 'metrics' argument of {where} must map names to numbers. Got "
                f"{describe(value)} for {key!r} instead."
            )
        meaning = (REGRESSION_DESCRIPTIONS if descriptions is None else descriptions).get(
            str(key), ""
        )
        rows.append((str(key), format_value(float(value)), meaning))
    header = ("metric", "value", "meaning")
    width_name = max([len(header[0])] + [len(r[0]) for r in rows])
    width_value = max([len(header[1])] + [len(r[1]) for r in rows])

    def line(name: str, value: str, meaning: str) -> str:
        return f"{name:<{width_name}}  {value:>{width_value}}  {meaning}".rstrip()

    lines = [line(*header), line("-" * width_name, "-" * width_value, "-" * len(header[2]))]
    lines += [line(*row) for row in rows]
    return "\n".join(lines)
