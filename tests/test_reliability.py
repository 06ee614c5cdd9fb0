"""Reliability and security: bad input, long input, faults and integrity, across the package.

Cases the per-module tests already cover (load_audio on corrupt files, the
fetch checksum, load_model on foreign files, ...) are not repeated; this
module checks the same guarantees for EVERY transformer and fills the gaps.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tracemalloc
import warnings
from pathlib import Path, PurePosixPath

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut
from sklearn.preprocessing import StandardScaler

import skser.features._base as feature_base
import skser.features._mel as mel_module
from skser.audio import AudioLoader, FixedLength, Segmenter, fix_length, load_audio
from skser.augment import SpectrogramAugmenter, WaveformAugmenter
from skser.datasets import _fetch, combine, fetch_emodb, make_synthetic_corpus
from skser.datasets._cremad import parse_cremad
from skser.datasets._emodb import load_emodb, parse_emodb
from skser.datasets._emovo import parse_emovo
from skser.datasets._ravdess import parse_ravdess
from skser.datasets._savee import parse_savee
from skser.datasets._tess import parse_tess
from skser.features import (
    EmbeddingTransformer,
    GTCCTransformer,
    MelSpectrogramTransformer,
    MFCCTransformer,
    ProsodyTransformer,
    SpeakerStandardScaler,
    TemporalPooling,
)
from skser.model_selection import evaluate

SR = 16000
YAMNET = Path(__file__).resolve().parents[2] / "shared" / "models" / "yamnet.tflite"
needs_yamnet = pytest.mark.skipif(not YAMNET.exists(), reason=f"{YAMNET} is absent")


def tone(freq=440.0, seconds=0.5, sr=SR, amp=0.3):
    t = np.arange(int(round(seconds * sr))) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def noise(n, seed=0, amp=0.1):
    return (amp * np.random.default_rng(seed).standard_normal(n)).astype(np.float32)


# Every step that takes audio clips, in every output mode (Embedding only where the
# weights are needed: its audio is read and checked before the weights are opened).
AUDIO_STEPS = {
    "loader": AudioLoader(),
    "fixed": FixedLength(duration=0.2),
    "segmenter": Segmenter(window=0.1),
    "mel": MelSpectrogramTransformer(),
    "mel-image": MelSpectrogramTransformer(output="image"),
    "mel-segments": MelSpectrogramTransformer(output="segments"),
    "mfcc": MFCCTransformer(deltas=True),
    "mfcc-stats": MFCCTransformer(output="stats"),
    "gtcc": GTCCTransformer(),
    "gtcc-stats": GTCCTransformer(output="stats"),
    "prosody": ProsodyTransformer(),
    "embedding": EmbeddingTransformer(weights="no-such-weights.tflite"),
}
FEATURE_STEPS = {k: v for k, v in AUDIO_STEPS.items() if k not in ("loader", "fixed", "segmenter")}
FEATURE_STEPS_NO_MODEL = {k: v for k, v in FEATURE_STEPS.items() if k != "embedding"}


def _fit_transform(step, X):
    return clone(step).fit_transform(X)


# =========================================================================== bad files


def _bad_files(folder: Path) -> dict[str, Path]:
    """Files that are not (complete) audio, written the way they occur in the wild."""
    good = folder / "good.wav"
    sf.write(good, tone(), SR, subtype="PCM_16")
    data = good.read_bytes()
    files = {
        "zero-length": b"",
        "header-only": data[:44],
        "cut-in-header": data[:20],
        "text": b"this is a transcript, not audio\n" * 20,
        "random-bytes": np.random.default_rng(0).bytes(4000),
    }
    out = {}
    for name, content in files.items():
        path = folder / f"{name}.wav"
        path.write_bytes(content)
        out[name] = path
    flac = folder / "good.flac"
    sf.write(flac, tone(seconds=2.0), SR, format="FLAC")
    cut = folder / "truncated.flac"
    cut.write_bytes(flac.read_bytes()[:200])  # cut inside the first frame
    out["truncated-flac"] = cut
    return out


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    return _bad_files(tmp_path_factory.mktemp("bad"))


@pytest.mark.parametrize("step", list(AUDIO_STEPS), ids=list(AUDIO_STEPS))
def test_every_step_names_the_unreadable_file(step, bad_files):
    good = str(bad_files["zero-length"].parent / "good.wav")
    for path in bad_files.values():
        with pytest.raises(ValueError, match=f"{path.name}.*(not audio or corrupt|no samples)"):
            _fit_transform(AUDIO_STEPS[step], [good, str(path)])


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_bad_file_in_a_parallel_batch_is_named(bad_files, n_jobs):
    good = str(bad_files["text"].parent / "good.wav")
    X = [good] * 3 + [str(bad_files["text"])] + [good] * 2
    with pytest.raises(ValueError, match="text.wav"):
        MFCCTransformer(output="stats", n_jobs=n_jobs).fit_transform(X)
    with pytest.raises(FileNotFoundError, match="missing.flac"):
        MelSpectrogramTransformer(n_jobs=n_jobs).fit_transform([good, "missing.flac"])


# =========================================================================== in-memory clips


@pytest.mark.parametrize("step", list(AUDIO_STEPS), ids=list(AUDIO_STEPS))
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_samples_are_named_for_every_step(step, bad):
    clip = tone()
    clip[100] = bad
    with pytest.raises(ValueError, match=r"X\[1\] contains NaN or infinite"):
        _fit_transform(AUDIO_STEPS[step], [tone(), clip])
    with pytest.raises(ValueError, match=r"X\[1\] contains NaN or infinite"):
        _fit_transform(AUDIO_STEPS[step], np.stack([tone(), clip]))  # 2-D: one clip per row


@pytest.mark.parametrize("step", list(AUDIO_STEPS), ids=list(AUDIO_STEPS))
def test_two_d_clip_and_three_d_batch_are_rejected(step):
    with pytest.raises(ValueError, match=r"X\[1\] must be a 1-D waveform.*down-mix"):
        _fit_transform(AUDIO_STEPS[step], [tone(), np.zeros((2, 800), np.float32)])
    with pytest.raises(ValueError, match="got an array of shape"):
        _fit_transform(AUDIO_STEPS[step], np.zeros((2, 2, 800), np.float32))
    with pytest.raises(ValueError, match="single 1-D numeric array"):
        _fit_transform(AUDIO_STEPS[step], tone())  # one clip without the list around it


@pytest.mark.parametrize("step", list(AUDIO_STEPS), ids=list(AUDIO_STEPS))
def test_empty_input_is_a_clear_error(step):
    for X in ([], np.empty((0, 100), np.float32)):
        with pytest.raises(ValueError, match="X is empty"):
            _fit_transform(AUDIO_STEPS[step], X)
    with pytest.raises(ValueError, match=r"X\[0\] is an empty waveform"):
        _fit_transform(AUDIO_STEPS[step], np.empty((2, 0), np.float32))
    with pytest.raises(ValueError, match=r"X\[0\] is not numeric audio"):
        _fit_transform(AUDIO_STEPS[step], [np.ones(100, complex)])


def test_empty_input_for_the_feature_level_steps():
    with pytest.raises(ValueError, match="empty"):
        TemporalPooling().fit_transform([])
    with pytest.raises(ValueError):
        SpeakerStandardScaler().fit_transform(np.empty((0, 3)), groups=[])
    with pytest.raises(ValueError):
        WaveformAugmenter(gain_db=3.0).fit_resample([], [])
    with pytest.raises(ValueError):
        SpectrogramAugmenter(width_shift=0.1).fit_resample(np.empty((0, 4, 4)), [])


def _pcm(wave: np.ndarray, dtype: str) -> np.ndarray:
    if dtype == "int16":
        return np.round(wave * 32767).astype(np.int16)
    if dtype == "int32":
        return np.round(wave * (2**31 - 1)).astype(np.int32)
    if dtype == "uint8":
        return np.round(wave * 127 + 128).astype(np.uint8)
    return wave.astype(dtype)


@pytest.mark.parametrize(
    ("dtype", "atol"), [("int16", 1 / 32767), ("int32", 1e-7), ("uint8", 1 / 127), ("float64", 0)]
)
def test_integer_and_float64_clips_are_scaled_to_float32(dtype, atol):
    wave = tone(300, 0.2)
    (loaded,) = AudioLoader().fit_transform([_pcm(wave, dtype)])
    assert loaded.dtype == np.float32
    np.testing.assert_allclose(loaded, wave, atol=atol + 1e-7)


@pytest.mark.parametrize("step", list(FEATURE_STEPS_NO_MODEL), ids=list(FEATURE_STEPS_NO_MODEL))
@pytest.mark.parametrize("dtype", ["int16", "int32", "float64"])
def test_features_of_integer_and_float64_clips_match_float32(step, dtype):
    wave = tone(300, 0.4) + noise(6400, amp=0.05)
    as_float = _fit_transform(FEATURE_STEPS[step], [wave])
    other = _fit_transform(FEATURE_STEPS[step], [_pcm(wave, dtype)])
    assert other.dtype == np.float32
    # int16 quantization noise sits ~90 dB below this clip: features agree closely.
    tol = 0 if dtype == "float64" else (0.05 if dtype == "int16" else 1e-3)
    np.testing.assert_allclose(other, as_float, atol=tol, rtol=tol)


# =========================================================================== silence


def _silence_cases():
    cases = []
    for output in ("spectrogram", "image", "segments"):
        for scale in ("db", "log", "linear"):
            for normalize in (None, "clip", "minmax"):
                for ref in (1.0, "max"):
                    cases.append(
                        MelSpectrogramTransformer(
                            output=output, scale=scale, normalize=normalize, ref=ref, top_db=None
                        )
                    )
    cases.append(MelSpectrogramTransformer(output="segments", frontend="yamnet"))
    all_stats = ("mean", "std", "min", "max", "median", "slope")
    for cls in (MFCCTransformer, GTCCTransformer):
        for output in ("sequence", "stats"):
            cmvn = output == "sequence"  # stats of CMVN'd coefficients are refused as constant
            cases.append(
                cls(output=output, stats=all_stats, deltas=True, cmvn=cmvn, lifter=22, top_db=None)
            )
    cases.append(ProsodyTransformer(stats=("mean", "std", "p10", "p90"), trim_db=30.0))
    cases.append(ProsodyTransformer())
    return cases


@pytest.mark.parametrize("transformer", _silence_cases(), ids=lambda t: repr(t)[:80])
def test_silence_gives_finite_features_in_every_mode(transformer):
    silent = [np.zeros(8000, np.float32), np.zeros(5, np.float32), np.full(3000, 0.5, np.float32)]
    out = transformer.fit_transform(silent)
    assert out.dtype == np.float32 and len(out) == 3
    assert np.all(np.isfinite(out))


def test_silent_features_stay_finite_through_pooling_scaling_and_augmentation():
    silent = [np.zeros(8000, np.float32)] * 4
    seq = MFCCTransformer(cmvn=True).fit_transform(silent)
    pooled = TemporalPooling(stats=("mean", "std", "slope")).fit_transform(seq)
    scaled = SpeakerStandardScaler().fit_transform(pooled, groups=["a", "a", "b", "b"])
    assert np.all(np.isfinite(pooled)) and np.all(np.isfinite(scaled))
    waves, _ = WaveformAugmenter(noise_snr_db=10.0, gain_db=(-6, 6), random_state=0).fit_resample(
        silent, ["x", "y", "x", "y"]
    )
    assert all(np.all(np.isfinite(w)) for w in waves)
    specs, _ = SpectrogramAugmenter(
        zoom=0.2, width_shift=0.1, time_masks=2, freq_masks=2, random_state=0
    ).fit_resample(np.zeros((2, 16, 20), np.float32), ["x", "y"])
    assert np.all(np.isfinite(specs))


@pytest.mark.realdata
@needs_yamnet
@pytest.mark.parametrize("output", ["pooled", "segments", "scores"])
def test_embedding_of_silence_is_finite_in_every_output(output):
    est = EmbeddingTransformer(
        weights=YAMNET, output=output, pooling=("mean", "std", "max", "min")
    )
    out = est.fit_transform([np.zeros(SR, np.float32), np.zeros(3, np.float32)])
    assert out.dtype == np.float32 and np.all(np.isfinite(out))


# =========================================================================== short clips


@pytest.mark.parametrize("n", [1, 50, 399, 511])
def test_clips_shorter_than_the_fft_window_are_zero_padded_consistently(n):
    clip = noise(n, seed=n)
    padded = np.zeros(512, np.float32)
    padded[:n] = clip
    # center=True (librosa framing): 1 + n // hop frames; zeros are part of the framing,
    # so the frames a longer zero-padded clip shares with it are identical.
    for step in (MelSpectrogramTransformer(), MFCCTransformer(), GTCCTransformer()):
        short = step.fit_transform([clip])
        assert short.shape[1 if isinstance(step, MelSpectrogramTransformer) else 1] >= 1
        assert np.all(np.isfinite(short))
    mel = MelSpectrogramTransformer(top_db=None)  # top_db is relative to each clip's peak
    short, long = mel.fit_transform([clip])[0], mel.fit_transform([padded])[0]
    frames = 1 + n // 160
    assert short.shape[1] == frames
    np.testing.assert_allclose(short, long[:, :frames], rtol=1e-5, atol=1e-4)
    # center=False (YAMNet/TF framing): padded at the end to one window, one frame.
    for step in (
        MelSpectrogramTransformer(center=False),
        MFCCTransformer(center=False),
        GTCCTransformer(center=False),
    ):
        a = step.fit_transform([clip])
        b = step.fit_transform([padded[:400]])  # exactly one window of 400 samples
        np.testing.assert_array_equal(a, b)
    # "segments": a clip shorter than a segment is one zero-padded segment.
    seg = MelSpectrogramTransformer(output="segments")
    one = np.zeros(15600, np.float32)
    one[:n] = clip
    np.testing.assert_array_equal(seg.fit_transform([clip]), seg.fit_transform([one]))


@pytest.mark.realdata
@needs_yamnet
def test_embedding_pads_short_clips_like_the_segment_mode():
    clip = noise(300)
    one = np.zeros(15600, np.float32)
    one[:300] = clip
    est = EmbeddingTransformer(weights=YAMNET, output="segments", max_segments=1)
    np.testing.assert_array_equal(est.fit_transform([clip]), est.fit_transform([one]))


# =========================================================================== files: rates, channels


@pytest.mark.parametrize("rate", [8000, 11025, 22050, 44100, 96000, 192000])
def test_unusual_sample_rates_are_resampled_keeping_the_pitch(tmp_path, rate):
    path = tmp_path / f"tone_{rate}.wav"
    sf.write(path, tone(1000.0, 1.0, sr=rate), rate, subtype="PCM_16")
    wave, got = load_audio(path, sr=SR)
    assert got == SR and abs(len(wave) - SR) <= 1
    spectrum = np.abs(np.fft.rfft(wave * np.hanning(len(wave))))
    assert abs(np.fft.rfftfreq(len(wave), 1 / SR)[spectrum.argmax()] - 1000.0) <= 1.0
    # Features read from the file equal those of a native 16 kHz tone, up to resampling error.
    mel = MelSpectrogramTransformer(n_mels=40, top_db=60.0)
    from_file = mel.fit_transform([str(path)])[0]
    native = mel.fit_transform([tone(1000.0, 1.0)])[0]
    assert from_file.mean(axis=1).argmax() == native.mean(axis=1).argmax()


@pytest.mark.parametrize("step", list(FEATURE_STEPS_NO_MODEL), ids=list(FEATURE_STEPS_NO_MODEL))
def test_multichannel_files_are_down_mixed_for_every_transformer(tmp_path, step):
    left, right = tone(300, 0.5), noise(8000, seed=3)
    path = tmp_path / "stereo.flac"
    sf.write(path, np.stack([left, right], axis=1), SR, subtype="PCM_24")
    mixed = ((left.astype(np.float64) + right) / 2).astype(np.float32)
    np.testing.assert_allclose(
        _fit_transform(FEATURE_STEPS[step], [str(path)]),
        _fit_transform(FEATURE_STEPS[step], [mixed]),
        atol=2e-3, rtol=2e-3,
    )  # fmt: skip


# =========================================================================== long input


@pytest.mark.parametrize(
    "step",
    [
        MelSpectrogramTransformer(),
        MelSpectrogramTransformer(output="image"),
        MelSpectrogramTransformer(output="segments", scale="db", normalize="clip"),
        MelSpectrogramTransformer(output="segments", frontend="yamnet"),
        MFCCTransformer(deltas=True),
        GTCCTransformer(output="stats"),
        ProsodyTransformer(),
    ],
    ids=["mel", "image", "segments-db", "segments-yamnet", "mfcc", "gtcc-stats", "prosody"],
)
def test_block_processing_equals_the_whole_clip(monkeypatch, step):
    clip = tone(220, 12.0) + noise(12 * SR, amp=0.02)
    monkeypatch.setattr(feature_base, "BLOCK_FRAMES", 10**9)
    monkeypatch.setattr(mel_module, "_BLOCK_SEGMENTS", 10**9)
    whole = step.fit_transform([clip, clip[:5000]])
    monkeypatch.setattr(feature_base, "BLOCK_FRAMES", 37)
    monkeypatch.setattr(mel_module, "_BLOCK_SEGMENTS", 3)
    blocked = step.fit_transform([clip, clip[:5000]])
    # Stacked segments and the per-frame FFT are bitwise equal; BLAS may round the
    # filterbank product of a different number of frames in the last float32 bit.
    np.testing.assert_allclose(blocked, whole, rtol=1e-5, atol=1e-4)


@pytest.mark.realdata
@needs_yamnet
def test_embedding_windows_in_blocks_equal_one_pass(monkeypatch):
    import skser.features._embedding as embedding_module

    clip = tone(220, 4.0) + noise(4 * SR, amp=0.02)
    est = EmbeddingTransformer(weights=YAMNET, output="segments")
    whole = est.fit_transform([clip])
    monkeypatch.setattr(embedding_module, "_BLOCK_WINDOWS", 3)
    np.testing.assert_array_equal(clone(est).fit_transform([clip]), whole)


def test_short_clips_are_bitwise_unchanged_by_blocking(monkeypatch):
    clips = [tone(300, 2.0), noise(5000)]
    step = MFCCTransformer(deltas=True)
    default = step.fit_transform(clips)  # 201 frames: one block
    monkeypatch.setattr(feature_base, "BLOCK_FRAMES", 10**9)
    np.testing.assert_array_equal(step.fit_transform(clips), default)


@pytest.mark.parametrize(
    "step",
    [
        MelSpectrogramTransformer(),
        MelSpectrogramTransformer(output="segments"),
        MFCCTransformer(output="stats", deltas=True),
        GTCCTransformer(),
    ],
    ids=["mel", "segments", "mfcc-stats", "gtcc"],
)
def test_long_clip_memory_stays_near_the_waveform_size(step, monkeypatch):
    clip = noise(120 * SR, amp=0.05)  # two minutes: 7.7 MB of float32
    # Smaller blocks than the default (4096 frames, ~20 MB of buffers) so that the
    # fixed block buffers do not hide how memory grows with a clip this short.
    monkeypatch.setattr(feature_base, "BLOCK_FRAMES", 512)
    step.fit_transform([clip[:SR]])  # filterbanks and imports outside the measurement
    tracemalloc.start()
    out = step.fit_transform([clip])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # The output itself (mel: 0.8x the waveform) plus a padded copy and block buffers;
    # the whole-clip STFT needed 8-20x the waveform.
    assert peak < 3 * clip.nbytes + 2 * out.nbytes, peak / clip.nbytes


# =========================================================================== progress and cache


def test_verbose_shows_progress_per_clip(capsys):
    MFCCTransformer(output="stats", verbose=True).fit_transform([tone()] * 3)
    err = capsys.readouterr().err
    assert "MFCC" in err and "3/3" in err


def test_interrupted_extraction_resumes_from_the_per_clip_cache(tmp_path, monkeypatch):
    folder = tmp_path / "audio"
    folder.mkdir()
    paths = []
    for i in range(6):
        paths.append(folder / f"clip{i}.wav")
        if i != 3:  # clip 3 is missing: the run stops there, half-way
            sf.write(paths[-1], tone(200 + 50 * i, 0.3), SR)
    reads = []
    real_load = feature_base.load_audio
    monkeypatch.setattr(
        feature_base,
        "load_audio",
        lambda p, **kw: reads.append(Path(p).name) or real_load(p, **kw),
    )
    mfcc = MFCCTransformer(output="stats", memory=str(tmp_path / "cache"))
    X = [str(p) for p in paths]
    with pytest.raises(FileNotFoundError, match="clip3.wav"):
        mfcc.fit_transform(X)
    assert reads == ["clip0.wav", "clip1.wav", "clip2.wav", "clip3.wav"]
    sf.write(paths[3], tone(350, 0.3), SR)
    reads.clear()
    resumed = mfcc.fit_transform(X)
    assert reads == ["clip3.wav", "clip4.wav", "clip5.wav"]  # 0-2 came from the cache
    np.testing.assert_allclose(
        resumed, MFCCTransformer(output="stats").fit_transform(X), atol=0, rtol=0
    )
    reads.clear()
    mfcc.fit_transform(X)
    assert reads == []


# =========================================================================== evaluation


def test_training_fold_missing_a_class_is_reported_and_warned():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 3))
    y = np.array(["a"] * 3 + ["b"] * 3 + ["c"] * 6)
    groups = np.array(["s1"] * 3 + ["s2"] * 3 + ["s3"] * 3 + ["s4"] * 3)
    with pytest.warns(UserWarning) as record:
        report = evaluate(LogisticRegression(), X, y, groups=groups, cv=LeaveOneGroupOut())
    messages = [str(w.message) for w in record]
    assert any(m.startswith("Fold 0 (test speakers ['s1'])") and "['a']" in m for m in messages)
    assert any(m.startswith("Fold 1 (test speakers ['s2'])") and "['b']" in m for m in messages)
    assert not any(m.startswith(("Fold 2", "Fold 3")) for m in messages)  # s3, s4 share "c"
    assert report.labels == ["a", "b", "c"]
    assert report.class_recall["a"] == 0.0 and report.class_recall["b"] == 0.0
    assert report.folds[1]["uar"] == 0.0 and report.folds[1]["n_test"] == 3
    assert report.y_proba.shape == (12, 3) and np.all(report.y_proba[3:6, 1] == 0)
    assert np.isfinite(report.roc_auc) and np.all(np.isfinite(report.confusion))
    np.testing.assert_allclose(report.confusion.sum(axis=1), 1.0)


def test_complete_training_folds_do_not_warn():
    X = np.random.default_rng(0).standard_normal((12, 3))
    y = np.array(["a", "b", "c"] * 4)
    groups = np.repeat(["s1", "s2", "s3", "s4"], 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        evaluate(LogisticRegression(), X, y, groups=groups, cv=LeaveOneGroupOut())


def test_too_few_speakers_for_the_folds_is_a_clear_error():
    X = np.zeros((9, 2))
    y = np.array(["a", "b", "c"] * 3)
    groups = np.repeat(["s1", "s2", "s3"], 3)
    with pytest.raises(ValueError, match=r"cv=5 .* at least 5 speakers, but groups has 3"):
        evaluate(LogisticRegression(), X, y, groups=groups, cv=5)
    with pytest.raises(ValueError, match="number of groups"):
        evaluate(LogisticRegression(), X, y, groups=groups, cv=GroupKFold(4))
    with pytest.raises(ValueError, match="at least 2 speakers"):
        evaluate(LogisticRegression(), X, y, groups=["s1"] * 9, cv=LeaveOneGroupOut())


def test_labels_outside_a_label_map_are_named():
    corpus = make_synthetic_corpus(
        n_speakers=2, n_per_class=1, emotions=["anger", "sadness"], duration=0.2, random_state=0
    )
    with pytest.raises(ValueError, match=r"no entry for \['sadness'\]"):
        combine([corpus], label_map={"anger": "negative"})
    assert set(combine([corpus], label_map={"anger": "neg", "sadness": None}).y) == {"neg"}


# =========================================================================== model files


def test_load_model_on_a_pickle_needing_an_absent_module(tmp_path, monkeypatch):
    io = pytest.importorskip("skser.io")
    module = tmp_path / "vanishing_module_xyz.py"
    module.write_text("class Thing:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import vanishing_module_xyz

    path = tmp_path / "model.joblib"
    with open(path, "wb") as f:
        pickle.dump({"format": "skser-model/1", "model": vanishing_module_xyz.Thing()}, f)
    module.unlink()
    monkeypatch.delitem(sys.modules, "vanishing_module_xyz")
    with pytest.raises(io.ModelFileError, match="vanishing_module_xyz.*not installed"):
        io.load_model(path)


@pytest.mark.parametrize("size", [1, 17, 4096])
def test_load_model_on_random_bytes(tmp_path, size):
    io = pytest.importorskip("skser.io")
    path = tmp_path / "model.joblib"
    path.write_bytes(b"\x80" + np.random.default_rng(size).bytes(size))  # pickle-like start
    with pytest.raises(io.ModelFileError, match=str(path.name)):
        io.load_model(path)


# =========================================================================== fetch faults


def _emodb_zip(path: Path) -> Path:
    import io as _io
    import zipfile

    buf = _io.BytesIO()
    sf.write(buf, np.zeros(320, np.float32), SR, format="WAV")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("wav/03a01Fa.wav", buf.getvalue())
        zf.writestr("wav/16b10Wb.wav", buf.getvalue())
    return path


@pytest.fixture
def pinned_archive(tmp_path, monkeypatch):
    import dataclasses

    archive = _emodb_zip(tmp_path / "download.zip")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    monkeypatch.setitem(
        _fetch.ARCHIVES, "emodb", dataclasses.replace(_fetch.ARCHIVES["emodb"], sha256=digest)
    )
    return archive


@pytest.mark.parametrize("error", [KeyboardInterrupt, ConnectionResetError])
def test_interrupted_download_leaves_no_file_and_retries(
    tmp_path, monkeypatch, pinned_archive, error
):
    home = tmp_path / "home"
    data = pinned_archive.read_bytes()

    def broken(url, dest):
        Path(dest).write_bytes(data[: len(data) // 2])  # half the archive, then the fault
        raise error("connection lost")

    monkeypatch.setattr(_fetch, "_download", broken)
    with pytest.raises((KeyboardInterrupt, OSError)):
        fetch_emodb(home)
    assert list(home.iterdir()) == []  # no partial file under any name
    monkeypatch.setattr(_fetch, "_download", lambda url, dest: Path(dest).write_bytes(data))
    assert len(fetch_emodb(home).y) == 2


def test_corrupt_archive_left_by_an_old_crash_is_replaced(tmp_path, monkeypatch, pinned_archive):
    home = tmp_path / "home"
    home.mkdir()
    (home / _fetch.ARCHIVES["emodb"].filename).write_bytes(b"PK\x03\x04 half written")
    monkeypatch.setattr(
        _fetch, "_download", lambda url, dest: Path(dest).write_bytes(pinned_archive.read_bytes())
    )
    assert len(fetch_emodb(home).y) == 2


def test_interrupted_extraction_leaves_no_corpus_folder(tmp_path, monkeypatch, pinned_archive):
    import zipfile

    home = tmp_path / "home"
    data = pinned_archive.read_bytes()
    monkeypatch.setattr(_fetch, "_download", lambda url, dest: Path(dest).write_bytes(data))
    real_extract = zipfile.ZipFile.extract
    calls = []

    def dying_extract(self, member, path=None, pwd=None):
        calls.append(member)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_extract(self, member, path, pwd)

    monkeypatch.setattr(zipfile.ZipFile, "extract", dying_extract)
    with pytest.raises(OSError, match="No space left"):
        fetch_emodb(home)
    assert list(home.iterdir()) == []  # neither a half corpus folder nor the archive
    monkeypatch.setattr(zipfile.ZipFile, "extract", real_extract)
    assert len(fetch_emodb(home).y) == 2


@pytest.mark.parametrize(
    "name", ["wav\\..\\..\\evil.wav", "wav/./../../evil.wav", "\\\\server\\evil.wav"]
)
def test_archive_members_escaping_with_backslashes_are_rejected(tmp_path, monkeypatch, name):
    import dataclasses
    import zipfile

    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("wav/03a01Fa.wav", b"x")
        zf.writestr(zipfile.ZipInfo(name), b"x")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    monkeypatch.setitem(
        _fetch.ARCHIVES, "emodb", dataclasses.replace(_fetch.ARCHIVES["emodb"], sha256=digest)
    )
    monkeypatch.setattr(
        _fetch, "_download", lambda url, dest: Path(dest).write_bytes(archive.read_bytes())
    )
    home = tmp_path / "a" / "home"
    with pytest.raises(ValueError, match="Unsafe archive"):
        fetch_emodb(home)
    assert list(home.iterdir()) == []
    assert not any(p.name == "evil.wav" for p in tmp_path.rglob("*"))


# =========================================================================== determinism


def test_same_random_state_gives_identical_predictions_classical():
    corpus = make_synthetic_corpus(
        n_speakers=3, n_per_class=2, emotions=["anger", "sadness"], duration=0.5, random_state=0
    )

    def run():
        from imblearn.pipeline import make_pipeline as make_imb_pipeline

        pipe = make_imb_pipeline(
            WaveformAugmenter(
                noise_snr_db=(10, 30), gain_db=(-3, 3), n_augmented=1, random_state=0
            ),
            MFCCTransformer(output="stats"),
            StandardScaler(),
            RandomForestClassifier(n_estimators=20, random_state=0),
        )
        pipe.fit(corpus.X, corpus.y)
        return pipe.predict_proba(corpus.X)

    np.testing.assert_array_equal(run(), run())


@pytest.mark.slow
def test_same_random_state_gives_identical_predictions_keras():
    from skser.models import MFCCConv1D

    rng = np.random.default_rng(0)
    X = rng.standard_normal((16, 20, 13)).astype(np.float32)
    y = np.array(["a", "b"] * 8)

    def run():
        clf = MFCCConv1D(
            filters=(4,), dense_units=(8,), epochs=2, batch_size=8, validation_split=0.0,
            early_stopping=False, reduce_lr_patience=None, random_state=0,
        )  # fmt: skip
        return clf.fit(X, y).predict_proba(X)

    np.testing.assert_array_equal(run(), run())


PARALLEL_STEPS = {
    "loader": AudioLoader(),
    **FEATURE_STEPS_NO_MODEL,
    "mel-segments-yamnet": MelSpectrogramTransformer(output="segments", frontend="yamnet"),
}


@pytest.mark.parametrize(
    "step",
    # AudioLoader's n_jobs runs loky worker processes by default: seconds to start.
    [pytest.param(k, marks=pytest.mark.slow) if k == "loader" else k for k in PARALLEL_STEPS],
)
def test_n_jobs_two_gives_identical_features(step, tmp_path):
    paths = []
    for i in range(3):
        paths.append(str(tmp_path / f"c{i}.flac"))
        sf.write(
            paths[-1], tone(200 + 100 * i, 0.4 + 0.2 * i) + noise(int((0.4 + 0.2 * i) * SR), i), SR
        )
    X = [*paths, tone(500, 0.3)]
    one = clone(PARALLEL_STEPS[step]).set_params(n_jobs=1).fit_transform(X)
    two = clone(PARALLEL_STEPS[step]).set_params(n_jobs=2).fit_transform(X)
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.realdata
@needs_yamnet
def test_embedding_n_jobs_two_gives_identical_features():
    X = [tone(300, 1.2), noise(20000)]
    one = EmbeddingTransformer(weights=YAMNET, n_jobs=1).fit_transform(X)
    two = EmbeddingTransformer(weights=YAMNET, n_jobs=2).fit_transform(X)
    np.testing.assert_allclose(one, two, rtol=1e-5, atol=1e-6)


# =========================================================================== user files


def _fingerprint(folder: Path) -> dict:
    return {
        p.relative_to(folder).as_posix(): (
            hashlib.sha256(p.read_bytes()).hexdigest(),
            p.stat().st_mtime_ns,
            p.stat().st_mode,
        )
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    } | {p.relative_to(folder).as_posix(): "dir" for p in folder.rglob("*") if p.is_dir()}


def test_no_loader_or_transformer_touches_the_users_audio(tmp_path):
    folder = tmp_path / "emodb" / "wav"
    folder.mkdir(parents=True)
    for i, name in enumerate(["03a01Fa.wav", "08b02Wb.flac", "16a05Nc.wav"]):
        sf.write(folder / name, tone(250 + 40 * i, 0.4), SR)
    before = _fingerprint(tmp_path / "emodb")
    corpus = load_emodb(tmp_path / "emodb")
    X = list(corpus.X)
    for name, step in {
        **AUDIO_STEPS,
        "mel-cached": MFCCTransformer(memory=str(tmp_path / "c")),
    }.items():
        if name == "embedding":
            if not YAMNET.exists():
                continue
            step = EmbeddingTransformer(weights=YAMNET)
        clone(step).fit_transform(X)
    MelSpectrogramTransformer(n_jobs=2).fit_transform(X)
    with pytest.raises(ValueError, match=r"X\[0\] is a file path.*load the audio first"):
        WaveformAugmenter(gain_db=3.0).fit_resample(X, corpus.y)
    assert _fingerprint(tmp_path / "emodb") == before  # same files, bytes, times, modes


# =========================================================================== property tests


NAME_PARSERS = [parse_ravdess, parse_emodb, parse_emovo, parse_savee, parse_tess, parse_cremad]
FOLDERS = st.sampled_from(
    ["", "Actor_01", "wav", "f1", "DC", "OAF_angry", "YAF_Pleasant_surprise"]
)
STEMS = st.one_of(
    st.text(max_size=30),
    st.text(
        alphabet="0123456789-_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", max_size=25
    ),
    st.from_regex(r"\d\d-\d\d-\d\d-\d\d-\d\d-\d\d-\d\d", fullmatch=True),
    st.from_regex(r"\d{4}_[A-Z]{3}_[A-Z]{3}_[A-Z]{2}", fullmatch=True),
    st.from_regex(r"\d\d[ab]\d\d[A-Z][a-z]", fullmatch=True),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(folder=FOLDERS, stem=STEMS, ext=st.sampled_from([".wav", ".flac", ".WAV"]))
def test_name_parsers_return_fields_or_a_value_error(folder, stem, ext):
    if "/" in stem or stem in ("", ".", ".."):
        return
    rel = PurePosixPath(folder) / (stem + ext) if folder else PurePosixPath(stem + ext)
    for parse in NAME_PARSERS:
        try:
            fields = parse(rel)
        except ValueError as exc:
            assert str(exc)  # says what is wrong
            continue
        assert fields["emotion"] in {
            "anger", "anxiety", "boredom", "calm", "disgust", "fear", "happiness", "neutral",
            "sadness", "surprise",
        }  # fmt: skip
        assert isinstance(fields["speaker"], str) and fields["speaker"]
        assert fields["speaker"].isascii()  # no look-alike digits in speaker ids


@settings(max_examples=60, deadline=None)
@given(
    spk=st.sampled_from(["03", "08", "09", "10", "11", "12", "13", "14", "15", "16"]),
    text=st.sampled_from(["a01", "a02", "a04", "a05", "a07", "b01", "b02", "b03", "b09", "b10"]),
    emo=st.sampled_from("WLEAFTN"),
    version=st.sampled_from("abcd"),
    actor=st.integers(1, 24),
    ravdess_emo=st.integers(1, 8),
)
def test_valid_names_round_trip(spk, text, emo, version, actor, ravdess_emo):
    fields = parse_emodb(PurePosixPath(f"wav/{spk}{text}{emo}{version}.wav"))
    assert (fields["speaker"], fields["statement"], fields["version"]) == (spk, text, version)
    name = f"03-01-{ravdess_emo:02d}-01-01-01-{actor:02d}.wav"
    fields = parse_ravdess(PurePosixPath(f"Actor_{actor:02d}") / name)
    assert fields["speaker"] == f"{actor:02d}" and fields["emotion_code"] == f"{ravdess_emo:02d}"
    with pytest.raises(ValueError, match="folder"):
        parse_ravdess(PurePosixPath(f"Actor_{actor % 24 + 1:02d}") / name)


VALID_NAMES = [
    (parse_ravdess, "Actor_01/03-01-05-01-02-01-01.wav"),
    (parse_emodb, "wav/03a01Fa.wav"),
    (parse_emovo, "f1/rab-f1-b1.wav"),
    (parse_savee, "DC/sa01.wav"),
    (parse_savee, "DC_sa01.wav"),
    (parse_cremad, "1001_DFA_ANG_XX.wav"),
]
#: Unicode decimal digits that ``\d`` and ``str.isdigit`` accept by default.
DIGIT_BASES = [0x0660, 0x06F0, 0x0966, 0xFF10, 0x1D7CE]


@settings(max_examples=60, deadline=None)
@given(
    case=st.sampled_from(VALID_NAMES), base=st.sampled_from(DIGIT_BASES), pick=st.integers(0, 99)
)
def test_look_alike_digits_never_make_a_second_speaker(case, base, pick):
    # "١٠٠١" parsed as a speaker would be a different id from "1001": the same actor
    # twice, on both sides of a speaker-independent split.
    parse, name = case
    assert parse(PurePosixPath(name))  # the ASCII name is valid
    start = name.rfind("/") + 1  # the file name: folders only cross-check it
    positions = [i for i, c in enumerate(name) if c.isdigit() and i >= start]
    i = positions[pick % len(positions)]
    bad = name[:i] + chr(base + int(name[i])) + name[i + 1 :]
    with pytest.raises(ValueError):
        parse(PurePosixPath(bad))


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 3000),
    length=st.integers(1, 3000),
    crop=st.sampled_from(["center", "start", "random"]),
    pad=st.sampled_from(["constant", "reflect"]),
)
def test_fix_length_properties(n, length, crop, pad):
    wave = np.arange(1, n + 1, dtype=np.float32)
    out = fix_length(wave, length, crop=crop, pad=pad, rng=np.random.RandomState(0))
    assert out.shape == (length,)
    if n >= length:  # a contiguous run of the clip
        assert np.all(np.diff(out) == 1)
    elif pad == "constant":  # the whole clip, zeros around it
        assert np.array_equal(out[out != 0], wave)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 4000),
    amp=st.sampled_from([0.0, 1e-30, 1e-6, 1.0, 1e4]),
    dtype=st.sampled_from(["float32", "float64", "int16", "int32", "uint8"]),
    seed=st.integers(0, 2**16),
)
def test_any_finite_clip_gives_finite_features_of_the_documented_shape(n, amp, dtype, seed):
    rng = np.random.default_rng(seed)
    wave = amp * rng.standard_normal(n)
    if dtype in ("float32", "float64"):
        clip = wave.astype(dtype)
    else:
        info = np.iinfo(dtype)
        clip = np.clip(wave * info.max, info.min, info.max).astype(dtype)
    mel = MelSpectrogramTransformer(n_mels=32).fit_transform([clip])
    assert mel.shape == (1, 32, 1 + n // 160) and np.all(np.isfinite(mel))
    mfcc = MFCCTransformer(output="stats", deltas=True).fit_transform([clip])
    seg = MelSpectrogramTransformer(output="segments").fit_transform([clip])
    assert np.all(np.isfinite(mfcc)) and np.all(np.isfinite(seg))
    assert np.all(np.isfinite(ProsodyTransformer().fit_transform([clip])))


def test_file_modes_of_new_cache_do_not_affect_reading(tmp_path):
    # A read-only audio file (a shared corpus) is read and cached without write access.
    path = tmp_path / "ro.wav"
    sf.write(path, tone(), SR)
    os.chmod(path, 0o444)
    try:
        out = MFCCTransformer(output="stats", memory=str(tmp_path / "cache")).fit_transform(
            [str(path)]
        )
        assert np.all(np.isfinite(out))
    finally:
        os.chmod(path, 0o644)
