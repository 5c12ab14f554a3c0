"""The multivariate normal family, parameterised by the mean and the precision's Cholesky factor."""

from __future__ import annotations

import math
from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from natgrad._validation import as_float_array, check_finite, describe
from natgrad.distributions._base import Array, Distribution, register_kl
from natgrad.distributions._support import REAL
from natgrad.distributions.poisson import _expm1mx

_LOG_2PI = math.log(2.0 * math.pi)
# Relative asymmetry of a covariance matrix the constructor accepts (it is then symmetrised).
_SYM_TOL = 1e-8
# The marginal fit adds a ridge of this size (relative to the mean variance) when the sample
# covariance is singular to rounding: fewer rows than dimensions, or a constant coordinate.
_RIDGE = 1e-10


def _check_dim(dim: Any, where: str) -> int:
    if isinstance(dim, bool) or not isinstance(dim, int | np.integer) or dim < 1:
        raise ValueError(
            f"The 'dim' argument of {where} must be a positive integer. "
            f"Got {describe(dim)} instead."
        )
    return int(dim)


def _tri_inv(lower: Array) -> Array:
    """Inverse of a batch of lower-triangular matrices (n, k, k) by forward substitution.

    Triangular solves are backward stable where a general LU inverse need not be.
    """
    n, k, _ = lower.shape
    inv = np.zeros_like(lower)
    eye = np.eye(k)
    for i in range(k):
        acc = np.broadcast_to(eye[i], (n, k)) - np.einsum("nc,nck->nk", lower[:, i, :i], inv[:, :i])
        inv[:, i] = acc / lower[:, i, i, None]
    return inv


