"""Kronecker-factored curvature (K-FAC) for `nn.Linear` and `nn.Conv2d` layers (private).

For a layer s = W a (bias folded into W with a constant 1 appended to a), the Fisher block of
W is approximated by a Kronecker product of two small factors,

    F_W ≈ A ⊗ G,   A = (1/n) Σᵢ Σₜ aᵢₜ aᵢₜᵀ,   G = (1/(nT)) Σᵢ Σₜ gᵢₜ gᵢₜᵀ,

with gᵢₜ = Jₛᵀ bᵢ the back-propagated output-space vectors bᵢ (targets drawn from the
model, bᵢ = ∇_z nll(zᵢ, ŷᵢ), or the columns of F_out's square root), t the T positions a
weight is applied at (1 for a Linear layer on a flat input, the L patches of a convolution;
Grosse & Martens 2016). The damped block (A + π√λ I) ⊗ (G + √λ/π I) with
π = sqrt((tr A/dim A)/(tr G/dim G)) (Martens & Grosse 2015, section 6.3) is inverted through
eigendecompositions of A and G refreshed every few steps: (G + c/π)⁻¹ ∇W (A + cπ)⁻¹.
Parameters of other modules get the diagonal of the Fisher instead.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor, nn

logger = logging.getLogger(__name__)


class KFACBlock:
    """Factors and eigendecompositions of one `nn.Linear` or `nn.Conv2d` layer."""

    def __init__(self, name: str, module: nn.Module) -> None:
        self.name = name
        self.module = module
        self.inputs: list[Tensor] = []
        self.grads: list[Tensor] = []
        self.A: Tensor | None = None
        self.G: Tensor | None = None
        self.eig: tuple[Tensor, Tensor, Tensor, Tensor] | None = None

    @property
    def params(self) -> list[nn.Parameter]:
        m = self.module
        params = [m.weight] + ([m.bias] if m.bias is not None else [])
        return params  # type: ignore[return-value]

    @staticmethod
    def supports(module: nn.Module) -> bool:
        """Linear, or Conv2d with zero padding and one group, all parameters trainable."""
        if isinstance(module, nn.Conv2d):
            if module.groups != 1 or module.padding_mode != "zeros":
                return False
            if isinstance(module.padding, str):
                return False
        elif not isinstance(module, nn.Linear):
            return False
        params = [module.weight] + ([module.bias] if module.bias is not None else [])
        return all(p.requires_grad for p in params)

    # ------------------------------------------------------------------ statistics
    def _activations(self, x: Tensor) -> Tensor:
        """Rows aᵢₜ (with a trailing 1 for the bias), shape (n·T, in)."""
        m = self.module
        if isinstance(m, nn.Conv2d):
            patches = nn.functional.unfold(
                x,
                m.kernel_size,
                dilation=m.dilation,
                padding=m.padding,  # type: ignore[arg-type]  # str padding is unsupported
                stride=m.stride,
            )  # (n, C·kh·kw, L)
            a = patches.transpose(1, 2).reshape(-1, patches.shape[1])
        else:
            a = x.reshape(-1, x.shape[-1])
        if m.bias is not None:
            a = torch.cat([a, torch.ones_like(a[:, :1])], dim=1)
        return a

    def _output_grads(self, g: Tensor) -> Tensor:
        """Rows gᵢₜ, shape (n·T, out)."""
        if isinstance(self.module, nn.Conv2d):
            return g.flatten(2).transpose(1, 2).reshape(-1, g.shape[1])
        return g.reshape(-1, g.shape[-1])

    def batch_factors(self, n: int) -> tuple[Tensor, Tensor]:
        """A and G of this batch from the captured inputs and output gradients."""
        a = torch.cat([self._activations(x) for x in self.inputs])
        g = torch.cat([self._output_grads(x) for x in self.grads])
        positions = a.shape[0] / n  # T (times the uses of the module)
        big_a = a.T @ a / n
        big_g = g.T @ g / (n * positions)
        return big_a, big_g

    def update(self, n: int, decay: float) -> None:
        """Fold this batch's factors into the moving averages; clears the captures."""
        big_a, big_g = self.batch_factors(n)
        self.inputs, self.grads = [], []
        if self.A is None or self.G is None:
            self.A, self.G = big_a, big_g
        else:
            self.A = decay * self.A + (1.0 - decay) * big_a
            self.G = decay * self.G + (1.0 - decay) * big_g

    def refresh(self) -> None:
        """Eigendecompositions of the current factors."""
        if self.A is None or self.G is None:
            raise RuntimeError(f"K-FAC block {self.name} has no statistics yet.")
        ea, qa = torch.linalg.eigh(self.A)
        eg, qg = torch.linalg.eigh(self.G)
        self.eig = (ea.clamp_min(0.0), qa, eg.clamp_min(0.0), qg)

    # ------------------------------------------------------------------ solve
    def solve(self, grads: list[Tensor], damping: float) -> list[Tensor]:
        """(A ⊗ G + damping)⁻¹ applied to this layer's gradients, π-corrected split."""
        if self.eig is None:
            self.refresh()
        ea, qa, eg, qg = self.eig  # type: ignore[misc]
        weight = grads[0].reshape(grads[0].shape[0], -1)
        mat = torch.cat([weight, grads[1][:, None]], dim=1) if len(grads) > 1 else weight
        tiny = torch.finfo(ea.dtype).tiny
        pi = torch.sqrt((ea.mean() + tiny) / (eg.mean() + tiny))
        c = damping**0.5
        v = qg.T @ mat @ qa
        v = v / ((eg[:, None] + c / pi) * (ea[None, :] + c * pi))
        out = qg @ v @ qa.T
        if len(grads) > 1:
            return [out[:, :-1].reshape(grads[0].shape), out[:, -1].reshape(grads[1].shape)]
        return [out.reshape(grads[0].shape)]

    def state(self) -> dict[str, Any]:
        return {"A": self.A, "G": self.G, "eig": self.eig}

    def load(self, state: dict[str, Any]) -> None:
        self.A, self.G, self.eig = state["A"], state["G"], state["eig"]


