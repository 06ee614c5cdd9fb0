"""What the paper-reproduction benchmarks share (table2, fser, cnn2d, mfcc_tess).

* :func:`compute_features` runs a recipe's feature steps once for all clips
  (through the per-clip cache of ``_common.enable_feature_cache``) and returns
  the rest of the pipeline. The feature steps are stateless (nothing is learned
  in ``fit``), so this is the same as computing them inside every fold, without
  recomputing (or re-reading the cache) per fold and per protocol.
* :func:`random_split` / :func:`speaker_split`: one hold-out split, random
  (speaker-dependent, as the papers did) or by speaker (speaker-independent).
* :func:`run`: ``skser.evaluate`` with progress, the JSON entry and the
  confusion-matrix PNG; :class:`EpochLog` records the epochs every Keras fit
  ran (early stopping) and its seconds per epoch.
"""

from __future__ import annotations

import time
import warnings

import keras
import numpy as np
from _common import enable_feature_cache, save_confusion_png
from sklearn.metrics import precision_recall_fscore_support, roc_auc_score
from sklearn.model_selection import GroupShuffleSplit, StratifiedShuffleSplit
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from skser.model_selection import SpeakerLeakageWarning, evaluate

SPEAKER_DEPENDENT = "speaker-dependent"
SPEAKER_INDEPENDENT = "speaker-independent"


def add_run_arguments(parser, *, render_only: bool = True) -> None:
    """The options every paper script shares: ``--n-jobs``, ``--seed`` and ``--render-only``."""
    if render_only:
        parser.add_argument("--render-only", action="store_true",
                            help="rebuild the Markdown from the saved JSON, run nothing")  # fmt: skip
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)


def split_pipeline(pipe: Pipeline):
    """``(features, rest)``: the stateless feature steps and what follows them.

    The feature part is the ``"features"`` step plus any stateless
    ``FunctionTransformer`` right after it (e.g. the grey-channel step);
    ``rest`` is a Pipeline, or the bare estimator when only one step is left.
    """
    names = [name for name, _ in pipe.steps]
    k = names.index("features") + 1
    while k < len(pipe.steps) - 1 and isinstance(pipe.steps[k][1], FunctionTransformer):
        k += 1
    rest = pipe.steps[k:]
    return Pipeline(pipe.steps[:k]), (rest[0][1] if len(rest) == 1 else Pipeline(rest))


_MEMO: dict = {}


def compute_features(pipe: Pipeline, X, *, cache: str, label: str):
    """Features of every clip (cached per clip on disk) and the estimator that follows them.

    Recipes with the same feature steps (e.g. the three MFCC-sequence models)
    share one array in memory: the key is every feature parameter and the clips.
    """
    features, rest = split_pipeline(pipe)
    enable_feature_cache(features, cache)
    params = features.get_params(deep=True)
    key = (repr(sorted((k, repr(v)) for k, v in params.items() if "__" in k)),
           tuple(map(str, X)))  # fmt: skip
    started = time.perf_counter()
    if key not in _MEMO:
        _MEMO[key] = features.fit_transform(X)
    F = _MEMO[key]
    seconds = time.perf_counter() - started
    print(f"  features for {label}: {np.shape(F)} in {seconds:.1f} s", flush=True)
    return F, rest, seconds


def random_split(y, *, test_size: float, seed: int):
    """One stratified random train/test split (speakers shared: speaker-dependent)."""
    splitter = StratifiedShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y))


def speaker_split(y, groups, *, test_size: float, seed: int):
    """One train/test split holding out ``test_size`` of the speakers (speaker-independent)."""
    splitter = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y, groups))


class EpochLog(keras.callbacks.Callback):
    """Epochs run and seconds per epoch of every Keras fit.

    ``fits`` is a class attribute on purpose: scikit-learn's ``clone`` deep-copies
    the callbacks for every fold, and every copy appends to the same list.
    """

    fits: list = []

    def on_train_begin(self, logs=None):
        self._times, self._val = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self._times.append(time.perf_counter() - self._start)
        self._val.append((logs or {}).get("val_loss"))

    def on_train_end(self, logs=None):
        val = [v for v in self._val if v is not None]
        EpochLog.fits.append({
            "epochs_run": len(self._times),
            "best_epoch": int(np.argmin(val)) + 1 if val else None,
            "first_epoch_s": round(self._times[0], 2) if self._times else None,
            "median_epoch_s": round(float(np.median(self._times[1:] or self._times)), 2)
            if self._times else None,
        })  # fmt: skip


