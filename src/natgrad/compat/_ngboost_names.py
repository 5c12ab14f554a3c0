"""NGBoost's distribution and score names, and its prediction object, for `natgrad.compat.ngboost`.

Each NGBoost name (``Normal``, ``k_categorical(K)``, ``MultivariateNormal(k)``, ``LogScore``,
...) is a small value naming a natgrad family (with its settings) or scoring rule;
`NGBDistribution` wraps a natgrad distribution batch with NGBoost's prediction methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike
from sklearn.tree import DecisionTreeRegressor

from natgrad.distributions._base import Array, Distribution


# ---------------------------------------------------------------------- names
@dataclass(frozen=True)
class DistName:
    """An NGBoost distribution name: the natgrad family and its configuration.

    Parameters
    ----------
    label : str
        The NGBoost spelling, e.g. ``"Normal"`` or ``"k_categorical(3)"``.
    family : str
        The natgrad registry name, e.g. ``"normal"``.
    config : tuple of (str, value) pairs
        The family configuration (a tuple so that the name is hashable).
    n_classes : int, optional
        K for ``k_categorical(K)`` and 2 for ``Bernoulli``.
    """

    label: str
    family: str
    config: tuple[tuple[str, Any], ...] = ()
    n_classes: int | None = None

    def __repr__(self) -> str:
        return self.label

    # Immutable: copies (scikit-learn's clone deep-copies parameters) are the object itself,
    # so that ``est.Dist is LogNormal`` survives cloning.
    def __copy__(self) -> Self:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        return self


@dataclass(frozen=True)
class ScoreName:
    """An NGBoost scoring rule name and the natgrad rule it maps to (``"log"``, ``"crps"``)."""

    label: str
    rule: str

    def __repr__(self) -> str:
        return self.label

    # Immutable: copies (scikit-learn's clone deep-copies parameters) are the object itself,
    # so that ``est.Dist is LogNormal`` survives cloning.
    def __copy__(self) -> Self:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        return self


Normal = DistName("Normal", "normal")
LogNormal = DistName("LogNormal", "lognormal")
Exponential = DistName("Exponential", "exponential")
Laplace = DistName("Laplace", "laplace")
T = DistName("T", "student_t")
# NGBoost's TFixedDf fixes the degrees of freedom at 3.
TFixedDf = DistName("TFixedDf", "student_t", (("fixed_df", 3.0),))
Cauchy = DistName("Cauchy", "cauchy")
Gamma = DistName("Gamma", "gamma")
Poisson = DistName("Poisson", "poisson")
Weibull = DistName("Weibull", "weibull")
HalfNormal = DistName("HalfNormal", "half_normal")
Bernoulli = DistName("Bernoulli", "bernoulli", n_classes=2)

LogScore = ScoreName("LogScore", "log")
CRPScore = ScoreName("CRPScore", "crps")
MLE = LogScore  # NGBoost's older aliases
CRPS = CRPScore

#: NGBoost's default base learner; as ``Base`` it maps onto the native depth-3 tree.
default_tree_learner = DecisionTreeRegressor(
    criterion="friedman_mse", min_samples_leaf=1, max_depth=3, splitter="best"
)


def k_categorical(K: int) -> DistName:
    """The categorical distribution over K classes (labels 0, ..., K − 1)."""
    if isinstance(K, bool) or not isinstance(K, int | np.integer) or K < 2:
        raise ValueError(f"The 'K' argument of k_categorical must be an integer >= 2. Got {K!r}.")
    return DistName(f"k_categorical({int(K)})", "categorical", n_classes=int(K))


def MultivariateNormal(k: int) -> DistName:  # noqa: N802 - NGBoost's spelling
    """The k-variate Normal (k >= 2) for targets ``Y`` of shape (n_samples, k).

    natgrad's ``"multivariate_normal"`` family with ``dim=k``: the same parameters as
    NGBoost's (the mean, then the precision's Cholesky factor with log diagonal), fitted with
    one tree per stage for all k(k+3)/2 of them. ``pred_dist(X).params`` is
    ``{"loc": (n, k), "scale": (n, k, k)}``, the means and covariance matrices.
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 2:
        raise ValueError(
            f"The 'k' argument of MultivariateNormal must be an integer >= 2 (Normal for one "
            f"target). Got {k!r}."
        )
    return DistName(f"MultivariateNormal({int(k)})", "multivariate_normal", (("dim", int(k)),))


