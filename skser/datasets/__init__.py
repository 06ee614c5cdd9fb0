"""Corpus loaders, label harmonization, download and the synthetic corpus."""

from skser._lazy import attach

_EXPORTS = {
    "CANONICAL_EMOTIONS": "._base",
    "LABEL_MAPS": "._base",
    "Corpus": "._base",
    "combine": "._base",
    "load_ravdess": "._ravdess",
    "load_emodb": "._emodb",
    "load_emovo": "._emovo",
    "load_savee": "._savee",
    "load_tess": "._tess",
    "load_cremad": "._cremad",
    "fetch_emodb": "._fetch",
    "get_data_home": "._fetch",
    "make_synthetic_corpus": "._synthetic",
    "unbalance_speakers": "._unbalanced",
    "load_csv": "._custom",
    "from_dataframe": "._custom",
    "load_folders": "._custom",
    "canonical_emotion": "._custom",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
