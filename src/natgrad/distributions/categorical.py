"""The categorical family on K classes, parameterised by log-odds against class 0."""

from __future__ import annotations

from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike
from scipy import special, stats

from natgrad._validation import as_float_array, check_finite, describe
from natgrad.distributions._base import Array, Distribution, register_kl
from natgrad.distributions._support import labels

# Rows of ``probs`` must sum to 1 within this absolute tolerance (then they are renormalised).
_SUM_TOL = 1e-6
# The marginal fit floors class frequencies at this value: a class absent from the targets
# has an MLE log-odds of −∞.
_MIN_PROB = 1e-10


def _check_n_classes(n_classes: Any, where: str) -> int:
    if isinstance(n_classes, bool) or not isinstance(n_classes, int | np.integer) or n_classes < 2:
        raise ValueError(
            f"The 'n_classes' argument of {where} must be an integer >= 2. "
            f"Got {describe(n_classes)} instead."
        )
    return int(n_classes)


class Categorical(Distribution):
    """Categorical distributions on the labels 0, ..., K − 1.

    One class serves every K: the number of classes is configuration (``n_classes``), set by
    the constructor from the shape of ``probs`` or passed to `from_params` and
    `fit_marginal`. Unconstrained parameters are the K − 1 log-odds against class 0 (as in
    NGBoost), θ_k = log(p_k/p_0), k = 1..K−1, with θ_0 = 0:

        p = softmax(0, θ_1, ..., θ_{K−1})
        nll = logsumexp(0, θ) − θ_y
        ∇nll_k = p_k − [y = k]                      (k = 1..K−1; p_y − 1 as −Σ_{j≠y} p_j)
        F = diag(p_1..p_{K−1}) − p pᵀ               (over classes 1..K−1)

    The mean and variance of a label are meaningless (classes are unordered): `mean` and
    `var` raise, and `probs` gives the (n, K) class probabilities. `to_scipy` returns a list
    of one `scipy.stats.rv_discrete` per row, on the integer labels 0..K−1.

    Parameters
    ----------
    probs : array-like of shape (n, K) or (K,)
        Class probabilities, positive, rows summing to 1 (within 1e-6; renormalised).

    See Also
    --------
    natgrad.distributions.Bernoulli : Two classes, one parameter.
    natgrad.NGBoostClassifier : Predicts class probabilities.

    Examples
    --------
    >>> from natgrad.distributions import Categorical
    >>> dist = Categorical(probs=[[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]])
    >>> dist.n_params                               # logits of classes 1..k-1 against class 0
    2
    >>> print(dist.probs)
    [[0.2 0.3 0.5]
     [0.6 0.2 0.2]]
    >>> print(dist.nll([2, 0]).round(3))
    [0.693 0.511]
    """

    name = "categorical"
    discrete = True
    n_classes: int
    examples = [
        ({"n_classes": 3}, [[0.0, 0.0], [1.0, -2.0], [-4.0, 0.5]]),
        ({"n_classes": 2}, [[0.0], [4.0]]),
        ({"n_classes": 4}, [[0.5, -0.5, 1.0], [-2.0, 1.5, 3.0]]),
    ]

    def __init__(self, probs: ArrayLike) -> None:
        where = type(self).__name__
        arr = as_float_array(probs, "probs", where)
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] < 2:
            raise ValueError(
                f"The 'probs' argument of {where} must have shape (n, K) with n >= 1 and "
                f"K >= 2 classes. Got shape {np.shape(probs)} instead."
            )
        check_finite(arr, "probs", where)
        if not (arr > 0).all():
            raise ValueError(
                f"The 'probs' argument of {where} must be positive. Got a minimum of "
                f"{arr.min()} instead."
            )
        sums = arr.sum(axis=1)
        if not (np.abs(sums - 1.0) <= _SUM_TOL).all():
            bad = int(np.argmax(np.abs(sums - 1.0)))
            raise ValueError(
                f"The 'probs' argument of {where} must have rows summing to 1. Got a row "
                f"summing to {sums[bad]} at index {bad} instead."
            )
        self._configure(n_classes=arr.shape[1])
        log_p = np.log(arr)
        self._params = np.ascontiguousarray(log_p[:, 1:] - log_p[:, :1])

    def _configure(self, n_classes: Any = None, **config: Any) -> None:
        super()._configure(**config)  # rejects unknown options
        k = _check_n_classes(n_classes, type(self).__name__)
        self.n_classes = k
        self.n_params = k - 1
        self.param_names = tuple(f"logit_{j}" for j in range(1, k))
        self.support = labels(k)

    @property
    def config(self) -> dict[str, Any]:
        return {"n_classes": self.n_classes}

    @classmethod
    def from_params(cls, params: ArrayLike, **config: Any) -> Self:
        """A batch from log-odds of shape (n, K − 1).

        ``n_classes`` defaults to ``params.shape[1] + 1`` when not given.
        """
        if config.get("n_classes") is None:
            shape = np.shape(params)
            config["n_classes"] = shape[1] + 1 if len(shape) == 2 else 2
        return super().from_params(params, **config)

    @classmethod
    def fit_marginal(
        cls, y: ArrayLike, sample_weight: ArrayLike | None = None, **config: Any
    ) -> Array:
        """Class log-odds of the weighted label frequencies: shape (1, K − 1).

        ``n_classes`` defaults to the largest label + 1 (at least 2) when not given; pass it
        whenever the top class may be absent from ``y``. Frequencies are floored at 1e-10.
        """
        if config.get("n_classes") is None:
            try:
                arr = np.asarray(y, dtype=np.float64)
                top = np.nanmax(arr[np.isfinite(arr)]) if arr.size else 1.0
            except (TypeError, ValueError):  # left to the base class to report
                top = 1.0
            config["n_classes"] = max(2, int(top) + 1) if np.isfinite(top) else 2
        return super().fit_marginal(y, sample_weight, **config)

    def _fit_marginal(self, y: Array, w: Array) -> Array:
        freq = np.bincount(y.astype(np.intp), weights=w, minlength=self.n_classes)
        log_p = np.log(np.maximum(freq, _MIN_PROB))
        return log_p[1:] - log_p[0]

    # ------------------------------------------------------------------ parameters
    def _logits(self) -> Array:
        """(n, K) logits with class 0 fixed at 0."""
        return np.concatenate([np.zeros((len(self), 1)), self._params], axis=1)

    def _log_probs(self) -> Array:
        z = self._logits()
        return z - special.logsumexp(z, axis=1, keepdims=True)

    @property
    def probs(self) -> Array:
        """Class probabilities, shape (n, K)."""
        return special.softmax(self._logits(), axis=1)

    def _natural(self) -> dict[str, Array]:
        return {"probs": self.probs}

    # ------------------------------------------------------------------ geometry
    def _nll(self, y: Array) -> Array:
        log_p = self._log_probs()  # (n, K)
        idx = y.astype(np.intp)  # (n,) or (m, n); labels are validated integers
        return -np.take_along_axis(
            np.broadcast_to(log_p, idx.shape + (self.n_classes,)), idx[..., None], axis=-1
        )[..., 0]

    def _grad(self, y: Array) -> Array:
        probs = self.probs  # (n, K)
        classes = np.arange(self.n_classes)
        target = y[..., None] == classes  # (..., n, K)
        # p_y − 1 = −Σ_{j≠y} p_j: a sum of small numbers instead of a difference that rounds
        # to 0 when p_y is within 1e-16 of 1 (a saturated logit).
        rest = np.sum(np.where(target, 0.0, probs), axis=-1, keepdims=True)
        return np.where(target, -rest, probs)[..., 1:]

    def _fisher(self) -> Array:
        p = self.probs[:, 1:]
        out = -p[:, :, None] * p[:, None, :]
        idx = np.arange(self.n_params)
        out[:, idx, idx] += p
        return out

    # ------------------------------------------------------------------ distribution functions
    def to_scipy(self) -> list[stats.rv_discrete]:
        """One `scipy.stats.rv_discrete` on the labels 0..K−1 per row (a list of length n)."""
        support = np.arange(self.n_classes)
        return [stats.rv_discrete(values=(support, p)) for p in self.probs]

    def sample(self, size: int, rng: np.random.Generator | int | None = None) -> Array:
        size, rng = self._check_sample_args(size, rng)
        cum = np.cumsum(self.probs, axis=1)[:, :-1]  # (n, K−1): upper edges of classes 0..K−2
        u = rng.random((size, len(self)))
        return (u[..., None] >= cum).sum(axis=-1).astype(np.float64)

    def _undefined(self, what: str) -> NotImplementedError:
        return NotImplementedError(
            f"{type(self).__name__}.{what} is not defined: class labels are unordered. "
            "Use the class probabilities `probs` (shape (n, K)) instead."
        )

    def mean(self) -> Array:
        raise self._undefined("mean")

    def var(self) -> Array:
        raise self._undefined("var")

    def cdf(self, y: ArrayLike) -> Array:
        raise self._undefined("cdf")

    def sf(self, y: ArrayLike) -> Array:
        raise self._undefined("sf")

    def _ppf(self, q: ArrayLike) -> Array:
        raise self._undefined("ppf")

    def interval(self, level: float = 0.9) -> tuple[Array, Array]:
        if not isinstance(level, float | int) or not 0 < level < 1:
            return super().interval(level)  # raises the argument error
        raise self._undefined("interval")


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p: Categorical, q: Categorical) -> Array:
    """KL(p ‖ q) = Σ_k p_k (log p_k − log q_k), from log-softmax (exact for extreme logits)."""
    if p.n_classes != q.n_classes:
        raise ValueError(
            f"The 'other' argument of Categorical.kl must have {p.n_classes} classes. "
            f"Got {q.n_classes} instead."
        )
    log_p, log_q = p._log_probs(), q._log_probs()
    return np.maximum(np.sum(np.exp(log_p) * (log_p - log_q), axis=1), 0.0)