# ---------------------------------------------------------------------- predictions
def _ngboost_params(dist: Distribution) -> dict[str, Array]:
    """The natural parameters under NGBoost's names (``dist.params`` in NGBoost)."""
    nat = dist.natural_params
    name = dist.name
    if name == "lognormal":  # scipy's lognorm: s = σ, scale = exp(μ)
        return {"s": nat["scale"], "scale": np.exp(nat["loc"])}
    if name == "gamma":
        return {"alpha": nat["shape"], "beta": nat["rate"]}
    if name == "poisson":
        return {"mu": nat["rate"]}
    if name == "half_normal":
        return {"loc": np.zeros(len(dist)), "scale": nat["scale"]}
    if name == "multivariate_normal":  # NGBoost's "scale" is the covariance matrix
        return {"loc": nat["loc"], "scale": nat["cov"]}
    if name in ("bernoulli", "categorical"):
        probs = np.asarray(nat["probs"])
        if probs.ndim == 1:
            probs = np.column_stack([1.0 - probs, probs])
        return {f"p{j}": probs[:, j] for j in range(probs.shape[1])}
    return dict(nat)


class NGBDistribution:
    """Predicted distributions of n rows, as NGBoost's ``pred_dist`` returns them.

    A thin wrapper over a natgrad batch (`dist`) with NGBoost's ``params`` dictionary and
    the batch methods under their usual names.

    Parameters
    ----------
    dist : Distribution
        The natgrad batch of n distributions.
    classes : ndarray of shape (n_classes,), optional
        Class labels (classifiers): `logpdf` encodes labels through them.
    """

    def __init__(self, dist: Distribution, classes: np.ndarray | None = None) -> None:
        self.dist = dist
        self._classes = classes

    @property
    def params(self) -> dict[str, Array]:
        """Natural parameters under NGBoost's names, each of shape (n,), e.g. ``{"loc",
        "scale"}`` (Normal), ``{"s", "scale"}`` (LogNormal), ``{"p0", ..., "pK-1"}``."""
        return _ngboost_params(self.dist)

    def __len__(self) -> int:
        return len(self.dist)

    def __getitem__(self, index: Any) -> NGBDistribution:
        return NGBDistribution(self.dist[index], self._classes)

    def __repr__(self) -> str:
        return f"NGBDistribution({self.dist!r})"

    def mean(self) -> Array:
        """Mean of every distribution, shape (n,)."""
        return self.dist.mean()

    def var(self) -> Array:
        """Variance, shape (n,)."""
        return self.dist.var()

    def std(self) -> Array:
        """Standard deviation, shape (n,)."""
        return self.dist.std()

    def logpdf(self, y: ArrayLike) -> Array:
        """Log density (or mass) at ``y``, shape (n,); class labels for classifiers."""
        if self._classes is not None:
            y = np.searchsorted(self._classes, np.asarray(y)).astype(np.float64)
        return self.dist.logpdf(y)

    def cdf(self, y: ArrayLike) -> Array:
        """Cumulative distribution function at ``y``."""
        return self.dist.cdf(y)

    def sf(self, y: ArrayLike) -> Array:
        """Survival function 1 − cdf at ``y``."""
        return self.dist.sf(y)

    def ppf(self, q: ArrayLike) -> Array:
        """Quantiles at probabilities ``q``."""
        return self.dist.ppf(q)

    def interval(self, level: float = 0.9) -> tuple[Array, Array]:
        """Central interval of probability ``level``: (lower, upper), each of shape (n,)."""
        return self.dist.interval(level)
