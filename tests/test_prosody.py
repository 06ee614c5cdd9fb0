"""ProsodyTransformer (skser.features._prosody)."""

from __future__ import annotations

import pickle

import librosa
import numpy as np
import pytest
import soundfile as sf
from sklearn.base import clone
from sklearn.pipeline import FeatureUnion

from skser.features import MFCCTransformer, ProsodyTransformer
from skser.features._prosody import yin_track

SR = 16000


def harmonic(f0, seconds=1.0, amp=0.3, sr=SR, n_harmonics=5):
    """Harmonic tone (1/k amplitudes); ``f0`` may be an array (instantaneous Hz)."""
    n = int(round(seconds * sr))
    f0 = np.broadcast_to(np.asarray(f0, dtype=float), (n,))
    phase = 2 * np.pi * np.cumsum(f0) / sr
    wave = sum(np.sin(k * phase) / k for k in range(1, n_harmonics + 1))
    return (amp * wave / np.max(np.abs(wave))).astype(np.float32)


def semitones(hz):
    return 12 * np.log2(hz / 27.5)


def features(clips, **params):
    est = ProsodyTransformer(**params).fit(clips)
    names = list(est.get_feature_names_out())
    out = est.transform(clips)
    return out, (lambda row, name: float(out[row, names.index(name)]))


def test_shape_dtype_and_names():
    clips = [harmonic(200), harmonic(150, 0.5)]
    est = ProsodyTransformer()
    out = est.fit_transform(clips)
    names = est.get_feature_names_out()
    assert out.shape == (2, 22 * 4 + 7) == (2, len(names))
    assert out.dtype == np.float32 and np.all(np.isfinite(out))
    assert len(set(names)) == len(names)
    assert names[0] == "f0_semitones_mean" and names[-1] == "duration_s"
    assert "spectral_contrast6_p90" in names and "jitter_std" in names

    custom = ProsodyTransformer(stats=("median", "p25", "max"))
    out = custom.fit_transform(clips)
    names = list(custom.get_feature_names_out())
    assert out.shape == (2, 22 * 3 + 7)
    assert names[:4] == ["f0_semitones_median", "hnr_db_median", "f0_semitones_p25", "hnr_db_p25"]


def test_harmonic_tone_f0_and_voicing():
    out, get = features([harmonic(200)])
    assert abs(get(0, "f0_semitones_mean") - semitones(200.0)) < 1.0
    assert abs(get(0, "f0_semitones_mean") - semitones(200.0)) < 0.05  # YIN is precise here
    assert get(0, "f0_semitones_std") < 0.05
    assert get(0, "voiced_fraction") > 0.95
    assert get(0, "mean_unvoiced_segment_s") == 0.0
    assert abs(get(0, "duration_s") - 1.0) < 1e-6
    assert get(0, "hnr_db_mean") > 20  # clean periodic signal


def test_louder_copy_raises_loudness_only():
    tone = harmonic(200)
    gain = 3.0
    out, get = features([tone, gain * tone])
    assert get(1, "loudness_db_mean") - get(0, "loudness_db_mean") == pytest.approx(
        20 * np.log10(gain), abs=0.01
    )
    for name in (
        "f0_semitones_mean",
        "voiced_fraction",
        "spectral_centroid_hz_mean",
        "jitter_mean",
    ):
        assert get(1, name) == pytest.approx(get(0, name), abs=1e-3)


def test_loudness_is_db_full_scale():
    t = np.arange(SR) / SR
    sine = np.sin(2 * np.pi * 1000 * t).astype(np.float32)
    _, get = features([sine])
    assert get(0, "loudness_db_p90") == pytest.approx(10 * np.log10(0.5), abs=0.05)


def test_rising_chirp_has_positive_f0_slope():
    # Exponential glide 150 -> 300 Hz over 1 s: one octave, 12 semitones per second.
    t = np.arange(SR) / SR
    out, get = features([harmonic(150 * 2**t), harmonic(300 * 2**-t)])
    assert get(0, "f0_slope_st_per_s") == pytest.approx(12.0, rel=0.1)
    assert get(1, "f0_slope_st_per_s") == pytest.approx(-12.0, rel=0.1)
    assert get(0, "f0_semitones_std") > 2.0


