"""Memory and time of every audio transformer on ONE long recording (default: one hour).

Protocol: a speech-like 16 kHz mono recording (voiced harmonic sweeps with a
syllable-rate envelope, pauses, a noise floor) is synthesized block by block
into a FLAC file in a temporary folder. Each case then runs in its own Python
process (so that the peak resident memory, ``ru_maxrss``, belongs to that case
alone): imports, a warm-up on a 1 s clip (lazy imports, filterbanks, model
loading), then ``fit_transform([path])`` on the whole file as a single clip.
Recorded per case: wall time, peak RSS, RSS before the call (baseline),
their difference, the tracemalloc peak (NumPy allocations; C libraries such as
libsndfile, soxr or TFLite are not traced) and the output's shape and size.
The waveform itself is ``n_samples * 4`` bytes (230 MB for one hour).

Run::

    python benchmarks/bench_long_recording.py            # one hour, every case
    python benchmarks/bench_long_recording.py --minutes 5 --only mfcc-stats

Results go to ``benchmarks/results/long_recording.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SR = 16000
HERE = Path(__file__).resolve().parent
REPO = HERE.parent
YAMNET = Path(os.environ.get("SKSER_YAMNET", REPO.parent / "shared" / "models" / "yamnet.tflite"))


def _cases():
    """name -> factory of the estimator (or callable) to run on ``[path]``."""
    from skser.audio import AudioLoader
    from skser.features import (
        EmbeddingTransformer,
        GTCCTransformer,
        MelSpectrogramTransformer,
        MFCCTransformer,
        ProsodyTransformer,
    )

    cases = {
        "load-audio": lambda: AudioLoader(),
        "mel-spectrogram": lambda: MelSpectrogramTransformer(),
        "mel-image": lambda: MelSpectrogramTransformer(output="image"),
        "mel-segments": lambda: MelSpectrogramTransformer(output="segments"),
        "mel-segments-yamnet-frontend": lambda: MelSpectrogramTransformer(
            output="segments", frontend="yamnet"
        ),
        "mfcc-sequence": lambda: MFCCTransformer(deltas=True),
        "mfcc-stats": lambda: MFCCTransformer(output="stats", deltas=True),
        "gtcc-sequence": lambda: GTCCTransformer(),
        "gtcc-stats": lambda: GTCCTransformer(output="stats"),
        "prosody": lambda: ProsodyTransformer(),
    }
    if YAMNET.exists():
        cases["yamnet-embedding-pooled"] = lambda: EmbeddingTransformer(
            weights=str(YAMNET), pooling=("mean", "std")
        )
    try:
        import skser.timeline  # noqa: F401

        cases["predict-timeline"] = _timeline_case
    except ImportError:
        pass
    return cases


class _TimelineRunner:
    """``predict_timeline`` of a small fitted MFCC-stats + logistic regression pipeline."""

    def __init__(self):
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        from skser.features import MFCCTransformer

        rng = np.random.default_rng(0)
        clips = [_speechlike(SR * 3, rng, f0=120 + 80 * (i % 2)) for i in range(8)]
        labels = ["low", "high"] * 4
        self.model = make_pipeline(
            MFCCTransformer(output="stats"), StandardScaler(), LogisticRegression()
        ).fit(clips, labels)

    def fit_transform(self, X):
        from skser.timeline import predict_timeline

        return predict_timeline(self.model, X[0], window=3.0, hop=1.0).to_numpy()


def _timeline_case():
    return _TimelineRunner()


def _speechlike(n: int, rng: np.random.Generator, *, f0: float = 150.0, offset: int = 0):
    """Voiced harmonic sweeps (5 harmonics) with a 4 Hz syllable envelope, pauses and noise."""
    t = (offset + np.arange(n)) / SR
    pitch = f0 * (1.0 + 0.15 * np.sin(2 * np.pi * 0.3 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / SR
    voiced = sum(np.sin(k * phase) / k for k in range(1, 6))
    envelope = np.clip(np.sin(2 * np.pi * 4.0 * t), 0, None) ** 2
    pause = (np.sin(2 * np.pi * 0.1 * t) > -0.6).astype(np.float64)  # ~30 % pauses
    noise = 0.003 * rng.standard_normal(n)
    return (0.3 * voiced * envelope * pause + noise).astype(np.float32)


def synthesize(path: Path, seconds: float, *, block_seconds: float = 60.0) -> int:
    """Write the recording block by block (the parent never holds the whole waveform)."""
    import soundfile as sf

    rng = np.random.default_rng(0)
    total = int(round(seconds * SR))
    block = int(block_seconds * SR)
    with sf.SoundFile(path, "w", samplerate=SR, channels=1, format="FLAC", subtype="PCM_16") as f:
        for start in range(0, total, block):
            f.write(_speechlike(min(block, total - start), rng, offset=start))
    return total


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def worker(name: str, path: str) -> dict:
    """Run one case in this process and return its measurements."""
    import tracemalloc

    case = _cases()[name]
    rng = np.random.default_rng(1)
    warm = case()
    warm.fit_transform([_speechlike(SR, rng)])  # lazy imports, filterbanks, weights
    estimator = case() if name != "predict-timeline" else warm
    baseline = _rss_mb()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()
    started = time.perf_counter()
    out = estimator.fit_transform([path])
    wall = time.perf_counter() - started
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = np.asarray(out) if not isinstance(out, np.ndarray) else out
    ragged = out.dtype == object and out.ndim == 1  # AudioLoader: an object array of waves
    shape = list(out[0].shape) if ragged else list(out.shape)
    nbytes = out[0].nbytes if ragged else out.nbytes
    return {
        "case": name,
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(peak, 1),
        "baseline_rss_mb": round(baseline, 1),
        "peak_above_baseline_mb": round(peak - baseline, 1),
        "warmup_peak_rss_mb": round(peak_before, 1),
        "tracemalloc_peak_mb": round(traced_peak / 2**20, 1),
        "output_shape": shape,
        "output_mb": round(nbytes / 2**20, 1),
    }


def _hardware() -> dict:
    import joblib

    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(
                line.split(":", 1)[1].strip() for line in f if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem = float("nan")
    return {
        "cpu": cpu,
        "cpu_count": joblib.cpu_count(),
        "memory_gb": round(mem, 1),
        "platform": platform.platform(),
    }


def _versions() -> dict:
    import importlib.metadata as md

    names = ["skser", "numpy", "scipy", "scikit-learn", "soundfile", "soxr", "librosa",
             "tensorflow", "joblib"]  # fmt: skip
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = None
    return out


NOTES = [
    "Notes:",
    "",
    "- Before block processing (STFT of a whole clip at once, all 0.975 s segments cut "
    "at once), a 5-minute run used 8.5x the waveform above baseline for mel/MFCC/GTCC, "
    "20x for mel segments, 30x with the YAMNet frontend and 8.5x for the YAMNet "
    "embedding; one hour would have needed ~2 GB (MFCC) to ~7 GB (YAMNet frontend). "
    "Now frames are transformed in blocks of 4096 (`skser.features._base.BLOCK_FRAMES`), "
    "segments/windows in blocks of 32/256, with results equal to the whole-clip transform "
    "(tests/test_reliability.py).",
    "- What remains per case: reading the file (`load-audio`, ~1.2x the waveform: the "
    "decoded float32 samples), the padded copy of the waveform for centred framing (1x), "
    "the output (mel spectrogram: 0.8x) and its dB/transposed copies.",
    "- `prosody` (ProsodyTransformer) still holds every frame's YIN autocorrelation at "
    "once: ~25x the waveform (5.7 GB for one hour) and the slowest case; it needs the same "
    "block processing (its frames are independent).",
    "- `predict-timeline` reads the file window by window (3 s windows, 1 s hop), so its "
    "memory does not grow with the recording.",
]


def _markdown(result: dict) -> str:
    lines = [
        "# One long recording through every transformer",
        "",
        f"Recording: {result['recording']['seconds'] / 60:.0f} min of synthetic speech-like audio, "
        f"{SR} Hz mono FLAC ({result['recording']['file_mb']} MB on disk); the waveform "
        f"itself is {result['recording']['waveform_mb']} MB as float32. Each case runs in a "
        "fresh process on the whole file as ONE clip, after a warm-up on a 1 s clip.",
        "",
        f"Hardware: {result['hardware']['cpu']}, {result['hardware']['cpu_count']} CPUs, "
        f"{result['hardware']['memory_gb']} GB RAM (shared with other jobs: wall times are "
        f"indicative). Versions: "
        + ", ".join(f"{k} {v}" for k, v in result["versions"].items() if v),
        "",
        "`peak - base` is the peak resident memory minus the memory before the call; "
        "`/ wave` divides it by the waveform's size. tracemalloc sees NumPy allocations only.",
        "",
        "| case | wall (s) | peak RSS (MB) | peak - base (MB) | / wave | tracemalloc peak (MB) "
        "| output shape | output (MB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    wave = result["recording"]["waveform_mb"]
    for r in result["cases"]:
        if "error" in r:
            lines.append(f"| {r['case']} | error: {r['error']} | | | | | | |")
            continue
        lines.append(
            f"| {r['case']} | {r['wall_s']} | {r['peak_rss_mb']} | {r['peak_above_baseline_mb']} "
            f"| {r['peak_above_baseline_mb'] / wave:.1f} | {r['tracemalloc_peak_mb']} "
            f"| {tuple(r['output_shape'])} | {r['output_mb']} |"
        )
    if result.get("notes"):
        lines += ["", *result["notes"]]
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--only", nargs="*", help="case names (default: all)")
    parser.add_argument("--out", default=str(HERE / "results"), help="results folder")
    parser.add_argument("--tag", default="long_recording", help="results file stem")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.path)))
        return

    names = args.only or list(_cases())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "recording.flac"
        started = time.perf_counter()
        n = synthesize(path, args.minutes * 60)
        print(
            f"synthesized {args.minutes} min in {time.perf_counter() - started:.1f} s", flush=True
        )
        results = []
        for name in names:
            proc = subprocess.run(
                [sys.executable, __file__, "--worker", name, "--path", str(path)],
                capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
            )  # fmt: skip
            if proc.returncode != 0:
                tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["?"]
                results.append({"case": name, "error": tail[0][:200]})
            else:
                results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(json.dumps(results[-1]), flush=True)
        file_mb = round(path.stat().st_size / 2**20, 1)
    result = {
        "benchmark": "long_recording",
        "recording": {
            "seconds": args.minutes * 60,
            "sr": SR,
            "n_samples": n,
            "format": "FLAC PCM_16 mono",
            "file_mb": file_mb,
            "waveform_mb": round(n * 4 / 2**20, 1),
        },
        "hardware": _hardware(),
        "versions": _versions(),
        "cases": results,
        "notes": NOTES,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.tag}.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / f"{args.tag}.md").write_text(_markdown(result))
    print(f"wrote {out / args.tag}.json and .md")


if __name__ == "__main__":
    main()
