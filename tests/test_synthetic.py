"""Tests of skser.datasets.make_synthetic_corpus: determinism, layout, acoustics, difficulty."""

from __future__ import annotations

import numpy as np
import pytest

from skser.datasets import CANONICAL_EMOTIONS, Corpus, combine, make_synthetic_corpus

SMALL = dict(n_speakers=2, n_per_class=2, emotions=["anger", "sadness", "neutral"], duration=0.5)


def _stack(X):
    return np.stack(list(X))


def test_same_seed_gives_identical_waves():
    a = make_synthetic_corpus(**SMALL, random_state=3)
    b = make_synthetic_corpus(**SMALL, random_state=3)
    np.testing.assert_array_equal(_stack(a.X), _stack(b.X))
    assert a.frame.equals(b.frame)


def test_different_seeds_differ():
    a = _stack(make_synthetic_corpus(**SMALL, random_state=0).X)
    b = _stack(make_synthetic_corpus(**SMALL, random_state=1).X)
    assert a.shape == b.shape
    # Every clip differs, not just some.
    assert all(not np.allclose(x, y) for x, y in zip(a, b, strict=True))


def test_clips_within_a_corpus_differ():
    waves = _stack(make_synthetic_corpus(**SMALL).X)
    for i in range(len(waves)):
        for j in range(i + 1, len(waves)):
            assert not np.allclose(waves[i], waves[j])


def test_random_state_objects_are_accepted_and_seeded():
    a = make_synthetic_corpus(**SMALL, random_state=np.random.RandomState(5))
    b = make_synthetic_corpus(**SMALL, random_state=np.random.RandomState(5))
    np.testing.assert_array_equal(_stack(a.X), _stack(b.X))


@pytest.mark.parametrize("sr, duration", [(16000, 0.5), (8000, 1.25), (22050, 0.1)])
def test_shapes_dtype_range(sr, duration):
    corpus = make_synthetic_corpus(
        n_speakers=2,
        n_per_class=1,
        emotions=["anger", "fear", "sadness"],
        sr=sr,
        duration=duration,
    )
    assert isinstance(corpus, Corpus)
    assert corpus.sr == sr and corpus.name == "synthetic"
    assert corpus.X.dtype == object and corpus.X.shape == (6,)
    for wave in corpus.X:
        assert wave.dtype == np.float32 and wave.ndim == 1
        assert wave.shape == (int(round(duration * sr)),)
        assert np.all(np.isfinite(wave))
        assert np.max(np.abs(wave)) <= 1.0
        assert np.std(wave) > 1e-3  # not silence


def test_default_corpus_layout():
    corpus = make_synthetic_corpus(n_speakers=3, n_per_class=2, duration=0.2)
    emotions = ["anger", "calm", "disgust", "fear", "happiness", "neutral", "sadness", "surprise"]
    assert sorted(set(corpus.y)) == emotions
    assert len(corpus.y) == 3 * 8 * 2
    counts = corpus.frame.groupby(["speaker", "emotion"]).size()
    assert counts.shape == (3 * 8,) and (counts == 2).all()
    np.testing.assert_array_equal(corpus.groups, corpus.frame["speaker"].to_numpy())
    np.testing.assert_array_equal(corpus.y, corpus.frame["emotion"].to_numpy())
    assert sorted(set(corpus.groups)) == ["spk00", "spk01", "spk02"]
    # Even speakers are female, odd male; every speaker has one gender.
    genders = corpus.frame.groupby("speaker")["gender"].agg(set)
    assert genders.to_dict() == {"spk00": {"female"}, "spk01": {"male"}, "spk02": {"female"}}
    assert corpus.frame.loc[0, "path"] == "synthetic/spk00/anger_000"
    assert corpus.frame["path"].is_unique
    assert (corpus.frame["corpus"] == "synthetic").all()


def test_return_X_y_matches_bunch():
    X, y, groups = make_synthetic_corpus(**SMALL, return_X_y=True)
    corpus = make_synthetic_corpus(**SMALL)
    np.testing.assert_array_equal(_stack(X), _stack(corpus.X))
    np.testing.assert_array_equal(y, corpus.y)
    np.testing.assert_array_equal(groups, corpus.groups)


