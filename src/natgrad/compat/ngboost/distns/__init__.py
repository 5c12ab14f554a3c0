"""NGBoost's distributions (``ngboost.distns``) on natgrad's families.

Every class takes NGBoost's internal parameters, an array of shape (n_params, n), and has
NGBoost's ``n_params``, ``fit(Y)``, ``scores`` and prediction surface; the estimators train
them with natgrad's exact Fisher information and compiled stages. `Distn`,
`RegressionDistn` and `ClassificationDistn` are the base classes for user-defined
distributions, which train through their own scores.

========================  ===============================================================
NGBoost name              natgrad family (internal parameters)
========================  ===============================================================
Normal                    ``normal`` (loc, log scale)
NormalFixedVar            ``fixed_params`` of ``normal`` with scale 1 (loc)
NormalFixedMean           ``fixed_params`` of ``normal`` with loc 0 (log scale)
LogNormal                 ``lognormal`` (μ, log σ of log Y)
Exponential               ``exponential`` (log scale)
Laplace, Cauchy           ``laplace``, ``cauchy`` (loc, log scale)
T                         ``student_t`` (loc, log scale, log df)
TFixedDf                  ``student_t`` with df 3 (loc, log scale)
TFixedDfFixedVar          ``fixed_params`` of ``student_t`` (df 3) with scale 1 (loc)
Gamma                     ``gamma`` (log α, log β (rate))
Weibull                   ``weibull`` (log shape, log scale)
HalfNormal                ``half_normal`` (log scale)
Poisson                   ``poisson`` (log μ)
Beta                      ``beta`` (log α, log β)
LogitNormal               ``logit_normal`` (μ, log σ of logit Y)
BetaBinomial              ``beta_binomial`` with ``n`` trials (log α, log β); ``n = 1``
                          by default, as in NGBoost; ``BetaBinomial(params, n=20)`` or a
                          subclass with ``n = 20`` sets another
BetaBernoulli             ``beta_binomial`` with one trial, for `NGBClassifier`
k_categorical(K)          ``categorical`` (K − 1 logits against class 0)
Bernoulli                 ``k_categorical(2)``
MultivariateNormal(k)     ``multivariate_normal`` (mean, then the precision's Cholesky
                          factor with log diagonal); k = 1 uses ``normal``
========================  ===============================================================
"""

from __future__ import annotations

from typing import Any

import numpy as np

from natgrad import distributions
from natgrad._typing import Array
from natgrad.compat.ngboost.distns._native import (
    DistnType,
    NativeClassificationDistn,
    NativeLogScore,
    NativeRegressionDistn,
)
from natgrad.compat.ngboost.distns.distn import ClassificationDistn, Distn, RegressionDistn

__all__ = [
    "Bernoulli",
    "Beta",
    "BetaBernoulli",
    "BetaBinomial",
    "BetaBinomialEstN",
    "Cauchy",
    "ClassificationDistn",
    "Distn",
    "Exponential",
    "Gamma",
    "HalfNormal",
    "Laplace",
    "LogNormal",
    "LogitNormal",
    "MultivariateNormal",
    "Normal",
    "NormalFixedMean",
    "NormalFixedVar",
    "Poisson",
    "RegressionDistn",
    "T",
    "TFixedDf",
    "TFixedDfFixedVar",
    "Weibull",
    "k_categorical",
]


class Normal(NativeRegressionDistn):
    """Normal(loc, scale); internal parameters (loc, log scale).

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.compat.ngboost.distns import Normal
    >>> y = np.array([-1.0, 0.5, 2.0, 3.0])
    >>> theta = Normal.fit(y)                # marginal fit, internal parameters
    >>> dist = Normal(np.tile(theta[:, None], (1, 3)))   # shape (n_params, n)
    >>> sorted(dist.params)
    ['loc', 'scale']
    >>> print(dist.predict().round(3))
    [1.125 1.125 1.125]
    """

    family = "normal"
    n_params = 2
    var_is_array = True


