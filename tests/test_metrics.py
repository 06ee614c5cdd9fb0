import numpy as np
import pytest

from skser.metrics import (
    class_accuracy,
    normalized_confusion_matrix,
    uar_scorer,
    unweighted_average_recall,
)


def test_uar_hand_computed():
    y_true = ["anger"] * 4 + ["sadness"] * 2
    y_pred = ["anger", "anger", "anger", "sadness", "sadness", "anger"]
    # recalls: anger 3/4, sadness 1/2 -> UAR 0.625, while accuracy is 4/6
    assert unweighted_average_recall(y_true, y_pred) == pytest.approx(0.625)
    assert class_accuracy(y_true, y_pred) == {"anger": 0.75, "sadness": 0.5}


def test_uar_differs_from_accuracy_on_imbalance():
    y_true = ["a"] * 9 + ["b"]
    y_pred = ["a"] * 10
    assert unweighted_average_recall(y_true, y_pred) == pytest.approx(0.5)
    assert np.mean(np.array(y_true) == np.array(y_pred)) == pytest.approx(0.9)


def test_uar_rejects_labels_absent_from_truth():
    with pytest.raises(ValueError, match="do not occur"):
        unweighted_average_recall(["a", "b"], ["a", "b"], labels=["a", "b", "c"])


def test_normalized_confusion_rows_sum_to_one_and_absent_rows_zero():
    cm = normalized_confusion_matrix(["a", "a", "b"], ["a", "b", "b"], labels=["a", "b", "c"])
    np.testing.assert_allclose(cm, [[0.5, 0.5, 0], [0, 1, 0], [0, 0, 0]])
    assert np.isfinite(cm).all()


def test_uar_scorer_in_cross_validate():
    from sklearn.dummy import DummyClassifier
    from sklearn.model_selection import cross_val_score

    X = np.zeros((20, 1))
    y = np.array(["a"] * 15 + ["b"] * 5)
    scores = cross_val_score(DummyClassifier(), X, y, cv=5, scoring=uar_scorer())
    np.testing.assert_allclose(scores, 0.5)  # majority class: recall 1 and 0
