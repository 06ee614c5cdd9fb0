"""Mel spectrograms as arrays, FSER-style RGB images, or YAMNet-style segment stacks."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache, partial
from numbers import Real

import numpy as np

from skser._parallel import parallel_map
from skser._validation import check_clip_sequence, check_option, check_positive
from skser._yamnet._frontend import SAMPLE_RATE as YAMNET_SR
from skser._yamnet._frontend import WINDOW_SAMPLES as YAMNET_WINDOW
from skser._yamnet._frontend import waveform_patch
from skser.audio import fix_length, segment_waveform
from skser.features._base import (
    ClipFeatureTransformer,
    STFTSpec,
    _run_clip,
    check_window,
    frame_count,
    mel_filterbank,
    normalize_clip,
    power_spectrogram,
    resolve_framing,
    stack_fixed,
    to_db,
)

#: Value written into a real segment that came out exactly all-zero (e.g. silence
#: after per-clip standardization), so that all-zero always means padding.
_NOT_PADDING = np.float32(1e-6)

# Paper settings implied by each output mode, used for parameters left as None.
_MODE_DEFAULTS = {
    # 25 ms window, 10 ms hop (n_fft: next power of two), librosa mel (Slaney).
    "spectrogram": dict(n_mels=128, fmin=0.0, fmax=None, htk=False, mel_norm="slaney",
                        power=2.0, scale="db", center=True),
    # FSER: librosa.feature.melspectrogram with n_fft=512, hop=512, Hann of n_fft, 128 mels.
    "image": dict(n_mels=128, fmin=0.0, fmax=None, htk=False, mel_norm="slaney",
                  power=2.0, scale="db", center=True),
    # CNN-RNN / YAMNet front end: 25 ms Hann, 10 ms hop, 512-point FFT, 64 HTK mel bands
    # over 125-7500 Hz on the magnitude spectrum, log(mel + 0.001), no centring.
    "segments": dict(n_mels=64, fmin=125.0, fmax=7500.0, htk=True, mel_norm=None,
                     power=1.0, scale="log", center=False),
}  # fmt: skip


@dataclass(frozen=True)
class _MelSpec:
    sr: int
    stft: STFTSpec
    n_mels: int
    fmin: float
    fmax: float
    htk: bool
    mel_norm: str | None
    scale: str
    ref: object
    top_db: float | None
    log_offset: float
    normalize: str | None
    duration_samples: int | None
    output: str
    image_size: tuple[int, int]
    segment_samples: int
    segment_hop: int
    frontend: str | None
    basis: np.ndarray  # mel filterbank, built once per call in the parent


#: Segments of a long clip processed per block (each 0.975 s segment is a copy of its
#: samples): memory follows the output, not ``n_segments * segment_samples``.
_BLOCK_SEGMENTS = 32


def _mel_clip(wave: np.ndarray, spec: _MelSpec) -> np.ndarray:
    """Features of one clip: (n_mels, n_frames), (H, W) in [0, 1], or (n_segments, frames, n_mels)."""
    if spec.duration_samples is not None:
        wave = fix_length(wave, spec.duration_samples)
    if spec.output == "segments":
        mel = _segment_mels(wave, spec)
    else:
        mel = _scale(power_spectrogram(wave, spec.stft, spec.basis), spec)  # (n_frames, n_mels)
    mel = normalize_clip(mel, spec.normalize)
    if spec.output == "segments":
        dead = ~mel.reshape(len(mel), -1).any(axis=1)
        mel[dead] = _NOT_PADDING
        return mel
    mel = np.ascontiguousarray(mel.T)  # (n_mels, n_frames)
    if spec.output == "image":
        return _to_image(mel, spec.image_size)
    return mel


def _segment_mels(wave: np.ndarray, spec: _MelSpec) -> np.ndarray:
    """(n_segments, frames, n_mels) mel patches, cut and transformed block by block.

    Equal to transforming ``segment_waveform(wave, ...)`` at once: segments are
    independent, and the dB scaling (which looks at the clip's maximum) is
    applied once to the whole stack.
    """
    size, hop = spec.segment_samples, spec.segment_hop
    n_segments = 1 + max(0, -(-(len(wave) - size) // hop))
    out = None
    for first in range(0, n_segments, _BLOCK_SEGMENTS):
        count = min(_BLOCK_SEGMENTS, n_segments - first)
        # The samples these segments cover; segment_waveform zero-pads the last one.
        signal = segment_waveform(wave[first * hop : (first + count - 1) * hop + size], size, hop)
        if spec.frontend == "yamnet":  # YAMNet's own filterbank and log: what its weights saw
            block = waveform_patch(signal)
        else:
            block = power_spectrogram(signal, spec.stft, spec.basis)
        if out is None:
            out = np.empty((n_segments, *block.shape[1:]), dtype=np.float32)
        out[first : first + count] = block
    return out if spec.frontend == "yamnet" else _scale(out, spec)


def _scale(mel: np.ndarray, spec: _MelSpec) -> np.ndarray:
    if spec.scale == "db":
        return to_db(mel, power=spec.stft.power, ref=spec.ref, top_db=spec.top_db)
    if spec.scale == "log":
        return np.log(mel + np.float32(spec.log_offset)).astype(np.float32, copy=False)
    return mel.astype(np.float32, copy=False)


@lru_cache(maxsize=64)
def _area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Resampling matrix (n_out, n_in): each output cell averages the input it covers."""
    edges = np.linspace(0.0, n_in, n_out + 1)
    j = np.arange(n_in)
    lo = np.maximum(edges[:-1, None], j[None, :])
    hi = np.minimum(edges[1:, None], j[None, :] + 1)
    weights = np.clip(hi - lo, 0.0, None)
    weights /= weights.sum(axis=1, keepdims=True)
    return weights.astype(np.float32)


def _to_image(mel_db: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Min-max scale to [0, 1], put low frequencies at the bottom, resize to ``size``."""
    scaled = normalize_clip(mel_db, "minmax")[::-1]  # row 0 = highest band, as a plotted image
    height, width = size
    return _area_matrix(scaled.shape[0], height) @ scaled @ _area_matrix(scaled.shape[1], width).T


def _segment_count(wave: np.ndarray, spec: _MelSpec) -> int:
    n = spec.duration_samples if spec.duration_samples is not None else len(wave)
    return 1 + max(0, -(-(n - spec.segment_samples) // spec.segment_hop))


def count_segments(segments: np.ndarray) -> np.ndarray:
    """Number of real (not all-zero padding) segments per clip of a segment stack.

    Parameters
    ----------
    segments : ndarray of shape (n_clips, n_segments, n_frames, n_mels)
        Output of ``MelSpectrogramTransformer(output="segments")``.

    Returns
    -------
    ndarray of shape (n_clips,), int64
        Padding is only ever at the end, so this is one past the last
        segment that is not exactly all zero.

    Examples
    --------
    >>> import numpy as np
    >>> stack = np.zeros((2, 3, 4, 5), dtype=np.float32)
    >>> stack[0, :2] = 1.0
    >>> stack[1, :1] = -1.0
    >>> count_segments(stack)
    array([2, 1])
    """
    segments = np.asarray(segments)
    if segments.ndim != 4:
        raise ValueError(
            f"segments must be 4-D (n_clips, n_segments, frames, mels), got {segments.shape}."
        )
    alive = segments.reshape(segments.shape[0], segments.shape[1], -1).any(axis=2)
    last = alive.shape[1] - np.argmax(alive[:, ::-1], axis=1)
    return np.where(alive.any(axis=1), last, 0).astype(np.int64)


class MelSpectrogramTransformer(ClipFeatureTransformer):
    """Mel spectrograms of audio clips, as arrays, RGB images or segment stacks.

    Three output modes:

    ``"spectrogram"``
        ``(n, n_mels, n_frames)`` float32. Frame counts are fixed by
        ``duration`` (crop/pad the waveform) or else by padding with zeros /
        cropping at the end to ``max_frames`` (None: the longest clip in the call).
    ``"image"`` (FSER)
        ``(n, height, width, 3)`` float32 in [0, 1]. The dB mel spectrogram
        of the whole clip is min-max scaled per clip, flipped so that low
        frequencies are at the bottom, area-resized to ``image_size`` and
        coloured with ``colormap``. FSER plotted each mel spectrogram and fed
        the saved RGB picture to its CNN, describing low amplitudes as light
        blue and high ones as dark red: that is the diverging ``"coolwarm"``
        map that ``librosa.display.specshow`` uses for dB data, hence the
        default. ``colormap=None`` instead replicates the grey image to three
        channels. The scalar image is resized before colouring, so colours
        are never interpolated.
    ``"segments"`` (CNN-RNN / YAMNet)
        ``(n, n_segments, frames_per_segment, n_mels)`` float32, by default
        ``(n, n_segments, 96, 64)``: each clip is cut into 0.975 s windows
        with 50 % overlap (:func:`skser.audio.segment_waveform`, last window
        zero-padded) and each window becomes a log mel patch,
        ``log(mel + 0.001)``. Clips with fewer segments are padded with
        all-zero segments at the end (up to ``max_segments``, None: the most
        in the call); an all-zero segment always means padding, because the
        log offset keeps real values >= log(0.001) and a real segment that
        still comes out exactly zero (silence after ``normalize="clip"``) is
        set to 1e-6. :meth:`segment_counts` and :func:`count_segments` give
        the number of real segments.

    Parameters left as None take the settings of the mode's paper:

    ==============  =====================  ===============  ==================
    parameter       "spectrogram"          "image" (FSER)   "segments" (YAMNet)
    ==============  =====================  ===============  ==================
    n_fft           next pow2 of window    512              512
    win_length      25 ms (n_fft if set)   n_fft            25 ms
    hop_length      10 ms                  n_fft            10 ms
    center          True                   True             False
    n_mels          128                    128              64
    fmin, fmax      0, sr/2                0, sr/2          125, 7500 (<= sr/2)
    htk, mel_norm   False, "slaney"        False, "slaney"  True, None
    power           2 (power)              2                1 (magnitude)
    scale           "db"                   "db"             "log"
    ==============  =====================  ===============  ==================

    (Lengths in ms are ``round(ms * sr / 1000)`` samples; the framing rule is:
    ``win_length = n_fft`` when only ``n_fft`` is given, ``n_fft`` = next
    power of two of ``win_length`` when only that is given.) With the same
    parameters, ``"spectrogram"`` output equals ``librosa.feature.melspectrogram``
    (``center=True``, ``pad_mode="constant"``) followed by ``power_to_db``.

    Parameters
    ----------
    sr : int, default=16000
        Sample rate; paths are read (and resampled) at this rate, arrays are
        taken to be at it.
    n_fft, hop_length, win_length : int or None
        STFT sizes in samples (see the table).
    window : str or tuple, default="hann"
        Window name for ``scipy.signal.get_window`` (periodic).
    center : bool or None
        ``True``: librosa framing (``n_fft // 2`` zeros each side). ``False``:
        window-length frames from the first sample (YAMNet/TF). A clip shorter
        than one window is zero-padded at the end to one window, so even very
        short clips give at least one frame.
    n_mels : int or None
        Number of mel bands.
    fmin, fmax : float or None
        Band edges in Hz (``fmax`` None: ``sr / 2``).
    htk : bool or None
        HTK mel formula instead of Slaney's.
    mel_norm : {"auto", "slaney", None}, default="auto"
        Filter normalization of ``librosa.filters.mel``; ``"auto"`` follows the table.
    power : float or None
        Exponent of the magnitude (1 magnitude, 2 power).
    scale : {"db", "log", "linear"} or None
        ``"db"``: ``(20 / power) * log10`` relative to ``ref``, floored at
        ``top_db`` below the clip peak (librosa's ``power_to_db``).
        ``"log"``: natural ``log(mel + log_offset)``. ``"linear"``: as is.
    ref : float or "max", default=1.0
        dB reference; ``"max"`` makes each clip's peak 0 dB (loudness-invariant).
    top_db : float or None, default=80.0
        Dynamic range kept by ``"db"``; None keeps everything.
    log_offset : float, default=0.001
        Offset of ``scale="log"`` (YAMNet's value); keeps silence finite.
    normalize : {None, "clip", "minmax"}, default=None
        Per-clip standardization (zero mean, unit variance over all bins and
        frames) or min-max scaling to [0, 1], applied before padding. Has no
        effect on ``"image"``, which is always min-max scaled.
    duration : float or None
        Crop (centre) or zero-pad (both sides) every waveform to this many
        seconds before the STFT (as :class:`skser.audio.FixedLength`), which
        fixes the output shape independently of the batch.
    max_frames : int or None
        ``"spectrogram"`` only: frames kept/padded to (None: longest clip).
        Set it (or ``duration``) for models, so that training and prediction
        batches have the same shape.
    output : {"spectrogram", "image", "segments"}, default="spectrogram"
    image_size : tuple of int, default=(64, 64)
        ``(height, width)`` of ``"image"`` output (FSER: 64 x 64).
    colormap : str or None, default="coolwarm"
        Matplotlib colormap of ``"image"`` output; None for grey in 3 channels.
    segment_duration : float, default=0.975
        Segment length in seconds (YAMNet's input, 15600 samples at 16 kHz).
    segment_overlap : float, default=0.5
        Fraction shared by consecutive segments, in [0, 1).
    max_segments : int or None
        ``"segments"`` only: segments kept/padded to (None: the most in the call).
    frontend : {None, "yamnet"}, default=None
        ``"segments"`` only. ``"yamnet"`` computes each 0.975 s segment's
        (96, 64) patch with YAMNet's own frontend
        (:func:`skser._yamnet.waveform_patch`: TensorFlow's mel matrix,
        triangles linear in mel and no weight on the DC bin), so pretrained
        YAMNet weights see exactly what they were trained on; the default
        librosa HTK filterbank is close but not identical. It fixes every
        STFT and mel parameter, so those must stay None (``mel_norm="auto"``,
        ``window="hann"``, ``log_offset=0.001``), and needs ``sr=16000`` and
        ``segment_duration=0.975``.
    n_jobs : int or None
        Parallel workers over clips, each reading and processing whole clips.
        joblib threads by default (decoding, FFTs and matrix products release
        the GIL, and no array is copied between processes); a backend set with
        ``joblib.parallel_config`` takes precedence.
    verbose : bool, default=False
        Progress bar.
    memory : None, str or joblib.Memory
        Cache per-clip features on disk; a file is recomputed when its size or
        modification time changes.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(16000) / 16000
    >>> clips = [np.sin(2 * np.pi * 440 * t), 0.1 * np.sin(2 * np.pi * 220 * t[:8000])]
    >>> MelSpectrogramTransformer(n_mels=40).fit_transform(clips).shape
    (2, 40, 101)
    >>> MelSpectrogramTransformer(output="image").fit_transform(clips).shape
    (2, 64, 64, 3)
    >>> seg = MelSpectrogramTransformer(output="segments")
    >>> seg.fit_transform(clips).shape, seg.segment_counts(clips)
    ((2, 2, 96, 64), array([2, 1]))
    """

    _desc = "mel spectrograms"
    _clip_function = staticmethod(_mel_clip)

    def __init__(
        self,
        *,
        sr=16000,
        n_fft=None,
        hop_length=None,
        win_length=None,
        window="hann",
        center=None,
        n_mels=None,
        fmin=None,
        fmax=None,
        htk=None,
        mel_norm="auto",
        power=None,
        scale=None,
        ref=1.0,
        top_db=80.0,
        log_offset=0.001,
        normalize=None,
        duration=None,
        max_frames=None,
        output="spectrogram",
        image_size=(64, 64),
        colormap="coolwarm",
        segment_duration=0.975,
        segment_overlap=0.5,
        max_segments=None,
        frontend=None,
        n_jobs=None,
        verbose=False,
        memory=None,
    ):
        self.sr = sr
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.win_length = win_length
        self.window = window
        self.center = center
        self.n_mels = n_mels
        self.fmin = fmin
        self.fmax = fmax
        self.htk = htk
        self.mel_norm = mel_norm
        self.power = power
        self.scale = scale
        self.ref = ref
        self.top_db = top_db
        self.log_offset = log_offset
        self.normalize = normalize
        self.duration = duration
        self.max_frames = max_frames
        self.output = output
        self.image_size = image_size
        self.colormap = colormap
        self.segment_duration = segment_duration
        self.segment_overlap = segment_overlap
        self.max_segments = max_segments
        self.frontend = frontend
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.memory = memory

    def _resolve(self) -> _MelSpec:
        """Validate the parameters and fill in the mode defaults (see the class docstring)."""
        self._check_common()
        check_option(self.output, "output", list(_MODE_DEFAULTS))
        sr = int(self.sr)
        mode = _MODE_DEFAULTS[self.output]

        def pick(name):
            value = getattr(self, name)
            return mode[name] if value is None else value

        if self.output == "image" and self.n_fft is None and self.win_length is None:
            n_fft, win_length, hop = resolve_framing(sr, 512, None, self.hop_length)
            hop = n_fft if self.hop_length is None else hop
        else:
            n_fft, win_length, hop = resolve_framing(
                sr, self.n_fft, self.win_length, self.hop_length
            )
            if self.output == "image" and self.hop_length is None:
                hop = n_fft
        check_window(self.window)
        center = pick("center")
        if not isinstance(center, (bool, np.bool_)):
            raise ValueError(f"center must be True, False or None, got {center!r}.")
        power = pick("power")
        check_positive(power, "power")
        stft = STFTSpec.build(n_fft, hop, win_length, self.window, bool(center), float(power))

        n_mels = check_positive(pick("n_mels"), "n_mels", integer=True)
        fmin = pick("fmin")
        if isinstance(fmin, bool) or not isinstance(fmin, Real) or fmin < 0:
            raise ValueError(f"fmin must be a number >= 0, got {fmin!r}.")
        if self.fmax is None:
            fmax = sr / 2.0 if mode["fmax"] is None else min(mode["fmax"], sr / 2.0)
        else:
            fmax = check_positive(self.fmax, "fmax")
            if fmax > sr / 2.0:
                raise ValueError(f"fmax ({fmax}) must be <= sr / 2 ({sr / 2.0}).")
        if not fmin < fmax:
            raise ValueError(f"fmin ({fmin}) must be below fmax ({fmax}).")
        htk = pick("htk")
        if not isinstance(htk, (bool, np.bool_)):
            raise ValueError(f"htk must be True, False or None, got {htk!r}.")
        check_option(self.mel_norm, "mel_norm", ["auto", "slaney", None])
        mel_norm = mode["mel_norm"] if self.mel_norm == "auto" else self.mel_norm

        scale = check_option(pick("scale"), "scale", ["db", "log", "linear"])
        if not (
            self.ref == "max"
            or (
                not isinstance(self.ref, (bool, str))
                and isinstance(self.ref, Real)
                and self.ref > 0
            )
        ):
            raise ValueError(f"ref must be a positive number or 'max', got {self.ref!r}.")
        check_positive(self.top_db, "top_db", allow_none=True)
        check_positive(self.log_offset, "log_offset")
        check_option(self.normalize, "normalize", [None, "clip", "minmax"])
        check_positive(self.duration, "duration", allow_none=True)
        duration_samples = (
            None if self.duration is None else max(1, int(round(self.duration * sr)))
        )
        check_positive(self.max_frames, "max_frames", integer=True, allow_none=True)
        check_positive(self.max_segments, "max_segments", integer=True, allow_none=True)

        size = self.image_size
        if not (isinstance(size, (tuple, list)) and len(size) == 2):
            raise ValueError(f"image_size must be (height, width), got {size!r}.")
        for v in size:
            check_positive(v, "image_size", integer=True)
        if self.output == "image" and self.colormap is not None:
            from matplotlib import colormaps

            if self.colormap not in colormaps:
                raise ValueError(f"colormap {self.colormap!r} is not a matplotlib colormap.")

        check_positive(self.segment_duration, "segment_duration")
        if not (isinstance(self.segment_overlap, Real) and 0 <= self.segment_overlap < 1):
            raise ValueError(f"segment_overlap must be in [0, 1), got {self.segment_overlap!r}.")
        segment_samples = max(1, int(round(self.segment_duration * sr)))
        segment_hop = max(1, int(round(segment_samples * (1 - self.segment_overlap))))
        self._check_frontend(sr, segment_samples)

        return _MelSpec(
            sr=sr, stft=stft, n_mels=int(n_mels), fmin=float(fmin), fmax=float(fmax),
            htk=bool(htk), mel_norm=mel_norm, scale=scale, ref=self.ref,
            top_db=None if self.top_db is None else float(self.top_db),
            log_offset=float(self.log_offset), normalize=self.normalize,
            duration_samples=duration_samples, output=self.output,
            image_size=(int(size[0]), int(size[1])),
            segment_samples=segment_samples, segment_hop=segment_hop, frontend=self.frontend,
            basis=mel_filterbank(sr, n_fft, int(n_mels), float(fmin), float(fmax), bool(htk), mel_norm),
        )  # fmt: skip

    def _check_frontend(self, sr: int, segment_samples: int) -> None:
        check_option(self.frontend, "frontend", [None, "yamnet"])
        if self.frontend is None:
            return
        if self.output != "segments":
            raise ValueError(f"frontend='yamnet' needs output='segments', got {self.output!r}.")
        if sr != YAMNET_SR or segment_samples != YAMNET_WINDOW:
            raise ValueError(
                f"frontend='yamnet' needs sr={YAMNET_SR} and segment_duration=0.975 "
                f"({YAMNET_WINDOW} samples), got sr={sr} and {segment_samples} samples."
            )
        fixed = {"window": "hann", "mel_norm": "auto", "log_offset": 0.001}
        fixed.update(dict.fromkeys(
            ["n_fft", "hop_length", "win_length", "center", "n_mels", "fmin", "fmax", "htk",
             "power", "scale"]))  # fmt: skip
        changed = [name for name, value in fixed.items() if getattr(self, name) != value]
        if changed:
            raise ValueError(
                f"frontend='yamnet' fixes the STFT and mel settings; leave {changed} at their "
                "defaults (None, window='hann', mel_norm='auto', log_offset=0.001)."
            )

    def transform(self, X):
        """Compute the mel features of every clip.

        Parameters
        ----------
        X : sequence of clips (paths or 1-D float arrays), or ndarray of shape (n_clips, n_samples)

        Returns
        -------
        ndarray, float32
            ``(n_clips, n_mels, n_frames)`` for ``"spectrogram"``,
            ``(n_clips, height, width, 3)`` for ``"image"``,
            ``(n_clips, n_segments, frames_per_segment, n_mels)`` for ``"segments"``.
        """
        spec = self._resolve()
        features = self._extract(X, spec)
        if spec.output == "spectrogram":
            return stack_fixed(features, self.max_frames, axis=1)
        if spec.output == "segments":
            return stack_fixed(features, self.max_segments, axis=0)
        images = np.stack(features)
        if self.colormap is None:
            return np.repeat(images[..., None], 3, axis=-1).astype(np.float32)
        from matplotlib import colormaps

        return colormaps[self.colormap](images)[..., :3].astype(np.float32)

    def frames_per_segment(self) -> int:
        """Frames in one segment of ``"segments"`` output (96 with the defaults)."""
        spec = self._resolve()
        return frame_count(spec.segment_samples, spec.stft)

    def segment_counts(self, X) -> np.ndarray:
        """Number of real segments each clip gives in ``"segments"`` mode.

        Counts after ``duration`` and capped at ``max_segments``, i.e. how many
        leading segments of :meth:`transform`'s output are not padding.

        Parameters
        ----------
        X : sequence of clips (paths or 1-D float arrays)

        Returns
        -------
        ndarray of shape (n_clips,), int64
        """
        spec = self._resolve()
        clips = check_clip_sequence(X)
        func = partial(_run_clip, compute=_segment_count, spec=spec, sr=spec.sr, memory=None)
        counts = np.asarray(
            parallel_map(func, list(enumerate(clips)), n_jobs=self.n_jobs), dtype=np.int64
        )
        if self.max_segments is not None:
            counts = np.minimum(counts, self.max_segments)
        return counts
