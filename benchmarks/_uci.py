"""Loading the UCI regression benchmark with its fixed splits (DESIGN.md, benchmark protocol).

The data lives in ``../shared/data/uci/<name>/`` beside the repository; the environment
variable ``NATGRAD_UCI_DIR`` points elsewhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

DATASETS = (
    "bostonHousing",
    "concrete",
    "energy",
    "kin8nm",
    "naval-propulsion-plant",
    "power-plant",
    "protein-tertiary-structure",
    "wine-quality-red",
    "yacht",
)

# NGBoost's published test NLL and RMSE (mean, std over splits): paper Tables 1 and 3.
PUBLISHED = {
    "bostonHousing": ((2.43, 0.15), (2.94, 0.53)),
    "concrete": ((3.04, 0.17), (5.06, 0.61)),
    "energy": ((0.60, 0.45), (0.46, 0.06)),
    "kin8nm": ((-0.49, 0.02), (0.16, 0.00)),
    "naval-propulsion-plant": ((-5.34, 0.04), (0.00, 0.00)),
    "power-plant": ((2.79, 0.11), (3.79, 0.18)),
    "protein-tertiary-structure": ((2.81, 0.03), (4.33, 0.03)),
    "wine-quality-red": ((0.91, 0.06), (0.63, 0.04)),
    "yacht": ((0.20, 0.26), (0.50, 0.20)),
}


def uci_root() -> Path:
    env = os.environ.get("NATGRAD_UCI_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "data" / "uci"


@dataclass(frozen=True)
class Split:
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


@cache
def _load(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    folder = uci_root() / name
    if not folder.is_dir():
        raise FileNotFoundError(
            f"UCI dataset {name!r} not found at {folder}; set NATGRAD_UCI_DIR to the folder "
            "that holds the UCI data sets."
        )
    data = np.loadtxt(folder / "data.txt")
    features = np.loadtxt(folder / "index_features.txt", dtype=int, ndmin=1)
    target = int(np.loadtxt(folder / "index_target.txt", dtype=int))
    return data, features, np.asarray(target)


def n_splits(name: str) -> int:
    return int(np.loadtxt(uci_root() / name / "n_splits.txt"))


def load_split(name: str, split: int) -> Split:
    """Train and test arrays of one fixed split."""
    data, features, target = _load(name)
    folder = uci_root() / name
    train = np.loadtxt(folder / f"index_train_{split}.txt", dtype=int)
    test = np.loadtxt(folder / f"index_test_{split}.txt", dtype=int)
    X, y = data[:, features], data[:, int(target)]
    return Split(X[train], y[train], X[test], y[test])
