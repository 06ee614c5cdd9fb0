"""Users' own corpora: a table of clips (CSV or DataFrame) or one folder per emotion.

The three loaders return the same :class:`~skser.datasets.Corpus` as the named
corpora. Labels are mapped to the canonical emotion names where they are a
known spelling (``angry``, ``Happy``, ``fearful``, ...); ``label_map`` maps the
rest (or drops them, with a warning saying how many clips went). Nothing is
dropped silently: missing files, unknown labels, empty cells and file names a
speaker regex does not match are errors that list what is wrong.
"""

from __future__ import annotations

import csv
import os
import re
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from ._base import make_corpus, resolve_label_map
from ._files import _is_junk

__all__ = ["EMOTION_SYNONYMS", "canonical_emotion", "from_dataframe", "load_csv", "load_folders"]

#: Spellings of each canonical emotion that the generic loaders recognize
#: (compared case-insensitively, with spaces and hyphens read as underscores).
EMOTION_SYNONYMS: dict[str, tuple[str, ...]] = {
    "anger": ("anger", "angry", "ang"),
    "anxiety": ("anxiety", "anxious"),
    "boredom": ("boredom", "bored"),
    "calm": ("calm",),
    "disgust": ("disgust", "disgusted", "dis"),
    "fear": ("fear", "fearful", "afraid"),
    "happiness": ("happiness", "happy", "joy", "hap"),
    "neutral": ("neutral", "neu"),
    "sadness": ("sadness", "sad"),
    "surprise": ("surprise", "surprised", "sur"),
}
_SPELLINGS = {word: emotion for emotion, words in EMOTION_SYNONYMS.items() for word in words}

#: File extensions :func:`load_folders` reads as audio (case-insensitively).
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff")

# How many offending items an error message lists before "and N more".
_SHOWN = 10


def _key(label) -> str:
    return re.sub(r"[\s\-]+", "_", str(label).strip().lower())


def canonical_emotion(label) -> str | None:
    """The canonical emotion a label spells, or ``None`` when it is not a known spelling.

    Examples
    --------
    >>> canonical_emotion("Angry"), canonical_emotion("joy"), canonical_emotion("frustrated")
    ('anger', 'happiness', None)
    """
    return _SPELLINGS.get(_key(label))


def _listing(items, total: int | None = None) -> str:
    """``'a', 'b', ... and 3 more``: the first ten items of a list for an error message."""
    items = list(items)
    total = len(items) if total is None else total
    shown = ", ".join(repr(str(item)) for item in items[:_SHOWN])
    return shown + (f" and {total - _SHOWN} more" if total > _SHOWN else "")


def _map_labels(raw: np.ndarray, label_map, *, where: str) -> np.ndarray:
    """Final labels of ``raw``; ``None`` marks a clip that ``label_map`` drops.

    A user dict is looked up first (exactly, then case-insensitively); a label
    it does not name must be a known spelling of a canonical emotion. A
    built-in map name (``"fser8"``, ``"4class"``) applies after that
    normalization.
    """
    builtin = isinstance(label_map, str)
    user = {} if builtin or label_map is None else resolve_label_map(label_map)
    folded = {_key(k): v for k, v in user.items()}
    out = np.empty(len(raw), dtype=object)
    unknown: dict[str, int] = {}
    for i, label in enumerate(raw):
        if label in user or _key(label) in folded:
            target = user[label] if label in user else folded[_key(label)]
            out[i] = None if target is None else canonical_emotion(target) or str(target)
        elif (emotion := canonical_emotion(label)) is not None:
            out[i] = emotion
        else:
            unknown[str(label)] = unknown.get(str(label), 0) + 1
    if unknown:
        names = sorted(unknown)
        example = names[0]
        raise ValueError(
            f"{where}: {len(names)} label(s) are not emotions skser knows: "
            f"{_listing(names)} ({sum(unknown.values())} clips). Known spellings: "
            + "; ".join(f"{e} ({', '.join(w)})" for e, w in EMOTION_SYNONYMS.items())
            + f". Map the others with label_map, e.g. label_map={{{example!r}: 'anger'}}, or "
            f"to None to drop those clips (label_map={{{example!r}: None}})."
        )
    if builtin:
        mapping = resolve_label_map(label_map)
        out = np.array([mapping.get(label, label) for label in out], dtype=object)
    return out


