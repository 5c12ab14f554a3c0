"""Shared test configuration."""

from __future__ import annotations

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="session")
def _single_threaded_blas():
    # Tests solve many tiny systems; BLAS thread start-up dominates them on small machines.
    with threadpool_limits(limits=1, user_api="blas"):
        yield
