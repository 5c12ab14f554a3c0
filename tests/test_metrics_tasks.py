"""Classification and survival metrics against brute-force and hand-computed references."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, log_loss

from natgrad.metrics import (
    concordance_index,
    evaluate_classification,
    kaplan_meier,
    reliability_curve,
)


def brute_force_c(time, event, predicted):
    concordant = comparable = 0.0
    for i in range(len(time)):
        if not event[i]:
            continue
        for j in range(len(time)):
            if time[i] < time[j]:
                comparable += 1
                if predicted[i] < predicted[j]:
                    concordant += 1
                elif predicted[i] == predicted[j]:
                    concordant += 0.5
    return concordant / comparable


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_concordance_equals_brute_force_with_ties(seed):
    rng = np.random.default_rng(seed)
    time = rng.integers(1, 30, size=200).astype(float)  # many tied times
    event = (rng.random(200) < 0.6).astype(float)
    predicted = np.round(time + rng.normal(0, 8, size=200))  # tied predictions too
    assert concordance_index(time, event, predicted) == pytest.approx(
        brute_force_c(time, event, predicted), abs=1e-12
    )


def test_concordance_extremes():
    time = np.arange(1.0, 11.0)
    event = np.ones(10)
    assert concordance_index(time, event, time) == 1.0
    assert concordance_index(time, event, -time) == 0.0
    assert concordance_index(time, event, np.ones(10)) == 0.5


def test_kaplan_meier_by_hand():
    # Times 1, 2+, 3, 3, 4+, 5: at t=1, 6 at risk, 1 event; at t=3, 4 at risk, 2 events;
    # at t=5, 1 at risk, 1 event.
    time = np.array([1.0, 2.0, 3.0, 3.0, 4.0, 5.0])
    event = np.array([1, 0, 1, 1, 0, 1])
    times, surv = kaplan_meier(time, event)
    expected = {1.0: 5 / 6, 3.0: 5 / 6 * 2 / 4, 5.0: 0.0}
    for t, s in expected.items():
        assert surv[np.searchsorted(times, t)] == pytest.approx(s)


def test_kaplan_meier_without_censoring_is_the_empirical_survival():
    rng = np.random.default_rng(3)
    time = rng.exponential(size=500)
    times, surv = kaplan_meier(time, np.ones(500))
    empirical = np.array([(time > t).mean() for t in times])
    np.testing.assert_allclose(surv, empirical, atol=1e-12)


def test_classification_metrics_against_sklearn():
    rng = np.random.default_rng(4)
    proba = rng.dirichlet(np.ones(3), size=300)
    y = np.array([rng.choice(3, p=p) for p in proba])
    m = evaluate_classification(proba, y)
    assert m["log_loss"] == pytest.approx(log_loss(y, proba, labels=[0, 1, 2]))
    assert m["accuracy"] == pytest.approx(accuracy_score(y, proba.argmax(axis=1)))
    onehot = np.eye(3)[y]
    assert m["brier"] == pytest.approx(np.mean(np.sum((proba - onehot) ** 2, axis=1)))
    # Labels drawn from the predicted probabilities: calibrated up to sampling noise.
    assert m["calibration_error"] < 0.08
    miscalibrated = evaluate_classification(proba**4 / (proba**4).sum(1, keepdims=True), y)
    assert miscalibrated["calibration_error"] > m["calibration_error"] + 0.05


def test_reliability_curve_of_a_calibrated_binary_model():
    rng = np.random.default_rng(5)
    p = rng.random(20000)
    y = (rng.random(20000) < p).astype(int)
    predicted, observed, counts = reliability_curve(np.column_stack([1 - p, p]), y)
    used = counts > 0
    # Each bin's observed frequency within 5 standard errors of its mean prediction.
    se = np.sqrt(predicted[used] * (1 - predicted[used]) / counts[used])
    assert np.all(np.abs(observed[used] - predicted[used]) < 5 * se + 1e-9)
