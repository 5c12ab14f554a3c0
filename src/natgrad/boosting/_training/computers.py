"""Stage computers: a boosting stage's per-row work behind one small interface.

A stage needs, from the current parameters θ (n, p): the loss, the learner's targets, the
line search's objective along the fitted tree's direction, the update of θ, and (for the
``"ngboost"`` rule's descent fallback) Fisher leaf values. Two implementations compute them:

* `FusedComputer`: the compiled per-row kernels of the common (family, log score) pairs
  (`natgrad.boosting._training.stage`), writing into arrays allocated once per fit;
* `GenericComputer`: any family and score, through their NumPy methods.

`stage_computer` picks one; the trainer (`natgrad.boosting._training.trainer`) sees only the
`StageComputer` protocol, so it has no branch per implementation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

import numpy as np
from numpy.typing import NDArray

from natgrad._typing import Array
from natgrad.boosting._hist.grow_checks import pack_metric
from natgrad.boosting._hist.partition import add_leaf_values
from natgrad.boosting._hist.split_diagonal import diagonal_layout
from natgrad.boosting._training.rowsolve import row_natural_gradients
from natgrad.boosting._training.stage import FusedStage, fused_stage
from natgrad.distributions import Distribution
from natgrad.scores import Score

__all__ = ["FusedComputer", "GenericComputer", "StageComputer", "StageTargets", "stage_computer"]

#: Maps the mean Fisher diagonal (p,) to the "ngboost" rule's column units (p,).
Units = Callable[[Array], Array]
#: Each row's leaf (n,), int32.
Index = NDArray[np.int32]
#: The line search's objective ρ ↦ L(ρ).
Line = Callable[[float], float]


class StageTargets(NamedTuple):
    """What the learner fits in one stage (the arguments of `NativeModel.fit_stage_leaves`).

    ``target`` (n, p) with ``packed`` (n, p (p + 1) / 2) the weighted gradients and packed
    Fisher blocks (the "fisher" rule, generic path), or with ``packed`` None the per-row
    natural gradients F⁻¹g (the "ngboost" rule) weighted by ``sample_weight`` (None: unit
    weights); the fused "fisher" rule passes ``channels`` (the grower's histogram channels)
    and ``metric_diagonal`` instead. ``unit`` (p,): the factors the columns of ``target``
    were multiplied by (the "ngboost" rule's balance), else None.
    """

    target: Array | None
    packed: Array | None
    sample_weight: Array | None
    unit: Array | None
    metric_diagonal: Array | None
    channels: Array | None


class StageComputer(Protocol):
    """The per-row work of a stage on one set of rows (training or validation)."""

    def start(self, theta0: Array, n: int) -> Array:
        """θ⁽⁰⁾ (1, p) repeated for the ``n`` rows, in the layout the computer reads."""
        ...

    def loss(self, theta: Array) -> float:
        """The weighted mean score at ``theta``; call after every change of ``theta``."""
        ...

    def targets(self, theta: Array, units: Units | None) -> StageTargets:
        """The stage's targets at ``theta`` (its last `loss`); ``units`` balances the
        "ngboost" rule's columns."""
        ...

    def line(self, theta: Array, values: Array, index: Index) -> Line:
        """L(ρ) = loss(θ − ρ values[index]), the line search's objective."""
        ...

    def move(self, theta: Array, values: Array, index: Index, step: float, line: Line) -> float:
        """θ ← θ − step values[index] in place; return the loss there."""
        ...

    def fisher_targets(self, theta: Array) -> tuple[Array, Array]:
        """wᵢgᵢ (n, p) and the packed wᵢFᵢ (n, p (p + 1) / 2) at ``theta``: the "ngboost"
        rule's descent fallback refits its tree's leaves with them (`natgrad.boosting.
        _training.descent`). Overwrites the buffer of the last `targets`."""
        ...


def stage_computer(
    family: type[Distribution],
    score: Score,
    config: dict[str, Any],
    template: Distribution,
    y: Array,
    weights: Array,
    *,
    row_weight: Array | None,
    fisher_leaves: bool,
    quiet: bool = True,
) -> StageComputer:
    """The compiled computer where ``(family, score)`` has kernels, else the generic one.

    Parameters
    ----------
    family, score, config
        The fit's family, scoring rule and family configuration.
    template : Distribution
        The family at θ⁽⁰⁾, with its configuration.
    y : ndarray of shape (n,) or (n, k)
        Validated targets.
    weights : ndarray of shape (n,)
        Sample weights (any positive sum; a read-only view of one value is fine). The loss
        weighs row i by ``weights[i] / weights.sum()``; the compiled path keeps equal
        weights as one value instead of an (n,) array.
    row_weight : ndarray of shape (n,) or None
        The sample weights the targets carry; None for unit weights.
    fisher_leaves : bool
        Targets for the "fisher" leaf rule (else the "ngboost" rule's F⁻¹g).
    quiet : bool, default=True
        The generic loss ignores floating-point warnings (the line search's trial steps
        may overflow; it rejects them).
    """
    total = weights.sum()
    # All weights equal (unit weights, the common case): the compiled kernels read their one
    # normalised value, the same number as every entry of weights / total.
    equal = bool((weights == weights[0]).all())
    fused = fused_stage(family, score, config, y, weights[:1] / total if equal else weights / total)
    if fused is not None:
        return FusedComputer(fused, row_weight, fisher_leaves)
    return GenericComputer(template, score, y, weights / total, row_weight, fisher_leaves, quiet)


class FusedComputer:
    """`StageComputer` of the compiled stage kernels (`FusedStage`).

    The kernels write the stage's targets into arrays allocated at the first stage and
    reused: F⁻¹g for the "ngboost" rule (with g and F for its descent fallback, allocated
    when it first runs), the histogram channels for the "fisher" rule, which the grower
    reads directly (no copy).
    """

    def __init__(self, fused: FusedStage, row_weight: Array | None, fisher_leaves: bool) -> None:
        self.fused = fused
        self.row_weight = row_weight
        self.fisher_rule = fisher_leaves
        self._grad: Array | None = None
        self._packed: Array | None = None
        self._channels: Array | None = None
        self._columns: Array | None = None
        self._diagonal: Array | None = None

    def start(self, theta0: Array, n: int) -> Array:
        # Column-major: the kernels' exponential of one parameter reads a contiguous column.
        return np.asfortranarray(np.repeat(theta0, n, axis=0))

    def loss(self, theta: Array) -> float:
        # Also caches the kernels' per-row exponentials of these parameters.
        return self.fused.set_params(theta)

    def targets(self, theta: Array, units: Units | None) -> StageTargets:
        fused, row_w = self.fused, self.row_weight
        n, p = theta.shape
        if self.fisher_rule:
            if self._channels is None:
                # The same for every stage: the family's structure and the weights.
                diagonal = fused.metric_diagonal(row_w is not None)
                if diagonal is not None and p > 1:
                    columns = diagonal_layout(diagonal)[2]
                else:
                    diagonal, columns = None, np.arange(p * (p + 1) // 2)
                self._diagonal, self._columns = diagonal, columns
                self._channels = np.empty((n, p + columns.size))
            assert self._columns is not None
            fused.gradient_channels(theta, row_w, self._columns, self._channels)
            return StageTargets(None, None, None, None, self._diagonal, self._channels)
        if self._grad is None:
            self._grad = np.empty((n, p))
        fisher_mean = None if units is None else fused.mean_fisher_diagonal(row_w)
        unit = None if fisher_mean is None or units is None else units(fisher_mean)
        fused.natural_gradient(theta, self._grad, unit)
        return StageTargets(self._grad, None, row_w, unit, None, None)

    def line(self, theta: Array, values: Array, index: Index) -> Line:
        return self.fused.line(theta, values, index)

    def move(self, theta: Array, values: Array, index: Index, step: float, line: Line) -> float:
        current = line(step)  # before θ and the kernels' cache move
        add_leaf_values(theta, values, index, -step)
        self.fused.set_params(theta, loss=False)
        return current

    def fisher_targets(self, theta: Array) -> tuple[Array, Array]:
        n, p = theta.shape
        if self._grad is None:
            self._grad = np.empty((n, p))
        if self._packed is None:
            self._packed = np.empty((n, p * (p + 1) // 2))
        self.fused.gradient_and_metric(theta, self.row_weight, self._grad, self._packed)
        return self._grad, self._packed


class GenericComputer:
    """`StageComputer` of any family and score, through their NumPy methods."""

    def __init__(
        self,
        template: Distribution,
        score: Score,
        y: Array,
        weights: Array,
        row_weight: Array | None,
        fisher_leaves: bool,
        quiet: bool,
    ) -> None:
        self.template = template
        self.score = score
        self.y = y
        self.weights = weights
        self.row_weight = row_weight
        self.fisher_rule = fisher_leaves
        self.quiet = quiet
        # Mean Fisher diagonal of the last targets (the "ngboost" rule's units).
        self._fisher_mean: Array | None = None

    def start(self, theta0: Array, n: int) -> Array:
        return np.repeat(theta0, n, axis=0)

    def loss(self, theta: Array) -> float:
        dist = self.template.with_params(theta, validate=False)
        if not self.quiet:
            return float(self.weights @ self.score._score(dist, self.y))
        # Trial steps of the line search may overflow; the search rejects them.
        with np.errstate(all="ignore"):
            return float(self.weights @ self.score._score(dist, self.y))

    def targets(self, theta: Array, units: Units | None) -> StageTargets:
        target, packed, sw = self._targets(theta, self.fisher_rule)
        unit = None
        if units is not None:
            assert self._fisher_mean is not None
            unit = units(self._fisher_mean)
            target *= unit  # a fresh array
        return StageTargets(target, packed, sw, unit, None, None)

    def _targets(
        self, theta: Array, fisher_leaves: bool
    ) -> tuple[Array, Array | None, Array | None]:
        """(wg, wF packed, None) for Fisher leaves, (F⁻¹g, None, w) for the ngboost rule."""
        dist = self.template.with_params(theta, validate=False)
        grad = self.score._grad(dist, self.y)
        metric = self.score.metric_at(dist, self.y)
        diag = np.einsum("ikk->ik", metric)
        row_w = self.row_weight
        with np.errstate(over="ignore", invalid="ignore"):
            self._fisher_mean = np.average(diag, axis=0, weights=row_w)
        if fisher_leaves:
            packed = pack_metric(metric)
            if row_w is not None:
                grad, packed = grad * row_w[:, None], packed * row_w[:, None]
            return grad, packed, None
        return row_natural_gradients(grad, metric), None, row_w

    def line(self, theta: Array, values: Array, index: Index) -> Line:
        direction = np.take(values, index, axis=0)
        return lambda rho: self.loss(theta - rho * direction)

    def move(self, theta: Array, values: Array, index: Index, step: float, line: Line) -> float:
        # θ += (−step)·d in place: the same numbers as θ − step·d.
        add_leaf_values(theta, values, index, -step)
        return self.loss(theta)

    def fisher_targets(self, theta: Array) -> tuple[Array, Array]:
        grad, packed, _ = self._targets(theta, True)
        assert packed is not None  # the Fisher targets always carry the metric
        return grad, packed
