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
    BaseCrossValidator,
    LeaveOneGroupOut,
    PredefinedSplit,
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
    "ADAPTATIONS",
    "parse_adaptation",
    "enroll_speakers",
    "evaluate_cross_corpus",
    "LeaveOneCorpusOut",
    "EvaluationReport",
    "SpeakerLeakageWarning",
    "check_speaker_independent",
]

#: Up to this many speakers the default protocol is leave-one-speaker-out.
LOSO_MAX_SPEAKERS = 12

#: The adaptation protocols of :func:`evaluate`: what a test speaker contributes
#: at prediction time (``"enroll:K"`` takes any positive K).
ADAPTATIONS = {
    "speaker": "per-test-speaker statistics from all of its unlabeled test clips (lab)",
    "none": "every test clip predicted alone, no speaker ids at prediction (deployment)",
    "enroll:K": "K unlabeled clips per test speaker give its statistics; the others are scored",
}


def parse_adaptation(adaptation) -> tuple[str, int | None]:
    """Check an adaptation protocol; returns ``(mode, K)`` (K only for ``"enroll:K"``).

    Examples
    --------
    >>> parse_adaptation("enroll:5")
    ('enroll', 5)
    >>> parse_adaptation("none")
    ('none', None)
    """
    if adaptation in ("speaker", "none"):
        return adaptation, None
    if isinstance(adaptation, str) and adaptation.startswith("enroll:"):
        count = adaptation.removeprefix("enroll:")
        if count.isascii() and count.isdigit() and int(count) >= 1:
            return "enroll", int(count)
    raise ValueError(
        f"adaptation must be 'speaker', 'none' or 'enroll:K' with a positive integer K "
        f"(e.g. 'enroll:5'), got {adaptation!r}."
    )


