"""
Two-dimensional targets with predicted covariance ellipses
==========================================================

When a target has several components that vary together (the two coordinates of a
position, two prices, a pair of sensor readings), predicting each with its own model loses
how they co-vary. ``NGBoostRegressor(distribution="multivariate_normal")`` predicts a full
two-dimensional Normal per row: a mean vector and a covariance matrix, from one tree per
stage that fits all five parameters.

In the data below the spread of both components grows with x, and their correlation turns
from negative to positive as x goes from 0 to 1.
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

import natgrad

rng = np.random.default_rng(0)
n = 2000
x = rng.uniform(0, 1, size=n)
X = np.column_stack([x, rng.uniform(0, 1, size=n)])  # the second feature is noise
scale = 0.2 + 0.8 * x
rho = -0.8 + 1.6 * x
z1, z2 = rng.normal(size=(2, n))
Y = np.column_stack(
    [
        np.sin(3 * x) + scale * z1,
        x + scale * (rho * z1 + np.sqrt(1 - rho**2) * z2),
    ]
)

model = natgrad.NGBoostRegressor(
    distribution="multivariate_normal", n_estimators=300, learning_rate=0.05, random_state=0
)
model.fit(X, Y)

# %%
# The 90 % ellipses of the predicted distributions at five values of x (the noise feature
# at 0.5), over the data of nearby rows, with the true ellipses dashed. Each ellipse is
# the set of points whose squared Mahalanobis distance from the predicted mean is the
# chi-squared 0.9 quantile with 2 degrees of freedom.


def ellipse(mean, cov, level=0.9):
    radius = np.sqrt(stats.chi2.ppf(level, df=2))
    angle = np.linspace(0, 2 * np.pi, 100)
    circle = np.column_stack([np.cos(angle), np.sin(angle)]) * radius
    return mean + circle @ np.linalg.cholesky(cov).T


points = np.array([0.1, 0.3, 0.5, 0.7, 0.9])
dist = model.predict_dist(np.column_stack([points, np.full(5, 0.5)]))
means, covs = dist.mean(), dist.cov()
fig, axes = plt.subplots(1, 5, figsize=(14, 3.6), sharex=True, sharey=True)
for ax, x0, mean, cov in zip(axes, points, means, covs, strict=True):
    near = np.abs(x - x0) < 0.05
    ax.scatter(Y[near, 0], Y[near, 1], s=4, color="0.6")
    s0, r0 = 0.2 + 0.8 * x0, -0.8 + 1.6 * x0
    true_cov = s0**2 * np.array([[1, r0], [r0, 1]])
    true = ellipse(np.array([np.sin(3 * x0), x0]), true_cov)
    ax.plot(true[:, 0], true[:, 1], "k--", lw=1)
    fitted = ellipse(mean, cov)
    ax.plot(fitted[:, 0], fitted[:, 1], color="C0", lw=2)
    corr = cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1])
    ax.set_title(f"x = {x0}: corr {corr:+.2f} (true {r0:+.2f})", fontsize=9)
    ax.set_xlabel("y₁")
axes[0].set_ylabel("y₂")
fig.tight_layout()
