"""NGBoost distributions backed by natgrad families.

`NativeDistn` is the base of every built-in distribution of `natgrad.compat.ngboost.distns`:
it holds NGBoost's internal parameters (n_params, n) and the equivalent natgrad batch, and
offers NGBoost's surface (``params``, slicing, ``logpdf``, ``cdf``, ``ppf``, ``mean``,
``std``, ``sample``, ``dist``/``scipy_distribution()``, ``fit``, ``scores``) from natgrad's
closed forms. The estimators train these distributions on natgrad's compiled engine.

`DistnType` stands for NGBoost's distribution *factories* (``k_categorical(K)``,
``MultivariateNormal(k)``): one class serves every K or k, and the factory returns a small
immutable object that behaves as the configured class does where NGBoost uses one
(``Dist(params)``, ``Dist.n_params``, ``Dist.fit(Y)``, ``Dist.scores``, ``issubclass`` and
``isinstance``), pickles by value and compares equal for equal configurations.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike

from natgrad import distributions
from natgrad._typing import Array
from natgrad.compat.ngboost.distns.distn import ClassificationDistn, Distn, RegressionDistn
from natgrad.compat.ngboost.scores import CRPScore, LogScore
from natgrad.distributions import Distribution
from natgrad.metrics import point_prediction
from natgrad.scores import CensoredLogScore, get_score


class NativeDistn(Distn):
    """A batch of a natgrad family with NGBoost's interface (see the module docstring).

    Class attributes
    ----------------
    family : str
        The natgrad registry name.
    config : dict
        The family configuration.
    flip : tuple of float, optional
        Signs taking natgrad's coordinates to NGBoost's internal ones (where NGBoost uses
        the negated parameter), None when they agree.
    scores : list of type
        The score implementations; by default those of ``family`` (`scores_for`).
    """

    family: ClassVar[str] = ""
    config: ClassVar[dict[str, Any]] = {}
    flip: ClassVar[tuple[float, ...] | None] = None
    var_is_array: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # A subclass's scores follow from its family (`scores_for`) unless it lists them.
        super().__init_subclass__(**kwargs)
        if "scores" not in cls.__dict__ and cls.family:
            cls.scores = scores_for(cls.family)

    def __init__(self, params: ArrayLike) -> None:
        arr = np.asarray(params, dtype=np.float64)
        if arr.ndim == 1:  # one distribution (NGBoost's integer indexing)
            arr = arr[:, None]
        super().__init__(arr)
        theta = arr.T if self.flip is None else arr.T * np.asarray(self.flip)
        family = distributions.get(self.family)
        self._batch: Distribution = family.from_params(theta, **self._batch_config(arr.shape[0]))

    def _batch_config(self, n_params: int) -> dict[str, Any]:
        """The family configuration of this batch (the class's, unless the instance was
        built with its own, e.g. ``BetaBinomial(params, n=20)``)."""
        return self.native_config(n_params)

    def _init_kwargs(self) -> dict[str, Any]:
        """The constructor's keyword arguments that rebuild this batch (slices, pickles)."""
        return {}

    def __getitem__(self, key: Any) -> NativeDistn:
        return type(self)(self._params[:, key], **self._init_kwargs())

    # ------------------------------------------------------------------ class level
    @classmethod
    def native_config(cls, n_params: int) -> dict[str, Any]:
        """The natgrad family configuration for ``n_params`` internal parameters."""
        return dict(cls.config)

    @classmethod
    def fit(cls, Y: ArrayLike) -> Array:  # type: ignore[override]
        """The marginal maximum-likelihood fit to ``Y``: internal parameters, (n_params,)."""
        return cls._fit(Y, cls.n_params)

    @classmethod
    def _fit(cls, Y: ArrayLike, n_params: int) -> Array:
        family = distributions.get(cls.family)
        theta = family.fit_marginal(np.asarray(Y, dtype=np.float64), **cls.native_config(n_params))
        out = theta[0]
        return out if cls.flip is None else out * np.asarray(cls.flip)

    # ------------------------------------------------------------------ NGBoost's surface
    @property
    def params(self) -> dict[str, Array]:
        """The named parameters, NGBoost's names (e.g. ``{"loc", "scale"}`` for Normal)."""
        return ngboost_params(self._batch)

    @property
    def dist(self) -> Any:
        """The equivalent frozen `scipy.stats` distribution (vectorised over the batch)."""
        return self._batch.to_scipy()

    def scipy_distribution(self) -> Any:
        """The equivalent frozen `scipy.stats` distribution (as `dist`)."""
        return self.dist

    @property
    def natgrad(self) -> Distribution:
        """The natgrad batch behind these distributions (exact Fisher, KL, ...)."""
        return self._batch

    def logpdf(self, Y: ArrayLike) -> Array:
        """Log density (or mass) of ``Y``, shape (n,)."""
        return self._batch.logpdf(np.asarray(Y, dtype=np.float64))

    def pdf(self, Y: ArrayLike) -> Array:
        """Density (or mass) of ``Y``, shape (n,)."""
        return np.exp(self.logpdf(Y))

    def cdf(self, Y: ArrayLike) -> Array:
        return self._batch.cdf(Y)

    def sf(self, Y: ArrayLike) -> Array:
        return self._batch.sf(Y)

    def ppf(self, q: ArrayLike) -> Array:
        return self._batch.ppf(q)

    def mean(self) -> Array:
        return self._batch.mean()

    def std(self) -> Array:
        return self._batch.std()

    def interval(self, confidence: float = 0.9) -> tuple[Array, Array]:
        """Central interval of probability ``confidence``: (lower, upper), each (n,)."""
        return self._batch.interval(confidence)

    def sample(self, m: int, random_state: Any = None) -> Array:
        """``m`` draws of every distribution, shape (m, n).

        ``random_state``: a seed or `numpy.random.Generator` (a fresh unseeded generator
        by default; NGBoost draws from NumPy's global state instead).
        """
        return self._batch.sample(int(m), np.random.default_rng(random_state))

    def rvs(self, size: int | None = None, random_state: Any = None) -> Array:
        """One draw per distribution (shape (n,)), or ``size`` of them (shape (size, n))."""
        if size is None:
            return self.sample(1, random_state)[0]
        return self.sample(int(size), random_state)

    def __getattr__(self, name: str) -> Any:
        # Natural parameters by name (dist.loc, dist.scale, ...) and scipy's methods, as
        # NGBoost's distributions offer them. Unknown names raise AttributeError.
        if name.startswith("_"):
            raise AttributeError(name)
        natural = self._batch.natural_params
        if name in natural:
            return natural[name]
        params = self.params
        if name in params:
            return params[name]
        if name == "var":
            # NGBoost's normal distributions hold the variance as an array attribute; the
            # others hand out scipy's method.
            return self._batch.var() if self.var_is_array else self._batch.var
        try:
            frozen = self._batch.to_scipy()
        except NotImplementedError:  # no scipy equivalent (LogitNormal): nothing to hand out
            frozen = None
        if hasattr(frozen, name):
            return getattr(frozen, name)
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._batch!r})"

    def __getstate__(self) -> dict[str, Any]:
        return {"_params": self._params, "kwargs": self._init_kwargs()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["_params"], **state.get("kwargs", {}))  # type: ignore[misc]


