"""Gammatone cepstral coefficients (GTCC) and the gammatone filterbank."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from skser._validation import check_positive
from skser.features._mfcc import _cepstral_clip, _CepstralTransformer

# Glasberg & Moore (1990): ERB(f) = 24.7 (4.37 f / 1000 + 1) Hz and the ERB-rate scale.
_EAR_Q_SLOPE = 4.37e-3


def erb_bandwidth(freq):
    """Equivalent rectangular bandwidth in Hz at ``freq`` Hz (Glasberg & Moore)."""
    return 24.7 * (_EAR_Q_SLOPE * np.asarray(freq, dtype=np.float64) + 1.0)


def hz_to_erb_rate(freq):
    """ERB-rate (number of ERBs below ``freq``): 21.4 log10(1 + 4.37e-3 f)."""
    return 21.4 * np.log10(1.0 + _EAR_Q_SLOPE * np.asarray(freq, dtype=np.float64))


def erb_rate_to_hz(rate):
    """Inverse of :func:`hz_to_erb_rate`."""
    return (10.0 ** (np.asarray(rate, dtype=np.float64) / 21.4) - 1.0) / _EAR_Q_SLOPE


def gammatone_filterbank(sr, n_fft, *, n_filters=64, fmin=50.0, fmax=None):
    """FFT-domain 4th-order gammatone filterbank with ERB-spaced centre frequencies.

    Centre frequencies are equally spaced on Glasberg & Moore's ERB-rate
    scale from ``fmin`` to ``fmax``, low to high. Each row is the magnitude
    response, on the ``1 + n_fft // 2`` rFFT bins, of the gammatone
    ``t^3 exp(-2 pi b t) cos(2 pi fc t)`` with ``b = 1.019 ERB(fc)``:
    ``|(1 + j (f - fc) / b)^-4 + (1 + j (f + fc) / b)^-4|``, normalized to 1
    at ``fc``. Like Ellis' ``fft2gammatonemx`` it weights a magnitude
    spectrum; :class:`GTCCTransformer` applies its square to the power
    spectrum, which gives each channel's energy in one matrix product.

    Parameters
    ----------
    sr : int
        Sample rate in Hz.
    n_fft : int
        FFT size.
    n_filters : int, default=64
        Number of channels.
    fmin : float, default=50.0
        Lowest centre frequency in Hz.
    fmax : float or None
        Highest centre frequency in Hz (None: ``sr / 2``).

    Returns
    -------
    weights : ndarray of shape (n_filters, 1 + n_fft // 2), float32
    centre_freqs : ndarray of shape (n_filters,), float64, increasing

    Examples
    --------
    >>> weights, cf = gammatone_filterbank(16000, 512, n_filters=32)
    >>> weights.shape, round(float(cf[0])), round(float(cf[-1]))
    ((32, 257), 50, 8000)
    """
    check_positive(sr, "sr", integer=True)
    check_positive(n_fft, "n_fft", integer=True)
    check_positive(n_filters, "n_filters", integer=True)
    fmax = sr / 2.0 if fmax is None else check_positive(fmax, "fmax")
    if isinstance(fmin, bool) or not isinstance(fmin, (int, float, np.number)) or fmin < 0:
        raise ValueError(f"fmin must be a number >= 0, got {fmin!r}.")
    if fmax > sr / 2.0:
        raise ValueError(f"fmax ({fmax}) must be <= sr / 2 ({sr / 2.0}).")
    if not fmin < fmax:
        raise ValueError(f"fmin ({fmin}) must be below fmax ({fmax}).")
    cf = erb_rate_to_hz(np.linspace(hz_to_erb_rate(fmin), hz_to_erb_rate(fmax), int(n_filters)))
    b = 1.019 * erb_bandwidth(cf)[:, None]
    freqs = np.fft.rfftfreq(int(n_fft), d=1.0 / sr)[None, :]

    def response(f):
        return (1.0 + 1j * (f - cf[:, None]) / b) ** -4 + (1.0 + 1j * (f + cf[:, None]) / b) ** -4

    weights = np.abs(response(freqs)) / np.abs(response(cf[:, None]))
    return weights.astype(np.float32), cf


@lru_cache(maxsize=16)
def gammatone_power_weights(sr, n_fft, n_filters, fmin, fmax) -> np.ndarray:
    """Squared gammatone responses (power weights), read-only, built once per parameter set."""
    weights = gammatone_filterbank(sr, n_fft, n_filters=n_filters, fmin=fmin, fmax=fmax)[0] ** 2
    weights.setflags(write=False)
    return weights


class GTCCTransformer(_CepstralTransformer):
    """Gammatone cepstral coefficients of audio clips.

    Per frame: power spectrum -> energies of a 4th-order gammatone filterbank
    with ERB-spaced centre frequencies (:func:`gammatone_filterbank`) ->
    ``10 log10`` with a 1e-10 floor and ``top_db`` -> DCT-II (orthonormal) ->
    first ``n_gtcc`` coefficients. The filterbank is applied in the FFT
    domain, one matrix product for all channels and frames. Framing, deltas,
    CMVN, liftering and output modes are those of :class:`MFCCTransformer`.

    Parameters
    ----------
    sr : int, default=16000
        Sample rate; paths are read at this rate, arrays are taken to be at it.
    n_gtcc : int, default=13
        Number of coefficients.
    n_filters : int, default=64
        Gammatone channels.
    fmin : float, default=50.0
        Lowest centre frequency in Hz.
    fmax : float or None
        Highest centre frequency (None: ``sr / 2``).
    n_fft, hop_length, win_length : int or None
        STFT sizes in samples. None: 25 ms window (``n_fft`` = next power of
        two), 10 ms hop.
    window : str or tuple, default="hann"
    center : bool, default=True
        librosa framing; short clips still give at least one frame.
    top_db : float or None, default=80.0
        Dynamic range of the log energies; keeps silence finite.
    lifter : float, default=0
        Sinusoidal cepstral lifter, 0 for none.
    deltas : bool, default=False
        Append delta and delta-delta coefficients.
    cmvn : bool, default=False
        Per-clip cepstral mean and variance normalization.
    output : {"sequence", "stats"}, default="sequence"
        ``(n, max_frames, n_coeffs)`` or pooled ``(n, n_coeffs * len(stats))``.
    max_frames : int or None
        Frames of ``"sequence"`` output (None: the longest clip in the call).
    stats : tuple of str, default=("mean", "std")
        Statistics of ``"stats"`` output.
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
    >>> gtcc = GTCCTransformer(output="stats").fit([np.sin(2 * np.pi * 500 * t)])
    >>> gtcc.transform([np.sin(2 * np.pi * 500 * t)]).shape, gtcc.get_feature_names_out()[-1]
    ((1, 26), 'gtcc12_std')
    """

    _prefix = "gtcc"
    _desc = "GTCC"
    _clip_function = staticmethod(_cepstral_clip)

    def __init__(
        self,
        *,
        sr=16000,
        n_gtcc=13,
        n_filters=64,
        fmin=50.0,
        fmax=None,
        n_fft=None,
        hop_length=None,
        win_length=None,
        window="hann",
        center=True,
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
        self.n_gtcc = n_gtcc
        self.n_filters = n_filters
        self.fmin = fmin
        self.fmax = fmax
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.win_length = win_length
        self.window = window
        self.center = center
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
        return int(check_positive(self.n_gtcc, "n_gtcc", integer=True))

    def _filterbank_key(self, sr: int, n_fft: int) -> tuple:
        n_filters = int(check_positive(self.n_filters, "n_filters", integer=True))
        fmin, fmax = self._check_band_edges(self.fmin, self.fmax, sr)
        return ("gammatone", sr, n_fft, n_filters, fmin, fmax)
