"""Tests of the demo corpus builder: determinism, and that its ground truth is true of the files written."""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import zstandard

from curation.demo_corpus import (
    NEAR_DUP_TARGETS,
    SOURCE_KINDS,
    build_demo_corpus,
    english_paragraphs,
    main,
    people_daily_paragraphs,
    review_texts,
    truth_path_for,
)
from curation.io import ReadConfig, discover, read_source
from curation.normalize import NormalizeConfig, normalize
from curation.text import cjk_count, jaccard

N_DOCS = 400
N_SPAM = 3 * round(0.03 * N_DOCS)  # gambling, adult and spam documents planted on top of n_docs
POS_TAG_RE = re.compile(r"\S/[A-Za-z]{1,4}(?:\][A-Za-z]*)?(?=\s|$)")  # `word/n`, `词/vn`, `总书记/n]nt`


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """One small corpus, built once for the module: (folder, truth)."""
    out = tmp_path_factory.mktemp("demo") / "raw"
    truth = build_demo_corpus(out, n_docs=N_DOCS, seed=0)
    return out, truth


def _jsonl_lines(path: Path) -> list[bytes]:
    """Raw lines (without newline) of a plain, gzip or zstd JSONL file."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    elif path.suffix == ".zst":
        data = zstandard.ZstdDecompressor().stream_reader(data).read()
    assert data.endswith(b"\n")
    return data[:-1].split(b"\n")


def _records(out: Path, truth: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every well-formed document by location (`file:line`, `file:row`, `file`), read without curation.io."""
    bad = {(m["file"], m["line"]) for m in truth["malformed"]}
    docs: dict[str, dict[str, Any]] = {}
    for f in truth["files"]:
        path = out / f["name"]
        if f["format"] == "jsonl":
            for lineno, raw in enumerate(_jsonl_lines(path), 1):
                if (f["name"], lineno) not in bad:
                    docs[f"{f['name']}:{lineno}"] = json.loads(raw.decode("utf-8"))
        elif f["format"] == "parquet":
            for row, rec in enumerate(pq.read_table(path).to_pylist()):
                docs[f"{f['name']}:{row}"] = rec
        else:
            docs[f["name"]] = {"text": path.read_text(encoding="utf-8")}
    return docs


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    a = build_demo_corpus(tmp_path / "a", n_docs=N_DOCS, seed=7)
    b = build_demo_corpus(tmp_path / "b", n_docs=N_DOCS, seed=7)
    assert a == b
    names = [f["name"] for f in a["files"]]
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert truth_path_for(tmp_path / "a").read_bytes() == truth_path_for(tmp_path / "b").read_bytes()
    assert sorted(p.relative_to(tmp_path / "a").as_posix() for p in (tmp_path / "a").rglob("*.*")) == sorted(
        names
    )
    c = build_demo_corpus(tmp_path / "c", n_docs=N_DOCS, seed=8)
    assert (tmp_path / "c" / names[0]).read_bytes() != (tmp_path / "a" / names[0]).read_bytes()
    assert c["counts"] == a["counts"]


def test_truth_is_written_beside_the_folder_and_counts_add_up(corpus: tuple[Path, dict[str, Any]]) -> None:
    out, truth = corpus
    assert json.loads(truth_path_for(out).read_text(encoding="utf-8")) == truth
    assert truth_path_for(out) == out.parent / "raw-truth.json"
    c = truth["counts"]
    assert c["documents"] - N_SPAM == N_DOCS == c["real"] + c["exact_duplicates"] + c["near_duplicates"]
    assert sum(c["spam"].values()) == N_SPAM == len(truth["spam"])
    assert sum(truth["real_by_source"].values()) == c["real"]
    assert all(truth["real_by_source"][k] > 0 for k in SOURCE_KINDS)
    assert sum(f["documents"] for f in truth["files"]) == N_DOCS + N_SPAM
    assert c["exact_duplicates"] == len(truth["exact_duplicates"]) == round(0.05 * N_DOCS)
    assert c["near_duplicates"] == len(truth["near_duplicates"]) == round(0.08 * N_DOCS)
    assert c["malformed_lines"] == len(truth["malformed"]) == 10
    formats = [f["name"] for f in truth["files"]]
    assert any(n.endswith(".jsonl.gz") for n in formats) and any(n.endswith(".jsonl.zst") for n in formats)
    assert any(n.endswith(".parquet") for n in formats) and any(n.startswith("notes/") for n in formats)


