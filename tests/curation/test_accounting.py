"""Every fixture corpus: documents_in == kept + sum(rejected) + quarantined, and the files agree with the counts."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from curation.demo_corpus import build_demo_corpus
from curation.pipeline import curate
from tests.conftest import EN_A, ZH_A


def hostile(root: Path) -> Path:
    d = root / "hostile"
    d.mkdir()
    (d / "bad.jsonl").write_bytes(
        b'{"text": "\\ud800"}\n{broken\n\xff\xfe\n{"text": null}\n[1]\n' + json.dumps({"text": EN_A}).encode() + b"\n"
    )
    blob = gzip.compress(b"".join(json.dumps({"text": f"{ZH_A}{i}"}).encode() + b"\n" for i in range(500)))
    (d / "cut.jsonl.gz").write_bytes(blob[: len(blob) // 3])
    (d / "empty.txt").write_text("   \n")
    return d


@pytest.mark.parametrize("name", ["tiny", "demo", "hostile"])
def test_manifest_invariant_and_files_agree(name: str, tiny_corpus: Path, tmp_path: Path) -> None:
    if name == "tiny":
        inputs = tiny_corpus
    elif name == "demo":
        inputs = tmp_path / "demo"
        build_demo_corpus(inputs, n_docs=300, seed=1)
    else:
        inputs = hostile(tmp_path)
    out = tmp_path / "out"
    m = curate([inputs], out)
    assert m["documents_in"] == m["kept"] + sum(m["rejected"].values()) + m["quarantined"]
    rows = {d: sum(pq.ParquetFile(f).metadata.num_rows for f in (out / d).glob("part-*.parquet"))
            for d in ("kept", "rejected", "quarantine")}  # fmt: skip
    assert rows == {"kept": m["kept"], "rejected": sum(m["rejected"].values()), "quarantine": m["quarantined"]}
    ids = pq.read_table(out / "kept", columns=["id"]).column("id").to_pylist()
    ids += pq.read_table(out / "rejected", columns=["id"]).column("id").to_pylist()
    assert len(ids) == len(set(ids))  # no document in two places
