"""Fitting one distribution to data with any optimizer, in any coordinates.

`fit_distribution` minimises the weighted mean negative log-likelihood of a single
distribution (a batch of one, parameters of shape (1, p)) with a `natgrad.optim` optimizer.
The loss and its geometry live in an `Objective`; an optional `Parameterization` φ ↦ θ lets
the same family be fitted in other coordinates, with the family's geometry pulled back
through the Jacobian J = ∂θ/∂φ:

    ∇_φ L = Jᵀ ∇_θ L,      F_φ = Jᵀ F_θ J.

Public: `fit_distribution` and `FitResult` (also importable from ``natgrad``), and the
coordinates: `Parameterization` with two ready ones, `NORMAL_LOC_SCALE` and
`GAMMA_LOG_MEAN`.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from natgrad import optim
from natgrad._natural import solve_psd
from natgrad._typing import Array
from natgrad._validation import as_float_array, check_finite, check_sample_weight, describe
from natgrad.distributions import Distribution, get, has_closed_form_kl

__all__ = [
    "GAMMA_LOG_MEAN",
    "NORMAL_LOC_SCALE",
    "FitResult",
    "Parameterization",
    "fit_distribution",
]

logger = logging.getLogger(__name__)

#: Most halvings of one update whose new loss is not finite before the fit gives up.
MAX_HALVINGS = 60


# ---------------------------------------------------------------------- parameterizations
@dataclass(frozen=True)
class Parameterization:
    """Coordinates φ for a family, through a smooth invertible map φ ↦ θ.

    Pass one as ``parameterization=`` to `fit_distribution` to fit a family in other
    coordinates than its own: the natural gradient's path does not change (up to the step
    size's discretisation; not at all for a linear map), while plain gradient descent, Adam
    and the other first-order optimizers take different paths. `NORMAL_LOC_SCALE` and
    `GAMMA_LOG_MEAN` are ready-made; build your own for other coordinates.

    θ are the family's unconstrained parameters. All functions act on rows: arrays of shape
    (n, p) (``jacobian`` returns (n, p, p) with ``J[i, a, b] = ∂θ_a/∂φ_b``). A φ outside the
    map's domain must give a non-finite θ (the fit then halves its step).

    Attributes
    ----------
    name : str
        A label for plots and messages.
    param_names : tuple of str
        Names of the coordinates φ.
    to_params : callable, ndarray of shape (n, p) -> ndarray of shape (n, p)
        φ -> θ.
    from_params : callable, ndarray of shape (n, p) -> ndarray of shape (n, p)
        θ -> φ, the inverse of ``to_params``.
    jacobian : callable, ndarray of shape (n, p) -> ndarray of shape (n, p, p)
        φ -> ∂θ/∂φ.

    See Also
    --------
    fit_distribution : Takes a parameterization as ``parameterization=``.
    natgrad.compare : Runs optimizers in several parameterizations and plots their paths.

    Examples
    --------
    The Normal in (μ, σ): θ = (μ, log σ), so J = diag(1, 1/σ).

    >>> import numpy as np
    >>> from natgrad import fit_distribution
    >>> from natgrad.fit import GAMMA_LOG_MEAN, NORMAL_LOC_SCALE, Parameterization
    >>> NORMAL_LOC_SCALE.param_names
    ('loc', 'scale')
    >>> phi = np.array([[3.0, 0.5]])
    >>> NORMAL_LOC_SCALE.to_params(phi).round(4)
    array([[ 3.    , -0.6931]])
    >>> NORMAL_LOC_SCALE.jacobian(phi)[0]
    array([[1., 0.],
           [0., 2.]])

    Fitting in these coordinates reaches the same maximum-likelihood fit; the result's
    ``params`` are in the fit's coordinates (here μ and σ themselves).

    >>> y = np.random.default_rng(0).normal(loc=3.0, scale=0.5, size=200)
    >>> fit = fit_distribution(y, "normal", parameterization=NORMAL_LOC_SCALE)
    >>> fit.converged, fit.params.round(3)
    (True, array([[3.008, 0.481]]))

    The Gamma in (log shape, log mean) is a linear map of (log shape, log rate): the natural
    gradient takes exactly the same steps in both.

    >>> g = np.random.default_rng(0).gamma(shape=3.0, scale=2.0, size=500)
    >>> own = fit_distribution(g, "gamma")
    >>> by_mean = fit_distribution(g, "gamma", parameterization=GAMMA_LOG_MEAN)
    >>> own.n_steps == by_mean.n_steps, np.allclose(own.loss_history, by_mean.loss_history)
    (True, True)
    >>> np.exp(by_mean.params).round(2)                     # shape and mean
    array([[3.24, 5.75]])

    Your own coordinates: the Normal in (μ, log variance), θ = (μ, ½ log v).

    >>> loc_log_var = Parameterization(
    ...     "normal (loc, log variance)",
    ...     ("loc", "log_var"),
    ...     to_params=lambda p: np.column_stack([p[:, 0], 0.5 * p[:, 1]]),
    ...     from_params=lambda t: np.column_stack([t[:, 0], 2.0 * t[:, 1]]),
    ...     jacobian=lambda p: np.broadcast_to(np.diag([1.0, 0.5]), (len(p), 2, 2)).copy(),
    ... )
    >>> fit_distribution(y, "normal", parameterization=loc_log_var).params.round(3)
    array([[ 3.008, -1.465]])
    """

    name: str
    param_names: tuple[str, ...]
    to_params: Callable[[Array], Array]
    from_params: Callable[[Array], Array]
    jacobian: Callable[[Array], Array]


def _normal_scale_to(phi: Array) -> Array:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.column_stack([phi[:, 0], np.log(phi[:, 1])])


def _normal_scale_from(theta: Array) -> Array:
    return np.column_stack([theta[:, 0], np.exp(theta[:, 1])])


def _normal_scale_jac(phi: Array) -> Array:
    jac = np.zeros((phi.shape[0], 2, 2))
    jac[:, 0, 0] = 1.0
    with np.errstate(divide="ignore"):
        jac[:, 1, 1] = 1.0 / phi[:, 1]
    return jac


#: The Normal in (μ, σ) instead of its own (μ, log σ): θ = (φ₀, log φ₁), J = diag(1, 1/σ).
#: A nonlinear map: first-order optimizers take other paths here than in (μ, log σ), and a
#: step that makes σ negative is halved. See `Parameterization` for an example.
NORMAL_LOC_SCALE = Parameterization(
    "normal (loc, scale)",
    ("loc", "scale"),
    _normal_scale_to,
    _normal_scale_from,
    _normal_scale_jac,
)

_GAMMA_MEAN = np.array([[1.0, 0.0], [1.0, -1.0]])


def _gamma_mean_to(phi: Array) -> Array:
    return phi @ _GAMMA_MEAN.T


def _gamma_mean_from(theta: Array) -> Array:
    return np.column_stack([theta[:, 0], theta[:, 0] - theta[:, 1]])


def _gamma_mean_jac(phi: Array) -> Array:
    return np.broadcast_to(_GAMMA_MEAN, (phi.shape[0], 2, 2)).copy()


#: The Gamma in (log shape, log mean) instead of its own (log shape, log rate):
#: log rate = log k − log m. A linear map, so natural-gradient paths agree exactly; the
#: Fisher becomes nearly diagonal. See `Parameterization` for an example.
GAMMA_LOG_MEAN = Parameterization(
    "gamma (log shape, log mean)",
    ("log_shape", "log_mean"),
    _gamma_mean_to,
    _gamma_mean_from,
    _gamma_mean_jac,
)


# ---------------------------------------------------------------------- objective
@dataclass(frozen=True)
class Objective:
    """The weighted mean negative log-likelihood of one distribution, in coordinates φ.

    L(φ) = Σⱼ wⱼ nll(yⱼ; θ(φ)) with Σⱼ wⱼ = 1. Build one with `make_objective`. Every method
    takes φ of shape (1, p).

    Attributes
    ----------
    template : Distribution
        A batch of one of the family (its configuration is reused).
    y : ndarray of shape (m, 1) (or (m, 1, k) for vector families)
        Targets, stacked on the leading axis.
    weights : ndarray of shape (m,)
        Normalised weights.
    parameterization : Parameterization or None
        None: φ = θ, the family's own unconstrained coordinates.
    """

    template: Distribution
    y: Array
    weights: Array
    parameterization: Parameterization | None = None

    @property
    def n_params(self) -> int:
        return int(self.template.n_params)

    def theta(self, phi: Array) -> Array:
        """Family parameters θ(φ), shape (1, p)."""
        if self.parameterization is None:
            return phi
        return np.asarray(self.parameterization.to_params(phi), dtype=np.float64)

    def jacobian(self, phi: Array) -> Array | None:
        """∂θ/∂φ, shape (1, p, p); None for the identity."""
        if self.parameterization is None:
            return None
        return np.asarray(self.parameterization.jacobian(phi), dtype=np.float64)

    def dist(self, phi: Array) -> Distribution:
        """The distribution at φ (validated: φ must map to finite θ)."""
        return self.template.with_params(self.theta(phi))

    def loss(self, phi: Array) -> float:
        """L(φ); +inf where θ(φ) or the loss is not finite."""
        theta = self.theta(phi)
        if not np.isfinite(theta).all():
            return np.inf
        with np.errstate(all="ignore"):
            value = float(
                self.weights @ self.template.with_params(theta, validate=False)._nll(self.y)[:, 0]
            )
        return value if np.isfinite(value) else np.inf

    def grad(self, phi: Array) -> Array:
        """∇_φ L = Jᵀ ∇_θ L, shape (1, p); ∇_θ L is the weighted mean of the family's grad."""
        dist = self.template.with_params(self.theta(phi), validate=False)
        g = (self.weights @ dist._grad(self.y)[:, 0, :])[None, :]
        jac = self.jacobian(phi)
        return g if jac is None else np.einsum("nab,na->nb", jac, g)

    def fisher(self, phi: Array) -> Array:
        """F_φ = Jᵀ F_θ J, shape (1, p, p): the Fisher of one observation, which is the Fisher
        of the weighted mean nll of i.i.d. data (weights summing to one)."""
        f = self.template.with_params(self.theta(phi), validate=False)._fisher()
        jac = self.jacobian(phi)
        return f if jac is None else np.einsum("nab,nac,ncd->nbd", jac, f, jac)

    def hessian(self, phi: Array) -> Array:
        """Observed Hessian ∇²_φ L, shape (1, p, p), by central differences of `grad`.

        Column b is (∇L(φ + h_b e_b) − ∇L(φ − h_b e_b)) / (2h_b) with
        h_b = ε^(1/3)·max(1, |φ_b|) (ε the float64 machine epsilon), the step that balances
        truncation and rounding error for central differences; the result is symmetrised.
        2p gradient evaluations: cheap for the few parameters of one distribution.
        """
        p = self.n_params
        h = np.finfo(np.float64).eps ** (1.0 / 3.0) * np.maximum(1.0, np.abs(phi[0]))
        out = np.empty((p, p))
        for b in range(p):
            step = np.zeros_like(phi)
            step[0, b] = h[b]
            out[:, b] = (self.grad(phi + step)[0] - self.grad(phi - step)[0]) / (2.0 * h[b])
        return (0.5 * (out + out.T))[None]

    def step_kl(self, phi_from: Array, phi_to: Array) -> float:
        """KL(p_{φ_from} ‖ p_{φ_to}): closed form where the family registers one, otherwise
        its second-order value ½ δθᵀ F(θ_from) δθ."""
        theta0, theta1 = self.theta(phi_from), self.theta(phi_to)
        d0 = self.template.with_params(theta0, validate=False)
        d1 = self.template.with_params(theta1, validate=False)
        if has_closed_form_kl(type(d0), type(d1)):
            return float(d0.kl(d1)[0])
        delta = theta1 - theta0
        return float(0.5 * np.einsum("ni,nij,nj->n", delta, d0._fisher(), delta)[0])


