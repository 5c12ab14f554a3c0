"""Shared test configuration."""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
from pathlib import Path


def _numba_cache_dir() -> str:
    """A numba cache folder named by a hash of the sources of the natgrad under test that its
    compiled kernels can depend on (``natgrad._numba_cache.kernel_sources``).

    numba's on-disk cache checks only a cached function's own source file, so a kernel whose
    callee in another module was edited can run its stale compiled copy. With the folder keyed
    on those sources, an edit that can change a kernel starts the tests from an empty cache,
    while an unchanged engine (a rerun, every xdist worker, an edit of the PyTorch or Dask
    layer) reuses the kernels compiled once. Found without importing natgrad, so that numba
    reads the variable when it is first imported.
    """
    spec = importlib.util.find_spec("natgrad")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the natgrad package is not installed in this environment")
    package = Path(list(spec.submodule_search_locations)[0])
    keying = importlib.util.spec_from_file_location(
        "_natgrad_numba_cache_keying", package / "_numba_cache.py"
    )
    assert keying is not None and keying.loader is not None
    module = importlib.util.module_from_spec(keying)
    keying.loader.exec_module(module)
    key = module.source_key(package)
    return os.path.join(tempfile.gettempdir(), f"natgrad-numba-cache-{key}")


# Set unconditionally: an inherited NUMBA_CACHE_DIR could hold kernels of another tree.
os.environ["NUMBA_CACHE_DIR"] = _numba_cache_dir()

# pytest-xdist runs one worker per core: one compiled thread per worker avoids
# oversubscription (numba reads this when it is first imported, after this file).
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import pytest  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _single_threaded_blas():
    # Tests solve many tiny systems; BLAS thread start-up dominates them on small machines.
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture(autouse=True, scope="session")
def _single_threaded_torch():
    # natgrad.nn and natgrad.rl tests train tiny networks: one intra-op thread per worker
    # (more threads only contend). Their modules import torch at collection, before this runs;
    # a run without them never imports torch here.
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _empty_working_directory(tmp_path_factory, monkeypatch):
    # Tests never depend on the working directory: each runs in a fresh empty one, so that
    # files left there by the README's commands (natgrad-out/, compare-out/) change nothing.
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


@pytest.fixture
def benchmarks_on_path(monkeypatch):
    """The repository root on ``sys.path``, so that a test can ``import benchmarks.<name>``."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1]))
