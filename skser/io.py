"""Saving and loading fitted models: one joblib file with a version envelope.

:func:`save_model` writes ``{"model": ..., versions, date, classes, metadata}``
atomically, so a crash or Ctrl-C during a save never leaves a half-written
file where a good model was. :func:`load_model` checks that the file is such
an envelope and warns when it was written by other library versions.

.. warning::
   joblib files are pickles: **loading one runs code chosen by whoever wrote
   it**. Only load models you created yourself or got from a source you trust.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import sys
import tempfile
import warnings
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import joblib
import numpy as np

__all__ = ["save_model", "load_model", "ModelFileError", "MODEL_FORMAT"]

#: Marker and format version of the envelope written by :func:`save_model`.
MODEL_FORMAT = "skser-model/1"

# The version fields compared on load (envelope key -> installed distribution).
_VERSIONED = {
    "skser_version": "skser",
    "sklearn_version": "scikit-learn",
    "tensorflow_version": "tensorflow",
}

# Magic numbers of files people may pass by mistake, for a helpful error message.
_FOREIGN_MAGIC = (
    (b"RIFF", "a WAV/RIFF audio file"),
    (b"fLaC", "a FLAC audio file"),
    (b"OggS", "an Ogg audio file"),
    (b"ID3", "an MP3 audio file"),
    (b"\x89HDF", "an HDF5 file (a Keras .h5 model? load it with keras.models.load_model)"),
    (b"PK\x03\x04", "a ZIP archive (a .keras model? load it with keras.models.load_model)"),
    (b"\x93NUMPY", "a NumPy .npy array"),
    (b"SQLite format 3", "an SQLite database (an Optuna storage?)"),
    (b"{", "a JSON/text file"),
    (b"[", "a JSON/text file"),
)
# What a joblib file starts with: a pickle (protocol >= 2), or one of joblib's compressors.
_JOBLIB_MAGIC = (
    b"\x80",  # pickle protocol 2+
    b"\x78",  # zlib
    b"\x1f\x8b",  # gzip
    b"BZh",  # bz2
    b"\xfd7zXZ",  # xz
    b"\x5d\x00\x00",  # lzma
    b"\x04\x22\x4d\x18",  # lz4
)


class ModelFileError(ValueError):
    """A file given to :func:`load_model` is not a (readable) skser model file."""


def _installed_version(distribution: str) -> str | None:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def _current_versions() -> dict[str, str | None]:
    """The library versions recorded in (and checked against) a model file."""
    import sklearn

    import skser

    tf = sys.modules.get("tensorflow")
    tf_version = getattr(tf, "__version__", None) or _installed_version("tensorflow")
    return {
        "skser_version": skser.__version__,
        "sklearn_version": sklearn.__version__,
        "tensorflow_version": tf_version,
    }


def _classes_of(model) -> list | None:
    classes = getattr(model, "classes_", None)
    if classes is None:
        return None
    return [c.item() if isinstance(c, np.generic) else c for c in np.asarray(classes).tolist()]


def save_model(model, path, *, metadata: dict | None = None) -> Path:
    """Save a fitted model (any picklable estimator) with version information.

    The file is written to a temporary file in the destination folder, flushed
    to disk (``fsync``) and then moved over ``path`` with ``os.replace``, which
    is atomic: if the save is interrupted, an existing file at ``path`` is left
    untouched and the temporary file is removed.

    Parameters
    ----------
    model : estimator
        Usually a fitted :class:`~sklearn.pipeline.Pipeline`. Keras-based skser
        models pickle their network with them.
    path : str or PathLike
        Destination file (``.joblib`` by convention). Its folder must exist.
    metadata : dict, optional
        Extra information stored with the model (recipe, corpus, ...), read
        back with ``load_model(path, return_metadata=True)``.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    FileNotFoundError
        If the destination folder does not exist.
    TypeError
        If ``metadata`` is not a dict.

    See Also
    --------
    load_model

    Notes
    -----
    The file stores ``{"format", "model", "skser_version", "sklearn_version",
    "tensorflow_version", "python", "platform", "created", "classes",
    "metadata"}`` with joblib. Loading it unpickles Python objects, which can
    run arbitrary code: share model files only with people who trust you,
    and load only files you trust.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.dummy import DummyClassifier
    >>> model = DummyClassifier().fit([[0], [1]], ["anger", "sadness"])
    >>> path = save_model(model, os.path.join(tempfile.mkdtemp(), "model.joblib"),
    ...                   metadata={"recipe": "dummy"})
    >>> loaded, info = load_model(path, return_metadata=True)
    >>> info["classes"], info["metadata"]
    (['anger', 'sadness'], {'recipe': 'dummy'})
    """
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict or None, got {type(metadata).__name__}.")
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"Cannot save model to {str(path)!r}: folder {str(folder)!r} does not exist.")
    if path.is_dir():
        raise IsADirectoryError(f"Cannot save model to {str(path)!r}: it is a directory.")
    envelope = {
        "format": MODEL_FORMAT,
        "model": model,
        **_current_versions(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "classes": _classes_of(model),
        "metadata": dict(metadata or {}),
    }
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            joblib.dump(envelope, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:  # also KeyboardInterrupt: never leave the temporary file behind
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    _fsync_folder(folder)
    return path


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _describe_foreign(head: bytes) -> str | None:
    """What a file is, from its first bytes, when it is clearly not a joblib file."""
    if not head:
        return "an empty file"
    if head.startswith(_JOBLIB_MAGIC):
        return None
    for magic, what in _FOREIGN_MAGIC:
        if head.startswith(magic):
            return what
    return "not a joblib/pickle file"


def load_model(path, *, return_metadata: bool = False, check_versions: bool = True):
    """Load a model saved by :func:`save_model`.

    .. warning::
       A model file is a pickle: loading it **runs code** stored in the file.
       Only load files you created or that come from a source you trust.

    Parameters
    ----------
    path : str or PathLike
        A file written by :func:`save_model`.
    return_metadata : bool, default=False
        Also return the envelope without the model: versions, ``created``,
        ``classes`` and the user ``metadata``.
    check_versions : bool, default=True
        Warn when the file was written with other versions of skser,
        scikit-learn or TensorFlow than the running ones.

    Returns
    -------
    model : estimator
        The saved model.
    info : dict
        Only with ``return_metadata=True``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ModelFileError
        A ``ValueError`` subclass: the file is empty, truncated or corrupt, is
        not a joblib file (the message says what it looks like: audio, a Keras
        file, JSON, ...), or is a joblib file not written by :func:`save_model`
        (the message names the object it holds).

    Warns
    -----
    UserWarning
        When versions differ; predictions may differ or fail, so re-train or
        pin the versions named in the warning.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.dummy import DummyClassifier
    >>> path = os.path.join(tempfile.mkdtemp(), "model.joblib")
    >>> _ = save_model(DummyClassifier().fit([[0], [1]], [0, 1]), path)
    >>> load_model(path).predict([[0]]).shape
    (1,)
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Model file not found: {str(path)!r}")
    if path.is_dir():
        raise ModelFileError(f"Expected a model file, got a directory: {str(path)!r}")
    with open(path, "rb") as handle:
        head = handle.read(16)
    foreign = _describe_foreign(head)
    if foreign is not None:
        raise ModelFileError(
            f"{str(path)!r} is not a skser model file: it looks like {foreign}. "
            "Model files are written by skser.save_model / `skser train`."
        )
    try:
        envelope = joblib.load(path)
    except ModuleNotFoundError as exc:
        raise ModelFileError(
            f"Cannot load model {str(path)!r}: it needs the module {exc.name!r}, which is not "
            "installed."
        ) from exc
    except Exception as exc:  # unpickling errors come in many types
        raise ModelFileError(
            f"Cannot load model {str(path)!r}: the file is corrupt or truncated "
            f"({type(exc).__name__}: {exc})."
        ) from exc
    if not (isinstance(envelope, dict) and envelope.get("format") == MODEL_FORMAT):
        what = type(envelope)
        if isinstance(envelope, dict) and "model" in envelope:
            detail = f"a dict with keys {sorted(map(str, envelope))} and an unknown format"
        else:
            detail = f"a {what.__module__}.{what.__qualname__} object"
        raise ModelFileError(
            f"{str(path)!r} is a joblib file but not a skser model file: it holds {detail}, "
            "without the envelope written by skser.save_model. If you trust it, load it with "
            "joblib.load, or re-save the estimator with skser.save_model."
        )
    if check_versions:
        _warn_versions(envelope, path)
    if return_metadata:
        info = {key: value for key, value in envelope.items() if key != "model"}
        return envelope["model"], info
    return envelope["model"]


def _warn_versions(envelope: dict[str, Any], path: Path) -> None:
    running = _current_versions()
    differences = []
    for key, distribution in _VERSIONED.items():
        saved, now = envelope.get(key), running.get(key)
        if saved is None:  # e.g. saved where TensorFlow was not installed
            continue
        if saved != now:
            differences.append(f"{distribution} {saved} (running {now or 'not installed'})")
    if differences:
        warnings.warn(
            f"Model {str(path)!r} was saved with " + ", ".join(differences) + ". It may "
            "predict differently or fail; re-train it or install those versions.",
            UserWarning,
            stacklevel=3,
        )
