"""
Categorical features and missing values
=======================================

natgrad splits a categorical feature by *sets* of categories, so a pandas ``category``
column goes in as it is: no one-hot encoding, which would spread one feature over many
columns that each tree sees only one at a time. Missing values (NaN) need no imputation:
every split learns which side they go to.

Here the target's mean depends on a city (eight categories, in no useful order), and its
noise on a numeric feature of which 30 % of the values are missing.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import natgrad

rng = np.random.default_rng(0)
n = 2000
cities = np.array(list("ABCDEFGH"))
city_effect = dict(zip(cities, [3.0, -1.0, 0.5, 2.0, -2.0, 1.0, 0.0, -0.5], strict=True))
city = rng.choice(cities, size=n)
size = rng.uniform(0, 1, size=n)
noise = 0.2 + 1.0 * size
y = np.array([city_effect[c] for c in city]) + noise * rng.normal(size=n)
size_observed = np.where(rng.uniform(size=n) < 0.3, np.nan, size)  # 30 % missing

X = pd.DataFrame({"city": pd.Categorical(city), "size": size_observed})
model = natgrad.NGBoostRegressor(n_estimators=300, learning_rate=0.05, random_state=0)
model.fit(X, y)
print("categories of each feature:", model.categories_)

# %%
# Left: the predicted mean per city against the true effect; the model finds each city's
# level from set splits. Right: the predicted standard deviation against ``size``, and for
# rows whose size is missing (the squares left of the axis break): the model gives them
# about the average noise level of all sizes (0.7, dotted), because that is all a missing
# size tells it.

grid = np.linspace(0, 1, 50)
per_city = model.predict_dist(
    pd.DataFrame(
        {
            "city": pd.Categorical(cities, categories=X["city"].cat.categories),
            "size": np.full(8, 0.5),
        }
    )
)
fig, (ax, ax_std) = plt.subplots(1, 2, figsize=(11, 4))
ax.bar(cities, [city_effect[c] for c in cities], color="0.8", label="true effect")
ax.plot(cities, per_city.mean(), "o", color="C0", label="predicted mean")
ax.set_xlabel("city")
ax.set_ylabel("mean of y")
ax.legend(fontsize=8)

MISSING_AT = -0.2  # where rows with a missing size are drawn, left of the size axis
for c, color, offset in [("A", "C0", -0.02), ("E", "C1", 0.02)]:
    rows = pd.DataFrame(
        {"city": pd.Categorical([c] * 50, categories=X["city"].cat.categories), "size": grid}
    )
    ax_std.plot(grid, model.predict_dist(rows).std(), color=color, label=f"city {c}")
    missing = pd.DataFrame(
        {"city": pd.Categorical([c], categories=X["city"].cat.categories), "size": [np.nan]}
    )
    ax_std.plot(
        MISSING_AT + offset,
        model.predict_dist(missing).std()[0],
        "s",
        color=color,
        ms=8,
        label=f"city {c}, size missing",
    )
ax_std.plot(grid, 0.2 + 1.0 * grid, "k--", lw=1, label="true std")
ax_std.hlines(0.7, MISSING_AT - 0.07, MISSING_AT + 0.07, colors="k", linestyles=":", lw=1.5)
ax_std.axvline(-0.1, color="0.6", lw=0.8)  # the break between missing and observed sizes
ax_std.set_xticks(
    [MISSING_AT, 0, 0.2, 0.4, 0.6, 0.8, 1.0], ["missing", "0", "0.2", "0.4", "0.6", "0.8", "1"]
)
ax_std.set_xlabel("size")
ax_std.set_ylabel("predicted std")
ax_std.legend(fontsize=8)
fig.tight_layout()