def test_noise_is_mostly_unvoiced_and_noisier():
    rng = np.random.default_rng(0)
    noise = (0.1 * rng.standard_normal(SR)).astype(np.float32)
    tone = harmonic(200)
    noisy = tone + (0.03 * rng.standard_normal(SR)).astype(np.float32)
    out, get = features([noise, tone, noisy])
    assert get(0, "voiced_fraction") < 0.1
    assert get(0, "spectral_flatness_mean") > 10 * get(1, "spectral_flatness_mean")
    assert get(0, "zcr_mean") > 0.3 > get(1, "zcr_mean")
    assert get(2, "hnr_db_mean") < get(1, "hnr_db_mean") - 5  # noise lowers the HNR proxy


@pytest.mark.parametrize("trim_db", [None, 30.0])
def test_silence_and_tiny_clips_are_finite(trim_db):
    clips = [np.zeros(SR, np.float32), np.zeros(100, np.float32), harmonic(200)[:100], np.ones(1)]
    est = ProsodyTransformer(trim_db=trim_db)
    out = est.fit_transform(clips)
    names = list(est.get_feature_names_out())
    assert np.all(np.isfinite(out))
    voiced = out[:, names.index("voiced_fraction")]
    np.testing.assert_array_equal(voiced, 0.0)  # no full frame, or nothing audible
    f0_cols = [
        i for i, n in enumerate(names) if n.startswith(("f0_", "hnr_", "jitter", "shimmer"))
    ]
    np.testing.assert_array_equal(out[:, f0_cols], 0.0)
    assert out[0, names.index("loudness_db_mean")] == pytest.approx(-100.0)
    assert out[0, names.index("spectral_centroid_hz_mean")] == 0.0  # no active frame
    assert out[1, names.index("duration_s")] == pytest.approx(100 / SR)


def test_trim_db_drops_leading_and_trailing_silence():
    rng = np.random.default_rng(0)
    pad = (1e-4 * rng.standard_normal(SR // 2)).astype(np.float32)
    clip = np.concatenate([pad, harmonic(200), pad])
    out, get = features([clip])
    trimmed, get_t = features([clip], trim_db=40.0)
    assert get(0, "duration_s") == pytest.approx(2.0)
    assert get_t(0, "duration_s") == pytest.approx(1.0, abs=0.03)
    assert get(0, "voiced_fraction") == pytest.approx(0.5, abs=0.03)
    assert get_t(0, "voiced_fraction") > 0.95
    assert get_t(0, "loudness_db_mean") > get(0, "loudness_db_mean") + 20


def test_f0_is_librosa_yin():
    rng = np.random.default_rng(1)
    t = np.arange(SR) / SR
    y = (harmonic(180 + 60 * t) + 0.05 * rng.standard_normal(SR)).astype(np.float32)
    spec = ProsodyTransformer()._resolve()
    frames = np.lib.stride_tricks.sliding_window_view(np.pad(y, 256), 512)[::160]
    f0, aperiodicity, periodicity = yin_track(frames, spec)
    ref = librosa.yin(y, fmin=65.0, fmax=600.0, sr=SR, frame_length=512, hop_length=160)
    np.testing.assert_allclose(f0, ref, rtol=1e-4)
    assert np.median(aperiodicity) < 0.3 and np.median(periodicity) > 0.8


def test_yin_skips_pauses_and_blocks_without_changing_the_features(monkeypatch):
    # YIN runs only on active frames (in blocks of BLOCK_FRAMES): the features must be
    # exactly those of YIN on every frame at once.
    from skser.features import _prosody

    rng = np.random.default_rng(2)
    pause = 1e-4 * rng.standard_normal(SR // 2).astype(np.float32)
    clip = np.concatenate([pause, harmonic(150, 0.6), pause, harmonic(220, 0.4), pause])
    skipping = ProsodyTransformer().fit_transform([clip])

    calls = []

    def every_frame(frames, mask, spec):
        calls.append(int(mask.sum()))
        return yin_track(frames, spec)

    monkeypatch.setattr(_prosody, "_yin_where", every_frame)
    np.testing.assert_array_equal(ProsodyTransformer().fit_transform([clip]), skipping)
    assert 0 < calls[-1] < 0.6 * len(clip) / 160  # the pauses were not active
    monkeypatch.undo()
    monkeypatch.setattr(_prosody, "BLOCK_FRAMES", 7)
    np.testing.assert_array_equal(ProsodyTransformer().fit_transform([clip]), skipping)


def test_n_jobs_paths_and_memory_give_identical_results(tmp_path):
    rng = np.random.default_rng(0)
    clips = [harmonic(120 + 30 * i, 0.5) + 0.01 * rng.standard_normal(8000) for i in range(4)]
    clips = [c.astype(np.float32) for c in clips]
    ref = ProsodyTransformer(n_jobs=1).fit_transform(clips)
    np.testing.assert_array_equal(ProsodyTransformer(n_jobs=2).fit_transform(clips), ref)
    paths = []
    for i, c in enumerate(clips):
        paths.append(tmp_path / f"c{i}.wav")
        sf.write(paths[-1], c, SR, subtype="FLOAT")
    cached = ProsodyTransformer(memory=str(tmp_path / "cache"))
    np.testing.assert_array_equal(cached.fit_transform(paths), ref)
    np.testing.assert_array_equal(cached.transform(paths), ref)  # from the cache


def test_clone_and_pickle():
    clips = [harmonic(200, 0.5), harmonic(300, 0.4)]
    est = ProsodyTransformer(trim_db=50.0, stats=("mean", "p50")).fit(clips)
    assert clone(est).get_params() == est.get_params()
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(clips), est.transform(clips))


def test_feature_union_with_mfcc_stats():
    clips = [harmonic(200, 0.5), harmonic(300, 0.4), harmonic(150, 0.6)]
    union = FeatureUnion(
        [("prosody", ProsodyTransformer()), ("mfcc", MFCCTransformer(output="stats"))]
    )
    out = union.fit_transform(clips)
    names = union.get_feature_names_out()
    assert out.shape == (3, 95 + 26) == (3, len(names))
    assert names[0] == "prosody__f0_semitones_mean" and names[-1] == "mfcc__mfcc12_std"


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(fmax=9000.0), "fmax"),
        (dict(fmin=-1.0), "fmin"),
        (dict(fmin=500.0, fmax=510.0), "fmin"),
        (dict(frame_length=200), "frame_length"),
        (dict(hop_length=0), "hop_length"),
        (dict(trim_db=-5.0), "trim_db"),
        (dict(stats=("mean", "p200")), "percentiles"),
        (dict(stats=("average",)), "stats"),
        (dict(stats="mean"), "stats"),
        (dict(stats=("mean", "mean")), "duplicates"),
        (dict(sr=2000), "frame_length"),  # too few FFT bins for the contrast bands
    ],
)
def test_invalid_parameters_are_named(params, match):
    with pytest.raises(ValueError, match=match):
        ProsodyTransformer(**params).fit([harmonic(200, 0.2)])


