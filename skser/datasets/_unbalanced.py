"""Corpora whose speakers show only some emotions (the natural-speech failure case)."""

from __future__ import annotations

import numpy as np

from skser.datasets._base import Corpus

__all__ = ["unbalance_speakers"]


def unbalance_speakers(corpus: Corpus, *, emotions_per_speaker=(1, 2), random_state=0) -> Corpus:
    """Keep, for each speaker, the clips of only one or a few emotions.

    Acted corpora have every speaker record every emotion; natural recordings
    rarely do. This subset reproduces that on an acted corpus, so per-speaker
    methods can be tested where a speaker's mean is largely its emotion.
    Speakers take their emotions in turn from a shuffled emotion list, so
    every emotion keeps about the same number of speakers.

    Parameters
    ----------
    corpus : Corpus
    emotions_per_speaker : sequence of int, default=(1, 2)
        Emotions kept per speaker, cycled over the (shuffled) speakers.
    random_state : int, default=0
        Seed of the speaker order and the emotion order.

    Returns
    -------
    Corpus
        A new corpus (``name`` gets the suffix ``"-unbalanced"``).

    Raises
    ------
    ValueError
        When some emotion would be left with fewer than 2 speakers (no
        speaker-independent split could then test it).

    Examples
    --------
    >>> from skser.datasets import make_synthetic_corpus
    >>> corpus = make_synthetic_corpus(n_speakers=8, n_per_class=2, duration=0.3)
    >>> small = unbalance_speakers(corpus, emotions_per_speaker=(2, 3))
    >>> int(small.frame.groupby("speaker")["emotion"].nunique().max())
    3
    """
    counts = [int(n) for n in emotions_per_speaker]
    if not counts or min(counts) < 1:
        raise ValueError(f"emotions_per_speaker must be positive integers, got {emotions_per_speaker!r}.")
    rng = np.random.default_rng(random_state)
    speakers = np.unique(corpus.groups)
    emotions = np.unique(corpus.y)
    emotion_order = emotions[rng.permutation(len(emotions))]
    keep = np.zeros(len(corpus.y), dtype=bool)
    slot = 0
    for i, k in enumerate(rng.permutation(len(speakers))):
        n = min(counts[i % len(counts)], len(emotions))
        chosen = [emotion_order[(slot + j) % len(emotions)] for j in range(n)]
        slot += n
        keep |= (corpus.groups == speakers[k]) & np.isin(corpus.y, chosen)
    kept_y, kept_g = corpus.y[keep], corpus.groups[keep]
    thin = [e for e in emotions if len(np.unique(kept_g[kept_y == e])) < 2]
    if thin:
        raise ValueError(
            f"unbalance_speakers: emotions {sorted(map(str, thin))} would keep fewer than 2 "
            f"speakers ({len(speakers)} speakers, {len(emotions)} emotions); give more "
            "emotions per speaker."
        )
    frame = corpus.frame.loc[keep].reset_index(drop=True)
    return Corpus(**{**corpus, "X": corpus.X[keep], "y": kept_y, "groups": kept_g,
                     "frame": frame, "name": f"{corpus.name}-unbalanced"})  # fmt: skip
