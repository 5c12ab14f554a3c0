"""Flat-array forest of vector-leaf trees, with compiled prediction.

All trees of a model live in one set of node arrays; tree ``t`` owns the nodes
``tree_offsets[t]:tree_offsets[t + 1]`` (its root first) and contributes
``scales[t] * value[leaf]`` to the raw prediction. For the boosting update
``theta <- theta - eta rho f(x)`` append each tree with ``scale = -eta * rho`` and add
`Ensemble.predict_raw` to the initial parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
from numba import njit, prange
from numpy.typing import ArrayLike, NDArray

from natgrad._forksafe import forksafe, in_forked_child
from natgrad._validation import describe

from .binning import check_X
from .common import N_WORDS, NodeArrays, Tree
from .routing import goes_left_binned, goes_left_raw, leaf_of_binned_row, leaf_of_raw_row

__all__ = ["Ensemble"]


# Rows per task of the parallel prediction, and the work (rows x trees) below which a
# prediction runs on the calling thread alone (a single row: no thread is woken).
_PREDICT_BLOCK = 256
_MIN_PARALLEL_PREDICT = 1 << 16


@njit(nogil=True)
def _predict_rows(X, binned, use_binned, lo, hi, first, last, offsets, scales, nodes, value, out):
    """Add ``sum_{first <= t < last} scales[t] value[leaf_t(x_i)]`` to ``out[i]`` for the rows
    ``lo <= i < hi``, walked through ``nodes`` (`NodeArrays`) by their bins or real values.

    The walk of `routing.leaf_of_raw_row` / `leaf_of_binned_row` written out with the node
    arrays taken once per call: a call per tree and row passed the nine arrays of
    ``nodes`` each time, which cost more than the walk itself. The same decisions
    (`goes_left_raw`, `goes_left_binned`) and the same sums in the same order: the output is
    bitwise that of the walk per tree.
    """
    feature, left, right = nodes.feature, nodes.left, nodes.right
    p = value.shape[1]
    for i in range(lo, hi):
        for t in range(first, last):
            node = offsets[t]
            if use_binned:
                while left[node] != -1:
                    b = binned[i, feature[node]]
                    node = left[node] if goes_left_binned(b, node, nodes) else right[node]
            else:
                while left[node] != -1:
                    x = X[i, feature[node]]
                    node = left[node] if goes_left_raw(x, node, nodes) else right[node]
            s = scales[t]
            for k in range(p):
                out[i, k] += s * value[node, k]


@njit(cache=True, nogil=True)
def _predict_serial(X, binned, use_binned, first, last, offsets, scales, nodes, value, out):
    """`_predict_rows` over all rows on the calling thread."""
    n = binned.shape[0] if use_binned else X.shape[0]
    _predict_rows(X, binned, use_binned, 0, n, first, last, offsets, scales, nodes, value, out)


@njit(cache=True, nogil=True, parallel=True)
def _predict(X, binned, use_binned, first, last, offsets, scales, nodes, value, out):
    """`_predict_rows` over all rows, in blocks of `_PREDICT_BLOCK` rows on numba's threads."""
    n = binned.shape[0] if use_binned else X.shape[0]
    n_blocks = (n + _PREDICT_BLOCK - 1) // _PREDICT_BLOCK
    for blk in prange(n_blocks):
        lo = blk * _PREDICT_BLOCK
        hi = min(n, lo + _PREDICT_BLOCK)
        _predict_rows(X, binned, use_binned, lo, hi, first, last, offsets, scales, nodes, value,
                      out)  # fmt: skip


@njit(cache=True, nogil=True, parallel=True)
def _apply(X, binned, use_binned, offsets, n_trees, nodes, leaf_id, out):
    """Leaf number of every row in every tree into ``out`` (n, n_trees)."""
    n = binned.shape[0] if use_binned else X.shape[0]
    for i in prange(n):
        for t in range(n_trees):
            if use_binned:
                node = leaf_of_binned_row(binned, i, offsets[t], nodes)
            else:
                node = leaf_of_raw_row(X, i, offsets[t], nodes)
            out[i, t] = leaf_id[node]


_NO_X = np.zeros((2, 2))
_NO_BINNED = np.zeros((2, 2), dtype=np.uint8, order="F")


