"""Tests of SpectrogramAugmenter and WaveformAugmenter (sampler and on-the-fly adapters)."""

from __future__ import annotations

import pickle
import time

import numpy as np
import pytest
from imblearn.pipeline import make_pipeline as make_imb_pipeline
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import GroupKFold, cross_validate
from sklearn.preprocessing import FunctionTransformer

from skser import SpectrogramAugmenter
from skser.augment import WaveformAugmenter


def _impulses(n=6, freq=16, time_=20, at=(5, 8), background=0.5):
    X = np.full((n, freq, time_), background, np.float32)
    X[:, at[0], at[1]] = 1.0
    return X


def _peak(sample):
    return np.unravel_index(np.argmax(sample), sample.shape)


# ---------------------------------------------------------------- shapes, dtypes, determinism
@pytest.mark.parametrize(
    "shape, axes",
    [
        ((5, 16, 20), {}),  # (n, freq, time)
        ((5, 16, 20, 3), {}),  # (n, height=freq, width=time, channels)
        ((5, 30, 13), {"time_axis": 1, "freq_axis": 2}),  # MFCC sequences
        ((5, 4, 24, 16), {"time_axis": 2, "freq_axis": 3}),  # CNN-RNN segment stacks
    ],
)
def test_same_shape_float32_and_input_untouched(shape, axes):
    X = np.random.default_rng(0).normal(size=shape)
    before = X.copy()
    aug = SpectrogramAugmenter.fser(time_masks=1, freq_masks=1, random_state=0, **axes)
    out = aug.augment(X)
    assert out.shape == X.shape and out.dtype == np.float32
    assert np.all(np.isfinite(out))
    assert not np.allclose(out, X)
    np.testing.assert_array_equal(X, before)


def test_determinism_and_fresh_draws():
    X = np.random.default_rng(0).random((8, 16, 20), dtype=np.float32)
    aug = SpectrogramAugmenter(
        width_shift=0.3, zoom=0.2, time_masks=2, n_augmented=3, random_state=7
    )
    a, ya = aug.fit_resample(X, np.arange(8))
    b, yb = clone(aug).fit_resample(X, np.arange(8))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, yb)
    # A caller-owned generator: same seed, same batch; the generator advances.
    np.testing.assert_array_equal(
        aug.augment(X, random_state=np.random.default_rng(1)),
        aug.augment(X, random_state=np.random.default_rng(1)),
    )
    rng = np.random.default_rng(1)
    assert not np.array_equal(aug.augment(X, random_state=rng), aug.augment(X, random_state=rng))
    rs = np.random.RandomState(3)
    assert not np.array_equal(aug.augment(X, random_state=rs), aug.augment(X, random_state=rs))
    # __call__: an internal stream seeded by random_state, fresh on every call.
    first, second = aug(X), aug(X)
    assert not np.array_equal(first, second)
    fresh = clone(aug)
    np.testing.assert_array_equal(fresh(X), first)
    # Samples of one batch get different perturbations.
    out = SpectrogramAugmenter(width_shift=0.3, random_state=0).augment(np.repeat(X[:1], 8, 0))
    assert len({o.tobytes() for o in out}) > 1


# ---------------------------------------------------------------- each operation
def test_width_shift_moves_content_along_time_and_fills_the_gap():
    X = _impulses()
    out = SpectrogramAugmenter(width_shift=4, fill_value=-1.0, random_state=0).augment(X)
    shifts = []
    for sample in out:
        f, t = _peak(sample)
        assert f == 5 and sample[f, t] == 1.0  # whole bins: no blurring
        shift = t - 8
        shifts.append(shift)
        assert abs(shift) <= 4
        if shift > 0:
            np.testing.assert_array_equal(sample[:, :shift], -1.0)
        elif shift < 0:
            np.testing.assert_array_equal(sample[:, shift:], -1.0)
        assert np.sum(sample == 1.0) == 1
    assert len(set(shifts)) > 1
    nearest = SpectrogramAugmenter(width_shift=4, fill="nearest", random_state=0).augment(X)
    assert set(np.unique(nearest)) == {0.5, 1.0}