@pytest.mark.parametrize("sr", [8000, 44100])
def test_other_sample_rates(sr):
    rng = np.random.default_rng(0)
    clips = [harmonic(200, sr=sr), (0.1 * rng.standard_normal(sr)).astype(np.float32)]
    out, get = features(clips, sr=sr)
    assert np.all(np.isfinite(out))
    assert abs(get(0, "f0_semitones_mean") - semitones(200.0)) < 0.1
    assert get(0, "voiced_fraction") > 0.95 and get(1, "voiced_fraction") < 0.1


def test_synthetic_corpus_anger_is_louder_than_sadness():
    from skser.datasets import make_synthetic_corpus

    corpus = make_synthetic_corpus(n_speakers=4, n_per_class=3, duration=1.0)
    est = ProsodyTransformer()
    out = est.fit_transform(corpus.X)
    loudness = out[:, list(est.get_feature_names_out()).index("loudness_db_mean")]
    y = np.asarray(corpus.y)
    assert loudness[y == "anger"].mean() > loudness[y == "sadness"].mean() + 3.0


@pytest.mark.realdata
def test_ravdess_female_voices_are_higher(ravdess_dir):
    # Actor parity gives the sex (odd male, even female); same sentence, neutral.
    paths = [
        ravdess_dir / f"Actor_{a:02d}" / f"03-01-01-01-01-01-{a:02d}.flac" for a in range(1, 7)
    ]
    est = ProsodyTransformer(trim_db=40.0)
    out = est.fit_transform(paths)
    untrimmed = ProsodyTransformer().fit_transform(paths)
    names = list(est.get_feature_names_out())
    f0 = out[:, names.index("f0_semitones_mean")]
    assert f0[1::2].mean() > f0[0::2].mean() + 3  # female actors at least 3 semitones higher
    assert np.all((f0 > semitones(75)) & (f0 < semitones(400)))
    # RAVDESS clips start and end with silence: trimming shortens them and raises voicing.
    for name in ("duration_s", "voiced_fraction"):
        j = names.index(name)
        assert np.all(out[:, j] != untrimmed[:, j])
    assert np.all(out[:, names.index("duration_s")] < untrimmed[:, names.index("duration_s")])
    assert np.all(
        out[:, names.index("voiced_fraction")] > untrimmed[:, names.index("voiced_fraction")]
    )