def _finish(frame: pd.DataFrame, *, label_map, emotions, name, return_X_y, where, description):
    """Map the labels (warning about drops), then build the Corpus like every loader."""
    frame = frame.copy()
    frame["emotion_original"] = frame["emotion"].astype(str)
    frame["emotion"] = _map_labels(frame["emotion"].to_numpy(dtype=object), label_map, where=where)
    dropped = frame["emotion"].isna()
    if dropped.all():
        raise ValueError(f"{where}: label_map drops every clip ({len(frame)}); nothing is left.")
    if dropped.any():
        counts = frame.loc[dropped, "emotion_original"].value_counts().sort_index()
        warnings.warn(
            f"{where}: label_map dropped {int(dropped.sum())} of {len(frame)} clips ("
            + ", ".join(f"{label}: {n}" for label, n in counts.items())
            + ").",
            UserWarning,
            stacklevel=3,
        )
        frame = frame.loc[~dropped]
    return make_corpus(
        frame,
        name=name,
        emotions=emotions,
        return_X_y=return_X_y,
        description=description,
    )


def _no_speakers(frame: pd.DataFrame, where: str, how: str) -> None:
    frame["speaker"] = "unknown"
    warnings.warn(
        f"{where}: no speaker ids ({how}), so every clip gets speaker 'unknown'. "
        "Speaker-independent evaluation needs them: without, skser.evaluate cannot "
        "keep a speaker out of its own training data.",
        UserWarning,
        stacklevel=3,
    )


def _from_table(
    table: pd.DataFrame,
    *,
    path_column,
    label_column,
    speaker_column,
    root,
    label_map,
    emotions,
    name,
    return_X_y,
    where: str,
    first_row: int,
):
    """The shared body of :func:`from_dataframe` and :func:`load_csv`.

    ``first_row`` is the number shown for the table's first row in messages
    (2 for a CSV file: its header is line 1; 0 for a DataFrame).
    """
    table = table.reset_index(drop=True)
    required = {"path_column": path_column, "label_column": label_column}
    if speaker_column is not None:
        required["speaker_column"] = speaker_column
    for option, column in required.items():
        if column not in table.columns:
            raise ValueError(
                f"{where} has no column {column!r} ({option}); its columns are "
                f"{[str(c) for c in table.columns]}. Pass {option}=<the column's name>."
            )
    for standard, column in (("path", path_column), ("emotion", label_column),
                             ("speaker", speaker_column)):  # fmt: skip
        if column is not None and standard in table.columns and column != standard:
            raise ValueError(
                f"{where} has a column {standard!r} but {standard} values are read from "
                f"{column!r}; rename one of the two columns."
            )
    rows = "lines" if first_row == 2 else "rows"
    for column in required.values():
        values = table[column]
        empty = values.isna() | (values.astype(str).str.strip() == "")
        if empty.any():
            numbers = (np.flatnonzero(empty.to_numpy()) + first_row).tolist()
            raise ValueError(
                f"{where}: column {column!r} is empty in {int(empty.sum())} {rows}: "
                f"{_listing(numbers)}. Fill them in or remove those {rows}."
            )
    root = Path(os.path.abspath(Path(root).expanduser()))
    paths = [
        os.path.normpath(p if os.path.isabs(p) else root / p)
        for p in (os.path.expanduser(str(v).strip()) for v in table[path_column])
    ]
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        raise FileNotFoundError(
            f"{where}: {len(missing)} of {len(paths)} listed files do not exist (relative paths "
            f"are resolved against {str(root)!r}; pass root= to change that): "
            f"{_listing(missing)}."
        )
    duplicated = pd.Series(paths).duplicated(keep=False)
    if duplicated.any():
        twice = sorted(set(pd.Series(paths)[duplicated]))
        raise ValueError(
            f"{where}: {len(twice)} files are listed more than once (each would count "
            f"several times): {_listing(twice)}. List every clip once."
        )
    frame = table.drop(columns=list(required.values())).copy()
    frame.insert(0, "path", paths)
    frame.insert(1, "emotion", table[label_column].astype(str).str.strip().to_numpy())
    if speaker_column is None:
        _no_speakers(frame, where, "speaker_column=None")
    else:
        frame.insert(1, "speaker", table[speaker_column].astype(str).str.strip().to_numpy())
    return _finish(
        frame,
        label_map=label_map,
        emotions=emotions,
        name=name,
        return_X_y=return_X_y,
        where=where,
        description=f"User corpus from {where}",
    )


