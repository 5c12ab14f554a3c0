"""``ngboost.distns.utils``: `SurvivalDistnClass`."""

from __future__ import annotations

from typing import Any

__all__ = ["SurvivalDistnClass"]


def SurvivalDistnClass(Dist: Any) -> Any:  # noqa: N802, N803
    """The survival version of a distribution class, as NGBoost builds it for `NGBSurvival`.

    A subclass of ``Dist`` whose ``fit(Y)`` takes NGBoost's structured survival targets
    (`natgrad.compat.ngboost.helpers.Y_from_censored`) and fits the times, with the original
    class as ``_basedist``. `NGBSurvival` needs no wrapping (pass the distribution itself, as
    with NGBoost); the function is here for code that calls it.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.compat.ngboost.distns import LogNormal
    >>> from natgrad.compat.ngboost.distns.utils import SurvivalDistnClass
    >>> from natgrad.compat.ngboost.helpers import Y_from_censored
    >>> Surv = SurvivalDistnClass(LogNormal)
    >>> Surv._basedist is LogNormal, issubclass(Surv, LogNormal)
    (True, True)
    >>> Surv.fit(Y_from_censored(np.array([1.0, 2.0, 4.0]), np.array([1, 1, 0]))).shape
    (2,)
    """

    def fit(Y: Any) -> Any:  # noqa: N803
        return Dist.fit(Y["Time"])

    return type(
        "SurvivalDistn",
        (Dist,),
        {"_basedist": Dist, "fit": staticmethod(fit), "__module__": Dist.__module__},
    )
