"""Speaker-independent evaluation: the protocol, the leakage guard and the report.

:func:`evaluate` is the one entry point. It picks a speaker-independent split
when speaker ``groups`` are given, checks every split for a speaker in both
train and test, routes ``groups`` to the steps that ask for them (e.g.
``SpeakerStandardScaler``), and returns an :class:`EvaluationReport`.
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sklearn import config_context
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import (
    LeaveOneGroupOut,
    StratifiedGroupKFold,
    StratifiedKFold,
    check_cv,
)
from sklearn.utils import _safe_indexing
from sklearn.utils.metadata_routing import get_routing_for_object
from sklearn.utils.parallel import Parallel, delayed

from skser.metrics import class_accuracy, normalized_confusion_matrix, unweighted_average_recall

__all__ = [
    "evaluate",
    "default_cv",
    "EvaluationReport",
    "SpeakerLeakageWarning",
    "check_speaker_independent",
]

#: Up to this many speakers the default protocol is leave-one-speaker-out.
LOSO_MAX_SPEAKERS = 12


class SpeakerLeakageWarning(UserWarning):
    """A split puts clips of one speaker in both train and test (speaker-dependent result)."""


def default_cv(groups=None, *, n_splits: int = 5, random_state: int = 0):
    """The default protocol for ``groups``.

    Leave-one-speaker-out for at most 12 speakers, else ``StratifiedGroupKFold(5)``;
    without groups a (speaker-dependent) ``StratifiedKFold(5)``.
    """
    if groups is None:
        return StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    if len(np.unique(groups)) <= LOSO_MAX_SPEAKERS:
        return LeaveOneGroupOut()
    return StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)


def check_speaker_independent(splits, groups) -> list[int]:
    """Indices of the splits whose train and test share a speaker (empty list: all clean)."""
    groups = np.asarray(groups)
    leaking = []
    for i, (train, test) in enumerate(splits):
        if np.intersect1d(groups[train], groups[test]).size:
            leaking.append(i)
    return leaking


@dataclass
class EvaluationReport:
    """Results of :func:`evaluate`: UAR first, then the rest.

    Attributes
    ----------
    uar : float
        Mean over folds of the unweighted average recall (the headline).
    uar_std : float
        Standard deviation of UAR over folds.
    uar_pooled : float
        UAR of all out-of-fold predictions taken together.
    accuracy, accuracy_std : float
        Weighted accuracy (fraction correct), mean and std over folds.
    class_recall : dict
        Recall per class from the pooled out-of-fold predictions.
    labels : list
        Class order of ``confusion``.
    confusion : ndarray of shape (n_classes, n_classes)
        Confusion matrix normalized by true class (rows sum to 1).
    roc_auc : float or None
        Macro one-vs-rest ROC-AUC of pooled out-of-fold probabilities, when the
        estimator has ``predict_proba``.
    folds : list of dict
        Per fold: test speakers, n_test, uar, accuracy, fit_time, predict_time.
    speaker_independent : bool
        False when groups were missing or a split shared a speaker between
        train and test; such numbers are speaker-dependent.
    protocol : str
        The cross-validation scheme in words.
    fit_time, predict_time_per_clip : float
        Mean fit seconds per fold; mean prediction seconds per clip.
    y_true, y_pred : ndarray
        Out-of-fold labels and predictions of the clips some split tested, in
        input order (a hold-out split tests only part of the clips).
    y_proba : ndarray or None
        Out-of-fold class probabilities (columns in ``labels`` order).
    """

    uar: float
    uar_std: float
    uar_pooled: float
    accuracy: float
    accuracy_std: float
    class_recall: dict
    labels: list
    confusion: np.ndarray
    roc_auc: float | None
    folds: list
    speaker_independent: bool
    protocol: str
    n_clips: int
    n_speakers: int | None
    fit_time: float
    predict_time_per_clip: float
    y_true: np.ndarray = field(repr=False)
    y_pred: np.ndarray = field(repr=False)
    y_proba: np.ndarray | None = field(default=None, repr=False)
    groups: np.ndarray | None = field(default=None, repr=False)

    @property
    def evaluation(self) -> str:
        """``"speaker-independent"`` or ``"speaker-dependent"``."""
        return "speaker-independent" if self.speaker_independent else "speaker-dependent"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the per-clip arrays)."""
        out = asdict(self)
        for key in ("y_true", "y_pred", "y_proba", "groups"):
            out.pop(key)
        ci = self._ci_or_none()
        out["uar_pooled_ci95"] = None if ci is None else [round(ci.low, 6), round(ci.high, 6)]
        out["confusion"] = np.round(self.confusion, 6).tolist()
        out["evaluation"] = self.evaluation
        return json.loads(json.dumps(out, default=_json_default))

    def to_markdown(self, *, title: str | None = None) -> str:
        """A Markdown summary: headline numbers, per-class recall, confusion matrix."""
        lines = [f"### {title}", ""] if title else []
        auc = "n/a" if self.roc_auc is None else f"{self.roc_auc:.3f}"
        lines += [
            f"**{self.evaluation}** — {self.protocol}; {self.n_clips} clips"
            + (f", {self.n_speakers} speakers" if self.n_speakers else ""),
            "",
            "| metric | value |",
            "|---|---|",
            f"| UAR (mean ± std over folds) | {self.uar:.3f} ± {self.uar_std:.3f} |",
            f"| UAR (pooled) | {self.uar_pooled:.3f}{self._ci_text(' (95 % CI {:.3f}–{:.3f})')} |",
            f"| accuracy | {self.accuracy:.3f} ± {self.accuracy_std:.3f} |",
            f"| macro ROC-AUC | {auc} |",
            f"| fit time per fold | {self.fit_time:.2f} s |",
            f"| predict time per clip | {1000 * self.predict_time_per_clip:.2f} ms |",
            "",
            "| class | recall |",
            "|---|---|",
        ]
        lines += [f"| {label} | {recall:.3f} |" for label, recall in self.class_recall.items()]
        header = "| true \\ predicted | " + " | ".join(map(str, self.labels)) + " |"
        lines += ["", header, "|---" * (len(self.labels) + 1) + "|"]
        for label, row in zip(self.labels, self.confusion, strict=True):
            lines.append(f"| {label} | " + " | ".join(f"{v:.2f}" for v in row) + " |")
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        width = max(len(str(label)) for label in self.labels)
        lines = [
            f"{self.evaluation.upper()} evaluation: {self.protocol}",
            f"  clips {self.n_clips}"
            + (f", speakers {self.n_speakers}" if self.n_speakers else ""),
            f"  UAR       {self.uar:.3f} ± {self.uar_std:.3f} (pooled {self.uar_pooled:.3f}"
            f"{self._ci_text(' [95 % CI {:.3f}-{:.3f}]')}, chance {1 / len(self.labels):.3f})",
            f"  accuracy  {self.accuracy:.3f} ± {self.accuracy_std:.3f}",
        ]
        if self.roc_auc is not None:
            lines.append(f"  ROC-AUC   {self.roc_auc:.3f} (macro, one-vs-rest)")
        lines.append("  recall per class:")
        lines += [f"    {str(k):<{width}}  {v:.3f}" for k, v in self.class_recall.items()]
        lines.append(
            f"  fit {self.fit_time:.2f} s/fold, predict {1000 * self.predict_time_per_clip:.2f} ms/clip"
        )
        return "\n".join(lines)

    def uar_ci(self, *, confidence: float = 0.95, n_boot: int = 2000, random_state=0):
        """Speaker-level bootstrap confidence interval of the pooled UAR.

        See :func:`skser.stats.uar_confidence_interval`; returns its
        ``ConfidenceInterval`` ``(estimate, low, high, confidence)``.
        """
        from skser.stats import uar_confidence_interval

        return uar_confidence_interval(
            self.y_true, self.y_pred, self.groups,
            confidence=confidence, n_boot=n_boot, random_state=random_state,
        )  # fmt: skip

    def per_speaker(self):
        """One row per tested speaker: clips, accuracy, UAR, recall per class (a DataFrame)."""
        from skser.stats import per_speaker_table

        return per_speaker_table(self.y_true, self.y_pred, self.groups)

    def _ci_or_none(self):
        # The interval needs speaker ids (absent without groups) and two speakers.
        if self.groups is None or len(np.unique(self.groups)) < 2:
            return None
        return self.uar_ci()

    def _ci_text(self, template: str) -> str:
        ci = self._ci_or_none()
        return "" if ci is None else template.format(ci.low, ci.high)

    def plot_confusion_matrix(self, ax=None, *, cmap: str = "Blues", title: str | None = None):
        """Draw the normalized confusion matrix with matplotlib; returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            size = 1.0 + 0.6 * len(self.labels)
            _, ax = plt.subplots(figsize=(size + 1, size))
        image = ax.imshow(self.confusion, cmap=cmap, vmin=0, vmax=1)
        ticks = np.arange(len(self.labels))
        ax.set_xticks(ticks, labels=self.labels, rotation=45, ha="right")
        ax.set_yticks(ticks, labels=self.labels)
        for i, j in np.ndindex(self.confusion.shape):
            value = self.confusion[i, j]
            ax.text(
                j,
                i,
                f"{value:.2f}",
                ha="center",
                va="center",
                color="white" if value > 0.5 else "black",
                fontsize=8,
            )
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(title or f"UAR {self.uar:.3f} ({self.evaluation})")
        ax.figure.colorbar(image, ax=ax, fraction=0.046)
        ax.figure.tight_layout()
        return ax


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def evaluate(
    estimator,
    X,
    y,
    *,
    groups=None,
    cv=None,
    n_jobs: int | None = None,
    verbose: bool = False,
) -> EvaluationReport:
    """Cross-validate ``estimator`` speaker-independently and report UAR first.

    Parameters
    ----------
    estimator : estimator or Pipeline
        Cloned for every fold; never fitted in place.
    X : sequence of clips or array-like
        What ``estimator.fit`` takes (paths, waveforms or features).
    y : array-like of shape (n_clips,)
        Emotion labels.
    groups : array-like of shape (n_clips,), optional
        Speaker ids. Without them the result is speaker-dependent (warned).
        Steps that request ``groups`` through scikit-learn metadata routing
        (such as ``SpeakerStandardScaler`` or the Keras models' validation
        split) receive the training speakers' ids in ``fit`` and the test
        speakers' ids in ``predict``: no labels are involved.
    cv : int, splitter or iterable, optional
        Default: leave-one-speaker-out for at most 12 speakers, else
        ``StratifiedGroupKFold(5)``. An int means that many
        ``StratifiedGroupKFold`` folds (``StratifiedKFold`` without groups).
    n_jobs : int, optional
        Folds run in parallel with joblib.
    verbose : bool
        Progress bar over folds.

    Returns
    -------
    EvaluationReport

    Warns
    -----
    SpeakerLeakageWarning
        When ``groups`` is missing or a split puts one speaker in train and test.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.svm import SVC
    >>> from skser.datasets import make_synthetic_corpus
    >>> from skser.features import MFCCTransformer
    >>> corpus = make_synthetic_corpus(n_speakers=4, n_per_class=3, duration=1.0)
    >>> pipe = make_pipeline(MFCCTransformer(output="stats"), StandardScaler(), SVC())
    >>> report = evaluate(pipe, corpus.X, corpus.y, groups=corpus.groups)
    >>> report.speaker_independent
    True
    """
    y = np.asarray(y)
    n = len(y)
    if n == 0:
        raise ValueError("evaluate() needs at least one clip; y is empty.")
    if hasattr(X, "__len__") and len(X) != n:
        raise ValueError(f"X has {len(X)} clips but y has {n} labels.")
    if groups is not None:
        groups = np.asarray(groups, dtype=object)
        if len(groups) != n:
            raise ValueError(f"groups has {len(groups)} entries but y has {n} labels.")
        if len(np.unique(groups)) < 2:
            raise ValueError(
                "Speaker-independent evaluation needs at least 2 speakers in groups; got "
                f"{len(np.unique(groups))}."
            )
    splitter = _resolve_cv(cv, groups)
    splits = list(splitter.split(np.zeros(n), y, groups))
    speaker_independent = groups is not None
    if groups is None:
        warnings.warn(
            "No speaker groups given: the same speakers can be in train and test, so this "
            "result is SPEAKER-DEPENDENT and overestimates performance on new speakers. "
            "Pass groups=<speaker ids>.",
            SpeakerLeakageWarning,
            stacklevel=2,
        )
    else:
        leaking = check_speaker_independent(splits, groups)
        if leaking:
            speaker_independent = False
            warnings.warn(
                f"{len(leaking)} of {len(splits)} splits of {splitter!r} put a speaker in both "
                "train and test: this result is SPEAKER-DEPENDENT. Use a group-aware splitter "
                "(LeaveOneGroupOut, GroupKFold, StratifiedGroupKFold).",
                SpeakerLeakageWarning,
                stacklevel=2,
            )
    _warn_missing_classes(splits, y, groups)
    routing = _groups_routing(estimator) if groups is not None else {}
    jobs = (
        delayed(_fit_and_predict)(clone(estimator), X, y, groups, train, test, routing)
        for train, test in splits
    )
    if verbose:
        from tqdm.auto import tqdm

        jobs = tqdm(list(jobs), desc="folds", unit="fold")
    with config_context(enable_metadata_routing=True):
        results = Parallel(n_jobs=n_jobs)(jobs)
    return _build_report(results, splits, y, groups, splitter, speaker_independent)


def _warn_missing_classes(splits, y, groups) -> None:
    """Warn when a training part lacks a class: its test clips of that class are all errors."""
    classes = np.unique(y)
    for i, (train, test) in enumerate(splits):
        missing = np.setdiff1d(np.intersect1d(classes, y[test]), y[train])
        if missing.size:
            who = ""
            if groups is not None:
                who = f" (test speakers {sorted(map(str, np.unique(groups[test])))})"
            warnings.warn(
                f"Fold {i}{who}: the training part has no clip of {missing.tolist()}, so the "
                "model cannot predict those test clips; they count as errors (recall 0) in "
                "the report. A speaker with clips of only some emotions causes this.",
                UserWarning,
                stacklevel=3,
            )


def _resolve_cv(cv, groups):
    if cv is None:
        return default_cv(groups)
    if isinstance(cv, int | np.integer):
        n_groups = None if groups is None else len(np.unique(groups))
        if n_groups is not None and cv > n_groups:
            raise ValueError(
                f"cv={cv} speaker-independent folds need at least {cv} speakers, but groups "
                f"has {n_groups}. Use cv <= {n_groups}, or cv=None (leave-one-speaker-out)."
            )
        if groups is None:
            return StratifiedKFold(n_splits=int(cv), shuffle=True, random_state=0)
        return StratifiedGroupKFold(n_splits=int(cv), shuffle=True, random_state=0)
    return check_cv(cv, classifier=True)


def _groups_routing(estimator) -> dict[str, bool]:
    """Which of fit/predict of ``estimator`` consume ``groups`` via metadata routing."""
    with config_context(enable_metadata_routing=True):
        try:
            routing = get_routing_for_object(estimator)
            return {
                method: "groups" in routing.consumes(method=method, params={"groups"})
                for method in ("fit", "predict", "predict_proba")
            }
        except Exception:  # estimators without routing support: nothing to route
            return {}


def _fit_and_predict(estimator, X, y, groups, train, test, routing):
    X_train, X_test = _safe_indexing(X, train), _safe_indexing(X, test)
    fit_params = {"groups": groups[train]} if routing.get("fit") else {}
    started = time.perf_counter()
    estimator.fit(X_train, y[train], **fit_params)
    fit_time = time.perf_counter() - started
    started = time.perf_counter()
    predict_params = {"groups": groups[test]} if routing.get("predict") else {}
    y_pred = np.asarray(estimator.predict(X_test, **predict_params))
    predict_time = time.perf_counter() - started
    proba, classes = None, None
    if hasattr(estimator, "predict_proba"):
        proba_params = {"groups": groups[test]} if routing.get("predict_proba") else {}
        proba = np.asarray(estimator.predict_proba(X_test, **proba_params), dtype=float)
        classes = np.asarray(estimator.classes_)
    return y_pred, proba, classes, fit_time, predict_time


def _build_report(results, splits, y, groups, splitter, speaker_independent) -> EvaluationReport:
    labels = sorted(np.unique(y).tolist())
    y_pred = np.empty_like(y)
    y_proba = np.zeros((len(y), len(labels))) if all(r[1] is not None for r in results) else None
    folds = []
    tested = np.zeros(len(y), dtype=bool)
    for (pred, proba, classes, fit_time, predict_time), (_, test) in zip(
        results, splits, strict=True
    ):
        y_pred[test] = pred
        tested[test] = True
        if y_proba is not None:
            # A training fold may lack a class: its probability column stays 0.
            columns = [labels.index(c) for c in classes]
            y_proba[np.ix_(test, columns)] = proba
        fold_labels = np.unique(y[test])
        folds.append(
            {
                "test_speakers": sorted(map(str, np.unique(groups[test])))
                if groups is not None
                else None,
                "n_test": int(len(test)),
                "uar": unweighted_average_recall(y[test], pred, labels=fold_labels),
                "accuracy": float(np.mean(y[test] == pred)),
                "fit_time": float(fit_time),
                "predict_time": float(predict_time),
            }
        )
    fold_uar = np.array([f["uar"] for f in folds])
    fold_acc = np.array([f["accuracy"] for f in folds])
    # Pooled metrics cover only the clips some split tested (a hold-out split
    # such as ShuffleSplit(n_splits=1) leaves the training clips unpredicted).
    y, y_pred = y[tested], y_pred[tested]
    y_proba = None if y_proba is None else y_proba[tested]
    present = [label for label in labels if label in set(y.tolist())]
    roc_auc = None
    if y_proba is not None and len(present) > 1:
        roc_auc = _macro_auc(y, y_proba[:, [labels.index(c) for c in present]], present)
    n_test_total = sum(f["n_test"] for f in folds)
    return EvaluationReport(
        uar=float(fold_uar.mean()),
        uar_std=float(fold_uar.std()),
        uar_pooled=unweighted_average_recall(y, y_pred, labels=present),
        accuracy=float(fold_acc.mean()),
        accuracy_std=float(fold_acc.std()),
        class_recall=class_accuracy(y, y_pred, labels=present),
        labels=labels,
        confusion=normalized_confusion_matrix(y, y_pred, labels=labels),
        roc_auc=roc_auc,
        folds=folds,
        speaker_independent=speaker_independent,
        protocol=f"{type(splitter).__name__}, {len(splits)} folds",
        n_clips=len(y),
        n_speakers=None if groups is None else len(np.unique(groups)),
        fit_time=float(np.mean([f["fit_time"] for f in folds])),
        predict_time_per_clip=float(sum(f["predict_time"] for f in folds) / max(n_test_total, 1)),
        y_true=y,
        y_pred=y_pred,
        y_proba=y_proba,
        groups=None if groups is None else np.asarray(groups, dtype=object)[tested],
    )


def _macro_auc(y, y_proba, labels) -> float:
    """Macro one-vs-rest ROC-AUC, class by class (rows need not sum to 1)."""
    y = np.asarray(y)
    if len(labels) == 2:
        return float(roc_auc_score(y == labels[1], y_proba[:, 1]))
    return float(np.mean([roc_auc_score(y == c, y_proba[:, i]) for i, c in enumerate(labels)]))
