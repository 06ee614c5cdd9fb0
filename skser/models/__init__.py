"""Deep SER models as scikit-learn classifiers (scikeras over Keras 3).

Every model derives from :class:`SERKerasClassifier`, which holds the wrapper
quirks (tags, speaker-aware validation split, early stopping, normalization,
augmentation, seeding, pickling). Importing this package does not import
TensorFlow; the first model accessed does.
"""

from skser._lazy import attach

_EXPORTS = {
    "SERKerasClassifier": "._base",
    "FSERCNN": "._cnn2d",
    "SpectrogramCNN2D": "._cnn2d",
    "SpectrogramCNN1D": "._sequence",
    "MFCCConv1D": "._sequence",
    "MFCCLSTM": "._sequence",
    "MFCCCNNLSTM": "._sequence",
    "CNNRNN": "._crnn",
    "AttentionCNN": "._attention",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
