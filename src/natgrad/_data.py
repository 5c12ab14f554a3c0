"""The small dataset shipped inside the package, so that ``natgrad fit`` runs on a fresh machine.

``data/concrete.csv`` is the UCI Concrete Compressive Strength data (I.-C. Yeh, "Modeling of
strength of high-performance concrete using artificial neural networks", Cement and Concrete
Research 28(12), 1998; UCI Machine Learning Repository): 1030 mixtures, eight inputs (kg of
each component per m³ of mixture, and the age in days) and the compressive strength in MPa.
It was converted once, row order and values unchanged, from the ``data.txt`` of the standard
UCI regression benchmark splits (Hernández-Lobato & Adams 2015), adding a header line.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["DEMO_DESCRIPTION", "DEMO_TARGET", "demo_path", "load_demo"]

DEMO_TARGET = "strength"
DEMO_DESCRIPTION = "UCI Concrete Compressive Strength (Yeh 1998), 1030 rows, target 'strength'"


def demo_path() -> Path:
    """Path of the shipped ``concrete.csv``."""
    return Path(str(resources.files("natgrad").joinpath("data", "concrete.csv")))


def load_demo(*, as_frame: bool = True) -> tuple[Any, str]:
    """The shipped concrete data and the name of its target column.

    Parameters
    ----------
    as_frame : bool, default=True
        Return a pandas DataFrame (needs pandas); otherwise a structured NumPy array with
        one named float64 field per column.

    Returns
    -------
    data : DataFrame of shape (1030, 9) or structured ndarray of shape (1030,)
        Columns cement, slag, fly_ash, water, superplasticizer, coarse_aggregate,
        fine_aggregate, age and strength.
    target : str
        ``"strength"``.
    """
    path = demo_path()
    if as_frame:
        import pandas as pd

        return pd.read_csv(path), DEMO_TARGET
    import numpy as np

    return np.genfromtxt(path, delimiter=",", names=True, dtype=np.float64), DEMO_TARGET
