"""YAMNet's log-mel frontend in NumPy (the model garden's ``features.py``, float version).

16 kHz audio; STFT with a 25 ms periodic Hann window, 10 ms hop and a 512-point
FFT; magnitude (not power) spectrum; 64 HTK-mel bands from 125 to 7500 Hz with
the weights of ``tf.signal.linear_to_mel_weight_matrix``; ``log(mel + 0.001)``;
patches of 96 frames (0.96 s) every 48 frames.

The TFLite export computes the same thing with int8 DFT and mel matrices, so
its patch differs from this exact version by quantization noise that is large
only in near-silent bands (see ``tests/test_yamnet.py`` for the tolerance).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

SAMPLE_RATE = 16000
STFT_WINDOW = 400  # 25 ms
STFT_HOP = 160  # 10 ms
FFT_LENGTH = 512
MEL_BANDS = 64
MEL_MIN_HZ = 125.0
MEL_MAX_HZ = 7500.0
LOG_OFFSET = 0.001
PATCH_FRAMES = 96  # 0.96 s
PATCH_BANDS = MEL_BANDS
PATCH_HOP_FRAMES = 48  # 0.48 s
#: Samples YAMNet needs for one patch: 0.96 s of frames plus the last STFT window.
WINDOW_SAMPLES = (PATCH_FRAMES - 1) * STFT_HOP + STFT_WINDOW  # 15600 = 0.975 s
EMBEDDING_SIZE = 1024
N_CLASSES = 521


def _hertz_to_mel(freq):
    return 1127.0 * np.log1p(np.asarray(freq, dtype=np.float64) / 700.0)


@lru_cache(maxsize=1)
def mel_weight_matrix() -> np.ndarray:
    """The (257, 64) matrix mapping STFT magnitudes to mel bands (as TensorFlow builds it).

    Triangles on the HTK mel scale between 125 and 7500 Hz; the DC bin gets no weight.
    """
    n_bins = FFT_LENGTH // 2 + 1
    bin_mel = _hertz_to_mel(np.linspace(0.0, SAMPLE_RATE / 2, n_bins)[1:])[:, None]
    edges = np.linspace(_hertz_to_mel(MEL_MIN_HZ), _hertz_to_mel(MEL_MAX_HZ), MEL_BANDS + 2)
    lower, center, upper = edges[:-2][None], edges[1:-1][None], edges[2:][None]
    rising = (bin_mel - lower) / (center - lower)
    falling = (upper - bin_mel) / (upper - center)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    out = np.vstack([np.zeros((1, MEL_BANDS)), weights]).astype(np.float32)
    out.setflags(write=False)
    return out


@lru_cache(maxsize=1)
def _hann() -> np.ndarray:
    # Periodic Hann, as tf.signal.stft uses.
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(STFT_WINDOW) / STFT_WINDOW)).astype(
        np.float32
    )


def _frames(x: np.ndarray, length: int, hop: int) -> np.ndarray:
    """Frames along the last axis without padding (``tf.signal.frame``)."""
    n = x.shape[-1]
    count = 1 + (n - length) // hop
    idx = np.arange(count)[:, None] * hop + np.arange(length)[None, :]
    return x[..., idx]


def log_mel_spectrogram(wave: np.ndarray) -> np.ndarray:
    """YAMNet log-mel spectrogram of 16 kHz audio.

    Parameters
    ----------
    wave : ndarray of shape (..., n_samples)
        16 kHz audio in [-1, 1], at least 400 samples; leading axes are a batch.

    Returns
    -------
    ndarray of shape (..., n_frames, 64), float32
        ``n_frames = 1 + (n_samples - 400) // 160``.
    """
    x = np.asarray(wave, dtype=np.float32)
    if x.shape[-1] < STFT_WINDOW:
        raise ValueError(f"Need at least {STFT_WINDOW} samples, got {x.shape[-1]}.")
    spectrum = np.abs(np.fft.rfft(_frames(x, STFT_WINDOW, STFT_HOP) * _hann(), FFT_LENGTH))
    mel = spectrum.astype(np.float32) @ mel_weight_matrix()
    return np.log(mel + np.float32(LOG_OFFSET)).astype(np.float32)


def waveform_patch(windows: np.ndarray) -> np.ndarray:
    """The one (96, 64) patch of each 15600-sample window (what the TFLite export computes).

    Parameters
    ----------
    windows : ndarray of shape (15600,) or (n_windows, 15600)

    Returns
    -------
    ndarray of shape (96, 64) or (n_windows, 96, 64), float32

    Examples
    --------
    >>> import numpy as np
    >>> waveform_patch(np.zeros((2, 15600))).shape
    (2, 96, 64)
    """
    x = np.asarray(windows, dtype=np.float32)
    if x.shape[-1] != WINDOW_SAMPLES:
        raise ValueError(f"Each window must hold {WINDOW_SAMPLES} samples, got {x.shape[-1]}.")
    return log_mel_spectrogram(x)


def log_mel_patches(wave: np.ndarray, *, patch_hop: int = PATCH_HOP_FRAMES) -> np.ndarray:
    """Cut a 16 kHz waveform into YAMNet input patches, as ``yamnet_frames_model`` does.

    The waveform is zero-padded to at least one patch (0.975 s) and to a whole
    number of patch hops, then framed into 96-frame patches every ``patch_hop`` frames.

    Parameters
    ----------
    wave : ndarray of shape (n_samples,)
        16 kHz mono audio in [-1, 1].
    patch_hop : int, default=48
        Frames (10 ms each) between patch starts; 48 = 0.48 s as in YAMNet.

    Returns
    -------
    ndarray of shape (n_patches, 96, 64), float32

    Examples
    --------
    >>> import numpy as np
    >>> log_mel_patches(np.zeros(16000 * 2)).shape  # patches start at 0, 0.48, 0.96, 1.44 s
    (4, 96, 64)
    """
    x = np.asarray(wave, dtype=np.float32)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"wave must be a non-empty 1-D waveform, got shape {x.shape}.")
    if not isinstance(patch_hop, (int, np.integer)) or patch_hop < 1:
        raise ValueError(f"patch_hop must be a positive integer, got {patch_hop!r}.")
    hop_samples = patch_hop * STFT_HOP
    extra = max(0, x.size - WINDOW_SAMPLES)
    total = WINDOW_SAMPLES + math.ceil(extra / hop_samples) * hop_samples
    padded = np.zeros(total, dtype=np.float32)
    padded[: x.size] = x
    spec = log_mel_spectrogram(padded)
    idx = np.arange(1 + (spec.shape[0] - PATCH_FRAMES) // patch_hop)[:, None] * patch_hop
    return spec[idx + np.arange(PATCH_FRAMES)[None, :]]
