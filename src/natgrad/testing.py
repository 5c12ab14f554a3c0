"""Shared identity checks for distribution families.

`check_distribution` verifies, on every example parameter set a family declares (the class
attribute ``examples``), the identities that tie a family's closed-form geometry together:

* structure: shapes of params, nll, grad, Fisher and samples; everything finite;
* batch = loop: the batch gives the same nll, gradient and Fisher as each row taken alone;
* pickle, `from_params` and natural-parameter round trips;
* ∇nll equals central finite differences of nll;
* the Fisher is symmetric positive semi-definite;
* KL(p_θ ‖ p_{θ±εv}) ≈ ½ ε² vᵀF v (closed-form KL only);
* E[∇nll] = 0, E[∇nll ∇nllᵀ] = F and E[∇² nll] = F, by Monte Carlo;
* closed-form KL equals the Monte Carlo KL;
* `fit_marginal` recovers the parameters; integer weights equal duplicated rows.

Monte Carlo comparisons use a tolerance of ``Z_SCORE`` = 5 standard errors of the Monte Carlo
mean (the standard error estimated from the same draws): under the central limit theorem each
compared number raises a false alarm with probability P(|N(0, 1)| > 5) ≈ 5.7e-7, so a family
with a few hundred compared numbers has a false-alarm rate below 1e-3 (Bonferroni). Seeds are
fixed, so a given run is reproducible.
"""

from __future__ import annotations

import logging
import pickle
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

import numpy as np
from numpy.typing import ArrayLike

from natgrad._typing import Array
from natgrad._validation import check_rng, describe
from natgrad.distributions import Distribution, get, has_closed_form_kl

__all__ = [
    "Z_SCORE",
    "SkippedCheckWarning",
    "check_distribution",
    "numerical_grad",
    "numerical_hessian",
]

logger = logging.getLogger(__name__)

#: Standard errors a Monte Carlo mean may stray from its expected value (two-sided
#: false-alarm rate 5.7e-7 per compared number).
Z_SCORE = 5.0
#: Relative tolerance of analytic gradients against central finite differences.
GRAD_RTOL = 1e-5
#: Step ε of the KL check and the tolerance of the ratio KL / (½ ε² vᵀFv) around 1.
KL_EPS = 1e-3
KL_RATIO_TOL = 1e-2
#: Relative step of the finite differences: h_j = FD_EPS · max(1, |θ_j|).
FD_EPS = 1e-5
#: Step of the Hessian check in Fisher units: h_j = HESSIAN_STEP / sqrt(F_jj).
HESSIAN_STEP = 1e-2
_N_KL_DIRECTIONS = 3
_N_FD_TARGETS = 5
_N_WEIGHTED = 2000
_DEFAULT_SEED = 20240601


class SkippedCheckWarning(UserWarning):
    """A check of `check_distribution` could not run for a family (e.g. no closed-form KL).

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from natgrad.testing import SkippedCheckWarning, check_distribution
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always", SkippedCheckWarning)
    ...     check_distribution("student_t", rng=np.random.default_rng(0), n_samples=2000)
    ...
    >>> any(w.category is SkippedCheckWarning for w in caught)     # no closed-form KL to check
    True
    """


# ---------------------------------------------------------------------- finite differences
def _steps(theta: Array, eps: float) -> Array:
    return eps * np.maximum(1.0, np.abs(theta))


def _shifted(dist: Distribution, j: int, h: Array) -> tuple[Distribution, Distribution, Array]:
    """θ ± h e_j, and the exact width (θ + h) − (θ − h) in floating point."""
    theta = dist.params
    plus, minus = theta.copy(), theta.copy()
    plus[:, j] += h[:, j]
    minus[:, j] -= h[:, j]
    return dist.with_params(plus), dist.with_params(minus), plus[:, j] - minus[:, j]


