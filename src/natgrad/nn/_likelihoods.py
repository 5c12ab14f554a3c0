"""Output distributions of a network (likelihoods) in torch, with closed-form geometry.

A likelihood turns a network's outputs of shape (n, d) into n independent distributions: one
row of outputs holds the unconstrained parameters of one row's distribution, in the same
coordinates as the NumPy families of `natgrad.distributions` (logits, (loc, log-scale),
log-rate). Each likelihood owns the geometry of its output space, all batched over rows:

* ``nll(outputs, targets)``: negative log-likelihood per row, shape (n,);
* ``grad(outputs, targets)``: its gradient in the outputs, shape (n, d);
* ``fisher_mv(outputs, v)``: F_out v per row, shape (n, d) (no d×d matrix is formed);
* ``fisher_sqrt(outputs)``: B with F_out = B Bᵀ per row, shape (n, d, r), for Kronecker
  factors and exact diagonals;
* ``fisher(outputs)``: the dense F_out per row, shape (n, d, d) (tests, diagnostics);
* ``sample(outputs, generator)``: one target per row;
* ``kl(outputs_p, outputs_q)``: KL(p ‖ q) per row, shape (n,).

A model's Fisher is F = (1/n) Σᵢ Jᵢᵀ F_out,ᵢ Jᵢ with Jᵢ the Jacobian of row i's outputs in the
parameters (`natgrad.nn.Fisher`).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from natgrad._validation import describe

__all__ = [
    "Bernoulli",
    "Categorical",
    "Likelihood",
    "Normal",
    "NormalFixedScale",
    "Poisson",
    "get_likelihood",
    "likelihood_names",
]

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _describe(value: Any) -> str:
    if isinstance(value, Tensor):
        return f"a tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    return describe(value)


class Likelihood:
    """Base class: a family of output distributions, one per row of a network's outputs.

    Subclasses implement the unvalidated kernels ``_nll``, ``_grad``, ``_fisher_diag`` or
    ``_fisher_mv``, ``_fisher_sqrt``, ``_sample`` and ``_kl`` on outputs of shape (n, d) and
    targets already in the layout ``_check_targets`` returns.

    Examples
    --------
    >>> import torch
    >>> from natgrad.nn import Likelihood, Normal
    >>> lik = Normal()                              # every likelihood has the same methods
    >>> outputs = torch.tensor([[0.0, 0.0], [1.0, -1.0]])   # (loc, log scale) per row
    >>> isinstance(lik, Likelihood)
    True
    >>> print(lik.nll(outputs, torch.tensor([0.0, 1.0])).numpy().round(3))
    [ 0.919 -0.081]
    >>> print(lik.fisher(outputs)[1].numpy().round(3))       # diag(e^{-2s}, 2)
    [[7.389 0.   ]
     [0.    2.   ]]
    >>> print(lik.kl(outputs, outputs).numpy())
    [0. 0.]
    """

    name: str = ""

    # ------------------------------------------------------------------ validation
    def _where(self, method: str) -> str:
        return f"{type(self).__name__}.{method}"

    def check_outputs(self, outputs: Any, method: str = "nll") -> Tensor:
        """Validate network outputs: a floating tensor of shape (n, d) with a valid width d."""
        where = self._where(method)
        if not isinstance(outputs, Tensor):
            raise TypeError(
                f"The 'outputs' argument of {where} must be a torch.Tensor. "
                f"Got {_describe(outputs)} instead."
            )
        if not outputs.is_floating_point():
            raise TypeError(
                f"The 'outputs' argument of {where} must be a floating-point tensor. "
                f"Got dtype {outputs.dtype} instead."
            )
        if outputs.ndim != 2 or outputs.shape[0] == 0:
            raise ValueError(
                f"The 'outputs' argument of {where} must have shape (n, d) with n >= 1 "
                f"(one row of network outputs per example). Got shape {tuple(outputs.shape)} "
                "instead."
            )
        self._check_width(int(outputs.shape[1]), where)
        return outputs

    def _check_width(self, width: int, where: str) -> None:
        if width < 1:
            raise ValueError(
                f"The 'outputs' argument of {where} must have at least one column. Got 0."
            )

    def check_targets(self, outputs: Tensor, targets: Any, method: str = "nll") -> Tensor:
        """Validate targets against validated outputs; returns them in the kernels' layout."""
        where = self._where(method)
        if not isinstance(targets, Tensor):
            try:
                targets = torch.as_tensor(targets, device=outputs.device)
            except (TypeError, ValueError, RuntimeError) as exc:
                raise TypeError(
                    f"The 'targets' argument of {where} must be a tensor or array-like of "
                    f"numbers. Got {_describe(targets)} instead."
                ) from exc
        targets = targets.to(outputs.device)
        if targets.is_floating_point() or targets.is_complex():
            if not torch.isfinite(targets).all():
                bad = int((~torch.isfinite(targets)).sum())
                raise ValueError(
                    f"The 'targets' argument of {where} must be finite. Got {bad} non-finite "
                    "value(s)."
                )
        return self._check_targets(outputs, targets, where)

    def _target_columns(self, width: int) -> int:
        """m, the targets per row for outputs of ``width`` columns (one per column here)."""
        return width

    def n_variables(self, width: int) -> int:
        """The number of independent output distributions in a row of ``width`` outputs.

        A row's nll and KL are sums over them: 1 for `Categorical` (one label), m for
        `Normal` (2m outputs), one per column otherwise. `NaturalGradient` gives each its
        own KL budget.
        """
        return self._target_columns(width)

    def _check_targets(self, outputs: Tensor, targets: Tensor, where: str) -> Tensor:
        """Vector targets: shape (n, m) (or (n,) for m = 1), inside the support."""
        n, m = outputs.shape[0], self._target_columns(int(outputs.shape[1]))
        if targets.ndim == 1 and m == 1:
            targets = targets[:, None]
        if tuple(targets.shape) != (n, m):
            raise ValueError(
                f"The 'targets' argument of {where} must have shape ({n}, {m}) (one target "
                f"per row and distribution){' or (' + str(n) + ',)' if m == 1 else ''}. Got "
                f"shape {tuple(targets.shape)} instead."
            )
        targets = targets.to(outputs.dtype)
        self._check_support(targets, where)
        return targets

    def _check_support(self, targets: Tensor, where: str) -> None:
        """Families with a restricted support override this."""

    @staticmethod
    def _support_error(targets: Tensor, inside: Tensor, where: str, description: str) -> None:
        if not bool(inside.all()):
            flat = (~inside).flatten().nonzero()
            first = int(flat[0])
            raise ValueError(
                f"The 'targets' argument of {where} must be {description}. Got "
                f"{flat.numel()} value(s) outside it, e.g. {targets.flatten()[first].item()} "
                f"at flat index {first}."
            )

    # ------------------------------------------------------------------ public API
    def nll(self, outputs: Tensor, targets: Any) -> Tensor:
        """Negative log-likelihood of ``targets`` per row, shape (n,)."""
        outputs = self.check_outputs(outputs, "nll")
        return self._nll(outputs, self.check_targets(outputs, targets, "nll"))

    def grad(self, outputs: Tensor, targets: Any) -> Tensor:
        """Gradient of `nll` in the outputs, shape (n, d), in closed form."""
        outputs = self.check_outputs(outputs, "grad")
        return self._grad(outputs, self.check_targets(outputs, targets, "grad"))

    def fisher_mv(self, outputs: Tensor, v: Tensor) -> Tensor:
        """F_out v per row: ``v`` and the result have the shape of ``outputs``, (n, d)."""
        outputs = self.check_outputs(outputs, "fisher_mv")
        if tuple(v.shape) != tuple(outputs.shape):
            raise ValueError(
                f"The 'v' argument of {self._where('fisher_mv')} must have the outputs' shape "
                f"{tuple(outputs.shape)}. Got shape {tuple(v.shape)} instead."
            )
        return self._fisher_mv(outputs, v)

    def fisher_sqrt(self, outputs: Tensor) -> Tensor:
        """A factor B of F_out = B Bᵀ per row, shape (n, d, r)."""
        return self._fisher_sqrt(self.check_outputs(outputs, "fisher_sqrt"))

    def fisher(self, outputs: Tensor) -> Tensor:
        """The dense output Fisher F_out per row, shape (n, d, d)."""
        outputs = self.check_outputs(outputs, "fisher")
        b = self._fisher_sqrt(outputs)
        return b @ b.transpose(1, 2)

    def sample(self, outputs: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """One target per row drawn from the distributions, in `nll`'s target layout."""
        outputs = self.check_outputs(outputs, "sample")
        with torch.no_grad():
            return self._sample(outputs.detach(), generator)

    def kl(self, outputs_p: Tensor, outputs_q: Tensor) -> Tensor:
        """KL(p ‖ q) per row, shape (n,), between the distributions of two outputs."""
        outputs_p = self.check_outputs(outputs_p, "kl")
        outputs_q = self.check_outputs(outputs_q, "kl")
        if outputs_p.shape != outputs_q.shape:
            raise ValueError(
                f"The 'outputs_q' argument of {self._where('kl')} must have the shape of "
                f"'outputs_p', {tuple(outputs_p.shape)}. Got {tuple(outputs_q.shape)} instead."
            )
        return self._kl(outputs_p, outputs_q)

    # ------------------------------------------------------------------ kernels
    def _nll(self, outputs: Tensor, targets: Tensor) -> Tensor:
        raise NotImplementedError

    def _grad(self, outputs: Tensor, targets: Tensor) -> Tensor:
        raise NotImplementedError

    def _fisher_diag(self, outputs: Tensor) -> Tensor:
        """Families whose F_out is diagonal return that diagonal, shape (n, d)."""
        raise NotImplementedError

    def _fisher_mv(self, outputs: Tensor, v: Tensor) -> Tensor:
        return self._fisher_diag(outputs) * v

    def _fisher_sqrt(self, outputs: Tensor) -> Tensor:
        return torch.diag_embed(self._fisher_diag(outputs).sqrt())

    def _sample(self, outputs: Tensor, generator: torch.Generator | None) -> Tensor:
        raise NotImplementedError

    def _kl(self, outputs_p: Tensor, outputs_q: Tensor) -> Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Categorical(Likelihood):
    """Categorical distributions over K classes from K logits z (outputs of shape (n, K)).

    p = softmax(z). Targets are integer labels 0..K−1, shape (n,).

        nll = logsumexp(z) − z_y          ∇nll = p − e_y
        F_out = diag(p) − p pᵀ = B Bᵀ,    B = diag(√p)(I − √p √pᵀ)

    F_out has rank K − 1 (adding a constant to every logit changes nothing). In the K − 1
    log-odds against class 0 of `natgrad.distributions.Categorical`, θ = A z with
    A = [−1 | I], this F_out is Aᵀ F_θ A.

    Parameters
    ----------
    n_classes : int, optional
        K. When given, outputs of another width are an error; otherwise K is the width.

    Examples
    --------
    >>> import torch
    >>> from natgrad.nn import Categorical
    >>> lik = Categorical()
    >>> logits = torch.tensor([[0.0, 0.0, 0.0], [2.0, 0.0, -2.0]])
    >>> print(lik.nll(logits, torch.tensor([0, 0])).numpy().round(3))
    [1.099 0.143]
    >>> F = lik.fisher(logits)                      # diag(p) − p pᵀ, rank K − 1
    >>> print(F[0].sum(dim=1).numpy().round(6))     # constant logit shifts: a null direction
    [0. 0. 0.]
    """

    name = "categorical"

    def __init__(self, n_classes: int | None = None) -> None:
        self.n_classes = n_classes

    def _check_width(self, width: int, where: str) -> None:
        k = self.n_classes
        if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 2):
            raise ValueError(
                f"The 'n_classes' parameter of Categorical must be an integer >= 2 or None. "
                f"Got {_describe(k)} instead."
            )
        if k is not None and width != k:
            raise ValueError(
                f"The 'outputs' argument of {where} must have {k} columns (one logit per "
                f"class). Got {width} instead."
            )
        if width < 2:
            raise ValueError(
                f"The 'outputs' argument of {where} must have K >= 2 columns (one logit per "
                f"class). Got {width} instead."
            )

    def _target_columns(self, width: int) -> int:
        return 1

    def _check_targets(self, outputs: Tensor, targets: Tensor, where: str) -> Tensor:
        n, k = outputs.shape
        if targets.ndim == 2 and targets.shape[1] == 1:
            targets = targets[:, 0]
        if tuple(targets.shape) != (n,):
            raise ValueError(
                f"The 'targets' argument of {where} must have shape ({n},) (one class label "
                f"per row). Got shape {tuple(targets.shape)} instead."
            )
        if targets.is_floating_point():
            inside = (targets == targets.round()) & (targets >= 0) & (targets < k)
        else:
            inside = (targets >= 0) & (targets < k)
        self._support_error(targets, inside, where, f"integer class labels in 0..{k - 1}")
        return targets.long()

    def _nll(self, outputs: Tensor, targets: Tensor) -> Tensor:
        log_p = torch.log_softmax(outputs, dim=1)
        return -log_p.gather(1, targets[:, None])[:, 0]

    def _grad(self, outputs: Tensor, targets: Tensor) -> Tensor:
        p = torch.softmax(outputs, dim=1)
        return p - torch.nn.functional.one_hot(targets, outputs.shape[1]).to(p.dtype)

    def _fisher_mv(self, outputs: Tensor, v: Tensor) -> Tensor:
        p = torch.softmax(outputs, dim=1)
        pv = p * v
        return pv - p * pv.sum(dim=1, keepdim=True)

    def _fisher_sqrt(self, outputs: Tensor) -> Tensor:
        p = torch.softmax(outputs, dim=1)
        q = p.sqrt()
        eye = torch.eye(p.shape[1], dtype=p.dtype, device=p.device)
        # diag(q)(I − q qᵀ): (I − q qᵀ) is a projection because Σ q² = 1.
        return q[:, :, None] * (eye - q[:, :, None] * q[:, None, :])

    def _sample(self, outputs: Tensor, generator: torch.Generator | None) -> Tensor:
        p = torch.softmax(outputs, dim=1)
        return torch.multinomial(p, 1, generator=generator)[:, 0]

    def _kl(self, outputs_p: Tensor, outputs_q: Tensor) -> Tensor:
        log_p = torch.log_softmax(outputs_p, dim=1)
        log_q = torch.log_softmax(outputs_q, dim=1)
        return (log_p.exp() * (log_p - log_q)).sum(dim=1).clamp_min(0.0)

    def __repr__(self) -> str:
        return f"Categorical(n_classes={self.n_classes})"


