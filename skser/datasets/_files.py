"""The shared walker of the corpus loaders: list audio files, parse their names, build a frame.

Each loader supplies one function that parses a single file's path (relative to
the corpus folder) into a dict of fields, and raises ``ValueError`` when the name
does not follow the corpus's scheme; :func:`read_corpus_tree` does the rest.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import pandas as pd

from ._base import missing_corpus_error

#: Extensions read as audio (compared case-insensitively). Any other file
#: (labels, text, csv, video, mp3) is not a clip of these corpora and is ignored.
AUDIO_SUFFIXES = (".wav", ".flac")


def _is_junk(name: str) -> bool:
    # Hidden files and folders, macOS resource forks ("._x.wav") and the
    # "__MACOSX" folder that many zip archives carry: never audio.
    return name.startswith(".") or name == "__MACOSX"


def find_subfolder(root: Path, name: str) -> Path | None:
    """Return ``root/<name>`` matched case-insensitively, or ``None``."""
    for child in sorted(root.iterdir()):
        if child.is_dir() and child.name.lower() == name.lower():
            return child
    return None


def list_audio_files(root: str | os.PathLike) -> list[PurePosixPath]:
    """Every ``.wav``/``.flac`` file under ``root`` (any depth), as sorted relative paths.

    Extensions match case-insensitively; hidden files and folders and
    ``__MACOSX`` are skipped. The order is the sorted POSIX relative path, the
    same on every platform and file system.
    """
    root = Path(root)
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not _is_junk(d)]
        rel_folder = PurePosixPath(Path(folder).relative_to(root).as_posix())
        for name in files:
            if not _is_junk(name) and os.path.splitext(name)[1].lower() in AUDIO_SUFFIXES:
                found.append(rel_folder / name)
    return sorted(found, key=str)


def read_corpus_tree(
    path: str | os.PathLike,
    parse: Callable[[PurePosixPath], dict],
    *,
    name: str,
    source: str,
    subfolder: str | None = None,
) -> pd.DataFrame:
    """Walk a corpus folder and parse every audio file name.

    Parameters
    ----------
    path : str or PathLike
        The corpus folder given by the user.
    parse : callable
        ``parse(relative_path) -> dict`` of fields (at least ``speaker`` and
        ``emotion``; optionally ``_id``, the clip's identity within its speaker
        when the file stem is not); raises ``ValueError`` saying what is wrong
        with the name.
    name : str
        Corpus name for messages (``"RAVDESS"``).
    source : str
        Where to download the corpus (for the missing-folder error).
    subfolder : str, optional
        The audio folder of the official download (``"wav"`` for EmoDB): used
        when ``path`` contains it, so either folder may be passed.

    Returns
    -------
    frame : DataFrame
        One row per file: ``path`` (absolute) followed by the parsed fields.

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a folder.
    ValueError
        If no audio file is found, a file name does not follow the scheme
        (the message names the file), or one clip is present twice.
    """
    root = Path(path).expanduser()
    if not root.is_dir():
        raise missing_corpus_error(name, path, source)
    if subfolder is not None:
        root = find_subfolder(root, subfolder) or root
    root = Path(os.path.abspath(root))
    files = list_audio_files(root)
    if not files:
        raise ValueError(
            f"No audio files (.wav or .flac) found under {str(root)!r}; is this the {name} "
            f"folder? Get the corpus from {source}."
        )
    rows = []
    for rel in files:
        full = root / rel
        try:
            fields = parse(rel)
        except ValueError as exc:
            raise ValueError(
                f"{name}: file {str(full)!r} does not follow the {name} naming scheme: {exc}"
            ) from None
        # Clip identity for the duplicate check: the file stem, unless the
        # parser says otherwise (SAVEE's two layouts name one clip two ways).
        key = fields.pop("_id", rel.stem.lower())
        rows.append({"path": str(full), **fields, "_key": key})
    frame = pd.DataFrame(rows)
    _check_unique(frame, name)
    return frame.drop(columns="_key")


def _check_unique(frame: pd.DataFrame, name: str) -> None:
    # The same clip twice (a nested second copy of the corpus, or both a .wav
    # and a .flac of it) would silently double its weight: refuse.
    dup = frame.duplicated(subset=["speaker", "_key"], keep=False)
    if dup.any():
        first = frame.loc[dup].sort_values(["speaker", "_key"]).head(2)["path"].tolist()
        raise ValueError(
            f"{name}: the folder holds the same clip more than once, e.g. {first[0]!r} and "
            f"{first[1]!r} ({int(dup.sum())} files involved). Pass a folder with a single "
            "copy of the corpus."
        )