class NormalFixedVar(Normal):
    """Normal(loc, 1); internal parameter loc.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.compat.ngboost.distns import NormalFixedVar
    >>> y = np.array([-1.0, 0.5, 2.0, 3.0])
    >>> theta = NormalFixedVar.fit(y)                # marginal fit, internal parameters
    >>> dist = NormalFixedVar(np.tile(theta[:, None], (1, 3)))   # shape (n_params, n)
    >>> sorted(dist.params)
    ['loc', 'scale']
    >>> print(dist.predict().round(3))
    [1.125 1.125 1.125]
    """

    family = "fixed_params"
    config = {"family": "normal", "fixed": {"log_scale": 0.0}, "family_config": {}}
    n_params = 1


class NormalFixedMean(Normal):
    """Normal(0, scale); internal parameter log scale.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.compat.ngboost.distns import NormalFixedMean
    >>> y = np.array([-1.0, 0.5, 2.0, 3.0])
    >>> theta = NormalFixedMean.fit(y)                # marginal fit, internal parameters
    >>> dist = NormalFixedMean(np.tile(theta[:, None], (1, 3)))   # shape (n_params, n)
    >>> sorted(dist.params)
    ['loc', 'scale']
    >>> print(dist.predict().round(3))
    [0. 0. 0.]
    """

    family = "fixed_params"
    config = {"family": "normal", "fixed": {"loc": 0.0}, "family_config": {}}
    n_params = 1


class LogNormal(NativeRegressionDistn):
    """Log-normal: log Y ~ Normal(μ, σ); internal parameters (μ, log σ); ``params`` are
    scipy's ``{"s": σ, "scale": exp(μ)}``.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.compat.ngboost.distns import LogNormal
    >>> y = np.array([0.5, 1.0, 2.0, 4.0])
    >>> theta = LogNormal.fit(y)                # marginal fit, internal parameters
    >>> dist = LogNormal(np.tile(theta[:, None], (1, 3)))   # shape (n_params, n)
    >>> sorted(dist.params)
    ['s', 'scale']
    >>> print(dist.predict().round(3))
    [1.91 1.91 1.91]
    """

    family = "lognormal"
    n_params = 2


class Exponential(NativeRegressionDistn):
    """Exponential(scale); internal parameter log scale.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.compat.ngboost.distns import Exponential
    >>> y = np.array([0.5, 1.0, 2.0, 4.0])
    >>> theta = Exponential.fit(y)                # marginal fit, internal parameters
    >>> dist = Exponential(np.tile(theta[:, None], (1, 3)))   # shape (n_params, n)
    >>> sorted(dist.params)
    ['scale']
    >>> print(dist.predict().round(3))
    [1.875 1.875 1.875]
    """

    family = "exponential"
    n_params = 1


class Laplace(NativeRegressionDistn):
    """Laplace(loc, scale); internal parameters (loc, log scale).

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.compat.ngboost.distns import Laplace
    >>> y = np.array([-1.0, 0.5, 2.0, 3.0])
    >>> theta = Laplace.fit(y)                # marginal fit, internal parameters
    >>> dist = Laplace(np.tile(theta[:, None], (1, 3)))   # shape (n_params, n)
    >>> sorted(dist.params)
    ['loc', 'scale']
    >>> print(dist.predict().round(3))
    [1.25 1.25 1.25]
    """

    family = "laplace"
    n_params = 2

    @property
    def logscale(self) -> Array:
        """The log scale, shape (n,) (NGBoost's Laplace attribute)."""
        return np.asarray(self._params[1])


class Cauchy(NativeRegressionDistn):
    """Cauchy(loc, scale); internal parameters (loc, log scale). Predicts the location.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.compat.ngboost.distns import Cauchy
    >>> y = np.array([-1.0, 0.5, 2.0, 3.0])
    >>> theta = Cauchy.fit(y)                # marginal fit, internal parameters
    >>> dist = Cauchy(np.tile(theta[:, None], (1, 3)))   # shape (n_params, n)
    >>> sorted(dist.params)
    ['loc', 'scale']
    >>> print(dist.predict().round(3))
    [1.4 1.4 1.4]
    """

    family = "cauchy"
    n_params = 2
    fixed_df = 1.0  # NGBoost's Cauchy is its Student's t with one degree of freedom

    @property
    def df(self) -> Array:
        """The degrees of freedom, 1 for every row (NGBoost's attribute)."""
        return _fixed_df(self)