class Bernoulli(Likelihood):
    """Independent Bernoulli outputs, one logit θ per column (outputs of shape (n, m)).

    Targets have the outputs' shape (or (n,) for one column), with values in [0, 1]: 0/1
    labels, or intensities in [0, 1] for which `nll` is the cross-entropy (the Fisher does
    not depend on the targets). Per row, summed over columns:

        nll = softplus(θ) − yθ            ∇nll = σ(θ) − y
        F_out = diag(σ(θ) σ(−θ))

    Examples
    --------
    >>> import torch
    >>> from natgrad.nn import Bernoulli
    >>> lik = Bernoulli()
    >>> logits = torch.tensor([[0.0], [2.0]])
    >>> print(lik.nll(logits, torch.tensor([1.0, 1.0])).numpy().round(3))
    [0.693 0.127]
    >>> print(lik.fisher(logits)[:, 0, 0].numpy().round(3))   # p (1 − p)
    [0.25  0.105]
    """

    name = "bernoulli"

    def _check_support(self, targets: Tensor, where: str) -> None:
        inside = (targets >= 0) & (targets <= 1)
        self._support_error(targets, inside, where, "in [0, 1] (labels 0/1 or intensities)")

    def _nll(self, outputs: Tensor, targets: Tensor) -> Tensor:
        return (torch.nn.functional.softplus(outputs) - targets * outputs).sum(dim=1)

    def _grad(self, outputs: Tensor, targets: Tensor) -> Tensor:
        return torch.sigmoid(outputs) - targets

    def _fisher_diag(self, outputs: Tensor) -> Tensor:
        return torch.sigmoid(outputs) * torch.sigmoid(-outputs)

    def _sample(self, outputs: Tensor, generator: torch.Generator | None) -> Tensor:
        return torch.bernoulli(torch.sigmoid(outputs), generator=generator)

    def _kl(self, outputs_p: Tensor, outputs_q: Tensor) -> Tensor:
        ls = torch.nn.functional.logsigmoid
        p1, p0 = ls(outputs_p), ls(-outputs_p)
        q1, q0 = ls(outputs_q), ls(-outputs_q)
        kl = p1.exp() * (p1 - q1) + p0.exp() * (p0 - q0)
        return kl.sum(dim=1).clamp_min(0.0)


