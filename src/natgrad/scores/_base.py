"""Scoring rules: the loss a model minimises and the Riemannian metric its natural gradient uses.

A scoring rule S(P, y) is a loss on a predicted distribution P and an observed y. It brings
three things to the learners, all in the family's unconstrained coordinates:

* ``score(dist, y)``: the loss per row, shape (n,);
* ``grad(dist, y)``: its gradient, shape (n, p);
* ``metric(dist)``: the metric whose inverse turns the gradient into the natural gradient,
  shape (n, p, p). For the log score it is the Fisher information.

Learners know only this interface, so a new rule needs no change to the families. The rules
that have a name (``"log"``, ``"crps"``) are listed in `natgrad.scores.SCORES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, TypeVar

from numpy.typing import ArrayLike

from natgrad._typing import Array
from natgrad.distributions import Distribution

K = TypeVar("K")


def family_kernels(table: Mapping[type, K], family: type) -> K | None:
    """The kernels ``table`` holds for ``family``, or for its nearest base class there (a
    subclass of a supported family shares its parameterisation); None when it holds none."""
    for cls in family.__mro__:
        kernels = table.get(cls)
        if kernels is not None:
            return kernels
    return None


def require_kernels(table: Mapping[type, K], dist: Distribution, where: str) -> K:
    """`family_kernels` of ``dist``'s family, or a ValueError naming ``where`` and the
    families ``table`` supports."""
    kernels = family_kernels(table, type(dist))
    if kernels is None:
        supported = ", ".join(repr(getattr(cls, "name", cls.__name__)) for cls in table)
        raise ValueError(
            f"{where} supports the families {supported}. Got the {type(dist).name!r} family "
            f"({type(dist).__name__}) instead."
        )
    return kernels


class Score:
    """Base class of scoring rules.

    Subclasses implement the unchecked kernels ``_score`` and ``_grad`` (targets already
    validated, as in a training loop that validates once) and ``metric``.

    See Also
    --------
    natgrad.scores.LogScore : The log score (the default).
    natgrad.scores.CRPScore : The continuous ranked probability score.
    natgrad.scores.get_score : A rule by name.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.distributions import Normal
    >>> from natgrad.scores import Score
    >>> class SquaredError(Score):  # a toy rule on the mean, metric 1 (plain gradient steps)
    ...     name = "squared_error"
    ...     def _score(self, dist, y):
    ...         return (dist.loc - y) ** 2
    ...     def _grad(self, dist, y):
    ...         return np.column_stack([2 * (dist.loc - y), np.zeros_like(y)])
    ...     def metric(self, dist):
    ...         return np.broadcast_to(np.eye(2), (len(dist), 2, 2))
    ...
    >>> rule = SquaredError()
    >>> print(rule.score(Normal(loc=[0.0, 1.0]), [1.0, 1.0]))
    [1. 0.]
    >>> rule.metric(Normal(loc=[0.0, 1.0])).shape
    (2, 2, 2)
    """

    name: ClassVar[str] = ""

    def score(self, dist: Distribution, y: ArrayLike) -> Array:
        """The loss per row, shape (n,)."""
        return self._score(dist, dist.check_y(y, "score"))

    def grad(self, dist: Distribution, y: ArrayLike) -> Array:
        """Gradient of the loss in the unconstrained parameters, shape (n, p)."""
        return self._grad(dist, dist.check_y(y, "grad"))

    def metric(self, dist: Distribution) -> Array:
        """The Riemannian metric of the rule, shape (n, p, p)."""
        raise NotImplementedError

    def metric_at(self, dist: Distribution, y: Array) -> Array:
        """The metric the natural gradient uses for observed targets ``y``, (n, p, p).

        The same as `metric` for rules whose metric does not depend on the observation;
        rules such as the censored log score (whose information depends on each row's
        censoring time) override it.
        """
        return self.metric(dist)

    def _score(self, dist: Distribution, y: Array) -> Array:
        raise NotImplementedError

    def _grad(self, dist: Distribution, y: Array) -> Array:
        raise NotImplementedError

    def supports(self, family: type[Distribution]) -> bool:
        """Whether this rule is defined for ``family``."""
        return True

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class LogScore(Score):
    """The logarithmic score S(P, y) = −log p(y); its metric is the Fisher information.

    See Also
    --------
    natgrad.scores.CRPScore : A rule that weighs tails less.
    natgrad.scores.CensoredLogScore : For right-censored targets.

    Examples
    --------
    >>> from natgrad.distributions import Normal
    >>> from natgrad.scores import LogScore
    >>> dist = Normal(loc=0.0, scale=[1.0, 2.0])
    >>> rule = LogScore()
    >>> print(rule.score(dist, [1.0, 1.0]).round(3))   # −log p(y), the same as dist.nll(y)
    [1.419 1.737]
    >>> print(rule.metric(dist)[1])                    # the Fisher information
    [[0.25 0.  ]
     [0.   2.  ]]
    """

    name = "log"

    def _score(self, dist: Distribution, y: Array) -> Array:
        return dist._nll(y)

    def _grad(self, dist: Distribution, y: Array) -> Array:
        return dist._grad(y)

    def metric(self, dist: Distribution) -> Array:
        return dist.fisher()
