"""Per-clip parallel map with an optional progress bar (joblib + tqdm)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from joblib import Parallel, delayed


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
        Function of one item. Must be picklable when ``n_jobs`` is not 1.
    items : sequence
        The items (clips, paths, ...).
    n_jobs : int or None
        Number of joblib workers; ``None`` means 1 unless inside a
        ``joblib.parallel_config`` context, ``-1`` means all cores.
    verbose : bool or int
        Show a tqdm progress bar.
    desc : str, optional
        Label of the progress bar.

    Returns
    -------
    list
        ``[func(item) for item in items]``, in the order of ``items``.
    """
    items = list(items)
    progress = None
    if verbose:
        from tqdm.auto import tqdm

        progress = tqdm(total=len(items), desc=desc, unit="clip")
    try:
        if n_jobs in (None, 1) or len(items) < 2:
            results = []
            for item in items:
                results.append(func(item))
                if progress is not None:
                    progress.update(1)
            return results
        # return_as="generator" keeps the order and lets the bar advance as results arrive.
        runner = Parallel(n_jobs=n_jobs, return_as="generator")
        results = []
        for result in runner(delayed(func)(item) for item in items):
            results.append(result)
            if progress is not None:
                progress.update(1)
        return results
    finally:
        if progress is not None:
            progress.close()