def numerical_grad(dist: Distribution, y: ArrayLike, eps: float = FD_EPS) -> Array:
    """Central finite differences of `Distribution.nll` in the unconstrained parameters.

    ∂nll/∂θ_j ≈ (nll(θ + h e_j) − nll(θ − h e_j)) / 2h with h = eps · max(1, |θ_j|);
    the error is O(h²) from truncation plus O(ε_machine |nll| / h) from rounding.

    Parameters
    ----------
    dist : Distribution
        A batch of n distributions with p unconstrained parameters.
    y : array-like of shape (n,) or (m, n) (plus the event shape for vector families)
        Targets.
    eps : float
        Relative step.

    Returns
    -------
    ndarray of shape (n, p) or (m, n, p)
        The same layout as `Distribution.grad`.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.distributions import Gamma
    >>> from natgrad.testing import numerical_grad
    >>> dist = Gamma(shape=[2.0, 5.0], rate=1.0)
    >>> y = [1.5, 4.0]
    >>> bool(np.allclose(numerical_grad(dist, y), dist.grad(y), rtol=1e-6))
    True
    """
    y = dist.check_y(y, "nll")
    h = _steps(dist.params, eps)
    columns = []
    for j in range(dist.params.shape[1]):
        plus, minus, width = _shifted(dist, j, h)
        columns.append((plus.nll(y) - minus.nll(y)) / width)
    return np.stack(columns, axis=-1)


def _hessian_columns(dist: Distribution, y: Array, h: Array) -> Iterator[tuple[int, Array]]:
    """Columns j of the Hessian of nll by central differences of the analytic gradient.

    ``h`` of shape (n, p) holds the step of every parameter.
    """
    for j in range(dist.params.shape[1]):
        plus, minus, width = _shifted(dist, j, h)
        yield j, (plus.grad(y) - minus.grad(y)) / width[:, None]


def numerical_hessian(dist: Distribution, y: ArrayLike, eps: float = FD_EPS) -> Array:
    """Hessian of nll by central differences of the analytic `Distribution.grad`.

    H[..., i, j] ≈ (∂_i nll(θ + h e_j) − ∂_i nll(θ − h e_j)) / 2h, h = eps · max(1, |θ_j|).

    Parameters
    ----------
    dist : Distribution
        A batch of n distributions with p unconstrained parameters.
    y : array-like of shape (n,) or (m, n) (plus the event shape for vector families)
        Targets.
    eps : float
        Relative step.

    Returns
    -------
    ndarray of shape (n, p, p) or (m, n, p, p)

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.distributions import Normal
    >>> from natgrad.testing import numerical_hessian
    >>> dist = Normal(loc=0.0, scale=[1.0, 2.0])
    >>> H = numerical_hessian(dist, [0.5, -1.0])   # observed Hessian at y, shape (n, p, p)
    >>> H.shape
    (2, 2, 2)
    >>> y = dist.sample(20000, rng=0)              # E[H] over y ~ p is the Fisher information
    >>> bool(np.allclose(numerical_hessian(dist, y).mean(axis=0), dist.fisher(), atol=0.05))
    True
    """
    y = dist.check_y(y, "grad")
    p = dist.params.shape[1]
    out = np.empty(y.shape[: y.ndim - dist.event_dim] + (p, p))
    for j, column in _hessian_columns(dist, y, _steps(dist.params, eps)):
        out[..., :, j] = column
    return out


