"""TESS loader (Toronto emotional speech set)."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from ._base import make_corpus
from ._files import read_corpus_tree

SOURCE = "https://doi.org/10.5683/SP2/E8H2MF (Borealis / Scholars Portal Dataverse)"

# Emotion words of folder and file names, lower-cased; "ps" is the file code of
# pleasant surprise, whose folder is spelled several ways in the copies around.
EMOTIONS = {
    "angry": "anger",
    "disgust": "disgust",
    "fear": "fear",
    "happy": "happiness",
    "neutral": "neutral",
    "sad": "sadness",
    "ps": "surprise",
    "pleasant_surprise": "surprise",
    "pleasant_surprised": "surprise",
}
AGES = {"OAF": 64, "YAF": 26}
_FOLDER = re.compile(r"(oaf|yaf)[_ ](.+)", re.IGNORECASE | re.ASCII)


def _emotion_word(word: str) -> str | None:
    return EMOTIONS.get(word.lower().replace(" ", "_"))


def parse_tess(rel: PurePosixPath) -> dict:
    """Fields of one TESS file, from ``<SPK>_<emotion>/<SPK>_<word>_<emotion>.<ext>``.

    The folder is the reliable source of speaker and emotion (one file of the
    corpus is named ``OA_bite_neutral``; capitalization varies); the file
    name must not contradict it. Without such a folder the name alone is used.
    """
    parts = rel.stem.split("_")
    if len(parts) < 3:
        raise ValueError("expected <speaker>_<word>_<emotion>, e.g. 'OAF_back_angry'")
    file_speaker, word, file_code = parts[0].upper(), "_".join(parts[1:-1]), parts[-1]
    file_emotion = _emotion_word(file_code)
    folder = _FOLDER.fullmatch(rel.parent.name)
    if folder is not None and _emotion_word(folder.group(2)) is not None:
        speaker, emotion = folder.group(1).upper(), _emotion_word(folder.group(2))
        if file_speaker in AGES and file_speaker != speaker:
            raise ValueError(f"speaker {file_speaker} in the name but the folder is {speaker}")
        if file_emotion is not None and file_emotion != emotion:
            raise ValueError(
                f"emotion {file_code!r} in the name but the folder {rel.parent.name!r} says "
                f"{emotion}"
            )
    else:
        if file_speaker not in AGES:
            raise ValueError(f"speaker {parts[0]!r} is not OAF or YAF")
        if file_emotion is None:
            raise ValueError(f"emotion {file_code!r} is not one of {sorted(EMOTIONS)}")
        speaker, emotion = file_speaker, file_emotion
    if not word:
        raise ValueError("the target word is empty")
    return {
        "speaker": speaker,
        "gender": "female",
        "emotion": emotion,
        "statement": word.lower(),
        "text": f"Say the word {word.lower()}",
        "language": "English",
        "age": AGES[speaker],
        "emotion_code": file_code.lower(),
    }


def load_tess(path, *, emotions=None, label_map=None, return_X_y=False):
    """Load TESS, the Toronto emotional speech set.

    Two actresses (``OAF`` aged 64, ``YAF`` aged 26; Canadian English) say
    200 target words in the carrier phrase "Say the word _" in 7 emotions:
    2800 clips.

    - Source: https://doi.org/10.5683/SP2/E8H2MF (University of Toronto,
      Borealis / Scholars Portal Dataverse).
    - Licence: CC BY-NC-ND 4.0.
    - Layout: ``<SPK>_<emotion>/<SPK>_<word>_<emotion>.wav`` (``.flac`` is
      read too; any depth), e.g. ``OAF_angry/OAF_back_angry.wav``. Emotions:
      angry, disgust, fear, happy, neutral, sad, and pleasant surprise
      (``ps`` in file names; its folder is ``*_pleasant_surprise``,
      ``*_Pleasant_surprise`` or ``*_pleasant_surprised`` depending on the
      copy), mapped to anger, disgust, fear, happiness, neutral, sadness,
      surprise. Speaker and emotion come from the folder (capitalization
      ignored), which is reliable where file names are not (the corpus has
      ``OA_bite_neutral``); a file name that contradicts its folder is an
      error. Flat copies without those folders are read from the names.
    - Citation: Pichora-Fuller, M. K. & Dupuis, K. (2020). Toronto emotional
      speech set (TESS). Borealis. https://doi.org/10.5683/SP2/E8H2MF

    Parameters
    ----------
    path : str or PathLike
        The folder holding the 14 ``OAF_*``/``YAF_*`` folders.
    emotions : sequence of str, optional
        Keep only these emotions (after ``label_map``).
    label_map : {"fser8", "4class"}, dict or None
        Relabel emotions; see :data:`skser.datasets.LABEL_MAPS`.
    return_X_y : bool, default=False
        Return ``(X, y, groups)`` instead of a :class:`~skser.datasets.Corpus`.

    Returns
    -------
    corpus : Corpus
        ``X`` file paths of shape (n_clips,), ``y`` emotions, ``groups``
        ``"OAF"``/``"YAF"``, ``frame`` with gender, age, statement (the target
        word), text ("Say the word <word>"), emotion_code. Or ``(X, y, groups)``.

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
    >>> (root / "YAF_pleasant_surprise").mkdir()
    >>> sf.write(root / "YAF_pleasant_surprise" / "YAF_back_ps.wav", np.zeros(160), 16000)
    >>> load_tess(root).frame[["speaker", "emotion", "text"]].iloc[0].tolist()
    ['YAF', 'surprise', 'Say the word back']
    """
    frame = read_corpus_tree(path, parse_tess, name="TESS", source=SOURCE)
    return make_corpus(
        frame,
        name="tess",
        emotions=emotions,
        label_map=label_map,
        return_X_y=return_X_y,
        description="Toronto emotional speech set (Pichora-Fuller & Dupuis, 2020)",
    )
