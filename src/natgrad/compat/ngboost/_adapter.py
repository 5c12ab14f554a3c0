"""User-defined NGBoost distributions and scores as a natgrad family.

NGBoost users write a distribution class (``n_params``, ``fit(Y)``, ``__init__(params)``)
and, per scoring rule, an implementation class whose ``score(Y)``, ``d_score(Y)`` and
``metric()`` read the distribution through ``self``. `UserDistn` presents such a pair to
natgrad's engine as a family: its negative log-likelihood, gradient and Fisher information
are the user's score, d_score and metric (the Monte Carlo Fisher of `LogScore.metric` when
the implementation defines none), so the engine trains it with the user's own derivatives.
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np

from natgrad._typing import Array
from natgrad.compat.ngboost.distns.distn import ClassificationDistn
from natgrad.distributions import Distribution


class Scored:
    """A distribution with a score implementation's methods bound to it.

    Attribute lookup tries the implementation's classes first (binding their functions to
    this object, so that ``self.score``, ``self.d_score`` and ``self.metric`` inside them
    resolve here) and then the distribution itself: the object NGBoost's ``manifold``
    builds by mixing the two classes, without building a class.

    Parameters
    ----------
    dist : Distn
        The distribution batch.
    impl : type
        The score implementation class (a subclass of an NGBoost rule).
    """

    def __init__(self, dist: Any, impl: type) -> None:
        self._dist = dist
        self._impl = impl

    def __getattr__(self, name: str) -> Any:
        if name in ("_dist", "_impl"):  # during unpickling, before __init__ state exists
            raise AttributeError(name)
        for klass in self._impl.__mro__:
            if klass is object or name not in vars(klass):
                continue
            attr = vars(klass)[name]
            if isinstance(attr, staticmethod):
                return attr.__func__
            if isinstance(attr, classmethod):
                return types.MethodType(attr.__func__, self._impl)
            if isinstance(attr, property):
                return attr.fget(self) if attr.fget is not None else None
            if callable(attr):
                return types.MethodType(attr, self)
            return attr
        return getattr(self._dist, name)

    def __len__(self) -> int:
        return len(self._dist)

    def __getitem__(self, key: Any) -> Scored:
        return Scored(self._dist[key], self._impl)


class UserDistn(Distribution):
    """A user's NGBoost distribution and score implementation as a natgrad family.

    Configuration: ``dist`` (the NGBoost distribution class) and ``score`` (the NGBoost rule,
    e.g. `LogScore`, or a user-defined `Score` subclass). Parameters are NGBoost's internal
    ones, transposed to natgrad's rows-first layout (n, n_params).
    """

    name = "ngboost_user"

    _dist_cls: Any = None
    _score: Any = None
    _impl: Any = None
    _labels = False

    def _configure(self, dist: Any = None, score: Any = None, **config: Any) -> None:  # type: ignore[override]
        super()._configure(**config)
        self._dist_cls = dist
        self._score = score
        self._impl = dist.implementation(score)
        self.n_params = int(dist.n_params)
        self.param_names = tuple(f"param_{j}" for j in range(self.n_params))
        # NGBoost's classification scores index with integer labels.
        self._labels = isinstance(dist, type) and issubclass(dist, ClassificationDistn)

    @property
    def config(self) -> dict[str, Any]:
        return {"dist": self._dist_cls, "score": self._score}

    def __getstate__(self) -> dict[str, Any]:
        # The implementation class follows from (dist, score); it is left out because a
        # class built at run time (e.g. by make_sympy_log_score) cannot be pickled by name.
        state = dict(self.__dict__)
        state.pop("_impl", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if self._dist_cls is not None:
            self._impl = self._dist_cls.implementation(self._score)

    def ngboost(self) -> Any:
        """The user's distribution of this batch, internal parameters (n_params, n)."""
        return self._dist_cls(np.ascontiguousarray(self._params.T))

    def scored(self) -> Scored:
        """The user's distribution with its score implementation bound to it."""
        return Scored(self.ngboost(), self._impl)

    def _y(self, y: Array) -> Any:
        return y.astype(np.int64) if self._labels else y

    def _nll(self, y: Array) -> Array:
        return np.asarray(self.scored().score(self._y(y)), dtype=np.float64)

    def _grad(self, y: Array) -> Array:
        grad = np.asarray(self.scored().d_score(self._y(y)), dtype=np.float64)
        return grad.reshape(len(self), self.n_params)

    def _fisher(self) -> Array:
        metric = np.asarray(self.scored().metric(), dtype=np.float64)
        return metric.reshape(len(self), self.n_params, self.n_params)

    def _natural(self) -> dict[str, Array]:
        return {name: self._params[:, j] for j, name in enumerate(self.param_names)}

    def _fit_marginal(self, y: Array, w: Array) -> Array:
        # NGBoost's marginal fit is the class's fit(Y), unweighted.
        theta = np.asarray(self._dist_cls.fit(self._y(y)), dtype=np.float64)
        return theta.reshape(self.n_params)

    def mean(self) -> Array:
        return np.asarray(self.ngboost().mean(), dtype=np.float64)
