"""Constants and records shared by the histogram engine's modules.

The compiled kernels take their configuration as named tuples (numba compiles them to
structs): `NodeArrays`, the split nodes every walk reads, and `SplitParams`, the split search's
settings; `Tree` is the grown tree as the Python side keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

__all__ = ["FASTMATH", "N_WORDS", "NodeArrays", "SplitParams", "Tree"]

# fastmath without 'nnan'/'ninf': those would let LLVM fold away NaN tests (missing values,
# failed pivots). Reassociation is what lets the sums vectorise.
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}

#: uint32 words of a categorical split's bitset: 256 bits, one per possible uint8 bin.
N_WORDS = 8


@dataclass(frozen=True, eq=False)
class Tree:
    """A grown tree as flat node arrays (node 0 is the root).

    Attributes
    ----------
    feature : ndarray of shape (n_nodes,), int32
        Split feature (-1 at leaves).
    bin_threshold : ndarray of shape (n_nodes,), uint8
        Rows with ``bin <= bin_threshold`` go left (missing-value bin excepted).
    threshold : ndarray of shape (n_nodes,), float64
        Real-valued threshold: ``x <= threshold`` goes left (``+inf`` when every non-missing
        value goes left; NaN at leaves).
    missing_go_left : ndarray of shape (n_nodes,), bool
        Side of missing values: learned when the node saw some, else the larger child.
    left, right : ndarray of shape (n_nodes,), int32
        Children (-1 at leaves).
    value : ndarray of shape (n_nodes, p), float64
        ``(H + lambda I)^{-1} G`` of every node (the leaf value at leaves).
    gain : ndarray of shape (n_nodes, p), float64
        Per-parameter split gain (zero at leaves), for feature importances.
    split_gain : ndarray of shape (n_nodes,), float64
        Gain of the split (zero at leaves).
    count : ndarray of shape (n_nodes,), int64
        Training rows of the stage in the node.
    depth : ndarray of shape (n_nodes,), int32
    leaf_index : ndarray of shape (n_leaves,), int32
        Node of each leaf number.
    leaf_values : ndarray of shape (n_leaves, p), float64
        ``value[leaf_index]``.
    cat_index : ndarray of shape (n_nodes,), int32, or None
        Row of a categorical split's bitset in ``cat_bitsets`` (-1 elsewhere); None when
        the tree has no categorical split.
    cat_bitsets : ndarray of shape (n_categorical_splits, 8), uint32, or None
        Bit ``b`` set: bin (category index) ``b`` goes left, the missing-value bin included.
    """

    feature: NDArray[np.int32]
    bin_threshold: NDArray[np.uint8]
    threshold: NDArray[np.float64]
    missing_go_left: NDArray[np.bool_]
    left: NDArray[np.int32]
    right: NDArray[np.int32]
    value: NDArray[np.float64]
    gain: NDArray[np.float64]
    split_gain: NDArray[np.float64]
    count: NDArray[np.int64]
    depth: NDArray[np.int32]
    leaf_index: NDArray[np.int32]
    leaf_values: NDArray[np.float64]
    cat_index: NDArray[np.int32] | None = None
    cat_bitsets: NDArray[np.uint32] | None = None

    @property
    def n_nodes(self) -> int:
        return int(self.feature.shape[0])

    @property
    def n_leaves(self) -> int:
        return int(self.leaf_index.shape[0])


class NodeArrays(NamedTuple):
    """The split nodes of a tree or a forest as flat arrays: what every walk reads.

    Node ``i`` splits on ``feature[i]``; children ``left[i]`` / ``right[i]`` (-1 at leaves).
    A numeric node sends bin ``b <= bin_threshold[i]`` (real value ``x <= threshold[i]``)
    left and the missing-value bin ``missing_bin`` (NaN) by ``missing_go_left[i]``; a
    categorical node (``cat_index[i] >= 0``) sends the bins whose bit is set in
    ``cat_bits[cat_index[i]]`` left. Routing: `natgrad.boosting._hist.routing`.
    """

    feature: NDArray[np.int32]
    threshold: NDArray[np.float64]  # empty where only binned rows are walked
    bin_threshold: NDArray[np.uint8]
    missing_go_left: NDArray[np.bool_]
    left: NDArray[np.int32]
    right: NDArray[np.int32]
    cat_index: NDArray[np.int32]
    cat_bits: NDArray[np.uint32]  # (n_categorical_splits, N_WORDS)
    missing_bin: int


class SplitParams(NamedTuple):
    """The split search's settings, the same for every node of a fit.

    ``p`` parameters; ``matrix``: the metric is a matrix (the Fisher rule) rather than the
    weight times the identity; ridge ``l2``, leaf ``prior`` in pseudo-rows, at least
    ``min_samples_leaf`` rows per child and a gain above ``min_gain``; the bins of each
    feature and the missing-value bin; monotone ``sign`` (d, p) in {-1, 0, 1} ((0, p):
    none); ``diag_map`` / ``diag_const`` the diagonal histogram layout (empty: dense;
    `natgrad.boosting._hist.split_diagonal`).
    """

    p: int
    matrix: bool
    l2: float
    prior: float
    min_samples_leaf: int
    min_gain: float
    n_bins_non_missing: NDArray[np.int32]
    missing_bin: int
    sign: NDArray[np.int8]
    diag_map: NDArray[np.int64]
    diag_const: NDArray[np.float64]
