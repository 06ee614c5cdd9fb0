"""Adaptation protocols, safe speaker adaptation, cross-corpus evaluation, and
agreement between scikit-learn's tools and ``skser.evaluate``."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    cross_val_predict,
    cross_val_score,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skser.adaptation import SpeakerAdaptiveClassifier
from skser.datasets import make_synthetic_corpus, unbalance_speakers
from skser.features import SpeakerStandardScaler, speaker_scorer
from skser.model_selection import (
    LeaveOneCorpusOut,
    enroll_speakers,
    evaluate,
    evaluate_cross_corpus,
    parse_adaptation,
)


def speaker_features(*, n_speakers=12, per_speaker=24, n_classes=4, offset=2.0, seed=0,
                     one_emotion=False):  # fmt: skip
    """Features = emotion mean + speaker offset + noise.

    ``one_emotion``: every speaker shows a single emotion (natural speech).
    """
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(n_speakers), per_speaker)
    if one_emotion:  # consecutive speakers share an emotion, so GroupKFold folds mix them
        y = (groups // (n_speakers // n_classes)) % n_classes
    else:
        y = np.tile(np.arange(n_classes), n_speakers * per_speaker // n_classes)
    means = rng.normal(size=(n_classes, 16))
    offsets = offset * rng.normal(size=(n_speakers, 16))
    X = rng.normal(size=(len(y), 16)) + means[y] + offsets[groups]
    return X, y, groups


SEEN_COLUMNS: list = []


class ColumnSpy(LogisticRegression):
    """Records the column names its fit receives (module level: it must pickle)."""

    def fit(self, X, y):
        SEEN_COLUMNS.append(list(X.columns))
        return super().fit(X, y)


def adaptive(**kwargs):
    return SpeakerAdaptiveClassifier(LogisticRegression(max_iter=500), n_components=8, **kwargs)


def old_design():
    return make_pipeline(SpeakerStandardScaler(), LogisticRegression(max_iter=500))


CV = GroupKFold(4)


# ----------------------------------------------------------------- protocols


def test_parse_adaptation():
    assert parse_adaptation("speaker") == ("speaker", None)
    assert parse_adaptation("enroll:3") == ("enroll", 3)
    for bad in ("enroll:0", "enroll:x", "speakers", None, "enroll:٣"):
        with pytest.raises(ValueError, match="adaptation must be"):
            parse_adaptation(bad)


def test_report_states_the_protocol():
    X, y, g = speaker_features()
    reports = evaluate(old_design(), X, y, groups=g, cv=CV, adaptation=["speaker", "none"])
    assert list(reports) == ["speaker", "none"]
    for name, report in reports.items():
        assert report.adaptation == name
        assert f"adaptation {name}" in str(report)
        assert f"`{name}`" in report.to_markdown()
        assert report.to_dict()["adaptation"] == name
    # Per-speaker statistics of the test speakers help on balanced speakers...
    assert reports["speaker"].uar > reports["none"].uar + 0.2


def test_one_fit_for_several_protocols_gives_the_single_protocol_numbers():
    X, y, g = speaker_features()
    both = evaluate(old_design(), X, y, groups=g, cv=CV, adaptation=["speaker", "none"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alone = evaluate(old_design(), X, y, groups=g, cv=CV, adaptation="none")
    np.testing.assert_array_equal(both["none"].y_pred, alone.y_pred)
    with pytest.raises(ValueError, match="distinct"):
        evaluate(old_design(), X, y, groups=g, cv=CV, adaptation=["none", "none"])


def test_protocols_that_cannot_differ_predict_once():
    # Without a speaker step, "speaker" and "none" hand the model the same clips and
    # no speaker ids: one prediction serves both (the fused recipe predicts slowly).
    X, y, g = speaker_features()
    calls = []

    class Spy(LogisticRegression):  # a model without any speaker step
        def fit(self, X, y):
            calls.append(self)
            self.n_predict_ = 0
            return super().fit(X, y)

        def predict(self, X):
            self.n_predict_ += 1
            return super().predict(X)

    reports = evaluate(Spy(max_iter=500), X, y, groups=g, cv=CV, adaptation=["speaker", "none"])
    assert [model.n_predict_ for model in calls] == [1] * CV.get_n_splits()
    np.testing.assert_array_equal(reports["speaker"].y_pred, reports["none"].y_pred)
    # With a speaker step the protocols differ, and each is predicted.
    both = evaluate(old_design(), X, y, groups=g, cv=CV, adaptation=["speaker", "none"])
    assert (both["speaker"].y_pred != both["none"].y_pred).any()


TRANSFORMED: list = []


class TransformSpy(StandardScaler):
    """Records how many rows each ``transform`` gets (module level: clone keeps the class)."""

    def transform(self, X, copy=None):
        TRANSFORMED.append(len(X))
        return super().transform(X, copy=copy)


def test_labels_and_probabilities_share_one_pass_through_the_transforms():
    # predict and predict_proba of a Pipeline would each run every transform (for
    # `recommended`, every audio feature); evaluate runs them once per protocol,
    # with exactly the results of the two calls, speaker ids routed or not.
    X, y, g = speaker_features()
    pipe = make_pipeline(SpeakerStandardScaler(), TransformSpy(), LogisticRegression(max_iter=500))
    TRANSFORMED.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the speaker step warns under "none"
        reports = evaluate(pipe, X, y, groups=g, cv=CV, adaptation=["speaker", "none"])
    folds = list(CV.split(X, y, g))
    # Per fold: the training clips once (fit), the test clips once per protocol.
    assert TRANSFORMED == [n for train, test in folds
                           for n in (len(train), len(test), len(test))]  # fmt: skip
    for train, test in folds:
        with sklearn.config_context(enable_metadata_routing=True):
            fitted = clone(pipe).fit(X[train], y[train], groups=g[train])
            for mode, params in (("speaker", {"groups": g[test]}), ("none", {})):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    labels = fitted.predict(X[test], **params)
                    proba = fitted.predict_proba(X[test], **params)
                np.testing.assert_array_equal(reports[mode].y_pred[test], labels)
                np.testing.assert_allclose(reports[mode].y_proba[test], proba)


def test_none_protocol_passes_no_speaker_ids_to_prediction():
    X, y, g = speaker_features()
    with pytest.warns(UserWarning, match="adaptation='none'"):
        evaluate(old_design(), X, y, groups=g, cv=CV, adaptation="none")


def test_enrollment_protocol_scores_only_the_other_clips():
    X, y, g = speaker_features(per_speaker=20)
    report = evaluate(old_design(), X, y, groups=g, cv=CV, adaptation="enroll:4")
    assert report.n_clips == len(y) - 4 * len(np.unique(g))
    assert report.adaptation == "enroll:4"
    assert "4 unlabeled clips per test speaker" in str(report)
    with pytest.raises(ValueError, match="has only 20 clips"):
        evaluate(old_design(), X, y, groups=g, cv=CV, adaptation="enroll:20")
    with pytest.raises(ValueError, match="needs the speaker ids"):
        evaluate(old_design(), X, y, cv=3, adaptation="enroll:2")


def test_enroll_speakers_then_predict_one_clip_at_a_time():
    X, y, g = speaker_features()
    train, new = g < 9, g >= 9
    for model in (old_design(), adaptive(diversity_range=(0.3, 0.6))):
        with sklearn.config_context(enable_metadata_routing=True):
            model.fit(X[train], y[train], groups=g[train])
            enroll_speakers(model, X[new][:30], g[new][:30])
            rest = np.flatnonzero(new)[30:]
            batch = model.predict(X[rest], groups=g[rest])
            single = [model.predict(X[[i]], groups=g[[i]])[0] for i in rest[:10]]
        np.testing.assert_array_equal(batch[:10], single)
    with pytest.raises(ValueError, match="no speaker-normalization step"):
        enroll_speakers(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y), X, g)


# ----------------------------------------------------------------- safe adaptation


def test_one_emotion_speakers_break_per_speaker_normalization_but_not_the_new_design():
    """The natural-speech failure: a speaker's mean is its emotion."""
    X, y, g = speaker_features(one_emotion=True, offset=0.5, per_speaker=20, n_speakers=16)
    plain = evaluate(LogisticRegression(max_iter=500), X, y, groups=g, cv=CV).uar
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        old = evaluate(old_design(), X, y, groups=g, cv=CV, adaptation="speaker").uar
    new = evaluate(adaptive(), X, y, groups=g, cv=CV, adaptation=["speaker", "none"])
    assert plain > 0.8
    assert old < plain - 0.3  # the old design falls towards (or below) chance
    assert new["speaker"].uar >= plain - 0.02
    assert new["none"].uar >= plain - 0.02


