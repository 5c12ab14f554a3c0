"""
Early stopping: choosing the number of stages
=============================================

Every boosting stage lowers the training loss; after a while the validation loss stops
falling and starts to rise, as the model fits noise. ``NGBoostRegressor`` records both
curves (``train_loss_``, ``validation_loss_``), chooses the stage with the best validation
loss (``best_iteration_``, which predictions then use), and with ``n_iter_no_change``
stops the fit once the validation loss has not improved for that many stages.
"""

import matplotlib.pyplot as plt
import numpy as np

import natgrad

rng = np.random.default_rng(0)
n = 800
X = rng.uniform(-1, 1, size=(n, 5))
y = X[:, 0] + np.sin(3 * X[:, 1]) + 0.5 * rng.normal(size=n)

fits = {}
for lr in (0.05, 0.2):
    fits[lr] = natgrad.NGBoostRegressor(
        n_estimators=400, learning_rate=lr, validation_fraction=0.25, random_state=0
    ).fit(X, y)
stopped = natgrad.NGBoostRegressor(
    n_estimators=400,
    learning_rate=0.2,
    validation_fraction=0.25,
    n_iter_no_change=30,
    random_state=0,
).fit(X, y)
print(
    f"learning rate 0.2 with n_iter_no_change=30: stopped after {stopped.n_estimators_} "
    f"stages, best stage {stopped.best_iteration_}"
)

# %%
# Training (dashed) and validation (solid) loss per stage for two learning rates; the dot
# marks ``best_iteration_``. The larger rate reaches its best validation loss sooner, and
# starts to overfit sooner.

fig, ax = plt.subplots(figsize=(7, 4.2))
for (lr, model), color in zip(fits.items(), ["C0", "C1"], strict=True):
    ax.plot(model.train_loss_, color=color, ls="--", lw=1, label=f"lr {lr}: training")
    ax.plot(model.validation_loss_, color=color, lw=2, label=f"lr {lr}: validation")
    best = model.best_iteration_
    ax.plot(best, model.validation_loss_[best], "o", color=color, ms=8)
ax.axvline(
    stopped.n_estimators_,
    color="0.5",
    lw=1,
    ls=":",
    label="n_iter_no_change=30 stops here (lr 0.2)",
)
ax.set_xlabel("stage")
ax.set_ylabel("mean negative log-likelihood")
ax.legend(fontsize=8)
fig.tight_layout()
