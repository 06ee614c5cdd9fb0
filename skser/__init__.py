"""skser: scikit-learn compatible speech emotion recognition.

Loaders for the standard corpora, audio feature transformers, Keras models
wrapped as scikit-learn classifiers and speaker-independent evaluation. Every
step is an ordinary scikit-learn estimator; see ``docs/`` for the guide.
"""

from skser._lazy import attach

__version__ = "0.1.0"

_EXPORTS = {
    # audio
    "load_audio": ".audio",
    "AudioLoader": ".audio",
    "FixedLength": ".audio",
    "Segmenter": ".audio",
    # datasets
    "Corpus": ".datasets",
    "combine": ".datasets",
    "make_synthetic_corpus": ".datasets",
    "load_ravdess": ".datasets",
    "load_emodb": ".datasets",
    "load_emovo": ".datasets",
    "load_savee": ".datasets",
    "load_tess": ".datasets",
    "load_cremad": ".datasets",
    "fetch_emodb": ".datasets",
    "load_csv": ".datasets",
    "from_dataframe": ".datasets",
    "load_folders": ".datasets",
    "unbalance_speakers": ".datasets",
    # features
    "MelSpectrogramTransformer": ".features",
    "MFCCTransformer": ".features",
    "GTCCTransformer": ".features",
    "EmbeddingTransformer": ".features",
    "TemporalPooling": ".features",
    "ProsodyTransformer": ".features",
    "SpeakerStandardScaler": ".features",
    "speaker_scorer": ".features",
    "SpeakerAdaptiveClassifier": ".adaptation",
    "LateFusionClassifier": ".fusion",
    # models
    "SERKerasClassifier": ".models",
    "FSERCNN": ".models",
    "SpectrogramCNN2D": ".models",
    "SpectrogramCNN1D": ".models",
    "MFCCConv1D": ".models",
    "MFCCLSTM": ".models",
    "MFCCCNNLSTM": ".models",
    "CNNRNN": ".models",
    "AttentionCNN": ".models",
    # augmentation
    "SpectrogramAugmenter": ".augment",
    "WaveformAugmenter": ".augment",
    # evaluation
    "unweighted_average_recall": ".metrics",
    "evaluate": ".model_selection",
    "evaluate_cross_corpus": ".model_selection",
    "enroll_speakers": ".model_selection",
    "LeaveOneCorpusOut": ".model_selection",
    "EvaluationReport": ".model_selection",
    "compare": ".stats",
    # tuning
    "OptunaSearchCV": ".tuning",
    # ready pipelines
    "make_baseline": ".baselines",
    "make_ser_pipeline": ".recipes",
    "list_recipes": ".recipes",
    "register_recipe": ".recipes",
    # persistence and inference
    "save_model": ".io",
    "load_model": ".io",
    "predict_timeline": ".timeline",
    "predict_files": ".prediction",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
__all__ = [*__all__, "__version__"]
