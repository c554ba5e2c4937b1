"""datatrove 0.10.1's URL and Gopher filters over a JSONL of documents, timed; runs in .bench/venv-datatrove.

    python bench/child_datatrove_filters.py DOCS.jsonl RESULT.json
Prints nothing; writes docs/s (CPU time of the filtering loop only) and the drop counts by filter and group.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter


def main() -> int:
    from datatrove.data import Document
    from datatrove.pipeline.filters import GopherQualityFilter, GopherRepetitionFilter, URLFilter

    docs_path, result_path = sys.argv[1], sys.argv[2]
    docs = []
    groups = []
    with open(docs_path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            r = json.loads(line)
            docs.append(Document(text=r["text"], id=str(i), metadata={"url": r["url"]}))
            groups.append(r["group"])
    chain = [
        ("url", URLFilter()),
        ("gopher_repetition", GopherRepetitionFilter()),
        ("gopher_quality", GopherQualityFilter()),
    ]
    chain[0][1].filter(docs[0])  # loads its block lists once, outside the timed loop
    dropped: Counter[str] = Counter()
    t0 = time.process_time()
    for doc, group in zip(docs, groups, strict=True):
        for name, flt in chain:
            res = flt.filter(doc)
            keep = res[0] if isinstance(res, tuple) else res
            if not keep:
                dropped[f"{group}:{name}"] += 1
                break
    cpu = time.process_time() - t0
    with open(result_path, "w", encoding="utf-8") as f:
        json.dump({"docs": len(docs), "cpu_s": cpu, "dropped": dict(dropped)}, f)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
