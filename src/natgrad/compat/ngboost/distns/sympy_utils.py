"""NGBoost's ``make_sympy_log_score`` (a log score from a SymPy expression or distribution)
and ``make_distribution`` (a whole distribution from one).

The returned class implements the log score of a user's distribution: ``score`` is the
negative log-likelihood (given as ``score_expr`` or derived from a ``sympy.stats`` random
variable), ``d_score`` its derivatives in the internal parameters (by SymPy, with the chain
rule of the log link where a parameter is log-transformed), and ``metric`` the Fisher
information: in closed form when the second derivatives do not depend on the observation
(then their value is their expectation), otherwise estimated by Monte Carlo from the
distribution's ``sample`` (`LogScore.metric`). The distribution class reads parameters by
the symbols' names (``self.alpha`` for the symbol ``alpha``). SymPy is imported only here.

`make_distribution` adds the distribution around such a score: the fixed classes
`SympyRegressionDistn` and `SympyClassificationDistn` implement NGBoost's surface from a
`DistnSpec` (parameter names and links, fixed extra parameters, the SciPy equivalent, the
user's ``fit``/``sample``/``mean`` and class probabilities); the returned class only carries
the spec, as NGBoost's API hands back a class.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike

from natgrad._typing import Array
from natgrad.compat.ngboost.distns.distn import ClassificationDistn, Distn, RegressionDistn
from natgrad.compat.ngboost.scores import LogScore

__all__ = ["make_distribution", "make_sympy_log_score"]

# Internal parameters are clipped before exp: exp(700) is near float64's largest value.
_LOG_CLIP = (-150.0, 700.0)


@dataclass(frozen=True)
class _Compiled:
    """The lambdified score, its gradient and (when y-free) its Fisher information."""

    names: tuple[str, ...]
    extras: tuple[str, ...]
    score: Callable[..., Any]
    grad: tuple[Callable[..., Any], ...]
    fisher: tuple[tuple[Callable[..., Any], ...], ...] | None


class SympyLogScore(LogScore):
    """The log score compiled from SymPy (subclasses carry the compiled functions)."""

    _compiled: _Compiled

    def _args(self) -> list[Any]:
        spec = self._compiled
        values = [np.asarray(getattr(self, n), dtype=np.float64) for n in spec.names]
        return values + [getattr(self, n) for n in spec.extras]

    def score(self, Y: ArrayLike) -> Array:
        y = np.asarray(Y, dtype=np.float64)
        with np.errstate(all="ignore"):
            return np.asarray(self._compiled.score(y, *self._args()), dtype=np.float64) + 0.0 * y

    def d_score(self, Y: ArrayLike) -> Array:
        y = np.asarray(Y, dtype=np.float64)
        args = self._args()
        with np.errstate(all="ignore"):
            cols = [
                np.asarray(g(y, *args), dtype=np.float64) + 0.0 * y for g in self._compiled.grad
            ]
        return np.stack(cols, axis=-1)

    def metric(self, n_mc_samples: int = 100) -> Array:  # type: ignore[override]
        fisher = self._compiled.fisher
        if fisher is None:
            return LogScore.metric(self, n_mc_samples)
        args = self._args()
        n = np.shape(args[0])[0] if np.ndim(args[0]) else 1
        p = len(fisher)
        out = np.empty((n, p, p))
        with np.errstate(all="ignore"):
            for i in range(p):
                for j in range(p):
                    out[:, i, j] = np.asarray(fisher[i][j](*args), dtype=np.float64)
        return out


def make_sympy_log_score(
    params: Sequence[tuple[Any, bool]],
    y: Any,
    score_expr: Any = None,
    sympy_dist: Any = None,
    extra_params: Sequence[Any] | None = None,
    name: str | None = None,
) -> type[SympyLogScore]:
    """A `LogScore` implementation compiled from SymPy.

    Parameters
    ----------
    params : list of (sympy.Symbol, bool)
        The parameters in internal order; True where the internal parameter is the log of the
        symbol (a positive parameter).
    y : sympy.Symbol
        The observation.
    score_expr : sympy expression, optional
        The negative log-likelihood; by default −log of ``sympy_dist``'s density at ``y``.
    sympy_dist : sympy.stats random variable, optional
        The distribution (needed when ``score_expr`` is not given).
    extra_params : list of sympy.Symbol, optional
        Symbols held fixed (read from the distribution by name, not differentiated).
    name : str, optional
        The class name (default ``"SympyLogScore"``).

    Returns
    -------
    type
        A subclass of `LogScore` (NGBoost's API returns a class, which users list in their
        distribution's ``scores``).
    """
    import sympy
    from sympy.utilities.lambdify import lambdify

    if score_expr is None and sympy_dist is None:
        raise ValueError("make_sympy_log_score needs 'score_expr' or 'sympy_dist'. Got neither.")
    if score_expr is None:
        import sympy.stats

        score_expr = -sympy.expand_log(sympy.log(sympy.stats.density(sympy_dist)(y)), force=True)
    symbols = [s for s, _ in params]
    extras = list(extra_params or [])
    # Dummies keep user symbol names (e.g. "beta") from clashing with SciPy functions.
    dummies = [sympy.Dummy(str(s)) for s in [y, *symbols, *extras]]
    subs = dict(zip([y, *symbols, *extras], dummies, strict=True))

    def compile_(expr: Any, with_y: bool = True) -> Callable[..., Any]:
        args = dummies if with_y else dummies[1:]
        return lambdify(args, sympy.sympify(expr).subs(subs), modules=["scipy", "numpy"])

    raw = [sympy.diff(score_expr, s) for s in symbols]
    link = [s if is_log else sympy.Integer(1) for s, is_log in params]
    grads = tuple(compile_(link[k] * raw[k]) for k in range(len(symbols)))
    # Fisher in internal coordinates: J H J with H the Hessian in the raw parameters (the
    # link's second-derivative term has expectation zero), when H does not involve y.
    hessian = [
        [sympy.simplify(sympy.diff(raw[i], s)) for s in symbols] for i in range(len(symbols))
    ]
    fisher = None
    if all(y not in h.free_symbols for row in hessian for h in row):
        fisher = tuple(
            tuple(
                compile_(link[i] * link[j] * hessian[i][j], with_y=False)
                for j in range(len(symbols))
            )
            for i in range(len(symbols))
        )
    compiled = _Compiled(
        names=tuple(str(s) for s in symbols),
        extras=tuple(str(e) for e in extras),
        score=compile_(score_expr),
        grad=grads,
        fisher=fisher,
    )
    # NGBoost's API hands back a class: a subclass of the fixed SympyLogScore that only
    # carries the compiled functions (its instances are never pickled; models pickle the
    # user's distribution class, which refers to this one by its module attribute).
    return type(name or "SympyLogScore", (SympyLogScore,), {"_compiled": compiled})


# ---------------------------------------------------------------------- make_distribution
@dataclass(frozen=True)
class DistnSpec:
    """What `make_distribution` was given, compiled: a distribution's configuration."""

    names: tuple[str, ...]  # internal parameters' symbols, in order
    logs: tuple[bool, ...]  # True where the internal parameter is the symbol's log
    extras: tuple[tuple[str, Any], ...]  # fixed parameters: (name, default)
    scipy: Any  # a scipy.stats distribution, or None
    scipy_map: tuple[tuple[str, str], ...]  # (scipy keyword, attribute name)
    fit_fn: Callable[..., Any] | None
    sample_fn: Callable[..., Any] | None
    mean_fn: Callable[..., Any] | None
    class_probs: tuple[Callable[..., Any], ...] | None
    score: Callable[..., Any]  # the lambdified negative log-likelihood (MLE fallback)


class SympyDistn(Distn):
    """A distribution built by `make_distribution` (subclasses carry ``spec``).

    ``Dist(params, **extras)``: internal parameters of shape (n_params, n); the symbols'
    values are attributes (``self.alpha``), fixed parameters come from ``extras`` or their
    defaults, and with a SciPy equivalent ``self.dist`` is the frozen SciPy distribution,
    whose methods the instance hands out (``dist.logpdf``, ``dist.cdf``, ...).
    """

    spec: ClassVar[DistnSpec]

    def __init__(self, params: Any, **extras: Any) -> None:
        arr = np.asarray(params, dtype=np.float64)
        super().__init__(arr)
        spec = self.spec
        unknown = sorted(set(extras) - {name for name, _ in spec.extras})
        if unknown:
            raise TypeError(
                f"{type(self).__name__} takes the fixed parameters "
                f"{[name for name, _ in spec.extras]}. Got {unknown} instead."
            )
        for k, (name, is_log) in enumerate(zip(spec.names, spec.logs, strict=True)):
            setattr(self, name, np.exp(np.clip(arr[k], *_LOG_CLIP)) if is_log else arr[k])
        for name, default in spec.extras:
            setattr(self, name, extras.get(name, default))
        if spec.scipy is not None:
            self.dist = spec.scipy(**{kw: getattr(self, attr) for kw, attr in spec.scipy_map})

    def _extra_values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name, _ in self.spec.extras}

    def __getitem__(self, key: Any) -> SympyDistn:
        return type(self)(self._params[:, key], **self._extra_values())

    def __getattr__(self, name: str) -> Any:
        # The SciPy equivalent's methods (mean, std, logpdf, ...), as NGBoost's classes hand
        # them out; unknown names raise.
        frozen = self.__dict__.get("dist")
        if frozen is not None and not name.startswith("_") and hasattr(frozen, name):
            return getattr(frozen, name)
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __reduce__(self) -> Any:
        return (_rebuild, (type(self), self._params, self._extra_values()))

    @property
    def params(self) -> dict[str, Any]:
        """The symbols' values by name, and the fixed parameters."""
        out = {name: getattr(self, name) for name in self.spec.names}
        return {**out, **self._extra_values()}

    @classmethod
    def fit(cls, Y: Any) -> Array:  # type: ignore[override]
        """The marginal fit: the user's ``fit_fn``, else SciPy's fit of the equivalent
        distribution, else the minimum of the mean score (Nelder-Mead from zeros)."""
        spec = cls.spec
        if spec.fit_fn is not None:
            return np.asarray(spec.fit_fn(Y), dtype=np.float64)
        if spec.scipy is not None:
            return _scipy_fit(spec, np.asarray(Y, dtype=np.float64), cls.__name__)
        return _mle_fit(spec, np.asarray(Y, dtype=np.float64))

    def sample(self, m: int, random_state: Any = None) -> Array:
        """``m`` draws of every distribution, shape (m, n): the user's ``sample_fn``, else
        the SciPy equivalent's, else class labels from ``class_probs``. ``random_state``
        seeds SciPy's and the labels' draws (a fresh generator by default)."""
        spec = self.spec
        if spec.sample_fn is not None:
            return np.asarray(spec.sample_fn(self, m))
        rng = np.random.default_rng(random_state)
        if spec.scipy is not None:
            return np.asarray(self.dist.rvs(size=(int(m), len(self)), random_state=rng))
        if spec.class_probs is not None:
            cum = np.cumsum(self.class_probs(), axis=1)  # type: ignore[attr-defined]
            u = rng.random((int(m), len(self), 1))
            return (u > cum[None, :, :-1]).sum(axis=2).astype(np.float64)
        raise ValueError(
            f"{type(self).__name__}.sample needs 'scipy_dist_cls', 'sample_fn' or "
            "'class_prob_exprs' in make_distribution. Got none of them."
        )


