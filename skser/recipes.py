"""Named end-to-end SER pipelines ("recipes"): audio clips in, emotion labels out.

Each recipe is a builder registered with :func:`register_recipe` and its
paper. :func:`make_ser_pipeline` builds one and
applies ``set_params``-style overrides; :func:`list_recipes` tabulates them.
Every recipe works on any corpus (nothing corpus-specific: fixed lengths are
in seconds, classes come from ``y``) and on paths or waveforms alike.

Step names are shared: ``"features"`` (the feature transformer, or a
``FeatureUnion`` of them), ``"scaler"`` and ``"svc"``/``"rf"``/``"mlp"`` in
the classical baselines, ``"model"`` for the Keras model of the deep ones.
So ``make_ser_pipeline("svm-mfcc", svc__C=3)`` or
``make_ser_pipeline("fser-cnn2d", model__epochs=400, model__early_stopping=False)``.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.ensemble import VotingClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.validation import check_is_fitted

from skser.augment import SpectrogramAugmenter
from skser.baselines import make_baseline
from skser.features import MelSpectrogramTransformer, MFCCTransformer, TemporalPooling
from skser._parallel import one_blas_thread

__all__ = ["make_ser_pipeline", "list_recipes", "register_recipe", "unregister_recipe", "Recipe"]

CNN_RNN = (
    "Sharan, Mascolo & Schuller, 'Emotion Recognition from Speech Signals by Mel-Spectrogram "
    "and a CNN-RNN' (2023)"
)
FSER = (
    "Dossou & Gbenou, 'FSER: Deep Convolutional Neural Networks for Speech Emotion "
    "Recognition' (ICCV Workshops 2021)"
)
SPECTROGRAM_CNN = "'Emotional expression recognition using spectrograms and CNN-2D', RAVDESS"
MFCC_TESS = "Wasowska & Kapitan, 'Emotion recognition from audio' (2024), TESS"

#: Builder options every recipe receives (by keyword) from :func:`make_ser_pipeline`.
BUILDER_OPTIONS = ("sr", "random_state", "n_jobs", "yamnet_weights")


@dataclass(frozen=True)
class Recipe:
    """A registered recipe: its builder and the facts :func:`list_recipes` shows."""

    name: str
    builder: Callable[..., Pipeline]
    family: str
    input: str
    source: str
    cost: str
    description: str
    needs_yamnet: bool = False


_RECIPES: dict[str, Recipe] = {}


def register_recipe(
    name: str,
    builder: Callable[..., Pipeline],
    *,
    family: str,
    input: str,
    source: str,
    cost: str,
    description: str,
    needs_yamnet: bool = False,
    replace: bool = False,
) -> Recipe:
    """Register a recipe under ``name`` (one call per recipe).

    Parameters
    ----------
    name : str
        Recipe name used by :func:`make_ser_pipeline`.
    builder : callable
        ``builder(*, sr, random_state, n_jobs, yamnet_weights) -> Pipeline``,
        returning a new unfitted pipeline from audio clips to labels.
    family, input, source, cost, description : str
        Shown by :func:`list_recipes`; ``source`` cites the paper followed.
    needs_yamnet : bool, default=False
        Whether fitting needs the YAMNet weights file.
    replace : bool, default=False
        Allow replacing an existing recipe of that name.

    Returns
    -------
    Recipe

    Examples
    --------
    >>> from sklearn.pipeline import Pipeline
    >>> from sklearn.svm import LinearSVC
    >>> from skser.features import MFCCTransformer
    >>> def build(*, sr, random_state, n_jobs, yamnet_weights):
    ...     return Pipeline([("features", MFCCTransformer(sr=sr, output="stats")),
    ...                      ("svc", LinearSVC(random_state=random_state))])
    >>> _ = register_recipe("my-linear-svm", build, family="baseline", input="MFCC stats",
    ...                     source="ours", cost="seconds", description="A linear SVM.")
    >>> make_ser_pipeline("my-linear-svm", svc__C=0.1).named_steps["svc"].C
    0.1
    >>> unregister_recipe("my-linear-svm")
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}.")
    if not callable(builder):
        raise TypeError(f"builder must be callable, got {type(builder).__name__}.")
    missing = [opt for opt in BUILDER_OPTIONS if opt not in inspect.signature(builder).parameters]
    if missing:
        raise TypeError(f"builder of {name!r} must accept the keyword arguments {missing}.")
    if name in _RECIPES and not replace:
        raise ValueError(f"A recipe named {name!r} exists; pass replace=True to replace it.")
    recipe = Recipe(name, builder, family, input, source, cost, description, needs_yamnet)
    _RECIPES[name] = recipe
    return recipe


