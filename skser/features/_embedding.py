"""Pretrained audio embeddings (YAMNet) as a scikit-learn transformer."""

from __future__ import annotations

import math
import os
import warnings
from functools import lru_cache, partial

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, check_memory

from skser._parallel import parallel_map
from skser._validation import check_clip_sequence, check_option, check_positive
from skser._yamnet import (
    EMBEDDING_SIZE,
    N_CLASSES,
    SAMPLE_RATE,
    WINDOW_SAMPLES,
    load_yamnet_runner,
    resolve_yamnet_weights,
    yamnet_class_names,
)
from skser.audio import _resample, as_waveforms, segment_waveform

__all__ = ["EmbeddingTransformer", "yamnet_class_names"]

_STATS = ("mean", "std", "max", "min")
_MAX_WINDOW = WINDOW_SAMPLES / SAMPLE_RATE  # 0.975 s


#: Windows cut and run per block: a long clip needs memory for its embeddings,
#: not for a copy of every (overlapping) 0.975 s window.
_BLOCK_WINDOWS = 256


def _clip_outputs(wave, runner, *, weights_sha256, window, hop):
    """YAMNet embeddings and scores of one 16 kHz clip's windows.

    ``runner`` is left out of the cache key (``weights_sha256`` stands for it).
    """
    n_windows = _n_segments(len(wave), window, hop)
    embeddings, scores = [], []
    for first in range(0, n_windows, _BLOCK_WINDOWS):
        count = min(_BLOCK_WINDOWS, n_windows - first)
        covered = wave[first * hop : (first + count - 1) * hop + window]
        segments = segment_waveform(covered, window, hop)
        if window < WINDOW_SAMPLES:  # shorter windows are zero-padded to YAMNet's input
            segments = np.pad(segments, ((0, 0), (0, WINDOW_SAMPLES - window)))
        emb, score = runner(segments)
        embeddings.append(emb)
        scores.append(score)
    return np.concatenate(embeddings), np.concatenate(scores)


def _window_block(wave, window, hop) -> np.ndarray:
    """All windows of one short clip, zero-padded to YAMNet's input length."""
    segments = segment_waveform(wave, window, hop)
    if window < WINDOW_SAMPLES:
        segments = np.pad(segments, ((0, 0), (0, WINDOW_SAMPLES - window)))
    return segments


def _batched_outputs(waves, runner, *, window, hop):
    """:func:`_clip_outputs` of every clip, with the windows of many clips in one runner call.

    Short clips are gathered until :data:`_BLOCK_WINDOWS` windows are pending,
    then run at once (a parallel runner keeps all its interpreters busy, and
    the per-call set-up is paid once per block, not per clip); a clip of
    :data:`_BLOCK_WINDOWS` windows or more goes through :func:`_clip_outputs`
    alone. Each window is computed independently, so the outputs equal the
    per-clip ones.
    """
    results: list = [None] * len(waves)
    pending: list[tuple[int, np.ndarray]] = []

    def flush():
        if not pending:
            return
        emb, score = runner(np.concatenate([segments for _, segments in pending]))
        start = 0
        for index, segments in pending:
            stop = start + len(segments)
            results[index] = (emb[start:stop], score[start:stop])
            start = stop
        pending.clear()

    queued = 0
    for index, wave in enumerate(waves):
        if _n_segments(len(wave), window, hop) >= _BLOCK_WINDOWS:
            results[index] = _clip_outputs(
                wave, runner, weights_sha256=runner.sha256, window=window, hop=hop
            )
            continue
        pending.append((index, _window_block(wave, window, hop)))
        queued += len(pending[-1][1])
        if queued >= _BLOCK_WINDOWS:
            flush()
            queued = 0
    flush()
    return results


