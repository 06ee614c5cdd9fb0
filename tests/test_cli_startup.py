"""What ``skser predict`` imports: only what the model needs (a behaviour test, not a timing).

The command's start-up is dominated by imports, so the CLI module and the
predict path of a classical model must not pull in TensorFlow/Keras, Optuna,
matplotlib, librosa/numba, ``scipy.signal`` or the skser modules that build,
evaluate or tune pipelines. Checked in fresh interpreters (``sys.modules``).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

SR = 16000

#: Never imported by the CLI module itself, nor by predicting with a classical model.
HEAVY = (
    "tensorflow",
    "keras",
    "optuna",
    "matplotlib",
    "librosa",
    "numba",
    "torch",
    "dask",
    "tqdm",
    "scipy.signal",
    "skser.recipes",
    "skser.model_selection",
    "skser.tuning",
    "skser.models",
    "skser.datasets",
    "skser.stats",
    "skser.adaptation",
    "skser.augment",
    "skser.features._embedding",
    "skser._yamnet",
)


def _modules_after(code: str) -> set[str]:
    """Names in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def _loaded(modules: set[str], names) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


def test_importing_the_cli_imports_no_library():
    modules = _modules_after("import skser.cli")
    # argparse and the standard library only: the command's own imports come per command.
    assert _loaded(modules, (*HEAVY, "numpy", "scipy", "sklearn", "pandas", "joblib")) == []


@pytest.fixture(scope="module")
def svm_mfcc_model(tmp_path_factory):
    from skser.datasets import make_synthetic_corpus
    from skser.io import save_model
    from skser.recipes import make_ser_pipeline

    corpus = make_synthetic_corpus(n_speakers=2, n_per_class=2, duration=1.0, random_state=0)
    folder = tmp_path_factory.mktemp("startup")
    model = save_model(make_ser_pipeline("svm-mfcc").fit(corpus.X, corpus.y), folder / "m.joblib")
    clip = folder / "clip.flac"
    sf.write(clip, np.asarray(corpus.X[0], dtype=np.float32), SR)
    return model, clip


def test_loading_a_classical_model_imports_only_what_it_needs(svm_mfcc_model):
    model, _ = svm_mfcc_model
    modules = _modules_after(f"from skser.io import load_model\nload_model({str(model)!r})")
    assert _loaded(modules, HEAVY) == []
    assert "skser.features._mfcc" in modules  # unpickling imported the model's own modules


def test_skser_predict_with_a_classical_model_imports_only_what_it_needs(svm_mfcc_model):
    model, clip = svm_mfcc_model
    code = (
        "import contextlib, io\nfrom skser.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        f"    assert main(['predict', {str(model)!r}, {str(clip)!r}, '--no-progress']) == 0\n"
        f"assert {str(clip)!r} in out.getvalue()"
    )
    assert _loaded(_modules_after(code), HEAVY) == []


@pytest.mark.parametrize("n_frames", [1, 5, 8, 9, 10, 57, 400])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_deltas_equal_scipy_savgol_filter(n_frames, dtype):
    """``deltas`` (no ``scipy.signal`` import) computes what ``savgol_filter`` does, bit for bit."""
    from scipy.signal import savgol_filter

    from skser.features._mfcc import deltas

    rng = np.random.default_rng(n_frames)
    coeffs = (30 * rng.standard_normal((n_frames, 40))).astype(dtype)[:, :13]  # a strided view
    mode = "interp" if n_frames >= 9 else "nearest"
    d1, d2 = deltas(coeffs)
    ref1 = savgol_filter(coeffs, 9, polyorder=1, deriv=1, axis=0, mode=mode).astype(np.float32)
    ref2 = savgol_filter(coeffs, 9, polyorder=2, deriv=2, axis=0, mode=mode).astype(np.float32)
    assert d1.dtype == d2.dtype == np.float32
    # Equal here; a tolerance only so that another SciPy's rounding does not fail the test.
    np.testing.assert_allclose(d1, ref1, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(d2, ref2, rtol=1e-6, atol=1e-5)


def test_one_blas_thread_limits_and_restores_like_threadpool_limits():
    """The kept controller sets BLAS to one thread inside the block and restores it after."""
    from threadpoolctl import threadpool_info

    from skser._parallel import one_blas_thread

    def blas_threads():
        return sorted(
            (lib["filepath"], lib["num_threads"])
            for lib in threadpool_info()
            if lib["user_api"] == "blas"
        )

    before = blas_threads()
    for _ in range(2):  # the second block reuses the controller of the first
        with one_blas_thread():
            assert all(n == 1 for _, n in blas_threads())
        assert blas_threads() == before
