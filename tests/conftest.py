"""Shared fixtures: paths to the real corpora (skipped when absent) and a small synthetic corpus."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Keep TensorFlow quiet and on CPU threads that do not fight pytest workers.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SKSER_SHARED", REPO.parent / "shared"))
DATA = SHARED / "data"
MODELS = SHARED / "models"


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data not available: {path} is absent")
    return path


@pytest.fixture(scope="session")
def ravdess_dir() -> Path:
    return _require(DATA / "ravdess")


@pytest.fixture(scope="session")
def emovo_dir() -> Path:
    return _require(DATA / "emovo")


@pytest.fixture(scope="session")
def tess_dir() -> Path:
    return _require(DATA / "tess")


@pytest.fixture(scope="session")
def yamnet_tflite() -> Path:
    return _require(MODELS / "yamnet.tflite")


@pytest.fixture(scope="session")
def small_corpus():
    """A small deterministic synthetic corpus: 4 speakers, 4 emotions, 3 clips each."""
    from skser.datasets import make_synthetic_corpus

    return make_synthetic_corpus(
        n_speakers=4,
        n_per_class=3,
        emotions=["anger", "happiness", "neutral", "sadness"],
        duration=1.0,
        random_state=0,
    )