class MultivariateNormal(Distribution):
    """Multivariate normal distributions N(μ, Σ) in k dimensions (targets of shape (n, k)).

    One class serves every k: the dimension is configuration (``dim``). Unconstrained
    parameters: the mean μ (k numbers), then the lower Cholesky factor L of the precision
    Λ = Σ⁻¹ = L Lᵀ, column by column (column j holds L_jj, ..., L_{k−1,j}), with log L_jj on the
    diagonal; p = k + k(k+1)/2. As in NGBoost the precision's factor is used: with
    d = y − μ and z = Lᵀd,

        nll = (k/2) log 2π − Σ_j log L_jj + ½ |z|²
        ∇_μ nll = −L z = −Λ d
        ∂nll/∂L_ij = d_i z_j (i > j),   ∂nll/∂log L_jj = L_jj d_j z_j − 1

    (no matrix inverse in the gradient). Under the model z ~ N(0, I) and d = L⁻ᵀz, so the
    Fisher follows from Gaussian fourth moments. It is block diagonal: Λ for μ, and for each
    column j of L (entries i, i' ≥ j)

        F_(ij),(i'j) = Σ_ii' + [i = i' = j] / L_jj²,

    with rows and columns of the log-diagonal entry scaled by L_jj (so F of log L_jj alone is
    L_jj² Σ_jj + 1); entries of different columns do not interact. This equals the pull-back
    of the (μ, Σ) Fisher, Σ⁻¹ ⊕ ½ tr(Σ⁻¹ dΣ Σ⁻¹ dΣ), through Σ = (L Lᵀ)⁻¹.

    Parameters
    ----------
    loc : array-like of shape (n, k) or (k,)
        Means.
    cov : array-like of shape (n, k, k) or (k, k)
        Symmetric positive definite covariance matrices.

    See Also
    --------
    natgrad.distributions.Normal : One target.

    Examples
    --------
    >>> from natgrad.distributions import MultivariateNormal
    >>> cov = [[[1.0, 0.5], [0.5, 2.0]]]
    >>> dist = MultivariateNormal(loc=[[0.0, 1.0]], cov=cov)
    >>> dist.n_params                               # 2 means + 3 Cholesky entries
    5
    >>> print(dist.cov().round(3))
    [[[1.  0.5]
      [0.5 2. ]]]
    >>> dist.sample(5, rng=0).shape                 # (size, n, k)
    (5, 1, 2)
    """

    name = "multivariate_normal"
    event_dim = 1
    support = REAL
    dim: int
    examples = [
        (
            {"dim": 2},
            [
                [0.0, 0.0, 0.0, 0.0, 0.0],
                [1.0, -2.0, np.log(0.5), 0.8, np.log(2.0)],
                [-3.0, 5.0, 1.5, -4.0, -1.0],
            ],
        ),
        (
            {"dim": 3},
            [
                [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                [1.0, -1.0, 2.0, 0.3, 0.5, -0.4, -0.5, 0.7, 0.2],
                [10.0, 0.0, -5.0, -2.0, 0.0, 0.0, 1.0, 0.0, 2.5],
            ],
        ),
    ]

    def __init__(self, loc: ArrayLike, cov: ArrayLike) -> None:
        where = type(self).__name__
        mu = as_float_array(loc, "loc", where)
        sigma = as_float_array(cov, "cov", where)
        if mu.ndim == 1:
            mu = mu[None]
        if sigma.ndim == 2:
            sigma = sigma[None]
        if mu.ndim != 2 or mu.shape[1] == 0:
            raise ValueError(
                f"The 'loc' argument of {where} must have shape (n, k) or (k,). "
                f"Got shape {np.shape(loc)} instead."
            )
        k = mu.shape[1]
        if sigma.ndim != 3 or sigma.shape[1:] != (k, k):
            raise ValueError(
                f"The 'cov' argument of {where} must have shape (n, {k}, {k}) or ({k}, {k}) "
                f"to match 'loc'. Got shape {np.shape(cov)} instead."
            )
        check_finite(mu, "loc", where)
        check_finite(sigma, "cov", where)
        try:
            n = np.broadcast_shapes(mu.shape[:1], sigma.shape[:1])[0]
        except ValueError as exc:
            raise ValueError(
                f"The parameters of {where} must have the same number of rows. Got 'loc' of "
                f"shape {mu.shape} and 'cov' of shape {sigma.shape} instead."
            ) from exc
        if n == 0:
            raise ValueError(f"The parameters of {where} must describe at least one row. Got 0.")
        scale = np.abs(sigma).max(axis=(1, 2), keepdims=True)
        if not (np.abs(sigma - np.swapaxes(sigma, 1, 2)) <= _SYM_TOL * scale).all():
            raise ValueError(f"The 'cov' argument of {where} must be symmetric.")
        sigma = 0.5 * (sigma + np.swapaxes(sigma, 1, 2))
        try:
            # Σ = R Rᵀ gives Λ = R⁻ᵀ R⁻¹; its lower Cholesky factor is the one we store.
            chol = np.linalg.cholesky(np.broadcast_to(sigma, (n, k, k)).copy())
            r_inv = _tri_inv(np.asarray(chol, dtype=np.float64))
            prec = np.einsum("nca,ncb->nab", r_inv, r_inv)
            lower = np.linalg.cholesky(0.5 * (prec + np.swapaxes(prec, 1, 2)))
        except np.linalg.LinAlgError:
            lower = None
        if lower is None or not np.isfinite(lower).all():
            raise ValueError(
                f"The 'cov' argument of {where} must be positive definite. Got a matrix "
                "whose Cholesky factorisation fails."
            )
        self._configure(dim=k)
        self._params = np.ascontiguousarray(
            np.concatenate([np.broadcast_to(mu, (n, k)), self._pack(lower)], axis=1)
        )

    # ------------------------------------------------------------------ configuration
    def _configure(self, dim: Any = None, **config: Any) -> None:
        super()._configure(**config)  # rejects unknown options
        k = _check_dim(dim, type(self).__name__)
        self.dim = k
        self.n_params = k + k * (k + 1) // 2
        # Lower-triangle positions column by column: (rows[a], cols[a]) for parameter k + a.
        cols, rows = np.triu_indices(k)
        self._rows, self._cols = rows, cols
        self._diag = np.flatnonzero(rows == cols)
        names = [f"loc_{i}" for i in range(k)]
        names += [
            f"log_prec_chol_{i}_{j}" if i == j else f"prec_chol_{i}_{j}"
            for i, j in zip(rows, cols, strict=True)
        ]
        self.param_names = tuple(names)

    @property
    def config(self) -> dict[str, Any]:
        return {"dim": self.dim}

    @classmethod
    def from_params(cls, params: ArrayLike, **config: Any) -> Self:
        """A batch from parameters of shape (n, k + k(k+1)/2).

        ``dim`` defaults to the k that matches ``params.shape[1]``.
        """
        if config.get("dim") is None:
            shape = np.shape(params)
            p = shape[1] if len(shape) == 2 else 0
            k = int(round((math.sqrt(9 + 8 * p) - 3) / 2))
            if p == 0 or k + k * (k + 1) // 2 != p:
                raise ValueError(
                    f"The 'params' argument of {cls.__name__}.from_params must have shape "
                    f"(n, k + k(k+1)/2) for some dimension k (or pass dim=k). Got shape "
                    f"{shape} instead."
                )
            config["dim"] = k
        return super().from_params(params, **config)

    @classmethod
    def fit_marginal(
        cls, y: ArrayLike, sample_weight: ArrayLike | None = None, **config: Any
    ) -> Array:
        """Weighted mean and covariance (maximum likelihood): shape (1, p).

        ``dim`` defaults to ``y.shape[1]``. When the weighted covariance is singular to
        rounding, a ridge of 1e-10 times its mean variance is added to the diagonal.
        """
        if config.get("dim") is None:
            shape = np.shape(y)
            config["dim"] = shape[1] if len(shape) == 2 and shape[1] > 0 else 1
        return super().fit_marginal(y, sample_weight, **config)

    def _fit_marginal(self, y: Array, w: Array) -> Array:
        mu = w @ y
        d = y - mu
        cov = (d * w[:, None]).T @ d
        cov = 0.5 * (cov + cov.T)
        eig = np.linalg.eigvalsh(cov)
        if eig[0] <= 1e-12 * max(eig[-1], 0.0):
            ridge = max(_RIDGE * np.trace(cov) / self.dim, (1e-8 * max(np.abs(mu).max(), 1.0)) ** 2)
            cov = cov + ridge * np.eye(self.dim)
        lower = np.linalg.cholesky(np.linalg.inv(cov)[None])
        return np.concatenate([mu, self._pack(lower)[0]])

    # ------------------------------------------------------------------ parameters
    def _pack(self, lower: Array) -> Array:
        """(n, k, k) lower factors -> (n, k(k+1)/2) parameters (log on the diagonal)."""
        flat = lower[:, self._rows, self._cols].copy()
        flat[:, self._diag] = np.log(flat[:, self._diag])
        return flat

    def _chol_prec(self) -> Array:
        """L, shape (n, k, k), with Λ = Σ⁻¹ = L Lᵀ."""
        k = self.dim
        flat = self._params[:, k:].copy()
        flat[:, self._diag] = np.exp(flat[:, self._diag])
        lower = np.zeros((len(self), k, k))
        lower[:, self._rows, self._cols] = flat
        return lower

    @property
    def loc(self) -> Array:
        """Means, shape (n, k)."""
        return self._params[:, : self.dim]

    def cov(self) -> Array:
        """Covariance matrices Σ = L⁻ᵀL⁻¹, shape (n, k, k)."""
        inv = _tri_inv(self._chol_prec())
        return np.einsum("nca,ncb->nab", inv, inv)

    def precision(self) -> Array:
        """Precision matrices Λ = L Lᵀ, shape (n, k, k)."""
        lower = self._chol_prec()
        return lower @ np.swapaxes(lower, 1, 2)

    def _natural(self) -> dict[str, Array]:
        return {"loc": self.loc.copy(), "cov": self.cov()}

    # ------------------------------------------------------------------ validation
    def check_y(self, y: ArrayLike, method: str = "nll") -> Array:
        """Validate targets of shape (n, k) or (m, n, k) (a single (k,) target broadcasts)."""
        arr = as_float_array(y, "y", self._where(method))
        self._check_event(arr, self._where(method))
        return super().check_y(arr, method)

    def _check_event(self, y: Array, where: str) -> None:
        if y.ndim == 0 or y.shape[-1] != self.dim:
            raise ValueError(
                f"The 'y' argument of {where} must have a last axis of length {self.dim} "
                f"(shape (n, {self.dim}) or (m, n, {self.dim})). Got shape {y.shape} instead."
            )

    def _check_support(self, y: Array, where: str) -> None:
        self._check_event(y, where)
        super()._check_support(y, where)

    # ------------------------------------------------------------------ geometry
    def _nll(self, y: Array) -> Array:
        lower = self._chol_prec()
        z = np.einsum("nij,...ni->...nj", lower, y - self.loc)
        log_det = self._params[:, self.dim :][:, self._diag].sum(axis=1)
        return 0.5 * self.dim * _LOG_2PI - log_det + 0.5 * np.sum(z * z, axis=-1)

    def _grad(self, y: Array) -> Array:
        lower = self._chol_prec()
        d = y - self.loc
        z = np.einsum("nij,...ni->...nj", lower, d)
        g_loc = -np.einsum("nij,...nj->...ni", lower, z)
        g_chol = d[..., self._rows] * z[..., self._cols]
        diag_vals = lower[:, self._rows[self._diag], self._cols[self._diag]]  # L_jj, (n, k)
        g_chol[..., self._diag] = g_chol[..., self._diag] * diag_vals - 1.0
        return np.concatenate([g_loc, g_chol], axis=-1)

    def _fisher(self) -> Array:
        k, n = self.dim, len(self)
        lower = self._chol_prec()
        inv = _tri_inv(lower)
        sigma = np.swapaxes(inv, 1, 2) @ inv
        out = np.zeros((n, self.n_params, self.n_params))
        out[:, :k, :k] = lower @ np.swapaxes(lower, 1, 2)
        # Column j of L is the contiguous run of k − j parameters (L_jj, ..., L_{k−1,j}), and
        # its block is Σ[j:, j:] with the log-diagonal's row and column scaled by L_jj. Block
        # slices, not fancy indexing: several times faster in the stage loop.
        start = k
        for j in range(k):
            stop = start + k - j
            block = out[:, start:stop, start:stop]
            block[...] = sigma[:, j:, j:]
            diag = lower[:, j, j, None]
            block[:, 0, :] *= diag
            block[:, :, 0] *= diag
            block[:, 0, 0] += 1.0  # the [i = i' = j] / L_jj² term, times L_jj²
            start = stop
        return out

    # ------------------------------------------------------------------ distribution functions
    def to_scipy(self) -> list[Any]:
        """One frozen `scipy.stats.multivariate_normal` per row (a list of length n)."""
        sigma = self.cov()
        return [
            stats.multivariate_normal(mean=m, cov=s) for m, s in zip(self.loc, sigma, strict=True)
        ]

    def mean(self) -> Array:
        """Means, shape (n, k)."""
        return self.loc.copy()

    def var(self) -> Array:
        """Marginal variances (the diagonal of Σ), shape (n, k)."""
        inv = _tri_inv(self._chol_prec())
        return np.sum(inv * inv, axis=1)

    def std(self) -> Array:
        return np.sqrt(self.var())

    def sample(self, size: int, rng: np.random.Generator | int | None = None) -> Array:
        """Draws of shape (size, n, k): μ + L⁻ᵀ ε with ε standard normal."""
        size, rng = self._check_sample_args(size, rng)
        inv = _tri_inv(self._chol_prec())
        eps = rng.standard_normal((size, len(self), self.dim))
        return self.loc + np.einsum("nca,snc->sna", inv, eps)

    def _undefined(self, what: str) -> NotImplementedError:
        return NotImplementedError(
            f"{type(self).__name__}.{what} is not defined for a multivariate distribution."
        )

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


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p: MultivariateNormal, q: MultivariateNormal) -> Array:
    """KL(N(μ₀, Σ₀) ‖ N(μ₁, Σ₁)) through the precision factors L₀, L₁.

    With A = L₁ᵀ L₀⁻ᵀ (upper triangular, A_jj = L₁,jj / L₀,jj) and u_j = log A_jj:

        KL = ½ [ Σ_j (e^{2u_j} − 1 − 2u_j) + Σ_{a≠b} A_ab² + |L₁ᵀ(μ₁ − μ₀)|² ],

    which is ½[tr(Σ₁⁻¹Σ₀) − k + log det Σ₁/det Σ₀ + (μ₁−μ₀)ᵀΣ₁⁻¹(μ₁−μ₀)] written without
    cancelling terms.
    """
    if p.dim != q.dim:
        raise ValueError(
            f"The 'other' argument of MultivariateNormal.kl must have dimension {p.dim}. "
            f"Got {q.dim} instead."
        )
    k = p.dim
    l0, l1 = p._chol_prec(), q._chol_prec()
    inv0 = _tri_inv(l0)
    a = np.einsum("nca,nbc->nab", l1, inv0)
    off = ~np.eye(k, dtype=bool)
    u = q._params[:, k:][:, q._diag] - p._params[:, k:][:, p._diag]
    shift = np.einsum("nca,nc->na", l1, q.loc - p.loc)
    return 0.5 * (
        _expm1mx(2.0 * u).sum(axis=1)
        + np.sum(a[:, off] ** 2, axis=1)
        + np.sum(shift * shift, axis=1)
    )
