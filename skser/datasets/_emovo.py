"""EMOVO loader (Italian)."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from ._base import make_corpus
from ._files import read_corpus_tree

SOURCE = "http://voice.fub.it/activities/corpora/emovo/index.html"

EMOTIONS = {
    "dis": "disgust",
    "gio": "happiness",  # gioia, joy
    "neu": "neutral",
    "pau": "fear",  # paura
    "rab": "anger",  # rabbia
    "sor": "surprise",  # sorpresa
    "tri": "sadness",  # tristezza
}
SPEAKERS = ("f1", "f2", "f3", "m1", "m2", "m3")
# The 14 sentences: b1-b3, l1-l4, n1-n5, d1-d2.
SENTENCES = tuple(
    f"{kind}{i}" for kind, n in (("b", 3), ("l", 4), ("n", 5), ("d", 2)) for i in range(1, n + 1)
)
_NAME = re.compile(r"([a-z]{3})-([a-z]\d)-([a-z]\d)", re.ASCII)


def parse_emovo(rel: PurePosixPath) -> dict:
    """Fields of one EMOVO file, from ``<emo>-<spk>-<sentence>.<ext>``."""
    match = _NAME.fullmatch(rel.stem.lower())
    if match is None:
        raise ValueError("expected <emotion>-<speaker>-<sentence>, e.g. 'dis-f1-b1'")
    emotion, speaker, sentence = match.groups()
    if emotion not in EMOTIONS:
        raise ValueError(f"emotion code {emotion!r} is not one of {sorted(EMOTIONS)}")
    if speaker not in SPEAKERS:
        raise ValueError(f"speaker {speaker!r} is not one of {list(SPEAKERS)}")
    if sentence not in SENTENCES:
        raise ValueError(f"sentence code {sentence!r} is not one of {list(SENTENCES)}")
    folder = rel.parent.name.lower()
    if folder in SPEAKERS and folder != speaker:
        raise ValueError(f"speaker {speaker} in the name but the folder is {rel.parent.name!r}")
    return {
        "speaker": speaker,
        "gender": "female" if speaker[0] == "f" else "male",
        "emotion": EMOTIONS[emotion],
        "statement": sentence,
        "language": "Italian",
        "emotion_code": emotion,
    }


def load_emovo(path, *, emotions=None, label_map=None, return_X_y=False):
    """Load EMOVO, the Italian emotional speech corpus.

    Six actors (3 female ``f1``-``f3``, 3 male ``m1``-``m3``) say 14 sentences
    in the six basic emotions plus neutral: 588 clips.

    - Source: http://voice.fub.it/activities/corpora/emovo/index.html
      (Fondazione Ugo Bordoni).
    - Licence: distributed by its authors for research use; see the source
      page for the terms.
    - Layout: ``<spk>/<emo>-<spk>-<sentence>.wav`` (``.flac`` is read too; any
      depth; case-insensitive). Emotion codes: dis disgust, gio joy
      (happiness), neu neutral, pau fear, rab anger, sor surprise, tri
      sadness. Sentence codes b1-b3, l1-l4, n1-n5, d1-d2, kept as
      ``statement``.
    - Citation: Costantini, G., Iaderola, I., Paoloni, A. & Todisco, M.
      (2014). EMOVO Corpus: an Italian Emotional Speech Database. Proc. LREC
      2014, 3501-3504.

    Parameters
    ----------
    path : str or PathLike
        The folder holding the six speaker folders.
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
    >>> (root / "m2").mkdir()
    >>> sf.write(root / "m2" / "gio-m2-l3.wav", np.zeros(160), 16000)
    >>> load_emovo(root).frame[["speaker", "gender", "emotion", "statement"]].iloc[0].tolist()
    ['m2', 'male', 'happiness', 'l3']
    """
    frame = read_corpus_tree(path, parse_emovo, name="EMOVO", source=SOURCE)
    return make_corpus(
        frame,
        name="emovo",
        emotions=emotions,
        label_map=label_map,
        return_X_y=return_X_y,
        description="EMOVO Italian emotional speech (Costantini et al., 2014)",
    )