def unregister_recipe(name: str) -> None:
    """Remove the recipe ``name`` (ValueError if there is none)."""
    if name not in _RECIPES:
        raise ValueError(f"Unknown recipe {name!r}; available recipes: {sorted(_RECIPES)}.")
    del _RECIPES[name]


def list_recipes() -> pd.DataFrame:
    """The registered recipes, one row each.

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``family``, ``input``, ``source`` (the paper),
        ``cost`` (rough training cost), ``needs_yamnet``, ``description``.

    Examples
    --------
    >>> table = list_recipes()
    >>> "svm-mfcc" in set(table["name"])
    True
    """
    columns = ["name", "family", "input", "source", "cost", "needs_yamnet", "description"]
    return pd.DataFrame(
        [{c: getattr(r, c) for c in columns} for r in _RECIPES.values()], columns=columns
    )


def make_ser_pipeline(
    recipe: str,
    *,
    sr: int = 16000,
    random_state: int | None = 0,
    n_jobs: int | None = None,
    yamnet_weights=None,
    **overrides,
) -> Pipeline:
    """Build a recipe: an unfitted scikit-learn pipeline from audio clips to labels.

    Parameters
    ----------
    recipe : str
        A name from :func:`list_recipes`.
    sr : int, default=16000
        Sample rate paths are read at and arrays are taken to be at. The
        YAMNet recipes need 16000 (paths are resampled when read).
    random_state : int or None, default=0
        Seed of every random step (classifier, network, augmentation).
    n_jobs : int or None, default=None
        Parallel clips in the feature steps (and random-forest trees).
    yamnet_weights : str, path-like or None, default=None
        YAMNet weights for the recipes that need them (``needs_yamnet``);
        None: ``$SKSER_YAMNET`` or ``~/skser_data/models/yamnet.tflite``; a
        missing file raises ``FileNotFoundError`` at ``fit``. Other recipes
        ignore it, so one call signature fits a loop over every recipe.
    **overrides
        Pipeline parameters in ``set_params`` form, e.g. ``svc__C=3``,
        ``model__epochs=5`` or ``features__n_jobs=4``.

    Returns
    -------
    sklearn.pipeline.Pipeline

    Raises
    ------
    ValueError
        For an unknown recipe (listing the recipes) or an override that is
        not a parameter of the pipeline (listing the valid names).

    Examples
    --------
    >>> pipe = make_ser_pipeline("svm-mfcc", svc__C=3)
    >>> pipe.get_params()["svc__C"]
    3
    >>> make_ser_pipeline("mfcc-lstm", model__epochs=1).named_steps["model"].epochs
    1
    """
    if recipe not in _RECIPES:
        raise ValueError(f"Unknown recipe {recipe!r}; available recipes: {sorted(_RECIPES)}.")
    pipe = _RECIPES[recipe].builder(
        sr=sr, random_state=random_state, n_jobs=n_jobs, yamnet_weights=yamnet_weights
    )
    if overrides:
        valid = pipe.get_params(deep=True)
        unknown = sorted(k for k in overrides if k not in valid)
        if unknown:
            raise ValueError(
                f"Unknown parameter(s) {unknown} for recipe {recipe!r}; valid names: "
                f"{sorted(valid)}."
            )
        pipe.set_params(**overrides)
    return pipe


# --------------------------------------------------------------------------- helpers


def _n_frames(duration: float, sr: int, hop_s: float = 0.010) -> int:
    """Frames of a ``duration``-second clip with a ``hop_s`` hop and librosa centring."""
    hop = max(1, int(round(hop_s * sr)))
    return 1 + int(round(duration * sr)) // hop


def _first_channel(images: np.ndarray) -> np.ndarray:
    """``(n, H, W, C)`` images -> ``(n, H, W, 1)``: the grey channel of a grey image."""
    return np.asarray(images)[..., :1]


# --------------------------------------------------------------------------- baselines


def _baseline_builder(features: str, classifier: str):
    def build(*, sr, random_state, n_jobs, yamnet_weights):
        return make_baseline(
            features, classifier, sr=sr, yamnet_weights=yamnet_weights,
            random_state=random_state, n_jobs=n_jobs,
        )  # fmt: skip

    build.__doc__ = (
        f"{features.upper()} statistics -> {classifier.upper()}: a baseline of Table II of "
        f"{CNN_RNN}; settings in :func:`skser.baselines.make_baseline`."
    )
    return build