def test_height_shift_moves_content_along_frequency():
    X = _impulses()
    out = SpectrogramAugmenter(height_shift=0.25, random_state=1).augment(X)
    rows = {_peak(s)[0] for s in out}
    assert {_peak(s)[1] for s in out} == {8}
    assert all(abs(r - 5) <= 4 for r in rows) and len(rows) > 1


def test_horizontal_flip_reverses_time():
    X = np.random.default_rng(0).random((1, 8, 12), dtype=np.float32).repeat(40, axis=0)
    out = SpectrogramAugmenter(horizontal_flip=True, random_state=0).augment(X)
    flipped = [np.array_equal(o, X[0, :, ::-1]) for o in out]
    kept = [np.array_equal(o, X[0]) for o in out]
    assert all(f or k for f, k in zip(flipped, kept, strict=True))
    assert 5 < sum(flipped) < 35


def test_time_mask_zeroes_a_band_across_all_frequencies():
    X = np.ones((30, 16, 40), np.float32)
    out = SpectrogramAugmenter(time_masks=1, time_mask_width=10, random_state=0).augment(X)
    widths = []
    for sample in out:
        masked_cols = np.flatnonzero(np.all(sample == 0, axis=0))
        assert np.all((sample == 0) == np.isin(np.arange(40), masked_cols)[None, :])
        if masked_cols.size:
            assert np.all(np.diff(masked_cols) == 1)  # one contiguous band
        widths.append(masked_cols.size)
    assert max(widths) <= 10 and max(widths) > 0
    out = SpectrogramAugmenter(
        freq_masks=2, freq_mask_width=0.25, fill_value=-3.0, random_state=0
    ).augment(X)
    for sample in out:
        masked_rows = np.all(sample == -3.0, axis=1)
        assert np.all((sample == -3.0) == masked_rows[:, None])
        assert masked_rows.sum() <= 8


def test_zoom_rescales_around_the_centre():
    X = np.zeros((1, 21, 21), np.float32) + 0.1
    X[0, 10, 15] = 1.0  # 5 bins right of the centre
    out = SpectrogramAugmenter(zoom=(2.0, 2.0), random_state=0).augment(X)[0]
    assert _peak(out)[0] == 10
    assert abs(_peak(out)[1] - 20) <= 1  # 2x magnified: 10 bins right of the centre
    # Zoom out with a constant fill leaves a border of fill values.
    out = SpectrogramAugmenter(zoom=(0.5, 0.5), fill_value=-1.0, random_state=0).augment(X)[0]
    assert np.all(out[:, 0] == -1.0) and np.all(out[0, :] == -1.0)
    assert np.all(out[10, 6:15] >= 0.1)
    # No zoom at all is exactly the identity.
    same = SpectrogramAugmenter(zoom=(1.0, 1.0), random_state=0).augment(X)
    np.testing.assert_array_equal(same, X)


def test_axes_of_mfcc_sequences():
    X = np.zeros((4, 30, 13), np.float32) + 0.5
    X[:, 10, 6] = 1.0
    out = SpectrogramAugmenter(width_shift=5, time_axis=1, freq_axis=2, random_state=0).augment(X)
    assert {_peak(s)[1] for s in out} == {6}
    assert len({_peak(s)[0] for s in out}) > 1


def test_padding_segments_stay_zero():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 5, 24, 16)).astype(np.float32)
    X[:, 3:] = 0.0  # padded segments
    X[2, 1:] = 0.0
    aug = SpectrogramAugmenter.fser(
        time_masks=2,
        freq_masks=2,
        fill="constant",
        fill_value=-2.0,
        time_axis=2,
        freq_axis=3,
        random_state=0,
    )
    for out in (aug.augment(X), aug.fit_resample(X, np.arange(6))[0][6:12]):
        np.testing.assert_array_equal(out[:, 3:], 0.0)
        np.testing.assert_array_equal(out[2, 1:], 0.0)
        assert np.all(np.any(out[:, :3] != 0, axis=(2, 3))[[0, 1, 3, 4, 5]])
        assert not np.allclose(out[:, :3], X[:, :3])