def test_balanced_speakers_keep_the_gain_of_per_speaker_statistics():
    X, y, g = speaker_features(offset=2.0)
    plain = evaluate(LogisticRegression(max_iter=500), X, y, groups=g, cv=CV).uar
    model = adaptive(diversity_range=(0.5, 0.9))
    reports = evaluate(model, X, y, groups=g, cv=CV, adaptation=["speaker", "none"])
    assert reports["speaker"].uar > plain + 0.2
    # Without speaker ids the speaker-naive copy predicts: the plain model's number.
    assert reports["none"].uar == pytest.approx(plain, abs=0.02)


def test_class_aware_scale_corrects_speakers_with_different_gains():
    """Speakers differ by a per-feature gain: the offset alone cannot undo it."""
    rng = np.random.default_rng(1)
    X, y, g = speaker_features(offset=2.0, seed=1)
    gains = np.exp(rng.uniform(-1.5, 1.5, size=(12, X.shape[1])))
    X = X * gains[g]
    uar = {}
    for scale in (False, True):
        model = adaptive(diversity_range=(0.5, 0.9), scale=scale)
        uar[scale] = evaluate(model, X, y, groups=g, cv=CV, adaptation="speaker").uar
    assert uar[True] > uar[False] + 0.02
    fitted = adaptive(scale=True).fit(X, y, groups=g)
    # A training speaker with a large gain gets a large scale, and the reverse.
    loud, quiet = np.argmax(gains.mean(axis=1)), np.argmin(gains.mean(axis=1))
    assert fitted.speaker_scales_[loud].mean() > fitted.speaker_scales_[quiet].mean()
    assert np.all(adaptive(scale=False).fit(X, y, groups=g).speaker_scales_[loud] == 1)