_BASELINE_INPUT = {
    "mfcc": "MFCC + deltas, mean/std (78)",
    "gtcc": "GTCC + deltas, mean/std (78)",
    "mfcc+dl": "MFCC stats (78) + mean YAMNet embedding (1024)",
    "gtcc+dl": "GTCC stats (78) + mean YAMNet embedding (1024)",
}
_CLASSIFIER_NAME = {"svm": "RBF SVM", "rf": "random forest (500 trees)", "mlp": "MLP (256)"}

for _clf, _feats in [
    ("svm", "mfcc"), ("svm", "gtcc"), ("svm", "mfcc+dl"), ("svm", "gtcc+dl"),
    ("rf", "mfcc+dl"), ("rf", "gtcc+dl"), ("mlp", "mfcc+dl"), ("mlp", "gtcc+dl"),
]:  # fmt: skip
    _dl = _feats.endswith("+dl")
    register_recipe(
        f"{_clf}-{_feats.replace('+', '-')}",
        _baseline_builder(_feats, _clf),
        family="baseline",
        input=_BASELINE_INPUT[_feats],
        source=f"{CNN_RNN}, Table II",
        cost=(
            "one YAMNet pass per 0.49 s of audio (ms each on CPU), then seconds"
            if _dl
            else "seconds (CPU)"
        ),  # fmt: skip
        description=f"{_BASELINE_INPUT[_feats]}, standardized, {_CLASSIFIER_NAME[_clf]}.",
        needs_yamnet=_dl,
    )


# --------------------------------------------------------------------------- 2-D CNNs


def _fser_cnn2d(*, sr, random_state, n_jobs, yamnet_weights):
    """FSER (Dossou & Gbenou): 64x64 RGB mel-spectrogram images -> four-block CNN.

    Mel spectrogram with a 512-point FFT and hop, 128 mel bands, dB, coloured
    with "coolwarm" and resized to 64 x 64 (see
    :class:`~skser.features.MelSpectrogramTransformer`, ``output="image"``);
    :class:`~skser.models.FSERCNN` with SGD (lr 0.001), batch 64, and the
    paper's augmentation (width/height shift, zoom, horizontal flip:
    :meth:`SpectrogramAugmenter.fser`) applied on the fly to every training
    batch -- fresh variants each epoch instead of 20 stored copies. Source:
    Dossou & Gbenou, FSER (2021).
    """
    from skser.models import FSERCNN

    return Pipeline([
        ("features", MelSpectrogramTransformer(sr=sr, output="image", n_jobs=n_jobs)),
        ("model", FSERCNN(augmenter=SpectrogramAugmenter.fser(random_state=random_state),
                          random_state=random_state)),
    ])  # fmt: skip


def _spectrogram_cnn2d(*, sr, random_state, n_jobs, yamnet_weights):
    """150x150 grayscale spectrogram images -> five-block CNN-2D (RAVDESS spectrogram paper).

    The paper rendered each clip as a spectrogram picture (Spek), converted it
    to grayscale and resized it to 150 x 150. Here: a dB mel spectrogram
    (25 ms window, 10 ms hop, 128 mel bands; the mel axis rather than Spek's
    linear one, which gives the low frequencies of speech more rows), min-max
    scaled per clip, area-resized to 150 x 150, one grey channel ->
    :class:`~skser.models.SpectrogramCNN2D` (Adam, lr 0.005, 50 epochs).
    Source: the spectrogram CNN-2D paper on RAVDESS.
    """
    from skser.models import SpectrogramCNN2D

    image = MelSpectrogramTransformer(
        sr=sr, output="image", image_size=(150, 150), colormap=None,
        win_length=max(1, int(round(0.025 * sr))), hop_length=max(1, int(round(0.010 * sr))),
        n_jobs=n_jobs,
    )  # fmt: skip
    return Pipeline([
        ("features", image),
        ("grey", FunctionTransformer(_first_channel)),
        ("model", SpectrogramCNN2D(random_state=random_state)),
    ])  # fmt: skip


def _spectrogram_cnn1d(*, sr, random_state, n_jobs, yamnet_weights):
    """Per-clip feature vector -> CNN-1D (the RAVDESS spectrogram paper's comparison model).

    The paper fed the means of librosa's MFCC, mel, tonnetz and contrast
    features to a four-layer Conv1D network (RMSprop, lr 5e-5, batch 20).
    Here: the means of 40 MFCCs and of 128 dB mel bands (168 values; tonnetz
    and contrast are not in skser), read by
    :class:`~skser.models.SpectrogramCNN1D` as a one-channel sequence.
    Source: the spectrogram CNN-2D paper on RAVDESS.
    """
    from skser.models import SpectrogramCNN1D

    mel_means = Pipeline([
        ("spectrogram", MelSpectrogramTransformer(sr=sr, n_jobs=n_jobs)),
        ("pooling", TemporalPooling(stats=("mean",), time_axis=2, ignore_padding=True)),
    ])  # fmt: skip
    features = FeatureUnion([
        ("mfcc", MFCCTransformer(sr=sr, n_mfcc=40, output="stats", stats=("mean",),
                                 n_jobs=n_jobs)),
        ("mel", mel_means),
    ])  # fmt: skip
    return Pipeline(
        [("features", features), ("model", SpectrogramCNN1D(random_state=random_state))]
    )


