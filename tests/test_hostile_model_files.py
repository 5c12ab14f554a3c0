"""Crafted model files, all with valid checksums: the loader rejects them in bounded memory.

Each file is crafted under ``tmp_path`` from a genuine one (header or arrays edited, the
digest recomputed), then loaded in a child process of its own whose data segment is capped at 2 GiB
(``RLIMIT_DATA``), so that a loader that tries to allocate gigabytes fails there with a
MemoryError instead of exhausting the machine. The child measures each load's peak
allocation with `tracemalloc` (NumPy reports its buffers to it).
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys

import numpy as np
import pytest

from natgrad import io
from natgrad.boosting import NGBoostClassifier, NGBoostRegressor
from natgrad.io import framing

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX only")

_DRIVER = r"""
import json, sys, tracemalloc
from pathlib import Path
from natgrad import io
folder, name = Path(sys.argv[1]), sys.argv[2]
# A first pass, unmeasured, pays for imports and first-use caches; then the load is measured.
for warm in ["genuine.ngm", "classifier.ngm", name]:
    try:
        io.load(folder / warm)
    except BaseException:
        pass
tracemalloc.start()
try:
    io.load(folder / name)
    outcome, message = "loaded", ""
except BaseException as exc:
    outcome, message = type(exc).__name__, str(exc)
peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({"outcome": outcome, "message": message, "peak": peak}))
"""

_CAP = 2 * 1024**3


def _split(blob: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    _, _, _, n_head, n_body = framing._PREAMBLE.unpack_from(blob)
    start = framing._PREAMBLE.size
    header = json.loads(blob[start : start + n_head])
    body = blob[start + n_head : start + n_head + n_body]
    arrays = {}
    for key, spec in header["arrays"].items():
        size = spec["nbytes"] // np.dtype(spec["dtype"]).itemsize
        raw = np.frombuffer(body, dtype=spec["dtype"], count=size, offset=spec["offset"])
        arrays[key] = raw.reshape(spec["shape"]).copy()
    return header, arrays


def _pack(header: dict, arrays: dict[str, np.ndarray] | None = None, *, text: bytes | None = None,
          reserved: int = 0) -> bytes:  # fmt: skip
    """A model file from a header and arrays, with a correct digest."""
    chunks, offset = [], 0
    if arrays is not None:
        table = {}
        for key, arr in arrays.items():
            dtype = header["arrays"][key]["dtype"]
            raw = np.ascontiguousarray(arr, dtype=dtype).tobytes()
            pad = -offset % framing._ALIGN
            chunks.append(b"\0" * pad)
            offset += pad
            table[key] = {"dtype": dtype, "shape": list(arr.shape), "offset": offset,
                          "nbytes": len(raw)}  # fmt: skip
            chunks.append(raw)
            offset += len(raw)
        header = {**header, "arrays": {**header["arrays"], **table}}
    head = text if text is not None else json.dumps(header, sort_keys=True).encode()
    body = b"".join(chunks)
    pre = framing._PREAMBLE.pack(io.MAGIC, io.FORMAT_VERSION, reserved, len(head), len(body))
    blob = pre + head + body
    return blob + hashlib.sha256(blob).digest()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(120, 3))
    reg = NGBoostRegressor(n_estimators=3, random_state=0).fit(X, X[:, 0] + rng.normal(size=120))
    labels = np.where(X[:, 0] > 0.5, "yes", "no")
    clf = NGBoostClassifier(n_estimators=3, random_state=0).fit(X, labels)
    io.save(reg, folder / "genuine.ngm")
    io.save(clf, folder / "classifier.ngm")
    np.save(folder / "genuine_predictions.npy", reg.predict_dist(X).params)
    np.save(folder / "classifier_predictions.npy", clf.predict_proba(X))
    header, arrays = _split((folder / "genuine.ngm").read_bytes())
    cheader, carrays = _split((folder / "classifier.ngm").read_bytes())
    files: dict[str, bytes] = {}

    wide = json.loads(json.dumps(cheader))
    wide["classes"]["dtype"] = "<U500000000"
    files["wide_label_dtype.ngm"] = _pack(wide, carrays)

    for dim in (4000, 100_000):
        mvn = json.loads(json.dumps(header))
        mvn["distribution"] = {"name": "multivariate_normal", "config": {"dim": dim}}
        mvn["params"]["distribution"] = "multivariate_normal"
        files[f"mvn_dim_{dim}.ngm"] = _pack(mvn, arrays)

    many = json.loads(json.dumps(header))
    d = 1_000_000
    many["n_features_in"] = d
    many["feature_names_in"] = None
    many["categories"] = None
    wide_arrays = dict(arrays)
    wide_arrays["bin_counts"] = np.ones(d, dtype=np.int32)
    wide_arrays["bin_thresholds"] = np.zeros(0)
    files["million_features.ngm"] = _pack(many, wide_arrays)

    nested = b'{"format":"natgrad-model","x":' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    files["nested_header.ngm"] = _pack(header, text=nested)

    overflow = json.loads(json.dumps(header))
    # 2**32 * 2**32 * 1 wraps to 0 in int64: with nbytes 0 it used to pass the size check.
    dtype = header["arrays"]["scales"]["dtype"]
    overflow["arrays"]["scales"] = {"dtype": dtype, "shape": [2**32, 2**32, 1], "offset": 0,
                                    "nbytes": 0}  # fmt: skip
    files["overflowing_shape.ngm"] = _pack(
        overflow, {k: v for k, v in arrays.items() if k != "scales"}
    )

    files["reserved_field.ngm"] = _pack(header, arrays, reserved=7)

    for name, blob in files.items():
        (folder / name).write_bytes(blob)
    # A 1 GiB sparse file that starts like a model file.
    with open(folder / "sparse.ngm", "wb") as fh:
        fh.write(io.MAGIC + bytes(24))
        fh.truncate(1024**3)
    os.mkfifo(folder / "fifo.ngm")
    names = [*files, "sparse.ngm", "fifo.ngm"]

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_DATA, (_CAP, _CAP))

    # One child process a file: a load that blocks (a FIFO) or runs away on one file cannot
    # hide what the loader does with the others.
    results = {}
    for name in names:
        try:
            done = subprocess.run(
                [sys.executable, "-c", _DRIVER, str(folder), name],
                capture_output=True, text=True, timeout=120, preexec_fn=cap,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            results[name] = {"outcome": "no answer in 120 s", "message": "", "peak": None}
            continue
        if done.returncode != 0:
            outcome = f"child exited {done.returncode}"
            results[name] = {"outcome": outcome, "message": done.stderr[-3000:], "peak": None}
            continue
        results[name] = json.loads(done.stdout.splitlines()[-1])
    return folder, results


CASES = [
    "wide_label_dtype.ngm",
    "mvn_dim_4000.ngm",
    "mvn_dim_100000.ngm",
    "nested_header.ngm",
    "overflowing_shape.ngm",
    "reserved_field.ngm",
    "sparse.ngm",
    "fifo.ngm",
]


@pytest.mark.parametrize("name", CASES)
def test_crafted_file_is_rejected_in_bounded_memory(corpus, name):
    folder, results = corpus
    result = results[name]
    assert result["outcome"] == "ModelFileError", result
    # Never more than a small multiple of the file's size (the sparse file and the FIFO
    # must not be read at all).
    size = 0 if name in ("sparse.ngm", "fifo.ngm") else (folder / name).stat().st_size
    assert result["peak"] <= 8 * size + 256 * 1024, result


def test_a_million_declared_features_load_in_bounded_memory(corpus):
    folder, results = corpus
    name = "million_features.ngm"
    size = (folder / name).stat().st_size
    assert results[name]["outcome"] in ("loaded", "ModelFileError"), results[name]
    assert results[name]["peak"] <= 8 * size + 256 * 1024, (results[name], size)


MESSAGES = {
    "wide_label_dtype.ngm": ["wider than its longest label"],
    "mvn_dim_100000.ngm": ["does not match"],
    "nested_header.ngm": ["nested too deeply"],
    "fifo.ngm": ["not a regular file"],
    "reserved_field.ngm": ["reserved field is 7"],
}


@pytest.mark.parametrize("name", MESSAGES)
def test_messages_say_what_is_wrong(corpus, name):
    _, results = corpus
    message = results[name]["message"]
    assert all(fragment in message for fragment in MESSAGES[name]), results[name]
    if name == "reserved_field.ngm":  # it once also blamed the declared sizes
        assert "declares" not in message, message


def test_loaded_models_still_predict_exactly(corpus):
    # The checks above must not change what a genuine file loads to: the same predictions,
    # bit for bit, as the models that were saved (bin edges are stored flat now).
    folder, _ = corpus
    X = np.random.default_rng(0).uniform(size=(120, 3))
    model = io.load(folder / "genuine.ngm")
    expected = np.load(folder / "genuine_predictions.npy")
    np.testing.assert_array_equal(model.predict_dist(X).params, expected)
    clf = io.load(str(folder / "classifier.ngm"))
    np.testing.assert_array_equal(
        clf.predict_proba(X), np.load(folder / "classifier_predictions.npy")
    )
    assert set(clf.predict(X)) <= {"yes", "no"}
