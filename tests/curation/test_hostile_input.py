"""Hostile and broken input: quarantined or refused with a clear message, never a crash or a silent loss."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curation.io import InputError, ReadConfig, discover, read_source
from curation.normalize import NormalizeConfig, normalize
from curation.pipeline import CurateConfig, curate
from flows.cli import main
from tests.conftest import EN_A, ZH_A, write_jsonl


def test_a_huge_single_line_is_quarantined_without_reading_it_whole(tmp_path: Path) -> None:
    p = tmp_path / "big.jsonl"
    with open(p, "wb") as f:
        f.write(json.dumps({"text": EN_A}).encode() + b"\n")
        f.write(b'{"text": "' + b"x" * 5_000_000 + b'"}\n')
        f.write(json.dumps({"text": ZH_A}, ensure_ascii=False).encode() + b"\n")
    m = curate([p], tmp_path / "o", CurateConfig(max_line_bytes=1 << 20))
    assert m["quarantined_by_error"] == {"line_too_long": 1}
    assert m["kept"] == 2 and m["documents_in"] == 3
    q = pq.read_table(tmp_path / "o" / "quarantine" / "part-00000.parquet").to_pylist()[0]
    assert q["line"] == 2 and len(q["raw"]) <= 65536 and "5,000,013 bytes" in q["message"]


def test_nul_bytes_mixed_encodings_and_surrogates(tmp_path: Path) -> None:
    p = tmp_path / "mixed.jsonl"
    p.write_bytes(
        json.dumps({"text": "nul\u0000inside " + EN_A}).encode()
        + b"\n"
        + b'{"text": "GBK: '
        + "中文".encode("gbk")
        + b'"}\n'
        + b'{"text": "\\udc80 lone"}\n'
    )
    m = curate([p], tmp_path / "o")
    assert m["quarantined_by_error"] == {"invalid_utf8": 1, "invalid_unicode": 1}
    kept = pq.read_table(tmp_path / "o" / "kept").column("text").to_pylist()
    assert kept and "\x00" not in kept[0]


def test_truncated_zstd_is_quarantined_not_a_crash(tmp_path: Path) -> None:
    import zstandard

    data = b"".join(json.dumps({"text": f"{EN_A} {i}"}).encode() + b"\n" for i in range(3000))
    blob = zstandard.ZstdCompressor().compress(data)
    (tmp_path / "cut.jsonl.zst").write_bytes(blob[: len(blob) // 2])
    m = curate([tmp_path / "cut.jsonl.zst"], tmp_path / "o")
    assert m["quarantined_by_error"].get("truncated_file") == 1
    assert m["documents_in"] == m["kept"] + m["rejected_total"] + m["quarantined"]


def test_a_zst_name_over_other_bytes_is_quarantined_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "fake.jsonl.zst").write_bytes(b'{"text": "plain JSON under a .zst name"}\n' * 10)
    m = curate([tmp_path / "fake.jsonl.zst"], tmp_path / "o")
    assert m["documents_in"] == m["quarantined"] == m["quarantined_by_error"]["truncated_file"] == 1
    q = pq.read_table(tmp_path / "o" / "quarantine").to_pylist()
    assert q[0]["line"] == 1 and "not a valid zstd stream" in q[0]["message"]


def test_parquet_with_the_wrong_schema_is_refused(tmp_path: Path, capsys) -> None:
    import pyarrow as pa

    pq.write_table(pa.table({"body": ["x"], "n": [1]}), tmp_path / "w.parquet")
    assert main(["curate", str(tmp_path / "w.parquet"), "--out", str(tmp_path / "o")]) == 2
    assert "no column `text`" in capsys.readouterr().err


def test_disk_full_mid_shard_leaves_no_final_file_and_the_old_output(
    tiny_corpus: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    out = tmp_path / "o"
    before = curate([tiny_corpus], out)
    write_jsonl(tiny_corpus / "c.jsonl", [{"text": EN_A + " again, with new words at the end of it"}])

    def full(self, *a, **k):  # noqa: ANN001, ANN002, ANN003, ANN202
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pq.ParquetWriter, "write_table", full)
    assert main(["curate", str(tiny_corpus), "--out", str(out), "-q"]) == 1
    assert "No space left on device" in capsys.readouterr().err
    assert not list(out.rglob("*.tmp"))  # nothing half-written under any name
    assert json.loads((out / "manifest.json").read_text()) == before  # the earlier output stands


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.binary(max_size=200), max_size=20))
def test_fuzz_jsonl_reader_accounts_for_every_line(tmp_path_factory, lines: list[bytes]) -> None:
    d = tmp_path_factory.mktemp("fuzz")
    p = d / "f.jsonl"
    p.write_bytes(b"\n".join(line.replace(b"\n", b" ") for line in lines) + b"\n")
    sources, _ = discover([p])
    n_docs = n_quarantined = 0
    try:
        for rb in read_source(sources[0], ReadConfig()):
            n_docs += rb.docs.num_rows
            n_quarantined += len(rb.quarantined)
            for text in rb.docs.column("text").to_pylist():
                text.encode("utf-8")  # every text that passes is valid Unicode
    except InputError as e:  # the only whole-file errors allowed: no text column or JSON object anywhere, a JSON array
        assert any(m in str(e) for m in ("no column `text`", "holds no JSON object", "is a JSON array"))
        return
    written = [line.replace(b"\n", b" ") for line in lines]
    if written:  # a byte order mark opening the file is not part of line 1
        written[0] = written[0].removeprefix(b"\xef\xbb\xbf")
    non_blank = sum(1 for line in written if line.strip())
    assert n_docs + n_quarantined == non_blank


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_fuzz_normalize_is_idempotent_and_clean(text: str) -> None:
    cfg = NormalizeConfig()
    once = normalize(text, cfg)
    assert normalize(once, cfg) == once
    assert once == once.strip() and "\x00" not in once and "  " not in once and "\n\n\n" not in once


def test_an_unreadable_file_in_a_folder_is_a_clear_error(tmp_path: Path, capsys) -> None:
    d = tmp_path / "in"
    d.mkdir()
    write_jsonl(d / "a.jsonl", [{"text": EN_A}])
    (d / "gone.jsonl").symlink_to(tmp_path / "nowhere.jsonl")  # listed, but cannot be opened
    assert main(["curate", str(d), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "cannot read" in err and "gone.jsonl" in err
