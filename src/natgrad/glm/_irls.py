"""Fisher scoring for GLMs: the iterations, with step halving and the convergence rule.

For a GLM with mean μ = g⁻¹(η), η = X̃β + offset, the Fisher information of β is the Fisher
of the output distribution pulled back through the model's Jacobian,

    F(β) = X̃ᵀ W X̃,   Wᵢ = wᵢ aᵢ (dμᵢ/dηᵢ)² / (φ V(μᵢ))

(w frequency weights, a binomial trials), and the natural-gradient step with step size 1,
β ← β + F(β)⁻¹ ∇ℓ(β), is Fisher scoring. Written as a weighted least-squares problem it is
IRLS: β ← (X̃ᵀWX̃ + P)⁻¹ X̃ᵀW z with working response z = η − offset + (y − μ)/(dμ/dη) and
P = α Σw on the coefficients other than the intercept (the L2 penalty α/2 ‖β‖² of the
deviance per unit weight, scikit-learn's convention). Each iteration is one pass over X.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np

from natgrad._typing import Array
from natgrad.glm._links import Link, _ProbabilityLink
from natgrad.glm._solve import (
    cholesky_solve,
    dependent_columns,
    describe_dependence,
    linear_predictor,
    weighted_gram,
)
from natgrad.glm.families import Family

logger = logging.getLogger(__name__)

WHERE = "natgrad.glm.fit"
# Step halvings tried when the penalised deviance rises or the mean leaves its space.
_MAX_HALVINGS = 30


class ConvergenceWarning(UserWarning):
    """Fisher scoring stopped before the deviance settled (max_iter, or no step decreased it).

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from natgrad import glm
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 1))
    >>> y = rng.poisson(np.exp(1.0 + X[:, 0]))
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = glm.fit(X, y, family="poisson", max_iter=1)
    ...
    >>> any(issubclass(w.category, glm.ConvergenceWarning) for w in caught)
    True
    """


@dataclass
class Problem:
    """The validated inputs of one fit."""

    X: Array
    y: Array
    w: Array  # frequency weights
    a: Array  # prior weights: binomial trials, else ones
    offset: Array | None
    family: Family
    link: Link
    intercept: bool
    alpha: float
    names: list[str]
    n_trials: Array | None

    @property
    def n_coef(self) -> int:
        return self.X.shape[1] + int(self.intercept)


@dataclass
class State:
    """Everything that depends on β."""

    beta: Array
    eta: Array
    mu: Array
    mu_c: Array
    deviance: float
    objective: float


# ---------------------------------------------------------------------- one iteration
def _complement(link: Link, eta: Array, mu: Array) -> Array:
    if isinstance(link, _ProbabilityLink):
        return link.inverse_complement(eta)
    return 1.0 - mu


def penalty(prob: Problem) -> Array:
    pen = np.full(prob.n_coef, prob.alpha * float(prob.w.sum()))
    if prob.intercept:
        pen[0] = 0.0
    return pen


def _evaluate(prob: Problem, beta: Array, pen: Array) -> State | None:
    """The state at β, or None where the mean leaves the family's space."""
    eta = linear_predictor(prob.X, prob.intercept, beta, prob.offset)
    if not prob.link.valid_eta(eta):
        return None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        mu = prob.link.inverse(eta)
        if not prob.family.valid_mu(mu):
            return None
        mu_c = _complement(prob.link, eta, mu)
        dev = float(np.dot(prob.w * prob.a, prob.family.unit_deviance(prob.y, mu, mu_c)))
    if not np.isfinite(dev):
        return None
    return State(beta, eta, mu, mu_c, dev, dev + float(pen @ (beta * beta)))


def _working(prob: Problem, eta: Array, mu: Array, mu_c: Array) -> tuple[Array, Array]:
    """IRLS weights wᵢaᵢ(dμ/dη)²/V(μ) and working response η − offset + (y − μ)/(dμ/dη)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        d = prob.link.inverse_deriv(eta)
        var = mu * mu_c if prob.family.name == "binomial" else prob.family.variance(mu)
        ok = (var > 0) & (d != 0) & np.isfinite(d)
        weight = np.where(ok, prob.w * prob.a * d * d / np.where(ok, var, 1.0), 0.0)
        z = eta + np.where(ok, (prob.y - mu) / np.where(ok, d, 1.0), 0.0)
    if prob.offset is not None:
        z = z - prob.offset
    return weight, z


def _start(prob: Problem, pen: Array) -> tuple[Array, Array, Array, State | None]:
    """Starting point: the family's starting means, and a fallback β that is valid."""
    w_total = prob.w * prob.a
    mu0 = prob.family.start_mu(prob.y, prob.w, prob.a)
    mean = float(w_total @ prob.y) / float(w_total.sum())
    if prob.link.domain == "positive":
        # Gaussian targets may be negative while a log (or inverse) link needs positive means:
        # start those rows, and the intercept-only model, at the mean of the positive targets.
        positive = (prob.y > 0) & (w_total > 0)
        if not positive.any():
            raise ValueError(
                f"The 'y' argument of {WHERE} must hold positive values for the "
                f"{prob.link.name!r} link, whose means are positive. Got none."
            )
        floor = float(np.average(prob.y[positive], weights=w_total[positive]))
        mu0 = np.where(mu0 > 0, mu0, floor)
        mean = mean if mean > 0 else floor
    with np.errstate(divide="ignore", invalid="ignore"):
        eta0 = prob.link.link(mu0)
    fallback = None
    if prob.intercept:
        beta = np.zeros(prob.n_coef)
        with np.errstate(divide="ignore", invalid="ignore"):
            beta[0] = float(prob.link.link(np.array([mean]))[0])
        if prob.offset is not None:
            beta[0] -= float(np.average(prob.offset, weights=prob.w))
        if np.isfinite(beta[0]):
            fallback = _evaluate(prob, beta, pen)
    if not (np.all(np.isfinite(eta0)) and prob.link.valid_eta(eta0)) and fallback is not None:
        # Starting means outside the link's domain (a log link on negative targets).
        return fallback.eta, fallback.mu, fallback.mu_c, fallback
    return eta0, mu0, _complement(prob.link, eta0, mu0), fallback