def make_objective(
    y: ArrayLike,
    family: str | type[Distribution],
    *,
    sample_weight: ArrayLike | None = None,
    parameterization: Parameterization | None = None,
    **family_config: Any,
) -> Objective:
    """Validate data and build the `Objective` of one distribution of ``family``.

    Parameters
    ----------
    y : array-like of shape (m,) (or (m, k) for vector families)
    family : str or Distribution subclass
        A registry name of `natgrad.distributions` or a family class.
    sample_weight : array-like of shape (m,), optional
    parameterization : Parameterization, optional
    **family_config
        Family configuration (e.g. ``n_classes``).
    """
    where = "fit_distribution"
    cls = get(family)
    if cls.event_dim and family_config.get("dim") is None and np.ndim(y) == 2:
        # A vector family's dimension is the targets' width, as the estimators infer it.
        family_config = {**family_config, "dim": int(np.shape(y)[1])}
    template = cls.from_params(np.zeros((1, _n_params(cls, family_config))), **family_config)
    arr = as_float_array(y, "y", where)
    if arr.ndim != 1 + cls.event_dim or arr.shape[0] == 0:
        shape = "(m,)" if not cls.event_dim else "(m, k)"
        raise ValueError(
            f"The 'y' argument of {where} must be a non-empty array of shape {shape}. "
            f"Got shape {arr.shape} instead."
        )
    check_finite(arr, "y", where)
    template._check_support(arr, where)
    w = check_sample_weight(sample_weight, arr.shape[0], where)
    if parameterization is not None and not isinstance(parameterization, Parameterization):
        raise TypeError(
            f"The 'parameterization' argument of {where} must be a Parameterization or None. "
            f"Got {describe(parameterization)} instead."
        )
    stacked = np.ascontiguousarray(arr.reshape((arr.shape[0], 1) + arr.shape[1:]))
    return Objective(template, stacked, w / w.sum(), parameterization)


