"""Parameters of a module as a dict, a list or one flat vector (private helpers)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn


def trainable_parameters(model: nn.Module) -> dict[str, nn.Parameter]:
    """The parameters a step moves: those with ``requires_grad``, each shared one once.

    `nn.Module.named_parameters` already lists a parameter held by two modules (tied
    weights) under its first name only; `torch.func.functional_call` then substitutes it
    everywhere it is used.
    """
    return {name: p for name, p in model.named_parameters() if p.requires_grad}


def as_input_tuple(inputs: Any, where: str) -> tuple[Tensor, ...]:
    """A model's positional inputs: one tensor or a tuple/list of tensors, same batch size."""
    items = tuple(inputs) if isinstance(inputs, tuple | list) else (inputs,)
    if not items or not all(isinstance(x, Tensor) for x in items):
        raise TypeError(
            f"The 'inputs' argument of {where} must be a torch.Tensor or a tuple of tensors "
            f"(the model's positional arguments). Got {type(inputs).__name__} instead."
        )
    n = items[0].shape[0] if items[0].ndim else 0
    if n == 0 or any(x.ndim == 0 or x.shape[0] != n for x in items):
        raise ValueError(
            f"The 'inputs' argument of {where} must hold tensors with one common, non-empty "
            f"batch axis first. Got shapes {[tuple(x.shape) for x in items]} instead."
        )
    return items


def flatten(tensors: Sequence[Tensor]) -> Tensor:
    """Concatenate tensors into one flat vector (in order)."""
    return torch.cat([t.reshape(-1) for t in tensors])


def unflatten(vector: Tensor, like: Sequence[Tensor]) -> list[Tensor]:
    """Split a flat vector into tensors shaped like ``like``."""
    out, start = [], 0
    for t in like:
        out.append(vector[start : start + t.numel()].view_as(t))
        start += t.numel()
    return out


def to_list(v: Any, params: Mapping[str, Tensor], where: str) -> tuple[list[Tensor], str]:
    """A vector given flat, as a list, or as a dict → list of tensors, and its format name."""
    names = list(params)
    shapes = [tuple(p.shape) for p in params.values()]
    total = sum(p.numel() for p in params.values())
    if isinstance(v, Tensor):
        if v.ndim != 1 or v.numel() != total:
            raise ValueError(
                f"The 'v' argument of {where} must be a flat vector of the {total} trainable "
                f"parameters, a list or a dict shaped like them. Got a tensor of shape "
                f"{tuple(v.shape)} instead."
            )
        return unflatten(v, list(params.values())), "flat"
    if isinstance(v, Mapping):
        if sorted(v) != sorted(names):
            raise ValueError(
                f"The 'v' argument of {where} must have the keys of the trainable parameters "
                f"{names}. Got {list(v)} instead."
            )
        items, kind = [v[k] for k in names], "dict"
    elif isinstance(v, list | tuple):
        items, kind = list(v), "list"
    else:
        raise TypeError(
            f"The 'v' argument of {where} must be a tensor, a list or a dict. "
            f"Got {type(v).__name__} instead."
        )
    got = [tuple(t.shape) if isinstance(t, Tensor) else None for t in items]
    if got != shapes:
        raise ValueError(
            f"The 'v' argument of {where} must hold tensors of shapes {shapes}. Got {got} instead."
        )
    return items, kind


def from_list(items: list[Tensor], kind: str, names: Sequence[str]) -> Any:
    """The inverse of `to_list`: return ``items`` in the format the caller used."""
    if kind == "flat":
        return flatten(items)
    if kind == "dict":
        return dict(zip(names, items, strict=True))
    return items
