"""Safe files for `NPG` models: a checksummed JSON header and NumPy arrays, no pickle.

Layout (all integers little-endian), as in natgrad's model files (docs/model-format.md):

| offset | size | content |
| --- | --- | --- |
| 0 | 8 | magic ``\\x89NGR\\r\\n\\x1a\\n`` |
| 8 | 4 | format version, uint32 (`FORMAT_VERSION`) |
| 12 | 4 | reserved, uint32, 0 |
| 16 | 8 | H, the JSON header's length |
| 24 | 8 | D, the data section's length |
| 32 | H | JSON header (UTF-8, sorted keys, finite numbers only) |
| 32 + H | D | an uncompressed ``.npz`` archive (`numpy.savez`) of the arrays |
| 32 + H + D | 32 | SHA-256 of everything before it |

The arrays are read with ``allow_pickle=False`` and must be exactly those the header lists,
with their dtypes and shapes; the networks are rebuilt from the header (hidden widths) and
the arrays loaded with ``load_state_dict(strict=True)``. A network given by the user as a
module is stored by its weights only: `load` then needs a module of the same structure.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from natgrad.io import ModelFileError
from natgrad.io.framing import write_atomic

MAGIC = b"\x89NGR\r\n\x1a\n"
FORMAT_VERSION = 1
SUPPORTED_VERSIONS = frozenset({1})
_PREAMBLE = struct.Struct("<8sIIQQ")
_DIGEST = 32
_MAX_HEADER = 16 * 1024 * 1024
_FLOAT_DTYPES = ("<f4", "<f8")
_PARAMS = (
    "max_kl",
    "gae_lambda",
    "gamma",
    "n_steps",
    "cg_iters",
    "cg_damping",
    "backtrack_ratio",
    "max_backtracks",
    "vf_learning_rate",
    "vf_epochs",
    "vf_batch_size",
    "normalize_advantage",
    "torch_threads",
    "seed",
)
_HEADER_KEYS = {
    "format",
    "natgrad_version",
    "algorithm",
    "params",
    "policy",
    "value_function",
    "env_id",
    "observation_shape",
    "action_space",
    "num_timesteps",
    "arrays",
}


# --------------------------------------------------------------------------------- saving
def _network_spec(spec: Any) -> dict[str, Any]:
    if isinstance(spec, nn.Module):
        return {"kind": "module", "hidden": None}
    from natgrad.rl._networks import DEFAULT_HIDDEN, check_hidden

    hidden = DEFAULT_HIDDEN if spec is None else check_hidden(spec, "network")
    return {"kind": "mlp", "hidden": list(hidden)}


def _state_arrays(prefix: str, module: nn.Module) -> dict[str, np.ndarray]:
    out = {}
    for key, value in module.state_dict().items():
        arr = value.detach().cpu().numpy()
        out[f"{prefix}.{key}"] = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<"))
    return out


def save(model: Any, path: str | os.PathLike[str]) -> Path:
    """Write a trained `NPG` to ``path`` atomically (temporary file, then rename)."""
    from gymnasium import spaces

    from natgrad import __version__

    space = model.env_.action_space
    arrays = {
        **_state_arrays("policy", model.policy_),
        **_state_arrays("value", model.value_function_),
        "episodes": model.episodes_,
    }
    if isinstance(space, spaces.Discrete):
        action: dict[str, Any] = {"type": "discrete", "n": int(space.n)}
    else:
        action = {"type": "box", "shape": list(space.shape)}
        arrays["action_low"] = np.asarray(space.low, dtype="<f8")
        arrays["action_high"] = np.asarray(space.high, dtype="<f8")
    params = {name: getattr(model, name) for name in _PARAMS}
    params = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in params.items()}
    env_spec = getattr(model.env_, "spec", None)
    header = {
        "format": "natgrad-rl",
        "natgrad_version": __version__,
        "algorithm": "NPG",
        "params": params,
        "policy": _network_spec(model.policy),
        "value_function": _network_spec(model.value_function),
        "env_id": getattr(env_spec, "id", None),
        "observation_shape": list(model.env_.observation_space.shape),
        "action_space": action,
        "num_timesteps": int(model.num_timesteps_),
        "arrays": {
            name: {"dtype": a.dtype.str, "shape": list(a.shape)} for name, a in arrays.items()
        },
    }
    head = json.dumps(header, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    body = buf.getvalue()
    data = _PREAMBLE.pack(MAGIC, FORMAT_VERSION, 0, len(head), len(body)) + head + body
    data += hashlib.sha256(data).digest()
    return write_atomic(data, path)


# -------------------------------------------------------------------------------- loading
def _reject_constant(name: str) -> None:
    raise ValueError(f"non-finite number {name} in the header")


def _read(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelFileError(path, f"cannot read it ({exc})") from exc
    if len(data) < _PREAMBLE.size + _DIGEST:
        raise ModelFileError(path, f"it is too short ({len(data)} bytes) to be an NPG file")
    magic, version, reserved, h, d = _PREAMBLE.unpack_from(data)
    if magic != MAGIC:
        raise ModelFileError(path, "it is not a natgrad RL file (wrong magic bytes)")
    if version not in SUPPORTED_VERSIONS:
        raise ModelFileError(
            path,
            f"format version {version} is not supported (this natgrad reads "
            f"{sorted(SUPPORTED_VERSIONS)}); it was written by a newer natgrad",
        )
    if reserved != 0 or h > _MAX_HEADER or _PREAMBLE.size + h + d + _DIGEST != len(data):
        raise ModelFileError(
            path, "its declared sizes do not match the file's size (truncated or padded)"
        )
    if hashlib.sha256(data[:-_DIGEST]).digest() != data[-_DIGEST:]:
        raise ModelFileError(path, "the SHA-256 digest does not match (the file is corrupt)")
    start = _PREAMBLE.size
    try:
        header = json.loads(data[start : start + h].decode(), parse_constant=_reject_constant)
    except ValueError as exc:
        raise ModelFileError(path, f"the header is not valid JSON ({exc})") from exc
    if not isinstance(header, dict) or set(header) != _HEADER_KEYS:
        raise ModelFileError(path, f"the header must have exactly the keys {sorted(_HEADER_KEYS)}")
    if header["format"] != "natgrad-rl" or header["algorithm"] != "NPG":
        raise ModelFileError(path, "the header does not describe an NPG model")
    listed = header["arrays"]
    if not isinstance(listed, dict):
        raise ModelFileError(path, "the header's 'arrays' must be an object")
    try:
        with np.load(io.BytesIO(data[start + h : start + h + d]), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (ValueError, OSError, zipfile.BadZipFile, KeyError) as exc:
        raise ModelFileError(
            path, f"the data section is not a valid array archive ({exc})"
        ) from exc
    if set(arrays) != set(listed):
        raise ModelFileError(
            path, f"the arrays {sorted(arrays)} differ from those listed {sorted(listed)}"
        )
    for name, arr in arrays.items():
        spec = listed[name]
        if (
            not isinstance(spec, dict)
            or arr.dtype.str != spec.get("dtype")
            or list(arr.shape) != spec.get("shape")
            or arr.dtype.str not in _FLOAT_DTYPES
        ):
            raise ModelFileError(
                path,
                f"array {name!r} has dtype {arr.dtype.str} and shape {arr.shape}, "
                f"not the header's {spec} (float32/float64)",
            )
        if not np.isfinite(arr).all():
            raise ModelFileError(path, f"array {name!r} holds non-finite values")
    return header, arrays


def _network_arg(spec: Any, given: nn.Module | None, name: str, path: Path) -> Any:
    if not isinstance(spec, dict) or spec.get("kind") not in ("mlp", "module"):
        raise ModelFileError(path, f"the header's {name!r} entry is malformed")
    if spec["kind"] == "module":
        if given is None:
            raise ValueError(
                f"The {name!r} parameter of natgrad.rl.load must be given: the file was saved "
                f"from a custom torch.nn.Module {name}, which is stored by its weights only. "
                "Pass a module of the same structure."
            )
        return given
    hidden = spec.get("hidden")
    if not isinstance(hidden, list) or not all(
        isinstance(x, int) and not isinstance(x, bool) and x >= 1 for x in hidden
    ):
        raise ModelFileError(path, f"the header's {name!r} hidden widths are malformed")
    return given if given is not None else tuple(hidden)


def _load_state(module: nn.Module, prefix: str, arrays: dict[str, np.ndarray], path: Path) -> None:
    keys = {k[len(prefix) + 1 :]: v for k, v in arrays.items() if k.startswith(prefix + ".")}
    state = module.state_dict()
    if set(keys) != set(state) or any(tuple(state[k].shape) != keys[k].shape for k in state):
        raise ModelFileError(
            path, f"the stored {prefix} weights do not fit the {prefix} network's structure"
        )
    module.load_state_dict(
        {k: torch.as_tensor(v, dtype=state[k].dtype) for k, v in keys.items()}, strict=True
    )


def _check_spaces(
    model: Any, header: dict[str, Any], arrays: dict[str, np.ndarray], p: Path
) -> None:
    from gymnasium import spaces

    env = model.env_
    if list(env.observation_space.shape) != header["observation_shape"]:
        raise ValueError(
            "The 'env' parameter of natgrad.rl.load must have the saved observation shape "
            f"{header['observation_shape']}. Got {env.observation_space.shape} instead."
        )
    action = header["action_space"]
    space = env.action_space
    if not isinstance(action, dict) or action.get("type") not in ("discrete", "box"):
        raise ModelFileError(p, "the header's 'action_space' is malformed")
    if action["type"] == "discrete":
        ok = isinstance(space, spaces.Discrete) and int(space.n) == action.get("n")
    else:
        ok = (
            isinstance(space, spaces.Box)
            and list(space.shape) == action.get("shape")
            and "action_low" in arrays
            and np.array_equal(arrays["action_low"], np.asarray(space.low, dtype=np.float64))
            and np.array_equal(arrays["action_high"], np.asarray(space.high, dtype=np.float64))
        )
    if not ok:
        raise ValueError(
            "The 'env' parameter of natgrad.rl.load must have the saved action space "
            f"{action}. Got {space!r} instead."
        )