def describe_adaptation(adaptation: str) -> str:
    """One line saying what ``adaptation`` means, for reports."""
    mode, count = parse_adaptation(adaptation)
    if mode == "enroll":
        return ADAPTATIONS["enroll:K"].replace("K ", f"{count} ", 1)
    return ADAPTATIONS[mode]


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
    adaptation : str
        What a test speaker contributed at prediction time (see
        :data:`ADAPTATIONS`): ``"speaker"`` (lab), ``"none"`` (deployment) or
        ``"enroll:K"``.
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
    adaptation: str = "speaker"
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
            f"Adaptation: `{self.adaptation}` — {describe_adaptation(self.adaptation)}.",
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
            f"  adaptation {self.adaptation}: {describe_adaptation(self.adaptation)}",
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
    adaptation: str = "speaker",
    n_jobs: int | None = None,
    verbose: bool = False,
    random_state: int = 0,
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
        :class:`LeaveOneCorpusOut` tests each corpus of a combined corpus
        with a model trained on the others.
    adaptation : {"speaker", "none"}, "enroll:K", or a list of them, default="speaker"
        What a test speaker contributes at prediction time. A list fits each
        fold once, predicts under every protocol and returns a dict of
        reports keyed by protocol. ``"speaker"`` (the
        lab protocol): the test speakers' ids reach ``predict``, so per-speaker
        steps use the statistics of all of a speaker's unlabeled test clips.
        ``"none"`` (deployment, what ``skser predict`` does): no speaker id
        reaches any prediction step, so every test clip is predicted on its own
        (skser's steps treat clips independently without ids). ``"enroll:K"``:
        ``K`` unlabeled clips of each test speaker (drawn with
        ``random_state``) enroll the speaker (:func:`enroll_speakers`), and
        only its other clips are predicted and scored. Training speakers' ids
        always reach ``fit``. The report states the protocol.
    n_jobs : int, optional
        Folds run in parallel with joblib.
    verbose : bool
        Progress bar over folds.
    random_state : int, default=0
        Seed of the enrollment draw of ``adaptation="enroll:K"``.

    Returns
    -------
    EvaluationReport, or dict of them when ``adaptation`` is a list

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
    several = isinstance(adaptation, list | tuple)
    if not several:
        parse_adaptation(adaptation)  # a bad value: the clear error, before any work
    # Enrollment changes the fitted model, so it is predicted last.
    adaptations = sorted(adaptation if several else [adaptation],
                         key=lambda a: parse_adaptation(a)[0] == "enroll")  # fmt: skip
    if not adaptations or len(set(adaptations)) < len(adaptations):
        raise ValueError(f"adaptation must name distinct protocols, got {adaptation!r}.")
    if n == 0:
        raise ValueError("evaluate() needs at least one clip; y is empty.")
    if groups is None and any(parse_adaptation(a)[0] == "enroll" for a in adaptations):
        raise ValueError(f"adaptation={adaptation!r} needs the speaker ids: pass groups=.")
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
    # Per adaptation, per fold: (test clips scored, enrollment clips or None).
    tests = {}
    for a in adaptations:
        mode, n_enroll = parse_adaptation(a)
        if mode == "enroll":
            tests[a] = _enrollment_splits(splits, groups, n_enroll, random_state)
        else:
            tests[a] = [(test, None) for _, test in splits]
    jobs = (
        delayed(_fit_and_predict)(
            clone(estimator), X, y, groups, train, [tests[a][i] for a in adaptations],
            [parse_adaptation(a)[0] for a in adaptations], routing,
        )  # fmt: skip
        for i, (train, _) in enumerate(splits)
    )
    if verbose:
        from tqdm.auto import tqdm

        jobs = tqdm(list(jobs), desc="folds", unit="fold")
    with config_context(enable_metadata_routing=True):
        results = Parallel(n_jobs=n_jobs)(jobs)
    reports = {}
    for j, a in enumerate(adaptations):
        fold_results = [(*fold[j][:3], fit_time, fold[j][3]) for fold, fit_time in results]
        fold_splits = [(train, tests[a][i][0]) for i, (train, _) in enumerate(splits)]
        reports[a] = _build_report(
            fold_results, fold_splits, y, groups, splitter, speaker_independent, a
        )
    if several:
        return {a: reports[a] for a in adaptation}
    return reports[adaptation]


def _enrollment_splits(splits, groups, n_enroll, random_state):
    """Split each test part into enrollment clips (K per speaker) and scored clips.

    A speaker with at most K clips cannot be scored (all its clips would enroll
    it): that is an error naming the speaker, not a silent drop.
    """
    rng = np.random.default_rng(random_state)
    out = []
    for _, test in splits:
        enroll = []
        for speaker in np.unique(groups[test]):
            rows = test[groups[test] == speaker]
            if len(rows) <= n_enroll:
                raise ValueError(
                    f"adaptation='enroll:{n_enroll}': test speaker {speaker!r} has only "
                    f"{len(rows)} clips, so none would be left to score. Use a smaller K."
                )
            enroll.append(rng.choice(rows, size=n_enroll, replace=False))
        enroll = np.sort(np.concatenate(enroll))
        out.append((np.setdiff1d(test, enroll), enroll))
    return out


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


def _fit_and_predict(estimator, X, y, groups, train, tests, modes, routing):
    """Fit once on ``train``; predict each ``(test, enroll)`` under its mode.

    Returns ``([(y_pred, proba, classes, predict_time) per mode], fit_time)``.
    """
    fit_params = {"groups": groups[train]} if routing.get("fit") else {}
    started = time.perf_counter()
    estimator.fit(_safe_indexing(X, train), y[train], **fit_params)
    fit_time = time.perf_counter() - started
    out, done = [], {}
    for (test, enroll), mode in zip(tests, modes, strict=True):
        if mode == "enroll":
            enroll_speakers(estimator, _safe_indexing(X, enroll), groups[enroll])

        def params_for(method, test=test, mode=mode):
            # "none": no speaker id reaches prediction (deployment).
            routed = mode != "none" and routing.get(method)
            return {"groups": groups[test]} if routed else {}

        # Modes that hand the model the same clips and no speaker ids (every mode
        # of a model without a speaker step) give the same predictions: compute once.
        routed = mode != "none" and (routing.get("predict") or routing.get("predict_proba"))
        reusable = test.tobytes() if mode != "enroll" and not routed else None
        if reusable in done:
            out.append(done[reusable])
            continue
        y_pred, proba, predict_time = _labels_and_probabilities(
            estimator, _safe_indexing(X, test), params_for("predict"), params_for("predict_proba")
        )
        classes = None if proba is None else np.asarray(estimator.classes_)
        out.append((y_pred, proba, classes, predict_time))
        if reusable is not None:
            done[reusable] = out[-1]
    return out, fit_time


def _labels_and_probabilities(estimator, X, predict_params, proba_params):
    """``estimator.predict(X)`` and ``predict_proba(X)`` (None without one), features made once.

    Returns ``(labels, probabilities, seconds)``, ``seconds`` being what
    ``predict`` alone costs. Only shortcuts that give exactly what the two calls
    would: a :class:`~sklearn.pipeline.Pipeline` transforms ``X`` once and asks
    its final step for both (each of ``Pipeline.predict`` and ``predict_proba``
    would run every transform again: for ``recommended``, all its audio
    features); a :class:`~skser.LateFusionClassifier` predicts the argmax of
    its probabilities by definition. Otherwise the two calls are made.
    """
    from sklearn.pipeline import Pipeline
    from sklearn.utils.metadata_routing import _routing_enabled, process_routing

    from skser.fusion import LateFusionClassifier

    started = time.perf_counter()
    if not hasattr(estimator, "predict_proba"):
        labels = np.asarray(estimator.predict(X, **predict_params))
        return labels, None, time.perf_counter() - started
    same_params = predict_params.keys() == proba_params.keys()
    if isinstance(estimator, LateFusionClassifier) and same_params:
        proba = np.asarray(estimator.predict_proba(X, **proba_params), dtype=float)
        labels = estimator.classes_[np.argmax(proba, axis=1)]
        return labels, proba, time.perf_counter() - started
    if isinstance(estimator, Pipeline):
        # What Pipeline.predict / predict_proba do, sharing the transforms when
        # both routes give every transform the same metadata.
        routing = _routing_enabled()
        if routing:
            routed = {"predict": process_routing(estimator, "predict", **predict_params),
                      "predict_proba": process_routing(estimator, "predict_proba",
                                                       **proba_params)}  # fmt: skip
        transforms = [(name, step) for name, step in estimator.steps[:-1]
                      if step is not None and step != "passthrough"]
        predict_steps, proba_steps = (
            [routed[method][name].transform if routing else {} for name, _ in transforms]
            for method in ("predict", "predict_proba")
        )
        if all(a.keys() == b.keys() for a, b in zip(predict_steps, proba_steps, strict=True)):
            Xt = X
            for (_, step), params in zip(transforms, predict_steps, strict=True):
                Xt = step.transform(Xt, **params)
            transform_time = time.perf_counter() - started
            final_name, final = estimator.steps[-1]
            if routing:  # without routing, Pipeline gives the final step the parameters
                predict_params = routed["predict"][final_name].predict
                proba_params = routed["predict_proba"][final_name].predict_proba
            labels, proba, final_time = _labels_and_probabilities(
                final, Xt, predict_params, proba_params
            )
            return labels, proba, transform_time + final_time
    labels = np.asarray(estimator.predict(X, **predict_params))
    predict_time = time.perf_counter() - started
    proba = np.asarray(estimator.predict_proba(X, **proba_params), dtype=float)
    return labels, proba, predict_time


def can_enroll_speakers(estimator) -> bool:
    """Whether :func:`enroll_speakers` can enroll ``estimator`` (it has a step with ``enroll``)."""
    return hasattr(estimator, "enroll") or _speaker_step_index(estimator) is not None


def _speaker_step_index(estimator) -> int | None:
    """Index of the first top-level step of a Pipeline with an ``enroll`` method, else None."""
    from sklearn.pipeline import Pipeline

    if not isinstance(estimator, Pipeline):
        return None
    return next((i for i, (_, step) in enumerate(estimator.steps) if hasattr(step, "enroll")),
                None)


def enroll_speakers(estimator, X, groups):
    """Give a fitted model's speaker-normalization step the statistics of new speakers.

    ``X`` holds unlabeled clips of the speakers in ``groups`` (what the model's
    ``predict`` takes). They are run through the steps before the
    normalization step, whose ``enroll`` method stores each speaker's
    statistics; afterwards ``predict(X_new, groups=...)`` normalizes those
    speakers with their enrollment statistics, however few clips a call holds
    (one clip at a time is fine).

    Parameters
    ----------
    estimator : fitted Pipeline (or estimator with ``enroll``)
        The step with an ``enroll(X, groups)`` method (a speaker scaler, or a
        final :class:`~skser.adaptation.SpeakerAdaptiveClassifier`) must be a
        top-level step.
    X : sequence of clips or array-like
        Enrollment clips.
    groups : array-like of shape (n_clips,)
        Speaker id of each enrollment clip.

    Returns
    -------
    estimator
        The same object, enrolled in place.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skser.features import SpeakerStandardScaler
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(40, 3)), np.tile([0, 1], 20)
    >>> g = np.repeat(["a", "b"], 20)
    >>> pipe = make_pipeline(SpeakerStandardScaler(), LogisticRegression())
    >>> _ = pipe.fit(X, y, speakerstandardscaler__groups=g)
    >>> _ = enroll_speakers(pipe, rng.normal(size=(5, 3)) + 2.0, ["new"] * 5)
    >>> pipe[0].enrolled_speakers_.tolist()
    ['new']
    """
    groups = np.asarray(groups, dtype=object)
    if hasattr(estimator, "enroll"):
        estimator.enroll(X, groups)
        return estimator
    index = _speaker_step_index(estimator)
    if index is not None:  # a scaler, or a final SpeakerAdaptiveClassifier
        Xt = X
        for _, step in estimator.steps[:index]:
            if step is not None and step != "passthrough":
                Xt = step.transform(Xt)
        estimator.steps[index][1].enroll(Xt, groups)
        return estimator
    raise ValueError(
        f"{type(estimator).__name__} has no speaker-normalization step with an enroll() "
        "method (such as SpeakerStandardScaler) at its top level, so speakers cannot be "
        "enrolled. Use adaptation='speaker' or 'none'."
    )


def _build_report(
    results, splits, y, groups, splitter, speaker_independent, adaptation
) -> EvaluationReport:
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
        adaptation=adaptation,
        groups=None if groups is None else np.asarray(groups, dtype=object)[tested],
    )