class Normal(Likelihood):
    """Independent normal outputs with learned scale: outputs (n, 2m) = (loc, log-scale).

    The first m columns are the locations μ, the last m the log-scales s = log σ (the
    coordinates of `natgrad.distributions.Normal`). Targets have shape (n, m) (or (n,) for
    m = 1). Per row, summed over the m targets:

        nll = ½ log 2π + s + ½ (y − μ)² e^{−2s}
        ∇_μ nll = (μ − y) e^{−2s}          ∇_s nll = 1 − (y − μ)² e^{−2s}
        F_out = diag(e^{−2s}, 2)

    Examples
    --------
    >>> import torch
    >>> from natgrad.nn import Normal
    >>> lik = Normal()
    >>> outputs = torch.tensor([[0.0, 0.5, 0.0, -1.0]])   # locs (0, 0.5), log scales (0, −1)
    >>> print(lik.nll(outputs, torch.tensor([[0.0, 0.5]])).numpy().round(3))
    [0.838]
    >>> print(torch.diagonal(lik.fisher(outputs)[0]).numpy().round(3))
    [1.    7.389 2.    2.   ]
    """

    name = "normal"

    def _check_width(self, width: int, where: str) -> None:
        if width < 2 or width % 2:
            raise ValueError(
                f"The 'outputs' argument of {where} must have an even number 2m >= 2 of "
                f"columns (m locations, then m log-scales). Got {width} instead."
            )

    def _target_columns(self, width: int) -> int:
        return width // 2

    @staticmethod
    def _split(outputs: Tensor) -> tuple[Tensor, Tensor]:
        m = outputs.shape[1] // 2
        return outputs[:, :m], outputs[:, m:]

    def _nll(self, outputs: Tensor, targets: Tensor) -> Tensor:
        loc, log_scale = self._split(outputs)
        z = (targets - loc) * torch.exp(-log_scale)
        return (_HALF_LOG_2PI + log_scale + 0.5 * z * z).sum(dim=1)

    def _grad(self, outputs: Tensor, targets: Tensor) -> Tensor:
        loc, log_scale = self._split(outputs)
        prec = torch.exp(-2.0 * log_scale)
        r = targets - loc
        return torch.cat([-r * prec, 1.0 - r * r * prec], dim=1)

    def _fisher_diag(self, outputs: Tensor) -> Tensor:
        _, log_scale = self._split(outputs)
        return torch.cat([torch.exp(-2.0 * log_scale), torch.full_like(log_scale, 2.0)], dim=1)

    def _sample(self, outputs: Tensor, generator: torch.Generator | None) -> Tensor:
        loc, log_scale = self._split(outputs)
        noise = torch.randn(loc.shape, generator=generator, dtype=loc.dtype, device=loc.device)
        return loc + torch.exp(log_scale) * noise

    def _kl(self, outputs_p: Tensor, outputs_q: Tensor) -> Tensor:
        mp, sp = self._split(outputs_p)
        mq, sq = self._split(outputs_q)
        # log(σq/σp) + (σp² + (μp − μq)²)/(2σq²) − ½, with the ratio from log-scales.
        ds = sp - sq
        kl = -ds + 0.5 * torch.expm1(2.0 * ds) + 0.5 * ((mp - mq) * torch.exp(-sq)) ** 2
        return kl.sum(dim=1).clamp_min(0.0)


