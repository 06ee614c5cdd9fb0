"""LateFusionClassifier: weighted probability mean, speaker ids routed to the members that want them."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import sklearn
import sklearn.svm
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skser
from skser.adaptation import SpeakerAdaptiveClassifier
from skser.fusion import LateFusionClassifier

RNG = np.random.default_rng(0)
Y = np.tile(["anger", "neutral", "sadness"], 30)
GROUPS = np.repeat([f"s{i}" for i in range(6)], 15)
X = RNG.normal(size=(90, 5)) + 1.5 * (Y == "anger")[:, None] - 1.5 * (Y == "sadness")[:, None]
X += 3.0 * (np.arange(6) - 2.5)[np.repeat(np.arange(6), 15)][:, None]  # speaker offsets


class GroupRecorder(ClassifierMixin, BaseEstimator):
    """Logistic regression that records the groups each call received."""

    __metadata_request__fit = {"groups": True}
    __metadata_request__predict_proba = {"groups": True}

    def fit(self, X, y, groups=None):
        self.fit_groups_ = groups
        self.model_ = LogisticRegression().fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X, groups=None):
        self.predict_groups_ = groups
        return self.model_.predict_proba(X)

    def predict(self, X, groups=None):
        return self.classes_[self.predict_proba(X, groups).argmax(1)]


def test_weighted_mean_of_member_probabilities():
    fused = LateFusionClassifier([("lr", LogisticRegression()), ("nb", GaussianNB())],
                                 weights=[3, 1]).fit(X, Y)
    lr, nb = LogisticRegression().fit(X, Y), GaussianNB().fit(X, Y)
    expected = 0.75 * lr.predict_proba(X) + 0.25 * nb.predict_proba(X)
    np.testing.assert_allclose(fused.predict_proba(X), expected)
    np.testing.assert_array_equal(fused.predict(X), lr.classes_[expected.argmax(1)])
    assert list(fused.named_estimators_) == ["lr", "nb"]
    # the members are fitted clones; the given estimators stay unfitted
    assert not hasattr(fused.estimators[0][1], "coef_")


def test_groups_reach_only_the_members_that_request_them():
    with sklearn.config_context(enable_metadata_routing=True):
        fused = LateFusionClassifier([("rec", GroupRecorder()), ("nb", GaussianNB())])
        fused.fit(X, Y, groups=GROUPS)
        recorder = fused.named_estimators_["rec"]
        np.testing.assert_array_equal(recorder.fit_groups_, GROUPS)
        fused.predict(X[:4], groups=GROUPS[:4])  # lab: the test speakers' ids
        np.testing.assert_array_equal(recorder.predict_groups_, GROUPS[:4])
        fused.predict_proba(X[:1])  # deployment: one clip, no id
        assert recorder.predict_groups_ is None


def test_speaker_adaptation_inside_keeps_lab_and_deployment_protocols():
    fused = LateFusionClassifier([
        ("adapted", SpeakerAdaptiveClassifier(LogisticRegression(), min_clips=2)),
        ("plain", LogisticRegression()),
    ])
    reports = skser.evaluate(fused, X, Y, groups=GROUPS, cv=3, adaptation=["speaker", "none"])
    lab, deployment = reports["speaker"], reports["none"]
    assert lab.speaker_independent and deployment.speaker_independent
    # per-speaker offsets dominate this data: the test speakers' statistics must help
    assert lab.uar > deployment.uar + 0.05
    assert lab.uar > 0.8


def test_clone_and_pickle():
    fused = LateFusionClassifier([("lr", LogisticRegression()), ("nb", GaussianNB())],
                                 weights=[0.6, 0.4])
    assert clone(fused).get_params()["weights"] == [0.6, 0.4]
    assert "lr__C" in fused.get_params(deep=True)
    fused.fit(X, Y)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(fused)).predict_proba(X),
                                  fused.predict_proba(X))


@pytest.mark.parametrize("estimators, weights, match", [
    ([], None, "non-empty list"),
    ([("a", LogisticRegression()), ("a", GaussianNB())], None, "distinct names"),
    ([("svc", sklearn.svm.LinearSVC())], None, "no predict_proba"),
    ([("lr", LogisticRegression()), ("nb", GaussianNB())], [1.0], "one per estimator"),
    ([("lr", LogisticRegression()), ("nb", GaussianNB())], [1.0, -1.0], "non-negative"),
    ([("lr", LogisticRegression()), ("nb", GaussianNB())], [0.0, 0.0], "positive sum"),
])
def test_bad_members_or_weights_are_named(estimators, weights, match):
    with pytest.raises(ValueError, match=match):
        LateFusionClassifier(estimators, weights=weights).fit(X, Y)


def test_metadata_without_routing_says_how_to_enable_it():
    fused = LateFusionClassifier([("rec", GroupRecorder())])
    with pytest.raises(ValueError, match="enable_metadata_routing"):
        fused.fit(X, Y, groups=GROUPS)


def test_enrollment_reaches_the_member_with_a_speaker_step():
    fused = LateFusionClassifier([
        ("adapted", make_pipeline(StandardScaler(),
                                  SpeakerAdaptiveClassifier(LogisticRegression(), min_clips=2))),
        ("plain", LogisticRegression()),
    ])
    reports = skser.evaluate(fused, X, Y, groups=GROUPS, cv=3, adaptation=["none", "enroll:5"])
    # five unlabeled clips of each test speaker give its offset: far better than none
    assert reports["enroll:5"].uar > reports["none"].uar + 0.15
    fitted = clone(fused).fit(X, Y)
    skser.enroll_speakers(fitted, X[:5], ["new"] * 5)
    assert fitted.named_estimators_["adapted"][-1].enrolled_speakers_.tolist() == ["new"]
    plain_only = LateFusionClassifier([("plain", LogisticRegression())]).fit(X, Y)
    with pytest.raises(ValueError, match="cannot be enrolled"):
        skser.enroll_speakers(plain_only, X[:5], ["new"] * 5)
