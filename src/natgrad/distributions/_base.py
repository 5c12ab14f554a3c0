"""The base class of every distribution family.

A `Distribution` object is a *batch* of n distributions of one family. Its parameters are one
float array of shape (n, p) in the family's unconstrained coordinates (for a Normal,
(loc, log scale)). The family owns the geometry of its output space: negative log-likelihood,
its gradient, the Fisher information and the KL divergence, all in closed form and batched.

Subclasses implement the private kernels ``_nll``, ``_grad``, ``_fisher``, ``_natural`` and
``_from_natural`` (and optionally ``_fit_marginal`` and distribution functions); this class
does validation, broadcasting and everything generic.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, ClassVar, Self

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize

from natgrad._typing import Array
from natgrad._validation import (
    as_float_array,
    as_generator,
    check_finite,
    check_params,
    check_sample_weight,
    describe,
)
from natgrad.distributions._support import REAL, Support

# KL divergences in closed form, keyed by the pair of families (p, q).
_KL_REGISTRY: dict[tuple[type, type], Callable[[Any, Any], Array]] = {}


def register_kl(type_p: type, type_q: type) -> Callable[[Callable], Callable]:
    """Register a closed-form KL(p || q) for a pair of families (a decorator).

    The function takes two batches of equal length and returns an array of shape (n,).

    Examples
    --------
    >>> from natgrad.distributions import Normal, has_closed_form_kl, register_kl
    >>> class UnitNormal(Normal):  # a family of normals whose scale stays 1
    ...     pass
    ...
    >>> @register_kl(UnitNormal, UnitNormal)
    ... def _kl_unit(p, q):
    ...     return 0.5 * (p.loc - q.loc) ** 2
    ...
    >>> has_closed_form_kl(UnitNormal, UnitNormal)
    True
    >>> print(UnitNormal(loc=1.0).kl(UnitNormal(loc=0.0)))
    [0.5]
    """

    def decorator(fn: Callable) -> Callable:
        _KL_REGISTRY[(type_p, type_q)] = fn
        return fn

    return decorator


def has_closed_form_kl(type_p: type, type_q: type) -> bool:
    """Whether KL(p ‖ q) between these two families is registered in closed form.

    Examples
    --------
    >>> from natgrad.distributions import Gamma, Normal, has_closed_form_kl
    >>> has_closed_form_kl(Normal, Normal), has_closed_form_kl(Normal, Gamma)
    (True, False)
    """
    return (type_p, type_q) in _KL_REGISTRY


class Distribution:
    """A batch of n distributions of one family.

    Class attributes a family defines
    ---------------------------------
    name : str
        Registry name, e.g. ``"normal"``.
    param_names : tuple of str
        Names of the unconstrained coordinates, e.g. ``("loc", "log_scale")``.
    n_params : int
        p, the number of unconstrained coordinates. Families whose size depends on a
        constructor argument (categorical, multivariate normal, Student's t with fixed
        degrees of freedom) set it per instance.
    support : Support
        The valid target values.
    natural_support : dict of str to Support
        The constraint of each natural (constructor) parameter.
    event_dim : int
        0 for scalar targets, 1 for vector targets (shape (n, k)).

    See Also
    --------
    natgrad.distributions.get : A family by name.
    natgrad.distributions.names : The registered names.
    natgrad.testing.check_distribution : Checks a new family's formulas.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.distributions import Normal
    >>> dist = Normal.from_params([[0.0, 0.0], [1.0, np.log(2.0)]])   # rows of (loc, log scale)
    >>> len(dist), dist.n_params
    (2, 2)
    >>> print(dist.scale)
    [1. 2.]
    >>> print(dist[1].mean())                       # index to select rows
    [1.]
    >>> print(dist.kl(Normal(loc=0.0, scale=1.0)).round(3))
    [0.    1.307]
    >>> print(dist.to_scipy().std())                # the frozen scipy.stats distribution
    [1. 2.]
    """

    name: ClassVar[str] = ""
    param_names: tuple[str, ...] = ()
    n_params: int = 0
    support: Support = REAL
    natural_support: ClassVar[dict[str, Support]] = {}
    event_dim: ClassVar[int] = 0
    discrete: ClassVar[bool] = False
    #: Representative (config, params) pairs: the parameter sets `natgrad.testing`
    #: checks the family's identities on, covering typical and extreme-but-valid values.
    examples: ClassVar[list[tuple[dict[str, Any], list[list[float]]]]] = []

    _params: Array

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_params(cls, params: ArrayLike, **config: Any) -> Self:
        """A batch from unconstrained parameters.

        Parameters
        ----------
        params : array-like of shape (n, n_params)
            Unconstrained parameters, one row per distribution.
        **config
            Family configuration (e.g. ``n_classes`` for the categorical family).
        """
        obj = cls.__new__(cls)
        obj._configure(**config)
        obj._params = check_params(params, obj.n_params, f"{cls.__name__}.from_params")
        return obj

    def with_params(self, params: ArrayLike, *, validate: bool = True) -> Self:
        """A batch of the same family and configuration with new parameters.

        ``validate=False`` skips the checks; for hot loops that already hold a valid
        float64 array of shape (n, n_params).
        """
        obj = copy.copy(self)
        if validate:
            obj._params = check_params(params, self.n_params, f"{type(self).__name__}.with_params")
        else:
            obj._params = params  # type: ignore[assignment]
        return obj

    def _configure(self, **config: Any) -> None:
        """Set family configuration; families without configuration accept none."""
        if config:
            raise TypeError(
                f"{type(self).__name__} takes no configuration arguments. "
                f"Got {sorted(config)} instead."
            )

    @property
    def config(self) -> dict[str, Any]:
        """The configuration arguments that `from_params` needs to rebuild this batch."""
        return {}

    def _set_natural(self, **natural: ArrayLike) -> None:
        """Validate natural parameters, broadcast them to (n,) and store the params."""
        where = f"{type(self).__name__}"
        arrays = {}
        for key, value in natural.items():
            arr = as_float_array(value, key, where)
            check_finite(arr, key, where)
            constraint = self.natural_support.get(key, REAL)
            if not constraint.contains(arr).all():
                bad = arr[~constraint.contains(arr)].ravel()[0]
                raise ValueError(
                    f"The {key!r} argument of {where} must be {constraint.description}. "
                    f"Got {bad} instead."
                )
            arrays[key] = arr
        try:
            shape = np.broadcast_shapes(*(a.shape for a in arrays.values()))
        except ValueError as exc:
            shapes = {k: a.shape for k, a in arrays.items()}
            raise ValueError(
                f"The parameters of {where} must broadcast to one batch shape. Got shapes "
                f"{shapes} instead."
            ) from exc
        if len(shape) > 1:
            raise ValueError(
                f"The parameters of {where} must be scalars or 1-d arrays. Got batch shape "
                f"{shape} instead."
            )
        n = shape[0] if shape else 1
        if n == 0:
            raise ValueError(f"The parameters of {where} must describe at least one row. Got 0.")
        arrays = {k: np.broadcast_to(a, (n,)).astype(np.float64) for k, a in arrays.items()}
        params = self._from_natural(**arrays)
        check_finite(params, "params", where)
        self._params = np.ascontiguousarray(params)

    # ------------------------------------------------------------------ basic access
    @property
    def params(self) -> Array:
        """Unconstrained parameters, shape (n, n_params)."""
        return self._params

    @property
    def natural_params(self) -> dict[str, Array]:
        """The natural (constructor) parameters, each of shape (n,)."""
        return self._natural()

    def __len__(self) -> int:
        return int(self._params.shape[0])

    def __getitem__(self, index: Any) -> Self:
        rows = np.atleast_2d(self._params[index])
        return self.with_params(rows)

    def __repr__(self) -> str:
        natural = self._natural()
        if len(self) == 1:
            inner = ", ".join(f"{k}={np.ravel(v)[0]:.4g}" for k, v in natural.items())
        else:
            inner = f"n={len(self)}"
        return f"{type(self).__name__}({inner})"

    # ------------------------------------------------------------------ validation
    def _where(self, method: str) -> str:
        return f"{type(self).__name__}.{method}"

    def check_y(self, y: ArrayLike, method: str = "nll") -> Array:
        """Validate targets: finite, inside the support, shape (n,) or (m, n).

        A scalar or length-1 target broadcasts to the whole batch; a batch of one
        distribution takes m targets of shape (m,) (returned as (m, 1)). Vector families
        (``event_dim == 1``) take shape (n, k) or (m, n, k).
        """
        where = self._where(method)
        arr = as_float_array(y, "y", where)
        n = len(self)
        event = arr.shape[arr.ndim - self.event_dim :] if self.event_dim else ()
        batch = arr.shape[: arr.ndim - self.event_dim]
        if len(batch) == 0 or (len(batch) == 1 and batch[0] == 1):
            arr = np.broadcast_to(arr.reshape((1,) + event), (n,) + event)
        elif n == 1 and len(batch) == 1:
            # One distribution and many targets: a sample axis of shape (m, 1).
            arr = arr.reshape((batch[0], 1) + event)
        elif batch[-1] != n or len(batch) > 2:
            expected = f"({n},)" if not self.event_dim else f"({n}, k)"
            raise ValueError(
                f"The 'y' argument of {where} must have shape {expected} (one target per "
                f"distribution in the batch) or a leading sample axis. Got shape "
                f"{arr.shape} instead."
            )
        check_finite(arr, "y", where)
        self._check_support(arr, where)
        return arr

    def _check_support(self, y: Array, where: str) -> None:
        inside = self.support.contains(y)
        if not inside.all():
            bad = np.flatnonzero(~inside.ravel())
            raise ValueError(
                f"The 'y' argument of {where} must be {self.support.description}. Got "
                f"{bad.size} value(s) outside it, e.g. {y.ravel()[bad[0]]} at flat index "
                f"{bad[0]}."
            )

    # ------------------------------------------------------------------ geometry
    def nll(self, y: ArrayLike) -> Array:
        """Negative log-likelihood of ``y``, shape (n,) (or (m, n) for stacked targets)."""
        out = self._nll(self.check_y(y, "nll"))
        return out[:, 0] if self._one_row_many_targets(y) else out

    def logpdf(self, y: ArrayLike) -> Array:
        """Log density (or log mass) of ``y``; the negative of `nll`."""
        return -self.nll(y)

    def grad(self, y: ArrayLike) -> Array:
        """Gradient of `nll` with respect to the unconstrained parameters, shape (n, p)."""
        out = self._grad(self.check_y(y, "grad"))
        return out[:, 0] if self._one_row_many_targets(y) else out

    def _one_row_many_targets(self, y: ArrayLike) -> bool:
        shape = np.shape(y)
        return len(self) == 1 and len(shape) == 1 + self.event_dim and shape[0] > 1

    def fisher(self) -> Array:
        """Fisher information in the unconstrained parameters, shape (n, p, p).

        F(θ) = E_y[∇ nll ∇ nllᵀ] = E_y[∇² nll], in closed form.
        """
        return self._fisher()

    def kl(
        self,
        other: Distribution,
        *,
        rng: np.random.Generator | None = None,
        n_samples: int = 10_000,
    ) -> Array:
        """KL(self ‖ other) per row, shape (n,).

        In closed form where the pair of families has one registered; otherwise a Monte
        Carlo estimate from ``n_samples`` draws of ``self``, which needs an explicit ``rng``.
        """
        if not isinstance(other, Distribution):
            raise TypeError(
                f"The 'other' argument of {self._where('kl')} must be a natgrad "
                f"distribution. Got {describe(other)} instead."
            )
        if len(other) != len(self):
            if len(other) != 1:
                raise ValueError(
                    f"The 'other' argument of {self._where('kl')} must have {len(self)} rows "
                    f"(or one, broadcast). Got {len(other)} instead."
                )
            other = other.with_params(np.repeat(other.params, len(self), axis=0))
        fn = _KL_REGISTRY.get((type(self), type(other)))
        if fn is not None:
            return fn(self, other)
        if rng is None:
            raise ValueError(
                f"KL({type(self).__name__} ‖ {type(other).__name__}) has no closed form; pass "
                "rng=numpy.random.default_rng(seed) for a Monte Carlo estimate."
            )
        return self.kl_monte_carlo(other, rng=rng, n_samples=n_samples)

    def kl_monte_carlo(
        self, other: Distribution, *, rng: np.random.Generator, n_samples: int = 10_000
    ) -> Array:
        """Monte Carlo estimate of KL(self ‖ other): mean of nll_other(x) − nll_self(x)."""
        rng = as_generator(rng, self._where("kl_monte_carlo"))
        x = self.sample(n_samples, rng)
        return np.mean(other._nll(x) - self._nll(x), axis=0)

    # ------------------------------------------------------------------ distribution functions
    def to_scipy(self) -> Any:
        """The equivalent frozen `scipy.stats` distribution (vectorised over the batch)."""
        raise NotImplementedError(f"{type(self).__name__} has no scipy equivalent.")

    def sample(self, size: int, rng: np.random.Generator | int | None = None) -> Array:
        """Draw ``size`` samples of every distribution: shape (size, n) (+ event shape).

        ``rng`` is what `numpy.random.default_rng` takes: a Generator, an int seed, or None
        for fresh operating-system entropy.
        """
        size, rng = self._check_sample_args(size, rng)
        return np.asarray(self.to_scipy().rvs(size=(size, len(self)), random_state=rng))

    def _check_sample_args(
        self, size: int, rng: np.random.Generator | int | None
    ) -> tuple[int, np.random.Generator]:
        """Validate `sample`'s arguments; families overriding `sample` call this first."""
        rng = as_generator(rng, self._where("sample"))
        if not isinstance(size, int | np.integer) or size < 1:
            raise ValueError(
                f"The 'size' argument of {self._where('sample')} must be a positive integer. "
                f"Got {describe(size)} instead."
            )
        return int(size), rng

    def mean(self) -> Array:
        """Mean of every distribution, shape (n,)."""
        return np.asarray(self.to_scipy().mean(), dtype=np.float64) * np.ones(len(self))

    def var(self) -> Array:
        """Variance of every distribution, shape (n,)."""
        return np.asarray(self.to_scipy().var(), dtype=np.float64) * np.ones(len(self))

    def std(self) -> Array:
        """Standard deviation, shape (n,)."""
        return np.sqrt(self.var())

    def _check_prob(self, q: ArrayLike, name: str, method: str) -> Array:
        arr = as_float_array(q, name, self._where(method))
        if not np.all((arr >= 0) & (arr <= 1)):
            raise ValueError(
                f"The {name!r} argument of {self._where(method)} must hold probabilities in "
                f"[0, 1]. Got {describe(q)} instead."
            )
        return arr

    def median(self) -> Array:
        """Median of every distribution, shape (n,) (the lower median for discrete ones)."""
        return self.ppf(0.5)

    def pdf(self, y: ArrayLike) -> Array:
        """Density (probability mass for discrete families) of ``y``; exp of `logpdf`."""
        return np.exp(self.logpdf(y))

    def cdf(self, y: ArrayLike) -> Array:
        """Cumulative distribution function at ``y`` (broadcast against the batch)."""
        arr = as_float_array(y, "y", self._where("cdf"))
        return np.asarray(self.to_scipy().cdf(arr), dtype=np.float64)

    def sf(self, y: ArrayLike) -> Array:
        """Survival function 1 − cdf at ``y``."""
        arr = as_float_array(y, "y", self._where("sf"))
        return np.asarray(self.to_scipy().sf(arr), dtype=np.float64)

    def ppf(self, q: ArrayLike) -> Array:
        """Quantile function at probabilities ``q``.

        Parameters
        ----------
        q : float or array-like
            A scalar gives shape (n,). A 1-d list of m probabilities whose length is not the
            batch size n gives shape (n, m), one column per probability (use `quantiles` to
            get that form whatever m is). Any other shape broadcasts against the batch as in
            `scipy.stats`: shape (n,) holds one probability per row.
        """
        arr = self._check_prob(q, "q", "ppf")
        if arr.ndim == 1 and len(self) > 1 and arr.shape[0] not in (1, len(self)):
            return self.quantiles(arr)
        return self._ppf(arr)

    def quantiles(self, q: ArrayLike) -> Array:
        """Quantiles at each of m probabilities for every row: shape (n, m).

        Parameters
        ----------
        q : float or array-like of shape (m,)
            Probabilities in [0, 1].
        """
        arr = np.atleast_1d(self._check_prob(q, "q", "quantiles"))
        if arr.ndim != 1:
            raise ValueError(
                f"The 'q' argument of {self._where('quantiles')} must be a scalar or a 1-d "
                f"list of probabilities. Got shape {arr.shape} instead."
            )
        grid = np.broadcast_to(arr[:, None], (arr.shape[0], len(self)))
        return np.ascontiguousarray(np.asarray(self._ppf(grid), dtype=np.float64).T)

    def _ppf(self, q: Array) -> Array:
        """Quantiles at ``q`` broadcast against the batch as in scipy (checked probabilities)."""
        return np.asarray(self.to_scipy().ppf(q), dtype=np.float64)

    def interval(self, level: float = 0.9) -> tuple[Array, Array]:
        """Central interval holding probability ``level``: (lower, upper), each (n,)."""
        if not isinstance(level, float | int) or not 0 < level < 1:
            raise ValueError(
                f"The 'level' argument of {self._where('interval')} must be a float in the "
                f"range (0, 1). Got {describe(level)} instead."
            )
        alpha = (1.0 - level) / 2.0
        return self.ppf(np.full(len(self), alpha)), self.ppf(np.full(len(self), 1.0 - alpha))

    # ------------------------------------------------------------------ marginal fit
    @classmethod
    def fit_marginal(
        cls, y: ArrayLike, sample_weight: ArrayLike | None = None, **config: Any
    ) -> Array:
        """Maximum-likelihood parameters of one distribution for all of ``y``: shape (1, p).

        Parameters
        ----------
        y : array-like of shape (n,) (or (n, k) for vector families)
            Targets, inside the family's support.
        sample_weight : array-like of shape (n,), optional
            Non-negative weights with a positive sum.
        **config
            Family configuration, as for `from_params`.
        """
        probe = cls.__new__(cls)
        probe._configure(**config)
        where = f"{cls.__name__}.fit_marginal"
        arr = as_float_array(y, "y", where)
        if arr.ndim != 1 + cls.event_dim or arr.shape[0] == 0:
            shape = "(n,)" if not cls.event_dim else "(n, k)"
            raise ValueError(
                f"The 'y' argument of {where} must be a non-empty array of shape {shape}. "
                f"Got shape {arr.shape} instead."
            )
        check_finite(arr, "y", where)
        probe._check_support(arr, where)
        w = check_sample_weight(sample_weight, arr.shape[0], where)
        theta = probe._fit_marginal(arr, w / w.sum())
        return np.asarray(theta, dtype=np.float64).reshape(1, probe.n_params)

    def _fit_marginal(self, y: Array, w: Array) -> Array:
        """Weighted maximum likelihood by L-BFGS from `_initial_params` (w sums to 1).

        Families with a closed-form estimator override this.
        """
        n = y.shape[0]
        start = np.asarray(self._initial_params(y, w), dtype=np.float64)

        def objective(theta: Array) -> tuple[float, Array]:
            dist = self.with_params(np.broadcast_to(theta, (n, self.n_params)), validate=False)
            value = float(w @ dist._nll(y))
            gradient = w @ dist._grad(y)
            if not np.isfinite(value):
                return 1e300, np.zeros_like(theta)
            return value, gradient

        result = optimize.minimize(objective, start, jac=True, method="L-BFGS-B")
        return np.asarray(result.x)

    def _initial_params(self, y: Array, w: Array) -> Array:
        raise NotImplementedError

    # ------------------------------------------------------------------ family kernels
    def _nll(self, y: Array) -> Array:
        raise NotImplementedError

    def _grad(self, y: Array) -> Array:
        raise NotImplementedError

    def _fisher(self) -> Array:
        raise NotImplementedError

    def _natural(self) -> dict[str, Array]:
        raise NotImplementedError

    def _from_natural(self, **natural: Array) -> Array:
        raise NotImplementedError
