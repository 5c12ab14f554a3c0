"""The stage loop of natural-gradient boosting, kept apart from the scikit-learn front end.

`Trainer.fit` runs the algorithm of DESIGN.md on validated arrays and returns the fitted state
(`FitState`), which the estimator assigns: the marginal fit, the model (native histogram trees
or external learners), the per-stage losses and the chosen stage.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from natgrad._typing import Array
from natgrad.boosting._hist.categorical import n_categories
from natgrad.boosting._hist.grow_checks import pack_metric
from natgrad.boosting._hist.partition import add_leaf_values
from natgrad.boosting._hist.split_diagonal import diagonal_layout
from natgrad.boosting._training.descent import fisher_leaf_values
from natgrad.boosting._training.learners import ExternalModel, NativeModel
from natgrad.boosting._training.line_search import search_step
from natgrad.boosting._training.rowsolve import row_natural_gradients
from natgrad.boosting._training.stage import FusedStage, fused_stage
from natgrad.distributions import Distribution
from natgrad.scores import Score

logger = logging.getLogger("natgrad.boosting")


class FitState(NamedTuple):
    """What a fit produces; the estimator assigns it to its fitted attributes."""

    init_params: Array  # (1, p), the marginal fit θ⁽⁰⁾
    template: Distribution  # the family at θ⁽⁰⁾, with its configuration
    model: NativeModel | ExternalModel
    n_estimators: int
    best_iteration: int
    train_loss: Array  # (n_estimators + 1,)
    validation_loss: Array  # (n_estimators + 1,), NaN without a validation set


@dataclass
class Trainer:
    """Runs the boosting stages for one estimator."""

    estimator: Any
    family: type[Distribution]
    config: dict[str, Any]
    score: Score
    rng: np.random.RandomState
    train_loss: list[float] = field(default_factory=list)
    validation_loss: list[float] = field(default_factory=list)
    # Mean Fisher diagonal of the generic path's last targets (the "ngboost" rule's units).
    _fisher_mean: Array | None = None
    # The row subsample's uniforms, seeded once per fit from ``rng``.
    _row_uniforms: np.random.Generator | None = None

    def fit(
        self,
        X: Array,
        y: Array,
        w: Array,
        X_val: Array | None,
        y_val: Array | None,
        w_val: Array | None,
    ) -> FitState:
        """Run the stages on validated arrays; the estimator assigns the returned state."""
        est = self.estimator
        theta0 = est._initial_params(y, w, self.family, self.config)
        template = self.family.from_params(theta0, **self.config)
        n, p = X.shape[0], theta0.shape[1]
        theta = np.repeat(theta0, n, axis=0)
        w_norm = w / w.sum()

        # Common (family, score) pairs run the stage's per-row work compiled (`_stage`);
        # the others, through the family's and the score's NumPy methods.
        fused = fused_stage(self.family, self.score, self.config, y, w_norm)
        if fused is not None:
            # Column-major: the kernels' exponential of one parameter reads a contiguous column.
            theta = np.asfortranarray(theta)

        def loss(params: Array) -> float:
            if fused is not None:
                # Also caches the kernels' per-row exponentials of these parameters.
                return fused.set_params(params)
            dist = template.with_params(params, validate=False)
            # Trial steps of the line search may overflow; the search rejects them.
            with np.errstate(all="ignore"):
                return float(w_norm @ self.score._score(dist, y))

        has_val = X_val is not None
        if X_val is not None:
            assert y_val is not None and w_val is not None  # set together by the caller
            theta_val = np.repeat(theta0, X_val.shape[0], axis=0)
            if fused is not None:
                theta_val = np.asfortranarray(theta_val)
            wv_norm = w_val / w_val.sum()
            fused_val = (
                None
                if fused is None
                else fused_stage(self.family, self.score, self.config, y_val, wv_norm)
            )

            def val_loss(params: Array) -> float:
                if fused_val is not None:
                    return fused_val.set_params(params)
                dist = template.with_params(params, validate=False)
                return float(wv_norm @ self.score._score(dist, y_val))

        monotonic_cst = est._monotonic_constraints(template.param_names, X.shape[1])
        if est.base_learner is None:
            model: NativeModel | ExternalModel = NativeModel(
                n_params=p,
                max_bins=est.max_bins,
                max_depth=est.max_depth,
                max_leaves=est.max_leaves,
                min_samples_leaf=est.min_samples_leaf,
                l2_regularization=est.l2_regularization,
                # The leaf prior belongs to the Fisher leaves (docs/design.md "Leaf prior").
                leaf_prior=est.leaf_prior if est.leaf_rule == "fisher" else 0.0,
                random_state=self.rng.randint(np.iinfo(np.int32).max),
                n_categories=n_categories(getattr(est, "categories_", None), X.shape[1]),
                monotonic_cst=monotonic_cst,
            )
        else:
            model = ExternalModel(n_params=p, base_learner=est.base_learner)
        model.start(X, X_val)

        current = loss(theta)
        self.train_loss.append(current)
        best_val = val_loss(theta_val) if has_val else np.nan
        self.validation_loss.append(best_val)
        best_stage, stale = 0, 0
        use_fisher_leaves = est.leaf_rule == "fisher" and est.base_learner is None
        # Monotone trees keep their clipped values: no Fisher refit of their leaves.
        fallback = est.base_learner is None and not use_fisher_leaves and monotonic_cst is None
        # Unit weights (the common case) skip a weighted copy of g and F every stage.
        row_w = None if np.all(w == 1.0) else w
        # The "ngboost" rule's shared tree fits all p columns of F⁻¹g at once: its split gain
        # adds their squared errors, so the columns are put in one unit first
        # (docs/design.md "Balanced splits for the ngboost rule").
        balance = not use_fisher_leaves and isinstance(model, NativeModel) and p > 1
        diagonal = channels = columns = None
        if fused is not None:
            # The fused kernels write the stage's targets into these every stage: F⁻¹g for
            # the "ngboost" rule (with g and F for its descent fallback), the histogram
            # channels for the "fisher" rule.
            if not use_fisher_leaves:
                grad_buf = np.empty((n, p))
                packed_buf = np.empty((n, p * (p + 1) // 2))
            else:
                # The same for every stage: the family's structure and the weights. The
                # kernels write the grower's histogram channels directly (no copy).
                diagonal = fused.metric_diagonal(row_w is not None)
                if diagonal is not None and p > 1:
                    columns = diagonal_layout(diagonal)[2]
                else:
                    diagonal, columns = None, np.arange(p * (p + 1) // 2)
                channels = np.empty((n, p + columns.size))

        progress = _progress(est)
        # The stage loop's BLAS calls are tiny dot products. Multi-threaded BLAS gains nothing
        # there, and its spinning threads fight the compiled kernels' OpenMP threads for the
        # cores: on two cores that made a stage up to 4x slower (docs/benchmarks.md).
        blas = threadpool_limits(limits=1, user_api="blas")
        try:
            for stage in range(est.n_estimators):
                rows = self._rows(n, est.subsample)
                features = self._features(X.shape[1], est.colsample)
                unit = None  # the "ngboost" rule's column units, when balanced
                if fused is not None:
                    if use_fisher_leaves:
                        assert channels is not None and columns is not None
                        fused.gradient_channels(theta, row_w, columns, channels)
                        target, packed, sw = None, None, None
                    else:
                        fisher_mean = fused.mean_fisher_diagonal(row_w) if balance else None
                        unit = None if fisher_mean is None else _balance_units(fisher_mean)
                        fused.natural_gradient(theta, grad_buf, unit)
                        target, packed, sw = grad_buf, None, row_w
                else:
                    target, packed, sw = self._generic_targets(
                        template, theta, y, row_w, use_fisher_leaves
                    )
                    if balance:
                        assert target is not None and self._fisher_mean is not None
                        unit = _balance_units(self._fisher_mean)
                        target *= unit  # a fresh array of the generic path
                # The stage's direction for row i is values[index[i]] (leaf values and
                # each row's leaf for a tree).
                values, index = model.fit_stage_leaves(
                    target, packed, sw, rows, features, metric_diagonal=diagonal, channels=channels
                )
                if unit is not None:
                    assert isinstance(model, NativeModel)
                    values = model.unscale_pending(1.0 / unit)
                step, current = _search_and_update(
                    fused, loss, theta, values, index, current, est.learning_rate
                )
                if step == 0.0 and fallback and isinstance(model, NativeModel):
                    # No step along the "ngboost" leaves lowers the loss (not a descent
                    # direction): the same tree with Fisher leaves is one (`_descent`).
                    values = self._fisher_leaves(
                        fused,
                        None if fused is None else (grad_buf, packed_buf),
                        template, theta, y, row_w, rows, index, values.shape[0],
                    )  # fmt: skip
                    model.set_leaf_values(values)
                    step, current = _search_and_update(
                        fused, loss, theta, values, index, current, est.learning_rate
                    )
                model.commit(-step)
                self.train_loss.append(current)
                if has_val:
                    theta_val += model.last_stage_validation()
                    value = val_loss(theta_val)
                    self.validation_loss.append(value)
                    if value < best_val - est.tol:
                        best_val, best_stage, stale = value, stage + 1, 0
                    else:
                        stale += 1
                    if est.n_iter_no_change is not None and stale >= est.n_iter_no_change:
                        logger.info("early stopping after %d stages", stage + 1)
                        progress.update(1)
                        break
                else:
                    self.validation_loss.append(np.nan)
                progress.update(1)
                if stage % 10 == 0 or stage == est.n_estimators - 1:
                    post = {"train": f"{current:.4f}"}
                    if has_val:
                        post["val"] = f"{self.validation_loss[-1]:.4f}"
                    progress.set_postfix(post, refresh=False)
        finally:
            blas.restore_original_limits()
            progress.close()

        model.finish()
        return FitState(
            init_params=theta0,
            template=template,
            model=model,
            n_estimators=model.n_stages,
            best_iteration=best_stage if has_val else model.n_stages,
            train_loss=np.asarray(self.train_loss),
            validation_loss=np.asarray(self.validation_loss),
        )

    def _generic_targets(
        self,
        template: Distribution,
        theta: Array,
        y: Array,
        row_w: Array | None,
        use_fisher_leaves: bool,
    ) -> tuple[Array, Array | None, Array | None]:
        """The stage's (target, packed metric, sample weight) through the family's and the
        score's NumPy methods: (wg, wF packed, None) for Fisher leaves, (F⁻¹g, None, w)
        for the ngboost rule."""
        dist = template.with_params(theta, validate=False)
        grad = self.score._grad(dist, y)
        metric = self.score.metric_at(dist, y)
        diag = np.einsum("ikk->ik", metric)
        with np.errstate(over="ignore", invalid="ignore"):
            self._fisher_mean = np.average(diag, axis=0, weights=row_w)
        if use_fisher_leaves:
            packed = pack_metric(metric)
            if row_w is not None:
                grad, packed = grad * row_w[:, None], packed * row_w[:, None]
            return grad, packed, None
        return row_natural_gradients(grad, metric), None, row_w

    def _fisher_leaves(
        self,
        fused: FusedStage | None,
        buffers: tuple[Array, Array] | None,
        template: Distribution,
        theta: Array,
        y: Array,
        row_w: Array | None,
        rows: np.ndarray | None,
        index: NDArray[np.int32],
        n_leaves: int,
    ) -> Array:
        """The descent fallback (`_descent`): the "fisher" rule's values (n_leaves, p) of
        the stage's tree, whose rows' leaves are ``index``."""
        packed: Array | None
        if buffers is not None:
            # The stage's buffers: its tree is grown, so they are free to overwrite.
            assert fused is not None
            grad, packed = buffers
            fused.gradient_and_metric(theta, row_w, grad, packed)
        else:
            grad, packed, _ = self._generic_targets(template, theta, y, row_w, True)
        assert packed is not None  # the Fisher targets always carry the metric
        est = self.estimator
        return fisher_leaf_values(
            grad, packed, index, n_leaves, rows, est.l2_regularization, est.leaf_prior
        )

    def _rows(self, n: int, subsample: float) -> np.ndarray | None:
        if subsample >= 1.0:
            return None
        k = max(1, int(round(subsample * n)))
        if self._row_uniforms is None:  # reproducible under random_state
            self._row_uniforms = np.random.default_rng(self.rng.randint(np.iinfo(np.int32).max))
        return sample_rows(self._row_uniforms.random(n), k)

    def _features(self, d: int, colsample: float) -> np.ndarray | None:
        if colsample >= 1.0:
            return None
        k = max(1, int(round(colsample * d)))
        mask = np.zeros(d, dtype=np.bool_)
        mask[self.rng.choice(d, size=k, replace=False)] = True
        return mask


@njit(cache=True, nogil=True)
def sample_rows(uniforms: Array, k: int) -> NDArray[np.int32]:  # pragma: no cover - compiled
    """``k`` of the rows ``0 .. n-1`` (``n = uniforms.size``) drawn uniformly without
    replacement, in increasing order: selection sampling, which takes row i when
    ``uniforms[i] (rows left) < (rows still needed)`` and so takes exactly ``k``. One pass
    over ``n`` uniforms, where ``RandomState.choice(n, k, replace=False)`` shuffles all
    ``n`` rows and the sample must then be sorted (docs/design.md, "Written by hand")."""
    n = uniforms.size
    out = np.empty(k + 1, dtype=np.int32)
    j = 0
    for i in range(n):
        out[j] = i  # kept only when taken (branch-free)
        j += uniforms[i] * (n - i) < (k - j)
    return out[:k]


def _search_and_update(
    fused: FusedStage | None,
    loss: Callable[[Array], float],
    theta: Array,
    values: Array,
    index: NDArray[np.int32],
    current: float,
    learning_rate: float,
) -> tuple[float, float]:
    """Line search on the stage's direction ``values[index]`` and the update of ``theta``
    (in place): returns the signed-off step η ρ and the training loss after it."""
    if fused is not None:
        line = fused.line(theta, values, index)
        rho, _ = search_step(line, loss_at_zero=current)
        step = learning_rate * rho
        if step != 0.0:
            current = line(step)  # before θ and the kernels' cache move
            add_leaf_values(theta, values, index, -step)
            fused.set_params(theta, loss=False)
        return step, current
    direction = np.take(values, index, axis=0)
    rho, _ = search_step(lambda r: loss(theta - r * direction), loss_at_zero=current)
    step = learning_rate * rho
    if step != 0.0:
        # θ += (−step)·d in place: the same numbers as θ − step·d.
        add_leaf_values(theta, values, index, -step)
        current = loss(theta)
    return step, current


def _balance_units(fisher_mean: Array) -> Array:
    """Per-parameter factors sqrt(F̄ₖₖ) that make the columns of F⁻¹g unit-free: the
    "ngboost" rule's tree then fits them in the norm of the mean Fisher diagonal. A
    degenerate mean (zero, infinite, NaN) leaves its column as it is."""
    ok = np.isfinite(fisher_mean) & (fisher_mean > 0.0)
    return np.where(ok, np.sqrt(np.where(ok, fisher_mean, 1.0)), 1.0)


def _progress(est: Any) -> Any:
    from natgrad.boosting._training.progress import stage_progress

    return stage_progress(est)
