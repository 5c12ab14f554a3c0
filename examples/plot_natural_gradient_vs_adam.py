"""
Natural gradient, Adam and gradient descent on an ill-conditioned fit
=====================================================================

Fitting a Normal whose scale is far from 1 is a badly conditioned problem in the usual
coordinates θ = (μ, log σ): the loss is 1/σ² times steeper in μ than in log σ near the
optimum. Gradient descent must take a learning rate small enough for the steep direction
and then crawls along the flat one; Adam rescales each coordinate but not by the right
amount. The natural gradient F⁻¹∇L divides by the Fisher information, which is exactly
that curvature, and walks straight to the optimum.

Each baseline gets the best learning rate of a small grid (the one that ends lowest);
natural gradient descent runs with its defaults (a KL trust region of 0.1 per step).
"""

import matplotlib.pyplot as plt
import numpy as np

import natgrad
from natgrad import optim

rng = np.random.default_rng(0)
y = rng.normal(loc=2.0, scale=0.05, size=500)
steps = 300


def best_of(make, rates):
    """The fit that ends lowest over a grid of learning rates."""
    fits = [
        natgrad.fit_distribution(y, "normal", make(lr), max_steps=steps, tol=0.0) for lr in rates
    ]
    return min(fits, key=lambda f: np.nan_to_num(f.loss_history[-1], nan=np.inf))


runs = {
    "natural gradient": natgrad.fit_distribution(
        y, "normal", optim.natural_gradient_descent(), max_steps=steps, tol=0.0
    ),
    "Adam (best rate)": best_of(optim.adam, [1e-3, 1e-2, 1e-1, 1.0]),
    "gradient descent (best rate)": best_of(optim.gradient_descent, [1e-5, 1e-4, 1e-3, 1e-2, 1e-1]),
}
mle = natgrad.fit_distribution(y, "normal", max_steps=1000)
optimum = mle.loss_history[-1]

# %%
# Left: the excess loss per step (log scale). Middle: the paths in θ over the contours of
# the loss (darker is lower; the colours cover the whole view, values beyond the scale in
# its end shades). Natural gradient descent heads for the optimum at once; gradient
# descent, whose rate is bounded by the steep μ direction, creeps down the valley in
# log σ; Adam's per-coordinate scaling zig-zags along the valley floor. Right: how far each
# step moves the distribution, KL(p_k ‖ p_k+1). The natural gradient's trust region holds
# every step near 0.1 (it bounds the KL to second order) until the full Fisher-scoring step
# is shorter, near the optimum; the other optimizers' steps are sized in θ, so their KL per
# step wanders over orders of magnitude.

colors = {"natural gradient": "C3", "Adam (best rate)": "C2", "gradient descent (best rate)": "C0"}
fig, (ax_loss, ax_path, ax_kl) = plt.subplots(1, 3, figsize=(16, 4.5))
for name, fit in runs.items():
    excess = np.maximum(fit.loss_history - optimum, 1e-12)
    ax_loss.semilogy(excess, color=colors[name], label=name)
ax_loss.set_xlabel("step")
ax_loss.set_ylabel("NLL − optimum")
ax_loss.set_title("loss per step, from θ = (0, 0)")
ax_loss.legend(fontsize=8)

mu = np.linspace(-0.3, 2.4, 200)
log_sigma = np.linspace(-3.6, 0.4, 200)
M, S = np.meshgrid(mu, log_sigma)
grid = natgrad.distributions.Normal.from_params(np.column_stack([M.ravel(), S.ravel()]))
# mean NLL of the data under each grid point: -log p(y) summed over the sample
nll = np.array([grid.nll(np.full(len(grid), v)) for v in y]).mean(axis=0).reshape(M.shape)
levels = np.arange(-3.0, 4.01, 0.5)
filled = ax_path.contourf(
    M,
    S,
    np.log10(np.maximum(nll - optimum, 1e-12)),
    levels=levels,
    cmap="Greys_r",
    extend="both",
    alpha=0.8,
)
fig.colorbar(filled, ax=ax_path, label="log10(NLL − optimum)")
for name in ["gradient descent (best rate)", "Adam (best rate)", "natural gradient"]:
    path = runs[name].path
    ax_path.plot(path[:, 0], path[:, 1], ".-", ms=3, lw=1.5, color=colors[name], label=name)
ax_path.plot(*mle.params[0], "k*", ms=12, label="maximum likelihood")
ax_path.plot(0, 0, "ko", label="start")
ax_path.set_xlim(mu[0], mu[-1])
ax_path.set_ylim(log_sigma[0], log_sigma[-1])
ax_path.set_xlabel("μ")
ax_path.set_ylabel("log σ")
ax_path.set_title("paths in θ")
ax_path.legend(fontsize=7, loc="lower left")

first = 60  # the first steps: natural gradient descent has converged by then
for name, fit in runs.items():
    kl = np.maximum(fit.kl_history[:first], 1e-16)
    ax_kl.semilogy(np.arange(1, len(kl) + 1), kl, ".-", ms=3, color=colors[name], label=name)
ax_kl.axhline(0.1, color="gray", ls=":", lw=1, label="trust region (max_kl = 0.1)")
ax_kl.set_ylim(1e-8, 1.0)
ax_kl.set_xlabel("step")
ax_kl.set_ylabel("KL(p_k ‖ p_k+1)")
ax_kl.set_title(f"KL divergence per step (first {first} steps)")
ax_kl.legend(fontsize=8, loc="lower left")
fig.tight_layout()

for name, fit in runs.items():
    print(f"{name:30s} excess loss after {steps} steps: {fit.loss_history[-1] - optimum:.2e}")