# --------------------------------------------------------------------------- MFCC sequences

#: Fixed clip length of the MFCC sequence recipes, in seconds: longer clips are
#: truncated and shorter ones zero-padded, as in the paper (TESS clips last
#: 1-2 s; 3 s keeps a whole RAVDESS sentence).
MFCC_SEQUENCE_SECONDS = 3.0


def _mfcc_sequence(sr, n_jobs):
    return MFCCTransformer(
        sr=sr, output="sequence", max_frames=_n_frames(MFCC_SEQUENCE_SECONDS, sr), n_jobs=n_jobs
    )


def _mfcc_cnn1d(*, sr, random_state, n_jobs, yamnet_weights):
    """MFCC sequences -> Conv1D (Wasowska & Kapitan, TESS).

    librosa-style MFCC (13 coefficients, 25 ms / 10 ms), ``(n_frames,
    n_mfcc)`` per clip zero-padded or truncated at the end to 3 s (301
    frames at 16 kHz) -> :class:`~skser.models.MFCCConv1D`. Source:
    Wasowska & Kapitan, Emotion recognition from audio (2024).
    """
    from skser.models import MFCCConv1D

    return Pipeline([("features", _mfcc_sequence(sr, n_jobs)),
                     ("model", MFCCConv1D(random_state=random_state))])  # fmt: skip


def _mfcc_lstm(*, sr, random_state, n_jobs, yamnet_weights):
    """MFCC sequences -> two-layer LSTM (Wasowska & Kapitan, TESS).

    Features as in ``"mfcc-cnn1d"`` -> :class:`~skser.models.MFCCLSTM`.
    Source: Wasowska & Kapitan, Emotion recognition from audio (2024).
    """
    from skser.models import MFCCLSTM

    return Pipeline([("features", _mfcc_sequence(sr, n_jobs)),
                     ("model", MFCCLSTM(random_state=random_state))])  # fmt: skip


def _mfcc_cnn_lstm(*, sr, random_state, n_jobs, yamnet_weights):
    """MFCC sequences -> Conv1D + LSTM, the paper's best model (Wasowska & Kapitan, TESS).

    Features as in ``"mfcc-cnn1d"`` -> :class:`~skser.models.MFCCCNNLSTM`.
    Source: Wasowska & Kapitan, Emotion recognition from audio (2024).
    """
    from skser.models import MFCCCNNLSTM

    return Pipeline([("features", _mfcc_sequence(sr, n_jobs)),
                     ("model", MFCCCNNLSTM(random_state=random_state))])  # fmt: skip


# --------------------------------------------------------------------------- CNN-RNN


def _crnn_small(*, sr, random_state, n_jobs, yamnet_weights):
    """Log-mel segment stacks -> small CNN per segment -> two LSTMs (CNN-RNN, from scratch).

    The CNN-RNN paper's input (0.975 s segments with 50 % overlap, each a
    96 x 64 log-mel patch: 25 ms Hann, 10 ms hop, 64 HTK mel bands
    125-7500 Hz) and LSTM head (2 x 150 units, Adam lr 3e-4, batch 24), with
    a compact CNN trained from scratch instead of YAMNet: no weights file
    needed. Source: Sharan, Mascolo & Schuller, CNN-RNN (2023).
    """
    from skser.models import CNNRNN

    return Pipeline([
        ("features", MelSpectrogramTransformer(sr=sr, output="segments", n_jobs=n_jobs)),
        ("model", CNNRNN(backbone="small", random_state=random_state)),
    ])  # fmt: skip


def _crnn_yamnet_lstm(*, sr, random_state, n_jobs, yamnet_weights):
    """Log-mel segment stacks -> pretrained YAMNet per segment -> two LSTMs (the CNN-RNN paper).

    Segments as in ``"crnn-small"``, but each patch comes from YAMNet's own
    frontend (``frontend="yamnet"``), so the pretrained network sees exactly
    what it was trained on; :class:`~skser.models.CNNRNN` with
    ``backbone="yamnet"`` (frozen by default; ``model__backbone_trainable=True``
    fine-tunes it, as MATLAB transfer learning in the paper likely did),
    2 x 150 LSTM units, Adam lr 3e-4, batch 24, 50 epochs. Needs 16 kHz.
    Source: Sharan, Mascolo & Schuller, CNN-RNN (2023).
    """
    from skser.models import CNNRNN

    return Pipeline([
        ("features", MelSpectrogramTransformer(sr=sr, output="segments", frontend="yamnet",
                                               n_jobs=n_jobs)),
        ("model", CNNRNN(backbone="yamnet", backbone_weights=yamnet_weights,
                         random_state=random_state)),
    ])  # fmt: skip


