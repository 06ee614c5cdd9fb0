"""TemporalPooling (skser.features._pooling)."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skser.features import TemporalPooling


@pytest.fixture
def seqs():
    return np.random.default_rng(0).standard_normal((5, 30, 4)).astype(np.float32)


def test_stats_match_numpy(seqs):
    pool = TemporalPooling(
        stats=("mean", "std", "min", "max", "median"), percentiles=(10, 90)
    ).fit(seqs)
    out = pool.transform(seqs)
    assert out.shape == (5, 4 * 7) and out.dtype == np.float32
    expected = np.concatenate(
        [
            seqs.mean(1), seqs.std(1), seqs.min(1), seqs.max(1), np.median(seqs, 1),
            np.percentile(seqs, 10, axis=1), np.percentile(seqs, 90, axis=1),
        ],
        axis=1,
    )  # fmt: skip
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    names = pool.get_feature_names_out()
    assert list(names[:5]) == ["x0_mean", "x1_mean", "x2_mean", "x3_mean", "x0_std"]
    assert names[-1] == "x3_p90"


def test_slope_is_the_least_squares_slope():
    t = np.arange(20, dtype=float)
    X = np.stack([np.stack([2.5 * t + 1, -0.5 * t, np.ones(20)], axis=1)])
    out = TemporalPooling(stats=("slope",)).fit_transform(X)
    np.testing.assert_allclose(out[0], [2.5, -0.5, 0.0], atol=1e-6)
    noisy = X + np.random.default_rng(0).standard_normal(X.shape)
    ref = [np.polyfit(t, noisy[0, :, j], 1)[0] for j in range(3)]
    np.testing.assert_allclose(
        TemporalPooling(stats=("slope",)).fit_transform(noisy)[0], ref, rtol=1e-5
    )
    # A single frame has no trend.
    assert np.all(TemporalPooling(stats=("slope",)).fit_transform(X[:, :1]) == 0)


def test_time_axis_2_pools_spectrograms(seqs):
    spectrograms = np.swapaxes(seqs, 1, 2)  # (n, d, n_frames)
    a = TemporalPooling(time_axis=2).fit_transform(spectrograms)
    np.testing.assert_array_equal(a, TemporalPooling().fit_transform(seqs))


def test_ignore_padding_drops_trailing_zero_frames(seqs):
    padded = seqs.copy()
    padded[0, 10:] = 0
    padded[1] = 0  # an all-zero clip keeps one frame: finite zeros
    with_pad = TemporalPooling(stats=("mean", "std", "slope")).fit_transform(padded)
    without = TemporalPooling(stats=("mean", "std", "slope"), ignore_padding=True).fit_transform(
        padded
    )
    ref = TemporalPooling(stats=("mean", "std", "slope")).fit_transform(seqs[:1, :10])
    np.testing.assert_allclose(without[0], ref[0], rtol=1e-5, atol=1e-6)
    assert not np.allclose(with_pad[0], ref[0])
    assert np.all(without[1] == 0)
    np.testing.assert_array_equal(without[2:], with_pad[2:])


def test_ragged_list_input_equals_per_clip_pooling(seqs):
    ragged = [seqs[0, :7], seqs[1], seqs[2, :1]]
    out = TemporalPooling(stats=("mean", "max")).fit_transform(ragged)
    for i, s in enumerate(ragged):
        np.testing.assert_allclose(
            out[i], np.concatenate([s.mean(0), s.max(0)]), rtol=1e-5, atol=1e-6
        )


def test_pandas_output_and_pipeline(seqs):
    pool = TemporalPooling(percentiles=(25,)).set_output(transform="pandas")
    frame = pool.fit_transform(seqs)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == list(pool.get_feature_names_out())
    named = pool.get_feature_names_out(["a", "b", "c", "d"])
    assert named[0] == "a_mean" and named[-1] == "d_p25"
    pipe = make_pipeline(TemporalPooling(), StandardScaler()).fit(seqs)
    assert pipe.transform(seqs).shape == (5, 8)


def test_clone_and_pickle(seqs):
    pool = TemporalPooling(stats=("median",), percentiles=(5.5,)).fit(seqs)
    assert clone(pool).get_params() == pool.get_params()
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(pool)).transform(seqs), pool.transform(seqs)
    )
    assert pool.get_feature_names_out()[-1] == "x3_p5.5"


@pytest.mark.parametrize(
    ("params", "X", "match"),
    [
        (dict(stats=("mean", "mode")), None, "stats"),
        (dict(stats="mean"), None, "stats"),
        (dict(percentiles=(101,)), None, "percentiles"),
        (dict(stats=(), percentiles=()), None, "At least one"),
        (dict(time_axis=0), None, "time_axis"),
        (dict(), np.zeros((3, 4)), "3-D"),
        (dict(), np.full((2, 3, 4), np.nan), "NaN"),
        (dict(), [np.zeros((3, 2)), np.zeros((3, 5))], "same number of features"),
    ],
)
def test_errors(params, X, match, seqs):
    with pytest.raises(ValueError, match=match):
        TemporalPooling(**params).fit(seqs if X is None else X)


def test_feature_count_checked_at_transform(seqs):
    pool = TemporalPooling().fit(seqs)
    with pytest.raises(ValueError, match="fitted with 4"):
        pool.transform(seqs[:, :, :3])
