"""`natgrad.dask` on a local cluster of two worker processes with one thread each.

Every fit passes a ``timeout`` (seconds per round), so a lost worker fails the test instead
of hanging it; the cluster itself starts and closes with timeouts.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import natgrad  # noqa: E402
from natgrad.boosting import NGBoostClassifier, NGBoostRegressor, NGBoostSurvival  # noqa: E402
from natgrad.dask import (  # noqa: E402
    DaskNGBoostClassifier,
    DaskNGBoostRegressor,
    DaskNGBoostSurvival,
)
from natgrad.dask._cluster import ActorPool  # noqa: E402

TIMEOUT = 120  # seconds per round of a fit: far above a round's milliseconds

# Each test (and the cluster's start, in the first) is bounded as a whole too, compiling the
# engine from cold included (pytest-timeout, a dev dependency): nothing can hang CI.
pytestmark = pytest.mark.timeout(1200)


def _cluster():
    return distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
        timeout=TIMEOUT, worker_class=distributed.Nanny,
        env={"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
    )  # fmt: skip


@pytest.fixture(scope="module")
def client():
    cluster = _cluster()
    with distributed.Client(cluster, timeout=TIMEOUT) as c:
        yield c
    cluster.close(timeout=TIMEOUT)


@pytest.fixture
def own_client():
    """A cluster of its own, for the tests that kill or block a worker."""
    cluster = _cluster()
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


def test_fit_matches_the_local_fit(client, tmp_path):
    X, y = _data()
    local = NGBoostRegressor(**PARAMS).fit(X, y)
    est = DaskNGBoostRegressor(**PARAMS).fit(
        da.from_array(X, chunks=(400, -1)), da.from_array(y, chunks=400), client=client,
        timeout=TIMEOUT,
    )  # fmt: skip
    assert est.n_workers_ == 2
    assert est.rounds_per_stage_ == pytest.approx(4.0, abs=0.15)  # depth 3: 4 per stage
    X_test, _ = _data(n=300, seed=9)
    expected = local.predict(X_test)
    pred = est.predict(da.from_array(X_test, chunks=(100, -1)))
    assert isinstance(pred, da.Array)
    np.testing.assert_allclose(pred.compute(), expected, rtol=1e-9, atol=1e-9)
    theta = est.predict_params(da.from_array(X_test, chunks=(100, -1))).compute()
    np.testing.assert_allclose(theta, local.predict_dist(X_test).params, rtol=1e-9, atol=1e-9)
    dists = est.predict_dist(da.from_array(X_test, chunks=(100, -1)))
    assert len(dists) == 3
    first = dists[0].compute()
    np.testing.assert_allclose(first.mean(), expected[:100], rtol=1e-9, atol=1e-9)
    # The local equivalent is an NGBoostRegressor that saves and loads.
    small = est.to_local()
    assert type(small) is NGBoostRegressor
    path = tmp_path / "model.ngb"
    small.save(path)
    loaded = natgrad.load(path)
    np.testing.assert_allclose(loaded.predict(X_test), expected, rtol=1e-9, atol=1e-9)


def test_dataframe_input_weights_and_early_stopping(client):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, y = _data(n=2000, seed=1)
    Xv, yv = _data(n=500, seed=2)
    w = np.random.default_rng(3).uniform(0.5, 2.0, size=len(y))
    w[::50] = 0.0  # dropped by both fits
    params = {**PARAMS, "n_estimators": 200, "learning_rate": 0.3, "n_iter_no_change": 4}
    local = NGBoostRegressor(**params).fit(
        pd.DataFrame(X, columns=list("abcd")), y, sample_weight=w, eval_set=(Xv, yv)
    )
    frame = dd.from_pandas(pd.DataFrame(X, columns=list("abcd")), npartitions=3)
    est = DaskNGBoostRegressor(**params).fit(
        frame, dd.from_pandas(pd.Series(y), npartitions=3), da.from_array(w, chunks=700),
        eval_set=(da.from_array(Xv, chunks=(200, -1)), da.from_array(yv, chunks=200)),
        client=client, timeout=TIMEOUT,
    )  # fmt: skip
    assert est.n_estimators_ == local.n_estimators_ < 200
    assert est.best_iteration_ == local.best_iteration_
    assert list(est.feature_names_in_) == list("abcd")
    np.testing.assert_allclose(est.validation_loss_, local.validation_loss_, rtol=1e-7)


def test_classifier_matches_the_local_fit(client):
    X, _ = _data(n=1200, seed=4)
    labels = np.where(np.nan_to_num(X[:, 0]) + 0.5 * np.nan_to_num(X[:, 1]) > 0, "yes", "no")
    params = {**PARAMS, "n_estimators": 10}
    local = NGBoostClassifier(**params).fit(X, labels)
    est = DaskNGBoostClassifier(**params).fit(
        da.from_array(X, chunks=(400, -1)), da.from_array(labels, chunks=400), client=client,
        timeout=TIMEOUT,
    )  # fmt: skip
    assert list(est.classes_) == ["no", "yes"]
    assert est.rounds_per_stage_ > 4.0  # the line search's trial steps take rounds
    X_test, _ = _data(n=300, seed=8)
    Xt = da.from_array(X_test, chunks=(100, -1))
    proba = est.predict_proba(Xt)
    assert proba.shape == (300, 2)
    np.testing.assert_allclose(proba.compute(), local.predict_proba(X_test), rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(est.predict(Xt).compute(), local.predict(X_test))
    assert type(est.to_local()) is NGBoostClassifier


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
    bad_w = da.from_array(np.r_[-1.0, np.ones(399)], chunks=200)
    with pytest.raises(ValueError, match="'sample_weight' argument of .*non-negative"):
        DaskNGBoostRegressor(**PARAMS).fit(
            Xd, yd, sample_weight=bad_w, client=client, timeout=TIMEOUT
        )
    with pytest.raises(ValueError, match="'leaf_rule' parameter of DaskNGBoostRegressor"):
        DaskNGBoostRegressor(**{**PARAMS, "leaf_rule": "ngboost"}).fit(
            Xd, yd, client=client, timeout=TIMEOUT
        )


async def _exit_process():
    os._exit(1)  # the worker's process dies at once, as in a crash


async def _block_event_loop(seconds):
    time.sleep(seconds)  # blocks the worker's event loop: it answers nothing meanwhile


def _round_hook(monkeypatch, at, action):
    """Run ``action(pool)`` on the client just before the fit's round number ``at``."""
    call = ActorPool.call
    seen = []

    def hooked(pool, method, *args):
        seen.append(method)
        if len(seen) == at:
            action(pool)
        return call(pool, method, *args)

    monkeypatch.setattr(ActorPool, "call", hooked)
    return seen


