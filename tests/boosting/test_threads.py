"""The ``n_jobs`` hyper-parameter, the per-call thread count and the prediction kernels."""

from __future__ import annotations

import os
import subprocess
import sys

import numba
import numpy as np
import pandas as pd
import pytest

from natgrad import NGBoostClassifier, NGBoostRegressor, io
from natgrad._validation import check_n_jobs
from natgrad.boosting._hist.predictor import _predict, _predict_serial
from natgrad.boosting._threads import fit_threads, predict_threads, using_threads


def _data(n=600, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    X[rng.random(n) < 0.1, 1] = np.nan
    y = X[:, 0] + np.nan_to_num(X[:, 1]) * 0.5 + rng.normal(scale=0.3 + 0.2 * (X[:, 2] > 0), size=n)
    return X, y


@pytest.mark.parametrize("bad", [0, 1.5, "2", True])
def test_n_jobs_rejects_bad_values(bad):
    X, y = _data(100)
    with pytest.raises(ValueError, match="'n_jobs' parameter of NGBoostRegressor"):
        NGBoostRegressor(n_estimators=2, n_jobs=bad).fit(X, y)


def test_check_n_jobs_names_owner_and_value():
    with pytest.raises(ValueError, match=r"of Foo must be None or an int other than 0.*Got 0"):
        check_n_jobs(0, "Foo")
    for ok in (None, 1, -1, 3, np.int64(2)):
        check_n_jobs(ok, "Foo")


def test_thread_counts_resolve_and_restore():
    top = int(numba.config.NUMBA_NUM_THREADS)
    assert fit_threads(1, 10**6, 10) == 1
    assert fit_threads(-1, 10**6, 10) == min(top, os.cpu_count() or 1)
    assert fit_threads(10**6, 10**6, 10) == top  # capped by NUMBA_NUM_THREADS
    assert fit_threads(None, 100, 5) == 1  # small data: no thread pool
    assert 1 <= fit_threads(None, 10**6, 10) <= top
    assert predict_threads(None, 1, 500) == 1  # single row: the calling thread
    assert predict_threads(4, 10, 10) == 1
    before = numba.get_num_threads()
    with using_threads(1):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before
    with pytest.raises(RuntimeError), using_threads(1):
        raise RuntimeError("restored on errors too")
    assert numba.get_num_threads() == before


def test_n_jobs_is_a_parameter_and_not_in_model_files(tmp_path):
    X, y = _data()
    model = NGBoostRegressor(n_estimators=20, learning_rate=0.1, n_jobs=1, random_state=0)
    model.fit(X, y)
    assert model.get_params()["n_jobs"] == 1
    path = model.save(tmp_path / "m.ngm")
    loaded = io.load(path)
    assert loaded.n_jobs is None
    assert np.array_equal(loaded.predict_dist(X).params, model.predict_dist(X).params)
    clf = NGBoostClassifier(n_estimators=5, n_jobs=-1).fit(X, (y > 0).astype(int))
    assert clf.n_jobs == -1


def _reference_predict(ens, X):
    """Sum of the trees tree by tree through `Ensemble.apply` (another compiled walk), in
    the kernel's order: bitwise what the prediction must give."""
    leaves = ens.apply(X)
    offsets, leaf_id = ens.tree_offsets, ens.leaf_id
    out = np.zeros((X.shape[0], ens.n_params))
    for t in range(ens.n_trees):
        ids = leaf_id[offsets[t] : offsets[t + 1]]
        node_of_leaf = offsets[t] + np.argsort(np.where(ids >= 0, ids, ids.size))
        out += ens.scales[t] * ens.value[node_of_leaf[leaves[:, t]]]
    return out


def test_prediction_kernels_bitwise_equal_the_tree_walk():
    X, y = _data(3000, seed=1)
    frame = pd.DataFrame(X, columns=list("abcd"))
    frame["cat"] = pd.Categorical(np.random.default_rng(2).choice(list("xyzw"), size=len(y)))
    y = y + (frame["cat"] == "x") * 1.5
    model = NGBoostRegressor(n_estimators=60, learning_rate=0.1, max_depth=4, random_state=0)
    model.fit(frame, y)
    ens = model._model_.ensemble
    assert (ens.cat_index >= 0).any()  # the categorical branch is walked
    Xv = model._validate_X(frame, reset=False)
    Xv[::7, 4] = np.nan
    expected = _reference_predict(ens, Xv)
    assert np.array_equal(ens.predict_raw(Xv), expected)
    args = (False, 0, ens.n_trees, ens._offsets, ens._scales, ens.nodes(), ens._buf["value"])
    for kernel in (_predict, _predict_serial):
        out = np.zeros_like(expected)
        kernel(Xv, np.zeros((2, 2), dtype=np.uint8, order="F"), *args, out)
        assert np.array_equal(out, expected)
    # Single rows give the batch's rows.
    for i in (0, 7, 123):
        assert np.array_equal(ens.predict_raw(Xv[i : i + 1]), expected[i : i + 1])
    # Binned rows: both kernels agree with the tree walk of `apply(binned=True)`.
    binned = np.asfortranarray(model._model_.mapper.transform(Xv))
    leaves = ens.apply(binned, binned=True)
    assert np.array_equal(leaves, ens.apply(Xv))
    out_b = np.zeros_like(expected)
    _predict(np.zeros((2, 2)), binned, True, *args[1:], out_b)
    assert np.array_equal(out_b, ens.predict_binned(binned))
    assert np.array_equal(out_b, expected)


def _same_model_for_every_thread_count() -> int:
    """Fit with ``n_jobs=1`` and with all of numba's threads and assert that the two models
    are the same bit for bit: every tree array, the stage scales, the initial parameters,
    the training losses, and the predictions of both at every thread count. Returns the
    thread count compared with one.

    Two data sets: one feature (fewer features than threads, where histogram row blocks once
    rounded by the thread count) and three with missing values and a row subsample (the
    parallel traversal of the rows left out). NaN thresholds (leaves, categorical splits)
    compare equal to NaN.
    """
    top = int(numba.config.NUMBA_NUM_THREADS)
    rng = np.random.default_rng(0)
    for d, subsample in ((1, 1.0), (3, 0.5)):
        X = rng.normal(size=(40_000, d))
        X[rng.random(X.shape[0]) < 0.05, d - 1] = np.nan
        y = np.sin(3 * np.nan_to_num(X[:, 0])) + rng.normal(scale=0.5, size=X.shape[0])
        fits = [
            NGBoostRegressor(
                n_estimators=8, learning_rate=0.2, subsample=subsample, n_jobs=k, random_state=0
            ).fit(X, y)
            for k in (1, top)
        ]
        a, b = (f._model_ for f in fits)
        for name, arr in a.to_arrays().items():
            assert np.array_equal(arr, b.to_arrays()[name], equal_nan=True), name
        for attr in ("init_params_", "train_loss_"):
            assert np.array_equal(getattr(fits[0], attr), getattr(fits[1], attr)), attr
        expected = fits[0].predict_dist(X).params  # one thread
        assert np.array_equal(fits[1].predict_dist(X).params, expected)  # n_jobs=top
        with using_threads(1):
            raw = a.ensemble.predict_raw(X)
        for k in (1, top):
            with using_threads(k):
                for ens in (a.ensemble, b.ensemble):
                    assert np.array_equal(ens.predict_raw(X), raw), k
    return top


def test_same_model_for_every_thread_count_in_process():
    # The suite's own settings (tests/conftest.py: its numba cache, NUMBA_NUM_THREADS as the
    # run sets it, 1 by default): n_jobs=1 against all of numba's threads.
    assert _same_model_for_every_thread_count() == int(numba.config.NUMBA_NUM_THREADS)


def test_same_model_for_every_thread_count_with_two_threads(tmp_path):
    # Two numba threads in a fresh process that shares the suite's kernel cache (kernels
    # compiled by one-thread workers run there with two threads).
    script = (
        "import runpy\n"
        f"ns = runpy.run_path({__file__!r})\n"
        "print('threads', ns['_same_model_for_every_thread_count']())\n"
    )
    env = {**os.environ, "NUMBA_NUM_THREADS": "2"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True,
        timeout=1800,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "threads 2" in done.stdout
