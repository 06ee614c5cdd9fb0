"""YAMNet internals: weight files, NumPy frontend, TFLite runner, Keras network and conversions.

Tolerances measured on this TFLite export (int8 weights, XNNPACK):
- NumPy frontend vs the export's own patch: the export's DFT and mel matrices
  (and, dynamically, each frame's spectrum) are int8, so the two differ by
  quantization noise that log amplifies in weak bands: where both log-mels
  exceed -3, mean abs diff ~0.026 and 99th percentile ~0.27; where both exceed
  0, max ~0.25. Weak bands of a loud frame may hit the export's floor log(0.001).
- Keras (dequantized weights) vs the export's embedding on the same patch:
  cosine >= 0.9995, max abs diff ~0.12 (embedding values up to ~8); the
  residual is the export's dynamic int8 quantization of activations.
- Keras on the NumPy frontend vs the export end to end: per-window cosine
  0.97-0.9998, clip-mean cosine ~0.9986-0.9997 (the frontend difference above).
"""

from __future__ import annotations

import numpy as np
import pytest

from skser._yamnet import (
    EMBEDDING_SIZE,
    WINDOW_SAMPLES,
    build_yamnet_backbone,
    load_yamnet_runner,
    log_mel_patches,
    log_mel_spectrogram,
    mel_weight_matrix,
    resolve_yamnet_weights,
    sniff_weights_format,
    waveform_patch,
    yamnet_class_names,
    yamnet_weights_from_h5,
    yamnet_weights_from_tflite,
)
from skser._yamnet._keras import LAYER_DEFS
from skser.audio import load_audio, segment_waveform

SPEECH_CLIP = "Actor_01/03-01-05-02-01-01-01.flac"  # angry, strong intensity


def _cos(a, b):
    return np.sum(a * b, axis=-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))


@pytest.fixture(scope="module")
def speech_windows(ravdess_dir):
    wave, _ = load_audio(ravdess_dir / SPEECH_CLIP, sr=16000)
    windows = segment_waveform(wave, WINDOW_SAMPLES, WINDOW_SAMPLES // 2)
    rms = np.sqrt(np.mean(windows**2, axis=1))
    return windows[rms > 1e-3]  # windows holding speech, not the leading/trailing silence


@pytest.fixture(scope="module")
def tflite_outputs(yamnet_tflite, speech_windows):
    runner = load_yamnet_runner(yamnet_tflite)
    return runner(speech_windows, return_patches=True)


# -- weight files -----------------------------------------------------------------------------
def test_missing_weights_names_download_addresses(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match=r"storage\.googleapis\.com/audioset/yamnet\.h5"):
        resolve_yamnet_weights(tmp_path / "nope.tflite")
    monkeypatch.setenv("SKSER_YAMNET", str(tmp_path / "env.tflite"))
    with pytest.raises(FileNotFoundError, match=r"env\.tflite.*default location"):
        resolve_yamnet_weights(None)


def test_bad_files_are_rejected_clearly(tmp_path):
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"this is not a model at all")
    with pytest.raises(ValueError, match="not a YAMNet weights file"):
        resolve_yamnet_weights(junk)
    with pytest.raises(ValueError, match="directory"):
        resolve_yamnet_weights(tmp_path)
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "other.h5", "w") as fh:
        fh["x"] = np.zeros(3)
    assert sniff_weights_format(tmp_path / "other.h5") == "h5"
    with pytest.raises(ValueError, match="not Keras weights"):
        yamnet_weights_from_h5(tmp_path / "other.h5")


@pytest.mark.realdata
@pytest.mark.parametrize("keep", [4096, -5000, -10])
def test_truncated_tflite_is_rejected(yamnet_tflite, tmp_path, keep):
    # TFLite's own loader segfaults on these; the flatbuffer walk must catch them first.
    broken = tmp_path / "broken.tflite"
    broken.write_bytes(yamnet_tflite.read_bytes()[:keep])
    with pytest.raises(ValueError, match=r"broken\.tflite.*damaged or truncated"):
        load_yamnet_runner(broken)


@pytest.mark.realdata
@pytest.mark.slow
def test_other_tflite_model_is_not_yamnet(tmp_path):
    import keras
    import tensorflow as tf

    inputs = keras.Input(shape=(8,), batch_size=1)
    model = keras.Model(inputs, keras.layers.Dense(3)(inputs))
    path = tmp_path / "dense.tflite"
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    with pytest.raises(ValueError, match="not the YAMNet TFLite export"):
        load_yamnet_runner(path)