class EmbeddingTransformer(TransformerMixin, BaseEstimator):
    """Pretrained YAMNet embeddings (or AudioSet class scores) of audio clips.

    Each clip is cut into 0.975 s windows with 50 % overlap (as in the
    CNN-RNN paper); YAMNet (MobileNet-v1 trained on AudioSet) maps each window
    to a 1024-d embedding and 521 class scores. The weights are the official
    files, read from disk only (skser never downloads): the TFLite export
    (``yamnet.tflite``) or the model garden's Keras weights (``yamnet.h5``).
    The model is loaded at the first ``transform`` and kept on the instance,
    outside its pickled state, so clones and pickles stay small.

    Parameters
    ----------
    model : {"yamnet"}, default="yamnet"
        The pretrained network.
    weights : str, path-like or None, default=None
        ``yamnet.tflite`` or ``yamnet.h5``. ``None`` reads ``$SKSER_YAMNET``,
        else ``~/skser_data/models/yamnet.tflite``. Official sources:
        https://storage.googleapis.com/audioset/yamnet.h5 (Keras) and
        https://www.kaggle.com/models/google/yamnet/tfLite (TFLite).
    sr : int, default=16000
        Rate at which paths are read and arrays are taken to be; audio at any
        other rate is resampled to YAMNet's 16 kHz.
    window : float, default=0.975
        Window length in seconds, at most 0.975 (YAMNet's input); shorter
        windows are zero-padded to 0.975 s.
    overlap : float, default=0.5
        Fraction of a window shared by consecutive windows, in [0, 1).
    output : {"pooled", "segments", "scores"}, default="pooled"
        ``"pooled"``: statistics of the window embeddings, shape
        ``(n, 1024 * n_stats)``. ``"segments"``: the window embeddings,
        ``(n, n_segments, 1024)``, zero rows padding shorter clips at the end.
        ``"scores"``: statistics of the 521 AudioSet class scores, ``(n, 521 * n_stats)``.
    pooling : str or tuple of str, default="mean"
        Statistics over a clip's windows for ``"pooled"``/``"scores"``, from
        ``"mean"``, ``"std"``, ``"max"``, ``"min"``; e.g. ``("mean", "std")``.
    max_segments : int or None, default=None
        ``"segments"`` output length. ``None``: the most windows of any clip
        seen in ``fit`` (longer clips at transform are cut, with a warning).
        An int: exactly that many (longer clips keep their first windows).
    batch_size : int, default=64
        Windows per forward pass with Keras weights (the TFLite export runs
        one window at a time).
    n_jobs : int or None, default=None
        Parallel audio readers, and threads of the TFLite interpreter.
    verbose : bool, default=False
        Progress bars.
    memory : str, joblib.Memory or None, default=None
        Cache of the per-clip network outputs (keyed by audio, weights sha256,
        window and hop).

    Attributes
    ----------
    weights_path_ : str
        The weights file used.
    n_segments_ : int or None
        Windows per clip of the ``"segments"`` output (None otherwise).
    n_features_out_ : int
        Width of the output (embedding or pooled size).

    Examples
    --------
    >>> import numpy as np
    >>> from skser.features import EmbeddingTransformer
    >>> emb = EmbeddingTransformer(weights="yamnet.tflite", pooling=("mean", "std"))
    >>> X = [np.zeros(16000, dtype="float32"), np.zeros(40000, dtype="float32")]
    >>> # the next lines need the weights file, so they are not run as tests
    >>> emb.fit_transform(X).shape  # doctest: +SKIP
    (2, 2048)
    >>> EmbeddingTransformer(weights="yamnet.tflite", output="segments").fit_transform(X).shape  # doctest: +SKIP
    (2, 5, 1024)
    """

    def __init__(
        self,
        model: str = "yamnet",
        *,
        weights: str | os.PathLike | None = None,
        sr: int = 16000,
        window: float = 0.975,
        overlap: float = 0.5,
        output: str = "pooled",
        pooling: str | tuple[str, ...] = "mean",
        max_segments: int | None = None,
        batch_size: int = 64,
        n_jobs: int | None = None,
        verbose: bool = False,
        memory=None,
    ):
        self.model = model
        self.weights = weights
        self.sr = sr
        self.window = window
        self.overlap = overlap
        self.output = output
        self.pooling = pooling
        self.max_segments = max_segments
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.memory = memory

    # -- parameters -------------------------------------------------------------------------
    def _stats(self) -> tuple[str, ...]:
        stats = (self.pooling,) if isinstance(self.pooling, str) else tuple(self.pooling)
        if not stats or len(set(stats)) != len(stats) or any(s not in _STATS for s in stats):
            raise ValueError(
                f"pooling must be one of {list(_STATS)} or a tuple of distinct ones, got {self.pooling!r}."
            )
        return stats

    def _validate_params(self) -> None:
        check_option(self.model, "model", ["yamnet"])
        check_positive(self.sr, "sr", integer=True)
        check_positive(self.window, "window")
        if self.window > _MAX_WINDOW + 1e-9:
            raise ValueError(
                f"window must be at most {_MAX_WINDOW} s (YAMNet's input), got {self.window!r}."
            )
        if not 0 <= self.overlap < 1:
            raise ValueError(f"overlap must be in [0, 1), got {self.overlap!r}.")
        check_option(self.output, "output", ["pooled", "segments", "scores"])
        self._stats()
        check_positive(self.max_segments, "max_segments", integer=True, allow_none=True)
        check_positive(self.batch_size, "batch_size", integer=True)

    def _window_and_hop(self) -> tuple[int, int]:
        window = min(WINDOW_SAMPLES, max(1, int(round(self.window * SAMPLE_RATE))))
        return window, max(1, int(round(window * (1 - self.overlap))))

    # -- fitting ----------------------------------------------------------------------------
    def _waves(self, X) -> list[np.ndarray]:
        waves = as_waveforms(X, sr=self.sr, n_jobs=self.n_jobs, verbose=self.verbose)
        if self.sr != SAMPLE_RATE:
            waves = [_resample(w, self.sr, SAMPLE_RATE).astype(np.float32) for w in waves]
        return waves

    def _fit(self, waves: list[np.ndarray]):
        self.weights_path_ = os.fspath(resolve_yamnet_weights(self.weights))
        self.n_segments_ = None
        if self.output == "segments":
            if self.max_segments is not None:
                self.n_segments_ = int(self.max_segments)
            else:
                window, hop = self._window_and_hop()
                self.n_segments_ = max(_n_segments(len(w), window, hop) for w in waves)
        per = N_CLASSES if self.output == "scores" else EMBEDDING_SIZE
        self.n_features_out_ = per if self.output == "segments" else per * len(self._stats())
        return self

    def fit(self, X, y=None):
        """Check the parameters and the weights file; learn the segment count for ``"segments"``.

        Parameters
        ----------
        X : sequence of clips
            File paths or 1-D waveforms (or a 2-D array, one clip per row).
        y : ignored

        Returns
        -------
        self
        """
        self._validate_params()
        if self.output == "segments" and self.max_segments is None:
            return self._fit(self._waves(X))
        check_clip_sequence(X)
        return self._fit([])

    def fit_transform(self, X, y=None, **fit_params):
        """Fit and transform, reading the audio once."""
        self._validate_params()
        waves = self._waves(X)
        self._fit(waves)
        return self._transform_waves(waves)

    # -- transforming -----------------------------------------------------------------------
    def _runner(self):
        """The loaded network, cached on the instance (not pickled)."""
        threads = max(1, effective_n_jobs(self.n_jobs))
        key = (self.weights_path_, threads, int(self.batch_size))
        if getattr(self, "_runner_key", None) != key:
            self._loaded = _shared_runner(self.weights_path_, threads, int(self.batch_size))
            self._runner_key = key
        return self._loaded

    def transform(self, X):
        """Embed every clip.

        Parameters
        ----------
        X : sequence of clips
            File paths or 1-D waveforms at ``sr``.

        Returns
        -------
        ndarray, float32
            ``(n_clips, n_features_out_)`` for ``"pooled"``/``"scores"``;
            ``(n_clips, n_segments_, 1024)`` for ``"segments"``.
        """
        check_is_fitted(self, "weights_path_")
        self._validate_params()
        return self._transform_waves(self._waves(X))

    def _transform_waves(self, waves: list[np.ndarray]) -> np.ndarray:
        runner = self._runner()
        window, hop = self._window_and_hop()
        if self.memory is None:
            results = _batched_outputs(waves, runner, window=window, hop=hop)
        else:  # cached per clip
            compute = check_memory(self.memory).cache(_clip_outputs, ignore=["runner"])
            func = partial(
                compute, runner=runner, weights_sha256=runner.sha256, window=window, hop=hop
            )
            results = parallel_map(func, waves, n_jobs=1, verbose=self.verbose, desc="YAMNet")
        if self.output == "segments":
            return self._stack_segments([emb for emb, _ in results])
        stats = self._stats()
        which = 1 if self.output == "scores" else 0
        out = np.empty((len(results), self.n_features_out_), np.float32)
        for i, result in enumerate(results):
            out[i] = _pool(result[which], stats)
        return out

    def _stack_segments(self, embeddings: list[np.ndarray]) -> np.ndarray:
        n_seg = self.n_segments_
        longest = max(len(e) for e in embeddings)
        if self.max_segments is None and longest > n_seg:
            warnings.warn(
                f"A clip has {longest} windows but fit saw at most {n_seg}; keeping its first {n_seg}. "
                "Set max_segments to fix the length explicitly.",
                UserWarning,
                stacklevel=3,
            )
        out = np.zeros((len(embeddings), n_seg, EMBEDDING_SIZE), np.float32)
        for i, emb in enumerate(embeddings):
            kept = emb[:n_seg].copy()
            # An all-zero row means padding (as in the mel "segments" output), so a
            # real window whose ReLU-pooled embedding is exactly zero becomes 1e-6.
            kept[~kept.any(axis=1)] = 1e-6
            out[i, : len(kept)] = kept
        return out

    @available_if(lambda self: self.output != "segments")
    def get_feature_names_out(self, input_features=None):
        """Output names: ``yamnet{i}_{stat}`` (embeddings) or ``yamnet_score{i}_{stat}`` (scores).

        Returns
        -------
        ndarray of str, shape (n_features_out_,)
        """
        check_is_fitted(self, "weights_path_")
        prefix, size = (
            ("yamnet_score", N_CLASSES) if self.output == "scores" else ("yamnet", EMBEDDING_SIZE)
        )
        return np.asarray(
            [f"{prefix}{i}_{stat}" for stat in self._stats() for i in range(size)], dtype=object
        )

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_loaded", None)  # an interpreter / Keras model: reloaded lazily
        state.pop("_runner_key", None)
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        tags.non_deterministic = False
        return tags


def _shared_runner(weights_path: str, threads: int, batch_size: int):
    """The runner of a weights file, shared by the instances of a process (clones, folds).

    Keyed by the file's size and time stamp too, so replaced weights are reloaded;
    at most two runners are kept. Runners serialize their own calls (a lock).
    """
    stat = os.stat(weights_path)
    return _load_runner(weights_path, stat.st_size, stat.st_mtime_ns, threads, batch_size)


@lru_cache(maxsize=2)
def _load_runner(weights_path, size, mtime_ns, threads, batch_size):
    return load_yamnet_runner(weights_path, num_threads=threads, batch_size=batch_size)


def _n_segments(n_samples: int, window: int, hop: int) -> int:
    """Windows :func:`skser.audio.segment_waveform` cuts from ``n_samples`` samples."""
    return 1 + max(0, math.ceil((n_samples - window) / hop))


def _pool(values: np.ndarray, stats: tuple[str, ...]) -> np.ndarray:
    funcs = {"mean": np.mean, "std": np.std, "max": np.max, "min": np.min}
    return np.concatenate([funcs[s](values, axis=0) for s in stats]).astype(np.float32)