class KFAC:
    """K-FAC blocks of a model plus the diagonal fallback for its other parameters."""

    def __init__(
        self, model: nn.Module, params: dict[str, nn.Parameter], *, blocks: bool = True
    ) -> None:
        self.blocks: list[KFACBlock] = []
        covered: dict[int, int] = {}
        candidates = [
            (name, m) for name, m in model.named_modules() if blocks and KFACBlock.supports(m)
        ]
        for name, m in candidates:
            block = KFACBlock(name, m)
            for p in block.params:
                covered[id(p)] = covered.get(id(p), 0) + 1
            self.blocks.append(block)
        # A parameter shared by two layers (tied weights) has no single Kronecker block.
        self.blocks = [b for b in self.blocks if all(covered[id(p)] == 1 for p in b.params)]
        in_blocks = {id(p) for b in self.blocks for p in b.params}
        self.fallback = {k: p for k, p in params.items() if id(p) not in in_blocks}
        self.diag: dict[str, Tensor] = {}
        self.capturing = False
        self._handles: list[Any] = []
        if self.fallback and blocks:
            owners = sorted({k.rsplit(".", 1)[0] if "." in k else k for k in self.fallback})
            warnings.warn(
                "K-FAC covers nn.Linear and nn.Conv2d layers only; the parameters of "
                f"{owners} use the diagonal Fisher instead.",
                UserWarning,
                stacklevel=4,
            )

    def __iter__(self) -> Iterator[KFACBlock]:
        return iter(self.blocks)

    def attach(self) -> None:
        """Register the hooks that capture layer inputs and output gradients."""
        if self._handles:
            return
        for block in self.blocks:
            self._handles.append(block.module.register_forward_hook(self._hook(block)))

    def detach(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []

    def _hook(self, block: KFACBlock) -> Any:
        def forward_hook(module: nn.Module, args: tuple[Tensor, ...], out: Tensor) -> None:
            if not self.capturing:
                return
            block.inputs.append(args[0].detach())
            if out.requires_grad:
                out.register_hook(
                    lambda g: block.grads.append(g.detach()) if self.capturing else None
                )

        return forward_hook

    def update(
        self,
        outputs: Tensor,
        vectors: list[Tensor],
        params: dict[str, nn.Parameter],
        decay: float,
        generator: torch.Generator | None,
    ) -> None:
        """Back-propagate each output-space vector (n, d) and fold the statistics in.

        The vectors u are scaled so that the output metric is Mᵢ = Σᵤ uᵢ uᵢᵀ. The forward
        pass that produced ``outputs`` ran with ``capturing`` on. Each vector
        is multiplied by independent random signs per row, so that the square of the summed
        gradient of a fallback parameter is an unbiased estimate of its Fisher diagonal (the
        rows' cross terms average out) while the Kronecker factors, outer products per row,
        are unchanged.
        """
        n = outputs.shape[0]
        names = list(self.fallback)
        sq = {k: torch.zeros_like(p) for k, p in self.fallback.items()}
        every = list(params.values())
        self.capturing = True
        try:
            for u in vectors:
                signs = (
                    torch.randint(0, 2, (n, 1), generator=generator, device=u.device).to(u.dtype)
                    * 2
                    - 1
                )
                grads = torch.autograd.grad(
                    outputs, every, grad_outputs=signs * u, retain_graph=True, allow_unused=True
                )
                by_name = dict(zip(params, grads, strict=True))
                for k in names:
                    g = by_name[k]
                    if g is not None:
                        sq[k] += g * g
        finally:
            self.capturing = False
        for block in self.blocks:
            if block.grads:
                block.update(n, decay)
            block.inputs, block.grads = [], []
        for k in names:
            est = sq[k] / n
            self.diag[k] = est if k not in self.diag else decay * self.diag[k] + (1 - decay) * est

    def refresh(self) -> None:
        for block in self.blocks:
            if block.A is not None:
                block.refresh()
