"""Feature transformers: mel spectrograms, MFCC, GTCC, pretrained embeddings, pooling, normalization."""

from skser._lazy import attach

_EXPORTS = {
    "MelSpectrogramTransformer": "._mel",
    "count_segments": "._mel",
    "MFCCTransformer": "._mfcc",
    "GTCCTransformer": "._gtcc",
    "gammatone_filterbank": "._gtcc",
    "EmbeddingTransformer": "._embedding",
    "yamnet_class_names": "._embedding",
    "TemporalPooling": "._pooling",
    "ProsodyTransformer": "._prosody",
    "SpeakerStandardScaler": "._normalization",
    "SpeakerNormalizationWarning": "._normalization",
    "speaker_scorer": "._normalization",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
