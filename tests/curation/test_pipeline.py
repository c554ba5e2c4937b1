"""The curate stage end to end on a corpus whose outcome is known document by document."""

from __future__ import annotations

import json
import os
from pathlib import Path

import datasets
import polars as pl
import pyarrow.dataset as pads
import pytest

from curation.config import ConfigError
from curation.dedup.minhash import DedupConfig
from curation.io import InputError
from curation.lock import LOCK_NAME, LockedError, OutputLock
from curation.normalize import NormalizeConfig
from curation.pipeline import CurateConfig, curate
from tests.conftest import EN_A, ZH_A, ZH_B, write_jsonl


def ids(corpus: Path, f: str, *lines: int) -> list[str]:
    return [f"{(corpus / f).as_posix()}:{n}" for n in lines]


def test_known_outcome_for_every_document(tiny_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    m = curate([tiny_corpus], out)
    assert m["documents_in"] == 11
    assert m["kept"] == 4
    assert m["rejected"] == {"dup_exact": 1, "dup_minhash": 2, "empty_text": 1}
    assert m["quarantined_by_error"] == {"invalid_json": 1, "missing_text": 1, "text_not_string": 1}
    assert m["documents_in"] == m["kept"] + sum(m["rejected"].values()) + m["quarantined"]

    kept = pl.read_parquet(out / "kept" / "*.parquet")
    assert kept["id"].to_list() == ids(tiny_corpus, "a.jsonl", 1, 2, 8) + ids(tiny_corpus, "b.jsonl", 2)
    assert kept["text"][0] == ZH_A.replace("，", ",")  # NFKC folds the full-width comma
    assert kept["url"][0] == "https://news.example.cn/1" and json.loads(kept["meta"][0]) == {"lang": "zh"}
    assert set(kept["source"]) == {(tiny_corpus / "a.jsonl").as_posix(), (tiny_corpus / "b.jsonl").as_posix()}

    rej = pl.read_parquet(out / "rejected" / "*.parquet").sort("id")
    a1, a2 = ids(tiny_corpus, "a.jsonl", 1, 2)
    got = {r["id"]: (r["reason"], r["duplicate_of"]) for r in rej.iter_rows(named=True)}
    assert got == {
        ids(tiny_corpus, "a.jsonl", 3)[0]: ("dup_exact", a1),
        ids(tiny_corpus, "a.jsonl", 4)[0]: ("dup_minhash", a1),
        ids(tiny_corpus, "a.jsonl", 5)[0]: ("empty_text", None),
        ids(tiny_corpus, "b.jsonl", 1)[0]: ("dup_minhash", a2),
    }
    clusters = pl.read_parquet(out / "clusters" / "*.parquet")
    assert clusters.to_dicts() == [
        {"cluster_id": 0, "kept_id": a1, "size": 2, "member_ids": [a1, ids(tiny_corpus, "a.jsonl", 4)[0]]},
        {"cluster_id": 1, "kept_id": a2, "size": 2, "member_ids": [a2, ids(tiny_corpus, "b.jsonl", 1)[0]]},
    ]
    near = rej.filter(pl.col("reason") == "dup_minhash")
    assert set(near["cluster_id"]) == {0, 1}
    assert all(0.5 <= s < 1.0 for s in near["score"])  # estimated Jaccard to the kept document
    assert m["dedup"]["candidate_edges"] == 2 and m["dedup"]["candidate_edges_below_min_jaccard"] == 0

    q = pl.read_parquet(out / "quarantine" / "*.parquet")
    assert sorted(zip(q["line"], q["error"], strict=True)) == [
        (6, "invalid_json"),
        (7, "text_not_string"),
        (9, "missing_text"),
    ]


def test_outputs_open_in_datasets_and_pyarrow_and_manifest_hashes_match(tiny_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    m = curate([tiny_corpus], out)
    files = [str(p) for p in sorted((out / "kept").glob("part-*.parquet"))]
    ds = datasets.load_dataset("parquet", data_files=files, split="train")
    assert ds.num_rows == m["kept"] and {"id", "text", "source"} <= set(ds.column_names)
    assert pads.dataset(out / "rejected", format="parquet").count_rows() == sum(m["rejected"].values())
    import hashlib

    for f in m["files"]:
        assert hashlib.sha256((out / f["path"]).read_bytes()).hexdigest() == f["sha256"]
    assert json.loads((out / "config.json").read_text()) == m["config"]
    assert not (out / "_work").exists() and not (out / LOCK_NAME).exists()
    assert not list(out.rglob("*.tmp"))


def test_same_input_same_bytes_and_workers_do_not_change_output(tiny_corpus: Path, tmp_path: Path) -> None:
    def snapshot(out: Path) -> dict[str, bytes]:
        return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}

    curate([tiny_corpus], tmp_path / "one")
    curate([tiny_corpus], tmp_path / "two")
    cfg = CurateConfig(workers=2, work_part_rows=3)
    curate([tiny_corpus], tmp_path / "three", cfg)
    one, two, three = snapshot(tmp_path / "one"), snapshot(tmp_path / "two"), snapshot(tmp_path / "three")
    assert one == two
    # config.json and the manifest record the different settings; every shard is the same
    assert {k: v for k, v in one.items() if k.endswith(".parquet")} == {
        k: v for k, v in three.items() if k.endswith(".parquet")
    }


def test_dedup_can_be_switched_off(tiny_corpus: Path, tmp_path: Path) -> None:
    m = curate([tiny_corpus], tmp_path / "o", CurateConfig(dedup=DedupConfig(exact=False, near=False)))
    assert m["rejected"] == {"empty_text": 1} and m["kept"] == 7
    m = curate([tiny_corpus], tmp_path / "o", CurateConfig(dedup=DedupConfig(near=False)))
    assert m["rejected"] == {"dup_exact": 1, "empty_text": 1}


def test_keep_original(tiny_corpus: Path, tmp_path: Path) -> None:
    curate([tiny_corpus], tmp_path / "o", CurateConfig(normalize=NormalizeConfig(keep_original=True)))
    rej = pl.read_parquet(tmp_path / "o" / "rejected" / "*.parquet").filter(pl.col("reason") == "dup_exact")
    assert rej["text_original"][0].startswith("  ") and "\u200b" in rej["text_original"][0]


def test_id_column_and_duplicate_free_clusters(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "in.jsonl", [{"id": "x1", "text": EN_A}, {"id": "x2", "text": EN_A + " Indeed."}])
    m = curate([tmp_path / "in.jsonl"], tmp_path / "o", CurateConfig(id_column="id"))
    rej = pl.read_parquet(tmp_path / "o" / "rejected" / "*.parquet")
    assert m["kept"] == 1 and rej["id"].to_list() == ["x2"] and rej["duplicate_of"].to_list() == ["x1"]


def test_empty_input_still_writes_a_complete_output(tmp_path: Path) -> None:
    (tmp_path / "e.jsonl").write_text("")
    m = curate([tmp_path / "e.jsonl"], tmp_path / "o")
    assert m["documents_in"] == 0 and m["kept"] == 0
    assert pl.read_parquet(tmp_path / "o" / "kept" / "part-00000.parquet").height == 0


def test_shards_roll_over_at_shard_rows(tiny_corpus: Path, tmp_path: Path) -> None:
    m = curate([tiny_corpus], tmp_path / "o", CurateConfig(shard_rows=3, row_group_rows=2))
    kept = [f for f in m["files"] if f["path"].startswith("kept/")]
    assert [f["rows"] for f in kept] == [3, 1]


def test_output_folder_rules(tiny_corpus: Path, tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    with pytest.raises(InputError, match="holds files sieve did not write"):
        curate([tiny_corpus], foreign)
    assert (foreign / "thesis.tex").read_text() == "precious"
    with pytest.raises(InputError, match=r"--out .*thesis.tex is a file; pass a folder"):
        curate([tiny_corpus], foreign / "thesis.tex")

    out = tmp_path / "out"
    first = curate([tiny_corpus], out)
    with pytest.raises(InputError):
        curate([tiny_corpus], out, CurateConfig(text_column="content"))
    # a failed rerun leaves the earlier complete output in place
    assert json.loads((out / "manifest.json").read_text()) == first

    # a note put beside the shards would go with them when a new run replaces the folder: refused
    (out / "kept" / "notes.txt").write_text("precious")
    with pytest.raises(InputError, match=r"holds files sieve did not write \(kept/notes.txt\)"):
        curate([tiny_corpus], out, CurateConfig(shard_rows=2))
    assert (out / "kept" / "notes.txt").read_text() == "precious"


def test_lock_refuses_a_second_run_and_recognises_a_stale_lock(tiny_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with OutputLock(out), pytest.raises(LockedError, match="in use by another sieve run"):
        curate([tiny_corpus], out)
    # a lock left behind by a process that no longer exists
    import socket
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (out / LOCK_NAME).write_text(json.dumps({"pid": int(dead.stdout), "host": socket.gethostname()}))
    assert curate([tiny_corpus], out)["kept"] == 4
    assert not (out / LOCK_NAME).exists()
    assert os.listdir(out)


def test_config_errors_name_field_value_and_range() -> None:
    with pytest.raises(ConfigError, match=r"must equal num_perm = 112"):
        DedupConfig(bands=10)
    with pytest.raises(ConfigError, match=r"CurateConfig.shard_rows = 0 is outside the allowed range \[1, "):
        CurateConfig(shard_rows=0)


def test_lsh_detection_probability_is_fineweb_like() -> None:
    cfg = DedupConfig()
    assert cfg.detection_probability(0.8) == pytest.approx(0.924, abs=0.002)
    assert cfg.detection_probability(0.5) < 0.06


def test_a_rerun_of_a_finished_output_does_nothing_until_input_or_config_changes(
    tiny_corpus: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    first = curate([tiny_corpus], out)
    kept = out / "kept" / "part-00000.parquet"
    stamp = kept.stat().st_mtime_ns
    assert curate([tiny_corpus], out) == first
    assert kept.stat().st_mtime_ns == stamp  # not rewritten
    curate([tiny_corpus], out, CurateConfig(shard_rows=2))
    assert not kept.exists() or kept.stat().st_mtime_ns != stamp  # new config: run again
    (tiny_corpus / "b.jsonl").write_text(json.dumps({"text": EN_A}) + "\n", encoding="utf-8")
    assert curate([tiny_corpus], out, CurateConfig(shard_rows=2))["documents_in"] == 10


def test_manifest_counts_the_pii_placeholders_put_in(tmp_path: Path) -> None:
    write_jsonl(
        tmp_path / "in.jsonl",
        [
            {"text": ZH_B + " 联系 zhang.san@example.com 或 138 1234 5678。"},
            {"text": EN_A + " Write to ops@example.org from 10.0.0.255."},
        ],
    )
    m = curate([tmp_path / "in.jsonl"], tmp_path / "o")
    assert m["pii"] == {"email": 2, "ip": 1, "phone": 1}
    kept = sorted(pl.read_parquet(tmp_path / "o" / "kept" / "*.parquet")["text"].to_list())
    assert kept[0].endswith("Write to <EMAIL> from <IP>.") and kept[1].endswith("联系 <EMAIL> 或 <PHONE>。")


def test_a_missing_content_model_is_refused_before_any_output(tiny_corpus: Path, tmp_path: Path) -> None:
    from curation.classifier import ModelNotFoundError
    from curation.filters import FilterConfig
    from curation.filters.classifier import ClassifierFilterConfig

    filters = FilterConfig(classifier=ClassifierFilterConfig(model_path=str(tmp_path / "none.bin")))
    with pytest.raises(ModelNotFoundError, match="sieve classifier build-default"):
        curate([tiny_corpus], tmp_path / "o", CurateConfig(filters=filters))
    assert not (tmp_path / "o").exists()
