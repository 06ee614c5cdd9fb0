"""EmoDB loader (Berlin Database of Emotional Speech)."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from ._base import make_corpus
from ._files import read_corpus_tree

SOURCE = "http://emodb.bilderbar.info/download/download.zip (or skser.datasets.fetch_emodb)"

EMOTIONS = {
    "W": "anger",  # Ärger (Wut)
    "L": "boredom",  # Langeweile
    "E": "disgust",  # Ekel
    "A": "fear",  # Angst (fear/anxiety)
    "F": "happiness",  # Freude
    "T": "sadness",  # Trauer
    "N": "neutral",
}
# Speaker -> (gender, age at recording), from the corpus documentation.
SPEAKERS = {
    "03": ("male", 31),
    "08": ("female", 34),
    "09": ("female", 21),
    "10": ("male", 32),
    "11": ("male", 26),
    "12": ("male", 30),
    "13": ("female", 32),
    "14": ("female", 35),
    "15": ("male", 25),
    "16": ("female", 31),
}
TEXTS = {
    "a01": "Der Lappen liegt auf dem Eisschrank.",
    "a02": "Das will sie am Mittwoch abgeben.",
    "a04": "Heute abend könnte ich es ihm sagen.",
    "a05": "Das schwarze Stück Papier befindet sich da oben neben dem Holzstück.",
    "a07": "In sieben Stunden wird es soweit sein.",
    "b01": "Was sind denn das für Tüten, die da unter dem Tisch stehen?",
    "b02": "Sie haben es gerade hochgetragen und jetzt gehen sie wieder runter.",
    "b03": "An den Wochenenden bin ich jetzt immer nach Hause gefahren und habe Agnes besucht.",
    "b09": "Ich will das eben wegbringen und dann mit Karl was trinken gehen.",
    "b10": "Die wird auf dem Platz sein, wo wir sie immer hinlegen.",
}
_NAME = re.compile(r"(\d{2})([ab]\d{2})([A-Z])([a-z])", re.ASCII)


def parse_emodb(rel: PurePosixPath) -> dict:
    """Fields of one EmoDB file, from ``<spk:2><text:3><emotion:1><version:1>.<ext>``."""
    match = _NAME.fullmatch(rel.stem)
    if match is None:
        raise ValueError("expected speaker, text, emotion, version as in '03a01Fa'")
    speaker, text, emotion, version = match.groups()
    if speaker not in SPEAKERS:
        raise ValueError(f"speaker {speaker!r} is not one of {sorted(SPEAKERS)}")
    if text not in TEXTS:
        raise ValueError(f"text code {text!r} is not one of {sorted(TEXTS)}")
    if emotion not in EMOTIONS:
        raise ValueError(f"emotion letter {emotion!r} is not one of {sorted(EMOTIONS)}")
    gender, age = SPEAKERS[speaker]
    return {
        "speaker": speaker,
        "gender": gender,
        "emotion": EMOTIONS[emotion],
        "statement": text,
        "text": TEXTS[text],
        "language": "German",
        "age": age,
        "version": version,
        "emotion_code": emotion,
    }


def load_emodb(path, *, emotions=None, label_map=None, return_X_y=False):
    """Load EmoDB, the Berlin Database of Emotional Speech.

    Ten actors (5 male, 5 female; German) say ten sentences in seven
    emotions: 535 clips in the public release.

    - Source: http://emodb.bilderbar.info/ (archive
      http://emodb.bilderbar.info/download/download.zip; see also
      :func:`skser.datasets.fetch_emodb`).
    - Licence: made freely available by its authors for research; see the
      source page.
    - Layout: ``wav/03a01Fa.wav`` (``.flac`` is read too). Positions 1-2
      speaker (03, 08, 09, 10, 11, 12, 13, 14, 15, 16; male 03 10 11 12 15,
      female 08 09 13 14 16), 3-5 text (a01 a02 a04 a05 a07 b01 b02 b03 b09
      b10), 6 emotion (W Ärger anger, L Langeweile boredom, E Ekel disgust,
      A Angst fear, F Freude happiness, T Trauer sadness, N neutral), 7
      version (a, b, c ...). Either the unpacked archive (holding ``wav/``)
      or the ``wav`` folder itself may be passed.
    - Citation: Burkhardt, F., Paeschke, A., Rolfes, M., Sendlmeier, W. &
      Weiss, B. (2005). A Database of German Emotional Speech. Proc.
      Interspeech 2005, 1517-1520.

    Parameters
    ----------
    path : str or PathLike
        The unpacked archive or its ``wav`` folder.
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
        speaker ids (``"03"`` ...), ``frame`` with gender, age, statement
        (text code), text (German sentence), version, emotion_code. Or
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
    >>> (root / "wav").mkdir()
    >>> sf.write(root / "wav" / "03a01Fa.wav", np.zeros(160), 16000)
    >>> load_emodb(root).frame[["speaker", "gender", "emotion", "statement"]].iloc[0].tolist()
    ['03', 'male', 'happiness', 'a01']
    """
    frame = read_corpus_tree(path, parse_emodb, name="EmoDB", source=SOURCE, subfolder="wav")
    return make_corpus(
        frame,
        name="emodb",
        emotions=emotions,
        label_map=label_map,
        return_X_y=return_X_y,
        description="Berlin Database of Emotional Speech (Burkhardt et al., 2005)",
    )
