"""Safe model files: `save` and `load` a fitted estimator without pickle.

A natgrad model file (``.ngm``) is a fixed preamble, a JSON header and raw little-endian
arrays, sealed by a SHA-256 digest; docs/model-format.md is its specification. Loading reads
numbers and strings only and rebuilds the estimator from an allow-list of classes and
distribution families, so a file can never run code. Every check that fails raises
`ModelFileError` naming the file and what is wrong:

* magic bytes (not a natgrad model file), format version (written by a newer natgrad);
* the declared sizes against the file's size (truncated or padded);
* the digest over everything before it (bit flips, edited JSON);
* the header's schema, class and family names, and every array's dtype and shape;
* the trees' structure (children inside their own tree and after their parent, features in
  range), so that even a file crafted with a valid digest cannot make prediction read out of
  bounds or loop.

`natgrad.io.framing` seals and unseals the bytes, `natgrad.io.format` names the arrays and
reads the header; the estimators, their forests and bin mappers write and check their own
entries and arrays. Predictions of a loaded model equal the saved model's bit for bit: the
same float64 arrays feed the same compiled kernels.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from natgrad.io.format import read_model_file
from natgrad.io.framing import FORMAT_VERSION, MAGIC, SUPPORTED_VERSIONS, ModelFileError

__all__ = [
    "FORMAT_VERSION",
    "MAGIC",
    "SUPPORTED_VERSIONS",
    "TASKS",
    "ModelFileError",
    "load",
    "read_header",
    "save",
]

#: The estimator classes a model file may hold, with the task each stores in the header.
TASKS = {
    "NGBoostRegressor": "regression",
    "NGBoostClassifier": "classification",
    "NGBoostSurvival": "survival",
}


def _estimator_class(name: str) -> Any:
    from natgrad.boosting import NGBoostClassifier, NGBoostRegressor, NGBoostSurvival

    classes = {
        "NGBoostRegressor": NGBoostRegressor,
        "NGBoostClassifier": NGBoostClassifier,
        "NGBoostSurvival": NGBoostSurvival,
    }
    return classes[name]


def save(model: Any, path: str | os.PathLike[str], *, metadata: dict | None = None) -> Path:
    """Write a fitted estimator to ``path`` in the safe model format (atomically).

    The file is written to a temporary file in the same folder and renamed into place, so
    that an interrupted save never leaves a half-written model; an existing file is replaced.

    Parameters
    ----------
    model : NGBoostRegressor, NGBoostClassifier or NGBoostSurvival
        A fitted estimator with the native tree learner (``base_learner=None``). A
        classifier's labels (``classes_``) must be int, float, str or bool values.
    path : str or path-like
        Destination, conventionally ending in ``.ngm``.
    metadata : dict, optional
        Free JSON-serialisable information stored in the header (e.g. the target's name);
        `read_header` returns it as ``header["metadata"]``.

    Returns
    -------
    Path
        The path written.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from natgrad import NGBoostRegressor, io
    >>> X = np.random.default_rng(0).normal(size=(100, 2))
    >>> y = X[:, 0] + 0.1 * X[:, 1]
    >>> model = NGBoostRegressor(n_estimators=10, learning_rate=0.1, random_state=0).fit(X, y)
    >>> folder = tempfile.mkdtemp()
    >>> path = io.save(model, os.path.join(folder, "model.ngm"), metadata={"target": "y"})
    >>> path.name
    'model.ngm'
    """
    name = type(model).__name__
    if name not in TASKS or type(model) is not _estimator_class(name):
        raise TypeError(
            f"The 'model' argument of natgrad.io.save must be one of {', '.join(TASKS)}. "
            f"Got {type(model).__name__} instead."
        )
    return model._write_model_file(path, metadata)


def read_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON header of a model file, after checking its framing and digest.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    dict
        The header (see docs/model-format.md), including ``"metadata"``.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from natgrad import NGBoostRegressor, io
    >>> X = np.random.default_rng(0).normal(size=(100, 2))
    >>> model = NGBoostRegressor(n_estimators=5, random_state=0).fit(X, X[:, 0])
    >>> path = io.save(model, os.path.join(tempfile.mkdtemp(), "m.ngm"), metadata={"owner": "me"})
    >>> header = io.read_header(path)
    >>> header["estimator"], header["metadata"]
    ('NGBoostRegressor', {'owner': 'me'})
    """
    return read_model_file(path).header


def load(path: str | os.PathLike[str]) -> Any:
    """Rebuild a fitted estimator from a model file written by `save`.

    No code from the file is executed: the header names an estimator class and a
    distribution family from fixed allow-lists, and the arrays are plain numbers.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    NGBoostRegressor, NGBoostClassifier or NGBoostSurvival
        The fitted estimator; its predictions equal the saved one's bit for bit.

    Raises
    ------
    ModelFileError
        When the file is not a natgrad model, has an unsupported format version, is
        truncated, corrupted or tampered with, or describes an inconsistent model.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import natgrad
    >>> from natgrad import NGBoostClassifier
    >>> X = np.random.default_rng(0).normal(size=(100, 2))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> model = NGBoostClassifier(n_estimators=10, learning_rate=0.1, random_state=0).fit(X, y)
    >>> path = model.save(os.path.join(tempfile.mkdtemp(), "clf.ngm"))
    >>> loaded = natgrad.load(path)                 # the same as natgrad.io.load
    >>> type(loaded).__name__
    'NGBoostClassifier'
    >>> bool(np.array_equal(loaded.predict_proba(X), model.predict_proba(X)))
    True
    """
    reader = read_model_file(path)
    name = reader.get("estimator", str)
    if name not in TASKS:
        raise reader.fail(
            f"unknown estimator class {name!r}; this natgrad loads {', '.join(TASKS)}"
        )
    return _estimator_class(name)._from_model_file(reader)
