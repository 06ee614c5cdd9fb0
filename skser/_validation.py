"""Input validation shared by every skser step (the data contract in one place)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np


def is_path_like(obj: Any) -> bool:
    """True for ``str`` and ``os.PathLike`` objects (file paths)."""
    return isinstance(obj, (str, os.PathLike))


def check_clip_sequence(X: Any, *, name: str = "X") -> list[Any]:
    """Turn ``X`` into a list of clips (paths or 1-D arrays), without loading anything.

    Accepts a list/tuple/pandas Series of paths or 1-D arrays, a 1-D object array,
    or a 2-D numeric array ``(n_clips, n_samples)`` (one clip per row).

    Raises
    ------
    ValueError
        If ``X`` is empty, is a single path or a single 1-D numeric clip, or has
        more than two dimensions.
    """
    if is_path_like(X):
        raise ValueError(
            f"{name} must be a sequence of clips, got a single path {str(X)!r}; wrap it in a list."
        )
    if hasattr(X, "to_numpy") and not isinstance(X, np.ndarray):  # pandas Series / Index
        X = X.to_numpy()
    if isinstance(X, np.ndarray):
        if X.dtype == object or X.dtype.kind in "US":
            if X.ndim != 1:
                raise ValueError(f"{name} of paths/clips must be 1-D, got shape {X.shape}.")
            clips = list(X)
        elif X.ndim == 2:
            clips = list(X)
        elif X.ndim == 1:
            raise ValueError(
                f"{name} is a single 1-D numeric array of shape {X.shape}; pass a list of clips "
                f"([clip]) or a 2-D array (n_clips, n_samples)."
            )
        else:
            raise ValueError(
                f"{name} must be a sequence of 1-D clips or a 2-D array (n_clips, n_samples); "
                f"got an array of shape {X.shape}."
            )
    elif isinstance(X, Sequence) or hasattr(X, "__iter__"):
        clips = list(X)
    else:
        raise TypeError(f"{name} must be a sequence of clips, got {type(X).__name__}.")
    if len(clips) == 0:
        raise ValueError(f"{name} is empty: at least one clip is required.")
    return clips


def check_waveform(wave: Any, *, index: int | str = "?", name: str = "X") -> np.ndarray:
    """Validate one in-memory clip and return it as a 1-D float32 array.

    Integer PCM is scaled to [-1, 1] (int16 by 32768, int32 by 2**31, uint8 is
    offset by 128 then scaled by 128).

    Raises
    ------
    ValueError
        Naming ``name[index]`` when the clip is not 1-D, is empty, or holds NaN/inf.
    """
    arr = np.asarray(wave)
    where = f"{name}[{index}]"
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise ValueError(f"{where} is not numeric audio (dtype {arr.dtype}).")
    if arr.ndim != 1:
        raise ValueError(
            f"{where} must be a 1-D waveform, got shape {arr.shape}; "
            "down-mix multichannel audio to mono first (AudioLoader does this)."
        )
    if arr.size == 0:
        raise ValueError(f"{where} is an empty waveform (0 samples).")
    arr = pcm_to_float32(arr)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{where} contains NaN or infinite samples.")
    return arr


def pcm_to_float32(arr: np.ndarray) -> np.ndarray:
    """Convert integer PCM or float samples to float32 in the usual [-1, 1] scale."""
    kind = arr.dtype.kind
    if kind == "f":
        return arr.astype(np.float32, copy=False)
    if kind == "b":
        return arr.astype(np.float32)
    if kind == "u":
        half = float(2 ** (8 * arr.dtype.itemsize - 1))
        return ((arr.astype(np.float64) - half) / half).astype(np.float32)
    scale = float(2 ** (8 * arr.dtype.itemsize - 1))
    return (arr.astype(np.float64) / scale).astype(np.float32)


def check_positive(value: Any, name: str, *, integer: bool = False, allow_none: bool = False):
    """Raise a ValueError naming ``name`` unless ``value`` is a positive number."""
    if value is None and allow_none:
        return value
    kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, kinds) or not value > 0:
        what = "a positive integer" if integer else "a positive number"
        raise ValueError(f"{name} must be {what}, got {value!r}.")
    return value


def check_option(value: Any, name: str, options: Sequence[Any]) -> Any:
    """Raise a ValueError naming ``name`` unless ``value`` is one of ``options``."""
    if value not in options:
        raise ValueError(f"{name} must be one of {list(options)}, got {value!r}.")
    return value


def to_object_array(waves: Sequence[Any]) -> np.ndarray:
    """Pack clips (ragged or not) into a 1-D object array; ``np.array`` would fail or stack them."""
    out = np.empty(len(waves), dtype=object)
    for i, wave in enumerate(waves):
        out[i] = wave
    return out