def test_records_have_text_url_and_source_kind(corpus: tuple[Path, dict[str, Any]]) -> None:
    out, truth = corpus
    docs = _records(out, truth)
    assert len(docs) == N_DOCS + N_SPAM
    for loc, rec in docs.items():
        assert isinstance(rec["text"], str) and rec["text"].strip(), loc
        if not loc.startswith("notes/"):
            assert rec["source_kind"] in SOURCE_KINDS + ("spam_gambling", "spam_adult", "spam_spam"), loc
            assert re.match(r"https://[a-z]+\.example\.(cn|org|net)/", rec["url"]), rec["url"]


def test_near_duplicate_jaccards_are_what_the_truth_says(corpus: tuple[Path, dict[str, Any]]) -> None:
    out, truth = corpus
    docs = _records(out, truth)
    order = {loc: i for i, loc in enumerate(docs)}  # reading order: files in order, lines in order
    for e in truth["near_duplicates"]:
        original, copy = docs[e["original"]]["text"], docs[e["copy"]]["text"]
        j = jaccard(original, copy, truth["shingle_n"])
        assert j == pytest.approx(e["jaccard"], abs=1e-6), e
        assert 0.0 < j < 1.0
        assert normalize(original, NormalizeConfig()) != normalize(copy, NormalizeConfig())
        assert order[e["original"]] < order[e["copy"]]
    assert {e["target_jaccard"] for e in truth["near_duplicates"]} == set(NEAR_DUP_TARGETS)
    measured = sorted(e["jaccard"] for e in truth["near_duplicates"])
    assert measured[0] < 0.6 and measured[-1] > 0.9


