"""Prosodic and voice-quality descriptors inspired by eGeMAPS, pooled per clip.

Per clip, on one frame grid (``frame_length`` samples centred every
``hop_length`` samples, librosa's ``center=True`` framing with zero padding):

* one power STFT (Hann, ``n_fft = frame_length``) from which loudness and
  every spectral descriptor are derived;
* one YIN pass over the active (non-pause) frames, the only ones that can
  be voiced (the algorithm of ``librosa.yin``, reproduced here so that the
  same pass also yields the aperiodicity used for voicing and HNR);
* the zero-crossing rate from the same frames.

Frame-level descriptors are pooled with :func:`pool_sequence` (the statistics
of :class:`TemporalPooling`); clip-level scalars are appended once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from numbers import Real

import numpy as np
import scipy.fft

from skser._validation import check_positive
from skser.features._base import (
    BLOCK_FRAMES,
    POWER_AMIN,
    ClipFeatureTransformer,
    STFTSpec,
    next_pow2,
    power_spectrogram,
)
from skser.features._pooling import STATS, pool_sequence, pooled_names, stat_labels

#: Reference of the semitone scale (A0): F0 in semitones is ``12 log2(f0 / 27.5)``.
F0_REF_HZ = 27.5
#: YIN's absolute threshold (``librosa.yin``'s ``trough_threshold``).
YIN_TROUGH_THRESHOLD = 0.1
#: A frame is periodic when its YIN aperiodicity (the cumulative mean normalised
#: difference at the chosen period) is below this value.
VOICING_THRESHOLD = 0.3
#: A frame is active (not a pause) when its loudness is within this many dB of
#: the clip's loudest frame and above :data:`SILENCE_DB`.
ACTIVE_RANGE_DB = 35.0
#: Absolute floor of activity, in dB relative to full scale (a full-scale sine is -3 dB).
SILENCE_DB = -80.0
#: Syllable-rate proxy: loudness peaks at least this prominent (dB) and this far apart (s).
PEAK_PROMINENCE_DB = 3.0
PEAK_MIN_DISTANCE_S = 0.1
#: Loudness delta: least-squares slope over this many frames (per frame).
DELTA_WIDTH = 9
DELTA_KERNEL = np.arange(DELTA_WIDTH // 2, -DELTA_WIDTH // 2, -1, dtype=np.float64) / float(
    2 * sum(k * k for k in range(1, DELTA_WIDTH // 2 + 1))
)
#: Loudness is smoothed over this many seconds before peak picking.
PEAK_SMOOTHING_S = 0.05
#: Periodicity is clipped to [HNR_EPS, 1 - HNR_EPS] for the HNR proxy (+-30 dB).
HNR_EPS = 1e-3
#: Band edges (Hz) of the eGeMAPS spectral-balance parameters.
SLOPE_BANDS = ((0.0, 500.0), (500.0, 1500.0))
ALPHA_BANDS = ((50.0, 1000.0), (1000.0, 5000.0))
HAMMARBERG_BANDS = ((0.0, 2000.0), (2000.0, 5000.0))
#: Spectral contrast: 6 octave bands above ``CONTRAST_FMIN`` plus the band below (7 values).
CONTRAST_BANDS = 6
CONTRAST_FMIN = 200.0

#: Descriptors pooled over voiced frames.
VOICED_DESCRIPTORS = ("f0_semitones", "hnr_db")
#: Descriptors pooled over consecutive pairs of voiced frames.
PAIR_DESCRIPTORS = ("jitter", "shimmer_db")
#: Descriptors pooled over all frames.
ALL_DESCRIPTORS = ("loudness_db", "loudness_delta", "zcr")
#: Descriptors pooled over active frames.
SPECTRAL_DESCRIPTORS = (
    "spectral_centroid_hz",
    "spectral_bandwidth_hz",
    "spectral_rolloff_hz",
    "spectral_flatness",
    "spectral_slope_0_500",
    "spectral_slope_500_1500",
    "alpha_ratio_db",
    "hammarberg_db",
    *(f"spectral_contrast{i}" for i in range(CONTRAST_BANDS + 1)),
)
#: Clip-level scalars, appended once after the pooled statistics.
CLIP_DESCRIPTORS = (
    "f0_slope_st_per_s",
    "voiced_fraction",
    "voiced_segments_per_s",
    "mean_voiced_segment_s",
    "mean_unvoiced_segment_s",
    "loudness_peaks_per_s",
    "duration_s",
)


@dataclass(frozen=True)
class _ProsodySpec:
    sr: int
    stft: STFTSpec
    min_period: int
    max_period: int
    trim_db: float | None
    labels: tuple[str, ...]
    contrast_fmin: float
    bands: dict  # precomputed per-bin weights, see _band_weights


def parse_stats(stats) -> list[str]:
    """Validated statistic labels in the given order; ``"p<q>"`` entries are percentiles."""
    if isinstance(stats, str) or not hasattr(stats, "__iter__"):
        raise ValueError(
            f"stats must be a tuple of names from {list(STATS)} or 'p<q>' percentiles such as "
            f"'p10', got {stats!r}."
        )
    stats = list(stats)
    named, percentiles, labels = [], [], []
    for stat in stats:
        if stat in STATS:
            named.append(stat)
            labels.append(stat)
            continue
        match = re.fullmatch(r"p(\d+(?:\.\d*)?)", stat) if isinstance(stat, str) else None
        if match is None:
            raise ValueError(
                f"stats entries must be one of {list(STATS)} or 'p<q>' with q in [0, 100] "
                f"(e.g. 'p10'), got {stat!r}."
            )
        percentiles.append(float(match.group(1)))
        labels.append(f"p{float(match.group(1)):g}")
    stat_labels(named, percentiles)  # ranges, duplicates and emptiness
    return labels


@lru_cache(maxsize=16)
def _band_weights(sr: int, n_fft: int) -> dict:
    """Per-bin weight vectors of the spectral descriptors (read-only, cached)."""
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)

    def mask(lo, hi):
        return ((freqs >= lo) & (freqs < hi)).astype(np.float32)

    slopes = np.zeros((freqs.size, len(SLOPE_BANDS)), dtype=np.float32)
    for j, (lo, hi) in enumerate(SLOPE_BANDS):
        inside = (freqs >= lo) & (freqs < hi)
        if inside.sum() >= 2:  # least-squares slope in dB per kHz: sum(w * dB)
            f = freqs[inside] / 1000.0
            centred = f - f.mean()
            slopes[inside, j] = centred / float(centred @ centred)
    # Parseval for a one-sided spectrum of an even-length FFT: double the inner bins.
    parseval = np.full(freqs.size, 2.0)
    parseval[0] = 1.0
    if n_fft % 2 == 0:
        parseval[-1] = 1.0
    out = {
        "freqs": freqs.astype(np.float32),
        "freqs_sq": (freqs**2).astype(np.float32),
        "parseval": parseval.astype(np.float32),
        "slopes": slopes,
        "alpha": np.stack([mask(*b) for b in ALPHA_BANDS], axis=1),
        "hammarberg": [np.flatnonzero(mask(*b)) for b in HAMMARBERG_BANDS],
    }
    for value in out.values():
        if isinstance(value, np.ndarray):
            value.setflags(write=False)
    return out


# --------------------------------------------------------------------------- YIN


def yin_track(frames: np.ndarray, spec: _ProsodySpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """F0 (Hz), aperiodicity and periodicity of raw frames (n_frames, frame_length).

    F0 is exactly ``librosa.yin`` (cumulative mean normalised difference,
    first trough below 0.1 else the global minimum, parabolic refinement).
    The aperiodicity is that normalised difference at the chosen integer
    period ``T`` (near 0 when periodic, about 1 for noise). The periodicity is
    the normalised autocorrelation ``2 r(T) / (E_head + E_tail)`` of the two
    overlapping frame parts, 1 for a periodic frame, near 0 for noise.
    """
    min_p, max_p = spec.min_period, spec.max_period
    # The autocorrelation is needed up to lag max_p only: zero-padding to
    # frame_length + max_p keeps those lags free of circular wrap-around (a
    # shorter FFT than librosa's 2 * frame_length - 1, same values).
    n_pad = scipy.fft.next_fast_len(frames.shape[1] + max_p, real=True)
    spectrum = scipy.fft.rfft(frames, n=n_pad, axis=1)
    spectrum *= spectrum.conj()  # |X|^2 in place, still complex: no conversion for irfft
    acf = scipy.fft.irfft(spectrum, n=n_pad, axis=1)[:, : max_p + 1]
    cum_energy = np.cumsum(np.square(frames), axis=1)
    energy = cum_energy[:, :max_p]
    # d(k) = 2 (ACF(0) - ACF(k)) - sum_{m<k} y(m)^2, k = 1..max_p (librosa's difference function)
    diff = 2.0 * (acf[:, :1] - acf[:, 1:]) - energy
    cumulative_mean = np.cumsum(diff, axis=1) / np.arange(1, max_p + 1, dtype=diff.dtype)
    cmnd = diff[:, min_p - 1 :] / (cumulative_mean[:, min_p - 1 :] + np.finfo(diff.dtype).tiny)

    trough = np.empty(cmnd.shape, dtype=bool)
    trough[:, 1:-1] = (cmnd[:, 1:-1] < cmnd[:, :-2]) & (cmnd[:, 1:-1] <= cmnd[:, 2:])
    trough[:, 0] = cmnd[:, 0] < cmnd[:, 1]
    trough[:, -1] = cmnd[:, -1] < cmnd[:, -2]
    below = trough & (cmnd < YIN_TROUGH_THRESHOLD)
    index = np.where(below.any(axis=1), below.argmax(axis=1), cmnd.argmin(axis=1))

    rows = np.arange(cmnd.shape[0])
    inner = np.clip(index, 1, cmnd.shape[1] - 2)
    centre, left, right = cmnd[rows, inner], cmnd[rows, inner - 1], cmnd[rows, inner + 1]
    a = right + left - 2.0 * centre
    b = (right - left) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(np.abs(b) >= np.abs(a), 0.0, -b / a)
    shift[(index == 0) | (index == cmnd.shape[1] - 1)] = 0.0
    f0 = spec.sr / (min_p + index + shift)
    period = min_p + index
    # Energies of the two overlapping parts y[:L-T] and y[T:].
    overlap = cum_energy[rows, frames.shape[1] - 1 - period] + (
        cum_energy[:, -1] - cum_energy[rows, period - 1]
    )
    periodicity = 2.0 * acf[rows, period] / np.maximum(overlap, np.finfo(np.float32).tiny)
    return f0, cmnd[rows, index], periodicity


# --------------------------------------------------------------------------- per clip


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start indices and lengths of the runs of True in a boolean vector."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    return starts, np.flatnonzero(edges == -1) - starts


def _pool(values: np.ndarray, labels: list[str], d: int) -> np.ndarray:
    """Pooled statistics of (n, d) values; zeros when there is no frame."""
    if values.shape[0] == 0:
        return np.zeros(d * len(labels), dtype=np.float32)
    return pool_sequence(values, labels)


def _spectral(power: np.ndarray, spec: _ProsodySpec) -> np.ndarray:
    """(n_frames, 15) spectral descriptors of a power spectrogram (n_frames, n_bins)."""
    import librosa

    w = spec.bands
    mag = np.sqrt(power)
    mag_sum = mag.sum(axis=1) + np.float32(1e-20)
    # librosa's centroid, bandwidth (p=2) and rolloff use magnitudes; flatness uses power.
    centroid = (mag @ w["freqs"]) / mag_sum
    bandwidth = np.sqrt(np.maximum((mag @ w["freqs_sq"]) / mag_sum - centroid**2, 0))
    cumulative = np.cumsum(mag, axis=1)
    rolloff = w["freqs"][np.argmax(cumulative >= 0.85 * cumulative[:, -1:], axis=1)]
    floored = np.maximum(power, np.float32(POWER_AMIN))
    log_power = np.log(floored)
    flatness = np.exp(log_power.mean(axis=1)) / floored.mean(axis=1)
    slopes = (log_power @ w["slopes"]) * (10.0 / np.log(10.0))  # dB per kHz
    bands = np.maximum(power @ w["alpha"], np.float32(POWER_AMIN))
    alpha = 10.0 * np.log10(bands[:, 0] / bands[:, 1])
    low, high = w["hammarberg"]
    if low.size and high.size:
        hammarberg = 10.0 * np.log10(floored[:, low].max(axis=1) / floored[:, high].max(axis=1))
    else:  # sample rate too low for the 2-5 kHz band
        hammarberg = np.zeros(power.shape[0])
    contrast = librosa.feature.spectral_contrast(
        S=mag.T,
        sr=spec.sr,
        n_fft=spec.stft.n_fft,
        fmin=spec.contrast_fmin,
        n_bands=CONTRAST_BANDS,
    ).T
    columns = [centroid, bandwidth, rolloff, flatness, slopes[:, 0], slopes[:, 1], alpha]
    return np.column_stack([*columns, hammarberg, contrast]).astype(np.float64)


def _zero_crossing_rate(wave: np.ndarray, spec: _ProsodySpec, n_frames: int) -> np.ndarray:
    """Fraction of sign changes inside each centred frame (O(n) with a cumulative sum)."""
    length, hop = spec.stft.n_fft, spec.stft.hop_length
    padded = np.pad(wave, length // 2)
    negative = np.signbit(np.where(np.abs(padded) <= 1e-10, 0.0, padded))
    counts = np.concatenate([[0], np.cumsum(negative[1:] != negative[:-1])])
    starts = np.arange(n_frames) * hop
    ends = np.minimum(starts + length - 1, counts.size - 1)
    return (counts[ends] - counts[starts]) / float(length)


def _yin_where(frames: np.ndarray, mask: np.ndarray, spec: _ProsodySpec):
    """:func:`yin_track` of the frames where ``mask`` is True; unvoiced fill values elsewhere.

    Only active frames can be voiced, and F0, aperiodicity and periodicity are
    used on voiced frames only, so the pauses (about half of an acted clip)
    are skipped. The fill values are finite and unvoiced: F0 1 Hz,
    aperiodicity 1, periodicity 0. Frames go through YIN in blocks, as its FFT buffers are
    ~4x the frames (a long recording at once would need many times its size).
    """
    rows = np.flatnonzero(mask)
    f0 = np.ones(len(frames), dtype=np.float64)
    aperiodicity = np.ones(len(frames), dtype=np.float32)
    periodicity = np.zeros(len(frames), dtype=np.float32)
    for i in range(0, len(rows), BLOCK_FRAMES):
        block = rows[i : i + BLOCK_FRAMES]
        f0[block], aperiodicity[block], periodicity[block] = yin_track(frames[block], spec)
    return f0, aperiodicity, periodicity


def _prosody_clip(wave: np.ndarray, spec: _ProsodySpec) -> np.ndarray:
    """Pooled descriptors and clip scalars of one clip, float32 (n_features,)."""
    from scipy.signal import find_peaks

    sr, hop, length = spec.sr, spec.stft.hop_length, spec.stft.n_fft
    labels = list(spec.labels)
    wave = np.asarray(wave, dtype=np.float32)
    power = power_spectrogram(wave, spec.stft)  # the one STFT of the clip
    n_frames = power.shape[0]
    frames = np.lib.stride_tricks.sliding_window_view(np.pad(wave, length // 2), length)[::hop]
    window = spec.stft.window_values
    mean_square = (power @ spec.bands["parseval"]) / (length * float(window @ window))
    loudness = 10.0 * np.log10(np.maximum(mean_square.astype(np.float64), POWER_AMIN))
    active = (loudness >= loudness.max() - ACTIVE_RANGE_DB) & (loudness > SILENCE_DB)
    f0, aperiodicity, periodicity = _yin_where(frames, active, spec)
    zcr = _zero_crossing_rate(wave, spec, n_frames)

    duration = wave.size / sr
    if spec.trim_db is not None:  # drop leading/trailing frames quieter than max - trim_db
        kept = np.flatnonzero(loudness >= loudness.max() - spec.trim_db)
        first, last = kept[0], kept[-1] + 1
        power, loudness, f0 = power[first:last], loudness[first:last], f0[first:last]
        aperiodicity, periodicity = aperiodicity[first:last], periodicity[first:last]
        zcr, active = zcr[first:last], active[first:last]  # the loudest frame stays: same max
        duration = min(wave.size, (last - first) * hop) / sr

    voiced = active & (aperiodicity < VOICING_THRESHOLD)
    if wave.size < length:  # not even one full frame: no reliable period
        voiced[:] = False
    semitones = 12.0 * np.log2(f0 / F0_REF_HZ)
    periodicity = np.clip(periodicity, HNR_EPS, 1.0 - HNR_EPS)
    hnr = 10.0 * np.log10(periodicity / (1.0 - periodicity))
    pairs = voiced[1:] & voiced[:-1]
    periods = 1.0 / f0
    mean_period = periods[voiced].mean() if voiced.any() else 1.0
    jitter = np.abs(np.diff(periods))[pairs] / mean_period
    shimmer = np.abs(np.diff(loudness))[pairs]
    # Regression slope over 9 frames (librosa.feature.delta's filter), edge frames repeated.
    half = DELTA_WIDTH // 2
    loudness_delta = np.convolve(np.pad(loudness, half, mode="edge"), DELTA_KERNEL, mode="valid")

    pooled = [
        _pool(np.column_stack([semitones[voiced], hnr[voiced]]), labels, 2),
        _pool(np.column_stack([jitter, shimmer]), labels, 2),
        _pool(np.column_stack([loudness, loudness_delta, zcr]), labels, 3),
        _pool(_spectral(power[active], spec) if active.any() else np.zeros((0, 15)), labels, 15),
    ]

    times = np.flatnonzero(voiced) * hop / sr
    if times.size >= 2:
        centred = times - times.mean()
        f0_slope = float(centred @ (semitones[voiced] - semitones[voiced].mean())) / float(
            centred @ centred
        )
    else:
        f0_slope = 0.0
    starts, lengths = _runs(voiced)
    if starts.size >= 2:  # pauses between voiced segments, not leading/trailing silence
        gaps = starts[1:] - (starts[:-1] + lengths[:-1])
        mean_gap = gaps.mean() * hop / sr
    else:
        mean_gap = 0.0
    smooth = max(1, int(round(PEAK_SMOOTHING_S * sr / hop)))
    smoothed = np.convolve(loudness, np.ones(smooth) / smooth, mode="same")
    peaks, _ = find_peaks(
        smoothed,
        prominence=PEAK_PROMINENCE_DB,
        distance=max(1, int(round(PEAK_MIN_DISTANCE_S * sr / hop))),
    )
    n_peaks = int(voiced[peaks].sum()) if peaks.size else 0
    clip = [
        f0_slope,
        voiced.mean(),
        starts.size / duration,
        lengths.mean() * hop / sr if lengths.size else 0.0,
        mean_gap,
        n_peaks / duration,
        duration,
    ]
    out = np.concatenate([*pooled, np.asarray(clip, dtype=np.float32)]).astype(np.float32)
    # Guard: every branch above is finite by construction; make a bug loud, not silent.
    if not np.all(np.isfinite(out)):
        raise FloatingPointError("ProsodyTransformer produced a non-finite feature.")
    return out


# --------------------------------------------------------------------------- estimator


class ProsodyTransformer(ClipFeatureTransformer):
    """eGeMAPS-inspired prosodic, voice-quality and spectral descriptors per clip.

    Every clip becomes one fixed vector: frame-level low-level descriptors
    (LLDs) pooled with ``stats``, followed by clip-level scalars. All frames
    share one grid: ``frame_length`` samples centred every ``hop_length``
    samples (zero padding at the edges). One power STFT (Hann window,
    ``n_fft = frame_length``) gives loudness and every spectral descriptor;
    one YIN pass over the active frames gives F0 and aperiodicity.

    **Frames.** *Active* frames have a loudness within 35 dB of the clip's
    loudest frame and above -80 dBFS. *Voiced* frames are active frames whose
    YIN aperiodicity is below 0.3 (periodic enough); clips shorter than
    ``frame_length`` have no voiced frame (the frame cannot hold a period
    reliably). Voicing is thus relative to the clip's own loudness, so it does
    not depend on the recording level.

    **Descriptors** (names as in :meth:`get_feature_names_out`):

    - over voiced frames: ``f0_semitones`` (YIN, ``12 log2(f0 / 27.5 Hz)``),
      ``hnr_db`` (harmonic-to-noise proxy ``10 log10(r / (1 - r))`` from the
      normalised autocorrelation ``r`` at the YIN period, clipped to +-30 dB);
    - over consecutive voiced frame pairs: ``jitter`` (absolute difference of
      the two F0 periods over the clip's mean voiced period) and
      ``shimmer_db`` (absolute loudness difference);
    - over all frames: ``loudness_db`` (windowed RMS energy in dB relative to
      full scale: a full-scale sine is -3 dB, digital silence -100 dB),
      ``loudness_delta`` (least-squares slope over 9 frames, dB per frame,
      the filter of ``librosa.feature.delta``), ``zcr`` (zero-crossing rate);
    - over active frames: spectral centroid, bandwidth and 85 % rolloff (Hz,
      on magnitudes, as librosa), flatness (power, as librosa), eGeMAPS
      spectral slopes 0-500 Hz and 500-1500 Hz (least-squares slope of the
      dB power spectrum, dB/kHz), alpha ratio (energy 50-1000 Hz over
      1-5 kHz, dB), Hammarberg index (peak power 0-2 kHz over 2-5 kHz, dB)
      and ``librosa.feature.spectral_contrast`` (6 octave bands above 200 Hz,
      lowered for low sample rates, plus the band below: 7 values);
    - clip scalars: ``f0_slope_st_per_s`` (least-squares slope of voiced F0
      over time), ``voiced_fraction``, ``voiced_segments_per_s``,
      ``mean_voiced_segment_s``, ``mean_unvoiced_segment_s`` (pauses between
      voiced segments; leading/trailing silence excluded),
      ``loudness_peaks_per_s`` (syllable-rate proxy: voiced peaks of the
      50 ms-smoothed loudness, >= 3 dB prominent and >= 100 ms apart) and
      ``duration_s`` (of the analysed, possibly trimmed, signal).

    **Fallbacks.** A descriptor group with no frame to pool (no voiced frame,
    fewer than two consecutive voiced frames, no active frame) gives 0 for
    all its statistics; the F0 slope, voiced fraction, segment and peak rates
    are then 0 too. Silence, noise and clips of a few samples therefore give
    finite features, never NaN.

    Parameters
    ----------
    sr : int, default=16000
        Sample rate; paths are read at this rate, arrays are taken to be at it.
    fmin, fmax : float, default=65.0, 600.0
        F0 search range of YIN in Hz (``fmax <= sr / 2``).
    frame_length : int or None, default=None
        Analysis frame in samples (YIN frame and STFT size). None: the
        smallest power of two holding two periods of ``fmin`` (512 at 16 kHz,
        32 ms). Must exceed ``sr / fmin + 1`` samples.
    hop_length : int or None, default=None
        Hop in samples; None means 10 ms (160 at 16 kHz).
    trim_db : float or None, default=None
        If set, frames before the first and after the last frame within
        ``trim_db`` dB of the loudest frame are dropped before any descriptor
        is pooled (leading/trailing silence trim, on the analysis grid).
    stats : tuple of str, default=("mean", "std", "p10", "p90")
        Statistics of the frame-level descriptors: ``"mean"``, ``"std"``,
        ``"min"``, ``"max"``, ``"median"``, ``"slope"`` (per frame index) and
        percentiles ``"p<q>"`` with q in [0, 100], in the order given.
    n_jobs : int or None
        Parallel workers over clips (joblib threads by default).
    verbose : bool, default=False
        Progress bar.
    memory : None, str or joblib.Memory
        Cache per-clip results on disk.

    Attributes
    ----------
    is_fitted_ : bool
        Set by ``fit`` (nothing is learned).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(16000) / 16000
    >>> tone = sum(np.sin(2 * np.pi * 200 * k * t) / k for k in range(1, 6))
    >>> prosody = ProsodyTransformer().fit([tone])
    >>> features = prosody.transform([0.2 * tone, 0.4 * tone])
    >>> features.shape
    (2, 95)
    >>> names = list(prosody.get_feature_names_out())
    >>> f0 = features[:, names.index("f0_semitones_mean")]
    >>> bool(np.allclose(27.5 * 2 ** (f0 / 12), 200, rtol=0.01))
    True
    >>> gain = np.diff(features[:, names.index("loudness_db_mean")])[0]
    >>> round(float(gain), 1)  # twice the amplitude: +6 dB
    6.0
    """

    _desc = "prosody"
    _clip_function = staticmethod(_prosody_clip)

    def __init__(
        self,
        *,
        sr=16000,
        fmin=65.0,
        fmax=600.0,
        frame_length=None,
        hop_length=None,
        trim_db=None,
        stats=("mean", "std", "p10", "p90"),
        n_jobs=None,
        verbose=False,
        memory=None,
    ):
        self.sr = sr
        self.fmin = fmin
        self.fmax = fmax
        self.frame_length = frame_length
        self.hop_length = hop_length
        self.trim_db = trim_db
        self.stats = stats
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.memory = memory

    def _resolve(self) -> _ProsodySpec:
        self._check_common()
        sr = int(self.sr)
        for name in ("fmin", "fmax"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, Real) or not value > 0:
                raise ValueError(f"{name} must be a positive number of Hz, got {value!r}.")
        fmin, fmax = float(self.fmin), float(self.fmax)
        if fmax > sr / 2:
            raise ValueError(f"fmax ({fmax}) must be <= sr / 2 ({sr / 2}).")
        min_period = int(np.floor(sr / fmax))
        max_period = int(np.ceil(sr / fmin))
        if max_period - min_period < 2:
            raise ValueError(
                f"fmin ({fmin}) must be clearly below fmax ({fmax}): the F0 range spans fewer "
                f"than 3 periods at sr={sr}."
            )
        if self.frame_length is None:
            frame_length = next_pow2(2 * max_period + 1)
        else:
            frame_length = int(check_positive(self.frame_length, "frame_length", integer=True))
            if frame_length <= max_period + 1:
                raise ValueError(
                    f"frame_length ({frame_length}) must exceed sr / fmin + 1 = {max_period + 1} "
                    f"samples (one period of fmin={fmin} Hz); raise it or raise fmin."
                )
        contrast_fmin = min(CONTRAST_FMIN, 0.99 * (sr / 2) / 2 ** (CONTRAST_BANDS - 1))
        if contrast_fmin < sr / frame_length:  # lowest contrast band would hold < 2 bins
            raise ValueError(
                f"frame_length ({frame_length}) is too short for the spectral contrast octave "
                f"bands at sr={sr}: it must be at least {int(np.ceil(sr / contrast_fmin))} "
                f"samples (raise frame_length, or lower fmin)."
            )
        hop = self.hop_length
        hop = max(1, int(round(0.010 * sr))) if hop is None else hop
        check_positive(hop, "hop_length", integer=True)
        if self.trim_db is not None:
            check_positive(self.trim_db, "trim_db")
        labels = parse_stats(self.stats)
        stft = STFTSpec.build(frame_length, int(hop), frame_length, "hann", True, 2.0)
        return _ProsodySpec(
            sr=sr,
            stft=stft,
            min_period=min_period,
            max_period=max_period,
            trim_db=None if self.trim_db is None else float(self.trim_db),
            labels=tuple(labels),
            contrast_fmin=contrast_fmin,
            bands=_band_weights(sr, frame_length),
        )

    def transform(self, X):
        """Compute the descriptors of every clip.

        Parameters
        ----------
        X : sequence of clips (paths or 1-D float arrays), or ndarray of shape (n_clips, n_samples)

        Returns
        -------
        ndarray of shape (n_clips, n_features), float32
            ``n_features = 22 * len(stats) + 7``.
        """
        spec = self._resolve()
        return np.stack(self._extract(X, spec)).astype(np.float32, copy=False)

    def get_feature_names_out(self, input_features=None):
        """Names such as ``"f0_semitones_mean"``, then the clip scalars.

        Parameters
        ----------
        input_features : ignored
            Present for the scikit-learn API (the input is audio).

        Returns
        -------
        ndarray of str objects
        """
        labels = parse_stats(self.stats)
        groups = [VOICED_DESCRIPTORS, PAIR_DESCRIPTORS, ALL_DESCRIPTORS, SPECTRAL_DESCRIPTORS]
        names = [n for group in groups for n in pooled_names(list(group), labels)]
        return np.asarray([*names, *CLIP_DESCRIPTORS], dtype=object)
