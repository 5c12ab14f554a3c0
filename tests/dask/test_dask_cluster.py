"""`natgrad.dask` on a local cluster of two worker processes with one thread each.

Every fit passes a ``timeout`` (seconds per round), so a lost worker fails the test instead
of hanging it; the cluster itself starts and closes with timeouts.
"""

from __future__ import annotations

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

from natgrad.boosting import NGBoostRegressor, NGBoostSurvival  # noqa: E402
from natgrad.dask import DaskNGBoostRegressor, DaskNGBoostSurvival  # noqa: E402

TIMEOUT = 120  # seconds per round of a fit: far above a round's milliseconds

# Each test (and the cluster's start, in the first) is bounded as a whole too, compiling the
# engine from cold included (pytest-timeout, a dev dependency): nothing can hang CI.
pytestmark = pytest.mark.timeout(1200)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
        timeout=TIMEOUT, worker_class=distributed.Nanny,
        env={"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    with distributed.Client(cluster, timeout=TIMEOUT) as c:
        yield c
    cluster.close(timeout=TIMEOUT)


def _data(n=1600, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    X[rng.random((n, d)) < 0.05] = np.nan
    y = 2.0 * np.nan_to_num(X[:, 0]) + rng.normal(size=n) * np.exp(0.5 * np.nan_to_num(X[:, 1]))
    return X, y


PARAMS = {"n_estimators": 20, "learning_rate": 0.1, "subsample": 0.5, "random_state": 0}


def test_survival_matches_the_local_fit(client):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(1200, 3))
    t = rng.lognormal(mean=1.0 + 0.5 * X[:, 0], sigma=0.6)
    c = rng.lognormal(mean=1.4, sigma=0.5, size=len(t))
    time, event = np.minimum(t, c), t <= c
    params = {"n_estimators": 10, "learning_rate": 0.1, "random_state": 0}
    local = NGBoostSurvival(**params).fit(X, time, event)
    est = DaskNGBoostSurvival(**params).fit(
        da.from_array(X, chunks=(400, -1)), da.from_array(time, chunks=400),
        da.from_array(event, chunks=400), client=client, timeout=TIMEOUT,
    )  # fmt: skip
    X_test = rng.normal(size=(200, 3))
    pred = est.predict(da.from_array(X_test, chunks=(100, -1))).compute()
    np.testing.assert_allclose(pred, local.predict(X_test), rtol=1e-9)
    small = est.to_local()
    assert type(small) is NGBoostSurvival
    np.testing.assert_allclose(
        small.predict_survival_function(X_test, [1.0, 3.0]),
        local.predict_survival_function(X_test, [1.0, 3.0]), rtol=1e-9, atol=1e-12,
    )  # fmt: skip
    with pytest.raises(ValueError, match="'y' argument of DaskNGBoostSurvival.fit must be finite"):
        bad = time.copy()
        bad[5] = np.nan
        DaskNGBoostSurvival(**params).fit(
            da.from_array(X, chunks=(400, -1)), da.from_array(bad, chunks=400), client=client,
            timeout=TIMEOUT,
        )  # fmt: skip


def test_a_worker_without_rows(client):
    X, y = _data(n=800)
    # One partition: one worker holds every row, the other none.
    est = DaskNGBoostRegressor(**PARAMS).fit(
        da.from_array(X, chunks=(800, -1)), da.from_array(y, chunks=800), client=client,
        timeout=TIMEOUT,
    )  # fmt: skip
    assert est.n_workers_ == 1
    local = NGBoostRegressor(**PARAMS).fit(X, y)
    np.testing.assert_allclose(est.to_local().predict(X), local.predict(X), rtol=1e-9, atol=1e-9)


def test_nan_target_is_rejected_before_training(client):
    X, y = _data(n=800)
    y[650] = np.nan
    with pytest.raises(ValueError, match=r"'y' argument of DaskNGBoostRegressor.fit must be "
                       r"finite.*row 650 \(partition 3\)"):  # fmt: skip
        DaskNGBoostRegressor(**PARAMS).fit(
            da.from_array(X, chunks=(200, -1)), da.from_array(y, chunks=200), client=client,
            timeout=TIMEOUT,
        )  # fmt: skip


def test_bad_arguments(client):
    X, y = _data(n=400)
    Xd, yd = da.from_array(X, chunks=(200, -1)), da.from_array(y, chunks=200)
    with pytest.raises(ValueError, match="'timeout' argument"):
        DaskNGBoostRegressor(**PARAMS).fit(Xd, yd, client=client, timeout=-1)
    with pytest.raises(ValueError, match="'y' argument .* 400 values"):
        DaskNGBoostRegressor(**PARAMS).fit(Xd, yd[:300], client=client, timeout=TIMEOUT)
    with pytest.raises(ValueError, match="'leaf_rule' parameter of DaskNGBoostRegressor"):
        DaskNGBoostRegressor(**{**PARAMS, "leaf_rule": "ngboost"}).fit(
            Xd, yd, client=client, timeout=TIMEOUT
        )