#: Clip length of ``"recommended-deep"``: clips are centre-cropped or padded to it.
RECOMMENDED_DEEP_SECONDS = 4.0


def _recommended_deep(*, sr, random_state, n_jobs, yamnet_weights):
    """64-band log-mel (4 s) -> attention-pooling CNN with the modern training recipe.

    dB mel spectrogram (25 ms window, 20 ms hop -- half the frames of 10 ms
    for half the CPU time, 64 bands), each clip centre-cropped or padded to
    4 s (201 frames) -> :class:`~skser.models.AttentionCNN`:
    standardization with training-set statistics and SpecAugment in the
    graph, random 3 s training crops (whole clip at predict time), label
    smoothing, AdamW with warm-up and cosine decay, 60 epochs. Works clip by
    clip without speaker ids. RAVDESS 8 emotions, 5-fold GroupKFold by
    actor: UAR 0.621 +- 0.033 (0.606 +- 0.043 with the earlier 45 epochs),
    about 8-9 min per fold on 2 CPU cores (``benchmarks/results/deep.md``;
    settings chosen on training actors).
    A 40 ms hop would train twice as fast but scored 0.566 against 0.611 on
    three inner folds of the training actors, so the 20 ms hop stays.
    """
    from skser.models import AttentionCNN

    return Pipeline([
        ("features", MelSpectrogramTransformer(
            sr=sr, n_mels=64, win_length=max(1, int(round(0.025 * sr))),
            hop_length=max(1, int(round(0.020 * sr))), duration=RECOMMENDED_DEEP_SECONDS,
            n_jobs=n_jobs)),
        ("model", AttentionCNN(random_state=random_state)),
    ])  # fmt: skip


def _register_deep():
    image = "mel-spectrogram image"
    register_recipe(
        "fser-cnn2d",
        _fser_cnn2d,
        family="cnn2d",
        input=f"{image}, 64x64 RGB (coolwarm)",
        source=FSER,
        cost="minutes on CPU per 1,000 clips and epoch budget; GPU recommended",
        description="Four-block CNN on mel-spectrogram images, FSER augmentation on the fly.",
    )
    register_recipe(
        "spectrogram-cnn2d",
        _spectrogram_cnn2d,
        family="cnn2d",
        input=f"{image}, 150x150 grey",
        source=SPECTROGRAM_CNN,
        cost="minutes on CPU; GPU recommended",
        description="Five conv/pool blocks (5x5, pool 5) + dense 1024 on grey spectrograms.",
    )
    register_recipe(
        "spectrogram-cnn1d",
        _spectrogram_cnn1d,
        family="cnn1d",
        input="means of 40 MFCCs + 128 dB mel bands (168)",
        source=SPECTROGRAM_CNN,
        cost="seconds to minutes on CPU",
        description="Four Conv1D layers on the per-clip feature vector (paper's CNN-1D).",
    )
    for name, builder, what in [
        ("mfcc-cnn1d", _mfcc_cnn1d, "Two Conv1D/pool/batch-norm blocks + L1L2 dense layers"),
        ("mfcc-lstm", _mfcc_lstm, "Two stacked LSTMs (64, 32) + dense 20"),
        ("mfcc-cnn-lstm", _mfcc_cnn_lstm, "Conv1D front end + LSTM (64), the paper's best"),
    ]:
        register_recipe(
            name, builder, family="rnn" if name == "mfcc-lstm" else "cnn1d",
            input="MFCC sequence, 13 x 3 s (301 frames)", source=MFCC_TESS,
            cost="minutes on CPU", description=f"{what} on MFCC sequences.",
        )  # fmt: skip
    register_recipe(
        "crnn-small",
        _crnn_small,
        family="crnn",
        input="log-mel segment stack (n_segments, 96, 64)",
        source=CNN_RNN,
        cost="minutes on CPU",
        description="Small per-segment CNN + 2 x 150 LSTM (from scratch).",
    )
    register_recipe(
        "crnn-yamnet-lstm",
        _crnn_yamnet_lstm,
        family="crnn",
        input="YAMNet log-mel segment stack (n_segments, 96, 64)",
        source=CNN_RNN,
        cost="YAMNet forward pass per segment and epoch; GPU recommended",
        description="Pretrained YAMNet per segment + 2 x 150 LSTM (the paper's YAMNet-LSTM).",
        needs_yamnet=True,
    )
    register_recipe(
        "recommended-deep",
        _recommended_deep,
        family="cnn2d",
        input="64-band log-mel spectrogram, 4 s",
        source="skser benchmarks (RAVDESS); SpecAugment (Park et al., 2019), mixup (2018)",
        cost="minutes per 1,000 clips and epoch budget on CPU (benchmarks/results/deep.md)",
        description="Attention-pooling CNN, AdamW + cosine, crops, SpecAugment.",
    )