def test_exact_duplicates_equal_their_original_after_normalisation(
    corpus: tuple[Path, dict[str, Any]],
) -> None:
    out, truth = corpus
    docs = _records(out, truth)
    order = {loc: i for i, loc in enumerate(docs)}

    def undo(t: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", t).replace("\u200b", "").split())

    seen_changes: set[str] = set()
    for e in truth["exact_duplicates"]:
        original, copy = docs[e["original"]]["text"], docs[e["copy"]]["text"]
        assert copy != original
        assert undo(copy) == undo(original), e
        assert normalize(copy, NormalizeConfig()) == normalize(original, NormalizeConfig()), e
        assert order[e["original"]] < order[e["copy"]]
        seen_changes.update(e["changes"])
        if "zero_width_space" in e["changes"]:
            assert "\u200b" in copy
        if "fullwidth_ascii" in e["changes"]:
            assert re.search("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]", copy)
    assert seen_changes >= {"zero_width_space", "extra_whitespace", "trailing_whitespace"}
    originals = [e["original"] for e in truth["exact_duplicates"] + truth["near_duplicates"]]
    assert len(set(originals)) == len(originals)  # each planted pair is its own cluster


def test_malformed_lines_are_malformed_at_the_recorded_line(corpus: tuple[Path, dict[str, Any]]) -> None:
    out, truth = corpus
    kinds = set()
    for m in truth["malformed"]:
        raw = _jsonl_lines(out / m["file"])[m["line"] - 1]
        kinds.add(m["error"])
        if m["error"] == "invalid_utf8":
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")
            continue
        line = raw.decode("utf-8")
        if m["error"] == "invalid_json":
            with pytest.raises(json.JSONDecodeError):
                json.loads(line)
            continue
        rec = json.loads(line)
        if m["error"] == "missing_text":
            assert "text" not in rec
        elif m["error"] == "null_text":
            assert "text" in rec and rec["text"] is None
        elif m["error"] == "text_not_string":
            assert isinstance(rec["text"], int | float)
        else:
            pytest.fail(f"unknown error kind {m['error']}")
    assert kinds == {"invalid_json", "invalid_utf8", "text_not_string", "missing_text", "null_text"}


def test_curation_io_reads_exactly_what_the_truth_describes(corpus: tuple[Path, dict[str, Any]]) -> None:
    out, truth = corpus
    sources, skipped = discover([out])
    assert skipped == []
    assert [s.name.removeprefix(out.as_posix() + "/") for s in sources] == [f["name"] for f in truth["files"]]
    ids: list[str] = []
    quarantined = []
    for src in sources:
        for batch in read_source(src, ReadConfig()):
            ids += batch.docs.column("id").to_pylist()
            quarantined += [(q["source"], q["line"], q["error"]) for q in batch.quarantined]
    assert len(ids) == N_DOCS + N_SPAM
    assert sorted(quarantined) == sorted(
        (f"{out.as_posix()}/{m['file']}", m["line"], m["error"]) for m in truth["malformed"]
    )
    planted = truth["exact_duplicates"] + truth["near_duplicates"]
    assert {f"{out.as_posix()}/{e[k]}" for e in planted for k in ("original", "copy")} <= set(ids)


def test_texts_are_plain_without_pos_tags(corpus: tuple[Path, dict[str, Any]]) -> None:
    out, truth = corpus
    docs = _records(out, truth)
    news = [r["text"] for r in docs.values() if r.get("source_kind") == "people_daily"]
    reviews = [r["text"] for r in docs.values() if r.get("source_kind") == "review"]
    assert news and all(cjk_count(t) > len(t) // 2 for t in news)
    assert sum(cjk_count(t) > len(t) // 3 for t in reviews) > 0.9 * len(reviews)  # a few are in English
    copies = {e["copy"] for e in truth["exact_duplicates"]}  # these have extra spaces on purpose
    for loc, rec in docs.items():
        text = rec["text"]
        assert not re.search(r"\S/[nw](?=\s|$)", text), text[:80]  # `中国/n  `, `。/w`; not `https://www`
        if rec.get("source_kind") == "people_daily":
            assert not POS_TAG_RE.search(text), text[:80]
            assert "]nt" not in text and "[" not in text
            assert loc in copies or "  " not in text, text[:80]


def test_source_iterators_yield_clean_real_text() -> None:
    news = [p for _, p in zip(range(200), people_daily_paragraphs(), strict=False)]
    assert len(news) == 200 and all(len(p) >= 30 and not POS_TAG_RE.search(p) for p in news)
    assert any("江泽民" in p for p in news)  # the 1998 New Year address opens the month
    reviews = [r for _, r in zip(range(200), review_texts(), strict=False)]
    assert len(set(reviews)) == 200 and all(cjk_count(r) > 0 for r in reviews)
    english = [p for _, p in zip(range(50), english_paragraphs(), strict=False)]
    assert len(english) == 50 and all(sum(c.isascii() for c in p) > 0.95 * len(p) for p in english)
    assert all(len(p.split()) >= 15 and "\n" not in p for p in english)


def test_refuses_to_replace_a_folder_it_did_not_write(tmp_path: Path) -> None:
    out = tmp_path / "raw"
    out.mkdir()
    (out / "mine.txt").write_text("precious", encoding="utf-8")
    with pytest.raises(FileExistsError, match="mine.txt"):
        build_demo_corpus(out, n_docs=60)
    assert (out / "mine.txt").read_text(encoding="utf-8") == "precious"
    other = tmp_path / "again"
    build_demo_corpus(other, n_docs=60)
    first = {p.name: p.read_bytes() for p in other.rglob("*") if p.is_file()}
    build_demo_corpus(other, n_docs=60)  # an earlier build's folder is replaced
    assert {p.name: p.read_bytes() for p in other.rglob("*") if p.is_file()} == first


def test_rejects_out_of_range_n_docs(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="n_docs = 10 is outside"):
        build_demo_corpus(tmp_path / "raw", n_docs=10)


def test_main_builds_and_prints_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "raw"
    assert main([str(out), "--n-docs", "60", "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("\n") == 1 and printed.startswith(f"wrote {60 + 3 * round(0.03 * 60)} documents")
    assert json.loads(truth_path_for(out).read_text(encoding="utf-8"))["seed"] == 3
    assert main([str(tmp_path / "x"), "--n-docs", "5"]) == 2
