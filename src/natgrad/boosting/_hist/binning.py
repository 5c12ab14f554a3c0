"""Quantile binning of the feature matrix into ``uint8`` bins.

The histogram tree engine never looks at real feature values while growing: it works on a
binned copy of ``X`` made once per fit. Each feature gets at most ``max_bins`` bins for its
non-missing values, cut at quantiles of a row subsample (or at midpoints between distinct
values when there are few), plus one extra bin, index ``max_bins``, for missing values.

A categorical feature arrives as category indices ``0 .. k - 1`` (`natgrad.boosting.
_categorical`) and every category gets its own bin: the edges are ``0.5, 1.5, ..., k - 1.5``,
so bin ``c`` is category ``c`` and the transform needs no special case.

The bin of a value ``x`` of feature ``f`` is the number of thresholds strictly below ``x``,
so ``bin(x) <= t`` exactly when ``x <= bin_thresholds_[f][t]``. A split on bin ``t`` is
therefore the real-valued split ``x <= bin_thresholds_[f][t]``.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Integral
from typing import Any

import numpy as np
from numba import njit, prange
from numpy.typing import ArrayLike, NDArray

from natgrad._forksafe import forksafe
from natgrad._validation import describe

__all__ = ["BinMapper", "check_X", "feature_view"]

# Rows per parallel task of the transform: large enough to amortise the scheduling, small
# enough that a block of X (rows x features) stays in cache while every feature is binned.
_TRANSFORM_BLOCK = 4096


# Rows per block of the infinity check: the check's temporary stays small (no (n, d) mask).
_CHECK_BLOCK = 65536


def check_X(X: ArrayLike, where: str) -> NDArray[np.float64]:
    """Convert ``X`` to a C-contiguous 2-D float64 array (no copy when it already is one);
    reject infinite values (NaN means missing). See `feature_view`."""
    return np.ascontiguousarray(feature_view(X, where), dtype=np.float64)


def feature_view(X: ArrayLike, where: str) -> NDArray[np.floating]:
    """``X`` as a 2-D float32 or float64 array, without a copy where it already is one;
    reject infinite values (NaN means missing).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Feature matrix. A float32 or float64 array (any memory order, a memory-mapped one
        included) is used as it is; anything else is converted to float64.
    where : str
        Name of the caller, for the error message.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float32 or float64
        A view of ``X`` where it was a float32 or float64 array.
    """
    try:
        if isinstance(X, np.ndarray) and X.dtype in (np.float32, np.float64):
            arr = np.asarray(X)  # a memory map's plain view: the compiled code takes it
        else:
            arr = np.ascontiguousarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"The 'X' argument of {where} must be array-like of numbers. Got {describe(X)} instead."
        ) from exc
    if arr.ndim != 2:
        raise ValueError(
            f"The 'X' argument of {where} must be a 2-D array of shape (n_samples, n_features). "
            f"Got an array of shape {arr.shape} instead."
        )
    n_inf = 0
    for start in range(0, arr.shape[0], _CHECK_BLOCK):
        n_inf += int(np.isinf(arr[start : start + _CHECK_BLOCK]).sum())
    if n_inf:
        raise ValueError(
            f"The 'X' argument of {where} must not contain infinite values (NaN marks a "
            f"missing value). Got {n_inf} infinite value(s)."
        )
    return arr


class BinMapper:
    """Map real features to ``uint8`` bins: quantile bins plus one bin for missing values.

    Parameters
    ----------
    max_bins : int, default=255
        Maximum number of bins for the non-missing values of a feature, in ``[2, 255]``. The
        missing-value bin has index ``max_bins``, so every bin fits in a ``uint8``.
    subsample : int or None, default=200_000
        Number of rows, drawn without replacement, from which the quantiles are computed.
        ``None`` uses every row.
    random_state : int, numpy.random.Generator or None, default=None
        Seed or generator for the row subsample.
    n_categories : array-like of int, shape (n_features,), or None, default=None
        Number of categories of each categorical feature (its values are the indices
        ``0 .. k - 1``), 0 for a numeric feature; None: every feature is numeric. A
        categorical feature may have at most ``max_bins`` categories.

    Attributes
    ----------
    bin_thresholds_ : list of ndarray of shape (n_bins_non_missing_[f] - 1,)
        Per feature, the increasing upper edges of the bins: a value ``x`` falls into bin
        ``t`` when ``bin_thresholds_[f][t - 1] < x <= bin_thresholds_[f][t]``.
    n_bins_non_missing_ : ndarray of shape (n_features,), dtype int32
        Number of bins used by the non-missing values of each feature.
    missing_values_bin_idx_ : int
        Bin of missing values (``max_bins``).
    is_categorical_ : ndarray of shape (n_features,), bool
        Which features are categorical.
    n_features_in_ : int
        Number of features seen in `fit`.
    """

    def __init__(
        self,
        max_bins: int = 255,
        subsample: int | None = 200_000,
        random_state: int | np.random.Generator | None = None,
        n_categories: ArrayLike | None = None,
    ) -> None:
        self.max_bins = max_bins
        self.subsample = subsample
        self.random_state = random_state
        self.n_categories = n_categories

    def _check_params(self) -> None:
        mb = self.max_bins
        if not isinstance(mb, Integral) or isinstance(mb, bool) or not 2 <= mb <= 255:
            raise ValueError(
                "The 'max_bins' parameter of BinMapper must be an int in the range [2, 255]. "
                f"Got {describe(mb)} instead."
            )
        ss = self.subsample
        if ss is not None and (not isinstance(ss, Integral) or isinstance(ss, bool) or ss < 1):
            raise ValueError(
                "The 'subsample' parameter of BinMapper must be an int in the range [1, inf) "
                f"or None. Got {describe(ss)} instead."
            )

    def _check_categories(self, d: int) -> NDArray[np.int32]:
        if self.n_categories is None:
            return np.zeros(d, dtype=np.int32)
        k = np.asarray(self.n_categories)
        if k.shape != (d,) or k.dtype.kind not in "iu" or (k < 0).any():
            raise ValueError(
                "The 'n_categories' parameter of BinMapper must be None or an array of "
                f"non-negative ints of shape ({d},). Got {describe(self.n_categories)} instead."
            )
        if (k > self.max_bins).any():
            f = int(np.argmax(k > self.max_bins))
            raise ValueError(
                f"The 'n_categories' parameter of BinMapper gives feature {f} {int(k[f])} "
                f"categories, more than max_bins={self.max_bins} bins allow."
            )
        return k.astype(np.int32)

    def fit(self, X: ArrayLike) -> BinMapper:
        """Compute the bin edges of every feature.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features; NaN marks a missing value, infinite values are rejected.

        Returns
        -------
        self : BinMapper
        """
        self._check_params()
        X = feature_view(X, "BinMapper.fit")
        n, d = X.shape
        n_cats = self._check_categories(d)
        if self.subsample is not None and n > self.subsample:
            rng = np.random.default_rng(self.random_state)
            X = X[np.sort(rng.choice(n, self.subsample, replace=False))]
        # The edges come from float64 values (float32 ones convert exactly), one column at
        # a time: no float64 copy of a float32 or memory-mapped X.
        max_bins = int(self.max_bins)
        # Interior quantile levels: max_bins bins need max_bins - 1 cuts.
        levels = np.linspace(0.0, 100.0, max_bins + 1)[1:-1]
        thresholds: list[NDArray[np.float64]] = []
        for f in range(d):
            if n_cats[f] > 0:
                # One bin per category index: edges halfway between consecutive indices.
                thresholds.append(np.arange(n_cats[f] - 1, dtype=np.float64) + 0.5)
                continue
            col = np.asarray(X[:, f], dtype=np.float64)
            col = col[~np.isnan(col)]
            distinct = np.unique(col)
            if distinct.size <= max_bins:
                # Every distinct value gets its own bin; halves are added separately so that
                # the midpoint of two huge values does not overflow.
                thr = distinct[:-1] * 0.5 + distinct[1:] * 0.5
            else:
                # Tied quantiles collapse, so a heavily repeated value gets one bin.
                thr = np.unique(np.percentile(col, levels, method="midpoint"))
            thresholds.append(np.ascontiguousarray(thr, dtype=np.float64))
        sizes = np.array([t.size for t in thresholds], dtype=np.int64)
        self._set_flat_thresholds(np.concatenate([np.zeros(0), *thresholds]), sizes)
        self.n_bins_non_missing_ = (sizes + 1).astype(np.int32)
        self.missing_values_bin_idx_ = max_bins
        self.is_categorical_ = n_cats > 0
        self.n_features_in_ = d
        return self

    def _set_flat_thresholds(self, flat: NDArray[np.float64], sizes: NDArray[np.integer]) -> None:
        """Store ``flat`` (feature f's edges are the next ``sizes[f]`` values) as it is.

        No per-feature objects and no padding: the memory is that of the edges, so that a
        model file of a few bytes a feature cannot ask for kilobytes a feature when loaded.
        """
        offsets = np.zeros(sizes.size + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        self._threshold_offsets = offsets
        self._flat_thresholds = np.ascontiguousarray(flat, dtype=np.float64)

    @property
    def bin_thresholds_(self) -> list[NDArray[np.float64]]:
        """Per feature, the increasing bin edges (views of one flat array), list of length d."""
        if not hasattr(self, "_flat_thresholds"):
            raise AttributeError("bin_thresholds_")  # not fitted: hasattr() is False
        return np.split(self._flat_thresholds, self._threshold_offsets[1:-1])

    def __setstate__(self, state: dict[str, Any]) -> None:
        # A BinMapper pickled by an older natgrad holds the list and a padded table.
        thresholds = state.pop("bin_thresholds_", None)
        state.pop("_padded_thresholds", None)
        self.__dict__.update(state)
        if thresholds is not None:
            sizes = np.array([t.size for t in thresholds], dtype=np.int64)
            self._set_flat_thresholds(np.concatenate([np.zeros(0), *thresholds]), sizes)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The bin edges as the model file's arrays: bins per feature and all edges."""
        return {
            "bin_counts": self.n_bins_non_missing_,
            "bin_thresholds": self._flat_thresholds,
        }

    @classmethod
    def from_arrays(
        cls,
        a: dict[str, np.ndarray],
        n_features: int,
        max_bins: int,
        categories: Any,
        fail: Callable[[str], Exception],
    ) -> BinMapper:
        """A fitted mapper from a model file's arrays (`to_arrays`), after checking them.

        ``categories`` is the file's ``categories`` entry: None, or per feature None or the
        list of its category values (one bin each). ``fail(reason)`` makes the error raised
        when the counts, categories or edges are invalid.
        """
        d = n_features
        counts = a["bin_counts"]
        if counts.shape != (d,):
            raise fail(f"array 'bin_counts' has shape {counts.shape}; the header implies {(d,)}")
        n_edges = (int(counts.sum()) - d,)
        if a["bin_thresholds"].shape != n_edges:
            raise fail(
                f"array 'bin_thresholds' has shape {a['bin_thresholds'].shape}; the header "
                f"implies {n_edges}"
            )
        if (counts < 1).any() or (counts > max_bins).any():
            raise fail(f"bin counts must lie in [1, {max_bins}]")
        if categories is not None:
            _check_categories(categories, counts, max_bins, fail)
        # One vectorised check of all features' edges (no per-feature objects: the memory
        # stays a small multiple of the file's size however many features it declares).
        thresholds, sizes = a["bin_thresholds"], counts.astype(np.int64) - 1
        if thresholds.size:
            owner = np.repeat(np.arange(d, dtype=np.int32), sizes)
            bad = np.isnan(thresholds)
            bad[1:] |= (owner[1:] == owner[:-1]) & (np.diff(thresholds) <= 0)
            if bad.any():
                f = int(owner[np.flatnonzero(bad)[0]])
                raise fail(f"the bin edges of feature {f} are not increasing")
        mapper = cls(max_bins=max_bins, random_state=0)
        mapper._set_flat_thresholds(thresholds, sizes)
        mapper.n_bins_non_missing_ = counts.astype(np.int32)
        mapper.missing_values_bin_idx_ = max_bins
        mapper.n_features_in_ = d
        mapper.is_categorical_ = np.zeros(d, dtype=bool)
        if categories is not None:
            mapper.is_categorical_[:] = [bool(c) for c in categories]
        return mapper

    def transform(self, X: ArrayLike) -> NDArray[np.uint8]:
        """Bin ``X`` with the edges learned in `fit`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features; NaN goes to the missing-value bin.

        Returns
        -------
        binned : ndarray of shape (n_samples, n_features), dtype uint8, Fortran order
            Bin indices. Column-major because the histogram kernel and the row partition
            read one feature over many rows at a time. A float32 value gets the bin of the
            same value in float64 (comparisons with the float64 edges are exact).
        """
        if not hasattr(self, "_flat_thresholds"):
            raise ValueError("This BinMapper instance is not fitted yet. Call 'fit' first.")
        X = feature_view(X, "BinMapper.transform")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"The 'X' argument of BinMapper.transform must have {self.n_features_in_} "
                f"features, as in fit. Got {X.shape[1]} instead."
            )
        out = np.empty(X.shape, dtype=np.uint8, order="F")
        forksafe(_map_to_bins)(
            X,
            self._flat_thresholds,
            self._threshold_offsets,
            np.uint8(self.missing_values_bin_idx_),
            out,
        )
        return out

    def fit_transform(self, X: ArrayLike) -> NDArray[np.uint8]:
        """`fit` then `transform` the same ``X``; see `transform` for the result."""
        return self.fit(X).transform(X)


