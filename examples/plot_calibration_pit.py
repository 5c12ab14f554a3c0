"""
Calibration and PIT: a good and an overconfident model
======================================================

Two models can make the same point predictions and still differ in how honest their
uncertainty is. The probability integral transform uᵢ = Fᵢ(yᵢ) (`natgrad.metrics.pit`)
is uniform when the predicted distributions are calibrated. An overconfident model,
whose intervals are too narrow, sees too many targets in its tails: its PIT piles up near
0 and 1.

Here the good model is an `natgrad.NGBoostRegressor`; the overconfident one is the same
model with every predicted standard deviation halved, a common failure of models that
fit their training data too closely.
"""

import matplotlib.pyplot as plt
import numpy as np

import natgrad
from natgrad import metrics
from natgrad.distributions import Normal

rng = np.random.default_rng(0)
n = 3000
X = rng.uniform(-2, 2, size=(n, 2))
y = np.sin(2 * X[:, 0]) + (0.2 + 0.3 * np.abs(X[:, 1])) * rng.normal(size=n)
X_train, X_test, y_train, y_test = X[:2000], X[2000:], y[:2000], y[2000:]

model = natgrad.NGBoostRegressor(n_estimators=300, learning_rate=0.05, random_state=0)
model.fit(X_train, y_train)
good = model.predict_dist(X_test)
overconfident = Normal(loc=good.mean(), scale=0.5 * good.std())

for name, dist in [("good", good), ("overconfident", overconfident)]:
    scores = metrics.evaluate(dist, y_test)
    print(
        f"{name:14s} NLL {scores['nll']:.3f}  RMSE {scores['rmse']:.3f}  "
        f"coverage_80 {scores['coverage_80']:.2f}  "
        f"calibration_error {scores['calibration_error']:.3f}"
    )

# %%
# Left: PIT histograms (flat is calibrated). Middle: the calibration curve, the share of
# PIT values below each level (on the diagonal when calibrated); the overconfident model's
# is S-shaped. Right: the coverage of central intervals against their nominal level.

levels = np.linspace(0.05, 0.95, 19)
fig, (ax_pit, ax_cal, ax_cov) = plt.subplots(1, 3, figsize=(13, 4))
for (name, dist), color in zip(
    [("good", good), ("overconfident", overconfident)], ["C0", "C3"], strict=True
):
    u = metrics.pit(dist, y_test)
    ax_pit.hist(
        u, bins=20, range=(0, 1), density=True, histtype="step", lw=2, color=color, label=name
    )
    nominal, observed = metrics.calibration_curve(u)
    ax_cal.plot(nominal, observed, "o-", ms=3, color=color, label=name)
    ax_cov.plot(levels, metrics.coverage(dist, y_test, levels), "o-", ms=3, color=color, label=name)
ax_pit.axhline(1, color="k", ls="--", lw=1)
ax_pit.set_xlabel("PIT")
ax_pit.set_ylabel("density")
ax_pit.set_title("PIT histogram")
for ax, title, xlabel, ylabel in [
    (ax_cal, "calibration curve", "level α", "share of PIT ≤ α"),
    (ax_cov, "interval coverage", "nominal level", "share of targets inside"),
]:
    ax.plot([0, 1], [0, 1], "k--", lw=1)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
for ax in (ax_pit, ax_cal, ax_cov):
    ax.legend(fontsize=8)
fig.tight_layout()