# ---------------------------------------------------------------------- one example
@dataclass
class _Case:
    """One (config, rows) example of a family and what the checks share."""

    family: type[Distribution]
    config: dict[str, Any]
    rows: Array
    rng: np.random.Generator
    n_samples: int
    skipped: list[str]
    dist: Distribution = field(init=False)
    x: Array = field(init=False)  # (m, n) + event: draws of every row
    g: Array = field(init=False)  # (m, n, p): gradient of nll at the draws
    fisher: Array = field(init=False)  # (n, p, p)

    def fail(self, identity: str, row: int | None, detail: str) -> NoReturn:
        where = f"{self.family.__name__} ({self.family.name!r}), config {self.config}"
        if row is not None:
            where += f", row {row} (params {np.asarray(self.rows[row]).tolist()})"
        raise AssertionError(f"{where}: identity '{identity}' fails: {detail}")

    def skip(self, identity: str, reason: str) -> None:
        self.skipped.append(f"'{identity}' for config {self.config} ({reason})")

    def label(self, axes: Sequence[str], index: Sequence[int]) -> str:
        names = list(getattr(self.dist, "param_names", ()))
        parts = []
        for axis, k in zip(axes, index, strict=True):
            if axis == "param":
                parts.append(names[k] if len(names) == self.rows.shape[1] else f"param {k}")
            else:
                parts.append(f"{axis} {k}")
        return "[" + ", ".join(parts) + "]" if parts else ""

    def assert_close(
        self,
        identity: str,
        actual: ArrayLike,
        expected: ArrayLike,
        tol: ArrayLike,
        *,
        axes: Sequence[str] = (),
        se: ArrayLike | None = None,
        row: int | None = None,
    ) -> None:
        """|actual − expected| ≤ tol elementwise; arrays have the row axis first.

        With ``row``, the arrays belong to that one row and have no row axis.
        """
        actual, expected = np.asarray(actual, float), np.asarray(expected, float)
        if row is not None:
            actual, expected, tol = actual[None], expected[None], np.asarray(tol, float)[None]
            se = None if se is None else np.asarray(se, float)[None]
        shape = np.broadcast_shapes(actual.shape, expected.shape, np.shape(tol))
        actual, expected = np.broadcast_to(actual, shape), np.broadcast_to(expected, shape)
        tol = np.broadcast_to(np.asarray(tol, float), shape)
        bad = ~(np.abs(actual - expected) <= tol)  # NaN counts as a failure
        if not bad.any():
            return
        first = tuple(int(k) for k in np.argwhere(bad)[0])
        detail = (
            f"{self.label(axes, first[1:])} got {actual[first]:.9g}, expected "
            f"{expected[first]:.9g}; |difference| {abs(actual[first] - expected[first]):.3g} "
            f"> tolerance {tol[first]:.3g}"
        )
        if se is not None:
            se_first = np.broadcast_to(np.asarray(se, float), shape)[first]
            detail += f" ({Z_SCORE:g} standard errors of {se_first:.3g} plus slack)"
        where = first[0] if row is None else row
        self.fail(identity, where, detail + f"; {int(bad.sum())} element(s) fail in all")


