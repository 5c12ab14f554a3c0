"""
Monotone constraints per parameter
==================================

Domain knowledge often says that a prediction must move one way with a feature: a larger
flat is not cheaper, a higher dose not less effective. On noisy data an unconstrained model
can still wiggle against it. ``monotonic_cst`` constrains each distribution parameter
separately: here the mean must not decrease with the feature, while the spread stays free.
"""

import matplotlib.pyplot as plt
import numpy as np

import natgrad

rng = np.random.default_rng(0)
n = 600
x = rng.uniform(0, 1, size=n)
true_mean = 2 * x + 0.3 * np.sin(6 * x)  # increasing
y = true_mean + (0.3 + 0.5 * x) * rng.normal(size=n)
X = x[:, None]

settings = dict(n_estimators=300, learning_rate=0.05, min_samples_leaf=2, random_state=0)
free = natgrad.NGBoostRegressor(**settings).fit(X, y)
constrained = natgrad.NGBoostRegressor(monotonic_cst={"loc": [1]}, **settings).fit(X, y)

# %%
# The unconstrained mean (orange) dips where the noise happens to; the constrained mean
# (blue) never decreases. The predicted spread is unconstrained in both (right).

grid = np.linspace(0, 1, 300)[:, None]
fig, (ax, ax_std) = plt.subplots(1, 2, figsize=(11, 4))
ax.scatter(x, y, s=4, color="0.7", label="data")
ax.plot(grid, free.predict(grid), color="C1", lw=2, label="no constraint")
ax.plot(grid, constrained.predict(grid), color="C0", lw=2, label='{"loc": [1]}')
ax.plot(grid, 2 * grid + 0.3 * np.sin(6 * grid), "k--", lw=1, label="true mean")
ax.set_xlabel("x")
ax.set_ylabel("predicted mean")
ax.legend(fontsize=8)
ax_std.plot(grid, free.predict_dist(grid).std(), color="C1", lw=2, label="no constraint")
ax_std.plot(grid, constrained.predict_dist(grid).std(), color="C0", lw=2, label='{"loc": [1]}')
ax_std.plot(grid, 0.3 + 0.5 * grid, "k--", lw=1, label="true std")
ax_std.set_xlabel("x")
ax_std.set_ylabel("predicted std")
ax_std.legend(fontsize=8)
fig.tight_layout()

means = constrained.predict(grid)
print("largest decrease of the constrained mean:", float(np.max(-np.diff(means), initial=0)))