class T(NativeRegressionDistn):
    """Student's t(loc, scale, df); internal parameters (loc, log scale, log df). Predicts
    the location.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.compat.ngboost.distns import T
    >>> y = np.array([-1.0, 0.5, 2.0, 3.0])
    >>> theta = T.fit(y)                # marginal fit, internal parameters
    >>> dist = T(np.tile(theta[:, None], (1, 3)))   # shape (n_params, n)
    >>> sorted(dist.params)
    ['loc', 'scale']
    >>> print(dist.predict().round(3))
    [1.125 1.125 1.125]
    """

    family = "student_t"
    n_params = 3


class TFixedDf(T):
    """Student's t with 3 degrees of freedom; internal parameters (loc, log scale).

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.compat.ngboost.distns import TFixedDf
    >>> y = np.array([-1.0, 0.5, 2.0, 3.0])
    >>> theta = TFixedDf.fit(y)                # marginal fit, internal parameters
    >>> dist = TFixedDf(np.tile(theta[:, None], (1, 3)))   # shape (n_params, n)
    >>> sorted(dist.params)
    ['loc', 'scale']
    >>> print(dist.predict().round(3))
    [1.219 1.219 1.219]
    """

    config = {"fixed_df": 3.0}
    n_params = 2
    fixed_df = 3.0

    @property
    def df(self) -> Array:
        """The degrees of freedom, 3 for every row (NGBoost's attribute)."""
        return _fixed_df(self)


class TFixedDfFixedVar(T):
    """Student's t with 3 degrees of freedom and scale 1; internal parameter loc.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.compat.ngboost.distns import TFixedDfFixedVar
    >>> y = np.array([-1.0, 0.5, 2.0, 3.0])
    >>> theta = TFixedDfFixedVar.fit(y)                # marginal fit, internal parameters
    >>> dist = TFixedDfFixedVar(np.tile(theta[:, None], (1, 3)))   # shape (n_params, n)
    >>> sorted(dist.params)
    ['loc', 'scale']
    >>> print(dist.predict().round(3))
    [1.277 1.277 1.277]
    """

    family = "fixed_params"
    config = {
        "family": "student_t",
        "fixed": {"log_scale": 0.0},
        "family_config": {"fixed_df": 3.0},
    }
    n_params = 1
    fixed_df = 3.0

    @property
    def df(self) -> Array:
        """The degrees of freedom, 3 for every row (NGBoost's attribute)."""
        return _fixed_df(self)


class Gamma(NativeRegressionDistn):
    """Gamma(α, β) with rate β; internal parameters (log α, log β).

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.compat.ngboost.distns import Gamma
    >>> y = np.array([0.5, 1.0, 2.0, 4.0])
    >>> theta = Gamma.fit(y)                # marginal fit, internal parameters
    >>> dist = Gamma(np.tile(theta[:, None], (1, 3)))   # shape (n_params, n)
    >>> sorted(dist.params)
    ['alpha', 'beta']
    >>> print(dist.predict().round(3))
    [1.875 1.875 1.875]
    """

    family = "gamma"
    n_params = 2


class Weibull(NativeRegressionDistn):
    """Weibull(shape, scale); internal parameters (log shape, log scale).

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.compat.ngboost.distns import Weibull
    >>> y = np.array([0.5, 1.0, 2.0, 4.0])
    >>> theta = Weibull.fit(y)                # marginal fit, internal parameters
    >>> dist = Weibull(np.tile(theta[:, None], (1, 3)))   # shape (n_params, n)
    >>> sorted(dist.params)
    ['scale', 'shape']
    >>> print(dist.predict().round(3))
    [1.885 1.885 1.885]
    """

    family = "weibull"
    n_params = 2


