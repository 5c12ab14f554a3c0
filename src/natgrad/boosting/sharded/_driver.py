"""The driver of the sharded engine: one boosting fit over rows held by several shards.

The driver runs the stage loop of the single-machine trainer (`natgrad.boosting._training.
trainer`) with every per-row step delegated to the shards (`Shard`) through a `ShardPool`,
and every decision made here once, on sums of what the shards return (added in shard order,
so a fit is reproducible):

* the bins come from one `BinMapper` fitted on the rows the local engine would sample from
  the concatenated data (all of them up to ``BINNING_SUBSAMPLE`` rows), so every shard bins
  exactly as the local fit does;
* a stage's row subsample is the local fit's own draw (`StageSampler.rows` over the
  concatenated rows, so it does not depend on how the rows are partitioned); each shard
  gets its part as a bit mask with the stage's first round;
* a tree grows level by level: one round asks every shard for the histograms of the level's
  nodes (the smaller child of each split; the larger one is its parent minus it, as on one
  machine), the splits come from the engine's own split search (`find_best_split`) on the
  summed histograms, and the next round applies them. The local grower's best-first order
  splits the same nodes when only the depth limits the tree, so the tree is the same; its
  nodes are renumbered into that order;
* the leaf values come from the summed node sums (`leaf_value`), the line search from the
  summed per-leaf sums (`FusedStage.leaf_stats`; one round) for the families whose compiled
  kernels have closed-form line sums, else from the summed losses at each trial step (one
  round per step after the first), early stopping from the summed validation losses.

Rounds per stage: ``max_depth + 1`` (the root's histograms, one per further level, the
leaves and the line search's sums or first trial step), plus one per further trial step of
the line search without closed-form sums; the update of θ travels with the next stage's
first round.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from natgrad._typing import Array
from natgrad.boosting._hist.binning import BinMapper
from natgrad.boosting._hist.common import Tree
from natgrad.boosting._hist.grow_checks import GrowPlan, make_plan
from natgrad.boosting._hist.histogram import subtract_histograms
from natgrad.boosting._hist.leaf_solve import leaf_value
from natgrad.boosting._hist.predictor import Ensemble
from natgrad.boosting._hist.split_diagonal import diagonal_layout, expand_diagonal
from natgrad.boosting._hist.splitting import find_best_split
from natgrad.boosting._threads import using_threads
from natgrad.boosting._training.early_stopping import EarlyStopping
from natgrad.boosting._training.learners import NativeModel
from natgrad.boosting._training.line_search import search_step
from natgrad.boosting._training.sampling import StageSampler
from natgrad.boosting._training.stage import fused_stage
from natgrad.boosting._training.trainer import FitState, StageLoop

from ._shard import ShardSpec, Split

__all__ = [
    "BINNING_SUBSAMPLE", "LocalPool", "PerShard", "ShardPool", "ShardedTrainer", "binning_rows",
    "shard_args",
]  # fmt: skip

logger = logging.getLogger("natgrad.boosting")

#: Rows the bin edges are computed from (`BinMapper`'s default ``subsample``).
BINNING_SUBSAMPLE = 200_000


class PerShard(list):  # type: ignore[type-arg]
    """An argument of `ShardPool.call` with one value per shard, in shard order (each shard
    gets its own: `shard_args`)."""


def shard_args(args: tuple[Any, ...], k: int) -> tuple[Any, ...]:
    """The arguments of a round for shard ``k``: its item of each `PerShard`."""
    return tuple(a[k] if isinstance(a, PerShard) else a for a in args)


class ShardPool(Protocol):
    """Runs one method on every shard and returns their results in a fixed shard order
    (a `PerShard` argument gives each shard its own value). A pool may have a
    ``row_order`` attribute: per shard, the position of each of its rows in the
    concatenated training rows (absent or None: shard k holds the k-th block of rows)."""

    def call(self, method: str, *args: Any) -> list[Any]: ...


class LocalPool:
    """A `ShardPool` of `Shard` objects in this process (the reference for the tests)."""

    def __init__(self, shards: list[Any]) -> None:
        self.shards = shards
        self.rounds = 0

    def call(self, method: str, *args: Any) -> list[Any]:
        self.rounds += 1
        return [getattr(shard, method)(*shard_args(args, k)) for k, shard in enumerate(self.shards)]


def binning_rows(n: int, seed: int) -> NDArray[np.int64] | None:
    """The rows (sorted) that ``BinMapper(random_state=seed).fit`` reads of ``n`` rows, or
    None for all of them: its draw, so that the shards bin as the local fit does."""
    if n <= BINNING_SUBSAMPLE:
        return None
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, BINNING_SUBSAMPLE, replace=False))


def check_supported(est: Any) -> None:
    """Reject the settings the sharded engine does not run (ValueError naming them)."""
    name = type(est).__name__
    unsupported = {
        "leaf_rule": (est.leaf_rule != "fisher", "'fisher'"),
        "base_learner": (est.base_learner is not None, "None"),
        "monotonic_cst": (est.monotonic_cst is not None, "None"),
        "max_leaves": (est.max_leaves is not None, "None (trees limited by max_depth)"),
        "max_depth": (est.max_depth is None, "an int (trees limited by max_depth)"),
        "validation_fraction": (
            est.validation_fraction is not None,
            "None (pass a distributed eval_set instead)",
        ),
    }
    for param, (bad, expected) in unsupported.items():
        if bad:
            raise ValueError(
                f"The {param!r} parameter of {name} must be {expected}: the distributed "
                f"engine runs only that setting. Got {getattr(est, param)!r} instead."
            )


@dataclass
class _Node:
    depth: int
    sums: Array  # (K,) dense channel sums, the count last
    gain: float = -np.inf  # best split's gain (-inf: not split)
    feature: int = -1
    bin: int = 0
    missing_go_left: bool = False
    left: int = -1  # level-wise number of the left child (the right one is left + 1)
    left_sums: Array | None = None
    param_gains: Array | None = None

    @property
    def count(self) -> float:
        return float(self.sums[-1])


@dataclass
class ShardedTrainer(StageLoop):
    """Runs the boosting stages of one estimator over a `ShardPool`.

    ``estimator``: a local estimator holding the hyper-parameters (`NGBoostRegressor`);
    ``rng``: its `check_random_state` generator, drawn from in the local trainer's order.
    """

    def fit(
        self,
        pool: ShardPool,
        fetch_rows: Callable[[NDArray[np.int64] | None], Array],
        y: Array,
        w: Array,
        n_features: int,
        w_val_sum: float | None,
    ) -> FitState:
        """Fit on the shards of ``pool``.

        Parameters
        ----------
        pool : ShardPool
            The shards, set up with their rows (`Shard`).
        fetch_rows : callable
            ``fetch_rows(rows)``: the feature rows ``rows`` (sorted, of the concatenated
            training data; None: all), shape (len(rows), n_features), for the bin edges.
        y, w : ndarray of shape (n,)
            All training targets and weights in shard order (for θ⁽⁰⁾ and the loss weights).
        n_features : int
        w_val_sum : float or None
            The total validation weight; None without a validation set.
        """
        est = self.estimator
        check_supported(est)
        fused = fused_stage(self.family, self.score, self.config, y[:1], w[:1])
        closed_form = fused is not None and fused.has_leaf_sums
        theta0 = est._initial_params(y, w, self.family, self.config)
        template = self.family.from_params(theta0, **self.config)
        p = theta0.shape[1]
        n, d = y.shape[0], n_features
        weighted = not bool(np.all(w == 1.0))
        seed, mapper, plan, columns = self._bins_and_plan(fetch_rows, fused, weighted, n, d, p)
        spec = ShardSpec(
            mapper=mapper, family=self.family, config=self.config, score=self.score,
            theta0=theta0, w_sum=float(w.sum()),
            w_val_sum=float(w_val_sum) if w_val_sum is not None else 1.0,
            weighted=weighted, columns=columns, max_nodes=2 ** (plan.max_depth + 1) - 1,
            closed_form=closed_form,
        )  # fmt: skip
        losses = pool.call("setup", spec)
        current = _add([loss for loss, _, _ in losses])
        # Each shard's first row in the concatenated rows (for its part of a row subsample).
        bounds = np.cumsum([0] + [m for _, _, m in losses])
        if bounds[-1] != n:
            raise ValueError(f"the shards hold {bounds[-1]} training rows, not {n}")
        stopping = None
        if w_val_sum is not None:
            stopping = EarlyStopping(_add([v for _, v, _ in losses]), est.n_iter_no_change, est.tol)
        self.train_loss.append(current)
        self.validation_loss.append(np.nan if stopping is None else stopping.best_loss)
        ensemble = Ensemble(p, d, missing_values_bin_idx=mapper.missing_values_bin_idx_)
        line = fused if closed_form else None
        self._run(pool, plan, ensemble, line, n, bounds, current, stopping)

        model = NativeModel(
            n_params=p, max_bins=est.max_bins, max_depth=est.max_depth, max_leaves=None,
            min_samples_leaf=est.min_samples_leaf, l2_regularization=est.l2_regularization,
            leaf_prior=est.leaf_prior, random_state=seed,
        )  # fmt: skip
        model.mapper = mapper
        model.ensemble = ensemble
        model.finish()
        return self._state(theta0, template, model, stopping)

    def _bins_and_plan(
        self,
        fetch_rows: Callable[[NDArray[np.int64] | None], Array],
        fused: Any,
        weighted: bool,
        n: int,
        d: int,
        p: int,
    ) -> tuple[int, BinMapper, GrowPlan, NDArray[np.int64]]:
        """The bin mapper's seed (the fit's first draw, as the local trainer's), the mapper
        fitted on the local trainer's binning rows, the trees' grow plan and the Fisher
        channels the shards send (``columns``)."""
        est = self.estimator
        # The local trainer's draws, in its order: the bin mapper's seed first.
        seed = self.rng.randint(np.iinfo(np.int32).max)
        mapper = BinMapper(max_bins=est.max_bins, subsample=None, random_state=seed)
        mapper.fit(fetch_rows(binning_rows(n, seed)))
        mapper.random_state = seed
        mapper.subsample = BINNING_SUBSAMPLE
        # The channels' layout of the local trainer's computer (`FusedComputer.targets`; the
        # generic computer's is dense).
        diagonal = None if fused is None else fused.metric_diagonal(weighted)
        layout = None
        if diagonal is not None and p > 1:
            layout = diagonal_layout(diagonal)
            columns = layout[2]
        else:
            columns = np.arange(p * (p + 1) // 2, dtype=np.int64)
        prior = est.leaf_prior  # the Fisher rule's (`check_supported`)
        plan = make_plan(
            np.zeros((0, d), dtype=np.uint8), p, True, layout, max_depth=est.max_depth,
            max_leaves=None, min_samples_leaf=est.min_samples_leaf,
            l2_regularization=est.l2_regularization, leaf_prior=prior, min_gain_to_split=0.0,
            n_bins_non_missing=mapper.n_bins_non_missing_,
            missing_values_bin_idx=mapper.missing_values_bin_idx_,
            bin_thresholds=mapper.bin_thresholds_, monotonic_cst=None, is_categorical=None,
        )  # fmt: skip
        return seed, mapper, plan, columns

    def _run(
        self,
        pool: ShardPool,
        plan: GrowPlan,
        ensemble: Ensemble,
        fused: Any,
        n: int,
        bounds: NDArray[np.int64],
        current: float,
        stopping: EarlyStopping | None,
    ) -> None:
        """The stages (fewer when early stopping ends the fit), appended to ``ensemble``,
        their losses recorded; ``fused``: the family's compiled stage when its line search
        runs on the leaves' sums (closed form), else None (a round of the shards a step).
        One whole loop: a stage's rounds carry the previous stage's step and losses."""
        est = self.estimator
        d = ensemble.n_features
        closed_form = fused is not None
        grower = _LevelGrower(plan, ensemble.n_params)
        sampler = StageSampler(self.rng, est.subsample, est.colsample)
        update: tuple[float, Tree] | None = None
        stopped = False
        # Without closed-form line sums, the training loss after a stage's step comes back
        # with the next round that applies it (`Shard.begin`, `Shard.end`).
        pending = False
        for stage in range(est.n_estimators):
            rows = sampler.rows(n)  # the local trainer's draws, in its order
            mask = sampler.features(d)
            features = plan.features if mask is None else np.flatnonzero(mask).astype(np.int32)
            order = getattr(pool, "row_order", None)
            masks = None if rows is None else _row_masks(rows, bounds, order)
            m = n if rows is None else rows.size
            val_partials, train_partials, tree, leaves = grower.grow(
                pool, update, features, m, masks
            )
            if pending:
                current = _add(train_partials)
                self.train_loss.append(current)
            if update is not None and stopping is not None:
                # The last stage's validation loss came back with this stage's first round.
                stopped = self._validate(stopping, _add(val_partials), stage)
                if stopped:
                    break
            # With a row subsample, the rows left out find their leaf by walking the tree.
            out = _add(pool.call("finish", grower.pending, leaves, tree, rows is not None))
            values = tree.leaf_values
            along: Callable[[float], float]
            if closed_form:
                along = partial(fused.stats_loss, out, values)
            else:
                along = _LineRounds(pool, float(out))
            rho, _ = search_step(along, loss_at_zero=current)
            step = est.learning_rate * rho
            pending = step != 0.0 and not closed_form
            if step != 0.0 and closed_form:
                current = along(step)
            ensemble.append(tree, -step)
            if not pending:
                self.train_loss.append(current)
            update = (step, tree)
            if stopping is None:
                self.validation_loss.append(np.nan)
        if not stopped and update is not None:
            ends = pool.call("end", update)
            if pending:
                self.train_loss.append(_add([t for t, _ in ends]))
            if stopping is not None:
                self._validate(stopping, _add([v for _, v in ends]), est.n_estimators)

    def _validate(self, stopping: EarlyStopping, value: float, n_done: int) -> bool:
        """Record the validation loss after ``n_done`` stages; True when the fit stops."""
        self.validation_loss.append(value)
        stop = stopping.update(value, n_done)
        if stop:
            logger.info("early stopping after %d stages", n_done)
        return stop


class _LineRounds:
    """L(ρ) for the line search without closed-form sums: one round per trial step, each
    shard's part summed in shard order; L(1) came with the leaves' round (`Shard.finish`),
    and a step tried twice (a doubling's last, then the first halving) is not asked again."""

    def __init__(self, pool: ShardPool, at_one: float) -> None:
        self.pool = pool
        self.known = {1.0: at_one}

    def __call__(self, rho: float) -> float:
        if rho not in self.known:
            self.known[rho] = float(_add(self.pool.call("line", rho)))
        return self.known[rho]


class _LevelGrower:
    """Grows one tree level by level from the shards' histograms (module docstring)."""

    def __init__(self, plan: GrowPlan, p: int) -> None:
        self.plan = plan
        self.p = p
        self.K = p + p * (p + 1) // 2 + 1  # dense node sums (the Fisher rule's layout)
        self.lower = np.full(p, -np.inf)
        self.upper = np.full(p, np.inf)
        self.pending: list[Split] = []

    def grow(
        self,
        pool: ShardPool,
        update: tuple[float, Tree] | None,
        features: NDArray[np.int32],
        m: int,
        masks: PerShard | None,
    ) -> tuple[list[float], list[float], Tree, list[int]]:
        """One tree on the stage's ``m`` rows (``masks``: each shard's part of the row
        subsample, None for all rows): returns the shards' partial validation and training
        losses after the last stage's update (from the first round, `Shard.begin`), the tree
        and its leaves' level-wise nodes; the splits still to apply are in ``pending``, for
        the shards' `Shard.finish`."""
        plan, sp = self.plan, self.plan.split
        min_split = 2 * plan.min_samples_leaf
        # The local grower's cap on the leaves of a tree grown on m rows (`grow_planned`).
        max_leaves = min(plan.depth_cap, max(1, m // plan.min_samples_leaf))
        splittable = plan.max_depth > 0 and m >= min_split and features.size > 0
        splittable = splittable and max_leaves > 1
        results = pool.call("begin", update, features, splittable, masks)
        val_partials = [v for v, _, _ in results]
        train_partials = [t for _, t, _ in results]
        first = _add([out for _, _, out in results])
        hists: dict[int, Array] = {}
        if splittable:
            hists[0] = first
            h_sums = first[features[0]].sum(axis=0)  # the root's sums, as the local grower
        else:
            h_sums = first
        root = np.empty(self.K)
        if sp.diag_map.size > 0:
            expand_diagonal(h_sums, self.p, sp.diag_map, sp.diag_const, root)
        else:
            root[:] = h_sums
        nodes = [_Node(0, root)]
        check = [0] if splittable else []
        self.pending = []
        while check:
            # The split search scans one node's histogram (d x n_bins): tens of
            # microseconds on the calling thread alone, while a parallel region took tens of
            # milliseconds where a Dask client's threads share the process (its pool's
            # threads wait for a time slice at the region's barrier).
            with using_threads(1):
                for c in check:
                    self._search(nodes[c], hists[c], features)
            build: list[int] = []
            plans: list[tuple[int, int, int, list[int]]] = []
            for c in check:
                node = nodes[c]
                if node.gain == -np.inf:
                    continue
                assert node.left_sums is not None
                lc = len(nodes)
                node.left = lc
                nodes.append(_Node(node.depth + 1, node.left_sums.copy()))
                nodes.append(_Node(node.depth + 1, node.sums - node.left_sums))
                self.pending.append(Split(c, node.feature, node.bin, node.missing_go_left, lc))
                small, large = (lc, lc + 1) if nodes[lc].count <= nodes[lc + 1].count else (
                    lc + 1, lc
                )  # fmt: skip
                kids = [
                    k for k in (small, large)
                    if nodes[k].depth < plan.max_depth and nodes[k].count >= min_split
                ]  # fmt: skip
                if kids:
                    build.append(small)
                    plans.append((c, small, large, kids))
            if not build:
                break
            built = _add(pool.call("split", self.pending, build, features))
            self.pending = []
            check = []
            for j, (c, small, large, kids) in enumerate(plans):
                hists[small] = built[j]
                if large in kids:
                    parent = hists[c]
                    subtract_histograms(parent, hists[small], features)
                    hists[large] = parent
                del hists[c]
                check += kids
        tree, leaves = self._tree(nodes, max_leaves)
        return val_partials, train_partials, tree, leaves

    def _search(self, node: _Node, hist: Array, features: NDArray[np.int32]) -> None:
        node.left_sums = np.empty(self.K)
        node.param_gains = np.empty(self.p)
        gain, f, b, mgl = find_best_split(
            hist, features, node.sums, self.lower, self.upper, node.left_sums,
            node.param_gains, self.plan.split,
        )  # fmt: skip
        node.gain, node.feature = float(gain), int(f)
        node.bin, node.missing_go_left = int(b), bool(mgl)

    def _tree(self, nodes: list[_Node], max_leaves: int) -> tuple[Tree, list[int]]:
        """The tree in the local grower's best-first node order, and its leaves' level-wise
        nodes in leaf order. The best-first growth stops at ``max_leaves`` leaves, as the
        local grower does (a node split level-wise beyond it is a leaf: its rows are still
        one slice of the shards' partitions)."""
        plan, p = self.plan, self.p
        # Best-first: the leaf with the largest split gain splits next (ties: lowest node).
        order = [0]  # level-wise node of each best-first node
        leaves = {0}
        split_nodes: set[int] = set()
        while len(leaves) < max_leaves:
            best, best_gain = -1, -np.inf
            for b in sorted(leaves):
                node = nodes[order[b]]
                if node.left >= 0 and node.gain > best_gain:
                    best, best_gain = b, node.gain
            if best < 0:
                break
            leaves.discard(best)
            split_nodes.add(order[best])
            lc = nodes[order[best]].left
            leaves.update((len(order), len(order) + 1))
            order += [lc, lc + 1]
        bf_of = {lw: bf for bf, lw in enumerate(order)}
        n_nodes = len(order)
        feature = np.full(n_nodes, -1, dtype=np.int32)
        bin_thr = np.zeros(n_nodes, dtype=np.uint8)
        mgl = np.zeros(n_nodes, dtype=np.bool_)
        left = np.full(n_nodes, -1, dtype=np.int32)
        right = np.full(n_nodes, -1, dtype=np.int32)
        value = np.zeros((n_nodes, p))
        gain = np.zeros((n_nodes, p))
        split_gain = np.zeros(n_nodes)
        count = np.zeros(n_nodes, dtype=np.int64)
        depth = np.zeros(n_nodes, dtype=np.int32)
        work, z = np.empty((p, p)), np.empty(p)
        sp = plan.split
        for bf, lw in enumerate(order):
            node = nodes[lw]
            leaf_value(node.sums, p, True, sp.l2, work, z, value[bf], sp.prior)
            count[bf] = int(node.count)
            depth[bf] = node.depth
            if lw in split_nodes:
                assert node.param_gains is not None
                feature[bf] = node.feature
                bin_thr[bf] = node.bin
                mgl[bf] = node.missing_go_left
                left[bf], right[bf] = bf_of[node.left], bf_of[node.left + 1]
                gain[bf] = node.param_gains
                split_gain[bf] = node.gain
        threshold = np.full(n_nodes, np.nan)
        split = feature >= 0
        threshold[split] = plan.thresholds[feature[split], bin_thr[split]]
        leaf_index = np.flatnonzero(~split).astype(np.int32)
        tree = Tree(
            feature, bin_thr, threshold, mgl, left, right, value, gain, split_gain, count, depth,
            leaf_index, value[leaf_index].copy(),
        )  # fmt: skip
        return tree, [order[bf] for bf in leaf_index.tolist()]


def _row_masks(
    rows: NDArray[np.int32], bounds: NDArray[np.int64], order: list[Any] | None = None
) -> PerShard:
    """Each shard's part of the sorted row subsample ``rows`` of the concatenated rows, as a
    bit mask over its own rows (`numpy.packbits`; shard k holds rows ``bounds[k]`` to
    ``bounds[k + 1] - 1``, or with ``order`` the rows ``order[k]``)."""
    if order is not None:
        taken_all = np.zeros(int(bounds[-1]), dtype=np.bool_)
        taken_all[rows] = True
        return PerShard(np.packbits(taken_all[idx]) for idx in order)
    cuts = np.searchsorted(rows, bounds)
    masks = PerShard()
    for k in range(bounds.size - 1):
        taken = np.zeros(int(bounds[k + 1] - bounds[k]), dtype=np.bool_)
        taken[rows[cuts[k] : cuts[k + 1]] - bounds[k]] = True
        masks.append(np.packbits(taken))
    return masks


def _add(parts: list[Any]) -> Any:
    """Sum of the shards' results in shard order (a fixed order: reproducible sums)."""
    total = parts[0] if np.ndim(parts[0]) == 0 else np.array(parts[0], dtype=np.float64)
    for part in parts[1:]:
        total = total + part
    return total
