"""natgrad.nn likelihoods: agreement with natgrad.distributions and their own identities."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from natgrad import distributions as D  # noqa: E402
from natgrad.nn import (  # noqa: E402
    Categorical,
    Likelihood,
    Normal,
    NormalFixedScale,
    get_likelihood,
    likelihood_names,
)

from ._models import LIKELIHOODS, targets_for  # noqa: E402


def test_every_likelihood_is_checked():
    assert sorted(LIKELIHOODS) == sorted(likelihood_names())


def _numpy_view(lik: Likelihood, z: np.ndarray):
    """The NumPy family of one row of outputs: (family, config, theta (m, p), A, c).

    The NumPy parameters are affine in the outputs, vec(theta) = A z + c, so that
    ∇_z = Aᵀ ∇_theta and F_z = Aᵀ blockdiag(F_theta) A.
    """
    d = z.shape[0]
    if isinstance(lik, Categorical):
        a = np.concatenate([-np.ones((d - 1, 1)), np.eye(d - 1)], axis=1)
        return D.get("categorical"), {"n_classes": d}, (a @ z)[None], a, np.zeros(d - 1)
    if isinstance(lik, Normal):
        m = d // 2
        a = np.zeros((2 * m, d))
        a[0::2, :m] = np.eye(m)
        a[1::2, m:] = np.eye(m)
        return D.get("normal"), {}, (a @ z).reshape(m, 2), a, np.zeros(2 * m)
    if isinstance(lik, NormalFixedScale):
        a = np.zeros((2 * d, d))
        a[0::2] = np.eye(d)
        c = np.zeros(2 * d)
        c[1::2] = math.log(lik.scale)
        return D.get("normal"), {}, (a @ z + c).reshape(d, 2), a, c
    return D.get(lik.name), {}, z[:, None], np.eye(d), np.zeros(d)


def _blockdiag(blocks: np.ndarray) -> np.ndarray:
    m, p, _ = blocks.shape
    out = np.zeros((m * p, m * p))
    for j in range(m):
        out[j * p : (j + 1) * p, j * p : (j + 1) * p] = blocks[j]
    return out


def _outputs(name: str, n: int = 6, seed: int = 0, scale: float = 1.5):
    lik, width = LIKELIHOODS[name]
    g = torch.Generator().manual_seed(seed)
    return lik, scale * torch.randn(n, width, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("name", sorted(LIKELIHOODS))
def test_agrees_with_numpy_families(name):
    lik, z = _outputs(name)
    _, zq = _outputs(name, seed=1)
    y = targets_for(lik, z)
    nll, grad, fisher = lik.nll(z, y), lik.grad(z, y), lik.fisher(z)
    kl = lik.kl(z, zq)
    y_rows = y.numpy().reshape(z.shape[0], -1)
    for i in range(z.shape[0]):
        fam, config, theta, a, _ = _numpy_view(lik, z[i].numpy())
        _, _, theta_q, _, _ = _numpy_view(lik, zq[i].numpy())
        dist = fam.from_params(theta, **config)
        other = fam.from_params(theta_q, **config)
        yi = y_rows[i] if theta.shape[0] > 1 or y_rows.shape[1] == 1 else y_rows[i]
        np.testing.assert_allclose(nll[i].item(), dist.nll(yi).sum(), rtol=1e-12)
        np.testing.assert_allclose(grad[i].numpy(), a.T @ dist.grad(yi).ravel(), atol=1e-12)
        f_ref = a.T @ _blockdiag(dist.fisher()) @ a
        np.testing.assert_allclose(fisher[i].numpy(), f_ref, atol=1e-12)
        np.testing.assert_allclose(kl[i].item(), dist.kl(other).sum(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", sorted(LIKELIHOODS))
def test_kernels_are_consistent(name):
    """grad = autograd of nll; fisher_mv = fisher @ v; B Bᵀ = fisher; KL ≈ ½ δᵀFδ."""
    lik, z = _outputs(name)
    y = targets_for(lik, z)
    zr = z.clone().requires_grad_(True)
    (auto,) = torch.autograd.grad(lik.nll(zr, y).sum(), zr)
    torch.testing.assert_close(lik.grad(z, y), auto, rtol=1e-12, atol=1e-12)
    v = torch.randn(z.shape, generator=torch.Generator().manual_seed(3), dtype=z.dtype)
    dense = lik.fisher(z)
    torch.testing.assert_close(lik.fisher_mv(z, v), (dense @ v[:, :, None])[:, :, 0])
    b = lik.fisher_sqrt(z)
    torch.testing.assert_close(b @ b.transpose(1, 2), dense)
    eps = 1e-4
    quad = 0.5 * eps**2 * (v * lik.fisher_mv(z, v)).sum(dim=1)
    ratio = lik.kl(z, z + eps * v) / quad
    torch.testing.assert_close(ratio, torch.ones_like(ratio), rtol=1e-3, atol=0)


@pytest.mark.parametrize("name", sorted(LIKELIHOODS))
def test_score_covariance_is_the_fisher(name):
    """Mean score 0 and E[g gᵀ] = F_out, Monte Carlo with a 5-standard-error tolerance.

    Per entry the false-alarm rate of a 5-SE bound is below 1e-6.
    """
    lik, z = _outputs(name, n=2, scale=0.8)
    s = 20_000
    zz = z.repeat(s, 1)
    y = lik.sample(zz, torch.Generator().manual_seed(7))
    g = lik.grad(zz, y).reshape(s, *z.shape)
    outer = g[..., :, None] * g[..., None, :]
    mean, se = outer.mean(0), outer.std(0) / math.sqrt(s)
    assert ((mean - lik.fisher(z)).abs() <= 5 * se + 1e-12).all()
    assert ((g.mean(0)).abs() <= 5 * g.std(0) / math.sqrt(s) + 1e-12).all()


@pytest.mark.parametrize("name", sorted(LIKELIHOODS))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_extreme_outputs_stay_finite(name, dtype):
    lik, width = LIKELIHOODS[name]
    z = torch.tensor([[40.0] * width, [-40.0] * width, [0.0] * width], dtype=dtype)
    y = targets_for(lik, torch.zeros_like(z))
    for value in (lik.nll(z, y), lik.grad(z, y), lik.fisher(z), lik.kl(z, z.flip(0))):
        assert value.dtype == dtype
        assert torch.isfinite(value).all()
    assert (lik.kl(z, z) == 0).all()


def test_bad_input():
    with pytest.raises(ValueError, match="'likelihood' parameter.*'categorical'.*Got 'gauss'"):
        get_likelihood("gauss")
    z = torch.zeros(4, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="even number.*Got 3"):
        Normal().nll(z, torch.zeros(4))
    with pytest.raises(ValueError, match="must have 5 columns.*Got 3"):
        Categorical(n_classes=5).nll(z, torch.zeros(4))
    with pytest.raises(ValueError, match=r"class labels in 0..2.*1 value\(s\).*3"):
        Categorical().nll(z, torch.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="'targets'.*must be finite"):
        Categorical().nll(z, torch.tensor([0.0, 1.0, float("nan"), 2.0]))
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        Categorical().nll(z, torch.zeros(5))
    with pytest.raises(ValueError, match="non-negative integer counts"):
        get_likelihood("poisson").nll(z, torch.full((4, 3), 1.5))
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        get_likelihood("bernoulli").nll(z, torch.full((4, 3), 2.0))
    with pytest.raises(ValueError, match="'scale' parameter.*Got -1"):
        NormalFixedScale(scale=-1.0).nll(z, z)
    with pytest.raises(ValueError, match=r"shape \(n, d\)"):
        Categorical().nll(torch.zeros(3), torch.zeros(3))
    with pytest.raises(TypeError, match="torch.Tensor"):
        Categorical().nll(np.zeros((3, 3)), torch.zeros(3))