class SympyRegressionDistn(SympyDistn, RegressionDistn):
    """A regression distribution built by `make_distribution`."""

    def mean(self) -> Array:
        """The user's ``mean_fn``, else the SciPy equivalent's mean, else the mean of 1000
        draws."""
        if self.spec.mean_fn is not None:
            return np.asarray(self.spec.mean_fn(self))
        if self.spec.scipy is not None:
            return np.asarray(self.dist.mean())
        return np.asarray(np.mean(self.sample(1000), axis=0))


class SympyClassificationDistn(SympyDistn, ClassificationDistn):
    """A classification distribution built by `make_distribution`."""

    def class_probs(self) -> Array:
        """The class probabilities, shape (n, K), each row normalised to sum to one."""
        spec = self.spec
        assert spec.class_probs is not None  # the factory builds this class only then
        values = [np.asarray(getattr(self, name), dtype=np.float64) for name in spec.names]
        extras = list(self._extra_values().values())
        n = len(self)
        probs = np.column_stack(
            [np.broadcast_to(np.asarray(f(*values, *extras), dtype=np.float64), (n,)) for f in
             spec.class_probs]
        )  # fmt: skip
        if not np.isfinite(probs).all() or (probs < 0).any():
            raise ValueError(
                f"The class probabilities of {type(self).__name__} must be finite and "
                "non-negative. Got other values from 'class_prob_exprs'."
            )
        return probs / probs.sum(axis=1, keepdims=True)


