"""Throughput of the skser feature transformers against a plain per-file librosa loop.

For each feature (mel spectrogram, FSER mel image, YAMNet-style mel segments,
MFCC statistics, GTCC statistics, prosody (plain: ``librosa.yin`` and
``librosa.feature`` spectral descriptors), and YAMNet embeddings when
``skser.features.EmbeddingTransformer`` is available) this times
``transformer.fit_transform(paths)`` with ``--n-jobs`` workers, reading the
files inside the workers, and a plain single-process loop
``librosa.load`` + ``librosa.feature.*`` computing the same features. Both
include reading and decoding the audio. Throughput is audio seconds per wall
second ("x real time"); ``ratio`` is plain-loop wall time / skser wall time.

The plain loop is timed twice, with the default BLAS threads and with BLAS
limited to one thread, and the faster is kept, so the ratio never flatters
skser. Worker start-up (joblib spawning processes and importing skser) is
excluded by a warm-up call: it is paid once per session, not per call.

Usage::

    python benchmarks/bench_features.py --data ../shared/data/ravdess --limit 300

YAMNet and the ``recommended`` feature union (prosody + MFCC with deltas +
YAMNet statistics, the recipe's own ``FeatureUnion``) have plain references
too: YAMNet as the obvious loop over the TFLite interpreter (``librosa.load``,
one 0.975 s window per ``invoke``, mean and std), the union as one
``librosa.load`` per file followed by that loop, ``librosa.yin`` with
``librosa.feature`` spectral descriptors, and ``librosa.feature.mfcc`` with
``librosa.feature.delta``. The union is also timed with the decode cache off
(each block decoding every file, as before the cache), and YAMNet on the first
call of a fresh process (a child process: interpreter set-up included, with
and without TensorFlow's import).

Writes ``benchmarks/results/features.json`` and ``features.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
import soundfile as sf
from _common import first_and_warm_call, preimport_tensorflow
from threadpoolctl import threadpool_limits

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SR = 16000
TARGETS = {  # minimum x real time, minimum ratio vs the plain loop
    "mel_spectrogram": (300, 1.5),
    "mfcc_stats": (300, 1.5),
    "gtcc_stats": (100, None),
}


def list_clips(data: Path, limit: int) -> list[str]:
    files = sorted(str(p) for p in data.rglob("*") if p.suffix.lower() in (".wav", ".flac"))
    if not files:
        raise SystemExit(f"no .wav/.flac files under {data}")
    if limit and limit < len(files):  # evenly spread over the corpus (all speakers)
        files = [files[i] for i in np.linspace(0, len(files) - 1, limit).round().astype(int)]
    return files


def audio_seconds(files: list[str]) -> float:
    return float(sum(sf.info(f).frames / sf.info(f).samplerate for f in files))


# ----------------------------------------------------------------- plain librosa loops


def plain_mel(files):
    import librosa

    out = []
    for f in files:
        y, _ = librosa.load(f, sr=SR)
        S = librosa.feature.melspectrogram(y=y, sr=SR, n_fft=512, hop_length=160, win_length=400)
        out.append(librosa.power_to_db(S))
    return out


def plain_image(files):
    # FSER: melspectrogram(n_fft=512, hop=512), dB, min-max, resize; the resize here is a
    # cheap nearest-neighbour index, which only favours the loop.
    import librosa

    out = []
    for f in files:
        y, _ = librosa.load(f, sr=SR)
        db = librosa.power_to_db(
            librosa.feature.melspectrogram(y=y, sr=SR, n_fft=512, hop_length=512)
        )
        db = (db - db.min()) / max(db.max() - db.min(), 1e-12)
        rows = np.linspace(0, db.shape[0] - 1, 64).astype(int)
        cols = np.linspace(0, db.shape[1] - 1, 64).astype(int)
        out.append(np.repeat(db[rows][:, cols][..., None], 3, axis=-1))
    return out


def plain_segments(files):
    # 0.975 s windows, 50 % overlap, log(mel + 0.001) of each (librosa frames 95, not 96,
    # per window with center=False: same work to within 1 %).
    import librosa

    out = []
    for f in files:
        y, _ = librosa.load(f, sr=SR)
        n = 1 + max(0, int(np.ceil((len(y) - 15600) / 7800)))
        y = np.pad(y, (0, (n - 1) * 7800 + 15600 - len(y)))
        segs = []
        for i in range(n):
            S = librosa.feature.melspectrogram(
                y=y[i * 7800 : i * 7800 + 15600], sr=SR, n_fft=512, hop_length=160, win_length=400,
                center=False, n_mels=64, fmin=125, fmax=7500, htk=True, norm=None, power=1.0,
            )  # fmt: skip
            segs.append(np.log(S + 0.001).T)
        out.append(np.stack(segs))
    return out


def plain_mfcc(files):
    import librosa

    out = []
    for f in files:
        y, _ = librosa.load(f, sr=SR)
        m = librosa.feature.mfcc(
            y=y, sr=SR, n_mfcc=13, n_fft=512, hop_length=160, win_length=400, n_mels=40
        )
        out.append(np.concatenate([m.mean(axis=1), m.std(axis=1)]))
    return out


def plain_gtcc(files):
    # librosa has no GTCC: librosa.stft + the same gammatone weights + DCT, per file.
    import librosa
    import scipy.fft

    from skser.features import gammatone_filterbank

    weights = gammatone_filterbank(SR, 512)[0].astype(np.float32) ** 2
    out = []
    for f in files:
        y, _ = librosa.load(f, sr=SR)
        power = np.abs(librosa.stft(y, n_fft=512, hop_length=160, win_length=400)) ** 2
        log_e = librosa.power_to_db(weights @ power)
        g = scipy.fft.dct(log_e, type=2, norm="ortho", axis=0)[:13]
        out.append(np.concatenate([g.mean(axis=1), g.std(axis=1)]))
    return out


class PlainYAMNet:
    """The TFLite export, one window per ``invoke``, as its documentation shows it."""

    def __init__(self, weights: Path):
        from skser._yamnet._tflite import find_tensors, make_interpreter

        self.interpreter = make_interpreter(weights, num_threads=1)
        self.tensors = find_tensors(self.interpreter, weights)

    def clip(self, y: np.ndarray) -> np.ndarray:
        n = 1 + max(0, int(np.ceil((len(y) - 15600) / 7800)))
        y = np.pad(y, (0, (n - 1) * 7800 + 15600 - len(y)))
        itp, t = self.interpreter, self.tensors
        emb = []
        for i in range(n):
            itp.set_tensor(t.waveform, y[None, i * 7800 : i * 7800 + 15600])
            itp.invoke()
            emb.append(itp.get_tensor(t.embedding)[0])
        emb = np.asarray(emb)
        return np.concatenate([emb.mean(axis=0), emb.std(axis=0)])


def plain_yamnet(files, weights):
    import librosa

    model = PlainYAMNet(weights)
    return [model.clip(librosa.load(f, sr=SR)[0]) for f in files]


def plain_prosody_clip(y: np.ndarray) -> np.ndarray:
    """``librosa.yin`` on every frame and ``librosa.feature`` spectral descriptors, pooled."""
    import librosa

    f0 = librosa.yin(y, fmin=65.0, fmax=600.0, sr=SR, frame_length=512, hop_length=160)
    S = np.abs(librosa.stft(y, n_fft=512, hop_length=160)) ** 2
    lld = np.vstack([
        librosa.power_to_db(S.sum(axis=0, keepdims=True)),
        librosa.feature.spectral_centroid(S=np.sqrt(S), sr=SR),
        librosa.feature.spectral_bandwidth(S=np.sqrt(S), sr=SR),
        librosa.feature.spectral_rolloff(S=np.sqrt(S), sr=SR),
        librosa.feature.spectral_flatness(S=S),
        librosa.feature.spectral_contrast(S=np.sqrt(S), sr=SR, fmin=200.0),
        librosa.feature.zero_crossing_rate(y, frame_length=512, hop_length=160),
    ])  # fmt: skip
    return np.concatenate([np.percentile(f0, (10, 50, 90)), lld.mean(1), lld.std(1)])


def plain_prosody(files):
    import librosa

    return [plain_prosody_clip(librosa.load(f, sr=SR)[0]) for f in files]


def plain_union(files, weights):
    """Decode once per file; the plain prosody loop, MFCC statistics and the TFLite loop."""
    import librosa

    model = PlainYAMNet(weights)
    out = []
    for f in files:
        y, _ = librosa.load(f, sr=SR)
        m = librosa.feature.mfcc(
            y=y, sr=SR, n_mfcc=40, n_fft=512, hop_length=160, win_length=400, n_mels=40
        )
        mfcc = np.vstack([m, librosa.feature.delta(m), librosa.feature.delta(m, order=2)])
        pooled = [plain_prosody_clip(y), mfcc.mean(1), mfcc.std(1), model.clip(y)]
        out.append(np.concatenate(pooled))
    return out


# ----------------------------------------------------------------- timing


def timed(func, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def plain_time(func, files, repeat: int) -> tuple[float, str]:
    default = timed(lambda: func(files), repeat)
    with threadpool_limits(limits=1, user_api="blas"):
        single = timed(lambda: func(files), repeat)
    return (default, "default BLAS threads") if default <= single else (single, "BLAS 1 thread")


def cases(n_jobs: int):
    from skser.features import (
        GTCCTransformer,
        MelSpectrogramTransformer,
        MFCCTransformer,
        ProsodyTransformer,
    )

    yield "mel_spectrogram", MelSpectrogramTransformer(n_jobs=n_jobs), plain_mel
    yield "mel_image", MelSpectrogramTransformer(output="image", n_jobs=n_jobs), plain_image
    yield (
        "mel_segments",
        MelSpectrogramTransformer(output="segments", n_jobs=n_jobs),
        plain_segments,
    )
    yield "mfcc_stats", MFCCTransformer(output="stats", n_jobs=n_jobs), plain_mfcc
    yield "gtcc_stats", GTCCTransformer(output="stats", n_jobs=n_jobs), plain_gtcc
    yield "prosody", ProsodyTransformer(n_jobs=n_jobs), plain_prosody


def yamnet_cases(n_jobs: int, weights: Path):
    """(name, transformer or None, plain loop or None, skip reason or None)."""
    if not weights.exists():
        return [("yamnet_embedding", None, None, f"YAMNet weights absent: {weights}")]
    from skser.features import EmbeddingTransformer
    from skser.recipes import make_ser_pipeline

    def emb(jobs):
        return EmbeddingTransformer(weights=str(weights), pooling=("mean", "std"), n_jobs=jobs)

    union = make_ser_pipeline("recommended-classical", n_jobs=n_jobs, yamnet_weights=str(weights))
    union = union.named_steps["features"]
    return [
        (f"yamnet_embedding (n_jobs={n_jobs}, batched)", emb(n_jobs), plain_yamnet, None),
        ("yamnet_embedding (n_jobs=1, batched)", emb(1), plain_yamnet, None),
        ("recommended_union", union, plain_union, None),
        ("recommended_union (decode cache off)", union, plain_union, None),
    ]


def first_call(files_txt: Path, weights: Path, n_jobs: int, preimport_tf: bool) -> dict:
    """Run YAMNet once in a fresh child process; return its timings."""
    import subprocess

    cmd = [sys.executable, __file__, "--first-call-child", str(files_txt), "--yamnet", str(weights),
           "--n-jobs", str(n_jobs)] + (["--preimport-tf"] if preimport_tf else [])  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def first_call_child(args) -> int:
    start = time.perf_counter()
    files = Path(args.first_call_child).read_text().split("\n")
    tf_s = preimport_tensorflow(args.preimport_tf)
    from skser.features import EmbeddingTransformer

    emb = EmbeddingTransformer(weights=str(args.yamnet), pooling=("mean", "std"), n_jobs=args.n_jobs)
    first, warm = first_and_warm_call(emb, files)
    seconds = audio_seconds(files)
    print(json.dumps(dict(
        first_call_s=round(first, 3), first_x_realtime=round(seconds / first, 1),
        warm_call_s=round(warm, 3), warm_x_realtime=round(seconds / warm, 1),
        tensorflow_preimported=bool(args.preimport_tf), tensorflow_import_s=round(tf_s, 3),
        process_to_first_result_s=round(time.perf_counter() - start - warm, 3),
    )))  # fmt: skip
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "ravdess")
    parser.add_argument("--limit", type=int, default=300, help="number of clips (0: all)")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1, help="timings per case; the best is kept")
    parser.add_argument(
        "--yamnet", type=Path, default=REPO.parent / "shared" / "models" / "yamnet.tflite"
    )
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument(
        "--skip-spectral", action="store_true", help="only the YAMNet and union rows"
    )
    parser.add_argument("--first-call-child", help=argparse.SUPPRESS)
    parser.add_argument("--preimport-tf", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.first_call_child:
        return first_call_child(args)

    files = list_clips(args.data, args.limit)
    seconds = audio_seconds(files)
    warm = files[: 2 * max(1, args.n_jobs)]
    print(f"{len(files)} clips, {seconds:.1f} s of audio, n_jobs={args.n_jobs}", flush=True)

    results = []
    for name, transformer, plain in [] if args.skip_spectral else cases(args.n_jobs):
        transformer.fit_transform(warm)  # start the workers, import skser in them
        plain(warm[:1])
        out_shape = None

        def run(transformer=transformer):
            nonlocal out_shape
            out_shape = transformer.fit_transform(files).shape

        wall = timed(run, args.repeat)
        plain_wall, plain_mode = plain_time(plain, files, args.repeat)
        row = dict(
            feature=name, output_shape=list(out_shape), skser_wall_s=round(wall, 3),
            skser_x_realtime=round(seconds / wall, 1), plain_wall_s=round(plain_wall, 3),
            plain_x_realtime=round(seconds / plain_wall, 1), plain_mode=plain_mode,
            ratio_vs_plain=round(plain_wall / wall, 2),
        )  # fmt: skip
        target = TARGETS.get(name)
        if target:
            min_rt, min_ratio = target
            row["target"] = f">= {min_rt}x real time" + (
                f", >= {min_ratio}x plain" if min_ratio else ""
            )
            row["meets_target"] = bool(
                row["skser_x_realtime"] >= min_rt
                and (min_ratio is None or row["ratio_vs_plain"] >= min_ratio)
            )
        results.append(row)
        print(json.dumps(row), flush=True)

    import skser.audio as skser_audio

    skipped = {}
    for name, transformer, plain, reason in yamnet_cases(args.n_jobs, args.yamnet):
        if transformer is None:
            skipped[name] = reason
            print(f"skipped {name}: {reason}", flush=True)
            continue
        # The decode cache (absent before it existed: then every block decodes anyway).
        cache = getattr(skser_audio, "_DECODED", None)
        clear = getattr(skser_audio, "clear_decode_cache", lambda: None)
        cache_limit = cache.max_bytes if cache is not None else None
        if "cache off" in name and cache is not None:
            cache.max_bytes = 0
        try:
            transformer.fit_transform(warm)
            plain(warm[:1], args.yamnet)  # imports, interpreter and JIT warm-up
            holder = {}

            def run(transformer=transformer, holder=holder):
                clear()  # every timed call decodes its files at least once
                holder["shape"] = np.shape(transformer.fit_transform(files))

            # skser and the plain loop alternate, so that both see the same load.
            wall = plain_wall = float("inf")
            for _ in range(args.repeat):
                wall = min(wall, timed(run, 1))
                plain_wall = min(plain_wall, timed(lambda p=plain: p(files, args.yamnet), 1))
        finally:
            if cache is not None:
                cache.max_bytes = cache_limit
        row = dict(
            feature=name, output_shape=list(holder["shape"]), skser_wall_s=round(wall, 3),
            skser_x_realtime=round(seconds / wall, 1), plain_wall_s=round(plain_wall, 3),
            plain_x_realtime=round(seconds / plain_wall, 1), plain_mode="one process, one thread",
            ratio_vs_plain=round(plain_wall / wall, 2),
        )  # fmt: skip
        target = {"recommended_union": 350, f"yamnet_embedding (n_jobs={args.n_jobs}, batched)": 600}
        if name in target:
            row["target"] = f">= {target[name]}x real time"
            row["meets_target"] = bool(row["skser_x_realtime"] >= target[name])
        results.append(row)
        print(json.dumps(row), flush=True)

    first_calls = []
    if args.yamnet.exists():
        files_txt = args.out / ".first_call_files.txt"
        args.out.mkdir(parents=True, exist_ok=True)
        files_txt.write_text("\n".join(files))
        try:
            for preimport in (False, True):
                row = first_call(files_txt, args.yamnet, args.n_jobs, preimport)
                row["target"] = ">= 300x real time on the first call"
                row["meets_target"] = bool(row["first_x_realtime"] >= 300)
                first_calls.append(row)
                print(json.dumps(row), flush=True)
        finally:
            files_txt.unlink()

    report = {
        "benchmark": "feature extraction throughput",
        "protocol": (
            "fit_transform(paths) with n_jobs workers (files read in the workers) vs a single-process "
            "librosa.load + librosa.feature loop; best of --repeat timings; workers warmed up first; "
            "plain loop: faster of default BLAS threads and 1 BLAS thread (spectral rows); YAMNet "
            "and union rows: the plain loop runs the TFLite export one window per invoke in one "
            "thread (see the module docstring), alternating with skser's runs; skser's decode "
            "cache is emptied before each timed call"
        ),
        "corpus": str(args.data),
        "n_clips": len(files),
        "audio_seconds": round(seconds, 2),
        "n_jobs": args.n_jobs,
        "repeat": args.repeat,
        "results": results,
        "yamnet_first_call": first_calls,
        "skipped": skipped,
        "versions": {
            p: version(p) for p in ("skser", "numpy", "scipy", "librosa", "scikit-learn", "joblib")
        },
        "tflite_runtime": tflite_runtime(),
        "commit": commit(),
        "hardware": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(),
            "load_average_1_5_15": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        },
        "note": "shared machine: other jobs ran at the same time, so absolute numbers are pessimistic",
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "features.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / "features.md").write_text(markdown(report))
    print(f"wrote {args.out / 'features.json'} and features.md")
    return 0


def tflite_runtime() -> str:
    from skser._yamnet._tflite import _interpreter_class

    cls = _interpreter_class()
    return f"{cls.__module__}.{cls.__name__}"


def commit() -> str | None:
    import subprocess

    try:
        out = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True)  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()


def markdown(report: dict) -> str:
    hw = report["hardware"]
    lines = [
        "# Feature extraction throughput",
        "",
        f"{report['n_clips']} clips ({report['audio_seconds']} s of audio) from `{report['corpus']}`, "
        f"n_jobs={report['n_jobs']}, {hw['cpu_count']} CPUs, {hw['platform']}, "
        f"load average {hw['load_average_1_5_15']}.",
        "",
        f"Protocol: {report['protocol']}.",
        "",
        "| feature | output shape | skser wall (s) | skser x real time | plain loop wall (s) | plain x real time | skser / plain speed-up | target | met |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        lines.append(
            f"| {r['feature']} | {tuple(r['output_shape'])} | {r['skser_wall_s']} | {r['skser_x_realtime']} | "
            f"{r['plain_wall_s'] if r['plain_wall_s'] is not None else '-'} | "
            f"{r['plain_x_realtime'] if r['plain_x_realtime'] is not None else '-'} | "
            f"{r['ratio_vs_plain'] if r['ratio_vs_plain'] is not None else '-'} | "
            f"{r.get('target', '-')} | {'yes' if r.get('meets_target') else ('no' if 'meets_target' in r else '-')} |"
        )
    if report.get("yamnet_first_call"):
        lines += [
            "",
            f"YAMNet on the first call of a fresh process (n_jobs={report['n_jobs']}, same clips; "
            "interpreter set-up included; the TFLite runtime is "
            f"`{report.get('tflite_runtime')}`):",
            "",
            "| TensorFlow imported before | its import (s) | first call (s) | first x real time | "
            "second call x real time | process start to first result (s) | target | met |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in report["yamnet_first_call"]:
            lines.append(
                f"| {'yes' if r['tensorflow_preimported'] else 'no'} | "
                f"{r['tensorflow_import_s']} | {r['first_call_s']} | {r['first_x_realtime']} | "
                f"{r['warm_x_realtime']} | {r['process_to_first_result_s']} | {r['target']} | "
                f"{'yes' if r['meets_target'] else 'no'} |"
            )
    for name, reason in report["skipped"].items():
        lines.append(f"\nSkipped {name}: {reason}")
    lines += [
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items())
        + f"; commit {report.get('commit')}.",
        "",
        f"Note: {report['note']}.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