def _n_params(cls: type[Distribution], config: dict[str, Any]) -> int:
    """p of a family; families sized by their configuration set it per instance."""
    probe = cls.__new__(cls)
    probe._configure(**config)
    return int(probe.n_params)


# ---------------------------------------------------------------------- result and loop
@dataclass
class FitResult:
    """The outcome of `fit_distribution`.

    Attributes
    ----------
    dist : Distribution
        The fitted distribution (a batch of one).
    params : ndarray of shape (1, p)
        Final parameters in the fit's coordinates φ (θ when no parameterization was given).
    loss_history : ndarray of shape (n_steps + 1,)
        Weighted mean nll at the start and after every step.
    path : ndarray of shape (n_steps + 1, p) or None
        Parameters φ at the start and after every step (None when ``record_path=False``).
    kl_history : ndarray of shape (n_steps,)
        KL(p_k ‖ p_{k+1}) between consecutive iterates (closed form where available).
    n_steps : int
        Number of updates applied.
    converged : bool
        Whether ½ gᵀF⁻¹g ≤ tol was reached.
    parameterization : Parameterization or None

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import fit_distribution
    >>> y = np.random.default_rng(0).normal(loc=3.0, scale=0.5, size=200)
    >>> result = fit_distribution(y, "normal")
    >>> result.n_steps, result.converged
    (11, True)
    >>> result.path.shape == (result.n_steps + 1, 2)                 # one row per iterate
    True
    >>> bool(np.all(np.diff(result.loss_history) <= 1e-12))          # the loss never rises
    True
    >>> print(result.dist.loc.round(3), result.dist.scale.round(3))
    [3.008] [0.481]
    """

    dist: Distribution
    params: Array
    loss_history: Array
    path: Array | None
    kl_history: Array
    n_steps: int
    converged: bool
    parameterization: Parameterization | None = None