def _rebuild(cls: type[SympyDistn], params: Array, extras: dict[str, Any]) -> SympyDistn:
    return cls(params, **extras)


def _scipy_fit(spec: DistnSpec, y: Array, owner: str) -> Array:
    """SciPy's maximum-likelihood fit, with loc and scale fixed to 0 and 1 unless mapped."""
    mapped = dict(spec.scipy_map)
    fixed = {}
    if "loc" not in mapped:
        fixed["floc"] = 0.0
    if "scale" not in mapped:
        fixed["fscale"] = 1.0
    estimate = spec.scipy.fit(y, **fixed)
    shapes = [s.strip() for s in (getattr(spec.scipy, "shapes", None) or "").split(",")]
    by_keyword = dict(zip([s for s in shapes if s] + ["loc", "scale"], estimate, strict=False))
    by_attr = {attr: by_keyword[kw] for kw, attr in spec.scipy_map if kw in by_keyword}
    out = []
    for name, is_log in zip(spec.names, spec.logs, strict=True):
        if name not in by_attr:
            raise ValueError(
                f"The 'scipy_kwarg_map' of {owner} must map a SciPy argument to the parameter "
                f"{name!r} to fit it. Got {dict(spec.scipy_map)!r}."
            )
        out.append(np.log(max(float(by_attr[name]), 1e-10)) if is_log else float(by_attr[name]))
    return np.asarray(out)


