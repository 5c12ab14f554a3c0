"""The log score of right-censored observations and the metric its natural gradient uses.

A right-censored target is a pair (t, δ): a time t > 0 and an event flag δ (1: the event was
observed at t; 0: the row was censored at t, so only T > t is known). The censored log score is
the negative log-likelihood of that observation,

    S(P, (t, δ)) = −δ log f(t) − (1 − δ) log S(t),        S(t) = P(T > t),

for the lognormal, exponential, Weibull and gamma families, with its gradient in each family's
unconstrained coordinates.

The metric. The Fisher information of a censored sample depends on the censoring
distribution, which is unknown. For a row censored at c its censoring time *is* known, and the
information the observation (min(T, c), 1{T ≤ c}) carries about θ is

    I(c) = ∫₀ᶜ s(t) s(t)ᵀ f(t) dt + S(c) s_S(c) s_S(c)ᵀ
         = ∫₀ᶜ ∇log h(t) ∇log h(t)ᵀ f(t) dt,

with s = ∇log f, s_S = ∇log S and h = f/S the hazard (the second form is the counting-process
identity). For an event row the censoring time is not observed (only that it exceeds t). The
metric is therefore

    M = I(c)   (+ 1e-9 S(c) F, see below)   for censored rows,
    M = F      (the family's Fisher, I(∞))  for event rows.

Why it is safe: I(c) is the Fisher information of a statistic of T, so 0 ⪯ I(c) ⪯ F, it
increases with c and tends to F as c → ∞; it is positive definite for c > 0 (the score
components are linearly independent functions on (0, c)). For an event row with unobserved
censoring time C > t, F ⪰ I(C), so the metric of the whole sample lies between the exact
Fisher given the censoring times, Σᵢ I(Cᵢ), and NGBoost's choice n·F: the steps are never
larger than exact Fisher scoring would take, and for censored rows they are the exact ones.
Without censoring the metric is F everywhere. Where I(c) underflows (censoring far in the left
tail, P(T ≤ c) ≲ 1e-9) the term 1e-9 S(c) F keeps the block positive definite; it vanishes as
c → ∞ and is far below any statistical tolerance elsewhere. ``CensoredLogScore(metric="fisher")``
uses F for every row instead (NGBoost's choice). The bound above is about summed metrics, as in
boosting's Fisher leaves; a learner that solves each row's system alone and then averages
without weights (NGBoost's leaf rule) lets rows censored early, whose I(c) is small, take large
steps, so `NGBoostSurvival` pairs that leaf rule with ``metric="fisher"``.

I(c) per family:

* exponential (log λ): I = 1 − e^{−c/λ} = P(T ≤ c), exact;
* lognormal (μ, log σ): truncated moments of the standard normal at a = (log c − μ)/σ, exact;
* Weibull (log k, log λ): with v = (t/λ)^k ~ Exp(1), ∇log h = (1 + log v, −k), so the
  entries are truncated moments of log v;
* gamma (log α, log β): with x = βt ~ Gamma(α, 1), the entries involving β are closed forms
  in the density and P(α + 1, x) (integration by parts); the (log α, log α) entry needs
  E[(log X − ψ(α))² 1{X < x}].

The moments of log X ~ log Gamma(a, 1) below x are a-derivatives of the regularised incomplete
gamma P(a, x) (∂ₐP = E[(log X − ψ(a)) 1{X < x}], ∂ₐ²P + ψ'(a)P = E[(log X − ψ(a))² 1{X < x}]),
which have no closed form in standard special functions. They, and ∂ₐ log Q(a, x) for the
gamma gradient, come from a five-point central difference in a of log P (where P ≤ ½) or log Q
(where Q < ½), so that the difference is always taken of the small, well-conditioned tail
(relative error about 1e-12 for first and 1e-8 for second derivatives against
arbitrary-precision values during development; the tests check them against quadrature).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from natgrad._targets import check_time_event
from natgrad._typing import Array
from natgrad._validation import as_float_array, check_option
from natgrad.distributions import Distribution
from natgrad.distributions.exponential import Exponential
from natgrad.distributions.gamma import Gamma
from natgrad.distributions.lognormal import LogNormal
from natgrad.distributions.weibull import Weibull
from natgrad.scores._base import Score, family_kernels, require_kernels

_EULER = np.euler_gamma
_PI2_6 = np.pi**2 / 6.0
#: Weight of S(c)·F added to I(c) so that blocks stay positive definite where I(c) underflows.
_FLOOR = 1e-9
#: Relative a-step of the central differences: Δa = _DIFF_STEP · min(a, √a), the scale on which
#: P(a, x) varies in a (log a for small a, the standard deviation √a of Gamma(a) for large a).
_DIFF_STEP = 1e-3
#: Below this Q(a, x) underflows soon; log Q then comes from Legendre's continued fraction.
_CF_THRESHOLD = 1e-280
_CF_MAX_ITER = 500


# --------------------------------------------------------------------- targets
def check_censored_targets(y: ArrayLike, n: int, where: str, name: str = "y") -> Array:
    """Validate right-censored targets: shape (n, 2), finite times > 0, event flags 0 or 1.

    Parameters
    ----------
    y : array-like of shape (n, 2)
        Column 0 the time, column 1 the event flag (1 observed, 0 right-censored).
    n : int
        The number of rows expected.
    where : str
        The caller, for error messages.
    """
    arr = as_float_array(y, name, where)
    if arr.ndim != 2 or arr.shape != (n, 2):
        raise ValueError(
            f"The {name!r} argument of {where} must have shape ({n}, 2): a time and an event "
            f"flag per row. Got shape {arr.shape} instead."
        )
    check_time_event(
        arr[:, 0],
        arr[:, 1],
        (f"Column 0 of {name!r} of {where}", f"Column 1 of {name!r} of {where}"),
    )
    return np.ascontiguousarray(arr)


# --------------------------------------------------------------------- incomplete gamma
def _log_q_continued_fraction(a: Array, x: Array) -> Array:
    """log Q(a, x) + x from Legendre's continued fraction, for x > a + 1 (far upper tail).

    Γ(a, x) = e^{−x} xᵃ / (x + 1 − a − 1·(1 − a)/(x + 3 − a − 2·(2 − a)/(x + 5 − a − ...))),
    evaluated by the modified Lentz method; it converges in a few terms where Q underflows.
    """
    tiny = 1e-300
    b = x + 1.0 - a
    c = np.full_like(x, 1.0 / tiny)
    d = 1.0 / b
    value = d.copy()
    for i in range(1, _CF_MAX_ITER):
        an = -i * (i - a)
        b = b + 2.0
        d = an * d + b
        d = np.where(np.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        d = 1.0 / d
        ratio = d * c
        value = value * ratio
        if np.all(np.abs(ratio - 1.0) < 1e-16):
            break
    # Without the −x term, which does not depend on a and would swamp a-differences.
    return a * np.log(x) - special.gammaln(a) + np.log(value)


def _log_tail(a: Array, x: Array, lower: NDArray[np.bool_]) -> Array:
    """log P(a, x) where ``lower``, else log Q(a, x) + x; accurate in relative terms.

    The upper tail is shifted by x (constant in a) so that differences in a stay accurate
    where log Q ≈ −x is huge. The complement of a value above ½ goes through log1p; Q below
    ``_CF_THRESHOLD`` through the continued fraction (scipy's Q underflows to 0 beyond
    1e-308). log P may be −inf (P underflows); callers treat such rows as carrying no mass
    below x.
    """
    p = special.gammainc(a, x)
    q = special.gammaincc(a, x)
    small = np.where(lower, p, q)
    large = np.where(lower, q, p)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(small > 0.5, np.log1p(-np.minimum(large, 0.5)), np.log(small))
        out = np.where(lower, out, out + x)
    far = ~lower & (q < _CF_THRESHOLD) & np.isfinite(x)
    if far.any():
        out[far] = _log_q_continued_fraction(a[far], x[far])
    # x = inf (a censoring time beyond any representable one): Q = 0, P = 1.
    return np.where(np.isinf(x), np.where(lower, 0.0, -np.inf), out)


def _log_sf_gamma(a: Array, x: Array) -> Array:
    """log Q(a, x) = log P(X > x) for X ~ Gamma(a, 1)."""
    return _log_tail(a, x, np.zeros(a.shape, dtype=bool)) - x


def _gamma_terms(a: Array, x: Array) -> dict[str, Array]:
    """Incomplete-gamma quantities for X ~ Gamma(a, 1) and L = log X − ψ(a).

    Returns a dict of arrays of shape (n,): ``log_q`` = log Q(a, x), ``log_q_x`` = log Q + x
    (accurate where log Q ≈ −x is huge), ``dlog_q`` = ∂ₐ log Q(a, x),
    ``m0`` = P(a, x), ``m1`` = E[L 1{X < x}] = ∂ₐP, ``m2`` = E[L² 1{X < x}] = ∂ₐ²P + ψ'(a)P.

    The derivatives are five-point central differences of ℓ = log P (rows with P ≤ ½) or
    ℓ = log Q (the other rows) in a, with P' = Pℓ' and P'' = P(ℓ'' + ℓ'²) (likewise for Q,
    P' = −Q').
    """
    lower = special.gammainc(a, x) <= 0.5
    step = _DIFF_STEP * np.minimum(a, np.sqrt(a))
    f = [_log_tail(a + k * step, x, lower) for k in (-2, -1, 0, 1, 2)]
    with np.errstate(invalid="ignore"):
        d1 = (f[0] - 8.0 * f[1] + 8.0 * f[3] - f[4]) / (12.0 * step)
        d2 = (-f[0] + 16.0 * f[1] - 30.0 * f[2] + 16.0 * f[3] - f[4]) / (12.0 * step * step)
    ell = np.where(lower, f[2], f[2] - x)
    trigamma = special.polygamma(1, a)
    # x = inf: the whole law lies below x (m0 = 1, m1 = 0, m2 = ψ'(a)); Q = 0.
    infinite = np.isinf(x)
    d1 = np.where(infinite, 0.0, d1)
    d2 = np.where(infinite, 0.0, d2)
    tail = np.exp(ell)  # P on lower rows, Q on the others
    # Rows whose P underflowed (ell = −inf) have no mass below x: their differences are NaN.
    empty = lower & ~np.isfinite(ell)
    d1 = np.where(empty, 0.0, d1)
    d2 = np.where(empty, 0.0, d2)
    e1 = tail * d1
    e2 = tail * (d2 + d1 * d1 + trigamma)
    m0 = np.where(lower, tail, -np.expm1(np.where(lower, 0.0, ell)))
    q = 1.0 - np.where(lower, tail, 0.0)
    return {
        "log_q": np.where(lower, np.log1p(-np.where(lower, tail, 0.0)), ell),
        "log_q_x": np.where(lower, np.log1p(-np.where(lower, tail, 0.0)) + x, f[2]),
        "dlog_q": np.where(lower, -e1 / q, d1),
        "m0": m0,
        "m1": np.where(lower, e1, -e1),
        "m2": np.where(lower, e2, trigamma - e2),
    }


# --------------------------------------------------------------------- per-family kernels
# Each family has three kernels on a batch and its censoring times c (shape (n,)):
#   log_sf(dist, c) -> (n,)      log S(c)
#   grad(dist, c) -> (n, p)      ∇(−log S(c)) in the unconstrained parameters
#   fisher(dist, c) -> (n, p, p) I(c), the Fisher information of the censored observation


def _lognormal_z(dist: Distribution, c: Array) -> tuple[Array, Array]:
    log_scale = dist._params[:, 1]
    return (np.log(c) - dist._params[:, 0]) * np.exp(-log_scale), log_scale


def _lognormal_log_sf(dist: Distribution, c: Array) -> Array:
    z, _ = _lognormal_z(dist, c)
    return special.log_ndtr(-z)


def _lognormal_ratio(z: Array) -> Array:
    """φ(z)/Φ(−z), the standard normal hazard at z, in log space (finite for any z)."""
    return np.exp(-0.5 * z * z - 0.5 * np.log(2.0 * np.pi) - special.log_ndtr(-z))


def _lognormal_grad(dist: Distribution, c: Array) -> Array:
    """−log Φ(−z), z = (log c − μ)/σ: gradient −r·(1/σ, z) with r = φ(z)/Φ(−z)."""
    z, log_scale = _lognormal_z(dist, c)
    r = _lognormal_ratio(z)
    return np.stack([-r * np.exp(-log_scale), -r * z], axis=-1)


def _lognormal_fisher(dist: Distribution, c: Array) -> Array:
    """I(c) from the moments Mⱼ = ∫_{−∞}^a zʲφ(z)dz of the standard normal below a = z(c):

    M₀ = Φ(a), M₁ = −φ, M₂ = Φ − aφ, M₃ = −(a² + 2)φ, M₄ = 3Φ − (a³ + 3a)φ. With
    s = (z/σ, z² − 1) and s_S = r(1/σ, a), r = φ(a)/Φ(−a):

        I₁₁ = (Φ − aφ + φr)/σ²,  I₁₂ = (−(a² + 1)φ + aφr)/σ,  I₂₂ = 2Φ − (a³ + a)φ + a²φr.
    """
    a, log_scale = _lognormal_z(dist, c)
    inv_s = np.exp(-log_scale)
    cdf = special.ndtr(a)
    pdf = np.exp(-0.5 * a * a) / np.sqrt(2.0 * np.pi)
    pr = pdf * _lognormal_ratio(a)
    out = np.empty((len(c), 2, 2))
    out[:, 0, 0] = (cdf - a * pdf + pr) * inv_s * inv_s
    out[:, 0, 1] = (-(a * a + 1.0) * pdf + a * pr) * inv_s
    out[:, 1, 0] = out[:, 0, 1]
    out[:, 1, 1] = 2.0 * cdf - (a * a + 1.0) * a * pdf + a * a * pr
    return out


def _exponential_log_sf(dist: Distribution, c: Array) -> Array:
    return -c * np.exp(-dist._params[:, 0])


def _exponential_grad(dist: Distribution, c: Array) -> Array:
    """−log S = c/λ: gradient −c/λ in log λ."""
    return (-c * np.exp(-dist._params[:, 0]))[:, None]


def _exponential_fisher(dist: Distribution, c: Array) -> Array:
    """I(c) = ∫₀ˣ(u − 1)²e⁻ᵘdu + x²e⁻ˣ = 1 − e⁻ˣ with x = c/λ."""
    return (-np.expm1(-c * np.exp(-dist._params[:, 0])))[:, None, None]


def _weibull_u(dist: Distribution, c: Array) -> tuple[Array, Array]:
    shape = np.exp(dist._params[:, 0])
    return shape * (np.log(c) - dist._params[:, 1]), shape


def _weibull_log_sf(dist: Distribution, c: Array) -> Array:
    u, _ = _weibull_u(dist, c)
    with np.errstate(over="ignore"):
        return -np.exp(u)


def _weibull_grad(dist: Distribution, c: Array) -> Array:
    """−log S = v = eᵘ, u = k log(c/λ): gradient (u v, −k v)."""
    u, shape = _weibull_u(dist, c)
    with np.errstate(over="ignore", invalid="ignore"):
        v = np.exp(u)
        return np.stack([u * v, -shape * v], axis=-1)


def _weibull_fisher(dist: Distribution, c: Array) -> Array:
    """I(c) = E[g gᵀ 1{V < x}], g = ∇log h = (1 + log V, −k), V ~ Exp(1), x = (c/λ)^k.

    With L = log V + γ (ψ(1) = −γ), 1 + log V = (1 − γ) + L, so in the truncated moments
    m₀, m₁, m₂ of L at a = 1: I₁₁ = (1 − γ)²m₀ + 2(1 − γ)m₁ + m₂, I₁₂ = −k((1 − γ)m₀ + m₁),
    I₂₂ = k²m₀. At x = ∞ (m₀ = 1, m₁ = 0, m₂ = π²/6) this is the Weibull Fisher.
    """
    u, shape = _weibull_u(dist, c)
    with np.errstate(over="ignore"):
        x = np.exp(u)
    t = _gamma_terms(np.ones_like(x), x)
    m0, m1, m2 = t["m0"], t["m1"], t["m2"]
    b = 1.0 - _EULER
    out = np.empty((len(c), 2, 2))
    out[:, 0, 0] = b * b * m0 + 2.0 * b * m1 + m2
    out[:, 0, 1] = -shape * (b * m0 + m1)
    out[:, 1, 0] = out[:, 0, 1]
    out[:, 1, 1] = shape * shape * m0
    return out


def _gamma_ax(dist: Distribution, c: Array) -> tuple[Array, Array]:
    # x = βc kept inside [1e-300, 1e300] so that x log x and log x stay finite; beyond these
    # bounds every quantity below has already reached its limit.
    return np.exp(dist._params[:, 0]), np.clip(c * np.exp(dist._params[:, 1]), 1e-300, 1e300)


def _gamma_log_sf(dist: Distribution, c: Array) -> Array:
    a, x = _gamma_ax(dist, c)
    return _log_sf_gamma(a, x)


def _gamma_log_density_term(a: Array, x: Array) -> Array:
    """log D + x with D = xᵃe⁻ˣ/Γ(a) = x·g_a(x), the derivative of P(a, x) in log x (shifted
    by x like ``log_q_x``, so that D/Q = exp(log_d_x − log_q_x) keeps its digits)."""
    return a * np.log(x) - special.gammaln(a)


def _gamma_grad(dist: Distribution, c: Array) -> Array:
    """−log Q(α, βc): gradient (−α ∂ₐlog Q, D/Q) in (log α, log β)."""
    a, x = _gamma_ax(dist, c)
    t = _gamma_terms(a, x)
    g_rate = np.exp(_gamma_log_density_term(a, x) - t["log_q_x"])
    return np.stack([-a * t["dlog_q"], g_rate], axis=-1)


def _gamma_fisher(dist: Distribution, c: Array) -> Array:
    """I(c) for x = βc, with D = xᵃe⁻ˣ/Γ(α), L_c = log x − ψ(α), q' = ∂ₐ log Q:

    s = (α(log X − ψ(α)), α − X) below x; since (α − X)g_α = d[X g_α]/dX, integration by
    parts gives E[(α − X)² 1{X < x}] = (α − x)D + αP(α + 1, x) and
    E[α(log X − ψ(α))(α − X) 1{X < x}] = α(L_c D − P(α, x)). With s_S = (αq', −D/Q):

        I₁₁ = α²m₂ + Qα²q'²,  I₁₂ = α(L_c D − m₀) − αq'D,  I₂₂ = (α − x)D + αP(α + 1, x) + D²/Q.
    """
    a, x = _gamma_ax(dist, c)
    t = _gamma_terms(a, x)
    log_d_x = _gamma_log_density_term(a, x)
    d = np.exp(log_d_x - x)
    q = np.exp(t["log_q"])
    dq = t["dlog_q"]
    out = np.empty((len(c), 2, 2))
    out[:, 0, 0] = a * a * (t["m2"] + q * dq * dq)
    out[:, 0, 1] = a * ((np.log(x) - special.digamma(a)) * d - t["m0"]) - a * dq * d
    out[:, 1, 0] = out[:, 0, 1]
    out[:, 1, 1] = (
        (a - x) * d + a * special.gammainc(a + 1.0, x) + np.exp(2.0 * log_d_x - x - t["log_q_x"])
    )
    return out


_Kernels = tuple[
    Callable[[Distribution, Array], Array],
    Callable[[Distribution, Array], Array],
    Callable[[Distribution, Array], Array],
]
_KERNELS: dict[type[Distribution], _Kernels] = {
    LogNormal: (_lognormal_log_sf, _lognormal_grad, _lognormal_fisher),
    Exponential: (_exponential_log_sf, _exponential_grad, _exponential_fisher),
    Weibull: (_weibull_log_sf, _weibull_grad, _weibull_fisher),
    Gamma: (_gamma_log_sf, _gamma_grad, _gamma_fisher),
}


def _subset(dist: Distribution, rows: NDArray[np.intp]) -> Distribution:
    return dist.with_params(dist._params[rows], validate=False)


# --------------------------------------------------------------------- the score
class CensoredLogScore(Score):
    """The log score of right-censored targets: −log f(t) for events, −log S(t) otherwise.

    Targets are arrays of shape (n, 2): column 0 the time t > 0, column 1 the event flag
    (1: observed at t, 0: right-censored at t). Supported families: lognormal, exponential,
    Weibull and gamma.

    Parameters
    ----------
    metric : {"censored", "fisher"}, default="censored"
        The metric of `metric_at`. ``"censored"``: for a censored row the Fisher information
        I(c) of the censored observation at its censoring time c, for an event row the
        family's Fisher F (see the module docstring for why this is safe). ``"fisher"``: F for
        every row (NGBoost's choice).

    See Also
    --------
    natgrad.scores.LogScore : Uncensored targets.
    natgrad.NGBoostSurvival : Trains on this rule.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.distributions import Exponential
    >>> from natgrad.scores import CensoredLogScore
    >>> dist = Exponential(scale=[2.0, 2.0])
    >>> y = np.array([[1.0, 1.0], [1.0, 0.0]])     # (time, event): an event at 1, censored at 1
    >>> rule = CensoredLogScore()
    >>> print(rule.score(dist, y).round(4))         # −log f(1) and −log S(1) = 1/scale
    [1.1931 0.5   ]
    >>> print(rule.metric_at(dist, y)[:, 0, 0].round(4))   # a censored row carries less information
    [1.     0.3935]
    """

    name: ClassVar[str] = "censored_log"

    def __init__(self, metric: str = "censored") -> None:
        self.metric_kind = check_option(
            metric, "metric", ("censored", "fisher"), "CensoredLogScore"
        )

    def __repr__(self) -> str:
        return f"CensoredLogScore(metric={self.metric_kind!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CensoredLogScore) and other.metric_kind == self.metric_kind

    def __hash__(self) -> int:
        return hash((type(self), self.metric_kind))

    def supports(self, family: type[Distribution]) -> bool:
        """Whether ``family`` has censored kernels (lognormal, exponential, Weibull, gamma)."""
        return family_kernels(_KERNELS, family) is not None

    def _kernels_for(self, dist: Distribution) -> _Kernels:
        return require_kernels(_KERNELS, dist, "CensoredLogScore")

    # ------------------------------------------------------------------ public, validated
    def score(self, dist: Distribution, y: ArrayLike) -> Array:
        """The loss per row, shape (n,); ``y`` of shape (n, 2) (time, event)."""
        return self._score(dist, check_censored_targets(y, len(dist), "CensoredLogScore.score"))

    def grad(self, dist: Distribution, y: ArrayLike) -> Array:
        """Gradient of the loss in the unconstrained parameters, shape (n, p)."""
        return self._grad(dist, check_censored_targets(y, len(dist), "CensoredLogScore.grad"))

    def metric(self, dist: Distribution) -> Array:
        """The family's Fisher information F, shape (n, p, p): the metric when the targets (and
        so the censoring times) are not known."""
        self._kernels_for(dist)
        return dist.fisher()

    def metric_at(self, dist: Distribution, y: ArrayLike) -> Array:
        """The metric at the observed targets, shape (n, p, p).

        ``metric="censored"``: I(cᵢ) + 1e-9 S(cᵢ) F for censored rows (event 0, cᵢ = tᵢ) and F
        for event rows; ``metric="fisher"``: F for all rows. Always symmetric positive
        definite, and F where nothing is censored.
        """
        y = check_censored_targets(y, len(dist), "CensoredLogScore.metric_at")
        log_sf, _, fisher = self._kernels_for(dist)
        out = dist.fisher()
        if self.metric_kind == "fisher":
            return out
        rows = np.flatnonzero(y[:, 1] == 0)
        if rows.size:
            sub, c = _subset(dist, rows), y[rows, 0]
            floor = _FLOOR * np.exp(log_sf(sub, c))
            out[rows] = fisher(sub, c) + floor[:, None, None] * out[rows]
        return out

    def censored_fisher(self, dist: Distribution, c: ArrayLike) -> Array:
        """I(c), the exact Fisher information of an observation censored at c (no floor).

        Parameters
        ----------
        dist : Distribution
            A batch of n distributions of a supported family.
        c : array-like of shape (n,)
            Censoring times > 0 (``inf`` gives the family's Fisher).
        """
        c_arr = as_float_array(c, "c", "CensoredLogScore.censored_fisher")
        c_arr = np.broadcast_to(c_arr, (len(dist),)).astype(np.float64)
        if np.any(np.isnan(c_arr) | (c_arr <= 0)):
            raise ValueError(
                "The 'c' argument of CensoredLogScore.censored_fisher must hold censoring "
                f"times in (0, inf]. Got {c_arr[np.isnan(c_arr) | (c_arr <= 0)][0]} instead."
            )
        _, _, fisher = self._kernels_for(dist)
        out = dist.fisher()
        finite = np.flatnonzero(np.isfinite(c_arr))
        if finite.size:
            out[finite] = fisher(_subset(dist, finite), c_arr[finite])
        return out

    # ------------------------------------------------------------------ kernels
    def _score(self, dist: Distribution, y: Array) -> Array:
        log_sf, _, _ = self._kernels_for(dist)
        time, event = y[:, 0], y[:, 1]
        out = np.empty(len(dist))
        obs, cens = np.flatnonzero(event == 1), np.flatnonzero(event == 0)
        if obs.size:
            out[obs] = _subset(dist, obs)._nll(time[obs])
        if cens.size:
            out[cens] = -log_sf(_subset(dist, cens), time[cens])
        return out

    def _grad(self, dist: Distribution, y: Array) -> Array:
        _, grad, _ = self._kernels_for(dist)
        time, event = y[:, 0], y[:, 1]
        out = np.empty(dist._params.shape)
        obs, cens = np.flatnonzero(event == 1), np.flatnonzero(event == 0)
        if obs.size:
            out[obs] = _subset(dist, obs)._grad(time[obs])
        if cens.size:
            out[cens] = grad(_subset(dist, cens), time[cens])
        return out
