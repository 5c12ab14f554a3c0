"""NGBoost's ``make_sympy_log_score``: a log score from a SymPy expression or distribution.

The returned class implements the log score of a user's distribution: ``score`` is the
negative log-likelihood (given as ``score_expr`` or derived from a ``sympy.stats`` random
variable), ``d_score`` its derivatives in the internal parameters (by SymPy, with the chain
rule of the log link where a parameter is log-transformed), and ``metric`` the Fisher
information: in closed form when the second derivatives do not depend on the observation
(then their value is their expectation), otherwise estimated by Monte Carlo from the
distribution's ``sample`` (`LogScore.metric`). The distribution class reads parameters by
the symbols' names (``self.alpha`` for the symbol ``alpha``). SymPy is imported only here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from natgrad._typing import Array
from natgrad.compat.ngboost.scores import LogScore

__all__ = ["make_sympy_log_score"]


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
