"""Runners: 0.975 s windows in, YAMNet embeddings and class scores out.

Two interchangeable back ends behind one call signature,
``runner(windows) -> (embeddings, scores)``:

- :class:`TFLiteYAMNet` runs the TFLite export one window at a time (its
  graph is fixed to one [1, 15600] window: its first RESHAPE and XNNPACK
  refuse a resized batch); about 2-4 ms a window on one CPU core. A batch of
  windows is split over ``num_threads`` single-threaded interpreters run in
  parallel threads (``invoke`` releases the GIL), so every window goes
  through the same graph as alone and the outputs are bitwise those of the
  one-window loop. The embedding is read as an added graph output (see
  :func:`skser._yamnet._tflite.embedding_output_model`), not by preserving
  every intermediate tensor, which would split XNNPACK's graph per operator.
- :class:`KerasYAMNet` runs the NumPy frontend and the Keras network built
  from ``yamnet.h5`` (or the TFLite weights), ``batch_size`` windows at a time.
  With the TFLite weights it is not used by default: batched through
  TensorFlow's float kernels it is slower per window than the export on
  XNNPACK on CPU (``benchmarks/results/yamnet_backends.md``).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from skser._yamnet._files import file_sha256, resolve_yamnet_weights, sniff_weights_format
from skser._yamnet._frontend import EMBEDDING_SIZE, N_CLASSES, WINDOW_SAMPLES, waveform_patch


def _check_windows(windows) -> np.ndarray:
    x = np.asarray(windows, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != WINDOW_SAMPLES:
        raise ValueError(f"windows must have shape (n, {WINDOW_SAMPLES}), got {x.shape}.")
    return x


class TFLiteYAMNet:
    """Run ``yamnet.tflite`` on 15600-sample windows.

    Parameters
    ----------
    path : str or path-like
        The TFLite export.
    num_threads : int, default=1
        Interpreters run in parallel threads, one CPU thread each, taking a
        call's windows one at a time. Outputs do not depend on it.

    Attributes
    ----------
    sha256 : str
        Of the weights file (identifies it in caches).
    """

    def __init__(self, path: str | os.PathLike, *, num_threads: int = 1):
        from skser._yamnet._tflite import embedding_output_model, find_tensors, make_interpreter

        self.path = os.fspath(path)
        self.sha256 = file_sha256(path)
        self.num_threads = max(1, int(num_threads))
        content = embedding_output_model(path)
        self._interpreters = [
            make_interpreter(path, num_threads=1, preserve=content is None, model_content=content)
            for _ in range(self.num_threads)
        ]
        self._tensors = find_tensors(self._interpreters[0], path)
        self._lock = threading.Lock()  # one call at a time: the interpreters hold state

    def __call__(self, windows, *, return_patches: bool = False):
        """Embeddings and scores of every window.

        Parameters
        ----------
        windows : array-like of shape (n, 15600)
        return_patches : bool, default=False
            Also return the export's own (96, 64) log-mel patches.

        Returns
        -------
        embeddings : ndarray of shape (n, 1024), float32
        scores : ndarray of shape (n, 521), float32
        patches : ndarray of shape (n, 96, 64), float32
            Only with ``return_patches=True``.
        """
        x = _check_windows(windows)
        if return_patches and self._tensors.patch is None:
            raise ValueError(f"{self.path!r} has no log-mel patch output.")
        emb = np.empty((len(x), EMBEDDING_SIZE), np.float32)
        scores = np.empty((len(x), N_CLASSES), np.float32)
        patches = np.empty((len(x), 96, 64), np.float32) if return_patches else None
        workers = min(self.num_threads, len(x))
        # Windows are handed out one at a time, so a thread that the OS pauses
        # (a busy machine) delays only its current window, not half the batch.
        indices = iter(range(len(x)))
        take = threading.Lock()

        def run(itp):
            self._run(itp, x, indices, take, emb, scores, patches)

        with self._lock:
            if workers <= 1:
                run(self._interpreters[0])
            else:
                with ThreadPoolExecutor(workers, thread_name_prefix="skser-yamnet") as pool:
                    for future in [pool.submit(run, itp) for itp in self._interpreters[:workers]]:
                        future.result()
        return (emb, scores, patches) if return_patches else (emb, scores)

    def _run(self, itp, x, indices, take, emb, scores, patches) -> None:
        """Run windows taken from ``indices`` (one per ``invoke``) into the outputs."""
        t = self._tensors
        while True:
            with take:
                i = next(indices, None)
            if i is None:
                return
            itp.set_tensor(t.waveform, x[i : i + 1])
            itp.invoke()
            emb[i] = itp.get_tensor(t.embedding)[0]
            scores[i] = itp.get_tensor(t.scores)[0]
            if patches is not None:
                patches[i] = itp.get_tensor(t.patch)


class KerasYAMNet:
    """Run the Keras YAMNet (weights from ``yamnet.h5`` or ``yamnet.tflite``) on windows.

    Parameters
    ----------
    path : str or path-like
        The weights file.
    batch_size : int, default=64
        Windows per forward pass.
    """

    def __init__(self, path: str | os.PathLike, *, batch_size: int = 64):
        from skser._yamnet._keras import _build, load_yamnet_keras_weights, set_yamnet_weights

        self.path = os.fspath(path)
        self.sha256 = file_sha256(path)
        self.batch_size = int(batch_size)
        self._model = _build((96, 64), include_top=True, both=True)
        set_yamnet_weights(self._model, load_yamnet_keras_weights(path))

    def __call__(self, windows):
        """Embeddings ``(n, 1024)`` and scores ``(n, 521)`` of ``(n, 15600)`` windows."""
        x = _check_windows(windows)
        emb, scores = [], []
        for start in range(0, len(x), self.batch_size):
            patches = waveform_patch(x[start : start + self.batch_size])
            e, s = self._model(patches, training=False)
            emb.append(np.asarray(e, np.float32))
            scores.append(np.asarray(s, np.float32))
        return np.concatenate(emb), np.concatenate(scores)


def load_yamnet_runner(
    weights: str | os.PathLike | None = None, *, num_threads: int = 1, batch_size: int = 64
):
    """Open YAMNet weights with the matching runner (TFLite export or Keras ``.h5``).

    Raises
    ------
    FileNotFoundError
        When the file is absent, with the official download addresses.
    ValueError
        When the file is not YAMNet weights.
    """
    path = resolve_yamnet_weights(weights)
    if sniff_weights_format(path) == "tflite":
        return TFLiteYAMNet(path, num_threads=num_threads)
    return KerasYAMNet(path, batch_size=batch_size)
