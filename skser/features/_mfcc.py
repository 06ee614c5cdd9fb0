"""Cepstral coefficients: MFCC here, and the shared cepstral pipeline GTCC reuses.

Pipeline per clip: power STFT -> filterbank energies -> dB (librosa's
``power_to_db``: 10 log10 with a 1e-10 floor and ``top_db``) -> DCT-II
(orthonormal) -> first ``n`` coefficients -> optional lifter, deltas, CMVN ->
a (n_frames, d) sequence or pooled statistics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from numbers import Real

import numpy as np
import scipy.fft
from sklearn.utils.metaestimators import available_if

from skser._validation import check_option, check_positive
from skser.features._base import (
    ClipFeatureTransformer,
    STFTSpec,
    check_window,
    mel_filterbank,
    power_spectrogram,
    resolve_framing,
    stack_fixed,
    to_db,
)
from skser.features._pooling import pool_sequence, pooled_names, stat_labels

#: Width of the delta regression window (librosa's default).
DELTA_WIDTH = 9


@dataclass(frozen=True)
class _CepstralSpec:
    stft: STFTSpec
    filterbank: (
        tuple  # ("mel", sr, n_fft, n_mels, fmin, fmax) or ("gammatone", sr, n_fft, n, fmin, fmax)
    )
    n_coeffs: int
    top_db: float | None
    lifter: float
    deltas: bool
    cmvn: bool
    output: str
    labels: tuple[str, ...]
    weights: np.ndarray  # filterbank (n_bands, 1 + n_fft // 2) on the power spectrum


def _filterbank(key: tuple) -> np.ndarray:
    """Weights (n_bands, 1 + n_fft // 2) applied to the power spectrum (cached)."""
    kind, sr, n_fft, n_bands, fmin, fmax = key
    if kind == "mel":
        return mel_filterbank(sr, n_fft, n_bands, fmin, fmax, False, "slaney")
    from skser.features._gtcc import gammatone_power_weights

    return gammatone_power_weights(sr, n_fft, n_bands, fmin, fmax)


def deltas(coeffs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and second time derivatives of a (n_frames, d) sequence.

    Savitzky-Golay derivatives over a 9-frame window with ``mode="interp"``,
    exactly ``librosa.feature.delta``; sequences shorter than 9 frames use
    ``mode="nearest"`` (edge frames repeated), which ``"interp"`` cannot do.
    The arithmetic is ``scipy.signal.savgol_filter``'s, step for step (equal
    to it, see ``tests/test_features_spectral.py``), without importing
    ``scipy.signal`` (a tenth of a second of a fitted model's start-up) and
    with the filter coefficients computed once.
    """
    d1 = _savgol(coeffs, polyorder=1, deriv=1)
    d2 = _savgol(coeffs, polyorder=2, deriv=2)
    return d1.astype(np.float32, copy=False), d2.astype(np.float32, copy=False)


@lru_cache(maxsize=8)
def _savgol_coeffs(window_length: int, polyorder: int, deriv: int) -> np.ndarray:
    """``scipy.signal.savgol_coeffs(window_length, polyorder, deriv)`` (``use="conv"``, ``delta=1``)."""
    from scipy.linalg import lstsq

    pos = window_length // 2  # odd window_length: the centre
    x = np.arange(-pos, window_length - pos, dtype=np.float64)[::-1]  # reversed: convolution
    order = np.arange(polyorder + 1, dtype=np.float64).reshape(-1, 1)
    A = x**order
    y = np.zeros(polyorder + 1, dtype=np.float64)
    y[deriv] = float(math.factorial(deriv))
    rcond = np.finfo(A.dtype).eps * max(A.shape[-1], A.shape[-2])
    coeffs = lstsq(A, y, cond=rcond)[0]
    coeffs.setflags(write=False)
    return coeffs


@lru_cache(maxsize=8)
def _edge_design(window_length: int, polyorder: int, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """Scaled Vandermonde matrix of the edge fits and its column scales (``polyfit``'s)."""
    x = np.arange(0, window_length, dtype=dtype)
    powers = np.arange(polyorder + 1, dtype=dtype)[::-1]
    lhs = x[:, None] ** powers[None, :]
    scale = np.sqrt(np.sum(lhs * lhs, axis=0))
    lhs /= scale
    lhs.setflags(write=False)
    scale.setflags(write=False)
    return lhs, scale


def _fit_edge(x, y, start: int, interp_start: int, interp_stop: int, polyorder: int, deriv: int):
    """Fill ``y[interp_start:interp_stop]`` from a polynomial fitted to ``x[start:start + 9]``."""
    from scipy.linalg import lstsq

    window_length = DELTA_WIDTH
    edge = x[start : start + window_length]
    lhs, scale = _edge_design(window_length, polyorder, x.dtype.str)
    rcond = window_length * np.finfo(x.dtype).eps
    c = lstsq(lhs, edge, cond=rcond)[0]
    c = (c.T / scale).T
    n = c.shape[0]  # polynomial derivative, highest power first (scipy's _polyder)
    dp = np.array(c[:-deriv], copy=True)
    for k in range(deriv):
        dp *= np.arange(n - k - 1, deriv - k - 1, -1, dtype=c.dtype).reshape(n - deriv, 1)
    points = np.arange(interp_start - start, interp_stop - start, dtype=dp.dtype).reshape(-1, 1)
    values = np.zeros_like(points)
    for j in range(dp.shape[0]):
        values = values * points + dp[j, ...]
    y[interp_start:interp_stop] = values / (1.0**deriv)


def _savgol(x: np.ndarray, *, polyorder: int, deriv: int) -> np.ndarray:
    """``scipy.signal.savgol_filter(x, 9, polyorder, deriv=deriv, axis=0, mode=...)`` of a 2-D x."""
    from scipy.ndimage import convolve1d

    x = np.asarray(x)
    if x.dtype != np.float64 and x.dtype != np.float32:
        x = x.astype(np.float64)
    weights = _savgol_coeffs(DELTA_WIDTH, polyorder, deriv)
    if x.shape[0] < DELTA_WIDTH:  # "interp" needs a whole window
        return convolve1d(x, weights, axis=0, mode="nearest", cval=0.0)
    y = convolve1d(x, weights, axis=0, mode="constant")
    half, n = DELTA_WIDTH // 2, x.shape[0]
    _fit_edge(x, y, 0, 0, half, polyorder, deriv)
    _fit_edge(x, y, n - DELTA_WIDTH, n - half, n, polyorder, deriv)
    return y


def _cepstral_clip(wave: np.ndarray, spec: _CepstralSpec) -> np.ndarray:
    """(n_frames, d) coefficients of one clip, or their pooled statistics (d * k,)."""
    energies = power_spectrogram(wave, spec.stft, spec.weights)
    log_energies = to_db(energies, power=2.0, ref=1.0, top_db=spec.top_db)
    coeffs = scipy.fft.dct(log_energies, type=2, norm="ortho", axis=-1)[:, : spec.n_coeffs]
    if spec.lifter > 0:
        n = np.arange(1, spec.n_coeffs + 1, dtype=np.float32)
        coeffs = coeffs * (1 + (spec.lifter / 2) * np.sin(np.pi * n / spec.lifter))
    if spec.deltas:
        coeffs = np.concatenate([coeffs, *deltas(coeffs)], axis=1)
    if spec.cmvn:
        std = coeffs.std(axis=0)
        coeffs = (coeffs - coeffs.mean(axis=0)) / np.where(std > 0, std, 1.0)
    if spec.output == "stats":
        return pool_sequence(coeffs, list(spec.labels))
    return coeffs.astype(np.float32, copy=False)


class _CepstralTransformer(ClipFeatureTransformer):
    """Shared parameters and logic of MFCC and GTCC (subclasses name the filterbank)."""

    _prefix = "cc"

    def _n_coeffs(self) -> int:
        raise NotImplementedError

    def _filterbank_key(self, sr: int, n_fft: int) -> tuple:
        raise NotImplementedError

    def _check_band_edges(self, fmin, fmax, sr):
        if isinstance(fmin, bool) or not isinstance(fmin, Real) or fmin < 0:
            raise ValueError(f"fmin must be a number >= 0, got {fmin!r}.")
        fmax = sr / 2.0 if fmax is None else check_positive(fmax, "fmax")
        if fmax > sr / 2.0:
            raise ValueError(f"fmax ({fmax}) must be <= sr / 2 ({sr / 2.0}).")
        if not fmin < fmax:
            raise ValueError(f"fmin ({fmin}) must be below fmax ({fmax}).")
        return float(fmin), float(fmax)

    def _resolve(self) -> _CepstralSpec:
        self._check_common()
        sr = int(self.sr)
        n_fft, win_length, hop = resolve_framing(sr, self.n_fft, self.win_length, self.hop_length)
        check_window(self.window)
        if not isinstance(self.center, (bool, np.bool_)):
            raise ValueError(f"center must be True or False, got {self.center!r}.")
        stft = STFTSpec.build(n_fft, hop, win_length, self.window, bool(self.center), 2.0)
        key = self._filterbank_key(sr, n_fft)
        n_coeffs = self._n_coeffs()
        if n_coeffs > key[3]:
            raise ValueError(
                f"{self._prefix}: {n_coeffs} coefficients requested but the filterbank has only "
                f"{key[3]} bands."
            )
        check_positive(self.top_db, "top_db", allow_none=True)
        if isinstance(self.lifter, bool) or not isinstance(self.lifter, Real) or self.lifter < 0:
            raise ValueError(f"lifter must be a number >= 0, got {self.lifter!r}.")
        check_option(self.output, "output", ["sequence", "stats"])
        check_positive(self.max_frames, "max_frames", integer=True, allow_none=True)
        labels = stat_labels(self.stats)
        if self.cmvn and self.output == "stats" and {"mean", "std"} & set(labels):
            raise ValueError(
                "cmvn=True makes every clip's mean 0 and std 1, so stats 'mean'/'std' would be "
                "constant: use cmvn=False with output='stats', or drop those stats."
            )
        return _CepstralSpec(
            stft=stft, filterbank=key, n_coeffs=n_coeffs,
            top_db=None if self.top_db is None else float(self.top_db),
            lifter=float(self.lifter), deltas=bool(self.deltas), cmvn=bool(self.cmvn),
            output=self.output, labels=tuple(labels), weights=_filterbank(key),
        )  # fmt: skip

    def transform(self, X):
        """Compute the coefficients of every clip.

        Parameters
        ----------
        X : sequence of clips (paths or 1-D float arrays), or ndarray of shape (n_clips, n_samples)

        Returns
        -------
        ndarray, float32
            ``(n_clips, max_frames, n_coeffs)`` for ``output="sequence"``
            (``n_coeffs`` tripled with ``deltas``), ``(n_clips, n_features)``
            for ``output="stats"``.
        """
        spec = self._resolve()
        features = self._extract(X, spec)
        if spec.output == "stats":
            return np.stack(features).astype(np.float32, copy=False)
        return stack_fixed(features, self.max_frames, axis=0)

    def coefficient_names(self) -> list[str]:
        """Names of the per-frame coefficients (``mfcc0``, ..., ``mfcc0_delta``, ...)."""
        base = [f"{self._prefix}{i}" for i in range(self._n_coeffs())]
        if self.deltas:
            base += [f"{b}_delta" for b in base[: self._n_coeffs()]]
            base += [f"{b}_delta2" for b in base[: self._n_coeffs()]]
        return base

    def _outputs_stats(self):
        return self.output == "stats"

    @available_if(_outputs_stats)
    def get_feature_names_out(self, input_features=None):
        """Names of the pooled features, e.g. ``"mfcc0_mean"`` (``output="stats"`` only).

        Parameters
        ----------
        input_features : ignored
            Present for the scikit-learn API (the input is audio).

        Returns
        -------
        ndarray of str objects
        """
        return pooled_names(self.coefficient_names(), stat_labels(self.stats))


class MFCCTransformer(_CepstralTransformer):
    """Mel-frequency cepstral coefficients of audio clips.

    Equal to ``librosa.feature.mfcc`` (DCT-II, orthonormal, Slaney mel
    filterbank, ``power_to_db`` with ``top_db``) for the same parameters.

    The default 13 coefficients over 40 mel bands with 25 ms Hann windows
    every 10 ms (n_fft 512 at 16 kHz) are the conventional speech setting; the
    MFCC Conv1D/LSTM paper (TESS) feeds ``(n_frames, n_mfcc)`` sequences,
    zero-padded or truncated to a fixed number of frames, without stating
    ``n_mfcc``, and describes MFCCs as "a few initial cepstral
    coefficients", so 13 it is (set ``n_mfcc=40`` for a richer sequence).

    Parameters
    ----------
    sr : int, default=16000
        Sample rate; paths are read at this rate, arrays are taken to be at it.
    n_mfcc : int, default=13
        Number of coefficients (coefficient 0, the log energy, included).
    n_fft, hop_length, win_length : int or None
        STFT sizes in samples. None: 25 ms window (``n_fft`` = next power of
        two), 10 ms hop; only ``n_fft`` given: ``win_length = n_fft``.
    window : str or tuple, default="hann"
    center : bool, default=True
        librosa framing (``n_fft // 2`` zeros on each side). A clip shorter
        than ``n_fft`` still gives at least one frame (zero padding; with
        ``center=False`` it is padded at the end to one window).
    n_mels : int, default=40
        Mel bands.
    fmin, fmax : float
        Band edges in Hz (``fmax`` None: ``sr / 2``).
    top_db : float or None, default=80.0
        Dynamic range of the log mel energies (as librosa); keeps silence finite.
    lifter : float, default=0
        Cepstral liftering (librosa's sinusoidal lifter), 0 for none.
    deltas : bool, default=False
        Append delta and delta-delta coefficients (see :func:`deltas`).
    cmvn : bool, default=False
        Per-clip cepstral mean and variance normalization over frames (a
        coefficient that is constant over the clip becomes 0).
    output : {"sequence", "stats"}, default="sequence"
        ``"sequence"``: ``(n, max_frames, n_coeffs)`` zero-padded/cropped at
        the end. ``"stats"``: ``(n, n_coeffs * len(stats))`` pooled per clip
        over its real frames (see :class:`TemporalPooling`).
    max_frames : int or None
        Frames of ``"sequence"`` output; None pads to the longest clip in the
        call. Set it for Keras models so that training and prediction have the
        same shape.
    stats : tuple of str, default=("mean", "std")
        Statistics of ``"stats"`` output: mean, std, min, max, median, slope.
    n_jobs : int or None
        Parallel workers over clips, each reading and processing whole clips.
        joblib threads by default (decoding, FFTs and matrix products release
        the GIL, and no array is copied between processes); a backend set with
        ``joblib.parallel_config`` takes precedence.
    verbose : bool, default=False
        Progress bar.
    memory : None, str or joblib.Memory
        Cache per-clip results on disk.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(8000) / 16000
    >>> clips = [np.sin(2 * np.pi * 300 * t), np.sin(2 * np.pi * 600 * t[:4000])]
    >>> MFCCTransformer().fit_transform(clips).shape
    (2, 51, 13)
    >>> mfcc = MFCCTransformer(output="stats", deltas=True).fit(clips)
    >>> mfcc.transform(clips).shape, mfcc.get_feature_names_out()[0]
    ((2, 78), 'mfcc0_mean')
    """

    _prefix = "mfcc"
    _desc = "MFCC"
    _clip_function = staticmethod(_cepstral_clip)

    def __init__(
        self,
        *,
        sr=16000,
        n_mfcc=13,
        n_fft=None,
        hop_length=None,
        win_length=None,
        window="hann",
        center=True,
        n_mels=40,
        fmin=0.0,
        fmax=None,
        top_db=80.0,
        lifter=0,
        deltas=False,
        cmvn=False,
        output="sequence",
        max_frames=None,
        stats=("mean", "std"),
        n_jobs=None,
        verbose=False,
        memory=None,
    ):
        self.sr = sr
        self.n_mfcc = n_mfcc
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.win_length = win_length
        self.window = window
        self.center = center
        self.n_mels = n_mels
        self.fmin = fmin
        self.fmax = fmax
        self.top_db = top_db
        self.lifter = lifter
        self.deltas = deltas
        self.cmvn = cmvn
        self.output = output
        self.max_frames = max_frames
        self.stats = stats
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.memory = memory

    def _n_coeffs(self) -> int:
        return int(check_positive(self.n_mfcc, "n_mfcc", integer=True))

    def _filterbank_key(self, sr: int, n_fft: int) -> tuple:
        n_mels = int(check_positive(self.n_mels, "n_mels", integer=True))
        fmin, fmax = self._check_band_edges(self.fmin, self.fmax, sr)
        return ("mel", sr, n_fft, n_mels, fmin, fmax)
