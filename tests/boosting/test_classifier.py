"""NGBoostClassifier: label encoding, probabilities, accuracy and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split

from natgrad import NGBoostClassifier
from natgrad.distributions import Bernoulli, Categorical


def test_binary_string_labels():
    X, y = load_breast_cancer(return_X_y=True)
    labels = np.where(y == 1, "benign", "malignant")
    Xtr, Xte, ytr, yte = train_test_split(X, labels, test_size=0.3, random_state=0)
    model = NGBoostClassifier(n_estimators=100, learning_rate=0.1).fit(Xtr, ytr)
    assert list(model.classes_) == ["benign", "malignant"]
    assert isinstance(model.predict_dist(Xte), Bernoulli)
    proba = model.predict_proba(Xte)
    assert proba.shape == (len(yte), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert model.score(Xte, yte) > 0.93
    prior = np.mean(ytr == "malignant")
    assert (
        log_loss(yte, proba, labels=model.classes_)
        < log_loss(yte, np.tile([1 - prior, prior], (len(yte), 1)), labels=model.classes_) - 0.4
    )


@pytest.mark.parametrize("rule", ["fisher", "ngboost"])
def test_multiclass(rule):
    X, y = load_iris(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y + 10, test_size=0.3, random_state=0, stratify=y)
    model = NGBoostClassifier(
        n_estimators=100, learning_rate=0.1, leaf_rule=rule, min_samples_leaf=5
    ).fit(Xtr, ytr)
    dist = model.predict_dist(Xte)
    assert isinstance(dist, Categorical) and dist.config == {"n_classes": 3}
    assert model.predict_proba(Xte).shape == (len(yte), 3)
    assert set(model.predict(Xte)) <= {10, 11, 12}
    assert model.score(Xte, yte) > 0.85
    assert model.feature_importances_.shape == (2, 4)


def test_categorical_for_two_classes():
    X, y = load_breast_cancer(return_X_y=True)
    a = NGBoostClassifier(n_estimators=20, learning_rate=0.1).fit(X, y)
    b = NGBoostClassifier("categorical", n_estimators=20, learning_rate=0.1).fit(X, y)
    # Same model in the same coordinates: the log-odds of class 1 against class 0.
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-10)


def test_single_class_is_rejected():
    with pytest.raises(ValueError, match="at least 2 classes"):
        NGBoostClassifier(n_estimators=2).fit(np.zeros((10, 2)), np.ones(10))


def test_unseen_validation_labels_are_rejected():
    X, y = load_iris(return_X_y=True)
    mask = y < 2
    with pytest.raises(ValueError, match="unseen"):
        NGBoostClassifier(n_estimators=2).fit(X[mask], y[mask], eval_set=(X, y))


def test_bernoulli_needs_two_classes():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="exactly 2 classes"):
        NGBoostClassifier("bernoulli", n_estimators=2).fit(X, y)
