"""natgrad.nn.Fisher: the pulled-back Fisher against references built independently."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402
from torch.func import functional_call, grad, hessian, jacrev, vmap  # noqa: E402

from natgrad.nn import Fisher, get_likelihood  # noqa: E402

from ._models import LIKELIHOODS, cnn, mlp, targets_for  # noqa: E402


def _jacobian(model, inputs):
    """(n, d, p) Jacobian of the outputs in the trainable parameters, from jacrev."""
    params = {k: p.detach() for k, p in model.named_parameters() if p.requires_grad}
    jac = jacrev(lambda ps: functional_call(model, ps, (inputs,)))(params)
    n, d = jac[next(iter(params))].shape[:2]
    return torch.cat([jac[k].reshape(n, d, -1) for k in params], dim=2)


def _reference(model, lik, inputs):
    """Jᵀ F_out J / n from jacrev and the closed-form output Fisher."""
    jac = _jacobian(model, inputs)
    f_out = lik.fisher(model(inputs).detach())
    return torch.einsum("nda,nde,neb->ab", jac, f_out, jac) / inputs.shape[0]


def _net(kind, width):
    if kind == "mlp":
        return mlp(3, width), torch.randn(5, 3, dtype=torch.float64)
    return cnn(width), torch.randn(4, 1, 5, 5, dtype=torch.float64)


@pytest.mark.parametrize("name", sorted(LIKELIHOODS))
@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_dense_equals_jacobian_reference(name, arch):
    torch.manual_seed(1)
    lik, width = LIKELIHOODS[name]
    model, x = _net(arch, width)
    fisher = Fisher(model, lik, x)
    dense = fisher.dense()
    ref = _reference(model, lik, x)
    assert dense.shape == (fisher.n_params, fisher.n_params)
    torch.testing.assert_close(dense, ref, rtol=1e-10, atol=1e-10 * ref.abs().max().item())
    v = torch.randn(fisher.n_params, dtype=torch.float64)
    torch.testing.assert_close(fisher.mv(v), dense @ v, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(fisher.quadratic(v), v @ dense @ v)
    torch.testing.assert_close(fisher.diagonal(), dense.diagonal(), rtol=1e-10, atol=1e-14)


def test_mv_takes_lists_and_dicts():
    model, x = _net("mlp", 3)
    fisher = Fisher(model, "categorical", x)
    v = torch.randn(fisher.n_params, dtype=torch.float64)
    flat = fisher.mv(v)
    shaped = [p.detach() for p in model.parameters()]
    pieces, start = [], 0
    for p in shaped:
        pieces.append(v[start : start + p.numel()].view_as(p))
        start += p.numel()
    as_list = fisher.mv(pieces)
    as_dict = fisher.mv(dict(zip(fisher.names, pieces, strict=True)))
    torch.testing.assert_close(torch.cat([t.reshape(-1) for t in as_list]), flat)
    torch.testing.assert_close(torch.cat([as_dict[k].reshape(-1) for k in fisher.names]), flat)
    with pytest.raises(ValueError, match="flat vector"):
        fisher.mv(torch.zeros(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="keys"):
        fisher.mv({"nope": v})


@pytest.mark.parametrize("name", sorted(LIKELIHOODS))
def test_exact_is_the_expected_score_outer_product(name):
    """E[∇nll ∇nllᵀ] over targets drawn from the model = exact Fisher (5 SE per entry).

    Per-example scores come from autograd (torch.func.grad), independently of the operator;
    the ``mc`` operator with many draws is held to the same tolerance. A 5-SE bound has a
    false-alarm rate below 1e-6 per entry.
    """
    lik, width = LIKELIHOODS[name]
    model, x = mlp(2, width, hidden=3), torch.randn(3, 2, dtype=torch.float64)
    n, s = x.shape[0], 3000
    exact = Fisher(model, lik, x).dense()
    xs = x.repeat(s, 1)
    ys = lik.sample(model(xs).detach(), torch.Generator().manual_seed(5))
    params = {k: p.detach() for k, p in model.named_parameters()}

    def score(xi, yi):
        def loss(ps):
            return lik._nll(functional_call(model, ps, (xi[None],)), yi[None]).sum()

        g = grad(loss)(params)
        return torch.cat([g[k].reshape(-1) for k in params])

    scores = vmap(score)(xs, ys)  # (s·n, p)
    outer = scores[:, :, None] * scores[:, None, :]
    per_draw = outer.reshape(s, n, *outer.shape[1:]).mean(1)  # one estimate per draw
    se = per_draw.std(0) / math.sqrt(s)
    tol = 5 * se + 1e-10
    assert ((per_draw.mean(0) - exact).abs() <= tol).all()
    mc = Fisher(model, lik, x, kind="mc", n_samples=s, generator=torch.Generator().manual_seed(0))
    assert ((mc.dense() - exact).abs() <= tol).all()
    assert (scores.mean(0).abs() <= 5 * scores.std(0) / math.sqrt(s * n) + 1e-10).all()


@pytest.mark.parametrize("name", ["categorical", "bernoulli", "normal_fixed_scale", "poisson"])
def test_equals_gauss_newton(name):
    """For these likelihoods ∂²nll/∂z² does not depend on y: Fisher = GGN = Jᵀ H J / n."""
    lik, width = LIKELIHOODS[name]
    model, x = mlp(3, width), torch.randn(4, 3, dtype=torch.float64)
    out = model(x).detach()
    y = targets_for(lik, out)
    h = vmap(hessian(lambda z, t: lik._nll(z[None], t[None]).sum()))(out, y)
    jac = _jacobian(model, x)
    ggn = torch.einsum("nda,nde,neb->ab", jac, h, jac) / x.shape[0]
    torch.testing.assert_close(Fisher(model, lik, x).dense(), ggn, rtol=1e-10, atol=1e-12)


def test_normal_gauss_newton_in_expectation():
    """With a learned scale the Hessian depends on y; its expectation is F_out (5 SE)."""
    lik = get_likelihood("normal")
    out = torch.tensor([[0.3, -0.2], [1.0, 0.5]], dtype=torch.float64)
    s = 20_000
    zz = out.repeat(s, 1)
    y = lik.sample(zz, torch.Generator().manual_seed(0))
    h = vmap(hessian(lambda z, t: lik._nll(z[None], t[None]).sum()))(zz, y).reshape(s, 2, 2, 2)
    mean, se = h.mean(0), h.std(0) / math.sqrt(s)
    assert ((mean - lik.fisher(out)).abs() <= 5 * se + 1e-12).all()


def test_empirical_uses_observed_targets():
    lik = get_likelihood("categorical")
    model, x = mlp(3, 3), torch.randn(5, 3, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 1, 0])
    emp = Fisher(model, lik, x, kind="empirical", targets=y).dense()
    rows = []
    for i in range(5):
        g = torch.autograd.grad(
            lik.nll(model(x[i : i + 1]), y[i : i + 1]).sum(), list(model.parameters())
        )
        rows.append(torch.cat([t.reshape(-1) for t in g]))
    g = torch.stack(rows)
    torch.testing.assert_close(emp, g.T @ g / 5)
    with pytest.raises(ValueError, match="'targets'.*empirical"):
        Fisher(model, lik, x, kind="empirical").dense()


class _Twice(nn.Module):
    """One Linear used twice (module reuse) and a tied output weight."""

    def __init__(self):
        super().__init__()
        self.inner = nn.Linear(3, 3)
        self.out = nn.Linear(3, 3, bias=False)
        self.out.weight = self.inner.weight  # tied: one Parameter, two modules

    def forward(self, x):
        return self.out(torch.tanh(self.inner(torch.tanh(self.inner(x)))))


def test_parameter_sharing():
    torch.manual_seed(0)
    model = _Twice().double()
    x = torch.randn(4, 3, dtype=torch.float64)
    lik = get_likelihood("categorical")
    fisher = Fisher(model, lik, x)
    assert fisher.n_params == 12  # weight (9, shared three times) + bias (3)
    torch.testing.assert_close(fisher.dense(), _reference(model, lik, x), rtol=1e-10, atol=1e-12)


def test_frozen_parameters_and_batch_norm():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh(), nn.Linear(4, 2)).double()
    model[0].weight.requires_grad_(False)
    model[1].running_mean.uniform_(-1, 1)
    model[1].running_var.uniform_(0.5, 2)
    model.eval()
    x = torch.randn(6, 3, dtype=torch.float64)
    lik = get_likelihood("normal")
    before = model[1].running_mean.clone()
    fisher = Fisher(model, lik, x)
    assert fisher.n_params == 4 + 4 + 4 + 8 + 2  # bias0, bn weight/bias, last layer
    assert "0.weight" not in fisher.names
    torch.testing.assert_close(fisher.dense(), _reference(model, lik, x), rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(model[1].running_mean, before)


def test_float32():
    model = mlp(3, 3).float()
    x = torch.randn(5, 3)
    fisher = Fisher(model, "categorical", x)
    dense = fisher.dense()
    assert dense.dtype == torch.float32
    ref = _reference(model.double(), get_likelihood("categorical"), x.double())
    torch.testing.assert_close(dense.double(), ref, rtol=1e-4, atol=1e-6)


def test_bad_input():
    model, x = mlp(3, 3), torch.randn(5, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="'kind' parameter.*'exact'.*Got 'fast'"):
        Fisher(model, "categorical", x, kind="fast").mv(torch.zeros(1))
    with pytest.raises(ValueError, match="'likelihood' parameter"):
        Fisher(model, "gauss", x).dense()
    with pytest.raises(ValueError, match="even number.*Got 3"):
        Fisher(model, "normal", x).dense()
    with pytest.raises(TypeError, match="'model' parameter.*Module"):
        Fisher(lambda t: t, "normal", x).dense()
    with pytest.raises(ValueError, match="'n_samples' parameter"):
        Fisher(model, "categorical", x, kind="mc", n_samples=0).dense()
    with pytest.raises(TypeError, match="'inputs' argument"):
        Fisher(model, "categorical", [1, 2]).dense()
