"""Finding YAMNet weight files, recognising their format, reading the class map.

skser never downloads anything: the user fetches the weights once from the
official addresses below and points ``weights=`` (or ``SKSER_YAMNET``) at them.
"""

from __future__ import annotations

import csv
import hashlib
import os
from pathlib import Path

#: Keras weights of the TensorFlow model garden (``research/audioset/yamnet``).
YAMNET_H5_URL = "https://storage.googleapis.com/audioset/yamnet.h5"
#: The TFLite export (scores + log-mel patch outputs) on Kaggle Models / TF Hub.
YAMNET_TFLITE_URL = "https://www.kaggle.com/models/google/yamnet/tfLite"
YAMNET_CLASS_MAP_URL = (
    "https://raw.githubusercontent.com/tensorflow/models/master/"
    "research/audioset/yamnet/yamnet_class_map.csv"
)
#: sha256 of the TFLite export skser is tested against (input [1, 15600], float32).
YAMNET_TFLITE_SHA256 = "469be6a3421cbc52cf97e9f2f966cba984198e8e7af9854d68b3e3ebb1e04194"

ENV_VAR = "SKSER_YAMNET"
CLASS_MAP_NAME = "yamnet_class_map.csv"
_TFLITE_MAGIC = b"TFL3"  # flatbuffer file identifier, bytes 4..8
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def default_weights_path() -> Path:
    """``$SKSER_YAMNET`` if set, else ``~/skser_data/models/yamnet.tflite``."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return Path("~/skser_data/models/yamnet.tflite").expanduser()


def download_hint() -> str:
    """Where to get the weights, for error messages."""
    return (
        "Download the pretrained YAMNet weights (Apache-2.0) once, then pass weights=<path> "
        f"or set the {ENV_VAR} environment variable:\n"
        f"  - Keras weights (model garden): {YAMNET_H5_URL}\n"
        f"  - TFLite export: {YAMNET_TFLITE_URL} (the tested yamnet.tflite has sha256 "
        f"{YAMNET_TFLITE_SHA256})\n"
        f"  - class names (optional, next to the weights): {YAMNET_CLASS_MAP_URL}\n"
        "skser never downloads them itself."
    )


def resolve_yamnet_weights(weights: str | os.PathLike | None = None) -> Path:
    """Return the path of an existing YAMNet weights file.

    Parameters
    ----------
    weights : str, path-like or None
        ``yamnet.tflite`` or ``yamnet.h5``; ``None`` means :func:`default_weights_path`.

    Raises
    ------
    FileNotFoundError
        With the official download addresses when the file does not exist.
    ValueError
        If the path is a directory or the file is neither TFLite nor HDF5.
    """
    path = default_weights_path() if weights is None else Path(os.fspath(weights)).expanduser()
    where = "the default location" if weights is None else "weights="
    if not path.exists():
        raise FileNotFoundError(
            f"YAMNet weights not found at {str(path)!r} ({where}).\n{download_hint()}"
        )
    if path.is_dir():
        raise ValueError(f"weights must be a YAMNet weights file, got a directory: {str(path)!r}.")
    sniff_weights_format(path)
    return path


def sniff_weights_format(path: str | os.PathLike) -> str:
    """Return ``"tflite"`` or ``"h5"`` from the file's magic bytes.

    Raises
    ------
    ValueError
        If the file is neither a TFLite flatbuffer nor an HDF5 file.
    """
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head[4:8] == _TFLITE_MAGIC:
        return "tflite"
    if head == _HDF5_MAGIC:
        return "h5"
    raise ValueError(
        f"{os.fspath(path)!r} is not a YAMNet weights file: expected a TFLite model "
        f"(yamnet.tflite) or Keras HDF5 weights (yamnet.h5).\n{download_hint()}"
    )


def file_sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a file (identifies the weights in caches)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def yamnet_class_names(weights: str | os.PathLike | None = None) -> list[str]:
    """The 521 AudioSet class names in YAMNet's output order.

    Parameters
    ----------
    weights : str, path-like or None
        A ``yamnet_class_map.csv`` file, or a weights file (or ``None`` for the
        default weights) next to which ``yamnet_class_map.csv`` lies.

    Returns
    -------
    list of str, length 521
        ``names[0] == "Speech"``.

    Raises
    ------
    FileNotFoundError
        If the class map is absent, with its download address.
    ValueError
        If the file is not a 521-row class map.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "yamnet_class_map.csv")
    >>> rows = ["index,mid,display_name"] + [f"{i},/m/{i},class {i}" for i in range(521)]
    >>> _ = open(path, "w").write("\\n".join(rows))
    >>> yamnet_class_names(path)[:2]
    ['class 0', 'class 1']
    """
    if weights is not None and os.fspath(weights).lower().endswith(".csv"):
        csv_path = Path(os.fspath(weights))
    else:
        base = default_weights_path() if weights is None else Path(os.fspath(weights))
        csv_path = base.expanduser().parent / CLASS_MAP_NAME
    if not csv_path.is_file():
        raise FileNotFoundError(
            f"YAMNet class map not found at {str(csv_path)!r}; download it from "
            f"{YAMNET_CLASS_MAP_URL} and put it next to the weights."
        )
    with open(csv_path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if not rows or [c.strip() for c in rows[0][:3]] != ["index", "mid", "display_name"]:
        raise ValueError(
            f"{str(csv_path)!r} is not a YAMNet class map (header index,mid,display_name)."
        )
    names = [row[2] for row in rows[1:] if row]
    if len(names) != 521:
        raise ValueError(f"{str(csv_path)!r} lists {len(names)} classes, expected 521.")
    return names