def from_dataframe(
    frame: pd.DataFrame,
    *,
    path_column: str = "path",
    label_column: str = "emotion",
    speaker_column: str | None = "speaker",
    root: str | os.PathLike | None = None,
    label_map=None,
    emotions=None,
    name: str = "custom",
    return_X_y: bool = False,
):
    """Build a corpus from a table with one row per clip: file, emotion, speaker.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per clip. Columns other than the three named ones are kept in
        ``Corpus.frame`` (e.g. ``gender``, ``text``, or ``corpus`` to tell
        several sources apart).
    path_column, label_column, speaker_column : str
        Columns holding the audio file, the emotion label and the speaker id.
        ``speaker_column=None``: no speaker ids (every clip gets ``"unknown"``,
        with a warning; speaker-independent evaluation is then impossible).
    root : str or PathLike, optional
        Folder that relative paths are resolved against (default: the
        current directory).
    label_map : dict, {"fser8", "4class"} or None
        Labels that are not a known spelling of a canonical emotion must be
        mapped here (``{"frustrated": "anger", "other": None}``; ``None``
        drops those clips, with a warning counting them). A value may be a
        canonical emotion (any spelling) or a class name of your own. A
        built-in map name applies after the labels are normalized.
    emotions : sequence of str, optional
        Keep only these emotions (after ``label_map``).
    name : str, default="custom"
        Corpus name (``Corpus.name``, and ``frame["corpus"]`` unless the
        table has its own ``corpus`` column).
    return_X_y : bool, default=False
        Return ``(X, y, groups)`` instead of the corpus.

    Returns
    -------
    Corpus
        ``X`` absolute file paths, ``y`` emotions, ``groups`` speaker ids,
        ``frame`` (``emotion_original`` keeps the label as given).

    Raises
    ------
    FileNotFoundError
        If listed files do not exist (the first ten are named, with a count).
    ValueError
        If a column is missing or has empty cells, a file is listed twice, or
        labels are unknown (listed, with how to map them).

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, pandas as pd, soundfile as sf
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("a.wav", "b.wav"):
    ...     sf.write(root / name, np.zeros(1600), 16000)
    >>> table = pd.DataFrame({"path": ["a.wav", "b.wav"], "emotion": ["Angry", "joy"],
    ...                       "speaker": ["s1", "s2"], "session": [1, 2]})
    >>> corpus = from_dataframe(table, root=root)
    >>> corpus.y.tolist(), corpus.frame["session"].tolist()
    (['anger', 'happiness'], [1, 2])
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"from_dataframe() takes a pandas DataFrame, got {type(frame).__name__}.")
    if len(frame) == 0:
        raise ValueError("from_dataframe(): the frame has no rows.")
    return _from_table(
        frame,
        path_column=path_column,
        label_column=label_column,
        speaker_column=speaker_column,
        root=os.getcwd() if root is None else root,
        label_map=label_map,
        emotions=emotions,
        name=name,
        return_X_y=return_X_y,
        where="the data frame",
        first_row=0,
    )


def _sniff_separator(path: Path) -> str:
    if path.suffix.lower() in (".tsv", ".tab"):
        return "\t"
    with open(path, newline="", encoding="utf-8-sig") as handle:
        sample = handle.read(16384)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:  # one column, or too little text to tell
        return ","


def load_csv(
    path: str | os.PathLike,
    *,
    path_column: str = "path",
    label_column: str = "emotion",
    speaker_column: str | None = "speaker",
    root: str | os.PathLike | None = None,
    label_map=None,
    sep: str | None = None,
    emotions=None,
    name: str | None = None,
    return_X_y: bool = False,
):
    """Load a corpus listed in a CSV (or TSV) file: one row per clip.

    The file needs a header row. Every cell is read as text, so speaker ids
    such as ``007`` keep their zeros. See :func:`from_dataframe` for the
    columns, labels and errors.

    Parameters
    ----------
    path : str or PathLike
        The CSV file.
    path_column, label_column, speaker_column : str
        Columns of the audio file, emotion label and speaker id
        (``speaker_column=None``: none, see :func:`from_dataframe`).
    root : str or PathLike, optional
        Folder that relative paths are resolved against; default: the CSV
        file's own folder.
    label_map : dict, {"fser8", "4class"} or None
        See :func:`from_dataframe`.
    sep : str, optional
        Column separator; default: guessed (``,`` ``;`` tab or ``|``; tab for
        ``.tsv``).
    emotions : sequence of str, optional
        Keep only these emotions (after ``label_map``).
    name : str, optional
        Corpus name; default: the file name without extension.
    return_X_y : bool, default=False
        Return ``(X, y, groups)`` instead of the corpus.

    Returns
    -------
    Corpus

    Raises
    ------
    FileNotFoundError
        If the CSV file or listed audio files do not exist.
    ValueError
        As :func:`from_dataframe` (messages name the file and its line numbers).

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, soundfile as sf
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> sf.write(root / "1.wav", np.zeros(1600), 16000)
    >>> sf.write(root / "2.wav", np.zeros(1600), 16000)
    >>> _ = (root / "labels.csv").write_text("file;mood;who\\n1.wav;sad;007\\n2.wav;Neutral;008\\n")
    >>> corpus = load_csv(root / "labels.csv", path_column="file", label_column="mood",
    ...                   speaker_column="who")
    >>> corpus.name, corpus.y.tolist(), corpus.groups.tolist()
    ('labels', ['sadness', 'neutral'], ['007', '008'])
    """
    csv_path = Path(path).expanduser()
    if not csv_path.is_file():
        raise FileNotFoundError(f"CSV file not found: {str(path)!r}")
    separator = _sniff_separator(csv_path) if sep is None else sep
    table = pd.read_csv(
        csv_path, sep=separator, dtype=str, keep_default_na=False, encoding="utf-8-sig"
    )
    if len(table) == 0:
        raise ValueError(f"CSV file {str(path)!r} lists no clips (only a header, or empty).")
    return _from_table(
        table,
        path_column=path_column,
        label_column=label_column,
        speaker_column=speaker_column,
        root=csv_path.parent if root is None else root,
        label_map=label_map,
        emotions=emotions,
        name=csv_path.stem if name is None else name,
        return_X_y=return_X_y,
        where=f"CSV file {str(path)!r}",
        first_row=2,
    )


def _audio_files(root: Path) -> list[PurePosixPath]:
    """Audio files under ``root`` (any depth, junk skipped), as sorted relative paths."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not _is_junk(d)]
        rel_folder = PurePosixPath(Path(folder).relative_to(root).as_posix())
        found += [
            rel_folder / f
            for f in files
            if not _is_junk(f) and os.path.splitext(f)[1].lower() in AUDIO_EXTENSIONS
        ]
    return sorted(found, key=str)


