"""Ready classical baselines: {MFCC, GTCC} statistics (+ YAMNet "DL" embedding) x {RF, SVM, MLP}.

These are the baselines of Table II of Sharan, Mascolo & Schuller's CNN-RNN
paper (Sharan, Mascolo & Schuller, 'Emotion Recognition from Speech Signals by Mel-Spectrogram and a CNN-RNN'): cepstral
features (MFCC or GTCC), optionally concatenated with "deep learning (DL)
features", the embeddings of a network pretrained for audio analysis,
classified with a random forest, a support vector machine or a multilayer
perceptron. That paper defers the details to Sharan (ICMLANT 2023), whose
abstract adds only that the DL features come from a pretrained audio network
and that the MLP ran on an ANOVA-selected subset. Everything else is ours and
stated in :func:`make_baseline`.
"""

from __future__ import annotations

from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import RandomForestClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skser._validation import check_option, check_positive
from skser.features import (
    EmbeddingTransformer,
    GTCCTransformer,
    MFCCTransformer,
    SpeakerStandardScaler,
)

__all__ = ["make_baseline", "BASELINE_FEATURES", "BASELINE_CLASSIFIERS"]

#: Feature blocks a baseline can concatenate (``"+"``-joined in ``features``).
BASELINE_FEATURES = ("mfcc", "gtcc", "dl")
#: Classifier names and the pipeline step each becomes.
BASELINE_CLASSIFIERS = {"svm": "svc", "rf": "rf", "mlp": "mlp"}

#: Cepstral setting shared by MFCC and GTCC: 13 coefficients (0 included) with
#: deltas and delta-deltas over 25 ms Hann windows every 10 ms, summarized per
#: clip by mean and standard deviation (78 features).
_CEPSTRAL = dict(deltas=True, output="stats", stats=("mean", "std"))


def _parse_features(features) -> list[str]:
    if not isinstance(features, str):
        raise ValueError(f"features must be a string such as 'mfcc+dl', got {features!r}.")
    parts = [p.strip().lower() for p in features.split("+")]
    for part in parts:
        check_option(part, "features", list(BASELINE_FEATURES))
    if len(set(parts)) != len(parts):
        raise ValueError(f"features lists a block twice: {features!r}.")
    return [p for p in BASELINE_FEATURES if p in parts]  # canonical order


def _feature_block(name, *, sr, yamnet_weights, n_jobs):
    if name == "mfcc":
        return MFCCTransformer(sr=sr, n_mfcc=13, n_jobs=n_jobs, **_CEPSTRAL)
    if name == "gtcc":
        return GTCCTransformer(sr=sr, n_gtcc=13, n_jobs=n_jobs, **_CEPSTRAL)
    return EmbeddingTransformer(
        weights=yamnet_weights, sr=sr, output="pooled", pooling="mean", n_jobs=n_jobs
    )


def _classifier(name, *, probability, random_state, n_jobs):
    if name == "svm":
        svc = SVC(kernel="rbf", C=1.0, gamma="scale", random_state=random_state)
        # SVC(probability=True) is deprecated in scikit-learn 1.9; the replacement
        # calibrates the decision values on internal folds of the training data.
        return CalibratedClassifierCV(svc, ensemble=False) if probability else svc
    if name == "rf":
        return RandomForestClassifier(n_estimators=500, random_state=random_state, n_jobs=n_jobs)
    return MLPClassifier(
        hidden_layer_sizes=(256,), alpha=1e-3, max_iter=500, random_state=random_state
    )


