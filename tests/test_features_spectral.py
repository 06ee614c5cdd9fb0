"""Mel spectrogram, MFCC and GTCC transformers (skser.features._mel/_mfcc/_gtcc/_base)."""

from __future__ import annotations

import pickle

import librosa
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from sklearn.base import clone
from sklearn.pipeline import FeatureUnion

from skser.features import (
    GTCCTransformer,
    MelSpectrogramTransformer,
    MFCCTransformer,
    count_segments,
    gammatone_filterbank,
)

SR = 16000


def tone(freq, seconds, sr=SR, amp=0.5):
    t = np.arange(int(round(seconds * sr))) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture(scope="module")
def clips():
    rng = np.random.default_rng(0)
    return [
        (0.1 * rng.standard_normal(12345)).astype(np.float32),
        tone(440, 0.5) + 0.01 * rng.standard_normal(8000).astype(np.float32),
        tone(220, 1.7, amp=0.2),
    ]


# --------------------------------------------------------------------------- mel


@pytest.mark.parametrize(
    "params",
    [
        dict(n_fft=512, hop_length=160, win_length=400, n_mels=40),
        dict(n_fft=1024, hop_length=256, n_mels=64, fmin=50.0, fmax=7000.0),
        dict(n_fft=512, hop_length=128, n_mels=80, htk=True, mel_norm=None, power=1.0),
    ],
)
def test_mel_matches_librosa(clips, params):
    y = clips[0]
    ours = MelSpectrogramTransformer(scale="linear", **params).fit_transform([y])[0]
    lib_params = {k: v for k, v in params.items() if k != "mel_norm"}
    if "mel_norm" in params:
        lib_params["norm"] = params["mel_norm"]
    ref = librosa.feature.melspectrogram(y=y, sr=SR, **lib_params)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-6 * ref.max())
    db = MelSpectrogramTransformer(scale="db", **params).fit_transform([y])[0]
    power = params.get("power", 2.0)
    ref_db = librosa.power_to_db(ref) if power == 2.0 else librosa.amplitude_to_db(ref)
    np.testing.assert_allclose(db, ref_db, atol=1e-3)


def test_mel_uncentred_matches_librosa_when_window_fills_fft(clips):
    ours = MelSpectrogramTransformer(
        n_fft=400, hop_length=160, center=False, n_mels=40, scale="linear"
    ).fit_transform([clips[0]])[0]
    ref = librosa.feature.melspectrogram(
        y=clips[0], sr=SR, n_fft=400, hop_length=160, center=False, n_mels=40
    )
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-6 * ref.max())


