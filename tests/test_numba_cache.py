"""Where natgrad points numba's cache (natgrad._numba_cache): keyed by version and sources,
the user's own NUMBA_CACHE_DIR respected, and the "compiling" notice's cache check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import natgrad
from natgrad import _numba_cache


def _import_natgrad_env(env: dict[str, str]) -> str:
    """NUMBA_CACHE_DIR as a fresh interpreter sees it after ``import natgrad``."""
    code = "import os, natgrad; print(os.environ.get('NUMBA_CACHE_DIR', ''))"
    base = {k: v for k, v in os.environ.items() if k not in {"NUMBA_CACHE_DIR", "XDG_CACHE_HOME"}}
    base.pop("NATGRAD_CACHE_DIR", None)
    done = subprocess.run(
        [sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    return done.stdout.strip()


def test_import_points_numba_at_a_versioned_user_cache_folder(tmp_path):
    got = Path(_import_natgrad_env({"NATGRAD_CACHE_DIR": str(tmp_path)}))
    assert got.parent == tmp_path
    assert (
        got.name
        == f"numba-{natgrad.__version__}-{_numba_cache.source_key(version=natgrad.__version__)}"
    )
    if sys.platform not in ("win32", "darwin"):
        xdg = Path(_import_natgrad_env({"XDG_CACHE_HOME": str(tmp_path)}))
        assert xdg.parent == tmp_path / "natgrad"


def test_the_users_numba_cache_dir_is_kept(tmp_path):
    assert _import_natgrad_env({"NUMBA_CACHE_DIR": str(tmp_path / "mine")}) == str(
        tmp_path / "mine"
    )


def test_source_key_follows_the_kernels_sources_and_the_version(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "kernels.py").write_text("import numba\nfrom .sub import b\n")
    (package / "sub" / "b.py").write_text("from pkg.sub.c import y\n")
    (package / "sub" / "c.py").write_text("y = 2\n")
    (package / "layer.py").write_text("from pkg import kernels\n")  # no kernel imports it
    assert {p.relative_to(package).as_posix() for p in _numba_cache.kernel_sources(package)} == {
        "__init__.py", "kernels.py", "sub/__init__.py", "sub/b.py", "sub/c.py",
    }  # fmt: skip
    key = _numba_cache.source_key(package, "1.0")
    assert _numba_cache.source_key(package, "1.0") == key
    assert _numba_cache.source_key(package, "1.1") != key
    (package / "layer.py").write_text("from pkg import kernels\nz = 1\n")
    assert _numba_cache.source_key(package, "1.0") == key
    (package / "sub" / "c.py").write_text("y = 3\n")  # a global read through two imports
    edited = _numba_cache.source_key(package, "1.0")
    assert edited != key
    (package / "sub" / "b.py").write_text("from .c import y\nimport numba\n")
    assert _numba_cache.source_key(package, "1.0") not in (key, edited)


def test_is_compiled_reads_the_cache_index(tmp_path):
    # A kernel defined in a module of its own, with the cache in tmp_path: not compiled,
    # then compiled in the process, then (new process) found in the on-disk cache.
    (tmp_path / "kern.py").write_text(
        "from numba import njit\n\n@njit(cache=True)\ndef twice(x):\n    return 2 * x\n"
    )
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import natgrad._numba_cache as c; "
        "import kern; before = c.is_compiled(kern.twice); kern.twice(1.0); "
        "print(before, c.is_compiled(kern.twice))"
    )
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    run = [sys.executable, "-c", code, str(tmp_path)]
    first = subprocess.run(run, env=env, capture_output=True, text=True, check=True)
    assert first.stdout.split() == ["False", "True"]
    second = subprocess.run(run, env=env, capture_output=True, text=True, check=True)
    assert second.stdout.split() == ["True", "True"]
