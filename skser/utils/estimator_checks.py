"""Generic checks every skser estimator must pass, and discovery of those estimators.

scikit-learn's ``parametrize_with_checks`` assumes 2-D numeric input; most skser
steps take audio clips, so these checks run with an input the caller supplies.
"""

from __future__ import annotations

import importlib
import inspect
import pickle
import warnings

import joblib
import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError

from skser._validation import to_object_array

__all__ = ["all_estimators", "check_estimator", "PUBLIC_MODULES"]

#: Packages whose lazy ``__all__`` lists skser's public estimators.
PUBLIC_MODULES = ("skser", "skser.audio", "skser.features", "skser.augment", "skser.models")


def all_estimators() -> list[tuple[str, type]]:
    """Every public skser estimator class, as sorted ``(name, class)`` pairs.

    Discovered from the public API (``__all__``) of :data:`PUBLIC_MODULES`, so
    a new public estimator is checked without being registered anywhere.
    """
    found: dict[str, type] = {}
    for module_name in PUBLIC_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for name in getattr(module, "__all__", []):
            try:
                obj = getattr(module, name)
            except (AttributeError, ImportError):
                continue
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseEstimator)
                and obj.__module__.startswith("skser")
                and not inspect.isabstract(obj)
                and not name.startswith("_")
            ):
                found[name] = obj
    return sorted(found.items())


def _outputs(estimator, X, y, fit_params):
    """What a fitted estimator produces: transform, predict or resample output."""
    if hasattr(estimator, "predict"):
        return np.asarray(estimator.predict(X))
    if hasattr(estimator, "transform"):
        return _as_array(estimator.transform(X))
    if hasattr(estimator, "fit_resample"):
        return _as_array(estimator.fit_resample(X, y, **fit_params)[0])
    raise TypeError(f"{type(estimator).__name__} has no predict, transform or fit_resample.")


def _fit(estimator, X, y, fit_params):
    if hasattr(estimator, "fit"):
        return estimator.fit(X, y, **fit_params)
    return estimator


def _as_array(out):
    """Flatten clip collections (lists, object arrays) so outputs compare by value."""
    if isinstance(out, list | tuple) or (isinstance(out, np.ndarray) and out.dtype == object):
        return np.concatenate([np.ravel(np.asarray(o, dtype=float)) for o in out])
    if hasattr(out, "to_numpy"):
        return out.to_numpy()
    return np.asarray(out)


def _assert_same(a, b, what: str):
    a, b = _as_array(a), _as_array(b)
    if a.shape != b.shape:
        raise AssertionError(f"{what}: shapes differ {a.shape} vs {b.shape}")
    if a.dtype.kind in "fc":
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=what)
    else:
        np.testing.assert_array_equal(a, b, err_msg=what)


def check_estimator(estimator, X, y=None, *, fit_params: dict | None = None) -> None:
    """Run the generic checks on ``estimator`` with input ``X`` (and ``y``).

    Checks: clone keeps parameters; ``get_params``/``set_params`` round trip;
    ``fit`` does not change parameters; a not-fitted error before ``fit`` (for
    estimators that need fitting); pickling preserves outputs; the same
    ``random_state`` gives the same outputs; a list and a 1-D object array of
    the same clips give the same outputs.

    Raises
    ------
    AssertionError
        Naming the check that failed.
    """
    fit_params = fit_params or {}
    name = type(estimator).__name__
    params = estimator.get_params(deep=False)

    cloned = clone(estimator)
    assert cloned.get_params(deep=False).keys() == params.keys(), f"{name}: clone lost params"
    cloned.set_params(**params)
    for key, value in params.items():
        assert cloned.get_params(deep=False)[key] is value or _equal(
            cloned.get_params(deep=False)[key], value
        ), f"{name}: set_params/get_params round trip changed {key!r}"

    requires_fit = estimator.__sklearn_tags__().requires_fit
    if requires_fit and (hasattr(estimator, "predict") or hasattr(estimator, "transform")):
        fresh = clone(estimator)
        method = fresh.predict if hasattr(fresh, "predict") else fresh.transform
        try:
            method(X)
        except NotFittedError:
            pass
        else:
            raise AssertionError(f"{name}: no NotFittedError before fit")

    unfitted = clone(estimator)
    before = {key: joblib.hash(value) for key, value in unfitted.get_params(deep=False).items()}
    fitted = _fit(unfitted, X, y, fit_params)
    for key, value in fitted.get_params(deep=False).items():
        assert joblib.hash(value) == before[key], f"{name}: fit changed {key!r}"
    reference = _outputs(fitted, X, y, fit_params)

    restored = pickle.loads(pickle.dumps(fitted))
    _assert_same(reference, _outputs(restored, X, y, fit_params), f"{name}: pickle round trip")

    if "random_state" in params:
        seeded = clone(estimator).set_params(random_state=0)
        first = _outputs(_fit(seeded, X, y, fit_params), X, y, fit_params)
        second_est = _fit(clone(estimator).set_params(random_state=0), X, y, fit_params)
        _assert_same(first, _outputs(second_est, X, y, fit_params), f"{name}: random_state")

    if isinstance(X, list):
        as_objects = to_object_array(X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            other = _fit(clone(estimator), as_objects, y, fit_params)
            _assert_same(
                reference,
                _outputs(other, as_objects, y, fit_params),
                f"{name}: list vs object array",
            )


def _equal(a, b) -> bool:
    if a is b:
        return True
    try:
        result = a == b
        return bool(np.all(result))
    except Exception:
        return False
