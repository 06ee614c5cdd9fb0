"""Audio input: reading files and fixing the length of waveforms.

Every step here is a stateless scikit-learn transformer over a sequence of
clips (file paths or 1-D arrays), following the data contract in
``docs/architecture.md``.
"""

from __future__ import annotations

import math
import os
import threading
from functools import partial
from typing import Any

import numpy as np
import soundfile as sf
import soxr
from joblib import parallel_config
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state

from skser._parallel import parallel_map
from skser._validation import (
    check_clip_sequence,
    check_option,
    check_positive,
    check_waveform,
    is_path_like,
    to_object_array,
)

__all__ = [
    "load_audio",
    "as_waveforms",
    "clear_decode_cache",
    "segment_waveform",
    "AudioLoader",
    "FixedLength",
    "Segmenter",
]


def load_audio(path: str | os.PathLike, *, sr: int | None = 16000, mono: bool = True):
    """Read an audio file as float32, resampled and down-mixed.

    Parameters
    ----------
    path : str or path-like
        Any file libsndfile reads: WAV (int or float PCM), FLAC, OGG/Vorbis, AIFF, ...
    sr : int or None, default=16000
        Target sample rate; ``None`` keeps the file's own rate. Resampling uses
        soxr (high quality).
    mono : bool, default=True
        Average the channels to one. With ``mono=False`` the result has shape
        ``(n_channels, n_samples)``.

    Returns
    -------
    waveform : ndarray of shape (n_samples,) or (n_channels, n_samples), float32
        Samples in [-1, 1].
    sr : int
        The sample rate of ``waveform``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not readable audio, holds no samples, or holds NaN/inf.

    Examples
    --------
    >>> import numpy as np, soundfile as sf, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
    >>> sf.write(path, np.zeros((48000, 2), dtype="int16"), 48000)
    >>> wave, rate = load_audio(path, sr=16000)
    >>> wave.shape, wave.dtype, rate
    ((16000,), dtype('float32'), 16000)
    """
    check_positive(sr, "sr", integer=True, allow_none=True)
    path = os.fspath(path)
    data, file_sr = open_audio_file(
        path, lambda name: sf.read(name, dtype="float32", always_2d=True)
    )
    if data.shape[0] == 0:
        raise ValueError(f"Audio file {path!r} contains no samples.")
    if not np.all(np.isfinite(data)):
        raise ValueError(f"Audio file {path!r} contains NaN or infinite samples.")
    if mono:  # a single channel is taken as is: no second copy of a long recording
        wave = data[:, 0] if data.shape[1] == 1 else data.mean(axis=1)
    else:
        wave = data.T
    if sr is not None and sr != file_sr:
        wave = _resample(wave, file_sr, sr)
    return np.ascontiguousarray(wave, dtype=np.float32), int(sr or file_sr)


def open_audio_file(path: str, opener):
    """``opener(path)`` (a soundfile call) with skser's errors for a bad audio file.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming
    the file for a directory or unreadable audio: the one place for the
    messages of :func:`load_audio`, the timeline and batch prediction.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"Audio file not found: {path!r}")
    if os.path.isdir(path):
        raise ValueError(f"Expected an audio file, got a directory: {path!r}")
    try:
        return opener(path)
    except Exception as exc:  # libsndfile raises its own error types
        raise ValueError(f"Cannot read audio file {path!r}: not audio or corrupt ({exc}).") from exc


def _resample(wave: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample along the last axis with soxr (HQ)."""
    if wave.ndim == 1:
        return soxr.resample(wave, orig_sr, target_sr, quality="HQ")
    # soxr wants (n_samples, n_channels)
    return soxr.resample(wave.T, orig_sr, target_sr, quality="HQ").T


# --------------------------------------------------------------------------- decode cache


