"""EmbeddingTransformer: YAMNet embeddings/scores of clips, shapes, errors, clone/pickle, caching."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from skser.features import EmbeddingTransformer, yamnet_class_names

SR = 16000
SPEECH_CLIPS = [
    "Actor_01/03-01-05-02-01-01-01.flac",
    "Actor_02/03-01-03-02-02-01-02.flac",
    "Actor_10/03-01-01-01-01-01-10.flac",
]


def _tone(seconds: float, freq: float = 440.0, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture(scope="module")
def clips():
    # 0.5 s (1 window), 2 s (4 windows at 0.4875 s hop), 1 s (2 windows)
    return [_tone(0.5, 300), _tone(2.0, 800), _tone(1.0, 1500)]


@pytest.fixture(scope="module")
def segments_est(yamnet_tflite, clips):
    est = EmbeddingTransformer(weights=yamnet_tflite, output="segments")
    return est, est.fit_transform(clips)


# -- parameters and weights -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"model": "vggish"}, "model"),
        ({"output": "frames"}, "output"),
        ({"pooling": "median"}, "pooling"),
        ({"pooling": ("mean", "mean")}, "pooling"),
        ({"pooling": ()}, "pooling"),
        ({"window": 1.5}, "window"),
        ({"overlap": 1.0}, "overlap"),
        ({"max_segments": 0}, "max_segments"),
        ({"batch_size": -1}, "batch_size"),
        ({"sr": 0}, "sr"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        EmbeddingTransformer(**params).fit([_tone(0.5)])


def test_missing_weights_gives_download_hint(tmp_path, monkeypatch):
    monkeypatch.setenv("SKSER_YAMNET", str(tmp_path / "absent.tflite"))
    with pytest.raises(FileNotFoundError, match=r"absent\.tflite(.|\n)*yamnet\.h5"):
        EmbeddingTransformer().fit([_tone(0.5)])
    with pytest.raises(FileNotFoundError, match="storage.googleapis.com/audioset/yamnet.h5"):
        EmbeddingTransformer(weights=tmp_path / "x.tflite").fit([_tone(0.5)])


def test_bad_weights_file(tmp_path):
    bad = tmp_path / "yamnet.tflite"
    bad.write_text("not a model")
    with pytest.raises(ValueError, match="not a YAMNet weights file"):
        EmbeddingTransformer(weights=bad).fit([_tone(0.5)])


def test_not_fitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        EmbeddingTransformer(weights="yamnet.tflite").transform([_tone(0.5)])


# -- outputs ----------------------------------------------------------------------------------
@pytest.mark.realdata
def test_segments_are_zero_padded(segments_est, clips):
    est, seg = segments_est
    assert seg.shape == (3, 4, 1024) and seg.dtype == np.float32
    real = np.any(seg != 0, axis=-1)
    np.testing.assert_array_equal(real, [[1, 0, 0, 0], [1, 1, 1, 1], [1, 1, 0, 0]])
    assert est.n_segments_ == 4
    # max_segments fixes the length; longer clips keep their first windows.
    two = EmbeddingTransformer(weights=est.weights, output="segments", max_segments=2).fit(clips)
    out = two.transform(clips)
    assert out.shape == (3, 2, 1024)
    np.testing.assert_allclose(out[1], seg[1, :2], rtol=1e-5, atol=1e-6)
    # A clip longer than any seen in fit is cut to n_segments_, with a warning.
    with pytest.warns(UserWarning, match="fit saw at most 4"):
        longer = est.transform([_tone(3.0)])
    assert longer.shape == (1, 4, 1024)


@pytest.mark.realdata
def test_pooled_is_statistics_of_segments(segments_est, clips):
    est, seg = segments_est
    pooled = EmbeddingTransformer(weights=est.weights, pooling=("mean", "std", "max")).fit(clips)
    out = pooled.transform(clips)
    assert out.shape == (3, 3 * 1024) and out.dtype == np.float32
    for i, n in enumerate([1, 4, 2]):
        rows = seg[i, :n]
        np.testing.assert_allclose(out[i, :1024], rows.mean(0), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(out[i, 1024:2048], rows.std(0), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(out[i, 2048:], rows.max(0), rtol=1e-5, atol=1e-5)
    names = pooled.get_feature_names_out()
    assert len(names) == out.shape[1]
    assert (
        names[0] == "yamnet0_mean"
        and names[1024] == "yamnet0_std"
        and names[-1] == "yamnet1023_max"
    )
    assert not hasattr(est, "get_feature_names_out")  # 3-D output has no column names


@pytest.mark.realdata
def test_set_output_pandas(yamnet_tflite, clips):
    est = EmbeddingTransformer(weights=yamnet_tflite).set_output(transform="pandas")
    frame = est.fit_transform(clips)
    assert frame.shape == (3, 1024) and frame.columns[5] == "yamnet5_mean"


@pytest.mark.realdata
def test_speech_clips_score_speech(yamnet_tflite, ravdess_dir):
    paths = [ravdess_dir / clip for clip in SPEECH_CLIPS]
    est = EmbeddingTransformer(weights=yamnet_tflite, output="scores")
    scores = est.fit_transform(paths)
    assert scores.shape == (3, 521)
    assert np.all((scores >= 0) & (scores <= 1))
    names = yamnet_class_names(yamnet_tflite)
    assert [names[i] for i in scores.argmax(axis=1)] == ["Speech"] * 3
    assert est.get_feature_names_out()[0] == "yamnet_score0_mean"


@pytest.mark.realdata
def test_silence_and_short_clips_are_finite(yamnet_tflite):
    X = [np.zeros(SR, np.float32), np.zeros(10, np.float32), np.full(400, 1.0, np.float32)]
    out = EmbeddingTransformer(weights=yamnet_tflite, pooling=("mean", "std")).fit_transform(X)
    assert out.shape == (3, 2048) and np.all(np.isfinite(out))


@pytest.mark.realdata
def test_other_sample_rate_is_resampled(yamnet_tflite):
    at16 = _tone(1.5, 500)
    t = np.arange(int(1.5 * 32000)) / 32000
    at32 = (0.3 * np.sin(2 * np.pi * 500 * t)).astype(np.float32)
    a = EmbeddingTransformer(weights=yamnet_tflite).fit_transform([at16])
    b = EmbeddingTransformer(weights=yamnet_tflite, sr=32000).fit_transform([at32])
    cos = float(a[0] @ b[0] / np.linalg.norm(a[0]) / np.linalg.norm(b[0]))
    assert cos > 0.99


@pytest.mark.realdata
def test_paths_and_arrays_agree(yamnet_tflite, ravdess_dir):
    from skser.audio import load_audio

    path = ravdess_dir / SPEECH_CLIPS[0]
    est = EmbeddingTransformer(weights=yamnet_tflite).fit([path])
    np.testing.assert_allclose(
        est.transform([path]), est.transform([load_audio(path)[0]]), rtol=1e-6
    )


# -- estimator behaviour ----------------------------------------------------------------------
@pytest.mark.realdata
def test_clone_and_pickle_do_not_carry_the_model(yamnet_tflite, clips):
    est = EmbeddingTransformer(weights=yamnet_tflite, n_jobs=1)
    out = est.fit_transform(clips)
    assert "_loaded" in est.__dict__
    restored = pickle.loads(pickle.dumps(est))
    assert "_loaded" not in restored.__dict__
    np.testing.assert_array_equal(restored.transform(clips), out)
    fresh = clone(est)
    assert fresh.get_params() == est.get_params() and not hasattr(fresh, "weights_path_")


@pytest.mark.realdata
def test_generic_estimator_checks(yamnet_tflite, clips):
    from skser.utils.estimator_checks import check_estimator

    check_estimator(EmbeddingTransformer(weights=yamnet_tflite), list(clips))
    check_estimator(EmbeddingTransformer(weights=yamnet_tflite, output="segments"), list(clips))


@pytest.mark.realdata
def test_memory_cache(yamnet_tflite, clips, tmp_path):
    est = EmbeddingTransformer(weights=yamnet_tflite, memory=str(tmp_path))
    first = est.fit_transform(clips)
    assert any(tmp_path.rglob("output.pkl"))
    np.testing.assert_array_equal(est.transform(clips), first)
    # The cache is keyed by the windows: other windows give other (fresh) results.
    other = clone(est).set_params(overlap=0.0).fit_transform(clips)
    assert not np.allclose(other[1], first[1])


@pytest.mark.realdata
def test_batched_windows_equal_per_clip_calls(yamnet_tflite, tmp_path, monkeypatch):
    """Windows of many clips go through the runner together; outputs are the per-clip ones."""
    import skser.features._embedding as embedding_module

    clips = [_tone(0.3, 200), _tone(2.5, 700), _tone(1.2, 1100), _tone(6.0, 400)]
    batched = EmbeddingTransformer(weights=yamnet_tflite, output="segments", n_jobs=2)
    out = batched.fit_transform(clips)
    per_clip = clone(batched).set_params(memory=str(tmp_path))  # the cached per-clip path
    np.testing.assert_array_equal(per_clip.fit_transform(clips), out)
    monkeypatch.setattr(embedding_module, "_BLOCK_WINDOWS", 5)  # the 6 s clip runs alone
    np.testing.assert_array_equal(clone(batched).fit_transform(clips), out)


@pytest.mark.realdata
def test_runner_is_shared_by_clones(yamnet_tflite, clips):
    a = EmbeddingTransformer(weights=yamnet_tflite).fit(clips)
    b = clone(a).fit(clips)
    assert a._runner() is b._runner()
    assert EmbeddingTransformer(weights=yamnet_tflite, n_jobs=2).fit(clips)._runner() is not a._runner()