def ngboost_params(dist: Distribution) -> dict[str, Array]:
    """The named parameters of a natgrad batch under NGBoost's names."""
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
    if name == "student_t":  # NGBoost names loc and scale only
        return {"loc": nat["loc"], "scale": nat["scale"]}
    if name == "multivariate_normal":  # NGBoost's "scale" is the covariance matrix
        return {"loc": nat["loc"], "scale": nat["cov"]}
    if name == "logit_normal":
        return {"mu": nat["loc"], "sigma": nat["scale"]}
    if name in ("bernoulli", "categorical"):
        probs = np.asarray(nat["probs"])
        if probs.ndim == 1:
            probs = np.column_stack([1.0 - probs, probs])
        return {f"p{j}": probs[:, j] for j in range(probs.shape[1])}
    return dict(nat)


# ---------------------------------------------------------------------- score implementations
def _targets(dist: Any, Y: ArrayLike) -> Array:
    """``Y`` with the batch's shape (n,) (or (n, k)) when it holds one target per row, as
    NGBoost's scores take it (e.g. shape (1, 1) for one distribution)."""
    batch: Distribution = dist._batch
    arr = np.asarray(Y, dtype=np.float64)
    event = () if batch.event_dim == 0 else (arr.shape[-1],)
    if arr.size == len(batch) * int(np.prod(event)):
        return arr.reshape((len(batch),) + event)
    return arr


class NativeLogScore(LogScore):
    """The log score of a built-in distribution: natgrad's nll, gradient and exact Fisher."""

    def score(self, Y: ArrayLike) -> Array:
        return self._batch.nll(_targets(self, Y))  # type: ignore[attr-defined]

    def d_score(self, Y: ArrayLike) -> Array:
        grad = self._batch.grad(_targets(self, Y))  # type: ignore[attr-defined]
        return _flip_grad(self, grad)

    def metric(self) -> Array:  # type: ignore[override]
        return _flip_metric(self, self._batch.fisher())  # type: ignore[attr-defined]


class NativeCRPScore(CRPScore):
    """The CRPS of a built-in distribution (Normal, Laplace, LogNormal): natgrad's closed
    forms of the score, its gradient and its metric."""

    def score(self, Y: ArrayLike) -> Array:
        return get_score("crps").score(self._batch, _targets(self, Y))  # type: ignore[attr-defined]

    def d_score(self, Y: ArrayLike) -> Array:
        grad = get_score("crps").grad(self._batch, _targets(self, Y))  # type: ignore[attr-defined]
        return _flip_grad(self, grad)

    def metric(self) -> Array:
        return _flip_metric(self, get_score("crps").metric(self._batch))  # type: ignore[attr-defined]


