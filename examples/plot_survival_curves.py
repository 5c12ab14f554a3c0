"""
Survival curves per individual, with censoring
==============================================

In survival data some events have not happened by the end of the study: those rows are
*censored*, known only to survive past their last observed time. Dropping them biases the
model towards short times; treating their times as events does too.
`natgrad.NGBoostSurvival` uses each row for what it says, with the censored log score:
the density at the time of an observed event, the survival probability at the time of a
censoring.

The data here are simulated, so the true survival curves are known: the log of the event
time is Normal with a mean that depends on a risk score, and about a third of the rows are
censored at random times.
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

import natgrad
from natgrad import metrics

rng = np.random.default_rng(0)
n = 2000
X = rng.normal(size=(n, 3))
log_mean = 2.0 - 0.8 * X[:, 0]  # feature 0 is the risk: higher, shorter times
event_time = np.exp(log_mean + 0.5 * rng.normal(size=n))
censor_time = rng.exponential(scale=20.0, size=n)
time = np.minimum(event_time, censor_time)
event = (event_time <= censor_time).astype(float)
print(f"censored rows: {1 - event.mean():.0%}")

train, test = slice(0, 1500), slice(1500, None)
# A fifth of the training rows is held out to choose the number of stages.
model = natgrad.NGBoostSurvival(
    n_estimators=300,
    learning_rate=0.05,
    min_samples_leaf=20,
    validation_fraction=0.2,
    n_iter_no_change=30,
    random_state=0,
)
model.fit(X[train], time[train], event[train])
dist = model.predict_dist(X[test])
print(f"stages chosen on the validation rows: {model.best_iteration_}")
print(
    metrics.format_table(
        metrics.evaluate_survival(dist, time[test], event[test]),
        descriptions=metrics.SURVIVAL_DESCRIPTIONS,
    )
)

# %%
# Left: the predicted survival curves S(t) = P(T > t) of three individuals with low,
# middle and high risk, against their true curves (dashed). Right: for the test rows split
# by predicted median into halves, the mean predicted curve of each half and the
# Kaplan–Meier estimate of the same rows (`natgrad.metrics.kaplan_meier`), which accounts
# for censoring without a model.

t = np.linspace(0.01, 40, 300)
people = np.array([[-1.0, 0, 0], [0.0, 0, 0], [1.0, 0, 0]])
curves = model.predict_dist(people)
fig, (ax, ax_km) = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
for i, (risk, color) in enumerate(zip(people[:, 0], ["C2", "C0", "C3"], strict=True)):
    # curves[i] is a batch of one; its scipy equivalent evaluates S(t) on the whole grid
    ax.plot(t, curves[i].to_scipy().sf(t), color=color, lw=2, label=f"risk feature = {risk:+.1f}")
    truth = stats.lognorm(s=0.5, scale=np.exp(2.0 - 0.8 * risk))
    ax.plot(t, truth.sf(t), color=color, ls="--", lw=1)
ax.set_xlabel("time")
ax.set_ylabel("S(t) = P(T > t)")
ax.set_title("predicted (solid) and true (dashed) curves")
ax.legend(fontsize=8)

median = dist.ppf(np.full(len(dist), 0.5))
high_risk = median < np.median(median)
for mask, label, color in [
    (~high_risk, "lower risk half", "C2"),
    (high_risk, "higher risk half", "C3"),
]:
    times, surv = metrics.kaplan_meier(time[test][mask], event[test][mask])
    ax_km.step(times, surv, where="post", color=color, lw=1, label=f"{label}: Kaplan–Meier")
    mean_curve = np.mean([dist[i].to_scipy().sf(t) for i in np.flatnonzero(mask)], axis=0)
    ax_km.plot(t, mean_curve, color=color, lw=2, ls="--", label=f"{label}: model")
ax_km.set_xlabel("time")
ax_km.set_title("test rows: model against Kaplan–Meier")
ax_km.set_xlim(0, 40)
ax_km.legend(fontsize=8)
fig.tight_layout()
