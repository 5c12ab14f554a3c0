"""NGBoost's base learners: `default_tree_learner` and `default_linear_learner`.

As ``Base``, `default_tree_learner` (a depth-3 regression tree) maps onto natgrad's native
histogram tree; `default_linear_learner` (least squares) is cloned per parameter and stage.
"""

from __future__ import annotations

from sklearn.linear_model import Ridge
from sklearn.tree import DecisionTreeRegressor

__all__ = ["default_linear_learner", "default_tree_learner"]

#: NGBoost's default base learner: a depth-3 least-squares tree.
default_tree_learner = DecisionTreeRegressor(
    criterion="friedman_mse", min_samples_leaf=1, max_depth=3, splitter="best"
)

#: NGBoost's linear base learner: unregularised least squares.
default_linear_learner = Ridge(alpha=0.0)