class NormalFixedScale(Likelihood):
    """Independent normal outputs with a fixed scale σ: outputs (n, m) are the locations.

    Squared error in likelihood form; its Fisher is the Gauss–Newton matrix. Targets have
    the outputs' shape (or (n,) for one column). Per row, summed over columns:

        nll = ½ log 2π + log σ + ½ (y − μ)²/σ²      ∇nll = (μ − y)/σ²
        F_out = I/σ²

    Parameters
    ----------
    scale : float, default=1.0
        σ > 0.

    Examples
    --------
    >>> import torch
    >>> from natgrad.nn import NormalFixedScale
    >>> lik = NormalFixedScale(scale=0.5)
    >>> outputs = torch.tensor([[1.0], [2.0]])
    >>> print(lik.grad(outputs, torch.tensor([0.0, 2.0])).numpy().ravel())   # (μ − y)/σ²
    [4. 0.]
    >>> print(lik.fisher(outputs)[0].numpy())                                 # I/σ²: Gauss–Newton
    [[4.]]
    """

    name = "normal_fixed_scale"

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale

    def _check_width(self, width: int, where: str) -> None:
        s = self.scale
        if isinstance(s, bool) or not isinstance(s, int | float) or not 0 < s < math.inf:
            raise ValueError(
                "The 'scale' parameter of NormalFixedScale must be a float in the range "
                f"(0, inf). Got {_describe(s)} instead."
            )
        super()._check_width(width, where)

    def _nll(self, outputs: Tensor, targets: Tensor) -> Tensor:
        z = (targets - outputs) / self.scale
        return (_HALF_LOG_2PI + math.log(self.scale) + 0.5 * z * z).sum(dim=1)

    def _grad(self, outputs: Tensor, targets: Tensor) -> Tensor:
        return (outputs - targets) / self.scale**2

    def _fisher_diag(self, outputs: Tensor) -> Tensor:
        return torch.full_like(outputs, 1.0 / self.scale**2)

    def _sample(self, outputs: Tensor, generator: torch.Generator | None) -> Tensor:
        noise = torch.randn(
            outputs.shape, generator=generator, dtype=outputs.dtype, device=outputs.device
        )
        return outputs + self.scale * noise

    def _kl(self, outputs_p: Tensor, outputs_q: Tensor) -> Tensor:
        return (0.5 * ((outputs_p - outputs_q) / self.scale) ** 2).sum(dim=1)

    def __repr__(self) -> str:
        return f"NormalFixedScale(scale={self.scale})"


