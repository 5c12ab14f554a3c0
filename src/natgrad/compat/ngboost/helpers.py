"""NGBoost's helpers: `Y_from_censored` (structured survival targets) and
`load_ngboost_model` (a pickled model from a file)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["Y_from_censored", "load_ngboost_model"]

_CENSORED = np.dtype([("Event", np.bool_), ("Time", np.float64)])


def Y_from_censored(T: ArrayLike | None, E: ArrayLike | None = None) -> np.ndarray | None:  # noqa: N802, N803
    """A structured array with fields ``"Event"`` (bool) and ``"Time"`` (float), shape (n,).

    ``E`` defaults to every event observed; an array already in this form passes through.
    """
    if T is None:
        return None
    arr = np.asarray(T)
    if arr.dtype == _CENSORED:
        return arr
    times = arr.astype(np.float64).reshape(-1)
    events = np.ones_like(times) if E is None else np.asarray(E).reshape(-1)
    if events.shape != times.shape:
        raise ValueError(
            f"The 'E' argument of Y_from_censored must have one flag per time ({times.size}). "
            f"Got {events.size} instead."
        )
    out = np.empty(times.shape[0], dtype=_CENSORED)
    out["Event"] = events.astype(np.bool_)
    out["Time"] = times
    return out


def load_ngboost_model(filepath: str | os.PathLike[str]) -> Any:
    """Load a model pickled to ``filepath`` (with `pickle` or `joblib.dump`), as NGBoost's
    ``load_ngboost_model`` does.

    Loading a pickle runs code from the file: load only files you trust. For files you
    share, natgrad's own format is safe (``model.model_.save(path)`` and `natgrad.load`).

    Parameters
    ----------
    filepath : str or path-like
        The file written by ``joblib.dump(model, filepath)`` or `pickle.dump`.

    Returns
    -------
    object
        The unpickled model, e.g. a fitted `NGBRegressor`.

    Examples
    --------
    >>> import os, pickle, tempfile
    >>> import numpy as np
    >>> from natgrad.compat.ngboost import NGBRegressor, load_ngboost_model
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> Y = X[:, 0] + rng.normal(scale=0.5, size=200)
    >>> ngb = NGBRegressor(n_estimators=10, verbose=False).fit(X, Y)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.pkl")
    >>> with open(path, "wb") as fh:
    ...     pickle.dump(ngb, fh)
    >>> bool(np.array_equal(load_ngboost_model(path).predict(X[:3]), ngb.predict(X[:3])))
    True

    Notes
    -----
    NGBoost's loader also repairs trees pickled by scikit-learn older than 1.3. natgrad needs
    scikit-learn 1.6 or later, so no model of this package holds such trees; a file of
    NGBoost itself unpickles to NGBoost's classes (it needs ``ngboost`` installed, and its
    ``load_ngboost_model`` for trees of old scikit-learn releases).
    """
    import joblib

    return joblib.load(os.fspath(filepath))