def test_subset_of_emotions_gives_the_same_clips():
    full = make_synthetic_corpus(n_speakers=2, n_per_class=1, duration=0.3)
    sub = make_synthetic_corpus(
        n_speakers=2, n_per_class=1, duration=0.3, emotions=["sadness", "anger"]
    )
    by_path = dict(zip(full.frame["path"], full.X, strict=True))
    for path, wave in zip(sub.frame["path"], sub.X, strict=True):
        np.testing.assert_array_equal(wave, by_path[path])


@pytest.mark.parametrize("emotion", CANONICAL_EMOTIONS)
def test_every_canonical_emotion_can_be_synthesized(emotion):
    corpus = make_synthetic_corpus(n_speakers=1, n_per_class=1, emotions=[emotion], duration=0.3)
    assert list(corpus.y) == [emotion]


def test_emotions_shift_energy_relative_to_the_speaker():
    # Anger is louder than sadness for every speaker (the corpus encodes arousal).
    corpus = make_synthetic_corpus(
        n_speakers=4, n_per_class=3, emotions=["anger", "sadness"], duration=0.5
    )
    rms = np.array([np.sqrt(np.mean(w**2)) for w in corpus.X])
    for speaker in np.unique(corpus.groups):
        mine = corpus.groups == speaker
        loud = rms[mine & (corpus.y == "anger")].mean()
        soft = rms[mine & (corpus.y == "sadness")].mean()
        assert loud > 2 * soft


def test_combine_two_draws():
    a = make_synthetic_corpus(**SMALL, random_state=0)
    b = make_synthetic_corpus(**SMALL, random_state=1)
    both = combine([a, b])
    assert len(both.y) == len(a.y) + len(b.y)
    assert len(set(both.groups)) == 4


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_speakers=0), "n_speakers"),
        (dict(n_per_class=1.5), "n_per_class"),
        (dict(sr=0), "sr"),
        (dict(duration=-1.0), "duration"),
        (dict(duration=0.05), "duration"),
        (dict(emotions=["anger", "joy"]), "joy"),
        (dict(emotions=[]), "emotions"),
        (dict(emotions=["anger", "anger"]), "duplicates"),
        (dict(random_state=-1), "random_state"),
        (dict(random_state="seed"), "random_state"),
    ],
)
def test_bad_parameters_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_synthetic_corpus(**{"n_speakers": 1, "n_per_class": 1, "duration": 0.2, **kwargs})


def _mfcc_stats(X, sr):
    import librosa

    feats = []
    for wave in X:
        mfcc = librosa.feature.mfcc(y=wave, sr=sr, n_mfcc=20)
        feats.append(np.concatenate([mfcc.mean(axis=1), mfcc.std(axis=1)]))
    return np.array(feats)


def _uar(F, y, groups=None, cv=None):
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    pipe = make_pipeline(StandardScaler(), SVC())
    return balanced_accuracy_score(y, cross_val_predict(pipe, F, y, groups=groups, cv=cv))


def test_difficulty_speaker_independent_baseline(small_corpus):
    """An MFCC-stats + SVM baseline learns the emotions across speakers, but not perfectly."""
    from sklearn.model_selection import LeaveOneGroupOut

    F = _mfcc_stats(small_corpus.X, small_corpus.sr)
    uar = _uar(F, small_corpus.y, small_corpus.groups, LeaveOneGroupOut())
    chance = 1 / len(set(small_corpus.y))
    assert chance + 0.15 < uar < 1.0


@pytest.mark.slow
def test_speaker_independent_is_harder_than_speaker_dependent():
    from sklearn.model_selection import LeaveOneGroupOut, StratifiedKFold

    corpus = make_synthetic_corpus(n_speakers=6, n_per_class=5, duration=1.0)
    F = _mfcc_stats(corpus.X, corpus.sr)
    independent = _uar(F, corpus.y, corpus.groups, LeaveOneGroupOut())
    dependent = _uar(F, corpus.y, cv=StratifiedKFold(5, shuffle=True, random_state=0))
    assert 0.3 < independent < 0.9
    assert dependent > independent + 0.05
