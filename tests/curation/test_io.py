"""Readers: every format, malformed records quarantined with their line, whole-file errors that say the fix."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from curation.io import InputError, ReadConfig, discover, read_source
from tests.conftest import write_jsonl

CFG = ReadConfig()


def read_all(path: Path, cfg: ReadConfig = CFG) -> tuple[list[dict], list[dict]]:
    sources, _ = discover([path])
    docs, quarantined = [], []
    for src in sources:
        for rb in read_source(src, cfg):
            docs.extend(rb.docs.to_pylist())
            quarantined.extend(rb.quarantined)
    return docs, quarantined


def test_jsonl_ids_url_and_meta_travel(tmp_path: Path) -> None:
    p = write_jsonl(tmp_path / "a.jsonl", [{"text": "hello", "url": "https://x.example/", "lang": "en", "n": 3}])
    docs, q = read_all(p)
    assert q == []
    assert docs == [
        {
            "row": 1,
            "id": f"{p.as_posix()}:1",
            "text": "hello",
            "url": "https://x.example/",
            "meta": '{"lang": "en", "n": 3}',
        }
    ]


@pytest.mark.parametrize("suffix", [".jsonl.gz", ".jsonl.zst"])
def test_compressed_jsonl(tmp_path: Path, suffix: str) -> None:
    data = b'{"text": "one"}\n{"text": "two"}\n'
    p = tmp_path / f"a{suffix}"
    p.write_bytes(gzip.compress(data) if suffix.endswith("gz") else zstandard.ZstdCompressor().compress(data))
    docs, q = read_all(p)
    assert [d["text"] for d in docs] == ["one", "two"] and q == []


def test_truncated_gzip_keeps_what_was_read_and_quarantines_the_rest(tmp_path: Path) -> None:
    data = b"".join(json.dumps({"text": f"document number {i}"}).encode() + b"\n" for i in range(2000))
    blob = gzip.compress(data)
    p = tmp_path / "cut.jsonl.gz"
    p.write_bytes(blob[: len(blob) // 2])
    docs, q = read_all(p)
    assert 0 < len(docs) < 2000
    assert q[-1]["error"] == "truncated_file"


def test_malformed_jsonl_records_are_quarantined_with_line_numbers(tmp_path: Path) -> None:
    p = tmp_path / "bad.jsonl"
    p.write_bytes(
        b'{"text": "fine"}\n'
        b"{not json\n"
        b'{"text": "bad \xff byte"}\n'
        b'{"text": 7}\n'
        b'{"text": null}\n'
        b'{"other": "x"}\n'
        b"[1, 2]\n"
        b'{"text": "lone \\ud800 surrogate"}\n'
        b"\n"
        b'{"text": "also fine"}\n'
    )
    docs, q = read_all(p)
    assert [d["text"] for d in docs] == ["fine", "also fine"]
    assert [(r["line"], r["error"]) for r in q] == [
        (2, "invalid_json"),
        (3, "invalid_utf8"),
        (4, "text_not_string"),
        (5, "null_text"),
        (6, "missing_text"),
        (7, "not_an_object"),
        (8, "invalid_unicode"),
    ]
    assert all(r["source"] == p.as_posix() for r in q)
    assert q[1]["raw"] == b'{"text": "bad \xff byte"}'


def test_missing_text_column_names_columns_and_flag(tmp_path: Path) -> None:
    p = write_jsonl(tmp_path / "a.jsonl", [{"content": "x", "url": "u"}])
    with pytest.raises(
        InputError, match=r"no column `text` in .*a.jsonl; columns are \[content, url\]; pass --text-column"
    ):
        read_all(p)
    pq.write_table(pa.table({"id": ["1"], "content": ["x"], "url": ["u"]}), tmp_path / "a.parquet")
    want = r"no column `text` in .*a.parquet; columns are \[id, content, url\]; pass --text-column content$"
    with pytest.raises(InputError, match=want):
        read_all(tmp_path / "a.parquet")


def test_an_id_column_no_record_has_is_an_error_not_a_quarantined_file(tmp_path: Path) -> None:
    rows = [{"text": f"doc {i}", "doc_id": i} for i in range(3)]
    p = write_jsonl(tmp_path / "a.jsonl", rows)
    want = r"no column `nope` in .*a.jsonl; columns are \[text, doc_id\]; pass --id-column doc_id$"
    with pytest.raises(InputError, match=want):
        read_all(p, ReadConfig(id_column="nope"))
    write_jsonl(p, [*rows, {"text": "doc 3"}])  # some records lack it: those are quarantined as missing_id
    docs, q = read_all(p, ReadConfig(id_column="doc_id"))
    assert len(docs) == 3 and [r["error"] for r in q] == ["missing_id"]


def test_a_byte_order_mark_does_not_cost_the_first_record(tmp_path: Path) -> None:
    p = tmp_path / "win.jsonl"
    p.write_bytes(b"\xef\xbb\xbf" + b'{"text": "first"}\r\n{"text": "second"}\r\n')
    docs, q = read_all(p)
    assert [d["text"] for d in docs] == ["first", "second"] and q == []


def test_a_json_array_file_is_refused_with_the_fix(tmp_path: Path) -> None:
    p = tmp_path / "arr.json"
    want = r"arr.json is a JSON array \(line 1 opens with `\[`\), not JSON Lines"
    want += r".*`jq -c '.\[\]' .*arr.json > .*arr.jsonl`"
    for text in ('[{"text": "a"}, {"text": "b"}]\n', json.dumps([{"text": "a"}, {"text": "b"}], indent=2)):
        p.write_text(text, encoding="utf-8")
        with pytest.raises(InputError, match=want):
            read_all(p)
    p.write_text('"a"\n3\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"holds no JSON object \(the first value read is a JSON string\)"):
        read_all(p)


def test_text_column_of_wrong_type_is_an_error(tmp_path: Path) -> None:
    pq.write_table(pa.table({"text": [1, 2]}), tmp_path / "a.parquet")
    with pytest.raises(InputError, match="has type int64, not text"):
        read_all(tmp_path / "a.parquet")


def test_parquet_nulls_binary_and_id_column(tmp_path: Path) -> None:
    t = pa.table(
        {
            "doc": pa.array([b"ok", None, b"\xff\xfe", "中文".encode()], pa.binary()),
            "key": [10, 11, 12, None],
            "extra": ["a", "b", "c", "d"],
        }
    )
    pq.write_table(t, tmp_path / "a.parquet")
    docs, q = read_all(tmp_path / "a.parquet", ReadConfig(text_column="doc", id_column="key"))
    assert [(d["id"], d["text"], d["meta"]) for d in docs] == [("10", "ok", '{"extra": "a"}')]
    assert [(r["line"], r["error"]) for r in q] == [(1, "null_text"), (2, "invalid_utf8"), (3, "missing_id")]


def test_arrow_file_stream_and_saved_dataset(tmp_path: Path) -> None:
    table = pa.table({"text": ["a", "b", "c"]})
    with pa.ipc.new_file(tmp_path / "f.arrow", table.schema) as w:
        w.write_table(table)
    with pa.ipc.new_stream(tmp_path / "s.arrow", table.schema) as w:
        w.write_table(table)
    assert [d["text"] for d in read_all(tmp_path / "f.arrow")[0]] == ["a", "b", "c"]
    assert [d["text"] for d in read_all(tmp_path / "s.arrow")[0]] == ["a", "b", "c"]
    datasets.Dataset.from_dict({"text": ["x", "y"], "url": ["u1", "u2"]}).save_to_disk(str(tmp_path / "ds"))
    docs, _ = read_all(tmp_path / "ds")
    assert [(d["text"], d["url"]) for d in docs] == [("x", "u1"), ("y", "u2")]


def test_folder_mixes_formats_in_sorted_order_and_reports_unknown_files(tmp_path: Path) -> None:
    (tmp_path / "in" / "sub").mkdir(parents=True)
    write_jsonl(tmp_path / "in" / "b.jsonl", [{"text": "from b"}])
    pq.write_table(pa.table({"text": ["from a"]}), tmp_path / "in" / "a.parquet")
    (tmp_path / "in" / "sub" / "note.txt").write_text("a whole file\nis one document\n")
    (tmp_path / "in" / "readme.md").write_text("not an input")
    sources, skipped = discover([tmp_path / "in"])
    assert [s.kind for s in sources] == ["parquet", "jsonl", "text"]
    assert skipped == [(tmp_path / "in" / "readme.md").as_posix()]
    docs, _ = read_all(tmp_path / "in")
    assert docs[-1]["text"] == "a whole file\nis one document\n"


def test_bad_inputs_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        discover([tmp_path / "nope.jsonl"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no readable files"):
        discover([tmp_path / "empty"])
    (tmp_path / "x.csv").write_text("a,b")
    with pytest.raises(InputError, match="unknown file type"):
        discover([tmp_path / "x.csv"])
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match="not a readable Parquet file"):
        read_all(tmp_path / "broken.parquet")