def _mle_fit(spec: DistnSpec, y: Array) -> Array:
    """The internal parameters minimising the mean score (Nelder-Mead from zeros)."""
    from scipy.optimize import minimize

    extras = [default for _, default in spec.extras]

    def mean_score(internal: Array) -> float:
        values = [
            np.exp(np.clip(v, *_LOG_CLIP)) if is_log else v
            for v, is_log in zip(internal, spec.logs, strict=True)
        ]
        with np.errstate(all="ignore"):
            return float(np.mean(spec.score(y, *values, *extras)))

    return np.asarray(minimize(mean_score, np.zeros(len(spec.names)), method="Nelder-Mead").x)


def make_distribution(
    params: Sequence[tuple[Any, bool]],
    y: Any,
    sympy_dist: Any = None,
    score_expr: Any = None,
    scipy_dist_cls: Any = None,
    scipy_kwarg_map: dict[str, Any] | None = None,
    extra_params: Sequence[Any] | None = None,
    fit_fn: Callable[..., Any] | None = None,
    sample_fn: Callable[..., Any] | None = None,
    mean_fn: Callable[..., Any] | None = None,
    class_prob_exprs: Sequence[Any] | None = None,
    name: str = "SympyDistribution",
) -> type[SympyDistn]:
    """A distribution class from a SymPy definition, ready for ``NGBRegressor(Dist=...)`` or,
    with ``class_prob_exprs``, ``NGBClassifier(Dist=...)`` (NGBoost 0.6's function).

    Parameters
    ----------
    params : list of (sympy.Symbol, bool)
        The parameters in internal order; True where the internal parameter is the log of the
        symbol.
    y : sympy.Symbol
        The observation.
    sympy_dist, score_expr
        The distribution or the negative log-likelihood, as in `make_sympy_log_score`.
    scipy_dist_cls : scipy.stats distribution, optional
        The SciPy equivalent: ``fit``, ``sample``, ``mean`` and the other SciPy methods come
        from it (not with ``class_prob_exprs``).
    scipy_kwarg_map : dict, optional
        SciPy's argument name -> the SymPy symbol whose value it takes.
    extra_params : list of sympy.Symbol or (sympy.Symbol, default), optional
        Fixed parameters, set by keyword: ``Dist(params, n=20)``.
    fit_fn, sample_fn, mean_fn : callable, optional
        ``fit_fn(Y)`` (internal parameters), ``sample_fn(self, m)``, ``mean_fn(self)``.
    class_prob_exprs : list of sympy expressions, optional
        P(Y = 0), P(Y = 1), ... for a classification distribution (at least two).
    name : str, default="SympyDistribution"
        The class name; the log score is named ``name + "LogScore"``.

    Returns
    -------
    type
        A subclass of `SympyRegressionDistn` or `SympyClassificationDistn` (of NGBoost's
        `RegressionDistn` / `ClassificationDistn`), defined in the caller's module (assign it
        to a module-level name of that module to pickle models that use it).
    """
    if class_prob_exprs is not None and scipy_dist_cls is not None:
        raise ValueError(
            "make_distribution takes 'class_prob_exprs' or 'scipy_dist_cls', not both. Got both."
        )
    if class_prob_exprs is not None and len(class_prob_exprs) < 2:
        raise ValueError(
            "The 'class_prob_exprs' argument of make_distribution must hold one expression per "
            f"class, at least 2. Got {len(class_prob_exprs)}."
        )
    extras = [e if isinstance(e, tuple | list) else (e, None) for e in (extra_params or [])]
    extra_symbols = [symbol for symbol, _ in extras]
    score_cls = make_sympy_log_score(
        params, y, score_expr=score_expr, sympy_dist=sympy_dist,
        extra_params=extra_symbols or None, name=f"{name}LogScore",
    )  # fmt: skip
    probs = None
    if class_prob_exprs is not None:
        import sympy
        from sympy.utilities.lambdify import lambdify

        symbols = [s for s, _ in params] + extra_symbols
        # Dummies keep user symbol names (e.g. "beta") from clashing with SciPy functions.
        dummies = [sympy.Dummy(str(s)) for s in symbols]
        subs = dict(zip(symbols, dummies, strict=True))
        probs = tuple(
            lambdify(dummies, sympy.sympify(expr).subs(subs), modules=["scipy", "numpy"])
            for expr in class_prob_exprs
        )
    spec = DistnSpec(
        names=tuple(str(s) for s, _ in params),
        logs=tuple(bool(is_log) for _, is_log in params),
        extras=tuple((str(symbol), default) for symbol, default in extras),
        scipy=scipy_dist_cls,
        scipy_map=tuple((kw, str(sym)) for kw, sym in (scipy_kwarg_map or {}).items()),
        fit_fn=fit_fn,
        sample_fn=sample_fn,
        mean_fn=mean_fn,
        class_probs=probs,
        score=score_cls._compiled.score,
    )
    base = SympyRegressionDistn if probs is None else SympyClassificationDistn
    # NGBoost's API hands back a class: a subclass of a fixed class that only carries the
    # spec and the score, defined in the caller's module so that pickles find it by name.
    cls = type(name, (base,), {"spec": spec, "scores": [score_cls], "n_params": len(params)})
    cls.__module__ = sys._getframe(1).f_globals.get("__name__", __name__)
    return cls
