"""SER metrics: unweighted average recall (UAR) first, then accuracy and per-class recall."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import confusion_matrix, recall_score

__all__ = [
    "unweighted_average_recall",
    "class_accuracy",
    "normalized_confusion_matrix",
    "uar_scorer",
]


def unweighted_average_recall(y_true, y_pred, *, labels: Sequence | None = None) -> float:
    """Mean of per-class recalls (UAR), the SER standard; chance level is ``1 / n_classes``.

    Unlike accuracy (weighted average recall), UAR is not inflated by frequent
    classes. Equal to scikit-learn's ``balanced_accuracy_score`` without adjustment.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    labels : sequence, optional
        Classes to average over; by default those in ``y_true``. A class in
        ``labels`` never seen in ``y_true`` would have an undefined recall and
        raises a ValueError.

    Returns
    -------
    float

    Examples
    --------
    >>> unweighted_average_recall(["a", "a", "a", "b"], ["a", "a", "b", "b"])
    0.8333333333333333
    """
    y_true = np.asarray(y_true)
    if labels is None:
        labels = np.unique(y_true)
    else:
        missing = sorted(set(labels) - set(y_true.tolist()))
        if missing:
            raise ValueError(f"UAR undefined: classes {missing} do not occur in y_true.")
    return float(recall_score(y_true, y_pred, labels=labels, average="macro", zero_division=0))


def class_accuracy(y_true, y_pred, *, labels: Sequence | None = None) -> dict:
    """Recall of each class ("class accuracy" in the CNN-RNN paper's Table II).

    Returns
    -------
    dict
        ``{label: recall}`` for each class of ``labels`` (default: classes in ``y_true``).

    Examples
    --------
    >>> class_accuracy(["a", "a", "b", "b"], ["a", "b", "b", "b"])
    {'a': 0.5, 'b': 1.0}
    """
    y_true = np.asarray(y_true)
    labels = np.unique(y_true) if labels is None else np.asarray(labels)
    recalls = recall_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    return {_plain(label): float(r) for label, r in zip(labels, recalls, strict=True)}


def normalized_confusion_matrix(y_true, y_pred, *, labels: Sequence | None = None) -> np.ndarray:
    """Confusion matrix with each row (true class) divided by its count, so rows sum to 1.

    Rows of classes absent from ``y_true`` are zero (not NaN).
    """
    labels = (
        np.unique(np.concatenate([np.asarray(y_true), np.asarray(y_pred)]))
        if labels is None
        else labels
    )
    counts = confusion_matrix(y_true, y_pred, labels=labels).astype(float)
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


def _uar_score(y_true, y_pred) -> float:
    return unweighted_average_recall(y_true, y_pred)


def uar_scorer():
    """A scikit-learn scorer for UAR, for ``cross_validate(scoring=...)`` or ``GridSearchCV``."""
    from sklearn.metrics import make_scorer

    return make_scorer(_uar_score)


def _plain(value):
    """NumPy scalars to Python ones, so reports serialize to JSON."""
    return value.item() if isinstance(value, np.generic) else value
