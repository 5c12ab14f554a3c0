"""The model file's framing: preamble, JSON header, aligned array section and digest.

Layout (docs/model-format.md): the magic bytes, the format version (uint32), a reserved
uint32 (zero), the header and data lengths (uint64 each, little-endian); the UTF-8 JSON
header; the raw arrays, each 8-byte aligned; the SHA-256 digest of everything before it.
This module knows nothing about models: it turns a header and named arrays into sealed bytes
and back, and writes files atomically.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
import struct
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "FORMAT_VERSION",
    "MAGIC",
    "SUPPORTED_VERSIONS",
    "ModelFileError",
    "decode_arrays",
    "encode",
    "read",
    "write_atomic",
]

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


class ModelFileError(ValueError):
    """A file that is not a valid natgrad model file, with the file and the reason.

    Examples
    --------
    >>> import os, tempfile
    >>> from natgrad import io
    >>> path = os.path.join(tempfile.mkdtemp(), "not-a-model.ngm")
    >>> with open(path, "w") as f:
    ...     _ = f.write("hello")
    ...
    >>> try:
    ...     io.load(path)
    ... except io.ModelFileError as err:
    ...     print(err.reason)
    not a natgrad model file (its first bytes are not the magic)
    """

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"Cannot load model file {self.path!r}: {reason}")

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        # Pickles (e.g. across joblib workers) with both constructor arguments.
        return type(self), (self.path, self.reason)


# --------------------------------------------------------------------------------- writing
def encode(header: dict[str, Any], arrays: Mapping[str, Any], dtypes: Mapping[str, str]) -> bytes:
    """Seal ``header`` and ``arrays`` into the bytes of one model file.

    Parameters
    ----------
    header : dict
        JSON-serialisable header entries; the array table is added as ``header["arrays"]``.
    arrays : mapping of str to array-like
        The arrays by name; those absent from ``arrays`` are left out of the file.
    dtypes : mapping of str to str
        The file's array names in file order, each with its little-endian dtype string.

    Raises
    ------
    ValueError
        When the header is not JSON-serialisable with finite numbers.
    """
    table: dict[str, dict[str, Any]] = {}
    chunks: list[bytes] = []
    offset = 0
    for key, dtype in dtypes.items():
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
    try:
        text = json.dumps(
            {**header, "arrays": table}, sort_keys=True, separators=(",", ":"), allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(
            "The 'metadata' argument of natgrad.io.save and the model's parameters must be "
            f"JSON-serialisable with finite numbers. Got an error: {exc}."
        ) from exc
    head = text.encode("utf-8")
    body = b"".join(chunks)
    blob = _PREAMBLE.pack(MAGIC, FORMAT_VERSION, 0, len(head), len(body)) + head + body
    return blob + hashlib.sha256(blob).digest()


def write_atomic(data: bytes, path: str | os.PathLike[str]) -> Path:
    """Write ``data`` to ``path`` through a temporary file renamed into place.

    An interrupted write never leaves a half-written file; an existing file is replaced.
    """
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


# --------------------------------------------------------------------------------- reading
def read(path: Path) -> tuple[dict[str, Any], memoryview]:
    """The header and the data section of the file at ``path``, framing and digest checked.

    Raises
    ------
    ModelFileError
        When the magic, version, sizes, digest or JSON header are wrong.
    """
    data, size = _read_framed(path)
    if 0 < len(data) < len(MAGIC) and MAGIC.startswith(data):
        raise ModelFileError(path, f"truncated: {len(data)} bytes, shorter than any model file")
    if len(data) < len(MAGIC) or data[: len(MAGIC)] != MAGIC:
        raise ModelFileError(path, "not a natgrad model file (its first bytes are not the magic)")
    if size < _PREAMBLE.size + _DIGEST_SIZE:
        raise ModelFileError(path, f"truncated: {size} bytes, shorter than any model file")
    _, version, reserved, n_head, n_body = _PREAMBLE.unpack_from(data)
    if version not in SUPPORTED_VERSIONS:
        newer = " (written by a newer natgrad?)" if version > FORMAT_VERSION else ""
        raise ModelFileError(
            path,
            f"unsupported format version {version}{newer}; this natgrad reads version(s) "
            f"{', '.join(map(str, sorted(SUPPORTED_VERSIONS)))}",
        )
    if reserved != 0:
        raise ModelFileError(path, f"corrupt: its reserved field is {reserved}; it must be 0")
    if n_head > _MAX_HEADER:
        raise ModelFileError(
            path, f"corrupt: it declares a {n_head}-byte header, more than {_MAX_HEADER}"
        )
    expected = _PREAMBLE.size + n_head + n_body + _DIGEST_SIZE
    if expected != size or len(data) != size:
        what = "truncated" if expected > size else "corrupt"
        raise ModelFileError(
            path, f"{what}: its preamble declares {expected} bytes but the file has {size}"
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
    except RecursionError:
        raise ModelFileError(path, "its JSON header is nested too deeply") from None
    if not isinstance(header, dict) or header.get("format") != "natgrad-model":
        raise ModelFileError(path, "its header is not a natgrad model header")
    return header, memoryview(data)[_PREAMBLE.size + n_head : end]


def _read_framed(path: Path) -> tuple[bytes, int]:
    """The file's bytes (all of them only once the preamble matches its size) and its size.

    Only a regular file is read: a FIFO or a device would block or never end. It is opened
    without blocking and checked with fstat, so that nothing can be swapped in between.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except IsADirectoryError:
        raise ModelFileError(path, "it is a folder, not a model file") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ModelFileError(path, "not a regular file (a pipe, device or socket)")
        data = fh.read(_PREAMBLE.size)
        # The rest only once the magic and the preamble's lengths match the file's size (not,
        # say, a large CSV or a sparse file that only starts like a model file).
        if len(data) == _PREAMBLE.size and data[: len(MAGIC)] == MAGIC:
            _, _, reserved, n_head, n_body = _PREAMBLE.unpack_from(data)
            declared = _PREAMBLE.size + n_head + n_body + _DIGEST_SIZE
            if reserved == 0 and n_head <= _MAX_HEADER and declared == info.st_size:
                data += fh.read()
    return data, info.st_size