class Poisson(Likelihood):
    """Independent Poisson outputs, one log-rate η per column (outputs of shape (n, m)).

    Targets are counts of the outputs' shape (or (n,) for one column). Per row, summed over
    columns, with λ = e^η:

        nll = λ − yη + log y!       ∇nll = λ − y       F_out = diag(λ)

    Examples
    --------
    >>> import torch
    >>> from natgrad.nn import Poisson
    >>> lik = Poisson()
    >>> log_rate = torch.log(torch.tensor([[2.0], [5.0]]))
    >>> print(lik.fisher(log_rate)[:, 0, 0].numpy().round(3))   # diag(λ)
    [2. 5.]
    >>> counts = lik.sample(log_rate, generator=torch.Generator().manual_seed(0))
    >>> counts.shape
    torch.Size([2, 1])
    """

    name = "poisson"

    def _check_support(self, targets: Tensor, where: str) -> None:
        inside = (targets >= 0) & (targets == targets.round())
        self._support_error(targets, inside, where, "non-negative integer counts")

    def _nll(self, outputs: Tensor, targets: Tensor) -> Tensor:
        return (torch.exp(outputs) - targets * outputs + torch.lgamma(targets + 1.0)).sum(dim=1)

    def _grad(self, outputs: Tensor, targets: Tensor) -> Tensor:
        return torch.exp(outputs) - targets

    def _fisher_diag(self, outputs: Tensor) -> Tensor:
        return torch.exp(outputs)

    def _sample(self, outputs: Tensor, generator: torch.Generator | None) -> Tensor:
        return torch.poisson(torch.exp(outputs), generator=generator)

    def _kl(self, outputs_p: Tensor, outputs_q: Tensor) -> Tensor:
        # λp (ηp − ηq) − λp + λq = λq (1 + (d − 1) eᵈ) with d = ηp − ηq, written as
        # λp (d − 1 + e^{−d}) = λp (d + expm1(−d)).
        d = outputs_p - outputs_q
        return (torch.exp(outputs_p) * (d + torch.expm1(-d))).sum(dim=1).clamp_min(0.0)


