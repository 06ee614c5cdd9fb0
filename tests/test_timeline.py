import math

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skser
from skser.datasets import make_synthetic_corpus
from skser.features import MFCCTransformer
from skser.timeline import model_sample_rate, predict_timeline, timeline_windows


@pytest.fixture(scope="module")
def two_emotions():
    """A model for anger vs sadness and a 12 s recording: 6 s anger then 6 s sadness."""
    train = make_synthetic_corpus(
        n_speakers=3, n_per_class=4, emotions=["anger", "sadness"], duration=1.0, random_state=0
    )
    model = make_pipeline(
        MFCCTransformer(output="stats", sr=train.sr), StandardScaler(), LogisticRegression()
    ).fit(train.X, train.y)
    # Unseen clips of a held-out seed, joined into one long recording.
    test = make_synthetic_corpus(
        n_speakers=1, n_per_class=6, emotions=["anger", "sadness"], duration=1.0, random_state=7
    )
    recording = np.concatenate(list(test.X)).astype(np.float32)
    return model, recording, list(test.y), train.sr


def test_windows_count_and_times():
    bounds = timeline_windows(10.0, window=3.0, hop=1.0)
    assert len(bounds) == 8
    np.testing.assert_allclose(bounds[:, 0], np.arange(8.0))
    np.testing.assert_allclose(bounds[:, 1], np.arange(8.0) + 3.0)
    # Non-overlapping windows; the last one is shorter and ends with the recording.
    bounds = timeline_windows(10.5, window=2.0, hop=2.0)
    assert bounds.tolist() == [[0, 2], [2, 4], [4, 6], [6, 8], [8, 10], [10, 10.5]]
    # Shorter than a window: one window over all of it.
    assert timeline_windows(1.2, window=3.0, hop=1.0).tolist() == [[0.0, 1.2]]


@settings(max_examples=60, deadline=None)
@given(
    duration=st.floats(0.05, 500.0),
    window=st.floats(0.1, 10.0),
    hop=st.floats(0.1, 10.0),
)
def test_windows_cover_the_recording(duration, window, hop):
    bounds = timeline_windows(duration, window=window, hop=hop)
    starts, ends = bounds[:, 0], bounds[:, 1]
    assert starts[0] == 0.0
    np.testing.assert_allclose(np.diff(starts), hop)
    assert np.all(ends <= duration) and np.all(ends > starts)
    if hop <= window:  # contiguous or overlapping windows cover the whole recording
        assert len(bounds) == 1 + max(0, math.ceil((duration - window) / hop - 1e-9))
        assert ends[-1] == pytest.approx(duration)
    else:  # gaps between windows, but no window starts after the end
        assert starts[-1] < duration <= starts[-1] + hop + 1e-9
    assert np.all(ends - starts <= window + 1e-9)


@pytest.mark.parametrize("bad", [{"window": 0}, {"hop": -1.0}])
def test_windows_reject_bad_parameters(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        timeline_windows(10.0, **{"window": 3.0, "hop": 1.0, **bad})


def test_timeline_of_a_long_waveform_follows_the_emotions(two_emotions):
    model, recording, truth, sr = two_emotions
    table = predict_timeline(model, recording, sr=sr, window=1.0, hop=1.0)
    assert len(table) == 12
    np.testing.assert_allclose(table["start"], np.arange(12.0))
    np.testing.assert_allclose(table["end"], np.arange(1.0, 13.0))
    assert table.columns.tolist() == ["start", "end", "label", "anger", "sadness"]
    np.testing.assert_allclose(table[["anger", "sadness"]].sum(axis=1), 1.0)
    # Windows aligned with the clips: the model should track the change of emotion.
    assert np.mean(table["label"].to_numpy() == np.array(truth)) >= 0.8
    # The label is the most probable class.
    assert (table["label"] == table[["anger", "sadness"]].idxmax(axis=1)).all()


def test_overlapping_windows(two_emotions):
    model, recording, _, sr = two_emotions
    table = predict_timeline(model, recording, sr=sr, window=3.0, hop=0.5)
    assert len(table) == 1 + math.ceil((12 - 3) / 0.5)
    assert table["end"].iloc[-1] == pytest.approx(12.0)


def test_timeline_from_file_matches_waveform_and_stays_batched(tmp_path, two_emotions):
    model, recording, _, sr = two_emotions
    path = tmp_path / "long.flac"
    sf.write(path, np.column_stack([recording, recording]), sr)  # stereo: down-mixed
    calls = []

    class Spy:
        """Records the number of windows per call: memory holds one batch at a time."""

        classes_ = model.classes_

        def predict_proba(self, X):
            calls.append(len(X))
            return model.predict_proba(X)

    from_file = predict_timeline(Spy(), path, sr=sr, window=2.0, hop=1.0, batch_size=4)
    from_wave = predict_timeline(model, recording, sr=sr, window=2.0, hop=1.0)
    assert calls == [4, 4, 3]  # 11 windows in batches of at most 4
    np.testing.assert_allclose(from_file[["start", "end"]], from_wave[["start", "end"]])
    np.testing.assert_allclose(from_file["anger"], from_wave["anger"], atol=1e-3)


def test_timeline_resamples_files(tmp_path, two_emotions):
    model, recording, truth, sr = two_emotions
    import soxr

    path = tmp_path / "long_8k.wav"
    sf.write(path, soxr.resample(recording, sr, 8000), 8000)
    table = predict_timeline(model, str(path), window=1.0, hop=1.0)  # sr from the model
    assert len(table) == 12
    assert np.mean(table["label"].to_numpy() == np.array(truth)) >= 0.7


def test_predict_only_models_give_labels():
    class NoProba:
        def predict(self, X):
            return np.array(["calm"] * len(X))

    table = predict_timeline(NoProba(), np.zeros(16000 * 5, dtype=np.float32), sr=16000, window=2.0, hop=2.0)
    assert table.columns.tolist() == ["start", "end", "label"]
    assert table["label"].tolist() == ["calm"] * 3


def test_model_sample_rate():
    assert model_sample_rate(make_pipeline(MFCCTransformer(sr=8000), LogisticRegression())) == 8000
    assert model_sample_rate(LogisticRegression()) == 16000
    assert model_sample_rate(object(), default=22050) == 22050
    mixed = make_pipeline(MFCCTransformer(sr=8000), MFCCTransformer(sr=16000))
    with pytest.raises(ValueError, match="different sample rates"):
        model_sample_rate(mixed)


def test_timeline_errors(tmp_path, two_emotions):
    model, recording, _, sr = two_emotions
    with pytest.raises(FileNotFoundError, match="not found"):
        predict_timeline(model, tmp_path / "missing.wav")
    with pytest.raises(ValueError, match="directory"):
        predict_timeline(model, tmp_path)
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    with pytest.raises(ValueError, match="Cannot read audio file"):
        predict_timeline(model, bad)
    with pytest.raises(ValueError, match="window"):
        predict_timeline(model, recording, sr=sr, window=0)
    with pytest.raises(ValueError, match="NaN"):
        predict_timeline(model, np.full(100, np.nan), sr=sr)
    assert skser.predict_timeline is predict_timeline
