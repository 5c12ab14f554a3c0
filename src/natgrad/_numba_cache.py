"""Where numba keeps natgrad's compiled kernels, chosen before numba is first imported.

numba's own default puts each module's cache in a ``__pycache__`` folder beside the source
(inside ``site-packages``), and checks only each cached function's own source file: a
kernel whose callee in another module changed (an upgrade, an edit) can keep running its
stale compiled copy. natgrad therefore sets ``NUMBA_CACHE_DIR``, unless the user already
set it, to a folder of the user's cache directory named by natgrad's version and a hash of
the source files a compiled kernel can depend on (`kernel_sources`: every module that uses
numba and, transitively, every natgrad module those import; the PyTorch, Dask, GLM and
compatibility layers, which no kernel imports, are left out):

* Linux and other POSIX: ``$XDG_CACHE_HOME/natgrad/`` (default ``~/.cache/natgrad/``);
* macOS: ``~/Library/Caches/natgrad/``;
* Windows: ``%LOCALAPPDATA%\\natgrad\\``.

Any change of those sources, an upgrade or an edit of a development install, starts from an
empty folder, so no stale kernel can run; an unchanged installation reuses its kernels in
every process. Folders of older versions stay until deleted (``natgrad/`` holds nothing
else). Set ``NATGRAD_CACHE_DIR`` to move the base folder (e.g. into a CI cache), or
``NUMBA_CACHE_DIR`` to take over numba's cache entirely (then its keying is yours).
"""

from __future__ import annotations

import ast
import hashlib
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["cache_base", "cache_dir", "configure", "is_compiled", "kernel_sources", "source_key"]

_PACKAGE = Path(__file__).resolve().parent


def _module_file(package: Path, name: str) -> Path | None:
    """The file of module ``name`` (dotted, starting with the package's name), if in ``package``."""
    path = package.parent.joinpath(*name.split("."))
    for candidate in (path / "__init__.py", path.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _imported_files(package: Path, path: Path) -> set[Path]:
    """Files of the package's modules that ``path`` imports anywhere in its body (module
    level or inside functions), with the packages on the way."""
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    here = parts if path.name == "__init__.py" else parts[:-1]
    found: set[Path] = set()

    def add(dotted: str, names: tuple[str, ...] = ()) -> None:
        pieces = dotted.split(".")
        for i in range(1, len(pieces) + 1):
            file = _module_file(package, ".".join(pieces[:i]))
            if file is not None:
                found.add(file)
        for name in names:  # ``from pkg import module``
            file = _module_file(package, f"{dotted}.{name}")
            if file is not None:
                found.add(file)

    for node in ast.walk(ast.parse(path.read_bytes())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == package.name:
                    add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + 1]
                dotted = ".".join(base + ([node.module] if node.module else []))
            else:
                dotted = node.module or ""
            if dotted.split(".")[0] == package.name:
                add(dotted, tuple(alias.name for alias in node.names))
    return found


def kernel_sources(package: Path = _PACKAGE) -> list[Path]:
    """The source files of ``package`` that a compiled kernel can depend on, sorted.

    A kernel's compiled code depends on its own module, on the kernels it calls and on the
    global values it reads, all of which come from its module's imports. So: every module
    that mentions numba, and every module of the package they import, transitively. A file
    that cannot be parsed is included (so a broken edit still changes the key)."""
    stack = [path for path in package.rglob("*.py") if b"numba" in path.read_bytes()]
    seen: set[Path] = set()
    while stack:
        path = stack.pop()
        if path in seen:
            continue
        seen.add(path)
        try:
            stack.extend(_imported_files(package, path) - seen)
        except SyntaxError:
            continue
    return sorted(seen)


def source_key(package: Path = _PACKAGE, version: str = "") -> str:
    """16 hex digits of a SHA-256 over ``version`` and the `kernel_sources` of ``package``
    (relative path and contents, in sorted order)."""
    digest = hashlib.sha256(version.encode() + b"\0")
    for path in kernel_sources(package):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def cache_base() -> Path:
    """The folder that holds natgrad's cache folders: ``NATGRAD_CACHE_DIR`` if set, else
    ``natgrad`` in the platform's user cache directory (module docstring)."""
    explicit = os.environ.get("NATGRAD_CACHE_DIR")
    if explicit:
        return Path(explicit)
    if sys.platform == "win32":
        root = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        root = str(Path.home() / "Library" / "Caches")
    else:
        root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "natgrad"


def cache_dir(version: str) -> Path:
    """numba's cache folder for this installation of natgrad (version ``version``)."""
    return cache_base() / f"numba-{version}-{source_key(version=version)}"


def configure(version: str) -> str:
    """Point numba's cache at `cache_dir` unless ``NUMBA_CACHE_DIR`` is already set.

    Returns the folder numba will use. Nothing is written here: numba creates the folder at
    the first compilation, and where it cannot be written falls back to its own default
    locations. Called by ``import natgrad``, before any of natgrad's kernel modules is
    imported; if numba itself was imported earlier, its configuration is reloaded from the
    environment.
    """
    if os.environ.get("NUMBA_CACHE_DIR"):
        return os.environ["NUMBA_CACHE_DIR"]
    path = str(cache_dir(version))
    os.environ["NUMBA_CACHE_DIR"] = path
    if "numba" in sys.modules:
        from numba.core import config

        config.reload_config()
    return path


def is_compiled(kernel: Any) -> bool:
    """Whether the numba kernel ``kernel`` needs no compilation: compiled in this process,
    or a fresh entry for it in the on-disk cache. True where that cannot be told (a kernel
    without a cache, a numba whose cache internals differ): the caller then says nothing."""
    if getattr(kernel, "signatures", None):
        return True
    try:
        return bool(kernel._cache._cache_file._load_index())
    except Exception:  # noqa: BLE001 - numba's private cache API; unknown means "say nothing"
        return True
