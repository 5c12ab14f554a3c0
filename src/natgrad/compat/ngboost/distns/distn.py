"""NGBoost's distribution base classes: `Distn`, `RegressionDistn`, `ClassificationDistn`.

An NGBoost distribution is a batch of n distributions built from its *internal* parameters,
an array of shape (n_params, n) (parameters first, as NGBoost stores them); the class
carries ``n_params``, ``fit(Y)`` (the marginal fit, internal parameters of shape
(n_params,)) and ``scores``, the implementations of the scoring rules for it.

Users subclass `RegressionDistn` or `ClassificationDistn` to define their own
distributions, exactly as in NGBoost; the estimators train them through their ``score``,
``d_score`` and ``metric`` (`natgrad.compat.ngboost._adapter`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from natgrad._typing import Array

__all__ = ["ClassificationDistn", "Distn", "RegressionDistn"]


class Distn:
    """A batch of NGBoost distributions held as internal parameters (n_params, n).

    Subclasses define ``n_params``, ``scores`` (implementation classes, each a subclass of
    an NGBoost rule such as `LogScore`), ``fit(Y)`` and whatever their scores read from
    ``self``.

    Parameters
    ----------
    params : ndarray of shape (n_params, n)
        Internal parameters, one column per distribution.
    """

    n_params: ClassVar[int] = 0
    scores: ClassVar[list[type]] = []

    def __init__(self, params: Any) -> None:
        self._params = params

    def __getitem__(self, key: Any) -> Distn:
        return type(self)(self._params[:, key])

    def __len__(self) -> int:
        return int(np.shape(self._params)[1])

    @classmethod
    def implementation(cls, Score: type, scores: list[type] | None = None) -> type:  # noqa: N803
        """The class of ``scores`` (default ``cls.scores``) implementing the rule ``Score``.

        Raises
        ------
        ValueError
            When no implementation of ``Score`` exists for this distribution.
        """
        candidates = cls.scores if scores is None else scores
        if Score in candidates:
            return Score
        for impl in candidates:
            if isinstance(impl, type) and issubclass(impl, Score):
                return impl
        raise ValueError(
            f"The scoring rule {getattr(Score, '__name__', Score)} is not implemented for the "
            f"{getattr(cls, '__name__', cls)} distribution."
        )


class RegressionDistn(Distn):
    """A distribution for `NGBRegressor` (and `NGBSurvival`): point predictions are means."""

    def predict(self) -> Array:
        return np.asarray(self.mean())  # type: ignore[attr-defined]


class ClassificationDistn(Distn):
    """A distribution for `NGBClassifier`: ``class_probs()`` of shape (n, K)."""

    def predict(self) -> Array:
        return np.argmax(self.class_probs(), 1)  # type: ignore[attr-defined]
