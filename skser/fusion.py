"""Late fusion: a weighted mean of the class probabilities of complete pipelines.

Each member is a whole pipeline on the same raw input (audio paths or
waveforms), so a network on log-mel and a classical vote on handcrafted
statistics can be fused without sharing a feature step. Speaker ``groups``
reach every member that requests them, in ``fit`` and in prediction, so a
member with speaker adaptation keeps its lab and deployment protocols.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.metaestimators import _BaseComposition
from sklearn.utils.validation import check_is_fitted


class LateFusionClassifier(MetaEstimatorMixin, ClassifierMixin, _BaseComposition):
    """Weighted mean of the ``predict_proba`` of several classifiers fitted on the same input.

    Unlike :class:`sklearn.ensemble.VotingClassifier`, speaker ``groups``
    given to ``predict``/``predict_proba`` (``skser.evaluate`` with
    ``adaptation="speaker"``) reach the members that request them, and a
    call without groups (deployment, one clip at a time) reaches none.

    Parameters
    ----------
    estimators : list of (str, estimator)
        Named classifiers with ``predict_proba``, each taking the raw input
        (typically a whole :class:`~sklearn.pipeline.Pipeline`).
    weights : sequence of float or None, default=None
        Weight of each member's probabilities (normalized to sum to 1);
        ``None``: equal weights.

    Attributes
    ----------
    estimators_ : list of estimators
        The fitted clones, in ``estimators`` order.
    named_estimators_ : dict
        The same, by name.
    classes_ : ndarray
        Class labels (every member sees the same ``y``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from skser.fusion import LateFusionClassifier
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(60, 4)), np.repeat(["anger", "sadness"], 30)
    >>> X[y == "anger"] += 1.0
    >>> fused = LateFusionClassifier([("lr", LogisticRegression()), ("nb", GaussianNB())],
    ...                              weights=[0.7, 0.3]).fit(X, y)
    >>> fused.predict_proba(X[:2]).shape
    (2, 2)
    """

    def __init__(self, estimators, *, weights=None):
        self.estimators = estimators
        self.weights = weights

    @property
    def named_estimators(self) -> dict:
        """The members as given (unfitted), by name."""
        return dict(self.estimators)

    def get_params(self, deep=True):
        """Parameters, with each member's own as ``<name>__<param>`` when ``deep``."""
        return self._get_params("estimators", deep=deep)

    def set_params(self, **params):
        """Set parameters, including a member's (``<name>__<param>``) or a whole member."""
        self._set_params("estimators", **params)
        return self

    def _check_members(self) -> tuple[list[str], np.ndarray]:
        members = list(self.estimators)
        if not members or any(not (isinstance(m, tuple) and len(m) == 2) for m in members):
            raise ValueError("estimators must be a non-empty list of (name, estimator) pairs, "
                             f"got {self.estimators!r}.")
        names = [name for name, _ in members]
        if len(set(names)) != len(names):
            raise ValueError(f"estimators need distinct names, got {names}.")
        for name, est in members:
            if not hasattr(est, "predict_proba"):
                raise ValueError(f"estimator {name!r} ({type(est).__name__}) has no "
                                 "predict_proba; late fusion averages probabilities.")
        if self.weights is None:
            weights = np.ones(len(members))
        else:
            weights = np.asarray(self.weights, dtype=float)
            if (weights.shape != (len(members),) or not np.all(np.isfinite(weights))
                    or np.any(weights < 0) or weights.sum() <= 0):
                raise ValueError(f"weights must be {len(members)} non-negative numbers with a "
                                 f"positive sum (one per estimator), got {self.weights!r}.")
        return names, weights / weights.sum()

    def _routed(self, method: str, params: dict) -> dict:
        names = [name for name, _ in self.estimators]
        if _routing_enabled():
            routed = process_routing(self, method, **params)
            callee = "fit" if method == "fit" else "predict_proba"
            return {name: getattr(routed[name], callee) for name in names}
        if params:
            raise ValueError(
                f"{type(self).__name__}.{method} got {sorted(params)}; passing them to the "
                "members needs sklearn.set_config(enable_metadata_routing=True).")
        return {name: {} for name in names}

    def fit(self, X, y, **params):
        """Fit a clone of every member on ``X, y``.

        Parameters
        ----------
        X : sequence of clips or array-like
        y : array-like of shape (n_clips,)
        **params
            Metadata such as ``groups``, routed to the members that request it
            (metadata routing must be enabled to pass any).

        Returns
        -------
        self
        """
        names, weights = self._check_members()
        routed = self._routed("fit", params)
        fitted = [clone(est).fit(X, y, **routed[name]) for name, est in self.estimators]
        classes = [np.asarray(est.classes_) for est in fitted]
        for name, cls in zip(names[1:], classes[1:], strict=True):
            if not np.array_equal(cls, classes[0]):
                raise ValueError(f"estimator {name!r} learnt classes {cls.tolist()}, "
                                 f"{names[0]!r} learnt {classes[0].tolist()}.")
        self.estimators_ = fitted
        self.named_estimators_ = dict(zip(names, fitted, strict=True))
        self.weights_ = weights
        self.classes_ = classes[0]
        return self

    def predict_proba(self, X, **params):
        """Weighted mean of the members' class probabilities.

        Parameters
        ----------
        X : sequence of clips or array-like
        **params
            Metadata such as ``groups`` (routed to the members that request it).

        Returns
        -------
        ndarray of shape (n_clips, n_classes)
        """
        check_is_fitted(self, "estimators_")
        routed = self._routed("predict_proba", params)
        total = None
        for (name, _), est, weight in zip(self.estimators, self.estimators_, self.weights_,
                                          strict=True):
            proba = weight * np.asarray(est.predict_proba(X, **routed[name]), dtype=float)
            total = proba if total is None else total + proba
        return total

    def predict(self, X, **params):
        """The class with the largest fused probability (parameters as :meth:`predict_proba`)."""
        proba = self.predict_proba(X, **params)
        return self.classes_[np.argmax(proba, axis=1)]

    def enroll(self, X, groups):
        """Enroll speakers in every member that has a speaker step (``adaptation="enroll:K"``).

        Parameters
        ----------
        X : sequence of clips or array-like
            Unlabeled enrollment clips.
        groups : array-like of shape (n_clips,)
            Speaker id of each clip.

        Returns
        -------
        self
        """
        from skser.model_selection import can_enroll_speakers, enroll_speakers

        check_is_fitted(self, "estimators_")
        members = [est for est in self.estimators_ if can_enroll_speakers(est)]
        if not members:
            raise ValueError(f"No member of this {type(self).__name__} has a speaker step "
                             "with enroll(), so speakers cannot be enrolled. Use "
                             "adaptation='speaker' or 'none'.")
        for est in members:
            enroll_speakers(est, X, groups)
        return self

    def get_metadata_routing(self):
        """Route ``fit`` metadata to each member's ``fit`` and prediction metadata to its ``predict_proba``."""
        router = MetadataRouter(owner=self)
        for name, est in self.estimators:
            router.add(**{name: est}, method_mapping=MethodMapping()
                       .add(caller="fit", callee="fit")
                       .add(caller="predict", callee="predict_proba")
                       .add(caller="predict_proba", callee="predict_proba"))
        return router

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # the input is whatever the members take (paths, waveforms, arrays)
        tags.input_tags.two_d_array = all(
            est.__sklearn_tags__().input_tags.two_d_array for _, est in self.estimators
            if hasattr(est, "__sklearn_tags__"))
        return tags