def make_baseline(
    features="gtcc+dl",
    classifier="svm",
    *,
    sr=16000,
    yamnet_weights=None,
    speaker_normalization=False,
    probability=False,
    random_state=0,
    n_jobs=None,
):
    """A classical SER pipeline from audio clips to labels (CNN-RNN paper, Table II).

    Steps: ``"features"`` -- a :class:`~sklearn.pipeline.FeatureUnion` of the
    requested blocks (``"mfcc"``, ``"gtcc"``, ``"dl"``) --, ``"scaler"`` --
    :class:`~sklearn.preprocessing.StandardScaler` or
    :class:`skser.features.SpeakerStandardScaler` --, then the classifier
    step ``"svc"``, ``"rf"`` or ``"mlp"``. Parameters are reachable with the
    usual names, e.g. ``features__mfcc__n_mfcc``, ``svc__C``.

    Settings (the paper names the features and classifiers only):

    * MFCC / GTCC: 13 coefficients (0th included) plus deltas and
      delta-deltas, 25 ms Hann windows every 10 ms (40 Slaney mel bands for
      MFCC, 64 ERB-spaced gammatone channels from 50 Hz for GTCC), mean and
      standard deviation over the clip: 78 features each.
    * DL: YAMNet embeddings of 0.975 s windows with 50 % overlap (the paper's
      segmentation), averaged over the clip: 1024 features.
    * SVM: RBF kernel, ``C=1``, ``gamma="scale"``. RF: 500 trees.
      MLP: one hidden layer of 256 ReLU units, Adam, ``alpha=1e-3``, up to
      500 epochs.

    Each feature block reads the clips itself, so memory stays that of one
    clip per worker; with paths the audio is decoded once per block.

    Parameters
    ----------
    features : str, default="gtcc+dl"
        ``"+"``-joined blocks from ``"mfcc"``, ``"gtcc"``, ``"dl"`` (YAMNet),
        e.g. ``"mfcc"``, ``"gtcc+dl"``, ``"mfcc+gtcc"``. The paper's best
        baselines used ``"gtcc+dl"``.
    classifier : {"svm", "rf", "mlp"}, default="svm"
    sr : int, default=16000
        Sample rate paths are read at and arrays are taken to be at.
    yamnet_weights : str, path-like or None, default=None
        YAMNet weights for ``"dl"`` (``yamnet.tflite`` or ``yamnet.h5``);
        None: ``$SKSER_YAMNET`` or ``~/skser_data/models/yamnet.tflite``.
        A missing file raises ``FileNotFoundError`` (with the download
        addresses) at ``fit``.
    speaker_normalization : bool, default=False
        Standardize each speaker with its own statistics
        (:class:`~skser.features.SpeakerStandardScaler`); speaker ids reach it
        as ``groups`` through metadata routing (``skser.evaluate`` does this).
    probability : bool, default=False
        SVM only: wrap the SVC in ``CalibratedClassifierCV(ensemble=False)``
        so that ``predict_proba`` (and the report's ROC-AUC) exist, at about
        six times the fitting cost; the SVC is then ``svc__estimator``. RF and
        MLP always have ``predict_proba``. Without it the SVM pipeline has no
        ``predict_proba``, which ``skser.evaluate`` handles.
    random_state : int or None, default=0
        Seed of the random forest and the MLP (also stored on the SVC, which draws none).
    n_jobs : int or None, default=None
        Parallel clips in the feature steps, and trees of the random forest.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Unfitted; ``fit(X, y)`` takes clips (paths or 1-D waveforms) and labels.

    Examples
    --------
    >>> from skser.baselines import make_baseline
    >>> pipe = make_baseline("mfcc", "svm")
    >>> [name for name, _ in pipe.steps]
    ['features', 'scaler', 'svc']
    >>> from skser.datasets import make_synthetic_corpus
    >>> corpus = make_synthetic_corpus(n_speakers=2, n_per_class=2, duration=0.5)
    >>> pipe.fit(corpus.X, corpus.y).predict(corpus.X[:3]).shape
    (3,)
    """
    blocks = _parse_features(features)
    check_option(classifier, "classifier", list(BASELINE_CLASSIFIERS))
    check_positive(sr, "sr", integer=True)
    union = FeatureUnion(
        [
            (b, _feature_block(b, sr=sr, yamnet_weights=yamnet_weights, n_jobs=n_jobs))
            for b in blocks
        ]
    )
    scaler = SpeakerStandardScaler() if speaker_normalization else StandardScaler()
    clf = _classifier(
        classifier, probability=probability, random_state=random_state, n_jobs=n_jobs
    )
    return Pipeline(
        [("features", union), ("scaler", scaler), (BASELINE_CLASSIFIERS[classifier], clf)]
    )