def _macro_auc(y, y_proba, labels) -> float:
    """Macro one-vs-rest ROC-AUC, class by class (rows need not sum to 1)."""
    y = np.asarray(y)
    if len(labels) == 2:
        return float(roc_auc_score(y == labels[1], y_proba[:, 1]))
    return float(np.mean([roc_auc_score(y == c, y_proba[:, i]) for i, c in enumerate(labels)]))


class LeaveOneCorpusOut(BaseCrossValidator):
    """Test each corpus with a model trained on all the others.

    A cross-corpus protocol for a combined corpus (:func:`skser.datasets.combine`):
    one fold per corpus. Speakers of different corpora are different people,
    so every split is also speaker-independent.

    Parameters
    ----------
    corpora : array-like of shape (n_clips,)
        The corpus of each clip, e.g. ``combined.frame["corpus"]``.

    Examples
    --------
    >>> import numpy as np
    >>> cv = LeaveOneCorpusOut(["a", "a", "b", "b", "c"])
    >>> [test.tolist() for _, test in cv.split(np.zeros(5))]
    [[0, 1], [2, 3], [4]]
    """

    def __init__(self, corpora):
        self.corpora = corpora

    def _labels(self, n_samples: int | None = None) -> np.ndarray:
        labels = np.asarray(self.corpora, dtype=object)
        if labels.ndim != 1:
            raise ValueError("LeaveOneCorpusOut: corpora must be 1-D, one corpus per clip.")
        if n_samples is not None and len(labels) != n_samples:
            raise ValueError(
                f"LeaveOneCorpusOut has {len(labels)} corpus labels but X has {n_samples} "
                "clips; pass the corpus column of the same corpus (frame['corpus'])."
            )
        if len(np.unique(labels)) < 2:
            raise ValueError(
                "LeaveOneCorpusOut needs clips of at least 2 corpora; got "
                f"{np.unique(labels).tolist()}."
            )
        return labels

    def _iter_test_masks(self, X=None, y=None, groups=None):
        labels = self._labels(None if X is None else len(X))
        for corpus in np.unique(labels):
            yield labels == corpus

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of corpora."""
        return len(np.unique(self._labels(None if X is None else len(X))))


def _as_corpus_list(corpora, what: str) -> list:
    from skser.datasets import Corpus

    items = [corpora] if isinstance(corpora, Corpus) else list(corpora)
    if not items:
        raise ValueError(f"{what} needs at least one corpus.")
    for item in items:
        if not isinstance(item, Corpus):
            raise TypeError(f"{what} takes Corpus objects, got {type(item).__name__}.")
    return items


def evaluate_cross_corpus(
    estimator,
    train,
    test,
    *,
    label_map=None,
    adaptation: str = "speaker",
    n_jobs: int | None = None,
    random_state: int = 0,
) -> EvaluationReport:
    """Train on some corpora, test on others; report on the classes they share.

    Parameters
    ----------
    estimator : estimator or Pipeline
        Cloned and fitted on all of ``train``.
    train, test : Corpus or list of Corpus
        Several corpora on one side are combined (:func:`skser.datasets.combine`).
        Only the emotions present in every corpus of both sides are kept; the
        report's ``protocol`` names them and the corpora.
    label_map : {"fser8", "4class"}, dict or None
        Applied to every corpus before the shared classes are taken.
    adaptation : {"speaker", "none"} or "enroll:K", default="speaker"
        As in :func:`evaluate`, for the test corpus's speakers.
    n_jobs : int, optional
        Passed to :func:`evaluate` (one split: no parallel folds).
    random_state : int, default=0
        Seed of the enrollment draw.

    Returns
    -------
    EvaluationReport

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.svm import SVC
    >>> from skser.datasets import make_synthetic_corpus
    >>> from skser.features import MFCCTransformer
    >>> a = make_synthetic_corpus(n_speakers=2, n_per_class=2, duration=0.5, random_state=0)
    >>> b = make_synthetic_corpus(n_speakers=2, n_per_class=2, duration=0.5, random_state=1)
    >>> pipe = make_pipeline(MFCCTransformer(output="stats"), StandardScaler(), SVC())
    >>> report = evaluate_cross_corpus(pipe, a, b, adaptation="none")
    >>> report.adaptation
    'none'
    """
    from skser.datasets import Corpus, combine

    parse_adaptation(adaptation)  # one protocol: a single split, a single report
    train_list = _as_corpus_list(train, "evaluate_cross_corpus(train=...)")
    test_list = _as_corpus_list(test, "evaluate_cross_corpus(test=...)")
    tagged = []
    for i, corpus in enumerate(train_list + test_list):
        # Tag copies (never the caller's corpora): which side and which input each clip is.
        frame = corpus.frame.copy()
        frame["_source"] = i
        tagged.append(Corpus(**{**corpus, "frame": frame}))
    both = combine(tagged, label_map=label_map)
    source = both.frame["_source"].to_numpy()
    classes = sorted(
        set.intersection(*(set(both.y[source == i].tolist()) for i in range(len(tagged))))
    )
    if len(classes) < 2:
        raise ValueError(
            "The train and test corpora share fewer than 2 emotions "
            f"({classes}); pass a label_map that maps them onto common classes."
        )
    keep = np.isin(both.y, classes)
    is_test = source[keep] >= len(train_list)
    names_train = "+".join(c.name for c in train_list)
    names_test = "+".join(c.name for c in test_list)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The groups parameter is ignored")
        report = evaluate(
            estimator,
            both.X[keep],
            both.y[keep],
            groups=both.groups[keep],
            cv=PredefinedSplit(np.where(is_test, 0, -1)),
            adaptation=adaptation,
            n_jobs=n_jobs,
            random_state=random_state,
        )
    report.protocol = (
        f"cross-corpus: train {names_train}, test {names_test}; "
        f"shared classes {classes}"
    )
    return report
