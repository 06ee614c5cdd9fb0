"""Generic checks over every public skser estimator, discovered automatically.

Each estimator needs an entry in CASES saying what input it takes; a new
public estimator without one fails ``test_every_estimator_has_a_case``.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.svm import SVC

from skser.utils import all_estimators, check_estimator


def _waves(n=6, seconds=0.5, sr=16000, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    return [
        (0.3 * np.sin(2 * np.pi * (150 + 40 * i) * t) + 0.01 * rng.normal(size=t.size)).astype(
            np.float32
        )
        for i in range(n)
    ]


def _labels(n=6):
    return np.array(["anger", "sadness"] * (n // 2))


def _features(n=12, d=4, seed=0):
    rng = np.random.default_rng(seed)
    y = _labels(n)
    return rng.normal(size=(n, d)) + (y == "anger")[:, None], y


def _audio_case(cls, **params):
    return lambda: (cls(**params), _waves(), None, {})


def _cases():
    from sklearn.linear_model import LogisticRegression

    from skser import audio, augment, features, tuning
    from skser.adaptation import SpeakerAdaptiveClassifier
    from skser.fusion import LateFusionClassifier

    from optuna.distributions import FloatDistribution

    X2, y2 = _features()
    groups = np.repeat(["s1", "s2", "s3"], 4)
    sequences = np.random.default_rng(0).normal(size=(6, 10, 3)).astype(np.float32)
    images = np.random.default_rng(0).random(size=(4, 16, 16, 3)).astype(np.float32)
    cases = {
        "AudioLoader": _audio_case(audio.AudioLoader),
        "FixedLength": _audio_case(audio.FixedLength, duration=0.3, crop="random", random_state=0),
        "Segmenter": _audio_case(audio.Segmenter, window=0.2),
        "MelSpectrogramTransformer": _audio_case(features.MelSpectrogramTransformer),
        "MFCCTransformer": _audio_case(features.MFCCTransformer, output="stats"),
        "GTCCTransformer": _audio_case(features.GTCCTransformer, output="stats"),
        "ProsodyTransformer": _audio_case(features.ProsodyTransformer, trim_db=40.0),
        "TemporalPooling": lambda: (features.TemporalPooling(), sequences, None, {}),
        "SpeakerStandardScaler": lambda: (
            features.SpeakerStandardScaler(), X2, y2, {"groups": groups}
        ),
        "SpectrogramAugmenter": lambda: (
            augment.SpectrogramAugmenter(width_shift=0.2, n_augmented=2, random_state=0),
            images,
            np.array(["a", "b", "a", "b"]),
            {},
        ),
        "WaveformAugmenter": lambda: (
            augment.WaveformAugmenter(gain_db=3.0, n_augmented=2, random_state=0),
            _waves(),
            _labels(),
            {},
        ),
        "SpeakerAdaptiveClassifier": lambda: (
            SpeakerAdaptiveClassifier(LogisticRegression(), min_clips=2, n_components=2),
            X2,
            y2,
            {"groups": groups},
        ),
        "LateFusionClassifier": lambda: (
            LateFusionClassifier([
                ("adapted", SpeakerAdaptiveClassifier(LogisticRegression(), min_clips=2,
                                                      n_components=2)),
                ("plain", LogisticRegression()),
            ]),
            X2,
            y2,
            {"groups": groups},
        ),
        "OptunaSearchCV": lambda: (
            tuning.OptunaSearchCV(
                SVC(), {"C": FloatDistribution(0.1, 10, log=True)}, n_trials=2, cv=2, random_state=0
            ),
            X2,
            y2,
            {},
        ),
    }
    return cases


CASES = _cases()
# Keras models and the pretrained embedding have their own modules' tests plus the
# checks below when their inputs are available.
CHECKED_ELSEWHERE = {
    "EmbeddingTransformer": "needs the YAMNet weights file: checked in tests/test_embedding.py",
    "SERKerasClassifier": "the base class: checked through every architecture in tests/test_models.py",
    "FSERCNN": "Keras: checked in tests/test_models.py",
    "SpectrogramCNN2D": "Keras: checked in tests/test_models.py",
    "SpectrogramCNN1D": "Keras: checked in tests/test_models.py",
    "MFCCConv1D": "Keras: checked in tests/test_models.py",
    "MFCCLSTM": "Keras: checked in tests/test_models.py",
    "MFCCCNNLSTM": "Keras: checked in tests/test_models.py",
    "CNNRNN": "Keras: checked in tests/test_models.py",
    "AttentionCNN": "Keras: checked in tests/test_models.py and tests/test_training.py",
}


def test_every_estimator_has_a_case():
    names = {name for name, _ in all_estimators()}
    missing = names - set(CASES) - set(CHECKED_ELSEWHERE)
    assert not missing, f"public estimators without a generic-check case: {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_generic_checks(name):
    import sklearn

    estimator, X, y, fit_params = CASES[name]()
    with sklearn.config_context(enable_metadata_routing=True):
        check_estimator(estimator, X, y, fit_params=fit_params)