def test_a_worker_that_dies_mid_fit_fails_the_fit(own_client, monkeypatch):
    X, y = _data()
    # Round 10 is the third stage's second (a depth-3 stage takes 4): the first worker's
    # process exits as the round starts, leaving most of the 80 rounds to go.
    seen = _round_hook(
        monkeypatch, 10,
        lambda pool: own_client.run(_exit_process, workers=[pool.actors[0][0]], wait=False),
    )  # fmt: skip
    # The error comes from the lost worker (its connection closes, or the scheduler marks
    # its actor lost), not from the round's timeout, which is far longer than the test.
    with pytest.raises(RuntimeError, match=r"A Dask worker holding training rows "
                       r"\(tcp://[^)]+\) was lost during the '\w+' round of the fit"):  # fmt: skip
        DaskNGBoostRegressor(**PARAMS).fit(
            da.from_array(X, chunks=(400, -1)), da.from_array(y, chunks=400),
            client=own_client, timeout=TIMEOUT,
        )  # fmt: skip
    assert 10 <= len(seen) < 80  # the fit stopped soon after the worker died


def test_a_stuck_worker_fails_the_fit_after_the_timeout(own_client, monkeypatch):
    X, y = _data()
    Xd, yd = da.from_array(X, chunks=(400, -1)), da.from_array(y, chunks=400)
    # Warm-up: the workers load the compiled kernels (seconds), so that the fit below takes
    # milliseconds a round until the worker is stuck.
    DaskNGBoostRegressor(**{**PARAMS, "n_estimators": 2}).fit(
        Xd, yd, client=own_client, timeout=TIMEOUT
    )
    # The first worker's event loop is blocked for 30 s from round 10 on; a round may take
    # 10 s.
    _round_hook(
        monkeypatch, 10,
        lambda pool: own_client.run(
            _block_event_loop, 30.0, workers=[pool.actors[0][0]], wait=False
        ),
    )  # fmt: skip
    with pytest.raises(RuntimeError, match=r"did not answer the '\w+' round of the fit "
                       r"within 10 s \(the fit's 'timeout' argument"):  # fmt: skip
        DaskNGBoostRegressor(**PARAMS).fit(Xd, yd, client=own_client, timeout=10.0)