def _reject_constant(name: str) -> None:
    raise ValueError(f"non-finite number {name} in the header")


def decode_arrays(
    table: Any,
    body: memoryview,
    dtypes: Mapping[str, str],
    optional: frozenset[str],
    fail: Callable[[str], Exception],
) -> dict[str, np.ndarray]:
    """The arrays of the data section, as native-endian writable copies.

    Parameters
    ----------
    table : dict
        The header's array table (name -> dtype, shape, offset, nbytes).
    body : memoryview
        The data section.
    dtypes : mapping of str to str
        The arrays a file may hold, with their dtypes; all but ``optional`` are required.
    optional : frozenset of str
    fail : callable
        Makes the exception to raise from a reason (it names the file).
    """
    missing = sorted(set(dtypes) - optional - set(table))
    extra = sorted(set(table) - set(dtypes))
    if missing or extra:
        raise fail(f"wrong array list (missing {missing}, unexpected {extra})")
    out = {}
    spans = []
    for key, dtype in dtypes.items():
        if key not in table:
            continue
        spec = table[key]
        if not isinstance(spec, dict) or spec.get("dtype") != dtype:
            raise fail(f"array {key!r} must have dtype {dtype}")
        shape = spec.get("shape")
        if not isinstance(shape, list) or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape
        ):
            raise fail(f"array {key!r} has an invalid shape {shape!r}")
        offset = _count(spec, "offset", fail)
        nbytes = _count(spec, "nbytes", fail)
        size = math.prod(shape)  # exact: a product that overflows int64 is no shape
        if nbytes != size * np.dtype(dtype).itemsize or offset % _ALIGN:
            raise fail(f"array {key!r}: {nbytes} bytes do not fit shape {shape}")
        if offset + nbytes > len(body):
            raise fail(f"array {key!r} extends past the end of the data section")
        spans.append((offset, offset + nbytes, key))
        arr = np.frombuffer(body, dtype=dtype, count=size, offset=offset)
        # A native-endian, writable, aligned copy: the compiled kernels' own layout.
        out[key] = arr.astype(np.dtype(dtype).newbyteorder("="), copy=True).reshape(shape)
    spans.sort()
    for (_, end, a), (start, _, b) in zip(spans, spans[1:], strict=False):
        if start < end:
            raise fail(f"arrays {a!r} and {b!r} overlap")
    return out


def _count(spec: dict, key: str, fail: Callable[[str], Exception]) -> int:
    if key not in spec:
        raise fail(f"its header has no {key!r} entry")
    value = spec[key]
    if not isinstance(value, int) or isinstance(value, bool):
        raise fail(f"the header entry {key!r} has the wrong type ({value!r})")
    if value < 0:
        raise fail(f"the header entry {key!r} must be at least 0; it is {value}")
    return value
