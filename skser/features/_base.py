"""Shared machinery of the spectral feature transformers.

One STFT, one dB scaling, one pad/crop rule and one per-clip parallel
extraction loop (with optional ``joblib.Memory`` caching) used by
:class:`MelSpectrogramTransformer`, :class:`MFCCTransformer` and
:class:`GTCCTransformer`.

Framing conventions (both documented on the transformers):

* ``center=True`` (librosa): the clip gets ``n_fft // 2`` zeros on each side,
  frames are ``n_fft`` long with the ``win_length`` window centred in them;
  ``n_frames = 1 + len // hop``. Identical to ``librosa.stft(center=True,
  pad_mode="constant")``.
* ``center=False`` (YAMNet / TensorFlow / MATLAB): frames are ``win_length``
  long, zero-padded to ``n_fft`` for the FFT; ``n_frames = 1 + (len - win) //
  hop``. A 0.975 s clip at 16 kHz with a 25 ms window and 10 ms hop gives
  exactly 96 frames. A clip shorter than one window is zero-padded at the end
  to one window, so every clip has at least one frame.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

import numpy as np
import scipy.fft
from joblib import parallel_config
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_memory

from skser._parallel import one_blas_thread, parallel_map
from skser._validation import check_clip_sequence, check_positive, is_path_like
from skser.audio import _decode_scope, _load_one, load_audio

#: Power floor of the dB conversion (librosa's ``amin`` for power spectra).
POWER_AMIN = 1e-10


# --------------------------------------------------------------------------- STFT


@dataclass(frozen=True)
class STFTSpec:
    """Resolved framing of one transform call; the window is built in the parent process."""

    n_fft: int
    hop_length: int
    win_length: int
    window: Any
    center: bool
    power: float
    window_values: np.ndarray | None = None

    @classmethod
    def build(cls, n_fft, hop_length, win_length, window, center, power):
        values = analysis_window(window, win_length, n_fft, center)
        return cls(n_fft, hop_length, win_length, window, center, power, values)


def next_pow2(n: int) -> int:
    """Smallest power of two >= ``n``."""
    return 1 << max(0, math.ceil(math.log2(max(1, n))))


def resolve_framing(
    sr, n_fft, win_length, hop_length, *, default_win_s=0.025, default_hop_s=0.010
):
    """Fill in ``n_fft``/``win_length``/``hop_length`` left as None.

    Rule: both None -> a ``default_win_s`` window and the next power of two as
    ``n_fft``; only ``n_fft`` -> ``win_length = n_fft`` (librosa's rule); only
    ``win_length`` -> ``n_fft`` = next power of two; ``hop_length`` None ->
    ``default_hop_s`` seconds.
    """
    if n_fft is None and win_length is None:
        win_length = max(1, int(round(default_win_s * sr)))
        n_fft = next_pow2(win_length)
    elif win_length is None:
        win_length = n_fft
    elif n_fft is None:
        n_fft = next_pow2(win_length)
    check_positive(n_fft, "n_fft", integer=True)
    check_positive(win_length, "win_length", integer=True)
    if win_length > n_fft:
        raise ValueError(f"win_length ({win_length}) must be <= n_fft ({n_fft}).")
    if hop_length is None:
        hop_length = max(1, int(round(default_hop_s * sr)))
    check_positive(hop_length, "hop_length", integer=True)
    return int(n_fft), int(win_length), int(hop_length)


def check_window(window) -> None:
    """Accept what ``scipy.signal.get_window`` accepts as a name (str or tuple)."""
    if not isinstance(window, (str, tuple)):
        raise ValueError(
            f"window must be a window name such as 'hann' or a tuple like ('kaiser', 8.0) "
            f"(see scipy.signal.get_window), got {window!r}."
        )
    if window == "hann":
        return  # built here without scipy.signal (see _periodic_hann)
    import scipy.signal

    try:
        scipy.signal.get_window(window, 8, fftbins=True)
    except Exception as exc:
        raise ValueError(
            f"window={window!r} is not a window scipy.signal.get_window knows: {exc}"
        ) from exc


@lru_cache(maxsize=32)
def analysis_window(window, win_length: int, n_fft: int, center: bool) -> np.ndarray:
    """Periodic window; centred in ``n_fft`` samples for ``center=True`` (as librosa)."""
    if window == "hann":
        win = _periodic_hann(win_length).astype(np.float32)
    else:
        import scipy.signal  # parent process only: workers get the values in the spec

        win = scipy.signal.get_window(window, win_length, fftbins=True).astype(np.float32)
    if center and win_length < n_fft:
        left = (n_fft - win_length) // 2
        win = np.pad(win, (left, n_fft - win_length - left))
    win.setflags(write=False)
    return win


def _periodic_hann(length: int) -> np.ndarray:
    """``scipy.signal.get_window("hann", length, fftbins=True)`` with scipy's own arithmetic.

    Bitwise equal (``tests/test_audio.py``); importing
    ``scipy.signal`` costs about half a second of a fitted model's start-up.
    """
    if length <= 1:
        return np.ones(length)
    fac = np.linspace(-np.pi, np.pi, length + 1, dtype=np.float64)
    w = np.zeros(length + 1, dtype=np.float64)
    for k, a in enumerate((0.5, 0.5)):
        w += a * np.cos(k * fac)
    return w[:-1]


def frame_count(n_samples: int, spec: STFTSpec) -> int:
    """Number of STFT frames of a clip of ``n_samples`` samples (see module docstring)."""
    if spec.center:
        return 1 + n_samples // spec.hop_length
    return 1 + max(0, n_samples - spec.win_length) // spec.hop_length


#: Frames (times clips) transformed per block: bounds the temporaries of a long
#: clip (frame copies, complex spectrum) to a few MB, whatever its length.
BLOCK_FRAMES = 4096


def power_spectrogram(wave: np.ndarray, spec: STFTSpec, weights: np.ndarray | None = None):
    """``|STFT|**power`` of one or several equal-length clips, time-major.

    Computed over blocks of about :data:`BLOCK_FRAMES` frames written into the
    output, so a long clip needs memory for its output (plus a padded copy of
    the waveform with ``center=True``), not for every frame's copy and complex
    spectrum. Frames are independent, so the values are those of one
    whole-clip transform: bitwise for a clip of at most ``BLOCK_FRAMES``
    frames and for stacked clips (blocks of whole clips); for a longer single
    clip the filterbank product may differ in the last float32 bit, as BLAS
    rounds differently for different block sizes.

    Parameters
    ----------
    wave : ndarray of shape (..., n_samples)
    spec : STFTSpec
    weights : ndarray of shape (n_bands, 1 + n_fft // 2), optional
        Filterbank applied to each block (``power @ weights.T``), so that the
        full-resolution spectrogram of a long clip is never held at once.

    Returns
    -------
    ndarray of shape (..., n_frames, 1 + n_fft // 2) or (..., n_frames, n_bands), float32
    """
    wave = np.asarray(wave, dtype=np.float32)
    if spec.center:
        pad = [(0, 0)] * (wave.ndim - 1) + [(spec.n_fft // 2, spec.n_fft // 2)]
        wave = np.pad(wave, pad)
        frame_len = spec.n_fft
    else:
        frame_len = spec.win_length
        if wave.shape[-1] < frame_len:  # shorter than one window: one zero-padded frame
            pad = [(0, 0)] * (wave.ndim - 1) + [(0, frame_len - wave.shape[-1])]
            wave = np.pad(wave, pad)
    frames = np.lib.stride_tricks.sliding_window_view(wave, frame_len, axis=-1)
    frames = frames[..., :: spec.hop_length, :]  # a view: no frame is copied yet
    lead, n_frames = frames.shape[:-2], frames.shape[-2]
    width = 1 + spec.n_fft // 2 if weights is None else weights.shape[0]
    out = np.empty((*lead, n_frames, width), dtype=np.float32)
    if lead:  # several clips: blocks of whole clips (the same products as one call)
        flat_frames = frames.reshape(-1, n_frames, frame_len)
        flat_out = out.reshape(-1, n_frames, width)
        step = max(1, BLOCK_FRAMES // max(1, n_frames))
        for start in range(0, len(flat_frames), step):
            block = flat_frames[start : start + step]
            flat_out[start : start + step] = _block_power(block, spec, weights)
    else:  # one clip: blocks of frames
        for start in range(0, n_frames, BLOCK_FRAMES):
            block = frames[start : start + BLOCK_FRAMES]
            out[start : start + BLOCK_FRAMES] = _block_power(block, spec, weights)
    return out


def _block_power(frames: np.ndarray, spec: STFTSpec, weights: np.ndarray | None) -> np.ndarray:
    """Power (or filterbank energies) of a block of frames ``(..., n, frame_len)``."""
    stft = scipy.fft.rfft(frames * spec.window_values, n=spec.n_fft, axis=-1)
    if spec.power == 2.0:
        power = np.square(stft.real)
        power += np.square(stft.imag)
    elif spec.power == 1.0:
        power = np.abs(stft)
    else:
        power = np.abs(stft) ** spec.power
    power = power.astype(np.float32, copy=False)
    return power if weights is None else power @ weights.T


@lru_cache(maxsize=32)
def mel_filterbank(sr, n_fft, n_mels, fmin, fmax, htk, norm) -> np.ndarray:
    """``librosa.filters.mel`` as read-only float32, built once per parameter set.

    ``norm`` None or ``"slaney"`` is built here with librosa's own arithmetic
    (bitwise equal, see ``tests/test_audio.py``), so that a fitted
    pipeline predicts without importing librosa and numba (about a second of
    start-up); other norms ask librosa.
    """
    if norm is not None and norm != "slaney":
        import librosa

        basis = librosa.filters.mel(
            sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm,
            dtype=np.float32,
        )  # fmt: skip
    else:
        basis = _mel_basis(sr, n_fft, n_mels, fmin, fmax, htk, norm)
    basis.setflags(write=False)
    return basis


def _hz_to_mel(hz: float, htk: bool) -> float:
    hz = np.asanyarray(hz, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + hz / 700.0)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    if hz >= min_log_hz:
        return min_log_hz / f_sp + np.log(hz / min_log_hz) / (np.log(6.4) / 27.0)
    return hz / f_sp


def _mel_to_hz(mels: np.ndarray, htk: bool) -> np.ndarray:
    if htk:
        return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    freqs = 0.0 + f_sp * mels
    log_t = mels >= min_log_mel
    freqs[log_t] = min_log_hz * np.exp(logstep * (mels[log_t] - min_log_mel))
    return freqs


def _mel_basis(sr, n_fft, n_mels, fmin, fmax, htk, norm) -> np.ndarray:
    """librosa 0.11's ``filters.mel`` (norm None or "slaney"), step for step."""
    import warnings

    fmax = float(sr) / 2 if fmax is None else fmax
    n_mels = int(n_mels)
    weights = np.zeros((n_mels, int(1 + n_fft // 2)), dtype=np.float32)
    fftfreqs = np.fft.rfftfreq(n=n_fft, d=1.0 / sr)
    mels = np.linspace(_hz_to_mel(fmin, htk), _hz_to_mel(fmax, htk), n_mels + 2)
    mel_f = _mel_to_hz(mels, htk)
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    if norm == "slaney":
        weights *= (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, np.newaxis]
    if not np.all((mel_f[:-2] == 0) | (weights.max(axis=1) > 0)):
        warnings.warn(
            "Empty filters detected in mel frequency basis. Some channels will produce "
            "empty responses. Try increasing your sampling rate (and fmax) or reducing n_mels.",
            UserWarning,
            stacklevel=3,
        )
    return weights


# --------------------------------------------------------------------------- scaling


def to_db(
    S: np.ndarray, *, power: float, ref: Any = 1.0, top_db: float | None = 80.0
) -> np.ndarray:
    """Decibels of a magnitude (``power=1``) or power (``power=2``) spectrogram.

    ``(20 / power) * log10(max(S, amin))`` relative to ``ref`` (a number, or
    ``"max"`` for the clip's maximum), floored at ``top_db`` below the clip's
    peak; ``amin`` is 1e-10 in power units, so this equals
    ``librosa.power_to_db`` / ``amplitude_to_db``. Finite for silence.
    """
    amin = POWER_AMIN ** (power / 2.0)
    factor = 20.0 / power
    ref_value = float(np.max(S)) if ref == "max" else float(ref)
    # float32 natural log is several times faster than log10; rescale once.
    db = np.maximum(np.asarray(S, dtype=np.float32), np.float32(amin))
    np.log(db, out=db)
    db *= np.float32(factor / np.log(10.0))
    db -= np.float32(factor * np.log10(max(ref_value, amin)))
    if top_db is not None:
        np.maximum(db, db.max() - np.float32(top_db), out=db)
    return db


def normalize_clip(x: np.ndarray, how: str | None) -> np.ndarray:
    """Per-clip ``"clip"`` standardization or ``"minmax"`` scaling; constant clips map to 0."""
    if how is None:
        return x
    x = x.astype(np.float32, copy=False)
    if how == "clip":
        std = float(x.std())
        return (x - x.mean()) / (std if std > 0 else 1.0)
    lo, hi = float(x.min()), float(x.max())
    return (x - lo) / (hi - lo if hi > lo else 1.0)


# --------------------------------------------------------------------------- pad / crop


def stack_fixed(arrays: list[np.ndarray], length: int | None, axis: int) -> np.ndarray:
    """Stack per-clip arrays zero-padded/cropped at the end of ``axis`` to ``length``.

    ``length=None`` uses the longest. ``axis`` counts in the per-clip arrays.
    """
    if length is None:
        length = max(a.shape[axis] for a in arrays)
    shape = list(arrays[0].shape)
    shape[axis] = length
    out = np.zeros((len(arrays), *shape), dtype=np.float32)  # one copy per clip, no np.pad
    for i, a in enumerate(arrays):
        index = [slice(None)] * a.ndim
        index[axis] = slice(0, min(length, a.shape[axis]))
        out[(i, *index)] = a[tuple(index)]
    return out


# --------------------------------------------------------------------------- per-clip extraction


def _load_clip(clip: Any, index: int, sr: int) -> np.ndarray:
    # Shares the decode cache of as_waveforms; decodes with this module's load_audio.
    return _load_one(clip, sr, index, "X", load_audio)


def _compute(key, compute, spec, sr, clip, index):
    """Load one clip and compute its features (``key`` identifies it for the cache)."""
    return compute(_load_clip(clip, index, sr), spec)


def _cache_key(clip: Any):
    # A path is identified by where it is and its size and time stamp, so an
    # edited file is recomputed; an in-memory clip by its samples.
    if is_path_like(clip):
        path = os.path.abspath(os.fspath(clip))
        try:
            stat = os.stat(path)
        except OSError:
            return ("path", path)
        return ("path", path, stat.st_size, stat.st_mtime_ns)
    return np.asarray(clip)


def _run_clip(item, *, compute, spec, sr, memory):
    index, clip = item
    if memory is None:
        return compute(_load_clip(clip, index, sr), spec)
    cached = memory.cache(_compute, ignore=["clip", "index"])
    return cached(_cache_key(clip), compute, spec, sr, clip, index)


class ClipFeatureTransformer(TransformerMixin, BaseEstimator):
    """Base of the per-clip feature transformers (stateless).

    Subclasses set ``_clip_function`` (a module-level ``f(wave, spec)``),
    implement ``_resolve()`` (validate the parameters, return the spec of the
    call) and ``transform`` (``_extract`` then stack the per-clip results).
    """

    _desc = "features"

    def fit(self, X, y=None):
        """Validate the parameters and ``X``; nothing is learned.

        Parameters
        ----------
        X : sequence of clips (paths or 1-D float arrays), or ndarray of shape (n_clips, n_samples)
        y : ignored

        Returns
        -------
        self
        """
        self._resolve()
        check_clip_sequence(X)
        self.is_fitted_ = True
        return self

    def _check_common(self) -> None:
        check_positive(self.sr, "sr", integer=True)
        if self.n_jobs is not None and (
            isinstance(self.n_jobs, bool) or not isinstance(self.n_jobs, (int, np.integer))
        ):
            raise ValueError(f"n_jobs must be an int or None, got {self.n_jobs!r}.")
        try:
            check_memory(self.memory)
        except ValueError as exc:
            raise ValueError(
                f"memory must be None, a directory path or a joblib.Memory: {exc}"
            ) from exc

    def _extract(self, X, spec) -> list[np.ndarray]:
        """Per-clip features, loading paths inside the workers (one round trip per clip)."""
        clips = check_clip_sequence(X)
        _decode_scope(clips)
        memory = None if self.memory is None else check_memory(self.memory)
        func = partial(
            _run_clip, compute=type(self)._clip_function, spec=spec, sr=int(self.sr), memory=memory
        )
        # Per-clip matrix products are small: multi-threaded BLAS only adds spin-waiting
        # (several times slower on a busy machine). Decoding, FFTs and BLAS release the
        # GIL, so threads are preferred over processes: no spectrogram is pickled back
        # and no worker has to start. A backend the user set with parallel_config wins.
        with one_blas_thread(), parallel_config(prefer="threads"):
            return parallel_map(
                func,
                list(enumerate(clips)),
                n_jobs=self.n_jobs,
                verbose=self.verbose,
                desc=self._desc,
            )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        tags.transformer_tags.preserves_dtype = []
        return tags
