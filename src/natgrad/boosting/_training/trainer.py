"""The stage loop of natural-gradient boosting, kept apart from the scikit-learn front end.

`Trainer.fit` runs the algorithm of DESIGN.md on validated arrays and returns the fitted state
(`FitState`), which the estimator assigns: the marginal fit, the model (native histogram trees
or external learners), the per-stage losses and the chosen stage. Its parts live beside it:
the per-row work behind the `StageComputer` protocol (`computers`: compiled kernels or the
generic NumPy path), the row and feature draws (`sampling`), early stopping
(`early_stopping`), the line search (`line_search`); `_Stages.run` is one stage.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from natgrad._typing import Array
from natgrad.boosting._hist.categorical import n_categories
from natgrad.boosting._training.computers import StageComputer, stage_computer
from natgrad.boosting._training.descent import fisher_leaf_values
from natgrad.boosting._training.early_stopping import EarlyStopping
from natgrad.boosting._training.learners import ExternalModel, NativeModel
from natgrad.boosting._training.line_search import search_step
from natgrad.boosting._training.sampling import StageSampler
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

    def assign_to(self, est: Any) -> None:
        """Set the fitted attributes of the estimator ``est`` from this state."""
        est.init_params_ = self.init_params
        est._template_ = self.template
        est._model_ = self.model
        est.n_estimators_ = self.n_estimators
        est.best_iteration_ = self.best_iteration
        est.train_loss_ = self.train_loss
        est.validation_loss_ = self.validation_loss


class WarmStart(NamedTuple):
    """Where a fit continues a fitted model (`Trainer.fit`'s ``warm``).

    The fit starts every row from the fitted model's parameters after its first
    ``n_stages`` stages, bins the rows with the model's bins and appends ``n_more`` stages
    to a copy of the model. ``refit_init``: replace θ⁽⁰⁾ by the marginal fit of the new
    targets (NGBoost's ``partial_fit``), under the same stages; else keep the fitted one.
    """

    state: FitState  # the fitted model's state (its model is not changed)
    n_stages: int
    n_more: int
    refit_init: bool = False


@dataclass
class StageLoop:
    """What a stage loop over the estimator's rows holds: the estimator (its
    hyper-parameters), its family and score, the fit's random state, and the per-stage
    losses recorded so far. `Trainer` runs it on arrays in this process; the sharded engine
    (`natgrad.boosting.sharded`) on rows held by shards."""

    estimator: Any
    family: type[Distribution]
    config: dict[str, Any]
    score: Score
    rng: np.random.RandomState
    train_loss: list[float] = field(default_factory=list)
    validation_loss: list[float] = field(default_factory=list)

    def _state(
        self,
        theta0: Array,
        template: Distribution,
        model: NativeModel | ExternalModel,
        stopping: EarlyStopping | None,
    ) -> FitState:
        """The fitted state once the stages ran (``model`` finished)."""
        return FitState(
            init_params=theta0,
            template=template,
            model=model,
            n_estimators=model.n_stages,
            best_iteration=model.n_stages if stopping is None else stopping.best_stage,
            train_loss=np.asarray(self.train_loss),
            validation_loss=np.asarray(self.validation_loss),
        )


@dataclass
class Trainer(StageLoop):
    """Runs the boosting stages for one estimator."""

    def fit(
        self,
        X: Array,
        y: Array,
        w: Array,
        X_val: Array | None,
        y_val: Array | None,
        w_val: Array | None,
        warm: WarmStart | None = None,
    ) -> FitState:
        """Run the stages on validated arrays; the estimator assigns the returned state.

        ``warm``: continue a fitted model instead of starting from the marginal fit; the
        losses and stages of the state returned then count the model's first
        ``warm.n_stages`` stages, followed by the new ones (the loss at the start of the
        new stages is this fit's: ``train_loss[warm.n_stages]`` is the new rows' loss
        before the first new stage).
        """
        est = self.estimator
        if warm is None or warm.refit_init:
            theta0 = est._initial_params(y, w, self.family, self.config)
            template = self.family.from_params(theta0, **self.config)
        else:
            theta0, template = warm.state.init_params, warm.state.template
        train, theta, val, theta_val = self._computers(
            template, theta0, X, y, w, X_val, y_val, w_val
        )
        model, done, n_more = self._start_model(X, X_val, template, theta0, theta, theta_val, warm)
        current = train.loss(theta)
        self.train_loss.append(current)
        stopping = None
        if val is not None:
            assert theta_val is not None  # set with val
            stopping = EarlyStopping(val.loss(theta_val), est.n_iter_no_change, est.tol, done)
        self.validation_loss.append(np.nan if stopping is None else stopping.best_loss)
        stages = _Stages(self, train, model, StageSampler(self.rng, est.subsample, est.colsample))
        self._run(stages, theta, current, X.shape[1], val, theta_val, stopping, done, n_more)
        model.finish()
        return self._state(theta0, template, model, stopping)

    def _computers(
        self,
        template: Distribution,
        theta0: Array,
        X: Array,
        y: Array,
        w: Array,
        X_val: Array | None,
        y_val: Array | None,
        w_val: Array | None,
    ) -> tuple[StageComputer, Array, StageComputer | None, Array | None]:
        """The per-row work of the training rows, their parameters θ⁽⁰⁾ of shape (n, p), and
        the same for the validation rows (None, None without them)."""
        est = self.estimator
        fisher_leaves = est.leaf_rule == "fisher" and est.base_learner is None
        # Unit weights (the common case) skip a weighted copy of g and F every stage.
        row_w = None if np.all(w == 1.0) else w
        # Common (family, score) pairs run the stage's per-row work compiled; the others,
        # through the family's and the score's NumPy methods.
        train = stage_computer(
            self.family, self.score, self.config, template, y, w,
            row_weight=row_w, fisher_leaves=fisher_leaves,
        )  # fmt: skip
        theta = train.start(theta0, X.shape[0])
        if X_val is None:
            return train, theta, None, None
        assert y_val is not None and w_val is not None  # set together by the caller
        val = stage_computer(
            self.family, self.score, self.config, template, y_val, w_val,
            row_weight=None, fisher_leaves=fisher_leaves, quiet=False,
        )  # fmt: skip
        return train, theta, val, val.start(theta0, X_val.shape[0])

    def _start_model(
        self,
        X: Array,
        X_val: Array | None,
        template: Distribution,
        theta0: Array,
        theta: Array,
        theta_val: Array | None,
        warm: WarmStart | None,
    ) -> tuple[NativeModel | ExternalModel, int, int]:
        """The fit's learner started on the rows, the stages done and the stages to run.

        With ``warm``, the fitted model resumed after its first ``warm.n_stages`` stages:
        their predictions are added to ``theta`` and ``theta_val`` (in place) and their
        losses start this fit's.
        """
        if warm is None:
            model = self._model(X, template, theta0.shape[1])
            model.start(X, X_val)
            return model, 0, self.estimator.n_estimators
        done = warm.n_stages
        model = warm.state.model.resumed(X, X_val, done, self.rng)
        if done:
            # In place: the computers' layouts (column-major for the fused one) stay.
            theta += model.predict(X, done)
            if X_val is not None:
                assert theta_val is not None  # set with X_val
                theta_val += model.predict(X_val, done)
        self.train_loss.extend(warm.state.train_loss[:done].tolist())
        self.validation_loss.extend(warm.state.validation_loss[:done].tolist())
        return model, done, warm.n_more

    def _run(
        self,
        stages: _Stages,
        theta: Array,
        current: float,
        n_features: int,
        val: StageComputer | None,
        theta_val: Array | None,
        stopping: EarlyStopping | None,
        done: int,
        n_more: int,
    ) -> None:
        """Stages ``done + 1``, ..., ``done + n_more`` (fewer when early stopping ends the
        fit), recording their losses; ``theta`` and ``theta_val`` move in place."""
        est, model = self.estimator, stages.model
        progress = _progress(est, n_more)
        # The stage loop's BLAS calls are tiny dot products. Multi-threaded BLAS gains nothing
        # there, and its spinning threads fight the compiled kernels' OpenMP threads for the
        # cores: on two cores that made a stage up to 4x slower (docs/benchmarks.md).
        blas = threadpool_limits(limits=1, user_api="blas")
        try:
            for stage in range(done, done + n_more):
                current = stages.run(theta, current, n_features)
                if not np.isfinite(current):
                    # The line search accepts only steps that lower the loss, so a
                    # non-finite loss means learning_rate · step overshot it: stop rather
                    # than return a model that predicts inf or NaN.
                    raise FloatingPointError(
                        f"The training loss of {type(est).__name__} became {current} at stage "
                        f"{stage + 1} with learning_rate={est.learning_rate!r}: the steps "
                        "diverge. Use a smaller learning_rate (at most 1 keeps every step "
                        "within the line search's)."
                    )
                self.train_loss.append(current)
                stop = False
                if val is not None and stopping is not None:
                    assert theta_val is not None  # set with val
                    theta_val += model.last_stage_validation()
                    self.validation_loss.append(val.loss(theta_val))
                    stop = stopping.update(self.validation_loss[-1], stage + 1)
                else:
                    self.validation_loss.append(np.nan)
                progress.update(1)
                if stop:
                    logger.info("early stopping after %d stages", stage + 1)
                    break
                if stage % 10 == 0 or stage == done + n_more - 1:
                    _show(progress, current, self.validation_loss[-1], val is not None)
        finally:
            blas.restore_original_limits()
            progress.close()

    def _model(self, X: Array, template: Distribution, p: int) -> NativeModel | ExternalModel:
        """The fit's learner: native histogram trees, or the estimator's ``base_learner``."""
        est = self.estimator
        monotonic_cst = est._monotonic_constraints(template.param_names, X.shape[1])
        if est.base_learner is not None:
            return ExternalModel(p, est.base_learner, rng=self.rng, owner=type(est).__name__)
        return NativeModel(
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


class _Stages:
    """One boosting stage: targets, tree, line search and update of θ (in place)."""

    def __init__(
        self,
        trainer: Trainer,
        computer: StageComputer,
        model: NativeModel | ExternalModel,
        sampler: StageSampler,
    ) -> None:
        est = trainer.estimator
        self.computer, self.model, self.sampler = computer, model, sampler
        self.learning_rate = est.learning_rate
        self.l2_regularization, self.leaf_prior = est.l2_regularization, est.leaf_prior
        native = isinstance(model, NativeModel)
        fisher_leaves = est.leaf_rule == "fisher" and native
        monotone = isinstance(model, NativeModel) and model.grow_params["monotonic_cst"] is not None
        # The "ngboost" rule's shared tree fits all p columns of F⁻¹g at once: its split gain
        # adds their squared errors, so the columns are put in one unit first
        # (docs/design.md "Balanced splits for the ngboost rule").
        self.balance = not fisher_leaves and native and model.n_params > 1
        # Monotone trees keep their clipped values: no Fisher refit of their leaves.
        self.fallback = native and not fisher_leaves and not monotone

    def run(self, theta: Array, current: float, n_features: int) -> float:
        """Grow and commit one stage from ``theta`` (loss ``current``); return the new loss."""
        computer, model = self.computer, self.model
        rows = self.sampler.rows(theta.shape[0])
        features = self.sampler.features(n_features)
        # Looked up here, at each stage: the tests replace the module's `_balance_units`.
        t = computer.targets(theta, _balance_units if self.balance else None)
        # The stage's direction for row i is values[index[i]] (leaf values and each row's
        # leaf for a tree).
        values, index = model.fit_stage_leaves(
            t.target, t.packed, t.sample_weight, rows, features,
            metric_diagonal=t.metric_diagonal, channels=t.channels,
        )  # fmt: skip
        if t.unit is not None:
            assert isinstance(model, NativeModel)
            values = model.unscale_pending(1.0 / t.unit)
        step, current = _search_and_update(
            computer, theta, values, index, current, self.learning_rate
        )
        if step == 0.0 and self.fallback and isinstance(model, NativeModel):
            # No step along the "ngboost" leaves lowers the loss (not a descent direction):
            # the same tree with Fisher leaves is one (`natgrad.boosting._training.descent`).
            grad, packed = computer.fisher_targets(theta)
            values = fisher_leaf_values(
                grad, packed, index, values.shape[0], rows, self.l2_regularization, self.leaf_prior
            )
            model.set_leaf_values(values)
            step, current = _search_and_update(
                computer, theta, values, index, current, self.learning_rate
            )
        model.commit(-step)
        return current


def _search_and_update(
    computer: StageComputer,
    theta: Array,
    values: Array,
    index: NDArray[np.int32],
    current: float,
    learning_rate: float,
) -> tuple[float, float]:
    """Line search on the stage's direction ``values[index]`` and the update of ``theta``
    (in place): returns the signed-off step η ρ and the training loss after it."""
    line = computer.line(theta, values, index)
    rho, _ = search_step(line, loss_at_zero=current)
    step = learning_rate * rho
    if step != 0.0:
        current = computer.move(theta, values, index, step, line)
    return step, current


def _show(progress: Any, train: float, val: float, has_val: bool) -> None:
    post = {"train": f"{train:.4f}"}
    if has_val:
        post["val"] = f"{val:.4f}"
    progress.set_postfix(post, refresh=False)


def _balance_units(fisher_mean: Array) -> Array:
    """Per-parameter factors sqrt(F̄ₖₖ) that make the columns of F⁻¹g unit-free: the
    "ngboost" rule's tree then fits them in the norm of the mean Fisher diagonal. A
    degenerate mean (zero, infinite, NaN) leaves its column as it is."""
    ok = np.isfinite(fisher_mean) & (fisher_mean > 0.0)
    return np.where(ok, np.sqrt(np.where(ok, fisher_mean, 1.0)), 1.0)


def _progress(est: Any, total: int) -> Any:
    from natgrad.boosting._training.progress import stage_progress

    return stage_progress(est, total)
