"""Speaker adaptation that never relies on a speaker showing every emotion.

Per-speaker standardization (:class:`~skser.features.SpeakerStandardScaler`)
subtracts each speaker's mean. On acted corpora, where every speaker records
every emotion, that mean is the speaker; on natural speech, where most
speakers show one or two emotions, it is largely the emotion, so training on
such data teaches the classifier the inverse of the emotion, and a test
speaker with one emotion is normalized into the middle of the classes. A model
trained per speaker is also mismatched when it is deployed clip by clip,
without speaker ids.

:class:`SpeakerAdaptiveClassifier` fixes the three failures separately:

* **training**: each training speaker's offset (and, with ``scale=True``, its
  scale) is estimated from the residuals ``x - mean of x's emotion class``
  (training labels are known), so it does not depend on which emotions the
  speaker recorded;
* **deployment**: a second copy of the classifier is trained on the features
  as they are, and predicts whenever no speaker ids are given;
* **lab and enrollment**: for a test speaker with ids, the two copies are
  mixed with a weight that says how much of the whole emotion range the
  speaker's clips span (their spread along the training data's linear
  discriminant directions, which a speaker offset does not change). A
  speaker whose clips look like one emotion gets weight 0: the speaker-naive
  copy alone, never a normalization that removes the emotion.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils.validation import check_is_fitted

__all__ = ["SpeakerAdaptiveClassifier"]


class SpeakerAdaptiveClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """A classifier on per-speaker normalized features that is safe without them.

    Parameters
    ----------
    estimator : classifier with ``predict_proba``
        Fitted twice: on speaker-normalized features (``adapted_``) and on the
        features as given (``deploy_``). A pandas DataFrame ``X`` reaches it
        as a DataFrame with the same columns.
    min_clips : int, default=5
        Fewest clips of a speaker (in one call, or enrolled) for its own
        statistics to be used; fewer: the speaker-naive copy predicts.
    diversity_range : tuple of float, default=(0.5, 0.9)
        Mapping of a speaker's emotional spread ``d`` to its adaptation
        weight: 0 below the first value, 1 above the second, linear between.
        ``d`` is about 1 for a speaker whose clips span the emotions as the
        training data does, and about 0 for clips of a single emotion; it is
        noisy for few clips. The default was chosen on RAVDESS-8 inner folds
        (training actors only) and the RAVDESS unbalanced-speakers fixture
        (``benchmarks/bench_adaptation.py``, results in
        ``benchmarks/results/adaptation.md``); ``(1.0, 1.5)`` is safer on
        unbalanced speakers and gives up part of the gain on balanced ones.
    shrinkage : float, default=3
        The weight is further multiplied by ``n / (n + shrinkage)`` for a
        speaker with ``n`` clips: few clips, little trust in their statistics.
    n_components : int, default=64
        Principal components kept before the discriminant analysis that
        measures the spread.
    scale : bool, default=False
        Also divide each speaker's features by its own standard deviation
        (relative to the training data's), as per-speaker standardization
        does. A training speaker's scale is class-aware too: its spread
        around the class means plus the spread of the class means, i.e. what
        its standard deviation would be had it shown every emotion. A test
        speaker's scale is the standard deviation of its clips; like the
        offset it only counts for speakers whose clips span the emotions.
        It corrects speakers that differ by gain (tested on synthetic data)
        but measured no gain on RAVDESS inner folds, hence off by default.

    Attributes
    ----------
    adapted_ : estimator
        Fitted on features minus each training speaker's class-aware offset;
        ``None`` when fitted without ``groups``.
    deploy_ : estimator
        Fitted on the features as given (used without speaker ids).
    classes_ : ndarray
        Class labels.
    speaker_offsets_ : dict
        Class-aware offset of each training speaker.
    speaker_scales_ : dict
        Class-aware scale of each training speaker relative to ``scale_`` (all
        ones with ``scale=False``).
    scale_ : ndarray
        Reference standard deviation of every feature (training speakers).
    enrolled_speakers_ : ndarray
        Speakers given to :meth:`enroll`.

    Notes
    -----
    Speaker ids reach ``fit``, ``predict`` and ``predict_proba`` as ``groups``
    through scikit-learn metadata routing (requested by default), as for
    :class:`~skser.features.SpeakerStandardScaler`. Without ``groups`` at
    prediction every clip is predicted on its own by ``deploy_``: that is the
    deployment protocol, ``skser.evaluate(..., adaptation="none")``, and what
    ``cross_val_predict``/``cross_validate`` compute with routed ``groups``.
    Fitting costs two fits of ``estimator``.

    Examples
    --------
    >>> import numpy as np, sklearn
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> groups = np.repeat(np.arange(6), 20)
    >>> y = np.tile([0, 1], 60)
    >>> X = rng.normal(size=(120, 4)) + y[:, None] + 3 * rng.normal(size=(6, 4))[groups]
    >>> clf = SpeakerAdaptiveClassifier(LogisticRegression(), n_components=4)
    >>> _ = clf.fit(X, y, groups=groups)
    >>> clf.predict(X[:3]).shape            # no ids: the deployment copy
    (3,)
    >>> clf.predict(X[:20], groups=groups[:20]).shape
    (20,)
    """

    __metadata_request__fit = {"groups": True}
    __metadata_request__predict = {"groups": True}
    __metadata_request__predict_proba = {"groups": True}

    def __init__(
        self, estimator, *, min_clips=5, diversity_range=(0.5, 0.9), shrinkage=3.0,
        n_components=64, scale=False,
    ):  # fmt: skip
        self.estimator = estimator
        self.min_clips = min_clips
        self.diversity_range = diversity_range
        self.shrinkage = shrinkage
        self.n_components = n_components
        self.scale = scale

    # ---------------------------------------------------------------- helpers
    def _check_params(self) -> None:
        m = self.min_clips
        if isinstance(m, bool) or not isinstance(m, numbers.Integral) or m < 2:
            raise ValueError(f"min_clips must be an integer >= 2, got {m!r}.")
        if not isinstance(self.shrinkage, numbers.Real) or self.shrinkage < 0:
            raise ValueError(f"shrinkage must be a number >= 0, got {self.shrinkage!r}.")
        low, high = self.diversity_range
        if not low < high:
            raise ValueError(
                f"diversity_range must be (low, high) with low < high, got {self.diversity_range!r}."
            )

    def _as_array(self, X, *, reset: bool) -> np.ndarray:
        if reset:
            self._columns = X.columns if isinstance(X, pd.DataFrame) else None
        values = np.asarray(X, dtype=np.float64)
        if values.ndim != 2:
            raise ValueError(
                f"SpeakerAdaptiveClassifier takes (n_clips, n_features) features, got shape "
                f"{values.shape}; pool sequences first (TemporalPooling)."
            )
        if not np.isfinite(values).all():
            raise ValueError("SpeakerAdaptiveClassifier: X contains NaN or infinity.")
        if not reset and values.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {values.shape[1]} features, but SpeakerAdaptiveClassifier was fitted "
                f"with {self.n_features_in_}."
            )
        return values

    def _wrap(self, values: np.ndarray, like):
        """Features in the form the estimator was given (DataFrame columns kept)."""
        if self._columns is None:
            return values
        index = like.index if isinstance(like, pd.DataFrame) else None
        return pd.DataFrame(values, columns=self._columns, index=index)

    # ---------------------------------------------------------------- fit
    def fit(self, X, y, groups=None):
        """Fit the deployment copy, and with ``groups`` the adapted copy.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_clips, n_features)
        y : array-like of shape (n_clips,)
        groups : array-like of shape (n_clips,), default=None
            Training speaker ids. Without them only the deployment copy is
            fitted (warned).

        Returns
        -------
        self
        """
        self._check_params()
        values = self._as_array(X, reset=True)
        y = np.asarray(y)
        if len(y) != len(values):
            raise ValueError(f"X has {len(values)} clips but y has {len(y)} labels.")
        self.n_features_in_ = values.shape[1]
        self.deploy_ = clone(self.estimator).fit(X, y)
        self.classes_ = np.asarray(self.deploy_.classes_)
        self.mean_ = values.mean(axis=0)
        self._enrolled = {}
        if groups is None:
            warnings.warn(
                "SpeakerAdaptiveClassifier.fit got no groups: only the speaker-naive copy is "
                "fitted, so speaker ids at prediction change nothing. Pass the speaker ids as "
                "groups (with sklearn.set_config(enable_metadata_routing=True) in pipelines).",
                UserWarning,
                stacklevel=2,
            )
            self.adapted_ = None
            self.speaker_offsets_, self.speaker_scales_, self.scale_ = {}, {}, None
            return self
        groups = np.asarray(groups, dtype=object)
        if len(groups) != len(values):
            raise ValueError(f"groups has {len(groups)} entries but X has {len(values)} clips.")
        class_index = np.searchsorted(self.classes_, y)
        class_means = np.stack([values[class_index == k].mean(axis=0)
                                for k in range(len(self.classes_))])  # fmt: skip
        residuals = values - class_means[class_index]
        # What a speaker's variance would be had it shown every emotion: its
        # own spread around the class means plus the spread of the class means.
        between = np.average((class_means - self.mean_) ** 2, axis=0,
                             weights=np.bincount(class_index))  # fmt: skip
        speakers = np.unique(groups)
        self.speaker_offsets_, variances = {}, {}
        for speaker in speakers:
            rows = residuals[groups == speaker]
            self.speaker_offsets_[speaker] = rows.mean(axis=0)
            variances[speaker] = rows.var(axis=0) + between
        self.scale_ = np.sqrt(np.mean([variances[s] for s in speakers], axis=0))
        self.speaker_scales_ = {
            s: self._relative_scale(np.sqrt(variances[s]), n=int((groups == s).sum()))
            for s in speakers
        }
        offsets = np.stack([self.speaker_offsets_[speaker] for speaker in groups])
        # Location only for the spread measure: it must not see a speaker's scale,
        # which a test speaker with one emotion would get wrong.
        located = values - offsets
        scales = np.stack([self.speaker_scales_[speaker] for speaker in groups])
        normalized = self.mean_ + (located - self.mean_) / scales
        self.adapted_ = clone(self.estimator).fit(self._wrap(normalized, X), y)
        self._fit_diversity(located, class_index, groups)
        return self

    def _relative_scale(self, std: np.ndarray, *, n: int) -> np.ndarray:
        """A speaker's standard deviation over the reference one, shrunk toward 1 by clip count.

        All ones with ``scale=False``. Features without variance keep scale 1.
        """
        if not self.scale:
            return np.ones_like(std)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(self.scale_ > 0, std / self.scale_, 1.0)
        trust = n / (n + _SCALE_PRIOR_CLIPS)
        return np.maximum(trust * ratio + (1 - trust), _MIN_RELATIVE_SCALE)

    def _fit_diversity(self, located, class_index, groups) -> None:
        """Discriminant directions and the spread of one emotion vs all emotions along them.

        ``located``: the training features minus each speaker's class-aware offset.
        """
        from sklearn.decomposition import PCA
        from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        n_components = max(1, min(self.n_components, len(located) - 1, located.shape[1]))
        self.projection_ = make_pipeline(
            StandardScaler(),
            PCA(n_components=n_components, random_state=0),
            LinearDiscriminantAnalysis(solver="eigen", shrinkage="auto"),
        ).fit(located, class_index)
        projected = self.projection_.transform(located)
        within = [
            _spread(projected[(groups == s) & (class_index == k)])
            for s in np.unique(groups)
            for k in np.unique(class_index)
            if ((groups == s) & (class_index == k)).sum() > 1
        ]
        self.within_spread_ = float(np.mean(within)) if within else 0.0
        centers = np.stack([projected[class_index == k].mean(axis=0)
                            for k in np.unique(class_index)])  # fmt: skip
        self.between_spread_ = float(np.trace(np.atleast_2d(np.cov(centers.T, bias=True))))

    # ---------------------------------------------------------------- adaptation
    def speaker_diversity(self, X) -> float:
        """How much of the emotion range the clips of one speaker span (1: all, 0: one).

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features)
            Clips of one speaker (at least 2).

        Returns
        -------
        float
        """
        check_is_fitted(self, "adapted_")
        return self._diversity(self._as_array(X, reset=False))

    def _diversity(self, values: np.ndarray) -> float:
        """:meth:`speaker_diversity` of already validated features."""
        if self.adapted_ is None or self.between_spread_ <= 0 or len(values) < 2:
            return 0.0
        spread = _spread(self.projection_.transform(values))
        return (spread - self.within_spread_) / self.between_spread_

    def _weight(self, diversity: float, n_clips: int) -> float:
        low, high = self.diversity_range
        trust = n_clips / (n_clips + self.shrinkage)
        return float(np.clip((diversity - low) / (high - low), 0.0, 1.0) * trust)

    def _speaker_state(self, values) -> tuple[np.ndarray, np.ndarray, float]:
        """(mean, relative scale, weight) of one speaker from its unlabeled clips."""
        if len(values) < self.min_clips or self.adapted_ is None:
            return self.mean_, np.ones(values.shape[1]), 0.0
        scale = self._relative_scale(values.std(axis=0), n=len(values))
        return values.mean(axis=0), scale, self._weight(self._diversity(values), len(values))

    def enroll(self, X, groups):
        """Store each speaker's offset and weight from some of its unlabeled clips.

        Later calls with ``groups`` use these for the enrolled speakers, even
        one clip at a time (``adaptation="enroll:K"``).

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features)
        groups : array-like of shape (n_clips,)

        Returns
        -------
        self
        """
        check_is_fitted(self, "deploy_")
        values = self._as_array(X, reset=False)
        groups = np.asarray(groups, dtype=object)
        for speaker in np.unique(groups):
            self._enrolled[speaker] = self._speaker_state(values[groups == speaker])
        return self

    @property
    def enrolled_speakers_(self) -> np.ndarray:
        """Ids of the speakers given to :meth:`enroll` (sorted)."""
        return np.array(sorted(getattr(self, "_enrolled", {})), dtype=object)

    # ---------------------------------------------------------------- predict
    def predict_proba(self, X, groups=None):
        """Class probabilities; per-speaker adaptation only where ``groups`` are given.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_clips, n_features)
        groups : array-like of shape (n_clips,), default=None
            Speaker ids of the clips. ``None``: each clip on its own
            (deployment copy).

        Returns
        -------
        proba : ndarray of shape (n_clips, n_classes)
        """
        check_is_fitted(self, "deploy_")
        values = self._as_array(X, reset=False)
        proba = np.asarray(self.deploy_.predict_proba(X), dtype=float)
        if groups is None or self.adapted_ is None:
            return proba
        groups = np.asarray(groups, dtype=object)
        if len(groups) != len(values):
            raise ValueError(f"groups has {len(groups)} entries but X has {len(values)} clips.")
        means, scales = np.zeros_like(values), np.ones_like(values)
        weights = np.zeros(len(values))
        for speaker in np.unique(groups):
            rows = groups == speaker
            state = self._enrolled.get(speaker)
            mean, scale, weight = state if state is not None else self._speaker_state(values[rows])
            means[rows], scales[rows], weights[rows] = mean, scale, weight
        adapt = weights > 0
        if adapt.any():
            rows = np.flatnonzero(adapt)
            normalized = self.mean_ + (values[rows] - means[rows]) / scales[rows]
            normalized = self._wrap(normalized, _take(X, rows))
            adapted = np.asarray(self.adapted_.predict_proba(normalized), dtype=float)
            w = weights[rows, None]
            proba[rows] = w * adapted + (1 - w) * proba[rows]
        return proba

    def predict(self, X, groups=None):
        """Class labels; see :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_clips, n_features)
        groups : array-like of shape (n_clips,), default=None

        Returns
        -------
        y_pred : ndarray of shape (n_clips,)
        """
        proba = self.predict_proba(X, groups=groups)  # checks fitted first
        return self.classes_[np.argmax(proba, axis=1)]


#: Clips' worth of prior belief that a speaker's scale is the reference one.
_SCALE_PRIOR_CLIPS = 5
#: Floor of a relative scale: a constant feature of one speaker must not blow up.
_MIN_RELATIVE_SCALE = 0.05


def _spread(points: np.ndarray) -> float:
    """Total variance (trace of the covariance) of a set of points."""
    if len(points) < 2:
        return 0.0
    return float(np.trace(np.atleast_2d(np.cov(points.T))))


def _take(X, rows):
    return X.iloc[rows] if isinstance(X, pd.DataFrame) else X
