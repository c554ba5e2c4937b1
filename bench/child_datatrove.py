"""datatrove 0.10.1's MinHash deduplication (signatures -> buckets -> clusters -> filter) on local folders.

Runs in its own venv (.bench/venv-datatrove: datatrove needs xxhash<4), so it imports nothing from sieve or bench.
One worker per stage; 14 buckets x 8 hashes, 5-grams, as sieve. Writes the timings and, from the filter's kept and
removed documents (with their cluster ids), each removed document and the kept document of its cluster.
    python bench/child_datatrove.py --work DIR --result result.json [--language eng] SHARD...
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections import defaultdict
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("shards", nargs="+", type=Path)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--result", type=Path, required=True)
    ap.add_argument("--language", default="eng", help="datatrove word tokenizer: eng (its default) or cmn (jieba)")
    args = ap.parse_args(argv)

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    work = args.work.resolve()
    if work.exists():
        shutil.rmtree(work)  # datatrove skips tasks it finds completed in its logging folder
    work.mkdir(parents=True)
    shards = [s.resolve() for s in args.shards]
    data_folder = os.path.commonpath([str(s.parent) for s in shards])
    paths_file = work / "paths.txt"
    paths_file.write_text("".join(os.path.relpath(s, data_folder) + "\n" for s in shards), encoding="utf-8")
    config = MinhashConfig(n_grams=5, num_buckets=14, hashes_per_bucket=8)
    n = len(shards)

    def reader() -> JsonlReader:
        return JsonlReader(data_folder, paths_file=str(paths_file), compression=None)

    stages = {
        "signatures": LocalPipelineExecutor(
            pipeline=[
                reader(),
                MinhashDedupSignature(output_folder=str(work / "signatures"), config=config, language=args.language),
            ],
            tasks=n,
            workers=1,
            logging_dir=str(work / "logs" / "signatures"),
        ),
        "buckets": LocalPipelineExecutor(
            pipeline=[
                MinhashDedupBuckets(
                    input_folder=str(work / "signatures"), output_folder=str(work / "buckets"), config=config
                )
            ],
            tasks=config.num_buckets,
            workers=1,
            logging_dir=str(work / "logs" / "buckets"),
        ),
        "clusters": LocalPipelineExecutor(
            pipeline=[
                MinhashDedupCluster(
                    input_folder=str(work / "buckets"),
                    output_folder=str(work / "remove_ids"),
                    config=config,
                    save_cluster_id=True,
                )
            ],
            tasks=1,
            workers=1,
            logging_dir=str(work / "logs" / "clusters"),
        ),
        "filter": LocalPipelineExecutor(
            pipeline=[
                reader(),
                MinhashDedupFilter(
                    input_folder=str(work / "remove_ids"),
                    exclusion_writer=JsonlWriter(str(work / "removed"), compression=None),
                    load_cluster_ids=True,
                ),
                JsonlWriter(str(work / "kept"), compression=None),
            ],
            tasks=n,
            workers=1,
            logging_dir=str(work / "logs" / "filter"),
        ),
    }
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    for name, ex in stages.items():
        t = time.perf_counter()
        ex.run()
        times[name] = time.perf_counter() - t
    wall = time.perf_counter() - t0

    # untimed: removed documents and the kept member of their cluster
    members: dict[int, list[str]] = defaultdict(list)
    kept_of: dict[int, str] = {}
    removed: list[tuple[str, int]] = []
    documents = 0
    for kind in ("kept", "removed"):
        for f in sorted((work / kind).glob("*.jsonl")):
            with f.open(encoding="utf-8") as fh:
                for line in fh:
                    d = json.loads(line)
                    documents += 1
                    cid = d.get("metadata", {}).get("minhash_cluster_id", -1)
                    if cid < 0:
                        continue
                    members[cid].append(d["id"])
                    if kind == "kept":
                        kept_of[cid] = d["id"]
                    else:
                        removed.append((d["id"], cid))
    removals = [(doc, kept_of.get(cid, members[cid][0])) for doc, cid in removed]
    result = {
        "wall_s": wall,
        "stages_s": times,
        "documents": documents,
        "language": args.language,
        "removals": removals,
        "edges": removals,
    }
    args.result.write_text(json.dumps(result), encoding="utf-8")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
