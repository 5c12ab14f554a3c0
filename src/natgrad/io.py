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

Predictions of a loaded model equal the saved model's bit for bit: the same float64 arrays
feed the same compiled kernels.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["FORMAT_VERSION", "MAGIC", "TASKS", "ModelFileError", "load", "read_header", "save"]

#: First bytes of every model file. As in PNG: a non-ASCII byte, the name, and CR LF / EOF /
#: LF so that a text-mode transfer that rewrites line ends is detected at once.
MAGIC = b"\x89NGM\r\n\x1a\n"
#: The format version this natgrad writes.
FORMAT_VERSION = 3
#: Format versions this natgrad reads (version 1: regressors only, no ``task`` key).
SUPPORTED_VERSIONS = frozenset({1, 2, 3})

# magic, version (uint32), reserved (uint32, zero), header length, data length (uint64 each)
_PREAMBLE = struct.Struct("<8sIIQQ")
_DIGEST_SIZE = 32
_ALIGN = 8
# A header is a few kilobytes; a length beyond this is a corrupt preamble, not a model.
_MAX_HEADER = 64 * 1024 * 1024

_ESTIMATORS = ("NGBoostRegressor", "NGBoostClassifier", "NGBoostSurvival")
#: The task of each estimator class, stored in the header (version 2).
TASKS = {
    "NGBoostRegressor": "regression",
    "NGBoostClassifier": "classification",
    "NGBoostSurvival": "survival",
}
# dtype kinds of class labels a file may hold: bool, signed and unsigned int, float, unicode
# strings, and object arrays whose every element is a str, int, float or bool.
_LABEL_KINDS = "biufUO"
# The hyper-parameter naming the scoring rule: whichever of these the estimator has.
_SCORE_KEYS = ("scoring_rule", "score")

