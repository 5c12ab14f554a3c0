"""The Fisher of a network as a matrix-free operator: F = (1/n) Σᵢ Jᵢᵀ F_out,ᵢ Jᵢ."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn
from torch.func import functional_call, jvp, vjp, vmap

from natgrad.nn._likelihoods import Likelihood, get_likelihood
from natgrad.nn._params import (
    as_input_tuple,
    flatten,
    from_list,
    to_list,
    trainable_parameters,
    unflatten,
)

__all__ = ["Fisher"]

_KINDS = ("exact", "mc", "empirical")


def _check_choice(value: Any, name: str, where: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(
            f"The {name!r} parameter of {where} must be one of "
            f"{', '.join(repr(c) for c in choices)}. Got {value!r} instead."
        )
    return value


def _check_positive_int(value: Any, name: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"The {name!r} parameter of {where} must be an int in the range [1, inf). "
            f"Got {value!r} instead."
        )
    return value


def call_model(model: nn.Module, params: dict[str, Tensor], inputs: tuple[Tensor, ...]) -> Tensor:
    """The model's outputs with ``params`` substituted, its buffers left untouched.

    Buffers are passed as copies made inside the call, so that a module that updates them in
    place (batch norm in training mode) neither changes the model nor breaks a `torch.func`
    transform.
    """
    buffers = {k: b.clone() for k, b in model.named_buffers()}
    return functional_call(model, (params, buffers), inputs)


def model_jvp(
    model: nn.Module,
    params: dict[str, Tensor],
    inputs: tuple[Tensor, ...],
    tangents: list[Tensor],
) -> Tensor:
    """J v: the outputs' change along ``tangents`` (shaped like ``params``), forward mode."""

    def forward(ps: dict[str, Tensor]) -> Tensor:
        return call_model(model, ps, inputs)

    tangent = dict(zip(params, tangents, strict=True))
    return jvp(forward, (params,), (tangent,))[1]


