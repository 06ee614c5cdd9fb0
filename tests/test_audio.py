"""Tests of skser.audio: reading files, as_waveforms, AudioLoader, FixedLength, Segmenter."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest
import soundfile as sf
from joblib import parallel_config
from sklearn.base import clone

from skser.audio import (
    AudioLoader,
    FixedLength,
    Segmenter,
    as_waveforms,
    load_audio,
    segment_waveform,
)

SR = 16000


def _tone(freq=440.0, sr=SR, seconds=0.5, amp=0.5):
    t = np.arange(int(sr * seconds)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _peak_frequency(wave, sr):
    spectrum = np.abs(np.fft.rfft(wave * np.hanning(len(wave))))
    return np.fft.rfftfreq(len(wave), 1 / sr)[np.argmax(spectrum)]


def _write(tmp_path, name, data, sr=SR, **kwargs):
    path = tmp_path / name
    sf.write(path, data, sr, **kwargs)
    return path


# --------------------------------------------------------------------------- load_audio


@pytest.mark.parametrize(
    "subtype, atol",
    [("PCM_16", 1 / 2**15), ("PCM_32", 1e-6), ("FLOAT", 0.0), ("PCM_U8", 1 / 2**7)],
)
def test_load_wav_subtypes(tmp_path, subtype, atol):
    tone = _tone()
    path = _write(tmp_path, f"tone_{subtype}.wav", tone, subtype=subtype)
    wave, sr = load_audio(path, sr=SR)
    assert sr == SR and wave.dtype == np.float32 and wave.shape == tone.shape
    np.testing.assert_allclose(wave, tone, atol=atol + 1e-7)


def test_load_flac_and_str_path(tmp_path):
    tone = _tone()
    path = _write(tmp_path, "tone.flac", tone, subtype="PCM_16")
    wave, sr = load_audio(str(path))
    np.testing.assert_allclose(wave, tone, atol=1 / 2**15)


@pytest.mark.skipif("OGG" not in sf.available_formats(), reason="libsndfile lacks OGG")
def test_load_ogg_vorbis(tmp_path):
    tone = _tone(seconds=1.0)
    path = _write(tmp_path, "tone.ogg", tone, format="OGG", subtype="VORBIS")
    wave, sr = load_audio(path)
    assert sr == SR and wave.dtype == np.float32
    assert abs(len(wave) - len(tone)) < 0.01 * SR  # lossy codec, same length
    assert abs(_peak_frequency(wave, sr) - 440) < 5


def test_multichannel_downmix_and_mono_false(tmp_path):
    left, right = _tone(440, amp=0.4), _tone(880, amp=0.2)
    path = _write(tmp_path, "stereo.wav", np.stack([left, right], axis=1), subtype="FLOAT")
    mono, _ = load_audio(path)
    np.testing.assert_allclose(mono, (left + right) / 2, atol=1e-6)
    both, sr = load_audio(path, mono=False)
    assert both.shape == (2, len(left)) and both.dtype == np.float32
    np.testing.assert_allclose(both[0], left, atol=1e-6)
    np.testing.assert_allclose(both[1], right, atol=1e-6)


def test_resampling_48k_to_16k_keeps_length_and_pitch(tmp_path):
    tone = _tone(1000.0, sr=48000, seconds=1.0)
    path = _write(tmp_path, "hi.wav", tone, sr=48000, subtype="FLOAT")
    wave, sr = load_audio(path, sr=16000)
    assert sr == 16000 and wave.shape == (16000,) and wave.dtype == np.float32
    assert abs(_peak_frequency(wave, sr) - 1000) <= 1
    # Amplitude is preserved away from the edges.
    assert abs(np.max(np.abs(wave[1000:-1000])) - 0.5) < 0.01


def test_resampling_multichannel_without_downmix(tmp_path):
    data = np.stack([_tone(500, sr=48000), _tone(700, sr=48000)], axis=1)
    path = _write(tmp_path, "st48.wav", data, sr=48000, subtype="FLOAT")
    both, sr = load_audio(path, sr=16000, mono=False)
    assert sr == 16000 and both.shape == (2, 8000)
    assert abs(_peak_frequency(both[1], sr) - 700) <= 2


def test_sr_none_keeps_file_rate(tmp_path):
    path = _write(tmp_path, "t22.wav", _tone(sr=22050), sr=22050)
    wave, sr = load_audio(path, sr=None)
    assert sr == 22050 and wave.shape == (11025,)


def test_bad_sr_is_named(tmp_path):
    path = _write(tmp_path, "t.wav", _tone())
    with pytest.raises(ValueError, match="sr"):
        load_audio(path, sr=0)


def test_missing_file(tmp_path):
    path = tmp_path / "nope.wav"
    with pytest.raises(FileNotFoundError, match="nope.wav"):
        load_audio(path)


def test_directory(tmp_path):
    with pytest.raises(ValueError, match="directory"):
        load_audio(tmp_path)


def test_text_file_named_wav(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("this is not audio\n" * 20)
    with pytest.raises(ValueError, match="notes.wav"):
        load_audio(path)


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="empty.wav"):
        load_audio(path)


def test_header_only_wav(tmp_path):
    full = _write(tmp_path, "full.wav", _tone(), subtype="PCM_16")
    path = tmp_path / "header.wav"
    path.write_bytes(full.read_bytes()[:44])  # canonical header, no data
    with pytest.raises(ValueError, match=r"header\.wav.*no samples"):
        load_audio(path)


def test_wav_cut_inside_its_header(tmp_path):
    full = _write(tmp_path, "full.wav", _tone(), subtype="PCM_16")
    path = tmp_path / "cut.wav"
    path.write_bytes(full.read_bytes()[:20])
    with pytest.raises(ValueError, match="cut.wav"):
        load_audio(path)


def test_truncated_flac(tmp_path):
    rng = np.random.default_rng(0)
    full = _write(tmp_path, "full.flac", 0.1 * rng.standard_normal(SR), subtype="PCM_16")
    path = tmp_path / "trunc.flac"
    data = full.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="trunc.flac"):
        load_audio(path)


def test_truncated_wav_keeps_the_intact_samples(tmp_path):
    # libsndfile (like most tools) reads what a cut-short WAV holds; the samples are exact.
    tone = _tone()
    full = _write(tmp_path, "full.wav", tone, subtype="PCM_16")
    path = tmp_path / "trunc.wav"
    data = full.read_bytes()
    path.write_bytes(data[: 44 + 2 * 1000])
    wave, _ = load_audio(path)
    assert wave.shape == (1000,)
    np.testing.assert_allclose(wave, tone[:1000], atol=1 / 2**15)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_float_wav(tmp_path, bad):
    tone = _tone()
    tone[100] = bad
    path = _write(tmp_path, "bad.wav", tone, subtype="FLOAT")
    with pytest.raises(ValueError, match=r"bad\.wav.*NaN"):
        load_audio(path)


def test_reading_never_modifies_the_file(tmp_path):
    path = _write(tmp_path, "keep.wav", _tone(sr=48000), sr=48000, subtype="PCM_16")
    os.utime(path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    before = (hashlib.sha256(path.read_bytes()).hexdigest(), os.stat(path).st_mtime_ns)
    load_audio(path)
    AudioLoader().fit_transform([path])
    FixedLength(n_samples=100).fit_transform([str(path)])
    Segmenter().fit_transform([path])
    after = (hashlib.sha256(path.read_bytes()).hexdigest(), os.stat(path).st_mtime_ns)
    assert before == after


# --------------------------------------------------------------------------- as_waveforms


def test_as_waveforms_mixes_paths_and_arrays(tmp_path):
    tone = _tone()
    path = _write(tmp_path, "a.wav", tone, sr=48000 // 3, subtype="FLOAT")
    waves = as_waveforms([path, tone * 0.5, str(path), np.zeros(10, dtype=np.float64)])
    assert [w.shape for w in waves] == [tone.shape, tone.shape, tone.shape, (10,)]
    assert all(w.dtype == np.float32 for w in waves)
    np.testing.assert_allclose(waves[0], tone, atol=1e-6)
    np.testing.assert_allclose(waves[1], tone * 0.5, atol=1e-6)


def test_as_waveforms_reads_paths_at_requested_rate(tmp_path):
    path = _write(tmp_path, "a.wav", _tone(sr=48000), sr=48000)
    (wave,) = as_waveforms([path], sr=8000)
    assert wave.shape == (4000,)


def test_as_waveforms_scales_integer_pcm():
    pcm16 = np.array([0, 16384, -32768, 32767], dtype=np.int16)
    pcm_u8 = np.array([128, 255, 0], dtype=np.uint8)
    pcm32 = np.array([2**30, -(2**31)], dtype=np.int32)
    w16, wu8, w32 = as_waveforms([pcm16, pcm_u8, pcm32])
    np.testing.assert_allclose(w16, [0.0, 0.5, -1.0, 32767 / 32768])
    np.testing.assert_allclose(wu8, [0.0, 127 / 128, -1.0])
    np.testing.assert_allclose(w32, [0.5, -1.0])
    assert w16.dtype == wu8.dtype == w32.dtype == np.float32


def test_as_waveforms_2d_array_is_one_clip_per_row():
    X = np.arange(12, dtype=np.float64).reshape(3, 4) / 12
    waves = as_waveforms(X)
    assert len(waves) == 3
    np.testing.assert_allclose(np.stack(waves), X.astype(np.float32))
    int_waves = as_waveforms(np.full((2, 5), 16384, dtype=np.int16))
    np.testing.assert_allclose(np.stack(int_waves), 0.5)


def test_as_waveforms_object_array_and_parallel():
    X = np.empty(3, dtype=object)
    X[:] = [np.ones(5), np.zeros(3), _tone()]
    serial = as_waveforms(X)
    # Threads keep the test fast; the joblib path (and its ordering) is the same.
    with parallel_config(backend="threading"):
        parallel = as_waveforms(X, n_jobs=2)
    assert [w.shape for w in parallel] == [(5,), (3,), (8000,)]
    for a, b in zip(serial, parallel, strict=True):
        np.testing.assert_array_equal(a, b)


def test_as_waveforms_does_not_modify_input():
    clip = np.array([0.1, 0.2, 0.3])
    original = clip.copy()
    (wave,) = as_waveforms([clip])
    wave[:] = 0
    np.testing.assert_array_equal(clip, original)


def test_as_waveforms_2d_clip_in_list_names_it():
    with pytest.raises(ValueError, match=r"X\[1\].*1-D"):
        as_waveforms([np.zeros(4), np.zeros((2, 4))])


@pytest.mark.parametrize("X", [[], np.zeros((0, 5))])
def test_as_waveforms_empty(X):
    with pytest.raises(ValueError, match="empty"):
        as_waveforms(X)


def test_as_waveforms_empty_clip_names_it():
    with pytest.raises(ValueError, match=r"X\[0\].*empty"):
        as_waveforms([np.zeros(0), np.zeros(3)])


def test_as_waveforms_nan_names_clip():
    with pytest.raises(ValueError, match=r"X\[2\].*NaN"):
        as_waveforms([np.zeros(3), np.ones(3), np.array([0.0, np.nan])])


def test_as_waveforms_single_clip_or_path_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="list"):
        as_waveforms(np.zeros(10))
    with pytest.raises(ValueError, match="single path"):
        as_waveforms(str(tmp_path / "a.wav"))


def test_as_waveforms_non_numeric_clip():
    with pytest.raises(ValueError, match=r"X\[0\].*numeric"):
        as_waveforms([["a", "b"]])


def test_as_waveforms_missing_file_in_batch_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="ghost.wav"):
        as_waveforms([np.zeros(3), tmp_path / "ghost.wav"])


# --------------------------------------------------------------------------- AudioLoader


def test_audio_loader_returns_object_array(tmp_path):
    path = _write(tmp_path, "a.wav", _tone(sr=48000), sr=48000)
    out = AudioLoader(sr=16000).fit_transform([path, np.ones(7), np.zeros(3, dtype=np.int16)])
    assert out.dtype == object and out.shape == (3,)
    assert [w.shape for w in out] == [(8000,), (7,), (3,)]
    assert all(w.dtype == np.float32 for w in out)


def test_audio_loader_equal_lengths_still_object_array():
    out = AudioLoader().fit_transform(np.zeros((2, 4)))
    assert out.dtype == object and out.shape == (2,) and out[0].shape == (4,)


def test_audio_loader_bad_sr_at_fit():
    with pytest.raises(ValueError, match="sr"):
        AudioLoader(sr=-1).fit([np.zeros(3)])


def test_clone_and_get_params():
    for est in [
        AudioLoader(sr=8000, n_jobs=2),
        FixedLength(1.5, sr=8000, crop="random", pad="reflect", random_state=3),
        Segmenter(window=0.5, overlap=0.25, sr=8000),
    ]:
        twin = clone(est)
        assert twin is not est and twin.get_params() == est.get_params()
    assert FixedLength(n_samples=5).get_params()["n_samples"] == 5
    seg = Segmenter().set_params(window=2.0)
    assert seg.window == 2.0


def test_init_does_not_validate():
    # scikit-learn convention: errors come at fit/transform, not construction.
    est = FixedLength(duration=-1)
    with pytest.raises(ValueError, match="duration"):
        est.fit_transform([np.zeros(3)])


# --------------------------------------------------------------------------- FixedLength


def test_crop_center_and_start():
    wave = np.arange(10, dtype=np.float32)
    center = FixedLength(n_samples=4).fit_transform([wave])
    start = FixedLength(n_samples=4, crop="start").fit_transform([wave])
    np.testing.assert_array_equal(center, [[3, 4, 5, 6]])
    np.testing.assert_array_equal(start, [[0, 1, 2, 3]])
    assert center.dtype == np.float32


def test_crop_random_is_seeded_and_varies():
    X = [np.arange(1000, dtype=np.float32)] * 20
    a = FixedLength(n_samples=10, crop="random", random_state=0).fit_transform(X)
    b = FixedLength(n_samples=10, crop="random", random_state=0).fit_transform(X)
    c = FixedLength(n_samples=10, crop="random", random_state=1).fit_transform(X)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    starts = a[:, 0]
    assert len(set(starts)) > 1  # different crops for different clips
    # Each row is a contiguous window of the original.
    np.testing.assert_array_equal(a - starts[:, None], np.tile(np.arange(10), (20, 1)))
    assert starts.min() >= 0 and starts.max() <= 990


def test_pad_constant_exact():
    out = FixedLength(n_samples=7).fit_transform([np.array([1.0, 2.0, 3.0])])
    np.testing.assert_array_equal(out, [[0, 0, 1, 2, 3, 0, 0]])
    odd = FixedLength(n_samples=6).fit_transform([np.array([1.0, 2.0, 3.0])])
    np.testing.assert_array_equal(odd, [[0, 1, 2, 3, 0, 0]])


def test_pad_reflect_exact():
    wave = np.array([1.0, 2.0, 3.0])
    out = FixedLength(n_samples=7, pad="reflect").fit_transform([wave])
    np.testing.assert_array_equal(out, [[3, 2, 1, 2, 3, 2, 1]])
    # A pad longer than the clip keeps mirroring about the clip's edges.
    long = FixedLength(n_samples=11, pad="reflect").fit_transform([wave])
    np.testing.assert_array_equal(long, [[1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3]])
    single = FixedLength(n_samples=3, pad="reflect").fit_transform([np.array([0.5])])
    np.testing.assert_array_equal(single, [[0.5, 0.5, 0.5]])


def test_fixed_length_duration_and_exact_length():
    X = [np.ones(3000), np.ones(8000), np.ones(12000)]
    out = FixedLength(duration=0.5, sr=16000).fit_transform(X)
    assert out.shape == (3, 8000) and out.dtype == np.float32
    np.testing.assert_array_equal(out[1], np.ones(8000))  # exact length untouched
    assert out[0].sum() == 3000 and out[2].sum() == 8000
    assert FixedLength(duration=0.5, sr=16000).target_length() == 8000


def test_fixed_length_reads_paths(tmp_path):
    path = _write(tmp_path, "a.wav", _tone(sr=48000, seconds=1.0), sr=48000)
    out = FixedLength(duration=0.25, sr=16000).fit_transform([path])
    assert out.shape == (1, 4000)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(), "exactly one"),
        (dict(duration=1.0, n_samples=10), "exactly one"),
        (dict(duration=0.0), "duration"),
        (dict(n_samples=2.5), "n_samples"),
        (dict(n_samples=0), "n_samples"),
        (dict(n_samples=4, crop="middle"), "crop"),
        (dict(n_samples=4, pad="wrap"), "pad"),
        (dict(n_samples=4, sr=0), "sr"),
    ],
)
def test_fixed_length_param_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FixedLength(**kwargs).fit_transform([np.zeros(3)])


# --------------------------------------------------------------------------- Segmenter


def test_segmenter_counts_and_padding():
    wave = np.ones(3 * SR, dtype=np.float32)  # 48000 samples
    (segs,) = Segmenter(window=0.975, overlap=0.5, sr=SR).fit_transform([wave])
    # window 15600, hop 7800: starts 0, 7800, ..., 39000 -> 6 windows, the last one padded.
    assert segs.shape == (6, 15600) and segs.dtype == np.float32
    assert Segmenter().window_and_hop() == (15600, 7800)
    np.testing.assert_array_equal(segs[:-1], 1.0)
    last = segs[-1]
    assert last[: 48000 - 39000].min() == 1.0 and last[48000 - 39000 :].max() == 0.0


def test_segmenter_windows_are_the_right_slices():
    wave = np.arange(10, dtype=np.float32)
    (segs,) = Segmenter(window=1.0, overlap=0.5, sr=4).fit_transform([wave])
    np.testing.assert_array_equal(segs, [[0, 1, 2, 3], [2, 3, 4, 5], [4, 5, 6, 7], [6, 7, 8, 9]])


def test_segmenter_exact_fit_needs_no_padding():
    (segs,) = Segmenter(window=1.0, overlap=0.0, sr=100).fit_transform([np.ones(300)])
    assert segs.shape == (3, 100) and segs.min() == 1.0


def test_segmenter_short_clip_gives_one_padded_window():
    (segs,) = Segmenter(window=0.975, sr=SR).fit_transform([np.ones(1000)])
    assert segs.shape == (1, 15600)
    assert segs[0, :1000].min() == 1.0 and segs[0, 1000:].max() == 0.0


def test_segmenter_ragged_batch():
    out = Segmenter(window=1.0, overlap=0.5, sr=10).fit_transform(
        [np.ones(10), np.ones(25), np.ones(3)]
    )
    assert out.dtype == object and [s.shape for s in out] == [(1, 10), (4, 10), (1, 10)]


@pytest.mark.parametrize(
    "kwargs, match",
    [(dict(overlap=1.0), "overlap"), (dict(overlap=-0.1), "overlap"), (dict(window=0), "window")],
)
def test_segmenter_param_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Segmenter(**kwargs).fit_transform([np.zeros(3)])


def test_segment_waveform_covers_every_sample():
    rng = np.random.default_rng(0)
    for n in [1, 99, 100, 101, 250, 999]:
        wave = rng.standard_normal(n).astype(np.float32)
        segs = segment_waveform(wave, 100, 30)
        # Re-assemble from the hop-spaced windows: every sample appears, in order.
        rebuilt = np.concatenate([segs[0]] + [s[-30:] for s in segs[1:]])
        np.testing.assert_array_equal(rebuilt[:n], wave)
        assert np.all(rebuilt[n:] == 0)
        # No window starts beyond the clip's last sample (no all-padding window).
        assert (len(segs) - 1) * 30 < max(n, 1)


# -- decode cache ------------------------------------------------------------------------------
def _count_reads(monkeypatch):
    import skser.audio as audio
    import skser.features._base as feature_base

    calls = []
    real = audio.load_audio

    def counting(path, **kwargs):
        calls.append(os.fspath(path))
        return real(path, **kwargs)

    monkeypatch.setattr(audio, "load_audio", counting)  # as_waveforms
    monkeypatch.setattr(feature_base, "load_audio", counting)  # the per-clip feature loop
    return calls


def test_feature_union_over_paths_decodes_each_file_once(tmp_path, monkeypatch):
    from sklearn.pipeline import FeatureUnion

    from skser.audio import clear_decode_cache
    from skser.features import MFCCTransformer, ProsodyTransformer

    paths = []
    for i in range(3):
        paths.append(str(tmp_path / f"c{i}.wav"))
        sf.write(paths[-1], _tone(200 + 100 * i, seconds=0.6), SR)
    clear_decode_cache()
    calls = _count_reads(monkeypatch)
    union = FeatureUnion(
        [("prosody", ProsodyTransformer()), ("mfcc", MFCCTransformer(output="stats"))]
    )
    shared = union.fit_transform(paths)
    assert sorted(calls) == sorted(paths)  # one decode per file for both blocks
    waves = AudioLoader().fit_transform(paths)
    np.testing.assert_array_equal(shared, union.fit_transform(waves))
    clear_decode_cache()
    union.transform(paths)
    assert len(calls) == 2 * len(paths)


def test_decode_cache_never_serves_a_changed_file(tmp_path, monkeypatch):
    from skser.audio import clear_decode_cache

    path = tmp_path / "clip.wav"
    sf.write(path, _tone(300), SR)
    clear_decode_cache()
    first = as_waveforms([path])[0]
    first[:] = 0  # editing a returned waveform does not reach the cache
    again = as_waveforms([path])[0]
    np.testing.assert_allclose(again, _tone(300), atol=1e-4)
    sf.write(path, _tone(300, seconds=0.7), SR)  # new size and time stamp
    os.utime(path, ns=(os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns + 10**9))
    assert len(as_waveforms([path])[0]) == int(0.7 * SR)
    # Another sample rate is another entry.
    assert len(as_waveforms([path], sr=8000)[0]) == int(0.7 * 8000)


def test_decode_cache_is_bounded_and_scan_resistant(tmp_path, monkeypatch):
    import skser.audio as audio

    cache = audio._DecodeCache(max_bytes=3 * 4 * SR // 2)  # three 0.5 s clips
    monkeypatch.setattr(audio, "_DECODED", cache)
    paths = []
    for i in range(5):
        paths.append(tmp_path / f"c{i}.wav")
        sf.write(paths[-1], _tone(200 + 50 * i), SR)
    calls = _count_reads(monkeypatch)
    as_waveforms(paths)
    assert cache.nbytes <= cache.max_bytes and len(cache._entries) == 3
    as_waveforms(paths)  # the first three stay and hit; LRU would have missed all five
    assert len(calls) == 5 + 2


def test_decode_cache_holds_one_input_sequence(tmp_path, monkeypatch):
    import skser.audio as audio

    cache = audio._DecodeCache(max_bytes=2**26)
    monkeypatch.setattr(audio, "_DECODED", cache)
    paths = []
    for i in range(12):
        paths.append(str(tmp_path / f"c{i}.wav"))
        sf.write(paths[i], _tone(200 + 30 * i), SR)
    calls = _count_reads(monkeypatch)
    for start in range(0, 12, 3):  # a stream of batches: memory stays at one batch
        as_waveforms(paths[start : start + 3])
        assert {key[0] for key in cache._entries} == set(paths[start : start + 3])
        assert cache.nbytes == 3 * SR // 2 * 4
    as_waveforms(paths[9:])  # the same sequence again: hits
    assert len(calls) == 12


def test_decode_cache_can_be_turned_off(tmp_path, monkeypatch):
    import skser.audio as audio

    monkeypatch.setattr(audio, "_DECODED", audio._DecodeCache(max_bytes=0))
    path = tmp_path / "clip.wav"
    sf.write(path, _tone(), SR)
    calls = _count_reads(monkeypatch)
    as_waveforms([path, path])
    assert len(calls) == 2
    monkeypatch.setenv("SKSER_DECODE_CACHE_MB", "lots")
    with pytest.raises(ValueError, match="SKSER_DECODE_CACHE_MB"):
        audio._cache_limit()


def test_decode_cache_under_threads(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from skser.audio import clear_decode_cache

    paths = []
    for i in range(6):
        paths.append(tmp_path / f"c{i}.wav")
        sf.write(paths[-1], _tone(150 + 70 * i), SR)
    clear_decode_cache()
    expected = [load_audio(p)[0] for p in paths]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: as_waveforms(paths, n_jobs=2), range(8)))
    for waves in results:
        for got, want in zip(waves, expected, strict=True):
            np.testing.assert_array_equal(got, want)


# -- lean start-up of a fitted pipeline ---------------------------------------------------------
def test_own_mel_filterbank_and_hann_window_are_bitwise_librosa_and_scipy():
    import warnings

    import librosa
    import scipy.signal

    from skser.features._base import _mel_basis, _periodic_hann

    for n in (1, 2, 7, 256, 400, 512, 1023, 2048):
        np.testing.assert_array_equal(
            _periodic_hann(n), scipy.signal.get_window("hann", n, fftbins=True)
        )
    configs = [
        (16000, 512, 40, 0.0, None, False, "slaney"),
        (16000, 512, 128, 0.0, 8000.0, False, "slaney"),
        (16000, 400, 64, 125.0, 7500.0, True, None),
        (22050, 2048, 128, 20.0, None, True, "slaney"),
        (8000, 256, 26, 0.0, 4000.0, False, None),
        (8000, 64, 128, 0.0, None, False, "slaney"),  # empty filters: librosa's warning
    ]
    for sr, n_fft, n_mels, fmin, fmax, htk, norm in configs:
        with warnings.catch_warnings(record=True) as theirs:
            warnings.simplefilter("always")
            expected = librosa.filters.mel(
                sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm,
                dtype=np.float32,
            )  # fmt: skip
        with warnings.catch_warnings(record=True) as ours:
            warnings.simplefilter("always")
            got = _mel_basis(sr, n_fft, n_mels, fmin, fmax, htk, norm)
        np.testing.assert_array_equal(got, expected)
        assert len(ours) == len(theirs)


def test_fitted_mfcc_pipeline_predicts_without_heavy_imports(tmp_path):
    import subprocess
    import sys

    from sklearn.pipeline import make_pipeline
    from sklearn.svm import SVC

    from skser.features import MFCCTransformer
    from skser.io import save_model

    path = tmp_path / "clip.wav"
    sf.write(path, _tone(220, seconds=1.0), SR)
    X = [_tone(200 + 40 * i, seconds=0.5) for i in range(6)]
    pipe = make_pipeline(MFCCTransformer(output="stats"), SVC()).fit(X, ["a", "b"] * 3)
    save_model(pipe, tmp_path / "model.joblib")
    code = (
        "import sys; from skser.io import load_model; "
        f"m = load_model({str(tmp_path / 'model.joblib')!r}); m.predict([{str(path)!r}]); "
        "print(sorted(n for n in ('librosa', 'numba', 'scipy.signal', 'tensorflow', 'keras') "
        "if n in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
