import json
import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import GroupKFold, KFold, LeaveOneGroupOut, StratifiedGroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skser.model_selection import SpeakerLeakageWarning, default_cv, evaluate


class LookupClassifier(ClassifierMixin, BaseEstimator):
    """Predicts the label stored in X[:, 1] (0 -> 'a', 1 -> 'b'): fully controlled outputs."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.where(np.asarray(X)[:, 1] > 0.5, "b", "a")

    def predict_proba(self, X):
        p_b = np.asarray(X)[:, 1].astype(float)
        return np.column_stack([1 - p_b, p_b])


def _toy():
    # 3 speakers x 4 clips; column 1 is what the classifier will predict.
    y = np.array(["a", "a", "b", "b"] * 3, dtype=object)
    groups = np.repeat(["s1", "s2", "s3"], 4)
    predicted_b = np.array([0, 0, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1], dtype=float)
    X = np.column_stack([np.arange(12), predicted_b])
    return X, y, groups


def test_evaluate_numbers_match_hand_computation():
    X, y, groups = _toy()
    report = evaluate(LookupClassifier(), X, y, groups=groups)
    # Default for 3 speakers is leave-one-speaker-out.
    assert report.protocol.startswith("LeaveOneGroupOut")
    assert report.speaker_independent
    # Per speaker UAR: s1 (1+1)/2 = 1.0; s2 recall a 1/2, b 1 -> 0.75; s3 a 1, b 1/2 -> 0.75
    assert [f["uar"] for f in report.folds] == pytest.approx([1.0, 0.75, 0.75])
    assert report.uar == pytest.approx(np.mean([1.0, 0.75, 0.75]))
    assert report.uar_std == pytest.approx(np.std([1.0, 0.75, 0.75]))
    # Pooled: a recall 5/6, b recall 5/6.
    assert report.uar_pooled == pytest.approx(5 / 6)
    assert report.accuracy == pytest.approx(np.mean([1.0, 0.75, 0.75]))
    assert report.class_recall == pytest.approx({"a": 5 / 6, "b": 5 / 6})
    np.testing.assert_allclose(report.confusion, [[5 / 6, 1 / 6], [1 / 6, 5 / 6]])
    assert report.roc_auc == pytest.approx(5 / 6)  # ties-free hard scores: (TPR + TNR) / 2
    assert list(report.y_pred) == ["b" if v else "a" for v in X[:, 1]]
    assert report.folds[1]["test_speakers"] == ["s2"]


def test_report_serializes_and_renders():
    X, y, groups = _toy()
    report = evaluate(LookupClassifier(), X, y, groups=groups)
    data = report.to_dict()
    json.dumps(data)
    assert data["evaluation"] == "speaker-independent"
    assert "UAR (mean ± std over folds)" in report.to_markdown()
    assert "SPEAKER-INDEPENDENT" in str(report)


def test_plot_confusion_matrix(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    X, y, groups = _toy()
    ax = evaluate(LookupClassifier(), X, y, groups=groups).plot_confusion_matrix()
    ax.figure.savefig(tmp_path / "cm.png")
    assert (tmp_path / "cm.png").stat().st_size > 0


def test_no_groups_is_labelled_speaker_dependent():
    X, y, _ = _toy()
    with pytest.warns(SpeakerLeakageWarning, match="SPEAKER-DEPENDENT"):
        report = evaluate(LookupClassifier(), X, y, cv=2)
    assert not report.speaker_independent
    assert report.evaluation == "speaker-dependent"


def test_leaky_cv_with_groups_warns():
    X, y, groups = _toy()
    with pytest.warns(SpeakerLeakageWarning, match="both train and test"):
        report = evaluate(LookupClassifier(), X, y, groups=groups, cv=KFold(3, shuffle=True, random_state=0))
    assert not report.speaker_independent


def test_group_cv_does_not_warn():
    X, y, groups = _toy()
    with warnings.catch_warnings():
        warnings.simplefilter("error", SpeakerLeakageWarning)
        report = evaluate(LookupClassifier(), X, y, groups=groups, cv=GroupKFold(3))
    assert report.speaker_independent


def test_default_cv_choice():
    assert isinstance(default_cv(np.arange(12)), LeaveOneGroupOut)
    assert isinstance(default_cv(np.arange(13)), StratifiedGroupKFold)


def test_single_speaker_is_a_clear_error():
    X, y, _ = _toy()
    with pytest.raises(ValueError, match="at least 2 speakers"):
        evaluate(LookupClassifier(), X, y, groups=["only"] * len(y))


def test_length_mismatch_is_a_clear_error():
    X, y, groups = _toy()
    with pytest.raises(ValueError, match="groups has"):
        evaluate(LookupClassifier(), X, y, groups=groups[:-1])


def test_evaluate_does_not_fit_the_given_estimator_and_runs_parallel():
    rng = np.random.default_rng(0)
    y = np.repeat(["a", "b"], 30)
    X = rng.normal(size=(60, 3)) + (y == "b")[:, None] * 2.0
    groups = np.tile(np.arange(6), 10)
    pipe = make_pipeline(StandardScaler(), SVC(random_state=0))
    serial = evaluate(pipe, X, y, groups=groups)
    parallel = evaluate(pipe, X, y, groups=groups, n_jobs=2)
    assert not hasattr(pipe[-1], "classes_")
    assert serial.uar == pytest.approx(parallel.uar)
    assert serial.uar > 0.8


def test_integer_labels_work():
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1], 20)
    X = rng.normal(size=(40, 2)) + y[:, None] * 3.0
    groups = np.tile(np.arange(4), 10)
    report = evaluate(SVC(), X, y, groups=groups)
    assert report.labels == [0, 1]
    assert report.uar > 0.9


def test_hold_out_split_pools_only_the_tested_clips():
    # A single train/test split (e.g. a paper's random 80/20 split) does not cover every
    # clip: pooled recall, confusion and AUC must come from the tested clips only.
    X, y, groups = _toy()
    test = np.array([0, 3, 4, 7])
    train = np.setdiff1d(np.arange(len(y)), test)
    with pytest.warns(SpeakerLeakageWarning):  # s1, s2 are in train and test
        report = evaluate(LookupClassifier(), X, y, groups=groups, cv=[(train, test)])
    expected = np.mean(y[test] == LookupClassifier().fit(X, y).predict(X[test]))
    assert report.n_clips == len(test)
    assert report.accuracy == pytest.approx(expected)
    assert len(report.y_pred) == len(test)
    assert np.allclose(report.confusion.sum(axis=1), 1.0)
