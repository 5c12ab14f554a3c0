"""One shard of the training rows: the worker side of the sharded engine.

A `Shard` holds a block of the training (and validation) rows and does every per-row step of
a stage on them with the single-machine engine's own code: binning with the fit's one
`BinMapper`, the stage's targets and histogram channels (the local trainer's
`StageComputer`: compiled kernels where the family has them, else the family's and score's
NumPy methods), node histograms (`build_histogram`), the row partition of each split
(`partition`), each row's leaf, the line search's per-leaf sums (`FusedStage.leaf_stats`,
families with closed-form line sums) or its loss at each trial step, and the parameter
update (`add_leaf_values`). It never decides anything: the driver (`natgrad.boosting.sharded.
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
from natgrad.boosting._training.computers import FusedComputer, GenericComputer, StageComputer
from natgrad.boosting._training.stage import fused_stage
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
    (`FusedStage.gradient_channels`); ``max_nodes``: nodes of a tree at most;
    ``closed_form``: whether the line search runs on per-leaf sums (`Shard.finish`), else
    on the shards' losses at each trial step (`Shard.line`).
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
    closed_form: bool


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
    y : ndarray of shape (n,) or (n, k)
        Validated targets.
    w : ndarray of shape (n,)
        Row weights; the rows of weight zero are dropped, as the local fit drops them.
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
        if (w == 0).any():
            # As the local fit: rows of weight zero are dropped (they would count towards
            # min_samples_leaf and the row subsample); validation rows are kept.
            keep = w > 0
            X, y, w = X[keep], y[keep], w[keep]
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

    def setup(self, spec: ShardSpec) -> tuple[float, float, int]:
        """Bin the rows, set θ to θ⁽⁰⁾; return the partial training and validation losses
        Σ wᵢ S(θ⁽⁰⁾, yᵢ) / w_sum over this shard's rows (0.0 without validation rows) and
        the number of training rows."""
        self.spec = spec
        mapper = spec.mapper
        self.binned = np.asfortranarray(mapper.transform(self.X))
        self.X = None  # type: ignore[assignment]  # the bins are all a fit reads
        n, p = self.binned.shape[0], spec.theta0.shape[1]
        self.missing_bin = int(mapper.missing_values_bin_idx_)
        template = spec.family.from_params(spec.theta0, **spec.config)
        self.row_w = self.w if spec.weighted else None
        # The local trainer's computers, on this shard's rows with the global loss weights.
        self.computer = _computer(spec, template, self.y, self.w, spec.w_sum, self.row_w, True)
        self.theta = self.computer.start(spec.theta0, n)
        self.line_at: Any = None  # the stage's L(ρ) on these rows (`finish`)
        # The histogram channels: the fused computer's own array, else filled in `begin`.
        self.channels = np.empty((0, p + spec.columns.size))
        self.part = np.arange(n, dtype=np.int32)
        self.tmp = np.empty(n, dtype=np.int32)
        self.start = np.zeros(spec.max_nodes, dtype=np.int64)
        self.count = np.zeros(spec.max_nodes, dtype=np.int64)
        self.index = np.zeros(n, dtype=np.int32)
        self.sides = np.empty(self.missing_bin + 1, dtype=np.uint8)
        self.n_threads = get_num_threads()
        d = self.binned.shape[1]
        self.hist_shape = (d, self.missing_bin + 1, p + spec.columns.size + 1)
        self.partials = np.empty((self.n_threads if d < self.n_threads else 0, *self.hist_shape))
        # A shard without rows contributes zeros and never calls a kernel (an empty θ
        # would be C-ordered and compile every stage kernel once more).
        loss = self.computer.loss(self.theta) if n else 0.0
        val_loss = 0.0
        self.val_computer: StageComputer | None = None
        if self.y_val is not None and self.X_val is not None:
            assert self.w_val is not None  # set together
            self.binned_val = np.asfortranarray(mapper.transform(self.X_val))
            self.X_val = None
            if self.y_val.shape[0]:
                self.val_computer = _computer(
                    spec, template, self.y_val, self.w_val, spec.w_val_sum, None, False
                )
                self.theta_val = self.val_computer.start(spec.theta0, self.y_val.shape[0])
                val_loss = self.val_computer.loss(self.theta_val)
        return loss, val_loss, n

    # ------------------------------------------------------------------------ one stage
    def begin(
        self,
        update: tuple[float, Tree] | None,
        features: NDArray[np.int32],
        build_root: bool,
        rows: NDArray[np.uint8] | None = None,
    ) -> tuple[float, float, Array]:
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
        rows : ndarray of uint8 or None
            The stage's row subsample on this shard, a bit mask over its rows
            (`numpy.packbits`); None: every row.

        Returns
        -------
        val_loss : float
            This shard's partial validation loss after the update (0.0 without validation
            rows, NaN without an update).
        train_loss : float
            This shard's partial training loss after the update, for the families without
            closed-form line sums (NaN for the others, without an update or at step 0).
        out : ndarray of shape (d, n_bins, K) or (K,)
            The root's histogram or channel sums over this shard's rows.
        """
        val_loss = train_loss = np.nan
        if update is not None:
            train_loss, val_loss = self._update(*update)
        n = self.binned.shape[0]
        if rows is None:
            self.part = np.arange(n, dtype=np.int32)
        else:
            self.part = np.flatnonzero(np.unpackbits(rows, count=n)).astype(np.int32)
        m = self.part.size
        self.start[0], self.count[0] = 0, m
        if m == 0:
            empty = np.zeros(self.hist_shape if build_root else self.hist_shape[2])
            return val_loss, train_loss, empty
        targets = self.computer.targets(self.theta, None)
        if targets.channels is not None:  # the kernels' channels, in the driver's layout
            self.channels = targets.channels
        else:  # wᵢgᵢ and the packed wᵢFᵢ, as the local grower's channels
            assert targets.target is not None and targets.packed is not None
            p = targets.target.shape[1]
            if self.channels.shape[0] != n:
                self.channels = np.empty((n, p + targets.packed.shape[1]))
            self.channels[:, :p] = targets.target
            self.channels[:, p:] = targets.packed
        if not build_root:
            sums = np.empty(self.channels.shape[1] + 1)
            node_sums(self.part, 0, m, self.channels, sums)
            return val_loss, train_loss, sums
        hist = np.zeros(self.hist_shape)  # inactive features: zeros, not garbage, to sum
        build_histogram(
            self.binned, self.part, 0, m, features, self.channels, hist, self.partials,
            self.n_threads, rows is None,
        )  # fmt: skip
        return val_loss, train_loss, hist

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

    def finish(self, splits: list[Split], leaves: list[int], tree: Tree, walk: bool) -> Any:
        """Apply the last ``splits``; the stage's rows of node ``leaves[k]`` are in leaf
        ``k`` of ``tree``; with ``walk`` (a row subsample) the rows left out find theirs by
        walking ``tree``.

        Returns
        -------
        ndarray of shape (n_leaves, N_STATS) or float
            With closed-form line sums, the line search's per-leaf sums over all this
            shard's rows (`FusedStage.leaf_stats`); else this shard's part of L(1), the
            loss at the search's first trial step (`line`).
        """
        closed = self.spec.closed_form
        if self.binned.shape[0] == 0:
            return np.zeros((len(leaves), N_STATS)) if closed else 0.0
        self._apply(splits)
        if walk:
            self.index[:] = -1
        for lf, nd in enumerate(leaves):
            s = self.start[nd]
            self.index[self.part[s : s + self.count[nd]]] = lf
        if walk:
            _walk_unassigned(self.binned, tree, self.missing_bin, self.index)
        if closed:
            assert isinstance(self.computer, FusedComputer)
            return self.computer.fused.leaf_stats(self.theta, self.index, len(leaves))
        self.line_at = self.computer.line(self.theta, tree.leaf_values, self.index)
        return self.line_at(1.0)

    def line(self, rho: float) -> float:
        """This shard's part of L(ρ) = Σ wᵢ S(θᵢ − ρ vᵢ, yᵢ) / w_sum along the stage's tree
        (after `finish`; families without closed-form line sums)."""
        return 0.0 if self.binned.shape[0] == 0 else float(self.line_at(rho))

    def end(self, update: tuple[float, Tree]) -> tuple[float, float]:
        """Apply the last stage's update (as `begin`); returns the partial training loss (as
        `begin`) and validation loss."""
        return self._update(*update)

    def parameters(self) -> tuple[Array, Array | None]:
        """The current θ of the training rows (n, p) and of the validation rows."""
        return np.ascontiguousarray(self.theta), (
            None if self.val_computer is None else np.ascontiguousarray(self.theta_val)
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

    def _update(self, step: float, tree: Tree) -> tuple[float, float]:
        """θ ← θ − step · values[leaf]; returns the partial training loss (NaN with
        closed-form line sums or at step 0) and validation loss."""
        values = tree.leaf_values
        train_loss = np.nan
        if step != 0.0 and self.binned.shape[0]:
            if self.spec.closed_form:  # the driver has the loss from the per-leaf sums
                assert isinstance(self.computer, FusedComputer)
                add_leaf_values(self.theta, values, self.index, -step)
                self.computer.fused.set_params(self.theta, loss=False)
            else:
                train_loss = self.computer.move(self.theta, values, self.index, step, self.line_at)
        elif step != 0.0:
            train_loss = 0.0
        if self.val_computer is None:
            return train_loss, 0.0
        leaf = _leaf_of_binned(self.binned_val, tree, self.missing_bin)
        # As the local trainer: the validation θ moves by the stage's output even at step 0.
        add_leaf_values(self.theta_val, values, leaf, -step)
        return train_loss, self.val_computer.loss(self.theta_val)


def _computer(
    spec: ShardSpec,
    template: Any,
    y: Array,
    w: Array,
    total: float,
    row_weight: Array | None,
    quiet: bool,
) -> StageComputer:
    """`stage_computer` on this shard's rows with the loss weights of all the rows,
    ``w / total`` (``stage_computer`` itself normalises by the weights it is given, which
    here are one shard's): equal weights as one value, as the local fit's kernels read them."""
    equal = w.size > 0 and bool((w == w[0]).all())
    weights = w[:1] / total if equal else w / total
    fused = fused_stage(spec.family, spec.score, spec.config, y, weights)
    if fused is not None:
        return FusedComputer(fused, row_weight, True)
    return GenericComputer(template, spec.score, y, w / total, row_weight, True, quiet)


def _leaf_of_binned(binned: NDArray[np.uint8], tree: Tree, missing_bin: int) -> NDArray[np.int32]:
    """Leaf number of every binned row in ``tree`` (numeric splits only)."""
    leaf = np.full(binned.shape[0], -1, dtype=np.int32)
    _walk_unassigned(binned, tree, missing_bin, leaf)
    return leaf


def _walk_unassigned(
    binned: NDArray[np.uint8], tree: Tree, missing_bin: int, leaf: NDArray[np.int32]
) -> None:
    """``leaf[i]`` for the rows still at -1: their leaf number in ``tree`` (numeric splits
    only), by the local grower's binned walk (`traverse_unassigned`)."""
    n_nodes = tree.n_nodes
    walk = NodeArrays(
        tree.feature, _NO_THRESHOLD, tree.bin_threshold, tree.missing_go_left, tree.left,
        tree.right, np.full(n_nodes, -1, dtype=np.int32), _NO_BITS, missing_bin,
    )  # fmt: skip
    node_leaf = np.full(n_nodes, -1, dtype=np.int32)
    node_leaf[tree.leaf_index] = np.arange(tree.n_leaves, dtype=np.int32)
    traverse_unassigned(binned, leaf, walk, node_leaf)


_NO_THRESHOLD = np.zeros(0)
_NO_BITS = np.zeros((0, N_WORDS), dtype=np.uint32)
