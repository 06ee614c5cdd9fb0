"""SAVEE loader (Surrey Audio-Visual Expressed Emotion)."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from ._base import make_corpus
from ._files import read_corpus_tree

SOURCE = "http://kahlan.eps.surrey.ac.uk/savee/ (AudioData)"

# Two-letter codes first in the pattern: "sa"/"su" are sadness/surprise, not "s".
EMOTIONS = {
    "a": "anger",
    "d": "disgust",
    "f": "fear",
    "h": "happiness",
    "n": "neutral",
    "sa": "sadness",
    "su": "surprise",
}
SPEAKERS = ("DC", "JE", "JK", "KL")
_CLIP = r"(sa|su|a|d|f|h|n)(\d{2})"
# re.ASCII: no look-alike digits or letters (Unicode "١", Kelvin sign for "k").
_OFFICIAL = re.compile(_CLIP, re.IGNORECASE | re.ASCII)
_FLAT = re.compile(r"([a-z]{2})_" + _CLIP, re.IGNORECASE | re.ASCII)


def parse_savee(rel: PurePosixPath) -> dict:
    """Fields of one SAVEE file: ``<SPK>/<code><nn>`` or flat ``<SPK>_<code><nn>``."""
    folder = rel.parent.name.upper()
    if (match := _FLAT.fullmatch(rel.stem)) is not None:
        speaker, code, number = match.group(1).upper(), *match.groups()[1:]
        if folder in SPEAKERS and folder != speaker:
            raise ValueError(
                f"speaker {speaker} in the name but the folder is {rel.parent.name!r}"
            )
    elif (match := _OFFICIAL.fullmatch(rel.stem)) is not None:
        if folder not in SPEAKERS:
            raise ValueError(
                f"a name without speaker must be in a speaker folder {list(SPEAKERS)}, "
                f"not {rel.parent.name!r}"
            )
        speaker, (code, number) = folder, match.groups()
    else:
        raise ValueError("expected <code><nn> (e.g. 'sa01') in a speaker folder, or 'DC_sa01'")
    if speaker not in SPEAKERS:
        raise ValueError(f"speaker {speaker!r} is not one of {list(SPEAKERS)}")
    if int(number) < 1:
        raise ValueError(f"sentence number {number!r} is not >= 01")
    code = code.lower()
    return {
        "speaker": speaker,
        "gender": "male",
        "emotion": EMOTIONS[code],
        "statement": f"{code}{number}",
        "language": "English",
        "emotion_code": code,
        "_id": f"{code}{number}",
    }


def load_savee(path, *, emotions=None, label_map=None, return_X_y=False):
    """Load SAVEE, the Surrey Audio-Visual Expressed Emotion database (audio).

    Four male speakers (``DC``, ``JE``, ``JK``, ``KL``; British English)
    read TIMIT sentences in seven emotions: 120 clips each (30 neutral, 15
    per other emotion), 480 in all.

    - Source: http://kahlan.eps.surrey.ac.uk/savee/ (``AudioData.zip``,
      after registration).
    - Licence: free for research use, per the source page.
    - Layouts, both read (``.wav`` or ``.flac``, any case):

      * official: ``AudioData/DC/a01.wav`` -- emotion code then a two-digit
        number, in a speaker folder;
      * flattened (e.g. Kaggle): ``DC_a01.wav``.

      Codes: a anger, d disgust, f fear, h happiness, n neutral, **sa**
      sadness, **su** surprise (two letters; there is no ``s`` code).
      The sentence lists differ per emotion, so ``statement`` holds the
      code with its number (``"sa03"``). Either the folder holding
      ``AudioData`` or any folder below it may be passed.
    - Citation: Haq, S. & Jackson, P. J. B. (2009). Speaker-dependent
      audio-visual emotion recognition. Proc. AVSP 2009, 53-58.

    Parameters
    ----------
    path : str or PathLike
        A folder with the speaker folders (or flat files).
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
        speaker ids, ``frame`` with gender, statement, emotion_code. Or
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
    >>> (root / "AudioData" / "JK").mkdir(parents=True)
    >>> sf.write(root / "AudioData" / "JK" / "su07.wav", np.zeros(160), 16000)
    >>> load_savee(root).frame[["speaker", "emotion", "statement"]].iloc[0].tolist()
    ['JK', 'surprise', 'su07']
    """
    frame = read_corpus_tree(path, parse_savee, name="SAVEE", source=SOURCE, subfolder="AudioData")
    return make_corpus(
        frame,
        name="savee",
        emotions=emotions,
        label_map=label_map,
        return_X_y=return_X_y,
        description="Surrey Audio-Visual Expressed Emotion, audio (Haq & Jackson, 2009)",
    )