@pytest.mark.realdata
def test_class_names(yamnet_tflite, tmp_path):
    names = yamnet_class_names(yamnet_tflite)
    assert len(names) == 521 and names[0] == "Speech" and names[-1] == "Field recording"
    with pytest.raises(FileNotFoundError, match="yamnet_class_map.csv"):
        yamnet_class_names(tmp_path / "yamnet.tflite")


# -- frontend ---------------------------------------------------------------------------------
def test_frontend_matches_tensorflow_float_frontend():
    """The NumPy frontend equals the model garden's float one written with tf.signal."""
    tf = pytest.importorskip("tensorflow")
    rng = np.random.default_rng(0)
    wave = (0.1 * rng.standard_normal(WINDOW_SAMPLES + 1234)).astype(np.float32)
    mel = tf.signal.linear_to_mel_weight_matrix(64, 257, 16000, 125.0, 7500.0).numpy()
    np.testing.assert_allclose(mel_weight_matrix(), mel, atol=1e-5)
    stft = tf.abs(tf.signal.stft(wave, 400, 160, 512)).numpy()
    expected = np.log(stft @ mel + 0.001)
    np.testing.assert_allclose(log_mel_spectrogram(wave), expected, atol=2e-4)


def test_patches_shapes_and_silence():
    assert log_mel_patches(np.zeros(100)).shape == (1, 96, 64)  # padded to one patch
    assert log_mel_patches(np.zeros(WINDOW_SAMPLES)).shape == (1, 96, 64)
    assert log_mel_patches(np.zeros(WINDOW_SAMPLES + 1)).shape == (2, 96, 64)
    assert log_mel_patches(np.zeros(32000)).shape == (4, 96, 64)  # 0, .48, .96, 1.44 s
    silent = waveform_patch(np.zeros((2, WINDOW_SAMPLES)))
    np.testing.assert_allclose(silent, np.log(0.001), rtol=1e-6)
    with pytest.raises(ValueError, match="15600"):
        waveform_patch(np.zeros(16000))


@pytest.mark.realdata
def test_numpy_frontend_matches_tflite_patch(tflite_outputs, speech_windows):
    _, _, tflite_patch = tflite_outputs
    ours = waveform_patch(speech_windows)
    diff = np.abs(ours - tflite_patch)
    # The export quantizes each frame's spectrum to int8 before the mel product, so
    # weak bands of a loud frame can drop to its floor log(0.001): compare where both
    # see energy, and tightly where the energy is high.
    both = (tflite_patch > -3.0) & (ours > -3.0)
    strong = (tflite_patch > 0.0) & (ours > 0.0)
    assert both.mean() > 0.2 and strong.mean() > 0.05
    assert diff[both].mean() < 0.05
    assert np.percentile(diff[both], 99) < 0.4
    assert diff[strong].max() < 0.3
    assert np.corrcoef(ours.ravel(), tflite_patch.ravel())[0, 1] > 0.98


# -- runner -----------------------------------------------------------------------------------
@pytest.mark.realdata
def test_tflite_top_class_is_speech(tflite_outputs, yamnet_tflite):
    emb, scores, _ = tflite_outputs
    assert emb.shape == (len(scores), EMBEDDING_SIZE) and scores.shape[1] == 521
    assert np.all(np.isfinite(emb)) and np.all((scores >= 0) & (scores <= 1))
    names = yamnet_class_names(yamnet_tflite)
    assert names[int(scores.mean(axis=0).argmax())] == "Speech"


@pytest.mark.realdata
def test_parallel_interpreters_equal_the_one_window_loop(yamnet_tflite, tflite_outputs, speech_windows):
    from skser._yamnet import TFLiteYAMNet

    emb, scores, patches = tflite_outputs
    runner = TFLiteYAMNet(yamnet_tflite, num_threads=3)
    assert len(runner._interpreters) == 3
    p_emb, p_scores, p_patches = runner(speech_windows, return_patches=True)
    np.testing.assert_array_equal(p_emb, emb)
    np.testing.assert_array_equal(p_scores, scores)
    np.testing.assert_array_equal(p_patches, patches)
    one_emb, _ = runner(speech_windows[:1])  # fewer windows than interpreters
    np.testing.assert_array_equal(one_emb, emb[:1])


@pytest.mark.realdata
def test_embedding_output_equals_preserved_tensors(yamnet_tflite, tflite_outputs, speech_windows):
    """The runner reads the embedding as an added graph output: bitwise today's values."""
    from skser._yamnet._tflite import embedding_output_model, find_tensors, make_interpreter

    emb, scores, patches = tflite_outputs
    preserved = make_interpreter(yamnet_tflite, preserve=True)
    t = find_tensors(preserved, yamnet_tflite)
    for i, window in enumerate(speech_windows):
        preserved.set_tensor(t.waveform, window[None])
        preserved.invoke()
        np.testing.assert_array_equal(preserved.get_tensor(t.embedding)[0], emb[i])
        np.testing.assert_array_equal(preserved.get_tensor(t.scores)[0], scores[i])
        np.testing.assert_array_equal(preserved.get_tensor(t.patch), patches[i])
    assert embedding_output_model(yamnet_tflite) is not None
    runner = load_yamnet_runner(yamnet_tflite)
    itp = runner._interpreters[0]
    assert t.embedding in [d["index"] for d in itp.get_output_details()]
    # XNNPACK runs the network as a few partitions, not one per operator.
    assert sum(op["op_name"] == "DELEGATE" for op in itp._get_ops_details()) < 10


# -- Keras ------------------------------------------------------------------------------------
def test_backbone_architecture():
    model = build_yamnet_backbone()
    assert model.output_shape == (None, EMBEDDING_SIZE)
    assert not model.trainable
    convs = [layer for layer in model.layers if layer.weights]
    assert len(convs) == 1 + 2 * (len(LAYER_DEFS) - 1)
    # 3x3 kernels + folded biases of the 27 convolutions (equals the TFLite export's count).
    assert model.count_params() == 3_195_456
    assert build_yamnet_backbone(input_shape=(96, 64, 1), trainable=True).trainable
    top = build_yamnet_backbone(include_top=True)
    assert top.output_shape == (None, 521)
    with pytest.raises(ValueError, match="input_shape"):
        build_yamnet_backbone(input_shape=(64, 96))


@pytest.mark.realdata
def test_keras_backbone_matches_tflite_embedding(yamnet_tflite, tflite_outputs, speech_windows):
    emb, scores, patches = tflite_outputs
    model = build_yamnet_backbone(yamnet_tflite)
    ours = np.asarray(model(patches))
    assert np.abs(ours - emb).max() < 0.25
    assert _cos(ours, emb).min() > 0.999
    # End to end with the NumPy frontend: per window looser (the export's frontend
    # is quantized), per clip (mean embedding) still close.
    from_wave = np.asarray(model(waveform_patch(speech_windows)))
    assert _cos(from_wave, emb).min() > 0.95
    assert _cos(from_wave.mean(0), emb.mean(0)) > 0.995
    top = build_yamnet_backbone(yamnet_tflite, include_top=True)
    np.testing.assert_allclose(np.asarray(top(patches)), scores, atol=0.03)


@pytest.mark.realdata
def test_keras_runner_agrees_with_tflite_runner(yamnet_tflite, tflite_outputs, speech_windows):
    from skser._yamnet import KerasYAMNet

    emb, scores, _ = tflite_outputs
    k_emb, k_scores = KerasYAMNet(yamnet_tflite, batch_size=3)(speech_windows)
    assert k_emb.shape == emb.shape
    assert _cos(k_emb.mean(0), emb.mean(0)) > 0.995
    assert k_scores.mean(0).argmax() == scores.mean(0).argmax() == 0  # Speech


@pytest.mark.realdata
def test_tflite_conversion_layouts(yamnet_tflite):
    weights = yamnet_weights_from_tflite(yamnet_tflite)
    assert weights["yamnet_layer1_conv"][0].shape == (3, 3, 1, 32)
    assert weights["yamnet_layer2_depthwise"][0].shape == (3, 3, 32, 1)
    assert weights["yamnet_layer14_pointwise"][0].shape == (1, 1, 1024, 1024)
    assert weights["yamnet_classifier"][0].shape == (1024, 521)
    backbone = sum(
        w.size for name, pair in weights.items() if name != "yamnet_classifier" for w in pair
    )
    assert backbone == build_yamnet_backbone().count_params()
    assert all(np.all(np.isfinite(w)) for pair in weights.values() for w in pair)


def _write_legacy_h5(path, rng):
    """A yamnet.h5 in the model garden's layout (Keras legacy save_weights), random values.

    Returns the raw per-layer arrays to build a batch-norm reference from.
    """
    import h5py

    layers = {}
    channels = 1
    for i, (kind, _, filters) in enumerate(LAYER_DEFS, start=1):
        convs = [(f"layer{i}/conv", "kernel", (3, 3, channels, filters))]
        if kind == "separable":
            convs = [
                (f"layer{i}/depthwise_conv", "depthwise_kernel", (3, 3, channels, 1)),
                (f"layer{i}/pointwise_conv", "kernel", (1, 1, channels, filters)),
            ]
        for name, var, shape in convs:
            fan_in = np.prod(shape[:-1]) if var == "kernel" else 9
            layers[name] = {var: rng.normal(0, np.sqrt(2 / fan_in), shape)}
            width = shape[-1] if var == "kernel" else shape[2]
            layers[name + "/bn"] = {
                "beta": rng.normal(0, 0.1, width),
                "moving_mean": rng.normal(0, 0.1, width),
                "moving_variance": rng.uniform(0.5, 2.0, width),
            }
        channels = filters
    layers["logits"] = {
        "kernel": rng.normal(0, 0.03, (1024, 521)),
        "bias": rng.normal(0, 0.1, 521),
    }
    with h5py.File(path, "w") as fh:
        fh.attrs["layer_names"] = [n.encode() for n in layers]
        for name, variables in layers.items():
            group = fh.require_group(name)
            group.attrs["weight_names"] = [f"{name}/{v}:0".encode() for v in variables]
            for var, value in variables.items():
                group.create_dataset(f"{name}/{var}:0", data=value.astype(np.float32))
    return layers


def _batchnorm_reference(layers):
    """The model garden's unfolded network (conv without bias, BN, ReLU) with ``layers``."""
    import keras
    from keras import layers as kl

    inputs = keras.Input((96, 64))
    net = kl.Reshape((96, 64, 1))(inputs)
    assigned = []
    for i, (kind, stride, filters) in enumerate(LAYER_DEFS, start=1):
        parts = (
            [("conv", stride)]
            if kind == "conv"
            else [("depthwise_conv", stride), ("pointwise_conv", 1)]
        )
        for part, s in parts:
            name = f"layer{i}/{part}"
            if part == "depthwise_conv":
                conv = kl.DepthwiseConv2D(3, strides=s, padding="same", use_bias=False)
                kernel = layers[name]["depthwise_kernel"]
            else:
                size = 3 if part == "conv" else 1
                conv = kl.Conv2D(filters, size, strides=s, padding="same", use_bias=False)
                kernel = layers[name]["kernel"]
            bn = kl.BatchNormalization(center=True, scale=False, epsilon=1e-4)
            net = kl.ReLU()(bn(conv(net)))
            bnv = layers[name + "/bn"]
            assigned += [
                (conv, [kernel]),
                (bn, [bnv["beta"], bnv["moving_mean"], bnv["moving_variance"]]),
            ]
    emb = kl.GlobalAveragePooling2D()(net)
    model = keras.Model(inputs, emb)
    for layer, values in assigned:
        layer.set_weights([np.asarray(v, np.float32) for v in values])
    return model


@pytest.mark.slow
def test_h5_conversion_folds_batchnorm_exactly(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "yamnet.h5"
    layers = _write_legacy_h5(path, rng)
    assert sniff_weights_format(path) == "h5"
    reference = _batchnorm_reference(layers)
    folded = build_yamnet_backbone(path)
    patch = rng.normal(-4, 2, (3, 96, 64)).astype(np.float32)
    expected = np.asarray(reference(patch, training=False))
    got = np.asarray(folded(patch))
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-3 * np.abs(expected).max())
    scores = np.asarray(build_yamnet_backbone(path, include_top=True)(patch))
    logits = expected @ layers["logits"]["kernel"] + layers["logits"]["bias"]
    np.testing.assert_allclose(scores, 1 / (1 + np.exp(-logits)), atol=1e-4)


def _text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def test_h5_missing_layer_is_named(tmp_path):
    rng = np.random.default_rng(1)
    path = tmp_path / "yamnet.h5"
    _write_legacy_h5(path, rng)
    import h5py

    with h5py.File(path, "a") as fh:
        names = [_text(n) for n in fh.attrs["layer_names"]]
        fh.attrs["layer_names"] = [n.encode() for n in names if n != "layer7/pointwise_conv/bn"]
    with pytest.raises(ValueError, match="layer7/pointwise_conv/bn"):
        yamnet_weights_from_h5(path)