class Ensemble:
    """All trees of a boosted model, concatenated in flat arrays.

    Parameters
    ----------
    n_params : int
        Leaf value dimension ``p``.
    n_features : int
        Number of features ``d``.
    missing_values_bin_idx : int, default=255
        Bin of missing values in binned inputs.

    Attributes
    ----------
    n_trees : int
        Number of appended trees.
    feature, threshold, bin_threshold, missing_go_left, left, right, leaf_id, cat_index : \
ndarray of shape (n_nodes,)
        Node arrays of all trees (views of the used part of the buffers). At a categorical
        node ``threshold`` is NaN and ``cat_index`` the row of its bitset in
        ``cat_bitsets`` (else -1). ``left`` and
        ``right`` are global node indices (-1 at leaves); ``leaf_id`` is the leaf number of a
        leaf within its tree (-1 at internal nodes).
    value : ndarray of shape (n_nodes, p)
        Node values (leaf values at leaves).
    gain : ndarray of shape (n_nodes, p)
        Per-parameter split gains (zero at leaves).
    cover : ndarray of shape (n_nodes,), float64, or None
        Training rows of the stage that reached each node (TreeSHAP's node weights); None
        for a model loaded from a file written before natgrad stored covers.
    tree_offsets : ndarray of shape (n_trees + 1,), int64
        First node of each tree (its root), and the total node count last.
    scales : ndarray of shape (n_trees,), float64
        Factor of each tree's contribution.
    """

    def __init__(self, n_params: int, n_features: int, missing_values_bin_idx: int = 255) -> None:
        self.n_params = n_params
        self.n_features = n_features
        self.missing_values_bin_idx = missing_values_bin_idx
        self.n_trees = 0
        self._n_nodes = 0
        self._buf: dict[str, np.ndarray] = {}
        self._offsets = np.zeros(1, dtype=np.int64)
        self._scales = np.zeros(0)
        # Bitsets of the categorical splits (row cat_index[node]); rows in use: _n_cat.
        self._cat_bits = np.zeros((0, N_WORDS), dtype=np.uint32)
        self._n_cat = 0

    # ----------------------------------------------------------------------------- storage
    def _reserve(self, n_nodes: int, n_trees: int) -> None:
        # Geometric growth: appending T trees costs O(total nodes), not O(T^2).
        cap = self._buf["left"].shape[0] if self._buf else 0
        if n_nodes > cap:
            new_cap = max(n_nodes, 2 * cap, 64)
            p = self.n_params
            specs = {
                "feature": (np.int32, ()),
                "threshold": (np.float64, ()),
                "bin_threshold": (np.uint8, ()),
                "missing_go_left": (np.bool_, ()),
                "left": (np.int32, ()),
                "right": (np.int32, ()),
                "leaf_id": (np.int32, ()),
                "cat_index": (np.int32, ()),
                "value": (np.float64, (p,)),
                "gain": (np.float64, (p,)),
                "cover": (np.float64, ()),
            }
            buf: dict[str, np.ndarray] = {}
            for name, (dtype, tail) in specs.items():
                if self._buf and name not in self._buf:
                    continue  # no covers in a model from an older file: none for new trees
                buf[name] = np.zeros((new_cap, *tail), dtype=dtype)
                if self._buf:
                    buf[name][: self._n_nodes] = self._buf[name][: self._n_nodes]
            self._buf = buf
        if n_trees + 1 > self._offsets.shape[0]:
            t_cap = max(n_trees + 1, 2 * self._offsets.shape[0], 16)
            offsets = np.zeros(t_cap, dtype=np.int64)
            offsets[: self.n_trees + 1] = self._offsets[: self.n_trees + 1]
            scales = np.zeros(t_cap)
            scales[: self.n_trees] = self._scales[: self.n_trees]
            self._offsets, self._scales = offsets, scales

    def append(self, tree: Tree, scale: float) -> None:
        """Add a tree whose contribution is ``scale * tree.value[leaf]``.

        Parameters
        ----------
        tree : Tree
            Tree from `natgrad.boosting._hist.grower.grow_tree`.
        scale : float
            Its factor (``-eta * rho`` for the boosting update of the module docstring).
        """
        if tree.value.shape[1] != self.n_params:
            raise ValueError(
                f"The 'tree' argument of Ensemble.append must have {self.n_params} leaf "
                f"values per leaf. Got {tree.value.shape[1]} instead."
            )
        m = tree.feature.shape[0]
        start = self._n_nodes
        stop = start + m
        self._reserve(stop, self.n_trees + 1)
        b = self._buf
        b["feature"][start:stop] = tree.feature
        b["threshold"][start:stop] = tree.threshold
        b["bin_threshold"][start:stop] = tree.bin_threshold
        b["missing_go_left"][start:stop] = tree.missing_go_left
        is_leaf = tree.left < 0
        b["left"][start:stop] = np.where(is_leaf, -1, tree.left + start)
        b["right"][start:stop] = np.where(is_leaf, -1, tree.right + start)
        leaf_id = b["leaf_id"][start:stop]
        leaf_id[:] = -1
        leaf_id[tree.leaf_index] = np.arange(tree.leaf_index.shape[0], dtype=np.int32)
        b["value"][start:stop] = tree.value
        b["gain"][start:stop] = tree.gain
        cat_index = b["cat_index"][start:stop]
        cat_index[:] = -1
        if tree.cat_index is not None and tree.cat_bitsets is not None:
            is_cat = tree.cat_index >= 0
            n_new = int(tree.cat_bitsets.shape[0])
            if self._n_cat + n_new > self._cat_bits.shape[0]:
                grown = np.zeros(
                    (max(self._n_cat + n_new, 2 * self._cat_bits.shape[0], 16), N_WORDS),
                    dtype=np.uint32,
                )
                grown[: self._n_cat] = self._cat_bits[: self._n_cat]
                self._cat_bits = grown
            self._cat_bits[self._n_cat : self._n_cat + n_new] = tree.cat_bitsets
            cat_index[is_cat] = tree.cat_index[is_cat] + self._n_cat
            self._n_cat += n_new
        if "cover" in b:
            b["cover"][start:stop] = tree.count
        self._scales[self.n_trees] = scale
        self.n_trees += 1
        self._offsets[self.n_trees] = stop
        self._n_nodes = stop

    def head(self, n_trees: int) -> Ensemble:
        """A new ensemble holding copies of the first ``n_trees`` trees (more can be
        appended to it without touching this one, also when this one's arrays are a model
        file's read-only ones)."""
        _, last = self._tree_range(n_trees, 0, "head")
        out = Ensemble(self.n_params, self.n_features, self.missing_values_bin_idx)
        stop = int(self._offsets[last])
        out._buf = {name: np.array(buf[:stop]) for name, buf in self._buf.items()}
        out._offsets = np.array(self._offsets[: last + 1], dtype=np.int64)
        out._scales = np.array(self._scales[:last], dtype=np.float64)
        out.n_trees, out._n_nodes = last, stop
        used = out._buf["cat_index"] if out._buf else np.zeros(0, dtype=np.int32)
        out._n_cat = int(used.max()) + 1 if used.size and used.max() >= 0 else 0
        out._cat_bits = np.array(self._cat_bits[: out._n_cat], dtype=np.uint32).reshape(
            out._n_cat, N_WORDS
        )
        return out

    def _view(self, name: str) -> np.ndarray:
        if name in self._buf:
            return self._buf[name][: self._n_nodes]
        return np.zeros((0, self.n_params) if name in ("value", "gain") else 0)

    @property
    def feature(self) -> NDArray[np.int32]:
        return self._view("feature")

    @property
    def threshold(self) -> NDArray[np.float64]:
        return self._view("threshold")

    @property
    def bin_threshold(self) -> NDArray[np.uint8]:
        return self._view("bin_threshold")

    @property
    def missing_go_left(self) -> NDArray[np.bool_]:
        return self._view("missing_go_left")

    @property
    def left(self) -> NDArray[np.int32]:
        return self._view("left")

    @property
    def right(self) -> NDArray[np.int32]:
        return self._view("right")

    @property
    def leaf_id(self) -> NDArray[np.int32]:
        return self._view("leaf_id")

    @property
    def cat_index(self) -> NDArray[np.int32]:
        """Row of each categorical node's bitset in `cat_bitsets` (-1: numeric or leaf)."""
        return self._view("cat_index")

    @property
    def cat_bitsets(self) -> NDArray[np.uint32]:
        """Bitsets of the categorical splits, shape (n_categorical_splits, 8), uint32: bit
        ``b`` of row ``cat_index[node]`` set when bin (category index) ``b`` goes left."""
        return self._cat_bits[: self._n_cat]

    @property
    def value(self) -> NDArray[np.float64]:
        return self._view("value")

    @property
    def gain(self) -> NDArray[np.float64]:
        return self._view("gain")

    @property
    def cover(self) -> NDArray[np.float64] | None:
        return self._view("cover") if "cover" in self._buf or not self._buf else None

    def nodes(self) -> NodeArrays:
        """The split nodes as the compiled walks read them (whole buffers, `NodeArrays`)."""
        b = self._buf
        return NodeArrays(
            b["feature"],
            b["threshold"],
            b["bin_threshold"],
            b["missing_go_left"],
            b["left"],
            b["right"],
            b["cat_index"],
            self._cat_bits,
            int(self.missing_values_bin_idx),
        )

    @property
    def tree_offsets(self) -> NDArray[np.int64]:
        return self._offsets[: self.n_trees + 1]

    @property
    def scales(self) -> NDArray[np.float64]:
        return self._scales[: self.n_trees]

    # -------------------------------------------------------------------------- model file
    def to_arrays(self) -> dict[str, np.ndarray]:
        """The forest as the model file's arrays, by their names in the file."""
        arrays: dict[str, np.ndarray] = {
            "tree_offsets": self.tree_offsets,
            "scales": self.scales,
            "node_feature": self.feature,
            "node_threshold": self.threshold,
            "node_bin_threshold": self.bin_threshold,
            "node_missing_go_left": self.missing_go_left.astype(np.uint8),
            "node_left": self.left,
            "node_right": self.right,
            "node_leaf_id": self.leaf_id,
            "node_value": self.value,
            "node_gain": self.gain,
        }
        if self.cover is not None:
            arrays["node_cover"] = self.cover
        arrays["node_cat_index"] = self.cat_index
        arrays["cat_bitsets"] = self.cat_bitsets
        return arrays

    @classmethod
    def from_arrays(
        cls,
        a: dict[str, np.ndarray],
        n_params: int,
        n_features: int,
        n_trees: int,
        missing_values_bin_idx: int,
        fail: Callable[[str], Exception],
    ) -> Ensemble:
        """The forest from a model file's arrays (`to_arrays`), after checking them.

        Shapes must match ``n_params``, ``n_features`` and ``n_trees``; every child must lie
        inside its own tree and after its parent (prediction stays in bounds and every walk
        ends). A file without categorical arrays (written before categorical splits) gets
        all-numeric ones, filled into ``a``. ``fail(reason)`` makes the error raised.
        """
        _check_forest_shapes(a, n_params, n_trees, fail)
        _check_forest(a, n_features, fail)
        ens = cls(n_params, n_features, missing_values_bin_idx=missing_values_bin_idx)
        ens._buf = {
            "feature": a["node_feature"],
            "threshold": a["node_threshold"],
            "bin_threshold": a["node_bin_threshold"],
            "missing_go_left": a["node_missing_go_left"].astype(np.bool_),
            "left": a["node_left"],
            "right": a["node_right"],
            "leaf_id": a["node_leaf_id"],
            "value": np.ascontiguousarray(a["node_value"]),
            "gain": np.ascontiguousarray(a["node_gain"]),
        }
        if "node_cover" in a:
            ens._buf["cover"] = a["node_cover"]
        ens._buf["cat_index"] = a["node_cat_index"]
        ens._cat_bits = np.ascontiguousarray(a["cat_bitsets"])
        ens._n_cat = int(a["cat_bitsets"].shape[0])
        ens._n_nodes = int(a["tree_offsets"][-1])
        ens.n_trees = n_trees
        ens._offsets = a["tree_offsets"]
        ens._scales = a["scales"]
        return ens

    # -------------------------------------------------------------------------- prediction
    def _tree_range(self, n_trees: int | None, start: int, where: str) -> tuple[int, int]:
        last = self.n_trees if n_trees is None else n_trees
        if not isinstance(last, int | np.integer) or not 0 <= last <= self.n_trees:
            raise ValueError(
                f"The 'n_trees' argument of Ensemble.{where} must be an int in the range "
                f"[0, {self.n_trees}] or None. Got {describe(n_trees)} instead."
            )
        if not isinstance(start, int | np.integer) or not 0 <= start <= last:
            raise ValueError(
                f"The 'start' argument of Ensemble.{where} must be an int in the range "
                f"[0, {last}]. Got {describe(start)} instead."
            )
        return int(start), int(last)

    def _check_binned(self, binned: ArrayLike, where: str) -> NDArray[np.uint8]:
        arr = np.asarray(binned)
        if arr.dtype != np.uint8 or arr.ndim != 2 or arr.shape[1] != self.n_features:
            raise ValueError(
                f"The 'binned' argument of Ensemble.{where} must be a uint8 array of shape "
                f"(n_samples, {self.n_features}). Got {describe(arr)} instead."
            )
        # The grower's column-major layout; a C-ordered input is copied once.
        return np.asfortranarray(arr)

    def _run_predict(self, X, binned, use_binned, first, last, out):
        if self.n_trees == 0 or last <= first:
            return out
        n = out.shape[0]
        # In a forked child the parallel kernel would enter an OpenMP region the parent
        # already used, which kills the child (`natgrad._forksafe`): the serial kernel then.
        parallel = n * (last - first) >= _MIN_PARALLEL_PREDICT and n > 1 and not in_forked_child()
        kernel = _predict if parallel else _predict_serial
        kernel(
            X, binned, use_binned, first, last, self._offsets, self._scales, self.nodes(),
            self._buf["value"], out,
        )  # fmt: skip
        return out

    def _inputs(self, X: ArrayLike | None, binned: ArrayLike | None, where: str):
        if binned is not None:
            arr = self._check_binned(binned, where)
            return _NO_X, arr, True, arr.shape[0]
        Xc = check_X(X, f"Ensemble.{where}")  # type: ignore[arg-type]
        if Xc.shape[1] != self.n_features:
            raise ValueError(
                f"The 'X' argument of Ensemble.{where} must have {self.n_features} features. "
                f"Got {Xc.shape[1]} instead."
            )
        return Xc, _NO_BINNED, False, Xc.shape[0]

    def predict_raw(
        self, X: ArrayLike, n_trees: int | None = None, start: int = 0
    ) -> NDArray[np.float64]:
        """Sum of the scaled leaf values of trees ``start .. n_trees - 1``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Real features; NaN follows each split's ``missing_go_left``.
        n_trees : int or None, default=None
            Number of leading trees to use; ``None`` uses all.
        start : int, default=0
            First tree to use (``start = n_trees - 1``: the last stage alone).

        Returns
        -------
        raw : ndarray of shape (n_samples, p)
            ``sum_{start <= t < n_trees} scales[t] value_t(x)``.
        """
        first, last = self._tree_range(n_trees, start, "predict_raw")
        Xc, bd, use_b, n = self._inputs(X, None, "predict_raw")
        return self._run_predict(Xc, bd, use_b, first, last, np.zeros((n, self.n_params)))

    def predict_binned(
        self, binned: ArrayLike, n_trees: int | None = None, start: int = 0
    ) -> NDArray[np.float64]:
        """As `predict_raw`, for ``uint8`` bins from the `BinMapper` used in training.

        Parameters
        ----------
        binned : ndarray of shape (n_samples, n_features), uint8
        n_trees : int or None, default=None
        start : int, default=0

        Returns
        -------
        raw : ndarray of shape (n_samples, p)
        """
        first, last = self._tree_range(n_trees, start, "predict_binned")
        Xc, bd, use_b, n = self._inputs(None, binned, "predict_binned")
        return self._run_predict(Xc, bd, use_b, first, last, np.zeros((n, self.n_params)))

    def staged_predict_raw(
        self, X: ArrayLike, binned: bool = False
    ) -> Iterator[NDArray[np.float64]]:
        """Cumulative raw predictions after each tree, one tree's cost per stage.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Real features, or ``uint8`` bins when ``binned`` is true.
        binned : bool, default=False

        Yields
        ------
        raw : ndarray of shape (n_samples, p)
            Prediction of the first ``t + 1`` trees, for ``t = 0, ..., n_trees - 1`` (a new
            array each stage).
        """
        Xc, bd, use_b, n = self._inputs(
            None if binned else X, X if binned else None, "staged_predict_raw"
        )
        out = np.zeros((n, self.n_params))
        for t in range(self.n_trees):
            self._run_predict(Xc, bd, use_b, t, t + 1, out)
            yield out.copy()

    def apply(self, X: ArrayLike, binned: bool = False) -> NDArray[np.int32]:
        """Leaf number reached in every tree (as ``leaf_of_row`` of the grower).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Real features, or ``uint8`` bins when ``binned`` is true.
        binned : bool, default=False

        Returns
        -------
        leaves : ndarray of shape (n_samples, n_trees), int32
        """
        Xc, bd, use_b, n = self._inputs(None if binned else X, X if binned else None, "apply")
        out = np.zeros((n, self.n_trees), dtype=np.int32)
        if self.n_trees:
            forksafe(_apply)(
                Xc, bd, use_b, self._offsets, self.n_trees, self.nodes(), self._buf["leaf_id"],
                out,
            )  # fmt: skip
        return out

    def feature_importances(self) -> NDArray[np.float64]:
        """Summed per-parameter split gains by feature.

        Returns
        -------
        importances : ndarray of shape (p, n_features)
            ``importances[k, f]``: total gain of parameter ``k`` over the splits on ``f``.
        """
        out = np.zeros((self.n_features, self.n_params))
        internal = self.left >= 0
        np.add.at(out, self.feature[internal], self.gain[internal])
        return out.T.copy()