_register_deep()


# --------------------------------------------------------------------------- recommended
# The best speaker-independent recipe the benchmarks found (benchmarks/bench_headline.py).


def _block_classifier(pattern: str, classifier) -> Pipeline:
    """``classifier`` on the feature columns whose names match ``pattern`` (pandas input)."""
    from sklearn.preprocessing import StandardScaler

    select = _ColumnBlock(pattern)
    return Pipeline([("select", select), ("scale", StandardScaler()), ("clf", classifier)])


class _ColumnBlock(TransformerMixin, BaseEstimator):
    """The columns of a DataFrame whose names match ``pattern`` (``re.search``), as an array.

    What ``ColumnTransformer`` with ``make_column_selector(pattern)`` and
    ``"passthrough"`` gives, without its per-call validation of pandas input,
    which cost about 15 ms of each single-clip prediction of ``recommended``.
    The columns are chosen once, from the names seen in ``fit``.
    """

    def __init__(self, pattern):
        self.pattern = pattern

    def fit(self, X, y=None):
        names = getattr(X, "columns", None)
        if names is None:
            raise ValueError(f"{type(self).__name__} needs a pandas DataFrame with feature "
                             "names (the recipe sets set_output(transform='pandas')).")
        self.feature_names_in_ = np.asarray(names, dtype=object)
        self.n_features_in_ = len(names)
        pattern = re.compile(self.pattern)
        self.columns_ = np.flatnonzero([pattern.search(str(n)) is not None for n in names])
        if not len(self.columns_):
            raise ValueError(f"No feature name matches {self.pattern!r}.")
        return self

    def transform(self, X):
        check_is_fitted(self, "columns_")
        names = getattr(X, "columns", None)
        if names is not None and not np.array_equal(np.asarray(names, dtype=object),
                                                    self.feature_names_in_):
            raise ValueError("The feature names differ from those seen in fit.")
        values = np.asarray(X)  # the dtype the features have, as ColumnTransformer keeps it
        if values.ndim != 2 or values.shape[1] != self.n_features_in_:
            raise ValueError(f"X has shape {values.shape}, but {self.n_features_in_} features "
                             "were seen in fit.")
        return values[:, self.columns_]

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "columns_")
        return self.feature_names_in_[self.columns_]


def _recommended_features(*, sr, n_jobs, yamnet_weights) -> FeatureUnion:
    """Prosody + MFCC-40 with deltas + YAMNet statistics: the input of both recommended recipes."""
    from skser.features import EmbeddingTransformer, ProsodyTransformer

    return FeatureUnion([
        ("prosody", ProsodyTransformer(sr=sr, n_jobs=n_jobs)),
        ("mfcc", MFCCTransformer(sr=sr, n_mfcc=40, deltas=True, output="stats", n_jobs=n_jobs)),
        ("yamnet", EmbeddingTransformer(weights=yamnet_weights, sr=sr, output="pooled",
                                        pooling=("mean", "std"), n_jobs=n_jobs)),
    ])  # fmt: skip


def _recommended_vote(random_state):
    """Soft vote of LR and SVM on the acoustic block and LR on the YAMNet block.

    Late fusion keeps the 2048-d embedding from swamping the 335 acoustic features.
    """
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC

    acoustic = "^(?:prosody|mfcc)__"
    svm = CalibratedClassifierCV(SVC(C=10.0, random_state=random_state), ensemble=False)
    return _SingleThreadBLASVote(
        [
            ("acoustic_lr", _block_classifier(acoustic, LogisticRegression(C=0.05, max_iter=3000))),
            ("acoustic_svm", _block_classifier(acoustic, svm)),
            ("yamnet_lr", _block_classifier("^yamnet__", LogisticRegression(C=0.01, max_iter=3000))),
        ],
        voting="soft",
    )


