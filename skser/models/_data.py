"""The ``tf.data`` training input of every skser network: shuffle, random crops, mixup, prefetch.

Only training batches pass through here; validation and prediction always
see whole, unperturbed clips. Randomness is stateless and seeded, so the
same seed gives the same batches (and, on CPU, the same model).
"""

from __future__ import annotations

import math

import numpy as np


def training_dataset(X, y, sample_weight, *, batch_size, seed, crop_frames=None, time_axis=None,
                     mixup_alpha=0.0):
    """An endless ``tf.data.Dataset`` of training batches and its steps per epoch.

    Parameters
    ----------
    X, y, sample_weight : arrays
        Training clips, one-hot targets and per-clip weights (or None).
    batch_size : int
    seed : int
        Seeds the shuffling, the crop positions and the mixup draws.
    crop_frames : int or None
        Train on a random window of this many frames along ``time_axis``
        (a fresh window per clip and epoch); clips not longer stay whole.
    time_axis : int or None
        Axis of ``X`` (batch axis 0) the crops cut.
    mixup_alpha : float
        ``> 0``: mix each clip and its target with another clip of the batch,
        ``lam ~ Beta(alpha, alpha)`` (mixup, Zhang et al. 2018).

    Returns
    -------
    dataset : tf.data.Dataset
        Repeats forever; pass ``steps_per_epoch`` to ``fit``.
    steps_per_epoch : int
    """
    import tensorflow as tf

    arrays = (X, y) if sample_weight is None else (X, y, sample_weight)
    n = len(X)
    ds = tf.data.Dataset.from_tensor_slices(arrays)
    ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True).repeat().batch(batch_size)
    if crop_frames or mixup_alpha:
        keys = tf.data.Dataset.random(seed=seed).batch(2)  # one stateless seed pair per batch
        ds = tf.data.Dataset.zip((ds, keys)).map(
            lambda batch, key: _perturb(batch, key, crop_frames, time_axis, mixup_alpha),
            num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE), math.ceil(n / batch_size)


def _perturb(batch, key, crop_frames, time_axis, mixup_alpha):
    import tensorflow as tf

    x, y, *w = batch
    seeds = tf.random.experimental.stateless_split(tf.cast(key, tf.int64), num=3)
    if crop_frames:
        x = _random_crop(x, seeds[0], crop_frames, time_axis)
    if mixup_alpha:
        x, y, w = _mixup(x, y, w, seeds[1], seeds[2], mixup_alpha)
    return (x, y, *w)


def _random_crop(x, seed, length, axis):
    """A random window of ``length`` frames along ``axis``, drawn per clip."""
    import tensorflow as tf

    total = tf.shape(x)[axis]
    span = tf.minimum(total, length)
    starts = tf.random.stateless_uniform(tf.shape(x)[:1], seed, 0, total - span + 1,
                                         dtype=tf.int32)
    idx = starts[:, None] + tf.range(span)[None, :]
    return tf.gather(x, idx, axis=axis, batch_dims=1)


def _mixup(x, y, w, seed_perm, seed_lam, alpha):
    import tensorflow as tf

    n = tf.shape(x)[0]
    partner = tf.argsort(tf.random.stateless_uniform([n], seed_perm))
    g1, g2 = tf.unstack(tf.random.stateless_gamma([2, n], seed_lam, alpha=alpha))
    lam = g1 / (g1 + g2 + 1e-12)
    lx = tf.reshape(lam, [-1] + [1] * (len(x.shape) - 1))
    x = lx * x + (1.0 - lx) * tf.gather(x, partner)
    y = lam[:, None] * y + (1.0 - lam[:, None]) * tf.gather(y, partner)
    w = [lam * w[0] + (1.0 - lam) * tf.gather(w[0], partner)] if w else w
    return x, y, w


def random_seed() -> int:
    """A fresh seed for unseeded fits."""
    return int(np.random.default_rng().integers(2**31 - 1))
