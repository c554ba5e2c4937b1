"""The plain datasketch baseline: one MinHash per document, `update()` per shingle, an in-memory MinHashLSH.

Each document is queried, then inserted; it is a duplicate when the query returns an earlier document.
Shingles are sieve's (curation.text.shingles, 5 units), so only the hashing and the index differ.
    python bench/child_datasketch.py --result result.json SHARD...
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from datasketch import MinHash, MinHashLSH

from curation.text import shingles

NUM_PERM, BANDS, ROWS, NGRAM = 112, 14, 8, 5


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("shards", nargs="+", type=Path)
    ap.add_argument("--result", type=Path, required=True)
    args = ap.parse_args(argv)
    lsh = MinHashLSH(num_perm=NUM_PERM, params=(BANDS, ROWS))
    order: dict[str, int] = {}
    edges: list[tuple[str, str]] = []  # (document, every earlier document the query returned)
    removals: list[tuple[str, str]] = []  # (document, the earliest of them)
    t0 = time.perf_counter()
    for shard in args.shards:
        with shard.open(encoding="utf-8") as f:
            for line in f:
                doc = json.loads(line)
                m = MinHash(num_perm=NUM_PERM)
                for s in shingles(doc["text"], NGRAM):
                    m.update(s.encode("utf-8"))
                found = lsh.query(m)
                if found:
                    earlier = sorted(found, key=order.__getitem__)
                    edges.extend((doc["id"], e) for e in earlier)
                    removals.append((doc["id"], earlier[0]))
                order[doc["id"]] = len(order)
                lsh.insert(doc["id"], m)
    wall = time.perf_counter() - t0
    result = {"wall_s": wall, "documents": len(order), "edges": edges, "removals": removals}
    args.result.write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