class HalfNormal(NativeRegressionDistn):
    """Half-normal(scale) on [0, inf); internal parameter log scale.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.compat.ngboost.distns import HalfNormal
    >>> y = np.array([0.5, 1.0, 2.0, 4.0])
    >>> theta = HalfNormal.fit(y)                # marginal fit, internal parameters
    >>> dist = HalfNormal(np.tile(theta[:, None], (1, 3)))   # shape (n_params, n)
    >>> sorted(dist.params)
    ['loc', 'scale']
    >>> print(dist.predict().round(3))
    [1.839 1.839 1.839]
    """

    family = "half_normal"
    n_params = 1


class Poisson(NativeRegressionDistn):
    """Poisson(μ); internal parameter log μ.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.compat.ngboost.distns import Poisson
    >>> y = np.array([0.0, 1.0, 3.0, 4.0])
    >>> theta = Poisson.fit(y)                # marginal fit, internal parameters
    >>> dist = Poisson(np.tile(theta[:, None], (1, 3)))   # shape (n_params, n)
    >>> sorted(dist.params)
    ['mu']
    >>> print(dist.predict().round(3))
    [2. 2. 2.]
    """

    family = "poisson"
    n_params = 1


class Beta(NativeRegressionDistn):
    """Beta(α, β) on (0, 1); internal parameters (log α, log β).

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.compat.ngboost.distns import Beta
    >>> y = np.array([0.2, 0.4, 0.5, 0.9])
    >>> theta = Beta.fit(y)                # marginal fit, internal parameters
    >>> dist = Beta(np.tile(theta[:, None], (1, 3)))   # shape (n_params, n)
    >>> sorted(dist.params)
    ['alpha', 'beta']
    >>> print(dist.predict().round(3))
    [0.518 0.518 0.518]
    """

    family = "beta"
    n_params = 2


class LogitNormal(NativeRegressionDistn):
    """Logit-normal: logit(Y) ~ Normal(μ, σ) on (0, 1); internal parameters (μ, log σ);
    ``params`` are ``{"mu", "sigma"}``.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.compat.ngboost.distns import LogitNormal
    >>> y = np.array([0.2, 0.4, 0.5, 0.9])
    >>> theta = LogitNormal.fit(y)                # marginal fit, internal parameters
    >>> dist = LogitNormal(np.tile(theta[:, None], (1, 3)))   # shape (n_params, n)
    >>> sorted(dist.params)
    ['mu', 'sigma']
    >>> print(dist.predict().round(3))
    [0.519 0.519 0.519]
    """

    family = "logit_normal"
    n_params = 2


class BetaBinomial(NativeRegressionDistn):
    """Beta-binomial counts out of ``n`` trials; internal parameters (log α, log β).

    ``n`` is 1 by default, as in NGBoost; ``BetaBinomial(params, n=20)`` and
    ``BetaBinomial.fit(Y, n=20)`` take another, as NGBoost's do, and a subclass with the
    class attribute ``n = 20`` trains with 20 trials. ``params`` holds ``alpha``, ``beta``
    and ``n``.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.compat.ngboost.distns import BetaBinomial
    >>> y = np.array([0.0, 1.0, 1.0, 0.0])
    >>> theta = BetaBinomial.fit(y)                # marginal fit, internal parameters
    >>> dist = BetaBinomial(np.tile(theta[:, None], (1, 3)))   # shape (n_params, n)
    >>> sorted(dist.params)
    ['alpha', 'beta', 'n']
    >>> print(dist.predict().round(3))
    [0.5 0.5 0.5]
    >>> print(BetaBinomial(np.zeros((2, 2)), n=20).mean())     # n α / (α + β)
    [10. 10.]
    """

    family = "beta_binomial"
    n_params = 2
    n: int = 1

    def __init__(self, params: Any, n: int | None = None) -> None:
        if n is not None:
            self.n = _n_trials(n, "BetaBinomial")
        super().__init__(params)

    @classmethod
    def native_config(cls, n_params: int) -> dict[str, Any]:
        return {"n_trials": int(cls.n)}

    def _batch_config(self, n_params: int) -> dict[str, Any]:
        return {"n_trials": int(self.n)}

    def _init_kwargs(self) -> dict[str, Any]:
        return {"n": self.n}

    @classmethod
    def fit(cls, Y: Any, n: int | None = None) -> Array:  # type: ignore[override]
        """The marginal maximum-likelihood fit to counts ``Y`` out of ``n`` trials (default
        the class's ``n``): internal parameters (log α, log β)."""
        trials = int(cls.n) if n is None else _n_trials(n, "BetaBinomial.fit")
        family = distributions.get(cls.family)
        return family.fit_marginal(np.asarray(Y, dtype=np.float64), n_trials=trials)[0]

    @property
    def params(self) -> dict[str, Any]:
        return {**super().params, "n": self.n}