class Fisher:
    """The Fisher of a model's output distribution in its parameters, matrix-free.

    For a batch of n inputs with outputs zᵢ = f(xᵢ; w) and Jacobians Jᵢ = ∂zᵢ/∂w,

        F = (1/n) Σᵢ Jᵢᵀ Mᵢ Jᵢ

    where Mᵢ depends on ``kind``:

    * ``"exact"``: Mᵢ = F_out(zᵢ), the likelihood's closed-form output Fisher, i.e. the
      expected outer product of the score under the model's own predictive distribution. For
      these likelihoods (exponential families in their natural or log-scale coordinates
      with a network that ends in them) it also equals the generalised Gauss–Newton matrix.
    * ``"mc"``: Mᵢ = (1/S) Σₛ gᵢₛ gᵢₛᵀ with gᵢₛ = ∇_z nll(zᵢ, ŷᵢₛ) at S targets ŷ drawn from
      the model's predictive distribution (with ``generator``): an unbiased, rank-S estimate
      of the exact one. The draws are made once, so the operator is one fixed matrix.
    * ``"empirical"``: Mᵢ = gᵢ gᵢᵀ at the *observed* targets. This is not the Fisher: it is
      the uncentred covariance of the per-example gradients, which only matches the Fisher
      when the model is already well specified and fitted. Away from the optimum it can point
      in poor directions and scale them wrongly (Kunstner, Hennig & Balles, "Limitations of
      the empirical Fisher approximation for natural gradient descent", NeurIPS 2019). It is
      here for comparisons; prefer ``"exact"`` or ``"mc"``.

    Products ``F.mv(v)`` are computed as Jᵀ(M(Jv)) with one forward-mode (`torch.func.jvp`)
    and one reverse-mode (`torch.func.vjp`) pass; no p×p matrix is ever formed. Parameters
    are the model's trainable ones (``requires_grad``), each shared parameter once; buffers
    (e.g. batch-norm statistics, used in eval mode) are read from the module, unchanged.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``inputs`` to outputs of shape (n, d).
    likelihood : str or Likelihood
        The output distribution (a name from `likelihood_names` or an instance).
    inputs : Tensor or tuple of Tensor
        The model's positional inputs, batch axis first (n examples).
    kind : {"exact", "mc", "empirical"}, default="exact"
    targets : Tensor, optional
        Observed targets; required for ``kind="empirical"``.
    n_samples : int, default=1
        S, the targets drawn per example for ``kind="mc"``.
    generator : torch.Generator, optional
        Source of the draws for ``kind="mc"`` (give a seeded one for reproducibility).

    Examples
    --------
    >>> import torch
    >>> from natgrad.nn import Fisher
    >>> model = torch.nn.Linear(3, 4)
    >>> F = Fisher(model, "categorical", torch.randn(8, 3))
    >>> Fv = F.mv(torch.ones(F.n_params))          # shape (16,)
    >>> dense = F.dense()                           # shape (16, 16)
    """

    def __init__(
        self,
        model: nn.Module,
        likelihood: str | Likelihood,
        inputs: Any,
        kind: str = "exact",
        *,
        targets: Any = None,
        n_samples: int = 1,
        generator: torch.Generator | None = None,
    ) -> None:
        self.model = model
        self.likelihood = likelihood
        self.inputs = inputs
        self.kind = kind
        self.targets = targets
        self.n_samples = n_samples
        self.generator = generator
        self._ready = False

    # ------------------------------------------------------------------ preparation
    def _prepare(self) -> None:
        if self._ready:
            return
        where = "Fisher"
        if not isinstance(self.model, nn.Module):
            raise TypeError(
                f"The 'model' parameter of {where} must be a torch.nn.Module. "
                f"Got {type(self.model).__name__} instead."
            )
        self._lik = get_likelihood(self.likelihood, where)
        _check_choice(self.kind, "kind", where, _KINDS)
        _check_positive_int(self.n_samples, "n_samples", where)
        self._inputs = as_input_tuple(self.inputs, where)
        params = trainable_parameters(self.model)
        if not params:
            raise ValueError(
                f"The 'model' parameter of {where} must have trainable parameters "
                "(requires_grad=True). Got none."
            )
        self._params = {k: p.detach() for k, p in params.items()}
        outputs, self._vjp_fn = vjp(self._forward, self._params)  # type: ignore[misc]
        outputs = self._lik.check_outputs(outputs, "Fisher")
        self._outputs = outputs.detach()
        self._n = int(outputs.shape[0])
        if self.kind == "exact":
            self._g = None
        elif self.kind == "mc":
            repeated = self._outputs.repeat(self.n_samples, 1)  # draw all S at once
            y = self._lik.sample(repeated, self.generator)
            self._g = self._lik._grad(repeated, y).reshape(self.n_samples, *outputs.shape)
        else:
            if self.targets is None:
                raise ValueError(
                    f"The 'targets' parameter of {where} must be given for "
                    "kind='empirical'. Got None."
                )
            y = self._lik.check_targets(self._outputs, self.targets, "Fisher")
            self._g = self._lik._grad(self._outputs, y)[None]
        self._ready = True

    def _forward(self, params: dict[str, Tensor]) -> Tensor:
        return call_model(self.model, params, self._inputs)

    # ------------------------------------------------------------------ attributes
    @property
    def n_params(self) -> int:
        """p, the number of trainable parameters."""
        self._prepare()
        return sum(p.numel() for p in self._params.values())

    @property
    def names(self) -> list[str]:
        """Names of the trainable parameters, in the order of flat vectors."""
        self._prepare()
        return list(self._params)

    @property
    def outputs(self) -> Tensor:
        """The model's outputs on ``inputs``, shape (n, d)."""
        self._prepare()
        return self._outputs

    # ------------------------------------------------------------------ products
    def output_mv(self, u: Tensor) -> Tensor:
        """Mᵢ uᵢ for every row (the output-space metric), ``u`` of shape (n, d)."""
        self._prepare()
        if self._g is None:
            return self._lik._fisher_mv(self._outputs, u)
        coef = (self._g * u).sum(dim=2, keepdim=True)  # (S, n, 1)
        return (coef * self._g).mean(dim=0)

    def jvp(self, v: list[Tensor]) -> Tensor:
        """J v: the change of the outputs along ``v`` (a list shaped like the parameters)."""
        self._prepare()
        return model_jvp(self.model, self._params, self._inputs, v)

    def vjp(self, u: Tensor) -> list[Tensor]:
        """Jᵀ u for ``u`` of shape (n, d), as a list shaped like the parameters."""
        self._prepare()
        (grads,) = self._vjp_fn(u)
        return [grads[k] for k in self._params]

    def _mv_list(self, v: list[Tensor]) -> list[Tensor]:
        return self.vjp(self.output_mv(self.jvp(v)) / self._n)

    def mv(self, v: Any) -> Any:
        """F v, in the format of ``v``.

        Parameters
        ----------
        v : Tensor of shape (p,), or list / dict of tensors shaped like the parameters

        Returns
        -------
        Tensor of shape (p,), or list / dict
            F v, returned as ``v`` was given.
        """
        self._prepare()
        items, kind = to_list(v, self._params, "Fisher.mv")
        return from_list(self._mv_list(items), kind, list(self._params))

    def quadratic(self, v: Any) -> Tensor:
        """vᵀ F v = (1/n) Σᵢ (Jᵢv)ᵀ Mᵢ (Jᵢv), from one forward-mode pass (a scalar)."""
        self._prepare()
        items, _ = to_list(v, self._params, "Fisher.quadratic")
        jv = self.jvp(items)
        return (jv * self.output_mv(jv)).sum() / self._n

    def dense(self) -> Tensor:
        """The p×p matrix, from p products (for small models: tests and diagnostics).

        Returns
        -------
        Tensor of shape (p, p)
        """
        self._prepare()
        first = next(iter(self._params.values()))
        p = self.n_params
        eye = torch.eye(p, dtype=first.dtype, device=first.device)
        shapes = list(self._params.values())

        def column(e: Tensor) -> Tensor:
            return flatten(self._mv_list(unflatten(e, shapes)))

        try:
            return vmap(column)(eye)
        except RuntimeError:  # a module without batching rules: one product at a time
            return torch.stack([column(e) for e in eye])

    # ------------------------------------------------------------------ diagonal
    def _per_example_vjp(self) -> Callable[[Tensor], Tensor]:
        """u (n, d) ↦ per-example Jᵢᵀuᵢ, flat, shape (n, p)."""
        params = self._params

        def one(u_i: Tensor, *x_i: Tensor) -> Tensor:
            def f(ps: dict[str, Tensor]) -> Tensor:
                return call_model(self.model, ps, tuple(x[None] for x in x_i))[0]

            _, back = vjp(f, params)  # type: ignore[misc]
            (g,) = back(u_i)
            return flatten([g[k] for k in params])

        return lambda u: vmap(one)(u, *self._inputs)

    def diagonal(self) -> Tensor:
        """The diagonal of F, flat, shape (p,): (1/n) Σᵢ Σₖ (Jᵢᵀ bᵢₖ)², Mᵢ = Σₖ bᵢₖ bᵢₖᵀ.

        Costs one per-example backward pass per column bᵢₖ: d columns of the output
        Fisher's square root for ``"exact"``, S for ``"mc"``, one for ``"empirical"``.
        """
        self._prepare()
        if self._g is None:
            cols = self._lik._fisher_sqrt(self._outputs).permute(2, 0, 1)  # (r, n, d)
        else:
            cols = self._g / self._g.shape[0] ** 0.5
        per_example = self._per_example_vjp()
        diag = torch.zeros_like(flatten(list(self._params.values())))
        for c in cols:
            diag += (per_example(c) ** 2).sum(dim=0)
        return diag / self._n
