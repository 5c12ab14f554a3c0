"""Stored-reference ("golden") fits of the boosting engine, and the script that writes them.

Each case fits one small estimator on fixed data (a slice of the shipped concrete data or
seeded synthetic data) and records, in ``tests/boosting/data/golden.npz``:

* ``<case>.params``: the predicted distribution's parameters on fixed test rows, array of
  shape (n_test, n_params);
* ``<case>.structure``: the SHA-256 of the fitted model's ``.ngm`` file (`natgrad.io.save`)
  without its floating-point numbers: the header (all but ``natgrad_version``) and every
  integer array (tree shapes, split features and bins, missing-value sides, category sets);
* ``<case>.model``: for the cases in `MODEL_FILE_CASES` (one per estimator class and the
  categorical features' arrays), the whole ``.ngm`` file's bytes;
* ``<case>.data``: the SHA-256 of the case's training and test arrays, so that a change of
  the data (NumPy's random streams, the shipped CSV) is told apart from a change of natgrad.

``tests/boosting/test_golden.py`` refits every case with the natgrad under test and compares.
The cases together take each path of the engine at least once: the regressor's default
(normal, Fisher leaves, diagonal metric layout, row subsampling), CRPS, the log-normal and
gamma families, NGBoost's leaf rule, sample weights (the dense metric layout), column
subsampling, missing values, categorical features, monotone constraints, depth-first and
best-first growth, Bernoulli and categorical classification, censored survival and the
multivariate normal.

To write the file again (after a change that is meant to alter predictions or model files,
which the commit must say), from the repository root::

    python tests/boosting/golden_cases.py --write          # refuses if the file exists
    python tests/boosting/golden_cases.py --write --force  # replaces it, printing what changed
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

GOLDEN_PATH = Path(__file__).resolve().parent / "data" / "golden.npz"


@dataclass(frozen=True)
class Fitted:
    """A case's fitted model and the rows its predictions are recorded on."""

    model: Any
    X_test: np.ndarray
    data_digest: str


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _synthetic(n: int = 240, d: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Features of shape (n, d) and a latent signal of shape (n,), seeded."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    signal = X[:, 0] + 0.5 * np.sin(2.0 * X[:, 1]) + 0.2 * rng.normal(size=n)
    return X, signal


def _split(X: np.ndarray, n_test: int = 40) -> tuple[np.ndarray, np.ndarray]:
    return X[:-n_test], X[-n_test:]


def _fit(model: Any, X: np.ndarray, *targets: np.ndarray, **fit_kw: Any) -> Fitted:
    X_train, X_test = _split(X)
    rows = len(X_train)
    model.fit(X_train, *(t[:rows] for t in targets), **fit_kw)
    weights = [fit_kw["sample_weight"]] if "sample_weight" in fit_kw else []
    return Fitted(model, X_test, _digest(X, *targets, *weights))


def _regressor(**kw: Any) -> Any:
    from natgrad import NGBoostRegressor

    kw.setdefault("n_estimators", 12)
    kw.setdefault("learning_rate", 0.1)
    return NGBoostRegressor(random_state=0, **kw)


def normal_concrete() -> Fitted:
    """The regressor's defaults (normal, log score, Fisher leaves, subsample 0.3)."""
    from natgrad.datasets import load_concrete

    X, y = load_concrete(return_X_y=True)
    return _fit(_regressor(), X[:300], y[:300])


def normal_crps() -> Fitted:
    X, s = _synthetic(seed=1)
    return _fit(_regressor(scoring_rule="crps", subsample=1.0), X, 3.0 * s)


def lognormal() -> Fitted:
    X, s = _synthetic(seed=2)
    return _fit(_regressor(distribution="lognormal", subsample=0.5), X, np.exp(0.5 * s))


def gamma_ngboost_weighted() -> Fitted:
    """Gamma with NGBoost's leaf rule and sample weights."""
    X, s = _synthetic(seed=3)
    y = np.exp(0.3 * s) + 0.1
    w = 0.5 + (np.arange(len(y)) % 3)
    model = _regressor(distribution="gamma", leaf_rule="ngboost", subsample=1.0)
    return _fit(model, X, y, sample_weight=w[: len(y) - 40])


def normal_weighted_colsample() -> Fitted:
    """Sample weights (the dense metric layout), column subsampling, best-first growth."""
    X, s = _synthetic(d=6, seed=4)
    w = 1.0 + (np.arange(len(s)) % 4) / 2.0
    model = _regressor(colsample=0.5, subsample=0.7, max_depth=None, max_leaves=6)
    return _fit(model, X, s, sample_weight=w[: len(s) - 40])


def normal_missing() -> Fitted:
    """Missing values in training and test rows."""
    X, s = _synthetic(seed=5)
    X = X.copy()
    rng = np.random.default_rng(50)
    X[rng.random(X.shape) < 0.15] = np.nan
    return _fit(_regressor(subsample=1.0, leaf_prior=1.0, l2_regularization=0.5), X, s)


def normal_categorical() -> Fitted:
    """A categorical feature (integer codes) beside numeric ones."""
    X, s = _synthetic(seed=6)
    codes = np.random.default_rng(60).integers(0, 7, size=len(s))
    X = np.column_stack([X, codes.astype(float)])
    y = s + np.array([0.0, 2.0, -1.0, 0.5, 3.0, -2.0, 1.0])[codes]
    model = _regressor(categorical_features=[4], subsample=1.0, min_samples_leaf=3)
    return _fit(model, X, y)


def normal_monotone() -> Fitted:
    """Monotone constraints on the location, increasing and decreasing."""
    X, s = _synthetic(seed=7)
    y = s - 0.7 * X[:, 2]
    return _fit(_regressor(monotonic_cst={"loc": [1, 0, -1, 0]}, subsample=1.0, max_depth=4), X, y)


def laplace_monotone_ngboost() -> Fitted:
    """Monotone constraints on both parameters under NGBoost's leaf rule, with missing values."""
    X, s = _synthetic(seed=8)
    X = X.copy()
    X[np.random.default_rng(80).random(X.shape) < 0.1] = np.nan
    model = _regressor(
        distribution="laplace",
        leaf_rule="ngboost",
        monotonic_cst=[[1, -1, 0, 0], [0, 0, 1, 0]],
        subsample=1.0,
    )
    return _fit(model, X, s)


def classifier_bernoulli() -> Fitted:
    from natgrad import NGBoostClassifier

    X, s = _synthetic(seed=9)
    model = NGBoostClassifier(n_estimators=12, learning_rate=0.2, random_state=0)
    return _fit(model, X, (s > 0.2).astype(int))


def classifier_categorical() -> Fitted:
    from natgrad import NGBoostClassifier

    X, s = _synthetic(seed=10)
    y = np.digitize(s, [-0.8, 0.0, 0.8])
    model = NGBoostClassifier(n_estimators=10, learning_rate=0.2, random_state=0, subsample=1.0)
    return _fit(model, X, y)


def survival_lognormal() -> Fitted:
    from natgrad import NGBoostSurvival

    X, s = _synthetic(seed=11)
    rng = np.random.default_rng(110)
    time = np.exp(0.5 * s + 0.3 * rng.normal(size=len(s)))
    censor = np.exp(0.5 + 0.5 * rng.normal(size=len(s)))
    observed = np.minimum(time, censor)
    event = time <= censor
    model = NGBoostSurvival(n_estimators=12, learning_rate=0.1, random_state=0)
    return _fit(model, X, observed, event)


def multivariate_normal() -> Fitted:
    X, s = _synthetic(seed=12)
    rng = np.random.default_rng(120)
    Y = np.column_stack([s, 0.5 * s + 0.3 * X[:, 2] + 0.2 * rng.normal(size=len(s))])
    model = _regressor(distribution="multivariate_normal", n_estimators=8, subsample=1.0)
    return _fit(model, X, Y)


CASES: dict[str, Callable[[], Fitted]] = {
    f.__name__: f
    for f in (
        normal_concrete,
        normal_crps,
        lognormal,
        gamma_ngboost_weighted,
        normal_weighted_colsample,
        normal_missing,
        normal_categorical,
        normal_monotone,
        laplace_monotone_ngboost,
        classifier_bernoulli,
        classifier_categorical,
        survival_lognormal,
        multivariate_normal,
    )
}


#: The cases whose whole model file is stored (the others store its structure digest only).
MODEL_FILE_CASES = (
    "normal_concrete",
    "normal_categorical",
    "classifier_bernoulli",
    "survival_lognormal",
)


def model_file_bytes(model: Any, folder: Path) -> bytes:
    """The bytes ``natgrad.io.save`` writes for ``model`` (through a file in ``folder``)."""
    from natgrad import io as ngio

    return ngio.save(model, folder / "golden-save.ngm").read_bytes()


def read_model_bytes(blob: bytes, folder: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The header and the arrays of the model file ``blob`` (framing and digest checked)."""
    from natgrad.io.format import read_model_file

    path = folder / "golden-read.ngm"
    path.write_bytes(blob)
    reader = read_model_file(path)
    return dict(reader.header), reader.arrays()


def structure_digest(blob: bytes, folder: Path) -> str:
    """SHA-256 of model file ``blob`` without its floating-point arrays and natgrad version."""
    header, arrays = read_model_bytes(blob, folder)
    header.pop("natgrad_version")
    h = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
    for name in sorted(arrays):
        if arrays[name].dtype.kind != "f":
            h.update(name.encode())
            h.update(_digest(arrays[name]).encode())
    return h.hexdigest()


def record(name: str, fitted: Fitted, folder: Path) -> dict[str, np.ndarray]:
    """The stored entries of case ``name`` for its fit ``fitted`` (files go to ``folder``)."""
    params = np.asarray(fitted.model.predict_dist(fitted.X_test).params, dtype=np.float64)
    blob = model_file_bytes(fitted.model, folder)
    entries = {
        f"{name}.params": params,
        f"{name}.structure": np.array(structure_digest(blob, folder)),
        f"{name}.data": np.array(fitted.data_digest),
    }
    if name in MODEL_FILE_CASES:
        entries[f"{name}.model"] = np.frombuffer(blob, dtype=np.uint8)
    return entries


def load_golden(path: Path = GOLDEN_PATH) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as stored:
        return {key: stored[key] for key in stored.files}


def _changes(old: dict[str, np.ndarray], new: dict[str, np.ndarray]) -> list[str]:
    lines = []
    for key in sorted(set(old) | set(new)):
        if key not in old or key not in new:
            lines.append(f"{key}: {'added' if key in new else 'removed'}")
        elif old[key].shape != new[key].shape or not np.array_equal(old[key], new[key]):
            lines.append(f"{key}: changed")
    return lines


def main(argv: list[str] | None = None, path: Path = GOLDEN_PATH) -> int:
    """Write the golden file at ``path``; 1 (and nothing written) when it exists, unless forced."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help=f"write {path.name}")
    parser.add_argument("--force", action="store_true", help="replace an existing file")
    args = parser.parse_args(argv)
    # As the test suite runs (tests/conftest.py); the results do not depend on it
    # (tests/boosting/test_threads.py), but the recorded fits then ran as the tests run them.
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    if not args.write:
        parser.error("nothing to do: pass --write (and --force to replace the file)")
    if path.exists() and not args.force:
        print(
            f"{path} exists; the golden tests compare against it. Pass --force to "
            "replace it (only for a change meant to alter predictions or model files).",
            file=sys.stderr,
        )
        return 1
    entries: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, fit in CASES.items():
            entries.update(record(name, fit(), Path(folder)))
    if path.exists():
        changes = _changes(load_golden(path), entries)
        print("\n".join(changes) if changes else "no entry changed")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **entries)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    print(f"wrote {path} ({path.stat().st_size} bytes, {len(CASES)} cases)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