class _DecodeCache:
    """The decoded files of the current input sequence, so that the blocks of a
    feature union (each reading the same ``X`` of paths) decode every file once.

    - **Scope**: one input sequence at a time. Each feature step announces the
      paths of its ``X`` (:meth:`scope`); a different sequence empties the
      cache first. A stream of batches (``predict`` over many files) thus holds
      at most one batch, and memory does not grow with the number of files.
    - **Key**: absolute path, device, inode, size and modification time (ns) of
      the file, and the sample rate: a file that changes, or is replaced, is
      read again; never stale data.
    - **Bound**: at most ``max_bytes`` of samples (``$SKSER_DECODE_CACHE_MB``,
      default 64 MiB; 0 turns it off). When full, new files are not kept:
      repeated passes over more audio than fits still share the part that fits
      (LRU would evict every entry just before its next use).
    - **Safety**: a lock around every access (threads; concurrent steps on
      different sequences only cost each other hits); a child process starts
      with an empty cache; each process has its own. Hits return a copy, so a
      caller that edits its waveform in place never changes the cache.
    """

    def __init__(self, max_bytes: int):
        self.max_bytes = int(max_bytes)
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict = {}  # key -> read-only waveform
        self._token = None
        self.nbytes = 0

    def scope(self, clips) -> None:
        """Start (or continue) the sequence ``clips``; another sequence empties the cache."""
        if not self.max_bytes:
            return
        token = hash(tuple(os.fspath(c) for c in clips if is_path_like(c)))
        with self._lock:
            if token != self._token:
                self._entries.clear()
                self.nbytes = 0
                self._token = token

    @staticmethod
    def key(path: str | os.PathLike, sr: int):
        path = os.path.abspath(os.fspath(path))
        try:
            st = os.stat(path)
        except OSError:
            return None  # load_audio raises the clear error
        return (path, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, sr)

    def get(self, key):
        with self._lock:
            wave = self._entries.get(key)
        return None if wave is None else wave.copy()

    def put(self, key, wave: np.ndarray) -> None:
        with self._lock:
            if key in self._entries or self.nbytes + wave.nbytes > self.max_bytes:
                return
            kept = wave.copy()
            kept.setflags(write=False)
            self._entries[key] = kept
            self.nbytes += kept.nbytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.nbytes = 0
            self._token = None


def _cache_limit() -> int:
    value = os.environ.get("SKSER_DECODE_CACHE_MB", "64")
    try:
        return max(0, int(float(value) * 2**20))
    except ValueError:
        raise ValueError(
            f"SKSER_DECODE_CACHE_MB must be a number of MiB, got {value!r}."
        ) from None


_DECODED = _DecodeCache(_cache_limit())
if hasattr(os, "register_at_fork"):  # a forked child must not inherit a held lock
    os.register_at_fork(after_in_child=_DECODED._reset)


def clear_decode_cache() -> None:
    """Forget the decoded files kept by the feature steps (see :func:`as_waveforms`).

    Examples
    --------
    >>> clear_decode_cache()
    """
    _DECODED.clear()


def _decode_scope(clips) -> None:
    """Announce the clips a feature step is about to read (see :class:`_DecodeCache`)."""
    _DECODED.scope(clips)


def _read_cached(path, sr: int, loader=None) -> np.ndarray:
    key = _DECODED.key(path, sr) if _DECODED.max_bytes else None
    if key is not None:
        wave = _DECODED.get(key)
        if wave is not None:
            return wave
    wave = (loader or load_audio)(path, sr=sr)[0]
    if key is not None:
        _DECODED.put(key, wave)
    return wave


def _load_one(clip: Any, sr: int, index: int, name: str, loader=None) -> np.ndarray:
    """One clip of ``X`` as a waveform: a path is decoded (or taken from the decode cache).

    ``loader`` replaces :func:`load_audio` for the decoding (the caller's own reference).
    """
    if is_path_like(clip):
        return _read_cached(clip, sr, loader)
    return check_waveform(clip, index=index, name=name)


def as_waveforms(
    X: Any,
    *,
    sr: int = 16000,
    n_jobs: int | None = None,
    verbose: bool = False,
    name: str = "X",
) -> list[np.ndarray]:
    """Return ``X`` as a list of 1-D float32 waveforms, reading any paths at ``sr``.

    In-memory clips are taken to be at ``sr`` already; integer PCM is scaled
    to [-1, 1]. This is what every skser feature step calls first, so features
    accept paths and arrays alike.

    Files are read in threads (decoding releases the GIL) and the decoded
    samples of the current ``X`` are kept in a small per-process cache (64 MiB
    by default, ``$SKSER_DECODE_CACHE_MB``, keyed by path, size and
    modification time; another ``X`` replaces them), so the blocks of a
    ``FeatureUnion`` over paths decode each file once;
    :func:`clear_decode_cache` empties it.

    Raises
    ------
    ValueError
        Naming the clip (``X[i]`` or the file) that is empty, not 1-D, not audio,
        or holds NaN/inf.
    """
    clips = check_clip_sequence(X, name=name)
    _decode_scope(clips)
    indexed = list(enumerate(clips))
    with parallel_config(prefer="threads"):  # a backend set by the user still wins
        return parallel_map(
            partial(_load_indexed, sr=sr, name=name),
            indexed,
            n_jobs=n_jobs,
            verbose=verbose,
            desc="loading audio",
        )