def _resolve_optimizer(optimizer: Any) -> optim.GradientTransformation:
    if isinstance(optimizer, optim.GradientTransformation):
        return optimizer
    if isinstance(optimizer, str):
        return optim.get(optimizer)
    raise ValueError(
        f"The 'optimizer' argument of fit_distribution must be one of "
        f"{', '.join(repr(n) for n in optim.names())} or a GradientTransformation. "
        f"Got {describe(optimizer)} instead."
    )


def _initial_phi(init: Any, objective: Objective) -> Array:
    """φ₀ from ``init`` given in the family's θ (zeros by default) or as a Distribution."""
    where = "fit_distribution"
    p = objective.n_params
    theta: Array
    if init is None:
        theta = np.zeros((1, p))
    elif isinstance(init, Distribution):
        if type(init) is not type(objective.template) or len(init) != 1:
            raise ValueError(
                f"The 'init' argument of {where} must be a batch of one "
                f"{type(objective.template).__name__}. Got {init!r} instead."
            )
        theta = init.params
    else:
        flat = as_float_array(init, "init", where).reshape(-1)
        if flat.shape != (p,):
            raise ValueError(
                f"The 'init' argument of {where} must hold {p} parameters (shape ({p},) or "
                f"(1, {p})). Got {describe(np.asarray(init))} instead."
            )
        check_finite(flat, "init", where)
        theta = flat[None, :]
    phi = (
        theta
        if objective.parameterization is None
        else objective.parameterization.from_params(theta)
    )
    phi = np.asarray(phi, dtype=np.float64)
    if not np.isfinite(objective.loss(phi)):
        if init is None:
            raise ValueError(
                f"The default start of {where} (every unconstrained parameter 0, "
                f"{objective.template.with_params(theta)!r}) gives a non-finite loss on 'y' "
                "(data far from that scale). Pass 'init' near the data, e.g. "
                "init=family.fit_marginal(y)."
            )
        raise ValueError(
            f"The 'init' argument of {where} gives a non-finite loss on 'y'. Got {theta} instead."
        )
    return phi


