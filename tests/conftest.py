"""Shared test configuration."""

from __future__ import annotations

import os

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