def _speaker_ids(files, root: Path, speaker, where: str) -> list[str]:
    """Speaker id of every file, by a regex on its name or a callable on its path."""
    if callable(speaker) and not isinstance(speaker, re.Pattern):
        ids = [speaker(root / rel) for rel in files]
        bad = [str(root / rel) for rel, s in zip(files, ids, strict=True) if not s]
        if bad:
            raise ValueError(
                f"{where}: the speaker function returned no id for {len(bad)} of "
                f"{len(files)} files: {_listing(bad)}."
            )
        return [str(s) for s in ids]
    pattern = re.compile(speaker) if isinstance(speaker, str) else speaker
    if not isinstance(pattern, re.Pattern):
        raise TypeError(
            f"speaker must be a regular expression or a callable, got {type(speaker).__name__}."
        )
    group = "speaker" if "speaker" in pattern.groupindex else (1 if pattern.groups else 0)
    ids, bad = [], []
    for rel in files:
        match = pattern.search(rel.name)
        value = match.group(group) if match else None
        if value:
            ids.append(value)
        else:
            bad.append(rel.name)
    if len(bad) == len(files):
        raise ValueError(
            f"{where}: the speaker regex {pattern.pattern!r} matches no file name (e.g. "
            f"{_listing(bad[:3])}). It is searched in the file name; its group 'speaker' "
            "(or its first group, or the whole match) is the speaker id, e.g. "
            "speaker=r'^(\\w+?)_' for 'spk01_take3.wav'."
        )
    if bad:
        raise ValueError(
            f"{where}: the speaker regex {pattern.pattern!r} does not match {len(bad)} of "
            f"{len(files)} file names: {_listing(bad)}. Fix the regex or rename those files."
        )
    return ids


