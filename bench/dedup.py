"""Benchmark of sieve's near-duplicate detection against a plain datasketch loop and datatrove's MinHash pipeline.

On one generated Chinese/English corpus with planted near-duplicate pairs of measured Jaccard (bench/corpus.py) it
measures, per contender: documents/s (wall clock and per CPU core used), peak memory of the contender's process tree,
recall of planted pairs by true Jaccard (>= 0.8, [0.7, 0.8), < 0.6, and near 0.5/0.7/0.8/0.9 beside the LSH theory
1 - (1 - J^8)^14), and precision of the removals. Then sieve alone at 2x and 4x the corpus: time and memory growth.
Each contender runs in its own process; the slow ones on the first block(s) of the corpus, as the table says.

    python bench/dedup.py [--docs 100000] [--scales 1,2,4] [--out bench/results/dedup.json] [--no-datatrove]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
from corpus import BLOCK_DOCS, Corpus, build_corpus, describe, load_texts
from measure import Measured, run_measured
from rich.console import Console
from rich.table import Table
from score import THEORY_AT, detection_probability, score

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# datatrove's own dependencies leave out what its MinHash steps import: tokenizers, regex, spaCy (eng), jieba (cmn)
DATATROVE_PINS = ["datatrove==0.10.1", "xxhash<4", "tokenizers", "regex", "spacy", "orjson", "jieba"]
# and what its URL filter imports (bench/filters.py)
DATATROVE_PINS += ["pyahocorasick", "fasteners", "tldextract"]
SIEVE_TARGET_DOCS_S = 1500  # below this, the sieve run is profiled to show where the time goes
console = Console(width=None if sys.stdout.isatty() else 200)  # a log file gets the whole table


# ------------------------------------------------------------------------------------------------ contenders


def run_sieve(corpus: Corpus, cache: Path, workers: int, profile: bool = False) -> dict[str, Any]:
    """sieve's curate stage (filters off) on the corpus; decisions read back from OUT/rejected."""
    out = cache / "runs" / f"sieve-{corpus.n_docs}{'-profile' if profile else ''}"
    result_file = out.with_suffix(".result.json")
    shutil.rmtree(out, ignore_errors=True)  # curate reuses an up-to-date output: every run here starts afresh
    cmd = [sys.executable, str(BENCH / "child_sieve.py"), "--out", str(out), "--result", str(result_file)]
    cmd += ["--workers", str(workers), *(["--profile"] if profile else []), *map(str, corpus.shards)]
    m = run_measured(cmd, out.with_suffix(".log"))
    res = json.loads(result_file.read_text(encoding="utf-8"))
    rejected = ds.dataset(out / "rejected", format="parquet").to_table(columns=["id", "reason", "duplicate_of"])
    rows = rejected.to_pylist()
    dup = [(r["id"], r["duplicate_of"]) for r in rows if r["reason"] in ("dup_exact", "dup_minhash")]
    reasons: dict[str, int] = {}
    for r in rows:
        reasons[r["reason"]] = reasons.get(r["reason"], 0) + 1
    shutil.rmtree(out, ignore_errors=True)
    return _entry("sieve", corpus, m, res, dup, dup, extra={"reasons": reasons, "workers": workers})


def run_datasketch(corpus: Corpus, cache: Path) -> dict[str, Any]:
    """The per-document datasketch loop (update() per shingle, MinHashLSH query then insert)."""
    result_file = cache / "runs" / f"datasketch-{corpus.n_docs}.result.json"
    cmd = [sys.executable, str(BENCH / "child_datasketch.py"), "--result", str(result_file), *map(str, corpus.shards)]
    m = run_measured(cmd, result_file.with_suffix(".log"))
    res = json.loads(result_file.read_text(encoding="utf-8"))
    return _entry("datasketch loop", corpus, m, res, res.pop("edges"), res.pop("removals"))


def datatrove_python(cache: Path) -> Path | None:
    """The venv with datatrove 0.10.1, created on first use; None (and a note) when it cannot be installed."""
    venv = cache / "venv-datatrove"
    py = venv / "bin" / "python"
    check = (
        "import importlib.metadata as m, spacy, jieba; import datatrove.pipeline.dedup.minhash; "
        "assert m.version('datatrove') == '0.10.1'"
    )
    probe = [str(py), "-c", check]
    if py.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return py
    console.print(f"[dim]installing datatrove into {venv} ...[/dim]")
    try:
        subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", *DATATROVE_PINS], check=True, capture_output=True)
        subprocess.run(probe, check=True, capture_output=True)
    except (subprocess.CalledProcessError, OSError) as e:
        err = getattr(e, "stderr", b"") or b""
        console.print(f"[yellow]datatrove unavailable: {e}\n{err.decode(errors='replace')[-1500:]}[/yellow]")
        return None
    return py