def test_speaker_diversity_tells_one_emotion_from_all():
    X, y, g = speaker_features(per_speaker=40)
    model = adaptive().fit(X[g < 10], y[g < 10], groups=g[g < 10])
    all_emotions = model.speaker_diversity(X[g == 11])
    one_emotion = model.speaker_diversity(X[(g == 11) & (y == 2)])
    assert all_emotions > 0.6
    assert one_emotion < 0.3


def test_adaptive_classifier_keeps_dataframe_columns_and_pickles():
    import pandas as pd

    X, y, g = speaker_features()
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    SEEN_COLUMNS.clear()
    model = SpeakerAdaptiveClassifier(ColumnSpy(max_iter=500), n_components=8)
    model.fit(frame, y, groups=g)
    assert SEEN_COLUMNS == [list(frame.columns)] * 2
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict(frame, groups=g), model.predict(frame, groups=g))


def test_adaptive_classifier_errors_are_clear():
    X, y, g = speaker_features()
    with pytest.raises(ValueError, match="min_clips"):
        adaptive(min_clips=1).fit(X, y, groups=g)
    with pytest.raises(ValueError, match="diversity_range"):
        adaptive(diversity_range=(1.0, 0.5)).fit(X, y, groups=g)
    with pytest.raises(ValueError, match="NaN"):
        adaptive().fit(np.full_like(X, np.nan), y, groups=g)
    with pytest.warns(UserWarning, match="got no groups"):
        model = adaptive().fit(X, y)
    assert model.adapted_ is None
    np.testing.assert_array_equal(model.predict(X, groups=g), model.predict(X))


# ----------------------------------------------------------------- scikit-learn agreement


@pytest.mark.parametrize("make", [old_design, adaptive], ids=["SpeakerStandardScaler", "adaptive"])
def test_scikit_learn_tools_agree_with_evaluate(make):
    """Routed groups reach fit, never predict: that is adaptation='none'."""
    X, y, g = speaker_features()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reports = evaluate(make(), X, y, groups=g, cv=CV, adaptation=["speaker", "none"])
        with sklearn.config_context(enable_metadata_routing=True):
            predicted = cross_val_predict(make(), X, y, cv=CV, params={"groups": g})
            plain = cross_val_score(make(), X, y, cv=CV, params={"groups": g},
                                    scoring="balanced_accuracy")  # fmt: skip
            lab = cross_validate(make(), X, y, cv=CV, params={"groups": g},
                                 scoring=speaker_scorer())["test_score"]  # fmt: skip
            search = GridSearchCV(make(), {}, cv=CV, scoring=speaker_scorer()).fit(X, y, groups=g)
    np.testing.assert_array_equal(predicted, reports["none"].y_pred)
    np.testing.assert_allclose(plain, [f["uar"] for f in reports["none"].folds])
    np.testing.assert_allclose(lab, [f["uar"] for f in reports["speaker"].folds])
    assert search.best_score_ == pytest.approx(reports["speaker"].uar)


