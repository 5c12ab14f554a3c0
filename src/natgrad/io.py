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


class _Builder:
    """Validates a parsed file and assembles the estimator; every failure names the file."""

    def __init__(self, path: Path, header: dict[str, Any], body: memoryview) -> None:
        self.path = path
        self.header = header
        self.body = body

    def fail(self, reason: str) -> ModelFileError:
        return ModelFileError(self.path, reason)

    def get(self, key: str, kind: type | tuple[type, ...], where: dict | None = None) -> Any:
        source = self.header if where is None else where
        if key not in source:
            raise self.fail(f"its header has no {key!r} entry")
        value = source[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(f"the header entry {key!r} has the wrong type ({value!r})")
        return value

    def count(self, key: str, where: dict | None = None, low: int = 0) -> int:
        value = self.get(key, int, where)
        if value < low:
            raise self.fail(f"the header entry {key!r} must be at least {low}; it is {value}")
        return value

    # ------------------------------------------------------------------------- pieces
    def estimator(self) -> Any:
        name = self.get("estimator", str)
        if name not in _ESTIMATORS:
            raise self.fail(
                f"unknown estimator class {name!r}; this natgrad loads {', '.join(_ESTIMATORS)}"
            )
        cls = _estimator_class(name)
        params = dict(self.get("params", dict))
        known = cls().get_params(deep=False)
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise self.fail(f"unknown hyper-parameter(s) {unknown} for {name}")
        from natgrad.scores import _SCORES, Score

        if name == "NGBoostSurvival" and isinstance(params.get("scoring_rule"), dict):
            params["scoring_rule"] = self.censored_score(params["scoring_rule"])
        rules = [params[key] for key in _SCORE_KEYS if key in params]
        if name == "NGBoostSurvival":
            rules = [r for r in rules if not isinstance(r, Score)]
        if any(not isinstance(rule, str) or rule not in _SCORES for rule in rules):
            raise self.fail(f"unknown scoring rule {rules}; this natgrad knows {list(_SCORES)}")
        if params.get("base_learner") is not None:
            raise self.fail("only the native tree learner is supported")
        est = cls(**params)
        try:
            est._validate_params()
        except (TypeError, ValueError) as exc:
            raise self.fail(f"invalid hyper-parameters: {exc}") from None
        return est

    def censored_score(self, spec: Any) -> Any:
        from natgrad._censored import CensoredLogScore

        if (
            not isinstance(spec, dict)
            or spec.get("name") != CensoredLogScore.name
            or not isinstance(spec.get("config"), dict)
            or set(spec["config"]) != {"metric"}
            or spec["config"]["metric"] not in ("censored", "fisher")
        ):
            raise self.fail(f"invalid censored scoring rule {spec!r}")
        return CensoredLogScore(metric=spec["config"]["metric"])

    def classes(self, est: Any, family: Any, config: dict[str, Any]) -> np.ndarray:
        spec = self.get("classes", dict)
        dtype, values = spec.get("dtype"), spec.get("values")
        if not isinstance(values, list) or len(values) < 2:
            raise self.fail("'classes' must hold a list of at least 2 labels")
        try:
            dt = np.dtype(object if dtype == "object" else dtype)
        except (TypeError, ValueError):
            raise self.fail(f"invalid class label dtype {dtype!r}") from None
        kinds = (str, int, float, bool)
        if dt.kind not in _LABEL_KINDS or not all(isinstance(v, kinds) for v in values):
            raise self.fail(f"class labels must be int, float, str or bool ({dtype!r})")
        try:
            classes = np.array(values, dtype=dt)
        except (TypeError, ValueError, OverflowError):
            raise self.fail(f"class labels {values!r} do not fit dtype {dtype!r}") from None
        if dt.kind != "O" and classes.tolist() != values:
            raise self.fail(f"class labels {values!r} do not fit dtype {dtype!r}")
        try:
            ordered = bool(np.all(classes[:-1] < classes[1:]))
        except TypeError:
            ordered = False
        if not ordered:
            raise self.fail("class labels must be distinct and sorted")
        est.classes_ = classes
        expected, expected_config = est._family()
        if expected is not family or expected_config != config:
            raise self.fail(
                f"{len(values)} classes with distribution {est.distribution!r} do not match the "
                f"family {family.name!r} {config}"
            )
        return classes

    def family(self) -> tuple[Any, dict[str, Any]]:
        from natgrad import distributions

        spec = self.get("distribution", dict)
        name = self.get("name", str, spec)
        config = self.get("config", dict, spec)
        if name not in distributions.names():
            raise self.fail(f"unknown distribution family {name!r}")
        return distributions.get(name), config

    def arrays(self) -> dict[str, np.ndarray]:
        table = self.get("arrays", dict)
        missing = sorted(set(_ARRAYS) - _OPTIONAL_ARRAYS - set(table))
        extra = sorted(set(table) - set(_ARRAYS))
        if missing or extra:
            raise self.fail(f"wrong array list (missing {missing}, unexpected {extra})")
        out = {}
        spans = []
        for key, dtype in _ARRAYS.items():
            if key not in table:
                continue
            spec = table[key]
            if not isinstance(spec, dict) or spec.get("dtype") != dtype:
                raise self.fail(f"array {key!r} must have dtype {dtype}")
            shape = spec.get("shape")
            if not isinstance(shape, list) or not all(
                isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape
            ):
                raise self.fail(f"array {key!r} has an invalid shape {shape!r}")
            offset = self.count("offset", spec)
            nbytes = self.count("nbytes", spec)
            size = int(np.prod(shape, dtype=np.int64)) if shape else 1
            if nbytes != size * np.dtype(dtype).itemsize or offset % _ALIGN:
                raise self.fail(f"array {key!r}: {nbytes} bytes do not fit shape {shape}")
            if offset + nbytes > len(self.body):
                raise self.fail(f"array {key!r} extends past the end of the data section")
            spans.append((offset, offset + nbytes, key))
            arr = np.frombuffer(self.body, dtype=dtype, count=size, offset=offset)
            # A native-endian, writable, aligned copy: the compiled kernels' own layout.
            out[key] = arr.astype(np.dtype(dtype).newbyteorder("="), copy=True).reshape(shape)
        spans.sort()
        for (_, end, a), (start, _, b) in zip(spans, spans[1:], strict=False):
            if start < end:
                raise self.fail(f"arrays {a!r} and {b!r} overlap")
        return out

    def check_shapes(self, a: dict[str, np.ndarray], p: int, d: int, t: int) -> int:
        def expect(key: str, shape: tuple[int, ...]) -> None:
            if a[key].shape != shape:
                raise self.fail(
                    f"array {key!r} has shape {a[key].shape}; the header implies {shape}"
                )

        expect("init_params", (1, p))
        expect("train_loss", (t + 1,))
        expect("validation_loss", (t + 1,))
        expect("tree_offsets", (t + 1,))
        expect("scales", (t,))
        offsets = a["tree_offsets"]
        if offsets[0] != 0 or (np.diff(offsets) < 1).any():
            raise self.fail("tree offsets must start at 0 and increase (no empty tree)")
        n = int(offsets[-1])
        for key in ("feature", "threshold", "bin_threshold", "missing_go_left"):
            expect(f"node_{key}", (n,))
        for key in ("left", "right", "leaf_id"):
            expect(f"node_{key}", (n,))
        expect("node_value", (n, p))
        expect("node_gain", (n, p))
        if "node_cover" in a:
            expect("node_cover", (n,))
        expect("bin_counts", (d,))
        expect("bin_thresholds", (int(a["bin_counts"].sum()) - d,))
        present = [key in a for key in _CATEGORICAL_ARRAYS]
        if any(present) and not all(present):
            raise self.fail("arrays 'node_cat_index' and 'cat_bitsets' must come together")
        if not any(present):  # a file from before categorical splits: all numeric
            a["node_cat_index"] = np.full(n, -1, dtype=np.int32)
            a["cat_bitsets"] = np.zeros((0, _N_WORDS), dtype=np.uint32)
        expect("node_cat_index", (n,))
        expect("cat_bitsets", (a["cat_bitsets"].shape[0], _N_WORDS))
        return n

    def check_trees(self, a: dict[str, np.ndarray], d: int, max_bins: int) -> None:
        offsets = a["tree_offsets"]
        n = int(offsets[-1])
        node = np.arange(n)
        end = np.repeat(offsets[1:], np.diff(offsets))
        left, right = a["node_left"].astype(np.int64), a["node_right"].astype(np.int64)
        leaf = left == -1
        internal = ~leaf
        # Children inside their own tree and after their parent: prediction stays in bounds
        # and every root-to-leaf walk ends.
        ok_children = (left > node) & (left < end) & (right > node) & (right < end)
        if (leaf & (right != -1)).any() or (internal & ~ok_children).any():
            raise self.fail("its trees are malformed (a child index is out of place)")
        feature = a["node_feature"]
        if (internal & ((feature < 0) | (feature >= d))).any():
            raise self.fail(f"a split uses a feature outside [0, {d})")
        cat = a["node_cat_index"]
        if ((cat < -1) | (cat >= a["cat_bitsets"].shape[0])).any() or (leaf & (cat != -1)).any():
            raise self.fail("a categorical split's bitset index is out of range")
        # Categorical splits have no threshold (NaN); numeric ones must have one.
        if (internal & (cat < 0) & np.isnan(a["node_threshold"])).any():
            raise self.fail("a split has a NaN threshold")
        if (a["node_missing_go_left"] > 1).any():
            raise self.fail("array 'node_missing_go_left' holds values other than 0 and 1")
        if ((a["node_leaf_id"] >= 0) != leaf).any():
            raise self.fail("leaf numbers do not match the leaves")
        if not np.isfinite(a["node_value"][leaf]).all() or not np.isfinite(a["scales"]).all():
            raise self.fail("leaf values and tree scales must be finite")
        if not np.isfinite(a["init_params"]).all():
            raise self.fail("the initial parameters must be finite")
        # TreeSHAP divides by a parent's cover: positive and finite keeps it a number.
        if "node_cover" in a and not (np.isfinite(a["node_cover"]) & (a["node_cover"] > 0)).all():
            raise self.fail("node covers must be positive and finite")
        counts = a["bin_counts"]
        if (counts < 1).any() or (counts > max_bins).any():
            raise self.fail(f"bin counts must lie in [1, {max_bins}]")

    def categories(self, a: dict[str, np.ndarray], d: int, max_bins: int) -> list[Any] | None:
        """The header's ``categories`` (version 3), checked against the splits and bins."""
        cats = self.header.get("categories")
        is_cat_split = a["node_cat_index"] >= 0
        if cats is None:
            if is_cat_split.any():
                raise self.fail("it has categorical splits but no 'categories' entry")
            return None
        if not isinstance(cats, list) or len(cats) != d:
            raise self.fail(f"'categories' must be null or a list of {d} entries")
        kinds = (str, int, float, bool)
        for f, values in enumerate(cats):
            if values is None:
                continue
            if not isinstance(values, list) or not all(isinstance(v, kinds) for v in values):
                raise self.fail(f"the categories of feature {f} must be a list of values")
            if len(values) > max_bins or (values and a["bin_counts"][f] != len(values)):
                raise self.fail(f"feature {f} has {len(values)} categories but other bins")
        split_features = a["node_feature"][is_cat_split]
        if any(cats[f] is None for f in split_features.tolist()):
            raise self.fail("a categorical split uses a feature without categories")
        return cats

    # ------------------------------------------------------------------------- assembly
    def build(self) -> Any:
        from natgrad.boosting._binning import BinMapper
        from natgrad.boosting._models import NativeModel
        from natgrad.boosting._predictor import Ensemble
        from natgrad.scores import get_score

        est = self.estimator()
        family, config = self.family()
        name = type(est).__name__
        if family.event_dim != 0 and not est._vector_targets:
            raise self.fail(f"distribution {family.name!r} is not univariate ({name})")
        task = self.header.get("task", "regression")
        if task != TASKS[name]:
            raise self.fail(f"task {task!r} does not match the estimator {name}")
        if name == "NGBoostClassifier":
            self.classes(est, family, config)
        elif est.distribution != family.name:
            raise self.fail(
                f"the distribution parameter {est.distribution!r} differs from the family "
                f"{family.name!r}"
            )
        p = self.count("n_params", low=1)
        d = self.count("n_features_in", low=1)
        t = self.count("n_estimators_", low=1)
        best = self.count("best_iteration_")
        if best > t:
            raise self.fail(f"best_iteration_ {best} exceeds n_estimators_ {t}")
        learner = self.get("learner", dict)
        if learner.get("kind") != "native":
            raise self.fail(f"unknown learner kind {learner.get('kind')!r}")
        max_bins = self.count("max_bins", learner, low=2)
        missing_bin = self.count("missing_values_bin_idx", learner)
        if max_bins > 255 or missing_bin != max_bins or max_bins != est.max_bins:
            raise self.fail("inconsistent binning settings")
        names = self.header.get("feature_names_in")
        if names is not None and (
            not isinstance(names, list)
            or len(names) != d
            or not all(isinstance(s, str) for s in names)
        ):
            raise self.fail(f"'feature_names_in' must be null or a list of {d} strings")
        if not isinstance(self.header.get("metadata", {}), dict):
            raise self.fail("'metadata' must be a JSON object")
        a = self.arrays()
        self.check_shapes(a, p, d, t)
        self.check_trees(a, d, max_bins)
        categories = self.categories(a, d, max_bins)
        try:
            template = family.from_params(a["init_params"], **config)
        except (TypeError, ValueError) as exc:
            raise self.fail(f"invalid distribution settings for {family.name!r}: {exc}") from None
        if template.n_params != p:
            raise self.fail(f"{family.name!r} with {config} has {template.n_params} parameters")

        mapper = BinMapper(max_bins=max_bins, random_state=0)
        edges = np.split(a["bin_thresholds"], np.cumsum(a["bin_counts"] - 1)[:-1])
        for f, thr in enumerate(edges):
            if np.isnan(thr).any() or (np.diff(thr) <= 0).any():
                raise self.fail(f"the bin edges of feature {f} are not increasing")
        mapper.bin_thresholds_ = [np.ascontiguousarray(e) for e in edges]
        mapper.n_bins_non_missing_ = a["bin_counts"].astype(np.int32)
        mapper.missing_values_bin_idx_ = missing_bin
        mapper.n_features_in_ = d
        mapper.is_categorical_ = np.array(
            [categories is not None and bool(categories[f]) for f in range(d)], dtype=bool
        )
        padded = np.full((d, 255), np.inf)
        for f, thr in enumerate(edges):
            padded[f, : thr.size] = thr
        mapper._padded_thresholds = padded

        ens = Ensemble(p, d, missing_values_bin_idx=missing_bin)
        ens._buf = {
            "feature": a["node_feature"],
            "threshold": a["node_threshold"],
            "bin_threshold": a["node_bin_threshold"],
            "missing_go_left": a["node_missing_go_left"].astype(np.bool_),
            "left": a["node_left"],
            "right": a["node_right"],
            "leaf_id": a["node_leaf_id"],
            "value": np.ascontiguousarray(a["node_value"]),
            "gain": np.ascontiguousarray(a["node_gain"]),
        }
        if "node_cover" in a:
            ens._buf["cover"] = a["node_cover"]
        ens._buf["cat_index"] = a["node_cat_index"]
        ens._cat_bits = np.ascontiguousarray(a["cat_bitsets"])
        ens._n_cat = int(a["cat_bitsets"].shape[0])
        ens._n_nodes = int(a["tree_offsets"][-1])
        ens.n_trees = t
        ens._offsets = a["tree_offsets"]
        ens._scales = a["scales"]

        model = NativeModel(
            p,
            max_bins=max_bins,
            max_depth=est.max_depth,
            max_leaves=est.max_leaves,
            min_samples_leaf=est.min_samples_leaf,
            l2_regularization=est.l2_regularization,
            random_state=0,
        )
        model.mapper = mapper
        model.ensemble = ens
        model.finish()

        if name == "NGBoostSurvival":
            score = self.censored_score(self.get("score", dict))
            if not score.supports(family):
                raise self.fail(f"the censored log score does not support {family.name!r}")
            est._score_rule = score
        else:
            rule = next(getattr(est, key) for key in _SCORE_KEYS if hasattr(est, key))
            est._score_rule = get_score(rule)
        est.init_params_ = a["init_params"]
        est._template_ = template
        est._model_ = model
        est.n_estimators_ = t
        est.best_iteration_ = best
        est.train_loss_ = a["train_loss"]
        est.validation_loss_ = a["validation_loss"]
        est.n_features_in_ = d
        est.categories_ = categories
        if names is not None:
            est.feature_names_in_ = np.asarray(names, dtype=object)
        return est
