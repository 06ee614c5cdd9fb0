"""Lazy re-exports (PEP 562), so ``import skser`` does not import TensorFlow.

Importing TensorFlow takes seconds; only the Keras models and the YAMNet
embedding need it, so their names are resolved on first access.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable


def attach(package: str, exports: dict[str, str]) -> tuple[Callable, Callable, list[str]]:
    """Build ``__getattr__``, ``__dir__`` and ``__all__`` for a package.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : dict
        Public name -> module (relative to ``package`` when it starts with ``.``).
    """

    def __getattr__(name: str):
        if name not in exports:
            # Subpackages and modules (skser.datasets, skser.features.…) load on access too.
            try:
                return importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.{name}":
                    raise
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(exports[name], package)
        value = getattr(module, name)
        globals_of_package = importlib.import_module(package).__dict__
        globals_of_package[name] = value  # cache: later lookups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted(set(exports) | set(importlib.import_module(package).__dict__))

    return __getattr__, __dir__, sorted(exports)