def test_scaler_without_routing_warns_with_the_fix():
    X, y, g = speaker_features()
    with pytest.warns(UserWarning, match="enable_metadata_routing"):
        cross_val_score(old_design(), X, y, groups=g, cv=CV)


# ----------------------------------------------------------------- cross-corpus


def test_leave_one_corpus_out():
    cv = LeaveOneCorpusOut(["a"] * 3 + ["b"] * 2)
    assert cv.get_n_splits() == 2
    assert [t.tolist() for _, t in cv.split(np.zeros(5))] == [[0, 1, 2], [3, 4]]
    with pytest.raises(ValueError, match="at least 2 corpora"):
        list(LeaveOneCorpusOut(["a"] * 3).split(np.zeros(3)))
    with pytest.raises(ValueError, match="3 corpus labels but X has 4"):
        list(LeaveOneCorpusOut(["a", "b", "b"]).split(np.zeros(4)))


def test_cross_corpus_evaluation_uses_shared_classes_and_leaves_inputs_alone():
    from skser.features import MFCCTransformer

    a = make_synthetic_corpus(n_speakers=3, n_per_class=2, duration=0.4, random_state=0)
    b = make_synthetic_corpus(n_speakers=2, n_per_class=2, duration=0.4, random_state=1,
                              emotions=["anger", "sadness", "neutral"])  # fmt: skip
    before = b.frame.copy()
    pipe = make_pipeline(MFCCTransformer(output="stats"), StandardScaler(),
                         LogisticRegression(max_iter=500))  # fmt: skip
    report = evaluate_cross_corpus(pipe, a, b, adaptation="none")
    assert report.labels == ["anger", "neutral", "sadness"]
    assert report.n_clips == len(b.y)
    assert "cross-corpus: train synthetic, test synthetic" in report.protocol
    assert report.speaker_independent
    assert before.equals(b.frame)
    with pytest.raises(ValueError, match="share fewer than 2 emotions"):
        evaluate_cross_corpus(pipe, a, b, label_map={e: "x" for e in set(a.y) | set(b.y)})


def test_unbalance_speakers_is_deterministic_and_keeps_every_emotion():
    corpus = make_synthetic_corpus(n_speakers=12, n_per_class=2, duration=0.3)
    first = unbalance_speakers(corpus)
    again = unbalance_speakers(corpus)
    np.testing.assert_array_equal(first.y, again.y)
    per_speaker = first.frame.groupby("speaker")["emotion"].nunique()
    assert set(per_speaker) <= {1, 2}
    assert set(first.y) == set(corpus.y)
    with pytest.raises(ValueError, match="fewer than 2 speakers"):
        unbalance_speakers(make_synthetic_corpus(n_speakers=2, n_per_class=1, duration=0.3),
                           emotions_per_speaker=(1,))  # fmt: skip


def test_clone_keeps_parameters():
    model = adaptive(diversity_range=(0.1, 0.2), shrinkage=3)
    assert clone(model).get_params()["shrinkage"] == 3


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.parametrize("recipe, prefix", [("recommended-classical", ""),
                                            ("recommended", "classical__")])
def test_recommended_agrees_with_scikit_learn_tools(yamnet_tflite, small_corpus, recipe, prefix):
    """``recommended`` (fused or classical) under cross_val_predict / cross_validate gives
    evaluate's numbers."""
    from sklearn.model_selection import GroupKFold

    from skser.recipes import make_ser_pipeline

    X, y, g = small_corpus.X, small_corpus.y, small_corpus.groups
    make = lambda: make_ser_pipeline(recipe, yamnet_weights=str(yamnet_tflite),  # noqa: E731
                                     random_state=0)
    # The speaker-level statistics need a few clips per speaker: 12 here.
    short = {"deep__model__epochs": 5} if prefix else {}  # the network's training: brief
    make_ = lambda: make().set_params(**{f"{prefix}classifier__min_clips": 4,  # noqa: E731
                                         f"{prefix}classifier__n_components": 8, **short})
    cv = GroupKFold(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reports = evaluate(make_(), X, y, groups=g, cv=cv, adaptation=["speaker", "none"])
        with sklearn.config_context(enable_metadata_routing=True):
            predicted = cross_val_predict(make_(), X, y, cv=cv, params={"groups": g})
            lab = cross_validate(make_(), X, y, cv=cv, params={"groups": g},
                                 scoring=speaker_scorer())["test_score"]  # fmt: skip
    np.testing.assert_array_equal(predicted, reports["none"].y_pred)
    np.testing.assert_allclose(lab, [f["uar"] for f in reports["speaker"].folds])
