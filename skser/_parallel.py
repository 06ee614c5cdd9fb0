"""Per-clip parallel map with an optional progress bar (joblib + tqdm).

Every per-clip loop of skser (reading audio, extracting features) goes
through :func:`parallel_map`, so the backend a user selects with
``joblib.parallel_config`` (threads, processes, a Dask cluster) applies to
all of them, and a clip path that a remote worker cannot see fails with one
clear message. :func:`one_blas_thread` limits BLAS to one thread cheaply,
for the small dense problems (per-clip features, small classifiers) on
which BLAS threads only cost.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

from joblib import Parallel, delayed
from joblib.parallel import get_active_backend
from threadpoolctl import ThreadpoolController


def effective_n_jobs(n_jobs: int | None) -> int:
    """Number of workers ``Parallel(n_jobs=n_jobs)`` would use, without starting any.

    ``None`` defers to the active ``joblib.parallel_config``: its ``n_jobs``
    when it sets one, else the default of its backend (1 for threads and
    processes, every worker thread of the cluster for ``backend="dask"``).
    Negative values are returned as is (joblib resolves them).
    """
    if n_jobs is not None:
        return int(n_jobs)
    backend, config_n_jobs = get_active_backend()
    return int(backend.default_n_jobs if config_n_jobs is None else config_n_jobs)


def _process_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class _RemoteCall:
    """``func(item)`` that says so when a worker process cannot find a file.

    Clips given as paths are read inside the workers. A path the caller sees
    but a worker does not (no shared file system, another mount point, a
    relative path and another working directory) raises ``FileNotFoundError``
    there; this wrapper adds which worker failed and what to fix. Calls that
    run in the caller's own process (sequential, threads) are unchanged.
    """

    def __init__(self, func: Callable[..., Any]):
        self.func = func
        self.caller = _process_id()

    def __call__(self, item: Any) -> Any:
        try:
            return self.func(item)
        except FileNotFoundError as exc:
            worker = _process_id()
            if worker == self.caller:
                raise
            raise FileNotFoundError(
                f"{exc} (on worker process {worker}; the caller is {self.caller}). "
                "Clips given as paths are read inside the workers, so every path must exist "
                "on every worker: put the corpus on a file system all workers mount at the "
                "same path, and give absolute paths."
            ) from exc


def parallel_map(
    func: Callable[..., Any],
    items: Sequence[Any],
    *,
    n_jobs: int | None = None,
    verbose: bool | int = False,
    desc: str | None = None,
) -> list[Any]:
    """Apply ``func`` to every item, in order, with joblib.

    Parameters
    ----------
    func : callable
        Function of one item. Must be picklable when it runs in other processes.
    items : sequence
        The items (clips, paths, ...).
    n_jobs : int or None
        Number of joblib workers; ``-1`` means all cores (or all workers of a
        cluster). ``None`` defers to the active ``joblib.parallel_config``
        (see :func:`effective_n_jobs`): sequential by default, the whole
        cluster inside ``parallel_config(backend="dask")``.
    verbose : bool or int
        Show a tqdm progress bar.
    desc : str, optional
        Label of the progress bar.

    Returns
    -------
    list
        ``[func(item) for item in items]``, in the order of ``items``.

    Raises
    ------
    FileNotFoundError
        Where ``func`` raises it in a worker process, with the worker named and
        the rule that paths must exist on every worker.
    """
    items = list(items)
    progress = None
    if verbose:
        from tqdm.auto import tqdm

        progress = tqdm(total=len(items), desc=desc, unit="clip")
    try:
        if effective_n_jobs(n_jobs) == 1 or len(items) < 2:
            results = []
            for item in items:
                results.append(func(item))
                if progress is not None:
                    progress.update(1)
            return results
        # return_as="generator" keeps the order and lets the bar advance as results arrive.
        runner = Parallel(n_jobs=n_jobs, return_as="generator")
        call = _RemoteCall(func)
        results = []
        for result in runner(delayed(call)(item) for item in items):
            results.append(result)
            if progress is not None:
                progress.update(1)
        return results
    finally:
        if progress is not None:
            progress.close()


_BLAS_CONTROLLER: tuple[int, ThreadpoolController] | None = None
_BLAS_CONTROLLER_LOCK = threading.Lock()


def _reset_blas_controller() -> None:
    global _BLAS_CONTROLLER, _BLAS_CONTROLLER_LOCK
    _BLAS_CONTROLLER, _BLAS_CONTROLLER_LOCK = None, threading.Lock()


if hasattr(os, "register_at_fork"):  # a forked child must not inherit a held lock
    os.register_at_fork(after_in_child=_reset_blas_controller)


def one_blas_thread():
    """``threadpoolctl.threadpool_limits(limits=1, user_api="blas")``, without a rescan per call.

    Building a controller reads ``/proc/self/maps`` and inspects every loaded
    shared library: several milliseconds per call, more than the features of a
    short clip cost. The controller is kept and built again only when modules
    were imported since (which is how new BLAS libraries get loaded).
    """
    global _BLAS_CONTROLLER
    n_modules = len(sys.modules)
    cached = _BLAS_CONTROLLER
    if cached is None or cached[0] != n_modules:
        with _BLAS_CONTROLLER_LOCK:
            cached = _BLAS_CONTROLLER
            if cached is None or cached[0] != n_modules:
                cached = _BLAS_CONTROLLER = (n_modules, ThreadpoolController())
    return cached[1].limit(limits=1, user_api="blas")