def _check_count(value: Any, name: str) -> int:
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 0:
        raise ValueError(
            f"The {name!r} argument of fit_distribution must be a non-negative integer. "
            f"Got {describe(value)} instead."
        )
    return int(value)


def _check_tol(value: Any) -> float:
    ok = isinstance(value, int | float | np.floating) and not isinstance(value, bool)
    if not (ok and np.isfinite(value) and value >= 0):
        raise ValueError(
            f"The 'tol' argument of fit_distribution must be a float in the range [0, inf). "
            f"Got {describe(value)} instead."
        )
    return float(value)


def excess_loss_estimate(grad: Array, fisher: Array) -> float:
    """½ gᵀF⁻¹g: the second-order estimate of L − L* (scale-free, invariant to φ)."""
    ng, _ = solve_psd(fisher, grad, what="Fisher", log_level=logging.DEBUG)
    return float(0.5 * np.sum(grad * ng))


def fit_distribution(
    y: ArrayLike,
    family: str | type[Distribution],
    optimizer: str | optim.GradientTransformation = "natural",
    *,
    sample_weight: ArrayLike | None = None,
    init: ArrayLike | Distribution | None = None,
    max_steps: int = 1000,
    tol: float = 1e-8,
    record_path: bool = True,
    parameterization: Parameterization | None = None,
    **family_config: Any,
) -> FitResult:
    """Fit one distribution of ``family`` to ``y`` by minimising the weighted mean nll.

    Parameters
    ----------
    y : array-like of shape (m,) (or (m, k) for vector families)
        Data, inside the family's support.
    family : str or Distribution subclass
        Registry name (``"normal"``, ``"gamma"``, ...) or family class.
    optimizer : str or GradientTransformation, default "natural"
        A name of `natgrad.optim.names` (built with its defaults) or any transformation.
        It receives ``fisher=`` (F_φ) on every step and ``hessian=`` (the observed Hessian,
        by central differences of the gradient) when it asks for it.
    sample_weight : array-like of shape (m,), optional
        Non-negative weights; the loss is Σ wⱼ nllⱼ / Σ wⱼ.
    init : array-like of shape (p,) or (1, p), or Distribution, optional
        Start, in the family's unconstrained θ (mapped to φ), so that fits in different
        coordinates start from the same distribution. Default: θ = 0, a deliberately generic
        start (a standard Normal; a Gamma with shape and rate 1).
    max_steps : int, default 1000
    tol : float, default 1e-8
        Converged when ½ gᵀF⁻¹g ≤ tol: the squared gradient norm in the Fisher metric, which
        near the optimum estimates the excess loss L − L* and does not depend on φ. (A
        loss-change rule is not used: it calls a slow optimizer converged.)
    record_path : bool, default True
        Keep φ after every step in `FitResult.path`.
    parameterization : Parameterization, optional
        Fit in coordinates φ with θ = θ(φ) (e.g. `NORMAL_LOC_SCALE`, `GAMMA_LOG_MEAN`);
        gradient and Fisher are pulled back. Default: the family's own θ.
    **family_config
        Family configuration.

    Returns
    -------
    FitResult

    See Also
    --------
    natgrad.compare : Fits with several optimizers and plots their paths.
    natgrad.natural_gradient : The natural gradient of a batch of distributions.

    Notes
    -----
    Each step: g = ∇_φ L, F = F_φ, (updates, state) = optimizer.update(g, state, φ, fisher=F
    [, hessian=H]), φ ← φ + updates. A step whose new loss is not finite (e.g. a scale pushed
    below zero in (μ, σ) coordinates) is halved, up to 60 times, before it is applied; the
    optimizer's state is kept as computed. If no halving helps the fit stops, unconverged.
    The loss is never otherwise checked: an optimizer may increase it.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import fit_distribution
    >>> y = np.random.default_rng(0).gamma(shape=3.0, scale=2.0, size=500)
    >>> result = fit_distribution(y, "gamma")       # natural gradient descent from θ = 0
    >>> result.converged
    True
    >>> print(result.dist.mean().round(2), y.mean().round(2))   # the MLE matches the sample mean
    [5.75] 5.75
    >>> slow = fit_distribution(y, "gamma", "gd", max_steps=result.n_steps)
    >>> bool(slow.loss_history[-1] > result.loss_history[-1])   # plain gradient descent lags
    True
    """
    objective = make_objective(
        y, family, sample_weight=sample_weight, parameterization=parameterization, **family_config
    )
    opt = _resolve_optimizer(optimizer)
    return minimize(
        objective,
        opt,
        _initial_phi(init, objective),
        max_steps=_check_count(max_steps, "max_steps"),
        tol=_check_tol(tol),
        record_path=bool(record_path),
    )