def _check_forest_shapes(
    a: dict[str, np.ndarray], p: int, t: int, fail: Callable[[str], Exception]
) -> None:
    def expect(key: str, shape: tuple[int, ...]) -> None:
        if a[key].shape != shape:
            raise fail(f"array {key!r} has shape {a[key].shape}; the header implies {shape}")

    expect("tree_offsets", (t + 1,))
    expect("scales", (t,))
    offsets = a["tree_offsets"]
    if offsets[0] != 0 or (np.diff(offsets) < 1).any():
        raise fail("tree offsets must start at 0 and increase (no empty tree)")
    n = int(offsets[-1])
    for key in ("feature", "threshold", "bin_threshold", "missing_go_left"):
        expect(f"node_{key}", (n,))
    for key in ("left", "right", "leaf_id"):
        expect(f"node_{key}", (n,))
    expect("node_value", (n, p))
    expect("node_gain", (n, p))
    if "node_cover" in a:
        expect("node_cover", (n,))
    present = [key in a for key in ("node_cat_index", "cat_bitsets")]
    if any(present) and not all(present):
        raise fail("arrays 'node_cat_index' and 'cat_bitsets' must come together")
    if not any(present):  # a file from before categorical splits: all numeric
        a["node_cat_index"] = np.full(n, -1, dtype=np.int32)
        a["cat_bitsets"] = np.zeros((0, N_WORDS), dtype=np.uint32)
    expect("node_cat_index", (n,))
    expect("cat_bitsets", (a["cat_bitsets"].shape[0], N_WORDS))


