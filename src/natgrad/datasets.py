"""Datasets shipped with natgrad, loaded as `sklearn.datasets` loads its own.

``load_concrete`` is the UCI Concrete Compressive Strength data (I.-C. Yeh, "Modeling of
strength of high-performance concrete using artificial neural networks", Cement and Concrete
Research 28(12), 1998): 1030 mixtures, eight inputs (kg of each component per m³ of mixture,
and the age in days) and the compressive strength in MPa. ``natgrad fit`` without a data file
trains on it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.utils import Bunch

from natgrad._data import DEMO_DESCRIPTION, DEMO_TARGET, demo_path, load_demo

__all__ = ["concrete_path", "load_concrete"]


def concrete_path() -> Path:
    """Path of the shipped ``concrete.csv`` (a header line, then 1030 rows of 9 numbers).

    Examples
    --------
    >>> from natgrad.datasets import concrete_path
    >>> path = concrete_path()
    >>> path.name
    'concrete.csv'
    >>> path.read_text().splitlines()[0].count(",") + 1      # nine columns
    9
    """
    return demo_path()


def load_concrete(*, return_X_y: bool = False, as_frame: bool = False) -> Any:
    """Load the concrete compressive strength data (regression).

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch.
    as_frame : bool, default=False
        X as a pandas DataFrame and y as a Series (and the Bunch's ``frame``) instead of
        NumPy arrays.

    Returns
    -------
    Bunch with ``data`` (shape (1030, 8)), ``target`` (shape (1030,)), ``frame`` (the
    DataFrame of shape (1030, 9), or None unless ``as_frame``), ``feature_names``,
    ``target_names`` and ``DESCR``; or ``(X, y)`` when ``return_X_y``.

    Examples
    --------
    >>> from natgrad.datasets import load_concrete
    >>> X, y = load_concrete(return_X_y=True)
    >>> X.shape, y.shape
    ((1030, 8), (1030,))
    """
    frame, target = load_demo(as_frame=True)
    features = [c for c in frame.columns if c != target]
    if as_frame:
        X: Any = frame[features]
        y: Any = frame[target]
    else:
        X = frame[features].to_numpy(dtype=np.float64)
        y = frame[target].to_numpy(dtype=np.float64)
    if return_X_y:
        return X, y
    return Bunch(
        data=X,
        target=y,
        frame=frame if as_frame else None,
        feature_names=features,
        target_names=[DEMO_TARGET],
        DESCR=DEMO_DESCRIPTION,
    )