def test_spectrogram_shapes_padding_and_cropping(clips):
    out = MelSpectrogramTransformer(n_mels=32).fit_transform(clips)
    n_frames = [1 + len(c) // 160 for c in clips]
    assert out.shape == (3, 32, max(n_frames)) and out.dtype == np.float32
    # The shorter clip is zero-padded at the end, the longest is untouched.
    assert np.all(out[1, :, n_frames[1] :] == 0)
    assert np.any(out[1, :, n_frames[1] - 1] != 0)
    cropped = MelSpectrogramTransformer(n_mels=32, max_frames=20).fit_transform(clips)
    np.testing.assert_array_equal(cropped, out[:, :, :20])
    fixed = MelSpectrogramTransformer(n_mels=32, duration=0.25).fit_transform(clips)
    assert fixed.shape == (3, 32, 1 + 4000 // 160)


def test_spectrogram_normalize_options(clips):
    z = MelSpectrogramTransformer(normalize="clip", duration=0.5).fit_transform(clips)
    np.testing.assert_allclose(z.mean(axis=(1, 2)), 0, atol=1e-4)
    np.testing.assert_allclose(z.std(axis=(1, 2)), 1, atol=1e-3)
    m = MelSpectrogramTransformer(normalize="minmax", duration=0.5).fit_transform(clips)
    np.testing.assert_allclose(m.min(axis=(1, 2)), 0, atol=1e-6)
    np.testing.assert_allclose(m.max(axis=(1, 2)), 1, atol=1e-6)


def test_ref_max_makes_db_loudness_invariant(clips):
    mel = MelSpectrogramTransformer(ref="max")
    loud, quiet = mel.fit_transform([clips[2], 0.1 * clips[2]])
    above_floor = loud > -60  # the quiet copy reaches librosa's 1e-10 power floor sooner
    np.testing.assert_allclose(loud[above_floor], quiet[above_floor], atol=1e-3)
    assert loud.max() == pytest.approx(0.0, abs=1e-5)


def test_image_mode_follows_fser(clips):
    mel = MelSpectrogramTransformer(output="image")
    spec = mel._resolve()
    assert (spec.stft.n_fft, spec.stft.hop_length, spec.stft.win_length) == (512, 512, 512)
    assert spec.n_mels == 128 and spec.stft.window == "hann"
    img = mel.fit_transform(clips)
    assert img.shape == (3, 64, 64, 3) and img.dtype == np.float32
    assert img.min() >= 0 and img.max() <= 1
    # coolwarm: the quietest pixel is blue-ish, the loudest red-ish.
    flat = img[2].reshape(-1, 3)
    grey = MelSpectrogramTransformer(output="image", colormap=None).fit_transform(clips)
    g = grey[2].reshape(-1, 3)
    lo, hi = flat[np.argmin(g[:, 0])], flat[np.argmax(g[:, 0])]
    assert lo[2] > lo[0] and hi[0] > hi[2]


def test_image_grey_channels_and_orientation():
    low = tone(150, 1.0)
    grey = MelSpectrogramTransformer(
        output="image", colormap=None, image_size=(32, 48)
    ).fit_transform([low])[0]
    assert grey.shape == (32, 48, 3)
    np.testing.assert_array_equal(grey[..., 0], grey[..., 1])
    np.testing.assert_array_equal(grey[..., 0], grey[..., 2])
    row_energy = grey[..., 0].mean(axis=1)
    # A low tone is bright at the bottom of the picture (low frequencies at the bottom).
    assert np.argmax(row_energy) >= 24


def test_segments_mode_follows_yamnet_and_pads_with_zero_segments(clips):
    mel = MelSpectrogramTransformer(output="segments")
    assert mel.frames_per_segment() == 96
    waves = [tone(300, 0.3), tone(500, 2.5), np.zeros(SR, dtype=np.float32)]
    out = mel.fit_transform(waves)
    counts = mel.segment_counts(waves)
    # 1 + ceil((n - 15600) / 7800) segments per clip.
    np.testing.assert_array_equal(counts, [1, 5, 2])
    assert out.shape == (3, 5, 96, 64) and out.dtype == np.float32
    np.testing.assert_array_equal(count_segments(out), counts)
    for i, c in enumerate(counts):
        assert np.all(out[i, c:] == 0)
        assert all(np.any(out[i, s] != 0) for s in range(c))
    # log(mel + 0.001): silence sits at log(0.001), never at 0.
    np.testing.assert_allclose(out[2, :2], np.log(0.001), atol=1e-6)
    capped = MelSpectrogramTransformer(output="segments", max_segments=3)
    assert capped.fit_transform(waves).shape == (3, 3, 96, 64)
    np.testing.assert_array_equal(capped.segment_counts(waves), [1, 3, 2])


def test_segment_patch_equals_uncentred_log_mel_of_that_window():
    wave = tone(700, 2.0) + tone(1900, 2.0, amp=0.1)
    seg = MelSpectrogramTransformer(output="segments").fit_transform([wave])[0]
    second = wave[7800 : 7800 + 15600]
    ref = MelSpectrogramTransformer(
        center=False, n_mels=64, fmin=125.0, fmax=7500.0, htk=True, mel_norm=None,
        power=1.0, scale="log",
    ).fit_transform([second])[0]  # fmt: skip
    np.testing.assert_allclose(seg[1], ref.T, rtol=1e-5, atol=1e-5)


def test_real_segments_never_all_zero_even_after_standardization():
    mel = MelSpectrogramTransformer(output="segments", normalize="clip")
    out = mel.fit_transform([np.zeros(20000, dtype=np.float32), tone(400, 0.5)])
    np.testing.assert_array_equal(
        count_segments(out), mel.segment_counts([np.zeros(20000), tone(400, 0.5)])
    )
    assert np.all(np.isfinite(out))


# --------------------------------------------------------------------------- MFCC


@pytest.mark.parametrize(
    "params",
    [
        dict(),
        dict(n_mfcc=20, n_fft=1024, hop_length=256, n_mels=64, lifter=22),
        dict(n_mfcc=40, n_mels=40, fmin=20.0, fmax=7600.0, top_db=None),
    ],
)
def test_mfcc_matches_librosa(clips, params):
    y = clips[0]
    ours = MFCCTransformer(**params).fit_transform([y])[0]
    lib = dict(n_mfcc=13, n_fft=512, hop_length=160, win_length=400, n_mels=40)
    lib.update(params)
    if "n_fft" in params:
        lib.pop("win_length")
    top_db = lib.pop("top_db", 80.0)
    S = librosa.power_to_db(
        librosa.feature.melspectrogram(
            y=y, sr=SR, **{k: v for k, v in lib.items() if k not in ("n_mfcc", "lifter")}
        ),
        top_db=top_db,
    )
    ref = librosa.feature.mfcc(S=S, n_mfcc=lib["n_mfcc"], lifter=lib.get("lifter", 0)).T
    assert ours.shape == ref.shape and ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, atol=1e-3 * np.abs(ref).max())


def test_mfcc_default_equals_librosa_mfcc_call(clips):
    y = clips[0]
    ours = MFCCTransformer().fit_transform([y])[0]
    ref = librosa.feature.mfcc(
        y=y, sr=SR, n_mfcc=13, n_fft=512, hop_length=160, win_length=400, n_mels=40
    ).T
    np.testing.assert_allclose(ours, ref, atol=1e-3)


def test_mfcc_deltas_and_cmvn(clips):
    y = clips[0]
    seq = MFCCTransformer(deltas=True).fit_transform([y])[0]
    base = librosa.feature.mfcc(
        y=y, sr=SR, n_mfcc=13, n_fft=512, hop_length=160, win_length=400, n_mels=40
    )
    ref = np.concatenate(
        [base, librosa.feature.delta(base), librosa.feature.delta(base, order=2)]
    ).T
    np.testing.assert_allclose(seq, ref, atol=1e-3)
    normed = MFCCTransformer(deltas=True, cmvn=True).fit_transform([y])[0]
    np.testing.assert_allclose(normed.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(normed.std(axis=0), 1, atol=1e-3)
    with pytest.raises(ValueError, match="cmvn"):
        MFCCTransformer(cmvn=True, output="stats").fit_transform([y])


def test_mfcc_sequence_padding_and_stats(clips):
    mfcc = MFCCTransformer()
    seq = mfcc.fit_transform(clips)
    lengths = [1 + len(c) // 160 for c in clips]
    assert seq.shape == (3, max(lengths), 13)
    assert np.all(seq[1, lengths[1] :] == 0)
    assert MFCCTransformer(max_frames=30).fit_transform(clips).shape == (3, 30, 13)
    stats = MFCCTransformer(output="stats", stats=("mean", "std", "max")).fit(clips)
    pooled = stats.transform(clips)
    assert pooled.shape == (3, 39) and pooled.dtype == np.float32
    # Statistics come from each clip's own frames, not from the zero padding.
    for i, n in enumerate(lengths):
        real = seq[i, :n]
        np.testing.assert_allclose(pooled[i, :13], real.mean(axis=0), rtol=1e-4, atol=1e-3)
        np.testing.assert_allclose(pooled[i, 13:26], real.std(axis=0), rtol=1e-4, atol=1e-3)
        np.testing.assert_allclose(pooled[i, 26:], real.max(axis=0), rtol=1e-4, atol=1e-3)
    names = stats.get_feature_names_out()
    assert names[0] == "mfcc0_mean" and names[13] == "mfcc0_std" and names[-1] == "mfcc12_max"
    names = MFCCTransformer(output="stats", deltas=True).get_feature_names_out()
    assert len(names) == 78 and "mfcc3_delta2_std" in names
    assert not hasattr(MFCCTransformer(output="sequence"), "get_feature_names_out")


# --------------------------------------------------------------------------- GTCC


def test_gammatone_filterbank_erb_spacing():
    weights, cf = gammatone_filterbank(SR, 512, n_filters=64, fmin=50.0)
    assert weights.shape == (64, 257) and weights.dtype == np.float32
    assert cf[0] == pytest.approx(50.0) and cf[-1] == pytest.approx(8000.0)
    assert np.all(np.diff(cf) > 0)
    erb_rate = 21.4 * np.log10(1 + 4.37e-3 * cf)
    np.testing.assert_allclose(np.diff(erb_rate), np.diff(erb_rate)[0], rtol=1e-9)
    # Each channel peaks (on the FFT grid) at the bin nearest its centre frequency.
    fine, cf_fine = gammatone_filterbank(SR, 8192, n_filters=16, fmin=200.0, fmax=6000.0)
    freqs = np.fft.rfftfreq(8192, 1 / SR)
    np.testing.assert_allclose(freqs[np.argmax(fine, axis=1)], cf_fine, atol=freqs[1])
    assert np.all(fine.max(axis=1) <= 1.0 + 1e-6)


@pytest.mark.parametrize("channel", [20, 35, 50])
def test_pure_tone_excites_the_nearest_channel(channel):
    weights, cf = gammatone_filterbank(SR, 512, n_filters=64)
    wave = tone(cf[channel], 0.5)
    spec = np.abs(librosa.stft(wave, n_fft=512, hop_length=160, win_length=400)) ** 2
    energy = (weights.astype(np.float64) ** 2 @ spec).mean(axis=1)
    assert np.argmax(energy) == channel


def test_gtcc_shapes_and_dct_of_log_gammatone_energies(clips):
    y = clips[1]
    gtcc = GTCCTransformer(n_gtcc=20).fit_transform([y])[0]
    assert gtcc.shape == (1 + len(y) // 160, 20) and gtcc.dtype == np.float32
    weights, _ = gammatone_filterbank(SR, 512)
    power = np.abs(librosa.stft(y, n_fft=512, hop_length=160, win_length=400)) ** 2
    log_e = librosa.power_to_db(weights.astype(np.float64) ** 2 @ power, top_db=80.0)
    import scipy.fft

    ref = scipy.fft.dct(log_e, type=2, norm="ortho", axis=0)[:20].T
    np.testing.assert_allclose(gtcc, ref, atol=1e-2)
    stats = GTCCTransformer(output="stats", deltas=True).fit(clips)
    assert stats.transform(clips).shape == (3, 13 * 3 * 2)
    assert stats.get_feature_names_out()[0] == "gtcc0_mean"


# --------------------------------------------------------------------------- every transformer

ALL = [
    MelSpectrogramTransformer(),
    MelSpectrogramTransformer(output="image"),
    MelSpectrogramTransformer(output="segments"),
    MelSpectrogramTransformer(normalize="clip", scale="log"),
    MFCCTransformer(deltas=True, cmvn=True),
    MFCCTransformer(output="stats", deltas=True),
    GTCCTransformer(deltas=True, cmvn=True),
    GTCCTransformer(output="stats", stats=("mean", "std", "slope")),
]
IDS = ["mel", "image", "segments", "mel-log-clip", "mfcc", "mfcc-stats", "gtcc", "gtcc-stats"]


@pytest.mark.parametrize("transformer", ALL, ids=IDS)
@pytest.mark.parametrize("n_samples", [1, 100, 511, SR])
def test_silence_and_very_short_clips_give_finite_features(transformer, n_samples):
    silent = np.zeros(n_samples, dtype=np.float32)
    short_noise = np.random.default_rng(1).standard_normal(n_samples).astype(np.float32) * 0.1
    out = clone(transformer).fit_transform([silent, short_noise])
    assert out.dtype == np.float32 and out.shape[0] == 2
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("transformer", ALL, ids=IDS)
def test_clone_pickle_and_list_vs_2d_array(transformer, clips):
    waves = np.stack([c[:8000] for c in clips])
    expected = transformer.fit_transform(waves)
    np.testing.assert_array_equal(transformer.fit_transform(list(waves)), expected)
    restored = pickle.loads(pickle.dumps(transformer))
    np.testing.assert_array_equal(restored.transform(waves), expected)
    assert clone(transformer).get_params() == transformer.get_params()


def test_n_jobs_two_equals_n_jobs_one(clips):
    for transformer in (
        MelSpectrogramTransformer(output="segments"),
        GTCCTransformer(output="stats"),
    ):
        one = transformer.set_params(n_jobs=1).fit_transform(clips)
        two = clone(transformer).set_params(n_jobs=2).fit_transform(clips)
        np.testing.assert_array_equal(one, two)


@pytest.mark.slow  # starting worker processes takes seconds on a busy machine
def test_process_backend_gives_the_same_result(clips):
    from joblib import parallel_config

    mfcc = MFCCTransformer(output="stats", deltas=True, n_jobs=2)
    with parallel_config(backend="loky"):
        in_processes = mfcc.fit_transform(clips)
    np.testing.assert_array_equal(in_processes, mfcc.set_params(n_jobs=1).fit_transform(clips))


def test_paths_and_arrays_give_the_same_features(tmp_path, clips):
    paths = []
    for i, c in enumerate(clips):
        path = tmp_path / f"clip{i}.wav"
        sf.write(path, c, SR, subtype="FLOAT")
        paths.append(str(path))
    for transformer in (MFCCTransformer(output="stats"), MelSpectrogramTransformer()):
        np.testing.assert_allclose(
            transformer.fit_transform(paths), transformer.fit_transform(clips), atol=1e-5
        )


def test_memory_caches_per_clip_and_sees_edited_files(tmp_path, clips):
    path = tmp_path / "clip.wav"
    sf.write(path, clips[1], SR, subtype="FLOAT")
    cache = tmp_path / "cache"
    mfcc = MFCCTransformer(output="stats", memory=str(cache))
    first = mfcc.fit_transform([str(path), clips[0]])
    assert any(cache.rglob("output.pkl"))
    np.testing.assert_array_equal(mfcc.transform([str(path), clips[0]]), first)
    np.testing.assert_allclose(
        first, MFCCTransformer(output="stats").fit_transform([clips[1], clips[0]]), atol=1e-5
    )
    sf.write(path, clips[2], SR, subtype="FLOAT")  # edited file: new size
    edited = mfcc.transform([str(path)])
    np.testing.assert_allclose(
        edited, MFCCTransformer(output="stats").fit_transform([clips[2]]), atol=1e-5
    )


def test_feature_union_and_pandas_output():
    waves = [tone(200 + 50 * i, 0.4 + 0.1 * i) for i in range(4)]
    union = FeatureUnion(
        [("mfcc", MFCCTransformer(output="stats")), ("gtcc", GTCCTransformer(output="stats"))]
    )
    out = union.fit_transform(waves)
    assert out.shape == (4, 52)
    names = union.get_feature_names_out()
    assert names[0] == "mfcc__mfcc0_mean" and names[-1] == "gtcc__gtcc12_std"
    frame = union.set_output(transform="pandas").fit_transform(waves)
    assert isinstance(frame, pd.DataFrame) and list(frame.columns) == list(names)
    np.testing.assert_allclose(frame.to_numpy(), out)


@pytest.mark.parametrize(
    ("transformer", "match"),
    [
        (MelSpectrogramTransformer(output="picture"), "output"),
        (MelSpectrogramTransformer(fmax=9000.0), "fmax"),
        (MelSpectrogramTransformer(n_fft=256, win_length=400), "win_length"),
        (MelSpectrogramTransformer(normalize="zscore"), "normalize"),
        (MelSpectrogramTransformer(output="image", colormap="not-a-map"), "colormap"),
        (MelSpectrogramTransformer(scale="log", log_offset=0), "log_offset"),
        (MelSpectrogramTransformer(window=np.ones(4)), "window"),
        (MFCCTransformer(n_mfcc=50, n_mels=40), "coefficients"),
        (MFCCTransformer(output="stats", stats=("mean", "mode")), "stats"),
        (GTCCTransformer(fmin=9000.0), "fmin"),
        (GTCCTransformer(n_jobs="two"), "n_jobs"),
    ],
)
def test_bad_parameters_are_named(transformer, match):
    with pytest.raises(ValueError, match=match):
        transformer.fit_transform([tone(300, 0.2)])


def test_bad_clip_is_named():
    bad = tone(300, 0.1).copy()
    bad[5] = np.nan
    with pytest.raises(ValueError, match=r"X\[1\]"):
        MFCCTransformer().fit_transform([tone(300, 0.1), bad])
    with pytest.raises(FileNotFoundError, match="missing.wav"):
        MelSpectrogramTransformer().fit_transform(["missing.wav"])


@pytest.mark.realdata
def test_real_ravdess_clips(ravdess_dir):
    paths = sorted(str(p) for p in (ravdess_dir / "Actor_01").glob("*.flac"))[:3]
    seg = MelSpectrogramTransformer(output="segments").fit_transform(paths)
    assert seg.shape[2:] == (96, 64) and seg.shape[1] >= 5
    feats = FeatureUnion(
        [("mfcc", MFCCTransformer(output="stats")), ("gtcc", GTCCTransformer(output="stats"))]
    ).fit_transform(paths)
    assert feats.shape == (3, 52) and np.all(np.isfinite(feats))