def _check_forest(a: dict[str, np.ndarray], d: int, fail: Callable[[str], Exception]) -> None:
    offsets = a["tree_offsets"]
    n = int(offsets[-1])
    node = np.arange(n)
    end = np.repeat(offsets[1:], np.diff(offsets))
    left, right = a["node_left"].astype(np.int64), a["node_right"].astype(np.int64)
    leaf = left == -1
    internal = ~leaf
    # Children inside their own tree and after their parent: prediction stays in bounds
    # and every root-to-leaf walk ends.
    ok_children = (left > node) & (left < end) & (right > node) & (right < end)
    if (leaf & (right != -1)).any() or (internal & ~ok_children).any():
        raise fail("its trees are malformed (a child index is out of place)")
    feature = a["node_feature"]
    if (internal & ((feature < 0) | (feature >= d))).any():
        raise fail(f"a split uses a feature outside [0, {d})")
    cat = a["node_cat_index"]
    if ((cat < -1) | (cat >= a["cat_bitsets"].shape[0])).any() or (leaf & (cat != -1)).any():
        raise fail("a categorical split's bitset index is out of range")
    # Categorical splits have no threshold (NaN); numeric ones must have one.
    if (internal & (cat < 0) & np.isnan(a["node_threshold"])).any():
        raise fail("a split has a NaN threshold")
    if (a["node_missing_go_left"] > 1).any():
        raise fail("array 'node_missing_go_left' holds values other than 0 and 1")
    if ((a["node_leaf_id"] >= 0) != leaf).any():
        raise fail("leaf numbers do not match the leaves")
    if not np.isfinite(a["node_value"][leaf]).all() or not np.isfinite(a["scales"]).all():
        raise fail("leaf values and tree scales must be finite")
    # TreeSHAP divides by a parent's cover: positive and finite keeps it a number.
    if "node_cover" in a and not (np.isfinite(a["node_cover"]) & (a["node_cover"] > 0)).all():
        raise fail("node covers must be positive and finite")