class _SingleThreadBLASVote(VotingClassifier):
    """A ``VotingClassifier`` whose fit and predictions run BLAS on one thread.

    The members solve small dense problems (about 1,000 clips by 2,048
    features) on which OpenBLAS's threads only add synchronization: the YAMNet
    logistic regression fits in 1.9 s on one thread, 8 s on two threads of an
    idle 2-core machine and about 60 s when other processes share the cores.
    """

    def fit(self, X, y, **fit_params):
        with one_blas_thread():
            return super().fit(X, y, **fit_params)

    def predict_proba(self, X):
        with one_blas_thread():
            return super().predict_proba(X)


def _recommended_classical(*, sr, random_state, n_jobs, yamnet_weights):
    """Prosody + MFCC + YAMNet, late fusion of three classifiers, speaker adaptation that is safe.

    Features (one pass over the audio each): :class:`~skser.features.ProsodyTransformer`
    (eGeMAPS-style pitch, loudness, voice-quality, spectral-balance and rhythm
    descriptors), 40 MFCCs with deltas and delta-deltas (mean and std), and the
    AudioSet YAMNet embedding (mean and std over 0.975 s windows). Classifier:
    a soft vote of logistic regression and an RBF SVM on the acoustic block
    (prosody + MFCC) and logistic regression on the YAMNet block, inside
    :class:`~skser.adaptation.SpeakerAdaptiveClassifier`: one copy trained on
    features minus each training speaker's class-aware offset, one on the
    features as they are. Without speaker ids (``skser predict``, deployment)
    the second copy predicts each clip alone; with ids, a test speaker whose
    clips span the emotions is normalized with its own unlabeled statistics
    and the first copy weighs in; a speaker whose clips look like one or two
    emotions is not normalized (that is what made per-speaker normalization
    backfire on natural speech).

    Regularization is fixed (no tuning on any corpus). Measured UAR
    (``benchmarks/results/headline.md``, 2-core CPU): RAVDESS 8 emotions,
    5-fold GroupKFold by actor, lab 0.634 / deployment 0.543; EMOVO
    leave-one-speaker-out lab 0.378 / deployment 0.344; leave one corpus out
    over RAVDESS, EMOVO and TESS (6 shared emotions) lab 0.458 / deployment
    0.323; RAVDESS with 1-2 emotions per speaker 0.316 in both (the old
    per-speaker design, ``"recommended-lab"``: 0.190); these numbers were
    measured when this recipe was ``"recommended"``. The adaptation
    setting was chosen on RAVDESS inner folds and that unbalanced fixture
    (``benchmarks/bench_adaptation.py``). Cost on 2 CPU cores: feature
    extraction about 1 min per 1,000 clips of 3-4 s, fitting about 25 s per
    RAVDESS fold (two copies), prediction about 30 ms per clip.
    Needs the YAMNet weights and 16 kHz. Sources: per-speaker normalization
    and eGeMAPS-style descriptors are standard in speaker-independent SER; the
    MFCC and YAMNet ("DL") features follow Sharan, Mascolo & Schuller, CNN-RNN
    (2023).
    """
    from skser.adaptation import SpeakerAdaptiveClassifier

    pipe = Pipeline([
        ("features", _recommended_features(sr=sr, n_jobs=n_jobs, yamnet_weights=yamnet_weights)),
        ("classifier", SpeakerAdaptiveClassifier(_recommended_vote(random_state))),
    ])  # fmt: skip
    # Column names must reach the classifier so each member can pick its block.
    return pipe.set_output(transform="pandas")


#: Weight of ``"recommended-deep"``'s probabilities in ``"recommended"`` (the
#: classical vote gets the rest). Chosen on RAVDESS-8 inner folds (training
#: actors only): 0.3 gave lab 0.600 / deployment 0.578 against 0.581 / 0.528
#: for the classical recipe alone and 0.559 for the network alone.
RECOMMENDED_DEEP_WEIGHT = 0.3


