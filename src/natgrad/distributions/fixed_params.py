"""A family with some parameters of another family held fixed (e.g. a Normal of unit scale)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from natgrad._validation import describe
from natgrad.distributions._base import Array, Distribution


class FixedParams(Distribution):
    """The sub-family of ``family`` in which the coordinates named in ``fixed`` are constant.

    The free coordinates keep the base family's unconstrained parameterisation, so the
    geometry is the base family's restricted to them: the negative log-likelihood is the
    base's at the full parameter vector, the gradient its free components, and the Fisher
    information its free-by-free block,

        F_free = F[free, free],

    the information about the free coordinates when the others are known (the Fisher of a
    sub-family is the restriction of the metric, not a Schur complement).

    Parameters
    ----------
    family : str
        Registry name of a univariate base family, e.g. ``"normal"``.
    fixed : dict of str to float
        Base-family unconstrained coordinates (``param_names``) and their fixed values, e.g.
        ``{"log_scale": 0.0}`` (unit scale) or ``{"loc": 0.0}``. At least one coordinate
        must stay free.
    family_config : dict, optional
        Configuration of the base family, e.g. ``{"fixed_df": 3.0}`` for ``"student_t"``.
    **natural
        The base family's natural parameters (all of them, those of the fixed coordinates
        at their fixed values), e.g. ``loc=..., scale=1.0``.

    Examples
    --------
    >>> from natgrad.distributions import FixedParams
    >>> dist = FixedParams("normal", {"log_scale": 0.0}, loc=[0.0, 2.0], scale=1.0)
    >>> dist.n_params                               # only the location is free
    1
    >>> print(dist.params)
    [[0.]
     [2.]]
    >>> print(dist.fisher()[:, 0, 0])               # the loc-loc block of Normal's Fisher
    [1. 1.]
    """

    name = "fixed_params"
    examples = [
        ({"family": "normal", "fixed": {"log_scale": 0.0}, "family_config": {}},
         [[0.0], [1.5], [-3.0]]),
        ({"family": "normal", "fixed": {"loc": 0.0}, "family_config": {}},
         [[0.0], [-1.0], [2.0]]),
        ({"family": "student_t", "fixed": {"log_scale": 0.0}, "family_config": {"fixed_df": 3.0}},
         [[0.0], [2.0]]),
    ]  # fmt: skip

    _base: Distribution
    _free: np.ndarray
    _fixed_idx: np.ndarray
    _fixed_values: Array

    def __init__(
        self,
        family: str,
        fixed: dict[str, float],
        family_config: dict[str, Any] | None = None,
        **natural: ArrayLike,
    ) -> None:
        self._configure(family=family, fixed=fixed, family_config=family_config)
        self._set_natural(**natural)

    def _configure(  # type: ignore[override]
        self,
        family: str = "",
        fixed: dict[str, float] | None = None,
        family_config: dict[str, Any] | None = None,
        **config: Any,
    ) -> None:
        from natgrad import distributions

        super()._configure(**config)
        where = "FixedParams"
        if not isinstance(family, str) or family not in distributions.names():
            raise ValueError(
                f"The 'family' argument of {where} must be a registry name of "
                f"natgrad.distributions. Got {describe(family)} instead."
            )
        base_cls = distributions.get(family)
        base = base_cls.__new__(base_cls)
        base._configure(**dict(family_config or {}))
        if base.event_dim != 0:
            raise ValueError(
                f"The 'family' argument of {where} must be a univariate family. Got {family!r}."
            )
        names = list(base.param_names)
        if (
            not isinstance(fixed, dict)
            or not fixed
            or set(fixed) - set(names)
            or len(fixed) >= len(names)
        ):
            raise ValueError(
                f"The 'fixed' argument of {where} must be a dict holding some, not all, of "
                f"{family!r}'s coordinates {names}. Got {describe(fixed)} instead."
            )
        values = np.array([fixed[k] for k in names if k in fixed], dtype=np.float64)
        if not np.isfinite(values).all():
            raise ValueError(
                f"The 'fixed' argument of {where} must hold finite values. Got {fixed!r}."
            )
        self._family_name = family
        self._family_config = dict(family_config or {})
        self._fixed = {k: float(fixed[k]) for k in names if k in fixed}
        self._base = base
        self._fixed_idx = np.array([i for i, k in enumerate(names) if k in fixed])
        self._free = np.array([i for i, k in enumerate(names) if k not in fixed])
        self._fixed_values = values
        self.n_params = len(self._free)
        self.param_names = tuple(names[i] for i in self._free)
        self.support = base.support
        self.discrete = base.discrete  # type: ignore[misc]
        self.natural_support = base.natural_support  # type: ignore[misc]

    @property
    def config(self) -> dict[str, Any]:
        return {
            "family": self._family_name,
            "fixed": dict(self._fixed),
            "family_config": dict(self._family_config),
        }

    # ------------------------------------------------------------------ the base batch
    def _full(self, params: Array) -> Array:
        lead = params.shape[:-1]
        full = np.empty(lead + (len(self._free) + len(self._fixed_idx),))
        full[..., self._free] = params
        full[..., self._fixed_idx] = self._fixed_values
        return full

    def base(self) -> Distribution:
        """The batch of the base family at the full parameter vectors."""
        return self._base.with_params(self._full(self._params), validate=False)

    def _from_natural(self, **natural: Array) -> Array:
        full = self._base._from_natural(**natural)
        if not np.allclose(full[:, self._fixed_idx], self._fixed_values, rtol=1e-12, atol=1e-12):
            raise ValueError(
                f"The natural parameters of FixedParams must hold the fixed coordinates "
                f"{self._fixed} at their values. Got {natural!r} instead."
            )
        return full[:, self._free]

    def _natural(self) -> dict[str, Array]:
        return self.base()._natural()

    # ------------------------------------------------------------------ kernels
    def _nll(self, y: Array) -> Array:
        return self.base()._nll(y)

    def _grad(self, y: Array) -> Array:
        return self.base()._grad(y)[..., self._free]

    def _fisher(self) -> Array:
        fisher = self.base()._fisher()
        return fisher[:, self._free][:, :, self._free]

    def _initial_params(self, y: Array, w: Array) -> Array:
        theta = self._base.with_params(np.zeros((1, len(self._base.param_names))))
        start = type(theta).fit_marginal(y, w, **self._family_config)[0]
        return start[self._free]

    # ------------------------------------------------------------------ distribution functions
    def kl(
        self,
        other: Distribution,
        *,
        rng: np.random.Generator | None = None,
        n_samples: int = 10_000,
    ) -> Array:
        """KL(self ‖ other): the base family's KL between the full parameter vectors."""
        if isinstance(other, FixedParams):
            other = other.base()
        return self.base().kl(other, rng=rng, n_samples=n_samples)

    def to_scipy(self) -> Any:
        return self.base().to_scipy()

    def mean(self) -> Array:
        return self.base().mean()

    def var(self) -> Array:
        return self.base().var()

    def cdf(self, y: ArrayLike) -> Array:
        return self.base().cdf(y)

    def sf(self, y: ArrayLike) -> Array:
        return self.base().sf(y)

    def ppf(self, q: ArrayLike) -> Array:
        return self.base().ppf(q)

    def sample(self, size: int, rng: np.random.Generator | int | None = None) -> Array:
        return self.base().sample(size, rng)
