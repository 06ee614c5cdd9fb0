"""Per-speaker feature standardization, with speaker ids routed as ``groups``.

Speaker identity is a large nuisance factor in emotion recognition: each
speaker's features sit around their own mean. Standardizing each speaker with
statistics of its own (unlabeled) clips removes that offset. It uses no labels,
so doing it for a test speaker at prediction time is legitimate, and it is what
lifts speaker-independent UAR.

Speaker ids reach the scaler through scikit-learn metadata routing. The scorer
of ``cross_validate`` / ``GridSearchCV`` calls ``predict(X_test)`` without
metadata, so :func:`speaker_scorer` wraps a scorer to pass the test fold's
``groups`` on to ``predict``.
"""

from __future__ import annotations

import functools
import numbers
import warnings

import numpy as np
import sklearn
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.metrics import check_scoring
from sklearn.utils import get_tags
from sklearn.utils.metadata_routing import MetadataRequest
from sklearn.utils.validation import FLOAT_DTYPES, check_array, check_is_fitted, validate_data

__all__ = ["SpeakerStandardScaler", "SpeakerNormalizationWarning", "speaker_scorer"]


class SpeakerNormalizationWarning(UserWarning):
    """Per-speaker normalization fell back to global statistics (no ``groups`` given)."""


def _routing_enabled() -> bool:
    return bool(sklearn.get_config().get("enable_metadata_routing", False))