def _check_rank(prob: Problem, gram: Array) -> None:
    rank, dependent, combination = dependent_columns(gram)
    if dependent:
        names = [prob.names[j] for j in dependent]
        n = int(np.count_nonzero(prob.w))
        rows = f" (n_samples = {n} rows for {prob.n_coef} coefficients)" if n < prob.n_coef else ""
        raise ValueError(
            f"The 'X' argument of {WHERE} is rank deficient{rows}: rank {rank} of "
            f"{prob.n_coef} columns{' (counting the intercept)' if prob.intercept else ''}. "
            f"Column(s) {', '.join(repr(n) for n in names)} are linear combinations of the "
            f"others: {describe_dependence(prob.names, dependent, combination)}. Remove them, "
            "or pass alpha > 0 (an L2 penalty makes the solution unique)."
        )


def irls(
    prob: Problem, max_iter: int, tol: float, beta_init: Array | None, history: list[float]
) -> tuple[State, int, bool]:
    """Fisher scoring with step halving; returns the final state, iterations, convergence.

    Appends the penalised deviance after every iteration to ``history``.
    """
    pen = penalty(prob)
    state: State | None = None
    fallback: State | None = None
    if beta_init is not None:
        state = _evaluate(prob, beta_init, pen)
    if state is None:
        eta, mu, mu_c, fallback = _start(prob, pen)
    else:
        eta, mu, mu_c = state.eta, state.mu, state.mu_c
    converged = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 - n_iter is reported
        weight, z = _working(prob, eta, mu, mu_c)
        gram, rhs = weighted_gram(prob.X, prob.intercept, weight, z)
        gram[np.diag_indices_from(gram)] += pen
        if n_iter == 1:
            _check_rank(prob, gram)
        proposal = cholesky_solve(gram, rhs)
        previous = state if state is not None else fallback
        new = _evaluate(prob, proposal, pen)
        if previous is not None and _worse(new, previous):
            logger.debug(
                "Fisher scoring iteration %d: the full step %s",
                n_iter,
                "leaves the mean space" if new is None else "raises the deviance",
            )
        halvings = 0
        while _worse(new, previous) and halvings < _MAX_HALVINGS and previous is not None:
            halvings += 1
            proposal = 0.5 * (proposal + previous.beta)
            new = _evaluate(prob, proposal, pen)
        if halvings:
            logger.debug("Fisher scoring iteration %d: %d step halvings", n_iter, halvings)
        if new is None or _worse(new, previous):
            if state is None and fallback is not None:
                # The step from the starting means does not beat the intercept-only model:
                # score from that model instead.
                state = fallback
                history.append(state.objective)
                eta, mu, mu_c = state.eta, state.mu, state.mu_c
                continue
            if state is None:
                raise ValueError(
                    f"{WHERE} found no coefficients with valid means for the "
                    f"{prob.family.name} family and the {prob.link.name!r} link from its "
                    "starting values. Try another link (e.g. 'log'), or fit_intercept=True."
                )
            warnings.warn(
                f"Fisher scoring stopped at iteration {n_iter}: {_MAX_HALVINGS} step halvings "
                "did not decrease the deviance.",
                ConvergenceWarning,
                stacklevel=3,
            )
            return state, n_iter, False
        old, state = state, new
        history.append(state.objective)
        eta, mu, mu_c = state.eta, state.mu, state.mu_c
        if old is not None and _small_step(prob, gram, old, state, weight, tol):
            converged = True
            break
    if state is None:  # max_iter >= 1 always evaluates a state or raises
        raise RuntimeError("Fisher scoring produced no iterate.")
    return state, n_iter, converged


def _small_step(
    prob: Problem, gram: Array, old: State, new: State, weight: Array, tol: float
) -> bool:
    """Convergence: the step's squared length in the Fisher metric, δᵀ(X̃ᵀWX̃ + P)δ/φ ≤ tol.

    That is twice the KL divergence between the successive fitted models (to second order),
    about Σⱼ (δⱼ/seⱼ)²: the coefficients move by less than √tol standard errors. φ is the
    current Pearson estimate for families with a dispersion. A deviance that no longer
    changes beyond rounding (1e-15 relative) also ends the iterations.
    """
    step = new.beta - old.beta
    metric = float(step @ gram @ step)
    if prob.family.estimate_scale:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            resid = (prob.y - old.mu) ** 2 / prob.family.variance(old.mu)
        dof = max(float(prob.w.sum()) - prob.n_coef, 1.0)
        phi = float(np.dot(prob.w * prob.a, resid)) / dof
        metric = metric / phi if phi > 0 else 0.0
    settled = abs(old.objective - new.objective) <= 1e-15 * (abs(new.objective) + 0.1)
    return metric <= tol or settled


def _worse(new: State | None, previous: State | None) -> bool:
    """Whether a proposal is invalid or raises the penalised deviance."""
    if new is None:
        return True
    if previous is None:
        return False
    return new.objective > previous.objective * (1.0 + 1e-12) + 1e-300