# name -> (dtype, role); shapes are checked against the header in `_check_shapes`.
_ARRAYS: dict[str, str] = {
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
_N_WORDS = 8  # uint32 words of a categorical split's bitset (256 bins)
# Categorical splits (version 3; absent from older files, whose splits are all numeric).
_CATEGORICAL_ARRAYS = ("node_cat_index", "cat_bitsets")
# Arrays a file may lack: natgrad wrote no node covers before SHAP values existed; such a
# model loads and predicts, only `shap_values` needs them.
_OPTIONAL_ARRAYS = frozenset({"node_cover", *_CATEGORICAL_ARRAYS})


class ModelFileError(ValueError):
    """A file that is not a valid natgrad model file, with the file and the reason."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"Cannot load model file {self.path!r}: {reason}")

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        # Pickles (e.g. across joblib workers) with both constructor arguments.
        return type(self), (self.path, self.reason)


# --------------------------------------------------------------------------------- saving
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
    """
    data = _encode(model, metadata)
    dest = Path(path)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp makes the file private (0600); a model file is an ordinary readable file.
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        # Any failure, Ctrl-C included, removes the temporary file and leaves dest as it was.
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest


def _encode(model: Any, metadata: dict | None) -> bytes:
    from sklearn.utils.validation import check_is_fitted

    from natgrad import __version__, distributions
    from natgrad.boosting._models import NativeModel
    from natgrad.scores import _SCORES, Score

    name = type(model).__name__
    if name not in _ESTIMATORS or type(model) is not _estimator_class(name):
        raise TypeError(
            f"The 'model' argument of natgrad.io.save must be one of {', '.join(_ESTIMATORS)}. "
            f"Got {type(model).__name__} instead."
        )
    check_is_fitted(model, "init_params_")
    if not isinstance(model._model_, NativeModel):
        raise ValueError(
            "The 'model' argument of natgrad.io.save must use the native tree learner "
            "(base_learner=None): only native models have the safe file format. Got "
            f"base_learner={model.base_learner!r}; save it with pickle or joblib instead "
            "(they run code when loading, so load only files you trust)."
        )
    family = model._template_
    if distributions.get(family.name) is not type(family):
        raise ValueError(
            "The 'model' argument of natgrad.io.save must use a registered distribution "
            f"family ({', '.join(distributions.names())}). Got {type(family).__name__}."
        )
    params = model.get_params(deep=False)
    if name != "NGBoostClassifier":
        # A classifier's "auto" / "bernoulli" / "categorical" is kept as given.
        params["distribution"] = family.name
    extra: dict[str, Any] = {}
    if name == "NGBoostClassifier":
        extra["classes"] = _encode_classes(model.classes_)
    if name == "NGBoostSurvival":
        rule = model._score_rule
        extra["score"] = {"name": rule.name, "config": {"metric": rule.metric_kind}}
        if not isinstance(params["scoring_rule"], str):
            params["scoring_rule"] = dict(extra["score"])
    for key in _SCORE_KEYS:
        score = params.get(key)
        if isinstance(score, Score) and name != "NGBoostSurvival":
            if _SCORES.get(score.name) is not type(score):
                raise ValueError(
                    "The 'model' argument of natgrad.io.save must use a built-in scoring rule "
                    f"({', '.join(_SCORES)}). Got {score!r}."
                )
            params[key] = score.name
    if not (params["random_state"] is None or isinstance(params["random_state"], int)):
        # A RandomState or Generator has no JSON form; the fitted model does not need it.
        params["random_state"] = None
    if params.get("monotonic_cst") is not None:
        # Arrays and integer feature keys have no faithful JSON form: saved resolved.
        from natgrad.boosting._constraints import monotonic_cst_to_json

        params["monotonic_cst"] = monotonic_cst_to_json(
            params["monotonic_cst"],
            family.param_names,
            int(model.n_features_in_),
            getattr(model, "feature_names_in_", None),
            name,
        )

    ens = model._model_.ensemble
    mapper = model._model_.mapper
    arrays = {
        "init_params": model.init_params_,
        "train_loss": model.train_loss_,
        "validation_loss": model.validation_loss_,
        "tree_offsets": ens.tree_offsets,
        "scales": ens.scales,
        "node_feature": ens.feature,
        "node_threshold": ens.threshold,
        "node_bin_threshold": ens.bin_threshold,
        "node_missing_go_left": ens.missing_go_left.astype(np.uint8),
        "node_left": ens.left,
        "node_right": ens.right,
        "node_leaf_id": ens.leaf_id,
        "node_value": ens.value,
        "node_gain": ens.gain,
        "bin_counts": mapper.n_bins_non_missing_,
        "bin_thresholds": np.concatenate([np.zeros(0), *mapper.bin_thresholds_]),
    }
    if ens.cover is not None:
        arrays["node_cover"] = ens.cover
    arrays["node_cat_index"] = ens.cat_index
    arrays["cat_bitsets"] = ens.cat_bitsets
    if params.get("categorical_features") is not None and not isinstance(
        params["categorical_features"], str
    ):
        # A mask, indices or names, as plain JSON values.
        params["categorical_features"] = [
            _python_value(v) for v in np.asarray(params["categorical_features"]).tolist()
        ]
    table: dict[str, dict[str, Any]] = {}
    chunks: list[bytes] = []
    offset = 0
    for key, dtype in _ARRAYS.items():
        if key not in arrays:
            continue  # an optional array the model lacks (loaded from an older file)
        raw = np.ascontiguousarray(arrays[key], dtype=np.dtype(dtype)).tobytes()
        pad = -offset % _ALIGN
        chunks.append(b"\0" * pad)
        offset += pad
        table[key] = {
            "dtype": dtype,
            "shape": list(np.shape(arrays[key])),
            "offset": offset,
            "nbytes": len(raw),
        }
        chunks.append(raw)
        offset += len(raw)
    names = getattr(model, "feature_names_in_", None)
    header = {
        "format": "natgrad-model",
        "natgrad_version": __version__,
        "estimator": name,
        "task": TASKS[name],
        **extra,
        "params": params,
        "distribution": {"name": family.name, "config": family.config},
        "n_params": int(family.n_params),
        "n_features_in": int(model.n_features_in_),
        "feature_names_in": None if names is None else [str(s) for s in names],
        "n_estimators_": int(model.n_estimators_),
        "best_iteration_": int(model.best_iteration_),
        "categories": _encode_categories(getattr(model, "categories_", None)),
        "learner": {
            "kind": "native",
            "max_bins": int(mapper.max_bins),
            "missing_values_bin_idx": int(mapper.missing_values_bin_idx_),
        },
        "metadata": {} if metadata is None else metadata,
        "arrays": table,
    }
    try:
        text = json.dumps(header, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            "The 'metadata' argument of natgrad.io.save and the model's parameters must be "
            f"JSON-serialisable with finite numbers. Got an error: {exc}."
        ) from exc
    head = text.encode("utf-8")
    body = b"".join(chunks)
    blob = _PREAMBLE.pack(MAGIC, FORMAT_VERSION, 0, len(head), len(body)) + head + body
    return blob + hashlib.sha256(blob).digest()


def _python_value(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _encode_categories(categories: list[Any] | None) -> list[Any] | None:
    """``categories_`` as JSON: per feature null or the list of its category values."""
    if categories is None:
        return None
    out: list[Any] = []
    for f, cats in enumerate(categories):
        if cats is None:
            out.append(None)
            continue
        values = [_python_value(v) for v in cats]
        for v in values:
            if not isinstance(v, str | int | float | bool) or (
                isinstance(v, float) and not np.isfinite(v)
            ):
                raise TypeError(
                    "The 'model' argument of natgrad.io.save must have categories that are "
                    "str, int, finite float or bool values; the model file stores no others. "
                    f"Got the category {v!r} of type {type(v).__name__} (feature {f}) instead; "
                    "convert the column's categories (e.g. to str) before fitting, or save with "
                    "pickle or joblib."
                )
        out.append(values)
    return out


def _estimator_class(name: str) -> Any:
    from natgrad.boosting import NGBoostClassifier, NGBoostRegressor, NGBoostSurvival

    classes = {
        "NGBoostRegressor": NGBoostRegressor,
        "NGBoostClassifier": NGBoostClassifier,
        "NGBoostSurvival": NGBoostSurvival,
    }
    return classes[name]


def _encode_classes(classes: np.ndarray) -> dict[str, Any]:
    """``classes_`` as ``{"dtype": NumPy dtype string, "values": [...]}`` (JSON values)."""
    arr = np.asarray(classes)
    kind = arr.dtype.kind
    allowed = (str, int, float, bool, np.str_, np.integer, np.floating, np.bool_)
    if kind not in _LABEL_KINDS or (
        kind == "O" and not all(isinstance(v, allowed) for v in arr.tolist())
    ):
        bad = next((v for v in arr.tolist() if not isinstance(v, allowed)), arr.dtype)
        raise TypeError(
            "The 'model' argument of natgrad.io.save must have class labels (classes_) that "
            "are int, float, str or bool values; the model file stores no other labels. Got "
            f"a label of type {type(bad).__name__} ({bad!r}) instead."
        )
    values = [v.item() if isinstance(v, np.generic) else v for v in arr.tolist()]
    if any(isinstance(v, float) and not np.isfinite(v) for v in values):
        raise ValueError(
            "The 'model' argument of natgrad.io.save must have finite class labels. Got "
            f"{values!r}."
        )
    return {"dtype": "object" if kind == "O" else arr.dtype.str, "values": values}


# --------------------------------------------------------------------------------- loading
def read_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON header of a model file, after checking its framing and digest.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    dict
        The header (see docs/model-format.md), including ``"metadata"``.
    """
    header, _ = _read(Path(path))
    return header


def load(path: str | os.PathLike[str]) -> Any:
    """Rebuild a fitted estimator from a model file written by `save`.

    No code from the file is executed: the header names an estimator class and a
    distribution family from fixed allow-lists, and the arrays are plain numbers.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    NGBoostRegressor
        The fitted estimator; its predictions equal the saved one's bit for bit.

    Raises
    ------
    ModelFileError
        When the file is not a natgrad model, has an unsupported format version, is
        truncated, corrupted or tampered with, or describes an inconsistent model.
    """
    path = Path(path)
    from natgrad._model_builder import _Builder

    header, body = _read(path)
    return _Builder(path, header, body).build()


def _read(path: Path) -> tuple[dict[str, Any], memoryview]:
    with open(path, "rb") as fh:
        data = fh.read(_PREAMBLE.size)
        # The rest only once the magic says it is a model file (not, say, a large CSV).
        if data[: len(MAGIC)] == MAGIC:
            data += fh.read()
    if 0 < len(data) < len(MAGIC) and MAGIC.startswith(data):
        raise ModelFileError(path, f"truncated: {len(data)} bytes, shorter than any model file")
    if len(data) < len(MAGIC) or data[: len(MAGIC)] != MAGIC:
        raise ModelFileError(path, "not a natgrad model file (its first bytes are not the magic)")
    if len(data) < _PREAMBLE.size + _DIGEST_SIZE:
        raise ModelFileError(path, f"truncated: {len(data)} bytes, shorter than any model file")
    _, version, reserved, n_head, n_body = _PREAMBLE.unpack_from(data)
    if version not in SUPPORTED_VERSIONS:
        newer = " (written by a newer natgrad?)" if version > FORMAT_VERSION else ""
        raise ModelFileError(
            path,
            f"unsupported format version {version}{newer}; this natgrad reads version(s) "
            f"{', '.join(map(str, sorted(SUPPORTED_VERSIONS)))}",
        )
    expected = _PREAMBLE.size + n_head + n_body + _DIGEST_SIZE
    if reserved != 0 or n_head > _MAX_HEADER or expected != len(data):
        what = "truncated" if expected > len(data) else "corrupt"
        raise ModelFileError(
            path,
            f"{what}: its preamble declares {expected} bytes but the file has {len(data)}",
        )
    end = len(data) - _DIGEST_SIZE
    if hashlib.sha256(memoryview(data)[:end]).digest() != data[end:]:
        raise ModelFileError(
            path, "corrupt or modified: the SHA-256 checksum does not match its contents"
        )
    head = data[_PREAMBLE.size : _PREAMBLE.size + n_head]
    try:
        header = json.loads(head.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ModelFileError(path, f"its JSON header does not parse ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != "natgrad-model":
        raise ModelFileError(path, "its header is not a natgrad model header")
    return header, memoryview(data)[_PREAMBLE.size + n_head : end]


def _reject_constant(name: str) -> None:
    raise ValueError(f"non-finite number {name} in the header")