def _check_categories(
    cats: Any, counts: NDArray[np.int32], max_bins: int, fail: Callable[[str], Exception]
) -> None:
    d = counts.shape[0]
    if not isinstance(cats, list) or len(cats) != d:
        raise fail(f"'categories' must be null or a list of {d} entries")
    kinds = (str, int, float, bool)
    for f, values in enumerate(cats):
        if values is None:
            continue
        if not isinstance(values, list) or not all(isinstance(v, kinds) for v in values):
            raise fail(f"the categories of feature {f} must be a list of values")
        if len(values) > max_bins or (values and counts[f] != len(values)):
            raise fail(f"feature {f} has {len(values)} categories but other bins")


@njit(cache=True, nogil=True, parallel=True)
def _map_to_bins(X, thresholds, offsets, missing_bin, out):
    """Count the thresholds below every value (no fastmath: the NaN test must stay).

    A binary search by powers of two over each feature's increasing thresholds: the number
    of thresholds strictly below a finite ``x`` is its bin.

    Parameters
    ----------
    X : ndarray of shape (n, d), float64 or float32, any memory order
    thresholds : ndarray of shape (n_thresholds,), float64
        Feature f's thresholds are ``thresholds[offsets[f]:offsets[f + 1]]``, increasing.
    offsets : ndarray of shape (d + 1,), int64
    missing_bin : uint8
    out : ndarray of shape (n, d), uint8, written in place
    """
    n, d = X.shape
    n_blocks = (n + _TRANSFORM_BLOCK - 1) // _TRANSFORM_BLOCK
    for blk in prange(n_blocks):
        start = blk * _TRANSFORM_BLOCK
        stop = min(n, start + _TRANSFORM_BLOCK)
        for f in range(d):
            lo = offsets[f]
            count = offsets[f + 1] - lo
            top = 1
            while top * 2 <= count:
                top *= 2
            for i in range(start, stop):
                x = X[i, f]
                pos = 0
                step = top if count > 0 else 0
                while step > 0:
                    nxt = pos + step
                    pos = nxt if nxt <= count and thresholds[lo + nxt - 1] < x else pos
                    step >>= 1
                out[i, f] = missing_bin if np.isnan(x) else pos