_REGISTRY: dict[str, type[Likelihood]] = {
    "categorical": Categorical,
    "bernoulli": Bernoulli,
    "normal": Normal,
    "normal_fixed_scale": NormalFixedScale,
    "poisson": Poisson,
}


def likelihood_names() -> list[str]:
    """Registry names of the likelihoods, e.g. ``["categorical", "bernoulli", ...]``.

    Examples
    --------
    >>> from natgrad.nn import likelihood_names
    >>> likelihood_names()
    ['categorical', 'bernoulli', 'normal', 'normal_fixed_scale', 'poisson']
    """
    return list(_REGISTRY)


def get_likelihood(likelihood: str | Likelihood, where: str = "natgrad.nn") -> Likelihood:
    """A likelihood from its registry name (default configuration) or an instance.

    Parameters
    ----------
    likelihood : str or Likelihood
        One of `likelihood_names` or a `Likelihood` instance (returned unchanged).
    where : str
        The caller's name, for the error message.

    Examples
    --------
    >>> from natgrad.nn import NormalFixedScale, get_likelihood
    >>> get_likelihood("categorical")
    Categorical(n_classes=None)
    >>> lik = NormalFixedScale(scale=2.0)
    >>> get_likelihood(lik) is lik
    True
    """
    if isinstance(likelihood, Likelihood):
        return likelihood
    if isinstance(likelihood, str) and likelihood in _REGISTRY:
        return _REGISTRY[likelihood]()
    raise ValueError(
        f"The 'likelihood' parameter of {where} must be one of "
        f"{', '.join(repr(n) for n in _REGISTRY)} or a natgrad.nn.Likelihood instance. "
        f"Got {_describe(likelihood)} instead."
    )
