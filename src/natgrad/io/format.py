"""The model file's content: its arrays, its header's fixed entries and a checked reader.

The models fill the file themselves: an estimator gives its header entries and arrays, its
learner the forest's and the bin mapper's (docs/model-format.md lists them all). This module
holds what they share: the array names in file order with their dtypes, the header entries
every file has, and `HeaderReader`, which reads entries and arrays back with checks whose
failures name the file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from natgrad.io.framing import ModelFileError, decode_arrays, encode, read, write_atomic

__all__ = [
    "ARRAYS",
    "CATEGORICAL_ARRAYS",
    "LABEL_KINDS",
    "OPTIONAL_ARRAYS",
    "HeaderReader",
    "python_value",
    "read_model_file",
    "write_model_file",
]

#: The arrays of a model file in file order, each with its little-endian dtype.
ARRAYS: dict[str, str] = {
    "init_params": "<f8",
    "train_loss": "<f8",
    "validation_loss": "<f8",
    "tree_offsets": "<i8",
    "scales": "<f8",
    "node_feature": "<i4",
    "node_threshold": "<f8",
    "node_bin_threshold": "|u1",
    "node_missing_go_left": "|u1",
    "node_left": "<i4",
    "node_right": "<i4",
    "node_leaf_id": "<i4",
    "node_value": "<f8",
    "node_gain": "<f8",
    "bin_counts": "<i4",
    "bin_thresholds": "<f8",
    "node_cover": "<f8",
    "node_cat_index": "<i4",
    "cat_bitsets": "<u4",
}
#: Categorical splits (version 3; absent from older files, whose splits are all numeric).
CATEGORICAL_ARRAYS = ("node_cat_index", "cat_bitsets")
#: Arrays a file may lack: natgrad wrote no node covers before SHAP values existed; such a
#: model loads and predicts, only `shap_values` needs them.
OPTIONAL_ARRAYS = frozenset({"node_cover", *CATEGORICAL_ARRAYS})
#: dtype kinds of class labels a file may hold: bool, signed and unsigned int, float,
#: unicode strings, and object arrays whose every element is a str, int, float or bool.
LABEL_KINDS = "biufUO"


def python_value(v: Any) -> Any:
    """A NumPy scalar as the Python value JSON can hold; anything else unchanged."""
    return v.item() if isinstance(v, np.generic) else v


def write_model_file(
    path: str | os.PathLike[str],
    entries: dict[str, Any],
    arrays: Mapping[str, Any],
    metadata: dict | None,
) -> Path:
    """Write one model file: ``entries`` (a model's header entries) and its ``arrays``."""
    from natgrad import __version__

    header = {
        "format": "natgrad-model",
        "natgrad_version": __version__,
        **entries,
        "metadata": {} if metadata is None else metadata,
    }
    return write_atomic(encode(header, arrays, ARRAYS), path)


def read_model_file(path: str | os.PathLike[str]) -> HeaderReader:
    """The checked framing of the file at ``path``, as a `HeaderReader`."""
    path = Path(path)
    header, body = read(path)
    return HeaderReader(path, header, body)


class HeaderReader:
    """Typed access to a model file's header and arrays; every failure names the file."""

    def __init__(self, path: Path, header: dict[str, Any], body: memoryview) -> None:
        self.path = path
        self.header = header
        self.body = body

    def fail(self, reason: str) -> ModelFileError:
        """The error to raise for ``reason``."""
        return ModelFileError(self.path, reason)

    def get(self, key: str, kind: type | tuple[type, ...], where: dict | None = None) -> Any:
        """Entry ``key`` of the header (or of ``where``), which must be of type ``kind``."""
        source = self.header if where is None else where
        if key not in source:
            raise self.fail(f"its header has no {key!r} entry")
        value = source[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(f"the header entry {key!r} has the wrong type ({value!r})")
        return value

    def count(self, key: str, where: dict | None = None, low: int = 0) -> int:
        """Integer entry ``key``, at least ``low``."""
        value = self.get(key, int, where)
        if value < low:
            raise self.fail(f"the header entry {key!r} must be at least {low}; it is {value}")
        return value

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array of the file by name (native-endian writable copies), table checked."""
        table = self.get("arrays", dict)
        return decode_arrays(table, self.body, ARRAYS, OPTIONAL_ARRAYS, self.fail)