def _load_indexed(item: tuple[int, Any], *, sr: int, name: str) -> np.ndarray:
    index, clip = item
    return _load_one(clip, sr, index, name)


def segment_waveform(wave: np.ndarray, window: int, hop: int) -> np.ndarray:
    """Cut a waveform into windows of ``window`` samples every ``hop`` samples.

    The last window is zero-padded so that every sample is covered; a clip
    shorter than one window gives one zero-padded window.

    Returns
    -------
    ndarray of shape (n_segments, window), float32
    """
    n_segments = 1 + max(0, math.ceil((len(wave) - window) / hop))
    needed = (n_segments - 1) * hop + window
    padded = np.zeros(needed, dtype=np.float32)
    padded[: len(wave)] = wave
    starts = np.arange(n_segments) * hop
    return padded[starts[:, None] + np.arange(window)[None, :]]


class _StatelessTransformer(TransformerMixin, BaseEstimator):
    """Shared base: nothing is learned in ``fit`` beyond the number of clips seen."""

    def fit(self, X, y=None, **fit_params):
        """Validate parameters; nothing is learned.

        Parameters
        ----------
        X : sequence of clips
        y : ignored

        Returns
        -------
        self
        """
        self._validate_params()
        check_clip_sequence(X)
        self.is_fitted_ = True
        return self

    def _validate_params(self) -> None:
        check_positive(self.sr, "sr", integer=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        return tags


class AudioLoader(_StatelessTransformer):
    """Read clips into 1-D float32 waveforms at one sample rate.

    Paths are read with :func:`load_audio` (resampled, down-mixed); arrays are
    validated and taken to be at ``sr`` already.

    Parameters
    ----------
    sr : int, default=16000
        Output sample rate.
    n_jobs : int, default=None
        Parallel readers (joblib).
    verbose : bool, default=False
        Progress bar.

    Examples
    --------
    >>> import numpy as np
    >>> waves = AudioLoader(sr=16000).fit_transform([np.zeros(8000), np.ones(4000) * 0.1])
    >>> [w.shape for w in waves]
    [(8000,), (4000,)]
    """

    def __init__(self, sr: int = 16000, *, n_jobs: int | None = None, verbose: bool = False):
        self.sr = sr
        self.n_jobs = n_jobs
        self.verbose = verbose

    def transform(self, X):
        """Load every clip.

        Parameters
        ----------
        X : sequence of str, path-like or 1-D arrays

        Returns
        -------
        waves : ndarray of shape (n_clips,), dtype object
            Each element a 1-D float32 waveform.
        """
        self._validate_params()
        waves = as_waveforms(X, sr=self.sr, n_jobs=self.n_jobs, verbose=self.verbose)
        return to_object_array(waves)


class FixedLength(_StatelessTransformer):
    """Crop or pad every clip to the same number of samples.

    Parameters
    ----------
    duration : float, optional
        Target length in seconds (``n_samples = round(duration * sr)``).
    n_samples : int, optional
        Target length in samples; give exactly one of ``duration`` and ``n_samples``.
    sr : int, default=16000
        Sample rate of the clips (and of paths, which are read at this rate).
    crop : {"center", "start", "random"}, default="center"
        Which part of a long clip to keep. ``"random"`` uses ``random_state``.
    pad : {"constant", "reflect"}, default="constant"
        How to lengthen a short clip: zeros on both sides, or a mirror image.
    random_state : int, RandomState or None
        Seed for ``crop="random"``.

    Examples
    --------
    >>> import numpy as np
    >>> FixedLength(n_samples=4).fit_transform([np.arange(6.0), np.ones(2)])
    array([[1., 2., 3., 4.],
           [0., 1., 1., 0.]], dtype=float32)
    """

    def __init__(
        self,
        duration: float | None = None,
        *,
        n_samples: int | None = None,
        sr: int = 16000,
        crop: str = "center",
        pad: str = "constant",
        random_state=None,
    ):
        self.duration = duration
        self.n_samples = n_samples
        self.sr = sr
        self.crop = crop
        self.pad = pad
        self.random_state = random_state

    def _validate_params(self) -> None:
        super()._validate_params()
        if (self.duration is None) == (self.n_samples is None):
            raise ValueError("Give exactly one of duration= (seconds) and n_samples=.")
        check_positive(self.duration, "duration", allow_none=True)
        check_positive(self.n_samples, "n_samples", integer=True, allow_none=True)
        check_option(self.crop, "crop", ["center", "start", "random"])
        check_option(self.pad, "pad", ["constant", "reflect"])

    def target_length(self) -> int:
        """Number of output samples per clip."""
        if self.n_samples is not None:
            return int(self.n_samples)
        return max(1, int(round(self.duration * self.sr)))

    def transform(self, X):
        """Crop/pad every clip.

        Parameters
        ----------
        X : sequence of clips (paths or 1-D arrays)

        Returns
        -------
        ndarray of shape (n_clips, n_samples), float32
        """
        self._validate_params()
        waves = as_waveforms(X, sr=self.sr)
        length = self.target_length()
        rng = check_random_state(self.random_state)
        out = np.empty((len(waves), length), dtype=np.float32)
        for i, wave in enumerate(waves):
            out[i] = fix_length(wave, length, crop=self.crop, pad=self.pad, rng=rng)
        return out


def fix_length(
    wave: np.ndarray,
    length: int,
    *,
    crop: str = "center",
    pad: str = "constant",
    rng: np.random.RandomState | None = None,
) -> np.ndarray:
    """Crop or pad one waveform to ``length`` samples (see :class:`FixedLength`)."""
    n = len(wave)
    if n > length:
        excess = n - length
        if crop == "start":
            start = 0
        elif crop == "random":
            start = int((rng or np.random).randint(0, excess + 1))
        else:
            start = excess // 2
        return wave[start : start + length]
    if n < length:
        before = (length - n) // 2
        after = length - n - before
        if pad == "reflect":
            # Mirror about the clip's edges; np.pad keeps mirroring when the pad is longer
            # than the clip. A one-sample clip is repeated.
            return np.pad(wave, (before, after), mode="reflect" if n > 1 else "edge")
        return np.pad(wave, (before, after), mode="constant")
    return wave


class Segmenter(_StatelessTransformer):
    """Cut clips into fixed windows with overlap (as the CNN-RNN paper does).

    Parameters
    ----------
    window : float, default=0.975
        Window length in seconds (0.975 s = 15600 samples at 16 kHz, YAMNet's input).
    overlap : float, default=0.5
        Fraction of a window shared by consecutive windows, in [0, 1).
    sr : int, default=16000
        Sample rate.

    Examples
    --------
    >>> import numpy as np
    >>> segs = Segmenter(window=1.0, overlap=0.5, sr=4).fit_transform([np.ones(10)])
    >>> segs[0].shape
    (4, 4)
    """

    def __init__(self, window: float = 0.975, overlap: float = 0.5, *, sr: int = 16000):
        self.window = window
        self.overlap = overlap
        self.sr = sr

    def _validate_params(self) -> None:
        super()._validate_params()
        check_positive(self.window, "window")
        if not 0 <= self.overlap < 1:
            raise ValueError(f"overlap must be in [0, 1), got {self.overlap!r}.")

    def window_and_hop(self) -> tuple[int, int]:
        """Window and hop in samples."""
        window = max(1, int(round(self.window * self.sr)))
        hop = max(1, int(round(window * (1 - self.overlap))))
        return window, hop

    def transform(self, X):
        """Segment every clip.

        Parameters
        ----------
        X : sequence of clips (paths or 1-D arrays)

        Returns
        -------
        segments : ndarray of shape (n_clips,), dtype object
            Element ``i`` has shape ``(n_segments_i, window_samples)``; the last
            window of a clip is zero-padded.
        """
        self._validate_params()
        window, hop = self.window_and_hop()
        waves = as_waveforms(X, sr=self.sr)
        return to_object_array([segment_waveform(w, window, hop) for w in waves])