def _safe_scale(std: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Replace (near-)zero standard deviations by 1: constant features map to 0, never NaN."""
    tiny = 10 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(mean))
    return np.where(std > tiny, std, 1.0)


class SpeakerStandardScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Standardize features per speaker, speaker ids given as ``groups``.

    Every call standardizes each speaker present in it with that speaker's own
    mean and standard deviation, computed from its own clips in that call:
    training speakers in ``fit_transform``, test speakers in ``transform`` at
    prediction time. Only features are used, never labels, so no test label
    leaks; statistics of other speakers are never mixed in.

    Fallbacks (all documented, none silent):

    * a speaker with fewer than ``min_clips`` clips in a call (e.g. one clip) is
      standardized with its statistics from ``fit`` when it was a training
      speaker, else with the global training mean and standard deviation
      (a single clip centred on itself would be all zeros);
    * without ``groups`` (in ``fit`` or ``transform``) the scaler standardizes
      globally with the training statistics, like ``StandardScaler``, and emits a
      :class:`SpeakerNormalizationWarning`;
    * constant features get scale 1 (output 0), never NaN.

    Parameters
    ----------
    with_mean : bool, default=True
        Subtract each speaker's mean.
    with_std : bool, default=True
        Divide by each speaker's standard deviation.
    min_clips : int, default=2
        Fewest clips of a speaker in one call for its own statistics to be used.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Global training mean (fallback statistics).
    scale_ : ndarray of shape (n_features,)
        Global training standard deviation (1 where constant).
    speakers_ : ndarray of shape (n_speakers,) or None
        Training speaker ids; ``None`` when fitted without ``groups``.
    speaker_mean_, speaker_scale_ : ndarray of shape (n_speakers, n_features) or None
        Per-speaker training statistics (global ones for speakers with fewer
        than ``min_clips`` clips).
    n_features_in_ : int
        Number of features (last axis of ``X``).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` is a DataFrame.

    Notes
    -----
    Input is ``(n_clips, n_features)``, or ``(n_clips, n_frames, n_features)``
    sequences, whose statistics pool all frames of a speaker's clips (padding
    frames count as frames). Output is float32 of the same shape.

    **How groups reach the scaler.** ``fit``, ``fit_transform`` and ``transform``
    request ``groups`` by default, so with
    ``sklearn.set_config(enable_metadata_routing=True)`` nothing else is needed:

    * ``pipe.fit(X, y, groups=speakers)`` and ``pipe.predict(X, groups=speakers)``
      (a ``Pipeline`` routes them to this step);
    * ``cross_validate(pipe, X, y, cv=GroupKFold(5), params={"groups": speakers},
      scoring=speaker_scorer("balanced_accuracy"))`` -- with routing on, ``groups``
      goes in ``params`` (not the ``groups=`` argument); ``GroupKFold`` and the
      pipeline receive it, and :func:`speaker_scorer` hands the test fold's
      speakers to ``predict``. A plain scoring string would predict without
      ``groups``, so test clips would be standardized globally (with a warning);
    * ``GridSearchCV(pipe, grid, cv=GroupKFold(5),
      scoring=speaker_scorer()).fit(X, y, groups=speakers)``; predict afterwards
      with ``search.best_estimator_.predict(X, groups=...)`` (``GridSearchCV.predict``
      takes no metadata).

    Without routing, ``Pipeline.fit(X, y, scaler__groups=speakers)`` still works
    for fitting, but prediction has no way to receive speaker ids.

    Examples
    --------
    >>> import numpy as np
    >>> from skser.features import SpeakerStandardScaler
    >>> rng = np.random.default_rng(0)
    >>> groups = np.repeat(["a", "b"], 20)
    >>> X = rng.normal(size=(40, 3)) + np.where(groups == "a", 5.0, -5.0)[:, None]
    >>> Xt = SpeakerStandardScaler().fit_transform(X, groups=groups)
    >>> np.round(Xt[groups == "b"].mean(axis=0), 6) + 0.0
    array([0., 0., 0.], dtype=float32)
    """

    # Request ``groups`` by default, so users only enable metadata routing.
    __metadata_request__fit = {"groups": True}
    __metadata_request__transform = {"groups": True}

    def __init__(self, *, with_mean=True, with_std=True, min_clips=2):
        self.with_mean = with_mean
        self.with_std = with_std
        self.min_clips = min_clips

    # ---------------------------------------------------------------- validation
    def _check_X(self, X, *, reset: bool) -> np.ndarray:
        ndim = getattr(X, "ndim", None)
        if ndim is None:
            ndim = np.asarray(X).ndim
        if ndim != 3:
            X = validate_data(self, X, reset=reset, dtype=FLOAT_DTYPES)
            return np.asarray(X, dtype=np.float64)
        # Sequences (n, T, d): features are the last axis.
        X = check_array(X, allow_nd=True, dtype=FLOAT_DTYPES, input_name="X")
        if reset:
            self.n_features_in_ = X.shape[-1]
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        elif X.shape[-1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[-1]} features (last axis), but {type(self).__name__} "
                f"was fitted with {self.n_features_in_}."
            )
        return X.astype(np.float64, copy=False)

    @staticmethod
    def _check_groups(groups, n: int) -> np.ndarray:
        groups = np.asarray(groups)
        if groups.ndim != 1 or len(groups) != n:
            raise ValueError(
                f"groups must be 1-D with one speaker id per clip ({n}), got shape {groups.shape}."
            )
        return groups

    def _check_params(self) -> None:
        m = self.min_clips
        if isinstance(m, bool) or not isinstance(m, numbers.Integral) or m < 1:
            raise ValueError(f"min_clips must be a positive integer, got {m!r}.")

    def _stats(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        flat = X.reshape(-1, X.shape[-1])
        mean = flat.mean(axis=0)
        return mean, _safe_scale(flat.std(axis=0), mean)

    # ---------------------------------------------------------------- API
    def fit(self, X, y=None, groups=None):
        """Learn the global and per-speaker training statistics.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features) or (n_clips, n_frames, n_features)
            Features.
        y : None
            Ignored (no labels are used).
        groups : array-like of shape (n_clips,), default=None
            Speaker id of each clip. Without it the scaler is global (with a warning).

        Returns
        -------
        self
        """
        self._check_params()
        X = self._check_X(X, reset=True)
        self.enrolled_ = {}
        self.mean_, self.scale_ = self._stats(X)
        if groups is None:
            warnings.warn(
                "SpeakerStandardScaler.fit got no groups: features are standardized "
                "globally, not per speaker. Pass the speaker ids as groups (with "
                "sklearn.set_config(enable_metadata_routing=True) in pipelines).",
                SpeakerNormalizationWarning,
                stacklevel=2,
            )
            self.speakers_ = self.speaker_mean_ = self.speaker_scale_ = None
            return self
        groups = self._check_groups(groups, len(X))
        self.speakers_, inverse, counts = np.unique(
            groups, return_inverse=True, return_counts=True
        )
        self.speaker_mean_ = np.tile(self.mean_, (len(self.speakers_), 1))
        self.speaker_scale_ = np.tile(self.scale_, (len(self.speakers_), 1))
        for k in np.flatnonzero(counts >= self.min_clips):
            self.speaker_mean_[k], self.speaker_scale_[k] = self._stats(X[inverse == k])
        return self

    def transform(self, X, groups=None):
        """Standardize each speaker in ``X`` with its own statistics.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features) or (n_clips, n_frames, n_features)
            Features.
        groups : array-like of shape (n_clips,), default=None
            Speaker id of each clip. Without it, the global training statistics
            are used (with a warning).

        Returns
        -------
        X_new : ndarray of the shape of ``X``, float32
        """
        check_is_fitted(self, "mean_")
        X = self._check_X(X, reset=False)
        mean = np.empty((len(X), X.shape[-1]))
        scale = np.empty_like(mean)
        if groups is None:
            if self.speakers_ is not None:
                warnings.warn(
                    "SpeakerStandardScaler.transform got no groups: the clips are "
                    "standardized with global training statistics, not per speaker, although "
                    "the model was trained per speaker. That is the deployment protocol, "
                    "skser.evaluate(..., adaptation='none'), and this scaler is weak there "
                    "(use skser.SpeakerAdaptiveClassifier). For the lab protocol "
                    "(adaptation='speaker') pass groups to predict (Pipeline.predict(X, "
                    "groups=...) with metadata routing) or score with "
                    "skser.features.speaker_scorer.",
                    SpeakerNormalizationWarning,
                    stacklevel=2,
                )
            mean[:], scale[:] = self.mean_, self.scale_
        else:
            groups = self._check_groups(groups, len(X))
            known = {} if self.speakers_ is None else {s: k for k, s in enumerate(self.speakers_)}
            enrolled = getattr(self, "enrolled_", {})
            speakers, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
            for k, speaker in enumerate(speakers):
                rows = inverse == k
                if speaker in enrolled:
                    mean[rows], scale[rows] = enrolled[speaker]
                elif counts[k] >= self.min_clips:
                    mean[rows], scale[rows] = self._stats(X[rows])
                elif speaker in known:
                    i = known[speaker]
                    mean[rows], scale[rows] = self.speaker_mean_[i], self.speaker_scale_[i]
                else:
                    mean[rows], scale[rows] = self.mean_, self.scale_
        if X.ndim == 3:
            mean, scale = mean[:, None, :], scale[:, None, :]
        if self.with_mean:
            X = X - mean
        if self.with_std:
            X = X / scale
        return X.astype(np.float32)

    def enroll(self, X, groups):
        """Store the statistics of (new) speakers from some of their unlabeled clips.

        Afterwards ``transform`` standardizes an enrolled speaker with these
        statistics, however many of its clips a call holds (one is fine):
        the ``adaptation="enroll:K"`` protocol of :func:`skser.evaluate`, and
        how to deploy per-speaker normalization clip by clip.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features) or (n_clips, n_frames, n_features)
            Enrollment features.
        groups : array-like of shape (n_clips,)
            Speaker id of each clip; each speaker needs ``min_clips`` clips.

        Returns
        -------
        self
        """
        check_is_fitted(self, "mean_")
        X = self._check_X(X, reset=False)
        groups = self._check_groups(groups, len(X))
        enrolled = dict(getattr(self, "enrolled_", {}))
        for speaker in np.unique(groups):
            rows = groups == speaker
            if rows.sum() < self.min_clips:
                raise ValueError(
                    f"Cannot enroll speaker {speaker!r} with {int(rows.sum())} clip(s): "
                    f"min_clips={self.min_clips}."
                )
            enrolled[speaker] = self._stats(X[rows])
        self.enrolled_ = enrolled
        return self

    @property
    def enrolled_speakers_(self) -> np.ndarray:
        """Ids of the speakers given to :meth:`enroll` (sorted)."""
        return np.array(sorted(getattr(self, "enrolled_", {})), dtype=object)

    def fit_transform(self, X, y=None, groups=None):
        """Fit, then standardize the training speakers with their own statistics.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features) or (n_clips, n_frames, n_features)
        y : None
            Ignored.
        groups : array-like of shape (n_clips,), default=None

        Returns
        -------
        X_new : ndarray of the shape of ``X``, float32
        """
        # Without groups, fit warns once; transform then stays quiet (nothing per speaker).
        return self.fit(X, y, groups=groups).transform(X, groups=groups)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.input_tags.three_d_array = True
        return tags


class _PredictWithGroups:
    """Proxy of a fitted estimator whose prediction methods receive ``groups``."""

    _methods = ("predict", "predict_proba", "predict_log_proba", "decision_function")

    def __init__(self, estimator, groups):
        self._estimator = estimator
        self._groups = groups

    def __getattr__(self, name):
        attr = getattr(self._estimator, name)
        if name not in self._methods:
            return attr
        groups = self._groups

        @functools.wraps(attr)  # scikit-learn reads the method's __name__
        def with_groups(X, *args, **kwargs):
            return attr(X, *args, groups=groups, **kwargs)

        return with_groups

    def __sklearn_tags__(self):
        return get_tags(self._estimator)


class _SpeakerScorer:
    """Scorer that requests ``groups`` and passes them to the estimator's predict."""

    def __init__(self, scoring):
        self.scoring = scoring

    def __call__(self, estimator, X, y_true, groups=None, **kwargs):
        scorer = check_scoring(estimator, scoring=self.scoring)
        if groups is not None:
            if not _routing_enabled():
                raise RuntimeError(
                    "speaker_scorer passes groups to predict through metadata routing: call "
                    "sklearn.set_config(enable_metadata_routing=True) first."
                )
            estimator = _PredictWithGroups(estimator, np.asarray(groups))
        return scorer(estimator, X, y_true, **kwargs)

    def get_metadata_routing(self):
        request = MetadataRequest(owner=type(self).__name__)
        request.score.add_request(param="groups", alias=True)
        return request

    def __repr__(self) -> str:
        return f"speaker_scorer({self.scoring!r})"


def speaker_scorer(scoring="balanced_accuracy"):
    """Wrap a scorer so that the test fold's speaker ids reach ``predict``.

    ``cross_validate`` and ``GridSearchCV`` call ``predict(X_test)`` without
    metadata; this scorer requests ``groups`` (routed from ``params`` /
    ``fit(..., groups=...)``, indexed to the test fold) and calls
    ``predict(X_test, groups=groups_test)``, which a ``Pipeline`` routes to
    :class:`SpeakerStandardScaler`. Needs
    ``sklearn.set_config(enable_metadata_routing=True)``.

    Parameters
    ----------
    scoring : str or callable, default="balanced_accuracy"
        Any scikit-learn scoring; ``"balanced_accuracy"`` is UAR.

    Returns
    -------
    scorer : callable ``scorer(estimator, X, y, groups=None)``

    Examples
    --------
    >>> import numpy as np, sklearn
    >>> from sklearn.model_selection import GroupKFold, cross_validate
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.svm import SVC
    >>> from skser.features import SpeakerStandardScaler, speaker_scorer
    >>> rng = np.random.default_rng(0)
    >>> groups = np.repeat(np.arange(6), 10)
    >>> y = np.tile([0, 1], 30)
    >>> X = rng.normal(size=(60, 4)) + y[:, None] + 3 * rng.normal(size=(6, 4))[groups]
    >>> pipe = make_pipeline(SpeakerStandardScaler(), SVC())
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     scores = cross_validate(pipe, X, y, cv=GroupKFold(3), params={"groups": groups},
    ...                             scoring=speaker_scorer())
    >>> scores["test_score"].shape
    (3,)
    """
    return _SpeakerScorer(scoring)
