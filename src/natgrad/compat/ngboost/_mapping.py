"""How an NGBoost estimator's ``Dist``, ``Score`` and ``Base`` become the native estimator's
settings (the table is in `natgrad.compat.ngboost._estimators`): the natgrad family and its
configuration (`_Spec`), the native histogram tree a `DecisionTreeRegressor` can be
(`_tree_settings`), and the rules with the identity metric behind ``natural_gradient=False``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.tree import DecisionTreeRegressor

from natgrad._typing import Array
from natgrad.compat.ngboost import scores as ngb_scores
from natgrad.compat.ngboost._adapter import UserDistn
from natgrad.compat.ngboost.distns._native import (
    DistnType,
    NativeCRPScore,
    NativeDistn,
    NativeLogScore,
)
from natgrad.compat.ngboost.distns.distn import Distn, RegressionDistn
from natgrad.compat.ngboost.learners import default_tree_learner
from natgrad.distributions import Distribution
from natgrad.scores import CensoredLogScore, Score

#: The fewest rows a native tree's leaf may hold (see `natgrad.compat.ngboost._estimators`).
MIN_LEAF_ROWS = 5


@dataclass(frozen=True)
class _Spec:
    """How one (Dist, Score) pair trains: the natgrad family, its configuration, the rule."""

    family: str | type[Distribution]
    config: dict[str, Any]
    rule: str | Score
    make: Any  # internal parameters (n_params, n) -> the NGBoost distribution
    flip: tuple[float, ...] | None = None
    native: bool = True


def _is_native(dist: Any, score: Any) -> bool:
    """Whether ``dist`` is a built-in distribution whose implementation of ``score`` is
    natgrad's own (so the compiled rules apply)."""
    if isinstance(dist, DistnType):
        dist = dist.cls
    if not (isinstance(dist, type) and issubclass(dist, NativeDistn)):
        return False
    if ngb_scores.rule_name(score) is None:
        return False
    try:
        impl = dist.implementation(score)
    except ValueError:
        return False
    return impl in (NativeLogScore, NativeCRPScore)


def _spec(est: Any, kind: type) -> _Spec:
    """Resolve ``Dist`` and ``Score`` of ``est`` (``kind``: the Distn base class it needs)."""
    name = type(est).__name__
    dist = est.Dist
    score = est.Score
    if not (isinstance(score, type) and issubclass(score, ngb_scores.Score)):
        raise TypeError(
            f"The 'Score' parameter of {name} must be a scoring rule class of "
            f"natgrad.compat.ngboost.scores (LogScore, CRPScore or a subclass of Score). "
            f"Got {score!r} instead."
        )
    cls = dist.cls if isinstance(dist, DistnType) else dist
    if not (isinstance(cls, type) and issubclass(cls, Distn)):
        raise TypeError(
            f"The 'Dist' parameter of {name} must be a distribution of "
            "natgrad.compat.ngboost.distns (Normal, LogNormal, ..., k_categorical(K)) or a "
            f"subclass of its Distn. Got {dist!r} instead."
        )
    if not issubclass(cls, kind):
        raise ValueError(
            f"The 'Dist' parameter of {name} must be a {kind.__name__}. Got {dist!r}"
            + (", a classification one: use NGBClassifier." if kind is RegressionDistn else ".")
        )
    if _is_native(dist, score):
        assert issubclass(cls, NativeDistn)  # _is_native checked it
        rule = ngb_scores.rule_name(score)
        assert rule is not None  # _is_native checked it
        config = (
            dist.native_config() if isinstance(dist, DistnType) else cls.native_config(cls.n_params)
        )
        return _Spec(cls.family, config, rule, dist, cls.flip)
    cls.implementation(score)  # ValueError naming the rule when the Dist lacks it
    return _Spec(UserDistn, {"dist": dist, "score": score}, "log", dist, native=False)


def _tree_settings(base: Any) -> dict[str, Any] | None:
    """Native tree settings for ``base``, or None when the native tree cannot express it."""
    if base is None:
        base = default_tree_learner
    if type(base) is not DecisionTreeRegressor:
        return None
    p = base.get_params()
    expressible = (
        p["criterion"] in ("friedman_mse", "squared_error")
        and p["splitter"] == "best"
        and p["min_samples_split"] == 2
        and p["min_weight_fraction_leaf"] == 0.0
        and p["max_features"] is None
        and p["min_impurity_decrease"] == 0.0
        and p["ccp_alpha"] == 0.0
        and p.get("monotonic_cst") is None
        and isinstance(p["min_samples_leaf"], int)
    )
    if not expressible:
        return None
    return {
        "max_depth": p["max_depth"],
        "min_samples_leaf": max(int(p["min_samples_leaf"]), MIN_LEAF_ROWS),
        "max_leaves": p["max_leaf_nodes"],
    }


class _IdentityMetric(Score):
    """``rule`` with the identity as its metric: NGBoost's ``natural_gradient=False``."""

    def __init__(self, rule: Score) -> None:
        self.rule = rule
        self.name = rule.name  # type: ignore[misc]

    def _score(self, dist: Distribution, y: Array) -> Array:
        return self.rule._score(dist, y)

    def _grad(self, dist: Distribution, y: Array) -> Array:
        return self.rule._grad(dist, y)

    def metric(self, dist: Distribution) -> Array:
        return np.broadcast_to(np.eye(dist.n_params), (len(dist), dist.n_params, dist.n_params))

    def supports(self, family: type[Distribution]) -> bool:
        return self.rule.supports(family)


class _EuclideanCensoredLogScore(CensoredLogScore):
    """The censored log score with the identity metric (survival, ``natural_gradient=False``)."""

    def metric(self, dist: Distribution) -> Array:
        return np.broadcast_to(np.eye(dist.n_params), (len(dist), dist.n_params, dist.n_params))

    def metric_at(self, dist: Distribution, y: ArrayLike) -> Array:
        return self.metric(dist)
