"""
SHAP values per distribution parameter
======================================

A natgrad model predicts several parameters per row; a feature can move the predicted
value, or only how uncertain it is. ``model.shap_values(X)`` explains every parameter
separately with exact TreeSHAP values, and ``to_explanation`` hands one parameter to the
`shap <https://shap.readthedocs.io>`_ package for its plots.

In these data ``x0`` sets the mean and ``x1`` the noise; ``x2`` and ``x3`` do nothing.
"""

import matplotlib.pyplot as plt
import numpy as np
import shap

import natgrad

rng = np.random.default_rng(0)
n = 2000
X = rng.uniform(-1, 1, size=(n, 4))
y = 2 * X[:, 0] + np.exp(0.8 * X[:, 1]) * 0.3 * rng.normal(size=n)

model = natgrad.NGBoostRegressor(n_estimators=300, learning_rate=0.05, random_state=0)
model.fit(X, y)
sv = model.shap_values(X[:500])
print("parameters:", sv.param_names, " values:", sv.values.shape)

# The values add up to the parameters the model predicts, row by row.
print(
    "largest difference from predict_dist:",
    np.abs(sv.values.sum(axis=1) + sv.base_values - model.predict_dist(X[:500]).params).max(),
)

# %%
# One beeswarm per parameter: each dot is a row, its position the feature's contribution
# to that parameter, its colour the feature's value. ``x0`` moves the location, ``x1`` the
# log scale; each plot shows the other feature doing almost nothing.

fig = plt.figure(figsize=(11, 4))
for i, param in enumerate(sv.param_names):
    ax = fig.add_subplot(1, 2, i + 1)
    plt.sca(ax)
    shap.plots.beeswarm(sv.to_explanation(param), show=False, plot_size=None, color_bar=i == 1)
    ax.set_title(f"SHAP values of {param}")
fig.tight_layout()