# ---------------------------------------------------------------- sampler adapter
def test_fit_resample_counts_and_order():
    X = np.random.default_rng(0).random((5, 8, 10), dtype=np.float32)
    y = np.array(["anger", "calm", "anger", "sadness", "calm"])
    X_res, y_res = SpectrogramAugmenter(
        width_shift=0.2, n_augmented=3, random_state=0
    ).fit_resample(X, y)
    assert X_res.shape == (20, 8, 10) and X_res.dtype == np.float32
    np.testing.assert_array_equal(X_res[:5], X)
    np.testing.assert_array_equal(y_res, np.tile(y, 4))
    X_res, y_res = SpectrogramAugmenter(
        width_shift=0.2, n_augmented=2, keep_original=False, random_state=0
    ).fit_resample(X, y)
    assert X_res.shape == (10, 8, 10) and list(y_res) == list(y) * 2
    fser = SpectrogramAugmenter.fser(random_state=0)
    assert fser.fit_resample(X, y)[0].shape[0] == 21 * 5  # FSER: originals + 20 variants


def test_parameter_and_input_errors():
    X = np.zeros((2, 4, 5))
    with pytest.raises(ValueError, match="time_axis"):
        SpectrogramAugmenter(time_axis=3).augment(X)
    with pytest.raises(ValueError, match="differ"):
        SpectrogramAugmenter(time_axis=1).augment(X)
    with pytest.raises(ValueError, match="batch"):
        SpectrogramAugmenter().augment(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="n_augmented"):
        SpectrogramAugmenter(n_augmented=-1).fit_resample(X, [0, 1])
    with pytest.raises(ValueError, match="no samples"):
        SpectrogramAugmenter(n_augmented=0, keep_original=False).fit_resample(X, [0, 1])
    with pytest.raises(ValueError, match="fill"):
        SpectrogramAugmenter(fill="wrap").augment(X)
    with pytest.raises(ValueError, match="zoom"):
        SpectrogramAugmenter(zoom=1.5).augment(X)
    with pytest.raises(ValueError, match="NaN"):
        SpectrogramAugmenter().augment(np.full((2, 4, 5), np.nan))
    with pytest.raises(ValueError, match="one label per sample"):
        SpectrogramAugmenter().fit_resample(X, [0, 1, 2])
    with pytest.raises(TypeError, match="metadata"):
        SpectrogramAugmenter().fit_resample(X, [0, 1], sample_weight=[1, 1])


class _Counting(SpectrogramAugmenter):
    calls: list = []

    def _augment(self, X, rng):
        _Counting.calls.append(len(X))
        return super()._augment(X, rng)


class _RecordingClassifier(ClassifierMixin, BaseEstimator):
    """Majority classifier that records the number of samples it was fitted on."""

    fitted_on: list = []

    def fit(self, X, y):
        _RecordingClassifier.fitted_on.append(len(X))
        self.classes_, counts = np.unique(y, return_counts=True)
        self.majority_ = self.classes_[np.argmax(counts)]
        return self

    def predict(self, X):
        return np.full(len(X), self.majority_)


def _flatten(A):
    return A.reshape(len(A), -1)


def test_imblearn_pipeline_augments_only_training_folds():
    rng = np.random.default_rng(0)
    X = rng.random((24, 8, 10), dtype=np.float32)
    y = np.tile(["anger", "calm", "sadness"], 8)
    groups = np.repeat(np.arange(6), 4)
    _Counting.calls, _RecordingClassifier.fitted_on = [], []
    pipe = make_imb_pipeline(
        _Counting(width_shift=0.2, n_augmented=2, random_state=0),
        FunctionTransformer(_flatten),
        _RecordingClassifier(),
    )
    result = cross_validate(
        pipe,
        X,
        y,
        groups=groups,
        cv=GroupKFold(n_splits=3),
        return_estimator=True,
        return_indices=True,
    )
    n_train = [len(t) for t in result["indices"]["train"]]
    assert _Counting.calls == [n for n in n_train for _ in range(2)]  # 2 variants per fit
    assert _RecordingClassifier.fitted_on == [3 * n for n in n_train]
    # Predicting (as cross_validate's scoring did) never augments.
    _Counting.calls = []
    result["estimator"][0].predict(X)
    assert _Counting.calls == []