def _n_trials(n: Any, owner: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"The 'n' argument of {owner} must be an integer >= 1. Got {n!r}.")
    return int(n)


class BetaBernoulli(NativeClassificationDistn):
    """Beta-Bernoulli for two classes: P(Y = 1) = α/(α + β); internal parameters
    (log α, log β). One observation identifies only the mean, so its Fisher information
    has rank one (the engine damps it).

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.compat.ngboost.distns import BetaBernoulli
    >>> dist = BetaBernoulli(np.array([[0.0, np.log(3.0)], [0.0, 0.0]]))   # (log α, log β)
    >>> print(dist.class_probs().round(3))          # P(Y = 1) = α/(α + β)
    [[0.5  0.5 ]
     [0.25 0.75]]
    """

    family = "beta_binomial"
    config = {"n_trials": 1}
    n_params = 2

    def class_probs(self) -> Array:
        p1 = self._batch.mean()
        return np.column_stack([1.0 - p1, p1])

    @property
    def params(self) -> dict[str, Array]:
        return {"alpha": self._batch.alpha, "beta": self._batch.beta}  # type: ignore[attr-defined]


class Categorical(NativeClassificationDistn):
    """K-class categorical; internal parameters the K − 1 logits of classes 1..K−1 against
    class 0 (K follows from the number of parameters)."""

    family = "categorical"
    problem_type = "classification"

    @classmethod
    def native_config(cls, n_params: int) -> dict[str, Any]:
        return {"n_classes": n_params + 1}

    def class_probs(self) -> Array:
        return np.asarray(self._batch.probs)  # type: ignore[attr-defined]

    # NGBoost's attributes, classes first: (K, n).
    @property
    def probs(self) -> Array:
        """Class probabilities, shape (K, n) (NGBoost's layout; `class_probs` is (n, K))."""
        return self.class_probs().T

    @property
    def logits(self) -> Array:
        """Logits against class 0, shape (K, n): zeros, then the internal parameters."""
        return np.vstack([np.zeros((1, self._params.shape[1])), self._params])

    @property
    def K_(self) -> int:  # noqa: N802 - NGBoost's name
        """The number of classes K."""
        return int(self._params.shape[0]) + 1


def _fixed_df(dist: Any) -> Array:
    """The fixed degrees of freedom of ``dist`` (its class's ``fixed_df``) for every row."""
    return np.full(np.shape(dist._params)[1], float(dist.fixed_df))


def k_categorical(K: int) -> DistnType:  # noqa: N803 - NGBoost's argument name
    """The categorical distribution over K >= 2 classes (labels 0, ..., K − 1).

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.compat.ngboost.distns import k_categorical
    >>> Dist = k_categorical(3)
    >>> Dist.n_params                               # logits of classes 1 and 2 against class 0
    2
    >>> print(Dist.fit(np.array([0, 1, 1, 2, 2, 2])).round(3))
    [0.693 1.099]
    >>> print(Dist(np.zeros((2, 1))).class_probs().round(3))
    [[0.333 0.333 0.333]]
    """
    if isinstance(K, bool) or not isinstance(K, int | np.integer) or K < 2:
        raise ValueError(f"The 'K' argument of k_categorical must be an integer >= 2. Got {K!r}.")
    return DistnType(Categorical, int(K) - 1, f"k_categorical({int(K)})")


