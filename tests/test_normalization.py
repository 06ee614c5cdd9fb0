"""Tests of SpeakerStandardScaler and speaker_scorer (groups through metadata routing)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skser.features import SpeakerNormalizationWarning, SpeakerStandardScaler, speaker_scorer


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def _offset_data(n_speakers=8, n_per_speaker=20, d=4, offset=4.0, seed=0):
    """Two classes separated by a small shift, speakers separated by large offsets."""
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(n_speakers), n_per_speaker)
    y = np.tile(["a", "b"], n_speakers * n_per_speaker // 2)
    speaker_offset = offset * rng.normal(size=(n_speakers, d))
    speaker_gain = rng.uniform(0.5, 2.0, size=(n_speakers, d))
    X = (rng.normal(size=(len(y), d)) * 0.7 + (y == "b")[:, None] * 0.8) * speaker_gain[groups]
    return X + speaker_offset[groups], y, groups


class _Spy(SpeakerStandardScaler):
    """Records the speakers each fit / transform call received (class-level log)."""

    log: list = []

    def fit(self, X, y=None, groups=None):
        _Spy.log.append(("fit", None if groups is None else frozenset(groups.tolist())))
        return super().fit(X, y, groups=groups)

    def transform(self, X, groups=None):
        _Spy.log.append(("transform", None if groups is None else frozenset(groups.tolist())))
        return super().transform(X, groups=groups)


def test_each_speaker_has_mean_0_std_1():
    X, _, groups = _offset_data()
    Xt = SpeakerStandardScaler().fit_transform(X, groups=groups)
    assert Xt.dtype == np.float32 and Xt.shape == X.shape
    for speaker in np.unique(groups):
        rows = Xt[groups == speaker]
        np.testing.assert_allclose(rows.mean(axis=0), 0, atol=1e-5)
        np.testing.assert_allclose(rows.std(axis=0), 1, atol=1e-4)
    # Globally standardized data would keep the speaker offsets.
    Xg = StandardScaler().fit_transform(X)
    assert np.abs(Xg[groups == 0].mean(axis=0)).max() > 0.3


def test_test_speakers_use_their_own_statistics():
    X, _, groups = _offset_data()
    train, test = groups < 6, groups >= 6
    scaler = SpeakerStandardScaler().fit(X[train], groups=groups[train])
    Xt = scaler.transform(X[test], groups=groups[test])
    for speaker in (6, 7):
        rows = Xt[groups[test] == speaker]
        np.testing.assert_allclose(rows.mean(axis=0), 0, atol=1e-5)
    # The transform does not depend on the other speakers in the call.
    alone = scaler.transform(X[groups == 7], groups=groups[groups == 7])
    np.testing.assert_allclose(alone, Xt[groups[test] == 7], rtol=1e-6)


def test_with_mean_and_with_std_switches():
    X, _, groups = _offset_data()
    centred = SpeakerStandardScaler(with_std=False).fit_transform(X, groups=groups)
    np.testing.assert_allclose(centred[groups == 0].mean(axis=0), 0, atol=1e-5)
    assert not np.allclose(centred[groups == 0].std(axis=0), 1, atol=1e-2)
    scaled = SpeakerStandardScaler(with_mean=False).fit_transform(X, groups=groups)
    np.testing.assert_allclose(scaled[groups == 0].std(axis=0), 1, atol=1e-4)


def test_single_clip_speakers_fall_back():
    X, _, groups = _offset_data()
    scaler = SpeakerStandardScaler().fit(X, groups=groups)
    # A known speaker with one clip in the call: that speaker's training statistics.
    one = X[groups == 3][:1]
    expected = (one - X[groups == 3].mean(axis=0)) / X[groups == 3].std(axis=0)
    np.testing.assert_allclose(scaler.transform(one, groups=[3]), expected, rtol=1e-5)
    # An unseen speaker with one clip: the global training statistics (not all zeros).
    new = np.full((1, X.shape[1]), 2.0)
    expected = (new - X.mean(axis=0)) / X.std(axis=0)
    np.testing.assert_allclose(scaler.transform(new, groups=["new"]), expected, rtol=1e-5)
    # A training speaker with a single clip gets the global statistics too.
    g = groups.copy()
    g[0] = 99
    Xt = SpeakerStandardScaler().fit_transform(X, groups=g)
    np.testing.assert_allclose(Xt[0], (X[0] - X.mean(axis=0)) / X.std(axis=0), rtol=1e-5)


def test_constant_features_give_zeros_not_nan():
    X, _, groups = _offset_data()
    X[:, 1] = 3.0
    X[groups == 2, 2] = -1.0  # constant within one speaker only
    Xt = SpeakerStandardScaler().fit_transform(X, groups=groups)
    assert np.all(np.isfinite(Xt))
    np.testing.assert_array_equal(Xt[:, 1], 0)
    np.testing.assert_array_equal(Xt[groups == 2, 2], 0)


def test_sequences_are_normalized_over_clips_and_frames():
    rng = np.random.default_rng(0)
    groups = np.repeat([0, 1, 2], 5)
    X = rng.normal(size=(15, 30, 6)) + 5 * rng.normal(size=(3, 1, 6))[groups]
    Xt = SpeakerStandardScaler().fit_transform(X, groups=groups)
    assert Xt.shape == X.shape and Xt.dtype == np.float32
    frames = Xt[groups == 1].reshape(-1, 6)
    np.testing.assert_allclose(frames.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(frames.std(axis=0), 1, atol=1e-4)


def test_without_groups_is_global_and_warns():
    X, _, groups = _offset_data()
    with pytest.warns(SpeakerNormalizationWarning, match="globally"):
        Xt = SpeakerStandardScaler().fit_transform(X)
    np.testing.assert_allclose(Xt, StandardScaler().fit_transform(X), rtol=1e-4, atol=1e-5)
    scaler = SpeakerStandardScaler().fit(X, groups=groups)
    with pytest.warns(SpeakerNormalizationWarning, match="predict"):
        Xt = scaler.transform(X)
    np.testing.assert_allclose(Xt, StandardScaler().fit_transform(X), rtol=1e-4, atol=1e-5)


def test_input_errors_are_clear():
    X, _, groups = _offset_data()
    with pytest.raises(ValueError, match="groups must be 1-D"):
        SpeakerStandardScaler().fit(X, groups=groups[:-1])
    with pytest.raises(ValueError, match="min_clips"):
        SpeakerStandardScaler(min_clips=0).fit(X, groups=groups)
    scaler = SpeakerStandardScaler().fit(X, groups=groups)
    with pytest.raises(ValueError, match="features"):
        scaler.transform(X[:, :2], groups=groups)


def test_feature_names_pass_through_and_pickle():
    pd = pytest.importorskip("pandas")
    X, _, groups = _offset_data()
    frame = pd.DataFrame(X, columns=["f0_mean", "f0_std", "energy", "mfcc1"])
    scaler = SpeakerStandardScaler().set_output(transform="pandas")
    out = scaler.fit_transform(frame, groups=groups)
    assert list(out.columns) == ["f0_mean", "f0_std", "energy", "mfcc1"]
    assert list(scaler.get_feature_names_out()) == list(frame.columns)
    restored = pickle.loads(pickle.dumps(scaler))
    np.testing.assert_allclose(restored.transform(frame, groups=groups), out.to_numpy(), rtol=1e-6)


def test_groups_requested_by_default():
    routing = SpeakerStandardScaler().get_metadata_routing()
    for method in ("fit", "transform"):
        assert routing.consumes(method=method, params={"groups"}) == {"groups"}
    assert clone(SpeakerStandardScaler()).get_metadata_routing().consumes(
        method="transform", params={"groups"}
    ) == {"groups"}


def test_pipeline_routes_groups_to_fit_and_predict(routing):
    X, y, groups = _offset_data()
    _Spy.log = []
    pipe = make_pipeline(_Spy(), SVC()).fit(X, y, groups=groups)
    pipe.predict(X[groups == 5], groups=groups[groups == 5])
    assert _Spy.log == [
        ("fit", frozenset(range(8))),
        ("transform", frozenset(range(8))),
        ("transform", frozenset({5})),
    ]


def test_cross_validate_sees_each_test_folds_speakers(routing):
    X, y, groups = _offset_data()
    cv = GroupKFold(n_splits=4)
    _Spy.log = []
    pipe = make_pipeline(_Spy(), SVC())
    result = cross_validate(
        pipe,
        X,
        y,
        cv=cv,
        params={"groups": groups},
        scoring=speaker_scorer(),
        return_indices=True,
    )
    test_sets = [frozenset(groups[t].tolist()) for t in result["indices"]["test"]]
    train_sets = [frozenset(groups[t].tolist()) for t in result["indices"]["train"]]
    assert [s for kind, s in _Spy.log if kind == "fit"] == train_sets
    seen = [s for kind, s in _Spy.log if kind == "transform"]
    assert None not in seen
    for test_speakers in test_sets:
        assert test_speakers in seen  # the scorer passed the test fold's speakers
    # Per-speaker normalization beats global standardization on offset speakers.
    with pytest.warns(SpeakerNormalizationWarning):  # plain scoring: no groups at predict
        cross_validate(pipe, X, y, cv=cv, params={"groups": groups}, scoring="balanced_accuracy")
    base = cross_validate(
        make_pipeline(StandardScaler(), SVC()),
        X,
        y,
        cv=cv,
        params={"groups": groups},
        scoring="balanced_accuracy",
    )
    assert result["test_score"].mean() > base["test_score"].mean() + 0.1


def test_grid_search_with_speaker_scorer(routing):
    X, y, groups = _offset_data()
    _Spy.log = []
    search = GridSearchCV(
        make_pipeline(_Spy(), SVC()),
        {"svc__C": [0.1, 1.0]},
        cv=GroupKFold(n_splits=4),
        scoring=speaker_scorer(),
    )
    search.fit(X, y, groups=groups)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    transformed = [s for kind, s in _Spy.log if kind == "transform"]
    assert None not in transformed
    # Each 2-speaker test fold was scored with its own speaker ids.
    assert sum(len(s) == 2 for s in transformed) == 2 * 4
    assert search.best_estimator_.predict(X[:4], groups=groups[:4]).shape == (4,)


def test_speaker_scorer_needs_routing():
    X, y, groups = _offset_data()
    pipe = make_pipeline(SpeakerStandardScaler(), SVC())
    with sklearn.config_context(enable_metadata_routing=True):
        pipe.fit(X, y, groups=groups)
        assert 0 <= speaker_scorer()(pipe, X, y, groups=groups) <= 1
    with pytest.raises(RuntimeError, match="enable_metadata_routing"):
        speaker_scorer()(pipe, X, y, groups=groups)


def test_speaker_normalization_helps_on_the_synthetic_corpus(routing):
    from skser.datasets import make_synthetic_corpus
    from skser.features import MFCCTransformer, TemporalPooling

    corpus = make_synthetic_corpus(
        n_speakers=6,
        n_per_class=4,
        emotions=["anger", "happiness", "neutral", "sadness"],
        duration=1.0,
        random_state=0,
    )
    features = TemporalPooling().fit_transform(MFCCTransformer(n_mfcc=20).fit_transform(corpus.X))
    y, groups = np.asarray(corpus.y), np.asarray(corpus.groups)
    cv = GroupKFold(n_splits=6)
    kwargs = dict(cv=cv, params={"groups": groups})
    base = cross_validate(
        make_pipeline(StandardScaler(), SVC()), features, y, scoring="balanced_accuracy", **kwargs
    )["test_score"].mean()
    per_speaker = cross_validate(
        make_pipeline(SpeakerStandardScaler(), SVC()),
        features,
        y,
        scoring=speaker_scorer(),
        **kwargs,
    )["test_score"].mean()
    assert per_speaker > base + 0.03
