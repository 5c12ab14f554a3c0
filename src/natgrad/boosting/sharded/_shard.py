"""One shard of the training rows: the worker side of the sharded engine.

A `Shard` holds a block of the training (and validation) rows and does every per-row step of
a stage on them with the single-machine engine's compiled kernels: binning with the fit's one
`BinMapper`, the stage's histogram channels (`FusedStage.gradient_channels`), node histograms
(`build_histogram`), the row partition of each split (`partition`), each row's leaf, the line
search's per-leaf sums (`FusedStage.leaf_stats`) and the parameter update
(`add_leaf_values`). It never decides anything: the driver (`natgrad.boosting.sharded.
_driver`) sums what the shards return and tells them which splits to apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import get_num_threads
from numpy.typing import NDArray

from natgrad._typing import Array
from natgrad.boosting._hist.binning import BinMapper
from natgrad.boosting._hist.common import N_WORDS, NodeArrays, Tree
from natgrad.boosting._hist.histogram import build_histogram, node_sums
from natgrad.boosting._hist.partition import (
    add_leaf_values,
    partition,
    threshold_sides,
    traverse_unassigned,
)
from natgrad.boosting._training.stage import FusedStage, fused_stage
from natgrad.distributions import Distribution
from natgrad.distributions.compiled import N_STATS
from natgrad.scores import Score

__all__ = ["Shard", "ShardSpec", "Split"]


@dataclass(frozen=True)
class ShardSpec:
    """What every shard needs to start a fit (the same for all shards).

    ``w_sum`` / ``w_val_sum``: the total training and validation weights (the loss weights
    are ``w / w_sum``, so the shards' partial losses add up to the global loss);
    ``weighted``: whether any training weight differs from one (then the histogram
    channels carry the weights); ``columns``: the packed metric entries of the channels
    (`FusedStage.gradient_channels`); ``max_nodes``: nodes of a tree at most.
    """

    mapper: BinMapper
    family: type[Distribution]
    config: dict[str, Any]
    score: Score
    theta0: Array  # (1, p)
    w_sum: float
    w_val_sum: float
    weighted: bool
    columns: np.ndarray  # int64
    max_nodes: int


@dataclass(frozen=True)
class Split:
    """A split of node ``node`` (the driver's level-wise numbering): bins ``<= bin`` of
    ``feature`` (and the missing-value bin when ``missing_go_left``) go to ``left``, the
    other rows to ``left + 1``."""

    node: int
    feature: int
    bin: int
    missing_go_left: bool
    left: int


class Shard:
    """A block of rows and its state during a fit.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Training features of this shard (NaN: missing); n may be 0.
    y : ndarray of shape (n,)
        Validated targets.
    w : ndarray of shape (n,)
        Row weights.
    X_val, y_val, w_val : ndarrays or None
        This shard's validation rows (or None).
    """

    def __init__(
        self,
        X: Array,
        y: Array,
        w: Array,
        X_val: Array | None = None,
        y_val: Array | None = None,
        w_val: Array | None = None,
    ) -> None:
        self.X = X
        self.y = y
        self.w = w
        self.X_val = X_val
        self.y_val = y_val
        self.w_val = w_val

    # ------------------------------------------------------------------------ set-up
    def sizes(self) -> tuple[int, int]:
        """Training and validation rows of this shard."""
        return int(self.y.shape[0]), 0 if self.y_val is None else int(self.y_val.shape[0])

    def setup(self, spec: ShardSpec) -> tuple[float, float]:
        """Bin the rows, set θ to θ⁽⁰⁾; return the partial training and validation losses
        Σ wᵢ S(θ⁽⁰⁾, yᵢ) / w_sum over this shard's rows (0.0 without validation rows)."""
        self.spec = spec
        mapper = spec.mapper
        self.binned = np.asfortranarray(mapper.transform(self.X))
        self.X = None  # type: ignore[assignment]  # the bins are all a fit reads
        n, p = self.binned.shape[0], spec.theta0.shape[1]
        self.missing_bin = int(mapper.missing_values_bin_idx_)
        self.fused = _fused(spec, self.y, self.w / spec.w_sum)
        self.theta = np.asfortranarray(np.repeat(spec.theta0, n, axis=0))
        self.row_w = self.w if spec.weighted else None
        self.channels = np.empty((n, p + spec.columns.size))
        self.part = np.arange(n, dtype=np.int32)
        self.tmp = np.empty(n, dtype=np.int32)
        self.start = np.zeros(spec.max_nodes, dtype=np.int64)
        self.count = np.zeros(spec.max_nodes, dtype=np.int64)
        self.index = np.zeros(n, dtype=np.int32)
        self.sides = np.empty(self.missing_bin + 1, dtype=np.uint8)
        self.n_threads = get_num_threads()
        d = self.binned.shape[1]
        self.hist_shape = (d, self.missing_bin + 1, self.channels.shape[1] + 1)
        self.partials = np.empty((self.n_threads if d < self.n_threads else 0, *self.hist_shape))
        # A shard without rows contributes zeros and never calls a kernel (an empty θ
        # would be C-ordered and compile every stage kernel once more).
        loss = self.fused.set_params(self.theta) if n else 0.0
        val_loss = 0.0
        self.fused_val: FusedStage | None = None
        if self.y_val is not None and self.X_val is not None:
            assert self.w_val is not None  # set together
            self.binned_val = np.asfortranarray(mapper.transform(self.X_val))
            self.X_val = None
            self.theta_val = np.asfortranarray(np.repeat(spec.theta0, self.y_val.shape[0], 0))
            if self.y_val.shape[0]:
                self.fused_val = _fused(spec, self.y_val, self.w_val / spec.w_val_sum)
                val_loss = self.fused_val.set_params(self.theta_val)
        return loss, val_loss

    # ------------------------------------------------------------------------ one stage
    def begin(
        self, update: tuple[float, Tree] | None, features: NDArray[np.int32], build_root: bool
    ) -> tuple[float, Array]:
        """Apply the last stage's update (if any), then start a stage's tree.

        Parameters
        ----------
        update : (step, tree) or None
            The last stage's signed-off step η ρ and its tree: θ ← θ − step · values of each
            row's leaf, on the training rows (leaves from `finish`) and the validation rows
            (by a binned walk of ``tree``).
        features : ndarray of int32
            The features the stage's splits may use.
        build_root : bool
            Whether the root may split (then its histogram is returned, else its sums).

        Returns
        -------
        val_loss : float
            This shard's partial validation loss after the update (0.0 without validation
            rows, NaN without an update).
        out : ndarray of shape (d, n_bins, K) or (K,)
            The root's histogram or channel sums over this shard's rows.
        """
        val_loss = np.nan
        if update is not None:
            val_loss = self._update(*update)
        n = self.binned.shape[0]
        self.part = np.arange(n, dtype=np.int32)
        self.start[0], self.count[0] = 0, n
        if n == 0:
            return val_loss, np.zeros(self.hist_shape if build_root else self.hist_shape[2])
        self.fused.gradient_channels(self.theta, self.row_w, self.spec.columns, self.channels)
        if not build_root:
            sums = np.empty(self.channels.shape[1] + 1)
            node_sums(self.part, 0, n, self.channels, sums)
            return val_loss, sums
        hist = np.zeros(self.hist_shape)  # inactive features: zeros, not garbage, to sum
        build_histogram(
            self.binned, self.part, 0, n, features, self.channels, hist, self.partials,
            self.n_threads, True,
        )  # fmt: skip
        return val_loss, hist

    def split(self, splits: list[Split], build: list[int], features: NDArray[np.int32]) -> Array:
        """Apply ``splits`` to the row partition; return the histograms of the nodes
        ``build``, shape (len(build), d, n_bins, K)."""
        out = np.zeros((len(build), *self.hist_shape))
        if self.binned.shape[0] == 0:
            return out
        self._apply(splits)
        for j, nd in enumerate(build):
            s = self.start[nd]
            build_histogram(
                self.binned, self.part, s, s + self.count[nd], features, self.channels, out[j],
                self.partials, self.n_threads,
            )  # fmt: skip
        return out

    def finish(self, splits: list[Split], leaves: list[int]) -> Array:
        """Apply the last ``splits``; the rows of node ``leaves[k]`` are in leaf ``k``.
        Returns the line search's per-leaf sums over this shard's rows
        (`FusedStage.leaf_stats`), shape (n_leaves, N_STATS)."""
        if self.binned.shape[0] == 0:
            return np.zeros((len(leaves), N_STATS))
        self._apply(splits)
        for lf, nd in enumerate(leaves):
            s = self.start[nd]
            self.index[self.part[s : s + self.count[nd]]] = lf
        return self.fused.leaf_stats(self.theta, self.index, len(leaves))

    def end(self, update: tuple[float, Tree]) -> float:
        """Apply the last stage's update (as `begin`); returns the partial validation loss."""
        return self._update(*update)

    def parameters(self) -> tuple[Array, Array | None]:
        """The current θ of the training rows (n, p) and of the validation rows."""
        return np.ascontiguousarray(self.theta), (
            None if self.fused_val is None else np.ascontiguousarray(self.theta_val)
        )

    # ------------------------------------------------------------------------ helpers
    def _apply(self, splits: list[Split]) -> None:
        for sp in splits:
            s = self.start[sp.node]
            e = s + self.count[sp.node]
            threshold_sides(sp.bin, sp.missing_go_left, self.missing_bin, self.sides)
            n_left = partition(self.binned[:, sp.feature], self.part, s, e, self.sides, self.tmp)
            self.start[sp.left], self.count[sp.left] = s, n_left
            self.start[sp.left + 1], self.count[sp.left + 1] = s + n_left, e - s - n_left

    def _update(self, step: float, tree: Tree) -> float:
        values = tree.leaf_values
        if step != 0.0 and self.binned.shape[0]:
            add_leaf_values(self.theta, values, self.index, -step)
            self.fused.set_params(self.theta, loss=False)
        if self.fused_val is None:
            return 0.0
        leaf = _leaf_of_binned(self.binned_val, tree, self.missing_bin)
        # As the local trainer: the validation θ moves by the stage's output even at step 0.
        add_leaf_values(self.theta_val, values, leaf, -step)
        return self.fused_val.set_params(self.theta_val)


def _fused(spec: ShardSpec, y: Array, weights: Array) -> FusedStage:
    fused = fused_stage(spec.family, spec.score, spec.config, y, weights)
    if fused is None:  # the driver checks the family before any shard starts
        raise ValueError(f"the {spec.family.name!r} family has no compiled stage kernels")
    return fused


def _leaf_of_binned(binned: NDArray[np.uint8], tree: Tree, missing_bin: int) -> NDArray[np.int32]:
    """Leaf number of every binned row in ``tree`` (numeric splits only)."""
    n_nodes = tree.n_nodes
    walk = NodeArrays(
        tree.feature, _NO_THRESHOLD, tree.bin_threshold, tree.missing_go_left, tree.left,
        tree.right, np.full(n_nodes, -1, dtype=np.int32), _NO_BITS, missing_bin,
    )  # fmt: skip
    node_leaf = np.full(n_nodes, -1, dtype=np.int32)
    node_leaf[tree.leaf_index] = np.arange(tree.n_leaves, dtype=np.int32)
    leaf = np.full(binned.shape[0], -1, dtype=np.int32)
    traverse_unassigned(binned, leaf, walk, node_leaf)
    return leaf


_NO_THRESHOLD = np.zeros(0)
_NO_BITS = np.zeros((0, N_WORDS), dtype=np.uint32)