def run_datatrove(corpus: Corpus, cache: Path, py: Path, language: str) -> dict[str, Any]:
    """datatrove's four MinHash stages, one worker each, in the datatrove venv."""
    tag = f"datatrove-{language}-{corpus.n_docs}"
    result_file = cache / "runs" / f"{tag}.result.json"
    cmd = [str(py), str(BENCH / "child_datatrove.py"), "--work", str(cache / "runs" / tag)]
    cmd += ["--result", str(result_file), "--language", language, *map(str, corpus.shards)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "DO_NOT_TRACK": "1"}
    m = run_measured(cmd, result_file.with_suffix(".log"), env=env)
    res = json.loads(result_file.read_text(encoding="utf-8"))
    name = f"datatrove ({language})"
    return _entry(name, corpus, m, res, res.pop("edges"), res.pop("removals"), extra={"language": language})


def _entry(
    name: str,
    corpus: Corpus,
    m: Measured,
    res: dict[str, Any],
    edges: list[Any],
    removals: list[Any],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One contender's row: cost (the child's own timer for docs/s, the process for CPU and memory) and quality."""
    wall = res["wall_s"]  # the work itself, without interpreter start and imports
    t0 = time.perf_counter()
    quality = score(corpus.plants, edges, [tuple(r) for r in removals], lambda ids: load_texts(corpus.shards, ids))
    return {
        "contender": name,
        "documents": corpus.n_docs,
        "wall_s": round(wall, 2),
        "process_wall_s": round(m.wall_s, 2),
        "docs_per_s": round(corpus.n_docs / wall, 1),
        "cpu_s": round(m.cpu_s, 2),
        "cores_used": round(m.cpu_s / m.wall_s, 2),
        "docs_per_cpu_s": round(corpus.n_docs / m.cpu_s, 1),
        "peak_rss_mb": round(m.peak_rss_mb, 1),
        "other_load_cores": round(m.other_cores, 2),  # CPU used by other processes meanwhile (2 cores in all)
        "stages_s": {k: round(v, 2) for k, v in res.get("stages_s", {}).items()},
        **(extra or {}),
        "quality": quality,
        "scoring_s": round(time.perf_counter() - t0, 2),
    }


# ------------------------------------------------------------------------------------------------ report


def _pct(r: dict[str, Any]) -> str:
    return "-" if r["recall"] is None else f"{100 * r['recall']:.1f}% ({r['found']}/{r['pairs']})"


def print_tables(rows: list[dict[str, Any]], scaling: list[dict[str, Any]]) -> None:
    t = Table(title="Near-duplicate detection (planted pairs; J = true 5-unit shingle Jaccard)")
    for col in ("contender", "docs", "docs/s", "cores", "docs/s/core", "peak MB", "recall J≥0.8", "recall J∈[0.7,0.8)"):
        t.add_column(col, justify="left" if col == "contender" else "right")
    for col in ("found J<0.6", "J≥0.8 zh", "J≥0.8 en", "removals", "precision", "other load"):
        t.add_column(col, justify="right")
    for r in rows:
        q = r["quality"]
        t.add_row(
            r["contender"],
            f"{r['documents']:,}",
            f"{r['docs_per_s']:,.0f}",
            f"{r['cores_used']:.2f}",
            f"{r['docs_per_cpu_s']:,.0f}",
            f"{r['peak_rss_mb']:,.0f}",
            _pct(q["recall_j_ge_0.8"]),
            _pct(q["recall_j_0.7_0.8"]),
            _pct(q["found_j_lt_0.6"]),
            _pct(q["recall_j_ge_0.8_by_lang"]["zh"]),
            _pct(q["recall_j_ge_0.8_by_lang"]["en"]),
            f"{q['removals']:,}",
            "-" if q["precision"] is None else f"{100 * q['precision']:.2f}%",
            f"{r['other_load_cores']:.2f}",
        )
    console.print(t)
    console.print(
        "docs/s: the contender's own timer (no interpreter start); cores and docs/s/core: CPU time of its whole "
        "process tree; other load: cores busy with other processes meanwhile (of all the machine's)"
    )

    t = Table(title="Recall near J (±0.025) vs LSH theory 1-(1-J^8)^14")
    t.add_column("contender")
    for j in THEORY_AT:
        t.add_column(f"J={j}: theory {100 * detection_probability(j):.1f}%", justify="right")
    for r in rows:
        t.add_row(r["contender"], *(_pct(r["quality"]["recall_at"][str(j)]) for j in THEORY_AT))
    console.print(t)
    if rows:
        q = rows[0]["quality"]
        bands = {"J≥0.8": "recall_j_ge_0.8", "J∈[0.7,0.8)": "recall_j_0.7_0.8", "J<0.6": "found_j_lt_0.6"}
        expected = ", ".join(f"{k} {100 * q[v]['theory']:.1f}%" for k, v in bands.items() if q[v]["theory"] is not None)
        console.print(f"LSH theory averaged over the planted pairs of {rows[0]['contender']}'s corpus: {expected}")

    if scaling:
        t = Table(title="sieve scaling")
        cols = ("docs", "wall s", "docs/s", "cores", "docs/s/core", "peak MB", "time ×", "CPU ×", "memory ×")
        cols = (*cols, "recall J≥0.8", "precision")
        for col in (*cols, "other load"):
            t.add_column(col, justify="right")
        for s in scaling:
            t.add_row(
                f"{s['documents']:,}",
                f"{s['wall_s']:.1f}",
                f"{s['docs_per_s']:,.0f}",
                f"{s['cores_used']:.2f}",
                f"{s['docs_per_cpu_s']:,.0f}",
                f"{s['peak_rss_mb']:,.0f}",
                f"{s['time_ratio']:.2f}",
                f"{s['cpu_ratio']:.2f}",
                f"{s['memory_ratio']:.2f}",
                _pct(s["recall_j_ge_0.8"]),
                "-" if s["precision"] is None else f"{100 * s['precision']:.2f}%",
                f"{s['other_load_cores']:.2f}",
            )
        console.print(t)
        for s in scaling:
            stages = ", ".join(f"{k} {v:.1f}" for k, v in s["stages_s"].items())
            console.print(f"sieve stages at {s['documents']:,} docs (s): {stages}")


# ------------------------------------------------------------------------------------------------ main


def code_state() -> dict[str, str]:
    """The commit and a digest of sieve's library sources, to tell which code a result measured."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    digest = hashlib.sha256()
    for f in sorted((ROOT / "curation").rglob("*.py")):
        digest.update(f.relative_to(ROOT).as_posix().encode() + b"\0" + f.read_bytes())
    return {"commit": commit.stdout.strip() or "unknown", "curation_sources_sha256": digest.hexdigest()[:16]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=100_000, help="documents in the scale-1 corpus")
    ap.add_argument("--scales", default="1,2,4", help="corpus multiples sieve runs on (the first is the comparison)")
    ap.add_argument("--out", type=Path, default=BENCH / "results" / "dedup.json")
    ap.add_argument("--cache", type=Path, default=ROOT / ".bench", help="corpus, runs and the datatrove venv")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sieve-workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--subsample", type=int, default=BLOCK_DOCS, help="documents the datasketch loop runs on")
    ap.add_argument("--no-datatrove", action="store_true")
    ap.add_argument("--no-datasketch", action="store_true")
    ap.add_argument("--no-cmn", action="store_true", help="skip datatrove with language=cmn (jieba) on the subsample")
    ap.add_argument(
        "--datatrove-budget-s",
        type=float,
        default=360,
        help="run datatrove on the whole corpus only if it would take under this",
    )
    ap.add_argument(
        "--no-profile", action="store_true", help=f"never profile sieve (else: when < {SIEVE_TARGET_DOCS_S} docs/s)"
    )
    args = ap.parse_args(argv)
    scales = [int(s) for s in args.scales.split(",")]
    t_start = time.perf_counter()
    code_before = code_state()
    cache = args.cache.resolve()
    cache.mkdir(parents=True, exist_ok=True)

    with console.status(f"generating corpora of {', '.join(f'{args.docs * s:,}' for s in scales)} documents"):
        t = time.perf_counter()
        build_corpus(args.docs * max(scales), cache, args.seed, workers=os.cpu_count() or 1)
        corpora = {s: build_corpus(args.docs * s, cache, args.seed) for s in scales}
        gen_s = time.perf_counter() - t
    corpus = corpora[scales[0]]
    sub = corpus.subsample(args.subsample)
    info = describe(corpus, seed=args.seed)
    console.print(f"corpus ({gen_s:.0f} s, cached in {cache}): {json.dumps(info, ensure_ascii=False)}")

    rows: list[dict[str, Any]] = []
    sieve_runs: dict[int, dict[str, Any]] = {}
    notes: list[str] = []
    with console.status(f"sieve on {corpus.n_docs:,} documents"):
        sieve_runs[scales[0]] = run_sieve(corpus, cache, args.sieve_workers)
    rows.append(sieve_runs[scales[0]])
    console.print(f"sieve: {sieve_runs[scales[0]]['docs_per_s']:,.0f} docs/s")

    if not args.no_datasketch:
        with console.status(f"datasketch loop on the first {sub.n_docs:,} documents"):
            rows.append(run_datasketch(sub, cache))
        console.print(f"datasketch loop: {rows[-1]['docs_per_s']:,.0f} docs/s")

    if not args.no_datatrove:
        py = datatrove_python(cache)
        if py is None:
            notes.append("datatrove: could not be installed; see the log above")
        else:
            try:
                with console.status(f"datatrove (eng) on the first {sub.n_docs:,} documents"):
                    dt_sub = run_datatrove(sub, cache, py, "eng")
                rows.append(dt_sub)
                estimate = dt_sub["process_wall_s"] * corpus.n_docs / sub.n_docs
                if corpus.n_docs > sub.n_docs and estimate <= args.datatrove_budget_s:
                    with console.status(f"datatrove (eng) on {corpus.n_docs:,} documents (estimated {estimate:.0f} s)"):
                        rows.append(run_datatrove(corpus, cache, py, "eng"))
                elif corpus.n_docs > sub.n_docs:
                    notes.append(
                        f"datatrove: estimated {estimate:.0f} s for {corpus.n_docs:,} documents, over the budget of "
                        f"{args.datatrove_budget_s:.0f} s: measured on the first {sub.n_docs:,} only"
                    )
                if not args.no_cmn:
                    with console.status(f"datatrove (cmn) on the first {sub.n_docs:,} documents"):
                        rows.append(run_datatrove(sub, cache, py, "cmn"))
            except RuntimeError as e:  # the run's contract: a failing peer is reported, the benchmark goes on
                console.print(f"[yellow]datatrove failed: {e}[/yellow]")
                notes.append(f"datatrove failed: {str(e).splitlines()[0]}")

    for s in scales[1:]:
        with console.status(f"sieve on {corpora[s].n_docs:,} documents"):
            sieve_runs[s] = run_sieve(corpora[s], cache, args.sieve_workers)
        console.print(f"sieve x{s}: {sieve_runs[s]['docs_per_s']:,.0f} docs/s")
    base = sieve_runs[scales[0]]
    scaling = [
        {
            "scale": s,
            "documents": r["documents"],
            "wall_s": r["wall_s"],
            "docs_per_s": r["docs_per_s"],
            "cores_used": r["cores_used"],
            "peak_rss_mb": r["peak_rss_mb"],
            "cpu_s": r["cpu_s"],
            "docs_per_cpu_s": r["docs_per_cpu_s"],
            "time_ratio": round(r["wall_s"] / base["wall_s"], 3),
            "cpu_ratio": round(r["cpu_s"] / base["cpu_s"], 3),  # steadier than wall time when others share the cores
            "memory_ratio": round(r["peak_rss_mb"] / base["peak_rss_mb"], 3),
            "stages_s": r["stages_s"],
            "other_load_cores": r["other_load_cores"],
            "recall_j_ge_0.8": r["quality"]["recall_j_ge_0.8"],
            "precision": r["quality"]["precision"],
        }
        for s, r in sorted(sieve_runs.items())
    ]

    profile = None
    if not args.no_profile and corpus.n_docs >= BLOCK_DOCS and base["docs_per_s"] < SIEVE_TARGET_DOCS_S:
        with console.status(f"profiling sieve (1 worker) on the first {sub.n_docs:,} documents"):
            out = cache / "runs" / f"sieve-{sub.n_docs}-profile"
            shutil.rmtree(out, ignore_errors=True)
            result_file = out.with_suffix(".result.json")
            cmd = [sys.executable, str(BENCH / "child_sieve.py"), "--out", str(out), "--result", str(result_file)]
            run_measured([*cmd, "--workers", "1", "--profile", *map(str, sub.shards)], out.with_suffix(".log"))
            profile = json.loads(result_file.read_text(encoding="utf-8"))
            shutil.rmtree(out, ignore_errors=True)
        notes.append(f"sieve ran under {SIEVE_TARGET_DOCS_S} docs/s: profile of 1 worker on the subsample in `profile`")

    code_after = code_state()
    if code_after != code_before:
        notes.append(f"sieve's sources changed during the run ({code_before} -> {code_after}): rerun for clean numbers")
    print_tables(rows, scaling)
    for n in notes:
        console.print(f"[yellow]note:[/yellow] {n}")
    if profile:
        console.print(f"sieve stages (1 worker, {sub.n_docs:,} docs, profiled): {profile['stages_s']}")
        print(profile["profile_tottime"][:4000])
    wall = time.perf_counter() - t_start
    report = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "code": code_before,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "wall_s": round(wall, 1),
        "corpus_generation_s": round(gen_s, 1),
        "corpus": info,
        "theory": {str(j): round(detection_probability(j), 4) for j in THEORY_AT},
        "contenders": rows,
        "sieve_scaling": scaling,
        "sieve_profile": profile,
        "notes": notes,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    console.print(f"wrote {args.out} ({wall:.0f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
