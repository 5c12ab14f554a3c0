"""
Class probabilities and a reliability diagram
=============================================

`natgrad.NGBoostClassifier` predicts a Bernoulli (two classes) or categorical
distribution per row; ``predict_proba`` returns its probabilities. A probability is only
useful if it means what it says: among the rows given 0.8, about 80 % should be of that
class. The reliability diagram (`natgrad.metrics.reliability_curve`) checks exactly that,
bin by bin.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

import natgrad
from natgrad import metrics

# Two overlapping classes with 10 % of the labels flipped: many rows are genuinely uncertain.
X, y = make_classification(
    n_samples=3000, n_features=8, n_informative=4, class_sep=0.7, flip_y=0.1, random_state=0
)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=0)

model = natgrad.NGBoostClassifier(n_estimators=300, learning_rate=0.05, random_state=0)
model.fit(X_train, y_train)
proba = model.predict_proba(X_test)
scores = metrics.evaluate_classification(proba, y_test)  # y_test holds the class indices 0, 1
print(metrics.format_table(scores, descriptions=metrics.CLASSIFICATION_DESCRIPTIONS))

# %%
# The diagram: mean predicted probability against the observed frequency, per bin of
# predicted probability. A calibrated model lies on the diagonal, up to the sampling noise
# of each bin; the bars below show how many test rows fall into each bin.

predicted, observed, counts = metrics.reliability_curve(proba, y_test, n_bins=10)
fig, (ax, ax_count) = plt.subplots(
    2, 1, figsize=(5.5, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
)
ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
ax.plot(predicted, observed, "o-", color="C0", label="NGBoostClassifier")
ax.set_ylabel("observed frequency of class 1")
ax.set_title("reliability diagram on 1500 test rows")
ax.legend(loc="upper left", fontsize=8)
edges = np.linspace(0, 1, len(counts) + 1)
ax_count.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color="C0", alpha=0.5)
ax_count.set_xlabel("predicted probability of class 1")
ax_count.set_ylabel("rows")
fig.tight_layout()