def _recommended(*, sr, random_state, n_jobs, yamnet_weights):
    """``"recommended-classical"`` and ``"recommended-deep"`` fused: a weighted mean of probabilities.

    :class:`~skser.fusion.LateFusionClassifier` of the two complete
    pipelines on the same audio: the classical vote on prosody, MFCC and
    YAMNet statistics with its safe speaker adaptation (weight 0.7), and the
    attention-pooling CNN on log-mel (weight 0.3,
    :data:`RECOMMENDED_DEEP_WEIGHT`). Speaker ids reach the classical member
    only (lab protocol); without them every clip is predicted alone by both
    (deployment, ``skser predict``). The two err differently, so the fusion
    beats both: RAVDESS 8 emotions, 5-fold GroupKFold by actor, lab 0.675 /
    deployment 0.619, against 0.634 / 0.543 for the classical recipe alone
    and 0.621 for the network. Measured with the network's earlier 45
    epochs: RAVDESS-8 0.669 / 0.613; EMOVO leave-one-speaker-out 0.391 /
    0.349; leave one corpus out over RAVDESS, EMOVO and TESS (6 shared
    emotions) 0.459 / 0.343 (classical 0.458 / 0.323)
    (``benchmarks/results/headline.md``, ``deep.md``; the weight was chosen
    on training actors). Cost: the network's training
    dominates (minutes per 1,000 clips on 2 CPU cores, seconds on a GPU);
    use ``"recommended-classical"`` when fitting must take seconds.
    Needs the YAMNet weights and 16 kHz.
    """
    from skser.fusion import LateFusionClassifier

    members = [
        ("classical", _recommended_classical(sr=sr, random_state=random_state, n_jobs=n_jobs,
                                             yamnet_weights=yamnet_weights)),
        ("deep", _recommended_deep(sr=sr, random_state=random_state, n_jobs=n_jobs,
                                   yamnet_weights=yamnet_weights)),
    ]
    return LateFusionClassifier(members,
                                weights=[1.0 - RECOMMENDED_DEEP_WEIGHT, RECOMMENDED_DEEP_WEIGHT])


def _recommended_lab(*, sr, random_state, n_jobs, yamnet_weights):
    """The first ``recommended``: per-speaker standardization before the same vote.

    Every speaker's features are standardized with its own statistics
    (:class:`~skser.features.SpeakerStandardScaler`), training and test alike.
    Strong when every speaker shows every emotion and all its clips are at
    hand (RAVDESS-8 lab protocol, 5-fold GroupKFold by actor: 0.665 ± 0.036);
    it backfires when speakers show one or two emotions, and is mismatched
    when deployed clip by clip without speaker ids. Kept for comparison.
    """
    from skser.features import SpeakerStandardScaler

    pipe = Pipeline([
        ("features", _recommended_features(sr=sr, n_jobs=n_jobs, yamnet_weights=yamnet_weights)),
        ("speaker_norm", SpeakerStandardScaler()),
        ("classifier", _recommended_vote(random_state)),
    ])  # fmt: skip
    return pipe.set_output(transform="pandas")


def _recommended_no_adaptation(*, sr, random_state, n_jobs, yamnet_weights):
    """``recommended-classical`` without any speaker normalization (its non-adapted variant)."""
    pipe = Pipeline([
        ("features", _recommended_features(sr=sr, n_jobs=n_jobs, yamnet_weights=yamnet_weights)),
        ("classifier", _recommended_vote(random_state)),
    ])  # fmt: skip
    return pipe.set_output(transform="pandas")


_RECOMMENDED_INPUT = "audio -> prosody (95) + MFCC 40 with deltas (240) + YAMNet (2048) statistics"

register_recipe(
    "recommended",
    _recommended,
    family="fusion",
    input=f"{_RECOMMENDED_INPUT}; and 64-band log-mel (4 s)",
    source="skser benchmarks (RAVDESS inner folds); features after Sharan, Mascolo & Schuller (2023)",
    cost="classical: seconds to fit; network: minutes per 1,000 clips on a 2-core CPU",
    description="recommended-classical (0.7) + recommended-deep (0.3), probabilities fused.",
    needs_yamnet=True,
)
register_recipe(
    "recommended-classical",
    _recommended_classical,
    family="fusion",
    input=_RECOMMENDED_INPUT,
    source="skser benchmarks; features after Sharan, Mascolo & Schuller (2023) and eGeMAPS",
    cost="about 1 min per 1,000 clips on a 2-core CPU (features), about 30 s to fit",
    description="Prosody+MFCC+YAMNet, soft vote of LR, SVM and LR, safe speaker adaptation.",
    needs_yamnet=True,
)
register_recipe(
    "recommended-lab",
    _recommended_lab,
    family="fusion",
    input=_RECOMMENDED_INPUT,
    source="skser benchmarks (the first recommended); features after Sharan et al. (2023)",
    cost="about 1 min per 1,000 clips on a 2-core CPU (features), 1-2 min to fit",
    description="Per-speaker standardized prosody+MFCC+YAMNet vote; needs balanced speakers.",
    needs_yamnet=True,
)
register_recipe(
    "recommended-no-adaptation",
    _recommended_no_adaptation,
    family="fusion",
    input=_RECOMMENDED_INPUT,
    source="skser benchmarks; features after Sharan, Mascolo & Schuller (2023)",
    cost="about 1 min per 1,000 clips on a 2-core CPU (features), 1-2 min to fit",
    description="recommended-classical's features and vote without speaker normalization.",
    needs_yamnet=True,
)
