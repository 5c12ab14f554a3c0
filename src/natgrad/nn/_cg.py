"""Conjugate gradient for (F + λI) x = b with a matrix-free F (private)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor


def conjugate_gradient(
    mv: Callable[[Tensor], Tensor],
    b: Tensor,
    *,
    damping: float,
    x0: Tensor | None = None,
    max_iter: int = 20,
    rtol: float = 1e-4,
) -> tuple[Tensor, list[float]]:
    """Solve (F + λI) x = b by conjugate gradient, F symmetric positive semi-definite.

    Parameters
    ----------
    mv : callable
        v ↦ F v on flat vectors of shape (p,).
    b : Tensor of shape (p,)
    damping : float
        λ > 0; it makes the system positive definite.
    x0 : Tensor of shape (p,), optional
        Warm start (e.g. the previous step's solution); zero when omitted.
    max_iter : int
        At most this many products with F.
    rtol : float
        Stop once ‖r‖ ≤ rtol ‖b‖.

    Returns
    -------
    x : Tensor of shape (p,)
    residuals : list of float
        ‖r_k‖/‖b‖ at the start and after every iteration.
    """

    def op(v: Tensor) -> Tensor:
        return mv(v) + damping * v

    b_norm = torch.linalg.vector_norm(b)
    if not torch.isfinite(b_norm) or b_norm == 0:
        return torch.zeros_like(b), [0.0]
    if x0 is None or not torch.isfinite(x0).all():
        x, r = torch.zeros_like(b), b.clone()
    else:
        x = x0.clone()
        r = b - op(x)
        # A warm start worse than zero is dropped.
        if torch.linalg.vector_norm(r) > b_norm:
            x, r = torch.zeros_like(b), b.clone()
    d = r.clone()
    rr = r @ r
    residuals = [float(rr.sqrt() / b_norm)]
    for _ in range(max_iter):
        if residuals[-1] <= rtol:
            break
        q = op(d)
        curv = d @ q
        if not curv > 0:  # numerically singular direction: stop with what we have
            break
        alpha = rr / curv
        x = x + alpha * d
        r = r - alpha * q
        rr_new = r @ r
        residuals.append(float(rr_new.sqrt() / b_norm))
        d = r + (rr_new / rr) * d
        rr = rr_new
    return x, residuals
