"""
The natural gradient does not depend on the parameterisation
=============================================================

A Normal can be written in the coordinates (μ, log σ), natgrad's default, or in (μ, σ).
Both describe the same distributions, so a good optimizer should follow the same path of
*distributions* whichever coordinates it works in. The natural gradient does: its step is
defined by the KL divergence between distributions, which knows nothing of coordinates.
Gradient descent does not: the gradient in σ is the gradient in log σ divided by σ, so
its steps, and its path, change with the coordinates.

`natgrad.fit_distribution` takes a ``parameterization`` (here `natgrad.fit.NORMAL_LOC_SCALE`)
and fits in those coordinates, pulling gradient and Fisher back through the map.
"""

import matplotlib.pyplot as plt
import numpy as np

import natgrad
from natgrad import optim
from natgrad.fit import NORMAL_LOC_SCALE

rng = np.random.default_rng(0)
y = rng.normal(loc=1.0, scale=0.3, size=500)
start = np.array([0.0, 0.0])  # θ = (μ, log σ): a standard Normal, in both fits

optimizers = {
    "natural gradient (KL trust region 0.05)": lambda: optim.natural_gradient_descent(max_kl=0.05),
    "gradient descent (learning rate 0.05)": lambda: optim.gradient_descent(0.05),
}
fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharex=True, sharey=True)
for ax, (name, make) in zip(axes, optimizers.items(), strict=True):
    for parameterization, style, label in [
        (None, "o-", "fitted in (μ, log σ)"),
        (NORMAL_LOC_SCALE, "x--", "fitted in (μ, σ)"),
    ]:
        fit = natgrad.fit_distribution(
            y,
            "normal",
            make(),
            init=start,
            max_steps=60,
            parameterization=parameterization,
        )
        path = fit.path if parameterization is None else parameterization.to_params(fit.path)
        ax.plot(path[:, 0], path[:, 1], style, ms=4, lw=1, label=label)
    ax.plot(y.mean(), np.log(y.std()), "k*", ms=12, label="maximum likelihood")
    ax.set_title(name)
    ax.set_xlabel("μ")
    ax.legend(fontsize=8, loc="upper right")
axes[0].set_ylabel("log σ")
fig.suptitle("the same fit in two coordinate systems, drawn in (μ, log σ)")
fig.tight_layout()

# %%
# The natural gradient's two paths coincide up to the discretisation of its steps (a
# finite step is not a point on the continuous path in either coordinate system).
# Gradient descent's second path takes different steps altogether: run in (μ, σ), its
# step moves log σ by 1/σ² times what the same step run in (μ, log σ) moves it, so its
# path depends on the coordinates and on where σ happens to be.
