"""
Prediction intervals when the noise changes with the input
==========================================================

A model that predicts one number per row cannot say how far to trust it. Here the noise
of the target grows with the input, and `natgrad.NGBoostRegressor` predicts a Normal
distribution per row whose scale follows it: its 90 % prediction intervals are narrow
where the data are quiet and wide where they are noisy.
"""

import matplotlib.pyplot as plt
import numpy as np

import natgrad

rng = np.random.default_rng(0)
n = 1500
x = rng.uniform(0, 10, size=n)
true_scale = 0.1 + 0.15 * x  # the noise grows with x
y = np.sin(x) + true_scale * rng.normal(size=n)
X = x[:, None]

model = natgrad.NGBoostRegressor(n_estimators=300, learning_rate=0.05, random_state=0)
model.fit(X, y)

# %%
# ``predict_dist`` returns one Normal per row. Its ``interval`` gives the central
# intervals, ``std`` the predicted scale.

grid = np.linspace(0, 10, 400)[:, None]
dist = model.predict_dist(grid)
low, high = dist.interval(0.9)

fig, (ax, ax_scale) = plt.subplots(
    2, 1, figsize=(7, 6), sharex=True, gridspec_kw={"height_ratios": [2, 1]}
)
ax.scatter(x, y, s=4, color="0.6", label="training data")
ax.fill_between(grid[:, 0], low, high, color="C0", alpha=0.3, label="90 % interval")
ax.plot(grid[:, 0], dist.mean(), color="C0", label="predicted mean")
ax.plot(grid[:, 0], np.sin(grid[:, 0]), "k--", lw=1, label="true mean")
ax.set_ylabel("y")
ax.legend(loc="upper left", fontsize=8)
ax_scale.plot(grid[:, 0], dist.std(), color="C0", label="predicted std")
ax_scale.plot(grid[:, 0], 0.1 + 0.15 * grid[:, 0], "k--", lw=1, label="true std")
ax_scale.set_xlabel("x")
ax_scale.set_ylabel("std")
ax_scale.legend(loc="upper left", fontsize=8)
fig.tight_layout()

# %%
# On fresh data from the same process the 90 % intervals should hold about 90 % of the
# targets; `natgrad.metrics.coverage` counts them.

x_test = rng.uniform(0, 10, size=2000)
y_test = np.sin(x_test) + (0.1 + 0.15 * x_test) * rng.normal(size=2000)
test_dist = model.predict_dist(x_test[:, None])
print("coverage of the 50/80/95 % intervals:", natgrad.metrics.coverage(test_dist, y_test))
