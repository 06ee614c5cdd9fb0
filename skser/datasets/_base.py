"""What every corpus loader shares: the ``Corpus`` bunch, label maps, ``combine``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from skser._validation import to_object_array

__all__ = [
    "CANONICAL_EMOTIONS",
    "LABEL_MAPS",
    "Corpus",
    "resolve_label_map",
    "apply_label_map",
    "make_corpus",
    "combine",
    "missing_corpus_error",
]

#: The canonical emotion names every loader maps its corpus codes to.
CANONICAL_EMOTIONS: tuple[str, ...] = (
    "anger",
    "anxiety",
    "boredom",
    "calm",
    "disgust",
    "fear",
    "happiness",
    "neutral",
    "sadness",
    "surprise",
)

_FSER8 = {e: e for e in CANONICAL_EMOTIONS} | {"fear": "anxiety", "boredom": "calm"}
_FOUR = {e: None for e in CANONICAL_EMOTIONS} | {
    e: e for e in ("anger", "happiness", "sadness", "neutral")
}

#: Built-in label maps. A value of ``None`` drops the clip (it is not relabelled).
LABEL_MAPS: dict[str, dict[str, str | None]] = {
    # FSER's 8-class union of RAVDESS, EmoDB, SAVEE and EMOVO.
    "fser8": _FSER8,
    # The 4-class task of the CNN-RNN and CNN-2D papers; other emotions dropped.
    "4class": _FOUR,
}

# Columns every Corpus.frame has, in this order (extra corpus-specific ones follow).
FRAME_COLUMNS = (
    "path",
    "corpus",
    "speaker",
    "gender",
    "emotion",
    "emotion_original",
    "intensity",
    "statement",
    "text",
    "language",
)


class Corpus(Bunch):
    """A loaded corpus: clips, labels, speaker groups and metadata.

    Attributes
    ----------
    X : ndarray of shape (n_clips,), dtype object
        File paths (str), or 1-D float32 waveforms for in-memory corpora.
    y : ndarray of shape (n_clips,), dtype object
        Emotion labels (canonical names, after any ``label_map``).
    groups : ndarray of shape (n_clips,), dtype object
        Speaker ids; pass as ``groups=`` to speaker-independent cross-validation.
    frame : pandas.DataFrame
        One row per clip: path, corpus, speaker, gender, emotion,
        emotion_original, intensity, statement, text, language (missing
        values where the corpus does not say).
    name : str
        Corpus name (``"ravdess"``, ``"combined"``, ...).
    sr : int or None
        Sample rate of in-memory waveforms; ``None`` for file corpora.
    """

    def __repr__(self) -> str:
        n_speakers = len(pd.unique(self.groups))
        classes = sorted(pd.unique(self.y))
        return (
            f"Corpus(name={self.name!r}, n_clips={len(self.y)}, n_speakers={n_speakers}, "
            f"emotions={classes})"
        )


def resolve_label_map(label_map: str | Mapping[str, str | None] | None) -> dict | None:
    """Return the mapping for a label-map name or dict (``None`` stays ``None``)."""
    if label_map is None:
        return None
    if isinstance(label_map, str):
        if label_map not in LABEL_MAPS:
            raise ValueError(
                f"Unknown label_map {label_map!r}; choose one of {sorted(LABEL_MAPS)} or pass a dict."
            )
        return dict(LABEL_MAPS[label_map])
    if isinstance(label_map, Mapping):
        return dict(label_map)
    raise TypeError(f"label_map must be a name, a dict or None, got {type(label_map).__name__}.")


def apply_label_map(labels: Sequence[str], label_map) -> np.ndarray:
    """Map labels; ``None`` in the result marks clips to drop.

    Raises
    ------
    ValueError
        If a label is missing from a user-given dict (nothing is dropped silently:
        map it to ``None`` to drop it).
    """
    mapping = resolve_label_map(label_map)
    labels = np.asarray(labels, dtype=object)
    if mapping is None:
        return labels
    unknown = sorted(set(labels) - set(mapping))
    if unknown:
        raise ValueError(
            f"label_map has no entry for {unknown}; map each to a class, or to None to drop "
            "those clips."
        )
    return np.array([mapping[label] for label in labels], dtype=object)


def make_corpus(
    frame: pd.DataFrame,
    *,
    name: str,
    emotions: Sequence[str] | None = None,
    label_map=None,
    return_X_y: bool = False,
    X: np.ndarray | None = None,
    sr: int | None = None,
    description: str = "",
):
    """Finish a loader: apply ``label_map`` then ``emotions``, build the ``Corpus``.

    Parameters
    ----------
    frame : DataFrame
        One row per clip with at least ``path``, ``speaker`` and ``emotion``
        (canonical names). Missing standard columns are added as empty.
    name : str
        Corpus name, stored in the ``corpus`` column when absent.
    emotions : sequence of str, optional
        Keep only these labels (after ``label_map``).
    label_map : {"fser8", "4class"}, dict or None
        See :data:`LABEL_MAPS`.
    return_X_y : bool
        Return ``(X, y, groups)`` instead of the bunch.
    X : ndarray, optional
        In-memory clips aligned with ``frame`` (synthetic corpora); defaults to paths.
    sr : int, optional
        Sample rate of in-memory clips.
    description : str
        Text stored as ``Corpus.description``.
    """
    frame = frame.reset_index(drop=True).copy()
    for column in FRAME_COLUMNS:
        if column not in frame:
            frame[column] = name if column == "corpus" else None
    frame["emotion_original"] = frame["emotion_original"].where(
        frame["emotion_original"].notna(), frame["emotion"]
    )
    mapped = apply_label_map(frame["emotion"].to_numpy(), label_map)
    keep = np.array([label is not None for label in mapped], dtype=bool)
    frame["emotion"] = mapped
    if emotions is not None:
        if isinstance(emotions, str):
            emotions = [emotions]
        available = set(frame.loc[keep, "emotion"])
        unknown = sorted(set(emotions) - available)
        if unknown:
            raise ValueError(
                f"emotions {unknown} are not in corpus {name!r} (after label_map); "
                f"available: {sorted(available)}."
            )
        keep &= frame["emotion"].isin(list(emotions)).to_numpy()
    if not keep.any():
        raise ValueError(f"No clip of corpus {name!r} is left after label_map/emotions.")
    if X is None:
        clips = frame["path"].to_numpy(dtype=object)
    else:
        # Fill an object array element by element: np.asarray would stack equal-length waves.
        clips = to_object_array(X)
    clips = clips[keep]
    frame = frame.loc[keep, list(FRAME_COLUMNS) + [c for c in frame if c not in FRAME_COLUMNS]]
    frame = frame.reset_index(drop=True)
    y = frame["emotion"].to_numpy(dtype=object)
    groups = frame["speaker"].astype(str).to_numpy(dtype=object)
    if return_X_y:
        return clips, y, groups
    return Corpus(
        X=clips, y=y, groups=groups, frame=frame, name=name, sr=sr, description=description
    )


def combine(corpora: Sequence[Corpus], *, label_map=None, emotions=None) -> Corpus:
    """Union several corpora, keeping each clip's corpus and making speaker ids unique.

    Speaker ids become ``"<corpus>:<speaker>"``.

    Parameters
    ----------
    corpora : sequence of Corpus
        Loaded corpora (file-based or in-memory, not mixed sample rates).
    label_map : {"fser8", "4class"}, dict or None
        Applied to the combined labels (e.g. the FSER 8-class union).
    emotions : sequence of str, optional
        Keep only these labels after ``label_map``.

    Examples
    --------
    >>> from skser.datasets import make_synthetic_corpus
    >>> a = make_synthetic_corpus(n_speakers=2, n_per_class=1, random_state=0)
    >>> b = make_synthetic_corpus(n_speakers=2, n_per_class=1, random_state=1)
    >>> both = combine([a, b])
    >>> len(set(both.groups)) == 4
    True
    """
    if len(corpora) == 0:
        raise ValueError("combine() needs at least one corpus.")
    frames, clips, rates = [], [], set()
    for corpus in corpora:
        if not isinstance(corpus, Corpus):
            raise TypeError(f"combine() takes Corpus objects, got {type(corpus).__name__}.")
        frame = corpus.frame.copy()
        frame["speaker"] = [
            f"{c}:{s}" for c, s in zip(frame["corpus"], frame["speaker"], strict=True)
        ]
        frames.append(frame)
        clips.extend(corpus.X)
        rates.add(corpus.sr)
    if len(rates) > 1:
        raise ValueError(
            f"Cannot combine corpora with different sample rates: {sorted(map(str, rates))}."
        )
    frame = pd.concat(frames, ignore_index=True)
    if frame["speaker"].duplicated().any() and len(corpora) > 1:
        names = [c.name for c in corpora]
        if len(set(names)) < len(names):
            # Same corpus twice (e.g. two synthetic draws): disambiguate by position,
            # so speakers and corpora (leave-one-corpus-out) stay apart.
            frame["speaker"] = [f"{i}:{s}" for i, f in enumerate(frames) for s in f["speaker"]]
            frame["corpus"] = [f"{c}#{i}" for i, f in enumerate(frames) for c in f["corpus"]]
    X = to_object_array(clips)
    in_memory = not all(isinstance(c, str) for c in clips)
    return make_corpus(
        frame,
        name="combined",
        emotions=emotions,
        label_map=label_map,
        X=X if in_memory else None,
        sr=rates.pop(),
        description="Union of " + ", ".join(c.name for c in corpora),
    )


def missing_corpus_error(name: str, path, source: str) -> FileNotFoundError:
    """The error a loader raises when its folder is absent: says where to get the corpus."""
    return FileNotFoundError(
        f"{name} corpus not found at {str(path)!r}. Download it from {source} (it cannot be "
        f"redistributed by skser), unpack it, and pass the folder to "
        f"load_{name.lower().replace('-', '')}()."
    )
