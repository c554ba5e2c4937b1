"""Time of `sieve audit` on a real vocabulary (default o200k_base, no corpus, no model) on one core, by phase.

Phases: load (read the vocabulary), categorise (scripts, lexicon + classifier, structural checks), unreachable
(build the tiktoken/tokenizers encoder and encode every token), records (report dict), render (JSON, Markdown,
HTML, terminal). The process is pinned to one CPU and the Rust thread pools to one thread before anything is imported.
Then the same audit end to end as a command (`python -m flows.cli_tokenizer audit ...`), imports included.

    python bench/audit.py [--tokenizer o200k_base] [--repeat 3] [--budget-s 10] [--out bench/results/audit.json]
"""

from __future__ import annotations

import os

for _var in ("RAYON_NUM_THREADS", "RAYON_RS_NUM_CPUS", "OMP_NUM_THREADS", "TOKENIZERS_PARALLELISM"):
    os.environ[_var] = "false" if _var == "TOKENIZERS_PARALLELISM" else "1"
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

import argparse  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

console = Console(width=None if sys.stdout.isatty() else 120)


def one_run(spec: str) -> dict[str, float]:
    """Seconds per phase of one in-process audit (caches warm after the first run: lexicon, classifier, tables)."""
    from reports.html import audit_html
    from reports.render import audit_markdown, audit_renderables
    from tokenizer.audit import AuditConfig, audit
    from tokenizer.vocab import load_vocab

    t0 = time.perf_counter()
    vocab = load_vocab(spec)
    t1 = time.perf_counter()
    result = audit(vocab, AuditConfig())
    t2 = time.perf_counter()
    report = result.to_dict()
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "a.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
        Path(tmp, "a.md").write_text(audit_markdown(report), encoding="utf-8")
        Path(tmp, "a.html").write_text(audit_html(report), encoding="utf-8")
        sink = Console(file=io.StringIO(), width=120)
        for item in audit_renderables(report):
            sink.print(item)
    t3 = time.perf_counter()
    tm = result.timings
    return {
        "load": t1 - t0,
        "categorise": tm["scripts"] + tm["content"] + tm["structural"],
        "unreachable": tm.get("unreachable", 0.0),
        "records": tm["records"],
        "render": t3 - t2,
        "total": t3 - t0,
        "flagged": report["summary"]["flagged"],
    }


def command_run(spec: str) -> float:
    """Wall seconds of the whole command in a fresh interpreter pinned to the same CPU, reports written."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "flows.cli", "-q", "audit", spec, "--json", f"{tmp}/a.json",
               "--markdown", f"{tmp}/a.md", "--html", f"{tmp}/a.html"]  # fmt: skip
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=os.environ.copy(), check=False)
        seconds = time.perf_counter() - t0
        written = all(Path(tmp, name).stat().st_size > 0 for name in ("a.json", "a.md", "a.html"))
    if proc.returncode != 0 or not written:
        raise SystemExit(f"`{' '.join(cmd)}` failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokenizer", default="o200k_base")
    ap.add_argument("--repeat", type=int, default=3, help="in-process runs (the first pays one-time costs)")
    ap.add_argument("--budget-s", type=float, default=10.0, help="fail (exit 1) when the command takes longer")
    ap.add_argument("--out", type=Path, help="write the timings as JSON here")
    args = ap.parse_args()

    runs = [one_run(args.tokenizer) for _ in range(args.repeat)]
    command_s = command_run(args.tokenizer)
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    table = Table(title=f"sieve audit {args.tokenizer}: seconds on one core (CPU {cpus})")
    table.add_column("phase")
    for i in range(len(runs)):
        table.add_column("first run" if i == 0 else f"run {i + 1}", justify="right")
    for phase in ("load", "categorise", "unreachable", "records", "render", "total"):
        table.add_row(phase, *(f"{r[phase]:.2f}" for r in runs), style="bold" if phase == "total" else None)
    console.print(table)
    verdict = "ok" if command_s <= args.budget_s else "OVER BUDGET"
    console.print(
        f"whole command (fresh interpreter, imports, JSON + Markdown + HTML): {command_s:.2f} s "
        f"(budget {args.budget_s:.0f} s: {verdict}); {runs[0]['flagged']:,} tokens flagged"
    )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            json.dumps({"tokenizer": args.tokenizer, "runs": runs, "command_s": command_s}, indent=2) + "\n",
            encoding="utf-8",
        )
    return 0 if command_s <= args.budget_s else 1


if __name__ == "__main__":
    raise SystemExit(main())
