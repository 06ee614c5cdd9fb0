"""CREMA-D loader (Crowd-sourced Emotional Multimodal Actors Dataset)."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

import pandas as pd

from ._base import make_corpus
from ._files import find_subfolder, read_corpus_tree

SOURCE = "https://github.com/CheyneyComputerScience/CREMA-D (AudioWAV)"

SENTENCES = {
    "IEO": "It's eleven o'clock",
    "TIE": "That is exactly what happened",
    "IOM": "I'm on my way to the meeting",
    "IWW": "I wonder what this is about",
    "TAI": "The airplane is almost full",
    "MTI": "Maybe tomorrow it will be cold",
    "IWL": "I would like a new alarm clock",
    "ITH": "I think I have a doctor's appointment",
    "DFA": "Don't forget a jacket",
    "ITS": "I think I've seen this before",
    "TSI": "The surface is slick",
    "WSI": "We'll stop in a couple of minutes",
}
EMOTIONS = {
    "ANG": "anger",
    "DIS": "disgust",
    "FEA": "fear",
    "HAP": "happiness",
    "NEU": "neutral",
    "SAD": "sadness",
}
INTENSITIES = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified"}
DEMOGRAPHICS = "VideoDemographics.csv"
_NAME = re.compile(r"(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})", re.ASCII)


def parse_cremad(rel: PurePosixPath) -> dict:
    """Fields of one CREMA-D file, from ``<actor>_<sentence>_<emotion>_<level>.<ext>``."""
    match = _NAME.fullmatch(rel.stem)
    if match is None:
        raise ValueError("expected <actor>_<sentence>_<emotion>_<level>, e.g. '1001_DFA_ANG_XX'")
    actor, sentence, emotion, level = match.groups()
    if not 1001 <= int(actor) <= 1091:
        raise ValueError(f"actor {actor!r} is not in 1001..1091")
    for value, table, what in (
        (sentence, SENTENCES, "sentence"),
        (emotion, EMOTIONS, "emotion"),
        (level, INTENSITIES, "intensity"),
    ):
        if value not in table:
            raise ValueError(f"{what} code {value!r} is not one of {sorted(table)}")
    return {
        "speaker": actor,
        "emotion": EMOTIONS[emotion],
        "intensity": INTENSITIES[level],
        "statement": sentence,
        "text": SENTENCES[sentence],
        "language": "English",
        "emotion_code": emotion,
    }


def _demographics(path: Path) -> pd.DataFrame | None:
    """The official ``VideoDemographics.csv`` next to or above the audio, if present."""
    for folder in (path, path.parent):
        csv = folder / DEMOGRAPHICS
        if csv.is_file():
            table = pd.read_csv(csv, dtype={"ActorID": str})
            missing = {"ActorID", "Age", "Sex"} - set(table.columns)
            if missing:
                raise ValueError(f"{csv} lacks the columns {sorted(missing)}.")
            return table.set_index("ActorID")
    return None


def load_cremad(path, *, emotions=None, label_map=None, return_X_y=False):
    """Load the audio of CREMA-D.

    91 actors (48 male, 43 female; ages 20-74; varied races and
    ethnicities; English) say 12 sentences in six emotions, one sentence
    at three intensities: 7442 clips.

    - Source: https://github.com/CheyneyComputerScience/CREMA-D (``AudioWAV``,
      stored with Git LFS).
    - Licence: Open Database License (ODbL 1.0), contents under the Database
      Contents License (DbCL 1.0).
    - Layout: ``AudioWAV/1001_DFA_ANG_XX.wav`` (``.flac`` is read too): actor
      1001-1091, sentence (IEO "It's eleven o'clock", TIE "That is exactly
      what happened", IOM "I'm on my way to the meeting", IWW "I wonder what
      this is about", TAI "The airplane is almost full", MTI "Maybe tomorrow
      it will be cold", IWL "I would like a new alarm clock", ITH "I think I
      have a doctor's appointment", DFA "Don't forget a jacket", ITS "I think
      I've seen this before", TSI "The surface is slick", WSI "We'll stop in a
      couple of minutes"), emotion (ANG anger, DIS disgust, FEA fear, HAP
      happiness, NEU neutral, SAD sadness), intensity (LO low, MD medium,
      HI high, XX unspecified). Either the repository folder (holding
      ``AudioWAV``) or ``AudioWAV`` itself may be passed.
    - Speaker gender and age come from the official ``VideoDemographics.csv``
      when it lies in the given folder or the one above ``AudioWAV``;
      otherwise they are left missing (``None``).
    - Citation: Cao, H., Cooper, D. G., Keutmann, M. K., Gur, R. C., Nenkova,
      A. & Verma, R. (2014). CREMA-D: Crowd-sourced Emotional Multimodal
      Actors Dataset. IEEE Transactions on Affective Computing 5(4), 377-390.

    Parameters
    ----------
    path : str or PathLike
        The repository folder or its ``AudioWAV`` folder.
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
        ids (``"1001"`` ...), ``frame`` with gender and age (when known),
        intensity, statement (sentence code), text, emotion_code. Or
        ``(X, y, groups)``.

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
    >>> (root / "AudioWAV").mkdir()
    >>> sf.write(root / "AudioWAV" / "1001_DFA_ANG_XX.wav", np.zeros(160), 16000)
    >>> load_cremad(root).frame[["speaker", "emotion", "intensity", "gender"]].iloc[0].tolist()
    ['1001', 'anger', 'unspecified', None]
    """
    frame = read_corpus_tree(
        path, parse_cremad, name="CREMA-D", source=SOURCE, subfolder="AudioWAV"
    )
    given = Path(path).expanduser()
    table = _demographics(find_subfolder(given, "AudioWAV") or given)
    if table is not None:
        info = table.reindex(frame["speaker"])  # actors absent from the csv: missing
        frame["gender"] = [sex.lower() if isinstance(sex, str) else None for sex in info["Sex"]]
        frame["age"] = [int(age) if pd.notna(age) else None for age in info["Age"]]
    return make_corpus(
        frame,
        name="cremad",
        emotions=emotions,
        label_map=label_map,
        return_X_y=return_X_y,
        description="CREMA-D audio (Cao et al., 2014)",
    )
