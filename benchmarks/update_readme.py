"""Regenerate the results section of README.md from benchmarks/results/*.json.

The section sits between ``<!-- results:start -->`` and ``<!-- results:end -->``;
everything else in the README is left as it is.

Usage::

    python benchmarks/update_readme.py
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from _common import format_ci, format_deployment, format_uar
from bench_deep import OUTER_FOLDS, summarize

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
START, END = "<!-- results:start -->", "<!-- results:end -->"


def headline_section() -> list[str]:
    path = RESULTS / "headline.json"
    if not path.exists():
        return ["No headline results yet: run `python benchmarks/bench_headline.py`."]
    data = json.loads(path.read_text())
    hw = data["provenance"]["hardware"]
    lines = [
        "Speaker-independent (no speaker in both train and test); UAR = unweighted average "
        "recall, mean ± std over folds. **lab**: per-speaker statistics from the test "
        "speakers' unlabeled clips; **deployment**: each clip alone, no speaker ids (what "
        "`skser predict` does); 95 % CI: speaker-level bootstrap of the pooled lab UAR; "
        "— : not measured in that protocol. Measured by `benchmarks/bench_headline.py` on "
        f"{hw['cpu_count']} CPU cores ({hw['device']}); latest run at commit "
        f"{data['provenance']['commit']}, each row's own commit in "
        "`benchmarks/results/headline.json`.",
        "",
    ]
    for task in data["tasks"].values():
        lines += [f"**{task['title']}** — {task['protocol']}, {task['n_speakers']} speakers"]
        if task["reference"]:
            lines[-1] += f" ({task['reference']})"
        lines += [
            "",
            "| recipe | UAR lab | 95 % CI | UAR deployment | accuracy | fit s/fold | predict ms/clip |",
            "|---|---|---|---|---|---|---|",
        ]
        n_folds = _protocol_folds(task)
        ordered = sorted(task["recipes"].items(), key=lambda kv: -kv[1]["uar"])
        for name, r in ordered:
            if r["folds_run"] < n_folds:
                continue  # listed below the table: not a result yet
            shown = f"**{name}**" if name == "recommended" else name
            parts = [] if r.get("epochs_max") is None else [f"≤{r['epochs_max']} epochs"]
            parts += [f"{k}={v}" for k, v in r.get("overrides", {}).items()]
            parts += r.get("notes", [])
            budget = f" ({', '.join(parts)})" if parts else ""
            lines.append(
                f"| {shown}{budget} | {format_uar(r)} | {format_ci(r)} | {format_deployment(r)} | "
                f"{r['accuracy']:.3f} | "
                f"{r['fit_time_per_fold_s']:.1f} | {r['predict_time_per_clip_ms']:.1f} |"
            )
        incomplete = [f"{name} ({r['folds_run']} of {n_folds} folds)"
                      for name, r in task["recipes"].items() if r["folds_run"] < n_folds]
        if incomplete:
            lines += ["", "Not results yet (fewer folds than the protocol): "
                      + ", ".join(incomplete) + "."]
        lines.append("")
    lines += deep_section()
    others = sorted(p.name for p in RESULTS.glob("*.md") if p.stem != "headline")
    if others:
        lines.append(
            "Paper reproductions and speed: "
            + ", ".join(f"[{name}](benchmarks/results/{name})" for name in others)
            + "."
        )
    return lines


def deep_section() -> list[str]:
    """One line per outer variant of ``bench_deep.py`` that ran every fold (RAVDESS-8)."""
    path = RESULTS / "deep.json"
    if not path.exists():
        return []
    data = json.loads(path.read_text())
    outer = {variant: s for (mode, variant), s in summarize(data["rows"]).items()
             if mode == "outer"}
    lines = [f"**{data['recipe']} on {data['corpus']}** — {data['protocol'].split(';')[0]} "
             "(`benchmarks/bench_deep.py`; clip by clip, so lab = deployment):", ""]
    for name, s in outer.items():
        if s["folds"] == OUTER_FOLDS:
            lines.append(f"- {s['overrides'] or name}: UAR {s['uar']:.3f} ± {s['uar_std']:.3f} "
                         f"({s['folds']} folds, {s['fit_s']:.0f} s/fold)")
    incomplete = [f"{name} ({s['folds']} of {OUTER_FOLDS} folds)" for name, s in outer.items()
                  if s["folds"] < OUTER_FOLDS]
    if incomplete:
        lines.append(f"- Not results yet (fewer folds than the protocol): {', '.join(incomplete)}")
    return [*lines, ""]


def _protocol_folds(task: dict) -> int:
    """Folds of the task's protocol, from its description, e.g. "GroupKFold (5 folds)"."""
    match = re.search(r"\((\d+) folds?\)", task["protocol"])
    if match is None:
        raise ValueError(f"no fold count in the protocol {task['protocol']!r}")
    return int(match.group(1))


def main() -> None:
    readme = REPO / "README.md"
    text = readme.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"README.md lacks the {START} ... {END} markers")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    body = "\n".join(headline_section())
    readme.write_text(f"{head}{START}\n{body}\n{END}{tail}")
    print("README.md results section updated")


if __name__ == "__main__":
    main()