def test_augmenter_after_mel_image_step():
    from skser.features import MelSpectrogramTransformer

    sr = 16000
    t = np.arange(sr // 2) / sr
    waves = [np.sin(2 * np.pi * f * t).astype(np.float32) for f in (200, 400, 800, 1600)]
    y = ["low", "low", "high", "high"]
    _RecordingClassifier.fitted_on = []
    pipe = make_imb_pipeline(
        MelSpectrogramTransformer(sr=sr, output="image"),
        SpectrogramAugmenter.fser(n_augmented=3, random_state=0),
        FunctionTransformer(_flatten),
        _RecordingClassifier(),
    ).fit(waves, y)
    assert _RecordingClassifier.fitted_on == [16]
    assert pipe.predict(waves).shape == (4,)


def test_pickle_and_clone_keep_params():
    aug = SpectrogramAugmenter.fser(time_masks=2, random_state=3)
    restored = pickle.loads(pickle.dumps(aug))
    assert restored.get_params() == aug.get_params()
    assert clone(aug).get_params() == aug.get_params()


def test_on_the_fly_speed():
    X = np.random.default_rng(0).random((64, 64, 64, 3), dtype=np.float32)
    aug = SpectrogramAugmenter.fser(time_masks=2, freq_masks=2, random_state=0)
    aug.augment(X)
    started = time.process_time()
    for _ in range(5):
        aug.augment(X)
    # A few ms to tens of ms per batch on a busy CPU; seconds would mean a slow path.
    assert (time.process_time() - started) / 5 < 0.25


# ---------------------------------------------------------------- waveforms
def test_waveform_augmenter_ops():
    rng = np.random.default_rng(0)
    tone = np.sin(2 * np.pi * 220 * np.arange(16000) / 16000).astype(np.float32)
    silent = np.zeros(8000, np.float32)
    waves = [tone, silent]

    gained = WaveformAugmenter(gain_db=(6.0, 6.0)).augment(waves, random_state=rng)
    np.testing.assert_allclose(gained[0], tone * 10 ** (6 / 20), rtol=1e-5)

    noisy = WaveformAugmenter(noise_snr_db=10.0).augment(waves, random_state=rng)
    noise = noisy[0] - tone
    snr = 10 * np.log10(np.mean(tone**2) / np.mean(noise**2))
    assert abs(snr - 10.0) < 0.5
    np.testing.assert_array_equal(noisy[1], 0.0)  # silence stays silent, no NaN

    impulse = np.zeros(1000, np.float32)
    impulse[500] = 1.0
    shifted = WaveformAugmenter(time_shift=0.2).augment([impulse] * 10, random_state=rng)
    positions = [int(np.argmax(s)) for s in shifted]
    assert all(abs(p - 500) <= 200 for p in positions) and len(set(positions)) > 1
    assert all(s.sum() == 1.0 for s in shifted)  # zero fill, no wrap


def test_waveform_augmenter_sampler_and_kinds():
    waves = [
        np.random.default_rng(i).normal(size=n).astype(np.float32) * 0.1
        for i, n in enumerate((800, 1200, 1000))
    ]
    aug = WaveformAugmenter(
        noise_snr_db=(10, 20), gain_db=3, time_shift=0.1, n_augmented=2, random_state=0
    )
    X_res, y_res = aug.fit_resample(waves, ["a", "b", "c"])
    assert isinstance(X_res, list) and [len(w) for w in X_res] == [800, 1200, 1000] * 3
    assert all(w.dtype == np.float32 for w in X_res)
    assert list(y_res) == ["a", "b", "c"] * 3
    np.testing.assert_array_equal(X_res[1], waves[1])
    again, _ = clone(aug).fit_resample(waves, ["a", "b", "c"])
    for a, b in zip(X_res, again, strict=True):
        np.testing.assert_array_equal(a, b)
    matrix = np.stack([w[:800] for w in waves])
    out = aug.augment(matrix)
    assert isinstance(out, np.ndarray) and out.shape == (3, 800) and out.dtype == np.float32
    X_res, _ = aug.fit_resample(matrix, [0, 1, 2])
    assert X_res.shape == (9, 800)
    with pytest.raises(ValueError, match="AudioLoader"):
        aug.augment(["clip.wav"])
    with pytest.raises(ValueError, match="time_shift"):
        WaveformAugmenter(time_shift=2.0).augment(waves)