def load_folders(
    root: str | os.PathLike,
    *,
    speaker: str | re.Pattern | Callable[[Path], str] | None = None,
    label_map: Mapping | str | None = None,
    emotions=None,
    name: str | None = None,
    return_X_y: bool = False,
):
    """Load a corpus laid out as one folder per emotion: ``root/<emotion>/<clip>.wav``.

    Folder names are emotion labels, read case-insensitively (``angry``,
    ``Anger``, ``ang``; ``happy``, ``joy``; ``fearful``; ``surprised``, ...;
    see ``EMOTION_SYNONYMS``); clips may sit at any depth below their emotion
    folder. Audio files are ``.wav``, ``.flac``, ``.ogg``, ``.mp3``, ``.aif``
    and ``.aiff`` (hidden files and ``__MACOSX`` are skipped).

    Parameters
    ----------
    root : str or PathLike
        The folder holding the emotion folders.
    speaker : str, compiled regex, callable or None
        How to get each clip's speaker id. A regex is searched in the file
        name; its group named ``speaker``, else its first group, else the
        whole match is the id (``r"^(\\d+)_"`` for ``03_take1.wav``). A
        callable gets the file's full path and returns the id (e.g.
        ``lambda p: p.parent.name`` for ``root/angry/<speaker>/x.wav``).
        ``None``: no speaker ids (every clip ``"unknown"``, with a warning).
    label_map : dict, {"fser8", "4class"} or None
        Maps folder names that are not known emotion spellings (or drops
        them with ``None``, with a warning counting the clips); see
        :func:`from_dataframe`.
    emotions : sequence of str, optional
        Keep only these emotions (after ``label_map``).
    name : str, optional
        Corpus name; default: the folder's name, lower-cased.
    return_X_y : bool, default=False
        Return ``(X, y, groups)`` instead of the corpus.

    Returns
    -------
    Corpus
        ``frame["emotion_original"]`` keeps the folder name.

    Raises
    ------
    FileNotFoundError
        If ``root`` is not a folder.
    ValueError
        If it holds no audio file, holds audio files outside an emotion
        folder, a folder name is not a known emotion (listed with a hint), or
        the speaker regex does not match some file names (listed).

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, soundfile as sf
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for folder, file in [("Angry", "s1_a.wav"), ("happy", "s2_b.wav"), ("Sad", "s1_c.wav")]:
    ...     (root / folder).mkdir(exist_ok=True)
    ...     sf.write(root / folder / file, np.zeros(1600), 16000)
    >>> corpus = load_folders(root, speaker=r"^(s\\d+)_")
    >>> corpus.y.tolist(), corpus.groups.tolist()
    (['anger', 'sadness', 'happiness'], ['s1', 's1', 's2'])
    """
    folder = Path(root).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"folder not found: {str(root)!r} (load_folders needs a folder)")
    folder = Path(os.path.abspath(folder))
    where = f"folder {str(folder)!r}"
    files = _audio_files(folder)
    if not files:
        raise ValueError(
            f"No audio files ({', '.join(AUDIO_EXTENSIONS)}) found under {str(folder)!r}; "
            "expected one folder per emotion, e.g. angry/clip1.wav, happy/clip2.wav."
        )
    loose = [str(folder / rel) for rel in files if len(rel.parts) == 1]
    if loose:
        raise ValueError(
            f"{where}: {len(loose)} audio files lie directly in it, outside an emotion folder: "
            f"{_listing(loose)}. Move each clip into a folder named after its emotion."
        )
    frame = pd.DataFrame(
        {
            "path": [str(folder / rel) for rel in files],
            "emotion": [rel.parts[0] for rel in files],
        }
    )
    if speaker is None:
        _no_speakers(frame, where, "speaker=None")
    else:
        frame.insert(1, "speaker", _speaker_ids(files, folder, speaker, where))
    return _finish(
        frame,
        label_map=label_map,
        emotions=emotions,
        name=folder.name.lower() if name is None else name,
        return_X_y=return_X_y,
        where=where,
        description=f"User corpus from the emotion folders of {str(folder)!r}",
    )
