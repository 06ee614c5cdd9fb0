"""Emotion over time: predict a long recording window by window.

:func:`predict_timeline` slides a window over a recording and classifies each
window with any fitted clip-level model. Files are read window by window with
soundfile, so a one-hour recording needs memory for one batch of windows, not
for the whole file.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import pandas as pd
import soundfile as sf
import soxr

from skser._validation import check_positive, check_waveform, is_path_like, to_object_array
from skser.audio import open_audio_file

__all__ = ["predict_timeline", "timeline_windows", "model_sample_rate"]


def model_sample_rate(model, default: int = 16000) -> int:
    """The sample rate a fitted pipeline expects, from its ``sr`` parameters.

    Looks for a parameter named ``sr`` (or ending in ``__sr``) in
    ``model.get_params()``; returns ``default`` when there is none.

    Raises
    ------
    ValueError
        If the steps disagree about the sample rate.
    """
    try:
        params = model.get_params(deep=True)
    except Exception:  # not a scikit-learn estimator
        return default
    rates = {
        int(value)
        for key, value in params.items()
        if (key == "sr" or key.endswith("__sr"))
        and isinstance(value, int | np.integer)
        and not isinstance(value, bool)
    }
    if len(rates) > 1:
        raise ValueError(f"The model's steps use different sample rates {sorted(rates)}; pass sr=.")
    return rates.pop() if rates else default


def timeline_windows(duration: float, *, window: float, hop: float) -> np.ndarray:
    """Start and end times (seconds) of the analysis windows over ``duration`` seconds.

    Windows start every ``hop`` seconds; the last one ends at the end of the
    recording and may be shorter than ``window``. A recording shorter than
    one window gives one window over all of it. With ``hop > window`` the
    windows leave gaps (and may not reach the end).

    Returns
    -------
    ndarray of shape (n_windows, 2), float64
        ``[start, end]`` per window: ``n_windows = 1 + ceil((duration - window) / hop)``
        for recordings longer than ``window`` when ``hop <= window``.

    Examples
    --------
    >>> timeline_windows(10.0, window=3.0, hop=1.0)[[0, -1]].tolist()
    [[0.0, 3.0], [7.0, 10.0]]
    >>> timeline_windows(10.5, window=3.0, hop=2.0)[-1].tolist()
    [8.0, 10.5]
    """
    check_positive(duration, "duration")
    check_positive(window, "window")
    check_positive(hop, "hop")
    # Tolerance: 10.0 - 3.0 over hop 1.0 must give 7 steps, not 8 from rounding noise.
    steps = max(0, math.ceil((duration - window) / hop - 1e-9))
    starts = np.arange(steps + 1, dtype=np.float64) * hop
    starts = starts[(starts == 0) | (starts < duration - 1e-9)]  # hop > window: none past the end
    ends = np.minimum(starts + window, duration)
    return np.column_stack([starts, ends])


def _read_window(handle: sf.SoundFile, start: float, end: float, sr: int, name: str) -> np.ndarray:
    """One window of an open file, mono, resampled to ``sr``."""
    file_sr = handle.samplerate
    first = int(round(start * file_sr))
    count = max(1, int(round(end * file_sr)) - first)
    handle.seek(first)
    data = handle.read(count, dtype="float32", always_2d=True)
    if data.shape[0] == 0:
        raise ValueError(f"Audio file {name!r} ended early at {start:.2f} s.")
    wave = data.mean(axis=1)
    if file_sr != sr:
        wave = soxr.resample(wave, file_sr, sr, quality="HQ").astype(np.float32, copy=False)
    if not np.all(np.isfinite(wave)):
        raise ValueError(f"Audio file {name!r} contains NaN or infinite samples near {start:.2f} s.")
    return np.ascontiguousarray(wave, dtype=np.float32)


def predict_timeline(
    model,
    recording,
    *,
    sr: int | None = None,
    window: float = 3.0,
    hop: float = 1.0,
    batch_size: int = 64,
    verbose: bool = False,
) -> pd.DataFrame:
    """Classify a long recording window by window: an emotion timeline.

    Parameters
    ----------
    model : fitted classifier or Pipeline
        Takes a sequence of 1-D waveforms at ``sr`` (as every skser recipe
        and feature pipeline does). With ``predict_proba`` the table gets one
        probability column per class and the label is the most probable
        class; otherwise only ``predict`` is used.
    recording : str, PathLike or array-like of shape (n_samples,)
        An audio file (read window by window, down-mixed to mono and
        resampled to ``sr``) or a waveform already at ``sr``.
    sr : int, optional
        Sample rate the model expects. Default: the model's own ``sr``
        parameter (:func:`model_sample_rate`), else 16000.
    window : float, default=3.0
        Window length in seconds.
    hop : float, default=1.0
        Seconds between window starts (``hop < window`` overlaps windows).
    batch_size : int, default=64
        Windows classified per call of the model; bounds the memory used.
    verbose : bool, default=False
        Progress bar over the windows.

    Returns
    -------
    pandas.DataFrame
        One row per window (see :func:`timeline_windows`): ``start``, ``end``
        (seconds), ``label`` and, with ``predict_proba``, one float column per
        class named after it.

    Raises
    ------
    FileNotFoundError
        If ``recording`` is a path that does not exist.
    ValueError
        If the file is not readable audio or is empty, the waveform is
        invalid, or ``window``/``hop``/``sr`` are not positive.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.pipeline import make_pipeline
    >>> from skser.features import MFCCTransformer, TemporalPooling
    >>> rng = np.random.default_rng(0)
    >>> clips = [rng.normal(scale=s, size=8000).astype("float32") for s in (0.01, 0.5)]
    >>> model = make_pipeline(MFCCTransformer(output="stats", sr=8000),
    ...                       DummyClassifier()).fit(clips, ["calm", "anger"])
    >>> wave = rng.normal(scale=0.1, size=8000 * 10).astype("float32")  # 10 s
    >>> table = predict_timeline(model, wave, sr=8000, window=3.0, hop=1.0)
    >>> len(table), table.columns.tolist()
    (8, ['start', 'end', 'label', 'anger', 'calm'])
    """
    check_positive(window, "window")
    check_positive(hop, "hop")
    check_positive(batch_size, "batch_size", integer=True)
    sr = model_sample_rate(model) if sr is None else check_positive(sr, "sr", integer=True)
    has_proba = hasattr(model, "predict_proba")

    if is_path_like(recording):
        name = os.fspath(recording)
        with open_audio_file(name, sf.SoundFile) as handle:
            if handle.frames <= 0:
                raise ValueError(f"Audio file {name!r} contains no samples.")
            bounds = timeline_windows(handle.frames / handle.samplerate, window=window, hop=hop)
            rows = _classify(
                model, bounds, lambda s, e: _read_window(handle, s, e, sr, name),
                batch_size, has_proba, verbose,
            )
    else:
        wave = check_waveform(recording, index=0, name="recording")
        bounds = timeline_windows(len(wave) / sr, window=window, hop=hop)

        def cut(start: float, end: float) -> np.ndarray:
            first = int(round(start * sr))
            return wave[first : max(first + 1, int(round(end * sr)))]

        rows = _classify(model, bounds, cut, batch_size, has_proba, verbose)
    return rows


def _classify(model, bounds, read, batch_size, has_proba, verbose) -> pd.DataFrame:
    """Predict the windows in batches of ``batch_size``; only one batch is in memory."""
    progress = None
    if verbose:
        from tqdm.auto import tqdm

        progress = tqdm(total=len(bounds), desc="timeline", unit="window")
    labels: list[Any] = []
    probas: list[np.ndarray] = []
    classes = None
    try:
        for first in range(0, len(bounds), batch_size):
            batch = to_object_array([read(s, e) for s, e in bounds[first : first + batch_size]])
            if has_proba:
                proba = np.asarray(model.predict_proba(batch), dtype=np.float64)
                classes = np.asarray(model.classes_)
                probas.append(proba)
                labels.extend(classes[np.argmax(proba, axis=1)].tolist())
            else:
                labels.extend(np.asarray(model.predict(batch)).tolist())
            if progress is not None:
                progress.update(len(batch))
    finally:
        if progress is not None:
            progress.close()
    table = pd.DataFrame({"start": bounds[:, 0], "end": bounds[:, 1], "label": labels})
    if has_proba:
        proba = np.concatenate(probas)
        for j, cls in enumerate(classes.tolist()):
            table[str(cls)] = proba[:, j]
    return table
