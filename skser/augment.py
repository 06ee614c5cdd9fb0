"""Data augmentation for spectrogram-like arrays and waveforms.

Each augmentation is written once (in ``_augment``) and offered through two
adapters shared by every augmenter:

* **sampler** -- ``fit_resample(X, y)`` in the imbalanced-learn style. Inside an
  :class:`imblearn.pipeline.Pipeline` it runs only during ``fit``, so each
  cross-validation fold augments only its own training part and ``predict``
  never augments. It materializes ``keep_original + n_augmented`` copies of
  the training data in memory.
* **on the fly** -- ``augment(batch, random_state=rng)`` (or ``augmenter(batch)``)
  perturbs one batch; a training loop calls it on every batch of every epoch,
  giving fresh perturbations each epoch with constant memory.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from skser._validation import check_clip_sequence, check_option, check_waveform, is_path_like

__all__ = ["SpectrogramAugmenter", "WaveformAugmenter"]


def _as_generator(random_state: Any) -> np.random.Generator:
    """A numpy Generator from None, a seed, a RandomState or a Generator.

    A Generator is returned as is (the caller's stream advances); a RandomState
    seeds a new Generator from its own stream, so it advances too.
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    if random_state is None or isinstance(random_state, numbers.Integral):
        return np.random.default_rng(random_state)
    raise ValueError(
        "random_state must be None, an int, a numpy RandomState or a numpy Generator, "
        f"got {random_state!r}."
    )


def _check_range(value: Any, name: str, *, symmetric_around: float = 0.0) -> tuple[float, float]:
    """Turn ``v`` into ``(c - v, c + v)``, or accept an explicit ``(low, high)`` pair."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2 or not all(isinstance(v, numbers.Real) for v in value):
            raise ValueError(f"{name} must be a number or a (low, high) pair, got {value!r}.")
        low, high = float(value[0]), float(value[1])
        if not low <= high:
            raise ValueError(f"{name} must satisfy low <= high, got {value!r}.")
        return low, high
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(
            f"{name} must be a non-negative number or a (low, high) pair, got {value!r}."
        )
    return symmetric_around - float(value), symmetric_around + float(value)


class _AugmentSamplerMixin:
    """The two adapters (sampler and on-the-fly) over a subclass's ``_augment``.

    Subclasses implement ``_check_params()``, ``_check_batch(X)`` (returns the
    validated batch: an array, or a list of arrays) and ``_augment(X, rng)``.
    """

    # imbalanced-learn recognises samplers by this attribute (imblearn.base.is_sampler).
    _estimator_type = "sampler"

    def augment(self, X, *, random_state=None):
        """Return one randomly perturbed copy of the batch ``X``.

        Parameters
        ----------
        X : array-like
            A batch of samples (see the class docstring for its shape).
        random_state : None, int, numpy RandomState or numpy Generator, default=None
            Source of randomness. A Generator or RandomState you own is advanced,
            so calling ``augment`` once per batch per epoch gives fresh
            perturbations each time. ``None`` uses the augmenter's own generator,
            seeded once from ``self.random_state`` and advanced on every call.

        Returns
        -------
        X_aug : same kind and shape as ``X``, float32
        """
        self._check_params()
        batch = self._check_batch(X)
        rng = self._own_rng() if random_state is None else _as_generator(random_state)
        return self._augment(batch, rng)

    def __call__(self, X):
        """Same as ``self.augment(X)``: usable as a plain callable on batches."""
        return self.augment(X)

    def _own_rng(self) -> np.random.Generator:
        # Private, not a fitted attribute: clone() starts a fresh stream from random_state.
        rng = self.__dict__.get("_call_rng")
        if rng is None:
            rng = self._call_rng = _as_generator(self.random_state)
        return rng

    def fit(self, X, y=None):
        """Validate the parameters and ``X``; augmenters learn nothing.

        Returns
        -------
        self
        """
        self._check_params()
        self._check_batch(X)
        return self

    def fit_resample(self, X, y, **params):
        """Return the originals (if ``keep_original``) plus ``n_augmented`` variants of each.

        Parameters
        ----------
        X : array-like
            The training samples.
        y : array-like of shape (n_samples,) or None
            Their labels, repeated for each copy.
        **params
            Not supported: the returned pair carries only ``X`` and ``y``, so other
            per-sample metadata (``groups``, ``sample_weight``) could not follow
            the new samples. Passing any raises ``TypeError``.

        Returns
        -------
        X_res : same kind as ``X``, float32, with ``(keep_original + n_augmented) * n_samples`` samples
            ``[X, variant_1 of all samples, ..., variant_k of all samples]``.
        y_res : ndarray of shape (len(X_res),) or None
            ``y`` tiled in the same order.
        """
        if params:
            raise TypeError(
                f"{type(self).__name__}.fit_resample does not take metadata "
                f"({sorted(params)}): per-sample metadata cannot follow the augmented samples."
            )
        self._check_params()
        batch = self._check_batch(X)
        n = len(batch)
        if y is not None:
            y = np.asarray(y)
            if y.ndim != 1 or len(y) != n:
                raise ValueError(
                    f"y must be 1-D with one label per sample ({n}), got shape {y.shape}."
                )
        rng = _as_generator(self.random_state)
        parts = [batch] if self.keep_original else []
        parts += [self._augment(batch, rng) for _ in range(self.n_augmented)]
        if isinstance(batch, np.ndarray):
            X_res = np.concatenate(parts, axis=0)
        else:
            X_res = [clip for part in parts for clip in part]
        y_res = None if y is None else np.concatenate([y] * len(parts))
        return X_res, y_res

    def _check_common_params(self) -> None:
        n_aug = self.n_augmented
        if isinstance(n_aug, bool) or not isinstance(n_aug, numbers.Integral) or n_aug < 0:
            raise ValueError(f"n_augmented must be a non-negative integer, got {n_aug!r}.")
        if not self.keep_original and n_aug == 0:
            raise ValueError("n_augmented=0 with keep_original=False would return no samples.")
        rs = self.random_state
        if not (
            rs is None
            or isinstance(rs, (np.random.Generator, np.random.RandomState))
            or (isinstance(rs, numbers.Integral) and not isinstance(rs, bool))
        ):
            raise ValueError(
                "random_state must be None, an int, a numpy RandomState or a numpy "
                f"Generator, got {rs!r}."
            )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.non_deterministic = False
        return tags


class SpectrogramAugmenter(_AugmentSamplerMixin, BaseEstimator):
    """Shift, zoom, flip and SpecAugment masks for batches of spectrogram-like arrays.

    Every sample of a batch gets its own random perturbation (the same for
    all its channels or segments). Operations, in order:

    1. along the time axis: zoom, ``width_shift`` and ``horizontal_flip``
       (reverse time with probability 1/2);
    2. along the frequency axis: zoom and ``height_shift``;
    3. ``time_masks`` then ``freq_masks`` bands set to ``fill_value`` (SpecAugment).

    Shifts move the content by a whole number of bins (no blurring); the gap
    is filled with ``fill_value`` (``fill="constant"``) or by repeating the
    edge bin (``fill="nearest"``). Zoom rescales around the centre with linear
    interpolation (>1 magnifies); zoom and shift factors are drawn independently
    for time and frequency, as Keras' ``ImageDataGenerator`` does.

    **Padding is preserved**: any slice over (frequency, time) that is all zero
    on input -- e.g. the zero segments that pad a CNN-RNN segment stack, or an
    all-zero channel -- is exactly zero on output, whatever the fill and mask
    values, so downstream masking keeps working.

    Parameters
    ----------
    width_shift, height_shift : float, default=0.0
        Maximal shift along time (width) and frequency (height): a value < 1 is
        a fraction of the axis length, >= 1 a number of bins. The shift is
        drawn uniformly in ``[-v, v]`` and rounded to whole bins.
    zoom : float or (low, high), default=0.0
        Zoom factor drawn uniformly in ``[1 - zoom, 1 + zoom]`` (or ``[low, high]``)
        per axis.
    horizontal_flip : bool, default=False
        Reverse time with probability 1/2.
    time_masks, freq_masks : int, default=0
        Number of SpecAugment masks along time and along frequency.
    time_mask_width, freq_mask_width : float, default=0.1
        Maximal width of one mask (< 1: fraction of the axis, >= 1: bins); each
        width is drawn uniformly in ``[0, max]`` and its start uniformly.
    fill : {"constant", "nearest"}, default="constant"
        How shifts and zoom-outs fill the bins they uncover.
    fill_value : float, default=0.0
        Value of ``fill="constant"`` and of the masks. For dB spectrograms use
        the floor (e.g. ``-80.0``) or ``fill="nearest"``; for standardized
        features 0 is the mean.
    freq_axis, time_axis : int, default=1, 2
        Axes of a batch (axis 0 indexes samples). The defaults fit
        ``(n, freq, time)`` spectrograms and ``(n, height=freq, width=time,
        channels)`` images. MFCC sequences ``(n, time, coeffs)``: ``time_axis=1,
        freq_axis=2``. Segment stacks ``(n, n_segments, time, mel)``:
        ``time_axis=2, freq_axis=3``.
    n_augmented : int, default=20
        Variants per sample made by ``fit_resample``.
    keep_original : bool, default=True
        Whether ``fit_resample`` also returns the unperturbed samples.
    random_state : None, int, RandomState or Generator, default=None
        Seed of ``fit_resample`` (the same seed gives the same output) and of the
        generator used by ``augment``/``__call__`` when no ``random_state`` is given.

    See Also
    --------
    WaveformAugmenter : noise, gain and time shift on waveforms.

    Notes
    -----
    Two adapters share the one implementation:

    * ``fit_resample`` (sampler) materializes ``(keep_original + n_augmented)``
      copies of the training set: with the FSER setting that is 21 times the
      memory. Use it in :class:`imblearn.pipeline.Pipeline`, which applies it
      only in ``fit``. It returns only ``X`` and ``y``: ``groups`` or
      ``sample_weight`` for later steps cannot follow the new samples.
    * ``augment(batch, random_state=rng)`` / ``augmenter(batch)`` (on the fly)
      perturbs one batch; call it per training batch and epoch for fresh
      perturbations in constant memory. This is the bounded-memory choice.

    :meth:`fser` returns the setting of the FSER paper (20 variants per
    training image with width/height shift, zoom and horizontal flip).

    Examples
    --------
    >>> import numpy as np
    >>> from skser.augment import SpectrogramAugmenter
    >>> X = np.random.default_rng(0).random((8, 64, 64, 3), dtype=np.float32)
    >>> y = np.array(["anger", "calm"] * 4)
    >>> aug = SpectrogramAugmenter(width_shift=0.1, time_masks=2, n_augmented=3, random_state=0)
    >>> X_res, y_res = aug.fit_resample(X, y)   # sampler: originals + 3 variants each
    >>> X_res.shape, y_res.shape
    ((32, 64, 64, 3), (32,))
    >>> rng = np.random.default_rng(1)
    >>> aug.augment(X, random_state=rng).shape  # on the fly: one fresh batch
    (8, 64, 64, 3)

    Inside an imbalanced-learn pipeline, augmentation happens in ``fit`` only:

    >>> from imblearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from sklearn.linear_model import LogisticRegression
    >>> flatten = FunctionTransformer(lambda A: A.reshape(len(A), -1))
    >>> pipe = make_pipeline(aug, flatten, LogisticRegression(max_iter=200)).fit(X, y)
    >>> pipe.predict(X).shape
    (8,)
    """

    def __init__(
        self,
        *,
        width_shift=0.0,
        height_shift=0.0,
        zoom=0.0,
        horizontal_flip=False,
        time_masks=0,
        time_mask_width=0.1,
        freq_masks=0,
        freq_mask_width=0.1,
        fill="constant",
        fill_value=0.0,
        freq_axis=1,
        time_axis=2,
        n_augmented=20,
        keep_original=True,
        random_state=None,
    ):
        self.width_shift = width_shift
        self.height_shift = height_shift
        self.zoom = zoom
        self.horizontal_flip = horizontal_flip
        self.time_masks = time_masks
        self.time_mask_width = time_mask_width
        self.freq_masks = freq_masks
        self.freq_mask_width = freq_mask_width
        self.fill = fill
        self.fill_value = fill_value
        self.freq_axis = freq_axis
        self.time_axis = time_axis
        self.n_augmented = n_augmented
        self.keep_original = keep_original
        self.random_state = random_state

    @classmethod
    def fser(cls, **overrides) -> SpectrogramAugmenter:
        """The FSER paper's augmentation: 20 variants per training image.

        The paper (FSER, mel-spectrogram CNN, 8 emotions) applies Keras
        ``ImageDataGenerator`` width and height shift, zoom and horizontal flip
        and keeps the originals (1,947 training images became 40,887 = 21 x
        1,947). It does not report the ranges; this preset uses 0.1 for shifts
        and zoom and ``fill="nearest"`` (Keras' default fill mode).

        Parameters
        ----------
        **overrides
            Any constructor parameter, e.g. ``random_state=0``.

        Examples
        --------
        >>> from skser.augment import SpectrogramAugmenter
        >>> SpectrogramAugmenter.fser(random_state=0).n_augmented
        20
        """
        params = dict(
            width_shift=0.1,
            height_shift=0.1,
            zoom=0.1,
            horizontal_flip=True,
            fill="nearest",
            n_augmented=20,
            keep_original=True,
        )
        params.update(overrides)
        return cls(**params)

    # ---------------------------------------------------------------- validation
    def _check_params(self) -> None:
        self._check_common_params()
        for name in ("width_shift", "height_shift", "time_mask_width", "freq_mask_width"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
                raise ValueError(f"{name} must be a non-negative number, got {value!r}.")
        low, high = _check_range(self.zoom, "zoom", symmetric_around=1.0)
        if not low > 0:
            raise ValueError(f"zoom factors must stay positive, got the range [{low}, {high}].")
        for name in ("time_masks", "freq_masks"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}.")
        check_option(self.fill, "fill", ["constant", "nearest"])
        if not isinstance(self.fill_value, numbers.Real) or not np.isfinite(self.fill_value):
            raise ValueError(f"fill_value must be a finite number, got {self.fill_value!r}.")

    def _axes(self, ndim: int) -> tuple[int, int]:
        axes = []
        for name in ("time_axis", "freq_axis"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise ValueError(f"{name} must be an integer axis, got {value!r}.")
            axis = int(value) + ndim if value < 0 else int(value)
            if not 1 <= axis < ndim:
                raise ValueError(
                    f"{name}={value} is not a valid axis of a batch with {ndim} dimensions "
                    "(axis 0 indexes samples)."
                )
            axes.append(axis)
        if axes[0] == axes[1]:
            raise ValueError(f"time_axis and freq_axis must differ, both are {axes[0]}.")
        return axes[0], axes[1]

    def _check_batch(self, X) -> np.ndarray:
        X = np.asarray(X)
        if X.dtype == object or X.dtype.kind not in "biuf":
            raise ValueError(f"X must be a numeric array, got dtype {X.dtype}.")
        if X.ndim < 3:
            raise ValueError(
                "X must be a batch of 2-D (or higher) samples, e.g. (n, freq, time); "
                f"got shape {X.shape}."
            )
        if X.shape[0] == 0:
            raise ValueError("X is empty: at least one sample is required.")
        X = X.astype(np.float32, copy=False)
        if not np.all(np.isfinite(X)):
            raise ValueError("X contains NaN or infinite values.")
        self._axes(X.ndim)
        return X

    # ---------------------------------------------------------------- the augmentations
    def _augment(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        t_ax, f_ax = self._axes(X.ndim)
        n = X.shape[0]
        # All-zero (freq, time) slices are padding; the full check only runs if zeros exist.
        padding = None
        if not np.all(X):
            padding = ~np.any(X, axis=(t_ax, f_ax), keepdims=True)
            if not padding.any():
                padding = None
        zoom_low, zoom_high = _check_range(self.zoom, "zoom", symmetric_around=1.0)
        out = X

        # Time axis: zoom, shift, flip (one resampling).
        t_len = X.shape[t_ax]
        t_shift = self._draw_shift(self.width_shift, t_len, n, rng)
        t_zoom = rng.uniform(zoom_low, zoom_high, n) if self.zoom else None
        t_flip = rng.random(n) < 0.5 if self.horizontal_flip else None
        if np.any(t_shift) or t_zoom is not None or t_flip is not None:
            out = self._warp(out, t_ax, t_shift, t_zoom, t_flip)

        # Frequency axis: zoom, shift.
        f_len = X.shape[f_ax]
        f_shift = self._draw_shift(self.height_shift, f_len, n, rng)
        f_zoom = rng.uniform(zoom_low, zoom_high, n) if self.zoom else None
        if np.any(f_shift) or f_zoom is not None:
            out = self._warp(out, f_ax, f_shift, f_zoom, None)

        # SpecAugment masks, written in place through a view with the axis at 1:
        # boolean indexing of the two leading axes is much faster than a broadcast where().
        if out is X:
            out = X.copy()
        for axis, count, width in (
            (t_ax, self.time_masks, self.time_mask_width),
            (f_ax, self.freq_masks, self.freq_mask_width),
        ):
            if count:
                band = self._draw_masks(X.shape[axis], count, width, n, rng)
                np.moveaxis(out, axis, 1)[band] = self.fill_value

        if padding is not None:
            np.copyto(out, np.float32(0.0), where=padding)
        return np.ascontiguousarray(out, dtype=np.float32)

    @staticmethod
    def _draw_shift(max_shift: float, length: int, n: int, rng) -> np.ndarray:
        if not max_shift:
            return np.zeros(n)
        limit = max_shift * length if max_shift < 1 else float(max_shift)
        return np.rint(rng.uniform(-limit, limit, n))

    def _warp(self, X, axis, shift, zoom, flip) -> np.ndarray:
        """Flip, then zoom and shift every sample along ``axis``.

        ``out[j] = g[c + (j - c - shift) / zoom]`` with ``g`` the (flipped) input
        and ``c`` the centre; positions outside ``g`` take the fill.
        """
        if zoom is None:
            return self._shift_flip(X, axis, shift.astype(np.intp), flip)
        n, length = X.shape[0], X.shape[axis]
        centre = (length - 1) / 2.0
        j = np.arange(length, dtype=np.float64)[None, :]
        src = centre + (j - centre - shift[:, None]) / zoom[:, None]
        if flip is not None:
            src[flip] = length - 1 - src[flip]
        if self.fill == "nearest":
            src = np.clip(src, 0, length - 1)
        invalid = (src < -1e-9) | (src > length - 1 + 1e-9)
        src = np.clip(src, 0, length - 1)
        i0 = np.floor(src).astype(np.intp)
        w = (src - i0).astype(np.float32)
        i1 = np.minimum(i0 + 1, length - 1)
        # View the batch as rows of blocks, (A * length, B) with A = n * (sizes before axis)
        # and B = sizes after, and gather whole blocks with np.take on axis 0 (numpy's
        # fastest gather; the result keeps X's layout, no transposes). One extra row
        # holds the constant fill, which out-of-range positions point to.
        before = int(np.prod(X.shape[1:axis]))
        flat = np.ascontiguousarray(X).reshape(n * before * length, -1)
        fill_row = flat.shape[0]
        flat = np.concatenate([flat, np.full((1, flat.shape[1]), self.fill_value, np.float32)])
        offsets = (np.arange(n * before) * length).reshape(n, before, 1)

        def rows(index):
            index = np.where(invalid, fill_row, index)[:, None, :] + offsets
            return np.minimum(index, fill_row).ravel()  # the fill row absorbs its offsets

        out = np.take(flat, rows(i0), axis=0)
        if np.any(w):  # zoom needs interpolation; whole-bin shifts and flips do not
            w = np.broadcast_to(w[:, None, :], (n, before, length)).reshape(-1)
            delta = np.take(flat, rows(i1), axis=0)
            delta -= out  # in place: out += w * (other - out) without temporaries
            if out.shape[1] < 16:  # small blocks: transpose so numpy's inner loop is long
                delta.T[...] *= w
            else:
                delta *= w[:, None]
            out += delta
        return out.reshape(X.shape)

    def _shift_flip(self, X, axis, shift, flip) -> np.ndarray:
        """Whole-bin shifts and flips by slicing each sample (no gather: several times faster)."""
        out = np.empty(X.shape, np.float32)
        src_view, out_view = np.moveaxis(X, axis, 1), np.moveaxis(out, axis, 1)
        length = X.shape[axis]
        nearest = self.fill == "nearest"
        for i, k in enumerate(shift):
            src, dst = src_view[i], out_view[i]
            if flip is not None and flip[i]:
                src = src[::-1]
            k = int(np.clip(k, -length, length))
            if k >= 0:
                dst[k:] = src[: length - k]
                dst[:k] = src[:1] if nearest else self.fill_value
            else:
                dst[: length + k] = src[-k:]
                dst[length + k :] = src[-1:] if nearest else self.fill_value
        return out

    @staticmethod
    def _draw_masks(length: int, count: int, max_width: float, n: int, rng) -> np.ndarray:
        """Boolean (n, length): True inside one of ``count`` random bands per sample."""
        limit = int(round(max_width * length)) if max_width < 1 else int(max_width)
        limit = min(limit, length)
        widths = rng.integers(0, limit + 1, size=(n, count))
        starts = np.floor(rng.random((n, count)) * (length - widths + 1)).astype(np.intp)
        pos = np.arange(length)[None, None, :]
        inside = (pos >= starts[..., None]) & (pos < (starts + widths)[..., None])
        return inside.any(axis=1)


class WaveformAugmenter(_AugmentSamplerMixin, BaseEstimator):
    """Additive noise, gain and time shift for waveforms (any lengths).

    Each clip gets its own random perturbation, in this order: time shift
    (content moves, the gap is filled with zeros: no wrap-around), gain, then
    white Gaussian noise at a random signal-to-noise ratio. A silent clip stays
    silent under noise (its SNR reference power is zero), and no operation
    produces NaN.

    Parameters
    ----------
    noise_snr_db : None, float or (low, high), default=None
        SNR of the added white noise in dB: a number fixes it, a pair draws it
        uniformly. ``None`` adds no noise.
    gain_db : float or (low, high), default=0.0
        Gain in dB, uniform in ``[-gain_db, gain_db]`` (or ``[low, high]``).
    time_shift : float, default=0.0
        Maximal shift as a fraction of each clip's length, uniform in ``[-v, v]``.
    n_augmented : int, default=5
        Variants per clip made by ``fit_resample``.
    keep_original : bool, default=True
        Whether ``fit_resample`` also returns the unperturbed clips.
    random_state : None, int, RandomState or Generator, default=None
        As in :class:`SpectrogramAugmenter`.

    Notes
    -----
    The input is a batch of in-memory waveforms (list of 1-D arrays, 1-D object
    array, or 2-D array ``(n_clips, n_samples)``): put it after ``AudioLoader``
    (or ``FixedLength``) in a pipeline. The output has the same kind: a list of
    float32 arrays, an object array, or a 2-D float32 array. The sampler and
    on-the-fly adapters behave as in :class:`SpectrogramAugmenter`.

    Examples
    --------
    >>> import numpy as np
    >>> from skser.augment import WaveformAugmenter
    >>> waves = [np.sin(np.linspace(0, 200, n)).astype(np.float32) for n in (8000, 12000)]
    >>> aug = WaveformAugmenter(noise_snr_db=(10, 30), gain_db=6, n_augmented=2, random_state=0)
    >>> X_res, y_res = aug.fit_resample(waves, ["anger", "calm"])
    >>> [len(w) for w in X_res], y_res.tolist()
    ([8000, 12000, 8000, 12000, 8000, 12000], ['anger', 'calm', 'anger', 'calm', 'anger', 'calm'])
    """

    def __init__(
        self,
        *,
        noise_snr_db=None,
        gain_db=0.0,
        time_shift=0.0,
        n_augmented=5,
        keep_original=True,
        random_state=None,
    ):
        self.noise_snr_db = noise_snr_db
        self.gain_db = gain_db
        self.time_shift = time_shift
        self.n_augmented = n_augmented
        self.keep_original = keep_original
        self.random_state = random_state

    def _check_params(self) -> None:
        self._check_common_params()
        if self.noise_snr_db is not None:
            if isinstance(self.noise_snr_db, (tuple, list)):
                _check_range(self.noise_snr_db, "noise_snr_db")
            elif isinstance(self.noise_snr_db, bool) or not isinstance(
                self.noise_snr_db, numbers.Real
            ):
                raise ValueError(
                    f"noise_snr_db must be None, a number or a (low, high) pair, "
                    f"got {self.noise_snr_db!r}."
                )
        _check_range(self.gain_db, "gain_db")
        shift = self.time_shift
        if isinstance(shift, bool) or not isinstance(shift, numbers.Real) or not 0 <= shift <= 1:
            raise ValueError(f"time_shift must be a fraction in [0, 1], got {shift!r}.")

    def _check_batch(self, X):
        if isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind in "biuf":
            return np.stack([check_waveform(row, index=i) for i, row in enumerate(X)])
        clips = check_clip_sequence(X)
        for i, clip in enumerate(clips):
            if is_path_like(clip):
                raise ValueError(
                    f"X[{i}] is a file path ({str(clip)!r}); WaveformAugmenter works on "
                    "waveforms: load the audio first (e.g. AudioLoader before it in the pipeline)."
                )
        waves = [check_waveform(clip, index=i) for i, clip in enumerate(clips)]
        if isinstance(X, np.ndarray) and X.dtype == object:
            from skser.audio import to_object_array

            return to_object_array(waves)
        return waves

    def _augment(self, X, rng: np.random.Generator):
        gain_low, gain_high = _check_range(self.gain_db, "gain_db")
        if self.noise_snr_db is None:
            snr_range = None
        elif isinstance(self.noise_snr_db, (tuple, list)):
            snr_range = _check_range(self.noise_snr_db, "noise_snr_db")
        else:
            snr_range = (float(self.noise_snr_db), float(self.noise_snr_db))
        out = [self._augment_one(np.asarray(w), rng, gain_low, gain_high, snr_range) for w in X]
        if isinstance(X, np.ndarray) and X.dtype != object:
            return np.stack(out)
        if isinstance(X, np.ndarray):
            from skser.audio import to_object_array

            return to_object_array(out)
        return out

    def _augment_one(self, wave, rng, gain_low, gain_high, snr_range) -> np.ndarray:
        wave = wave.astype(np.float64)
        if self.time_shift:
            limit = self.time_shift * len(wave)
            k = int(np.rint(rng.uniform(-limit, limit)))
            shifted = np.zeros_like(wave)
            if k >= 0:
                shifted[k:] = wave[: len(wave) - k]
            else:
                shifted[:k] = wave[-k:]
            wave = shifted
        if gain_low or gain_high:
            wave = wave * 10.0 ** (rng.uniform(gain_low, gain_high) / 20.0)
        if snr_range is not None:
            snr = rng.uniform(*snr_range)
            power = float(np.mean(wave**2))
            wave = wave + rng.standard_normal(len(wave)) * np.sqrt(power / 10.0 ** (snr / 10.0))
        return wave.astype(np.float32)