def minimize(
    objective: Objective,
    optimizer: optim.GradientTransformation,
    phi0: Array,
    *,
    max_steps: int,
    tol: float,
    record_path: bool = True,
) -> FitResult:
    """The optimisation loop of `fit_distribution` on a ready `Objective` (no validation)."""
    # A runaway optimizer may overflow intermediate values; the loop handles non-finite
    # losses itself (halving), so numpy's floating-point warnings are only noise here.
    with np.errstate(all="ignore"):
        return _minimize(objective, optimizer, phi0, max_steps, tol, record_path)


def _stopped(reason: str, phi: Array) -> None:
    """Tell the user (a warning, not only a log line) that the fit stopped unconverged."""
    from sklearn.exceptions import ConvergenceWarning

    message = (
        f"fit_distribution stopped before converging: {reason} at {phi[0]}. The result "
        "(converged=False) may be the starting point; pass 'init' near the data (e.g. "
        "init=family.fit_marginal(y)) or rescale y."
    )
    logger.warning(message)
    warnings.warn(message, ConvergenceWarning, stacklevel=4)


def _minimize(
    objective: Objective,
    optimizer: optim.GradientTransformation,
    phi0: Array,
    max_steps: int,
    tol: float,
    record_path: bool,
) -> FitResult:
    phi = np.array(phi0, dtype=np.float64)
    state = optimizer.init(phi)
    loss = objective.loss(phi)
    losses, kls = [loss], []
    path = [phi.copy()] if record_path else None
    need_hessian = False
    converged = False
    for _ in range(max_steps):
        g = objective.grad(phi)
        f = objective.fisher(phi)
        if not (np.isfinite(g).all() and np.isfinite(f).all()):
            # The loss is finite here but its geometry overflowed: the optimizer ran away.
            _stopped("the gradient or the Fisher is not finite", phi)
            break
        if excess_loss_estimate(g, f) <= tol:
            converged = True
            break
        curvature = {"fisher": f}
        if need_hessian:
            curvature["hessian"] = objective.hessian(phi)
        try:
            if not np.isfinite(curvature.get("hessian", 0.0)).all():
                _stopped("the Hessian is not finite", phi)
                break
            updates, new_state = optimizer.update(g, state, phi, **curvature)
        except optim.MissingCurvatureError as exc:
            if exc.name != "hessian" or need_hessian:
                raise
            need_hessian = True  # update is pure: ask again, now with the Hessian
            curvature["hessian"] = objective.hessian(phi)
            if not np.isfinite(curvature["hessian"]).all():
                _stopped("the Hessian is not finite", phi)
                break
            updates, new_state = optimizer.update(g, state, phi, **curvature)
        state = new_state
        updates = np.asarray(updates, dtype=np.float64)
        new_loss = np.inf
        for _halving in range(MAX_HALVINGS + 1):
            if np.isfinite(updates).all():
                new_loss = objective.loss(phi + updates)
            if np.isfinite(new_loss):
                break
            updates = 0.5 * updates
        if not np.isfinite(new_loss):
            _stopped("no step along the update gives a finite loss", phi)
            break
        new_phi = phi + updates
        kls.append(objective.step_kl(phi, new_phi))
        phi, loss = new_phi, new_loss
        losses.append(loss)
        if path is not None:
            path.append(phi.copy())
    else:
        g, f = objective.grad(phi), objective.fisher(phi)
        finite = np.isfinite(g).all() and np.isfinite(f).all()
        converged = bool(finite and excess_loss_estimate(g, f) <= tol)
    return FitResult(
        dist=objective.dist(phi),
        params=phi,
        loss_history=np.asarray(losses),
        path=None if path is None else np.concatenate(path, axis=0),
        kl_history=np.asarray(kls),
        n_steps=len(kls),
        converged=bool(converged),
        parameterization=objective.parameterization,
    )