def _same_config(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return set(a) == set(b) and all(np.array_equal(a[k], b[k]) for k in a)


def _mean_se(values: Array) -> tuple[Array, Array]:
    """Mean over the leading sample axis and its standard error."""
    m = values.shape[0]
    return values.mean(axis=0), values.std(axis=0, ddof=1) / np.sqrt(m)


def _fisher_scale(fisher: Array) -> Array:
    """sqrt(F_ii F_jj), shape (n, p, p): the natural size of entry (i, j)."""
    d = np.sqrt(np.abs(np.diagonal(fisher, axis1=1, axis2=2)))
    return d[:, :, None] * d[:, None, :]


# ---------------------------------------------------------------------- the checks
def _check_structure(case: _Case) -> None:
    identity = "shapes and finiteness"
    fam, m = case.family, case.n_samples
    try:
        dist = fam.from_params(case.rows, **case.config)
    except Exception as exc:  # report which example cannot be built
        case.fail(identity, None, f"from_params raised {type(exc).__name__}: {exc}")
    case.dist = dist
    n, p = case.rows.shape
    if dist.params.shape != (n, p) or len(dist) != n or dist.n_params != p:
        case.fail(identity, None, f"params shape {dist.params.shape}, n_params {dist.n_params}")
    # dist.config may add defaults (e.g. fixed_df=None) but must hold what built it.
    if not _same_config({k: dist.config.get(k) for k in case.config}, case.config):
        case.fail(identity, None, f"dist.config is {dist.config}, built with {case.config}")
    x = np.asarray(dist.sample(m, case.rng), dtype=np.float64)
    if x.shape[:2] != (m, n) or x.ndim != 2 + fam.event_dim:
        case.fail(identity, None, f"sample({m}) has shape {x.shape}; expected ({m}, {n})+event")
    if not np.isfinite(x).all() or not dist.support.contains(x).all():
        case.fail(identity, None, f"samples outside the support {dist.support.description}")
    fisher = dist.fisher()
    if fisher.shape != (n, p, p):
        case.fail(identity, None, f"fisher() has shape {fisher.shape}; expected {(n, p, p)}")
    nll, g = dist.nll(x), dist.grad(x)
    for what, arr, shape in [("nll", nll, (m, n)), ("grad", g, (m, n, p))]:
        if arr.shape != shape:
            case.fail(identity, None, f"{what} of ({m}, {n}) targets has shape {arr.shape}")
    one_nll, one_g = dist.nll(x[0]), dist.grad(x[0])
    if one_nll.shape != (n,) or one_g.shape != (n, p):
        case.fail(identity, None, f"nll/grad of (n,) targets: {one_nll.shape}, {one_g.shape}")
    # Rows first: the draws of nll and grad have the row on axis 1.
    for what, arr in [("nll", nll.T), ("grad", np.moveaxis(g, 1, 0)), ("fisher", fisher)]:
        row_ok = np.isfinite(arr).reshape(n, -1).all(axis=1)
        if not row_ok.all():
            case.fail(identity, int(np.argmin(row_ok)), f"{what} is not finite")
    case.x, case.g, case.fisher = x, g, fisher


def _check_batch_loop(case: _Case) -> None:
    identity = "batch = row-by-row loop"
    dist, y = case.dist, case.x[:8]
    loop_nll, loop_g, loop_f = [], [], []
    for i in range(len(dist)):
        one = dist[i : i + 1]
        if len(one) != 1 or not _same_config(one.config, dist.config):
            case.fail(identity, i, f"dist[{i}:{i + 1}] has {len(one)} rows, config {one.config}")
        loop_nll.append(one.nll(y[:, i : i + 1])[:, 0])
        loop_g.append(one.grad(y[:, i : i + 1])[:, 0])
        loop_f.append(one.fisher()[0])
    pairs = [
        (np.stack(loop_nll), dist.nll(y).T, ["sample"]),
        (np.stack(loop_g), np.moveaxis(dist.grad(y), 0, 1), ["sample", "param"]),
        (np.stack(loop_f), case.fisher, ["param", "param"]),
    ]
    for looped, batched, axes in pairs:
        # Elementwise maths is the same row by row; allow a few ulps for SIMD code paths.
        case.assert_close(identity, looped, batched, 1e-12 * (1.0 + np.abs(batched)), axes=axes)


def _check_round_trips(case: _Case) -> None:
    dist, fam, y = case.dist, case.family, case.x[:8]
    identity = "pickle round trip"
    back = pickle.loads(pickle.dumps(dist))
    if type(back) is not type(dist) or not _same_config(back.config, dist.config):
        case.fail(identity, None, f"unpickled {type(back).__name__} with config {back.config}")
    if not np.array_equal(back.params, dist.params):
        case.fail(identity, None, f"params {back.params.tolist()} != {dist.params.tolist()}")
    if not np.array_equal(back.nll(y), dist.nll(y)):
        case.fail(identity, None, "the unpickled batch gives a different nll")

    identity = "from_params(dist.params, **dist.config) round trip"
    again = fam.from_params(dist.params, **dist.config)
    if not np.array_equal(again.params, dist.params):
        case.fail(identity, None, f"params {again.params.tolist()} != {dist.params.tolist()}")

    identity = "type(dist)(**dist.natural_params, **dist.config) round trip"
    natural = dist.natural_params
    if any(np.shape(v) != (len(dist),) for v in natural.values()):
        case.skip(identity, "the constructor takes non-scalar natural parameters")
        return
    try:
        rebuilt = fam(**natural, **dist.config)
    except Exception as exc:
        case.fail(identity, None, f"the constructor raised {type(exc).__name__}: {exc}")
    if rebuilt.params.shape != dist.params.shape or not _same_config(rebuilt.config, dist.config):
        case.fail(identity, None, f"rebuilt {rebuilt.params.shape}, config {rebuilt.config}")
    expected = dist.params
    tol = 1e-9 * (1.0 + np.abs(expected))
    case.assert_close(identity, rebuilt.params, expected, tol, axes=["param"])


def _check_gradient(case: _Case) -> None:
    identity = "grad = central finite differences of nll"
    dist, y = case.dist, case.x[:_N_FD_TARGETS]
    analytic, numeric = dist.grad(y), numerical_grad(dist, y)
    # Relative to |∇nll| plus the score's own spread sqrt(F_jj), so that a component near
    # zero is judged on its natural scale (nll may cancel large terms: Poisson at λ = 500).
    spread = np.sqrt(np.abs(np.diagonal(case.fisher, axis1=1, axis2=2)))
    tol = GRAD_RTOL * (np.abs(analytic) + spread)
    tol += 1e3 * np.finfo(float).eps * (1.0 + np.abs(dist.nll(y)))[..., None] / FD_EPS
    case.assert_close(
        identity,
        np.moveaxis(analytic, 0, 1),
        np.moveaxis(numeric, 0, 1),
        np.moveaxis(tol, 0, 1),
        axes=["target", "param"],
    )


def _check_fisher_psd(case: _Case) -> None:
    identity = "Fisher symmetric positive semi-definite"
    f = case.fisher
    scale = _fisher_scale(f)
    case.assert_close(identity, f, np.swapaxes(f, 1, 2), 1e-10 * scale + 1e-300, axes=["i", "j"])
    diag = np.diagonal(f, axis1=1, axis2=2)
    case.assert_close(identity + " (diagonal >= 0)", np.minimum(diag, 0), 0, 0, axes=["param"])
    # Eigenvalues of D^-1/2 F D^-1/2 (D = diag F): scale-free, so tiny and huge entries mix.
    d = np.sqrt(diag)
    d = np.where(d > 0, d, 1.0)
    eig = np.linalg.eigvalsh((f + np.swapaxes(f, 1, 2)) / 2 / (d[:, :, None] * d[:, None, :]))
    case.assert_close(
        identity + " (eigenvalues of the diagonal-scaled Fisher >= -1e-10)",
        np.minimum(eig, 0),
        0,
        1e-10,
        axes=["eigenvalue"],
    )


def _has_closed_kl(case: _Case, identity: str) -> bool:
    """Whether `Distribution.kl` of the family is in closed form (else record a skip)."""
    if has_closed_form_kl(case.family, case.family):
        return True
    case.skip(identity, "no closed-form KL registered; Monte Carlo KL is too noisy here")
    return False


def _check_kl_quadratic(case: _Case) -> None:
    identity = "KL(p_θ ‖ p_θ±εv) / (½ ε² vᵀFv) → 1"
    if not _has_closed_kl(case, identity):
        return
    dist, f = case.dist, case.fisher
    theta = dist.params
    ratios = []
    for _ in range(_N_KL_DIRECTIONS):
        u = case.rng.standard_normal(theta.shape)
        quad = np.einsum("ni,nij,nj->n", u, f, u)
        if not (quad > 0).all():
            case.fail(identity, int(np.argmin(quad)), f"uᵀFu = {quad.min():.3g} <= 0 for random u")
        v = KL_EPS * u / np.sqrt(quad)[:, None]  # vᵀFv = ε²: every row moves the same KL
        # The cubic term of KL is odd in v: averaging ±v leaves an O(ε²) relative error.
        kl = 0.5 * (dist.kl(dist.with_params(theta + v)) + dist.kl(dist.with_params(theta - v)))
        ratios.append(kl / (0.5 * KL_EPS**2))
    case.assert_close(
        identity, np.column_stack(ratios), 1.0, KL_RATIO_TOL, axes=["random direction"]
    )


def _check_score_moments(case: _Case) -> None:
    g, f = case.g, case.fisher
    diag = np.abs(np.diagonal(f, axis1=1, axis2=2))
    mean, se = _mean_se(g)
    case.assert_close(
        "E[∇nll] = 0",
        mean,
        0.0,
        Z_SCORE * se + 1e-8 * np.sqrt(diag),
        axes=["param"],
        se=se,
    )
    p = f.shape[1]
    outer, outer_se = np.empty_like(f), np.empty_like(f)
    for i in range(p):  # one column of g gᵀ at a time keeps memory at (m, n, p)
        outer[:, i], outer_se[:, i] = _mean_se(g[..., i : i + 1] * g)
    case.assert_close(
        "E[∇nll ∇nllᵀ] = Fisher",
        outer,
        f,
        Z_SCORE * outer_se + 1e-8 * _fisher_scale(f),
        axes=["param", "param"],
        se=outer_se,
    )


def _check_hessian(case: _Case) -> None:
    dist, f = case.dist, case.fisher
    theta = dist.params
    # Steps in Fisher units, h_j = c / sqrt(F_jj), so that every parameter moves the
    # distribution by the same small amount. For a family whose nll has a kink in θ (Laplace
    # at y = μ), the Hessian is a delta function: with this step a fraction ~c of the draws
    # straddles the kink, so the Monte Carlo mean still estimates E[∇²nll] = F in the
    # distributional sense. Richardson extrapolation, (4 D(h/2) − D(h)) / 3, cancels the
    # O(h²) error of the central differences D for smooth families.
    d = np.sqrt(np.abs(np.diagonal(f, axis1=1, axis2=2)))
    floor = 1e-9 * np.maximum(1.0, np.abs(theta))
    h = np.maximum(np.where(d > 0, HESSIAN_STEP / np.where(d > 0, d, 1.0), FD_EPS), floor)
    hess, hess_se = np.empty_like(f), np.empty_like(f)
    big = _hessian_columns(dist, case.x, h)
    small = _hessian_columns(dist, case.x, h / 2)
    correction = np.empty_like(f)
    for (j, coarse), (_, fine) in zip(big, small, strict=True):
        hess[:, :, j], hess_se[:, :, j] = _mean_se((4.0 * fine - coarse) / 3.0)
        correction[:, :, j] = np.abs(hess[:, :, j] - fine.mean(axis=0))
    # Slack: the Richardson correction bounds the remaining truncation error (it matters
    # where the Hessian is deterministic, e.g. Categorical, and the step is wide because F
    # is small); rounding is ~ε_machine |g_i| / h_j per difference.
    rounding = 1e3 * np.finfo(float).eps * np.abs(case.g).mean(axis=0)[:, :, None] / h[:, None, :]
    case.assert_close(
        "Fisher = E[Hessian of nll] (finite differences of grad)",
        hess,
        f,
        Z_SCORE * hess_se + 1e-6 * _fisher_scale(f) + correction + rounding,
        axes=["param", "param"],
        se=hess_se,
    )


def _check_kl_monte_carlo(case: _Case) -> None:
    identity = "closed-form KL = Monte Carlo KL"
    dist = case.dist
    if not _has_closed_kl(case, identity):
        return
    n = len(dist)
    if n < 2:
        case.skip(identity, "the example has a single row; no pair of different rows")
        return
    other = dist.with_params(dist.params[(np.arange(n) + 1) % n])  # row i against row i+1
    closed = np.asarray(dist.kl(other))
    if closed.shape != (n,):
        case.fail(identity, None, f"closed-form KL has shape {closed.shape}; expected ({n},)")
    case.assert_close(identity + " (KL >= 0)", np.minimum(closed, 0), 0.0, 1e-12)
    mean, se = _mean_se(other.nll(case.x) - dist.nll(case.x))
    tol = Z_SCORE * se + 1e-8 * (1.0 + np.abs(closed))
    case.assert_close(identity + " (row i vs row i+1)", closed, mean, tol, se=se)


def _inverse_fisher_diagonal(f: Array) -> Array:
    """diag(F⁻¹) of one (p, p) Fisher, scale-free: F = D½ C D½ gives F⁻¹ = D^-½ C⁺ D^-½.

    A plain pseudo-inverse would drop well-determined directions when the diagonal spans
    many orders of magnitude (e.g. a Normal with σ = 1e-8).
    """
    d = np.sqrt(np.abs(np.diagonal(f)))
    d = np.where(d > 0, d, 1.0)
    return np.abs(np.diagonal(np.linalg.pinv(f / np.outer(d, d)))) / d**2


def _check_fit(case: _Case) -> None:
    fam, dist, f = case.family, case.dist, case.fisher
    m = case.n_samples
    for i in range(len(dist)):
        y = case.x[:, i]
        # The MLE from m draws is ≈ N(θ, F⁻¹/m).
        var = _inverse_fisher_diagonal(f[i])
        std = np.sqrt(var / m)
        theta = dist.params[i]
        fitted = fam.fit_marginal(y, **case.config)
        if fitted.shape != (1, theta.size):
            case.fail("fit_marginal recovers the parameters", i, f"shape {fitted.shape}")
        tol = Z_SCORE * std + 1e-6 * (1.0 + np.abs(theta))
        identity = "fit_marginal recovers the parameters"
        case.assert_close(identity, fitted[0], theta, tol, axes=["param"], se=std, row=i)

        k = min(m, _N_WEIGHTED)
        weights = case.rng.integers(0, 4, size=k)
        weights[0] = max(weights[0], 1)
        duplicated = fam.fit_marginal(np.repeat(y[:k], weights, axis=0), **case.config)[0]
        weighted = fam.fit_marginal(y[:k], sample_weight=weights, **case.config)[0]
        # Both optimise the same objective; allow 2 % of the estimate's own spread.
        spread = np.sqrt(var / weights.sum())
        tol = 0.02 * spread + 1e-8 * (1.0 + np.abs(duplicated))
        identity = "fit_marginal: integer sample_weight = duplicated rows"
        case.assert_close(identity, weighted, duplicated, tol, axes=["param"], row=i)


_CHECKS = (
    _check_structure,
    _check_batch_loop,
    _check_round_trips,
    _check_gradient,
    _check_fisher_psd,
    _check_kl_quadratic,
    _check_score_moments,
    _check_hessian,
    _check_kl_monte_carlo,
    _check_fit,
)


# ---------------------------------------------------------------------- entry point
def check_distribution(
    family: str | type[Distribution],
    *,
    rng: np.random.Generator | None = None,
    n_samples: int = 20_000,
    examples: Sequence[tuple[dict[str, Any], ArrayLike]] | None = None,
) -> None:
    """Check the identities of a distribution family on its example parameters.

    For every ``(config, rows)`` pair of ``family.examples`` (or ``examples``), with
    ``dist = family.from_params(rows, **config)`` of n rows and p parameters:

    1. shapes: params (n, p), ``fisher()`` (n, p, p), ``sample(m)`` (m, n) + event,
       ``nll``/``grad`` of (m, n) targets (m, n) and (m, n, p); all finite; ``dist.config``
       equals ``config``;
    2. batch = loop: nll, grad and Fisher of the batch equal those of ``dist[i:i+1]``;
    3. pickle, ``from_params(dist.params, **dist.config)`` and
       ``type(dist)(**dist.natural_params)`` round trips (the last skipped when natural
       parameters are not one number per row);
    4. ``grad`` equals central differences of ``nll`` (relative tolerance ``GRAD_RTOL``);
    5. F symmetric with non-negative diagonal and D^-½ F D^-½ ⪰ −1e-10 I (D = diag F);
    6. KL(p_θ ‖ p_{θ±εv}) averaged over ±, divided by ½ ε² vᵀFv, within ``KL_RATIO_TOL`` of 1
       for three random directions v (ε = ``KL_EPS``); skipped without a closed-form KL;
    7. E[∇nll] = 0 and E[∇nll ∇nllᵀ] = F over m draws;
    8. E[∇² nll] = F, the Hessian from central differences of ``grad`` with steps
       ``HESSIAN_STEP``/sqrt(F_jj) and Richardson extrapolation;
    9. closed-form KL(row i ‖ row i+1) equals the mean of nll_q − nll_p over draws of p;
    10. ``fit_marginal`` on the m draws of each row is within ``Z_SCORE`` standard errors
        sqrt(diag(F⁻¹)/m) of the row; integer ``sample_weight`` equals duplicated rows.

    Monte Carlo checks (7–10) allow ``Z_SCORE`` = 5 standard errors, estimated from the
    draws: a false-alarm rate of 5.7e-7 per compared number under the normal approximation.

    Parameters
    ----------
    family : str or Distribution subclass
        A registry name (``"normal"``) or a family class.
    rng : numpy.random.Generator, optional
        Source of the Monte Carlo draws; a generator with a fixed seed when omitted.
    n_samples : int
        m, the number of Monte Carlo draws per row (at least 1000).
    examples : sequence of (dict, array-like of shape (n, p)), optional
        Parameter sets to check instead of ``family.examples``.

    Raises
    ------
    AssertionError
        On the first failure, naming the family, the config, the row and the identity.

    Warns
    -----
    SkippedCheckWarning
        Listing the checks that could not run (e.g. no closed-form KL).

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.testing import check_distribution
    >>> check_distribution("exponential", rng=np.random.default_rng(0), n_samples=2000)  # silent
    """
    fam = get(family)
    where = "check_distribution"
    rng = np.random.default_rng(_DEFAULT_SEED) if rng is None else check_rng(rng, where)
    if not isinstance(n_samples, int | np.integer) or n_samples < 1000:
        raise ValueError(
            f"The 'n_samples' argument of {where} must be an integer >= 1000. "
            f"Got {describe(n_samples)} instead."
        )
    cases = list(fam.examples if examples is None else examples)
    if not cases:
        raise AssertionError(f"{fam.__name__} ({fam.name!r}) declares no examples to check.")
    skipped: list[str] = []
    for config, rows in cases:
        case = _Case(
            fam, dict(config), np.atleast_2d(np.asarray(rows, float)), rng, n_samples, skipped
        )
        for check in _CHECKS:
            check(case)
    if skipped:
        message = f"check_distribution({fam.__name__}) skipped: " + "; ".join(skipped)
        logger.info(message)
        warnings.warn(message, SkippedCheckWarning, stacklevel=2)
