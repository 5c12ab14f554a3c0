"""
Choosing a distribution for a positive, skewed target
=====================================================

Prices, incomes, durations and sizes are positive and skewed to the right: most values are
moderate, a few are large. A Normal distribution is symmetric and unbounded, so it puts
probability on impossible negative values and too little on the long right tail. The
log-normal and gamma families live on the positive numbers and are skewed themselves.

The families are compared by their test negative log-likelihood, which scores every
family on the same targets (lower is better).
"""

import matplotlib.pyplot as plt
import numpy as np

import natgrad
from natgrad import metrics

rng = np.random.default_rng(0)
n = 2000
X = rng.uniform(0, 1, size=(n, 2))
# log y is Normal with a mean that grows with feature 0: y is log-normal, skewed right
y = np.exp(0.5 + 1.0 * X[:, 0] + 0.6 * rng.normal(size=n))
X_train, X_test, y_train, y_test = X[:1500], X[1500:], y[:1500], y[1500:]

families = ["normal", "lognormal", "gamma"]
models = {
    family: natgrad.NGBoostRegressor(
        distribution=family, n_estimators=200, learning_rate=0.05, random_state=0
    ).fit(X_train, y_train)
    for family in families
}
for family, model in models.items():
    scores = metrics.evaluate(model.predict_dist(X_test), y_test)
    print(
        f"{family:10s} test NLL {scores['nll']:.3f}  CRPS {scores['crps']:.3f}  "
        f"coverage of 95 % intervals {scores['coverage_95']:.2f}"
    )

# %%
# The predicted densities of one row (feature 0 at 0.8), over the histogram of test
# targets whose feature 0 lies near it (``to_scipy`` turns a prediction into a frozen
# `scipy.stats` distribution, here for its density). The Normal's density runs below zero and is
# too low on the right tail; the log-normal follows the data.

row = np.array([[0.8, 0.5]])
near = np.abs(X_test[:, 0] - 0.8) < 0.1
grid = np.linspace(-3, 16, 400)
fig, ax = plt.subplots(figsize=(7, 4.2))
ax.hist(y_test[near], bins=30, density=True, color="0.8", label="test targets near the row")
for family, color in zip(families, ["C3", "C0", "C2"], strict=True):
    # to_scipy() gives the equivalent frozen scipy.stats distribution of the batch
    density = models[family].predict_dist(row).to_scipy().pdf(grid)
    ax.plot(grid, density, color=color, lw=2, label=family)
ax.axvline(0, color="k", lw=0.8)
ax.set_xlabel("y")
ax.set_ylabel("density")
ax.set_title("predicted density at feature 0 = 0.8")
ax.legend(fontsize=8)
fig.tight_layout()