def run(
    name,
    estimator,
    X,
    y,
    *,
    cv,
    protocol: str,
    groups=None,
    png: str | None = None,
    title: str | None = None,
) -> tuple:
    """``evaluate`` one estimator; print a line; return ``(report, json_entry)``.

    ``groups`` are the speaker ids: given, the leakage guard checks the splits
    and the Keras models hold out training speakers for early stopping; left
    out (the papers' random splits), the result is labelled speaker-dependent.
    """
    EpochLog.fits.clear()
    print(f"-> {name} | {protocol}", flush=True)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpeakerLeakageWarning)  # labelled in the report
        warnings.filterwarnings("ignore", message=".*did not converge.*")
        warnings.filterwarnings("ignore", message=".*Maximum iterations.*")
        report = evaluate(estimator, X, y, groups=groups, cv=cv)
    wall = time.perf_counter() - started
    epochs = ""
    if EpochLog.fits:
        runs = [f["epochs_run"] for f in EpochLog.fits]
        epochs = (
            f", epochs run {min(runs)}-{max(runs)}, ~{EpochLog.fits[0]['median_epoch_s']} s/epoch"
        )
    print(
        f"   {report.evaluation}: UAR {report.uar_pooled:.3f}, accuracy "
        f"{report.accuracy:.3f} ({len(report.folds)} fold(s), {wall:.0f} s{epochs})",
        flush=True,
    )
    entry = {
        "name": name,
        "protocol": protocol,
        "evaluation": report.evaluation,
        "wall_s": round(wall, 1),
        "keras_fits": list(EpochLog.fits),
        "report": report.to_dict(),
    }
    if png:
        entry["confusion_png"] = save_confusion_png(
            report, png, figure_title(report, title or name)
        )
    return report, entry


def figure_title(report, label: str) -> str:
    """Two short lines: what ran, then the evaluation and its UAR (fits a 4-class figure)."""
    return f"{label}\n{report.evaluation}, UAR {report.uar_pooled:.3f}"


def per_class_report(report) -> dict:
    """Precision, recall, F1, support and one-vs-rest ROC-AUC per class (FSER Table 2 layout)."""
    labels = list(report.labels)
    y_true, y_pred = np.asarray(report.y_true), np.asarray(report.y_pred)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    out = {}
    for i, label in enumerate(labels):
        auc = None
        if report.y_proba is not None and 0 < (y_true == label).sum() < len(y_true):
            auc = float(roc_auc_score(y_true == label, report.y_proba[:, i]))
        out[label] = {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                      "support": int(s[i]), "auc": auc}  # fmt: skip
    return out


def pct(value) -> str:
    """A fraction as a percentage with one decimal ("-" for None)."""
    return "-" if value is None else f"{100 * value:.1f}"


def f3(value) -> str:
    """Three decimals ("-" for None)."""
    return "-" if value is None else f"{value:.3f}"


def saved_run(name: str):
    """``(payload, reports)`` of a saved ``results/<name>.json``; each report a namespace.

    Lets a script rebuild its Markdown (``--render-only``) without re-running:
    the namespaces carry the summary fields of ``EvaluationReport.to_dict``.
    """
    import json
    from functools import partial
    from types import SimpleNamespace

    from _common import RESULTS

    from skser.model_selection import EvaluationReport

    path = RESULTS / f"{name}.json"
    if not path.exists():
        raise SystemExit(f"{path} not found: run the benchmark first.")
    payload = json.loads(path.read_text())
    reports = []
    for row in payload["rows"]:
        report = SimpleNamespace(**row["report"])
        report.confusion = np.asarray(report.confusion)
        report.plot_confusion_matrix = partial(EvaluationReport.plot_confusion_matrix, report)
        reports.append(report)
    return payload, reports
