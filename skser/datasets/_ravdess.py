"""RAVDESS loader (audio-only speech)."""

from __future__ import annotations

import re
import warnings
from pathlib import PurePosixPath

from ._base import make_corpus
from ._files import read_corpus_tree

SOURCE = "https://zenodo.org/records/1188976 (Audio_Speech_Actors_01-24.zip)"

EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happiness",
    "04": "sadness",
    "05": "anger",
    "06": "fear",
    "07": "disgust",
    "08": "surprise",
}
INTENSITIES = {"01": "normal", "02": "strong"}
STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}
VOCAL_CHANNELS = {"01": "speech", "02": "song"}
_ACTOR_FOLDER = re.compile(r"actor_(\d+)", re.IGNORECASE | re.ASCII)


def _field(value: str, table: dict, what: str) -> str:
    if value not in table:
        raise ValueError(f"{what} code {value!r} is not one of {sorted(table)}")
    return table[value]


def parse_ravdess(rel: PurePosixPath) -> dict:
    """Fields of one RAVDESS file, from ``MM-VV-EE-II-SS-RR-AA.<ext>``."""
    parts = rel.stem.split("-")
    if len(parts) != 7 or not all(len(p) == 2 and p.isascii() and p.isdigit() for p in parts):
        raise ValueError("expected seven two-digit fields MM-VV-EE-II-SS-RR-AA")
    modality, channel, emotion, intensity, statement, repetition, actor = parts
    if modality != "03":
        raise ValueError(f"modality {modality!r} is not 03 (audio-only)")
    if repetition not in ("01", "02"):
        raise ValueError(f"repetition {repetition!r} is not 01 or 02")
    if not 1 <= int(actor) <= 24:
        raise ValueError(f"actor {actor!r} is not in 01..24")
    folder = _ACTOR_FOLDER.fullmatch(rel.parent.name)
    if folder and int(folder.group(1)) != int(actor):
        raise ValueError(f"actor {actor} in the name but the folder is {rel.parent.name!r}")
    return {
        "speaker": actor,
        "gender": "male" if int(actor) % 2 else "female",
        "emotion": _field(emotion, EMOTIONS, "emotion"),
        "intensity": _field(intensity, INTENSITIES, "intensity"),
        "statement": statement,
        "text": _field(statement, STATEMENTS, "statement"),
        "language": "English",
        "repetition": int(repetition),
        "vocal_channel": _field(channel, VOCAL_CHANNELS, "vocal channel"),
        "emotion_code": emotion,
    }


def load_ravdess(path, *, emotions=None, label_map=None, return_X_y=False):
    """Load the speech part of RAVDESS.

    The Ryerson Audio-Visual Database of Emotional Speech and Song: 24
    professional actors (12 male, 12 female; North American English) say two
    statements in 8 emotions. The audio-only speech set has 1440 clips, 60
    per actor.

    - Source: https://zenodo.org/records/1188976 (``Audio_Speech_Actors_01-24.zip``).
    - Licence: CC BY-NC-SA 4.0.
    - Layout: ``Actor_XX/MM-VV-EE-II-SS-RR-AA.wav`` (``.flac`` is read too;
      any folder depth). Fields: modality (03 audio-only), vocal channel
      (01 speech, 02 song), emotion (01 neutral, 02 calm, 03 happy, 04 sad,
      05 angry, 06 fearful, 07 disgust, 08 surprised), intensity (01 normal,
      02 strong), statement (01 "Kids are talking by the door", 02 "Dogs are
      sitting by the door"), repetition (01, 02), actor (01-24; odd = male).
    - Citation: Livingstone, S. R. & Russo, F. A. (2018). The Ryerson
      Audio-Visual Database of Emotional Speech and Song (RAVDESS). PLoS ONE
      13(5): e0196391. https://doi.org/10.1371/journal.pone.0196391

    Song clips (vocal channel 02, from ``Audio_Song_Actors_01-24.zip``) are a
    different task (sung, six emotions): when the folder holds some, they are
    left out with a ``UserWarning`` that counts them. Keep them in a separate
    folder to avoid the warning.

    Parameters
    ----------
    path : str or PathLike
        The folder holding the ``Actor_XX`` folders.
    emotions : sequence of str, optional
        Keep only these emotions (after ``label_map``).
    label_map : {"fser8", "4class"}, dict or None
        Relabel emotions; see :data:`skser.datasets.LABEL_MAPS`.
    return_X_y : bool, default=False
        Return ``(X, y, groups)`` instead of a :class:`~skser.datasets.Corpus`.

    Returns
    -------
    corpus : Corpus
        ``X`` file paths of shape (n_clips,), ``y`` emotions, ``groups`` actor
        ids (``"01"``..``"24"``), ``frame`` with gender, intensity
        (normal/strong), statement (``"01"``/``"02"``) and its text,
        repetition, vocal_channel, emotion_code. Or ``(X, y, groups)``.

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a folder.
    ValueError
        If a file name does not follow the scheme (the message names it).

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, soundfile as sf
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "Actor_01").mkdir()
    >>> sf.write(root / "Actor_01" / "03-01-05-02-01-01-01.wav", np.zeros(160), 16000)
    >>> corpus = load_ravdess(root)
    >>> corpus.frame[["speaker", "gender", "emotion", "intensity"]].iloc[0].tolist()
    ['01', 'male', 'anger', 'strong']
    """
    frame = read_corpus_tree(path, parse_ravdess, name="RAVDESS", source=SOURCE)
    song = frame["vocal_channel"] == "song"
    if song.all():
        raise ValueError(
            f"RAVDESS folder {str(path)!r} holds only song clips (vocal channel 02); "
            "load_ravdess reads the speech set (Audio_Speech_Actors_01-24.zip)."
        )
    if song.any():
        warnings.warn(
            f"RAVDESS: left out {int(song.sum())} song clips (vocal channel 02); only speech "
            "is loaded.",
            UserWarning,
            stacklevel=2,
        )
        frame = frame.loc[~song]
    return make_corpus(
        frame,
        name="ravdess",
        emotions=emotions,
        label_map=label_map,
        return_X_y=return_X_y,
        description="RAVDESS audio-only speech (Livingstone & Russo, 2018)",
    )
