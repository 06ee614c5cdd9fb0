"""Pretrained YAMNet (AudioSet, Apache-2.0): weight files, log-mel frontend, TFLite and Keras.

Nothing here imports TensorFlow at module level; the TFLite interpreter and
Keras are imported inside the functions that need them.

- :mod:`._files`: finding and recognising weight files, class names.
- :mod:`._frontend`: YAMNet's log-mel frontend in NumPy.
- :mod:`._tflite`: running the TFLite export and reading its weights.
- :mod:`._keras`: the MobileNet-v1 style network in Keras, with the
  pretrained weights converted from ``yamnet.h5`` or ``yamnet.tflite``.
"""

from skser._yamnet._files import (
    YAMNET_H5_URL,
    YAMNET_TFLITE_SHA256,
    resolve_yamnet_weights,
    sniff_weights_format,
    yamnet_class_names,
)
from skser._yamnet._frontend import (
    EMBEDDING_SIZE,
    N_CLASSES,
    PATCH_BANDS,
    PATCH_FRAMES,
    SAMPLE_RATE,
    WINDOW_SAMPLES,
    log_mel_patches,
    log_mel_spectrogram,
    mel_weight_matrix,
    waveform_patch,
)
from skser._yamnet._keras import (
    build_yamnet_backbone,
    load_yamnet_keras_weights,
    yamnet_weights_from_h5,
    yamnet_weights_from_tflite,
)
from skser._yamnet._runner import KerasYAMNet, TFLiteYAMNet, load_yamnet_runner

__all__ = [
    "EMBEDDING_SIZE",
    "N_CLASSES",
    "PATCH_BANDS",
    "PATCH_FRAMES",
    "SAMPLE_RATE",
    "WINDOW_SAMPLES",
    "YAMNET_H5_URL",
    "YAMNET_TFLITE_SHA256",
    "KerasYAMNet",
    "TFLiteYAMNet",
    "build_yamnet_backbone",
    "load_yamnet_keras_weights",
    "load_yamnet_runner",
    "log_mel_patches",
    "log_mel_spectrogram",
    "mel_weight_matrix",
    "resolve_yamnet_weights",
    "sniff_weights_format",
    "waveform_patch",
    "yamnet_class_names",
    "yamnet_weights_from_h5",
    "yamnet_weights_from_tflite",
]