Bernoulli = k_categorical(2)


class _MVNParts:
    """NGBoost's multivariate-normal attributes from the internal parameters (mean, then
    the precision's Cholesky factor with log diagonal, in ``np.tril_indices`` order)."""

    _params: Array

    @property
    def p(self) -> int:
        """The dimension k."""
        return _mvn_dim(self._params.shape[0])

    @property
    def N(self) -> int:  # noqa: N802 - NGBoost's name
        """The number of distributions n."""
        return int(self._params.shape[1])

    @property
    def tril_L(self) -> Array:  # noqa: N802 - NGBoost's name
        """The precision's Cholesky factor as internal parameters, (k(k + 1)/2, n)."""
        return np.asarray(self._params[self.p :])

    @property
    def L(self) -> Array:  # noqa: N802 - NGBoost's name
        """The precision's lower Cholesky factor of every distribution, (n, k, k)."""
        k, n = self.p, self.N
        out = np.zeros((n, k, k))
        rows, cols = np.tril_indices(k)
        out[:, rows, cols] = self.tril_L.T
        diag = np.arange(k)
        out[:, diag, diag] = np.exp(out[:, diag, diag])
        return out

    @property
    def cov_inv(self) -> Array:
        """The precision matrices, (n, k, k)."""
        L = self.L  # noqa: N806
        return L @ L.transpose(0, 2, 1)

    def rv(self, random_state: Any = None) -> Array:
        """One draw of every distribution, shape (n, k) (``random_state``: a seed or
        `numpy.random.Generator`; NGBoost draws from NumPy's global state)."""
        draws = self.sample(1, random_state)  # type: ignore[attr-defined]
        return np.squeeze(np.asarray(draws)[0].reshape(self.N, self.p))


class _MVN(_MVNParts, NativeRegressionDistn):
    """k-variate Normal, k >= 2: NGBoost's parameters (the mean, then the precision's
    Cholesky factor with log diagonal); ``params`` are ``{"loc": (n, k), "scale": (n, k, k)}``
    (means and covariance matrices)."""

    family = "multivariate_normal"

    @classmethod
    def native_config(cls, n_params: int) -> dict[str, Any]:
        return {"dim": _mvn_dim(n_params)}


class _MVN1(_MVNParts, NativeRegressionDistn):
    """The one-variate case of `MultivariateNormal`: NGBoost's parameters (mean, log of the
    precision's square root, i.e. −log σ) on natgrad's Normal."""

    family = "normal"
    flip = (1.0, -1.0)
    n_params = 2
    scores = [NativeLogScore]

    @property
    def params(self) -> dict[str, Array]:
        nat = self._batch.natural_params
        return {"loc": nat["loc"][:, None], "scale": (nat["scale"] ** 2)[:, None, None]}


def _mvn_dim(n_params: int) -> int:
    """k from the k(k + 3)/2 parameters of a k-variate Normal."""
    return int(round((-3.0 + np.sqrt(9.0 + 8.0 * n_params)) / 2.0))


def MultivariateNormal(k: int) -> DistnType:  # noqa: N802 - NGBoost's spelling
    """The k-variate Normal for targets of shape (n_samples, k) (k = 1: shape (n, 1) or (n,)).

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.compat.ngboost.distns import MultivariateNormal
    >>> Dist = MultivariateNormal(2)
    >>> Dist.n_params                               # 2 means + 3 Cholesky entries
    5
    >>> Y = np.random.default_rng(0).normal(size=(500, 2))
    >>> dist = Dist(np.tile(Dist.fit(Y)[:, None], (1, 4)))
    >>> dist.params["scale"].shape                  # one 2×2 covariance per row
    (4, 2, 2)
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(
            f"The 'k' argument of MultivariateNormal must be a positive integer. Got {k!r}."
        )
    k = int(k)
    return DistnType(_MVN1 if k == 1 else _MVN, k * (k + 3) // 2, f"MultivariateNormal({k})")


from natgrad.compat.ngboost.distns._estn import BetaBinomialEstN  # noqa: E402
