"""Temporal pooling: frame sequences (n, n_frames, d) -> fixed vectors (n, d * k)."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from skser._validation import check_option

STATS = ("mean", "std", "min", "max", "median", "slope")


def stat_labels(stats, percentiles=()) -> list[str]:
    """Validated labels of the pooled statistics, in output order (stats, then percentiles)."""
    if isinstance(stats, str) or not hasattr(stats, "__iter__"):
        raise ValueError(f"stats must be a tuple of names from {list(STATS)}, got {stats!r}.")
    stats = list(stats)
    for stat in stats:
        check_option(stat, "stats", STATS)
    if len(set(stats)) != len(stats):
        raise ValueError(f"stats has duplicates: {stats!r}.")
    if isinstance(percentiles, (str, Real)) or not hasattr(percentiles, "__iter__"):
        raise ValueError(
            f"percentiles must be a tuple of numbers in [0, 100], got {percentiles!r}."
        )
    labels = list(stats)
    for q in percentiles:
        if isinstance(q, bool) or not isinstance(q, Real) or not 0 <= q <= 100:
            raise ValueError(f"percentiles must be numbers in [0, 100], got {q!r}.")
        labels.append(f"p{float(q):g}")
    if len(set(labels)) != len(labels):
        raise ValueError(f"percentiles has duplicates: {list(percentiles)!r}.")
    if not labels:
        raise ValueError("At least one statistic is required (stats or percentiles).")
    return labels


def pool_sequence(seq: np.ndarray, labels: list[str]) -> np.ndarray:
    """Pool sequences of shape (..., n_frames, d) into (..., len(labels) * d) values.

    The output is stat-major: ``[mean of the d features, std of the d features, ...]``.
    ``slope`` is the least-squares slope over the frame index (0 for one frame).
    """
    x = np.asarray(seq, dtype=np.float64)
    parts = []
    for label in labels:
        if label == "mean":
            parts.append(x.mean(axis=-2))
        elif label == "std":
            parts.append(x.std(axis=-2))
        elif label == "min":
            parts.append(x.min(axis=-2))
        elif label == "max":
            parts.append(x.max(axis=-2))
        elif label == "median":
            parts.append(np.median(x, axis=-2))
        elif label == "slope":
            n_frames = x.shape[-2]
            t = np.arange(n_frames, dtype=np.float64) - (n_frames - 1) / 2.0
            denom = float(t @ t)
            centred = x - x.mean(axis=-2, keepdims=True)
            slope = (
                np.einsum("t,...td->...d", t, centred) / denom
                if denom > 0
                else centred[..., 0, :] * 0
            )
            parts.append(slope)
        else:  # "p<q>"
            parts.append(np.percentile(x, float(label[1:]), axis=-2))
    return np.concatenate(parts, axis=-1).astype(np.float32)


def pooled_names(base_names, labels) -> np.ndarray:
    """``f"{feature}_{stat}"`` in the stat-major order of :func:`pool_sequence`."""
    return np.asarray([f"{name}_{label}" for label in labels for name in base_names], dtype=object)


def _trim_padding(seq: np.ndarray) -> np.ndarray:
    """Drop trailing all-zero frames, keeping at least one frame."""
    alive = np.flatnonzero(np.any(seq != 0, axis=1))
    end = alive[-1] + 1 if alive.size else 1
    return seq[:end]


class TemporalPooling(TransformerMixin, BaseEstimator):
    """Pool frame sequences over time into fixed-length vectors.

    Turns ``(n, n_frames, d)`` sequences (MFCC/GTCC frames, embedding
    sequences, ...) into ``(n, d * k)`` vectors for scikit-learn classifiers,
    ``k`` being the number of statistics.

    Parameters
    ----------
    stats : tuple of str, default=("mean", "std")
        Any of ``"mean"``, ``"std"``, ``"min"``, ``"max"``, ``"median"`` and
        ``"slope"`` (least-squares slope per frame over time).
    percentiles : tuple of float, default=()
        Percentiles in [0, 100] appended after ``stats`` (named ``"p10"``, ...).
    time_axis : {1, 2}, default=1
        Axis of the frames in ``X``: 1 for ``(n, n_frames, d)``, 2 for
        ``(n, d, n_frames)`` such as mel spectrograms.
    ignore_padding : bool, default=False
        By default zero-padded frames are part of the sequence (they pull the
        mean towards 0). With ``True`` the trailing all-zero frames of each
        clip (the padding added by the skser feature steps) are dropped before
        pooling; a clip that is all zeros keeps one frame, so output stays finite.

    Attributes
    ----------
    n_features_in_ : int
        Number of features per frame (``d``) seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(12, dtype=float).reshape(1, 4, 3)  # one clip, 4 frames, 3 features
    >>> pool = TemporalPooling(stats=("mean", "slope")).fit(X)
    >>> pool.transform(X)
    array([[4.5, 5.5, 6.5, 3. , 3. , 3. ]], dtype=float32)
    >>> list(pool.get_feature_names_out()[:2])
    ['x0_mean', 'x1_mean']
    """

    def __init__(
        self, *, stats=("mean", "std"), percentiles=(), time_axis=1, ignore_padding=False
    ):
        self.stats = stats
        self.percentiles = percentiles
        self.time_axis = time_axis
        self.ignore_padding = ignore_padding

    def _sequences(self, X) -> list[np.ndarray]:
        """``X`` as a list of (n_frames, d) float arrays, validated."""
        check_option(self.time_axis, "time_axis", [1, 2])
        if isinstance(X, np.ndarray) and X.dtype != object:
            if X.ndim != 3:
                raise ValueError(
                    f"X must be a 3-D array (n_clips, n_frames, n_features) or a list of 2-D "
                    f"arrays, got shape {X.shape}."
                )
            items = list(np.moveaxis(X, self.time_axis, 1))
        else:
            items = [np.asarray(x) for x in X]
            for i, x in enumerate(items):
                if x.ndim != 2:
                    raise ValueError(f"X[{i}] must be a 2-D array of frames, got shape {x.shape}.")
            if self.time_axis == 2:
                items = [x.T for x in items]
        if not items:
            raise ValueError("X is empty: at least one sequence is required.")
        out = []
        for i, x in enumerate(items):
            if x.dtype.kind not in "biuf":
                raise ValueError(f"X[{i}] is not numeric (dtype {x.dtype}).")
            if x.shape[0] == 0:
                raise ValueError(f"X[{i}] has no frames.")
            if not np.all(np.isfinite(x)):
                raise ValueError(f"X[{i}] contains NaN or infinite values.")
            out.append(x)
        d = {x.shape[1] for x in out}
        if len(d) != 1:
            raise ValueError(
                f"All sequences must have the same number of features, got {sorted(d)}."
            )
        return out

    def fit(self, X, y=None):
        """Check the parameters and record the number of features per frame.

        Parameters
        ----------
        X : ndarray of shape (n_clips, n_frames, n_features) or list of 2-D arrays
        y : ignored

        Returns
        -------
        self
        """
        stat_labels(self.stats, self.percentiles)
        seqs = self._sequences(X)
        self.n_features_in_ = int(seqs[0].shape[1])
        return self

    def transform(self, X):
        """Pool every sequence.

        Parameters
        ----------
        X : ndarray of shape (n_clips, n_frames, n_features) or list of 2-D arrays
            With ``time_axis=2``: (n_clips, n_features, n_frames).

        Returns
        -------
        ndarray of shape (n_clips, n_features * n_stats), float32
        """
        check_is_fitted(self)
        labels = stat_labels(self.stats, self.percentiles)
        seqs = self._sequences(X)
        if seqs[0].shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {seqs[0].shape[1]} features per frame, but TemporalPooling was fitted "
                f"with {self.n_features_in_}."
            )
        if not self.ignore_padding and len({s.shape[0] for s in seqs}) == 1:
            return pool_sequence(np.stack(seqs), labels)  # one vectorised pass
        if self.ignore_padding:
            seqs = [_trim_padding(s) for s in seqs]
        return np.stack([pool_sequence(s, labels) for s in seqs])

    def get_feature_names_out(self, input_features=None):
        """Names ``f"{feature}_{stat}"``, stat-major (all means, then all stds, ...).

        Parameters
        ----------
        input_features : array-like of str, optional
            Names of the ``d`` per-frame features; default ``x0, x1, ...``.

        Returns
        -------
        ndarray of str objects
        """
        check_is_fitted(self)
        if input_features is None:
            input_features = [f"x{j}" for j in range(self.n_features_in_)]
        elif len(input_features) != self.n_features_in_:
            raise ValueError(
                f"input_features has {len(input_features)} names, expected {self.n_features_in_}."
            )
        return pooled_names(list(input_features), stat_labels(self.stats, self.percentiles))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags
