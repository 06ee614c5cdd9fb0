"""YAMNet back ends per window of audio: the TFLite export (per-window invokes) vs batched Keras.

The same 0.975 s windows (50 % overlap) of ``--limit`` RAVDESS clips, decoded
once up front, go through each contender; every timing is windows in,
embeddings out (the frontend included), in this process, the contenders
alternating within each of ``--repeat`` rounds so that they share the load of
whatever else runs on the machine. Reported: wall milliseconds per window
(median over rounds), x real time (audio seconds of the windows' clips per
wall second) and the speed-up against today's TFLite runner.

Contenders:

- ``tflite, preserve_all_tensors`` — the runner before commit a2368ca:
  ``--n-jobs`` single-threaded interpreters in threads, the embedding read
  from a preserved intermediate tensor (XNNPACK then runs one partition per
  operator).
- ``tflite, embedding as output`` — the runner now: the same, the embedding
  made a graph output (4 XNNPACK partitions), bitwise the same outputs.
- ``tflite, 1 interpreter x N XNNPACK threads`` and ``1 thread`` (per-core cost).
- ``keras batched B`` — the Keras port (weights converted from the TFLite
  file, float32) in a cached ``tf.function`` with a fixed ``(B, 96, 64)``
  input signature, the last batch zero-padded, NumPy frontend included;
  TensorFlow's default intra-op threads. Also ``jit_compile=True`` (XLA) on a
  subset of windows.

Also: ``EmbeddingTransformer.fit_transform`` on the decoded clips (warm
process, before/after), the first call of a fresh process (a child process;
TensorFlow imported before it or by it), and agreement of each contender's
embeddings with the TFLite runner's (max abs difference, per-window and
clip-mean cosine).

Usage::

    python benchmarks/bench_yamnet_backends.py --limit 60 --repeat 3

Writes ``benchmarks/results/yamnet_backends.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    DATA,
    RESULTS,
    YAMNET,
    first_and_warm_call,
    markdown_table,
    preimport_tensorflow,
    require,
    write_results,
)

WINDOW = 15600
HOP = WINDOW // 2
SR = 16000


def list_clips(data: Path, limit: int) -> list[str]:
    files = sorted(str(p) for p in data.rglob("*.flac")) + sorted(str(p) for p in data.rglob("*.wav"))
    files.sort()
    if limit and limit < len(files):  # evenly spread over the corpus (all speakers)
        files = [files[i] for i in np.linspace(0, len(files) - 1, limit).round().astype(int)]
    return files


def preserved_runner(path, n_jobs):
    """Today's runner as it was before a2368ca: the embedding read from a preserved tensor."""
    import threading

    from skser._yamnet import TFLiteYAMNet
    from skser._yamnet._files import file_sha256
    from skser._yamnet._tflite import find_tensors, make_interpreter

    runner = TFLiteYAMNet.__new__(TFLiteYAMNet)  # the old __init__, step for step
    runner.path = os.fspath(path)
    runner.sha256 = file_sha256(path)
    runner.num_threads = n_jobs
    runner._interpreters = [
        make_interpreter(path, num_threads=1, preserve=True) for _ in range(n_jobs)
    ]
    runner._tensors = find_tensors(runner._interpreters[0], path)
    runner._lock = threading.Lock()
    return runner


def single_interpreter(path, threads):
    from skser._yamnet._tflite import embedding_output_model, find_tensors, make_interpreter

    itp = make_interpreter(
        path, num_threads=threads, preserve=False, model_content=embedding_output_model(path)
    )
    t = find_tensors(itp, path)

    def run(windows):
        emb = np.empty((len(windows), 1024), np.float32)
        for i, w in enumerate(windows):
            itp.set_tensor(t.waveform, w[None])
            itp.invoke()
            emb[i] = itp.get_tensor(t.embedding)[0]
        return emb

    return run


def frontend_only(path):
    """The export's frontend alone (its operators before the first CONV_2D), one thread.

    The operator vector's length is cut in place, so the interpreter runs the
    log-mel frontend and stops: its share of a window's cost.
    """
    import tensorflow as tf

    from skser._yamnet._tflite import embedding_output_model

    data = bytearray(embedding_output_model(path))
    graph, n_front = _first_conv(data)
    _, vector = _vector_field(data, graph, 10)  # SubGraph.operators
    data[vector : vector + 4] = n_front.to_bytes(4, "little")
    itp = tf.lite.Interpreter(model_content=bytes(data), num_threads=1)
    itp.allocate_tensors()
    waveform = itp.get_input_details()[0]["index"]

    def run(windows):
        for w in windows:
            itp.set_tensor(waveform, w[None])
            itp.invoke()
        return None

    return run


def _first_conv(data):
    """(the export's subgraph, index of its first CONV_2D operator: where the network starts)."""
    from skser._yamnet._tflite import _schema_module

    schema = _schema_module()
    model = schema.Model.GetRootAsModel(data, 0)
    graph = model.Subgraphs(0)
    codes = [model.OperatorCodes(i) for i in range(model.OperatorCodesLength())]
    kinds = [
        max(codes[graph.Operators(i).OpcodeIndex()].BuiltinCode(),
            codes[graph.Operators(i).OpcodeIndex()].DeprecatedBuiltinCode())
        for i in range(graph.OperatorsLength())
    ]  # fmt: skip
    return graph, kinds.index(schema.BuiltinOperator.CONV_2D)


def _vector_field(buf, graph, slot):
    """(position of a table's vector field, position of the vector) in ``buf``."""
    field = graph._tab.Pos + graph._tab.Offset(slot)
    return field, field + int.from_bytes(buf[field : field + 4], "little")


def _set_vector(buf: bytearray, field: int, values) -> None:
    """Point the vector field at ``field`` to a new int32 vector appended to ``buf``."""
    buf += bytes(-len(buf) % 4)
    pos = len(buf)
    buf += np.asarray([len(values), *values], "<i4").tobytes()
    buf[field : field + 4] = np.asarray([pos - field], "<u4").tobytes()


def tflite_split(path, batch):
    """The export cut in two: its frontend one window per invoke, its network ``batch`` patches
    per invoke (the patch tensor made the input of a copy of the graph that starts at the first
    CONV_2D, resized to ``[batch, 96, 64, 1]``; XNNPACK accepts the batch there)."""
    import tensorflow as tf

    from skser._yamnet._tflite import _schema_module, embedding_output_model, find_tensors

    schema = _schema_module()
    data = embedding_output_model(path)
    graph, first = _first_conv(data)
    patch = int(graph.Operators(first).InputsAsNumpy()[0])  # [1, 96, 64, 1]
    probe = tf.lite.Interpreter(model_content=data)
    t = find_tensors(probe, path)

    front = bytearray(data)  # operators before the first CONV_2D; output: the patch
    g = schema.Model.GetRootAsModel(front, 0).Subgraphs(0)
    _, ops = _vector_field(front, g, 10)
    front[ops : ops + 4] = first.to_bytes(4, "little")
    _set_vector(front, _vector_field(front, g, 8)[0], [patch])

    net = bytearray(data)  # operators from the first CONV_2D; input: the patch
    g = schema.Model.GetRootAsModel(net, 0).Subgraphs(0)
    _, ops = _vector_field(net, g, 10)
    n = int.from_bytes(net[ops : ops + 4], "little")
    offsets = np.frombuffer(bytes(net[ops + 4 : ops + 4 + 4 * n]), "<u4").astype(np.int64)
    kept = offsets[first:] + 4 * first  # each element moves 4 * first bytes closer
    net[ops : ops + 4] = (n - first).to_bytes(4, "little")
    net[ops + 4 : ops + 4 + 4 * len(kept)] = kept.astype("<u4").tobytes()
    _set_vector(net, _vector_field(net, g, 6)[0], [patch])
    _set_vector(net, _vector_field(net, g, 8)[0], [t.embedding, t.scores])

    fi = tf.lite.Interpreter(model_content=bytes(front), num_threads=1)
    fi.allocate_tensors()
    ni = tf.lite.Interpreter(model_content=bytes(net), num_threads=1)
    ni.allocate_tensors()
    ni.resize_tensor_input(patch, [batch, 96, 64, 1])
    ni.allocate_tensors()

    def run(windows):
        patches = np.empty((len(windows), 96, 64, 1), np.float32)
        for i, w in enumerate(windows):
            fi.set_tensor(t.waveform, w[None])
            fi.invoke()
            patches[i] = fi.get_tensor(patch)[0]
        out = []
        for start in range(0, len(patches), batch):
            x = patches[start : start + batch]
            k = len(x)
            if k < batch:
                x = np.concatenate([x, np.zeros((batch - k, 96, 64, 1), np.float32)])
            ni.set_tensor(patch, x)
            ni.invoke()
            out.append(ni.get_tensor(t.embedding)[:k].copy())
        return np.concatenate(out)

    return run


def keras_batched(path, batch, jit=False):
    import tensorflow as tf

    from skser._yamnet import waveform_patch
    from skser._yamnet._keras import _build, load_yamnet_keras_weights, set_yamnet_weights

    model = _build((96, 64), include_top=True, both=True)
    set_yamnet_weights(model, load_yamnet_keras_weights(path))
    spec = [tf.TensorSpec((batch, 96, 64), tf.float32)]
    forward = tf.function(lambda x: model(x, training=False)[0], input_signature=spec,
                          jit_compile=jit)  # fmt: skip

    def run(windows):
        out = []
        for start in range(0, len(windows), batch):
            patches = waveform_patch(windows[start : start + batch])
            n = len(patches)
            if n < batch:
                patches = np.concatenate([patches, np.zeros((batch - n, 96, 64), np.float32)])
            out.append(forward(tf.constant(patches)).numpy()[:n])
        return np.concatenate(out)

    return run


def cpu_flags() -> list[str]:
    """The SIMD flags that matter for these kernels, from /proc/cpuinfo (Linux)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    flags = set(next((line for line in text.splitlines() if line.startswith("flags")), "").split())
    return [f for f in ("sse4_1", "avx", "fma", "avx2", "avx512f", "avx512_vnni") if f in flags]


def cosine(a, b):
    return np.sum(a * b, -1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))


def agreement(emb, ref, clip_of):
    clips = np.unique(clip_of)
    mean_a = np.stack([emb[clip_of == c].mean(0) for c in clips])
    mean_b = np.stack([ref[clip_of == c].mean(0) for c in clips])
    return {
        "max_abs_diff": float(np.abs(emb - ref).max()),
        "min_window_cosine": float(cosine(emb, ref).min()),
        "min_clip_mean_cosine": float(cosine(mean_a, mean_b).min()),
        "bitwise_equal": bool(np.array_equal(emb, ref)),
    }


def first_call(files_txt: Path, weights: Path, n_jobs: int, preimport_tf: bool, before: bool) -> dict:
    cmd = [sys.executable, __file__, "--first-call-child", str(files_txt), "--yamnet", str(weights),
           "--n-jobs", str(n_jobs)] + (["--preimport-tf"] if preimport_tf else []) + (
           ["--before"] if before else [])  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def first_call_child(args) -> int:
    from skser.audio import load_audio

    waves = [load_audio(f, sr=SR)[0] for f in Path(args.first_call_child).read_text().split("\n")]
    seconds = sum(len(w) for w in waves) / SR
    tf_s = preimport_tensorflow(args.preimport_tf)
    import skser.features._embedding as embedding_module
    from skser.features import EmbeddingTransformer

    if args.before:  # the runner as before a2368ca
        embedding_module.load_yamnet_runner = lambda w, num_threads, batch_size: preserved_runner(
            w, num_threads
        )
    est = EmbeddingTransformer(weights=str(args.yamnet), pooling=("mean", "std"), n_jobs=args.n_jobs)
    first, warm = first_and_warm_call(est, waves)
    print(json.dumps(dict(
        runner="before (preserve_all_tensors)" if args.before else "now (embedding as output)",
        tensorflow_preimported=bool(args.preimport_tf), tensorflow_import_s=round(tf_s, 3),
        first_call_s=round(first, 3), first_x_realtime=round(seconds / first, 1),
        second_call_x_realtime=round(seconds / warm, 1),
    )))  # fmt: skip
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA / "ravdess")
    parser.add_argument("--limit", type=int, default=60)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batches", default="64,256")
    parser.add_argument("--xla-windows", type=int, default=64)
    parser.add_argument("--tflite-batches", default="1,4,64")
    parser.add_argument("--first-call-repeat", type=int, default=3)
    parser.add_argument("--yamnet", type=Path, default=YAMNET)
    parser.add_argument("--first-call-child", help=argparse.SUPPRESS)
    parser.add_argument("--preimport-tf", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--before", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.first_call_child:
        return first_call_child(args)
    require(args.yamnet, "YAMNet weights")
    require(args.data, "RAVDESS")
    wall_start = time.perf_counter()
    load_start = os.getloadavg()

    from skser._yamnet import TFLiteYAMNet, waveform_patch
    from skser.audio import load_audio, segment_waveform
    from skser.features import EmbeddingTransformer

    files = list_clips(args.data, args.limit)
    waves = [load_audio(f, sr=SR)[0] for f in files]
    per_clip = [segment_waveform(w, WINDOW, HOP) for w in waves]
    windows = np.concatenate(per_clip).astype(np.float32)
    clip_of = np.repeat(np.arange(len(per_clip)), [len(s) for s in per_clip])
    seconds = sum(len(w) for w in waves) / SR
    print(f"{len(files)} clips, {seconds:.1f} s, {len(windows)} windows; load {load_start}", flush=True)

    now = TFLiteYAMNet(args.yamnet, num_threads=args.n_jobs)
    contenders = {
        f"tflite, preserve_all_tensors, {args.n_jobs} interpreters (before)": lambda w, r=preserved_runner(
            args.yamnet, args.n_jobs): r(w)[0],
        f"tflite, embedding as output, {args.n_jobs} interpreters (now)": lambda w: now(w)[0],
        f"tflite, 1 interpreter x {args.n_jobs} XNNPACK threads": single_interpreter(
            args.yamnet, args.n_jobs
        ),
        "tflite, 1 interpreter x 1 thread (per-core cost)": single_interpreter(args.yamnet, 1),
    }
    contenders["tflite frontend only (log-mel patch, 1 thread)"] = frontend_only(args.yamnet)
    for b in [int(b) for b in args.tflite_batches.split(",") if b]:
        contenders[f"tflite frontend per window + network batched B={b}, 1 thread"] = tflite_split(
            args.yamnet, b
        )
    batches = [int(b) for b in args.batches.split(",") if b]
    for b in batches:
        contenders[f"keras batched B={b}, tf.function, float32"] = keras_batched(args.yamnet, b)
    baseline = next(iter(contenders))

    def n_partitions(itp):
        return sum(op["op_name"] == "DELEGATE" for op in itp._get_ops_details())

    partitions = {
        "before": n_partitions(preserved_runner(args.yamnet, 1)._interpreters[0]),
        "now": n_partitions(now._interpreters[0]),
    }
    reference = now(windows)[0]
    for name, run in contenders.items():  # warm-up: tracing, delegate set-up
        run(windows[: max(batches or [1])])
    timings = {name: [] for name in contenders}
    outputs = {}
    loads = []
    for _ in range(args.repeat):
        loads.append(os.getloadavg())
        for name, run in contenders.items():
            t = time.perf_counter()
            outputs[name] = run(windows)
            timings[name].append(time.perf_counter() - t)
        print({k: round(v[-1], 3) for k, v in timings.items()}, flush=True)

    t = time.perf_counter()
    waveform_patch(windows)
    frontend_ms = (time.perf_counter() - t) / len(windows) * 1e3

    rows = []
    base = float(np.median(timings[baseline]))
    for name, walls in timings.items():
        med = float(np.median(walls))
        rows.append(dict(
            contender=name, windows=len(windows), wall_s_median=round(med, 3),
            wall_s_all=[round(w, 3) for w in walls], ms_per_window=round(med / len(windows) * 1e3, 3),
            x_realtime=round(seconds / med, 1), speedup_vs_before=round(base / med, 2),
            **(agreement(outputs[name], reference, clip_of) if outputs[name] is not None else {}),
        ))  # fmt: skip

    # XLA: slow on this CPU, so a subset of windows, timed once against the baseline.
    xla = None
    if args.xla_windows:
        sub = windows[: args.xla_windows]
        run = keras_batched(args.yamnet, len(sub), jit=True)
        t = time.perf_counter()
        run(sub)
        compile_s = time.perf_counter() - t
        walls = {"xla": [], "base": []}
        for _ in range(2):
            t = time.perf_counter()
            emb = run(sub)
            walls["xla"].append(time.perf_counter() - t)
            t = time.perf_counter()
            contenders[baseline](sub)
            walls["base"].append(time.perf_counter() - t)
        xla = dict(
            contender=f"keras batched B={len(sub)}, jit_compile=True (XLA)", windows=len(sub),
            first_call_s=round(compile_s, 3),
            ms_per_window=round(min(walls["xla"]) / len(sub) * 1e3, 3),
            baseline_ms_per_window=round(min(walls["base"]) / len(sub) * 1e3, 3),
            speedup_vs_before=round(min(walls["base"]) / min(walls["xla"]), 2),
            max_abs_diff=float(np.abs(emb - reference[: len(sub)]).max()),
            min_window_cosine=float(cosine(emb, reference[: len(sub)]).min()),
        )  # fmt: skip
        print(xla, flush=True)

    # One short clip (its windows only): the single-clip latency case.
    short = per_clip[0]
    single = []
    for name, run in contenders.items():
        walls = []
        for _ in range(5):
            t = time.perf_counter()
            run(short)
            walls.append(time.perf_counter() - t)
        single.append(dict(contender=name, windows=len(short), ms_median=round(float(np.median(walls)) * 1e3, 2)))

    # EmbeddingTransformer end to end on the decoded clips, before and after.
    est_now = EmbeddingTransformer(weights=str(args.yamnet), pooling=("mean", "std"), n_jobs=args.n_jobs)
    est_before = EmbeddingTransformer(weights=str(args.yamnet), pooling=("mean", "std"), n_jobs=args.n_jobs)
    est_now.fit_transform(waves[:2])
    est_before.fit(waves[:2])
    est_before._loaded = preserved_runner(args.yamnet, args.n_jobs)
    est_before._runner_key = (est_before.weights_path_, args.n_jobs, 64)
    transformer = {"before": [], "now": []}
    for _ in range(args.repeat):
        for key, est in (("before", est_before), ("now", est_now)):
            t = time.perf_counter()
            out = est.transform(waves)
            transformer[key].append(time.perf_counter() - t)
            transformer[key + "_out"] = out
    same = bool(np.array_equal(transformer["before_out"], transformer["now_out"]))
    transformer_rows = [
        dict(runner=key, wall_s_median=round(float(np.median(transformer[key])), 3),
             x_realtime=round(seconds / float(np.median(transformer[key])), 1))
        for key in ("before", "now")
    ]  # fmt: skip
    print(transformer_rows, "outputs equal:", same, flush=True)

    # First call of a fresh process.
    first_calls = []
    files_txt = RESULTS / ".yamnet_backends_files.txt"
    files_txt.write_text("\n".join(files))
    try:
        runs = {}
        for _ in range(args.first_call_repeat):  # before and now alternate
            for preimport in (True, False):
                for before in (True, False):
                    row = first_call(files_txt, args.yamnet, args.n_jobs, preimport, before)
                    runs.setdefault((preimport, before), []).append(row)
                    print(row, flush=True)
    finally:
        files_txt.unlink()
    for rows_of in runs.values():
        median = {key: float(np.median([r[key] for r in rows_of]))
                  for key in ("tensorflow_import_s", "first_call_s", "first_x_realtime",
                              "second_call_x_realtime")}  # fmt: skip
        first_calls.append({**rows_of[0], **median, "runs": rows_of})

    load_end = os.getloadavg()
    by_name = {r["contender"]: r for r in rows}
    now_row = by_name[f"tflite, embedding as output, {args.n_jobs} interpreters (now)"]
    keras_rows = [r for r in rows if r["contender"].startswith("keras")]
    best_keras = min(keras_rows, key=lambda r: r["ms_per_window"]) if keras_rows else None
    one_thread = by_name["tflite, 1 interpreter x 1 thread (per-core cost)"]
    front = by_name["tflite frontend only (log-mel patch, 1 thread)"]
    multi = by_name[f"tflite, 1 interpreter x {args.n_jobs} XNNPACK threads"]
    findings = [
        "XNNPACK is used (the default delegate of tf.lite.Interpreter); with "
        f"experimental_preserve_all_tensors it runs {partitions['before']} partitions (one per "
        f"operator), with the embedding as an added graph output {partitions['now']}: "
        f"{now_row['speedup_vs_before']}x per window here, bitwise the same embeddings "
        f"({now_row.get('bitwise_equal')}).",
        f"The export's int8 log-mel frontend takes {front['ms_per_window']} of "
        f"{one_thread['ms_per_window']} ms per window on one thread "
        f"({100 * front['ms_per_window'] / one_thread['ms_per_window']:.0f} %); the network the rest.",
        f"One interpreter with {args.n_jobs} XNNPACK threads: {multi['ms_per_window']} ms per window, "
        f"{args.n_jobs} single-threaded interpreters in threads: {now_row['ms_per_window']} ms.",
    ]
    split_rows = [r for r in rows if "network batched" in r["contender"]]
    if split_rows:
        findings.append(
            "The export's network with a batch dimension (graph cut after the frontend, input "
            "resized): " + ", ".join(
                f"B={r['contender'].split('B=')[1].split(',')[0]} {r['ms_per_window']} ms"
                for r in split_rows
            ) + f" per window on one thread (frontend included) against {one_thread['ms_per_window']} "
            "for the unbatched export on one thread; bitwise equal: "
            + ", ".join(str(r.get("bitwise_equal")) for r in split_rows) + "."
        )
    if best_keras:
        findings.append(
            f"Batched Keras (best: {best_keras['contender']}) takes {best_keras['ms_per_window']} ms "
            f"per window against {now_row['ms_per_window']} for the TFLite runner now "
            f"({best_keras['ms_per_window'] / now_row['ms_per_window']:.1f}x as long): TensorFlow's "
            "float CPU kernels (oneDNN) on this CPU lose to XNNPACK's, XLA more so "
            "(below); so EmbeddingTransformer keeps the TFLite runner."
        )
    payload = {
        "protocol": (
            f"{len(files)} RAVDESS clips spread over the corpus, decoded once; their {len(windows)} "
            "0.975 s windows (50 % overlap) through each contender, windows in, embeddings out "
            "(frontend included); contenders alternate within each of "
            f"{args.repeat} rounds in one process; median wall time per contender; speed-up = "
            "baseline wall / contender wall (baseline: the TFLite runner before a2368ca). Another "
            "long benchmark shared the 2 cores, so absolute numbers are pessimistic; compare ratios."
        ),
        "n_clips": len(files),
        "audio_seconds": round(seconds, 2),
        "n_windows": int(len(windows)),
        "n_jobs": args.n_jobs,
        "repeat": args.repeat,
        "load_average_start": list(load_start),
        "load_average_rounds": [list(x) for x in loads],
        "load_average_end": list(load_end),
        "numpy_frontend_ms_per_window": round(frontend_ms, 3),
        "results": rows,
        "xla": xla,
        "one_clip": single,
        "embedding_transformer": transformer_rows,
        "embedding_transformer_outputs_equal": same,
        "first_call": first_calls,
        "cpu_flags": cpu_flags(),
        "findings": findings,
        "wall_time_s": round(time.perf_counter() - wall_start, 1),
    }
    write_results("yamnet_backends", payload, markdown(payload))
    return 0


def markdown(p: dict) -> str:
    lines = [
        "# YAMNet back ends per window: TFLite per-window invokes vs batched Keras",
        "",
        f"Protocol: {p['protocol']}",
        "",
        f"{p['n_clips']} clips, {p['audio_seconds']} s of audio, {p['n_windows']} windows, "
        f"n_jobs={p['n_jobs']}. Load average (1, 5, 15 min) at start {p['load_average_start']}, "
        f"end {p['load_average_end']}. Wall time {p['wall_time_s']} s. CPU flags: "
        f"{', '.join(p['cpu_flags'])}.",
        "",
        "Findings:",
        "",
        *[f"- {line}" for line in p["findings"]],
        "",
        markdown_table(
            ["contender", "ms / window (median)", "x real time", "speed-up vs before",
             "max abs diff vs TFLite", "min window cosine", "min clip-mean cosine", "bitwise"],
            [[r["contender"], r["ms_per_window"], r["x_realtime"], r["speedup_vs_before"],
              *([f"{r['max_abs_diff']:.3g}", f"{r['min_window_cosine']:.5f}",
                 f"{r['min_clip_mean_cosine']:.5f}", "yes" if r["bitwise_equal"] else "no"]
                if "max_abs_diff" in r else ["-"] * 4)]
             for r in p["results"]],
        ),  # fmt: skip
        f"NumPy frontend alone (part of the Keras rows): {p['numpy_frontend_ms_per_window']} ms / window.",
        "",
    ]
    if p["xla"]:
        x = p["xla"]
        lines += [
            f"XLA ({x['contender']}, {x['windows']} windows): {x['ms_per_window']} ms / window "
            f"against {x['baseline_ms_per_window']} for the baseline (speed-up {x['speedup_vs_before']}); "
            f"first call (compilation) {x['first_call_s']} s; min window cosine vs TFLite "
            f"{x['min_window_cosine']:.5f}.",
            "",
        ]
    lines += [
        "One short clip (its windows only), median of 5 calls:",
        "",
        markdown_table(["contender", "windows", "ms"],
                       [[r["contender"], r["windows"], r["ms_median"]] for r in p["one_clip"]]),
        "`EmbeddingTransformer(pooling=('mean', 'std')).transform` on the decoded clips (warm process):",
        "",
        markdown_table(["runner", "wall (s, median)", "x real time"],
                       [[r["runner"], r["wall_s_median"], r["x_realtime"]] for r in p["embedding_transformer"]]),
        f"Outputs of before and now bitwise equal: {p['embedding_transformer_outputs_equal']}.",
        "",
        "First call of a fresh process (child processes, before and now alternating; medians of "
        f"{len(p['first_call'][0]['runs']) if p['first_call'] else 0} runs each; clips decoded "
        "before the clock starts):",
        "",
        markdown_table(
            ["runner", "TensorFlow imported before", "its import (s)", "first call (s)",
             "first x real time", "second call x real time"],
            [[r["runner"], "yes" if r["tensorflow_preimported"] else "no (by the first call)",
              r["tensorflow_import_s"], r["first_call_s"], r["first_x_realtime"],
              r["second_call_x_realtime"]] for r in p["first_call"]],
        ),  # fmt: skip
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