class NativeCensoredLogScore(LogScore):
    """The right-censored log score of a built-in survival distribution on NGBoost's
    structured targets (`Y_from_censored`: fields ``"Event"`` and ``"Time"``), with NGBoost's
    metric, the uncensored Fisher information (what `NGBSurvival` trains with)."""

    def score(self, Y: ArrayLike) -> Array:
        return CensoredLogScore().score(self._batch, _time_event(Y))  # type: ignore[attr-defined]

    def d_score(self, Y: ArrayLike) -> Array:
        return CensoredLogScore().grad(self._batch, _time_event(Y))  # type: ignore[attr-defined]

    def metric(self) -> Array:  # type: ignore[override]
        return self._batch.fisher()  # type: ignore[attr-defined]


def _time_event(Y: ArrayLike) -> Array:
    """Structured (Event, Time) targets as natgrad's (n, 2) array of times and event flags."""
    arr = np.asarray(Y)
    return np.column_stack([arr["Time"], arr["Event"]]).astype(np.float64)


def _flip_grad(dist: Any, grad: Array) -> Array:
    return grad if dist.flip is None else grad * np.asarray(dist.flip)


def _flip_metric(dist: Any, metric: Array) -> Array:
    if dist.flip is None:
        return metric
    s = np.asarray(dist.flip)
    return metric * s[:, None] * s[None, :]


def scores_for(family: str) -> list[type]:
    """The score implementations of a built-in family: log score, and CRPS where natgrad has
    it in closed form."""
    crps = get_score("crps").supports(distributions.get(family))
    return [NativeLogScore, NativeCRPScore] if crps else [NativeLogScore]


class NativeRegressionDistn(NativeDistn, RegressionDistn):
    """A built-in regression distribution: point predictions are the mean, or the median
    where the mean does not exist (`natgrad.metrics.point_prediction`; the location of a
    Cauchy, or of a Student's t with df <= 1)."""

    def predict(self) -> Array:
        return point_prediction(self._batch)[0]


class NativeClassificationDistn(NativeDistn, ClassificationDistn):
    """A built-in classification distribution (``class_probs()`` of shape (n, K))."""

    def class_probs(self) -> Array:
        return np.column_stack(list(self.params.values()))


# ---------------------------------------------------------------------- configured types
class DistnType:
    """A configured NGBoost distribution type: ``k_categorical(K)``, ``MultivariateNormal(k)``.

    Parameters
    ----------
    cls : type of NativeDistn
        The class whose configuration follows from the number of internal parameters.
    n_params : int
        The number of internal parameters.
    label : str
        NGBoost's spelling, e.g. ``"k_categorical(3)"``.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad.compat.ngboost.distns import Bernoulli      # k_categorical(2)
    >>> Bernoulli.__name__, Bernoulli.n_params
    ('k_categorical(2)', 1)
    >>> print(Bernoulli.fit(np.array([0, 1, 1, 1])).round(3))   # log-odds of class 1
    [1.099]
    >>> print(Bernoulli(np.array([[0.0, 2.0]])).class_probs().round(3))
    [[0.5   0.5  ]
     [0.119 0.881]]
    """

    def __init__(self, cls: type[NativeDistn], n_params: int, label: str) -> None:
        self.cls = cls
        self.n_params = n_params
        self.label = label

    @property
    def __name__(self) -> str:  # noqa: PLW3201 - classes have one; code prints it
        return self.label

    @property
    def scores(self) -> list[type]:
        return self.cls.scores

    # Python's issubclass accepts an object with a ``__bases__`` tuple as a class and walks
    # it, so ``issubclass(k_categorical(3), ClassificationDistn)`` holds without a class per
    # K; isinstance and issubclass against the configured type compare the configuration.
    @property
    def __bases__(self) -> tuple[type, ...]:  # noqa: PLW3201 - the protocol's name
        return (self.cls,)

    def __instancecheck__(self, obj: object) -> bool:
        return isinstance(obj, self.cls) and np.shape(obj._params)[0] == self.n_params

    def __subclasscheck__(self, other: object) -> bool:
        return other == self

    def __call__(self, params: ArrayLike) -> NativeDistn:
        return self.cls(params)

    def fit(self, Y: ArrayLike) -> Array:
        """The marginal fit: internal parameters of shape (n_params,)."""
        return self.cls._fit(Y, self.n_params)

    def implementation(self, Score: type, scores: list[type] | None = None) -> type:  # noqa: N803
        return self.cls.implementation(Score, scores)

    def native_config(self) -> dict[str, Any]:
        return self.cls.native_config(self.n_params)

    def __repr__(self) -> str:
        return self.label

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, DistnType)
            and other.cls is self.cls
            and other.n_params == self.n_params
        )

    def __hash__(self) -> int:
        return hash((self.cls, self.n_params))

    # Immutable: scikit-learn's clone deep-copies parameters.
    def __copy__(self) -> DistnType:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> DistnType:
        return self
